/* A pipelined request that says Connection: close must not close the
 * connection before the responses queued ahead of it went out: with the
 * first handler answering late (after the last request was parsed), all
 * three responses arrive, in order, and only the last says close. */
#include <criterion/criterion.h>
#include <string.h>
#include <wire.h>

static char got[4096];
static size_t got_len;
static int peer_closed;
static wire_http_res_t *late;

static void on_timer(wire_timer_t *t, void *data)
{
  (void)data;
  wire_timer_close(t, NULL);
  wire_http_res_end(late, "first", 5);
}

static void on_request(wire_http_server_t *srv, wire_http_req_t *req,
                       wire_http_res_t *res, void *data)
{
  (void)data;
  const char *url = wire_http_req_url(req);
  if (strcmp(url, "/1") == 0) {
    late = res; /* answered after /2 and /3 were parsed */
    wire_timer_t *t;
    cr_assert_eq(wire_timer_create(wire_http_server_loop(srv), &t), 0);
    wire_timer_start(t, 30, 0, on_timer);
    return;
  }
  wire_http_res_end(res, url + 1, 1);
}

static void on_data(wire_socket_t *s, const char *buf, size_t len, void *d)
{
  (void)s, (void)d;
  cr_assert_lt(got_len + len, sizeof(got));
  memcpy(got + got_len, buf, len);
  got_len += len;
}

static void on_close(wire_socket_t *s, int had_error, void *d)
{
  (void)s, (void)had_error, (void)d;
  peer_closed = 1;
}

Test(http_pipeline, close_request_waits_for_earlier_responses, .timeout = 10)
{
  wire_loop_t *loop;
  cr_assert_eq(wire_loop_create(&loop), 0);
  wire_http_server_t *srv;
  cr_assert_eq(wire_http_server_create(loop, NULL, on_request, &srv), 0);
  cr_assert_eq(wire_http_server_listen(srv, "127.0.0.1", 0, NULL), 0);
  wire_addr_t a;
  cr_assert_eq(wire_http_server_address(srv, &a), 0);
  wire_connect_opts_t o = WIRE_CONNECT_OPTS_INIT;
  o.host = "127.0.0.1";
  o.port = a.port;
  wire_socket_t *cli;
  cr_assert_eq(wire_socket_connect(loop, &o, NULL, NULL, &cli), 0);
  wire_socket_on_data(cli, on_data);
  wire_socket_on_close(cli, on_close);
  static const char reqs[] =
      "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /2 HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  wire_socket_write(cli, reqs, sizeof(reqs) - 1);
  while (!peer_closed)
    wire_loop_run(loop, WIRE_RUN_ONCE);
  got[got_len] = '\0';
  const char *p1 = strstr(got, "first");
  const char *p2 = strstr(got, "\r\n\r\n2");
  const char *p3 = strstr(got, "\r\n\r\n3");
  cr_assert(p1 != NULL && p2 != NULL && p3 != NULL, "got: %s", got);
  cr_assert(p1 < p2 && p2 < p3, "out of order: %s", got);
  /* Only the last response announces the close. */
  const char *close_hdr = strstr(got, "Connection: close");
  cr_assert(close_hdr != NULL && close_hdr > p2, "got: %s", got);
  wire_http_server_close(srv, NULL);
  wire_loop_run(loop, WIRE_RUN_DEFAULT);
  cr_assert_eq(wire_loop_close(loop), 0);
}
