/* libFuzzer target for the HTTP/1.1 parser (src/http/parser.c).
 *
 * Each input is parsed as a request and as a response, each time fed
 * whole, then at split points drawn from a generator seeded by the input,
 * then (for short inputs) one byte at a time. Every piece is copied into
 * a heap block of exactly its size, so ASan catches any read past it.
 * Options (pauses, HEAD-style skip-body, any-method, tiny limits) are
 * picked from a hash of the input, so the fuzzer reaches them too.
 *
 * Invariants checked (abort on failure):
 *  - every feeding gives the same callbacks (a hash of the events, with
 *    element pieces joined and values trimmed as parser.h says), the same
 *    result, the same error reason and offset, and the same byte count;
 *  - every view a callback gets lies inside the buffer being parsed;
 *  - pieces of one element are not interleaved with other events; body
 *    pieces are never empty; *nread never exceeds len;
 *  - errors are sticky; the limits hold (request-target length).
 *
 * Build: fuzz/CMakeLists.txt (clang, -fsanitize=fuzzer,address,undefined).
 * Run: fuzz/smoke.sh BUILD_DIR SECONDS. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "http/parser.h"


enum { O_PAUSE = 1, O_SKIP = 2, O_ANY = 4, O_SMALL = 8, O_FINISH = 16,
       O_PAUSE_BODY = 32 };

enum { K_NONE, K_METHOD, K_URL, K_STATUS, K_FIELD, K_VALUE, K_EXT, K_TFIELD,
       K_TVALUE, K_BODY };

typedef struct {
  uint64_t h;          /* hash of the events so far */
  int kind;            /* element being joined */
  unsigned char *pend; /* its bytes */
  size_t plen, pcap;
  const char *base;    /* the buffer execute() is parsing */
  size_t blen;
  unsigned opts;
  size_t max_url;
} rec_t;

static void in_view(rec_t *r, const char *at, size_t len)
{
  CHECK(at >= r->base && len <= r->blen &&
        (size_t)(at - r->base) <= r->blen - len);
}

static void flush(rec_t *r)
{
  if (r->kind == K_NONE)
    return;
  if (r->kind != K_BODY) {
    r->h = mix_u(r->h, (uint64_t)r->kind);
    r->h = mix(r->h, r->pend, r->plen);
    r->h = mix_u(r->h, r->plen);
  }
  r->plen = 0;
  r->kind = K_NONE;
}

static int piece(wire_http_parser_t *p, int kind, const char *at, size_t len,
                 int last)
{
  rec_t *r = p->data;
  in_view(r, at, len);
  if (r->kind == K_BODY)
    flush(r);
  CHECK(r->kind == K_NONE || r->kind == kind);
  r->kind = kind;
  if (r->plen + len > r->pcap) {
    size_t cap = r->pcap ? r->pcap * 2 : 1024;
    while (cap < r->plen + len)
      cap *= 2;
    r->pend = realloc(r->pend, cap);
    CHECK(r->pend != NULL);
    r->pcap = cap;
  }
  if (len > 0)
    memcpy(r->pend + r->plen, at, len);
  r->plen += len;
  if (kind == K_URL)
    CHECK(r->plen <= r->max_url);
  if (last) {
    if (kind == K_VALUE || kind == K_TVALUE) {
      while (r->plen > 0 &&
             (r->pend[r->plen - 1] == ' ' || r->pend[r->plen - 1] == '\t'))
        r->plen--;
    }
    flush(r);
  }
  return 0;
}

static void event(wire_http_parser_t *p, uint64_t ev)
{
  rec_t *r = p->data;
  if (r->kind == K_BODY)
    flush(r);
  CHECK(r->kind == K_NONE);
  r->h = mix_u(r->h, 1000 + ev);
}

static int on_begin(wire_http_parser_t *p)
{
  event(p, 1);
  return 0;
}

#define PIECE_CB(fn, kind)                                                   \
  static int fn(wire_http_parser_t *p, const char *at, size_t n, int l)      \
  {                                                                          \
    return piece(p, kind, at, n, l);                                         \
  }
PIECE_CB(on_method, K_METHOD)
PIECE_CB(on_url, K_URL)
PIECE_CB(on_status, K_STATUS)
PIECE_CB(on_field, K_FIELD)
PIECE_CB(on_value, K_VALUE)
PIECE_CB(on_ext, K_EXT)
PIECE_CB(on_tfield, K_TFIELD)
PIECE_CB(on_tvalue, K_TVALUE)

/* settings.on_head: every element inside the input with its delimiter
 * after it, hashed as on_message_begin and its pieces would be (on_head
 * stands for them). */
static int on_head(wire_http_parser_t *p, const wire_http_head_t *h)
{
  rec_t *r = p->data;
  on_begin(p);
  CHECK(h->nfields <= WIRE_HTTP_HEAD_FIELDS);
  in_view(r, h->base, (size_t)h->method_len + 1);
  in_view(r, h->base + h->url, (size_t)h->url_len + 1);
  piece(p, K_METHOD, h->base, h->method_len, 1);
  piece(p, K_URL, h->base + h->url, h->url_len, 1);
  for (uint32_t i = 0; i < h->nfields; i++) {
    const wire_http_field_t *f = &h->fields[i];
    in_view(r, h->base + f->name, (size_t)f->name_len + 1);
    in_view(r, h->base + f->value, (size_t)f->value_len + 1);
    CHECK(h->base[f->name + f->name_len] == ':');
    piece(p, K_FIELD, h->base + f->name, f->name_len, 1);
    piece(p, K_VALUE, h->base + f->value, f->value_len, 1);
  }
  return 0;
}

static int on_headers(wire_http_parser_t *p)
{
  rec_t *r = p->data;
  event(p, 2);
  r->h = mix_u(r->h, p->flags);
  r->h = mix_u(r->h, p->method);
  r->h = mix_u(r->h, p->status);
  r->h = mix_u(r->h, (uint64_t)p->http_major * 10 + p->http_minor);
  r->h = mix_u(r->h, p->content_length);
  CHECK(p->http_major == 1 && p->http_minor <= 1);
  if (p->type == WIRE_HTTP_RESPONSE)
    CHECK(p->status >= 100 && p->status <= 599);
  /* Both framings never get through. */
  CHECK(!((p->flags & WIRE_HTTP_F_CHUNKED) &&
          (p->flags & WIRE_HTTP_F_CONTENT_LENGTH)));
  if ((r->opts & O_SKIP) && p->type == WIRE_HTTP_RESPONSE)
    return WIRE_HTTP_CB_SKIP_BODY;
  if (r->opts & O_PAUSE)
    return WIRE_HTTP_CB_PAUSE;
  return 0;
}

static int on_complete(wire_http_parser_t *p);

/* on_head with WIRE_HTTP_OPT_HEAD_COMPLETES: on_headers_complete too, and
 * on_message_complete for a request without body when that would not
 * pause (WIRE_HTTP_CB_DONE), as the HTTP server does. */
static int on_head_completes(wire_http_parser_t *p, const wire_http_head_t *h)
{
  on_head(p, h);
  int r = on_headers(p);
  rec_t *rec = p->data;
  if (r == 0 && !wire_http_request_has_body(p) &&
      p->method != WIRE_HTTP_CONNECT && !(rec->opts & O_PAUSE)) {
    on_complete(p);
    return WIRE_HTTP_CB_DONE;
  }
  return r;
}

static int on_body(wire_http_parser_t *p, const char *at, size_t n)
{
  rec_t *r = p->data;
  in_view(r, at, n);
  CHECK(n > 0);
  if (r->kind != K_BODY) {
    CHECK(r->kind == K_NONE);
    r->kind = K_BODY;
    r->h = mix_u(r->h, K_BODY);
  }
  r->h = mix(r->h, at, n);
  return (r->opts & O_PAUSE_BODY) ? WIRE_HTTP_CB_PAUSE : 0;
}

static int on_chunk_header(wire_http_parser_t *p)
{
  rec_t *r = p->data;
  event(p, 3);
  r->h = mix_u(r->h, p->remaining);
  return 0;
}

static int on_chunk_complete(wire_http_parser_t *p)
{
  event(p, 4);
  return 0;
}

static int on_complete(wire_http_parser_t *p)
{
  rec_t *r = p->data;
  event(p, 5);
  r->h = mix_u(r->h, p->flags & WIRE_HTTP_F_KEEP_ALIVE);
  return (r->opts & O_PAUSE) ? WIRE_HTTP_CB_PAUSE : 0;
}

typedef struct {
  uint64_t h;
  int rc;
  unsigned error;
  uint64_t error_offset;
  uint64_t consumed;
  int upgraded;
} result_t;

/* mode 0: whole; 1: byte by byte; 2+: random splits. head: on_head set
 * (2: standing for on_headers_complete too). */
static result_t parse(const uint8_t *data, size_t len, int type,
                      unsigned opts, int mode, uint64_t seed, int head)
{
  wire_http_parser_settings_t s;
  memset(&s, 0, sizeof(s));
  s.on_message_begin = on_begin;
  s.on_method = on_method;
  s.on_url = on_url;
  s.on_status = on_status;
  s.on_header_field = on_field;
  s.on_header_value = on_value;
  s.on_headers_complete = on_headers;
  s.on_body = on_body;
  s.on_chunk_header = on_chunk_header;
  s.on_chunk_extension = on_ext;
  s.on_chunk_complete = on_chunk_complete;
  s.on_trailer_field = on_tfield;
  s.on_trailer_value = on_tvalue;
  s.on_message_complete = on_complete;
  if (head)
    s.on_head = head == 2 ? on_head_completes : on_head;
  if (head == 2)
    s.options |= WIRE_HTTP_OPT_HEAD_COMPLETES;
  if (opts & O_ANY)
    s.options |= WIRE_HTTP_OPT_ANY_METHOD;
  if (opts & O_SMALL) {
    s.max_header_size = 200;
    s.max_headers = 6;
    s.max_url = 40;
    s.max_chunk_ext = 24;
  }
  rec_t r;
  memset(&r, 0, sizeof(r));
  r.h = 0xcbf29ce484222325ull;
  r.opts = opts;
  r.max_url = (opts & O_SMALL) ? 40 : WIRE_HTTP_DEFAULT_MAX_URL;
  wire_http_parser_t p;
  wire_http_parser_init(&p, (wire_http_parser_type_t)type, &s);
  p.data = &r;

  pieces_seed(seed, mode);
  size_t off = 0;
  int rc = 0;
  while (off < len && rc == 0 && !p.upgraded) {
    size_t n = piece_len(len - off, mode);
    char *buf = malloc(n ? n : 1);
    CHECK(buf != NULL);
    memcpy(buf, data + off, n);
    size_t done = 0;
    int stalls = 0;
    while (done < n) {
      size_t nread = (size_t)-1;
      r.base = buf + done;
      r.blen = n - done;
      rc = wire_http_parser_execute(&p, buf + done, n - done, &nread);
      CHECK(nread <= n - done);
      if (rc < 0 || p.upgraded) {
        done += nread;
        break;
      }
      done += nread;
      stalls = nread == 0 ? stalls + 1 : 0;
      CHECK(stalls < 2);
    }
    free(buf);
    off += done;
  }
  if (rc == 0 && !p.upgraded) {
    size_t nread;
    r.base = NULL;
    r.blen = 0;
    rc = wire_http_parser_execute(&p, NULL, 0, &nread);
    CHECK(nread == 0);
    if (rc == 0 && (opts & O_FINISH))
      rc = wire_http_parser_finish(&p);
  }
  if (r.kind == K_BODY)
    flush(&r);
  result_t res;
  memset(&res, 0, sizeof(res));
  res.h = r.h;
  res.rc = rc;
  res.error = rc < 0 ? p.error : 0;
  res.error_offset = rc < 0 ? p.error_offset : 0;
  res.consumed = p.offset;
  res.upgraded = p.upgraded;
  if (rc < 0) {
    size_t nread = 1;
    CHECK(wire_http_parser_execute(&p, "x", 1, &nread) == rc && nread == 0);
    CHECK(p.error != WIRE_HTTP_E_OK && p.error < WIRE_HTTP_E_COUNT_);
    CHECK(rc == wire_http_error_code(p.error));
    CHECK(p.error_offset <= len);
  } else {
    CHECK(p.offset <= len);
    CHECK(p.upgraded || p.offset == len);
  }
  free(r.pend);
  return res;
}

static void same(const result_t *a, const result_t *b)
{
  CHECK(a->h == b->h);
  CHECK(a->rc == b->rc);
  CHECK(a->error == b->error);
  CHECK(a->error_offset == b->error_offset);
  CHECK(a->consumed == b->consumed);
  CHECK(a->upgraded == b->upgraded);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  uint64_t seed = mix(0xcbf29ce484222325ull, data, size);
  unsigned opts = (unsigned)(seed >> 59); /* 5 bits */
  if ((seed >> 40) & 1)
    opts |= O_PAUSE_BODY;
  for (int type = WIRE_HTTP_REQUEST; type <= WIRE_HTTP_RESPONSE; type++) {
    result_t whole = parse(data, size, type, opts, 0, seed, 0);
    for (int mode = 2; mode <= 3; mode++) {
      result_t split = parse(data, size, type, opts, mode, seed, 0);
      same(&whole, &split);
    }
    if (size <= 2048) {
      result_t bytes = parse(data, size, type, opts, 1, seed, 0);
      same(&whole, &bytes);
    }
    /* The same whole and split with on_head (requests use it). */
    result_t head = parse(data, size, type, opts, 0, seed, 1);
    same(&whole, &head);
    head = parse(data, size, type, opts, 2, seed, 1);
    same(&whole, &head);
    head = parse(data, size, type, opts, 0, seed, 2);
    same(&whole, &head);
    head = parse(data, size, type, opts, 3, seed, 2);
    same(&whole, &head);
  }
  return 0;
}
