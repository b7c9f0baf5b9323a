/* The libwebsockets side of bench/ws.sh: a small echo server on Debian's
 * libwebsockets (4.1), written for the bench in the shape of lws's own
 * minimal-ws-server-echo: each received message is queued on its
 * connection and written back with its type from the WRITEABLE callback,
 * one lws_write per callback as the lws docs require, asking for another
 * callback while the queue is not empty. No extensions (no
 * permessage-deflate).
 *
 * Usage: ws_lws PORT   (prints "listening on http://127.0.0.1:PORT/")
 * Build: cc -O2 ws_lws.c $(pkg-config --cflags --libs libwebsockets) */
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSG_MAX 128 /* the bench's messages are 32 bytes */

typedef struct {
  size_t len;
  int binary;
  unsigned char buf[LWS_PRE + MSG_MAX];
} msg_t;

typedef struct {
  msg_t *q; /* a ring of cap messages */
  unsigned head, count, cap;
} pss_t;

static volatile int stop;

static int push(pss_t *p, const void *in, size_t len, int binary)
{
  if (len > MSG_MAX)
    return -1;
  if (p->count == p->cap) {
    unsigned cap = p->cap ? p->cap * 2 : 16;
    msg_t *q = malloc(cap * sizeof(*q));
    if (q == NULL)
      return -1;
    for (unsigned i = 0; i < p->count; i++)
      q[i] = p->q[(p->head + i) % p->cap];
    free(p->q);
    p->q = q;
    p->head = 0;
    p->cap = cap;
  }
  msg_t *m = &p->q[(p->head + p->count) % p->cap];
  memcpy(m->buf + LWS_PRE, in, len);
  m->len = len;
  m->binary = binary;
  p->count++;
  return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
                    void *user, void *in, size_t len)
{
  pss_t *p = user;
  switch (reason) {
  case LWS_CALLBACK_ESTABLISHED:
    memset(p, 0, sizeof(*p));
    break;
  case LWS_CALLBACK_RECEIVE:
    if (!lws_is_first_fragment(wsi) || !lws_is_final_fragment(wsi))
      return -1; /* bench-only: whole small messages */
    if (push(p, in, len, lws_frame_is_binary(wsi)) < 0)
      return -1;
    lws_callback_on_writable(wsi);
    break;
  case LWS_CALLBACK_SERVER_WRITEABLE: {
    if (p->count == 0)
      break;
    msg_t *m = &p->q[p->head];
    int n = lws_write(wsi, m->buf + LWS_PRE, m->len,
                      m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
    if (n < (int)m->len)
      return -1;
    p->head = (p->head + 1) % p->cap;
    p->count--;
    if (p->count > 0)
      lws_callback_on_writable(wsi);
    break;
  }
  case LWS_CALLBACK_CLOSED:
    free(p->q);
    p->q = NULL;
    break;
  default:
    break;
  }
  return 0;
}

static const struct lws_protocols protocols[] = {
    {"echo", callback, sizeof(pss_t), 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0}};

static void on_signal(int sig)
{
  (void)sig;
  stop = 1;
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "usage: ws_lws PORT\n");
    return 2;
  }
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  lws_set_log_level(LLL_ERR, NULL);
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof(info));
  info.port = atoi(argv[1]);
  info.iface = "127.0.0.1";
  info.protocols = protocols;
  info.gid = -1;
  info.uid = -1;
  struct lws_context *ctx = lws_create_context(&info);
  if (ctx == NULL) {
    fprintf(stderr, "ws_lws: lws_create_context failed\n");
    return 1;
  }
  printf("listening on http://127.0.0.1:%d/\n", info.port);
  fflush(stdout);
  while (!stop && lws_service(ctx, 0) >= 0)
    ;
  lws_context_destroy(ctx);
  return 0;
}
