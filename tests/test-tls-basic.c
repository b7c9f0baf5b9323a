/* TLS sockets: handshake, echo, socket information, end and close, the
 * stream calls that must work unchanged, and HTTP over a TLS socket. */
#include <wire/tls.h> /* first: the header compiles on its own */

#include "test-tls.h"

Test(tls, echo_and_info)
{
  wire_loop_t *loop = h_loop_new();
  t_certs_t k;
  t_certs(&k);
  t_srv_t srv;
  t_srv_start_cert(&srv, loop, &k.server, 1);

  wire_tls_connect_opts_t o = WIRE_TLS_CONNECT_OPTS_INIT;
  o.ctx = t_ctx(NULL, &k.ca);
  o.servername = "localhost";
  t_cli_t c;
  t_cli_connect(&c, loop, srv.port, &o);
  wire_tls_ctx_free(o.ctx);
  cr_assert_eq(wire_tls_encrypted(c.s), 1);
  /* Written before the handshake: queued and sent after it. */
  cr_assert_eq(wire_socket_write(c.s, "hello", 5), 1);
  H_RUN_UNTIL(loop, c.hs == 1 && c.got.len == 5);
  cr_assert_eq(c.status, 0);
  cr_assert_eq(memcmp(c.got.buf, "hello", 5), 0);
  cr_assert_eq(wire_tls_authorized(c.s), 1);
  cr_assert_null(wire_tls_authorization_error(c.s));
  cr_assert_str_eq(wire_tls_protocol(c.s), "TLSv1.3");
  cr_assert_not_null(wire_tls_cipher(c.s));
  cr_assert_str_eq(wire_tls_servername(c.s), "localhost");
  cr_assert_str_eq(srv.sni, "localhost");
  /* A server that did not ask for a certificate: not authorized, no
   * reason (as Node). */
  cr_assert_eq(srv.authorized, 0);
  cr_assert_str_eq(srv.authz, "");

  wire_tls_cert_info_t ci;
  cr_assert_eq(wire_tls_peer_cert(c.s, &ci), 0);
  cr_assert_str_eq(ci.cn, "localhost");
  cr_assert_str_eq(ci.subject, "CN=localhost");
  cr_assert_str_eq(ci.issuer, "CN=wire CA");
  cr_assert_str_eq(ci.subjectaltname, "DNS:localhost, IP Address:127.0.0.1");
  cr_assert_eq(strlen(ci.fingerprint256), 95);
  cr_assert_eq(ci.fingerprint256[2], ':');
  cr_assert_lt(ci.valid_from, ci.valid_to);
  cr_assert_eq(wire_tls_peer_cert(srv.last, &ci), WIRE_ENOENT);
  cr_assert_eq(wire_tls_cert(srv.last, &ci), 0);
  cr_assert_str_eq(ci.cn, "localhost");

  /* Socket options and addresses are the TCP socket's. */
  wire_addr_t a, b;
  cr_assert_eq(wire_socket_remote_address(c.s, &a), 0);
  cr_assert_eq(a.port, srv.port);
  cr_assert_str_eq(a.address, "127.0.0.1");
  cr_assert_eq(wire_socket_local_address(srv.last, &b), 0);
  cr_assert_eq(b.port, srv.port);
  cr_assert_eq(wire_socket_set_nodelay(c.s, 1), 0);
  cr_assert_eq(wire_socket_set_keepalive(c.s, 1, 10), 0);
  cr_assert_eq(wire_socket_bytes_written(c.s), 5);

  /* end: close_notify both ways, then both close cleanly. */
  wire_socket_end(c.s);
  H_RUN_UNTIL(loop, c.closed == 1 && srv.closed == 1);
  cr_assert_eq(c.ended, 1);
  cr_assert_eq(srv.ended, 1);
  cr_assert_eq(c.errors, 0);
  t_srv_stop(&srv);
  h_sink_free(&c.got);
  h_sink_free(&srv.got);
  t_certs_free(&k);
  h_loop_done(loop);
}

Test(tls, ip_address_is_checked_without_sni)
{
  wire_loop_t *loop = h_loop_new();
  t_certs_t k;
  t_certs(&k);
  t_srv_t srv;
  t_srv_start_cert(&srv, loop, &k.server, 0);
  wire_tls_connect_opts_t o = WIRE_TLS_CONNECT_OPTS_INIT;
  o.ctx = t_ctx(NULL, &k.ca);
  t_cli_t c; /* host 127.0.0.1, no servername: the IP SAN is checked */
  t_cli_connect(&c, loop, srv.port, &o);
  wire_tls_ctx_free(o.ctx);
  H_RUN_UNTIL(loop, c.hs == 1 && srv.secure == 1);
  cr_assert_eq(c.status, 0);
  cr_assert_eq(wire_tls_authorized(c.s), 1);
  cr_assert_str_eq(srv.sni, ""); /* no SNI for an address */
  wire_socket_close(c.s, NULL);
  H_RUN_UNTIL(loop, c.closed == 1 && srv.closed == 1);
  t_srv_stop(&srv);
  t_certs_free(&k);
  h_loop_done(loop);
}

static void close_in_hs(wire_socket_t *s, int status, void *arg)
{
  t_cli_hs(s, status, arg);
}

Test(tls, close_during_handshake_cancels)
{
  wire_loop_t *loop = h_loop_new();
  t_certs_t k;
  t_certs(&k);
  t_srv_t srv;
  t_srv_start_cert(&srv, loop, &k.server, 0);
  wire_tls_connect_opts_t o = WIRE_TLS_CONNECT_OPTS_INIT;
  o.ctx = t_ctx(NULL, &k.ca);
  t_cli_t c;
  memset(&c, 0, sizeof(c));
  o.net.host = "127.0.0.1";
  o.net.port = srv.port;
  cr_assert_eq(wire_tls_connect(loop, &o, close_in_hs, &c, &c.s), 0);
  wire_tls_ctx_free(o.ctx);
  wire_socket_set_data(c.s, &c);
  wire_socket_on_close(c.s, t_cli_close);
  cr_assert_eq(wire_socket_write(c.s, "x", 1), 1);
  wire_socket_close(c.s, NULL);
  cr_assert_eq(c.hs, 0); /* never inside the call */
  H_RUN_UNTIL(loop, c.closed == 1);
  cr_assert_eq(c.hs, 1);
  cr_assert_eq(c.status, WIRE_ECANCELED);
  H_RUN_UNTIL(loop, wire_tls_server_connections(srv.srv) == 0);
  t_srv_stop(&srv);
  t_certs_free(&k);
  h_loop_done(loop);
}

/* A TLS socket under HTTP: the HTTP server only uses the stream API. */
static void on_req(wire_http_server_t *hs, wire_http_req_t *req,
                   wire_http_res_t *res, void *d)
{
  (void)hs, (void)req, (void)d;
  wire_http_res_write_head(res, 200, NULL);
  wire_http_res_end(res, "secure\n", 7);
}

static wire_http_server_t *g_http;

static void attach_secure(wire_tls_server_t *srv, wire_socket_t *s, void *d)
{
  (void)srv, (void)d;
  cr_assert_eq(wire_http_server_attach(g_http, s), 0);
}

Test(tls, http_server_over_tls)
{
  wire_loop_t *loop = h_loop_new();
  t_certs_t k;
  t_certs(&k);
  cr_assert_eq(wire_http_server_create(loop, NULL, on_req, &g_http), 0);
  wire_tls_server_opts_t so = WIRE_TLS_SERVER_OPTS_INIT;
  so.ctx = t_ctx(&k.server, NULL);
  wire_tls_server_t *srv;
  cr_assert_eq(wire_tls_server_create(loop, &so, attach_secure, &srv), 0);
  wire_tls_ctx_free(so.ctx);
  cr_assert_eq(wire_tls_server_listen(srv, "127.0.0.1", 0, NULL), 0);
  wire_addr_t a;
  cr_assert_eq(wire_tls_server_address(srv, &a), 0);

  wire_tls_connect_opts_t o = WIRE_TLS_CONNECT_OPTS_INIT;
  o.ctx = t_ctx(NULL, &k.ca);
  o.servername = "localhost";
  t_cli_t c;
  t_cli_connect(&c, loop, a.port, &o);
  wire_tls_ctx_free(o.ctx);
  const char req[] = "GET / HTTP/1.1\r\nHost: localhost\r\n"
                     "Connection: close\r\n\r\n";
  wire_socket_write(c.s, req, sizeof(req) - 1);
  H_RUN_UNTIL(loop, c.closed == 1);
  cr_assert_eq(c.errors, 0);
  h_sink_add(&c.got, "", 1);
  cr_assert(strncmp(c.got.buf, "HTTP/1.1 200", 12) == 0, "got: %s", c.got.buf);
  cr_assert_not_null(strstr(c.got.buf, "\r\n\r\nsecure\n"));
  wire_tls_server_close(srv, NULL);
  wire_http_server_close(g_http, NULL);
  h_sink_free(&c.got);
  t_certs_free(&k);
  h_loop_done(loop);
}

/* wire_tls_accept and wire_tls_wrap on sockets of a plain TCP pair. */
typedef struct {
  int hs;
  int status;
} hs_t;

static void count_hs(wire_socket_t *s, int status, void *arg)
{
  (void)s;
  hs_t *h = arg;
  h->hs++;
  h->status = status;
}

Test(tls, wrap_and_accept_a_tcp_pair)
{
  wire_loop_t *loop = h_loop_new();
  t_certs_t k;
  t_certs(&k);
  h_pair_t p;
  h_pair_open(&p, loop, NULL, NULL);
  wire_tls_server_opts_t so = WIRE_TLS_SERVER_OPTS_INIT;
  so.ctx = t_ctx(&k.server, &k.ca);
  so.request_cert = 1;
  wire_tls_connect_opts_t o = WIRE_TLS_CONNECT_OPTS_INIT;
  o.ctx = t_ctx(&k.client, &k.ca);
  o.servername = "localhost";
  hs_t hs_s = {0, 1}, hs_c = {0, 1};
  wire_socket_t *ts, *tc;
  wire_socket_pause(p.peer); /* the handshake reads anyway */
  cr_assert_eq(wire_tls_accept(p.peer, &so, count_hs, &hs_s, &ts), 0);
  cr_assert_eq(wire_tls_wrap(p.client, &o, count_hs, &hs_c, &tc), 0);
  wire_tls_ctx_free(so.ctx);
  wire_tls_ctx_free(o.ctx);
  H_RUN_UNTIL(loop, hs_s.hs == 1 && hs_c.hs == 1);
  cr_assert_eq(hs_s.status, 0);
  cr_assert_eq(hs_c.status, 0);
  cr_assert_eq(wire_tls_authorized(ts), 1);
  wire_tls_cert_info_t ci;
  cr_assert_eq(wire_tls_peer_cert(ts, &ci), 0);
  cr_assert_str_eq(ci.cn, "alice");
  t_cli_t got;
  memset(&got, 0, sizeof(got));
  wire_socket_set_data(ts, &got);
  wire_socket_on_data(ts, t_cli_data);
  wire_socket_on_close(ts, t_cli_close);
  wire_socket_write(tc, "over a pair", 11);
  wire_socket_end(tc);
  int closed_c = 0;
  wire_socket_set_data(tc, &closed_c);
  H_RUN_UNTIL(loop, got.closed == 1);
  cr_assert_eq(got.got.len, 11);
  h_sink_free(&got.got);
  h_run(loop);
  t_certs_free(&k);
  h_loop_done(loop);
}
