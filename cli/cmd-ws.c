/* wire ws: an interactive WebSocket client (as wscat), on the public
 * wire_ws_* API only.
 *
 *   wire ws URL [-p PROTO]... [-H 'K: V']... [--origin O] [--deflate]
 *               [--binary] [--raw] [-w SECONDS]
 *               [--cacert F] [--cert F --key F] [--insecure]
 *
 * One connection per process, so the state is one static struct. Once the
 * handshake is done ("open"), each line of stdin goes out as one text
 * message (the '\n' and a '\r' before it dropped; with --binary, as a
 * binary message); stdin pauses while the connection is over its
 * high-water mark and resumes on its drain event. When stdin ends (after
 * the -w delay, if any) the client closes with 1000 and waits for the
 * server's close frame. Every message received goes to stdout: text as
 * is plus '\n'; binary as a one-line hex summary, or its bytes as they
 * are with --raw. The close code and reason go to stderr.
 *
 * stdin is wrapped with wire_socket_open when it is a pipe, a terminal or
 * a socket; a regular file (or /dev/null) is not pollable and is read with
 * read() in 64 KiB chunks, the next chunk waiting for the drain event.
 * stdout is written synchronously, as `wire tcp` does.
 *
 * Exit status: 0 when the connection ended with a closing handshake (a
 * close frame came from the server: any code but 1006) and no error was
 * reported; 1 on an error (connect, handshake, protocol, reset); 2 on bad
 * arguments. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"

#define FILE_CHUNK (64 * 1024)
#define MAX_LINE (16u * 1024 * 1024) /* a longer line is an error */
#define HEX_SHOWN 32                 /* bytes of a binary message shown */

static const char usage_text[] =
    "usage: wire ws URL [options]\n"
    "\n"
    "Connects to a WebSocket server (ws:// or wss://HOST[:PORT][/PATH]).\n"
    "Each line of stdin is sent as a\n"
    "text message; each message received is printed on stdout (text as\n"
    "is, binary as a hex summary). When stdin ends the client closes with\n"
    "1000; the close code and reason are printed on stderr.\n"
    "\n"
    "  -p, --protocol NAME  offer subprotocol NAME (repeatable, in order)\n"
    "  -H, --header 'K: V'  add a header to the handshake request\n"
    "  --origin ORIGIN      send Origin: ORIGIN\n"
    "  --deflate            offer permessage-deflate\n"
    "  --binary             send stdin's lines as binary messages\n"
    "  --raw                print binary messages' bytes as they are\n"
    "  -w, --wait SECONDS   after stdin ends, wait this long before closing\n"
    "  --cacert FILE        wss://: trust the CA certificates in FILE\n"
    "  --cert FILE          wss://: client certificate (with --key)\n"
    "  --key FILE           wss://: the client certificate's key\n"
    "  --insecure           wss://: do not verify the server\n"
    "\n"
    "Exit status: 0 after a closing handshake, 1 on an error, 2 on bad\n"
    "arguments.\n";

static struct {
  wire_loop_t *loop;
  wire_ws_t *ws;      /* NULL once its close event ran */
  wire_socket_t *in;  /* stdin as a stream; NULL if a file or closed */
  wire_timer_t *feed; /* reads a file stdin on a later turn */
  wire_timer_t *wait; /* the -w delay */
  uint64_t wait_ms;
  int in_file;    /* stdin is read with read() */
  int in_done;    /* stdin ended (or was given up) */
  int in_closing; /* wire_socket_close called on in */
  int in_paused;  /* waiting for the connection's drain */
  int binary;     /* --binary */
  int raw;        /* --raw */
  int closing;    /* wire_ws_close called */
  int failed;     /* an error was reported */
  char *line;     /* the partial line read so far */
  size_t line_len, line_cap;
} st;

static void fail(const char *what, int err)
{
  fprintf(stderr, "wire ws: %s: %s\n", what, wire_strerror(err));
  st.failed = 1;
}

/* ---- closing ----------------------------------------------------------- */

static void close_in(void)
{
  st.in_done = 1;
  if (st.in != NULL && !st.in_closing) {
    st.in_closing = 1;
    wire_socket_close(st.in, NULL);
  }
  if (st.feed != NULL) {
    wire_timer_close(st.feed, NULL);
    st.feed = NULL;
  }
}

static void close_timers(void)
{
  if (st.wait != NULL) {
    wire_timer_close(st.wait, NULL);
    st.wait = NULL;
  }
}

/* The normal end: a close frame with 1000 (once). */
static void close_ws(void)
{
  if (st.ws == NULL || st.closing)
    return;
  st.closing = 1;
  int err = wire_ws_close(st.ws, 1000, NULL);
  if (err < 0 && err != WIRE_EALREADY)
    wire_ws_terminate(st.ws);
}

/* Gives up: reports nothing more, destroys the connection. */
static void abort_all(void)
{
  close_in();
  close_timers();
  if (st.ws != NULL)
    wire_ws_terminate(st.ws);
}

static void on_wait(wire_timer_t *t, void *d)
{
  (void)t, (void)d;
  close_timers();
  close_ws();
}

/* stdin is over: close now, or after the -w delay. */
static void input_done(void)
{
  close_in();
  if (st.wait_ms == 0 || st.ws == NULL) {
    close_ws();
    return;
  }
  if (wire_timer_create(st.loop, &st.wait) < 0) {
    st.wait = NULL;
    close_ws();
    return;
  }
  wire_timer_start(st.wait, st.wait_ms, 0, on_wait);
}

/* ---- stdin -> messages ------------------------------------------------- */

/* RFC 3629: is p[0..len) valid UTF-8 (no overlongs, no surrogates, at
 * most U+10FFFF)? A text message must be, or the server fails the
 * connection with 1007. */
static int utf8_valid(const unsigned char *p, size_t len)
{
  size_t i = 0;
  while (i < len) {
    unsigned c = p[i];
    size_t n;
    unsigned lo = 0x80, hi = 0xbf;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c == 0xe0)
        lo = 0xa0;
      else if (c == 0xed)
        hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c == 0xf0)
        lo = 0x90;
      else if (c == 0xf4)
        hi = 0x8f;
    } else {
      return 0;
    }
    if (len - i - 1 < n)
      return 0;
    for (size_t k = 1; k <= n; k++) {
      unsigned b = p[i + k];
      if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xbf))
        return 0;
    }
    i += n + 1;
  }
  return 1;
}

/* Sends one line (without its '\n'). Returns 1 to go on, 0 when the
 * connection pushed back, -1 on an error (reported). */
static int send_line(const char *p, size_t len)
{
  if (len > 0 && p[len - 1] == '\r')
    len--;
  if (st.ws == NULL || wire_ws_ready_state(st.ws) != WIRE_WS_OPEN)
    return -1;
  int r;
  if (st.binary) {
    r = wire_ws_send_binary(st.ws, p, len);
  } else {
    if (!utf8_valid((const unsigned char *)p, len)) {
      fprintf(stderr, "wire ws: a line is not valid UTF-8: not sent (use "
                      "--binary)\n");
      return 1;
    }
    r = wire_ws_send_text(st.ws, p, len);
  }
  if (r < 0) {
    fail("send", r);
    return -1;
  }
  return r;
}

static int line_add(const char *p, size_t n)
{
  if (n > MAX_LINE - st.line_len)
    return WIRE_ETOOBIG;
  if (st.line_len + n > st.line_cap) {
    size_t cap = st.line_cap ? st.line_cap : 1024;
    while (cap < st.line_len + n)
      cap *= 2;
    char *q = realloc(st.line, cap);
    if (q == NULL)
      return WIRE_ENOMEM;
    st.line = q;
    st.line_cap = cap;
  }
  memcpy(st.line + st.line_len, p, n);
  st.line_len += n;
  return 0;
}

/* Takes a chunk of stdin: sends every complete line in it. Returns 1, 0
 * when the connection pushed back (the caller waits for drain), -1 on an
 * error. */
static int take_input(const char *buf, size_t len)
{
  int more = 1;
  while (len > 0) {
    const char *nl = memchr(buf, '\n', len);
    if (nl == NULL) {
      int err = line_add(buf, len);
      if (err < 0) {
        fail("stdin", err);
        return -1;
      }
      return more;
    }
    size_t n = (size_t)(nl - buf);
    int r;
    if (st.line_len > 0) {
      int err = line_add(buf, n);
      if (err < 0) {
        fail("stdin", err);
        return -1;
      }
      r = send_line(st.line, st.line_len);
      st.line_len = 0;
    } else {
      r = send_line(buf, n);
    }
    if (r < 0)
      return -1;
    if (r == 0)
      more = 0; /* the rest of this chunk still goes into the queue */
    buf += n + 1;
    len -= n + 1;
  }
  return more;
}

/* stdin ended: the last line may lack its '\n'. */
static void input_eof(void)
{
  if (st.line_len > 0) {
    int r = send_line(st.line, st.line_len);
    st.line_len = 0;
    if (r < 0) {
      abort_all();
      return;
    }
  }
  input_done();
}

static void on_in_data(wire_socket_t *s, const char *buf, size_t len, void *d)
{
  (void)d;
  int r = take_input(buf, len);
  if (r < 0) {
    abort_all();
  } else if (r == 0) {
    st.in_paused = 1;
    wire_socket_pause(s);
  }
}

static void on_in_end(wire_socket_t *s, void *d)
{
  (void)s, (void)d;
  input_eof();
}

static void on_in_error(wire_socket_t *s, int err, void *d)
{
  (void)s, (void)d;
  fail("stdin", err);
  abort_all();
}

static void on_in_close(wire_socket_t *s, int had_error, void *d)
{
  (void)s, (void)had_error, (void)d;
  st.in = NULL;
  st.in_done = 1;
}

static void on_feed(wire_timer_t *t, void *d);

/* Reads a file stdin until the connection pushes back (drain calls this
 * again) or the file ends; one chunk per loop turn. */
static void feed_file(void)
{
  static char buf[FILE_CHUNK];
  if (st.in_done || st.ws == NULL)
    return;
  ssize_t n;
  do {
    n = read(STDIN_FILENO, buf, sizeof(buf));
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    fail("stdin", -errno);
    abort_all();
    return;
  }
  if (n == 0) {
    input_eof();
    return;
  }
  int r = take_input(buf, (size_t)n);
  if (r < 0) {
    abort_all();
  } else if (r == 0) {
    st.in_paused = 1;
  } else {
    wire_timer_start(st.feed, 0, 0, on_feed);
  }
}

static void on_feed(wire_timer_t *t, void *d)
{
  (void)t, (void)d;
  feed_file();
}

static int start_stdin(void)
{
  int err = wire_socket_open(st.loop, STDIN_FILENO, &st.in);
  if (err == WIRE_EINVAL) {
    st.in = NULL;
    st.in_file = 1;
    err = wire_timer_create(st.loop, &st.feed);
    if (err < 0) {
      st.feed = NULL;
      return err;
    }
    wire_timer_start(st.feed, 0, 0, on_feed);
    return 0;
  }
  if (err < 0)
    return err;
  /* stdin is read-only: its EOF must not try to end it. */
  wire_socket_set_allow_half_open(st.in, 1);
  wire_socket_on_data(st.in, on_in_data);
  wire_socket_on_end(st.in, on_in_end);
  wire_socket_on_error(st.in, on_in_error);
  wire_socket_on_close(st.in, on_in_close);
  return 0;
}

/* ---- the connection ---------------------------------------------------- */

static void on_open(wire_ws_t *ws, void *d)
{
  (void)d;
  const char *proto = wire_ws_protocol(ws);
  const char *ext = wire_ws_extensions(ws);
  fprintf(stderr, "wire ws: open");
  if (proto[0] != '\0')
    fprintf(stderr, ", protocol: %s", proto);
  if (ext[0] != '\0')
    fprintf(stderr, ", extensions: %s", ext);
  fprintf(stderr, "\n");
  int err = start_stdin();
  if (err < 0) {
    fail("stdin", err);
    abort_all();
  }
}

static void print_hex(const unsigned char *p, size_t len)
{
  char line[64 + 3 * HEX_SHOWN + 8];
  int n = snprintf(line, sizeof(line), "<binary, %zu byte%s>", len,
                   len == 1 ? "" : "s");
  size_t shown = len < HEX_SHOWN ? len : HEX_SHOWN;
  for (size_t i = 0; i < shown; i++)
    n += snprintf(line + n, sizeof(line) - (size_t)n, " %02x", p[i]);
  if (shown < len)
    n += snprintf(line + n, sizeof(line) - (size_t)n, " ...");
  line[n++] = '\n';
  cli_write_all(STDOUT_FILENO, line, (size_t)n);
}

static void on_message(wire_ws_t *ws, const char *buf, size_t len,
                       int is_binary, void *d)
{
  (void)ws, (void)d;
  int err = 0;
  if (!is_binary) {
    err = cli_write_all(STDOUT_FILENO, buf, len);
    if (err == 0)
      err = cli_write_all(STDOUT_FILENO, "\n", 1);
  } else if (st.raw) {
    err = cli_write_all(STDOUT_FILENO, buf, len);
  } else {
    print_hex((const unsigned char *)buf, len);
  }
  if (err < 0) {
    fail("stdout", err);
    abort_all();
  }
}

static void on_drain(wire_ws_t *ws, void *d)
{
  (void)ws, (void)d;
  if (!st.in_paused)
    return;
  st.in_paused = 0;
  if (st.in != NULL)
    wire_socket_resume(st.in);
  else if (st.in_file && st.feed != NULL)
    wire_timer_start(st.feed, 0, 0, on_feed);
}

static void on_error(wire_ws_t *ws, int err, void *d)
{
  (void)d;
  const char *why = wire_ws_last_error(ws);
  if (why != NULL && why[0] != '\0')
    fprintf(stderr, "wire ws: error: %s (%s)\n", wire_strerror(err), why);
  else
    fprintf(stderr, "wire ws: error: %s\n", wire_strerror(err));
  st.failed = 1;
}

static void on_unexpected(wire_ws_t *ws, int status, void *d)
{
  (void)ws, (void)d;
  fprintf(stderr, "wire ws: error: the server answered %d %s, not 101\n",
          status, wire_http_status_text(status));
  st.failed = 1;
}

static void on_close(wire_ws_t *ws, unsigned code, const char *reason,
                     size_t reason_len, void *d)
{
  (void)ws, (void)d;
  fprintf(stderr, "wire ws: closed: %u", code);
  if (reason_len > 0)
    fprintf(stderr, " %.*s", (int)reason_len, reason);
  fprintf(stderr, "\n");
  if (code == 1006)
    st.failed = 1;
  st.ws = NULL;
  close_in();
  close_timers();
}

/* ---- arguments --------------------------------------------------------- */

/* "Name: value" -> name and value in place (the ':' becomes NUL). */
static int split_header(char *h, const char **name, const char **value)
{
  char *colon = strchr(h, ':');
  if (colon == NULL || colon == h)
    return -1;
  *colon = '\0';
  char *v = colon + 1;
  while (*v == ' ' || *v == '\t')
    v++;
  *name = h;
  *value = v;
  return 0;
}

int cmd_ws(int argc, char **argv)
{
  const char *url = NULL;
  const char *cacert = NULL, *cert = NULL, *key = NULL, *origin = NULL;
  int insecure = 0, deflate = 0;
  int status = 2;
  /* At most argc protocols and argc headers (two slots each): plus NULL. */
  const char **protos = calloc((size_t)argc + 1, sizeof(*protos));
  const char **headers = calloc(2 * (size_t)argc + 1, sizeof(*headers));
  size_t nprotos = 0, nheaders = 0;
  wire_tls_ctx_t *ctx = NULL;
  if (protos == NULL || headers == NULL) {
    fail("arguments", WIRE_ENOMEM);
    status = 1;
    goto done;
  }
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int has_arg = i + 1 < argc;
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      fputs(usage_text, stdout);
      status = 0;
      goto done;
    }
    if ((strcmp(a, "-p") == 0 || strcmp(a, "--protocol") == 0) && has_arg) {
      protos[nprotos++] = argv[++i];
    } else if ((strcmp(a, "-H") == 0 || strcmp(a, "--header") == 0) &&
               has_arg) {
      if (split_header(argv[++i], &headers[nheaders],
                       &headers[nheaders + 1]) < 0) {
        fprintf(stderr, "wire ws: bad header '%s' (want 'Name: value')\n",
                argv[i]);
        goto done;
      }
      nheaders += 2;
    } else if (strcmp(a, "--origin") == 0 && has_arg) {
      origin = argv[++i];
    } else if (strcmp(a, "--deflate") == 0) {
      deflate = 1;
    } else if (strcmp(a, "--binary") == 0) {
      st.binary = 1;
    } else if (strcmp(a, "--raw") == 0) {
      st.raw = 1;
    } else if ((strcmp(a, "-w") == 0 || strcmp(a, "--wait") == 0) &&
               has_arg) {
      char *end;
      double s = strtod(argv[++i], &end);
      if (end == argv[i] || *end != '\0' || s < 0 || s > 86400) {
        fprintf(stderr, "wire ws: bad wait '%s'\n", argv[i]);
        goto done;
      }
      st.wait_ms = (uint64_t)(s * 1000);
    } else if (strcmp(a, "--cacert") == 0 && has_arg) {
      cacert = argv[++i];
    } else if (strcmp(a, "--cert") == 0 && has_arg) {
      cert = argv[++i];
    } else if (strcmp(a, "--key") == 0 && has_arg) {
      key = argv[++i];
    } else if (strcmp(a, "--insecure") == 0 || strcmp(a, "-k") == 0) {
      insecure = 1;
    } else if (a[0] == '-' && a[1] != '\0') {
      fprintf(stderr, "wire ws: unknown option or missing value '%s'\n", a);
      fputs(usage_text, stderr);
      goto done;
    } else if (url == NULL) {
      url = a;
    } else {
      fputs(usage_text, stderr);
      goto done;
    }
  }
  if (url == NULL) {
    fputs(usage_text, stderr);
    goto done;
  }
  if ((cert == NULL) != (key == NULL)) {
    fprintf(stderr, "wire ws: --cert and --key go together\n");
    goto done;
  }
  int tls = strncasecmp(url, "wss://", 6) == 0;
  if (!tls && (cacert || cert || insecure)) {
    fprintf(stderr, "wire ws: --cacert, --cert, --key and --insecure are "
                    "for wss:// URLs\n");
    goto done;
  }

  /* A server that went away is an EPIPE write error, not a signal. */
  signal(SIGPIPE, SIG_IGN);
  status = 1;
  st.loop = wire_loop_default();
  if (st.loop == NULL) {
    fail("loop", WIRE_ENOMEM);
    goto done;
  }
  wire_ws_connect_opts_t o = WIRE_WS_CONNECT_OPTS_INIT;
  o.protocols = nprotos > 0 ? protos : NULL;
  o.headers = nheaders > 0 ? headers : NULL;
  o.origin = origin;
  o.deflate.enabled = deflate;
  if (tls) {
    o.reject_unauthorized = !insecure;
    if (cacert != NULL || cert != NULL) {
      wire_tls_ctx_opts_t to = WIRE_TLS_CTX_OPTS_INIT;
      to.ca_file = cacert;
      to.cert_file = cert;
      to.key_file = key;
      int err = wire_tls_ctx_new(&to, &ctx);
      if (err < 0) {
        fprintf(stderr, "wire ws: TLS files: %s%s%s\n", wire_strerror(err),
                err == WIRE_ETLS ? ": " : "",
                err == WIRE_ETLS ? wire_tls_errstr() : "");
        goto done;
      }
      o.tls_ctx = ctx;
    }
  }
  int err = wire_ws_connect(st.loop, url, &o, &st.ws);
  if (err == WIRE_ENOTSUP && tls) {
    fprintf(stderr, "wire ws: wss:// is not supported by wire's WebSocket "
                    "client yet; use ws://\n");
    goto done;
  }
  if (err < 0) {
    fprintf(stderr, "wire ws: %s: %s\n", url,
            err == WIRE_EINVAL ? "not a ws:// or wss:// URL"
                               : wire_strerror(err));
    goto done;
  }
  wire_ws_on_open(st.ws, on_open);
  wire_ws_on_message(st.ws, on_message);
  wire_ws_on_drain(st.ws, on_drain);
  wire_ws_on_error(st.ws, on_error);
  wire_ws_on_unexpected_response(st.ws, on_unexpected);
  wire_ws_on_close(st.ws, on_close);
  wire_loop_run(st.loop, WIRE_RUN_DEFAULT);
  status = st.failed ? 1 : 0;
  if (wire_loop_close(st.loop) < 0)
    status = 1;
done:
  wire_tls_ctx_free(ctx);
  free(st.line);
  free(protos);
  free(headers);
  return status;
}
