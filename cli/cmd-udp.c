/* wire udp: a netcat for datagrams.
 *
 *   wire udp HOST PORT        connect a UDP socket to HOST PORT; each line
 *                             of stdin (without its newline) is one
 *                             datagram; datagrams received are printed,
 *                             one per line. At stdin's end, exits once the
 *                             last datagram went out (after -w SECS more,
 *                             to wait for replies).
 *   wire udp -l HOST PORT     bind HOST PORT (0 picks one), print
 *                             "listening on udp://HOST:PORT", then print
 *                             every datagram received; stdin's lines go
 *                             to the last sender seen. Runs until killed.
 *
 * A host with a ':' is IPv6 (a udp6 socket); names are resolved in IPv4.
 *
 * stdin is wrapped with wire_socket_open when it is a pipe, a terminal or
 * a socket; a regular file or /dev/null is not pollable and is read at
 * once with read(). stdout is written synchronously, as wire tcp does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define MAX_DGRAM 65507 /* the largest IPv4 UDP payload */

static const char usage_text[] =
    "usage: wire udp [-w SECS] HOST PORT\n"
    "       wire udp -l HOST PORT\n"
    "\n"
    "Sends each line of stdin as one datagram to HOST PORT and prints the\n"
    "datagrams that come back, one per line. With -l, binds HOST PORT\n"
    "instead (PORT 0 picks a free port; the first line on stdout is\n"
    "'listening on udp://HOST:PORT'), prints every datagram received and\n"
    "sends stdin's lines to the last sender. -w SECS: after stdin ends, wait\n"
    "that long for replies before exiting (default 0).\n";

static struct {
  wire_loop_t *loop;
  wire_udp_t *u;
  wire_socket_t *in;
  wire_timer_t *linger;
  int listen;
  int linger_s;
  int in_flight;
  int eof;
  int closing;
  int status;
  int have_peer;
  char peer[64];
  int peer_port;
  wire_addr_t local;
  char line[MAX_DGRAM];
  size_t len;
} st;

static void close_all(void)
{
  if (st.closing)
    return;
  st.closing = 1;
  if (st.linger != NULL)
    wire_timer_close(st.linger, NULL);
  if (st.in != NULL)
    wire_socket_close(st.in, NULL);
  wire_udp_close(st.u, NULL);
}

static void on_linger(wire_timer_t *t, void *d)
{
  (void)t, (void)d;
  close_all();
}

/* The client is done once stdin ended and the last datagram left. */
static void maybe_done(void)
{
  if (st.listen || !st.eof || st.in_flight > 0 || st.closing)
    return;
  if (st.linger_s <= 0) {
    close_all();
    return;
  }
  if (st.linger == NULL && wire_timer_create(st.loop, &st.linger) == 0)
    wire_timer_start(st.linger, (uint64_t)st.linger_s * 1000, 0, on_linger);
  else if (st.linger == NULL)
    close_all();
}

static void on_sent(wire_udp_t *u, int status, void *arg)
{
  (void)u, (void)arg;
  st.in_flight--;
  if (status < 0) {
    fprintf(stderr, "wire udp: send: %s\n", wire_strerror(status));
    st.status = 1;
  }
  maybe_done();
}

static void send_line(const char *p, size_t n)
{
  if (st.closing)
    return;
  int err;
  if (st.listen) {
    if (!st.have_peer) {
      fprintf(stderr, "wire udp: no sender yet; line dropped\n");
      return;
    }
    err = wire_udp_send(st.u, p, 0, n, st.peer_port, st.peer, on_sent, NULL);
  } else {
    err = wire_udp_send(st.u, p, 0, n, 0, NULL, on_sent, NULL);
  }
  if (err < 0) {
    fprintf(stderr, "wire udp: send: %s\n", wire_strerror(err));
    st.status = 1;
    return;
  }
  st.in_flight++;
}

/* Splits stdin into lines; a line longer than a datagram goes in pieces. */
static void feed(const char *p, size_t n)
{
  while (n > 0) {
    const char *nl = memchr(p, '\n', n);
    size_t take = nl != NULL ? (size_t)(nl - p) : n;
    if (take > sizeof(st.line) - st.len)
      take = sizeof(st.line) - st.len;
    memcpy(st.line + st.len, p, take);
    st.len += take;
    p += take;
    n -= take;
    if (n > 0 && *p == '\n') {
      p++;
      n--;
    } else if (st.len < sizeof(st.line)) {
      continue; /* the line goes on in the next read */
    }
    send_line(st.line, st.len);
    st.len = 0;
  }
}

static void stdin_done(void)
{
  if (st.len > 0)
    send_line(st.line, st.len);
  st.len = 0;
  st.eof = 1;
  maybe_done();
}

static void on_stdin_data(wire_socket_t *s, const char *buf, size_t len,
                          void *d)
{
  (void)s, (void)d;
  feed(buf, len);
}

static void on_stdin_end(wire_socket_t *s, void *d)
{
  (void)d;
  st.in = NULL;
  wire_socket_close(s, NULL);
  stdin_done();
}

static void on_stdin_error(wire_socket_t *s, int err, void *d)
{
  (void)s, (void)d;
  fprintf(stderr, "wire udp: stdin: %s\n", wire_strerror(err));
}

static void on_stdin_close(wire_socket_t *s, int had_error, void *d)
{
  (void)s, (void)had_error, (void)d;
  if (st.in != NULL) {
    st.in = NULL;
    stdin_done();
  }
}

static void read_stdin(void)
{
  if (wire_socket_open(st.loop, 0, &st.in) == 0) {
    wire_socket_set_allow_half_open(st.in, 1);
    wire_socket_on_data(st.in, on_stdin_data);
    wire_socket_on_end(st.in, on_stdin_end);
    wire_socket_on_error(st.in, on_stdin_error);
    wire_socket_on_close(st.in, on_stdin_close);
    return;
  }
  /* A regular file or a device: read it all now. */
  st.in = NULL;
  static char buf[64 * 1024];
  ssize_t n;
  while ((n = read(0, buf, sizeof(buf))) > 0)
    feed(buf, (size_t)n);
  stdin_done();
}

static void on_message(wire_udp_t *u, const char *buf, size_t len,
                       const wire_udp_rinfo_t *rinfo, void *d)
{
  (void)u, (void)d;
  if (st.listen) {
    snprintf(st.peer, sizeof(st.peer), "%s", rinfo->address);
    st.peer_port = rinfo->port;
    st.have_peer = 1;
  }
  fwrite(buf, 1, len, stdout);
  if (len == 0 || buf[len - 1] != '\n')
    fputc('\n', stdout);
  fflush(stdout);
}

static void on_listening(wire_udp_t *u, void *d)
{
  (void)d;
  if (!st.listen)
    return;
  wire_addr_t *a = &st.local;
  if (wire_udp_address(u, a) < 0)
    return;
  if (a->family == 6)
    printf("listening on udp://[%s]:%d\n", a->address, a->port);
  else
    printf("listening on udp://%s:%d\n", a->address, a->port);
  fflush(stdout);
  read_stdin();
}

static void on_connected(wire_udp_t *u, int status, void *d)
{
  (void)u, (void)d;
  if (status < 0) {
    fprintf(stderr, "wire udp: connect: %s\n", wire_strerror(status));
    st.status = 1;
    close_all();
  }
}

static void on_error(wire_udp_t *u, int err, void *d)
{
  (void)u, (void)d;
  fprintf(stderr, "wire udp: %s\n", wire_strerror(err));
}

static void on_bound(wire_udp_t *u, int status, void *d)
{
  (void)u, (void)d;
  if (status < 0) {
    st.status = 1;
    close_all();
  }
}

int cmd_udp(int argc, char **argv)
{
  int i = 1;
  for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
    if (strcmp(argv[i], "-l") == 0) {
      st.listen = 1;
    } else if (strcmp(argv[i], "-w") == 0 && i + 1 < argc) {
      st.linger_s = atoi(argv[++i]);
    } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      fputs(usage_text, stdout);
      return 0;
    } else {
      fputs(usage_text, stderr);
      return 2;
    }
  }
  if (argc - i != 2) {
    fputs(usage_text, stderr);
    return 2;
  }
  const char *host = argv[i];
  int port = atoi(argv[i + 1]);
  st.loop = wire_loop_default();
  wire_udp_opts_t o = WIRE_UDP_OPTS_INIT;
  if (strchr(host, ':') != NULL)
    o.type = WIRE_UDP6;
  int err = wire_udp_create(st.loop, &o, &st.u);
  if (err < 0) {
    fprintf(stderr, "wire udp: %s\n", wire_strerror(err));
    return 1;
  }
  wire_udp_on_message(st.u, on_message);
  wire_udp_on_listening(st.u, on_listening);
  wire_udp_on_error(st.u, on_error);
  if (st.listen) {
    err = wire_udp_bind(st.u, port, host, on_bound);
  } else {
    err = wire_udp_connect(st.u, port, host, on_connected);
    if (err == 0)
      read_stdin();
  }
  if (err < 0) {
    fprintf(stderr, "wire udp: %s %s: %s\n", host, argv[i + 1],
            wire_strerror(err));
    wire_udp_close(st.u, NULL);
    wire_loop_run(st.loop, WIRE_RUN_DEFAULT);
    wire_loop_close(st.loop);
    return 1;
  }
  wire_loop_run(st.loop, WIRE_RUN_DEFAULT);
  return wire_loop_close(st.loop) == 0 ? st.status : 1;
}
