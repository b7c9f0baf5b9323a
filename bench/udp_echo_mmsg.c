/* The ceiling for bench/udp-echo.sh: a plain C UDP echo on epoll with
 * recvmmsg and sendmmsg (64 datagrams per call), no library. Prints
 * "listening on udp://HOST:PORT".
 * Usage: udp_echo_mmsg [PORT [HOST]]   (default 0 127.0.0.1) */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#define BATCH 64
#define SLOT 2048

int main(int argc, char **argv)
{
  int port = argc > 1 ? atoi(argv[1]) : 0;
  const char *host = argc > 2 ? argv[2] : "127.0.0.1";
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  int size = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  inet_pton(AF_INET, host, &a.sin_addr);
  if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
    perror("bind");
    return 1;
  }
  socklen_t alen = sizeof(a);
  getsockname(fd, (struct sockaddr *)&a, &alen);
  printf("listening on udp://%s:%d\n", host, ntohs(a.sin_port));
  fflush(stdout);
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  static char bufs[BATCH][SLOT];
  struct sockaddr_in6 peers[BATCH];
  struct iovec iov[BATCH];
  struct mmsghdr msgs[BATCH];
  for (;;) {
    if (epoll_wait(ep, &ev, 1, -1) < 0 && errno != EINTR)
      return 1;
    for (;;) {
      for (int i = 0; i < BATCH; i++) {
        iov[i].iov_base = bufs[i];
        iov[i].iov_len = SLOT;
        memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &peers[i];
        msgs[i].msg_hdr.msg_namelen = sizeof(peers[i]);
      }
      int n = recvmmsg(fd, msgs, BATCH, 0, NULL);
      if (n <= 0)
        break;
      for (int i = 0; i < n; i++)
        iov[i].iov_len = msgs[i].msg_len;
      int off = 0;
      while (off < n) {
        int m = sendmmsg(fd, msgs + off, (unsigned)(n - off), 0);
        if (m <= 0)
          break; /* a full send buffer drops the rest, as UDP does */
        off += m;
      }
    }
  }
}
