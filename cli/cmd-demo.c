/* wire demo: the seed's servers at once. For now the TCP server of the
 * seed's net section on 8124; later modules add theirs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char greeting[] = "hello world\xef\xbc\x9a\n";
static const char reply[] = "\xe4\xbd\xa0\xe5\xa5\xbd";

static void on_data(wire_socket_t *s, const char *buf, size_t len, void *d)
{
  (void)buf, (void)len, (void)d;
  wire_socket_write(s, reply, sizeof(reply) - 1);
}

static void on_connection(wire_server_t *srv, wire_socket_t *s, void *d)
{
  (void)srv, (void)d;
  wire_socket_on_data(s, on_data);
  wire_socket_write(s, greeting, sizeof(greeting) - 1);
}

static void on_listening(wire_server_t *srv, void *d)
{
  (void)d;
  cli_print_listening("tcp", srv);
  wire_addr_t a;
  wire_server_address(srv, &a);
  printf("  try: nc 127.0.0.1 %d   (or: wire tcp 127.0.0.1 %d)\n", a.port,
         a.port);
  fflush(stdout);
}

static void on_error(wire_server_t *srv, int err, void *d)
{
  (void)d;
  fprintf(stderr, "wire demo: tcp: %s\n", wire_strerror(err));
  wire_server_close(srv, NULL);
}

int cmd_demo(int argc, char **argv)
{
  int tcp_port = 8124;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--tcp-port") == 0 && i + 1 < argc)
      tcp_port = atoi(argv[++i]);
  }
  wire_loop_t *loop = wire_loop_default();
  wire_server_t *tcp;
  if (wire_server_create(loop, NULL, on_connection, &tcp) < 0)
    return 1;
  wire_server_on_listening(tcp, on_listening);
  wire_server_on_error(tcp, on_error);
  if (wire_server_listen(tcp, NULL, tcp_port, NULL) < 0)
    return 1;
  wire_loop_run(loop, WIRE_RUN_DEFAULT);
  return wire_loop_close(loop) == 0 ? 0 : 1;
}
