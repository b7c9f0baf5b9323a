/* The HTTP client against a raw server that answers with exact bytes:
 * the request's bytes on the wire (auth, Host, chunked and Content-Length
 * uploads), response framings (close-delimited, chunked with trailers,
 * HEAD/204/304), 1xx information, upgrade and CONNECT with their head
 * bytes, Expect: 100-continue and a final answer before it, the server's
 * Keep-Alive hint, idle sockets the server closes, an early answer, and
 * the retry rule. Every test ends with the leak check. */
#include "test-http-client.h"

static wire_agent_t *agent_new(unsigned max_sockets)
{
  wire_agent_opts_t ao = WIRE_AGENT_OPTS_INIT;
  ao.max_sockets = max_sockets;
  wire_agent_t *a = NULL;
  cr_assert_eq(wire_agent_create(rs.loop, &ao, &a), 0);
  return a;
}

static int agent_closed;
static void on_agent_closed(wire_agent_t *a, void *arg)
{
  (void)a, (void)arg;
  agent_closed++;
}

static void agent_done(wire_agent_t *a)
{
  agent_closed = 0;
  wire_agent_close(a, on_agent_closed, NULL);
  H_RUN_UNTIL(rs.loop, agent_closed == 1);
}

static wire_agent_stats_t stats(wire_agent_t *a)
{
  wire_agent_stats_t st;
  wire_agent_stats(a, NULL, 0, NULL, &st);
  return st;
}

/* ---- the request on the wire ------------------------------------------------
 */

static void answer_ok(rs_conn_t *c, const char *req, size_t len)
{
  (void)req, (void)len;
  rs_send(c, RS_OK_KEEP);
}

Test(http_client_raw, request_head_bytes_and_auth)
{
  wire_loop_t *loop = h_loop_new();
  rs_start(loop, answer_ok);
  wire_agent_t *a = agent_new(5);
  const char *hdrs[] = {"X-One", "1", "x-two", "two words", NULL};
  wire_http_request_opts_t o = WIRE_HTTP_REQUEST_OPTS_INIT;
  o.host = "127.0.0.1";
  o.port = rs.port;
  o.path = "/p?q=1";
  o.auth = "user:pass";
  o.headers = hdrs;
  o.agent = a;
  ct_t t;
  ct_start(&t, loop, &o);
  cr_assert_eq(wire_http_client_req_set_header(t.req, "X-One", "uno"), 0);
  cr_assert_eq(wire_http_client_req_set_header(t.req, "Bad Name", "x"),
               WIRE_EINVAL);
  cr_assert_eq(wire_http_client_req_set_header(t.req, "X-Bad", "a\r\nb: c"),
               WIRE_EINVAL);
  cr_assert_eq(wire_http_client_req_end(t.req, NULL, 0), 0);
  cr_assert_eq(wire_http_client_req_set_header(t.req, "X-Late", "1"),
               WIRE_EALREADY);
  H_RUN_UNTIL(loop, t.closed);
  cr_assert_str_eq(t.log.s, "socket response data end close");
  cr_assert_eq(t.status, 200);
  cr_assert_str_eq(ct_body(&t), "ok");
  cr_assert(t.complete);
  char want[256];
  snprintf(want, sizeof(want),
           "GET /p?q=1 HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
           "x-two: two words\r\n"
           "Authorization: Basic dXNlcjpwYXNz\r\n"
           "X-One: uno\r\n"
           "Connection: keep-alive\r\n\r\n",
           rs.port);
  h_sink_add(&rs.all, "", 1);
  cr_assert_str_eq(rs.all.buf, want);
  ct_free(&t);
  agent_done(a);
  rs_stop();
  h_loop_done(loop);
}

Test(http_client_raw, bad_options_are_einval)
{
  wire_loop_t *loop = h_loop_new();
  wire_http_client_req_t *req = NULL;
  wire_http_request_opts_t o = WIRE_HTTP_REQUEST_OPTS_INIT;
  o.host = "127.0.0.1";
  o.port = 1;
  o.no_agent = 1;
  o.path = "/a b";
  cr_assert_eq(wire_http_request(loop, &o, NULL, NULL, &req), WIRE_EINVAL);
  o.path = "/a\tb";
  cr_assert_eq(wire_http_request(loop, &o, NULL, NULL, &req), WIRE_EINVAL);
  o.path = "/";
  o.method = "GE T";
  cr_assert_eq(wire_http_request(loop, &o, NULL, NULL, &req), WIRE_EINVAL);
  o.method = NULL;
  o.host = "a\r\nX-Injected: 1";
  cr_assert_eq(wire_http_request(loop, &o, NULL, NULL, &req), WIRE_EINVAL);
  o.host = "127.0.0.1";
  const char *hdrs[] = {"X-A", "1\r\nX-B: 2", NULL};
  o.headers = hdrs;
  cr_assert_eq(wire_http_request(loop, &o, NULL, NULL, &req), WIRE_EINVAL);
  cr_assert_null(req);
  cr_assert_eq(wire_http_get(loop, "ftp://x/", NULL, NULL, &req), WIRE_EINVAL);
  cr_assert_eq(wire_http_get(loop, "http://:80/", NULL, NULL, &req),
               WIRE_EINVAL);
  cr_assert_eq(wire_http_get(loop, "http://x:99999/", NULL, NULL, &req),
               WIRE_EINVAL);
  h_loop_done(loop);
}

static h_sink_t upload;

static void keep_upload(rs_conn_t *c, const char *req, size_t len)
{
  h_sink_add(&upload, req, len);
  rs_send(c, RS_OK_KEEP);
}

Test(http_client_raw, chunked_upload_bytes)
{
  wire_loop_t *loop = h_loop_new();
  rs_start(loop, keep_upload);
  wire_agent_t *a = agent_new(5);
  wire_http_request_opts_t o = WIRE_HTTP_REQUEST_OPTS_INIT;
  o.host = "127.0.0.1";
  o.port = rs.port;
  o.method = "POST";
  o.path = "/up";
  o.agent = a;
  ct_t t;
  ct_start(&t, loop, &o);
  cr_assert_eq(wire_http_client_req_write(t.req, "hello ", 6), 1);
  cr_assert_eq(wire_http_client_req_write(t.req, "", 0), 1);
  cr_assert_eq(wire_http_client_req_write(t.req, "chunked world", 13), 1);
  cr_assert_eq(wire_http_client_req_end(t.req, "!", 1), 0);
  cr_assert_eq(wire_http_client_req_end(t.req, NULL, 0), WIRE_EWRITEAFTEREND);
  cr_assert_eq(wire_http_client_req_write(t.req, "x", 1), WIRE_EWRITEAFTEREND);
  H_RUN_UNTIL(loop, t.closed);
  cr_assert_eq(t.status, 200);
  h_sink_add(&upload, "", 1);
  char want[512];
  snprintf(want, sizeof(want),
           "POST /up HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
           "Connection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"
           "6\r\nhello \r\nd\r\nchunked world\r\n1\r\n!\r\n0\r\n\r\n",
           rs.port);
  cr_assert_str_eq(upload.buf, want);
  h_sink_free(&upload);
  ct_free(&t);
  agent_done(a);
  rs_stop();
  h_loop_done(loop);
}

Test(http_client_raw, content_length_upload_bytes)
{
  wire_loop_t *loop = h_loop_new();
  rs_start(loop, keep_upload);
  wire_agent_t *a = agent_new(5);
  wire_http_request_opts_t o = WIRE_HTTP_REQUEST_OPTS_INIT;
  o.host = "127.0.0.1";
  o.port = rs.port;
  o.method = "PUT";
  o.agent = a;
  ct_t t, t2;
  ct_start(&t, loop, &o);
  cr_assert_eq(wire_http_client_req_end(t.req, "0123456789", 10), 0);
  /* A POST with no body says Content-Length: 0 (as Node). */
  o.method = "POST";
  ct_start(&t2, loop, &o);
  cr_assert_eq(wire_http_client_req_end(t2.req, NULL, 0), 0);
  H_RUN_UNTIL(loop, t.closed && t2.closed);
  cr_assert_eq(t.status, 200);
  cr_assert_eq(t2.status, 200);
  h_sink_add(&upload, "", 1);
  char want[512];
  snprintf(want, sizeof(want),
           "PUT / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
           "Connection: keep-alive\r\nContent-Length: 10\r\n\r\n0123456789",
           rs.port);
  cr_assert(strstr(upload.buf, want) != NULL, "%s", upload.buf);
  snprintf(want, sizeof(want),
           "POST / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
           "Connection: keep-alive\r\nContent-Length: 0\r\n\r\n",
           rs.port);
  cr_assert(strstr(upload.buf, want) != NULL, "%s", upload.buf);
  h_sink_free(&upload);
  ct_free(&t);
  ct_free(&t2);
  agent_done(a);
  rs_stop();
  h_loop_done(loop);
}

/* ---- response framings
 * --------------------------------------------------------- */

static const char *canned;
static int canned_close; /* 1: end after writing, 2: reset */

static void answer_canned(rs_conn_t *c, const char *req, size_t len)
{
  (void)req, (void)len;
  rs_send(c, canned);
  if (canned_close == 1)
    wire_socket_end(c->s);
  else if (canned_close == 2) {
    c->closed = 1;
    wire_socket_reset(c->s, NULL);
  }
}

/* One request through a fresh agent against a canned answer. */
static void run_canned(ct_t *t, const char *method, const char *answer,
                       int close_after, uint64_t max_body)
{
  wire_loop_t *loop = h_loop_new();
  canned = answer;
  canned_close = close_after;
  rs_start(loop, answer_canned);
  wire_agent_t *a = agent_new(5);
  wire_http_request_opts_t o = WIRE_HTTP_REQUEST_OPTS_INIT;
  o.host = "127.0.0.1";
  o.port = rs.port;
  o.method = method;
  o.agent = a;
  o.max_body_size = max_body;
  ct_start(t, loop, &o);
  cr_assert_eq(wire_http_client_req_end(t->req, NULL, 0), 0);
  H_RUN_UNTIL(loop, t->closed);
  agent_done(a);
  rs_stop();
  h_loop_done(loop);
}

Test(http_client_raw, close_delimited_body)
{
  ct_t t;
  run_canned(&t, "GET", "HTTP/1.0 200 OK\r\nX-A: b\r\n\r\nuntil the close", 1,
             0);
  cr_assert_str_eq(t.log.s, "socket response data end close");
  cr_assert_str_eq(ct_body(&t), "until the close");
  cr_assert(t.complete);
  cr_assert_eq(t.err, 0);
  ct_free(&t);
}

Test(http_client_raw, chunked_body_with_trailers)
{
  ct_t t;
  memset(&t, 0, sizeof(t));
  run_canned(&t, "GET",
             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
             "Trailer: X-Sum\r\n\r\n"
             "5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n"
             "0\r\nX-Sum: 42\r\nX-Other: y\r\n\r\n",
             0, 0);
  cr_assert_str_eq(t.log.s, "socket response data end close");
  cr_assert_str_eq(ct_body(&t), "hello world");
  cr_assert(t.complete);
  ct_free(&t);
}

static const char *trailer_seen;
static void on_end_trailer(wire_http_client_res_t *res, void *arg)
{
  (void)arg;
  const char *v = wire_http_client_res_trailer(res, "x-sum");
  trailer_seen = v != NULL && strcmp(v, "42") == 0 ? "42" : "missing";
  cr_assert_null(wire_http_client_res_trailer(res, "Trailer"));
  cr_assert_str_eq(wire_http_client_res_header(res, "trailer"), "X-Sum");
}
static void on_resp_trailer(wire_http_client_req_t *req,
                            wire_http_client_res_t *res, void *arg)
{
  (void)req, (void)arg;
  wire_http_client_res_on_end(res, on_end_trailer);
}

Test(http_client_raw, trailers_readable_at_end)
{
  wire_loop_t *loop = h_loop_new();
  canned = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
           "Trailer: X-Sum\r\n\r\n2\r\nab\r\n0\r\nX-Sum: 42\r\n\r\n";
  canned_close = 0;
  rs_start(loop, answer_canned);
  wire_http_request_opts_t o = WIRE_HTTP_REQUEST_OPTS_INIT;
  o.host = "127.0.0.1";
  o.port = rs.port;
  o.no_agent = 1;
  wire_http_client_req_t *req;
  cr_assert_eq(wire_http_request(loop, &o, on_resp_trailer, NULL, &req), 0);
  wire_http_client_req_end(req, NULL, 0);
  H_RUN_UNTIL(loop, trailer_seen != NULL);
  cr_assert_str_eq(trailer_seen, "42");
  H_RUN_UNTIL(loop, rs.open == 0);
  rs_stop();
  h_loop_done(loop);
}

static int nheads;
static void answer_no_body(rs_conn_t *c, const char *req, size_t len)
{
  (void)len;
  nheads++;
  if (strncmp(req, "HEAD ", 5) == 0)
    rs_send(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
  else if (strstr(req, "/204") != NULL)
    rs_send(c, "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n");
  else if (strstr(req, "/304") != NULL)
    rs_send(c, "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n");
  else
    rs_send(c, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlast");
}

Test(http_client_raw, head_204_304_have_no_body)
{
  wire_loop_t *loop = h_loop_new();
  rs_start(loop, answer_no_body);
  wire_agent_t *a = agent_new(1);
  const char *paths[] = {"/head", "/204", "/304", "/last"};
  ct_t t[4];
  for (int i = 0; i < 4; i++) {
    wire_http_request_opts_t o = WIRE_HTTP_REQUEST_OPTS_INIT;
    o.host = "127.0.0.1";
    o.port = rs.port;
    o.agent = a;
    o.path = paths[i];
    o.method = i == 0 ? "HEAD" : "GET";
    ct_start(&t[i], loop, &o);
    wire_http_client_req_end(t[i].req, NULL, 0);
  }
  H_RUN_UNTIL(loop, t[3].closed);
  int want[] = {200, 204, 304, 200};
  for (int i = 0; i < 4; i++) {
    cr_assert_eq(t[i].status, want[i]);
    cr_assert_eq(t[i].err, 0);
    cr_assert(t[i].complete);
    cr_assert_str_eq(t[i].log.s, i < 3 ? "socket response end close"
                                       : "socket response data end close");
  }
  cr_assert_str_eq(ct_body(&t[3]), "last");
  /* All four on one kept-alive connection: no body bytes were expected
   * where none came. */
  cr_assert_eq(rs.conns, 1);
  cr_assert_eq(stats(a).reused, 3);
  for (int i = 0; i < 4; i++)
    ct_free(&t[i]);
  agent_done(a);
  rs_stop();
  h_loop_done(loop);
}

/* ---- bad responses
 * ------------------------------------------------------------- */

static void answer_part(rs_conn_t *c, const char *req, size_t len)
{
  (void)req, (void)len;
  rs_send(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly a part");
}

Test(http_client_raw, reset_in_the_body_is_an_error)
{
  /* The server resets once the client has the first part of the body (a
   * reset that arrives first makes the kernel drop what was unread). */
  wire_loop_t *loop = h_loop_new();
  rs_start(loop, answer_part);
  wire_agent_t *a = agent_new(5);
  ct_t t;
  ct_get(&t, loop, rs.port, "/", a);
  H_RUN_UNTIL(loop, t.ndata > 0);
  rs.c[0]->closed = 1;
  wire_socket_reset(rs.c[0]->s, NULL);
  H_RUN_UNTIL(loop, t.closed);
  cr_assert_eq(t.err, WIRE_ECONNRESET, "%s", wire_err_name(t.err));
  cr_assert_eq(t.complete, 0);
  cr_assert_eq(t.ended, 0);
  cr_assert_str_eq(t.log.s, "socket response data error close");
  cr_assert_str_eq(ct_body(&t), "only a part");
  cr_assert_eq(stats(a).sockets + stats(a).free_sockets, 0);
  ct_free(&t);
  agent_done(a);
  rs_stop();
  h_loop_done(loop);
}

Test(http_client_raw, fin_in_the_body_is_an_error)
{
  ct_t t;
  run_canned(&t, "GET",
             "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly a part", 1,
             0);
  cr_assert_lt(t.err, 0);
  cr_assert_eq(t.complete, 0);
  cr_assert_eq(t.ended, 0);
  cr_assert_str_eq(t.log.s, "socket response data error close");
  ct_free(&t);
}

Test(http_client_raw, fin_in_a_chunked_body_is_an_error)
{
  ct_t t;
  run_canned(&t, "GET",
             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
             "5\r\nhello\r\n",
             1, 0);
  cr_assert_lt(t.err, 0);
  cr_assert_eq(t.complete, 0);
  cr_assert_eq(t.ended, 0);
  ct_free(&t);
}

Test(http_client_raw, malformed_response_is_a_parse_error)
{
  ct_t t;
  run_canned(&t, "GET", "HTTP/1.1 2x0 OK\r\n\r\n", 0, 0);
  cr_assert_eq(t.err, WIRE_EHTTPPARSE, "%s", wire_err_name(t.err));
  cr_assert_str_eq(t.log.s, "socket error close");
  ct_free(&t);
}

Test(http_client_raw, response_past_max_body_size)
{
  ct_t t;
  run_canned(&t, "GET",
             "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n"
             "01234567890123456789",
             0, 10);
  cr_assert_eq(t.err, WIRE_ETOOBIG, "%s", wire_err_name(t.err));
  cr_assert_eq(t.complete, 0);
  cr_assert_eq(t.body.len, 0, "bytes past the cap were delivered");
  ct_free(&t);
}

Test(http_client_raw, response_at_max_body_size)
{
  ct_t t;
  run_canned(&t, "GET",
             "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", 0, 10);
  cr_assert_eq(t.err, 0);
  cr_assert(t.complete);
  ct_free(&t);
}

Test(http_client_raw, closed_before_any_response_is_an_error)
{
  ct_t t;
  run_canned(&t, "GET", "", 1, 0);
  cr_assert_eq(t.err, WIRE_ECONNRESET, "%s", wire_err_name(t.err));
  cr_assert_str_eq(t.log.s, "socket error close");
  ct_free(&t);
}

/* ---- 1xx, upgrade, CONNECT
 * --------------------------------------------------------- */

static h_log_t info_log;
static void on_info(wire_http_client_req_t *req, wire_http_client_res_t *res,
                    void *arg)
{
  (void)req, (void)arg;
  char tag[128];
  const char *link = wire_http_client_res_header(res, "link");
  snprintf(tag, sizeof(tag), "info%d:%s", wire_http_client_res_status(res),
           link ? link : "-");
  h_log(&info_log, tag);
}

Test(http_client_raw, information_103_then_the_response)
{
  wire_loop_t *loop = h_loop_new();
  canned = "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
           "HTTP/1.1 102 Processing\r\n\r\n"
           "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Final: 1\r\n\r\nok";
  canned_close = 0;
  rs_start(loop, answer_canned);
  wire_agent_t *a = agent_new(5);
  wire_http_request_opts_t o = WIRE_HTTP_REQUEST_OPTS_INIT;
  o.host = "127.0.0.1";
  o.port = rs.port;
  o.agent = a;
  ct_t t;
  ct_start(&t, loop, &o);
  memset(&info_log, 0, sizeof(info_log));
  wire_http_client_req_on_information(t.req, on_info);
  wire_http_client_req_end(t.req, NULL, 0);
  H_RUN_UNTIL(loop, t.closed);
  cr_assert_str_eq(info_log.s, "info103:</a.css>; rel=preload info102:-");
  cr_assert_eq(t.status, 200);
  cr_assert_str_eq(ct_body(&t), "ok");
  cr_assert(t.complete);
  ct_free(&t);
  agent_done(a);
  rs_stop();
  h_loop_done(loop);
}

static h_sink_t tunnel;
static wire_socket_t *tunnel_sock;
static int tunnel_status;
static int tunnel_closed;

static void tunnel_data(wire_socket_t *s, const char *b, size_t n, void *d)
{
  (void)s, (void)d;
  h_sink_add(&tunnel, b, n);
}
static void tunnel_close(wire_socket_t *s, int had_error, void *d)
{
  (void)s, (void)had_error, (void)d;
  tunnel_closed = 1;
}

static void on_tunnel(wire_http_client_req_t *req, wire_http_client_res_t *res,
                      wire_socket_t *s, const char *head, size_t len, void *arg)
{
  (void)req;
  ct_t *t = arg;
  h_log(&t->log, "tunnel");
  tunnel_status = wire_http_client_res_status(res);
  h_sink_add(&tunnel, head, len);
  tunnel_sock = s;
  wire_socket_on_data(s, tunnel_data);
  wire_socket_on_close(s, tunnel_close);
  cr_assert_geq(wire_socket_write(s, "ping", 4), 0);
}

static void tunnel_server(rs_conn_t *c)
{
  /* The head arrives, then the bytes the client sends through the tunnel:
   * answer the head once with the bytes after it, echo the rest. */
  if (c->nreq == 0 && memmem(c->in.buf, c->in.len, "\r\n\r\n", 4) != NULL) {
    c->nreq = 1;
    rs_send(c, canned);
    c->in.len = 0;
    return;
  }
  if (c->nreq == 1 && c->in.len > 0) {
    cr_assert_geq(wire_socket_write(c->s, c->in.buf, c->in.len), 0);
    c->in.len = 0;
  }
}

static void run_tunnel(const char *method, const char *answer, int connect)
{
  wire_loop_t *loop = h_loop_new();
  canned = answer;
  rs_start(loop, NULL);
  rs.on_bytes = tunnel_server;
  wire_agent_t *a = agent_new(5);
  wire_http_request_opts_t o = WIRE_HTTP_REQUEST_OPTS_INIT;
  o.host = "127.0.0.1";
  o.port = rs.port;
  o.agent = a;
  o.method = method;
  o.path = connect ? "example.com:443" : "/chat";
  const char *h[] = {"Connection", "Upgrade", "Upgrade", "x-test", NULL};
  if (!connect)
    o.headers = h;
  ct_t t;
  ct_start(&t, loop, &o);
  memset(&tunnel, 0, sizeof(tunnel));
  tunnel_sock = NULL;
  tunnel_closed = 0;
  if (connect)
    wire_http_client_req_on_connect(t.req, on_tunnel);
  else
    wire_http_client_req_on_upgrade(t.req, on_tunnel);
  wire_http_client_req_end(t.req, NULL, 0);
  /* The head bytes ("hi there") came with the response head; "ping" went
   * through the tunnel and came back. */
  H_RUN_UNTIL(loop, tunnel.len >= 12);
  h_sink_add(&tunnel, "", 1);
  cr_assert_str_eq(tunnel.buf, "hi thereping");
  cr_assert_eq(tunnel_status, connect ? 200 : 101);
  H_RUN_UNTIL(loop, t.closed);
  cr_assert_str_eq(t.log.s, "socket tunnel close");
  cr_assert_eq(t.err, 0);
  /* The socket left the pool: it is the caller's now. */
  wire_agent_stats_t st = stats(a);
  cr_assert_eq(st.sockets, 0);
  cr_assert_eq(st.free_sockets, 0);
  wire_socket_close(tunnel_sock, NULL);
  H_RUN_UNTIL(loop, tunnel_closed);
  h_sink_free(&tunnel);
  ct_free(&t);
  agent_done(a);
  rs_stop();
  h_loop_done(loop);
}

Test(http_client_raw, upgrade_with_head_bytes)
{
  run_tunnel("GET",
             "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
             "Upgrade: x-test\r\n\r\nhi there",
             0);
}

Test(http_client_raw, connect_with_head_bytes)
{
  run_tunnel("CONNECT", "HTTP/1.1 200 Connection Established\r\n\r\nhi there",
             1);
}

/* ---- Expect: 100-continue
 * ------------------------------------------------------ */

static int expect_mode; /* 0: 100 then 200; 1: 417 at once */

static void expect_server(rs_conn_t *c)
{
  char *e = memmem(c->in.buf, c->in.len, "\r\n\r\n", 4);
  if (e == NULL)
    return;
  size_t head = (size_t)(e + 4 - c->in.buf);
  if (c->nreq == 0) {
    c->nreq = 1;
    /* The body must not have come with the head. */
    cr_assert_eq(c->in.len, head, "the body came before 100 Continue");
    if (expect_mode == 0) {
      rs_send(c, "HTTP/1.1 100 Continue\r\n\r\n");
    } else {
      rs_send(c, "HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n"
                 "\r\n");
    }
    return;
  }
  if (expect_mode == 0 && c->nreq == 1 && c->in.len >= head + 5) {
    c->nreq = 2;
    cr_assert_eq(memcmp(c->in.buf + head, "hello", 5), 0);
    rs_send(c, RS_OK_KEEP);
  }
}

static void on_continue(wire_http_client_req_t *req, void *arg)
{
  (void)req;
  ct_t *t = arg;
  h_log(&t->log, "continue");
}

static void run_expect(ct_t *t, int mode)
{
  wire_loop_t *loop = h_loop_new();
  expect_mode = mode;
  rs_start(loop, NULL);
  rs.on_bytes = expect_server;
  wire_agent_t *a = agent_new(5);
  wire_http_request_opts_t o = WIRE_HTTP_REQUEST_OPTS_INIT;
  o.host = "127.0.0.1";
  o.port = rs.port;
  o.agent = a;
  o.method = "POST";
  const char *h[] = {"Expect", "100-continue", NULL};
  o.headers = h;
  ct_start(t, loop, &o);
  wire_http_client_req_on_continue(t->req, on_continue);
  cr_assert_geq(wire_http_client_req_end(t->req, "hello", 5), 0);
  H_RUN_UNTIL(loop, t->closed);
  if (mode == 1) {
    /* Give a body sent by mistake the time to arrive. */
    h_idle_turns(loop, 100);
    cr_assert(!rs_has("hello"), "the body was sent after a 417");
    /* The connection cannot carry another request. */
    cr_assert_eq(stats(a).free_sockets, 0);
  } else {
    cr_assert_eq(stats(a).free_sockets, 1);
  }
  agent_done(a);
  rs_stop();
  h_loop_done(loop);
}

Test(http_client_raw, expect_continue_sends_the_body_after_100)
{
  ct_t t;
  run_expect(&t, 0);
  cr_assert_str_eq(t.log.s, "socket continue response data end close");
  cr_assert_eq(t.status, 200);
  ct_free(&t);
}

Test(http_client_raw, expect_continue_417_drops_the_body)
{
  ct_t t;
  run_expect(&t, 1);
  cr_assert_str_eq(t.log.s, "socket response end close");
  cr_assert_eq(t.status, 417);
  ct_free(&t);
}

/* ---- keep-alive, idle sockets, early answers
 * -------------------------------------- */

static void tick(wire_timer_t *t, void *d)
{
  (void)t, (void)d;
}

static void answer_hint(rs_conn_t *c, const char *req, size_t len)
{
  (void)req, (void)len;
  rs_send(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
             "Keep-Alive: timeout=2\r\n\r\nok");
}

Test(http_client_raw, keep_alive_timeout_hint_closes_the_idle_socket)
{
  /* The agent would keep the socket a minute; the server said 2 s: the
   * agent closes it before (at 1 s, as Node), and the deadline (15 s)
   * catches an agent that does not. */
  wire_loop_t *loop = h_loop_new();
  rs_start(loop, answer_hint);
  wire_agent_opts_t ao = WIRE_AGENT_OPTS_INIT;
  ao.free_socket_timeout_ms = 60000;
  wire_agent_t *a;
  cr_assert_eq(wire_agent_create(loop, &ao, &a), 0);
  ct_t t, t2;
  ct_get(&t, loop, rs.port, "/", a);
  H_RUN_UNTIL(loop, t.closed);
  cr_assert_eq(stats(a).free_sockets, 1);
  /* The free socket does not keep the loop alive, so run the loop on a
   * timer until the server sees the client's FIN. */
  wire_timer_t *keep;
  cr_assert_eq(wire_timer_create(loop, &keep), 0);
  cr_assert_eq(wire_timer_start(keep, 100, 100, tick), 0);
  H_RUN_UNTIL(loop, rs.closed_by_client == 1);
  wire_timer_close(keep, NULL);
  cr_assert_eq(stats(a).free_sockets, 0);
  ct_get(&t2, loop, rs.port, "/", a);
  H_RUN_UNTIL(loop, t2.closed);
  cr_assert_eq(t2.err, 0);
  cr_assert_eq(t2.status, 200);
  cr_assert_eq(t2.reused, 0);
  cr_assert_eq(rs.conns, 2);
  ct_free(&t);
  ct_free(&t2);
  agent_done(a);
  rs_stop();
  h_loop_done(loop);
}

static void answer_hint_1s(rs_conn_t *c, const char *req, size_t len)
{
  (void)req, (void)len;
  rs_send(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
             "Keep-Alive: timeout=1\r\n\r\nok");
}

Test(http_client_raw, keep_alive_timeout_of_1s_is_not_reused)
{
  /* timeout=1 leaves no margin: Node does not keep such a socket. */
  wire_loop_t *loop = h_loop_new();
  rs_start(loop, answer_hint_1s);
  wire_agent_t *a = agent_new(5);
  ct_t t;
  ct_get(&t, loop, rs.port, "/", a);
  H_RUN_UNTIL(loop, t.closed);
  cr_assert_eq(t.status, 200);
  cr_assert_eq(stats(a).free_sockets, 0);
  H_RUN_UNTIL(loop, rs.open == 0);
  ct_free(&t);
  agent_done(a);
  rs_stop();
  h_loop_done(loop);
}

static void answer_then_close(rs_conn_t *c, const char *req, size_t len)
{
  (void)req, (void)len;
  rs_send(c, RS_OK_KEEP);
  wire_socket_end(c->s);
}

Test(http_client_raw, idle_socket_closed_by_the_server_leaves_the_pool)
{
  wire_loop_t *loop = h_loop_new();
  rs_start(loop, answer_then_close);
  wire_agent_t *a = agent_new(5);
  ct_t t, t2;
  ct_get(&t, loop, rs.port, "/", a);
  H_RUN_UNTIL(loop, t.closed && rs.open == 0);
  H_RUN_UNTIL(loop, stats(a).free_sockets == 0);
  cr_assert_eq(stats(a).sockets, 0);
  ct_get(&t2, loop, rs.port, "/", a);
  H_RUN_UNTIL(loop, t2.closed);
  cr_assert_eq(t2.err, 0);
  cr_assert_eq(t2.status, 200);
  cr_assert_eq(t2.reused, 0);
  cr_assert_eq(rs.conns, 2);
  ct_free(&t);
  ct_free(&t2);
  agent_done(a);
  rs_stop();
  h_loop_done(loop);
}

/* The next request starts from the close event of the one before, on the
 * turn the server's FIN (right after a keep-alive answer) arrives: the
 * dying socket must not be handed out, nor be counted twice. */
static wire_agent_t *chain_agent;
static ct_t chain[6];
static int chain_n;

static void chain_close(wire_http_client_req_t *req, void *arg)
{
  ct_on_close(req, arg);
  if (chain_n < 6) {
    ct_t *t = &chain[chain_n++];
    ct_get(t, rs.loop, rs.port, "/", chain_agent);
    wire_http_client_req_on_close(t->req, chain_close);
  }
}

Test(http_client_raw, request_from_close_event_after_server_fin)
{
  wire_loop_t *loop = h_loop_new();
  rs_start(loop, answer_then_close);
  chain_agent = agent_new(5);
  chain_n = 1;
  ct_get(&chain[0], loop, rs.port, "/", chain_agent);
  wire_http_client_req_on_close(chain[0].req, chain_close);
  H_RUN_UNTIL(loop, chain_n == 6 && chain[5].closed);
  for (int i = 0; i < 6; i++) {
    cr_assert_eq(chain[i].err, 0, "request %d: %s", i,
                 wire_err_name(chain[i].err));
    cr_assert_eq(chain[i].status, 200);
    ct_free(&chain[i]);
  }
  H_RUN_UNTIL(loop, stats(chain_agent).free_sockets == 0);
  wire_agent_stats_t st = stats(chain_agent);
  cr_assert_eq(st.sockets, 0, "sockets %u", st.sockets);
  cr_assert_eq(st.requests, 0);
  agent_done(chain_agent);
  rs_stop();
  h_loop_done(loop);
}

static void answer_early(rs_conn_t *c)
{
  /* Answer as soon as the head is in, before the body ends. */
  if (c->nreq == 0 && memmem(c->in.buf, c->in.len, "\r\n\r\n", 4) != NULL) {
    c->nreq = 1;
    rs_send(c, RS_OK_KEEP);
  }
}

static int late_end;
static void end_in_close(wire_http_client_req_t *req, void *arg)
{
  late_end = wire_http_client_req_end(req, "rest", 4);
  ct_on_close(req, arg);
}

Test(http_client_raw, early_answer_before_the_end_is_not_reused)
{
  wire_loop_t *loop = h_loop_new();
  rs_start(loop, NULL);
  rs.on_bytes = answer_early;
  wire_agent_t *a = agent_new(5);
  wire_http_request_opts_t o = WIRE_HTTP_REQUEST_OPTS_INIT;
  o.host = "127.0.0.1";
  o.port = rs.port;
  o.agent = a;
  o.method = "POST";
  ct_t t;
  ct_start(&t, loop, &o);
  wire_http_client_req_on_close(t.req, end_in_close);
  cr_assert_eq(wire_http_client_req_write(t.req, "part", 4), 1);
  H_RUN_UNTIL(loop, t.closed);
  cr_assert_eq(t.status, 200);
  cr_assert(t.complete);
  /* The rest of the body can no longer go anywhere. */
  cr_assert_eq(late_end, WIRE_ECLOSED);
  cr_assert_eq(stats(a).free_sockets, 0);
  H_RUN_UNTIL(loop, rs.open == 0);
  ct_free(&t);
  agent_done(a);
  rs_stop();
  h_loop_done(loop);
}

/* ---- the retry rule
 * ------------------------------------------------------------ */

/* Connection 0 answers its first request with keep-alive and drops the
 * socket when the second arrives, without answering. Later connections
 * answer (retry_fresh_fails == 0) or drop at once (1). */
static int retry_fresh_fails;
static int retry_reset;
/* The request connection 0 dropped, and the first one a later connection
 * saw: a retry sends the same bytes again. */
static char retry_dropped[256], retry_again[256];

static void retry_server(rs_conn_t *c, const char *req, size_t len)
{
  if (c->id == 0 && c->nreq == 2)
    snprintf(retry_dropped, sizeof(retry_dropped), "%.*s", (int)len, req);
  if (c->id > 0 && c->nreq == 1)
    snprintf(retry_again, sizeof(retry_again), "%.*s", (int)len, req);
  if ((c->id == 0 && c->nreq == 2) || (c->id > 0 && retry_fresh_fails)) {
    c->closed = 1;
    if (retry_reset)
      wire_socket_reset(c->s, NULL);
    else
      wire_socket_close(c->s, NULL);
    return;
  }
  rs_send(c, RS_OK_KEEP);
}

/* stream: the body's first half is written before the socket is assigned,
 * the rest after, straight onto the reused socket. */
static void run_retry_body(ct_t *t2, const char *method, int fresh_fails,
                           int reset, int stream)
{
  wire_loop_t *loop = h_loop_new();
  retry_fresh_fails = fresh_fails;
  retry_reset = reset;
  retry_dropped[0] = retry_again[0] = '\0';
  rs_start(loop, retry_server);
  wire_agent_t *a = agent_new(5);
  ct_t t;
  ct_get(&t, loop, rs.port, "/first", a);
  H_RUN_UNTIL(loop, t.closed);
  cr_assert_eq(t.status, 200);
  cr_assert_eq(stats(a).free_sockets, 1);
  wire_http_request_opts_t o = WIRE_HTTP_REQUEST_OPTS_INIT;
  o.host = "127.0.0.1";
  o.port = rs.port;
  o.agent = a;
  o.method = method;
  o.path = "/second";
  ct_start(t2, loop, &o);
  if (stream) {
    cr_assert_geq(wire_http_client_req_write(t2->req, "bo", 2), 0);
    H_RUN_UNTIL(loop, strstr(t2->log.s, "socket") != NULL);
    cr_assert_geq(wire_http_client_req_end(t2->req, "dy", 2), 0);
  } else {
    cr_assert_geq(wire_http_client_req_end(t2->req, "body", 4), 0);
  }
  H_RUN_UNTIL(loop, t2->closed);
  H_RUN_UNTIL(loop, (unsigned)rs.open == stats(a).free_sockets);
  wire_agent_stats_t st = stats(a);
  cr_assert_eq(st.sockets, 0);
  cr_assert_eq(st.requests, 0);
  ct_free(&t);
  agent_done(a);
  rs_stop();
  h_loop_done(loop);
}

static void run_retry(ct_t *t2, const char *method, int fresh_fails, int reset)
{
  run_retry_body(t2, method, fresh_fails, reset, 0);
}

Test(http_client_raw, retry_idempotent_get_once_on_a_fresh_connection)
{
  ct_t t;
  run_retry(&t, "GET", 0, 0);
  cr_assert_eq(t.err, 0, "%s", wire_err_name(t.err));
  cr_assert_eq(t.status, 200);
  cr_assert_str_eq(t.log.s, "socket socket response data end close");
  cr_assert_eq(t.reused, 0);
  cr_assert_eq(rs.conns, 2);
  cr_assert_eq(rs.requests, 3);
  cr_assert(strstr(retry_dropped, "GET /second HTTP/1.1\r\n") == retry_dropped,
            "%s", retry_dropped);
  cr_assert(strstr(retry_dropped, "\r\n\r\nbody") != NULL, "%s",
            retry_dropped);
  cr_assert_str_eq(retry_again, retry_dropped);
  ct_free(&t);
}

Test(http_client_raw, retry_after_a_reset_too)
{
  ct_t t;
  run_retry(&t, "PUT", 0, 1);
  cr_assert_eq(t.err, 0, "%s", wire_err_name(t.err));
  cr_assert_eq(t.status, 200);
  cr_assert_eq(rs.conns, 2);
  cr_assert(strstr(retry_dropped, "PUT /second HTTP/1.1\r\n") == retry_dropped,
            "%s", retry_dropped);
  cr_assert_str_eq(retry_again, retry_dropped);
  ct_free(&t);
}

Test(http_client_raw, retry_resends_a_body_written_on_the_reused_socket)
{
  ct_t t;
  run_retry_body(&t, "PUT", 0, 0, 1);
  cr_assert_eq(t.err, 0, "%s", wire_err_name(t.err));
  cr_assert_eq(t.status, 200);
  cr_assert_eq(rs.conns, 2);
  cr_assert(strstr(retry_dropped, "\r\n\r\n2\r\nbo\r\n2\r\ndy\r\n0\r\n\r\n") !=
                NULL,
            "%s", retry_dropped);
  cr_assert_str_eq(retry_again, retry_dropped);
  ct_free(&t);
}

Test(http_client_raw, retry_post_is_not_retried)
{
  ct_t t;
  run_retry(&t, "POST", 0, 0);
  cr_assert_eq(t.err, WIRE_ECONNRESET, "%s", wire_err_name(t.err));
  cr_assert_str_eq(t.log.s, "socket error close");
  cr_assert_eq(rs.conns, 1);
  cr_assert_eq(rs.requests, 2);
  ct_free(&t);
}

Test(http_client_raw, retry_happens_only_once)
{
  ct_t t;
  run_retry(&t, "GET", 1, 0);
  cr_assert_eq(t.err, WIRE_ECONNRESET, "%s", wire_err_name(t.err));
  cr_assert_str_eq(t.log.s, "socket socket error close");
  cr_assert_eq(rs.conns, 2);
  cr_assert_eq(rs.requests, 3);
  ct_free(&t);
}

static void retry_partial_server(rs_conn_t *c, const char *req, size_t len)
{
  (void)req, (void)len;
  if (c->nreq == 2) {
    /* A byte of the response came: no retry. */
    rs_send(c, "HTTP/1.1 200");
    c->closed = 1;
    wire_socket_end(c->s);
    return;
  }
  rs_send(c, RS_OK_KEEP);
}

Test(http_client_raw, no_retry_once_the_response_began)
{
  wire_loop_t *loop = h_loop_new();
  rs_start(loop, retry_partial_server);
  wire_agent_t *a = agent_new(5);
  ct_t t, t2;
  ct_get(&t, loop, rs.port, "/", a);
  H_RUN_UNTIL(loop, t.closed);
  ct_get(&t2, loop, rs.port, "/", a);
  H_RUN_UNTIL(loop, t2.closed);
  cr_assert_lt(t2.err, 0);
  cr_assert_eq(rs.conns, 1);
  cr_assert_eq(rs.requests, 2);
  ct_free(&t);
  ct_free(&t2);
  agent_done(a);
  rs_stop();
  h_loop_done(loop);
}

Test(http_client_raw, no_retry_on_a_fresh_connection)
{
  ct_t t;
  run_canned(&t, "GET", "", 1, 0);
  cr_assert_eq(t.err, WIRE_ECONNRESET);
  cr_assert_eq(rs.conns, 1);
  ct_free(&t);
}
