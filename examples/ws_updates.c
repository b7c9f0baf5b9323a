/* The seed's WebSocket server (ws://127.0.0.1:12010/updates): every 50 ms
 * it pushes an update to each client whose bufferedAmount is 0 (a slow
 * client is skipped, not buried), and it answers what clients send. At /
 * it serves a small page that connects and shows the updates live, the
 * browser side of the seed's snippet. Port from argv[1] (0 picks one). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wire.h>

static const char page[] =
    "<!doctype html><meta charset=utf-8><title>wire updates</title>\n"
    "<h1>updates</h1><p id=state>connecting</p><pre id=log></pre>\n"
    "<script>\n"
    "var socket = new WebSocket('ws://' + location.host + '/updates');\n"
    "var n = 0;\n"
    "socket.onopen = function () {\n"
    "  document.getElementById('state').textContent = 'open';\n"
    "  setInterval(function () {\n"
    "    if (socket.bufferedAmount == 0)\n"
    "      socket.send(JSON.stringify({ page: Date.now() }));\n"
    "  }, 50);\n"
    "};\n"
    "socket.onmessage = function (event) {\n"
    "  if (++n % 20 == 1) document.getElementById('log').textContent =\n"
    "    event.data + '\\n' + document.getElementById('log').textContent;\n"
    "};\n"
    "socket.onclose = function (e) {\n"
    "  document.getElementById('state').textContent = 'closed ' + e.code;\n"
    "};\n"
    "</script>\n";

static unsigned long seq, received;

static void on_request(wire_http_server_t *srv, wire_http_req_t *req,
                       wire_http_res_t *res, void *data)
{
  (void)srv, (void)data;
  if (strcmp(wire_http_req_url(req), "/") != 0) {
    wire_http_res_write_head(res, 404, NULL);
    wire_http_res_end(res, "not found\n", 10);
    return;
  }
  wire_http_res_set_header(res, "Content-Type", "text/html; charset=utf-8");
  wire_http_res_end(res, page, sizeof(page) - 1);
}

static void on_message(wire_ws_t *ws, const char *buf, size_t len, int bin,
                       void *data)
{
  (void)ws, (void)buf, (void)len, (void)bin, (void)data;
  received++;
}

static void on_connection(wire_ws_server_t *srv, wire_ws_t *ws,
                          wire_http_req_t *req, void *data)
{
  (void)srv, (void)req, (void)data;
  wire_ws_on_message(ws, on_message);
}

/* The seed's loop, on the server's side: one update per client every
 * 50 ms, only to those whose bufferedAmount is 0. */
static void push_one(wire_ws_t *ws, void *arg)
{
  const char *msg = arg;
  if (wire_ws_buffered_amount(ws) == 0)
    wire_ws_send_text(ws, msg, strlen(msg));
}

static void on_tick(wire_timer_t *t, void *data)
{
  (void)t;
  wire_ws_server_t *ws_srv = data;
  char msg[160];
  snprintf(msg, sizeof(msg),
           "{\"seq\":%lu,\"clients\":%u,\"received\":%lu}", ++seq,
           wire_ws_server_clients(ws_srv), received);
  wire_ws_server_each(ws_srv, push_one, msg);
}

static void on_listening(wire_http_server_t *srv, void *data)
{
  (void)data;
  wire_addr_t a;
  wire_http_server_address(srv, &a);
  printf("listening on http://%s:%d/\n", a.address, a.port);
  printf("updates on ws://%s:%d/updates\n", a.address, a.port);
  fflush(stdout);
}

int main(int argc, char **argv)
{
  int port = argc > 1 ? atoi(argv[1]) : 12010;
  wire_loop_t *loop = wire_loop_default();
  wire_http_server_t *http;
  wire_ws_server_t *ws_srv;
  wire_timer_t *tick;
  wire_ws_server_opts_t o = WIRE_WS_SERVER_OPTS_INIT;
  o.path = "/updates";
  o.deflate.enabled = 1;
  o.heartbeat_ms = 30000;
  if (wire_http_server_create(loop, NULL, on_request, &http) < 0 ||
      wire_ws_server_create(loop, &o, &ws_srv) < 0 ||
      wire_ws_server_attach(ws_srv, http) < 0 ||
      wire_timer_create(loop, &tick) < 0) {
    fprintf(stderr, "setup failed\n");
    return 1;
  }
  wire_ws_server_on_connection(ws_srv, on_connection);
  wire_http_server_on_listening(http, on_listening);
  int err = wire_http_server_listen(http, "127.0.0.1", port, NULL);
  if (err < 0) {
    fprintf(stderr, "listen: %s\n", wire_strerror(err));
    return 1;
  }
  wire_timer_set_data(tick, ws_srv);
  wire_timer_start(tick, 50, 50, on_tick);
  return wire_loop_run(loop, WIRE_RUN_DEFAULT);
}
