/* dgram: the working paths. Each test runs a fresh loop (helpers.h: with a
 * deadline) on 127.0.0.1 port 0, counts what the callbacks saw, closes
 * everything and ends with the leak check (h_loop_done: wire_loop_close ==
 * 0). */
#include "wire/dgram.h" /* first: the header compiles on its own */

#include "test-dgram.h"

static void on_message_close_all(wire_udp_t *u, const char *buf, size_t len,
                                 const wire_udp_rinfo_t *rinfo, void *d)
{
  cnt_t *c = d;
  on_message_keep(u, buf, len, rinfo, d);
  wire_udp_close(u, NULL);
  if (c->peer != NULL)
    wire_udp_close(c->peer, NULL);
}

/* Binds u to host port 0, runs until listening, returns the port. */
static int bind_local(wire_loop_t *loop, wire_udp_t *u, const char *host)
{
  cnt_t *c = wire_udp_data(u);
  int before = c->listening;
  cr_assert_eq(wire_udp_bind(u, 0, host, on_bound), 0);
  H_RUN_UNTIL(loop, c->listening > before);
  wire_addr_t a;
  cr_assert_eq(wire_udp_address(u, &a), 0);
  cr_assert_gt(a.port, 0);
  return a.port;
}

Test(dgram, bind_send_message_close)
{
  wire_loop_t *loop = h_loop_new();
  cnt_t rc = {0}, sc = {0};
  wire_udp_t *r = udp_new(loop, NULL, &rc);
  wire_udp_t *s = udp_new(loop, NULL, &sc);
  wire_udp_on_message(r, on_message_close_all);
  rc.peer = s;
  int port = bind_local(loop, r, "127.0.0.1");
  cr_assert_eq(rc.bind_cbs, 1);
  cr_assert_eq(rc.bind_status, 0);
  cr_assert_eq(
      wire_udp_send(s, "xxhello", 2, 5, port, "127.0.0.1", on_sent, &sc), 0);
  cr_assert_eq(sc.sent, 0, "the send callback never runs inside the call");
  h_run(loop);
  cr_assert_eq(rc.messages, 1);
  cr_assert_eq(rc.got_len, 5);
  cr_assert_eq(memcmp(rc.got, "hello", 5), 0);
  cr_assert_str_eq(rc.rinfo.address, "127.0.0.1");
  cr_assert_eq(rc.rinfo.family, 4);
  cr_assert_eq(rc.rinfo.size, 5);
  cr_assert_eq(rc.rinfo.truncated, 0);
  cr_assert_gt(rc.rinfo.port, 0);
  cr_assert_eq(sc.sent, 1);
  cr_assert_eq(sc.send_status, 5, "the callback gets the byte count");
  cr_assert_eq(sc.listening, 1, "an implicit bind emits listening");
  cr_assert_eq(rc.listening, 1);
  cr_assert_eq(rc.closes, 1);
  cr_assert_eq(sc.closes, 1);
  cr_assert_eq(rc.errors + sc.errors, 0);
  h_loop_done(loop);
}

Test(dgram, localhost_name_resolves)
{
  wire_loop_t *loop = h_loop_new();
  cnt_t rc = {0}, sc = {0};
  wire_udp_t *r = udp_new(loop, NULL, &rc);
  wire_udp_t *s = udp_new(loop, NULL, &sc);
  wire_udp_on_message(r, on_message_close_all);
  rc.peer = s;
  int port = bind_local(loop, r, "localhost");
  cr_assert_eq(
      wire_udp_send(s, "hello world", 0, 11, port, "localhost", on_sent, &sc),
      0);
  h_run(loop);
  cr_assert_eq(rc.messages, 1);
  cr_assert_eq(rc.got_len, 11);
  cr_assert_eq(sc.send_status, 11);
  h_loop_done(loop);
}

Test(dgram, sendv_is_one_datagram)
{
  wire_loop_t *loop = h_loop_new();
  cnt_t rc = {0}, sc = {0};
  wire_udp_t *r = udp_new(loop, NULL, &rc);
  wire_udp_t *s = udp_new(loop, NULL, &sc);
  wire_udp_on_message(r, on_message_close_all);
  rc.peer = s;
  int port = bind_local(loop, r, "127.0.0.1");
  char part[3][8] = {"one ", "two ", "three"};
  wire_buf_t bufs[3] = {wire_buf(part[0], 4), wire_buf(part[1], 4),
                        wire_buf(part[2], 5)};
  cr_assert_eq(wire_udp_sendv(s, bufs, 3, port, NULL, on_sent, &sc), 0);
  memset(part, 'X', sizeof(part)); /* the bytes were copied */
  h_run(loop);
  cr_assert_eq(rc.messages, 1);
  cr_assert_eq(rc.got_len, 13);
  cr_assert_eq(memcmp(rc.got, "one two three", 13), 0);
  cr_assert_eq(sc.send_status, 13);
  h_loop_done(loop);
}

Test(dgram, ipv6_loopback)
{
  wire_loop_t *loop = h_loop_new();
  cnt_t rc = {0}, sc = {0};
  wire_udp_opts_t o = WIRE_UDP_OPTS_INIT;
  o.type = WIRE_UDP6;
  wire_udp_t *r = udp_new(loop, &o, &rc);
  wire_udp_t *s = udp_new(loop, &o, &sc);
  wire_udp_on_message(r, on_message_close_all);
  rc.peer = s;
  int port = bind_local(loop, r, "::1");
  cr_assert_eq(wire_udp_send(s, "six", 0, 3, port, "::1", on_sent, &sc), 0);
  h_run(loop);
  cr_assert_eq(rc.messages, 1);
  cr_assert_str_eq(rc.rinfo.address, "::1");
  cr_assert_eq(rc.rinfo.family, 6);
  h_loop_done(loop);
}

static void on_connected(wire_udp_t *u, int status, void *d)
{
  cnt_t *c = d;
  cr_assert_eq(status, 0);
  wire_addr_t a;
  cr_assert_eq(wire_udp_remote_address(u, &a), 0);
  cr_assert_str_eq(a.address, "127.0.0.1");
  c->bind_cbs += 100; /* marks the connect callback */
}

Test(dgram, connect_send_without_address_disconnect)
{
  wire_loop_t *loop = h_loop_new();
  cnt_t rc = {0}, sc = {0};
  wire_udp_t *r = udp_new(loop, NULL, &rc);
  wire_udp_t *s = udp_new(loop, NULL, &sc);
  int port = bind_local(loop, r, "127.0.0.1");
  wire_addr_t a;
  cr_assert_eq(wire_udp_remote_address(s, &a), WIRE_ENOTCONN);
  cr_assert_eq(wire_udp_connect(s, port, "localhost", on_connected), 0);
  cr_assert_eq(wire_udp_connect(s, port, "127.0.0.1", NULL), WIRE_EISCONN);
  /* Made while connecting: waits for the connection. */
  cr_assert_eq(wire_udp_send(s, "c1", 0, 2, 0, NULL, on_sent, &sc), 0);
  cr_assert_eq(wire_udp_send(s, "c1", 0, 2, port, "127.0.0.1", NULL, NULL),
               WIRE_EISCONN);
  H_RUN_UNTIL(loop, rc.messages == 1 && sc.sent == 1);
  cr_assert_eq(sc.connects, 1);
  cr_assert_eq(sc.bind_cbs, 100);
  cr_assert_eq(sc.listening, 1);
  cr_assert_eq(memcmp(rc.got, "c1", 2), 0);
  cr_assert_eq(sc.send_status, 2);
  cr_assert_eq(wire_udp_disconnect(s), 0);
  cr_assert_eq(wire_udp_disconnect(s), WIRE_ENOTCONN);
  cr_assert_eq(wire_udp_remote_address(s, &a), WIRE_ENOTCONN);
  cr_assert_eq(wire_udp_send(s, "c2", 0, 2, 0, NULL, NULL, NULL),
               WIRE_ENOTCONN);
  cr_assert_eq(wire_udp_send(s, "c2", 0, 2, port, NULL, NULL, NULL), 0);
  H_RUN_UNTIL(loop, rc.messages == 2);
  cr_assert_eq(memcmp(rc.got, "c2", 2), 0);
  wire_udp_close(r, NULL);
  wire_udp_close(s, NULL);
  h_loop_done(loop);
  cr_assert_eq(rc.errors + sc.errors, 0);
}

Test(dgram, send_queue_counts_until_the_turn_ends)
{
  wire_loop_t *loop = h_loop_new();
  cnt_t rc = {0}, sc = {0};
  wire_udp_t *r = udp_new(loop, NULL, &rc);
  wire_udp_t *s = udp_new(loop, NULL, &sc);
  int port = bind_local(loop, r, "127.0.0.1");
  cr_assert_eq(wire_udp_send_queue_count(s), 0);
  for (int i = 0; i < 3; i++)
    cr_assert_eq(wire_udp_send(s, "abcd", 0, 4, port, NULL, on_sent, &sc), 0);
  cr_assert_eq(wire_udp_send_queue_count(s), 3);
  cr_assert_eq(wire_udp_send_queue_size(s), 12);
  H_RUN_UNTIL(loop, rc.messages == 3 && sc.sent == 3);
  cr_assert_eq(wire_udp_send_queue_count(s), 0);
  cr_assert_eq(wire_udp_send_queue_size(s), 0);
  wire_udp_close(r, NULL);
  wire_udp_close(s, NULL);
  h_loop_done(loop);
}

Test(dgram, close_cancels_queued_sends_in_order_then_close)
{
  wire_loop_t *loop = h_loop_new();
  cnt_t sc = {0};
  wire_udp_t *s = udp_new(loop, NULL, &sc);
  cnt_t a = {0}, b = {0};
  cr_assert_eq(wire_udp_send(s, "x", 0, 1, 9, "127.0.0.1", on_sent, &a), 0);
  cr_assert_eq(wire_udp_send(s, "y", 0, 1, 9, "localhost", on_sent, &b), 0);
  wire_udp_close(s, NULL);
  cr_assert_eq(a.sent + b.sent + sc.closes, 0, "nothing inside close");
  cr_assert_eq(wire_udp_send(s, "z", 0, 1, 9, NULL, on_sent, &a), WIRE_ECLOSED);
  h_run(loop);
  cr_assert_eq(a.sent, 1);
  cr_assert_eq(a.send_status, WIRE_ECANCELED);
  cr_assert_eq(b.sent, 1);
  cr_assert_eq(b.send_status, WIRE_ECANCELED);
  cr_assert_eq(sc.closes, 1);
  cr_assert_eq(sc.listening, 0, "closed before the implicit bind reported");
  cr_assert_eq(sc.errors, 0);
  h_loop_done(loop);
}

static void on_message_count_close(wire_udp_t *u, const char *buf, size_t len,
                                   const wire_udp_rinfo_t *rinfo, void *d)
{
  (void)buf, (void)len, (void)rinfo;
  cnt_t *c = d;
  c->messages++;
  wire_udp_close(u, NULL);
}

Test(dgram, no_message_after_close_even_in_a_batch)
{
  wire_loop_t *loop = h_loop_new();
  cnt_t rc = {0}, sc = {0};
  wire_udp_t *r = udp_new(loop, NULL, &rc);
  wire_udp_t *s = udp_new(loop, NULL, &sc);
  wire_udp_on_message(r, on_message_count_close);
  int port = bind_local(loop, r, "127.0.0.1");
  for (int i = 0; i < 10; i++)
    cr_assert_eq(wire_udp_send(s, "m", 0, 1, port, NULL, NULL, NULL), 0);
  H_RUN_UNTIL(loop, rc.closes == 1);
  cr_assert_eq(rc.messages, 1);
  wire_udp_close(s, NULL);
  h_loop_done(loop);
}

Test(dgram, truncated_flag_with_small_max_message_size)
{
  wire_loop_t *loop = h_loop_new();
  cnt_t rc = {0}, sc = {0};
  wire_udp_opts_t o = WIRE_UDP_OPTS_INIT;
  o.max_message_size = 16;
  wire_udp_t *r = udp_new(loop, &o, &rc);
  wire_udp_t *s = udp_new(loop, NULL, &sc);
  wire_udp_on_message(r, on_message_close_all);
  rc.peer = s;
  int port = bind_local(loop, r, "127.0.0.1");
  char big[100];
  memset(big, 'b', sizeof(big));
  cr_assert_eq(wire_udp_send(s, big, 0, sizeof(big), port, NULL, NULL, NULL),
               0);
  h_run(loop);
  cr_assert_eq(rc.messages, 1);
  cr_assert_eq(rc.got_len, 16);
  cr_assert_eq(rc.rinfo.truncated, 1);
  cr_assert_eq(rc.errors, 0);
  h_loop_done(loop);
}

Test(dgram, unref_lets_the_loop_end)
{
  wire_loop_t *loop = h_loop_new();
  cnt_t rc = {0};
  wire_udp_t *r = udp_new(loop, NULL, &rc);
  bind_local(loop, r, "127.0.0.1");
  wire_udp_unref(r);
  h_run(loop); /* returns: nothing else keeps the loop alive */
  wire_udp_ref(r);
  cr_assert_eq(wire_loop_run(loop, WIRE_RUN_NOWAIT), 1, "ref'd again");
  wire_udp_close(r, NULL);
  h_loop_done(loop);
  cr_assert_eq(rc.closes, 1);
}

Test(dgram, options_and_buffer_sizes)
{
  wire_loop_t *loop = h_loop_new();
  cnt_t rc = {0};
  wire_udp_opts_t o = WIRE_UDP_OPTS_INIT;
  o.recv_buffer_size = 65536;
  wire_udp_t *r = udp_new(loop, &o, &rc);
  cr_assert_eq(wire_udp_recv_buffer_size(r), WIRE_EBADF, "before bind");
  cr_assert_eq(wire_udp_set_broadcast(r, 1), 0);
  cr_assert_eq(wire_udp_set_ttl(r, 64), 0);
  cr_assert_eq(wire_udp_set_multicast_ttl(r, 2), 0);
  cr_assert_eq(wire_udp_set_multicast_loopback(r, 1), 0);
  bind_local(loop, r, "127.0.0.1");
  /* Linux reports twice the size set, for its bookkeeping. */
  cr_assert_geq(wire_udp_recv_buffer_size(r), 65536);
  cr_assert_eq(wire_udp_set_send_buffer_size(r, 32768), 0);
  cr_assert_geq(wire_udp_send_buffer_size(r), 32768);
  cr_assert_eq(wire_udp_bind(r, 0, NULL, NULL), WIRE_EALREADY);
  wire_udp_close(r, NULL);
  h_loop_done(loop);
}
