/* The seed's HTTPS client: https.request to localhost:8000 with a client
 * key and certificate and the CA, on its own agent made from the same
 * options (options.agent = new https.Agent(options)); prints the body.
 *
 *   https_client [HOST] [PORT] [--keys DIR] [--path P]
 *
 * DIR (default ./keys) holds client.key, client.crt and ca.crt (see
 * https_server.c; make the client's with
 *   wire cert client --ca keys/ca --cn me --out keys/client).
 * Exits 0 after a complete response, 1 on an error (printed, with the TLS
 * reason when there is one). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wire.h>

static wire_agent_t *agent;
static int status = 1;

static void on_data(wire_http_client_res_t *res, const char *buf, size_t len,
                    void *arg)
{
  (void)res, (void)arg;
  fwrite(buf, 1, len, stdout); /* the seed's console.log(d) */
  fflush(stdout);
}

static void on_end(wire_http_client_res_t *res, void *arg)
{
  (void)arg;
  status = wire_http_client_res_status(res) < 400 ? 0 : 1;
}

static void on_response(wire_http_client_req_t *req,
                        wire_http_client_res_t *res, void *arg)
{
  (void)req, (void)arg;
  wire_http_client_res_on_data(res, on_data);
  wire_http_client_res_on_end(res, on_end);
}

static void on_error(wire_http_client_req_t *req, int err, void *arg)
{
  (void)arg;
  const char *why = wire_http_client_req_error_reason(req);
  fprintf(stderr, "https_client: %s%s%s\n", wire_strerror(err),
          why ? ": " : "", why ? why : "");
  status = 1;
}

static void on_close(wire_http_client_req_t *req, void *arg)
{
  (void)req, (void)arg;
  wire_agent_close(agent, NULL, NULL); /* lets the loop end */
}

int main(int argc, char **argv)
{
  const char *host = "localhost";
  int port = 8000;
  const char *dir = "keys";
  const char *path = "/";
  int npos = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--keys") == 0 && i + 1 < argc)
      dir = argv[++i];
    else if (strcmp(argv[i], "--path") == 0 && i + 1 < argc)
      path = argv[++i];
    else if (npos++ == 0)
      host = argv[i];
    else
      port = atoi(argv[i]);
  }
  char key[4096], cert[4096], ca[4096];
  snprintf(key, sizeof(key), "%s/client.key", dir);
  snprintf(cert, sizeof(cert), "%s/client.crt", dir);
  snprintf(ca, sizeof(ca), "%s/ca.crt", dir);

  /* The seed's options: key, cert, ca: [ca.crt]. */
  wire_tls_ctx_opts_t co = WIRE_TLS_CTX_OPTS_INIT;
  co.key_file = key;
  co.cert_file = cert;
  co.ca_file = ca;
  wire_tls_ctx_t *ctx;
  int err = wire_tls_ctx_new(&co, &ctx);
  if (err < 0) {
    fprintf(stderr, "https_client: %s: %s\n", wire_strerror(err),
            wire_tls_errstr());
    return 1;
  }
  wire_loop_t *loop = wire_loop_default();
  /* options.agent = new https.Agent(options) */
  wire_agent_opts_t ao = WIRE_AGENT_OPTS_INIT;
  ao.tls_ctx = ctx;
  err = wire_agent_create(loop, &ao, &agent);
  wire_tls_ctx_free(ctx); /* the agent holds its own reference */
  if (err < 0)
    return 1;

  wire_http_request_opts_t o = WIRE_HTTP_REQUEST_OPTS_INIT;
  o.tls = 1;
  o.hostname = host;
  o.port = port;
  o.path = path;
  o.method = "GET";
  o.agent = agent;
  wire_http_client_req_t *req;
  err = wire_http_request(loop, &o, on_response, NULL, &req);
  if (err < 0) {
    fprintf(stderr, "https_client: %s\n", wire_strerror(err));
    wire_agent_close(agent, NULL, NULL);
    wire_loop_run(loop, WIRE_RUN_DEFAULT);
    wire_loop_close(loop);
    return 1;
  }
  wire_http_client_req_on_error(req, on_error);
  wire_http_client_req_on_close(req, on_close);
  wire_http_client_req_end(req, NULL, 0);
  wire_loop_run(loop, WIRE_RUN_DEFAULT);
  if (wire_loop_close(loop) != 0)
    return 1;
  return status;
}
