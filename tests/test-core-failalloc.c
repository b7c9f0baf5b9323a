/* The WIRE_TEST_FAIL_ALLOC sweep. With the library built with
 * WIRE_TEST_HOOKS, WIRE_TEST_FAIL_ALLOC=N makes the Nth allocation (counted
 * from process start) fail. For N = 1..K the test re-executes this binary
 * with that variable and WIRE_FAILALLOC_CHILD set; a constructor then runs
 * the scenario below instead of Criterion (so the count starts in a clean
 * process) and exits. The scenario is a whole client/server exchange:
 * listen, connect, accept, a timeout, copy and zero-copy writes both ways,
 * end, close. Each child must exit cleanly: no crash, no sanitizer report,
 * every object closed (wire_loop_close == 0), whether it finished or met
 * WIRE_ENOMEM somewhere. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <wire.h>

enum {
  EXIT_COMPLETE = 0, /* the exchange finished, no ENOMEM seen */
  EXIT_ENOMEM = 42,  /* ENOMEM somewhere, everything closed cleanly */
  EXIT_BUSY = 43,    /* wire_loop_close != 0: something leaked */
  EXIT_STALL = 44,   /* the scenario's deadline fired */
  EXIT_WRONG = 45,   /* wrong bytes, or an unexpected error code */
};

/* A copied write of SMALL bytes, then a zero-copy write of BIG bytes that
 * the kernel cannot take at once (the server starts paused), so the async
 * write path runs too. */
#define SMALL (64 * 1024)
#define BIG (4 * 1024 * 1024)
#define ECHO_TOTAL (5 + SMALL + BIG)

typedef struct {
  wire_loop_t *loop;
  wire_server_t *srv;
  wire_socket_t *client;
  wire_socket_t *peer;
  wire_timer_t *resume;
  wire_timer_t *deadline;
  int enomem;
  int wrong;
  int stalled;
  int client_closed;
  int server_closed;
  size_t echoed;
  int zc_done;
  int client_ended;
  char *payload;
} sc_t;

static sc_t sc;

static void note_err(int err)
{
  if (err == WIRE_ENOMEM)
    sc.enomem = 1;
  else if (err < 0)
    sc.wrong = err;
}

static void srv_data(wire_socket_t *s, const char *buf, size_t len, void *d)
{
  (void)d;
  int r = wire_socket_write(s, buf, len);
  if (r < 0) {
    /* What an application does with a write it cannot queue. */
    note_err(r);
    wire_socket_close(s, NULL);
  }
}

static void sock_error(wire_socket_t *s, int err, void *d)
{
  (void)s;
  (void)d;
  /* The other side failing with ENOMEM shows up here as a reset. */
  if (err == WIRE_ECONNRESET || err == WIRE_EPIPE)
    sc.enomem = 1;
  else
    note_err(err);
}

static void peer_close(wire_socket_t *s, int had_error, void *d)
{
  (void)s;
  (void)had_error;
  (void)d;
  sc.peer = NULL;
}

static void on_resume(wire_timer_t *t, void *d)
{
  (void)d;
  if (sc.peer != NULL)
    wire_socket_resume(sc.peer);
  wire_timer_close(t, NULL);
  sc.resume = NULL;
}

static void srv_conn(wire_server_t *srv, wire_socket_t *s, void *d)
{
  (void)srv;
  (void)d;
  sc.peer = s;
  wire_socket_on_close(s, peer_close);
  wire_socket_on_data(s, srv_data);
  wire_socket_on_error(s, sock_error);
  int r = wire_socket_set_timeout(s, 60000);
  if (r < 0)
    note_err(r);
  /* Resume on a later turn, once the client's writes filled the kernel. */
  r = wire_timer_create(sc.loop, &sc.resume);
  if (r == 0)
    r = wire_timer_start(sc.resume, 10, 0, on_resume);
  if (r < 0) {
    note_err(r);
    wire_socket_resume(s);
  }
  static char hello[] = "hello";
  wire_buf_t b = wire_buf(hello, 5);
  r = wire_socket_writev(s, &b, 1, NULL, NULL);
  if (r < 0) {
    note_err(r);
    wire_socket_close(s, NULL);
  }
}

static void srv_error(wire_server_t *srv, int err, void *d)
{
  (void)srv;
  (void)d;
  note_err(err);
}

static void srv_closed(wire_server_t *srv, void *d)
{
  (void)srv;
  (void)d;
  sc.server_closed = 1;
}

static void client_data(wire_socket_t *s, const char *buf, size_t len,
                        void *d)
{
  (void)s;
  (void)d;
  /* "hello", then the payload echoed back. */
  for (size_t i = 0; i < len; i++) {
    size_t at = sc.echoed + i;
    size_t idx = at - 5;
    char want = at < 5       ? "hello"[at]
                : idx < SMALL ? sc.payload[idx]
                              : sc.payload[idx - SMALL];
    if (buf[i] != want)
      sc.wrong = 1;
  }
  sc.echoed += len;
  if (sc.echoed == ECHO_TOTAL && !sc.client_ended) {
    sc.client_ended = 1;
    wire_socket_end(s);
  }
}

static void client_close(wire_socket_t *s, int had_error, void *d)
{
  (void)s;
  (void)had_error;
  (void)d;
  sc.client_closed = 1;
  sc.client = NULL;
  if (sc.srv != NULL) {
    wire_server_close(sc.srv, srv_closed);
    sc.srv = NULL;
  }
}

static void zc_cb(wire_socket_t *s, int status, void *arg)
{
  (void)s;
  (void)arg;
  sc.zc_done = 1;
  if (status != 0 && status != WIRE_ECANCELED)
    note_err(status);
}

static void client_connected(wire_socket_t *s, int status, void *arg)
{
  (void)arg;
  /* ECANCELED: a write failed with ENOMEM and the socket was closed. */
  if (status < 0) {
    if (status != WIRE_ECANCELED)
      note_err(status);
    return;
  }
  int r = wire_socket_set_timeout(s, 60000);
  if (r < 0)
    note_err(r);
}

static void on_deadline(wire_timer_t *t, void *d)
{
  (void)t;
  (void)d;
  sc.stalled = 1;
  if (sc.client != NULL) {
    wire_socket_close(sc.client, NULL);
    sc.client = NULL;
  }
  if (sc.srv != NULL) {
    wire_server_close_connections(sc.srv);
    wire_server_close(sc.srv, srv_closed);
    sc.srv = NULL;
  }
}

static int scenario(void)
{
  sc.payload = malloc(BIG);
  for (size_t i = 0; i < BIG; i++)
    sc.payload[i] = (char)(i * 7 + 3);
  int err = wire_loop_create(&sc.loop);
  if (err < 0)
    return err == WIRE_ENOMEM ? EXIT_ENOMEM : EXIT_WRONG;

  err = wire_timer_create(sc.loop, &sc.deadline);
  if (err < 0)
    goto out;
  wire_timer_unref(sc.deadline);
  wire_timer_start(sc.deadline, 3000, 0, on_deadline);

  wire_server_opts_t so = WIRE_SERVER_OPTS_INIT;
  so.pause_on_connect = 1;
  err = wire_server_create(sc.loop, &so, srv_conn, &sc.srv);
  if (err < 0)
    goto out;
  wire_server_on_error(sc.srv, srv_error);
  err = wire_server_listen(sc.srv, "127.0.0.1", 0, NULL);
  wire_addr_t a;
  if (err == 0)
    err = wire_server_address(sc.srv, &a);
  if (err < 0) {
    wire_server_close(sc.srv, srv_closed);
    sc.srv = NULL;
    goto out;
  }
  wire_connect_opts_t o = WIRE_CONNECT_OPTS_INIT;
  o.host = "127.0.0.1";
  o.port = a.port;
  err = wire_socket_connect(sc.loop, &o, client_connected, NULL, &sc.client);
  if (err < 0) {
    sc.client = NULL;
    wire_server_close(sc.srv, srv_closed);
    sc.srv = NULL;
    goto out;
  }
  wire_socket_on_data(sc.client, client_data);
  wire_socket_on_error(sc.client, sock_error);
  wire_socket_on_close(sc.client, client_close);
  int r = wire_socket_write(sc.client, sc.payload, SMALL);
  if (r < 0) {
    note_err(r);
    wire_socket_close(sc.client, NULL);
  } else {
    wire_buf_t b = wire_buf(sc.payload, BIG);
    r = wire_socket_writev(sc.client, &b, 1, zc_cb, NULL);
    if (r < 0) {
      note_err(r);
      wire_socket_close(sc.client, NULL);
    }
  }
  err = 0;

out:
  if (err < 0)
    note_err(err);
  wire_loop_run(sc.loop, WIRE_RUN_DEFAULT);
  if (sc.deadline != NULL)
    wire_timer_close(sc.deadline, NULL);
  wire_loop_run(sc.loop, WIRE_RUN_DEFAULT);
  int busy = wire_loop_close(sc.loop);
  free(sc.payload);
  if (busy != 0) {
    fprintf(stderr, "wire_loop_close: %s (%d)\n", wire_err_name(busy), busy);
    return EXIT_BUSY;
  }
  if (sc.stalled)
    return EXIT_STALL;
  if (sc.wrong != 0) {
    fprintf(stderr, "unexpected: %d %s\n", sc.wrong,
            sc.wrong < 0 ? wire_err_name(sc.wrong) : "bytes");
    return EXIT_WRONG;
  }
  if (sc.enomem)
    return EXIT_ENOMEM;
  if (sc.echoed != ECHO_TOTAL || !sc.client_closed ||
      !sc.server_closed) {
    fprintf(stderr, "incomplete: echoed %zu closed %d/%d\n", sc.echoed,
            sc.client_closed, sc.server_closed);
    return EXIT_WRONG;
  }
  return EXIT_COMPLETE;
}

__attribute__((constructor)) static void failalloc_child(void)
{
  if (getenv("WIRE_FAILALLOC_CHILD") == NULL)
    return;
  int rc = scenario();
  fflush(stdout);
  fflush(stderr);
  exit(rc);
}

/* ---- the parent ----------------------------------------------------------- */

typedef struct {
  int exited;
  int code;
  int sig;
  char log[4096];
} child_t;

static void run_child(long n, child_t *out)
{
  memset(out, 0, sizeof(*out));
  char path[] = "/tmp/wire-failalloc-XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    dup2(fd, 2);
    dup2(fd, 1);
    char num[32];
    snprintf(num, sizeof(num), "%ld", n);
    setenv("WIRE_TEST_FAIL_ALLOC", num, 1);
    setenv("WIRE_FAILALLOC_CHILD", "1", 1);
    char *argv[] = {"failalloc-child", NULL};
    execv("/proc/self/exe", argv);
    _exit(127);
  }
  /* Bounded wait: the scenario has its own 3 s deadline. */
  int status = 0;
  int waited = 0;
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    cr_assert_geq(r, 0);
    if (r == pid)
      break;
    if (waited > 30000) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      cr_assert_fail("N=%ld: the child hung", n);
    }
    struct timespec ts = {0, 2 * 1000 * 1000};
    nanosleep(&ts, NULL);
    waited += 2;
  }
  lseek(fd, 0, SEEK_SET);
  ssize_t got = read(fd, out->log, sizeof(out->log) - 1);
  out->log[got > 0 ? got : 0] = '\0';
  close(fd);
  unlink(path);
  out->exited = WIFEXITED(status);
  out->code = out->exited ? WEXITSTATUS(status) : -1;
  out->sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

#ifndef FAILALLOC_K
#define FAILALLOC_K 150
#endif

Test(core_failalloc, sweep, .timeout = 280)
{
  child_t c;
  run_child(0, &c);
  cr_assert(c.exited && c.code == EXIT_COMPLETE,
            "baseline (no failure): exit %d signal %d\n%s", c.code, c.sig,
            c.log);
  int enomem_runs = 0;
  int complete_tail = 0;
  for (long n = 1; n <= FAILALLOC_K; n++) {
    run_child(n, &c);
    cr_assert_eq(c.sig, 0, "N=%ld: killed by signal %d\n%s", n, c.sig, c.log);
    cr_assert(c.exited, "N=%ld: did not exit", n);
    cr_assert_null(strstr(c.log, "Sanitizer"), "N=%ld:\n%s", n, c.log);
    cr_assert_null(strstr(c.log, "runtime error"), "N=%ld:\n%s", n, c.log);
    cr_assert(c.code == EXIT_COMPLETE || c.code == EXIT_ENOMEM,
              "N=%ld: exit %d (42 ok, 43 leak, 44 stall, 45 wrong)\n%s", n,
              c.code, c.log);
    if (c.code == EXIT_ENOMEM) {
      enomem_runs++;
      complete_tail = 0;
    } else {
      complete_tail++;
    }
  }
  /* K reaches past the scenario's last allocation: the last runs no longer
   * hit a failure. */
  cr_assert_gt(enomem_runs, 10);
  cr_assert_geq(complete_tail, 5, "K=%d does not cover the scenario",
                FAILALLOC_K);
}
