/* net internals: the libuv transport shared by client and accepted
 * sockets (tcp.c) and the server (server.c). */
#ifndef WIRE_NET_INTERNAL_H
#define WIRE_NET_INTERNAL_H

#include "../stream/internal.h"

extern const wire__transport_t wire__uv_transport;

/* Allocates a zeroed socket sized for a TCP (is_pipe 0) or Unix (1) handle,
 * initializes the handle on loop and the stream engine. */
int wire__socket_new(wire_loop_t *loop, int is_pipe, wire_socket_t **out);

#endif
