/* main.c — `posbench`: dispatch to the subcommands of cli.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "runtime.h"
#include "../common/util.h"

static void usage(FILE *out) {
    fprintf(out, "usage: posbench COMMAND [flags]   (posbench COMMAND --help for its flags;"
                 " posbench --version: how it was built)\n\ncommands:\n");
    for (int i = 0; i < posbench_command_count; i++)
        fprintf(out, "  %-8s %-40s %s\n", posbench_commands[i].name, posbench_commands[i].args,
                posbench_commands[i].summary);
}

int main(int argc, char **argv) {
    runtime_prepare_env(argv);
    flush_denormals();   /* before any thread is made: they inherit it */
    if (argc < 2) { usage(stderr); return 2; }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        const char *wp = getenv("OMP_WAIT_POLICY"), *sc = getenv("GOMP_SPINCOUNT");
        printf("posbench (%s)\nBLAS at run time: %s\nOpenMP waits: OMP_WAIT_POLICY=%s, GOMP_SPINCOUNT=%s\n",
               runtime_build_info(), runtime_blas_name(), wp ? wp : "(unset)", sc ? sc : "(unset)");
        return 0;
    }
    if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        if (argc > 2) {
            for (int i = 0; i < posbench_command_count; i++)
                if (!strcmp(argv[2], posbench_commands[i].name)) {
                    char *sub[] = {argv[2], "--help", NULL};
                    return posbench_commands[i].run(2, sub);
                }
        }
        usage(stdout);
        return 0;
    }
    /* Commands that compute say once (not again in their children) when the matmul is naive. */
    static const char *computing[] = {"train", "eval", "sweep", "unit", "bench"};
    for (size_t i = 0; i < sizeof computing / sizeof computing[0]; i++)
        if (!strcmp(argv[1], computing[i])) {
            runtime_warn_naive();
            setenv("POSBENCH_NAIVE_OK", "1", 1);
        }
    for (int i = 0; i < posbench_command_count; i++)
        if (!strcmp(argv[1], posbench_commands[i].name)) return posbench_commands[i].run(argc - 1, argv + 1);
    die_input("unknown command '%s' (see posbench help)", argv[1]);
}
