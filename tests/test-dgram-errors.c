/* dgram: the bad paths. Each reports a clear code, never crashes, and
 * leaves the socket usable where Node does; every test ends with the leak
 * check. */
#include "test-dgram.h"

static int bind_local(wire_loop_t *loop, wire_udp_t *u)
{
  cnt_t *c = wire_udp_data(u);
  int before = c->listening;
  cr_assert_eq(wire_udp_bind(u, 0, "127.0.0.1", NULL), 0);
  H_RUN_UNTIL(loop, c->listening > before);
  wire_addr_t a;
  cr_assert_eq(wire_udp_address(u, &a), 0);
  return a.port;
}

/* A port nobody listens on: bound once, then closed. */
static int free_port(wire_loop_t *loop)
{
  cnt_t c = {0};
  wire_udp_t *u = udp_new(loop, NULL, &c);
  int port = bind_local(loop, u);
  wire_udp_close(u, NULL);
  H_RUN_UNTIL(loop, c.closes == 1);
  return port;
}

Test(dgram_errors, connected_send_to_closed_port_is_econnrefused)
{
  wire_loop_t *loop = h_loop_new();
  int port = free_port(loop);
  cnt_t sc = {0};
  wire_udp_t *s = udp_new(loop, NULL, &sc);
  cr_assert_eq(wire_udp_connect(s, port, "127.0.0.1", NULL), 0);
  cr_assert_eq(wire_udp_send(s, "ping", 0, 4, 0, NULL, on_sent, &sc), 0);
  H_RUN_UNTIL(loop, sc.sent == 1);
  cr_assert_eq(sc.send_status, 4, "the datagram itself went out");
  /* The ICMP port-unreachable comes back as ECONNREFUSED: on the receive
   * path (error event), or to the next send, whichever looks first. */
  cnt_t s2 = {0};
  while (sc.errors == 0 && s2.send_status != WIRE_ECONNREFUSED) {
    s2.sent = 0;
    cr_assert_eq(wire_udp_send(s, "ping", 0, 4, 0, NULL, on_sent, &s2), 0);
    H_RUN_UNTIL(loop, s2.sent == 1 || sc.errors > 0);
  }
  if (sc.errors > 0)
    cr_assert_eq(sc.last_error, WIRE_ECONNREFUSED, "got %s",
                 wire_err_name(sc.last_error));
  /* Still usable: once someone listens there, the next datagram arrives. */
  cnt_t rc = {0};
  wire_udp_t *r = udp_new(loop, NULL, &rc);
  cr_assert_eq(wire_udp_bind(r, port, "127.0.0.1", NULL), 0);
  H_RUN_UNTIL(loop, rc.listening == 1);
  cnt_t s3 = {0};
  cr_assert_eq(wire_udp_send(s, "pong", 0, 4, 0, NULL, on_sent, &s3), 0);
  H_RUN_UNTIL(loop, rc.messages == 1 && s3.sent == 1);
  cr_assert_eq(s3.send_status, 4);
  wire_udp_close(s, NULL);
  wire_udp_close(r, NULL);
  h_loop_done(loop);
}

Test(dgram_errors, bind_busy_port_is_eaddrinuse_and_rebind_works)
{
  wire_loop_t *loop = h_loop_new();
  cnt_t ac = {0}, bc = {0};
  wire_udp_t *a = udp_new(loop, NULL, &ac);
  wire_udp_t *b = udp_new(loop, NULL, &bc);
  int port = bind_local(loop, a);
  cr_assert_eq(wire_udp_bind(b, port, "127.0.0.1", on_bound), 0);
  cr_assert_eq(wire_udp_bind(b, port, "127.0.0.1", on_bound), WIRE_EALREADY);
  H_RUN_UNTIL(loop, bc.bind_cbs == 1);
  cr_assert_eq(bc.bind_status, WIRE_EADDRINUSE);
  cr_assert_eq(bc.errors, 1, "the error event fires too");
  cr_assert_eq(bc.last_error, WIRE_EADDRINUSE);
  cr_assert_eq(bc.listening, 0);
  /* Node lets a socket whose bind failed bind again. */
  cr_assert_eq(wire_udp_bind(b, 0, "127.0.0.1", on_bound), 0);
  H_RUN_UNTIL(loop, bc.bind_cbs == 2);
  cr_assert_eq(bc.bind_status, 0);
  cr_assert_eq(bc.listening, 1);
  wire_udp_close(a, NULL);
  wire_udp_close(b, NULL);
  h_loop_done(loop);
}

Test(dgram_errors, reuse_addr_shares_the_port)
{
  wire_loop_t *loop = h_loop_new();
  cnt_t ac = {0}, bc = {0};
  wire_udp_opts_t o = WIRE_UDP_OPTS_INIT;
  o.reuse_addr = 1;
  wire_udp_t *a = udp_new(loop, &o, &ac);
  wire_udp_t *b = udp_new(loop, &o, &bc);
  int port = bind_local(loop, a);
  cr_assert_eq(wire_udp_bind(b, port, "127.0.0.1", on_bound), 0);
  H_RUN_UNTIL(loop, bc.bind_cbs == 1);
  cr_assert_eq(bc.bind_status, 0);
  wire_udp_close(a, NULL);
  wire_udp_close(b, NULL);
  h_loop_done(loop);
}

Test(dgram_errors, oversized_datagram_is_emsgsize)
{
  wire_loop_t *loop = h_loop_new();
  cnt_t rc = {0}, sc = {0};
  wire_udp_t *r = udp_new(loop, NULL, &rc);
  wire_udp_t *s = udp_new(loop, NULL, &sc);
  int port = bind_local(loop, r);
  size_t n = 70000; /* above 65507, the IPv4 UDP payload limit */
  char *big = calloc(1, n);
  cr_assert_not_null(big);
  cr_assert_eq(wire_udp_send(s, big, 0, n, port, NULL, on_sent, &sc), 0);
  free(big);
  H_RUN_UNTIL(loop, sc.sent == 1);
  cr_assert_eq(sc.send_status, WIRE_EMSGSIZE, "got %s",
               wire_err_name(sc.send_status));
  /* Without a callback the error goes to the error event. */
  big = calloc(1, n);
  cr_assert_eq(wire_udp_send(s, big, 0, n, port, NULL, NULL, NULL), 0);
  free(big);
  H_RUN_UNTIL(loop, sc.errors == 1);
  cr_assert_eq(sc.last_error, WIRE_EMSGSIZE);
  /* The socket is still usable, and the largest datagram goes through. */
  big = calloc(1, 65507);
  cr_assert_eq(wire_udp_send(s, big, 0, 65507, port, NULL, on_sent, &sc), 0);
  free(big);
  H_RUN_UNTIL(loop, rc.messages == 1 && sc.sent == 2);
  cr_assert_eq(sc.send_status, 65507);
  wire_udp_close(r, NULL);
  wire_udp_close(s, NULL);
  h_loop_done(loop);
}

static void close_in_cb(wire_udp_t *u, int status, void *arg)
{
  on_sent(u, status, arg);
  wire_udp_close(u, NULL);
  /* After close: an error code, no crash, no callback. */
  cr_assert_eq(wire_udp_send(u, "late", 0, 4, 9, NULL, on_sent, arg),
               WIRE_ECLOSED);
  cr_assert_eq(wire_udp_connect(u, 9, NULL, NULL), WIRE_ECLOSED);
  cr_assert_eq(wire_udp_bind(u, 0, NULL, NULL), WIRE_ECLOSED);
}

Test(dgram_errors, send_after_close_is_an_error)
{
  wire_loop_t *loop = h_loop_new();
  cnt_t rc = {0}, sc = {0};
  wire_udp_t *r = udp_new(loop, NULL, &rc);
  wire_udp_t *s = udp_new(loop, NULL, &sc);
  int port = bind_local(loop, r);
  cr_assert_eq(wire_udp_send(s, "last", 0, 4, port, NULL, close_in_cb, &sc), 0);
  H_RUN_UNTIL(loop, sc.closes == 1);
  cr_assert_eq(sc.sent, 1);
  cr_assert_eq(sc.send_status, 4);
  wire_udp_close(r, NULL);
  h_loop_done(loop);
}

Test(dgram_errors, malformed_addresses_are_einval)
{
  wire_loop_t *loop = h_loop_new();
  cnt_t sc = {0};
  wire_udp_t *s = udp_new(loop, NULL, &sc);
  static const char *bad[] = {"999.1.1.1", "1.2.3.4.5", "a b",  "",   "host:80",
                              "[::1",      "-",         "x..y", "::1"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    cr_assert_eq(wire_udp_send(s, "x", 0, 1, 9, bad[i], on_sent, &sc),
                 WIRE_EINVAL, "send to '%s'", bad[i]);
    cr_assert_eq(wire_udp_connect(s, 9, bad[i], NULL), WIRE_EINVAL,
                 "connect to '%s'", bad[i]);
    cr_assert_eq(wire_udp_bind(s, 0, bad[i], NULL), WIRE_EINVAL, "bind to '%s'",
                 bad[i]);
  }
  cr_assert_eq(wire_udp_send(s, "x", 0, 1, 0, "127.0.0.1", NULL, NULL),
               WIRE_EINVAL, "port 0");
  cr_assert_eq(wire_udp_send(s, "x", 0, 1, 65536, "127.0.0.1", NULL, NULL),
               WIRE_EINVAL, "port 65536");
  cr_assert_eq(wire_udp_bind(s, -1, NULL, NULL), WIRE_EINVAL);
  wire_udp_opts_t o = WIRE_UDP_OPTS_INIT;
  o.type = 5;
  wire_udp_t *x;
  cr_assert_eq(wire_udp_create(loop, &o, &x), WIRE_EINVAL);
  h_run(loop);
  cr_assert_eq(sc.sent, 0, "no callback after a synchronous error");
  cr_assert_eq(sc.listening, 0, "nothing was bound");
  wire_udp_close(s, NULL);
  h_loop_done(loop);
}

Test(dgram_errors, unknown_name_goes_to_the_callback)
{
  wire_loop_t *loop = h_loop_new();
  cnt_t sc = {0};
  wire_udp_t *s = udp_new(loop, NULL, &sc);
  cr_assert_eq(
      wire_udp_send(s, "x", 0, 1, 9, "no-such-host.invalid", on_sent, &sc), 0);
  H_RUN_UNTIL(loop, sc.sent == 1);
  cr_assert_lt(sc.send_status, 0);
  cr_assert_neq(sc.send_status, WIRE_ECANCELED);
  wire_udp_close(s, NULL);
  h_loop_done(loop);
}
