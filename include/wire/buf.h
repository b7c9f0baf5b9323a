/* wire_buf_t: a view of bytes. It never owns memory. Zero-copy writes take
 * arrays of them and borrow the bytes until their completion callback. */
#ifndef WIRE_BUF_H
#define WIRE_BUF_H

#include <stddef.h>

typedef struct {
  char *base;
  size_t len;
} wire_buf_t;

/* A view of len bytes at base. */
static inline wire_buf_t wire_buf(const void *base, size_t len)
{
  wire_buf_t b;
  b.base = (char *)base;
  b.len = len;
  return b;
}

#endif
