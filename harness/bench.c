/* bench.c — placeholder until the bench lands (issue 6). */
#include <stdio.h>
#include "cli.h"
int cmd_bench(int argc, char **argv) {
    (void)argc; (void)argv;
    fprintf(stderr, "posbench bench: not implemented yet\n");
    return 1;
}
