/* Shared pieces of the WebSocket suites (tests/test-ws-*.c).
 *
 * - wss_*: an HTTP server on 127.0.0.1 port 0 with a ws server attached
 *   on /echo that echoes every message (same type), closes with 4001
 *   when it gets the text "close-me", and counts what it saw.
 * - peer_*: runs a real peer (node, python3) as a child process, with its
 *   stdout in a file, and turns the loop until it exits (a 10 ms timer
 *   keeps the loop turning meanwhile). */
#ifndef WIRE_TEST_WS_COMMON_H
#define WIRE_TEST_WS_COMMON_H

#ifndef H_DEADLINE_MS
#define H_DEADLINE_MS 60000
#endif
#include "helpers.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

typedef struct {
  wire_loop_t *loop;
  wire_http_server_t *http;
  wire_ws_server_t *ws;
  int port;
  int conns, msgs, closes, errors, http_closed, ws_closed;
  unsigned last_code;
  char last_reason[128];
  char protocol[64];
  char extensions[256];
} wss_t;

static wss_t wss;

static inline void wss_on_message(wire_ws_t *ws, const char *buf, size_t len,
                                  int bin, void *d)
{
  (void)d;
  wss.msgs++;
  if (!bin && len == 8 && memcmp(buf, "close-me", 8) == 0) {
    cr_assert_eq(wire_ws_close(ws, 4001, "server bye"), 0);
    return;
  }
  int rc = wire_ws_send(ws, buf, len, bin ? WIRE_WS_SEND_BINARY : 0);
  cr_assert_geq(rc, 0, "send: %s", wire_err_name(rc));
}

static inline void wss_on_close(wire_ws_t *ws, unsigned code,
                                const char *reason, size_t len, void *d)
{
  (void)ws, (void)d;
  wss.closes++;
  wss.last_code = code;
  snprintf(wss.last_reason, sizeof(wss.last_reason), "%.*s", (int)len,
           reason);
}

static inline void wss_on_error(wire_ws_t *ws, int err, void *d)
{
  (void)ws, (void)err, (void)d;
  wss.errors++;
}

static inline void wss_on_connection(wire_ws_server_t *srv, wire_ws_t *ws,
                                     wire_http_req_t *req, void *d)
{
  (void)srv, (void)req, (void)d;
  wss.conns++;
  snprintf(wss.protocol, sizeof(wss.protocol), "%s", wire_ws_protocol(ws));
  snprintf(wss.extensions, sizeof(wss.extensions), "%s",
           wire_ws_extensions(ws));
  cr_assert_eq(wire_ws_ready_state(ws), WIRE_WS_OPEN);
  wire_ws_on_message(ws, wss_on_message);
  wire_ws_on_close(ws, wss_on_close);
  wire_ws_on_error(ws, wss_on_error);
}

static inline void wss_on_request(wire_http_server_t *srv,
                                  wire_http_req_t *req, wire_http_res_t *res,
                                  void *d)
{
  (void)srv, (void)req, (void)d;
  wire_http_res_end(res, "plain http\n", 11);
}

/* Starts the echo server on a fresh loop; o may be NULL. */
static inline wire_loop_t *wss_start(const wire_ws_server_opts_t *o)
{
  memset(&wss, 0, sizeof(wss));
  wss.loop = h_loop_new();
  cr_assert_eq(wire_http_server_create(wss.loop, NULL, wss_on_request,
                                       &wss.http),
               0);
  wire_ws_server_opts_t so = WIRE_WS_SERVER_OPTS_INIT;
  if (o != NULL)
    so = *o;
  if (so.path == NULL)
    so.path = "/echo";
  cr_assert_eq(wire_ws_server_create(wss.loop, &so, &wss.ws), 0);
  wire_ws_server_on_connection(wss.ws, wss_on_connection);
  cr_assert_eq(wire_ws_server_attach(wss.ws, wss.http), 0);
  cr_assert_eq(wire_http_server_listen(wss.http, "127.0.0.1", 0, NULL), 0);
  wire_addr_t a;
  cr_assert_eq(wire_http_server_address(wss.http, &a), 0);
  wss.port = a.port;
  return wss.loop;
}

static inline void wss_ws_closed(wire_ws_server_t *s, void *d)
{
  (void)s, (void)d;
  wss.ws_closed = 1;
}

static inline void wss_http_closed(wire_http_server_t *s, void *d)
{
  (void)s, (void)d;
  wss.http_closed = 1;
}

/* Closes both servers, then the leak check. */
static inline void wss_done(void)
{
  wire_ws_server_close(wss.ws, wss_ws_closed);
  H_RUN_UNTIL(wss.loop, wss.ws_closed);
  wire_http_server_close(wss.http, wss_http_closed);
  H_RUN_UNTIL(wss.loop, wss.http_closed);
  h_loop_done(wss.loop);
}

/* ---- peers ---------------------------------------------------------------- */

typedef struct {
  pid_t pid;
  int done;
  int status;
  char out[256]; /* stdout file */
  wire_timer_t *tick;
} peer_t;

static inline void peer_tick(wire_timer_t *t, void *d)
{
  (void)t, (void)d;
}

/* tests/peers, found from this header's own path. */
static inline void peer_dir(char *out, size_t cap)
{
  const char *src = getenv("WIRE_SRC");
  if (src != NULL) {
    snprintf(out, cap, "%s/tests/peers", src);
    return;
  }
  const char *f = __FILE__;
  const char *slash = strrchr(f, '/');
  int n = slash != NULL ? (int)(slash - f) : 1;
  snprintf(out, cap, "%.*s/peers", n, slash != NULL ? f : ".");
}

/* Starts argv[0] with its stdout in a temporary file, stderr inherited,
 * cwd tests/peers (so node finds node_modules/ws). */
static inline void peer_start(peer_t *p, wire_loop_t *loop, char *const *argv)
{
  memset(p, 0, sizeof(*p));
  snprintf(p->out, sizeof(p->out), "/tmp/wire-ws-peer-%d-%ld.out",
           (int)getpid(), (long)random());
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, p->out, O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  char dir[1024];
  peer_dir(dir, sizeof(dir));
  posix_spawn_file_actions_addchdir_np(&fa, dir);
  int err = posix_spawnp(&p->pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  cr_assert_eq(err, 0, "spawn %s: %s", argv[0], strerror(err));
  cr_assert_eq(wire_timer_create(loop, &p->tick), 0);
  /* Keeps RUN_ONCE from blocking forever while the child works. */
  wire_timer_start(p->tick, 10, 10, peer_tick);
}

static inline int peer_poll(peer_t *p)
{
  if (!p->done && waitpid(p->pid, &p->status, WNOHANG) == p->pid)
    p->done = 1;
  return p->done;
}

/* Reads the child's stdout so far into buf (NUL-terminated). */
static inline void peer_output(peer_t *p, char *buf, size_t cap)
{
  buf[0] = '\0';
  FILE *f = fopen(p->out, "r");
  if (f == NULL)
    return;
  size_t n = fread(buf, 1, cap - 1, f);
  buf[n] = '\0';
  fclose(f);
}

/* Waits for a line starting with "listening on" and returns its port. */
static inline int peer_port(peer_t *p, wire_loop_t *loop)
{
  char buf[4096];
  int port = 0;
  h_deadline_arm();
  for (;;) {
    peer_output(p, buf, sizeof(buf));
    char *l = strstr(buf, "listening on");
    if (l != NULL && strchr(l, '\n') != NULL) {
      char *c = strrchr(strtok(l, "\n"), ':');
      port = atoi(c + 1);
      break;
    }
    cr_assert(!peer_poll(p), "the peer exited before listening");
    wire_loop_run(loop, WIRE_RUN_ONCE);
  }
  wire_timer_stop(h_deadline_timer);
  return port;
}

/* Turns the loop until the child exited; returns its exit code. */
static inline int peer_wait(peer_t *p, wire_loop_t *loop)
{
  H_RUN_UNTIL(loop, peer_poll(p));
  wire_timer_close(p->tick, NULL);
  p->tick = NULL;
  char buf[8192];
  peer_output(p, buf, sizeof(buf));
  if (buf[0] != '\0')
    fprintf(stderr, "peer output:\n%s", buf);
  unlink(p->out);
  return WIFEXITED(p->status) ? WEXITSTATUS(p->status) : 128;
}

static inline void peer_kill(peer_t *p, wire_loop_t *loop)
{
  if (!p->done)
    kill(p->pid, SIGTERM);
  peer_wait(p, loop);
}

#endif
