/* wire tcp [-l] HOST PORT: placeholder until the stdin bridge lands. */
#include <stdio.h>

#include "cli.h"

int cmd_tcp(int argc, char **argv)
{
  (void)argc, (void)argv;
  fprintf(stderr, "wire tcp: not built yet\n");
  return 2;
}
