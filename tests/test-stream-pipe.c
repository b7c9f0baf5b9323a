/* wire_pipe: bytes move from src to dst with backpressure (src pauses when
 * dst's write returns 0 and resumes on dst's drain) and src's end ends
 * dst. */
#include "helpers.h"

typedef struct {
  h_sink_t in;
  int ends;
  int closes;
  size_t len_at_end;
} pev_t;

static void p_data(wire_socket_t *s, const char *buf, size_t len, void *d)
{
  (void)s;
  pev_t *e = d;
  h_sink_add(&e->in, buf, len);
}

static void p_end(wire_socket_t *s, void *d)
{
  (void)s;
  pev_t *e = d;
  e->ends++;
  e->len_at_end = e->in.len;
}

static void p_close(wire_socket_t *s, int had_error, void *d)
{
  (void)s;
  pev_t *e = d;
  cr_assert_eq(had_error, 0);
  e->closes++;
}

static void p_attach(wire_socket_t *s, pev_t *e)
{
  wire_socket_set_data(s, e);
  wire_socket_on_data(s, p_data);
  wire_socket_on_end(s, p_end);
  wire_socket_on_close(s, p_close);
}

static int src_data_events;
static void count_src_data(wire_socket_t *s, const char *buf, size_t len,
                           void *d)
{
  (void)s;
  (void)buf;
  (void)len;
  (void)d;
  src_data_events++;
}

Test(stream_pipe, moves_bytes_with_backpressure_and_ends)
{
  wire_loop_t *loop = h_loop_new();
  /* a.client -> a.peer (src) => b.client (dst) -> b.peer (paused sink) */
  h_pair_t a, b;
  h_pair_open(&a, loop, NULL, NULL);
  wire_server_opts_t so = WIRE_SERVER_OPTS_INIT;
  so.pause_on_connect = 1;
  h_pair_open(&b, loop, &so, NULL);
  pev_t sink = {0};
  p_attach(b.peer, &sink);
  wire_socket_on_data(a.peer, count_src_data);

  cr_assert_eq(wire_pipe(a.peer, b.client), 0);
  cr_assert_eq(wire_pipe(a.peer, b.client), WIRE_EINVAL);
  cr_assert_eq(wire_pipe(a.peer, a.peer), WIRE_EINVAL);

  enum { TOTAL = 24 * 1024 * 1024 };
  char *buf = malloc(TOTAL);
  h_fill(buf, TOTAL, 0);
  cr_assert_geq(wire_socket_write(a.client, buf, TOTAL), 0);
  wire_socket_end(a.client);

  /* With the sink not reading, dst fills up and src gets paused. */
  H_RUN_UNTIL(loop, wire_socket_is_paused(a.peer));
  cr_assert_geq(wire_socket_write_queue_size(b.client), 16 * 1024);
  int seen = src_data_events;
  h_idle_turns(loop, 30);
  cr_assert_eq(src_data_events, seen, "src read while paused by the pipe");
  cr_assert_eq(sink.ends, 0);

  wire_socket_resume(b.peer);
  h_run(loop);
  cr_assert_eq(sink.in.len, TOTAL);
  cr_assert(h_check(sink.in.buf, TOTAL, 0), "bytes differ");
  cr_assert_eq(sink.ends, 1, "src's end did not end dst");
  cr_assert_eq(sink.len_at_end, TOTAL);
  cr_assert_eq(sink.closes, 1);
  /* The sources own data callback still saw every chunk. */
  cr_assert_gt(src_data_events, 0);
  free(buf);
  h_sink_free(&sink.in);
  h_loop_done(loop);
}

Test(stream_pipe, unpipe_stops_forwarding)
{
  wire_loop_t *loop = h_loop_new();
  h_pair_t a, b;
  h_pair_open(&a, loop, NULL, NULL);
  h_pair_open(&b, loop, NULL, NULL);
  pev_t sink = {0}, src = {0};
  p_attach(b.peer, &sink);
  p_attach(a.peer, &src);
  cr_assert_eq(wire_pipe(a.peer, b.client), 0);
  cr_assert_eq(wire_socket_write(a.client, "one", 3), 1);
  H_RUN_UNTIL(loop, sink.in.len == 3);
  wire_unpipe(a.peer);
  wire_unpipe(a.peer); /* no-op */
  cr_assert_eq(wire_socket_write(a.client, "two", 3), 1);
  H_RUN_UNTIL(loop, src.in.len == 6);
  /* And the dst can be piped into again. */
  cr_assert_eq(wire_pipe(a.peer, b.client), 0);
  wire_socket_end(a.client);
  h_run(loop);
  cr_assert_eq(sink.in.len, 3);
  cr_assert_eq(memcmp(sink.in.buf, "one", 3), 0);
  cr_assert_eq(sink.ends, 1);
  h_sink_free(&sink.in);
  h_sink_free(&src.in);
  h_loop_done(loop);
}

Test(stream_pipe, dst_close_unpipes_and_resumes_nothing_bad)
{
  wire_loop_t *loop = h_loop_new();
  h_pair_t a, b;
  h_pair_open(&a, loop, NULL, NULL);
  wire_server_opts_t so = WIRE_SERVER_OPTS_INIT;
  so.pause_on_connect = 1;
  h_pair_open(&b, loop, &so, NULL);
  pev_t src = {0};
  p_attach(a.peer, &src);
  cr_assert_eq(wire_pipe(a.peer, b.client), 0);
  static char big[1 << 20];
  for (int i = 0; i < 16; i++)
    cr_assert_geq(wire_socket_write(a.client, big, sizeof(big)), 0);
  H_RUN_UNTIL(loop, wire_socket_is_paused(a.peer));
  /* dst goes away while src is paused by it: no dangling pipe. */
  wire_socket_close(b.client, NULL);
  wire_socket_close(b.peer, NULL);
  h_idle_turns(loop, 10);
  cr_assert_eq(wire_pipe(a.peer, a.client), 0);
  wire_unpipe(a.peer);
  wire_socket_close(a.peer, NULL);
  wire_socket_close(a.client, NULL);
  h_run(loop);
  cr_assert_eq(src.closes, 1);
  h_sink_free(&src.in);
  h_loop_done(loop);
}
