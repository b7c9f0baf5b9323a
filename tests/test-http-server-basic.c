/* The HTTP server, request and response side: keep-alive, bodies both
 * ways, HEAD/204/304, HTTP/1.0, the header API, trailers, pipelining in
 * order, 10,000 requests on one connection, pause/resume, upgrade and
 * CONNECT, Expect. A raw TCP client checks the exact bytes. */
#include "test-http-server.h"

static int nreq;

/* ---- keep-alive and the response head -------------------------------------- */

static void on_hello(wire_http_server_t *srv, wire_http_req_t *req,
                     wire_http_res_t *res, void *d)
{
  (void)srv, (void)d;
  nreq++;
  cr_assert_str_eq(wire_http_req_method(req), "GET");
  cr_assert_eq(wire_http_req_version(req), 11);
  cr_assert_str_eq(wire_http_req_header(req, "HOST"), "x");
  cr_assert_str_eq(wire_http_req_header(req, "x-twice"), "1");
  cr_assert_eq(wire_http_req_header_count(req), 3);
  const char *n, *v;
  cr_assert_eq(wire_http_req_header_at(req, 1, &n, &v), 0);
  cr_assert_str_eq(n, "X-Twice");
  cr_assert_str_eq(v, "1");
  cr_assert_eq(wire_http_req_header_at(req, 3, &n, &v), WIRE_EINVAL);
  cr_assert_null(wire_http_req_header(req, "absent"));
  cr_assert_not_null(wire_http_req_socket(req));
  cr_assert_eq(wire_http_res_req(res), req);
  wire_http_res_set_header(res, "Content-Type", "text/plain");
  cr_assert_eq(wire_http_res_end(res, "hello", 5), 0);
}

Test(http_server, keep_alive_reuses_the_connection)
{
  hs_start(NULL, on_hello);
  hc_t c;
  hc_open(&c);
  const char *rq = "GET /a HTTP/1.1\r\nHost: x\r\nX-Twice: 1\r\n"
                   "x-twice:   2  \r\n\r\n";
  hc_send(&c, rq);
  H_RUN_UNTIL(hs.loop, hc_has(&c, "hello"));
  const char *s = hc_str(&c);
  cr_assert(strncmp(s, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", s);
  cr_assert(hc_has(&c, "\r\nContent-Length: 5\r\n"), "%s", s);
  cr_assert(hc_has(&c, "\r\nContent-Type: text/plain\r\n"), "%s", s);
  cr_assert(hc_has(&c, "\r\nConnection: keep-alive\r\n"), "%s", s);
  cr_assert(hc_has(&c, "\r\nKeep-Alive: timeout=5\r\n"), "%s", s);
  cr_assert(hc_has(&c, "\r\nDate: "), "%s", s);
  cr_assert(hc_has(&c, " GMT\r\n"), "%s", s);
  hc_send(&c, rq);
  H_RUN_UNTIL(hs.loop, hc_count(&c, "hello") == 2);
  cr_assert_eq(nreq, 2);
  cr_assert_eq(c.closed, 0);
  cr_assert_eq(wire_http_server_connections(hs.srv), 1);
  hc_close(&c);
  hs_done();
}

/* ---- request bodies --------------------------------------------------------- */

static h_sink_t body;

static void echo_data(wire_http_req_t *req, const char *b, size_t n, void *d)
{
  (void)req, (void)d;
  h_sink_add(&body, b, n);
}

static void echo_end(wire_http_req_t *req, void *d)
{
  wire_http_res_t *res = d;
  const char *t = wire_http_req_trailer(req, "x-trailer");
  if (t != NULL)
    wire_http_res_set_header(res, "X-Got-Trailer", t);
  cr_assert_eq(wire_http_res_end(res, body.buf, body.len), 0);
  h_sink_free(&body);
}

static void on_echo(wire_http_server_t *srv, wire_http_req_t *req,
                    wire_http_res_t *res, void *d)
{
  (void)srv, (void)d;
  nreq++;
  wire_http_req_set_data(req, res);
  cr_assert_eq(wire_http_req_data(req), res);
  wire_http_req_on_data(req, echo_data);
  wire_http_req_on_end(req, echo_end);
}

Test(http_server, request_bodies_content_length_and_chunked_with_trailers)
{
  hs_start(NULL, on_echo);
  hc_t c;
  hc_open(&c);
  hc_send(&c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab");
  hc_send(&c, "cde");
  H_RUN_UNTIL(hs.loop, hc_has(&c, "abcde"));
  cr_assert(hc_has(&c, "Content-Length: 5\r\n"));
  hc_send(&c, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
              "3\r\nxyz\r\n4;ext=1\r\n1234\r\n0\r\nX-Trailer: tv\r\n\r\n");
  H_RUN_UNTIL(hs.loop, hc_has(&c, "xyz1234"));
  cr_assert(hc_has(&c, "X-Got-Trailer: tv\r\n"), "%s", hc_str(&c));
  cr_assert_eq(nreq, 2);
  hc_close(&c);
  hs_done();
}

/* ---- response framing ------------------------------------------------------- */

static void on_chunked(wire_http_server_t *srv, wire_http_req_t *req,
                       wire_http_res_t *res, void *d)
{
  (void)srv, (void)d, (void)req;
  cr_assert_eq(wire_http_res_write(res, "ab", 2), 1);
  cr_assert_eq(wire_http_res_headers_sent(res), 1);
  cr_assert_eq(wire_http_res_set_header(res, "X-Late", "1"), WIRE_EALREADY);
  cr_assert_eq(wire_http_res_write(res, "cde", 3), 1);
  cr_assert_eq(wire_http_res_add_trailer(res, "X-T", "1"), 0);
  cr_assert_eq(wire_http_res_add_trailer(res, "X-Bad", "a\r\nb"),
               WIRE_EINVAL);
  cr_assert_eq(wire_http_res_end(res, NULL, 0), 0);
  cr_assert_eq(wire_http_res_write(res, "x", 1), WIRE_EWRITEAFTEREND);
  cr_assert_eq(wire_http_res_end(res, NULL, 0), WIRE_EWRITEAFTEREND);
}

Test(http_server, chunked_response_with_trailers)
{
  hs_start(NULL, on_chunked);
  hc_t c;
  hc_open(&c);
  hc_send(&c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  H_RUN_UNTIL(hs.loop, hc_has(&c, "\r\n0\r\n"));
  H_RUN_UNTIL(hs.loop, hc_has(&c, "X-T: 1\r\n\r\n"));
  cr_assert(hc_has(&c, "Transfer-Encoding: chunked\r\n"), "%s", hc_str(&c));
  cr_assert(hc_has(&c, "\r\n\r\n2\r\nab\r\n3\r\ncde\r\n0\r\nX-T: 1\r\n\r\n"),
            "%s", hc_str(&c));
  cr_assert(!hc_has(&c, "Content-Length"));
  hc_close(&c);
  hs_done();
}

static void on_status(wire_http_server_t *srv, wire_http_req_t *req,
                      wire_http_res_t *res, void *d)
{
  (void)srv, (void)d;
  const char *url = wire_http_req_url(req);
  if (strcmp(url, "/204") == 0) {
    wire_http_res_write_head(res, 204, NULL);
    wire_http_res_write(res, "nope", 4);
    wire_http_res_end(res, NULL, 0);
  } else if (strcmp(url, "/304") == 0) {
    wire_http_res_write_head(res, 304, NULL);
    wire_http_res_end(res, "nope", 4);
  } else if (strcmp(url, "/cl") == 0) {
    cr_assert_eq(wire_http_res_set_header(res, "Content-Length", "10"), 0);
    cr_assert_eq(wire_http_res_write(res, "0123", 4), 1);
    cr_assert_eq(wire_http_res_write(res, "456789X", 7), WIRE_EINVAL);
    cr_assert_eq(wire_http_res_end(res, "456789", 6), 0);
  } else {
    wire_http_res_end(res, "hello", 5); /* HEAD */
  }
}

Test(http_server, head_204_304_and_user_content_length)
{
  hs_start(NULL, on_status);
  hc_t c;
  hc_open(&c);
  hc_send(&c, "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"
              "GET /204 HTTP/1.1\r\nHost: x\r\n\r\n"
              "GET /304 HTTP/1.1\r\nHost: x\r\n\r\n"
              "GET /cl HTTP/1.1\r\nHost: x\r\n\r\n");
  H_RUN_UNTIL(hs.loop, hc_has(&c, "0123456789"));
  const char *s = hc_str(&c);
  cr_assert_eq(hc_count(&c, "HTTP/1.1 "), 4, "%s", s);
  cr_assert(!hc_has(&c, "nope"), "%s", s);
  cr_assert(!hc_has(&c, "hello"), "%s", s);
  /* HEAD announces the length it would have sent. */
  cr_assert(hc_has(&c, "Content-Length: 5\r\n"), "%s", s);
  cr_assert(hc_has(&c, "HTTP/1.1 204 No Content\r\n"), "%s", s);
  cr_assert(hc_has(&c, "HTTP/1.1 304 Not Modified\r\n"), "%s", s);
  cr_assert(hc_has(&c, "Content-Length: 10\r\n"), "%s", s);
  /* Each head is followed directly by the next response. */
  cr_assert(hc_has(&c, "\r\n\r\nHTTP/1.1 204"), "%s", s);
  cr_assert(hc_has(&c, "\r\n\r\nHTTP/1.1 304"), "%s", s);
  cr_assert(hc_has(&c, "\r\n\r\nHTTP/1.1 200"), "%s", s);
  cr_assert_eq(hc_count(&c, "Content-Length"), 2, "%s", s);
  cr_assert(strcmp(s + c.in.len - 14, "\r\n\r\n0123456789") == 0, "%s", s);
  hc_close(&c);
  hs_done();
}

static void on_v10(wire_http_server_t *srv, wire_http_req_t *req,
                   wire_http_res_t *res, void *d)
{
  (void)srv, (void)d;
  cr_assert_eq(wire_http_req_version(req), 10);
  if (strcmp(wire_http_req_url(req), "/stream") == 0) {
    wire_http_res_write(res, "abc", 3);
    wire_http_res_end(res, "def", 3);
  } else {
    wire_http_res_end(res, "hello", 5);
  }
}

Test(http_server, http10_close_keep_alive_and_close_delimited)
{
  hs_start(NULL, on_v10);
  hc_t c;
  hc_open(&c);
  hc_send(&c, "GET / HTTP/1.0\r\n\r\n");
  hc_wait_closed(&c);
  cr_assert(hc_has(&c, "Connection: close\r\n"), "%s", hc_str(&c));
  cr_assert(hc_has(&c, "\r\n\r\nhello"));
  hc_close(&c);

  hc_open(&c);
  hc_send(&c, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  H_RUN_UNTIL(hs.loop, hc_has(&c, "hello"));
  cr_assert(hc_has(&c, "Connection: keep-alive\r\n"), "%s", hc_str(&c));
  hc_send(&c, "GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  hc_wait_closed(&c);
  /* No length and no chunked in 1.0: the close ends the body. */
  cr_assert(hc_has(&c, "\r\n\r\nabcdef"), "%s", hc_str(&c));
  cr_assert(!hc_has(&c, "chunked"));
  cr_assert_eq(hc_count(&c, "Connection: close\r\n"), 1);
  hc_close(&c);
  hs_done();
}

/* ---- the header API ------------------------------------------------------- */

static void on_headers(wire_http_server_t *srv, wire_http_req_t *req,
                       wire_http_res_t *res, void *d)
{
  (void)srv, (void)d, (void)req;
  cr_assert_eq(wire_http_res_set_status(res, 299, "Fine Thanks"), 0);
  cr_assert_eq(wire_http_res_set_header(res, "X-A", "1"), 0);
  cr_assert_eq(wire_http_res_set_header(res, "X-B", "b"), 0);
  cr_assert_eq(wire_http_res_set_header(res, "x-a", "2"), 0);
  cr_assert_str_eq(wire_http_res_get_header(res, "X-A"), "2");
  cr_assert_eq(wire_http_res_append_header(res, "Set-Cookie", "a=1"), 0);
  cr_assert_eq(wire_http_res_append_header(res, "Set-Cookie", "b=2"), 0);
  cr_assert_eq(wire_http_res_set_header(res, "X-Gone", "g"), 0);
  cr_assert_eq(wire_http_res_remove_header(res, "x-gone"), 0);
  cr_assert_null(wire_http_res_get_header(res, "X-Gone"));
  /* Many more, to move the storage. */
  char name[32];
  for (int i = 0; i < 60; i++) {
    snprintf(name, sizeof(name), "X-Fill-%d", i);
    cr_assert_eq(wire_http_res_set_header(res, name, "0123456789"), 0);
    cr_assert_eq(wire_http_res_set_header(res, name, "abcdefghij"), 0);
  }
  /* Header injection and bad names. */
  cr_assert_eq(wire_http_res_set_header(res, "X-Evil", "a\r\nX-Inj: 1"),
               WIRE_EINVAL);
  cr_assert_eq(wire_http_res_set_header(res, "X-Evil", "a\nb"), WIRE_EINVAL);
  cr_assert_eq(wire_http_res_append_header(res, "X-Evil", "a\rb"),
               WIRE_EINVAL);
  cr_assert_eq(wire_http_res_set_header(res, "Bad Name", "v"), WIRE_EINVAL);
  cr_assert_eq(wire_http_res_set_header(res, "Bad:Name", "v"), WIRE_EINVAL);
  cr_assert_eq(wire_http_res_set_header(res, "", "v"), WIRE_EINVAL);
  cr_assert_eq(wire_http_res_set_status(res, 200, "a\r\nb"), WIRE_EINVAL);
  cr_assert_eq(wire_http_res_set_status(res, 99, NULL), WIRE_EINVAL);
  cr_assert_str_eq(wire_http_res_get_header(res, "x-b"), "b");
  cr_assert_eq(wire_http_res_end(res, "z", 1), 0);
  cr_assert_eq(wire_http_res_set_header(res, "X-C", "c"), WIRE_EALREADY);
}

Test(http_server, set_get_remove_append_header_and_injection)
{
  hs_start(NULL, on_headers);
  hc_t c;
  hc_open(&c);
  hc_send(&c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  H_RUN_UNTIL(hs.loop, hc_has(&c, "\r\n\r\nz"));
  const char *s = hc_str(&c);
  cr_assert(strncmp(s, "HTTP/1.1 299 Fine Thanks\r\n", 26) == 0, "%s", s);
  cr_assert_eq(hc_count(&c, "X-A"), 0, "%s", s);
  cr_assert_eq(hc_count(&c, "\r\nx-a: 2\r\n"), 1, "%s", s);
  cr_assert_eq(hc_count(&c, "\r\nX-B: b\r\n"), 1, "%s", s);
  cr_assert_eq(hc_count(&c, "\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n"), 1,
               "%s", s);
  cr_assert_eq(hc_count(&c, "X-Gone"), 0, "%s", s);
  cr_assert_eq(hc_count(&c, "X-Evil"), 0, "%s", s);
  cr_assert_eq(hc_count(&c, "X-Inj"), 0, "%s", s);
  cr_assert_eq(hc_count(&c, ": abcdefghij\r\n"), 60, "%s", s);
  cr_assert_eq(hc_count(&c, "0123456789"), 0, "%s", s);
  cr_assert_eq(hc_count(&c, "X-Fill-59: abcdefghij\r\n"), 1, "%s", s);
  hc_close(&c);
  hs_done();
}

/* writeHead fixes the head, as in Node (headersSent is true from there):
 * the head still goes out with the first write or end, so end can give it
 * a Content-Length. An interim status (1xx) goes out at once and fixes
 * nothing. */
static void on_write_head(wire_http_server_t *srv, wire_http_req_t *req,
                          wire_http_res_t *res, void *d)
{
  (void)srv, (void)d;
  if (strcmp(wire_http_req_url(req), "/early") == 0) {
    cr_assert_eq(wire_http_res_write_head(res, 103, NULL), 0);
    cr_assert_eq(wire_http_res_headers_sent(res), 0);
    cr_assert_eq(wire_http_res_set_header(res, "X-After", "1"), 0);
    cr_assert_eq(wire_http_res_end(res, "ok", 2), 0);
    return;
  }
  cr_assert_eq(wire_http_res_set_header(res, "X-Before", "1"), 0);
  cr_assert_eq(wire_http_res_headers_sent(res), 0);
  cr_assert_eq(wire_http_res_write_head(res, 201, NULL), 0);
  cr_assert_eq(wire_http_res_headers_sent(res), 1);
  cr_assert_eq(wire_http_res_set_header(res, "X-Late", "1"), WIRE_EALREADY);
  cr_assert_eq(wire_http_res_set_header(res, "Content-Type", "text/plain"),
               WIRE_EALREADY);
  cr_assert_eq(wire_http_res_append_header(res, "X-Late", "1"),
               WIRE_EALREADY);
  cr_assert_eq(wire_http_res_remove_header(res, "X-Before"), WIRE_EALREADY);
  cr_assert_eq(wire_http_res_set_status(res, 202, NULL), WIRE_EALREADY);
  cr_assert_eq(wire_http_res_write_head(res, 203, NULL), WIRE_EALREADY);
  cr_assert_str_eq(wire_http_res_get_header(res, "X-Before"), "1");
  cr_assert_eq(wire_http_res_end(res, "abc", 3), 0);
}

Test(http_server, write_head_fixes_the_headers)
{
  hs_start(NULL, on_write_head);
  hc_t c;
  hc_open(&c);
  /* Twice: the second response takes the first's block and pair cache. */
  for (int i = 1; i <= 2; i++) {
    hc_send(&c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    H_RUN_UNTIL(hs.loop, hc_count(&c, "\r\n\r\nabc") == i);
  }
  const char *s = hc_str(&c);
  cr_assert_eq(hc_count(&c, "HTTP/1.1 201 Created\r\n"), 2, "%s", s);
  cr_assert_eq(hc_count(&c, "\r\nX-Before: 1\r\n"), 2, "%s", s);
  cr_assert_eq(hc_count(&c, "\r\nContent-Length: 3\r\n"), 2, "%s", s);
  cr_assert_eq(hc_count(&c, "X-Late"), 0, "%s", s);
  cr_assert_eq(hc_count(&c, "Content-Type"), 0, "%s", s);
  hc_send(&c, "GET /early HTTP/1.1\r\nHost: x\r\n\r\n");
  H_RUN_UNTIL(hs.loop, hc_has(&c, "\r\n\r\nok"));
  s = hc_str(&c);
  /* No Date on the interim response, as Node's writeEarlyHints. */
  cr_assert(hc_has(&c, "abcHTTP/1.1 103 Early Hints\r\n\r\n"
                       "HTTP/1.1 200 OK\r\nX-After: 1\r\n"),
            "%s", s);
  hc_close(&c);
  hs_done();
}

/* ---- pipelining ---------------------------------------------------------- */

typedef struct {
  wire_http_res_t *res;
  char url[16];
} late_t;

static void late_fire(wire_timer_t *t, void *d)
{
  late_t *l = d;
  cr_assert_eq(wire_http_res_end(l->res, l->url, strlen(l->url)), 0);
  free(l);
  wire_timer_close(t, NULL);
}

/* Answers /N after (5 - N) * 20 ms: the later the request, the sooner its
 * response is ready. */
static void on_late(wire_http_server_t *srv, wire_http_req_t *req,
                    wire_http_res_t *res, void *d)
{
  (void)srv, (void)d;
  late_t *l = calloc(1, sizeof(*l));
  l->res = res;
  snprintf(l->url, sizeof(l->url), "%s", wire_http_req_url(req));
  int n = atoi(l->url + 1);
  wire_timer_t *t;
  cr_assert_eq(wire_timer_create(hs.loop, &t), 0);
  wire_timer_set_data(t, l);
  wire_timer_start(t, (uint64_t)(5 - n) * 20, 0, late_fire);
}

Test(http_server, pipelined_responses_in_order_when_later_finish_first)
{
  hs_start(NULL, on_late);
  hc_t c;
  hc_open(&c);
  char rq[512] = "";
  for (int i = 0; i < 5; i++) {
    char one[64];
    snprintf(one, sizeof(one), "GET /%d HTTP/1.1\r\nHost: x\r\n\r\n", i);
    strcat(rq, one);
  }
  hc_send(&c, rq);
  H_RUN_UNTIL(hs.loop, hc_count(&c, "HTTP/1.1 200") == 5);
  const char *s = hc_str(&c);
  const char *p = s;
  for (int i = 0; i < 5; i++) {
    char want[16];
    snprintf(want, sizeof(want), "\r\n\r\n/%d", i);
    const char *q = strstr(p, want);
    cr_assert_not_null(q, "response %d out of order: %s", i, s);
    p = q + 1;
  }
  /* And the connection is still usable. */
  hc_send(&c, "GET /4 HTTP/1.1\r\nHost: x\r\n\r\n");
  H_RUN_UNTIL(hs.loop, hc_count(&c, "HTTP/1.1 200") == 6);
  hc_close(&c);
  hs_done();
}

/* 10,000 requests on one connection, one at a time, each answered with its
 * number: responses arrive complete and in order. */
#define MANY 10000
static int many_sent;
static size_t many_len; /* every response has the same length */

static void on_many(wire_http_server_t *srv, wire_http_req_t *req,
                    wire_http_res_t *res, void *d)
{
  (void)srv, (void)d;
  char b[16];
  snprintf(b, sizeof(b), "%05d", atoi(wire_http_req_url(req) + 1));
  wire_http_res_set_header(res, "Date", "x"); /* a fixed length */
  wire_http_res_end(res, b, 5);
}

static void many_send(hc_t *c)
{
  char rq[64];
  snprintf(rq, sizeof(rq), "GET /%d HTTP/1.1\r\nHost: x\r\n\r\n", many_sent);
  many_sent++;
  hc_send(c, rq);
}

static void many_on_data(void *d)
{
  hc_t *c = d;
  if (many_len == 0) {
    const char *s = hc_str(c);
    const char *e = strstr(s, "\r\n\r\n");
    if (e == NULL || c->in.len < (size_t)(e - s) + 9)
      return;
    many_len = (size_t)(e - s) + 9;
  }
  if (c->in.len == many_len * (size_t)many_sent && many_sent < MANY)
    many_send(c);
}

Test(http_server, ten_thousand_keep_alive_requests_in_order)
{
  hs_start(NULL, on_many);
  hc_t c;
  hc_open(&c);
  c.on_data = many_on_data;
  many_send(&c);
  H_RUN_UNTIL(hs.loop, many_len > 0 && c.in.len >= many_len * MANY);
  cr_assert_eq(c.in.len, many_len * MANY);
  for (int i = 0; i < MANY; i++) {
    const char *r = c.in.buf + many_len * (size_t)i;
    char want[8];
    snprintf(want, sizeof(want), "%05d", i);
    cr_assert(memcmp(r, "HTTP/1.1 200 OK\r\n", 17) == 0, "response %d", i);
    cr_assert(memcmp(r + many_len - 5, want, 5) == 0, "response %d", i);
  }
  cr_assert_eq(c.closed, 0);
  hc_close(&c);
  hs_done();
}

/* ---- pause and resume ------------------------------------------------------ */

static void resume_later(wire_timer_t *t, void *d)
{
  wire_http_req_resume(d);
  wire_timer_close(t, NULL);
}

static void paused_end(wire_http_req_t *req, void *d)
{
  (void)d;
  wire_http_res_t *res = wire_http_req_data(req);
  wire_http_res_end(res, "done", 4);
}

/* Pauses a request without a body in the request event itself. */
static void on_pause_get(wire_http_server_t *srv, wire_http_req_t *req,
                         wire_http_res_t *res, void *d)
{
  (void)srv, (void)d;
  wire_http_req_set_data(req, res);
  wire_http_req_on_end(req, paused_end);
  wire_http_req_pause(req);
  wire_timer_t *t;
  cr_assert_eq(wire_timer_create(hs.loop, &t), 0);
  wire_timer_set_data(t, req);
  wire_timer_start(t, 20, 0, resume_later);
}

Test(http_server, request_paused_in_the_request_event_completes_on_resume)
{
  hs_start(NULL, on_pause_get);
  hc_t c;
  hc_open(&c);
  hc_send(&c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  H_RUN_UNTIL(hs.loop, hc_has(&c, "done"));
  hc_send(&c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  H_RUN_UNTIL(hs.loop, hc_count(&c, "done") == 2);
  hc_close(&c);
  hs_done();
}

static void sync_pause_data(wire_http_req_t *req, const char *b, size_t n,
                            void *d)
{
  (void)d;
  h_sink_add(&body, b, n);
  /* A consumer that pauses and finds it can go on at once. */
  wire_http_req_pause(req);
  wire_http_req_resume(req);
}

static void sync_pause_end(wire_http_req_t *req, void *d)
{
  (void)d;
  wire_http_res_t *res = wire_http_req_data(req);
  wire_http_res_end(res, body.buf, body.len);
  h_sink_free(&body);
}

static void on_sync_pause(wire_http_server_t *srv, wire_http_req_t *req,
                          wire_http_res_t *res, void *d)
{
  (void)srv, (void)d;
  wire_http_req_set_data(req, res);
  wire_http_req_on_data(req, sync_pause_data);
  wire_http_req_on_end(req, sync_pause_end);
}

Test(http_server, pause_and_resume_inside_the_data_event)
{
  hs_start(NULL, on_sync_pause);
  hc_t c;
  hc_open(&c);
  hc_send(&c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
  H_RUN_UNTIL(hs.loop, hc_has(&c, "abc"));
  hc_send(&c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\ndef");
  H_RUN_UNTIL(hs.loop, hc_has(&c, "def"));
  hc_close(&c);
  hs_done();
}

/* A 64 MiB request body read with pause/resume (pausing after every
 * data event, resuming on a later turn) and a 64 MiB response written
 * with write/drain: every byte arrives, in order. */
#define BIG (64u << 20)
static size_t big_got;
static int big_bad;
static wire_timer_t *big_timer;
static size_t big_sent;

static void big_resume(wire_timer_t *t, void *d)
{
  (void)t;
  wire_http_req_resume(d);
}

static void big_data(wire_http_req_t *req, const char *b, size_t n, void *d)
{
  (void)d;
  if (!h_check(b, n, big_got))
    big_bad = 1;
  big_got += n;
  wire_http_req_pause(req);
  wire_timer_start(big_timer, 0, 0, big_resume);
}

static void big_write(wire_http_res_t *res, void *d)
{
  (void)d;
  static char chunk[65536];
  while (big_sent < BIG) {
    size_t n = BIG - big_sent < sizeof(chunk) ? BIG - big_sent : sizeof(chunk);
    h_fill(chunk, n, big_sent);
    big_sent += n;
    int r = wire_http_res_write(res, chunk, n);
    cr_assert_geq(r, 0);
    if (r == 0)
      return; /* wait for drain */
  }
  wire_http_res_end(res, NULL, 0);
}

static void big_end(wire_http_req_t *req, void *d)
{
  (void)d;
  wire_http_res_t *res = wire_http_req_data(req);
  wire_timer_close(big_timer, NULL);
  wire_http_res_on_drain(res, big_write);
  big_write(res, NULL);
}

static void on_big(wire_http_server_t *srv, wire_http_req_t *req,
                   wire_http_res_t *res, void *d)
{
  (void)srv, (void)d;
  cr_assert_eq(wire_timer_create(hs.loop, &big_timer), 0);
  wire_timer_set_data(big_timer, req);
  wire_http_req_set_data(req, res);
  wire_http_req_on_data(req, big_data);
  wire_http_req_on_end(req, big_end);
}

static size_t big_client_sent;
static size_t big_client_got; /* response body bytes */
static size_t big_head_len;

static void big_client_drain(wire_socket_t *s, void *d)
{
  (void)d;
  static char chunk[65536];
  while (big_client_sent < BIG) {
    size_t n = BIG - big_client_sent;
    if (n > sizeof(chunk))
      n = sizeof(chunk);
    h_fill(chunk, n, big_client_sent);
    big_client_sent += n;
    if (wire_socket_write(s, chunk, n) == 0)
      return;
  }
}

/* The client keeps only the response head and checks the body as it
 * streams in (chunked framing is parsed on the fly). */
static size_t ck_left;   /* bytes left in the current chunk */
static int ck_state;     /* 0 size line, 1 data, 2 CRLF after data, 3 done */
static char ck_line[32];
static size_t ck_line_len;

static void big_client_data(wire_socket_t *s, const char *b, size_t n,
                            void *d)
{
  (void)s;
  hc_t *c = d;
  size_t i = 0;
  if (big_head_len == 0) {
    for (; i < n; i++) {
      h_sink_add(&c->in, b + i, 1);
      if (c->in.len >= 4 &&
          memcmp(c->in.buf + c->in.len - 4, "\r\n\r\n", 4) == 0) {
        big_head_len = c->in.len;
        i++;
        break;
      }
    }
  }
  while (i < n && ck_state != 3) {
    if (ck_state == 0) {
      char ch = b[i++];
      if (ch == '\n') {
        ck_line[ck_line_len] = '\0';
        ck_left = strtoul(ck_line, NULL, 16);
        ck_line_len = 0;
        ck_state = ck_left == 0 ? 3 : 1;
      } else if (ck_line_len + 1 < sizeof(ck_line)) {
        ck_line[ck_line_len++] = ch;
      }
    } else if (ck_state == 1) {
      size_t k = n - i < ck_left ? n - i : ck_left;
      if (!h_check(b + i, k, big_client_got))
        big_bad = 2;
      big_client_got += k;
      ck_left -= k;
      i += k;
      if (ck_left == 0)
        ck_state = 2;
    } else {
      if (b[i++] == '\n')
        ck_state = 0;
    }
  }
}

Test(http_server, large_bodies_stream_both_ways, .timeout = 60)
{
  hs_start(NULL, on_big);
  hc_t c;
  hc_open(&c);
  wire_socket_on_data(c.s, big_client_data);
  wire_socket_on_drain(c.s, big_client_drain);
  char head[128];
  snprintf(head, sizeof(head),
           "PUT /big HTTP/1.1\r\nHost: x\r\nContent-Length: %u\r\n\r\n", BIG);
  hc_send(&c, head);
  big_client_drain(c.s, NULL);
  H_RUN_UNTIL(hs.loop, ck_state == 3);
  cr_assert_eq(big_bad, 0);
  cr_assert_eq(big_got, BIG);
  cr_assert_eq(big_client_got, BIG);
  cr_assert(strstr(hc_str(&c), "Transfer-Encoding: chunked") != NULL);
  hc_close(&c);
  hs_done();
}

/* ---- upgrade and CONNECT ----------------------------------------------------- */

static char up_head[64];
static char up_url[64];
static wire_socket_t *up_sock;

static void up_echo(wire_socket_t *s, const char *b, size_t n, void *d)
{
  (void)d;
  wire_socket_write(s, b, n);
}

static void on_upgrade(wire_http_server_t *srv, wire_http_req_t *req,
                       wire_socket_t *s, const char *head, size_t head_len,
                       void *d)
{
  (void)srv, (void)d;
  snprintf(up_url, sizeof(up_url), "%s %s", wire_http_req_method(req),
           wire_http_req_url(req));
  cr_assert_lt(head_len, sizeof(up_head));
  memcpy(up_head, head, head_len);
  up_head[head_len] = '\0';
  up_sock = s;
  wire_socket_on_data(s, up_echo);
  wire_socket_write(s, "HTTP/1.1 101 Switching Protocols\r\n\r\n", 36);
  wire_socket_write(s, head, head_len);
}

Test(http_server, upgrade_hands_over_the_socket_and_head)
{
  hs_start(NULL, hs_ok);
  wire_http_server_on_upgrade(hs.srv, on_upgrade);
  hc_t c;
  hc_open(&c);
  hc_send(&c, "GET /chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
              "Upgrade: foo\r\n\r\nHEAD-BYTES");
  H_RUN_UNTIL(hs.loop, hc_has(&c, "HEAD-BYTES"));
  cr_assert_str_eq(up_head, "HEAD-BYTES");
  cr_assert_str_eq(up_url, "GET /chat");
  cr_assert_eq(wire_http_server_connections(hs.srv), 0);
  hc_send(&c, "ping");
  H_RUN_UNTIL(hs.loop, hc_has(&c, "ping"));
  /* The close waits for the handed-over socket (as Node's). */
  wire_http_server_close(hs.srv, hs_on_close);
  h_idle_turns(hs.loop, 50);
  cr_assert_eq(hs.closed, 0);
  cr_assert_eq(c.closed, 0);
  wire_socket_close(up_sock, NULL);
  hc_wait_closed(&c);
  H_RUN_UNTIL(hs.loop, hs.closed == 1);
  hc_close(&c);
  h_loop_done(hs.loop);
}

Test(http_server, connect_hands_over_the_socket_and_head)
{
  hs_start(NULL, hs_ok);
  wire_http_server_on_connect(hs.srv, on_upgrade);
  hc_t c;
  hc_open(&c);
  hc_send(&c, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n"
              "\r\ntunnel");
  H_RUN_UNTIL(hs.loop, hc_has(&c, "tunnel"));
  cr_assert_str_eq(up_head, "tunnel");
  cr_assert_str_eq(up_url, "CONNECT example.com:443");
  wire_socket_close(up_sock, NULL);
  hc_wait_closed(&c);
  hc_close(&c);
  hs_done();
}

Test(http_server, upgrade_and_connect_without_handler_close)
{
  hs_start(NULL, hs_ok);
  hc_t c;
  hc_open(&c);
  hc_send(&c, "GET /chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
              "Upgrade: foo\r\n\r\nxx");
  hc_wait_closed(&c);
  cr_assert_eq(c.in.len, 0, "%s", hc_str(&c));
  hc_close(&c);
  hc_open(&c);
  hc_send(&c, "CONNECT a:1 HTTP/1.1\r\nHost: a:1\r\n\r\n");
  hc_wait_closed(&c);
  cr_assert_eq(c.in.len, 0);
  hc_close(&c);
  /* Still serving. */
  hc_open(&c);
  hc_send(&c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  H_RUN_UNTIL(hs.loop, hc_has(&c, "ok"));
  hc_close(&c);
  hs_done();
}

/* ---- Expect ----------------------------------------------------------------- */

Test(http_server, expect_100_continue_default)
{
  hs_start(NULL, on_echo);
  hc_t c;
  hc_open(&c);
  hc_send(&c, "POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
              "Content-Length: 3\r\n\r\n");
  H_RUN_UNTIL(hs.loop, hc_has(&c, "HTTP/1.1 100 Continue\r\n\r\n"));
  cr_assert(!hc_has(&c, "HTTP/1.1 200"));
  hc_send(&c, "abc");
  H_RUN_UNTIL(hs.loop, hc_has(&c, "abc"));
  cr_assert(strncmp(hc_str(&c), "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK",
                    40) == 0,
            "%s", hc_str(&c));
  hc_close(&c);
  hs_done();
}

static int checked;

static void on_check_continue(wire_http_server_t *srv, wire_http_req_t *req,
                              wire_http_res_t *res, void *d)
{
  (void)srv, (void)d;
  checked++;
  cr_assert_eq(wire_http_res_write_continue(res), 0);
  on_echo(srv, req, res, d);
}

static void on_check_expectation(wire_http_server_t *srv,
                                 wire_http_req_t *req, wire_http_res_t *res,
                                 void *d)
{
  (void)srv, (void)d;
  checked += 10;
  cr_assert_str_eq(wire_http_req_header(req, "expect"), "something");
  wire_http_res_end(res, "fine", 4);
}

Test(http_server, expect_handlers_and_417_default)
{
  hs_start(NULL, on_echo);
  hc_t c;
  hc_open(&c);
  hc_send(&c, "GET / HTTP/1.1\r\nHost: x\r\nExpect: something\r\n\r\n");
  hc_wait_closed(&c);
  cr_assert_eq(hc_status(&c), 417, "%s", hc_str(&c));
  cr_assert_eq(nreq, 0);
  hc_close(&c);

  wire_http_server_on_check_continue(hs.srv, on_check_continue);
  wire_http_server_on_check_expectation(hs.srv, on_check_expectation);
  hc_open(&c);
  hc_send(&c, "GET / HTTP/1.1\r\nHost: x\r\nExpect: something\r\n\r\n");
  H_RUN_UNTIL(hs.loop, hc_has(&c, "fine"));
  hc_send(&c, "POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
              "Content-Length: 2\r\n\r\n");
  H_RUN_UNTIL(hs.loop, hc_has(&c, "100 Continue"));
  hc_send(&c, "hi");
  H_RUN_UNTIL(hs.loop, hc_has(&c, "\r\n\r\nhi"));
  cr_assert_eq(checked, 11);
  cr_assert_eq(hc_count(&c, "100 Continue"), 1);
  hc_close(&c);
  hs_done();
}

/* ---- idle connections sleep and wake ----------------------------------------- */


static void on_which(wire_http_server_t *srv, wire_http_req_t *req,
                     wire_http_res_t *res, void *d)
{
  (void)srv, (void)d;
  nreq++;
  const char *n = wire_http_req_header(req, "x-n");
  cr_assert_not_null(n);
  cr_assert_not_null(wire_http_req_socket(req));
  cr_assert_eq(wire_http_res_end(res, n, strlen(n)), 0);
}

/* A keep-alive connection between requests sleeps: its socket alone
 * remembers it (after its first request at the end of the turn, later at
 * the sweep); it wakes for the next request, for the peer's FIN and for the
 * server's close, and counts as a connection throughout. */
Test(http_server, idle_connections_sleep_and_wake)
{
  nreq = 0;
  hs_start(NULL, on_which);
  hc_t a, b;
  hc_open(&a);
  hc_open(&b);
  hc_send(&a, "GET / HTTP/1.1\r\nHost: x\r\nX-N: one\r\n\r\n");
  hc_send(&b, "GET / HTTP/1.1\r\nHost: x\r\nX-N: bee\r\n\r\n");
  H_RUN_UNTIL(hs.loop, hc_has(&a, "one") && hc_has(&b, "bee"));
  hs_wait_ms(50); /* both asleep */
  cr_assert_eq(wire_http_server_connections(hs.srv), 2);
  hc_send(&a, "GET / HTTP/1.1\r\nHost: x\r\nX-N: two\r\n\r\n");
  H_RUN_UNTIL(hs.loop, hc_has(&a, "two"));
  hs_wait_ms(1100); /* the sweep puts it to sleep again */
  hc_send(&a, "GET / HTTP/1.1\r\nHost: x\r\nX-N: three\r\n\r\n"
              "GET / HTTP/1.1\r\nHost: x\r\nX-N: four\r\n\r\n");
  H_RUN_UNTIL(hs.loop, hc_has(&a, "four"));
  cr_assert(hc_has(&a, "three"), "%s", hc_str(&a));
  cr_assert_eq(nreq, 5);
  hs_wait_ms(1100);
  /* The peer's FIN on a sleeping connection: the server ends it. */
  wire_socket_end(a.s);
  hc_wait_closed(&a);
  H_RUN_UNTIL(hs.loop, wire_http_server_connections(hs.srv) == 1);
  /* The server's close closes the other, asleep. */
  hs_close();
  hc_wait_closed(&b);
  cr_assert_eq(a.closed + b.closed, 2);
  hc_close(&a);
  hc_close(&b);
  h_loop_done(hs.loop);
}

/* The same on sockets the server did not accept itself: a user's net
 * server accepts them and attaches them to the HTTP server (they sleep as
 * a record, not on the HTTP server's listener); they stay the net
 * server's connections. */
static void attach_conn(wire_server_t *net, wire_socket_t *s, void *d)
{
  (void)net, (void)d;
  cr_assert_eq(wire_http_server_attach(hs.srv, s), 0);
}

Test(http_server, attached_connections_sleep_and_wake)
{
  nreq = 0;
  memset(&hs, 0, sizeof(hs));
  hs.loop = h_loop_new();
  cr_assert_eq(wire_http_server_create(hs.loop, NULL, on_which, &hs.srv), 0);
  wire_server_t *net;
  cr_assert_eq(wire_server_create(hs.loop, NULL, attach_conn, &net), 0);
  hs.port = h_listen(net, "127.0.0.1");
  hc_t a, b;
  hc_open(&a);
  hc_open(&b);
  hc_send(&a, "GET / HTTP/1.1\r\nHost: x\r\nX-N: one\r\n\r\n");
  hc_send(&b, "GET / HTTP/1.1\r\nHost: x\r\nX-N: bee\r\n\r\n");
  H_RUN_UNTIL(hs.loop, hc_has(&a, "one") && hc_has(&b, "bee"));
  hs_wait_ms(50); /* both asleep */
  cr_assert_eq(wire_http_server_connections(hs.srv), 2);
  cr_assert_eq(wire_server_connections(net), 2);
  hc_send(&a, "GET / HTTP/1.1\r\nHost: x\r\nX-N: two\r\n\r\n");
  H_RUN_UNTIL(hs.loop, hc_has(&a, "two"));
  hs_wait_ms(1100); /* the sweep puts it to sleep again */
  hc_send(&a, "GET / HTTP/1.1\r\nHost: x\r\nX-N: three\r\n\r\n");
  H_RUN_UNTIL(hs.loop, hc_has(&a, "three"));
  cr_assert_eq(nreq, 4);
  wire_socket_end(a.s);
  hc_wait_closed(&a);
  H_RUN_UNTIL(hs.loop, wire_http_server_connections(hs.srv) == 1 &&
                           wire_server_connections(net) == 1);
  wire_server_close(net, NULL);
  hs_close();
  hc_wait_closed(&b);
  hc_close(&a);
  hc_close(&b);
  h_loop_done(hs.loop);
}

/* A server that listens and also serves an attached connection: closed
 * while that connection's response is still owed, its listener is gone
 * before the connection, and the sweeps and close_all that run meanwhile
 * must not look for sleeping connections on it. */
static wire_http_res_t *owed;

static void on_owe(wire_http_server_t *srv, wire_http_req_t *req,
                   wire_http_res_t *res, void *d)
{
  (void)srv, (void)req, (void)d;
  owed = res;
}

Test(http_server, listener_closes_before_an_attached_connection)
{
  owed = NULL;
  hs_start(NULL, on_owe);
  wire_server_t *net;
  cr_assert_eq(wire_server_create(hs.loop, NULL, attach_conn, &net), 0);
  hs.port = h_listen(net, "127.0.0.1");
  hc_t a;
  hc_open(&a);
  hc_send(&a, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  H_RUN_UNTIL(hs.loop, owed != NULL);
  wire_server_close(net, NULL);
  wire_http_server_close(hs.srv, hs_on_close);
  hs_wait_ms(1100); /* the listener is gone; a sweep runs */
  wire_http_server_close_all(hs.srv);
  cr_assert_eq(wire_http_res_end(owed, NULL, 0), WIRE_ECLOSED);
  hc_wait_closed(&a);
  H_RUN_UNTIL(hs.loop, hs.closed == 1);
  hc_close(&a);
  h_loop_done(hs.loop);
}

/* A closing server has no address, before and after its listener is
 * gone (freed: ASan sees a read of it), while a response is still owed. */
Test(http_server, no_address_once_closing)
{
  owed = NULL;
  hs_start(NULL, on_owe);
  hc_t a;
  hc_open(&a);
  hc_send(&a, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  H_RUN_UNTIL(hs.loop, owed != NULL);
  wire_http_server_close(hs.srv, hs_on_close);
  wire_addr_t addr;
  cr_assert_eq(wire_http_server_address(hs.srv, &addr), WIRE_ENOTCONN);
  hs_wait_ms(50); /* the listener's close completes */
  cr_assert_eq(hs.closed, 0);
  cr_assert_eq(wire_http_server_address(hs.srv, &addr), WIRE_ENOTCONN);
  cr_assert_eq(wire_http_res_end(owed, "x", 1), 0);
  H_RUN_UNTIL(hs.loop, hs.closed == 1);
  cr_assert(hc_has(&a, "Connection: close\r\n"), "%s", hc_str(&a));
  hc_close(&a);
  h_loop_done(hs.loop);
}

/* The application may close the socket of a request itself (Node's
 * req.socket.destroy()): the server, which would close it too, leaves it
 * to that close. /end closes, then ends the response; /keep closes and
 * keeps the response, and the server is closed before the socket's close
 * event came; /late keeps the response, and the socket is closed after
 * the server began closing. */
static wire_http_req_t *closer_req;

static void on_closer(wire_http_server_t *srv, wire_http_req_t *req,
                      wire_http_res_t *res, void *d)
{
  (void)srv, (void)d;
  const char *url = wire_http_req_url(req);
  owed = res;
  closer_req = req;
  if (strcmp(url, "/late") == 0)
    return;
  wire_socket_close(wire_http_req_socket(req), NULL);
  if (strcmp(url, "/end") == 0) {
    int r = wire_http_res_end(res, "x", 1);
    cr_assert_eq(r, WIRE_ECLOSED, "%s", wire_err_name(r));
    owed = NULL;
  }
}

Test(http_server, socket_closed_by_the_application)
{
  static const char *urls[] = {"/end", "/keep", "/late"};
  for (int i = 0; i < 3; i++) {
    owed = NULL;
    closer_req = NULL;
    hs_start(NULL, on_closer);
    hc_t a;
    hc_open(&a);
    char req[64];
    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", urls[i]);
    hc_send(&a, req);
    H_RUN_UNTIL(hs.loop, closer_req != NULL);
    wire_http_server_close(hs.srv, hs_on_close);
    if (i == 2)
      wire_socket_close(wire_http_req_socket(closer_req), NULL);
    hc_wait_closed(&a);
    if (owed != NULL)
      cr_assert_eq(wire_http_res_end(owed, NULL, 0), WIRE_ECLOSED);
    H_RUN_UNTIL(hs.loop, hs.closed == 1);
    hc_close(&a);
    h_loop_done(hs.loop);
  }
}

/* The same for a sleeping connection's socket (kept from the connection
 * event), closed right before and right after the server's close (which
 * closes it too). */
static wire_socket_t *conn_sock;
static int conn_sock_closed;

static void on_conn_keep(wire_http_server_t *srv, wire_socket_t *s, void *d)
{
  (void)srv, (void)d;
  conn_sock = s;
}

static void on_conn_sock_closed(wire_socket_t *s, int had_error, void *d)
{
  (void)s, (void)had_error, (void)d;
  conn_sock_closed++;
}

Test(http_server, sleeping_socket_closed_by_the_application)
{
  for (int after = 0; after < 2; after++) {
    nreq = 0;
    conn_sock = NULL;
    conn_sock_closed = 0;
    hs_start(NULL, on_which);
    wire_http_server_on_connection(hs.srv, on_conn_keep);
    hc_t a;
    hc_open(&a);
    hc_send(&a, "GET / HTTP/1.1\r\nHost: x\r\nX-N: one\r\n\r\n");
    H_RUN_UNTIL(hs.loop, hc_has(&a, "one"));
    hs_wait_ms(50); /* asleep */
    cr_assert_not_null(conn_sock);
    if (!after)
      wire_socket_close(conn_sock, on_conn_sock_closed);
    wire_http_server_close(hs.srv, hs_on_close);
    if (after)
      wire_socket_close(conn_sock, on_conn_sock_closed);
    H_RUN_UNTIL(hs.loop, hs.closed == 1);
    cr_assert_eq(conn_sock_closed, 1); /* the application's callback ran */
    hc_wait_closed(&a);
    hc_close(&a);
    h_loop_done(hs.loop);
  }
}

/* close_all closes the sleeping connections too; the server serves new
 * ones after it. */
Test(http_server, close_all_closes_sleeping_connections)
{
  nreq = 0;
  hs_start(NULL, on_which);
  hc_t a, b;
  hc_open(&a);
  hc_open(&b);
  hc_send(&a, "GET / HTTP/1.1\r\nHost: x\r\nX-N: one\r\n\r\n");
  hc_send(&b, "GET / HTTP/1.1\r\nHost: x\r\nX-N: bee\r\n\r\n");
  H_RUN_UNTIL(hs.loop, hc_has(&a, "one") && hc_has(&b, "bee"));
  hs_wait_ms(50); /* both asleep */
  wire_http_server_close_all(hs.srv);
  hc_wait_closed(&a);
  hc_wait_closed(&b);
  H_RUN_UNTIL(hs.loop, wire_http_server_connections(hs.srv) == 0);
  hc_close(&a);
  hc_close(&b);
  hc_open(&a);
  hc_send(&a, "GET / HTTP/1.1\r\nHost: x\r\nX-N: after\r\n\r\n");
  H_RUN_UNTIL(hs.loop, hc_has(&a, "after"));
  hc_close(&a);
  hs_done();
}

/* A socket handed over by an upgrade stays on the server's listener, with
 * whatever data pointer its new owner gives it (here an odd one, like the
 * word a sleeping connection keeps there): neither the keep-alive sweep
 * nor the server's close takes it for a sleeping connection. */
static void up_keep(wire_http_server_t *srv, wire_http_req_t *req,
                    wire_socket_t *s, const char *head, size_t head_len,
                    void *d)
{
  (void)srv, (void)req, (void)head, (void)head_len, (void)d;
  up_sock = s;
  wire_socket_set_data(s, (void *)(uintptr_t)0x1235);
  wire_socket_on_data(s, up_echo);
  wire_socket_write(s, "HTTP/1.1 101 Switching Protocols\r\n\r\n", 36);
}

Test(http_server, handed_over_socket_is_not_taken_for_a_sleeping_one)
{
  wire_http_server_opts_t o = WIRE_HTTP_SERVER_OPTS_INIT;
  o.keep_alive_timeout_ms = 100;
  hs_start(&o, hs_ok);
  wire_http_server_on_upgrade(hs.srv, up_keep);
  hc_t c;
  hc_open(&c);
  hc_send(&c, "GET /chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
              "Upgrade: foo\r\n\r\n");
  H_RUN_UNTIL(hs.loop, hc_has(&c, "101"));
  hs_wait_ms(1100); /* a sweep past the keep-alive timeout */
  hc_send(&c, "ping");
  H_RUN_UNTIL(hs.loop, hc_has(&c, "ping"));
  wire_http_server_close(hs.srv, hs_on_close);
  h_idle_turns(hs.loop, 50);
  cr_assert_eq(c.closed, 0);
  hc_send(&c, "pong");
  H_RUN_UNTIL(hs.loop, hc_has(&c, "pong"));
  wire_socket_close(up_sock, NULL);
  hc_wait_closed(&c);
  H_RUN_UNTIL(hs.loop, hs.closed == 1);
  hc_close(&c);
  h_loop_done(hs.loop);
}
