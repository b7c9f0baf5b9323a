/* wire get: a curl-like HTTP client on wire's http.request and Agent,
 * using only the public API.
 *
 *   wire get URL [-X METHOD] [-H 'K: V']... [-d DATA | -d @FILE]
 *                [-o FILE] [-i] [-v] [--unix PATH] [-u user:pass]
 *                [-n N -c C] [--cacert F] [--cert F --key F] [--insecure]
 *
 * One request (the default): the head is built here, not by the library,
 * so that -v can print exactly what goes out: the request line, Host,
 * User-Agent, Accept, the -H headers, Content-Type and Content-Length for
 * a body, Connection: keep-alive; the library adds only Authorization
 * (from -u, after the others) and, for a body of unknown length (a pipe
 * given as -d @FILE), Transfer-Encoding: chunked. A -d @FILE body is read
 * in 64 KiB chunks: when the request's write returns 0 the next chunk
 * waits for the request's drain event, so a large upload never sits in
 * memory. The response body goes to stdout (or -o FILE) with write(),
 * synchronously, as wire tcp writes its stdout.
 *
 * Load mode (-n N -c C): N requests, C at a time, through one agent with
 * max_sockets C. Each request's latency is taken from its
 * wire_http_request call to its response's end (CLOCK_MONOTONIC); when a
 * request's close event runs, the next one starts. At the end it prints
 * the rate, the latency percentiles (nearest rank), the errors and the
 * agent's counts.
 *
 * https:// URLs go out over TLS (port 443 by default) with the system CAs,
 * or only --cacert's; --cert/--key present a client certificate (mutual
 * TLS); --insecure (-k) accepts a certificate that does not verify. A TLS
 * failure prints OpenSSL's reason.
 *
 * Both modes use a private agent, closed at the end, so the loop closes
 * with nothing left (wire_loop_close is the leak check). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define CHUNK (64 * 1024)
#define CHUNKS_PER_TURN 16 /* then yield to the loop */
#define PROGRESS_MS 100    /* redraw the progress bar at most this often */
#define EXIT_HTTP 22       /* a response >= 400, as curl -f */

static const char usage_text[] =
    "usage: wire get URL [options]\n"
    "\n"
    "Fetches URL (http[s]://[user:pass@]host[:port][/path]) and writes the\n"
    "response body to stdout.\n"
    "\n"
    "  -X METHOD      request method (default GET, or POST with -d)\n"
    "  -H 'K: V'      add a header (repeatable); 'K:' drops a default one\n"
    "  -d DATA        send DATA as the body (as curl --data-binary)\n"
    "  -d @FILE       send FILE's bytes as the body, streamed ('-': stdin)\n"
    "  -o FILE        write the body to FILE (progress bar on a terminal)\n"
    "  -i             print the status line and headers before the body\n"
    "  -v             print the request and response heads to stderr\n"
    "  -u USER:PASS   Basic authorization\n"
    "  --unix PATH    connect to the Unix socket PATH instead of host:port\n"
    "  -n N -c C      load: N requests, C at a time, on one agent with C\n"
    "                 sockets; prints requests/s, latency and agent counts\n"
    "  --cacert FILE  https: trust only these CA certificates (PEM)\n"
    "  --cert FILE    https: client certificate (PEM), with --key\n"
    "  --key FILE     https: its private key (PEM)\n"
    "  -k, --insecure https: accept a certificate that does not verify\n"
    "\n"
    "Exit status: 0 for a 1xx-3xx response, 22 for 400 and above, 1 on an\n"
    "error (connection, protocol, file), 2 on bad arguments.\n";

typedef struct {
  const char *url;
  const char *method;
  const char *data;      /* -d DATA */
  const char *data_file; /* -d @FILE */
  const char *out_file;
  const char *unix_path;
  const char *user;
  int include;
  int verbose;
  long n, c;
  const char *cacert, *cert, *key; /* https */
  int insecure;
  int tls; /* an https:// URL */
  /* Parsed from the URL. */
  char *host; /* without brackets */
  int port;
  char *path;
  char *url_auth; /* decoded userinfo, or NULL */
  /* The headers sent, "name", "value", ..., NULL. */
  char **hdrs;
  size_t nhdrs, cap;
} args_t;

static struct {
  wire_loop_t *loop;
  wire_agent_t *agent;
  wire_tls_ctx_t *tls_ctx; /* --cacert / --cert / --key, or NULL */
  args_t a;
  int status; /* the exit code */
  /* One request. */
  wire_http_client_req_t *req;
  wire_timer_t *feed; /* continues reading a -d @FILE body */
  int in_fd;          /* -d @FILE, -1 when done */
  int64_t in_left;    /* bytes of a regular file still to send; -1: stream */
  int feeding;
  int req_closed;
  int out_fd;
  int out_failed;
  uint64_t got, total; /* body bytes received; Content-Length or 0 */
  int progress;        /* draw the bar */
  uint64_t t_start, t_drawn;
  /* Load mode. */
  char *body; /* -d DATA or the file's bytes */
  size_t body_len;
  long started, finished, errors, ok, bad;
  uint64_t *lat; /* ns, one per completed request */
  long nlat;
} st;

/* ---- small helpers ----------------------------------------------------- */

static uint64_t now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void fail(const char *what, int err)
{
  if (st.progress && st.got > 0)
    fputc('\n', stderr);
  fprintf(stderr, "wire get: %s: %s\n", what, wire_strerror(err));
  st.status = 1;
}


static int hdr_has(const args_t *a, const char *name)
{
  for (size_t i = 0; i < a->nhdrs; i += 2) {
    if (strcasecmp(a->hdrs[i], name) == 0)
      return 1;
  }
  return 0;
}

/* Appends a header (copies of name and value). */
static int hdr_push(args_t *a, const char *name, size_t nlen, const char *value)
{
  if (a->nhdrs + 3 > a->cap) {
    size_t cap = a->cap ? a->cap * 2 : 32;
    char **p = realloc(a->hdrs, cap * sizeof(*p));
    if (p == NULL)
      return WIRE_ENOMEM;
    a->hdrs = p;
    a->cap = cap;
  }
  char *n = strndup(name, nlen);
  char *v = strdup(value);
  if (n == NULL || v == NULL) {
    free(n);
    free(v);
    return WIRE_ENOMEM;
  }
  a->hdrs[a->nhdrs++] = n;
  a->hdrs[a->nhdrs++] = v;
  a->hdrs[a->nhdrs] = NULL;
  return 0;
}

static void hdrs_free(args_t *a)
{
  for (size_t i = 0; i < a->nhdrs; i++)
    free(a->hdrs[i]);
  free(a->hdrs);
  a->hdrs = NULL;
  a->nhdrs = a->cap = 0;
}

static int hexval(int ch)
{
  if (ch >= '0' && ch <= '9')
    return ch - '0';
  if (ch >= 'a' && ch <= 'f')
    return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F')
    return ch - 'A' + 10;
  return -1;
}

/* Decodes %XX escapes in place (userinfo, as curl does). */
static void pct_decode(char *s)
{
  char *w = s;
  for (char *r = s; *r != '\0'; r++) {
    if (r[0] == '%' && hexval(r[1]) >= 0 && hexval(r[2]) >= 0) {
      *w++ = (char)(hexval(r[1]) * 16 + hexval(r[2]));
      r += 2;
    } else {
      *w++ = *r;
    }
  }
  *w = '\0';
}

/* http://[user[:pass]@]host[:port][/path][?query][#frag]; no scheme means
 * http. Returns 0, or -1 with a message printed. */
static int parse_url(args_t *a, const char *url)
{
  const char *p = url;
  const char *sep = strstr(url, "://");
  if (sep != NULL) {
    size_t slen = (size_t)(sep - url);
    if (slen == 5 && strncasecmp(url, "https", 5) == 0) {
      a->tls = 1;
    } else if (slen != 4 || strncasecmp(url, "http", 4) != 0) {
      fprintf(stderr, "wire get: unsupported scheme in '%s'\n", url);
      return -1;
    }
    p = sep + 3;
  }
  size_t alen = strcspn(p, "/?#");
  char *auth = strndup(p, alen);
  if (auth == NULL)
    return -1;
  const char *rest = p + alen;
  char *hostport = auth;
  char *at = strrchr(auth, '@');
  if (at != NULL) {
    *at = '\0';
    a->url_auth = strdup(auth);
    if (a->url_auth != NULL)
      pct_decode(a->url_auth);
    hostport = at + 1;
  }
  a->port = a->tls ? 443 : 80;
  char *host = hostport;
  char *portstr = NULL;
  if (host[0] == '[') {
    char *close = strchr(host, ']');
    if (close == NULL || (close[1] != '\0' && close[1] != ':'))
      goto bad;
    *close = '\0';
    host++;
    if (close[1] == ':')
      portstr = close + 2;
  } else {
    char *colon = strchr(host, ':');
    if (colon != NULL) {
      *colon = '\0';
      portstr = colon + 1;
    }
  }
  if (portstr != NULL && *portstr != '\0') {
    char *end;
    long v = strtol(portstr, &end, 10);
    if (*end != '\0' || v < 1 || v > 65535)
      goto bad;
    a->port = (int)v;
  }
  if (host[0] == '\0')
    goto bad;
  a->host = strdup(host);
  /* The fragment is not sent; an empty path is "/". */
  size_t plen = strcspn(rest, "#");
  if (plen == 0 || rest[0] == '?') {
    a->path = malloc(plen + 2);
    if (a->path != NULL) {
      a->path[0] = '/';
      memcpy(a->path + 1, rest, plen);
      a->path[plen + 1] = '\0';
    }
  } else {
    a->path = strndup(rest, plen);
  }
  free(auth);
  if (a->host == NULL || a->path == NULL)
    return -1;
  return 0;
bad:
  fprintf(stderr, "wire get: bad URL '%s'\n", url);
  free(auth);
  return -1;
}

/* ---- the request head -------------------------------------------------- */

/* Does -H give name (with any value, or dropped with 'name:')? */
static int user_has(char **user, size_t nuser, const char *name)
{
  for (size_t i = 0; i < nuser; i++) {
    const char *h = user[i];
    size_t nl = strcspn(h, ":;");
    if (strlen(name) == nl && strncasecmp(h, name, nl) == 0)
      return 1;
  }
  return 0;
}

/* Builds st.a.hdrs: the defaults (unless -H names them), then the -H
 * headers in order. body_len: the body's length, -1 for none, -2 for a
 * body of unknown length. */
static int build_headers(args_t *a, char **user, size_t nuser, int64_t body_len)
{
  int err = 0;
  char buf[600];
  if (!user_has(user, nuser, "Host")) {
    int v6 = strchr(a->host, ':') != NULL;
    int n = snprintf(buf, sizeof(buf), "%s%s%s", v6 ? "[" : "", a->host,
                     v6 ? "]" : "");
    if (a->port != (a->tls ? 443 : 80) && n > 0 && (size_t)n < sizeof(buf))
      snprintf(buf + n, sizeof(buf) - (size_t)n, ":%d", a->port);
    err = hdr_push(a, "Host", 4, buf);
  }
  if (err == 0 && !user_has(user, nuser, "User-Agent"))
    err = hdr_push(a, "User-Agent", 10, "wire/" WIRE_VERSION_STRING);
  if (err == 0 && !user_has(user, nuser, "Accept"))
    err = hdr_push(a, "Accept", 6, "*/*");
  for (size_t i = 0; err == 0 && i < nuser; i++) {
    const char *h = user[i];
    size_t nl = strcspn(h, ":;");
    if (nl == 0 || h[nl] == '\0') {
      fprintf(stderr, "wire get: bad header '%s' (want 'Name: value')\n", h);
      return -1;
    }
    const char *v = h + nl + 1;
    if (h[nl] == ';') {
      /* curl's 'Name;': the header with an empty value. */
      if (*v != '\0') {
        fprintf(stderr, "wire get: bad header '%s'\n", h);
        return -1;
      }
      err = hdr_push(a, h, nl, "");
      continue;
    }
    while (*v == ' ' || *v == '\t')
      v++;
    size_t vl = strlen(v);
    while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
      vl--;
    if (vl == 0)
      continue; /* 'Name:' only drops a default header */
    char *val = strndup(v, vl);
    if (val == NULL)
      return WIRE_ENOMEM;
    err = hdr_push(a, h, nl, val);
    free(val);
  }
  int body_method = strcmp(a->method, "POST") == 0 ||
                    strcmp(a->method, "PUT") == 0 ||
                    strcmp(a->method, "PATCH") == 0;
  if (err == 0 && body_len != -1 && !user_has(user, nuser, "Content-Type"))
    err = hdr_push(a, "Content-Type", 12, "application/x-www-form-urlencoded");
  if (err == 0 && !user_has(user, nuser, "Content-Length") &&
      !user_has(user, nuser, "Transfer-Encoding") &&
      (body_len >= 0 || (body_len == -1 && body_method))) {
    snprintf(buf, sizeof(buf), "%lld",
             (long long)(body_len >= 0 ? body_len : 0));
    err = hdr_push(a, "Content-Length", 14, buf);
  }
  if (err == 0 && !user_has(user, nuser, "Connection"))
    err = hdr_push(a, "Connection", 10, "keep-alive");
  if (err < 0) {
    fail("headers", err);
    return -1;
  }
  return 0;
}

static void base64(const char *in, size_t n, char *out)
{
  static const char t[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const unsigned char *s = (const unsigned char *)in;
  size_t i = 0;
  for (; i + 2 < n; i += 3) {
    *out++ = t[s[i] >> 2];
    *out++ = t[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
    *out++ = t[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)];
    *out++ = t[s[i + 2] & 63];
  }
  if (i < n) {
    *out++ = t[s[i] >> 2];
    if (i + 1 < n) {
      *out++ = t[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
      *out++ = t[(s[i + 1] & 15) << 2];
    } else {
      *out++ = t[(s[i] & 3) << 4];
      *out++ = '=';
    }
    *out++ = '=';
  }
  *out = '\0';
}

/* -v: the head as the library sends it (see the note at the top). */
static void print_request_head(int chunked)
{
  const args_t *a = &st.a;
  fprintf(stderr, "> %s %s HTTP/1.1\n", a->method, a->path);
  for (size_t i = 0; i < a->nhdrs; i += 2)
    fprintf(stderr, "> %s: %s\n", a->hdrs[i], a->hdrs[i + 1]);
  const char *auth = a->user != NULL ? a->user : a->url_auth;
  if (auth != NULL && !hdr_has(a, "Authorization")) {
    size_t n = strlen(auth);
    char *b = malloc(4 * ((n + 2) / 3) + 1);
    if (b != NULL) {
      base64(auth, n, b);
      fprintf(stderr, "> Authorization: Basic %s\n", b);
      free(b);
    }
  }
  if (chunked)
    fprintf(stderr, "> Transfer-Encoding: chunked\n");
  fprintf(stderr, ">\n");
}

/* The status line and headers, with prefix and line end, to f. */
static void print_response_head(FILE *f, wire_http_client_res_t *res,
                                const char *prefix, const char *eol)
{
  int v = wire_http_client_res_version(res);
  fprintf(f, "%sHTTP/%d.%d %d %s%s", prefix, v / 10, v % 10,
          wire_http_client_res_status(res), wire_http_client_res_reason(res),
          eol);
  size_t n = wire_http_client_res_header_count(res);
  for (size_t i = 0; i < n; i++) {
    const char *name;
    const char *value;
    if (wire_http_client_res_header_at(res, i, &name, &value) == 0)
      fprintf(f, "%s%s: %s%s", prefix, name, value, eol);
  }
  /* The empty line that ends the head: "<", not "< ". */
  fprintf(f, "%.*s%s", (int)strcspn(prefix, " "), prefix, eol);
}

/* ---- the progress bar -------------------------------------------------- */

static void human(double v, char *out, size_t n)
{
  static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    u++;
  }
  snprintf(out, n, u == 0 ? "%.0f %s" : "%.2f %s", v, units[u]);
}

static void draw_progress(int last)
{
  uint64_t t = now_ns();
  if (!last && t - st.t_drawn < PROGRESS_MS * 1000000ull)
    return;
  st.t_drawn = t;
  double secs = (double)(t - st.t_start) / 1e9;
  char got[32], total[32], rate[32];
  human((double)st.got, got, sizeof(got));
  human(secs > 0 ? (double)st.got / secs : 0, rate, sizeof(rate));
  if (st.total > 0) {
    double frac = (double)st.got / (double)st.total;
    if (frac > 1)
      frac = 1;
    char bar[31];
    int fill = (int)(frac * 30);
    for (int i = 0; i < 30; i++)
      bar[i] = i < fill ? '#' : ' ';
    bar[30] = '\0';
    human((double)st.total, total, sizeof(total));
    fprintf(stderr, "\r%5.1f%% [%s] %s / %s  %s/s   ", frac * 100, bar, got,
            total, rate);
  } else {
    fprintf(stderr, "\r%s  %s/s   ", got, rate);
  }
  if (last)
    fputc('\n', stderr);
  fflush(stderr);
}

/* ---- one request ------------------------------------------------------- */

static void on_feed(wire_timer_t *t, void *d);

static void stop_feed(void)
{
  if (st.in_fd > STDIN_FILENO)
    close(st.in_fd);
  st.in_fd = -1;
  if (st.feed != NULL) {
    wire_timer_close(st.feed, NULL);
    st.feed = NULL;
  }
}

/* Sends the -d @FILE body until the request pushes back (its drain event
 * calls this again), the file ends (end), or a turn's worth of chunks went
 * out (the feed timer calls this again). */
static void feed_body(void)
{
  static char buf[CHUNK];
  if (st.feeding)
    return;
  st.feeding = 1;
  for (int i = 0; i < CHUNKS_PER_TURN; i++) {
    if (st.in_fd < 0 || st.req_closed)
      goto out;
    size_t want = sizeof(buf);
    if (st.in_left >= 0 && (uint64_t)st.in_left < want)
      want = (size_t)st.in_left;
    ssize_t n = want > 0 ? read(st.in_fd, buf, want) : 0;
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 || (n == 0 && st.in_left > 0)) {
      fail(st.a.data_file, n < 0 ? -errno : WIRE_EOF);
      stop_feed();
      wire_http_client_req_close(st.req);
      goto out;
    }
    if (n == 0) {
      stop_feed();
      int r = wire_http_client_req_end(st.req, NULL, 0);
      if (r < 0 && r != WIRE_ECLOSED)
        fail("send", r);
      goto out;
    }
    if (st.in_left > 0)
      st.in_left -= n;
    int r = wire_http_client_req_write(st.req, buf, (size_t)n);
    if (r < 0) {
      /* WIRE_ECLOSED: the server answered (and the request is done)
       * before taking the whole body; the answer is what counts. */
      if (r != WIRE_ECLOSED)
        fail("send", r);
      stop_feed();
      goto out;
    }
    if (r == 0)
      goto out; /* on_drain calls again */
  }
  wire_timer_start(st.feed, 0, 0, on_feed);
out:
  st.feeding = 0;
}

static void on_feed(wire_timer_t *t, void *d)
{
  (void)t, (void)d;
  feed_body();
}

static void on_drain(wire_http_client_req_t *req, void *arg)
{
  (void)req, (void)arg;
  feed_body();
}

static void on_data(wire_http_client_res_t *res, const char *buf, size_t len,
                    void *arg)
{
  (void)res, (void)arg;
  if (st.out_failed)
    return;
  st.got += len;
  int r = cli_write_all(st.out_fd, buf, len);
  if (r < 0) {
    st.out_failed = 1;
    fail(st.a.out_file != NULL ? st.a.out_file : "stdout", r);
    wire_http_client_req_close(st.req);
    return;
  }
  if (st.progress)
    draw_progress(0);
}

static void on_end(wire_http_client_res_t *res, void *arg)
{
  (void)res, (void)arg;
  if (st.progress)
    draw_progress(1);
  if (st.a.verbose)
    fprintf(stderr, "* %llu body bytes\n", (unsigned long long)st.got);
}

static void on_response(wire_http_client_req_t *req,
                        wire_http_client_res_t *res, void *arg)
{
  (void)req, (void)arg;
  int code = wire_http_client_res_status(res);
  st.status = code >= 400 ? EXIT_HTTP : 0;
  if (st.a.verbose)
    print_response_head(stderr, res, "< ", "\n");
  if (st.a.include) {
    print_response_head(stdout, res, "", "\r\n");
    fflush(stdout);
  }
  if (st.a.out_file != NULL) {
    st.out_fd =
        open(st.a.out_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (st.out_fd < 0) {
      st.out_failed = 1;
      fail(st.a.out_file, -errno);
      wire_http_client_req_close(req);
      return;
    }
    const char *cl = wire_http_client_res_header(res, "Content-Length");
    st.total = cl != NULL ? strtoull(cl, NULL, 10) : 0;
    st.progress = isatty(STDERR_FILENO);
    st.t_start = st.t_drawn = now_ns();
  }
  wire_http_client_res_on_data(res, on_data);
  wire_http_client_res_on_end(res, on_end);
}

static void on_information(wire_http_client_req_t *req,
                           wire_http_client_res_t *res, void *arg)
{
  (void)req, (void)arg;
  if (st.a.verbose)
    print_response_head(stderr, res, "< ", "\n");
}

static void on_socket(wire_http_client_req_t *req, wire_socket_t *s, void *arg)
{
  (void)s, (void)arg;
  if (!st.a.verbose)
    return;
  if (st.a.unix_path != NULL)
    fprintf(stderr, "* unix socket %s\n", st.a.unix_path);
  else
    fprintf(stderr, "* %s connection to %s port %d\n",
            wire_http_client_req_reused_socket(req) ? "reused" : "new",
            st.a.host, st.a.port);
}

static void on_req_error(wire_http_client_req_t *req, int err, void *arg)
{
  (void)arg;
  if (st.out_failed)
    return;
  fail(st.a.url, err);
  const char *why = wire_http_client_req_error_reason(req);
  if (why != NULL)
    fprintf(stderr, "wire get: %s\n", why);
}

static void on_req_close(wire_http_client_req_t *req, void *arg)
{
  (void)req, (void)arg;
  st.req_closed = 1;
  st.req = NULL;
  stop_feed();
  wire_agent_close(st.agent, NULL, NULL);
  st.agent = NULL;
}

/* ---- load mode --------------------------------------------------------- */

typedef struct {
  uint64_t t0;
  int ended;
} slot_t;

static void start_one(void);
static int start_req(void);

static void on_load_end(wire_http_client_res_t *res, void *arg)
{
  slot_t *sl = arg;
  (void)res;
  sl->ended = 1;
  st.lat[st.nlat++] = now_ns() - sl->t0;
}

static void on_load_data(wire_http_client_res_t *res, const char *buf,
                         size_t len, void *arg)
{
  (void)res, (void)buf, (void)arg;
  st.got += len;
}

static void on_load_response(wire_http_client_req_t *req,
                             wire_http_client_res_t *res, void *arg)
{
  (void)req, (void)arg;
  if (wire_http_client_res_status(res) >= 400)
    st.bad++;
  else
    st.ok++;
  wire_http_client_res_on_data(res, on_load_data);
  wire_http_client_res_on_end(res, on_load_end);
}

static int first_error;

static void on_load_error(wire_http_client_req_t *req, int err, void *arg)
{
  (void)arg;
  if (first_error == 0) {
    first_error = err;
    const char *why = wire_http_client_req_error_reason(req);
    if (why != NULL)
      fprintf(stderr, "wire get: %s\n", why);
  }
}

static void on_load_close(wire_http_client_req_t *req, void *arg)
{
  slot_t *sl = arg;
  (void)req;
  if (!sl->ended)
    st.errors++;
  free(sl);
  st.finished++;
  if (st.started < st.a.n)
    start_one();
  else if (st.finished == st.a.n)
    st.t_drawn = now_ns(); /* the end of the run */
}

/* Starts the next request; one that fails at once counts as an error and
 * the one after it is tried. */
static void start_one(void)
{
  while (st.started < st.a.n && start_req() < 0) {
  }
}

static int start_req(void)
{
  slot_t *sl = calloc(1, sizeof(*sl));
  st.started++;
  if (sl == NULL) {
    st.errors++;
    st.finished++;
    return -1;
  }
  wire_http_request_opts_t o = WIRE_HTTP_REQUEST_OPTS_INIT;
  o.host = st.a.host;
  o.port = st.a.port;
  o.socket_path = st.a.unix_path;
  o.method = st.a.method;
  o.path = st.a.path;
  o.headers = (const char *const *)st.a.hdrs;
  o.auth = st.a.user != NULL ? st.a.user : st.a.url_auth;
  o.agent = st.agent;
  o.tls = st.a.tls;
  o.tls_ctx = st.tls_ctx;
  o.reject_unauthorized = !st.a.insecure;
  wire_http_client_req_t *req;
  sl->t0 = now_ns();
  int err = wire_http_request(st.loop, &o, on_load_response, sl, &req);
  if (err < 0) {
    if (first_error == 0)
      first_error = err;
    free(sl);
    st.errors++;
    st.finished++;
    return -1;
  }
  wire_http_client_req_on_error(req, on_load_error);
  wire_http_client_req_on_close(req, on_load_close);
  err = wire_http_client_req_end(req, st.body, st.body_len);
  if (err < 0 && first_error == 0)
    first_error = err;
  return 0;
}

static int cmp_u64(const void *x, const void *y)
{
  uint64_t a = *(const uint64_t *)x;
  uint64_t b = *(const uint64_t *)y;
  return a < b ? -1 : a > b;
}

/* Nearest rank: the smallest value with at least p of them at or below. */
static double pct_ms(double p)
{
  if (st.nlat == 0)
    return 0;
  long k = (long)(p * (double)st.nlat + 0.999999);
  if (k < 1)
    k = 1;
  if (k > st.nlat)
    k = st.nlat;
  return (double)st.lat[k - 1] / 1e6;
}

static void print_load_report(uint64_t t0)
{
  double secs = (double)(st.t_drawn - t0) / 1e9;
  qsort(st.lat, (size_t)st.nlat, sizeof(st.lat[0]), cmp_u64);
  wire_agent_stats_t as;
  wire_agent_stats(st.agent, NULL, 0, NULL, &as);
  printf("requests: %ld, completed %ld, errors %ld, status < 400: %ld, "
         ">= 400: %ld\n",
         st.a.n, st.nlat, st.errors, st.ok, st.bad);
  printf("time: %.3f s, %.1f requests/s, %llu body bytes\n", secs,
         secs > 0 ? (double)st.nlat / secs : 0, (unsigned long long)st.got);
  printf("latency ms: p50 %.3f, p90 %.3f, p99 %.3f, max %.3f\n", pct_ms(0.5),
         pct_ms(0.9), pct_ms(0.99), pct_ms(1.0));
  printf("agent: sockets %u, free sockets %u, requests waiting %u, "
         "connections created %llu, reused %llu\n",
         as.sockets, as.free_sockets, as.requests,
         (unsigned long long)as.created, (unsigned long long)as.reused);
  fflush(stdout);
  if (first_error != 0)
    fprintf(stderr, "wire get: first error: %s\n", wire_strerror(first_error));
}

/* Reads all of fd (a -d @FILE body for load mode). */
static int slurp(int fd, char **out, size_t *len)
{
  size_t cap = CHUNK, n = 0;
  char *p = malloc(cap);
  if (p == NULL)
    return WIRE_ENOMEM;
  for (;;) {
    if (n == cap) {
      char *q = realloc(p, cap * 2);
      if (q == NULL) {
        free(p);
        return WIRE_ENOMEM;
      }
      p = q;
      cap *= 2;
    }
    ssize_t r = read(fd, p + n, cap - n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      int err = -errno;
      free(p);
      return err;
    }
    if (r == 0)
      break;
    n += (size_t)r;
  }
  *out = p;
  *len = n;
  return 0;
}

/* ---- arguments --------------------------------------------------------- */

static int parse_count(const char *s, long *out)
{
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < 1 || v > 100000000)
    return -1;
  *out = v;
  return 0;
}

static int usage_error(const char *msg, const char *arg)
{
  fprintf(stderr, "wire get: %s%s%s%s\n", msg, arg ? " '" : "", arg ? arg : "",
          arg ? "'" : "");
  fputs(usage_text, stderr);
  return 2;
}

int cmd_get(int argc, char **argv)
{
  args_t *a = &st.a;
  char **user = calloc((size_t)argc + 1, sizeof(*user));
  size_t nuser = 0;
  int rc = 2;
  if (user == NULL)
    return 1;
  st.in_fd = -1;
  st.out_fd = STDOUT_FILENO;
  for (int i = 1; i < argc; i++) {
    const char *o = argv[i];
    int has = i + 1 < argc;
    if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
      fputs(usage_text, stdout);
      rc = 0;
      goto done;
    } else if (strcmp(o, "-i") == 0) {
      a->include = 1;
    } else if (strcmp(o, "-v") == 0) {
      a->verbose = 1;
    } else if (strcmp(o, "-X") == 0 && has) {
      a->method = argv[++i];
    } else if (strcmp(o, "-H") == 0 && has) {
      user[nuser++] = argv[++i];
    } else if (strcmp(o, "-d") == 0 && has) {
      const char *d = argv[++i];
      if (d[0] == '@') {
        a->data_file = d + 1;
        a->data = NULL;
      } else {
        a->data = d;
        a->data_file = NULL;
      }
    } else if (strcmp(o, "-o") == 0 && has) {
      a->out_file = argv[++i];
    } else if (strcmp(o, "-u") == 0 && has) {
      a->user = argv[++i];
    } else if (strcmp(o, "--cacert") == 0 && has) {
      a->cacert = argv[++i];
    } else if (strcmp(o, "--cert") == 0 && has) {
      a->cert = argv[++i];
    } else if (strcmp(o, "--key") == 0 && has) {
      a->key = argv[++i];
    } else if (strcmp(o, "--insecure") == 0 || strcmp(o, "-k") == 0) {
      a->insecure = 1;
    } else if (strcmp(o, "--unix") == 0 && has) {
      a->unix_path = argv[++i];
    } else if (strcmp(o, "-n") == 0 && has) {
      if (parse_count(argv[++i], &a->n) < 0) {
        rc = usage_error("bad count", argv[i]);
        goto done;
      }
    } else if (strcmp(o, "-c") == 0 && has) {
      if (parse_count(argv[++i], &a->c) < 0 || a->c > 100000) {
        rc = usage_error("bad concurrency", argv[i]);
        goto done;
      }
    } else if (o[0] == '-' && o[1] != '\0') {
      rc = usage_error(has ? "unknown option" : "option needs a value", o);
      goto done;
    } else if (a->url == NULL) {
      a->url = o;
    } else {
      rc = usage_error("more than one URL:", o);
      goto done;
    }
  }
  if (a->url == NULL) {
    rc = usage_error("no URL", NULL);
    goto done;
  }
  int load = a->n > 0 || a->c > 0;
  if (load && (a->include || a->verbose || a->out_file != NULL)) {
    rc = usage_error("-n/-c do not go with -i, -v or -o", NULL);
    goto done;
  }
  if (load && a->n == 0)
    a->n = a->c;
  if (load && a->c == 0)
    a->c = 1;
  if ((a->cert == NULL) != (a->key == NULL)) {
    rc = usage_error("--cert and --key go together", NULL);
    goto done;
  }
  rc = 1;
  if (parse_url(a, a->url) < 0)
    goto done;
  if (a->tls && (a->cacert != NULL || a->cert != NULL)) {
    wire_tls_ctx_opts_t co = WIRE_TLS_CTX_OPTS_INIT;
    co.ca_file = a->cacert;
    co.cert_file = a->cert;
    co.key_file = a->key;
    int err = wire_tls_ctx_new(&co, &st.tls_ctx);
    if (err < 0) {
      fprintf(stderr, "wire get: TLS: %s: %s\n", wire_strerror(err),
              wire_tls_errstr());
      goto done;
    }
  }
  if (a->method == NULL)
    a->method = a->data != NULL || a->data_file != NULL ? "POST" : "GET";

  /* The body: its length when known (-1 none, -2 unknown). */
  int64_t body_len = -1;
  if (a->data != NULL) {
    body_len = (int64_t)strlen(a->data);
  } else if (a->data_file != NULL) {
    st.in_fd = strcmp(a->data_file, "-") == 0
                   ? STDIN_FILENO
                   : open(a->data_file, O_RDONLY | O_CLOEXEC);
    if (st.in_fd < 0) {
      fail(a->data_file, -errno);
      goto done;
    }
    struct stat sb;
    if (fstat(st.in_fd, &sb) == 0 && S_ISREG(sb.st_mode))
      body_len = (int64_t)sb.st_size - (int64_t)lseek(st.in_fd, 0, SEEK_CUR);
    else
      body_len = -2;
    if (load) {
      int err = slurp(st.in_fd, &st.body, &st.body_len);
      stop_feed();
      if (err < 0) {
        fail(a->data_file, err);
        goto done;
      }
      body_len = (int64_t)st.body_len;
    }
  }
  st.in_left = body_len >= 0 ? body_len : -1;
  if (build_headers(a, user, nuser, body_len) < 0)
    goto done;

  /* A reader that went away is an EPIPE write error, not a signal. */
  signal(SIGPIPE, SIG_IGN);
  st.loop = wire_loop_default();
  if (st.loop == NULL) {
    fail("loop", WIRE_ENOMEM);
    goto done;
  }
  wire_agent_opts_t ao = WIRE_AGENT_OPTS_INIT;
  ao.max_sockets = load ? (unsigned)a->c : 1;
  int err = wire_agent_create(st.loop, &ao, &st.agent);
  if (err < 0) {
    fail("agent", err);
    goto done;
  }

  if (load) {
    if (a->data != NULL) {
      st.body = strdup(a->data);
      st.body_len = strlen(a->data);
    }
    st.lat = malloc((size_t)a->n * sizeof(*st.lat));
    if (st.lat == NULL) {
      fail("latencies", WIRE_ENOMEM);
      goto done;
    }
    uint64_t t0 = now_ns();
    for (long i = 0; i < a->c && st.started < a->n; i++)
      start_one();
    wire_loop_run(st.loop, WIRE_RUN_DEFAULT);
    if (st.finished < a->n)
      st.t_drawn = now_ns();
    print_load_report(t0);
    st.status = st.errors > 0 ? 1 : st.bad > 0 ? EXIT_HTTP : 0;
    wire_agent_close(st.agent, NULL, NULL);
    st.agent = NULL;
  } else {
    wire_http_request_opts_t o = WIRE_HTTP_REQUEST_OPTS_INIT;
    o.host = a->host;
    o.port = a->port;
    o.socket_path = a->unix_path;
    o.method = a->method;
    o.path = a->path;
    o.headers = (const char *const *)a->hdrs;
    o.auth = a->user != NULL ? a->user : a->url_auth;
    o.agent = st.agent;
    o.tls = a->tls;
    o.tls_ctx = st.tls_ctx;
    o.reject_unauthorized = !a->insecure;
    err = wire_http_request(st.loop, &o, on_response, NULL, &st.req);
    if (err < 0) {
      fail(a->url, err);
      wire_agent_close(st.agent, NULL, NULL);
      st.agent = NULL;
    } else {
      wire_http_client_req_on_error(st.req, on_req_error);
      wire_http_client_req_on_close(st.req, on_req_close);
      wire_http_client_req_on_drain(st.req, on_drain);
      wire_http_client_req_on_information(st.req, on_information);
      wire_http_client_req_on_socket(st.req, on_socket);
      if (a->verbose)
        print_request_head(body_len == -2 && !hdr_has(a, "Content-Length") &&
                           !hdr_has(a, "Transfer-Encoding"));
      if (a->data_file != NULL) {
        err = wire_timer_create(st.loop, &st.feed);
        if (err < 0) {
          fail("timer", err);
          wire_http_client_req_close(st.req);
        } else {
          feed_body();
        }
      } else {
        err = wire_http_client_req_end(st.req, a->data,
                                       a->data ? strlen(a->data) : 0);
        if (err < 0) {
          fail("send", err);
          wire_http_client_req_close(st.req);
        }
      }
    }
    wire_loop_run(st.loop, WIRE_RUN_DEFAULT);
  }
  /* The agent's close finishes on later turns. */
  wire_loop_run(st.loop, WIRE_RUN_DEFAULT);
  err = wire_loop_close(st.loop);
  if (err < 0)
    fail("loop close", err);
  rc = st.status;
done:
  stop_feed();
  if (st.out_fd > STDOUT_FILENO && close(st.out_fd) < 0 && rc == 0) {
    fail(a->out_file, -errno);
    rc = 1;
  }
  free(user);
  hdrs_free(a);
  free(a->host);
  free(a->path);
  free(a->url_auth);
  free(st.body);
  free(st.lat);
  wire_tls_ctx_free(st.tls_ctx);
  return rc;
}
