/* http_peer_server: the wire HTTP server the peer scripts drive
 * (tests/peers/http-*.test.sh). Listens on 127.0.0.1 port 0 and prints
 * "listening on http://127.0.0.1:PORT/". Routes:
 *
 *   /echo          the request body back (chunked, written as it arrives,
 *                  pausing the request while the socket is above its
 *                  high-water mark); X-Trailer-Echo: the value of the
 *                  request trailer X-T, if any, as a response trailer
 *   /count         reads the body with pause/resume (resuming on the next
 *                  turn after every data event) and answers "BYTES SUM"
 *                  (SUM: the bytes' sum modulo 2^32)
 *   /big?N         N bytes of the pattern (byte i = (i*31 + i/256) & 255)
 *                  with write/drain, chunked
 *   /chunks?N      N chunks, chunk k being k+1 copies of 'a' + k % 26
 *   /hwm           the peak resident set, VmHWM in kB ("--asan" appended
 *                  when built with AddressSanitizer: then it means nothing)
 *   anything else  "Hello World\n" with Content-Length
 *
 * Runs until killed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wire.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PEER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define PEER_ASAN 1
#endif

static wire_loop_t *loop;

static long vmhwm_kb(void)
{
  FILE *f = fopen("/proc/self/status", "r");
  if (f == NULL)
    return -1;
  char line[256];
  long kb = -1;
  while (fgets(line, sizeof(line), f) != NULL) {
    if (strncmp(line, "VmHWM:", 6) == 0) {
      kb = strtol(line + 6, NULL, 10);
      break;
    }
  }
  fclose(f);
  return kb;
}

static char pat(uint64_t i)
{
  return (char)((i * 31u + (i >> 8)) & 0xff);
}

/* ---- /echo ----------------------------------------------------------------- */

static void echo_drain(wire_http_res_t *res, void *d)
{
  (void)d;
  wire_http_req_resume(wire_http_res_req(res));
}

static void echo_data(wire_http_req_t *req, const char *b, size_t n, void *d)
{
  wire_http_res_t *res = d;
  if (wire_http_res_write(res, b, n) == 0)
    wire_http_req_pause(req);
}

static void echo_end(wire_http_req_t *req, void *d)
{
  wire_http_res_t *res = d;
  const char *t = wire_http_req_trailer(req, "X-T");
  if (t != NULL)
    wire_http_res_add_trailer(res, "X-Trailer-Echo", t);
  wire_http_res_end(res, NULL, 0);
}

/* ---- /count ------------------------------------------------------------------ */

typedef struct {
  wire_http_res_t *res;
  wire_timer_t *t;
  uint64_t n;
  uint32_t sum;
} count_t;

static void count_resume(wire_timer_t *t, void *d)
{
  (void)t;
  count_t *k = d;
  wire_http_req_resume(wire_http_res_req(k->res));
}

static void count_data(wire_http_req_t *req, const char *b, size_t n,
                       void *d)
{
  count_t *k = d;
  for (size_t i = 0; i < n; i++)
    k->sum += (unsigned char)b[i];
  k->n += n;
  wire_http_req_pause(req);
  wire_timer_start(k->t, 0, 0, count_resume);
}

static void count_end(wire_http_req_t *req, void *d)
{
  (void)req;
  count_t *k = d;
  char out[64];
  int n = snprintf(out, sizeof(out), "%llu %u", (unsigned long long)k->n,
                   (unsigned)k->sum);
  wire_http_res_end(k->res, out, (size_t)n);
  wire_timer_close(k->t, NULL);
  free(k);
}

static void count_closed(wire_http_res_t *res, void *d)
{
  count_t *k = d;
  wire_timer_close(k->t, NULL);
  free(k);
  wire_http_res_end(res, NULL, 0);
}

/* ---- /big --------------------------------------------------------------------- */

typedef struct {
  uint64_t sent, total;
} big_t;

static void big_write(wire_http_res_t *res, void *d)
{
  big_t *b = d;
  char chunk[65536];
  while (b->sent < b->total) {
    size_t n = sizeof(chunk);
    if (b->total - b->sent < n)
      n = (size_t)(b->total - b->sent);
    for (size_t i = 0; i < n; i++)
      chunk[i] = pat(b->sent + i);
    b->sent += n;
    int r = wire_http_res_write(res, chunk, n);
    if (r < 0) {
      free(b);
      wire_http_res_end(res, NULL, 0);
      return;
    }
    if (r == 0)
      return;
  }
  free(b);
  wire_http_res_set_data(res, NULL);
  wire_http_res_end(res, NULL, 0);
}

static void big_closed(wire_http_res_t *res, void *d)
{
  free(d);
  wire_http_res_end(res, NULL, 0);
}

/* ---- routing ------------------------------------------------------------------ */

static void on_request(wire_http_server_t *srv, wire_http_req_t *req,
                       wire_http_res_t *res, void *data)
{
  (void)srv, (void)data;
  const char *url = wire_http_req_url(req);
  const char *q = strchr(url, '?');
  long arg = q != NULL ? strtol(q + 1, NULL, 10) : 0;
  if (strcmp(url, "/echo") == 0) {
    wire_http_req_set_data(req, res);
    wire_http_req_on_data(req, echo_data);
    wire_http_req_on_end(req, echo_end);
    wire_http_res_on_drain(res, echo_drain);
    wire_http_res_set_header(res, "Content-Type", "application/octet-stream");
    wire_http_res_flush_headers(res);
  } else if (strcmp(url, "/count") == 0) {
    count_t *k = calloc(1, sizeof(*k));
    k->res = res;
    wire_timer_create(loop, &k->t);
    wire_timer_set_data(k->t, k);
    wire_http_req_set_data(req, k);
    wire_http_req_on_data(req, count_data);
    wire_http_req_on_end(req, count_end);
    wire_http_res_set_data(res, k);
    wire_http_res_on_close(res, count_closed);
  } else if (strncmp(url, "/big?", 5) == 0) {
    big_t *b = calloc(1, sizeof(*b));
    b->total = (uint64_t)arg;
    wire_http_res_set_data(res, b);
    wire_http_res_on_drain(res, big_write);
    wire_http_res_on_close(res, big_closed);
    big_write(res, b);
  } else if (strncmp(url, "/chunks?", 8) == 0) {
    char buf[4096];
    for (long k = 0; k < arg; k++) {
      size_t n = (size_t)(k + 1) % sizeof(buf);
      memset(buf, 'a' + (int)(k % 26), n);
      wire_http_res_write(res, buf, n);
    }
    wire_http_res_end(res, NULL, 0);
  } else if (strcmp(url, "/hwm") == 0) {
    char out[64];
    int n = snprintf(out, sizeof(out), "%ld%s", vmhwm_kb(),
#ifdef PEER_ASAN
                     " --asan"
#else
                     ""
#endif
    );
    wire_http_res_end(res, out, (size_t)n);
  } else {
    wire_http_res_set_header(res, "Content-Type", "text/plain");
    wire_http_res_end(res, "Hello World\n", 12);
  }
}

int main(void)
{
  loop = wire_loop_default();
  wire_http_server_t *srv;
  if (wire_http_server_create(loop, NULL, on_request, &srv) < 0)
    return 1;
  int err = wire_http_server_listen(srv, "127.0.0.1", 0, NULL);
  if (err < 0) {
    fprintf(stderr, "http_peer_server: %s\n", wire_strerror(err));
    return 1;
  }
  wire_addr_t a;
  wire_http_server_address(srv, &a);
  printf("listening on http://127.0.0.1:%d/\n", a.port);
  fflush(stdout);
  wire_loop_run(loop, WIRE_RUN_DEFAULT);
  return 0;
}
