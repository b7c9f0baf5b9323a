/* Shared setup for the TLS suites: certificates made with wire's own
 * certgen (in memory), contexts from them, and a TLS server on 127.0.0.1
 * port 0 that records what happens to its connections. */
#ifndef WIRE_TESTS_TLS_H
#define WIRE_TESTS_TLS_H

#include "helpers.h"

typedef struct {
  wire_cert_t ca;
  wire_cert_t server; /* SANs localhost, 127.0.0.1 */
  wire_cert_t client; /* CN alice */
} t_certs_t;

static inline void t_make(wire_cert_t *out, int kind, const wire_cert_t *ca,
                          const char *cn, const char *san1, const char *san2)
{
  wire_cert_opts_t o = WIRE_CERT_OPTS_INIT;
  const char *sans[2] = {san1, san2};
  o.kind = kind;
  o.cn = cn;
  o.sans = sans;
  o.nsans = san1 == NULL ? 0 : san2 == NULL ? 1 : 2;
  int err = kind == WIRE_CERT_CA ? wire_cert_make_ca(&o, out)
                                 : wire_cert_make_signed(&o, ca, out);
  cr_assert_eq(err, 0, "certgen: %s %s", wire_err_name(err), wire_tls_errstr());
}

static inline void t_certs(t_certs_t *c)
{
  memset(c, 0, sizeof(*c));
  t_make(&c->ca, WIRE_CERT_CA, NULL, NULL, NULL, NULL);
  t_make(&c->server, WIRE_CERT_SERVER, &c->ca, NULL, "localhost", "127.0.0.1");
  t_make(&c->client, WIRE_CERT_CLIENT, &c->ca, "alice", NULL, NULL);
}

static inline void t_certs_free(t_certs_t *c)
{
  wire_cert_free(&c->ca);
  wire_cert_free(&c->server);
  wire_cert_free(&c->client);
}

/* A context with key/cert (may be NULL) trusting ca (may be NULL). */
static inline wire_tls_ctx_t *t_ctx(const wire_cert_t *me,
                                    const wire_cert_t *ca)
{
  wire_tls_ctx_opts_t o = WIRE_TLS_CTX_OPTS_INIT;
  if (me != NULL) {
    o.key_pem = me->key_pem;
    o.cert_pem = me->cert_pem;
  }
  if (ca != NULL)
    o.ca_pem = ca->cert_pem;
  o.no_default_ca = 1;
  wire_tls_ctx_t *ctx = NULL;
  int err = wire_tls_ctx_new(&o, &ctx);
  cr_assert_eq(err, 0, "ctx: %s %s", wire_err_name(err), wire_tls_errstr());
  return ctx;
}

/* ---- a recording server ------------------------------------------------ */

typedef struct {
  wire_tls_server_t *srv;
  int port;
  int secure;        /* secure connections seen */
  int client_errors; /* tlsClientError events */
  int last_err;
  char reason[256];
  int authorized;
  char authz[256];
  char alpn[32];
  char sni[64];
  int reused;
  int closed;   /* server sockets closed */
  int echo;     /* echo data back */
  h_sink_t got; /* bytes received by server sockets */
  int ended;
  wire_socket_t *last;
} t_srv_t;

static inline void t_srv_data(wire_socket_t *s, const char *b, size_t n,
                              void *d)
{
  t_srv_t *t = d;
  h_sink_add(&t->got, b, n);
  if (t->echo)
    wire_socket_write(s, b, n);
}

static inline void t_srv_end(wire_socket_t *s, void *d)
{
  (void)s;
  ((t_srv_t *)d)->ended++;
}

static inline void t_srv_close(wire_socket_t *s, int had_error, void *d)
{
  (void)had_error;
  t_srv_t *t = d;
  t->closed++;
  if (t->last == s)
    t->last = NULL;
}

static inline void t_srv_secure(wire_tls_server_t *srv, wire_socket_t *s,
                                void *d)
{
  (void)srv;
  t_srv_t *t = d;
  t->secure++;
  t->last = s;
  t->authorized = wire_tls_authorized(s);
  const char *a = wire_tls_authorization_error(s);
  snprintf(t->authz, sizeof(t->authz), "%s", a ? a : "");
  const char *p = wire_tls_alpn(s);
  snprintf(t->alpn, sizeof(t->alpn), "%s", p ? p : "");
  p = wire_tls_servername(s);
  snprintf(t->sni, sizeof(t->sni), "%s", p ? p : "");
  t->reused = wire_tls_session_reused(s);
  wire_socket_set_data(s, t);
  wire_socket_on_data(s, t_srv_data);
  wire_socket_on_end(s, t_srv_end);
  wire_socket_on_close(s, t_srv_close);
}

static inline void t_srv_client_error(wire_tls_server_t *srv, int err,
                                      const char *reason,
                                      const wire_addr_t *remote, void *d)
{
  (void)srv, (void)remote;
  t_srv_t *t = d;
  t->client_errors++;
  t->last_err = err;
  snprintf(t->reason, sizeof(t->reason), "%s", reason ? reason : "");
}

/* Starts a server on 127.0.0.1 port 0 with o (ctx set by the caller). */
static inline void t_srv_start(t_srv_t *t, wire_loop_t *loop,
                               const wire_tls_server_opts_t *o)
{
  memset(t, 0, sizeof(*t));
  cr_assert_eq(wire_tls_server_create(loop, o, t_srv_secure, &t->srv), 0);
  wire_tls_server_set_data(t->srv, t);
  wire_tls_server_on_client_error(t->srv, t_srv_client_error);
  cr_assert_eq(wire_tls_server_listen(t->srv, "127.0.0.1", 0, NULL), 0);
  wire_addr_t a;
  cr_assert_eq(wire_tls_server_address(t->srv, &a), 0);
  t->port = a.port;
}

/* A server with default options on me's certificate; echo: it echoes. */
static inline void t_srv_start_cert(t_srv_t *t, wire_loop_t *loop,
                                    const wire_cert_t *me, int echo)
{
  wire_tls_server_opts_t so = WIRE_TLS_SERVER_OPTS_INIT;
  so.ctx = t_ctx(me, NULL);
  t_srv_start(t, loop, &so);
  t->echo = echo;
  wire_tls_ctx_free(so.ctx);
}

static inline void t_srv_stop(t_srv_t *t)
{
  wire_tls_server_close_connections(t->srv);
  wire_tls_server_close(t->srv, NULL);
  t->srv = NULL;
  h_sink_free(&t->got);
}

/* ---- a recording client ------------------------------------------------ */

typedef struct {
  wire_socket_t *s;
  int hs;     /* handshake callbacks */
  int status; /* its status */
  int errors;
  int err;
  char reason[256];
  int closed;
  int ended;
  h_sink_t got;
} t_cli_t;

static inline void t_cli_hs(wire_socket_t *s, int status, void *arg)
{
  t_cli_t *c = arg;
  c->hs++;
  c->status = status;
  if (status < 0) {
    const char *r = wire_tls_last_error(s);
    snprintf(c->reason, sizeof(c->reason), "%s", r ? r : "");
  }
}

static inline void t_cli_data(wire_socket_t *s, const char *b, size_t n,
                              void *d)
{
  (void)s;
  h_sink_add(&((t_cli_t *)d)->got, b, n);
}

static inline void t_cli_end(wire_socket_t *s, void *d)
{
  (void)s;
  ((t_cli_t *)d)->ended++;
}

static inline void t_cli_error(wire_socket_t *s, int err, void *d)
{
  t_cli_t *c = d;
  c->errors++;
  c->err = err;
  const char *r = wire_tls_last_error(s);
  snprintf(c->reason, sizeof(c->reason), "%s", r ? r : "");
}

static inline void t_cli_close(wire_socket_t *s, int had_error, void *d)
{
  (void)s, (void)had_error;
  t_cli_t *c = d;
  c->closed++;
  c->s = NULL;
}

/* Connects to 127.0.0.1:port with o's TLS options (net host/port set
 * here; servername defaults to "localhost" when o has none). */
static inline void t_cli_connect(t_cli_t *c, wire_loop_t *loop, int port,
                                 const wire_tls_connect_opts_t *o)
{
  memset(c, 0, sizeof(*c));
  wire_tls_connect_opts_t co = *o;
  co.net.host = "127.0.0.1";
  co.net.port = port;
  cr_assert_eq(wire_tls_connect(loop, &co, t_cli_hs, c, &c->s), 0);
  wire_socket_set_data(c->s, c);
  wire_socket_on_data(c->s, t_cli_data);
  wire_socket_on_end(c->s, t_cli_end);
  wire_socket_on_error(c->s, t_cli_error);
  wire_socket_on_close(c->s, t_cli_close);
}

#endif
