/* Core: loops, the leak check, timers, wire_loop_post from other threads,
 * error names. */
#include <pthread.h>
#include <uv.h>

#include "helpers.h"

Test(core_loop, create_run_close)
{
  wire_loop_t *loop;
  cr_assert_eq(wire_loop_create(&loop), 0);
  cr_assert_eq(wire_loop_alive(loop), 0);
  cr_assert_not_null(wire_loop_uv(loop));
  cr_assert_eq(wire_loop_run(loop, WIRE_RUN_DEFAULT), 0);
  cr_assert_eq(wire_loop_run(loop, WIRE_RUN_NOWAIT), 0);
  cr_assert_eq(wire_loop_close(loop), 0);
}

Test(core_loop, default_loop_is_a_loop)
{
  wire_loop_t *a = wire_loop_default();
  cr_assert_not_null(a);
  cr_assert_eq(wire_loop_default(), a);
  cr_assert_eq(wire_loop_close(a), 0);
  /* A new default loop after the old one closed. */
  wire_loop_t *b = wire_loop_default();
  cr_assert_not_null(b);
  cr_assert_eq(wire_loop_close(b), 0);
}

Test(core_loop, close_is_busy_while_objects_live)
{
  wire_loop_t *loop;
  cr_assert_eq(wire_loop_create(&loop), 0);
  wire_timer_t *t;
  cr_assert_eq(wire_timer_create(loop, &t), 0);
  cr_assert_eq(wire_loop_alive(loop), 1);
  cr_assert_eq(wire_loop_close(loop), WIRE_EBUSY);
  wire_timer_close(t, NULL);
  cr_assert_eq(wire_loop_alive(loop), 1);
  /* The close finishes inside wire_loop_close (one more turn). */
  cr_assert_eq(wire_loop_close(loop), 0);
}

/* ---- timers ------------------------------------------------------------- */

typedef struct {
  int fired;
  int closed;
  int close_in_call;
  int stop_after;
  uint64_t start;
  uint64_t at;
} tev_t;

static int in_timer_close;

static void t_fire(wire_timer_t *t, void *d)
{
  tev_t *e = d;
  e->fired++;
  (void)t;
}

static void t_closed(wire_timer_t *t, void *d)
{
  (void)t;
  tev_t *e = d;
  if (in_timer_close)
    e->close_in_call++;
  e->closed++;
}

Test(core_loop, timer_one_shot)
{
  wire_loop_t *loop = h_loop_new();
  wire_timer_t *t;
  tev_t e = {0};
  cr_assert_eq(wire_timer_create(loop, &t), 0);
  wire_timer_set_data(t, &e);
  cr_assert_eq(wire_timer_data(t), &e);
  uint64_t start = wire_loop_now(loop);
  cr_assert_eq(wire_timer_start(t, 20, 0, t_fire), 0);
  h_run(loop);
  cr_assert_eq(e.fired, 1);
  cr_assert_geq(wire_loop_now(loop) - start, 20);
  in_timer_close = 1;
  wire_timer_close(t, t_closed);
  in_timer_close = 0;
  cr_assert_eq(e.closed, 0);
  h_run(loop);
  cr_assert_eq(e.closed, 1);
  cr_assert_eq(e.close_in_call, 0);
  h_loop_done(loop);
}

static void t_repeat(wire_timer_t *t, void *d)
{
  tev_t *e = d;
  e->fired++;
  if (e->fired == e->stop_after)
    wire_timer_stop(t);
}

Test(core_loop, timer_repeat_and_stop)
{
  wire_loop_t *loop = h_loop_new();
  wire_timer_t *t;
  tev_t e = {0};
  e.stop_after = 5;
  cr_assert_eq(wire_timer_create(loop, &t), 0);
  wire_timer_set_data(t, &e);
  cr_assert_eq(wire_timer_start(t, 1, 1, t_repeat), 0);
  h_run(loop);
  cr_assert_eq(e.fired, 5);
  /* Restart a stopped timer. */
  e.stop_after = 7;
  cr_assert_eq(wire_timer_start(t, 1, 1, t_repeat), 0);
  h_run(loop);
  cr_assert_eq(e.fired, 7);
  wire_timer_close(t, NULL);
  h_loop_done(loop);
}

static void t_close_self(wire_timer_t *t, void *d)
{
  tev_t *e = d;
  e->fired++;
  in_timer_close = 1;
  wire_timer_close(t, t_closed);
  in_timer_close = 0;
  cr_assert_eq(wire_timer_start(t, 1, 0, t_fire), WIRE_ECLOSED);
}

Test(core_loop, timer_close_from_its_callback)
{
  wire_loop_t *loop = h_loop_new();
  wire_timer_t *t;
  tev_t e = {0};
  cr_assert_eq(wire_timer_create(loop, &t), 0);
  wire_timer_set_data(t, &e);
  cr_assert_eq(wire_timer_start(t, 1, 1, t_close_self), 0);
  h_run(loop);
  cr_assert_eq(e.fired, 1);
  cr_assert_eq(e.closed, 1);
  cr_assert_eq(e.close_in_call, 0);
  h_loop_done(loop);
}

Test(core_loop, timer_unref_does_not_keep_loop_alive)
{
  wire_loop_t *loop = h_loop_new();
  wire_timer_t *t;
  tev_t e = {0};
  cr_assert_eq(wire_timer_create(loop, &t), 0);
  wire_timer_set_data(t, &e);
  cr_assert_eq(wire_timer_start(t, 60000, 0, t_fire), 0);
  wire_timer_unref(t);
  h_run(loop);
  cr_assert_eq(e.fired, 0);
  wire_timer_ref(t);
  cr_assert_eq(wire_loop_run(loop, WIRE_RUN_NOWAIT), 1);
  wire_timer_close(t, NULL);
  h_run(loop);
  cr_assert_eq(e.fired, 0);
  h_loop_done(loop);
}

Test(core_loop, timer_close_while_pending_never_fires)
{
  wire_loop_t *loop = h_loop_new();
  wire_timer_t *t;
  tev_t e = {0};
  cr_assert_eq(wire_timer_create(loop, &t), 0);
  wire_timer_set_data(t, &e);
  cr_assert_eq(wire_timer_start(t, 0, 0, t_fire), 0);
  wire_timer_close(t, t_closed);
  h_run(loop);
  cr_assert_eq(e.fired, 0);
  cr_assert_eq(e.closed, 1);
  h_loop_done(loop);
}

/* ---- wire_loop_post --------------------------------------------------------- */

enum { NPOST = 200, NTHREADS = 4 };

typedef struct {
  wire_loop_t *loop;
  int tid;
} poster_t;

static pthread_t loop_thread;
static int got[NTHREADS];
static int out_of_order;
static int wrong_thread;
static int total_got;

typedef struct {
  int tid;
  int seq;
} post_msg_t;

static post_msg_t msgs[NTHREADS][NPOST];

static void on_post(void *arg)
{
  post_msg_t *m = arg;
  if (!pthread_equal(pthread_self(), loop_thread))
    wrong_thread++;
  if (m->seq != got[m->tid])
    out_of_order++;
  got[m->tid]++;
  total_got++;
}

static void *poster(void *arg)
{
  poster_t *p = arg;
  for (int i = 0; i < NPOST; i++) {
    msgs[p->tid][i].tid = p->tid;
    msgs[p->tid][i].seq = i;
    if (wire_loop_post(p->loop, on_post, &msgs[p->tid][i]) != 0)
      abort();
  }
  return NULL;
}

static void stop_when_done(wire_timer_t *t, void *d)
{
  (void)d;
  if (total_got == NTHREADS * NPOST)
    wire_timer_stop(t);
}

Test(core_loop, post_from_other_threads)
{
  wire_loop_t *loop = h_loop_new();
  loop_thread = pthread_self();
  /* A ref'd timer keeps the loop running until everything arrived. */
  wire_timer_t *t;
  cr_assert_eq(wire_timer_create(loop, &t), 0);
  cr_assert_eq(wire_timer_start(t, 1, 1, stop_when_done), 0);
  pthread_t th[NTHREADS];
  poster_t ps[NTHREADS];
  for (int i = 0; i < NTHREADS; i++) {
    ps[i].loop = loop;
    ps[i].tid = i;
    cr_assert_eq(pthread_create(&th[i], NULL, poster, &ps[i]), 0);
  }
  h_run(loop);
  for (int i = 0; i < NTHREADS; i++)
    pthread_join(th[i], NULL);
  cr_assert_eq(total_got, NTHREADS * NPOST);
  cr_assert_eq(out_of_order, 0);
  cr_assert_eq(wrong_thread, 0);
  wire_timer_close(t, NULL);
  h_loop_done(loop);
}

static int uv_posted;
static void uv_post_cb(void *arg)
{
  (void)arg;
  uv_posted++;
}

static void uv_poster(void *arg)
{
  wire_loop_post(arg, uv_post_cb, NULL);
}

Test(core_loop, post_from_uv_thread_and_before_run)
{
  wire_loop_t *loop = h_loop_new();
  /* Posted from this thread before the loop runs: still a later turn. */
  cr_assert_eq(wire_loop_post(loop, uv_post_cb, NULL), 0);
  cr_assert_eq(uv_posted, 0);
  uv_thread_t th;
  cr_assert_eq(uv_thread_create(&th, uv_poster, loop), 0);
  uv_thread_join(&th);
  wire_timer_t *t;
  cr_assert_eq(wire_timer_create(loop, &t), 0);
  cr_assert_eq(wire_timer_start(t, 1, 1, NULL), 0);
  H_RUN_UNTIL(loop, uv_posted == 2);
  wire_timer_close(t, NULL);
  h_loop_done(loop);
}

static int late_post;
static void late_cb(void *arg)
{
  (void)arg;
  late_post++;
}

Test(core_loop, post_pending_at_close_still_runs)
{
  wire_loop_t *loop;
  cr_assert_eq(wire_loop_create(&loop), 0);
  cr_assert_eq(wire_loop_post(loop, late_cb, NULL), 0);
  cr_assert_eq(wire_loop_close(loop), 0);
  cr_assert_eq(late_post, 1);
}

/* ---- errors ------------------------------------------------------------------ */

Test(core_errno, names_and_messages)
{
  cr_assert_eq(WIRE_ECONNRESET, UV_ECONNRESET);
  cr_assert_eq(WIRE_EOF, UV_EOF);
  cr_assert_eq(WIRE_EAI_NONAME, UV_EAI_NONAME);
  cr_assert_str_eq(wire_err_name(WIRE_ECONNREFUSED), "ECONNREFUSED");
  cr_assert_str_eq(wire_err_name(WIRE_EWRITEAFTEREND), "EWRITEAFTEREND");
  cr_assert_str_eq(wire_err_name(WIRE_EAI_NONAME), "EAI_NONAME");
  cr_assert_str_eq(wire_strerror(WIRE_ECONNREFUSED), "connection refused");
  cr_assert_str_eq(wire_strerror(WIRE_ENOBUFS), "no buffer space available");
  cr_assert_str_eq(wire_strerror(WIRE_EOF), "end of file");
  /* Codes libuv knows and wire's list does not, and unknown codes, still
   * give a string (and, under LeakSanitizer, leak nothing: uv_strerror
   * mallocs one for an unknown code and never frees it). */
  cr_assert_str_eq(wire_err_name(UV_ETXTBSY), "ETXTBSY");
  cr_assert_str_eq(wire_strerror(UV_ETXTBSY), uv_strerror(UV_ETXTBSY));
  cr_assert_not_null(strstr(wire_strerror(-123456), "-123456"));
  cr_assert_not_null(strstr(wire_err_name(-123456), "-123456"));
  cr_assert_not_null(wire_err_name(0));
}
