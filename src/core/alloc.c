/* Allocation. Every allocation in libwire goes through wire__malloc and
 * friends so that tests can make the Nth one fail: set
 * WIRE_TEST_FAIL_ALLOC=N in the environment of a test build and the Nth
 * allocation (counted from process start) returns NULL, which the library
 * must turn into WIRE_ENOMEM without leaking or crashing. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#ifdef WIRE_TEST_HOOKS
static long fail_at = -1;
static long counter;

static int should_fail(void)
{
  if (fail_at < 0) {
    const char *v = getenv("WIRE_TEST_FAIL_ALLOC");
    fail_at = (v != NULL) ? atol(v) : 0;
  }
  counter++;
  return fail_at > 0 && counter == fail_at;
}
#else
static int should_fail(void)
{
  return 0;
}
#endif

void *wire__malloc(size_t n)
{
  if (should_fail())
    return NULL;
  return malloc(n);
}

void *wire__calloc(size_t n, size_t size)
{
  if (should_fail())
    return NULL;
  return calloc(n, size);
}

void *wire__realloc(void *p, size_t n)
{
  if (should_fail())
    return NULL;
  return realloc(p, n);
}

int wire__buf_grow(char **p, size_t *cap, size_t len, size_t need,
                   const char *fixed, size_t max)
{
  if (len + need <= *cap)
    return 0;
  size_t c = *cap ? *cap * 2 : 256;
  while (c < len + need)
    c *= 2;
  if (max > 0 && c > max && len + need <= max)
    c = max;
  char *q;
  if (*p == fixed || *p == NULL) {
    q = wire__malloc(c);
    if (q != NULL && len > 0)
      memcpy(q, *p, len);
  } else {
    q = wire__realloc(*p, c);
  }
  if (q == NULL)
    return WIRE_ENOMEM;
  *p = q;
  *cap = c;
  return 0;
}

void wire__free(void *p)
{
  free(p);
}

char *wire__strdup(const char *s)
{
  size_t n = strlen(s) + 1;
  char *p = wire__malloc(n);
  if (p != NULL)
    memcpy(p, s, n);
  return p;
}

void wire__poison(void *p, size_t n)
{
#ifndef NDEBUG
  memset(p, 0xdb, n);
#else
  (void)p;
  (void)n;
#endif
}
