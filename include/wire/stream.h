/* The stream contract: a duplex byte stream with Node's semantics. TCP
 * sockets, Unix-domain sockets and (later) TLS sockets are all a
 * wire_socket_t and all meet this one contract, so protocols written on it
 * (HTTP, WebSocket, pipe) work on any of them.
 *
 * Events (set with wire_socket_on_<event>, all share the socket's one user
 * pointer, set with wire_socket_set_data):
 *   data(buf, len)  bytes arrived; the slice is valid during the call only
 *   end             the peer sent FIN; with allow_half_open off (the
 *                   default, as Node) wire ends its side too afterwards
 *   drain           the write queue fell back under the high-water mark
 *                   after a write returned 0
 *   timeout         no activity for the set_timeout period; nothing closes
 *   error(code)     something failed; close(had_error = 1) follows
 *   close(had_err)  the socket is gone; the last event
 *
 * Writes: wire_socket_write() copies and queues; small writes coalesce into
 * one writev, made when the socket's data callback returns for what it
 * writes to its own socket, else at the end of the loop turn. It returns 1
 * while the queue is under the high-water mark (16 KiB by default), 0 when
 * it is above (wait for drain), negative on error. The queue has a hard cap
 * (64 MiB by default): a write that would pass it fails with WIRE_ENOBUFS
 * and queues nothing.
 *
 * Closing: wire_socket_close() is Node's destroy(). Queued writes complete
 * with WIRE_ECANCELED, in order, then the close event and the close callback
 * run, on a later loop turn; then the memory is freed. Closing from inside
 * any callback of the socket is safe. */
#ifndef WIRE_STREAM_H
#define WIRE_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "export.h"
#include "loop.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wire_socket_s wire_socket_t;

typedef void (*wire_socket_data_cb)(wire_socket_t *s, const char *buf,
                                    size_t len, void *data);
typedef void (*wire_socket_event_cb)(wire_socket_t *s, void *data);
typedef void (*wire_socket_error_cb)(wire_socket_t *s, int err, void *data);
typedef void (*wire_socket_close_cb)(wire_socket_t *s, int had_error,
                                     void *data);
/* Completion of a zero-copy write: status 0, or a negative code
 * (WIRE_ECANCELED when the socket closed before the bytes went out). */
typedef void (*wire_write_cb)(wire_socket_t *s, int status, void *arg);

WIRE_EXTERN void wire_socket_on_data(wire_socket_t *s, wire_socket_data_cb cb);
WIRE_EXTERN void wire_socket_on_end(wire_socket_t *s, wire_socket_event_cb cb);
WIRE_EXTERN void wire_socket_on_drain(wire_socket_t *s,
                                      wire_socket_event_cb cb);
WIRE_EXTERN void wire_socket_on_timeout(wire_socket_t *s,
                                        wire_socket_event_cb cb);
WIRE_EXTERN void wire_socket_on_error(wire_socket_t *s,
                                      wire_socket_error_cb cb);
WIRE_EXTERN void wire_socket_on_close(wire_socket_t *s,
                                      wire_socket_close_cb cb);

WIRE_EXTERN void wire_socket_set_data(wire_socket_t *s, void *data);
WIRE_EXTERN void *wire_socket_data(const wire_socket_t *s);
WIRE_EXTERN wire_loop_t *wire_socket_loop(const wire_socket_t *s);

/* Copies len bytes into the write queue. Returns 1 under the high-water
 * mark, 0 at or above it (a drain event follows once it empties), or
 * WIRE_EWRITEAFTEREND after wire_socket_end, WIRE_ECLOSED after close,
 * WIRE_ENOBUFS if the queue would pass its cap, WIRE_ENOMEM. */
WIRE_EXTERN int wire_socket_write(wire_socket_t *s, const void *buf,
                                  size_t len);

/* Zero-copy write: queues views of nbufs buffers (the array itself is
 * copied; the bytes are borrowed until cb runs). cb (may be NULL) runs
 * exactly once, after the bytes went to the kernel or with an error, in
 * queue order. Returns like wire_socket_write; on a negative return cb
 * never runs. */
WIRE_EXTERN int wire_socket_writev(wire_socket_t *s, const wire_buf_t *bufs,
                                   size_t nbufs, wire_write_cb cb, void *arg);

/* Node's end(): flushes the queue, then sends FIN. Reading goes on until
 * the peer ends too (then the socket closes by itself). Idempotent. */
WIRE_EXTERN void wire_socket_end(wire_socket_t *s);

/* Node's destroy(). cb (may be NULL) runs after the close event. Calling
 * it twice is a caller bug (asserted). A server's own closes of the
 * sockets it owns (wire_server_close_connections, the HTTP server's) do
 * not count: the application may still close such a socket once, before
 * its close event. */
WIRE_EXTERN void wire_socket_close(wire_socket_t *s, wire_socket_close_cb cb);

/* Node's resetAndDestroy(): closes with an RST instead of a FIN (TCP only;
 * a plain close on other streams). */
WIRE_EXTERN void wire_socket_reset(wire_socket_t *s, wire_socket_close_cb cb);

/* Stops and restarts the data events. Data already queued by the kernel
 * stays there (TCP flow control pushes back on the peer). */
WIRE_EXTERN void wire_socket_pause(wire_socket_t *s);
WIRE_EXTERN void wire_socket_resume(wire_socket_t *s);
WIRE_EXTERN int wire_socket_is_paused(const wire_socket_t *s);

/* Fires the timeout event after ms of inactivity (no read, no write); 0
 * turns it off. The socket is not closed: do it in the callback if that is
 * what you want (as Node). */
WIRE_EXTERN int wire_socket_set_timeout(wire_socket_t *s, uint64_t ms);

/* allowHalfOpen: off by default. When on, the peer's FIN does not end our
 * side; call wire_socket_end yourself. */
WIRE_EXTERN void wire_socket_set_allow_half_open(wire_socket_t *s, int on);

/* Write-queue limits: the high-water mark (default 16 KiB) and the hard cap
 * (default 64 MiB; must be >= hwm and at most 4 GiB - 1). Returns 0, or
 * WIRE_EINVAL for limits outside those bounds. */
WIRE_EXTERN int wire_socket_set_write_limits(wire_socket_t *s, size_t hwm,
                                             size_t cap);

/* Bytes queued and not yet handed to the kernel (Node's writableLength). */
WIRE_EXTERN size_t wire_socket_write_queue_size(const wire_socket_t *s);
WIRE_EXTERN uint64_t wire_socket_bytes_read(const wire_socket_t *s);
WIRE_EXTERN uint64_t wire_socket_bytes_written(const wire_socket_t *s);

/* Pipes src into dst with backpressure: src pauses when dst's write returns
 * 0 and resumes on dst's drain; src's end ends dst. The sockets' own data,
 * end and drain callbacks still fire. The pipe goes away when either side
 * closes, or with wire_unpipe. A socket may pipe into itself (an echo, as
 * Node's socket.pipe(socket)). Returns 0, WIRE_EINVAL (src already piped
 * or dst already fed), WIRE_ECLOSED, WIRE_ENOMEM. */
WIRE_EXTERN int wire_pipe(wire_socket_t *src, wire_socket_t *dst);
WIRE_EXTERN void wire_unpipe(wire_socket_t *src);

#ifdef __cplusplus
}
#endif
#endif
