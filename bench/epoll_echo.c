/* The machine's ceiling for bench/tcp-echo.sh: a minimal TCP echo server on
 * level-triggered epoll, one thread, no library. Each readable connection
 * gets one read() into a shared 64 KiB buffer and one write() of what was
 * read; bytes the kernel does not take are kept per connection, reading
 * stops and EPOLLOUT is armed until they are gone (backpressure).
 *
 * Usage: epoll_echo [port [host]]   (port 0, the default, picks one)
 * Prints: listening on tcp://HOST:PORT */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define RBUF_SIZE (64 * 1024)
#define MAX_EVENTS 256

typedef struct {
  int fd;
  char *pend; /* bytes not yet written back, or NULL */
  size_t pend_len;
  size_t pend_off;
} conn_t;

static int ep;
static char rbuf[RBUF_SIZE];

static void conn_close(conn_t *c)
{
  close(c->fd); /* also removes it from the epoll set */
  free(c->pend);
  free(c);
}

static int set_events(conn_t *c, uint32_t ev)
{
  struct epoll_event e = {.events = ev, .data.ptr = c};
  return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
}

/* Writes the pending bytes; returns -1 on a fatal error. */
static int flush_pending(conn_t *c)
{
  while (c->pend_off < c->pend_len) {
    ssize_t n = write(c->fd, c->pend + c->pend_off, c->pend_len - c->pend_off);
    if (n < 0) {
      if (errno == EAGAIN)
        return 0;
      if (errno == EINTR)
        continue;
      return -1;
    }
    c->pend_off += (size_t)n;
  }
  free(c->pend);
  c->pend = NULL;
  c->pend_len = c->pend_off = 0;
  return set_events(c, EPOLLIN);
}

static void on_readable(conn_t *c)
{
  ssize_t n = read(c->fd, rbuf, sizeof(rbuf));
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    conn_close(c);
    return;
  }
  if (n < 0)
    return;
  ssize_t w = write(c->fd, rbuf, (size_t)n);
  if (w < 0) {
    if (errno != EAGAIN) {
      conn_close(c);
      return;
    }
    w = 0;
  }
  if (w < n) {
    c->pend_len = (size_t)(n - w);
    c->pend = malloc(c->pend_len);
    if (c->pend == NULL) {
      conn_close(c);
      return;
    }
    memcpy(c->pend, rbuf + w, c->pend_len);
    c->pend_off = 0;
    set_events(c, EPOLLOUT);
  }
}

static void on_accept(int lfd)
{
  for (;;) {
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
        perror("epoll_echo: accept");
      return;
    }
    conn_t *c = calloc(1, sizeof(*c));
    if (c == NULL) {
      close(fd);
      continue;
    }
    c->fd = fd;
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0) {
      close(fd);
      free(c);
    }
  }
}

int main(int argc, char **argv)
{
  int port = argc > 1 ? atoi(argv[1]) : 0;
  const char *host = argc > 2 ? argv[2] : "127.0.0.1";
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
  if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
    fprintf(stderr, "epoll_echo: bad host %s\n", host);
    return 1;
  }
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int on = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
      listen(lfd, 511) < 0) {
    perror("epoll_echo: listen");
    return 1;
  }
  socklen_t len = sizeof(sa);
  getsockname(lfd, (struct sockaddr *)&sa, &len);
  printf("listening on tcp://%s:%d\n", host, ntohs(sa.sin_port));
  fflush(stdout);

  ep = epoll_create1(EPOLL_CLOEXEC);
  /* The listener is the one entry whose data.ptr is NULL. */
  struct epoll_event le = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &le);
  struct epoll_event evs[MAX_EVENTS];
  for (;;) {
    int n = epoll_wait(ep, evs, MAX_EVENTS, -1);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      perror("epoll_echo: epoll_wait");
      return 1;
    }
    for (int i = 0; i < n; i++) {
      conn_t *c = evs[i].data.ptr;
      if (c == NULL) {
        on_accept(lfd);
        continue;
      }
      /* With bytes pending only EPOLLOUT (or an error) is armed. */
      if (c->pend != NULL) {
        if (flush_pending(c) < 0)
          conn_close(c);
      } else {
        on_readable(c);
      }
    }
  }
}
