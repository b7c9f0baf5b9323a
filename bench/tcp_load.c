/* Load client for bench/tcp-echo.sh: N connections to an echo server, each
 * keeping M messages of S bytes in flight. Every time S more bytes have come
 * back on a connection, one message is counted and the next one is sent.
 * Runs for a bounded time (plus a hard deadline if the server stalls) and
 * prints one line per metric. One thread, level-triggered epoll, TCP_NODELAY
 * on every connection.
 *
 * Usage: tcp_load -p PORT [-h 127.0.0.1] [-c 50] [-m 1] [-s 64] [-d 5]
 * Prints: conns, inflight, msg_size, seconds, messages, bytes, msgs_per_s,
 * mb_per_s (MB = 10^6 bytes of echoed payload), client_cpu_s, one "name
 * value" a line. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RBUF_SIZE (256 * 1024)
#define WBUF_SIZE (256 * 1024)

typedef struct {
  int fd;
  size_t acc;    /* bytes of the current, partly echoed message */
  size_t unsent; /* bytes of queued messages not yet written */
  int want_out;  /* EPOLLOUT armed */
} conn_t;

static int ep;
static char rbuf[RBUF_SIZE];
static char wbuf[WBUF_SIZE];

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
  perror(what);
  exit(1);
}

static void arm(conn_t *c, int out)
{
  if (c->want_out == out)
    return;
  c->want_out = out;
  struct epoll_event e = {.events = EPOLLIN | (out ? EPOLLOUT : 0),
                          .data.ptr = c};
  if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e) < 0)
    die("tcp_load: epoll_ctl");
}

/* Writes as much of the queued messages as the kernel takes. */
static void send_some(conn_t *c)
{
  while (c->unsent > 0) {
    size_t n = c->unsent < WBUF_SIZE ? c->unsent : WBUF_SIZE;
    ssize_t w = write(c->fd, wbuf, n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN)
        break;
      die("tcp_load: write");
    }
    c->unsent -= (size_t)w;
  }
  arm(c, c->unsent > 0);
}

int main(int argc, char **argv)
{
  const char *host = "127.0.0.1";
  int port = 0, nconns = 50, inflight = 1;
  size_t size = 64;
  double secs = 5;
  int opt;
  while ((opt = getopt(argc, argv, "h:p:c:m:s:d:")) != -1) {
    switch (opt) {
    case 'h':
      host = optarg;
      break;
    case 'p':
      port = atoi(optarg);
      break;
    case 'c':
      nconns = atoi(optarg);
      break;
    case 'm':
      inflight = atoi(optarg);
      break;
    case 's':
      size = (size_t)atol(optarg);
      break;
    case 'd':
      secs = atof(optarg);
      break;
    default:
      fprintf(stderr, "usage: tcp_load -p PORT [-h HOST] [-c N] [-m M] "
                      "[-s BYTES] [-d SECONDS]\n");
      return 2;
    }
  }
  if (port <= 0 || nconns <= 0 || inflight <= 0 || size == 0 || secs <= 0) {
    fprintf(stderr, "tcp_load: bad arguments\n");
    return 2;
  }
  for (size_t i = 0; i < sizeof(wbuf); i++)
    wbuf[i] = (char)('a' + i % 26);

  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
  if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
    fprintf(stderr, "tcp_load: bad host %s\n", host);
    return 2;
  }
  ep = epoll_create1(EPOLL_CLOEXEC);
  conn_t *conns = calloc((size_t)nconns, sizeof(*conns));
  if (ep < 0 || conns == NULL)
    die("tcp_load: setup");
  for (int i = 0; i < nconns; i++) {
    conn_t *c = &conns[i];
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
      die("tcp_load: connect");
    int on = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    if (fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK) < 0)
      die("tcp_load: fcntl");
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e) < 0)
      die("tcp_load: epoll_ctl");
  }

  uint64_t messages = 0, bytes = 0;
  double t0 = now();
  double end = t0 + secs;
  for (int i = 0; i < nconns; i++) {
    conns[i].unsent = size * (size_t)inflight;
    send_some(&conns[i]);
  }
  struct epoll_event evs[256];
  double t = t0;
  while (t < end) {
    int n = epoll_wait(ep, evs, 256, 10);
    if (n < 0 && errno != EINTR)
      die("tcp_load: epoll_wait");
    for (int i = 0; i < n; i++) {
      conn_t *c = evs[i].data.ptr;
      if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        ssize_t r = read(c->fd, rbuf, sizeof(rbuf));
        if (r == 0) {
          fprintf(stderr, "tcp_load: server closed a connection\n");
          return 1;
        }
        if (r < 0 && errno != EAGAIN && errno != EINTR)
          die("tcp_load: read");
        if (r > 0) {
          bytes += (uint64_t)r;
          c->acc += (size_t)r;
          size_t k = c->acc / size;
          c->acc %= size;
          messages += k;
          c->unsent += k * size;
        }
      }
      send_some(c);
    }
    t = now();
  }
  double dt = t - t0;
  printf("conns %d\ninflight %d\nmsg_size %zu\nseconds %.3f\n", nconns,
         inflight, size, dt);
  printf("messages %llu\nbytes %llu\n", (unsigned long long)messages,
         (unsigned long long)bytes);
  printf("msgs_per_s %.0f\nmb_per_s %.2f\n", (double)messages / dt,
         (double)bytes / dt / 1e6);
  /* The client's own CPU over its whole life (connects included): tells
   * whether the client, not the server, was the bottleneck. */
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("client_cpu_s %.2f\n",
         (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
             (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
  return 0;
}
