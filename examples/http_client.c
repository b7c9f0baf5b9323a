/* The seed's HTTP client: http.request to 127.0.0.1:1334 (or argv[1]) with
 * its own agent of maxSockets 10; prints the response body. With a second
 * argument N, sends N requests at once and prints the agent's sockets and
 * requests counts while they run (the seed watches them to see how busy
 * the pool is). */
#include <stdio.h>
#include <stdlib.h>
#include <wire.h>

static int done, total, failed;

static void on_data(wire_http_client_res_t *res, const char *buf, size_t len,
                    void *arg)
{
  (void)res, (void)arg;
  if (total == 1)
    fwrite(buf, 1, len, stdout);
}

static void on_response(wire_http_client_req_t *req,
                        wire_http_client_res_t *res, void *arg)
{
  (void)req, (void)arg;
  wire_http_client_res_on_data(res, on_data);
}

static void on_error(wire_http_client_req_t *req, int err, void *arg)
{
  (void)req, (void)arg;
  fprintf(stderr, "http_client: %s\n", wire_strerror(err));
  failed = 1;
}

static void on_close(wire_http_client_req_t *req, void *arg)
{
  (void)req;
  wire_agent_t *agent = arg;
  done++;
  if (done == total)
    wire_agent_close(agent, NULL, NULL);
}

static void on_socket(wire_http_client_req_t *req, wire_socket_t *s,
                      void *arg)
{
  (void)req, (void)s;
  wire_agent_stats_t st;
  wire_agent_stats(arg, NULL, 0, NULL, &st);
  if (total > 1)
    printf("agent: sockets=%u requests=%u\n", st.sockets, st.requests);
}

int main(int argc, char **argv)
{
  int port = argc > 1 ? atoi(argv[1]) : 1334;
  total = argc > 2 ? atoi(argv[2]) : 1;
  wire_loop_t *loop = wire_loop_default();
  wire_agent_opts_t ao = WIRE_AGENT_OPTS_INIT;
  ao.max_sockets = 10;
  wire_agent_t *agent;
  if (wire_agent_create(loop, &ao, &agent) < 0)
    return 1;
  wire_http_request_opts_t o = WIRE_HTTP_REQUEST_OPTS_INIT;
  o.hostname = "127.0.0.1";
  o.port = port;
  o.path = "/";
  o.method = "GET";
  o.agent = agent;
  for (int i = 0; i < total; i++) {
    wire_http_client_req_t *req;
    if (wire_http_request(loop, &o, on_response, agent, &req) < 0)
      return 1;
    wire_http_client_req_on_socket(req, on_socket);
    wire_http_client_req_on_error(req, on_error);
    wire_http_client_req_on_close(req, on_close);
    wire_http_client_req_end(req, NULL, 0);
  }
  wire_loop_run(loop, WIRE_RUN_DEFAULT);
  fflush(stdout);
  return wire_loop_close(loop) == 0 ? failed : 3;
}
