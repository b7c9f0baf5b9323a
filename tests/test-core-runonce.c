/* WIRE_RUN_ONCE callers see the effects of the pre-poll flush at once: a
 * write completion delivered just before the loop would block must not
 * leave that turn sleeping until unrelated I/O or a timer wakes it. */
#include <criterion/criterion.h>
#include <wire.h>

static int done;
static int conns;
static wire_socket_t *cli;

static void on_conn(wire_server_t *srv, wire_socket_t *s, void *data)
{
  (void)srv, (void)s, (void)data;
  conns++;
}

static void on_written(wire_socket_t *s, int status, void *arg)
{
  (void)s, (void)arg;
  done = status == 0 ? 1 : -1;
}

static void on_timer(wire_timer_t *t, void *data)
{
  (void)t, (void)data;
  static char x[] = "x";
  wire_buf_t b = wire_buf(x, 1);
  cr_assert_eq(wire_socket_writev(cli, &b, 1, on_written, NULL), 1);
}

/* Criterion's timeout turns a hang into a failure. */
Test(core_loop, run_once_sees_completions_from_the_flush, .timeout = 10)
{
  wire_loop_t *loop;
  cr_assert_eq(wire_loop_create(&loop), 0);
  /* The server side stays paused, so the write makes no I/O event that
   * would wake the poll by itself. */
  wire_server_opts_t so = WIRE_SERVER_OPTS_INIT;
  so.pause_on_connect = 1;
  wire_server_t *srv;
  cr_assert_eq(wire_server_create(loop, &so, on_conn, &srv), 0);
  cr_assert_eq(wire_server_listen(srv, "127.0.0.1", 0, NULL), 0);
  wire_addr_t a;
  cr_assert_eq(wire_server_address(srv, &a), 0);
  wire_connect_opts_t o = WIRE_CONNECT_OPTS_INIT;
  o.host = "127.0.0.1";
  o.port = a.port;
  cr_assert_eq(wire_socket_connect(loop, &o, NULL, NULL, &cli), 0);
  while (conns == 0)
    wire_loop_run(loop, WIRE_RUN_ONCE);
  /* A long-period timer: it wakes the loop once, then never again. */
  wire_timer_t *t;
  cr_assert_eq(wire_timer_create(loop, &t), 0);
  cr_assert_eq(wire_timer_start(t, 10, 600000, on_timer), 0);
  while (done == 0)
    wire_loop_run(loop, WIRE_RUN_ONCE);
  cr_assert_eq(done, 1);
  wire_timer_close(t, NULL);
  wire_socket_close(cli, NULL);
  wire_server_close_connections(srv);
  wire_server_close(srv, NULL);
  wire_loop_run(loop, WIRE_RUN_DEFAULT);
  cr_assert_eq(wire_loop_close(loop), 0);
}
