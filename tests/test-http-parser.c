/* Tests for the HTTP/1.1 parser (src/http/parser.c).
 *
 * Every case goes through run(): the input is fed whole, one byte at a
 * time and at random split points (several seeds), each piece copied so
 * that it ends right before an unreadable guard page, and the callbacks
 * are recorded into a log string. Element pieces are joined (a value's
 * trailing whitespace trimmed, as parser.h tells callers to do), body
 * pieces are joined, and the result, error reason, error offset and bytes
 * consumed close the log: every feeding must give the same log.
 *
 * The smuggling suite (smuggling_cases) lists inputs from RFC 9112 and
 * the published CL.TE, TE.CL and TE.TE classes, each with what the parser
 * must do and why.
 *
 * test-http-parser-portable.c includes this file again with the SSE2
 * scanners turned off. */
#include "codec-feed.h"

#include "http/parser.h"

/* Appends bytes, escaping the unprintable ones. */
static void str_esc(str_t *b, const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c < 0x7f && c != '\\')
      str_add(b, (const char *)&c, 1);
    else
      str_printf(b, "\\x%02x", c);
  }
}

/* ---- the recorder ---- */

enum {
  K_NONE,
  K_METHOD,
  K_URL,
  K_STATUS,
  K_FIELD,
  K_VALUE,
  K_EXT,
  K_TFIELD,
  K_TVALUE,
  K_BODY
};
static const char *const kind_name[] = {"",       "method", "url", "status",
                                        "field",  "value",  "ext", "tfield",
                                        "tvalue", "body"};

/* Run options. */
enum {
  O_FINISH = 1,         /* call finish() after the input */
  O_PAUSE_COMPLETE = 2, /* on_message_complete returns PAUSE */
  O_PAUSE_HEADERS = 4,  /* on_headers_complete returns PAUSE */
  O_SKIP_BODY = 8,      /* on_headers_complete returns SKIP_BODY */
  O_UPGRADE = 16,       /* on_headers_complete returns UPGRADE */
  O_ANY_METHOD = 32,    /* WIRE_HTTP_OPT_ANY_METHOD */
  O_FIELD_ERROR = 64,   /* on_header_field returns -42 */
  O_PAUSE_BODY = 128    /* on_body returns PAUSE */
};

typedef struct {
  str_t log;
  str_t pending; /* the element being joined */
  int kind;      /* its kind */
  unsigned opts;
  int errors; /* protocol violations seen by the recorder */
} rec_t;

static void flush(rec_t *r)
{
  if (r->kind == K_NONE)
    return;
  str_printf(&r->log, "%s=", kind_name[r->kind]);
  str_esc(&r->log, r->pending.s ? r->pending.s : "", r->pending.len);
  str_add(&r->log, "\n", 1);
  r->pending.len = 0;
  r->kind = K_NONE;
}

static int piece(wire_http_parser_t *p, int kind, const char *at, size_t len,
                 int last)
{
  rec_t *r = p->data;
  if (r->kind != K_NONE && r->kind != kind)
    r->errors++; /* a new element before the last piece of the previous */
  if (r->kind == K_BODY)
    flush(r);
  r->kind = kind;
  str_add(&r->pending, at, len);
  if (last) {
    if (kind == K_VALUE || kind == K_TVALUE) {
      while (r->pending.len > 0 && (r->pending.s[r->pending.len - 1] == ' ' ||
                                    r->pending.s[r->pending.len - 1] == '\t'))
        r->pending.len--;
    }
    flush(r);
  }
  return 0;
}

static void event(wire_http_parser_t *p, const char *ev)
{
  rec_t *r = p->data;
  if (r->kind == K_BODY)
    flush(r);
  if (r->kind != K_NONE)
    r->errors++;
  str_add(&r->log, ev, strlen(ev));
  str_add(&r->log, "\n", 1);
}

static int on_begin(wire_http_parser_t *p)
{
  event(p, "begin");
  return 0;
}

static int on_method(wire_http_parser_t *p, const char *at, size_t n, int l)
{
  return piece(p, K_METHOD, at, n, l);
}

static int on_url(wire_http_parser_t *p, const char *at, size_t n, int l)
{
  return piece(p, K_URL, at, n, l);
}

static int on_status(wire_http_parser_t *p, const char *at, size_t n, int l)
{
  return piece(p, K_STATUS, at, n, l);
}

static int on_field(wire_http_parser_t *p, const char *at, size_t n, int l)
{
  rec_t *r = p->data;
  /* Only on final pieces: where partial pieces fall depends on the
   * split, so an error from one would too. */
  if ((r->opts & O_FIELD_ERROR) && l)
    return -42;
  return piece(p, K_FIELD, at, n, l);
}

static int on_value(wire_http_parser_t *p, const char *at, size_t n, int l)
{
  return piece(p, K_VALUE, at, n, l);
}

static int on_ext(wire_http_parser_t *p, const char *at, size_t n, int l)
{
  return piece(p, K_EXT, at, n, l);
}

static int on_tfield(wire_http_parser_t *p, const char *at, size_t n, int l)
{
  return piece(p, K_TFIELD, at, n, l);
}

static int on_tvalue(wire_http_parser_t *p, const char *at, size_t n, int l)
{
  return piece(p, K_TVALUE, at, n, l);
}

static const struct {
  uint32_t bit;
  const char *name;
} flag_names[] = {
    {WIRE_HTTP_F_KEEP_ALIVE, "KA"},
    {WIRE_HTTP_F_CHUNKED, "CHUNKED"},
    {WIRE_HTTP_F_CONTENT_LENGTH, "CL"},
    {WIRE_HTTP_F_UPGRADE, "UPGRADE"},
    {WIRE_HTTP_F_EXPECT_CONTINUE, "CONTINUE"},
    {WIRE_HTTP_F_EXPECT_OTHER, "EXPECT"},
    {WIRE_HTTP_F_CONNECTION_CLOSE, "C-CLOSE"},
    {WIRE_HTTP_F_CONNECTION_KEEP_ALIVE, "C-KA"},
    {WIRE_HTTP_F_CONNECTION_UPGRADE, "C-UPGRADE"},
    {WIRE_HTTP_F_UPGRADE_HEADER, "UPGRADE-HDR"},
    {WIRE_HTTP_F_TRANSFER_ENCODING, "TE"},
    {WIRE_HTTP_F_TE_OTHER, "TE-OTHER"},
    {WIRE_HTTP_F_HOST, "HOST"},
    {WIRE_HTTP_F_EOF_BODY, "EOF"},
    {WIRE_HTTP_F_SKIP_BODY, "SKIP"},
};

static void flags_str(str_t *b, uint32_t f)
{
  int first = 1;
  for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
    if (f & flag_names[i].bit) {
      str_printf(b, "%s%s", first ? "" : "|", flag_names[i].name);
      first = 0;
    }
  }
  if (first)
    str_add(b, "-", 1);
}

static int on_headers(wire_http_parser_t *p)
{
  rec_t *r = p->data;
  event(p, "headers");
  str_printf(&r->log, "  v=%u.%u", p->http_major, p->http_minor);
  if (p->type == WIRE_HTTP_REQUEST)
    str_printf(&r->log, " m=%s", wire_http_method_str(p->method));
  else
    str_printf(&r->log, " s=%u", p->status);
  if (p->flags & WIRE_HTTP_F_CONTENT_LENGTH)
    str_printf(&r->log, " cl=%llu", (unsigned long long)p->content_length);
  str_add(&r->log, " f=", 3);
  flags_str(&r->log, p->flags);
  str_add(&r->log, "\n", 1);
  if (r->opts & O_SKIP_BODY)
    return WIRE_HTTP_CB_SKIP_BODY;
  if (r->opts & O_UPGRADE)
    return WIRE_HTTP_CB_UPGRADE;
  if (r->opts & O_PAUSE_HEADERS)
    return WIRE_HTTP_CB_PAUSE;
  return 0;
}

static int on_body(wire_http_parser_t *p, const char *at, size_t n)
{
  rec_t *r = p->data;
  if (n == 0)
    r->errors++;
  if (r->kind != K_NONE && r->kind != K_BODY)
    r->errors++;
  r->kind = K_BODY;
  str_add(&r->pending, at, n);
  return (r->opts & O_PAUSE_BODY) ? WIRE_HTTP_CB_PAUSE : 0;
}

static int on_chunk_header(wire_http_parser_t *p)
{
  char ev[64];
  snprintf(ev, sizeof(ev), "chunk %llx", (unsigned long long)p->remaining);
  event(p, ev);
  return 0;
}

static int on_chunk_complete(wire_http_parser_t *p)
{
  event(p, "chunk-end");
  return 0;
}

static int on_complete(wire_http_parser_t *p)
{
  rec_t *r = p->data;
  event(p, "complete");
  str_printf(&r->log, "  ka=%d\n", wire_http_should_keep_alive(p));
  return (r->opts & O_PAUSE_COMPLETE) ? WIRE_HTTP_CB_PAUSE : 0;
}

/* settings.on_head: the whole head, logged as on_message_begin and its
 * pieces would be (on_head stands for them). */
static int on_head(wire_http_parser_t *p, const wire_http_head_t *h)
{
  on_begin(p);
  piece(p, K_METHOD, h->base, h->method_len, 1);
  piece(p, K_URL, h->base + h->url, h->url_len, 1);
  for (uint32_t i = 0; i < h->nfields; i++) {
    const wire_http_field_t *f = &h->fields[i];
    /* Each element is followed by a delimiter in the input (parser.h):
     * reading the byte after it must be fine (the guard page says so). */
    (void)*(volatile const char *)(h->base + f->value + f->value_len);
    piece(p, K_FIELD, h->base + f->name, f->name_len, 1);
    piece(p, K_VALUE, h->base + f->value, f->value_len, 1);
  }
  return 0;
}

static int on_complete(wire_http_parser_t *p);

/* settings.on_head with WIRE_HTTP_OPT_HEAD_COMPLETES: on_headers_complete
 * too, and on_message_complete when the request has no body (and that
 * would not pause), as the HTTP server does (WIRE_HTTP_CB_DONE). */
static int on_head_completes(wire_http_parser_t *p, const wire_http_head_t *h)
{
  on_head(p, h);
  int r = on_headers(p);
  rec_t *rec = p->data;
  if (r == 0 && !wire_http_request_has_body(p) &&
      p->method != WIRE_HTTP_CONNECT && !(rec->opts & O_PAUSE_COMPLETE)) {
    on_complete(p);
    return WIRE_HTTP_CB_DONE;
  }
  return r;
}

static void settings_init(wire_http_parser_settings_t *s)
{
  memset(s, 0, sizeof(*s));
  s->on_message_begin = on_begin;
  s->on_method = on_method;
  s->on_url = on_url;
  s->on_status = on_status;
  s->on_header_field = on_field;
  s->on_header_value = on_value;
  s->on_headers_complete = on_headers;
  s->on_body = on_body;
  s->on_chunk_header = on_chunk_header;
  s->on_chunk_extension = on_ext;
  s->on_chunk_complete = on_chunk_complete;
  s->on_trailer_field = on_tfield;
  s->on_trailer_value = on_tvalue;
  s->on_message_complete = on_complete;
}

/* ---- feeding ---- */

typedef struct {
  int type;
  unsigned opts;
  wire_http_parser_settings_t s; /* limits only; callbacks set by run */
} runopts_t;

#define NMODES 8

/* Feeds data in pieces (mode 0: whole, 1: byte by byte, 2+: random, seeded
 * by mode; the same again from NMODES on, with on_head set for requests,
 * and from 2 * NMODES on, with on_head standing for on_headers_complete)
 * and returns the log. */
static char *feed(const runopts_t *o, const char *data, size_t len, int mode,
                  int *rc_out)
{
  wire_http_parser_settings_t s = o->s;
  wire_http_parser_t p;
  rec_t r;
  memset(&r, 0, sizeof(r));
  r.opts = o->opts;
  settings_init(&s);
  int completes = mode >= 2 * NMODES;
  if (mode >= NMODES) {
    mode %= NMODES;
    /* A callback error of a piece is reported where the parser was when
     * it delivered the piece (parser.h): not comparable, so not here. */
    if (o->type == WIRE_HTTP_REQUEST && !(o->opts & O_FIELD_ERROR)) {
      s.on_head = completes ? on_head_completes : on_head;
      if (completes)
        s.options |= WIRE_HTTP_OPT_HEAD_COMPLETES;
    }
  }
  s.max_header_size = o->s.max_header_size;
  s.max_headers = o->s.max_headers;
  s.max_url = o->s.max_url;
  s.max_chunk_ext = o->s.max_chunk_ext;
  if (o->opts & O_ANY_METHOD)
    s.options |= WIRE_HTTP_OPT_ANY_METHOD;
  wire_http_parser_init(&p, o->type, &s);
  p.data = &r;

  rng_state = 0x9e3779b97f4a7c15ull * (uint64_t)(mode + 1);
  unsigned maxpiece = mode >= 2 ? 1 + (unsigned)mode * 3 : 0;
  size_t off = 0;
  int rc = 0;
  while (off < len) {
    size_t n = len - off;
    if (mode == 1)
      n = 1;
    else if (mode >= 2) {
      size_t k = 1 + rnd(maxpiece);
      if (k < n)
        n = k;
    }
    /* Feed this piece until consumed, resuming after pauses. */
    size_t done = 0;
    while (done < n) {
      const char *g = guarded(data + off + done, n - done);
      size_t nread = 99999999;
      rc = wire_http_parser_execute(&p, g, n - done, &nread);
      cr_assert_leq(nread, n - done);
      if (rc < 0)
        break;
      done += nread;
      if (p.upgraded)
        break;
      if (nread == 0 && done < n) {
        /* Only a pause with nothing consumed may do this, and only right
         * after a callback asked for it: a second call must progress. */
        rc = wire_http_parser_execute(&p, g, n - done, &nread);
        cr_assert(rc < 0 || nread > 0 || p.upgraded, "no progress");
        if (rc < 0)
          break;
        done += nread;
      }
    }
    off += done;
    if (rc < 0 || p.upgraded)
      break;
  }
  if (rc == 0 && !p.upgraded) {
    /* A pause in on_headers_complete of a message without body leaves its
     * completion for the next call, even an empty one. */
    size_t nread;
    rc = wire_http_parser_execute(&p, NULL, 0, &nread);
    cr_assert_eq(nread, 0);
  }
  if (rc == 0 && p.upgraded) {
    flush(&r);
    str_printf(&r.log, "upgraded rest=%zu\n", len - off);
  } else if (rc == 0 && (o->opts & O_FINISH)) {
    rc = wire_http_parser_finish(&p);
  }
  /* Body bytes handed out are the bytes consumed, wherever the input was
   * split; an element cut short by an error is not, so it is dropped. */
  if (r.kind == K_BODY)
    flush(&r);
  r.kind = K_NONE;
  if (rc < 0)
    str_printf(&r.log, "error rc=%d %s at %llu\n", rc,
               wire_http_error_name(p.error),
               (unsigned long long)p.error_offset);
  else
    str_printf(&r.log, "ok consumed=%llu\n", (unsigned long long)p.offset);
  cr_assert_eq(r.errors, 0, "callback order broken (mode %d):\n%s", mode,
               r.log.s);
  if (rc < 0) {
    /* Errors are sticky. */
    size_t nread = 1;
    cr_assert_eq(wire_http_parser_execute(&p, "x", 1, &nread), rc);
    cr_assert_eq(nread, 0);
  }
  str_free(&r.pending);
  *rc_out = rc;
  return r.log.s;
}

/* Runs every feeding; asserts they agree; returns the log (caller frees). */
static char *run_opts(const runopts_t *o, const char *data, size_t len, int *rc)
{
  char *whole = feed(o, data, len, 0, rc);
  for (int mode = 1; mode < 3 * NMODES; mode++) {
    int rc2;
    char *l = feed(o, data, len, mode, &rc2);
    cr_assert_str_eq(l, whole, "feeding %d differs from whole:\n%s\nvs\n%s",
                     mode, l, whole);
    free(l);
  }
  return whole;
}

static char *run(int type, unsigned opts, const char *data, int *rc)
{
  runopts_t o;
  memset(&o, 0, sizeof(o));
  o.type = type;
  o.opts = opts;
  return run_opts(&o, data, strlen(data), rc);
}

/* Expects success and returns the log. */
static void expect_log(int type, unsigned opts, const char *in,
                       const char *want)
{
  int rc;
  char *log = run(type, opts, in, &rc);
  cr_assert_str_eq(log, want, "input:\n%s\nlog:\n%s", in, log);
  free(log);
}

/* The reason of an expected error (0: success); and, if want is not NULL,
 * a substring of the log. */
static void expect_n(const char *name, int type, unsigned opts, const char *in,
                     size_t len, int err, const char *want)
{
  runopts_t o;
  memset(&o, 0, sizeof(o));
  o.type = type;
  o.opts = opts;
  int rc;
  char *log = run_opts(&o, in, len, &rc);
  if (err == 0) {
    cr_expect_geq(rc, 0, "%s: expected success, got:\n%s", name, log);
  } else {
    char tag[128];
    snprintf(tag, sizeof(tag), " %s at", wire_http_error_name((unsigned)err));
    cr_expect(rc < 0 && strstr(log, tag) != NULL, "%s: expected %s, got:\n%s",
              name, wire_http_error_name((unsigned)err), log);
    if (err != WIRE_HTTP_E_CALLBACK)
      cr_expect_eq(rc, wire_http_error_code((unsigned)err), "%s", name);
  }
  if (want != NULL)
    cr_expect(strstr(log, want) != NULL, "%s: log lacks \"%s\":\n%s", name,
              want, log);
  free(log);
}

static void expect_o(const char *name, int type, unsigned opts, const char *in,
                     int err, const char *want)
{
  expect_n(name, type, opts, in, strlen(in), err, want);
}

static void expect(const char *name, int type, const char *in, int err,
                   const char *want)
{
  expect_n(name, type, 0, in, strlen(in), err, want);
}

#define REQ WIRE_HTTP_REQUEST
#define RES WIRE_HTTP_RESPONSE

/* ---- basic messages: exact callback sequences ---- */

Test(http_parser, simple_get)
{
  expect_log(REQ, 0,
             "GET /index.html?q=1 HTTP/1.1\r\n"
             "Host: example.com\r\n"
             "User-Agent: curl/7.88\r\n"
             "Accept: */*\r\n"
             "\r\n",
             "begin\n"
             "method=GET\n"
             "url=/index.html?q=1\n"
             "field=Host\n"
             "value=example.com\n"
             "field=User-Agent\n"
             "value=curl/7.88\n"
             "field=Accept\n"
             "value=*/*\n"
             "headers\n"
             "  v=1.1 m=GET f=KA|HOST\n"
             "complete\n"
             "  ka=1\n"
             "ok consumed=87\n");
}

Test(http_parser, post_with_body)
{
  expect_log(REQ, 0,
             "POST /submit HTTP/1.1\r\n"
             "Host: a\r\n"
             "Content-Length: 11\r\n"
             "\r\n"
             "hello world",
             "begin\n"
             "method=POST\n"
             "url=/submit\n"
             "field=Host\n"
             "value=a\n"
             "field=Content-Length\n"
             "value=11\n"
             "headers\n"
             "  v=1.1 m=POST cl=11 f=KA|CL|HOST\n"
             "body=hello world\n"
             "complete\n"
             "  ka=1\n"
             "ok consumed=65\n");
}

Test(http_parser, chunked_with_extensions_and_trailers)
{
  expect_log(REQ, 0,
             "POST /up HTTP/1.1\r\n"
             "Host: a\r\n"
             "Transfer-Encoding: chunked\r\n"
             "Trailer: X-Sum\r\n"
             "\r\n"
             "5;name=value;q=\"a \\\"b\\\"\"\r\n"
             "hello\r\n"
             "1A\r\n"
             "abcdefghijklmnopqrstuvwxyz\r\n"
             "0\r\n"
             "X-Sum: 42 \r\n"
             "Content-Length: 99\r\n"
             "\r\n",
             "begin\n"
             "method=POST\n"
             "url=/up\n"
             "field=Host\n"
             "value=a\n"
             "field=Transfer-Encoding\n"
             "value=chunked\n"
             "field=Trailer\n"
             "value=X-Sum\n"
             "headers\n"
             "  v=1.1 m=POST f=KA|CHUNKED|TE|HOST\n"
             "ext=;name=value;q=\"a \\x5c\"b\\x5c\"\"\n"
             "chunk 5\n"
             "body=hello\n"
             "chunk-end\n"
             "chunk 1a\n"
             "body=abcdefghijklmnopqrstuvwxyz\n"
             "chunk-end\n"
             "chunk 0\n"
             "tfield=X-Sum\n"
             "tvalue=42\n"
             "tfield=Content-Length\n"
             "tvalue=99\n"
             "complete\n"
             "  ka=1\n"
             "ok consumed=176\n");
}

Test(http_parser, response_with_length)
{
  expect_log(RES, 0,
             "HTTP/1.1 200 OK\r\n"
             "Content-Type: text/plain\r\n"
             "Content-Length: 12\r\n"
             "\r\n"
             "Hello World\n",
             "begin\n"
             "status=OK\n"
             "field=Content-Type\n"
             "value=text/plain\n"
             "field=Content-Length\n"
             "value=12\n"
             "headers\n"
             "  v=1.1 s=200 cl=12 f=KA|CL\n"
             "body=Hello World\\x0a\n"
             "complete\n"
             "  ka=1\n"
             "ok consumed=77\n");
}

Test(http_parser, response_chunked)
{
  expect_log(RES, 0,
             "HTTP/1.1 404 Not Found\r\n"
             "Transfer-Encoding: chunked\r\n"
             "\r\n"
             "3\r\nabc\r\n0\r\n\r\n",
             "begin\n"
             "status=Not Found\n"
             "field=Transfer-Encoding\n"
             "value=chunked\n"
             "headers\n"
             "  v=1.1 s=404 f=KA|CHUNKED|TE\n"
             "chunk 3\n"
             "body=abc\n"
             "chunk-end\n"
             "chunk 0\n"
             "complete\n"
             "  ka=1\n"
             "ok consumed=67\n");
}

Test(http_parser, values_trimmed_and_internal_space_kept)
{
  expect_log(REQ, 0,
             "GET / HTTP/1.1\r\n"
             "Host:a\r\n"
             "X-A: \t  spaced   value \t \r\n"
             "X-Empty:\r\n"
             "X-Empty2:   \r\n"
             "X-Obs: caf\xc3\xa9\r\n"
             "\r\n",
             "begin\n"
             "method=GET\n"
             "url=/\n"
             "field=Host\n"
             "value=a\n"
             "field=X-A\n"
             "value=spaced   value\n"
             "field=X-Empty\n"
             "value=\n"
             "field=X-Empty2\n"
             "value=\n"
             "field=X-Obs\n"
             "value=caf\\xc3\\xa9\n"
             "headers\n"
             "  v=1.1 m=GET f=KA|HOST\n"
             "complete\n"
             "  ka=1\n"
             "ok consumed=91\n");
}

Test(http_parser, long_values_cross_vector_boundaries)
{
  /* Values of every length 0..70 with a tab or a bad byte at every
   * position exercise the vector scanners' tails. */
  for (int n = 0; n < 70; n++) {
    for (int at = -1; at < n; at++) {
      char in[256];
      char v[80];
      memset(v, 'v', (size_t)n);
      v[n] = '\0';
      if (at >= 0)
        v[at] = '\t';
      snprintf(in, sizeof(in), "GET /%s HTTP/1.1\r\nHost: h\r\nX: %s\r\n\r\n",
               at < 0 ? v : "", v);
      expect("tabs", REQ, in, 0, NULL);
      if (at > 0) {
        v[at] = 0x7f;
        snprintf(in, sizeof(in), "GET / HTTP/1.1\r\nHost: h\r\nX: %s\r\n\r\n",
                 v);
        expect("del", REQ, in, WIRE_HTTP_E_INVALID_HEADER_VALUE, NULL);
        v[at] = 0x01;
        snprintf(in, sizeof(in), "GET /%s HTTP/1.1\r\nHost: h\r\n\r\n", v);
        expect("ctl in url", REQ, in, WIRE_HTTP_E_INVALID_URL, NULL);
      }
    }
  }
}

/* ---- pipelining and pauses ---- */

static const char pipelined[] =
    "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
    "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz"
    "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
    "2\r\nhi\r\n0\r\n\r\n"
    "\r\n" /* RFC 9112 2.2: an empty line before a request is ignored */
    "GET /d HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";

Test(http_parser, pipelined)
{
  int rc;
  char *log = run(REQ, 0, pipelined, &rc);
  cr_assert_eq(rc, 0, "%s", log);
  const char *u = log;
  const char *urls[] = {"url=/a\n", "url=/b\n", "url=/c\n", "url=/d\n"};
  for (int i = 0; i < 4; i++) {
    u = strstr(u, urls[i]);
    cr_assert_not_null(u, "%s missing:\n%s", urls[i], log);
  }
  cr_assert_not_null(strstr(log, "body=xyz\n"));
  cr_assert_not_null(strstr(log, "body=hi\n"));
  cr_assert_not_null(strstr(log, "complete\n  ka=0\nok"));
  free(log);
}

Test(http_parser, pipelined_pause_on_each_message)
{
  /* The log is the same as without pauses, and each pause stops exactly
   * at the end of a message. */
  int rc;
  char *plain = run(REQ, 0, pipelined, &rc);
  char *paused = run(REQ, O_PAUSE_COMPLETE, pipelined, &rc);
  cr_assert_str_eq(plain, paused);
  free(plain);
  free(paused);

  wire_http_parser_settings_t s;
  settings_init(&s);
  rec_t r;
  memset(&r, 0, sizeof(r));
  r.opts = O_PAUSE_COMPLETE;
  wire_http_parser_t p;
  wire_http_parser_init(&p, REQ, &s);
  p.data = &r;
  size_t len = strlen(pipelined);
  const char *g = guarded(pipelined, len);
  size_t n;
  cr_assert_eq(wire_http_parser_execute(&p, g, len, &n), 0);
  cr_assert_eq(n, strlen("GET /a HTTP/1.1\r\nHost: h\r\n\r\n"));
  size_t off = n;
  cr_assert_eq(wire_http_parser_execute(&p, g + off, len - off, &n), 0);
  cr_assert_eq(n, strlen("POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: "
                         "3\r\n\r\nxyz"));
  off += n;
  cr_assert_eq(wire_http_parser_execute(&p, g + off, len - off, &n), 0);
  off += n;
  cr_assert_eq(wire_http_parser_execute(&p, g + off, len - off, &n), 0);
  off += n;
  cr_assert_eq(off, len);
  str_free(&r.log);
  str_free(&r.pending);
}

Test(http_parser, pause_in_headers_and_body)
{
  int rc;
  char *plain = run(REQ, 0, pipelined, &rc);
  char *p1 = run(REQ, O_PAUSE_HEADERS, pipelined, &rc);
  char *p2 = run(REQ, O_PAUSE_BODY, pipelined, &rc);
  cr_assert_str_eq(plain, p1);
  cr_assert_str_eq(plain, p2);
  free(plain);
  free(p1);
  free(p2);
  /* A message with no body paused in on_headers_complete completes on the
   * next call, even an empty one. */
  wire_http_parser_settings_t s;
  settings_init(&s);
  rec_t r;
  memset(&r, 0, sizeof(r));
  r.opts = O_PAUSE_HEADERS;
  wire_http_parser_t p;
  wire_http_parser_init(&p, REQ, &s);
  p.data = &r;
  const char *in = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  size_t n;
  cr_assert_eq(wire_http_parser_execute(&p, in, strlen(in), &n), 0);
  cr_assert_eq(n, strlen(in));
  cr_assert_null(strstr(r.log.s, "complete"));
  cr_assert_eq(wire_http_parser_execute(&p, NULL, 0, &n), 0);
  cr_assert_not_null(strstr(r.log.s, "complete"));
  str_free(&r.log);
  str_free(&r.pending);
}

Test(http_parser, data_after_close_is_refused)
{
  expect("after close", REQ,
         "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
         "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
         WIRE_HTTP_E_CLOSED_CONNECTION, "complete\n  ka=0\n");
  expect("after 1.0", REQ,
         "GET / HTTP/1.0\r\n\r\n\r\n\r\nGET / HTTP/1.0\r\n\r\n",
         WIRE_HTTP_E_CLOSED_CONNECTION, NULL);
  expect("stray CRLF after close is fine", REQ,
         "GET / HTTP/1.0\r\n\r\n\r\n\r\n", 0, NULL);
}

/* ---- keep-alive ---- */

Test(http_parser, keep_alive_rules)
{
  static const struct {
    const char *in;
    const char *want;
  } t[] = {
      {"GET / HTTP/1.1\r\nHost: h\r\n\r\n", "f=KA|HOST\n"},
      {"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
       "f=C-CLOSE|HOST\n"},
      {"GET / HTTP/1.1\r\nHost: h\r\nConnection: Close\r\n\r\n",
       "f=C-CLOSE|HOST\n"},
      {"GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, CLOSE ,bar\r\n\r\n",
       "f=C-CLOSE|HOST\n"},
      {"GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n",
       "f=KA|HOST\n"},
      {"GET / HTTP/1.0\r\n\r\n", "f=-\n"},
      {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "f=KA|C-KA\n"},
      {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", "f=KA|C-KA\n"},
      {"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
       "f=C-CLOSE|C-KA\n"},
      {"GET / HTTP/1.0\r\nConnection:\r\n\r\n", "f=-\n"},
      {"GET /ws HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\n"
       "Upgrade: websocket\r\n\r\n",
       "f=KA|UPGRADE|C-KA|C-UPGRADE|UPGRADE-HDR|HOST\n"},
      {"GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n\r\n",
       "f=KA|C-UPGRADE|HOST\n"},
      {"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\n\r\n",
       "f=KA|UPGRADE-HDR|HOST\n"},
      {"GET / HTTP/1.1\r\nHost: h\r\nConnection: a\r\nConnection: close\r\n"
       "\r\n",
       "f=C-CLOSE|HOST\n"},
  };
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
    expect("keep-alive", REQ, t[i].in, 0, t[i].want);
  expect("response 1.0", RES, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", 0,
         "f=CL\n");
  expect("response 1.0 ka", RES,
         "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n"
         "\r\n",
         0, "f=KA|CL|C-KA\n");
}

Test(http_parser, expect_header)
{
  expect("continue", REQ,
         "PUT /x HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\n"
         "Content-Length: 1\r\n\r\nx",
         0, "f=KA|CL|CONTINUE|HOST\n");
  expect("other", REQ, "PUT /x HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\n\r\n",
         0, "f=KA|EXPECT|HOST\n");
  expect("with params", REQ,
         "PUT /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue;a=b\r\n\r\n", 0,
         "f=KA|EXPECT|HOST\n");
}

/* ---- responses ---- */

Test(http_parser, responses_without_body)
{
  expect("204 then 200", RES,
         "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n"
         "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
         0, "s=204 cl=10 f=KA|CL|SKIP\ncomplete\n  ka=1\nbegin\n");
  expect("304", RES,
         "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n"
         "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
         0, "s=304 f=KA|TE|SKIP\ncomplete\n");
  expect("100 then 200", RES,
         "HTTP/1.1 100 Continue\r\n\r\n"
         "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
         "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx",
         0, "s=100 f=KA|SKIP\ncomplete\n  ka=1\nbegin\nstatus=Early Hints\n");
  /* on_headers_complete sees the flags before its answer applies. */
  expect_o("head response", RES, O_SKIP_BODY,
           "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
           "HTTP/1.1 200 OK\r\n\r\n",
           0, "f=EOF\ncomplete\n  ka=1\nok consumed=107\n");
  expect_o("head response 1.0", RES, O_SKIP_BODY, "HTTP/1.0 200 OK\r\n\r\n", 0,
           "f=EOF\ncomplete\n  ka=0\nok");
}

Test(http_parser, response_close_delimited)
{
  expect_o("eof body", RES, O_FINISH,
           "HTTP/1.1 200 OK\r\n\r\nall of this until the end", 0,
           "f=EOF\nbody=all of this until the end\ncomplete\n  ka=0\nok");
  expect_o("eof body 1.0", RES, O_FINISH,
           "HTTP/1.0 200 OK\r\nContent-Type: x\r\n\r\nbody\r\n\r\nmore", 0,
           "body=body\\x0d\\x0a\\x0d\\x0amore\ncomplete\n");
  expect_o("te not chunked: until close", RES, O_FINISH,
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzzz", 0,
           "f=TE|TE-OTHER|EOF\nbody=zzz\ncomplete\n");
  expect_o("eof inside a length body", RES, O_FINISH,
           "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab",
           WIRE_HTTP_E_INVALID_EOF, "body=ab\n");
  expect_o("eof inside chunked", RES, O_FINISH,
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
           WIRE_HTTP_E_INVALID_EOF, NULL);
  expect_o("eof inside headers", REQ, O_FINISH, "GET / HTTP/1.1\r\nHo",
           WIRE_HTTP_E_INVALID_EOF, NULL);
  expect_o("eof between messages", REQ, O_FINISH,
           "GET / HTTP/1.1\r\nHost: h\r\n\r\n\r\n", 0, "complete\n");
  expect_o("eof before anything", REQ, O_FINISH, "", 0, NULL);
}

Test(http_parser, status_line)
{
  expect("no reason", RES, "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", 0,
         "status=\n");
  expect("no SP, no reason (leniency)", RES,
         "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", 0, "status=\n");
  expect("reason with obs-text and tabs", RES,
         "HTTP/1.1 200 Tr\xe8s\tbien \r\nContent-Length: 0\r\n\r\n", 0,
         "status=Tr\\xe8s\\x09bien \n");
  expect("two digits", RES, "HTTP/1.1 20 OK\r\n\r\n",
         WIRE_HTTP_E_INVALID_STATUS, NULL);
  expect("four digits", RES, "HTTP/1.1 2000 OK\r\n\r\n",
         WIRE_HTTP_E_INVALID_STATUS, NULL);
  expect("below 100", RES, "HTTP/1.1 099 OK\r\n\r\n",
         WIRE_HTTP_E_INVALID_STATUS, NULL);
  expect("600", RES, "HTTP/1.1 600 OK\r\n\r\n", WIRE_HTTP_E_INVALID_STATUS,
         NULL);
  expect("two spaces", RES, "HTTP/1.1  200 OK\r\n\r\n",
         WIRE_HTTP_E_INVALID_STATUS, NULL);
  expect("CTL in reason", RES, "HTTP/1.1 200 O\x01K\r\n\r\n",
         WIRE_HTTP_E_INVALID_STATUS, NULL);
  expect("bare LF", RES, "HTTP/1.1 200 OK\n\r\n", WIRE_HTTP_E_CR_EXPECTED,
         NULL);
  expect("HTTP/2", RES, "HTTP/2.0 200 OK\r\n\r\n",
         WIRE_HTTP_E_VERSION_NOT_SUPPORTED, NULL);
  expect("lower case", RES, "http/1.1 200 OK\r\n\r\n",
         WIRE_HTTP_E_INVALID_VERSION, NULL);
  expect("garbage", RES, "<html>", WIRE_HTTP_E_INVALID_VERSION, NULL);
}

Test(http_parser, upgrade_and_connect)
{
  expect("101 stops", RES,
         "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
         "Connection: Upgrade\r\n\r\n\x81\x05hello",
         0,
         "f=KA|UPGRADE|C-UPGRADE|UPGRADE-HDR\ncomplete\n  ka=1\n"
         "upgraded rest=7\n");
  expect("CONNECT stops", REQ,
         "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"
         "\x16\x03\x01",
         0, "url=example.com:443\n");
  expect("CONNECT rest", REQ,
         "CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n\x16\x03\x01", 0,
         "upgraded rest=3\n");
  expect("CONNECT origin-form", REQ, "CONNECT / HTTP/1.1\r\nHost: h\r\n\r\n",
         WIRE_HTTP_E_INVALID_URL, NULL);
  expect_n("websocket upgrade by the callback", REQ, O_UPGRADE,
           "GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\n\r\n\x81\x80",
           strlen("GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\n\r\n\x81\x80"),
           0, "upgraded rest=2\n");
  /* After an upgrade the parser takes no more input. */
  wire_http_parser_t p;
  wire_http_parser_init(&p, REQ, NULL);
  const char *in = "CONNECT h:1 HTTP/1.1\r\nHost: h:1\r\n\r\nxx";
  size_t n;
  cr_assert_eq(wire_http_parser_execute(&p, in, strlen(in), &n), 0);
  cr_assert_eq(n, strlen(in) - 2);
  cr_assert_eq(p.upgraded, 1);
  cr_assert_eq(wire_http_parser_execute(&p, "xx", 2, &n), WIRE_EHTTPPARSE);
  cr_assert_eq(p.error, WIRE_HTTP_E_STOPPED);
}

Test(http_parser, skip_body_is_for_responses_only)
{
  expect_o("skip on a request", REQ, O_SKIP_BODY,
           "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc",
           WIRE_HTTP_E_CALLBACK, NULL);
}

/* ---- request line ---- */

Test(http_parser, methods)
{
  for (unsigned m = 1; m < WIRE_HTTP_METHOD_COUNT_; m++) {
    char in[128];
    const char *name = wire_http_method_str(m);
    const char *target = m == WIRE_HTTP_CONNECT ? "h:1" : "/";
    snprintf(in, sizeof(in), "%s %s HTTP/1.1\r\nHost: h\r\n\r\n", name, target);
    char want[64];
    snprintf(want, sizeof(want), " m=%s ", name);
    expect(name, REQ, in, 0, want);
  }
  expect("unknown", REQ, "FOO / HTTP/1.1\r\nHost: h\r\n\r\n",
         WIRE_HTTP_E_UNKNOWN_METHOD, NULL);
  expect("lower case", REQ, "get / HTTP/1.1\r\nHost: h\r\n\r\n",
         WIRE_HTTP_E_UNKNOWN_METHOD, NULL);
  expect("prefix", REQ, "GE / HTTP/1.1\r\nHost: h\r\n\r\n",
         WIRE_HTTP_E_UNKNOWN_METHOD, NULL);
  expect("longer", REQ, "GETS / HTTP/1.1\r\nHost: h\r\n\r\n",
         WIRE_HTTP_E_UNKNOWN_METHOD, NULL);
  expect("very long", REQ,
         "UNSUBSCRIBEUNSUBSCRIBE / HTTP/1.1\r\nHost: h\r\n\r\n",
         WIRE_HTTP_E_UNKNOWN_METHOD, NULL);
  expect("tab", REQ, "GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n",
         WIRE_HTTP_E_INVALID_METHOD, NULL);
  expect("not a token", REQ, "G(T / HTTP/1.1\r\nHost: h\r\n\r\n",
         WIRE_HTTP_E_INVALID_METHOD, NULL);
  expect("leading space", REQ, " GET / HTTP/1.1\r\nHost: h\r\n\r\n",
         WIRE_HTTP_E_INVALID_METHOD, NULL);
  const char *any = "BREW /pot HTTP/1.1\r\nHost: h\r\n\r\n";
  expect_n("any token allowed", REQ, O_ANY_METHOD, any, strlen(any), 0,
           "method=BREW\n");
  expect_o("any token: still a token", REQ, O_ANY_METHOD,
           "BR@W / HTTP/1.1\r\n\r\n", WIRE_HTTP_E_INVALID_METHOD, NULL);
  cr_assert_str_eq(wire_http_method_str(WIRE_HTTP_MSEARCH), "M-SEARCH");
  cr_assert_str_eq(wire_http_method_str(0), "");
  cr_assert_str_eq(wire_http_method_str(999), "");
}

Test(http_parser, request_target)
{
  expect("absolute-form", REQ,
         "GET http://example.com/x?y HTTP/1.1\r\nHost: example.com\r\n\r\n", 0,
         "url=http://example.com/x?y\n");
  expect("asterisk-form", REQ, "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", 0,
         "url=*\n");
  expect("asterisk for GET", REQ, "GET * HTTP/1.1\r\nHost: h\r\n\r\n",
         WIRE_HTTP_E_INVALID_URL, NULL);
  expect("asterisk plus", REQ, "OPTIONS *x HTTP/1.1\r\nHost: h\r\n\r\n",
         WIRE_HTTP_E_INVALID_URL, NULL);
  expect("empty", REQ, "GET  HTTP/1.1\r\nHost: h\r\n\r\n",
         WIRE_HTTP_E_INVALID_URL, NULL);
  expect("two spaces", REQ, "GET /  HTTP/1.1\r\nHost: h\r\n\r\n",
         WIRE_HTTP_E_INVALID_VERSION, NULL);
  expect("space inside", REQ, "GET /a b HTTP/1.1\r\nHost: h\r\n\r\n",
         WIRE_HTTP_E_INVALID_VERSION, NULL);
  expect("tab inside", REQ, "GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n",
         WIRE_HTTP_E_INVALID_URL, NULL);
  expect("utf-8 raw", REQ, "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n",
         WIRE_HTTP_E_INVALID_URL, NULL);
  expect("HTTP/0.9", REQ, "GET /\r\n", WIRE_HTTP_E_INVALID_URL, NULL);
  expect("relative", REQ, "GET ../x HTTP/1.1\r\nHost: h\r\n\r\n",
         WIRE_HTTP_E_INVALID_URL, NULL);
}

Test(http_parser, versions)
{
  expect("1.0", REQ, "GET / HTTP/1.0\r\n\r\n", 0, "v=1.0");
  expect("1.2", REQ, "GET / HTTP/1.2\r\nHost: h\r\n\r\n",
         WIRE_HTTP_E_VERSION_NOT_SUPPORTED, NULL);
  expect("2.0", REQ, "GET / HTTP/2.0\r\n\r\n",
         WIRE_HTTP_E_VERSION_NOT_SUPPORTED, NULL);
  expect("0.9", REQ, "GET / HTTP/0.9\r\n\r\n",
         WIRE_HTTP_E_VERSION_NOT_SUPPORTED, NULL);
  expect("h2 preface", REQ, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
         WIRE_HTTP_E_UNKNOWN_METHOD, NULL);
  expect("1.10", REQ, "GET / HTTP/1.10\r\n\r\n", WIRE_HTTP_E_INVALID_VERSION,
         NULL);
  expect("11", REQ, "GET / HTTP/11\r\n\r\n", WIRE_HTTP_E_INVALID_VERSION, NULL);
  expect("lower", REQ, "GET / http/1.1\r\n\r\n", WIRE_HTTP_E_INVALID_VERSION,
         NULL);
  expect("trailing space", REQ, "GET / HTTP/1.1 \r\n\r\n",
         WIRE_HTTP_E_INVALID_VERSION, NULL);
  expect("bare LF", REQ, "GET / HTTP/1.1\nHost: h\n\n", WIRE_HTTP_E_CR_EXPECTED,
         NULL);
  expect("CR CR", REQ, "GET / HTTP/1.1\r\r\n", WIRE_HTTP_E_LF_EXPECTED, NULL);
  expect("leading empty lines", REQ,
         "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 0, "complete");
  expect("leading bare LF", REQ, "\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
         WIRE_HTTP_E_CR_EXPECTED, NULL);
}

/* ---- fields ---- */

Test(http_parser, field_syntax)
{
  expect("space before colon", REQ, "GET / HTTP/1.1\r\nHost : h\r\n\r\n",
         WIRE_HTTP_E_SPACE_BEFORE_COLON, NULL);
  expect("tab before colon", REQ, "GET / HTTP/1.1\r\nHost\t: h\r\n\r\n",
         WIRE_HTTP_E_SPACE_BEFORE_COLON, NULL);
  expect("no colon", REQ, "GET / HTTP/1.1\r\nHost\r\n\r\n",
         WIRE_HTTP_E_INVALID_HEADER_TOKEN, NULL);
  expect("empty name", REQ, "GET / HTTP/1.1\r\n: x\r\nHost: h\r\n\r\n",
         WIRE_HTTP_E_INVALID_HEADER_TOKEN, NULL);
  expect("bad name char", REQ, "GET / HTTP/1.1\r\nX(y): 1\r\nHost: h\r\n\r\n",
         WIRE_HTTP_E_INVALID_HEADER_TOKEN, NULL);
  expect("utf-8 name", REQ,
         "GET / HTTP/1.1\r\nX-\xc3\xa9: 1\r\nHost: h\r\n\r\n",
         WIRE_HTTP_E_INVALID_HEADER_TOKEN, NULL);
  expect("obs-fold", REQ, "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n",
         WIRE_HTTP_E_OBS_FOLD, NULL);
  expect("obs-fold tab", REQ,
         "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n",
         WIRE_HTTP_E_OBS_FOLD, NULL);
  expect("space before first field", REQ, "GET / HTTP/1.1\r\n Host: h\r\n\r\n",
         WIRE_HTTP_E_INVALID_HEADER_TOKEN, NULL);
  expect_n("NUL in value", REQ, 0,
           "GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n",
           sizeof("GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n") - 1,
           WIRE_HTTP_E_INVALID_HEADER_VALUE, " at 29\n");
  expect("bare CR in value", REQ,
         "GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n",
         WIRE_HTTP_E_LF_EXPECTED, " at 30\n");
  expect("bare LF in value", REQ,
         "GET / HTTP/1.1\r\nHost: h\r\nX: a\nb\r\n\r\n",
         WIRE_HTTP_E_CR_EXPECTED, " at 29\n");
  expect("ESC in value", REQ, "GET / HTTP/1.1\r\nHost: h\r\nX: \x1b[0m\r\n\r\n",
         WIRE_HTTP_E_INVALID_HEADER_VALUE, NULL);
  expect("DEL in value", REQ, "GET / HTTP/1.1\r\nHost: h\r\nX: \x7f\r\n\r\n",
         WIRE_HTTP_E_INVALID_HEADER_VALUE, NULL);
  expect("bare LF end of headers", REQ, "GET / HTTP/1.1\r\nHost: h\r\n\n",
         WIRE_HTTP_E_CR_EXPECTED, NULL);
  expect("CR then junk at end of headers", REQ,
         "GET / HTTP/1.1\r\nHost: h\r\n\rX", WIRE_HTTP_E_LF_EXPECTED, NULL);
}

Test(http_parser, host_rules)
{
  expect("missing in 1.1", REQ, "GET / HTTP/1.1\r\n\r\n",
         WIRE_HTTP_E_MISSING_HOST, NULL);
  expect("optional in 1.0", REQ, "GET / HTTP/1.0\r\n\r\n", 0, NULL);
  expect("twice", REQ, "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n",
         WIRE_HTTP_E_DUPLICATE_HOST, NULL);
  expect("twice in 1.0", REQ, "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n",
         WIRE_HTTP_E_DUPLICATE_HOST, NULL);
  expect("empty is allowed", REQ, "GET / HTTP/1.1\r\nHost:\r\n\r\n", 0, NULL);
  expect("ipv6 and port", REQ, "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", 0,
         NULL);
  expect("trailing OWS", REQ, "GET / HTTP/1.1\r\nHost: a.b \t\r\n\r\n", 0,
         "value=a.b\n");
  expect("space inside", REQ, "GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
         WIRE_HTTP_E_INVALID_HOST, NULL);
  expect("slash", REQ, "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n",
         WIRE_HTTP_E_INVALID_HOST, NULL);
  expect("at sign", REQ, "GET / HTTP/1.1\r\nHost: u@h\r\n\r\n",
         WIRE_HTTP_E_INVALID_HOST, NULL);
  expect("host not checked in responses", RES,
         "HTTP/1.1 200 OK\r\nHost: a b/c\r\nContent-Length: 0\r\n\r\n", 0,
         "f=KA|CL\n");
  expect("hosts not counted in responses", RES,
         "HTTP/1.1 200 OK\r\nHost: a\r\nHost: b\r\nContent-Length: 0\r\n\r\n",
         0, NULL);
}

Test(http_parser, host_every_byte_at_every_position)
{
  /* RFC 3986 3.2.2 and 3.2.3, uri-host [ ":" port ]: unreserved,
   * pct-encoded, sub-delims, ':' and the brackets of IP literals. Every
   * other byte that may stand in a field value is INVALID_HOST, wherever
   * it stands in the value (lanes of the vector check and its tail). */
  static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"
                           "WXYZ0123456789-._~%!$&'()*+,;=:[]";
  static const int lens[] = {1, 5, 15, 16, 17, 33};
  for (unsigned li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
    int n = lens[li];
    for (int c = 0x21; c < 0x100; c++) {
      if (c == 0x7f)
        continue; /* not a field value byte: INVALID_HEADER_VALUE */
      int good = strchr(ok, c) != NULL;
      for (int at = 0; at < n; at++) {
        if (at > 2 && at < n - 2 && at != 15 && at != 16)
          continue;
        char v[64];
        memset(v, 'h', (size_t)n);
        v[n] = '\0';
        v[at] = (char)c;
        char in[128];
        int len =
            snprintf(in, sizeof(in), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", v);
        char want[64];
        snprintf(want, sizeof(want), " at %d\n", 22 + at);
        expect_n("host byte", REQ, 0, in, (size_t)len,
                 good ? 0 : WIRE_HTTP_E_INVALID_HOST, good ? NULL : want);
      }
    }
  }
}

Test(http_parser, content_length_values)
{
  expect("zero", REQ, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
         0, "cl=0 ");
  expect("leading zeros", REQ,
         "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 007\r\n\r\nabcdefg", 0,
         "cl=7 ");
  expect("max", RES,
         "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\n", 0,
         "cl=18446744073709551615 ");
  expect("overflow", RES,
         "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n",
         WIRE_HTTP_E_INVALID_CONTENT_LENGTH, NULL);
  expect("far overflow", RES,
         "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
         WIRE_HTTP_E_INVALID_CONTENT_LENGTH, NULL);
  expect("empty", REQ, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n",
         WIRE_HTTP_E_INVALID_CONTENT_LENGTH, NULL);
  expect("hex", REQ,
         "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x5\r\n\r\n",
         WIRE_HTTP_E_INVALID_CONTENT_LENGTH, NULL);
  expect("negative", REQ,
         "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n",
         WIRE_HTTP_E_INVALID_CONTENT_LENGTH, NULL);
  expect("inner space", REQ,
         "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1 2\r\n\r\n",
         WIRE_HTTP_E_INVALID_CONTENT_LENGTH, NULL);
  expect("ows", REQ,
         "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \t 3 \t\r\n\r\nabc", 0,
         "cl=3 ");
  expect("case", REQ,
         "POST / HTTP/1.1\r\nHost: h\r\ncOnTeNt-LeNgTh: 3\r\n\r\n"
         "abc",
         0, "cl=3 ");
  expect("not content-length", REQ,
         "POST / HTTP/1.1\r\nHost: h\r\nContent-Lengths: x\r\n"
         "Content-Lengt: y\r\nContent-Length-: z\r\n\r\n",
         0, "f=KA|HOST\n");
}

/* ---- the request smuggling suite ----
 *
 * Each case: the input, what the parser must do, and why. A request
 * smuggling attack needs two parsers (a proxy and a server) to disagree on
 * where a message ends; the defence is to accept only one unambiguous
 * framing and reject everything else, so no message that a lenient peer
 * could read differently gets through. */

typedef struct {
  const char *name;
  const char *in;
  size_t len; /* 0: strlen */
  int err;
  const char *why;
} smuggle_t;

#define H "POST / HTTP/1.1\r\nHost: h\r\n"

static const smuggle_t smuggling_cases[] = {
    /* CL.TE: the front end uses Content-Length, the back end chunked. */
    {"CL.TE",
     H "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n"
       "0\r\n\r\nG",
     0, WIRE_HTTP_E_TE_AND_CONTENT_LENGTH,
     "RFC 9112 6.1/6.3(3): both framings present is an error"},
    /* TE.CL: the reverse order of the same fields. */
    {"TE.CL",
     H "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
       "8\r\nSMUGGLED\r\n0\r\n\r\n",
     0, WIRE_HTTP_E_TE_AND_CONTENT_LENGTH, "RFC 9112 6.1: rejected"},
    {"CL.TE with TE obfuscated by case",
     H "Content-Length: 4\r\n"
       "tRANSFER-eNCODING: CHUNKED\r\n\r\n"
       "0\r\n\r\n",
     0, WIRE_HTTP_E_TE_AND_CONTENT_LENGTH,
     "field names and codings are case-insensitive (RFC 9110 5.1, 7.3)"},
    /* TE.TE: obfuscated Transfer-Encoding that one side ignores. */
    {"TE: xchunked", H "Transfer-Encoding: xchunked\r\n\r\n", 0,
     WIRE_HTTP_E_INVALID_TRANSFER_ENCODING,
     "RFC 9112 6.3(4): chunked is not the final coding of a request: 400"},
    {"TE: chunkedx", H "Transfer-Encoding: chunkedx\r\n\r\n", 0,
     WIRE_HTTP_E_INVALID_TRANSFER_ENCODING, "not chunked: as above"},
    {"TE: chunked with space before colon",
     H "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 0,
     WIRE_HTTP_E_SPACE_BEFORE_COLON,
     "RFC 9112 5.1: whitespace before the colon MUST be rejected (400)"},
    {"TE: tab as OWS is valid",
     H "Transfer-Encoding:\tchunked\r\n\r\n"
       "0\r\n\r\n",
     0, 0, "RFC 9110 5.6.3: OWS = *( SP / HTAB ); this is plain chunked"},
    {"TE: trailing OWS is valid",
     H "Transfer-Encoding: chunked \t\r\n\r\n"
       "0\r\n\r\n",
     0, 0, "OWS after the value is not part of it"},
    {"TE: chunked, identity", H "Transfer-Encoding: chunked, identity\r\n\r\n",
     0, WIRE_HTTP_E_INVALID_TRANSFER_ENCODING,
     "RFC 9112 6.3(4): chunked must be last; identity is no coding (9112)"},
    {"TE: identity alone", H "Transfer-Encoding: identity\r\n\r\n", 0,
     WIRE_HTTP_E_INVALID_TRANSFER_ENCODING, "chunked not last: 400"},
    {"TE: gzip, chunked", H "Transfer-Encoding: gzip, chunked\r\n\r\n", 0,
     WIRE_HTTP_E_UNSUPPORTED_TRANSFER_ENCODING,
     "RFC 9112 6.1: a coding the server does not implement: 501"},
    {"TE: chunked, chunked", H "Transfer-Encoding: chunked, chunked\r\n\r\n", 0,
     WIRE_HTTP_E_INVALID_TRANSFER_ENCODING,
     "RFC 9112 7: chunked MUST NOT be applied more than once"},
    {"TE: duplicated field lines",
     H "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 0,
     WIRE_HTTP_E_INVALID_TRANSFER_ENCODING,
     "RFC 9110 5.3: field lines combine into one list: chunked twice"},
    {"TE: duplicated, other last",
     H "Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n", 0,
     WIRE_HTTP_E_INVALID_TRANSFER_ENCODING,
     "combined list \"chunked, x\": chunked not last"},
    {"TE: duplicated, other first",
     H "Transfer-Encoding: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 0,
     WIRE_HTTP_E_UNSUPPORTED_TRANSFER_ENCODING,
     "combined list \"x, chunked\": unknown coding, 501"},
    {"TE: empty", H "Transfer-Encoding:\r\n\r\n", 0,
     WIRE_HTTP_E_INVALID_TRANSFER_ENCODING, "a TE with no coding"},
    {"TE: empty elements",
     H "Transfer-Encoding: , ,chunked,\r\n\r\n"
       "0\r\n\r\n",
     0, 0, "RFC 9110 5.6.1: empty list elements are ignored"},
    {"TE: chunked with parameter", H "Transfer-Encoding: chunked;q=1\r\n\r\n",
     0, WIRE_HTTP_E_INVALID_TRANSFER_ENCODING,
     "chunked takes no parameters: this is another coding, not last chunked"},
    {"TE: quoted comma", H "Transfer-Encoding: x;a=\",chunked\"\r\n\r\n", 0,
     WIRE_HTTP_E_INVALID_TRANSFER_ENCODING,
     "a comma inside a quoted-string does not start a new element"},
    {"TE: vertical tab",
     H "Transfer-Encoding: \x0b"
       "chunked\r\n\r\n",
     0, WIRE_HTTP_E_INVALID_HEADER_VALUE, "VT is a CTL, not whitespace"},
    {"TE: junk char", H "Transfer-Encoding: chunked\"\r\n\r\n", 0,
     WIRE_HTTP_E_INVALID_TRANSFER_ENCODING, "not list syntax"},
    {"TE: obs-fold", H "Transfer-Encoding:\r\n chunked\r\n\r\n", 0,
     WIRE_HTTP_E_OBS_FOLD, "RFC 9112 5.2: obs-fold rejected"},
    {"TE: obs-fold after value", H "Transfer-Encoding: chunked\r\n , x\r\n\r\n",
     0, WIRE_HTTP_E_OBS_FOLD, "a folded continuation is never joined"},
    {"TE in HTTP/1.0",
     "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
     "0\r\n\r\n",
     0, WIRE_HTTP_E_INVALID_TRANSFER_ENCODING,
     "RFC 9112 6.1: an HTTP/1.0 message with TE has faulty framing"},
    {"TE with a NUL", H "Transfer-Encoding: chunked\0\r\n\r\n",
     sizeof(H "Transfer-Encoding: chunked\0\r\n\r\n") - 1,
     WIRE_HTTP_E_INVALID_HEADER_VALUE, "RFC 9110 5.5: NUL is rejected"},
    {"NUL in a field name", H "Transfer\0-Encoding: chunked\r\n\r\n",
     sizeof(H "Transfer\0-Encoding: chunked\r\n\r\n") - 1,
     WIRE_HTTP_E_INVALID_HEADER_TOKEN, "not a tchar"},
    {"TE with LF-only line end", H "Transfer-Encoding: chunked\n\r\n0\r\n\r\n",
     0, WIRE_HTTP_E_CR_EXPECTED,
     "RFC 9112 2.2: bare LF MAY be accepted; wire rejects it"},
    {"LF-only request", "POST / HTTP/1.1\nHost: h\nContent-Length: 1\n\nx", 0,
     WIRE_HTTP_E_CR_EXPECTED, "as above"},
    {"bare CR line end", H "X: y\rContent-Length: 5\r\n\r\n", 0,
     WIRE_HTTP_E_LF_EXPECTED, "RFC 9112 2.2: bare CR MUST be rejected"},
    {"TE name with a trailing char",
     H "Transfer-Encodingx: chunked\r\n"
       "Content-Length: 0\r\n\r\n",
     0, 0, "another field: the message has Content-Length 0"},
    {"TE name with a leading space", H " Transfer-Encoding: chunked\r\n\r\n", 0,
     WIRE_HTTP_E_OBS_FOLD, "a line starting with whitespace is obs-fold"},
    /* Content-Length variants. */
    {"CL: +5", H "Content-Length: +5\r\n\r\nhello", 0,
     WIRE_HTTP_E_INVALID_CONTENT_LENGTH, "RFC 9110 8.6: 1*DIGIT only"},
    {"CL: 5, 6", H "Content-Length: 5, 6\r\n\r\nhello!", 0,
     WIRE_HTTP_E_INVALID_CONTENT_LENGTH, "RFC 9110 8.6: differing values"},
    {"CL: 5, 5", H "Content-Length: 5, 5\r\n\r\nhello", 0,
     WIRE_HTTP_E_INVALID_CONTENT_LENGTH,
     "RFC 9110 8.6 MAY reject a list of identical values; wire does"},
    {"CL twice, different", H "Content-Length: 5\r\nContent-Length: 6\r\n\r\n",
     0, WIRE_HTTP_E_DUPLICATE_CONTENT_LENGTH, "two framings"},
    {"CL twice, same",
     H "Content-Length: 5\r\nContent-Length: 5\r\n\r\n"
       "hello",
     0, WIRE_HTTP_E_DUPLICATE_CONTENT_LENGTH,
     "identical duplicates may be merged (RFC 9110 8.6); wire rejects, as "
     "Node"},
    {"CL: 1e3", H "Content-Length: 1e3\r\n\r\n", 0,
     WIRE_HTTP_E_INVALID_CONTENT_LENGTH, "not digits"},
    {"CL: overflow wraps to 0",
     H "Content-Length: 18446744073709551616\r\n"
       "\r\n",
     0, WIRE_HTTP_E_INVALID_CONTENT_LENGTH, "2^64 must not wrap around to 0"},
    {"CL: space before colon", H "Content-Length : 5\r\n\r\nhello", 0,
     WIRE_HTTP_E_SPACE_BEFORE_COLON, "RFC 9112 5.1"},
    {"CL: vertical tab",
     H "Content-Length:\x0b"
       "5\r\n\r\nhello",
     0, WIRE_HTTP_E_INVALID_HEADER_VALUE, "VT is not OWS"},
    {"CL obs-folded", H "Content-Length:\r\n 5\r\n\r\nhello", 0,
     WIRE_HTTP_E_INVALID_CONTENT_LENGTH,
     "the empty value fails before the fold is seen"},
    /* Chunked framing. */
    {"chunk size 0x5",
     H "Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n"
       "0\r\n\r\n",
     0, WIRE_HTTP_E_INVALID_CHUNK_SIZE,
     "RFC 9112 7.1: chunk-size = 1*HEXDIG, no prefix"},
    {"chunk size with sign",
     H "Transfer-Encoding: chunked\r\n\r\n+5\r\n"
       "hello\r\n0\r\n\r\n",
     0, WIRE_HTTP_E_INVALID_CHUNK_SIZE, "no sign"},
    {"chunk size leading space",
     H "Transfer-Encoding: chunked\r\n\r\n 5\r\n"
       "hello\r\n0\r\n\r\n",
     0, WIRE_HTTP_E_INVALID_CHUNK_SIZE, "no whitespace before the size"},
    {"chunk size trailing space",
     H "Transfer-Encoding: chunked\r\n\r\n5 \r\n"
       "hello\r\n0\r\n\r\n",
     0, WIRE_HTTP_E_INVALID_CHUNK_EXTENSION,
     "BWS only before ';': trailing whitespace is not chunk-ext"},
    {"chunk size empty", H "Transfer-Encoding: chunked\r\n\r\n\r\nhello\r\n", 0,
     WIRE_HTTP_E_INVALID_CHUNK_SIZE, "at least one digit"},
    {"chunk size 17 digits",
     H "Transfer-Encoding: chunked\r\n\r\n"
       "00000000000000005\r\nhello\r\n0\r\n\r\n",
     0, WIRE_HTTP_E_CHUNK_SIZE_OVERFLOW,
     "more than 16 hex digits could overflow 64 bits: refused"},
    {"chunk size 2^64",
     H "Transfer-Encoding: chunked\r\n\r\n"
       "10000000000000000\r\nx\r\n",
     0, WIRE_HTTP_E_CHUNK_SIZE_OVERFLOW, "must not wrap to 0 (a 0 chunk)"},
    {"chunk size 2^64-1",
     H "Transfer-Encoding: chunked\r\n\r\n"
       "FFFFFFFFFFFFFFFF\r\nxyz",
     0, 0, "the largest size parses; the body streams"},
    {"chunk 5;ext",
     H "Transfer-Encoding: chunked\r\n\r\n5;ext\r\nhello\r\n"
       "0\r\n\r\n",
     0, 0, "RFC 9112 7.1.1: a valueless extension"},
    {"chunk ext with BWS",
     H "Transfer-Encoding: chunked\r\n\r\n"
       "5 ; a = b ;c=\"d\"\r\nhello\r\n0\r\n\r\n",
     0, 0, "RFC 9112 7.1.1: BWS around ';' and '='"},
    {"chunk ext bare LF",
     H "Transfer-Encoding: chunked\r\n\r\n"
       "5;a\nhello\r\n0\r\n\r\n",
     0, WIRE_HTTP_E_INVALID_CHUNK_EXTENSION,
     "a LF inside a chunk line: one parser sees a line end, another not"},
    {"chunk ext bare CR",
     H "Transfer-Encoding: chunked\r\n\r\n"
       "5;a\rX\r\nhello\r\n0\r\n\r\n",
     0, WIRE_HTTP_E_LF_EXPECTED, "CR must be followed by LF"},
    {"chunk ext unterminated quote",
     H "Transfer-Encoding: chunked\r\n\r\n"
       "5;a=\"b\r\nhello\r\n0\r\n\r\n",
     0, WIRE_HTTP_E_INVALID_CHUNK_EXTENSION, "no CR/LF inside quotes"},
    {"chunk ext no name",
     H "Transfer-Encoding: chunked\r\n\r\n5;=b\r\n"
       "hello\r\n0\r\n\r\n",
     0, WIRE_HTTP_E_INVALID_CHUNK_EXTENSION, "ext-name is a token"},
    {"chunk ext no value",
     H "Transfer-Encoding: chunked\r\n\r\n5;a=\r\n"
       "hello\r\n0\r\n\r\n",
     0, WIRE_HTTP_E_INVALID_CHUNK_EXTENSION, "'=' needs a value"},
    {"chunk size bare LF",
     H "Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n"
       "0\r\n\r\n",
     0, WIRE_HTTP_E_CR_EXPECTED, "CRLF only"},
    {"chunk data too long",
     H "Transfer-Encoding: chunked\r\n\r\n"
       "3\r\nhello\r\n0\r\n\r\n",
     0, WIRE_HTTP_E_INVALID_CHUNK,
     "the data must be followed by CRLF exactly at the size"},
    {"chunk data LF only",
     H "Transfer-Encoding: chunked\r\n\r\n"
       "5\r\nhello\n0\r\n\r\n",
     0, WIRE_HTTP_E_INVALID_CHUNK, "CRLF after data"},
    {"last chunk missing CRLF",
     H "Transfer-Encoding: chunked\r\n\r\n"
       "0\r\nGET / HTTP/1.1\r\n\r\n",
     0, WIRE_HTTP_E_SPACE_BEFORE_COLON,
     "after the last chunk come trailer fields: a request line is not one"},
    {"trailer obs-fold",
     H "Transfer-Encoding: chunked\r\n\r\n0\r\nX: a\r\n"
       " b\r\n\r\n",
     0, WIRE_HTTP_E_OBS_FOLD, "trailers follow the field rules"},
    {"trailer CL is not framing",
     H "Transfer-Encoding: chunked\r\n\r\n"
       "0\r\nContent-Length: 5\r\n\r\n"
       "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
     0, 0, "RFC 9110 6.5.1: trailers do not frame: the next request follows"},
    {"TE in a GET",
     "GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked"
     "\r\n\r\n0\r\n\r\n",
     0, 0, "any request may have content; framing is the same"},
    {"Host twice (routing confusion)",
     "GET / HTTP/1.1\r\nHost: a\r\n"
     "Host: b\r\n\r\n",
     0, WIRE_HTTP_E_DUPLICATE_HOST, "RFC 9112 3.2: 400"},
};

Test(http_parser, smuggling_suite)
{
  for (size_t i = 0; i < sizeof(smuggling_cases) / sizeof(smuggling_cases[0]);
       i++) {
    const smuggle_t *c = &smuggling_cases[i];
    size_t len = c->len ? c->len : strlen(c->in);
    expect_n(c->name, REQ, 0, c->in, len, c->err, NULL);
  }
}

Test(http_parser, smuggling_responses)
{
  /* A client (or proxy) reading responses: the same ambiguities. */
  expect("response CL+TE", RES,
         "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked"
         "\r\n\r\n",
         WIRE_HTTP_E_TE_AND_CONTENT_LENGTH, NULL);
  expect("response CL twice", RES,
         "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
         WIRE_HTTP_E_DUPLICATE_CONTENT_LENGTH, NULL);
  expect("response chunked twice", RES,
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
         WIRE_HTTP_E_INVALID_TRANSFER_ENCODING, NULL);
  expect("response gzip, chunked", RES,
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
         "1\r\nz\r\n0\r\n\r\n",
         0, "f=KA|CHUNKED|TE|TE-OTHER\n");
  expect("response obs-fold", RES,
         "HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n",
         WIRE_HTTP_E_OBS_FOLD, NULL);
  expect("response space before colon", RES,
         "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n",
         WIRE_HTTP_E_SPACE_BEFORE_COLON, NULL);
}

/* ---- limits ---- */

static void expect_limits(const char *name, const runopts_t *o, const char *in,
                          int err)
{
  int rc;
  char *log = run_opts(o, in, strlen(in), &rc);
  if (err == 0)
    cr_expect_geq(rc, 0, "%s:\n%s", name, log);
  else
    cr_expect(strstr(log, wire_http_error_name((unsigned)err)) != NULL,
              "%s: want %s:\n%s", name, wire_http_error_name((unsigned)err),
              log);
  free(log);
}

Test(http_parser, header_size_limit)
{
  runopts_t o;
  memset(&o, 0, sizeof(o));
  o.type = REQ;
  /* 16 + 9 + 2 = 27 bytes of head. */
  const char *in = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  o.s.max_header_size = 27;
  expect_limits("exactly", &o, in, 0);
  o.s.max_header_size = 26;
  expect_limits("one over", &o, in, WIRE_HTTP_E_HEADER_OVERFLOW);
  o.s.max_header_size = 10;
  expect_limits("in the request line", &o, in, WIRE_HTTP_E_HEADER_OVERFLOW);
  /* Empty lines before a request count too. */
  o.s.max_header_size = 29;
  expect_limits("leading CRLF", &o, "\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 0);
  o.s.max_header_size = 28;
  expect_limits("leading CRLF over", &o,
                "\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
                WIRE_HTTP_E_HEADER_OVERFLOW);
  /* The budget is per message. */
  o.s.max_header_size = 27;
  expect_limits("per message", &o,
                "GET / HTTP/1.1\r\nHost: h\r\n\r\n"
                "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
                0);
  /* Body bytes do not count. */
  expect_limits("body not counted", &o, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", 0);
  /* Trailers have their own budget. */
  o.s.max_header_size = 64;
  expect_limits("trailers", &o,
                "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                "\r\n0\r\nX: 0123456789012345678901234567890123456789\r\n\r\n",
                0);
  expect_limits("trailers over", &o,
                "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                "\r\n0\r\nX: 0123456789012345678901234567890123456789012345678"
                "901234567890123456789\r\n\r\n",
                WIRE_HTTP_E_HEADER_OVERFLOW);
}

Test(http_parser, default_header_size_is_16k)
{
  static char big[20000];
  runopts_t o;
  memset(&o, 0, sizeof(o));
  o.type = REQ;
  const char *pre = "GET / HTTP/1.1\r\nHost: h\r\nX: ";
  size_t pl = strlen(pre);
  /* Head = pl + v + 4 (CRLF CRLF); exactly 16384 is fine. */
  size_t v = 16384 - pl - 4;
  memcpy(big, pre, pl);
  memset(big + pl, 'a', v);
  memcpy(big + pl + v, "\r\n\r\n", 5);
  expect_limits("16384", &o, big, 0);
  memset(big + pl, 'a', v + 1);
  memcpy(big + pl + v + 1, "\r\n\r\n", 5);
  expect_limits("16385", &o, big, WIRE_HTTP_E_HEADER_OVERFLOW);
}

Test(http_parser, header_count_limit)
{
  runopts_t o;
  memset(&o, 0, sizeof(o));
  o.type = REQ;
  o.s.max_headers = 3;
  expect_limits("3", &o, "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n",
                0);
  expect_limits("4", &o,
                "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
                WIRE_HTTP_E_TOO_MANY_HEADERS);
  /* The default is 2000. */
  static char many[2100 * 8 + 64];
  o.s.max_headers = 0;
  o.s.max_header_size = 1 << 20;
  for (int count = 1999; count <= 2000; count++) {
    size_t n = (size_t)sprintf(many, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < count; i++)
      n += (size_t)sprintf(many + n, "H: %03d\r\n", i % 1000);
    sprintf(many + n, "\r\n");
    /* 1999 fields + Host = 2000: fine; 2001: too many. */
    expect_limits("default", &o, many, WIRE_HTTP_E_MISSING_HOST);
  }
  size_t n = (size_t)sprintf(many, "GET / HTTP/1.1\r\nHost: h\r\n");
  for (int i = 0; i < 2000; i++)
    n += (size_t)sprintf(many + n, "H: %03d\r\n", i % 1000);
  sprintf(many + n, "\r\n");
  expect_limits("default over", &o, many, WIRE_HTTP_E_TOO_MANY_HEADERS);
}

Test(http_parser, url_limit)
{
  runopts_t o;
  memset(&o, 0, sizeof(o));
  o.type = REQ;
  o.s.max_url = 10;
  expect_limits("10", &o, "GET /123456789 HTTP/1.1\r\nHost: h\r\n\r\n", 0);
  expect_limits("11", &o, "GET /1234567890 HTTP/1.1\r\nHost: h\r\n\r\n",
                WIRE_HTTP_E_URI_TOO_LONG);
  expect_limits("11, cut", &o, "GET /1234567890", WIRE_HTTP_E_URI_TOO_LONG);
  expect_limits("10, cut", &o, "GET /123456789", 0);
  /* Default 8 KiB: a 9000-byte target. */
  static char big[9100];
  o.s.max_url = 0;
  memcpy(big, "GET /", 5);
  memset(big + 5, 'x', 9000);
  strcpy(big + 9005, " HTTP/1.1\r\nHost: h\r\n\r\n");
  expect_limits("default", &o, big, WIRE_HTTP_E_URI_TOO_LONG);
  cr_assert_eq(wire_http_error_status(WIRE_HTTP_E_URI_TOO_LONG), 414);
}

Test(http_parser, chunk_extension_limit)
{
  runopts_t o;
  memset(&o, 0, sizeof(o));
  o.type = REQ;
  o.s.max_chunk_ext = 8;
  const char *body = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked"
                     "\r\n\r\n";
  char in[512];
  snprintf(in, sizeof(in), "%s1;abcde\r\nx\r\n0;z\r\n\r\n", body);
  expect_limits("8 in all", &o, in, 0);
  snprintf(in, sizeof(in), "%s1;abcde\r\nx\r\n0;zz\r\n\r\n", body);
  expect_limits("9 in all", &o, in, WIRE_HTTP_E_CHUNK_EXTENSION_OVERFLOW);
  cr_assert_eq(wire_http_error_status(WIRE_HTTP_E_CHUNK_EXTENSION_OVERFLOW),
               413);
}

/* ---- errors ---- */

/* Heads at the edges of the parser's short way for a whole head in head
 * mode (usual_head): each either goes all the way or is given up to the
 * long way; every feeding (whole, split, with and without on_head) must
 * log the same either way. */
Test(http_parser, usual_head_edges)
{
  static const struct {
    const char *in;
    int err;
  } cases[] = {
      {"GET / HTTP/1.1\r\nHOST: a\r\n\r\n", 0},
      {"GET / HTTP/1.1\r\nhOsT:a\r\n\r\n", 0},
      {"GET / HTTP/1.1\r\nHostx: a\r\nHost: b\r\n\r\n", 0},
      {"GET / HTTP/1.1\r\nHos: a\r\nHost: b\r\n\r\n", 0},
      {"GET / HTTP/1.1\r\nHost : a\r\n\r\n", WIRE_HTTP_E_SPACE_BEFORE_COLON},
      {"GET / HTTP/1.1\r\nHost:\t a \t\r\n\r\n", 0},
      {"GET / HTTP/1.1\r\nHost:  \r\n\r\n", 0},
      {"GET / HTTP/1.1\r\nHost: www.example.com:8080\r\n\r\n", 0},
      {"GET / HTTP/1.1\r\nHost: a-very-long.host-name.example.com:65535\r\n"
       "\r\n",
       0},
      {"GET / HTTP/1.1\r\nHost: a_b.example\r\n\r\n", 0},
      {"GET / HTTP/1.1\r\nHost: [::1]\r\n\r\n", 0},
      {"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", WIRE_HTTP_E_INVALID_HOST},
      {"GET / HTTP/1.1\r\nHost: a\r\nHOST: a\r\n\r\n",
       WIRE_HTTP_E_DUPLICATE_HOST},
      {"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", WIRE_HTTP_E_LF_EXPECTED},
      {"GET / HTTP/1.1\r\nHost: a\n\r\n", WIRE_HTTP_E_CR_EXPECTED},
      {"GET / HTTP/1.1\r\nA:\r\nHost: h\r\nB: x \r\n\r\n", 0},
      {"GET / HTTP/1.1\r\nA: \x80\xff\r\nHost: h\r\n\r\n", 0},
      {"GET / HTTP/1.1\r\nHost: h\r\n \r\n\r\n", WIRE_HTTP_E_OBS_FOLD},
      {"GET / HTTP/1.1\r\nHost: h\r\n\r", 0},
      {"GET / HTTP/1.1\r\nHost: h\r\n\rx", WIRE_HTTP_E_LF_EXPECTED},
      {"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc", 0},
      {"POST /a?b HTTP/1.1\r\nHost: h\r\nContent-Length: 3 \r\n\r\nabc", 0},
      {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
       "Content-Length: 3\r\n\r\nabc",
       WIRE_HTTP_E_DUPLICATE_CONTENT_LENGTH},
      {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: x\r\n\r\n",
       WIRE_HTTP_E_INVALID_CONTENT_LENGTH},
      {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
       "1\r\na\r\n0\r\n\r\n",
       0},
      {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
       "Content-Length: 1\r\n\r\n",
       WIRE_HTTP_E_TE_AND_CONTENT_LENGTH},
      {"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", 0},
      {"GET / HTTP/1.1\r\nConnection: keep-alive\r\nHost: h\r\n\r\n", 0},
      {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
       "GET / HTTP/1.0\r\n\r\n",
       0},
      {"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: x\r\nConnection: upgrade\r\n"
       "\r\nrest",
       0},
      {"GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n", 0},
      {"GET / HTTP/1.1\r\n\r\n", WIRE_HTTP_E_MISSING_HOST},
      {"GET / HTTP/1.2\r\nHost: h\r\n\r\n", WIRE_HTTP_E_VERSION_NOT_SUPPORTED},
      {"GET /  HTTP/1.1\r\nHost: h\r\n\r\n", WIRE_HTTP_E_INVALID_VERSION},
      {"GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 0},
      {"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", 0},
      {"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n", 0},
      {"CONNECT /x HTTP/1.1\r\nHost: h\r\n\r\n", WIRE_HTTP_E_INVALID_URL},
      {"DELETE /x HTTP/1.1\r\nHost: h\r\n\r\n", 0},
      {"GETX / HTTP/1.1\r\nHost: h\r\n\r\n", WIRE_HTTP_E_UNKNOWN_METHOD},
      {"GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", WIRE_HTTP_E_INVALID_METHOD},
      {"GET / HTTP/1.1\r\nHost: h\r\n\r\nPUT /p HTTP/1.1\r\nHost: h\r\n"
       "Content-Length: 1\r\n\r\nxGET / HTTP/1.1\r\nhost: h2\r\n\r\n",
       0},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    expect("usual head edge", REQ, cases[i].in, cases[i].err, NULL);

  /* As many fields as the head holds, and one more. */
  char in[2048];
  for (int count = WIRE_HTTP_HEAD_FIELDS - 1;
       count <= WIRE_HTTP_HEAD_FIELDS + 1; count++) {
    size_t n = (size_t)sprintf(in, "GET / HTTP/1.1\r\nHost: h\r\n");
    for (int i = 1; i < count; i++)
      n += (size_t)sprintf(in + n, "F%d: %d\r\n", i, i);
    sprintf(in + n, "\r\n");
    expect("head fields", REQ, in, 0, NULL);
  }

  /* The head budget ends at each byte of a usual head. */
  static const char usual[] = "GET /a HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
                              "X: y\r\n\r\n";
  runopts_t o;
  memset(&o, 0, sizeof(o));
  o.type = REQ;
  for (size_t max = 1; max <= sizeof(usual); max++) {
    o.s.max_header_size = max;
    expect_limits("usual head budget", &o, usual,
                  max < sizeof(usual) - 1 ? WIRE_HTTP_E_HEADER_OVERFLOW : 0);
  }
}

Test(http_parser, error_details)
{
  wire_http_parser_t p;
  wire_http_parser_init(&p, REQ, NULL);
  const char *a = "GET / HTTP/1.1\r\nHo";
  const char *b = "st: h\r\nX\x01: y\r\n";
  size_t n;
  cr_assert_eq(wire_http_parser_execute(&p, a, strlen(a), &n), 0);
  cr_assert_eq(n, strlen(a));
  cr_assert_eq(wire_http_parser_execute(&p, b, strlen(b), &n), WIRE_EHTTPPARSE);
  cr_assert_eq(n, 8);
  cr_assert_eq(p.error, WIRE_HTTP_E_INVALID_HEADER_TOKEN);
  cr_assert_eq(p.error_offset, strlen(a) + 8);
  cr_assert_str_eq(wire_http_error_name(p.error), "INVALID_HEADER_TOKEN");
  cr_assert_eq(wire_http_error_status(p.error), 400);
  cr_assert_eq(wire_http_parser_finish(&p), WIRE_EHTTPPARSE);

  /* Every reason has a name, a message, a code and a sane status. */
  for (unsigned e = 1; e < WIRE_HTTP_E_COUNT_; e++) {
    cr_assert_gt(strlen(wire_http_error_name(e)), 0);
    cr_assert_gt(strlen(wire_http_error_str(e)), 0);
    int code = wire_http_error_code(e);
    cr_assert(code == WIRE_EHTTPPARSE || code == WIRE_ETOOBIG);
    int st = wire_http_error_status(e);
    cr_assert(st == 0 || st == 400 || st == 413 || st == 414 || st == 431 ||
              st == 501 || st == 505);
  }
  cr_assert_eq(wire_http_error_status(WIRE_HTTP_E_VERSION_NOT_SUPPORTED), 505);
  cr_assert_eq(wire_http_error_status(WIRE_HTTP_E_HEADER_OVERFLOW), 431);
  cr_assert_eq(
      wire_http_error_status(WIRE_HTTP_E_UNSUPPORTED_TRANSFER_ENCODING), 501);
  cr_assert_eq(wire_http_error_code(WIRE_HTTP_E_HEADER_OVERFLOW), WIRE_ETOOBIG);
  cr_assert_str_eq(wire_http_error_name(9999), "UNKNOWN");
}

Test(http_parser, callback_errors)
{
  expect_o("field cb fails", REQ, O_FIELD_ERROR,
           "GET / HTTP/1.1\r\nHost: h\r\n\r\n", WIRE_HTTP_E_CALLBACK,
           "error rc=-42 CALLBACK");
}

Test(http_parser, parser_is_small)
{
  cr_assert_leq(sizeof(wire_http_parser_t), 112);
}

/* ---- mutations: split invariance on damaged input ---- */

static const char *const seeds[] = {
    "GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n"
    "Connection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n",
    "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue"
    "\r\n\r\nhello",
    "POST /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
    "5;a=\"b\"\r\nhello\r\n0\r\nT: v\r\n\r\n",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    "a\r\n0123456789\r\n0\r\n\r\n",
    "HTTP/1.0 301 Moved\r\nLocation: /x\r\n\r\nbody until close",
};

Test(http_parser, mutations_split_invariant)
{
  static char buf[512];
  uint64_t st = 12345;
  for (int iter = 0; iter < 3000; iter++) {
    const char *seed = seeds[iter % 5];
    size_t len = strlen(seed);
    memcpy(buf, seed, len);
    int flips = 1 + iter % 3;
    for (int k = 0; k < flips; k++) {
      st = st * 6364136223846793005ull + 1442695040888963407ull;
      size_t at = (size_t)(st >> 33) % len;
      static const char pool[] = "\r\n \t:;,\"\\0aZ\x00\x7f\xff-=xH";
      buf[at] = pool[(st >> 20) % (sizeof(pool) - 1)];
    }
    runopts_t o;
    memset(&o, 0, sizeof(o));
    o.type = seed[0] == 'H' ? RES : REQ;
    o.opts = (iter & 8) ? O_FINISH : 0;
    int rc;
    free(run_opts(&o, buf, len, &rc));
  }
}

/* WIRE_HTTP_CB_DONE from on_head completes a request without body (no
 * on_message_complete for it); for a request with a body, or without the
 * option, it is an error. */
static int on_head_done(wire_http_parser_t *p, const wire_http_head_t *h)
{
  on_head(p, h);
  on_headers(p);
  on_complete(p);
  return WIRE_HTTP_CB_DONE;
}

static int done_run(const char *req, unsigned options, char **log)
{
  wire_http_parser_settings_t s;
  settings_init(&s);
  s.on_head = on_head_done;
  s.options = options;
  rec_t r;
  memset(&r, 0, sizeof(r));
  wire_http_parser_t p;
  wire_http_parser_init(&p, WIRE_HTTP_REQUEST, &s);
  p.data = &r;
  size_t len = strlen(req), n;
  int rc = wire_http_parser_execute(&p, guarded(req, len), len, &n);
  flush(&r);
  *log = r.log.s != NULL ? strdup(r.log.s) : strdup("");
  str_free(&r.log);
  str_free(&r.pending);
  return rc;
}

Test(http_parser, head_done_completes_a_request_without_body)
{
  char *log;
  int rc = done_run("GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
                    "GET /b HTTP/1.1\r\nHost: h\r\n\r\n",
                    WIRE_HTTP_OPT_HEAD_COMPLETES, &log);
  cr_assert_eq(rc, 0);
  /* Two messages, each completed once. */
  size_t completes = 0;
  for (const char *q = log; (q = strstr(q, "complete\n")) != NULL; q++)
    completes++;
  cr_assert_eq(completes, 2, "%s", log);
  free(log);

  rc = done_run("POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz",
                WIRE_HTTP_OPT_HEAD_COMPLETES, &log);
  cr_assert_eq(rc, WIRE_EINVAL);
  free(log);
  rc = done_run("GET /a HTTP/1.1\r\nHost: h\r\n\r\n", 0, &log);
  cr_assert_eq(rc, WIRE_EINVAL);
  free(log);
}
