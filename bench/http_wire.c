/* The wire side of bench/http.sh and bench/http-idle-mem.sh: an HTTP
 * server on the public API that answers every request 200 with the
 * 13-byte body "Hello, World\n" as text/plain (the seed's server, with the
 * body every server in the benchmark sends).
 *
 * Usage: http_wire [PORT [KEEP_ALIVE_MS]]   (PORT 0 picks one; prints
 * "listening on http://127.0.0.1:PORT/"; KEEP_ALIVE_MS sets
 * keep_alive_timeout_ms, default Node's 5000). */
#include <stdio.h>
#include <stdlib.h>
#include <wire.h>

static void on_request(wire_http_server_t *srv, wire_http_req_t *req,
                       wire_http_res_t *res, void *data)
{
  (void)srv, (void)req, (void)data;
  wire_http_res_set_header(res, "Content-Type", "text/plain");
  wire_http_res_end(res, "Hello, World\n", 13);
}

static void on_listening(wire_http_server_t *srv, void *data)
{
  (void)data;
  wire_addr_t a;
  wire_http_server_address(srv, &a);
  printf("listening on http://%s:%d/\n", a.address, a.port);
  fflush(stdout);
}

int main(int argc, char **argv)
{
  int port = argc > 1 ? atoi(argv[1]) : 0;
  wire_http_server_opts_t o = WIRE_HTTP_SERVER_OPTS_INIT;
  if (argc > 2)
    o.keep_alive_timeout_ms = strtoull(argv[2], NULL, 10);
  wire_loop_t *loop = wire_loop_default();
  wire_http_server_t *srv;
  if (wire_http_server_create(loop, &o, on_request, &srv) < 0)
    return 1;
  wire_http_server_on_listening(srv, on_listening);
  int err = wire_http_server_listen(srv, "127.0.0.1", port, NULL);
  if (err < 0) {
    fprintf(stderr, "http_wire: %s\n", wire_strerror(err));
    return 1;
  }
  wire_loop_run(loop, WIRE_RUN_DEFAULT);
  return wire_loop_close(loop) == 0 ? 0 : 1;
}
