/* wire_http_res_close (Node's res.destroy()) and backpressure for a
 * response that waits for its turn behind an earlier pipelined one. */
#include <criterion/criterion.h>
#include <string.h>
#include <wire.h>

static char got[256 * 1024];
static size_t got_len;
static int closed;

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
  closed = 1;
}

static wire_socket_t *client(wire_loop_t *loop, wire_http_server_t *srv,
                             const char *reqs)
{
  wire_addr_t a;
  cr_assert_eq(wire_http_server_address(srv, &a), 0);
  wire_connect_opts_t o = WIRE_CONNECT_OPTS_INIT;
  o.host = "127.0.0.1";
  o.port = a.port;
  wire_socket_t *cli;
  cr_assert_eq(wire_socket_connect(loop, &o, NULL, NULL, &cli), 0);
  wire_socket_on_data(cli, on_data);
  wire_socket_on_close(cli, on_close);
  wire_socket_write(cli, reqs, strlen(reqs));
  return cli;
}

static void cut_short(wire_http_server_t *srv, wire_http_req_t *req,
                      wire_http_res_t *res, void *data)
{
  (void)srv, (void)req, (void)data;
  wire_http_res_set_header(res, "Content-Length", "100");
  cr_assert_eq(wire_http_res_write(res, "0123456789", 10), 1);
  wire_http_res_close(res);
}

Test(http_res, close_cuts_the_body_and_the_connection, .timeout = 10)
{
  wire_loop_t *loop;
  cr_assert_eq(wire_loop_create(&loop), 0);
  wire_http_server_t *srv;
  cr_assert_eq(wire_http_server_create(loop, NULL, cut_short, &srv), 0);
  cr_assert_eq(wire_http_server_listen(srv, "127.0.0.1", 0, NULL), 0);
  client(loop, srv, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  while (!closed)
    wire_loop_run(loop, WIRE_RUN_ONCE);
  got[got_len] = '\0';
  cr_assert(strstr(got, "Content-Length: 100\r\n") != NULL, "%s", got);
  const char *body = strstr(got, "\r\n\r\n");
  cr_assert(body != NULL);
  cr_assert_str_eq(body + 4, "0123456789"); /* short, then the close */
  wire_http_server_close(srv, NULL);
  wire_loop_run(loop, WIRE_RUN_DEFAULT);
  cr_assert_eq(wire_loop_close(loop), 0);
}

/* /1 answers late; /2 writes 96 KiB while it waits its turn. */
static wire_http_res_t *first;
static wire_http_res_t *second;
static int second_saw_zero, second_drains;
static size_t second_sent;
static char chunk[8192];

static void fill_second(void)
{
  while (second_sent < 96 * 1024) {
    int r = wire_http_res_write(second, chunk, sizeof(chunk));
    cr_assert_geq(r, 0);
    second_sent += sizeof(chunk);
    if (r == 0) {
      second_saw_zero = 1;
      return; /* wait for drain */
    }
  }
  wire_http_res_end(second, NULL, 0);
}

static void on_second_drain(wire_http_res_t *res, void *data)
{
  (void)res, (void)data;
  second_drains++;
  fill_second();
}

static void end_first(wire_timer_t *t, void *data)
{
  (void)data;
  wire_timer_close(t, NULL);
  /* While /1 waited, /2 held back after about 16 KiB. */
  cr_assert_eq(second_saw_zero, 1);
  cr_assert_lt(second_sent, 32 * 1024);
  wire_http_res_end(first, "one", 3);
}

static void pipelined(wire_http_server_t *srv, wire_http_req_t *req,
                      wire_http_res_t *res, void *data)
{
  (void)data;
  if (strcmp(wire_http_req_url(req), "/1") == 0) {
    first = res;
    wire_timer_t *t;
    cr_assert_eq(wire_timer_create(wire_http_server_loop(srv), &t), 0);
    wire_timer_start(t, 50, 0, end_first);
    return;
  }
  second = res;
  memset(chunk, 'b', sizeof(chunk));
  wire_http_res_on_drain(res, on_second_drain);
  wire_http_res_set_header(res, "Content-Length", "98304");
  fill_second();
}

Test(http_res, queued_response_gets_backpressure_and_drain, .timeout = 10)
{
  wire_loop_t *loop;
  cr_assert_eq(wire_loop_create(&loop), 0);
  wire_http_server_t *srv;
  cr_assert_eq(wire_http_server_create(loop, NULL, pipelined, &srv), 0);
  cr_assert_eq(wire_http_server_listen(srv, "127.0.0.1", 0, NULL), 0);
  client(loop, srv,
         "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"
         "GET /2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  while (!closed)
    wire_loop_run(loop, WIRE_RUN_ONCE);
  cr_assert_geq(second_drains, 1);
  cr_assert_eq(second_sent, 96 * 1024);
  const char *one = strstr(got, "\r\n\r\none");
  const char *two = strstr(got, "Content-Length: 98304\r\n");
  cr_assert(one != NULL && two != NULL && one < two);
  const char *body = strstr(two, "\r\n\r\n") + 4;
  cr_assert_eq((size_t)(got + got_len - body), (size_t)96 * 1024);
  wire_http_server_close(srv, NULL);
  wire_loop_run(loop, WIRE_RUN_DEFAULT);
  cr_assert_eq(wire_loop_close(loop), 0);
}
