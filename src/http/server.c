/* http.Server: HTTP/1.1 on any wire stream.
 *
 * A connection (conn_t) wraps one socket and one parser. Each request gets
 * a block (msg_t) holding the request and its response, taken from a small
 * per-server pool, so a steady stream of requests allocates nothing. The
 * request's method, target and header lines are copied into the block as
 * the parser hands them out (the read buffer is shared by the whole loop),
 * which is what keeps the views the accessors return valid.
 *
 * Pipelining: the blocks of a connection form a queue in request order.
 * Only the head of the queue writes to the socket; a later response that is
 * ready first buffers its bytes in its block and goes out when it becomes
 * the head. All writes of one loop turn leave in one writev (the stream
 * engine coalesces them).
 *
 * Life of a block: created at the request's first byte; the request event
 * fires at the end of its headers; body bytes go to the request's data
 * callback; the user ends the response. When the response is ended and
 * the request fully read (or the connection is gone), the block goes on the
 * server's zombie list; an end-of-turn hook fires the finish events and
 * returns the blocks to the pool, after the turn's writes were queued (a
 * block whose response went out before its request's last byte was parsed,
 * with no finish callback, goes back to the pool at once, so the next
 * pipelined request reuses it while it is in cache). A
 * block stays in its connection's queue until pipeline_advance unlinks it
 * (its bytes went to the socket), however early it was ended. A response
 * whose connection closed before it was ended stays allocated until the
 * user calls wire_http_res_end (which then returns WIRE_ECLOSED and frees
 * it): end is the release, always call it once. A block the user never saw
 * (a head cut short, a rejected request) is released with its connection.
 * Every block holds a reference on the server, so a response ended after
 * the server closed is still safe.
 *
 * Reading: the connection pauses its socket while the request being read
 * is paused, while 64 requests wait for their responses, or while input is
 * left over from a pause (pending). conn_settle, run after every read and
 * every finished response, resumes what no longer holds and ends the
 * connection when nothing is left to do (the peer ended, or the server is
 * closing).
 *
 * Idle connections: between requests a keep-alive connection sleeps, at
 * the end of the turn after its first request and otherwise at the sweep:
 * its conn_t is freed and, on a socket of the server's own listener, the
 * socket alone remembers it (see conn_sleep); its socket's next event
 * wakes it.
 *
 * Timeouts: one sweep timer per server (every second, unref'd, running
 * until the server's close completes) checks every connection: a request
 * head in progress (headers timeout, counted from the connection for the
 * first request, else from the request's first byte), a body in progress
 * (request timeout, from the request's first byte), idle between requests
 * (keep-alive timeout), and an ended connection whose peer never sends its
 * FIN (closed once its queued bytes stop moving for the keep-alive
 * timeout). */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>
#include <time.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "../core/internal.h"
#include "../stream/internal.h"
#include "headers.h"
#include "parser.h"
#include "wire/http.h"

/* Blocks kept for reuse: enough that a turn serving many requests (1,000
 * keep-alive connections, deep pipelines) allocates nothing; the sweep
 * trims an idle pool back to POOL_IDLE. */
#define POOL_MAX 1024
#define POOL_IDLE 64
#define RH_INLINE 256
#define PIPELINE_MAX 64 /* requests parsed ahead of their responses */
#define INLINE_BUF 1024
#define INLINE_HDRS 32
#define NOINLINE __attribute__((noinline))
#define ALWAYS_INLINE inline __attribute__((always_inline))
#define PENDING_MAX (256 * 1024)
#define TMPL_MAX 512 /* the cached response head (send_head_fast) */
#define PAIRS 4        /* header pairs set_header remembers (pair_valid) */
#define PAIR_TEXT 128 /* "name\0value\0" */

typedef struct conn_s conn_t;
typedef struct msg_s msg_t;

/* A header line copied into a block's buffer: offsets of NUL-terminated
 * name and value. */
typedef struct {
  uint32_t name;
  uint32_t value;
} hdr_t;

/* Growable storage with an inline start and a hard cap. */
typedef struct {
  char *p;
  size_t len;
  size_t cap;
} sbuf_t;

struct wire_http_req_s {
  msg_t *m;
  wire_http_req_data_cb on_data;
  wire_http_req_event_cb on_end;
  void *data;
};

struct wire_http_res_s {
  msg_t *m;
  wire_http_res_event_cb on_drain;
  wire_http_res_event_cb on_finish;
  wire_http_res_event_cb on_close;
  void *data;
};

struct msg_s {
  /* Cleared by msg_new, up to conn. */
  wire_http_req_t req;
  wire_http_res_t res;
  uint32_t nhdrs;
  uint32_t ntrailers; /* trailers follow the headers in hdrs */
  uint32_t method, url;
  uint32_t field_start;
  uint8_t in_value;
  uint8_t in_trailer;
  uint8_t req_complete;
  uint8_t req_paused;
  uint8_t is_head;
  uint8_t keep_alive;
  uint8_t headers_done;
  uint8_t delivered; /* the user got it (request/upgrade event) */
  uint8_t head_sent;   /* the head's bytes went out */
  uint8_t head_locked; /* no more header changes: writeHead, or sent */
  uint8_t ended;
  uint8_t chunked;
  uint8_t has_cl;
  uint8_t no_body;
  uint8_t close_after;
  uint8_t user_date;
  uint8_t finished; /* all bytes queued on the socket */
  uint8_t closed;   /* the connection died first */
  uint8_t zombie;
  uint8_t need_drain;
  uint8_t rh_special; /* a header send_head looks for was set */
  /* So far the usual response (head_is_usual): an HTTP/1.1 keep-alive
   * request that is not HEAD, status 200 without a reason of the user's,
   * no framing header set, head not sent. */
  uint8_t usual;
  uint8_t drain_queued;
  /* A buffer may have left its inline storage (sbuf_add, the index, the
   * reason): msg_clean frees what did. */
  uint8_t spilled;
  /* rh is exactly the pair of pair slot rh_one - 1, copied when
   * srv->pair_gen was rh_gen (0: not known to be). */
  uint8_t rh_one;
  uint64_t body_sent;

  /* From conn on: set by msg_new, or valid only with the flag that says
   * so. */
  conn_t *conn; /* NULL once the connection is gone */
  msg_t *next;  /* the connection's queue, or the zombie/pool list */
  wire_http_server_t *srv;
  /* In the request event of a head on_head got: the head, in the parser's
   * input, until head_store copies it into buf. */
  const wire_http_head_t *lazy;
  int version;
  int status;
  uint64_t content_length; /* with has_cl */
  msg_t *dnext; /* the server's list of drains to deliver (drain_queued) */
  uint64_t rh_gen; /* with rh_one */

  /* Empty in a block from the pool: msg_free leaves them so. */
  sbuf_t buf;      /* request strings */
  hdr_t *hdrs;     /* header index */
  uint32_t hdrs_cap;
  char *reason;    /* the user's reason phrase (a copy), or NULL */
  sbuf_t rh;       /* response headers: "name\0value\0" pairs */
  sbuf_t out;      /* bytes waiting for this block to be the head */
  sbuf_t trailers; /* "name: value\r\n" lines */

  char rbuf[RH_INLINE]; /* response headers, most fit */
  char ibuf[INLINE_BUF];
  hdr_t ihdrs[INLINE_HDRS];
};

struct conn_s {
  /* An idle connection's record keeps only these (CONN_IDLE_SIZE bytes;
   * see conn_sleep). */
  wire_http_server_t *srv;
  wire_socket_t *s;
  conn_t *prev, *next;
  uint64_t since; /* last request or response done (loop ms) */
  unsigned nrequests;
  uint8_t idle; /* IDLE_*: the fields below do not exist */

  conn_t *snext;        /* the server's list of connections to put to sleep */
  uint8_t sleep_queued; /* on that list */
  wire_http_parser_t parser;
  msg_t *head, *tail; /* requests in order; head is the one writing */
  msg_t *cur;         /* the request being parsed */
  /* A block the parse finished with, for the next request of the same
   * parse (in_parse only; conn_parse releases it). */
  msg_t *spare;
  char *pending;      /* unparsed input kept over a pause */
  size_t pending_len;
  uint64_t req_start;    /* the current request's first byte (loop ms) */
  uint64_t last_written; /* ended: bytes written at the last check */
  unsigned nmsgs;
  unsigned paused : 1;    /* our socket reading is paused */
  unsigned peer_ended : 1;
  unsigned closing : 1;   /* close after the last response */
  unsigned dead : 1;      /* ended or closing: no more HTTP */
  unsigned close_req : 1; /* wire__socket_close_owned called */
  unsigned in_parse : 1;
  unsigned reparse : 1; /* a callback paused: resume with execute(0) */
};

#define CONN_IDLE_SIZE offsetof(conn_t, snext)
enum { IDLE_NO, IDLE_YES, IDLE_CLOSING };

struct wire_http_server_s {
  wire__obj_t obj;
  wire_http_server_opts_t o;
  wire_http_parser_settings_t ps;
  wire_server_t *net;
  wire_timer_t *sweep;
  wire__flush_t gc;

  wire_http_request_cb on_request;
  wire_http_connection_cb on_connection;
  wire_http_request_cb on_check_continue;
  wire_http_request_cb on_check_expectation;
  wire_http_upgrade_cb on_connect;
  wire_http_upgrade_cb on_upgrade;
  wire_http_client_error_cb on_client_error;
  wire_http_server_event_cb on_listening;
  wire_http_server_event_cb on_close;
  wire_http_server_event_cb close_cb;
  wire_http_listen_cb listen_cb;
  void *data;

  conn_t *conns;
  unsigned nconns;
  msg_t *pool;
  unsigned npool;
  msg_t *zombies;
  msg_t *drains; /* responses whose drain the end-of-turn hook delivers */
  conn_t *dead_conns; /* handed over; freed by the end-of-turn hook */
  conn_t *sleepers;   /* idle after their first request: conn_sleep them */

  char ka_line[80]; /* "Connection: keep-alive\r\nKeep-Alive: ...", Node's */
  size_t ka_len;
  size_t buf_limit; /* a block's request strings: twice the head cap */
  /* The head of the usual response (HTTP/1.1 200 OK, keep-alive, a
   * known length, no header send_head must look at), for the user headers
   * in tmpl_rh at tmpl_sec's Date: the next such response copies it
   * (send_head_fast). It ends with "Content-Length: " at tmpl_cl, then
   * tmpl_body's digits and the empty line. */
  char tmpl[TMPL_MAX];
  size_t tmpl_len; /* 0: none yet */
  size_t tmpl_cl;
  size_t tmpl_body;
  char tmpl_rh[RH_INLINE];
  size_t tmpl_rh_len;
  /* tmpl_rh is the pair slot tmpl_one - 1 held when pair_gen was
   * tmpl_gen (tmpl_one 0: not known to be): a response whose rh_one and
   * rh_gen say the same needs no compare of the bytes. */
  uint8_t tmpl_one;
  uint64_t tmpl_gen;
  time_t tmpl_sec;
  /* Header pairs set_header checked lately, NUL-terminated: one equal to
   * a pair here is valid without the check (pair_valid). */
  struct {
    char text[PAIR_TEXT]; /* "name\0value\0", as rh keeps it */
    uint8_t nl, vl;       /* nl 0: empty slot */
    uint8_t special;      /* rh_is_special(name) */
  } pairs[PAIRS];
  unsigned pair_next;
  uint64_t pair_gen; /* counts the slot writes */
  char date[40]; /* "Date: ...\r\n" */
  size_t date_len;
  time_t date_sec;
  uint64_t date_turn; /* loop time of the last clock reading */
  /* The loop's time, read once per parse (it moves only between turns):
   * valid while parsing is set (srv_now). */
  uint64_t now;
  unsigned parsing;

  unsigned closing : 1;
  unsigned net_closed : 1;
  unsigned sweep_closing : 1;
  unsigned sweep_closed : 1;
  unsigned finished : 1;
};

static void conn_resume(conn_t *c);
static void conn_settle(conn_t *c);
static void client_error(conn_t *c, int err, int status);
static void conn_close(conn_t *c);
static void conn_detach(conn_t *c, msg_t *keep);
static void hand_over(conn_t *c, const char *head, size_t head_len);
static void msg_maybe_release(msg_t *m);
static void conn_finish(conn_t *c);
static void pipeline_advance(conn_t *c);
static void server_maybe_finish(wire_http_server_t *srv);
static int conn_can_sleep(const conn_t *c);
static void on_sock_data(wire_socket_t *s, const char *buf, size_t len,
                         void *data);
static void conn_sleep(conn_t *c);

/* ---- small buffers ------------------------------------------------------- */

/* Appends n bytes to b, one of m's buffers (inline_buf: its inline
 * storage, or NULL), growing it on the heap up to limit. */
static int sbuf_add(msg_t *m, sbuf_t *b, char *inline_buf, const char *p,
                    size_t n, size_t limit)
{
  if (n > limit || b->len > limit - n)
    return WIRE_ETOOBIG;
  if (b->len + n > b->cap) {
    if (wire__buf_grow(&b->p, &b->cap, b->len, n, inline_buf, 0) < 0)
      return WIRE_ENOMEM;
    m->spilled = 1;
  }
  if (n > 0)
    memcpy(b->p + b->len, p, n);
  b->len += n;
  return 0;
}

static void sbuf_free(sbuf_t *b, char *inline_buf, size_t inline_cap)
{
  if (b->p != inline_buf)
    wire__free(b->p);
  b->p = inline_buf;
  b->len = 0;
  b->cap = inline_cap;
}

/* ---- status texts and the Date cache ------------------------------------ */

/* The reason phrase of a status and its length. */
static const char *status_reason(int status, size_t *len)
{
#define R(text) (*len = sizeof(text) - 1, text)
  switch (status) {
  case 100: return R("Continue");
  case 101: return R("Switching Protocols");
  case 102: return R("Processing");
  case 103: return R("Early Hints");
  case 200: return R("OK");
  case 201: return R("Created");
  case 202: return R("Accepted");
  case 203: return R("Non-Authoritative Information");
  case 204: return R("No Content");
  case 205: return R("Reset Content");
  case 206: return R("Partial Content");
  case 300: return R("Multiple Choices");
  case 301: return R("Moved Permanently");
  case 302: return R("Found");
  case 303: return R("See Other");
  case 304: return R("Not Modified");
  case 307: return R("Temporary Redirect");
  case 308: return R("Permanent Redirect");
  case 400: return R("Bad Request");
  case 401: return R("Unauthorized");
  case 403: return R("Forbidden");
  case 404: return R("Not Found");
  case 405: return R("Method Not Allowed");
  case 406: return R("Not Acceptable");
  case 408: return R("Request Timeout");
  case 409: return R("Conflict");
  case 410: return R("Gone");
  case 411: return R("Length Required");
  case 412: return R("Precondition Failed");
  case 413: return R("Payload Too Large");
  case 414: return R("URI Too Long");
  case 415: return R("Unsupported Media Type");
  case 416: return R("Range Not Satisfiable");
  case 417: return R("Expectation Failed");
  case 426: return R("Upgrade Required");
  case 429: return R("Too Many Requests");
  case 431: return R("Request Header Fields Too Large");
  case 500: return R("Internal Server Error");
  case 501: return R("Not Implemented");
  case 502: return R("Bad Gateway");
  case 503: return R("Service Unavailable");
  case 504: return R("Gateway Timeout");
  case 505: return R("HTTP Version Not Supported");
  default: return R("");
  }
#undef R
}

const char *wire_http_status_text(int status)
{
  size_t n;
  return status_reason(status, &n);
}

/* The loop's time (ms): read once per parse rather than once per
 * request. */
static inline uint64_t srv_now(const wire_http_server_t *srv)
{
  return srv->parsing ? srv->now : wire_loop_now(srv->obj.loop);
}

/* The Date header line, formatted once per second. */
static void date_update(wire_http_server_t *srv)
{
  /* The clock is read once per loop turn (the loop's time moves then). */
  uint64_t turn = srv_now(srv);
  if (turn == srv->date_turn && srv->date_len > 0)
    return;
  srv->date_turn = turn;
  time_t now = time(NULL);
  if (now != srv->date_sec) {
    struct tm tm;
    gmtime_r(&now, &tm);
    srv->date_len = strftime(srv->date, sizeof(srv->date),
                             "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
    srv->date_sec = now;
  }
}

static const char *date_line(wire_http_server_t *srv, size_t *len)
{
  date_update(srv);
  *len = srv->date_len;
  return srv->date;
}

/* ---- blocks ------------------------------------------------------------ */

/* Zeroes a block's state (msg_t up to conn) with plain vector stores: a
 * compiler's memset of this size can be a rep stos, slow to start. */
static inline void msg_clear_state(msg_t *m)
{
#if defined(__SSE2__)
  _Static_assert(offsetof(msg_t, conn) % 16 == 0, "state: whole vectors");
  __m128i z = _mm_setzero_si128();
  for (size_t i = 0; i < offsetof(msg_t, conn); i += 16) {
    _mm_storeu_si128((__m128i *)((char *)m + i), z);
    __asm__("" ::: "memory"); /* no turning the loop back into memset */
  }
#else
  memset(m, 0, offsetof(msg_t, conn));
#endif
}

/* A block with clean buffers (msg_clean) made ready for a request. */
static inline void msg_init(msg_t *m, wire_http_server_t *srv, conn_t *c)
{
  /* Clear the state part only: the buffers are empty already. */
  msg_clear_state(m);
  m->srv = srv;
  m->conn = c;
  m->next = NULL;
  m->lazy = NULL;
  m->req.m = m;
  m->res.m = m;
  m->status = 200;
}

static msg_t *msg_new(wire_http_server_t *srv, conn_t *c)
{
  msg_t *m = srv->pool;
  if (m != NULL) {
    srv->pool = m->next;
    srv->npool--;
  } else {
    m = wire__malloc(sizeof(*m));
    if (m == NULL)
      return NULL;
    m->buf = (sbuf_t){m->ibuf, 0, INLINE_BUF};
    m->hdrs = m->ihdrs;
    m->hdrs_cap = INLINE_HDRS;
    m->reason = NULL;
    m->rh = (sbuf_t){m->rbuf, 0, RH_INLINE};
    m->out = (sbuf_t){NULL, 0, 0};
    m->trailers = (sbuf_t){NULL, 0, 0};
    m->rh_gen = 0;
  }
  msg_init(m, srv, c);
  wire__obj_ref(&srv->obj);
  return m;
}

/* A block whose buffers left their inline storage (rare): back to it. */
static NOINLINE void msg_free_spilled(msg_t *m)
{
  sbuf_free(&m->buf, m->ibuf, INLINE_BUF);
  sbuf_free(&m->rh, m->rbuf, RH_INLINE);
  sbuf_free(&m->out, NULL, 0);
  sbuf_free(&m->trailers, NULL, 0);
  wire__free(m->reason);
  m->reason = NULL;
  m->spilled = 0;
  if (m->hdrs != m->ihdrs) {
    wire__free(m->hdrs);
    m->hdrs = m->ihdrs;
    m->hdrs_cap = INLINE_HDRS;
  }
}

/* The buffers of a block back to empty, as msg_new expects them. */
static inline void msg_clean(msg_t *m)
{
  if (m->spilled)
    msg_free_spilled(m);
  m->buf.len = 0;
  m->rh.len = 0;
}

static void msg_free(msg_t *m)
{
  wire_http_server_t *srv = m->srv;
  msg_clean(m);
  if (srv->npool < POOL_MAX) {
    m->next = srv->pool;
    srv->pool = m;
    srv->npool++;
  } else {
    wire__free(m);
  }
  wire__obj_unref(&srv->obj); /* may free the server */
}

/* End-of-turn hook: finish events, then the blocks go back to the pool. */
static void on_gc(wire__flush_t *f)
{
  wire_http_server_t *srv =
      (wire_http_server_t *)((char *)f - offsetof(wire_http_server_t, gc));
  wire__obj_ref(&srv->obj);
  while (srv->drains != NULL) {
    msg_t *m = srv->drains;
    srv->drains = m->dnext;
    m->drain_queued = 0;
    if (m->need_drain && !m->ended && !m->closed) {
      m->need_drain = 0;
      if (m->res.on_drain != NULL)
        m->res.on_drain(&m->res, m->res.data);
    }
  }
  while (srv->zombies != NULL) {
    msg_t *m = srv->zombies;
    srv->zombies = m->next;
    if (m->finished && m->res.on_finish != NULL)
      m->res.on_finish(&m->res, m->res.data);
    msg_free(m);
  }
  while (srv->sleepers != NULL) {
    conn_t *c = srv->sleepers;
    srv->sleepers = c->snext;
    c->sleep_queued = 0;
    if (conn_can_sleep(c))
      conn_sleep(c);
  }
  while (srv->dead_conns != NULL) {
    conn_t *c = srv->dead_conns;
    srv->dead_conns = c->next;
    wire__free(c);
  }
  server_maybe_finish(srv);
  wire__obj_unref(&srv->obj);
}

/* A block is released when its response was ended by the user and its
 * request is fully read, or its connection is gone. */
static void msg_maybe_release(msg_t *m)
{
  if (m->zombie || !m->ended)
    return;
  if (!m->req_complete && !m->closed)
    return;
  if (m->conn != NULL && !m->finished)
    return; /* still queued: pipeline_advance unlinks it first */
  m->zombie = 1;
  m->next = m->srv->zombies;
  m->srv->zombies = m;
  wire__flush_queue(m->srv->obj.loop, &m->srv->gc);
}

/* ---- the request head --------------------------------------------------- */

/* The bytes of a head on_head got, up to the end of its last element. */
static inline uint32_t head_span(const wire_http_head_t *h)
{
  uint32_t n = h->nfields;
  return n > 0 ? h->fields[n - 1].value + h->fields[n - 1].value_len
               : h->url + h->url_len;
}

/* Whether a head on_head got fits the block's inline storage: then
 * head_store cannot fail. (The index always holds its fields.) */
static inline int head_fits(const msg_t *m, const wire_http_head_t *h)
{
  return head_span(h) + 1 <= m->buf.cap;
}

/* Copies a head on_head got (a whole one, in the parser's input) into
 * m's empty buffer, in one go up to its last element, and writes each
 * element's NUL over the delimiter that follows it there (parser.h);
 * then indexes the fields. The request event runs before the copy (lazy
 * is the head until then): a handler that answers without reading the
 * request never needs it, and the accessors (req_msg) copy on their
 * first use. */
static int head_store(msg_t *m, const wire_http_head_t *h)
{
  _Static_assert(INLINE_HDRS >= WIRE_HTTP_HEAD_FIELDS, "index: inline");
  m->lazy = NULL;
  uint32_t n = h->nfields;
  uint32_t span = head_span(h);
  if (span + 1 <= m->buf.cap) {
    memcpy(m->buf.p, h->base, span + 1); /* the block is empty */
    m->buf.len = span + 1;
  } else {
    int err =
        sbuf_add(m, &m->buf, m->ibuf, h->base, span + 1, m->srv->buf_limit);
    if (err < 0)
      return err;
  }
  char *b = m->buf.p;
  b[h->method_len] = '\0';
  m->url = h->url;
  b[h->url + h->url_len] = '\0';
  for (uint32_t i = 0; i < n; i++) {
    const wire_http_field_t *f = &h->fields[i];
    b[f->name + f->name_len] = '\0';
    b[f->value + f->value_len] = '\0';
    m->hdrs[i].name = f->name;
    m->hdrs[i].value = f->value;
  }
  m->nhdrs = n;
  return 0;
}

/* ---- request accessors ------------------------------------------------- */

/* The request's block, its head in its buffer (see head_store). */
static inline msg_t *req_msg(const wire_http_req_t *req)
{
  msg_t *m = req->m;
  if (m->lazy != NULL)
    (void)head_store(m, m->lazy); /* it fits (on_head) */
  return m;
}

const char *wire_http_req_method(const wire_http_req_t *req)
{
  const msg_t *m = req_msg(req);
  return m->buf.p + m->method;
}

const char *wire_http_req_url(const wire_http_req_t *req)
{
  const msg_t *m = req_msg(req);
  return m->buf.p + m->url;
}

int wire_http_req_version(const wire_http_req_t *req)
{
  return req->m->version;
}

static const char *find_hdr(const msg_t *m, uint32_t from, uint32_t to,
                            const char *name)
{
  for (uint32_t i = from; i < to; i++) {
    if (strcasecmp(m->buf.p + m->hdrs[i].name, name) == 0)
      return m->buf.p + m->hdrs[i].value;
  }
  return NULL;
}

const char *wire_http_req_header(const wire_http_req_t *req, const char *name)
{
  const msg_t *m = req_msg(req);
  return find_hdr(m, 0, m->nhdrs, name);
}

size_t wire_http_req_header_count(const wire_http_req_t *req)
{
  return req_msg(req)->nhdrs;
}

int wire_http_req_header_at(const wire_http_req_t *req, size_t i,
                            const char **name, const char **value)
{
  const msg_t *m = req_msg(req);
  if (i >= m->nhdrs)
    return WIRE_EINVAL;
  *name = m->buf.p + m->hdrs[i].name;
  *value = m->buf.p + m->hdrs[i].value;
  return 0;
}

const char *wire_http_req_trailer(const wire_http_req_t *req,
                                  const char *name)
{
  const msg_t *m = req_msg(req);
  return find_hdr(m, m->nhdrs, m->nhdrs + m->ntrailers, name);
}

wire_socket_t *wire_http_req_socket(const wire_http_req_t *req)
{
  return req->m->conn != NULL ? req->m->conn->s : NULL;
}

void wire_http_req_on_data(wire_http_req_t *req, wire_http_req_data_cb cb)
{
  req->on_data = cb;
}

void wire_http_req_on_end(wire_http_req_t *req, wire_http_req_event_cb cb)
{
  req->on_end = cb;
}

void wire_http_req_set_data(wire_http_req_t *req, void *data)
{
  req->data = data;
}

void *wire_http_req_data(const wire_http_req_t *req)
{
  return req->data;
}

void wire_http_req_pause(wire_http_req_t *req)
{
  msg_t *m = req->m;
  m->req_paused = 1;
  if (m->conn != NULL && m->conn->cur == m && !m->conn->paused) {
    m->conn->paused = 1;
    wire_socket_pause(m->conn->s);
  }
}

void wire_http_req_resume(wire_http_req_t *req)
{
  msg_t *m = req->m;
  m->req_paused = 0;
  if (m->conn != NULL)
    conn_settle(m->conn); /* inside a parser callback: after the parse */
}

/* ---- parser callbacks -------------------------------------------------- */

static NOINLINE int buf_piece_grow(msg_t *m, const char *at, size_t len, int last)
{
  size_t limit = m->srv->buf_limit;
  int err = sbuf_add(m, &m->buf, m->ibuf, at, len, limit);
  if (err == 0 && last)
    err = sbuf_add(m, &m->buf, m->ibuf, "", 1, limit);
  return err;
}

/* Appends a piece of the request's head to its block, NUL-terminated when
 * it is the last one. The usual case (room left in the block) is a memcpy;
 * the cap is then met too, since it is never below the inline size. */
static inline int buf_piece(msg_t *m, const char *at, size_t len, int last)
{
  sbuf_t *b = &m->buf;
  if (len < b->cap - b->len && b->cap <= m->srv->buf_limit) {
    char *p = b->p + b->len;
    memcpy(p, at, len);
    p[len] = '\0';
    b->len += len + (last != 0);
    return 0;
  }
  return buf_piece_grow(m, at, len, last);
}

/* A callback stops the parser here. It must be run again on resume even
 * with no bytes left, so that a message without a body can complete. */
static int pause_here(conn_t *c)
{
  c->reparse = 1;
  return WIRE_HTTP_CB_PAUSE;
}

/* A request begins: its block, at the end of the connection's queue.
 * NULL: out of memory. */
static ALWAYS_INLINE msg_t *msg_begin(conn_t *c)
{
  msg_t *m = c->spare;
  if (m != NULL) {
    c->spare = NULL; /* it kept its reference on the server */
    msg_init(m, c->srv, c);
  } else {
    m = msg_new(c->srv, c);
    if (m == NULL)
      return NULL;
  }
  c->cur = m;
  if (c->tail != NULL)
    c->tail->next = m;
  else
    c->head = m;
  c->tail = m;
  c->nmsgs++;
  /* The first request's head is timed from the connection's start. */
  if (c->nrequests > 0)
    c->req_start = c->srv->now; /* a parser callback: parsing is set */
  return m;
}

static int on_message_begin(wire_http_parser_t *p)
{
  return msg_begin(p->data) != NULL ? 0 : WIRE_ENOMEM;
}

/* The spare block (msg_begin) back to the pool: the parse is over. */
static void conn_drop_spare(conn_t *c)
{
  if (c->spare != NULL) {
    msg_free(c->spare);
    c->spare = NULL;
  }
}

static int add_field(msg_t *m, const char *at, size_t len, int last)
{
  if (m->in_value || m->field_start == 0) {
    /* A new field line begins. */
    m->in_value = 0;
    m->field_start = (uint32_t)m->buf.len;
    if (m->field_start == 0)
      m->field_start = 0; /* the buffer always holds method and url */
  }
  return buf_piece(m, at, len, last);
}

static int add_value(msg_t *m, const char *at, size_t len, int last,
                     int trailer)
{
  int whole = !m->in_value && last; /* one piece: nothing to trim */
  if (!m->in_value) {
    m->in_value = 1;
    uint32_t n = m->nhdrs + m->ntrailers;
    if (n == m->hdrs_cap) {
      uint32_t cap = m->hdrs_cap * 2;
      hdr_t *h = wire__malloc(cap * sizeof(*h));
      if (h == NULL)
        return WIRE_ENOMEM;
      memcpy(h, m->hdrs, n * sizeof(*h));
      if (m->hdrs != m->ihdrs)
        wire__free(m->hdrs);
      m->hdrs = h;
      m->hdrs_cap = cap;
      m->spilled = 1;
    }
    m->hdrs[n].name = m->field_start;
    m->hdrs[n].value = (uint32_t)m->buf.len;
    if (trailer)
      m->ntrailers++;
    else
      m->nhdrs++;
  }
  if (whole) {
    m->field_start = 0;
    return buf_piece(m, at, len, 1);
  }
  int err = buf_piece(m, at, len, 0);
  if (err == 0 && last) {
    /* Trim whitespace a split value may have ended with (parser.h). */
    uint32_t start = m->hdrs[m->nhdrs + m->ntrailers - 1].value;
    while (m->buf.len > start &&
           (m->buf.p[m->buf.len - 1] == ' ' || m->buf.p[m->buf.len - 1] == '\t'))
      m->buf.len--;
    err = buf_piece(m, "", 0, 1);
    m->field_start = 0;
  }
  return err;
}

static int on_method(wire_http_parser_t *p, const char *at, size_t len,
                     int last)
{
  conn_t *c = p->data;
  return buf_piece(c->cur, at, len, last);
}

static int on_url(wire_http_parser_t *p, const char *at, size_t len, int last)
{
  conn_t *c = p->data;
  msg_t *m = c->cur;
  if (m->url == 0 && m->buf.len > 0 && m->buf.p[m->buf.len - 1] == '\0')
    m->url = (uint32_t)m->buf.len;
  return buf_piece(m, at, len, last);
}

static int on_header_field(wire_http_parser_t *p, const char *at, size_t len,
                           int last)
{
  conn_t *c = p->data;
  return add_field(c->cur, at, len, last);
}

static int on_header_value(wire_http_parser_t *p, const char *at, size_t len,
                           int last)
{
  conn_t *c = p->data;
  return add_value(c->cur, at, len, last, 0);
}

static int on_trailer_field(wire_http_parser_t *p, const char *at,
                            size_t len, int last)
{
  conn_t *c = p->data;
  c->cur->in_trailer = 1;
  return add_field(c->cur, at, len, last);
}

static int on_trailer_value(wire_http_parser_t *p, const char *at,
                            size_t len, int last)
{
  conn_t *c = p->data;
  return add_value(c->cur, at, len, last, 1);
}

static void send_raw(conn_t *c, const char *p, size_t n)
{
  if (!c->dead)
    wire_socket_write(c->s, p, n);
}

/* Answers a request the application never sees (417, automatic errors). */
static void simple_response(msg_t *m, int status)
{
  wire_http_res_set_header(&m->res, "Connection", "close");
  wire_http_res_write_head(&m->res, status, NULL);
  wire_http_res_end(&m->res, NULL, 0);
}

/* Whether the parse stops after a complete request: the connection
 * closes after it, or enough requests wait for their responses. */
static inline int stop_after_message(const conn_t *c)
{
  return c->nmsgs >= PIPELINE_MAX || c->closing;
}

/* Whether a block whose request was read to its end may go: answered,
 * sent, with no event left to deliver. */
static inline int msg_spent(const msg_t *m)
{
  return m->ended && m->finished && !m->zombie && !m->drain_queued &&
         m->res.on_finish == NULL;
}

/* The request was read to its end: its end event, and its block goes
 * if the response is done too. */
static ALWAYS_INLINE void message_complete(conn_t *c, msg_t *m)
{
  c->cur = NULL;
  m->req_complete = 1;
  c->since = c->srv->now; /* a parser callback: parsing is set */
  if (m->req.on_end != NULL && !m->closed)
    m->req.on_end(&m->req, m->req.data);
  if (msg_spent(m)) {
    /* Answered, sent and now read, with no finish event to wait for: the
     * block is free now, and the next pipelined request of this parse
     * takes it while it is still in cache. */
    if (c->spare == NULL) {
      msg_clean(m);
      c->spare = m;
    } else {
      msg_free(m);
    }
  } else {
    if (m->lazy != NULL)
      (void)head_store(m, m->lazy); /* on_head's; it fits */
    msg_maybe_release(m);
  }
}

/* The request event, and what the parser is to do after it. */
static ALWAYS_INLINE int request_event(wire_http_server_t *srv, conn_t *c,
                                       msg_t *m)
{
  if (srv->on_request != NULL)
    srv->on_request(srv, &m->req, &m->res, srv->data);
  if (c->dead || m->req_paused)
    return pause_here(c);
  return 0;
}

/* The head is complete and checked: the request event. */
static ALWAYS_INLINE int head_complete(wire_http_parser_t *p, conn_t *c,
                                       msg_t *m)
{
  wire_http_server_t *srv = c->srv;
  /* The usual request (HTTP/1.1 with Host, no framing, connection,
   * upgrade or expectation field; not HEAD) on a connection with no end
   * in sight: what the steps below come to for it, in fewer steps. */
  if ((p->flags & ~(uint32_t)WIRE_HTTP_F_CONNECTION_KEEP_ALIVE) ==
          (WIRE_HTTP_F_HOST | WIRE_HTTP_F_KEEP_ALIVE) &&
      p->http_major == 1 && p->http_minor == 1 && p->method != WIRE_HTTP_HEAD &&
      !c->closing && srv->o.max_requests_per_socket == 0) {
    c->nrequests++;
    m->version = 11;
    m->keep_alive = 1;
    m->headers_done = 1;
    m->usual = 1;
    m->delivered = 1;
    return request_event(srv, c, m);
  }
  m->version = p->http_major * 10 + p->http_minor;
  m->is_head = p->method == WIRE_HTTP_HEAD;
  m->keep_alive = wire_http_should_keep_alive(p) && !c->closing;
  c->nrequests++;
  if (srv->o.max_requests_per_socket > 0 &&
      c->nrequests >= srv->o.max_requests_per_socket)
    m->keep_alive = 0;
  if (!m->keep_alive)
    c->closing = 1;
  m->headers_done = 1;
  m->usual = m->version == 11 && m->keep_alive && !m->is_head;

  if (p->flags & WIRE_HTTP_F_UPGRADE) {
    int is_connect = p->method == WIRE_HTTP_CONNECT;
    wire_http_upgrade_cb cb = is_connect ? srv->on_connect : srv->on_upgrade;
    if (cb == NULL) {
      /* Nobody takes the stream: close the connection (issue 4). */
      conn_close(c);
      return pause_here(c);
    }
    return WIRE_HTTP_CB_UPGRADE;
  }

  /* No reference on the server around the user's call: m holds one, and
   * a delivered block is freed no sooner than the end of the turn (by
   * on_gc, or by on_message_complete after this returns). */
  m->delivered = 1;
  if (p->flags & WIRE_HTTP_F_EXPECT_OTHER) {
    if (srv->on_check_expectation != NULL)
      srv->on_check_expectation(srv, &m->req, &m->res, srv->data);
    else
      simple_response(m, 417);
  } else if ((p->flags & WIRE_HTTP_F_EXPECT_CONTINUE) && m->version >= 11) {
    if (srv->on_check_continue != NULL) {
      srv->on_check_continue(srv, &m->req, &m->res, srv->data);
    } else {
      wire_http_res_write_continue(&m->res);
      if (srv->on_request != NULL)
        srv->on_request(srv, &m->req, &m->res, srv->data);
    }
  } else {
    return request_event(srv, c, m);
  }
  if (c->dead || m->req_paused)
    return pause_here(c);
  return 0;
}

static int on_headers_complete(wire_http_parser_t *p)
{
  conn_t *c = p->data;
  return head_complete(p, c, c->cur);
}

/* A head whole in one read (the usual case; it stands for
 * on_message_begin and on_headers_complete too, and for
 * on_message_complete when no body follows): the request event reads it
 * where it is, and head_store copies it when asked or when the request
 * outlives this call. Other heads come through the piece callbacks
 * above. */
static int on_head(wire_http_parser_t *p, const wire_http_head_t *h)
{
  msg_t *m = msg_begin(p->data);
  if (m == NULL)
    return WIRE_ENOMEM;
  if (head_fits(m, h)) {
    m->lazy = h;
  } else {
    int err = head_store(m, h);
    if (err < 0)
      return err;
  }
  conn_t *c = p->data;
  int r = head_complete(p, c, m);
  /* No body, no end event to run (it is user code, which may pause or
   * close): the message ends here, as on_message_complete would end it
   * without a pause. */
  if (r == 0 && !wire_http_request_has_body(p) &&
      p->method != WIRE_HTTP_CONNECT && m->req.on_end == NULL &&
      !stop_after_message(c)) {
    message_complete(c, m);
    return WIRE_HTTP_CB_DONE;
  }
  if (m->lazy != NULL)
    (void)head_store(m, h); /* it fits; the request outlives the bytes */
  return r;
}

static int on_body(wire_http_parser_t *p, const char *at, size_t len)
{
  conn_t *c = p->data;
  msg_t *m = c->cur;
  if (m->req.on_data != NULL && !m->closed)
    m->req.on_data(&m->req, at, len, m->req.data);
  if (c->dead || m->req_paused)
    return pause_here(c);
  return 0;
}

static int on_message_complete(wire_http_parser_t *p)
{
  conn_t *c = p->data;
  message_complete(c, c->cur);
  if (c->dead)
    return pause_here(c);
  if (stop_after_message(c))
    return pause_here(c);
  return 0;
}

/* ---- the response ------------------------------------------------------- */

/* Response headers live in rh as "name\0value\0" pairs, in the order
 * they were set; removing one closes the gap. rh_pair reads the pair at
 * *i and moves *i past it. */
static inline void rh_pair(const msg_t *m, size_t *i, const char **n,
                           size_t *nl, const char **v, size_t *vl)
{
  *n = m->rh.p + *i;
  *nl = strlen(*n);
  *v = *n + *nl + 1;
  *vl = strlen(*v);
  *i += *nl + *vl + 2;
}

static const char *rh_find(const msg_t *m, const char *name, size_t *at)
{
  size_t i = 0;
  while (i < m->rh.len) {
    size_t start = i, nl, vl;
    const char *n, *v;
    rh_pair(m, &i, &n, &nl, &v, &vl);
    if (strcasecmp(n, name) == 0) {
      if (at != NULL)
        *at = start;
      return v;
    }
  }
  return NULL;
}

/* The headers send_head must look for (framing, connection, date): only
 * when one was set does it search rh. */
static int rh_is_special(const char *n, size_t nl)
{
  return (nl == 14 && strcasecmp(n, "Content-Length") == 0) ||
         (nl == 17 && strcasecmp(n, "Transfer-Encoding") == 0) ||
         (nl == 10 && strcasecmp(n, "Connection") == 0) ||
         (nl == 4 && strcasecmp(n, "Date") == 0);
}

/* Appends a checked pair of known lengths. text, when not NULL, is the
 * pair as rh keeps it ("name\0value\0"), held by pair slot slot, and
 * special says whether rh_is_special holds for its name. */
static ALWAYS_INLINE int rh_append(msg_t *m, const char *name, size_t nl,
                                   const char *value, size_t vl,
                                   const char *text, int special, int slot)
{
  sbuf_t *b = &m->rh;
  if (text == NULL)
    special = rh_is_special(name, nl);
  if (b->len == 0 && slot >= 0) {
    m->rh_one = (uint8_t)(slot + 1);
    m->rh_gen = m->srv->pair_gen;
  } else {
    m->rh_one = 0;
  }
  if (special) {
    m->rh_special = 1;
    m->usual = 0;
  }
  if (nl + vl + 2 <= b->cap - b->len) {
    char *p = b->p + b->len;
    if (text != NULL) {
      memcpy(p, text, nl + vl + 2);
    } else {
      memcpy(p, name, nl + 1);
      memcpy(p + nl + 1, value, vl + 1);
    }
    b->len += nl + vl + 2;
    return 0;
  }
  size_t len = b->len;
  int err = sbuf_add(m, b, m->rbuf, name, nl + 1, SIZE_MAX);
  if (err == 0)
    err = sbuf_add(m, b, m->rbuf, value, vl + 1, SIZE_MAX);
  if (err < 0)
    b->len = len; /* no half pair */
  return err;
}

int wire_http_res_set_status(wire_http_res_t *res, int status,
                             const char *reason)
{
  msg_t *m = res->m;
  if (m->head_locked)
    return WIRE_EALREADY;
  if (status < 100 || status > 999)
    return WIRE_EINVAL;
  if (reason != NULL && !wire__http_valid_value(reason))
    return WIRE_EINVAL;
  if (reason != NULL) {
    size_t n = strlen(reason) + 1;
    char *r = wire__malloc(n);
    if (r == NULL)
      return WIRE_ENOMEM;
    memcpy(r, reason, n);
    wire__free(m->reason);
    m->reason = r;
    m->spilled = 1;
  }
  m->status = status;
  if (status != 200 || reason != NULL)
    m->usual = 0;
  return 0;
}

int wire_http_res_remove_header(wire_http_res_t *res, const char *name)
{
  msg_t *m = res->m;
  if (m->head_locked)
    return WIRE_EALREADY;
  size_t at;
  while (rh_find(m, name, &at) != NULL) {
    char *n = m->rh.p + at;
    size_t nl = strlen(n);
    size_t sz = nl + strlen(n + nl + 1) + 2;
    memmove(n, n + sz, m->rh.len - at - sz);
    m->rh.len -= sz;
    m->rh_one = 0;
  }
  return 0;
}

/* Whether name is a token and value a field value (RFC 9110 5.1, 5.5),
 * with their lengths. A handler sets the same pairs on every response:
 * the last few checked are kept, and one equal to the pair given needs no
 * second check. pair_find: the slot of the pair given, or -1. */
static ALWAYS_INLINE int pair_find(const wire_http_server_t *srv,
                                   const char *name, const char *value)
{
  for (unsigned i = 0; i < PAIRS; i++) {
    const char *t = srv->pairs[i].text;
    if (t[0] == name[0] && srv->pairs[i].nl > 0 && strcmp(t, name) == 0 &&
        strcmp(t + srv->pairs[i].nl + 1, value) == 0)
      return (int)i;
  }
  return -1;
}

/* found: what pair_find said of name and value. */
static int pair_valid(wire_http_server_t *srv, const char *name,
                      const char *value, int found, size_t *nl, size_t *vl,
                      const char **text, int *special, int *slot)
{
  if (found >= 0) {
    *nl = srv->pairs[found].nl;
    *vl = srv->pairs[found].vl;
    *text = srv->pairs[found].text;
    *special = srv->pairs[found].special;
    *slot = found;
    return 1;
  }
  *text = NULL;
  *special = 0;
  *slot = -1;
  if (!wire__http_check_token(name, nl) || !wire__http_check_value(value, vl))
    return 0;
  if (*nl + *vl + 2 <= PAIR_TEXT) {
    unsigned i = srv->pair_next++ % PAIRS;
    char *t = srv->pairs[i].text;
    memcpy(t, name, *nl + 1);
    memcpy(t + *nl + 1, value, *vl + 1);
    srv->pairs[i].nl = (uint8_t)*nl;
    srv->pairs[i].vl = (uint8_t)*vl;
    srv->pairs[i].special = (uint8_t)rh_is_special(name, *nl);
    srv->pair_gen++;
    *slot = (int)i; /* text stays NULL: name and value are as good */
  }
  return 1;
}

int wire_http_res_append_header(wire_http_res_t *res, const char *name,
                                const char *value)
{
  msg_t *m = res->m;
  if (m->head_locked)
    return WIRE_EALREADY;
  size_t nl, vl;
  const char *text;
  int special;
  int slot;
  if (!pair_valid(m->srv, name, value, pair_find(m->srv, name, value), &nl,
                  &vl, &text, &special, &slot))
    return WIRE_EINVAL;
  return rh_append(m, name, nl, value, vl, text, special, slot);
}

static NOINLINE int set_header_slow(msg_t *m, const char *name,
                                    const char *value, int found)
{
  size_t nl, vl;
  const char *text;
  int special;
  int slot;
  if (!pair_valid(m->srv, name, value, found, &nl, &vl, &text, &special,
                  &slot))
    return WIRE_EINVAL;
  if (m->head_locked)
    return WIRE_EALREADY;
  if (m->rh.len > 0)
    wire_http_res_remove_header(&m->res, name);
  return rh_append(m, name, nl, value, vl, text, special, slot);
}

int wire_http_res_set_header(wire_http_res_t *res, const char *name,
                             const char *value)
{
  msg_t *m = res->m;
  const wire_http_server_t *srv = m->srv;
  int i = pair_find(srv, name, value);
  if (i >= 0 && m->rh.len == 0 && !m->head_locked &&
      !srv->pairs[i].special &&
      srv->pairs[i].nl + srv->pairs[i].vl + 2u <= 32) {
    /* The usual: a response's first header, a short pair set before.
     * rh has room for 32 bytes (RH_INLINE at least), and so has the
     * pair's text: a copy of that fixed size is a few moves, where one
     * of a variable size can be a slow rep movs. */
    _Static_assert(RH_INLINE >= 32 && PAIR_TEXT >= 32, "room for 32");
    memcpy(m->rh.p, srv->pairs[i].text, 32);
    m->rh.len = srv->pairs[i].nl + srv->pairs[i].vl + 2u;
    m->rh_one = (uint8_t)(i + 1);
    m->rh_gen = srv->pair_gen;
    return 0;
  }
  return set_header_slow(m, name, value, i);
}

const char *wire_http_res_get_header(const wire_http_res_t *res,
                                     const char *name)
{
  return rh_find(res->m, name, NULL);
}

int wire_http_res_headers_sent(const wire_http_res_t *res)
{
  return res->m->head_locked;
}

wire_http_req_t *wire_http_res_req(const wire_http_res_t *res)
{
  return &res->m->req;
}

void wire_http_res_on_drain(wire_http_res_t *res, wire_http_res_event_cb cb)
{
  res->on_drain = cb;
}
void wire_http_res_on_finish(wire_http_res_t *res, wire_http_res_event_cb cb)
{
  res->on_finish = cb;
}
void wire_http_res_on_close(wire_http_res_t *res, wire_http_res_event_cb cb)
{
  res->on_close = cb;
}
void wire_http_res_set_data(wire_http_res_t *res, void *data)
{
  res->data = data;
}
void *wire_http_res_data(const wire_http_res_t *res)
{
  return res->data;
}

/* Bytes of this response: to the socket if it is the head, else kept. */
static int res_out(msg_t *m, const char *p, size_t n)
{
  conn_t *c = m->conn;
  if (c == NULL || c->dead)
    return WIRE_ECLOSED;
  if (c->head == m) {
    int r = wire_socket_write(c->s, p, n);
    if (r == 0)
      m->need_drain = 1;
    return r;
  }
  /* Not its turn yet: kept, with the same backpressure as the socket. */
  int err = sbuf_add(m, &m->out, NULL, p, n, 64u * 1024 * 1024);
  if (err < 0)
    return err;
  if (m->out.len >= 16 * 1024) {
    m->need_drain = 1;
    return 0;
  }
  return 1;
}

static char *put(char *p, const char *s, size_t n)
{
  memcpy(p, s, n);
  return p + n;
}

static char *put_u64(char *p, uint64_t v)
{
  char tmp[24];
  int i = 0;
  do {
    tmp[i++] = (char)('0' + v % 10);
    v /= 10;
  } while (v > 0);
  while (i > 0)
    *p++ = tmp[--i];
  return p;
}

/* Small bodies leave in the same write as their head. */
#define HEAD_BODY_MAX 1024

/* The status line and the user's headers: the start of every head. rlen
 * and reason as send_head_body works them out (reason NULL: "200 OK"). */
static char *put_head_start(char *p, const msg_t *m, const char *reason,
                            size_t rlen)
{
  int status = m->status;
  if (reason == NULL) {
    memcpy(p, m->version == 10 ? "HTTP/1.0 200 OK\r\n" : "HTTP/1.1 200 OK\r\n",
           17);
    p += 17;
  } else {
    /* The status is 100..999 (set_status): always three digits. */
    memcpy(p, m->version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ", 9);
    p[9] = (char)('0' + status / 100);
    p[10] = (char)('0' + status / 10 % 10);
    p[11] = (char)('0' + status % 10);
    p[12] = ' ';
    p += 13;
    p = put(p, reason, rlen);
    p = put(p, "\r\n", 2);
  }
  size_t i = 0;
  while (i < m->rh.len) {
    size_t nl, vl;
    const char *n, *v;
    rh_pair(m, &i, &n, &nl, &v, &vl);
    p = put(p, n, nl);
    p = put(p, ": ", 2);
    p = put(p, v, vl);
    p = put(p, "\r\n", 2);
  }
  return p;
}

/* Whether send_head_fast may answer: the usual response, on a live
 * connection whose head it is, whose head is the template plus its
 * length. */
static int head_is_usual(const msg_t *m, const conn_t *c, size_t body_len,
                         const char *body)
{
  return m->usual && c != NULL && !c->dead && !c->closing && c->head == m &&
         body_len <= HEAD_BODY_MAX && (body != NULL || body_len == 0) &&
         m->rh.len <= RH_INLINE;
}

/* The template for m's headers at the current Date (see tmpl). */
static void tmpl_build(wire_http_server_t *srv, const msg_t *m,
                       const char *date, size_t dlen)
{
  srv->tmpl_len = 0;
  /* Each user header takes 4 bytes more than in rh ("name\0value\0"). */
  if (17 + m->rh.len * 2 + dlen + srv->ka_len + 16 + 24 > TMPL_MAX)
    return;
  char *p = put_head_start(srv->tmpl, m, NULL, 2);
  p = put(p, date, dlen);
  p = put(p, srv->ka_line, srv->ka_len);
  p = put(p, "Content-Length: ", 16);
  srv->tmpl_cl = (size_t)(p - srv->tmpl);
  srv->tmpl_len = srv->tmpl_cl;
  srv->tmpl_body = SIZE_MAX; /* the digits come with the first use */
  memcpy(srv->tmpl_rh, m->rh.p, m->rh.len);
  srv->tmpl_rh_len = m->rh.len;
  srv->tmpl_one = m->rh_one;
  srv->tmpl_gen = m->rh_gen;
  srv->tmpl_sec = srv->date_sec;
}

/* The usual response (head_is_usual), head and body written straight
 * into the socket's queue. Returns 1 when done (r: what the write said), 0
 * when send_head_body must build the head itself. */
static int send_head_fast(msg_t *m, conn_t *c, const char *body,
                          size_t body_len, int *r)
{
  wire_http_server_t *srv = m->srv;
  if (!srv->parsing)
    date_update(srv); /* else conn_parse made it current */
  /* The template's headers: the pair of the same slot, copied by both
   * while the slots were the same (the usual handler), or else the same
   * bytes. */
  int same = m->rh_one != 0 && m->rh_one == srv->tmpl_one &&
             m->rh_gen == srv->tmpl_gen;
  if (srv->tmpl_len == 0 || srv->tmpl_sec != srv->date_sec ||
      (!same && (srv->tmpl_rh_len != m->rh.len ||
                 memcmp(srv->tmpl_rh, m->rh.p, m->rh.len) != 0))) {
    tmpl_build(srv, m, srv->date, srv->date_len);
    if (srv->tmpl_len == 0)
      return 0;
  } else if (!same && m->rh_one != 0) {
    /* The same bytes as m's slot pair: the next one compares slots. */
    srv->tmpl_one = m->rh_one;
    srv->tmpl_gen = m->rh_gen;
  }
  if (srv->tmpl_body != body_len) {
    char *d = put_u64(srv->tmpl + srv->tmpl_cl, (uint64_t)body_len);
    memcpy(d, "\r\n\r\n", 4);
    srv->tmpl_len = (size_t)(d + 4 - srv->tmpl);
    srv->tmpl_body = body_len;
  }
  size_t total = srv->tmpl_len + body_len;
  char *p = wire__socket_write_quick(c->s, total);
  int quick = p != NULL;
  if (!quick) {
    int err = wire__socket_write_reserve(c->s, total, &p);
    if (err < 0) {
      *r = err;
      return 1;
    }
  }
  memcpy(p, srv->tmpl, srv->tmpl_len);
  if (body_len > 0)
    memcpy(p + srv->tmpl_len, body, body_len);
  m->head_sent = 1;
  m->head_locked = 1;
  m->usual = 0;
  m->body_sent += body_len;
  *r = quick ? 1 : wire__socket_write_commit(c->s, total);
  if (*r == 0)
    m->need_drain = 1;
  return 1;
}

/* Builds and queues the head. body_len is known when end() sends the whole
 * body at once (>= 0) or unknown (-1). body (may be NULL) is that body: when
 * it is small and sent as is, it goes out with the head and *body_done is
 * set. */
static int send_head_body(msg_t *m, int64_t body_len, const char *body,
                          int *body_done)
{
  conn_t *c = m->conn;
  wire_http_server_t *srv = m->srv;
  if (c == NULL || c->dead)
    return WIRE_ECLOSED;
  m->head_sent = 1;
  m->head_locked = 1;
  m->usual = 0;
  int status = m->status;
  int informational = status >= 100 && status < 200;
  m->no_body = m->is_head || status == 204 || status == 304 || informational;

  const char *cl = NULL;
  const char *te = NULL;
  const char *conn_hdr = NULL;
  if (m->rh_special) {
    cl = rh_find(m, "Content-Length", NULL);
    te = rh_find(m, "Transfer-Encoding", NULL);
    conn_hdr = rh_find(m, "Connection", NULL);
    m->user_date = rh_find(m, "Date", NULL) != NULL;
  }
  if (conn_hdr != NULL && strcasecmp(conn_hdr, "close") == 0)
    m->close_after = 1;
  /* This request asked for the close; or the connection is closing (the
   * server shuts down, a later pipelined request said close) and this is
   * the last response it will carry. A response queued before others must
   * not close the connection under them. */
  if (!m->keep_alive || (c->closing && m->next == NULL && c->cur == NULL))
    m->close_after = 1;
  if (cl != NULL) {
    m->has_cl = 1;
    m->content_length = strtoull(cl, NULL, 10);
  } else if (te != NULL) {
    m->chunked = strstr(te, "chunked") != NULL;
  } else if (!m->no_body && body_len < 0) {
    if (m->version >= 11)
      m->chunked = 1;
    else
      m->close_after = 1; /* HTTP/1.0: the body ends at the close */
  }
  if (m->close_after)
    c->closing = 1;

  size_t rlen = 2;
  const char *reason = NULL; /* NULL: the usual "200 OK" */
  if (m->reason != NULL) {
    reason = m->reason;
    rlen = strlen(reason);
  } else if (status != 200) {
    reason = status_reason(status, &rlen);
  }
  size_t dlen;
  const char *date = date_line(srv, &dlen);
  /* The fixed lines (status, Connection/Keep-Alive, framing) fit in 256. */
  size_t need = 256 + rlen + m->rh.len * 2 + dlen;
  int with_body = body != NULL && body_len > 0 && !m->chunked &&
                  !m->no_body &&
                  (!m->has_cl || (uint64_t)body_len <= m->content_length) &&
                  body_len <= HEAD_BODY_MAX;
  if (with_body)
    need += (size_t)body_len;
  char stack[2048];
  char *head = need <= sizeof(stack) ? stack : wire__malloc(need);
  if (head == NULL)
    return WIRE_ENOMEM;
  char *p = put_head_start(head, m, reason, rlen);
  if (!m->user_date && !informational)
    p = put(p, date, dlen); /* none on 1xx, as Node (RFC 9110 6.6.1: MAY) */
  if (!informational) {
    if (conn_hdr == NULL) {
      if (m->close_after)
        p = put(p, "Connection: close\r\n", 19);
      else
        p = put(p, srv->ka_line, srv->ka_len);
    }
    if (!m->has_cl && !m->chunked && body_len >= 0 && status != 204 &&
        status != 304) {
      p = put(p, "Content-Length: ", 16);
      p = put_u64(p, (uint64_t)body_len);
      p = put(p, "\r\n", 2);
    }
    if (m->chunked && te == NULL)
      p = put(p, "Transfer-Encoding: chunked\r\n", 28);
  }
  p = put(p, "\r\n", 2);
  if (with_body) {
    p = put(p, body, (size_t)body_len);
    m->body_sent += (uint64_t)body_len;
    *body_done = 1;
  }
  int r = res_out(m, head, (size_t)(p - head));
  if (head != stack)
    wire__free(head);
  return r;
}

static int send_head(msg_t *m, int64_t body_len)
{
  return send_head_body(m, body_len, NULL, NULL);
}

int wire_http_res_write_head(wire_http_res_t *res, int status,
                             const char *reason)
{
  msg_t *m = res->m;
  if (m->head_locked)
    return WIRE_EALREADY;
  int err = wire_http_res_set_status(res, status, reason);
  if (err < 0)
    return err;
  if (status >= 100 && status < 200 && status != 101) {
    /* An interim response: sent now, the final one follows. */
    err = send_head(m, -1);
    m->head_sent = 0;
    m->head_locked = 0;
    m->chunked = 0;
    m->status = 200;
    wire__free(m->reason);
    m->reason = NULL;
    m->rh.len = 0;
    m->rh_one = 0;
    return err < 0 ? err : 0;
  }
  /* Sent with the first write or end (so that end can still give it a
   * Content-Length), but fixed from here on, as Node's writeHead fixes
   * it: setHeader and the like answer WIRE_EALREADY. */
  m->head_locked = 1;
  return 0;
}

int wire_http_res_flush_headers(wire_http_res_t *res)
{
  msg_t *m = res->m;
  if (m->head_sent)
    return 0;
  int r = send_head(m, -1);
  return r < 0 ? r : 0;
}

int wire_http_res_write_continue(wire_http_res_t *res)
{
  msg_t *m = res->m;
  if (m->conn == NULL || m->conn->dead)
    return WIRE_ECLOSED;
  static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
  int r = res_out(m, cont, sizeof(cont) - 1);
  return r < 0 ? r : 0;
}

static int body_out(msg_t *m, const char *buf, size_t len)
{
  if (m->no_body || len == 0)
    return 1;
  if (m->has_cl && m->body_sent + len > m->content_length)
    return WIRE_EINVAL; /* more than the Content-Length promised */
  m->body_sent += len;
  if (!m->chunked)
    return res_out(m, buf, len);
  char hex[24];
  int n = snprintf(hex, sizeof(hex), "%zx\r\n", len);
  int r = res_out(m, hex, (size_t)n);
  if (r >= 0)
    r = res_out(m, buf, len);
  if (r >= 0)
    r = res_out(m, "\r\n", 2);
  return r;
}

int wire_http_res_write(wire_http_res_t *res, const void *buf, size_t len)
{
  msg_t *m = res->m;
  if (m->ended)
    return WIRE_EWRITEAFTEREND;
  if (m->conn == NULL || m->conn->dead)
    return WIRE_ECLOSED;
  if (!m->head_sent) {
    int r = send_head(m, -1);
    if (r < 0)
      return r;
  }
  return body_out(m, buf, len);
}

int wire_http_res_add_trailer(wire_http_res_t *res, const char *name,
                              const char *value)
{
  msg_t *m = res->m;
  if (m->ended)
    return WIRE_EWRITEAFTEREND;
  if (!wire__http_valid_token(name) || !wire__http_valid_value(value))
    return WIRE_EINVAL;
  int err = sbuf_add(m, &m->trailers, NULL, name, strlen(name), SIZE_MAX);
  if (err == 0)
    err = sbuf_add(m, &m->trailers, NULL, ": ", 2, SIZE_MAX);
  if (err == 0)
    err = sbuf_add(m, &m->trailers, NULL, value, strlen(value), SIZE_MAX);
  if (err == 0)
    err = sbuf_add(m, &m->trailers, NULL, "\r\n", 2, SIZE_MAX);
  return err;
}

int wire_http_res_end(wire_http_res_t *res, const void *buf, size_t len)
{
  msg_t *m = res->m;
  conn_t *c = m->conn;
  int r;
  /* The usual response (usual implies not ended, head not sent). */
  if (head_is_usual(m, c, len, buf) && send_head_fast(m, c, buf, len, &r)) {
    m->ended = 1;
    if (c->in_parse && m->next == NULL && !m->req_complete) {
      /* Answered within its own request's parse (the usual handler): what
       * pipeline_advance does for a head with nothing queued behind, whose
       * request is still being read, and which does not close. */
      c->head = c->tail = NULL;
      c->nmsgs--;
      m->finished = 1;
      c->since = m->srv->now;
    } else {
      pipeline_advance(c); /* it is the head: head_is_usual */
    }
    return r < 0 ? r : 0;
  }
  if (m->ended)
    return WIRE_EWRITEAFTEREND;
  m->ended = 1;
  m->usual = 0;
  if (c == NULL || c->dead) {
    /* The connection went away: end releases the orphan. */
    if (c == NULL)
      msg_maybe_release(m);
    return WIRE_ECLOSED;
  }
  r = 1;
  int body_done = 0;
  if (!m->head_sent)
    r = send_head_body(m,
                       m->has_cl || (m->rh_special &&
                                     rh_find(m, "Transfer-Encoding", NULL))
                           ? -1
                           : (int64_t)len,
                       buf, &body_done);
  if (r >= 0 && len > 0 && !body_done)
    r = body_out(m, buf, len);
  if (r >= 0 && m->chunked && !m->no_body) {
    r = res_out(m, "0\r\n", 3);
    if (r >= 0 && m->trailers.len > 0)
      r = res_out(m, m->trailers.p, m->trailers.len);
    if (r >= 0)
      r = res_out(m, "\r\n", 2);
  }
  if (c->head == m)
    pipeline_advance(c);
  return r < 0 ? r : 0;
}

void wire_http_res_close(wire_http_res_t *res)
{
  msg_t *m = res->m;
  int was_ended = m->ended;
  m->ended = 1;
  conn_t *c = m->conn;
  if (c != NULL) {
    /* What was written goes out, then the FIN: the client sees the body
     * cut short, not lost. The socket's close releases this block with
     * the others. */
    if (c->dead)
      conn_close(c);
    else
      conn_finish(c);
    return;
  }
  if (!was_ended)
    msg_maybe_release(m);
}

/* The head's response is complete: unlink it, let the next one write what
 * it buffered, then decide the connection's fate. */
static void pipeline_advance(conn_t *c)
{
  while (c->head != NULL && c->head->ended) {
    msg_t *m = c->head;
    c->head = m->next;
    if (c->head == NULL)
      c->tail = NULL;
    m->next = NULL;
    c->nmsgs--;
    m->finished = 1;
    c->since = srv_now(c->srv);
    int close_after = m->close_after;
    msg_maybe_release(m);
    if (close_after) {
      /* Connection: close: nothing after this response. */
      c->closing = 1;
      conn_finish(c);
      return;
    }
    msg_t *n = c->head;
    if (n != NULL && n->out.len > 0) {
      int r = wire_socket_write(c->s, n->out.p, n->out.len);
      sbuf_free(&n->out, NULL, 0);
      if (r == 0) {
        n->need_drain = 1; /* the socket's drain delivers it */
      } else if (n->need_drain && !n->drain_queued) {
        /* It was told to wait and now has room: its drain comes at the
         * end of the turn, not inside the call that got us here. */
        n->drain_queued = 1;
        n->dnext = c->srv->drains;
        c->srv->drains = n;
        wire__flush_queue(c->srv->obj.loop, &c->srv->gc);
      }
    }
  }
  conn_settle(c);
}

/* ---- the connection ----------------------------------------------------- */

/* Whether reading must stay paused. */
static int conn_held(const conn_t *c)
{
  return (c->cur != NULL && c->cur->req_paused) || c->nmsgs >= PIPELINE_MAX;
}

/* After a read, a resume or a finished response (never inside the
 * parser): resumes reading if nothing holds it back any more, and ends the
 * connection when it has nothing left to do. */
static void conn_settle(conn_t *c)
{
  if (c->dead || c->in_parse)
    return;
  if ((c->paused || c->reparse || c->pending != NULL) && !conn_held(c)) {
    conn_resume(c);
    if (c->dead)
      return;
  }
  if (c->paused || c->pending != NULL)
    return;
  if (c->cur == NULL && c->head == NULL) {
    /* Nothing in flight: the peer is gone, or the server is closing. */
    if (c->peer_ended || c->closing) {
      conn_finish(c);
    } else if (c->nrequests == 1 && !c->sleep_queued) {
      /* Idle after its first request: many connections are only that,
       * so it sleeps at the end of the turn (and its memory serves the
       * next connection). Later idle spells wait for the sweep, so a busy
       * keep-alive connection does not sleep and wake every request. */
      c->sleep_queued = 1;
      c->snext = c->srv->sleepers;
      c->srv->sleepers = c;
      wire__flush_queue(c->srv->obj.loop, &c->srv->gc);
    }
  } else if (c->cur != NULL && c->peer_ended) {
    /* The peer stopped in the middle of a request. */
    client_error(c, WIRE_EHTTPPARSE, 400);
  }
}

static void client_error(conn_t *c, int err, int status)
{
  wire_http_server_t *srv = c->srv;
  if (c->dead)
    return;
  if (srv->on_client_error != NULL) {
    /* The handler owns the socket from now on, as for an upgrade. */
    wire_socket_t *s = c->s;
    conn_detach(c, NULL);
    wire__obj_ref(&srv->obj);
    srv->on_client_error(srv, s, err, srv->data);
    wire__obj_unref(&srv->obj);
    return;
  }
  c->closing = 1;
  if (c->head != NULL && c->head->head_sent) {
    /* A response is already on its way: just drop the connection. */
    conn_close(c);
    return;
  }
  if (status == 0)
    status = 400;
  char buf[160];
  int n = snprintf(buf, sizeof(buf),
                   "HTTP/1.1 %d %s\r\nConnection: close\r\n"
                   "Content-Length: 0\r\n\r\n",
                   status, wire_http_status_text(status));
  /* Responses queued behind are abandoned: the connection is going. */
  send_raw(c, buf, (size_t)n);
  conn_finish(c);
}

static void pause_reading(conn_t *c)
{
  if (!c->paused) {
    c->paused = 1;
    wire_socket_pause(c->s);
  }
}

/* Runs the parser over data; keeps what a pause left over. */
static void conn_parse(conn_t *c, const char *data, size_t len)
{
  size_t nread = 0;
  wire_http_server_t *srv = c->srv;
  c->reparse = 0;
  c->in_parse = 1;
  if (srv->parsing++ == 0) {
    srv->now = wire_loop_now(srv->obj.loop);
    date_update(srv); /* current for the whole parse */
  }
  int err = wire_http_parser_execute(&c->parser, data, len, &nread);
  srv->parsing--;
  c->in_parse = 0;
  conn_drop_spare(c);
  if (c->dead)
    return;
  if (err < 0) {
    int status = wire_http_error_status(c->parser.error);
    if (err == WIRE_ENOMEM)
      status = 503;
    client_error(c, err, status);
    return;
  }
  if (c->parser.upgraded) {
    hand_over(c, data + nread, len - nread);
    return;
  }
  if (nread < len) {
    /* Paused: keep the rest (the read buffer belongs to the loop). */
    size_t rest = len - nread;
    if (c->closing && c->cur == NULL)
      return; /* after the last request: nothing more will be read */
    if (rest > PENDING_MAX) {
      client_error(c, WIRE_ETOOBIG, 413);
      return;
    }
    char *p = wire__malloc(rest);
    if (p == NULL) {
      conn_close(c);
      return;
    }
    memcpy(p, data + nread, rest);
    wire__free(c->pending);
    c->pending = p;
    c->pending_len = rest;
    c->reparse = 0; /* the pending bytes resume the parse */
    pause_reading(c);
  } else if (conn_held(c)) {
    /* Paused at the last byte: read nothing more until resumed. */
    pause_reading(c);
  }
}

/* Parses what a pause left (or runs the parser once on nothing, so a
 * message paused at its last byte completes), then reads again unless
 * something holds it. */
static void conn_resume(conn_t *c)
{
  if (c->dead || c->in_parse)
    return;
  while (!c->dead && !conn_held(c) && (c->pending != NULL || c->reparse)) {
    char *p = c->pending;
    size_t n = c->pending_len;
    c->pending = NULL;
    c->pending_len = 0;
    conn_parse(c, p != NULL ? p : "", n);
    wire__free(p);
  }
  if (c->dead || c->pending != NULL || conn_held(c))
    return;
  if (c->paused) {
    c->paused = 0;
    wire_socket_resume(c->s);
  }
}

/* ---- idle connections ---------------------------------------------------- */

/* Between requests a keep-alive connection needs only a way to be found
 * (sweep, server close), its idle timestamp and its request count. The
 * socket's events stay ours throughout and its data says what it is:
 *
 * - bare: a socket accepted by the server's own listener is on that
 *   listener's list, where the sweep finds it, and its server is the
 *   listener's data. The conn_t is freed; the socket's data pointer holds
 *   the rest (bare_word: an odd value, never a conn_t).
 * - a record: any other socket (wire_http_server_attach) keeps a record of
 *   the start of conn_t (CONN_IDLE_SIZE bytes) in the server's list.
 *
 * conn_sleep makes one of these and frees the connection; the socket's
 * next event wakes it (bare_wake, conn_wake) into a full conn_t again. */
static int conn_can_sleep(const conn_t *c)
{
  const wire_http_server_t *srv = c->srv;
  /* A block still on the end-of-turn lists may point at its connection. */
  return c->idle == IDLE_NO && !c->dead && !c->closing && !c->close_req &&
         !c->peer_ended && !c->paused && !c->in_parse && !c->reparse &&
         c->cur == NULL && c->head == NULL && c->pending == NULL &&
         c->nrequests > 0 && !c->sleep_queued && srv->zombies == NULL &&
         srv->drains == NULL && !srv->closing;
}

/* The server's list of connections (awake ones and idle records; bare
 * idle ones are on their listener's list instead). */
static void list_add(conn_t *c)
{
  wire_http_server_t *srv = c->srv;
  c->prev = NULL;
  c->next = srv->conns;
  if (srv->conns != NULL)
    srv->conns->prev = c;
  srv->conns = c;
}

static void list_remove(conn_t *c)
{
  if (c->prev != NULL)
    c->prev->next = c->next;
  else
    c->srv->conns = c->next;
  if (c->next != NULL)
    c->next->prev = c->prev;
}

/* c takes the place of the connection it copies, in the list and on the
 * socket. */
static void conn_relink(conn_t *c)
{
  if (c->prev != NULL)
    c->prev->next = c;
  else
    c->srv->conns = c;
  if (c->next != NULL)
    c->next->prev = c;
  wire_socket_set_data(c->s, c);
}

/* A bare idle connection's socket data: bit 0 set, the request count in
 * bits 1 to 31, the idle start (loop ms, modulo 2^32) in bits 32 to 63.
 * Only where a pointer has 64 bits; elsewhere connections sleep as
 * records. */
#define BARE_NREQ_MAX 0x7fffffffu
#define BARE_TIMEOUT_MAX 0x7fffffffu /* ms: far from the stamp's wrap */

static int is_bare(const void *data)
{
  return ((uintptr_t)data & 1) != 0;
}

static void *bare_word(uint64_t since, unsigned nrequests)
{
  uint64_t w = (uint64_t)(uint32_t)since << 32 | (uint64_t)nrequests << 1 | 1;
  return (void *)(uintptr_t)w;
}

/* Milliseconds a bare connection has been idle at now. */
static uint64_t bare_idle_ms(const void *data, uint64_t now)
{
  uint32_t since = (uint32_t)((uint64_t)(uintptr_t)data >> 32);
  return (uint32_t)((uint32_t)now - since);
}

static unsigned bare_nrequests(const void *data)
{
  return (unsigned)(((uint64_t)(uintptr_t)data >> 1) & BARE_NREQ_MAX);
}

static int can_sleep_bare(const conn_t *c)
{
  const wire_http_server_t *srv = c->srv;
  return UINTPTR_MAX > 0xffffffffu && srv->net != NULL &&
         wire_socket_server(c->s) == srv->net &&
         srv->o.keep_alive_timeout_ms <= BARE_TIMEOUT_MAX &&
         c->nrequests <= BARE_NREQ_MAX;
}

/* Whether s (one of the listener's sockets) is a bare idle connection:
 * still HTTP's, asleep and not closing. */
static int is_bare_idle(const wire_socket_t *s)
{
  return s->on_data == on_sock_data && is_bare(s->data) &&
         !(s->flags & (WIRE__S_CLOSING | WIRE__S_USER_CLOSED));
}

static void conn_sleep(conn_t *c)
{
  if (can_sleep_bare(c)) {
    wire_socket_set_data(c->s, bare_word(c->since, c->nrequests));
    list_remove(c);
    wire__poison(c, sizeof(*c));
    wire__free(c);
    return;
  }
  conn_t *z = wire__malloc(CONN_IDLE_SIZE);
  if (z == NULL)
    return; /* it stays awake */
  memcpy(z, c, CONN_IDLE_SIZE);
  z->idle = IDLE_YES;
  conn_relink(z);
  wire__poison(c, sizeof(*c));
  wire__free(c);
}

/* The full connection again, or NULL (out of memory: the socket is
 * closed). */
static conn_t *conn_wake(conn_t *z)
{
  if (z->idle == IDLE_CLOSING)
    return NULL;
  conn_t *c = wire__calloc(1, sizeof(*c));
  if (c == NULL) {
    z->idle = IDLE_CLOSING;
    wire__socket_close_owned(z->s);
    return NULL;
  }
  memcpy(c, z, CONN_IDLE_SIZE);
  c->idle = IDLE_NO;
  wire_http_parser_init(&c->parser, WIRE_HTTP_REQUEST, &c->srv->ps);
  c->parser.data = c;
  c->req_start = c->since;
  conn_relink(c);
  wire__poison(z, CONN_IDLE_SIZE);
  wire__free(z);
  return c;
}

/* The full connection of a bare idle socket again, or NULL (out of
 * memory: the socket is closed). */
static conn_t *bare_wake(wire_socket_t *s, void *word)
{
  wire_http_server_t *srv = wire_server_data(wire_socket_server(s));
  conn_t *c = wire__calloc(1, sizeof(*c));
  if (c == NULL) {
    wire__socket_close_owned(s);
    return NULL;
  }
  uint64_t now = wire_loop_now(srv->obj.loop);
  c->srv = srv;
  c->s = s;
  c->since = now - bare_idle_ms(word, now);
  c->nrequests = bare_nrequests(word);
  wire_http_parser_init(&c->parser, WIRE_HTTP_REQUEST, &srv->ps);
  c->parser.data = c;
  c->req_start = c->since;
  list_add(c);
  wire_socket_set_data(s, c);
  return c;
}

/* The awake connection behind a socket event's data, woken if it slept;
 * NULL if it cannot be (closing, or out of memory). */
static conn_t *conn_awake(wire_socket_t *s, void *data)
{
  if (is_bare(data))
    return is_bare_idle(s) ? bare_wake(s, data) : NULL;
  conn_t *c = data;
  return c->idle ? conn_wake(c) : c;
}

/* Closes an idle connection (sweep, server close). */
static void idle_close(conn_t *z)
{
  if (z->idle == IDLE_YES) {
    z->idle = IDLE_CLOSING;
    wire__socket_close_owned(z->s);
  }
}

/* Closes the bare idle connections, all or those idle for the keep-alive
 * timeout (sweep, at now). Closing unlinks nothing before a later turn,
 * so the walk is safe. */
static void bare_close(wire_http_server_t *srv, int all, uint64_t now)
{
  /* A closed listener is freed, and had no connections left. */
  if (srv->net == NULL || srv->net_closed)
    return;
  for (wire_socket_t *s = wire__server_conns(srv->net); s != NULL;
       s = s->srv_next) {
    if (is_bare_idle(s) &&
        (all || bare_idle_ms(s->data, now) >= srv->o.keep_alive_timeout_ms))
      wire__socket_close_owned(s);
  }
}

static void on_sock_data(wire_socket_t *s, const char *buf, size_t len,
                         void *data)
{
  conn_t *c = conn_awake(s, data);
  if (c == NULL)
    return;
  if (c->dead)
    return;
  if (c->closing && c->cur == NULL)
    return; /* after the last request of the connection: ignored */
  if (c->pending != NULL || c->paused) {
    /* Data that raced a pause: queue it behind what is pending. */
    size_t n = c->pending_len + len;
    if (n > PENDING_MAX) {
      client_error(c, WIRE_ETOOBIG, 413);
      return;
    }
    char *p = wire__realloc(c->pending, n);
    if (p == NULL) {
      conn_close(c);
      return;
    }
    memcpy(p + c->pending_len, buf, len);
    c->pending = p;
    c->pending_len = n;
    return;
  }
  conn_parse(c, buf, len);
  conn_settle(c);
}

static void on_sock_end(wire_socket_t *s, void *data)
{
  conn_t *c = conn_awake(s, data);
  if (c == NULL)
    return;
  c->peer_ended = 1;
  /* Requests still pending are served first; settle decides. */
  conn_settle(c);
}

static void on_sock_drain(wire_socket_t *s, void *data)
{
  (void)s;
  conn_t *c = data;
  if (is_bare(data) || c->idle)
    return;
  msg_t *m = c->head;
  if (m != NULL && m->need_drain) {
    m->need_drain = 0;
    if (m->res.on_drain != NULL)
      m->res.on_drain(&m->res, m->res.data);
  }
}

static void conn_unlink(conn_t *c)
{
  list_remove(c);
  c->srv->nconns--;
}

/* The connection is gone: every block it holds loses it. A response the
 * user still owes gets its close event (and is released by its end); a
 * block the user never saw is released now. keep (may be NULL) is left to
 * the caller. */
static void conn_drop_msgs(conn_t *c, msg_t *keep)
{
  conn_drop_spare(c);
  msg_t *cur = c->cur;
  msg_t *m = c->head;
  c->head = c->tail = c->cur = NULL;
  /* The request being read may have left the queue already (its response
   * went out before its body was read). */
  if (cur != NULL && cur->finished) {
    cur->next = m;
    m = cur;
  }
  while (m != NULL) {
    msg_t *next = m->next;
    m->next = NULL;
    m->conn = NULL;
    m->closed = 1;
    if (m != keep) {
      if (!m->delivered)
        m->ended = 1;
      else if (!m->ended && m->res.on_close != NULL)
        m->res.on_close(&m->res, m->res.data);
      msg_maybe_release(m);
    }
    m = next;
  }
}

static void on_sock_close(wire_socket_t *s, int had_error, void *data)
{
  (void)had_error;
  if (is_bare(data)) {
    /* Still on the listener's list: it leaves after this event. */
    wire_http_server_t *srv = wire_server_data(wire_socket_server(s));
    srv->nconns--;
    server_maybe_finish(srv);
    return;
  }
  conn_t *c = data;
  wire_http_server_t *srv = c->srv;
  wire__obj_ref(&srv->obj);
  if (c->idle) {
    conn_unlink(c);
    wire__poison(c, CONN_IDLE_SIZE);
    wire__free(c);
    server_maybe_finish(srv);
    wire__obj_unref(&srv->obj);
    return;
  }
  c->dead = 1;
  conn_drop_msgs(c, NULL);
  wire__free(c->pending);
  conn_unlink(c);
  if (c->sleep_queued) {
    conn_t **pp = &srv->sleepers;
    while (*pp != c)
      pp = &(*pp)->snext;
    *pp = c->snext;
  }
  wire__poison(c, sizeof(*c));
  wire__free(c);
  server_maybe_finish(srv);
  wire__obj_unref(&srv->obj);
}

static void on_sock_error(wire_socket_t *s, int err, void *data)
{
  (void)s, (void)err, (void)data;
  /* The close event follows and does the cleanup. */
}

/* Ends our side after what is queued (Node's destroySoon). The peer's FIN
 * (or the sweep, once the queued bytes stop moving) closes the socket. */
static void conn_finish(conn_t *c)
{
  if (c->dead)
    return;
  c->dead = 1;
  c->since = wire_loop_now(c->srv->obj.loop);
  c->last_written = wire_socket_bytes_written(c->s);
  wire__free(c->pending);
  c->pending = NULL;
  c->pending_len = 0;
  wire_socket_set_allow_half_open(c->s, 0);
  wire_socket_end(c->s);
  /* Read on (and discard) so the peer's FIN is seen and the socket can
   * close, even if a paused request left it paused. */
  if (c->paused) {
    c->paused = 0;
    wire_socket_resume(c->s);
  }
}

static void conn_close(conn_t *c)
{
  c->dead = 1;
  if (!c->close_req) {
    c->close_req = 1;
    wire__socket_close_owned(c->s);
  }
}

/* The socket leaves HTTP (upgrade, CONNECT, a clientError handler): our
 * events are taken off it, the connection leaves the server and is freed
 * at the end of the turn (it may still be on the stack). */
static void conn_detach(conn_t *c, msg_t *keep)
{
  wire_http_server_t *srv = c->srv;
  wire_socket_t *s = c->s;
  c->dead = 1;
  wire_socket_set_data(s, NULL);
  wire_socket_on_data(s, NULL);
  wire_socket_on_end(s, NULL);
  wire_socket_on_drain(s, NULL);
  wire_socket_on_error(s, NULL);
  wire_socket_on_close(s, NULL);
  wire_socket_set_allow_half_open(s, 0);
  if (c->paused)
    wire_socket_resume(s);
  conn_unlink(c);
  c->next = srv->dead_conns;
  srv->dead_conns = c;
  /* Earlier pipelined responses still unfinished lose their connection. */
  conn_drop_msgs(c, keep);
  wire__free(c->pending);
  c->pending = NULL;
  wire__flush_queue(srv->obj.loop, &srv->gc);
}

/* Upgrade or CONNECT: the socket leaves HTTP with the bytes that followed
 * the head. */
static void hand_over(conn_t *c, const char *head, size_t head_len)
{
  wire_http_server_t *srv = c->srv;
  wire_socket_t *s = c->s;
  /* The parser completed the upgrade request: it is the last one. */
  msg_t *m = c->cur != NULL ? c->cur : c->tail;
  int is_connect = c->parser.method == WIRE_HTTP_CONNECT;
  wire_http_upgrade_cb cb = is_connect ? srv->on_connect : srv->on_upgrade;
  conn_detach(c, m);
  wire__obj_ref(&srv->obj);
  m->req_complete = 1;
  m->delivered = 1;
  cb(srv, &m->req, s, head, head_len, srv->data);
  m->ended = 1;
  msg_maybe_release(m);
  wire__obj_unref(&srv->obj);
}

/* ---- connections --------------------------------------------------------- */

static int conn_new(wire_http_server_t *srv, wire_socket_t *s)
{
  conn_t *c = wire__calloc(1, sizeof(*c));
  if (c == NULL)
    return WIRE_ENOMEM;
  c->srv = srv;
  c->s = s;
  wire_http_parser_init(&c->parser, WIRE_HTTP_REQUEST, &srv->ps);
  c->parser.data = c;
  c->since = wire_loop_now(srv->obj.loop);
  c->req_start = c->since;
  list_add(c);
  srv->nconns++;
  wire_socket_set_data(s, c);
  wire_socket_on_data(s, on_sock_data);
  wire_socket_on_end(s, on_sock_end);
  wire_socket_on_drain(s, on_sock_drain);
  wire_socket_on_error(s, on_sock_error);
  wire_socket_on_close(s, on_sock_close);
  /* Responses may still be owed after the peer's FIN. */
  wire_socket_set_allow_half_open(s, 1);
  if (srv->o.no_delay)
    wire_socket_set_nodelay(s, 1);
  if (srv->on_connection != NULL) {
    wire__obj_ref(&srv->obj);
    srv->on_connection(srv, s, srv->data);
    wire__obj_unref(&srv->obj);
  }
  return 0;
}

int wire_http_server_attach(wire_http_server_t *srv, wire_socket_t *s)
{
  if (srv->closing)
    return WIRE_ECLOSED;
  return conn_new(srv, s);
}

static void on_net_connection(wire_server_t *net, wire_socket_t *s,
                              void *data)
{
  (void)net;
  wire_http_server_t *srv = data;
  if (conn_new(srv, s) < 0)
    wire__socket_close_owned(s);
}

/* The timeouts (see the top of the file). */
static void on_sweep(wire_timer_t *t, void *data)
{
  (void)t;
  wire_http_server_t *srv = data;
  uint64_t now = wire_loop_now(srv->obj.loop);
  const wire_http_server_opts_t *o = &srv->o;
  /* Give back what a burst left in the pool, half the excess a second. */
  for (unsigned n = srv->npool > POOL_IDLE ? (srv->npool - POOL_IDLE + 1) / 2
                                           : 0;
       n > 0; n--) {
    msg_t *m = srv->pool;
    srv->pool = m->next;
    srv->npool--;
    wire__free(m);
  }
  bare_close(srv, 0, now);
  conn_t *next;
  for (conn_t *c = srv->conns; c != NULL; c = next) {
    next = c->next;
    if (c->idle) {
      if (now - c->since >= o->keep_alive_timeout_ms)
        idle_close(c);
      continue;
    }
    if (c->close_req)
      continue;
    if (c->dead) {
      /* Ended, waiting for a FIN that does not come: give up once the
       * queued bytes stop moving. */
      uint64_t w = wire_socket_bytes_written(c->s);
      if (w != c->last_written) {
        c->last_written = w;
        c->since = now;
      } else if (now - c->since >= o->keep_alive_timeout_ms) {
        conn_close(c);
      }
      continue;
    }
    msg_t *m = c->cur;
    if (m != NULL && !m->headers_done) {
      if (o->headers_timeout_ms > 0 &&
          now - c->req_start >= o->headers_timeout_ms)
        client_error(c, WIRE_ETIMEDOUT, 408);
    } else if (m != NULL) {
      if (o->request_timeout_ms > 0 &&
          now - c->req_start >= o->request_timeout_ms)
        client_error(c, WIRE_ETIMEDOUT, 408);
    } else if (c->head == NULL && c->nrequests == 0) {
      /* Connected, not a byte yet: the first head is late. */
      if (o->headers_timeout_ms > 0 &&
          now - c->req_start >= o->headers_timeout_ms)
        client_error(c, WIRE_ETIMEDOUT, 408);
    } else if (c->head == NULL) {
      if (now - c->since >= o->keep_alive_timeout_ms)
        conn_close(c);
      else if (conn_can_sleep(c))
        conn_sleep(c); /* c is gone */
    }
  }
}

/* ---- the server ---------------------------------------------------------- */

static void server_finalize(wire__obj_t *o)
{
  wire_http_server_t *srv = (wire_http_server_t *)o;
  while (srv->pool != NULL) {
    msg_t *m = srv->pool;
    srv->pool = m->next;
    wire__free(m);
  }
  wire__poison(srv, sizeof(*srv));
  wire__free(srv);
}

int wire_http_server_create(wire_loop_t *loop, const wire_http_server_opts_t *o,
                            wire_http_request_cb on_request,
                            wire_http_server_t **out)
{
  static const wire_http_server_opts_t defaults = WIRE_HTTP_SERVER_OPTS_INIT;
  wire_http_server_t *srv = wire__calloc(1, sizeof(*srv));
  if (srv == NULL)
    return WIRE_ENOMEM;
  srv->o = o != NULL ? *o : defaults;
  if (srv->o.max_header_size == 0)
    srv->o.max_header_size = defaults.max_header_size;
  if (srv->o.max_headers_count == 0)
    srv->o.max_headers_count = defaults.max_headers_count;
  if (srv->o.keep_alive_timeout_ms == 0)
    srv->o.keep_alive_timeout_ms = defaults.keep_alive_timeout_ms;
  srv->on_request = on_request;
  srv->gc.fn = on_gc;
  srv->buf_limit = srv->o.max_header_size * 2 + 1024;
  srv->ka_len = (size_t)snprintf(
      srv->ka_line, sizeof(srv->ka_line),
      "Connection: keep-alive\r\nKeep-Alive: timeout=%u\r\n",
      (unsigned)((srv->o.keep_alive_timeout_ms + 999) / 1000));
  wire_http_parser_settings_t *ps = &srv->ps;
  ps->on_message_begin = on_message_begin;
  ps->on_method = on_method;
  ps->on_url = on_url;
  ps->on_header_field = on_header_field;
  ps->on_header_value = on_header_value;
  ps->on_head = on_head;
  ps->on_headers_complete = on_headers_complete;
  ps->on_body = on_body;
  ps->on_trailer_field = on_trailer_field;
  ps->on_trailer_value = on_trailer_value;
  ps->on_message_complete = on_message_complete;
  ps->options = WIRE_HTTP_OPT_HEAD_COMPLETES;
  ps->max_header_size = srv->o.max_header_size;
  ps->max_headers = srv->o.max_headers_count;
  int err = wire_timer_create(loop, &srv->sweep);
  if (err < 0) {
    wire__free(srv);
    return err;
  }
  wire_timer_set_data(srv->sweep, srv);
  wire_timer_start(srv->sweep, 1000, 1000, on_sweep);
  wire_timer_unref(srv->sweep);
  wire__obj_init(&srv->obj, loop, server_finalize);
  *out = srv;
  return 0;
}

static void on_net_listen(wire_server_t *net, int status, void *data)
{
  (void)net;
  wire_http_server_t *srv = data;
  wire__obj_ref(&srv->obj);
  if (status == 0 && srv->on_listening != NULL)
    srv->on_listening(srv, srv->data);
  wire_http_listen_cb cb = srv->listen_cb;
  srv->listen_cb = NULL;
  if (cb != NULL)
    cb(srv, status, srv->data);
  wire__obj_unref(&srv->obj);
}

static int ensure_net(wire_http_server_t *srv)
{
  if (srv->closing)
    return WIRE_ECLOSED;
  if (srv->net != NULL)
    return WIRE_EALREADY;
  int err = wire_server_create(srv->obj.loop, NULL, on_net_connection,
                               &srv->net);
  if (err < 0)
    return err;
  wire_server_set_data(srv->net, srv);
  return 0;
}

int wire_http_server_listen(wire_http_server_t *srv, const char *host,
                            int port, wire_http_listen_cb cb)
{
  int err = ensure_net(srv);
  if (err < 0)
    return err;
  srv->listen_cb = cb;
  return wire_server_listen(srv->net, host, port, on_net_listen);
}

int wire_http_server_listen_path(wire_http_server_t *srv, const char *path,
                                 wire_http_listen_cb cb)
{
  int err = ensure_net(srv);
  if (err < 0)
    return err;
  srv->listen_cb = cb;
  return wire_server_listen_path(srv->net, path, on_net_listen);
}

int wire_http_server_address(const wire_http_server_t *srv, wire_addr_t *out)
{
  /* A closing server listens no more (Node's address() is null then),
   * and its listener is freed once closed. */
  if (srv->net == NULL || srv->closing)
    return WIRE_ENOTCONN;
  return wire_server_address(srv->net, out);
}

void wire_http_server_on_request(wire_http_server_t *srv,
                                 wire_http_request_cb cb)
{
  srv->on_request = cb;
}
void wire_http_server_on_connection(wire_http_server_t *srv,
                                    wire_http_connection_cb cb)
{
  srv->on_connection = cb;
}
void wire_http_server_on_check_continue(wire_http_server_t *srv,
                                        wire_http_request_cb cb)
{
  srv->on_check_continue = cb;
}
void wire_http_server_on_check_expectation(wire_http_server_t *srv,
                                           wire_http_request_cb cb)
{
  srv->on_check_expectation = cb;
}
void wire_http_server_on_connect(wire_http_server_t *srv,
                                 wire_http_upgrade_cb cb)
{
  srv->on_connect = cb;
}
void wire_http_server_on_upgrade(wire_http_server_t *srv,
                                 wire_http_upgrade_cb cb)
{
  srv->on_upgrade = cb;
}
void wire_http_server_on_client_error(wire_http_server_t *srv,
                                      wire_http_client_error_cb cb)
{
  srv->on_client_error = cb;
}
void wire_http_server_on_listening(wire_http_server_t *srv,
                                   wire_http_server_event_cb cb)
{
  srv->on_listening = cb;
}
void wire_http_server_on_close(wire_http_server_t *srv,
                               wire_http_server_event_cb cb)
{
  srv->on_close = cb;
}
void wire_http_server_set_data(wire_http_server_t *srv, void *data)
{
  srv->data = data;
}
void *wire_http_server_data(const wire_http_server_t *srv)
{
  return srv->data;
}
wire_loop_t *wire_http_server_loop(const wire_http_server_t *srv)
{
  return srv->obj.loop;
}
unsigned wire_http_server_connections(const wire_http_server_t *srv)
{
  return srv->nconns;
}

static void on_sweep_closed(wire_timer_t *t, void *data);

static void server_maybe_finish(wire_http_server_t *srv)
{
  if (!srv->closing || srv->finished || !srv->net_closed ||
      srv->nconns > 0 || srv->dead_conns != NULL)
    return;
  /* The sweep runs until the last connection is gone: a connection still
   * finishing a response keeps its timeouts. */
  if (!srv->sweep_closing) {
    srv->sweep_closing = 1;
    wire_timer_close(srv->sweep, on_sweep_closed);
    return;
  }
  if (!srv->sweep_closed)
    return;
  srv->finished = 1;
  wire__flush_cancel(srv->obj.loop, &srv->gc);
  srv->drains = NULL; /* their connections are gone: no drain is owed */
  while (srv->zombies != NULL) {
    msg_t *m = srv->zombies;
    srv->zombies = m->next;
    msg_free(m);
  }
  if (srv->on_close != NULL)
    srv->on_close(srv, srv->data);
  if (srv->close_cb != NULL)
    srv->close_cb(srv, srv->data);
  wire__obj_unref(&srv->obj);
}

static void on_net_closed(wire_server_t *net, void *data)
{
  (void)net;
  wire_http_server_t *srv = data;
  srv->net_closed = 1;
  server_maybe_finish(srv);
}

static void on_sweep_closed(wire_timer_t *t, void *data)
{
  (void)t;
  wire_http_server_t *srv = data;
  srv->sweep_closed = 1;
  server_maybe_finish(srv);
}

void wire_http_server_close(wire_http_server_t *srv,
                            wire_http_server_event_cb cb)
{
  assert(!srv->closing && "http server closed twice");
  srv->closing = 1;
  srv->close_cb = cb;
  if (srv->net != NULL)
    wire_server_close(srv->net, on_net_closed);
  else
    srv->net_closed = 1;
  /* Idle keep-alive connections go now; busy ones after their response
   * (send_head adds Connection: close; conn_settle ends the connection). */
  bare_close(srv, 1, 0);
  conn_t *next;
  for (conn_t *c = srv->conns; c != NULL; c = next) {
    next = c->next;
    if (c->idle) {
      idle_close(c);
      continue;
    }
    c->closing = 1;
    if (!c->dead && c->head == NULL && c->cur == NULL)
      conn_close(c);
  }
  server_maybe_finish(srv);
}

void wire_http_server_close_all(wire_http_server_t *srv)
{
  bare_close(srv, 1, 0);
  conn_t *next;
  for (conn_t *c = srv->conns; c != NULL; c = next) {
    next = c->next;
    if (c->idle)
      idle_close(c);
    else
      conn_close(c);
  }
}

