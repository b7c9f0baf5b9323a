/* dgram: 10,000 datagrams over loopback at a bounded rate (bursts of 50
 * per millisecond timer tick), every one counted, in order, and the
 * batched paths (sendmmsg, recvmmsg) checked for content. */
#include "helpers.h"

#define TOTAL 10000
#define BURST 50

typedef struct {
  wire_loop_t *loop;
  wire_udp_t *r;
  wire_udp_t *s;
  wire_timer_t *t;
  int port;
  int next; /* next sequence number to send */
  int got;
  int out_of_order;
  int bad;
  int send_errors;
  int sent_ok;
  int errors;
} run_t;

static void on_message(wire_udp_t *u, const char *buf, size_t len,
                       const wire_udp_rinfo_t *rinfo, void *d)
{
  (void)u, (void)rinfo;
  run_t *r = d;
  int seq;
  char tail[8];
  if (len != 16 || sscanf(buf, "%08d", &seq) != 1) {
    r->bad++;
    return;
  }
  memcpy(tail, buf + 8, 8);
  if (memcmp(tail, "datagram", 8) != 0)
    r->bad++;
  if (seq != r->got)
    r->out_of_order++;
  r->got++;
}

static void on_error(wire_udp_t *u, int err, void *d)
{
  (void)u, (void)err;
  ((run_t *)d)->errors++;
}

static void on_sent(wire_udp_t *u, int status, void *arg)
{
  (void)u;
  run_t *r = arg;
  if (status == 16)
    r->sent_ok++;
  else
    r->send_errors++;
}

static void tick(wire_timer_t *t, void *d)
{
  run_t *r = d;
  for (int i = 0; i < BURST && r->next < TOTAL; i++, r->next++) {
    char msg[24];
    snprintf(msg, sizeof(msg), "%08ddatagram", r->next);
    cr_assert_eq(
        wire_udp_send(r->s, msg, 0, 16, r->port, "127.0.0.1", on_sent, r), 0);
  }
  if (r->next == TOTAL)
    wire_timer_stop(t);
}

Test(dgram_many, ten_thousand_datagrams_all_counted, .timeout = 60)
{
  run_t r = {0};
  r.loop = h_loop_new();
  wire_udp_opts_t o = WIRE_UDP_OPTS_INIT;
  o.recv_buffer_size = 1 << 20; /* capped by net.core.rmem_max */
  cr_assert_eq(wire_udp_create(r.loop, &o, &r.r), 0);
  cr_assert_eq(wire_udp_create(r.loop, NULL, &r.s), 0);
  wire_udp_set_data(r.r, &r);
  wire_udp_set_data(r.s, &r);
  wire_udp_on_message(r.r, on_message);
  wire_udp_on_error(r.r, on_error);
  wire_udp_on_error(r.s, on_error);
  cr_assert_eq(wire_udp_bind(r.r, 0, "127.0.0.1", NULL), 0);
  wire_addr_t a;
  cr_assert_eq(wire_udp_address(r.r, &a), 0);
  r.port = a.port;
  cr_assert_eq(wire_timer_create(r.loop, &r.t), 0);
  wire_timer_set_data(r.t, &r);
  cr_assert_eq(wire_timer_start(r.t, 1, 1, tick), 0);
  H_RUN_UNTIL(r.loop, r.got == TOTAL && r.sent_ok == TOTAL);
  cr_assert_eq(r.bad, 0);
  cr_assert_eq(r.out_of_order, 0);
  cr_assert_eq(r.send_errors, 0);
  cr_assert_eq(r.errors, 0);
  wire_timer_close(r.t, NULL);
  wire_udp_close(r.r, NULL);
  wire_udp_close(r.s, NULL);
  h_loop_done(r.loop);
}
