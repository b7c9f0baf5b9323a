/* A probe for the HTTP client peer tests (tests/peers/http-client-*.sh):
 * sends N requests, C at a time, through the global agent (or a custom
 * one, or none) and prints one line per event the scripts check.
 *
 *   http_client_probe [options] PORT
 *     -n N          requests (1)          -c C      at a time (1)
 *     -p PATH       path (/)              -X M      method (GET)
 *     -d DATA       body, sent by end: Content-Length
 *     -k DATA       body, written in three pieces: chunked
 *     -H 'N: V'     a header (up to 16)   -a U:P    auth
 *     -h HOST       host (127.0.0.1)      -l ADDR   localAddress
 *     -u PATH       socketPath            -s MS     sleep between requests
 *     -A N          a custom agent with maxSockets N
 *     -0            no agent              -t MS     timeout (close on it)
 *     -U            upgrade/connect: write "ping" to the socket and print
 *                   the head bytes and what comes back
 *
 * Prints: "req I status=S body=B" or "req I error=NAME"; "continue I";
 * "info I S link=L"; "tunnel I status=S head=H echo=E"; "timeout I";
 * "stats sockets=X free=Y requests=Z" once all of the first C requests
 * were handed to the agent; and "final sockets= free= requests= created=
 * reused=" at the end. Exits 0 if every request got a whole response, 1
 * if one did not, 3 if wire_loop_close failed (a leak). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wire.h>

static wire_loop_t *loop;
static wire_agent_t *agent;
static wire_http_request_opts_t base = WIRE_HTTP_REQUEST_OPTS_INIT;
static const char *hdrs[34];
static int nhdrs;
static const char *data, *chunks;
static int total = 1, conc = 1, started, finished, failed, tunnel_mode;
static uint64_t sleep_ms;
static wire_timer_t *gap;

typedef struct {
  int id;
  char body[256];
  size_t len;
  int status;
  int complete;
  wire_socket_t *tunnel;
  char head[64];
  char echo[64];
  size_t echo_len;
} probe_t;

static void start_one(void);
static void on_gap(wire_timer_t *t, void *d);

static void print_stats(const char *tag)
{
  wire_agent_stats_t st;
  wire_agent_t *a = agent != NULL ? agent : wire_agent_global(loop);
  if (base.no_agent || a == NULL)
    return;
  wire_agent_stats(a, NULL, 0, NULL, &st);
  printf("%s sockets=%u free=%u requests=%u created=%llu reused=%llu\n", tag,
         st.sockets, st.free_sockets, st.requests,
         (unsigned long long)st.created, (unsigned long long)st.reused);
  fflush(stdout);
}

static void on_data(wire_http_client_res_t *res, const char *b, size_t n,
                    void *arg)
{
  (void)res;
  probe_t *p = arg;
  for (size_t i = 0; i < n && p->len + 1 < sizeof(p->body); i++)
    p->body[p->len++] = b[i] == '\n' ? '|' : b[i];
}

static void on_end(wire_http_client_res_t *res, void *arg)
{
  probe_t *p = arg;
  p->complete = wire_http_client_res_complete(res);
}

static void on_response(wire_http_client_req_t *req,
                        wire_http_client_res_t *res, void *arg)
{
  (void)req;
  probe_t *p = arg;
  p->status = wire_http_client_res_status(res);
  wire_http_client_res_on_data(res, on_data);
  wire_http_client_res_on_end(res, on_end);
}

static void on_error(wire_http_client_req_t *req, int err, void *arg)
{
  (void)req;
  probe_t *p = arg;
  printf("req %d error=%s\n", p->id, wire_err_name(err));
  p->status = -1;
}

static void on_continue(wire_http_client_req_t *req, void *arg)
{
  (void)req;
  printf("continue %d\n", ((probe_t *)arg)->id);
}

static void on_info(wire_http_client_req_t *req, wire_http_client_res_t *res,
                    void *arg)
{
  (void)req;
  const char *link = wire_http_client_res_header(res, "link");
  printf("info %d %d link=%s\n", ((probe_t *)arg)->id,
         wire_http_client_res_status(res), link ? link : "-");
}

static void on_timeout(wire_http_client_req_t *req, void *arg)
{
  printf("timeout %d\n", ((probe_t *)arg)->id);
  wire_http_client_req_close(req);
}

static void tunnel_data(wire_socket_t *s, const char *b, size_t n, void *d)
{
  probe_t *p = d;
  for (size_t i = 0; i < n && p->echo_len + 1 < sizeof(p->echo); i++)
    p->echo[p->echo_len++] = b[i];
  if (p->echo_len >= 4) {
    printf("tunnel %d status=%d head=%s echo=%s\n", p->id, p->status, p->head,
           p->echo);
    wire_socket_close(s, NULL);
  }
}

static void tunnel_close(wire_socket_t *s, int had_error, void *d)
{
  (void)s, (void)had_error;
  free(d);
}

static void on_tunnel(wire_http_client_req_t *req, wire_http_client_res_t *res,
                      wire_socket_t *s, const char *head, size_t len, void *arg)
{
  (void)req;
  probe_t *p = arg;
  /* The probe outlives the request: the tunnel owns a copy. */
  probe_t *q = calloc(1, sizeof(*q));
  if (q == NULL)
    exit(2);
  *q = *p;
  q->status = wire_http_client_res_status(res);
  p->status = q->status;
  p->complete = 1;
  snprintf(q->head, sizeof(q->head), "%.*s", (int)len, head);
  wire_socket_set_data(s, q);
  wire_socket_on_data(s, tunnel_data);
  wire_socket_on_close(s, tunnel_close);
  wire_socket_write(s, "ping", 4);
}

static void on_close(wire_http_client_req_t *req, void *arg)
{
  (void)req;
  probe_t *p = arg;
  if (p->status > 0 && !tunnel_mode)
    printf("req %d status=%d body=%s\n", p->id, p->status, p->body);
  if (p->status <= 0 || !p->complete)
    failed = 1;
  free(p);
  finished++;
  if (started < total) {
    if (sleep_ms > 0)
      wire_timer_start(gap, sleep_ms, 0, on_gap);
    else
      start_one();
  }
  if (finished == total && agent != NULL) {
    print_stats("final");
    wire_agent_close(agent, NULL, NULL);
  }
  if (finished == total && agent == NULL)
    print_stats("final");
  fflush(stdout);
}

static void start_one(void)
{
  probe_t *p = calloc(1, sizeof(*p));
  if (p == NULL)
    exit(2);
  p->id = started++;
  wire_http_client_req_t *req;
  int err = wire_http_request(loop, &base, on_response, p, &req);
  if (err < 0) {
    fprintf(stderr, "http_client_probe: %s\n", wire_strerror(err));
    exit(2);
  }
  wire_http_client_req_on_error(req, on_error);
  wire_http_client_req_on_close(req, on_close);
  wire_http_client_req_on_continue(req, on_continue);
  wire_http_client_req_on_information(req, on_info);
  wire_http_client_req_on_timeout(req, on_timeout);
  wire_http_client_req_on_upgrade(req, on_tunnel);
  wire_http_client_req_on_connect(req, on_tunnel);
  if (chunks != NULL) {
    size_t n = strlen(chunks), third = n / 3;
    wire_http_client_req_write(req, chunks, third);
    wire_http_client_req_write(req, chunks + third, third);
    wire_http_client_req_end(req, chunks + 2 * third, n - 2 * third);
  } else {
    wire_http_client_req_end(req, data, data ? strlen(data) : 0);
  }
}

static void on_gap(wire_timer_t *t, void *d)
{
  (void)t, (void)d;
  start_one();
}

int main(int argc, char **argv)
{
  base.host = "127.0.0.1";
  int i;
  for (i = 1; i < argc - 1 && argv[i][0] == '-'; i++) {
    const char *o = argv[i];
    if (strcmp(o, "-0") == 0) {
      base.no_agent = 1;
      continue;
    }
    if (strcmp(o, "-U") == 0) {
      tunnel_mode = 1;
      continue;
    }
    const char *v = argv[++i];
    switch (o[1]) {
    case 'n':
      total = atoi(v);
      break;
    case 'c':
      conc = atoi(v);
      break;
    case 'p':
      base.path = v;
      break;
    case 'X':
      base.method = v;
      break;
    case 'd':
      data = v;
      break;
    case 'k':
      chunks = v;
      break;
    case 'a':
      base.auth = v;
      break;
    case 'h':
      base.host = v;
      break;
    case 'l':
      base.local_address = v;
      break;
    case 'u':
      base.socket_path = v;
      break;
    case 's':
      sleep_ms = strtoull(v, NULL, 10);
      break;
    case 't':
      base.timeout_ms = strtoull(v, NULL, 10);
      break;
    case 'A': {
      wire_agent_opts_t ao = WIRE_AGENT_OPTS_INIT;
      ao.max_sockets = (unsigned)atoi(v);
      if (loop == NULL && wire_loop_create(&loop) < 0)
        return 2;
      if (wire_agent_create(loop, &ao, &agent) < 0)
        return 2;
      base.agent = agent;
      break;
    }
    case 'H': {
      if (nhdrs >= 32)
        return 2;
      char *h = strdup(v);
      char *colon = h != NULL ? strchr(h, ':') : NULL;
      if (colon == NULL)
        return 2;
      *colon = '\0';
      hdrs[nhdrs++] = h;
      hdrs[nhdrs++] = colon + 1 + strspn(colon + 1, " ");
      break;
    }
    default:
      fprintf(stderr, "http_client_probe: unknown option %s\n", o);
      return 2;
    }
  }
  if (i != argc - 1) {
    fprintf(stderr, "usage: http_client_probe [options] PORT\n");
    return 2;
  }
  base.port = atoi(argv[i]);
  base.headers = nhdrs > 0 ? hdrs : NULL;
  if (loop == NULL && wire_loop_create(&loop) < 0)
    return 2;
  if (wire_timer_create(loop, &gap) < 0)
    return 2;
  for (int k = 0; k < conc && k < total; k++)
    start_one();
  /* One turn hands the first requests to the agent. */
  wire_loop_run(loop, WIRE_RUN_ONCE);
  print_stats("stats");
  wire_loop_run(loop, WIRE_RUN_DEFAULT);
  wire_timer_close(gap, NULL);
  wire_loop_run(loop, WIRE_RUN_DEFAULT);
  fflush(stdout);
  int err = wire_loop_close(loop);
  if (err < 0) {
    fprintf(stderr, "http_client_probe: wire_loop_close: %s\n",
            wire_err_name(err));
    return 3;
  }
  return failed;
}
