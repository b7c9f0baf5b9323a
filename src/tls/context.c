/* Secure contexts: an SSL_CTX with Node's defaults and wire's secure ones.
 *
 * A context is created from PEM (files or memory): key, certificate chain,
 * trusted CAs. Every context gets the same settings: TLS 1.2 minimum, no
 * renegotiation, no compression, buffers released while idle (a quiet
 * connection should cost little), read-ahead (one BIO read per batch of
 * records, as nginx), a session id context (resumption with
 * client certificates needs one), stateless session tickets on the server
 * and no internal session store (clients keep their sessions through the
 * session event), and the ALPN, SNI and new-session callbacks of
 * stream.c, which find their socket through the SSL's ex data.
 *
 * Contexts are refcounted with atomics: a context may be shared by sockets
 * of several loops. wire_tls_ctx_set_cert loads and checks the new key and
 * certificate completely before it touches the context, so a failure
 * changes nothing. */
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* ---- errors ------------------------------------------------------------ */

static _Thread_local char errstr[256];

const char *wire_tls_errstr(void)
{
  return errstr;
}

void wire__tls_set_errstr(const char *msg)
{
  snprintf(errstr, sizeof(errstr), "%s", msg);
}

int wire__tls_fail(const char *what)
{
  /* The last error in the queue is the one closest to the caller's
   * question ("no start line" for a file that is not PEM). */
  unsigned long e = ERR_peek_last_error();
  const char *reason = e != 0 ? ERR_reason_error_string(e) : NULL;
  if (reason == NULL)
    reason = "unknown error";
  if (what != NULL)
    snprintf(errstr, sizeof(errstr), "%s: %s", what, reason);
  else
    snprintf(errstr, sizeof(errstr), "%s", reason);
  ERR_clear_error();
  return WIRE_ETLS;
}

/* ---- PEM loading --------------------------------------------------------- */

static int open_bio(const char *file, const char *pem, BIO **out)
{
  BIO *b = NULL;
  if (file != NULL) {
    FILE *f = fopen(file, "rb");
    if (f == NULL) {
      int err = -errno;
      snprintf(errstr, sizeof(errstr), "%s: %s", file, strerror(errno));
      return err;
    }
    b = BIO_new_fp(f, BIO_CLOSE);
    if (b == NULL) {
      fclose(f);
      return WIRE_ENOMEM;
    }
  } else {
    b = BIO_new_mem_buf(pem, -1);
    if (b == NULL)
      return WIRE_ENOMEM;
  }
  *out = b;
  return 0;
}

static int pass_cb(char *buf, int size, int rwflag, void *u)
{
  (void)rwflag;
  const char *pw = u;
  if (pw == NULL)
    return -1; /* an encrypted key and no passphrase: fail, do not prompt */
  size_t n = strlen(pw);
  if (n > (size_t)size)
    n = (size_t)size;
  memcpy(buf, pw, n);
  return (int)n;
}

static int load_key(const wire_tls_ctx_opts_t *o, EVP_PKEY **out)
{
  BIO *b = NULL;
  int err = open_bio(o->key_file, o->key_pem, &b);
  if (err < 0)
    return err;
  EVP_PKEY *k =
      PEM_read_bio_PrivateKey(b, NULL, pass_cb, (void *)o->passphrase);
  BIO_free(b);
  if (k == NULL)
    return wire__tls_fail("key");
  *out = k;
  return 0;
}

/* The certificate and the chain after it. */
static int load_chain(const char *file, const char *pem, X509 **leaf,
                      STACK_OF(X509) * *chain)
{
  BIO *b = NULL;
  int err = open_bio(file, pem, &b);
  if (err < 0)
    return err;
  X509 *x = PEM_read_bio_X509_AUX(b, NULL, NULL, NULL);
  if (x == NULL) {
    BIO_free(b);
    return wire__tls_fail("cert");
  }
  STACK_OF(X509) *sk = sk_X509_new_null();
  if (sk == NULL)
    goto nomem;
  for (;;) {
    X509 *c = PEM_read_bio_X509(b, NULL, NULL, NULL);
    if (c == NULL)
      break;
    if (sk_X509_push(sk, c) == 0) {
      X509_free(c);
      goto nomem;
    }
  }
  ERR_clear_error(); /* the end of the file reads as "no start line" */
  BIO_free(b);
  *leaf = x;
  *chain = sk;
  return 0;
nomem:
  BIO_free(b);
  X509_free(x);
  sk_X509_pop_free(sk, X509_free);
  return WIRE_ENOMEM;
}

static int load_ca(SSL_CTX *c, const char *file, const char *pem)
{
  BIO *b = NULL;
  int err = open_bio(file, pem, &b);
  if (err < 0)
    return err;
  X509_STORE *store = SSL_CTX_get_cert_store(c);
  int n = 0;
  for (;;) {
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    if (x == NULL)
      break;
    /* Trusted, and named to clients in a certificate request. */
    if (X509_STORE_add_cert(store, x) != 1 ||
        SSL_CTX_add_client_CA(c, x) != 1) {
      X509_free(x);
      BIO_free(b);
      return wire__tls_fail("ca");
    }
    X509_free(x);
    n++;
  }
  BIO_free(b);
  if (n == 0)
    return wire__tls_fail("ca");
  ERR_clear_error();
  return 0;
}

/* Loads key and chain as a checked pair, then installs them. */
static int use_cert(SSL_CTX *c, const wire_tls_ctx_opts_t *o)
{
  EVP_PKEY *key = NULL;
  X509 *leaf = NULL;
  STACK_OF(X509) *chain = NULL;
  int err = load_key(o, &key);
  if (err < 0)
    return err;
  err = load_chain(o->cert_file, o->cert_pem, &leaf, &chain);
  if (err < 0)
    goto out;
  if (X509_check_private_key(leaf, key) != 1) {
    err = wire__tls_fail("key does not match the certificate");
    goto out;
  }
  if (SSL_CTX_use_certificate(c, leaf) != 1 ||
      SSL_CTX_use_PrivateKey(c, key) != 1 ||
      SSL_CTX_set1_chain(c, chain) != 1) {
    err = wire__tls_fail("cert");
    goto out;
  }
  err = 0;
out:
  EVP_PKEY_free(key);
  X509_free(leaf);
  sk_X509_pop_free(chain, X509_free);
  return err;
}

static int has_key(const wire_tls_ctx_opts_t *o)
{
  return o->key_file != NULL || o->key_pem != NULL;
}

static int has_cert(const wire_tls_ctx_opts_t *o)
{
  return o->cert_file != NULL || o->cert_pem != NULL;
}

/* ---- contexts --------------------------------------------------------------
 */

static int version_ok(int v)
{
  return v == 0 || v == WIRE_TLS_1_2 || v == WIRE_TLS_1_3;
}

int wire_tls_ctx_new(const wire_tls_ctx_opts_t *o, wire_tls_ctx_t **out)
{
  wire_tls_ctx_opts_t none = WIRE_TLS_CTX_OPTS_INIT;
  if (o == NULL)
    o = &none;
  errstr[0] = '\0';
  if (out == NULL || !version_ok(o->min_version) ||
      !version_ok(o->max_version) || has_key(o) != has_cert(o) ||
      (o->max_version != 0 && o->max_version < o->min_version))
    return WIRE_EINVAL;
  wire_tls_ctx_t *ctx = wire__calloc(1, sizeof(*ctx));
  if (ctx == NULL)
    return WIRE_ENOMEM;
  ctx->refs = 1;
  SSL_CTX *c = SSL_CTX_new(TLS_method());
  if (c == NULL) {
    wire__free(ctx);
    return wire__tls_fail(NULL);
  }
  ctx->ssl = c;
  int err;
  /* TLS 1.0 and 1.1 are refused, whatever OpenSSL's configuration says. */
  if (SSL_CTX_set_min_proto_version(c, o->min_version ? o->min_version
                                                      : TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(c, o->max_version) != 1) {
    err = wire__tls_fail("version");
    goto fail;
  }
  SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                             SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_read_ahead(c, 1); /* stream.c: SSL_has_pending, not SSL_pending */
  static const unsigned char sid_ctx[] = "wire";
  SSL_CTX_set_session_id_context(c, sid_ctx, sizeof(sid_ctx) - 1);
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_BOTH |
                                        SSL_SESS_CACHE_NO_INTERNAL_STORE);
  if (o->no_session_resumption) {
    SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(c, 0);
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  }
  SSL_CTX_sess_set_new_cb(c, wire__tls_new_session);
  SSL_CTX_set_alpn_select_cb(c, wire__tls_alpn_select, NULL);
  SSL_CTX_set_tlsext_servername_callback(c, wire__tls_servername);
  if (o->ciphers != NULL && SSL_CTX_set_cipher_list(c, o->ciphers) != 1) {
    err = wire__tls_fail("ciphers");
    goto fail;
  }
  if (o->ciphersuites != NULL &&
      SSL_CTX_set_ciphersuites(c, o->ciphersuites) != 1) {
    err = wire__tls_fail("ciphersuites");
    goto fail;
  }
  if (has_key(o)) {
    err = use_cert(c, o);
    if (err < 0)
      goto fail;
  }
  if (o->ca_file != NULL || o->ca_pem != NULL) {
    if (o->ca_file != NULL) {
      err = load_ca(c, o->ca_file, NULL);
      if (err < 0)
        goto fail;
    }
    if (o->ca_pem != NULL) {
      err = load_ca(c, NULL, o->ca_pem);
      if (err < 0)
        goto fail;
    }
  } else if (!o->no_default_ca) {
    /* No CA store configured on this system is not an error: nothing is
     * trusted then, and verification says so. */
    (void)SSL_CTX_set_default_verify_paths(c);
    ERR_clear_error();
  }
  *out = ctx;
  return 0;
fail:
  SSL_CTX_free(c);
  wire__free(ctx);
  return err;
}

int wire_tls_ctx_set_cert(wire_tls_ctx_t *ctx, const wire_tls_ctx_opts_t *o)
{
  errstr[0] = '\0';
  if (ctx == NULL || o == NULL || !has_key(o) || !has_cert(o))
    return WIRE_EINVAL;
  return use_cert(ctx->ssl, o);
}

void wire__tls_ctx_ref(wire_tls_ctx_t *ctx)
{
  __atomic_add_fetch(&ctx->refs, 1, __ATOMIC_RELAXED);
}

void wire_tls_ctx_free(wire_tls_ctx_t *ctx)
{
  if (ctx == NULL)
    return;
  if (__atomic_sub_fetch(&ctx->refs, 1, __ATOMIC_ACQ_REL) > 0)
    return;
  SSL_CTX_free(ctx->ssl);
  wire__poison(ctx, sizeof(*ctx));
  wire__free(ctx);
}

static uv_once_t default_once = UV_ONCE_INIT;
static wire_tls_ctx_t *default_ctx;

static void make_default(void)
{
  wire_tls_ctx_t *ctx;
  if (wire_tls_ctx_new(NULL, &ctx) == 0)
    default_ctx = ctx;
}

wire_tls_ctx_t *wire__tls_ctx_default(void)
{
  uv_once(&default_once, make_default);
  return default_ctx;
}
