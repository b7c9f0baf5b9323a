/* The wire HTTPS server of bench/tls.sh: answers every request with 200
 * and "Hello, World\n" as text/plain (as bench/http_wire.c does over
 * TCP), except GET /stats: "requests N reused M", M being the requests
 * that came on a resumed TLS session (the full-handshake run must show
 * none). Prints "listening on https://127.0.0.1:PORT/".
 *
 *   tls_wire PORT CERT KEY [--no-resume]
 *
 * --no-resume turns session tickets and the session cache off, as
 * ssl_session_tickets off and ssl_session_cache off do for nginx
 * (wire_tls_ctx_opts_t.no_session_resumption): wrk resumes sessions when
 * the server allows it, and the handshake run must measure full
 * handshakes on both. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wire.h>

static unsigned long long requests, reused;

static void on_request(wire_http_server_t *srv, wire_http_req_t *req,
                       wire_http_res_t *res, void *data)
{
  (void)srv, (void)data;
  if (strcmp(wire_http_req_url(req), "/stats") == 0) {
    char buf[96];
    int n = snprintf(buf, sizeof(buf), "requests %llu reused %llu\n",
                     requests, reused);
    wire_http_res_end(res, buf, (size_t)n);
    return;
  }
  requests++;
  reused += (unsigned)wire_tls_session_reused(wire_http_req_socket(req));
  wire_http_res_set_header(res, "Content-Type", "text/plain");
  wire_http_res_end(res, "Hello, World\n", 13);
}

static void on_listening(wire_https_server_t *srv, void *data)
{
  (void)data;
  wire_addr_t a;
  wire_https_server_address(srv, &a);
  printf("listening on https://%s:%d/\n", a.address, a.port);
  fflush(stdout);
}

int main(int argc, char **argv)
{
  if (argc < 4) {
    fprintf(stderr, "usage: tls_wire PORT CERT KEY\n");
    return 2;
  }
  wire_tls_ctx_opts_t co = WIRE_TLS_CTX_OPTS_INIT;
  co.cert_file = argv[2];
  co.key_file = argv[3];
  co.no_session_resumption = argc > 4 && strcmp(argv[4], "--no-resume") == 0;
  wire_tls_ctx_t *ctx;
  if (wire_tls_ctx_new(&co, &ctx) < 0) {
    fprintf(stderr, "tls_wire: %s\n", wire_tls_errstr());
    return 1;
  }
  wire_loop_t *loop = wire_loop_default();
  wire_https_server_opts_t o = WIRE_HTTPS_SERVER_OPTS_INIT;
  o.tls.ctx = ctx;
  o.http.keep_alive_timeout_ms = 75000; /* as nginx's in bench/tls.sh */
  wire_https_server_t *srv;
  if (wire_https_server_create(loop, &o, on_request, &srv) < 0)
    return 1;
  wire_tls_ctx_free(ctx);
  wire_https_server_on_listening(srv, on_listening);
  if (wire_https_server_listen(srv, "127.0.0.1", atoi(argv[1]), NULL) < 0)
    return 1;
  wire_loop_run(loop, WIRE_RUN_DEFAULT);
  return 0;
}
