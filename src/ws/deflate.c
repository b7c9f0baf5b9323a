/* permessage-deflate (RFC 7692): the extension's negotiation (the
 * Sec-WebSocket-Extensions grammar of RFC 6455 9.1 and the four
 * parameters of RFC 7692 7.1) and its codec on zlib's raw deflate. The
 * only zlib user in wire.
 *
 * Windows: our compressor uses the window agreed for our side (9..15:
 * zlib refuses a raw window of 8, so wire never agrees to 8 for itself).
 * Our decompressor always uses 15: a bigger window reads a stream made
 * with a smaller one, so whatever the peer uses is fine.
 *
 * Bounds: inflate writes into a wire__wsbuf_t whose limit is the
 * connection's max_payload, in steps, so a small compressed message that
 * inflates to gigabytes stops at the limit with WIRE_ETOOBIG (1009)
 * instead of eating memory. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "../http/parser.h"
#include "internal.h"

/* ---- buffers ------------------------------------------------------------- */

int wire__wsbuf_reserve(wire__wsbuf_t *b, size_t n)
{
  if (n > b->limit || b->len > b->limit - n)
    return WIRE_ETOOBIG;
  return wire__buf_grow(&b->p, &b->cap, b->len, n, NULL, b->limit);
}

int wire__wsbuf_add(wire__wsbuf_t *b, const char *p, size_t n)
{
  int err = wire__wsbuf_reserve(b, n);
  if (err < 0)
    return err;
  if (n > 0)
    memcpy(b->p + b->len, p, n);
  b->len += n;
  return 0;
}

void wire__wsbuf_free(wire__wsbuf_t *b)
{
  wire__free(b->p);
  b->p = NULL;
  b->len = 0;
  b->cap = 0;
}

/* ---- the extension header (RFC 6455 9.1) --------------------------------- */

#define MAX_PARAMS 16

typedef struct {
  char name[64];
  int nparams;
  char pname[MAX_PARAMS][64];
  char pval[MAX_PARAMS][64]; /* "" with has_val 0: no value */
  int has_val[MAX_PARAMS];
} ext_t;

static int tchar(int c)
{
  return wire_http_tchar[(unsigned char)c];
}

static const char *skip_ows(const char *p)
{
  while (*p == ' ' || *p == '\t')
    p++;
  return p;
}

/* Reads a token into out (cap bytes). Returns the end, or NULL. */
static const char *read_token(const char *p, char *out, size_t cap)
{
  size_t n = 0;
  while (tchar(*p)) {
    if (n + 1 >= cap)
      return NULL;
    out[n++] = *p++;
  }
  if (n == 0)
    return NULL;
  out[n] = '\0';
  return p;
}

/* Reads one extension (name and params) at p. Returns the position after
 * it (at ',' or the end), or NULL if malformed. */
static const char *read_ext(const char *p, ext_t *e)
{
  memset(e, 0, sizeof(*e));
  p = read_token(skip_ows(p), e->name, sizeof(e->name));
  if (p == NULL)
    return NULL;
  p = skip_ows(p);
  while (*p == ';') {
    if (e->nparams == MAX_PARAMS)
      return NULL;
    int i = e->nparams++;
    p = read_token(skip_ows(p + 1), e->pname[i], sizeof(e->pname[i]));
    if (p == NULL)
      return NULL;
    p = skip_ows(p);
    if (*p == '=') {
      p = skip_ows(p + 1);
      e->has_val[i] = 1;
      if (*p == '"') {
        /* A quoted value must still be a token once unquoted (9.1). */
        p = read_token(p + 1, e->pval[i], sizeof(e->pval[i]));
        if (p == NULL || *p != '"')
          return NULL;
        p++;
      } else {
        p = read_token(p, e->pval[i], sizeof(e->pval[i]));
        if (p == NULL)
          return NULL;
      }
      p = skip_ows(p);
    }
  }
  if (*p != ',' && *p != '\0')
    return NULL;
  return p;
}

/* Window bits value: "8".."15"; -1 if not one. */
static int window_bits(const char *v)
{
  if (v[0] == '8' && v[1] == '\0')
    return 8;
  if (v[0] == '9' && v[1] == '\0')
    return 9;
  if (v[0] == '1' && v[1] >= '0' && v[1] <= '5' && v[2] == '\0')
    return 10 + (v[1] - '0');
  return -1;
}

/* The permessage-deflate parameters of one extension. Returns 0, or -1
 * for an unknown or duplicate parameter or a bad value (RFC 7692 7.1:
 * decline such an offer; fail on such a response). cmwb_bare is set when
 * client_max_window_bits came without a value (allowed in offers). */
typedef struct {
  int snct, cnct, smwb, cmwb, cmwb_bare;
} pmd_raw_t;

static int read_pmd(const ext_t *e, pmd_raw_t *r)
{
  memset(r, 0, sizeof(*r));
  for (int i = 0; i < e->nparams; i++) {
    const char *n = e->pname[i];
    if (strcasecmp(n, "server_no_context_takeover") == 0) {
      if (r->snct || e->has_val[i])
        return -1;
      r->snct = 1;
    } else if (strcasecmp(n, "client_no_context_takeover") == 0) {
      if (r->cnct || e->has_val[i])
        return -1;
      r->cnct = 1;
    } else if (strcasecmp(n, "server_max_window_bits") == 0) {
      if (r->smwb || !e->has_val[i])
        return -1;
      r->smwb = window_bits(e->pval[i]);
      if (r->smwb < 0)
        return -1;
    } else if (strcasecmp(n, "client_max_window_bits") == 0) {
      if (r->cmwb || r->cmwb_bare)
        return -1;
      if (e->has_val[i]) {
        r->cmwb = window_bits(e->pval[i]);
        if (r->cmwb < 0)
          return -1;
      } else {
        r->cmwb_bare = 1;
      }
    } else {
      return -1;
    }
  }
  return 0;
}

static int clamp_bits(int v)
{
  return v >= 8 && v <= 15 ? v : 15;
}

int wire__pmd_accept(const wire_ws_deflate_opts_t *o, const char *header,
                     wire__pmd_params_t *out, char *resp, size_t cap)
{
  const char *p = header;
  int found = 0;
  ext_t e;
  while (*skip_ows(p) != '\0') {
    p = read_ext(p, &e);
    if (p == NULL)
      return -1;
    if (*p == ',')
      p++;
    if (found || strcasecmp(e.name, "permessage-deflate") != 0)
      continue;
    pmd_raw_t r;
    if (read_pmd(&e, &r) < 0)
      continue; /* decline this offer, look at the next */
    /* Our own (server) window: what the client allows, within our limit. */
    int ours = clamp_bits(o->server_max_window_bits);
    if (r.smwb && r.smwb < ours)
      ours = r.smwb;
    if (ours < 9)
      continue; /* zlib cannot deflate raw data with a 256-byte window */
    wire__pmd_params_t pp;
    pp.server_no_context_takeover = r.snct || o->server_no_context_takeover;
    pp.client_no_context_takeover = r.cnct || o->client_no_context_takeover;
    pp.server_max_window_bits = ours;
    pp.client_max_window_bits = 15;
    int n = snprintf(resp, cap, "permessage-deflate");
    if (pp.server_no_context_takeover)
      n += snprintf(resp + n, cap - (size_t)n, "; server_no_context_takeover");
    if (pp.client_no_context_takeover)
      n += snprintf(resp + n, cap - (size_t)n, "; client_no_context_takeover");
    if (r.smwb || o->server_max_window_bits)
      n += snprintf(resp + n, cap - (size_t)n, "; server_max_window_bits=%d",
                    ours);
    /* RFC 7692 7.1.2.2: only when offered may we limit the client. */
    if ((r.cmwb || r.cmwb_bare) && o->client_max_window_bits) {
      int cw = clamp_bits(o->client_max_window_bits);
      if (r.cmwb && r.cmwb < cw)
        cw = r.cmwb;
      pp.client_max_window_bits = cw;
      n += snprintf(resp + n, cap - (size_t)n, "; client_max_window_bits=%d",
                    cw);
    } else if (r.cmwb) {
      pp.client_max_window_bits = r.cmwb;
    }
    if ((size_t)n >= cap)
      return -1;
    *out = pp;
    found = 1;
  }
  return found;
}

void wire__pmd_offer(const wire_ws_deflate_opts_t *o, char *out, size_t cap)
{
  int n = snprintf(out, cap, "permessage-deflate");
  if (o->server_no_context_takeover)
    n += snprintf(out + n, cap - (size_t)n, "; server_no_context_takeover");
  if (o->client_no_context_takeover)
    n += snprintf(out + n, cap - (size_t)n, "; client_no_context_takeover");
  if (o->server_max_window_bits)
    n += snprintf(out + n, cap - (size_t)n, "; server_max_window_bits=%d",
                  clamp_bits(o->server_max_window_bits));
  if (o->client_max_window_bits)
    snprintf(out + n, cap - (size_t)n, "; client_max_window_bits=%d",
             clamp_bits(o->client_max_window_bits));
  else
    snprintf(out + n, cap - (size_t)n, "; client_max_window_bits");
}

int wire__pmd_response(const wire_ws_deflate_opts_t *o, const char *header,
                       wire__pmd_params_t *out, const char **why)
{
  const char *p = header;
  ext_t e;
  int found = 0;
  while (*skip_ows(p) != '\0') {
    p = read_ext(p, &e);
    if (p == NULL) {
      *why = "malformed Sec-WebSocket-Extensions";
      return -1;
    }
    if (*p == ',')
      p++;
    if (!o->enabled || strcasecmp(e.name, "permessage-deflate") != 0 ||
        found) {
      *why = "server agreed to an extension that was not offered";
      return -1;
    }
    pmd_raw_t r;
    if (read_pmd(&e, &r) < 0 || r.cmwb_bare) {
      *why = "invalid permessage-deflate parameters in the response";
      return -1;
    }
    if (o->server_no_context_takeover && !r.snct) {
      *why = "server ignored server_no_context_takeover";
      return -1;
    }
    if (o->server_max_window_bits &&
        (!r.smwb || r.smwb > clamp_bits(o->server_max_window_bits))) {
      *why = "server_max_window_bits not honoured";
      return -1;
    }
    int cw = clamp_bits(o->client_max_window_bits);
    if (r.cmwb) {
      if (r.cmwb > cw) {
        *why = "client_max_window_bits above the offer";
        return -1;
      }
      cw = r.cmwb;
    }
    if (cw < 9) {
      *why = "client_max_window_bits=8 is not supported";
      return -1;
    }
    out->server_no_context_takeover = r.snct;
    out->client_no_context_takeover = r.cnct || o->client_no_context_takeover;
    out->server_max_window_bits = r.smwb ? r.smwb : 15;
    out->client_max_window_bits = cw;
    found = 1;
  }
  return found;
}

/* ---- the codec ------------------------------------------------------------ */

struct wire__pmd_s {
  z_stream in;
  z_stream out;
  int in_reset;  /* reset the inflater after each message */
  int out_reset; /* reset the deflater after each message */
};

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
  (void)opaque;
  return wire__calloc(items, size);
}

static void z_free(voidpf opaque, voidpf p)
{
  (void)opaque;
  wire__free(p);
}

int wire__pmd_new(const wire__pmd_params_t *p, int is_server, int level,
                  wire__pmd_t **out)
{
  wire__pmd_t *z = wire__calloc(1, sizeof(*z));
  if (z == NULL)
    return WIRE_ENOMEM;
  int our_bits = is_server ? p->server_max_window_bits
                           : p->client_max_window_bits;
  if (our_bits < 9)
    our_bits = 9;
  z->out_reset = is_server ? p->server_no_context_takeover
                           : p->client_no_context_takeover;
  z->in_reset = is_server ? p->client_no_context_takeover
                          : p->server_no_context_takeover;
  z->in.zalloc = z->out.zalloc = z_alloc;
  z->in.zfree = z->out.zfree = z_free;
  if (inflateInit2(&z->in, -15) != Z_OK) {
    wire__free(z);
    return WIRE_ENOMEM;
  }
  if (level < 1 || level > 9)
    level = Z_DEFAULT_COMPRESSION;
  if (deflateInit2(&z->out, level, Z_DEFLATED, -our_bits, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    inflateEnd(&z->in);
    wire__free(z);
    return WIRE_ENOMEM;
  }
  *out = z;
  return 0;
}

void wire__pmd_free(wire__pmd_t *z)
{
  if (z == NULL)
    return;
  inflateEnd(&z->in);
  deflateEnd(&z->out);
  wire__free(z);
}

static int inflate_some(wire__pmd_t *z, const char *in, size_t len,
                        wire__wsbuf_t *out)
{
  z->in.next_in = (Bytef *)(uintptr_t)in;
  z->in.avail_in = (uInt)len;
  for (;;) {
    /* Output in steps of at most 16 KiB, never past the limit. */
    size_t room = out->limit - out->len;
    size_t step = 16 * 1024;
    if (room == 0) {
      /* The limit is reached: only an input that yields nothing more
       * (the flush tail) may go on. Probe with one byte of room. */
      char probe;
      z->in.next_out = (Bytef *)&probe;
      z->in.avail_out = 1;
      int rc = inflate(&z->in, Z_SYNC_FLUSH);
      if (z->in.avail_out == 0)
        return WIRE_ETOOBIG;
      if (rc != Z_OK && rc != Z_BUF_ERROR)
        return WIRE_EWSPROTO;
      if (z->in.avail_in == 0)
        return 0;
      continue;
    }
    if (step > room)
      step = room;
    int err = wire__wsbuf_reserve(out, step);
    if (err < 0)
      return err;
    z->in.next_out = (Bytef *)(out->p + out->len);
    z->in.avail_out = (uInt)step;
    int rc = inflate(&z->in, Z_SYNC_FLUSH);
    out->len += step - z->in.avail_out;
    if (rc == Z_STREAM_END) {
      /* A final block (BFINAL) ends the stream: RFC 7692 7.2.3.3 allows
       * it; start over for the next message. */
      inflateReset(&z->in);
      if (z->in.avail_in == 0)
        return 0;
      continue;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR)
      return WIRE_EWSPROTO;
    if (z->in.avail_in == 0 && z->in.avail_out != 0)
      return 0;
    if (rc == Z_BUF_ERROR && z->in.avail_in == 0)
      return 0;
  }
}

int wire__pmd_inflate(wire__pmd_t *z, const char *in, size_t len, int fin,
                      wire__wsbuf_t *out)
{
  int err = 0;
  if (len > 0)
    err = inflate_some(z, in, len, out);
  if (err == 0 && fin) {
    static const char tail[4] = {0x00, 0x00, (char)0xff, (char)0xff};
    err = inflate_some(z, tail, sizeof(tail), out);
  }
  if (fin || err < 0) {
    if (z->in_reset || err < 0)
      inflateReset(&z->in);
  }
  return err;
}

int wire__pmd_deflate(wire__pmd_t *z, const char *in, size_t len, int fin,
                      wire__wsbuf_t *out)
{
  z->out.next_in = (Bytef *)(uintptr_t)in;
  z->out.avail_in = (uInt)len;
  for (;;) {
    size_t step = len / 2 + 64;
    if (step > 64 * 1024)
      step = 64 * 1024;
    int err = wire__wsbuf_reserve(out, step);
    if (err < 0)
      return err;
    z->out.next_out = (Bytef *)(out->p + out->len);
    z->out.avail_out = (uInt)step;
    int rc = deflate(&z->out, Z_SYNC_FLUSH);
    out->len += step - z->out.avail_out;
    if (rc != Z_OK && rc != Z_BUF_ERROR)
      return WIRE_ENOMEM;
    /* Done when all input is taken and deflate left room to spare. */
    if (z->out.avail_in == 0 && z->out.avail_out != 0)
      break;
  }
  if (fin) {
    /* RFC 7692 7.2.1: drop the 00 00 ff ff that the sync flush ended
     * with; the receiver adds it back. */
    if (out->len >= 4 && memcmp(out->p + out->len - 4, "\x00\x00\xff\xff", 4) == 0)
      out->len -= 4;
    if (z->out_reset)
      deflateReset(&z->out);
  }
  return 0;
}
