/* dgram: UDP sockets on a uv_udp_t, Node's dgram module.
 *
 * Life of a socket: created with its fd already open (uv_udp_init_ex with
 * the family), so options can be set before binding. bind (explicit, or
 * implicit on the first send or connect, as Node) binds at once for an IP
 * literal, or after a getaddrinfo for a name; the result (listening or
 * error) is reported on a later turn, and receiving starts right before the
 * listening event so that no message can come first. close stops
 * everything at once and reports on a later turn (the uv close callback).
 *
 * Receiving: libuv reads with recvmmsg (UV_UDP_RECVMMSG). In that mode its
 * alloc callback must hand out a buffer of whole 64 KiB slots, one per
 * datagram of the batch; the read callback then runs once per datagram
 * with UV_UDP_MMSG_CHUNK and finally once more with UV_UDP_MMSG_FREE (and
 * once with nread 0 and no flags when there was nothing to read). The
 * buffer here is the socket's own, allocated when receiving starts and
 * kept until the socket is freed, so none of those calls frees anything.
 * The sender's address is turned into text only when it differs from the
 * previous datagram's.
 *
 * Sending: every send copies its bytes into a queue entry (small entries
 * are recycled through a per-socket free list) and queues the socket on the
 * loop's flush list; at the end of the turn the queue leaves in sendmmsg
 * calls of up to SEND_BATCH datagrams, and completions run right there.
 * What the kernel does not take (EAGAIN) is handed to uv_udp_send, which
 * waits for POLLOUT; while libuv holds any datagram, later ones go to libuv
 * too, so order is kept. An entry whose address is a name waits for its
 * lookup, and the entries behind it wait with it (order again). The queue
 * also waits while the socket binds or connects.
 *
 * Refs: the object's first ref is the open handle, dropped by the uv close
 * callback after the close event. Each deferred report, each lookup and
 * each datagram held by libuv holds one more. */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "../core/internal.h"

/* libuv's recvmmsg slot (UV__UDP_DGRAM_MAXSIZE) and batch width
 * (UV__MMSG_MAXWIDTH), fixed in libuv 1.44. */
#define SLOT (64 * 1024)
#define MAX_BATCH 20
#define SEND_BATCH 64
/* Entries for datagrams up to POOL_DATA bytes are recycled. */
#define POOL_DATA 1472
#define POOL_MAX 256

typedef union {
  struct sockaddr sa;
  struct sockaddr_in in;
  struct sockaddr_in6 in6;
} sockaddr_u;

typedef struct send_s send_t;
typedef struct resolve_s resolve_t;

struct send_s {
  send_t *next;
  wire_udp_t *u;
  uv_udp_send_t req; /* used once handed to libuv */
  sockaddr_u addr;   /* AF_UNSPEC: the connected peer */
  resolve_t *resolving;
  wire_udp_send_cb cb;
  void *arg;
  int status; /* a failed lookup, reported in order */
  size_t len;
  size_t cap;
  char data[];
};

enum { R_SEND, R_BIND, R_CONNECT };

struct resolve_s {
  uv_getaddrinfo_t gai;
  wire_udp_t *u;
  send_t *send; /* R_SEND */
  int kind;
  int port;
  int detached; /* the socket closed: just free on completion */
};

enum { UNBOUND, BINDING, BOUND };
enum { DISCONNECTED, CONNECTING, CONNECTED };

struct wire_udp_s {
  wire__obj_t obj;
  uv_udp_t h;
  wire__flush_t flush;
  wire_udp_opts_t o;
  int family;

  wire_udp_message_cb on_message;
  wire_udp_event_cb on_listening;
  wire_udp_event_cb on_connect;
  wire_udp_error_cb on_error;
  wire_udp_event_cb on_close;
  wire_udp_event_cb close_cb;
  void *data;

  int bind_state;
  int conn_state;
  int bind_status;
  int conn_status;
  wire_udp_status_cb bind_cb;
  wire_udp_status_cb conn_cb;
  resolve_t *bind_res;
  resolve_t *conn_res;
  unsigned bind_owed : 1; /* a bind result is owed to the user */
  unsigned conn_owed : 1;
  unsigned closing : 1;
  unsigned reading : 1;
  unsigned conn_waiting : 1; /* conn_target is known, the bind is not */
  sockaddr_u conn_target;
  int fd;

  send_t *head;
  send_t *tail;
  size_t qbytes;
  size_t qcount;
  send_t *pool;
  unsigned npool;
  /* Sent (or failed) in a flush, completions still to run: a flush can
   * run just before the loop blocks for I/O, so callbacks go to the next
   * turn's idle phase instead of running there. */
  send_t *done_head;
  send_t *done_tail;
  unsigned deliver_queued : 1;

  char *rbuf;
  size_t rlen;
  sockaddr_u rsa; /* the sender rinfo describes */
  wire_udp_rinfo_t rinfo;

  /* The last destination parsed, as text, so an echo does not parse the
   * same address for every datagram. */
  char dst_text[64];
  int dst_port;
  sockaddr_u dst;
};

static void report_bind(wire_udp_t *u);
static void report_connect(wire_udp_t *u);
static int do_connect(wire_udp_t *u, const sockaddr_u *a);
static void detach(resolve_t *r);
static void flush_sends(wire__flush_t *f);

static void finalize(wire__obj_t *o)
{
  wire_udp_t *u = (wire_udp_t *)o;
  assert(u->head == NULL && u->done_head == NULL);
  while (u->pool != NULL) {
    send_t *s = u->pool;
    u->pool = s->next;
    wire__free(s);
  }
  wire__free(u->rbuf);
  wire__poison(u, sizeof(*u));
  wire__free(u);
}

static socklen_t sa_len(const sockaddr_u *a)
{
  return a->sa.sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                     : sizeof(struct sockaddr_in);
}

static void emit_error(wire_udp_t *u, int err)
{
  if (u->on_error == NULL)
    return;
  wire__obj_ref(&u->obj);
  u->on_error(u, err, u->data);
  wire__obj_unref(&u->obj);
}

/* ---- create and accessors ----------------------------------------------- */

int wire_udp_create(wire_loop_t *loop, const wire_udp_opts_t *o,
                    wire_udp_t **out)
{
  wire_udp_opts_t opts = WIRE_UDP_OPTS_INIT;
  if (o != NULL)
    opts = *o;
  if (opts.type == 0)
    opts.type = WIRE_UDP4;
  if (opts.type != WIRE_UDP4 && opts.type != WIRE_UDP6)
    return WIRE_EINVAL;
  if (opts.recv_batch < 0 || opts.recv_batch > MAX_BATCH ||
      opts.recv_buffer_size < 0 || opts.send_buffer_size < 0 ||
      (opts.ipv6_only && opts.type != WIRE_UDP6))
    return WIRE_EINVAL;
  if (opts.recv_batch == 0)
    opts.recv_batch = MAX_BATCH;
  if (opts.max_message_size == 0 || opts.max_message_size > SLOT)
    opts.max_message_size = SLOT;
  wire_udp_t *u = wire__calloc(1, sizeof(*u));
  if (u == NULL)
    return WIRE_ENOMEM;
  u->o = opts;
  u->family = opts.type == WIRE_UDP6 ? AF_INET6 : AF_INET;
  unsigned flags = (unsigned)u->family;
  /* libuv's recvmmsg slots are 64 KiB: a smaller receive size means plain
   * recvmsg into a buffer of that size. */
  if (opts.recv_batch > 1 && opts.max_message_size == SLOT)
    flags |= UV_UDP_RECVMMSG;
  int err = uv_udp_init_ex(wire__uv(loop), &u->h, flags);
  if (err < 0) {
    wire__free(u);
    return err;
  }
  u->h.data = u;
  u->fd = -1;
  u->flush.fn = flush_sends;
  wire__obj_init(&u->obj, loop, finalize);
  *out = u;
  return 0;
}

void wire_udp_on_message(wire_udp_t *u, wire_udp_message_cb cb)
{
  u->on_message = cb;
}
void wire_udp_on_listening(wire_udp_t *u, wire_udp_event_cb cb)
{
  u->on_listening = cb;
}
void wire_udp_on_connect(wire_udp_t *u, wire_udp_event_cb cb)
{
  u->on_connect = cb;
}
void wire_udp_on_error(wire_udp_t *u, wire_udp_error_cb cb)
{
  u->on_error = cb;
}
void wire_udp_on_close(wire_udp_t *u, wire_udp_event_cb cb)
{
  u->on_close = cb;
}
void wire_udp_set_data(wire_udp_t *u, void *data)
{
  u->data = data;
}
void *wire_udp_data(const wire_udp_t *u)
{
  return u->data;
}
wire_loop_t *wire_udp_loop(const wire_udp_t *u)
{
  return u->obj.loop;
}

void wire_udp_ref(wire_udp_t *u)
{
  uv_ref((uv_handle_t *)&u->h);
}

void wire_udp_unref(wire_udp_t *u)
{
  uv_unref((uv_handle_t *)&u->h);
}

size_t wire_udp_send_queue_size(const wire_udp_t *u)
{
  return u->qbytes + u->h.send_queue_size;
}

size_t wire_udp_send_queue_count(const wire_udp_t *u)
{
  return u->qcount + u->h.send_queue_count;
}

/* ---- addresses ----------------------------------------------------------- */

/* A host name as RFC 1123 allows it (plus '_', seen in the wild), and not
 * made of digits and dots only: "999.1.1.1" is a malformed IP, not a name. */
static int valid_name(const char *s)
{
  size_t n = strlen(s);
  if (n == 0 || n > 253)
    return 0;
  size_t label = 0;
  int alpha = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '.') {
      if (label == 0 || s[i - 1] == '-')
        return 0;
      label = 0;
      continue;
    }
    if (c == '-' && label == 0)
      return 0; /* a label neither starts nor ends with a hyphen */
    int digit = c >= '0' && c <= '9';
    int letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!digit && !letter && c != '-' && c != '_')
      return 0;
    if (!digit)
      alpha = 1;
    if (++label > 63)
      return 0;
  }
  return alpha && s[n - 1] != '-';
}

/* Fits a resolved or parsed address to the socket's family: an IPv4
 * address on a udp6 socket becomes v4-mapped; IPv6 on udp4 is EINVAL. */
static int fit_family(const wire_udp_t *u, sockaddr_u *a)
{
  if (a->sa.sa_family == u->family)
    return 0;
  if (u->family == AF_INET || a->sa.sa_family != AF_INET)
    return WIRE_EINVAL;
  struct sockaddr_in in = a->in;
  memset(a, 0, sizeof(*a));
  a->in6.sin6_family = AF_INET6;
  a->in6.sin6_port = in.sin_port;
  a->in6.sin6_addr.s6_addr[10] = 0xff;
  a->in6.sin6_addr.s6_addr[11] = 0xff;
  memcpy(&a->in6.sin6_addr.s6_addr[12], &in.sin_addr, 4);
  return 0;
}

/* Returns 0 with *out filled for an IP literal, 1 for a name to resolve,
 * WIRE_EINVAL for anything else. */
static int parse_target(wire_udp_t *u, const char *address, int port,
                        sockaddr_u *out)
{
  if (u->dst_port > 0 && port == u->dst_port &&
      strcmp(address, u->dst_text) == 0) {
    *out = u->dst;
    return 0;
  }
  struct sockaddr_storage ss;
  if (wire__addr_parse(address, port, &ss) == 0) {
    memcpy(out, &ss, sizeof(*out));
    int err = fit_family(u, out);
    if (err < 0)
      return err;
    size_t n = strlen(address);
    if (n < sizeof(u->dst_text) && port > 0) {
      memcpy(u->dst_text, address, n + 1);
      u->dst_port = port;
      u->dst = *out;
    }
    return 0;
  }
  return valid_name(address) ? 1 : WIRE_EINVAL;
}

static void on_resolved(uv_getaddrinfo_t *req, int status,
                        struct addrinfo *res);

static int start_resolve(wire_udp_t *u, int kind, const char *name, int port,
                         resolve_t **out)
{
  resolve_t *r = wire__calloc(1, sizeof(*r));
  if (r == NULL)
    return WIRE_ENOMEM;
  r->u = u;
  r->kind = kind;
  r->port = port;
  struct addrinfo hints;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = u->family;
  hints.ai_socktype = SOCK_DGRAM;
  if (u->family == AF_INET6 && !u->o.ipv6_only)
    hints.ai_flags = AI_V4MAPPED;
  if (kind == R_BIND)
    hints.ai_flags |= AI_PASSIVE;
  int err = uv_getaddrinfo(wire__uv(u->obj.loop), &r->gai, on_resolved, name,
                           NULL, &hints);
  if (err < 0) {
    wire__free(r);
    return err;
  }
  wire__obj_ref(&u->obj);
  *out = r;
  return 0;
}

static int first_address(const wire_udp_t *u, const struct addrinfo *res,
                         int port, sockaddr_u *out)
{
  for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
      continue;
    if (ai->ai_addrlen > sizeof(*out))
      continue;
    memset(out, 0, sizeof(*out));
    memcpy(out, ai->ai_addr, ai->ai_addrlen);
    if (fit_family(u, out) < 0)
      continue;
    /* getaddrinfo without a service leaves the port 0. */
    if (out->sa.sa_family == AF_INET)
      out->in.sin_port = htons((uint16_t)port);
    else
      out->in6.sin6_port = htons((uint16_t)port);
    return 0;
  }
  return WIRE_EAI_NODATA;
}

int wire_udp_address(const wire_udp_t *u, wire_addr_t *out)
{
  if (u->bind_state != BOUND)
    return WIRE_EBADF;
  struct sockaddr_storage ss;
  int len = sizeof(ss);
  int err = uv_udp_getsockname(&u->h, (struct sockaddr *)&ss, &len);
  if (err < 0)
    return err;
  return wire__addr_from_sockaddr((struct sockaddr *)&ss, out);
}

int wire_udp_remote_address(const wire_udp_t *u, wire_addr_t *out)
{
  if (u->conn_state != CONNECTED)
    return WIRE_ENOTCONN;
  struct sockaddr_storage ss;
  int len = sizeof(ss);
  int err = uv_udp_getpeername(&u->h, (struct sockaddr *)&ss, &len);
  if (err < 0)
    return err;
  return wire__addr_from_sockaddr((struct sockaddr *)&ss, out);
}

/* ---- receiving ----------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
  (void)suggested;
  wire_udp_t *u = h->data;
  buf->base = u->rbuf;
  buf->len = u->rlen;
}

static void describe_sender(wire_udp_t *u, const struct sockaddr *sa)
{
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    if (u->rsa.sa.sa_family == AF_INET && u->rsa.in.sin_port == in->sin_port &&
        u->rsa.in.sin_addr.s_addr == in->sin_addr.s_addr)
      return;
    u->rsa.in = *in;
    uv_ip4_name(in, u->rinfo.address, sizeof(u->rinfo.address));
    u->rinfo.family = 4;
    u->rinfo.port = ntohs(in->sin_port);
  } else {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    if (u->rsa.sa.sa_family == AF_INET6 &&
        memcmp(&u->rsa.in6, in6, sizeof(*in6)) == 0)
      return;
    u->rsa.in6 = *in6;
    uv_ip6_name(in6, u->rinfo.address, sizeof(u->rinfo.address));
    u->rinfo.family = 6;
    u->rinfo.port = ntohs(in6->sin6_port);
  }
}

static void on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                    const struct sockaddr *addr, unsigned flags)
{
  wire_udp_t *u = h->data;
  /* The buffer is the socket's own: nothing to free on MMSG_FREE. After
   * close libuv may still hand over the rest of a batch: dropped. */
  if ((flags & UV_UDP_MMSG_FREE) || u->closing)
    return;
  if (nread < 0) {
    /* ICMP errors on a connected socket (ECONNREFUSED) arrive here; the
     * socket goes on receiving, as Node. */
    emit_error(u, (int)nread);
    return;
  }
  if (addr == NULL)
    return; /* nothing (more) to read */
  if (addr->sa_family != AF_INET && addr->sa_family != AF_INET6)
    return;
  describe_sender(u, addr);
  u->rinfo.size = (size_t)nread;
  u->rinfo.truncated = (flags & UV_UDP_PARTIAL) != 0;
  if (u->on_message == NULL)
    return;
  wire__obj_ref(&u->obj);
  u->on_message(u, buf->base, (size_t)nread, &u->rinfo, u->data);
  wire__obj_unref(&u->obj);
}

static int start_recv(wire_udp_t *u)
{
  if (u->reading)
    return 0;
  if (u->rbuf == NULL) {
    size_t n = u->o.max_message_size;
    if (uv_udp_using_recvmmsg(&u->h))
      n = (size_t)u->o.recv_batch * SLOT;
    u->rbuf = wire__malloc(n);
    if (u->rbuf == NULL)
      return WIRE_ENOMEM;
    u->rlen = n;
  }
  int err = uv_udp_recv_start(&u->h, on_alloc, on_recv);
  if (err < 0)
    return err;
  u->reading = 1;
  return 0;
}

/* ---- binding ---------------------------------------------------------------
 */

static int do_bind(wire_udp_t *u, const sockaddr_u *a)
{
  unsigned flags = 0;
  if (u->o.reuse_addr)
    flags |= UV_UDP_REUSEADDR;
  if (a->sa.sa_family == AF_INET6 && u->o.ipv6_only)
    flags |= UV_UDP_IPV6ONLY;
  int err = uv_udp_bind(&u->h, &a->sa, flags);
  if (err < 0)
    return err;
  int v = u->o.recv_buffer_size;
  if (v > 0 && (err = uv_recv_buffer_size((uv_handle_t *)&u->h, &v)) < 0)
    return err;
  v = u->o.send_buffer_size;
  if (v > 0 && (err = uv_send_buffer_size((uv_handle_t *)&u->h, &v)) < 0)
    return err;
  uv_os_fd_t fd;
  err = uv_fileno((uv_handle_t *)&u->h, &fd);
  if (err < 0)
    return err;
  u->fd = fd;
  u->bind_state = BOUND;
  return 0;
}

static void any_address(const wire_udp_t *u, int port, sockaddr_u *a)
{
  struct sockaddr_storage ss;
  wire__addr_parse(u->family == AF_INET6 ? "::" : "0.0.0.0", port, &ss);
  memcpy(a, &ss, sizeof(*a));
}

static void notify_bind(void *arg)
{
  wire_udp_t *u = arg;
  if (u->bind_owed)
    report_bind(u);
  wire__obj_unref(&u->obj);
}

/* Reports the bind result on a later turn; holds a ref until then. */
static int defer_bind_report(wire_udp_t *u, int status)
{
  u->bind_status = status;
  u->bind_owed = 1;
  wire__obj_ref(&u->obj);
  int err = wire__defer(u->obj.loop, notify_bind, u);
  if (err < 0) {
    u->bind_owed = 0;
    wire__obj_unref(&u->obj);
  }
  return err;
}

/* Fails the queued datagrams that cannot go out: all of them (only_unspec
 * 0) or those for the connected peer. */
static void fail_queued(wire_udp_t *u, int err, int only_unspec);

static void report_bind(wire_udp_t *u)
{
  u->bind_owed = 0;
  int status = u->closing ? WIRE_ECANCELED : u->bind_status;
  wire_udp_status_cb cb = u->bind_cb;
  u->bind_cb = NULL;
  wire__obj_ref(&u->obj);
  if (status == 0)
    status = start_recv(u);
  if (status == 0) {
    if (u->on_listening != NULL)
      u->on_listening(u, u->data);
  } else if (status != WIRE_ECANCELED) {
    if (u->bind_state != BOUND)
      u->bind_state = UNBOUND; /* a failed bind may be tried again */
    emit_error(u, status);
  }
  if (cb != NULL)
    cb(u, status, u->data);
  if (!u->closing) {
    if (u->bind_state == UNBOUND) {
      /* What waited for the bind fails with its error. */
      fail_queued(u, status, 0);
      if (u->conn_owed) {
        detach(u->conn_res);
        u->conn_res = NULL;
        u->conn_waiting = 0;
        u->conn_status = status;
        report_connect(u);
      }
    } else {
      if (u->conn_waiting) {
        u->conn_waiting = 0;
        u->conn_status = do_connect(u, &u->conn_target);
        report_connect(u);
      }
      if (u->head != NULL)
        wire__flush_queue(u->obj.loop, &u->flush);
    }
  }
  wire__obj_unref(&u->obj);
}

/* Node binds an unbound socket to a random port on its first send or
 * connect, and emits listening for it. */
static int implicit_bind(wire_udp_t *u)
{
  sockaddr_u a;
  any_address(u, 0, &a);
  int err = do_bind(u, &a);
  if (err < 0)
    return err;
  return defer_bind_report(u, 0);
}

int wire_udp_bind(wire_udp_t *u, int port, const char *address,
                  wire_udp_status_cb cb)
{
  if (u->closing)
    return WIRE_ECLOSED;
  if (u->bind_state != UNBOUND || u->bind_owed)
    return WIRE_EALREADY;
  if (port < 0 || port > 65535)
    return WIRE_EINVAL;
  sockaddr_u a;
  int kind = 0;
  if (address == NULL)
    any_address(u, port, &a);
  else
    kind = parse_target(u, address, port, &a);
  if (kind < 0)
    return kind;
  if (kind == 1) {
    int err = start_resolve(u, R_BIND, address, port, &u->bind_res);
    if (err < 0)
      return err;
    u->bind_state = BINDING;
    u->bind_owed = 1;
    u->bind_cb = cb;
    return 0;
  }
  int status = do_bind(u, &a);
  int err = defer_bind_report(u, status);
  if (err < 0)
    return err;
  if (status < 0)
    u->bind_state = BINDING; /* until reported: no second bind meanwhile */
  u->bind_cb = cb;
  return 0;
}

/* ---- connecting ------------------------------------------------------------
 */

static int do_connect(wire_udp_t *u, const sockaddr_u *a)
{
  int err = uv_udp_connect(&u->h, &a->sa);
  if (err == 0)
    u->conn_state = CONNECTED;
  return err;
}

static void notify_connect(void *arg)
{
  wire_udp_t *u = arg;
  if (u->conn_owed)
    report_connect(u);
  wire__obj_unref(&u->obj);
}

static void report_connect(wire_udp_t *u)
{
  u->conn_owed = 0;
  int status = u->closing ? WIRE_ECANCELED : u->conn_status;
  wire_udp_status_cb cb = u->conn_cb;
  u->conn_cb = NULL;
  wire__obj_ref(&u->obj);
  if (status < 0 && u->conn_state == CONNECTING)
    u->conn_state = DISCONNECTED;
  if (status == 0 && u->on_connect != NULL)
    u->on_connect(u, u->data);
  if (cb != NULL)
    cb(u, status, u->data);
  else if (status < 0 && status != WIRE_ECANCELED)
    emit_error(u, status);
  if (!u->closing) {
    if (status < 0)
      fail_queued(u, status, 1);
    if (u->head != NULL && u->bind_state == BOUND)
      wire__flush_queue(u->obj.loop, &u->flush);
  }
  wire__obj_unref(&u->obj);
}

int wire_udp_connect(wire_udp_t *u, int port, const char *address,
                     wire_udp_status_cb cb)
{
  if (u->closing)
    return WIRE_ECLOSED;
  if (u->conn_state != DISCONNECTED)
    return WIRE_EISCONN;
  if (port < 1 || port > 65535)
    return WIRE_EINVAL;
  if (address == NULL)
    address = u->family == AF_INET6 ? "::1" : "127.0.0.1";
  sockaddr_u a;
  int kind = parse_target(u, address, port, &a);
  if (kind < 0)
    return kind;
  if (u->bind_state == UNBOUND) {
    int err = implicit_bind(u);
    if (err < 0)
      return err;
  }
  if (kind == 1) {
    int err = start_resolve(u, R_CONNECT, address, port, &u->conn_res);
    if (err < 0)
      return err;
  } else if (u->bind_state == BINDING) {
    /* Connect once the bind is done (report_bind). */
    u->conn_target = a;
    u->conn_waiting = 1;
  } else {
    u->conn_status = do_connect(u, &a);
    wire__obj_ref(&u->obj);
    int err = wire__defer(u->obj.loop, notify_connect, u);
    if (err < 0) {
      wire__obj_unref(&u->obj);
      if (u->conn_status == 0)
        wire_udp_disconnect(u);
      return err;
    }
  }
  if (u->conn_state == DISCONNECTED)
    u->conn_state = CONNECTING;
  u->conn_owed = 1;
  u->conn_cb = cb;
  return 0;
}

int wire_udp_disconnect(wire_udp_t *u)
{
  if (u->conn_state != CONNECTED)
    return WIRE_ENOTCONN;
  int err = uv_udp_connect(&u->h, NULL);
  if (err < 0)
    return err;
  u->conn_state = DISCONNECTED;
  return 0;
}

/* ---- lookups ------------------------------------------------------------- */

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
  resolve_t *r = (resolve_t *)req;
  wire_udp_t *u = r->u;
  sockaddr_u a;
  if (!r->detached) {
    if (status == 0)
      status = first_address(u, res, r->port, &a);
    if (r->kind == R_SEND) {
      send_t *s = r->send;
      s->resolving = NULL;
      if (status < 0)
        s->status = status;
      else
        s->addr = a;
      wire__flush_queue(u->obj.loop, &u->flush);
    } else if (r->kind == R_BIND) {
      u->bind_res = NULL;
      u->bind_status = status < 0 ? status : do_bind(u, &a);
      if (u->bind_status < 0)
        u->bind_state = BINDING;
      report_bind(u);
    } else {
      u->conn_res = NULL;
      if (status == 0 && u->bind_state == BINDING) {
        u->conn_target = a; /* report_bind connects */
        u->conn_waiting = 1;
      } else {
        u->conn_status = status < 0 ? status : do_connect(u, &a);
        report_connect(u);
      }
    }
  }
  if (res != NULL)
    uv_freeaddrinfo(res);
  wire__free(r);
  wire__obj_unref(&u->obj);
}

static void detach(resolve_t *r)
{
  if (r == NULL)
    return;
  r->detached = 1;
  uv_cancel((uv_req_t *)&r->gai);
}

/* ---- sending ------------------------------------------------------------- */

static send_t *send_new(wire_udp_t *u, size_t len)
{
  send_t *s;
  if (len <= POOL_DATA && u->pool != NULL) {
    s = u->pool;
    u->pool = s->next;
    u->npool--;
  } else {
    size_t cap = len <= POOL_DATA ? POOL_DATA : len;
    s = wire__malloc(sizeof(*s) + cap);
    if (s == NULL)
      return NULL;
    s->cap = cap;
  }
  s->next = NULL;
  s->u = u;
  s->resolving = NULL;
  s->status = 0;
  s->len = len;
  return s;
}

static void send_free(wire_udp_t *u, send_t *s)
{
  if (s->cap == POOL_DATA && u->npool < POOL_MAX) {
    s->next = u->pool;
    u->pool = s;
    u->npool++;
  } else {
    wire__free(s);
  }
}

static send_t *pop(wire_udp_t *u)
{
  send_t *s = u->head;
  u->head = s->next;
  if (u->head == NULL)
    u->tail = NULL;
  u->qbytes -= s->len;
  u->qcount--;
  return s;
}

/* Runs the send callback (or the error event) and recycles the entry. The
 * caller holds a ref on u. */
static void complete(wire_udp_t *u, send_t *s, int status)
{
  wire_udp_send_cb cb = s->cb;
  void *arg = s->arg;
  send_free(u, s);
  if (cb != NULL)
    cb(u, status, arg);
  else if (status < 0 && status != WIRE_ECANCELED)
    emit_error(u, status);
}

static void fail_queued(wire_udp_t *u, int err, int only_unspec)
{
  wire__obj_ref(&u->obj);
  send_t *keep = NULL;
  send_t *keep_tail = NULL;
  size_t kbytes = 0;
  size_t kcount = 0;
  /* Detach the queue first: callbacks may send more, which must queue
   * behind what is kept. */
  send_t *s = u->head;
  u->head = u->tail = NULL;
  u->qbytes = u->qcount = 0;
  send_t *failed = NULL;
  send_t *failed_tail = NULL;
  while (s != NULL) {
    send_t *next = s->next;
    s->next = NULL;
    if (only_unspec && s->addr.sa.sa_family != AF_UNSPEC) {
      if (keep_tail != NULL)
        keep_tail->next = s;
      else
        keep = s;
      keep_tail = s;
      kbytes += s->len;
      kcount++;
    } else {
      if (s->resolving != NULL) {
        detach(s->resolving);
        s->resolving = NULL;
      }
      if (failed_tail != NULL)
        failed_tail->next = s;
      else
        failed = s;
      failed_tail = s;
    }
    s = next;
  }
  if (keep != NULL) {
    keep_tail->next = u->head;
    u->head = keep;
    if (u->tail == NULL)
      u->tail = keep_tail;
    u->qbytes += kbytes;
    u->qcount += kcount;
  }
  while (failed != NULL) {
    s = failed;
    failed = s->next;
    complete(u, s, err);
  }
  wire__obj_unref(&u->obj);
}

static void deliver(void *arg)
{
  wire_udp_t *u = arg;
  u->deliver_queued = 0;
  while (u->done_head != NULL) {
    send_t *s = u->done_head;
    u->done_head = s->next;
    if (u->done_head == NULL)
      u->done_tail = NULL;
    complete(u, s, s->status);
  }
}

static void deliver_deferred(void *arg)
{
  wire_udp_t *u = arg;
  deliver(u);
  wire__obj_unref(&u->obj);
}

/* The end of a datagram taken out of the queue by a flush: recycled at
 * once when nobody is to hear of it, else completed on the next turn. */
static void finish(wire_udp_t *u, send_t *s, int status)
{
  if (s->cb == NULL && status >= 0) {
    send_free(u, s);
    return;
  }
  s->status = status;
  s->next = NULL;
  if (u->done_tail != NULL)
    u->done_tail->next = s;
  else
    u->done_head = s;
  u->done_tail = s;
  if (u->deliver_queued)
    return;
  wire__obj_ref(&u->obj);
  if (wire__defer(u->obj.loop, deliver_deferred, u) < 0) {
    wire__obj_unref(&u->obj);
    deliver(u); /* out of memory: now rather than never */
    return;
  }
  u->deliver_queued = 1;
}

static void on_uv_sent(uv_udp_send_t *req, int status)
{
  send_t *s = (send_t *)((char *)req - offsetof(send_t, req));
  wire_udp_t *u = s->u;
  complete(u, s, status < 0 ? status : (int)s->len);
  wire__obj_unref(&u->obj);
}

/* Hands the ready head of the queue to libuv, which sends when the socket
 * is writable again. */
static void hand_to_uv(wire_udp_t *u)
{
  while (u->head != NULL && u->head->resolving == NULL && !u->closing) {
    send_t *s = pop(u);
    if (s->status < 0) {
      finish(u, s, s->status);
      continue;
    }
    uv_buf_t b = uv_buf_init(s->data, (unsigned)s->len);
    const struct sockaddr *sa =
        s->addr.sa.sa_family == AF_UNSPEC ? NULL : &s->addr.sa;
    int err = uv_udp_send(&s->req, &u->h, &b, 1, sa, on_uv_sent);
    if (err < 0) {
      finish(u, s, err);
      continue;
    }
    wire__obj_ref(&u->obj);
  }
}

static void flush_sends(wire__flush_t *f)
{
  wire_udp_t *u = (wire_udp_t *)((char *)f - offsetof(wire_udp_t, flush));
  if (u->closing || u->bind_state != BOUND || u->conn_state == CONNECTING)
    return;
  wire__obj_ref(&u->obj);
  while (u->head != NULL && u->head->resolving == NULL && !u->closing) {
    if (u->h.send_queue_count > 0) {
      hand_to_uv(u);
      break;
    }
    struct mmsghdr msgs[SEND_BATCH];
    struct iovec iov[SEND_BATCH];
    unsigned n = 0;
    for (send_t *s = u->head; s != NULL && n < SEND_BATCH; s = s->next) {
      if (s->resolving != NULL || s->status < 0)
        break;
      iov[n].iov_base = s->data;
      iov[n].iov_len = s->len;
      memset(&msgs[n], 0, sizeof(msgs[n]));
      msgs[n].msg_hdr.msg_iov = &iov[n];
      msgs[n].msg_hdr.msg_iovlen = 1;
      if (s->addr.sa.sa_family != AF_UNSPEC) {
        msgs[n].msg_hdr.msg_name = &s->addr;
        msgs[n].msg_hdr.msg_namelen = sa_len(&s->addr);
      }
      n++;
    }
    if (n == 0) {
      send_t *s = pop(u); /* a failed lookup */
      finish(u, s, s->status);
      continue;
    }
    int r;
    do
      r = sendmmsg(u->fd, msgs, n, 0);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
        hand_to_uv(u);
        break;
      }
      int err = -errno;
      finish(u, pop(u), err); /* EMSGSIZE, ECONNREFUSED, ... */
      continue;
    }
    for (int i = 0; i < r; i++) {
      send_t *s = pop(u);
      finish(u, s, (int)s->len);
    }
  }
  wire__obj_unref(&u->obj);
}

static int send_common(wire_udp_t *u, const wire_buf_t *bufs, size_t nbufs,
                       int port, const char *address, wire_udp_send_cb cb,
                       void *arg)
{
  if (u->closing)
    return WIRE_ECLOSED;
  sockaddr_u a;
  int kind = 0;
  if (address == NULL && port == 0) {
    if (u->conn_state == DISCONNECTED)
      return WIRE_ENOTCONN;
    memset(&a, 0, sizeof(a));
    a.sa.sa_family = AF_UNSPEC;
  } else {
    if (u->conn_state != DISCONNECTED)
      return WIRE_EISCONN;
    if (port < 1 || port > 65535)
      return WIRE_EINVAL;
    if (address == NULL)
      address = u->family == AF_INET6 ? "::1" : "127.0.0.1";
    kind = parse_target(u, address, port, &a);
    if (kind < 0)
      return kind;
  }
  size_t len = 0;
  for (size_t i = 0; i < nbufs; i++) {
    if (bufs[i].len > (size_t)INT32_MAX - len)
      return WIRE_EMSGSIZE;
    len += bufs[i].len;
  }
  send_t *s = send_new(u, len);
  if (s == NULL)
    return WIRE_ENOMEM;
  if (kind == 1) {
    int err = start_resolve(u, R_SEND, address, port, &s->resolving);
    if (err < 0) {
      send_free(u, s);
      return err;
    }
    s->resolving->send = s;
  }
  if (u->bind_state == UNBOUND) {
    int err = implicit_bind(u);
    if (err < 0) {
      if (s->resolving != NULL)
        detach(s->resolving);
      send_free(u, s);
      return err;
    }
  }
  size_t off = 0;
  for (size_t i = 0; i < nbufs; i++) {
    if (bufs[i].len > 0)
      memcpy(s->data + off, bufs[i].base, bufs[i].len);
    off += bufs[i].len;
  }
  s->addr = a;
  s->cb = cb;
  s->arg = arg;
  if (u->tail != NULL)
    u->tail->next = s;
  else
    u->head = s;
  u->tail = s;
  u->qbytes += len;
  u->qcount++;
  if (kind == 0)
    wire__flush_queue(u->obj.loop, &u->flush);
  return 0;
}

int wire_udp_send(wire_udp_t *u, const void *buf, size_t offset, size_t length,
                  int port, const char *address, wire_udp_send_cb cb, void *arg)
{
  if (buf == NULL && length > 0)
    return WIRE_EINVAL;
  wire_buf_t b =
      wire_buf(buf != NULL ? (const char *)buf + offset : NULL, length);
  return send_common(u, &b, 1, port, address, cb, arg);
}

int wire_udp_sendv(wire_udp_t *u, const wire_buf_t *bufs, size_t nbufs,
                   int port, const char *address, wire_udp_send_cb cb,
                   void *arg)
{
  if (bufs == NULL && nbufs > 0)
    return WIRE_EINVAL;
  return send_common(u, bufs, nbufs, port, address, cb, arg);
}

/* ---- options ---------------------------------------------------------------
 */

int wire_udp_set_broadcast(wire_udp_t *u, int on)
{
  return uv_udp_set_broadcast(&u->h, on);
}

int wire_udp_set_ttl(wire_udp_t *u, int ttl)
{
  return uv_udp_set_ttl(&u->h, ttl);
}

int wire_udp_set_multicast_ttl(wire_udp_t *u, int ttl)
{
  return uv_udp_set_multicast_ttl(&u->h, ttl);
}

int wire_udp_set_multicast_loopback(wire_udp_t *u, int on)
{
  return uv_udp_set_multicast_loop(&u->h, on);
}

int wire_udp_set_multicast_interface(wire_udp_t *u, const char *iface)
{
  return uv_udp_set_multicast_interface(&u->h, iface);
}

int wire_udp_add_membership(wire_udp_t *u, const char *group, const char *iface)
{
  if (group == NULL)
    return WIRE_EINVAL;
  return uv_udp_set_membership(&u->h, group, iface, UV_JOIN_GROUP);
}

int wire_udp_drop_membership(wire_udp_t *u, const char *group,
                             const char *iface)
{
  if (group == NULL)
    return WIRE_EINVAL;
  return uv_udp_set_membership(&u->h, group, iface, UV_LEAVE_GROUP);
}

int wire_udp_add_source_membership(wire_udp_t *u, const char *source,
                                   const char *group, const char *iface)
{
  if (group == NULL || source == NULL)
    return WIRE_EINVAL;
  return uv_udp_set_source_membership(&u->h, group, iface, source,
                                      UV_JOIN_GROUP);
}

int wire_udp_drop_source_membership(wire_udp_t *u, const char *source,
                                    const char *group, const char *iface)
{
  if (group == NULL || source == NULL)
    return WIRE_EINVAL;
  return uv_udp_set_source_membership(&u->h, group, iface, source,
                                      UV_LEAVE_GROUP);
}

static int buffer_size(wire_udp_t *u, int send, int value)
{
  if (u->bind_state != BOUND)
    return WIRE_EBADF; /* as Node: the sizes need a bound socket */
  int v = value;
  int err = send ? uv_send_buffer_size((uv_handle_t *)&u->h, &v)
                 : uv_recv_buffer_size((uv_handle_t *)&u->h, &v);
  if (err < 0)
    return err;
  return value == 0 ? v : 0;
}

int wire_udp_set_recv_buffer_size(wire_udp_t *u, int size)
{
  return size > 0 ? buffer_size(u, 0, size) : WIRE_EINVAL;
}

int wire_udp_set_send_buffer_size(wire_udp_t *u, int size)
{
  return size > 0 ? buffer_size(u, 1, size) : WIRE_EINVAL;
}

int wire_udp_recv_buffer_size(wire_udp_t *u)
{
  return buffer_size(u, 0, 0);
}

int wire_udp_send_buffer_size(wire_udp_t *u)
{
  return buffer_size(u, 1, 0);
}

/* ---- closing ---------------------------------------------------------------
 */

static void on_closed(uv_handle_t *h)
{
  wire_udp_t *u = h->data;
  /* libuv already completed the datagrams it held with UV_ECANCELED (in
   * uv__udp_finish_close, before this callback). */
  if (u->bind_owed)
    report_bind(u);
  if (u->conn_owed)
    report_connect(u);
  deliver(u);
  while (u->head != NULL)
    complete(u, pop(u), WIRE_ECANCELED);
  if (u->on_close != NULL)
    u->on_close(u, u->data);
  if (u->close_cb != NULL)
    u->close_cb(u, u->data);
  wire__obj_unref(&u->obj);
}

void wire_udp_close(wire_udp_t *u, wire_udp_event_cb cb)
{
  assert(!u->closing && "wire_udp_close called twice");
  u->closing = 1;
  u->close_cb = cb;
  wire__flush_cancel(u->obj.loop, &u->flush);
  detach(u->bind_res);
  detach(u->conn_res);
  u->bind_res = u->conn_res = NULL;
  for (send_t *s = u->head; s != NULL; s = s->next) {
    if (s->resolving != NULL) {
      detach(s->resolving);
      s->resolving = NULL;
    }
  }
  uv_close((uv_handle_t *)&u->h, on_closed);
}
