/* The seed's UDP client: sends "hello world" to the server's port on
 * localhost and closes in the send callback. Port from argv[1] (default
 * 41234); optional host in argv[2] (default "localhost"; an IPv6 literal
 * such as "::1" makes a udp6 socket). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wire.h>

static int status = 0;

static void on_sent(wire_udp_t *client, int bytes, void *arg)
{
  (void)arg;
  if (bytes < 0) {
    fprintf(stderr, "udp_client: %s\n", wire_strerror(bytes));
    status = 1;
  }
  wire_udp_close(client, NULL);
}

int main(int argc, char **argv)
{
  int port = argc > 1 ? atoi(argv[1]) : 41234;
  const char *host = argc > 2 ? argv[2] : "localhost";
  static const char message[] = "hello world";
  wire_loop_t *loop = wire_loop_default();
  wire_udp_opts_t o = WIRE_UDP_OPTS_INIT;
  if (strchr(host, ':') != NULL)
    o.type = WIRE_UDP6;
  wire_udp_t *client;
  if (wire_udp_create(loop, &o, &client) < 0)
    return 1;
  int err = wire_udp_send(client, message, 0, sizeof(message) - 1, port, host,
                          on_sent, NULL);
  if (err < 0) {
    fprintf(stderr, "udp_client: %s\n", wire_strerror(err));
    wire_udp_close(client, NULL);
    status = 1;
  }
  wire_loop_run(loop, WIRE_RUN_DEFAULT);
  return wire_loop_close(loop) == 0 ? status : 1;
}
