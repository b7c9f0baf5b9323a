/* The opening handshake's small pieces (RFC 6455 section 4): the
 * Sec-WebSocket-Accept computation, fresh keys, and the parsing of the
 * header values both sides check (tokens in comma-separated lists,
 * subprotocol lists). The request and response logic that uses them is in
 * ws.c; the extension negotiation is in deflate.c. SHA-1, base64 and the
 * random bytes come from src/tls/crypto.c (OpenSSL stays in src/tls). */
#include <string.h>
#include <strings.h>

#include "../http/parser.h"
#include "../tls/crypto.h"
#include "internal.h"

/* RFC 6455 1.3: the GUID every server appends to the client's key. */
static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

int wire__ws_accept(const char *key, char out[WIRE__WS_ACCEPT_LEN + 1])
{
  char buf[128];
  size_t klen = strlen(key);
  if (klen > sizeof(buf) - sizeof(ws_guid))
    return WIRE_EINVAL;
  memcpy(buf, key, klen);
  memcpy(buf + klen, ws_guid, sizeof(ws_guid) - 1);
  uint8_t md[WIRE__SHA1_LEN];
  int err = wire__sha1(buf, klen + sizeof(ws_guid) - 1, md);
  if (err < 0)
    return err;
  wire__base64_encode(md, sizeof(md), out);
  return 0;
}

int wire__ws_key(char out[WIRE__WS_KEY_LEN + 1])
{
  uint8_t raw[16];
  int err = wire__random_bytes(raw, sizeof(raw));
  if (err < 0)
    return err;
  wire__base64_encode(raw, sizeof(raw), out);
  return 0;
}

static int b64char(int c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '+' || c == '/';
}

int wire__ws_key_valid(const char *key)
{
  /* 16 bytes make 22 base64 digits and "==". The last digit carries only
   * 2 bits of data: its low 4 bits must be zero (A, Q, g or w). */
  if (strlen(key) != 24 || key[22] != '=' || key[23] != '=')
    return 0;
  for (int i = 0; i < 22; i++) {
    if (!b64char((unsigned char)key[i]))
      return 0;
  }
  return strchr("AQgw", key[21]) != NULL;
}

static int is_ows(int c)
{
  return c == ' ' || c == '\t';
}

int wire__ws_has_token(const char *v, const char *token)
{
  size_t tlen = strlen(token);
  const char *p = v;
  while (*p != '\0') {
    while (is_ows(*p) || *p == ',')
      p++;
    const char *start = p;
    while (*p != '\0' && *p != ',')
      p++;
    const char *end = p;
    while (end > start && is_ows(end[-1]))
      end--;
    if ((size_t)(end - start) == tlen && strncasecmp(start, token, tlen) == 0)
      return 1;
  }
  return 0;
}

int wire__ws_split_protocols(const char *v, char *buf, size_t cap,
                             const char **list, size_t max)
{
  size_t vlen = strlen(v);
  if (vlen + 1 > cap)
    return -1;
  memcpy(buf, v, vlen + 1);
  size_t n = 0;
  char *p = buf;
  for (;;) {
    while (is_ows(*p))
      p++;
    char *start = p;
    while (*p != '\0' && wire_http_tchar[(unsigned char)*p])
      p++;
    char *end = p;
    while (is_ows(*p))
      p++;
    /* RFC 6455 4.1: 1#token; an empty element or a stray byte is an
     * error, as the ws package has it. */
    if (end == start || (*p != ',' && *p != '\0'))
      return -1;
    char c = *p;
    *end = '\0';
    for (size_t i = 0; i < n; i++) {
      if (strcmp(list[i], start) == 0)
        return -1;
    }
    if (n == max)
      return -1;
    list[n++] = start;
    if (c == '\0')
      break;
    p++;
  }
  return (int)n;
}
