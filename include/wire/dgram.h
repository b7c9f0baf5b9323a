/* dgram: UDP sockets, Node's dgram module.
 *
 *   Node                                   wire
 *   dgram.createSocket({type, ...})        wire_udp_create(loop, &o, &u)
 *   socket.bind(port, address, cb)         wire_udp_bind(u, port, address, cb)
 *   socket.on('message', (msg, rinfo))     wire_udp_on_message(u, cb)
 *   socket.send(buf, off, len, port,       wire_udp_send(u, buf, off, len,
 *               address, cb)                             port, address, cb,
 * arg) socket.send([b1, b2], port, addr, cb)  wire_udp_sendv(u, bufs, n, ...)
 *   socket.connect(port, address, cb)      wire_udp_connect(u, port, address,
 *                                                           cb)
 *   socket.close(cb)                       wire_udp_close(u, cb)
 *
 * A UDP socket is not a stream: it has its own events, set with
 * wire_udp_on_<event> and sharing the socket's one user pointer
 * (wire_udp_set_data):
 *   listening          the socket is bound (explicitly, or implicitly by the
 *                      first send or connect, as Node)
 *   message(data, len, rinfo)
 *                      a datagram arrived; data is valid during the call only
 *   connect            wire_udp_connect completed
 *   error(code)        something failed that no callback was there to take
 *                      (a receive error, a send without a callback, a bind
 *                      error); the socket stays usable, as Node
 *   close              the last event; no message fires after
 *                      wire_udp_close() was called
 *
 * Sends copy the bytes: the caller may reuse its buffer when the call
 * returns. The datagrams sent during one loop turn leave together at the end
 * of the turn, in one sendmmsg(2) where the system has it. Receiving is
 * batched with recvmmsg(2) (through libuv) in the same way.
 *
 * Names: an address may be an IP literal or a host name; a name is resolved
 * with getaddrinfo (in the family of the socket: "localhost" is 127.0.0.1 on
 * a udp4 socket, ::1 on a udp6 one), one lookup per call. A string that is
 * neither a literal nor a well-formed host name is WIRE_EINVAL at once. */
#ifndef WIRE_DGRAM_H
#define WIRE_DGRAM_H

#include <stddef.h>

#include "buf.h"
#include "export.h"
#include "loop.h"
#include "net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wire_udp_s wire_udp_t;

typedef enum {
  WIRE_UDP4 = 4, /* IPv4 (Node's "udp4") */
  WIRE_UDP6 = 6  /* IPv6, and IPv4 as v4-mapped unless ipv6_only */
} wire_udp_type_t;

typedef struct {
  int type;                /* WIRE_UDP4 or WIRE_UDP6; 0: WIRE_UDP4 */
  int reuse_addr;          /* SO_REUSEADDR at bind (Node's reuseAddr): several
                              sockets may bind one port (multicast receivers) */
  int ipv6_only;           /* udp6: no IPv4 traffic (Node's ipv6Only) */
  int recv_buffer_size;    /* SO_RCVBUF in bytes at bind; 0: the system's */
  int send_buffer_size;    /* SO_SNDBUF in bytes at bind; 0: the system's */
  int recv_batch;          /* datagrams per recvmmsg call, 1..20; 0: 20. Each
                              takes a 64 KiB slot of the socket's receive
                              buffer (address space; only touched pages cost
                              memory). 1 reads with plain recvmsg. */
  size_t max_message_size; /* receive slot size; 0: 65536, which holds any
                              UDP datagram. Smaller turns recvmmsg off and
                              reports longer datagrams cut, with
                              rinfo->truncated set. */
} wire_udp_opts_t;

#define WIRE_UDP_OPTS_INIT                                                     \
  {                                                                            \
    WIRE_UDP4, 0, 0, 0, 0, 0, 0                                                \
  }

/* Where a datagram came from (Node's rinfo). */
typedef struct {
  char address[46]; /* numeric IP ("127.0.0.1", "::1") */
  int family;       /* 4 or 6 */
  int port;
  size_t size;   /* bytes delivered (== len of the message event) */
  int truncated; /* 1: the datagram was longer than max_message_size and
                    the rest was dropped by the kernel */
} wire_udp_rinfo_t;

/* A datagram: buf is valid during the call only. */
typedef void (*wire_udp_message_cb)(wire_udp_t *u, const char *buf, size_t len,
                                    const wire_udp_rinfo_t *rinfo, void *data);
typedef void (*wire_udp_event_cb)(wire_udp_t *u, void *data);
typedef void (*wire_udp_error_cb)(wire_udp_t *u, int err, void *data);
/* bind and connect completion: status 0 or a negative code. */
typedef void (*wire_udp_status_cb)(wire_udp_t *u, int status, void *data);
/* Send completion: status is the number of bytes sent (>= 0), or a negative
 * code (WIRE_EMSGSIZE, WIRE_ECONNREFUSED, WIRE_EAI_NONAME, WIRE_ECANCELED
 * when the socket closed first, ...). */
typedef void (*wire_udp_send_cb)(wire_udp_t *u, int status, void *arg);

/* Creates an unbound UDP socket; o may be NULL for the defaults (udp4).
 * Returns 0 and sets *out, or WIRE_EINVAL (bad type or batch) /
 * WIRE_ENOMEM / a system error, creating nothing. Options that take a
 * socket (broadcast, TTL, multicast) may be set before binding. */
WIRE_EXTERN int wire_udp_create(wire_loop_t *loop, const wire_udp_opts_t *o,
                                wire_udp_t **out);

/* Binds to address:port and starts receiving. address: an IP or a name;
 * NULL binds "0.0.0.0" (udp4) or "::" (udp6), as Node. port 0 picks a free
 * port (see wire_udp_address). On a later turn the listening event and then
 * cb (may be NULL) run with 0, or the error event and cb run with the
 * error (WIRE_EADDRINUSE, WIRE_EADDRNOTAVAIL, WIRE_EAI_*); after an error
 * the socket may be bound again. Returns 0, or WIRE_EINVAL (bad port or
 * address), WIRE_EALREADY (bound or binding), WIRE_ECLOSED, without calling
 * cb. */
WIRE_EXTERN int wire_udp_bind(wire_udp_t *u, int port, const char *address,
                              wire_udp_status_cb cb);

/* Sends bytes [offset, offset + length) of buf as one datagram to
 * address:port, as Node's send(buf, offset, length, port, address, cb).
 * address NULL with a port: "127.0.0.1" (udp4) or "::1" (udp6), as Node.
 * On a connected socket pass port 0 and address NULL. The bytes are copied.
 * An unbound socket is bound to a random port first (listening fires).
 * cb (may be NULL) runs exactly once, after the call returns: with the
 * byte count, or with the error; without cb, an error goes to the error
 * event. Returns 0, or without calling cb: WIRE_EINVAL (bad port, malformed
 * address, or an IPv6 address on a udp4 socket), WIRE_EISCONN (an address
 * on a connected socket), WIRE_ENOTCONN (no address on a socket that is
 * not connected), WIRE_ECLOSED (after wire_udp_close), WIRE_ENOMEM.
 * Datagrams larger than the path allows fail with WIRE_EMSGSIZE in cb. */
WIRE_EXTERN int wire_udp_send(wire_udp_t *u, const void *buf, size_t offset,
                              size_t length, int port, const char *address,
                              wire_udp_send_cb cb, void *arg);

/* Sends nbufs buffers as one datagram (Node's send([b1, b2], ...)); the
 * bytes are copied. Otherwise as wire_udp_send. */
WIRE_EXTERN int wire_udp_sendv(wire_udp_t *u, const wire_buf_t *bufs,
                               size_t nbufs, int port, const char *address,
                               wire_udp_send_cb cb, void *arg);

/* Associates the socket with address:port (Node's connect): sends then take
 * no address and only that peer's datagrams are received. An unbound
 * socket is bound first. On a later turn the connect event and cb (may be
 * NULL) run with 0; on failure cb gets the error (or, without cb, the error
 * event). Sends made while connecting wait for it. Returns 0, or
 * WIRE_EINVAL, WIRE_EISCONN (connected or connecting), WIRE_ECLOSED. */
WIRE_EXTERN int wire_udp_connect(wire_udp_t *u, int port, const char *address,
                                 wire_udp_status_cb cb);

/* Dissolves the association at once. Returns 0 or WIRE_ENOTCONN. */
WIRE_EXTERN int wire_udp_disconnect(wire_udp_t *u);

/* The bound address; WIRE_EBADF before the socket is bound. */
WIRE_EXTERN int wire_udp_address(const wire_udp_t *u, wire_addr_t *out);
/* The connected peer; WIRE_ENOTCONN when not connected. */
WIRE_EXTERN int wire_udp_remote_address(const wire_udp_t *u, wire_addr_t *out);

/* Socket options; each returns 0 or a system error. */
WIRE_EXTERN int wire_udp_set_broadcast(wire_udp_t *u, int on);
WIRE_EXTERN int wire_udp_set_ttl(wire_udp_t *u, int ttl); /* 1..255 */
WIRE_EXTERN int wire_udp_set_multicast_ttl(wire_udp_t *u, int ttl);
WIRE_EXTERN int wire_udp_set_multicast_loopback(wire_udp_t *u, int on);
/* iface: the local IP of the interface outgoing multicast leaves by
 * ("127.0.0.1" for the loopback); for udp6 a scope such as "::%lo". */
WIRE_EXTERN int wire_udp_set_multicast_interface(wire_udp_t *u,
                                                 const char *iface);
/* Joins / leaves group on the interface with local IP iface (NULL: the
 * kernel picks one). */
WIRE_EXTERN int wire_udp_add_membership(wire_udp_t *u, const char *group,
                                        const char *iface);
WIRE_EXTERN int wire_udp_drop_membership(wire_udp_t *u, const char *group,
                                         const char *iface);
/* Source-specific multicast: only source's datagrams to group. */
WIRE_EXTERN int wire_udp_add_source_membership(wire_udp_t *u,
                                               const char *source,
                                               const char *group,
                                               const char *iface);
WIRE_EXTERN int wire_udp_drop_source_membership(wire_udp_t *u,
                                                const char *source,
                                                const char *group,
                                                const char *iface);

/* SO_RCVBUF / SO_SNDBUF (Node's set/getRecvBufferSize): set returns 0 or an
 * error (WIRE_EBADF before bind); get returns the size or an error. */
WIRE_EXTERN int wire_udp_set_recv_buffer_size(wire_udp_t *u, int size);
WIRE_EXTERN int wire_udp_set_send_buffer_size(wire_udp_t *u, int size);
WIRE_EXTERN int wire_udp_recv_buffer_size(wire_udp_t *u);
WIRE_EXTERN int wire_udp_send_buffer_size(wire_udp_t *u);

/* Bytes and datagrams queued and not yet handed to the kernel (Node's
 * getSendQueueSize / getSendQueueCount). */
WIRE_EXTERN size_t wire_udp_send_queue_size(const wire_udp_t *u);
WIRE_EXTERN size_t wire_udp_send_queue_count(const wire_udp_t *u);

/* An unref'd socket does not keep wire_loop_run() alive. */
WIRE_EXTERN void wire_udp_ref(wire_udp_t *u);
WIRE_EXTERN void wire_udp_unref(wire_udp_t *u);

WIRE_EXTERN void wire_udp_on_message(wire_udp_t *u, wire_udp_message_cb cb);
WIRE_EXTERN void wire_udp_on_listening(wire_udp_t *u, wire_udp_event_cb cb);
WIRE_EXTERN void wire_udp_on_connect(wire_udp_t *u, wire_udp_event_cb cb);
WIRE_EXTERN void wire_udp_on_error(wire_udp_t *u, wire_udp_error_cb cb);
WIRE_EXTERN void wire_udp_on_close(wire_udp_t *u, wire_udp_event_cb cb);

WIRE_EXTERN void wire_udp_set_data(wire_udp_t *u, void *data);
WIRE_EXTERN void *wire_udp_data(const wire_udp_t *u);
WIRE_EXTERN wire_loop_t *wire_udp_loop(const wire_udp_t *u);

/* Node's close(): stops receiving at once (no message event after this
 * call). Datagrams still queued, including those sent earlier in this
 * turn, complete with WIRE_ECANCELED, in order; a pending bind or connect
 * completes with WIRE_ECANCELED; then the close event and cb (may be NULL)
 * run, on a later turn, and the socket is freed. Binding again takes a new
 * socket, as Node. Calling it twice is a caller bug (asserted). */
WIRE_EXTERN void wire_udp_close(wire_udp_t *u, wire_udp_event_cb cb);

#ifdef __cplusplus
}
#endif
#endif
