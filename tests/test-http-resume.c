/* A request paused in its request callback and resumed later still
 * completes: the parser stopped right after the head, so resuming must run
 * it again even with no bytes left (a GET has no body to push it on). */
#include <criterion/criterion.h>
#include <string.h>
#include <wire.h>

static wire_http_req_t *paused_req;
static int ended, resumed_inside;
static char got[512];
static size_t got_len;
static wire_socket_t *cli;

static void on_end(wire_http_req_t *req, void *data)
{
  (void)data;
  ended++;
  wire_http_res_t *res = wire_http_req_data(req);
  wire_http_res_end(res, "done", 4);
}

static void on_timer(wire_timer_t *t, void *data)
{
  (void)data;
  wire_timer_close(t, NULL);
  wire_http_req_resume(paused_req);
}

static void on_request(wire_http_server_t *srv, wire_http_req_t *req,
                       wire_http_res_t *res, void *data)
{
  (void)data;
  wire_http_req_set_data(req, res);
  wire_http_req_on_end(req, on_end);
  wire_http_req_pause(req);
  if (resumed_inside) {
    wire_http_req_resume(req);
    return;
  }
  paused_req = req;
  wire_timer_t *t;
  cr_assert_eq(wire_timer_create(wire_http_server_loop(srv), &t), 0);
  wire_timer_start(t, 20, 0, on_timer);
}

static void on_data(wire_socket_t *s, const char *buf, size_t len, void *d)
{
  (void)s, (void)d;
  if (got_len + len < sizeof(got)) {
    memcpy(got + got_len, buf, len);
    got_len += len;
  }
}

static void run(void)
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
  cr_assert_eq(wire_socket_connect(loop, &o, NULL, NULL, &cli), 0);
  wire_socket_on_data(cli, on_data);
  static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n"
                            "Connection: close\r\n\r\n";
  wire_socket_write(cli, req, sizeof(req) - 1);
  while (strstr(got, "done") == NULL)
    cr_assert_eq(wire_loop_run(loop, WIRE_RUN_ONCE) != 0 || ended, 1,
                 "loop ran dry before the response");
  cr_assert_eq(ended, 1);
  cr_assert(strstr(got, "HTTP/1.1 200 OK\r\n") == got);
  wire_http_server_close(srv, NULL);
  wire_socket_close(cli, NULL);
  wire_loop_run(loop, WIRE_RUN_DEFAULT);
  cr_assert_eq(wire_loop_close(loop), 0);
}

Test(http_resume, bodiless_request_resumed_later_completes, .timeout = 10)
{
  run();
}

Test(http_resume, resumed_inside_its_callback_keeps_reading, .timeout = 10)
{
  resumed_inside = 1;
  run();
}
