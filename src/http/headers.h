/* Header storage for parsed messages: the parser hands out views valid
 * only during its callbacks, and the loop's read buffer is shared, so a
 * message's start-line pieces and header lines are copied here as they
 * arrive. Strings are NUL-terminated in one growable buffer (inline start,
 * hard limit); an index keeps (name, value) offsets in arrival order,
 * headers first, then trailers. */
#ifndef WIRE_HTTP_HEADERS_H
#define WIRE_HTTP_HEADERS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint32_t name;
  uint32_t value;
} wire__hdr_t;

typedef struct {
  char *p;
  size_t len;
  size_t cap;
  size_t limit;
  char *ibuf; /* the inline buffer p starts as */
  wire__hdr_t *h;
  wire__hdr_t *ih;
  uint32_t nhdrs;
  uint32_t ntrailers;
  uint32_t hcap;
  uint32_t ihcap;
  uint32_t field_start;
  uint8_t in_value;
  uint8_t has_field;
} wire__hstore_t;

void wire__hstore_init(wire__hstore_t *st, char *ibuf, size_t ibuf_len,
                       wire__hdr_t *ih, uint32_t ih_len, size_t limit);
/* Empties the store, keeping any grown buffers. */
void wire__hstore_reset(wire__hstore_t *st);
void wire__hstore_free(wire__hstore_t *st);
/* Appends a piece of a start-line element; on last, terminates it. The
 * element starts at the offset wire__hstore_mark returned before its first
 * piece. Returns 0, WIRE_ETOOBIG or WIRE_ENOMEM. */
size_t wire__hstore_mark(const wire__hstore_t *st);
int wire__hstore_piece(wire__hstore_t *st, const char *at, size_t len,
                       int last);
int wire__hstore_field(wire__hstore_t *st, const char *at, size_t len,
                       int last);
int wire__hstore_value(wire__hstore_t *st, const char *at, size_t len,
                       int last, int trailer);
/* A field name (RFC 9110 token) / a field value without CR, LF, NUL or
 * other controls but HTAB: what the server and client accept from the
 * application, so nothing can split a head. */
int wire__http_valid_token(const char *s);
int wire__http_valid_value(const char *s);
/* The same checks, also giving the length (set on success). */
int wire__http_check_token(const char *s, size_t *len);
int wire__http_check_value(const char *s, size_t *len);

const char *wire__hstore_str(const wire__hstore_t *st, uint32_t off);
/* The first value of a header (or trailer) by case-insensitive name. */
const char *wire__hstore_get(const wire__hstore_t *st, const char *name,
                             int trailer);
int wire__hstore_at(const wire__hstore_t *st, size_t i, const char **name,
                    const char **value);

#endif
