/* The hashes, encodings and randomness other modules need from OpenSSL
 * (HTTP Basic auth, the WebSocket handshake and masks), so that OpenSSL
 * stays inside src/tls. */
#ifndef WIRE_TLS_CRYPTO_H
#define WIRE_TLS_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/* Base64 of len bytes into out (room for 4 * ((len + 2) / 3) + 1 bytes),
 * NUL-terminated. Returns the encoded length. */
size_t wire__base64_encode(const void *in, size_t len, char *out);

/* The SHA-1 digest (20 bytes) of len bytes into out. Returns 0, or
 * WIRE_ENOMEM if OpenSSL could not make a digest context. SHA-1 is only
 * used where a protocol demands it (RFC 6455 4.2.2), never for security. */
#define WIRE__SHA1_LEN 20
int wire__sha1(const void *in, size_t len, uint8_t out[WIRE__SHA1_LEN]);

/* len bytes from OpenSSL's CSPRNG. Returns 0, or WIRE_EIO if it failed. */
int wire__random_bytes(void *out, size_t len);

#endif
