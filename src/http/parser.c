/* The HTTP/1.1 parser (RFC 9112 syntax, RFC 9110 semantics), for requests
 * and responses. See parser.h for the interface and docs/http-parser.md for
 * the rules it enforces.
 *
 * Structure: one explicit state machine, one switch inside one loop over
 * the input. Each state handles as many bytes as it can at once: spans of
 * field values, request targets, reason phrases and Host values are
 * scanned sixteen bytes at a time with SSE2 (eight or four at a time with
 * plain words or table lookups elsewhere), field names and methods with a
 * table loop, bodies not at all (they are handed out as views). Nothing is
 * copied and nothing is allocated; a value split across calls is handed
 * out in pieces.
 *
 * The usual request head, whole in the buffer, takes a short way through
 * the same states: a state that finished its element jumps straight to
 * the next one; the common shapes ("GET ", "/target HTTP/1.1\r\n", a name
 * whole up to its colon, one SP before a value, a plain Host value, an
 * HTTP/1.1 request without body or close) are recognised by word compares
 * and single scans; and a bodiless message completes and the next
 * pipelined one starts without going round the loop. Each short way sets
 * the state the long way would before every callback, and gives up at
 * once (to the long way, from the same byte) on anything else or at the
 * end of the buffer. In head mode (settings.on_head), where no callback
 * fires inside a head, usual_head() goes further: it parses a whole head
 * of the usual shape in one pass, with no state changes, and gives up
 * the head whole (the long way starts again from its first byte, as if
 * usual_head had not run) on anything else.
 *
 * A few fields matter for the message framing (Content-Length,
 * Transfer-Encoding, Connection, Host, Upgrade, Expect). A name whole in
 * the buffer is recognised by its length and a word compare; a split one
 * by a small incremental matcher (a bitmask of candidates). Their values
 * are checked as they go by, so nothing of them needs to be kept either.
 *
 * Invariants: the state after a byte does not depend on where the input
 * was split, so whole, byte-by-byte and randomly split input give the
 * same callbacks and the same result (the tests and the fuzzer check
 * this). Every byte is looked at once, but for the request target, field
 * name or Host value that a short way gave up on (at the end of a buffer
 * or of the head budget), and the head usual_head() gave up on (looked at
 * twice at most). Bytes of the head (start line, header section,
 * trailer section) count against max_header_size as they are consumed; a
 * state never uses a byte past `lim`, the end of the head budget (the Host
 * scan may load bytes past it, never past the buffer).
 *
 * Life: init -> (message begin -> start line -> fields -> headers complete
 * -> body -> message complete)* -> CLOSED (no keep-alive, or finish()) or
 * STOPPED (upgrade). Any error -> DEAD, where every call returns the error
 * again. */
#include "parser.h"

#include <string.h>

/* For the small helpers of the hot path that the compiler would otherwise
 * call (they are used in more than one place). */
#define HOT_INLINE inline __attribute__((always_inline))

#if defined(__SSE2__) && !defined(WIRE_HTTP_PARSER_NO_SIMD)
#include <emmintrin.h>
#define USE_SSE2 1
#else
#define USE_SSE2 0
#endif

enum {
  S_DEAD = 0,
  S_CLOSED,   /* no more messages: only stray CR/LF allowed */
  S_STOPPED,  /* after an upgrade */
  S_MSG_DONE, /* message complete; on_message_complete not called yet */
  S_BODY_IDENTITY,
  S_BODY_EOF,
  S_CHUNK_SIZE_START,
  S_CHUNK_SIZE,
  S_CHUNK_EXT,
  S_CHUNK_SIZE_LF,
  S_CHUNK_DATA,
  S_CHUNK_DATA_CR,
  S_CHUNK_DATA_LF,
  /* The head states: their bytes count against max_header_size. */
  S_START,
  S_START_LF,
  S_REQ_METHOD,
  S_REQ_URL_START,
  S_REQ_URL,
  S_REQ_VERSION,
  S_REQ_LINE_LF,
  S_RES_VERSION,
  S_RES_STATUS,
  S_RES_REASON,
  S_RES_LINE_LF,
  S_FIELD_START,
  S_FIELD_NAME,
  S_VALUE_OWS,
  S_VALUE,
  S_VALUE_LF,
  S_HEAD_END_LF
};

/* Framing fields, recognised by name (hid). */
enum {
  H_CONTENT_LENGTH,
  H_TRANSFER_ENCODING,
  H_CONNECTION,
  H_HOST,
  H_UPGRADE,
  H_EXPECT,
  H_OTHER
};
static const char *const hdr_name[] = {"content-length", "transfer-encoding",
                                       "connection",     "host",
                                       "upgrade",        "expect"};
static const uint8_t hdr_len[] = {14, 17, 10, 4, 7, 6};
#define H_ALL 0x3fu

/* List elements we look for in those values. */
enum { E_CHUNKED, E_CLOSE, E_KEEP_ALIVE, E_UPGRADE, E_100_CONTINUE };
static const char *const elem_name[] = {"chunked", "close", "keep-alive",
                                        "upgrade", "100-continue"};
static const uint8_t elem_len[] = {7, 5, 10, 7, 12};

/* vstate for Content-Length and Host values. */
enum { V_EMPTY, V_DIGITS, V_WS };
/* vstate for list values (Transfer-Encoding, Connection, Expect). */
enum { L_OWS, L_TOKEN, L_AFTER, L_PARAM, L_QUOTE, L_QESC, L_BAD };
#define L_PARAMS_SEEN 0x80u /* or'ed into vstate once ';' was seen */

/* te bits. */
enum {
  TE_ANY = 1,          /* at least one coding */
  TE_CHUNKED_SEEN = 2, /* chunked was listed */
  TE_LAST_CHUNKED = 4, /* ... and is the last coding so far */
  TE_OTHER = 8         /* another coding */
};

/* Chunk extension sub-states (in idx while in S_CHUNK_EXT; RFC 9112 7.1.1:
 * chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )). */
enum {
  X_BWS_SEMI,   /* after the size or a value: BWS, then ';' */
  X_NAME_START, /* after ';': BWS, then a token */
  X_NAME,
  X_AFTER_NAME, /* BWS after a name: '=' or ';' */
  X_VAL_START,  /* after '=': BWS, then a token or a quoted-string */
  X_VAL_TOKEN,
  X_QUOTED,
  X_QUOTED_ESC,
  X_AFTER_QUOTED
};

/* tchar (RFC 9110 5.6.2): "!#$%&'*+-.^_`|~", DIGIT, ALPHA. Shared with
 * the server and client, which check the names they are given. */
#define tchar wire_http_tchar
const uint8_t wire_http_tchar[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
    ['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1,
    ['`'] = 1, ['|'] = 1, ['~'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1,
    ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1,
    ['9'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1,
    ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1,
    ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1,
    ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1,
    ['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1,
    ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1,
    ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1,
    ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1,
    ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

/* Host value characters: uri-host [ ":" port ] (RFC 3986 3.2.2: unreserved,
 * pct-encoded, sub-delims, and the brackets and colons of IP literals). */
static const uint8_t hostchar[256] = {
    ['!'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['('] = 1,
    [')'] = 1, ['*'] = 1, ['+'] = 1, [','] = 1, ['-'] = 1,  ['.'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1,  ['5'] = 1,
    ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, [':'] = 1,  [';'] = 1,
    ['='] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1,  ['E'] = 1,
    ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1,  ['K'] = 1,
    ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,  ['Q'] = 1,
    ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1,  ['W'] = 1,
    ['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['['] = 1, [']'] = 1,  ['_'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1,  ['f'] = 1,
    ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1,  ['l'] = 1,
    ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1,  ['r'] = 1,
    ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1,  ['x'] = 1,
    ['y'] = 1, ['z'] = 1, ['~'] = 1,
};

static const wire_http_parser_settings_t no_settings;

static const char *const method_text[] = {"",
#define METHOD_TEXT_(name, text) text,
                                          WIRE_HTTP_METHOD_MAP(METHOD_TEXT_)
#undef METHOD_TEXT_
};

static const uint8_t method_len[] = {0,
#define METHOD_LEN_(name, text) sizeof(text) - 1,
                                     WIRE_HTTP_METHOD_MAP(METHOD_LEN_)
#undef METHOD_LEN_
};

/* 0..15 for a hex digit, -1 otherwise. */
static int hexval(unsigned char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  c |= 0x20;
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

static int is_ws(unsigned char c)
{
  return c == ' ' || c == '\t';
}

/* Scanners. Each returns the first byte in [p, end) that stops the span,
 * or end; none reads outside [p, end). */

#if !USE_SSE2
#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)
/* Nonzero if a byte of x is below n (n <= 128). */
#define HAS_LESS(x, n) (((x)-ONES * (n)) & ~(x)&HIGHS)
#define HAS_ZERO(x) HAS_LESS(x, 1)
#endif

/* A field value or reason phrase: stops at a CTL other than HTAB (so at CR,
 * LF and NUL) and at DEL. obs-text (0x80-0xff) is allowed. */
static const char *scan_value(const char *p, const char *end)
{
#if USE_SSE2
  const __m128i sp = _mm_set1_epi8(0x20);
  const __m128i tab = _mm_set1_epi8(0x09);
  const __m128i del = _mm_set1_epi8(0x7f);
  const __m128i zero = _mm_setzero_si128();
  while (end - p >= 16) {
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    /* Signed compares: bytes >= 0x80 are negative, so "below 0x20 and not
     * negative" is the CTL range. */
    __m128i ctl =
        _mm_andnot_si128(_mm_cmplt_epi8(x, zero), _mm_cmplt_epi8(x, sp));
    ctl = _mm_andnot_si128(_mm_cmpeq_epi8(x, tab), ctl);
    ctl = _mm_or_si128(ctl, _mm_cmpeq_epi8(x, del));
    unsigned m = (unsigned)_mm_movemask_epi8(ctl);
    if (m != 0)
      return p + __builtin_ctz(m);
    p += 16;
  }
#else
  while (end - p >= 8) {
    uint64_t x;
    memcpy(&x, p, 8);
    if ((HAS_LESS(x, 0x20) | HAS_ZERO(x ^ (ONES * 0x7f))) != 0)
      break; /* a CTL, HTAB or DEL in these 8: the byte loop decides */
    p += 8;
  }
#endif
  for (; p < end; p++) {
    unsigned char c = (unsigned char)*p;
    if ((c < 0x20 && c != '\t') || c == 0x7f)
      break;
  }
  return p;
}

/* A request-target: visible ASCII (0x21-0x7e); stops at anything else. */
static const char *scan_url(const char *p, const char *end)
{
#if USE_SSE2
  const __m128i bang = _mm_set1_epi8(0x21);
  const __m128i del = _mm_set1_epi8(0x7f);
  while (end - p >= 16) {
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    /* Signed: bytes >= 0x80 are negative, so below 0x21 too. */
    __m128i bad = _mm_or_si128(_mm_cmplt_epi8(x, bang), _mm_cmpeq_epi8(x, del));
    unsigned m = (unsigned)_mm_movemask_epi8(bad);
    if (m != 0)
      return p + __builtin_ctz(m);
    p += 16;
  }
#else
  while (end - p >= 8) {
    uint64_t x;
    memcpy(&x, p, 8);
    if ((HAS_LESS(x, 0x21) | HAS_ZERO(x ^ (ONES * 0x7f)) | (x & HIGHS)) != 0)
      break;
    p += 8;
  }
#endif
  for (; p < end; p++) {
    unsigned char c = (unsigned char)*p;
    if (c < 0x21 || c >= 0x7f)
      break;
  }
  return p;
}

/* The full SSE2 test for bytes outside hostchar: below '!' or above '~'
 * (signed compare: 0x80-0xff are negative), '"' '#' '/' '<' '>' '?' '@'
 * '\\' '^' '`' '{' '|' '}' and DEL. Pairs that differ in bit 0 share a
 * compare. Returns the movemask of the bad bytes. */
#if USE_SSE2
static unsigned host_bad(__m128i x)
{
  __m128i even = _mm_and_si128(x, _mm_set1_epi8((char)0xfe));
  __m128i bad = _mm_cmplt_epi8(x, _mm_set1_epi8(0x21));
  bad = _mm_or_si128(bad,
                     _mm_andnot_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(0x7e)),
                                      _mm_cmpgt_epi8(x, _mm_set1_epi8(0x7a))));
  bad = _mm_or_si128(bad, _mm_cmpeq_epi8(even, _mm_set1_epi8(0x22)));
  bad = _mm_or_si128(bad, _mm_cmpeq_epi8(even, _mm_set1_epi8(0x3e)));
  bad = _mm_or_si128(bad, _mm_cmpeq_epi8(x, _mm_set1_epi8(0x2f)));
  bad = _mm_or_si128(bad, _mm_cmpeq_epi8(x, _mm_set1_epi8(0x3c)));
  bad = _mm_or_si128(bad, _mm_cmpeq_epi8(x, _mm_set1_epi8(0x40)));
  bad = _mm_or_si128(bad, _mm_cmpeq_epi8(x, _mm_set1_epi8(0x5c)));
  bad = _mm_or_si128(bad, _mm_cmpeq_epi8(x, _mm_set1_epi8(0x5e)));
  bad = _mm_or_si128(bad, _mm_cmpeq_epi8(x, _mm_set1_epi8(0x60)));
  return (unsigned)_mm_movemask_epi8(bad);
}
#endif

#if USE_SSE2
/* The usual host is letters, digits, '-', '.' and ':' (a name or an IPv4
 * address, and a port): two range compares, each biased so its range
 * starts at -128 ('-' to ':' holds '/' too). Returns the movemask of the
 * bytes outside that. */
static HOT_INLINE unsigned host_unusual(__m128i x)
{
  __m128i num = _mm_cmplt_epi8(_mm_add_epi8(x, _mm_set1_epi8(0x80 - 0x2d)),
                               _mm_set1_epi8((char)(0x80 + 0x3b - 0x2d)));
  num = _mm_andnot_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('/')), num);
  __m128i alpha = _mm_or_si128(x, _mm_set1_epi8(0x20));
  alpha = _mm_cmplt_epi8(_mm_add_epi8(alpha, _mm_set1_epi8(0x80 - 0x61)),
                         _mm_set1_epi8((char)(0x80 + 0x7b - 0x61)));
  return (unsigned)_mm_movemask_epi8(_mm_or_si128(num, alpha)) ^ 0xffff;
}
#endif

/* The first byte of [p, end) outside the usual host characters (see
 * host_unusual), or NULL when fewer than sixteen bytes are left before
 * it: the short way for a Host value; scan_host is the whole rule. */
static HOT_INLINE const char *scan_host_usual(const char *p, const char *end)
{
#if USE_SSE2
  while (end - p >= 16) {
    unsigned m =
        host_unusual(_mm_loadu_si128((const __m128i *)(const void *)p));
    if (m != 0)
      return p + __builtin_ctz(m);
    p += 16;
  }
#else
  (void)p;
  (void)end;
#endif
  return NULL;
}

/* A Host value: the first byte in [p, b) that is not a hostchar, or b.
 * It may read (not use) the bytes of [b, end): the input goes on after a
 * value (with its CR at least), so a short value still takes one load. */
static HOT_INLINE const char *scan_host(const char *p, const char *b,
                                        const char *end)
{
#if USE_SSE2
  while (end - p >= 16 && p < b) {
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    /* The first byte outside the usual characters ends the span when it
     * is no hostchar either (the CR after the value, usually); only an
     * unusual hostchar ('_', '%', an IPv6 literal's brackets) needs the
     * full test. */
    unsigned m = host_unusual(x);
    if (m != 0) {
      const char *q = p + __builtin_ctz(m);
      if (q < b && hostchar[(unsigned char)*q]) {
        m = host_bad(x);
        if (m == 0) {
          p += 16;
          continue;
        }
        q = p + __builtin_ctz(m);
      }
      return q < b ? q : b;
    }
    p += 16;
  }
  if (p > b)
    p = b;
#else
  (void)end;
#endif
  while (b - p >= 4) {
    if (!(hostchar[(unsigned char)p[0]] & hostchar[(unsigned char)p[1]] &
          hostchar[(unsigned char)p[2]] & hostchar[(unsigned char)p[3]]))
      break;
    p += 4;
  }
  while (p < b && hostchar[(unsigned char)*p])
    p++;
  return p;
}

/* A token (field name, method). Tokens are short: a table loop, inlined
 * (it runs once or twice per field line). */
static HOT_INLINE const char *scan_token(const char *p, const char *end)
{
  while (end - p >= 4) {
    if (!tchar[(unsigned char)p[0]])
      return p;
    if (!tchar[(unsigned char)p[1]])
      return p + 1;
    if (!tchar[(unsigned char)p[2]])
      return p + 2;
    if (!tchar[(unsigned char)p[3]])
      return p + 3;
    p += 4;
  }
  while (p < end && tchar[(unsigned char)*p])
    p++;
  return p;
}

/* Narrows the candidate set *mask of names[] (lower case) by the bytes
 * [a, b) at position *idx. ASCII case folding: the names hold only
 * letters, digits and '-', and the input bytes are tchars, so c | 0x20
 * equals a letter only for that letter in either case. */
static void match_names(const char *const *names, uint8_t *mask, uint8_t *idx,
                        const char *a, const char *b)
{
  unsigned m = *mask;
  unsigned i = *idx;
  for (; a < b && m != 0; a++, i++) {
    unsigned c = (unsigned char)*a | 0x20u;
    for (unsigned left = m; left != 0; left &= left - 1) {
      unsigned k = (unsigned)__builtin_ctz(left);
      /* names[k][i] is at most the terminating NUL: a candidate is dropped
       * when the input gets longer than it. */
      if ((unsigned char)names[k][i] != c)
        m &= ~(1u << k);
    }
  }
  *mask = (uint8_t)m;
  *idx = (uint8_t)(i > 255 ? 255 : i);
}

/* The candidate of mask whose length is exactly idx, or -1. */
static int matched(const uint8_t *lens, unsigned mask, unsigned idx)
{
  for (; mask != 0; mask &= mask - 1) {
    unsigned k = (unsigned)__builtin_ctz(mask);
    if (lens[k] == idx)
      return (int)k;
  }
  return -1;
}

/* Method text, packed 5 bits a character (A-Z, '-') into `remaining` while
 * the request line is parsed, so a method split across calls needs no
 * buffer. Longest known method: 11 characters. */
#define METHOD_MAX 12
#define METHOD_BAD UINT64_MAX

static void method_feed(wire_http_parser_t *p, const char *a, const char *b)
{
  uint64_t code = p->remaining;
  unsigned n = p->idx;
  for (; a < b && code != METHOD_BAD; a++, n++) {
    unsigned char c = (unsigned char)*a;
    unsigned v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A' + 1;
    else if (c == '-')
      v = 27;
    else
      v = 0;
    if (v == 0 || n >= METHOD_MAX)
      code = METHOD_BAD;
    else
      code = (code << 5) | v;
  }
  p->remaining = code;
  p->idx = (uint8_t)(n > 255 ? 255 : n);
}

/* The method spelled by [a, a + n) (case-sensitive, RFC 9110 9.1). */
static unsigned method_find(const char *a, size_t n)
{
  for (unsigned m = 1; m < WIRE_HTTP_METHOD_COUNT_; m++) {
    if (method_len[m] == n && method_text[m][0] == a[0] &&
        memcmp(method_text[m], a, n) == 0)
      return m;
  }
  return WIRE_HTTP_METHOD_OTHER;
}

/* The method packed by method_feed(). */
static unsigned method_lookup(const wire_http_parser_t *p)
{
  if (p->remaining == METHOD_BAD || p->idx == 0)
    return WIRE_HTTP_METHOD_OTHER;
  char buf[METHOD_MAX];
  unsigned n = p->idx;
  uint64_t code = p->remaining;
  for (unsigned i = n; i-- > 0;) {
    unsigned v = (unsigned)(code & 31);
    code >>= 5;
    buf[i] = (char)(v == 27 ? '-' : 'A' + v - 1);
  }
  return method_find(buf, n);
}

static uint32_t load32(const char *a)
{
  uint32_t x;
  memcpy(&x, a, 4);
  return x;
}

static uint16_t load16(const char *a)
{
  uint16_t x;
  memcpy(&x, a, 2);
  return x;
}

static uint64_t load64(const char *a)
{
  uint64_t x;
  memcpy(&x, a, 8);
  return x;
}

/* Whether [a, a + n) equals the lower-case name (n >= 4, the length of
 * every name compared here), ignoring ASCII case: four or eight bytes at a
 * time, or'ed with 0x20 (the input bytes are tchars: see match_names).
 * The last word overlaps the one before it rather than going past n. */
static HOT_INLINE int ieq(const char *a, const char *name, size_t n)
{
  if (n < 8) {
    const uint32_t low = 0x20202020u;
    return (load32(a) | low) == load32(name) &&
           (load32(a + n - 4) | low) == load32(name + n - 4);
  }
  const uint64_t low = UINT64_C(0x2020202020202020);
  for (size_t i = 0; i + 8 < n; i += 8) {
    if ((load64(a + i) | low) != load64(name + i))
      return 0;
  }
  return (load64(a + n - 8) | low) == load64(name + n - 8);
}

/* A field name whole in one piece: the framing fields have six distinct
 * lengths, so one comparison decides. Returns the H_* it names. */
static HOT_INLINE unsigned name_find(const char *a, size_t n)
{
  switch (n) {
  case 4:
    return ieq(a, "host", 4) ? H_HOST : H_OTHER;
  case 6:
    return ieq(a, "expect", 6) ? H_EXPECT : H_OTHER;
  case 7:
    return ieq(a, "upgrade", 7) ? H_UPGRADE : H_OTHER;
  case 10:
    return ieq(a, "connection", 10) ? H_CONNECTION : H_OTHER;
  case 14:
    return ieq(a, "content-length", 14) ? H_CONTENT_LENGTH : H_OTHER;
  case 17:
    return ieq(a, "transfer-encoding", 17) ? H_TRANSFER_ENCODING : H_OTHER;
  default:
    return H_OTHER;
  }
}

/* One element of a Transfer-Encoding, Connection or Expect list ended
 * (RFC 9110 5.6.1: #element lists, empty elements ignored). Returns an
 * error reason or 0. */
static int list_element(wire_http_parser_t *p)
{
  int params = (p->vstate & L_PARAMS_SEEN) != 0;
  int k = matched(elem_len, p->vmask, p->vidx);
  p->vstate = L_OWS;
  switch (p->hid) {
  case H_TRANSFER_ENCODING:
    p->te |= TE_ANY;
    if (k == E_CHUNKED && !params) {
      /* RFC 9112 7: a sender MUST NOT apply chunked more than once. */
      if (p->te & TE_CHUNKED_SEEN)
        return WIRE_HTTP_E_INVALID_TRANSFER_ENCODING;
      p->te |= TE_CHUNKED_SEEN | TE_LAST_CHUNKED;
    } else {
      p->te = (uint8_t)((p->te & ~TE_LAST_CHUNKED) | TE_OTHER);
    }
    break;
  case H_CONNECTION:
    if (k == E_CLOSE)
      p->flags |= WIRE_HTTP_F_CONNECTION_CLOSE;
    else if (k == E_KEEP_ALIVE)
      p->flags |= WIRE_HTTP_F_CONNECTION_KEEP_ALIVE;
    else if (k == E_UPGRADE)
      p->flags |= WIRE_HTTP_F_CONNECTION_UPGRADE;
    break;
  case H_EXPECT:
    /* RFC 9110 10.1.1: 100-continue has no parameters. */
    if (k == E_100_CONTINUE && !params)
      p->flags |= WIRE_HTTP_F_EXPECT_CONTINUE;
    else
      p->flags |= WIRE_HTTP_F_EXPECT_OTHER;
    break;
  }
  return 0;
}

static uint8_t elem_mask(unsigned hid)
{
  switch (hid) {
  case H_TRANSFER_ENCODING:
    return 1u << E_CHUNKED;
  case H_CONNECTION:
    return (1u << E_CLOSE) | (1u << E_KEEP_ALIVE) | (1u << E_UPGRADE);
  default:
    return 1u << E_100_CONTINUE;
  }
}

/* Checks the bytes [a, b) of a framing field's value (the value scanner
 * has already stopped at CTLs); `ends` says the value ends at b; the input
 * buffer ends at `end` (b <= end). Returns an error reason and sets *bad,
 * or returns 0. */
static int value_feed(wire_http_parser_t *p, const char *a, const char *b,
                      const char *end, int ends, const char **bad)
{
  switch (p->hid) {
  case H_CONTENT_LENGTH:
    /* RFC 9110 8.6: Content-Length = 1*DIGIT. A list ("5, 5") or a sign is
     * rejected; OWS may only follow the digits. */
    for (; a < b; a++) {
      unsigned char c = (unsigned char)*a;
      if (c >= '0' && c <= '9' && p->vstate != V_WS) {
        unsigned d = c - '0';
        if (p->content_length > (UINT64_MAX - d) / 10) {
          *bad = a;
          return WIRE_HTTP_E_INVALID_CONTENT_LENGTH;
        }
        p->content_length = p->content_length * 10 + d;
        p->vstate = V_DIGITS;
      } else if (is_ws(c) && p->vstate != V_EMPTY) {
        p->vstate = V_WS;
      } else {
        *bad = a;
        return WIRE_HTTP_E_INVALID_CONTENT_LENGTH;
      }
    }
    return 0;
  case H_HOST:
    /* RFC 9112 3.2: a Host with an invalid value is a 400. */
    if (p->vstate != V_WS)
      a = scan_host(a, b, end);
    for (; a < b; a++) {
      unsigned char c = (unsigned char)*a;
      if (hostchar[c] && p->vstate != V_WS)
        continue;
      if (is_ws(c)) {
        p->vstate = V_WS;
        continue;
      }
      *bad = a;
      return WIRE_HTTP_E_INVALID_HOST;
    }
    return 0;
  case H_TRANSFER_ENCODING:
  case H_CONNECTION:
  case H_EXPECT:
    for (; a < b; a++) {
      unsigned char c = (unsigned char)*a;
      unsigned st = p->vstate & ~L_PARAMS_SEEN;
      switch (st) {
      case L_OWS:
        if (is_ws(c) || c == ',')
          continue;
        if (tchar[c]) {
          /* A token: match it as one run. */
          const char *run = scan_token(a, b);
          p->vstate = L_TOKEN;
          p->vmask = elem_mask(p->hid);
          p->vidx = 0;
          if (run != b || ends) {
            /* Whole in this piece: compare by length. */
            size_t n = (size_t)(run - a);
            unsigned m = 0;
            for (unsigned left = p->vmask; left != 0; left &= left - 1) {
              unsigned k = (unsigned)__builtin_ctz(left);
              if (elem_len[k] == n && ieq(a, elem_name[k], n))
                m = 1u << k;
            }
            p->vmask = (uint8_t)m;
            p->vidx = (uint8_t)(n > 255 ? 255 : n);
          } else {
            match_names(elem_name, &p->vmask, &p->vidx, a, run);
          }
          a = run - 1;
          continue;
        }
        break;
      case L_TOKEN:
        if (tchar[c]) {
          const char *run = scan_token(a, b);
          match_names(elem_name, &p->vmask, &p->vidx, a, run);
          a = run - 1;
          continue;
        }
        if (is_ws(c)) {
          p->vstate = L_AFTER;
          continue;
        }
        /* fall through */
      case L_AFTER:
        if (is_ws(c))
          continue;
        if (c == ',') {
          int err = list_element(p);
          if (err != 0) {
            *bad = a;
            return err;
          }
          continue;
        }
        if (c == ';') {
          p->vstate = L_PARAM | L_PARAMS_SEEN;
          continue;
        }
        break;
      case L_PARAM:
        /* transfer-parameter / expectation parameters: tokens, '=',
         * OWS and quoted-strings; checked loosely, but a comma inside a
         * quoted-string never ends the element. */
        if (c == ',') {
          int err = list_element(p);
          if (err != 0) {
            *bad = a;
            return err;
          }
          continue;
        }
        if (c == '"') {
          p->vstate = L_QUOTE | L_PARAMS_SEEN;
          continue;
        }
        if (tchar[c] || is_ws(c) || c == '=' || c == ';')
          continue;
        break;
      case L_QUOTE:
        if (c == '\\')
          p->vstate = L_QESC | L_PARAMS_SEEN;
        else if (c == '"')
          p->vstate = L_PARAM | L_PARAMS_SEEN;
        continue;
      case L_QESC:
        p->vstate = L_QUOTE | L_PARAMS_SEEN;
        continue;
      case L_BAD:
        return 0;
      }
      /* Not list syntax. */
      if (p->hid == H_TRANSFER_ENCODING) {
        *bad = a;
        return WIRE_HTTP_E_INVALID_TRANSFER_ENCODING;
      }
      if (p->hid == H_EXPECT)
        p->flags |= WIRE_HTTP_F_EXPECT_OTHER;
      p->vstate = L_BAD;
      return 0;
    }
    return 0;
  default:
    return 0;
  }
}

/* The value of a framing field ended. Returns an error reason or 0. */
static int value_end(wire_http_parser_t *p)
{
  switch (p->hid) {
  case H_CONTENT_LENGTH:
    if (p->vstate == V_EMPTY)
      return WIRE_HTTP_E_INVALID_CONTENT_LENGTH;
    p->flags |= WIRE_HTTP_F_CONTENT_LENGTH;
    return 0;
  case H_TRANSFER_ENCODING:
  case H_CONNECTION:
  case H_EXPECT: {
    unsigned st = p->vstate & ~L_PARAMS_SEEN;
    if (st == L_QUOTE || st == L_QESC) {
      if (p->hid == H_TRANSFER_ENCODING)
        return WIRE_HTTP_E_INVALID_TRANSFER_ENCODING;
      if (p->hid == H_EXPECT)
        p->flags |= WIRE_HTTP_F_EXPECT_OTHER;
      return 0;
    }
    if (st == L_TOKEN || st == L_AFTER || st == L_PARAM)
      return list_element(p);
    return 0;
  }
  default:
    return 0;
  }
}

/* A field name ended (at the colon); k is the H_* it names: note framing
 * fields and reject the duplicates RFC 9112 forbids. Returns an error
 * reason or 0. */
static int name_end(wire_http_parser_t *p, unsigned k)
{
  p->hid = (uint8_t)k;
  p->vstate = 0;
  switch (k) {
  case H_CONTENT_LENGTH:
    /* RFC 9110 8.6 allows merging identical duplicates; like Node, wire
     * rejects any second Content-Length: it is never needed, and a
     * disagreement between two parsers on it is how requests get
     * smuggled. */
    if (p->flags & WIRE_HTTP_F_CONTENT_LENGTH)
      return WIRE_HTTP_E_DUPLICATE_CONTENT_LENGTH;
    p->content_length = 0;
    break;
  case H_HOST:
    /* Host means nothing in a response: not checked there. */
    if (p->type != WIRE_HTTP_REQUEST) {
      p->hid = H_OTHER;
      break;
    }
    /* RFC 9112 3.2: more than one Host field line is a 400. */
    if (p->flags & WIRE_HTTP_F_HOST)
      return WIRE_HTTP_E_DUPLICATE_HOST;
    p->flags |= WIRE_HTTP_F_HOST;
    break;
  case H_TRANSFER_ENCODING:
    /* Several field lines make one list (RFC 9110 5.3). */
    p->flags |= WIRE_HTTP_F_TRANSFER_ENCODING;
    break;
  case H_UPGRADE:
    p->flags |= WIRE_HTTP_F_UPGRADE_HEADER;
    break;
  }
  return 0;
}

/* RFC 9112 9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 only with
 * "keep-alive". */
static int persists(const wire_http_parser_t *p)
{
  uint32_t f = p->flags;
  if (f & WIRE_HTTP_F_CONNECTION_CLOSE)
    return 0;
  return p->http_minor == 1 || (f & WIRE_HTTP_F_CONNECTION_KEEP_ALIVE);
}

/* The header section ended: decide keep-alive and the body length (RFC
 * 9112 6.3) and pick the next state. Returns an error reason or 0. */
static int head_end(wire_http_parser_t *p)
{
  uint32_t f = p->flags;
  int req = p->type == WIRE_HTTP_REQUEST;

  if (req &&
      (f & ~(uint32_t)WIRE_HTTP_F_CONNECTION_KEEP_ALIVE) == WIRE_HTTP_F_HOST &&
      p->http_minor == 1 && p->method != WIRE_HTTP_CONNECT) {
    /* The usual request: HTTP/1.1 with Host, and no field that frames a
     * body, closes or upgrades: what the rules below come to for it. */
    p->flags = f | WIRE_HTTP_F_KEEP_ALIVE;
    p->state = S_MSG_DONE;
    return 0;
  }

  if (f & WIRE_HTTP_F_TRANSFER_ENCODING) {
    /* RFC 9112 6.1: a server MAY reject a request with both; 6.3 (3): such
     * a message "ought to be handled as an error". Both directions. */
    if (f & WIRE_HTTP_F_CONTENT_LENGTH)
      return WIRE_HTTP_E_TE_AND_CONTENT_LENGTH;
    /* RFC 9112 6.1: an HTTP/1.0 message with Transfer-Encoding has faulty
     * framing. */
    if (p->http_minor == 0)
      return WIRE_HTTP_E_INVALID_TRANSFER_ENCODING;
    if (!(p->te & TE_ANY))
      return WIRE_HTTP_E_INVALID_TRANSFER_ENCODING;
    if (req) {
      /* RFC 9112 6.3 (4): in a request, chunked must be the final coding,
       * else 400. */
      if (!(p->te & TE_LAST_CHUNKED))
        return WIRE_HTTP_E_INVALID_TRANSFER_ENCODING;
      /* RFC 9112 6.1: a coding the server does not understand is a 501. */
      if (p->te & TE_OTHER)
        return WIRE_HTTP_E_UNSUPPORTED_TRANSFER_ENCODING;
    } else if (p->te & TE_OTHER) {
      f |= WIRE_HTTP_F_TE_OTHER;
    }
  }
  /* RFC 9112 3.2: an HTTP/1.1 request without Host is a 400. */
  if (req && p->http_minor == 1 && !(f & WIRE_HTTP_F_HOST))
    return WIRE_HTTP_E_MISSING_HOST;

  p->flags = f;
  if (persists(p))
    f |= WIRE_HTTP_F_KEEP_ALIVE;

  if (req) {
    /* RFC 9110 9.3.6: after a CONNECT request's header section the
     * connection is a tunnel. */
    if (p->method == WIRE_HTTP_CONNECT ||
        ((f & WIRE_HTTP_F_UPGRADE_HEADER) &&
         (f & WIRE_HTTP_F_CONNECTION_UPGRADE)))
      f |= WIRE_HTTP_F_UPGRADE;
    if (p->method == WIRE_HTTP_CONNECT) {
      p->upgraded = 1;
      p->state = S_MSG_DONE;
    } else if (p->te & TE_LAST_CHUNKED) {
      f |= WIRE_HTTP_F_CHUNKED;
      p->state = S_CHUNK_SIZE_START;
    } else if (p->content_length > 0) {
      p->remaining = p->content_length;
      p->state = S_BODY_IDENTITY;
    } else {
      /* RFC 9112 6.3 (7): no Content-Length, no Transfer-Encoding: no
       * body. */
      p->state = S_MSG_DONE;
    }
  } else {
    unsigned st = p->status;
    if (st == 101) {
      f |= WIRE_HTTP_F_UPGRADE;
      p->upgraded = 1;
      p->state = S_MSG_DONE;
    } else if (st < 200 || st == 204 || st == 304) {
      /* RFC 9112 6.3 (1): no body, whatever the fields say. */
      f |= WIRE_HTTP_F_SKIP_BODY;
      p->state = S_MSG_DONE;
    } else if (p->te & TE_LAST_CHUNKED) {
      f |= WIRE_HTTP_F_CHUNKED;
      p->state = S_CHUNK_SIZE_START;
    } else if (f & WIRE_HTTP_F_TRANSFER_ENCODING) {
      /* RFC 9112 6.3 (4): chunked not last in a response: read until the
       * server closes. */
      f = (f | WIRE_HTTP_F_EOF_BODY) & ~(uint32_t)WIRE_HTTP_F_KEEP_ALIVE;
      p->state = S_BODY_EOF;
    } else if (f & WIRE_HTTP_F_CONTENT_LENGTH) {
      p->remaining = p->content_length;
      p->state = p->content_length > 0 ? S_BODY_IDENTITY : S_MSG_DONE;
    } else {
      /* RFC 9112 6.3 (8): close-delimited. */
      f = (f | WIRE_HTTP_F_EOF_BODY) & ~(uint32_t)WIRE_HTTP_F_KEEP_ALIVE;
      p->state = S_BODY_EOF;
    }
  }
  p->flags = f;
  return 0;
}

/* A new message starts: reset the per-message fields (but status, which
 * only a response sets: see S_START). */
static void message_begin(wire_http_parser_t *p)
{
  p->flags = 0;
  p->content_length = 0;
  p->remaining = 0;
  p->method = WIRE_HTTP_METHOD_OTHER;
  p->http_major = 0;
  p->http_minor = 0;
  p->idx = 0;
  p->te = 0;
  p->nheaders = 0;
  p->url_bytes = 0;
  p->ext_bytes = 0;
}

void wire_http_parser_init(wire_http_parser_t *p, wire_http_parser_type_t type,
                           const wire_http_parser_settings_t *settings)
{
  memset(p, 0, sizeof(*p));
  p->settings = settings != NULL ? settings : &no_settings;
  p->type = (uint8_t)type;
  p->state = S_START;
}

static size_t limit(size_t v, size_t def)
{
  if (v == 0)
    v = def;
  return v > UINT32_MAX ? UINT32_MAX : v;
}

/* Head mode (settings.on_head): the elements of a request head are noted
 * in a wire_http_head_t as long as each comes whole; head_replay delivers
 * on_message_begin, then what was noted through the piece callbacks, when
 * the head turns out not to be whole in this input. A whole head's
 * on_head stands for on_message_begin. nel counts the elements noted:
 * method, target, then name and value of each field. */
enum { EL_METHOD, EL_URL, EL_NAME, EL_VALUE };

static inline int head_note(wire_http_head_t *h, unsigned *nel, unsigned kind,
                            const char *a, size_t n)
{
  uint32_t off = (uint32_t)(a - h->base);
  wire_http_field_t *f = &h->fields[h->nfields];
  switch (kind) {
  case EL_METHOD:
    h->method_len = (uint32_t)n;
    break;
  case EL_URL:
    h->url = off;
    h->url_len = (uint32_t)n;
    break;
  case EL_NAME:
    if (h->nfields == WIRE_HTTP_HEAD_FIELDS)
      return 0;
    f->name = off;
    f->name_len = (uint32_t)n;
    break;
  default:
    f->value = off;
    f->value_len = (uint32_t)n;
    h->nfields++;
    break;
  }
  (*nel)++;
  return 1;
}

/* The usual request head, whole before lim, in head mode: the method,
 * an origin-form target, "HTTP/1.1" or "HTTP/1.0", and field lines of
 * the plain shape, each noted in h (and the framing fields checked in p)
 * as the long way would, straight through without state changes. Returns
 * the byte after the empty line. Returns NULL on anything else (another
 * form or version, a line the long way would reject or take apart, more
 * than max_fields fields (at most what h holds), the end of lim): the
 * caller then undoes what this set in p and takes the long way from the
 * method's first byte. */
static const char *usual_head(wire_http_parser_t *p, wire_http_head_t *h,
                              const char *pos, const char *lim, const char *end,
                              size_t max_url, size_t max_fields,
                              unsigned options)
{
  const char *base = pos;
  const char *stop;
  if (lim - pos >= 4 && load32(pos) == load32("GET ")) {
    p->method = WIRE_HTTP_GET;
    stop = pos + 3;
  } else {
    stop = scan_token(pos, lim);
    if (stop == lim || *stop != ' ')
      return NULL;
    p->method = (uint8_t)method_find(pos, (size_t)(stop - pos));
    if (p->method == WIRE_HTTP_METHOD_OTHER &&
        !(options & WIRE_HTTP_OPT_ANY_METHOD))
      return NULL;
  }
  h->method_len = (uint32_t)(stop - pos);
  pos = stop + 1;
  if (pos == lim || *pos != '/' || p->method == WIRE_HTTP_CONNECT)
    return NULL;
  stop = scan_url(pos + 1, lim);
  if (stop == lim || *stop != ' ' || (size_t)(stop - pos) > max_url)
    return NULL;
  h->url = (uint32_t)(pos - base);
  h->url_len = (uint32_t)(stop - pos);
  pos = stop + 1;
  if (lim - pos < 10 ||
      (load64(pos) != load64("HTTP/1.1") &&
       load64(pos) != load64("HTTP/1.0")) ||
      load16(pos + 8) != load16("\r\n"))
    return NULL;
  p->http_major = 1;
  p->http_minor = (uint8_t)(pos[7] - '0');
  pos += 10;

  unsigned n = 0;
  while (pos < lim && tchar[(unsigned char)*pos]) {
    if (n == max_fields)
      return NULL;
    const char *a = pos;
    unsigned k;
    if (lim - pos >= 5 && (load32(pos) | 0x20202020u) == load32("host") &&
        pos[4] == ':') {
      /* The field every HTTP/1.1 request has. (c | 0x20 is a lower-case
       * letter only for that letter in either case.) */
      stop = pos + 4;
      k = H_HOST;
    } else {
      stop = scan_token(pos + 1, lim);
      if (stop == lim || *stop != ':')
        return NULL;
      k = name_find(a, (size_t)(stop - a));
    }
    wire_http_field_t *f = &h->fields[n];
    f->name = (uint32_t)(a - base);
    f->name_len = (uint32_t)(stop - a);
    pos = stop + 1;
    /* The usual one SP before a value: one test. */
    if (lim - pos >= 2 && pos[0] == ' ' && (unsigned char)pos[1] > ' ') {
      pos++;
    } else {
      while (pos < lim && is_ws((unsigned char)*pos))
        pos++;
    }
    a = pos;
    const char *e = NULL;
    if (k == H_HOST) {
      /* name_end for a request's Host, then a plain value: one scan
       * checks it, and it has no trailing OWS (see S_VALUE). */
      if (p->flags & WIRE_HTTP_F_HOST)
        return NULL;
      p->flags |= WIRE_HTTP_F_HOST;
      p->hid = H_HOST;
      p->vstate = V_EMPTY;
      stop = scan_host_usual(pos, end);
      if (stop != NULL && stop < lim && *stop == '\r')
        e = stop;
    } else if (k != H_OTHER && name_end(p, k) != 0) {
      return NULL;
    }
    if (e == NULL) {
      stop = scan_value(pos, lim);
      if (stop == lim || *stop != '\r')
        return NULL;
      if (k != H_OTHER) {
        const char *bad;
        if (value_feed(p, pos, stop, end, 1, &bad) != 0 || value_end(p) != 0)
          return NULL;
      }
      e = stop;
      while (e > a && is_ws((unsigned char)e[-1]))
        e--;
    }
    if (lim - stop < 2 || stop[1] != '\n')
      return NULL;
    f->value = (uint32_t)(a - base);
    f->value_len = (uint32_t)(e - a);
    pos = stop + 2;
    n++;
  }
  if (lim - pos < 2 || load16(pos) != load16("\r\n"))
    return NULL;
  h->nfields = n;
  p->nheaders = n;
  return pos + 2;
}

static int head_replay(wire_http_parser_t *p, const wire_http_head_t *h,
                       unsigned nel)
{
  const wire_http_parser_settings_t *s = p->settings;
  if (s->on_message_begin != NULL) {
    /* Deferred in head mode (no pause here: the state is past it). */
    int r = s->on_message_begin(p);
    if (r != 0)
      return r > 0 ? WIRE_EINVAL : r;
  }
  for (unsigned k = 0; k < nel; k++) {
    wire_http_piece_cb fn;
    uint32_t off, n;
    if (k == 0) {
      fn = s->on_method;
      off = 0;
      n = h->method_len;
    } else if (k == 1) {
      fn = s->on_url;
      off = h->url;
      n = h->url_len;
    } else {
      const wire_http_field_t *f = &h->fields[(k - 2) / 2];
      int name = (k & 1) == 0;
      fn = name ? s->on_header_field : s->on_header_value;
      off = name ? f->name : f->value;
      n = name ? f->name_len : f->value_len;
    }
    if (fn != NULL) {
      int r = fn(p, h->base + off, n, 1);
      if (r != 0)
        return r;
    }
  }
  return 0;
}

/* Callback plumbing for execute(): the state is always set before a call,
 * so a pause resumes cleanly at pos. */
#define NOTIFY(cb)                                                             \
  do {                                                                         \
    if (s->cb != NULL) {                                                       \
      r = s->cb(p);                                                            \
      if (r != 0)                                                              \
        goto cb_result;                                                        \
    }                                                                          \
  } while (0)

#define PIECE(cb, a, n, last) PIECE_TO(s->cb, a, n, last)

/* A piece of a request head's element: noted in head mode when whole;
 * anything else ends head mode, delivering what was noted first. */
#define HEAD_PIECE(kind, fn, a, n, last)                                       \
  do {                                                                         \
    if (hm) {                                                                  \
      if ((last) && head_note(&hd, &nel, (kind), (a), (size_t)(n)))            \
        break;                                                                 \
      hm = 0;                                                                  \
      r = head_replay(p, &hd, nel);                                            \
      if (r != 0)                                                              \
        goto cb_result;                                                        \
    }                                                                          \
    PIECE_TO(fn, a, n, last);                                                  \
  } while (0)

#define PIECE_TO(fn, a, n, last)                                               \
  do {                                                                         \
    if ((fn) != NULL) {                                                        \
      r = (fn)(p, (a), (size_t)(n), (last));                                   \
      if (r != 0)                                                              \
        goto cb_result;                                                        \
    }                                                                          \
  } while (0)

/* Within the head, a state that finished its element goes straight on to
 * the next one while input is left (pos < lim: within the head budget of
 * this loop turn), rather than through the top of the loop: same bytes,
 * same callbacks, fewer turns. */
#define NEXT_HEAD(label)                                                       \
  do {                                                                         \
    if (pos < lim) {                                                           \
      c = (unsigned char)*pos;                                                 \
      goto label;                                                              \
    }                                                                          \
  } while (0)

#define FAIL(reason, at)                                                       \
  do {                                                                         \
    err = (reason);                                                            \
    err_at = (at);                                                             \
    goto fail;                                                                 \
  } while (0)

int wire_http_parser_execute(wire_http_parser_t *p, const char *data,
                             size_t len, size_t *nread)
{
  const wire_http_parser_settings_t *s = p->settings;
  int head = 0;
  int err = 0;
  int r = 0;
  int hm = 0;   /* head mode: see head_note */
  int done = 0; /* on_head completed the message (WIRE_HTTP_CB_DONE) */
  unsigned nel = 0;
  wire_http_head_t hd;

  if (p->state == S_DEAD) {
    *nread = 0;
    return p->error_code;
  }
  if (len == 0 && p->state != S_MSG_DONE) {
    *nread = 0;
    return 0;
  }
  if (data == NULL)
    data = ""; /* len == 0 here; no arithmetic on a null pointer */
  const char *pos = data;
  const char *end = data + len;
  const char *it = pos; /* where this loop turn started */
  const char *err_at = pos;
  const size_t max_head =
      limit(s->max_header_size, WIRE_HTTP_DEFAULT_MAX_HEADER_SIZE);
  const size_t max_fields =
      limit(s->max_headers, WIRE_HTTP_DEFAULT_MAX_HEADERS);
  const size_t max_url = limit(s->max_url, WIRE_HTTP_DEFAULT_MAX_URL);
  /* Fields a head may have for the short way of head mode. */
  const size_t max_usual =
      max_fields < WIRE_HTTP_HEAD_FIELDS ? max_fields : WIRE_HTTP_HEAD_FIELDS;
  const size_t max_ext =
      limit(s->max_chunk_ext, WIRE_HTTP_DEFAULT_MAX_CHUNK_EXT);

  const char *lim;
  unsigned char c;
  while (pos < end || p->state == S_MSG_DONE) {
    lim = end;
    it = pos;
    head = p->state >= S_START;
    if (head) {
      size_t room = max_head - p->head_bytes;
      if (room == 0)
        FAIL(WIRE_HTTP_E_HEADER_OVERFLOW, pos);
      if ((size_t)(end - pos) > room)
        lim = pos + room;
    }
    c = pos < end ? (unsigned char)*pos : 0;

    switch (p->state) {
    case S_START:
    start:
      /* RFC 9112 2.2: a server SHOULD ignore at least one empty line
       * before a request-line; we ignore any number (CRLF only), within
       * the header size budget. A client does the same before a
       * status-line. */
      if (p->type == WIRE_HTTP_REQUEST && tchar[c]) {
        /* The usual case: the first byte of a method. */
        message_begin(p);
        p->state = S_REQ_METHOD;
        if (s->on_head == NULL) {
          NOTIFY(on_message_begin);
        } else {
          /* Head mode: on_message_begin waits for head_replay, or
           * on_head stands for it. */
          hm = 1;
          hd.base = pos;
          const char *q =
              usual_head(p, &hd, pos, lim, end, max_url, max_usual, s->options);
          if (q != NULL) {
            nel = 2 + 2 * hd.nfields;
            pos = q;
            /* What head_end comes to for the usual request (a target in
             * origin-form: not CONNECT). */
            if ((p->flags & ~(uint32_t)WIRE_HTTP_F_CONNECTION_KEEP_ALIVE) !=
                    WIRE_HTTP_F_HOST ||
                p->http_minor != 1)
              goto head_complete;
            p->flags |= WIRE_HTTP_F_KEEP_ALIVE;
            p->state = S_MSG_DONE;
            goto head_callbacks;
          }
          /* The long way, from the method: as if nothing was seen. */
          message_begin(p);
          nel = 0;
          hd.nfields = 0;
        }
        goto req_method_first;
      }
      if (c == '\r') {
        p->state = S_START_LF;
        pos++;
        break;
      }
      if (c == '\n')
        FAIL(WIRE_HTTP_E_CR_EXPECTED, pos);
      message_begin(p);
      if (p->type == WIRE_HTTP_REQUEST)
        FAIL(WIRE_HTTP_E_INVALID_METHOD, pos);
      p->status = 0; /* never set in a request */
      p->state = S_RES_VERSION;
      NOTIFY(on_message_begin);
      break;

    case S_START_LF:
      if (c != '\n')
        FAIL(WIRE_HTTP_E_LF_EXPECTED, pos);
      p->state = S_START;
      pos++;
      break;

    case S_REQ_METHOD: {
      /* RFC 9112 3: method SP request-target SP HTTP-version CRLF, with
       * exactly one SP between the parts. */
      if (p->idx != 0)
        goto req_method_more;
    req_method_first:
      /* The first byte of the method (idx 0, remaining 0). */
      if (lim - pos >= 4 && load32(pos) == load32("GET ")) {
        /* The usual method, whole in this buffer. */
        p->method = WIRE_HTTP_GET;
        p->state = S_REQ_URL_START;
        pos += 4;
        HEAD_PIECE(EL_METHOD, s->on_method, pos - 4, 3, 1);
        NEXT_HEAD(req_url_start);
        break;
      }
    req_method_more:;
      const char *a = pos;
      const char *stop = scan_token(pos, lim);
      if (stop == lim) {
        method_feed(p, a, stop);
        pos = stop;
        if (stop == end)
          HEAD_PIECE(EL_METHOD, s->on_method, a, stop - a, 0);
        break;
      }
      if (*stop != ' ')
        FAIL(WIRE_HTTP_E_INVALID_METHOD, stop);
      if (p->idx == 0) {
        /* Whole in this buffer (the usual case). */
        p->method = (uint8_t)method_find(a, (size_t)(stop - a));
      } else {
        method_feed(p, a, stop);
        p->method = (uint8_t)method_lookup(p);
      }
      if (p->method == WIRE_HTTP_METHOD_OTHER &&
          !(s->options & WIRE_HTTP_OPT_ANY_METHOD))
        FAIL(WIRE_HTTP_E_UNKNOWN_METHOD, stop);
      p->remaining = 0;
      p->idx = 0;
      p->state = S_REQ_URL_START;
      pos = stop + 1;
      HEAD_PIECE(EL_METHOD, s->on_method, a, stop - a, 1);
      NEXT_HEAD(req_url_start);
      break;
    }

    case S_REQ_URL_START:
    req_url_start:
      /* RFC 9112 3.2: origin-form ("/..."), absolute-form ("scheme:..."),
       * authority-form (CONNECT only, and CONNECT only that), asterisk-form
       * (OPTIONS only). */
      if (c == '/' && p->method != WIRE_HTTP_CONNECT) {
        /* origin-form, the usual case. Whole in the buffer and followed
         * by "HTTP/1.1\r\n" (or 1.0), it goes straight to the fields;
         * url_bytes only counts a target split across calls. */
        const char *a = pos;
        const char *stop = scan_url(pos + 1, lim);
        if (stop != lim && *stop == ' ' && (size_t)(stop - a) <= max_url) {
          p->state = S_REQ_VERSION;
          pos = stop + 1;
          HEAD_PIECE(EL_URL, s->on_url, a, stop - a, 1);
          if (lim - pos >= 10 &&
              (load64(pos) == load64("HTTP/1.1") ||
               load64(pos) == load64("HTTP/1.0")) &&
              load16(pos + 8) == load16("\r\n")) {
            p->http_major = 1;
            p->http_minor = (uint8_t)(pos[7] - '0');
            p->state = S_FIELD_START;
            pos += 10;
            NEXT_HEAD(field_start);
            break;
          }
          NEXT_HEAD(req_version);
          break;
        }
      } else if (p->method == WIRE_HTTP_CONNECT) {
        if (!hostchar[c])
          FAIL(WIRE_HTTP_E_INVALID_URL, pos);
      } else if (c == '*') {
        if (p->method != WIRE_HTTP_OPTIONS)
          FAIL(WIRE_HTTP_E_INVALID_URL, pos);
        p->idx = 1;
      } else if (!((c | 0x20) >= 'a' && (c | 0x20) <= 'z')) {
        FAIL(WIRE_HTTP_E_INVALID_URL, pos);
      }
      p->state = S_REQ_URL;
      /* fall through */

    case S_REQ_URL: {
      const char *a = pos;
      const char *stop = scan_url(pos, lim);
      size_t uroom = max_url - p->url_bytes;
      /* Too long: fail at the first byte past max_url (414), wherever the
       * input was split. */
      if ((size_t)(stop - a) > uroom)
        FAIL(WIRE_HTTP_E_URI_TOO_LONG, a + uroom);
      p->url_bytes += (uint32_t)(stop - a);
      if (stop == lim) {
        pos = stop;
        if (stop == end)
          HEAD_PIECE(EL_URL, s->on_url, a, stop - a, 0);
        break;
      }
      if (*stop != ' ')
        FAIL(WIRE_HTTP_E_INVALID_URL, stop);
      if (p->idx == 1 && p->url_bytes != 1)
        FAIL(WIRE_HTTP_E_INVALID_URL, stop);
      p->idx = 0;
      p->state = S_REQ_VERSION;
      pos = stop + 1;
      HEAD_PIECE(EL_URL, s->on_url, a, stop - a, 1);
      NEXT_HEAD(req_version);
      break;
    }

    case S_REQ_VERSION:
    case S_RES_VERSION:
    req_version:
      /* RFC 9112 2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT, case
       * sensitive. Well-formed but not 1.0 or 1.1: 505. */
      if (p->idx == 0 && lim - pos >= 10 &&
          (load64(pos) == load64("HTTP/1.1") ||
           load64(pos) == load64("HTTP/1.0"))) {
        /* The usual "HTTP/1.1\r\n" or "HTTP/1.1 200 " whole in the
         * buffer: no byte-by-byte walk. */
        if (p->state == S_REQ_VERSION && load16(pos + 8) == load16("\r\n")) {
          p->http_major = 1;
          p->http_minor = (uint8_t)(pos[7] - '0');
          p->state = S_FIELD_START;
          pos += 10;
          NEXT_HEAD(field_start);
          break;
        }
        if (p->state == S_RES_VERSION && lim - pos >= 13 && pos[8] == ' ' &&
            pos[9] >= '1' && pos[9] <= '5' && pos[10] >= '0' &&
            pos[10] <= '9' && pos[11] >= '0' && pos[11] <= '9' &&
            pos[12] == ' ') {
          p->http_major = 1;
          p->http_minor = (uint8_t)(pos[7] - '0');
          p->status = (uint16_t)((pos[9] - '0') * 100 + (pos[10] - '0') * 10 +
                                 (pos[11] - '0'));
          p->state = S_RES_REASON;
          pos += 13;
          break;
        }
      }
      for (; pos < lim; pos++) {
        c = (unsigned char)*pos;
        unsigned i = p->idx;
        if (i < 5) {
          if (c != (unsigned char)"HTTP/"[i])
            FAIL(WIRE_HTTP_E_INVALID_VERSION, pos);
        } else if (i == 5 || i == 7) {
          if (c < '0' || c > '9')
            FAIL(WIRE_HTTP_E_INVALID_VERSION, pos);
          if (i == 5)
            p->http_major = (uint8_t)(c - '0');
          else
            p->http_minor = (uint8_t)(c - '0');
        } else if (i == 6) {
          if (c != '.')
            FAIL(WIRE_HTTP_E_INVALID_VERSION, pos);
        } else {
          unsigned char want = p->state == S_REQ_VERSION ? '\r' : ' ';
          if (c == '\n' && want == '\r')
            FAIL(WIRE_HTTP_E_CR_EXPECTED, pos);
          if (c != want)
            FAIL(WIRE_HTTP_E_INVALID_VERSION, pos);
          if (p->http_major != 1 || p->http_minor > 1)
            FAIL(WIRE_HTTP_E_VERSION_NOT_SUPPORTED, pos);
          p->idx = 0;
          p->state = p->state == S_REQ_VERSION ? S_REQ_LINE_LF : S_RES_STATUS;
          pos++;
          break;
        }
        p->idx++;
      }
      break;

    case S_REQ_LINE_LF:
    case S_RES_LINE_LF:
    case S_VALUE_LF:
      if (c != '\n')
        FAIL(WIRE_HTTP_E_LF_EXPECTED, pos);
      p->state = S_FIELD_START;
      pos++;
      break;

    case S_RES_STATUS:
      /* RFC 9112 4: status-code = 3DIGIT; RFC 9110 15: 100..599. */
      if (p->idx < 3) {
        if (c < '0' || c > '9' || (p->idx == 0 && (c < '1' || c > '5')))
          FAIL(WIRE_HTTP_E_INVALID_STATUS, pos);
        p->status = (uint16_t)(p->status * 10 + (c - '0'));
        p->idx++;
        pos++;
        break;
      }
      if (c == ' ') {
        p->state = S_RES_REASON;
        pos++;
        break;
      }
      /* Leniency: "HTTP/1.1 200\r\n" without the SP before the (empty)
       * reason phrase is common enough that clients accept it. */
      if (c == '\r') {
        p->state = S_RES_LINE_LF;
        pos++;
        PIECE(on_status, pos - 1, 0, 1);
        break;
      }
      FAIL(WIRE_HTTP_E_INVALID_STATUS, pos);

    case S_RES_REASON: {
      /* reason-phrase = *( HTAB / SP / VCHAR / obs-text ) */
      const char *a = pos;
      const char *stop = scan_value(pos, lim);
      if (stop == lim) {
        pos = stop;
        if (stop == end)
          PIECE(on_status, a, stop - a, 0);
        break;
      }
      if (*stop == '\n')
        FAIL(WIRE_HTTP_E_CR_EXPECTED, stop);
      if (*stop != '\r')
        FAIL(WIRE_HTTP_E_INVALID_STATUS, stop);
      p->state = S_RES_LINE_LF;
      pos = stop + 1;
      PIECE(on_status, a, stop - a, 1);
      break;
    }

    case S_FIELD_START:
    field_start:
      if (!tchar[c]) {
        if (c == '\r') {
          p->state = S_HEAD_END_LF;
          pos++;
          NEXT_HEAD(head_end_lf);
          break;
        }
        if (c == '\n')
          FAIL(WIRE_HTTP_E_CR_EXPECTED, pos);
        /* RFC 9112 5.2: obs-fold is rejected (a server MUST either reject
         * it or replace it; we reject). RFC 9112 2.2: whitespace between
         * the start line and the first field is rejected too. */
        if (is_ws(c) && p->nheaders > 0)
          FAIL(WIRE_HTTP_E_OBS_FOLD, pos);
        FAIL(WIRE_HTTP_E_INVALID_HEADER_TOKEN, pos);
      }
      if (++p->nheaders > max_fields)
        FAIL(WIRE_HTTP_E_TOO_MANY_HEADERS, pos);
      if (!(p->flags & WIRE_HTTP_F_TRAILERS)) {
        /* The usual case: a header field name whole in the buffer, then
         * its colon. Anything else goes the long way below (from pos
         * again: the name is short, and this is at the end of a buffer). */
        const char *a = pos;
        const char *stop = scan_token(pos + 1, lim);
        if (stop != lim && *stop == ':') {
          unsigned k = name_find(a, (size_t)(stop - a));
          p->hid = (uint8_t)k;
          p->vstate = 0;
          if (k != H_OTHER) {
            err = name_end(p, k);
            if (err != 0)
              FAIL(err, stop);
          }
          p->state = S_VALUE_OWS;
          pos = stop + 1;
          HEAD_PIECE(EL_NAME, s->on_header_field, a, stop - a, 1);
          goto value_ows;
        }
      }
      p->hmask = (p->flags & WIRE_HTTP_F_TRAILERS) ? 0 : H_ALL;
      p->hidx = 0;
      p->state = S_FIELD_NAME;
      /* fall through */

    case S_FIELD_NAME: {
      /* RFC 9112 5: field-name ":" OWS field-value OWS; field-name is a
       * token. Trailer fields are reported, never interpreted (RFC 9110
       * 6.5.1): their hmask is 0, so framing names there change nothing. */
      const char *a = pos;
      const char *stop = scan_token(pos, lim);
      wire_http_piece_cb cb = (p->flags & WIRE_HTTP_F_TRAILERS)
                                  ? s->on_trailer_field
                                  : s->on_header_field;
      if (stop == lim) {
        if (p->hmask != 0)
          match_names(hdr_name, &p->hmask, &p->hidx, a, stop);
        pos = stop;
        if (stop == end)
          HEAD_PIECE(EL_NAME, cb, a, stop - a, 0);
        break;
      }
      if (*stop != ':') {
        /* RFC 9112 5.1: no whitespace between name and colon (400). */
        if (is_ws((unsigned char)*stop))
          FAIL(WIRE_HTTP_E_SPACE_BEFORE_COLON, stop);
        FAIL(WIRE_HTTP_E_INVALID_HEADER_TOKEN, stop);
      }
      unsigned k = H_OTHER;
      if (p->hmask == H_ALL && p->hidx == 0) {
        /* Whole in this buffer (the usual case). */
        k = name_find(a, (size_t)(stop - a));
      } else if (p->hmask != 0) {
        match_names(hdr_name, &p->hmask, &p->hidx, a, stop);
        int m = matched(hdr_len, p->hmask, p->hidx);
        if (m >= 0)
          k = (unsigned)m;
      }
      p->hid = (uint8_t)k;
      p->vstate = 0;
      if (k != H_OTHER) {
        err = name_end(p, k);
        if (err != 0)
          FAIL(err, stop);
      }
      p->state = S_VALUE_OWS;
      pos = stop + 1;
      HEAD_PIECE(EL_NAME, cb, a, stop - a, 1);
      /* Skip the OWS now rather than on another loop turn. Only after the
       * callback: callbacks fire at the same stream offset however the
       * input is split. */
      goto value_ows;
    }

    case S_VALUE_OWS:
    value_ows:
      /* The usual one SP before a value: one test. */
      if (lim - pos >= 2 && pos[0] == ' ' && (unsigned char)pos[1] > ' ') {
        pos++;
      } else {
        while (pos < lim && is_ws((unsigned char)*pos))
          pos++;
        if (pos == lim)
          break;
      }
      /* fall through */

    case S_VALUE: {
      const char *a = pos;
      if (p->hid == H_HOST && p->vstate == V_EMPTY) {
        /* The usual Host value: host characters up to the CR. Host
         * characters are value characters, so one scan checks both. */
        const char *stop = scan_host(pos, lim, end);
        if (stop != lim && *stop == '\r') {
          p->state = S_VALUE_LF;
          pos = stop + 1;
          HEAD_PIECE(EL_VALUE, s->on_header_value, a, stop - a, 1);
          goto value_lf;
        }
      }
      p->state = S_VALUE;
      const char *stop = scan_value(pos, lim);
      wire_http_piece_cb cb = (p->flags & WIRE_HTTP_F_TRAILERS)
                                  ? s->on_trailer_value
                                  : s->on_header_value;
      if (p->hid != H_OTHER) {
        const char *bad = NULL;
        err = value_feed(p, a, stop, end, stop != lim, &bad);
        if (err != 0)
          FAIL(err, bad);
      }
      if (stop == lim) {
        pos = stop;
        if (stop == end)
          HEAD_PIECE(EL_VALUE, cb, a, stop - a, 0);
        break;
      }
      /* RFC 9110 5.5: field-value excludes CTLs but HTAB; a bare CR, a
       * bare LF or a NUL is rejected. */
      if (*stop != '\r') {
        if (*stop == '\n')
          FAIL(WIRE_HTTP_E_CR_EXPECTED, stop);
        FAIL(WIRE_HTTP_E_INVALID_HEADER_VALUE, stop);
      }
      if (p->hid != H_OTHER) {
        err = value_end(p);
        if (err != 0)
          FAIL(err, stop);
      }
      /* Trailing OWS is not part of the value. */
      const char *e = stop;
      while (e > a && is_ws((unsigned char)e[-1]))
        e--;
      p->state = S_VALUE_LF;
      pos = stop + 1;
      HEAD_PIECE(EL_VALUE, cb, a, e - a, 1);
    value_lf:
      /* Take the LF now if it is here (after the callback, as above). */
      if (pos < lim && *pos == '\n') {
        p->state = S_FIELD_START;
        pos++;
        NEXT_HEAD(field_start);
      }
      break;
    }

    case S_HEAD_END_LF:
    head_end_lf:
      if (c != '\n')
        FAIL(WIRE_HTTP_E_LF_EXPECTED, pos);
      pos++;
      if (p->flags & WIRE_HTTP_F_TRAILERS) {
        p->flags &= ~(uint32_t)WIRE_HTTP_F_TRAILERS;
        p->state = S_MSG_DONE;
        break;
      }
    head_complete:
      err = head_end(p);
      if (err != 0)
        FAIL(err, pos - 1);
    head_callbacks:
      r = 0;
      if (hm) {
        hm = 0;
        r = s->on_head(p, &hd);
        if (!(s->options & WIRE_HTTP_OPT_HEAD_COMPLETES)) {
          if (r != 0) {
            if (r > 0)
              r = WIRE_EINVAL; /* no pause here */
            goto cb_result;
          }
          if (s->on_headers_complete != NULL)
            r = s->on_headers_complete(p);
        } else if (r == WIRE_HTTP_CB_DONE) {
          /* The caller completed a message without body itself. */
          if (p->state != S_MSG_DONE || p->upgraded) {
            r = WIRE_EINVAL;
            goto cb_result;
          }
          done = 1;
          r = 0;
        }
      } else if (s->on_headers_complete != NULL) {
        r = s->on_headers_complete(p);
      }
      if (r != 0) {
        if (r == WIRE_HTTP_CB_SKIP_BODY && p->type == WIRE_HTTP_RESPONSE) {
          /* RFC 9112 6.3 (1): e.g. the response to HEAD. Framing fields
           * then describe the body not sent, so the connection persists
           * as the version and Connection say. */
          if (!p->upgraded) {
            p->flags &= ~(uint32_t)(WIRE_HTTP_F_EOF_BODY | WIRE_HTTP_F_CHUNKED);
            p->flags |= WIRE_HTTP_F_SKIP_BODY;
            if (persists(p))
              p->flags |= WIRE_HTTP_F_KEEP_ALIVE;
            p->state = S_MSG_DONE;
          }
        } else if (r == WIRE_HTTP_CB_UPGRADE) {
          p->upgraded = 1;
          p->state = S_MSG_DONE;
        } else {
          goto cb_result;
        }
      }
      if (p->state != S_MSG_DONE)
        break;
      /* No body: complete the message in this turn. */
      /* fall through */

    case S_MSG_DONE:
      /* The head's bytes no longer count: a new head starts from 0. */
      head = 0;
      p->head_bytes = 0;
      if (p->upgraded)
        p->state = S_STOPPED;
      else if (p->flags & WIRE_HTTP_F_KEEP_ALIVE)
        p->state = S_START;
      else if (p->type == WIRE_HTTP_RESPONSE && p->status < 200)
        p->state = S_START; /* RFC 9110 15.2: the final response follows */
      else
        p->state = S_CLOSED;
      if (done)
        done = 0; /* on_head did it */
      else
        NOTIFY(on_message_complete);
      if (p->state == S_START) {
        if (pos == end)
          break;
        /* The next message (pipelining): start its head here, as the top
         * of the loop would. */
        it = pos;
        head = 1;
        lim = (size_t)(end - pos) > max_head ? pos + max_head : end;
        c = (unsigned char)*pos;
        goto start;
      }
      if (p->state == S_STOPPED)
        goto out;
      break;

    /* A counted run of body bytes: a Content-Length body or one chunk's
     * data; only what follows the run differs. */
    case S_BODY_IDENTITY:
    case S_CHUNK_DATA: {
      size_t n = (size_t)(end - pos);
      if (n > p->remaining)
        n = (size_t)p->remaining;
      const char *a = pos;
      pos += n;
      p->remaining -= n;
      if (p->remaining == 0)
        p->state = p->state == S_BODY_IDENTITY ? S_MSG_DONE : S_CHUNK_DATA_CR;
      if (s->on_body != NULL) {
        r = s->on_body(p, a, n);
        if (r != 0)
          goto cb_result;
      }
      break;
    }

    case S_BODY_EOF: {
      const char *a = pos;
      pos = end;
      if (s->on_body != NULL) {
        r = s->on_body(p, a, (size_t)(end - a));
        if (r != 0)
          goto cb_result;
      }
      break;
    }

    case S_CHUNK_SIZE_START:
      /* RFC 9112 7.1: chunk-size = 1*HEXDIG. No sign, no "0x", no
       * whitespace before it. */
      if (hexval(c) < 0) {
        if (c == '\n')
          FAIL(WIRE_HTTP_E_CR_EXPECTED, pos);
        FAIL(WIRE_HTTP_E_INVALID_CHUNK_SIZE, pos);
      }
      p->remaining = 0;
      p->idx = 0;
      p->state = S_CHUNK_SIZE;
      break;

    case S_CHUNK_SIZE:
      for (; pos < end; pos++) {
        c = (unsigned char)*pos;
        int v = hexval(c);
        if (v < 0)
          break;
        /* 16 hex digits fill 64 bits: a longer size (even with leading
         * zeros) is refused before it can overflow. */
        if (p->idx == 16)
          FAIL(WIRE_HTTP_E_CHUNK_SIZE_OVERFLOW, pos);
        p->remaining = (p->remaining << 4) | (unsigned)v;
        p->idx++;
      }
      if (pos == end)
        break;
      if (c == '\r') {
        p->state = S_CHUNK_SIZE_LF;
        pos++;
        break;
      }
      if (c == ';' || is_ws(c)) {
        p->idx = X_BWS_SEMI;
        p->state = S_CHUNK_EXT;
        break;
      }
      if (c == '\n')
        FAIL(WIRE_HTTP_E_CR_EXPECTED, pos);
      FAIL(WIRE_HTTP_E_INVALID_CHUNK_SIZE, pos);

    case S_CHUNK_EXT: {
      /* RFC 9112 7.1.1, checked strictly (a lenient reading of extensions
       * is a known smuggling vector), and bounded per message. */
      const char *a = pos;
      size_t room = max_ext - p->ext_bytes;
      unsigned x = p->idx;
      for (; pos < end; pos++) {
        c = (unsigned char)*pos;
        if (c == '\r') {
          if (x != X_NAME && x != X_VAL_TOKEN && x != X_AFTER_QUOTED)
            FAIL(WIRE_HTTP_E_INVALID_CHUNK_EXTENSION, pos);
          break;
        }
        if ((size_t)(pos - a) == room)
          FAIL(WIRE_HTTP_E_CHUNK_EXTENSION_OVERFLOW, pos);
        switch (x) {
        case X_BWS_SEMI:
          if (c == ';')
            x = X_NAME_START;
          else if (!is_ws(c))
            FAIL(WIRE_HTTP_E_INVALID_CHUNK_EXTENSION, pos);
          continue;
        case X_NAME_START:
          if (tchar[c])
            x = X_NAME;
          else if (!is_ws(c))
            FAIL(WIRE_HTTP_E_INVALID_CHUNK_EXTENSION, pos);
          continue;
        case X_NAME:
        case X_AFTER_NAME:
          if (tchar[c] && x == X_NAME)
            continue;
          if (c == '=')
            x = X_VAL_START;
          else if (c == ';')
            x = X_NAME_START;
          else if (is_ws(c))
            x = X_AFTER_NAME;
          else
            FAIL(WIRE_HTTP_E_INVALID_CHUNK_EXTENSION, pos);
          continue;
        case X_VAL_START:
          if (tchar[c])
            x = X_VAL_TOKEN;
          else if (c == '"')
            x = X_QUOTED;
          else if (!is_ws(c))
            FAIL(WIRE_HTTP_E_INVALID_CHUNK_EXTENSION, pos);
          continue;
        case X_VAL_TOKEN:
        case X_AFTER_QUOTED:
          if (tchar[c] && x == X_VAL_TOKEN)
            continue;
          if (c == ';')
            x = X_NAME_START;
          else if (is_ws(c))
            x = X_BWS_SEMI;
          else
            FAIL(WIRE_HTTP_E_INVALID_CHUNK_EXTENSION, pos);
          continue;
        case X_QUOTED:
          /* qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text */
          if (c == '"')
            x = X_AFTER_QUOTED;
          else if (c == '\\')
            x = X_QUOTED_ESC;
          else if ((c < 0x20 && c != '\t') || c == 0x7f)
            FAIL(WIRE_HTTP_E_INVALID_CHUNK_EXTENSION, pos);
          continue;
        case X_QUOTED_ESC:
          if ((c < 0x20 && c != '\t') || c == 0x7f)
            FAIL(WIRE_HTTP_E_INVALID_CHUNK_EXTENSION, pos);
          x = X_QUOTED;
          continue;
        }
      }
      p->idx = (uint8_t)x;
      p->ext_bytes += (uint32_t)(pos - a);
      if (pos == end) {
        PIECE(on_chunk_extension, a, pos - a, 0);
        break;
      }
      p->state = S_CHUNK_SIZE_LF;
      pos++;
      PIECE(on_chunk_extension, a, pos - 1 - a, 1);
      break;
    }

    case S_CHUNK_SIZE_LF:
      if (c != '\n')
        FAIL(WIRE_HTTP_E_LF_EXPECTED, pos);
      pos++;
      if (p->remaining == 0) {
        /* The last chunk: the trailer section follows (RFC 9112 7.1.2),
         * with its own header budget. */
        p->flags |= WIRE_HTTP_F_TRAILERS;
        p->head_bytes = 0;
        p->nheaders = 0;
        p->state = S_FIELD_START;
      } else {
        p->state = S_CHUNK_DATA;
      }
      NOTIFY(on_chunk_header);
      break;

    case S_CHUNK_DATA_CR:
      if (c != '\r')
        FAIL(WIRE_HTTP_E_INVALID_CHUNK, pos);
      p->state = S_CHUNK_DATA_LF;
      pos++;
      break;

    case S_CHUNK_DATA_LF:
      if (c != '\n')
        FAIL(WIRE_HTTP_E_INVALID_CHUNK, pos);
      p->state = S_CHUNK_SIZE_START;
      pos++;
      NOTIFY(on_chunk_complete);
      break;

    case S_CLOSED:
      /* Stray line ends after the last message are ignored; anything else
       * is a message the connection must not carry. */
      if (c != '\r' && c != '\n')
        FAIL(WIRE_HTTP_E_CLOSED_CONNECTION, pos);
      pos++;
      break;

    case S_STOPPED:
      FAIL(WIRE_HTTP_E_STOPPED, pos);

    default:
      FAIL(WIRE_HTTP_E_STOPPED, pos);
    }
    if (head)
      p->head_bytes += (uint32_t)(pos - it);
    it = pos;
  }

out:
  /* A turn left early (pause, upgrade) has not counted its bytes yet. */
  if (head)
    p->head_bytes += (uint32_t)(pos - it);
  head = 0;
  if (hm) {
    /* The input ended inside a head: what it has so far is delivered. */
    hm = 0;
    r = head_replay(p, &hd, nel);
    if (r != 0)
      goto cb_result;
  }
  *nread = (size_t)(pos - data);
  p->offset += (uint64_t)(pos - data);
  return 0;

cb_result:
  if (r == WIRE_HTTP_CB_PAUSE)
    goto out;
  /* An error from the callback, or a value it may not return here. */
  err = WIRE_HTTP_E_CALLBACK;
  err_at = pos;
  p->state = S_DEAD;
  p->error = (uint8_t)err;
  p->error_code = r < 0 ? r : WIRE_EINVAL;
  p->error_offset = p->offset + (uint64_t)(err_at - data);
  *nread = (size_t)(err_at - data);
  p->offset += (uint64_t)(err_at - data);
  return p->error_code;

fail:
  if (hm)
    (void)head_replay(p, &hd, nel); /* what came before the error */
  p->state = S_DEAD;
  p->error = (uint8_t)err;
  p->error_code = wire_http_error_code((unsigned)err);
  p->error_offset = p->offset + (uint64_t)(err_at - data);
  *nread = (size_t)(err_at - data);
  p->offset += (uint64_t)(err_at - data);
  return p->error_code;
}

int wire_http_parser_finish(wire_http_parser_t *p)
{
  const wire_http_parser_settings_t *s = p->settings;
  int r;
  switch (p->state) {
  case S_DEAD:
    return p->error_code;
  case S_MSG_DONE: {
    /* A paused parser with a complete message: complete it first. */
    size_t n;
    r = wire_http_parser_execute(p, "", 0, &n);
    if (r < 0)
      return r;
    return wire_http_parser_finish(p);
  }
  case S_BODY_EOF:
    p->state = S_CLOSED;
    if (s->on_message_complete != NULL) {
      r = s->on_message_complete(p);
      if (r < 0) {
        p->state = S_DEAD;
        p->error = WIRE_HTTP_E_CALLBACK;
        p->error_code = r;
        p->error_offset = p->offset;
        return r;
      }
    }
    return 0;
  case S_START:
  case S_START_LF:
  case S_CLOSED:
  case S_STOPPED:
    p->state = S_CLOSED;
    return 0;
  default:
    break;
  }
  p->state = S_DEAD;
  p->error = WIRE_HTTP_E_INVALID_EOF;
  p->error_code = WIRE_EHTTPPARSE;
  p->error_offset = p->offset;
  return p->error_code;
}

const char *wire_http_method_str(unsigned method)
{
  if (method >= WIRE_HTTP_METHOD_COUNT_)
    return "";
  return method_text[method];
}

static const struct {
  const char *name;
  const char *msg;
  int code;
  int status;
} error_info[] = {
#define ERROR_INFO_(name, code, status, msg) {#name, msg, code, status},
    WIRE_HTTP_ERROR_MAP(ERROR_INFO_)
#undef ERROR_INFO_
};

const char *wire_http_error_name(unsigned err)
{
  return err < WIRE_HTTP_E_COUNT_ ? error_info[err].name : "UNKNOWN";
}

const char *wire_http_error_str(unsigned err)
{
  return err < WIRE_HTTP_E_COUNT_ ? error_info[err].msg : "unknown error";
}

int wire_http_error_code(unsigned err)
{
  return err < WIRE_HTTP_E_COUNT_ ? error_info[err].code : WIRE_EHTTPPARSE;
}

int wire_http_error_status(unsigned err)
{
  return err < WIRE_HTTP_E_COUNT_ ? error_info[err].status : 0;
}
