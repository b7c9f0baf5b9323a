/* Tests for the WebSocket frame codec (src/ws/frame.c).
 *
 * Every decoder case goes through run(): the input is fed whole, one byte
 * at a time and at random split points (several seeds), each piece copied
 * so that it ends right before an unreadable guard page, once through
 * wire_ws_decoder_execute() (unmasking in place) and once through
 * wire_ws_decoder_execute_raw() with the piece made read-only (the test
 * unmasks with wire_ws_mask_copy, as the ws layer will). The callbacks are
 * recorded into a log string (payload pieces joined per frame), closed by
 * the result, the error reason and offset and the bytes consumed: every
 * feeding must give the same log.
 *
 * Frames are built by a small writer in this file, independent of the
 * encoder, that can also write the forms the encoder never does (long
 * length forms, reserved bits and opcodes). The encoder is then checked
 * against it, and round trips (encoder -> decoder, random masks) close the
 * file.
 *
 * The conformance cases are grouped like the Autobahn testsuite's sections,
 * as far as they can be checked on frames alone: 1 framing, 2 ping/pong,
 * 3 reserved bits, 4 opcodes, 5 fragmentation, 6 UTF-8, 7 close, 9 limits;
 * plus masking and length encoding from RFC 6455 5.1-5.3. */
#include "codec-feed.h"

#include "ws/frame.h"
#include "ws/utf8.h"

static uint64_t fnv(const void *p, size_t n)
{
  const unsigned char *s = p;
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++) {
    h ^= s[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

/* Appends a payload: escaped when short, as length and hash when long. */
static void str_payload(str_t *b, const char *s, size_t n)
{
  if (n > 64) {
    str_printf(b, "<%zu bytes %016llx>", n, (unsigned long long)fnv(s, n));
    return;
  }
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c < 0x7f && c != '\\')
      str_add(b, &c, 1);
    else
      str_printf(b, "\\x%02x", c);
  }
}

/* ---- a frame writer for tests ---- */

enum { FORM_MIN = 0, FORM_16 = 16, FORM_64 = 64 };

static const uint8_t KEY[4] = {0x37, 0xfa, 0x21, 0x3d};

/* Appends a frame: b0 is the first byte as is (FIN, RSV, opcode); key NULL
 * for an unmasked frame; form picks the length encoding. */
static void put_frame(str_t *b, unsigned b0, const uint8_t *key,
                      const void *payload, size_t n, int form)
{
  unsigned char h[14];
  size_t k = 0;
  unsigned m = key != NULL ? 0x80 : 0;
  h[k++] = (unsigned char)b0;
  if (form == FORM_MIN && n < 126) {
    h[k++] = (unsigned char)(m | n);
  } else if (form == FORM_16 || (form == FORM_MIN && n <= 0xffff)) {
    h[k++] = (unsigned char)(m | 126);
    h[k++] = (unsigned char)(n >> 8);
    h[k++] = (unsigned char)n;
  } else {
    h[k++] = (unsigned char)(m | 127);
    for (int i = 7; i >= 0; i--)
      h[k++] = (unsigned char)((uint64_t)n >> (8 * i));
  }
  if (key != NULL) {
    memcpy(h + k, key, 4);
    k += 4;
  }
  str_add(b, h, k);
  const unsigned char *p = payload;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = p[i];
    if (key != NULL)
      c ^= key[i % 4];
    str_add(b, &c, 1);
  }
}

/* Shorthands for the usual frames: masked for a server to read (C2S) or
 * unmasked for a client to read (S2C). */
static void c2s(str_t *b, unsigned b0, const char *payload)
{
  put_frame(b, b0, KEY, payload, strlen(payload), FORM_MIN);
}

static void s2c(str_t *b, unsigned b0, const char *payload)
{
  put_frame(b, b0, NULL, payload, strlen(payload), FORM_MIN);
}

/* ---- the recorder ---- */

/* Run options. */
enum {
  O_PAUSE_HEADER = 1, /* on_frame_header returns PAUSE */
  O_PAUSE_PAYLOAD = 2,
  O_PAUSE_END = 4,
  O_END_ERROR = 8 /* on_frame_end returns -42 */
};

typedef struct {
  str_t log;
  str_t pending; /* the frame's payload, joined and unmasked */
  unsigned opts;
  int raw;
  int in_frame;
  const char *base; /* the piece being decoded */
  size_t blen;
  int errors; /* contract violations seen by the recorder */
} rec_t;

static int on_header(wire_ws_decoder_t *d)
{
  rec_t *r = d->data;
  if (r->in_frame)
    r->errors++;
  r->in_frame = 1;
  r->pending.len = 0;
  if (d->remaining != d->length)
    r->errors++;
  str_printf(&r->log, "hdr op=%x fin=%d rsv=%x mask=%d len=%llu", d->opcode,
             (d->flags & WIRE_WS_FIN) != 0, (d->flags >> 4) & 7, d->masked,
             (unsigned long long)d->length);
  if (!wire_ws_is_control(d->opcode))
    str_printf(&r->log, " msg=%x cmp=%d mlen=%llu", d->message_opcode,
               d->compressed, (unsigned long long)d->message_length);
  str_add(&r->log, "\n", 1);
  return (r->opts & O_PAUSE_HEADER) ? WIRE_WS_CB_PAUSE : 0;
}

static int on_payload(wire_ws_decoder_t *d, const char *at, size_t n)
{
  rec_t *r = d->data;
  if (!r->in_frame || n == 0)
    r->errors++;
  /* The view lies in the piece being decoded. */
  if (at < r->base || at + n > r->base + r->blen)
    r->errors++;
  /* payload_off is the bytes of this frame handed out before. */
  if (d->payload_off != r->pending.len)
    r->errors++;
  if (d->payload_off + n + d->remaining != d->length)
    r->errors++;
  if (r->raw && d->masked) {
    char tmp[4096];
    size_t done = 0;
    while (done < n) {
      size_t k = n - done < sizeof(tmp) ? n - done : sizeof(tmp);
      wire_ws_mask_copy(tmp, at + done, k, d->mask_key, d->payload_off + done);
      str_add(&r->pending, tmp, k);
      done += k;
    }
  } else {
    str_add(&r->pending, at, n);
  }
  return (r->opts & O_PAUSE_PAYLOAD) ? WIRE_WS_CB_PAUSE : 0;
}

static void flush_payload(rec_t *r)
{
  if (r->pending.len > 0) {
    str_add(&r->log, "  data=", 7);
    str_payload(&r->log, r->pending.s, r->pending.len);
    str_add(&r->log, "\n", 1);
  }
  r->pending.len = 0;
}

static int on_end(wire_ws_decoder_t *d)
{
  rec_t *r = d->data;
  if (!r->in_frame || d->remaining != 0 || r->pending.len != d->length)
    r->errors++;
  r->in_frame = 0;
  flush_payload(r);
  str_add(&r->log, "end", 3);
  if (d->opcode == WIRE_WS_OP_CLOSE)
    str_printf(&r->log, " close=%u closed=%d", d->close_code, d->closed);
  str_add(&r->log, "\n", 1);
  if (r->opts & O_END_ERROR)
    return -42;
  return (r->opts & O_PAUSE_END) ? WIRE_WS_CB_PAUSE : 0;
}

/* ---- the guard page ---- */

/* Makes the pages under [p, p + len) read-only (ro) or writable again. */
static void protect(char *p, size_t len, int ro)
{
  if (len == 0)
    return;
  uintptr_t a = (uintptr_t)p & ~(uintptr_t)(page_size - 1);
  size_t span = (size_t)((uintptr_t)p + len - a);
  cr_assert_eq(
      mprotect((void *)a, span, ro ? PROT_READ : PROT_READ | PROT_WRITE), 0);
}

/* ---- feeding ---- */

typedef struct {
  wire_ws_role_t role;
  unsigned rsv;
  unsigned opts;
  wire_ws_decoder_settings_t s; /* limits and options; callbacks set here */
} runopts_t;


/* Feeds data in pieces (mode 0: whole, 1: byte by byte, 2+: random, seeded
 * by mode), in place or raw, and returns the log. */
static char *feed(const runopts_t *o, const char *data, size_t len, int mode,
                  int raw, int *rc_out)
{
  wire_ws_decoder_settings_t s = o->s;
  s.on_frame_header = on_header;
  s.on_payload = on_payload;
  s.on_frame_end = on_end;
  wire_ws_decoder_t d;
  wire_ws_decoder_init(&d, o->role, o->rsv, &s);
  rec_t r;
  memset(&r, 0, sizeof(r));
  r.opts = o->opts;
  r.raw = raw;
  d.data = &r;

  rng_state = 0x9e3779b97f4a7c15ull * (uint64_t)(mode + 1);
  unsigned maxpiece = mode >= 2 ? 1 + (unsigned)mode * (unsigned)mode * 3 : 0;
  size_t off = 0;
  int rc = 0;
  while (off < len && rc == 0) {
    size_t n = len - off;
    if (mode == 1)
      n = 1;
    else if (mode >= 2) {
      size_t k = 1 + rnd(maxpiece);
      if (k < n)
        n = k;
    }
    char *g = guarded(data + off, n);
    /* Raw mode must not write to its input: make it read-only (not for
     * small pieces, where the system calls would cost the most). */
    int ro = raw && (mode == 0 || n >= 64);
    if (ro)
      protect(g, n, 1);
    size_t done = 0;
    int stalls = 0;
    while (done < n) {
      size_t nread = 99999999;
      r.base = g + done;
      r.blen = n - done;
      if (raw)
        rc = wire_ws_decoder_execute_raw(&d, g + done, n - done, &nread);
      else
        rc = wire_ws_decoder_execute(&d, g + done, n - done, &nread);
      cr_assert_leq(nread, n - done);
      done += nread;
      if (rc < 0)
        break;
      /* Only a pause may leave bytes, and the next call must progress. */
      stalls = nread == 0 ? stalls + 1 : 0;
      cr_assert_lt(stalls, 2, "no progress");
    }
    if (ro)
      protect(g, n, 0);
    off += done;
  }
  if (rc == 0) {
    /* A pause after the header of an empty frame leaves its end for the
     * next call, even an empty one. */
    size_t nread = 1;
    r.base = NULL;
    r.blen = 0;
    rc = wire_ws_decoder_execute(&d, NULL, 0, &nread);
    cr_assert_eq(nread, 0);
  }
  if (rc < 0) {
    flush_payload(&r); /* what was handed out before the error */
    str_printf(&r.log, "error rc=%d %s at %llu close=%u\n", rc,
               wire_ws_error_name(d.error), (unsigned long long)d.error_offset,
               wire_ws_error_close_code(d.error));
    cr_assert_eq(d.error_code, rc);
    /* Errors are sticky. */
    size_t nread = 1;
    char x = 'x';
    cr_assert_eq(wire_ws_decoder_execute(&d, &x, 1, &nread), rc);
    cr_assert_eq(nread, 0);
    cr_assert_eq(wire_ws_decoder_execute_raw(&d, &x, 1, &nread), rc);
    cr_assert_eq(nread, 0);
  } else {
    cr_assert_eq(d.offset, len);
    str_printf(&r.log, "ok consumed=%llu idle=%d\n",
               (unsigned long long)d.offset, wire_ws_decoder_idle(&d));
  }
  cr_assert_eq(r.errors, 0, "callback contract broken (mode %d raw %d):\n%s",
               mode, raw, r.log.s);
  str_free(&r.pending);
  *rc_out = rc;
  return r.log.s;
}

#define NMODES 7

/* Runs every feeding; asserts they agree; returns the log (caller frees). */
static char *run_opts(const runopts_t *o, const char *data, size_t len, int *rc)
{
  char *whole = feed(o, data, len, 0, 0, rc);
  for (int raw = 0; raw <= 1; raw++) {
    for (int mode = raw ? 0 : 1; mode < NMODES; mode++) {
      int rc2;
      char *l = feed(o, data, len, mode, raw, &rc2);
      cr_assert_str_eq(l, whole,
                       "feeding %d (raw %d) differs from whole:\n%s\nvs\n%s",
                       mode, raw, l, whole);
      free(l);
    }
  }
  /* Pauses in every callback give the same log too. */
  static const unsigned pauses[] = {
      O_PAUSE_HEADER, O_PAUSE_PAYLOAD, O_PAUSE_END,
      O_PAUSE_HEADER | O_PAUSE_PAYLOAD | O_PAUSE_END};
  if (!(o->opts & O_END_ERROR)) {
    for (size_t i = 0; i < sizeof(pauses) / sizeof(pauses[0]); i++) {
      runopts_t p = *o;
      p.opts |= pauses[i];
      for (int mode = 0; mode < 3; mode++) {
        int rc2;
        char *l = feed(&p, data, len, mode, (int)i & 1, &rc2);
        cr_assert_str_eq(l, whole, "paused %u, feeding %d differs:\n%s\nvs\n%s",
                         pauses[i], mode, l, whole);
        free(l);
      }
    }
  }
  return whole;
}

static runopts_t opts_for(wire_ws_role_t role)
{
  runopts_t o;
  memset(&o, 0, sizeof(o));
  o.role = role;
  return o;
}

#define SRV WIRE_WS_SERVER
#define CLI WIRE_WS_CLIENT

/* Expects the exact log. */
static void expect_log_o(const runopts_t *o, const str_t *in, const char *want)
{
  int rc;
  char *log = run_opts(o, in->s, in->len, &rc);
  cr_assert_str_eq(log, want, "log:\n%s\nwant:\n%s", log, want);
  free(log);
}

static void expect_log(wire_ws_role_t role, const str_t *in, const char *want)
{
  runopts_t o = opts_for(role);
  expect_log_o(&o, in, want);
}

/* Expects an error (WIRE_WS_E_OK: success) at a stream offset (ignored
 * for success); returns the log (caller frees). */
static char *expect_err_o(const char *name, const runopts_t *o, const str_t *in,
                          unsigned err, uint64_t at)
{
  int rc;
  char *log = run_opts(o, in->s, in->len, &rc);
  if (err == WIRE_WS_E_OK) {
    cr_expect_eq(rc, 0, "%s: expected success, got:\n%s", name, log);
  } else {
    char tag[128];
    snprintf(tag, sizeof(tag), " %s at %llu close=%u\n",
             wire_ws_error_name(err), (unsigned long long)at,
             wire_ws_error_close_code(err));
    cr_expect(rc < 0 && strstr(log, tag) != NULL, "%s: expected%s got:\n%s",
              name, tag, log);
    if (err != WIRE_WS_E_CALLBACK)
      cr_expect_eq(rc, wire_ws_error_code(err), "%s", name);
  }
  return log;
}

static void expect_err(const char *name, wire_ws_role_t role, const str_t *in,
                       unsigned err, uint64_t at)
{
  runopts_t o = opts_for(role);
  free(expect_err_o(name, &o, in, err, at));
}

/* Both roles: the frames are written masked for the server and unmasked
 * for the client, with the same payload, so offsets shift by 4 per frame
 * header for the server; `at` is given for the client (unmasked) and
 * `frames_before` says how many headers precede the error. */
#define E(x) WIRE_WS_E_##x
#define FIN WIRE_WS_FIN
#define RSV1 WIRE_WS_RSV1
#define RSV2 WIRE_WS_RSV2
#define RSV3 WIRE_WS_RSV3
#define OP_CONT WIRE_WS_OP_CONTINUATION
#define OP_TEXT WIRE_WS_OP_TEXT
#define OP_BIN WIRE_WS_OP_BINARY
#define OP_CLOSE WIRE_WS_OP_CLOSE
#define OP_PING WIRE_WS_OP_PING
#define OP_PONG WIRE_WS_OP_PONG

static str_t mk(void)
{
  str_t b;
  memset(&b, 0, sizeof(b));
  str_add(&b, "", 0);
  return b;
}

/* ---- basic frames: exact logs ---- */

Test(ws_frame, masked_text_to_server)
{
  /* RFC 6455 5.7: a single-frame masked text message "Hello". */
  str_t in = mk();
  str_add(&in, "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11);
  expect_log(SRV, &in,
             "hdr op=1 fin=1 rsv=0 mask=1 len=5 msg=1 cmp=0 mlen=5\n"
             "  data=Hello\n"
             "end\n"
             "ok consumed=11 idle=1\n");
  str_free(&in);
}

Test(ws_frame, unmasked_text_to_client)
{
  /* RFC 6455 5.7: a single-frame unmasked text message. */
  str_t in = mk();
  str_add(&in, "\x81\x05\x48\x65\x6c\x6c\x6f", 7);
  expect_log(CLI, &in,
             "hdr op=1 fin=1 rsv=0 mask=0 len=5 msg=1 cmp=0 mlen=5\n"
             "  data=Hello\n"
             "end\n"
             "ok consumed=7 idle=1\n");
  str_free(&in);
}

Test(ws_frame, rfc_examples_fragments_and_ping)
{
  /* RFC 6455 5.7: a fragmented unmasked text message "Hel" + "lo", and an
   * unmasked ping with "Hello". */
  str_t in = mk();
  str_add(&in, "\x01\x03\x48\x65\x6c", 5);
  str_add(&in, "\x89\x05\x48\x65\x6c\x6c\x6f", 7);
  str_add(&in, "\x80\x02\x6c\x6f", 4);
  expect_log(CLI, &in,
             "hdr op=1 fin=0 rsv=0 mask=0 len=3 msg=1 cmp=0 mlen=3\n"
             "  data=Hel\n"
             "end\n"
             "hdr op=9 fin=1 rsv=0 mask=0 len=5\n"
             "  data=Hello\n"
             "end\n"
             "hdr op=0 fin=1 rsv=0 mask=0 len=2 msg=1 cmp=0 mlen=5\n"
             "  data=lo\n"
             "end\n"
             "ok consumed=16 idle=1\n");
  str_free(&in);
}

Test(ws_frame, in_place_unmasking_writes_plain_bytes)
{
  str_t in = mk();
  c2s(&in, FIN | OP_BIN, "plain bytes");
  char *buf = malloc(in.len);
  memcpy(buf, in.s, in.len);
  wire_ws_decoder_t d;
  wire_ws_decoder_init(&d, SRV, 0, NULL);
  size_t nread;
  cr_assert_eq(wire_ws_decoder_execute(&d, buf, in.len, &nread), 0);
  cr_assert_eq(nread, in.len);
  cr_assert_eq(memcmp(buf, in.s, 6), 0); /* the header is left alone */
  cr_assert_eq(memcmp(buf + 6, "plain bytes", 11), 0);
  free(buf);
  str_free(&in);
}

Test(ws_frame, idle_and_partial_input)
{
  wire_ws_decoder_t d;
  wire_ws_decoder_init(&d, CLI, 0, NULL);
  cr_assert(wire_ws_decoder_idle(&d));
  size_t nread;
  char h[2] = {(char)0x01, 0x00}; /* an empty first fragment */
  cr_assert_eq(wire_ws_decoder_execute(&d, h, 1, &nread), 0);
  cr_assert_eq(nread, 1);
  cr_assert(!wire_ws_decoder_idle(&d));
  cr_assert_eq(wire_ws_decoder_execute(&d, h + 1, 1, &nread), 0);
  cr_assert(!wire_ws_decoder_idle(&d)); /* the message is open */
  char f[2] = {(char)0x80, 0x00};
  cr_assert_eq(wire_ws_decoder_execute(&d, f, 2, &nread), 0);
  cr_assert(wire_ws_decoder_idle(&d));
  cr_assert_eq(d.offset, 4);
}

/* ---- 1: framing, every length form ---- */

static void length_case(wire_ws_role_t role, unsigned op, size_t n)
{
  char *payload = calloc(1, n ? n : 1);
  for (size_t i = 0; i < n; i++)
    payload[i] = (char)('a' + i % 26);
  str_t in = mk();
  put_frame(&in, FIN | op, role == SRV ? KEY : NULL, payload, n, FORM_MIN);
  size_t hl = n < 126 ? 2 : n <= 0xffff ? 4 : 10;
  if (role == SRV)
    hl += 4;
  cr_assert_eq(in.len, hl + n);
  str_t want = mk();
  str_printf(&want,
             "hdr op=%x fin=1 rsv=0 mask=%d len=%zu msg=%x cmp=0 mlen=%zu\n",
             op, role == SRV, n, op, n);
  if (n > 0) {
    str_add(&want, "  data=", 7);
    str_payload(&want, payload, n);
    str_add(&want, "\n", 1);
  }
  str_printf(&want, "end\nok consumed=%zu idle=1\n", in.len);
  expect_log(role, &in, want.s);
  str_free(&in);
  str_free(&want);
  free(payload);
}

Test(ws_frame, autobahn_1_lengths, .timeout = 120)
{
  /* Autobahn 1.1.x (text) and 1.2.x (binary): lengths 0, 125, 126, 127,
   * 128, 65535, 65536 around the 7-, 16- and 64-bit forms. */
  static const size_t lens[] = {0, 1, 125, 126, 127, 128, 65535, 65536};
  for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
    length_case(SRV, OP_TEXT, lens[i]);
    length_case(CLI, OP_BIN, lens[i]);
  }
}

Test(ws_frame, lengths_stop_where_frames_end)
{
  /* Two frames back to back: the first one's length says where the
   * second one starts, for every length form. */
  static const size_t lens[] = {0, 125, 126, 65535, 65536};
  for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
    char *p = calloc(1, lens[i] + 1);
    str_t in = mk();
    put_frame(&in, FIN | OP_BIN, NULL, p, lens[i], FORM_MIN);
    s2c(&in, FIN | OP_TEXT, "next");
    int rc;
    runopts_t o = opts_for(CLI);
    char *log = run_opts(&o, in.s, in.len, &rc);
    cr_assert_eq(rc, 0);
    cr_assert(strstr(log, "  data=next\n") != NULL, "%s", log);
    free(log);
    str_free(&in);
    free(p);
  }
}

/* ---- length encoding (RFC 6455 5.2) ---- */

Test(ws_frame, nonminimal_lengths_rejected)
{
  /* 125 in the 16-bit form: the last length byte (offset 3) is where it
   * is known. */
  str_t in = mk();
  put_frame(&in, FIN | OP_TEXT, NULL, "x", 1, FORM_16);
  expect_err("1 in 16 bits", CLI, &in, E(NONMINIMAL_LENGTH), 3);
  str_free(&in);

  char big[65536];
  memset(big, 'b', sizeof(big));
  in = mk();
  put_frame(&in, FIN | OP_BIN, NULL, big, 125, FORM_16);
  expect_err("125 in 16 bits", CLI, &in, E(NONMINIMAL_LENGTH), 3);
  str_free(&in);

  in = mk();
  put_frame(&in, FIN | OP_BIN, KEY, big, 5, FORM_64);
  expect_err("5 in 64 bits", SRV, &in, E(NONMINIMAL_LENGTH), 9);
  str_free(&in);

  in = mk();
  put_frame(&in, FIN | OP_BIN, NULL, big, 65535, FORM_64);
  expect_err("65535 in 64 bits", CLI, &in, E(NONMINIMAL_LENGTH), 9);
  str_free(&in);

  /* The smallest lengths of each form are fine. */
  in = mk();
  put_frame(&in, FIN | OP_BIN, NULL, big, 126, FORM_16);
  expect_err("126 in 16 bits", CLI, &in, E(OK), 0);
  str_free(&in);
  in = mk();
  put_frame(&in, FIN | OP_BIN, NULL, big, 65536, FORM_64);
  expect_err("65536 in 64 bits", CLI, &in, E(OK), 0);
  str_free(&in);
}

Test(ws_frame, lax_length_option)
{
  runopts_t o = opts_for(CLI);
  o.s.options = WIRE_WS_OPT_LAX_LENGTH;
  str_t in = mk();
  put_frame(&in, FIN | OP_TEXT, NULL, "hi", 2, FORM_16);
  put_frame(&in, FIN | OP_TEXT, NULL, "yo", 2, FORM_64);
  expect_log_o(&o, &in,
               "hdr op=1 fin=1 rsv=0 mask=0 len=2 msg=1 cmp=0 mlen=2\n"
               "  data=hi\n"
               "end\n"
               "hdr op=1 fin=1 rsv=0 mask=0 len=2 msg=1 cmp=0 mlen=2\n"
               "  data=yo\n"
               "end\n"
               "ok consumed=18 idle=1\n");
  str_free(&in);
}

Test(ws_frame, length_high_bit_rejected)
{
  /* RFC 6455 5.2: the most significant bit of the 64-bit length MUST be
   * 0: rejected at that byte, before the rest of the length. */
  str_t in = mk();
  str_add(&in, "\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x00", 10);
  expect_err("2^63", CLI, &in, E(LENGTH_OVERFLOW), 2);
  str_free(&in);
  in = mk();
  str_add(&in, "\x82\xff\xff\xff\xff\xff\xff\xff\xff\xff", 10);
  expect_err("2^64-1", SRV, &in, E(LENGTH_OVERFLOW), 2);
  str_free(&in);
  /* 2^63 - 1 passes the encoding rule and meets the message cap. */
  in = mk();
  str_add(&in, "\x82\x7f\x7f\xff\xff\xff\xff\xff\xff\xff", 10);
  expect_err("2^63-1", CLI, &in, E(MESSAGE_TOO_BIG), 9);
  str_free(&in);
  runopts_t o = opts_for(CLI);
  o.s.max_message = UINT64_MAX;
  char *log = expect_err_o("2^63-1 no cap", &o, &in, E(OK), 0);
  free(log);
}

/* ---- masking and roles (RFC 6455 5.1, 5.3) ---- */

Test(ws_frame, server_requires_masked_frames)
{
  str_t in = mk();
  s2c(&in, FIN | OP_TEXT, "hi");
  expect_err("unmasked text", SRV, &in, E(MASK_REQUIRED), 1);
  str_free(&in);
  in = mk();
  c2s(&in, FIN | OP_TEXT, "ok");
  s2c(&in, FIN | OP_PING, "");
  expect_err("unmasked ping after a good frame", SRV, &in, E(MASK_REQUIRED), 9);
  str_free(&in);
}

Test(ws_frame, client_rejects_masked_frames)
{
  str_t in = mk();
  c2s(&in, FIN | OP_TEXT, "hi");
  expect_err("masked text", CLI, &in, E(MASK_FORBIDDEN), 1);
  str_free(&in);
  in = mk();
  c2s(&in, FIN | OP_CLOSE, "");
  expect_err("masked close", CLI, &in, E(MASK_FORBIDDEN), 1);
  str_free(&in);
}

Test(ws_frame, zero_mask_key)
{
  /* A zero key is a key: the frame is masked, the bytes are as sent. */
  static const uint8_t zero[4] = {0, 0, 0, 0};
  str_t in = mk();
  put_frame(&in, FIN | OP_TEXT, zero, "same", 4, FORM_MIN);
  expect_log(SRV, &in,
             "hdr op=1 fin=1 rsv=0 mask=1 len=4 msg=1 cmp=0 mlen=4\n"
             "  data=same\n"
             "end\n"
             "ok consumed=10 idle=1\n");
  str_free(&in);
}

/* ---- 2: ping and pong ---- */

Test(ws_frame, autobahn_2_ping_pong)
{
  char p125[126];
  memset(p125, 0xfe, sizeof(p125));
  /* 2.1-2.3: empty, text and binary payloads. */
  str_t in = mk();
  c2s(&in, FIN | OP_PING, "");
  c2s(&in, FIN | OP_PING, "Hello, world!");
  put_frame(&in, FIN | OP_PING, KEY, "\x00\xff\xfe\xfd\xfc\xfb\x00\xff", 8,
            FORM_MIN);
  /* 2.4: 125 bytes, the most a control frame carries. */
  put_frame(&in, FIN | OP_PING, KEY, p125, 125, FORM_MIN);
  /* 2.7-2.8: unsolicited pongs. */
  c2s(&in, FIN | OP_PONG, "");
  c2s(&in, FIN | OP_PONG, "unsolicited");
  int rc;
  runopts_t o = opts_for(SRV);
  char *log = run_opts(&o, in.s, in.len, &rc);
  cr_assert_eq(rc, 0, "%s", log);
  cr_assert(strstr(log, "hdr op=9 fin=1 rsv=0 mask=1 len=0\nend\n") != NULL);
  cr_assert(strstr(log, "  data=Hello, world!\n") != NULL);
  cr_assert(strstr(log, "  data=\\x00\\xff\\xfe\\xfd\\xfc\\xfb\\x00\\xff\n") !=
            NULL);
  cr_assert(strstr(log, "hdr op=9 fin=1 rsv=0 mask=1 len=125\n") != NULL);
  cr_assert(strstr(log, "hdr op=a fin=1 rsv=0 mask=1 len=11\n") != NULL);
  free(log);
  str_free(&in);

  /* 2.5: 126 bytes: too big for a control frame, known at the second
   * header byte (a control frame never has an extended length). */
  in = mk();
  put_frame(&in, FIN | OP_PING, KEY, p125, 126, FORM_MIN);
  expect_err("ping 126", SRV, &in, E(CONTROL_TOO_BIG), 1);
  str_free(&in);
  in = mk();
  put_frame(&in, FIN | OP_PONG, NULL, p125, 5, FORM_16);
  expect_err("pong in 16 bits", CLI, &in, E(CONTROL_TOO_BIG), 1);
  str_free(&in);

  /* 2.10-2.11: ten pings in a row. */
  in = mk();
  for (int i = 0; i < 10; i++)
    c2s(&in, FIN | OP_PING, "payload");
  log = run_opts(&o, in.s, in.len, &rc);
  cr_assert_eq(rc, 0);
  size_t count = 0;
  for (const char *p = log; (p = strstr(p, "data=payload")) != NULL; p++)
    count++;
  cr_assert_eq(count, 10);
  free(log);
  str_free(&in);
}

/* ---- 3: reserved bits ---- */

Test(ws_frame, autobahn_3_reserved_bits)
{
  /* 3.1-3.7: RSV1..3 on each frame type, without extensions: rejected at
   * the first header byte; 3.2-3.3 put a good frame first. */
  static const unsigned bits[] = {RSV1,
                                  RSV2,
                                  RSV3,
                                  RSV1 | RSV2,
                                  RSV1 | RSV3,
                                  RSV2 | RSV3,
                                  RSV1 | RSV2 | RSV3};
  static const unsigned ops[] = {OP_TEXT, OP_BIN, OP_PING, OP_PONG, OP_CLOSE};
  for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
    for (size_t j = 0; j < sizeof(ops) / sizeof(ops[0]); j++) {
      str_t in = mk();
      c2s(&in, FIN | OP_TEXT, "small");
      c2s(&in, FIN | bits[i] | ops[j], "");
      c2s(&in, FIN | OP_PING, "");
      expect_err("rsv", SRV, &in, E(RESERVED_BITS), 11);
      str_free(&in);
    }
  }
}

Test(ws_frame, rsv1_with_permessage_deflate)
{
  /* RFC 7692 6: with permessage-deflate, RSV1 marks the first frame of a
   * compressed message; it may not be set on continuations or control
   * frames; RSV2 and RSV3 are still reserved. */
  runopts_t o = opts_for(CLI);
  o.rsv = RSV1;
  str_t in = mk();
  s2c(&in, RSV1 | OP_TEXT, "\xf2\x48"); /* not UTF-8: not checked here */
  s2c(&in, FIN | OP_CONT, "\xcd\xc9");
  s2c(&in, FIN | OP_TEXT, "plain");
  expect_log_o(&o, &in,
               "hdr op=1 fin=0 rsv=4 mask=0 len=2 msg=1 cmp=1 mlen=2\n"
               "  data=\\xf2H\n"
               "end\n"
               "hdr op=0 fin=1 rsv=0 mask=0 len=2 msg=1 cmp=1 mlen=4\n"
               "  data=\\xcd\\xc9\n"
               "end\n"
               "hdr op=1 fin=1 rsv=0 mask=0 len=5 msg=1 cmp=0 mlen=5\n"
               "  data=plain\n"
               "end\n"
               "ok consumed=15 idle=1\n");
  str_free(&in);

  in = mk();
  s2c(&in, RSV1 | OP_BIN, "ab");
  s2c(&in, FIN | RSV1 | OP_CONT, "cd");
  free(expect_err_o("rsv1 on a continuation", &o, &in, E(COMPRESSED_BIT), 4));
  str_free(&in);

  in = mk();
  s2c(&in, FIN | RSV1 | OP_PING, "");
  free(expect_err_o("rsv1 on a ping", &o, &in, E(COMPRESSED_BIT), 0));
  str_free(&in);

  in = mk();
  s2c(&in, FIN | RSV2 | OP_TEXT, "");
  free(expect_err_o("rsv2 with deflate", &o, &in, E(RESERVED_BITS), 0));
  str_free(&in);

  /* Without the extension RSV1 is just reserved. */
  in = mk();
  s2c(&in, FIN | RSV1 | OP_TEXT, "x");
  expect_err("rsv1 without deflate", CLI, &in, E(RESERVED_BITS), 0);
  str_free(&in);
}

/* ---- 4: opcodes ---- */

Test(ws_frame, autobahn_4_reserved_opcodes)
{
  /* 4.1.x non-control 3-7, 4.2.x control 11-15; with a good frame before
   * (4.1.3-4.1.5). */
  for (unsigned op = 3; op < 16; op++) {
    if (op >= 8 && op <= 10)
      continue;
    str_t in = mk();
    c2s(&in, FIN | op, "");
    expect_err("reserved opcode", SRV, &in, E(RESERVED_OPCODE), 0);
    str_free(&in);
    in = mk();
    s2c(&in, FIN | OP_TEXT, "hello");
    s2c(&in, FIN | op, "reserved");
    s2c(&in, FIN | OP_PING, "");
    char *log;
    runopts_t o = opts_for(CLI);
    log = expect_err_o("reserved opcode later", &o, &in, E(RESERVED_OPCODE), 7);
    cr_assert(strstr(log, "data=hello") != NULL);
    free(log);
    str_free(&in);
    /* Without FIN too. */
    in = mk();
    s2c(&in, op, "");
    expect_err("reserved opcode no fin", CLI, &in, E(RESERVED_OPCODE), 0);
    str_free(&in);
  }
}

/* ---- 5: fragmentation ---- */

Test(ws_frame, autobahn_5_fragmentation)
{
  /* 5.1-5.2: fragmented ping and pong. */
  str_t in = mk();
  c2s(&in, OP_PING, "frag");
  expect_err("fragmented ping", SRV, &in, E(FRAGMENTED_CONTROL), 0);
  str_free(&in);
  in = mk();
  c2s(&in, OP_PONG, "frag");
  expect_err("fragmented pong", SRV, &in, E(FRAGMENTED_CONTROL), 0);
  str_free(&in);
  in = mk();
  c2s(&in, OP_CLOSE, "");
  expect_err("fragmented close", SRV, &in, E(FRAGMENTED_CONTROL), 0);
  str_free(&in);

  /* 5.3-5.5: text in two fragments. */
  in = mk();
  c2s(&in, OP_TEXT, "fragment1");
  c2s(&in, FIN | OP_CONT, "fragment2");
  expect_log(SRV, &in,
             "hdr op=1 fin=0 rsv=0 mask=1 len=9 msg=1 cmp=0 mlen=9\n"
             "  data=fragment1\n"
             "end\n"
             "hdr op=0 fin=1 rsv=0 mask=1 len=9 msg=1 cmp=0 mlen=18\n"
             "  data=fragment2\n"
             "end\n"
             "ok consumed=30 idle=1\n");
  str_free(&in);

  /* 5.6-5.8: pings between the fragments. */
  in = mk();
  s2c(&in, OP_BIN, "one");
  s2c(&in, FIN | OP_PING, "p");
  s2c(&in, OP_CONT, "two");
  s2c(&in, FIN | OP_PONG, "");
  s2c(&in, FIN | OP_CONT, "three");
  expect_log(CLI, &in,
             "hdr op=2 fin=0 rsv=0 mask=0 len=3 msg=2 cmp=0 mlen=3\n"
             "  data=one\n"
             "end\n"
             "hdr op=9 fin=1 rsv=0 mask=0 len=1\n"
             "  data=p\n"
             "end\n"
             "hdr op=0 fin=0 rsv=0 mask=0 len=3 msg=2 cmp=0 mlen=6\n"
             "  data=two\n"
             "end\n"
             "hdr op=a fin=1 rsv=0 mask=0 len=0\n"
             "end\n"
             "hdr op=0 fin=1 rsv=0 mask=0 len=5 msg=2 cmp=0 mlen=11\n"
             "  data=three\n"
             "end\n"
             "ok consumed=22 idle=1\n");
  str_free(&in);

  /* 5.9-5.14: a continuation with nothing to continue, FIN or not, first
   * or after a complete message. */
  in = mk();
  c2s(&in, FIN | OP_CONT, "fragment");
  expect_err("lone continuation", SRV, &in, E(UNEXPECTED_CONTINUATION), 0);
  str_free(&in);
  in = mk();
  c2s(&in, OP_CONT, "fragment");
  expect_err("lone continuation no fin", SRV, &in, E(UNEXPECTED_CONTINUATION),
             0);
  str_free(&in);
  in = mk();
  s2c(&in, FIN | OP_TEXT, "done");
  s2c(&in, FIN | OP_CONT, "more");
  expect_err("continuation after a message", CLI, &in,
             E(UNEXPECTED_CONTINUATION), 6);
  str_free(&in);

  /* 5.15-5.18: a new message while one is open. */
  in = mk();
  s2c(&in, OP_TEXT, "fragment1");
  s2c(&in, FIN | OP_CONT, "fragment2");
  s2c(&in, OP_CONT, "fragment3");
  expect_err("continuation after the end", CLI, &in, E(UNEXPECTED_CONTINUATION),
             22);
  str_free(&in);
  in = mk();
  s2c(&in, OP_TEXT, "fragment1");
  s2c(&in, FIN | OP_TEXT, "fragment2");
  expect_err("text inside text", CLI, &in, E(EXPECTED_CONTINUATION), 11);
  str_free(&in);
  in = mk();
  s2c(&in, OP_BIN, "fragment1");
  s2c(&in, OP_BIN, "fragment2");
  expect_err("binary inside binary", CLI, &in, E(EXPECTED_CONTINUATION), 11);
  str_free(&in);

  /* 5.19-5.20: empty fragments and many of them. */
  in = mk();
  c2s(&in, OP_TEXT, "");
  for (int i = 0; i < 100; i++)
    c2s(&in, OP_CONT, i % 2 ? "" : "x");
  c2s(&in, FIN | OP_CONT, "");
  int rc;
  runopts_t o = opts_for(SRV);
  char *log = run_opts(&o, in.s, in.len, &rc);
  cr_assert_eq(rc, 0);
  cr_assert(strstr(log, "hdr op=0 fin=1 rsv=0 mask=1 len=0 msg=1 cmp=0 "
                        "mlen=50\nend\nok") != NULL,
            "%s", log);
  free(log);
  str_free(&in);
}

Test(ws_frame, close_inside_a_fragmented_message)
{
  /* A close frame may come between fragments (it is a control frame);
   * after it the decoder takes nothing more. */
  str_t in = mk();
  s2c(&in, OP_TEXT, "part");
  s2c(&in, FIN | OP_CLOSE, "\x03\xe8");
  expect_log(CLI, &in,
             "hdr op=1 fin=0 rsv=0 mask=0 len=4 msg=1 cmp=0 mlen=4\n"
             "  data=part\n"
             "end\n"
             "hdr op=8 fin=1 rsv=0 mask=0 len=2\n"
             "  data=\\x03\\xe8\n"
             "end close=1000 closed=1\n"
             "ok consumed=10 idle=1\n");
  str_free(&in);
}

/* ---- 6: UTF-8 in text messages ---- */

/* Sends text as a masked text message cut into fragments of `frag` bytes
 * (0: one frame) and returns the log. */
static char *text_frames(const char *t, size_t n, size_t frag, int *rc)
{
  str_t in = mk();
  if (frag == 0 || frag >= n) {
    put_frame(&in, FIN | OP_TEXT, KEY, t, n, FORM_MIN);
  } else {
    for (size_t off = 0; off < n; off += frag) {
      size_t k = n - off < frag ? n - off : frag;
      unsigned b0 = (off == 0 ? OP_TEXT : OP_CONT) | (off + k == n ? FIN : 0);
      put_frame(&in, b0, KEY, t + off, k, FORM_MIN);
    }
  }
  runopts_t o = opts_for(SRV);
  char *log = run_opts(&o, in.s, in.len, rc);
  str_free(&in);
  return log;
}

/* The stream offset of payload byte i when the text is cut into frames of
 * frag bytes (masked, 7-bit lengths: 6 header bytes per frame). */
static uint64_t text_offset(size_t i, size_t frag)
{
  if (frag == 0)
    return 6 + i;
  return (i / frag + 1) * 6 + i;
}

static void utf8_case(const char *name, const char *t, size_t n, long bad)
{
  /* bad: index of the first bad byte, -1 valid, -2 ends inside a
   * character. */
  static const size_t frags[] = {0, 1, 2, 3, 5, 7};
  for (size_t f = 0; f < sizeof(frags) / sizeof(frags[0]); f++) {
    if (n > 125 && frags[f] == 0)
      continue;
    int rc;
    char *log = text_frames(t, n, frags[f], &rc);
    if (bad == -1) {
      cr_expect_eq(rc, 0, "%s (frag %zu):\n%s", name, frags[f], log);
    } else {
      char tag[128];
      uint64_t at;
      if (bad >= 0)
        at = text_offset((size_t)bad, frags[f]);
      else /* the end of the last frame: the end of the stream */
        at = text_offset(n - 1, frags[f]) + 1;
      snprintf(tag, sizeof(tag), "INVALID_UTF8 at %llu close=1007\n",
               (unsigned long long)at);
      cr_expect(strstr(log, tag) != NULL, "%s (frag %zu): want %s got:\n%s",
                name, frags[f], tag, log);
    }
    free(log);
  }
}

#define UTF8(name, lit, bad) utf8_case(name, lit, sizeof(lit) - 1, bad)

Test(ws_frame, autobahn_6_utf8, .timeout = 120)
{
  /* 6.1: empty text messages, in one frame and in several. */
  str_t in = mk();
  c2s(&in, FIN | OP_TEXT, "");
  c2s(&in, OP_TEXT, "");
  c2s(&in, OP_CONT, "");
  c2s(&in, FIN | OP_CONT, "");
  expect_err("empty texts", SRV, &in, E(OK), 0);
  str_free(&in);

  /* 6.2-6.3: valid text, cut anywhere (characters split across frames). */
  UTF8("hello",
       "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0"
       "\xc3\xa1-UTF-8!!",
       -1);
  UTF8("kosme", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", -1);
  UTF8("4-byte", "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", -1);
  /* 6.4: fail fast, in the frame that holds the bad byte, before the rest
   * of the message arrives. */
  UTF8("kosme + f4 90",
       "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"
       "\xf4\x90\x80\x80"
       "edited",
       12);
  /* 6.5-6.23 at the frame level (the validator's own tests cover the
   * rest): boundaries, overlongs, surrogates, lonely bytes, cut
   * characters. */
  UTF8("U+10FFFF", "\xf4\x8f\xbf\xbf", -1);
  UTF8("U+110000", "\xf4\x90\x80\x80", 1);
  UTF8("overlong /", "\xc0\xaf", 0);
  UTF8("overlong 3", "\xe0\x80\xaf", 1);
  UTF8("surrogate", "ab\xed\xa0\x80", 3);
  UTF8("continuation", "abc\x80", 3);
  UTF8("lonely lead", "\xc2 ", 1);
  UTF8("fe", "\xfe", 0);
  UTF8("noncharacter", "\xef\xbf\xbe", -1);
  /* A message that ends inside a character fails at its end. */
  UTF8("cut 2", "\xc2", -2);
  UTF8("cut 3", "ab\xe2\x82", -2);
  UTF8("cut 4", "\xf0\x9f\x98", -2);
}

Test(ws_frame, utf8_cut_by_a_control_frame)
{
  /* A character split across fragments with a ping between them: the
   * ping's payload is not text. */
  str_t in = mk();
  s2c(&in, OP_TEXT, "\xe2\x82");
  s2c(&in, FIN | OP_PING, "\xff");
  s2c(&in, FIN | OP_CONT, "\xac");
  expect_err("split euro with a ping", CLI, &in, E(OK), 0);
  str_free(&in);
  /* The message's state survives the ping: a bad continuation still
   * fails. */
  in = mk();
  s2c(&in, OP_TEXT, "\xe2\x82");
  s2c(&in, FIN | OP_PING, "");
  s2c(&in, FIN | OP_CONT, "a");
  expect_err("split euro, bad end", CLI, &in, E(INVALID_UTF8), 8);
  str_free(&in);
}

Test(ws_frame, utf8_only_for_text)
{
  /* Binary messages and pings carry any bytes. */
  str_t in = mk();
  s2c(&in, FIN | OP_BIN, "\xff\xfe\xc0\xaf");
  s2c(&in, FIN | OP_PING, "\xed\xa0\x80");
  s2c(&in, FIN | OP_PONG, "\xc2");
  expect_err("binary", CLI, &in, E(OK), 0);
  str_free(&in);
  /* With NO_UTF8, text is not checked either (the caller does it). */
  runopts_t o = opts_for(CLI);
  o.s.options = WIRE_WS_OPT_NO_UTF8;
  in = mk();
  s2c(&in, FIN | OP_TEXT, "\xff\xc2");
  free(expect_err_o("no utf8", &o, &in, E(OK), 0));
  /* The close reason always is. */
  s2c(&in, FIN | OP_CLOSE, "\x03\xe8\xff");
  free(expect_err_o("no utf8, close", &o, &in, E(INVALID_CLOSE_REASON), 8));
  str_free(&in);
}

Test(ws_frame, utf8_error_hands_out_the_good_bytes)
{
  /* The bytes before the bad one are handed out, whatever the split. */
  str_t in = mk();
  s2c(&in, FIN | OP_TEXT,
      "good\xff"
      "bad");
  int rc;
  runopts_t o = opts_for(CLI);
  char *log = run_opts(&o, in.s, in.len, &rc);
  cr_assert_str_eq(log, "hdr op=1 fin=1 rsv=0 mask=0 len=8 msg=1 cmp=0 mlen=8\n"
                        "  data=good\n"
                        "error rc=-5003 INVALID_UTF8 at 6 close=1007\n");
  free(log);
  str_free(&in);
}

/* ---- 7: close ---- */

static void close_case(const char *name, const char *payload, size_t n,
                       unsigned err, uint64_t at_client)
{
  str_t in = mk();
  put_frame(&in, FIN | OP_CLOSE, NULL, payload, n, FORM_MIN);
  expect_err(name, CLI, &in, err, at_client);
  str_free(&in);
  in = mk();
  put_frame(&in, FIN | OP_CLOSE, KEY, payload, n, FORM_MIN);
  uint64_t at = at_client >= 2 ? at_client + 4 : at_client;
  expect_err(name, SRV, &in, err, at);
  str_free(&in);
}

Test(ws_frame, autobahn_7_close)
{
  /* 7.3.1: an empty close: no code, which is 1005 for the application. */
  str_t in = mk();
  s2c(&in, FIN | OP_CLOSE, "");
  expect_log(CLI, &in,
             "hdr op=8 fin=1 rsv=0 mask=0 len=0\n"
             "end close=1005 closed=1\n"
             "ok consumed=2 idle=1\n");
  str_free(&in);
  /* 7.3.2: one byte: rejected at the length. */
  close_case("one byte", "\x03", 1, E(CLOSE_ONE_BYTE), 1);
  /* 7.3.3-7.3.5: a code, a reason, the longest reason (123 bytes). */
  close_case("1000", "\x03\xe8", 2, E(OK), 0);
  close_case("reason",
             "\x03\xe8"
             "Bye, bye.",
             11, E(OK), 0);
  char big[126];
  big[0] = 0x03;
  big[1] = (char)0xe8;
  memset(big + 2, 'r', sizeof(big) - 2);
  close_case("125", big, 125, E(OK), 0);
  /* 7.3.6: 126 bytes. */
  close_case("126", big, 126, E(CONTROL_TOO_BIG), 1);
  /* 7.5.1: a reason that is not UTF-8, fail-fast inside it; and one cut
   * inside a character, at the end of the frame. */
  close_case("bad reason",
             "\x03\xe8\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce"
             "\xb5\xed\xa0\x80",
             16, E(INVALID_CLOSE_REASON), 2 + 14);
  close_case("cut reason",
             "\x03\xe8"
             "ab\xe2\x82",
             6, E(INVALID_CLOSE_REASON), 8);
  /* 7.1.x: nothing may follow a close frame. */
  in = mk();
  s2c(&in, FIN | OP_CLOSE, "\x03\xe8");
  s2c(&in, FIN | OP_PING, "");
  expect_err("ping after close", CLI, &in, E(AFTER_CLOSE), 4);
  str_free(&in);
  in = mk();
  c2s(&in, FIN | OP_CLOSE, "");
  c2s(&in, FIN | OP_CLOSE, "");
  expect_err("close after close", SRV, &in, E(AFTER_CLOSE), 6);
  str_free(&in);
}

Test(ws_frame, autobahn_7_close_codes)
{
  /* 7.7.x: codes a peer may send; 7.9.x: codes it may not (1012-1014 are
   * IANA-registered since RFC 6455 and valid; 1015 never goes on the
   * wire). The code is checked at its second byte. */
  static const unsigned good[] = {1000, 1001, 1002, 1003, 1007, 1008,
                                  1009, 1010, 1011, 1012, 1013, 1014,
                                  3000, 3999, 4000, 4999};
  static const unsigned bad[] = {0,    999,  1004, 1005, 1006, 1015,
                                 1016, 1100, 2000, 2999, 5000, 65535};
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    char p[2] = {(char)(good[i] >> 8), (char)(good[i] & 0xff)};
    close_case("good code", p, 2, E(OK), 0);
    str_t in = mk();
    put_frame(&in, FIN | OP_CLOSE, NULL, p, 2, FORM_MIN);
    str_t want = mk();
    str_printf(&want, "end close=%u closed=1\n", good[i]);
    int rc;
    runopts_t o = opts_for(CLI);
    char *log = run_opts(&o, in.s, in.len, &rc);
    cr_assert(strstr(log, want.s) != NULL, "%s", log);
    free(log);
    str_free(&want);
    str_free(&in);
  }
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    char p[4] = {(char)(bad[i] >> 8), (char)(bad[i] & 0xff), 'h', 'i'};
    close_case("bad code", p, 2, E(INVALID_CLOSE_CODE), 3);
    close_case("bad code, reason", p, 4, E(INVALID_CLOSE_CODE), 3);
  }
}

Test(ws_frame, close_code_list)
{
  /* Every code against the rule written out. */
  for (unsigned c = 0; c < 70000; c++) {
    int want = (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) ||
               (c >= 3000 && c <= 4999);
    cr_assert_eq(wire_ws_close_code_valid(c), want, "code %u", c);
  }
}

Test(ws_frame, close_payload_helpers)
{
  char out[WIRE_WS_MAX_CONTROL];
  cr_assert_eq(wire_ws_close_payload(out, 0, NULL, 0), 0);
  cr_assert_eq(wire_ws_close_payload(out, 0, "x", 1), WIRE_EINVAL);
  cr_assert_eq(wire_ws_close_payload(out, 1000, NULL, 0), 2);
  cr_assert_eq(memcmp(out, "\x03\xe8", 2), 0);
  cr_assert_eq(wire_ws_close_payload(out, 4001, "bye \xe2\x82\xac", 7), 9);
  cr_assert_eq(memcmp(out,
                      "\x0f\xa1"
                      "bye \xe2\x82\xac",
                      9),
               0);
  cr_assert_eq(wire_ws_close_payload(out, 1005, NULL, 0), WIRE_EINVAL);
  cr_assert_eq(wire_ws_close_payload(out, 1006, NULL, 0), WIRE_EINVAL);
  cr_assert_eq(wire_ws_close_payload(out, 1000, "\xc0\xaf", 2), WIRE_EINVAL);
  char r[124];
  memset(r, 'r', sizeof(r));
  cr_assert_eq(wire_ws_close_payload(out, 1000, r, 123), 125);
  cr_assert_eq(wire_ws_close_payload(out, 1000, r, 124), WIRE_EINVAL);

  unsigned code = 1;
  const char *reason = NULL;
  size_t rlen = 99;
  cr_assert_eq(wire_ws_close_parse("", 0, &code, &reason, &rlen), E(OK));
  cr_assert_eq(code, 1005);
  cr_assert_eq(rlen, 0);
  cr_assert_eq(wire_ws_close_parse("\x03\xe9"
                                   "gone",
                                   6, &code, &reason, &rlen),
               E(OK));
  cr_assert_eq(code, 1001);
  cr_assert_eq(rlen, 4);
  cr_assert_eq(memcmp(reason, "gone", 4), 0);
  cr_assert_eq(wire_ws_close_parse("\x03", 1, &code, NULL, NULL),
               E(CLOSE_ONE_BYTE));
  cr_assert_eq(wire_ws_close_parse("\x03\xec", 2, NULL, NULL, NULL),
               E(INVALID_CLOSE_CODE));
  cr_assert_eq(wire_ws_close_parse("\x03\xe8\xff", 3, NULL, NULL, NULL),
               E(INVALID_CLOSE_REASON));
  cr_assert_eq(wire_ws_close_parse(r, 126, NULL, NULL, NULL),
               E(CONTROL_TOO_BIG));
  /* What close_payload writes, close_parse reads. */
  int n = wire_ws_close_payload(out, 3333, "ok", 2);
  cr_assert_eq(wire_ws_close_parse(out, (size_t)n, &code, &reason, &rlen),
               E(OK));
  cr_assert_eq(code, 3333);
  cr_assert_eq(rlen, 2);
}

/* ---- 9: limits ---- */

Test(ws_frame, autobahn_9_limits)
{
  char buf[300];
  memset(buf, 'x', sizeof(buf));
  runopts_t o = opts_for(CLI);
  o.s.max_frame = 100;
  o.s.max_message = 250;
  /* A frame at the cap is fine; one byte over is known at the header,
   * before any payload. */
  str_t in = mk();
  put_frame(&in, FIN | OP_BIN, NULL, buf, 100, FORM_MIN);
  free(expect_err_o("frame at cap", &o, &in, E(OK), 0));
  str_free(&in);
  in = mk();
  put_frame(&in, FIN | OP_BIN, NULL, buf, 101, FORM_MIN);
  free(expect_err_o("frame over cap", &o, &in, E(FRAME_TOO_BIG), 1));
  str_free(&in);
  /* The message cap counts the fragments together. */
  in = mk();
  put_frame(&in, OP_TEXT, NULL, buf, 100, FORM_MIN);
  put_frame(&in, OP_CONT, NULL, buf, 100, FORM_MIN);
  put_frame(&in, FIN | OP_CONT, NULL, buf, 50, FORM_MIN);
  free(expect_err_o("message at cap", &o, &in, E(OK), 0));
  str_free(&in);
  in = mk();
  put_frame(&in, OP_TEXT, NULL, buf, 100, FORM_MIN);
  put_frame(&in, OP_CONT, NULL, buf, 100, FORM_MIN);
  put_frame(&in, FIN | OP_CONT, NULL, buf, 51, FORM_MIN);
  free(expect_err_o("message over cap", &o, &in, E(MESSAGE_TOO_BIG), 205));
  str_free(&in);
  /* Control frames do not count, and each message starts again. */
  in = mk();
  put_frame(&in, OP_TEXT, NULL, buf, 100, FORM_MIN);
  put_frame(&in, FIN | OP_PING, NULL, buf, 125, FORM_MIN);
  put_frame(&in, FIN | OP_CONT, NULL, buf, 100, FORM_MIN);
  put_frame(&in, FIN | OP_BIN, NULL, buf, 100, FORM_MIN);
  free(expect_err_o("caps per message", &o, &in, E(OK), 0));
  str_free(&in);
  /* Over the cap in the 16-bit form: at the last length byte. */
  o.s.max_frame = 0; /* the message cap then */
  o.s.max_message = 200;
  in = mk();
  put_frame(&in, FIN | OP_BIN, NULL, buf, 201, FORM_MIN);
  free(expect_err_o("16-bit over cap", &o, &in, E(MESSAGE_TOO_BIG), 3));
  str_free(&in);
  /* The default cap is 100 MiB: a header claiming more fails at once. */
  in = mk();
  str_add(&in, "\x82\x7f\x00\x00\x00\x00\x06\x40\x00\x01", 10);
  expect_err("over 100 MiB", CLI, &in, E(MESSAGE_TOO_BIG), 9);
  str_free(&in);
  in = mk();
  str_add(&in, "\x82\x7f\x00\x00\x00\x00\x06\x40\x00\x00", 10);
  expect_err("100 MiB header", CLI, &in, E(OK), 0);
  str_free(&in);
}

/* ---- callbacks ---- */

Test(ws_frame, callback_error_stops)
{
  runopts_t o = opts_for(CLI);
  o.opts = O_END_ERROR;
  str_t in = mk();
  s2c(&in, FIN | OP_TEXT, "abc");
  s2c(&in, FIN | OP_TEXT, "def");
  char *log = expect_err_o("end error", &o, &in, E(CALLBACK), 5);
  cr_assert(strstr(log, "error rc=-42 CALLBACK at 5 close=0\n") != NULL, "%s",
            log);
  cr_assert(strstr(log, "def") == NULL);
  free(log);
  str_free(&in);
}

Test(ws_frame, no_settings)
{
  /* No callbacks, default limits: bytes are consumed, rules hold. */
  str_t in = mk();
  c2s(&in, FIN | OP_TEXT, "hello");
  c2s(&in, FIN | OP_CLOSE, "\x03\xe8");
  wire_ws_decoder_t d;
  wire_ws_decoder_init(&d, SRV, 0, NULL);
  size_t nread;
  cr_assert_eq(wire_ws_decoder_execute(&d, in.s, in.len, &nread), 0);
  cr_assert_eq(nread, in.len);
  cr_assert(d.closed);
  cr_assert_eq(d.close_code, 1000);
  str_free(&in);
}

Test(ws_frame, empty_calls)
{
  /* No bytes, NULL pointers: nothing happens (and no NULL + 0, which
   * UBSan reports). */
  wire_ws_decoder_t d;
  wire_ws_decoder_init(&d, CLI, 0, NULL);
  size_t nread = 1;
  cr_assert_eq(wire_ws_decoder_execute(&d, NULL, 0, &nread), 0);
  cr_assert_eq(nread, 0);
  cr_assert_eq(wire_ws_decoder_execute_raw(&d, NULL, 0, &nread), 0);
  cr_assert_eq(nread, 0);
  cr_assert(wire_ws_decoder_idle(&d));
  wire_ws_mask(NULL, 0, KEY, 0);
  wire_ws_mask_copy(NULL, NULL, 0, KEY, 3);
  cr_assert_eq(wire_ws_frame_write(NULL, 0, FIN, OP_PING, NULL, 0, NULL), 0);
  wire_utf8_t u;
  wire_utf8_init(&u);
  cr_assert_eq(wire_utf8_validate(&u, NULL, 0), 0);
  cr_assert(wire_utf8_is_valid(NULL, 0));
}

Test(ws_frame, error_helpers)
{
  cr_assert_str_eq(wire_ws_error_name(E(RESERVED_OPCODE)), "RESERVED_OPCODE");
  cr_assert_str_eq(wire_ws_error_str(E(OK)), "no error");
  cr_assert_eq(wire_ws_error_code(E(MESSAGE_TOO_BIG)), WIRE_ETOOBIG);
  cr_assert_eq(wire_ws_error_code(E(INVALID_UTF8)), WIRE_EWSPROTO);
  cr_assert_eq(wire_ws_error_close_code(E(INVALID_UTF8)), 1007);
  cr_assert_eq(wire_ws_error_close_code(E(FRAME_TOO_BIG)), 1009);
  cr_assert_eq(wire_ws_error_close_code(E(MASK_REQUIRED)), 1002);
  cr_assert_eq(wire_ws_error_close_code(E(AFTER_CLOSE)), 0);
  cr_assert_str_eq(wire_ws_error_name(999), "UNKNOWN");
  for (unsigned e = 1; e < WIRE_WS_E_COUNT_; e++) {
    cr_assert_lt(wire_ws_error_code(e), 0);
    unsigned c = wire_ws_error_close_code(e);
    cr_assert(c == 0 || c == 1002 || c == 1007 || c == 1009);
  }
}

/* ---- the encoder ---- */

Test(ws_frame, header_write_matches_the_writer)
{
  static const uint64_t lens[] = {0,     1,     125,   126,      127,
                                  65535, 65536, 65537, 1u << 31, 1ull << 40};
  static const unsigned ops[] = {OP_TEXT, OP_BIN, OP_CONT};
  for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
    for (int masked = 0; masked <= 1; masked++) {
      for (size_t j = 0; j < sizeof(ops) / sizeof(ops[0]); j++) {
        unsigned flags = j == 2 ? RSV1 : FIN;
        char out[WIRE_WS_MAX_HEADER];
        size_t n = wire_ws_header_write(out, flags, ops[j], lens[i],
                                        masked ? KEY : NULL);
        cr_assert_eq(n, wire_ws_header_size(lens[i], masked));
        /* The writer's header, with no payload bytes after it. */
        str_t want = mk();
        put_frame(&want, flags | ops[j], masked ? KEY : NULL, NULL, 0,
                  FORM_MIN);
        /* put_frame wrote the length 0: patch the length bytes. */
        unsigned char *w = (unsigned char *)want.s;
        unsigned char m = masked ? 0x80 : 0;
        size_t hl;
        if (lens[i] < 126) {
          w[1] = (unsigned char)(m | lens[i]);
          hl = 2;
        } else if (lens[i] <= 0xffff) {
          unsigned char ext[2] = {(unsigned char)(lens[i] >> 8),
                                  (unsigned char)lens[i]};
          want.len = 0;
          unsigned char h2[2] = {(unsigned char)(flags | ops[j]), m | 126};
          str_add(&want, h2, 2);
          str_add(&want, ext, 2);
          if (masked)
            str_add(&want, KEY, 4);
          hl = 4;
        } else {
          want.len = 0;
          unsigned char h2[2] = {(unsigned char)(flags | ops[j]), m | 127};
          str_add(&want, h2, 2);
          for (int b = 7; b >= 0; b--) {
            unsigned char c = (unsigned char)(lens[i] >> (8 * b));
            str_add(&want, &c, 1);
          }
          if (masked)
            str_add(&want, KEY, 4);
          hl = 10;
        }
        cr_assert_eq(n, hl + (masked ? 4u : 0u));
        cr_assert_eq(want.len, n);
        cr_assert_eq(memcmp(out, want.s, n), 0, "len %llu masked %d",
                     (unsigned long long)lens[i], masked);
        str_free(&want);
      }
    }
  }
  /* Control frames. */
  char out[WIRE_WS_MAX_HEADER];
  cr_assert_eq(wire_ws_header_write(out, FIN, OP_PING, 125, NULL), 2);
  cr_assert_eq(memcmp(out, "\x89\x7d", 2), 0);
  cr_assert_eq(wire_ws_header_write(out, FIN, OP_CLOSE, 2, KEY), 6);
  cr_assert_eq(memcmp(out, "\x88\x82\x37\xfa\x21\x3d", 6), 0);
}

Test(ws_frame, frame_write)
{
  char out[64];
  cr_assert_eq(
      wire_ws_frame_write(out, sizeof(out), FIN, OP_TEXT, "Hello", 5, KEY), 11);
  cr_assert_eq(memcmp(out, "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11),
               0);
  cr_assert_eq(
      wire_ws_frame_write(out, sizeof(out), FIN, OP_TEXT, "Hello", 5, NULL), 7);
  cr_assert_eq(memcmp(out, "\x81\x05Hello", 7), 0);
  cr_assert_eq(wire_ws_frame_write(out, 6, FIN, OP_TEXT, "Hello", 5, NULL), 0);
  cr_assert_eq(wire_ws_frame_write(out, 1, FIN, OP_PONG, NULL, 0, NULL), 0);
  cr_assert_eq(wire_ws_frame_write(out, 2, FIN, OP_PONG, NULL, 0, NULL), 2);
  cr_assert_eq(memcmp(out, "\x8a\x00", 2), 0);
}

Test(ws_frame, masking_every_alignment)
{
  /* Against a byte loop, for every length to 100, every start offset in
   * an 8-byte word, every key phase, in place and copying. */
  unsigned char src[128], ref[128], buf[144], key[4];
  rng_state = 777;
  for (size_t len = 0; len <= 100; len++) {
    for (size_t align = 0; align < 8; align++) {
      for (uint64_t pos = 0; pos < 5; pos++) {
        for (int i = 0; i < 4; i++)
          key[i] = (unsigned char)rnd(256);
        for (size_t i = 0; i < len; i++) {
          src[i] = (unsigned char)rnd(256);
          ref[i] = src[i] ^ key[(pos + i) % 4];
        }
        memset(buf, 0xaa, sizeof(buf));
        wire_ws_mask_copy((char *)buf + align, (const char *)src, len, key,
                          pos);
        cr_assert_eq(memcmp(buf + align, ref, len), 0);
        for (size_t i = 0; i < align; i++)
          cr_assert_eq(buf[i], 0xaa);
        cr_assert_eq(buf[align + len], 0xaa); /* nothing written past */
        memcpy(buf + align, src, len);
        wire_ws_mask((char *)buf + align, len, key, pos);
        cr_assert_eq(memcmp(buf + align, ref, len), 0);
        /* Masking twice gives the bytes back. */
        wire_ws_mask((char *)buf + align, len, key, pos);
        cr_assert_eq(memcmp(buf + align, src, len), 0);
      }
    }
  }
}

Test(ws_frame, masking_in_pieces)
{
  /* Masking a payload in pieces, each with its offset, is masking it
   * whole. */
  char whole[1000], pieces[1000];
  for (size_t i = 0; i < sizeof(whole); i++)
    whole[i] = pieces[i] = (char)(i * 7);
  wire_ws_mask(whole, sizeof(whole), KEY, 0);
  rng_state = 99;
  size_t off = 0;
  while (off < sizeof(pieces)) {
    size_t n = 1 + rnd(37);
    if (n > sizeof(pieces) - off)
      n = sizeof(pieces) - off;
    wire_ws_mask(pieces + off, n, KEY, off);
    off += n;
  }
  cr_assert_eq(memcmp(whole, pieces, sizeof(whole)), 0);
}

Test(ws_frame, masking_reads_only_its_bytes)
{
  /* The source ends right before the guard page. */
  for (size_t len = 0; len < 40; len++) {
    char src[40];
    memset(src, 'm', sizeof(src));
    char *g = guarded(src, len);
    char dst[48];
    wire_ws_mask_copy(dst + 1, g, len, KEY, 3);
    wire_ws_mask(g, len, KEY, 1);
  }
}

/* ---- round trips ---- */

typedef struct {
  unsigned flags, opcode;
  size_t len;
  uint8_t key[4];
  char *payload;
} rt_frame_t;

#define RT_MAX 24

/* Draws a stream of 1-3 messages of 1-3 fragments each, with pings
 * between fragments; returns the number of frames. */
static size_t rt_draw(rt_frame_t *fr)
{
  static const size_t sizes[] = {0,   1,   2,   3,    7,     8,     9,    31,
                                 125, 126, 127, 1000, 65535, 65536, 70000};
  size_t nfr = 0;
  int msgs = 1 + (int)rnd(3);
  for (int m = 0; m < msgs; m++) {
    unsigned op = rnd(2) ? OP_TEXT : OP_BIN;
    int parts = 1 + (int)rnd(3);
    for (int k = 0; k < parts; k++) {
      rt_frame_t *f = &fr[nfr++];
      f->opcode = k == 0 ? op : OP_CONT;
      f->flags = k == parts - 1 ? FIN : 0;
      f->len =
          rnd(4) == 0 ? sizes[rnd(sizeof(sizes) / sizeof(sizes[0]))] : rnd(40);
      /* ASCII payloads, so that text is valid however it is cut. */
      f->payload = malloc(f->len + 1);
      for (size_t i = 0; i < f->len; i++)
        f->payload[i] = (char)(' ' + rnd(95));
      if (k < parts - 1 && rnd(3) == 0) {
        rt_frame_t *c = &fr[nfr++];
        c->opcode = rnd(2) ? OP_PING : OP_PONG;
        c->flags = FIN;
        c->len = rnd(126);
        c->payload = malloc(c->len + 1);
        for (size_t i = 0; i < c->len; i++)
          c->payload[i] = (char)rnd(256);
      }
    }
  }
  return nfr;
}

Test(ws_frame, round_trip_random_frames, .timeout = 120)
{
  /* Random messages (fragmented or not, with control frames between the
   * fragments) encoded with wire_ws_frame_write, or header_write and
   * wire_ws_mask, with random keys; decoded by each role at random
   * splits: every field and every payload byte comes back, in order. */
  uint64_t seed = 2024;
  for (int iter = 0; iter < 60; iter++) {
    for (int r = 0; r < 2; r++) {
      wire_ws_role_t role = r ? SRV : CLI;
      int masked = role == SRV;
      rt_frame_t fr[RT_MAX];
      rng_state = seed;
      size_t nfr = rt_draw(fr);
      str_t in = mk();
      for (size_t i = 0; i < nfr; i++) {
        rt_frame_t *f = &fr[i];
        for (int k = 0; k < 4; k++)
          f->key[k] = (uint8_t)rnd(256);
        size_t cap = f->len + WIRE_WS_MAX_HEADER;
        char *out = malloc(cap);
        size_t n;
        if (rnd(2)) {
          n = wire_ws_frame_write(out, cap, f->flags, f->opcode, f->payload,
                                  f->len, masked ? f->key : NULL);
        } else {
          n = wire_ws_header_write(out, f->flags, f->opcode, f->len,
                                   masked ? f->key : NULL);
          memcpy(out + n, f->payload, f->len);
          if (masked)
            wire_ws_mask(out + n, f->len, f->key, 0);
          n += f->len;
        }
        cr_assert_eq(n, wire_ws_header_size(f->len, masked) + f->len);
        str_add(&in, out, n);
        free(out);
      }
      seed = rng_state;
      int rc;
      runopts_t o = opts_for(role);
      char *log = run_opts(&o, in.s, in.len, &rc);
      cr_assert_eq(rc, 0, "%s", log);
      /* The log is exactly the frames, in order. */
      str_t want = mk();
      unsigned msg_op = 0;
      size_t mlen = 0;
      for (size_t i = 0; i < nfr; i++) {
        rt_frame_t *f = &fr[i];
        str_printf(&want, "hdr op=%x fin=%d rsv=0 mask=%d len=%zu", f->opcode,
                   (f->flags & FIN) != 0, masked, f->len);
        if (!wire_ws_is_control(f->opcode)) {
          if (f->opcode != OP_CONT) {
            msg_op = f->opcode;
            mlen = 0;
          }
          mlen += f->len;
          str_printf(&want, " msg=%x cmp=0 mlen=%zu", msg_op, mlen);
        }
        str_add(&want, "\n", 1);
        if (f->len > 0) {
          str_add(&want, "  data=", 7);
          str_payload(&want, f->payload, f->len);
          str_add(&want, "\n", 1);
        }
        str_add(&want, "end\n", 4);
        free(f->payload);
      }
      str_printf(&want, "ok consumed=%zu idle=1\n", in.len);
      cr_assert_str_eq(log, want.s);
      free(log);
      str_free(&want);
      str_free(&in);
    }
  }
}

/* Whole small final frames take the decoder's fast path when fed whole:
 * the log (callbacks, fields, payload) is the one of the states fed byte
 * by byte, split, raw and with pauses (run_opts checks that), around
 * frames that cannot take it: a fragmented message, a control frame, a
 * 126-byte payload, an empty payload. A frame over the message cap
 * leaves the fast path, and the error is at its length byte. */
Test(ws_frame, fast_path_frames)
{
  static const wire_ws_role_t roles[] = {SRV, CLI};
  char big[127];
  memset(big, 'b', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  for (int i = 0; i < 2; i++) {
    wire_ws_role_t role = roles[i];
    void (*frame)(str_t *, unsigned, const char *) = role == SRV ? c2s : s2c;
    runopts_t o = opts_for(role);
    o.s.options = WIRE_WS_OPT_NO_UTF8;
    str_t in = mk();
    frame(&in, FIN | OP_TEXT, "hello");
    frame(&in, FIN | OP_BIN, "bytes\xff");
    frame(&in, FIN | OP_TEXT, "");
    frame(&in, OP_TEXT, "frag");
    frame(&in, FIN | OP_PING, "p");
    frame(&in, FIN | OP_CONT, "ment");
    frame(&in, FIN | OP_BIN, big + 1); /* 125 bytes: the longest 7-bit */
    frame(&in, FIN | OP_BIN, big);     /* 126: the 16-bit form */
    frame(&in, FIN | OP_TEXT, "done");
    free(expect_err_o("fast path", &o, &in, E(OK), 0));
    str_free(&in);
    /* Without NO_UTF8 text goes through the states and is checked. */
    runopts_t t = opts_for(role);
    in = mk();
    frame(&in, FIN | OP_TEXT, "ok");
    frame(&in, FIN | OP_TEXT, "\xff");
    free(expect_err_o("text checked", &t, &in, E(INVALID_UTF8),
                      role == SRV ? 14 : 6));
    str_free(&in);
    /* Over the cap: reported at the length byte of the second frame. */
    runopts_t c = opts_for(role);
    c.s.max_message = 4;
    in = mk();
    frame(&in, FIN | OP_BIN, "four");
    frame(&in, FIN | OP_BIN, "fives");
    free(
        expect_err_o("cap", &c, &in, E(MESSAGE_TOO_BIG), role == SRV ? 11 : 7));
    str_free(&in);
  }
}
