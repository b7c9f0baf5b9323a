/* wire demo: the seed's servers at once. For now the TCP server of the
 * seed's net section on 8124, the UDP server of its dgram section on
 * 41234 and the HTTP server of its http section on 127.0.0.1:1337
 * (--tcp-port, --udp-port, --http-port; 0 picks a port); later modules
 * add theirs. */
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

/* The seed's UDP server: "server got: MSG from ADDR:PORT" per datagram. */
static void on_udp_message(wire_udp_t *u, const char *buf, size_t len,
                           const wire_udp_rinfo_t *rinfo, void *d)
{
  (void)u, (void)d;
  printf("server got: %.*s from %s:%d\n", (int)len, buf, rinfo->address,
         rinfo->port);
  fflush(stdout);
}

static void on_udp_listening(wire_udp_t *u, void *d)
{
  (void)d;
  wire_addr_t a;
  if (wire_udp_address(u, &a) < 0)
    return;
  printf("listening on udp://%s:%d\n", a.address, a.port);
  printf("  try: echo hi | socat - UDP:127.0.0.1:%d   (or: wire udp "
         "127.0.0.1 %d)\n",
         a.port, a.port);
  fflush(stdout);
}

static void on_udp_error(wire_udp_t *u, int err, void *d)
{
  (void)d;
  fprintf(stderr, "wire demo: udp: %s\n", wire_strerror(err));
  wire_addr_t a;
  if (wire_udp_address(u, &a) == WIRE_EBADF)
    wire_udp_close(u, NULL); /* the bind failed: the other servers go on */
}

/* The seed's HTTP server: "Hello World\n" as text/plain to every
 * request. */
static void on_http_request(wire_http_server_t *srv, wire_http_req_t *req,
                            wire_http_res_t *res, void *d)
{
  (void)srv, (void)req, (void)d;
  wire_http_res_set_header(res, "Content-Type", "text/plain");
  wire_http_res_write_head(res, 200, NULL);
  wire_http_res_end(res, "Hello World\n", 12);
}

static void on_http_listening(wire_http_server_t *srv, void *d)
{
  (void)d;
  wire_addr_t a;
  if (wire_http_server_address(srv, &a) < 0)
    return;
  printf("listening on http://%s:%d/\n", a.address, a.port);
  printf("  try: curl http://%s:%d/\n", a.address, a.port);
  fflush(stdout);
}

static void on_http_listen(wire_http_server_t *srv, int status, void *d)
{
  (void)d;
  if (status < 0) {
    /* The other servers go on. */
    fprintf(stderr, "wire demo: http: %s\n", wire_strerror(status));
    wire_http_server_close(srv, NULL);
  }
}

static int start_http(wire_loop_t *loop, int port)
{
  wire_http_server_t *http;
  if (wire_http_server_create(loop, NULL, on_http_request, &http) < 0)
    return -1;
  wire_http_server_on_listening(http, on_http_listening);
  return wire_http_server_listen(http, "127.0.0.1", port, on_http_listen);
}

static int start_udp(wire_loop_t *loop, int port)
{
  wire_udp_t *udp;
  if (wire_udp_create(loop, NULL, &udp) < 0)
    return -1;
  wire_udp_on_message(udp, on_udp_message);
  wire_udp_on_listening(udp, on_udp_listening);
  wire_udp_on_error(udp, on_udp_error);
  return wire_udp_bind(udp, port, NULL, NULL);
}

int cmd_demo(int argc, char **argv)
{
  int tcp_port = 8124;
  int udp_port = 41234;
  int http_port = 1337;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--tcp-port") == 0 && i + 1 < argc)
      tcp_port = atoi(argv[++i]);
    else if (strcmp(argv[i], "--udp-port") == 0 && i + 1 < argc)
      udp_port = atoi(argv[++i]);
    else if (strcmp(argv[i], "--http-port") == 0 && i + 1 < argc)
      http_port = atoi(argv[++i]);
  }
  wire_loop_t *loop = wire_loop_default();
  wire_server_t *tcp;
  if (wire_server_create(loop, NULL, on_connection, &tcp) < 0)
    return 1;
  wire_server_on_listening(tcp, on_listening);
  wire_server_on_error(tcp, on_error);
  if (wire_server_listen(tcp, NULL, tcp_port, NULL) < 0)
    return 1;
  if (start_udp(loop, udp_port) < 0)
    return 1;
  if (start_http(loop, http_port) < 0)
    return 1;
  wire_loop_run(loop, WIRE_RUN_DEFAULT);
  return wire_loop_close(loop) == 0 ? 0 : 1;
}
