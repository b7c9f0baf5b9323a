/* A WebSocket client, the seed's browser snippet in C: connects to a URL
 * (default ws://127.0.0.1:12010/updates), sends an update every 50 ms
 * while bufferedAmount is 0, prints every message it gets, and after
 * COUNT messages (argv[2], default 10; 0: forever) closes with 1000.
 * Exits 0 after a clean close. */
#include <stdio.h>
#include <stdlib.h>
#include <wire.h>

static long want = 10, got;
static int clean;
static wire_timer_t *tick;

static void on_tick(wire_timer_t *t, void *data)
{
  (void)t;
  wire_ws_t *ws = data;
  char msg[64];
  if (wire_ws_buffered_amount(ws) == 0) {
    int n = snprintf(msg, sizeof(msg), "{\"client\":%ld}", got);
    wire_ws_send_text(ws, msg, (size_t)n);
  }
}

static void on_open(wire_ws_t *ws, void *data)
{
  (void)data;
  printf("open protocol=\"%s\" extensions=\"%s\"\n", wire_ws_protocol(ws),
         wire_ws_extensions(ws));
  wire_timer_create(wire_ws_loop(ws), &tick);
  wire_timer_set_data(tick, ws);
  wire_timer_start(tick, 50, 50, on_tick);
}

static void on_message(wire_ws_t *ws, const char *buf, size_t len, int bin,
                       void *data)
{
  (void)data;
  if (bin)
    printf("binary message, %zu bytes\n", len);
  else
    printf("%.*s\n", (int)len, buf);
  fflush(stdout);
  if (++got == want)
    wire_ws_close(ws, 1000, "done");
}

static void on_error(wire_ws_t *ws, int err, void *data)
{
  (void)data;
  const char *why = wire_ws_last_error(ws);
  fprintf(stderr, "error: %s%s%s\n", wire_strerror(err), why ? ": " : "",
          why ? why : "");
}

static void on_close(wire_ws_t *ws, unsigned code, const char *reason,
                     size_t len, void *data)
{
  (void)ws, (void)data;
  printf("close %u %.*s\n", code, (int)len, reason);
  clean = code == 1000;
  if (tick != NULL)
    wire_timer_close(tick, NULL);
}

int main(int argc, char **argv)
{
  const char *url = argc > 1 ? argv[1] : "ws://127.0.0.1:12010/updates";
  if (argc > 2)
    want = atol(argv[2]);
  wire_loop_t *loop = wire_loop_default();
  wire_ws_t *ws;
  int err = wire_ws_connect(loop, url, NULL, &ws);
  if (err < 0) {
    fprintf(stderr, "%s: %s\n", url, wire_strerror(err));
    return 1;
  }
  wire_ws_on_open(ws, on_open);
  wire_ws_on_message(ws, on_message);
  wire_ws_on_error(ws, on_error);
  wire_ws_on_close(ws, on_close);
  wire_loop_run(loop, WIRE_RUN_DEFAULT);
  wire_loop_close(loop);
  return clean ? 0 : 1;
}
