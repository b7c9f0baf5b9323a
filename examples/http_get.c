/* http.get(url): prints the status line and the body of a GET.
 * Usage: http_get URL (http://host[:port]/path). */
#include <stdio.h>
#include <wire.h>

static int failed;

static void on_data(wire_http_client_res_t *res, const char *buf, size_t len,
                    void *arg)
{
  (void)res, (void)arg;
  fwrite(buf, 1, len, stdout);
}

static void on_response(wire_http_client_req_t *req,
                        wire_http_client_res_t *res, void *arg)
{
  (void)req, (void)arg;
  fprintf(stderr, "HTTP/%d.%d %d %s\n", wire_http_client_res_version(res) / 10,
          wire_http_client_res_version(res) % 10,
          wire_http_client_res_status(res), wire_http_client_res_reason(res));
  wire_http_client_res_on_data(res, on_data);
}

static void on_error(wire_http_client_req_t *req, int err, void *arg)
{
  (void)req, (void)arg;
  fprintf(stderr, "http_get: %s (%s)\n", wire_strerror(err),
          wire_err_name(err));
  failed = 1;
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "usage: http_get URL\n");
    return 2;
  }
  wire_loop_t *loop = wire_loop_default();
  wire_http_client_req_t *req;
  int err = wire_http_get(loop, argv[1], on_response, NULL, &req);
  if (err < 0) {
    fprintf(stderr, "http_get: %s\n", wire_strerror(err));
    return 2;
  }
  wire_http_client_req_on_error(req, on_error);
  wire_loop_run(loop, WIRE_RUN_DEFAULT);
  fflush(stdout);
  return wire_loop_close(loop) == 0 ? failed : 3;
}
