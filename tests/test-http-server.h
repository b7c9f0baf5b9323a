/* Shared pieces of the HTTP server suites (tests/test-http-server-*.c).
 *
 * - hs_*: a wire HTTP server on 127.0.0.1 port 0 with the suite's request
 *   handler; hs_close() closes it gracefully and waits for its close event.
 * - hc_*: a raw TCP client: it writes exact bytes and collects everything
 *   the server sends, so tests can check the bytes on the wire, the order
 *   of responses and that the server closed the connection.
 *
 * Every suite includes helpers.h through here (fresh loop, deadline, leak
 * check with wire_loop_close). */
#ifndef WIRE_TEST_HTTP_SERVER_H
#define WIRE_TEST_HTTP_SERVER_H

#ifndef H_DEADLINE_MS
#define H_DEADLINE_MS 15000
#endif
#include "helpers.h"

/* ---- the server ---------------------------------------------------------- */

typedef struct {
  wire_loop_t *loop;
  wire_http_server_t *srv;
  int port;
  int closed;
} hs_t;

static hs_t hs;

static inline void hs_on_close(wire_http_server_t *srv, void *d)
{
  (void)srv, (void)d;
  hs.closed++;
}

/* Starts hs on a fresh loop. o may be NULL. */
static inline wire_loop_t *hs_start(const wire_http_server_opts_t *o,
                             wire_http_request_cb on_request)
{
  memset(&hs, 0, sizeof(hs));
  hs.loop = h_loop_new();
  cr_assert_eq(wire_http_server_create(hs.loop, o, on_request, &hs.srv), 0);
  cr_assert_eq(wire_http_server_listen(hs.srv, "127.0.0.1", 0, NULL), 0);
  wire_addr_t a;
  cr_assert_eq(wire_http_server_address(hs.srv, &a), 0);
  cr_assert_gt(a.port, 0);
  hs.port = a.port;
  return hs.loop;
}

/* Closes the server gracefully and waits for the close callback. */
static inline void hs_close(void)
{
  wire_http_server_close(hs.srv, hs_on_close);
  H_RUN_UNTIL(hs.loop, hs.closed == 1);
}

static int hs_waited;

static inline void hs_on_waited(wire_timer_t *t, void *d)
{
  (void)d;
  hs_waited = 1;
  wire_timer_close(t, NULL);
}

/* Runs the loop for at least ms: bytes written before reach the server
 * as a read of their own; the server's sweep (every second) runs. */
static inline void hs_wait_ms(uint64_t ms)
{
  wire_timer_t *t;
  hs_waited = 0;
  cr_assert_eq(wire_timer_create(hs.loop, &t), 0);
  wire_timer_start(t, ms, 0, hs_on_waited);
  H_RUN_UNTIL(hs.loop, hs_waited);
}

/* hs_close, then the leak check. */
static inline void hs_done(void)
{
  hs_close();
  h_loop_done(hs.loop);
}

/* ---- the raw client ------------------------------------------------------- */

typedef struct {
  wire_socket_t *s;
  h_sink_t in;
  int connected;
  int ended;
  int closed;
  void (*on_data)(void *c); /* optional: after bytes were added */
} hc_t;

static inline void hc_data_cb(wire_socket_t *s, const char *b, size_t n, void *d)
{
  (void)s;
  hc_t *c = d;
  h_sink_add(&c->in, b, n);
  if (c->on_data != NULL)
    c->on_data(c);
}

static inline void hc_end_cb(wire_socket_t *s, void *d)
{
  (void)s;
  ((hc_t *)d)->ended = 1;
}

static inline void hc_close_cb(wire_socket_t *s, int had_error, void *d)
{
  (void)s, (void)had_error;
  ((hc_t *)d)->closed = 1;
}

static inline void hc_error_cb(wire_socket_t *s, int err, void *d)
{
  (void)s, (void)err, (void)d;
}

static inline void hc_connect_cb(wire_socket_t *s, int status, void *arg)
{
  (void)s;
  cr_assert_eq(status, 0, "connect: %s", wire_err_name(status));
  ((hc_t *)arg)->connected = 1;
}

/* Connects c to the server (the connection completes on a later turn;
 * writes before that are queued). */
static inline void hc_open(hc_t *c)
{
  memset(c, 0, sizeof(*c));
  wire_connect_opts_t o = WIRE_CONNECT_OPTS_INIT;
  o.host = "127.0.0.1";
  o.port = hs.port;
  cr_assert_eq(wire_socket_connect(hs.loop, &o, hc_connect_cb, c, &c->s), 0);
  wire_socket_set_data(c->s, c);
  wire_socket_on_data(c->s, hc_data_cb);
  wire_socket_on_end(c->s, hc_end_cb);
  wire_socket_on_close(c->s, hc_close_cb);
  wire_socket_on_error(c->s, hc_error_cb);
}

static inline void hc_send(hc_t *c, const char *p)
{
  cr_assert_geq(wire_socket_write(c->s, p, strlen(p)), 0);
}

static inline void hc_send_n(hc_t *c, const char *p, size_t n)
{
  cr_assert_geq(wire_socket_write(c->s, p, n), 0);
}

/* What the client received so far, NUL-terminated (binary-safe length in
 * c->in.len). */
static inline const char *hc_str(hc_t *c)
{
  h_sink_add(&c->in, "", 1);
  c->in.len--;
  return c->in.buf;
}

/* Occurrences of needle in what the client received. */
static inline int hc_count(hc_t *c, const char *needle)
{
  int n = 0;
  size_t nl = strlen(needle);
  if (c->in.len < nl)
    return 0;
  for (size_t i = 0; i + nl <= c->in.len; i++) {
    if (memcmp(c->in.buf + i, needle, nl) == 0)
      n++;
  }
  return n;
}

static inline int hc_has(hc_t *c, const char *needle)
{
  return hc_count(c, needle) > 0;
}

/* Waits until the server closed the connection (the client closes its
 * side when the server's FIN arrives: allow_half_open is off). */
static inline void hc_wait_closed(hc_t *c)
{
  H_RUN_UNTIL(hs.loop, c->closed);
}

/* Closes the client (if still open) and waits for its close event. */
static inline void hc_close(hc_t *c)
{
  if (!c->closed) {
    wire_socket_close(c->s, NULL);
    H_RUN_UNTIL(hs.loop, c->closed);
  }
  h_sink_free(&c->in);
}

/* One request, the whole response, the connection closed by the server:
 * returns the status code of the first response line (0 if none). */
static inline int hc_status(hc_t *c)
{
  const char *s = hc_str(c);
  if (strncmp(s, "HTTP/1.", 7) != 0 || c->in.len < 12)
    return 0;
  return atoi(s + 9);
}

/* A handler answering "ok" with Content-Length, for the tests that care
 * about the request side only. */
static inline void hs_ok(wire_http_server_t *srv, wire_http_req_t *req,
                  wire_http_res_t *res, void *d)
{
  (void)srv, (void)req, (void)d;
  cr_assert_eq(wire_http_res_end(res, "ok", 2), 0);
}

#endif
