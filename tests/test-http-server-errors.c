/* The HTTP server, the hostile and the ending side: malformed requests
 * answered with the right status and a closed connection, the request
 * smuggling classes, slow clients cut off by the timeouts, the keep-alive
 * timeout and limits, Connection: close both ways, graceful close,
 * close_all, responses whose connection died first, clientError. */
#include "test-http-server.h"

static int nreq;
static int smuggled;
static h_log_t lg;
static wire_http_res_t *held; /* a response the test ends itself */
static int res_closed;

static void count_end(wire_http_req_t *req, void *d)
{
  (void)d;
  wire_http_res_end(wire_http_req_data(req), "ok", 2);
}

/* The connection died first: release the response. */
static void count_closed(wire_http_res_t *res, void *d)
{
  (void)d;
  cr_assert_eq(wire_http_res_end(res, NULL, 0), WIRE_ECLOSED);
}

/* Answers "ok" once the whole request was read. */
static void on_count(wire_http_server_t *srv, wire_http_req_t *req,
                     wire_http_res_t *res, void *d)
{
  (void)srv, (void)d;
  nreq++;
  if (strstr(wire_http_req_url(req), "smuggled") != NULL)
    smuggled++;
  wire_http_req_set_data(req, res);
  wire_http_req_on_end(req, count_end);
  wire_http_res_on_close(res, count_closed);
}

/* Sends raw, expects one response with status and a closed connection. */
static void expect_rejected(const char *raw, size_t len, int status)
{
  hc_t c;
  hc_open(&c);
  hc_send_n(&c, raw, len);
  hc_wait_closed(&c);
  cr_assert_eq(hc_status(&c), status, "for %.60s...: %s", raw, hc_str(&c));
  cr_assert_eq(hc_count(&c, "HTTP/1.1 "), 1, "%s", hc_str(&c));
  cr_assert(hc_has(&c, "Connection: close\r\n"));
  hc_close(&c);
}

static void expect_served(void)
{
  hc_t c;
  hc_open(&c);
  hc_send(&c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  H_RUN_UNTIL(hs.loop, hc_has(&c, "\r\n\r\nok"));
  hc_close(&c);
}

static char *big_request(const char *start, const char *line, int times,
                         const char *end)
{
  size_t sl = strlen(start), ll = strlen(line), el = strlen(end);
  char *p = malloc(sl + ll * (size_t)times + el + 1);
  char *q = p;
  memcpy(q, start, sl);
  q += sl;
  for (int i = 0; i < times; i++, q += ll)
    memcpy(q, line, ll);
  memcpy(q, end, el + 1);
  return p;
}

Test(http_server_errors, malformed_requests_get_their_status_and_close)
{
  static const struct {
    const char *raw;
    int status;
  } cases[] = {
      {"GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400},
      {"GET / HTTP/1.1\nHost: x\n\n", 400},
      {"GET / HTTP/1.1\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: x\r\n"
       "Content-Length: 99999999999999999999999\r\n\r\n",
       400},
      {"GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"GET / HTTP/1.1 \r\nHost: x\r\n\r\n", 400},
      {"GET / XTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"FOO / HTTP/1.1\r\nHost: x\r\n\r\n", 501},
      /* RFC 9112 6.3: chunked not last in a request is a 400; a coding
       * the server does not implement before it is a 501 (6.1). */
      {"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n"
       "\r\n",
       501},
      {"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505},
      {"GET / HTTP/0.9\r\nHost: x\r\n\r\n", 505},
      {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
       "zz\r\n",
       400},
      {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
       "3\r\nabcX\r\n",
       400},
      {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
       "11111111111111111\r\n",
       400},
  };
  hs_start(NULL, on_count);
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    expect_rejected(cases[i].raw, strlen(cases[i].raw), cases[i].status);
  /* Limits: the header section past 16 KiB, more than 2000 fields, a
   * request target past 8 KiB. */
  char *p = big_request("GET / HTTP/1.1\r\nHost: x\r\nX: ", "a", 17000,
                        "\r\n\r\n");
  expect_rejected(p, strlen(p), 431);
  free(p);
  p = big_request("GET / HTTP/1.1\r\nHost: x\r\n", "a: b\r\n", 2100, "\r\n");
  expect_rejected(p, strlen(p), 431);
  free(p);
  p = big_request("GET /", "a", 9000, " HTTP/1.1\r\nHost: x\r\n\r\n");
  expect_rejected(p, strlen(p), 414);
  free(p);
  /* Only the three requests with a bad chunked body got as far as the
   * request event (and never to its end). */
  cr_assert_eq(nreq, 3);
  expect_served();
  cr_assert_eq(nreq, 4);
  hs_done();
}

Test(http_server_errors, small_limits_from_the_options)
{
  wire_http_server_opts_t o = WIRE_HTTP_SERVER_OPTS_INIT;
  o.max_header_size = 256;
  o.max_headers_count = 4;
  hs_start(&o, on_count);
  char *p = big_request("GET / HTTP/1.1\r\nHost: x\r\nX: ", "a", 300,
                        "\r\n\r\n");
  expect_rejected(p, strlen(p), 431);
  free(p);
  p = big_request("GET / HTTP/1.1\r\nHost: x\r\n", "a: b\r\n", 5, "\r\n");
  expect_rejected(p, strlen(p), 431);
  free(p);
  expect_served();
  hs_done();
}

/* ---- request smuggling ------------------------------------------------------ */

#define SMUGGLE "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"

Test(http_server_errors, smuggling_classes_are_rejected_and_never_served)
{
  static const char *cases[] = {
      /* CL.TE and TE.CL: both framings present. */
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
      "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" SMUGGLE,
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
      "Content-Length: 40\r\n\r\n0\r\n\r\n" SMUGGLE,
      /* TE.TE: an obfuscated or repeated Transfer-Encoding. */
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
      "Transfer-Encoding: x\r\n\r\n0\r\n\r\n" SMUGGLE,
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n"
      "0\r\n\r\n" SMUGGLE,
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n"
      "0\r\n\r\n" SMUGGLE,
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity"
      "\r\n\r\n0\r\n\r\n" SMUGGLE,
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
      "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" SMUGGLE,
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\x0b" "chunked\r\n\r\n"
      "0\r\n\r\n" SMUGGLE,
      "POST / HTTP/1.1\r\nHost: x\r\n Transfer-Encoding: chunked\r\n\r\n"
      "0\r\n\r\n" SMUGGLE,
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
      "Content-Length: 0\r\n\r\n0\r\n\r\n" SMUGGLE,
      /* Two different Content-Length values (and a list of them). */
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
      "Content-Length: 35\r\n\r\n" SMUGGLE,
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0, 35\r\n\r\n" SMUGGLE,
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +35\r\n\r\n" SMUGGLE,
      /* A chunk size with a prefix some parsers skip. */
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0x0\r\n\r\n" SMUGGLE,
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      " 0\r\n\r\n" SMUGGLE,
      /* A bare LF ending the chunked body. */
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0\n\n" SMUGGLE,
  };
  hs_start(NULL, on_count);
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    hc_t c;
    hc_open(&c);
    hc_send(&c, cases[i]);
    hc_wait_closed(&c);
    int st = hc_status(&c);
    cr_assert(st == 400 || st == 501, "case %zu: %s", i, hc_str(&c));
    cr_assert_eq(hc_count(&c, "HTTP/1.1 "), 1, "case %zu: %s", i,
                 hc_str(&c));
    cr_assert_eq(smuggled, 0, "case %zu served the smuggled request", i);
    hc_close(&c);
  }
  expect_served();
  hs_done();
}

/* A request framed correctly whose body looks like a request: the body is
 * body, and the next request on the connection is served once. */
static h_sink_t seen;

static void seen_data(wire_http_req_t *req, const char *b, size_t n, void *d)
{
  (void)req, (void)d;
  h_sink_add(&seen, b, n);
}

static void on_body_count(wire_http_server_t *srv, wire_http_req_t *req,
                          wire_http_res_t *res, void *d)
{
  wire_http_req_on_data(req, seen_data);
  on_count(srv, req, res, d);
}

Test(http_server_errors, a_request_in_a_body_stays_body)
{
  hs_start(NULL, on_body_count);
  hc_t c;
  hc_open(&c);
  hc_send(&c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 35\r\n\r\n"
              SMUGGLE
              "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
              "23\r\n" SMUGGLE "\r\n0\r\n\r\n"
              "GET /last HTTP/1.1\r\nHost: x\r\n\r\n");
  H_RUN_UNTIL(hs.loop, hc_count(&c, "HTTP/1.1 200") == 3);
  cr_assert_eq(nreq, 3);
  cr_assert_eq(smuggled, 0);
  cr_assert_eq(seen.len, 70);
  h_sink_free(&seen);
  hc_close(&c);
  hs_done();
}

/* ---- timeouts ----------------------------------------------------------------- */

static hc_t slow;
static const char *slow_bytes;
static size_t slow_at;

static void slow_tick(wire_timer_t *t, void *d)
{
  (void)d;
  if (slow.closed || slow_bytes[slow_at] == '\0') {
    wire_timer_close(t, NULL);
    return;
  }
  hc_send_n(&slow, slow_bytes + slow_at++, 1);
}

static void slow_start(const char *bytes, uint64_t every_ms)
{
  slow_bytes = bytes;
  slow_at = 0;
  wire_timer_t *t;
  cr_assert_eq(wire_timer_create(hs.loop, &t), 0);
  wire_timer_start(t, every_ms, every_ms, slow_tick);
}

Test(http_server_errors, slow_headers_are_cut_off_with_408)
{
  wire_http_server_opts_t o = WIRE_HTTP_SERVER_OPTS_INIT;
  o.headers_timeout_ms = 1500;
  hs_start(&o, on_count);
  hc_open(&slow);
  slow_start("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: "
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
             "\r\n\r\n",
             50);
  hc_wait_closed(&slow);
  cr_assert_eq(hc_status(&slow), 408, "%s", hc_str(&slow));
  cr_assert_eq(nreq, 0);
  hc_close(&slow);
  expect_served();
  hs_done();
}

static void on_later(wire_http_server_t *srv, wire_http_req_t *req,
                     wire_http_res_t *res, void *d);

/* The first request is answered late; meanwhile the next one trickles in
 * a byte at a time. Its headers timeout still applies. */
Test(http_server_errors, slow_headers_behind_a_pending_response_time_out)
{
  wire_http_server_opts_t o = WIRE_HTTP_SERVER_OPTS_INIT;
  o.headers_timeout_ms = 1500;
  hs_start(&o, on_later);
  hc_open(&slow);
  hc_send(&slow, "GET / HTTP/1.1\r\nHost: x\r\n\r\nG");
  slow_start("ET / HTTP/1.1\r\nHost: x\r\nX-Slow: "
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
             "\r\n\r\n",
             50);
  hc_wait_closed(&slow);
  cr_assert_eq(hc_count(&slow, "HTTP/1.1 200"), 1, "%s", hc_str(&slow));
  cr_assert_eq(hc_count(&slow, "HTTP/1.1 408"), 1, "%s", hc_str(&slow));
  hc_close(&slow);
  hs_done();
}

Test(http_server_errors, slow_body_is_cut_off_by_the_request_timeout)
{
  wire_http_server_opts_t o = WIRE_HTTP_SERVER_OPTS_INIT;
  o.request_timeout_ms = 1500;
  hs_start(&o, on_later);
  hc_open(&slow);
  hc_send(&slow, "POST /hold HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
                 "\r\n");
  slow_start("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
             50);
  hc_wait_closed(&slow);
  cr_assert_eq(hc_status(&slow), 408, "%s", hc_str(&slow));
  H_RUN_UNTIL(hs.loop, res_closed == 1);
  cr_assert_eq(wire_http_res_end(held, NULL, 0), WIRE_ECLOSED);
  hc_close(&slow);
  hs_done();
}

Test(http_server_errors, keep_alive_timeout_closes_an_idle_connection)
{
  wire_http_server_opts_t o = WIRE_HTTP_SERVER_OPTS_INIT;
  o.keep_alive_timeout_ms = 500;
  hs_start(&o, on_count);
  hc_t c;
  hc_open(&c);
  hc_send(&c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  H_RUN_UNTIL(hs.loop, hc_has(&c, "ok"));
  cr_assert(hc_has(&c, "Keep-Alive: timeout=1\r\n"), "%s", hc_str(&c));
  hc_wait_closed(&c);
  cr_assert_eq(hc_count(&c, "HTTP/1.1"), 1);
  hc_close(&c);
  hs_done();
}

/* ---- limits and Connection: close --------------------------------------------- */

Test(http_server_errors, max_requests_per_socket)
{
  wire_http_server_opts_t o = WIRE_HTTP_SERVER_OPTS_INIT;
  o.max_requests_per_socket = 2;
  hs_start(&o, on_count);
  hc_t c;
  hc_open(&c);
  hc_send(&c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  H_RUN_UNTIL(hs.loop, hc_has(&c, "ok"));
  cr_assert(hc_has(&c, "Connection: keep-alive"));
  hc_send(&c, "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
  hc_wait_closed(&c);
  cr_assert_eq(hc_count(&c, "HTTP/1.1 200"), 2, "%s", hc_str(&c));
  cr_assert_eq(hc_count(&c, "Connection: close"), 1, "%s", hc_str(&c));
  cr_assert_eq(nreq, 2);
  hc_close(&c);
  hs_done();
}

static void on_res_close(wire_http_server_t *srv, wire_http_req_t *req,
                         wire_http_res_t *res, void *d)
{
  (void)srv, (void)d;
  nreq++;
  if (strcmp(wire_http_req_url(req), "/close") == 0)
    wire_http_res_set_header(res, "Connection", "close");
  wire_http_res_end(res, "ok", 2);
}

Test(http_server_errors, connection_close_both_ways)
{
  hs_start(NULL, on_res_close);
  hc_t c;
  hc_open(&c);
  /* The request asks: what follows it is never served. */
  hc_send(&c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
              "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
  hc_wait_closed(&c);
  cr_assert_eq(hc_count(&c, "HTTP/1.1 200"), 1, "%s", hc_str(&c));
  cr_assert(hc_has(&c, "Connection: close\r\n"));
  hc_close(&c);
  /* The response says so. */
  hc_open(&c);
  hc_send(&c, "GET /close HTTP/1.1\r\nHost: x\r\n\r\n");
  hc_wait_closed(&c);
  cr_assert_eq(hc_count(&c, "Connection: close\r\n"), 1, "%s", hc_str(&c));
  cr_assert_eq(hc_count(&c, "keep-alive"), 0, "%s", hc_str(&c));
  hc_close(&c);
  cr_assert_eq(nreq, 2);
  hs_done();
}

/* 100 pipelined requests, then the client's FIN: every one is answered
 * (more than the 64 parsed ahead), then the server closes. */
Test(http_server_errors, pipelined_requests_then_fin_are_all_answered)
{
  hs_start(NULL, on_count);
  hc_t c;
  hc_open(&c);
  wire_socket_set_allow_half_open(c.s, 1);
  for (int i = 0; i < 100; i++)
    hc_send(&c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  wire_socket_end(c.s);
  H_RUN_UNTIL(hs.loop, c.ended);
  cr_assert_eq(hc_count(&c, "HTTP/1.1 200"), 100);
  cr_assert_eq(nreq, 100);
  hc_close(&c);
  hs_done();
}

/* ---- graceful close, close_all, dead connections --------------------------- */


static void later_fire(wire_timer_t *t, void *d)
{
  wire_http_res_end(d, "late", 4);
  wire_timer_close(t, NULL);
}

static void on_res_closed(wire_http_res_t *res, void *d)
{
  (void)res, (void)d;
  res_closed++;
}

/* Answers / at once and /later (and the first request of
 * on_later's tests) 200 ms later. */
static void on_later(wire_http_server_t *srv, wire_http_req_t *req,
                     wire_http_res_t *res, void *d)
{
  (void)srv, (void)d;
  nreq++;
  wire_http_res_on_close(res, on_res_closed);
  const char *url = wire_http_req_url(req);
  if (strcmp(url, "/hold") == 0) {
    held = res;
    return;
  }
  if (strcmp(url, "/flush") == 0)
    wire_http_res_flush_headers(res);
  if (nreq == 1 || strcmp(url, "/later") == 0 ||
      strcmp(url, "/flush") == 0) {
    wire_timer_t *t;
    cr_assert_eq(wire_timer_create(hs.loop, &t), 0);
    wire_timer_set_data(t, res);
    wire_timer_start(t, 200, 0, later_fire);
    return;
  }
  wire_http_res_end(res, "ok", 2);
}

static void log_close(wire_http_server_t *srv, void *d)
{
  (void)srv, (void)d;
  h_log(&lg, "server-closed");
  hs.closed++;
}

static void graceful(const char *url, int conn_close)
{
  hc_t idle, busy;
  hc_open(&idle);
  hc_send(&idle, "GET /later HTTP/1.1\r\nHost: x\r\n\r\n");
  H_RUN_UNTIL(hs.loop, hc_has(&idle, "late"));
  hc_open(&busy);
  hc_send(&busy, url);
  H_RUN_UNTIL(hs.loop, nreq == 2);
  wire_http_server_close(hs.srv, log_close);
  H_RUN_UNTIL(hs.loop, idle.closed);
  h_log(&lg, "idle-closed");
  cr_assert_eq(busy.closed, 0);
  H_RUN_UNTIL(hs.loop, hc_has(&busy, "late"));
  h_log(&lg, "busy-answered");
  /* A head not yet sent says the connection closes. */
  cr_assert_eq(hc_count(&busy, "Connection: close\r\n"), conn_close, "%s",
               hc_str(&busy));
  H_RUN_UNTIL(hs.loop, hs.closed == 1);
  cr_assert_str_eq(lg.s, "idle-closed busy-answered server-closed");
  H_RUN_UNTIL(hs.loop, busy.closed);
  cr_assert_eq(res_closed, 0);
  hc_close(&idle);
  hc_close(&busy);
  h_loop_done(hs.loop);
}

Test(http_server_errors, graceful_close_lets_the_in_flight_request_finish)
{
  hs_start(NULL, on_later);
  graceful("GET /later HTTP/1.1\r\nHost: x\r\n\r\n", 1);
  cr_assert_eq(nreq, 2);
}

Test(http_server_errors, graceful_close_after_the_head_was_flushed)
{
  hs_start(NULL, on_later);
  graceful("GET /flush HTTP/1.1\r\nHost: x\r\n\r\n", 0);
}

Test(http_server_errors, close_all_and_the_orphan_response)
{
  hs_start(NULL, on_later);
  hc_t c;
  hc_open(&c);
  hc_send(&c, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
  H_RUN_UNTIL(hs.loop, held != NULL);
  wire_http_server_close_all(hs.srv);
  hc_wait_closed(&c);
  H_RUN_UNTIL(hs.loop, res_closed == 1);
  cr_assert_eq(wire_http_res_write(held, "x", 1), WIRE_ECLOSED);
  /* end releases the orphan. */
  cr_assert_eq(wire_http_res_end(held, "x", 1), WIRE_ECLOSED);
  hc_close(&c);
  hs_done();
}

/* The client goes away while the response is held; the server closes;
 * the application ends the response only after that. */
Test(http_server_errors, orphan_ended_after_the_server_closed)
{
  hs_start(NULL, on_later);
  hc_t c;
  hc_open(&c);
  hc_send(&c, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
  H_RUN_UNTIL(hs.loop, held != NULL);
  wire_socket_reset(c.s, NULL);
  H_RUN_UNTIL(hs.loop, res_closed == 1);
  hs_close();
  cr_assert_eq(wire_http_res_end(held, "x", 1), WIRE_ECLOSED);
  h_sink_free(&c.in);
  h_loop_done(hs.loop);
}

/* Connections that die in the middle of a request head, or between a
 * request and its body, free what they held. */
Test(http_server_errors, connections_dying_mid_request_leak_nothing)
{
  hs_start(NULL, on_count);
  hc_t c;
  hc_open(&c);
  hc_send(&c, "GET / HTTP/1.1\r\nHost:");
  h_idle_turns(hs.loop, 50);
  hc_close(&c);
  hc_open(&c);
  wire_socket_set_allow_half_open(c.s, 1);
  hc_send(&c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
  wire_socket_end(c.s);
  H_RUN_UNTIL(hs.loop, c.ended);
  hc_close(&c);
  hc_open(&c);
  hc_send(&c, "GET / HTTP/1.1\r\nHo");
  h_idle_turns(hs.loop, 50);
  wire_http_server_close_all(hs.srv);
  hc_wait_closed(&c);
  hc_close(&c);
  hs_done();
}

/* A close-delimited response to a slow reader: the server has ended its
 * side but still has megabytes queued; it must not cut the reader off
 * while the bytes are moving. */
#define SLOWBIG (4u << 20)
static size_t slow_body;

static void on_slowbig(wire_http_server_t *srv, wire_http_req_t *req,
                       wire_http_res_t *res, void *d)
{
  (void)srv, (void)d, (void)req;
  char *p = malloc(SLOWBIG);
  h_fill(p, SLOWBIG, 0);
  wire_http_res_write(res, p, SLOWBIG);
  wire_http_res_end(res, NULL, 0);
  free(p);
}

static void slow_reader_resume(wire_timer_t *t, void *d)
{
  wire_socket_resume(d);
  wire_timer_close(t, NULL);
}

static void slow_reader_data(wire_socket_t *s, const char *b, size_t n,
                             void *d)
{
  (void)s, (void)d;
  hc_t *c = d;
  if (c->in.len < 4 || memcmp(c->in.buf + c->in.len - 4, "\r\n\r\n", 4)) {
    /* The head, byte by byte. */
    size_t i = 0;
    while (i < n && (c->in.len < 4 ||
                     memcmp(c->in.buf + c->in.len - 4, "\r\n\r\n", 4)))
      h_sink_add(&c->in, b + i++, 1);
    b += i;
    n -= i;
  }
  slow_body += n;
  /* Read slowly: pause 300 ms after every 256 KiB or so. */
  static size_t next = 256 * 1024;
  if (slow_body >= next) {
    next += 256 * 1024;
    wire_socket_pause(s);
    wire_timer_t *t;
    cr_assert_eq(wire_timer_create(hs.loop, &t), 0);
    wire_timer_set_data(t, s);
    wire_timer_start(t, 300, 0, slow_reader_resume);
  }
}

Test(http_server_errors, ended_connection_flushing_to_a_slow_reader)
{
  wire_http_server_opts_t o = WIRE_HTTP_SERVER_OPTS_INIT;
  o.keep_alive_timeout_ms = 300;
  hs_start(&o, on_slowbig);
  hc_t c;
  hc_open(&c);
  wire_socket_on_data(c.s, slow_reader_data);
  hc_send(&c, "GET / HTTP/1.0\r\n\r\n");
  hc_wait_closed(&c);
  cr_assert_eq(slow_body, SLOWBIG);
  hc_close(&c);
  hs_done();
}

/* ---- clientError ----------------------------------------------------------- */

static int client_errors;
static int client_error_code;
static wire_socket_t *handed;

static void on_client_error(wire_http_server_t *srv, wire_socket_t *s,
                            int err, void *d)
{
  (void)srv, (void)d;
  client_errors++;
  client_error_code = err;
  wire_socket_write(s, "HTTP/1.1 400 Custom\r\nContent-Length: 0\r\n\r\n", 43);
  wire_socket_end(s);
}

static void on_client_error_later(wire_http_server_t *srv, wire_socket_t *s,
                                  int err, void *d)
{
  (void)srv, (void)d, (void)err;
  client_errors++;
  handed = s;
  /* The socket is the handler's until it closes it: leave it open. */
  wire_socket_write(s, "HTTP/1.1 400 Later\r\nContent-Length: 0\r\n\r\n", 42);
}

Test(http_server_errors, client_error_handler_gets_the_socket)
{
  hs_start(NULL, on_count);
  wire_http_server_on_client_error(hs.srv, on_client_error);
  hc_t c;
  hc_open(&c);
  hc_send(&c, "GET / HTTP/1.1\r\nBad Header: 1\r\n\r\n");
  hc_wait_closed(&c);
  cr_assert_eq(hc_status(&c), 400);
  cr_assert(hc_has(&c, "400 Custom"));
  cr_assert_eq(client_errors, 1);
  cr_assert_eq(client_error_code, WIRE_EHTTPPARSE);
  hc_close(&c);
  expect_served();
  hs_done();
}

/* The keep-alive sweep leaves a handed-over socket alone; the server's
 * close waits for it. */
Test(http_server_errors, client_error_socket_is_not_swept)
{
  wire_http_server_opts_t o = WIRE_HTTP_SERVER_OPTS_INIT;
  o.keep_alive_timeout_ms = 200;
  hs_start(&o, on_count);
  wire_http_server_on_client_error(hs.srv, on_client_error_later);
  hc_t c;
  hc_open(&c);
  hc_send(&c, "GET / HTTP/1.1\r\nBad Header: 1\r\n\r\n");
  H_RUN_UNTIL(hs.loop, hc_has(&c, "400 Later"));
  h_idle_turns(hs.loop, 1300);
  cr_assert_eq(c.closed, 0);
  cr_assert_eq(wire_http_server_connections(hs.srv), 0);
  /* As in Node, the close completes once that socket is gone too. */
  wire_http_server_close(hs.srv, hs_on_close);
  h_idle_turns(hs.loop, 50);
  cr_assert_eq(hs.closed, 0);
  cr_assert_eq(c.closed, 0);
  wire_socket_close(handed, NULL);
  hc_wait_closed(&c);
  H_RUN_UNTIL(hs.loop, hs.closed == 1);
  hc_close(&c);
  h_loop_done(hs.loop);
}
