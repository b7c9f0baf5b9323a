/* Tests for the UTF-8 validator (src/ws/utf8.c).
 *
 * Every case goes through check(): the input is fed whole, one byte at a
 * time and at random split points (several seeds), each piece copied so
 * that it ends right before an unreadable guard page, and every feeding
 * must give the same answer: the index of the first bad byte (fail-fast),
 * or "complete", or "incomplete" (valid so far, but ending inside a
 * character).
 *
 * The named cases follow the UTF-8 decoder stress test that the Autobahn
 * testsuite's section 6 is built from (boundaries, overlongs, surrogates,
 * noncharacters, lonely and missing bytes, impossible bytes). The sweeps
 * compare the validator with a reference written from the code point
 * ranges (not from the byte table utf8.c uses) on every sequence of one to
 * three bytes and on a sample of four-byte ones.
 *
 * test-ws-utf8-portable.c includes this file again with the SSE2 scanner
 * turned off. */
#include "codec-feed.h"

#include "ws/utf8.h"

/* ---- feeding ---- */

#define COMPLETE (-1)
#define INCOMPLETE (-2)


/* Feeds data in pieces (mode 0: whole, 1: byte by byte, 2+: random, seeded
 * by mode); returns the index of the first bad byte, or COMPLETE or
 * INCOMPLETE. */
static long feed(const char *data, size_t len, int mode)
{
  wire_utf8_t u;
  wire_utf8_init(&u);
  rng_state = 0x9e3779b97f4a7c15ull * (uint64_t)(mode + 1);
  size_t off = 0;
  while (off < len) {
    size_t n = len - off;
    if (mode == 1)
      n = 1;
    else if (mode >= 2) {
      size_t k = 1 + rnd(1 + (unsigned)mode * 5);
      if (k < n)
        n = k;
    }
    const char *g = guarded(data + off, n);
    size_t r = wire_utf8_validate(&u, g, n);
    cr_assert_leq(r, n);
    if (r < n) {
      cr_assert(wire_utf8_failed(&u));
      cr_assert(!wire_utf8_complete(&u));
      /* Sticky. */
      cr_assert_eq(wire_utf8_validate(&u, "a", 1), 0);
      cr_assert(wire_utf8_failed(&u));
      return (long)(off + r);
    }
    cr_assert(!wire_utf8_failed(&u));
    off += n;
  }
  /* An empty call changes nothing. */
  cr_assert_eq(wire_utf8_validate(&u, NULL, 0), 0);
  return wire_utf8_complete(&u) ? COMPLETE : INCOMPLETE;
}

#define NMODES 10

static long check_n(const char *data, size_t len)
{
  long whole = feed(data, len, 0);
  for (int mode = 1; mode < NMODES; mode++) {
    long r = feed(data, len, mode);
    cr_assert_eq(r, whole, "feeding %d gives %ld, whole gives %ld", mode, r,
                 whole);
  }
  cr_assert_eq(wire_utf8_is_valid(guarded(data, len), len), whole == COMPLETE);
  return whole;
}

static void expect(const char *name, const char *data, size_t len, long want)
{
  long got = check_n(data, len);
  cr_expect_eq(got, want, "%s: got %ld, want %ld", name, got, want);
}

#define EXPECT(name, lit, want) expect(name, lit, sizeof(lit) - 1, want)

/* ---- a reference, from the code point ranges ---- */

/* Whether the bytes s[0..m) (m >= 1, s[0] a lead byte of an n-byte form)
 * can begin an n-byte character that encodes a scalar value in the range
 * of n-byte characters: fill the missing continuation bytes with their
 * lowest and highest values and intersect the interval of code points it
 * gives with the allowed ones. */
static int ref_prefix_ok(const unsigned char *s, size_t m, int n)
{
  static const uint32_t lo_of[5] = {0, 0, 0x80, 0x800, 0x10000};
  static const uint32_t hi_of[5] = {0, 0x7f, 0x7ff, 0xffff, 0x10ffff};
  static const unsigned lead_bits[5] = {0, 7, 5, 4, 3};
  for (size_t i = 1; i < m; i++)
    if ((s[i] & 0xc0) != 0x80)
      return 0;
  uint32_t lo = s[0] & ((1u << lead_bits[n]) - 1);
  uint32_t hi = lo;
  for (int i = 1; i < n; i++) {
    unsigned bits = (size_t)i < m ? (s[i] & 0x3fu) : 0;
    unsigned bitsh = (size_t)i < m ? (s[i] & 0x3fu) : 0x3f;
    lo = (lo << 6) | bits;
    hi = (hi << 6) | bitsh;
  }
  /* [lo, hi] meets [lo_of, hi_of] minus the surrogates? */
  uint32_t a = lo > lo_of[n] ? lo : lo_of[n];
  uint32_t b = hi < hi_of[n] ? hi : hi_of[n];
  if (a > b)
    return 0;
  if (a >= 0xd800 && b <= 0xdfff)
    return 0;
  return 1;
}

static int ref_len(unsigned char c)
{
  if (c < 0x80)
    return 1;
  if ((c & 0xe0) == 0xc0)
    return 2;
  if ((c & 0xf0) == 0xe0)
    return 3;
  if ((c & 0xf8) == 0xf0)
    return 4;
  return 0; /* a continuation byte, or F8..FF */
}

/* The fail-fast answer: the first index k such that s[0..k] cannot begin
 * valid UTF-8. */
static long ref_check(const unsigned char *s, size_t len)
{
  size_t i = 0;
  while (i < len) {
    int n = ref_len(s[i]);
    if (n == 0)
      return (long)i;
    for (size_t m = 1; m <= (size_t)n; m++) {
      if (i + m > len)
        return INCOMPLETE;
      if (!ref_prefix_ok(s + i, m, n))
        return (long)(i + m - 1);
    }
    i += (size_t)n;
  }
  return COMPLETE;
}

/* ---- named cases ---- */

Test(ws_utf8, empty_and_ascii)
{
  expect("empty", "", 0, COMPLETE);
  EXPECT("hello", "Hello-World", COMPLETE);
  EXPECT("nul", "a\0b", COMPLETE); /* U+0000 is a character */
  EXPECT("del", "\x7f", COMPLETE);
}

Test(ws_utf8, valid_text)
{
  /* Greek "kosme", the stress test's first line (Autobahn 6.2). */
  EXPECT("kosme", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", COMPLETE);
  EXPECT("mixed",
         "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0"
         "\xc3\xa1-UTF-8!!",
         COMPLETE);
  EXPECT("cjk", "\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xb8\x96\xe7\x95\x8c", COMPLETE);
  EXPECT("emoji", "\xf0\x9f\x98\x80\xf0\x9f\x8e\x89", COMPLETE);
}

Test(ws_utf8, boundaries)
{
  /* Stress test 2.1-2.3 (Autobahn 6.6-6.8): first and last of each length
   * and the other boundary conditions. */
  EXPECT("U+0000", "\x00", COMPLETE);
  EXPECT("U+0080", "\xc2\x80", COMPLETE);
  EXPECT("U+0800", "\xe0\xa0\x80", COMPLETE);
  EXPECT("U+10000", "\xf0\x90\x80\x80", COMPLETE);
  EXPECT("U+007F", "\x7f", COMPLETE);
  EXPECT("U+07FF", "\xdf\xbf", COMPLETE);
  EXPECT("U+FFFF", "\xef\xbf\xbf", COMPLETE);
  EXPECT("U+10FFFF", "\xf4\x8f\xbf\xbf", COMPLETE);
  EXPECT("U+D7FF", "\xed\x9f\xbf", COMPLETE);
  EXPECT("U+E000", "\xee\x80\x80", COMPLETE);
  EXPECT("U+FFFD", "\xef\xbf\xbd", COMPLETE);
  /* Past the end of Unicode: F4 90 fails at the 90. */
  EXPECT("U+110000", "\xf4\x90\x80\x80", 1);
  EXPECT("U+1FFFFF", "\xf7\xbf\xbf\xbf", 0);
  EXPECT("5 bytes", "\xf8\x88\x80\x80\x80", 0);
  EXPECT("6 bytes", "\xfc\x84\x80\x80\x80\x80", 0);
}

Test(ws_utf8, noncharacters_are_valid)
{
  /* Stress test 5.3 (Autobahn 6.22-6.23): noncharacters are scalar values,
   * valid in UTF-8. */
  EXPECT("U+FFFE", "\xef\xbf\xbe", COMPLETE);
  EXPECT("U+FDD0", "\xef\xb7\x90", COMPLETE);
  EXPECT("U+1FFFF", "\xf0\x9f\xbf\xbf", COMPLETE);
  EXPECT("U+10FFFE", "\xf4\x8f\xbf\xbe", COMPLETE);
}

Test(ws_utf8, unexpected_continuation)
{
  /* Stress test 3.1 (Autobahn 6.9-6.10). */
  EXPECT("80", "\x80", 0);
  EXPECT("bf", "\xbf", 0);
  EXPECT("a 80", "a\x80", 1);
  EXPECT("2-byte + extra", "\xc2\x80\x80", 2);
  EXPECT("3-byte + extra", "\xe2\x82\xac\xbf", 3);
  char all[64];
  for (int i = 0; i < 64; i++)
    all[i] = (char)(0x80 + i);
  expect("all continuations", all, sizeof(all), 0);
}

Test(ws_utf8, lonely_start_bytes)
{
  /* Stress test 3.2 (Autobahn 6.11-6.12): a lead byte followed by a space
   * fails at the space; C0, C1 and F5..FF fail at once. */
  char b[2] = {0, ' '};
  for (int c = 0xc0; c <= 0xff; c++) {
    b[0] = (char)c;
    long want = (c <= 0xc1 || c >= 0xf5) ? 0 : 1;
    char name[32];
    snprintf(name, sizeof(name), "lonely %02x", c);
    expect(name, b, 2, want);
  }
}

Test(ws_utf8, missing_last_byte)
{
  /* Stress test 3.3-3.4 (Autobahn 6.13-6.14): the input ends inside a
   * character: valid so far, not complete; the next character's lead
   * byte is where it fails when it follows. */
  EXPECT("c2", "\xc2", INCOMPLETE);
  EXPECT("e0 a0", "\xe0\xa0", INCOMPLETE);
  EXPECT("f0 90 80", "\xf0\x90\x80", INCOMPLETE);
  EXPECT("df", "\xdf", INCOMPLETE);
  EXPECT("ef bf", "\xef\xbf", INCOMPLETE);
  EXPECT("f4 8f bf", "\xf4\x8f\xbf", INCOMPLETE);
  EXPECT("concatenated", "\xc0\xe0\x80\xf0\x80\x80", 0);
  EXPECT("cut then ascii",
         "\xe2\x82"
         "a",
         2);
  EXPECT("cut then lead", "\xe2\x82\xe2\x82\xac", 2);
}

Test(ws_utf8, impossible_bytes)
{
  /* Stress test 3.5 (Autobahn 6.15-6.16). */
  EXPECT("fe", "\xfe", 0);
  EXPECT("ff", "\xff", 0);
  EXPECT("fe fe ff ff", "\xfe\xfe\xff\xff", 0);
  EXPECT("a fe", "abc\xfe", 3);
}

Test(ws_utf8, overlong)
{
  /* Stress test 4.1-4.3 (Autobahn 6.17-6.19): overlong forms fail at the
   * first byte that makes them overlong. */
  EXPECT("/ in 2", "\xc0\xaf", 0);
  EXPECT("/ in 3", "\xe0\x80\xaf", 1);
  EXPECT("/ in 4", "\xf0\x80\x80\xaf", 1);
  EXPECT("/ in 5", "\xf8\x80\x80\x80\xaf", 0);
  EXPECT("max 2", "\xc1\xbf", 0);
  EXPECT("max 3", "\xe0\x9f\xbf", 1);
  EXPECT("max 4", "\xf0\x8f\xbf\xbf", 1);
  EXPECT("nul in 2", "\xc0\x80", 0);
  EXPECT("nul in 3", "\xe0\x80\x80", 1);
  EXPECT("nul in 4", "\xf0\x80\x80\x80", 1);
}

Test(ws_utf8, surrogates)
{
  /* Stress test 5.1-5.2 (Autobahn 6.20-6.21): ED A0..BF fails at the
   * second byte. */
  static const char *const single[] = {
      "\xed\xa0\x80", "\xed\xad\xbf", "\xed\xae\x80", "\xed\xaf\xbf",
      "\xed\xb0\x80", "\xed\xbe\x80", "\xed\xbf\xbf"};
  for (size_t i = 0; i < sizeof(single) / sizeof(single[0]); i++)
    expect("single surrogate", single[i], 3, 1);
  EXPECT("pair", "\xed\xa0\x80\xed\xb0\x80", 1);
  EXPECT("pair last", "\xed\xaf\xbf\xed\xbf\xbf", 1);
  EXPECT("after text", "ab\xed\xa0\x80", 3);
}

Test(ws_utf8, fail_fast_in_text)
{
  /* Autobahn 6.3-6.4: valid text, then a sequence that cannot go on; the
   * failure is at its second byte, before the rest of the text. */
  EXPECT("kosme + f4 90",
         "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"
         "\xf4\x90\x80\x80"
         "edited",
         12);
  EXPECT("kosme + ed a0",
         "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"
         "edited",
         12);
}

Test(ws_utf8, across_calls)
{
  /* A character split between two calls (two fragments of a message). */
  wire_utf8_t u;
  wire_utf8_init(&u);
  cr_assert_eq(wire_utf8_validate(&u, "a\xe2\x82", 3), 3);
  cr_assert(!wire_utf8_complete(&u));
  cr_assert(!wire_utf8_failed(&u));
  cr_assert_eq(wire_utf8_validate(&u, "\xac", 1), 1);
  cr_assert(wire_utf8_complete(&u));
  /* A failure in the second piece is reported at its index there. */
  cr_assert_eq(wire_utf8_validate(&u, "\xf4", 1), 1);
  cr_assert_eq(wire_utf8_validate(&u, "\x90", 1), 0);
  cr_assert(wire_utf8_failed(&u));
  cr_assert_eq(wire_utf8_validate(&u, "ok", 2), 0);
}

Test(ws_utf8, block_edges)
{
  /* The ASCII scanner works in blocks of 8, 16 and 32 bytes: put a bad
   * byte, a two-byte character, a three-byte character and a cut character
   * at every position of inputs up to 100 bytes. */
  char buf[128];
  for (size_t len = 1; len <= 100; len++) {
    for (size_t at = 0; at < len; at++) {
      memset(buf, 'x', len);
      buf[at] = (char)0x80;
      cr_assert_eq(check_n(buf, len), (long)at, "len %zu at %zu", len, at);
      buf[at] = (char)0xff;
      cr_assert_eq(check_n(buf, len), (long)at, "len %zu at %zu", len, at);
      if (at + 1 < len) {
        buf[at] = (char)0xc3;
        buf[at + 1] = (char)0xa9;
        cr_assert_eq(check_n(buf, len), COMPLETE, "len %zu at %zu", len, at);
      }
      if (at + 2 < len) {
        buf[at] = (char)0xe2;
        buf[at + 1] = (char)0x82;
        buf[at + 2] = (char)0xac;
        cr_assert_eq(check_n(buf, len), COMPLETE, "len %zu at %zu", len, at);
      }
      if (at + 1 == len) {
        buf[at] = (char)0xe2;
        cr_assert_eq(check_n(buf, len), INCOMPLETE, "len %zu", len);
      }
    }
  }
}

/* ---- sweeps against the reference ---- */

static void sweep_one(const unsigned char *s, size_t n)
{
  long want = ref_check(s, n);
  wire_utf8_t u;
  wire_utf8_init(&u);
  size_t r = wire_utf8_validate(&u, (const char *)s, n);
  long got = r < n ? (long)r : wire_utf8_complete(&u) ? COMPLETE : INCOMPLETE;
  if (got != want)
    cr_assert_fail("%02x %02x %02x %02x (n=%zu): got %ld, reference %ld", s[0],
                   n > 1 ? s[1] : 0, n > 2 ? s[2] : 0, n > 3 ? s[3] : 0, n, got,
                   want);
  /* Byte by byte gives the same. */
  wire_utf8_init(&u);
  long bytewise = COMPLETE;
  for (size_t i = 0; i < n; i++) {
    if (wire_utf8_validate(&u, (const char *)s + i, 1) == 0) {
      bytewise = (long)i;
      break;
    }
  }
  if (bytewise == COMPLETE && !wire_utf8_complete(&u))
    bytewise = INCOMPLETE;
  cr_assert_eq(bytewise, want);
}

Test(ws_utf8, sweep_one_to_three_bytes, .timeout = 120)
{
  unsigned char s[4];
  for (unsigned a = 0; a < 256; a++) {
    s[0] = (unsigned char)a;
    sweep_one(s, 1);
    for (unsigned b = 0; b < 256; b++) {
      s[1] = (unsigned char)b;
      sweep_one(s, 2);
      /* Three bytes: every third byte only after a lead byte (the rest
       * is decided by the first two). */
      if (a < 0xc0)
        continue;
      for (unsigned c = 0; c < 256; c++) {
        s[2] = (unsigned char)c;
        sweep_one(s, 3);
      }
    }
  }
}

Test(ws_utf8, sweep_four_bytes, .timeout = 120)
{
  static const unsigned char fourth[] = {0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90,
                                         0xa5, 0xbf, 0xc0, 0xe0, 0xf0, 0xff};
  unsigned char s[4];
  for (unsigned a = 0xe0; a < 0x100; a++) {
    s[0] = (unsigned char)a;
    for (unsigned b = 0; b < 256; b++) {
      s[1] = (unsigned char)b;
      for (unsigned c = 0; c < 256; c++) {
        s[2] = (unsigned char)c;
        for (size_t k = 0; k < sizeof(fourth); k++) {
          s[3] = fourth[k];
          sweep_one(s, 4);
        }
      }
    }
  }
}

Test(ws_utf8, random_text_against_reference)
{
  /* Random mixes of valid characters and occasional bad bytes, long
   * enough to go through the block scanner, split at random. */
  static const char *const pieces[] = {"a",
                                       "hello world, ",
                                       "\xc3\xa9",
                                       "\xe2\x82\xac",
                                       "\xf0\x9f\x98\x80",
                                       "\xed\x9f\xbf",
                                       "\xef\xbf\xbf",
                                       "0123456789abcdef",
                                       "\xf4\x8f\xbf\xbf"};
  static const char *const bad[] = {"\x80",     "\xc0\xaf", "\xed\xa0\x80",
                                    "\xf4\x90", "\xe2\x82", "\xff"};
  char buf[2048];
  rng_state = 12345;
  for (int iter = 0; iter < 300; iter++) {
    size_t len = 0;
    size_t target = 1 + rnd(1500);
    while (len + 32 < target) {
      const char *p = pieces[rnd(sizeof(pieces) / sizeof(pieces[0]))];
      if (rnd(200) == 0)
        p = bad[rnd(sizeof(bad) / sizeof(bad[0]))];
      size_t n = strlen(p);
      memcpy(buf + len, p, n);
      len += n;
    }
    long want = ref_check((const unsigned char *)buf, len);
    uint64_t saved = rng_state;
    long got = check_n(buf, len);
    rng_state = saved;
    cr_assert_eq(got, want, "iteration %d: got %ld, reference %ld", iter, got,
                 want);
  }
}

/* The ASCII scanner's tail: a run of ASCII after a character, with a bad
 * byte (or none) anywhere in it, for every length around the 8- and
 * 16-byte blocks; the tail load may cover the character before the run,
 * which must not count as the bad byte. Whole calls on guarded input. */
Test(ws_utf8, ascii_run_tails)
{
  char buf[64];
  for (size_t pre = 0; pre <= 2; pre += 2) {
    for (size_t len = pre + 1; len <= sizeof(buf); len++) {
      for (size_t bad = pre; bad <= len; bad++) {
        memset(buf, 'a', len);
        if (pre > 0)
          memcpy(buf, "\xc3\xa9", 2); /* U+00E9 */
        if (bad < len)
          buf[bad] = (char)0xff;
        wire_utf8_t u;
        wire_utf8_init(&u);
        size_t n = wire_utf8_validate(&u, guarded(buf, len), len);
        cr_assert_eq(n, bad, "pre %zu len %zu bad %zu: %zu", pre, len, bad, n);
        cr_assert_eq(wire_utf8_complete(&u), bad == len);
      }
    }
  }
}
