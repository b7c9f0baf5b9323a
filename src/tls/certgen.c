/* The certificate tool: a CA and the certificates it signs, what the
 * seed does by hand with openssl genrsa, req and x509.
 *
 * Keys are ECDSA P-256 unless RSA is asked for. Certificates are X.509 v3
 * with a random 128-bit serial, SHA-256 signatures and the extensions a
 * verifier checks: a CA has basicConstraints CA:TRUE and keyCertSign; a
 * server certificate has serverAuth and its names as subjectAltName (DNS or
 * IP entries: host names are not read from the CN by modern verifiers); a
 * client certificate has clientAuth. Everything is PEM text in memory;
 * wire_cert_save writes the key with mode 0600. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define MAX_FILE (1024 * 1024)

static EVP_PKEY *make_key(int rsa_bits)
{
  if (rsa_bits == 0)
    return EVP_EC_gen("P-256");
  return EVP_RSA_gen((unsigned)rsa_bits);
}

static char *bio_text(BIO *b)
{
  char *p;
  long n = BIO_get_mem_data(b, &p);
  if (n < 0)
    return NULL;
  char *s = wire__malloc((size_t)n + 1);
  if (s == NULL)
    return NULL;
  memcpy(s, p, (size_t)n);
  s[n] = '\0';
  return s;
}

static int add_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
  X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, v3, nid, value);
  if (e == NULL)
    return 0;
  int ok = X509_add_ext(x, e, -1);
  X509_EXTENSION_free(e);
  return ok;
}

static int is_ip_text(const char *s)
{
  struct sockaddr_storage ss;
  return wire__addr_parse(s, 1, &ss) == 0;
}

/* "DNS:a,IP:1.2.3.4" from the names; NULL on a bad name or no memory. */
static char *san_text(const char *const *sans, size_t n)
{
  size_t cap = 1;
  for (size_t i = 0; i < n; i++) {
    if (sans[i] == NULL || sans[i][0] == '\0' || strchr(sans[i], ',') ||
        strlen(sans[i]) > 253)
      return NULL;
    cap += strlen(sans[i]) + 5;
  }
  char *s = wire__malloc(cap);
  if (s == NULL)
    return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    const char *name = sans[i];
    char ip[64];
    const char *kind = "DNS";
    size_t len = strlen(name);
    if (name[0] == '[' && len > 2 && len < sizeof(ip) + 2 &&
        name[len - 1] == ']') {
      memcpy(ip, name + 1, len - 2);
      ip[len - 2] = '\0';
      name = ip;
    }
    if (is_ip_text(name))
      kind = "IP";
    k += (size_t)snprintf(s + k, cap - k, "%s%s:%s", i > 0 ? "," : "", kind,
                          name);
  }
  return s;
}

/* Makes a key and a certificate for it, signed by ca (NULL: self-signed). */
static int make(const wire_cert_opts_t *o, const wire_cert_t *ca,
                wire_cert_t *out)
{
  if (o == NULL || out == NULL ||
      (o->rsa_bits != 0 && o->rsa_bits != 2048 && o->rsa_bits != 3072 &&
       o->rsa_bits != 4096) ||
      o->days < 0 || (o->kind != WIRE_CERT_CA && ca == NULL) ||
      (o->kind == WIRE_CERT_SERVER && o->nsans == 0) ||
      (o->nsans > 0 && o->sans == NULL))
    return WIRE_EINVAL;
  wire__tls_set_errstr("");
  int err = WIRE_ENOMEM;
  EVP_PKEY *key = NULL;
  EVP_PKEY *ca_key = NULL;
  X509 *ca_x = NULL;
  X509 *x = NULL;
  BIGNUM *bn = NULL;
  char *san = NULL;
  BIO *kb = NULL;
  BIO *cb = NULL;

  if (ca != NULL) {
    BIO *b = BIO_new_mem_buf(ca->key_pem, -1);
    ca_key = b != NULL ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    b = BIO_new_mem_buf(ca->cert_pem, -1);
    ca_x = b != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (ca_key == NULL || ca_x == NULL) {
      err = wire__tls_fail("CA");
      goto out;
    }
    if (X509_check_private_key(ca_x, ca_key) != 1) {
      err = wire__tls_fail("CA key does not match the CA certificate");
      goto out;
    }
  }
  key = make_key(o->rsa_bits);
  x = X509_new();
  bn = BN_new();
  if (key == NULL || x == NULL || bn == NULL)
    goto ssl_fail;
  if (X509_set_version(x, X509_VERSION_3) != 1 ||
      BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
    goto ssl_fail;
  int days = o->days > 0 ? o->days : (o->kind == WIRE_CERT_CA ? 3650 : 825);
  long start = (long)o->start_offset_s;
  if (X509_gmtime_adj(X509_getm_notBefore(x), start) == NULL ||
      X509_gmtime_adj(X509_getm_notAfter(x), start + (long)days * 86400) ==
          NULL)
    goto ssl_fail;

  const char *cn = o->cn;
  if (cn == NULL)
    cn = o->kind == WIRE_CERT_CA ? "wire CA"
         : o->nsans > 0          ? o->sans[0]
                                 : "wire client";
  X509_NAME *name = X509_get_subject_name(x);
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 (const unsigned char *)cn, -1, -1, 0) != 1)
    goto ssl_fail;
  if (o->org != NULL &&
      X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                 (const unsigned char *)o->org, -1, -1, 0) != 1)
    goto ssl_fail;
  if (X509_set_issuer_name(x, ca_x != NULL ? X509_get_subject_name(ca_x)
                                           : name) != 1 ||
      X509_set_pubkey(x, key) != 1)
    goto ssl_fail;

  X509V3_CTX v3;
  X509V3_set_ctx(&v3, ca_x != NULL ? ca_x : x, x, NULL, NULL, 0);
  int ok = add_ext(x, &v3, NID_subject_key_identifier, "hash");
  if (o->kind == WIRE_CERT_CA) {
    ok = ok && add_ext(x, &v3, NID_basic_constraints, "critical,CA:TRUE") &&
         add_ext(x, &v3, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    ok = ok && add_ext(x, &v3, NID_authority_key_identifier, "keyid:always") &&
         add_ext(x, &v3, NID_basic_constraints, "critical,CA:FALSE") &&
         add_ext(x, &v3, NID_key_usage,
                 o->rsa_bits ? "critical,digitalSignature,keyEncipherment"
                             : "critical,digitalSignature") &&
         add_ext(x, &v3, NID_ext_key_usage,
                 o->kind == WIRE_CERT_SERVER ? "serverAuth" : "clientAuth");
  }
  if (!ok)
    goto ssl_fail;
  if (o->nsans > 0) {
    san = san_text(o->sans, o->nsans);
    if (san == NULL) {
      err = WIRE_EINVAL;
      goto out;
    }
    if (!add_ext(x, &v3, NID_subject_alt_name, san))
      goto ssl_fail;
  }
  if (X509_sign(x, ca_key != NULL ? ca_key : key, EVP_sha256()) <= 0)
    goto ssl_fail;

  kb = BIO_new(BIO_s_mem());
  cb = BIO_new(BIO_s_mem());
  if (kb == NULL || cb == NULL ||
      PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) != 1 ||
      PEM_write_bio_X509(cb, x) != 1)
    goto ssl_fail;
  out->key_pem = bio_text(kb);
  out->cert_pem = bio_text(cb);
  if (out->key_pem == NULL || out->cert_pem == NULL) {
    wire_cert_free(out);
    err = WIRE_ENOMEM;
    goto out;
  }
  err = 0;
  goto out;

ssl_fail:
  err = wire__tls_fail("certificate");
out:
  BIO_free(kb);
  BIO_free(cb);
  wire__free(san);
  BN_free(bn);
  X509_free(x);
  X509_free(ca_x);
  EVP_PKEY_free(key);
  EVP_PKEY_free(ca_key);
  return err;
}

int wire_cert_make_ca(const wire_cert_opts_t *o, wire_cert_t *out)
{
  if (o == NULL || o->kind != WIRE_CERT_CA)
    return WIRE_EINVAL;
  return make(o, NULL, out);
}

int wire_cert_make_signed(const wire_cert_opts_t *o, const wire_cert_t *ca,
                          wire_cert_t *out)
{
  if (o == NULL || ca == NULL || ca->key_pem == NULL || ca->cert_pem == NULL ||
      o->kind == WIRE_CERT_CA)
    return WIRE_EINVAL;
  return make(o, ca, out);
}

void wire_cert_free(wire_cert_t *c)
{
  if (c == NULL)
    return;
  wire__free(c->key_pem);
  wire__free(c->cert_pem);
  c->key_pem = NULL;
  c->cert_pem = NULL;
}

static int write_file(const char *path, const char *text, int mode)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return -errno;
  /* An existing file keeps its mode through O_CREAT: set it. */
  if (fchmod(fd, (mode_t)mode) < 0) {
    int err = -errno;
    close(fd);
    return err;
  }
  size_t len = strlen(text);
  size_t off = 0;
  while (off < len) {
    ssize_t n = write(fd, text + off, len - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int err = -errno;
      close(fd);
      return err;
    }
    off += (size_t)n;
  }
  return close(fd) < 0 ? -errno : 0;
}

static char *path_with(const char *prefix, const char *ext)
{
  size_t n = strlen(prefix) + strlen(ext) + 1;
  char *p = wire__malloc(n);
  if (p != NULL)
    snprintf(p, n, "%s%s", prefix, ext);
  return p;
}

int wire_cert_save(const wire_cert_t *c, const char *prefix)
{
  if (c == NULL || prefix == NULL || c->key_pem == NULL || c->cert_pem == NULL)
    return WIRE_EINVAL;
  char *kp = path_with(prefix, ".key");
  char *cp = path_with(prefix, ".crt");
  int err = WIRE_ENOMEM;
  if (kp != NULL && cp != NULL) {
    err = write_file(kp, c->key_pem, 0600);
    if (err == 0)
      err = write_file(cp, c->cert_pem, 0644);
  }
  wire__free(kp);
  wire__free(cp);
  return err;
}

static int read_file(const char *path, char **out)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  char *buf = NULL;
  size_t len = 0;
  size_t cap = 0;
  int err = 0;
  for (;;) {
    if (len + 4096 + 1 > cap) {
      if (cap >= MAX_FILE) {
        err = WIRE_ETOOBIG;
        break;
      }
      cap = cap ? cap * 2 : 8192;
      char *p = wire__realloc(buf, cap);
      if (p == NULL) {
        err = WIRE_ENOMEM;
        break;
      }
      buf = p;
    }
    ssize_t n = read(fd, buf + len, cap - len - 1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      err = -errno;
      break;
    }
    if (n == 0)
      break;
    len += (size_t)n;
  }
  close(fd);
  if (err < 0) {
    wire__free(buf);
    return err;
  }
  if (buf == NULL) {
    buf = wire__malloc(1);
    if (buf == NULL)
      return WIRE_ENOMEM;
  }
  buf[len] = '\0';
  *out = buf;
  return 0;
}

int wire_cert_load(const char *prefix, wire_cert_t *out)
{
  if (prefix == NULL || out == NULL)
    return WIRE_EINVAL;
  char *kp = path_with(prefix, ".key");
  char *cp = path_with(prefix, ".crt");
  wire_cert_t c = {NULL, NULL};
  int err = WIRE_ENOMEM;
  if (kp != NULL && cp != NULL) {
    err = read_file(kp, &c.key_pem);
    if (err == 0)
      err = read_file(cp, &c.cert_pem);
  }
  wire__free(kp);
  wire__free(cp);
  if (err < 0) {
    wire_cert_free(&c);
    return err;
  }
  *out = c;
  return 0;
}
