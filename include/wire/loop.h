/* The event loop. One loop per thread; every wire object belongs to the loop
 * it was created on and may be used only from that loop's thread. The only
 * call that is safe from any thread is wire_loop_post().
 *
 * wire_loop_close() is also the leak check: it returns WIRE_EBUSY while any
 * object created on the loop is still alive. */
#ifndef WIRE_LOOP_H
#define WIRE_LOOP_H

#include <stdint.h>

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wire_loop_s wire_loop_t;
typedef struct wire_timer_s wire_timer_t;

typedef enum {
  WIRE_RUN_DEFAULT = 0, /* until nothing is left to do or wire_loop_stop */
  WIRE_RUN_ONCE,        /* one turn, waiting for I/O if there is none */
  WIRE_RUN_NOWAIT       /* one turn, without waiting */
} wire_run_mode_t;

/* The process-wide default loop, created on first use. NULL only if memory
 * ran out. Close it with wire_loop_close() like any other loop. */
WIRE_EXTERN wire_loop_t *wire_loop_default(void);

/* A new loop. Returns 0 and sets *out, or WIRE_ENOMEM / a libuv error. */
WIRE_EXTERN int wire_loop_create(wire_loop_t **out);

/* Runs the loop. In WIRE_RUN_DEFAULT mode returns when no object keeps it
 * alive (nothing listening, connecting, reading, writing, no ref'd timer) or
 * after wire_loop_stop(). Returns non-zero if work is still pending. */
WIRE_EXTERN int wire_loop_run(wire_loop_t *loop, wire_run_mode_t mode);

/* Makes wire_loop_run() return at the end of the current turn. */
WIRE_EXTERN void wire_loop_stop(wire_loop_t *loop);

/* Frees the loop. Returns WIRE_EBUSY, and frees nothing, while any object
 * created on it has not finished closing; tests use this as a leak check.
 * Returns 0 when the loop is gone. */
WIRE_EXTERN int wire_loop_close(wire_loop_t *loop);

/* Number of wire objects alive on the loop (those wire_loop_close counts). */
WIRE_EXTERN unsigned wire_loop_alive(const wire_loop_t *loop);

typedef void (*wire_post_cb)(void *arg);

/* Runs fn(arg) on the loop's thread on a later turn. Safe from any thread;
 * the one thread-safe call in wire. Calls posted from one thread run in the
 * order they were posted. Returns 0 or WIRE_ENOMEM. */
WIRE_EXTERN int wire_loop_post(wire_loop_t *loop, wire_post_cb fn, void *arg);

/* The loop's cached time in milliseconds (monotonic, updated every turn). */
WIRE_EXTERN uint64_t wire_loop_now(const wire_loop_t *loop);

/* The underlying uv_loop_t, for programs that mix wire with plain libuv. */
WIRE_EXTERN void *wire_loop_uv(wire_loop_t *loop);

/* Timers: Node's setTimeout/setInterval. */
typedef void (*wire_timer_cb)(wire_timer_t *t, void *data);
typedef void (*wire_timer_close_cb)(wire_timer_t *t, void *data);

/* A stopped timer. Returns 0 and sets *out, or WIRE_ENOMEM. */
WIRE_EXTERN int wire_timer_create(wire_loop_t *loop, wire_timer_t **out);

/* Fires cb after timeout_ms, then every repeat_ms if repeat_ms > 0 (a
 * setInterval). Starting a started timer restarts it. */
WIRE_EXTERN int wire_timer_start(wire_timer_t *t, uint64_t timeout_ms,
                                 uint64_t repeat_ms, wire_timer_cb cb);
WIRE_EXTERN void wire_timer_stop(wire_timer_t *t);

/* A timer that is unref'd does not keep wire_loop_run() alive (Node's
 * timeout.unref()). */
WIRE_EXTERN void wire_timer_ref(wire_timer_t *t);
WIRE_EXTERN void wire_timer_unref(wire_timer_t *t);

WIRE_EXTERN void wire_timer_set_data(wire_timer_t *t, void *data);
WIRE_EXTERN void *wire_timer_data(const wire_timer_t *t);

/* Stops and frees the timer; cb (may be NULL) runs on a later turn, after
 * which the memory is gone. */
WIRE_EXTERN void wire_timer_close(wire_timer_t *t, wire_timer_close_cb cb);

#ifdef __cplusplus
}
#endif
#endif
