/* The wire side of bench/ws.sh: a WebSocket echo server on the public API
 * (an HTTP server with a wire_ws server attached for every path, no
 * permessage-deflate), sending every message back with its type, as the
 * ws package's echo example does (no backpressure handling: the load
 * client keeps a bounded number of messages in flight).
 *
 * Usage: ws_wire [PORT]   (0 picks one; prints
 * "listening on http://127.0.0.1:PORT/"). */
#include <stdio.h>
#include <stdlib.h>
#include <wire.h>

static void on_message(wire_ws_t *ws, const char *buf, size_t len,
                       int is_binary, void *data)
{
  (void)data;
  wire_ws_send(ws, buf, len, is_binary ? WIRE_WS_SEND_BINARY : 0);
}

static void on_connection(wire_ws_server_t *srv, wire_ws_t *ws,
                          wire_http_req_t *req, void *data)
{
  (void)srv, (void)req, (void)data;
  wire_ws_on_message(ws, on_message);
}

static void on_request(wire_http_server_t *srv, wire_http_req_t *req,
                       wire_http_res_t *res, void *data)
{
  (void)srv, (void)req, (void)data;
  wire_http_res_write_head(res, 426, NULL);
  wire_http_res_end(res, NULL, 0);
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
  wire_loop_t *loop = wire_loop_default();
  wire_http_server_t *http;
  wire_ws_server_t *ws;
  if (wire_http_server_create(loop, NULL, on_request, &http) < 0 ||
      wire_ws_server_create(loop, NULL, &ws) < 0)
    return 1;
  wire_ws_server_on_connection(ws, on_connection);
  if (wire_ws_server_attach(ws, http) < 0)
    return 1;
  wire_http_server_on_listening(http, on_listening);
  int err = wire_http_server_listen(http, "127.0.0.1", port, NULL);
  if (err < 0) {
    fprintf(stderr, "ws_wire: %s\n", wire_strerror(err));
    return 1;
  }
  wire_loop_run(loop, WIRE_RUN_DEFAULT);
  return wire_loop_close(loop) == 0 ? 0 : 1;
}
