/* wire's ws client against the npm ws package as the server
 * (tests/peers/ws-node-server.js): open, subprotocol, extra headers and
 * Origin, text, binary, fragmented and 16 MiB messages, ping, close codes
 * both ways, permessage-deflate, unexpected-response, a refused
 * connection, and URLs the client must refuse. */
#include "test-ws-common.h"

typedef struct {
  int opened, closed, errors, unexpected, msgs;
  unsigned code;
  char reason[128];
  h_sink_t last;
  int last_binary;
  int status;
  char why[64];
  char last_error[96];
  int err;
} cli_t;

static cli_t c;

static void on_open(wire_ws_t *ws, void *d)
{
  (void)ws, (void)d;
  c.opened++;
}

static void on_message(wire_ws_t *ws, const char *buf, size_t len, int bin,
                       void *d)
{
  (void)ws, (void)d;
  c.msgs++;
  c.last.len = 0;
  if (len > 0)
    h_sink_add(&c.last, buf, len);
  c.last_binary = bin;
}

static void on_close(wire_ws_t *ws, unsigned code, const char *reason,
                     size_t len, void *d)
{
  (void)ws, (void)d;
  c.closed++;
  c.code = code;
  snprintf(c.reason, sizeof(c.reason), "%.*s", (int)len, reason);
}

static void on_error(wire_ws_t *ws, int err, void *d)
{
  (void)ws, (void)d;
  c.errors++;
  c.err = err;
}

static void on_unexpected(wire_ws_t *ws, int status, void *d)
{
  (void)d;
  c.unexpected++;
  c.status = status;
  const char *w = wire_ws_response_header(ws, "x-why");
  snprintf(c.why, sizeof(c.why), "%s", w ? w : "");
  snprintf(c.last_error, sizeof(c.last_error), "%s", wire_ws_last_error(ws));
}

static wire_ws_t *open_ws(wire_loop_t *loop, int port, const char *path,
                          const wire_ws_connect_opts_t *o)
{
  memset(&c, 0, sizeof(c));
  char url[128];
  snprintf(url, sizeof(url), "ws://127.0.0.1:%d%s", port, path);
  wire_ws_t *ws = NULL;
  cr_assert_eq(wire_ws_connect(loop, url, o, &ws), 0);
  wire_ws_on_open(ws, on_open);
  wire_ws_on_message(ws, on_message);
  wire_ws_on_close(ws, on_close);
  wire_ws_on_error(ws, on_error);
  wire_ws_on_unexpected_response(ws, on_unexpected);
  return ws;
}

static int expect_echo(wire_loop_t *loop, wire_ws_t *ws, const char *buf,
                       size_t len, int bin)
{
  int before = c.msgs;
  cr_assert_geq(wire_ws_send(ws, buf, len, bin ? WIRE_WS_SEND_BINARY : 0), 0);
  H_RUN_UNTIL(loop, c.msgs == before + 1 || c.closed);
  return c.last.len == len && c.last_binary == bin &&
         (len == 0 || memcmp(c.last.buf, buf, len) == 0);
}

static void start_node(peer_t *p, wire_loop_t *loop, int deflate, int *port)
{
  char *argv[] = {"node", "ws-node-server.js", deflate ? "deflate" : "plain",
                  NULL};
  peer_start(p, loop, argv);
  *port = peer_port(p, loop);
}

Test(ws_client, node_server_echo_and_close)
{
  wire_loop_t *loop = h_loop_new();
  peer_t p;
  int port;
  start_node(&p, loop, 0, &port);
  const char *protos[] = {"chat", "superchat", NULL};
  const char *hdrs[] = {"X-Test", "forty-two", NULL};
  wire_ws_connect_opts_t o = WIRE_WS_CONNECT_OPTS_INIT;
  o.protocols = protos;
  o.headers = hdrs;
  o.origin = "http://wire.test";
  o.deflate.enabled = 0;
  wire_ws_t *ws = open_ws(loop, port, "/", &o);
  cr_assert_eq(wire_ws_ready_state(ws), WIRE_WS_CONNECTING);
  H_RUN_UNTIL(loop, c.opened || c.closed);
  cr_assert_eq(c.opened, 1, "%s", wire_ws_last_error(ws));
  cr_assert_str_eq(wire_ws_protocol(ws), "superchat");
  cr_assert_str_eq(wire_ws_extensions(ws), "");
  cr_assert(expect_echo(loop, ws, "hello", 5, 0));
  cr_assert(expect_echo(loop, ws, "\x00\x01\xff", 3, 1));
  cr_assert(expect_echo(loop, ws, "", 0, 0));
  /* headers: the node side reports what it saw. */
  wire_ws_send_text(ws, "headers", 7);
  H_RUN_UNTIL(loop, c.msgs == 4);
  cr_assert_eq(c.last.len, strlen("forty-two http://wire.test plain"));
  cr_assert(memcmp(c.last.buf, "forty-two http://wire.test plain",
                   c.last.len) == 0);
  /* A fragmented message: three frames, one message back. */
  cr_assert_geq(wire_ws_send(ws, "ab", 2, WIRE_WS_SEND_MORE), 0);
  cr_assert_eq(wire_ws_send_text(ws, "x", 1), WIRE_EBUSY);
  cr_assert_geq(wire_ws_send(ws, "cd", 2, WIRE_WS_SEND_MORE), 0);
  cr_assert_geq(wire_ws_ping(ws, "p", 1), 0);
  cr_assert_geq(wire_ws_send(ws, "ef", 2, 0), 0);
  H_RUN_UNTIL(loop, c.msgs == 5);
  cr_assert(c.last.len == 6 && memcmp(c.last.buf, "abcdef", 6) == 0);
  /* A big message (the node server caps messages at 1 MB). */
  size_t n = 900 * 1000;
  char *big = malloc(n);
  h_fill(big, n, 0);
  cr_assert(expect_echo(loop, ws, big, n, 1));
  free(big);
  cr_assert_eq(wire_ws_close(ws, 4005, "client bye"), 0);
  cr_assert_eq(wire_ws_close(ws, 1000, NULL), WIRE_EALREADY);
  cr_assert_eq(wire_ws_ready_state(ws), WIRE_WS_CLOSING);
  H_RUN_UNTIL(loop, c.closed);
  cr_assert_eq(c.code, 4005);
  cr_assert_str_eq(c.reason, "client bye");
  cr_assert_eq(c.errors, 0);
  peer_kill(&p, loop);
  h_sink_free(&c.last);
  h_loop_done(loop);
}

Test(ws_client, node_server_closes_deflate)
{
  wire_loop_t *loop = h_loop_new();
  peer_t p;
  int port;
  start_node(&p, loop, 1, &port);
  wire_ws_t *ws = open_ws(loop, port, "/x", NULL);
  H_RUN_UNTIL(loop, c.opened || c.closed);
  cr_assert_eq(c.opened, 1, "%s", wire_ws_last_error(ws));
  cr_assert(strstr(wire_ws_extensions(ws), "permessage-deflate") != NULL);
  char text[20000];
  for (size_t i = 0; i < sizeof(text); i++)
    text[i] = "abcdefgh"[i % 8];
  cr_assert(expect_echo(loop, ws, text, sizeof(text), 0));
  cr_assert(expect_echo(loop, ws, "tiny", 4, 0));
  cr_assert(expect_echo(loop, ws, text, sizeof(text), 1));
  wire_ws_send_text(ws, "close-me", 8);
  H_RUN_UNTIL(loop, c.closed);
  cr_assert_eq(c.code, 4002);
  cr_assert_str_eq(c.reason, "node bye");
  peer_kill(&p, loop);
  h_sink_free(&c.last);
  h_loop_done(loop);
}

Test(ws_client, unexpected_response)
{
  wire_loop_t *loop = h_loop_new();
  peer_t p;
  int port;
  start_node(&p, loop, 0, &port);
  open_ws(loop, port, "/404", NULL);
  H_RUN_UNTIL(loop, c.closed);
  cr_assert_eq(c.unexpected, 1);
  cr_assert_eq(c.status, 404);
  cr_assert_str_eq(c.why, "test");
  cr_assert_str_eq(c.last_error, "unexpected server response: 404");
  cr_assert_eq(c.opened, 0);
  cr_assert_eq(c.code, 1006);
  peer_kill(&p, loop);
  h_loop_done(loop);
}

Test(ws_client, refused_connection_and_bad_urls)
{
  wire_loop_t *loop = h_loop_new();
  /* A port nobody listens on: error, then close 1006. */
  wire_server_t *srv;
  cr_assert_eq(wire_server_create(loop, NULL, NULL, &srv), 0);
  int port = h_listen(srv, "127.0.0.1");
  wire_server_close(srv, NULL);
  h_run(loop);
  open_ws(loop, port, "/", NULL);
  H_RUN_UNTIL(loop, c.closed);
  cr_assert_eq(c.errors, 1);
  cr_assert_eq(c.err, WIRE_ECONNREFUSED);
  cr_assert_eq(c.code, 1006);
  wire_ws_t *ws = NULL;
  cr_assert_eq(wire_ws_connect(loop, "http://x/", NULL, &ws), WIRE_EINVAL);
  cr_assert_eq(wire_ws_connect(loop, "ws://", NULL, &ws), WIRE_EINVAL);
  cr_assert_eq(wire_ws_connect(loop, "ws://h:99999/", NULL, &ws),
               WIRE_EINVAL);
  cr_assert_null(ws);
  h_loop_done(loop);
}

Test(ws_client, wire_to_wire_with_close_before_open)
{
  wss_start(NULL);
  /* Closing while connecting aborts: close 1006, no error. */
  wire_ws_t *ws = open_ws(wss.loop, wss.port, "/echo", NULL);
  cr_assert_eq(wire_ws_close(ws, 1000, NULL), 0);
  H_RUN_UNTIL(wss.loop, c.closed);
  cr_assert_eq(c.errors, 0);
  cr_assert_eq(c.code, 1006);
  /* And a full wire-to-wire round with deflate offered but not taken. */
  ws = open_ws(wss.loop, wss.port, "/echo?x=1", NULL);
  H_RUN_UNTIL(wss.loop, c.opened || c.closed);
  cr_assert_eq(c.opened, 1);
  cr_assert_str_eq(wire_ws_extensions(ws), "");
  cr_assert(expect_echo(wss.loop, ws, "wire", 4, 0));
  cr_assert_eq(wire_ws_server_broadcast(wss.ws, "all", 3, 0), 1);
  H_RUN_UNTIL(wss.loop, c.msgs == 2);
  wire_ws_send_text(ws, "close-me", 8);
  H_RUN_UNTIL(wss.loop, c.closed && wss.closes == 1);
  cr_assert_eq(c.code, 4001);
  cr_assert_eq(wss.last_code, 4001);
  h_sink_free(&c.last);
  wss_done();
}
