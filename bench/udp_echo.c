/* UDP echo server on wire (public API only), for bench/udp-echo.sh: sends
 * every datagram back to its sender. Prints "listening on udp://HOST:PORT".
 * Usage: udp_echo [PORT [HOST]]   (default 0 127.0.0.1) */
#include <stdio.h>
#include <stdlib.h>
#include <wire.h>

static void on_message(wire_udp_t *u, const char *buf, size_t len,
                       const wire_udp_rinfo_t *rinfo, void *d)
{
  (void)d;
  wire_udp_send(u, buf, 0, len, rinfo->port, rinfo->address, NULL, NULL);
}

static void on_listening(wire_udp_t *u, void *d)
{
  (void)d;
  wire_addr_t a;
  wire_udp_address(u, &a);
  printf("listening on udp://%s:%d\n", a.address, a.port);
  fflush(stdout);
}

static void on_error(wire_udp_t *u, int err, void *d)
{
  (void)u, (void)d;
  fprintf(stderr, "udp_echo: %s\n", wire_strerror(err));
}

int main(int argc, char **argv)
{
  int port = argc > 1 ? atoi(argv[1]) : 0;
  const char *host = argc > 2 ? argv[2] : "127.0.0.1";
  wire_loop_t *loop = wire_loop_default();
  wire_udp_opts_t o = WIRE_UDP_OPTS_INIT;
  o.recv_buffer_size = 4 << 20;
  o.send_buffer_size = 4 << 20;
  wire_udp_t *u;
  if (wire_udp_create(loop, &o, &u) < 0)
    return 1;
  wire_udp_on_message(u, on_message);
  wire_udp_on_listening(u, on_listening);
  wire_udp_on_error(u, on_error);
  if (wire_udp_bind(u, port, host, NULL) < 0)
    return 1;
  wire_loop_run(loop, WIRE_RUN_DEFAULT);
  return 0;
}
