/* The seed's TCP server (net.createServer on 8124): greets each connection
 * with "hello world：\n", answers every chunk of data with "你好" and prints
 * "连接断开" when the peer ends. Port from argv[1] (0 picks one). */
#include <stdio.h>
#include <stdlib.h>
#include <wire.h>

static const char greeting[] = "hello world\xef\xbc\x9a\n"; /* U+FF1A */
static const char reply[] = "\xe4\xbd\xa0\xe5\xa5\xbd";     /* 你好 */

static void on_data(wire_socket_t *s, const char *buf, size_t len, void *d)
{
  (void)buf, (void)len, (void)d;
  wire_socket_write(s, reply, sizeof(reply) - 1);
}

static void on_end(wire_socket_t *s, void *d)
{
  (void)s, (void)d;
  printf("\xe8\xbf\x9e\xe6\x8e\xa5\xe6\x96\xad\xe5\xbc\x80\n"); /* 连接断开 */
  fflush(stdout);
}

static void on_connection(wire_server_t *srv, wire_socket_t *s, void *d)
{
  (void)srv, (void)d;
  wire_socket_on_data(s, on_data);
  wire_socket_on_end(s, on_end);
  wire_socket_write(s, greeting, sizeof(greeting) - 1);
}

static void on_listening(wire_server_t *srv, void *d)
{
  (void)d;
  wire_addr_t a;
  wire_server_address(srv, &a);
  printf("server bound\n");
  printf("listening on tcp://%s%s%s:%d\n", a.family == 6 ? "[" : "",
         a.address, a.family == 6 ? "]" : "", a.port);
  fflush(stdout);
}

static void on_error(wire_server_t *srv, int err, void *d)
{
  (void)d;
  fprintf(stderr, "tcp_server: %s\n", wire_strerror(err));
  wire_server_close(srv, NULL);
}

int main(int argc, char **argv)
{
  int port = argc > 1 ? atoi(argv[1]) : 8124;
  wire_loop_t *loop = wire_loop_default();
  wire_server_t *srv;
  if (wire_server_create(loop, NULL, on_connection, &srv) < 0)
    return 1;
  wire_server_on_listening(srv, on_listening);
  wire_server_on_error(srv, on_error);
  int err = wire_server_listen(srv, NULL, port, NULL);
  if (err < 0) {
    fprintf(stderr, "tcp_server: %s\n", wire_strerror(err));
    return 1;
  }
  wire_loop_run(loop, WIRE_RUN_DEFAULT);
  return wire_loop_close(loop) == 0 ? 0 : 1;
}
