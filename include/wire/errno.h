/* Error codes. Every fallible call returns 0 (or a non-negative count) on
 * success and a negative WIRE_E* code on failure. System errors have the
 * values libuv gives them on Unix (the negated errno), so a code that came
 * from libuv passes through unchanged: WIRE_ECONNRESET == UV_ECONNRESET.
 * Library errors live in their own range, below -5000.
 *
 * One list, WIRE_ERRNO_MAP, generates the enum, wire_strerror() and
 * wire_err_name(): adding a code means adding one line. */
#ifndef WIRE_ERRNO_H
#define WIRE_ERRNO_H

#include <errno.h>

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, value, message) */
#define WIRE_ERRNO_MAP(X)                                                     \
  X(E2BIG, -E2BIG, "argument list too long")                                 \
  X(EACCES, -EACCES, "permission denied")                                    \
  X(EADDRINUSE, -EADDRINUSE, "address already in use")                       \
  X(EADDRNOTAVAIL, -EADDRNOTAVAIL, "address not available")                  \
  X(EAFNOSUPPORT, -EAFNOSUPPORT, "address family not supported")             \
  X(EAGAIN, -EAGAIN, "resource temporarily unavailable")                     \
  X(EAI_ADDRFAMILY, -3000, "address family not supported")                   \
  X(EAI_AGAIN, -3001, "temporary failure")                                   \
  X(EAI_BADFLAGS, -3002, "bad ai_flags value")                               \
  X(EAI_CANCELED, -3003, "request canceled")                                 \
  X(EAI_FAIL, -3004, "permanent failure")                                    \
  X(EAI_FAMILY, -3005, "ai_family not supported")                            \
  X(EAI_MEMORY, -3006, "out of memory")                                      \
  X(EAI_NODATA, -3007, "no address")                                         \
  X(EAI_NONAME, -3008, "unknown node or service")                            \
  X(EAI_SERVICE, -3010, "service not available for socket type")             \
  X(EAI_SOCKTYPE, -3011, "socket type not supported")                        \
  X(EALREADY, -EALREADY, "connection already in progress")                   \
  X(EBADF, -EBADF, "bad file descriptor")                                    \
  X(EBUSY, -EBUSY, "resource busy or locked")                                \
  X(ECANCELED, -ECANCELED, "operation canceled")                             \
  X(ECONNABORTED, -ECONNABORTED, "software caused connection abort")         \
  X(ECONNREFUSED, -ECONNREFUSED, "connection refused")                       \
  X(ECONNRESET, -ECONNRESET, "connection reset by peer")                     \
  X(EEXIST, -EEXIST, "file already exists")                                  \
  X(EHOSTUNREACH, -EHOSTUNREACH, "host is unreachable")                      \
  X(EINVAL, -EINVAL, "invalid argument")                                     \
  X(EIO, -EIO, "i/o error")                                                  \
  X(EISCONN, -EISCONN, "socket is already connected")                        \
  X(EMFILE, -EMFILE, "too many open files")                                  \
  X(EMSGSIZE, -EMSGSIZE, "message too long")                                 \
  X(ENAMETOOLONG, -ENAMETOOLONG, "name too long")                            \
  X(ENETDOWN, -ENETDOWN, "network is down")                                  \
  X(ENETUNREACH, -ENETUNREACH, "network is unreachable")                     \
  X(ENOBUFS, -ENOBUFS, "no buffer space available")                          \
  X(ENOENT, -ENOENT, "no such file or directory")                            \
  X(ENOMEM, -ENOMEM, "not enough memory")                                    \
  X(ENOSYS, -ENOSYS, "function not implemented")                             \
  X(ENOTCONN, -ENOTCONN, "socket is not connected")                          \
  X(ENOTSOCK, -ENOTSOCK, "socket operation on non-socket")                   \
  X(ENOTSUP, -ENOTSUP, "operation not supported on socket")                  \
  X(EPERM, -EPERM, "operation not permitted")                                \
  X(EPIPE, -EPIPE, "broken pipe")                                            \
  X(EPROTO, -EPROTO, "protocol error")                                       \
  X(ETIMEDOUT, -ETIMEDOUT, "connection timed out")                           \
  X(EOF, -4095, "end of file")                                               \
  X(ETLS, -5001, "TLS error")                                                \
  X(EHTTPPARSE, -5002, "HTTP parse error")                                   \
  X(EWSPROTO, -5003, "WebSocket protocol error")                             \
  X(ETOOBIG, -5004, "message or buffer too big")                             \
  X(EWRITEAFTEREND, -5005, "write after end")                                \
  X(ECLOSED, -5006, "object is closing or closed")

typedef enum {
#define WIRE_ERRNO_ENUM_(name, value, msg) WIRE_##name = (value),
  WIRE_ERRNO_MAP(WIRE_ERRNO_ENUM_)
#undef WIRE_ERRNO_ENUM_
} wire_errno_t;

/* A short English message for a code; for a code outside the list, libuv's
 * message. Never NULL. The string is static for every code in the list;
 * for any other code it lives in a per-thread buffer, valid until the next
 * call on that thread. */
WIRE_EXTERN const char *wire_strerror(int err);

/* The code's name without the WIRE_ prefix ("ECONNREFUSED"). Never NULL;
 * static for listed codes, per-thread (as above) for others. */
WIRE_EXTERN const char *wire_err_name(int err);

#ifdef __cplusplus
}
#endif
#endif
