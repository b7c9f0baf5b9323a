/* ws: WebSocket (RFC 6455) with permessage-deflate (RFC 7692), in the
 * shape of Node's `ws` package: a server attached to an http or https
 * server, a client for ws:// URLs, and one connection object for both.
 *
 *   Node (ws package)                      wire
 *   new WebSocketServer({server, path})    wire_ws_server_create(loop, &o, &srv)
 *                                          + wire_ws_server_attach(srv, http)
 *   wss.handleUpgrade(req, sock, head)     wire_ws_server_handle_upgrade
 *   wss.on('connection', (ws, req))        wire_ws_server_on_connection
 *   wss.clients.forEach(c => c.send(m))    wire_ws_server_broadcast
 *   new WebSocket(url, protocols, opts)    wire_ws_connect(loop, url, &o, &ws)
 *   ws.on('open'|'message'|'close'...)     wire_ws_on_open / _message / _close
 *   ws.send(data, {binary, fin, compress}) wire_ws_send(ws, data, len, flags)
 *   ws.ping() / ws.pong()                  wire_ws_ping / wire_ws_pong
 *   ws.close(code, reason)                 wire_ws_close(ws, code, reason)
 *   ws.terminate()                         wire_ws_terminate(ws)
 *   ws.bufferedAmount, readyState          wire_ws_buffered_amount / _ready_state
 *   ws.protocol, ws.extensions             wire_ws_protocol / _extensions
 *
 * A connection (wire_ws_t) lives from the connection event (server) or
 * wire_ws_connect (client) until its close event, always the last one;
 * the memory is freed when that callback returns. Events on a connection:
 * open (client only: a server's connection is open from the start),
 * message, ping, pong, drain, error (then close follows), close. Closing
 * or terminating from inside any of its callbacks is safe.
 *
 * Full guide and the Node -> wire table: docs/ws.md. */
#ifndef WIRE_WS_H
#define WIRE_WS_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "http.h"
#include "loop.h"
#include "stream.h"
#include "tls.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wire_ws_s wire_ws_t;
typedef struct wire_ws_server_s wire_ws_server_t;

/* readyState, as the WebSocket API numbers it. */
enum {
  WIRE_WS_CONNECTING = 0,
  WIRE_WS_OPEN = 1,
  WIRE_WS_CLOSING = 2,
  WIRE_WS_CLOSED = 3
};

/* permessage-deflate (RFC 7692) settings, for a server (what it accepts)
 * or a client (what it offers). */
typedef struct {
  int enabled;
  /* Ask for (client) or impose (server) a fresh compression context per
   * message on that side: less memory, worse ratio. */
  int server_no_context_takeover;
  int client_no_context_takeover;
  /* The LZ77 window of that side's compressor, 9..15 (zlib cannot
   * deflate raw data with 8, so wire never agrees to 8 for its own side).
   * 0: not limited (15). */
  int server_max_window_bits;
  int client_max_window_bits;
  /* Messages shorter than this are sent uncompressed (the ws package's
   * threshold). 0: 1024. */
  size_t threshold;
  int level; /* zlib level 1..9; 0: zlib's default (6) */
} wire_ws_deflate_opts_t;

#define WIRE_WS_DEFLATE_OPTS_INIT {0, 0, 0, 0, 0, 0, 0}

/* ---- connections ------------------------------------------------------- */

typedef void (*wire_ws_event_cb)(wire_ws_t *ws, void *data);
/* A whole message (fragments joined, inflated): the bytes are valid during
 * the call only. Text is valid UTF-8 (checked before the call). */
typedef void (*wire_ws_message_cb)(wire_ws_t *ws, const char *buf,
                                   size_t len, int is_binary, void *data);
/* ping / pong with their payload (at most 125 bytes). A ping is answered
 * with a pong by wire before this runs. */
typedef void (*wire_ws_control_cb)(wire_ws_t *ws, const char *buf,
                                   size_t len, void *data);
/* close: the code the peer sent (1005 if its close frame had none, 1006
 * when no close frame came: a reset, a terminate, a failed handshake or a
 * protocol error of ours: see docs/ws.md), and its reason (UTF-8, not
 * NUL-terminated, valid during the call). The last event. */
typedef void (*wire_ws_close_cb)(wire_ws_t *ws, unsigned code,
                                 const char *reason, size_t reason_len,
                                 void *data);
/* error: WIRE_EWSPROTO (the peer broke the protocol: we closed with 1002
 * or 1007), WIRE_ETOOBIG (a message over max_payload: 1009), a socket's
 * error, or for a client a failed handshake (WIRE_EWSPROTO, with the
 * reason in wire_ws_last_error), WIRE_ETIMEDOUT. close follows. */
typedef void (*wire_ws_error_cb)(wire_ws_t *ws, int err, void *data);

WIRE_EXTERN void wire_ws_on_open(wire_ws_t *ws, wire_ws_event_cb cb);
WIRE_EXTERN void wire_ws_on_message(wire_ws_t *ws, wire_ws_message_cb cb);
WIRE_EXTERN void wire_ws_on_ping(wire_ws_t *ws, wire_ws_control_cb cb);
WIRE_EXTERN void wire_ws_on_pong(wire_ws_t *ws, wire_ws_control_cb cb);
WIRE_EXTERN void wire_ws_on_drain(wire_ws_t *ws, wire_ws_event_cb cb);
WIRE_EXTERN void wire_ws_on_error(wire_ws_t *ws, wire_ws_error_cb cb);
WIRE_EXTERN void wire_ws_on_close(wire_ws_t *ws, wire_ws_close_cb cb);

WIRE_EXTERN void wire_ws_set_data(wire_ws_t *ws, void *data);
WIRE_EXTERN void *wire_ws_data(const wire_ws_t *ws);
WIRE_EXTERN wire_loop_t *wire_ws_loop(const wire_ws_t *ws);

/* Flags of wire_ws_send. */
enum {
  WIRE_WS_SEND_BINARY = 1u << 0, /* a binary message (else text) */
  /* Not the last fragment (Node's fin: false): the message goes on with
   * the next wire_ws_send calls (their BINARY flag is ignored) until one
   * without this flag. Other data messages cannot be sent meanwhile
   * (WIRE_EBUSY); pings, pongs and close can. */
  WIRE_WS_SEND_MORE = 1u << 1,
  /* With permessage-deflate: do not compress this message (Node's
   * compress: false). Read at a message's first fragment. */
  WIRE_WS_SEND_NO_COMPRESS = 1u << 2
};

/* Sends a message (or a fragment of one, see WIRE_WS_SEND_MORE); the
 * bytes are copied. A text message must be valid UTF-8 (not checked
 * here; wire_ws_send_text neither: the peer fails the connection on bad
 * text). Returns 1 while the socket's write queue is under its high-water
 * mark, 0 above it (wait for the drain event: backpressure, as a stream
 * write), or WIRE_ECLOSED (not open: connecting, closing, closed),
 * WIRE_EBUSY (another message is being fragmented), WIRE_ENOBUFS (the
 * queue is at its cap), WIRE_ENOMEM. */
WIRE_EXTERN int wire_ws_send(wire_ws_t *ws, const void *buf, size_t len,
                             unsigned flags);
WIRE_EXTERN int wire_ws_send_text(wire_ws_t *ws, const char *buf,
                                  size_t len);
WIRE_EXTERN int wire_ws_send_binary(wire_ws_t *ws, const void *buf,
                                    size_t len);

/* A ping or pong with up to 125 bytes of payload (WIRE_EINVAL past it).
 * Returns as wire_ws_send. */
WIRE_EXTERN int wire_ws_ping(wire_ws_t *ws, const void *buf, size_t len);
WIRE_EXTERN int wire_ws_pong(wire_ws_t *ws, const void *buf, size_t len);

/* Starts the closing handshake: sends a close frame with code (0: none;
 * else 1000, or 3000-4999 for applications) and reason (UTF-8, may be
 * NULL, at most 123 bytes), then waits for the peer's close frame and
 * the end of the connection; after close_timeout_ms the socket is
 * destroyed. Returns 0, WIRE_EINVAL (code or reason not allowed),
 * WIRE_EALREADY (already closing). While connecting (client), it aborts
 * the handshake instead. */
WIRE_EXTERN int wire_ws_close(wire_ws_t *ws, unsigned code,
                              const char *reason);
/* Node's terminate(): destroys the socket now; close (1006) follows on a
 * later turn. Safe at any stage; a no-op once closed. */
WIRE_EXTERN void wire_ws_terminate(wire_ws_t *ws);

/* Bytes accepted by send and not yet handed to the kernel. */
WIRE_EXTERN size_t wire_ws_buffered_amount(const wire_ws_t *ws);
WIRE_EXTERN int wire_ws_ready_state(const wire_ws_t *ws);
/* The subprotocol agreed on ("" if none) and the extensions agreed on
 * ("permessage-deflate; ..." as sent in the handshake, "" if none). Owned
 * by the connection. */
WIRE_EXTERN const char *wire_ws_protocol(const wire_ws_t *ws);
WIRE_EXTERN const char *wire_ws_extensions(const wire_ws_t *ws);
/* Why the last error happened, in words (a handshake failure's reason, the
 * protocol rule the peer broke), or NULL. Owned by the connection. */
WIRE_EXTERN const char *wire_ws_last_error(const wire_ws_t *ws);
/* The server of a server-side connection, else NULL. */
WIRE_EXTERN wire_ws_server_t *wire_ws_server(const wire_ws_t *ws);
/* The underlying stream once open (for addresses, TLS details), else
 * NULL. Do not read from it or write to it. */
WIRE_EXTERN wire_socket_t *wire_ws_socket(const wire_ws_t *ws);

/* ---- the server -------------------------------------------------------- */

/* verifyClient: accept (return 1) or refuse (return 0: the request is
 * answered with *status, 401 unless set, and the socket closed) an
 * upgrade request: check its Origin, cookies, path... Synchronous. */
typedef int (*wire_ws_verify_cb)(wire_ws_server_t *srv, wire_http_req_t *req,
                                 int *status, void *data);
/* handleProtocols: the client offered protocols[0..n-1] (n >= 1); return
 * one of them (the pointer), or NULL to agree on none. Without it the
 * first offered protocol is chosen, as the ws package does. */
typedef const char *(*wire_ws_protocol_cb)(wire_ws_server_t *srv,
                                           const char *const *protocols,
                                           size_t n, wire_http_req_t *req,
                                           void *data);

typedef struct {
  /* Only upgrade requests for this path (the URL before any '?') are
   * taken; NULL: any path. Copied. */
  const char *path;
  uint64_t max_payload;   /* per message, after inflating; 0: 100 MiB */
  unsigned max_fragments; /* frames per message; 0: 65536 */
  wire_ws_deflate_opts_t deflate; /* off unless deflate.enabled */
  /* Ping every connection every heartbeat_ms and terminate those that did
   * not answer the previous ping with a pong. 0: off. */
  uint64_t heartbeat_ms;
  uint64_t close_timeout_ms; /* close handshake; 0: 30000 (the ws package) */
  wire_ws_verify_cb verify;
  wire_ws_protocol_cb protocols;
} wire_ws_server_opts_t;

#define WIRE_WS_SERVER_OPTS_INIT                                             \
  {NULL, 0, 0, WIRE_WS_DEFLATE_OPTS_INIT, 0, 0, NULL, NULL}

/* connection: a client completed the handshake; ws is open. req (the
 * upgrade request) is valid during the call only. Set the connection's
 * events here: messages that came with the handshake are read right
 * after this returns. */
typedef void (*wire_ws_connection_cb)(wire_ws_server_t *srv, wire_ws_t *ws,
                                      wire_http_req_t *req, void *data);
/* error: a handshake was refused (err WIRE_EWSPROTO with 400/426, or
 * WIRE_ECANCELED by verify): for logging; the server goes on. */
typedef void (*wire_ws_server_error_cb)(wire_ws_server_t *srv, int err,
                                        void *data);
typedef void (*wire_ws_server_event_cb)(wire_ws_server_t *srv, void *data);

/* A server (no listening socket of its own: attach it to an http or https
 * server, or pass it upgrades). o may be NULL. */
WIRE_EXTERN int wire_ws_server_create(wire_loop_t *loop,
                                      const wire_ws_server_opts_t *o,
                                      wire_ws_server_t **out);

/* Takes the upgrade requests of http_srv whose path is this server's: it
 * sets http_srv's upgrade event (replacing any other handler) to a
 * dispatcher shared by every ws server attached to http_srv, so several
 * ws servers with different paths can share one http server. Upgrades no
 * attached server takes are answered with 400. Returns 0, WIRE_EALREADY
 * (attached already), WIRE_ENOMEM. */
WIRE_EXTERN int wire_ws_server_attach(wire_ws_server_t *srv,
                                      wire_http_server_t *http_srv);

/* Handles one upgrade request from the caller's own http upgrade event
 * (Node's handleUpgrade): the socket and head are the event's. On success
 * the connection event runs before this returns; on failure the request is
 * answered (400, 426, or verify's status) and the socket closed. Whether
 * the path matches is not checked here. Returns 0 or the error. */
WIRE_EXTERN int wire_ws_server_handle_upgrade(wire_ws_server_t *srv,
                                              wire_http_req_t *req,
                                              wire_socket_t *s,
                                              const char *head, size_t len);

WIRE_EXTERN void wire_ws_server_on_connection(wire_ws_server_t *srv,
                                              wire_ws_connection_cb cb);
WIRE_EXTERN void wire_ws_server_on_error(wire_ws_server_t *srv,
                                         wire_ws_server_error_cb cb);
WIRE_EXTERN void wire_ws_server_set_data(wire_ws_server_t *srv, void *data);
WIRE_EXTERN void *wire_ws_server_data(const wire_ws_server_t *srv);

/* Open connections of the server (Node's wss.clients.size). */
WIRE_EXTERN unsigned wire_ws_server_clients(const wire_ws_server_t *srv);
/* Sends one message to every open connection (flags as wire_ws_send,
 * WIRE_WS_SEND_MORE excepted). Returns how many took it. */
WIRE_EXTERN int wire_ws_server_broadcast(wire_ws_server_t *srv,
                                         const void *buf, size_t len,
                                         unsigned flags);
/* Calls fn for every open connection (in no set order); fn may close the
 * connection it is given. */
typedef void (*wire_ws_each_cb)(wire_ws_t *ws, void *arg);
WIRE_EXTERN void wire_ws_server_each(wire_ws_server_t *srv, wire_ws_each_cb fn,
                                     void *arg);

/* Stops taking upgrades (detaches from the http server), closes every
 * connection with 1001 (going away), and runs cb (may be NULL) on a later
 * turn once the last one is gone; then the server is freed. Connections
 * that do not finish the closing handshake are destroyed after
 * close_timeout_ms. The http server is not closed. */
WIRE_EXTERN void wire_ws_server_close(wire_ws_server_t *srv,
                                      wire_ws_server_event_cb cb);

/* ---- the client -------------------------------------------------------- */

/* unexpected-response: the server did not answer 101. The status and the
 * response's headers (wire_ws_response_header) are readable during the
 * call. Without a handler, error (WIRE_EWSPROTO) is reported instead;
 * close (1006) follows either way. */
typedef void (*wire_ws_response_cb)(wire_ws_t *ws, int status, void *data);

typedef struct {
  const char *const *protocols; /* NULL-terminated, offered in order */
  const char *const *headers;   /* extra: name, value, ..., NULL */
  const char *origin;           /* sent as Origin; NULL: none */
  uint64_t max_payload;         /* 0: 100 MiB */
  unsigned max_fragments;       /* 0: 65536 */
  wire_ws_deflate_opts_t deflate; /* offered when deflate.enabled */
  uint64_t handshake_timeout_ms;  /* 0: none (as the ws package) */
  uint64_t close_timeout_ms;      /* 0: 30000 */
  const char *socket_path; /* connect to this Unix socket instead */
  /* wss:// only: TLS as the HTTPS client does it (verify by default). */
  wire_tls_ctx_t *tls_ctx;  /* NULL: system CAs */
  int reject_unauthorized;  /* 1: verify the server (the default) */
  const char *servername;   /* SNI and the name checked; NULL: the host */
} wire_ws_connect_opts_t;

#define WIRE_WS_CONNECT_OPTS_INIT                                            \
  {NULL, NULL, NULL, 0, 0, {1, 0, 0, 0, 0, 0, 0}, 0, 0, NULL, NULL, 1, NULL}

/* Connects to url ("ws://" or "wss://host[:port][/path][?query]"; IPv6
 * hosts in brackets) and starts the handshake. Returns 0 and sets *out at
 * once (set its events now); open or error+close follow on later turns
 * (a TLS failure is an error, WIRE_ETLS). WIRE_EINVAL for a URL it cannot
 * take, WIRE_ENOMEM. o may be NULL (the
 * defaults, which offer permessage-deflate as the ws package does). */
WIRE_EXTERN int wire_ws_connect(wire_loop_t *loop, const char *url,
                                const wire_ws_connect_opts_t *o,
                                wire_ws_t **out);

WIRE_EXTERN void wire_ws_on_unexpected_response(wire_ws_t *ws,
                                                wire_ws_response_cb cb);
/* A header of the handshake's response (case-insensitive name), during
 * the open and unexpected-response events; NULL otherwise or if absent. */
WIRE_EXTERN const char *wire_ws_response_header(const wire_ws_t *ws,
                                                const char *name);

#ifdef __cplusplus
}
#endif
#endif
