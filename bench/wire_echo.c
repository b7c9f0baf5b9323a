/* TCP echo server on wire, for bench/tcp-echo.sh and bench/idle-mem.sh.
 * Echoes every data chunk with wire_socket_write; pauses the socket when
 * the write reports backpressure and resumes it on drain (what Node's
 * socket.pipe(socket) does). Public API only.
 *
 * Usage: wire_echo [port [host]]   (port 0, the default, picks one)
 * Prints: listening on tcp://HOST:PORT */
#include <stdio.h>
#include <stdlib.h>
#include <wire.h>

static void on_data(wire_socket_t *s, const char *buf, size_t len, void *d)
{
  (void)d;
  if (wire_socket_write(s, buf, len) == 0)
    wire_socket_pause(s);
}

static void on_drain(wire_socket_t *s, void *d)
{
  (void)d;
  wire_socket_resume(s);
}

static void on_error(wire_socket_t *s, int err, void *d)
{
  (void)s, (void)err, (void)d; /* close follows; a reset peer is normal */
}

static void on_connection(wire_server_t *srv, wire_socket_t *s, void *d)
{
  (void)srv, (void)d;
  wire_socket_on_data(s, on_data);
  wire_socket_on_drain(s, on_drain);
  wire_socket_on_error(s, on_error);
}

static void on_listening(wire_server_t *srv, void *d)
{
  (void)d;
  wire_addr_t a;
  wire_server_address(srv, &a);
  printf("listening on tcp://%s:%d\n", a.address, a.port);
  fflush(stdout);
}

static void on_server_error(wire_server_t *srv, int err, void *d)
{
  (void)srv, (void)d;
  /* EMFILE and friends while accepting: report, keep serving. */
  fprintf(stderr, "wire_echo: %s\n", wire_strerror(err));
}

int main(int argc, char **argv)
{
  int port = argc > 1 ? atoi(argv[1]) : 0;
  const char *host = argc > 2 ? argv[2] : "127.0.0.1";
  wire_loop_t *loop = wire_loop_default();
  wire_server_t *srv;
  if (loop == NULL || wire_server_create(loop, NULL, on_connection, &srv) < 0)
    return 1;
  wire_server_on_listening(srv, on_listening);
  wire_server_on_error(srv, on_server_error);
  int err = wire_server_listen(srv, host, port, NULL);
  if (err < 0) {
    fprintf(stderr, "wire_echo: %s\n", wire_strerror(err));
    return 1;
  }
  wire_loop_run(loop, WIRE_RUN_DEFAULT);
  return 0;
}
