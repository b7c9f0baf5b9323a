/* The subcommands of the wire tool. Each takes argv starting at its own
 * name and returns the process exit code. */
#ifndef WIRE_CLI_H
#define WIRE_CLI_H

#include <wire.h>

int cmd_demo(int argc, char **argv);
int cmd_tcp(int argc, char **argv);
int cmd_udp(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_cert(int argc, char **argv);
int cmd_ws(int argc, char **argv);

/* Writes all of p to fd, waiting in poll() while it is full: stdout may
 * share a non-blocking open file with stdin (a terminal, a socket) that a
 * wire socket wraps. Returns 0 or a negative errno. */
int cli_write_all(int fd, const char *p, size_t len);

/* Prints "listening on SCHEME://HOST:PORT" for srv (brackets for IPv6). */
void cli_print_listening(const char *scheme, wire_server_t *srv);

#endif
