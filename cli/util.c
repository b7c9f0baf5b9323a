/* Helpers shared by the subcommands. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <unistd.h>

#include "cli.h"

int cli_write_all(int fd, const char *p, size_t len)
{
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      struct pollfd pfd = {fd, POLLOUT, 0};
      if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
        return -errno;
      continue;
    }
    if (n < 0)
      return -errno;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

void cli_print_listening(const char *scheme, wire_server_t *srv)
{
  wire_addr_t a;
  if (wire_server_address(srv, &a) < 0)
    return;
  if (a.family == 0)
    printf("listening on %s+unix://%s\n", scheme, a.address);
  else if (a.family == 6)
    printf("listening on %s://[%s]:%d\n", scheme, a.address, a.port);
  else
    printf("listening on %s://%s:%d\n", scheme, a.address, a.port);
  fflush(stdout);
}
