/* The seed's TCP client (net.connect to 8124): on connect prints "client
 * connected" and writes "world!\r\n"; prints the first data it receives and
 * ends; prints "client disconnected" when the server ends.
 * Usage: tcp_client [PORT [HOST]]. */
#include <stdio.h>
#include <stdlib.h>
#include <wire.h>

static void on_connect(wire_socket_t *s, int status, void *arg)
{
  (void)arg;
  if (status < 0)
    return; /* the error event reports it */
  printf("client connected\n");
  fflush(stdout);
  wire_socket_write(s, "world!\r\n", 8);
}

static void on_data(wire_socket_t *s, const char *buf, size_t len, void *d)
{
  (void)d;
  printf("%.*s\n", (int)len, buf);
  fflush(stdout);
  wire_socket_end(s);
}

static void on_end(wire_socket_t *s, void *d)
{
  (void)s, (void)d;
  printf("client disconnected\n");
  fflush(stdout);
}

static int failed;

static void on_error(wire_socket_t *s, int err, void *d)
{
  (void)s, (void)d;
  fprintf(stderr, "tcp_client: %s (%s)\n", wire_strerror(err),
          wire_err_name(err));
  failed = 1;
}

int main(int argc, char **argv)
{
  wire_connect_opts_t o = WIRE_CONNECT_OPTS_INIT;
  o.port = argc > 1 ? atoi(argv[1]) : 8124;
  o.host = argc > 2 ? argv[2] : NULL;
  wire_loop_t *loop = wire_loop_default();
  wire_socket_t *s;
  int err = wire_socket_connect(loop, &o, on_connect, NULL, &s);
  if (err < 0) {
    fprintf(stderr, "tcp_client: %s\n", wire_strerror(err));
    return 1;
  }
  wire_socket_on_data(s, on_data);
  wire_socket_on_end(s, on_end);
  wire_socket_on_error(s, on_error);
  wire_loop_run(loop, WIRE_RUN_DEFAULT);
  if (wire_loop_close(loop) != 0)
    return 2;
  return failed;
}
