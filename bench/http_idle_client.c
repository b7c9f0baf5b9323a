/* Load side of bench/http-idle-mem.sh: opens N keep-alive connections to
 * an HTTP server, sends one "GET /" on each, waits for each response (it
 * ends with the benchmark's body, "Hello, World\n"), prints "ready N" and
 * then holds every connection open, idle, for HOLD seconds (or until
 * killed). At most 256 connects are in flight at once, so the server's
 * listen backlog never overflows.
 *
 * Usage: http_idle_client -p PORT [-n 10000] [-t 120]   (127.0.0.1) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BODY "Hello, World\n"
#define BODY_LEN 13
#define IN_FLIGHT 256

typedef struct {
  int fd;
  int state; /* 0 connecting, 1 waiting for the response, 2 done */
  char tail[BODY_LEN];
  size_t tail_len;
} conn_t;

static const char request[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

int main(int argc, char **argv)
{
  int port = 0;
  int n = 10000;
  int hold = 120;
  int opt;
  while ((opt = getopt(argc, argv, "p:n:t:")) != -1) {
    switch (opt) {
    case 'p':
      port = atoi(optarg);
      break;
    case 'n':
      n = atoi(optarg);
      break;
    case 't':
      hold = atoi(optarg);
      break;
    default:
      fprintf(stderr, "usage: http_idle_client -p PORT [-n N] [-t HOLD]\n");
      return 2;
    }
  }
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  conn_t *cs = calloc((size_t)n, sizeof(*cs));
  int ep = epoll_create1(0);
  struct epoll_event evs[256];
  int started = 0, inflight = 0, done = 0;
  while (done < n) {
    while (started < n && inflight < IN_FLIGHT) {
      conn_t *c = &cs[started++];
      c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      if (c->fd < 0) {
        perror("socket");
        return 1;
      }
      if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) < 0 &&
          errno != EINPROGRESS) {
        perror("connect");
        return 1;
      }
      struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
      epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
      inflight++;
    }
    int k = epoll_wait(ep, evs, 256, 10000);
    if (k <= 0) {
      fprintf(stderr, "http_idle_client: stalled at %d of %d\n", done, n);
      return 1;
    }
    for (int i = 0; i < k; i++) {
      conn_t *c = evs[i].data.ptr;
      if (evs[i].events & (EPOLLERR | EPOLLHUP)) {
        fprintf(stderr, "http_idle_client: connection failed or closed\n");
        return 1;
      }
      if (c->state == 0) {
        if (write(c->fd, request, sizeof(request) - 1) !=
            (ssize_t)sizeof(request) - 1) {
          perror("write");
          return 1;
        }
        c->state = 1;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        continue;
      }
      char buf[4096];
      ssize_t r = read(c->fd, buf, sizeof(buf));
      if (r <= 0) {
        fprintf(stderr, "http_idle_client: closed before the response\n");
        return 1;
      }
      /* Keep the last BODY_LEN bytes seen. */
      for (ssize_t j = 0; j < r; j++) {
        if (c->tail_len == BODY_LEN) {
          memmove(c->tail, c->tail + 1, BODY_LEN - 1);
          c->tail_len--;
        }
        c->tail[c->tail_len++] = buf[j];
      }
      if (c->tail_len == BODY_LEN && memcmp(c->tail, BODY, BODY_LEN) == 0) {
        c->state = 2;
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        inflight--;
        done++;
      }
    }
  }
  printf("ready %d\n", done);
  fflush(stdout);
  sleep((unsigned)hold);
  return 0;
}
