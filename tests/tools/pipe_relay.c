/* pipe_relay SINK_PORT: the backpressure probe for wire_pipe.
 *
 * Connects to a sink on 127.0.0.1:SINK_PORT, then listens on 127.0.0.1
 * port 0 and prints "listening on tcp://127.0.0.1:PORT". The first
 * connection accepted is the source: wire_pipe(source, sink) moves its
 * bytes to the sink with backpressure, and the source's end ends the sink.
 * When both sockets have closed it prints
 *
 *   --asan              (only when built with AddressSanitizer)
 *   relayed BYTES       bytes written to the sink
 *   vmhwm_kb KB         peak resident set (VmHWM from /proc/self/status)
 *
 * and exits 0, or 1 after any error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wire.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RELAY_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define RELAY_ASAN 1
#endif

static wire_server_t *srv;
static wire_socket_t *sink;
static wire_socket_t *src;
static int sink_open;
static int src_open;
static int failed;
static uint64_t relayed;

static long vmhwm_kb(void)
{
  FILE *f = fopen("/proc/self/status", "r");
  if (f == NULL)
    return -1;
  char line[256];
  long kb = -1;
  while (fgets(line, sizeof(line), f) != NULL) {
    if (strncmp(line, "VmHWM:", 6) == 0) {
      kb = strtol(line + 6, NULL, 10);
      break;
    }
  }
  fclose(f);
  return kb;
}

static void maybe_done(void)
{
  if (sink_open || src_open)
    return;
  if (srv != NULL) {
    wire_server_close(srv, NULL);
    srv = NULL;
  }
#ifdef RELAY_ASAN
  printf("--asan\n");
#endif
  printf("relayed %llu\n", (unsigned long long)relayed);
  printf("vmhwm_kb %ld\n", vmhwm_kb());
  fflush(stdout);
}

static void on_error(wire_socket_t *s, int err, void *d)
{
  fprintf(stderr, "pipe_relay: %s: %s\n", (const char *)d, wire_strerror(err));
  (void)s;
  failed = 1;
}

static void on_sink_close(wire_socket_t *s, int had_error, void *d)
{
  (void)d;
  relayed = wire_socket_bytes_written(s);
  sink_open = 0;
  sink = NULL;
  if (had_error)
    failed = 1;
  /* The sink is gone: nothing more can be relayed. */
  if (src != NULL) {
    wire_socket_t *s2 = src;
    src = NULL;
    wire_socket_close(s2, NULL);
  }
  maybe_done();
}

static void on_src_close(wire_socket_t *s, int had_error, void *d)
{
  (void)s, (void)d;
  src_open = 0;
  src = NULL;
  if (had_error)
    failed = 1;
  maybe_done();
}

static void on_connection(wire_server_t *server, wire_socket_t *s, void *d)
{
  (void)d;
  /* One source: stop accepting. */
  wire_server_close(server, NULL);
  srv = NULL;
  src = s;
  src_open = 1;
  wire_socket_set_data(s, "source");
  wire_socket_on_error(s, on_error);
  wire_socket_on_close(s, on_src_close);
  int err = wire_pipe(s, sink);
  if (err < 0) {
    fprintf(stderr, "pipe_relay: wire_pipe: %s\n", wire_strerror(err));
    failed = 1;
    wire_socket_close(s, NULL);
    src = NULL;
  }
}

static void on_listening(wire_server_t *server, void *d)
{
  (void)d;
  wire_addr_t a;
  if (wire_server_address(server, &a) == 0) {
    printf("listening on tcp://%s:%d\n", a.address, a.port);
    fflush(stdout);
  }
}

static void on_server_error(wire_server_t *server, int err, void *d)
{
  (void)d;
  fprintf(stderr, "pipe_relay: listen: %s\n", wire_strerror(err));
  failed = 1;
  wire_server_close(server, NULL);
  srv = NULL;
  if (sink != NULL) {
    wire_socket_t *s = sink;
    sink = NULL;
    wire_socket_close(s, NULL);
  }
}

static void on_sink_connect(wire_socket_t *s, int status, void *arg)
{
  (void)s, (void)arg;
  if (status < 0)
    return; /* the error event reports it */
  int err = wire_server_create(wire_socket_loop(s), NULL, on_connection, &srv);
  if (err == 0) {
    wire_server_on_listening(srv, on_listening);
    wire_server_on_error(srv, on_server_error);
    err = wire_server_listen(srv, "127.0.0.1", 0, NULL);
  }
  if (err < 0) {
    fprintf(stderr, "pipe_relay: listen: %s\n", wire_strerror(err));
    failed = 1;
    if (srv != NULL)
      wire_server_close(srv, NULL);
    srv = NULL;
    sink = NULL;
    wire_socket_close(s, NULL);
  }
}

int main(int argc, char **argv)
{
  if (argc != 2) {
    fprintf(stderr, "usage: pipe_relay SINK_PORT\n");
    return 2;
  }
  wire_loop_t *loop = wire_loop_default();
  wire_connect_opts_t o = WIRE_CONNECT_OPTS_INIT;
  o.host = "127.0.0.1";
  o.port = atoi(argv[1]);
  int err = wire_socket_connect(loop, &o, on_sink_connect, NULL, &sink);
  if (err < 0) {
    fprintf(stderr, "pipe_relay: connect: %s\n", wire_strerror(err));
    return 1;
  }
  sink_open = 1;
  wire_socket_set_data(sink, "sink");
  wire_socket_on_error(sink, on_error);
  wire_socket_on_close(sink, on_sink_close);
  wire_loop_run(loop, WIRE_RUN_DEFAULT);
  if (wire_loop_close(loop) != 0) {
    fprintf(stderr, "pipe_relay: objects left alive\n");
    return 1;
  }
  return failed;
}
