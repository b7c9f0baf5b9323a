/* The hashes and encodings other modules need from OpenSSL (HTTP Basic
 * auth, the WebSocket handshake), so that OpenSSL stays inside src/tls. */
#ifndef WIRE_TLS_CRYPTO_H
#define WIRE_TLS_CRYPTO_H

#include <stddef.h>

/* Base64 of len bytes into out (room for 4 * ((len + 2) / 3) + 1 bytes),
 * NUL-terminated. Returns the encoded length. */
size_t wire__base64_encode(const void *in, size_t len, char *out);

#endif
