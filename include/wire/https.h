/* https: Node's https module, the HTTP server and client over TLS.
 *
 *   Node                                   wire
 *   https.createServer(opts, onRequest)    wire_https_server_create(loop, &o, cb, &srv)
 *   server.listen(port, host, cb)          wire_https_server_listen(srv, host, port, cb)
 *   server.on('request' | 'upgrade' ...)   wire_http_server_on_*(wire_https_server_http(srv), ...)
 *   server.on('tlsClientError')            wire_https_server_on_tls_client_error(srv, cb)
 *   server.setSecureContext(opts)          wire_tls_server_set_ctx(wire_https_server_tls(srv), ctx)
 *   server.close(cb)                       wire_https_server_close(srv, cb)
 *   https.request(opts, cb)                wire_http_request with o.tls = 1 (http_client.h)
 *   https.get(url, cb)                     wire_http_get(loop, "https://...", cb, arg, &req)
 *   new https.Agent({ca, key, cert, ...})  wire_agent_create with o.tls_ctx (http_client.h)
 *   https.globalAgent                      wire_agent_global(loop) (pools http and https apart)
 *
 * An HTTPS server is two objects working as one: a TLS server that
 * accepts and handshakes connections, and an HTTP server that serves each
 * secure connection (wire_http_server_attach). Requests, responses and
 * every HTTP event are the HTTP server's, unchanged: the request callback
 * receives wire_https_server_http(srv). Each request's socket is the TLS
 * socket (wire_tls_authorized, wire_tls_peer_cert... work on it). */
#ifndef WIRE_HTTPS_H
#define WIRE_HTTPS_H

#include "export.h"
#include "http.h"
#include "http_client.h"
#include "loop.h"
#include "net.h"
#include "tls.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wire_https_server_s wire_https_server_t;

typedef struct {
  wire_http_server_opts_t http; /* limits and timeouts, as for HTTP */
  /* tls.ctx (key and certificate) is required; request_cert and
   * reject_unauthorized ask for client certificates; alpn NULL offers
   * "http/1.1" (as Node's https server). */
  wire_tls_server_opts_t tls;
} wire_https_server_opts_t;

#define WIRE_HTTPS_SERVER_OPTS_INIT                                            \
  {                                                                            \
    WIRE_HTTP_SERVER_OPTS_INIT, WIRE_TLS_SERVER_OPTS_INIT                      \
  }

typedef void (*wire_https_server_event_cb)(wire_https_server_t *srv,
                                           void *data);
typedef void (*wire_https_listen_cb)(wire_https_server_t *srv, int status,
                                     void *data);
/* tlsClientError: a connection failed before or during its handshake
 * (WIRE_ETLS, WIRE_ETIMEDOUT, WIRE_ECONNRESET...); reason is OpenSSL's text
 * or NULL, remote may be NULL. wire closes it; the server goes on. */
typedef void (*wire_https_tls_error_cb)(wire_https_server_t *srv, int err,
                                        const char *reason,
                                        const wire_addr_t *remote, void *data);

/* Node's https.createServer(options, onRequest). o->tls.ctx is required
 * (the server takes its own reference). on_request (may be NULL) is the
 * HTTP server's request event. Returns 0 and sets *out, or WIRE_EINVAL (no
 * context), WIRE_ENOMEM. Prints nothing. */
WIRE_EXTERN int wire_https_server_create(wire_loop_t *loop,
                                         const wire_https_server_opts_t *o,
                                         wire_http_request_cb on_request,
                                         wire_https_server_t **out);

/* The HTTP server behind it: set its events (request, connection, upgrade,
 * connect, checkContinue, clientError, close...) there. Do not listen,
 * attach or close it directly: the HTTPS server does. */
WIRE_EXTERN wire_http_server_t *
wire_https_server_http(const wire_https_server_t *srv);
/* The TLS server behind it: its secure context (wire_tls_server_set_ctx)
 * and connection counts. Its events and user pointer are the HTTPS
 * server's own: do not set them, nor close it directly. */
WIRE_EXTERN wire_tls_server_t *
wire_https_server_tls(const wire_https_server_t *srv);

/* As wire_http_server_listen: cb (may be NULL) runs once, after the
 * listening event, with 0 or the error (WIRE_EADDRINUSE...). */
WIRE_EXTERN int wire_https_server_listen(wire_https_server_t *srv,
                                         const char *host, int port,
                                         wire_https_listen_cb cb);
WIRE_EXTERN int wire_https_server_listen_path(wire_https_server_t *srv,
                                              const char *path,
                                              wire_https_listen_cb cb);
/* As wire_http_server_address: WIRE_ENOTCONN from close on. */
WIRE_EXTERN int wire_https_server_address(const wire_https_server_t *srv,
                                          wire_addr_t *out);

WIRE_EXTERN void wire_https_server_on_listening(wire_https_server_t *srv,
                                                wire_https_server_event_cb cb);
WIRE_EXTERN void wire_https_server_on_tls_client_error(
    wire_https_server_t *srv, wire_https_tls_error_cb cb);
/* The user pointer, passed to the HTTPS callbacks and also set as the
 * HTTP server's (so request callbacks receive it as data). */
WIRE_EXTERN void wire_https_server_set_data(wire_https_server_t *srv,
                                            void *data);
WIRE_EXTERN void *wire_https_server_data(const wire_https_server_t *srv);

/* Graceful close, as wire_http_server_close: stops accepting, closes idle
 * keep-alive connections now and busy ones after their response;
 * connections still handshaking are closed when their handshake ends. cb
 * (may be NULL) runs once the last connection is gone, on a later turn;
 * then the server is freed. Closing twice is a bug. */
WIRE_EXTERN void wire_https_server_close(wire_https_server_t *srv,
                                         wire_https_server_event_cb cb);
/* Destroys every connection now, handshaking ones too. */
WIRE_EXTERN void wire_https_server_close_all(wire_https_server_t *srv);

#ifdef __cplusplus
}
#endif
#endif
