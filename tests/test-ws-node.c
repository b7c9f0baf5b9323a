/* wire's ws server against the npm ws package as the client (the peer
 * script tests/peers/ws-node-client.js checks what it receives and exits
 * 0 when all held): text, binary, fragmented, UTF-8, 16 MiB, ping/pong,
 * close codes and reasons both ways, subprotocol, permessage-deflate,
 * maxPayload (1009, also for a decompression bomb), refused handshakes. */
#include "test-ws-common.h"

static void run_client(const char *mode, const char *path)
{
  char url[128];
  snprintf(url, sizeof(url), "ws://127.0.0.1:%d%s", wss.port, path);
  char *argv[] = {"node", "ws-node-client.js", (char *)mode, url, NULL};
  peer_t p;
  peer_start(&p, wss.loop, argv);
  cr_assert_eq(peer_wait(&p, wss.loop), 0, "node client (%s) failed", mode);
}

Test(ws_node, echo_text_binary_fragments_big_ping_close)
{
  wss_start(NULL);
  run_client("echo", "/echo");
  H_RUN_UNTIL(wss.loop, wss.closes == 1);
  cr_assert_eq(wss.conns, 1);
  cr_assert_eq(wss.msgs, 5);
  cr_assert_eq(wss.last_code, 4000);
  cr_assert_str_eq(wss.last_reason, "bye");
  cr_assert_str_eq(wss.protocol, "chat");
  cr_assert_str_eq(wss.extensions, "");
  cr_assert_eq(wss.errors, 0);
  wss_done();
}

Test(ws_node, permessage_deflate_and_server_close)
{
  wire_ws_server_opts_t o = WIRE_WS_SERVER_OPTS_INIT;
  o.deflate.enabled = 1;
  wss_start(&o);
  run_client("deflate", "/echo");
  H_RUN_UNTIL(wss.loop, wss.closes == 1);
  cr_assert(strstr(wss.extensions, "permessage-deflate") != NULL, "%s",
            wss.extensions);
  cr_assert_eq(wss.last_code, 4001);
  cr_assert_str_eq(wss.last_reason, "server bye");
  wss_done();
}

Test(ws_node, max_payload_closes_with_1009)
{
  wire_ws_server_opts_t o = WIRE_WS_SERVER_OPTS_INIT;
  o.max_payload = 1000;
  wss_start(&o);
  run_client("toobig", "/echo");
  H_RUN_UNTIL(wss.loop, wss.closes == 1);
  cr_assert_eq(wss.errors, 1);
  cr_assert_eq(wss.msgs, 0);
  wss_done();
}

Test(ws_node, inflate_is_bounded_by_max_payload)
{
  wire_ws_server_opts_t o = WIRE_WS_SERVER_OPTS_INIT;
  o.max_payload = 64 * 1024;
  o.deflate.enabled = 1;
  wss_start(&o);
  run_client("toobig-deflate", "/echo");
  H_RUN_UNTIL(wss.loop, wss.closes == 1);
  cr_assert_eq(wss.errors, 1);
  cr_assert_eq(wss.msgs, 0);
  wss_done();
}

Test(ws_node, other_path_is_refused)
{
  wss_start(NULL);
  char url[128];
  snprintf(url, sizeof(url), "ws://127.0.0.1:%d/nope", wss.port);
  char *argv[] = {"node", "ws-node-client.js", "status", url, NULL};
  peer_t p;
  peer_start(&p, wss.loop, argv);
  cr_assert_eq(peer_wait(&p, wss.loop), 0);
  cr_assert_eq(wss.conns, 0);
  wss_done();
}
