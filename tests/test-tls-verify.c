/* Verification, each way: mutual TLS, and each bad path a clear error
 * with the connection closed and the server still serving. */
#include "test-tls.h"

typedef struct {
  wire_loop_t *loop;
  t_certs_t k;
  t_srv_t srv;
} fx_t;

static void fx_open(fx_t *f, int request_cert, int reject,
                    const wire_cert_t *server_cert)
{
  f->loop = h_loop_new();
  t_certs(&f->k);
  wire_tls_server_opts_t so = WIRE_TLS_SERVER_OPTS_INIT;
  so.ctx = t_ctx(server_cert != NULL ? server_cert : &f->k.server, &f->k.ca);
  so.request_cert = request_cert;
  so.reject_unauthorized = reject;
  t_srv_start(&f->srv, f->loop, &so);
  f->srv.echo = 1;
  wire_tls_ctx_free(so.ctx);
}

static void fx_close(fx_t *f)
{
  t_srv_stop(&f->srv);
  h_sink_free(&f->srv.got);
  t_certs_free(&f->k);
  h_loop_done(f->loop);
}

/* A client with cert (may be NULL) trusting ca; runs until closed or
 * handshaken. */
static void connect_with(fx_t *f, t_cli_t *c, const wire_cert_t *cert,
                         const wire_cert_t *ca, const char *servername,
                         int reject)
{
  wire_tls_connect_opts_t o = WIRE_TLS_CONNECT_OPTS_INIT;
  o.ctx = t_ctx(cert, ca);
  o.servername = servername;
  o.reject_unauthorized = reject;
  t_cli_connect(c, f->loop, f->srv.port, &o);
  wire_tls_ctx_free(o.ctx);
  H_RUN_UNTIL(f->loop, c->hs == 1);
}

/* The server still serves a good client after a bad one. */
static void still_serving(fx_t *f, const wire_cert_t *cert)
{
  t_cli_t c;
  int before = f->srv.secure;
  connect_with(f, &c, cert, &f->k.ca, "localhost", 1);
  cr_assert_eq(c.status, 0, "good client: %s %s", wire_err_name(c.status),
               c.reason);
  wire_socket_write(c.s, "ping", 4);
  H_RUN_UNTIL(f->loop, c.got.len == 4);
  wire_socket_close(c.s, NULL);
  H_RUN_UNTIL(f->loop, c.closed == 1);
  cr_assert_eq(f->srv.secure, before + 1);
  h_sink_free(&c.got);
}

Test(tls_verify, mutual_tls_authorized)
{
  fx_t f;
  fx_open(&f, 1, 1, NULL);
  t_cli_t c;
  connect_with(&f, &c, &f.k.client, &f.k.ca, "localhost", 1);
  cr_assert_eq(c.status, 0);
  H_RUN_UNTIL(f.loop, f.srv.secure == 1);
  cr_assert_eq(f.srv.authorized, 1);
  cr_assert_str_eq(f.srv.authz, "");
  wire_tls_cert_info_t ci;
  cr_assert_eq(wire_tls_peer_cert(f.srv.last, &ci), 0);
  cr_assert_str_eq(ci.cn, "alice");
  wire_socket_close(c.s, NULL);
  H_RUN_UNTIL(f.loop, c.closed == 1 && f.srv.closed == 1);
  fx_close(&f);
}

Test(tls_verify, client_cert_missing_rejected)
{
  fx_t f;
  fx_open(&f, 1, 1, NULL);
  t_cli_t c;
  connect_with(&f, &c, NULL, &f.k.ca, "localhost", 1);
  /* TLS 1.3: the client's side of the handshake is over before the
   * server judges its (absent) certificate; the alert arrives after. */
  H_RUN_UNTIL(f.loop, c.closed == 1 && f.srv.client_errors == 1);
  cr_assert_eq(f.srv.secure, 0);
  cr_assert_eq(f.srv.last_err, WIRE_ETLS);
  cr_assert_str_eq(f.srv.reason, "peer did not return a certificate");
  cr_assert(c.errors == 1 || c.status < 0);
  cr_assert_eq(c.err, WIRE_ETLS, "client: %s", wire_err_name(c.err));
  cr_assert_not_null(strstr(c.reason, "certificate required"), "%s", c.reason);
  still_serving(&f, &f.k.client);
  fx_close(&f);
}

Test(tls_verify, client_cert_missing_allowed_unauthorized)
{
  fx_t f;
  fx_open(&f, 1, 0, NULL);
  t_cli_t c;
  connect_with(&f, &c, NULL, &f.k.ca, "localhost", 1);
  cr_assert_eq(c.status, 0);
  H_RUN_UNTIL(f.loop, f.srv.secure == 1);
  cr_assert_eq(f.srv.authorized, 0);
  cr_assert_str_eq(f.srv.authz, "peer did not return a certificate");
  wire_socket_close(c.s, NULL);
  H_RUN_UNTIL(f.loop, c.closed == 1 && f.srv.closed == 1);
  fx_close(&f);
}

Test(tls_verify, client_cert_from_unknown_ca)
{
  fx_t f;
  fx_open(&f, 1, 0, NULL);
  wire_cert_t other_ca, mallory;
  t_make(&other_ca, WIRE_CERT_CA, NULL, "other CA", NULL, NULL);
  t_make(&mallory, WIRE_CERT_CLIENT, &other_ca, "mallory", NULL, NULL);
  t_cli_t c;
  connect_with(&f, &c, &mallory, &f.k.ca, "localhost", 1);
  cr_assert_eq(c.status, 0);
  H_RUN_UNTIL(f.loop, f.srv.secure == 1);
  cr_assert_eq(f.srv.authorized, 0);
  cr_assert_str_eq(f.srv.authz, "unable to verify the first certificate");
  wire_socket_close(c.s, NULL);
  H_RUN_UNTIL(f.loop, c.closed == 1 && f.srv.closed == 1);
  wire_cert_free(&other_ca);
  wire_cert_free(&mallory);
  fx_close(&f);
}

Test(tls_verify, unknown_ca)
{
  fx_t f;
  fx_open(&f, 0, 1, NULL);
  wire_cert_t other_ca;
  t_make(&other_ca, WIRE_CERT_CA, NULL, "other CA", NULL, NULL);
  t_cli_t c;
  connect_with(&f, &c, NULL, &other_ca, "localhost", 1);
  cr_assert_eq(c.status, WIRE_ETLS);
  cr_assert_str_eq(c.reason, "certificate verify failed: unable to get "
                             "local issuer certificate");
  H_RUN_UNTIL(f.loop, c.closed == 1 && f.srv.client_errors == 1);
  cr_assert_eq(c.errors, 1);
  /* The server heard why: our alert reached it. */
  cr_assert_not_null(strstr(f.srv.reason, "unknown ca"), "%s", f.srv.reason);
  still_serving(&f, NULL);
  wire_cert_free(&other_ca);
  fx_close(&f);
}

Test(tls_verify, unknown_ca_not_rejected)
{
  fx_t f;
  fx_open(&f, 0, 1, NULL);
  wire_cert_t other_ca;
  t_make(&other_ca, WIRE_CERT_CA, NULL, "other CA", NULL, NULL);
  t_cli_t c;
  connect_with(&f, &c, NULL, &other_ca, "localhost", 0);
  cr_assert_eq(c.status, 0);
  cr_assert_eq(wire_tls_authorized(c.s), 0);
  cr_assert_str_eq(wire_tls_authorization_error(c.s),
                   "unable to verify the first certificate");
  wire_socket_close(c.s, NULL);
  H_RUN_UNTIL(f.loop, c.closed == 1);
  wire_cert_free(&other_ca);
  fx_close(&f);
}

Test(tls_verify, hostname_mismatch)
{
  fx_t f;
  fx_open(&f, 0, 1, NULL);
  t_cli_t c;
  connect_with(&f, &c, NULL, &f.k.ca, "example.com", 1);
  cr_assert_eq(c.status, WIRE_ETLS);
  cr_assert_str_eq(c.reason, "certificate verify failed: hostname mismatch");
  H_RUN_UNTIL(f.loop, c.closed == 1 && f.srv.client_errors == 1);
  still_serving(&f, NULL);
  fx_close(&f);
}

Test(tls_verify, expired_certificate)
{
  wire_cert_t ca, old;
  t_make(&ca, WIRE_CERT_CA, NULL, NULL, NULL, NULL);
  wire_cert_opts_t o = WIRE_CERT_OPTS_INIT;
  const char *sans[] = {"localhost"};
  o.kind = WIRE_CERT_SERVER;
  o.sans = sans;
  o.nsans = 1;
  o.days = 1;
  o.start_offset_s = -10 * 86400;
  cr_assert_eq(wire_cert_make_signed(&o, &ca, &old), 0);
  fx_t f;
  f.loop = h_loop_new();
  f.k.ca = ca;
  f.k.server = old;
  memset(&f.k.client, 0, sizeof(f.k.client));
  wire_tls_server_opts_t so = WIRE_TLS_SERVER_OPTS_INIT;
  so.ctx = t_ctx(&old, NULL);
  t_srv_start(&f.srv, f.loop, &so);
  wire_tls_ctx_free(so.ctx);
  t_cli_t c;
  connect_with(&f, &c, NULL, &ca, "localhost", 1);
  cr_assert_eq(c.status, WIRE_ETLS);
  cr_assert_str_eq(c.reason, "certificate verify failed: certificate has "
                             "expired");
  H_RUN_UNTIL(f.loop, c.closed == 1 && f.srv.client_errors == 1);
  cr_assert_not_null(strstr(f.srv.reason, "certificate expired"), "%s",
                     f.srv.reason);
  fx_close(&f);
}

/* ---- raw bytes at a TLS server ----------------------------------------- */

typedef struct {
  int connected;
  int closed;
  int ended;
  h_sink_t got;
} raw_t;

static void raw_conn(wire_socket_t *s, int status, void *arg)
{
  (void)s;
  cr_assert_eq(status, 0);
  ((raw_t *)arg)->connected = 1;
}
static void raw_data(wire_socket_t *s, const char *b, size_t n, void *d)
{
  (void)s;
  h_sink_add(&((raw_t *)d)->got, b, n);
}
static void raw_end(wire_socket_t *s, void *d)
{
  (void)s;
  ((raw_t *)d)->ended = 1;
}
static void raw_close(wire_socket_t *s, int he, void *d)
{
  (void)s, (void)he;
  ((raw_t *)d)->closed = 1;
}

static wire_socket_t *raw_connect(fx_t *f, raw_t *r)
{
  memset(r, 0, sizeof(*r));
  wire_connect_opts_t o = WIRE_CONNECT_OPTS_INIT;
  o.host = "127.0.0.1";
  o.port = f->srv.port;
  wire_socket_t *s;
  cr_assert_eq(wire_socket_connect(f->loop, &o, raw_conn, r, &s), 0);
  wire_socket_set_data(s, r);
  wire_socket_on_data(s, raw_data);
  wire_socket_on_end(s, raw_end);
  wire_socket_on_close(s, raw_close);
  return s;
}

Test(tls_verify, plain_http_to_tls_port)
{
  fx_t f;
  fx_open(&f, 0, 1, NULL);
  raw_t r;
  wire_socket_t *s = raw_connect(&f, &r);
  const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  wire_socket_write(s, req, sizeof(req) - 1);
  H_RUN_UNTIL(f.loop, r.closed == 1 && f.srv.client_errors == 1);
  cr_assert_eq(f.srv.last_err, WIRE_ETLS);
  cr_assert_str_eq(f.srv.reason, "http request");
  cr_assert_eq(f.srv.secure, 0);
  h_sink_free(&r.got);
  H_RUN_UNTIL(f.loop, wire_tls_server_connections(f.srv.srv) == 0);
  still_serving(&f, NULL);
  fx_close(&f);
}

Test(tls_verify, handshake_cut_off)
{
  fx_t f;
  fx_open(&f, 0, 1, NULL);
  raw_t r;
  wire_socket_t *s = raw_connect(&f, &r);
  /* A handshake record header that promises 512 bytes, and 3 of them. */
  wire_socket_write(s, "\x16\x03\x01\x02\x00\x01\x00\x01", 8);
  wire_socket_end(s);
  H_RUN_UNTIL(f.loop, r.closed == 1 && f.srv.client_errors == 1);
  cr_assert_eq(f.srv.last_err, WIRE_ECONNRESET);
  cr_assert_str_eq(f.srv.reason, "connection closed during the handshake");
  h_sink_free(&r.got);
  still_serving(&f, NULL);
  fx_close(&f);
}

Test(tls_verify, handshake_timeout)
{
  wire_loop_t *loop = h_loop_new();
  fx_t f;
  f.loop = loop;
  t_certs(&f.k);
  wire_tls_server_opts_t so = WIRE_TLS_SERVER_OPTS_INIT;
  so.ctx = t_ctx(&f.k.server, NULL);
  so.handshake_timeout_ms = 100;
  t_srv_start(&f.srv, loop, &so);
  wire_tls_ctx_free(so.ctx);
  raw_t r;
  raw_connect(&f, &r); /* says nothing */
  H_RUN_UNTIL(loop, r.closed == 1 && f.srv.client_errors == 1);
  cr_assert_eq(f.srv.last_err, WIRE_ETIMEDOUT);
  cr_assert_str_eq(f.srv.reason, "handshake timed out");
  fx_close(&f);
}

/* Garbage on the wire after the handshake: written under the TLS layer
 * of a wrapped client socket. */
static void wrapped_hs(wire_socket_t *s, int status, void *arg)
{
  (void)s;
  cr_assert_eq(status, 0);
  *(int *)arg = 1;
}

static int g_errors;
static void count_error(wire_socket_t *s, int err, void *d)
{
  (void)s, (void)d, (void)err;
  g_errors++;
}

Test(tls_verify, garbage_after_handshake)
{
  fx_t f;
  fx_open(&f, 0, 1, NULL);
  raw_t r;
  wire_socket_t *lower = raw_connect(&f, &r);
  wire_tls_connect_opts_t o = WIRE_TLS_CONNECT_OPTS_INIT;
  o.ctx = t_ctx(NULL, &f.k.ca);
  o.servername = "localhost";
  int done = 0;
  wire_socket_t *ts;
  cr_assert_eq(wire_tls_wrap(lower, &o, wrapped_hs, &done, &ts), 0);
  wire_tls_ctx_free(o.ctx);
  raw_t tr;
  memset(&tr, 0, sizeof(tr));
  wire_socket_set_data(ts, &tr);
  wire_socket_on_error(ts, count_error);
  wire_socket_on_close(ts, raw_close);
  H_RUN_UNTIL(f.loop, done == 1 && f.srv.secure == 1);
  wire_socket_t *victim = f.srv.last;
  wire_socket_on_error(victim, count_error);
  wire_socket_write(lower, "\x17\x03\x03\x00\x05garbage!", 13);
  /* The server fails the socket (bad record) and its alert fails ours. */
  H_RUN_UNTIL(f.loop, f.srv.closed == 1 && tr.closed == 1);
  cr_assert_eq(g_errors, 2);
  cr_assert_eq(f.srv.got.len, 0);
  still_serving(&f, NULL);
  fx_close(&f);
}

Test(tls_verify, old_protocols_refused)
{
  wire_tls_ctx_opts_t o = WIRE_TLS_CTX_OPTS_INIT;
  wire_tls_ctx_t *ctx;
  o.min_version = 0x0302; /* TLS 1.1 */
  cr_assert_eq(wire_tls_ctx_new(&o, &ctx), WIRE_EINVAL);
  o.min_version = 0x0301;
  cr_assert_eq(wire_tls_ctx_new(&o, &ctx), WIRE_EINVAL);
}
