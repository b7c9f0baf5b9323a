/* wire: the command-line tool. One subcommand per cmd-<verb>.c. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
  const char *name;
  int (*fn)(int argc, char **argv);
  const char *help;
} cmds[] = {
  {"demo", cmd_demo, "run the seed's servers (TCP 8124, ...)"},
  {"tcp", cmd_tcp, "[-l] HOST PORT: netcat-like TCP client or listener"},
  {"udp", cmd_udp, "[-l] HOST PORT: netcat-like UDP, one datagram per line"},
  {"serve", cmd_serve, "[DIR] [--host H] [--port N] [--echo]: static files"},
  {"get", cmd_get, "URL [-X M] [-H 'K: V'] [-d DATA] [-o F] [-i] [-v]: HTTP"},
  {"ws", cmd_ws, "URL [-p PROTO] [-H 'K: V'] [--deflate]: WebSocket client"},
  {"cert", cmd_cert, "ca|server|client --out P: a CA and certificates"},
};

static void usage(FILE *f)
{
  fprintf(f, "usage: wire <command> [args]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
    fprintf(f, "  %-6s %s\n", cmds[i].name, cmds[i].help);
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("wire %s\n", WIRE_VERSION_STRING);
    return 0;
  }
  for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
    if (strcmp(argv[1], cmds[i].name) == 0)
      return cmds[i].fn(argc - 1, argv + 1);
  }
  fprintf(stderr, "wire: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return 2;
}
