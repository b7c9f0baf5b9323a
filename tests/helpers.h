/* Shared helpers for the Criterion suites.
 *
 * - A fresh loop per test with a deadline: h_loop_new() makes a loop and an
 *   unref'd wire timer that fails the test (instead of hanging) if a
 *   h_run / H_RUN_UNTIL call is still running after H_DEADLINE_MS.
 *   h_loop_done() closes the deadline timer, runs the loop dry and asserts
 *   wire_loop_close() == 0: the leak check every test ends with.
 * - H_RUN_UNTIL(loop, cond): turns the loop one at a time until cond holds;
 *   fails if the loop runs out of work first or the deadline passes.
 * - h_listen(): listens on host port 0 and returns the real port.
 * - h_pair_*: a connected TCP pair (client socket and the accepted one) on
 *   127.0.0.1, with the server already closed (it fires its close event
 *   once the accepted socket is gone).
 *
 * Everything here is static so each test file gets its own copy. */
#ifndef WIRE_TESTS_HELPERS_H
#define WIRE_TESTS_HELPERS_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wire.h>

#ifndef H_DEADLINE_MS
#define H_DEADLINE_MS 5000
#endif

static wire_timer_t *h_deadline_timer;

static inline void h_deadline_cb(wire_timer_t *t, void *d)
{
  (void)t;
  (void)d;
  cr_assert_fail("deadline: the loop was still running after %d ms",
                 H_DEADLINE_MS);
}

/* A new loop with its (stopped, unref'd) deadline timer. */
static inline wire_loop_t *h_loop_new(void)
{
  wire_loop_t *loop = NULL;
  cr_assert_eq(wire_loop_create(&loop), 0);
  cr_assert_not_null(loop);
  cr_assert_eq(wire_timer_create(loop, &h_deadline_timer), 0);
  wire_timer_unref(h_deadline_timer);
  return loop;
}

static inline void h_deadline_arm(void)
{
  cr_assert_eq(wire_timer_start(h_deadline_timer, H_DEADLINE_MS, 0,
                                h_deadline_cb),
               0);
}

/* Runs the loop until nothing keeps it alive. */
static inline void h_run(wire_loop_t *loop)
{
  h_deadline_arm();
  wire_loop_run(loop, WIRE_RUN_DEFAULT);
  wire_timer_stop(h_deadline_timer);
}

/* Turns the loop until cond holds. A loop with nothing left to do while
 * cond is false is a failure too (it would spin forever). */
#define H_RUN_UNTIL(loop, cond)                                               \
  do {                                                                        \
    h_deadline_arm();                                                         \
    while (!(cond)) {                                                         \
      int more_ = wire_loop_run((loop), WIRE_RUN_ONCE);                       \
      if (!(cond) && !more_)                                                  \
        cr_assert_fail("the loop ran out of work before: %s", #cond);        \
    }                                                                         \
    wire_timer_stop(h_deadline_timer);                                        \
  } while (0)

/* Turns the loop for about ms. Used only to give an event that must NOT
 * happen a chance to happen; never to wait for one that must. */
static inline void h_idle_tick(wire_timer_t *t, void *d)
{
  (void)t;
  *(int *)d = 1;
}

static inline void h_idle_turns(wire_loop_t *loop, uint64_t ms)
{
  wire_timer_t *t;
  int fired = 0;
  cr_assert_eq(wire_timer_create(loop, &t), 0);
  wire_timer_set_data(t, &fired);
  cr_assert_eq(wire_timer_start(t, ms, 0, h_idle_tick), 0);
  H_RUN_UNTIL(loop, fired);
  wire_timer_close(t, NULL);
}

/* The leak check: closes the deadline timer, runs the loop dry and
 * asserts that the loop closes (no wire object left alive). */
static inline void h_loop_done(wire_loop_t *loop)
{
  wire_timer_close(h_deadline_timer, NULL);
  h_deadline_timer = NULL;
  wire_loop_run(loop, WIRE_RUN_DEFAULT);
  unsigned alive = wire_loop_alive(loop);
  cr_assert_eq(alive, 0, "%u wire object(s) still alive", alive);
  cr_assert_eq(wire_loop_close(loop), 0);
}

/* Listens on host (may be NULL) port 0; returns the port picked. */
static inline int h_listen(wire_server_t *srv, const char *host)
{
  cr_assert_eq(wire_server_listen(srv, host, 0, NULL), 0);
  wire_addr_t a;
  cr_assert_eq(wire_server_address(srv, &a), 0);
  cr_assert_gt(a.port, 0);
  return a.port;
}

/* ---- a connected TCP pair ------------------------------------------------ */

typedef struct {
  wire_loop_t *loop;
  wire_server_t *srv;
  wire_socket_t *client; /* the connecting side */
  wire_socket_t *peer;   /* the accepted side */
  int connected;
  int port;
} h_pair_t;

static inline void h_pair_on_conn(wire_server_t *srv, wire_socket_t *s, void *d)
{
  (void)srv;
  h_pair_t *p = d;
  cr_assert_null(p->peer, "a second connection was accepted");
  p->peer = s;
}

static inline void h_pair_on_connect(wire_socket_t *s, int status, void *arg)
{
  (void)s;
  h_pair_t *p = arg;
  cr_assert_eq(status, 0, "connect: %s", wire_err_name(status));
  p->connected = 1;
}

/* Opens a pair on 127.0.0.1. so (may be NULL) sets the accepted side's
 * options (pause_on_connect, allow_half_open...), co (may be NULL) the
 * client's. Returns with both sides connected and the server closed. */
static inline void h_pair_open(h_pair_t *p, wire_loop_t *loop,
                               const wire_server_opts_t *so,
                               const wire_connect_opts_t *co)
{
  memset(p, 0, sizeof(*p));
  p->loop = loop;
  cr_assert_eq(wire_server_create(loop, so, h_pair_on_conn, &p->srv), 0);
  wire_server_set_data(p->srv, p);
  p->port = h_listen(p->srv, "127.0.0.1");
  wire_connect_opts_t o = WIRE_CONNECT_OPTS_INIT;
  if (co != NULL)
    o = *co;
  o.host = "127.0.0.1";
  o.port = p->port;
  cr_assert_eq(wire_socket_connect(loop, &o, h_pair_on_connect, p,
                                   &p->client),
               0);
  H_RUN_UNTIL(loop, p->connected && p->peer != NULL);
  wire_server_close(p->srv, NULL);
  p->srv = NULL;
}

/* ---- byte collection ------------------------------------------------------ */

/* A growable byte sink for data callbacks (test-side memory, plain
 * malloc). */
typedef struct {
  char *buf;
  size_t len;
  size_t cap;
} h_sink_t;

static inline void h_sink_add(h_sink_t *k, const char *p, size_t n)
{
  if (k->len + n > k->cap) {
    size_t cap = k->cap ? k->cap : 4096;
    while (cap < k->len + n)
      cap *= 2;
    k->buf = realloc(k->buf, cap);
    cr_assert_not_null(k->buf);
    k->cap = cap;
  }
  memcpy(k->buf + k->len, p, n);
  k->len += n;
}

static inline void h_sink_free(h_sink_t *k)
{
  free(k->buf);
  memset(k, 0, sizeof(*k));
}

/* A deterministic pattern: byte i of a stream is h_pat(i). */
static inline char h_pat(size_t i)
{
  return (char)((i * 31u + (i >> 8)) & 0xff);
}

static inline void h_fill(char *p, size_t n, size_t start)
{
  for (size_t i = 0; i < n; i++)
    p[i] = h_pat(start + i);
}

static inline int h_check(const char *p, size_t n, size_t start)
{
  for (size_t i = 0; i < n; i++) {
    if (p[i] != h_pat(start + i))
      return 0;
  }
  return 1;
}

/* An event log: tests append short tags and compare the whole sequence. */
typedef struct {
  char s[1024];
} h_log_t;

static inline void h_log(h_log_t *l, const char *tag)
{
  size_t n = strlen(l->s);
  if (n > 0 && n + 1 < sizeof(l->s))
    l->s[n++] = ' ';
  size_t m = strlen(tag);
  cr_assert_lt(n + m, sizeof(l->s), "event log overflow");
  memcpy(l->s + n, tag, m + 1);
}

#endif
