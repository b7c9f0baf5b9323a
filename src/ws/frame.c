/* The WebSocket frame codec (RFC 6455 section 5). See frame.h for the
 * interface and docs/ws-frame.md for the rules it enforces.
 *
 * Decoder structure: one explicit state machine, one switch inside one
 * loop over the input. The header is read a byte at a time (HDR0: FIN,
 * RSV, opcode; HDR1: MASK and the 7-bit length; LEN: the 16- or 64-bit
 * length; MASK: the key), and each rule is checked at the byte that
 * carries it, so an error is reported at the first offending byte. The
 * payload is handed out as views as large as the input allows, unmasked
 * in place (or not touched at all in raw mode), after the bytes that need
 * checking were checked: the UTF-8 of an uncompressed text message, and
 * the code and UTF-8 reason of a close frame. Nothing is copied and
 * nothing is allocated.
 *
 * The decoder tracks the data message a frame belongs to (in_message,
 * message_opcode, compressed, message_length and the UTF-8 state), so the
 * fragmentation rules of RFC 6455 5.4 and the message cap are enforced
 * here and the ws layer only assembles.
 *
 * Invariants: every byte is looked at once; the state after a byte does
 * not depend on where the input was split, so whole, byte-by-byte and
 * randomly split input give the same callbacks (payload views joined) and
 * the same result; the tests and the fuzzer check this. No state reads
 * past the end of its input.
 *
 * Life: init -> (header -> payload -> frame end)* -> CLOSED after a close
 * frame. Any error -> DEAD, where every call returns the error again. */
#include "frame.h"

#include <assert.h>
#include <string.h>

#include "utf8.h"

enum {
  S_DEAD = 0,
  S_CLOSED, /* after a close frame */
  S_HDR0,   /* FIN, RSV1-3, opcode */
  S_HDR1,   /* MASK, payload length (7 bits) */
  S_LEN,    /* extended payload length: idx bytes left */
  S_MASK,   /* masking key: idx bytes read */
  S_PAYLOAD /* remaining bytes; at 0 the frame ends */
};

/* ---- errors ---- */

static const char *const err_name[] = {
#define WIRE_WS_ERROR_NAME_(name, code, close, msg) #name,
    WIRE_WS_ERROR_MAP(WIRE_WS_ERROR_NAME_)
#undef WIRE_WS_ERROR_NAME_
};
static const char *const err_msg[] = {
#define WIRE_WS_ERROR_MSG_(name, code, close, msg) msg,
    WIRE_WS_ERROR_MAP(WIRE_WS_ERROR_MSG_)
#undef WIRE_WS_ERROR_MSG_
};
static const int err_code[] = {
#define WIRE_WS_ERROR_CODE_(name, code, close, msg) code,
    WIRE_WS_ERROR_MAP(WIRE_WS_ERROR_CODE_)
#undef WIRE_WS_ERROR_CODE_
};
static const uint16_t err_close[] = {
#define WIRE_WS_ERROR_CLOSE_(name, code, close, msg) close,
    WIRE_WS_ERROR_MAP(WIRE_WS_ERROR_CLOSE_)
#undef WIRE_WS_ERROR_CLOSE_
};

const char *wire_ws_error_name(unsigned err)
{
  return err < WIRE_WS_E_COUNT_ ? err_name[err] : "UNKNOWN";
}

const char *wire_ws_error_str(unsigned err)
{
  return err < WIRE_WS_E_COUNT_ ? err_msg[err] : "unknown error";
}

int wire_ws_error_code(unsigned err)
{
  return err < WIRE_WS_E_COUNT_ ? err_code[err] : WIRE_EWSPROTO;
}

unsigned wire_ws_error_close_code(unsigned err)
{
  return err < WIRE_WS_E_COUNT_ ? err_close[err] : 0;
}

/* ---- masking ---- */

void wire_ws_mask_copy(char *dst, const char *src, size_t len,
                       const uint8_t key[4], uint64_t pos)
{
  unsigned char *d = (unsigned char *)dst;
  const unsigned char *s = (const unsigned char *)src;
  unsigned k = (unsigned)(pos & 3);
  size_t i = 0;
  if (len >= 8) {
    /* The key as a word, starting at the key byte for d[0]; eight is a
     * multiple of four, so it stays in phase word after word. Loads and
     * stores go through memcpy, unaligned: on x86-64 and arm64 that costs
     * nothing, and a byte-wise prologue to align dst cost more than the
     * XORs of a small payload. */
    uint32_t k32;
    memcpy(&k32, key, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* Key byte k to the lowest address: the low byte, little-endian. */
    if (k != 0)
      k32 = (k32 >> (8 * k)) | (k32 << (32 - 8 * k));
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    if (k != 0)
      k32 = (k32 << (8 * k)) | (k32 >> (32 - 8 * k));
#else
    const unsigned char kb[4] = {key[k], key[(k + 1) & 3], key[(k + 2) & 3],
                                 key[(k + 3) & 3]};
    memcpy(&k32, kb, 4);
#endif
    uint64_t km;
    const uint32_t kw[2] = {k32, k32};
    memcpy(&km, kw, 8);
    for (; len - i >= 32; i += 32) {
      uint64_t w0, w1, w2, w3;
      memcpy(&w0, s + i, 8);
      memcpy(&w1, s + i + 8, 8);
      memcpy(&w2, s + i + 16, 8);
      memcpy(&w3, s + i + 24, 8);
      w0 ^= km;
      w1 ^= km;
      w2 ^= km;
      w3 ^= km;
      memcpy(d + i, &w0, 8);
      memcpy(d + i + 8, &w1, 8);
      memcpy(d + i + 16, &w2, 8);
      memcpy(d + i + 24, &w3, 8);
    }
    for (; len - i >= 8; i += 8) {
      uint64_t w;
      memcpy(&w, s + i, 8);
      w ^= km;
      memcpy(d + i, &w, 8);
    }
  }
  /* i is a multiple of 8 here, so key byte (k + i) % 4 is in phase. */
  for (; i < len; i++)
    d[i] = s[i] ^ key[(k + i) & 3];
}

void wire_ws_mask(char *buf, size_t len, const uint8_t key[4], uint64_t pos)
{
  wire_ws_mask_copy(buf, buf, len, key, pos);
}

/* ---- encoding ---- */

size_t wire_ws_header_size(uint64_t len, int masked)
{
  size_t n = len < 126 ? 2 : len <= 0xffff ? 4 : 10;
  return masked ? n + 4 : n;
}

size_t wire_ws_header_write(char *out, unsigned flags, unsigned opcode,
                            uint64_t len, const uint8_t *mask_key)
{
  assert(opcode < 16 && (flags & ~0xf0u) == 0);
  assert(len < (UINT64_C(1) << 63));
  assert(!wire_ws_is_control(opcode) ||
         (len <= WIRE_WS_MAX_CONTROL && (flags & WIRE_WS_FIN)));
  unsigned char *o = (unsigned char *)out;
  unsigned char m = mask_key != NULL ? 0x80 : 0;
  size_t n;
  o[0] = (unsigned char)(flags | opcode);
  /* RFC 6455 5.2: the minimal number of bytes MUST be used. */
  if (len < 126) {
    o[1] = (unsigned char)(m | len);
    n = 2;
  } else if (len <= 0xffff) {
    o[1] = m | 126;
    o[2] = (unsigned char)(len >> 8);
    o[3] = (unsigned char)len;
    n = 4;
  } else {
    o[1] = m | 127;
    for (int i = 0; i < 8; i++)
      o[2 + i] = (unsigned char)(len >> (56 - 8 * i));
    n = 10;
  }
  if (mask_key != NULL) {
    memcpy(o + n, mask_key, 4);
    n += 4;
  }
  return n;
}

size_t wire_ws_frame_write(char *out, size_t cap, unsigned flags,
                           unsigned opcode, const char *payload, size_t len,
                           const uint8_t *mask_key)
{
  size_t h = wire_ws_header_size(len, mask_key != NULL);
  if (cap < h || cap - h < len)
    return 0;
  wire_ws_header_write(out, flags, opcode, len, mask_key);
  if (len > 0) {
    if (mask_key != NULL)
      wire_ws_mask_copy(out + h, payload, len, mask_key, 0);
    else
      memcpy(out + h, payload, len);
  }
  return h + len;
}

/* ---- close payloads ---- */

int wire_ws_close_code_valid(unsigned code)
{
  /* RFC 6455 7.4.2: 3000-3999 are registered by libraries and frameworks,
   * 4000-4999 private. */
  if (code >= 3000 && code <= 4999)
    return 1;
  /* RFC 6455 7.4.1 defines 1000-1003 and 1007-1011; 1004 is reserved;
   * 1005, 1006 and 1015 MUST NOT be set in a close frame. IANA registered
   * 1012 (service restart), 1013 (try again later) and 1014 (bad gateway)
   * since, and browsers and the ws package accept them. The rest of
   * 1016-2999 is reserved for future standards: not valid today. */
  if (code >= 1000 && code <= 1003)
    return 1;
  return code >= 1007 && code <= 1014;
}

int wire_ws_close_payload(char *out, unsigned code, const char *reason,
                          size_t reason_len)
{
  if (code == 0)
    return reason_len == 0 ? 0 : WIRE_EINVAL;
  if (!wire_ws_close_code_valid(code) || reason_len > WIRE_WS_MAX_REASON)
    return WIRE_EINVAL;
  /* RFC 6455 5.5.1: the reason is UTF-8. */
  if (!wire_utf8_is_valid(reason, reason_len))
    return WIRE_EINVAL;
  out[0] = (char)(code >> 8);
  out[1] = (char)(code & 0xff);
  if (reason_len > 0)
    memcpy(out + 2, reason, reason_len);
  return (int)(2 + reason_len);
}

wire_ws_error_t wire_ws_close_parse(const char *payload, size_t len,
                                    unsigned *code, const char **reason,
                                    size_t *reason_len)
{
  unsigned c = WIRE_WS_CLOSE_NO_STATUS;
  if (len > WIRE_WS_MAX_CONTROL)
    return WIRE_WS_E_CONTROL_TOO_BIG;
  if (len == 1)
    return WIRE_WS_E_CLOSE_ONE_BYTE;
  if (len >= 2) {
    c = ((unsigned)(unsigned char)payload[0] << 8) | (unsigned char)payload[1];
    if (!wire_ws_close_code_valid(c))
      return WIRE_WS_E_INVALID_CLOSE_CODE;
    if (!wire_utf8_is_valid(payload + 2, len - 2))
      return WIRE_WS_E_INVALID_CLOSE_REASON;
  }
  if (code != NULL)
    *code = c;
  if (reason != NULL)
    *reason = len > 2 ? payload + 2 : payload;
  if (reason_len != NULL)
    *reason_len = len > 2 ? len - 2 : 0;
  return WIRE_WS_E_OK;
}

/* ---- decoding ---- */

void wire_ws_decoder_init(wire_ws_decoder_t *d, wire_ws_role_t role,
                          unsigned rsv,
                          const wire_ws_decoder_settings_t *settings)
{
  assert(role == WIRE_WS_SERVER || role == WIRE_WS_CLIENT);
  assert((rsv & ~(unsigned)(WIRE_WS_RSV1 | WIRE_WS_RSV2 | WIRE_WS_RSV3)) == 0);
  memset(d, 0, sizeof(*d));
  d->settings = settings;
  d->role = (uint8_t)role;
  d->rsv = (uint8_t)rsv;
  d->state = S_HDR0;
}

int wire_ws_decoder_idle(const wire_ws_decoder_t *d)
{
  return (d->state == S_HDR0 && !d->in_message) || d->state == S_CLOSED;
}

static uint64_t max_message(const wire_ws_decoder_settings_t *s)
{
  if (s == NULL || s->max_message == 0)
    return WIRE_WS_DEFAULT_MAX_MESSAGE;
  return s->max_message;
}

static uint64_t max_frame(const wire_ws_decoder_settings_t *s)
{
  if (s == NULL || s->max_frame == 0)
    return max_message(s);
  return s->max_frame;
}

/* Checks the first header byte; returns an error or 0. */
static unsigned check_hdr0(wire_ws_decoder_t *d, unsigned char b)
{
  unsigned flags = b & 0xf0u;
  unsigned op = b & 0x0fu;
  /* RFC 6455 5.2: RSV1-3 MUST be 0 unless an extension defines them. */
  if ((flags & (WIRE_WS_RSV1 | WIRE_WS_RSV2 | WIRE_WS_RSV3) & ~d->rsv) != 0)
    return WIRE_WS_E_RESERVED_BITS;
  /* RFC 6455 5.2: an unknown opcode fails the connection. */
  if ((op >= 3 && op <= 7) || op >= 11)
    return WIRE_WS_E_RESERVED_OPCODE;
  if (wire_ws_is_control(op)) {
    /* RFC 6455 5.5: control frames MUST NOT be fragmented. */
    if (!(flags & WIRE_WS_FIN))
      return WIRE_WS_E_FRAGMENTED_CONTROL;
    /* RFC 7692 6: no Per-Message Compressed bit on control frames. */
    if (flags & WIRE_WS_RSV1)
      return WIRE_WS_E_COMPRESSED_BIT;
  } else if (op == WIRE_WS_OP_CONTINUATION) {
    /* RFC 6455 5.4: a continuation continues a fragmented message. */
    if (!d->in_message)
      return WIRE_WS_E_UNEXPECTED_CONTINUATION;
    /* RFC 7692 6: nor on non-first fragments. */
    if (flags & WIRE_WS_RSV1)
      return WIRE_WS_E_COMPRESSED_BIT;
  } else if (d->in_message) {
    /* RFC 6455 5.4: the fragments of one message are not interleaved with
     * another message's (only control frames may come in between). */
    return WIRE_WS_E_EXPECTED_CONTINUATION;
  }
  d->flags = (uint8_t)flags;
  d->opcode = (uint8_t)op;
  return 0;
}

/* Checks the payload length once known; returns an error or 0. */
static unsigned check_length(const wire_ws_decoder_t *d)
{
  if (wire_ws_is_control(d->opcode)) {
    /* Longer forms never get here: HDR1 rejects them for control frames. */
    if (d->opcode == WIRE_WS_OP_CLOSE && d->length == 1)
      return WIRE_WS_E_CLOSE_ONE_BYTE; /* RFC 6455 5.5.1: code first */
    return 0;
  }
  /* The message cap first: with no frame cap of its own, a frame over
   * it is a message over it. */
  const wire_ws_decoder_settings_t *s = d->settings;
  uint64_t so_far =
      d->opcode == WIRE_WS_OP_CONTINUATION ? d->message_length : 0;
  uint64_t cap = max_message(s);
  if (so_far > cap || d->length > cap - so_far)
    return WIRE_WS_E_MESSAGE_TOO_BIG;
  if (d->length > max_frame(s))
    return WIRE_WS_E_FRAME_TOO_BIG;
  return 0;
}

/* Whether this frame's payload is text the decoder validates. */
static int checks_text(const wire_ws_decoder_t *d)
{
  if (wire_ws_is_control(d->opcode) || d->message_opcode != WIRE_WS_OP_TEXT)
    return 0;
  /* A compressed message's text is checked after inflating, by the ws
   * layer (RFC 7692 6.2). */
  if (d->compressed)
    return 0;
  return d->settings == NULL || !(d->settings->options & WIRE_WS_OPT_NO_UTF8);
}

/* Checks n plain (unmasked) payload bytes that start at payload offset pos.
 * Returns n, or the index of the first bad byte with *why set. */
static size_t check_plain(wire_ws_decoder_t *d, const unsigned char *b,
                          size_t n, uint64_t pos, unsigned *why)
{
  if (d->opcode == WIRE_WS_OP_CLOSE) {
    size_t i = 0;
    /* RFC 6455 5.5.1: the first two bytes are the code (7.4). */
    for (; i < n && pos + i < 2; i++) {
      d->close_code = (uint16_t)((d->close_code << 8) | b[i]);
      if (pos + i == 1 && !wire_ws_close_code_valid(d->close_code)) {
        *why = WIRE_WS_E_INVALID_CLOSE_CODE;
        return i;
      }
    }
    wire_utf8_t u = {d->reason_utf8};
    size_t k = wire_utf8_validate(&u, (const char *)b + i, n - i);
    d->reason_utf8 = u.state;
    if (k < n - i) {
      *why = WIRE_WS_E_INVALID_CLOSE_REASON;
      return i + k;
    }
    return n;
  }
  if (checks_text(d)) {
    wire_utf8_t u = {d->utf8};
    size_t k = wire_utf8_validate(&u, (const char *)b, n);
    d->utf8 = u.state;
    if (k < n) {
      *why = WIRE_WS_E_INVALID_UTF8;
      return k;
    }
  }
  return n;
}

/* Whether payload bytes need checking at all. */
static int needs_check(const wire_ws_decoder_t *d)
{
  return d->opcode == WIRE_WS_OP_CLOSE || checks_text(d);
}

/* check_plain() for bytes that are still masked (raw mode): unmasks them
 * into a small buffer, piece by piece. */
static size_t check_masked(wire_ws_decoder_t *d, const unsigned char *b,
                           size_t n, uint64_t pos, unsigned *why)
{
  unsigned char tmp[256];
  size_t done = 0;
  while (done < n) {
    size_t k = n - done < sizeof(tmp) ? n - done : sizeof(tmp);
    wire_ws_mask_copy((char *)tmp, (const char *)b + done, k, d->mask_key,
                      pos + done);
    size_t ok = check_plain(d, tmp, k, pos + done, why);
    if (ok < k)
      return done + ok;
    done += k;
  }
  return n;
}

/* Calls a notification; returns 0 to go on, 1 to pause, or an error. */
static int notify(wire_ws_decoder_t *d, wire_ws_cb cb)
{
  if (cb == NULL)
    return 0;
  int rc = cb(d);
  if (rc < 0)
    return rc;
  return rc == WIRE_WS_CB_PAUSE ? 1 : 0;
}

static int deliver(wire_ws_decoder_t *d, const char *at, size_t n)
{
  const wire_ws_decoder_settings_t *s = d->settings;
  if (s == NULL || s->on_payload == NULL || n == 0)
    return 0;
  int rc = s->on_payload(d, at, n);
  if (rc < 0)
    return rc;
  return rc == WIRE_WS_CB_PAUSE ? 1 : 0;
}

/* The frame header is complete: set up the payload and the message. */
static void header_done(wire_ws_decoder_t *d)
{
  d->remaining = d->length;
  d->payload_off = 0;
  if (!wire_ws_is_control(d->opcode)) {
    if (d->opcode != WIRE_WS_OP_CONTINUATION) {
      d->message_opcode = d->opcode;
      d->compressed = (d->flags & WIRE_WS_RSV1) != 0;
      d->message_length = d->length;
      d->utf8 = WIRE_UTF8_ACCEPT;
    } else {
      d->message_length += d->length;
    }
    d->in_message = !(d->flags & WIRE_WS_FIN);
  } else if (d->opcode == WIRE_WS_OP_CLOSE) {
    d->close_code = 0;
    d->reason_utf8 = WIRE_UTF8_ACCEPT;
  }
  d->state = S_PAYLOAD;
}

/* The frame's payload is all here: checks what can only be checked at the
 * end. Returns an error or 0. */
static unsigned frame_end_check(wire_ws_decoder_t *d)
{
  if (d->opcode == WIRE_WS_OP_CLOSE) {
    if (d->length == 0)
      d->close_code = WIRE_WS_CLOSE_NO_STATUS; /* RFC 6455 7.1.5 */
    else if (d->reason_utf8 != WIRE_UTF8_ACCEPT)
      return WIRE_WS_E_INVALID_CLOSE_REASON;
    return 0;
  }
  /* RFC 6455 8.1: a text message is UTF-8 as a whole: it may not end
   * inside a character. */
  if ((d->flags & WIRE_WS_FIN) && checks_text(d) && d->utf8 != WIRE_UTF8_ACCEPT)
    return WIRE_WS_E_INVALID_UTF8;
  return 0;
}

/* Whether the frame at p (two bytes or more before end) takes the fast
 * path: final, no RSV bit, text or binary, outside a fragmented message,
 * masked as the role says, a 7-bit length within the limits, no bytes the
 * decoder must check (binary, or text with WIRE_WS_OPT_NO_UTF8), and all
 * of it before end. Sets d->flags, opcode, masked and length if so. */
static int fast_frame(wire_ws_decoder_t *d, const unsigned char *p,
                      const unsigned char *end)
{
  unsigned b0 = p[0], b1 = p[1];
  unsigned op = b0 & 0x0fu;
  if ((b0 & 0xf0u) != WIRE_WS_FIN || d->in_message)
    return 0;
  if (op != WIRE_WS_OP_BINARY) {
    const wire_ws_decoder_settings_t *s = d->settings;
    if (op != WIRE_WS_OP_TEXT || s == NULL ||
        !(s->options & WIRE_WS_OPT_NO_UTF8))
      return 0;
  }
  unsigned masked = b1 >> 7;
  if (masked != (d->role == WIRE_WS_SERVER))
    return 0;
  unsigned n7 = b1 & 0x7fu;
  size_t hl = masked ? 6 : 2;
  if (n7 >= 126 || (size_t)(end - p) < hl + n7)
    return 0;
  d->flags = WIRE_WS_FIN;
  d->opcode = (uint8_t)op;
  d->masked = (uint8_t)masked;
  d->length = n7;
  /* Over a limit: the states below report it, at its byte. */
  return check_length(d) == 0;
}

/* The engine behind both execute calls. out is where unmasked payload goes
 * (data itself for execute, NULL for execute_raw). */
static int run(wire_ws_decoder_t *d, const char *data, char *out, size_t len,
               size_t *nread)
{
  if (data == NULL) {
    /* len is 0: NULL + 0 is undefined in C, so point at something. */
    data = "";
    out = NULL;
  }
  const unsigned char *in = (const unsigned char *)data;
  const unsigned char *p = in;
  const unsigned char *end = in + len;
  const uint64_t base = d->offset;
  const wire_ws_decoder_settings_t *s = d->settings;
  unsigned why = 0;
  int rc = 0;

  if (d->state == S_DEAD) {
    *nread = 0;
    return d->error_code;
  }
  for (;;) {
    switch (d->state) {
    case S_CLOSED:
      if (p == end)
        goto done;
      why = WIRE_WS_E_AFTER_CLOSE;
      goto fail;

    case S_HDR0:
      if (p == end)
        goto done;
      if (end - p >= 2 && fast_frame(d, p, end)) {
        /* A whole, final data frame with a 7-bit length (what an echo
         * gets most): fast_frame ran the checks of HDR0 and HDR1 on it,
         * and they pass. The same steps as the states below, in one go;
         * the callbacks see the same fields and offsets. */
        size_t n = (size_t)d->length;
        p += d->masked ? 6 : 2;
        if (d->masked)
          memcpy(d->mask_key, p - 4, 4);
        d->idx = 0;
        header_done(d);
        d->offset = base + (uint64_t)(p - in);
        rc = notify(d, s != NULL ? s->on_frame_header : NULL);
        if (rc < 0)
          goto cb_fail;
        if (rc > 0)
          goto done;
        if (n == 0)
          goto frame_end;
        const char *view = (const char *)p;
        if (out != NULL) {
          char *w = out + (p - in);
          if (d->masked)
            wire_ws_mask(w, n, d->mask_key, 0);
          view = w;
        }
        d->remaining = 0;
        p += n;
        d->offset = base + (uint64_t)(p - in);
        rc = deliver(d, view, n);
        d->payload_off = n;
        if (rc < 0)
          goto cb_fail;
        if (rc > 0)
          goto done;
        goto frame_end;
      }
      why = check_hdr0(d, *p);
      if (why != 0)
        goto fail;
      p++;
      d->state = S_HDR1;
      /* fall through */

    case S_HDR1: {
      if (p == end)
        goto done;
      unsigned char b = *p;
      d->masked = b >> 7;
      /* RFC 6455 5.1: a client masks every frame, a server none. */
      if (d->role == WIRE_WS_SERVER && !d->masked) {
        why = WIRE_WS_E_MASK_REQUIRED;
        goto fail;
      }
      if (d->role == WIRE_WS_CLIENT && d->masked) {
        why = WIRE_WS_E_MASK_FORBIDDEN;
        goto fail;
      }
      unsigned n7 = b & 0x7fu;
      /* RFC 6455 5.5: control payloads are at most 125 bytes, so a control
       * frame never has an extended length. */
      if (wire_ws_is_control(d->opcode) && n7 > WIRE_WS_MAX_CONTROL) {
        why = WIRE_WS_E_CONTROL_TOO_BIG;
        goto fail;
      }
      d->idx = 0;
      if (n7 < 126) {
        d->length = n7;
        why = check_length(d);
        if (why != 0)
          goto fail;
        p++;
        if (d->masked) {
          d->state = S_MASK;
          /* The common case, the whole key here: no trip per byte. */
          if (end - p >= 4) {
            memcpy(d->mask_key, p, 4);
            p += 4;
            goto header_complete;
          }
          break;
        }
        goto header_complete;
      }
      p++;
      d->length = 0;
      d->nlen = n7 == 126 ? 2 : 8;
      d->idx = d->nlen;
      d->state = S_LEN;
      break;
    }

    case S_LEN:
      while (d->idx > 0) {
        if (p == end)
          goto done;
        /* RFC 6455 5.2: the most significant bit of a 64-bit length MUST
         * be 0. */
        if (d->idx == 8 && (*p & 0x80)) {
          why = WIRE_WS_E_LENGTH_OVERFLOW;
          goto fail;
        }
        d->length = (d->length << 8) | *p;
        if (--d->idx > 0) {
          p++;
          continue;
        }
        /* The last length byte: the errors point at it. RFC 6455 5.2:
         * "the minimal number of bytes MUST be used to encode the
         * length". */
        int lax = s != NULL && (s->options & WIRE_WS_OPT_LAX_LENGTH);
        if (!lax &&
            (d->length < 126 || (d->nlen == 8 && d->length <= 0xffff))) {
          why = WIRE_WS_E_NONMINIMAL_LENGTH;
          goto fail;
        }
        why = check_length(d);
        if (why != 0)
          goto fail;
        p++;
      }
      if (d->masked) {
        d->state = S_MASK;
        if (end - p >= 4) {
          memcpy(d->mask_key, p, 4);
          p += 4;
          goto header_complete;
        }
        break;
      }
      goto header_complete;

    case S_MASK:
      while (d->idx < 4) {
        if (p == end)
          goto done;
        d->mask_key[d->idx++] = *p++;
      }
      goto header_complete;

    case S_PAYLOAD: {
      if (d->remaining == 0)
        goto frame_end;
      if (p == end)
        goto done;
      size_t avail = (size_t)(end - p);
      size_t n = d->remaining < avail ? (size_t)d->remaining : avail;
      size_t ok = n;
      const char *view;
      if (out != NULL) {
        char *w = out + (p - in);
        if (d->masked)
          wire_ws_mask(w, n, d->mask_key, d->payload_off);
        view = w;
        if (needs_check(d))
          ok =
              check_plain(d, (const unsigned char *)w, n, d->payload_off, &why);
      } else {
        view = (const char *)p;
        if (needs_check(d)) {
          if (d->masked)
            ok = check_masked(d, p, n, d->payload_off, &why);
          else
            ok = check_plain(d, p, n, d->payload_off, &why);
        }
      }
      if (ok < n) {
        /* Hand out the good bytes before the bad one, so that what was
         * handed out does not depend on how the input was split. */
        d->remaining -= ok;
        d->offset = base + (uint64_t)(p - in) + ok;
        rc = deliver(d, view, ok);
        if (rc < 0)
          goto cb_fail;
        d->payload_off += ok;
        p += ok;
        goto fail;
      }
      d->remaining -= n;
      p += n;
      d->offset = base + (uint64_t)(p - in);
      rc = deliver(d, view, n);
      d->payload_off += n;
      if (rc < 0)
        goto cb_fail;
      if (rc > 0)
        goto done;
      break;
    }

    default:
      assert(0 && "bad decoder state");
      goto done;
    }
    continue;

  header_complete:
    header_done(d);
    d->offset = base + (uint64_t)(p - in);
    rc = notify(d, s != NULL ? s->on_frame_header : NULL);
    if (rc < 0)
      goto cb_fail;
    if (rc > 0)
      goto done;
    continue;

  frame_end:
    why = frame_end_check(d);
    if (why != 0)
      goto fail_end;
    if (d->opcode == WIRE_WS_OP_CLOSE) {
      d->closed = 1;
      d->state = S_CLOSED;
    } else {
      d->state = S_HDR0;
    }
    d->offset = base + (uint64_t)(p - in);
    rc = notify(d, s != NULL ? s->on_frame_end : NULL);
    if (rc < 0)
      goto cb_fail;
    if (rc > 0)
      goto done;
    continue;
  }

done:
  d->offset = base + (uint64_t)(p - in);
  *nread = (size_t)(p - in);
  return 0;

fail_end:
  /* Found at the end of the frame: the frame is consumed, and the error
   * is reported where it ends. */
fail:
  d->offset = base + (uint64_t)(p - in);
  d->error_offset = d->offset;
  d->error = (uint8_t)why;
  d->error_code = wire_ws_error_code(why);
  d->state = S_DEAD;
  *nread = (size_t)(p - in);
  return d->error_code;

cb_fail:
  d->offset = base + (uint64_t)(p - in);
  d->error_offset = d->offset;
  d->error = WIRE_WS_E_CALLBACK;
  d->error_code = rc;
  d->state = S_DEAD;
  *nread = (size_t)(p - in);
  return rc;
}

int wire_ws_decoder_execute(wire_ws_decoder_t *d, char *data, size_t len,
                            size_t *nread)
{
  return run(d, data, data, len, nread);
}

int wire_ws_decoder_execute_raw(wire_ws_decoder_t *d, const char *data,
                                size_t len, size_t *nread)
{
  return run(d, data, NULL, len, nread);
}
