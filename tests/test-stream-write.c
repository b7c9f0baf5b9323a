/* The stream contract, write side: the high-water mark and exactly one
 * drain, zero-copy completions in order, close with pending writes
 * (WIRE_ECANCELED in order, before the close event), the close callback on
 * a later turn, the write cap, write after end, the reuse of write chunks,
 * the reserve/commit and quick writes protocols use, the write of a
 * data event leaving when the event returns. */
#include "helpers.h"

#include "../src/stream/internal.h"

typedef struct {
  int drains;
  int closes;
  int had_error;
  int errors;
  h_sink_t in;
  h_log_t log;
  int ends;
} wev_t;

static void w_data(wire_socket_t *s, const char *buf, size_t len, void *d)
{
  (void)s;
  wev_t *e = d;
  h_sink_add(&e->in, buf, len);
}

static void w_drain(wire_socket_t *s, void *d)
{
  (void)s;
  wev_t *e = d;
  e->drains++;
  h_log(&e->log, "drain");
}

static void w_end(wire_socket_t *s, void *d)
{
  (void)s;
  wev_t *e = d;
  e->ends++;
}

static void w_error(wire_socket_t *s, int err, void *d)
{
  (void)s;
  wev_t *e = d;
  e->errors++;
  h_log(&e->log, wire_err_name(err));
}

static void w_close(wire_socket_t *s, int had_error, void *d)
{
  (void)s;
  wev_t *e = d;
  e->closes++;
  e->had_error = had_error;
  h_log(&e->log, "close");
}

static void w_attach(wire_socket_t *s, wev_t *e)
{
  wire_socket_set_data(s, e);
  wire_socket_on_data(s, w_data);
  wire_socket_on_drain(s, w_drain);
  wire_socket_on_end(s, w_end);
  wire_socket_on_error(s, w_error);
  wire_socket_on_close(s, w_close);
}

/* A client that is still connecting: writes queue and report backpressure
 * deterministically. */
typedef struct {
  wire_server_t *srv;
  wire_socket_t *peer;
  int port;
  int connect_status;
  int connected;
} conn_t;

static void c_on_conn(wire_server_t *srv, wire_socket_t *s, void *d)
{
  (void)srv;
  conn_t *c = d;
  c->peer = s;
}

static void c_on_connect(wire_socket_t *s, int status, void *arg)
{
  (void)s;
  conn_t *c = arg;
  c->connect_status = status;
  c->connected = 1;
}

static wire_socket_t *start_client(wire_loop_t *loop, conn_t *c)
{
  memset(c, 0, sizeof(*c));
  cr_assert_eq(wire_server_create(loop, NULL, c_on_conn, &c->srv), 0);
  wire_server_set_data(c->srv, c);
  c->port = h_listen(c->srv, "127.0.0.1");
  wire_connect_opts_t o = WIRE_CONNECT_OPTS_INIT;
  o.host = "127.0.0.1";
  o.port = c->port;
  wire_socket_t *s;
  cr_assert_eq(wire_socket_connect(loop, &o, c_on_connect, c, &s), 0);
  return s;
}

Test(stream_write, hwm_returns_0_then_exactly_one_drain)
{
  wire_loop_t *loop = h_loop_new();
  conn_t c;
  wire_socket_t *s = start_client(loop, &c);
  wev_t e = {0}, pe = {0};
  w_attach(s, &e);

  static char buf[16 * 1024];
  h_fill(buf, sizeof(buf), 0);
  cr_assert_eq(wire_socket_write(s, buf, 100), 1);
  cr_assert_eq(wire_socket_write_queue_size(s), 100);
  cr_assert_eq(wire_socket_write(s, buf + 100, 16 * 1024 - 101), 1);
  /* The byte that reaches the high-water mark (16 KiB) reports 0. */
  cr_assert_eq(wire_socket_write(s, buf + 16 * 1024 - 1, 1), 0);
  cr_assert_eq(wire_socket_write_queue_size(s), 16 * 1024);

  H_RUN_UNTIL(loop, c.peer != NULL && e.drains == 1);
  w_attach(c.peer, &pe);
  wire_server_close(c.srv, NULL);
  cr_assert_eq(c.connect_status, 0);
  /* Under the mark again: 1, and no further drain. */
  cr_assert_eq(wire_socket_write(s, "x", 1), 1);
  wire_socket_end(s);
  h_run(loop);
  cr_assert_eq(e.drains, 1);
  cr_assert_eq(pe.in.len, 16 * 1024 + 1);
  cr_assert(h_check(pe.in.buf, 16 * 1024, 0));
  cr_assert_eq(pe.in.buf[16 * 1024], 'x');
  h_sink_free(&pe.in);
  h_loop_done(loop);
}

Test(stream_write, custom_hwm)
{
  wire_loop_t *loop = h_loop_new();
  conn_t c;
  wire_socket_t *s = start_client(loop, &c);
  wev_t e = {0};
  w_attach(s, &e);
  cr_assert_eq(wire_socket_set_write_limits(s, 0, 100), WIRE_EINVAL);
  cr_assert_eq(wire_socket_set_write_limits(s, 100, 99), WIRE_EINVAL);
  /* The cap fits 32 bits. */
#if SIZE_MAX > UINT32_MAX
  cr_assert_eq(wire_socket_set_write_limits(s, 100, (size_t)UINT32_MAX + 1),
               WIRE_EINVAL);
#endif
  cr_assert_eq(wire_socket_set_write_limits(s, 100, UINT32_MAX), 0);
  cr_assert_eq(wire_socket_set_write_limits(s, 10, 1000), 0);
  cr_assert_eq(wire_socket_write(s, "123456789", 9), 1);
  cr_assert_eq(wire_socket_write(s, "0", 1), 0);
  cr_assert_eq(wire_socket_write(s, "abc", 3), 0);
  H_RUN_UNTIL(loop, e.drains == 1 && c.peer != NULL);
  wire_server_close(c.srv, NULL);
  wire_server_close_connections(c.srv);
  wire_socket_close(s, NULL);
  h_run(loop);
  cr_assert_eq(e.drains, 1);
  h_loop_done(loop);
}

Test(stream_write, kernel_backpressure_and_drain)
{
  wire_loop_t *loop = h_loop_new();
  wire_server_opts_t so = WIRE_SERVER_OPTS_INIT;
  so.pause_on_connect = 1;
  h_pair_t p;
  h_pair_open(&p, loop, &so, NULL);
  wev_t e = {0}, pe = {0};
  w_attach(p.client, &e);
  w_attach(p.peer, &pe);

  /* The peer does not read: write until the kernel stops taking bytes and
   * the queue goes over the mark. */
  enum { BLOCK = 64 * 1024 };
  static char buf[BLOCK];
  size_t total = 0;
  int r = 1;
  for (int i = 0; i < 4000 && r == 1; i++) {
    h_fill(buf, BLOCK, total);
    r = wire_socket_write(p.client, buf, BLOCK);
    cr_assert_geq(r, 0, "write: %s", wire_err_name(r));
    total += BLOCK;
    if (r == 1 && i % 8 == 7)
      wire_loop_run(loop, WIRE_RUN_NOWAIT);
  }
  cr_assert_eq(r, 0, "the kernel took %zu bytes without pushing back", total);
  cr_assert_geq(wire_socket_write_queue_size(p.client), 16 * 1024);
  h_idle_turns(loop, 20);
  cr_assert_eq(e.drains, 0, "drain while the queue is full");

  wire_socket_resume(p.peer);
  H_RUN_UNTIL(loop, e.drains == 1);
  cr_assert_eq(wire_socket_write_queue_size(p.client), 0);
  wire_socket_end(p.client);
  h_run(loop);
  cr_assert_eq(e.drains, 1);
  cr_assert_eq(pe.in.len, total);
  cr_assert(h_check(pe.in.buf, total, 0), "bytes differ");
  h_sink_free(&pe.in);
  h_loop_done(loop);
}

/* ---- zero-copy completions --------------------------------------------- */

typedef struct {
  int order[64];
  int status[64];
  int n;
  int in_call;
  int fired_in_call;
  h_log_t *log;
} wlog_t;

typedef struct {
  wlog_t *w;
  int idx;
} wctx_t;

static void on_wv(wire_socket_t *s, int status, void *arg)
{
  (void)s;
  wctx_t *c = arg;
  wlog_t *w = c->w;
  if (w->in_call)
    w->fired_in_call++;
  cr_assert_lt(w->n, 64);
  w->order[w->n] = c->idx;
  w->status[w->n] = status;
  w->n++;
  if (w->log != NULL) {
    char tag[32];
    snprintf(tag, sizeof(tag), "w%d:%s", c->idx,
             status == 0 ? "ok" : wire_err_name(status));
    h_log(w->log, tag);
  }
}

Test(stream_write, writev_callbacks_in_order)
{
  wire_loop_t *loop = h_loop_new();
  h_pair_t p;
  h_pair_open(&p, loop, NULL, NULL);
  wev_t pe = {0};
  w_attach(p.peer, &pe);

  static char big[200000];
  h_fill(big, sizeof(big), 0);
  wlog_t w = {0};
  wctx_t ctx[20];
  h_sink_t expect = {0};
  for (int i = 0; i < 20; i++) {
    ctx[i].w = &w;
    ctx[i].idx = i;
    /* Mix: copies, small views, big views, an empty writev. */
    size_t n = (i % 4 == 0) ? 150000 : (size_t)(i * 7 + 1);
    wire_buf_t b[2] = {wire_buf(big, n), wire_buf(big + 5, i % 3 ? 0 : 11)};
    if (i % 5 == 1)
      cr_assert_geq(wire_socket_write(p.client, big + 9, 9), 0);
    if (i % 5 == 1)
      h_sink_add(&expect, big + 9, 9);
    w.in_call = 1;
    int r = (i == 7) ? wire_socket_writev(p.client, b, 0, on_wv, &ctx[i])
                     : wire_socket_writev(p.client, b, 2, on_wv, &ctx[i]);
    w.in_call = 0;
    cr_assert_geq(r, 0);
    if (i != 7) {
      h_sink_add(&expect, big, n);
      h_sink_add(&expect, big + 5, i % 3 ? 0 : 11);
    }
    if (i == 10)
      H_RUN_UNTIL(loop, w.n == 11);
  }
  H_RUN_UNTIL(loop, w.n == 20);
  cr_assert_eq(w.fired_in_call, 0, "a completion ran inside writev");
  for (int i = 0; i < 20; i++) {
    cr_assert_eq(w.order[i], i);
    cr_assert_eq(w.status[i], 0);
  }
  wire_socket_end(p.client);
  h_run(loop);
  cr_assert_eq(pe.in.len, expect.len);
  cr_assert_eq(memcmp(pe.in.buf, expect.buf, expect.len), 0);
  h_sink_free(&pe.in);
  h_sink_free(&expect);
  h_loop_done(loop);
}

/* ---- close with pending writes ------------------------------------------ */

static int in_close_call;
static int close_cb_in_call;

static void close_cb_log(wire_socket_t *s, int had_error, void *d)
{
  (void)s;
  (void)had_error;
  wev_t *e = d;
  if (in_close_call)
    close_cb_in_call++;
  h_log(&e->log, "close_cb");
}

Test(stream_write, close_cancels_pending_writes_in_order)
{
  wire_loop_t *loop = h_loop_new();
  conn_t c;
  wire_socket_t *s = start_client(loop, &c);
  wev_t e = {0};
  w_attach(s, &e);
  wlog_t w = {0};
  w.log = &e.log;
  wctx_t ctx[4];
  static char data[] = "pending";
  for (int i = 0; i < 4; i++) {
    ctx[i].w = &w;
    ctx[i].idx = i;
    wire_buf_t b = wire_buf(data, sizeof(data));
    if (i == 2)
      cr_assert_eq(wire_socket_write(s, "copy", 4), 1);
    cr_assert_eq(wire_socket_writev(s, &b, 1, on_wv, &ctx[i]), 1);
  }
  in_close_call = 1;
  wire_socket_close(s, close_cb_log);
  in_close_call = 0;
  cr_assert_eq(w.n, 0, "completions ran inside close");
  cr_assert_eq(e.closes, 0, "close event inside close");
  cr_assert_eq(wire_socket_write(s, "x", 1), WIRE_ECLOSED);
  wire_server_close(c.srv, NULL);
  h_run(loop);
  cr_assert_eq(close_cb_in_call, 0);
  cr_assert_str_eq(e.log.s,
                   "w0:ECANCELED w1:ECANCELED w2:ECANCELED w3:ECANCELED "
                   "close close_cb");
  cr_assert_eq(e.had_error, 0);
  /* The connect callback ran once, cancelled. */
  cr_assert_eq(c.connected, 1);
  cr_assert_eq(c.connect_status, WIRE_ECANCELED);
  h_loop_done(loop);
}

Test(stream_write, close_with_full_kernel_buffer)
{
  wire_loop_t *loop = h_loop_new();
  wire_server_opts_t so = WIRE_SERVER_OPTS_INIT;
  so.pause_on_connect = 1;
  h_pair_t p;
  h_pair_open(&p, loop, &so, NULL);
  wev_t e = {0};
  w_attach(p.client, &e);

  static char big[256 * 1024];
  wlog_t w = {0};
  wctx_t ctx[64];
  int n = 0;
  int r = 1;
  while (n < 64) {
    ctx[n].w = &w;
    ctx[n].idx = n;
    wire_buf_t b = wire_buf(big, sizeof(big));
    r = wire_socket_writev(p.client, &b, 1, on_wv, &ctx[n]);
    cr_assert_geq(r, 0);
    n++;
    wire_loop_run(loop, WIRE_RUN_NOWAIT);
    if (r == 0 && wire_socket_write_queue_size(p.client) > 4 * sizeof(big))
      break;
  }
  in_close_call = 1;
  wire_socket_close(p.client, close_cb_log);
  in_close_call = 0;
  wire_socket_close(p.peer, NULL);
  h_run(loop);
  cr_assert_eq(w.n, n, "every write completes exactly once");
  int cancelled = 0;
  for (int i = 0; i < n; i++) {
    cr_assert_eq(w.order[i], i);
    if (w.status[i] == WIRE_ECANCELED)
      cancelled = 1;
    else
      cr_assert(!cancelled && w.status[i] == 0, "status %d at %d",
                w.status[i], i);
  }
  cr_assert(cancelled, "nothing was pending at close");
  /* The close event and callback come last. */
  const char *tail = strstr(e.log.s, "close close_cb");
  cr_assert_not_null(tail);
  cr_assert_str_eq(tail, "close close_cb");
  cr_assert_eq(close_cb_in_call, 0);
  h_loop_done(loop);
}

/* ---- the cap, write after end ------------------------------------------- */

static int wv_called;
static void count_wv(wire_socket_t *s, int status, void *arg)
{
  (void)s;
  (void)status;
  (void)arg;
  wv_called++;
}

Test(stream_write, cap_returns_enobufs_and_queues_nothing)
{
  wire_loop_t *loop = h_loop_new();
  conn_t c;
  wire_socket_t *s = start_client(loop, &c);
  wev_t e = {0}, pe = {0};
  w_attach(s, &e);
  cr_assert_eq(wire_socket_set_write_limits(s, 1024, 4096), 0);
  static char buf[5000];
  h_fill(buf, sizeof(buf), 0);
  cr_assert_eq(wire_socket_write(s, buf, 4000), 0);
  cr_assert_eq(wire_socket_write(s, buf, 97), WIRE_ENOBUFS);
  cr_assert_eq(wire_socket_write(s, buf, 5000), WIRE_ENOBUFS);
  wire_buf_t b = wire_buf(buf, 97);
  cr_assert_eq(wire_socket_writev(s, &b, 1, count_wv, NULL), WIRE_ENOBUFS);
  cr_assert_eq(wire_socket_write_queue_size(s), 4000);
  /* Exactly up to the cap is fine. */
  cr_assert_eq(wire_socket_write(s, buf + 4000, 96), 0);
  cr_assert_eq(wire_socket_write_queue_size(s), 4096);
  wire_socket_end(s);
  H_RUN_UNTIL(loop, c.peer != NULL);
  w_attach(c.peer, &pe);
  wire_server_close(c.srv, NULL);
  h_run(loop);
  cr_assert_eq(wv_called, 0, "a refused writev's callback ran");
  cr_assert_eq(pe.in.len, 4096);
  cr_assert(h_check(pe.in.buf, 4096, 0));
  h_sink_free(&pe.in);
  h_loop_done(loop);
}

Test(stream_write, write_after_end)
{
  wire_loop_t *loop = h_loop_new();
  h_pair_t p;
  h_pair_open(&p, loop, NULL, NULL);
  wev_t e = {0}, pe = {0};
  w_attach(p.client, &e);
  w_attach(p.peer, &pe);
  cr_assert_eq(wire_socket_write(p.client, "last", 4), 1);
  wire_socket_end(p.client);
  cr_assert_eq(wire_socket_write(p.client, "more", 4), WIRE_EWRITEAFTEREND);
  wire_buf_t b = wire_buf("more", 4);
  cr_assert_eq(wire_socket_writev(p.client, &b, 1, count_wv, NULL),
               WIRE_EWRITEAFTEREND);
  wire_socket_end(p.client);
  h_run(loop);
  cr_assert_eq(wv_called, 0);
  cr_assert_eq(pe.in.len, 4);
  cr_assert_eq(e.errors + pe.errors, 0);
  cr_assert_eq(e.closes, 1);
  h_sink_free(&pe.in);
  h_loop_done(loop);
}

Test(stream_write, empty_writes)
{
  wire_loop_t *loop = h_loop_new();
  h_pair_t p;
  h_pair_open(&p, loop, NULL, NULL);
  cr_assert_eq(wire_socket_write(p.client, "", 0), 1);
  wlog_t w = {0};
  wctx_t ctx = {&w, 0};
  w.in_call = 1;
  cr_assert_eq(wire_socket_writev(p.client, NULL, 0, on_wv, &ctx), 1);
  cr_assert_eq(wire_socket_writev(p.client, NULL, 0, NULL, NULL), 1);
  w.in_call = 0;
  H_RUN_UNTIL(loop, w.n == 1);
  cr_assert_eq(w.status[0], 0);
  cr_assert_eq(w.fired_in_call, 0);
  wire_socket_close(p.client, NULL);
  wire_socket_close(p.peer, NULL);
  h_run(loop);
  h_loop_done(loop);
}

/* A write callback that writes again keeps the order. */
typedef struct {
  wire_socket_t *s;
  int left;
  int calls;
} chain_t;

static char chain_byte = 'c';

static void chain_cb(wire_socket_t *s, int status, void *arg)
{
  chain_t *c = arg;
  cr_assert_eq(status, 0);
  c->calls++;
  if (--c->left > 0) {
    wire_buf_t b = wire_buf(&chain_byte, 1);
    cr_assert_geq(wire_socket_writev(s, &b, 1, chain_cb, c), 0);
  } else {
    wire_socket_end(s);
  }
}

Test(stream_write, write_from_write_callback)
{
  wire_loop_t *loop = h_loop_new();
  h_pair_t p;
  h_pair_open(&p, loop, NULL, NULL);
  wev_t pe = {0};
  w_attach(p.peer, &pe);
  chain_t c = {p.client, 100, 0};
  wire_buf_t b = wire_buf(&chain_byte, 1);
  cr_assert_eq(wire_socket_writev(p.client, &b, 1, chain_cb, &c), 1);
  h_run(loop);
  cr_assert_eq(c.calls, 100);
  cr_assert_eq(pe.in.len, 100);
  cr_assert_eq(pe.ends, 1);
  h_sink_free(&pe.in);
  h_loop_done(loop);
}

Test(stream_write, writev_with_many_buffers)
{
  wire_loop_t *loop = h_loop_new();
  wire_server_opts_t so = WIRE_SERVER_OPTS_INIT;
  so.pause_on_connect = 1;
  h_pair_t p;
  h_pair_open(&p, loop, &so, NULL);
  wev_t pe = {0};
  w_attach(p.peer, &pe);
  /* More views than one writev batch (64), some over the kernel's room. */
  enum { NB = 300, SZ = 40000 };
  char *big = malloc((size_t)NB * SZ);
  h_fill(big, (size_t)NB * SZ, 0);
  wire_buf_t *b = malloc(NB * sizeof(*b));
  size_t total = 0;
  for (int i = 0; i < NB; i++) {
    size_t n = (size_t)(i % 7 == 0 ? SZ : 1 + i % 13);
    b[i] = wire_buf(big + total, n);
    total += n;
  }
  wlog_t w = {0};
  wctx_t ctx = {&w, 0};
  cr_assert_geq(wire_socket_writev(p.client, b, NB, on_wv, &ctx), 0);
  free(b); /* the array is copied; only the bytes are borrowed */
  cr_assert_geq(wire_socket_write(p.client, big + total, 5), 0);
  total += 5;
  wire_socket_end(p.client);
  h_idle_turns(loop, 10);
  wire_socket_resume(p.peer);
  h_run(loop);
  cr_assert_eq(w.n, 1);
  cr_assert_eq(w.status[0], 0);
  cr_assert_eq(pe.in.len, total);
  cr_assert(h_check(pe.in.buf, total, 0), "bytes differ");
  cr_assert_eq(pe.ends, 1);
  free(big);
  h_sink_free(&pe.in);
  h_loop_done(loop);
}

Test(stream_write, writes_and_end_before_connect)
{
  wire_loop_t *loop = h_loop_new();
  conn_t c;
  wire_socket_t *s = start_client(loop, &c);
  wev_t e = {0}, pe = {0};
  w_attach(s, &e);
  cr_assert_eq(wire_socket_write(s, "early ", 6), 1);
  static char v[] = "bytes";
  wire_buf_t b = wire_buf(v, 5);
  wlog_t w = {0};
  wctx_t ctx = {&w, 0};
  cr_assert_eq(wire_socket_writev(s, &b, 1, on_wv, &ctx), 1);
  wire_socket_end(s);
  H_RUN_UNTIL(loop, c.peer != NULL);
  w_attach(c.peer, &pe);
  wire_server_close(c.srv, NULL);
  h_run(loop);
  cr_assert_eq(w.n, 1);
  cr_assert_eq(w.status[0], 0);
  cr_assert_eq(pe.in.len, 11);
  cr_assert_eq(memcmp(pe.in.buf, "early bytes", 11), 0);
  cr_assert_eq(pe.ends, 1);
  cr_assert_eq(e.closes, 1);
  cr_assert_eq(e.errors + pe.errors, 0);
  h_sink_free(&pe.in);
  h_loop_done(loop);
}

Test(stream_write, reset_after_end_with_pending_data)
{
  wire_loop_t *loop = h_loop_new();
  wire_server_opts_t so = WIRE_SERVER_OPTS_INIT;
  so.pause_on_connect = 1;
  h_pair_t p;
  h_pair_open(&p, loop, &so, NULL);
  wev_t e = {0}, pe = {0};
  w_attach(p.client, &e);
  w_attach(p.peer, &pe);
  static char big[8 << 20];
  wlog_t w = {0};
  wctx_t ctx = {&w, 0};
  wire_buf_t b = wire_buf(big, sizeof(big));
  cr_assert_geq(wire_socket_writev(p.client, &b, 1, on_wv, &ctx), 0);
  wire_socket_end(p.client);
  h_idle_turns(loop, 10);
  wire_socket_reset(p.client, NULL);
  wire_socket_resume(p.peer);
  h_run(loop);
  cr_assert_eq(w.n, 1);
  /* Cancelled unless the kernel took all 8 MiB before the reset. */
  cr_assert(w.status[0] == WIRE_ECANCELED || w.status[0] == 0);
  cr_assert_eq(e.closes, 1);
  cr_assert_eq(pe.closes, 1);
  h_sink_free(&pe.in);
  h_loop_done(loop);
}

/* The loop keeps the write chunks of a busy turn: 200 sockets that each
 * queued a write hold 200 chunks at once, and the next turn gets the
 * same ones back instead of growing the heap again. */
Test(stream_write, chunks_of_a_busy_turn_are_reused)
{
  enum { N = 200 };
  wire_loop_t *loop;
  cr_assert_eq(wire_loop_create(&loop), 0);
  void *first[N];
  for (int i = 0; i < N; i++) {
    first[i] = wire__chunk_get(loop);
    cr_assert_not_null(first[i]);
  }
  for (int i = 0; i < N; i++)
    wire__chunk_put(loop, first[i]);
  void *again[N];
  for (int i = 0; i < N; i++) {
    again[i] = wire__chunk_get(loop);
    int found = 0;
    for (int j = 0; j < N && !found; j++)
      found = again[i] == first[j];
    cr_assert(found, "chunk %d was not reused", i);
  }
  for (int i = 0; i < N; i++)
    wire__chunk_put(loop, again[i]);
  cr_assert_eq(wire_loop_close(loop), 0);
}

/* Writes bytes through reserve and commit: returns commit's result. */
static int reserve_write(wire_socket_t *s, const char *p, size_t len)
{
  char *w = NULL;
  int err = wire__socket_write_reserve(s, len, &w);
  if (err < 0)
    return err;
  cr_assert_not_null(w);
  memcpy(w, p, len);
  return wire__socket_write_commit(s, len);
}

/* reserve/commit queue like wire_socket_write: in order with plain
 * writes, in the tail's room or a new chunk or a block of their own, with
 * the same backpressure and errors; a reserve without a commit queues
 * nothing. */
Test(stream_write, reserve_and_commit)
{
  wire_loop_t *loop = h_loop_new();
  conn_t c;
  /* Still connecting: everything queues, deterministically. */
  wire_socket_t *s = start_client(loop, &c);
  wev_t e = {0}, pe = {0};
  w_attach(s, &e);
  enum { BIG = 40 * 1024 };
  static char buf[BIG];
  h_fill(buf, BIG, 0);
  size_t off = 0;
  cr_assert_eq(wire_socket_write(s, buf, 10), 1);
  off += 10;
  cr_assert_eq(reserve_write(s, buf + off, 20), 1);
  off += 20;
  char *w;
  cr_assert_eq(wire__socket_write_reserve(s, 5, &w), 0);
  memset(w, '!', 5); /* never committed: never sent */
  cr_assert_eq(wire_socket_write_queue_size(s), 30);
  /* Past the tail's room: a chunk of its own. */
  cr_assert_eq(reserve_write(s, buf + off, 16 * 1024 - 100), 1);
  off += 16 * 1024 - 100;
  /* Past a chunk: a block of its own, and over the high-water mark. */
  cr_assert_eq(reserve_write(s, buf + off, BIG - off - 1), 0);
  off = BIG - 1;
  cr_assert_eq(wire_socket_write(s, buf + off, 1), 0);
  cr_assert_eq(wire_socket_write_queue_size(s), BIG);
  H_RUN_UNTIL(loop, c.peer != NULL && e.drains == 1);
  w_attach(c.peer, &pe);
  wire_server_close(c.srv, NULL);
  wire_socket_end(s);
  cr_assert_eq(wire__socket_write_reserve(s, 4, &w), WIRE_EWRITEAFTEREND);
  h_run(loop);
  cr_assert_eq(e.drains, 1);
  cr_assert_eq(pe.in.len, BIG);
  cr_assert(h_check(pe.in.buf, BIG, 0), "bytes differ");
  cr_assert_eq(e.errors + pe.errors, 0);
  h_sink_free(&pe.in);
  h_loop_done(loop);
}

/* write_quick: in the socket's data event, with room in the queue's tail
 * and the high-water mark ahead, it queues in place (in order with plain
 * writes); anything else (outside the event, no tail, at the mark)
 * returns NULL and queues nothing. */
typedef struct {
  int reads;
  int no_tail; /* quick refused before anything was queued */
  int at_mark; /* quick refused a write reaching the mark */
  int got;     /* quick gave room */
} quick_t;

static void q_peer_data(wire_socket_t *s, const char *buf, size_t len, void *d)
{
  (void)buf, (void)len;
  quick_t *q = d;
  q->reads++;
  q->no_tail += wire__socket_write_quick(s, 3) == NULL;
  cr_assert_eq(wire_socket_write(s, "<", 1), 1);
  q->at_mark += wire__socket_write_quick(s, 16 * 1024 - 1) == NULL;
  char *p = wire__socket_write_quick(s, 3);
  if (p != NULL) {
    q->got++;
    memcpy(p, "abc", 3);
  }
  cr_assert_eq(wire_socket_write_queue_size(s), 4);
  cr_assert_eq(wire_socket_write(s, ">", 1), 1);
  wire_socket_end(s);
}

Test(stream_write, write_quick_only_in_a_data_event)
{
  wire_loop_t *loop = h_loop_new();
  conn_t c;
  wire_socket_t *s = start_client(loop, &c);
  wev_t e = {0};
  w_attach(s, &e);
  H_RUN_UNTIL(loop, c.peer != NULL && c.connected);
  quick_t q = {0};
  wire_socket_set_data(c.peer, &q);
  wire_socket_on_data(c.peer, q_peer_data);
  /* Outside a data event: never, even with a tail chunk. */
  cr_assert_null(wire__socket_write_quick(c.peer, 3));
  cr_assert_eq(wire_socket_write(s, "x", 1), 1);
  cr_assert_null(wire__socket_write_quick(s, 3));
  cr_assert_eq(wire_socket_write_queue_size(s), 1);
  H_RUN_UNTIL(loop, e.ends == 1);
  wire_server_close(c.srv, NULL);
  wire_socket_end(s);
  h_run(loop);
  cr_assert_eq(q.reads, 1);
  cr_assert_eq(q.no_tail, 1);
  cr_assert_eq(q.at_mark, 1);
  cr_assert_eq(q.got, 1);
  cr_assert_eq(e.in.len, 5);
  cr_assert_eq(memcmp(e.in.buf, "<abc>", 5), 0);
  cr_assert_eq(e.errors, 0);
  h_sink_free(&e.in);
  h_loop_done(loop);
}

/* flush_now writes what is queued at once, not at the end of the turn;
 * the end-of-turn flush then sends nothing twice. On a socket still
 * connecting it leaves the queue alone. */
Test(stream_write, flush_now_writes_before_the_turn_ends)
{
  wire_loop_t *loop = h_loop_new();
  conn_t c;
  wire_socket_t *s = start_client(loop, &c);
  wev_t e = {0}, pe = {0};
  w_attach(s, &e);
  cr_assert_eq(wire_socket_write(s, "early", 5), 1);
  wire__socket_flush_now(s); /* connecting: nothing can go yet */
  cr_assert_eq(wire_socket_write_queue_size(s), 5);
  cr_assert_eq(wire_socket_bytes_written(s), 0);
  H_RUN_UNTIL(loop, c.peer != NULL && wire_socket_write_queue_size(s) == 0);
  w_attach(c.peer, &pe);
  wire_server_close(c.srv, NULL);

  cr_assert_eq(wire_socket_write(s, "hello", 5), 1);
  cr_assert_eq(wire_socket_write(s, " world", 6), 1);
  cr_assert_eq(wire_socket_write_queue_size(s), 11);
  wire__socket_flush_now(s);
  cr_assert_eq(wire_socket_write_queue_size(s), 0);
  cr_assert_eq(wire_socket_bytes_written(s), 5 + 11);
  wire_socket_end(s);
  h_run(loop);
  cr_assert_eq(pe.in.len, 16);
  cr_assert_eq(memcmp(pe.in.buf, "earlyhello world", 16), 0);
  cr_assert_eq(e.errors + pe.errors, 0);
  h_sink_free(&pe.in);
  h_loop_done(loop);
}

/* What a data event writes leaves when the event returns, not at the end
 * of the turn: N peers send in the same turn, and when the server reads
 * each, the answers it gave the others in that turn are already written
 * (so one write chunk serves them all in turn). */
enum { TURN_N = 16 };

typedef struct {
  wire_server_t *srv;
  wire_socket_t *peers[TURN_N];
  int npeers;
  wire_socket_t *answered[TURN_N];
  int nanswered;
  int left_queued; /* an earlier answer still queued at a later read */
  int connected;
  int replies;
} turn_t;

static void t_on_conn(wire_server_t *srv, wire_socket_t *s, void *d)
{
  (void)srv;
  turn_t *t = d;
  t->peers[t->npeers++] = s;
}

static void t_on_connect(wire_socket_t *s, int status, void *arg)
{
  (void)s;
  cr_assert_eq(status, 0);
  ((turn_t *)arg)->connected++;
}

static void t_peer_data(wire_socket_t *s, const char *buf, size_t len, void *d)
{
  (void)buf, (void)len;
  turn_t *t = d;
  for (int i = 0; i < t->nanswered; i++)
    if (wire_socket_write_queue_size(t->answered[i]) > 0)
      t->left_queued++;
  static char answer[100];
  cr_assert_eq(wire_socket_write(s, answer, sizeof(answer)), 1);
  t->answered[t->nanswered++] = s;
}

static void t_client_data(wire_socket_t *s, const char *buf, size_t len,
                          void *d)
{
  (void)buf, (void)len;
  turn_t *t = d;
  t->replies++;
  wire_socket_close(s, NULL);
}

Test(stream_write, data_event_writes_leave_when_it_returns)
{
  wire_loop_t *loop = h_loop_new();
  turn_t t = {0};
  cr_assert_eq(wire_server_create(loop, NULL, t_on_conn, &t.srv), 0);
  wire_server_set_data(t.srv, &t);
  int port = h_listen(t.srv, "127.0.0.1");
  wire_socket_t *clients[TURN_N];
  for (int i = 0; i < TURN_N; i++) {
    wire_connect_opts_t o = WIRE_CONNECT_OPTS_INIT;
    o.host = "127.0.0.1";
    o.port = port;
    cr_assert_eq(wire_socket_connect(loop, &o, t_on_connect, &t, &clients[i]),
                 0);
    wire_socket_set_data(clients[i], &t);
    wire_socket_on_data(clients[i], t_client_data);
  }
  H_RUN_UNTIL(loop, t.connected == TURN_N && t.npeers == TURN_N);
  wire_server_close(t.srv, NULL);
  for (int i = 0; i < TURN_N; i++) {
    wire_socket_set_data(t.peers[i], &t);
    wire_socket_on_data(t.peers[i], t_peer_data);
  }
  /* All in this turn: the server reads them all in the next one. */
  for (int i = 0; i < TURN_N; i++)
    cr_assert_eq(wire_socket_write(clients[i], "?", 1), 1);
  H_RUN_UNTIL(loop, t.replies == TURN_N);
  cr_assert_eq(t.nanswered, TURN_N);
  cr_assert_eq(t.left_queued, 0);
  h_run(loop);
  h_loop_done(loop);
}
