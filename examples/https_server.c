/* The seed's HTTPS server (https.createServer with key and cert on 8000):
 * answers every request with "hello world\n".
 *
 *   https_server [PORT] [--keys DIR] [--request-cert]
 *
 * PORT defaults to 8000 as in the seed (tls_server uses 8000 too: run one
 * at a time, or give a port; 0 picks one). DIR (default ./keys, as the
 * seed) holds server.key and server.crt, e.g. made with:
 *   wire cert ca --out keys/ca
 *   wire cert server --ca keys/ca --san localhost --san 127.0.0.1 \
 *     --out keys/server
 * --request-cert asks for a client certificate signed by DIR/ca.crt and
 * refuses a client without one (mutual TLS, for https_client). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wire.h>

static void on_request(wire_http_server_t *srv, wire_http_req_t *req,
                       wire_http_res_t *res, void *data)
{
  (void)srv, (void)req, (void)data;
  wire_http_res_write_head(res, 200, NULL);
  wire_http_res_end(res, "hello world\n", 12);
}

static void on_listening(wire_https_server_t *srv, void *data)
{
  (void)data;
  wire_addr_t a;
  wire_https_server_address(srv, &a);
  printf("listening on https://%s%s%s:%d/\n", a.family == 6 ? "[" : "",
         a.address, a.family == 6 ? "]" : "", a.port);
  fflush(stdout);
}

static void on_tls_client_error(wire_https_server_t *srv, int err,
                                const char *reason, const wire_addr_t *remote,
                                void *data)
{
  (void)srv, (void)data;
  fprintf(stderr, "https_server: client %s: %s%s%s\n",
          remote ? remote->address : "?", wire_strerror(err),
          reason ? ": " : "", reason ? reason : "");
}

int main(int argc, char **argv)
{
  int port = 8000;
  const char *dir = "keys";
  int request_cert = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--keys") == 0 && i + 1 < argc)
      dir = argv[++i];
    else if (strcmp(argv[i], "--request-cert") == 0)
      request_cert = 1;
    else
      port = atoi(argv[i]);
  }
  char key[4096], cert[4096], ca[4096];
  snprintf(key, sizeof(key), "%s/server.key", dir);
  snprintf(cert, sizeof(cert), "%s/server.crt", dir);
  snprintf(ca, sizeof(ca), "%s/ca.crt", dir);

  /* The seed's options: { key, cert } (and ca for client certificates). */
  wire_tls_ctx_opts_t co = WIRE_TLS_CTX_OPTS_INIT;
  co.key_file = key;
  co.cert_file = cert;
  if (request_cert)
    co.ca_file = ca;
  wire_tls_ctx_t *ctx;
  int err = wire_tls_ctx_new(&co, &ctx);
  if (err < 0) {
    fprintf(stderr, "https_server: %s: %s\n", wire_strerror(err),
            wire_tls_errstr());
    return 1;
  }
  wire_loop_t *loop = wire_loop_default();
  wire_https_server_opts_t o = WIRE_HTTPS_SERVER_OPTS_INIT;
  o.tls.ctx = ctx;
  o.tls.request_cert = request_cert;
  wire_https_server_t *srv;
  err = wire_https_server_create(loop, &o, on_request, &srv);
  wire_tls_ctx_free(ctx); /* the server holds its own reference */
  if (err < 0)
    return 1;
  wire_https_server_on_listening(srv, on_listening);
  wire_https_server_on_tls_client_error(srv, on_tls_client_error);
  err = wire_https_server_listen(srv, NULL, port, NULL);
  if (err < 0) {
    fprintf(stderr, "https_server: %s\n", wire_strerror(err));
    return 1;
  }
  wire_loop_run(loop, WIRE_RUN_DEFAULT);
  return wire_loop_close(loop) == 0 ? 0 : 1;
}
