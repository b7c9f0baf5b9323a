/* Shared pieces of the HTTP client suites (tests/test-http-client-*.c).
 *
 * - ct_*: one client request and what happened to it: an event log
 *   ("socket response data end error close"), status, body, error code,
 *   whether the response was complete when the close event ran. Each
 *   request is started with ct_start() and its events go to its ct_t.
 * - rs_*: a raw HTTP server on 127.0.0.1 port 0 (a plain wire TCP server):
 *   it frames requests by hand (head, then a Content-Length or chunked
 *   body), counts connections and requests, keeps every byte it received,
 *   and calls the test's handler with each whole request, so a test can
 *   answer with exact bytes, answer early, close or reset the connection.
 * - ct_done(): the leak check for tests that used the global agent:
 *   wire_loop_close must close it and return 0 by itself.
 *
 * Everything here is static so each suite gets its own copy. */
#ifndef WIRE_TEST_HTTP_CLIENT_H
#define WIRE_TEST_HTTP_CLIENT_H

#ifndef H_DEADLINE_MS
#define H_DEADLINE_MS 15000
#endif
#include "helpers.h"

#include <strings.h>

/* ---- one client request ---------------------------------------------------
 */

typedef struct {
  wire_http_client_req_t *req;
  wire_http_client_res_t *res;
  h_log_t log;
  h_sink_t body;
  int status;
  int err;
  int closed;
  int ended;
  int complete; /* res complete, read in the close event */
  int reused;   /* req reused_socket, read in the close event */
  int ndata;
  int pause_on_data; /* pause the response at each data event */
  int close_on;      /* close the request at this event (CT_AT_*) */
} ct_t;

enum {
  CT_AT_NONE,
  CT_AT_SOCKET,
  CT_AT_RESPONSE,
  CT_AT_DATA,
  CT_AT_END,
  CT_AT_ERROR
};

static inline void ct_on_data(wire_http_client_res_t *res, const char *b,
                              size_t n, void *arg)
{
  ct_t *t = arg;
  if (t->ndata++ == 0)
    h_log(&t->log, "data");
  h_sink_add(&t->body, b, n);
  if (t->pause_on_data)
    wire_http_client_res_pause(res);
  if (t->close_on == CT_AT_DATA)
    wire_http_client_req_close(t->req);
}

static inline void ct_on_end(wire_http_client_res_t *res, void *arg)
{
  (void)res;
  ct_t *t = arg;
  t->ended++;
  h_log(&t->log, "end");
  if (t->close_on == CT_AT_END)
    wire_http_client_req_close(t->req);
}

static inline void ct_on_response(wire_http_client_req_t *req,
                                  wire_http_client_res_t *res, void *arg)
{
  ct_t *t = arg;
  cr_assert_eq(req, t->req);
  cr_assert_eq(wire_http_client_res_req(res), req);
  t->res = res;
  t->status = wire_http_client_res_status(res);
  h_log(&t->log, "response");
  wire_http_client_res_on_data(res, ct_on_data);
  wire_http_client_res_on_end(res, ct_on_end);
  if (t->close_on == CT_AT_RESPONSE)
    wire_http_client_req_close(req);
}

static inline void ct_on_socket(wire_http_client_req_t *req, wire_socket_t *s,
                                void *arg)
{
  (void)s;
  ct_t *t = arg;
  h_log(&t->log, "socket");
  if (t->close_on == CT_AT_SOCKET)
    wire_http_client_req_close(req);
}

static inline void ct_on_error(wire_http_client_req_t *req, int err, void *arg)
{
  ct_t *t = arg;
  cr_assert_eq(t->err, 0, "a second error event: %s", wire_err_name(err));
  t->err = err;
  h_log(&t->log, "error");
  if (t->close_on == CT_AT_ERROR)
    wire_http_client_req_close(req);
}

static inline void ct_on_close(wire_http_client_req_t *req, void *arg)
{
  ct_t *t = arg;
  cr_assert_eq(t->closed, 0, "a second close event");
  t->closed = 1;
  t->complete = t->res != NULL && wire_http_client_res_complete(t->res);
  t->reused = wire_http_client_req_reused_socket(req);
  h_log(&t->log, "close");
  t->res = NULL;
}

/* Starts a request with o (a copy is made of nothing: o's strings must
 * live until this returns) and wires its events to t. Not ended. */
static inline void ct_start(ct_t *t, wire_loop_t *loop,
                            const wire_http_request_opts_t *o)
{
  memset(t, 0, sizeof(*t));
  cr_assert_eq(wire_http_request(loop, o, ct_on_response, t, &t->req), 0);
  wire_http_client_req_on_socket(t->req, ct_on_socket);
  wire_http_client_req_on_error(t->req, ct_on_error);
  wire_http_client_req_on_close(t->req, ct_on_close);
}

/* A GET of path on 127.0.0.1:port through agent (NULL: the global one),
 * ended at once. */
static inline void ct_get(ct_t *t, wire_loop_t *loop, int port,
                          const char *path, wire_agent_t *agent)
{
  wire_http_request_opts_t o = WIRE_HTTP_REQUEST_OPTS_INIT;
  o.host = "127.0.0.1";
  o.port = port;
  o.path = path;
  o.agent = agent;
  ct_start(t, loop, &o);
  cr_assert_eq(wire_http_client_req_end(t->req, NULL, 0), 0);
}

static inline void ct_free(ct_t *t)
{
  h_sink_free(&t->body);
}

/* The body as a NUL-terminated string (test-side). */
static inline const char *ct_body(ct_t *t)
{
  h_sink_add(&t->body, "", 1);
  t->body.len--;
  return t->body.buf;
}

/* The leak check when the global agent was used: it must not count as a
 * leak; wire_loop_close closes it. */
static inline void ct_done(wire_loop_t *loop)
{
  wire_timer_close(h_deadline_timer, NULL);
  h_deadline_timer = NULL;
  wire_loop_run(loop, WIRE_RUN_DEFAULT);
  cr_assert_eq(wire_loop_close(loop), 0);
}

/* ---- a raw HTTP server
 * ------------------------------------------------------- */

typedef struct rs_s rs_t;
typedef struct {
  rs_t *rs;
  wire_socket_t *s;
  int id;      /* 0 for the first connection accepted, ... */
  int nreq;    /* whole requests seen on it */
  h_sink_t in; /* bytes not yet framed into a request */
  int got_end; /* the client ended (FIN) */
  int closed;
  int auto_close; /* tests set it: close on the client's end */
} rs_conn_t;

/* A whole request (head and body) arrived on c; req/len is a copy valid
 * during the call. */
typedef void (*rs_request_cb)(rs_conn_t *c, const char *req, size_t len);
/* Bytes arrived (before framing); for tests that act on the head alone. */
typedef void (*rs_bytes_cb)(rs_conn_t *c);

#define RS_MAX_CONNS 64

struct rs_s {
  wire_loop_t *loop;
  wire_server_t *srv;
  int port;
  int conns;
  int open;
  int max_open;
  int requests;
  int closed_by_client; /* connections the client ended first */
  h_sink_t all;         /* every byte received, all connections */
  rs_request_cb on_request;
  rs_bytes_cb on_bytes;
  rs_conn_t *c[RS_MAX_CONNS];
  int srv_closed;
  void *data;
};

static rs_t rs;

/* Where the request in p..p+n ends (head and body), or 0 if it is not
 * whole yet. */
static inline size_t rs_frame(const char *p, size_t n)
{
  const char *e = NULL;
  for (size_t i = 0; i + 4 <= n; i++) {
    if (memcmp(p + i, "\r\n\r\n", 4) == 0) {
      e = p + i + 4;
      break;
    }
  }
  if (e == NULL)
    return 0;
  size_t head = (size_t)(e - p);
  /* Header names are matched case-insensitively on a copy of the head. */
  char *h = malloc(head + 1);
  cr_assert_not_null(h);
  for (size_t i = 0; i < head; i++)
    h[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] + 32 : p[i]);
  h[head] = '\0';
  size_t total = head;
  const char *cl = strstr(h, "\r\ncontent-length:");
  int chunked = strstr(h, "\r\ntransfer-encoding: chunked") != NULL;
  int has_cl = cl != NULL;
  if (has_cl)
    total += strtoull(cl + 17, NULL, 10);
  free(h);
  if (has_cl)
    return n >= total ? total : 0;
  if (chunked) {
    for (size_t i = head; i + 5 <= n; i++) {
      if (memcmp(p + i, "0\r\n", 3) == 0 && (i == head || p[i - 1] == '\n')) {
        /* The last chunk, then trailers up to an empty line. */
        for (size_t j = i + 3; j + 2 <= n; j++) {
          if (memcmp(p + j, "\r\n", 2) == 0 &&
              (j == i + 3 || memcmp(p + j - 2, "\r\n", 2) == 0))
            return j + 2;
        }
        return 0;
      }
    }
    return 0;
  }
  return total;
}

static inline void rs_on_data(wire_socket_t *s, const char *b, size_t n,
                              void *d)
{
  (void)s;
  rs_conn_t *c = d;
  h_sink_add(&c->in, b, n);
  h_sink_add(&c->rs->all, b, n);
  if (c->rs->on_bytes != NULL) {
    c->rs->on_bytes(c);
    return;
  }
  for (;;) {
    size_t len = rs_frame(c->in.buf, c->in.len);
    if (len == 0 || c->closed)
      return;
    char *copy = malloc(len + 1);
    cr_assert_not_null(copy);
    memcpy(copy, c->in.buf, len);
    copy[len] = '\0';
    memmove(c->in.buf, c->in.buf + len, c->in.len - len);
    c->in.len -= len;
    c->nreq++;
    c->rs->requests++;
    c->rs->on_request(c, copy, len);
    free(copy);
  }
}

static inline void rs_on_end(wire_socket_t *s, void *d)
{
  (void)s;
  rs_conn_t *c = d;
  c->got_end = 1;
  c->rs->closed_by_client++;
}

static inline void rs_on_close(wire_socket_t *s, int had_error, void *d)
{
  (void)s, (void)had_error;
  rs_conn_t *c = d;
  c->closed = 1;
  c->rs->open--;
  c->rs->c[c->id] = NULL;
  h_sink_free(&c->in);
  free(c);
}

static inline void rs_on_conn(wire_server_t *srv, wire_socket_t *s, void *d)
{
  (void)srv, (void)d;
  rs_conn_t *c = calloc(1, sizeof(*c));
  cr_assert_not_null(c);
  c->rs = &rs;
  c->s = s;
  c->id = rs.conns++;
  cr_assert_lt(c->id, RS_MAX_CONNS);
  rs.c[c->id] = c;
  rs.open++;
  if (rs.open > rs.max_open)
    rs.max_open = rs.open;
  wire_socket_set_data(s, c);
  wire_socket_on_data(s, rs_on_data);
  wire_socket_on_end(s, rs_on_end);
  wire_socket_on_close(s, rs_on_close);
}

/* Starts rs on loop with the handler. */
static inline void rs_start(wire_loop_t *loop, rs_request_cb on_request)
{
  memset(&rs, 0, sizeof(rs));
  rs.loop = loop;
  rs.on_request = on_request;
  cr_assert_eq(wire_server_create(loop, NULL, rs_on_conn, &rs.srv), 0);
  rs.port = h_listen(rs.srv, "127.0.0.1");
}

static inline void rs_on_srv_close(wire_server_t *srv, void *d)
{
  (void)srv, (void)d;
  rs.srv_closed = 1;
}

/* Closes the listener and every connection still open. */
static inline void rs_stop(void)
{
  for (int i = 0; i < rs.conns; i++) {
    if (rs.c[i] != NULL && !rs.c[i]->closed) {
      rs.c[i]->closed = 1;
      wire_socket_close(rs.c[i]->s, NULL);
    }
  }
  wire_server_close(rs.srv, rs_on_srv_close);
  H_RUN_UNTIL(rs.loop, rs.srv_closed && rs.open == 0);
  h_sink_free(&rs.all);
}

static inline void rs_send(rs_conn_t *c, const char *s)
{
  cr_assert_geq(wire_socket_write(c->s, s, strlen(s)), 0);
}

/* Whether the bytes received (all connections) hold s. */
static inline int rs_has(const char *s)
{
  size_t n = strlen(s);
  for (size_t i = 0; i + n <= rs.all.len; i++) {
    if (memcmp(rs.all.buf + i, s, n) == 0)
      return 1;
  }
  return 0;
}

#define RS_OK_KEEP                                                             \
  "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"

#endif
