/* What the pure codec tests (test-http-parser.c, test-ws-frame.c) share:
 * a growable log string, the guard page every piece is copied against (a
 * read past the input faults), and the seeded generator of split points. */
#ifndef WIRE_TEST_CODEC_FEED_H
#define WIRE_TEST_CODEC_FEED_H

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ---- a growable string ---- */

typedef struct {
  char *s;
  size_t len, cap;
} str_t;

static inline void str_add(str_t *b, const void *s, size_t n)
{
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1)
      cap *= 2;
    b->s = realloc(b->s, cap);
    cr_assert_not_null(b->s);
    b->cap = cap;
  }
  if (n > 0)
    memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

static inline void str_printf(str_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline void str_printf(str_t *b, const char *fmt, ...)
{
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
  va_end(ap);
  str_add(b, tmp, (size_t)n);
}

static inline void str_free(str_t *b)
{
  free(b->s);
  memset(b, 0, sizeof(*b));
}

/* ---- the guard page ---- */

#define GUARD_SPAN (1u << 21)
static char *guard_base;
static size_t page_size;

/* Copies data so that it ends right before a PROT_NONE page. */
static inline char *guarded(const char *data, size_t len)
{
  if (guard_base == NULL) {
    page_size = (size_t)sysconf(_SC_PAGESIZE);
    void *m = mmap(NULL, GUARD_SPAN + page_size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(m, MAP_FAILED);
    guard_base = m;
    cr_assert_eq(mprotect(guard_base + GUARD_SPAN, page_size, PROT_NONE), 0);
  }
  cr_assert_leq(len, GUARD_SPAN);
  char *dst = guard_base + GUARD_SPAN - len;
  if (len > 0)
    memcpy(dst, data, len);
  return dst;
}

/* ---- split points ---- */

static uint64_t rng_state;
static inline unsigned rnd(unsigned n)
{
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (unsigned)(rng_state % n);
}

#endif
