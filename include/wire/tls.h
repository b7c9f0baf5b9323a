/* tls: Node's tls module. A TLS socket is a wire_socket_t (as Node's
 * TLSSocket is a net.Socket): every stream call (write, writev, end,
 * close, pause/resume, set_timeout, pipe) and every event (data, end,
 * drain, timeout, error, close) works on it unchanged, so HTTP, WebSocket
 * and wire_pipe run over it. Underneath, the TLS socket drives a plain
 * socket (TCP or Unix) that it owns and closes.
 *
 *   Node                                  wire
 *   tls.createSecureContext(opts)         wire_tls_ctx_new(&o, &ctx)
 *   tls.createServer(opts, onSecure)      wire_tls_server_create(loop, &o, cb,
 * &srv) server.listen(port, host, cb)         wire_tls_server_listen(srv, host,
 * port, cb) server.on('tlsClientError') wire_tls_server_on_client_error
 *   server.setSecureContext(opts)         wire_tls_server_set_ctx /
 * wire_tls_ctx_set_cert tls.connect(opts, cb) wire_tls_connect(loop, &o, cb,
 * arg, &s) new tls.TLSSocket(socket, opts)       wire_tls_wrap (client) /
 * wire_tls_accept (server) socket.authorized wire_tls_authorized(s)
 *   socket.authorizationError             wire_tls_authorization_error(s)
 *   socket.getPeerCertificate()           wire_tls_peer_cert(s, &info)
 *   socket.getProtocol() / getCipher()    wire_tls_protocol(s) /
 * wire_tls_cipher(s) socket.alpnProtocol                   wire_tls_alpn(s)
 *   socket.servername                     wire_tls_servername(s)
 *   socket.isSessionReused()              wire_tls_session_reused(s)
 *   socket.getSession() / 'session'       wire_tls_get_session /
 * wire_tls_on_session
 *
 * Secure by default: TLS 1.2 is the minimum (1.0 and 1.1 are refused),
 * renegotiation is refused, a client verifies the server's chain and its
 * host name and sends SNI, a server that asks for a client certificate
 * rejects a missing or bad one. Each default has one explicit option to
 * turn it off (docs/tls.md).
 *
 * Errors: handshake and protocol failures are WIRE_ETLS (a verification
 * failure too); wire_tls_last_error(s) gives OpenSSL's reason as text.
 * Calls that make contexts and certificates return WIRE_ETLS with the
 * reason in wire_tls_errstr(). */
#ifndef WIRE_TLS_H
#define WIRE_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "loop.h"
#include "net.h"
#include "stream.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Contexts ------------------------------------------------------- */

/* A secure context: keys, certificates, trusted CAs and protocol limits.
 * Shared by any number of sockets and servers (each holds a reference);
 * wire_tls_ctx_free drops the caller's. Contexts belong to no loop and may
 * be used from several loops, but not changed while another thread uses
 * them. */
typedef struct wire_tls_ctx_s wire_tls_ctx_t;

#define WIRE_TLS_1_2 0x0303
#define WIRE_TLS_1_3 0x0304

typedef struct {
  /* PEM, from files (paths) or memory (NUL-terminated text). For each of
   * key, cert and ca, set the file or the text, or neither. */
  const char *key_file;
  const char *key_pem;
  const char *cert_file; /* the certificate, then its chain */
  const char *cert_pem;
  const char *ca_file; /* one or more trusted CA certificates */
  const char *ca_pem;
  const char *passphrase; /* for an encrypted key */
  /* No ca given: a client trusts the system's CAs (as Node trusts its
   * bundled ones). Set to 1 to trust nothing but ca. */
  int no_default_ca;
  int min_version;          /* 0: TLS 1.2; WIRE_TLS_1_3 to demand 1.3 */
  int max_version;          /* 0: the newest */
  const char *ciphers;      /* TLS 1.2 cipher list; NULL: OpenSSL's */
  const char *ciphersuites; /* TLS 1.3 suites; NULL: OpenSSL's */
  /* 1: a server using this context issues no session tickets and keeps no
   * session cache, so every handshake is a full one (nginx's
   * ssl_session_tickets off + ssl_session_cache off; Node gets there with
   * sessionTimeout 0 and no tickets). 0 (the default): resumption on. */
  int no_session_resumption;
} wire_tls_ctx_opts_t;

#define WIRE_TLS_CTX_OPTS_INIT                                                 \
  {                                                                            \
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, NULL, NULL, 0           \
  }

/* Makes a context. Returns 0 and sets *out, or WIRE_EINVAL (a version
 * below TLS 1.2, key without cert...), WIRE_ENOENT (a file), WIRE_ETLS (bad
 * PEM, wrong passphrase, key and certificate do not match: the reason is in
 * wire_tls_errstr()), WIRE_ENOMEM. */
WIRE_EXTERN int wire_tls_ctx_new(const wire_tls_ctx_opts_t *o,
                                 wire_tls_ctx_t **out);

/* Drops the caller's reference; the context lives on while sockets or
 * servers use it. NULL is fine. */
WIRE_EXTERN void wire_tls_ctx_free(wire_tls_ctx_t *ctx);

/* Replaces the key and certificate (key_*, cert_*, passphrase of o; the
 * other fields are ignored) without a restart: connections made from now
 * on use the new pair, open ones keep theirs. Nothing changes on failure
 * (same codes as wire_tls_ctx_new). */
WIRE_EXTERN int wire_tls_ctx_set_cert(wire_tls_ctx_t *ctx,
                                      const wire_tls_ctx_opts_t *o);

/* The OpenSSL reason of the last WIRE_ETLS that a context or certificate
 * call returned on this thread ("" if none). Per-thread storage, valid
 * until the next such call. */
WIRE_EXTERN const char *wire_tls_errstr(void);

/* ---- Sockets ------------------------------------------------------- */

/* Handshake done: status 0, or the error (WIRE_ETLS, WIRE_ETIMEDOUT, the
 * connect's error...). On failure the error event and close(had_error =
 * 1) follow, as for wire_socket_connect. */
typedef void (*wire_tls_handshake_cb)(wire_socket_t *s, int status, void *arg);

/* Choose the context for a server name (SNI) the client sent. Return NULL
 * to keep the default context. Runs during the handshake. */
typedef wire_tls_ctx_t *(*wire_tls_sni_cb)(const char *servername, void *arg);

/* TLS 1.3 sends session tickets after the handshake: each arrives here as
 * a serialized session (der, valid during the call) to pass later as the
 * session option of a connect. */
typedef void (*wire_tls_session_cb)(wire_socket_t *s, const void *der,
                                    size_t len, void *data);

typedef struct {
  wire_connect_opts_t net; /* host, port, path, local_address... */
  wire_tls_ctx_t *ctx;     /* NULL: a default client context (system CAs) */
  /* SNI and the name checked against the certificate. NULL: host, unless
   * host is an IP address (then no SNI is sent and the IP is checked). */
  const char *servername;
  /* 1 (the default): fail the handshake when the chain or the host name
   * does not verify. 0: finish it anyway; wire_tls_authorized says 0 and
   * wire_tls_authorization_error why. */
  int reject_unauthorized;
  /* ALPN protocols to offer, in order of preference (NULL-terminated). */
  const char *const *alpn;
  /* A session from wire_tls_get_session or the session event, to resume. */
  const void *session;
  size_t session_len;
  uint64_t handshake_timeout_ms; /* 0: 120000 (Node's default) */
} wire_tls_connect_opts_t;

#define WIRE_TLS_CONNECT_OPTS_INIT                                             \
  {                                                                            \
    WIRE_CONNECT_OPTS_INIT, NULL, NULL, 1, NULL, NULL, 0, 0                    \
  }

/* Connects (wire_socket_connect with o->net) and runs a client handshake
 * over it. Returns 0 and sets *out at once; cb (may be NULL) runs exactly
 * once on a later turn, when the handshake is done or failed. Writes made
 * before that are queued and sent after it. Returns WIRE_EINVAL or
 * WIRE_ENOMEM (nothing created) on bad options. */
WIRE_EXTERN int wire_tls_connect(wire_loop_t *loop,
                                 const wire_tls_connect_opts_t *o,
                                 wire_tls_handshake_cb cb, void *arg,
                                 wire_socket_t **out);

/* A client handshake over lower, a socket that is connected or still
 * connecting (o->net is unused). The TLS socket takes lower over: its
 * callbacks and user pointer belong to the TLS layer from now on, and it is
 * closed with the TLS socket. On failure lower is left alone. */
WIRE_EXTERN int wire_tls_wrap(wire_socket_t *lower,
                              const wire_tls_connect_opts_t *o,
                              wire_tls_handshake_cb cb, void *arg,
                              wire_socket_t **out);

typedef struct {
  wire_tls_ctx_t *ctx; /* required: the key and certificate */
  /* Ask the client for a certificate (verified against the context's ca). */
  int request_cert;
  /* With request_cert: 1 (the default) fails the handshake when the client
   * sends none or a bad one; 0 lets it in with wire_tls_authorized 0. */
  int reject_unauthorized;
  /* ALPN protocols we speak, in order of preference (NULL-terminated). A
   * client that offers none of them is refused (no_application_protocol). */
  const char *const *alpn;
  wire_tls_sni_cb sni;
  void *sni_arg;
  uint64_t handshake_timeout_ms; /* 0: 120000 */
  int allow_half_open;
  wire_server_opts_t net; /* options of the listening server */
} wire_tls_server_opts_t;

#define WIRE_TLS_SERVER_OPTS_INIT                                              \
  {                                                                            \
    NULL, 0, 1, NULL, NULL, NULL, 0, 0, WIRE_SERVER_OPTS_INIT                  \
  }

/* A server handshake over lower (an accepted socket, e.g. from a plain
 * wire_server_t's connection callback). Takes lower over as wire_tls_wrap
 * does. o->net is unused. */
WIRE_EXTERN int wire_tls_accept(wire_socket_t *lower,
                                const wire_tls_server_opts_t *o,
                                wire_tls_handshake_cb cb, void *arg,
                                wire_socket_t **out);

/* 1 for a TLS socket, 0 for any other stream (Node's socket.encrypted). */
WIRE_EXTERN int wire_tls_encrypted(const wire_socket_t *s);

/* The peer's certificate verified (chain, and for a client the host
 * name). A server that did not ask for one: 0. */
WIRE_EXTERN int wire_tls_authorized(const wire_socket_t *s);
/* Why not authorized, as OpenSSL says it ("certificate has expired",
 * "hostname mismatch", "peer did not return a certificate"), or NULL.
 * Owned by the socket. */
WIRE_EXTERN const char *wire_tls_authorization_error(const wire_socket_t *s);

/* The reason of the socket's last TLS error (handshake failure, bad
 * record, alert from the peer), or NULL. Owned by the socket. */
WIRE_EXTERN const char *wire_tls_last_error(const wire_socket_t *s);

/* After the handshake, else NULL: "TLSv1.3", the cipher's OpenSSL name,
 * the ALPN protocol chosen (NULL if none), the server name (SNI) sent by
 * the client or used by us. Static or owned by the socket. */
WIRE_EXTERN const char *wire_tls_protocol(const wire_socket_t *s);
WIRE_EXTERN const char *wire_tls_cipher(const wire_socket_t *s);
WIRE_EXTERN const char *wire_tls_alpn(const wire_socket_t *s);
WIRE_EXTERN const char *wire_tls_servername(const wire_socket_t *s);
WIRE_EXTERN int wire_tls_session_reused(const wire_socket_t *s);

typedef struct {
  char subject[256]; /* RFC 2253: "CN=localhost,O=wire" */
  char issuer[256];
  char cn[128];             /* the subject's common name, or "" */
  char subjectaltname[512]; /* as Node: "DNS:localhost, IP Address:127.0.0.1" */
  char serial[80];          /* hex */
  char fingerprint256[96];  /* SHA-256, "AB:CD:..." */
  int64_t valid_from;       /* Unix seconds */
  int64_t valid_to;
} wire_tls_cert_info_t;

/* The peer's certificate. Returns 0, or WIRE_ENOENT when the peer sent
 * none (or the handshake is not done). Long fields are truncated. */
WIRE_EXTERN int wire_tls_peer_cert(const wire_socket_t *s,
                                   wire_tls_cert_info_t *out);
/* Our own certificate, the same way. */
WIRE_EXTERN int wire_tls_cert(const wire_socket_t *s,
                              wire_tls_cert_info_t *out);

/* Serializes the current session for a later resumption into buf (size
 * cap). Returns the length, WIRE_ENOBUFS if cap is too small (with NULL buf
 * and 0 cap: the length needed), WIRE_ENOENT if there is none. */
WIRE_EXTERN int wire_tls_get_session(const wire_socket_t *s, void *buf,
                                     size_t cap);
WIRE_EXTERN void wire_tls_on_session(wire_socket_t *s, wire_tls_session_cb cb);

/* ---- Servers ------------------------------------------------------- */

typedef struct wire_tls_server_s wire_tls_server_t;

/* A connection finished its handshake (the TLS socket, ready to use). */
typedef void (*wire_tls_secure_cb)(wire_tls_server_t *srv, wire_socket_t *s,
                                   void *data);
/* A connection failed before or during its handshake (Node's
 * tlsClientError): err is WIRE_ETLS, WIRE_ETIMEDOUT, WIRE_ECONNRESET...;
 * reason is OpenSSL's text or NULL; remote may be NULL. The socket is
 * closed by wire; the server goes on. */
typedef void (*wire_tls_client_error_cb)(wire_tls_server_t *srv, int err,
                                         const char *reason,
                                         const wire_addr_t *remote, void *data);
typedef void (*wire_tls_server_event_cb)(wire_tls_server_t *srv, void *data);
typedef void (*wire_tls_server_error_cb)(wire_tls_server_t *srv, int err,
                                         void *data);

/* A TLS server: a wire_server_t whose connections are handshaken before
 * on_secure sees them. o->ctx is required (the server holds a reference).
 * Prints nothing. */
WIRE_EXTERN int wire_tls_server_create(wire_loop_t *loop,
                                       const wire_tls_server_opts_t *o,
                                       wire_tls_secure_cb on_secure,
                                       wire_tls_server_t **out);

/* As wire_server_listen / _listen_path / _address. cb (may be NULL) runs
 * once with 0 or the error, after the listening or error event. */
typedef void (*wire_tls_server_listen_cb)(wire_tls_server_t *srv, int status,
                                          void *data);
WIRE_EXTERN int wire_tls_server_listen(wire_tls_server_t *srv, const char *host,
                                       int port, wire_tls_server_listen_cb cb);
WIRE_EXTERN int wire_tls_server_listen_path(wire_tls_server_t *srv,
                                            const char *path,
                                            wire_tls_server_listen_cb cb);
WIRE_EXTERN int wire_tls_server_address(const wire_tls_server_t *srv,
                                        wire_addr_t *out);

WIRE_EXTERN void wire_tls_server_on_secure(wire_tls_server_t *srv,
                                           wire_tls_secure_cb cb);
WIRE_EXTERN void wire_tls_server_on_client_error(wire_tls_server_t *srv,
                                                 wire_tls_client_error_cb cb);
WIRE_EXTERN void wire_tls_server_on_listening(wire_tls_server_t *srv,
                                              wire_tls_server_event_cb cb);
WIRE_EXTERN void wire_tls_server_on_error(wire_tls_server_t *srv,
                                          wire_tls_server_error_cb cb);
WIRE_EXTERN void wire_tls_server_set_data(wire_tls_server_t *srv, void *data);
WIRE_EXTERN void *wire_tls_server_data(const wire_tls_server_t *srv);

/* Connections open, handshaking ones included. */
WIRE_EXTERN unsigned wire_tls_server_connections(const wire_tls_server_t *srv);

/* Node's server.setSecureContext: new connections use ctx (a reference is
 * taken); open ones keep theirs. */
WIRE_EXTERN void wire_tls_server_set_ctx(wire_tls_server_t *srv,
                                         wire_tls_ctx_t *ctx);

WIRE_EXTERN void wire_tls_server_ref(wire_tls_server_t *srv);
WIRE_EXTERN void wire_tls_server_unref(wire_tls_server_t *srv);

/* Stops accepting at once; cb (may be NULL) runs after the last
 * connection has closed, on a later turn; then the server is freed. */
WIRE_EXTERN void wire_tls_server_close(wire_tls_server_t *srv,
                                       wire_tls_server_event_cb cb);
/* Closes (destroys) every open connection, handshaking ones too. */
WIRE_EXTERN void wire_tls_server_close_connections(wire_tls_server_t *srv);

/* ---- Certificates (what openssl genrsa/req/x509 do by hand) ---------- */

enum { WIRE_CERT_CA = 0, WIRE_CERT_SERVER = 1, WIRE_CERT_CLIENT = 2 };

typedef struct {
  int kind;       /* WIRE_CERT_CA, _SERVER (serverAuth), _CLIENT (clientAuth) */
  const char *cn; /* NULL: "wire CA", the first SAN, or "wire client" */
  const char *org; /* O=; NULL: none */
  /* Subject alternative names: host names or IP addresses (a server
   * certificate needs at least one). */
  const char *const *sans;
  size_t nsans;
  int rsa_bits; /* 0: ECDSA P-256; 2048, 3072 or 4096: RSA */
  int days;     /* validity; 0: 3650 for a CA, 825 otherwise */
  /* Start of validity relative to now, in seconds (0: now). Tests make an
   * expired certificate with a negative start and few days. */
  int64_t start_offset_s;
} wire_cert_opts_t;

#define WIRE_CERT_OPTS_INIT                                                    \
  {                                                                            \
    WIRE_CERT_CA, NULL, NULL, NULL, 0, 0, 0, 0                                 \
  }

/* A key and a certificate, PEM text (NUL-terminated), owned by the struct:
 * wire_cert_free releases them. */
typedef struct {
  char *key_pem;
  char *cert_pem;
} wire_cert_t;

/* A self-signed CA. Returns 0, WIRE_EINVAL (bad options), WIRE_ETLS,
 * WIRE_ENOMEM. */
WIRE_EXTERN int wire_cert_make_ca(const wire_cert_opts_t *o, wire_cert_t *out);
/* A certificate of o->kind signed by ca (its key and certificate). */
WIRE_EXTERN int wire_cert_make_signed(const wire_cert_opts_t *o,
                                      const wire_cert_t *ca, wire_cert_t *out);
/* Writes PREFIX.key (mode 0600) and PREFIX.crt (0644). Returns 0 or the
 * system error. */
WIRE_EXTERN int wire_cert_save(const wire_cert_t *c, const char *prefix);
/* Reads PREFIX.key and PREFIX.crt. */
WIRE_EXTERN int wire_cert_load(const char *prefix, wire_cert_t *out);
WIRE_EXTERN void wire_cert_free(wire_cert_t *c);

#ifdef __cplusplus
}
#endif
#endif
