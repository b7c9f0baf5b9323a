/* WebSocket connections, servers and clients (RFC 6455, RFC 7692) on the
 * stream contract, so they run over TCP, Unix sockets and TLS alike.
 *
 * A connection (wire_ws_t, a refcounted object) wraps one socket handed
 * over by the HTTP server (upgrade event) or the HTTP client (upgrade
 * response). Input goes through the frame codec (frame.c) without a copy
 * of the stream: control payloads are gathered into a 125-byte buffer
 * (out of line, made with the first control frame: an idle connection is
 * kept small),
 * data messages into a growable buffer capped at max_payload (an
 * unfragmented, uncompressed frame that arrived whole is handed to the
 * message event straight from the read buffer, or, masked, unmasked once
 * into a per-thread scratch buffer and handed from there). Text is
 * checked here as it is unmasked, not by the decoder, so each byte is
 * read once. Compressed
 * messages are inflated as they arrive (deflate.c), bounded by the same
 * cap, and their text checked with the incremental UTF-8 validator.
 *
 * Life: CONNECTING (client handshake) -> OPEN -> CLOSING (a close frame
 * was sent or received) -> CLOSED (the socket's close event: the close
 * event runs, then the user's reference is dropped and the memory goes).
 * The closing handshake (RFC 6455 7): whoever sends the second close frame
 * ends the socket (FIN after the queue); the socket closes once both
 * sides ended (allow_half_open off); a timer destroys it after
 * close_timeout_ms if the peer never answers. A protocol error of the
 * peer fails the connection: the error event, a close frame with 1002,
 * 1007 or 1009, input ignored from there on, and the socket ended.
 *
 * Servers keep their open connections in a list (broadcast, heartbeat,
 * close). Several servers can be attached to one HTTP server: a
 * per-thread list of (http server, ws server) pairs lets one upgrade
 * dispatcher find the server for a request's path (one loop per thread,
 * so a thread-local list is the loop's list). */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/internal.h"
#include "../http/headers.h"
#include "../stream/internal.h"
#include "../tls/crypto.h"
#include "frame.h"
#include "internal.h"
#include "utf8.h"

#define DEFAULT_MAX_FRAGMENTS 65536
#define DEFAULT_CLOSE_TIMEOUT_MS 30000
#define DEFAULT_THRESHOLD 1024

enum { ROLE_SERVER = 1, ROLE_CLIENT = 2 };

typedef struct client_s client_t;

/* What an idle connection does without, made on first use: the payload
 * of a control frame being received, the text behind last_error, and a
 * client's decoder settings (a server's connections share the server's).
 * Keeps an idle connection small (docs/benchmarks.md). */
typedef struct {
  wire_ws_decoder_settings_t ds; /* a client's; unused on a server */
  char errbuf[96];
  uint8_t ctl_len;
  char ctl[WIRE_WS_MAX_CONTROL];
} rare_t;

struct wire_ws_s {
  wire__obj_t obj;
  wire_socket_t *s;
  wire_ws_server_t *srv;
  wire_ws_t *prev, *next; /* the server's list */

  wire_ws_event_cb on_open;
  wire_ws_message_cb on_message;
  wire_ws_control_cb on_ping;
  wire_ws_control_cb on_pong;
  wire_ws_event_cb on_drain;
  wire_ws_error_cb on_error;
  wire_ws_close_cb on_close;
  wire_ws_response_cb on_unexpected;
  void *data;

  wire_ws_decoder_t dec;
  wire__wsbuf_t msg;  /* the data message being gathered */
  const char *direct; /* a whole message straight from the read buffer */
  size_t direct_len;
  unsigned nfrags;
  unsigned max_frags; /* frames per message */
  wire_utf8_t utf8; /* the message's text, checked here (not by the
                       decoder) once unmasked or inflated */
  int fail_err;     /* set by a decoder callback that fails */
  unsigned fail_close;
  const char *fail_msg;

  wire__pmd_t *pmd;
  size_t threshold;
  uint64_t close_timeout_ms;
  wire_timer_t *close_timer;

  char *protocol;
  char *extensions;
  char *reason; /* the peer's close reason */
  size_t reason_len;
  const char *last_error;
  rare_t *rare; /* made on first use */

  uint16_t close_code; /* received; 0: none yet */
  uint8_t role;
  uint8_t state;
  uint8_t close_sent, close_rcvd, failed, ended, stop;
  uint8_t sending_frag, frag_compressed, awaiting_pong, closed_emitted;

  client_t *cl; /* client handshake state, until open */
};

struct wire_ws_server_s {
  wire__obj_t obj;
  wire_ws_server_opts_t o;
  char *path;
  wire_ws_connection_cb on_connection;
  wire_ws_server_error_cb on_error;
  wire_ws_server_event_cb close_cb;
  void *data;
  wire_ws_decoder_settings_t ds; /* its connections' decoder settings */
  wire_ws_t *clients;
  unsigned nclients;
  wire_timer_t *heartbeat;
  wire_http_server_t *http; /* attached to */
  int closing;
};

static void ws_fail(wire_ws_t *ws, int err, unsigned close_code,
                    const char *msg);
static void ws_destroy(wire_ws_t *ws);
static void server_maybe_done(wire_ws_server_t *srv);

/* ---- random mask keys ------------------------------------------------------ */

/* Mask keys come from OpenSSL's CSPRNG in batches: one RAND_bytes call per
 * 128 frames. One loop per thread: the pool is per thread. */
static _Thread_local uint8_t rnd_pool[512];
static _Thread_local size_t rnd_left;

static void mask_key(uint8_t key[4])
{
  if (rnd_left < 4) {
    if (wire__random_bytes(rnd_pool, sizeof(rnd_pool)) < 0) {
      /* Never reached with a working OpenSSL; masks need not be secret,
       * only unpredictable to scripts (RFC 6455 10.3). */
      memset(rnd_pool, 0x5a, sizeof(rnd_pool));
    }
    rnd_left = sizeof(rnd_pool);
  }
  rnd_left -= 4;
  memcpy(key, rnd_pool + rnd_left, 4);
}

/* ---- small helpers ---------------------------------------------------------- */

static rare_t *rare(wire_ws_t *ws)
{
  if (ws->rare == NULL)
    ws->rare = wire__calloc(1, sizeof(*ws->rare));
  return ws->rare;
}

/* The decoder settings of every connection: the callbacks below, text
 * left to the ws layer, the message cap. */
static int on_frame_header(wire_ws_decoder_t *d);
static int on_payload(wire_ws_decoder_t *d, const char *at, size_t len);
static int on_frame_end(wire_ws_decoder_t *d);

static void settings_init(wire_ws_decoder_settings_t *ds, uint64_t max_payload)
{
  ds->on_frame_header = on_frame_header;
  ds->on_payload = on_payload;
  ds->on_frame_end = on_frame_end;
  /* Text is checked in on_payload once unmasked, not twice. */
  ds->options = WIRE_WS_OPT_NO_UTF8;
  ds->max_message = max_payload ? max_payload : WIRE_WS_DEFAULT_MAX_MESSAGE;
}

/* msg may be on the stack or in a buffer that changes later
 * (wire_strerror's for a code it does not know): keep a copy. */
static void set_error(wire_ws_t *ws, const char *msg)
{
  rare_t *r = rare(ws);
  if (r == NULL) {
    ws->last_error = "out of memory";
    return;
  }
  snprintf(r->errbuf, sizeof(r->errbuf), "%s", msg);
  ws->last_error = r->errbuf;
}

static void emit_error(wire_ws_t *ws, int err)
{
  if (ws->on_error == NULL)
    return;
  wire__obj_ref(&ws->obj);
  ws->on_error(ws, err, ws->data);
  wire__obj_unref(&ws->obj);
}

static void timer_free(wire_timer_t **t)
{
  if (*t != NULL) {
    wire_timer_close(*t, NULL);
    *t = NULL;
  }
}

/* ---- sending ------------------------------------------------------------------ */

/* Writes one frame, header and payload (masked for a client), straight
 * into the socket's write queue: one copy of the payload, no stack
 * buffer. Returns the write's result. */
static int send_frame(wire_ws_t *ws, unsigned flags, unsigned opcode,
                      const char *p, size_t len)
{
  char *w;
  int err;
  if (ws->role == ROLE_SERVER && len < 126) {
    /* What a server sends most: a 2-byte header (RFC 6455 5.2), written
     * here. The callers keep to the rules wire_ws_header_write asserts. */
    err = wire__socket_write_reserve(ws->s, 2 + len, &w);
    if (err < 0)
      return err;
    w[0] = (char)(flags | opcode);
    w[1] = (char)len;
    if (len > 0)
      memcpy(w + 2, p, len);
    return wire__socket_write_commit(ws->s, 2 + len);
  }
  uint8_t key[4];
  const uint8_t *k = NULL;
  if (ws->role == ROLE_CLIENT) {
    mask_key(key);
    k = key;
  }
  size_t hl = wire_ws_header_size(len, k != NULL);
  if (len > SIZE_MAX - hl)
    return WIRE_ENOBUFS;
  err = wire__socket_write_reserve(ws->s, hl + len, &w);
  if (err < 0)
    return err;
  wire_ws_header_write(w, flags, opcode, len, k);
  if (k != NULL)
    wire_ws_mask_copy(w + hl, p, len, k, 0);
  else if (len > 0)
    memcpy(w + hl, p, len);
  return wire__socket_write_commit(ws->s, hl + len);
}

int wire_ws_send(wire_ws_t *ws, const void *buf, size_t len, unsigned flags)
{
  if (ws->state != WIRE_WS_OPEN || ws->close_sent)
    return WIRE_ECLOSED;
  int first = !ws->sending_frag;
  int fin = (flags & WIRE_WS_SEND_MORE) == 0;
  unsigned opcode = WIRE_WS_OP_CONTINUATION;
  if (first)
    opcode = flags & WIRE_WS_SEND_BINARY ? WIRE_WS_OP_BINARY : WIRE_WS_OP_TEXT;
  if (first) {
    ws->frag_compressed = ws->pmd != NULL &&
                          !(flags & WIRE_WS_SEND_NO_COMPRESS) &&
                          (!fin || len >= ws->threshold);
  }
  unsigned fl = fin ? WIRE_WS_FIN : 0;
  int rc;
  if (ws->frag_compressed) {
    wire__wsbuf_t out = {NULL, 0, 0, SIZE_MAX};
    rc = wire__pmd_deflate(ws->pmd, buf, len, fin, &out);
    if (rc == 0) {
      if (first)
        fl |= WIRE_WS_RSV1;
      rc = send_frame(ws, fl, opcode, out.p, out.len);
    }
    wire__wsbuf_free(&out);
  } else {
    rc = send_frame(ws, fl, opcode, buf, len);
  }
  if (rc >= 0)
    ws->sending_frag = !fin;
  return rc;
}

int wire_ws_send_text(wire_ws_t *ws, const char *buf, size_t len)
{
  if (ws->sending_frag)
    return WIRE_EBUSY;
  return wire_ws_send(ws, buf, len, 0);
}

int wire_ws_send_binary(wire_ws_t *ws, const void *buf, size_t len)
{
  if (ws->sending_frag)
    return WIRE_EBUSY;
  return wire_ws_send(ws, buf, len, WIRE_WS_SEND_BINARY);
}

static int send_control(wire_ws_t *ws, unsigned opcode, const void *buf,
                        size_t len)
{
  if (len > WIRE_WS_MAX_CONTROL)
    return WIRE_EINVAL;
  if (ws->state != WIRE_WS_OPEN && ws->state != WIRE_WS_CLOSING)
    return WIRE_ECLOSED;
  if (ws->close_sent || ws->s == NULL)
    return WIRE_ECLOSED;
  return send_frame(ws, WIRE_WS_FIN, opcode, buf, len);
}

int wire_ws_ping(wire_ws_t *ws, const void *buf, size_t len)
{
  return send_control(ws, WIRE_WS_OP_PING, buf, len);
}

int wire_ws_pong(wire_ws_t *ws, const void *buf, size_t len)
{
  return send_control(ws, WIRE_WS_OP_PONG, buf, len);
}

/* ---- closing ------------------------------------------------------------------ */

static void on_close_timeout(wire_timer_t *t, void *d)
{
  (void)t;
  wire_ws_t *ws = d;
  ws_destroy(ws);
}

static void start_close_timer(wire_ws_t *ws)
{
  if (ws->close_timer != NULL || ws->s == NULL)
    return;
  if (wire_timer_create(ws->obj.loop, &ws->close_timer) < 0) {
    ws_destroy(ws);
    return;
  }
  wire_timer_set_data(ws->close_timer, ws);
  wire_timer_start(ws->close_timer, ws->close_timeout_ms, 0,
                   on_close_timeout);
}

/* Ends our side of the TCP connection once both close frames went. */
static void end_socket(wire_ws_t *ws)
{
  if (ws->ended || ws->s == NULL)
    return;
  ws->ended = 1;
  wire_socket_end(ws->s);
  start_close_timer(ws);
}

static int send_close(wire_ws_t *ws, unsigned code, const char *reason,
                      size_t rlen)
{
  char payload[WIRE_WS_MAX_CONTROL];
  int n = 0;
  if (code != 0 && code != WIRE_WS_CLOSE_NO_STATUS) {
    n = wire_ws_close_payload(payload, code, reason, rlen);
    if (n < 0)
      return n;
  }
  ws->close_sent = 1;
  ws->state = WIRE_WS_CLOSING;
  ws->sending_frag = 0;
  return send_frame(ws, WIRE_WS_FIN, WIRE_WS_OP_CLOSE, payload, (size_t)n);
}

static void client_abort(wire_ws_t *ws);

int wire_ws_close(wire_ws_t *ws, unsigned code, const char *reason)
{
  if (ws->state == WIRE_WS_CONNECTING) {
    client_abort(ws);
    return 0;
  }
  if (ws->state == WIRE_WS_CLOSED || ws->close_sent)
    return WIRE_EALREADY;
  size_t rlen = reason != NULL ? strlen(reason) : 0;
  if (code == 0 && rlen > 0)
    return WIRE_EINVAL;
  if (code != 0 && !wire_ws_close_code_valid(code))
    return WIRE_EINVAL;
  char tmp[WIRE_WS_MAX_CONTROL];
  if (code != 0 && wire_ws_close_payload(tmp, code, reason, rlen) < 0)
    return WIRE_EINVAL;
  int rc = send_close(ws, code, reason, rlen);
  if (rc < 0) {
    ws_destroy(ws);
    return 0;
  }
  if (ws->close_rcvd)
    end_socket(ws);
  else
    start_close_timer(ws);
  return 0;
}

static void ws_destroy(wire_ws_t *ws)
{
  if (ws->state == WIRE_WS_CONNECTING) {
    client_abort(ws);
    return;
  }
  if (ws->s != NULL && ws->state != WIRE_WS_CLOSED && !ws->stop) {
    ws->stop = 1;
    wire_socket_close(ws->s, NULL);
  }
}

void wire_ws_terminate(wire_ws_t *ws)
{
  ws_destroy(ws);
}

/* Fails the connection (RFC 6455 7.1.7): the error event, a close frame
 * with the code, no more input, and the end of the socket. */
static void ws_fail(wire_ws_t *ws, int err, unsigned close_code,
                    const char *msg)
{
  if (ws->failed || ws->state == WIRE_WS_CLOSED)
    return;
  ws->failed = 1;
  set_error(ws, msg);
  emit_error(ws, err);
  if (ws->state == WIRE_WS_CLOSED || ws->stop)
    return;
  if (!ws->close_sent && close_code != 0 && ws->s != NULL)
    send_close(ws, close_code, NULL, 0);
  ws->state = WIRE_WS_CLOSING;
  end_socket(ws);
}

/* ---- receiving ---------------------------------------------------------------- */

/* A whole, unfragmented masked frame (every frame a client sends) is
 * unmasked once into this buffer and handed to the message event from
 * here: no malloc, no free, and each byte unmasked once. One loop per
 * thread, so one buffer per thread; scratch_busy guards re-entry (a
 * message event that runs a nested loop), which falls back to the
 * message buffer. */
static _Thread_local char scratch[16 * 1024];
static _Thread_local int scratch_busy;

static int deliver(wire_ws_t *ws, const char *p, size_t len, int binary)
{
  if (ws->on_message != NULL) {
    ws->on_message(ws, p, len, binary, ws->data);
  }
  return 0;
}

static int fail_cb(wire_ws_t *ws, int err, unsigned code, const char *msg)
{
  ws->fail_err = err;
  ws->fail_close = code;
  ws->fail_msg = msg;
  return err;
}

/* Inflates n bytes of a compressed message onto ws->msg (fin: the last,
 * which flushes the inflater) and, for text, checks what came out (at
 * fin, that it does not end inside a character). <0: failed, with the
 * close code set. */
static int inflate_msg(wire_ws_t *ws, const char *src, size_t n, int fin,
                       int text)
{
  size_t before = ws->msg.len;
  int err = wire__pmd_inflate(ws->pmd, src, n, fin, &ws->msg);
  if (err == WIRE_ETOOBIG)
    return fail_cb(ws, err, WIRE_WS_CLOSE_TOO_BIG,
                   "message over max_payload after inflating");
  if (err < 0)
    return fail_cb(ws, err, WIRE_WS_CLOSE_PROTOCOL_ERROR,
                   "bad permessage-deflate data");
  if (text) {
    size_t m = ws->msg.len - before;
    if (wire_utf8_validate(&ws->utf8, ws->msg.p + before, m) != m ||
        (fin && !wire_utf8_complete(&ws->utf8)))
      return fail_cb(ws, WIRE_EWSPROTO, WIRE_WS_CLOSE_INVALID_DATA,
                     "invalid UTF-8 in a text message");
  }
  return 0;
}

static int on_frame_header(wire_ws_decoder_t *d)
{
  wire_ws_t *ws = d->data;
  if (wire_ws_is_control(d->opcode)) {
    if (rare(ws) == NULL)
      return fail_cb(ws, WIRE_ENOMEM, WIRE_WS_CLOSE_INTERNAL_ERROR,
                     "out of memory");
    ws->rare->ctl_len = 0;
    return 0;
  }
  if (d->opcode != WIRE_WS_OP_CONTINUATION) {
    ws->nfrags = 0;
    ws->msg.len = 0;
    ws->direct = NULL;
    wire_utf8_init(&ws->utf8);
  }
  if (++ws->nfrags > ws->max_frags)
    return fail_cb(ws, WIRE_ETOOBIG, WIRE_WS_CLOSE_TOO_BIG,
                   "too many fragments in one message");
  return 0;
}

/* A piece of a compressed message: unmasked through a stack buffer,
 * inflated into the message buffer, its text checked as it comes out. Its
 * own function, so that on_payload's frame stays small. */
static int inflate_payload(wire_ws_t *ws, wire_ws_decoder_t *d,
                           const char *at, size_t len)
{
  char tmp[16 * 1024];
  size_t off = 0;
  while (off < len) {
    size_t n = len - off < sizeof(tmp) ? len - off : sizeof(tmp);
    const char *src = at + off;
    if (d->masked) {
      wire_ws_mask_copy(tmp, src, n, d->mask_key, d->payload_off + off);
      src = tmp;
    }
    int err = inflate_msg(ws, src, n, 0, d->message_opcode == WIRE_WS_OP_TEXT);
    if (err < 0)
      return err;
    off += n;
  }
  return 0;
}

static int on_payload(wire_ws_decoder_t *d, const char *at, size_t len)
{
  wire_ws_t *ws = d->data;
  if (wire_ws_is_control(d->opcode)) {
    rare_t *r = ws->rare; /* made by on_frame_header */
    if (d->masked)
      wire_ws_mask_copy(r->ctl + r->ctl_len, at, len, d->mask_key,
                        d->payload_off);
    else
      memcpy(r->ctl + r->ctl_len, at, len);
    r->ctl_len += (uint8_t)len;
    return 0;
  }
  if (d->compressed)
    return inflate_payload(ws, d, at, len);
  /* The decoder leaves the text of uncompressed messages to us
   * (WIRE_WS_OPT_NO_UTF8): it is checked here once unmasked, piece by
   * piece as it arrives, so a bad sequence still fails the connection
   * as soon as its piece is here (RFC 6455 8.1), also across fragments. */
  int text = d->message_opcode == WIRE_WS_OP_TEXT;
  /* A whole unfragmented frame in this read: no copy when unmasked, one
   * unmasking copy into the scratch buffer when masked. */
  if (ws->nfrags == 1 && (d->flags & WIRE_WS_FIN) && d->payload_off == 0 &&
      d->remaining == 0 &&
      (!d->masked || (len <= sizeof(scratch) && !scratch_busy))) {
    const char *p = at;
    if (d->masked) {
      wire_ws_mask_copy(scratch, at, len, d->mask_key, 0);
      p = scratch;
    }
    if (text && (wire_utf8_validate(&ws->utf8, p, len) != len ||
                 !wire_utf8_complete(&ws->utf8)))
      return fail_cb(ws, WIRE_EWSPROTO, WIRE_WS_CLOSE_INVALID_DATA,
                     "invalid UTF-8 in a text message");
    ws->direct = p;
    ws->direct_len = len;
    return 0;
  }
  int err = wire__wsbuf_reserve(&ws->msg, len);
  if (err < 0)
    return fail_cb(ws, err,
                   err == WIRE_ETOOBIG ? WIRE_WS_CLOSE_TOO_BIG
                                       : WIRE_WS_CLOSE_INTERNAL_ERROR,
                   "message over max_payload");
  char *w = ws->msg.p + ws->msg.len;
  if (d->masked)
    wire_ws_mask_copy(w, at, len, d->mask_key, d->payload_off);
  else
    memcpy(w, at, len);
  if (text && wire_utf8_validate(&ws->utf8, w, len) != len)
    return fail_cb(ws, WIRE_EWSPROTO, WIRE_WS_CLOSE_INVALID_DATA,
                   "invalid UTF-8 in a text message");
  ws->msg.len += len;
  return 0;
}

static void handle_close_frame(wire_ws_t *ws)
{
  unsigned code = WIRE_WS_CLOSE_NO_STATUS;
  const char *reason = NULL;
  size_t rlen = 0;
  /* The decoder checked the payload already. */
  wire_ws_close_parse(ws->rare->ctl, ws->rare->ctl_len, &code, &reason,
                      &rlen);
  ws->close_rcvd = 1;
  ws->close_code = (uint16_t)code;
  if (rlen > 0) {
    ws->reason = wire__malloc(rlen);
    if (ws->reason != NULL) {
      memcpy(ws->reason, reason, rlen);
      ws->reason_len = rlen;
    }
  }
  ws->state = WIRE_WS_CLOSING;
  if (!ws->close_sent) {
    /* RFC 6455 5.5.1: answer with a close frame, echoing the code. */
    send_close(ws, code, reason, rlen);
  }
  end_socket(ws);
}

static int on_frame_end(wire_ws_decoder_t *d)
{
  wire_ws_t *ws = d->data;
  if (d->opcode == WIRE_WS_OP_CLOSE) {
    handle_close_frame(ws);
    return WIRE_WS_CB_PAUSE;
  }
  if (d->opcode == WIRE_WS_OP_PING || d->opcode == WIRE_WS_OP_PONG) {
    int ping = d->opcode == WIRE_WS_OP_PING;
    if (ping && !ws->close_sent)
      send_frame(ws, WIRE_WS_FIN, WIRE_WS_OP_PONG, ws->rare->ctl,
                 ws->rare->ctl_len);
    if (!ping)
      ws->awaiting_pong = 0;
    wire_ws_control_cb cb = ping ? ws->on_ping : ws->on_pong;
    if (cb != NULL) {
      char copy[WIRE_WS_MAX_CONTROL];
      size_t n = ws->rare->ctl_len;
      memcpy(copy, ws->rare->ctl, n);
      cb(ws, copy, n, ws->data);
    }
    return ws->stop || ws->failed ? WIRE_WS_CB_PAUSE : 0;
  }
  if (!(d->flags & WIRE_WS_FIN))
    return 0;
  int binary = d->message_opcode == WIRE_WS_OP_BINARY;
  if (d->compressed) {
    int err = inflate_msg(ws, NULL, 0, 1, !binary);
    if (err < 0)
      return err;
  }
  /* RFC 6455 8.1: the text may not end inside a character. */
  if (!d->compressed && !binary && ws->direct == NULL &&
      !wire_utf8_complete(&ws->utf8))
    return fail_cb(ws, WIRE_EWSPROTO, WIRE_WS_CLOSE_INVALID_DATA,
                   "invalid UTF-8 in a text message");
  if (ws->direct != NULL) {
    const char *p = ws->direct;
    ws->direct = NULL;
    int busy = p == scratch;
    scratch_busy += busy;
    deliver(ws, p, ws->direct_len, binary);
    scratch_busy -= busy;
  } else {
    deliver(ws, ws->msg.p != NULL ? ws->msg.p : "", ws->msg.len, binary);
    /* Keep an idle connection small: the buffer goes with the message. */
    wire__wsbuf_free(&ws->msg);
  }
  return ws->stop || ws->failed || ws->close_sent ? WIRE_WS_CB_PAUSE : 0;
}

static void feed(wire_ws_t *ws, const char *buf, size_t len)
{
  wire__obj_ref(&ws->obj);
  while (len > 0 && !ws->stop && !ws->failed && !ws->close_rcvd &&
         ws->state != WIRE_WS_CLOSED) {
    size_t n = 0;
    int rc = wire_ws_decoder_execute_raw(&ws->dec, buf, len, &n);
    if (rc < 0) {
      if (ws->dec.error == WIRE_WS_E_AFTER_CLOSE)
        break;
      if (ws->dec.error == WIRE_WS_E_CALLBACK) {
        if (ws->fail_err != 0)
          ws_fail(ws, ws->fail_err, ws->fail_close, ws->fail_msg);
      } else {
        ws_fail(ws, rc, wire_ws_error_close_code(ws->dec.error),
                wire_ws_error_str(ws->dec.error));
      }
      break;
    }
    buf += n;
    len -= n;
    if (n == 0 && rc == 0 && len > 0 && ws->dec.closed)
      break;
  }
  wire__obj_unref(&ws->obj);
}

/* ---- socket events ------------------------------------------------------------- */

static void sock_data(wire_socket_t *s, const char *buf, size_t len, void *d)
{
  (void)s;
  feed(d, buf, len);
}

static void sock_drain(wire_socket_t *s, void *d)
{
  (void)s;
  wire_ws_t *ws = d;
  if (ws->on_drain != NULL && ws->state == WIRE_WS_OPEN) {
    wire__obj_ref(&ws->obj);
    ws->on_drain(ws, ws->data);
    wire__obj_unref(&ws->obj);
  }
}

static void sock_error(wire_socket_t *s, int err, void *d)
{
  (void)s;
  wire_ws_t *ws = d;
  /* A reset after the closing handshake is no news. */
  if (ws->close_rcvd && ws->close_sent)
    return;
  if (ws->failed)
    return;
  set_error(ws, wire_strerror(err));
  emit_error(ws, err);
}

static void server_remove(wire_ws_t *ws);

static void sock_close(wire_socket_t *s, int had_error, void *d)
{
  (void)s;
  (void)had_error;
  wire_ws_t *ws = d;
  ws->state = WIRE_WS_CLOSED;
  ws->s = NULL;
  timer_free(&ws->close_timer);
  wire_ws_server_t *srv = ws->srv;
  server_remove(ws);
  unsigned code = ws->close_rcvd ? ws->close_code : WIRE_WS_CLOSE_ABNORMAL;
  if (!ws->closed_emitted) {
    ws->closed_emitted = 1;
    if (ws->on_close != NULL) {
      wire__obj_ref(&ws->obj);
      ws->on_close(ws, code, ws->reason != NULL ? ws->reason : "",
                   ws->reason_len, ws->data);
      wire__obj_unref(&ws->obj);
    }
  }
  wire__obj_unref(&ws->obj); /* the user's reference */
  if (srv != NULL)
    server_maybe_done(srv);
}

/* Takes s over: from here on its events are ours. */
static void ws_take_socket(wire_ws_t *ws, wire_socket_t *s)
{
  ws->s = s;
  wire_socket_set_data(s, ws);
  wire_socket_on_data(s, sock_data);
  wire_socket_on_drain(s, sock_drain);
  wire_socket_on_error(s, sock_error);
  wire_socket_on_close(s, sock_close);
  wire_socket_on_end(s, NULL);
  wire_socket_on_timeout(s, NULL);
  wire_socket_set_timeout(s, 0);
  wire_socket_set_allow_half_open(s, 0);
  if (wire_socket_is_paused(s))
    wire_socket_resume(s);
}

/* ---- the object ------------------------------------------------------------------ */

static void ws_finalize(wire__obj_t *o)
{
  wire_ws_t *ws = (wire_ws_t *)o;
  wire__pmd_free(ws->pmd);
  wire__wsbuf_free(&ws->msg);
  wire__free(ws->protocol);
  wire__free(ws->extensions);
  wire__free(ws->reason);
  wire__free(ws->rare);
  wire__poison(ws, sizeof(*ws));
  wire__free(ws);
}

static int ws_new(wire_loop_t *loop, int role, uint64_t max_payload,
                  unsigned max_frags, uint64_t close_timeout_ms,
                  wire_ws_t **out)
{
  wire_ws_t *ws = wire__calloc(1, sizeof(*ws));
  if (ws == NULL)
    return WIRE_ENOMEM;
  wire__obj_init(&ws->obj, loop, ws_finalize);
  ws->role = (uint8_t)role;
  ws->state = WIRE_WS_CONNECTING;
  ws->msg.limit =
      (size_t)(max_payload ? max_payload : WIRE_WS_DEFAULT_MAX_MESSAGE);
  ws->close_timeout_ms =
      close_timeout_ms ? close_timeout_ms : DEFAULT_CLOSE_TIMEOUT_MS;
  ws->threshold = DEFAULT_THRESHOLD;
  ws->max_frags = max_frags ? max_frags : DEFAULT_MAX_FRAGMENTS;
  *out = ws;
  return 0;
}

/* Called once the handshake agreed on everything: readies the decoder. */
static int ws_open(wire_ws_t *ws, const wire_ws_decoder_settings_t *ds,
                   const wire__pmd_params_t *pmd, int level, size_t threshold)
{
  unsigned rsv = 0;
  if (pmd != NULL) {
    int err = wire__pmd_new(pmd, ws->role == ROLE_SERVER, level, &ws->pmd);
    if (err < 0)
      return err;
    rsv = WIRE_WS_RSV1;
    if (threshold)
      ws->threshold = threshold;
  }
  wire_ws_decoder_init(&ws->dec,
                       ws->role == ROLE_SERVER ? WIRE_WS_SERVER
                                               : WIRE_WS_CLIENT,
                       rsv, ds);
  ws->dec.data = ws;
  ws->state = WIRE_WS_OPEN;
  return 0;
}

void wire_ws_on_open(wire_ws_t *ws, wire_ws_event_cb cb) { ws->on_open = cb; }
void wire_ws_on_message(wire_ws_t *ws, wire_ws_message_cb cb)
{
  ws->on_message = cb;
}
void wire_ws_on_ping(wire_ws_t *ws, wire_ws_control_cb cb) { ws->on_ping = cb; }
void wire_ws_on_pong(wire_ws_t *ws, wire_ws_control_cb cb) { ws->on_pong = cb; }
void wire_ws_on_drain(wire_ws_t *ws, wire_ws_event_cb cb) { ws->on_drain = cb; }
void wire_ws_on_error(wire_ws_t *ws, wire_ws_error_cb cb) { ws->on_error = cb; }
void wire_ws_on_close(wire_ws_t *ws, wire_ws_close_cb cb) { ws->on_close = cb; }
void wire_ws_on_unexpected_response(wire_ws_t *ws, wire_ws_response_cb cb)
{
  ws->on_unexpected = cb;
}
void wire_ws_set_data(wire_ws_t *ws, void *data) { ws->data = data; }
void *wire_ws_data(const wire_ws_t *ws) { return ws->data; }
wire_loop_t *wire_ws_loop(const wire_ws_t *ws) { return ws->obj.loop; }

size_t wire_ws_buffered_amount(const wire_ws_t *ws)
{
  return ws->s != NULL ? wire_socket_write_queue_size(ws->s) : 0;
}

int wire_ws_ready_state(const wire_ws_t *ws) { return ws->state; }

const char *wire_ws_protocol(const wire_ws_t *ws)
{
  return ws->protocol != NULL ? ws->protocol : "";
}

const char *wire_ws_extensions(const wire_ws_t *ws)
{
  return ws->extensions != NULL ? ws->extensions : "";
}

const char *wire_ws_last_error(const wire_ws_t *ws) { return ws->last_error; }
wire_ws_server_t *wire_ws_server(const wire_ws_t *ws) { return ws->srv; }
wire_socket_t *wire_ws_socket(const wire_ws_t *ws)
{
  return ws->state == WIRE_WS_CONNECTING ? NULL : ws->s;
}

/* ---- the server ------------------------------------------------------------------- */

static void server_finalize(wire__obj_t *o)
{
  wire_ws_server_t *srv = (wire_ws_server_t *)o;
  wire__free(srv->path);
  wire__poison(srv, sizeof(*srv));
  wire__free(srv);
}

int wire_ws_server_create(wire_loop_t *loop, const wire_ws_server_opts_t *o,
                          wire_ws_server_t **out)
{
  wire_ws_server_t *srv = wire__calloc(1, sizeof(*srv));
  if (srv == NULL)
    return WIRE_ENOMEM;
  wire_ws_server_opts_t def = WIRE_WS_SERVER_OPTS_INIT;
  srv->o = o != NULL ? *o : def;
  settings_init(&srv->ds, srv->o.max_payload);
  if (srv->o.path != NULL) {
    srv->path = wire__strdup(srv->o.path);
    if (srv->path == NULL) {
      wire__free(srv);
      return WIRE_ENOMEM;
    }
  }
  srv->o.path = srv->path;
  wire__obj_init(&srv->obj, loop, server_finalize);
  *out = srv;
  return 0;
}

void wire_ws_server_on_connection(wire_ws_server_t *srv,
                                  wire_ws_connection_cb cb)
{
  srv->on_connection = cb;
}
void wire_ws_server_on_error(wire_ws_server_t *srv, wire_ws_server_error_cb cb)
{
  srv->on_error = cb;
}
void wire_ws_server_set_data(wire_ws_server_t *srv, void *data)
{
  srv->data = data;
}
void *wire_ws_server_data(const wire_ws_server_t *srv) { return srv->data; }
unsigned wire_ws_server_clients(const wire_ws_server_t *srv)
{
  return srv->nclients;
}

static void server_remove(wire_ws_t *ws)
{
  wire_ws_server_t *srv = ws->srv;
  if (srv == NULL)
    return;
  if (ws->prev != NULL)
    ws->prev->next = ws->next;
  else
    srv->clients = ws->next;
  if (ws->next != NULL)
    ws->next->prev = ws->prev;
  ws->prev = ws->next = NULL;
  srv->nclients--;
  ws->srv = NULL;
  wire__obj_unref(&srv->obj);
}

void wire_ws_server_each(wire_ws_server_t *srv, wire_ws_each_cb fn, void *arg)
{
  wire__obj_ref(&srv->obj);
  wire_ws_t *ws = srv->clients;
  while (ws != NULL) {
    wire_ws_t *next = ws->next;
    /* Hold the next one: fn may close ws (never another). */
    if (next != NULL)
      wire__obj_ref(&next->obj);
    if (ws->state == WIRE_WS_OPEN)
      fn(ws, arg);
    if (next != NULL)
      wire__obj_unref(&next->obj);
    ws = next;
  }
  wire__obj_unref(&srv->obj);
}

typedef struct {
  const void *buf;
  size_t len;
  unsigned flags;
  int n;
} bcast_t;

static void bcast_one(wire_ws_t *ws, void *arg)
{
  bcast_t *b = arg;
  if (wire_ws_send(ws, b->buf, b->len, b->flags) >= 0)
    b->n++;
}

int wire_ws_server_broadcast(wire_ws_server_t *srv, const void *buf,
                             size_t len, unsigned flags)
{
  bcast_t b = {buf, len, flags & ~(unsigned)WIRE_WS_SEND_MORE, 0};
  wire_ws_server_each(srv, bcast_one, &b);
  return b.n;
}

static void beat_one(wire_ws_t *ws, void *arg)
{
  (void)arg;
  if (ws->awaiting_pong) {
    wire_ws_terminate(ws);
    return;
  }
  ws->awaiting_pong = 1;
  wire_ws_ping(ws, NULL, 0);
}

static void on_heartbeat(wire_timer_t *t, void *d)
{
  (void)t;
  wire_ws_server_each(d, beat_one, NULL);
}

/* Answers a refused upgrade and ends the socket. */
static void refuse_close(wire_socket_t *s, void *d)
{
  (void)d;
  wire_socket_close(s, NULL);
}

static void refuse(wire_socket_t *s, int status, const char *extra)
{
  char buf[256];
  const char *text = wire_http_status_text(status);
  int n = snprintf(buf, sizeof(buf),
                   "HTTP/1.1 %d %s\r\nConnection: close\r\n%s"
                   "Content-Type: text/plain\r\nContent-Length: %zu\r\n\r\n%s",
                   status, text, extra != NULL ? extra : "", strlen(text),
                   text);
  wire_socket_set_data(s, NULL);
  wire_socket_on_data(s, NULL);
  wire_socket_on_drain(s, NULL);
  wire_socket_on_error(s, NULL);
  wire_socket_on_close(s, NULL);
  wire_socket_on_end(s, NULL);
  wire_socket_set_allow_half_open(s, 0);
  /* A peer that never closes its side must not keep the socket. */
  wire_socket_on_timeout(s, refuse_close);
  wire_socket_set_timeout(s, 5000);
  if (wire_socket_write(s, buf, (size_t)n) < 0) {
    wire_socket_close(s, NULL);
    return;
  }
  wire_socket_end(s);
}

static void server_error(wire_ws_server_t *srv, int err)
{
  if (srv->on_error != NULL) {
    wire__obj_ref(&srv->obj);
    srv->on_error(srv, err, srv->data);
    wire__obj_unref(&srv->obj);
  }
}

/* All values of a request header joined with ", " into buf; NULL if none
 * or too long. */
static const char *req_header_all(wire_http_req_t *req, const char *name,
                                  char *buf, size_t cap)
{
  size_t n = wire_http_req_header_count(req), len = 0;
  int found = 0;
  for (size_t i = 0; i < n; i++) {
    const char *k, *v;
    if (wire_http_req_header_at(req, i, &k, &v) < 0 || strcasecmp(k, name))
      continue;
    size_t vl = strlen(v);
    if (len + vl + 3 > cap)
      return NULL;
    if (found) {
      memcpy(buf + len, ", ", 2);
      len += 2;
    }
    memcpy(buf + len, v, vl);
    len += vl;
    found = 1;
  }
  if (!found)
    return NULL;
  buf[len] = '\0';
  return buf;
}

int wire_ws_server_handle_upgrade(wire_ws_server_t *srv, wire_http_req_t *req,
                                  wire_socket_t *s, const char *head,
                                  size_t len)
{
  int status = 0;
  const char *extra = NULL;
  char pbuf[1024], ebuf[2048], resp_ext[256], accept[WIRE__WS_ACCEPT_LEN + 1];
  const char *protos[64];
  const char *chosen = NULL;
  wire__pmd_params_t pmd;
  int use_pmd = 0;
  if (srv->closing) {
    status = 503;
    goto refused;
  }
  /* RFC 6455 4.2.1: a GET, HTTP/1.1, Upgrade: websocket, Connection:
   * Upgrade, a 16-byte key in base64, version 13. */
  const char *upgrade = wire_http_req_header(req, "Upgrade");
  const char *conn = wire_http_req_header(req, "Connection");
  const char *key = wire_http_req_header(req, "Sec-WebSocket-Key");
  const char *version = wire_http_req_header(req, "Sec-WebSocket-Version");
  if (strcmp(wire_http_req_method(req), "GET") != 0) {
    status = 405;
    extra = "Allow: GET\r\n";
    goto refused;
  }
  if (upgrade == NULL || !wire__ws_has_token(upgrade, "websocket") ||
      conn == NULL || !wire__ws_has_token(conn, "upgrade") ||
      wire_http_req_version(req) < 11 || key == NULL ||
      !wire__ws_key_valid(key) || version == NULL) {
    status = 400;
    goto refused;
  }
  if (strcmp(version, "13") != 0) {
    /* RFC 6455 4.4: say which version we speak. */
    status = 426;
    extra = "Sec-WebSocket-Version: 13\r\n";
    goto refused;
  }
  const char *pv = req_header_all(req, "Sec-WebSocket-Protocol", pbuf,
                                  sizeof(pbuf) / 2);
  if (pv != NULL) {
    char *tok = pbuf + sizeof(pbuf) / 2;
    int n = wire__ws_split_protocols(pv, tok, sizeof(pbuf) / 2, protos, 64);
    if (n < 0) {
      status = 400;
      goto refused;
    }
    if (srv->o.protocols != NULL) {
      wire__obj_ref(&srv->obj);
      chosen = srv->o.protocols(srv, protos, (size_t)n, req, srv->data);
      wire__obj_unref(&srv->obj);
    } else {
      chosen = protos[0];
    }
  }
  const char *ev = req_header_all(req, "Sec-WebSocket-Extensions", ebuf,
                                  sizeof(ebuf));
  if (ev != NULL && srv->o.deflate.enabled) {
    use_pmd = wire__pmd_accept(&srv->o.deflate, ev, &pmd, resp_ext,
                               sizeof(resp_ext));
    if (use_pmd < 0) {
      status = 400;
      goto refused;
    }
  }
  if (srv->o.verify != NULL) {
    int vs = 401;
    wire__obj_ref(&srv->obj);
    int ok = srv->o.verify(srv, req, &vs, srv->data);
    wire__obj_unref(&srv->obj);
    if (!ok) {
      status = vs >= 400 && vs <= 599 ? vs : 401;
      server_error(srv, WIRE_ECANCELED);
      refuse(s, status, NULL);
      return WIRE_ECANCELED;
    }
  }
  int err = wire__ws_accept(key, accept);
  if (err < 0) {
    status = 500;
    goto refused;
  }

  wire_ws_t *ws;
  err = ws_new(srv->obj.loop, ROLE_SERVER, srv->o.max_payload,
               srv->o.max_fragments, srv->o.close_timeout_ms, &ws);
  if (err < 0) {
    status = 500;
    goto refused;
  }
  if (chosen != NULL)
    ws->protocol = wire__strdup(chosen);
  if (use_pmd)
    ws->extensions = wire__strdup(resp_ext);
  if ((chosen != NULL && ws->protocol == NULL) ||
      (use_pmd && ws->extensions == NULL) ||
      ws_open(ws, &srv->ds, use_pmd ? &pmd : NULL, srv->o.deflate.level,
              srv->o.deflate.threshold) < 0) {
    wire__obj_unref(&ws->obj);
    status = 500;
    goto refused;
  }
  char out[1024];
  int n = snprintf(out, sizeof(out),
                   "HTTP/1.1 101 Switching Protocols\r\n"
                   "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Accept: %s\r\n%s%s%s%s%s%s\r\n",
                   accept, chosen ? "Sec-WebSocket-Protocol: " : "",
                   chosen ? chosen : "", chosen ? "\r\n" : "",
                   use_pmd ? "Sec-WebSocket-Extensions: " : "",
                   use_pmd ? resp_ext : "", use_pmd ? "\r\n" : "");
  ws_take_socket(ws, s);
  if (n < 0 || (size_t)n >= sizeof(out) ||
      wire_socket_write(s, out, (size_t)n) < 0) {
    ws->stop = 1;
    wire_socket_close(s, NULL);
    return WIRE_ENOMEM;
  }
  /* Into the server's list; each connection holds a server reference. */
  ws->srv = srv;
  wire__obj_ref(&srv->obj);
  ws->next = srv->clients;
  if (srv->clients != NULL)
    srv->clients->prev = ws;
  srv->clients = ws;
  srv->nclients++;
  if (srv->o.heartbeat_ms && srv->heartbeat == NULL &&
      wire_timer_create(srv->obj.loop, &srv->heartbeat) == 0) {
    wire_timer_set_data(srv->heartbeat, srv);
    wire_timer_start(srv->heartbeat, srv->o.heartbeat_ms,
                     srv->o.heartbeat_ms, on_heartbeat);
    wire_timer_unref(srv->heartbeat);
  }
  wire__obj_ref(&ws->obj);
  if (srv->on_connection != NULL)
    srv->on_connection(srv, ws, req, srv->data);
  if (len > 0 && ws->state == WIRE_WS_OPEN)
    feed(ws, head, len);
  wire__obj_unref(&ws->obj);
  return 0;

refused:
  server_error(srv, WIRE_EWSPROTO);
  refuse(s, status, extra);
  return WIRE_EWSPROTO;
}

/* Attachments: which ws servers take upgrades from which http server. */
typedef struct attach_s attach_t;
struct attach_s {
  attach_t *next;
  wire_http_server_t *http;
  wire_ws_server_t *ws;
};
static _Thread_local attach_t *attachments;

static int path_matches(const char *want, const char *url)
{
  if (want == NULL)
    return 1;
  size_t n = strcspn(url, "?");
  return strlen(want) == n && strncmp(want, url, n) == 0;
}

static void dispatch_upgrade(wire_http_server_t *http, wire_http_req_t *req,
                             wire_socket_t *s, const char *head, size_t len,
                             void *data)
{
  (void)data;
  const char *url = wire_http_req_url(req);
  /* Exact paths first, then a server that takes any path. */
  wire_ws_server_t *any = NULL;
  for (attach_t *a = attachments; a != NULL; a = a->next) {
    if (a->http != http)
      continue;
    if (a->ws->path == NULL) {
      if (any == NULL)
        any = a->ws;
    } else if (path_matches(a->ws->path, url)) {
      wire_ws_server_handle_upgrade(a->ws, req, s, head, len);
      return;
    }
  }
  if (any != NULL) {
    wire_ws_server_handle_upgrade(any, req, s, head, len);
    return;
  }
  refuse(s, 400, NULL);
}

int wire_ws_server_attach(wire_ws_server_t *srv, wire_http_server_t *http)
{
  if (srv->http != NULL)
    return WIRE_EALREADY;
  if (srv->closing)
    return WIRE_ECLOSED;
  attach_t *a = wire__malloc(sizeof(*a));
  if (a == NULL)
    return WIRE_ENOMEM;
  a->http = http;
  a->ws = srv;
  a->next = attachments;
  attachments = a;
  srv->http = http;
  wire_http_server_on_upgrade(http, dispatch_upgrade);
  return 0;
}

static void detach(wire_ws_server_t *srv)
{
  if (srv->http == NULL)
    return;
  int others = 0;
  for (attach_t **pp = &attachments; *pp != NULL;) {
    attach_t *a = *pp;
    if (a->ws == srv) {
      *pp = a->next;
      wire__free(a);
      continue;
    }
    if (a->http == srv->http)
      others = 1;
    pp = &a->next;
  }
  /* The last ws server leaves: upgrades go back to the http server's
   * default (the socket is closed). */
  if (!others)
    wire_http_server_on_upgrade(srv->http, NULL);
  srv->http = NULL;
}

static void close_one(wire_ws_t *ws, void *arg)
{
  (void)arg;
  wire_ws_close(ws, WIRE_WS_CLOSE_GOING_AWAY, NULL);
}

static void server_done(void *arg)
{
  wire_ws_server_t *srv = arg;
  if (srv->close_cb != NULL)
    srv->close_cb(srv, srv->data);
  wire__obj_unref(&srv->obj); /* the closing reference */
  wire__obj_unref(&srv->obj); /* the user's */
}

static void server_maybe_done(wire_ws_server_t *srv)
{
  if (!srv->closing || srv->nclients > 0 || srv->closing == 2)
    return;
  srv->closing = 2;
  timer_free(&srv->heartbeat);
  if (wire__defer(srv->obj.loop, server_done, srv) < 0)
    server_done(srv);
}

void wire_ws_server_close(wire_ws_server_t *srv, wire_ws_server_event_cb cb)
{
  assert(!srv->closing);
  srv->closing = 1;
  srv->close_cb = cb;
  wire__obj_ref(&srv->obj); /* until server_done */
  detach(srv);
  wire_ws_server_each(srv, close_one, NULL);
  server_maybe_done(srv);
}

/* ---- the client -------------------------------------------------------------------- */

struct client_s {
  wire_http_client_req_t *req;
  wire_http_client_res_t *res; /* during open / unexpected-response */
  wire_timer_t *timer;
  wire_ws_deflate_opts_t deflate;
  char key[WIRE__WS_KEY_LEN + 1];
  char **protocols; /* offered, NULL-terminated */
  int aborted;
  int upgraded;
};

static void client_free(wire_ws_t *ws)
{
  client_t *cl = ws->cl;
  if (cl == NULL)
    return;
  timer_free(&cl->timer);
  if (cl->protocols != NULL) {
    for (char **p = cl->protocols; *p != NULL; p++)
      wire__free(*p);
    wire__free(cl->protocols);
  }
  wire__free(cl);
  ws->cl = NULL;
}

static void client_abort(wire_ws_t *ws)
{
  client_t *cl = ws->cl;
  if (cl == NULL || cl->aborted)
    return;
  cl->aborted = 1;
  timer_free(&cl->timer);
  if (cl->req != NULL)
    wire_http_client_req_close(cl->req);
}

static void client_fail(wire_ws_t *ws, int err, const char *msg)
{
  client_t *cl = ws->cl;
  if (cl == NULL || cl->aborted)
    return;
  set_error(ws, msg);
  emit_error(ws, err);
  client_abort(ws);
}

static void on_handshake_timeout(wire_timer_t *t, void *d)
{
  (void)t;
  client_fail(d, WIRE_ETIMEDOUT, "opening handshake has timed out");
}

/* Checks a 101 answer (RFC 6455 4.1, the client's duties). Returns NULL
 * if good, else why not. */
static const char *check_101(wire_ws_t *ws, wire_http_client_res_t *res,
                             wire__pmd_params_t *pmd, int *use_pmd)
{
  client_t *cl = ws->cl;
  const char *up = wire_http_client_res_header(res, "Upgrade");
  const char *conn = wire_http_client_res_header(res, "Connection");
  const char *acc = wire_http_client_res_header(res, "Sec-WebSocket-Accept");
  const char *proto = wire_http_client_res_header(res, "Sec-WebSocket-Protocol");
  const char *ext = wire_http_client_res_header(res, "Sec-WebSocket-Extensions");
  if (up == NULL || strcasecmp(up, "websocket") != 0)
    return "invalid Upgrade header";
  if (conn == NULL || !wire__ws_has_token(conn, "upgrade"))
    return "invalid Connection header";
  char want[WIRE__WS_ACCEPT_LEN + 1];
  if (wire__ws_accept(cl->key, want) < 0)
    return "out of memory";
  if (acc == NULL || strcmp(acc, want) != 0)
    return "invalid Sec-WebSocket-Accept header";
  if (proto != NULL) {
    int ok = 0;
    for (char **p = cl->protocols; p != NULL && *p != NULL; p++) {
      if (strcmp(*p, proto) == 0)
        ok = 1;
    }
    if (!ok)
      return "server sent an invalid subprotocol";
  } else if (cl->protocols != NULL && cl->protocols[0] != NULL) {
    return "server sent no subprotocol";
  }
  *use_pmd = 0;
  if (ext != NULL) {
    const char *why = NULL;
    int r = wire__pmd_response(&cl->deflate, ext, pmd, &why);
    if (r < 0)
      return why;
    *use_pmd = r;
  }
  if (proto != NULL) {
    ws->protocol = wire__strdup(proto);
    if (ws->protocol == NULL)
      return "out of memory";
  }
  if (*use_pmd) {
    ws->extensions = wire__strdup(ext);
    if (ws->extensions == NULL)
      return "out of memory";
  }
  return NULL;
}

static void client_on_upgrade(wire_http_client_req_t *req,
                              wire_http_client_res_t *res, wire_socket_t *s,
                              const char *head, size_t len, void *arg)
{
  (void)req;
  wire_ws_t *ws = arg;
  client_t *cl = ws->cl;
  if (cl->aborted) {
    wire_socket_close(s, NULL);
    return;
  }
  wire__pmd_params_t pmd;
  int use_pmd = 0;
  const char *why = check_101(ws, res, &pmd, &use_pmd);
  if (why == NULL &&
      ws_open(ws, &ws->rare->ds, use_pmd ? &pmd : NULL, cl->deflate.level,
              cl->deflate.threshold) < 0)
    why = "out of memory";
  if (why != NULL) {
    wire_socket_close(s, NULL);
    client_fail(ws, WIRE_EWSPROTO, why);
    return;
  }
  timer_free(&cl->timer);
  cl->upgraded = 1;
  ws_take_socket(ws, s);
  wire__obj_ref(&ws->obj);
  if (ws->on_open != NULL) {
    cl->res = res;
    ws->on_open(ws, ws->data);
    if (ws->cl != NULL)
      ws->cl->res = NULL;
  }
  if (len > 0 && ws->state == WIRE_WS_OPEN)
    feed(ws, head, len);
  wire__obj_unref(&ws->obj);
}

static void client_on_response(wire_http_client_req_t *req,
                               wire_http_client_res_t *res, void *arg)
{
  (void)req;
  wire_ws_t *ws = arg;
  client_t *cl = ws->cl;
  if (cl->aborted)
    return;
  int status = wire_http_client_res_status(res);
  char msg[64];
  snprintf(msg, sizeof(msg), "unexpected server response: %d", status);
  set_error(ws, msg);
  if (ws->on_unexpected != NULL) {
    cl->res = res;
    wire__obj_ref(&ws->obj);
    ws->on_unexpected(ws, status, ws->data);
    wire__obj_unref(&ws->obj);
    if (ws->cl != NULL)
      ws->cl->res = NULL;
    client_abort(ws);
  } else {
    emit_error(ws, WIRE_EWSPROTO);
    client_abort(ws);
  }
}

static void client_on_error(wire_http_client_req_t *req, int err, void *arg)
{
  (void)req;
  wire_ws_t *ws = arg;
  client_fail(ws, err, wire_strerror(err));
}

static void client_on_close(wire_http_client_req_t *req, void *arg)
{
  (void)req;
  wire_ws_t *ws = arg;
  client_t *cl = ws->cl;
  int upgraded = cl->upgraded;
  cl->req = NULL;
  client_free(ws);
  if (!upgraded) {
    /* The handshake never completed: the close event, then free. */
    ws->state = WIRE_WS_CLOSED;
    if (!ws->closed_emitted) {
      ws->closed_emitted = 1;
      if (ws->on_close != NULL)
        ws->on_close(ws, WIRE_WS_CLOSE_ABNORMAL, "", 0, ws->data);
    }
    wire__obj_unref(&ws->obj); /* the user's reference */
  }
  wire__obj_unref(&ws->obj); /* the request's */
}

const char *wire_ws_response_header(const wire_ws_t *ws, const char *name)
{
  if (ws->cl == NULL || ws->cl->res == NULL)
    return NULL;
  return wire_http_client_res_header(ws->cl->res, name);
}

/* Splits "ws://host[:port][/path]" into its parts (in buf). */
static int parse_url(const char *url, char *buf, size_t cap, int *tls,
                     const char **host, int *port, const char **path)
{
  const char *p;
  if (strncasecmp(url, "ws://", 5) == 0) {
    *tls = 0;
    p = url + 5;
  } else if (strncasecmp(url, "wss://", 6) == 0) {
    *tls = 1;
    p = url + 6;
  } else {
    return WIRE_EINVAL;
  }
  size_t n = strlen(p);
  if (n + 2 > cap || n == 0)
    return WIRE_EINVAL;
  /* Host part: up to the first '/', '?' or '#'. */
  size_t hl = strcspn(p, "/?#");
  if (memchr(p, '@', hl) != NULL)
    return WIRE_EINVAL; /* userinfo: not supported */
  memcpy(buf, p, hl);
  buf[hl] = '\0';
  char *h = buf;
  char *colon = NULL;
  if (h[0] == '[') {
    char *end = strchr(h, ']');
    if (end == NULL)
      return WIRE_EINVAL;
    *end = '\0';
    colon = end[1] == ':' ? end + 1 : NULL;
    if (end[1] != '\0' && colon == NULL)
      return WIRE_EINVAL;
    h++;
  } else {
    colon = strrchr(h, ':');
  }
  *port = *tls ? 443 : 80;
  if (colon != NULL) {
    *colon = '\0';
    char *e;
    long v = strtol(colon + 1, &e, 10);
    if (*e != '\0' || v < 1 || v > 65535 || colon[1] == '\0')
      return WIRE_EINVAL;
    *port = (int)v;
  }
  if (h[0] == '\0')
    return WIRE_EINVAL;
  *host = h;
  /* Path: the rest without any fragment; "/" if empty. */
  char *pa = buf + hl + 1;
  const char *rest = p + hl;
  size_t rl = strcspn(rest, "#");
  if (rl == 0 || rest[0] == '?') {
    pa[0] = '/';
    memcpy(pa + 1, rest, rl);
    pa[rl + 1] = '\0';
  } else {
    memcpy(pa, rest, rl);
    pa[rl] = '\0';
  }
  *path = pa;
  return 0;
}

int wire_ws_connect(wire_loop_t *loop, const char *url,
                    const wire_ws_connect_opts_t *o, wire_ws_t **out)
{
  wire_ws_connect_opts_t def = WIRE_WS_CONNECT_OPTS_INIT;
  if (o == NULL)
    o = &def;
  char ubuf[2048];
  int tls, port;
  const char *host, *path;
  int err = parse_url(url, ubuf, sizeof(ubuf) - 8, &tls, &host, &port, &path);
  if (err < 0)
    return err;
  wire_ws_t *ws;
  err = ws_new(loop, ROLE_CLIENT, o->max_payload, o->max_fragments,
               o->close_timeout_ms, &ws);
  if (err < 0)
    return err;
  client_t *cl = wire__calloc(1, sizeof(*cl));
  if (cl == NULL || rare(ws) == NULL) {
    wire__free(cl);
    err = WIRE_ENOMEM;
    goto fail;
  }
  settings_init(&ws->rare->ds, o->max_payload);
  ws->cl = cl;
  cl->deflate = o->deflate;
  err = wire__ws_key(cl->key);
  if (err < 0)
    goto fail;
  /* The offered protocols, joined for the header and kept for checking. */
  char proto_hdr[1024] = "";
  size_t nprot = 0;
  for (const char *const *p = o->protocols; p != NULL && *p != NULL; p++)
    nprot++;
  if (nprot > 0) {
    cl->protocols = wire__calloc(nprot + 1, sizeof(char *));
    if (cl->protocols == NULL) {
      err = WIRE_ENOMEM;
      goto fail;
    }
    size_t len = 0;
    for (size_t i = 0; i < nprot; i++) {
      const char *pr = o->protocols[i];
      if (!wire__http_valid_token(pr) || len + strlen(pr) + 3 > sizeof(proto_hdr)) {
        err = WIRE_EINVAL;
        goto fail;
      }
      cl->protocols[i] = wire__strdup(pr);
      if (cl->protocols[i] == NULL) {
        err = WIRE_ENOMEM;
        goto fail;
      }
      len += (size_t)sprintf(proto_hdr + len, "%s%s", i ? ", " : "", pr);
    }
  }
  char ext_hdr[256];
  if (o->deflate.enabled)
    wire__pmd_offer(&o->deflate, ext_hdr, sizeof(ext_hdr));
  const char *hdrs[64];
  size_t nh = 0;
  hdrs[nh++] = "Connection";
  hdrs[nh++] = "Upgrade";
  hdrs[nh++] = "Upgrade";
  hdrs[nh++] = "websocket";
  hdrs[nh++] = "Sec-WebSocket-Key";
  hdrs[nh++] = cl->key;
  hdrs[nh++] = "Sec-WebSocket-Version";
  hdrs[nh++] = "13";
  if (nprot > 0) {
    hdrs[nh++] = "Sec-WebSocket-Protocol";
    hdrs[nh++] = proto_hdr;
  }
  if (o->deflate.enabled) {
    hdrs[nh++] = "Sec-WebSocket-Extensions";
    hdrs[nh++] = ext_hdr;
  }
  if (o->origin != NULL) {
    hdrs[nh++] = "Origin";
    hdrs[nh++] = o->origin;
  }
  for (const char *const *h = o->headers; h != NULL && h[0] != NULL; h += 2) {
    if (nh + 3 > sizeof(hdrs) / sizeof(hdrs[0]) || h[1] == NULL) {
      err = WIRE_EINVAL;
      goto fail;
    }
    hdrs[nh++] = h[0];
    hdrs[nh++] = h[1];
  }
  hdrs[nh] = NULL;
  wire_http_request_opts_t ro = WIRE_HTTP_REQUEST_OPTS_INIT;
  ro.host = host;
  ro.port = port;
  ro.socket_path = o->socket_path;
  ro.path = path;
  ro.headers = hdrs;
  ro.no_agent = 1;
  /* wss://: the handshake goes over the HTTP client's TLS. */
  ro.tls = tls;
  ro.tls_ctx = o->tls_ctx;
  ro.servername = o->servername;
  ro.reject_unauthorized = o->reject_unauthorized;
  err = wire_http_request(loop, &ro, client_on_response, ws, &cl->req);
  if (err < 0)
    goto fail;
  wire__obj_ref(&ws->obj); /* the request's, until its close event */
  wire_http_client_req_on_upgrade(cl->req, client_on_upgrade);
  wire_http_client_req_on_error(cl->req, client_on_error);
  wire_http_client_req_on_close(cl->req, client_on_close);
  wire_http_client_req_end(cl->req, NULL, 0);
  if (o->handshake_timeout_ms &&
      wire_timer_create(loop, &cl->timer) == 0) {
    wire_timer_set_data(cl->timer, ws);
    wire_timer_start(cl->timer, o->handshake_timeout_ms, 0,
                     on_handshake_timeout);
  }
  *out = ws;
  return 0;

fail:
  client_free(ws);
  wire__obj_unref(&ws->obj);
  return err;
}
