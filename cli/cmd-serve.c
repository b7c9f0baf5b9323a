/* wire serve: a static file server (or, with --echo, an echo server) on
 * the wire HTTP server, using only the public API.
 *
 *   wire serve [DIR] [--host H] [--port N] [--echo]
 *              [--ws-echo PATH [--ws-max-payload BYTES] [--ws-deflate]]
 *              [--tls-cert F --tls-key F [--tls-ca F --request-cert]]
 *
 * With --tls-cert and --tls-key it serves HTTPS (wire_https_server_*): the
 * same handlers run on the HTTPS server's HTTP server, so files, --echo and
 * --ws-echo (then wss://) work unchanged over TLS.
 *
 * Files: GET and HEAD (anything else is 405 with Allow). A request target
 * is mapped to a path in three steps: the query is cut off and the path
 * percent-decoded (a bad escape or an encoded NUL is 400); the segments are
 * normalised ("." dropped, ".." pops one, and a ".." that would climb above
 * DIR is 403); then realpath() resolves symlinks and the result must still
 * be DIR or under it (403 otherwise), so a symlink inside DIR that points
 * out of it is refused. A directory without a trailing slash is redirected
 * (301) to the slash form, so relative links work; a directory serves its
 * index.html if there is one, else an HTML listing (names escaped, links
 * percent-encoded).
 *
 * A file answers with Content-Type from its extension, Content-Length,
 * Last-Modified, Accept-Ranges; If-Modified-Since (an HTTP-date, when no
 * If-None-Match is present) gives 304; one Range (bytes=a-b, a-, -n) on a
 * GET gives 206 with Content-Range, an unsatisfiable one 416; several
 * ranges, or a malformed Range, get the whole file (200), as RFC 9110
 * allows.
 *
 * Bodies up to 64 KiB are read and sent at once. Larger ones are streamed
 * by a job: read() 64 KiB, wire_http_res_write it, and when the write
 * returns 0 wait for the response's drain event before reading more, so a
 * 50 MiB file never sits in memory. There is no zero-copy path in the
 * public API (wire_http_res_write copies), so this is one copy per chunk,
 * in 64 KiB pieces.
 *
 * Pipelining: wire only reports backpressure to the response at the head
 * of its connection's queue; a later response's writes are buffered in
 * memory until it becomes the head. So while a body streams, the requests
 * that arrive behind it on the same connection are not served yet: each
 * waits as a pending job (st.jobs keeps all jobs in request order), and
 * when the stream ends the next ones are served in order, up to the next
 * one that streams. The streaming response is thus always the head, and
 * a later response is never ended before an earlier one.
 *
 * Echo: every request is answered 200 and its body written back as it
 * arrives (Content-Type and Content-Length copied from the request, else
 * chunked); when a write returns 0 the request is paused until the
 * response drains, so the body streams with backpressure both ways.
 *
 * A response whose connection dies before it ended gets a close event;
 * the handler closes the file and calls wire_http_res_end, which is what
 * releases the request and response (docs/http.md). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

static const char usage_text[] =
    "usage: wire serve [DIR] [--host H] [--port N] [--echo]\n"
    "         [--ws-echo PATH [--ws-max-payload BYTES] [--ws-deflate]]\n"
    "         [--tls-cert FILE --tls-key FILE [--tls-ca FILE "
    "--request-cert]]\n"
    "\n"
    "Serves the files under DIR (default: the current directory) over\n"
    "HTTP/1.1: GET and HEAD, index.html or a listing for directories,\n"
    "Content-Type by extension, Last-Modified / If-Modified-Since, single\n"
    "byte ranges; nothing outside DIR, even through symlinks. The first\n"
    "line on stdout is 'listening on http://HOST:PORT/'.\n"
    "\n"
    "  --host H   address to listen on (default 127.0.0.1; :: for IPv6)\n"
    "  --port N   port (default 8080; 0 picks a free one)\n"
    "  --echo     no files: answer every request (any method) with 200 and\n"
    "             the request's body\n"
    "  --ws-echo PATH         also a WebSocket echo endpoint at PATH\n"
    "  --ws-max-payload BYTES its message limit (default 100 MiB; past it:\n"
    "                         close 1009)\n"
    "  --ws-deflate           accept permessage-deflate on it\n"
    "  --tls-cert FILE  serve HTTPS with this certificate (PEM, then its\n"
    "                   chain); 'listening on https://HOST:PORT/'\n"
    "  --tls-key FILE   its private key (PEM)\n"
    "  --tls-ca FILE    CA certificates trusted for client certificates\n"
    "  --request-cert   ask for a client certificate signed by --tls-ca\n"
    "                   and refuse clients without one (mutual TLS)\n";

/* A request behind a streaming body on its connection, or that body. */
typedef struct job_s job_t;
struct job_s {
  job_t *prev, *next; /* st.jobs, in request order */
  wire_http_req_t *req;
  wire_http_res_t *res;
  wire_socket_t *sock; /* the connection, to order jobs on it */
  int state;
  int fd;        /* JOB_STREAMING: the file; -1 once closed */
  uint64_t left; /* body bytes still to read and send */
};

enum {
  JOB_PENDING,   /* not served yet: an earlier body is still streaming */
  JOB_STREAMING, /* its body is being sent */
  JOB_ABORTED    /* failed mid-body: waiting for the close event */
};

static struct {
  wire_loop_t *loop;
  wire_http_server_t *srv;
  char *root; /* realpath of DIR */
  size_t root_len;
  int echo;
  int status;
  job_t *jobs, *jobs_tail;
} st;

static char chunk[CHUNK]; /* one thread: a single read buffer is enough */

/* ---- small helpers ----------------------------------------------------- */

typedef struct {
  char *p;
  size_t len, cap;
  int failed;
} sb_t;

static void sb_add(sb_t *b, const char *s, size_t n)
{
  if (b->failed)
    return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *p = realloc(b->p, cap);
    if (p == NULL) {
      b->failed = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void sb_puts(sb_t *b, const char *s)
{
  sb_add(b, s, strlen(s));
}

/* Appends s with the five HTML-special characters escaped. */
static void sb_html(sb_t *b, const char *s)
{
  for (; *s != '\0'; s++) {
    switch (*s) {
    case '&':
      sb_puts(b, "&amp;");
      break;
    case '<':
      sb_puts(b, "&lt;");
      break;
    case '>':
      sb_puts(b, "&gt;");
      break;
    case '"':
      sb_puts(b, "&quot;");
      break;
    case '\'':
      sb_puts(b, "&#39;");
      break;
    default:
      sb_add(b, s, 1);
    }
  }
}

/* Appends s percent-encoded except for RFC 3986 unreserved characters (and
 * '/' if keep_slash), so it is safe in an href and a Location. */
static void sb_url(sb_t *b, const char *s, int keep_slash)
{
  static const char hex[] = "0123456789ABCDEF";
  for (; *s != '\0'; s++) {
    unsigned char ch = (unsigned char)*s;
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
        (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
        ch == '~' || (keep_slash && ch == '/')) {
      sb_add(b, s, 1);
    } else {
      char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
      sb_add(b, e, 3);
    }
  }
}

static void http_date(time_t t, char *out, size_t n)
{
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, n, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* RFC 9110 5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime
 * forms. Returns 0 and sets *out, or -1. */
static int parse_http_date(const char *s, time_t *out)
{
  static const char *const fmts[] = {"%a, %d %b %Y %H:%M:%S GMT",
                                     "%A, %d-%b-%y %H:%M:%S GMT",
                                     "%a %b %d %H:%M:%S %Y"};
  for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *end = strptime(s, fmts[i], &tm);
    if (end != NULL && *end == '\0') {
      *out = timegm(&tm);
      return 0;
    }
  }
  return -1;
}

static const struct {
  const char *ext;
  const char *type;
} mime_types[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"txt", "text/plain; charset=utf-8"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"svg", "image/svg+xml"},
    {"ico", "image/x-icon"},
    {"wasm", "application/wasm"},
    {"pdf", "application/pdf"},
    {"xml", "application/xml"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
    {"woff2", "font/woff2"},
};

static const char *mime_type(const char *path)
{
  const char *slash = strrchr(path, '/');
  const char *dot = strrchr(path, '.');
  if (dot != NULL && (slash == NULL || dot > slash)) {
    for (size_t i = 0; i < sizeof(mime_types) / sizeof(mime_types[0]); i++) {
      if (strcasecmp(dot + 1, mime_types[i].ext) == 0)
        return mime_types[i].type;
    }
  }
  return "application/octet-stream";
}

/* Reads decimal digits at *p into *v. Returns the count, or -1 on
 * overflow. */
static int parse_u64(const char **p, uint64_t *v)
{
  int n = 0;
  *v = 0;
  while (**p >= '0' && **p <= '9') {
    unsigned d = (unsigned)(**p - '0');
    if (*v > (UINT64_MAX - d) / 10)
      return -1;
    *v = *v * 10 + d;
    (*p)++;
    n++;
  }
  return n;
}

/* RFC 9110 14.1.2: one byte range of a file of size bytes. Returns 1 with
 * the inclusive range in *first..*last, 0 to ignore the header (malformed,
 * or several ranges: the whole file is sent), -1 if unsatisfiable. */
static int parse_range(const char *h, uint64_t size, uint64_t *first,
                       uint64_t *last)
{
  const char *p = h;
  while (*p == ' ' || *p == '\t')
    p++;
  if (strncasecmp(p, "bytes", 5) != 0)
    return 0;
  p += 5;
  while (*p == ' ' || *p == '\t')
    p++;
  if (*p++ != '=')
    return 0;
  if (strchr(p, ',') != NULL)
    return 0; /* several ranges: a full 200 is a valid answer */
  while (*p == ' ' || *p == '\t')
    p++;
  uint64_t a, b;
  int na, nb;
  if (*p == '-') {
    p++;
    nb = parse_u64(&p, &b);
    while (*p == ' ' || *p == '\t')
      p++;
    if (nb <= 0 || *p != '\0')
      return 0;
    if (b == 0 || size == 0)
      return -1; /* the last 0 bytes, or any bytes of nothing */
    *first = b >= size ? 0 : size - b;
    *last = size - 1;
    return 1;
  }
  na = parse_u64(&p, &a);
  if (na <= 0 || *p++ != '-')
    return 0;
  nb = parse_u64(&p, &b);
  while (*p == ' ' || *p == '\t')
    p++;
  if (nb < 0 || *p != '\0')
    return 0;
  if (nb > 0 && b < a)
    return 0; /* last < first: an invalid range-spec, ignored */
  if (a >= size)
    return -1;
  *first = a;
  *last = nb == 0 || b >= size ? size - 1 : b;
  return 1;
}

/* ---- plain responses --------------------------------------------------- */

static void send_text(wire_http_res_t *res, int status, const char *ctype,
                      const char *body, size_t len)
{
  wire_http_res_set_header(res, "Content-Type", ctype);
  wire_http_res_write_head(res, status, NULL);
  wire_http_res_end(res, body, len);
}

static void send_error(wire_http_res_t *res, int status)
{
  char body[96];
  int n = snprintf(body, sizeof(body), "%d %s\n", status,
                   wire_http_status_text(status));
  send_text(res, status, "text/plain; charset=utf-8", body, (size_t)n);
}

/* ---- jobs: streaming bodies and the requests behind them ------------- */

static job_t *serve_path(wire_http_req_t *req, wire_http_res_t *res,
                         job_t *job);

static void job_unlink(job_t *j)
{
  if (j->prev != NULL)
    j->prev->next = j->next;
  else
    st.jobs = j->next;
  if (j->next != NULL)
    j->next->prev = j->prev;
  else
    st.jobs_tail = j->prev;
}

static void job_close_fd(job_t *j)
{
  if (j->fd >= 0) {
    close(j->fd);
    j->fd = -1;
  }
}

static job_t *job_first(wire_socket_t *sock)
{
  for (job_t *j = st.jobs; j != NULL; j = j->next) {
    if (j->sock == sock)
      return j;
  }
  return NULL;
}

/* The connection died before the response ended (any state). */
static void on_job_close(wire_http_res_t *res, void *d)
{
  job_t *j = d;
  job_close_fd(j);
  job_unlink(j);
  free(j);
  wire_http_res_end(res, NULL, 0); /* WIRE_ECLOSED: releases the pair */
}

static void on_job_drain(wire_http_res_t *res, void *d);

/* A new job at the end of the list, for req/res on their connection. */
static job_t *job_new(wire_http_req_t *req, wire_http_res_t *res, int state)
{
  job_t *j = calloc(1, sizeof(*j));
  if (j == NULL)
    return NULL;
  j->req = req;
  j->res = res;
  j->sock = wire_http_req_socket(req);
  j->state = state;
  j->fd = -1;
  j->prev = st.jobs_tail;
  if (st.jobs_tail != NULL)
    st.jobs_tail->next = j;
  else
    st.jobs = j;
  st.jobs_tail = j;
  wire_http_res_set_data(res, j);
  wire_http_res_on_drain(res, on_job_drain);
  wire_http_res_on_close(res, on_job_close);
  return j;
}

static void pump(job_t *j);

/* Serves the pending jobs of sock in order, until one streams. */
static void advance(wire_socket_t *sock)
{
  job_t *j;
  while ((j = job_first(sock)) != NULL && j->state == JOB_PENDING) {
    if (serve_path(j->req, j->res, j) != NULL) {
      pump(j);
      return;
    }
    /* Answered at once (ended): the job is done. */
    job_unlink(j);
    free(j);
  }
}

/* The body is out: end the response, then serve what waited behind it. */
static void job_finish(job_t *j)
{
  wire_socket_t *sock = j->sock;
  job_close_fd(j);
  job_unlink(j);
  wire_http_res_end(j->res, NULL, 0);
  free(j);
  advance(sock);
}

/* The body cannot be completed (the file shrank or a read failed, or a
 * write failed): the head promised a length, so the only honest end is
 * to cut the connection. wire has no res.destroy(); ending the socket
 * (FIN after what is queued) tells the client the body is short, and the
 * socket's close brings the response's close event (on_job_close), which
 * releases it and the jobs behind it. */
static void job_abort(job_t *j, const char *what, int err)
{
  if (err != WIRE_ECLOSED)
    fprintf(stderr, "wire serve: %s: %s\n", what, wire_strerror(err));
  job_close_fd(j);
  j->state = JOB_ABORTED;
  if (err != WIRE_ECLOSED)
    wire_socket_end(j->sock);
}

static void pump(job_t *j)
{
  while (j->left > 0) {
    size_t want = j->left < CHUNK ? (size_t)j->left : CHUNK;
    ssize_t n = read(j->fd, chunk, want);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      job_abort(j, "read", n < 0 ? -errno : WIRE_EOF);
      return;
    }
    j->left -= (uint64_t)n;
    int r = wire_http_res_write(j->res, chunk, (size_t)n);
    if (r < 0) {
      job_abort(j, "write", r);
      return;
    }
    if (r == 0 && j->left > 0)
      return; /* over the high-water mark: on_job_drain goes on */
  }
  job_finish(j);
}

static void on_job_drain(wire_http_res_t *res, void *d)
{
  (void)res;
  job_t *j = d;
  if (j->state == JOB_STREAMING)
    pump(j);
}

/* Makes job (or a new one) stream len bytes of fd, taken over, as the
 * body of res; the caller then pumps it. Returns the job, or NULL after
 * answering 500. */
static job_t *start_stream(wire_http_req_t *req, wire_http_res_t *res,
                           job_t *job, int fd, uint64_t len)
{
  if (job == NULL)
    job = job_new(req, res, JOB_STREAMING);
  if (job == NULL) {
    close(fd);
    wire_http_res_remove_header(res, "Content-Range");
    wire_http_res_remove_header(res, "Content-Length");
    send_error(res, 500);
    return NULL;
  }
  job->state = JOB_STREAMING;
  job->fd = fd;
  job->left = len;
  return job;
}

/* ---- files and directories --------------------------------------------- */

/* Answers with the open regular file fd (taken over) described by sb.
 * Returns the job that streams the body (for job, or a new one), or NULL
 * when the response was ended at once. */
static job_t *serve_file(wire_http_req_t *req, wire_http_res_t *res, job_t *job,
                         int fd, const struct stat *sb, const char *path,
                         int head)
{
  uint64_t size = (uint64_t)sb->st_size;
  char date[64];
  http_date(sb->st_mtime, date, sizeof(date));

  /* RFC 9110 13.1.3: If-Modified-Since is ignored with If-None-Match (no
   * ETags here, so that one never matches) and when it is not a date. */
  const char *ims = wire_http_req_header(req, "If-Modified-Since");
  time_t since;
  if (ims != NULL && wire_http_req_header(req, "If-None-Match") == NULL &&
      parse_http_date(ims, &since) == 0 && sb->st_mtime <= since) {
    close(fd);
    wire_http_res_set_header(res, "Last-Modified", date);
    wire_http_res_write_head(res, 304, NULL);
    wire_http_res_end(res, NULL, 0);
    return NULL;
  }

  /* RFC 9110 14.2: Range is only defined for GET. */
  uint64_t first = 0, last = size > 0 ? size - 1 : 0;
  int status = 200;
  const char *range = head ? NULL : wire_http_req_header(req, "Range");
  if (range != NULL) {
    int r = parse_range(range, size, &first, &last);
    if (r < 0) {
      close(fd);
      char cr[48];
      snprintf(cr, sizeof(cr), "bytes */%llu", (unsigned long long)size);
      wire_http_res_set_header(res, "Content-Range", cr);
      send_error(res, 416);
      return NULL;
    }
    if (r > 0) {
      status = 206;
      char cr[80];
      snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu",
               (unsigned long long)first, (unsigned long long)last,
               (unsigned long long)size);
      wire_http_res_set_header(res, "Content-Range", cr);
    }
  }
  uint64_t len = size == 0 ? 0 : last - first + 1;
  char cl[24];
  snprintf(cl, sizeof(cl), "%llu", (unsigned long long)len);
  wire_http_res_set_header(res, "Content-Type", mime_type(path));
  wire_http_res_set_header(res, "Content-Length", cl);
  wire_http_res_set_header(res, "Last-Modified", date);
  wire_http_res_set_header(res, "Accept-Ranges", "bytes");
  wire_http_res_write_head(res, status, NULL);
  if (head || len == 0) {
    close(fd);
    wire_http_res_end(res, NULL, 0);
    return NULL;
  }
  if (first > 0 && lseek(fd, (off_t)first, SEEK_SET) < 0) {
    close(fd);
    wire_http_res_remove_header(res, "Content-Range");
    wire_http_res_remove_header(res, "Content-Length");
    send_error(res, 500);
    return NULL;
  }
  if (len <= CHUNK) {
    /* Small: one read, one end, the whole response in one write. */
    ssize_t n;
    do {
      n = pread(fd, chunk, (size_t)len, (off_t)first);
    } while (n < 0 && errno == EINTR);
    close(fd);
    if (n != (ssize_t)len) {
      wire_http_res_remove_header(res, "Content-Range");
      wire_http_res_remove_header(res, "Content-Length");
      send_error(res, 500);
      return NULL;
    }
    wire_http_res_end(res, chunk, (size_t)n);
    return NULL;
  }
  return start_stream(req, res, job, fd, len);
}

static int cmp_names(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* An HTML listing of the directory dir (a real path), shown as urlpath
 * (the decoded, normalised request path, ending in '/'). */
static void serve_listing(wire_http_res_t *res, const char *dir,
                          const char *urlpath)
{
  DIR *d = opendir(dir);
  if (d == NULL) {
    send_error(res, errno == EACCES ? 403 : 404);
    return;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  int failed = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    struct stat sb;
    int is_dir =
        fstatat(dirfd(d), e->d_name, &sb, 0) == 0 && S_ISDIR(sb.st_mode);
    if (n == cap) {
      size_t ncap = cap ? cap * 2 : 64;
      char **p = realloc(names, ncap * sizeof(*names));
      if (p == NULL) {
        failed = 1;
        break;
      }
      names = p;
      cap = ncap;
    }
    /* The name, then a '/' for a directory. */
    size_t len = strlen(e->d_name);
    char *s = malloc(len + 2);
    if (s == NULL) {
      failed = 1;
      break;
    }
    memcpy(s, e->d_name, len);
    s[len] = is_dir ? '/' : '\0';
    s[len + 1] = '\0';
    names[n++] = s;
  }
  closedir(d);
  sb_t b = {0};
  if (!failed) {
    qsort(names, n, sizeof(*names), cmp_names);
    sb_puts(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                "<title>Index of ");
    sb_html(&b, urlpath);
    sb_puts(&b, "</title></head>\n<body>\n<h1>Index of ");
    sb_html(&b, urlpath);
    sb_puts(&b, "</h1>\n<ul>\n");
    if (strcmp(urlpath, "/") != 0)
      sb_puts(&b, "<li><a href=\"../\">../</a></li>\n");
    for (size_t i = 0; i < n; i++) {
      sb_puts(&b, "<li><a href=\"");
      /* "./" keeps a name with a ':' from reading as a scheme. */
      sb_puts(&b, "./");
      sb_url(&b, names[i], 1);
      sb_puts(&b, "\">");
      sb_html(&b, names[i]);
      sb_puts(&b, "</a></li>\n");
    }
    sb_puts(&b, "</ul>\n</body></html>\n");
  }
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
  if (failed || b.failed)
    send_error(res, 500);
  else
    send_text(res, 200, "text/html; charset=utf-8", b.p, b.len);
  free(b.p);
}

static int hexval(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Turns a request target into a normalised path under the root, "/a/b"
 * (or "" for the root itself): the query and fragment cut off, percent-
 * escapes decoded, "." and empty segments dropped, ".." applied. out has
 * room for strlen(target) + 1 bytes. *slash says whether the decoded path
 * ended in '/'. Returns 0 or an HTTP status: 400 (not a path, a bad
 * escape, an encoded NUL), 403 (a ".." above the root). */
static int map_target(const char *target, char *out, int *slash)
{
  /* RFC 9112 3.2.2: the absolute form, as proxies send it. */
  if (strncasecmp(target, "http://", 7) == 0 ||
      strncasecmp(target, "https://", 8) == 0) {
    target = strstr(target, "://") + 3;
    target += strcspn(target, "/?#");
    if (*target != '/')
      target = "/";
  }
  if (target[0] != '/')
    return 400;
  size_t end = strcspn(target, "?#");
  size_t n = 0;
  out[0] = '\0';
  *slash = 0;
  size_t i = 0;
  while (i < end) {
    /* One segment: target[i] is '/'. */
    i++;
    char seg[NAME_MAX + 1];
    size_t sl = 0;
    while (i < end && target[i] != '/') {
      char c = target[i];
      if (c == '%') {
        if (i + 2 >= end)
          return 400;
        int h = hexval(target[i + 1]);
        int l = hexval(target[i + 2]);
        if (h < 0 || l < 0)
          return 400;
        c = (char)(h * 16 + l);
        if (c == '\0')
          return 400;
        i += 3;
      } else {
        i++;
      }
      if (c == '/') {
        /* An encoded slash is a separator in the file system anyway;
         * refusing it keeps one path per name. */
        return 400;
      }
      if (sl >= NAME_MAX)
        return 404; /* no such name can exist */
      seg[sl++] = c;
    }
    seg[sl] = '\0';
    *slash = 0;
    if (sl == 0 || strcmp(seg, ".") == 0) {
      *slash = 1;
      continue;
    }
    if (strcmp(seg, "..") == 0) {
      if (n == 0)
        return 403; /* would leave the root */
      while (n > 0 && out[n - 1] != '/')
        n--;
      n--; /* the '/' before it */
      out[n] = '\0';
      *slash = 1;
      continue;
    }
    out[n++] = '/';
    memcpy(out + n, seg, sl);
    n += sl;
    out[n] = '\0';
  }
  return 0;
}

/* Is the real path p the root or under it? */
static int under_root(const char *p)
{
  if (st.root_len == 1)
    return 1; /* the root is "/" */
  return strncmp(p, st.root, st.root_len) == 0 &&
         (p[st.root_len] == '\0' || p[st.root_len] == '/');
}

/* Resolves root + rel with realpath and checks it stays under the root.
 * Returns 0 with the malloc'd real path in *out, or an HTTP status. */
static int resolve(const char *rel, char **out)
{
  size_t len = st.root_len + strlen(rel) + 1;
  char *full = malloc(len);
  if (full == NULL)
    return 500;
  snprintf(full, len, "%s%s", st.root, rel);
  char *real = realpath(full, NULL);
  int err = errno;
  free(full);
  if (real == NULL)
    return err == EACCES ? 403 : err == ENOMEM ? 500 : 404;
  if (!under_root(real)) {
    free(real);
    return 403; /* a symlink that leads out of DIR */
  }
  *out = real;
  return 0;
}

/* Opens the regular file at the real path p. Returns the fd, or an HTTP
 * status as a negative number. */
static int open_file(const char *p, struct stat *sb)
{
  /* O_NONBLOCK: a FIFO swapped in after the check must not block the
   * loop; O_NOFOLLOW: nor may a symlink swapped in for the last name. */
  int fd = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
  if (fd < 0)
    return errno == EACCES || errno == ELOOP ? -403 : -404;
  if (fstat(fd, sb) < 0 || !S_ISREG(sb->st_mode)) {
    close(fd);
    return -403;
  }
  return fd;
}

/* Answers a GET, HEAD or other request of the file server. Returns the job
 * that streams the body (job, or a new one), or NULL if the response was
 * ended at once. */
static job_t *serve_path(wire_http_req_t *req, wire_http_res_t *res, job_t *job)
{
  const char *method = wire_http_req_method(req);
  int head = strcmp(method, "HEAD") == 0;
  if (!head && strcmp(method, "GET") != 0) {
    wire_http_res_set_header(res, "Allow", "GET, HEAD");
    send_error(res, 405);
    return NULL;
  }
  const char *target = wire_http_req_url(req);
  job_t *streaming = NULL;
  char *rel = malloc(strlen(target) + 1);
  char *real = NULL;
  char *index = NULL;
  if (rel == NULL) {
    send_error(res, 500);
    return NULL;
  }
  int slash;
  int status = map_target(target, rel, &slash);
  if (status == 0)
    status = resolve(rel, &real);
  if (status != 0) {
    send_error(res, status);
    goto done;
  }
  struct stat sb;
  if (stat(real, &sb) < 0) {
    send_error(res, errno == EACCES ? 403 : 404);
    goto done;
  }
  if (S_ISDIR(sb.st_mode)) {
    if (!slash) {
      /* The slash form, so that relative links resolve inside it. */
      sb_t loc = {0};
      sb_url(&loc, rel, 1);
      sb_puts(&loc, "/");
      const char *q = strchr(target, '?');
      if (q != NULL)
        sb_puts(&loc, q);
      if (loc.failed) {
        send_error(res, 500);
      } else {
        wire_http_res_set_header(res, "Location", loc.p);
        send_error(res, 301);
      }
      free(loc.p);
      goto done;
    }
    size_t len = strlen(real) + sizeof("/index.html");
    index = malloc(len);
    if (index == NULL) {
      send_error(res, 500);
      goto done;
    }
    snprintf(index, len, "%s%sindex.html", real,
             real[strlen(real) - 1] == '/' ? "" : "/");
    char *ireal = realpath(index, NULL);
    if (ireal == NULL) {
      char *shown = malloc(strlen(rel) + 2);
      if (shown == NULL) {
        send_error(res, 500);
        goto done;
      }
      snprintf(shown, strlen(rel) + 2, "%s/", rel);
      serve_listing(res, real, shown);
      free(shown);
      goto done;
    }
    if (!under_root(ireal)) {
      free(ireal);
      send_error(res, 403);
      goto done;
    }
    free(real);
    real = ireal;
  }
  int fd = open_file(real, &sb);
  if (fd < 0) {
    send_error(res, -fd);
    goto done;
  }
  streaming = serve_file(req, res, job, fd, &sb, real, head);
done:
  free(index);
  free(real);
  free(rel);
  return streaming;
}

/* ---- echo -------------------------------------------------------------- */

static void on_echo_data(wire_http_req_t *req, const char *buf, size_t len,
                         void *d)
{
  wire_http_res_t *res = d;
  if (wire_http_res_write(res, buf, len) == 0)
    wire_http_req_pause(req); /* on_echo_drain resumes */
  /* An error means the connection is gone: the close event follows. */
}

static void on_echo_end(wire_http_req_t *req, void *d)
{
  (void)req;
  wire_http_res_end(d, NULL, 0);
}

static void on_echo_drain(wire_http_res_t *res, void *d)
{
  (void)d;
  wire_http_req_resume(wire_http_res_req(res));
}

static void on_echo_close(wire_http_res_t *res, void *d)
{
  (void)d;
  wire_http_res_end(res, NULL, 0); /* WIRE_ECLOSED: releases the pair */
}

static void echo(wire_http_req_t *req, wire_http_res_t *res)
{
  const char *ct = wire_http_req_header(req, "Content-Type");
  const char *cl = wire_http_req_header(req, "Content-Length");
  if (ct != NULL)
    wire_http_res_set_header(res, "Content-Type", ct);
  if (cl != NULL)
    wire_http_res_set_header(res, "Content-Length", cl);
  wire_http_res_write_head(res, 200, NULL);
  wire_http_req_set_data(req, res);
  wire_http_req_on_data(req, on_echo_data);
  wire_http_req_on_end(req, on_echo_end);
  wire_http_res_on_drain(res, on_echo_drain);
  wire_http_res_on_close(res, on_echo_close);
}

/* ---- WebSocket echo (--ws-echo PATH) ----------------------------------- */

/* Upgrades for the --ws-echo path go to a wire_ws server attached to the
 * HTTP server; other requests are served as before. Each message goes
 * back with its type. Backpressure: when a send returns 0 the connection's
 * socket is paused (Node's ws._socket.pause()) until the drain event. */
static struct {
  const char *path;     /* NULL: no WebSocket endpoint */
  uint64_t max_payload; /* 0: the library's default */
  int deflate;
} wsx;

static void on_ws_message(wire_ws_t *ws, const char *buf, size_t len,
                          int is_binary, void *d)
{
  (void)d;
  int r = wire_ws_send(ws, buf, len, is_binary ? WIRE_WS_SEND_BINARY : 0);
  if (r == 0)
    wire_socket_pause(wire_ws_socket(ws)); /* on_ws_drain resumes */
  /* r < 0: the connection is closing; its close event follows. */
}

static void on_ws_drain(wire_ws_t *ws, void *d)
{
  (void)d;
  wire_socket_t *s = wire_ws_socket(ws);
  if (s != NULL && wire_socket_is_paused(s))
    wire_socket_resume(s);
}

static void on_ws_connection(wire_ws_server_t *srv, wire_ws_t *ws,
                             wire_http_req_t *req, void *d)
{
  (void)srv, (void)req, (void)d;
  wire_ws_on_message(ws, on_ws_message);
  wire_ws_on_drain(ws, on_ws_drain);
}

static int start_ws_echo(wire_http_server_t *http)
{
  wire_ws_server_opts_t o = WIRE_WS_SERVER_OPTS_INIT;
  o.path = wsx.path;
  o.max_payload = wsx.max_payload;
  o.deflate.enabled = wsx.deflate;
  wire_ws_server_t *ws;
  int err = wire_ws_server_create(st.loop, &o, &ws);
  if (err < 0)
    return err;
  wire_ws_server_on_connection(ws, on_ws_connection);
  err = wire_ws_server_attach(ws, http);
  if (err < 0)
    wire_ws_server_close(ws, NULL);
  return err;
}

/* ---- HTTPS (--tls-cert) ------------------------------------------------- */

static void on_request(wire_http_server_t *srv, wire_http_req_t *req,
                       wire_http_res_t *res, void *d);

static struct {
  const char *cert, *key, *ca;
  int request_cert;
  wire_https_server_t *srv;
} tlsx;

static void on_https_listening(wire_https_server_t *srv, void *d)
{
  (void)d;
  wire_addr_t a;
  if (wire_https_server_address(srv, &a) < 0)
    return;
  int v6 = a.family == 6;
  printf("listening on https://%s%s%s:%d/\n", v6 ? "[" : "", a.address,
         v6 ? "]" : "", a.port);
  fflush(stdout);
}

static void on_https_listen(wire_https_server_t *srv, int status, void *d)
{
  (void)d;
  if (status < 0) {
    fprintf(stderr, "wire serve: listen: %s\n", wire_strerror(status));
    st.status = 1;
    wire_https_server_close(srv, NULL);
  }
}

/* The HTTPS server: st.srv becomes its HTTP server, so files, --echo and
 * --ws-echo (wss://) are served the same way. Prints the TLS reason of a
 * bad key or certificate. */
static int start_https(void)
{
  wire_tls_ctx_opts_t co = WIRE_TLS_CTX_OPTS_INIT;
  co.cert_file = tlsx.cert;
  co.key_file = tlsx.key;
  co.ca_file = tlsx.ca;
  wire_tls_ctx_t *ctx;
  int err = wire_tls_ctx_new(&co, &ctx);
  if (err < 0) {
    fprintf(stderr, "wire serve: TLS: %s: %s\n", wire_strerror(err),
            wire_tls_errstr());
    return err;
  }
  wire_https_server_opts_t o = WIRE_HTTPS_SERVER_OPTS_INIT;
  o.tls.ctx = ctx;
  o.tls.request_cert = tlsx.request_cert;
  err = wire_https_server_create(st.loop, &o, on_request, &tlsx.srv);
  wire_tls_ctx_free(ctx);
  if (err < 0)
    return err;
  st.srv = wire_https_server_http(tlsx.srv);
  wire_https_server_on_listening(tlsx.srv, on_https_listening);
  return 0;
}

/* ---- the server -------------------------------------------------------- */

static void on_request(wire_http_server_t *srv, wire_http_req_t *req,
                       wire_http_res_t *res, void *d)
{
  (void)srv, (void)d;
  if (st.echo) {
    echo(req, res);
    return;
  }
  if (job_first(wire_http_req_socket(req)) != NULL) {
    /* A body is streaming on this connection: wait behind it. */
    if (job_new(req, res, JOB_PENDING) == NULL)
      send_error(res, 500);
    return;
  }
  job_t *j = serve_path(req, res, NULL);
  if (j != NULL)
    pump(j);
}

static void on_listening(wire_http_server_t *srv, void *d)
{
  (void)d;
  wire_addr_t a;
  if (wire_http_server_address(srv, &a) < 0)
    return;
  int v6 = a.family == 6;
  printf("listening on http://%s%s%s:%d/\n", v6 ? "[" : "", a.address,
         v6 ? "]" : "", a.port);
  fflush(stdout);
}

static void on_listen(wire_http_server_t *srv, int status, void *d)
{
  (void)d;
  if (status < 0) {
    fprintf(stderr, "wire serve: listen: %s\n", wire_strerror(status));
    st.status = 1;
    wire_http_server_close(srv, NULL);
  }
}

static int parse_port(const char *arg, int *port)
{
  char *end;
  errno = 0;
  long v = strtol(arg, &end, 10);
  if (errno != 0 || end == arg || *end != '\0' || v < 0 || v > 65535)
    return -1;
  *port = (int)v;
  return 0;
}

int cmd_serve(int argc, char **argv)
{
  const char *dir = ".";
  const char *host = "127.0.0.1";
  int port = 8080;
  int ndirs = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      fputs(usage_text, stdout);
      return 0;
    }
    if (strcmp(argv[i], "--echo") == 0) {
      st.echo = 1;
    } else if (strcmp(argv[i], "--ws-echo") == 0 && i + 1 < argc) {
      wsx.path = argv[++i];
    } else if (strcmp(argv[i], "--ws-deflate") == 0) {
      wsx.deflate = 1;
    } else if (strcmp(argv[i], "--ws-max-payload") == 0 && i + 1 < argc) {
      char *end;
      errno = 0;
      unsigned long long v = strtoull(argv[++i], &end, 10);
      if (errno != 0 || end == argv[i] || *end != '\0' || v == 0 ||
          argv[i][0] == '-') {
        fprintf(stderr, "wire serve: bad --ws-max-payload '%s'\n", argv[i]);
        return 2;
      }
      wsx.max_payload = v;
    } else if (strcmp(argv[i], "--tls-cert") == 0 && i + 1 < argc) {
      tlsx.cert = argv[++i];
    } else if (strcmp(argv[i], "--tls-key") == 0 && i + 1 < argc) {
      tlsx.key = argv[++i];
    } else if (strcmp(argv[i], "--tls-ca") == 0 && i + 1 < argc) {
      tlsx.ca = argv[++i];
    } else if (strcmp(argv[i], "--request-cert") == 0) {
      tlsx.request_cert = 1;
    } else if (strcmp(argv[i], "--host") == 0 && i + 1 < argc) {
      host = argv[++i];
    } else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
      if (parse_port(argv[++i], &port) < 0) {
        fprintf(stderr, "wire serve: bad port '%s'\n", argv[i]);
        return 2;
      }
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      fprintf(stderr, "wire serve: unknown option '%s'\n", argv[i]);
      fputs(usage_text, stderr);
      return 2;
    } else if (ndirs++ == 0) {
      dir = argv[i];
    } else {
      fputs(usage_text, stderr);
      return 2;
    }
  }
  if ((tlsx.cert == NULL) != (tlsx.key == NULL) ||
      (tlsx.cert == NULL && (tlsx.ca != NULL || tlsx.request_cert)) ||
      (tlsx.request_cert && tlsx.ca == NULL)) {
    fprintf(stderr, "wire serve: --tls-cert and --tls-key go together; "
                    "--request-cert needs --tls-ca\n");
    return 2;
  }
  if (!st.echo) {
    st.root = realpath(dir, NULL);
    struct stat sb;
    if (st.root == NULL || stat(st.root, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
      fprintf(stderr, "wire serve: '%s' is not a directory\n", dir);
      free(st.root);
      return 2;
    }
    st.root_len = strlen(st.root);
  }

  /* A client that went away is an EPIPE write error, not a signal. */
  signal(SIGPIPE, SIG_IGN);
  st.loop = wire_loop_default();
  if (st.loop == NULL) {
    fprintf(stderr, "wire serve: %s\n", wire_strerror(WIRE_ENOMEM));
    free(st.root);
    return 1;
  }
  int err;
  if (tlsx.cert != NULL) {
    err = start_https();
    if (err == 0 && wsx.path != NULL)
      err = start_ws_echo(st.srv);
    if (err == 0)
      err = wire_https_server_listen(tlsx.srv, host, port, on_https_listen);
    if (err < 0 && tlsx.srv != NULL)
      wire_https_server_close(tlsx.srv, NULL);
  } else {
    err = wire_http_server_create(st.loop, NULL, on_request, &st.srv);
    if (err == 0) {
      wire_http_server_on_listening(st.srv, on_listening);
      if (wsx.path != NULL)
        err = start_ws_echo(st.srv);
      if (err == 0)
        err = wire_http_server_listen(st.srv, host, port, on_listen);
      if (err < 0)
        wire_http_server_close(st.srv, NULL);
    }
  }
  if (err < 0) {
    fprintf(stderr, "wire serve: listen: %s\n", wire_strerror(err));
    st.status = 1;
  }
  wire_loop_run(st.loop, WIRE_RUN_DEFAULT);
  if (wire_loop_close(st.loop) < 0)
    st.status = 1;
  free(st.root);
  return st.status;
}
