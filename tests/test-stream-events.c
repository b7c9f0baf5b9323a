/* The stream contract, read side and lifecycle: order of data / end / close,
 * end() = flush then FIN, allowHalfOpen off and on, pause/resume, the
 * timeout event, the byte counters. Every test runs on its own loop and
 * ends with the wire_loop_close leak check. */
#include "helpers.h"

/* Per-socket event record, set as the socket's user pointer. */
typedef struct {
  h_log_t log;
  h_sink_t in;
  int ends;
  int closes;
  int had_error;
  int errors;
  int last_error;
  int timeouts;
  size_t len_at_end;
  uint64_t last_data_ms;
  uint64_t timeout_at_ms;
  int pause_in_data;
  int data_events;
} ev_t;

static void ev_data(wire_socket_t *s, const char *buf, size_t len, void *d)
{
  ev_t *e = d;
  cr_assert_gt(len, 0);
  size_t n = strlen(e->log.s);
  /* One "data" per run of data events. */
  if (n < 4 || strcmp(e->log.s + n - 4, "data") != 0)
    h_log(&e->log, "data");
  h_sink_add(&e->in, buf, len);
  e->data_events++;
  e->last_data_ms = wire_loop_now(wire_socket_loop(s));
  if (e->pause_in_data)
    wire_socket_pause(s);
}

static void ev_end(wire_socket_t *s, void *d)
{
  (void)s;
  ev_t *e = d;
  h_log(&e->log, "end");
  e->ends++;
  e->len_at_end = e->in.len;
}

static void ev_error(wire_socket_t *s, int err, void *d)
{
  (void)s;
  ev_t *e = d;
  h_log(&e->log, "error");
  e->errors++;
  e->last_error = err;
}

static void ev_close(wire_socket_t *s, int had_error, void *d)
{
  (void)s;
  ev_t *e = d;
  h_log(&e->log, had_error ? "close(1)" : "close(0)");
  e->closes++;
  e->had_error = had_error;
}

static void ev_timeout(wire_socket_t *s, void *d)
{
  ev_t *e = d;
  h_log(&e->log, "timeout");
  e->timeouts++;
  e->timeout_at_ms = wire_loop_now(wire_socket_loop(s));
}

static void ev_attach(wire_socket_t *s, ev_t *e)
{
  wire_socket_set_data(s, e);
  wire_socket_on_data(s, ev_data);
  wire_socket_on_end(s, ev_end);
  wire_socket_on_error(s, ev_error);
  wire_socket_on_close(s, ev_close);
  wire_socket_on_timeout(s, ev_timeout);
}

Test(stream_events, data_end_close_in_order)
{
  wire_loop_t *loop = h_loop_new();
  h_pair_t p;
  h_pair_open(&p, loop, NULL, NULL);
  ev_t c = {0}, s = {0};
  ev_attach(p.client, &c);
  ev_attach(p.peer, &s);

  cr_assert_eq(wire_socket_write(p.peer, "hello", 5), 1);
  wire_socket_end(p.peer);
  h_run(loop);

  /* allowHalfOpen off: the client ends its side after the peer's FIN and
   * both sides close by themselves, without errors. */
  cr_assert_str_eq(c.log.s, "data end close(0)");
  cr_assert_str_eq(s.log.s, "end close(0)");
  cr_assert_eq(c.in.len, 5);
  cr_assert_eq(memcmp(c.in.buf, "hello", 5), 0);
  h_sink_free(&c.in);
  h_sink_free(&s.in);
  h_loop_done(loop);
}

Test(stream_events, end_flushes_everything_before_fin)
{
  wire_loop_t *loop = h_loop_new();
  h_pair_t p;
  h_pair_open(&p, loop, NULL, NULL);
  ev_t c = {0}, s = {0};
  ev_attach(p.client, &c);
  ev_attach(p.peer, &s);

  /* 3 MiB in writes of odd sizes, then end() at once: the peer sees every
   * byte, in order, then EOF. */
  enum { TOTAL = 3 * 1024 * 1024 };
  char *buf = malloc(TOTAL);
  h_fill(buf, TOTAL, 0);
  size_t off = 0;
  size_t step = 1;
  while (off < TOTAL) {
    size_t n = step < TOTAL - off ? step : TOTAL - off;
    cr_assert_geq(wire_socket_write(p.client, buf + off, n), 0);
    off += n;
    step = step * 3 + 7;
  }
  wire_socket_end(p.client);
  wire_socket_end(p.client); /* idempotent */
  h_run(loop);

  cr_assert_eq(s.in.len, TOTAL);
  cr_assert(h_check(s.in.buf, s.in.len, 0), "bytes differ");
  cr_assert_eq(s.ends, 1);
  cr_assert_eq(s.len_at_end, TOTAL, "end before all the data");
  cr_assert_eq(s.closes, 1);
  cr_assert_eq(c.closes, 1);
  cr_assert_eq(c.errors + s.errors, 0);
  free(buf);
  h_sink_free(&c.in);
  h_sink_free(&s.in);
  h_loop_done(loop);
}

/* ---- allowHalfOpen ---------------------------------------------------- */

static int write_in_end_ret;

static void end_then_write(wire_socket_t *s, void *d)
{
  ev_end(s, d);
  write_in_end_ret = wire_socket_write(s, "late", 4);
}

Test(stream_events, half_open_off_by_default)
{
  wire_loop_t *loop = h_loop_new();
  h_pair_t p;
  h_pair_open(&p, loop, NULL, NULL);
  ev_t c = {0}, s = {0};
  ev_attach(p.client, &c);
  ev_attach(p.peer, &s);
  /* A write from inside the end callback still goes out (as Node: the
   * automatic end() comes after the 'end' listeners). */
  wire_socket_on_end(p.peer, end_then_write);

  wire_socket_end(p.client);
  h_run(loop);
  cr_assert_eq(write_in_end_ret, 1);
  cr_assert_str_eq(s.log.s, "end close(0)");
  cr_assert_str_eq(c.log.s, "data end close(0)");
  cr_assert_eq(c.in.len, 4);
  h_sink_free(&c.in);
  h_loop_done(loop);
}

Test(stream_events, half_open_on_keeps_writable)
{
  wire_loop_t *loop = h_loop_new();
  wire_server_opts_t so = WIRE_SERVER_OPTS_INIT;
  so.allow_half_open = 1;
  h_pair_t p;
  h_pair_open(&p, loop, &so, NULL);
  ev_t c = {0}, s = {0};
  ev_attach(p.client, &c);
  ev_attach(p.peer, &s);

  wire_socket_end(p.client);
  H_RUN_UNTIL(loop, s.ends == 1);
  /* Turn the loop some more: nothing closes while our side is open. */
  h_idle_turns(loop, 30);
  cr_assert_eq(s.closes, 0);
  cr_assert_eq(c.closes, 0);

  for (int i = 0; i < 3; i++)
    cr_assert_eq(wire_socket_write(p.peer, "late", 4), 1);
  H_RUN_UNTIL(loop, c.in.len == 12);
  cr_assert_eq(s.closes, 0);
  wire_socket_end(p.peer);
  h_run(loop);
  cr_assert_str_eq(s.log.s, "end close(0)");
  cr_assert_str_eq(c.log.s, "data end close(0)");
  h_sink_free(&c.in);
  h_loop_done(loop);
}

Test(stream_events, half_open_on_client_option)
{
  wire_loop_t *loop = h_loop_new();
  wire_connect_opts_t co = WIRE_CONNECT_OPTS_INIT;
  co.allow_half_open = 1;
  h_pair_t p;
  h_pair_open(&p, loop, NULL, &co);
  ev_t c = {0}, s = {0};
  ev_attach(p.client, &c);
  ev_attach(p.peer, &s);

  wire_socket_end(p.peer);
  H_RUN_UNTIL(loop, c.ends == 1);
  cr_assert_eq(wire_socket_write(p.client, "abc", 3), 1);
  H_RUN_UNTIL(loop, s.in.len == 3);
  cr_assert_eq(c.closes + s.closes, 0);
  wire_socket_end(p.client);
  h_run(loop);
  cr_assert_eq(c.closes, 1);
  cr_assert_eq(s.closes, 1);
  h_sink_free(&s.in);
  h_loop_done(loop);
}

/* ---- pause / resume --------------------------------------------------- */

typedef struct {
  int done;
  int status;
} wdone_t;

static void on_wdone(wire_socket_t *s, int status, void *arg)
{
  (void)s;
  wdone_t *w = arg;
  w->done++;
  w->status = status;
}

Test(stream_events, pause_stops_data_resume_delivers)
{
  wire_loop_t *loop = h_loop_new();
  wire_server_opts_t so = WIRE_SERVER_OPTS_INIT;
  so.pause_on_connect = 1;
  h_pair_t p;
  h_pair_open(&p, loop, &so, NULL);
  ev_t s = {0};
  ev_attach(p.peer, &s);
  cr_assert(wire_socket_is_paused(p.peer));

  static char msg[] = "paused bytes";
  wire_buf_t b = wire_buf(msg, sizeof(msg) - 1);
  wdone_t w = {0};
  cr_assert_eq(wire_socket_writev(p.client, &b, 1, on_wdone, &w), 1);
  H_RUN_UNTIL(loop, w.done == 1);
  cr_assert_eq(w.status, 0);
  h_idle_turns(loop, 50);
  cr_assert_eq(s.data_events, 0, "data while paused");

  wire_socket_resume(p.peer);
  cr_assert_not(wire_socket_is_paused(p.peer));
  H_RUN_UNTIL(loop, s.in.len == sizeof(msg) - 1);
  cr_assert_eq(memcmp(s.in.buf, msg, s.in.len), 0);

  /* Pause from inside the data callback: no more data events. */
  s.pause_in_data = 1;
  int before = s.data_events;
  cr_assert_eq(wire_socket_write(p.client, "x", 1), 1);
  H_RUN_UNTIL(loop, s.data_events == before + 1);
  cr_assert(wire_socket_is_paused(p.peer));
  cr_assert_eq(wire_socket_write(p.client, "yz", 2), 1);
  h_idle_turns(loop, 50);
  cr_assert_eq(s.data_events, before + 1);
  s.pause_in_data = 0;
  wire_socket_resume(p.peer);
  H_RUN_UNTIL(loop, s.in.len == sizeof(msg) - 1 + 3);

  wire_socket_close(p.client, NULL);
  h_run(loop);
  cr_assert_eq(s.closes, 1);
  h_sink_free(&s.in);
  h_loop_done(loop);
}

Test(stream_events, pause_with_large_transfer)
{
  wire_loop_t *loop = h_loop_new();
  h_pair_t p;
  h_pair_open(&p, loop, NULL, NULL);
  ev_t s = {0};
  ev_attach(p.peer, &s);
  s.pause_in_data = 1;

  enum { TOTAL = 2 * 1024 * 1024 };
  char *buf = malloc(TOTAL);
  h_fill(buf, TOTAL, 0);
  cr_assert_geq(wire_socket_write(p.client, buf, TOTAL), 0);
  wire_socket_end(p.client);
  /* Each resume lets exactly one more data event through. */
  int rounds = 0;
  while (s.ends == 0) {
    H_RUN_UNTIL(loop, wire_socket_is_paused(p.peer) || s.ends == 1);
    if (s.ends)
      break;
    cr_assert_eq(s.data_events, rounds + 1);
    rounds++;
    cr_assert_lt(rounds, 100000);
    wire_socket_resume(p.peer);
    H_RUN_UNTIL(loop, s.data_events == rounds + 1 || s.ends == 1);
  }
  h_run(loop);
  cr_assert_eq(s.in.len, TOTAL);
  cr_assert(h_check(s.in.buf, TOTAL, 0));
  cr_assert_eq(s.closes, 1);
  free(buf);
  h_sink_free(&s.in);
  h_loop_done(loop);
}

/* ---- timeout ------------------------------------------------------------ */

Test(stream_events, timeout_fires_and_does_not_close)
{
  wire_loop_t *loop = h_loop_new();
  h_pair_t p;
  h_pair_open(&p, loop, NULL, NULL);
  ev_t c = {0}, s = {0};
  ev_attach(p.client, &c);
  ev_attach(p.peer, &s);

  cr_assert_eq(wire_socket_set_timeout(p.client, 30), 0);
  H_RUN_UNTIL(loop, c.timeouts == 1);
  cr_assert_eq(c.closes, 0);
  /* Still a working socket, both ways. */
  cr_assert_eq(wire_socket_write(p.client, "ping", 4), 1);
  H_RUN_UNTIL(loop, s.in.len == 4);
  cr_assert_eq(wire_socket_write(p.peer, "pong", 4), 1);
  H_RUN_UNTIL(loop, c.in.len == 4);
  /* Activity re-arms it: it fires again. */
  H_RUN_UNTIL(loop, c.timeouts == 2);
  cr_assert_eq(c.closes, 0);
  /* 0 turns it off. */
  cr_assert_eq(wire_socket_set_timeout(p.client, 0), 0);
  wire_socket_close(p.client, NULL);
  h_run(loop);
  cr_assert_eq(c.timeouts, 2);
  cr_assert_str_eq(c.log.s, "timeout data timeout close(0)");
  h_sink_free(&c.in);
  h_sink_free(&s.in);
  h_loop_done(loop);
}

/* The timeout callback and the close callback share a slot (a timeout
 * cannot fire once the user closed the socket): neither ever runs as the
 * other, and setting a timeout callback after the close changes nothing. */
static int closed_cb_runs;

static void count_close_cb(wire_socket_t *s, int had_error, void *d)
{
  (void)s, (void)had_error, (void)d;
  closed_cb_runs++;
}

Test(stream_events, timeout_and_close_callbacks_do_not_mix)
{
  wire_loop_t *loop = h_loop_new();
  h_pair_t p;
  h_pair_open(&p, loop, NULL, NULL);
  ev_t c = {0}, s = {0};
  ev_attach(p.client, &c);
  ev_attach(p.peer, &s);
  cr_assert_eq(wire_socket_set_timeout(p.client, 60000), 0);
  closed_cb_runs = 0;
  wire_socket_close(p.client, count_close_cb);
  wire_socket_on_timeout(p.client, ev_timeout); /* after close: ignored */
  /* The peer closes on its own (the client's FIN), with its timeout
   * callback set and no close callback. */
  h_run(loop);
  cr_assert_eq(closed_cb_runs, 1);
  cr_assert_str_eq(c.log.s, "close(0)");
  cr_assert_str_eq(s.log.s, "end close(0)");
  cr_assert_eq(c.timeouts + s.timeouts, 0);
  h_loop_done(loop);
}

typedef struct {
  wire_socket_t *s;
  int left;
  ev_t *watch;
} pinger_t;

static void ping_tick(wire_timer_t *t, void *d)
{
  pinger_t *pg = d;
  cr_assert_eq(wire_socket_write(pg->s, "p", 1), 1);
  if (--pg->left == 0)
    wire_timer_stop(t);
}

Test(stream_events, activity_postpones_timeout)
{
  wire_loop_t *loop = h_loop_new();
  h_pair_t p;
  h_pair_open(&p, loop, NULL, NULL);
  ev_t s = {0};
  ev_attach(p.peer, &s);

  enum { TMO = 100 };
  cr_assert_eq(wire_socket_set_timeout(p.peer, TMO), 0);
  uint64_t start = wire_loop_now(loop);
  s.last_data_ms = start;
  wire_timer_t *t;
  pinger_t pg = {p.client, 30, &s};
  cr_assert_eq(wire_timer_create(loop, &t), 0);
  wire_timer_set_data(t, &pg);
  cr_assert_eq(wire_timer_start(t, 10, 10, ping_tick), 0);
  H_RUN_UNTIL(loop, s.timeouts == 1);
  /* Whatever the scheduling, the timeout never fires sooner than TMO after
   * the last read. */
  cr_assert_geq(s.timeout_at_ms - s.last_data_ms, TMO,
                "timeout %llu ms after the last activity",
                (unsigned long long)(s.timeout_at_ms - s.last_data_ms));
  wire_timer_close(t, NULL);
  /* Close is destroy: a ping written in the turn the timeout fired may
   * still be queued and is cancelled. What the peer gets is exactly what
   * went to the kernel. */
  uint64_t sent = wire_socket_bytes_written(p.client);
  cr_assert_leq(sent, 30 - (uint64_t)pg.left);
  wire_socket_close(p.client, NULL);
  h_run(loop);
  cr_assert_eq((uint64_t)s.in.len, sent);
  h_sink_free(&s.in);
  h_loop_done(loop);
}

/* ---- counters ------------------------------------------------------------ */

static uint64_t client_written_at_close;

static void record_written(wire_socket_t *s, int had_error, void *d)
{
  ev_close(s, had_error, d);
  client_written_at_close = wire_socket_bytes_written(s);
}

Test(stream_events, byte_counters_exact)
{
  wire_loop_t *loop = h_loop_new();
  h_pair_t p;
  h_pair_open(&p, loop, NULL, NULL);
  ev_t c = {0}, s = {0};
  ev_attach(p.client, &c);
  ev_attach(p.peer, &s);
  wire_socket_on_close(p.client, record_written);
  cr_assert_eq(wire_socket_bytes_read(p.client), 0);
  cr_assert_eq(wire_socket_bytes_written(p.client), 0);

  static char big[300000];
  h_fill(big, sizeof(big), 0);
  uint64_t total = 0;
  for (int i = 1; i <= 20; i++) {
    cr_assert_geq(wire_socket_write(p.client, big, (size_t)i * 1000), 0);
    total += (uint64_t)i * 1000;
  }
  wire_buf_t b[2] = {wire_buf(big, 77777), wire_buf(big, 3)};
  cr_assert_geq(wire_socket_writev(p.client, b, 2, NULL, NULL), 0);
  total += 77780;
  cr_assert_eq(wire_socket_write(p.peer, "12345", 5), 1);
  H_RUN_UNTIL(loop, s.in.len == total && c.in.len == 5);
  cr_assert_eq(wire_socket_bytes_written(p.client), total);
  cr_assert_eq(wire_socket_bytes_read(p.peer), total);
  cr_assert_eq(wire_socket_bytes_written(p.peer), 5);
  cr_assert_eq(wire_socket_bytes_read(p.client), 5);
  cr_assert_eq(wire_socket_write_queue_size(p.client), 0);
  wire_socket_end(p.client);
  h_run(loop);
  cr_assert_eq(client_written_at_close, total);
  h_sink_free(&c.in);
  h_sink_free(&s.in);
  h_loop_done(loop);
}
