/* The UTF-8 validator for WebSocket text messages and close reasons.
 * Internal to the library.
 *
 * Pure: it includes only libc, never allocates and never does I/O. It is
 * incremental: the state of a character split across calls (across reads,
 * across the fragments of a message) is carried in wire_utf8_t, one byte.
 *
 * Strict: it accepts exactly the well-formed UTF-8 of Unicode (Table 3-7 of
 * the Unicode Standard, RFC 3629 section 4): no overlong forms, no
 * surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no stray or missing
 * continuation bytes. Fail-fast: it reports the first byte that no valid
 * continuation could follow, not the end of the bad character (E0 80 fails
 * at the 80, ED A0 at the A0, F4 90 at the 90), as RFC 6455 8.1 and the
 * Autobahn testsuite (section 6) expect of an endpoint. An input that ends
 * inside a character is valid so far; wire_utf8_complete() tells whether a
 * message may end there.
 *
 * Speed: spans of ASCII are skipped sixteen bytes at a time with SSE2
 * (eight at a time with 64-bit words on other CPUs); other bytes go through
 * a small table-driven automaton. */
#ifndef WIRE_WS_UTF8_H
#define WIRE_WS_UTF8_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The validator's state. Zero-initialised (or wire_utf8_init) it is at the
 * start of a text, between characters. Copyable. */
typedef struct {
  uint8_t state; /* private */
} wire_utf8_t;

/* Between two characters (the start). */
#define WIRE_UTF8_ACCEPT 0
/* The input can no longer be valid UTF-8; sticky. */
#define WIRE_UTF8_REJECT 8

static inline void wire_utf8_init(wire_utf8_t *u)
{
  u->state = WIRE_UTF8_ACCEPT;
}

/* Validates len bytes that continue the text seen so far. Returns len when
 * none of them makes the text invalid (it may end inside a character), or
 * the index (< len) of the first byte that does: u then stays failed, and
 * later calls return 0. data may be NULL when len is 0. Reads exactly the
 * bytes [data, data + len). */
size_t wire_utf8_validate(wire_utf8_t *u, const char *data, size_t len);

/* Whether the text may end here: not failed and not inside a character. */
static inline int wire_utf8_complete(const wire_utf8_t *u)
{
  return u->state == WIRE_UTF8_ACCEPT;
}

/* Whether the text seen so far is invalid. */
static inline int wire_utf8_failed(const wire_utf8_t *u)
{
  return u->state == WIRE_UTF8_REJECT;
}

/* Whether [data, data + len) is one whole valid UTF-8 text. */
int wire_utf8_is_valid(const char *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif
