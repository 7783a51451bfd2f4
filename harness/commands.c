/* commands.c — the table of subcommands (cli.h); in the library so tests and
 * usage texts can list them. */
#include "cli.h"

const Command posbench_commands[] = {
    {"methods", "", "list position methods: name, hooks, parameter count, description", cmd_methods},
    {"inspect", "METHOD", "print a method's position tensors as CSV", cmd_inspect},
    {"info", "CKPT", "describe a checkpoint: config, tensors, training state", cmd_info},
    {"data", "list|get|prepare|describe [NAME|PATH]", "fetch, prepare and describe corpora", cmd_data},
    {"train", "", "train one model with one position method", cmd_train},
    {"eval", "", "evaluate a checkpoint over a list of lengths", cmd_eval},
    {"probe", "copy|passkey", "retrieval probes of a checkpoint: copy a string, recall a pass key, D tokens later", cmd_probe},
    {"sweep", "", "train every method at L, evaluate every length, plot and report", cmd_sweep},
    {"unit", "RUN ID", "run one unit of a planned sweep (train, then its evaluations)", cmd_unit},
    {"merge", "RUN", "gather a planned sweep's finished units into the run files, figures and report", cmd_merge},
    {"plot", "RUN_DIR", "render a run folder's figures and report", cmd_plot},
    {"bench", "", "measure speed and memory (sgemm peak, training, evaluation, threads)", cmd_bench},
};
const int posbench_command_count = (int)(sizeof posbench_commands / sizeof posbench_commands[0]);

