/* http: Node's http.Server on any wire stream (TCP, Unix, later TLS).
 *
 *   Node                                   wire
 *   http.createServer(opts, onRequest)     wire_http_server_create(loop, &o, cb, &srv)
 *   server.listen(port, host, cb)          wire_http_server_listen(srv, host, port, cb)
 *   server.on('request', (req, res))       the create callback / wire_http_server_on_request
 *   req.method, req.url, req.headers       wire_http_req_method/_url/_header
 *   req.on('data'), req.on('end')          wire_http_req_on_data / _on_end
 *   res.writeHead(200, headers)            wire_http_res_set_header + wire_http_res_write_head
 *   res.write(chunk), res.end(chunk)       wire_http_res_write / wire_http_res_end
 *
 * A request and its response live from the request event until the
 * response has been sent and the request body read (or discarded); then
 * both are freed. Views returned by the request accessors (method, url,
 * header names and values) stay valid for that whole life. */
#ifndef WIRE_HTTP_H
#define WIRE_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "loop.h"
#include "net.h"
#include "stream.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wire_http_server_s wire_http_server_t;
typedef struct wire_http_req_s wire_http_req_t;
typedef struct wire_http_res_s wire_http_res_t;

typedef struct {
  size_t max_header_size;         /* request line + headers; 16 KiB */
  unsigned max_headers_count;     /* 2000 (Node's maxHeadersCount) */
  uint64_t headers_timeout_ms;    /* 60000: whole header block */
  uint64_t request_timeout_ms;    /* 300000: whole request; 0: none */
  uint64_t keep_alive_timeout_ms; /* 5000: idle between requests */
  unsigned max_requests_per_socket; /* 0: no limit */
  int no_delay;                   /* TCP_NODELAY on connections (Node: on) */
} wire_http_server_opts_t;

#define WIRE_HTTP_SERVER_OPTS_INIT                                           \
  {16 * 1024, 2000, 60000, 300000, 5000, 0, 1}

typedef void (*wire_http_request_cb)(wire_http_server_t *srv,
                                     wire_http_req_t *req,
                                     wire_http_res_t *res, void *data);
typedef void (*wire_http_connection_cb)(wire_http_server_t *srv,
                                        wire_socket_t *s, void *data);
/* connect and upgrade: the raw socket is handed over (the server lets go
 * of it; close or keep it) with head, the bytes already read after the
 * request's headers, valid during the call. The server's close waits for
 * handed-over sockets to close, as Node's does. */
typedef void (*wire_http_upgrade_cb)(wire_http_server_t *srv,
                                     wire_http_req_t *req, wire_socket_t *s,
                                     const char *head, size_t head_len,
                                     void *data);
/* clientError: err is WIRE_EHTTPPARSE, WIRE_ETOOBIG or WIRE_ETIMEDOUT.
 * Without a handler wire answers 400/408/413/414/431/501/505 as fits and
 * closes. With one, the socket is handed over as for an upgrade: the
 * handler owns it (write a response and end it, or close it); no timeout
 * applies to it any more. The server's close still waits for it, as for
 * upgraded sockets (Node does the same). */
typedef void (*wire_http_client_error_cb)(wire_http_server_t *srv,
                                          wire_socket_t *s, int err,
                                          void *data);
typedef void (*wire_http_server_event_cb)(wire_http_server_t *srv,
                                          void *data);
typedef void (*wire_http_listen_cb)(wire_http_server_t *srv, int status,
                                    void *data);

/* A server; o may be NULL for Node's defaults. */
WIRE_EXTERN int wire_http_server_create(wire_loop_t *loop,
                                        const wire_http_server_opts_t *o,
                                        wire_http_request_cb on_request,
                                        wire_http_server_t **out);

/* Listens like wire_server_listen and prints nothing. */
WIRE_EXTERN int wire_http_server_listen(wire_http_server_t *srv,
                                        const char *host, int port,
                                        wire_http_listen_cb cb);
WIRE_EXTERN int wire_http_server_listen_path(wire_http_server_t *srv,
                                             const char *path,
                                             wire_http_listen_cb cb);
/* The address the server listens on; WIRE_ENOTCONN before listen and
 * from wire_http_server_close on (responses may still be finishing). */
WIRE_EXTERN int wire_http_server_address(const wire_http_server_t *srv,
                                         wire_addr_t *out);

/* Serves HTTP on a stream the caller connected or accepted itself (a TLS
 * socket, a socket from another server). The HTTP server owns it from now
 * on. */
WIRE_EXTERN int wire_http_server_attach(wire_http_server_t *srv,
                                        wire_socket_t *s);

WIRE_EXTERN void wire_http_server_on_request(wire_http_server_t *srv,
                                             wire_http_request_cb cb);
WIRE_EXTERN void wire_http_server_on_connection(wire_http_server_t *srv,
                                                wire_http_connection_cb cb);
/* checkContinue: a request with "Expect: 100-continue". Unset: wire sends
 * "100 Continue" itself and fires request. Set: call
 * wire_http_res_write_continue (or answer with a final status). */
WIRE_EXTERN void wire_http_server_on_check_continue(wire_http_server_t *srv,
                                                    wire_http_request_cb cb);
/* checkExpectation: any other Expect value. Unset: 417. */
WIRE_EXTERN void wire_http_server_on_check_expectation(
    wire_http_server_t *srv, wire_http_request_cb cb);
WIRE_EXTERN void wire_http_server_on_connect(wire_http_server_t *srv,
                                             wire_http_upgrade_cb cb);
WIRE_EXTERN void wire_http_server_on_upgrade(wire_http_server_t *srv,
                                             wire_http_upgrade_cb cb);
WIRE_EXTERN void wire_http_server_on_client_error(
    wire_http_server_t *srv, wire_http_client_error_cb cb);
WIRE_EXTERN void wire_http_server_on_listening(wire_http_server_t *srv,
                                               wire_http_server_event_cb cb);
WIRE_EXTERN void wire_http_server_on_close(wire_http_server_t *srv,
                                           wire_http_server_event_cb cb);

WIRE_EXTERN void wire_http_server_set_data(wire_http_server_t *srv,
                                           void *data);
WIRE_EXTERN void *wire_http_server_data(const wire_http_server_t *srv);
WIRE_EXTERN wire_loop_t *wire_http_server_loop(const wire_http_server_t *s);
WIRE_EXTERN unsigned wire_http_server_connections(
    const wire_http_server_t *srv);

/* Graceful close: stops accepting, closes idle keep-alive connections at
 * once and each busy one after its in-flight response; the close event and
 * cb run when the last connection is gone. */
WIRE_EXTERN void wire_http_server_close(wire_http_server_t *srv,
                                        wire_http_server_event_cb cb);
/* Node's closeAllConnections(): destroys every connection now. */
WIRE_EXTERN void wire_http_server_close_all(wire_http_server_t *srv);

/* ---- the request (Node's IncomingMessage) ------------------------------ */

typedef void (*wire_http_req_data_cb)(wire_http_req_t *req, const char *buf,
                                      size_t len, void *data);
typedef void (*wire_http_req_event_cb)(wire_http_req_t *req, void *data);

WIRE_EXTERN const char *wire_http_req_method(const wire_http_req_t *req);
WIRE_EXTERN const char *wire_http_req_url(const wire_http_req_t *req);
/* 10 for HTTP/1.0, 11 for HTTP/1.1. */
WIRE_EXTERN int wire_http_req_version(const wire_http_req_t *req);
/* The first value of a header, by case-insensitive name; NULL if absent. */
WIRE_EXTERN const char *wire_http_req_header(const wire_http_req_t *req,
                                             const char *name);
/* Raw headers in arrival order (Node's rawHeaders): 0 <= i < count. */
WIRE_EXTERN size_t wire_http_req_header_count(const wire_http_req_t *req);
WIRE_EXTERN int wire_http_req_header_at(const wire_http_req_t *req, size_t i,
                                        const char **name,
                                        const char **value);
/* Trailers of a chunked body, valid from the end event on. */
WIRE_EXTERN const char *wire_http_req_trailer(const wire_http_req_t *req,
                                              const char *name);
WIRE_EXTERN wire_socket_t *wire_http_req_socket(const wire_http_req_t *req);

/* Body: data events, then end. Pausing the request pauses the socket. */
WIRE_EXTERN void wire_http_req_on_data(wire_http_req_t *req,
                                       wire_http_req_data_cb cb);
WIRE_EXTERN void wire_http_req_on_end(wire_http_req_t *req,
                                      wire_http_req_event_cb cb);
WIRE_EXTERN void wire_http_req_pause(wire_http_req_t *req);
WIRE_EXTERN void wire_http_req_resume(wire_http_req_t *req);
WIRE_EXTERN void wire_http_req_set_data(wire_http_req_t *req, void *data);
WIRE_EXTERN void *wire_http_req_data(const wire_http_req_t *req);

/* ---- the response (Node's ServerResponse) ------------------------------ */

typedef void (*wire_http_res_event_cb)(wire_http_res_t *res, void *data);

/* statusCode / statusMessage before the head is sent. reason NULL: the
 * standard phrase. */
WIRE_EXTERN int wire_http_res_set_status(wire_http_res_t *res, int status,
                                         const char *reason);
/* setHeader: replaces any value of that name (case-insensitive). Copies.
 * WIRE_EINVAL for a name or value with forbidden characters (no CR/LF
 * injection), WIRE_EALREADY once the head is sent. */
WIRE_EXTERN int wire_http_res_set_header(wire_http_res_t *res,
                                         const char *name, const char *value);
/* appendHeader: adds one more line with that name. */
WIRE_EXTERN int wire_http_res_append_header(wire_http_res_t *res,
                                            const char *name,
                                            const char *value);
WIRE_EXTERN const char *wire_http_res_get_header(const wire_http_res_t *res,
                                                 const char *name);
WIRE_EXTERN int wire_http_res_remove_header(wire_http_res_t *res,
                                            const char *name);
/* writeHead: sets the status and fixes the head with the headers set so
 * far (Date, and Content-Length or chunked, added as fits): from here
 * set_header, append/remove_header, set_status and write_head answer
 * WIRE_EALREADY and headers_sent is 1, as in Node. The bytes go out with
 * the first write or end, so end(data) still sends a Content-Length. An
 * interim status (1xx but 101) is sent at once and fixes nothing. */
WIRE_EXTERN int wire_http_res_write_head(wire_http_res_t *res, int status,
                                         const char *reason);
WIRE_EXTERN int wire_http_res_flush_headers(wire_http_res_t *res);
/* Body bytes (copied). Returns 1, 0 when the socket is above its
 * high-water mark (wait for the drain event), or < 0. */
WIRE_EXTERN int wire_http_res_write(wire_http_res_t *res, const void *buf,
                                    size_t len);
/* Trailers for a chunked response, sent by end. */
WIRE_EXTERN int wire_http_res_add_trailer(wire_http_res_t *res,
                                          const char *name,
                                          const char *value);
/* Finishes the response, with a last chunk of body (may be NULL/0). With
 * nothing written yet and no Content-Length set, sends Content-Length. */
WIRE_EXTERN int wire_http_res_end(wire_http_res_t *res, const void *buf,
                                  size_t len);
/* Node's res.destroy(): ends the connection (what was written is flushed,
 * then the FIN: a body cut short stays short, the client sees the close)
 * and releases the response as end does. For a response whose bytes cannot all be produced (a file that
 * shrank, a read error). */
WIRE_EXTERN void wire_http_res_close(wire_http_res_t *res);

/* Sends "HTTP/1.1 100 Continue". */
WIRE_EXTERN int wire_http_res_write_continue(wire_http_res_t *res);
WIRE_EXTERN int wire_http_res_headers_sent(const wire_http_res_t *res);
/* drain (after a write returned 0), finish (handed to the kernel), close
 * (the connection closed before the response finished). */
WIRE_EXTERN void wire_http_res_on_drain(wire_http_res_t *res,
                                        wire_http_res_event_cb cb);
WIRE_EXTERN void wire_http_res_on_finish(wire_http_res_t *res,
                                         wire_http_res_event_cb cb);
WIRE_EXTERN void wire_http_res_on_close(wire_http_res_t *res,
                                        wire_http_res_event_cb cb);
WIRE_EXTERN void wire_http_res_set_data(wire_http_res_t *res, void *data);
WIRE_EXTERN void *wire_http_res_data(const wire_http_res_t *res);
WIRE_EXTERN wire_http_req_t *wire_http_res_req(const wire_http_res_t *res);

/* The standard reason phrase of a status code ("Not Found"), or "". */
WIRE_EXTERN const char *wire_http_status_text(int status);

#ifdef __cplusplus
}
#endif
#endif
