/* The HTTPS server: Node's https.createServer, as a TLS server whose
 * secure connections are served by an HTTP server.
 *
 * The TLS server (src/tls) listens, accepts and runs each handshake; a
 * connection that completes it is handed to the HTTP server with
 * wire_http_server_attach, which owns it from then on (parser, timeouts,
 * keep-alive, upgrades). A failed handshake never reaches HTTP: it is the
 * tlsClientError event. No protocol code is duplicated here: this file
 * only joins the two servers' lives.
 *
 * Close: both servers close at once. The TLS server stops accepting and
 * its close completes when its last connection (handed over or still
 * handshaking) has closed; the HTTP server closes idle keep-alive
 * connections and each busy one after its response. A handshake that ends
 * after the HTTP server began closing is refused by attach and its socket
 * closed. The user's close callback runs when both are done; then the
 * HTTPS server is freed. */
#include <assert.h>
#include <string.h>

#include "../core/internal.h"
#include "wire/https.h"

struct wire_https_server_s {
  wire_loop_t *loop;
  wire_http_server_t *http;
  wire_tls_server_t *tls;
  wire_https_server_event_cb on_listening;
  wire_https_tls_error_cb on_tls_client_error;
  wire_https_listen_cb listen_cb;
  wire_https_server_event_cb close_cb;
  void *data;
  wire_https_server_t *next_closing; /* this thread's closing servers */
  unsigned closing : 1;
  unsigned http_closed : 1;
  unsigned tls_closed : 1;
};

static void on_secure(wire_tls_server_t *tls, wire_socket_t *s, void *data)
{
  (void)tls;
  wire_https_server_t *srv = data;
  /* After close began, the HTTP server takes no more connections. */
  if (wire_http_server_attach(srv->http, s) < 0)
    wire_socket_close(s, NULL);
}

static void on_tls_client_error(wire_tls_server_t *tls, int err,
                                const char *reason, const wire_addr_t *remote,
                                void *data)
{
  (void)tls;
  wire_https_server_t *srv = data;
  if (srv->on_tls_client_error != NULL)
    srv->on_tls_client_error(srv, err, reason, remote, srv->data);
}

static void on_tls_listening(wire_tls_server_t *tls, void *data)
{
  (void)tls;
  wire_https_server_t *srv = data;
  if (srv->on_listening != NULL)
    srv->on_listening(srv, srv->data);
}

static void on_tls_listen(wire_tls_server_t *tls, int status, void *data)
{
  (void)tls;
  wire_https_server_t *srv = data;
  wire_https_listen_cb cb = srv->listen_cb;
  srv->listen_cb = NULL;
  if (cb != NULL)
    cb(srv, status, srv->data);
}

int wire_https_server_create(wire_loop_t *loop,
                             const wire_https_server_opts_t *o,
                             wire_http_request_cb on_request,
                             wire_https_server_t **out)
{
  if (o == NULL || o->tls.ctx == NULL || out == NULL)
    return WIRE_EINVAL;
  wire_https_server_t *srv = wire__calloc(1, sizeof(*srv));
  if (srv == NULL)
    return WIRE_ENOMEM;
  srv->loop = loop;
  static const char *const http11[] = {"http/1.1", NULL};
  wire_tls_server_opts_t to = o->tls;
  if (to.alpn == NULL)
    to.alpn = http11;
  int err = wire_tls_server_create(loop, &to, on_secure, &srv->tls);
  if (err < 0) {
    wire__free(srv);
    return err;
  }
  err = wire_http_server_create(loop, &o->http, on_request, &srv->http);
  if (err < 0) {
    /* Nothing listens yet: the TLS server's close finishes on its own. */
    wire_tls_server_close(srv->tls, NULL);
    wire__free(srv);
    return err;
  }
  wire_tls_server_set_data(srv->tls, srv);
  wire_tls_server_on_listening(srv->tls, on_tls_listening);
  wire_tls_server_on_client_error(srv->tls, on_tls_client_error);
  *out = srv;
  return 0;
}

wire_http_server_t *wire_https_server_http(const wire_https_server_t *srv)
{
  return srv->http;
}

wire_tls_server_t *wire_https_server_tls(const wire_https_server_t *srv)
{
  return srv->tls;
}

int wire_https_server_listen(wire_https_server_t *srv, const char *host,
                             int port, wire_https_listen_cb cb)
{
  if (srv->closing)
    return WIRE_ECLOSED;
  int err = wire_tls_server_listen(srv->tls, host, port, on_tls_listen);
  if (err == 0)
    srv->listen_cb = cb;
  return err;
}

int wire_https_server_listen_path(wire_https_server_t *srv, const char *path,
                                  wire_https_listen_cb cb)
{
  if (srv->closing)
    return WIRE_ECLOSED;
  int err = wire_tls_server_listen_path(srv->tls, path, on_tls_listen);
  if (err == 0)
    srv->listen_cb = cb;
  return err;
}

int wire_https_server_address(const wire_https_server_t *srv, wire_addr_t *out)
{
  if (srv->closing)
    return WIRE_ENOTCONN; /* as wire_http_server_address */
  return wire_tls_server_address(srv->tls, out);
}

void wire_https_server_on_listening(wire_https_server_t *srv,
                                    wire_https_server_event_cb cb)
{
  srv->on_listening = cb;
}

void wire_https_server_on_tls_client_error(wire_https_server_t *srv,
                                           wire_https_tls_error_cb cb)
{
  srv->on_tls_client_error = cb;
}

void wire_https_server_set_data(wire_https_server_t *srv, void *data)
{
  srv->data = data;
  wire_http_server_set_data(srv->http, data);
}

void *wire_https_server_data(const wire_https_server_t *srv)
{
  return srv->data;
}

/* Servers whose close is under way on this thread. The HTTP server's
 * close callback receives the user's pointer (its data is the user's, for
 * the request callbacks), so it finds its HTTPS server here. One loop per
 * thread, few servers: a list is enough. */
static _Thread_local wire_https_server_t *closing_list;

static void maybe_finish(wire_https_server_t *srv)
{
  if (!srv->http_closed || !srv->tls_closed)
    return;
  for (wire_https_server_t **pp = &closing_list; *pp != NULL;
       pp = &(*pp)->next_closing) {
    if (*pp == srv) {
      *pp = srv->next_closing;
      break;
    }
  }
  if (srv->close_cb != NULL)
    srv->close_cb(srv, srv->data);
  wire__poison(srv, sizeof(*srv));
  wire__free(srv);
}

static void on_http_closed(wire_http_server_t *http, void *data)
{
  (void)data;
  wire_https_server_t *srv = closing_list;
  while (srv != NULL && srv->http != http)
    srv = srv->next_closing;
  assert(srv != NULL);
  srv->http_closed = 1;
  maybe_finish(srv);
}

static void on_tls_closed(wire_tls_server_t *tls, void *data)
{
  (void)tls;
  wire_https_server_t *srv = data;
  srv->tls_closed = 1;
  maybe_finish(srv);
}

void wire_https_server_close(wire_https_server_t *srv,
                             wire_https_server_event_cb cb)
{
  assert(!srv->closing && "https server closed twice");
  srv->closing = 1;
  srv->close_cb = cb;
  srv->next_closing = closing_list;
  closing_list = srv;
  wire_tls_server_close(srv->tls, on_tls_closed);
  wire_http_server_close(srv->http, on_http_closed);
}

void wire_https_server_close_all(wire_https_server_t *srv)
{
  wire_tls_server_close_connections(srv->tls);
  wire_http_server_close_all(srv->http);
}
