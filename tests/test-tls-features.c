/* ALPN, SNI, session resumption, reloading a certificate, contexts from
 * files (made by wire_cert_save), and context errors. */
#include <sys/stat.h>
#include <unistd.h>

#include "test-tls.h"

static void run_client(wire_loop_t *loop, t_cli_t *c, int port,
                       wire_tls_connect_opts_t *o)
{
  t_cli_connect(c, loop, port, o);
  H_RUN_UNTIL(loop, c->hs == 1);
}

static void close_client(wire_loop_t *loop, t_cli_t *c)
{
  if (c->s != NULL)
    wire_socket_close(c->s, NULL);
  H_RUN_UNTIL(loop, c->closed == 1);
  h_sink_free(&c->got);
}

Test(tls_features, alpn)
{
  wire_loop_t *loop = h_loop_new();
  t_certs_t k;
  t_certs(&k);
  const char *const server_protos[] = {"h2", "http/1.1", NULL};
  wire_tls_server_opts_t so = WIRE_TLS_SERVER_OPTS_INIT;
  so.ctx = t_ctx(&k.server, NULL);
  so.alpn = server_protos;
  t_srv_t srv;
  t_srv_start(&srv, loop, &so);
  wire_tls_ctx_free(so.ctx);

  const char *const offer[] = {"http/1.1", "h2", NULL};
  wire_tls_connect_opts_t o = WIRE_TLS_CONNECT_OPTS_INIT;
  o.ctx = t_ctx(NULL, &k.ca);
  o.servername = "localhost";
  o.alpn = offer;
  t_cli_t c;
  run_client(loop, &c, srv.port, &o);
  cr_assert_eq(c.status, 0);
  /* The server's preference wins, as in Node. */
  cr_assert_str_eq(wire_tls_alpn(c.s), "h2");
  H_RUN_UNTIL(loop, srv.secure == 1);
  cr_assert_str_eq(srv.alpn, "h2");
  close_client(loop, &c);

  /* No overlap: refused with no_application_protocol. */
  const char *const other[] = {"spdy/3", NULL};
  o.alpn = other;
  run_client(loop, &c, srv.port, &o);
  cr_assert_eq(c.status, WIRE_ETLS);
  cr_assert_not_null(strstr(c.reason, "no application protocol"), "%s",
                     c.reason);
  close_client(loop, &c);

  /* No ALPN offered: none chosen. */
  o.alpn = NULL;
  run_client(loop, &c, srv.port, &o);
  cr_assert_eq(c.status, 0);
  cr_assert_null(wire_tls_alpn(c.s));
  close_client(loop, &c);
  wire_tls_ctx_free(o.ctx);
  t_srv_stop(&srv);
  t_certs_free(&k);
  h_loop_done(loop);
}

static wire_tls_ctx_t *g_other_ctx;
static char g_sni_seen[64];

static wire_tls_ctx_t *pick(const char *name, void *arg)
{
  (void)arg;
  snprintf(g_sni_seen, sizeof(g_sni_seen), "%s", name);
  return strcmp(name, "other.test") == 0 ? g_other_ctx : NULL;
}

Test(tls_features, sni_callback_chooses_context)
{
  wire_loop_t *loop = h_loop_new();
  t_certs_t k;
  t_certs(&k);
  wire_cert_t other;
  t_make(&other, WIRE_CERT_SERVER, &k.ca, NULL, "other.test", NULL);
  g_other_ctx = t_ctx(&other, NULL);
  wire_tls_server_opts_t so = WIRE_TLS_SERVER_OPTS_INIT;
  so.ctx = t_ctx(&k.server, NULL);
  so.sni = pick;
  t_srv_t srv;
  t_srv_start(&srv, loop, &so);
  wire_tls_ctx_free(so.ctx);

  wire_tls_connect_opts_t o = WIRE_TLS_CONNECT_OPTS_INIT;
  o.ctx = t_ctx(NULL, &k.ca);
  o.servername = "other.test";
  t_cli_t c;
  run_client(loop, &c, srv.port, &o);
  cr_assert_eq(c.status, 0, "%s", c.reason);
  wire_tls_cert_info_t ci;
  cr_assert_eq(wire_tls_peer_cert(c.s, &ci), 0);
  cr_assert_str_eq(ci.cn, "other.test");
  cr_assert_str_eq(g_sni_seen, "other.test");
  H_RUN_UNTIL(loop, srv.secure == 1);
  cr_assert_str_eq(srv.sni, "other.test");
  close_client(loop, &c);

  o.servername = "localhost"; /* the default context */
  run_client(loop, &c, srv.port, &o);
  cr_assert_eq(c.status, 0);
  cr_assert_eq(wire_tls_peer_cert(c.s, &ci), 0);
  cr_assert_str_eq(ci.cn, "localhost");
  close_client(loop, &c);
  wire_tls_ctx_free(o.ctx);
  wire_tls_ctx_free(g_other_ctx);
  wire_cert_free(&other);
  t_srv_stop(&srv);
  t_certs_free(&k);
  h_loop_done(loop);
}

static unsigned char g_sess[4096];
static size_t g_sess_len;

static void keep_session(wire_socket_t *s, const void *der, size_t len, void *d)
{
  (void)s, (void)d;
  cr_assert_leq(len, sizeof(g_sess));
  memcpy(g_sess, der, len);
  g_sess_len = len;
}

Test(tls_features, session_resumption)
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
  run_client(loop, &c, srv.port, &o);
  wire_tls_on_session(c.s, keep_session);
  cr_assert_eq(wire_tls_session_reused(c.s), 0);
  /* TLS 1.3 tickets come after the handshake, with the first reads. */
  wire_socket_write(c.s, "x", 1);
  H_RUN_UNTIL(loop, g_sess_len > 0 && c.got.len == 1);
  close_client(loop, &c);

  o.session = g_sess;
  o.session_len = g_sess_len;
  run_client(loop, &c, srv.port, &o);
  cr_assert_eq(c.status, 0);
  cr_assert_eq(wire_tls_session_reused(c.s), 1);
  H_RUN_UNTIL(loop, srv.secure == 2);
  cr_assert_eq(srv.reused, 1);
  int n = wire_tls_get_session(c.s, NULL, 0);
  cr_assert_gt(n, 0);
  cr_assert_eq(wire_tls_get_session(c.s, g_sess, 1), WIRE_ENOBUFS);
  close_client(loop, &c);

  /* A session that does not parse: a full handshake, no error. */
  o.session = "junk";
  o.session_len = 4;
  run_client(loop, &c, srv.port, &o);
  cr_assert_eq(c.status, 0);
  cr_assert_eq(wire_tls_session_reused(c.s), 0);
  close_client(loop, &c);
  wire_tls_ctx_free(o.ctx);
  t_srv_stop(&srv);
  t_certs_free(&k);
  h_loop_done(loop);
}

/* Connects twice over TLS 1.2 (where the session comes within the
 * handshake) to a server whose context has no_session_resumption as
 * given, offering the first session on the second connection; returns
 * whether it was resumed. */
static int resumed_against(wire_loop_t *loop, t_certs_t *k, int no_resume)
{
  wire_tls_ctx_opts_t xo = WIRE_TLS_CTX_OPTS_INIT;
  xo.key_pem = k->server.key_pem;
  xo.cert_pem = k->server.cert_pem;
  xo.no_default_ca = 1;
  xo.no_session_resumption = no_resume;
  wire_tls_ctx_t *sctx;
  cr_assert_eq(wire_tls_ctx_new(&xo, &sctx), 0);
  wire_tls_server_opts_t so = WIRE_TLS_SERVER_OPTS_INIT;
  so.ctx = sctx;
  t_srv_t srv;
  t_srv_start(&srv, loop, &so);
  wire_tls_ctx_free(sctx);
  wire_tls_ctx_opts_t co = WIRE_TLS_CTX_OPTS_INIT;
  co.ca_pem = k->ca.cert_pem;
  co.no_default_ca = 1;
  co.max_version = WIRE_TLS_1_2;
  wire_tls_ctx_t *cctx;
  cr_assert_eq(wire_tls_ctx_new(&co, &cctx), 0);
  wire_tls_connect_opts_t o = WIRE_TLS_CONNECT_OPTS_INIT;
  o.ctx = cctx;
  o.servername = "localhost";
  t_cli_t c;
  run_client(loop, &c, srv.port, &o);
  cr_assert_eq(c.status, 0);
  static char sess[16384];
  int n = wire_tls_get_session(c.s, sess, sizeof(sess));
  cr_assert_gt(n, 0);
  close_client(loop, &c);
  o.session = sess;
  o.session_len = (size_t)n;
  run_client(loop, &c, srv.port, &o);
  cr_assert_eq(c.status, 0);
  int reused = wire_tls_session_reused(c.s);
  close_client(loop, &c);
  wire_tls_ctx_free(cctx);
  t_srv_stop(&srv);
  return reused;
}

Test(tls_features, session_resumption_can_be_turned_off)
{
  wire_loop_t *loop = h_loop_new();
  t_certs_t k;
  t_certs(&k);
  cr_assert_eq(resumed_against(loop, &k, 0), 1); /* the control */
  cr_assert_eq(resumed_against(loop, &k, 1), 0);
  t_certs_free(&k);
  h_loop_done(loop);
}

Test(tls_features, reload_certificate)
{
  wire_loop_t *loop = h_loop_new();
  t_certs_t k;
  t_certs(&k);
  wire_tls_ctx_t *ctx = t_ctx(&k.server, NULL);
  wire_tls_server_opts_t so = WIRE_TLS_SERVER_OPTS_INIT;
  so.ctx = ctx;
  t_srv_t srv;
  t_srv_start(&srv, loop, &so);
  wire_tls_connect_opts_t o = WIRE_TLS_CONNECT_OPTS_INIT;
  o.ctx = t_ctx(NULL, &k.ca);
  o.servername = "localhost";
  t_cli_t c1;
  run_client(loop, &c1, srv.port, &o);
  wire_tls_cert_info_t a, b;
  cr_assert_eq(wire_tls_peer_cert(c1.s, &a), 0);

  wire_cert_t fresh;
  t_make(&fresh, WIRE_CERT_SERVER, &k.ca, "renewed", "localhost", NULL);
  wire_tls_ctx_opts_t co = WIRE_TLS_CTX_OPTS_INIT;
  co.key_pem = k.client.key_pem; /* a key that does not match: refused */
  co.cert_pem = fresh.cert_pem;
  cr_assert_eq(wire_tls_ctx_set_cert(ctx, &co), WIRE_ETLS);
  cr_assert_not_null(strstr(wire_tls_errstr(), "does not match"), "%s",
                     wire_tls_errstr());
  co.key_pem = fresh.key_pem;
  cr_assert_eq(wire_tls_ctx_set_cert(ctx, &co), 0);

  t_cli_t c2;
  run_client(loop, &c2, srv.port, &o);
  cr_assert_eq(c2.status, 0);
  cr_assert_eq(wire_tls_peer_cert(c2.s, &b), 0);
  cr_assert_str_eq(b.cn, "renewed");
  cr_assert_str_neq(a.fingerprint256, b.fingerprint256);
  /* The open connection keeps working on its old certificate. */
  wire_socket_write(c1.s, "still", 5);
  wire_tls_ctx_free(ctx);
  close_client(loop, &c1);
  close_client(loop, &c2);
  wire_tls_ctx_free(o.ctx);
  wire_cert_free(&fresh);
  t_srv_stop(&srv);
  t_certs_free(&k);
  h_loop_done(loop);
}

Test(tls_features, files_and_errors)
{
  char dir[] = "/tmp/wire-tls-XXXXXX";
  cr_assert_not_null(mkdtemp(dir));
  t_certs_t k;
  t_certs(&k);
  char ca[64], srvp[64], path[80];
  snprintf(ca, sizeof(ca), "%s/ca", dir);
  snprintf(srvp, sizeof(srvp), "%s/server", dir);
  cr_assert_eq(wire_cert_save(&k.ca, ca), 0);
  cr_assert_eq(wire_cert_save(&k.server, srvp), 0);
  struct stat st;
  snprintf(path, sizeof(path), "%s.key", srvp);
  cr_assert_eq(stat(path, &st), 0);
  cr_assert_eq(st.st_mode & 0777, 0600);
  wire_cert_t back;
  cr_assert_eq(wire_cert_load(srvp, &back), 0);
  cr_assert_str_eq(back.cert_pem, k.server.cert_pem);
  wire_cert_free(&back);

  char key[80], crt[80], cacrt[80];
  snprintf(key, sizeof(key), "%s.key", srvp);
  snprintf(crt, sizeof(crt), "%s.crt", srvp);
  snprintf(cacrt, sizeof(cacrt), "%s.crt", ca);
  wire_tls_ctx_opts_t o = WIRE_TLS_CTX_OPTS_INIT;
  o.key_file = key;
  o.cert_file = crt;
  o.ca_file = cacrt;
  wire_tls_ctx_t *ctx;
  cr_assert_eq(wire_tls_ctx_new(&o, &ctx), 0);
  wire_tls_ctx_free(ctx);

  o.ca_file = "/nonexistent/ca.crt";
  cr_assert_eq(wire_tls_ctx_new(&o, &ctx), WIRE_ENOENT);
  o.ca_file = key; /* not a certificate */
  cr_assert_eq(wire_tls_ctx_new(&o, &ctx), WIRE_ETLS);
  cr_assert_str_eq(wire_tls_errstr(), "ca: no start line");
  o.ca_file = NULL;
  o.cert_file = NULL; /* a key without a certificate */
  cr_assert_eq(wire_tls_ctx_new(&o, &ctx), WIRE_EINVAL);
  o.cert_file = crt;
  o.ciphers = "NO-SUCH-CIPHER";
  cr_assert_eq(wire_tls_ctx_new(&o, &ctx), WIRE_ETLS);

  /* An encrypted key: the passphrase is needed, and must be right. */
  wire_tls_ctx_opts_t e = WIRE_TLS_CTX_OPTS_INIT;
  e.cert_pem = k.server.cert_pem;
  e.key_pem = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n"
              "-----END ENCRYPTED PRIVATE KEY-----\n";
  cr_assert_eq(wire_tls_ctx_new(&e, &ctx), WIRE_ETLS);

  wire_cert_opts_t co = WIRE_CERT_OPTS_INIT;
  co.kind = WIRE_CERT_SERVER; /* no SAN */
  wire_cert_t bad;
  cr_assert_eq(wire_cert_make_signed(&co, &k.ca, &bad), WIRE_EINVAL);
  co.kind = WIRE_CERT_CA;
  co.rsa_bits = 1024; /* too weak */
  cr_assert_eq(wire_cert_make_ca(&co, &bad), WIRE_EINVAL);

  snprintf(path, sizeof(path), "%s.key", ca);
  unlink(path);
  snprintf(path, sizeof(path), "%s.crt", ca);
  unlink(path);
  unlink(key);
  unlink(crt);
  rmdir(dir);
  t_certs_free(&k);
}

Test(tls_features, rsa_certificates)
{
  wire_loop_t *loop = h_loop_new();
  wire_cert_opts_t co = WIRE_CERT_OPTS_INIT;
  co.rsa_bits = 2048;
  wire_cert_t ca, server;
  cr_assert_eq(wire_cert_make_ca(&co, &ca), 0);
  const char *sans[] = {"localhost"};
  co.kind = WIRE_CERT_SERVER;
  co.sans = sans;
  co.nsans = 1;
  cr_assert_eq(wire_cert_make_signed(&co, &ca, &server), 0);
  wire_tls_server_opts_t so = WIRE_TLS_SERVER_OPTS_INIT;
  so.ctx = t_ctx(&server, NULL);
  t_srv_t srv;
  t_srv_start(&srv, loop, &so);
  wire_tls_ctx_free(so.ctx);
  wire_tls_connect_opts_t o = WIRE_TLS_CONNECT_OPTS_INIT;
  o.ctx = t_ctx(NULL, &ca);
  o.servername = "localhost";
  t_cli_t c;
  run_client(loop, &c, srv.port, &o);
  cr_assert_eq(c.status, 0, "%s", c.reason);
  cr_assert_eq(wire_tls_authorized(c.s), 1);
  close_client(loop, &c);
  wire_tls_ctx_free(o.ctx);
  t_srv_stop(&srv);
  wire_cert_free(&ca);
  wire_cert_free(&server);
  h_loop_done(loop);
}
