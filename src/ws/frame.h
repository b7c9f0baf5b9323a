/* The WebSocket frame codec (RFC 6455 section 5): an incremental, strict
 * frame decoder, the frame header encoder, masking, and close payloads.
 * Internal to the library: the ws layer (handshake, wire_ws_t, deflate)
 * is built on it.
 *
 * Pure: it includes only libc (and wire/errno.h, which is libc only), never
 * allocates and never does I/O.
 *
 * Decoder. The caller feeds bytes with wire_ws_decoder_execute() in pieces
 * of any size; the decoder keeps its whole state in wire_ws_decoder_t, so
 * it can stop at any byte and go on with the next call. For each frame it
 * calls on_frame_header (the header's fields are in the decoder), then
 * on_payload zero or more times with views of the payload (never empty),
 * then on_frame_end. A view is valid during the callback only. It enforces
 * every rule of RFC 6455 that can be checked on frames alone, including
 * the fragmentation rules (it tracks the open message), the close payload
 * (code and UTF-8 reason) and, unless told not to, the UTF-8 of text
 * messages that are not compressed. It fails fast: the error is reported at
 * the first byte that breaks a rule (a reserved opcode at the first header
 * byte, a bad UTF-8 sequence at the byte that cannot continue it).
 *
 * Masked payloads. wire_ws_decoder_execute() takes a writable buffer and
 * unmasks the payload in place, so views are plain bytes. When the input
 * must stay untouched, wire_ws_decoder_execute_raw() hands out the payload
 * as received: for a masked frame the caller unmasks, usually while copying
 * into its message buffer, with wire_ws_mask_copy(dst, at, len,
 * d->mask_key, d->payload_off). Both check the same rules.
 *
 * Callback return values: 0 to go on; WIRE_WS_CB_PAUSE to make execute()
 * return 0 right after the byte that triggered the callback (*nread tells
 * where; call again with the rest, even with no bytes left: a frame without
 * payload paused in on_frame_header ends then); a negative code to stop
 * with an error (execute() returns that code and the decoder is dead).
 *
 * Full rules, limits and the RFC sections: docs/ws-frame.md. */
#ifndef WIRE_WS_FRAME_H
#define WIRE_WS_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "wire/errno.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Opcodes (RFC 6455 5.2, 11.8). 3-7 and 11-15 are reserved. */
enum {
  WIRE_WS_OP_CONTINUATION = 0x0,
  WIRE_WS_OP_TEXT = 0x1,
  WIRE_WS_OP_BINARY = 0x2,
  WIRE_WS_OP_CLOSE = 0x8,
  WIRE_WS_OP_PING = 0x9,
  WIRE_WS_OP_PONG = 0xa
};

/* The flag bits of a frame's first byte (d->flags, and the encoder's
 * flags). RSV1 is permessage-deflate's "Per-Message Compressed" bit (RFC
 * 7692 6). */
enum {
  WIRE_WS_FIN = 0x80,
  WIRE_WS_RSV1 = 0x40,
  WIRE_WS_RSV2 = 0x20,
  WIRE_WS_RSV3 = 0x10
};

/* Close codes (RFC 6455 7.4.1 and the IANA "WebSocket Close Code Number"
 * registry). 1005, 1006 and 1015 never appear on the wire. */
enum {
  WIRE_WS_CLOSE_NORMAL = 1000,
  WIRE_WS_CLOSE_GOING_AWAY = 1001,
  WIRE_WS_CLOSE_PROTOCOL_ERROR = 1002,
  WIRE_WS_CLOSE_UNSUPPORTED_DATA = 1003,
  WIRE_WS_CLOSE_NO_STATUS = 1005, /* a close frame without a code */
  WIRE_WS_CLOSE_ABNORMAL = 1006,  /* no close frame at all */
  WIRE_WS_CLOSE_INVALID_DATA = 1007,
  WIRE_WS_CLOSE_POLICY_VIOLATION = 1008,
  WIRE_WS_CLOSE_TOO_BIG = 1009,
  WIRE_WS_CLOSE_MANDATORY_EXTENSION = 1010,
  WIRE_WS_CLOSE_INTERNAL_ERROR = 1011,
  WIRE_WS_CLOSE_SERVICE_RESTART = 1012,
  WIRE_WS_CLOSE_TRY_AGAIN_LATER = 1013,
  WIRE_WS_CLOSE_BAD_GATEWAY = 1014,
  WIRE_WS_CLOSE_TLS_HANDSHAKE = 1015
};

/* Sizes. */
#define WIRE_WS_MAX_HEADER 14   /* 2 + 8 (length) + 4 (mask key) */
#define WIRE_WS_MAX_CONTROL 125 /* payload of a control frame (5.5) */
#define WIRE_WS_MAX_REASON 123  /* close reason: 125 minus the code */
/* The default message cap: the ws package's maxPayload (100 MiB). */
#define WIRE_WS_DEFAULT_MAX_MESSAGE (UINT64_C(100) * 1024 * 1024)

/* Which end of the connection the decoder reads for: a server reads the
 * client's frames (they must be masked), a client the server's (they must
 * not be). RFC 6455 5.1. */
typedef enum { WIRE_WS_SERVER = 1, WIRE_WS_CLIENT = 2 } wire_ws_role_t;

/* Why the decoder failed. X(name, wire code execute() returns, close code
 * to send to the peer (0: none), message). */
#define WIRE_WS_ERROR_MAP(X)                                                   \
  X(OK, 0, 0, "no error")                                                      \
  X(RESERVED_BITS, WIRE_EWSPROTO, 1002,                                        \
    "reserved bit set without an extension that defines it")                   \
  X(COMPRESSED_BIT, WIRE_EWSPROTO, 1002,                                       \
    "RSV1 set on a control frame or a continuation frame")                     \
  X(RESERVED_OPCODE, WIRE_EWSPROTO, 1002, "reserved opcode")                   \
  X(FRAGMENTED_CONTROL, WIRE_EWSPROTO, 1002, "control frame without FIN")      \
  X(UNEXPECTED_CONTINUATION, WIRE_EWSPROTO, 1002,                              \
    "continuation frame outside a fragmented message")                         \
  X(EXPECTED_CONTINUATION, WIRE_EWSPROTO, 1002,                                \
    "new data frame inside a fragmented message")                              \
  X(MASK_REQUIRED, WIRE_EWSPROTO, 1002, "unmasked frame from a client")        \
  X(MASK_FORBIDDEN, WIRE_EWSPROTO, 1002, "masked frame from a server")         \
  X(CONTROL_TOO_BIG, WIRE_EWSPROTO, 1002,                                      \
    "control frame payload over 125 bytes")                                    \
  X(NONMINIMAL_LENGTH, WIRE_EWSPROTO, 1002,                                    \
    "payload length not in its shortest form")                                 \
  X(LENGTH_OVERFLOW, WIRE_EWSPROTO, 1002,                                      \
    "64-bit payload length with the most significant bit set")                 \
  X(FRAME_TOO_BIG, WIRE_ETOOBIG, 1009, "frame payload over the limit")         \
  X(MESSAGE_TOO_BIG, WIRE_ETOOBIG, 1009, "message payload over the limit")     \
  X(CLOSE_ONE_BYTE, WIRE_EWSPROTO, 1002, "close frame payload of one byte")    \
  X(INVALID_CLOSE_CODE, WIRE_EWSPROTO, 1002, "invalid close code")             \
  X(INVALID_UTF8, WIRE_EWSPROTO, 1007, "invalid UTF-8 in a text message")      \
  X(INVALID_CLOSE_REASON, WIRE_EWSPROTO, 1007,                                 \
    "invalid UTF-8 in a close reason")                                         \
  X(AFTER_CLOSE, WIRE_EWSPROTO, 0, "data after a close frame")                 \
  X(CALLBACK, WIRE_EWSPROTO, 0, "a callback returned an error")

typedef enum {
#define WIRE_WS_ERROR_ENUM_(name, code, close, msg) WIRE_WS_E_##name,
  WIRE_WS_ERROR_MAP(WIRE_WS_ERROR_ENUM_)
#undef WIRE_WS_ERROR_ENUM_
      WIRE_WS_E_COUNT_
} wire_ws_error_t;

/* Decoder options (settings.options). */
enum {
  /* Do not check the UTF-8 of text messages (the caller does, e.g. after
   * inflating). Close reasons are always checked. */
  WIRE_WS_OPT_NO_UTF8 = 1u << 0,
  /* Accept a payload length in a longer form than needed (126 with a
   * value under 126, 127 with a value under 65536). RFC 6455 5.2 says the
   * minimal form MUST be used; the decoder rejects others by default. */
  WIRE_WS_OPT_LAX_LENGTH = 1u << 1
};

/* Values a callback returns besides 0 and a negative code. */
enum { WIRE_WS_CB_PAUSE = 1 };

typedef struct wire_ws_decoder_s wire_ws_decoder_t;

/* A notification: frame header complete, frame end. */
typedef int (*wire_ws_cb)(wire_ws_decoder_t *d);
/* Payload bytes (len > 0): unmasked with execute(), as received with
 * execute_raw(). at points into the buffer given to execute(), valid
 * during the call only. d->payload_off is the offset of at[0] in the
 * frame's payload; d->remaining counts the bytes after this view. */
typedef int (*wire_ws_data_cb)(wire_ws_decoder_t *d, const char *at,
                               size_t len);

/* Callbacks and limits, shared by any number of decoders; it must outlive
 * them. Any callback may be NULL. Zero-initialise, then set what you need. */
typedef struct {
  wire_ws_cb on_frame_header;
  wire_ws_data_cb on_payload;
  wire_ws_cb on_frame_end;
  uint64_t max_frame;   /* payload bytes of one data frame; 0: max_message */
  uint64_t max_message; /* payload bytes of one data message, its frames
                           together; 0: WIRE_WS_DEFAULT_MAX_MESSAGE;
                           UINT64_MAX: no limit */
  unsigned options;     /* WIRE_WS_OPT_* */
} wire_ws_decoder_settings_t;

/* The decoder. Public fields are read-only results; the rest is private.
 * 96 bytes on 64-bit; no pointers into input are kept between calls. */
struct wire_ws_decoder_s {
  void *data; /* the caller's; never touched */
  const wire_ws_decoder_settings_t *settings;
  /* The current frame, from on_frame_header to on_frame_end. */
  uint64_t length;      /* payload length */
  uint64_t remaining;   /* payload bytes still to come */
  uint64_t payload_off; /* in on_payload: the view's offset in the payload */
  /* The current data message: from on_frame_header of its first frame to
   * on_frame_end of its last; control frames in between leave them be. */
  uint64_t message_length; /* payload bytes of its frames so far, the
                              current frame's whole length included */
  uint64_t offset;         /* stream bytes consumed since init; in a
                              callback, up to the byte that triggered it */
  uint64_t error_offset;   /* stream offset of the offending byte */
  int error_code;          /* what execute() returned on error */
  uint8_t mask_key[4];     /* with masked */
  uint8_t flags;           /* WIRE_WS_FIN | WIRE_WS_RSV1..3 of this frame */
  uint8_t opcode;          /* WIRE_WS_OP_* of this frame */
  uint8_t masked;          /* 1 if this frame is masked */
  uint8_t message_opcode;  /* TEXT or BINARY: the data message's type */
  uint8_t compressed;      /* RSV1 was set on the message's first frame */
  uint8_t closed;          /* a close frame ended: no more input is taken */
  uint16_t close_code;     /* from on_frame_end of a close frame: the code
                              it carried, 1005 (NO_STATUS) if none */
  uint8_t error;           /* wire_ws_error_t */
  /* Private. */
  uint8_t role, rsv, state, idx, nlen, in_message;
  uint8_t utf8, reason_utf8; /* wire_utf8_t states */
};

/* Prepares d for a new connection. role says whose frames it reads. rsv is
 * the set of RSV bits the negotiated extensions define: WIRE_WS_RSV1 after
 * permessage-deflate was agreed (then RSV1 marks a compressed message and
 * is only allowed on a message's first frame, RFC 7692 6), 0 without
 * extensions. settings may be NULL (no callbacks, default limits); it is
 * not copied. d->data is set to NULL. */
void wire_ws_decoder_init(wire_ws_decoder_t *d, wire_ws_role_t role,
                          unsigned rsv,
                          const wire_ws_decoder_settings_t *settings);

/* Decodes up to len bytes of data, unmasking payload bytes in place (the
 * header bytes are left alone). Returns 0 when it consumed all of them or
 * when a callback paused it (then *nread < len may hold: the rest is for
 * the next call). After a close frame the decoder takes no more bytes:
 * d->closed is set, and a byte after the close frame is the error
 * AFTER_CLOSE (close code 0: the caller ignores what follows a close
 * frame, it does not fail the connection over it). Returns a negative
 * code on error: WIRE_EWSPROTO (a protocol rule or bad UTF-8),
 * WIRE_ETOOBIG (a limit), or the code a callback returned; then d->error
 * is the reason, wire_ws_error_close_code(d->error) the close code to
 * send, d->error_offset the stream offset of the offending byte (of the
 * end of the frame when the text or reason ended inside a UTF-8
 * character), *nread where the decoder stopped, and every later call
 * returns the same code. data may be NULL when len is 0. */
int wire_ws_decoder_execute(wire_ws_decoder_t *d, char *data, size_t len,
                            size_t *nread);

/* The same, without writing to data: payload views of a masked frame are
 * still masked (see "Masked payloads" above). */
int wire_ws_decoder_execute_raw(wire_ws_decoder_t *d, const char *data,
                                size_t len, size_t *nread);

/* Whether the connection could end here: the decoder is between frames
 * and outside a fragmented message, or a close frame has ended. */
int wire_ws_decoder_idle(const wire_ws_decoder_t *d);

/* ---- encoding ---- */

/* The size of a frame header for a payload of len bytes: 2, 4 or 10, plus
 * 4 if masked. */
size_t wire_ws_header_size(uint64_t len, int masked);

/* Writes a frame header into out (at least WIRE_WS_MAX_HEADER bytes, or
 * wire_ws_header_size()), in the minimal length form, and returns its size.
 * flags: WIRE_WS_FIN and RSV bits; opcode: WIRE_WS_OP_*; mask_key: 4 bytes,
 * or NULL for an unmasked frame (a client masks every frame with a fresh
 * random key, a server never masks; RFC 6455 5.3). The caller keeps to RFC
 * 6455: opcode < 16, len < 2^63, control frames final and at most 125
 * bytes (asserted). */
size_t wire_ws_header_write(char *out, unsigned flags, unsigned opcode,
                            uint64_t len, const uint8_t *mask_key);

/* Writes a whole frame (header, then the payload, masked with mask_key
 * if not NULL) into out, which has room for cap bytes. Returns the frame's
 * size, or 0 if it does not fit (nothing written). payload may be NULL
 * when len is 0; it must not overlap out. */
size_t wire_ws_frame_write(char *out, size_t cap, unsigned flags,
                           unsigned opcode, const char *payload, size_t len,
                           const uint8_t *mask_key);

/* Masks (or unmasks: it is the same XOR) len bytes in place. pos is the
 * offset of buf[0] in the frame's payload, so a payload can be masked in
 * pieces; only pos % 4 matters. Eight bytes at a time (unaligned).
 * RFC 6455 5.3. */
void wire_ws_mask(char *buf, size_t len, const uint8_t key[4], uint64_t pos);

/* The same from src into dst (len bytes each). src and dst are the same
 * buffer or do not overlap. */
void wire_ws_mask_copy(char *dst, const char *src, size_t len,
                       const uint8_t key[4], uint64_t pos);

/* ---- close payloads (RFC 6455 5.5.1, 7.4) ---- */

/* Whether code may be carried by a close frame: 1000-1003, 1007-1014 (1012
 * to 1014 are IANA-registered after RFC 6455) and 3000-4999. Not 1004
 * (reserved), 1005, 1006, 1015 (never on the wire), other codes under
 * 3000 (reserved for the standard) or 5000 and above. */
int wire_ws_close_code_valid(unsigned code);

/* Writes a close payload into out (at least WIRE_WS_MAX_CONTROL bytes):
 * the code in network byte order, then the reason. code 0 makes an empty
 * payload (then reason_len must be 0). Returns the payload size, or
 * WIRE_EINVAL if the code is not valid, the reason is longer than
 * WIRE_WS_MAX_REASON bytes or is not valid UTF-8. reason may be NULL when
 * reason_len is 0. */
int wire_ws_close_payload(char *out, unsigned code, const char *reason,
                          size_t reason_len);

/* Reads a whole, unmasked close payload. On success returns
 * WIRE_WS_E_OK and sets *code (1005 for an empty payload) and the reason
 * view (into payload; empty if none). Otherwise returns the reason it is
 * invalid (CONTROL_TOO_BIG, CLOSE_ONE_BYTE, INVALID_CLOSE_CODE,
 * INVALID_CLOSE_REASON) and leaves the outputs alone. Any output pointer
 * may be NULL. */
wire_ws_error_t wire_ws_close_parse(const char *payload, size_t len,
                                    unsigned *code, const char **reason,
                                    size_t *reason_len);

/* ---- errors ---- */

/* "RESERVED_OPCODE", ... ; its message; its WIRE_E* code; the close code
 * to send (1002, 1007, 1009; 0 if none). */
const char *wire_ws_error_name(unsigned err);
const char *wire_ws_error_str(unsigned err);
int wire_ws_error_code(unsigned err);
unsigned wire_ws_error_close_code(unsigned err);

/* Whether opcode is a control frame's (close, ping, pong, or reserved
 * 11-15). */
static inline int wire_ws_is_control(unsigned opcode)
{
  return (opcode & 0x8u) != 0;
}

#ifdef __cplusplus
}
#endif
#endif
