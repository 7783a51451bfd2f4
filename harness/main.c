/* main.c — `posbench`: dispatch to the subcommands of cli.h. */
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "../model/util.h"

const Command posbench_commands[] = {
    {"methods", "", "list position methods: name, hooks, parameter count, description", cmd_methods},
    {"inspect", "METHOD", "print a method's position tensors as CSV", cmd_inspect},
    {"info", "CKPT", "describe a checkpoint: config, tensors, training state", cmd_info},
    {"data", "list|get|prepare|describe [NAME|PATH]", "fetch, prepare and describe corpora", cmd_data},
    {"train", "", "train one model with one position method", cmd_train},
    {"eval", "", "evaluate a checkpoint over a list of lengths", cmd_eval},
    {"sweep", "", "train every method at L, evaluate every length, plot and report", cmd_sweep},
    {"plot", "RUN_DIR", "render a run folder's figures and report", cmd_plot},
    {"bench", "", "measure speed and memory (sgemm peak, training, evaluation, threads)", cmd_bench},
};
const int posbench_command_count = (int)(sizeof posbench_commands / sizeof posbench_commands[0]);

static void usage(FILE *out) {
    fprintf(out, "usage: posbench COMMAND [flags]   (posbench COMMAND --help for its flags)\n\ncommands:\n");
    for (int i = 0; i < posbench_command_count; i++)
        fprintf(out, "  %-8s %-40s %s\n", posbench_commands[i].name, posbench_commands[i].args,
                posbench_commands[i].summary);
}

int main(int argc, char **argv) {
    if (argc < 2) { usage(stderr); return 2; }
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
    for (int i = 0; i < posbench_command_count; i++)
        if (!strcmp(argv[1], posbench_commands[i].name)) return posbench_commands[i].run(argc - 1, argv + 1);
    die_input("unknown command '%s' (see posbench help)", argv[1]);
}
