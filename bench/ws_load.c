/* Load client for bench/ws.sh: N WebSocket connections to an echo server,
 * each keeping M messages of S bytes in flight. A connection does the
 * opening handshake (GET with Upgrade, waits for "101"), then sends M
 * masked text frames; every time a whole frame comes back, one message is
 * counted and the next one is sent (all that one read completed go out in
 * one write). The echo must be one unmasked, uncompressed
 * frame per message (every server in the bench is run without
 * permessage-deflate). One thread, level-triggered epoll, TCP_NODELAY;
 * the handshakes are done one at a time before the measured time.
 *
 * Idle mode (-I): opens N connections, does the handshakes, prints
 * "connected N" and holds them open for the duration (bench/ws.sh reads the
 * server's memory meanwhile).
 *
 * Usage: ws_load -p PORT [-h 127.0.0.1] [-c 100] [-m 1] [-s 32] [-d 5]
 *                [-u /] [-I]
 * Prints: conns, inflight, msg_size, seconds, messages, msgs_per_s,
 * client_cpu_s, one "name value" a line. */
#include <arpa/inet.h>
#include <errno.h>
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
#define MAX_FRAME 256

typedef struct {
  int fd;
  size_t acc;    /* bytes of the current echoed frame received */
  unsigned owed; /* frames to send */
} conn_t;

static int ep;
static char rbuf[RBUF_SIZE];
static char frame[MAX_FRAME]; /* one masked frame, sent M times */
static size_t frame_len;
static size_t echo_len; /* the unmasked echo: header + payload */
static char *burst;     /* M frames back to back */
static char hs_req[512];
static size_t hs_len;

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

/* Sends the frames owed in one write. The sockets are blocking: a few
 * hundred bytes never block in practice, and a blocked write would only
 * wait for a server that is itself never blocked on us. */
static void flush(conn_t *c)
{
  size_t len = c->owed * frame_len;
  size_t off = 0;
  while (off < len) {
    ssize_t w = write(c->fd, burst + off, len - off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      die("write");
    off += (size_t)w;
  }
  c->owed = 0;
}

static void usage(void)
{
  fprintf(stderr, "usage: ws_load -p PORT [-h HOST] [-c CONNS] [-m INFLIGHT]"
                  " [-s SIZE] [-d SECONDS] [-u PATH] [-I]\n");
  exit(2);
}

int main(int argc, char **argv)
{
  const char *host = "127.0.0.1";
  const char *path = "/";
  int port = 0, conns = 100, inflight = 1, idle = 0;
  size_t size = 32;
  double dur = 5;
  int opt;
  while ((opt = getopt(argc, argv, "p:h:c:m:s:d:u:I")) != -1) {
    switch (opt) {
    case 'p': port = atoi(optarg); break;
    case 'h': host = optarg; break;
    case 'c': conns = atoi(optarg); break;
    case 'm': inflight = atoi(optarg); break;
    case 's': size = (size_t)atol(optarg); break;
    case 'd': dur = atof(optarg); break;
    case 'u': path = optarg; break;
    case 'I': idle = 1; break;
    default: usage();
    }
  }
  if (port <= 0 || conns <= 0 || inflight <= 0 || size > 125)
    usage();

  /* One masked text frame of size bytes ('a'..), 7-bit length. */
  const unsigned char key[4] = {0x37, 0xfa, 0x21, 0x3d};
  frame[0] = (char)0x81;
  frame[1] = (char)(0x80 | size);
  memcpy(frame + 2, key, 4);
  for (size_t i = 0; i < size; i++)
    frame[6 + i] = (char)(('a' + i % 26) ^ key[i % 4]);
  frame_len = 6 + size;
  echo_len = 2 + size;
  burst = malloc(frame_len * (size_t)inflight);
  if (burst == NULL)
    die("malloc");
  for (int i = 0; i < inflight; i++)
    memcpy(burst + (size_t)i * frame_len, frame, frame_len);
  hs_len = (size_t)snprintf(hs_req, sizeof(hs_req),
                            "GET %s HTTP/1.1\r\nHost: %s:%d\r\n"
                            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                            "Sec-WebSocket-Version: 13\r\n\r\n",
                            path, host, port);

  ep = epoll_create1(0);
  if (ep < 0)
    die("epoll_create1");
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
  if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
    usage();
  conn_t *cs = calloc((size_t)conns, sizeof(*cs));
  if (cs == NULL)
    die("calloc");
  /* Connect and handshake blocking, one at a time: simple, and not
   * measured. */
  for (int i = 0; i < conns; i++) {
    conn_t *c = &cs[i];
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0)
      die("socket");
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
      die("connect");
    if (write(c->fd, hs_req, hs_len) != (ssize_t)hs_len)
      die("write handshake");
    /* Read the response byte-exactly up to its blank line, so no frame
     * byte is swallowed (none comes before we send anyway). */
    char hb[1024];
    size_t n = 0;
    while (n < 4 || memcmp(hb + n - 4, "\r\n\r\n", 4) != 0) {
      if (n == sizeof(hb))
        die("handshake response too long");
      ssize_t r = read(c->fd, hb + n, 1);
      if (r <= 0)
        die("read handshake");
      n++;
    }
    if (n < 12 || memcmp(hb, "HTTP/1.1 101", 12) != 0) {
      fprintf(stderr, "handshake refused: %.*s\n", (int)n, hb);
      exit(1);
    }
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e) < 0)
      die("epoll_ctl");
  }
  if (idle) {
    printf("connected %d\n", conns);
    fflush(stdout);
    double end = now() + dur;
    struct epoll_event evs[64];
    while (now() < end) {
      int n = epoll_wait(ep, evs, 64, 200);
      for (int i = 0; i < n; i++) {
        conn_t *c = evs[i].data.ptr;
        ssize_t r = read(c->fd, rbuf, sizeof(rbuf));
        if (r <= 0) {
          fprintf(stderr, "an idle connection closed\n");
          exit(1);
        }
      }
    }
    return 0;
  }

  struct rusage ru0, ru1;
  getrusage(RUSAGE_SELF, &ru0);
  double start = now();
  double end = start + dur;
  uint64_t msgs = 0;
  for (int i = 0; i < conns; i++) {
    cs[i].owed = (unsigned)inflight;
    flush(&cs[i]);
  }
  struct epoll_event evs[256];
  while (now() < end) {
    int n = epoll_wait(ep, evs, 256, 100);
    if (n < 0 && errno != EINTR)
      die("epoll_wait");
    for (int i = 0; i < n; i++) {
      conn_t *c = evs[i].data.ptr;
      if (evs[i].events & EPOLLIN) {
        ssize_t r = read(c->fd, rbuf, sizeof(rbuf));
        if (r == 0) {
          fprintf(stderr, "server closed a connection\n");
          exit(1);
        }
        if (r < 0) {
          if (errno == EINTR)
            continue;
          die("read");
        }
        size_t got = c->acc + (size_t)r;
        unsigned done = (unsigned)(got / echo_len);
        c->acc = got % echo_len;
        msgs += done;
        c->owed += done;
      }
      if (c->owed > 0)
        flush(c);
    }
  }
  double secs = now() - start;
  getrusage(RUSAGE_SELF, &ru1);
  double cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
               (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
               (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6 +
               (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
  printf("conns %d\ninflight %d\nmsg_size %zu\nseconds %.3f\nmessages %llu\n"
         "msgs_per_s %.0f\nclient_cpu_s %.2f\n",
         conns, inflight, size, secs, (unsigned long long)msgs,
         (double)msgs / secs, cpu);
  return 0;
}
