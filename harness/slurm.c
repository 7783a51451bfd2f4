/* slurm.c — `sweep --executor slurm` (slurm.h).
 *
 * RUN/slurm/units.sbatch runs `posbench unit RUN $SLURM_ARRAY_TASK_ID` (the task id is the unit's
 * index in RUN/plan.tsv) with --cpus-per-task = the units' threads; RUN/slurm/merge.sbatch runs
 * `posbench merge RUN`. Both name the binary and the run folder by absolute path and work when
 * submitted by hand (their header says how). The sweep submits the array (all units, or with
 * --resume those that are missing or failed) and then the merge with
 * --dependency=afterany:<array job>, so the merge runs however the tasks ended and names the units
 * that did not finish. Task logs: RUN/slurm/unit-<array job>_<task>.out, merge-<job>.out.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../common/spawn.h"
#include "../common/util.h"
#include "runtime.h"
#include "slurm.h"

/* The absolute path of program name on PATH into buf; -1 if none. */
static int find_on_path(const char *name, char *buf, size_t n) {
    const char *path = getenv("PATH");
    char *copy = xstrdup(path && *path ? path : "/usr/bin:/bin"), *save = NULL;
    int rc = -1;
    for (char *d = strtok_r(copy, ":", &save); d && rc; d = strtok_r(NULL, ":", &save)) {
        snprintf(buf, n, "%s/%s", d, name);
        if (access(buf, X_OK) == 0) rc = 0;
    }
    free(copy);
    return rc;
}

/* Unit indexes idx[n] (ascending) as an array spec: "1-3,5". */
static void array_spec(const int *idx, int n, char *buf, size_t cap) {
    size_t len = 0;
    buf[0] = 0;
    for (int i = 0; i < n && len < cap;) {
        int j = i;
        while (j + 1 < n && idx[j + 1] == idx[j] + 1) j++;
        if (j > i) len += snprintf(buf + len, cap - len, "%s%d-%d", len ? "," : "", idx[i], idx[j]);
        else len += snprintf(buf + len, cap - len, "%s%d", len ? "," : "", idx[i]);
        i = j + 1;
    }
}

/* --slurm-args as #SBATCH lines: each option (a word starting with '-') begins a line, and the
 * words after it up to the next option stay on it ("-p debug" -> "#SBATCH -p debug"). */
static void sbatch_lines(FILE *f, const char *args) {
    if (!args) return;
    char *copy = xstrdup(args), *save = NULL;
    int open_line = 0;
    for (char *w = strtok_r(copy, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
        if (w[0] == '-' || !open_line) fprintf(f, "%s#SBATCH %s", open_line ? "\n" : "", w);
        else fprintf(f, " %s", w);
        open_line = 1;
    }
    if (open_line) fputc('\n', f);
    free(copy);
}

/* The environment a unit needs to find the same data as the plan: exported in the scripts. */
static void script_env(FILE *f) {
    static const char *const names[] = {"POSBENCH_DATA_CACHE", "POSBENCH_DATASETS", "POSBENCH_HOME"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (getenv(names[i]) && *getenv(names[i])) fprintf(f, "export %s='%s'\n", names[i], getenv(names[i]));
}

typedef struct Paths {
    char run[PATH_MAX], exe[PATH_MAX], units[PATH_MAX + 64], merge[PATH_MAX + 64];
} Paths;

/* One job script, atomically; kind "units" or "merge". */
static void write_script(const SlurmJob *j, const Paths *p, const char *path, int units) {
    char err[ERRLEN];
    AtomicFile af;
    if (atomic_open(&af, path, "w", err, sizeof err) != 0) die_input("--out: %s", err);
    FILE *f = af.fp;
    fprintf(f, "#!/bin/bash\n# Written by posbench sweep --executor slurm for the run folder %s.\n", p->run);
    if (units)
        fprintf(f, "# One array task per unit of plan.tsv (the task id is the unit's index). By hand:\n"
                   "#   sbatch %s                 (every unit; a subset: sbatch --array=2,5 ...)\n"
                   "#   sbatch --dependency=afterany:<array job id> %s\n", p->units, p->merge);
    else
        fprintf(f, "# Gathers the finished units into results.csv, meta.json, figures and report, and names any\n"
                   "# unit that did not finish with the command that reruns it. By hand: sbatch %s\n", p->merge);
    fprintf(f, "# The run folder, the posbench binary and the dataset cache must be on storage every node sees.\n");
    fprintf(f, "#SBATCH --job-name=posbench-%s\n", units ? "units" : "merge");
    if (units) fprintf(f, "#SBATCH --array=1-%d\n", j->plan->n_units);
    fprintf(f, "#SBATCH --cpus-per-task=%d\n#SBATCH --output=%s/slurm/%s\n", units ? j->threads : 1, p->run,
            units ? "unit-%A_%a.out" : "merge-%j.out");
    sbatch_lines(f, j->slurm_args);
    script_env(f);
    if (units)
        fprintf(f, "exec %s unit %s \"${SLURM_ARRAY_TASK_ID:?submit as an array job: sbatch --array=1-%d %s}\" "
                   "--threads %d\n", p->exe, p->run, j->plan->n_units, p->units, j->threads);
    else fprintf(f, "exec %s merge %s%s\n", p->exe, p->run, j->plot ? "" : " --no-plot");
    if (atomic_commit(&af, err, sizeof err) != 0) die_internal("%s", err);
    chmod(path, 0755);
}

/* sbatch --parsable ARGS SCRIPT; the job id it prints. Exit 1 when sbatch fails. */
static long sbatch(const char *exe, const char *opt, const char *script) {
    char *out = NULL;
    char *args[] = {"sbatch", "--parsable", (char *)opt, (char *)script, NULL};
    SpawnOpts o = {.out = &out};
    int rc = spawn_wait(exe, args, &o);
    long id = out ? strtol(out, NULL, 10) : 0;   /* "123" or "123;cluster" */
    if (rc != 0 || id <= 0)
        die_internal("sbatch %s %s failed (exit %d%s%s)", opt, script, rc, out && *out ? ", said: " : "", out ? out : "");
    free(out);
    return id;
}

/* The units to submit: all, or (resume) those missing or failed. Their count (indexes in idx). */
static int units_to_submit(const SlurmJob *j, int *idx) {
    int n = 0;
    for (int i = 0; i < j->plan->n_units; i++) {
        const PlanUnit *u = &j->plan->units[i];
        int st = j->resume ? plan_unit_state(j->run_dir, u, NULL, 0) : UNIT_MISSING;
        if (st == UNIT_RUNNING) fprintf(stderr, "slurm: %s is running now (its lock is held); not submitted again\n", u->id);
        if (st == UNIT_MISSING || st == UNIT_FAILED) idx[n++] = u->index;
    }
    return n;
}

int slurm_submit(const SlurmJob *j) {
    char sbatch_exe[PATH_MAX], err[ERRLEN], dir[PATH_MAX + 8], spec[4096], opt[4200];
    if (find_on_path("sbatch", sbatch_exe, sizeof sbatch_exe) != 0)
        die_input("--executor: sbatch is not on PATH (Slurm's client commands must be installed here)");
    Paths p;
    if (!realpath(j->run_dir, p.run)) die_input("--out: %s: %s", j->run_dir, strerror(errno));
    ssize_t len = readlink("/proc/self/exe", p.exe, sizeof p.exe - 1);
    if (len <= 0) die_internal("cannot find this program's path (/proc/self/exe)");
    p.exe[len] = 0;
    snprintf(dir, sizeof dir, "%s/slurm", p.run);
    if (mkdir_p(dir, err, sizeof err) != 0) die_input("--out: %s", err);
    snprintf(p.units, sizeof p.units, "%s/units.sbatch", dir);
    snprintf(p.merge, sizeof p.merge, "%s/merge.sbatch", dir);
    write_script(j, &p, p.units, 1);
    write_script(j, &p, p.merge, 0);
    int *idx = xcalloc(j->plan->n_units, sizeof(int));
    int n = units_to_submit(j, idx);
    if (!n) {
        printf("slurm: every unit of %s is done or running; nothing submitted (merge: posbench merge %s, or sbatch %s)\n",
               p.run, p.run, p.merge);
        free(idx);
        return 0;
    }
    array_spec(idx, n, spec, sizeof spec);
    free(idx);
    snprintf(opt, sizeof opt, "--array=%s", spec);
    long array = sbatch(sbatch_exe, opt, p.units);
    snprintf(opt, sizeof opt, "--dependency=afterany:%ld", array);
    long merge = sbatch(sbatch_exe, opt, p.merge);
    char when[64], path[PATH_MAX + 32];
    runtime_iso_time(when, sizeof when);
    snprintf(path, sizeof path, "%s/jobs.tsv", dir);
    int fresh = !path_exists(path);
    FILE *f = fopen(path, "a");
    if (f) {
        if (fresh) fprintf(f, "submitted\tarray_job\tmerge_job\tunits\n");
        fprintf(f, "%s\t%ld\t%ld\t%s\n", when, array, merge, spec);
        fclose(f);
    }
    printf("slurm: units %s of %s submitted as array job %ld (%s), %d cpus per task\n"
           "slurm: merge submitted as job %ld (%s), after the array ends (afterany)\n"
           "watch:  squeue -j %ld,%ld      afterwards: sacct -j %ld,%ld\n"
           "logs:   %s/unit-%ld_<task>.out, %s/merge-%ld.out\n"
           "then:   units that did not finish are named in the merge log; resubmit just those with the same\n"
           "        sweep command plus --resume\n",
           spec, p.run, array, p.units, j->threads, merge, p.merge, array, merge, array, merge, dir, array, dir, merge);
    return 0;
}
