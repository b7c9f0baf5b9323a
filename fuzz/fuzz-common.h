/* What both libFuzzer targets share: the invariant check, the hash that
 * sums up what a run saw (so runs fed differently can be compared), and
 * the seeded choice of piece sizes. */
#ifndef WIRE_FUZZ_COMMON_H
#define WIRE_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                          \
  do {                                                                       \
    if (!(cond)) {                                                           \
      fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__,     \
              __LINE__);                                                     \
      abort();                                                               \
    }                                                                        \
  } while (0)

/* FNV-1a over n bytes, continuing from h. */
static inline uint64_t mix(uint64_t h, const void *p, size_t n)
{
  const unsigned char *s = p;
  for (size_t i = 0; i < n; i++) {
    h ^= s[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

static inline uint64_t mix_u(uint64_t h, uint64_t v)
{
  return mix(h, &v, sizeof(v));
}

static uint64_t rng;

/* Starts the piece sizes of one feeding. */
static inline void pieces_seed(uint64_t seed, int mode)
{
  rng = seed * 0x9e3779b97f4a7c15ull + (uint64_t)mode + 1;
}

static inline unsigned rnd(unsigned n)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (unsigned)(rng % n);
}

/* The next piece of left bytes: all of them (mode 0), one (mode 1), or a
 * random 1..7 (mode 2) or 1..64 (mode 3+). */
static inline size_t piece_len(size_t left, int mode)
{
  if (mode == 1)
    return 1;
  if (mode >= 2) {
    size_t k = 1 + rnd(mode == 2 ? 7 : 64);
    if (k < left)
      return k;
  }
  return left;
}

#endif
