/* libFuzzer target for the WebSocket frame codec (src/ws/frame.c) and the
 * UTF-8 validator (src/ws/utf8.c).
 *
 * Each input is decoded as a server (reading a client's masked frames)
 * and as a client, each time fed whole, then at split points drawn from a
 * generator seeded by the input, then (for short inputs) one byte at a
 * time; in place and raw (the test unmasks with wire_ws_mask_copy). Every
 * piece is copied into a heap block of exactly its size, so ASan catches
 * any read past it. Options (RSV1 allowed as with permessage-deflate,
 * small frame and message caps, lax lengths, no text UTF-8 check, pauses
 * in each callback) are picked from a hash of the input, so the fuzzer
 * reaches them too.
 *
 * Invariants checked (abort on failure):
 *  - every feeding gives the same events (a hash of the header fields, the
 *    unmasked payload joined per frame, frame ends and close codes), the
 *    same result, error reason and offset, and the same byte count;
 *  - every view lies inside the buffer being decoded, is never empty, and
 *    payload_off / remaining add up to the frame length;
 *  - what the decoder lets through keeps the rules: no reserved opcode, no
 *    RSV bit that was not allowed, control frames final and at most 125
 *    bytes, masking as the role requires, lengths under 2^63 and within
 *    the caps; close payloads pass wire_ws_close_parse with the same code;
 *    a checked text message is valid UTF-8 as a whole;
 *  - re-encoding a decoded header with wire_ws_header_write gives back the
 *    input bytes (lengths are minimal unless the lax option is on);
 *  - errors are sticky and carry their code and close code;
 *  - the UTF-8 validator gives the same answer on the raw input whole,
 *    byte by byte and split, and agrees with wire_utf8_is_valid.
 *
 * Build: fuzz/CMakeLists.txt (clang, -fsanitize=fuzzer,address,undefined).
 * Run: fuzz/smoke.sh BUILD_DIR SECONDS. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "ws/frame.h"
#include "ws/utf8.h"


enum {
  O_RSV1 = 1,
  O_SMALL = 2,
  O_LAX = 4,
  O_NO_UTF8 = 8,
  O_PAUSE_HEADER = 16,
  O_PAUSE_PAYLOAD = 32,
  O_PAUSE_END = 64
};

#define SMALL_FRAME 50
#define SMALL_MESSAGE 120

typedef struct {
  uint64_t h;         /* hash of the events so far */
  unsigned char *pay; /* this frame's payload, unmasked */
  size_t plen, pcap;
  unsigned char *msg; /* the data message's payload so far */
  size_t mlen, mcap;
  const char *base; /* the buffer execute() is decoding */
  size_t blen;
  const uint8_t *input; /* the whole input, for the header check */
  size_t ilen;
  int whole; /* fed whole: input offsets are buffer offsets */
  int raw;
  unsigned opts;
  int in_frame;
  wire_ws_role_t role;
} rec_t;

static void append(unsigned char **b, size_t *len, size_t *cap, const void *p,
                   size_t n)
{
  if (*len + n > *cap) {
    size_t c = *cap ? *cap * 2 : 256;
    while (c < *len + n)
      c *= 2;
    *b = realloc(*b, c);
    CHECK(*b != NULL);
    *cap = c;
  }
  if (n > 0)
    memcpy(*b + *len, p, n);
  *len += n;
}

static int text_checked(const wire_ws_decoder_t *d, const rec_t *r)
{
  return d->message_opcode == WIRE_WS_OP_TEXT && !d->compressed &&
         !(r->opts & O_NO_UTF8);
}

static int on_header(wire_ws_decoder_t *d)
{
  rec_t *r = d->data;
  CHECK(!r->in_frame);
  r->in_frame = 1;
  r->plen = 0;
  unsigned op = d->opcode;
  CHECK(op <= 2 || (op >= 8 && op <= 10));
  CHECK((d->flags & 0x70u &
         ~(unsigned)((r->opts & O_RSV1) ? WIRE_WS_RSV1 : 0)) == 0);
  CHECK(d->length < (UINT64_C(1) << 63));
  CHECK(d->remaining == d->length);
  CHECK(d->masked == (r->role == WIRE_WS_SERVER));
  if (wire_ws_is_control(op)) {
    CHECK(d->length <= WIRE_WS_MAX_CONTROL);
    CHECK(d->flags & WIRE_WS_FIN);
    CHECK(!(d->flags & WIRE_WS_RSV1));
    CHECK(!(op == WIRE_WS_OP_CLOSE && d->length == 1));
  } else {
    CHECK(d->message_opcode == WIRE_WS_OP_TEXT ||
          d->message_opcode == WIRE_WS_OP_BINARY);
    if (op != WIRE_WS_OP_CONTINUATION) {
      CHECK(d->message_length == d->length);
      r->mlen = 0;
    } else {
      CHECK(!(d->flags & WIRE_WS_RSV1));
    }
    if (r->opts & O_SMALL) {
      CHECK(d->length <= SMALL_FRAME);
      CHECK(d->message_length <= SMALL_MESSAGE);
    } else {
      CHECK(d->message_length <= WIRE_WS_DEFAULT_MAX_MESSAGE);
    }
  }
  /* The header re-encoded is the input's header. */
  if (r->whole && !(r->opts & O_LAX)) {
    char h[WIRE_WS_MAX_HEADER];
    size_t n = wire_ws_header_write(h, d->flags, d->opcode, d->length,
                                    d->masked ? d->mask_key : NULL);
    CHECK(n == wire_ws_header_size(d->length, d->masked));
    CHECK(d->offset >= n && d->offset <= r->ilen);
    CHECK(memcmp(h, r->input + d->offset - n, n) == 0);
  }
  r->h = mix_u(r->h, 1);
  r->h = mix_u(r->h, d->flags);
  r->h = mix_u(r->h, d->opcode);
  r->h = mix_u(r->h, d->masked);
  r->h = mix_u(r->h, d->length);
  r->h = mix_u(r->h, d->message_opcode);
  r->h = mix_u(r->h, d->compressed);
  r->h = mix_u(r->h, d->message_length);
  r->h = mix(r->h, d->mask_key, d->masked ? 4 : 0);
  return (r->opts & O_PAUSE_HEADER) ? WIRE_WS_CB_PAUSE : 0;
}

static int on_payload(wire_ws_decoder_t *d, const char *at, size_t n)
{
  rec_t *r = d->data;
  CHECK(r->in_frame);
  CHECK(n > 0);
  CHECK(at >= r->base && n <= r->blen && (size_t)(at - r->base) <= r->blen - n);
  CHECK(d->payload_off == r->plen);
  CHECK(d->payload_off + n + d->remaining == d->length);
  size_t start = r->plen;
  append(&r->pay, &r->plen, &r->pcap, at, n);
  if (r->raw && d->masked)
    wire_ws_mask_copy((char *)r->pay + start, at, n, d->mask_key,
                      d->payload_off);
  return (r->opts & O_PAUSE_PAYLOAD) ? WIRE_WS_CB_PAUSE : 0;
}

static int on_end(wire_ws_decoder_t *d)
{
  rec_t *r = d->data;
  CHECK(r->in_frame);
  r->in_frame = 0;
  CHECK(d->remaining == 0);
  CHECK(r->plen == d->length);
  if (d->opcode == WIRE_WS_OP_CLOSE) {
    unsigned code = 0;
    CHECK(wire_ws_close_parse((const char *)r->pay, r->plen, &code, NULL,
                              NULL) == WIRE_WS_E_OK);
    CHECK(code == d->close_code);
    CHECK(d->closed);
  } else if (!wire_ws_is_control(d->opcode)) {
    append(&r->msg, &r->mlen, &r->mcap, r->pay, r->plen);
    CHECK(r->mlen == d->message_length);
    if ((d->flags & WIRE_WS_FIN) && text_checked(d, r))
      CHECK(wire_utf8_is_valid((const char *)r->msg, r->mlen));
  }
  r->h = mix_u(r->h, 2);
  r->h = mix(r->h, r->pay, r->plen);
  r->h = mix_u(r->h, r->plen);
  r->h = mix_u(r->h, d->close_code);
  return (r->opts & O_PAUSE_END) ? WIRE_WS_CB_PAUSE : 0;
}

typedef struct {
  uint64_t h;
  int rc;
  unsigned error;
  uint64_t error_offset;
  uint64_t consumed;
  int closed;
} result_t;

/* mode 0: whole; 1: byte by byte; 2+: random splits. */
static result_t decode(const uint8_t *data, size_t len, wire_ws_role_t role,
                       unsigned opts, int mode, int raw, uint64_t seed)
{
  wire_ws_decoder_settings_t s;
  memset(&s, 0, sizeof(s));
  s.on_frame_header = on_header;
  s.on_payload = on_payload;
  s.on_frame_end = on_end;
  if (opts & O_SMALL) {
    s.max_frame = SMALL_FRAME;
    s.max_message = SMALL_MESSAGE;
  }
  if (opts & O_LAX)
    s.options |= WIRE_WS_OPT_LAX_LENGTH;
  if (opts & O_NO_UTF8)
    s.options |= WIRE_WS_OPT_NO_UTF8;
  rec_t r;
  memset(&r, 0, sizeof(r));
  r.h = 0xcbf29ce484222325ull;
  r.opts = opts;
  r.raw = raw;
  r.role = role;
  r.whole = mode == 0;
  r.input = data;
  r.ilen = len;
  wire_ws_decoder_t d;
  wire_ws_decoder_init(&d, role, (opts & O_RSV1) ? WIRE_WS_RSV1 : 0, &s);
  d.data = &r;

  pieces_seed(seed, mode);
  size_t off = 0;
  int rc = 0;
  while (off < len && rc == 0) {
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
      if (raw)
        rc = wire_ws_decoder_execute_raw(&d, buf + done, n - done, &nread);
      else
        rc = wire_ws_decoder_execute(&d, buf + done, n - done, &nread);
      CHECK(nread <= n - done);
      done += nread;
      if (rc < 0)
        break;
      stalls = nread == 0 ? stalls + 1 : 0;
      CHECK(stalls < 2);
    }
    /* Raw mode leaves its input alone. */
    if (raw)
      CHECK(memcmp(buf, data + off, n) == 0);
    free(buf);
    off += done;
  }
  if (rc == 0) {
    size_t nread = 1;
    r.base = NULL;
    r.blen = 0;
    rc = wire_ws_decoder_execute(&d, NULL, 0, &nread);
    CHECK(nread == 0);
  }
  result_t res;
  memset(&res, 0, sizeof(res));
  res.h = r.h;
  res.rc = rc;
  res.consumed = d.offset;
  res.closed = d.closed;
  if (rc < 0) {
    res.error = d.error;
    res.error_offset = d.error_offset;
    CHECK(d.error != WIRE_WS_E_OK && d.error < WIRE_WS_E_COUNT_);
    CHECK(d.error != WIRE_WS_E_CALLBACK);
    CHECK(rc == wire_ws_error_code(d.error));
    CHECK(d.error_offset <= len);
    unsigned cc = wire_ws_error_close_code(d.error);
    CHECK(cc == 0 || cc == 1002 || cc == 1007 || cc == 1009);
    if (d.error == WIRE_WS_E_AFTER_CLOSE)
      CHECK(d.closed);
    size_t nread = 1;
    char x = 'x';
    CHECK(wire_ws_decoder_execute(&d, &x, 1, &nread) == rc && nread == 0);
  } else {
    CHECK(d.offset == len);
  }
  free(r.pay);
  free(r.msg);
  return res;
}

static void same(const result_t *a, const result_t *b)
{
  CHECK(a->h == b->h);
  CHECK(a->rc == b->rc);
  CHECK(a->error == b->error);
  CHECK(a->error_offset == b->error_offset);
  CHECK(a->consumed == b->consumed);
  CHECK(a->closed == b->closed);
}

/* The validator on the raw input: whole, byte by byte, split. Returns the
 * index of the first bad byte, len + 1 for "incomplete", len for valid. */
static size_t utf8_answer(const uint8_t *data, size_t len, int mode)
{
  wire_utf8_t u;
  wire_utf8_init(&u);
  size_t off = 0;
  rng = 0x1234 + (uint64_t)mode;
  while (off < len) {
    size_t n = len - off;
    if (mode == 1)
      n = 1;
    else if (mode >= 2) {
      size_t k = 1 + rnd(mode == 2 ? 5 : 40);
      if (k < n)
        n = k;
    }
    char *buf = malloc(n);
    CHECK(buf != NULL);
    memcpy(buf, data + off, n);
    size_t r = wire_utf8_validate(&u, buf, n);
    free(buf);
    CHECK(r <= n);
    if (r < n) {
      CHECK(wire_utf8_failed(&u));
      return off + r;
    }
    off += n;
  }
  return wire_utf8_complete(&u) ? len : len + 1;
}

static void check_utf8(const uint8_t *data, size_t len)
{
  size_t whole = utf8_answer(data, len, 0);
  for (int mode = 1; mode <= 3; mode++)
    CHECK(utf8_answer(data, len, mode) == whole);
  CHECK(wire_utf8_is_valid((const char *)data, len) == (whole == len));
  if (whole < len) {
    /* Fail-fast: the bytes before the bad one are a valid start. */
    wire_utf8_t u;
    wire_utf8_init(&u);
    CHECK(wire_utf8_validate(&u, (const char *)data, whole) == whole);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  uint64_t seed = mix(0xcbf29ce484222325ull, data, size);
  unsigned opts = (unsigned)(seed >> 57); /* 7 bits */
  for (int role = WIRE_WS_SERVER; role <= WIRE_WS_CLIENT; role++) {
    wire_ws_role_t ro = (wire_ws_role_t)role;
    result_t whole = decode(data, size, ro, opts, 0, 0, seed);
    result_t raw = decode(data, size, ro, opts, 0, 1, seed);
    same(&whole, &raw);
    for (int mode = 2; mode <= 3; mode++) {
      result_t split = decode(data, size, ro, opts, mode, mode == 3, seed);
      same(&whole, &split);
    }
    if (size <= 2048) {
      result_t bytes = decode(data, size, ro, opts, 1, 0, seed);
      same(&whole, &bytes);
    }
  }
  check_utf8(data, size);
  return 0;
}
