/* wire cert: a CA and the certificates it signs (what the seed does with
 * openssl genrsa, req and x509).
 *
 *   wire cert ca --out P                         P.key, P.crt
 *   wire cert server --ca P --san NAME --out S   S.key, S.crt (serverAuth)
 *   wire cert client --ca P --cn NAME --out C    C.key, C.crt (clientAuth)
 *
 * Keys are written mode 0600. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_SANS 32

static const char usage_text[] =
    "usage: wire cert ca --out PREFIX [options]\n"
    "       wire cert server --ca CA --san NAME_OR_IP [--san ...] --out "
    "PREFIX\n"
    "       wire cert client --ca CA --cn NAME --out PREFIX\n"
    "\n"
    "Makes a CA, or a certificate signed by the CA whose files are CA.key and\n"
    "CA.crt. Writes PREFIX.key (mode 0600) and PREFIX.crt, in PEM.\n"
    "\n"
    "  --out PREFIX   where to write PREFIX.key and PREFIX.crt\n"
    "  --ca PREFIX    the signing CA (server and client)\n"
    "  --san NAME     a host name or IP address the certificate is for\n"
    "                 (server: at least one; repeatable)\n"
    "  --cn NAME      the subject's common name (default: the first SAN,\n"
    "                 'wire CA' or 'wire client')\n"
    "  --org NAME     the subject's organization\n"
    "  --rsa BITS     an RSA key of 2048, 3072 or 4096 bits (default: ECDSA\n"
    "                 P-256)\n"
    "  --days N       validity in days (default: 3650 for a CA, else 825)\n";

int cmd_cert(int argc, char **argv)
{
  if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "--help") == 0) {
    fputs(usage_text, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  wire_cert_opts_t o = WIRE_CERT_OPTS_INIT;
  if (strcmp(argv[1], "ca") == 0) {
    o.kind = WIRE_CERT_CA;
  } else if (strcmp(argv[1], "server") == 0) {
    o.kind = WIRE_CERT_SERVER;
  } else if (strcmp(argv[1], "client") == 0) {
    o.kind = WIRE_CERT_CLIENT;
  } else {
    fprintf(stderr, "wire cert: unknown kind '%s'\n%s", argv[1], usage_text);
    return 2;
  }
  const char *out = NULL;
  const char *ca_prefix = NULL;
  const char *sans[MAX_SANS];
  size_t nsans = 0;
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (v == NULL) {
      fprintf(stderr, "wire cert: %s needs a value\n", a);
      return 2;
    }
    i++;
    if (strcmp(a, "--out") == 0) {
      out = v;
    } else if (strcmp(a, "--ca") == 0) {
      ca_prefix = v;
    } else if (strcmp(a, "--san") == 0) {
      if (nsans == MAX_SANS) {
        fprintf(stderr, "wire cert: at most %d --san\n", MAX_SANS);
        return 2;
      }
      sans[nsans++] = v;
    } else if (strcmp(a, "--cn") == 0) {
      o.cn = v;
    } else if (strcmp(a, "--org") == 0) {
      o.org = v;
    } else if (strcmp(a, "--rsa") == 0) {
      o.rsa_bits = atoi(v);
    } else if (strcmp(a, "--days") == 0) {
      o.days = atoi(v);
      if (o.days <= 0) {
        fprintf(stderr, "wire cert: --days must be positive\n");
        return 2;
      }
    } else {
      fprintf(stderr, "wire cert: unknown option '%s'\n%s", a, usage_text);
      return 2;
    }
  }
  if (out == NULL) {
    fprintf(stderr, "wire cert: --out is required\n");
    return 2;
  }
  if (o.kind != WIRE_CERT_CA && ca_prefix == NULL) {
    fprintf(stderr, "wire cert: --ca is required\n");
    return 2;
  }
  if (o.kind == WIRE_CERT_SERVER && nsans == 0) {
    fprintf(stderr, "wire cert: a server certificate needs --san\n");
    return 2;
  }
  if (o.rsa_bits != 0 && o.rsa_bits != 2048 && o.rsa_bits != 3072 &&
      o.rsa_bits != 4096) {
    fprintf(stderr, "wire cert: --rsa takes 2048, 3072 or 4096\n");
    return 2;
  }
  o.sans = sans;
  o.nsans = nsans;

  wire_cert_t ca = {NULL, NULL};
  wire_cert_t c = {NULL, NULL};
  int err;
  if (o.kind == WIRE_CERT_CA) {
    err = wire_cert_make_ca(&o, &c);
  } else {
    err = wire_cert_load(ca_prefix, &ca);
    if (err < 0) {
      fprintf(stderr, "wire cert: reading %s.key/.crt: %s\n", ca_prefix,
              wire_strerror(err));
      return 1;
    }
    err = wire_cert_make_signed(&o, &ca, &c);
    wire_cert_free(&ca);
  }
  if (err < 0) {
    fprintf(stderr, "wire cert: %s%s%s\n", wire_strerror(err),
            wire_tls_errstr()[0] ? ": " : "", wire_tls_errstr());
    return 1;
  }
  err = wire_cert_save(&c, out);
  wire_cert_free(&c);
  if (err < 0) {
    fprintf(stderr, "wire cert: writing %s.key/.crt: %s\n", out,
            wire_strerror(err));
    return 1;
  }
  printf("wrote %s.key %s.crt\n", out, out);
  return 0;
}
