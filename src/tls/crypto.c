/* OpenSSL's codecs for the rest of the library: see crypto.h. */
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "wire/errno.h"

#include "crypto.h"

size_t wire__base64_encode(const void *in, size_t len, char *out)
{
  /* EVP_EncodeBlock writes no newlines and a terminating NUL. */
  return (size_t)EVP_EncodeBlock((unsigned char *)out,
                                 (const unsigned char *)in, (int)len);
}

int wire__sha1(const void *in, size_t len, uint8_t out[WIRE__SHA1_LEN])
{
  unsigned int n = 0;
  if (EVP_Digest(in, len, out, &n, EVP_sha1(), NULL) != 1 ||
      n != WIRE__SHA1_LEN)
    return WIRE_ENOMEM;
  return 0;
}

int wire__random_bytes(void *out, size_t len)
{
  while (len > 0) {
    int n = len > 1 << 20 ? 1 << 20 : (int)len;
    if (RAND_bytes(out, n) != 1)
      return WIRE_EIO;
    out = (char *)out + n;
    len -= (size_t)n;
  }
  return 0;
}
