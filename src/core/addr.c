/* Address helpers: sockaddr <-> wire_addr_t and IP-literal parsing. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

int wire__addr_from_sockaddr(const struct sockaddr *sa, wire_addr_t *out)
{
  memset(out, 0, sizeof(*out));
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    uv_ip4_name(in, out->address, sizeof(out->address));
    out->family = 4;
    out->port = ntohs(in->sin_port);
    return 0;
  }
  if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    uv_ip6_name(in6, out->address, sizeof(out->address));
    out->family = 6;
    out->port = ntohs(in6->sin6_port);
    return 0;
  }
  return WIRE_EAFNOSUPPORT;
}

int wire__addr_parse(const char *host, int port, struct sockaddr_storage *out)
{
  if (host == NULL || port < 0 || port > 65535)
    return WIRE_EINVAL;
  memset(out, 0, sizeof(*out));
  if (uv_ip4_addr(host, port, (struct sockaddr_in *)out) == 0)
    return 0;
  char tmp[64];
  size_t n = strlen(host);
  if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof(tmp)) {
    memcpy(tmp, host + 1, n - 2);
    tmp[n - 2] = '\0';
    host = tmp;
  }
  if (strchr(host, ':') != NULL &&
      uv_ip6_addr(host, port, (struct sockaddr_in6 *)out) == 0)
    return 0;
  return WIRE_EINVAL;
}
