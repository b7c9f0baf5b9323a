/* 64 MiB through a TLS socket both ways at once, with each reader paused
 * for a while: writers see backpressure (write returns 0, then drain),
 * nothing is lost or reordered, and the memory held while the readers are
 * paused stays bounded (the TLS layer encrypts only while the TCP socket
 * under it has room). */
#define H_DEADLINE_MS 60000
#include <malloc.h>

#include "test-tls.h"

#define TOTAL (64u * 1024 * 1024)
#define CHUNK (64 * 1024)

typedef struct {
  wire_socket_t *s;
  size_t sent;
  size_t got;
  int blocked; /* times write returned 0 */
  int bad;     /* pattern mismatches */
  int closed;
  int ended;
} side_t;

static char chunk[CHUNK];

static void pump_out(side_t *x)
{
  while (x->sent < TOTAL) {
    size_t n = TOTAL - x->sent < CHUNK ? TOTAL - x->sent : CHUNK;
    h_fill(chunk, n, x->sent);
    int r = wire_socket_write(x->s, chunk, n);
    cr_assert_geq(r, 0, "write: %s", wire_err_name(r));
    x->sent += n;
    if (r == 0) {
      x->blocked++;
      return; /* wait for drain */
    }
  }
  wire_socket_end(x->s);
}

static void on_drain(wire_socket_t *s, void *d)
{
  (void)s;
  pump_out(d);
}

static void on_data(wire_socket_t *s, const char *b, size_t n, void *d)
{
  (void)s;
  side_t *x = d;
  if (!h_check(b, n, x->got))
    x->bad++;
  x->got += n;
}

static void on_end(wire_socket_t *s, void *d)
{
  (void)s;
  ((side_t *)d)->ended = 1;
}

static void on_close(wire_socket_t *s, int had_error, void *d)
{
  (void)s;
  cr_assert_eq(had_error, 0);
  ((side_t *)d)->closed = 1;
}

static void setup(side_t *x, wire_socket_t *s)
{
  x->s = s;
  wire_socket_set_data(s, x);
  wire_socket_on_data(s, on_data);
  wire_socket_on_drain(s, on_drain);
  wire_socket_on_end(s, on_end);
  wire_socket_on_close(s, on_close);
}

static side_t g_srv;

static void on_secure(wire_tls_server_t *srv, wire_socket_t *s, void *d)
{
  (void)srv, (void)d;
  setup(&g_srv, s);
  wire_socket_pause(s); /* the server's reader starts paused */
  pump_out(&g_srv);
}

static void on_hs(wire_socket_t *s, int status, void *arg)
{
  (void)s, (void)arg;
  cr_assert_eq(status, 0);
}

static size_t heap_used(void)
{
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

Test(tls_backpressure, both_ways_64mib_bounded)
{
  wire_loop_t *loop = h_loop_new();
  t_certs_t k;
  t_certs(&k);
  wire_tls_server_opts_t so = WIRE_TLS_SERVER_OPTS_INIT;
  so.ctx = t_ctx(&k.server, NULL);
  wire_tls_server_t *srv;
  cr_assert_eq(wire_tls_server_create(loop, &so, on_secure, &srv), 0);
  wire_tls_ctx_free(so.ctx);
  cr_assert_eq(wire_tls_server_listen(srv, "127.0.0.1", 0, NULL), 0);
  wire_addr_t a;
  cr_assert_eq(wire_tls_server_address(srv, &a), 0);

  wire_tls_connect_opts_t o = WIRE_TLS_CONNECT_OPTS_INIT;
  o.ctx = t_ctx(NULL, &k.ca);
  o.servername = "localhost";
  o.net.host = "127.0.0.1";
  o.net.port = a.port;
  side_t cli;
  memset(&cli, 0, sizeof(cli));
  memset(&g_srv, 0, sizeof(g_srv));
  wire_socket_t *c;
  cr_assert_eq(wire_tls_connect(loop, &o, on_hs, NULL, &c), 0);
  wire_tls_ctx_free(o.ctx);
  setup(&cli, c);
  wire_socket_pause(c); /* and so does the client's */
  pump_out(&cli);

  /* Both writers run into backpressure while nobody reads. */
  H_RUN_UNTIL(loop, g_srv.s != NULL && g_srv.blocked > 0 && cli.blocked > 0);
  size_t before = heap_used();
  h_idle_turns(loop, 300);
  size_t during = heap_used();
  cr_assert_eq(cli.got + g_srv.got, 0);
  cr_assert_lt(cli.sent, TOTAL / 4, "the client wrote on regardless");
  cr_assert_lt(g_srv.sent, TOTAL / 4, "the server wrote on regardless");
  /* Bounded: queues at their high-water marks, not the 64 MiB offered. */
  cr_assert_lt(during, before + 4 * 1024 * 1024, "heap grew %zu -> %zu", before,
               during);
  cr_assert_lt(wire_socket_write_queue_size(c), 256 * 1024);

  wire_socket_resume(c);
  wire_socket_resume(g_srv.s);
  H_RUN_UNTIL(loop, cli.closed && g_srv.closed);
  cr_assert_eq(cli.got, TOTAL);
  cr_assert_eq(g_srv.got, TOTAL);
  cr_assert_eq(cli.bad + g_srv.bad, 0);
  cr_assert_eq(cli.ended + g_srv.ended, 2);
  wire_tls_server_close(srv, NULL);
  t_certs_free(&k);
  h_loop_done(loop);
}

/* A paused TLS socket keeps the rest of a read (ciphertext) and delivers
 * it on resume, in order, with the end after it. */
static h_sink_t g_sink;
static int g_pauses;

static void pause_each(wire_socket_t *s, const char *b, size_t n, void *d)
{
  (void)d;
  h_sink_add(&g_sink, b, n);
  wire_socket_pause(s);
  g_pauses++;
}

Test(tls_backpressure, pause_inside_data_keeps_order)
{
  wire_loop_t *loop = h_loop_new();
  t_certs_t k;
  t_certs(&k);
  t_srv_t srv;
  t_srv_start_cert(&srv, loop, &k.server, 0);
  wire_tls_connect_opts_t o = WIRE_TLS_CONNECT_OPTS_INIT;
  o.ctx = t_ctx(NULL, &k.ca);
  o.servername = "localhost";
  t_cli_t c;
  t_cli_connect(&c, loop, srv.port, &o);
  wire_tls_ctx_free(o.ctx);
  H_RUN_UNTIL(loop, c.hs == 1 && srv.secure == 1);
  wire_socket_on_data(c.s, pause_each);
  /* Many small records in one TCP segment. */
  static char buf[100 * 1000];
  h_fill(buf, sizeof(buf), 0);
  for (size_t i = 0; i < sizeof(buf); i += 1000)
    cr_assert_geq(wire_socket_write(srv.last, buf + i, 1000), 0);
  wire_socket_end(srv.last);
  while (g_sink.len < sizeof(buf)) {
    int before = g_pauses;
    H_RUN_UNTIL(loop, g_pauses > before);
    cr_assert(wire_socket_is_paused(c.s));
    wire_socket_resume(c.s);
  }
  H_RUN_UNTIL(loop, c.ended == 1 && c.closed == 1);
  cr_assert(h_check(g_sink.buf, g_sink.len, 0));
  h_sink_free(&g_sink);
  t_srv_stop(&srv);
  t_certs_free(&k);
  h_loop_done(loop);
}
