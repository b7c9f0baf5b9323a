/* The seed's TLS server (tls.createServer on 8000 with requestCert and the
 * CA): prints "server connected authorized" or "unauthorized" for each
 * connection, writes "welcome!\n", then echoes what it receives.
 *
 *   tls_server [PORT] [--keys DIR] [--no-reject]
 *
 * DIR (default ./keys, as the seed) holds server.key, server.crt and
 * ca.crt, e.g. made with:
 *   wire cert ca --out keys/ca
 *   wire cert server --ca keys/ca --san localhost --san 127.0.0.1 --out
 * keys/server As Node, a client without a good certificate is refused unless
 * --no-reject (rejectUnauthorized: false) lets it in, unauthorized. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wire.h>

static void on_error(wire_socket_t *s, int err, void *d)
{
  (void)d;
  const char *why = wire_tls_last_error(s);
  fprintf(stderr, "tls_server: %s%s%s\n", wire_strerror(err), why ? ": " : "",
          why ? why : "");
}

static void on_secure(wire_tls_server_t *srv, wire_socket_t *s, void *d)
{
  (void)srv, (void)d;
  printf("server connected %s\n",
         wire_tls_authorized(s) ? "authorized" : "unauthorized");
  fflush(stdout);
  wire_socket_on_error(s, on_error);
  wire_socket_write(s, "welcome!\n", 9);
  wire_pipe(s, s); /* the seed's stream.pipe(stream): echo, with backpressure */
}

static void on_client_error(wire_tls_server_t *srv, int err, const char *reason,
                            const wire_addr_t *remote, void *d)
{
  (void)srv, (void)d;
  fprintf(stderr, "tls_server: client %s: %s%s%s\n",
          remote ? remote->address : "?", wire_strerror(err),
          reason ? ": " : "", reason ? reason : "");
}

static void on_listening(wire_tls_server_t *srv, void *d)
{
  (void)d;
  wire_addr_t a;
  wire_tls_server_address(srv, &a);
  printf("server bound\n");
  printf("listening on tls://%s%s%s:%d\n", a.family == 6 ? "[" : "", a.address,
         a.family == 6 ? "]" : "", a.port);
  fflush(stdout);
}

static void on_server_error(wire_tls_server_t *srv, int err, void *d)
{
  (void)d;
  fprintf(stderr, "tls_server: %s\n", wire_strerror(err));
  wire_tls_server_close(srv, NULL);
}

int main(int argc, char **argv)
{
  int port = 8000;
  const char *dir = "keys";
  int reject = 1;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--keys") == 0 && i + 1 < argc)
      dir = argv[++i];
    else if (strcmp(argv[i], "--no-reject") == 0)
      reject = 0;
    else
      port = atoi(argv[i]);
  }
  char key[4096], cert[4096], ca[4096];
  snprintf(key, sizeof(key), "%s/server.key", dir);
  snprintf(cert, sizeof(cert), "%s/server.crt", dir);
  snprintf(ca, sizeof(ca), "%s/ca.crt", dir);

  wire_tls_ctx_opts_t co = WIRE_TLS_CTX_OPTS_INIT;
  co.key_file = key;
  co.cert_file = cert;
  co.ca_file = ca;
  wire_tls_ctx_t *ctx;
  int err = wire_tls_ctx_new(&co, &ctx);
  if (err < 0) {
    fprintf(stderr, "tls_server: %s: %s\n", wire_strerror(err),
            wire_tls_errstr());
    return 1;
  }
  wire_loop_t *loop = wire_loop_default();
  wire_tls_server_opts_t o = WIRE_TLS_SERVER_OPTS_INIT;
  o.ctx = ctx;
  o.request_cert = 1;
  o.reject_unauthorized = reject;
  wire_tls_server_t *srv;
  err = wire_tls_server_create(loop, &o, on_secure, &srv);
  wire_tls_ctx_free(ctx); /* the server holds its own reference */
  if (err < 0)
    return 1;
  wire_tls_server_on_listening(srv, on_listening);
  wire_tls_server_on_error(srv, on_server_error);
  wire_tls_server_on_client_error(srv, on_client_error);
  err = wire_tls_server_listen(srv, NULL, port, NULL);
  if (err < 0) {
    fprintf(stderr, "tls_server: %s\n", wire_strerror(err));
    return 1;
  }
  wire_loop_run(loop, WIRE_RUN_DEFAULT);
  return wire_loop_close(loop) == 0 ? 0 : 1;
}
