/* net: TCP and Unix-domain sockets and servers, Node's net module.
 *
 *   Node                                 wire
 *   net.createServer(opts, onConn)       wire_server_create(loop, &o, cb, &srv)
 *   server.listen(port, host, cb)        wire_server_listen(srv, host, port, cb)
 *   server.listen(path, cb)              wire_server_listen_path(srv, path, cb)
 *   net.connect({host, port}, cb)        wire_socket_connect(loop, &o, cb, arg, &s)
 *
 * The stream calls (write, end, close, pause, ...) are in stream.h. */
#ifndef WIRE_NET_H
#define WIRE_NET_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "loop.h"
#include "stream.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wire_server_s wire_server_t;

/* An address as Node reports it: address is the numeric IP ("127.0.0.1",
 * "::1") or, for a Unix socket, the path; family is 4, 6, or 0 for Unix. */
typedef struct {
  char address[108];
  int family;
  int port;
} wire_addr_t;

/* ---- Sockets ------------------------------------------------------- */

typedef struct {
  const char *host;          /* name or IP; NULL: "localhost" (as Node) */
  int port;                  /* 1..65535 */
  const char *local_address; /* bind to this local IP first; NULL: any */
  int local_port;            /* with local_address; 0: any */
  const char *path;          /* Unix socket path; if set, host/port unused */
  int family;                /* 0: any, 4 or 6: only that family */
  int allow_half_open;       /* see wire_socket_set_allow_half_open */
  int no_delay;              /* TCP_NODELAY on connect */
} wire_connect_opts_t;

#define WIRE_CONNECT_OPTS_INIT {NULL, 0, NULL, 0, NULL, 0, 0, 0}

/* Connect completion: status 0 once connected, or the error (WIRE_ECONNREFUSED,
 * a WIRE_EAI_* code from the resolver, ...). */
typedef void (*wire_connect_cb)(wire_socket_t *s, int status, void *arg);

/* Creates a socket and starts connecting (resolving host first if it is not
 * an IP literal; with several addresses, each is tried in turn). Returns 0
 * and sets *out at once, so events can be set before anything happens; cb
 * (may be NULL) runs exactly once on a later turn. On failure cb gets the
 * error, then the error event and close(had_error = 1) fire, as Node.
 * Synchronous failures (bad options: WIRE_EINVAL, WIRE_ENOMEM) return the
 * code and create nothing. Writes made before the connection is up are
 * queued and sent once it is. */
WIRE_EXTERN int wire_socket_connect(wire_loop_t *loop,
                                    const wire_connect_opts_t *o,
                                    wire_connect_cb cb, void *arg,
                                    wire_socket_t **out);

/* Wraps an open file descriptor (Node's new net.Socket({fd})): a connected
 * TCP socket, a Unix socket, a pipe or a terminal (stdin/stdout). The
 * socket takes ownership of fd and closes it on close. Regular files are
 * not streams: WIRE_EINVAL. */
WIRE_EXTERN int wire_socket_open(wire_loop_t *loop, int fd,
                                 wire_socket_t **out);

WIRE_EXTERN int wire_socket_set_nodelay(wire_socket_t *s, int on);
/* delay_s: seconds of idle before the first probe (Node's initialDelay). */
WIRE_EXTERN int wire_socket_set_keepalive(wire_socket_t *s, int on,
                                          unsigned delay_s);
WIRE_EXTERN int wire_socket_remote_address(const wire_socket_t *s,
                                           wire_addr_t *out);
WIRE_EXTERN int wire_socket_local_address(const wire_socket_t *s,
                                          wire_addr_t *out);

/* An unref'd socket does not keep wire_loop_run() alive. */
WIRE_EXTERN void wire_socket_ref(wire_socket_t *s);
WIRE_EXTERN void wire_socket_unref(wire_socket_t *s);

/* The server that accepted this socket, or NULL for a client socket. */
WIRE_EXTERN wire_server_t *wire_socket_server(const wire_socket_t *s);

/* ---- Servers ------------------------------------------------------- */

typedef struct {
  int allow_half_open;  /* for accepted sockets */
  int pause_on_connect; /* accepted sockets start paused */
  int no_delay;         /* TCP_NODELAY on accepted sockets */
  int keep_alive;       /* SO_KEEPALIVE on accepted sockets */
  unsigned keep_alive_initial_delay_s;
  int backlog;          /* listen backlog; 0: 511 (as Node) */
  int ipv6_only;        /* with host "::": no IPv4-mapped addresses */
  int reuse_port;       /* SO_REUSEPORT, for one listener per thread */
} wire_server_opts_t;

#define WIRE_SERVER_OPTS_INIT {0, 0, 0, 0, 0, 0, 0, 0}

typedef void (*wire_server_connection_cb)(wire_server_t *srv,
                                          wire_socket_t *s, void *data);
typedef void (*wire_server_event_cb)(wire_server_t *srv, void *data);
typedef void (*wire_server_error_cb)(wire_server_t *srv, int err,
                                     void *data);
typedef void (*wire_server_listen_cb)(wire_server_t *srv, int status,
                                      void *data);
typedef void (*wire_server_drop_cb)(wire_server_t *srv,
                                    const wire_addr_t *remote, void *data);

/* A server; o may be NULL for the defaults. on_connection (may be NULL, set
 * it later with wire_server_on_connection) runs for each accepted socket;
 * the server owns its sockets. Reading starts when the callback returns
 * (unless pause_on_connect or the callback paused the socket). */
WIRE_EXTERN int wire_server_create(wire_loop_t *loop,
                                   const wire_server_opts_t *o,
                                   wire_server_connection_cb on_connection,
                                   wire_server_t **out);

/* Binds and listens. host: an IP or a name (resolved; the first address is
 * used); NULL listens on "::" (IPv4 too) or, without IPv6, "0.0.0.0", as
 * Node. port 0 picks a free port (see wire_server_address). cb (may be
 * NULL) runs once on a later turn with 0, after the listening event, or
 * with the error, after the error event (WIRE_EADDRINUSE, ...). Returns 0,
 * or WIRE_EINVAL / WIRE_EALREADY (already listening) without calling cb. */
WIRE_EXTERN int wire_server_listen(wire_server_t *srv, const char *host,
                                   int port, wire_server_listen_cb cb);

/* Listens on a Unix-domain socket at path (an existing file there is an
 * error, WIRE_EADDRINUSE, as Node). */
WIRE_EXTERN int wire_server_listen_path(wire_server_t *srv, const char *path,
                                        wire_server_listen_cb cb);

/* The bound address; WIRE_ENOTCONN before listening. */
WIRE_EXTERN int wire_server_address(const wire_server_t *srv,
                                    wire_addr_t *out);

WIRE_EXTERN void wire_server_on_connection(wire_server_t *srv,
                                           wire_server_connection_cb cb);
WIRE_EXTERN void wire_server_on_listening(wire_server_t *srv,
                                          wire_server_event_cb cb);
WIRE_EXTERN void wire_server_on_error(wire_server_t *srv,
                                      wire_server_error_cb cb);
WIRE_EXTERN void wire_server_on_close(wire_server_t *srv,
                                      wire_server_event_cb cb);
/* Fires for a connection refused because max_connections was reached (it
 * is closed at once), as Node's 'drop' event. */
WIRE_EXTERN void wire_server_on_drop(wire_server_t *srv,
                                     wire_server_drop_cb cb);

WIRE_EXTERN void wire_server_set_data(wire_server_t *srv, void *data);
WIRE_EXTERN void *wire_server_data(const wire_server_t *srv);
WIRE_EXTERN wire_loop_t *wire_server_loop(const wire_server_t *srv);

/* Connections currently open. */
WIRE_EXTERN unsigned wire_server_connections(const wire_server_t *srv);
/* 0: no limit (the default). */
WIRE_EXTERN void wire_server_set_max_connections(wire_server_t *srv,
                                                 unsigned max);

WIRE_EXTERN void wire_server_ref(wire_server_t *srv);
WIRE_EXTERN void wire_server_unref(wire_server_t *srv);

/* Stops accepting at once. Open connections are left alone; the close event
 * and then cb (may be NULL) run after the last of them has closed, on a
 * later turn; then the server is freed. */
WIRE_EXTERN void wire_server_close(wire_server_t *srv,
                                   wire_server_event_cb cb);

/* Closes (destroys) every open connection of the server. */
WIRE_EXTERN void wire_server_close_connections(wire_server_t *srv);

#ifdef __cplusplus
}
#endif
#endif
