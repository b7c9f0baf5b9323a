/* The seed's HTTP server (http.createServer on 1337): answers every request
 * with "Hello World\n" as text/plain. Port from argv[1] (0 picks one). */
#include <stdio.h>
#include <stdlib.h>
#include <wire.h>

static void on_request(wire_http_server_t *srv, wire_http_req_t *req,
                       wire_http_res_t *res, void *data)
{
  (void)srv, (void)req, (void)data;
  wire_http_res_set_header(res, "Content-Type", "text/plain");
  wire_http_res_write_head(res, 200, NULL);
  wire_http_res_end(res, "Hello World\n", 12);
}

static void on_listening(wire_http_server_t *srv, void *data)
{
  (void)data;
  wire_addr_t a;
  wire_http_server_address(srv, &a);
  printf("listening on http://%s%s%s:%d/\n", a.family == 6 ? "[" : "",
         a.address, a.family == 6 ? "]" : "", a.port);
  fflush(stdout);
}

int main(int argc, char **argv)
{
  int port = argc > 1 ? atoi(argv[1]) : 1337;
  wire_loop_t *loop = wire_loop_default();
  wire_http_server_t *srv;
  if (wire_http_server_create(loop, NULL, on_request, &srv) < 0)
    return 1;
  wire_http_server_on_listening(srv, on_listening);
  int err = wire_http_server_listen(srv, "127.0.0.1", port, NULL);
  if (err < 0) {
    fprintf(stderr, "http_server: %s\n", wire_strerror(err));
    return 1;
  }
  wire_loop_run(loop, WIRE_RUN_DEFAULT);
  return wire_loop_close(loop) == 0 ? 0 : 1;
}
