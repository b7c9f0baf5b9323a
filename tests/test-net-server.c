/* net.Server: listen on 127.0.0.1, ::1 and NULL (port 0), the address, Unix
 * sockets, the connection count, max_connections and the drop event, close
 * semantics (stop accepting at once, close event after the last
 * connection), a busy port, ref/unref. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"

typedef struct {
  h_log_t log;
  int conns;
  int closes;
  int errors;
  int last_error;
  int listen_status;
  int listen_cbs;
  int drops;
  wire_addr_t drop_addr;
  int drop_addr_null;
  wire_socket_t *last;
  wire_socket_t *all[16];
} sev_t;

static void s_conn(wire_server_t *srv, wire_socket_t *s, void *d)
{
  (void)srv;
  sev_t *e = d;
  cr_assert_lt(e->conns, 16);
  e->all[e->conns++] = s;
  e->last = s;
  cr_assert_eq(wire_socket_server(s), srv);
}

static void s_listening(wire_server_t *srv, void *d)
{
  (void)srv;
  sev_t *e = d;
  h_log(&e->log, "listening");
}

static void s_error(wire_server_t *srv, int err, void *d)
{
  (void)srv;
  sev_t *e = d;
  h_log(&e->log, "error");
  e->errors++;
  e->last_error = err;
}

static void s_close(wire_server_t *srv, void *d)
{
  (void)srv;
  sev_t *e = d;
  h_log(&e->log, "close");
  e->closes++;
}

static void s_close_cb(wire_server_t *srv, void *d)
{
  (void)srv;
  sev_t *e = d;
  h_log(&e->log, "close_cb");
}

static void s_listen_cb(wire_server_t *srv, int status, void *d)
{
  (void)srv;
  sev_t *e = d;
  h_log(&e->log, "listen_cb");
  e->listen_status = status;
  e->listen_cbs++;
}

static void s_drop(wire_server_t *srv, const wire_addr_t *remote, void *d)
{
  (void)srv;
  sev_t *e = d;
  e->drops++;
  if (remote != NULL)
    e->drop_addr = *remote;
  else
    e->drop_addr_null = 1;
}

static wire_server_t *mk_server(wire_loop_t *loop, sev_t *e,
                                const wire_server_opts_t *o)
{
  wire_server_t *srv;
  memset(e, 0, sizeof(*e));
  cr_assert_eq(wire_server_create(loop, o, s_conn, &srv), 0);
  wire_server_set_data(srv, e);
  cr_assert_eq(wire_server_data(srv), e);
  cr_assert_eq(wire_server_loop(srv), loop);
  wire_server_on_listening(srv, s_listening);
  wire_server_on_error(srv, s_error);
  wire_server_on_close(srv, s_close);
  wire_server_on_drop(srv, s_drop);
  return srv;
}

/* A client's view of its connection. */
typedef struct {
  int status;
  int connects;
  int closes;
  int ends;
  int had_error;
  h_sink_t in;
} cli_t;

static void cl_connect(wire_socket_t *s, int status, void *arg)
{
  (void)s;
  cli_t *c = arg;
  c->status = status;
  c->connects++;
}

static void cl_close(wire_socket_t *s, int had_error, void *d)
{
  (void)s;
  cli_t *c = d;
  c->closes++;
  c->had_error = had_error;
}

static void cl_end(wire_socket_t *s, void *d)
{
  (void)s;
  cli_t *c = d;
  c->ends++;
}

static void cl_data(wire_socket_t *s, const char *buf, size_t len, void *d)
{
  (void)s;
  cli_t *c = d;
  h_sink_add(&c->in, buf, len);
}

static wire_socket_t *cl_connect_to(wire_loop_t *loop, cli_t *c,
                                    const char *host, int port)
{
  memset(c, 0, sizeof(*c));
  wire_connect_opts_t o = WIRE_CONNECT_OPTS_INIT;
  o.host = host;
  o.port = port;
  wire_socket_t *s;
  cr_assert_eq(wire_socket_connect(loop, &o, cl_connect, c, &s), 0);
  wire_socket_set_data(s, c);
  wire_socket_on_close(s, cl_close);
  wire_socket_on_end(s, cl_end);
  wire_socket_on_data(s, cl_data);
  return s;
}

static void greet(wire_server_t *srv, wire_socket_t *s, void *d)
{
  s_conn(srv, s, d);
  cr_assert_eq(wire_socket_write(s, "hi", 2), 1);
  wire_socket_end(s);
}

static void listen_and_greet(const char *listen_host, const char *conn_host,
                             const char *want_addr, int want_family)
{
  wire_loop_t *loop = h_loop_new();
  sev_t e;
  wire_server_t *srv = mk_server(loop, &e, NULL);
  wire_server_on_connection(srv, greet);
  wire_addr_t a;
  cr_assert_eq(wire_server_address(srv, &a), WIRE_ENOTCONN);
  cr_assert_eq(wire_server_listen(srv, listen_host, 0, s_listen_cb), 0);
  cr_assert_eq(wire_server_listen(srv, listen_host, 0, s_listen_cb),
               WIRE_EALREADY);
  cr_assert_eq(e.listen_cbs, 0, "listen cb ran inside listen");
  /* A literal binds at once; a name once resolved (as Node, the address
   * is known from the listening event on). */
  int literal = listen_host == NULL || strchr(listen_host, '.') != NULL ||
                strchr(listen_host, ':') != NULL;
  if (literal)
    cr_assert_eq(wire_server_address(srv, &a), 0);
  H_RUN_UNTIL(loop, e.listen_cbs == 1);
  cr_assert_eq(wire_server_address(srv, &a), 0);
  cr_assert_str_eq(a.address, want_addr);
  cr_assert_eq(a.family, want_family);
  cr_assert_gt(a.port, 0);
  cr_assert_str_eq(e.log.s, "listening listen_cb");
  cr_assert_eq(e.listen_status, 0);

  cli_t c;
  cl_connect_to(loop, &c, conn_host, a.port);
  H_RUN_UNTIL(loop, c.closes == 1);
  cr_assert_eq(c.status, 0);
  cr_assert_eq(c.in.len, 2);
  cr_assert_eq(memcmp(c.in.buf, "hi", 2), 0);
  cr_assert_eq(c.had_error, 0);
  wire_server_close(srv, NULL);
  h_run(loop);
  cr_assert_eq(e.conns, 1);
  cr_assert_eq(e.closes, 1);
  h_sink_free(&c.in);
  h_loop_done(loop);
}

Test(net_server, listen_ipv4_port_0)
{
  listen_and_greet("127.0.0.1", "127.0.0.1", "127.0.0.1", 4);
}

Test(net_server, listen_ipv6_loopback)
{
  listen_and_greet("::1", "::1", "::1", 6);
}

Test(net_server, listen_null_host_any)
{
  /* NULL: "::" with IPv4 accepted too, as Node. */
  listen_and_greet(NULL, "127.0.0.1", "::", 6);
}

Test(net_server, listen_bracketed_ipv6_and_name)
{
  listen_and_greet("[::1]", "::1", "::1", 6);
  listen_and_greet("localhost", "127.0.0.1", "127.0.0.1", 4);
}

Test(net_server, listen_bad_arguments)
{
  wire_loop_t *loop = h_loop_new();
  sev_t e;
  wire_server_t *srv = mk_server(loop, &e, NULL);
  cr_assert_eq(wire_server_listen(srv, "127.0.0.1", -1, NULL), WIRE_EINVAL);
  cr_assert_eq(wire_server_listen(srv, "127.0.0.1", 65536, NULL),
               WIRE_EINVAL);
  cr_assert_eq(wire_server_listen_path(srv, NULL, NULL), WIRE_EINVAL);
  wire_server_close(srv, NULL);
  h_run(loop);
  cr_assert_eq(e.closes, 1);
  cr_assert_eq(e.listen_cbs, 0);
  h_loop_done(loop);
}

Test(net_server, close_without_listening)
{
  wire_loop_t *loop = h_loop_new();
  sev_t e;
  wire_server_t *srv = mk_server(loop, &e, NULL);
  wire_server_close(srv, NULL);
  cr_assert_eq(e.closes, 0, "close event inside wire_server_close");
  h_run(loop);
  cr_assert_eq(e.closes, 1);
  h_loop_done(loop);
}

Test(net_server, close_before_listen_reported)
{
  wire_loop_t *loop = h_loop_new();
  sev_t e;
  wire_server_t *srv = mk_server(loop, &e, NULL);
  cr_assert_eq(wire_server_listen(srv, "127.0.0.1", 0, s_listen_cb), 0);
  wire_server_close(srv, NULL);
  h_run(loop);
  cr_assert_eq(e.listen_cbs, 1);
  cr_assert_eq(e.listen_status, WIRE_ECANCELED);
  cr_assert_eq(e.closes, 1);
  cr_assert_eq(e.errors, 0);
  h_loop_done(loop);
}

/* ---- Unix sockets ------------------------------------------------------ */

static void echo_data(wire_socket_t *s, const char *buf, size_t len,
                      void *d)
{
  (void)d;
  wire_socket_write(s, buf, len);
}

static void echo_conn(wire_server_t *srv, wire_socket_t *s, void *d)
{
  s_conn(srv, s, d);
  wire_socket_on_data(s, echo_data);
}

Test(net_server, unix_socket_round_trip)
{
  char dir[] = "/tmp/wire-test-XXXXXX";
  cr_assert_not_null(mkdtemp(dir));
  char path[128];
  snprintf(path, sizeof(path), "%s/sock", dir);

  wire_loop_t *loop = h_loop_new();
  sev_t e;
  wire_server_t *srv = mk_server(loop, &e, NULL);
  wire_server_on_connection(srv, echo_conn);
  cr_assert_eq(wire_server_listen_path(srv, path, s_listen_cb), 0);
  wire_addr_t a;
  cr_assert_eq(wire_server_address(srv, &a), 0);
  cr_assert_str_eq(a.address, path);
  cr_assert_eq(a.family, 0);
  H_RUN_UNTIL(loop, e.listen_cbs == 1);
  cr_assert_eq(e.listen_status, 0);

  cli_t c = {0};
  wire_connect_opts_t o = WIRE_CONNECT_OPTS_INIT;
  o.path = path;
  wire_socket_t *s;
  cr_assert_eq(wire_socket_connect(loop, &o, cl_connect, &c, &s), 0);
  wire_socket_set_data(s, &c);
  wire_socket_on_data(s, cl_data);
  wire_socket_on_close(s, cl_close);
  static char big[300000];
  h_fill(big, sizeof(big), 0);
  cr_assert_geq(wire_socket_write(s, big, sizeof(big)), 0);
  H_RUN_UNTIL(loop, c.in.len == sizeof(big));
  cr_assert(h_check(c.in.buf, c.in.len, 0));
  cr_assert_eq(c.status, 0);
  /* Options that do not apply to Unix sockets are accepted no-ops. */
  cr_assert_eq(wire_socket_set_nodelay(s, 1), 0);
  cr_assert_eq(wire_socket_set_keepalive(s, 1, 10), 0);
  wire_addr_t ra;
  cr_assert_eq(wire_socket_remote_address(s, &ra), 0);
  cr_assert_str_eq(ra.address, path);
  cr_assert_eq(wire_server_connections(srv), 1);

  wire_socket_end(s);
  H_RUN_UNTIL(loop, c.closes == 1);
  wire_server_close(srv, NULL);
  h_run(loop);
  cr_assert_eq(e.closes, 1);
  struct stat st;
  cr_assert_neq(stat(path, &st), 0, "the socket file is left behind");
  rmdir(dir);
  h_sink_free(&c.in);
  h_loop_done(loop);
}

Test(net_server, unix_socket_path_in_use)
{
  char dir[] = "/tmp/wire-test-XXXXXX";
  cr_assert_not_null(mkdtemp(dir));
  char path[128];
  snprintf(path, sizeof(path), "%s/sock", dir);
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f);
  fclose(f);

  wire_loop_t *loop = h_loop_new();
  sev_t e;
  wire_server_t *srv = mk_server(loop, &e, NULL);
  cr_assert_eq(wire_server_listen_path(srv, path, s_listen_cb), 0);
  H_RUN_UNTIL(loop, e.listen_cbs == 1);
  cr_assert_eq(e.listen_status, WIRE_EADDRINUSE);
  cr_assert_str_eq(e.log.s, "error listen_cb");
  wire_addr_t a;
  cr_assert_eq(wire_server_address(srv, &a), WIRE_ENOTCONN);
  wire_server_close(srv, NULL);
  h_run(loop);
  unlink(path);
  rmdir(dir);
  h_loop_done(loop);
}

Test(net_server, unix_connect_missing_path)
{
  wire_loop_t *loop = h_loop_new();
  cli_t c = {0};
  wire_connect_opts_t o = WIRE_CONNECT_OPTS_INIT;
  o.path = "/tmp/wire-test-no-such-dir/sock";
  wire_socket_t *s;
  cr_assert_eq(wire_socket_connect(loop, &o, cl_connect, &c, &s), 0);
  wire_socket_set_data(s, &c);
  wire_socket_on_close(s, cl_close);
  h_run(loop);
  cr_assert_eq(c.connects, 1);
  cr_assert_eq(c.status, WIRE_ENOENT);
  cr_assert_eq(c.closes, 1);
  cr_assert_eq(c.had_error, 1);
  h_loop_done(loop);
}

/* ---- connections, max_connections, close ------------------------------ */

Test(net_server, connection_count)
{
  wire_loop_t *loop = h_loop_new();
  sev_t e;
  wire_server_t *srv = mk_server(loop, &e, NULL);
  int port = h_listen(srv, "127.0.0.1");
  cli_t c[3];
  wire_socket_t *s[3];
  for (int i = 0; i < 3; i++)
    s[i] = cl_connect_to(loop, &c[i], "127.0.0.1", port);
  H_RUN_UNTIL(loop, e.conns == 3);
  cr_assert_eq(wire_server_connections(srv), 3);
  wire_socket_close(s[1], NULL);
  H_RUN_UNTIL(loop, wire_server_connections(srv) == 2);
  wire_socket_close(s[0], NULL);
  wire_socket_close(s[2], NULL);
  H_RUN_UNTIL(loop, wire_server_connections(srv) == 0);
  wire_server_close(srv, NULL);
  h_run(loop);
  h_loop_done(loop);
}

Test(net_server, max_connections_drops_extra)
{
  wire_loop_t *loop = h_loop_new();
  sev_t e;
  wire_server_t *srv = mk_server(loop, &e, NULL);
  wire_server_set_max_connections(srv, 2);
  int port = h_listen(srv, "127.0.0.1");
  cli_t c[3];
  wire_socket_t *s[3];
  for (int i = 0; i < 2; i++)
    s[i] = cl_connect_to(loop, &c[i], "127.0.0.1", port);
  H_RUN_UNTIL(loop, e.conns == 2);
  s[2] = cl_connect_to(loop, &c[2], "127.0.0.1", port);
  H_RUN_UNTIL(loop, c[2].connects == 1);
  wire_addr_t local;
  cr_assert_eq(wire_socket_local_address(s[2], &local), 0);
  H_RUN_UNTIL(loop, e.drops == 1 && c[2].closes == 1);
  cr_assert_eq(e.conns, 2, "the extra connection reached the callback");
  cr_assert_eq(wire_server_connections(srv), 2);
  cr_assert_eq(e.drop_addr_null, 0);
  cr_assert_str_eq(e.drop_addr.address, "127.0.0.1");
  cr_assert_eq(e.drop_addr.port, local.port);
  cr_assert_eq(c[0].closes + c[1].closes, 0);
  wire_server_close(srv, NULL);
  wire_server_close_connections(srv);
  h_run(loop);
  cr_assert_eq(c[0].closes, 1);
  cr_assert_eq(c[1].closes, 1);
  cr_assert_eq(e.closes, 1);
  h_loop_done(loop);
}

/* closeAllConnections closes the server's sockets for it: the
 * application that holds one may still close it (once), and its close
 * callback runs. */
static int app_closes;

static void on_app_close(wire_socket_t *s, int had_error, void *d)
{
  (void)s, (void)had_error, (void)d;
  app_closes++;
}

Test(net_server, application_closes_a_socket_after_close_connections)
{
  wire_loop_t *loop = h_loop_new();
  sev_t e;
  wire_server_t *srv = mk_server(loop, &e, NULL);
  int port = h_listen(srv, "127.0.0.1");
  cli_t c;
  (void)cl_connect_to(loop, &c, "127.0.0.1", port);
  H_RUN_UNTIL(loop, e.conns == 1 && c.connects == 1);
  app_closes = 0;
  wire_server_close_connections(srv);
  wire_socket_close(e.last, on_app_close);
  H_RUN_UNTIL(loop, app_closes == 1 && c.closes == 1);
  cr_assert_eq(wire_server_connections(srv), 0);
  wire_server_close(srv, NULL);
  h_run(loop);
  h_loop_done(loop);
}

Test(net_server, close_stops_accepting_and_waits_for_connections)
{
  wire_loop_t *loop = h_loop_new();
  sev_t e;
  wire_server_t *srv = mk_server(loop, &e, NULL);
  int port = h_listen(srv, "127.0.0.1");
  cli_t c;
  wire_socket_t *s = cl_connect_to(loop, &c, "127.0.0.1", port);
  H_RUN_UNTIL(loop, e.conns == 1 && c.connects == 1);
  cr_assert_eq(wire_server_listen(srv, "127.0.0.1", 0, NULL), WIRE_EALREADY);
  wire_server_close(srv, s_close_cb);
  /* A new connection is refused at once. */
  cli_t late;
  cl_connect_to(loop, &late, "127.0.0.1", port);
  H_RUN_UNTIL(loop, late.closes == 1);
  cr_assert_eq(late.status, WIRE_ECONNREFUSED);
  /* The open connection still works; the server is not closed yet. */
  h_idle_turns(loop, 20);
  cr_assert_eq(e.closes, 0, "server closed with a connection open");
  cr_assert_eq(wire_socket_write(s, "still", 5), 1);
  wire_socket_t *peer = e.last;
  wire_socket_on_data(peer, echo_data);
  H_RUN_UNTIL(loop, c.in.len == 5);
  cr_assert_eq(wire_server_connections(srv), 1);
  wire_socket_end(s);
  h_run(loop);
  cr_assert_eq(e.closes, 1);
  cr_assert_eq(e.conns, 1);
  cr_assert_str_eq(e.log.s, "listening close close_cb");
  h_sink_free(&c.in);
  h_loop_done(loop);
}

Test(net_server, busy_port_reports_eaddrinuse)
{
  wire_loop_t *loop = h_loop_new();
  sev_t e1, e2;
  wire_server_t *a = mk_server(loop, &e1, NULL);
  wire_server_t *b = mk_server(loop, &e2, NULL);
  int port = h_listen(a, "127.0.0.1");
  cr_assert_eq(wire_server_listen(b, "127.0.0.1", port, s_listen_cb), 0);
  H_RUN_UNTIL(loop, e2.listen_cbs == 1);
  cr_assert_eq(e2.errors, 1);
  cr_assert_eq(e2.last_error, WIRE_EADDRINUSE);
  cr_assert_eq(e2.listen_status, WIRE_EADDRINUSE);
  cr_assert_str_eq(e2.log.s, "error listen_cb");
  wire_server_close(a, NULL);
  wire_server_close(b, NULL);
  h_run(loop);
  cr_assert_eq(e1.closes, 1);
  cr_assert_eq(e2.closes, 1);
  h_loop_done(loop);
}

Test(net_server, unref_server_does_not_keep_loop_alive)
{
  wire_loop_t *loop = h_loop_new();
  sev_t e;
  wire_server_t *srv = mk_server(loop, &e, NULL);
  wire_server_unref(srv);
  h_listen(srv, "127.0.0.1");
  h_run(loop); /* returns: the unref'd listener keeps nothing alive */
  cr_assert_str_eq(e.log.s, "listening");
  wire_server_ref(srv);
  cr_assert_eq(wire_loop_run(loop, WIRE_RUN_NOWAIT), 1);
  wire_server_close(srv, NULL);
  h_run(loop);
  cr_assert_eq(e.closes, 1);
  h_loop_done(loop);
}

Test(net_server, server_options_applied)
{
  wire_loop_t *loop = h_loop_new();
  wire_server_opts_t so = WIRE_SERVER_OPTS_INIT;
  so.no_delay = 1;
  so.keep_alive = 1;
  so.keep_alive_initial_delay_s = 5;
  so.backlog = 4;
  so.reuse_port = 1;
  sev_t e;
  wire_server_t *srv = mk_server(loop, &e, &so);
  wire_server_on_connection(srv, greet);
  int port = h_listen(srv, "127.0.0.1");
  cli_t c;
  cl_connect_to(loop, &c, "127.0.0.1", port);
  H_RUN_UNTIL(loop, c.closes == 1);
  cr_assert_eq(c.in.len, 2);
  wire_server_close(srv, NULL);
  h_run(loop);
  h_sink_free(&c.in);
  h_loop_done(loop);
}

Test(net_server, listen_on_name_closed_while_resolving)
{
  wire_loop_t *loop = h_loop_new();
  sev_t e;
  wire_server_t *srv = mk_server(loop, &e, NULL);
  cr_assert_eq(wire_server_listen(srv, "localhost", 0, s_listen_cb), 0);
  wire_server_close(srv, s_close_cb);
  h_run(loop);
  cr_assert_eq(e.listen_cbs, 1);
  cr_assert_eq(e.listen_status, WIRE_ECANCELED);
  cr_assert_eq(e.errors, 0);
  cr_assert_eq(e.closes, 1);
  h_loop_done(loop);
}

Test(net_server, listen_on_unresolvable_name)
{
  wire_loop_t *loop = h_loop_new();
  sev_t e;
  wire_server_t *srv = mk_server(loop, &e, NULL);
  cr_assert_eq(wire_server_listen(srv, "nonexistent.invalid", 0, s_listen_cb),
               0);
  H_RUN_UNTIL(loop, e.listen_cbs == 1);
  cr_assert(e.listen_status <= WIRE_EAI_ADDRFAMILY &&
                e.listen_status >= WIRE_EAI_SOCKTYPE,
            "status %s", wire_err_name(e.listen_status));
  cr_assert_str_eq(e.log.s, "error listen_cb");
  cr_assert_eq(e.last_error, e.listen_status);
  wire_addr_t a;
  cr_assert_eq(wire_server_address(srv, &a), WIRE_ENOTCONN);
  wire_server_close(srv, NULL);
  h_run(loop);
  cr_assert_eq(e.closes, 1);
  h_loop_done(loop);
}
