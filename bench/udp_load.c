/* UDP load client for bench/udp-echo.sh: one connected socket keeps
 * WINDOW datagrams of SIZE bytes in flight against an echo server (sent
 * with sendmmsg, replies read with recvmmsg), and counts the replies that
 * arrive between WARMUP and WARMUP + DURATION seconds. After 20 ms without
 * a reply the window is assumed lost and refilled (counted as "refills").
 * Prints one line: "replies N dgrams_per_s R refills F".
 * Usage: udp_load HOST PORT [DURATION=5 WARMUP=1 SIZE=32 WINDOW=256] */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BATCH 64

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
  if (argc < 3) {
    fprintf(stderr, "usage: udp_load HOST PORT [DURATION WARMUP SIZE "
                    "WINDOW]\n");
    return 2;
  }
  double duration = argc > 3 ? atof(argv[3]) : 5;
  double warmup = argc > 4 ? atof(argv[4]) : 1;
  size_t size = argc > 5 ? (size_t)atoi(argv[5]) : 32;
  int window = argc > 6 ? atoi(argv[6]) : 256;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  int bufsz = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)atoi(argv[2]));
  inet_pton(AF_INET, argv[1], &a.sin_addr);
  if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
    perror("connect");
    return 1;
  }
  static char out[2048], in[BATCH][2048];
  memset(out, 'x', sizeof(out));
  struct iovec siov = {out, size}, riov[BATCH];
  struct mmsghdr smsg[BATCH], rmsg[BATCH];
  memset(smsg, 0, sizeof(smsg));
  for (int i = 0; i < BATCH; i++) {
    smsg[i].msg_hdr.msg_iov = &siov;
    smsg[i].msg_hdr.msg_iovlen = 1;
  }
  long inflight = 0, replies = 0, refills = 0;
  double start = now(), t0 = start + warmup, t1 = t0 + duration;
  double last_reply = start;
  for (;;) {
    double t = now();
    if (t >= t1)
      break;
    while (inflight < window) {
      long want = window - inflight;
      int n = sendmmsg(fd, smsg, want > BATCH ? BATCH : (unsigned)want, 0);
      if (n <= 0)
        break;
      inflight += n;
    }
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 5) <= 0) {
      if (now() - last_reply > 0.02) {
        inflight = 0; /* lost: refill the window */
        refills++;
        last_reply = now();
      }
      continue;
    }
    for (;;) {
      for (int i = 0; i < BATCH; i++) {
        riov[i].iov_base = in[i];
        riov[i].iov_len = sizeof(in[i]);
        memset(&rmsg[i].msg_hdr, 0, sizeof(rmsg[i].msg_hdr));
        rmsg[i].msg_hdr.msg_iov = &riov[i];
        rmsg[i].msg_hdr.msg_iovlen = 1;
      }
      int n = recvmmsg(fd, rmsg, BATCH, 0, NULL);
      if (n <= 0)
        break;
      inflight -= n;
      if (inflight < 0)
        inflight = 0;
      last_reply = now();
      if (last_reply >= t0 && last_reply < t1)
        replies += n;
      if (n < BATCH)
        break;
    }
  }
  printf("replies %ld dgrams_per_s %.0f refills %ld\n", replies,
         (double)replies / duration, refills);
  return 0;
}
