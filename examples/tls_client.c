/* The seed's TLS client (tls.connect to 8000 with a client key and
 * certificate and the CA): prints "client connected authorized" or
 * "unauthorized", pipes stdin to the server and prints what comes back.
 *
 *   tls_client [HOST] [PORT] [--keys DIR] [--servername NAME] [--alpn P]
 *
 * DIR (default ./keys) holds client.key, client.crt and ca.crt (see
 * tls_server.c; make the client's with
 *   wire cert client --ca keys/ca --cn me --out keys/client).
 * stdin's end sends close_notify and FIN; the program exits when the
 * server has ended too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wire.h>

static wire_socket_t *in;
static int status;

static void on_data(wire_socket_t *s, const char *buf, size_t len, void *d)
{
  (void)s, (void)d;
  fwrite(buf, 1, len, stdout);
  fflush(stdout);
}

static void on_error(wire_socket_t *s, int err, void *d)
{
  (void)d;
  const char *why = wire_tls_last_error(s);
  fprintf(stderr, "tls_client: %s%s%s\n", wire_strerror(err), why ? ": " : "",
          why ? why : "");
  status = 1;
}

static void on_close(wire_socket_t *s, int had_error, void *d)
{
  (void)s, (void)d;
  if (in != NULL) {
    wire_socket_close(in, NULL);
    in = NULL;
  }
  if (had_error)
    status = 1;
}

static void on_in_close(wire_socket_t *s, int had_error, void *d)
{
  (void)s, (void)had_error, (void)d;
  in = NULL;
}

static void on_secure(wire_socket_t *s, int st, void *arg)
{
  (void)arg;
  if (st < 0)
    return; /* the error event reports it */
  printf("client connected %s\n",
         wire_tls_authorized(s) ? "authorized" : "unauthorized");
  if (wire_tls_alpn(s) != NULL)
    printf("alpn %s\n", wire_tls_alpn(s));
  fflush(stdout);
  if (wire_socket_open(wire_socket_loop(s), 0, &in) == 0) {
    wire_socket_on_close(in, on_in_close);
    wire_pipe(in, s); /* process.stdin.pipe(stream) */
    return;
  }
  /* stdin is a regular file: send it whole. */
  char buf[65536];
  ssize_t n;
  while ((n = read(0, buf, sizeof(buf))) > 0)
    wire_socket_write(s, buf, (size_t)n);
  wire_socket_end(s);
}

int main(int argc, char **argv)
{
  const char *host = "localhost";
  int port = 8000;
  const char *dir = "keys";
  const char *servername = NULL;
  const char *alpn[2] = {NULL, NULL};
  int npos = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--keys") == 0 && i + 1 < argc)
      dir = argv[++i];
    else if (strcmp(argv[i], "--servername") == 0 && i + 1 < argc)
      servername = argv[++i];
    else if (strcmp(argv[i], "--alpn") == 0 && i + 1 < argc)
      alpn[0] = argv[++i];
    else if (npos++ == 0 && argc - i > 1 && argv[i + 1][0] != '-')
      host = argv[i];
    else
      port = atoi(argv[i]);
  }
  char key[4096], cert[4096], ca[4096];
  snprintf(key, sizeof(key), "%s/client.key", dir);
  snprintf(cert, sizeof(cert), "%s/client.crt", dir);
  snprintf(ca, sizeof(ca), "%s/ca.crt", dir);

  wire_tls_ctx_opts_t co = WIRE_TLS_CTX_OPTS_INIT;
  co.key_file = key;
  co.cert_file = cert;
  co.ca_file = ca;
  wire_tls_ctx_t *ctx;
  int err = wire_tls_ctx_new(&co, &ctx);
  if (err < 0) {
    fprintf(stderr, "tls_client: %s: %s\n", wire_strerror(err),
            wire_tls_errstr());
    return 1;
  }
  wire_loop_t *loop = wire_loop_default();
  wire_tls_connect_opts_t o = WIRE_TLS_CONNECT_OPTS_INIT;
  o.net.host = host;
  o.net.port = port;
  o.net.allow_half_open = 1; /* stdin's end and the server's are separate */
  o.ctx = ctx;
  o.servername = servername;
  o.alpn = alpn;
  wire_socket_t *s;
  err = wire_tls_connect(loop, &o, on_secure, NULL, &s);
  wire_tls_ctx_free(ctx);
  if (err < 0) {
    fprintf(stderr, "tls_client: %s\n", wire_strerror(err));
    return 1;
  }
  wire_socket_on_data(s, on_data);
  wire_socket_on_error(s, on_error);
  wire_socket_on_close(s, on_close);
  wire_loop_run(loop, WIRE_RUN_DEFAULT);
  return wire_loop_close(loop) == 0 ? status : 1;
}
