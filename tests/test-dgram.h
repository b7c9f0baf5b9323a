/* The dgram tests' shared counters and callbacks: each callback counts
 * into the cnt_t passed as the socket's data, and udp_new() makes a socket
 * with all of them set. */
#ifndef WIRE_TEST_DGRAM_H
#define WIRE_TEST_DGRAM_H

#include "wire/dgram.h"

#include "helpers.h"

typedef struct {
  int listening;
  int messages;
  int closes;
  int errors;
  int last_error;
  int sent;
  int send_status;
  int connects;
  int bind_status;
  int bind_cbs;
  char got[256];
  size_t got_len;
  char from[64];
  wire_udp_rinfo_t rinfo;
  wire_udp_t *peer; /* closed with the receiver on the first message */
} cnt_t;

static inline void on_listening(wire_udp_t *u, void *d)
{
  (void)u;
  ((cnt_t *)d)->listening++;
}

static inline void on_error(wire_udp_t *u, int err, void *d)
{
  (void)u;
  cnt_t *c = d;
  c->errors++;
  c->last_error = err;
}

static inline void on_close(wire_udp_t *u, void *d)
{
  (void)u;
  ((cnt_t *)d)->closes++;
}

static inline void on_connect(wire_udp_t *u, void *d)
{
  (void)u;
  ((cnt_t *)d)->connects++;
}

/* Counts the message and keeps its first bytes and where it came from. */
static inline void on_message_keep(wire_udp_t *u, const char *buf, size_t len,
                                   const wire_udp_rinfo_t *rinfo, void *d)
{
  (void)u;
  cnt_t *c = d;
  c->messages++;
  memcpy(c->got, buf, len < sizeof(c->got) ? len : sizeof(c->got));
  c->got_len = len;
  c->rinfo = *rinfo;
  snprintf(c->from, sizeof(c->from), "%s", rinfo->address);
}

static inline void on_sent(wire_udp_t *u, int status, void *arg)
{
  (void)u;
  cnt_t *c = arg;
  c->sent++;
  c->send_status = status;
}

static inline void on_bound(wire_udp_t *u, int status, void *d)
{
  (void)u;
  cnt_t *c = d;
  c->bind_cbs++;
  c->bind_status = status;
}

static inline wire_udp_t *udp_new(wire_loop_t *loop, const wire_udp_opts_t *o,
                                  cnt_t *c)
{
  wire_udp_t *u;
  cr_assert_eq(wire_udp_create(loop, o, &u), 0);
  wire_udp_set_data(u, c);
  wire_udp_on_listening(u, on_listening);
  wire_udp_on_error(u, on_error);
  wire_udp_on_close(u, on_close);
  wire_udp_on_connect(u, on_connect);
  wire_udp_on_message(u, on_message_keep);
  return u;
}

#endif
