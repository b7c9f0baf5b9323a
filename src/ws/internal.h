/* Shared internals of the ws layer: the handshake helpers (handshake.c)
 * and permessage-deflate (deflate.c, the only zlib user), used by ws.c. */
#ifndef WIRE_WS_INTERNAL_H
#define WIRE_WS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "../core/internal.h"

/* ---- handshake (RFC 6455 4) -------------------------------------------- */

/* Sec-WebSocket-Accept for a key: base64(SHA-1(key + GUID)), 28 chars and
 * a NUL into out. Returns 0 or WIRE_ENOMEM. */
#define WIRE__WS_ACCEPT_LEN 28
int wire__ws_accept(const char *key, char out[WIRE__WS_ACCEPT_LEN + 1]);

/* A fresh Sec-WebSocket-Key: 16 random bytes in base64 (24 chars + NUL). */
#define WIRE__WS_KEY_LEN 24
int wire__ws_key(char out[WIRE__WS_KEY_LEN + 1]);

/* Whether key is the base64 of exactly 16 bytes (RFC 6455 4.2.1 item 5). */
int wire__ws_key_valid(const char *key);

/* Whether the comma-separated list v holds token (case-insensitive). */
int wire__ws_has_token(const char *v, const char *token);

/* Splits a Sec-WebSocket-Protocol value into its tokens: copies v into buf
 * (cap bytes), NUL-terminates each token there and points list[0..] at
 * them. Returns the count, or -1 if the value is malformed (an empty
 * element, a byte that is not a token's, a duplicate) or does not fit. */
int wire__ws_split_protocols(const char *v, char *buf, size_t cap,
                             const char **list, size_t max);

/* ---- permessage-deflate (RFC 7692) -------------------------------------- */

/* What was agreed: each side's window and context takeover. */
typedef struct {
  int server_no_context_takeover;
  int client_no_context_takeover;
  int server_max_window_bits; /* 8..15; 15 when not limited */
  int client_max_window_bits;
} wire__pmd_params_t;

/* Server: looks through a Sec-WebSocket-Extensions value for the first
 * permessage-deflate offer it can take with o. Returns 1 and fills out and
 * resp (the response's value, NUL-terminated, cap bytes) when one is
 * accepted, 0 when none is, -1 when the header is malformed (answer 400). */
int wire__pmd_accept(const wire_ws_deflate_opts_t *o, const char *header,
                     wire__pmd_params_t *out, char *resp, size_t cap);
/* Client: the offer's value for o into out (cap bytes). */
void wire__pmd_offer(const wire_ws_deflate_opts_t *o, char *out, size_t cap);
/* Client: checks the server's Sec-WebSocket-Extensions against the offer
 * made with o. Returns 1 and fills out when permessage-deflate was agreed,
 * 0 for an empty header, -1 when the answer is not acceptable (reason in
 * *why). */
int wire__pmd_response(const wire_ws_deflate_opts_t *o, const char *header,
                       wire__pmd_params_t *out, const char **why);

/* The compression state of one connection. */
typedef struct wire__pmd_s wire__pmd_t;

/* A growable output buffer with a hard limit. */
typedef struct {
  char *p;
  size_t len;
  size_t cap;
  size_t limit;
} wire__wsbuf_t;

/* Appends n bytes; WIRE_ETOOBIG past the limit, WIRE_ENOMEM. */
int wire__wsbuf_add(wire__wsbuf_t *b, const char *p, size_t n);
/* Makes room for n more bytes (not past the limit). */
int wire__wsbuf_reserve(wire__wsbuf_t *b, size_t n);
void wire__wsbuf_free(wire__wsbuf_t *b);

int wire__pmd_new(const wire__pmd_params_t *p, int is_server, int level,
                  wire__pmd_t **out);
void wire__pmd_free(wire__pmd_t *z);
/* Inflates len bytes of a compressed message into out (bounded by its
 * limit: WIRE_ETOOBIG). fin: the message ends here (the 00 00 ff ff tail
 * is added, RFC 7692 7.2.2). WIRE_EWSPROTO for bad deflate data. */
int wire__pmd_inflate(wire__pmd_t *z, const char *in, size_t len, int fin,
                      wire__wsbuf_t *out);
/* Deflates len bytes of a message (or a fragment: fin 0) into out; for
 * the last one the 00 00 ff ff tail is removed (RFC 7692 7.2.1). */
int wire__pmd_deflate(wire__pmd_t *z, const char *in, size_t len, int fin,
                      wire__wsbuf_t *out);

#endif
