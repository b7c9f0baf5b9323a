/* The seed's UDP server (dgram.createSocket("udp4") bound to 41234): prints
 * "server got: MSG from ADDR:PORT" for each datagram. Port from argv[1] (0
 * picks one); optional bind address in argv[2] (an IPv6 one, such as
 * "::1", makes a udp6 socket). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wire.h>

static void on_message(wire_udp_t *u, const char *buf, size_t len,
                       const wire_udp_rinfo_t *rinfo, void *d)
{
  (void)u, (void)d;
  printf("server got: %.*s from %s:%d\n", (int)len, buf, rinfo->address,
         rinfo->port);
  fflush(stdout);
}

static void on_listening(wire_udp_t *u, void *d)
{
  (void)d;
  wire_addr_t a;
  wire_udp_address(u, &a);
  printf("server listening %s:%d\n", a.address, a.port);
  printf("listening on udp://%s%s%s:%d\n", a.family == 6 ? "[" : "", a.address,
         a.family == 6 ? "]" : "", a.port);
  fflush(stdout);
}

static void on_error(wire_udp_t *u, int err, void *d)
{
  (void)d;
  fprintf(stderr, "udp_server: %s\n", wire_strerror(err));
  wire_udp_close(u, NULL);
}

int main(int argc, char **argv)
{
  int port = argc > 1 ? atoi(argv[1]) : 41234;
  const char *host = argc > 2 ? argv[2] : NULL;
  wire_loop_t *loop = wire_loop_default();
  wire_udp_opts_t o = WIRE_UDP_OPTS_INIT;
  if (host != NULL && strchr(host, ':') != NULL)
    o.type = WIRE_UDP6;
  wire_udp_t *server;
  if (wire_udp_create(loop, &o, &server) < 0)
    return 1;
  wire_udp_on_message(server, on_message);
  wire_udp_on_listening(server, on_listening);
  wire_udp_on_error(server, on_error);
  int err = wire_udp_bind(server, port, host, NULL);
  if (err < 0) {
    fprintf(stderr, "udp_server: %s\n", wire_strerror(err));
    return 1;
  }
  wire_loop_run(loop, WIRE_RUN_DEFAULT);
  return wire_loop_close(loop) == 0 ? 0 : 1;
}
