/* wire's ws server and client against python3-websockets (Debian's
 * python3-websockets, run with /usr/bin/python3): text, binary,
 * fragments, ping, close codes both ways, subprotocol, and
 * permessage-deflate (which the python side offers and accepts). */
#include "test-ws-common.h"

Test(ws_python, python_client_against_wire_server)
{
  wire_ws_server_opts_t o = WIRE_WS_SERVER_OPTS_INIT;
  o.deflate.enabled = 1;
  wss_start(&o);
  char url[128];
  snprintf(url, sizeof(url), "ws://127.0.0.1:%d/echo", wss.port);
  char *argv[] = {"/usr/bin/python3", "ws-python.py", "client", url, NULL};
  peer_t p;
  peer_start(&p, wss.loop, argv);
  cr_assert_eq(peer_wait(&p, wss.loop), 0, "python client failed");
  H_RUN_UNTIL(wss.loop, wss.closes == 1);
  cr_assert_eq(wss.last_code, 4003);
  cr_assert_str_eq(wss.last_reason, "python bye");
  cr_assert_str_eq(wss.protocol, "chat");
  cr_assert(strstr(wss.extensions, "permessage-deflate") != NULL, "%s",
            wss.extensions);
  cr_assert_eq(wss.msgs, 3);
  wss_done();
}

static int opened, closed, msgs;
static unsigned code;
static h_sink_t last;

static void on_open(wire_ws_t *ws, void *d)
{
  (void)d;
  opened = 1;
  wire_ws_send_text(ws, "from wire", 9);
  char big[50000];
  for (size_t i = 0; i < sizeof(big); i++)
    big[i] = "wire "[i % 5];
  wire_ws_send_binary(ws, big, sizeof(big));
  wire_ws_send_text(ws, "close-me", 8);
}

static void on_message(wire_ws_t *ws, const char *buf, size_t len, int bin,
                       void *d)
{
  (void)ws, (void)bin, (void)d;
  msgs++;
  if (msgs == 1)
    cr_assert(len == 9 && memcmp(buf, "from wire", 9) == 0);
  if (msgs == 2)
    cr_assert(len == 50000 && bin);
}

static void on_close(wire_ws_t *ws, unsigned c, const char *reason,
                     size_t len, void *d)
{
  (void)ws, (void)reason, (void)len, (void)d;
  closed = 1;
  code = c;
}

Test(ws_python, wire_client_against_python_server)
{
  wire_loop_t *loop = h_loop_new();
  char *argv[] = {"/usr/bin/python3", "ws-python.py", "server", NULL};
  peer_t p;
  peer_start(&p, loop, argv);
  int port = peer_port(&p, loop);
  char url[128];
  snprintf(url, sizeof(url), "ws://127.0.0.1:%d/", port);
  wire_ws_t *ws;
  cr_assert_eq(wire_ws_connect(loop, url, NULL, &ws), 0);
  wire_ws_on_open(ws, on_open);
  wire_ws_on_message(ws, on_message);
  wire_ws_on_close(ws, on_close);
  H_RUN_UNTIL(loop, closed);
  cr_assert(opened);
  cr_assert_eq(msgs, 2);
  cr_assert_eq(code, 4004);
  peer_kill(&p, loop);
  h_sink_free(&last);
  h_loop_done(loop);
}
