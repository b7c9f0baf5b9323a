/* OpenSSL's codecs for the rest of the library: see crypto.h. */
#include <openssl/evp.h>

#include "crypto.h"

size_t wire__base64_encode(const void *in, size_t len, char *out)
{
  /* EVP_EncodeBlock writes no newlines and a terminating NUL. */
  return (size_t)EVP_EncodeBlock((unsigned char *)out,
                                 (const unsigned char *)in, (int)len);
}
