/* TLS internals shared by context.c (secure contexts), stream.c (the TLS
 * transport, clients and servers) and certgen.c. OpenSSL is used only
 * under src/tls. */
#ifndef WIRE_TLS_INTERNAL_H
#define WIRE_TLS_INTERNAL_H

#include <openssl/ssl.h>

#include "../stream/internal.h"

struct wire_tls_ctx_s {
  SSL_CTX *ssl;
  int refs; /* atomic: contexts may be shared across loops */
};

void wire__tls_ctx_ref(wire_tls_ctx_t *ctx);

/* The process-wide default client context (system CAs), made on first
 * use and kept for the life of the process. NULL if it could not be
 * made (the reason is in wire_tls_errstr). */
wire_tls_ctx_t *wire__tls_ctx_default(void);

/* Records the reason of OpenSSL's error queue (and clears it) as this
 * thread's wire_tls_errstr, prefixed with what (may be NULL). Returns
 * WIRE_ETLS. */
int wire__tls_fail(const char *what);
/* Sets this thread's wire_tls_errstr to msg. */
void wire__tls_set_errstr(const char *msg);

/* stream.c: the callbacks every context installs (ALPN choice, SNI,
 * new client sessions); they find their socket through the SSL's ex
 * data. */
int wire__tls_alpn_select(SSL *ssl, const unsigned char **out,
                          unsigned char *outlen, const unsigned char *in,
                          unsigned int inlen, void *arg);
int wire__tls_servername(SSL *ssl, int *alert, void *arg);
int wire__tls_new_session(SSL *ssl, SSL_SESSION *sess);

#endif
