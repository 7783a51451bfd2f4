/* cmd_plot.c — `posbench plot RUN_DIR [--format png,pdf|none] [--scripts DIR] [--quiet]`:
 * the command line of plots/plot.h.
 */
#include <stdio.h>
#include <string.h>
#include "../common/util.h"
#include "../plots/plot.h"
#include "cli.h"

static Flag plot_flags[] = {
    {"--format", "LIST", "png,pdf", "figure formats, comma-separated: png (reading), pdf (papers); 'none' writes only report.md",
     NULL, 0},
    {"--scripts", "DIR", NULL, "folder of the gnuplot scripts (default: $POSBENCH_HOME/plots, else plots/ beside the binary)",
     NULL, 0},
    {"--quiet", NULL, NULL, "no notes about missing methods, no summary line", NULL, 0},
};

int cmd_plot(int argc, char **argv) {
    static const Command fallback = {"plot", "RUN_DIR", "render a run folder's figures and report", cmd_plot};
    const Command *cmd = &fallback;
    for (int i = 0; i < posbench_command_count; i++)
        if (!strcmp(posbench_commands[i].name, "plot")) cmd = &posbench_commands[i];
    const char *pos[1];
    int npos = flags_parse(plot_flags, NFLAGS(plot_flags), argc, argv, cmd, pos, 1);
    if (npos < 1) die_input("plot: RUN_DIR is required (usage: posbench plot RUN_DIR)");
    PlotOptions opt = {0, flag_str(plot_flags, NFLAGS(plot_flags), "--scripts"),
                       flag_on(plot_flags, NFLAGS(plot_flags), "--quiet")};
    const char *fmt = flag_str(plot_flags, NFLAGS(plot_flags), "--format");
    char buf[256];
    snprintf(buf, sizeof buf, "%s", fmt ? fmt : "");
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (!strcmp(tok, "png")) opt.formats |= PLOT_PNG;
        else if (!strcmp(tok, "pdf")) opt.formats |= PLOT_PDF;
        else if (strcmp(tok, "none") != 0) die_input("--format: '%s' is not png, pdf or none", tok);
    }
    char err[ERRLEN];
    int rc = plot_run_opts(pos[0], &opt, err, sizeof err);
    if (rc) fprintf(stderr, "posbench: %s\n", err);
    return rc;
}
