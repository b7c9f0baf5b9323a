/* Closing from inside every kind of callback is safe: connect, data, end,
 * drain, timeout, error, the close callback of another socket, a write
 * callback, the server's connection / listening / error callbacks. Each
 * test checks the close event fires exactly once, the close callback never
 * runs inside wire_socket_close, and the loop closes with nothing alive. */
#include "helpers.h"

typedef struct {
  int closes;
  int close_cbs;
  int had_error;
  int errors;
  int last_error;
  int data_events;
  int data_after_close;
  int ends;
  int closed_by_me;
  int in_close;
  int cb_in_close;
  int connects;
  int connect_status;
} cev_t;

static void c_close_cb(wire_socket_t *s, int had_error, void *d)
{
  (void)s;
  (void)had_error;
  cev_t *e = d;
  if (e->in_close)
    e->cb_in_close++;
  e->close_cbs++;
}

static void close_now(wire_socket_t *s, cev_t *e)
{
  cr_assert_eq(e->closed_by_me, 0, "closed twice");
  e->closed_by_me = 1;
  e->in_close = 1;
  wire_socket_close(s, c_close_cb);
  e->in_close = 0;
}

static void c_close(wire_socket_t *s, int had_error, void *d)
{
  (void)s;
  cev_t *e = d;
  cr_assert_eq(e->in_close, 0, "close event inside wire_socket_close");
  e->closes++;
  e->had_error = had_error;
}

static void c_error(wire_socket_t *s, int err, void *d)
{
  (void)s;
  cev_t *e = d;
  e->errors++;
  e->last_error = err;
}

static void c_data(wire_socket_t *s, const char *buf, size_t len, void *d)
{
  (void)s;
  (void)buf;
  (void)len;
  cev_t *e = d;
  e->data_events++;
  if (e->closed_by_me)
    e->data_after_close++;
}

static void c_end(wire_socket_t *s, void *d)
{
  (void)s;
  cev_t *e = d;
  e->ends++;
}

static void attach(wire_socket_t *s, cev_t *e)
{
  wire_socket_set_data(s, e);
  wire_socket_on_close(s, c_close);
  wire_socket_on_error(s, c_error);
  wire_socket_on_data(s, c_data);
  wire_socket_on_end(s, c_end);
}

/* ---- connect -------------------------------------------------------- */

static void close_in_connect(wire_socket_t *s, int status, void *arg)
{
  cev_t *e = arg;
  e->connects++;
  e->connect_status = status;
  close_now(s, e);
}

static int wv_status[3];
static int wv_n;
static void rec_wv(wire_socket_t *s, int status, void *arg)
{
  (void)s;
  (void)arg;
  wv_status[wv_n++] = status;
}

static wire_socket_t *accepted;
static void keep_conn(wire_server_t *srv, wire_socket_t *s, void *d)
{
  (void)srv;
  (void)d;
  accepted = s;
}

Test(stream_close, from_connect_callback)
{
  wire_loop_t *loop = h_loop_new();
  wire_server_t *srv;
  cr_assert_eq(wire_server_create(loop, NULL, keep_conn, &srv), 0);
  int port = h_listen(srv, "127.0.0.1");
  wire_connect_opts_t o = WIRE_CONNECT_OPTS_INIT;
  o.host = "127.0.0.1";
  o.port = port;
  cev_t e = {0}, pe = {0};
  wire_socket_t *s;
  cr_assert_eq(wire_socket_connect(loop, &o, close_in_connect, &e, &s), 0);
  attach(s, &e);
  /* Writes queued before the connection: cancelled by the close. */
  static char data[] = "queued";
  wire_buf_t b = wire_buf(data, 6);
  cr_assert_eq(wire_socket_writev(s, &b, 1, rec_wv, NULL), 1);
  cr_assert_eq(wire_socket_write(s, data, 6), 1);
  wire_socket_end(s);
  H_RUN_UNTIL(loop, e.close_cbs == 1 && accepted != NULL);
  attach(accepted, &pe);
  wire_server_close(srv, NULL);
  h_run(loop);
  cr_assert_eq(e.connects, 1);
  cr_assert_eq(e.connect_status, 0);
  cr_assert_eq(e.closes, 1);
  cr_assert_eq(e.cb_in_close, 0);
  cr_assert_eq(wv_n, 1);
  cr_assert_eq(wv_status[0], WIRE_ECANCELED);
  cr_assert_eq(pe.closes, 1);
  cr_assert_eq(pe.data_events, 0, "a cancelled write went out");
  h_loop_done(loop);
}

static int free_port(wire_loop_t *loop)
{
  wire_server_t *srv;
  cr_assert_eq(wire_server_create(loop, NULL, NULL, &srv), 0);
  int port = h_listen(srv, "127.0.0.1");
  wire_server_close(srv, NULL);
  h_run(loop);
  return port;
}

Test(stream_close, from_failed_connect_callback)
{
  wire_loop_t *loop = h_loop_new();
  wire_connect_opts_t o = WIRE_CONNECT_OPTS_INIT;
  o.host = "127.0.0.1";
  o.port = free_port(loop);
  cev_t e = {0};
  wire_socket_t *s;
  cr_assert_eq(wire_socket_connect(loop, &o, close_in_connect, &e, &s), 0);
  attach(s, &e);
  h_run(loop);
  cr_assert_eq(e.connects, 1);
  cr_assert_eq(e.connect_status, WIRE_ECONNREFUSED);
  cr_assert_eq(e.closes, 1);
  cr_assert_eq(e.close_cbs, 1);
  cr_assert_leq(e.errors, 1);
  h_loop_done(loop);
}

/* ---- data, end, drain, timeout, error ---------------------------------- */

static void close_in_data(wire_socket_t *s, const char *buf, size_t len,
                          void *d)
{
  c_data(s, buf, len, d);
  cev_t *e = d;
  if (!e->closed_by_me)
    close_now(s, e);
}

Test(stream_close, from_data_callback)
{
  wire_loop_t *loop = h_loop_new();
  h_pair_t p;
  h_pair_open(&p, loop, NULL, NULL);
  cev_t c = {0}, e = {0};
  attach(p.client, &c);
  attach(p.peer, &e);
  wire_socket_on_data(p.peer, close_in_data);
  static char big[1 << 20];
  cr_assert_geq(wire_socket_write(p.client, big, sizeof(big)), 0);
  h_run(loop);
  cr_assert_eq(e.data_events, 1);
  cr_assert_eq(e.data_after_close, 0);
  cr_assert_eq(e.closes, 1);
  cr_assert_eq(e.close_cbs, 1);
  cr_assert_eq(e.cb_in_close, 0);
  cr_assert_eq(c.closes, 1);
  h_loop_done(loop);
}

static void close_in_end(wire_socket_t *s, void *d)
{
  c_end(s, d);
  close_now(s, d);
}

Test(stream_close, from_end_callback)
{
  wire_loop_t *loop = h_loop_new();
  h_pair_t p;
  h_pair_open(&p, loop, NULL, NULL);
  cev_t c = {0}, e = {0};
  attach(p.client, &c);
  attach(p.peer, &e);
  wire_socket_on_end(p.peer, close_in_end);
  wire_socket_write(p.client, "bye", 3);
  wire_socket_end(p.client);
  h_run(loop);
  cr_assert_eq(e.ends, 1);
  cr_assert_eq(e.closes, 1);
  cr_assert_eq(e.close_cbs, 1);
  cr_assert_eq(e.errors, 0);
  cr_assert_eq(c.closes, 1);
  h_loop_done(loop);
}

static void close_in_drain(wire_socket_t *s, void *d)
{
  close_now(s, d);
}

Test(stream_close, from_drain_callback)
{
  wire_loop_t *loop = h_loop_new();
  h_pair_t p;
  h_pair_open(&p, loop, NULL, NULL);
  cev_t c = {0}, e = {0};
  attach(p.client, &c);
  attach(p.peer, &e);
  wire_socket_on_drain(p.client, close_in_drain);
  /* The peer does not read until the client's queue is over the mark. */
  wire_socket_pause(p.peer);
  static char big[1 << 20];
  int r = 1;
  for (int i = 0; i < 200 && r == 1; i++)
    r = wire_socket_write(p.client, big, sizeof(big));
  cr_assert_eq(r, 0);
  wire_socket_end(p.client); /* the FIN never goes: closed in drain */
  wire_socket_resume(p.peer);
  h_run(loop);
  cr_assert_eq(c.closed_by_me, 1);
  cr_assert_eq(c.closes, 1);
  cr_assert_eq(c.close_cbs, 1);
  cr_assert_eq(e.closes, 1);
  h_loop_done(loop);
}

static void close_in_timeout(wire_socket_t *s, void *d)
{
  close_now(s, d);
}

Test(stream_close, from_timeout_callback)
{
  wire_loop_t *loop = h_loop_new();
  h_pair_t p;
  h_pair_open(&p, loop, NULL, NULL);
  cev_t c = {0}, e = {0};
  attach(p.client, &c);
  attach(p.peer, &e);
  wire_socket_on_timeout(p.peer, close_in_timeout);
  cr_assert_eq(wire_socket_set_timeout(p.peer, 10), 0);
  h_run(loop);
  cr_assert_eq(e.closes, 1);
  cr_assert_eq(e.close_cbs, 1);
  cr_assert_eq(c.ends, 1);
  cr_assert_eq(c.closes, 1);
  h_loop_done(loop);
}

static void close_in_error(wire_socket_t *s, int err, void *d)
{
  c_error(s, err, d);
  close_now(s, d);
}

Test(stream_close, from_error_callback)
{
  wire_loop_t *loop = h_loop_new();
  wire_connect_opts_t o = WIRE_CONNECT_OPTS_INIT;
  o.host = "127.0.0.1";
  o.port = free_port(loop);
  cev_t e = {0};
  wire_socket_t *s;
  cr_assert_eq(wire_socket_connect(loop, &o, NULL, NULL, &s), 0);
  attach(s, &e);
  wire_socket_on_error(s, close_in_error);
  h_run(loop);
  cr_assert_eq(e.errors, 1);
  cr_assert_eq(e.last_error, WIRE_ECONNREFUSED);
  cr_assert_eq(e.closes, 1);
  cr_assert_eq(e.had_error, 1);
  cr_assert_eq(e.close_cbs, 1);
  h_loop_done(loop);
}

Test(stream_close, from_error_callback_after_reset)
{
  wire_loop_t *loop = h_loop_new();
  h_pair_t p;
  h_pair_open(&p, loop, NULL, NULL);
  cev_t c = {0};
  attach(p.client, &c);
  wire_socket_on_error(p.client, close_in_error);
  wire_socket_reset(p.peer, NULL);
  h_run(loop);
  cr_assert_eq(c.errors, 1);
  cr_assert_eq(c.last_error, WIRE_ECONNRESET);
  cr_assert_eq(c.closes, 1);
  cr_assert_eq(c.had_error, 1);
  cr_assert_eq(c.close_cbs, 1);
  h_loop_done(loop);
}

/* ---- close callbacks ---------------------------------------------------- */

static wire_socket_t *other;
static cev_t *other_ev;

static void close_other_cb(wire_socket_t *s, int had_error, void *d)
{
  c_close_cb(s, had_error, d);
  close_now(other, other_ev);
}

Test(stream_close, from_close_callback_of_another_socket)
{
  wire_loop_t *loop = h_loop_new();
  h_pair_t p;
  h_pair_open(&p, loop, NULL, NULL);
  cev_t c = {0}, e = {0};
  attach(p.client, &c);
  attach(p.peer, &e);
  other = p.peer;
  other_ev = &e;
  c.closed_by_me = 1;
  wire_socket_close(p.client, close_other_cb);
  h_run(loop);
  cr_assert_eq(c.closes, 1);
  cr_assert_eq(c.close_cbs, 1);
  cr_assert_eq(e.closes, 1);
  cr_assert_eq(e.close_cbs, 1);
  cr_assert_eq(e.cb_in_close, 0);
  h_loop_done(loop);
}

static void close_self_in_close_event(wire_socket_t *s, int had_error,
                                      void *d)
{
  c_close(s, had_error, d);
  /* The socket closed by itself (end both ways); closing it from its own
   * close event is allowed and its callback still runs once. */
  close_now(s, d);
}

Test(stream_close, from_own_close_event)
{
  wire_loop_t *loop = h_loop_new();
  h_pair_t p;
  h_pair_open(&p, loop, NULL, NULL);
  cev_t c = {0}, e = {0};
  attach(p.client, &c);
  attach(p.peer, &e);
  wire_socket_on_close(p.peer, close_self_in_close_event);
  wire_socket_end(p.client);
  h_run(loop);
  cr_assert_eq(e.closes, 1);
  cr_assert_eq(e.close_cbs, 1);
  cr_assert_eq(c.closes, 1);
  h_loop_done(loop);
}

/* ---- write callbacks ------------------------------------------------------ */

typedef struct {
  cev_t *e;
  int idx;
  int *log;
  int *n;
} wc_t;

static void close_in_write_cb(wire_socket_t *s, int status, void *arg)
{
  wc_t *w = arg;
  w->log[(*w->n)++] = status;
  if (w->idx == 0) {
    cr_assert_eq(status, 0);
    close_now(s, w->e);
    /* Still valid memory until the close callback; writes are refused. */
    wire_buf_t b = wire_buf("x", 1);
    cr_assert_eq(wire_socket_writev(s, &b, 1, close_in_write_cb, w),
                 WIRE_ECLOSED);
    cr_assert_eq(wire_socket_write(s, "x", 1), WIRE_ECLOSED);
  }
}

Test(stream_close, from_write_callback)
{
  wire_loop_t *loop = h_loop_new();
  wire_server_opts_t so = WIRE_SERVER_OPTS_INIT;
  so.pause_on_connect = 1;
  h_pair_t p;
  h_pair_open(&p, loop, &so, NULL);
  cev_t c = {0}, e = {0};
  attach(p.client, &c);
  attach(p.peer, &e);
  int log[8], n = 0;
  wc_t w[1];
  static char small[10];
  w[0] = (wc_t){&c, 0, log, &n};
  wire_buf_t b = wire_buf(small, sizeof(small));
  cr_assert_eq(wire_socket_writev(p.client, &b, 1, close_in_write_cb, &w[0]),
               1);
  h_run(loop);
  wire_socket_close(p.peer, NULL); /* paused: it never sees the EOF */
  h_run(loop);
  /* Closed in the first callback, before the rest was queued. */
  cr_assert_eq(n, 1);
  cr_assert_eq(c.closes, 1);
  cr_assert_eq(c.close_cbs, 1);
  h_loop_done(loop);
}

Test(stream_close, from_write_callback_with_more_queued)
{
  wire_loop_t *loop = h_loop_new();
  wire_server_opts_t so = WIRE_SERVER_OPTS_INIT;
  so.pause_on_connect = 1;
  h_pair_t p;
  h_pair_open(&p, loop, &so, NULL);
  cev_t c = {0}, e = {0};
  attach(p.client, &c);
  attach(p.peer, &e);
  int log[8], n = 0;
  wc_t w[4];
  static char small[10];
  static char big[8 << 20];
  for (int i = 0; i < 4; i++) {
    w[i] = (wc_t){&c, i, log, &n};
    wire_buf_t b = i == 0 ? wire_buf(small, sizeof(small))
                          : wire_buf(big, sizeof(big));
    cr_assert_geq(wire_socket_writev(p.client, &b, 1, close_in_write_cb,
                                     &w[i]),
                  0);
  }
  h_run(loop);
  wire_socket_close(p.peer, NULL); /* paused: it never sees the EOF */
  h_run(loop);
  cr_assert_eq(n, 4, "every write completes once");
  cr_assert_eq(log[0], 0);
  for (int i = 1; i < 4; i++)
    cr_assert(log[i] == 0 || log[i] == WIRE_ECANCELED);
  cr_assert_eq(log[3], WIRE_ECANCELED);
  cr_assert_eq(c.closes, 1);
  cr_assert_eq(c.close_cbs, 1);
  h_loop_done(loop);
}

/* ---- server callbacks ----------------------------------------------------- */

static cev_t srv_side;
static int server_closes;

static void on_srv_close(wire_server_t *srv, void *d)
{
  (void)srv;
  (void)d;
  server_closes++;
}

static void close_in_connection(wire_server_t *srv, wire_socket_t *s,
                                void *d)
{
  (void)d;
  attach(s, &srv_side);
  cr_assert_eq(wire_socket_write(s, "never", 5), 1);
  close_now(s, &srv_side);
  wire_server_close(srv, NULL);
}

Test(stream_close, from_server_connection_callback)
{
  wire_loop_t *loop = h_loop_new();
  wire_server_t *srv;
  cr_assert_eq(wire_server_create(loop, NULL, close_in_connection, &srv), 0);
  wire_server_on_close(srv, on_srv_close);
  wire_connect_opts_t o = WIRE_CONNECT_OPTS_INIT;
  o.host = "127.0.0.1";
  o.port = h_listen(srv, "127.0.0.1");
  cev_t c = {0};
  wire_socket_t *s;
  cr_assert_eq(wire_socket_connect(loop, &o, NULL, NULL, &s), 0);
  attach(s, &c);
  h_run(loop);
  cr_assert_eq(srv_side.closes, 1);
  cr_assert_eq(srv_side.close_cbs, 1);
  cr_assert_eq(srv_side.cb_in_close, 0);
  cr_assert_eq(c.data_events, 0);
  cr_assert_eq(c.closes, 1);
  cr_assert_eq(server_closes, 1);
  h_loop_done(loop);
}

static int listen_cb_status = 99;
static int in_listen_close;
static int srv_close_in_call;

static void srv_close_cb(wire_server_t *srv, void *d)
{
  (void)srv;
  (void)d;
  if (in_listen_close)
    srv_close_in_call++;
  server_closes++;
}

static void close_in_listening(wire_server_t *srv, void *d)
{
  (void)d;
  in_listen_close = 1;
  wire_server_close(srv, srv_close_cb);
  in_listen_close = 0;
}

static void rec_listen(wire_server_t *srv, int status, void *d)
{
  (void)srv;
  (void)d;
  listen_cb_status = status;
}

Test(stream_close, from_server_listening_callback)
{
  wire_loop_t *loop = h_loop_new();
  wire_server_t *srv;
  cr_assert_eq(wire_server_create(loop, NULL, NULL, &srv), 0);
  wire_server_on_listening(srv, close_in_listening);
  cr_assert_eq(wire_server_listen(srv, "127.0.0.1", 0, rec_listen), 0);
  h_run(loop);
  cr_assert_eq(server_closes, 1);
  cr_assert_eq(srv_close_in_call, 0);
  cr_assert_eq(listen_cb_status, 0);
  h_loop_done(loop);
}

static void close_in_srv_error(wire_server_t *srv, int err, void *d)
{
  (void)d;
  cr_assert_eq(err, WIRE_EADDRINUSE);
  wire_server_close(srv, srv_close_cb);
}

Test(stream_close, from_server_error_callback)
{
  wire_loop_t *loop = h_loop_new();
  wire_server_t *a, *b;
  cr_assert_eq(wire_server_create(loop, NULL, NULL, &a), 0);
  cr_assert_eq(wire_server_create(loop, NULL, NULL, &b), 0);
  int port = h_listen(a, "127.0.0.1");
  wire_server_on_error(b, close_in_srv_error);
  cr_assert_eq(wire_server_listen(b, "127.0.0.1", port, rec_listen), 0);
  H_RUN_UNTIL(loop, server_closes == 1);
  cr_assert_eq(listen_cb_status, WIRE_EADDRINUSE);
  wire_server_close(a, NULL);
  h_run(loop);
  h_loop_done(loop);
}

/* Closing a server and its connection from the connection's callbacks. */
static wire_server_t *the_srv;
static void close_server_in_data(wire_socket_t *s, const char *buf,
                                 size_t len, void *d)
{
  c_data(s, buf, len, d);
  wire_server_close(the_srv, on_srv_close);
  wire_server_close_connections(the_srv);
}

static void attach_on_conn(wire_server_t *srv, wire_socket_t *s, void *d)
{
  (void)srv;
  (void)d;
  attach(s, &srv_side);
  wire_socket_on_data(s, close_server_in_data);
}

Test(stream_close, server_and_connections_from_data_callback)
{
  wire_loop_t *loop = h_loop_new();
  cr_assert_eq(wire_server_create(loop, NULL, attach_on_conn, &the_srv), 0);
  wire_connect_opts_t o = WIRE_CONNECT_OPTS_INIT;
  o.host = "127.0.0.1";
  o.port = h_listen(the_srv, "127.0.0.1");
  cev_t c = {0};
  wire_socket_t *s;
  cr_assert_eq(wire_socket_connect(loop, &o, NULL, NULL, &s), 0);
  attach(s, &c);
  cr_assert_eq(wire_socket_write(s, "hi", 2), 1);
  h_run(loop);
  cr_assert_eq(srv_side.data_events, 1);
  cr_assert_eq(srv_side.closes, 1);
  cr_assert_eq(server_closes, 1);
  cr_assert_eq(c.closes, 1);
  h_loop_done(loop);
}
