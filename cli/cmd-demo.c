/* wire demo: the seed's servers at once. For now the TCP server of the
 * seed's net section on 8124, the UDP server of its dgram section on
 * 41234 and the HTTP server of its http section on 127.0.0.1:1337
 * (--tcp-port, --udp-port, --http-port; 0 picks a port), the TLS echo
 * server of its tls section on 127.0.0.1:8000 and the HTTPS server of its
 * https section on 127.0.0.1:8443 (--tls-port, --https-port), with a CA
 * and server/client certificates made on first run in the state directory
 * (--state-dir DIR; default $XDG_STATE_HOME/wire or ~/.local/state/wire);
 * later modules add theirs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static const char greeting[] = "hello world\xef\xbc\x9a\n";
static const char reply[] = "\xe4\xbd\xa0\xe5\xa5\xbd";

static void on_data(wire_socket_t *s, const char *buf, size_t len, void *d)
{
  (void)buf, (void)len, (void)d;
  wire_socket_write(s, reply, sizeof(reply) - 1);
}

static void on_connection(wire_server_t *srv, wire_socket_t *s, void *d)
{
  (void)srv, (void)d;
  wire_socket_on_data(s, on_data);
  wire_socket_write(s, greeting, sizeof(greeting) - 1);
}

static void on_listening(wire_server_t *srv, void *d)
{
  (void)d;
  cli_print_listening("tcp", srv);
  wire_addr_t a;
  wire_server_address(srv, &a);
  printf("  try: nc 127.0.0.1 %d   (or: wire tcp 127.0.0.1 %d)\n", a.port,
         a.port);
  fflush(stdout);
}

static void on_error(wire_server_t *srv, int err, void *d)
{
  (void)d;
  fprintf(stderr, "wire demo: tcp: %s\n", wire_strerror(err));
  wire_server_close(srv, NULL);
}

/* The seed's UDP server: "server got: MSG from ADDR:PORT" per datagram. */
static void on_udp_message(wire_udp_t *u, const char *buf, size_t len,
                           const wire_udp_rinfo_t *rinfo, void *d)
{
  (void)u, (void)d;
  printf("server got: %.*s from %s:%d\n", (int)len, buf, rinfo->address,
         rinfo->port);
  fflush(stdout);
}

static void on_udp_listening(wire_udp_t *u, void *d)
{
  (void)d;
  wire_addr_t a;
  if (wire_udp_address(u, &a) < 0)
    return;
  printf("listening on udp://%s:%d\n", a.address, a.port);
  printf("  try: echo hi | socat - UDP:127.0.0.1:%d   (or: wire udp "
         "127.0.0.1 %d)\n",
         a.port, a.port);
  fflush(stdout);
}

static void on_udp_error(wire_udp_t *u, int err, void *d)
{
  (void)d;
  fprintf(stderr, "wire demo: udp: %s\n", wire_strerror(err));
  wire_addr_t a;
  if (wire_udp_address(u, &a) == WIRE_EBADF)
    wire_udp_close(u, NULL); /* the bind failed: the other servers go on */
}

/* The seed's HTTP server: "Hello World\n" as text/plain to every
 * request. */
static void on_http_request(wire_http_server_t *srv, wire_http_req_t *req,
                            wire_http_res_t *res, void *d)
{
  (void)srv, (void)req, (void)d;
  wire_http_res_set_header(res, "Content-Type", "text/plain");
  wire_http_res_write_head(res, 200, NULL);
  wire_http_res_end(res, "Hello World\n", 12);
}

static void on_http_listening(wire_http_server_t *srv, void *d)
{
  (void)d;
  wire_addr_t a;
  if (wire_http_server_address(srv, &a) < 0)
    return;
  printf("listening on http://%s:%d/\n", a.address, a.port);
  printf("  try: curl http://%s:%d/\n", a.address, a.port);
  fflush(stdout);
}

static void on_http_listen(wire_http_server_t *srv, int status, void *d)
{
  (void)d;
  if (status < 0) {
    /* The other servers go on. */
    fprintf(stderr, "wire demo: http: %s\n", wire_strerror(status));
    wire_http_server_close(srv, NULL);
  }
}

static int start_http(wire_loop_t *loop, int port)
{
  wire_http_server_t *http;
  if (wire_http_server_create(loop, NULL, on_http_request, &http) < 0)
    return -1;
  wire_http_server_on_listening(http, on_http_listening);
  return wire_http_server_listen(http, "127.0.0.1", port, on_http_listen);
}

static int start_udp(wire_loop_t *loop, int port)
{
  wire_udp_t *udp;
  if (wire_udp_create(loop, NULL, &udp) < 0)
    return -1;
  wire_udp_on_message(udp, on_udp_message);
  wire_udp_on_listening(udp, on_udp_listening);
  wire_udp_on_error(udp, on_udp_error);
  return wire_udp_bind(udp, port, NULL, NULL);
}

/* ---- TLS on 8000 and HTTPS on 8443 ------------------------------------- */

/* Certificates live in the state directory: ca, server (localhost,
 * 127.0.0.1, ::1) and client, made with wire's certgen on first run and
 * loaded afterwards, so clients can keep trusting the same ca.crt. */
typedef struct {
  char dir[4096];
  char path[3][4200]; /* ca, server, client prefixes */
  wire_cert_t ca, server, client;
} demo_keys_t;

static int mkdirs(const char *path)
{
  char p[4096];
  snprintf(p, sizeof(p), "%s", path);
  for (char *s = p + 1; *s != '\0'; s++) {
    if (*s != '/')
      continue;
    *s = '\0';
    if (mkdir(p, 0700) < 0 && errno != EEXIST)
      return -errno;
    *s = '/';
  }
  if (mkdir(p, 0700) < 0 && errno != EEXIST)
    return -errno;
  return 0;
}

static int demo_keys(demo_keys_t *k, const char *state_dir)
{
  if (state_dir != NULL) {
    snprintf(k->dir, sizeof(k->dir), "%s", state_dir);
  } else {
    const char *xdg = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    if (xdg != NULL && xdg[0] == '/')
      snprintf(k->dir, sizeof(k->dir), "%s/wire", xdg);
    else
      snprintf(k->dir, sizeof(k->dir), "%s/.local/state/wire",
               home != NULL ? home : ".");
  }
  static const char *const names[3] = {"ca", "server", "client"};
  for (int i = 0; i < 3; i++)
    snprintf(k->path[i], sizeof(k->path[i]), "%s/%s", k->dir, names[i]);
  if (wire_cert_load(k->path[0], &k->ca) == 0 &&
      wire_cert_load(k->path[1], &k->server) == 0 &&
      wire_cert_load(k->path[2], &k->client) == 0)
    return 0;
  wire_cert_free(&k->ca);
  wire_cert_free(&k->server);
  wire_cert_free(&k->client);
  int err = mkdirs(k->dir);
  if (err < 0)
    return err;
  static const char *const sans[] = {"localhost", "127.0.0.1", "::1"};
  wire_cert_opts_t o = WIRE_CERT_OPTS_INIT;
  o.kind = WIRE_CERT_CA;
  o.cn = "wire demo CA";
  err = wire_cert_make_ca(&o, &k->ca);
  if (err == 0) {
    o.kind = WIRE_CERT_SERVER;
    o.cn = NULL;
    o.sans = sans;
    o.nsans = 3;
    err = wire_cert_make_signed(&o, &k->ca, &k->server);
  }
  if (err == 0) {
    o.kind = WIRE_CERT_CLIENT;
    o.cn = "wire demo client";
    o.sans = NULL;
    o.nsans = 0;
    err = wire_cert_make_signed(&o, &k->ca, &k->client);
  }
  for (int i = 0; i < 3 && err == 0; i++)
    err = wire_cert_save(i == 0 ? &k->ca : i == 1 ? &k->server : &k->client,
                         k->path[i]);
  if (err == 0)
    printf("made a CA and server/client certificates in %s\n", k->dir);
  return err;
}

/* The seed's TLS server: requestCert with the CA; prints whether the
 * client's certificate verified, welcomes and echoes. Unlike Node's
 * default, a client without a certificate is let in (and printed as
 * unauthorized), so that plain `openssl s_client` can try it. */
static void on_tls_secure(wire_tls_server_t *srv, wire_socket_t *s, void *d)
{
  (void)srv, (void)d;
  printf("server connected %s\n",
         wire_tls_authorized(s) ? "authorized" : "unauthorized");
  fflush(stdout);
  wire_socket_write(s, "welcome!\n", 9);
  wire_pipe(s, s);
}

static void on_tls_listening(wire_tls_server_t *srv, void *d)
{
  const demo_keys_t *k = d;
  wire_addr_t a;
  if (wire_tls_server_address(srv, &a) < 0)
    return;
  printf("listening on tls://%s:%d\n", a.address, a.port);
  printf("  try: openssl s_client -connect %s:%d -CAfile %s.crt -cert "
         "%s.crt -key %s.key\n",
         a.address, a.port, k->path[0], k->path[2], k->path[2]);
  fflush(stdout);
}

static void on_tls_listen(wire_tls_server_t *srv, int status, void *d)
{
  (void)d;
  if (status < 0) {
    fprintf(stderr, "wire demo: tls: %s\n", wire_strerror(status));
    wire_tls_server_close(srv, NULL);
  }
}

/* The seed's HTTPS server: "hello world\n". */
static void on_https_request(wire_http_server_t *srv, wire_http_req_t *req,
                             wire_http_res_t *res, void *d)
{
  (void)srv, (void)req, (void)d;
  wire_http_res_write_head(res, 200, NULL);
  wire_http_res_end(res, "hello world\n", 12);
}

static void on_https_listening(wire_https_server_t *srv, void *d)
{
  const demo_keys_t *k = d;
  wire_addr_t a;
  if (wire_https_server_address(srv, &a) < 0)
    return;
  printf("listening on https://%s:%d/\n", a.address, a.port);
  printf("  try: curl --cacert %s.crt https://localhost:%d/\n", k->path[0],
         a.port);
  fflush(stdout);
}

static void on_https_listen(wire_https_server_t *srv, int status, void *d)
{
  (void)d;
  if (status < 0) {
    fprintf(stderr, "wire demo: https: %s\n", wire_strerror(status));
    wire_https_server_close(srv, NULL);
  }
}

/* Starts TLS on tls_port and HTTPS on https_port (0 picks a port). A
 * failure is printed and the other servers go on; only out of memory
 * fails the demo. */
static int start_secure(wire_loop_t *loop, const char *state_dir,
                        int tls_port, int https_port)
{
  static demo_keys_t k;
  int err = demo_keys(&k, state_dir);
  if (err < 0) {
    fprintf(stderr, "wire demo: certificates in %s: %s %s\n", k.dir,
            wire_strerror(err), err == WIRE_ETLS ? wire_tls_errstr() : "");
    return 0;
  }
  wire_tls_ctx_opts_t co = WIRE_TLS_CTX_OPTS_INIT;
  co.key_pem = k.server.key_pem;
  co.cert_pem = k.server.cert_pem;
  co.ca_pem = k.ca.cert_pem;
  wire_tls_ctx_t *ctx;
  err = wire_tls_ctx_new(&co, &ctx);
  if (err < 0) {
    fprintf(stderr, "wire demo: tls: %s\n", wire_tls_errstr());
    return 0;
  }
  wire_tls_server_opts_t to = WIRE_TLS_SERVER_OPTS_INIT;
  to.ctx = ctx;
  to.request_cert = 1;
  to.reject_unauthorized = 0;
  wire_tls_server_t *tls;
  err = wire_tls_server_create(loop, &to, on_tls_secure, &tls);
  if (err == 0) {
    wire_tls_server_set_data(tls, &k);
    wire_tls_server_on_listening(tls, on_tls_listening);
    if (wire_tls_server_listen(tls, "127.0.0.1", tls_port, on_tls_listen) < 0)
      wire_tls_server_close(tls, NULL);
  }
  wire_https_server_opts_t ho = WIRE_HTTPS_SERVER_OPTS_INIT;
  ho.tls.ctx = ctx;
  wire_https_server_t *https;
  int err2 = wire_https_server_create(loop, &ho, on_https_request, &https);
  wire_tls_ctx_free(ctx);
  if (err2 == 0) {
    wire_https_server_set_data(https, &k);
    wire_https_server_on_listening(https, on_https_listening);
    if (wire_https_server_listen(https, "127.0.0.1", https_port,
                                 on_https_listen) < 0)
      wire_https_server_close(https, NULL);
  }
  return err < 0 ? err : err2;
}

int cmd_demo(int argc, char **argv)
{
  int tcp_port = 8124;
  int udp_port = 41234;
  int http_port = 1337;
  int tls_port = 8000;
  int https_port = 8443;
  const char *state_dir = NULL; /* $XDG_STATE_HOME/wire, ~/.local/state/wire */
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--tcp-port") == 0 && i + 1 < argc)
      tcp_port = atoi(argv[++i]);
    else if (strcmp(argv[i], "--udp-port") == 0 && i + 1 < argc)
      udp_port = atoi(argv[++i]);
    else if (strcmp(argv[i], "--http-port") == 0 && i + 1 < argc)
      http_port = atoi(argv[++i]);
    else if (strcmp(argv[i], "--tls-port") == 0 && i + 1 < argc)
      tls_port = atoi(argv[++i]);
    else if (strcmp(argv[i], "--https-port") == 0 && i + 1 < argc)
      https_port = atoi(argv[++i]);
    else if (strcmp(argv[i], "--state-dir") == 0 && i + 1 < argc)
      state_dir = argv[++i];
  }
  wire_loop_t *loop = wire_loop_default();
  wire_server_t *tcp;
  if (wire_server_create(loop, NULL, on_connection, &tcp) < 0)
    return 1;
  wire_server_on_listening(tcp, on_listening);
  wire_server_on_error(tcp, on_error);
  if (wire_server_listen(tcp, NULL, tcp_port, NULL) < 0)
    return 1;
  if (start_udp(loop, udp_port) < 0)
    return 1;
  if (start_http(loop, http_port) < 0)
    return 1;
  if (start_secure(loop, state_dir, tls_port, https_port) < 0)
    return 1;
  wire_loop_run(loop, WIRE_RUN_DEFAULT);
  return wire_loop_close(loop) == 0 ? 0 : 1;
}
