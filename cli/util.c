/* Helpers shared by the subcommands. */
#include <stdio.h>

#include "cli.h"

void cli_print_listening(const char *scheme, wire_server_t *srv)
{
  wire_addr_t a;
  if (wire_server_address(srv, &a) < 0)
    return;
  if (a.family == 0)
    printf("listening on %s+unix://%s\n", scheme, a.address);
  else if (a.family == 6)
    printf("listening on %s://[%s]:%d\n", scheme, a.address, a.port);
  else
    printf("listening on %s://%s:%d\n", scheme, a.address, a.port);
  fflush(stdout);
}
