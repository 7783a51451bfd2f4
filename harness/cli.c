/* cli.c — flag parsing and usage text shared by every subcommand. */
#include "cli.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../common/util.h"

void flags_usage(const Flag *flags, int n_flags, const Command *cmd) {
    printf("usage: posbench %s%s%s [flags]\n  %s\n\nflags:\n", cmd->name, cmd->args[0] ? " " : "", cmd->args,
           cmd->summary);
    for (int i = 0; i < n_flags; i++) {
        char lhs[64];
        snprintf(lhs, sizeof lhs, "%s%s%s", flags[i].name, flags[i].arg ? " " : "", flags[i].arg ? flags[i].arg : "");
        printf("  %-24s %s", lhs, flags[i].help);
        if (flags[i].def) printf(" (default: %s)", flags[i].def);
        printf("\n");
    }
    printf("  %-24s %s\n", "--help", "show this help");
}

int flags_parse(Flag *flags, int n_flags, int argc, char **argv, const Command *cmd, const char **pos, int max_pos) {
    int n_pos = 0;
    for (int i = 0; i < n_flags; i++) {
        flags[i].value = flags[i].def;
        flags[i].set = 0;
    }
    for (int a = 1; a < argc; a++) {
        const char *s = argv[a];
        if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            flags_usage(flags, n_flags, cmd);
            exit(0);
        }
        if (strncmp(s, "--", 2) != 0 || strcmp(s, "--") == 0) {
            if (n_pos >= max_pos)
                die_input("%s: unexpected argument '%s' (see posbench %s --help)", cmd->name, s, cmd->name);
            pos[n_pos++] = s;
            continue;
        }
        const char *eq = strchr(s, '=');
        size_t len = eq ? (size_t)(eq - s) : strlen(s);
        Flag *f = NULL;
        for (int i = 0; i < n_flags; i++)
            if (strlen(flags[i].name) == len && strncmp(flags[i].name, s, len) == 0) f = &flags[i];
        if (!f) die_input("%s: unknown flag '%.*s' (see posbench %s --help)", cmd->name, (int)len, s, cmd->name);
        if (!f->arg) {
            if (eq) die_input("%s takes no value", f->name);
            f->value = "1";
        } else if (eq) {
            f->value = eq + 1;
        } else {
            /* a value with a space is never a flag: --slurm-args "--partition=cpu --time=60" */
            if (a + 1 >= argc || (argv[a + 1][0] == '-' && argv[a + 1][1] == '-' && argv[a + 1][2] &&
                                   !strchr(argv[a + 1], ' ')))
                die_input("%s needs a value (%s)", f->name, f->arg);   /* "--method --preset tiny" */
            f->value = argv[++a];
        }
        f->set = 1;
    }
    return n_pos;
}

const Flag *flag_get(const Flag *flags, int n_flags, const char *name) {
    for (int i = 0; i < n_flags; i++)
        if (strcmp(flags[i].name, name) == 0) return &flags[i];
    die_internal("flag %s is not declared", name);
}

long flag_int(const Flag *flags, int n_flags, const char *name, long lo, long hi) {
    const Flag *f = flag_get(flags, n_flags, name);
    long v;
    if (!f->value) die_input("%s is required", name);
    if (parse_int(f->value, lo, hi, &v) != 0)
        die_input("%s: '%s' is not a whole number from %ld to %ld", name, f->value, lo, hi);
    return v;
}

double flag_float(const Flag *flags, int n_flags, const char *name, double lo, double hi) {
    const Flag *f = flag_get(flags, n_flags, name);
    double v;
    if (!f->value) die_input("%s is required", name);
    if (parse_float(f->value, lo, hi, &v) != 0)
        die_input("%s: '%s' is not a number from %g to %g", name, f->value, lo, hi);
    return v;
}

const char *flag_str(const Flag *flags, int n_flags, const char *name) {
    return flag_get(flags, n_flags, name)->value;
}

int flag_on(const Flag *flags, int n_flags, const char *name) {
    const Flag *f = flag_get(flags, n_flags, name);
    return f->value && strcmp(f->value, "0") != 0;
}
