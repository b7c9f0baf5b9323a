/* The HTTP client and its connection pool: Node's http.request, http.get
 * and http.Agent.
 *
 *   Node                                   wire
 *   http.request(options, cb)              wire_http_request(loop, &o, cb, arg, &req)
 *   http.get(url, cb)                      wire_http_get(loop, url, cb, arg, &req)
 *   req.setHeader / write / end            wire_http_client_req_set_header / _write / _end
 *   req.destroy()                          wire_http_client_req_close
 *   new http.Agent({maxSockets})           wire_agent_create(loop, &o, &agent)
 *   http.globalAgent                       wire_agent_global(loop)
 *   https.request(options, cb)             the same, with o.tls = 1 (https.h)
 *   new https.Agent({ca, key, cert})       wire_agent_create with o.tls_ctx
 *   agent.sockets / requests               wire_agent_stats
 *
 * A request object lives until its close event (the last one) has run;
 * the response belongs to it and lives as long. Events, in Node's order:
 * socket, (continue | information)*, response (the callback given to
 * wire_http_request) or upgrade / connect, response data... end,
 * timeout (any time), error, close. */
#ifndef WIRE_HTTP_CLIENT_H
#define WIRE_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "loop.h"
#include "stream.h"
#include "tls.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wire_http_client_req_s wire_http_client_req_t;
typedef struct wire_http_client_res_s wire_http_client_res_t;
typedef struct wire_agent_s wire_agent_t;

/* ---- the agent (connection pool) ----------------------------------------- */

typedef struct {
  unsigned max_sockets;      /* per origin (host:port:localAddress); 5 */
  unsigned max_free_sockets; /* idle sockets kept per origin; 256 */
  uint64_t free_socket_timeout_ms; /* idle socket lifetime; 5000 (Node 20);
                                      less when the server's Keep-Alive
                                      timeout is shorter (see the docs) */
  int keep_alive;            /* pool sockets at all; 1 */
  /* https.Agent(options): the context (ca, key/cert) of this agent's https
   * requests that bring none of their own; NULL: the system CAs. The agent
   * takes a reference. */
  wire_tls_ctx_t *tls_ctx;
  /* TLS sessions kept for resumption, one per https origin, the least
   * recently stored evicted first (Node's maxCachedSessions); 0: none. */
  unsigned max_cached_sessions; /* 100 */
} wire_agent_opts_t;

#define WIRE_AGENT_OPTS_INIT {5, 256, 5000, 1, NULL, 100}

/* Pool counts, per origin or summed over all (Node's agent.sockets,
 * agent.freeSockets, agent.requests). */
typedef struct {
  unsigned sockets;      /* in use by a request, connecting included */
  unsigned free_sockets; /* idle, kept for reuse */
  unsigned requests;     /* waiting for a socket */
  uint64_t created;      /* connections opened since the agent began */
  uint64_t reused;       /* requests that went out on a kept socket */
} wire_agent_stats_t;

WIRE_EXTERN int wire_agent_create(wire_loop_t *loop, const wire_agent_opts_t *o,
                                  wire_agent_t **out);
/* The loop's default agent (Node's http.globalAgent: keep-alive, 5 sockets
 * per origin as the seed describes), created on first use. It is
 * https.globalAgent too: https origins are pooled apart from http ones, by
 * their TLS options. It is closed by
 * wire_loop_close, so it never makes that return WIRE_EBUSY by itself. */
WIRE_EXTERN wire_agent_t *wire_agent_global(wire_loop_t *loop);
/* Counts for one origin (socket_path, or host and port; http and https
 * origins of that host and port are summed), or, with host and
 * socket_path NULL, summed over every origin. */
WIRE_EXTERN void wire_agent_stats(const wire_agent_t *agent, const char *host,
                                  int port, const char *socket_path,
                                  wire_agent_stats_t *out);
/* Closes the free sockets now and each busy one when its request is done;
 * queued requests fail with WIRE_ECANCELED. cb (may be NULL) runs when the
 * last socket is gone; then the agent is freed. */
typedef void (*wire_agent_close_cb)(wire_agent_t *agent, void *arg);
WIRE_EXTERN void wire_agent_close(wire_agent_t *agent, wire_agent_close_cb cb,
                                  void *arg);

/* ---- the request --------------------------------------------------------- */

typedef struct {
  const char *host;          /* name or IP; "localhost" if NULL */
  const char *hostname;      /* preferred over host when set (Node) */
  int port;                  /* 80 if 0 */
  const char *local_address; /* bind the connection to this local IP */
  const char *socket_path;   /* a Unix socket instead of host/port */
  const char *method;        /* "GET" if NULL */
  const char *path;          /* "/" if NULL; may hold a query; no bytes
                                <= 0x20 or DEL (WIRE_EINVAL) */
  const char *const *headers; /* NULL-terminated name, value, name, value */
  const char *auth;          /* "user:password": Basic Authorization */
  wire_agent_t *agent;       /* NULL: the global agent */
  int no_agent;              /* Node's agent: false: a fresh connection,
                                closed after the response */
  uint64_t timeout_ms;       /* idle socket timeout -> timeout event */
  size_t max_header_size;    /* response head; 16 KiB if 0 */
  uint64_t max_body_size;    /* response body cap; 0: none. Past it: error
                                WIRE_ETOOBIG and the connection closes */
  /* https (Node's https.request). The agent pools https connections by
   * host, port, local address and these options. */
  int tls;                   /* 1: HTTPS; port 443 if 0 */
  wire_tls_ctx_t *tls_ctx;   /* ca, key/cert for mutual TLS; NULL: the
                                agent's, else the system CAs */
  const char *servername;    /* SNI and the name checked; NULL: host (no
                                SNI for an IP address) */
  int reject_unauthorized;   /* 1: fail on a bad chain or host name (the
                                error is WIRE_ETLS); 0: accept them */
} wire_http_request_opts_t;

#define WIRE_HTTP_REQUEST_OPTS_INIT                                          \
  {NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0,      \
   0, NULL, NULL, 1}

typedef void (*wire_http_response_cb)(wire_http_client_req_t *req,
                                      wire_http_client_res_t *res,
                                      void *arg);
typedef void (*wire_http_client_event_cb)(wire_http_client_req_t *req,
                                          void *arg);
typedef void (*wire_http_client_req_error_cb)(wire_http_client_req_t *req,
                                          int err, void *arg);
typedef void (*wire_http_client_socket_cb)(wire_http_client_req_t *req,
                                           wire_socket_t *s, void *arg);
/* 1xx other than 101: status and the interim head's headers via res. */
typedef void (*wire_http_client_info_cb)(wire_http_client_req_t *req,
                                         wire_http_client_res_t *res,
                                         void *arg);
/* upgrade (101) and connect (2xx to CONNECT): the socket leaves HTTP and
 * is the caller's (close it when done); head holds bytes that came after
 * the response head, valid during the call. */
typedef void (*wire_http_client_upgrade_cb)(wire_http_client_req_t *req,
                                            wire_http_client_res_t *res,
                                            wire_socket_t *s,
                                            const char *head, size_t len,
                                            void *arg);

/* Starts a request. Returns 0 and sets *out at once, so events can be set
 * before anything happens. The head goes out with the first write or end;
 * call wire_http_client_req_end when the body (if any) is written. on_response
 * (may be NULL) runs once the response head arrived. Errors: WIRE_EINVAL
 * (bad options: a header, method, path or host with forbidden characters),
 * WIRE_ECLOSED (the agent is closing), WIRE_ENOMEM. */
WIRE_EXTERN int wire_http_request(wire_loop_t *loop,
                                  const wire_http_request_opts_t *o,
                                  wire_http_response_cb on_response,
                                  void *arg, wire_http_client_req_t **out);

/* GET of an "http://host[:port][/path]" or "https://..." URL (userinfo
 * becomes auth), ended at once: Node's http.get and https.get (the system
 * CAs, the global agent). WIRE_EINVAL for a URL it cannot take. */
WIRE_EXTERN int wire_http_get(wire_loop_t *loop, const char *url,
                              wire_http_response_cb on_response, void *arg,
                              wire_http_client_req_t **out);

WIRE_EXTERN void wire_http_client_req_on_socket(wire_http_client_req_t *req,
                                                wire_http_client_socket_cb cb);
WIRE_EXTERN void wire_http_client_req_on_continue(
    wire_http_client_req_t *req, wire_http_client_event_cb cb);
WIRE_EXTERN void wire_http_client_req_on_information(
    wire_http_client_req_t *req, wire_http_client_info_cb cb);
WIRE_EXTERN void wire_http_client_req_on_upgrade(
    wire_http_client_req_t *req, wire_http_client_upgrade_cb cb);
WIRE_EXTERN void wire_http_client_req_on_connect(
    wire_http_client_req_t *req, wire_http_client_upgrade_cb cb);
WIRE_EXTERN void wire_http_client_req_on_timeout(
    wire_http_client_req_t *req, wire_http_client_event_cb cb);
/* error: the request failed (connect, resolve, reset, parse error,
 * WIRE_ETOOBIG, ...), also after the response began (then the response
 * body is incomplete: a reset in the middle of the body is an error, never a
 * silent short body). close follows. */
WIRE_EXTERN void wire_http_client_req_on_error(wire_http_client_req_t *req,
                                               wire_http_client_req_error_cb cb);
WIRE_EXTERN void wire_http_client_req_on_close(wire_http_client_req_t *req,
                                               wire_http_client_event_cb cb);

/* setHeader before the head is sent (replaces a header of that name). */
WIRE_EXTERN int wire_http_client_req_set_header(wire_http_client_req_t *req,
                                                const char *name,
                                                const char *value);
/* Body bytes (copied). Without a Content-Length header, the body is sent
 * chunked. Returns 1, 0 above the high-water mark (wait for drain), < 0. */
WIRE_EXTERN int wire_http_client_req_write(wire_http_client_req_t *req,
                                           const void *buf, size_t len);
/* Finishes the request, with a last piece of body (may be NULL/0). With no
 * earlier write, a non-empty piece is sent with Content-Length. */
WIRE_EXTERN int wire_http_client_req_end(wire_http_client_req_t *req,
                                         const void *buf, size_t len);
WIRE_EXTERN void wire_http_client_req_on_drain(wire_http_client_req_t *req,
                                               wire_http_client_event_cb cb);
/* Node's req.destroy(): aborts the request at any stage (before it
 * started, queued, connecting, sent, response streaming); no error event,
 * close follows on a later turn; a connection with a response cut short
 * is closed, never reused. Closing from the response's end event leaves
 * the finished connection to the pool. Safe to call again until the close
 * event has run (the request is freed after it). */
WIRE_EXTERN void wire_http_client_req_close(wire_http_client_req_t *req);
WIRE_EXTERN void wire_http_client_req_set_data(wire_http_client_req_t *req,
                                               void *data);
WIRE_EXTERN void *wire_http_client_req_data(const wire_http_client_req_t *r);
/* Detail of the request's error, when there is more than its code: the
 * TLS reason ("certificate verify failed: unable to get local issuer
 * certificate", "hostname mismatch"...). NULL if none. Owned by the
 * request. */
WIRE_EXTERN const char *wire_http_client_req_error_reason(
    const wire_http_client_req_t *req);
/* Whether this request went out on a socket kept from an earlier one. */
WIRE_EXTERN int wire_http_client_req_reused_socket(
    const wire_http_client_req_t *req);

/* ---- the response (IncomingMessage) ------------------------------------- */

typedef void (*wire_http_client_data_cb)(wire_http_client_res_t *res,
                                         const char *buf, size_t len,
                                         void *arg);
typedef void (*wire_http_client_res_event_cb)(wire_http_client_res_t *res,
                                              void *arg);

WIRE_EXTERN int wire_http_client_res_status(const wire_http_client_res_t *r);
WIRE_EXTERN const char *wire_http_client_res_reason(
    const wire_http_client_res_t *res);
WIRE_EXTERN int wire_http_client_res_version(const wire_http_client_res_t *r);
WIRE_EXTERN const char *wire_http_client_res_header(
    const wire_http_client_res_t *res, const char *name);
WIRE_EXTERN size_t wire_http_client_res_header_count(
    const wire_http_client_res_t *res);
WIRE_EXTERN int wire_http_client_res_header_at(
    const wire_http_client_res_t *res, size_t i, const char **name,
    const char **value);
WIRE_EXTERN const char *wire_http_client_res_trailer(
    const wire_http_client_res_t *res, const char *name);
WIRE_EXTERN void wire_http_client_res_on_data(wire_http_client_res_t *res,
                                              wire_http_client_data_cb cb);
WIRE_EXTERN void wire_http_client_res_on_end(wire_http_client_res_t *res,
                                             wire_http_client_res_event_cb cb);
WIRE_EXTERN void wire_http_client_res_pause(wire_http_client_res_t *res);
WIRE_EXTERN void wire_http_client_res_resume(wire_http_client_res_t *res);
/* Node's res.complete: the whole body arrived. */
WIRE_EXTERN int wire_http_client_res_complete(
    const wire_http_client_res_t *res);
WIRE_EXTERN wire_http_client_req_t *wire_http_client_res_req(
    const wire_http_client_res_t *res);

#ifdef __cplusplus
}
#endif
#endif
