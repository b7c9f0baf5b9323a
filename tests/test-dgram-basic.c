/* dgram: the working paths. Each test runs a fresh loop on 127.0.0.1 port
 * 0, counts what the callbacks saw, closes everything and ends with the
 * leak check, wire_loop_close(loop) == 0. */
#include "wire/dgram.h" /* first: the header compiles on its own */

#include <criterion/criterion.h>
#include <string.h>
#include <wire.h>

typedef struct {
  int listening;
  int messages;
  int closes;
  int errors;
  int last_error;
  int sent;
  int send_status;
  int connects;
  char got[256];
  size_t got_len;
  wire_udp_rinfo_t rinfo;
  wire_udp_t *peer;
} counters_t;

static void on_listening(wire_udp_t *u, void *d)
{
  (void)u;
  ((counters_t *)d)->listening++;
}

static void on_error(wire_udp_t *u, int err, void *d)
{
  (void)u;
  counters_t *c = d;
  c->errors++;
  c->last_error = err;
}

static void on_close(wire_udp_t *u, void *d)
{
  (void)u;
  ((counters_t *)d)->closes++;
}

static void on_connect(wire_udp_t *u, void *d)
{
  (void)u;
  ((counters_t *)d)->connects++;
}

static void watch(wire_udp_t *u, counters_t *c)
{
  wire_udp_set_data(u, c);
  wire_udp_on_listening(u, on_listening);
  wire_udp_on_error(u, on_error);
  wire_udp_on_close(u, on_close);
  wire_udp_on_connect(u, on_connect);
}

static int bound_port(wire_udp_t *u)
{
  wire_addr_t a;
  cr_assert_eq(wire_udp_address(u, &a), 0);
  return a.port;
}

/* Binds u to 127.0.0.1:0 and runs the loop until listening. */
static int bind_local(wire_loop_t *loop, wire_udp_t *u, counters_t *c)
{
  int before = c->listening;
  cr_assert_eq(wire_udp_bind(u, 0, "127.0.0.1", NULL), 0);
  while (c->listening == before)
    wire_loop_run(loop, WIRE_RUN_ONCE);
  return bound_port(u);
}

/* The receiver keeps the first message and closes both sockets. */
static void on_message_close_all(wire_udp_t *u, const char *buf, size_t len,
                                 const wire_udp_rinfo_t *rinfo, void *d)
{
  counters_t *c = d;
  c->messages++;
  memcpy(c->got, buf, len < sizeof(c->got) ? len : sizeof(c->got));
  c->got_len = len;
  c->rinfo = *rinfo;
  wire_udp_close(u, NULL);
  if (c->peer != NULL)
    wire_udp_close(c->peer, NULL);
}

static void on_sent(wire_udp_t *u, int status, void *arg)
{
  (void)u;
  counters_t *c = arg;
  c->sent++;
  c->send_status = status;
}

Test(dgram, bind_send_message_close)
{
  wire_loop_t *loop;
  cr_assert_eq(wire_loop_create(&loop), 0);
  counters_t rc = {0}, sc = {0};
  wire_udp_t *r, *s;
  cr_assert_eq(wire_udp_create(loop, NULL, &r), 0);
  cr_assert_eq(wire_udp_create(loop, NULL, &s), 0);
  watch(r, &rc);
  watch(s, &sc);
  wire_udp_on_message(r, on_message_close_all);
  rc.peer = s;
  int port = bind_local(loop, r, &rc);
  cr_assert_gt(port, 0);
  cr_assert_eq(wire_udp_send(s, "xxhello", 2, 5, port, "127.0.0.1", on_sent,
                             &sc),
               0);
  cr_assert_eq(sc.sent, 0, "the send callback never runs inside the call");
  wire_loop_run(loop, WIRE_RUN_DEFAULT);
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
  cr_assert_eq(wire_loop_close(loop), 0);
}

Test(dgram, localhost_name_resolves)
{
  wire_loop_t *loop;
  cr_assert_eq(wire_loop_create(&loop), 0);
  counters_t rc = {0}, sc = {0};
  wire_udp_t *r, *s;
  cr_assert_eq(wire_udp_create(loop, NULL, &r), 0);
  cr_assert_eq(wire_udp_create(loop, NULL, &s), 0);
  watch(r, &rc);
  watch(s, &sc);
  wire_udp_on_message(r, on_message_close_all);
  rc.peer = s;
  int port = bind_local(loop, r, &rc);
  cr_assert_eq(
      wire_udp_send(s, "hello world", 0, 11, port, "localhost", on_sent, &sc),
      0);
  wire_loop_run(loop, WIRE_RUN_DEFAULT);
  cr_assert_eq(rc.messages, 1);
  cr_assert_eq(rc.got_len, 11);
  cr_assert_eq(sc.send_status, 11);
  cr_assert_eq(wire_loop_close(loop), 0);
}
