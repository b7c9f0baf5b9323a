/* TLS records against the reads that carry them: a record split at every
 * byte, several records in one read, a record that OpenSSL read ahead
 * while the reader was paused, and a stale error left in OpenSSL's
 * per-thread error queue by someone else. The TLS layer reads a record
 * with one SSL_read when the read held exactly that record, lets OpenSSL
 * read ahead, and clears the error queue only when something is in it:
 * these are the cases that must keep working. Client and server are TLS sockets
 * wrapped on TCP pairs, with a relay between them that passes the client's
 * bytes on in steps the test chooses. */
#include <malloc.h>
#include <openssl/err.h>

#include "test-tls.h"

/* client TLS -> pair a -> relay -> pair b -> server TLS; the way back is
 * piped straight through. */
typedef struct {
  h_pair_t a;
  h_pair_t b;
  h_sink_t buf; /* what the client sent, held by the relay */
  size_t sent;  /* of buf, passed on */
  size_t step;  /* bytes passed on per tick; 0 holds them */
  int once;     /* hold again after one step */
  wire_timer_t *timer;
  wire_socket_t *cli; /* TLS sockets */
  wire_socket_t *srv;
  int hs;
  t_cli_t got_c; /* what the client received */
  t_cli_t got_s; /* what the server received */
  int srv_reads; /* the server's data events */
  int stale;     /* leave an error in the queue at each tick */
  int pause;     /* the server pauses in its handshake callback */
} relay_t;

static void relay_in(wire_socket_t *s, const char *p, size_t n, void *d)
{
  (void)s;
  h_sink_add(&((relay_t *)d)->buf, p, n);
}

static void relay_tick(wire_timer_t *t, void *d)
{
  (void)t;
  relay_t *r = d;
  size_t n = r->buf.len - r->sent;
  if (r->step == 0 || n == 0)
    return;
  if (n > r->step)
    n = r->step;
  if (r->once)
    r->step = 0;
  if (r->stale) {
    /* Another library's failure in this thread, never collected: it must
     * not be taken for the failure of the TLS layer's next SSL call. */
    ERR_raise(ERR_LIB_USER, 1);
  }
  cr_assert_eq(wire_socket_write(r->b.client, r->buf.buf + r->sent, n), 1);
  r->sent += n;
}

static void on_hs(wire_socket_t *s, int status, void *arg)
{
  relay_t *r = arg;
  cr_assert_eq(status, 0, "handshake: %s", wire_err_name(status));
  r->hs++;
  if (r->pause && s == r->srv)
    wire_socket_pause(s);
  if (r->pause && s == r->cli)
    r->step = 0; /* hold the client's Finished */
}

static void srv_data(wire_socket_t *s, const char *p, size_t n, void *d)
{
  relay_t *r = d;
  r->srv_reads++;
  h_sink_add(&r->got_s.got, p, n);
  cr_assert_geq(wire_socket_write(s, p, n), 0);
}

static void relay_open(relay_t *r, wire_loop_t *loop, int pause,
                       const char *early)
{
  memset(r, 0, sizeof(*r));
  r->pause = pause;
  t_certs_t k;
  t_certs(&k);
  h_pair_open(&r->a, loop, NULL, NULL);
  h_pair_open(&r->b, loop, NULL, NULL);
  wire_socket_set_nodelay(r->b.client, 1);
  wire_socket_set_data(r->a.peer, r);
  wire_socket_on_data(r->a.peer, relay_in);
  cr_assert_eq(wire_pipe(r->b.client, r->a.peer), 0);
  cr_assert_eq(wire_timer_create(loop, &r->timer), 0);
  wire_timer_set_data(r->timer, r);
  cr_assert_eq(wire_timer_start(r->timer, 1, 1, relay_tick), 0);
  r->step = 1 << 20; /* the handshake at full speed */

  wire_tls_server_opts_t so = WIRE_TLS_SERVER_OPTS_INIT;
  so.ctx = t_ctx(&k.server, NULL);
  wire_tls_connect_opts_t o = WIRE_TLS_CONNECT_OPTS_INIT;
  o.ctx = t_ctx(NULL, &k.ca);
  o.servername = "localhost";
  cr_assert_eq(wire_tls_accept(r->b.peer, &so, on_hs, r, &r->srv), 0);
  cr_assert_eq(wire_tls_wrap(r->a.client, &o, on_hs, r, &r->cli), 0);
  wire_tls_ctx_free(so.ctx);
  wire_tls_ctx_free(o.ctx);
  t_certs_free(&k);
  wire_socket_set_data(r->cli, &r->got_c);
  wire_socket_on_data(r->cli, t_cli_data);
  wire_socket_on_close(r->cli, t_cli_close);
  wire_socket_set_data(r->srv, r);
  wire_socket_on_data(r->srv, srv_data);
  if (early != NULL)
    cr_assert_eq(wire_socket_write(r->cli, early, strlen(early)), 1);
  if (!pause)
    H_RUN_UNTIL(loop, r->hs == 2);
}

static void relay_close(relay_t *r, wire_loop_t *loop)
{
  cr_assert_eq(ERR_peek_error(), 0, "an error was left in the queue");
  wire_timer_close(r->timer, NULL);
  wire_socket_close(r->cli, NULL);
  wire_socket_close(r->srv, NULL);
  wire_socket_close(r->a.peer, NULL);
  wire_socket_close(r->b.client, NULL);
  h_run(loop);
  h_sink_free(&r->buf);
  h_sink_free(&r->got_c.got);
  h_sink_free(&r->got_s.got);
}

Test(tls_records, split_at_every_byte)
{
  wire_loop_t *loop = h_loop_new();
  relay_t r;
  relay_open(&r, loop, 0, NULL);
  r.step = 1;
  char msg[300];
  h_fill(msg, sizeof(msg), 0);
  cr_assert_eq(wire_socket_write(r.cli, msg, sizeof(msg)), 1);
  H_RUN_UNTIL(loop, r.got_c.got.len == sizeof(msg));
  cr_assert(h_check(r.got_c.got.buf, sizeof(msg), 0));
  cr_assert_eq(r.got_s.got.len, sizeof(msg));
  cr_assert(h_check(r.got_s.got.buf, sizeof(msg), 0));
  relay_close(&r, loop);
  h_loop_done(loop);
}

Test(tls_records, several_in_one_read_and_a_part)
{
  wire_loop_t *loop = h_loop_new();
  relay_t r;
  relay_open(&r, loop, 0, NULL);
  r.step = 0;
  /* Three records (one per turn's flush), held by the relay. */
  const char *m[3] = {"first", "second", "third"};
  for (int i = 0; i < 3; i++) {
    size_t before = r.buf.len;
    cr_assert_eq(wire_socket_write(r.cli, m[i], strlen(m[i])), 1);
    H_RUN_UNTIL(loop, r.buf.len > before);
  }
  /* The first two and 3 bytes of the third's header in one write, the
   * rest later: one read ends inside a record. */
  size_t third = 5 + strlen(m[2]) + 1 + 16; /* TLS 1.3: header, type, tag */
  cr_assert_eq(r.buf.len - r.sent, third + 2 * 5 + 5 + 6 + 2 * 17);
  r.step = r.buf.len - r.sent - third + 3;
  r.once = 1;
  H_RUN_UNTIL(loop, r.got_s.got.len == 11);
  cr_assert_eq(memcmp(r.got_s.got.buf, "firstsecond", 11), 0);
  r.step = 1 << 20;
  H_RUN_UNTIL(loop, r.got_c.got.len == 16);
  cr_assert_eq(memcmp(r.got_c.got.buf, "firstsecondthird", 16), 0);
  cr_assert_eq(r.srv_reads, 3);
  relay_close(&r, loop);
  h_loop_done(loop);
}

Test(tls_records, stale_error_in_the_queue_is_not_ours)
{
  wire_loop_t *loop = h_loop_new();
  relay_t r;
  relay_open(&r, loop, 0, NULL);
  /* A byte per read: each read but a record's last ends in WANT_READ,
   * which SSL_get_error would report as a failure if it saw the stale
   * error. */
  r.step = 1;
  r.stale = 1;
  for (size_t i = 1; i <= 3; i++) {
    cr_assert_eq(wire_socket_write(r.cli, "ping", 4), 1);
    H_RUN_UNTIL(loop, r.got_c.got.len == 4 * i);
  }
  cr_assert_eq(r.got_s.got.len, 12);
  cr_assert_eq(r.srv_reads, 3);
  /* The next SSL calls clear the last one. */
  r.stale = 0;
  cr_assert_eq(wire_socket_write(r.cli, "done", 4), 1);
  H_RUN_UNTIL(loop, r.got_c.got.len == 16);
  cr_assert_eq(r.got_c.closed, 0);
  relay_close(&r, loop);
  h_loop_done(loop);
}

Test(tls_records, data_with_the_finished_waits_for_resume)
{
  wire_loop_t *loop = h_loop_new();
  relay_t r;
  /* The client's Finished and its first record reach the server in one
   * read: its handshake reads both (OpenSSL reads ahead), then the server
   * pauses in its handshake callback, before the record is decrypted. */
  relay_open(&r, loop, 1, "early");
  H_RUN_UNTIL(loop, r.hs == 1 && wire_socket_bytes_written(r.cli) == 5 &&
                        r.buf.len == wire_socket_bytes_written(r.a.client));
  r.step = 1 << 20;
  r.once = 1;
  H_RUN_UNTIL(loop, r.hs == 2);
  h_idle_turns(loop, 50);
  cr_assert_eq(r.got_s.got.len, 0);
  wire_socket_resume(r.srv);
  H_RUN_UNTIL(loop, r.got_c.got.len == 5);
  cr_assert_eq(memcmp(r.got_s.got.buf, "early", 5), 0);
  relay_close(&r, loop);
  h_loop_done(loop);
}

/* ---- OpenSSL's buffers on a server's connections ------------------------ */

#if defined(__SANITIZE_ADDRESS__)
#define HEAP_VISIBLE 0 /* ASan's allocator: mallinfo2 sees nothing */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HEAP_VISIBLE 0
#endif
#endif
#ifndef HEAP_VISIBLE
#define HEAP_VISIBLE 1
#endif

static size_t heap_in_use(void)
{
  return mallinfo2().uordblks;
}

#define NCONN 20

static int all_got(t_cli_t *c, size_t n)
{
  for (int i = 0; i < NCONN; i++) {
    if (c[i].got.len != n)
      return 0;
  }
  return 1;
}

Test(tls_records, server_frees_idle_buffers)
{
  wire_loop_t *loop = h_loop_new();
  t_certs_t k;
  t_certs(&k);
  t_srv_t srv;
  t_srv_start_cert(&srv, loop, &k.server, 1);
  wire_tls_connect_opts_t o = WIRE_TLS_CONNECT_OPTS_INIT;
  o.ctx = t_ctx(NULL, &k.ca);
  t_cli_t c[NCONN];
  for (int i = 0; i < NCONN; i++) {
    t_cli_connect(&c[i], loop, srv.port, &o);
    cr_assert_eq(wire_socket_write(c[i].s, "a", 1), 1);
  }
  wire_tls_ctx_free(o.ctx);
  H_RUN_UNTIL(loop, all_got(c, 1));
  /* Busy connections keep OpenSSL's two record buffers (about 17 KiB
   * each, kept for the next request); a second or two idle, they go. */
  size_t busy = heap_in_use();
  h_idle_turns(loop, 2300);
  size_t idle = heap_in_use();
  if (HEAP_VISIBLE)
    cr_assert_geq(busy, idle + NCONN * 30 * 1024, "busy %zu idle %zu", busy,
                  idle);
  /* And they come back when needed. */
  for (int i = 0; i < NCONN; i++)
    cr_assert_eq(wire_socket_write(c[i].s, "b", 1), 1);
  H_RUN_UNTIL(loop, all_got(c, 2));
  for (int i = 0; i < NCONN; i++) {
    cr_assert_eq(memcmp(c[i].got.buf, "ab", 2), 0);
    wire_socket_end(c[i].s);
  }
  H_RUN_UNTIL(loop, srv.closed == NCONN);
  t_srv_stop(&srv);
  for (int i = 0; i < NCONN; i++)
    h_sink_free(&c[i].got);
  t_certs_free(&k);
  h_loop_done(loop);
}
