/* wire demo: the seed's servers at once. For now the TCP server of the
 * seed's net section on 8124, the UDP server of its dgram section on
 * 41234 and the HTTP server of its http section on 127.0.0.1:1337
 * (--tcp-port, --udp-port, --http-port; 0 picks a port), the TLS echo
 * server of its tls section on 127.0.0.1:8000 and the HTTPS server of its
 * https section on 127.0.0.1:8443 (--tls-port, --https-port), with a CA
 * and server/client certificates made on first run in the state directory
 * (--state-dir DIR; default $XDG_STATE_HOME/wire or ~/.local/state/wire);
 * later modules add theirs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static const char greeting[] = "hello world\xef\xbc\x9a\n";
static const char reply[] = "\xe4\xbd\xa0\xe5\xa5\xbd";

static void on_data(wire_socket_t *s, const char *buf, size_t len, void *d)
{
  (void)buf, (void)len, (void)d;
  wire_socket_write(s, reply, sizeof(reply) - 1);
}

static void on_connection(wire_server_t *srv, wire_socket_t *s, void *d)
{
  (void)srv, (void)d;
  wire_socket_on_data(s, on_data);
  wire_socket_write(s, greeting, sizeof(greeting) - 1);
}

static void on_listening(wire_server_t *srv, void *d)
{
  (void)d;
  cli_print_listening("tcp", srv);
  wire_addr_t a;
  wire_server_address(srv, &a);
  printf("  try: nc 127.0.0.1 %d   (or: wire tcp 127.0.0.1 %d)\n", a.port,
         a.port);
  fflush(stdout);
}

static void on_error(wire_server_t *srv, int err, void *d)
{
  (void)d;
  fprintf(stderr, "wire demo: tcp: %s\n", wire_strerror(err));
  wire_server_close(srv, NULL);
}

/* The seed's UDP server: "server got: MSG from ADDR:PORT" per datagram. */
static void on_udp_message(wire_udp_t *u, const char *buf, size_t len,
                           const wire_udp_rinfo_t *rinfo, void *d)
{
  (void)u, (void)d;
  printf("server got: %.*s from %s:%d\n", (int)len, buf, rinfo->address,
         rinfo->port);
  fflush(stdout);
}

static void on_udp_listening(wire_udp_t *u, void *d)
{
  (void)d;
  wire_addr_t a;
  if (wire_udp_address(u, &a) < 0)
    return;
  printf("listening on udp://%s:%d\n", a.address, a.port);
  printf("  try: echo hi | socat - UDP:127.0.0.1:%d   (or: wire udp "
         "127.0.0.1 %d)\n",
         a.port, a.port);
  fflush(stdout);
}

static void on_udp_error(wire_udp_t *u, int err, void *d)
{
  (void)d;
  fprintf(stderr, "wire demo: udp: %s\n", wire_strerror(err));
  wire_addr_t a;
  if (wire_udp_address(u, &a) == WIRE_EBADF)
    wire_udp_close(u, NULL); /* the bind failed: the other servers go on */
}

/* ---- the live dashboard: / and /updates ------------------------------ */

/* GET / serves a page (DASH_PAGE below: inline SVG charts, no external
 * script) that opens ws://HOST:PORT/updates. Every DASH_TICK_MS the demo
 * builds one JSON update (HTTP connections, WebSocket clients, requests/s
 * over the last second, the counts of its agent) and sends it to each
 * client whose bufferedAmount is 0, the seed's pattern: a slow client is
 * skipped, not buried. So that the counts move, the demo makes a few
 * requests to its own /hello through an agent of DASH_AGENT_SOCKETS
 * sockets, at most DASH_LOAD_MAX in flight (bounded: about 15 per
 * second), and answers them after a random 10..200 ms (X-Demo-Delay), so
 * that sockets are busy and requests queue for a while. */
#define DASH_TICK_MS 50
#define DASH_WINDOW 20 /* ticks of the requests/s window: 1 s */
#define DASH_LOAD_MS 100
#define DASH_LOAD_MAX 6
#define DASH_AGENT_SOCKETS 2

static const char dash_page[] =
    "<!doctype html><meta charset=utf-8><title>wire demo</title>\n"
    "<style>body{font:14px sans-serif;margin:2em}svg{background:#f7f7f7;borde"
    "r:1px solid #ccc}div.c{margin:0 0 1.2em}</style>\n"
    "<h1>wire demo</h1><p>live from <code>/updates</code>: <b id=state>connec"
    "ting</b>; the seed's Hello World is at <a href=/hello>/hello</a></p>\n"
    "<div id=charts></div>\n"
    "<script>\n"
    "var charts = [\n"
    "  {title: 'connections', series: [['http', 'connections', '#1f77b4'], ['"
    "ws', 'ws', '#ff7f0e']]},\n"
    "  {title: 'requests/s', series: [['req/s', 'rps', '#2ca02c']]},\n"
    "  {title: 'agent', series: [['sockets', 'sockets', '#d62728'], ['free', "
    "'free', '#9467bd'], ['queued', 'queued', '#8c564b']]}\n"
    "];\n"
    "var N = 240, W = 600, H = 120;\n"
    "charts.forEach(function (c) {\n"
    "  var d = document.createElement('div'), h = '<b>' + c.title + '</b> <sp"
    "an></span><br>';\n"
    "  d.className = 'c';\n"
    "  h += '<svg width=' + W + ' height=' + H + '>';\n"
    "  c.series.forEach(function (s) {\n"
    "    s.data = [];\n"
    "    h += '<polyline fill=none stroke-width=2 stroke=\"' + s[2] + '\"/>';"
    "\n"
    "  });\n"
    "  d.innerHTML = h + '</svg>';\n"
    "  document.getElementById('charts').appendChild(d);\n"
    "  c.label = d.querySelector('span');\n"
    "  c.lines = d.querySelectorAll('polyline');\n"
    "});\n"
    "function draw(u) {\n"
    "  var v = {connections: u.connections, ws: u.ws, rps: u.rps, sockets: u."
    "agent.sockets,\n"
    "           free: u.agent.free, queued: u.agent.queued};\n"
    "  charts.forEach(function (c) {\n"
    "    var max = 1, txt = [];\n"
    "    c.series.forEach(function (s) {\n"
    "      s.data.push(v[s[1]]);\n"
    "      if (s.data.length > N) s.data.shift();\n"
    "      s.data.forEach(function (x) { if (x > max) max = x; });\n"
    "      txt.push('<span style=\"color:' + s[2] + '\">' + s[0] + ' ' + v[s["
    "1]] + '</span>');\n"
    "    });\n"
    "    c.series.forEach(function (s, i) {\n"
    "      c.lines[i].setAttribute('points', s.data.map(function (x, j) {\n"
    "        return (j * W / (N - 1)).toFixed(1) + ',' + (H - 5 - x * (H - 10"
    ") / max).toFixed(1);\n"
    "      }).join(' '));\n"
    "    });\n"
    "    c.label.innerHTML = txt.join(', ') + ' (scale 0..' + max + ')';\n"
    "  });\n"
    "}\n"
    "var socket = new WebSocket('ws://' + location.host + '/updates');\n"
    "socket.onopen = function () { document.getElementById('state').textConte"
    "nt = 'open'; };\n"
    "socket.onmessage = function (e) { draw(JSON.parse(e.data)); };\n"
    "socket.onclose = function (e) { document.getElementById('state').textCon"
    "tent = 'closed ' + e.code; };\n"
    "</script>\n";

static struct {
  wire_loop_t *loop;
  wire_http_server_t *http;
  wire_ws_server_t *ws;
  wire_agent_t *agent;
  wire_timer_t *tick, *load;
  int port;
  uint64_t requests;
  unsigned window[DASH_WINDOW]; /* requests per tick */
  unsigned slot;
  unsigned inflight; /* self-requests not closed yet */
} dash;

/* A self-request's answer, held for a while so that the agent's counts
 * (sockets in use, requests queued) have something to show. */
typedef struct {
  wire_http_res_t *res;
  int gone; /* the connection closed first: res is released */
} dash_delay_t;

static void dash_hello(wire_http_res_t *res)
{
  wire_http_res_set_header(res, "Content-Type", "text/plain");
  wire_http_res_write_head(res, 200, NULL);
  wire_http_res_end(res, "Hello World\n", 12);
}

static void dash_delay_free(wire_timer_t *t, void *d)
{
  (void)t;
  free(d);
}

static void dash_delay_done(wire_timer_t *t, void *d)
{
  dash_delay_t *dd = d;
  if (!dd->gone)
    dash_hello(dd->res);
  wire_timer_close(t, dash_delay_free);
}

static void dash_delay_close(wire_http_res_t *res, void *d)
{
  dash_delay_t *dd = d;
  dd->gone = 1;
  wire_http_res_end(res, NULL, 0); /* WIRE_ECLOSED: releases the pair */
}

/* Counts every request; answers GET / with the page, and the demo's own
 * requests (X-Demo-Delay: MS) after MS (returns 1). */
static int dash_request(wire_http_req_t *req, wire_http_res_t *res)
{
  dash.requests++;
  dash.window[dash.slot]++;
  const char *delay = wire_http_req_header(req, "X-Demo-Delay");
  if (delay != NULL) {
    int ms = atoi(delay);
    dash_delay_t *dd = calloc(1, sizeof(*dd));
    wire_timer_t *t;
    if (dd == NULL || wire_timer_create(dash.loop, &t) < 0) {
      free(dd);
      return 0; /* answered at once */
    }
    dd->res = res;
    wire_http_res_set_data(res, dd);
    wire_http_res_on_close(res, dash_delay_close);
    wire_timer_set_data(t, dd);
    wire_timer_start(t, ms < 0 ? 0 : ms > 1000 ? 1000 : (uint64_t)ms, 0,
                     dash_delay_done);
    return 1;
  }
  const char *url = wire_http_req_url(req);
  if (dash.ws == NULL || strcspn(url, "?") != 1 || url[0] != '/')
    return 0;
  wire_http_res_set_header(res, "Content-Type", "text/html; charset=utf-8");
  wire_http_res_set_header(res, "Cache-Control", "no-store");
  wire_http_res_write_head(res, 200, NULL);
  wire_http_res_end(res, dash_page, sizeof(dash_page) - 1);
  return 1;
}

static void dash_push_one(wire_ws_t *ws, void *arg)
{
  const char *msg = arg;
  if (wire_ws_buffered_amount(ws) == 0)
    wire_ws_send_text(ws, msg, strlen(msg));
}

static void dash_on_tick(wire_timer_t *t, void *d)
{
  (void)t, (void)d;
  unsigned rps = 0;
  for (unsigned i = 0; i < DASH_WINDOW; i++)
    rps += dash.window[i];
  dash.slot = (dash.slot + 1) % DASH_WINDOW;
  dash.window[dash.slot] = 0;
  if (wire_ws_server_clients(dash.ws) == 0)
    return;
  wire_agent_stats_t a = {0};
  if (dash.agent != NULL)
    wire_agent_stats(dash.agent, NULL, 0, NULL, &a);
  char msg[384];
  snprintf(msg, sizeof(msg),
           "{\"t\":%llu,\"connections\":%u,\"ws\":%u,\"rps\":%u,"
           "\"requests\":%llu,\"agent\":{\"sockets\":%u,\"free\":%u,"
           "\"queued\":%u,\"created\":%llu,\"reused\":%llu}}",
           (unsigned long long)wire_loop_now(dash.loop),
           wire_http_server_connections(dash.http),
           wire_ws_server_clients(dash.ws), rps,
           (unsigned long long)dash.requests, a.sockets, a.free_sockets,
           a.requests, (unsigned long long)a.created,
           (unsigned long long)a.reused);
  wire_ws_server_each(dash.ws, dash_push_one, msg);
}

static void dash_on_load_close(wire_http_client_req_t *req, void *arg)
{
  (void)req, (void)arg;
  dash.inflight--;
}

static void dash_on_load_error(wire_http_client_req_t *req, int err,
                               void *arg)
{
  (void)req, (void)err, (void)arg; /* the dashboard shows the counts */
}

/* A burst of 0..3 requests to /hello through the agent. */
static void dash_on_load(wire_timer_t *t, void *d)
{
  (void)t, (void)d;
  unsigned burst = (unsigned)(rand() % 4);
  for (unsigned i = 0; i < burst && dash.inflight < DASH_LOAD_MAX; i++) {
    wire_http_request_opts_t o = WIRE_HTTP_REQUEST_OPTS_INIT;
    o.host = "127.0.0.1";
    o.port = dash.port;
    o.path = "/hello";
    o.agent = dash.agent;
    char ms[16];
    snprintf(ms, sizeof(ms), "%d", 10 + rand() % 190);
    const char *headers[] = {"X-Demo-Delay", ms, NULL};
    o.headers = headers;
    wire_http_client_req_t *r;
    if (wire_http_request(dash.loop, &o, NULL, NULL, &r) < 0)
      return;
    wire_http_client_req_on_error(r, dash_on_load_error);
    wire_http_client_req_on_close(r, dash_on_load_close);
    wire_http_client_req_end(r, NULL, 0);
    dash.inflight++;
  }
}

/* The WebSocket server on /updates and the update timer. */
static int dash_start(wire_loop_t *loop, wire_http_server_t *http)
{
  wire_ws_server_opts_t o = WIRE_WS_SERVER_OPTS_INIT;
  o.path = "/updates";
  dash.loop = loop;
  dash.http = http;
  int err = wire_ws_server_create(loop, &o, &dash.ws);
  if (err < 0)
    return err;
  err = wire_ws_server_attach(dash.ws, http);
  if (err == 0)
    err = wire_timer_create(loop, &dash.tick);
  if (err < 0) {
    wire_ws_server_close(dash.ws, NULL);
    dash.ws = NULL;
    return err;
  }
  wire_timer_start(dash.tick, DASH_TICK_MS, DASH_TICK_MS, dash_on_tick);
  return 0;
}

/* Once the port is known: the self-requests that move the agent counts. */
static void dash_listening(int port)
{
  if (dash.ws == NULL || dash.load != NULL)
    return;
  wire_agent_opts_t ao = WIRE_AGENT_OPTS_INIT;
  ao.max_sockets = DASH_AGENT_SOCKETS;
  if (wire_agent_create(dash.loop, &ao, &dash.agent) < 0) {
    dash.agent = NULL;
    return;
  }
  if (wire_timer_create(dash.loop, &dash.load) < 0) {
    dash.load = NULL;
    return;
  }
  dash.port = port;
  wire_timer_start(dash.load, DASH_LOAD_MS, DASH_LOAD_MS, dash_on_load);
}

/* The seed's HTTP server: "Hello World\n" as text/plain to every
 * request but GET / (the dashboard): /hello, for one. */
static void on_http_request(wire_http_server_t *srv, wire_http_req_t *req,
                            wire_http_res_t *res, void *d)
{
  (void)srv, (void)d;
  if (dash_request(req, res))
    return;
  wire_http_res_set_header(res, "Content-Type", "text/plain");
  wire_http_res_write_head(res, 200, NULL);
  wire_http_res_end(res, "Hello World\n", 12);
}

static void on_http_listening(wire_http_server_t *srv, void *d)
{
  (void)d;
  wire_addr_t a;
  if (wire_http_server_address(srv, &a) < 0)
    return;
  printf("listening on http://%s:%d/\n", a.address, a.port);
  printf("  try: curl http://%s:%d/hello\n", a.address, a.port);
  if (dash.ws != NULL)
    printf("  dashboard: http://%s:%d/ (live over ws://%s:%d/updates)\n",
           a.address, a.port, a.address, a.port);
  fflush(stdout);
  dash_listening(a.port);
}

static void on_http_listen(wire_http_server_t *srv, int status, void *d)
{
  (void)d;
  if (status < 0) {
    /* The other servers go on. */
    fprintf(stderr, "wire demo: http: %s\n", wire_strerror(status));
    wire_http_server_close(srv, NULL);
  }
}

static int start_http(wire_loop_t *loop, int port)
{
  wire_http_server_t *http;
  if (wire_http_server_create(loop, NULL, on_http_request, &http) < 0)
    return -1;
  wire_http_server_on_listening(http, on_http_listening);
  int err = dash_start(loop, http);
  if (err < 0) /* the seed's server goes on without it */
    fprintf(stderr, "wire demo: dashboard: %s\n", wire_strerror(err));
  return wire_http_server_listen(http, "127.0.0.1", port, on_http_listen);
}

static int start_udp(wire_loop_t *loop, int port)
{
  wire_udp_t *udp;
  if (wire_udp_create(loop, NULL, &udp) < 0)
    return -1;
  wire_udp_on_message(udp, on_udp_message);
  wire_udp_on_listening(udp, on_udp_listening);
  wire_udp_on_error(udp, on_udp_error);
  return wire_udp_bind(udp, port, NULL, NULL);
}

/* ---- TLS on 8000 and HTTPS on 8443 ------------------------------------- */

/* Certificates live in the state directory: ca, server (localhost,
 * 127.0.0.1, ::1) and client, made with wire's certgen on first run and
 * loaded afterwards, so clients can keep trusting the same ca.crt. */
typedef struct {
  char dir[4096];
  char path[3][4200]; /* ca, server, client prefixes */
  wire_cert_t ca, server, client;
} demo_keys_t;

static int mkdirs(const char *path)
{
  char p[4096];
  snprintf(p, sizeof(p), "%s", path);
  for (char *s = p + 1; *s != '\0'; s++) {
    if (*s != '/')
      continue;
    *s = '\0';
    if (mkdir(p, 0700) < 0 && errno != EEXIST)
      return -errno;
    *s = '/';
  }
  if (mkdir(p, 0700) < 0 && errno != EEXIST)
    return -errno;
  return 0;
}

static int demo_keys(demo_keys_t *k, const char *state_dir)
{
  if (state_dir != NULL) {
    snprintf(k->dir, sizeof(k->dir), "%s", state_dir);
  } else {
    const char *xdg = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    if (xdg != NULL && xdg[0] == '/')
      snprintf(k->dir, sizeof(k->dir), "%s/wire", xdg);
    else
      snprintf(k->dir, sizeof(k->dir), "%s/.local/state/wire",
               home != NULL ? home : ".");
  }
  static const char *const names[3] = {"ca", "server", "client"};
  for (int i = 0; i < 3; i++)
    snprintf(k->path[i], sizeof(k->path[i]), "%s/%s", k->dir, names[i]);
  if (wire_cert_load(k->path[0], &k->ca) == 0 &&
      wire_cert_load(k->path[1], &k->server) == 0 &&
      wire_cert_load(k->path[2], &k->client) == 0)
    return 0;
  wire_cert_free(&k->ca);
  wire_cert_free(&k->server);
  wire_cert_free(&k->client);
  int err = mkdirs(k->dir);
  if (err < 0)
    return err;
  static const char *const sans[] = {"localhost", "127.0.0.1", "::1"};
  wire_cert_opts_t o = WIRE_CERT_OPTS_INIT;
  o.kind = WIRE_CERT_CA;
  o.cn = "wire demo CA";
  err = wire_cert_make_ca(&o, &k->ca);
  if (err == 0) {
    o.kind = WIRE_CERT_SERVER;
    o.cn = NULL;
    o.sans = sans;
    o.nsans = 3;
    err = wire_cert_make_signed(&o, &k->ca, &k->server);
  }
  if (err == 0) {
    o.kind = WIRE_CERT_CLIENT;
    o.cn = "wire demo client";
    o.sans = NULL;
    o.nsans = 0;
    err = wire_cert_make_signed(&o, &k->ca, &k->client);
  }
  for (int i = 0; i < 3 && err == 0; i++)
    err = wire_cert_save(i == 0 ? &k->ca : i == 1 ? &k->server : &k->client,
                         k->path[i]);
  if (err == 0)
    printf("made a CA and server/client certificates in %s\n", k->dir);
  return err;
}

/* The seed's TLS server: requestCert with the CA; prints whether the
 * client's certificate verified, welcomes and echoes. Unlike Node's
 * default, a client without a certificate is let in (and printed as
 * unauthorized), so that plain `openssl s_client` can try it. */
static void on_tls_secure(wire_tls_server_t *srv, wire_socket_t *s, void *d)
{
  (void)srv, (void)d;
  printf("server connected %s\n",
         wire_tls_authorized(s) ? "authorized" : "unauthorized");
  fflush(stdout);
  wire_socket_write(s, "welcome!\n", 9);
  wire_pipe(s, s);
}

static void on_tls_listening(wire_tls_server_t *srv, void *d)
{
  const demo_keys_t *k = d;
  wire_addr_t a;
  if (wire_tls_server_address(srv, &a) < 0)
    return;
  printf("listening on tls://%s:%d\n", a.address, a.port);
  printf("  try: openssl s_client -connect %s:%d -CAfile %s.crt -cert "
         "%s.crt -key %s.key\n",
         a.address, a.port, k->path[0], k->path[2], k->path[2]);
  fflush(stdout);
}

static void on_tls_listen(wire_tls_server_t *srv, int status, void *d)
{
  (void)d;
  if (status < 0) {
    fprintf(stderr, "wire demo: tls: %s\n", wire_strerror(status));
    wire_tls_server_close(srv, NULL);
  }
}

/* The seed's HTTPS server: "hello world\n". */
static void on_https_request(wire_http_server_t *srv, wire_http_req_t *req,
                             wire_http_res_t *res, void *d)
{
  (void)srv, (void)req, (void)d;
  wire_http_res_write_head(res, 200, NULL);
  wire_http_res_end(res, "hello world\n", 12);
}

static void on_https_listening(wire_https_server_t *srv, void *d)
{
  const demo_keys_t *k = d;
  wire_addr_t a;
  if (wire_https_server_address(srv, &a) < 0)
    return;
  printf("listening on https://%s:%d/\n", a.address, a.port);
  printf("  try: curl --cacert %s.crt https://localhost:%d/\n", k->path[0],
         a.port);
  fflush(stdout);
}

static void on_https_listen(wire_https_server_t *srv, int status, void *d)
{
  (void)d;
  if (status < 0) {
    fprintf(stderr, "wire demo: https: %s\n", wire_strerror(status));
    wire_https_server_close(srv, NULL);
  }
}

/* Starts TLS on tls_port and HTTPS on https_port (0 picks a port). A
 * failure is printed and the other servers go on; only out of memory
 * fails the demo. */
static int start_secure(wire_loop_t *loop, const char *state_dir,
                        int tls_port, int https_port)
{
  static demo_keys_t k;
  int err = demo_keys(&k, state_dir);
  if (err < 0) {
    fprintf(stderr, "wire demo: certificates in %s: %s %s\n", k.dir,
            wire_strerror(err), err == WIRE_ETLS ? wire_tls_errstr() : "");
    return 0;
  }
  wire_tls_ctx_opts_t co = WIRE_TLS_CTX_OPTS_INIT;
  co.key_pem = k.server.key_pem;
  co.cert_pem = k.server.cert_pem;
  co.ca_pem = k.ca.cert_pem;
  wire_tls_ctx_t *ctx;
  err = wire_tls_ctx_new(&co, &ctx);
  if (err < 0) {
    fprintf(stderr, "wire demo: tls: %s\n", wire_tls_errstr());
    return 0;
  }
  wire_tls_server_opts_t to = WIRE_TLS_SERVER_OPTS_INIT;
  to.ctx = ctx;
  to.request_cert = 1;
  to.reject_unauthorized = 0;
  wire_tls_server_t *tls;
  err = wire_tls_server_create(loop, &to, on_tls_secure, &tls);
  if (err == 0) {
    wire_tls_server_set_data(tls, &k);
    wire_tls_server_on_listening(tls, on_tls_listening);
    if (wire_tls_server_listen(tls, "127.0.0.1", tls_port, on_tls_listen) < 0)
      wire_tls_server_close(tls, NULL);
  }
  wire_https_server_opts_t ho = WIRE_HTTPS_SERVER_OPTS_INIT;
  ho.tls.ctx = ctx;
  wire_https_server_t *https;
  int err2 = wire_https_server_create(loop, &ho, on_https_request, &https);
  wire_tls_ctx_free(ctx);
  if (err2 == 0) {
    wire_https_server_set_data(https, &k);
    wire_https_server_on_listening(https, on_https_listening);
    if (wire_https_server_listen(https, "127.0.0.1", https_port,
                                 on_https_listen) < 0)
      wire_https_server_close(https, NULL);
  }
  return err < 0 ? err : err2;
}

int cmd_demo(int argc, char **argv)
{
  int tcp_port = 8124;
  int udp_port = 41234;
  int http_port = 1337;
  int tls_port = 8000;
  int https_port = 8443;
  const char *state_dir = NULL; /* $XDG_STATE_HOME/wire, ~/.local/state/wire */
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--tcp-port") == 0 && i + 1 < argc)
      tcp_port = atoi(argv[++i]);
    else if (strcmp(argv[i], "--udp-port") == 0 && i + 1 < argc)
      udp_port = atoi(argv[++i]);
    else if (strcmp(argv[i], "--http-port") == 0 && i + 1 < argc)
      http_port = atoi(argv[++i]);
    else if (strcmp(argv[i], "--tls-port") == 0 && i + 1 < argc)
      tls_port = atoi(argv[++i]);
    else if (strcmp(argv[i], "--https-port") == 0 && i + 1 < argc)
      https_port = atoi(argv[++i]);
    else if (strcmp(argv[i], "--state-dir") == 0 && i + 1 < argc)
      state_dir = argv[++i];
  }
  wire_loop_t *loop = wire_loop_default();
  wire_server_t *tcp;
  if (wire_server_create(loop, NULL, on_connection, &tcp) < 0)
    return 1;
  wire_server_on_listening(tcp, on_listening);
  wire_server_on_error(tcp, on_error);
  if (wire_server_listen(tcp, NULL, tcp_port, NULL) < 0)
    return 1;
  if (start_udp(loop, udp_port) < 0)
    return 1;
  if (start_http(loop, http_port) < 0)
    return 1;
  if (start_secure(loop, state_dir, tls_port, https_port) < 0)
    return 1;
  wire_loop_run(loop, WIRE_RUN_DEFAULT);
  return wire_loop_close(loop) == 0 ? 0 : 1;
}
