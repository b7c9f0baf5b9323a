/* A socket piped into itself echoes (the seed's TLS server does
 * stream.pipe(stream)), with backpressure: 8 MiB written by a client that
 * reads slowly comes back whole and in order, and the peer's end ends it. */
#include <criterion/criterion.h>
#include <string.h>
#include <wire.h>

#define TOTAL (8u * 1024 * 1024)

static size_t got;
static int mismatch, ended, closed;
static wire_socket_t *cli;
static size_t sent;

static void on_conn(wire_server_t *srv, wire_socket_t *s, void *d)
{
  (void)srv, (void)d;
  cr_assert_eq(wire_pipe(s, s), 0);
}

static unsigned char pattern(size_t i)
{
  return (unsigned char)(i * 131 + (i >> 12));
}

static void on_data(wire_socket_t *s, const char *buf, size_t len, void *d)
{
  (void)s, (void)d;
  for (size_t i = 0; i < len; i++)
    mismatch |= (unsigned char)buf[i] != pattern(got + i);
  got += len;
}

static void on_end(wire_socket_t *s, void *d)
{
  (void)s, (void)d;
  ended = 1;
}

static void on_close(wire_socket_t *s, int had_error, void *d)
{
  (void)s, (void)d;
  cr_assert_eq(had_error, 0);
  closed = 1;
}

static void pump(wire_socket_t *s, void *d)
{
  (void)d;
  static char buf[65536];
  while (sent < TOTAL) {
    for (size_t i = 0; i < sizeof(buf); i++)
      buf[i] = (char)pattern(sent + i);
    int r = wire_socket_write(s, buf, sizeof(buf));
    cr_assert_geq(r, 0);
    sent += sizeof(buf);
    if (r == 0)
      return; /* the drain event calls again */
  }
  wire_socket_end(s);
}

static void on_connect(wire_socket_t *s, int status, void *arg)
{
  (void)arg;
  cr_assert_eq(status, 0);
  pump(s, NULL);
}

Test(stream_pipe, a_socket_piped_into_itself_echoes, .timeout = 30)
{
  wire_loop_t *loop;
  cr_assert_eq(wire_loop_create(&loop), 0);
  wire_server_t *srv;
  cr_assert_eq(wire_server_create(loop, NULL, on_conn, &srv), 0);
  cr_assert_eq(wire_server_listen(srv, "127.0.0.1", 0, NULL), 0);
  wire_addr_t a;
  cr_assert_eq(wire_server_address(srv, &a), 0);
  wire_connect_opts_t o = WIRE_CONNECT_OPTS_INIT;
  o.host = "127.0.0.1";
  o.port = a.port;
  cr_assert_eq(wire_socket_connect(loop, &o, on_connect, NULL, &cli), 0);
  wire_socket_on_data(cli, on_data);
  wire_socket_on_end(cli, on_end);
  wire_socket_on_drain(cli, pump);
  wire_socket_on_close(cli, on_close);
  while (!closed)
    wire_loop_run(loop, WIRE_RUN_ONCE);
  cr_assert_eq(got, TOTAL);
  cr_assert_eq(mismatch, 0);
  cr_assert_eq(ended, 1);
  wire_server_close(srv, NULL);
  wire_loop_run(loop, WIRE_RUN_DEFAULT);
  cr_assert_eq(wire_loop_close(loop), 0);
}
