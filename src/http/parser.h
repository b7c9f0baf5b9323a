/* The HTTP/1.1 message parser: one incremental, strict parser for requests
 * (the server) and responses (the client). Internal to the library.
 *
 * Pure: it includes only libc (and wire/errno.h, which is libc only), never
 * allocates and never does I/O. The caller feeds bytes with
 * wire_http_parser_execute() in pieces of any size; the parser keeps its
 * whole state in wire_http_parser_t, so it can stop at any byte and go on
 * with the next call. It reports what it finds through callbacks that get
 * views into the caller's buffer: a view is valid only during the callback,
 * so a caller that must keep one copies it.
 *
 * Pieces. Method, request target, reason phrase, field names and values,
 * chunk extensions and trailer fields are delivered through "piece"
 * callbacks with a `last` flag: an element split across execute() calls
 * arrives as zero or more pieces with last == 0 followed by exactly one with
 * last == 1 (which may be empty). An element that is whole in one buffer
 * arrives as one piece with last == 1. Field values never include leading
 * whitespace; the final piece never ends in whitespace, but when a value is
 * split, an earlier piece may end in whitespace that turns out to be
 * trailing: a caller that concatenates pieces trims trailing SP/HTAB from
 * the concatenation (a field value never ends in whitespace, RFC 9110 5.5).
 *
 * Callback return values: 0 to go on; WIRE_HTTP_CB_PAUSE to make execute()
 * return 0 right after the byte that triggered the callback (*nread tells
 * where; the next execute() call goes on from there: feed it the rest);
 * a negative code to stop with an error (execute() returns that code and
 * the parser is dead). on_headers_complete may also return
 * WIRE_HTTP_CB_SKIP_BODY (responses only: the message has no body, e.g. the
 * response to HEAD) or WIRE_HTTP_CB_UPGRADE (stop after the header section:
 * the bytes after it belong to another protocol).
 *
 * Full rules, limits and the RFC sections: docs/http-parser.md. */
#ifndef WIRE_HTTP_PARSER_H
#define WIRE_HTTP_PARSER_H

#include <stddef.h>
#include <stdint.h>

#include "wire/errno.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  WIRE_HTTP_REQUEST = 1,
  WIRE_HTTP_RESPONSE = 2
} wire_http_parser_type_t;

/* The methods the parser knows: Node's http.METHODS. X(name, "text") */
#define WIRE_HTTP_METHOD_MAP(X)                                                \
  X(DELETE, "DELETE")                                                          \
  X(GET, "GET")                                                                \
  X(HEAD, "HEAD")                                                              \
  X(POST, "POST")                                                              \
  X(PUT, "PUT")                                                                \
  X(CONNECT, "CONNECT")                                                        \
  X(OPTIONS, "OPTIONS")                                                        \
  X(TRACE, "TRACE")                                                            \
  X(PATCH, "PATCH")                                                            \
  X(ACL, "ACL")                                                                \
  X(BIND, "BIND")                                                              \
  X(CHECKOUT, "CHECKOUT")                                                      \
  X(COPY, "COPY")                                                              \
  X(LINK, "LINK")                                                              \
  X(LOCK, "LOCK")                                                              \
  X(MERGE, "MERGE")                                                            \
  X(MKACTIVITY, "MKACTIVITY")                                                  \
  X(MKCALENDAR, "MKCALENDAR")                                                  \
  X(MKCOL, "MKCOL")                                                            \
  X(MOVE, "MOVE")                                                              \
  X(MSEARCH, "M-SEARCH")                                                       \
  X(NOTIFY, "NOTIFY")                                                          \
  X(PROPFIND, "PROPFIND")                                                      \
  X(PROPPATCH, "PROPPATCH")                                                    \
  X(PURGE, "PURGE")                                                            \
  X(QUERY, "QUERY")                                                            \
  X(REBIND, "REBIND")                                                          \
  X(REPORT, "REPORT")                                                          \
  X(SEARCH, "SEARCH")                                                          \
  X(SOURCE, "SOURCE")                                                          \
  X(SUBSCRIBE, "SUBSCRIBE")                                                    \
  X(UNBIND, "UNBIND")                                                          \
  X(UNLINK, "UNLINK")                                                          \
  X(UNLOCK, "UNLOCK")                                                          \
  X(UNSUBSCRIBE, "UNSUBSCRIBE")

typedef enum {
  /* A token that is not in the list (only with WIRE_HTTP_OPT_ANY_METHOD;
   * the text came through on_method). Also the value before the method is
   * known, and for responses. */
  WIRE_HTTP_METHOD_OTHER = 0,
#define WIRE_HTTP_METHOD_ENUM_(name, text) WIRE_HTTP_##name,
  WIRE_HTTP_METHOD_MAP(WIRE_HTTP_METHOD_ENUM_)
#undef WIRE_HTTP_METHOD_ENUM_
      WIRE_HTTP_METHOD_COUNT_
} wire_http_method_t;

/* Why the parser failed. X(name, wire code execute() returns, HTTP status a
 * server answers with (0: not a request error), message). The status is a
 * suggestion for the server's automatic answer (400, 413, 414, 431, 501,
 * 505); the client maps every error to a failed request. */
#define WIRE_HTTP_ERROR_MAP(X)                                                 \
  X(OK, 0, 0, "no error")                                                      \
  X(INVALID_METHOD, WIRE_EHTTPPARSE, 400, "invalid method")                    \
  X(UNKNOWN_METHOD, WIRE_EHTTPPARSE, 501, "method not implemented")            \
  X(INVALID_URL, WIRE_EHTTPPARSE, 400, "invalid request target")               \
  X(URI_TOO_LONG, WIRE_ETOOBIG, 414, "request target too long")                \
  X(INVALID_VERSION, WIRE_EHTTPPARSE, 400, "invalid HTTP version")             \
  X(VERSION_NOT_SUPPORTED, WIRE_EHTTPPARSE, 505, "HTTP version not supported") \
  X(INVALID_STATUS, WIRE_EHTTPPARSE, 0, "invalid status line")                 \
  X(CR_EXPECTED, WIRE_EHTTPPARSE, 400, "bare LF: lines must end in CRLF")      \
  X(LF_EXPECTED, WIRE_EHTTPPARSE, 400, "CR not followed by LF")                \
  X(INVALID_HEADER_TOKEN, WIRE_EHTTPPARSE, 400,                                \
    "invalid character in a field name")                                       \
  X(SPACE_BEFORE_COLON, WIRE_EHTTPPARSE, 400,                                  \
    "whitespace between a field name and the colon")                           \
  X(INVALID_HEADER_VALUE, WIRE_EHTTPPARSE, 400,                                \
    "invalid character in a field value")                                      \
  X(OBS_FOLD, WIRE_EHTTPPARSE, 400, "obsolete line folding")                   \
  X(HEADER_OVERFLOW, WIRE_ETOOBIG, 431, "header section too large")            \
  X(TOO_MANY_HEADERS, WIRE_ETOOBIG, 431, "too many header fields")             \
  X(MISSING_HOST, WIRE_EHTTPPARSE, 400, "HTTP/1.1 request without Host")       \
  X(DUPLICATE_HOST, WIRE_EHTTPPARSE, 400, "more than one Host field")          \
  X(INVALID_HOST, WIRE_EHTTPPARSE, 400, "invalid Host value")                  \
  X(INVALID_CONTENT_LENGTH, WIRE_EHTTPPARSE, 400,                              \
    "invalid Content-Length value")                                            \
  X(DUPLICATE_CONTENT_LENGTH, WIRE_EHTTPPARSE, 400,                            \
    "more than one Content-Length field")                                      \
  X(INVALID_TRANSFER_ENCODING, WIRE_EHTTPPARSE, 400,                           \
    "invalid Transfer-Encoding")                                               \
  X(UNSUPPORTED_TRANSFER_ENCODING, WIRE_EHTTPPARSE, 501,                       \
    "transfer coding not implemented")                                         \
  X(TE_AND_CONTENT_LENGTH, WIRE_EHTTPPARSE, 400,                               \
    "both Transfer-Encoding and Content-Length")                               \
  X(INVALID_CHUNK_SIZE, WIRE_EHTTPPARSE, 400, "invalid chunk size")            \
  X(CHUNK_SIZE_OVERFLOW, WIRE_EHTTPPARSE, 400,                                 \
    "chunk size longer than 16 hex digits")                                    \
  X(INVALID_CHUNK_EXTENSION, WIRE_EHTTPPARSE, 400, "invalid chunk extension")  \
  X(CHUNK_EXTENSION_OVERFLOW, WIRE_ETOOBIG, 413, "chunk extensions too large") \
  X(INVALID_CHUNK, WIRE_EHTTPPARSE, 400, "chunk data not followed by CRLF")    \
  X(CLOSED_CONNECTION, WIRE_EHTTPPARSE, 400,                                   \
    "data after the last message of the connection")                           \
  X(INVALID_EOF, WIRE_EHTTPPARSE, 400, "end of input inside a message")        \
  X(STOPPED, WIRE_EHTTPPARSE, 0, "parser stopped at an upgrade")               \
  X(CALLBACK, WIRE_EHTTPPARSE, 0, "a callback returned an error")

typedef enum {
#define WIRE_HTTP_ERROR_ENUM_(name, code, status, msg) WIRE_HTTP_E_##name,
  WIRE_HTTP_ERROR_MAP(WIRE_HTTP_ERROR_ENUM_)
#undef WIRE_HTTP_ERROR_ENUM_
      WIRE_HTTP_E_COUNT_
} wire_http_error_t;

/* Message flags (wire_http_parser_t.flags), complete from
 * on_headers_complete on. */
enum {
  WIRE_HTTP_F_KEEP_ALIVE = 1u << 0,       /* the connection may carry another
                                             message after this one */
  WIRE_HTTP_F_CHUNKED = 1u << 1,          /* chunked body */
  WIRE_HTTP_F_CONTENT_LENGTH = 1u << 2,   /* content_length is set */
  WIRE_HTTP_F_UPGRADE = 1u << 3,          /* CONNECT, or Upgrade + Connection:
                                             upgrade (request); 101 (response) */
  WIRE_HTTP_F_EXPECT_CONTINUE = 1u << 4,  /* Expect: 100-continue */
  WIRE_HTTP_F_EXPECT_OTHER = 1u << 5,     /* another expectation (417) */
  WIRE_HTTP_F_CONNECTION_CLOSE = 1u << 6, /* Connection: close */
  WIRE_HTTP_F_CONNECTION_KEEP_ALIVE = 1u << 7, /* Connection: keep-alive */
  WIRE_HTTP_F_CONNECTION_UPGRADE = 1u << 8,    /* Connection: upgrade */
  WIRE_HTTP_F_UPGRADE_HEADER = 1u << 9,        /* an Upgrade field is present */
  WIRE_HTTP_F_TRANSFER_ENCODING = 1u << 10,    /* a Transfer-Encoding field */
  WIRE_HTTP_F_TE_OTHER = 1u << 11,  /* a coding other than chunked (only
                                       responses get this far with it) */
  WIRE_HTTP_F_HOST = 1u << 12,      /* a Host field */
  WIRE_HTTP_F_EOF_BODY = 1u << 13,  /* response body ends at end of input:
                                       call wire_http_parser_finish() */
  WIRE_HTTP_F_SKIP_BODY = 1u << 14, /* no body (HEAD, 1xx, 204, 304, or
                                       on_headers_complete said so) */
  WIRE_HTTP_F_TRAILERS = 1u << 15   /* in the trailer section */
};

/* Values a callback returns besides 0 and a negative code. */
enum {
  WIRE_HTTP_CB_PAUSE = 1,     /* stop execute() after this byte */
  WIRE_HTTP_CB_SKIP_BODY = 2, /* on_headers_complete, responses: no body */
  WIRE_HTTP_CB_UPGRADE = 3,   /* on_headers_complete: stop after the headers */
  /* on_head with WIRE_HTTP_OPT_HEAD_COMPLETES, for a request without a
   * body (wire_http_request_has_body() false) that is not CONNECT: the
   * caller completed the message itself, so on_message_complete is not
   * called for it. Anywhere else it is an error (WIRE_EINVAL). */
  WIRE_HTTP_CB_DONE = 4
};

/* Options (settings.options). */
enum {
  /* Accept any token as a method (RFC 9110 9.1), not only the known list;
   * the method is then WIRE_HTTP_METHOD_OTHER and its text came through
   * on_method. Without it, an unknown method is WIRE_HTTP_E_UNKNOWN_METHOD. */
  WIRE_HTTP_OPT_ANY_METHOD = 1u << 0,
  /* on_head stands for on_headers_complete too: called where that would
   * be (after the head's checks, its results set), it returns what
   * on_headers_complete would (0, a pause, CB_SKIP_BODY, CB_UPGRADE or a
   * negative code). A head that comes piece by piece still ends with
   * on_headers_complete. */
  WIRE_HTTP_OPT_HEAD_COMPLETES = 1u << 1
};

/* Defaults for the limits (a 0 in the settings means the default). */
#define WIRE_HTTP_DEFAULT_MAX_HEADER_SIZE 16384 /* Node's maxHeaderSize */
#define WIRE_HTTP_DEFAULT_MAX_HEADERS 2000      /* Node's maxHeadersCount */
#define WIRE_HTTP_DEFAULT_MAX_URL 8192
#define WIRE_HTTP_DEFAULT_MAX_CHUNK_EXT 16384

typedef struct wire_http_parser_s wire_http_parser_t;

/* A notification: message begin/end, headers complete, chunk boundaries. */
typedef int (*wire_http_cb)(wire_http_parser_t *p);
/* A piece of an element (see "Pieces" above); `at` points into the buffer
 * given to execute(), valid during the call only. */
typedef int (*wire_http_piece_cb)(wire_http_parser_t *p, const char *at,
                                  size_t len, int last);
/* Body bytes (decoded: without chunk framing). len > 0. */
typedef int (*wire_http_data_cb)(wire_http_parser_t *p, const char *at,
                                 size_t len);

/* A request head whole in one execute() input, handed over at once
 * (settings.on_head). Offsets are from base, the method's first byte, in
 * that input. Each element is followed there by at least one byte of its
 * delimiter (the SP after method and target, the colon after a name, the
 * CR or whitespace after a value), and values come without their OWS. */
#define WIRE_HTTP_HEAD_FIELDS 32

typedef struct {
  uint32_t name, name_len;
  uint32_t value, value_len;
} wire_http_field_t;

typedef struct {
  const char *base;
  uint32_t method_len; /* the method is at offset 0 */
  uint32_t url, url_len;
  uint32_t nfields;
  wire_http_field_t fields[WIRE_HTTP_HEAD_FIELDS];
} wire_http_head_t;

/* Returns 0, or a negative code to stop with an error (no pause). */
typedef int (*wire_http_head_cb)(wire_http_parser_t *p,
                                 const wire_http_head_t *head);

/* Callbacks and limits, shared by any number of parsers; it must outlive
 * them. Any callback may be NULL. Zero-initialise, then set what you need. */
typedef struct {
  wire_http_cb on_message_begin;      /* first byte of the start line */
  wire_http_piece_cb on_method;       /* requests */
  wire_http_piece_cb on_url;          /* requests: the request-target */
  wire_http_piece_cb on_status;       /* responses: the reason phrase */
  wire_http_piece_cb on_header_field; /* a field name, as received */
  wire_http_piece_cb on_header_value; /* its value, without OWS */
  wire_http_cb on_headers_complete;   /* may return CB_SKIP_BODY/CB_UPGRADE */
  wire_http_data_cb on_body;
  wire_http_cb on_chunk_header;          /* p->remaining = chunk size (0 for
                                            the last chunk) */
  wire_http_piece_cb on_chunk_extension; /* raw text after the size, from
                                            the first BWS or ';' */
  wire_http_cb on_chunk_complete;        /* after a chunk's data and CRLF */
  wire_http_piece_cb on_trailer_field;
  wire_http_piece_cb on_trailer_value;
  wire_http_cb on_message_complete;
  /* Requests, optional. When set, a head whose method, target and field
   * lines (at most WIRE_HTTP_HEAD_FIELDS) are all whole in one execute()
   * input comes through on_head, right before on_headers_complete,
   * instead of on_message_begin, on_method, on_url, on_header_field and
   * on_header_value. Any other head comes piece by piece: on_message_begin
   * and the elements found whole before the parser knew are delivered
   * first, as whole pieces, within the same execute() call (so
   * on_message_begin and those piece callbacks must not pause; an error
   * they return is reported at the input position where the parser was
   * then, not where the element ended). */
  wire_http_head_cb on_head;
  size_t max_header_size; /* bytes from the start line (and any empty lines
                             before it) to the empty line; trailers counted
                             alike, on their own. 0: 16 KiB */
  size_t max_headers;     /* field lines in the header (or trailer) section;
                             0: 2000 */
  size_t max_url;         /* request-target bytes; 0: 8 KiB */
  size_t max_chunk_ext;   /* chunk extension bytes per message; 0: 16 KiB */
  unsigned options;       /* WIRE_HTTP_OPT_* */
} wire_http_parser_settings_t;

/* The parser. Public fields are read-only results; the rest is private.
 * About 100 bytes; no pointers into input are kept between calls. */
struct wire_http_parser_s {
  void *data; /* the caller's; never touched */
  const wire_http_parser_settings_t *settings;
  uint64_t content_length; /* with WIRE_HTTP_F_CONTENT_LENGTH */
  uint64_t remaining;      /* body bytes still to come (identity body or
                              current chunk) */
  uint64_t offset;         /* bytes consumed since init */
  uint64_t error_offset;   /* stream offset of the offending byte */
  int error_code;          /* what execute() returned on error */
  uint32_t flags;          /* WIRE_HTTP_F_* */
  uint16_t status;         /* responses: 100..599 */
  uint8_t type;            /* wire_http_parser_type_t */
  uint8_t method;          /* wire_http_method_t (requests) */
  uint8_t http_major, http_minor;
  uint8_t error;    /* wire_http_error_t */
  uint8_t upgraded; /* stopped after an upgrade's headers */
  /* Private. */
  uint8_t state, idx, hid, hmask, hidx, vstate, vmask, vidx, te;
  uint32_t head_bytes, nheaders, url_bytes, ext_bytes;
};

/* Prepares p for a new connection. settings may be NULL (no callbacks,
 * default limits); it is not copied. p->data is set to NULL. */
void wire_http_parser_init(wire_http_parser_t *p, wire_http_parser_type_t type,
                           const wire_http_parser_settings_t *settings);

/* Parses up to len bytes of data. Returns 0 when it consumed all of them,
 * or when a callback paused it or an upgrade stopped it (then *nread < len
 * may hold: the rest is for the next call, or, after an upgrade
 * (p->upgraded), for the other protocol). A pause is for this call only:
 * the next call goes on. After a pause, call again even when no bytes are
 * left (len 0, data may be NULL): a message without a body paused in
 * on_headers_complete completes then. Returns a negative code on error:
 * WIRE_EHTTPPARSE (syntax), WIRE_ETOOBIG (a limit), or the code a callback
 * returned; then p->error is the reason, p->error_offset the stream offset
 * of the offending byte, *nread its index in data, and every later call
 * returns the same code. */
int wire_http_parser_execute(wire_http_parser_t *p, const char *data,
                             size_t len, size_t *nread);

/* Tells the parser that the input ended (the peer's FIN). Completes a
 * close-delimited response body (on_message_complete); returns 0 if the
 * input ended between messages, WIRE_EHTTPPARSE with
 * WIRE_HTTP_E_INVALID_EOF inside one. The parser accepts no more input. */
int wire_http_parser_finish(wire_http_parser_t *p);

/* Whether the connection may carry another message after this one. */
static inline int wire_http_should_keep_alive(const wire_http_parser_t *p)
{
  return (p->flags & WIRE_HTTP_F_KEEP_ALIVE) != 0;
}

/* From on_headers_complete (or on_head) on, for a request: whether a body
 * follows the head (chunked, or a Content-Length above 0). */
static inline int wire_http_request_has_body(const wire_http_parser_t *p)
{
  return (p->flags & WIRE_HTTP_F_CHUNKED) || p->content_length > 0;
}

/* 1 for the bytes RFC 9110 5.6.2 allows in a token (tchar), else 0. */
extern const uint8_t wire_http_tchar[256];

/* "GET", ... ; "" for WIRE_HTTP_METHOD_OTHER. Static strings. */
const char *wire_http_method_str(unsigned method);
/* "INVALID_HEADER_TOKEN", ... ; its message; its WIRE_E* code; the HTTP
 * status a server answers with (0 if none fits). */
const char *wire_http_error_name(unsigned err);
const char *wire_http_error_str(unsigned err);
int wire_http_error_code(unsigned err);
int wire_http_error_status(unsigned err);

#ifdef __cplusplus
}
#endif
#endif
