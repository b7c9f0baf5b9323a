/* HTTPS, wire against wire: the HTTPS server (wire_https_server_*) and the
 * client over TLS (o.tls, the agent's context, servername,
 * reject_unauthorized): mutual TLS, session resumption seen by the
 * server, pooling within max_sockets, origins kept apart by their TLS
 * options, the client's bad paths (unknown CA, host name mismatch, both
 * accepted with reject_unauthorized off), https:// URLs, and the server's
 * close. Peers other than wire are in tests/peers/https-*.test.sh. */
#include "test-http-client.h"
#include "test-tls.h"

typedef struct {
  wire_loop_t *loop;
  t_certs_t k;
  wire_https_server_t *srv;
  int port;
  int requests;
  int conns;      /* HTTP connections, i.e. completed handshakes */
  int reused;     /* requests on a resumed TLS session */
  int authorized; /* requests whose client certificate verified */
  int tls_errors; /* tlsClientError events */
  int closed;
} hx_t;

static void hx_request(wire_http_server_t *s, wire_http_req_t *req,
                       wire_http_res_t *res, void *data)
{
  (void)s;
  hx_t *x = data;
  wire_socket_t *sock = wire_http_req_socket(req);
  cr_assert_eq(wire_tls_encrypted(sock), 1);
  x->requests++;
  x->reused += wire_tls_session_reused(sock);
  x->authorized += wire_tls_authorized(sock);
  wire_http_res_write_head(res, 200, NULL);
  wire_http_res_end(res, "hello world\n", 12);
}

static void hx_connection(wire_http_server_t *s, wire_socket_t *sock,
                          void *data)
{
  (void)s, (void)sock;
  hx_t *x = data;
  x->conns++;
}

static void hx_tls_error(wire_https_server_t *srv, int err, const char *reason,
                         const wire_addr_t *remote, void *data)
{
  (void)srv, (void)err, (void)reason, (void)remote;
  hx_t *x = data;
  x->tls_errors++;
}

static void hx_closed(wire_https_server_t *srv, void *data)
{
  (void)srv;
  hx_t *x = data;
  x->closed++;
}

static void hx_open(hx_t *x, int request_cert)
{
  memset(x, 0, sizeof(*x));
  x->loop = h_loop_new();
  t_certs(&x->k);
  wire_https_server_opts_t o = WIRE_HTTPS_SERVER_OPTS_INIT;
  o.tls.ctx = t_ctx(&x->k.server, &x->k.ca);
  o.tls.request_cert = request_cert;
  cr_assert_eq(wire_https_server_create(x->loop, &o, hx_request, &x->srv), 0);
  wire_tls_ctx_free(o.tls.ctx);
  wire_https_server_set_data(x->srv, x);
  wire_http_server_on_connection(wire_https_server_http(x->srv),
                                 hx_connection);
  wire_https_server_on_tls_client_error(x->srv, hx_tls_error);
  cr_assert_eq(wire_https_server_listen(x->srv, "127.0.0.1", 0, NULL), 0);
  wire_addr_t a;
  cr_assert_eq(wire_https_server_address(x->srv, &a), 0);
  x->port = a.port;
}

static void hx_close(hx_t *x)
{
  wire_https_server_close(x->srv, hx_closed);
  wire_addr_t a;
  cr_assert_eq(wire_https_server_address(x->srv, &a), WIRE_ENOTCONN);
  H_RUN_UNTIL(x->loop, x->closed == 1);
  t_certs_free(&x->k);
  h_loop_done(x->loop);
}

/* An agent whose https requests use cert (may be NULL) and trust ca. */
static wire_agent_t *hx_agent(hx_t *x, const wire_cert_t *cert,
                              const wire_cert_t *ca, unsigned max_sockets,
                              int keep_alive, unsigned sessions)
{
  wire_agent_opts_t o = WIRE_AGENT_OPTS_INIT;
  o.tls_ctx = t_ctx(cert, ca);
  o.max_sockets = max_sockets;
  o.keep_alive = keep_alive;
  o.max_cached_sessions = sessions;
  wire_agent_t *a;
  cr_assert_eq(wire_agent_create(x->loop, &o, &a), 0);
  wire_tls_ctx_free(o.tls_ctx); /* the agent holds its own */
  return a;
}

/* The reason of the last request error (the request is freed after its
 * close event, so it is read in the error event). */
static char last_reason[256];
static void hx_on_error(wire_http_client_req_t *req, int err, void *arg)
{
  const char *why = wire_http_client_req_error_reason(req);
  snprintf(last_reason, sizeof(last_reason), "%s", why ? why : "");
  ct_on_error(req, err, arg);
}

static void hx_get(hx_t *x, ct_t *t, wire_agent_t *a, const char *host,
                   const char *servername, int reject)
{
  wire_http_request_opts_t o = WIRE_HTTP_REQUEST_OPTS_INIT;
  o.tls = 1;
  o.host = host;
  o.port = x->port;
  o.agent = a;
  o.servername = servername;
  o.reject_unauthorized = reject;
  ct_start(t, x->loop, &o);
  wire_http_client_req_on_error(t->req, hx_on_error);
  cr_assert_eq(wire_http_client_req_end(t->req, NULL, 0), 0);
}

static int agent_closed;
static void on_agent_closed(wire_agent_t *a, void *arg)
{
  (void)a, (void)arg;
  agent_closed++;
}

static void hx_agent_close(hx_t *x, wire_agent_t *a)
{
  agent_closed = 0;
  wire_agent_close(a, on_agent_closed, NULL);
  H_RUN_UNTIL(x->loop, agent_closed == 1);
}

Test(https, mutual_tls_hello_world)
{
  hx_t x;
  hx_open(&x, 1);
  wire_agent_t *a = hx_agent(&x, &x.k.client, &x.k.ca, 5, 1, 100);
  ct_t t;
  hx_get(&x, &t, a, "localhost", NULL, 1);
  H_RUN_UNTIL(x.loop, t.closed);
  cr_assert_eq(t.err, 0, "%s %s", wire_err_name(t.err), last_reason);
  cr_assert_str_eq(t.log.s, "socket response data end close");
  cr_assert_eq(t.status, 200);
  cr_assert_str_eq(ct_body(&t), "hello world\n");
  cr_assert_eq(x.authorized, 1);
  ct_free(&t);
  hx_agent_close(&x, a);
  hx_close(&x);
}

/* Without a client certificate the server refuses the handshake: the
 * request fails with a TLS error, and the server goes on. */
Test(https, client_certificate_required)
{
  hx_t x;
  hx_open(&x, 1);
  wire_agent_t *a = hx_agent(&x, NULL, &x.k.ca, 5, 1, 100);
  ct_t t;
  hx_get(&x, &t, a, "localhost", NULL, 1);
  H_RUN_UNTIL(x.loop, t.closed && x.tls_errors == 1);
  cr_assert_lt(t.err, 0);
  cr_assert_eq(x.requests, 0);
  ct_free(&t);
  hx_agent_close(&x, a);
  hx_close(&x);
}

/* Each request on a fresh connection (keep_alive off): the first one does
 * a full handshake, the next ones resume the session the agent kept. */
Test(https, session_resumed)
{
  hx_t x;
  hx_open(&x, 0);
  wire_agent_t *a = hx_agent(&x, NULL, &x.k.ca, 5, 0, 100);
  for (int i = 0; i < 3; i++) {
    ct_t t;
    hx_get(&x, &t, a, "localhost", NULL, 1);
    H_RUN_UNTIL(x.loop, t.closed);
    cr_assert_eq(t.status, 200, "request %d: %s", i, wire_err_name(t.err));
    ct_free(&t);
  }
  cr_assert_eq(x.conns, 3);
  cr_assert_eq(x.reused, 2, "resumed: %d of 3", x.reused);
  hx_agent_close(&x, a);
  hx_close(&x);
}

/* max_cached_sessions 0: no session kept, every handshake is full. */
Test(https, session_cache_off)
{
  hx_t x;
  hx_open(&x, 0);
  wire_agent_t *a = hx_agent(&x, NULL, &x.k.ca, 5, 0, 0);
  for (int i = 0; i < 3; i++) {
    ct_t t;
    hx_get(&x, &t, a, "localhost", NULL, 1);
    H_RUN_UNTIL(x.loop, t.closed);
    cr_assert_eq(t.status, 200);
    ct_free(&t);
  }
  cr_assert_eq(x.conns, 3);
  cr_assert_eq(x.reused, 0);
  hx_agent_close(&x, a);
  hx_close(&x);
}

/* 20 requests at once, max_sockets 5: at most 5 TLS connections, every
 * request answered, most on reused connections. */
Test(https, pool_within_max_sockets)
{
  hx_t x;
  hx_open(&x, 0);
  wire_agent_t *a = hx_agent(&x, NULL, &x.k.ca, 5, 1, 100);
  ct_t t[20];
  for (int i = 0; i < 20; i++)
    hx_get(&x, &t[i], a, "localhost", NULL, 1);
  int done = 0;
  while (done < 20) {
    H_RUN_UNTIL(x.loop, t[done].closed);
    done++;
  }
  int reused = 0;
  for (int i = 0; i < 20; i++) {
    cr_assert_eq(t[i].status, 200, "request %d: %s", i,
                 wire_err_name(t[i].err));
    reused += t[i].reused;
    ct_free(&t[i]);
  }
  cr_assert_eq(x.requests, 20);
  cr_assert_leq(x.conns, 5);
  cr_assert_eq(reused, 20 - x.conns);
  wire_agent_stats_t st;
  wire_agent_stats(a, "localhost", x.port, NULL, &st);
  cr_assert_eq(st.created, (uint64_t)x.conns);
  cr_assert_eq(st.reused, (uint64_t)reused);
  hx_agent_close(&x, a);
  hx_close(&x);
}

/* Origins are keyed by their TLS options: the same host and port with
 * another servername is another pool (another connection). */
Test(https, origins_apart_by_tls_options)
{
  hx_t x;
  hx_open(&x, 0);
  wire_agent_t *a = hx_agent(&x, NULL, &x.k.ca, 5, 1, 100);
  ct_t t1, t2, t3;
  hx_get(&x, &t1, a, "127.0.0.1", "localhost", 1);
  H_RUN_UNTIL(x.loop, t1.closed);
  hx_get(&x, &t2, a, "127.0.0.1", NULL, 1); /* checked against the IP SAN */
  H_RUN_UNTIL(x.loop, t2.closed);
  hx_get(&x, &t3, a, "127.0.0.1", "localhost", 1);
  H_RUN_UNTIL(x.loop, t3.closed);
  cr_assert_eq(t1.status, 200);
  cr_assert_eq(t2.status, 200);
  cr_assert_eq(t3.status, 200);
  cr_assert_eq(t2.reused, 0);
  cr_assert_eq(t3.reused, 1);
  cr_assert_eq(x.conns, 2);
  ct_free(&t1);
  ct_free(&t2);
  ct_free(&t3);
  hx_agent_close(&x, a);
  hx_close(&x);
}

Test(https, unknown_ca_refused)
{
  hx_t x;
  hx_open(&x, 0);
  wire_cert_t other;
  t_make(&other, WIRE_CERT_CA, NULL, NULL, NULL, NULL);
  wire_agent_t *a = hx_agent(&x, NULL, &other, 5, 1, 100);
  ct_t t;
  hx_get(&x, &t, a, "localhost", NULL, 1);
  H_RUN_UNTIL(x.loop, t.closed);
  cr_assert_eq(t.err, WIRE_ETLS, "%s", wire_err_name(t.err));
  cr_assert(strstr(last_reason, "unable to get local issuer certificate") !=
                NULL,
            "%s", last_reason);
  cr_assert_eq(x.requests, 0);
  ct_free(&t);
  /* rejectUnauthorized: false accepts it. */
  hx_get(&x, &t, a, "localhost", NULL, 0);
  H_RUN_UNTIL(x.loop, t.closed);
  cr_assert_eq(t.status, 200, "%s", wire_err_name(t.err));
  cr_assert_str_eq(ct_body(&t), "hello world\n");
  ct_free(&t);
  wire_cert_free(&other);
  hx_agent_close(&x, a);
  hx_close(&x);
}

Test(https, hostname_mismatch_refused)
{
  hx_t x;
  hx_open(&x, 0);
  wire_agent_t *a = hx_agent(&x, NULL, &x.k.ca, 5, 1, 100);
  ct_t t;
  hx_get(&x, &t, a, "127.0.0.1", "wrong.example", 1);
  H_RUN_UNTIL(x.loop, t.closed);
  cr_assert_eq(t.err, WIRE_ETLS, "%s", wire_err_name(t.err));
  cr_assert_str_eq(last_reason,
                   "certificate verify failed: hostname mismatch");
  ct_free(&t);
  hx_get(&x, &t, a, "127.0.0.1", "wrong.example", 0);
  H_RUN_UNTIL(x.loop, t.closed);
  cr_assert_eq(t.status, 200, "%s", wire_err_name(t.err));
  ct_free(&t);
  /* The server served the good one after the bad one. */
  cr_assert_eq(x.requests, 1);
  hx_agent_close(&x, a);
  hx_close(&x);
}

/* https.get: an https:// URL goes out over TLS with the system CAs, which
 * do not know this test's CA. */
Test(https, get_url_uses_tls)
{
  hx_t x;
  hx_open(&x, 0);
  char url[64];
  snprintf(url, sizeof(url), "https://localhost:%d/", x.port);
  ct_t t;
  memset(&t, 0, sizeof(t));
  cr_assert_eq(wire_http_get(x.loop, url, ct_on_response, &t, &t.req), 0);
  wire_http_client_req_on_error(t.req, ct_on_error);
  wire_http_client_req_on_close(t.req, ct_on_close);
  H_RUN_UNTIL(x.loop, t.closed);
  cr_assert_eq(t.err, WIRE_ETLS, "%s", wire_err_name(t.err));
  cr_assert_eq(x.tls_errors + x.requests, x.tls_errors);
  ct_free(&t);
  cr_assert_eq(wire_http_get(x.loop, "https://", ct_on_response, &t, &t.req),
               WIRE_EINVAL);
  wire_https_server_close(x.srv, hx_closed);
  H_RUN_UNTIL(x.loop, x.closed == 1);
  t_certs_free(&x.k);
  ct_done(x.loop); /* the global agent closes with the loop */
}

/* The server's close waits for a busy connection's response; an idle
 * keep-alive one is closed at once. */
Test(https, close_with_idle_connection)
{
  hx_t x;
  hx_open(&x, 0);
  wire_agent_t *a = hx_agent(&x, NULL, &x.k.ca, 5, 1, 100);
  ct_t t;
  hx_get(&x, &t, a, "localhost", NULL, 1);
  H_RUN_UNTIL(x.loop, t.closed);
  cr_assert_eq(t.status, 200);
  ct_free(&t);
  wire_agent_stats_t st;
  wire_agent_stats(a, NULL, 0, NULL, &st);
  cr_assert_eq(st.free_sockets, 1);
  wire_https_server_close(x.srv, hx_closed);
  H_RUN_UNTIL(x.loop, x.closed == 1);
  /* The client's pooled socket saw the close and left the pool. */
  H_RUN_UNTIL(x.loop, (wire_agent_stats(a, NULL, 0, NULL, &st),
                       st.free_sockets == 0));
  hx_agent_close(&x, a);
  t_certs_free(&x.k);
  h_loop_done(x.loop);
}
