/* The stream engine: Node's net.Socket behaviour over any transport.
 *
 * Write queue. wire_socket_write copies into 16 KiB chunks (from the
 * loop's free list) at the tail of a singly linked queue; writev queues
 * borrowed views; wire__socket_write_reserve/commit let a protocol write
 * its bytes (a frame header and payload) straight into the tail. Nothing is
 * written inside the call: the socket is put on the loop's flush list and
 * all writes of the turn go out in one try_write (a writev) at the end of
 * the turn; except that what a socket's data event writes to it goes out
 * when the event returns (the answers to one read, together), so the chunk
 * it used is free again for the next socket of the turn. What the kernel
 * does not take goes to one async transport write; more writes queue
 * behind it. A write that takes the queue over the high-water mark is
 * tried at once, so a large write does not report backpressure the kernel
 * would not have given.
 *
 * Completions of zero-copy writes are collected on a done list and
 * delivered from the flush, never inside a write call.
 *
 * Life: init -> (connecting) -> connected: reading unless paused ->
 * end: queue drains, FIN -> peer FIN and our FIN both done: close ->
 * transport closed (later turn): queued writes cancelled in order, close
 * event, close callback, the user's ref dropped, memory freed when the last
 * ref goes. Every call into user code holds a ref, so closing from inside
 * any callback is safe. */
#include <assert.h>
#include <string.h>

#include "internal.h"

#define HAS(s, f) (((s)->flags & (f)) != 0)
#define IOV_MAX_BATCH 64
#define CHUNK_ROOM (WIRE__CHUNK_SIZE - sizeof(wire__wreq_t))

static void flush(wire_socket_t *s);
static void maybe_read(wire_socket_t *s);
static void do_close(wire_socket_t *s, int reset);

static void on_flush(wire__flush_t *f)
{
  wire_socket_t *s = (wire_socket_t *)((char *)f -
                                       offsetof(wire_socket_t, flush));
  flush(s);
}

void wire__stream_init(wire_socket_t *s, wire_loop_t *loop,
                       const wire__transport_t *tp,
                       wire__finalize_fn finalize)
{
  wire__obj_init(&s->obj, loop, finalize);
  s->tp = tp;
  s->hwm = 16 * 1024;
  s->cap = 64 * 1024 * 1024;
  s->flush.fn = on_flush;
}

/* ---- small accessors ---------------------------------------------------- */

void wire_socket_on_data(wire_socket_t *s, wire_socket_data_cb cb)
{
  s->on_data = cb;
}
void wire_socket_on_end(wire_socket_t *s, wire_socket_event_cb cb)
{
  s->on_end = cb;
}
void wire_socket_on_drain(wire_socket_t *s, wire_socket_event_cb cb)
{
  s->on_drain = cb;
}
void wire_socket_on_timeout(wire_socket_t *s, wire_socket_event_cb cb)
{
  /* Once closed by the user the slot holds the close callback, and a
   * timeout can no longer fire. */
  if (HAS(s, WIRE__S_USER_CLOSED))
    return;
  s->on_timeout = cb;
}
void wire_socket_on_error(wire_socket_t *s, wire_socket_error_cb cb)
{
  s->on_error = cb;
}
void wire_socket_on_close(wire_socket_t *s, wire_socket_close_cb cb)
{
  s->on_close = cb;
}
void wire_socket_set_data(wire_socket_t *s, void *data)
{
  s->data = data;
}
void *wire_socket_data(const wire_socket_t *s)
{
  return s->data;
}
wire_loop_t *wire_socket_loop(const wire_socket_t *s)
{
  return s->obj.loop;
}
size_t wire_socket_write_queue_size(const wire_socket_t *s)
{
  return s->wq_bytes;
}
uint64_t wire_socket_bytes_read(const wire_socket_t *s)
{
  return s->bytes_read;
}
uint64_t wire_socket_bytes_written(const wire_socket_t *s)
{
  return s->bytes_written;
}
int wire_socket_is_paused(const wire_socket_t *s)
{
  return HAS(s, WIRE__S_PAUSED);
}

void wire_socket_set_allow_half_open(wire_socket_t *s, int on)
{
  if (on)
    s->flags |= WIRE__S_HALF_OPEN;
  else
    s->flags &= ~WIRE__S_HALF_OPEN;
}

int wire_socket_set_write_limits(wire_socket_t *s, size_t hwm, size_t cap)
{
  if (hwm == 0 || cap > UINT32_MAX || cap < hwm)
    return WIRE_EINVAL;
  s->hwm = (uint32_t)hwm;
  s->cap = (uint32_t)cap;
  return 0;
}

/* ---- activity and the timeout ----------------------------------------- */

static void on_timer(uv_timer_t *t);

static void touch(wire_socket_t *s)
{
  wire__sext_t *x = s->ext;
  if (x == NULL || x->timeout_ms == 0)
    return;
  x->last_active = uv_now(wire__uv(s->obj.loop));
  if (HAS(s, WIRE__S_TIMER_IDLE)) {
    s->flags &= ~WIRE__S_TIMER_IDLE;
    uv_timer_start(&x->timer, on_timer, x->timeout_ms, 0);
  }
}

/* The out-of-line state, made on first use. Its timer handle is closed
 * (and the block freed) when the socket closes. */
static wire__sext_t *ext(wire_socket_t *s)
{
  if (s->ext != NULL)
    return s->ext;
  wire__sext_t *x = wire__calloc(1, sizeof(*x));
  if (x == NULL)
    return NULL;
  uv_timer_init(wire__uv(s->obj.loop), &x->timer);
  x->timer.data = s;
  uv_unref((uv_handle_t *)&x->timer);
  s->ext = x;
  return x;
}

#define PIPE_DST(s) ((s)->ext != NULL ? (s)->ext->pipe_dst : NULL)
#define PIPE_SRC(s) ((s)->ext != NULL ? (s)->ext->pipe_src : NULL)

static void on_timer(uv_timer_t *t)
{
  wire_socket_t *s = t->data;
  wire__sext_t *x = s->ext;
  if (HAS(s, WIRE__S_CLOSING) || x->timeout_ms == 0)
    return;
  /* Activity only stamps last_active; the timer is re-armed for what is
   * left instead of being restarted on every read and write. */
  uint64_t idle = uv_now(t->loop) - x->last_active;
  if (idle < x->timeout_ms) {
    uv_timer_start(t, on_timer, x->timeout_ms - idle, 0);
    return;
  }
  s->flags |= WIRE__S_TIMER_IDLE;
  if (s->on_timeout != NULL) {
    wire__socket_ref(s);
    s->on_timeout(s, s->data);
    wire__socket_unref(s);
  }
}

int wire_socket_set_timeout(wire_socket_t *s, uint64_t ms)
{
  if (HAS(s, WIRE__S_CLOSING))
    return WIRE_ECLOSED;
  if (ms > UINT32_MAX)
    return WIRE_EINVAL;
  if (ms == 0) {
    if (s->ext != NULL) {
      s->ext->timeout_ms = 0;
      uv_timer_stop(&s->ext->timer);
    }
    return 0;
  }
  wire__sext_t *x = ext(s);
  if (x == NULL)
    return WIRE_ENOMEM;
  x->timeout_ms = (uint32_t)ms;
  x->last_active = uv_now(wire__uv(s->obj.loop));
  s->flags &= ~WIRE__S_TIMER_IDLE;
  return uv_timer_start(&x->timer, on_timer, ms, 0);
}

/* ---- the write queue ---------------------------------------------------- */

static void wreq_free(wire_socket_t *s, wire__wreq_t *w)
{
  if (w->pooled)
    wire__chunk_put(s->obj.loop, w);
  else
    wire__free(w);
}

static void queue_push(wire_socket_t *s, wire__wreq_t *w)
{
  w->next = NULL;
  if (s->wq_tail != NULL)
    s->wq_tail->next = w;
  else
    s->wq_head = w;
  s->wq_tail = w;
}

/* An empty copying entry with room for need bytes: a pooled chunk when
 * they fit one, else a block of exactly that size. NULL: out of memory. */
static wire__wreq_t *wreq_new(wire_socket_t *s, size_t need)
{
  wire__wreq_t *w;
  if (need <= CHUNK_ROOM) {
    w = wire__chunk_get(s->obj.loop);
    if (w == NULL)
      return NULL;
    w->cap = CHUNK_ROOM;
    w->pooled = 1;
  } else {
    w = wire__malloc(sizeof(*w) + need);
    if (w == NULL)
      return NULL;
    w->cap = need;
    w->pooled = 0;
  }
  w->base = (char *)(w + 1);
  w->len = 0;
  w->off = 0;
  w->cb = NULL;
  w->arg = NULL;
  return w;
}

/* Copies len bytes to the queue's tail: into the room left in the last
 * chunk, then into at most one new block (allocated before anything is
 * copied, so a failure leaves the queue as it was). */
static int enqueue_copy(wire_socket_t *s, const char *p, size_t len)
{
  wire__wreq_t *t = s->wq_tail;
  size_t room = (t != NULL && t->cap > 0) ? t->cap - t->len : 0;
  wire__wreq_t *w = NULL;
  if (len > room) {
    w = wreq_new(s, len - room);
    if (w == NULL)
      return WIRE_ENOMEM;
  }
  if (room > 0) {
    size_t n = len < room ? len : room;
    memcpy(t->base + t->len, p, n);
    t->len += n;
    p += n;
    len -= n;
  }
  if (w != NULL) {
    memcpy(w->base, p, len);
    w->len = len;
    queue_push(s, w);
  }
  return 0;
}

/* Fills iov from the unsent part of the queue; returns the count and the
 * byte total in *total. */
static unsigned gather(wire_socket_t *s, uv_buf_t *iov, size_t *total)
{
  unsigned n = 0;
  size_t sum = 0;
  for (wire__wreq_t *w = s->wq_head; w != NULL && n < IOV_MAX_BATCH;
       w = w->next) {
    if (w->len == w->off)
      continue;
    iov[n].base = w->base + w->off;
    iov[n].len = w->len - w->off;
    sum += iov[n].len;
    n++;
  }
  *total = sum;
  return n;
}

/* Marks n bytes from the head as written. Finished entries leave the
 * queue: chunks are recycled, entries with a callback move to the done
 * list, delivered by deliver_done from the flush (never inside a write
 * call). */
static void advance(wire_socket_t *s, size_t n)
{
  s->bytes_written += n;
  s->wq_bytes -= (uint32_t)n;
  while (s->wq_head != NULL) {
    wire__wreq_t *w = s->wq_head;
    size_t left = w->len - w->off;
    size_t take = n < left ? n : left;
    w->off += take;
    n -= take;
    if (w->off < w->len)
      break;
    s->wq_head = w->next;
    if (s->wq_head == NULL)
      s->wq_tail = NULL;
    if (w->cb != NULL) {
      w->next = NULL;
      w->next = s->done;
      s->done = w;
    } else {
      wreq_free(s, w);
    }
  }
  assert(n == 0);
}

/* Runs the callbacks of finished zero-copy writes, in order, with status
 * (0, or WIRE_ECANCELED when the socket closed first). */
static void deliver_done(wire_socket_t *s, int status)
{
  /* The list is newest first: turn it around to call back in order. */
  wire__wreq_t *rev = NULL;
  while (s->done != NULL) {
    wire__wreq_t *w = s->done;
    s->done = w->next;
    w->next = rev;
    rev = w;
  }
  while (rev != NULL) {
    wire__wreq_t *w = rev;
    rev = w->next;
    wire_write_cb cb = w->cb;
    void *arg = w->arg;
    wreq_free(s, w);
    cb(s, status, arg);
  }
}

static void emit_drain(wire_socket_t *s)
{
  s->flags &= ~WIRE__S_NEED_DRAIN;
  wire_socket_t *src = PIPE_SRC(s);
  if (src != NULL && HAS(src, WIRE__S_PIPE_PAUSED)) {
    src->flags &= ~WIRE__S_PIPE_PAUSED;
    wire_socket_resume(src);
  }
  if (s->on_drain != NULL)
    s->on_drain(s, s->data);
}

static int can_write(const wire_socket_t *s)
{
  return HAS(s, WIRE__S_CONNECTED) &&
         !HAS(s, WIRE__S_CLOSING | WIRE__S_WRITING | WIRE__S_SHUT_SENT);
}

/* One non-blocking attempt at the queue, with no user callback: used by
 * the flush and by a write that went over the high-water mark. Returns 1 if
 * the queue is now empty, 0 if bytes are left, or a negative error. */
static int try_flush(wire_socket_t *s)
{
  uv_buf_t iov[IOV_MAX_BATCH];
  while (s->wq_head != NULL) {
    size_t total;
    unsigned n = gather(s, iov, &total);
    if (n == 0) {
      advance(s, 0); /* pops zero-length entries */
      continue;
    }
    int r = s->tp->try_write(s, iov, n);
    if (r < 0 && r != UV_EAGAIN)
      return r;
    if (r > 0)
      advance(s, (size_t)r);
    if (r <= 0 || (size_t)r < total)
      return s->wq_head == NULL;
  }
  return 1;
}

/* The end-of-turn flush: write what the kernel takes, hand the rest to one
 * async write, then run completions, drain and a pending FIN. */
static void flush(wire_socket_t *s)
{
  if (!can_write(s))
    return;
  wire__socket_ref(s);
  int r = try_flush(s);
  if (r < 0) {
    wire__stream_fail(s, r);
    goto out;
  }
  if (r == 0) {
    uv_buf_t iov[IOV_MAX_BATCH];
    size_t total;
    unsigned n = gather(s, iov, &total);
    int err = s->tp->write(s, iov, n);
    if (err < 0) {
      wire__stream_fail(s, err);
      goto out;
    }
    s->inflight = (uint32_t)total; /* at most wq_bytes */
    s->flags |= WIRE__S_WRITING;
  }
  deliver_done(s, 0);
  if (HAS(s, WIRE__S_CLOSING) || HAS(s, WIRE__S_WRITING))
    goto out;
  if (HAS(s, WIRE__S_NEED_DRAIN) && s->wq_head == NULL)
    emit_drain(s);
  if (HAS(s, WIRE__S_ENDING) && s->wq_head == NULL && can_write(s)) {
    s->flags |= WIRE__S_SHUT_SENT;
    int err = s->tp->shutdown(s);
    if (err < 0)
      wire__stream_fail(s, err);
  }
out:
  wire__socket_unref(s);
}

void wire__socket_flush_now(wire_socket_t *s)
{
  /* s stays on the end-of-turn list, where it then finds nothing to do
   * (or what was written after this). */
  flush(s);
}

void wire__stream_write_done(wire_socket_t *s, int status)
{
  s->flags &= ~WIRE__S_WRITING;
  size_t n = s->inflight;
  s->inflight = 0;
  if (HAS(s, WIRE__S_CLOSING))
    return; /* the queue is cancelled when the transport has closed */
  if (status < 0) {
    wire__stream_fail(s, status);
    return;
  }
  advance(s, n);
  touch(s);
  flush(s);
}

static int write_check(const wire_socket_t *s, size_t len)
{
  if (HAS(s, WIRE__S_CLOSING))
    return WIRE_ECLOSED;
  if (HAS(s, WIRE__S_ENDING))
    return WIRE_EWRITEAFTEREND;
  if (len > s->cap || s->wq_bytes > s->cap - len)
    return WIRE_ENOBUFS;
  return 0;
}

/* After bytes were queued: schedule the flush (or, over the high-water
 * mark, try at once) and report backpressure. */
static int queued(wire_socket_t *s)
{
  touch(s);
  if (can_write(s)) {
    if (s->wq_bytes >= s->hwm) {
      int r = try_flush(s);
      (void)r; /* an error shows again in the flush, which reports it */
    }
    if (!HAS(s, WIRE__S_IN_READ))
      wire__flush_queue(s->obj.loop, &s->flush);
  }
  if (s->wq_bytes >= s->hwm) {
    s->flags |= WIRE__S_NEED_DRAIN;
    return 0;
  }
  return 1;
}

int wire_socket_write(wire_socket_t *s, const void *buf, size_t len)
{
  int err = write_check(s, len);
  if (err < 0)
    return err;
  if (len > 0) {
    err = enqueue_copy(s, buf, len);
    if (err < 0)
      return err;
    s->wq_bytes += (uint32_t)len; /* write_check: at most the cap */
  }
  return queued(s);
}

int wire__socket_write_reserve(wire_socket_t *s, size_t len, char **out)
{
  int err = write_check(s, len);
  if (err < 0)
    return err;
  wire__wreq_t *t = s->wq_tail;
  if (t != NULL && t->cap > 0 && t->cap - t->len >= len) {
    *out = t->base + t->len;
    return 0;
  }
  /* Not enough room left in the tail: a chunk of its own (the tail's
   * room stays unused), as enqueue_copy would take for the rest. */
  wire__wreq_t *w = wreq_new(s, len);
  if (w == NULL)
    return WIRE_ENOMEM;
  /* Empty until the commit; gather and advance skip empty entries. */
  queue_push(s, w);
  *out = w->base;
  return 0;
}

int wire__socket_write_commit(wire_socket_t *s, size_t len)
{
  wire__wreq_t *t = s->wq_tail;
  assert(t != NULL && t->cap > 0 && t->cap - t->len >= len);
  t->len += len;
  s->wq_bytes += (uint32_t)len;
  return queued(s);
}

static void wreq_list_free(wire__wreq_t *w)
{
  while (w != NULL) {
    wire__wreq_t *next = w->next;
    wire__free(w);
    w = next;
  }
}

int wire_socket_writev(wire_socket_t *s, const wire_buf_t *bufs,
                       size_t nbufs, wire_write_cb cb, void *arg)
{
  size_t total = 0;
  for (size_t i = 0; i < nbufs; i++) {
    if (bufs[i].len > SIZE_MAX - total)
      return WIRE_EINVAL;
    total += bufs[i].len;
  }
  int err = write_check(s, total);
  if (err < 0)
    return err;
  /* One view entry per non-empty buffer, built on a private list so a
   * failed allocation leaves the queue untouched. The callback rides on
   * the last entry; with no bytes at all, on an empty entry of its own. */
  wire__wreq_t *head = NULL;
  wire__wreq_t *tail = NULL;
  for (size_t i = 0; i <= nbufs; i++) {
    int want = (i < nbufs) ? bufs[i].len > 0 : (tail == NULL && cb != NULL);
    if (!want)
      continue;
    wire__wreq_t *w = wire__calloc(1, sizeof(*w));
    if (w == NULL) {
      wreq_list_free(head);
      return WIRE_ENOMEM;
    }
    if (i < nbufs) {
      w->base = bufs[i].base;
      w->len = bufs[i].len;
    }
    if (tail != NULL)
      tail->next = w;
    else
      head = w;
    tail = w;
  }
  if (tail == NULL)
    return s->wq_bytes < s->hwm ? 1 : 0; /* nothing to write, no cb */
  tail->cb = cb;
  tail->arg = arg;
  /* Views have cap 0, so later copies never append into them. */
  if (s->wq_tail != NULL)
    s->wq_tail->next = head;
  else
    s->wq_head = head;
  s->wq_tail = tail;
  s->wq_bytes += (uint32_t)total;
  return queued(s);
}

/* ---- end, reads, errors, close ------------------------------------------ */

static void maybe_autoclose(wire_socket_t *s)
{
  /* Both directions finished: Node's autoDestroy. */
  if (!HAS(s, WIRE__S_CLOSING) && HAS(s, WIRE__S_READ_EOF) &&
      HAS(s, WIRE__S_SHUT_DONE))
    do_close(s, 0);
}

void wire_socket_end(wire_socket_t *s)
{
  if (HAS(s, WIRE__S_CLOSING | WIRE__S_ENDING))
    return;
  s->flags |= WIRE__S_ENDING;
  if (HAS(s, WIRE__S_CONNECTED) && !HAS(s, WIRE__S_IN_READ))
    wire__flush_queue(s->obj.loop, &s->flush);
}

void wire__stream_shutdown_done(wire_socket_t *s, int status)
{
  s->flags |= WIRE__S_SHUT_DONE;
  if (HAS(s, WIRE__S_CLOSING))
    return;
  /* ENOTCONN: the peer is already gone; the read side reports that.
   * ENOTSOCK: a pipe has no shutdown; its close is its end of file. Node
   * ignores both. */
  if (status < 0 && status != UV_ENOTCONN && status != UV_ENOTSOCK) {
    wire__stream_fail(s, status);
    return;
  }
  maybe_autoclose(s);
}

static void maybe_read(wire_socket_t *s)
{
  if (!HAS(s, WIRE__S_CONNECTED) ||
      HAS(s, WIRE__S_PAUSED | WIRE__S_READ_EOF | WIRE__S_CLOSING |
                 WIRE__S_READING))
    return;
  int err = s->tp->read_start(s);
  if (err < 0) {
    wire__stream_fail(s, err);
    return;
  }
  s->flags |= WIRE__S_READING;
}

static void read_stop(wire_socket_t *s)
{
  if (HAS(s, WIRE__S_READING)) {
    s->tp->read_stop(s);
    s->flags &= ~WIRE__S_READING;
  }
}

void wire_socket_pause(wire_socket_t *s)
{
  s->flags |= WIRE__S_PAUSED;
  read_stop(s);
}

void wire_socket_resume(wire_socket_t *s)
{
  s->flags &= ~(WIRE__S_PAUSED | WIRE__S_PIPE_PAUSED);
  maybe_read(s);
}

void wire__stream_connected(wire_socket_t *s)
{
  if (HAS(s, WIRE__S_CLOSING))
    return; /* closed from the connect callback */
  s->flags &= ~WIRE__S_CONNECTING;
  s->flags |= WIRE__S_CONNECTED;
  touch(s);
  maybe_read(s);
  if (s->wq_head != NULL || HAS(s, WIRE__S_ENDING))
    wire__flush_queue(s->obj.loop, &s->flush);
}

void wire__stream_on_read(wire_socket_t *s, ssize_t nread, const char *buf)
{
  if (HAS(s, WIRE__S_CLOSING))
    return;
  if (nread > 0) {
    s->bytes_read += (uint64_t)nread;
    touch(s);
    wire__socket_ref(s);
    wire_socket_t *dst = PIPE_DST(s);
    int outer = !HAS(s, WIRE__S_IN_READ);
    s->flags |= WIRE__S_IN_READ;
    if (dst != NULL) {
      int r = wire_socket_write(dst, buf, (size_t)nread);
      if (r == 0) {
        wire_socket_pause(s);
        s->flags |= WIRE__S_PIPE_PAUSED;
      } else if (r < 0) {
        wire_unpipe(s);
      }
    }
    if (s->on_data != NULL && !HAS(s, WIRE__S_CLOSING))
      s->on_data(s, buf, (size_t)nread, s->data);
    if (outer) {
      /* What the data event wrote (the answers to the requests it read)
       * leaves now rather than at the end of the turn: one chunk then
       * serves every socket of the turn in turn, instead of one chunk
       * per socket that read, all held until the turn ends. */
      s->flags &= ~WIRE__S_IN_READ;
      if (s->wq_head != NULL || HAS(s, WIRE__S_ENDING))
        flush(s);
    }
    wire__socket_unref(s);
    return;
  }
  if (nread == UV_EOF) {
    s->flags |= WIRE__S_READ_EOF;
    read_stop(s);
    wire__socket_ref(s);
    if (PIPE_DST(s) != NULL) {
      wire_socket_end(PIPE_DST(s));
      wire_unpipe(s);
    }
    if (s->on_end != NULL)
      s->on_end(s, s->data);
    if (!HAS(s, WIRE__S_HALF_OPEN))
      wire_socket_end(s);
    maybe_autoclose(s);
    wire__socket_unref(s);
    return;
  }
  if (nread < 0)
    wire__stream_fail(s, (int)nread);
}

void wire__stream_fail(wire_socket_t *s, int err)
{
  if (HAS(s, WIRE__S_CLOSING))
    return;
  s->flags |= WIRE__S_HAD_ERROR;
  wire__socket_ref(s);
  if (s->on_error != NULL)
    s->on_error(s, err, s->data);
  if (!HAS(s, WIRE__S_CLOSING))
    do_close(s, 0);
  wire__socket_unref(s);
}

static void on_timer_closed(uv_handle_t *h)
{
  wire_socket_t *s = h->data;
  wire__sext_t *x = (wire__sext_t *)((char *)h - offsetof(wire__sext_t, timer));
  wire__free(x);
  wire__socket_unref(s);
}

static void do_close(wire_socket_t *s, int reset)
{
  s->flags |= WIRE__S_CLOSING;
  if (reset)
    s->flags |= WIRE__S_RESET;
  wire__flush_cancel(s->obj.loop, &s->flush);
  wire_unpipe(s);
  if (PIPE_SRC(s) != NULL)
    wire_unpipe(PIPE_SRC(s));
  if (s->ext != NULL) {
    wire__socket_ref(s);
    uv_close((uv_handle_t *)&s->ext->timer, on_timer_closed);
    s->ext = NULL;
  }
  read_stop(s);
  s->tp->close(s, reset);
}

static void user_close(wire_socket_t *s, wire_socket_close_cb cb, int reset)
{
  assert(!HAS(s, WIRE__S_USER_CLOSED) && "socket closed twice");
  s->flags |= WIRE__S_USER_CLOSED;
  s->close_cb = cb;
  if (!HAS(s, WIRE__S_CLOSING))
    do_close(s, reset);
}

void wire_socket_close(wire_socket_t *s, wire_socket_close_cb cb)
{
  user_close(s, cb, 0);
}

void wire__socket_close_owned(wire_socket_t *s)
{
  if (!HAS(s, WIRE__S_CLOSING))
    do_close(s, 0);
}

void wire_socket_reset(wire_socket_t *s, wire_socket_close_cb cb)
{
  user_close(s, cb, 1);
}

void wire__stream_closed(wire_socket_t *s)
{
  /* Writes that finished before the close still report success, then the
   * rest is cancelled, in queue order. */
  deliver_done(s, 0);
  while (s->wq_head != NULL) {
    wire__wreq_t *w = s->wq_head;
    s->wq_head = w->next;
    wire_write_cb cb = w->cb;
    void *arg = w->arg;
    wreq_free(s, w);
    if (cb != NULL)
      cb(s, WIRE_ECANCELED, arg);
  }
  s->wq_tail = NULL;
  s->wq_bytes = 0;
  int had_error = HAS(s, WIRE__S_HAD_ERROR);
  if (s->on_close != NULL)
    s->on_close(s, had_error, s->data);
  if (HAS(s, WIRE__S_USER_CLOSED) && s->close_cb != NULL)
    s->close_cb(s, had_error, s->data);
  if (s->server != NULL)
    wire__server_remove(s->server, s);
  wire__socket_unref(s);
}

/* ---- pipe ------------------------------------------------------------ */

int wire_pipe(wire_socket_t *src, wire_socket_t *dst)
{
  /* src == dst is allowed: the seed's echo, stream.pipe(stream). */
  if (PIPE_DST(src) != NULL || PIPE_SRC(dst) != NULL)
    return WIRE_EINVAL;
  if (HAS(src, WIRE__S_CLOSING) || HAS(dst, WIRE__S_CLOSING))
    return WIRE_ECLOSED;
  if (ext(src) == NULL || ext(dst) == NULL)
    return WIRE_ENOMEM;
  src->ext->pipe_dst = dst;
  dst->ext->pipe_src = src;
  wire_socket_resume(src);
  return 0;
}

void wire_unpipe(wire_socket_t *src)
{
  wire_socket_t *dst = PIPE_DST(src);
  if (dst == NULL)
    return;
  dst->ext->pipe_src = NULL;
  src->ext->pipe_dst = NULL;
}
