/* The wire side of bench/http-client.sh: C keep-alive connections kept
 * busy for a fixed time through one agent (max_sockets C), public API
 * only. Each of C workers issues a GET and, as soon as its response ends,
 * the next one; the agent hands the connection that just finished to it.
 * After WARMUP seconds it takes the count and its own CPU time
 * (utime+stime from /proc/self/stat), again DURATION seconds later, stops
 * issuing, waits for the requests in flight and closes the agent. Prints
 * one line:
 *
 *   requests N seconds S cpu C errors E
 *
 * Usage: http_client_wire PORT CONNS DURATION WARMUP [HOST] [PATH] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wire.h>

static wire_loop_t *loop;
static wire_agent_t *agent;
static wire_http_request_opts_t opts = WIRE_HTTP_REQUEST_OPTS_INIT;
static int running = 1;
static long inflight, done, errors, n0;
static double t0, cpu0, secs, cpu;
static wire_timer_t *timer;

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* utime + stime of this process, in seconds. */
static double cpu_s(void)
{
  char buf[1024];
  FILE *f = fopen("/proc/self/stat", "r");
  if (f == NULL)
    return 0;
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  /* Fields after the command name, which may hold spaces: state is the
   * 3rd field, utime the 14th, stime the 15th. */
  char *p = strrchr(buf, ')');
  if (p == NULL)
    return 0;
  unsigned long ut = 0, st = 0;
  if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
             &st) != 2)
    return 0;
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void issue(void);

static void on_end(wire_http_client_res_t *res, void *arg)
{
  (void)res;
  *(int *)arg = 1;
  done++;
  if (running)
    issue();
}

static void on_response(wire_http_client_req_t *req,
                        wire_http_client_res_t *res, void *arg)
{
  (void)req;
  if (wire_http_client_res_status(res) != 200)
    errors++;
  wire_http_client_res_on_end(res, on_end);
  (void)arg;
}

static void on_close(wire_http_client_req_t *req, void *arg)
{
  (void)req;
  int *ended = arg;
  inflight--;
  if (!*ended) {
    errors++;
    if (running)
      issue();
  }
  free(ended);
  if (!running && inflight == 0 && agent != NULL) {
    wire_agent_close(agent, NULL, NULL);
    agent = NULL;
  }
}

static void issue(void)
{
  int *ended = calloc(1, sizeof(*ended));
  wire_http_client_req_t *req;
  if (ended == NULL ||
      wire_http_request(loop, &opts, on_response, ended, &req) < 0) {
    free(ended);
    errors++;
    return;
  }
  inflight++;
  wire_http_client_req_on_close(req, on_close);
  wire_http_client_req_end(req, NULL, 0);
}

static void on_stop(wire_timer_t *t, void *data)
{
  (void)data;
  secs = now_s() - t0;
  cpu = cpu_s() - cpu0;
  n0 = done - n0;
  running = 0;
  wire_timer_close(t, NULL);
  if (inflight == 0 && agent != NULL) {
    wire_agent_close(agent, NULL, NULL);
    agent = NULL;
  }
}

static void on_warm(wire_timer_t *t, void *data)
{
  (void)data;
  t0 = now_s();
  cpu0 = cpu_s();
  n0 = done;
  errors = 0;
  wire_timer_start(t, (uint64_t)(secs * 1000), 0, on_stop);
}

int main(int argc, char **argv)
{
  if (argc < 5) {
    fprintf(stderr, "usage: http_client_wire PORT CONNS DURATION WARMUP "
                    "[HOST] [PATH]\n");
    return 2;
  }
  int conns = atoi(argv[2]);
  double duration = atof(argv[3]);
  double warmup = atof(argv[4]);
  loop = wire_loop_default();
  wire_agent_opts_t ao = WIRE_AGENT_OPTS_INIT;
  ao.max_sockets = (unsigned)conns;
  ao.max_free_sockets = (unsigned)conns;
  if (loop == NULL || wire_agent_create(loop, &ao, &agent) < 0 ||
      wire_timer_create(loop, &timer) < 0) {
    fprintf(stderr, "http_client_wire: setup failed\n");
    return 1;
  }
  opts.host = argc > 5 ? argv[5] : "127.0.0.1";
  opts.port = atoi(argv[1]);
  opts.path = argc > 6 ? argv[6] : "/";
  opts.agent = agent;
  secs = duration; /* on_warm reads it as the run's length */
  wire_timer_start(timer, (uint64_t)(warmup * 1000), 0, on_warm);
  for (int i = 0; i < conns; i++)
    issue();
  wire_loop_run(loop, WIRE_RUN_DEFAULT);
  printf("requests %ld seconds %.3f cpu %.3f errors %ld\n", n0, secs, cpu,
         errors);
  return wire_loop_close(loop) == 0 ? 0 : 3;
}
