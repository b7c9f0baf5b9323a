/* The HTTP server's request heads, however they arrive: whole in one read
 * (kept as one copy of the head), split across reads at every byte, more
 * fields than fit the inline index, pipelined behind a whole one. The
 * handler echoes method, target and every field as it got them, so each
 * case checks the exact strings the application sees. */
#include "test-http-server.h"

static int nreq;

/* "METHOD TARGET\n" then "name=value\n" for each field, in order. */
static void on_echo_head(wire_http_server_t *srv, wire_http_req_t *req,
                         wire_http_res_t *res, void *d)
{
  (void)srv, (void)d;
  nreq++;
  char body[8192];
  int n = snprintf(body, sizeof(body), "%s %s\n", wire_http_req_method(req),
                   wire_http_req_url(req));
  size_t count = wire_http_req_header_count(req);
  for (size_t i = 0; i < count; i++) {
    const char *name, *value;
    cr_assert_eq(wire_http_req_header_at(req, i, &name, &value), 0);
    n += snprintf(body + n, sizeof(body) - (size_t)n, "%s=%s\n", name, value);
    cr_assert_lt((size_t)n, sizeof(body));
  }
  cr_assert_eq(wire_http_res_end(res, body, (size_t)n), 0);
}


static const char head[] = "PATCH /a/b?c=d&e=%20 HTTP/1.1\r\n"
                           "Host: example.test:8080\r\n"
                           "X-Empty:\r\n"
                           "X-Ws: \t a  b \t \r\n"
                           "x-lower-CASE: v\r\n"
                           "Content-Length: 0\r\n"
                           "\r\n";
static const char echoed[] = "PATCH /a/b?c=d&e=%20\n"
                             "Host=example.test:8080\n"
                             "X-Empty=\n"
                             "X-Ws=a  b\n"
                             "x-lower-CASE=v\n"
                             "Content-Length=0\n";

Test(http_server_heads, whole_head_and_split_at_every_byte, .timeout = 60)
{
  nreq = 0;
  hs_start(NULL, on_echo_head);
  hc_t c;
  hc_open(&c);
  size_t len = sizeof(head) - 1;
  /* Whole, then every split point: the same strings each time. */
  hc_send_n(&c, head, len);
  H_RUN_UNTIL(hs.loop, hc_count(&c, echoed) == 1);
  for (size_t k = 1; k < len; k++) {
    hc_send_n(&c, head, k);
    hs_wait_ms(3);
    hc_send_n(&c, head + k, len - k);
    H_RUN_UNTIL(hs.loop, nreq == (int)k + 1);
  }
  H_RUN_UNTIL(hs.loop, hc_count(&c, echoed) == (int)len);
  cr_assert_eq(hc_count(&c, "HTTP/1.1 200 OK\r\n"), (int)len, "%s",
               hc_str(&c));
  hc_close(&c);
  hs_done();
}

Test(http_server_heads, pipelined_behind_a_whole_head, .timeout = 30)
{
  nreq = 0;
  hs_start(NULL, on_echo_head);
  hc_t c;
  hc_open(&c);
  size_t len = sizeof(head) - 1;
  int want = 0;
  for (size_t k = 1; k < len; k += 7) {
    /* One whole request and the start of the next in one write. */
    char two[2 * sizeof(head)];
    memcpy(two, head, len);
    memcpy(two + len, head, k);
    hc_send_n(&c, two, len + k);
    hs_wait_ms(3);
    hc_send_n(&c, head + k, len - k);
    want += 2;
    H_RUN_UNTIL(hs.loop, nreq == want);
  }
  H_RUN_UNTIL(hs.loop, hc_count(&c, echoed) == want);
  hc_close(&c);
  hs_done();
}

Test(http_server_heads, more_fields_than_the_inline_index, .timeout = 30)
{
  nreq = 0;
  hs_start(NULL, on_echo_head);
  char req[4096];
  char want[4096];
  int n = snprintf(req, sizeof(req), "GET /many HTTP/1.1\r\nHost: h\r\n");
  int w = snprintf(want, sizeof(want), "GET /many\nHost=h\n");
  for (int i = 0; i < 60; i++) {
    n += snprintf(req + n, sizeof(req) - (size_t)n, "X-F%d: value %d\r\n", i,
                  i * 7);
    w += snprintf(want + w, sizeof(want) - (size_t)w, "X-F%d=value %d\n", i,
                  i * 7);
  }
  n += snprintf(req + n, sizeof(req) - (size_t)n, "\r\n");
  hc_t c;
  hc_open(&c);
  /* Whole, then split in the middle of the fields. */
  hc_send_n(&c, req, (size_t)n);
  H_RUN_UNTIL(hs.loop, nreq == 1);
  hc_send_n(&c, req, (size_t)n / 2);
  hs_wait_ms(3);
  hc_send_n(&c, req + n / 2, (size_t)n - (size_t)n / 2);
  H_RUN_UNTIL(hs.loop, hc_count(&c, want) == 2);
  hc_close(&c);
  hs_done();
}

/* ---- the response head: the usual one is cached per server --------------- */

/* /t: text/plain; /x: two headers; /n: none; /h: HEAD-like 204. The
 * body is the target, so its length changes with it. */
static void on_varied(wire_http_server_t *srv, wire_http_req_t *req,
                      wire_http_res_t *res, void *d)
{
  (void)srv, (void)d;
  nreq++;
  const char *url = wire_http_req_url(req);
  if (strncmp(url, "/t", 2) == 0) {
    wire_http_res_set_header(res, "Content-Type", "text/plain");
  } else if (strncmp(url, "/x", 2) == 0) {
    wire_http_res_set_header(res, "X-A", "1");
    wire_http_res_set_header(res, "X-B", "two");
  } else if (strncmp(url, "/s", 2) == 0) {
    wire_http_res_write_head(res, 201, NULL);
  }
  cr_assert_eq(wire_http_res_end(res, url, strlen(url)), 0);
}

/* The n-th response's head in c's input, without its Date line. */
static void head_at(hc_t *c, int n, char *out, size_t cap)
{
  const char *s = hc_str(c);
  for (int i = 0; i < n; i++) {
    s = strstr(s + 1, "HTTP/1.1 ");
    cr_assert_not_null(s);
  }
  if (n == 0)
    cr_assert_eq(strncmp(s, "HTTP/1.1 ", 9), 0);
  const char *end = strstr(s, "\r\n\r\n");
  cr_assert_not_null(end);
  size_t k = 0;
  for (const char *l = s; l < end + 4;) {
    const char *e = strstr(l, "\r\n") + 2;
    if (strncmp(l, "Date: ", 6) != 0) {
      cr_assert_lt(k + (size_t)(e - l), cap);
      memcpy(out + k, l, (size_t)(e - l));
      k += (size_t)(e - l);
    }
    l = e;
  }
  out[k] = '\0';
}

Test(http_server_heads, cached_head_follows_headers_status_and_length)
{
  nreq = 0;
  hs_start(NULL, on_varied);
  hc_t c;
  hc_open(&c);
  static const char *urls[] = {"/t", "/t", "/x", "/n", "/t", "/tt", "/s",
                               "/x", "/n", "/nnn", "/t"};
  static const char *heads[] = {
      "Content-Type: text/plain\r\n", "Content-Type: text/plain\r\n",
      "X-A: 1\r\nX-B: two\r\n",       "",
      "Content-Type: text/plain\r\n", "Content-Type: text/plain\r\n",
      "",                             "X-A: 1\r\nX-B: two\r\n",
      "",                             "",
      "Content-Type: text/plain\r\n"};
  size_t n = sizeof(urls) / sizeof(urls[0]);
  char req[256];
  for (size_t i = 0; i < n; i++) {
    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", urls[i]);
    hc_send(&c, req);
    H_RUN_UNTIL(hs.loop, nreq == (int)i + 1 &&
                             hc_count(&c, "HTTP/1.1 ") == (int)i + 1 &&
                             c.in.len > 0 &&
                             strncmp(c.in.buf + c.in.len - strlen(urls[i]),
                                     urls[i], strlen(urls[i])) == 0);
  }
  for (size_t i = 0; i < n; i++) {
    char got[1024], want[1024];
    head_at(&c, (int)i, got, sizeof(got));
    snprintf(want, sizeof(want),
             "HTTP/1.1 %s\r\n%sConnection: keep-alive\r\n"
             "Keep-Alive: timeout=5\r\nContent-Length: %zu\r\n\r\n",
             strcmp(urls[i], "/s") == 0 ? "201 Created" : "200 OK", heads[i],
             strlen(urls[i]));
    cr_assert_str_eq(got, want, "response %zu: [%s] [%s]", i, got, want);
  }
  cr_assert_eq(hc_count(&c, "\r\nDate: "), (int)n);
  hc_close(&c);
  hs_done();
}

/* The Date line follows the clock: a second later, a new one. */
Test(http_server_heads, cached_head_takes_the_new_date)
{
  nreq = 0;
  hs_start(NULL, on_varied);
  hc_t c;
  hc_open(&c);
  hc_send(&c, "GET /t HTTP/1.1\r\nHost: x\r\n\r\n");
  H_RUN_UNTIL(hs.loop, hc_count(&c, "\r\n\r\n/t") == 1);
  hs_wait_ms(1100);
  hc_send(&c, "GET /t HTTP/1.1\r\nHost: x\r\n\r\n");
  H_RUN_UNTIL(hs.loop, hc_count(&c, "\r\n\r\n/t") == 2);
  const char *s = hc_str(&c);
  const char *d1 = strstr(s, "\r\nDate: ");
  cr_assert_not_null(d1);
  const char *d2 = strstr(d1 + 1, "\r\nDate: ");
  cr_assert_not_null(d2);
  cr_assert_neq(strncmp(d1, d2, 37), 0, "%s", s);
  hc_close(&c);
  hs_done();
}

/* ---- header checks: a pair seen before is not checked again --------------- */

static void on_pairs(wire_http_server_t *srv, wire_http_req_t *req,
                     wire_http_res_t *res, void *d)
{
  (void)srv, (void)req, (void)d;
  nreq++;
  /* The same valid pair on every response, and near misses of it that
   * must still be refused. */
  cr_assert_eq(wire_http_res_set_header(res, "X-A", "ok"), 0);
  cr_assert_eq(wire_http_res_set_header(res, "X-A", "ok\r\nX-Evil: 1"),
               WIRE_EINVAL);
  cr_assert_eq(wire_http_res_set_header(res, "X-A ", "ok"), WIRE_EINVAL);
  cr_assert_eq(wire_http_res_set_header(res, "X-A:", "ok"), WIRE_EINVAL);
  cr_assert_eq(wire_http_res_append_header(res, "X-A", "ok\n"), WIRE_EINVAL);
  cr_assert_eq(wire_http_res_set_header(res, "", "ok"), WIRE_EINVAL);
  char big[300];
  memset(big, 'v', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  cr_assert_eq(wire_http_res_set_header(res, "X-Big", big), 0);
  big[150] = '\x7f';
  cr_assert_eq(wire_http_res_set_header(res, "X-Big", big), WIRE_EINVAL);
  cr_assert_eq(wire_http_res_end(res, "p", 1), 0);
}

Test(http_server_heads, header_pairs_are_checked_every_time)
{
  nreq = 0;
  hs_start(NULL, on_pairs);
  hc_t c;
  hc_open(&c);
  for (int i = 0; i < 3; i++)
    hc_send(&c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  H_RUN_UNTIL(hs.loop, hc_count(&c, "\r\n\r\np") == 3);
  cr_assert_eq(nreq, 3);
  cr_assert_eq(hc_count(&c, "\r\nX-A: ok\r\n"), 3, "%s", hc_str(&c));
  cr_assert_eq(hc_count(&c, "X-Evil"), 0);
  cr_assert_eq(hc_count(&c, "\r\nX-Big: vvv"), 3);
  hc_close(&c);
  hs_done();
}

/* A remembered pair keeps what it says about framing: a Content-Length
 * set by the handler on every response is the only one sent. */
static void on_user_length(wire_http_server_t *srv, wire_http_req_t *req,
                           wire_http_res_t *res, void *d)
{
  (void)srv, (void)req, (void)d;
  nreq++;
  cr_assert_eq(wire_http_res_set_header(res, "Content-Length", "5"), 0);
  cr_assert_eq(wire_http_res_end(res, "hello", 5), 0);
}

Test(http_server_heads, remembered_framing_header_is_still_honoured)
{
  nreq = 0;
  hs_start(NULL, on_user_length);
  hc_t c;
  hc_open(&c);
  for (int i = 0; i < 3; i++) {
    hc_send(&c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    H_RUN_UNTIL(hs.loop, hc_count(&c, "\r\n\r\nhello") == i + 1);
  }
  cr_assert_eq(hc_count(&c, "Content-Length"), 3, "%s", hc_str(&c));
  cr_assert_eq(hc_count(&c, "\r\nContent-Length: 5\r\n"), 3);
  hc_close(&c);
  hs_done();
}

/* The cached head knows which remembered pair made it: a response that
 * copied the same pair slot while the slot held the same pair has the
 * same headers; one that copied it before the slot was reused for another
 * pair (by another connection's responses) does not, and gets its own.
 * A: /hold sets X-V: a and waits. B: /churn remembers three new pairs,
 * /b sets X-V: b in the slot that held X-V: a, /release ends A's. */
static wire_http_res_t *held;

static void on_slots(wire_http_server_t *srv, wire_http_req_t *req,
                     wire_http_res_t *res, void *d)
{
  (void)srv, (void)d;
  nreq++;
  const char *url = wire_http_req_url(req);
  if (strcmp(url, "/churn") == 0) {
    cr_assert_eq(wire_http_res_set_header(res, "X-1", "1"), 0);
    cr_assert_eq(wire_http_res_set_header(res, "X-2", "2"), 0);
    cr_assert_eq(wire_http_res_set_header(res, "X-3", "3"), 0);
  } else if (strcmp(url, "/release") == 0) {
    cr_assert_not_null(held);
    cr_assert_eq(wire_http_res_end(held, "held", 4), 0);
    held = NULL;
  } else {
    cr_assert_eq(
        wire_http_res_set_header(res, "X-V", url[1] == 'b' ? "b" : "a"), 0);
    if (strcmp(url, "/hold") == 0) {
      held = res;
      return;
    }
  }
  cr_assert_eq(wire_http_res_end(res, url, strlen(url)), 0);
}

Test(http_server_heads, cached_head_follows_reused_pair_slots)
{
  nreq = 0;
  held = NULL;
  hs_start(NULL, on_slots);
  hc_t a, b;
  hc_open(&a);
  hc_open(&b);
  /* Twice, so the cached head is X-V: a from the slot, then hold one. */
  for (int i = 0; i < 2; i++) {
    hc_send(&a, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
    H_RUN_UNTIL(hs.loop, hc_count(&a, "\r\n\r\n/a") == i + 1);
  }
  hc_send(&a, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
  H_RUN_UNTIL(hs.loop, held != NULL);
  static const char *urls[] = {"/churn", "/b", "/b", "/release"};
  for (int i = 0; i < 4; i++) {
    char req[64];
    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", urls[i]);
    hc_send(&b, req);
    H_RUN_UNTIL(hs.loop, hc_count(&b, "HTTP/1.1 200") == i + 1 &&
                             hc_count(&b, "\r\n\r\n/") == i + 1);
  }
  H_RUN_UNTIL(hs.loop, hc_count(&a, "\r\n\r\nheld") == 1);
  char got[1024];
  head_at(&a, 2, got, sizeof(got));
  cr_assert_str_eq(got,
                   "HTTP/1.1 200 OK\r\nX-V: a\r\nConnection: keep-alive\r\n"
                   "Keep-Alive: timeout=5\r\nContent-Length: 4\r\n\r\n");
  head_at(&b, 1, got, sizeof(got));
  cr_assert_str_eq(got,
                   "HTTP/1.1 200 OK\r\nX-V: b\r\nConnection: keep-alive\r\n"
                   "Keep-Alive: timeout=5\r\nContent-Length: 2\r\n\r\n");
  cr_assert_eq(hc_count(&a, "X-V: a\r\n"), 3, "%s", hc_str(&a));
  cr_assert_eq(hc_count(&b, "X-V: b\r\n"), 2, "%s", hc_str(&b));
  hc_close(&a);
  hc_close(&b);
  hs_done();
}

/* A handler that does not read its request gets no copy of the head
 * until something asks (server.c, head_store): the request must still
 * read as sent once its bytes are gone. The first request is kept
 * unread, the second (pipelined in the same read) answered unread and
 * so queued behind it; the third, in a later read over the same read
 * buffer, reads both and answers the first with what they say. */
static wire_http_req_t *late_req[2];
static wire_http_res_t *late_res;

static void on_late(wire_http_server_t *srv, wire_http_req_t *req,
                    wire_http_res_t *res, void *d)
{
  (void)srv, (void)d;
  int i = nreq++;
  if (i < 2) {
    late_req[i] = req;
    if (i == 0)
      late_res = res;
    else
      cr_assert_eq(wire_http_res_end(res, "second", 6), 0);
    return;
  }
  char body[256];
  int n = snprintf(
      body, sizeof(body), "%s %s %s|%s %s %s",
      wire_http_req_method(late_req[0]), wire_http_req_url(late_req[0]),
      wire_http_req_header(late_req[0], "x-tag"),
      wire_http_req_method(late_req[1]), wire_http_req_url(late_req[1]),
      wire_http_req_header(late_req[1], "X-Tag"));
  cr_assert_lt((size_t)n, sizeof(body));
  cr_assert_eq(wire_http_res_end(late_res, body, (size_t)n), 0);
  cr_assert_eq(wire_http_res_end(res, wire_http_req_url(req),
                                 strlen(wire_http_req_url(req))),
               0);
}

Test(http_server_heads, unread_request_reads_as_sent_after_its_bytes_go)
{
  nreq = 0;
  hs_start(NULL, on_late);
  hc_t c;
  hc_open(&c);
  hc_send(&c, "GET /first HTTP/1.1\r\nHost: x\r\nX-Tag: one\r\n\r\n"
              "DELETE /second HTTP/1.1\r\nHost: x\r\nX-Tag: two\r\n\r\n");
  H_RUN_UNTIL(hs.loop, nreq == 2);
  hc_send(&c, "PUT /third/and/longer HTTP/1.1\r\nHost: y\r\nX-Tag: 3\r\n"
              "Content-Length: 0\r\n\r\n");
  H_RUN_UNTIL(hs.loop, hc_count(&c, "HTTP/1.1 200") == 3);
  H_RUN_UNTIL(hs.loop, hc_has(&c, "/third/and/longer"));
  cr_assert(hc_has(&c, "\r\n\r\nGET /first one|DELETE /second two"), "%s",
            hc_str(&c));
  cr_assert(hc_has(&c, "\r\n\r\nsecond"), "%s", hc_str(&c));
  hc_close(&c);
  hs_done();
}

/* set_header's short way (a remembered pair, first in an empty list)
 * and the cases it leaves to the long way: a pair after another, the
 * same pair again (it replaces), a pair longer than the short copy, a
 * framing or connection field (Connection: close still closes), a head
 * already sent. Each request sets them all, so from the second on every
 * pair is remembered. */
static void on_pair_cases(wire_http_server_t *srv, wire_http_req_t *req,
                          wire_http_res_t *res, void *d)
{
  (void)srv, (void)req, (void)d;
  nreq++;
  static const char long_value[] = "a value that is longer than the copy";
  cr_assert_eq(wire_http_res_set_header(res, "X-B", "2"), 0);
  cr_assert_eq(wire_http_res_set_header(res, "X-A", "1"), 0);
  cr_assert_eq(wire_http_res_set_header(res, "X-A", "1"), 0);
  cr_assert_eq(wire_http_res_set_header(res, "X-Long", long_value), 0);
  if (nreq == 3)
    cr_assert_eq(wire_http_res_set_header(res, "Connection", "close"), 0);
  cr_assert_eq(wire_http_res_flush_headers(res), 0);
  cr_assert_eq(wire_http_res_set_header(res, "X-A", "1"), WIRE_EALREADY);
  cr_assert_eq(wire_http_res_end(res, "ok", 2), 0);
}

Test(http_server_heads, set_header_short_way_and_its_exceptions)
{
  nreq = 0;
  hs_start(NULL, on_pair_cases);
  hc_t c;
  hc_open(&c);
  for (int i = 1; i <= 2; i++) {
    hc_send(&c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    H_RUN_UNTIL(hs.loop, hc_count(&c, "\r\n2\r\nok\r\n0\r\n\r\n") == i);
  }
  hc_send(&c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  hc_wait_closed(&c);
  cr_assert_eq(hc_count(&c, "\r\n2\r\nok\r\n0\r\n\r\n"), 3, "%s", hc_str(&c));
  cr_assert_eq(hc_count(&c, "HTTP/1.1 200 OK\r\nX-B: 2\r\nX-A: 1\r\n"
                            "X-Long: a value that is longer than the copy\r\n"),
               3, "%s", hc_str(&c));
  cr_assert_eq(hc_count(&c, "X-A"), 3, "%s", hc_str(&c));
  cr_assert_eq(hc_count(&c, "Connection: keep-alive\r\n"), 2, "%s",
               hc_str(&c));
  cr_assert_eq(hc_count(&c, "Connection: close\r\n"), 1, "%s", hc_str(&c));
  hc_close(&c);
  hs_done();
}
