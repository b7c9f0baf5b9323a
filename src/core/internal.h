/* Shared internals of libwire: allocation, the refcounted object header,
 * the loop's private state and the per-turn flush and defer queues. Only
 * src/ includes this file. */
#ifndef WIRE_CORE_INTERNAL_H
#define WIRE_CORE_INTERNAL_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "wire.h"

/* ---- allocation (every allocation in libwire goes through these) ---- */

void *wire__malloc(size_t n);
void *wire__calloc(size_t n, size_t size);
void *wire__realloc(void *p, size_t n);
/* Room for need more bytes after the len held in *p (capacity *cap): the
 * capacity doubles from 256 until they fit, but stays at most max when
 * that is enough (max 0: no such bound). fixed (or NULL) is storage the
 * buffer may be in that is not the heap's: it is copied from, never
 * reallocated. The caller checks its own limit first. Returns 0, or
 * WIRE_ENOMEM with the buffer as it was. */
int wire__buf_grow(char **p, size_t *cap, size_t len, size_t need,
                   const char *fixed, size_t max);
void wire__free(void *p);
char *wire__strdup(const char *s);
/* Debug builds overwrite n bytes at p with a poison pattern before a free. */
void wire__poison(void *p, size_t n);

/* ---- objects ---------------------------------------------------------- */

/* Every wire object starts with this header. refs starts at 1 (the user's
 * reference, dropped when the object's close completes); each in-flight
 * libuv request and each call into user code holds one more. When refs
 * reaches 0, finalize frees the object and the loop counts one fewer. */
typedef struct wire__obj_s wire__obj_t;
typedef void (*wire__finalize_fn)(wire__obj_t *o);

struct wire__obj_s {
  wire_loop_t *loop;
  wire__finalize_fn finalize;
  uint32_t refs;
};

void wire__obj_init(wire__obj_t *o, wire_loop_t *loop, wire__finalize_fn fn);
/* The last reference went: finalize, and the loop counts one fewer. */
void wire__obj_release(wire__obj_t *o);

/* Inline: a request takes and drops several references on hot paths. */
static inline void wire__obj_ref(wire__obj_t *o)
{
  assert(o->refs > 0);
  o->refs++;
}

static inline void wire__obj_unref(wire__obj_t *o)
{
  assert(o->refs > 0);
  if (--o->refs == 0)
    wire__obj_release(o);
}

/* ---- per-turn work ----------------------------------------------------- */

/* A node in the loop's flush list: fn runs once at the end of the current
 * loop turn (before the loop blocks for I/O, and right after I/O
 * callbacks), however many times the node was queued in the turn. Used to
 * coalesce the writes of one turn into one syscall. */
typedef struct wire__flush_s wire__flush_t;
struct wire__flush_s {
  wire__flush_t *next;
  void (*fn)(wire__flush_t *f);
};

void wire__flush_queue(wire_loop_t *loop, wire__flush_t *f);
/* Removes f from the list if it is queued (an object closing). */
void wire__flush_cancel(wire_loop_t *loop, wire__flush_t *f);

/* Runs fn(arg) on a later loop turn (Node's process.nextTick / setImmediate
 * for library use: callbacks must never run inside the call that asked for
 * them). Keeps the loop alive until it ran. Returns 0 or WIRE_ENOMEM. */
int wire__defer(wire_loop_t *loop, void (*fn)(void *arg), void *arg);

/* ---- loop-wide singletons and close hooks ------------------------------ */

/* Objects a module keeps one of per loop (the HTTP global agent). */
enum { WIRE__SLOT_AGENT, WIRE__SLOT_COUNT_ };
void **wire__loop_slot(wire_loop_t *loop, int slot);

/* A hook run by wire_loop_close before it counts the objects still alive,
 * for singletons the library made on its own (the global agent): they
 * start closing in fn, and the loop runs until they are gone. */
typedef struct wire__close_hook_s wire__close_hook_t;
struct wire__close_hook_s {
  wire__close_hook_t *next;
  void (*fn)(wire__close_hook_t *h);
};
void wire__loop_add_close_hook(wire_loop_t *loop, wire__close_hook_t *h);
void wire__loop_remove_close_hook(wire_loop_t *loop, wire__close_hook_t *h);

/* ---- the loop ---------------------------------------------------------- */

#define WIRE__READ_BUF_SIZE (64 * 1024)

uv_loop_t *wire__uv(wire_loop_t *loop);
wire_loop_t *wire__loop_of(uv_loop_t *uv);

/* The loop's one read buffer, lent to whichever stream reads next; its
 * contents are valid until the read callback returns. */
void wire__read_buf(wire_loop_t *loop, uv_buf_t *out);

/* Write chunks: fixed-size blocks the write queues copy into, recycled
 * through a bounded per-loop free list so a steady stream of writes
 * allocates nothing. */
#define WIRE__CHUNK_SIZE (16 * 1024)
void *wire__chunk_get(wire_loop_t *loop);
void wire__chunk_put(wire_loop_t *loop, void *chunk);

/* Resolved address to text, as wire_addr_t. */
int wire__addr_from_sockaddr(const struct sockaddr *sa, wire_addr_t *out);

/* Parses an IPv4 or IPv6 literal (IPv6 may be bracketed) and port into
 * storage. Returns 0, or WIRE_EINVAL if host is not an IP literal. */
int wire__addr_parse(const char *host, int port,
                     struct sockaddr_storage *out);

#endif
