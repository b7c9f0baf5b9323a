/* net.Server: listens on TCP or a Unix path and owns the sockets it
 * accepts (a doubly linked list). Listening on an IP literal binds at once
 * and reports on a later turn; a host name is resolved first. Close stops
 * accepting at once (the listen handle closes) and the close event fires
 * when both the handle is closed and the last connection is gone; then the
 * server is freed. */
#include <assert.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

struct wire_server_s {
  wire__obj_t obj;
  wire_server_opts_t o;
  wire_server_connection_cb on_connection;
  wire_server_event_cb on_listening;
  wire_server_error_cb on_error;
  wire_server_event_cb on_close;
  wire_server_drop_cb on_drop;
  wire_server_event_cb close_cb;
  wire_server_listen_cb listen_cb;
  void *data;

  wire_socket_t *conns;
  unsigned nconns;
  unsigned max_conns;

  int listen_status;
  unsigned has_handle : 1;
  unsigned listen_started : 1;
  unsigned listening : 1;
  unsigned closing : 1;
  unsigned handle_closed : 1;
  unsigned finished : 1;
  unsigned unref : 1;
  unsigned is_pipe : 1;
  unsigned resolving : 1;

  /* A connection that arrives when there is no memory for its socket is
   * accepted into this handle and closed at once: libuv stops watching the
   * listen socket until the pending connection is accepted, so leaving it
   * there would stall the server for good. */
  unsigned spare_busy : 1;
  unsigned shed_pending : 1;
  union {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_tcp_t tcp;
    uv_pipe_t pipe;
  } spare;

  int port;
  uv_getaddrinfo_t *gai;
  union {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_tcp_t tcp;
    uv_pipe_t pipe;
  } h;
};

static void finalize(wire__obj_t *o)
{
  wire__poison(o, sizeof(wire_server_t));
  wire__free(o);
}

int wire_server_create(wire_loop_t *loop, const wire_server_opts_t *o,
                       wire_server_connection_cb on_connection,
                       wire_server_t **out)
{
  wire_server_t *srv = wire__calloc(1, sizeof(*srv));
  if (srv == NULL)
    return WIRE_ENOMEM;
  if (o != NULL)
    srv->o = *o;
  if (srv->o.backlog <= 0)
    srv->o.backlog = 511;
  srv->on_connection = on_connection;
  wire__obj_init(&srv->obj, loop, finalize);
  *out = srv;
  return 0;
}

void wire_server_on_connection(wire_server_t *srv,
                               wire_server_connection_cb cb)
{
  srv->on_connection = cb;
}
void wire_server_on_listening(wire_server_t *srv, wire_server_event_cb cb)
{
  srv->on_listening = cb;
}
void wire_server_on_error(wire_server_t *srv, wire_server_error_cb cb)
{
  srv->on_error = cb;
}
void wire_server_on_close(wire_server_t *srv, wire_server_event_cb cb)
{
  srv->on_close = cb;
}
void wire_server_on_drop(wire_server_t *srv, wire_server_drop_cb cb)
{
  srv->on_drop = cb;
}
void wire_server_set_data(wire_server_t *srv, void *data)
{
  srv->data = data;
}
void *wire_server_data(const wire_server_t *srv)
{
  return srv->data;
}
wire_loop_t *wire_server_loop(const wire_server_t *srv)
{
  return srv->obj.loop;
}
unsigned wire_server_connections(const wire_server_t *srv)
{
  return srv->nconns;
}
void wire_server_set_max_connections(wire_server_t *srv, unsigned max)
{
  srv->max_conns = max;
}

void wire_server_ref(wire_server_t *srv)
{
  srv->unref = 0;
  if (srv->has_handle)
    uv_ref(&srv->h.handle);
}

void wire_server_unref(wire_server_t *srv)
{
  srv->unref = 1;
  if (srv->has_handle)
    uv_unref(&srv->h.handle);
}

/* ---- accepting ----------------------------------------------------------- */

static void accept_one(wire_server_t *srv);

static void on_spare_closed(uv_handle_t *h)
{
  wire_server_t *srv = h->data;
  srv->spare_busy = 0;
  if (srv->shed_pending && !srv->closing) {
    /* Another connection came while the spare was closing. */
    srv->shed_pending = 0;
    accept_one(srv);
  }
  wire__obj_unref(&srv->obj);
}

/* Accepts the pending connection into the spare handle and closes it. */
static void shed_one(wire_server_t *srv)
{
  if (srv->spare_busy) {
    srv->shed_pending = 1;
    return;
  }
  uv_loop_t *uv = wire__uv(srv->obj.loop);
  int err = srv->is_pipe ? uv_pipe_init(uv, &srv->spare.pipe, 0)
                         : uv_tcp_init(uv, &srv->spare.tcp);
  if (err < 0)
    return;
  srv->spare.handle.data = srv;
  srv->spare_busy = 1;
  wire__obj_ref(&srv->obj);
  (void)uv_accept(&srv->h.stream, &srv->spare.stream);
  uv_close(&srv->spare.handle, on_spare_closed);
}

static void accept_one(wire_server_t *srv)
{
  wire_socket_t *s;
  int err = wire__socket_new(srv->obj.loop, srv->is_pipe, &s);
  if (err < 0) {
    shed_one(srv);
    goto fail;
  }
  err = uv_accept(&srv->h.stream, &s->h.stream);
  if (err < 0) {
    s->flags |= WIRE__S_CLOSING | WIRE__S_USER_CLOSED;
    s->tp->close(s, 0);
    goto fail;
  }
  if (srv->max_conns > 0 && srv->nconns >= srv->max_conns) {
    /* Node's 'drop': refused at once, reported with the peer's address. */
    wire_addr_t remote;
    int have = wire_socket_remote_address(s, &remote) == 0;
    wire_socket_close(s, NULL);
    if (srv->on_drop != NULL)
      srv->on_drop(srv, have ? &remote : NULL, srv->data);
    return;
  }
  s->server = srv;
  s->srv_next = srv->conns;
  if (srv->conns != NULL)
    srv->conns->srv_prev = s;
  srv->conns = s;
  srv->nconns++;
  if (srv->o.allow_half_open)
    s->flags |= WIRE__S_HALF_OPEN;
  if (srv->o.pause_on_connect)
    s->flags |= WIRE__S_PAUSED;
  if (!srv->is_pipe) {
    if (srv->o.no_delay)
      uv_tcp_nodelay(&s->h.tcp, 1);
    if (srv->o.keep_alive)
      wire_socket_set_keepalive(s, 1, srv->o.keep_alive_initial_delay_s);
  }
  wire__socket_ref(s);
  if (srv->on_connection != NULL)
    srv->on_connection(srv, s, srv->data);
  if (!(s->flags & WIRE__S_CLOSING))
    wire__stream_connected(s);
  wire__socket_unref(s);
  return;

fail:
  if (srv->on_error != NULL)
    srv->on_error(srv, err, srv->data);
}

static void on_connection(uv_stream_t *h, int status)
{
  wire_server_t *srv = h->data;
  if (srv->closing)
    return;
  wire__obj_ref(&srv->obj);
  if (status < 0) {
    if (srv->on_error != NULL)
      srv->on_error(srv, status, srv->data);
  } else {
    accept_one(srv);
  }
  wire__obj_unref(&srv->obj);
}

/* ---- listening ------------------------------------------------------------ */

static void notify_listen(void *arg)
{
  wire_server_t *srv = arg;
  int status = srv->listen_status;
  if (srv->closing && status == 0)
    status = WIRE_ECANCELED;
  if (status == 0) {
    srv->listening = 1;
    if (srv->on_listening != NULL)
      srv->on_listening(srv, srv->data);
  } else if (status != WIRE_ECANCELED && srv->on_error != NULL) {
    srv->on_error(srv, status, srv->data);
  }
  wire_server_listen_cb cb = srv->listen_cb;
  srv->listen_cb = NULL;
  if (cb != NULL)
    cb(srv, status, srv->data);
  wire__obj_unref(&srv->obj);
}

static int init_handle(wire_server_t *srv, int is_pipe, int family)
{
  uv_loop_t *uv = wire__uv(srv->obj.loop);
  int err = is_pipe ? uv_pipe_init(uv, &srv->h.pipe, 0)
                    : uv_tcp_init_ex(uv, &srv->h.tcp, family);
  if (err < 0)
    return err;
  srv->h.handle.data = srv;
  srv->has_handle = 1;
  srv->is_pipe = is_pipe;
  if (srv->unref)
    uv_unref(&srv->h.handle);
  return 0;
}

static int have_ipv6(void)
{
  int fd = socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0)
    return 0;
  close(fd);
  return 1;
}

static int bind_listen(wire_server_t *srv, const struct sockaddr *sa)
{
  int err = init_handle(srv, 0, sa->sa_family);
  if (err < 0)
    return err;
  if (srv->o.reuse_port) {
    uv_os_fd_t fd;
    int on = 1;
    if (uv_fileno(&srv->h.handle, &fd) == 0 &&
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) < 0)
      return -errno;
  }
  unsigned flags = 0;
  if (sa->sa_family == AF_INET6 && srv->o.ipv6_only)
    flags |= UV_TCP_IPV6ONLY;
  err = uv_tcp_bind(&srv->h.tcp, sa, flags);
  if (err == 0)
    err = uv_listen(&srv->h.stream, srv->o.backlog, on_connection);
  return err;
}

/* Reports the listen result on a later turn; holds a ref until then. */
static int finish_listen(wire_server_t *srv, int status)
{
  srv->listen_status = status;
  wire__obj_ref(&srv->obj);
  int err = wire__defer(srv->obj.loop, notify_listen, srv);
  if (err < 0)
    wire__obj_unref(&srv->obj);
  return err;
}

static void on_resolved(uv_getaddrinfo_t *req, int status,
                        struct addrinfo *res)
{
  wire_server_t *srv = req->data;
  srv->resolving = 0;
  srv->gai = NULL;
  wire__free(req);
  if (status == 0 && srv->closing)
    status = WIRE_ECANCELED;
  if (status == UV_EAI_CANCELED)
    status = WIRE_ECANCELED;
  if (status == 0) {
    struct sockaddr_storage ss;
    memcpy(&ss, res->ai_addr, res->ai_addrlen);
    if (ss.ss_family == AF_INET)
      ((struct sockaddr_in *)&ss)->sin_port = htons(srv->port);
    else
      ((struct sockaddr_in6 *)&ss)->sin6_port = htons(srv->port);
    status = bind_listen(srv, (struct sockaddr *)&ss);
  }
  if (res != NULL)
    uv_freeaddrinfo(res);
  srv->listen_status = status;
  /* Already on a later turn: report now, with the ref listen took. */
  notify_listen(srv);
}

int wire_server_listen(wire_server_t *srv, const char *host, int port,
                       wire_server_listen_cb cb)
{
  if (port < 0 || port > 65535 || srv->closing)
    return srv->closing ? WIRE_ECLOSED : WIRE_EINVAL;
  if (srv->listen_started)
    return WIRE_EALREADY;
  struct sockaddr_storage ss;
  int status;
  if (host == NULL) {
    /* As Node: "::" (which accepts IPv4 too) where IPv6 exists, else
     * "0.0.0.0". */
    wire__addr_parse(have_ipv6() ? "::" : "0.0.0.0", port, &ss);
    status = bind_listen(srv, (struct sockaddr *)&ss);
  } else if (wire__addr_parse(host, port, &ss) == 0) {
    status = bind_listen(srv, (struct sockaddr *)&ss);
  } else {
    uv_getaddrinfo_t *req = wire__malloc(sizeof(*req));
    if (req == NULL)
      return WIRE_ENOMEM;
    struct addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    req->data = srv;
    int err = uv_getaddrinfo(wire__uv(srv->obj.loop), req, on_resolved,
                             host, NULL, &hints);
    if (err < 0) {
      wire__free(req);
      return err;
    }
    srv->gai = req;
    srv->resolving = 1;
    srv->port = port;
    srv->listen_started = 1;
    srv->listen_cb = cb;
    wire__obj_ref(&srv->obj);
    return 0;
  }
  int err = finish_listen(srv, status);
  if (err < 0)
    return err;
  srv->listen_started = 1;
  srv->listen_cb = cb;
  return 0;
}

int wire_server_listen_path(wire_server_t *srv, const char *path,
                            wire_server_listen_cb cb)
{
  if (path == NULL || srv->closing)
    return srv->closing ? WIRE_ECLOSED : WIRE_EINVAL;
  if (srv->listen_started)
    return WIRE_EALREADY;
  int status = init_handle(srv, 1, 0);
  if (status < 0)
    return status;
  status = uv_pipe_bind(&srv->h.pipe, path);
  if (status == 0)
    status = uv_listen(&srv->h.stream, srv->o.backlog, on_connection);
  int err = finish_listen(srv, status);
  if (err < 0)
    return err;
  srv->listen_started = 1;
  srv->listen_cb = cb;
  return 0;
}

int wire_server_address(const wire_server_t *srv, wire_addr_t *out)
{
  if (!srv->has_handle || srv->listen_status < 0)
    return WIRE_ENOTCONN;
  if (srv->is_pipe) {
    memset(out, 0, sizeof(*out));
    size_t n = sizeof(out->address);
    int err = uv_pipe_getsockname(&srv->h.pipe, out->address, &n);
    if (err < 0)
      return err;
    out->address[n < sizeof(out->address) ? n : sizeof(out->address) - 1] =
        '\0';
    return 0;
  }
  struct sockaddr_storage ss;
  int len = sizeof(ss);
  int err = uv_tcp_getsockname(&srv->h.tcp, (struct sockaddr *)&ss, &len);
  if (err < 0)
    return err;
  return wire__addr_from_sockaddr((struct sockaddr *)&ss, out);
}

/* ---- closing ------------------------------------------------------------- */

static void maybe_finish(wire_server_t *srv)
{
  if (!srv->closing || !srv->handle_closed || srv->nconns > 0 ||
      srv->finished)
    return;
  srv->finished = 1;
  if (srv->on_close != NULL)
    srv->on_close(srv, srv->data);
  if (srv->close_cb != NULL)
    srv->close_cb(srv, srv->data);
  wire__obj_unref(&srv->obj);
}

static void on_handle_closed(uv_handle_t *h)
{
  wire_server_t *srv = h->data;
  srv->handle_closed = 1;
  maybe_finish(srv);
  wire__obj_unref(&srv->obj);
}

static void on_no_handle(void *arg)
{
  wire_server_t *srv = arg;
  srv->handle_closed = 1;
  maybe_finish(srv);
  wire__obj_unref(&srv->obj);
}

void wire__server_remove(wire_server_t *srv, wire_socket_t *s)
{
  if (s->srv_prev != NULL)
    s->srv_prev->srv_next = s->srv_next;
  else
    srv->conns = s->srv_next;
  if (s->srv_next != NULL)
    s->srv_next->srv_prev = s->srv_prev;
  s->srv_prev = NULL;
  s->srv_next = NULL;
  s->server = NULL;
  srv->nconns--;
  maybe_finish(srv);
}

wire_socket_t *wire__server_conns(const wire_server_t *srv)
{
  return srv->conns;
}

void wire_server_close(wire_server_t *srv, wire_server_event_cb cb)
{
  assert(!srv->closing && "server closed twice");
  srv->closing = 1;
  srv->close_cb = cb;
  srv->listening = 0;
  if (srv->resolving)
    uv_cancel((uv_req_t *)srv->gai);
  wire__obj_ref(&srv->obj);
  if (srv->has_handle) {
    uv_close(&srv->h.handle, on_handle_closed);
  } else if (wire__defer(srv->obj.loop, on_no_handle, srv) < 0) {
    /* Out of memory for the deferral: finish on this turn rather than
     * never. */
    on_no_handle(srv);
  }
}

void wire_server_close_connections(wire_server_t *srv)
{
  for (wire_socket_t *s = srv->conns; s != NULL; s = s->srv_next)
    wire__socket_close_owned(s);
}
