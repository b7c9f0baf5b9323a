/* wire tcp: a netcat on the stream contract.
 *
 *   wire tcp HOST PORT          connect, then copy stdin -> socket and
 *                               socket -> stdout
 *   wire tcp -l HOST PORT       listen (PORT 0 picks one), print
 *                               "listening on tcp://HOST:PORT", serve one
 *                               connection the same way, then exit
 *   wire tcp [-l] -U PATH       the same over a Unix-domain socket
 *
 * One connection per process, so the state is one static struct. The
 * socket is half-open (allowHalfOpen): each direction ends on its own.
 * stdin's EOF sends FIN; the peer's FIN ends what goes to stdout (after it
 * is flushed); the process exits once the socket has closed, which is when
 * both directions are done. When stdin is a terminal there is nobody to
 * type an EOF on purpose, so the peer's FIN ends our side too.
 *
 * stdin is wrapped with wire_socket_open when it is a pipe, a terminal or
 * a socket, and piped into the connection with wire_pipe (backpressure:
 * stdin pauses while the socket's queue is over its high-water mark). A
 * regular file (or a device such as /dev/null) is not pollable: it is read
 * with read() in 64 KiB chunks, the next chunk waiting for the socket's
 * drain.
 *
 * stdout is written synchronously with write(), as Node writes stdout to
 * pipes and files on Linux: a slow reader of our stdout slows the whole
 * process, which is the backpressure a netcat wants. (It is not wrapped
 * with wire_socket_open: wire starts reading every fd it opens, and on a
 * write-only pipe that fails and closes the socket at once.) */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define FILE_CHUNK (64 * 1024)
#define FILE_CHUNKS_PER_TURN 16 /* then yield to the loop */

static const char usage_text[] =
    "usage: wire tcp [-l] HOST PORT\n"
    "       wire tcp [-l] -U PATH\n"
    "\n"
    "Connects to HOST PORT (or, with -l, listens there and serves one\n"
    "connection; PORT 0 picks a free port and the first line on stdout is\n"
    "'listening on tcp://HOST:PORT'). Copies stdin to the socket and the\n"
    "socket to stdout. stdin's end sends FIN (half-close) and the peer's\n"
    "FIN ends stdout; wire tcp exits when both directions are done (with a\n"
    "terminal on stdin, as soon as the peer ends). stdin may be a pipe, a\n"
    "terminal, a socket, or a regular file or device, which is read in\n"
    "64 KiB chunks as the socket drains.\n"
    "\n"
    "  -l       listen instead of connecting\n"
    "  -U PATH  a Unix-domain socket at PATH instead of HOST PORT\n"
    "\n"
    "Exit status: 0 when the connection closed cleanly, 1 on an error.\n";

static struct {
  wire_loop_t *loop;
  wire_server_t *srv;
  wire_socket_t *sock; /* the connection; NULL once closed */
  wire_socket_t *in;   /* stdin as a stream; NULL if a file or closed */
  wire_timer_t *feed;  /* continues reading a file stdin on a later turn */
  int in_file;         /* stdin is read with read() */
  int in_tty;
  int sock_closing; /* wire_socket_close called on sock */
  int in_done;      /* stdin reached EOF (or was given up) */
  int in_closing;   /* wire_socket_close called on in */
  int out_failed;   /* a write to stdout failed (reported once) */
  int status;       /* the exit code */
} st;

static void fail(const char *what, int err)
{
  fprintf(stderr, "wire tcp: %s: %s\n", what, wire_strerror(err));
  st.status = 1;
}

/* Destroys the connection (once; its close event follows). */
static void close_sock(void)
{
  if (st.sock != NULL && !st.sock_closing) {
    st.sock_closing = 1;
    wire_socket_close(st.sock, NULL);
  }
}

/* ---- stdin ------------------------------------------------------------- */

static void close_in(void)
{
  st.in_done = 1;
  if (st.in != NULL && !st.in_closing) {
    st.in_closing = 1;
    wire_socket_close(st.in, NULL);
  }
  if (st.feed != NULL) {
    wire_timer_close(st.feed, NULL);
    st.feed = NULL;
  }
}

static void on_in_end(wire_socket_t *s, void *d)
{
  (void)s, (void)d;
  /* wire_pipe has already ended the connection (our FIN). */
  close_in();
}

static void on_in_error(wire_socket_t *s, int err, void *d)
{
  (void)s, (void)d;
  fail("stdin", err);
  close_sock();
}

static void on_in_close(wire_socket_t *s, int had_error, void *d)
{
  (void)s, (void)had_error, (void)d;
  st.in = NULL;
  st.in_done = 1;
}

/* Reads a file stdin into the socket until the socket pushes back (the
 * drain event calls this again), the file ends (FIN), or a turn's worth
 * of chunks went out (the feed timer calls this again). */
static void on_feed(wire_timer_t *t, void *d);

static void feed_file(void)
{
  static char buf[FILE_CHUNK];
  for (int i = 0; i < FILE_CHUNKS_PER_TURN; i++) {
    if (st.sock == NULL || st.in_done)
      return;
    ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      fail("stdin", -errno);
      close_in();
      close_sock();
      return;
    }
    if (n == 0) {
      close_in();
      wire_socket_end(st.sock);
      return;
    }
    int r = wire_socket_write(st.sock, buf, (size_t)n);
    if (r < 0) {
      fail("write", r);
      close_in();
      close_sock();
      return;
    }
    if (r == 0)
      return; /* on_sock_drain calls again */
  }
  /* The socket is still taking bytes: go on after other events ran. */
  wire_timer_start(st.feed, 0, 0, on_feed);
}

static void on_feed(wire_timer_t *t, void *d)
{
  (void)t, (void)d;
  feed_file();
}

static int start_stdin(void)
{
  st.in_tty = isatty(STDIN_FILENO);
  int err = wire_socket_open(st.loop, STDIN_FILENO, &st.in);
  if (err == WIRE_EINVAL) {
    st.in = NULL;
    st.in_file = 1;
    err = wire_timer_create(st.loop, &st.feed);
    if (err < 0)
      return err;
    wire_timer_start(st.feed, 0, 0, on_feed);
    return 0;
  }
  if (err < 0)
    return err;
  /* Half-open: stdin is read-only, so its EOF must not try to end it. */
  wire_socket_set_allow_half_open(st.in, 1);
  wire_socket_on_end(st.in, on_in_end);
  wire_socket_on_error(st.in, on_in_error);
  wire_socket_on_close(st.in, on_in_close);
  return wire_pipe(st.in, st.sock);
}

/* ---- stdout ------------------------------------------------------------ */


/* ---- the connection ---------------------------------------------------- */

static void on_sock_data(wire_socket_t *s, const char *buf, size_t len, void *d)
{
  (void)s, (void)d;
  if (st.out_failed)
    return; /* reported once; the connection is closing */
  int r = cli_write_all(STDOUT_FILENO, buf, len);
  if (r < 0) {
    st.out_failed = 1;
    fail("stdout", r);
    close_sock();
  }
}

static void on_sock_end(wire_socket_t *s, void *d)
{
  (void)d;
  if (st.in_tty) {
    close_in();
    wire_socket_end(s);
  }
}

static void on_sock_drain(wire_socket_t *s, void *d)
{
  (void)s, (void)d;
  if (st.in_file)
    feed_file();
}

static void on_sock_error(wire_socket_t *s, int err, void *d)
{
  (void)s, (void)d;
  fail(st.sock != NULL ? "connection" : "connect", err);
}

static void on_sock_close(wire_socket_t *s, int had_error, void *d)
{
  (void)s, (void)d;
  if (had_error)
    st.status = 1;
  st.sock = NULL;
  close_in();
}

static void start_io(wire_socket_t *s)
{
  st.sock = s;
  wire_socket_set_allow_half_open(s, 1);
  wire_socket_on_data(s, on_sock_data);
  wire_socket_on_end(s, on_sock_end);
  wire_socket_on_drain(s, on_sock_drain);
  wire_socket_on_error(s, on_sock_error);
  wire_socket_on_close(s, on_sock_close);
  int err = start_stdin();
  if (err < 0) {
    fail("stdin", err);
    close_in();
    close_sock();
  }
}

static void on_connect(wire_socket_t *s, int status, void *arg)
{
  (void)arg;
  if (status == 0)
    start_io(s);
  /* On failure the error event reports it and the socket closes. */
}

/* ---- listen mode ------------------------------------------------------- */

static void on_listening(wire_server_t *srv, void *d)
{
  (void)d;
  cli_print_listening("tcp", srv);
}

static void on_server_error(wire_server_t *srv, int err, void *d)
{
  (void)d;
  fail("listen", err);
  wire_server_close(srv, NULL);
}

static void on_connection(wire_server_t *srv, wire_socket_t *s, void *d)
{
  (void)d;
  /* One connection: stop accepting (the server closes for good once this
   * connection is gone). */
  wire_server_close(srv, NULL);
  start_io(s);
}

/* ---- arguments --------------------------------------------------------- */

static int parse_port(const char *arg, int listen, int *port)
{
  char *end;
  errno = 0;
  long v = strtol(arg, &end, 10);
  if (errno != 0 || end == arg || *end != '\0' || v < (listen ? 0 : 1) ||
      v > 65535)
    return -1;
  *port = (int)v;
  return 0;
}

int cmd_tcp(int argc, char **argv)
{
  int listen = 0;
  const char *path = NULL;
  const char *pos[2];
  int npos = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      fputs(usage_text, stdout);
      return 0;
    }
    if (strcmp(argv[i], "-l") == 0) {
      listen = 1;
    } else if (strcmp(argv[i], "-U") == 0 && i + 1 < argc) {
      path = argv[++i];
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      fprintf(stderr, "wire tcp: unknown option '%s'\n", argv[i]);
      fputs(usage_text, stderr);
      return 2;
    } else if (npos < 2) {
      pos[npos++] = argv[i];
    } else {
      fputs(usage_text, stderr);
      return 2;
    }
  }
  int port = 0;
  if ((path != NULL && npos != 0) || (path == NULL && npos != 2)) {
    fputs(usage_text, stderr);
    return 2;
  }
  if (path == NULL && parse_port(pos[1], listen, &port) < 0) {
    fprintf(stderr, "wire tcp: bad port '%s'\n", pos[1]);
    return 2;
  }

  /* A reader that went away is an EPIPE write error, not a signal. */
  signal(SIGPIPE, SIG_IGN);
  st.loop = wire_loop_default();
  if (st.loop == NULL) {
    fail("loop", WIRE_ENOMEM);
    return 1;
  }
  int err;
  if (listen) {
    wire_server_opts_t o = WIRE_SERVER_OPTS_INIT;
    o.allow_half_open = 1;
    err = wire_server_create(st.loop, &o, on_connection, &st.srv);
    if (err == 0) {
      wire_server_on_listening(st.srv, on_listening);
      wire_server_on_error(st.srv, on_server_error);
      err = path != NULL ? wire_server_listen_path(st.srv, path, NULL)
                         : wire_server_listen(st.srv, pos[0], port, NULL);
      if (err < 0)
        wire_server_close(st.srv, NULL);
    }
  } else {
    wire_connect_opts_t o = WIRE_CONNECT_OPTS_INIT;
    o.host = path == NULL ? pos[0] : NULL;
    o.port = port;
    o.path = path;
    o.allow_half_open = 1;
    wire_socket_t *s;
    err = wire_socket_connect(st.loop, &o, on_connect, NULL, &s);
    if (err == 0)
      wire_socket_on_error(s, on_sock_error);
  }
  if (err < 0)
    fail(listen ? "listen" : "connect", err);
  wire_loop_run(st.loop, WIRE_RUN_DEFAULT);
  err = wire_loop_close(st.loop);
  if (err < 0) {
    fail("loop close", err);
    return 1;
  }
  return st.status;
}
