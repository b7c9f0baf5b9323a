/* The WebSocket ceiling: a minimal epoll echo server with no WebSocket
 * library. It answers the opening handshake once per connection
 * (Sec-WebSocket-Accept from OpenSSL's SHA-1 and base64, nothing else
 * checked), then for every read: parses the client's frames, unmasks each
 * payload and appends it as an unmasked frame of the same opcode to one
 * output buffer, and writes that buffer once. A partial frame at the end
 * of a read is kept for the next. No UTF-8 check, no fragmentation, no
 * control frames beyond echoing them back, no close handshake: whatever a
 * real WebSocket server does beyond this is its overhead.
 *
 * Usage: ws_ceiling [PORT]   (0 picks one; prints
 * "listening on http://127.0.0.1:PORT/"). Bench-only. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define RBUF (64 * 1024)
#define KEEP_MAX (64 * 1024) /* a partial frame kept between reads */

typedef struct {
  int fd;
  int open;        /* handshake answered */
  char *keep;      /* unparsed bytes (a partial frame, or the handshake) */
  size_t keep_len;
  char *out;       /* bytes the kernel did not take */
  size_t out_len;
} conn_t;

static char rbuf[RBUF];
static char wbuf[2 * RBUF + 64];

static void conn_free(int ep, conn_t *c)
{
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  free(c->keep);
  free(c->out);
  free(c);
}

static int send_out(int ep, conn_t *c, const char *p, size_t n)
{
  if (c->out_len > 0) {
    /* Keep order: append behind what is waiting. */
    char *q = realloc(c->out, c->out_len + n);
    if (q == NULL)
      return -1;
    memcpy(q + c->out_len, p, n);
    c->out = q;
    c->out_len += n;
    return 0;
  }
  ssize_t w = write(c->fd, p, n);
  if (w < 0 && errno != EAGAIN)
    return -1;
  if (w < 0)
    w = 0;
  if ((size_t)w < n) {
    c->out = malloc(n - (size_t)w);
    if (c->out == NULL)
      return -1;
    memcpy(c->out, p + w, n - (size_t)w);
    c->out_len = n - (size_t)w;
    struct epoll_event e = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
  }
  return 0;
}

static int keep(conn_t *c, const char *p, size_t n)
{
  if (n > KEEP_MAX)
    return -1;
  char *q = malloc(n > 0 ? n : 1);
  if (q == NULL)
    return -1;
  memcpy(q, p, n);
  free(c->keep);
  c->keep = q;
  c->keep_len = n;
  return 0;
}

/* The handshake: waits for the blank line, answers 101. Returns bytes
 * consumed, 0 if more are needed, -1 on error. */
static ssize_t handshake(int ep, conn_t *c, const char *p, size_t n)
{
  const char *end = memmem(p, n, "\r\n\r\n", 4);
  if (end == NULL)
    return 0;
  const char *k = strcasestr(p, "\r\nSec-WebSocket-Key:");
  if (k == NULL || k > end)
    return -1;
  k += 20;
  while (*k == ' ')
    k++;
  const char *ke = k;
  while (ke < end && *ke != '\r' && *ke != ' ')
    ke++;
  char cat[128];
  static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  size_t kl = (size_t)(ke - k);
  if (kl > 64)
    return -1;
  memcpy(cat, k, kl);
  memcpy(cat + kl, guid, sizeof(guid) - 1);
  unsigned char md[SHA_DIGEST_LENGTH];
  SHA1((const unsigned char *)cat, kl + sizeof(guid) - 1, md);
  char acc[64];
  EVP_EncodeBlock((unsigned char *)acc, md, SHA_DIGEST_LENGTH);
  char resp[256];
  int rl = snprintf(resp, sizeof(resp),
                    "HTTP/1.1 101 Switching Protocols\r\n"
                    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Accept: %s\r\n\r\n",
                    acc);
  if (send_out(ep, c, resp, (size_t)rl) < 0)
    return -1;
  c->open = 1;
  return end + 4 - p;
}

/* Echoes every whole frame in p[0..n); returns bytes consumed, -1 on
 * error. */
static ssize_t frames(int ep, conn_t *c, const char *p, size_t n)
{
  size_t i = 0, o = 0;
  while (n - i >= 2) {
    const unsigned char *h = (const unsigned char *)p + i;
    uint64_t len = h[1] & 0x7f;
    size_t hl = 2;
    if (len == 126) {
      if (n - i < 4)
        break;
      len = (uint64_t)h[2] << 8 | h[3];
      hl = 4;
    } else if (len == 127) {
      if (n - i < 10)
        break;
      len = 0;
      for (int b = 0; b < 8; b++)
        len = len << 8 | h[2 + b];
      hl = 10;
    }
    if (!(h[1] & 0x80))
      return -1; /* clients must mask */
    hl += 4;
    if (len > RBUF)
      return -1; /* bench-only: messages are small */
    if (n - i < hl + len)
      break;
    const unsigned char *key = h + hl - 4;
    const unsigned char *src = h + hl;
    unsigned char *dst = (unsigned char *)wbuf + o;
    /* Flush first if this frame would not fit. */
    if (o + 10 + len > sizeof(wbuf)) {
      if (send_out(ep, c, wbuf, o) < 0)
        return -1;
      o = 0;
      dst = (unsigned char *)wbuf;
    }
    dst[0] = h[0];
    size_t dh;
    if (len < 126) {
      dst[1] = (unsigned char)len;
      dh = 2;
    } else if (len < 65536) {
      dst[1] = 126;
      dst[2] = (unsigned char)(len >> 8);
      dst[3] = (unsigned char)len;
      dh = 4;
    } else {
      dst[1] = 127;
      for (int b = 0; b < 8; b++)
        dst[2 + b] = (unsigned char)(len >> (56 - 8 * b));
      dh = 10;
    }
    for (uint64_t b = 0; b < len; b++)
      dst[dh + b] = src[b] ^ key[b & 3];
    o += dh + (size_t)len;
    i += hl + (size_t)len;
  }
  if (o > 0 && send_out(ep, c, wbuf, o) < 0)
    return -1;
  return (ssize_t)i;
}

static int on_read(int ep, conn_t *c)
{
  ssize_t r = read(c->fd, rbuf, sizeof(rbuf));
  if (r == 0 || (r < 0 && errno != EAGAIN))
    return -1;
  if (r < 0)
    return 0;
  const char *p = rbuf;
  size_t n = (size_t)r;
  char *joined = NULL;
  if (c->keep_len > 0) {
    joined = malloc(c->keep_len + n);
    if (joined == NULL)
      return -1;
    memcpy(joined, c->keep, c->keep_len);
    memcpy(joined + c->keep_len, rbuf, n);
    p = joined;
    n += c->keep_len;
    c->keep_len = 0;
  }
  size_t used = 0;
  if (!c->open) {
    ssize_t u = handshake(ep, c, p, n);
    if (u < 0)
      goto fail;
    used = (size_t)u;
  }
  if (c->open) {
    ssize_t u = frames(ep, c, p + used, n - used);
    if (u < 0)
      goto fail;
    used += (size_t)u;
  }
  if (used < n && keep(c, p + used, n - used) < 0)
    goto fail;
  free(joined);
  return 0;
fail:
  free(joined);
  return -1;
}

static int on_write(int ep, conn_t *c)
{
  ssize_t w = write(c->fd, c->out, c->out_len);
  if (w < 0)
    return errno == EAGAIN ? 0 : -1;
  memmove(c->out, c->out + w, c->out_len - (size_t)w);
  c->out_len -= (size_t)w;
  if (c->out_len == 0) {
    free(c->out);
    c->out = NULL;
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
  }
  return 0;
}

int main(int argc, char **argv)
{
  int port = argc > 1 ? atoi(argv[1]) : 0;
  signal(SIGPIPE, SIG_IGN);
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
      listen(lfd, 4096) < 0) {
    perror("listen");
    return 1;
  }
  socklen_t sl = sizeof(sa);
  getsockname(lfd, (struct sockaddr *)&sa, &sl);
  printf("listening on http://127.0.0.1:%d/\n", ntohs(sa.sin_port));
  fflush(stdout);
  int ep = epoll_create1(0);
  struct epoll_event le = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &le);
  struct epoll_event evs[256];
  for (;;) {
    int n = epoll_wait(ep, evs, 256, -1);
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
          struct epoll_event e = {.events = EPOLLIN, .data.ptr = nc};
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
        }
        continue;
      }
      int err = 0;
      if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        err = on_read(ep, c);
      if (err == 0 && (evs[i].events & EPOLLOUT) && c->out_len > 0)
        err = on_write(ep, c);
      if (err < 0)
        conn_free(ep, c);
    }
  }
}
