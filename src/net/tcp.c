/* TCP and Unix-domain sockets on libuv: the transport the stream engine
 * drives, client connects, and the socket options and addresses.
 *
 * Connect: a host that is not an IP literal is resolved with
 * uv_getaddrinfo; the addresses are tried in order. A failed attempt
 * leaves the fd unusable, so before the next address the handle is closed
 * and initialized again in place (the socket keeps its identity and its
 * queued writes). The connect callback runs exactly once: 0, the last
 * error, or WIRE_ECANCELED when the socket is closed first. */
#include <assert.h>
#include <string.h>

#include "internal.h"

struct wire__connect_s {
  uv_getaddrinfo_t gai;
  uv_connect_t req;
  struct addrinfo *ai_head;
  struct addrinfo *ai_next;
  struct sockaddr_storage local;
  int has_local;
  int port;
  int resolving;
  int reopening;
  int nodelay;
  wire_connect_cb cb;
  void *arg;
};

/* The socket of a libuv handle (the handle is a member of the socket). */
#define SOCK(h) ((wire_socket_t *)((char *)(h) - offsetof(wire_socket_t, h)))
/* A connecting client's state lives in the handle's data pointer, which
 * wire does not otherwise need (SOCK finds the socket). */
#define CONN(s) ((struct wire__connect_s *)(s)->h.handle.data)

/* ---- transport --------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf)
{
  (void)size;
  wire__read_buf(SOCK(h)->obj.loop, buf);
}

static void on_read(uv_stream_t *h, ssize_t nread, const uv_buf_t *buf)
{
  if (nread == 0)
    return; /* EAGAIN: libuv lends the buffer back */
  wire__stream_on_read(SOCK(h), nread, buf->base);
}

static int tp_read_start(wire_socket_t *s)
{
  return uv_read_start(&s->h.stream, on_alloc, on_read);
}

static int tp_read_stop(wire_socket_t *s)
{
  return uv_read_stop(&s->h.stream);
}

static int tp_try_write(wire_socket_t *s, const uv_buf_t *bufs, unsigned n)
{
  return uv_try_write(&s->h.stream, bufs, n);
}

static void on_write(uv_write_t *req, int status)
{
  wire_socket_t *s = req->data;
  wire__free(req);
  wire__stream_write_done(s, status);
  wire__socket_unref(s);
}

static int tp_write(wire_socket_t *s, const uv_buf_t *bufs, unsigned n)
{
  uv_write_t *req = wire__malloc(sizeof(*req));
  if (req == NULL)
    return WIRE_ENOMEM;
  req->data = s;
  int err = uv_write(req, &s->h.stream, bufs, n, on_write);
  if (err < 0) {
    wire__free(req);
    return err;
  }
  wire__socket_ref(s);
  return 0;
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
  wire_socket_t *s = req->data;
  wire__free(req);
  wire__stream_shutdown_done(s, status);
  wire__socket_unref(s);
}

static int tp_shutdown(wire_socket_t *s)
{
  uv_shutdown_t *req = wire__malloc(sizeof(*req));
  if (req == NULL)
    return WIRE_ENOMEM;
  req->data = s;
  int err = uv_shutdown(req, &s->h.stream, on_shutdown);
  if (err < 0) {
    wire__free(req);
    return err;
  }
  wire__socket_ref(s);
  return 0;
}

static void on_closed(uv_handle_t *h)
{
  wire__stream_closed(SOCK(h));
}

static void tp_close(wire_socket_t *s, int reset)
{
  struct wire__connect_s *c = CONN(s);
  if (c != NULL && c->resolving)
    uv_cancel((uv_req_t *)&c->gai); /* on_resolved gets EAI_CANCELED */
  if (c != NULL && c->reopening)
    return; /* on_reopened sees the close and finishes it */
  if (reset && s->h.handle.type == UV_TCP &&
      uv_tcp_close_reset(&s->h.tcp, on_closed) == 0)
    return;
  uv_close(&s->h.handle, on_closed);
}

static void tp_set_ref(wire_socket_t *s, int on)
{
  if (on)
    uv_ref(&s->h.handle);
  else
    uv_unref(&s->h.handle);
}

const wire__transport_t wire__uv_transport = {
  tp_read_start, tp_read_stop, tp_try_write, tp_write,
  tp_shutdown,   tp_close,     tp_set_ref,   NULL,
};

static void finalize(wire__obj_t *o)
{
  wire_socket_t *s = (wire_socket_t *)o;
  size_t size = s->h.handle.type == UV_NAMED_PIPE
                    ? WIRE__SOCKET_SIZE(uv_pipe_t)
                    : WIRE__SOCKET_SIZE(uv_tcp_t);
  wire__poison(s, size);
  wire__free(s);
}

static int handle_init(wire_socket_t *s, int is_pipe)
{
  uv_loop_t *uv = wire__uv(s->obj.loop);
  void *conn = s->h.handle.data; /* kept over a reopen */
  int err = is_pipe ? uv_pipe_init(uv, &s->h.pipe, 0)
                    : uv_tcp_init(uv, &s->h.tcp);
  s->h.handle.data = conn;
  if (err == 0 && (s->flags & WIRE__S_UNREF))
    uv_unref(&s->h.handle);
  return err;
}

int wire__socket_new(wire_loop_t *loop, int is_pipe, wire_socket_t **out)
{
  size_t size = is_pipe ? WIRE__SOCKET_SIZE(uv_pipe_t)
                        : WIRE__SOCKET_SIZE(uv_tcp_t);
  wire_socket_t *s = wire__calloc(1, size);
  if (s == NULL)
    return WIRE_ENOMEM;
  s->obj.loop = loop;
  int err = handle_init(s, is_pipe);
  if (err < 0) {
    wire__free(s);
    return err;
  }
  wire__stream_init(s, loop, &wire__uv_transport, finalize);
  *out = s;
  return 0;
}

/* ---- connect ------------------------------------------------------------- */

static void connect_free(wire_socket_t *s)
{
  struct wire__connect_s *c = CONN(s);
  if (c->ai_head != NULL)
    uv_freeaddrinfo(c->ai_head);
  wire__free(c);
  s->h.handle.data = NULL;
}

/* The connect is over: status 0, or an error. The whole connect holds one
 * ref on the socket, taken when it started and dropped here. */
static void connect_done(wire_socket_t *s, int status)
{
  struct wire__connect_s *c = CONN(s);
  wire_connect_cb cb = c->cb;
  void *arg = c->arg;
  int nodelay = c->nodelay;
  connect_free(s);
  if (s->flags & WIRE__S_CLOSING)
    status = WIRE_ECANCELED;
  if (status == 0 && nodelay)
    uv_tcp_nodelay(&s->h.tcp, 1);
  if (cb != NULL)
    cb(s, status, arg);
  if (status == 0)
    wire__stream_connected(s);
  else if (status != WIRE_ECANCELED)
    wire__stream_fail(s, status);
  wire__socket_unref(s);
}

static void on_connect(uv_connect_t *req, int status);
static void on_reopened(uv_handle_t *h);

/* Starts a connect to the next resolved address. A failed attempt leaves
 * the fd unusable, so a retry first closes the handle and opens it again
 * in place (on_reopened). */
static void try_next(wire_socket_t *s, int last_err)
{
  struct wire__connect_s *c = CONN(s);
  if (c->ai_next == NULL) {
    connect_done(s, last_err);
    return;
  }
  struct addrinfo *ai = c->ai_next;
  c->ai_next = ai->ai_next;
  int err = 0;
  if (c->has_local)
    err = uv_tcp_bind(&s->h.tcp, (struct sockaddr *)&c->local, 0);
  if (err == 0)
    err = uv_tcp_connect(&c->req, &s->h.tcp, ai->ai_addr, on_connect);
  if (err == 0)
    return;
  if (c->ai_next == NULL) {
    connect_done(s, err);
    return;
  }
  c->reopening = 1;
  uv_close(&s->h.handle, on_reopened);
}

static void on_reopened(uv_handle_t *h)
{
  wire_socket_t *s = SOCK(h);
  CONN(s)->reopening = 0;
  if (s->flags & WIRE__S_CLOSING) {
    /* tp_close left the closing to us. */
    connect_done(s, WIRE_ECANCELED);
    wire__stream_closed(s);
    return;
  }
  /* uv_tcp_init without a family creates no fd and cannot fail. */
  (void)handle_init(s, 0);
  try_next(s, WIRE_ECONNREFUSED);
}

static void on_connect(uv_connect_t *req, int status)
{
  wire_socket_t *s = req->data;
  struct wire__connect_s *c = CONN(s);
  if (status == 0 || status == UV_ECANCELED || c->ai_next == NULL ||
      (s->flags & WIRE__S_CLOSING)) {
    connect_done(s, status);
    return;
  }
  c->reopening = 1;
  uv_close(&s->h.handle, on_reopened);
}

static void on_resolved(uv_getaddrinfo_t *req, int status,
                        struct addrinfo *res)
{
  wire_socket_t *s = req->data;
  struct wire__connect_s *c = CONN(s);
  c->resolving = 0;
  c->ai_head = res;
  c->ai_next = res;
  if (status < 0 || (s->flags & WIRE__S_CLOSING)) {
    connect_done(s, status);
    return;
  }
  for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
    /* getaddrinfo without a service leaves the port 0. */
    if (ai->ai_family == AF_INET)
      ((struct sockaddr_in *)ai->ai_addr)->sin_port = htons(c->port);
    else if (ai->ai_family == AF_INET6)
      ((struct sockaddr_in6 *)ai->ai_addr)->sin6_port = htons(c->port);
  }
  try_next(s, WIRE_EAI_NODATA);
}

int wire_socket_connect(wire_loop_t *loop, const wire_connect_opts_t *o,
                        wire_connect_cb cb, void *arg, wire_socket_t **out)
{
  if (o == NULL || out == NULL)
    return WIRE_EINVAL;
  int is_pipe = o->path != NULL;
  if (!is_pipe && (o->port <= 0 || o->port > 65535))
    return WIRE_EINVAL;
  if (o->family != 0 && o->family != 4 && o->family != 6)
    return WIRE_EINVAL;
  struct wire__connect_s *c = wire__calloc(1, sizeof(*c));
  if (c == NULL)
    return WIRE_ENOMEM;
  c->cb = cb;
  c->arg = arg;
  c->port = o->port;
  c->nodelay = o->no_delay;
  if (!is_pipe && o->local_address != NULL) {
    if (wire__addr_parse(o->local_address, o->local_port, &c->local) < 0) {
      wire__free(c);
      return WIRE_EINVAL;
    }
    c->has_local = 1;
  }
  wire_socket_t *s;
  int err = wire__socket_new(loop, is_pipe, &s);
  if (err < 0) {
    wire__free(c);
    return err;
  }
  s->h.handle.data = c;
  s->flags |= WIRE__S_CONNECTING;
  if (o->allow_half_open)
    s->flags |= WIRE__S_HALF_OPEN;
  c->req.data = s;
  c->gai.data = s;

  if (is_pipe) {
    uv_pipe_connect(&c->req, &s->h.pipe, o->path, on_connect);
    wire__socket_ref(s); /* held by the connect until connect_done */
    *out = s;
    return 0;
  }
  const char *host = o->host != NULL ? o->host : "localhost";
  struct sockaddr_storage ss;
  if (wire__addr_parse(host, o->port, &ss) == 0) {
    int fam = ss.ss_family == AF_INET ? 4 : 6;
    if (o->family != 0 && o->family != fam) {
      err = WIRE_EINVAL;
      goto fail;
    }
    /* One literal address: connect at once, no resolver round trip. */
    if (c->has_local) {
      err = uv_tcp_bind(&s->h.tcp, (struct sockaddr *)&c->local, 0);
      if (err < 0)
        goto fail;
    }
    err = uv_tcp_connect(&c->req, &s->h.tcp, (struct sockaddr *)&ss,
                         on_connect);
    if (err < 0)
      goto fail;
    wire__socket_ref(s);
    *out = s;
    return 0;
  }
  struct addrinfo hints;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = o->family == 4 ? AF_INET
                    : o->family == 6 ? AF_INET6
                                     : AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  err = uv_getaddrinfo(wire__uv(loop), &c->gai, on_resolved, host, NULL,
                       &hints);
  if (err < 0)
    goto fail;
  c->resolving = 1;
  wire__socket_ref(s);
  *out = s;
  return 0;

fail:
  /* Nothing was started: tear the socket down quietly. Its close callback
   * is no one's, and the loop frees it on a later turn. */
  s->h.handle.data = NULL;
  wire__free(c);
  s->flags |= WIRE__S_CLOSING | WIRE__S_USER_CLOSED;
  uv_close(&s->h.handle, on_closed);
  return err;
}

int wire_socket_open(wire_loop_t *loop, int fd, wire_socket_t **out)
{
  uv_handle_type t = uv_guess_handle(fd);
  if (t != UV_TCP && t != UV_NAMED_PIPE && t != UV_TTY)
    return WIRE_EINVAL;
  int is_pipe = t != UV_TCP;
  wire_socket_t *s;
  int err = wire__socket_new(loop, is_pipe, &s);
  if (err < 0)
    return err;
  /* A terminal is driven as a pipe: both are plain pollable fds. */
  err = is_pipe ? uv_pipe_open(&s->h.pipe, fd) : uv_tcp_open(&s->h.tcp, fd);
  if (err < 0) {
    s->flags |= WIRE__S_CLOSING | WIRE__S_USER_CLOSED;
    uv_close(&s->h.handle, on_closed);
    return err;
  }
  /* A one-way fd (stdout is often a write-only pipe) behaves like Node's
   * readable: false / writable: false: no read is started on it, and
   * ending it sends nothing. */
  if (!uv_is_readable(&s->h.stream))
    s->flags |= WIRE__S_READ_EOF;
  if (!uv_is_writable(&s->h.stream))
    s->flags |= WIRE__S_SHUT_SENT | WIRE__S_SHUT_DONE;
  wire__stream_connected(s);
  *out = s;
  return 0;
}

/* ---- options and addresses ----------------------------------------------- */

static int is_uv(const wire_socket_t *s)
{
  return s->tp == &wire__uv_transport;
}

int wire_socket_set_nodelay(wire_socket_t *s, int on)
{
  s = wire__socket_base(s);
  if (!is_uv(s) || s->h.handle.type != UV_TCP)
    return 0; /* as Node: a no-op where it does not apply */
  if (CONN(s) != NULL) {
    CONN(s)->nodelay = on;
    return 0;
  }
  return uv_tcp_nodelay(&s->h.tcp, on);
}

int wire_socket_set_keepalive(wire_socket_t *s, int on, unsigned delay_s)
{
  s = wire__socket_base(s);
  if (!is_uv(s) || s->h.handle.type != UV_TCP)
    return 0;
  return uv_tcp_keepalive(&s->h.tcp, on, on ? (delay_s ? delay_s : 1) : 0);
}

static int pipe_name(const wire_socket_t *s, int peer, wire_addr_t *out)
{
  memset(out, 0, sizeof(*out));
  size_t n = sizeof(out->address);
  int err = peer ? uv_pipe_getpeername(&s->h.pipe, out->address, &n)
                 : uv_pipe_getsockname(&s->h.pipe, out->address, &n);
  if (err < 0)
    return err;
  if (n >= sizeof(out->address))
    n = sizeof(out->address) - 1;
  out->address[n] = '\0';
  return 0;
}

static int sock_name(const wire_socket_t *s, int peer, wire_addr_t *out)
{
  s = wire__socket_base(s);
  if (!is_uv(s))
    return WIRE_ENOTSUP;
  if (s->h.handle.type == UV_NAMED_PIPE)
    return pipe_name(s, peer, out);
  struct sockaddr_storage ss;
  int len = sizeof(ss);
  int err = peer ? uv_tcp_getpeername(&s->h.tcp, (struct sockaddr *)&ss, &len)
                 : uv_tcp_getsockname(&s->h.tcp, (struct sockaddr *)&ss, &len);
  if (err < 0)
    return err;
  return wire__addr_from_sockaddr((struct sockaddr *)&ss, out);
}

int wire_socket_remote_address(const wire_socket_t *s, wire_addr_t *out)
{
  return sock_name(s, 1, out);
}

int wire_socket_local_address(const wire_socket_t *s, wire_addr_t *out)
{
  return sock_name(s, 0, out);
}

void wire_socket_ref(wire_socket_t *s)
{
  s->flags &= ~WIRE__S_UNREF;
  if (s->tp->set_ref != NULL)
    s->tp->set_ref(s, 1);
}

void wire_socket_unref(wire_socket_t *s)
{
  s->flags |= WIRE__S_UNREF;
  if (s->tp->set_ref != NULL)
    s->tp->set_ref(s, 0);
}

wire_server_t *wire_socket_server(const wire_socket_t *s)
{
  return s->server;
}
