/* net.connect: refused, unresolvable names, localAddress, "localhost" on
 * either family, a peer reset in the middle of a large write, addresses
 * and ports, socket options, ref/unref, bad options, closing while
 * connecting or resolving, wire_socket_open. */
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include "helpers.h"

typedef struct {
  h_log_t log;
  int connects;
  int status;
  int errors;
  int last_error;
  int closes;
  int had_error;
  int ends;
  h_sink_t in;
} kev_t;

static void k_connect(wire_socket_t *s, int status, void *arg)
{
  (void)s;
  kev_t *e = arg;
  char tag[48];
  snprintf(tag, sizeof(tag), "connect:%s",
           status == 0 ? "ok" : wire_err_name(status));
  h_log(&e->log, tag);
  e->connects++;
  e->status = status;
}

static void k_error(wire_socket_t *s, int err, void *d)
{
  (void)s;
  kev_t *e = d;
  h_log(&e->log, "error");
  e->errors++;
  e->last_error = err;
}

static void k_close(wire_socket_t *s, int had_error, void *d)
{
  (void)s;
  kev_t *e = d;
  h_log(&e->log, had_error ? "close(1)" : "close(0)");
  e->closes++;
  e->had_error = had_error;
}

static void k_data(wire_socket_t *s, const char *buf, size_t len, void *d)
{
  (void)s;
  kev_t *e = d;
  h_sink_add(&e->in, buf, len);
}

static void k_end(wire_socket_t *s, void *d)
{
  (void)s;
  kev_t *e = d;
  e->ends++;
}

static wire_socket_t *k_connect_opts(wire_loop_t *loop, kev_t *e,
                                     const wire_connect_opts_t *o)
{
  memset(e, 0, sizeof(*e));
  wire_socket_t *s;
  cr_assert_eq(wire_socket_connect(loop, o, k_connect, e, &s), 0);
  cr_assert_eq(e->connects, 0, "connect cb inside connect");
  wire_socket_set_data(s, e);
  cr_assert_eq(wire_socket_data(s), e);
  cr_assert_eq(wire_socket_loop(s), loop);
  cr_assert_null(wire_socket_server(s));
  wire_socket_on_error(s, k_error);
  wire_socket_on_close(s, k_close);
  wire_socket_on_data(s, k_data);
  wire_socket_on_end(s, k_end);
  return s;
}

static wire_socket_t *k_connect_to(wire_loop_t *loop, kev_t *e,
                                   const char *host, int port)
{
  wire_connect_opts_t o = WIRE_CONNECT_OPTS_INIT;
  o.host = host;
  o.port = port;
  return k_connect_opts(loop, e, &o);
}

/* A port nothing listens on (was free a moment ago). */
static int closed_port(wire_loop_t *loop, const char *host)
{
  wire_server_t *srv;
  cr_assert_eq(wire_server_create(loop, NULL, NULL, &srv), 0);
  int port = h_listen(srv, host);
  wire_server_close(srv, NULL);
  h_run(loop);
  return port;
}

Test(net_connect, refused_connect_error_close_in_order)
{
  wire_loop_t *loop = h_loop_new();
  kev_t e;
  k_connect_to(loop, &e, "127.0.0.1", closed_port(loop, "127.0.0.1"));
  h_run(loop);
  cr_assert_str_eq(e.log.s, "connect:ECONNREFUSED error close(1)");
  cr_assert_eq(e.last_error, WIRE_ECONNREFUSED);
  h_loop_done(loop);
}

Test(net_connect, writes_before_refused_connect_are_cancelled)
{
  wire_loop_t *loop = h_loop_new();
  kev_t e;
  wire_socket_t *s =
      k_connect_to(loop, &e, "127.0.0.1", closed_port(loop, "127.0.0.1"));
  cr_assert_eq(wire_socket_write(s, "abc", 3), 1);
  wire_socket_end(s);
  h_run(loop);
  cr_assert_str_eq(e.log.s, "connect:ECONNREFUSED error close(1)");
  h_loop_done(loop);
}

Test(net_connect, unresolvable_name_gives_resolver_code)
{
  wire_loop_t *loop = h_loop_new();
  kev_t e;
  k_connect_to(loop, &e, "nonexistent.invalid", 80);
  h_run(loop);
  cr_assert_eq(e.connects, 1);
  /* A WIRE_EAI_* code, whichever the resolver picked. */
  cr_assert(e.status <= WIRE_EAI_ADDRFAMILY && e.status >= WIRE_EAI_SOCKTYPE,
            "status %d (%s)", e.status, wire_err_name(e.status));
  cr_assert_eq(e.last_error, e.status);
  cr_assert_eq(e.errors, 1);
  cr_assert_eq(e.closes, 1);
  cr_assert_eq(e.had_error, 1);
  cr_assert_str_eq(wire_err_name(e.status) + 0, wire_err_name(e.status));
  h_loop_done(loop);
}

static wire_socket_t *accepted;
static void keep(wire_server_t *srv, wire_socket_t *s, void *d)
{
  (void)srv;
  (void)d;
  accepted = s;
}

Test(net_connect, local_address_and_addresses)
{
  wire_loop_t *loop = h_loop_new();
  wire_server_t *srv;
  cr_assert_eq(wire_server_create(loop, NULL, keep, &srv), 0);
  int port = h_listen(srv, "127.0.0.1");
  wire_connect_opts_t o = WIRE_CONNECT_OPTS_INIT;
  o.host = "127.0.0.1";
  o.port = port;
  o.local_address = "127.0.0.1";
  o.no_delay = 1;
  kev_t e;
  wire_socket_t *s = k_connect_opts(loop, &e, &o);
  H_RUN_UNTIL(loop, e.connects == 1 && accepted != NULL);
  cr_assert_eq(e.status, 0);

  wire_addr_t cl, cr, pl, pr;
  cr_assert_eq(wire_socket_local_address(s, &cl), 0);
  cr_assert_eq(wire_socket_remote_address(s, &cr), 0);
  cr_assert_eq(wire_socket_local_address(accepted, &pl), 0);
  cr_assert_eq(wire_socket_remote_address(accepted, &pr), 0);
  cr_assert_str_eq(cl.address, "127.0.0.1");
  cr_assert_eq(cl.family, 4);
  cr_assert_str_eq(cr.address, "127.0.0.1");
  cr_assert_eq(cr.port, port);
  cr_assert_str_eq(pl.address, "127.0.0.1");
  cr_assert_eq(pl.port, port);
  cr_assert_str_eq(pr.address, cl.address);
  cr_assert_eq(pr.port, cl.port);
  cr_assert_eq(wire_socket_server(accepted), srv);

  cr_assert_eq(wire_socket_set_nodelay(s, 1), 0);
  cr_assert_eq(wire_socket_set_nodelay(s, 0), 0);
  cr_assert_eq(wire_socket_set_keepalive(s, 1, 30), 0);
  cr_assert_eq(wire_socket_set_keepalive(s, 0, 0), 0);
  cr_assert_eq(wire_socket_set_keepalive(accepted, 1, 0), 0);

  wire_server_close(srv, NULL);
  wire_socket_end(s);
  h_run(loop);
  cr_assert_eq(e.closes, 1);
  h_loop_done(loop);
}

Test(net_connect, local_address_and_port)
{
  wire_loop_t *loop = h_loop_new();
  /* Find a free local port, then bind the client to it. */
  int lport = closed_port(loop, "127.0.0.1");
  wire_server_t *srv;
  accepted = NULL;
  cr_assert_eq(wire_server_create(loop, NULL, keep, &srv), 0);
  wire_connect_opts_t o = WIRE_CONNECT_OPTS_INIT;
  o.host = "127.0.0.1";
  o.port = h_listen(srv, "127.0.0.1");
  o.local_address = "127.0.0.1";
  o.local_port = lport;
  kev_t e;
  wire_socket_t *s = k_connect_opts(loop, &e, &o);
  H_RUN_UNTIL(loop, e.connects == 1 && accepted != NULL);
  cr_assert_eq(e.status, 0);
  wire_addr_t pr;
  cr_assert_eq(wire_socket_remote_address(accepted, &pr), 0);
  cr_assert_eq(pr.port, lport);
  wire_server_close(srv, NULL);
  wire_socket_close(s, NULL);
  h_run(loop);
  h_loop_done(loop);
}

/* "localhost" reaches a server on 127.0.0.1, and one on ::1 when the
 * resolver has ::1 for localhost (each address is tried in turn). */

static void localhost_to(const char *listen_host)
{
  wire_loop_t *loop = h_loop_new();
  wire_server_t *srv;
  accepted = NULL;
  cr_assert_eq(wire_server_create(loop, NULL, keep, &srv), 0);
  int port = h_listen(srv, listen_host);
  kev_t e;
  wire_socket_t *s = k_connect_to(loop, &e, "localhost", port);
  H_RUN_UNTIL(loop, e.connects == 1);
  cr_assert_eq(e.status, 0, "connect: %s", wire_err_name(e.status));
  H_RUN_UNTIL(loop, accepted != NULL);
  wire_addr_t r;
  cr_assert_eq(wire_socket_remote_address(s, &r), 0);
  cr_assert_str_eq(r.address, listen_host);
  wire_server_close(srv, NULL);
  wire_socket_end(s);
  h_run(loop);
  cr_assert_eq(e.closes, 1);
  cr_assert_eq(e.errors, 0);
  h_loop_done(loop);
}

Test(net_connect, localhost_reaches_ipv4_server)
{
  localhost_to("127.0.0.1");
}

Test(net_connect, family_option_filters_resolution)
{
  wire_loop_t *loop = h_loop_new();
  wire_server_t *srv;
  accepted = NULL;
  cr_assert_eq(wire_server_create(loop, NULL, keep, &srv), 0);
  wire_connect_opts_t o = WIRE_CONNECT_OPTS_INIT;
  o.host = "localhost";
  o.port = h_listen(srv, "127.0.0.1");
  o.family = 4;
  kev_t e;
  wire_socket_t *s = k_connect_opts(loop, &e, &o);
  H_RUN_UNTIL(loop, e.connects == 1);
  cr_assert_eq(e.status, 0);
  wire_server_close(srv, NULL);
  wire_socket_close(s, NULL);
  h_run(loop);
  h_loop_done(loop);
}

Test(net_connect, bad_options_create_nothing)
{
  wire_loop_t *loop = h_loop_new();
  wire_socket_t *s = NULL;
  wire_connect_opts_t o = WIRE_CONNECT_OPTS_INIT;
  o.host = "127.0.0.1";
  o.port = 0;
  cr_assert_eq(wire_socket_connect(loop, &o, NULL, NULL, &s), WIRE_EINVAL);
  o.port = 70000;
  cr_assert_eq(wire_socket_connect(loop, &o, NULL, NULL, &s), WIRE_EINVAL);
  o.port = 80;
  o.family = 5;
  cr_assert_eq(wire_socket_connect(loop, &o, NULL, NULL, &s), WIRE_EINVAL);
  o.family = 6;
  cr_assert_eq(wire_socket_connect(loop, &o, NULL, NULL, &s), WIRE_EINVAL);
  o.family = 0;
  o.local_address = "not an ip";
  cr_assert_eq(wire_socket_connect(loop, &o, NULL, NULL, &s), WIRE_EINVAL);
  cr_assert_eq(wire_socket_connect(loop, NULL, NULL, NULL, &s), WIRE_EINVAL);
  cr_assert_null(s);
  h_run(loop);
  h_loop_done(loop);
}

/* ---- peer reset during a large write ------------------------------------ */

static void reset_on_data(wire_socket_t *s, const char *buf, size_t len,
                          void *d)
{
  (void)buf;
  (void)len;
  (void)d;
  wire_socket_reset(s, NULL);
}

static void reset_on_conn(wire_server_t *srv, wire_socket_t *s, void *d)
{
  (void)srv;
  (void)d;
  wire_socket_on_data(s, reset_on_data);
}

Test(net_connect, peer_reset_during_large_write)
{
  wire_loop_t *loop = h_loop_new();
  wire_server_t *srv;
  cr_assert_eq(wire_server_create(loop, NULL, reset_on_conn, &srv), 0);
  int port = h_listen(srv, "127.0.0.1");
  kev_t e;
  wire_socket_t *s = k_connect_to(loop, &e, "127.0.0.1", port);
  enum { TOTAL = 32 * 1024 * 1024 };
  char *big = calloc(1, TOTAL);
  cr_assert_geq(wire_socket_write(s, big, TOTAL), 0);
  wire_buf_t b = wire_buf(big, TOTAL);
  cr_assert_eq(wire_socket_set_write_limits(s, 16 * 1024, 2u * TOTAL), 0);
  cr_assert_geq(wire_socket_writev(s, &b, 1, NULL, NULL), 0);
  H_RUN_UNTIL(loop, e.closes == 1);
  cr_assert_eq(e.errors, 1);
  cr_assert(e.last_error == WIRE_ECONNRESET || e.last_error == WIRE_EPIPE,
            "error %s", wire_err_name(e.last_error));
  cr_assert_eq(e.had_error, 1);
  cr_assert_str_eq(e.log.s, "connect:ok error close(1)");
  wire_server_close(srv, NULL);
  h_run(loop);
  free(big);
  h_loop_done(loop);
}

Test(net_connect, peer_reset_while_idle)
{
  wire_loop_t *loop = h_loop_new();
  h_pair_t p;
  h_pair_open(&p, loop, NULL, NULL);
  kev_t e = {0};
  wire_socket_set_data(p.client, &e);
  wire_socket_on_error(p.client, k_error);
  wire_socket_on_close(p.client, k_close);
  wire_socket_reset(p.peer, NULL);
  h_run(loop);
  cr_assert_str_eq(e.log.s, "error close(1)");
  cr_assert_eq(e.last_error, WIRE_ECONNRESET);
  h_loop_done(loop);
}

/* ---- ref / unref ----------------------------------------------------------- */

Test(net_connect, unref_socket_does_not_keep_loop_alive)
{
  wire_loop_t *loop = h_loop_new();
  h_pair_t p;
  h_pair_open(&p, loop, NULL, NULL);
  wire_socket_unref(p.client);
  wire_socket_unref(p.peer);
  h_run(loop); /* returns although both are open and reading */
  cr_assert_eq(wire_loop_alive(loop), 4); /* 2 sockets, server, deadline */
  wire_socket_ref(p.client);
  cr_assert_eq(wire_loop_run(loop, WIRE_RUN_NOWAIT), 1);
  wire_socket_close(p.client, NULL);
  wire_socket_close(p.peer, NULL);
  h_run(loop);
  h_loop_done(loop);
}

Test(net_connect, unref_before_connect)
{
  wire_loop_t *loop = h_loop_new();
  wire_server_t *srv;
  accepted = NULL;
  cr_assert_eq(wire_server_create(loop, NULL, keep, &srv), 0);
  int port = h_listen(srv, "127.0.0.1");
  kev_t e;
  wire_socket_t *s = k_connect_to(loop, &e, "localhost", port);
  wire_socket_unref(s);
  H_RUN_UNTIL(loop, e.connects == 1 && accepted != NULL);
  wire_server_unref(srv);
  wire_socket_unref(accepted);
  h_run(loop);
  wire_server_close(srv, NULL);
  wire_socket_close(s, NULL);
  h_run(loop);
  h_loop_done(loop);
}

/* ---- closing while connecting ------------------------------------------------ */

Test(net_connect, close_while_resolving)
{
  wire_loop_t *loop = h_loop_new();
  kev_t e;
  wire_socket_t *s = k_connect_to(loop, &e, "localhost", 9);
  wire_socket_close(s, NULL);
  h_run(loop);
  cr_assert_eq(e.connects, 1);
  cr_assert_eq(e.status, WIRE_ECANCELED);
  cr_assert_eq(e.closes, 1);
  cr_assert_eq(e.errors, 0);
  cr_assert_eq(e.had_error, 0);
  h_loop_done(loop);
}

Test(net_connect, close_while_connecting)
{
  wire_loop_t *loop = h_loop_new();
  wire_server_t *srv;
  accepted = NULL;
  cr_assert_eq(wire_server_create(loop, NULL, keep, &srv), 0);
  int port = h_listen(srv, "127.0.0.1");
  kev_t e;
  wire_socket_t *s = k_connect_to(loop, &e, "127.0.0.1", port);
  wire_socket_reset(s, NULL);
  H_RUN_UNTIL(loop, e.closes == 1);
  wire_server_close(srv, NULL);
  wire_server_close_connections(srv);
  h_run(loop);
  cr_assert_str_eq(e.log.s, "connect:ECANCELED close(0)");
  h_loop_done(loop);
}

/* ---- wire_socket_open ------------------------------------------------------- */

Test(net_connect, open_socketpair_fd)
{
  wire_loop_t *loop = h_loop_new();
  int sv[2];
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  wire_socket_t *a, *b;
  cr_assert_eq(wire_socket_open(loop, sv[0], &a), 0);
  cr_assert_eq(wire_socket_open(loop, sv[1], &b), 0);
  kev_t ea = {0}, eb = {0};
  wire_socket_set_data(a, &ea);
  wire_socket_set_data(b, &eb);
  wire_socket_on_data(b, k_data);
  wire_socket_on_end(b, k_end);
  wire_socket_on_close(a, k_close);
  wire_socket_on_close(b, k_close);
  cr_assert_eq(wire_socket_write(a, "through fd", 10), 1);
  wire_socket_end(a);
  h_run(loop);
  cr_assert_eq(eb.in.len, 10);
  cr_assert_eq(eb.ends, 1);
  cr_assert_eq(ea.closes, 1);
  cr_assert_eq(eb.closes, 1);
  h_sink_free(&eb.in);
  h_loop_done(loop);
}

Test(net_connect, open_regular_file_is_einval)
{
  wire_loop_t *loop = h_loop_new();
  FILE *f = tmpfile();
  cr_assert_not_null(f);
  wire_socket_t *s = NULL;
  cr_assert_eq(wire_socket_open(loop, fileno(f), &s), WIRE_EINVAL);
  cr_assert_null(s);
  fclose(f);
  h_loop_done(loop);
}
