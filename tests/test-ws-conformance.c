/* A conformance set written from RFC 6455 and RFC 7692, grouped like the
 * Autobahn testsuite's categories, run against wire's ws server with a
 * raw TCP client: it sends a handshake and crafted frames in one write,
 * reads until the server closes, and checks the frames that came back
 * (decoded with the codec in the client role) and the close code. */
#include <zlib.h>

#include "test-ws-common.h"
#include "ws/frame.h"

typedef struct {
  wire_socket_t *s;
  h_sink_t in;
  int closed;
  int connected;
} raw_t;

static void raw_data(wire_socket_t *s, const char *buf, size_t len, void *d)
{
  (void)s;
  h_sink_add(&((raw_t *)d)->in, buf, len);
}

static void raw_close(wire_socket_t *s, int had_error, void *d)
{
  (void)s, (void)had_error;
  ((raw_t *)d)->closed = 1;
}

static void raw_connected(wire_socket_t *s, int status, void *d)
{
  (void)s;
  cr_assert_eq(status, 0);
  ((raw_t *)d)->connected = 1;
}

#define KEY_HDR "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
#define UPGRADE_HDRS                                                         \
  "Host: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" KEY_HDR          \
  "Sec-WebSocket-Version: 13\r\n"
static const char std_req[] = "GET /echo HTTP/1.1\r\n" UPGRADE_HDRS "\r\n";

/* Output of a run: the response head, the frames after it. */
typedef struct {
  char head[2048];
  int status;
  int nframes;
  uint8_t op[64];
  uint8_t rsv1[64];
  h_sink_t payload[64];
  unsigned close_code; /* 0: no close frame came */
} result_t;

static result_t r;
static h_sink_t out; /* bytes to send */

static void add(const void *p, size_t n)
{
  h_sink_add(&out, p, n);
}

/* A masked frame from the client. Control frames that break the rules
 * (the codec's encoder refuses to make them) are built by hand. */
static void frame(unsigned flags, unsigned op, const char *p, size_t n)
{
  static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
  if (wire_ws_is_control(op) && (n > 125 || !(flags & WIRE_WS_FIN))) {
    char h[8];
    size_t hl = 0;
    h[hl++] = (char)(flags | op);
    if (n < 126) {
      h[hl++] = (char)(0x80 | n);
    } else {
      h[hl++] = (char)(0x80 | 126);
      h[hl++] = (char)(n >> 8);
      h[hl++] = (char)n;
    }
    memcpy(h + hl, key, 4);
    add(h, hl + 4);
    char *m = malloc(n + 1);
    wire_ws_mask_copy(m, p, n, key, 0);
    add(m, n);
    free(m);
    return;
  }
  size_t cap = n + WIRE_WS_MAX_HEADER;
  char *b = malloc(cap);
  size_t m = wire_ws_frame_write(b, cap, flags, op, p, n, key);
  cr_assert_gt(m, 0);
  add(b, m);
  free(b);
}

static void text(const char *s)
{
  frame(WIRE_WS_FIN, WIRE_WS_OP_TEXT, s, strlen(s));
}

static void close_frame(unsigned code)
{
  char p[2] = {(char)(code >> 8), (char)code};
  frame(WIRE_WS_FIN, WIRE_WS_OP_CLOSE, p, 2);
}

static int d_header(wire_ws_decoder_t *d)
{
  int i = r.nframes;
  cr_assert_lt(i, 64);
  r.op[i] = d->opcode;
  r.rsv1[i] = (d->flags & WIRE_WS_RSV1) != 0;
  return 0;
}

static int d_payload(wire_ws_decoder_t *d, const char *at, size_t len)
{
  (void)d;
  h_sink_add(&r.payload[r.nframes], at, len);
  return 0;
}

static int d_end(wire_ws_decoder_t *d)
{
  if (d->opcode == WIRE_WS_OP_CLOSE)
    r.close_code = d->close_code;
  r.nframes++;
  return 0;
}

/* Sends request + out on a fresh connection to the server and collects
 * everything until the server closes. */
static void run(const char *req)
{
  for (int i = 0; i < 64; i++)
    h_sink_free(&r.payload[i]);
  memset(&r, 0, sizeof(r));
  raw_t raw;
  memset(&raw, 0, sizeof(raw));
  wire_connect_opts_t o = WIRE_CONNECT_OPTS_INIT;
  o.host = "127.0.0.1";
  o.port = wss.port;
  cr_assert_eq(wire_socket_connect(wss.loop, &o, raw_connected, &raw, &raw.s),
               0);
  wire_socket_set_data(raw.s, &raw);
  wire_socket_on_data(raw.s, raw_data);
  wire_socket_on_close(raw.s, raw_close);
  wire_socket_write(raw.s, req, strlen(req));
  if (out.len > 0)
    wire_socket_write(raw.s, out.buf, out.len);
  H_RUN_UNTIL(wss.loop, raw.closed);
  h_sink_free(&out);
  h_sink_add(&raw.in, "", 1);
  char *end = strstr(raw.in.buf, "\r\n\r\n");
  cr_assert_not_null(end, "no response head: %s", raw.in.buf);
  size_t hl = (size_t)(end + 4 - raw.in.buf);
  cr_assert_lt(hl, sizeof(r.head));
  memcpy(r.head, raw.in.buf, hl);
  r.status = atoi(r.head + 9);
  if (r.status == 101) {
    static wire_ws_decoder_settings_t ds;
    ds.on_frame_header = d_header;
    ds.on_payload = d_payload;
    ds.on_frame_end = d_end;
    ds.max_message = UINT64_MAX;
    wire_ws_decoder_t dec;
    wire_ws_decoder_init(&dec, WIRE_WS_CLIENT, WIRE_WS_RSV1, &ds);
    size_t n = 0;
    int rc = wire_ws_decoder_execute(&dec, raw.in.buf + hl,
                                     raw.in.len - 1 - hl, &n);
    cr_assert_eq(rc, 0, "server sent bad frames: %s",
                 wire_ws_error_name(dec.error));
  }
  h_sink_free(&raw.in);
}

static int payload_is(int i, const char *s)
{
  size_t n = strlen(s);
  return r.payload[i].len == n &&
         (n == 0 || memcmp(r.payload[i].buf, s, n) == 0);
}

/* The last frame is a close with this code. */
static void expect_close(unsigned code)
{
  cr_assert_gt(r.nframes, 0, "no frame at all");
  cr_assert_eq(r.op[r.nframes - 1], WIRE_WS_OP_CLOSE);
  cr_assert_eq(r.close_code, code, "close code %u, wanted %u", r.close_code,
               code);
}

static void start(void)
{
  wss_start(NULL);
}

/* ---- 1 framing ---------------------------------------------------------- */

Test(ws_conformance, framing_lengths)
{
  start();
  size_t lens[] = {0, 125, 126, 65535, 65536, 300000};
  char *buf = malloc(300000);
  for (size_t k = 0; k < 6; k++) {
    memset(buf, 'a' + (int)k, lens[k]);
    frame(WIRE_WS_FIN, WIRE_WS_OP_BINARY, buf, lens[k]);
    close_frame(1000);
    run(std_req);
    cr_assert_eq(r.status, 101);
    cr_assert_eq(r.nframes, 2);
    cr_assert_eq(r.op[0], WIRE_WS_OP_BINARY);
    cr_assert_eq(r.payload[0].len, lens[k]);
    expect_close(1000);
  }
  free(buf);
  /* RFC 6455 5.2: the minimal length form is required. */
  const char nonmin[] = "\x81\xfe\x00\x05\x00\x00\x00\x00hello";
  add(nonmin, sizeof(nonmin) - 1);
  run(std_req);
  expect_close(1002);
  wss_done();
}

Test(ws_conformance, unmasked_client_frame_is_1002)
{
  start();
  add("\x81\x05hello", 7);
  run(std_req);
  expect_close(1002);
  cr_assert_eq(wss.errors, 1);
  wss_done();
}

/* ---- 2 ping/pong ------------------------------------------------------- */

Test(ws_conformance, ping_pong)
{
  start();
  frame(WIRE_WS_FIN, WIRE_WS_OP_PING, "payload!", 8);
  frame(WIRE_WS_FIN, WIRE_WS_OP_PONG, "unsolicited", 11);
  char p125[125];
  memset(p125, 'p', sizeof(p125));
  frame(WIRE_WS_FIN, WIRE_WS_OP_PING, p125, sizeof(p125));
  text("after");
  close_frame(1000);
  run(std_req);
  cr_assert_eq(r.nframes, 4);
  cr_assert_eq(r.op[0], WIRE_WS_OP_PONG);
  cr_assert(payload_is(0, "payload!"));
  cr_assert_eq(r.op[1], WIRE_WS_OP_PONG);
  cr_assert_eq(r.payload[1].len, 125);
  cr_assert(payload_is(2, "after"));
  expect_close(1000);
  /* 126 bytes of ping: too big for a control frame. */
  char p126[126] = {0};
  frame(WIRE_WS_FIN, WIRE_WS_OP_PING, p126, sizeof(p126));
  run(std_req);
  expect_close(1002);
  /* A fragmented ping. */
  frame(0, WIRE_WS_OP_PING, "x", 1);
  run(std_req);
  expect_close(1002);
  wss_done();
}

/* ---- 3 reserved bits, 4 opcodes ----------------------------------------- */

Test(ws_conformance, reserved_bits_and_opcodes)
{
  start();
  unsigned rsv[] = {WIRE_WS_RSV1, WIRE_WS_RSV2, WIRE_WS_RSV3};
  for (int i = 0; i < 3; i++) {
    frame(WIRE_WS_FIN | rsv[i], WIRE_WS_OP_TEXT, "x", 1);
    run(std_req);
    expect_close(1002);
    cr_assert_eq(r.nframes, 1);
  }
  unsigned ops[] = {3, 7, 0xb, 0xf};
  for (int i = 0; i < 4; i++) {
    text("first");
    frame(WIRE_WS_FIN, ops[i], "", 0);
    run(std_req);
    cr_assert(payload_is(0, "first"));
    expect_close(1002);
  }
  wss_done();
}

/* ---- 5 fragmentation ------------------------------------------------------ */

Test(ws_conformance, fragmentation)
{
  start();
  frame(0, WIRE_WS_OP_TEXT, "frag", 4);
  frame(WIRE_WS_FIN, WIRE_WS_OP_PING, "mid", 3);
  frame(0, WIRE_WS_OP_CONTINUATION, "men", 3);
  frame(WIRE_WS_FIN, WIRE_WS_OP_CONTINUATION, "ts", 2);
  close_frame(1000);
  run(std_req);
  cr_assert_eq(r.nframes, 3);
  cr_assert_eq(r.op[0], WIRE_WS_OP_PONG);
  cr_assert(payload_is(1, "fragments"));
  expect_close(1000);
  /* A continuation with nothing to continue. */
  frame(WIRE_WS_FIN, WIRE_WS_OP_CONTINUATION, "x", 1);
  run(std_req);
  expect_close(1002);
  /* A new message inside a fragmented one. */
  frame(0, WIRE_WS_OP_TEXT, "a", 1);
  frame(WIRE_WS_FIN, WIRE_WS_OP_TEXT, "b", 1);
  run(std_req);
  expect_close(1002);
  wss_done();
}

/* ---- 6 UTF-8 ---------------------------------------------------------------- */

Test(ws_conformance, utf8)
{
  start();
  /* U+1D11E split across three fragments: valid. */
  frame(0, WIRE_WS_OP_TEXT, "\xf0\x9d", 2);
  frame(0, WIRE_WS_OP_CONTINUATION, "\x84", 1);
  frame(WIRE_WS_FIN, WIRE_WS_OP_CONTINUATION, "\x9e", 1);
  close_frame(1000);
  run(std_req);
  cr_assert(payload_is(0, "\xf0\x9d\x84\x9e"));
  expect_close(1000);
  /* Invalid in one frame. */
  text("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80" "edited");
  run(std_req);
  expect_close(1007);
  /* Fail fast: the first fragment is already invalid; the message never
   * ends, yet the server closes. */
  frame(0, WIRE_WS_OP_TEXT, "ok\xc0\xaf", 4);
  run(std_req);
  expect_close(1007);
  cr_assert_eq(r.nframes, 1);
  /* A message that ends inside a character. */
  frame(WIRE_WS_FIN, WIRE_WS_OP_TEXT, "\xe2\x82", 2);
  run(std_req);
  expect_close(1007);
  /* The same across fragments, each valid so far. */
  frame(0, WIRE_WS_OP_TEXT, "ok\xe2", 3);
  frame(WIRE_WS_FIN, WIRE_WS_OP_CONTINUATION, "\x82", 1);
  run(std_req);
  expect_close(1007);
  cr_assert_eq(r.nframes, 1);
  /* Binary is not text: the same bytes echo. */
  frame(WIRE_WS_FIN, WIRE_WS_OP_BINARY, "\xe2\x82", 2);
  close_frame(1000);
  run(std_req);
  cr_assert(payload_is(0, "\xe2\x82"));
  expect_close(1000);
  wss_done();
}

/* ---- 7 close handling ------------------------------------------------------- */

Test(ws_conformance, close_handling)
{
  start();
  /* An empty close: the answer is empty too (1005 on our side). */
  frame(WIRE_WS_FIN, WIRE_WS_OP_CLOSE, "", 0);
  run(std_req);
  cr_assert_eq(r.nframes, 1);
  cr_assert_eq(r.payload[0].len, 0);
  H_RUN_UNTIL(wss.loop, wss.closes == 1);
  cr_assert_eq(wss.last_code, 1005);
  /* Code and reason are echoed; data after the close is ignored. */
  frame(WIRE_WS_FIN, WIRE_WS_OP_CLOSE, "\x0f\xa0goodbye", 9);
  text("ignored");
  run(std_req);
  cr_assert_eq(r.nframes, 1);
  expect_close(4000);
  H_RUN_UNTIL(wss.loop, wss.closes == 2);
  cr_assert_str_eq(wss.last_reason, "goodbye");
  /* One byte of payload; invalid codes; a bad reason. */
  frame(WIRE_WS_FIN, WIRE_WS_OP_CLOSE, "\x03", 1);
  run(std_req);
  expect_close(1002);
  unsigned bad[] = {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000};
  for (int i = 0; i < 9; i++) {
    close_frame(bad[i]);
    run(std_req);
    expect_close(1002);
  }
  frame(WIRE_WS_FIN, WIRE_WS_OP_CLOSE, "\x03\xe8\xff", 3);
  run(std_req);
  expect_close(1007);
  wss_done();
}

/* ---- 9 limits ----------------------------------------------------------------- */

Test(ws_conformance, limits)
{
  wire_ws_server_opts_t o = WIRE_WS_SERVER_OPTS_INIT;
  o.max_payload = 4096;
  o.max_fragments = 8;
  wss_start(&o);
  /* A frame header announcing 1 GiB: refused before any payload. */
  add("\x82\xff\x00\x00\x00\x00\x40\x00\x00\x00\x01\x02\x03\x04", 14);
  run(std_req);
  expect_close(1009);
  /* Fragments that add up past the cap. */
  char k[1000] = {0};
  for (int i = 0; i < 5; i++)
    frame(0, i == 0 ? WIRE_WS_OP_BINARY : WIRE_WS_OP_CONTINUATION, k, 1000);
  run(std_req);
  expect_close(1009);
  /* Too many (empty) fragments. */
  for (int i = 0; i < 10; i++)
    frame(0, i == 0 ? WIRE_WS_OP_BINARY : WIRE_WS_OP_CONTINUATION, "", 0);
  run(std_req);
  expect_close(1009);
  wss_done();
}

/* ---- 12/13 permessage-deflate -------------------------------------------------- */

static size_t raw_deflate(const char *in, size_t n, char *dst, size_t cap,
                          int bits)
{
  z_stream z;
  memset(&z, 0, sizeof(z));
  cr_assert_eq(deflateInit2(&z, 6, Z_DEFLATED, -bits, 8, Z_DEFAULT_STRATEGY),
               Z_OK);
  z.next_in = (Bytef *)in;
  z.avail_in = (uInt)n;
  z.next_out = (Bytef *)dst;
  z.avail_out = (uInt)cap;
  cr_assert_eq(deflate(&z, Z_SYNC_FLUSH), Z_OK);
  size_t m = cap - z.avail_out;
  deflateEnd(&z);
  cr_assert_geq(m, 4);
  return m - 4; /* RFC 7692 7.2.1: without 00 00 ff ff */
}

static const char *ext_req(const char *ext)
{
  static char buf[1024];
  snprintf(buf, sizeof(buf),
           "GET /echo HTTP/1.1\r\n" UPGRADE_HDRS
           "Sec-WebSocket-Extensions: %s\r\n\r\n",
           ext);
  return buf;
}

static const char *head_ext(void)
{
  static char v[256];
  const char *p = strcasestr(r.head, "Sec-WebSocket-Extensions: ");
  if (p == NULL)
    return "";
  p += strlen("Sec-WebSocket-Extensions: ");
  size_t n = strcspn(p, "\r");
  snprintf(v, sizeof(v), "%.*s", (int)n, p);
  return v;
}

Test(ws_conformance, permessage_deflate_parameters)
{
  wire_ws_server_opts_t o = WIRE_WS_SERVER_OPTS_INIT;
  o.deflate.enabled = 1;
  o.deflate.threshold = 1; /* compress every answer but the empty one */
  wss_start(&o);
  char z[256];
  size_t zn = raw_deflate("Hello, Hello, Hello", 19, z, sizeof(z), 15);
  /* A plain offer; a compressed message; an answer compressed too. */
  frame(WIRE_WS_FIN | WIRE_WS_RSV1, WIRE_WS_OP_TEXT, z, zn);
  close_frame(1000);
  run(ext_req("permessage-deflate"));
  cr_assert_eq(r.status, 101);
  cr_assert_str_eq(head_ext(), "permessage-deflate");
  cr_assert_eq(r.rsv1[0], 1);
  {
    char plain[64];
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    inflateInit2(&zs, -15);
    h_sink_add(&r.payload[0], "\x00\x00\xff\xff", 4);
    zs.next_in = (Bytef *)r.payload[0].buf;
    zs.avail_in = (uInt)r.payload[0].len;
    zs.next_out = (Bytef *)plain;
    zs.avail_out = sizeof(plain);
    inflate(&zs, Z_SYNC_FLUSH);
    cr_assert_eq(sizeof(plain) - zs.avail_out, 19);
    cr_assert(memcmp(plain, "Hello, Hello, Hello", 19) == 0);
    inflateEnd(&zs);
  }
  expect_close(1000);
  /* Parameters: our window follows the client's limit; no-context on
   * request; client_max_window_bits offered without a value. */
  close_frame(1000);
  run(ext_req("permessage-deflate; server_max_window_bits=10; "
              "client_no_context_takeover; client_max_window_bits"));
  cr_assert_str_eq(head_ext(),
                   "permessage-deflate; client_no_context_takeover; "
                   "server_max_window_bits=10");
  /* An offer with an unknown parameter is declined; the next is taken. */
  close_frame(1000);
  run(ext_req("permessage-deflate; foo=1, permessage-deflate; "
              "server_no_context_takeover"));
  cr_assert_str_eq(head_ext(),
                   "permessage-deflate; server_no_context_takeover");
  /* A window of 8 for our side, a bad value, a duplicate: declined. */
  const char *declined[] = {"permessage-deflate; server_max_window_bits=8",
                            "permessage-deflate; server_max_window_bits=16",
                            "permessage-deflate; server_no_context_takeover;"
                            " server_no_context_takeover",
                            "x-unknown-ext"};
  for (int i = 0; i < 4; i++) {
    close_frame(1000);
    run(ext_req(declined[i]));
    cr_assert_eq(r.status, 101);
    cr_assert_str_eq(head_ext(), "", "%s", declined[i]);
  }
  /* A malformed header is a bad request. */
  run(ext_req("permessage-deflate; =1"));
  cr_assert_eq(r.status, 400);
  /* RSV1 on a continuation frame. */
  frame(WIRE_WS_RSV1, WIRE_WS_OP_TEXT, z, zn);
  frame(WIRE_WS_FIN | WIRE_WS_RSV1, WIRE_WS_OP_CONTINUATION, "", 0);
  run(ext_req("permessage-deflate"));
  expect_close(1002);
  /* Garbage as compressed data. */
  frame(WIRE_WS_FIN | WIRE_WS_RSV1, WIRE_WS_OP_BINARY, "\xff\xff\xff\xff", 4);
  run(ext_req("permessage-deflate"));
  expect_close(1002);
  wss_done();
}

/* ---- handshakes ------------------------------------------------------------------ */

Test(ws_conformance, bad_handshakes)
{
  start();
  run("GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n");
  cr_assert_eq(r.status, 400, "missing key: %s", r.head);
  run("GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Key: c2hvcnQ=\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\n");
  cr_assert_eq(r.status, 400, "short key");
  run("GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\n" KEY_HDR "Sec-WebSocket-Version: 8\r\n\r\n");
  cr_assert_eq(r.status, 426);
  cr_assert(strstr(r.head, "Sec-WebSocket-Version: 13\r\n") != NULL);
  run("GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\n"
      "Connection: Upgrade\r\n" KEY_HDR "Sec-WebSocket-Version: 13\r\n\r\n");
  cr_assert_eq(r.status, 400, "not a websocket upgrade");
  run("POST /echo HTTP/1.1\r\n" UPGRADE_HDRS "Content-Length: 0\r\n\r\n");
  cr_assert_eq(r.status, 405);
  run("GET /other HTTP/1.1\r\n" UPGRADE_HDRS "\r\n");
  cr_assert_eq(r.status, 400, "another path");
  run("GET /echo HTTP/1.1\r\n" UPGRADE_HDRS
      "Sec-WebSocket-Protocol: a,,b\r\n\r\n");
  cr_assert_eq(r.status, 400, "malformed protocol list");
  /* A plain request to the ws path goes to the http handler. */
  run("GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  cr_assert_eq(r.status, 200);
  /* The RFC's example key gives the RFC's accept. */
  close_frame(1000);
  run(std_req);
  cr_assert_eq(r.status, 101);
  cr_assert(strstr(r.head, "Sec-WebSocket-Accept: "
                           "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") != NULL);
  cr_assert_eq(wss.conns, 1);
  wss_done();
}
