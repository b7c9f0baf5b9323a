/* The UTF-8 validator (see utf8.h). RFC 3629 section 4 gives the syntax of
 * well-formed UTF-8; Table 3-7 of the Unicode Standard lists the same byte
 * ranges. Each row below is one shape of character:
 *
 *   U+0000..U+007F     00..7F
 *   U+0080..U+07FF     C2..DF  80..BF
 *   U+0800..U+0FFF     E0      A0..BF  80..BF   (E0 80..9F: overlong)
 *   U+1000..U+CFFF     E1..EC  80..BF  80..BF
 *   U+D000..U+D7FF     ED      80..9F  80..BF   (ED A0..BF: surrogates)
 *   U+E000..U+FFFF     EE..EF  80..BF  80..BF
 *   U+10000..U+3FFFF   F0      90..BF  80..BF  80..BF  (F0 80..8F: overlong)
 *   U+40000..U+FFFFF   F1..F3  80..BF  80..BF  80..BF
 *   U+100000..U+10FFFF F4      80..8F  80..BF  80..BF  (F4 90..: too big)
 *
 * C0, C1 (overlong two-byte forms) and F5..FF never appear.
 *
 * Structure: bytes are sorted into thirteen classes by the table `cls`,
 * and a nine-state automaton (`next`) moves on classes. A state says what
 * the next byte must be, so the automaton rejects a character at its first
 * byte that breaks the table above: that is the fail-fast rule. While the
 * automaton is between characters, runs of ASCII are skipped in blocks
 * and whole valid characters are checked with a few compares; anything
 * else (a bad byte, a character cut by the end of the input) goes through
 * the automaton.
 *
 * Invariant: the state after a byte depends only on the state before it
 * and the byte, so splitting the input anywhere gives the same answer. */
#include "utf8.h"

#include <string.h>

#if defined(__SSE2__) && !defined(WIRE_WS_UTF8_NO_SIMD)
#include <emmintrin.h>
#define USE_SSE2 1
#else
#define USE_SSE2 0
#endif

/* States. ACCEPT and REJECT are the values utf8.h names. */
enum {
  U_ACCEPT = WIRE_UTF8_ACCEPT,
  U_TAIL1, /* one more 80..BF */
  U_TAIL2, /* two more 80..BF */
  U_TAIL3, /* three more 80..BF */
  U_E0,    /* after E0: A0..BF, then one 80..BF */
  U_ED,    /* after ED: 80..9F, then one 80..BF */
  U_F0,    /* after F0: 90..BF, then two 80..BF */
  U_F4,    /* after F4: 80..8F, then two 80..BF */
  U_REJECT = WIRE_UTF8_REJECT
};

/* Byte classes. */
enum {
  C_ASCII, /* 00..7F */
  C_80,    /* 80..8F */
  C_90,    /* 90..9F */
  C_A0,    /* A0..BF */
  C_BAD,   /* C0, C1, F5..FF */
  C_2,     /* C2..DF */
  C_E0,    /* E0 */
  C_3,     /* E1..EC, EE, EF */
  C_ED,    /* ED */
  C_F0,    /* F0 */
  C_4,     /* F1..F3 */
  C_F4,    /* F4 */
  C_COUNT
};

#define R16(c) c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c
static const uint8_t cls[256] = {
    R16(C_ASCII), R16(C_ASCII), R16(C_ASCII), R16(C_ASCII), /* 00..3F */
    R16(C_ASCII), R16(C_ASCII), R16(C_ASCII), R16(C_ASCII), /* 40..7F */
    R16(C_80),    R16(C_90),    R16(C_A0),    R16(C_A0),    /* 80..BF */
    C_BAD,        C_BAD,        C_2,          C_2,          /* C0..C3 */
    C_2,          C_2,          C_2,          C_2,          /* C4..C7 */
    C_2,          C_2,          C_2,          C_2,          /* C8..CB */
    C_2,          C_2,          C_2,          C_2,          /* CC..CF */
    R16(C_2),                                               /* D0..DF */
    C_E0,         C_3,          C_3,          C_3,          /* E0..E3 */
    C_3,          C_3,          C_3,          C_3,          /* E4..E7 */
    C_3,          C_3,          C_3,          C_3,          /* E8..EB */
    C_3,          C_ED,         C_3,          C_3,          /* EC..EF */
    C_F0,         C_4,          C_4,          C_4,          /* F0..F3 */
    C_F4,         C_BAD,        C_BAD,        C_BAD,        /* F4..F7 */
    C_BAD,        C_BAD,        C_BAD,        C_BAD,        /* F8..FB */
    C_BAD,        C_BAD,        C_BAD,        C_BAD,        /* FC..FF */
};
#undef R16

#define X U_REJECT
/* next[state][class]; the columns go in class order: ASCII, 80, 90, A0,
 * BAD, 2, E0, 3, ED, F0, 4, F4. */
static const uint8_t next[9][C_COUNT] = {
    [U_ACCEPT] = {U_ACCEPT, X, X, X, X, U_TAIL1, U_E0, U_TAIL2, U_ED, U_F0,
                  U_TAIL3, U_F4},
    [U_TAIL1] = {X, U_ACCEPT, U_ACCEPT, U_ACCEPT, X, X, X, X, X, X, X, X},
    [U_TAIL2] = {X, U_TAIL1, U_TAIL1, U_TAIL1, X, X, X, X, X, X, X, X},
    [U_TAIL3] = {X, U_TAIL2, U_TAIL2, U_TAIL2, X, X, X, X, X, X, X, X},
    [U_E0] = {X, X, X, U_TAIL1, X, X, X, X, X, X, X, X},
    [U_ED] = {X, U_TAIL1, U_TAIL1, X, X, X, X, X, X, X, X, X},
    [U_F0] = {X, X, U_TAIL2, U_TAIL2, X, X, X, X, X, X, X, X},
    [U_F4] = {X, U_TAIL2, X, X, X, X, X, X, X, X, X, X},
    [U_REJECT] = {X, X, X, X, X, X, X, X, X, X, X, X},
};
#undef X

/* Returns the index of the first byte at or after i that is not ASCII, or
 * len. Reads nothing outside [s, s + len). */
static size_t skip_ascii(const unsigned char *s, size_t i, size_t len)
{
#if USE_SSE2
  while (len - i >= 32) {
    __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
    __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 16));
    unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(a, b));
    if (m != 0)
      break;
    i += 32;
  }
  while (len - i >= 16) {
    __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
    unsigned m = (unsigned)_mm_movemask_epi8(a);
    if (m != 0)
      return i + (size_t)__builtin_ctz(m);
    i += 16;
  }
  /* Under 16 bytes left: one load of the last 16 bytes of the input, when
   * there are that many, with the bits of the bytes before i dropped. */
  if (i < len && len >= 16) {
    __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(s + len - 16));
    unsigned m = (unsigned)_mm_movemask_epi8(a);
    m &= ~0u << (i - (len - 16));
    return m == 0 ? len : len - 16 + (size_t)__builtin_ctz(m);
  }
#else
  while (len - i >= 16) {
    uint64_t a, b;
    memcpy(&a, s + i, 8);
    memcpy(&b, s + i + 8, 8);
    if (((a | b) & UINT64_C(0x8080808080808080)) != 0)
      break;
    i += 16;
  }
  while (len - i >= 8) {
    uint64_t a;
    memcpy(&a, s + i, 8);
    if ((a & UINT64_C(0x8080808080808080)) != 0)
      break; /* the byte loop finds which one */
    i += 8;
  }
  /* Under 8 bytes left: the last 8 of the input in one load, when there
   * are that many; if any of them is not ASCII (maybe one before i), the
   * byte loop below finds the first at or after i. */
  if (len - i < 8 && i < len && len >= 8) {
    uint64_t a;
    memcpy(&a, s + len - 8, 8);
    if ((a & UINT64_C(0x8080808080808080)) == 0)
      return len;
  }
#endif
  while (i < len && s[i] < 0x80)
    i++;
  return i;
}

/* Between characters with at least four bytes left: if s[i] starts a
 * whole, valid character, returns its length, else 0 (the automaton then
 * decides, and finds the exact byte where it fails). Branches on the
 * bytes instead of chaining table loads, which is what makes non-ASCII
 * text fast. */
static size_t whole_char(const unsigned char *s, size_t i)
{
  unsigned c = s[i];
  unsigned c1 = s[i + 1];
  if (c >= 0xc2 && c <= 0xdf)
    return (c1 & 0xc0) == 0x80 ? 2 : 0;
  if ((c & 0xf0) == 0xe0) {
    unsigned lo = c == 0xe0 ? 0xa0 : 0x80; /* no overlongs */
    unsigned hi = c == 0xed ? 0x9f : 0xbf; /* no surrogates */
    return c1 >= lo && c1 <= hi && (s[i + 2] & 0xc0) == 0x80 ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    unsigned lo = c == 0xf0 ? 0x90 : 0x80; /* no overlongs */
    unsigned hi = c == 0xf4 ? 0x8f : 0xbf; /* nothing over U+10FFFF */
    return c1 >= lo && c1 <= hi && (s[i + 2] & 0xc0) == 0x80 &&
                   (s[i + 3] & 0xc0) == 0x80
               ? 4
               : 0;
  }
  return 0;
}

size_t wire_utf8_validate(wire_utf8_t *u, const char *data, size_t len)
{
  const unsigned char *s = (const unsigned char *)data;
  unsigned st = u->state;
  if (st == U_REJECT)
    return 0;
  size_t i = 0;
  while (i < len) {
    if (st == U_ACCEPT) {
      if (s[i] < 0x80) {
        i++;
        /* A lone ASCII byte among other characters (a space in Greek
         * text) is common: do not start the block scanner for it. */
        if (i < len && s[i] < 0x80)
          i = skip_ascii(s, i, len);
        continue;
      }
      if (len - i >= 4) {
        size_t n = whole_char(s, i);
        if (n > 0) {
          i += n;
          continue;
        }
      }
    }
    st = next[st][cls[s[i]]];
    if (st == U_REJECT) {
      u->state = U_REJECT;
      return i;
    }
    i++;
  }
  u->state = (uint8_t)st;
  return len;
}

int wire_utf8_is_valid(const char *data, size_t len)
{
  wire_utf8_t u;
  wire_utf8_init(&u);
  return wire_utf8_validate(&u, data, len) == len && wire_utf8_complete(&u);
}
