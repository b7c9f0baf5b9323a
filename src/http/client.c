/* The HTTP client: requests, their connections, and the agent that pools
 * the connections per origin (Node's http.request and http.Agent).
 *
 * A request (wire_http_client_req_t, a refcounted object) builds its head
 * at its first write or end, and buffers what it sends until it has a
 * connection. The agent gives it one: a free (idle, kept-alive) socket of
 * its origin, most recently used first; else a new connection if the
 * origin has fewer than max_sockets; else the request waits in the
 * origin's queue, served in order as sockets free up. Without an agent a
 * request gets its own connection, closed after the response.
 *
 * A connection (cconn_t) owns one socket and one response parser. When a
 * response completes and both sides allow keep-alive, the connection goes
 * back to the agent: to the next queued request, or to the free list
 * (unref'd, so an idle pool never keeps the loop alive) with an idle
 * timeout of free_socket_timeout_ms, or a second less than the server's
 * Keep-Alive: timeout=N (as Node). A free socket that closes (the server
 * closed it, its time is up, the agent closes) leaves the list at once.
 * origin->active counts the connections in use or connecting (c->counted),
 * origin->nfree those on the free list (c->idle); a connection is in at
 * most one of them.
 *
 * Every request holds a reference on its agent, so the agent and its
 * origins outlive the requests made on it.
 *
 * Retry: a request sent on a reused socket that fails before any byte of
 * the response arrived is sent again, once, on a fresh connection, if its
 * method is idempotent and every byte it sent is still at hand (up to
 * 64 KiB), as Node does for a server that closed an idle socket just as it
 * was reused.
 *
 * HTTPS: a request with tls set connects with wire_tls_connect (ALPN
 * "http/1.1", the request's or the agent's context, servername,
 * reject_unauthorized) and then speaks HTTP on the TLS socket exactly as on
 * TCP. Its origin is keyed by those TLS options too, so connections made
 * with one context or name never serve another. Each https origin keeps
 * the last TLS session its connections reported (TLS 1.2 sessions and
 * TLS 1.3 tickets arrive through the session event) and offers it to the
 * next connection it opens, as Node's https.Agent does; the agent keeps at
 * most max_cached_sessions of them, dropping the least recently stored,
 * and an origin forgets its session when a handshake with it fails.
 *
 * Events reach the user on later turns than the calls that cause them; a
 * request's close event is its last, after which it is freed. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/internal.h"
#include "../tls/crypto.h"
#include "headers.h"
#include "parser.h"
#include "wire/http_client.h"

/* src/tls/context.c: takes a reference on a context (the public API only
 * drops them). Declared here so that OpenSSL's headers stay in src/tls. */
void wire__tls_ctx_ref(wire_tls_ctx_t *ctx);

#define REPLAY_MAX (64 * 1024)
#define OUT_HWM (16 * 1024)
#define OUT_CAP (64u * 1024 * 1024)
#define PENDING_MAX (256 * 1024)

typedef struct origin_s origin_t;
typedef struct cconn_s cconn_t;

typedef struct {
  char *p;
  size_t len;
  size_t cap;
} buf_t;

struct wire_http_client_res_s {
  wire_http_client_req_t *req;
  wire__hstore_t hs;
  uint32_t reason;
  int status;
  int version;
  uint64_t body_bytes;
  wire_http_client_data_cb on_data;
  wire_http_client_res_event_cb on_end;
  unsigned complete : 1;
  unsigned paused : 1;
  unsigned interim : 1;
  char ibuf[384]; /* a typical response head fits: no allocation */
  wire__hdr_t ih[16];
};

struct wire_http_client_req_s {
  wire__obj_t obj;
  wire_agent_t *agent; /* NULL: no agent */
  origin_t *origin;
  cconn_t *conn;
  wire_http_client_req_t *qnext; /* the origin's queue */

  char *host;      /* host, method and path live in one allocation */
  char *local;
  char *sock_path;
  int port;
  char *method;
  char *path;
  wire_tls_ctx_t *tls_ctx; /* a reference, or NULL */
  char *servername;
  char *err_reason; /* wire_http_client_req_error_reason */
  buf_t hdrs;   /* "name\0value\0" pairs set before the head */
  /* The request's bytes: out.p[0..sent) went to the socket and are kept
   * only while a retry may send them again (replayable); out.p[sent..len)
   * wait for the connection (or for 100 Continue). */
  buf_t out;
  size_t sent;
  uint64_t timeout_ms;
  uint64_t max_body;

  wire_http_response_cb on_response;
  wire_http_client_socket_cb on_socket;
  wire_http_client_event_cb on_continue;
  wire_http_client_info_cb on_information;
  wire_http_client_upgrade_cb on_upgrade;
  wire_http_client_upgrade_cb on_connect;
  wire_http_client_event_cb on_timeout;
  wire_http_client_req_error_cb on_error;
  wire_http_client_event_cb on_close;
  wire_http_client_event_cb on_drain;
  void *arg;
  void *data;

  unsigned head_built : 1;
  unsigned head_sent : 1; /* the head went ahead of a held body */
  unsigned ended : 1;
  unsigned chunked : 1;
  unsigned expect_continue : 1;
  unsigned hold_body : 1; /* waiting for 100 Continue */
  unsigned is_head : 1;
  unsigned is_connect : 1;
  unsigned idempotent : 1;
  unsigned retried : 1;
  unsigned replayable : 1;
  unsigned reused : 1;
  unsigned done : 1;    /* response complete, error, or closed */
  unsigned closing : 1; /* close event scheduled */
  unsigned need_drain : 1;
  unsigned started : 1; /* given to the agent */
  unsigned tls : 1;
  unsigned reject : 1; /* reject_unauthorized */

  wire_http_client_res_t res;
};

struct cconn_s {
  wire_agent_t *agent; /* NULL for a request without an agent */
  origin_t *origin;
  wire_socket_t *s;
  wire_http_client_req_t *req;
  cconn_t *next; /* the origin's free list */
  wire_http_parser_t parser;
  uint64_t ka_ms; /* the server's Keep-Alive: timeout, in ms */
  char *pending;
  size_t pending_len;
  int err; /* the socket's error, for the close that follows */
  unsigned connected : 1;
  unsigned counted : 1;   /* in origin->active (in use or connecting) */
  unsigned idle : 1;      /* on the origin's free list */
  unsigned has_ka : 1;    /* ka_ms is set */
  unsigned upgrading : 1; /* a 101 or CONNECT answer: the socket goes */
  unsigned dead : 1;      /* closing */
  unsigned keep : 1;      /* the last response allows reuse */
  unsigned got_bytes : 1; /* a response byte arrived for this request */
  unsigned in_parse : 1;
  unsigned reparse : 1;
  unsigned paused : 1;
  unsigned complete : 1; /* the response completed inside execute */
};

struct origin_s {
  origin_t *next;
  char *host;
  char *local;
  char *sock_path;
  int port;
  int tls;
  int reject;
  wire_tls_ctx_t *tls_ctx; /* a reference, or NULL */
  char *servername;
  unsigned char *sess; /* the last TLS session, DER */
  size_t sess_len;
  uint64_t sess_stamp; /* when it was stored, in the agent's clock */
  unsigned active; /* connections in use or connecting */
  unsigned nfree;
  cconn_t *free;
  wire_http_client_req_t *qhead;
  wire_http_client_req_t *qtail;
  unsigned nqueue;
  uint64_t created;
  uint64_t reused;
};

struct wire_agent_s {
  wire__obj_t obj;
  wire_agent_opts_t o;
  origin_t *origins;
  unsigned nconns;
  unsigned nsess;      /* origins holding a session */
  uint64_t sess_clock; /* counts stores, for the eviction order */
  unsigned closing : 1;
  unsigned is_global : 1;
  unsigned finished : 1;
  wire_agent_close_cb close_cb;
  void *close_arg;
  wire__close_hook_t hook;
};

static void req_fail(wire_http_client_req_t *req, int err);
static void req_flush(wire_http_client_req_t *req);
static void conn_close(cconn_t *c);
static void conn_release(cconn_t *c);
static void agent_assign(wire_http_client_req_t *req, int fresh);
static void agent_maybe_finish(wire_agent_t *a);
static const wire_http_parser_settings_t *settings(void);

/* ---- small helpers ----------------------------------------------------- */

static int buf_add(buf_t *b, const void *p, size_t n, size_t cap)
{
  if (n > cap || b->len > cap - n)
    return WIRE_ENOBUFS;
  if (wire__buf_grow(&b->p, &b->cap, b->len, n, NULL, 0) < 0)
    return WIRE_ENOMEM;
  memcpy(b->p + b->len, p, n);
  b->len += n;
  return 0;
}

static void buf_free(buf_t *b)
{
  wire__free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}

static char *dup_or_null(const char *s, int *err)
{
  if (s == NULL)
    return NULL;
  char *p = wire__strdup(s);
  if (p == NULL)
    *err = WIRE_ENOMEM;
  return p;
}

/* A request-target goes on the request line as it is: Node refuses any
 * character outside U+0021..U+00FF; bytes below 0x21 and DEL here. */
static int valid_target(const char *s)
{
  if (*s == '\0')
    return 0;
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch <= 0x20 || ch == 0x7f)
      return 0;
  }
  return 1;
}

/* A host goes into the Host header: no whitespace, controls or characters
 * that would end or extend the field or the authority. NULL is fine. */
static int valid_host(const char *s)
{
  if (s == NULL)
    return 1;
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch <= 0x20 || ch == 0x7f || ch == '/' || ch == '?' || ch == '#' ||
        ch == '@' || ch == '\\')
      return 0;
  }
  return 1;
}

static int same(const char *a, const char *b)
{
  if (a == NULL || b == NULL)
    return a == b;
  return strcmp(a, b) == 0;
}

/* ---- the request object -------------------------------------------------- */

static void req_finalize(wire__obj_t *o)
{
  wire_http_client_req_t *req = (wire_http_client_req_t *)o;
  wire__free(req->host);
  wire__free(req->local);
  wire__free(req->sock_path);
  wire__free(req->servername);
  wire__free(req->err_reason);
  wire_tls_ctx_free(req->tls_ctx);
  buf_free(&req->hdrs);
  buf_free(&req->out);
  wire__hstore_free(&req->res.hs);
  if (req->agent != NULL)
    wire__obj_unref(&req->agent->obj);
  wire__poison(req, sizeof(*req));
  wire__free(req);
}

static const char *hdr_find(const buf_t *b, const char *name)
{
  size_t i = 0;
  while (i < b->len) {
    const char *n = b->p + i;
    size_t nl = strlen(n);
    const char *v = n + nl + 1;
    if (nl > 0 && strcasecmp(n, name) == 0)
      return v;
    i += nl + strlen(v) + 2;
  }
  return NULL;
}

static void hdr_remove(buf_t *b, const char *name)
{
  size_t i = 0;
  while (i < b->len) {
    char *n = b->p + i;
    size_t nl = strlen(n);
    size_t pair = nl + strlen(n + nl + 1) + 2;
    if (strcasecmp(n, name) == 0) {
      /* Cut the pair out: an emptied name would leave its value to be
       * read as the next name. */
      memmove(n, n + pair, b->len - i - pair);
      b->len -= pair;
      continue;
    }
    i += pair;
  }
}

static int hdr_add(buf_t *b, const char *name, const char *value)
{
  int err = buf_add(b, name, strlen(name) + 1, SIZE_MAX);
  if (err == 0)
    err = buf_add(b, value, strlen(value) + 1, SIZE_MAX);
  return err;
}

int wire_http_client_req_set_header(wire_http_client_req_t *req,
                                    const char *name, const char *value)
{
  if (req->head_built)
    return WIRE_EALREADY;
  if (!wire__http_valid_token(name) || !wire__http_valid_value(value))
    return WIRE_EINVAL;
  hdr_remove(&req->hdrs, name);
  return hdr_add(&req->hdrs, name, value);
}

#define SETTER(name, field, type)                                              \
  void wire_http_client_req_on_##name(wire_http_client_req_t *req, type cb)    \
  {                                                                            \
    req->field = cb;                                                           \
  }
SETTER(socket, on_socket, wire_http_client_socket_cb)
SETTER(continue, on_continue, wire_http_client_event_cb)
SETTER(information, on_information, wire_http_client_info_cb)
SETTER(upgrade, on_upgrade, wire_http_client_upgrade_cb)
SETTER(connect, on_connect, wire_http_client_upgrade_cb)
SETTER(timeout, on_timeout, wire_http_client_event_cb)
SETTER(error, on_error, wire_http_client_req_error_cb)
SETTER(close, on_close, wire_http_client_event_cb)
SETTER(drain, on_drain, wire_http_client_event_cb)
#undef SETTER

void wire_http_client_req_set_data(wire_http_client_req_t *req, void *data)
{
  req->data = data;
}

void *wire_http_client_req_data(const wire_http_client_req_t *req)
{
  return req->data;
}

const char *wire_http_client_req_error_reason(const wire_http_client_req_t *req)
{
  return req->err_reason;
}

int wire_http_client_req_reused_socket(const wire_http_client_req_t *req)
{
  return req->reused;
}

/* ---- the response accessors -----------------------------------------------
 */

int wire_http_client_res_status(const wire_http_client_res_t *res)
{
  return res->status;
}
const char *wire_http_client_res_reason(const wire_http_client_res_t *res)
{
  return wire__hstore_str(&res->hs, res->reason);
}
int wire_http_client_res_version(const wire_http_client_res_t *res)
{
  return res->version;
}
const char *wire_http_client_res_header(const wire_http_client_res_t *res,
                                        const char *name)
{
  return wire__hstore_get(&res->hs, name, 0);
}
size_t wire_http_client_res_header_count(const wire_http_client_res_t *res)
{
  return res->hs.nhdrs;
}
int wire_http_client_res_header_at(const wire_http_client_res_t *res, size_t i,
                                   const char **name, const char **value)
{
  return wire__hstore_at(&res->hs, i, name, value);
}
const char *wire_http_client_res_trailer(const wire_http_client_res_t *res,
                                         const char *name)
{
  return wire__hstore_get(&res->hs, name, 1);
}
void wire_http_client_res_on_data(wire_http_client_res_t *res,
                                  wire_http_client_data_cb cb)
{
  res->on_data = cb;
}
void wire_http_client_res_on_end(wire_http_client_res_t *res,
                                 wire_http_client_res_event_cb cb)
{
  res->on_end = cb;
}
int wire_http_client_res_complete(const wire_http_client_res_t *res)
{
  return res->complete;
}
wire_http_client_req_t *
wire_http_client_res_req(const wire_http_client_res_t *res)
{
  return res->req;
}

/* ---- building and sending the request ------------------------------------ */

/* Bytes kept but not yet written to the connection. */
static size_t req_pending(const wire_http_client_req_t *req)
{
  return req->out.len - req->sent;
}

/* The request can no longer be sent again: the bytes already written go. */
static void req_drop_sent(wire_http_client_req_t *req)
{
  req->replayable = 0;
  if (req->sent == 0)
    return;
  memmove(req->out.p, req->out.p + req->sent, req_pending(req));
  req->out.len -= req->sent;
  req->sent = 0;
}

/* Sends bytes of this request: on the socket when it can, else kept. While
 * the request may be retried, what was written is kept too, for the retry
 * to send again. */
static int req_send(wire_http_client_req_t *req, const char *p, size_t n,
                    int body)
{
  cconn_t *c = req->conn;
  int direct = c != NULL && c->connected && !c->dead &&
               req_pending(req) == 0 && !(body && req->hold_body);
  /* Past 64 KiB the request can no longer be sent again. */
  if (req->replayable && (n > REPLAY_MAX || req->out.len > REPLAY_MAX - n))
    req_drop_sent(req);
  if (direct && !req->replayable) {
    int r = wire_socket_write(c->s, p, n);
    if (r == 0)
      req->need_drain = 1;
    return r;
  }
  int err = buf_add(&req->out, p, n, OUT_CAP);
  if (err < 0)
    return err;
  if (direct) {
    req->sent = req->out.len;
    int r = wire_socket_write(c->s, p, n);
    if (r == 0)
      req->need_drain = 1;
    return r;
  }
  if (req_pending(req) >= OUT_HWM) {
    req->need_drain = 1;
    return 0;
  }
  return 1;
}

static char *put(char *p, const char *s)
{
  size_t n = strlen(s);
  memcpy(p, s, n);
  return p + n;
}

static char *put_port(char *p, unsigned port)
{
  char d[8];
  int n = 0;
  do {
    d[n++] = (char)('0' + port % 10);
    port /= 10;
  } while (port != 0);
  while (n > 0)
    *p++ = d[--n];
  return p;
}

/* Builds and sends the head. body_len: the whole body's length when end
 * comes first (>= 0), or -1 when a write comes first (the body streams). */
static int req_send_head(wire_http_client_req_t *req, int64_t body_len)
{
  req->head_built = 1;
  const char *cl = hdr_find(&req->hdrs, "Content-Length");
  const char *te = hdr_find(&req->hdrs, "Transfer-Encoding");
  const char *expect = hdr_find(&req->hdrs, "Expect");
  int user_conn = hdr_find(&req->hdrs, "Connection") != NULL;
  int user_host = hdr_find(&req->hdrs, "Host") != NULL;
  int body_method = strcmp(req->method, "POST") == 0 ||
                    strcmp(req->method, "PUT") == 0 ||
                    strcmp(req->method, "PATCH") == 0;
  char extra_len[64] = "";
  if (cl != NULL) {
    /* The caller's length. */
  } else if (te != NULL) {
    req->chunked = strstr(te, "chunked") != NULL;
  } else if (body_len < 0) {
    req->chunked = 1;
  } else if (body_len > 0 || body_method) {
    snprintf(extra_len, sizeof(extra_len), "Content-Length: %lld\r\n",
             (long long)body_len);
  }
  if (expect != NULL && strcasecmp(expect, "100-continue") == 0) {
    req->expect_continue = 1;
    req->hold_body = 1;
  }

  size_t need = strlen(req->method) + strlen(req->path) + req->hdrs.len * 2 +
                (req->host ? strlen(req->host) : 0) + 256;
  char sbuf[1024];
  char *head = need <= sizeof(sbuf) ? sbuf : wire__malloc(need);
  if (head == NULL)
    return WIRE_ENOMEM;
  char *p = head;
  p = put(p, req->method);
  *p++ = ' ';
  p = put(p, req->path);
  p = put(p, " HTTP/1.1\r\n");
  if (!user_host && req->sock_path == NULL) {
    int v6 = strchr(req->host, ':') != NULL;
    p = put(p, v6 ? "Host: [" : "Host: ");
    p = put(p, req->host);
    if (v6)
      *p++ = ']';
    if (req->port != (req->tls ? 443 : 80)) {
      *p++ = ':';
      p = put_port(p, (unsigned)req->port);
    }
    p = put(p, "\r\n");
  } else if (!user_host) {
    p = put(p, "Host: localhost\r\n");
  }
  size_t i = 0;
  while (i < req->hdrs.len) {
    const char *n = req->hdrs.p + i;
    size_t nl = strlen(n);
    const char *v = n + nl + 1;
    if (nl > 0) {
      p = put(p, n);
      p = put(p, ": ");
      p = put(p, v);
      p = put(p, "\r\n");
    }
    i += nl + strlen(v) + 2;
  }
  if (!user_conn) {
    int keep = req->agent != NULL && req->agent->o.keep_alive;
    p = put(p, keep ? "Connection: keep-alive\r\n" : "Connection: close\r\n");
  }
  p = put(p, extra_len);
  if (req->chunked && te == NULL)
    p = put(p, "Transfer-Encoding: chunked\r\n");
  p = put(p, "\r\n");
  int r = req_send(req, head, (size_t)(p - head), 0);
  if (head != sbuf)
    wire__free(head);
  return r;
}

static int req_body(wire_http_client_req_t *req, const char *buf, size_t len)
{
  if (len == 0)
    return 1;
  if (!req->chunked)
    return req_send(req, buf, len, 1);
  char hex[24];
  int n = snprintf(hex, sizeof(hex), "%zx\r\n", len);
  int r = req_send(req, hex, (size_t)n, 1);
  if (r >= 0)
    r = req_send(req, buf, len, 1);
  if (r >= 0)
    r = req_send(req, "\r\n", 2, 1);
  return r;
}

int wire_http_client_req_write(wire_http_client_req_t *req, const void *buf,
                               size_t len)
{
  if (req->ended)
    return WIRE_EWRITEAFTEREND;
  if (req->done || req->closing)
    return WIRE_ECLOSED;
  int r = 1;
  if (!req->head_built)
    r = req_send_head(req, -1);
  if (r >= 0)
    r = req_body(req, buf, len);
  return r;
}

int wire_http_client_req_end(wire_http_client_req_t *req, const void *buf,
                             size_t len)
{
  if (req->ended)
    return WIRE_EWRITEAFTEREND;
  if (req->done || req->closing)
    return WIRE_ECLOSED;
  req->ended = 1;
  int r = 1;
  if (!req->head_built)
    r = req_send_head(req, (int64_t)len);
  if (r >= 0)
    r = req_body(req, buf, len);
  if (r >= 0 && req->chunked)
    r = req_send(req, "0\r\n\r\n", 5, 1);
  return r < 0 ? r : 0;
}

/* The connection is ready (or 100 Continue arrived): send what waited. */
static void req_flush(wire_http_client_req_t *req)
{
  cconn_t *c = req->conn;
  if (c == NULL || !c->connected || c->dead || req_pending(req) == 0)
    return;
  const char *p = req->out.p + req->sent;
  size_t n = req_pending(req);
  if (req->hold_body) {
    /* Only the head goes before 100 Continue: it is the first bytes kept,
     * ending at the first empty line. */
    const char *end = memmem(p, n, "\r\n\r\n", 4);
    if (req->head_sent || end == NULL)
      return;
    n = (size_t)(end + 4 - p);
    req->head_sent = 1;
  }
  int r = wire_socket_write(c->s, p, n);
  req->sent += n;
  if (!req->replayable)
    req_drop_sent(req);
  if (req->hold_body)
    return;
  if (r == 1 && req->need_drain) {
    req->need_drain = 0;
    if (req->on_drain != NULL)
      req->on_drain(req, req->arg);
  }
}

/* ---- closing a request --------------------------------------------------- */

static void emit_close(void *arg)
{
  wire_http_client_req_t *req = arg;
  if (req->on_close != NULL)
    req->on_close(req, req->arg);
  wire__obj_unref(&req->obj); /* the user's reference */
}

/* Schedules the close event (the last), once. */
static void req_close_later(wire_http_client_req_t *req)
{
  if (req->closing)
    return;
  req->closing = 1;
  req->done = 1;
  if (wire__defer(req->obj.loop, emit_close, req) < 0)
    emit_close(req); /* no memory for a deferral: close on this turn */
}

static void queue_remove(wire_http_client_req_t *req)
{
  origin_t *o = req->origin;
  if (o == NULL)
    return;
  wire_http_client_req_t **pp = &o->qhead;
  wire_http_client_req_t *prev = NULL;
  for (; *pp != NULL; prev = *pp, pp = &(*pp)->qnext) {
    if (*pp == req) {
      *pp = req->qnext;
      if (o->qtail == req)
        o->qtail = prev;
      o->nqueue--;
      req->qnext = NULL;
      return;
    }
  }
}

/* The request failed: error event, the connection goes, close follows. */
static void req_fail(wire_http_client_req_t *req, int err)
{
  if (req->done)
    return;
  req->done = 1;
  wire__obj_ref(&req->obj);
  queue_remove(req);
  cconn_t *c = req->conn;
  req->conn = NULL;
  if (c != NULL) {
    c->req = NULL;
    conn_close(c);
  }
  if (req->on_error != NULL)
    req->on_error(req, err, req->arg);
  /* The error callback may have closed the request: close once. */
  req_close_later(req);
  wire__obj_unref(&req->obj);
}

void wire_http_client_req_close(wire_http_client_req_t *req)
{
  if (req->done || (req->res.complete && req->conn != NULL)) {
    /* Done, or closed from the end event: the finished response leaves
     * its connection to conn_after_parse (the pool, as Node). */
    req_close_later(req);
    return;
  }
  req->done = 1;
  queue_remove(req);
  cconn_t *c = req->conn;
  req->conn = NULL;
  if (c != NULL) {
    c->req = NULL;
    conn_close(c);
  }
  req_close_later(req);
}

/* ---- connections -----------------------------------------------------------
 */

static int conn_parse(cconn_t *c, const char *data, size_t len);
static int conn_after_parse(cconn_t *c, int leftover);

static void on_sock_data(wire_socket_t *s, const char *buf, size_t len,
                         void *data)
{
  (void)s;
  cconn_t *c = data;
  if (c->dead)
    return;
  if (c->req == NULL) {
    /* Bytes on an idle socket: nothing can be waiting for them. */
    conn_close(c);
    return;
  }
  if (c->pending != NULL || c->paused) {
    size_t n = c->pending_len + len;
    if (n > PENDING_MAX) {
      req_fail(c->req, WIRE_ETOOBIG);
      return;
    }
    char *p = wire__realloc(c->pending, n);
    if (p == NULL) {
      req_fail(c->req, WIRE_ENOMEM);
      return;
    }
    memcpy(p + c->pending_len, buf, len);
    c->pending = p;
    c->pending_len = n;
    return;
  }
  (void)conn_parse(c, buf, len);
}

/* A reused socket failed before any byte of the response: try once more on
 * a fresh connection, if the request allows it. */
static int maybe_retry(cconn_t *c)
{
  wire_http_client_req_t *req = c->req;
  if (req == NULL || !req->reused || req->retried || c->got_bytes ||
      !req->idempotent || !req->replayable || req->agent == NULL ||
      req->agent->closing)
    return 0;
  req->retried = 1;
  req->conn = NULL;
  c->req = NULL;
  /* What was sent goes again, as it was. */
  req->sent = 0;
  req->replayable = 0;
  req->hold_body = req->expect_continue;
  req->head_sent = 0;
  agent_assign(req, 1);
  return 1;
}

static void on_sock_end(wire_socket_t *s, void *data)
{
  (void)s;
  cconn_t *c = data;
  if (c->dead)
    return;
  wire_http_client_req_t *req = c->req;
  if (req == NULL) {
    conn_close(c); /* the server closed an idle socket */
    return;
  }
  if (maybe_retry(c)) {
    conn_close(c);
    return;
  }
  if (c->got_bytes) {
    /* A close-delimited body ends here; anything else is cut short. */
    c->in_parse = 1;
    int err = wire_http_parser_finish(&c->parser);
    c->in_parse = 0;
    /* The peer closed: the connection cannot be kept. */
    c->keep = 0;
    if (err == 0 && conn_after_parse(c, 0))
      return;
  }
  req_fail(req, WIRE_ECONNRESET);
}

static void session_drop(origin_t *o, wire_agent_t *a);

static void on_sock_error(wire_socket_t *s, int err, void *data)
{
  cconn_t *c = data;
  c->err = err;
  if (!wire_tls_encrypted(s))
    return;
  /* A failed handshake may come from the session offered: the next
   * connection starts afresh (Node evicts it too). */
  if (err == WIRE_ETLS && c->origin != NULL && c->agent != NULL)
    session_drop(c->origin, c->agent);
  const char *why = wire_tls_last_error(s);
  wire_http_client_req_t *req = c->req;
  if (why != NULL && req != NULL) {
    wire__free(req->err_reason);
    req->err_reason = wire__strdup(why);
  }
}

static void on_sock_drain(wire_socket_t *s, void *data)
{
  (void)s;
  cconn_t *c = data;
  wire_http_client_req_t *req = c->req;
  if (req != NULL && req->need_drain && req_pending(req) == 0) {
    req->need_drain = 0;
    if (req->on_drain != NULL)
      req->on_drain(req, req->arg);
  }
}

static void on_sock_timeout(wire_socket_t *s, void *data)
{
  (void)s;
  cconn_t *c = data;
  if (c->idle) {
    /* A free socket's idle time is up (free_socket_timeout_ms, or the
     * server's Keep-Alive hint). */
    conn_close(c);
    return;
  }
  wire_http_client_req_t *req = c->req;
  if (req != NULL && req->on_timeout != NULL)
    req->on_timeout(req, req->arg);
}

/* c no longer holds one of its origin's max_sockets places. */
static void conn_uncount(cconn_t *c)
{
  if (c->counted) {
    c->counted = 0;
    c->origin->active--;
  }
}

static void conn_unlink_free(cconn_t *c)
{
  origin_t *o = c->origin;
  for (cconn_t **pp = &o->free; *pp != NULL; pp = &(*pp)->next) {
    if (*pp == c) {
      *pp = c->next;
      o->nfree--;
      break;
    }
  }
  c->next = NULL;
  c->idle = 0;
}

static void agent_pump(origin_t *o, wire_agent_t *a);

static void on_sock_close(wire_socket_t *s, int had_error, void *data)
{
  (void)s;
  cconn_t *c = data;
  c->dead = 1;
  wire_http_client_req_t *req = c->req;
  if (req != NULL && !maybe_retry(c)) {
    int err = c->err < 0 ? c->err : WIRE_ECONNRESET;
    (void)had_error;
    req_fail(req, err);
  }
  wire_agent_t *a = c->agent;
  origin_t *o = c->origin;
  if (o != NULL) {
    if (c->idle)
      conn_unlink_free(c);
    conn_uncount(c);
  }
  wire__free(c->pending);
  wire__poison(c, sizeof(*c));
  wire__free(c);
  if (a != NULL) {
    a->nconns--;
    agent_pump(o, a);
    agent_maybe_finish(a);
  }
}

static void conn_close(cconn_t *c)
{
  if (c->dead)
    return;
  c->dead = 1;
  /* A closing free socket leaves the pool now, not at its close event: it
   * must not be handed out (nor counted) in between. */
  if (c->idle)
    conn_unlink_free(c);
  wire_socket_close(c->s, NULL);
}

static void on_connected(wire_socket_t *s, int status, void *arg)
{
  (void)s;
  cconn_t *c = arg;
  if (status < 0) {
    c->err = status; /* error and close follow: on_sock_close fails req */
    return;
  }
  c->connected = 1;
  if (c->req != NULL)
    req_flush(c->req);
}

static void attach(wire_http_client_req_t *req, cconn_t *c, int reused)
{
  req->conn = c;
  c->req = req;
  c->got_bytes = 0;
  req->reused = reused;
  if (reused && c->origin != NULL)
    c->origin->reused++;
  if (!reused)
    req_drop_sent(req); /* a fresh socket is never retried */
  wire_http_parser_init(&c->parser, WIRE_HTTP_RESPONSE, settings());
  c->parser.data = c;
  wire_socket_set_timeout(c->s, req->timeout_ms);
  wire__obj_ref(&req->obj);
  if (req->on_socket != NULL)
    req->on_socket(req, c->s, req->arg);
  if (!req->done)
    req_flush(req);
  wire__obj_unref(&req->obj);
}

/* ---- TLS sessions ---------------------------------------------------------
 */

static void session_drop(origin_t *o, wire_agent_t *a)
{
  if (o->sess == NULL)
    return;
  wire__free(o->sess);
  o->sess = NULL;
  o->sess_len = 0;
  a->nsess--;
}

/* A connection of an https origin reported a session: the origin keeps
 * the newest; past the agent's limit the oldest stored goes. */
static void on_tls_session(wire_socket_t *s, const void *der, size_t len,
                           void *data)
{
  (void)s;
  cconn_t *c = data;
  wire_agent_t *a = c->agent;
  origin_t *o = c->origin;
  if (a == NULL || o == NULL || a->o.max_cached_sessions == 0 || len == 0)
    return;
  unsigned char *p = wire__malloc(len);
  if (p == NULL)
    return; /* no session kept: the next connection does a full handshake */
  memcpy(p, der, len);
  session_drop(o, a);
  o->sess = p;
  o->sess_len = len;
  o->sess_stamp = ++a->sess_clock;
  a->nsess++;
  while (a->nsess > a->o.max_cached_sessions) {
    origin_t *old = NULL;
    for (origin_t *x = a->origins; x != NULL; x = x->next) {
      if (x->sess != NULL && (old == NULL || x->sess_stamp < old->sess_stamp))
        old = x;
    }
    session_drop(old, a);
  }
}

static int conn_new(wire_http_client_req_t *req, origin_t *o, cconn_t **out)
{
  cconn_t *c = wire__calloc(1, sizeof(*c));
  if (c == NULL)
    return WIRE_ENOMEM;
  wire_connect_opts_t co = WIRE_CONNECT_OPTS_INIT;
  co.host = req->host;
  co.port = req->port;
  co.local_address = req->local;
  co.path = req->sock_path;
  co.no_delay = 1; /* as Node's http client */
  int err;
  if (req->tls) {
    static const char *const http11[] = {"http/1.1", NULL};
    wire_tls_connect_opts_t to = WIRE_TLS_CONNECT_OPTS_INIT;
    to.net = co;
    to.ctx = req->tls_ctx;
    to.servername = req->servername;
    to.reject_unauthorized = req->reject;
    to.alpn = http11;
    if (o != NULL && o->sess != NULL) {
      to.session = o->sess;
      to.session_len = o->sess_len;
    }
    err = wire_tls_connect(req->obj.loop, &to, on_connected, c, &c->s);
    if (err == 0)
      wire_tls_on_session(c->s, on_tls_session);
  } else {
    err = wire_socket_connect(req->obj.loop, &co, on_connected, c, &c->s);
  }
  if (err < 0) {
    wire__free(c);
    return err;
  }
  c->agent = req->agent;
  c->origin = o;
  wire_socket_set_data(c->s, c);
  wire_socket_on_data(c->s, on_sock_data);
  wire_socket_on_end(c->s, on_sock_end);
  wire_socket_on_error(c->s, on_sock_error);
  wire_socket_on_close(c->s, on_sock_close);
  wire_socket_on_drain(c->s, on_sock_drain);
  wire_socket_on_timeout(c->s, on_sock_timeout);
  if (req->agent != NULL) {
    req->agent->nconns++;
    o->created++;
  }
  *out = c;
  return 0;
}

/* ---- the response parser ------------------------------------------------- */

static int on_message_begin(wire_http_parser_t *p)
{
  cconn_t *c = p->data;
  wire_http_client_req_t *req = c->req;
  if (req == NULL)
    return WIRE_EHTTPPARSE;
  /* After an interim (1xx) response, the final one starts afresh. */
  wire__hstore_reset(&req->res.hs);
  req->res.reason = 0;
  return 0;
}

static int on_status(wire_http_parser_t *p, const char *at, size_t len,
                     int last)
{
  cconn_t *c = p->data;
  return wire__hstore_piece(&c->req->res.hs, at, len, last);
}

static int on_header_field(wire_http_parser_t *p, const char *at, size_t len,
                           int last)
{
  cconn_t *c = p->data;
  return wire__hstore_field(&c->req->res.hs, at, len, last);
}

static int on_header_value(wire_http_parser_t *p, const char *at, size_t len,
                           int last)
{
  cconn_t *c = p->data;
  return wire__hstore_value(&c->req->res.hs, at, len, last, 0);
}

static int on_trailer_field(wire_http_parser_t *p, const char *at, size_t len,
                            int last)
{
  cconn_t *c = p->data;
  return wire__hstore_field(&c->req->res.hs, at, len, last);
}

static int on_trailer_value(wire_http_parser_t *p, const char *at, size_t len,
                            int last)
{
  cconn_t *c = p->data;
  return wire__hstore_value(&c->req->res.hs, at, len, last, 1);
}

static int pause_here(cconn_t *c)
{
  c->reparse = 1;
  return WIRE_HTTP_CB_PAUSE;
}

/* "timeout=N" in a Keep-Alive header: 1 and *ms = N s in ms, or 0. */
static int keep_alive_hint(const char *v, uint64_t *ms)
{
  if (v == NULL)
    return 0;
  const char *t = strstr(v, "timeout=");
  if (t == NULL || t[8] < '0' || t[8] > '9')
    return 0;
  uint64_t n = strtoull(t + 8, NULL, 10);
  *ms = n > UINT64_MAX / 1000 ? UINT64_MAX : n * 1000;
  return 1;
}

static int on_headers_complete(wire_http_parser_t *p)
{
  cconn_t *c = p->data;
  wire_http_client_req_t *req = c->req;
  wire_http_client_res_t *res = &req->res;
  res->status = p->status;
  res->version = p->http_major * 10 + p->http_minor;
  if (p->status >= 100 && p->status < 200 && p->status != 101) {
    res->interim = 1;
    wire__obj_ref(&req->obj);
    if (p->status == 100) {
      req->hold_body = 0;
      if (req->on_continue != NULL)
        req->on_continue(req, req->arg);
      if (!req->done)
        req_flush(req);
    } else if (req->on_information != NULL) {
      req->on_information(req, res, req->arg);
    }
    wire__obj_unref(&req->obj);
    return c->dead ? pause_here(c) : 0;
  }
  res->interim = 0;
  if (p->status == 101 || (req->is_connect && p->status < 300)) {
    c->upgrading = 1;
    return WIRE_HTTP_CB_UPGRADE;
  }
  /* A final answer before 100 Continue: the held body is never sent, and
   * the connection cannot carry another request. */
  if (req->hold_body) {
    req->hold_body = 0;
    buf_free(&req->out);
    req->sent = 0;
    c->keep = 0;
  } else {
    c->keep = wire_http_should_keep_alive(p);
  }
  c->has_ka =
      keep_alive_hint(wire__hstore_get(&res->hs, "Keep-Alive", 0), &c->ka_ms);
  /* Node keeps a socket until a second before the server's Keep-Alive
   * timeout; with a hint of 1 s or less there is no safe time to reuse
   * it. */
  if (c->has_ka && c->ka_ms <= 1000)
    c->keep = 0;
  wire__obj_ref(&req->obj);
  if (req->on_response != NULL)
    req->on_response(req, res, req->arg);
  wire__obj_unref(&req->obj);
  if (c->dead || req->done)
    return pause_here(c);
  if (res->paused)
    return pause_here(c);
  return req->is_head ? WIRE_HTTP_CB_SKIP_BODY : 0;
}

static int on_body(wire_http_parser_t *p, const char *at, size_t len)
{
  cconn_t *c = p->data;
  wire_http_client_req_t *req = c->req;
  wire_http_client_res_t *res = &req->res;
  res->body_bytes += len;
  if (req->max_body > 0 && res->body_bytes > req->max_body)
    return WIRE_ETOOBIG;
  if (res->on_data != NULL)
    res->on_data(res, at, len, req->arg);
  if (c->dead || req->done || res->paused)
    return pause_here(c);
  return 0;
}

static int on_message_complete(wire_http_parser_t *p)
{
  cconn_t *c = p->data;
  wire_http_client_req_t *req = c->req;
  wire_http_client_res_t *res = &req->res;
  if (res->interim)
    return 0; /* the final response follows */
  if (c->upgrading)
    return WIRE_HTTP_CB_PAUSE; /* conn_parse hands the socket over */
  res->complete = 1;
  if (res->on_end != NULL)
    res->on_end(res, req->arg);
  /* The connection moves on (to the pool, the next request, or its close)
   * only after execute returns: never re-initialise a parser from inside
   * its own callback. */
  c->complete = 1;
  return pause_here(c);
}

/* After execute or finish: a response that completed ends its request and
 * frees the connection for the next. leftover: bytes followed it. */
static int conn_after_parse(cconn_t *c, int leftover)
{
  if (!c->complete)
    return 0;
  c->complete = 0;
  c->reparse = 0;
  wire_http_client_req_t *req = c->req;
  if (req == NULL)
    return 1; /* closed meanwhile: c is closing */
  req->conn = NULL;
  c->req = NULL;
  /* Reuse needs the whole request sent (an answer that came before the
   * end leaves the rest of the body nowhere to go) and nothing after the
   * response (bytes after it mean a confused server). */
  if (req->ended && c->keep && !c->dead && !leftover)
    conn_release(c);
  else
    conn_close(c);
  /* A close from the end event already scheduled this. */
  req_close_later(req);
  return 1;
}

static const wire_http_parser_settings_t *settings(void)
{
  static wire_http_parser_settings_t ps;
  if (ps.on_message_begin == NULL) {
    ps.on_status = on_status;
    ps.on_header_field = on_header_field;
    ps.on_header_value = on_header_value;
    ps.on_headers_complete = on_headers_complete;
    ps.on_body = on_body;
    ps.on_trailer_field = on_trailer_field;
    ps.on_trailer_value = on_trailer_value;
    ps.on_message_complete = on_message_complete;
    ps.on_message_begin = on_message_begin;
  }
  return &ps;
}

/* Upgrade or CONNECT: the socket leaves the client with the bytes after
 * the response head. Returns 1 when c is freed (the socket was taken). */
static int hand_over(cconn_t *c, const char *head, size_t len)
{
  wire_http_client_req_t *req = c->req;
  wire_socket_t *s = c->s;
  int is_connect = req->is_connect && req->res.status != 101;
  wire_http_client_upgrade_cb cb =
      is_connect ? req->on_connect : req->on_upgrade;
  req->done = 1;
  req->conn = NULL;
  c->req = NULL;
  if (cb == NULL) {
    /* Nobody takes the stream (as Node without an upgrade listener). */
    conn_close(c);
    req_close_later(req);
    return 0;
  }
  /* The connection object stays until the socket's close event would have
   * reached it: detach its callbacks and free it now instead. */
  wire_socket_set_data(s, NULL);
  wire_socket_on_data(s, NULL);
  wire_socket_on_end(s, NULL);
  wire_socket_on_error(s, NULL);
  wire_socket_on_close(s, NULL);
  wire_socket_on_drain(s, NULL);
  wire_socket_on_timeout(s, NULL);
  wire_socket_set_timeout(s, 0);
  if (c->paused)
    wire_socket_resume(s);
  c->dead = 1;
  wire_agent_t *a = c->agent;
  origin_t *o = c->origin;
  if (o != NULL)
    conn_uncount(c);
  wire__free(c->pending);
  wire__poison(c, sizeof(*c));
  wire__free(c);
  wire__obj_ref(&req->obj);
  cb(req, &req->res, s, head, len, req->arg);
  req_close_later(req);
  wire__obj_unref(&req->obj);
  if (a != NULL) {
    a->nconns--;
    agent_pump(o, a);
    agent_maybe_finish(a);
  }
  return 1;
}

/* Parses bytes of c's response. Returns 1 when c is gone (its socket was
 * handed over and c freed): the caller must not touch it. */
static int conn_parse(cconn_t *c, const char *data, size_t len)
{
  size_t nread = 0;
  c->got_bytes = 1;
  c->reparse = 0;
  c->in_parse = 1;
  int err = wire_http_parser_execute(&c->parser, data, len, &nread);
  c->in_parse = 0;
  if (err < 0) {
    if (c->req != NULL)
      req_fail(c->req, err);
    else
      conn_close(c);
    return 0;
  }
  if (c->parser.upgraded && c->upgrading) {
    /* The parser calls on_message_complete for a 101 too: that is no end
     * of a response, the socket goes to the caller. */
    c->complete = 0;
    c->reparse = 0;
    if (c->req == NULL || c->dead)
      return 0;
    return hand_over(c, data + nread, len - nread);
  }
  if (conn_after_parse(c, nread < len))
    return 0;
  if (c->dead || c->req == NULL)
    return 0;
  if (nread < len) {
    size_t rest = len - nread;
    char *p = wire__malloc(rest);
    if (p == NULL) {
      req_fail(c->req, WIRE_ENOMEM);
      return 0;
    }
    memcpy(p, data + nread, rest);
    wire__free(c->pending);
    c->pending = p;
    c->pending_len = rest;
    c->reparse = 0;
    if (!c->paused) {
      c->paused = 1;
      wire_socket_pause(c->s);
    }
  } else if (c->reparse && !c->paused) {
    c->paused = 1;
    wire_socket_pause(c->s);
  }
  return 0;
}

static void conn_resume(cconn_t *c)
{
  c->paused = 0;
  while (!c->paused && !c->dead && c->req != NULL &&
         (c->pending != NULL || c->reparse)) {
    if (c->pending == NULL) {
      if (conn_parse(c, "", 0))
        return;
      continue;
    }
    char *p = c->pending;
    size_t n = c->pending_len;
    c->pending = NULL;
    c->pending_len = 0;
    int gone = conn_parse(c, p, n);
    wire__free(p);
    if (gone)
      return;
  }
  if (!c->paused && !c->dead)
    wire_socket_resume(c->s);
}

void wire_http_client_res_pause(wire_http_client_res_t *res)
{
  res->paused = 1;
  cconn_t *c = res->req->conn;
  if (c != NULL && !c->paused) {
    c->paused = 1;
    wire_socket_pause(c->s);
  }
}

void wire_http_client_res_resume(wire_http_client_res_t *res)
{
  res->paused = 0;
  cconn_t *c = res->req->conn;
  if (c == NULL || !c->paused)
    return;
  if (c->in_parse) {
    c->paused = 0;
    wire_socket_resume(c->s);
    return;
  }
  conn_resume(c);
}

/* ---- the agent --------------------------------------------------------------
 */

static origin_t *origin_find(wire_agent_t *a, const wire_http_client_req_t *r,
                             int create)
{
  for (origin_t *o = a->origins; o != NULL; o = o->next) {
    if (o->port == r->port && same(o->host, r->host) &&
        same(o->local, r->local) && same(o->sock_path, r->sock_path) &&
        o->tls == (int)r->tls &&
        (!r->tls || (o->tls_ctx == r->tls_ctx && o->reject == (int)r->reject &&
                     same(o->servername, r->servername))))
      return o;
  }
  if (!create)
    return NULL;
  origin_t *o = wire__calloc(1, sizeof(*o));
  if (o == NULL)
    return NULL;
  int err = 0;
  o->host = dup_or_null(r->host, &err);
  o->local = dup_or_null(r->local, &err);
  o->sock_path = dup_or_null(r->sock_path, &err);
  o->servername = dup_or_null(r->servername, &err);
  o->port = r->port;
  o->tls = r->tls;
  o->reject = r->reject;
  if (err < 0) {
    wire__free(o->host);
    wire__free(o->local);
    wire__free(o->sock_path);
    wire__free(o->servername);
    wire__free(o);
    return NULL;
  }
  /* The key compares the context by address: hold it, so that no other
   * context can take that address while the origin lives. */
  o->tls_ctx = r->tls_ctx;
  if (o->tls_ctx != NULL)
    wire__tls_ctx_ref(o->tls_ctx);
  o->next = a->origins;
  a->origins = o;
  return o;
}

/* Gives req a connection: a free one (unless fresh is asked for), a new
 * one within max_sockets, or a place in the queue. */
static void agent_assign(wire_http_client_req_t *req, int fresh)
{
  wire_agent_t *a = req->agent;
  if (a == NULL) {
    cconn_t *c;
    int err = conn_new(req, NULL, &c);
    if (err < 0) {
      req_fail(req, err);
      return;
    }
    attach(req, c, 0);
    return;
  }
  if (a->closing) {
    /* Started (or retried) after wire_agent_close. */
    req_fail(req, WIRE_ECANCELED);
    return;
  }
  origin_t *o = req->origin;
  if (!fresh && o->free != NULL) {
    cconn_t *c = o->free; /* most recently freed first */
    conn_unlink_free(c);
    c->counted = 1;
    o->active++;
    wire_socket_ref(c->s);
    attach(req, c, 1);
    return;
  }
  if (fresh || a->o.max_sockets == 0 || o->active < a->o.max_sockets) {
    cconn_t *c;
    int err = conn_new(req, o, &c);
    if (err < 0) {
      req_fail(req, err);
      return;
    }
    c->counted = 1;
    o->active++;
    attach(req, c, 0);
    return;
  }
  req->qnext = NULL;
  if (o->qtail != NULL)
    o->qtail->qnext = req;
  else
    o->qhead = req;
  o->qtail = req;
  o->nqueue++;
}

/* Serves waiting requests while the origin has room. */
static void agent_pump(origin_t *o, wire_agent_t *a)
{
  while (o->qhead != NULL &&
         (a->o.max_sockets == 0 || o->active < a->o.max_sockets ||
          o->free != NULL)) {
    wire_http_client_req_t *req = o->qhead;
    o->qhead = req->qnext;
    if (o->qhead == NULL)
      o->qtail = NULL;
    o->nqueue--;
    req->qnext = NULL;
    agent_assign(req, 0);
  }
}

/* A response completed on c and both sides allow reuse. */
static void conn_release(cconn_t *c)
{
  wire_agent_t *a = c->agent;
  origin_t *o = c->origin;
  if (a == NULL || !a->o.keep_alive || a->closing) {
    conn_close(c);
    return;
  }
  if (o->qhead != NULL) {
    wire_http_client_req_t *req = o->qhead;
    o->qhead = req->qnext;
    if (o->qhead == NULL)
      o->qtail = NULL;
    o->nqueue--;
    req->qnext = NULL;
    attach(req, c, 1);
    return;
  }
  if (o->nfree >= a->o.max_free_sockets) {
    conn_close(c);
    return;
  }
  conn_uncount(c);
  c->idle = 1;
  c->next = o->free;
  o->free = c;
  o->nfree++;
  /* The idle timeout: the agent's, or a second before the server's own
   * Keep-Alive timeout (Node's rule; hints of 1 s or less are not kept). */
  uint64_t limit = a->o.free_socket_timeout_ms;
  if (c->has_ka && c->ka_ms - 1000 < limit)
    limit = c->ka_ms - 1000;
  wire_socket_set_timeout(c->s, limit);
  /* An idle pool does not keep the loop alive (Node unrefs them too). */
  wire_socket_unref(c->s);
}

static void agent_finalize(wire__obj_t *obj)
{
  wire_agent_t *a = (wire_agent_t *)obj;
  while (a->origins != NULL) {
    origin_t *o = a->origins;
    a->origins = o->next;
    wire__free(o->host);
    wire__free(o->local);
    wire__free(o->sock_path);
    wire__free(o->servername);
    wire__free(o->sess);
    wire_tls_ctx_free(o->tls_ctx);
    wire__free(o);
  }
  wire_tls_ctx_free(a->o.tls_ctx);
  wire__poison(a, sizeof(*a));
  wire__free(a);
}

int wire_agent_create(wire_loop_t *loop, const wire_agent_opts_t *o,
                      wire_agent_t **out)
{
  static const wire_agent_opts_t defaults = WIRE_AGENT_OPTS_INIT;
  wire_agent_t *a = wire__calloc(1, sizeof(*a));
  if (a == NULL)
    return WIRE_ENOMEM;
  a->o = o != NULL ? *o : defaults;
  if (a->o.free_socket_timeout_ms == 0)
    a->o.free_socket_timeout_ms = defaults.free_socket_timeout_ms;
  if (a->o.tls_ctx != NULL)
    wire__tls_ctx_ref(a->o.tls_ctx);
  wire__obj_init(&a->obj, loop, agent_finalize);
  *out = a;
  return 0;
}

static void global_hook(wire__close_hook_t *h)
{
  wire_agent_t *a = (wire_agent_t *)((char *)h - offsetof(wire_agent_t, hook));
  if (!a->closing)
    wire_agent_close(a, NULL, NULL);
}

wire_agent_t *wire_agent_global(wire_loop_t *loop)
{
  void **slot = wire__loop_slot(loop, WIRE__SLOT_AGENT);
  if (*slot == NULL) {
    wire_agent_t *a;
    if (wire_agent_create(loop, NULL, &a) < 0)
      return NULL;
    a->is_global = 1;
    a->hook.fn = global_hook;
    wire__loop_add_close_hook(loop, &a->hook);
    *slot = a;
  }
  return *slot;
}

void wire_agent_stats(const wire_agent_t *a, const char *host, int port,
                      const char *socket_path, wire_agent_stats_t *out)
{
  memset(out, 0, sizeof(*out));
  for (const origin_t *o = a->origins; o != NULL; o = o->next) {
    int all = host == NULL && socket_path == NULL;
    int match = socket_path != NULL
                    ? same(o->sock_path, socket_path)
                    : (host != NULL && same(o->host, host) && o->port == port);
    if (!all && !match)
      continue;
    out->sockets += o->active;
    out->free_sockets += o->nfree;
    out->requests += o->nqueue;
    out->created += o->created;
    out->reused += o->reused;
  }
}

static void agent_closed(void *arg)
{
  wire_agent_t *a = arg;
  if (a->close_cb != NULL)
    a->close_cb(a, a->close_arg);
  /* Requests still alive hold their own references. */
  wire__obj_unref(&a->obj);
}

static void agent_maybe_finish(wire_agent_t *a)
{
  if (!a->closing || a->finished || a->nconns > 0)
    return;
  a->finished = 1;
  if (a->is_global) {
    *wire__loop_slot(a->obj.loop, WIRE__SLOT_AGENT) = NULL;
    wire__loop_remove_close_hook(a->obj.loop, &a->hook);
  }
  if (wire__defer(a->obj.loop, agent_closed, a) < 0)
    agent_closed(a); /* no memory for a deferral: on this turn */
}

void wire_agent_close(wire_agent_t *a, wire_agent_close_cb cb, void *arg)
{
  assert(!a->closing && "agent closed twice");
  a->closing = 1;
  a->close_cb = cb;
  a->close_arg = arg;
  for (origin_t *o = a->origins; o != NULL; o = o->next) {
    while (o->qhead != NULL)
      req_fail(o->qhead, WIRE_ECANCELED);
    cconn_t *next;
    for (cconn_t *c = o->free; c != NULL; c = next) {
      next = c->next;
      conn_close(c);
    }
  }
  agent_maybe_finish(a);
}

/* ---- starting requests ------------------------------------------------------
 */

static int is_idempotent(const char *m)
{
  static const char *const list[] = {"GET", "HEAD",   "OPTIONS", "TRACE",
                                     "PUT", "DELETE", NULL};
  for (int i = 0; list[i] != NULL; i++) {
    if (strcmp(m, list[i]) == 0)
      return 1;
  }
  return 0;
}

static void req_start(void *arg)
{
  wire_http_client_req_t *req = arg;
  req->started = 1;
  if (req->done) {
    wire__obj_unref(&req->obj); /* closed before it started */
    return;
  }
  agent_assign(req, 0);
  wire__obj_unref(&req->obj);
}

int wire_http_request(wire_loop_t *loop, const wire_http_request_opts_t *o,
                      wire_http_response_cb on_response, void *arg,
                      wire_http_client_req_t **out)
{
  if (o == NULL || out == NULL || o->port < 0 || o->port > 65535)
    return WIRE_EINVAL;
  const char *method = o->method != NULL ? o->method : "GET";
  const char *path = o->path != NULL ? o->path : "/";
  if (!wire__http_valid_token(method) || !valid_target(path))
    return WIRE_EINVAL;
  if (!valid_host(o->hostname) || !valid_host(o->host) ||
      !valid_host(o->local_address))
    return WIRE_EINVAL;
  wire_agent_t *agent = NULL;
  if (!o->no_agent) {
    agent = o->agent != NULL ? o->agent : wire_agent_global(loop);
    if (agent == NULL)
      return WIRE_ENOMEM;
    if (agent->closing)
      return WIRE_ECLOSED;
  }
  /* malloc and memset rather than calloc: glibc's calloc skips the
   * per-thread cache, and a request is made and freed per round trip. */
  wire_http_client_req_t *req = wire__malloc(sizeof(*req));
  if (req == NULL)
    return WIRE_ENOMEM;
  memset(req, 0, sizeof(*req));
  int err = 0;
  const char *host = o->hostname != NULL ? o->hostname
                     : o->host != NULL   ? o->host
                                         : "localhost";
  size_t lh = strlen(host) + 1, lm = strlen(method) + 1;
  req->host = wire__malloc(lh + lm + strlen(path) + 1);
  if (req->host == NULL) {
    err = WIRE_ENOMEM;
  } else {
    req->method = memcpy(req->host + lh, method, lm);
    req->path = strcpy(req->method + lm, path);
    memcpy(req->host, host, lh);
  }
  req->local = dup_or_null(o->local_address, &err);
  req->sock_path = dup_or_null(o->socket_path, &err);
  req->tls = o->tls != 0;
  req->port = o->port != 0 ? o->port : req->tls ? 443 : 80;
  if (req->tls) {
    req->reject = o->reject_unauthorized != 0;
    req->servername = dup_or_null(o->servername, &err);
    req->tls_ctx = o->tls_ctx;
    if (req->tls_ctx == NULL && agent != NULL)
      req->tls_ctx = agent->o.tls_ctx;
    if (req->tls_ctx != NULL)
      wire__tls_ctx_ref(req->tls_ctx);
  }
  req->timeout_ms = o->timeout_ms;
  req->max_body = o->max_body_size;
  req->agent = agent;
  req->on_response = on_response;
  req->arg = arg;
  req->is_head = strcmp(method, "HEAD") == 0;
  req->is_connect = strcmp(method, "CONNECT") == 0;
  req->idempotent = is_idempotent(method);
  /* Only an idempotent request on an agent's reused socket is retried. */
  req->replayable = agent != NULL && req->idempotent;
  req->res.req = req;
  wire__hstore_init(&req->res.hs, req->res.ibuf, sizeof(req->res.ibuf),
                    req->res.ih, 16,
                    o->max_header_size ? o->max_header_size : 16 * 1024);
  for (const char *const *h = o->headers; err == 0 && h != NULL && h[0];
       h += 2) {
    if (h[1] == NULL || !wire__http_valid_token(h[0]) ||
        !wire__http_valid_value(h[1]))
      err = WIRE_EINVAL;
    else
      err = hdr_add(&req->hdrs, h[0], h[1]);
  }
  if (err == 0 && o->auth != NULL &&
      hdr_find(&req->hdrs, "Authorization") == NULL) {
    size_t n = strlen(o->auth);
    char *b = wire__malloc(4 * ((n + 2) / 3) + 8);
    if (b == NULL) {
      err = WIRE_ENOMEM;
    } else {
      char *val = wire__malloc(4 * ((n + 2) / 3) + 16);
      if (val == NULL) {
        err = WIRE_ENOMEM;
      } else {
        wire__base64_encode(o->auth, n, b);
        sprintf(val, "Basic %s", b);
        err = hdr_add(&req->hdrs, "Authorization", val);
        wire__free(val);
      }
      wire__free(b);
    }
  }
  if (err == 0 && agent != NULL) {
    req->origin = origin_find(agent, req, 1);
    if (req->origin == NULL)
      err = WIRE_ENOMEM;
  }
  if (err < 0) {
    req->obj.loop = loop;
    req->agent = NULL;
    req_finalize(&req->obj);
    return err;
  }
  wire__obj_init(&req->obj, loop, req_finalize);
  /* The agent (its origins) outlives every request made on it. */
  if (agent != NULL)
    wire__obj_ref(&agent->obj);
  /* The connection is chosen on a later turn, after the caller set its
   * events and (usually) wrote and ended the request. */
  wire__obj_ref(&req->obj);
  err = wire__defer(loop, req_start, req);
  if (err < 0) {
    wire__obj_unref(&req->obj);
    wire__obj_unref(&req->obj);
    return err;
  }
  *out = req;
  return 0;
}

/* ---- http.get
 * ------------------------------------------------------------------ */

int wire_http_get(wire_loop_t *loop, const char *url,
                  wire_http_response_cb on_response, void *arg,
                  wire_http_client_req_t **out)
{
  if (url == NULL)
    return WIRE_EINVAL;
  int tls = strncmp(url, "https://", 8) == 0;
  if (!tls && strncmp(url, "http://", 7) != 0)
    return WIRE_EINVAL;
  const char *p = url + (tls ? 8 : 7);
  const char *slash = strchr(p, '/');
  size_t alen = slash != NULL ? (size_t)(slash - p) : strlen(p);
  if (alen == 0 || alen >= 512)
    return WIRE_EINVAL;
  char authority[512];
  memcpy(authority, p, alen);
  authority[alen] = '\0';
  char *auth = NULL;
  char *hostport = authority;
  char *at = strrchr(authority, '@');
  if (at != NULL) {
    *at = '\0';
    auth = authority;
    hostport = at + 1;
  }
  int port = tls ? 443 : 80;
  char *host = hostport;
  if (host[0] == '[') {
    char *close = strchr(host, ']');
    if (close == NULL)
      return WIRE_EINVAL;
    *close = '\0';
    host++;
    if (close[1] == ':')
      port = atoi(close + 2);
    else if (close[1] != '\0')
      return WIRE_EINVAL;
  } else {
    char *colon = strchr(host, ':');
    if (colon != NULL) {
      *colon = '\0';
      port = atoi(colon + 1);
    }
  }
  if (host[0] == '\0' || port <= 0 || port > 65535)
    return WIRE_EINVAL;
  wire_http_request_opts_t o = WIRE_HTTP_REQUEST_OPTS_INIT;
  o.host = host;
  o.port = port;
  o.path = slash != NULL ? slash : "/";
  o.auth = auth;
  o.tls = tls;
  int err = wire_http_request(loop, &o, on_response, arg, out);
  if (err == 0)
    wire_http_client_req_end(*out, NULL, 0);
  return err;
}
