/* Header storage: see headers.h. */
#include <string.h>
#include <strings.h>

#include "../core/internal.h"
#include "headers.h"
#include "parser.h"

int wire__http_check_token(const char *s, size_t *len)
{
  const unsigned char *p = (const unsigned char *)s;
  for (;;) {
    if (!wire_http_tchar[p[0]])
      break;
    if (!wire_http_tchar[p[1]]) {
      p += 1;
      break;
    }
    if (!wire_http_tchar[p[2]]) {
      p += 2;
      break;
    }
    if (!wire_http_tchar[p[3]]) {
      p += 3;
      break;
    }
    p += 4;
  }
  *len = (size_t)((const char *)p - s);
  return *p == '\0' && *len > 0;
}

/* Field value bytes (RFC 9110 5.5): HTAB, SP, VCHAR, obs-text; 0 for the
 * rest, NUL included, so a scan stops at the end of the string. */
static const uint8_t value_char[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

int wire__http_check_value(const char *s, size_t *len)
{
  const unsigned char *p = (const unsigned char *)s;
  for (;;) {
    if (!value_char[p[0]])
      break;
    if (!value_char[p[1]]) {
      p += 1;
      break;
    }
    if (!value_char[p[2]]) {
      p += 2;
      break;
    }
    if (!value_char[p[3]]) {
      p += 3;
      break;
    }
    p += 4;
  }
  *len = (size_t)((const char *)p - s);
  return *p == '\0';
}

int wire__http_valid_token(const char *s)
{
  size_t n;
  return wire__http_check_token(s, &n);
}

int wire__http_valid_value(const char *s)
{
  size_t n;
  return wire__http_check_value(s, &n);
}

void wire__hstore_init(wire__hstore_t *st, char *ibuf, size_t ibuf_len,
                       wire__hdr_t *ih, uint32_t ih_len, size_t limit)
{
  memset(st, 0, sizeof(*st));
  st->p = st->ibuf = ibuf;
  st->cap = ibuf_len;
  st->h = st->ih = ih;
  st->hcap = st->ihcap = ih_len;
  st->limit = limit;
}

void wire__hstore_reset(wire__hstore_t *st)
{
  st->len = 0;
  st->nhdrs = 0;
  st->ntrailers = 0;
  st->field_start = 0;
  st->in_value = 0;
  st->has_field = 0;
}

void wire__hstore_free(wire__hstore_t *st)
{
  if (st->p != st->ibuf)
    wire__free(st->p);
  if (st->h != st->ih)
    wire__free(st->h);
  st->p = st->ibuf;
  st->cap = st->ibuf != NULL ? st->cap : 0;
  st->h = st->ih;
  st->hcap = st->ihcap;
  wire__hstore_reset(st);
}

static int grow(wire__hstore_t *st, size_t n)
{
  if (n > st->limit || st->len > st->limit - n)
    return WIRE_ETOOBIG;
  return wire__buf_grow(&st->p, &st->cap, st->len, n, st->ibuf, 0);
}

size_t wire__hstore_mark(const wire__hstore_t *st)
{
  return st->len;
}

int wire__hstore_piece(wire__hstore_t *st, const char *at, size_t len,
                       int last)
{
  int err = grow(st, len + (last ? 1 : 0));
  if (err < 0)
    return err;
  if (len > 0)
    memcpy(st->p + st->len, at, len);
  st->len += len;
  if (last)
    st->p[st->len++] = '\0';
  return 0;
}

int wire__hstore_field(wire__hstore_t *st, const char *at, size_t len,
                       int last)
{
  if (st->in_value || !st->has_field) {
    st->in_value = 0;
    st->has_field = 1;
    st->field_start = (uint32_t)st->len;
  }
  return wire__hstore_piece(st, at, len, last);
}

int wire__hstore_value(wire__hstore_t *st, const char *at, size_t len,
                       int last, int trailer)
{
  if (!st->in_value) {
    st->in_value = 1;
    uint32_t n = st->nhdrs + st->ntrailers;
    if (n == st->hcap) {
      uint32_t cap = st->hcap ? st->hcap * 2 : 16;
      wire__hdr_t *h = wire__malloc(cap * sizeof(*h));
      if (h == NULL)
        return WIRE_ENOMEM;
      if (n > 0)
        memcpy(h, st->h, n * sizeof(*h));
      if (st->h != st->ih)
        wire__free(st->h);
      st->h = h;
      st->hcap = cap;
    }
    st->h[n].name = st->field_start;
    st->h[n].value = (uint32_t)st->len;
    if (trailer)
      st->ntrailers++;
    else
      st->nhdrs++;
  }
  int err = wire__hstore_piece(st, at, len, 0);
  if (err < 0 || !last)
    return err;
  /* A split value may end in whitespace that turned out to be trailing
   * (parser.h): trim it, then terminate. */
  uint32_t start = st->h[st->nhdrs + st->ntrailers - 1].value;
  while (st->len > start &&
         (st->p[st->len - 1] == ' ' || st->p[st->len - 1] == '\t'))
    st->len--;
  st->has_field = 0;
  return wire__hstore_piece(st, "", 0, 1);
}

const char *wire__hstore_str(const wire__hstore_t *st, uint32_t off)
{
  return st->p + off;
}

const char *wire__hstore_get(const wire__hstore_t *st, const char *name,
                             int trailer)
{
  uint32_t from = trailer ? st->nhdrs : 0;
  uint32_t to = trailer ? st->nhdrs + st->ntrailers : st->nhdrs;
  for (uint32_t i = from; i < to; i++) {
    if (strcasecmp(st->p + st->h[i].name, name) == 0)
      return st->p + st->h[i].value;
  }
  return NULL;
}

int wire__hstore_at(const wire__hstore_t *st, size_t i, const char **name,
                    const char **value)
{
  if (i >= st->nhdrs)
    return WIRE_EINVAL;
  *name = st->p + st->h[i].name;
  *value = st->p + st->h[i].value;
  return 0;
}
