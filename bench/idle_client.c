/* Idle connections for bench/idle-mem.sh: opens N TCP connections to an
 * echo server and holds them open without traffic. With -x each connection
 * first sends 16 bytes and waits for the echo (a connection that has been
 * used once, as an idle keep-alive connection has). Prints "connected N"
 * when all are up, then holds them until it is killed or the hold time
 * (-t, default 120 s) runs out.
 *
 * Usage: idle_client -p PORT [-h 127.0.0.1] [-n 10000] [-x] [-t 120]
 * The caller must raise the fd limit (ulimit -n) above N. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
  const char *host = "127.0.0.1";
  int port = 0, n = 10000, exchange = 0, hold = 120;
  int opt;
  while ((opt = getopt(argc, argv, "h:p:n:xt:")) != -1) {
    switch (opt) {
    case 'h':
      host = optarg;
      break;
    case 'p':
      port = atoi(optarg);
      break;
    case 'n':
      n = atoi(optarg);
      break;
    case 'x':
      exchange = 1;
      break;
    case 't':
      hold = atoi(optarg);
      break;
    default:
      fprintf(stderr, "usage: idle_client -p PORT [-h HOST] [-n N] [-x] "
                      "[-t SECONDS]\n");
      return 2;
    }
  }
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
  if (port <= 0 || n <= 0 || inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
    fprintf(stderr, "idle_client: bad arguments\n");
    return 2;
  }
  int *fds = calloc((size_t)n, sizeof(*fds));
  if (fds == NULL)
    return 1;
  for (int i = 0; i < n; i++) {
    fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fds[i] < 0 || connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)) < 0) {
      fprintf(stderr, "idle_client: connection %d: ", i);
      perror("connect");
      return 1;
    }
  }
  if (exchange) {
    static const char msg[16] = "0123456789abcdef";
    for (int i = 0; i < n; i++) {
      if (write(fds[i], msg, sizeof(msg)) != (ssize_t)sizeof(msg)) {
        perror("idle_client: write");
        return 1;
      }
    }
    for (int i = 0; i < n; i++) {
      char buf[16];
      size_t got = 0;
      while (got < sizeof(buf)) {
        ssize_t r = read(fds[i], buf + got, sizeof(buf) - got);
        if (r <= 0) {
          fprintf(stderr, "idle_client: connection %d lost\n", i);
          return 1;
        }
        got += (size_t)r;
      }
    }
  }
  printf("connected %d\n", n);
  fflush(stdout);
  /* Hold until killed, or at most the hold time. */
  for (int waited = 0; waited < hold; waited++)
    sleep(1);
  return 0;
}
