/* The HTTP client against wire's own HTTP server on one loop: the response
 * API and the event order, pooling with the global agent (20 at once: at
 * most 5 connections; 20 one after another: one connection), no agent,
 * the agent's counts at each stage, uploads, Expect: 100-continue,
 * localAddress, socketPath, pause/resume with backpressure, timeouts,
 * closing a request at every stage, closing an agent, and the failures
 * that never reach a server (refused, unresolvable). Every test ends with
 * wire_loop_close(loop) == 0. */
#include "test-http-client.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the server
 * --------------------------------------------------------------- */

typedef struct {
  wire_loop_t *loop;
  wire_http_server_t *srv;
  int port;
  int conns;
  int max_open;
  int requests;
  int closed;
  int delay_ms; /* answer after this long (overlap requests) */
  char remote[128];
  h_sink_t body; /* the last request's body */
  char method[16];
  char te[64];
  char cl[32];
  char conn_hdr[32];
} ws_t;

static ws_t ws;

static void ws_on_close(wire_http_server_t *srv, void *d)
{
  (void)srv, (void)d;
  ws.closed = 1;
}

static void ws_on_conn(wire_http_server_t *srv, wire_socket_t *s, void *d)
{
  (void)s, (void)d;
  ws.conns++;
  int open = (int)wire_http_server_connections(srv);
  if (open > ws.max_open)
    ws.max_open = open;
}

static void answer(wire_http_res_t *res, wire_http_req_t *req)
{
  char b[256];
  snprintf(b, sizeof(b), "%s %s %zu", wire_http_req_method(req),
           wire_http_req_url(req), ws.body.len);
  wire_http_res_set_header(res, "X-Test", "yes");
  wire_http_res_append_header(res, "X-Many", "1");
  wire_http_res_append_header(res, "X-Many", "2");
  cr_assert_eq(wire_http_res_end(res, b, strlen(b)), 0);
}

static void on_delay(wire_timer_t *t, void *d)
{
  wire_http_res_t *res = d;
  answer(res, wire_http_res_req(res));
  wire_timer_close(t, NULL);
}

static void ws_req_data(wire_http_req_t *req, const char *b, size_t n, void *d)
{
  (void)req, (void)d;
  h_sink_add(&ws.body, b, n);
}

static void ws_req_end(wire_http_req_t *req, void *d)
{
  wire_http_res_t *res = d;
  if (ws.delay_ms > 0) {
    wire_timer_t *t;
    cr_assert_eq(wire_timer_create(ws.loop, &t), 0);
    wire_timer_set_data(t, res);
    wire_timer_start(t, (uint64_t)ws.delay_ms, 0, on_delay);
    return;
  }
  answer(res, req);
}

static void copy_hdr(char *dst, size_t n, wire_http_req_t *req,
                     const char *name)
{
  const char *v = wire_http_req_header(req, name);
  snprintf(dst, n, "%s", v != NULL ? v : "-");
}

static void ws_on_request(wire_http_server_t *srv, wire_http_req_t *req,
                          wire_http_res_t *res, void *d)
{
  (void)srv, (void)d;
  ws.requests++;
  ws.body.len = 0;
  snprintf(ws.method, sizeof(ws.method), "%s", wire_http_req_method(req));
  copy_hdr(ws.te, sizeof(ws.te), req, "transfer-encoding");
  copy_hdr(ws.cl, sizeof(ws.cl), req, "content-length");
  copy_hdr(ws.conn_hdr, sizeof(ws.conn_hdr), req, "connection");
  wire_addr_t a;
  if (wire_socket_remote_address(wire_http_req_socket(req), &a) == 0)
    snprintf(ws.remote, sizeof(ws.remote), "%s", a.address);
  wire_http_req_set_data(req, res);
  wire_http_req_on_data(req, ws_req_data);
  wire_http_req_on_end(req, ws_req_end);
}

static wire_loop_t *ws_start(wire_http_request_cb cb)
{
  memset(&ws, 0, sizeof(ws));
  ws.loop = h_loop_new();
  cr_assert_eq(wire_http_server_create(ws.loop, NULL, cb, &ws.srv), 0);
  wire_http_server_on_connection(ws.srv, ws_on_conn);
  cr_assert_eq(wire_http_server_listen(ws.srv, "127.0.0.1", 0, NULL), 0);
  wire_addr_t a;
  cr_assert_eq(wire_http_server_address(ws.srv, &a), 0);
  ws.port = a.port;
  return ws.loop;
}

static void ws_stop(void)
{
  wire_http_server_close(ws.srv, ws_on_close);
  H_RUN_UNTIL(ws.loop, ws.closed);
  h_sink_free(&ws.body);
}

static wire_agent_stats_t stats_of(wire_agent_t *a)
{
  wire_agent_stats_t st;
  wire_agent_stats(a, "127.0.0.1", ws.port, NULL, &st);
  return st;
}

static int agent_closed;
static void on_agent_closed(wire_agent_t *a, void *arg)
{
  (void)a, (void)arg;
  agent_closed++;
}

static wire_agent_t *agent_new(unsigned max_sockets)
{
  wire_agent_opts_t ao = WIRE_AGENT_OPTS_INIT;
  ao.max_sockets = max_sockets;
  wire_agent_t *a = NULL;
  cr_assert_eq(wire_agent_create(ws.loop, &ao, &a), 0);
  return a;
}

static void agent_done(wire_agent_t *a)
{
  agent_closed = 0;
  wire_agent_close(a, on_agent_closed, NULL);
  H_RUN_UNTIL(ws.loop, agent_closed == 1);
}

/* ---- the response
 * ---------------------------------------------------------------- */

static int headers_checked;
static void check_headers(wire_http_client_req_t *req,
                          wire_http_client_res_t *res, void *arg)
{
  ct_on_response(req, res, arg);
  cr_assert_eq(wire_http_client_res_status(res), 200);
  cr_assert_str_eq(wire_http_client_res_reason(res), "OK");
  cr_assert_eq(wire_http_client_res_version(res), 11);
  cr_assert_str_eq(wire_http_client_res_header(res, "x-TEST"), "yes");
  cr_assert_str_eq(wire_http_client_res_header(res, "X-Many"), "1");
  cr_assert_null(wire_http_client_res_header(res, "x-absent"));
  size_t n = wire_http_client_res_header_count(res);
  int many = 0;
  for (size_t i = 0; i < n; i++) {
    const char *name, *value;
    cr_assert_eq(wire_http_client_res_header_at(res, i, &name, &value), 0);
    if (strcasecmp(name, "X-Many") == 0)
      cr_assert_eq(atoi(value), ++many);
  }
  cr_assert_eq(many, 2);
  const char *name, *value;
  cr_assert_lt(wire_http_client_res_header_at(res, n, &name, &value), 0);
  cr_assert_eq(wire_http_client_res_complete(res), 0);
  headers_checked = 1;
}

Test(http_client, get_response_and_event_order)
{
  wire_loop_t *loop = ws_start(ws_on_request);
  wire_agent_t *a = agent_new(5);
  wire_http_request_opts_t o = WIRE_HTTP_REQUEST_OPTS_INIT;
  o.hostname = "127.0.0.1";
  o.host = "ignored.invalid";
  o.port = ws.port;
  o.path = "/hello?x=1";
  o.agent = a;
  ct_t t;
  memset(&t, 0, sizeof(t));
  cr_assert_eq(wire_http_request(loop, &o, check_headers, &t, &t.req), 0);
  wire_http_client_req_on_socket(t.req, ct_on_socket);
  wire_http_client_req_on_error(t.req, ct_on_error);
  wire_http_client_req_on_close(t.req, ct_on_close);
  int x = 7;
  wire_http_client_req_set_data(t.req, &x);
  cr_assert_eq(wire_http_client_req_data(t.req), &x);
  cr_assert_eq(wire_http_client_req_end(t.req, NULL, 0), 0);
  H_RUN_UNTIL(loop, t.closed);
  cr_assert(headers_checked);
  cr_assert_str_eq(t.log.s, "socket response data end close");
  cr_assert_str_eq(ct_body(&t), "GET /hello?x=1 0");
  cr_assert(t.complete);
  cr_assert_eq(t.reused, 0);
  cr_assert_str_eq(ws.conn_hdr, "keep-alive");
  wire_agent_stats_t st = stats_of(a);
  cr_assert_eq(st.sockets, 0);
  cr_assert_eq(st.free_sockets, 1);
  cr_assert_eq(st.created, 1);
  ct_free(&t);
  agent_done(a);
  ws_stop();
  h_loop_done(loop);
}

static wire_http_client_res_t *got_res;
static void on_get(wire_http_client_req_t *req, wire_http_client_res_t *res,
                   void *arg)
{
  (void)req, (void)arg;
  got_res = res;
}

Test(http_client, http_get_url_with_userinfo)
{
  wire_loop_t *loop = ws_start(ws_on_request);
  char url[128];
  snprintf(url, sizeof(url), "http://u:p@127.0.0.1:%d/g", ws.port);
  wire_http_client_req_t *req;
  cr_assert_eq(wire_http_get(loop, url, on_get, NULL, &req), 0);
  H_RUN_UNTIL(loop, got_res != NULL && ws.requests == 1);
  cr_assert_eq(wire_http_client_res_status(got_res), 200);
  h_idle_turns(loop, 20);
  ws_stop();
  ct_done(loop);
}

/* ---- pooling
 * ------------------------------------------------------------------- */

Test(http_client, global_agent_20_at_once_use_at_most_5_connections)
{
  wire_loop_t *loop = ws_start(ws_on_request);
  ws.delay_ms = 20;
  wire_agent_t *g = wire_agent_global(loop);
  cr_assert_not_null(g);
  cr_assert_eq(wire_agent_global(loop), g);
  static ct_t t[20];
  for (int i = 0; i < 20; i++)
    ct_get(&t[i], loop, ws.port, "/", NULL);
  /* Nothing is assigned before the loop turns. */
  wire_agent_stats_t st = stats_of(g);
  cr_assert_eq(st.sockets + st.requests, 0);
  wire_loop_run(loop, WIRE_RUN_ONCE);
  st = stats_of(g);
  cr_assert_eq(st.sockets, 5);
  cr_assert_eq(st.requests, 15);
  cr_assert_eq(st.free_sockets, 0);
  int seen_queue_shrink = 0;
  h_deadline_arm();
  for (;;) {
    int done = 0;
    for (int i = 0; i < 20; i++)
      done += t[i].closed;
    if (done == 20)
      break;
    wire_loop_run(loop, WIRE_RUN_ONCE);
    st = stats_of(g);
    cr_assert_leq(st.sockets, 5);
    cr_assert_leq(st.sockets + st.free_sockets, 5);
    if (st.requests > 0 && st.requests < 15)
      seen_queue_shrink = 1;
  }
  wire_timer_stop(h_deadline_timer);
  cr_assert(seen_queue_shrink);
  for (int i = 0; i < 20; i++) {
    cr_assert_eq(t[i].status, 200, "request %d: %s", i,
                 wire_err_name(t[i].err));
    ct_free(&t[i]);
  }
  cr_assert_leq(ws.conns, 5);
  cr_assert_leq(ws.max_open, 5);
  cr_assert_eq(ws.requests, 20);
  st = stats_of(g);
  cr_assert_eq(st.sockets, 0);
  cr_assert_eq(st.requests, 0);
  cr_assert_eq(st.free_sockets, (unsigned)ws.conns);
  cr_assert_eq(st.created, (uint64_t)ws.conns);
  cr_assert_eq(st.reused, 20 - (uint64_t)ws.conns);
  /* wire_loop_close closes the global agent by itself. */
  ws_stop();
  ct_done(loop);
}

Test(http_client, sequential_requests_share_one_connection)
{
  wire_loop_t *loop = ws_start(ws_on_request);
  for (int i = 0; i < 20; i++) {
    ct_t t;
    ct_get(&t, loop, ws.port, "/seq", NULL);
    H_RUN_UNTIL(loop, t.closed);
    cr_assert_eq(t.status, 200);
    cr_assert_eq(t.reused, i > 0);
    ct_free(&t);
    wire_agent_stats_t st = stats_of(wire_agent_global(loop));
    cr_assert_eq(st.sockets, 0);
    cr_assert_eq(st.free_sockets, 1);
  }
  cr_assert_eq(ws.conns, 1);
  cr_assert_eq(ws.requests, 20);
  ws_stop();
  ct_done(loop);
}

Test(http_client, no_agent_opens_a_connection_per_request)
{
  wire_loop_t *loop = ws_start(ws_on_request);
  for (int i = 0; i < 3; i++) {
    wire_http_request_opts_t o = WIRE_HTTP_REQUEST_OPTS_INIT;
    o.host = "127.0.0.1";
    o.port = ws.port;
    o.no_agent = 1;
    ct_t t;
    ct_start(&t, loop, &o);
    wire_http_client_req_end(t.req, NULL, 0);
    H_RUN_UNTIL(loop, t.closed);
    cr_assert_eq(t.status, 200);
    cr_assert_eq(t.reused, 0);
    cr_assert_str_eq(ws.conn_hdr, "close");
    ct_free(&t);
  }
  H_RUN_UNTIL(loop, wire_http_server_connections(ws.srv) == 0);
  cr_assert_eq(ws.conns, 3);
  /* No agent was made for these. */
  ws_stop();
  h_loop_done(loop);
}

Test(http_client, agent_max_sockets_and_queue_order)
{
  wire_loop_t *loop = ws_start(ws_on_request);
  ws.delay_ms = 5;
  wire_agent_t *a = agent_new(2);
  ct_t t[6];
  char path[6][8];
  for (int i = 0; i < 6; i++) {
    snprintf(path[i], sizeof(path[i]), "/%d", i);
    ct_get(&t[i], loop, ws.port, path[i], a);
  }
  wire_loop_run(loop, WIRE_RUN_ONCE);
  wire_agent_stats_t st = stats_of(a);
  cr_assert_eq(st.sockets, 2);
  cr_assert_eq(st.requests, 4);
  /* Another origin (other port) is counted apart. */
  wire_agent_stats_t other;
  wire_agent_stats(a, "127.0.0.1", ws.port + 1, NULL, &other);
  cr_assert_eq(other.sockets + other.requests, 0);
  int order[6], n = 0;
  int seen[6] = {0};
  h_deadline_arm();
  while (n < 6) {
    wire_loop_run(loop, WIRE_RUN_ONCE);
    for (int i = 0; i < 6; i++) {
      if (t[i].closed && !seen[i]) {
        seen[i] = 1;
        order[n++] = i;
      }
    }
  }
  wire_timer_stop(h_deadline_timer);
  /* Queued requests are served in order. */
  for (int i = 2; i < 6; i++)
    cr_assert_gt(order[i], 1);
  for (int i = 0; i < 6; i++) {
    cr_assert_eq(t[i].status, 200);
    ct_free(&t[i]);
  }
  cr_assert_eq(ws.conns, 2);
  agent_done(a);
  ws_stop();
  h_loop_done(loop);
}

/* ---- uploads
 * -------------------------------------------------------------------- */

Test(http_client, chunked_upload_seen_whole)
{
  wire_loop_t *loop = ws_start(ws_on_request);
  wire_agent_t *a = agent_new(5);
  wire_http_request_opts_t o = WIRE_HTTP_REQUEST_OPTS_INIT;
  o.host = "127.0.0.1";
  o.port = ws.port;
  o.method = "POST";
  o.agent = a;
  ct_t t;
  ct_start(&t, loop, &o);
  char buf[1000];
  size_t sent = 0;
  for (int i = 0; i < 300; i++) {
    h_fill(buf, sizeof(buf), sent);
    cr_assert_geq(wire_http_client_req_write(t.req, buf, sizeof(buf)), 0);
    sent += sizeof(buf);
  }
  cr_assert_eq(wire_http_client_req_end(t.req, NULL, 0), 0);
  H_RUN_UNTIL(loop, t.closed);
  cr_assert_eq(t.status, 200);
  cr_assert_str_eq(ws.te, "chunked");
  cr_assert_str_eq(ws.cl, "-");
  cr_assert_eq(ws.body.len, sent);
  cr_assert(h_check(ws.body.buf, ws.body.len, 0));
  cr_assert_str_eq(ct_body(&t), "POST / 300000");
  ct_free(&t);
  agent_done(a);
  ws_stop();
  h_loop_done(loop);
}

Test(http_client, content_length_upload_seen_whole)
{
  wire_loop_t *loop = ws_start(ws_on_request);
  wire_agent_t *a = agent_new(5);
  wire_http_request_opts_t o = WIRE_HTTP_REQUEST_OPTS_INIT;
  o.host = "127.0.0.1";
  o.port = ws.port;
  o.method = "PUT";
  o.agent = a;
  ct_t t, t2;
  ct_start(&t, loop, &o);
  static char big[200000];
  h_fill(big, sizeof(big), 0);
  cr_assert_eq(wire_http_client_req_end(t.req, big, sizeof(big)), 0);
  H_RUN_UNTIL(loop, t.closed);
  cr_assert_eq(t.status, 200);
  cr_assert_str_eq(ws.cl, "200000");
  cr_assert_str_eq(ws.te, "-");
  cr_assert_eq(ws.body.len, sizeof(big));
  cr_assert(h_check(ws.body.buf, ws.body.len, 0));
  /* The caller's own Content-Length, body written in pieces. */
  ct_start(&t2, loop, &o);
  cr_assert_eq(wire_http_client_req_set_header(t2.req, "Content-Length", "10"),
               0);
  cr_assert_geq(wire_http_client_req_write(t2.req, "01234", 5), 0);
  cr_assert_eq(wire_http_client_req_end(t2.req, "56789", 5), 0);
  H_RUN_UNTIL(loop, t2.closed);
  cr_assert_eq(t2.status, 200);
  cr_assert_str_eq(ws.cl, "10");
  cr_assert_eq(ws.body.len, 10);
  cr_assert_eq(t2.reused, 1);
  ct_free(&t);
  ct_free(&t2);
  agent_done(a);
  ws_stop();
  h_loop_done(loop);
}

static void on_continue(wire_http_client_req_t *req, void *arg)
{
  (void)req;
  ct_t *t = arg;
  h_log(&t->log, "continue");
  /* The body so far is held; more can be written now. */
  cr_assert_geq(wire_http_client_req_end(req, "-after", 6), 0);
}

Test(http_client, expect_continue_against_the_wire_server)
{
  wire_loop_t *loop = ws_start(ws_on_request);
  wire_agent_t *a = agent_new(5);
  wire_http_request_opts_t o = WIRE_HTTP_REQUEST_OPTS_INIT;
  o.host = "127.0.0.1";
  o.port = ws.port;
  o.method = "POST";
  o.agent = a;
  const char *h[] = {"Expect", "100-continue", NULL};
  o.headers = h;
  ct_t t;
  ct_start(&t, loop, &o);
  wire_http_client_req_on_continue(t.req, on_continue);
  cr_assert_geq(wire_http_client_req_write(t.req, "before", 6), 0);
  H_RUN_UNTIL(loop, t.closed);
  cr_assert_str_eq(t.log.s, "socket continue response data end close");
  cr_assert_eq(ws.body.len, 12);
  cr_assert_eq(memcmp(ws.body.buf, "before-after", 12), 0);
  ct_free(&t);
  agent_done(a);
  ws_stop();
  h_loop_done(loop);
}

/* ---- addresses
 * -------------------------------------------------------------------- */

Test(http_client, local_address_is_seen_by_the_server)
{
  wire_loop_t *loop = ws_start(ws_on_request);
  wire_http_request_opts_t o = WIRE_HTTP_REQUEST_OPTS_INIT;
  o.host = "127.0.0.1";
  o.port = ws.port;
  o.local_address = "127.0.0.2";
  ct_t t, t2;
  ct_start(&t, loop, &o);
  wire_http_client_req_end(t.req, NULL, 0);
  H_RUN_UNTIL(loop, t.closed);
  cr_assert_eq(t.status, 200, "%s", wire_err_name(t.err));
  cr_assert_str_eq(ws.remote, "127.0.0.2");
  /* localAddress is part of the origin: a request without it does not
   * take that socket. */
  ct_get(&t2, loop, ws.port, "/", NULL);
  H_RUN_UNTIL(loop, t2.closed);
  cr_assert_str_eq(ws.remote, "127.0.0.1");
  cr_assert_eq(t2.reused, 0);
  cr_assert_eq(ws.conns, 2);
  ct_free(&t);
  ct_free(&t2);
  ws_stop();
  ct_done(loop);
}

Test(http_client, socket_path_to_a_unix_server)
{
  wire_loop_t *loop = h_loop_new();
  memset(&ws, 0, sizeof(ws));
  ws.loop = loop;
  cr_assert_eq(wire_http_server_create(loop, NULL, ws_on_request, &ws.srv), 0);
  wire_http_server_on_connection(ws.srv, ws_on_conn);
  char path[64];
  snprintf(path, sizeof(path), "/tmp/wire-hc-%d.sock", (int)getpid());
  unlink(path);
  cr_assert_eq(wire_http_server_listen_path(ws.srv, path, NULL), 0);
  wire_agent_t *a = agent_new(5);
  for (int i = 0; i < 2; i++) {
    wire_http_request_opts_t o = WIRE_HTTP_REQUEST_OPTS_INIT;
    o.socket_path = path;
    o.path = "/unix";
    o.agent = a;
    ct_t t;
    ct_start(&t, loop, &o);
    wire_http_client_req_end(t.req, NULL, 0);
    H_RUN_UNTIL(loop, t.closed);
    cr_assert_eq(t.status, 200, "%s", wire_err_name(t.err));
    cr_assert_str_eq(ct_body(&t), "GET /unix 0");
    cr_assert_eq(t.reused, i);
    ct_free(&t);
  }
  wire_agent_stats_t st;
  wire_agent_stats(a, NULL, 0, path, &st);
  cr_assert_eq(st.free_sockets, 1);
  cr_assert_eq(ws.conns, 1);
  agent_done(a);
  ws_stop();
  unlink(path);
  h_loop_done(loop);
}

/* ---- pause and resume: backpressure to the server
 * ------------------------------------ */

#define BIG (48u * 1024 * 1024)
static size_t big_sent;
static int big_done;

static void big_write(wire_http_res_t *res)
{
  static char chunk[64 * 1024];
  while (big_sent < BIG) {
    h_fill(chunk, sizeof(chunk), big_sent);
    int r = wire_http_res_write(res, chunk, sizeof(chunk));
    cr_assert_geq(r, 0);
    big_sent += sizeof(chunk);
    if (r == 0)
      return; /* wait for drain */
  }
  wire_http_res_end(res, NULL, 0);
  big_done = 1;
}

static void big_drain(wire_http_res_t *res, void *d)
{
  (void)d;
  big_write(res);
}

static void on_big(wire_http_server_t *srv, wire_http_req_t *req,
                   wire_http_res_t *res, void *d)
{
  (void)srv, (void)req, (void)d;
  char len[32];
  snprintf(len, sizeof(len), "%u", BIG);
  wire_http_res_set_header(res, "Content-Length", len);
  wire_http_res_on_drain(res, big_drain);
  big_write(res);
}

static size_t big_got;
static int big_bad;
static int big_pause;
static int big_ended;

static void big_data(wire_http_client_res_t *res, const char *b, size_t n,
                     void *arg)
{
  (void)arg;
  if (!h_check(b, n, big_got))
    big_bad = 1;
  big_got += n;
  if (big_pause)
    wire_http_client_res_pause(res);
}

static void big_end(wire_http_client_res_t *res, void *arg)
{
  (void)res, (void)arg;
  big_ended = 1;
}

static wire_http_client_res_t *big_res;
static void big_response(wire_http_client_req_t *req,
                         wire_http_client_res_t *res, void *arg)
{
  (void)req, (void)arg;
  big_res = res;
  wire_http_client_res_on_data(res, big_data);
  wire_http_client_res_on_end(res, big_end);
  wire_http_client_res_pause(res);
}

Test(http_client, pause_holds_back_the_server)
{
  wire_loop_t *loop = ws_start(on_big);
  wire_agent_t *a = agent_new(5);
  wire_http_request_opts_t o = WIRE_HTTP_REQUEST_OPTS_INIT;
  o.host = "127.0.0.1";
  o.port = ws.port;
  o.agent = a;
  wire_http_client_req_t *req;
  cr_assert_eq(wire_http_request(loop, &o, big_response, NULL, &req), 0);
  wire_http_client_req_end(req, NULL, 0);
  H_RUN_UNTIL(loop, big_res != NULL);
  /* Paused in the response event: no data while paused, and the server is
   * held back (its writes wait for drain). */
  h_idle_turns(loop, 300);
  cr_assert_eq(big_got, 0);
  cr_assert_eq(big_done, 0);
  size_t sent_while_paused = big_sent;
  cr_assert_lt(sent_while_paused, BIG / 2);
  /* Resume a piece at a time: each data event pauses again. */
  big_pause = 1;
  for (int i = 0; i < 5; i++) {
    size_t before = big_got;
    wire_http_client_res_resume(big_res);
    H_RUN_UNTIL(loop, big_got > before);
  }
  h_idle_turns(loop, 50);
  cr_assert_eq(big_done, 0);
  big_pause = 0;
  wire_http_client_res_resume(big_res);
  H_RUN_UNTIL(loop, big_ended);
  cr_assert_eq(big_got, BIG);
  cr_assert_eq(big_bad, 0);
  agent_done(a);
  ws_stop();
  h_loop_done(loop);
}

/* ---- timeouts and closing at every stage
 * ------------------------------------------- */

static wire_http_res_t *held[8];
static void on_hold(wire_http_server_t *srv, wire_http_req_t *req,
                    wire_http_res_t *res, void *d)
{
  (void)srv, (void)req, (void)d;
  cr_assert_lt(ws.requests, 8);
  held[ws.requests++] = res; /* never answered */
}

/* Drops the server's connections; the held responses are ended (they stay
 * allocated until then). */
static void release_held(void)
{
  wire_http_server_close_all(ws.srv);
  for (int i = 0; i < ws.requests; i++)
    wire_http_res_end(held[i], NULL, 0);
}

static int timeouts;
static void on_timeout(wire_http_client_req_t *req, void *arg)
{
  (void)arg;
  timeouts++;
  wire_http_client_req_close(req);
}

Test(http_client, timeout_event_for_a_server_that_never_answers)
{
  wire_loop_t *loop = ws_start(on_hold);
  wire_http_request_opts_t o = WIRE_HTTP_REQUEST_OPTS_INIT;
  o.host = "127.0.0.1";
  o.port = ws.port;
  o.timeout_ms = 100;
  ct_t t;
  ct_start(&t, loop, &o);
  wire_http_client_req_on_timeout(t.req, on_timeout);
  wire_http_client_req_end(t.req, NULL, 0);
  H_RUN_UNTIL(loop, t.closed);
  cr_assert_eq(timeouts, 1);
  cr_assert_eq(t.err, 0);
  cr_assert_str_eq(t.log.s, "socket close");
  cr_assert_eq(ws.requests, 1);
  /* The connection was not kept. */
  wire_agent_stats_t st = stats_of(wire_agent_global(loop));
  cr_assert_eq(st.sockets + st.free_sockets, 0);
  release_held();
  ws_stop();
  ct_done(loop);
}

/* Closes the request at stage `at`; the server answers slowly enough that
 * every stage is reached. */
static void run_close_at(int at)
{
  wire_loop_t *loop = ws_start(ws_on_request);
  ws.delay_ms = 10;
  wire_agent_t *a = agent_new(5);
  ct_t t;
  ct_get(&t, loop, ws.port, "/", a);
  t.close_on = at;
  H_RUN_UNTIL(loop, t.closed);
  cr_assert_eq(t.err, 0, "%s", wire_err_name(t.err));
  /* A socket whose response did not finish is never reused. */
  wire_agent_stats_t st = stats_of(a);
  cr_assert_eq(st.sockets, 0);
  /* Closing in the end event leaves the finished socket to the pool. */
  cr_assert_eq(st.free_sockets, at == CT_AT_END ? 1u : 0u);
  H_RUN_UNTIL(loop,
              wire_http_server_connections(ws.srv) == 0 || at == CT_AT_END);
  ct_free(&t);
  agent_done(a);
  ws_stop();
  h_loop_done(loop);
}

Test(http_client, close_in_the_socket_event)
{
  run_close_at(CT_AT_SOCKET);
}

Test(http_client, close_in_the_response_event)
{
  run_close_at(CT_AT_RESPONSE);
}

Test(http_client, close_in_a_data_event)
{
  run_close_at(CT_AT_DATA);
}

Test(http_client, close_in_the_end_event)
{
  run_close_at(CT_AT_END);
}

Test(http_client, close_before_it_starts_and_while_queued)
{
  wire_loop_t *loop = ws_start(ws_on_request);
  ws.delay_ms = 10;
  wire_agent_t *a = agent_new(1);
  ct_t t[4];
  for (int i = 0; i < 4; i++)
    ct_get(&t[i], loop, ws.port, "/", a);
  /* t[0] closes before the loop turns; t[2] once it waits in the queue. */
  wire_http_client_req_close(t[0].req);
  wire_http_client_req_close(t[0].req); /* twice is harmless before close */
  wire_loop_run(loop, WIRE_RUN_ONCE);
  wire_agent_stats_t st = stats_of(a);
  cr_assert_eq(st.sockets, 1);
  cr_assert_eq(st.requests, 2);
  wire_http_client_req_close(t[2].req);
  st = stats_of(a);
  cr_assert_eq(st.requests, 1);
  H_RUN_UNTIL(loop, t[0].closed && t[1].closed && t[2].closed && t[3].closed);
  cr_assert_str_eq(t[0].log.s, "close");
  cr_assert_str_eq(t[2].log.s, "close");
  cr_assert_eq(t[1].status, 200);
  cr_assert_eq(t[3].status, 200);
  cr_assert_eq(t[3].reused, 1);
  cr_assert_eq(ws.requests, 2);
  for (int i = 0; i < 4; i++) {
    cr_assert_eq(t[i].err, 0);
    ct_free(&t[i]);
  }
  agent_done(a);
  ws_stop();
  h_loop_done(loop);
}

Test(http_client, close_while_waiting_for_the_response)
{
  wire_loop_t *loop = ws_start(on_hold);
  wire_agent_t *a = agent_new(5);
  ct_t t, t2;
  ct_get(&t, loop, ws.port, "/", a);
  H_RUN_UNTIL(loop, ws.requests == 1);
  wire_http_client_req_close(t.req);
  H_RUN_UNTIL(loop, t.closed);
  cr_assert_str_eq(t.log.s, "socket close");
  wire_agent_stats_t st = stats_of(a);
  cr_assert_eq(st.sockets + st.free_sockets, 0);
  /* The next request gets a new connection. */
  ct_get(&t2, loop, ws.port, "/", a);
  H_RUN_UNTIL(loop, ws.requests == 2);
  wire_http_client_req_close(t2.req);
  H_RUN_UNTIL(loop, t2.closed);
  cr_assert_eq(ws.conns, 2);
  ct_free(&t);
  ct_free(&t2);
  agent_done(a);
  /* The server keeps serving a request whose client went (half-open):
   * drop its connections. */
  release_held();
  ws_stop();
  h_loop_done(loop);
}

/* ---- closing the agent
 * ---------------------------------------------------------------- */

Test(http_client, agent_close_free_now_active_finish_queued_cancel)
{
  wire_loop_t *loop = ws_start(ws_on_request);
  wire_agent_t *a = agent_new(1);
  /* A free socket on another origin (localhost by its other address is a
   * different origin: the host string differs). */
  wire_http_request_opts_t o = WIRE_HTTP_REQUEST_OPTS_INIT;
  o.host = "127.0.0.1";
  o.port = ws.port;
  o.path = "/free";
  o.agent = a;
  o.local_address = "127.0.0.3";
  ct_t f;
  ct_start(&f, loop, &o);
  wire_http_client_req_end(f.req, NULL, 0);
  H_RUN_UNTIL(loop, f.closed);
  cr_assert_eq(f.status, 200);
  wire_agent_stats_t st;
  wire_agent_stats(a, NULL, 0, NULL, &st);
  cr_assert_eq(st.free_sockets, 1);
  ws.delay_ms = 20;
  ct_t t[3];
  for (int i = 0; i < 3; i++)
    ct_get(&t[i], loop, ws.port, "/", a);
  wire_loop_run(loop, WIRE_RUN_ONCE);
  st = stats_of(a);
  cr_assert_eq(st.sockets, 1);
  cr_assert_eq(st.requests, 2);
  agent_closed = 0;
  wire_agent_close(a, on_agent_closed, NULL);
  wire_agent_stats(a, NULL, 0, NULL, &st);
  cr_assert_eq(st.free_sockets, 0, "free sockets are closed at once");
  cr_assert_eq(st.requests, 0);
  cr_assert_eq(st.sockets, 1);
  /* No new request on a closing agent. */
  wire_http_client_req_t *late;
  cr_assert_eq(wire_http_request(loop, &o, NULL, NULL, &late), WIRE_ECLOSED);
  H_RUN_UNTIL(loop, agent_closed == 1);
  cr_assert(t[0].closed && t[1].closed && t[2].closed);
  cr_assert_eq(t[0].status, 200);
  cr_assert(t[0].complete);
  for (int i = 1; i < 3; i++) {
    cr_assert_eq(t[i].err, WIRE_ECANCELED);
    cr_assert_str_eq(t[i].log.s, "error close");
  }
  for (int i = 0; i < 3; i++)
    ct_free(&t[i]);
  ct_free(&f);
  ws_stop();
  h_loop_done(loop);
}

Test(http_client, agent_close_with_a_request_not_yet_started)
{
  wire_loop_t *loop = ws_start(ws_on_request);
  wire_agent_t *a = agent_new(5);
  ct_t t;
  ct_get(&t, loop, ws.port, "/", a);
  agent_closed = 0;
  wire_agent_close(a, on_agent_closed, NULL);
  H_RUN_UNTIL(loop, agent_closed == 1 && t.closed);
  cr_assert_eq(t.err, WIRE_ECANCELED, "%s", wire_err_name(t.err));
  cr_assert_eq(ws.requests, 0);
  ct_free(&t);
  ws_stop();
  h_loop_done(loop);
}

/* A server in a child process, so that nothing of the parent's but the
 * global agent's live pooled socket is open when wire_loop_close runs. */
static void child_on_request(wire_http_server_t *srv, wire_http_req_t *req,
                             wire_http_res_t *res, void *d)
{
  (void)srv, (void)req, (void)d;
  wire_http_res_end(res, "child", 5);
}

static pid_t child_server(int *port)
{
  int fds[2];
  cr_assert_eq(pipe(fds), 0);
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    wire_loop_t *loop;
    wire_http_server_t *srv;
    if (wire_loop_create(&loop) < 0 ||
        wire_http_server_create(loop, NULL, child_on_request, &srv) < 0 ||
        wire_http_server_listen(srv, "127.0.0.1", 0, NULL) < 0)
      _exit(1);
    wire_addr_t a;
    wire_http_server_address(srv, &a);
    if (write(fds[1], &a.port, sizeof(a.port)) != sizeof(a.port))
      _exit(1);
    wire_loop_run(loop, WIRE_RUN_DEFAULT);
    _exit(0);
  }
  close(fds[1]);
  cr_assert_eq(read(fds[0], port, sizeof(*port)), (ssize_t)sizeof(*port));
  close(fds[0]);
  return pid;
}

Test(http_client, global_agent_with_a_live_free_socket_closes_with_the_loop)
{
  int port;
  pid_t pid = child_server(&port);
  wire_loop_t *loop = h_loop_new();
  ct_t t;
  ct_get(&t, loop, port, "/", NULL);
  H_RUN_UNTIL(loop, t.closed);
  cr_assert_eq(t.status, 200, "%s", wire_err_name(t.err));
  cr_assert_str_eq(ct_body(&t), "child");
  wire_agent_stats_t st;
  wire_agent_stats(wire_agent_global(loop), NULL, 0, NULL, &st);
  cr_assert_eq(st.free_sockets, 1);
  ct_free(&t);
  /* The idle pool does not keep the loop running... */
  h_run(loop);
  wire_agent_stats(wire_agent_global(loop), NULL, 0, NULL, &st);
  cr_assert_eq(st.free_sockets, 1);
  /* ...and wire_loop_close closes it. */
  ct_done(loop);
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
}

Test(http_client, global_agent_close_by_hand_then_loop_close)
{
  wire_loop_t *loop = ws_start(ws_on_request);
  ct_t t;
  ct_get(&t, loop, ws.port, "/", NULL);
  H_RUN_UNTIL(loop, t.closed);
  ct_free(&t);
  agent_closed = 0;
  wire_agent_close(wire_agent_global(loop), on_agent_closed, NULL);
  H_RUN_UNTIL(loop, agent_closed == 1);
  ws_stop();
  h_loop_done(loop);
}

/* ---- failures before any server
 * ---------------------------------------------------- */

static int free_port(wire_loop_t *loop)
{
  wire_server_t *s;
  cr_assert_eq(wire_server_create(loop, NULL, NULL, &s), 0);
  int port = h_listen(s, "127.0.0.1");
  wire_server_close(s, NULL);
  h_run(loop);
  return port;
}

Test(http_client, connection_refused)
{
  wire_loop_t *loop = h_loop_new();
  int port = free_port(loop);
  ct_t t;
  ct_get(&t, loop, port, "/", NULL);
  H_RUN_UNTIL(loop, t.closed);
  cr_assert_eq(t.err, WIRE_ECONNREFUSED, "%s", wire_err_name(t.err));
  cr_assert_str_eq(t.log.s, "socket error close");
  wire_agent_stats_t st;
  wire_agent_stats(wire_agent_global(loop), NULL, 0, NULL, &st);
  cr_assert_eq(st.sockets + st.free_sockets + st.requests, 0);
  ct_free(&t);
  ct_done(loop);
}

Test(http_client, close_inside_the_error_event)
{
  wire_loop_t *loop = h_loop_new();
  int port = free_port(loop);
  ct_t t;
  ct_get(&t, loop, port, "/", NULL);
  t.close_on = CT_AT_ERROR;
  H_RUN_UNTIL(loop, t.closed);
  cr_assert_eq(t.err, WIRE_ECONNREFUSED);
  h_idle_turns(loop, 20);
  cr_assert_str_eq(t.log.s, "socket error close");
  ct_free(&t);
  ct_done(loop);
}

Test(http_client, name_that_does_not_resolve)
{
  wire_loop_t *loop = h_loop_new();
  wire_http_request_opts_t o = WIRE_HTTP_REQUEST_OPTS_INIT;
  o.host = "no-such-host.invalid";
  o.port = 80;
  ct_t t;
  ct_start(&t, loop, &o);
  wire_http_client_req_end(t.req, NULL, 0);
  H_RUN_UNTIL(loop, t.closed);
  cr_assert_lt(t.err, 0);
  cr_assert_neq(t.err, WIRE_ECONNREFUSED);
  cr_assert(strncmp(wire_err_name(t.err), "WIRE_EAI_", 9) == 0 ||
                strncmp(wire_err_name(t.err), "EAI_", 4) == 0,
            "%s", wire_err_name(t.err));
  ct_free(&t);
  ct_done(loop);
}
