/* The socket object and the transport interface under the stream contract.
 *
 * A wire_socket_t is the stream engine (write queue, backpressure, end,
 * close, timeout, pipe, events) on top of a transport: the few operations
 * that touch the wire. src/net provides the libuv transport (TCP, Unix);
 * src/tls will provide TLS over another socket. The transport reports back
 * through the wire__stream_* functions below. */
#ifndef WIRE_STREAM_INTERNAL_H
#define WIRE_STREAM_INTERNAL_H

#include "../core/internal.h"

typedef struct wire__transport_s {
  /* Start/stop delivering reads to wire__stream_on_read. */
  int (*read_start)(wire_socket_t *s);
  int (*read_stop)(wire_socket_t *s);
  /* Writes what it can without blocking: the number of bytes taken (0 is
   * fine), or a negative error. */
  int (*try_write)(wire_socket_t *s, const uv_buf_t *bufs, unsigned n);
  /* Starts writing all of bufs (the bytes stay put until completion, the
   * array need not); completion calls wire__stream_write_done. */
  int (*write)(wire_socket_t *s, const uv_buf_t *bufs, unsigned n);
  /* Sends FIN; completion calls wire__stream_shutdown_done. */
  int (*shutdown)(wire_socket_t *s);
  /* Releases the transport (with an RST if reset and the transport can);
   * on a later turn calls wire__stream_closed. */
  void (*close)(wire_socket_t *s, int reset);
  /* Optional: ref/unref the transport's hold on the loop. */
  void (*set_ref)(wire_socket_t *s, int on);
  /* Optional: the socket this one is layered on (TLS over TCP), or NULL.
   * Socket options and addresses are those of the bottom socket. */
  wire_socket_t *(*lower)(const wire_socket_t *s);
} wire__transport_t;

/* An entry of the write queue: a copy chunk (bytes live right after the
 * entry, up to cap) or a borrowed view (zero-copy; cb on the last view of
 * a writev). */
typedef struct wire__wreq_s wire__wreq_t;
struct wire__wreq_s {
  wire__wreq_t *next;
  char *base;
  size_t len;  /* bytes in the entry */
  size_t off;  /* bytes already handed to the kernel */
  size_t cap;  /* copy chunks: room after base; 0 for views */
  wire_write_cb cb;
  void *arg;
  uint8_t pooled; /* the block came from the loop's chunk free list */
};

enum {
  WIRE__S_CONNECTING = 1u << 0,
  WIRE__S_CONNECTED = 1u << 1,
  WIRE__S_READING = 1u << 2, /* transport read started */
  WIRE__S_PAUSED = 1u << 3,
  WIRE__S_READ_EOF = 1u << 4,
  WIRE__S_ENDING = 1u << 5,   /* end() called: FIN after the queue */
  WIRE__S_SHUT_SENT = 1u << 6, /* shutdown started */
  WIRE__S_SHUT_DONE = 1u << 7,
  WIRE__S_WRITING = 1u << 8,  /* async write in flight */
  WIRE__S_NEED_DRAIN = 1u << 9,
  WIRE__S_CLOSING = 1u << 10, /* close requested */
  WIRE__S_HAD_ERROR = 1u << 11,
  WIRE__S_HALF_OPEN = 1u << 12,
  WIRE__S_TIMER_IDLE = 1u << 13, /* timeout fired, re-arm on activity */
  WIRE__S_RESET = 1u << 14,
  WIRE__S_UNREF = 1u << 15,
  WIRE__S_USER_CLOSED = 1u << 16, /* the user called close/reset */
  WIRE__S_PIPE_PAUSED = 1u << 17, /* paused by wire_pipe backpressure */
  WIRE__S_IN_READ = 1u << 18      /* in its data event: flushed after it */
};

struct wire_socket_s {
  /* The object header; the socket's flags (WIRE__S_*) sit in the padding
   * at its end, where a pointer is 64 bits (see the assert below). */
  union {
    wire__obj_t obj;
    struct {
      unsigned char obj_head_[offsetof(wire__obj_t, refs) + sizeof(uint32_t)];
      uint32_t flags;
    };
  };
  const wire__transport_t *tp;
  /* Write limits and counts: the cap is at most UINT32_MAX, and the queue
   * never holds more. */
  uint32_t hwm;
  uint32_t cap;

  wire_socket_data_cb on_data;
  wire_socket_event_cb on_end;
  wire_socket_event_cb on_drain;
  /* A timeout cannot fire once the user has closed the socket, and the
   * close callback exists only from then on (WIRE__S_USER_CLOSED). */
  union {
    wire_socket_event_cb on_timeout;
    wire_socket_close_cb close_cb;
  };
  wire_socket_error_cb on_error;
  wire_socket_close_cb on_close;
  void *data;

  wire__wreq_t *wq_head;
  wire__wreq_t *wq_tail;
  uint32_t wq_bytes;   /* queued and not yet written (in flight included) */
  uint32_t inflight;   /* bytes handed to transport->write */
  wire__wreq_t *done;  /* finished zero-copy writes awaiting their cb,
                          newest first (reversed when delivered) */
  wire__flush_t flush;

  uint64_t bytes_read;
  uint64_t bytes_written;

  struct wire__sext_s *ext; /* timeout and pipe state, on first use */

  /* The server that owns this socket, and its list of connections. */
  wire_server_t *server;
  wire_socket_t *srv_prev;
  wire_socket_t *srv_next;

  /* A libuv transport's handle: the last member, and the object is
   * allocated just large enough for the handle it uses. Its data pointer
   * holds a connecting client's state (net/tcp.c). Other transports keep
   * their state from here on (src/tls). */
  union {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_tcp_t tcp;
    uv_pipe_t pipe;
  } h;
};

#if UINTPTR_MAX > 0xffffffffu
_Static_assert(offsetof(struct wire_socket_s, tp) == sizeof(wire__obj_t),
               "the flags fit in the object header's padding");
#endif

/* What few sockets use, kept out of line so an idle connection stays
 * small: the timeout (set_timeout) and the pipe links (wire_pipe). */
typedef struct wire__sext_s {
  uv_timer_t timer;
  uint64_t last_active;
  uint32_t timeout_ms;
  wire_socket_t *pipe_dst; /* we pipe into it */
  wire_socket_t *pipe_src; /* it pipes into us */
} wire__sext_t;

/* Size of a socket whose handle is a uv_tcp_t / uv_pipe_t. */
#define WIRE__SOCKET_SIZE(handle_type)                                       \
  (offsetof(struct wire_socket_s, h) + sizeof(handle_type))

/* The bottom of a stack of layered sockets (s itself if not layered). */
static inline wire_socket_t *wire__socket_base(const wire_socket_t *s)
{
  while (s->tp->lower != NULL && s->tp->lower(s) != NULL)
    s = s->tp->lower(s);
  return (wire_socket_t *)s;
}

/* Sets up the stream engine on zeroed memory. */
void wire__stream_init(wire_socket_t *s, wire_loop_t *loop,
                       const wire__transport_t *tp,
                       wire__finalize_fn finalize);

/* Transport -> stream. */
void wire__stream_on_read(wire_socket_t *s, ssize_t nread, const char *buf);
void wire__stream_write_done(wire_socket_t *s, int status);
void wire__stream_shutdown_done(wire_socket_t *s, int status);
void wire__stream_closed(wire_socket_t *s);
/* The transport is connected: start reading (unless paused), flush. */
void wire__stream_connected(wire_socket_t *s);
/* A fatal error: error event, then close(had_error = 1). */
void wire__stream_fail(wire_socket_t *s, int err);

/* Protocols -> stream: a copying write without the copy from a caller's
 * buffer. reserve checks the write as wire_socket_write does (same
 * errors), makes len contiguous bytes of room at the queue's tail and
 * points *out at them; the caller fills them and calls commit with the
 * same len before any other call on s. commit queues the bytes and
 * returns like wire_socket_write (1, or 0 over the high-water mark). A
 * reserve that is not committed queues nothing. */
int wire__socket_write_reserve(wire_socket_t *s, size_t len, char **out);
int wire__socket_write_commit(wire_socket_t *s, size_t len);

/* reserve and commit in one, for the usual small write a protocol makes
 * in the socket's own data event (the flush comes after the event): when
 * the queue's tail chunk has room for len bytes and the write needs
 * nothing else (no timeout to re-arm, the high-water mark not reached),
 * queues len bytes and returns them for the caller to fill before any
 * other call on s; the write then returned 1. Otherwise returns NULL and
 * queues nothing: use reserve and commit. */
static inline char *wire__socket_write_quick(wire_socket_t *s, size_t len)
{
  wire__wreq_t *t = s->wq_tail;
  if ((s->flags & (WIRE__S_IN_READ | WIRE__S_CLOSING | WIRE__S_ENDING)) !=
          WIRE__S_IN_READ ||
      s->ext != NULL || t == NULL || t->cap == 0 || t->cap - t->len < len ||
      (uint64_t)s->wq_bytes + len >= s->hwm)
    return NULL;
  char *p = t->base + t->len;
  t->len += len;
  s->wq_bytes += (uint32_t)len;
  return p;
}

/* Writes what s has queued now instead of at the end of the turn. For a
 * layer whose work per connection is long (a TLS handshake's signature):
 * each peer gets its bytes as soon as they exist and works on them while
 * we go on with the next connection, instead of all of them waiting for
 * the whole turn. May run s's error and close events. */
void wire__socket_flush_now(wire_socket_t *s);

#define wire__socket_ref(s) wire__obj_ref(&(s)->obj)
#define wire__socket_unref(s) wire__obj_unref(&(s)->obj)

/* Closes s for the server that owns it, leaving wire_socket_close to the
 * application: it may still call it once (before the close event, as
 * with any socket) whether the server closed s first or not, and its
 * callback runs. A no-op on a socket already closing. */
void wire__socket_close_owned(wire_socket_t *s);

/* net/server.c: a socket of srv closed. */
void wire__server_remove(wire_server_t *srv, wire_socket_t *s);
/* net/server.c: the first of srv's connections (the next: s->srv_next). A
 * socket leaves the list only after its close event, so a walk may close
 * the sockets it passes. */
wire_socket_t *wire__server_conns(const wire_server_t *srv);

#endif
