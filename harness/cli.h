/* cli.h — the `posbench` command line: one flag table per subcommand, parsed
 * the same way everywhere, so `posbench CMD --help` always lists every flag
 * with its default. Bad usage -> one line naming the flag, exit 2 (docs/DEFINITIONS.md, Command line).
 */
#ifndef POSBENCH_CLI_H
#define POSBENCH_CLI_H

typedef struct Flag {
    const char *name;    /* "--heads" */
    const char *arg;     /* metavariable ("N", "FILE") or NULL for a boolean switch */
    const char *def;     /* default shown in --help and used when absent (NULL = none) */
    const char *help;    /* one line */
    const char *value;   /* filled by flags_parse: the given value, else def; "1" for a set switch */
    int set;             /* given on the command line */
} Flag;

typedef struct Command {
    const char *name;
    const char *args;    /* positional synopsis, e.g. "METHOD" or "" */
    const char *summary;
    int (*run)(int argc, char **argv);   /* argv[0] is the command name */
} Command;

/* Parse argv[1..] against flags. Positionals are returned in pos[] (at most max_pos,
 * more is a usage error). `--help`/`-h` prints usage and exits 0. Unknown flag,
 * missing value or too many positionals: die_input naming it. Returns positional count. */
int flags_parse(Flag *flags, int n_flags, int argc, char **argv, const Command *cmd, const char **pos, int max_pos);
void flags_usage(const Flag *flags, int n_flags, const Command *cmd);
const Flag *flag_get(const Flag *flags, int n_flags, const char *name);
/* Typed getters; die_input("--name: ...") on a bad value. */
long flag_int(const Flag *flags, int n_flags, const char *name, long lo, long hi);
double flag_float(const Flag *flags, int n_flags, const char *name, double lo, double hi);
const char *flag_str(const Flag *flags, int n_flags, const char *name);   /* NULL if no value */
int flag_on(const Flag *flags, int n_flags, const char *name);            /* switch given */
#define NFLAGS(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Subcommands: the front ends under harness/ (flag table, checks, one call into the work). */
int cmd_methods(int argc, char **argv);   /* harness/cmd_methods.c: list the methods */
int cmd_inspect(int argc, char **argv);   /* harness/cmd_methods.c: a method's position tensors as CSV */
int cmd_info(int argc, char **argv);      /* harness/cmd_info.c: describe a checkpoint */
int cmd_data(int argc, char **argv);      /* harness/cmd_data.c: list, fetch, prepare, describe corpora */
int cmd_train(int argc, char **argv);     /* harness/train.c: one model (train_run) */
int cmd_probe(int argc, char **argv);     /* harness/cmd_probe.c: copy and passkey probes of a checkpoint */
int cmd_eval(int argc, char **argv);      /* harness/eval.c: a checkpoint over a list of lengths */
int cmd_sweep(int argc, char **argv);     /* harness/sweep.c: every method, length and seed, then plot */
int cmd_unit(int argc, char **argv);      /* harness/unit.c: one unit of a planned sweep */
int cmd_merge(int argc, char **argv);     /* harness/merge.c: gather a planned sweep's units */
int cmd_plot(int argc, char **argv);      /* harness/cmd_plot.c: figures and report (plots/) */
int cmd_bench(int argc, char **argv);     /* harness/bench.c: speed and memory (bench.h lists its parts) */

extern const Command posbench_commands[];
extern const int posbench_command_count;

#endif
