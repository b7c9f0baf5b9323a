/* The loop: a uv_loop_t plus what every wire object on it shares.
 *
 * - alive: the number of wire objects not yet freed; wire_loop_close
 *   refuses (WIRE_EBUSY) while it is non-zero. That is the leak check.
 * - the read buffer: one 64 KiB buffer lent to each read in turn, so an
 *   idle connection owns no read memory.
 * - the flush list: objects that queued writes this turn; a prepare handle
 *   (before the loop blocks) and a check handle (right after I/O
 *   callbacks) run them, so the writes of one turn go out in one syscall.
 * - the defer queue: library callbacks that must run on a later turn.
 * - the post queue: wire_loop_post, the one thread-safe entry, feeds a
 *   mutex-protected list drained by a uv_async_t.
 * - a bounded free list of write chunks.
 *
 * The internal handles are unref'd, or ref'd only while they have work, so
 * they never keep wire_loop_run alive by themselves. */
#include <assert.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct defer_s {
  struct defer_s *next;
  void (*fn)(void *arg);
  void *arg;
} defer_t;

/* Chunks kept for reuse. Every socket that writes in a turn holds one
 * until the end-of-turn flush, so this is the number of sockets a turn
 * can serve without malloc: at 64, 100 busy WebSocket connections made
 * glibc trim the freed chunks off the heap and grow it again every turn
 * (a brk and about 100 page faults per turn). 256 chunks are 4 MiB. */
#define CHUNK_FREE_MAX 256

struct wire_loop_s {
  uv_loop_t uv;
  unsigned alive;
  int is_default;
  char *rbuf;

  uv_prepare_t prepare;
  uv_check_t check;
  wire__flush_t *flush_head;
  wire__flush_t *flush_tail;
  int flush_active;

  uv_idle_t idle;
  defer_t *defer_head;
  defer_t *defer_tail;

  uv_async_t async;
  uv_mutex_t post_mu;
  defer_t *post_head;
  defer_t *post_tail;

  void *chunks[CHUNK_FREE_MAX];
  unsigned nchunks;

  void *slots[WIRE__SLOT_COUNT_];
  wire__close_hook_t *close_hooks;
};

static wire_loop_t *default_loop;

/* ---- objects ---------------------------------------------------------- */

void wire__obj_init(wire__obj_t *o, wire_loop_t *loop, wire__finalize_fn fn)
{
  o->loop = loop;
  o->finalize = fn;
  o->refs = 1;
  loop->alive++;
}

void wire__obj_release(wire__obj_t *o)
{
  assert(o->refs == 0);
  wire_loop_t *loop = o->loop;
  o->finalize(o);
  assert(loop->alive > 0);
  loop->alive--;
}

/* ---- flush list ------------------------------------------------------- */

static unsigned run_flush(wire_loop_t *loop)
{
  unsigned n = 0;
  /* Flushing can queue more (a write callback that writes); loop until the
   * list is empty so nothing waits a whole turn. */
  while (loop->flush_head != NULL) {
    wire__flush_t *f = loop->flush_head;
    loop->flush_head = f->next;
    if (loop->flush_head == NULL)
      loop->flush_tail = NULL;
    f->next = NULL;
    f->fn(f);
    n++;
  }
  if (loop->flush_active) {
    uv_prepare_stop(&loop->prepare);
    uv_check_stop(&loop->check);
    loop->flush_active = 0;
  }
  return n;
}

static void on_idle(uv_idle_t *h);

static void on_prepare(uv_prepare_t *h)
{
  wire_loop_t *loop = h->data;
  /* A flush can run user callbacks (write completions, drain) that change
   * what the caller of wire_loop_run(WIRE_RUN_ONCE) waits for. libuv
   * computes the poll timeout after this phase: an active idle handle
   * makes it 0, so this turn does not sleep past those changes. */
  if (run_flush(loop) > 0)
    uv_idle_start(&loop->idle, on_idle);
}

static void on_check(uv_check_t *h)
{
  run_flush(h->data);
}

/* A node is on the list if it links to another or is the last: no flag,
 * one word less in every socket. */
static int flush_queued(const wire_loop_t *loop, const wire__flush_t *f)
{
  return f->next != NULL || loop->flush_tail == f;
}

void wire__flush_queue(wire_loop_t *loop, wire__flush_t *f)
{
  if (flush_queued(loop, f))
    return;
  f->next = NULL;
  if (loop->flush_tail != NULL)
    loop->flush_tail->next = f;
  else
    loop->flush_head = f;
  loop->flush_tail = f;
  if (!loop->flush_active) {
    /* Started and ref'd while there is work, so a write queued before
     * wire_loop_run (or from a timer) still goes out. */
    uv_prepare_start(&loop->prepare, on_prepare);
    uv_check_start(&loop->check, on_check);
    loop->flush_active = 1;
  }
}

void wire__flush_cancel(wire_loop_t *loop, wire__flush_t *f)
{
  if (!flush_queued(loop, f))
    return;
  wire__flush_t *prev = NULL;
  for (wire__flush_t *p = loop->flush_head; p != NULL; p = p->next) {
    if (p == f) {
      if (prev != NULL)
        prev->next = f->next;
      else
        loop->flush_head = f->next;
      if (loop->flush_tail == f)
        loop->flush_tail = prev;
      break;
    }
    prev = p;
  }
  f->next = NULL;
}

/* ---- defer queue ------------------------------------------------------ */

static void on_idle(uv_idle_t *h)
{
  wire_loop_t *loop = h->data;
  /* Run only what was queued before this turn started; what those
   * callbacks defer runs next turn. */
  defer_t *d = loop->defer_head;
  loop->defer_head = NULL;
  loop->defer_tail = NULL;
  uv_idle_stop(&loop->idle);
  while (d != NULL) {
    defer_t *next = d->next;
    d->fn(d->arg);
    wire__free(d);
    d = next;
  }
}

int wire__defer(wire_loop_t *loop, void (*fn)(void *arg), void *arg)
{
  defer_t *d = wire__malloc(sizeof(*d));
  if (d == NULL)
    return WIRE_ENOMEM;
  d->next = NULL;
  d->fn = fn;
  d->arg = arg;
  if (loop->defer_tail != NULL)
    loop->defer_tail->next = d;
  else
    loop->defer_head = d;
  loop->defer_tail = d;
  uv_idle_start(&loop->idle, on_idle);
  return 0;
}

/* ---- post (thread-safe) ----------------------------------------------- */

static void on_async(uv_async_t *h)
{
  wire_loop_t *loop = h->data;
  uv_mutex_lock(&loop->post_mu);
  defer_t *d = loop->post_head;
  loop->post_head = NULL;
  loop->post_tail = NULL;
  uv_mutex_unlock(&loop->post_mu);
  while (d != NULL) {
    defer_t *next = d->next;
    d->fn(d->arg);
    free(d);
    d = next;
  }
}

int wire_loop_post(wire_loop_t *loop, wire_post_cb fn, void *arg)
{
  /* Plain malloc: wire__malloc's failure counter is not thread-safe. */
  defer_t *d = malloc(sizeof(*d));
  if (d == NULL)
    return WIRE_ENOMEM;
  d->next = NULL;
  d->fn = fn;
  d->arg = arg;
  uv_mutex_lock(&loop->post_mu);
  if (loop->post_tail != NULL)
    loop->post_tail->next = d;
  else
    loop->post_head = d;
  loop->post_tail = d;
  uv_mutex_unlock(&loop->post_mu);
  return uv_async_send(&loop->async);
}

/* ---- loop ------------------------------------------------------------- */

/* libuv writes sockets with write/writev, so a write to a peer that has
 * reset raises SIGPIPE, which kills the process by default. Like Node, wire
 * ignores SIGPIPE (the write then fails with EPIPE), but only if nobody has
 * installed a handler of their own. */
static void ignore_sigpipe(void)
{
  struct sigaction sa;
  if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sigaction(SIGPIPE, &sa, NULL);
  }
}

int wire_loop_create(wire_loop_t **out)
{
  ignore_sigpipe();
  wire_loop_t *loop = wire__calloc(1, sizeof(*loop));
  if (loop == NULL)
    return WIRE_ENOMEM;
  loop->rbuf = wire__malloc(WIRE__READ_BUF_SIZE);
  if (loop->rbuf == NULL) {
    wire__free(loop);
    return WIRE_ENOMEM;
  }
  int err = uv_loop_init(&loop->uv);
  if (err < 0) {
    wire__free(loop->rbuf);
    wire__free(loop);
    return err;
  }
  err = uv_mutex_init(&loop->post_mu);
  if (err < 0) {
    uv_loop_close(&loop->uv);
    wire__free(loop->rbuf);
    wire__free(loop);
    return err;
  }
  loop->uv.data = loop;
  uv_prepare_init(&loop->uv, &loop->prepare);
  uv_check_init(&loop->uv, &loop->check);
  uv_idle_init(&loop->uv, &loop->idle);
  uv_async_init(&loop->uv, &loop->async, on_async);
  loop->prepare.data = loop;
  loop->check.data = loop;
  loop->idle.data = loop;
  loop->async.data = loop;
  uv_unref((uv_handle_t *)&loop->async);
  *out = loop;
  return 0;
}

wire_loop_t *wire_loop_default(void)
{
  if (default_loop == NULL) {
    if (wire_loop_create(&default_loop) < 0)
      return NULL;
    default_loop->is_default = 1;
  }
  return default_loop;
}

int wire_loop_run(wire_loop_t *loop, wire_run_mode_t mode)
{
  uv_run_mode m = UV_RUN_DEFAULT;
  if (mode == WIRE_RUN_ONCE)
    m = UV_RUN_ONCE;
  else if (mode == WIRE_RUN_NOWAIT)
    m = UV_RUN_NOWAIT;
  return uv_run(&loop->uv, m);
}

void wire_loop_stop(wire_loop_t *loop)
{
  uv_stop(&loop->uv);
}

unsigned wire_loop_alive(const wire_loop_t *loop)
{
  return loop->alive;
}

uint64_t wire_loop_now(const wire_loop_t *loop)
{
  return uv_now(&loop->uv);
}

void *wire_loop_uv(wire_loop_t *loop)
{
  return &loop->uv;
}

void **wire__loop_slot(wire_loop_t *loop, int slot)
{
  return &loop->slots[slot];
}

void wire__loop_add_close_hook(wire_loop_t *loop, wire__close_hook_t *h)
{
  h->next = loop->close_hooks;
  loop->close_hooks = h;
}

void wire__loop_remove_close_hook(wire_loop_t *loop, wire__close_hook_t *h)
{
  for (wire__close_hook_t **pp = &loop->close_hooks; *pp != NULL;
       pp = &(*pp)->next) {
    if (*pp == h) {
      *pp = h->next;
      return;
    }
  }
}

int wire_loop_close(wire_loop_t *loop)
{
  /* Library singletons (the global agent) close with the loop: their
   * hooks start the closing, and a few turns finish it. Only what they
   * own goes; anything of the caller's still open keeps WIRE_EBUSY. */
  if (loop->close_hooks != NULL) {
    while (loop->close_hooks != NULL) {
      wire__close_hook_t *h = loop->close_hooks;
      loop->close_hooks = h->next;
      h->fn(h);
    }
    for (int i = 0; i < 16 && loop->alive > 0; i++)
      uv_run(&loop->uv, UV_RUN_NOWAIT);
  }
  /* Finish anything already deferred (close callbacks in flight). */
  if (loop->alive > 0 || loop->defer_head != NULL)
    uv_run(&loop->uv, UV_RUN_NOWAIT);
  if (loop->alive > 0)
    return WIRE_EBUSY;
  on_async(&loop->async);
  uv_close((uv_handle_t *)&loop->prepare, NULL);
  uv_close((uv_handle_t *)&loop->check, NULL);
  uv_close((uv_handle_t *)&loop->idle, NULL);
  uv_close((uv_handle_t *)&loop->async, NULL);
  uv_run(&loop->uv, UV_RUN_DEFAULT);
  int err = uv_loop_close(&loop->uv);
  if (err < 0)
    return err; /* a handle wire does not own is still open */
  uv_mutex_destroy(&loop->post_mu);
  for (unsigned i = 0; i < loop->nchunks; i++)
    wire__free(loop->chunks[i]);
  wire__free(loop->rbuf);
  if (loop == default_loop)
    default_loop = NULL;
  wire__poison(loop, sizeof(*loop));
  wire__free(loop);
  return 0;
}

/* ---- shared buffers ---------------------------------------------------- */

uv_loop_t *wire__uv(wire_loop_t *loop)
{
  return &loop->uv;
}

wire_loop_t *wire__loop_of(uv_loop_t *uv)
{
  return uv->data;
}

void wire__read_buf(wire_loop_t *loop, uv_buf_t *out)
{
  out->base = loop->rbuf;
  out->len = WIRE__READ_BUF_SIZE;
}

void *wire__chunk_get(wire_loop_t *loop)
{
  if (loop->nchunks > 0)
    return loop->chunks[--loop->nchunks];
  return wire__malloc(WIRE__CHUNK_SIZE);
}

void wire__chunk_put(wire_loop_t *loop, void *chunk)
{
  if (loop->nchunks < CHUNK_FREE_MAX)
    loop->chunks[loop->nchunks++] = chunk;
  else
    wire__free(chunk);
}
