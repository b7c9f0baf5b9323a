/* The HTTP ceiling: a minimal epoll server that answers every request with
 * a canned response and does not parse. It only counts request ends (the
 * empty line, "\r\n\r\n", tracked across reads) so that a pipelined read
 * gets one response per request, all in one write. One thread,
 * level-triggered epoll, one read per readiness event into one shared
 * buffer, the same 13-byte body and about the same head as the real
 * servers. Whatever an HTTP server does beyond this is its overhead.
 *
 * Usage: http_ceiling [PORT]   (0 picks one; prints
 * "listening on http://127.0.0.1:PORT/"). Bench-only: requests with a body
 * are not understood. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BODY "Hello, World\n"
#define RESPONSE                                                               \
  "HTTP/1.1 200 OK\r\n"                                                        \
  "Content-Type: text/plain\r\n"                                               \
  "Date: Thu, 01 Jan 2026 00:00:00 GMT\r\n"                                    \
  "Connection: keep-alive\r\n"                                                 \
  "Content-Length: 13\r\n"                                                     \
  "\r\n" BODY
#define MAX_BATCH 256

typedef struct {
  int fd;
  int match; /* bytes of "\r\n\r\n" matched at the end of the last read */
  char *out; /* unsent bytes (only when the kernel refused some) */
  size_t out_len;
} conn_t;

static char rbuf[64 * 1024];
static char canned[MAX_BATCH * (sizeof(RESPONSE) - 1)];
static const size_t rlen = sizeof(RESPONSE) - 1;

/* Counts the request ends in p[0..n), resuming from *match. */
static unsigned count_ends(const char *p, size_t n, int *match)
{
  static const char end[4] = {'\r', '\n', '\r', '\n'};
  unsigned count = 0;
  int m = *match;
  for (size_t i = 0; i < n; i++) {
    if (p[i] == end[m]) {
      if (++m == 4) {
        count++;
        m = 0;
      }
    } else {
      m = p[i] == '\r' ? 1 : 0;
    }
  }
  *match = m;
  return count;
}

static void conn_free(int ep, conn_t *c)
{
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  free(c->out);
  free(c);
}

/* Writes out, keeping what the kernel did not take. */
static int send_out(int ep, conn_t *c, const char *p, size_t n)
{
  ssize_t w = write(c->fd, p, n);
  if (w < 0 && errno != EAGAIN)
    return -1;
  if (w < 0)
    w = 0;
  if ((size_t)w == n)
    return 0;
  size_t rest = n - (size_t)w;
  char *q = realloc(c->out, c->out_len + rest);
  if (q == NULL)
    return -1;
  memcpy(q + c->out_len, p + w, rest);
  c->out = q;
  c->out_len += rest;
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
  epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
  return 0;
}

static int on_readable(int ep, conn_t *c)
{
  ssize_t n = read(c->fd, rbuf, sizeof(rbuf));
  if (n <= 0)
    return n < 0 && errno == EAGAIN ? 0 : -1;
  unsigned reqs = count_ends(rbuf, (size_t)n, &c->match);
  while (reqs > 0) {
    unsigned k = reqs < MAX_BATCH ? reqs : MAX_BATCH;
    if (c->out_len > 0) {
      char *q = realloc(c->out, c->out_len + k * rlen);
      if (q == NULL)
        return -1;
      memcpy(q + c->out_len, canned, k * rlen);
      c->out = q;
      c->out_len += k * rlen;
    } else if (send_out(ep, c, canned, k * rlen) < 0) {
      return -1;
    }
    reqs -= k;
  }
  return 0;
}

static int on_writable(int ep, conn_t *c)
{
  ssize_t w = write(c->fd, c->out, c->out_len);
  if (w < 0)
    return errno == EAGAIN ? 0 : -1;
  memmove(c->out, c->out + w, c->out_len - (size_t)w);
  c->out_len -= (size_t)w;
  if (c->out_len == 0) {
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
  }
  return 0;
}

int main(int argc, char **argv)
{
  int port = argc > 1 ? atoi(argv[1]) : 0;
  signal(SIGPIPE, SIG_IGN);
  for (int i = 0; i < MAX_BATCH; i++)
    memcpy(canned + i * rlen, RESPONSE, rlen);

  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
      listen(lfd, 4096) < 0) {
    perror("http_ceiling: listen");
    return 1;
  }
  socklen_t alen = sizeof(a);
  getsockname(lfd, (struct sockaddr *)&a, &alen);
  printf("listening on http://127.0.0.1:%d/\n", ntohs(a.sin_port));
  fflush(stdout);

  int ep = epoll_create1(0);
  struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
  struct epoll_event evs[256];
  for (;;) {
    int n = epoll_wait(ep, evs, 256, -1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return 1;
    for (int i = 0; i < n; i++) {
      conn_t *c = evs[i].data.ptr;
      if (c == NULL) {
        int fd;
        while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
          conn_t *nc = calloc(1, sizeof(*nc));
          if (nc == NULL) {
            close(fd);
            continue;
          }
          nc->fd = fd;
          struct epoll_event ev = {.events = EPOLLIN, .data.ptr = nc};
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
        }
        continue;
      }
      int err = 0;
      if (evs[i].events & EPOLLOUT)
        err = on_writable(ep, c);
      if (err == 0 && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        err = on_readable(ep, c);
      if (err < 0)
        conn_free(ep, c);
    }
  }
}
