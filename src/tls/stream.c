/* TLS: a stream layered on a stream.
 *
 * A TLS socket is a wire_socket_t whose transport is this file: the
 * stream engine above it (write queue, backpressure, end, close, timeout,
 * pipe, events) is the one every socket has, and below it is a plain
 * socket (the "lower" one, TCP or Unix) whose callbacks belong to this
 * layer. The TLS state lives in the same allocation as the socket (the
 * socket struct without its libuv handle, then a tls_t).
 *
 * Bytes. OpenSSL talks to a small BIO of ours. Its read side hands out the
 * ciphertext of the lower socket's current read (the loop's shared read
 * buffer) without a copy of ours. OpenSSL reads ahead (as nginx has it):
 * one BIO read takes what its record buffer holds, not a record header
 * then its body, so it may keep whole records that the reader, paused,
 * has not asked for yet (SSL_has_pending). What it did not take when the
 * reader pauses is copied into a buffer of exactly that size, freed once
 * consumed. Its write side copies each record straight into the lower
 * socket's write queue. Plain text is decrypted into one per-thread
 * 16 KiB buffer (a TLS record's maximum) and lent to the data event. An
 * idle TLS socket thus holds no buffer of its own, and OpenSSL's are
 * released too: after each use, or, for a server's connections, once idle
 * for one to two seconds (on_sweep).
 *
 * Writes. try_write encrypts from the engine's queue while the lower
 * socket is under its high-water mark and reports what it took; when the
 * lower socket is full it takes nothing and the engine falls back to
 * write, which keeps the engine's buffers and goes on encrypting on the
 * lower socket's drain, completing once everything went down. So the
 * memory in flight is bounded by the two high-water marks whatever the
 * peer does.
 *
 * Life. Created connecting: the handshake runs as the lower socket reads
 * (with a handshake timeout on the lower socket); when it is done the
 * handshake callback (client) or the server's secure event runs and the
 * engine is told the socket is connected. end() sends close_notify, then
 * ends the lower socket; the shutdown completes when those bytes left.
 * A close_notify from the peer is the end event. close() closes the lower
 * socket and the TLS socket closes when it is gone. A TLS failure sends
 * OpenSSL's alert, flushes it briefly, then closes. */
#include <arpa/inet.h>
#include <assert.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define REC (16 * 1024)             /* TLS record plain text maximum */
#define LOWER_HWM (64 * 1024)       /* lower socket's high-water mark */
#define HANDSHAKE_TIMEOUT_MS 120000 /* Node's default */
#define FAIL_FLUSH_MS 1000          /* time given to a final alert */
#define SWEEP_MS 1000 /* a server frees idle connections' buffers this often   \
                       */
#define HAS(s, f) (((s)->flags & (f)) != 0)

typedef struct tls_s tls_t;
struct tls_s {
  wire_socket_t *s;     /* the TLS socket */
  wire_socket_t *lower; /* the plain socket under it */
  SSL *ssl;
  wire_tls_server_t *srv; /* the server that accepted it, or NULL */
  tls_t *srv_prev;
  tls_t *srv_next;

  wire_tls_handshake_cb hs_cb;
  void *hs_arg;
  wire_tls_session_cb on_session;

  /* Ciphertext being fed to OpenSSL, and what was left over. */
  const char *in;
  size_t in_len;
  char *pend;
  size_t pend_len;

  /* An async write: the engine's buffers, encrypted on lower drains. */
  uv_buf_t *wbufs;
  unsigned wn;
  unsigned wi;
  size_t woff;
  int werr; /* the lower socket refused a record */

  const unsigned char *alpn; /* server: protocols, wire format */
  unsigned alpn_len;
  unsigned char *alpn_own;
  wire_tls_sni_cb sni;
  void *sni_arg;

  char *last_error;
  const char *authz_error; /* static strings */
  char *alpn_sel;
  unsigned char *sess; /* a new session to report */
  size_t sess_len;

  unsigned server : 1;
  unsigned reject : 1;
  unsigned request_cert : 1;
  unsigned hs_done : 1;
  unsigned hs_ran : 1; /* this feed ran a handshake step */
  unsigned hs_cb_done : 1;
  unsigned authorized : 1;
  unsigned writing : 1;
  unsigned kick_queued : 1;
  unsigned low_eof : 1;
  unsigned got_eof : 1;
  unsigned failed : 1; /* close after flushing the alert */
  unsigned lower_gone : 1;
  unsigned keep_bufs : 1; /* OpenSSL keeps its buffers; the sweep frees them */
  unsigned idle : 2;      /* server sweeps since the last read or write */
};

/* The TLS state sits after the handle-less socket, aligned. */
#define TLS_OFF ((offsetof(struct wire_socket_s, h) + 15) & ~(size_t)15)
#define TLS_OF(s) ((tls_t *)((char *)(s) + TLS_OFF))

static _Thread_local char plain[REC];
static _Thread_local char stage[REC];

static const wire__transport_t tls_transport;

/* ---- one-time OpenSSL objects -------------------------------------------- */

static uv_once_t once = UV_ONCE_INIT;
static int ex_index = -1;
static BIO_METHOD *bio_method;

static int bio_write(BIO *b, const char *data, int len);
static int bio_read(BIO *b, char *out, int len);
static long bio_ctrl(BIO *b, int cmd, long num, void *ptr);

static int bio_create(BIO *b)
{
  BIO_set_init(b, 1);
  return 1;
}

static int bio_destroy(BIO *b)
{
  (void)b;
  return 1;
}

static void init_once(void)
{
  ex_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
  BIO_METHOD *m =
      BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "wire");
  if (m == NULL)
    return;
  BIO_meth_set_write(m, bio_write);
  BIO_meth_set_read(m, bio_read);
  BIO_meth_set_ctrl(m, bio_ctrl);
  BIO_meth_set_create(m, bio_create);
  BIO_meth_set_destroy(m, bio_destroy);
  bio_method = m;
}

static tls_t *tls_of_ssl(SSL *ssl)
{
  return ex_index < 0 ? NULL : SSL_get_ex_data(ssl, ex_index);
}

/* ---- the BIO: ciphertext in from the lower read, out to its queue -------- */

static int bio_write(BIO *b, const char *data, int len)
{
  tls_t *t = BIO_get_data(b);
  BIO_clear_retry_flags(b);
  if (t->lower_gone) {
    t->werr = WIRE_ECLOSED;
    return -1;
  }
  int r = wire_socket_write(t->lower, data, (size_t)len);
  if (r < 0) {
    t->werr = r;
    return -1;
  }
  return len;
}

static int bio_read(BIO *b, char *out, int len)
{
  tls_t *t = BIO_get_data(b);
  BIO_clear_retry_flags(b);
  if (t->in_len == 0) {
    BIO_set_retry_read(b);
    return -1;
  }
  size_t n = (size_t)len < t->in_len ? (size_t)len : t->in_len;
  memcpy(out, t->in, n);
  t->in += n;
  t->in_len -= n;
  return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
  (void)num, (void)ptr;
  tls_t *t = BIO_get_data(b);
  switch (cmd) {
  case BIO_CTRL_FLUSH:
  case BIO_CTRL_DUP:
    return 1;
  case BIO_CTRL_PENDING:
    return (long)t->in_len;
  default:
    return 0;
  }
}

/* ---- helpers ---------------------------------------------------------------
 */

/* Empties the thread's OpenSSL error queue before an SSL call, so that
 * SSL_get_error judges that call alone. ERR_clear_error always walks all
 * 16 slots of the queue (about 800 instructions in OpenSSL 3, a tenth of
 * an HTTPS keep-alive request); ERR_peek_error only looks at its ends.
 * The queue is nearly always empty already: each failure path clears it. */
static void err_reset(void)
{
  if (ERR_peek_error() != 0)
    ERR_clear_error();
}

static int lower_full(const tls_t *t)
{
  return t->lower->wq_bytes >= t->lower->hwm;
}

static void set_error(tls_t *t, const char *msg)
{
  wire__free(t->last_error);
  t->last_error = wire__strdup(msg);
}

/* The code and reason of a failed SSL call (ret, its SSL_get_error e). */
static int ssl_failure(tls_t *t, int e)
{
  char buf[256];
  if (t->werr < 0) {
    int err = t->werr;
    ERR_clear_error();
    set_error(t, wire_strerror(err));
    return err;
  }
  unsigned long x = ERR_get_error();
  const char *r = x != 0 ? ERR_reason_error_string(x) : NULL;
  long vr = SSL_get_verify_result(t->ssl);
  if (x != 0 && ERR_GET_REASON(x) == SSL_R_CERTIFICATE_VERIFY_FAILED &&
      vr != X509_V_OK)
    snprintf(buf, sizeof(buf), "certificate verify failed: %s",
             X509_verify_cert_error_string(vr));
  else if (r != NULL)
    snprintf(buf, sizeof(buf), "%s", r);
  else if (e == SSL_ERROR_SYSCALL)
    snprintf(buf, sizeof(buf), "unexpected end of stream");
  else
    snprintf(buf, sizeof(buf), "TLS error %d", e);
  ERR_clear_error();
  set_error(t, buf);
  return WIRE_ETLS;
}

/* Fails the TLS socket: the error event and a close. The alert OpenSSL
 * queued on the lower socket gets a moment to leave first (tp_close). */
static void fail(tls_t *t, int err)
{
  t->failed = 1;
  wire__stream_fail(t->s, err);
}

/* ---- the handshake ----------------------------------------------------------
 */

static void server_secure(tls_t *t);
static void server_client_error(tls_t *t, int err);

static void hs_callback(tls_t *t, int status)
{
  if (t->hs_cb_done)
    return;
  t->hs_cb_done = 1;
  if (t->hs_cb != NULL)
    t->hs_cb(t->s, status, t->hs_arg);
}

static void hs_fail(tls_t *t, int err)
{
  wire_socket_t *s = t->s;
  if (HAS(s, WIRE__S_CLOSING))
    return;
  wire__socket_ref(s);
  if (t->srv != NULL)
    server_client_error(t, err);
  else
    hs_callback(t, err);
  t->failed = 1;
  wire__stream_fail(s, err);
  wire__socket_unref(s);
}

static void hs_done(tls_t *t)
{
  wire_socket_t *s = t->s;
  t->hs_done = 1;
  if (!t->lower_gone)
    wire_socket_set_timeout(t->lower, 0);
  X509 *peer = SSL_get0_peer_certificate(t->ssl);
  long vr = SSL_get_verify_result(t->ssl);
  if (peer == NULL) {
    t->authz_error = (t->server && !t->request_cert)
                         ? NULL
                         : "peer did not return a certificate";
  } else if (vr != X509_V_OK) {
    t->authz_error = X509_verify_cert_error_string(vr);
  } else {
    t->authorized = 1;
  }
  const unsigned char *p;
  unsigned len;
  SSL_get0_alpn_selected(t->ssl, &p, &len);
  if (len > 0) {
    t->alpn_sel = wire__malloc(len + 1);
    if (t->alpn_sel != NULL) {
      memcpy(t->alpn_sel, p, len);
      t->alpn_sel[len] = '\0';
    }
  }
  wire__socket_ref(s);
  if (t->srv != NULL)
    server_secure(t);
  else
    hs_callback(t, 0);
  if (!HAS(s, WIRE__S_CLOSING)) {
    wire__stream_connected(s);
    /* Paused in the callback (or before): the lower socket read only for
     * the handshake. */
    if (!HAS(s, WIRE__S_READING) && !t->lower_gone)
      wire_socket_pause(t->lower);
  }
  wire__socket_unref(s);
}

/* ---- reading --------------------------------------------------------------
 */

static int want_read(const tls_t *t)
{
  const wire_socket_t *s = t->s;
  return t->hs_done && HAS(s, WIRE__S_READING) &&
         !HAS(s, WIRE__S_CLOSING | WIRE__S_READ_EOF);
}

static void report_session(tls_t *t)
{
  unsigned char *der = t->sess;
  size_t len = t->sess_len;
  t->sess = NULL;
  if (t->on_session != NULL && !HAS(t->s, WIRE__S_CLOSING))
    t->on_session(t->s, der, len, t->s->data);
  wire__free(der);
}

/* Runs the handshake and decrypts what the current input holds, as long
 * as the reader wants data. */
static void pump(tls_t *t)
{
  wire_socket_t *s = t->s;
  if (!t->hs_done) {
    t->hs_ran = 1;
    err_reset();
    int r = SSL_do_handshake(t->ssl);
    if (r != 1) {
      int e = SSL_get_error(t->ssl, r);
      if (e == SSL_ERROR_WANT_READ) {
        if (t->low_eof) {
          set_error(t, "connection closed during the handshake");
          hs_fail(t, WIRE_ECONNRESET);
        }
        return;
      }
      hs_fail(t, ssl_failure(t, e));
      return;
    }
    hs_done(t);
  }
  while (want_read(t)) {
    err_reset();
    int n = SSL_read(t->ssl, plain, sizeof(plain));
    if (t->sess != NULL)
      report_session(t);
    if (n > 0) {
      wire__stream_on_read(s, n, plain);
      /* Every byte fed went into OpenSSL and it holds nothing, not even
       * part of a record: another SSL_read could only say WANT_READ, at
       * the cost of a record-layer pass. One SSL_read per request. */
      if (t->in_len == 0 && !SSL_has_pending(t->ssl))
        break;
      continue;
    }
    int e = SSL_get_error(t->ssl, n);
    if (e == SSL_ERROR_WANT_READ)
      break;
    if (e == SSL_ERROR_ZERO_RETURN) {
      /* close_notify: the peer's end. */
      t->got_eof = 1;
      wire__stream_on_read(s, UV_EOF, NULL);
      break;
    }
    fail(t, ssl_failure(t, e));
    return;
  }
  /* The peer's FIN without a close_notify: an end too (as Node). */
  if (t->low_eof && !t->got_eof && t->in_len == 0 && want_read(t) &&
      SSL_pending(t->ssl) == 0) {
    t->got_eof = 1;
    wire__stream_on_read(s, UV_EOF, NULL);
  }
}

/* Feeds buf (may be empty) after any saved ciphertext, pumps, and saves
 * what is left. */
static void feed(tls_t *t, const char *buf, size_t len)
{
  wire_socket_t *s = t->s;
  if (len > 0 && t->pend_len > 0) {
    char *p = wire__realloc(t->pend, t->pend_len + len);
    if (p == NULL) {
      fail(t, WIRE_ENOMEM);
      return;
    }
    memcpy(p + t->pend_len, buf, len);
    t->pend = p;
    t->pend_len += len;
  }
  if (t->pend_len > 0) {
    t->in = t->pend;
    t->in_len = t->pend_len;
  } else {
    t->in = buf;
    t->in_len = len;
  }
  wire__socket_ref(s);
  t->idle = 0;
  pump(t);
  size_t left = t->in_len;
  if (HAS(s, WIRE__S_CLOSING) || HAS(s, WIRE__S_READ_EOF))
    left = 0;
  if (left == 0) {
    wire__free(t->pend);
    t->pend = NULL;
    t->pend_len = 0;
  } else if (t->pend_len > 0) {
    memmove(t->pend, t->in, left);
    t->pend_len = left;
  } else {
    t->pend = wire__malloc(left);
    if (t->pend == NULL) {
      fail(t, WIRE_ENOMEM);
    } else {
      memcpy(t->pend, t->in, left);
      t->pend_len = left;
    }
  }
  t->in = NULL;
  t->in_len = 0;
  /* A handshake step's answer leaves now, not after every other handshake
   * of this turn: each costs a signature, and 64 of them in one turn held
   * the first peer's answer for all 64 while its client sat idle. */
  if (t->hs_ran) {
    t->hs_ran = 0;
    if (!t->lower_gone && !HAS(s, WIRE__S_CLOSING))
      wire__socket_flush_now(t->lower);
  }
  wire__socket_unref(s);
}

/* ---- writing ----------------------------------------------------------------
 */

/* Encrypts bufs from (*pi, *poff) on while the lower socket has room.
 * Small buffers are gathered into one record. Returns the bytes taken or a
 * negative error. */
static int seal(tls_t *t, const uv_buf_t *bufs, unsigned n, unsigned *pi,
                size_t *poff)
{
  size_t taken = 0;
  t->idle = 0;
  while (*pi < n && !lower_full(t)) {
    const uv_buf_t *b = &bufs[*pi];
    size_t left = b->len - *poff;
    if (left == 0) {
      (*pi)++;
      *poff = 0;
      continue;
    }
    const char *p;
    size_t k;
    if (left >= REC) {
      p = b->base + *poff;
      k = REC;
      *poff += REC;
    } else {
      k = 0;
      while (*pi < n && k < REC) {
        size_t m = bufs[*pi].len - *poff;
        if (m > REC - k)
          m = REC - k;
        memcpy(stage + k, bufs[*pi].base + *poff, m);
        k += m;
        *poff += m;
        if (*poff == bufs[*pi].len) {
          (*pi)++;
          *poff = 0;
        }
      }
      p = stage;
    }
    err_reset();
    int r = SSL_write(t->ssl, p, (int)k);
    if (r <= 0)
      return ssl_failure(t, SSL_get_error(t->ssl, r));
    taken += k;
  }
  return (int)taken;
}

/* Goes on with an async write; completes it once all of it went down. */
static void continue_write(tls_t *t)
{
  if (!t->writing)
    return;
  int r = seal(t, t->wbufs, t->wn, &t->wi, &t->woff);
  if (r >= 0 && t->wi < t->wn)
    return; /* the lower socket is full again: wait for its drain */
  wire__free(t->wbufs);
  t->wbufs = NULL;
  t->writing = 0;
  wire__stream_write_done(t->s, r < 0 ? r : 0);
}

static void on_kick(void *arg)
{
  tls_t *t = arg;
  wire_socket_t *s = t->s;
  t->kick_queued = 0;
  if (!HAS(s, WIRE__S_CLOSING)) {
    if (t->writing && !lower_full(t))
      continue_write(t);
    if (!HAS(s, WIRE__S_CLOSING))
      feed(t, NULL, 0);
  }
  wire__socket_unref(s);
}

/* Pumps and writes on a later turn (never inside the caller's call). */
static void kick(tls_t *t)
{
  if (t->kick_queued)
    return;
  if (wire__defer(t->s->obj.loop, on_kick, t) < 0)
    return; /* the next read or drain picks it up */
  t->kick_queued = 1;
  wire__socket_ref(t->s);
}

/* ---- the transport
 * ----------------------------------------------------------- */

static int tp_read_start(wire_socket_t *s)
{
  tls_t *t = TLS_OF(s);
  if (t->lower_gone)
    return 0;
  wire_socket_resume(t->lower);
  if (t->pend_len > 0 || SSL_has_pending(t->ssl) || t->low_eof)
    kick(t);
  return 0;
}

static int tp_read_stop(wire_socket_t *s)
{
  tls_t *t = TLS_OF(s);
  if (!t->lower_gone)
    wire_socket_pause(t->lower);
  return 0;
}

static int tp_try_write(wire_socket_t *s, const uv_buf_t *bufs, unsigned n)
{
  tls_t *t = TLS_OF(s);
  if (t->lower_gone)
    return WIRE_EPIPE;
  unsigned i = 0;
  size_t off = 0;
  return seal(t, bufs, n, &i, &off);
}

static int tp_write(wire_socket_t *s, const uv_buf_t *bufs, unsigned n)
{
  tls_t *t = TLS_OF(s);
  if (t->lower_gone)
    return WIRE_EPIPE;
  t->wbufs = wire__malloc(n * sizeof(*bufs));
  if (t->wbufs == NULL)
    return WIRE_ENOMEM;
  memcpy(t->wbufs, bufs, n * sizeof(*bufs));
  t->wn = n;
  t->wi = 0;
  t->woff = 0;
  t->writing = 1;
  if (!lower_full(t))
    kick(t);
  return 0;
}

static void on_shut_flushed(wire_socket_t *lower, int status, void *arg)
{
  (void)lower;
  tls_t *t = arg;
  wire__stream_shutdown_done(t->s, status);
}

static int tp_shutdown(wire_socket_t *s)
{
  tls_t *t = TLS_OF(s);
  if (t->lower_gone)
    return WIRE_EPIPE;
  err_reset();
  (void)SSL_shutdown(t->ssl); /* queues close_notify on the lower socket */
  err_reset();
  int err = wire_socket_writev(t->lower, NULL, 0, on_shut_flushed, t);
  if (err < 0)
    return err;
  wire_socket_end(t->lower);
  return 0;
}

static void finish_close(tls_t *t);

static void on_closed_later(void *arg)
{
  finish_close(arg);
}

static void on_fail_flushed(wire_socket_t *lower, int status, void *arg)
{
  (void)status;
  tls_t *t = arg;
  if (!t->lower_gone && !HAS(lower, WIRE__S_CLOSING))
    wire_socket_close(lower, NULL);
}

static void tp_close(wire_socket_t *s, int reset)
{
  tls_t *t = TLS_OF(s);
  if (t->writing) {
    wire__free(t->wbufs);
    t->wbufs = NULL;
    t->writing = 0;
    wire__stream_write_done(s, WIRE_ECANCELED);
  }
  if (t->lower_gone) {
    if (wire__defer(s->obj.loop, on_closed_later, t) < 0)
      finish_close(t); /* no memory to wait a turn: better now than never */
    return;
  }
  wire_socket_t *lower = t->lower;
  if (HAS(lower, WIRE__S_CLOSING))
    return; /* its close event finishes ours */
  if (reset) {
    wire_socket_reset(lower, NULL);
    return;
  }
  /* After a TLS failure, let the alert OpenSSL queued reach the peer (it
   * says why), for a bounded time. */
  if (t->failed && HAS(lower, WIRE__S_CONNECTED) && lower->wq_bytes > 0 &&
      wire_socket_writev(lower, NULL, 0, on_fail_flushed, t) >= 0) {
    wire_socket_set_timeout(lower, FAIL_FLUSH_MS);
    return;
  }
  wire_socket_close(lower, NULL);
}

static void tp_set_ref(wire_socket_t *s, int on)
{
  tls_t *t = TLS_OF(s);
  if (t->lower_gone)
    return;
  if (on)
    wire_socket_ref(t->lower);
  else
    wire_socket_unref(t->lower);
}

static wire_socket_t *tp_lower(const wire_socket_t *s)
{
  tls_t *t = TLS_OF(s);
  return t->lower_gone ? NULL : t->lower;
}

static const wire__transport_t tls_transport = {
    tp_read_start, tp_read_stop, tp_try_write, tp_write,
    tp_shutdown,   tp_close,     tp_set_ref,   tp_lower,
};

/* ---- the lower socket's events
 * ------------------------------------------------ */

static void low_data(wire_socket_t *lower, const char *buf, size_t len, void *d)
{
  (void)lower;
  tls_t *t = d;
  if (HAS(t->s, WIRE__S_CLOSING) || HAS(t->s, WIRE__S_READ_EOF))
    return;
  feed(t, buf, len);
}

static void low_end(wire_socket_t *lower, void *d)
{
  (void)lower;
  tls_t *t = d;
  t->low_eof = 1;
  if (!HAS(t->s, WIRE__S_CLOSING))
    feed(t, NULL, 0);
}

static void low_drain(wire_socket_t *lower, void *d)
{
  (void)lower;
  tls_t *t = d;
  if (!HAS(t->s, WIRE__S_CLOSING))
    continue_write(t);
}

static void low_timeout(wire_socket_t *lower, void *d)
{
  tls_t *t = d;
  if (HAS(t->s, WIRE__S_CLOSING)) {
    /* The final alert did not leave in time. */
    if (!HAS(lower, WIRE__S_CLOSING))
      wire_socket_close(lower, NULL);
    return;
  }
  if (!t->hs_done) {
    set_error(t, "handshake timed out");
    hs_fail(t, WIRE_ETIMEDOUT);
  }
}

static void low_error(wire_socket_t *lower, int err, void *d)
{
  (void)lower;
  tls_t *t = d;
  if (HAS(t->s, WIRE__S_CLOSING))
    return;
  set_error(t, wire_strerror(err));
  if (!t->hs_done)
    hs_fail(t, err);
  else
    wire__stream_fail(t->s, err);
}

static void low_close(wire_socket_t *lower, int had_error, void *d)
{
  (void)lower, (void)had_error;
  tls_t *t = d;
  t->lower_gone = 1;
  if (HAS(t->s, WIRE__S_CLOSING)) {
    finish_close(t);
    return;
  }
  /* Closed under us (its server closed its connections). */
  set_error(t, "the underlying socket closed");
  if (!t->hs_done)
    hs_fail(t, WIRE_ECONNRESET);
  else
    wire__stream_fail(t->s, WIRE_ECONNRESET);
}

static void on_low_connect(wire_socket_t *lower, int status, void *arg)
{
  (void)arg;
  tls_t *t = wire_socket_data(lower); /* NULL: the TLS socket was undone */
  if (t != NULL && status < 0 && status != WIRE_ECANCELED) {
    set_error(t, wire_strerror(status));
    hs_fail(t, status);
  }
}

/* ---- making TLS sockets
 * ------------------------------------------------------- */

static void srv_unlink(tls_t *t);

static void finalize(wire__obj_t *o)
{
  wire_socket_t *s = (wire_socket_t *)o;
  tls_t *t = TLS_OF(s);
  SSL_free(t->ssl);
  wire__free(t->pend);
  wire__free(t->wbufs);
  wire__free(t->alpn_own);
  wire__free(t->alpn_sel);
  wire__free(t->last_error);
  wire__free(t->sess);
  wire__poison(s, TLS_OFF + sizeof(tls_t));
  wire__free(s);
}

static void finish_close(tls_t *t)
{
  wire_socket_t *s = t->s;
  srv_unlink(t);
  hs_callback(t, WIRE_ECANCELED); /* closed before the handshake ended */
  wire__stream_closed(s);
}

static int verify_cb(int ok, X509_STORE_CTX *x)
{
  SSL *ssl =
      X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
  tls_t *t = ssl != NULL ? tls_of_ssl(ssl) : NULL;
  /* Not rejecting: finish the handshake and report the result through
   * wire_tls_authorized (OpenSSL keeps the first error). */
  return ok || (t != NULL && !t->reject);
}

/* A TLS socket over lower, on ctx, not started. */
static int tls_new(wire_socket_t *lower, wire_tls_ctx_t *ctx, int server,
                   uint64_t hs_timeout, tls_t **out)
{
  uv_once(&once, init_once);
  if (bio_method == NULL || ex_index < 0)
    return WIRE_ENOMEM;
  if (lower == NULL || ctx == NULL ||
      HAS(lower, WIRE__S_CLOSING | WIRE__S_USER_CLOSED))
    return WIRE_EINVAL;
  wire_loop_t *loop = lower->obj.loop;
  wire_socket_t *s = wire__calloc(1, TLS_OFF + sizeof(tls_t));
  if (s == NULL)
    return WIRE_ENOMEM;
  tls_t *t = TLS_OF(s);
  t->ssl = SSL_new(ctx->ssl);
  BIO *bio = t->ssl != NULL ? BIO_new(bio_method) : NULL;
  if (bio == NULL) {
    SSL_free(t->ssl);
    wire__free(s);
    ERR_clear_error();
    return WIRE_ENOMEM;
  }
  BIO_set_data(bio, t);
  SSL_set_bio(t->ssl, bio, bio);
  SSL_set_ex_data(t->ssl, ex_index, t);
  if (server)
    SSL_set_accept_state(t->ssl);
  else
    SSL_set_connect_state(t->ssl);
  wire__stream_init(s, loop, &tls_transport, finalize);
  s->flags |= WIRE__S_CONNECTING;
  t->s = s;
  t->lower = lower;
  t->server = server != 0;

  wire_socket_set_data(lower, t);
  wire_socket_on_data(lower, low_data);
  wire_socket_on_end(lower, low_end);
  wire_socket_on_drain(lower, low_drain);
  wire_socket_on_timeout(lower, low_timeout);
  wire_socket_on_error(lower, low_error);
  wire_socket_on_close(lower, low_close);
  wire_socket_set_allow_half_open(lower, 1);
  wire_socket_set_write_limits(lower, LOWER_HWM,
                               lower->cap > LOWER_HWM ? lower->cap : LOWER_HWM);
  wire_socket_set_timeout(lower,
                          hs_timeout ? hs_timeout : HANDSHAKE_TIMEOUT_MS);
  if (HAS(lower, WIRE__S_UNREF))
    s->flags |= WIRE__S_UNREF;
  /* The handshake reads whatever the caller did with the socket before;
   * after it, the lower socket follows the TLS socket's pause state. */
  wire_socket_resume(lower);
  *out = t;
  return 0;
}

/* ALPN protocols, NULL-terminated, to the wire format (length-prefixed).
 * Returns 0 and sets *out (NULL for none), or WIRE_EINVAL / WIRE_ENOMEM. */
static int alpn_wire(const char *const *list, unsigned char **out,
                     unsigned *outlen)
{
  *out = NULL;
  *outlen = 0;
  if (list == NULL || list[0] == NULL)
    return 0;
  size_t total = 0;
  for (size_t i = 0; list[i] != NULL; i++) {
    size_t n = strlen(list[i]);
    if (n == 0 || n > 255)
      return WIRE_EINVAL;
    total += n + 1;
  }
  if (total > 65535)
    return WIRE_EINVAL;
  unsigned char *p = wire__malloc(total);
  if (p == NULL)
    return WIRE_ENOMEM;
  size_t k = 0;
  for (size_t i = 0; list[i] != NULL; i++) {
    size_t n = strlen(list[i]);
    p[k++] = (unsigned char)n;
    memcpy(p + k, list[i], n);
    k += n;
  }
  *out = p;
  *outlen = (unsigned)total;
  return 0;
}

static int is_ip(const char *host)
{
  struct sockaddr_storage ss;
  return wire__addr_parse(host, 1, &ss) == 0;
}

/* A tls socket that failed before it started: quietly undone, lower
 * untouched (its callbacks are cleared). */
static void tls_undo(tls_t *t)
{
  wire_socket_t *lower = t->lower;
  wire_socket_set_data(lower, NULL);
  wire_socket_on_data(lower, NULL);
  wire_socket_on_end(lower, NULL);
  wire_socket_on_drain(lower, NULL);
  wire_socket_on_timeout(lower, NULL);
  wire_socket_on_error(lower, NULL);
  wire_socket_on_close(lower, NULL);
  wire_socket_set_timeout(lower, 0);
  t->lower_gone = 1;
  wire__socket_unref(t->s);
}

static int client_setup(tls_t *t, const wire_tls_connect_opts_t *o)
{
  const char *name = o->servername != NULL ? o->servername : o->net.host;
  if (o->servername == NULL && o->net.host == NULL && o->net.path == NULL)
    name = "localhost";
  t->reject = o->reject_unauthorized != 0;
  SSL_set_verify(t->ssl, SSL_VERIFY_PEER, verify_cb);
  if (name != NULL && name[0] != '\0') {
    if (is_ip(name)) {
      /* No SNI for an address (RFC 6066 3); the address is checked. */
      char ip[64];
      snprintf(ip, sizeof(ip), "%s", name);
      size_t n = strlen(ip);
      const char *a = ip;
      if (ip[0] == '[' && n > 2 && ip[n - 1] == ']') {
        ip[n - 1] = '\0';
        a = ip + 1;
      }
      if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), a) != 1)
        return WIRE_EINVAL;
    } else {
      if (SSL_set_tlsext_host_name(t->ssl, name) != 1 ||
          SSL_set1_host(t->ssl, name) != 1) {
        ERR_clear_error();
        return WIRE_EINVAL;
      }
    }
  }
  unsigned char *alpn;
  unsigned alpn_len;
  int err = alpn_wire(o->alpn, &alpn, &alpn_len);
  if (err < 0)
    return err;
  if (alpn != NULL) {
    /* SSL_set_alpn_protos returns 0 on success. */
    int r = SSL_set_alpn_protos(t->ssl, alpn, alpn_len);
    wire__free(alpn);
    if (r != 0)
      return WIRE_ENOMEM;
  }
  if (o->session != NULL && o->session_len > 0) {
    const unsigned char *p = o->session;
    SSL_SESSION *sess = d2i_SSL_SESSION(NULL, &p, (long)o->session_len);
    /* A session that does not parse is not an error: a full handshake. */
    if (sess != NULL) {
      SSL_set_session(t->ssl, sess);
      SSL_SESSION_free(sess);
    }
    ERR_clear_error();
  }
  return 0;
}

static wire_tls_ctx_t *client_ctx(const wire_tls_connect_opts_t *o)
{
  return o->ctx != NULL ? o->ctx : wire__tls_ctx_default();
}

int wire_tls_wrap(wire_socket_t *lower, const wire_tls_connect_opts_t *o,
                  wire_tls_handshake_cb cb, void *arg, wire_socket_t **out)
{
  if (o == NULL || out == NULL || lower == NULL)
    return WIRE_EINVAL;
  wire_tls_ctx_t *ctx = client_ctx(o);
  if (ctx == NULL)
    return WIRE_ETLS;
  tls_t *t;
  int err = tls_new(lower, ctx, 0, o->handshake_timeout_ms, &t);
  if (err < 0)
    return err;
  err = client_setup(t, o);
  if (err < 0) {
    tls_undo(t);
    return err;
  }
  t->hs_cb = cb;
  t->hs_arg = arg;
  kick(t); /* sends the ClientHello on a later turn */
  *out = t->s;
  return 0;
}

int wire_tls_connect(wire_loop_t *loop, const wire_tls_connect_opts_t *o,
                     wire_tls_handshake_cb cb, void *arg, wire_socket_t **out)
{
  if (o == NULL || out == NULL)
    return WIRE_EINVAL;
  wire_tls_ctx_t *ctx = client_ctx(o);
  if (ctx == NULL)
    return WIRE_ETLS;
  wire_socket_t *lower;
  int err = wire_socket_connect(loop, &o->net, on_low_connect, NULL, &lower);
  if (err < 0)
    return err;
  tls_t *t;
  err = tls_new(lower, ctx, 0, o->handshake_timeout_ms, &t);
  if (err == 0) {
    err = client_setup(t, o);
    if (err < 0)
      tls_undo(t);
  }
  if (err < 0) {
    wire_socket_close(lower, NULL);
    return err;
  }
  if (o->net.allow_half_open)
    t->s->flags |= WIRE__S_HALF_OPEN;
  t->hs_cb = cb;
  t->hs_arg = arg;
  kick(t);
  *out = t->s;
  return 0;
}

static int server_setup(tls_t *t, const wire_tls_server_opts_t *o)
{
  t->request_cert = o->request_cert != 0;
  t->reject = o->reject_unauthorized != 0;
  if (o->request_cert)
    SSL_set_verify(
        t->ssl,
        SSL_VERIFY_PEER |
            (o->reject_unauthorized ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
        verify_cb);
  else
    SSL_set_verify(t->ssl, SSL_VERIFY_NONE, NULL);
  t->sni = o->sni;
  t->sni_arg = o->sni_arg;
  if (o->allow_half_open)
    t->s->flags |= WIRE__S_HALF_OPEN;
  return 0;
}

int wire_tls_accept(wire_socket_t *lower, const wire_tls_server_opts_t *o,
                    wire_tls_handshake_cb cb, void *arg, wire_socket_t **out)
{
  if (o == NULL || o->ctx == NULL || out == NULL)
    return WIRE_EINVAL;
  unsigned char *alpn;
  unsigned alpn_len;
  int err = alpn_wire(o->alpn, &alpn, &alpn_len);
  if (err < 0)
    return err;
  tls_t *t;
  err = tls_new(lower, o->ctx, 1, o->handshake_timeout_ms, &t);
  if (err < 0) {
    wire__free(alpn);
    return err;
  }
  server_setup(t, o);
  t->alpn_own = alpn;
  t->alpn = alpn;
  t->alpn_len = alpn_len;
  t->hs_cb = cb;
  t->hs_arg = arg;
  if (HAS(lower, WIRE__S_CONNECTED))
    kick(t); /* bytes may already wait */
  *out = t->s;
  return 0;
}

/* ---- context callbacks
 * --------------------------------------------------------- */

int wire__tls_alpn_select(SSL *ssl, const unsigned char **out,
                          unsigned char *outlen, const unsigned char *in,
                          unsigned int inlen, void *arg)
{
  (void)arg;
  tls_t *t = tls_of_ssl(ssl);
  if (t == NULL || t->alpn == NULL)
    return SSL_TLSEXT_ERR_NOACK;
  unsigned char *sel;
  /* Our preference first, as Node. */
  if (SSL_select_next_proto(&sel, outlen, t->alpn, t->alpn_len, in, inlen) !=
      OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_ALERT_FATAL; /* no_application_protocol */
  *out = sel;
  return SSL_TLSEXT_ERR_OK;
}

int wire__tls_servername(SSL *ssl, int *alert, void *arg)
{
  (void)alert, (void)arg;
  tls_t *t = tls_of_ssl(ssl);
  if (t == NULL || !t->server || t->sni == NULL)
    return SSL_TLSEXT_ERR_OK;
  const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (name == NULL)
    return SSL_TLSEXT_ERR_OK;
  wire_tls_ctx_t *c = t->sni(name, t->sni_arg);
  if (c != NULL && SSL_set_SSL_CTX(ssl, c->ssl) == NULL)
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  return SSL_TLSEXT_ERR_OK;
}

int wire__tls_new_session(SSL *ssl, SSL_SESSION *sess)
{
  tls_t *t = tls_of_ssl(ssl);
  if (t == NULL || t->server || t->on_session == NULL)
    return 0;
  /* Kept until the SSL call returns, then reported (never call user code
   * from inside OpenSSL). */
  int n = i2d_SSL_SESSION(sess, NULL);
  if (n <= 0)
    return 0;
  unsigned char *der = wire__malloc((size_t)n);
  if (der == NULL)
    return 0;
  unsigned char *p = der;
  i2d_SSL_SESSION(sess, &p);
  wire__free(t->sess);
  t->sess = der;
  t->sess_len = (size_t)n;
  return 0; /* we took no reference */
}

/* ---- socket information
 * ---------------------------------------------------------- */

static tls_t *tls_get(const wire_socket_t *s)
{
  return (s != NULL && s->tp == &tls_transport) ? TLS_OF(s) : NULL;
}

int wire_tls_encrypted(const wire_socket_t *s)
{
  return tls_get(s) != NULL;
}

int wire_tls_authorized(const wire_socket_t *s)
{
  tls_t *t = tls_get(s);
  return t != NULL && t->authorized;
}

const char *wire_tls_authorization_error(const wire_socket_t *s)
{
  tls_t *t = tls_get(s);
  return t != NULL ? t->authz_error : NULL;
}

const char *wire_tls_last_error(const wire_socket_t *s)
{
  tls_t *t = tls_get(s);
  return t != NULL ? t->last_error : NULL;
}

const char *wire_tls_protocol(const wire_socket_t *s)
{
  tls_t *t = tls_get(s);
  return t != NULL && t->hs_done ? SSL_get_version(t->ssl) : NULL;
}

const char *wire_tls_cipher(const wire_socket_t *s)
{
  tls_t *t = tls_get(s);
  return t != NULL && t->hs_done ? SSL_get_cipher_name(t->ssl) : NULL;
}

const char *wire_tls_alpn(const wire_socket_t *s)
{
  tls_t *t = tls_get(s);
  return t != NULL ? t->alpn_sel : NULL;
}

const char *wire_tls_servername(const wire_socket_t *s)
{
  tls_t *t = tls_get(s);
  return t != NULL ? SSL_get_servername(t->ssl, TLSEXT_NAMETYPE_host_name)
                   : NULL;
}

int wire_tls_session_reused(const wire_socket_t *s)
{
  tls_t *t = tls_get(s);
  return t != NULL && t->hs_done && SSL_session_reused(t->ssl);
}

void wire_tls_on_session(wire_socket_t *s, wire_tls_session_cb cb)
{
  tls_t *t = tls_get(s);
  if (t != NULL)
    t->on_session = cb;
}

int wire_tls_get_session(const wire_socket_t *s, void *buf, size_t cap)
{
  tls_t *t = tls_get(s);
  SSL_SESSION *sess = t != NULL ? SSL_get_session(t->ssl) : NULL;
  if (sess == NULL || !t->hs_done)
    return WIRE_ENOENT;
  int n = i2d_SSL_SESSION(sess, NULL);
  if (n <= 0)
    return WIRE_ENOENT;
  if (buf == NULL && cap == 0)
    return n;
  if ((size_t)n > cap)
    return WIRE_ENOBUFS;
  unsigned char *p = buf;
  i2d_SSL_SESSION(sess, &p);
  return n;
}

static void name_text(const X509_NAME *name, char *out, size_t cap)
{
  out[0] = '\0';
  BIO *b = BIO_new(BIO_s_mem());
  if (b == NULL)
    return;
  X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  int n = BIO_read(b, out, (int)cap - 1);
  out[n > 0 ? n : 0] = '\0';
  BIO_free(b);
}

static int64_t asn1_time(const ASN1_TIME *a)
{
  struct tm tm;
  if (a == NULL || ASN1_TIME_to_tm(a, &tm) != 1)
    return 0;
  return (int64_t)timegm(&tm);
}

static void cert_info(X509 *x, wire_tls_cert_info_t *out)
{
  memset(out, 0, sizeof(*out));
  name_text(X509_get_subject_name(x), out->subject, sizeof(out->subject));
  name_text(X509_get_issuer_name(x), out->issuer, sizeof(out->issuer));
  X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, out->cn,
                            sizeof(out->cn));
  GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
  size_t k = 0;
  for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
    const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
    char item[80];
    item[0] = '\0';
    if (g->type == GEN_DNS) {
      snprintf(item, sizeof(item), "DNS:%.*s", ASN1_STRING_length(g->d.dNSName),
               (const char *)ASN1_STRING_get0_data(g->d.dNSName));
    } else if (g->type == GEN_IPADD) {
      const unsigned char *p = ASN1_STRING_get0_data(g->d.iPAddress);
      int n = ASN1_STRING_length(g->d.iPAddress);
      char ip[64];
      if (n == 4 && inet_ntop(AF_INET, p, ip, sizeof(ip)) != NULL)
        snprintf(item, sizeof(item), "IP Address:%s", ip);
      else if (n == 16 && inet_ntop(AF_INET6, p, ip, sizeof(ip)) != NULL)
        snprintf(item, sizeof(item), "IP Address:%s", ip);
    }
    if (item[0] == '\0')
      continue;
    int w = snprintf(out->subjectaltname + k, sizeof(out->subjectaltname) - k,
                     "%s%s", k > 0 ? ", " : "", item);
    if (w < 0 || (size_t)w >= sizeof(out->subjectaltname) - k)
      break;
    k += (size_t)w;
  }
  GENERAL_NAMES_free(gens);
  const ASN1_INTEGER *serial = X509_get0_serialNumber(x);
  BIGNUM *bn = serial != NULL ? ASN1_INTEGER_to_BN(serial, NULL) : NULL;
  char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
  if (hex != NULL)
    snprintf(out->serial, sizeof(out->serial), "%s", hex);
  OPENSSL_free(hex);
  BN_free(bn);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned mdlen = 0;
  if (X509_digest(x, EVP_sha256(), md, &mdlen) == 1) {
    for (unsigned i = 0; i < mdlen && 3 * i + 3 <= sizeof(out->fingerprint256);
         i++)
      snprintf(out->fingerprint256 + 3 * i, 4, i + 1 < mdlen ? "%02X:" : "%02X",
               md[i]);
  }
  out->valid_from = asn1_time(X509_get0_notBefore(x));
  out->valid_to = asn1_time(X509_get0_notAfter(x));
  ERR_clear_error();
}

int wire_tls_peer_cert(const wire_socket_t *s, wire_tls_cert_info_t *out)
{
  tls_t *t = tls_get(s);
  X509 *x = t != NULL && t->hs_done ? SSL_get0_peer_certificate(t->ssl) : NULL;
  if (x == NULL)
    return WIRE_ENOENT;
  cert_info(x, out);
  return 0;
}

int wire_tls_cert(const wire_socket_t *s, wire_tls_cert_info_t *out)
{
  tls_t *t = tls_get(s);
  X509 *x = t != NULL && t->hs_done ? SSL_get_certificate(t->ssl) : NULL;
  if (x == NULL)
    return WIRE_ENOENT;
  cert_info(x, out);
  return 0;
}

/* ---- the server
 * --------------------------------------------------------------------- */

struct wire_tls_server_s {
  wire__obj_t obj;
  wire_server_t *net;
  wire_tls_server_opts_t o;
  unsigned char *alpn;
  unsigned alpn_len;
  tls_t *conns;        /* TLS sockets, handshaking ones too */
  wire_timer_t *sweep; /* frees idle connections' buffers; NULL once closed */

  wire_tls_secure_cb on_secure;
  wire_tls_client_error_cb on_client_error;
  wire_tls_server_event_cb on_listening;
  wire_tls_server_error_cb on_error;
  wire_tls_server_listen_cb listen_cb;
  wire_tls_server_event_cb close_cb;
  void *data;
  int closing;
};

static void srv_unlink(tls_t *t)
{
  wire_tls_server_t *srv = t->srv;
  if (srv == NULL)
    return;
  if (t->srv_prev != NULL)
    t->srv_prev->srv_next = t->srv_next;
  else
    srv->conns = t->srv_next;
  if (t->srv_next != NULL)
    t->srv_next->srv_prev = t->srv_prev;
  t->srv_prev = NULL;
  t->srv_next = NULL;
  t->srv = NULL;
  if (srv->conns == NULL && srv->sweep != NULL)
    wire_timer_stop(srv->sweep);
  wire__obj_unref(&srv->obj);
}

/* OpenSSL's two record buffers (about 17 KiB each) cost a malloc and a
 * free each per request when released after every use
 * (SSL_MODE_RELEASE_BUFFERS), a twentieth of an HTTPS keep-alive
 * request. A server's connections keep them instead while busy; this
 * sweep frees them once a connection has been idle through a whole
 * period, so an idle connection still holds none after one to two
 * seconds. OpenSSL refuses (and we retry after the next activity) while
 * records wait inside it. */
static void on_sweep(wire_timer_t *tm, void *data)
{
  (void)tm;
  wire_tls_server_t *srv = data;
  for (tls_t *t = srv->conns; t != NULL; t = t->srv_next) {
    if (t->idle < 2 && ++t->idle == 2 && t->keep_bufs && t->hs_done)
      (void)SSL_free_buffers(t->ssl);
  }
}

static void server_secure(tls_t *t)
{
  wire_tls_server_t *srv = t->srv;
  if (srv->on_secure != NULL)
    srv->on_secure(srv, t->s, srv->data);
}

static void server_client_error(tls_t *t, int err)
{
  wire_tls_server_t *srv = t->srv;
  if (srv->on_client_error == NULL)
    return;
  wire_addr_t a;
  int have = !t->lower_gone && wire_socket_remote_address(t->lower, &a) == 0;
  srv->on_client_error(srv, err, t->last_error, have ? &a : NULL, srv->data);
}

static void srv_finalize(wire__obj_t *o)
{
  wire_tls_server_t *srv = (wire_tls_server_t *)o;
  wire_tls_ctx_free(srv->o.ctx);
  wire__free(srv->alpn);
  wire__poison(srv, sizeof(*srv));
  wire__free(srv);
}

static void on_net_connection(wire_server_t *net, wire_socket_t *lower,
                              void *data)
{
  (void)net;
  wire_tls_server_t *srv = data;
  tls_t *t;
  int err = tls_new(lower, srv->o.ctx, 1, srv->o.handshake_timeout_ms, &t);
  if (err < 0) {
    wire_socket_close(lower, NULL);
    if (srv->on_error != NULL)
      srv->on_error(srv, err, srv->data);
    return;
  }
  server_setup(t, &srv->o);
  t->alpn = srv->alpn;
  t->alpn_len = srv->alpn_len;
  t->srv = srv;
  wire__obj_ref(&srv->obj);
  if (srv->sweep != NULL) {
    SSL_clear_mode(t->ssl, SSL_MODE_RELEASE_BUFFERS);
    t->keep_bufs = 1;
    if (srv->conns == NULL)
      wire_timer_start(srv->sweep, SWEEP_MS, SWEEP_MS, on_sweep);
  }
  t->srv_next = srv->conns;
  if (srv->conns != NULL)
    srv->conns->srv_prev = t;
  srv->conns = t;
  /* The lower socket starts reading when this callback returns. */
}

static void on_net_listening(wire_server_t *net, void *data)
{
  (void)net;
  wire_tls_server_t *srv = data;
  if (srv->on_listening != NULL)
    srv->on_listening(srv, srv->data);
}

static void on_net_error(wire_server_t *net, int err, void *data)
{
  (void)net;
  wire_tls_server_t *srv = data;
  if (srv->on_error != NULL)
    srv->on_error(srv, err, srv->data);
}

static void on_net_listen(wire_server_t *net, int status, void *data)
{
  (void)net;
  wire_tls_server_t *srv = data;
  wire_tls_server_listen_cb cb = srv->listen_cb;
  srv->listen_cb = NULL;
  if (cb != NULL)
    cb(srv, status, srv->data);
}

int wire_tls_server_create(wire_loop_t *loop, const wire_tls_server_opts_t *o,
                           wire_tls_secure_cb on_secure,
                           wire_tls_server_t **out)
{
  if (o == NULL || o->ctx == NULL || out == NULL)
    return WIRE_EINVAL;
  wire_tls_server_t *srv = wire__calloc(1, sizeof(*srv));
  if (srv == NULL)
    return WIRE_ENOMEM;
  srv->o = *o;
  srv->o.net.pause_on_connect = 0;
  int err = alpn_wire(o->alpn, &srv->alpn, &srv->alpn_len);
  if (err < 0) {
    wire__free(srv);
    return err;
  }
  srv->o.alpn = NULL;
  err = wire_timer_create(loop, &srv->sweep);
  if (err == 0)
    err = wire_server_create(loop, &srv->o.net, on_net_connection, &srv->net);
  if (err < 0) {
    if (srv->sweep != NULL)
      wire_timer_close(srv->sweep, NULL);
    wire__free(srv->alpn);
    wire__free(srv);
    return err;
  }
  wire_timer_unref(srv->sweep);
  wire_timer_set_data(srv->sweep, srv);
  wire_server_set_data(srv->net, srv);
  wire_server_on_listening(srv->net, on_net_listening);
  wire_server_on_error(srv->net, on_net_error);
  wire__tls_ctx_ref(o->ctx);
  srv->on_secure = on_secure;
  wire__obj_init(&srv->obj, loop, srv_finalize);
  *out = srv;
  return 0;
}

int wire_tls_server_listen(wire_tls_server_t *srv, const char *host, int port,
                           wire_tls_server_listen_cb cb)
{
  int err = wire_server_listen(srv->net, host, port, on_net_listen);
  if (err == 0)
    srv->listen_cb = cb;
  return err;
}

int wire_tls_server_listen_path(wire_tls_server_t *srv, const char *path,
                                wire_tls_server_listen_cb cb)
{
  int err = wire_server_listen_path(srv->net, path, on_net_listen);
  if (err == 0)
    srv->listen_cb = cb;
  return err;
}

int wire_tls_server_address(const wire_tls_server_t *srv, wire_addr_t *out)
{
  return wire_server_address(srv->net, out);
}

void wire_tls_server_on_secure(wire_tls_server_t *srv, wire_tls_secure_cb cb)
{
  srv->on_secure = cb;
}
void wire_tls_server_on_client_error(wire_tls_server_t *srv,
                                     wire_tls_client_error_cb cb)
{
  srv->on_client_error = cb;
}
void wire_tls_server_on_listening(wire_tls_server_t *srv,
                                  wire_tls_server_event_cb cb)
{
  srv->on_listening = cb;
}
void wire_tls_server_on_error(wire_tls_server_t *srv,
                              wire_tls_server_error_cb cb)
{
  srv->on_error = cb;
}
void wire_tls_server_set_data(wire_tls_server_t *srv, void *data)
{
  srv->data = data;
}
void *wire_tls_server_data(const wire_tls_server_t *srv)
{
  return srv->data;
}
unsigned wire_tls_server_connections(const wire_tls_server_t *srv)
{
  return wire_server_connections(srv->net);
}
void wire_tls_server_ref(wire_tls_server_t *srv)
{
  wire_server_ref(srv->net);
}
void wire_tls_server_unref(wire_tls_server_t *srv)
{
  wire_server_unref(srv->net);
}

void wire_tls_server_set_ctx(wire_tls_server_t *srv, wire_tls_ctx_t *ctx)
{
  if (ctx == NULL || ctx == srv->o.ctx)
    return;
  wire__tls_ctx_ref(ctx);
  wire_tls_ctx_free(srv->o.ctx);
  srv->o.ctx = ctx;
}

static void on_net_closed(wire_server_t *net, void *data)
{
  (void)net;
  wire_tls_server_t *srv = data;
  wire__obj_ref(&srv->obj);
  if (srv->close_cb != NULL)
    srv->close_cb(srv, srv->data);
  wire__obj_unref(&srv->obj);
  wire__obj_unref(&srv->obj); /* the user's reference */
}

void wire_tls_server_close(wire_tls_server_t *srv, wire_tls_server_event_cb cb)
{
  assert(!srv->closing && "server closed twice");
  srv->closing = 1;
  srv->close_cb = cb;
  /* Connections that outlive the server go back to releasing their
   * buffers after each use. */
  wire_timer_close(srv->sweep, NULL);
  srv->sweep = NULL;
  for (tls_t *t = srv->conns; t != NULL; t = t->srv_next) {
    if (t->keep_bufs) {
      SSL_set_mode(t->ssl, SSL_MODE_RELEASE_BUFFERS);
      t->keep_bufs = 0;
      if (t->hs_done)
        (void)SSL_free_buffers(t->ssl);
    }
  }
  wire_server_close(srv->net, on_net_closed);
}

void wire_tls_server_close_connections(wire_tls_server_t *srv)
{
  for (tls_t *t = srv->conns; t != NULL; t = t->srv_next) {
    if (!HAS(t->s, WIRE__S_CLOSING | WIRE__S_USER_CLOSED))
      wire_socket_close(t->s, NULL);
  }
}
