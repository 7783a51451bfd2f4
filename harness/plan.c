/* plan.c — RUN/plan.tsv and the state of a unit on disk (plan.h). */
#include "plan.h"
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include "../common/runfiles.h"
#include "../common/util.h"
#include "runtime.h"

static const char *const plan_cols = "index\tid\tmethod\ttrain_len\tseed\tevals";

/* The evaluations of one unit of method at L (plan_build). */
static void unit_evals(PlanUnit *u, const RunConfig *cfg, const long *lens, int n_len) {
    for (int i = 0; i < n_len; i++)
        for (int mode = 0; mode < (cfg->sliding_div ? 2 : 1); mode++)
            u->evals[u->n_evals++] = (PlanEval){.W = lens[i], .sliding = mode};
    if (cfg->probes[0]) u->evals[u->n_evals++] = (PlanEval){.probe = 1};
    char buf[sizeof cfg->variants], *save = NULL;
    snprintf(buf, sizeof buf, "%s", cfg->variants);
    for (char *v = strtok_r(buf, ",", &save); v; v = strtok_r(NULL, ",", &save)) {
        size_t nb = strcspn(v, "+");
        if (nb != strlen(u->method) || strncmp(v, u->method, nb)) continue;   /* a variant of another method */
        for (int i = 0; i <= n_len; i++) {
            if (i == n_len && !cfg->probes[0]) break;
            PlanEval *e = &u->evals[u->n_evals++];
            *e = i < n_len ? (PlanEval){.W = lens[i]} : (PlanEval){.probe = 1};
            snprintf(e->variant, sizeof e->variant, "%s", v);
        }
    }
}

void plan_build(Plan *p, const RunConfig *cfg, char *const *methods, int n_methods, const char *data_dir) {
    memset(p, 0, sizeof *p);
    snprintf(p->preset, sizeof p->preset, "%s", cfg->preset);
    snprintf(p->data_dir, sizeof p->data_dir, "%s", data_dir);
    p->units = xcalloc((size_t)cfg->n_train_lens * n_methods * cfg->seeds, sizeof(PlanUnit));
    for (int li = 0; li < cfg->n_train_lens; li++) {
        long L = cfg->train_lens[li], lens[CFG_MAX_LIST];
        int n_len = config_eval_lengths(cfg, L, lens, CFG_MAX_LIST);
        for (int mi = 0; mi < n_methods; mi++)
            for (int seed = 1; seed <= cfg->seeds; seed++) {
                PlanUnit *u = &p->units[p->n_units++];
                u->index = p->n_units;
                snprintf(u->method, sizeof u->method, "%s", methods[mi]);
                snprintf(u->id, sizeof u->id, "%s-L%ld-s%d", methods[mi], L, seed);
                u->L = L;
                u->seed = seed;
                unit_evals(u, cfg, lens, n_len);
            }
    }
}

/* The unit lines of p (everything but the start time), malloc'd. */
static char *plan_body(const Plan *p) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    fprintf(f, "# preset\t%s\n# data\t%s\n%s\n", p->preset, p->data_dir, plan_cols);
    for (int i = 0; i < p->n_units; i++) {
        const PlanUnit *u = &p->units[i];
        fprintf(f, "%d\t%s\t%s\t%ld\t%d\t", u->index, u->id, u->method, u->L, u->seed);
        for (int e = 0; e < u->n_evals; e++) {
            const PlanEval *ev = &u->evals[e];
            if (ev->probe) fprintf(f, "%sprobes", e ? "," : "");
            else fprintf(f, "%s%ld:%s", e ? "," : "", ev->W, ev->sliding ? "sliding" : "nonoverlapping");
            if (ev->variant[0]) fprintf(f, "@%s", ev->variant);
        }
        fputc('\n', f);
    }
    fclose(f);
    return text;
}

int plan_write(Plan *p, const char *run_dir, char *err, size_t errlen) {
    Plan old;
    char why[ERRLEN];
    char *body = plan_body(p);
    if (plan_read(&old, run_dir, why, sizeof why) == 0) {
        char *old_body = plan_body(&old);
        if (!strcmp(old_body, body)) snprintf(p->started, sizeof p->started, "%s", old.started);
        free(old_body);
        plan_free(&old);
    }
    if (!p->started[0]) runtime_iso_time(p->started, sizeof p->started);
    char path[4200];
    snprintf(path, sizeof path, "%s/plan.tsv", run_dir);
    AtomicFile af;
    int rc = atomic_open(&af, path, "w", err, errlen);
    if (rc == 0) {
        fprintf(af.fp, "# posbench plan: one unit per line (docs/FORMATS.md); run one with: posbench unit RUN ID\n"
                       "# started\t%s\n%s", p->started, body);
        rc = atomic_commit(&af, err, errlen);
    }
    free(body);
    return rc;
}

/* "16:nonoverlapping,16:sliding,probes,16:nonoverlapping@V,probes@V" into u->evals. 0, or -1. */
static int parse_evals(PlanUnit *u, char *s) {
    char *save = NULL;
    for (char *e = strtok_r(s, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
        if (u->n_evals == PLAN_MAX_EVALS) return -1;
        PlanEval *ev = &u->evals[u->n_evals];
        memset(ev, 0, sizeof *ev);
        char *at = strchr(e, '@');
        if (at) {
            if (!at[1] || strlen(at + 1) >= sizeof ev->variant || strchr(at + 1, '/')) return -1;
            snprintf(ev->variant, sizeof ev->variant, "%s", at + 1);
            *at = 0;
        }
        char *colon = strchr(e, ':');
        if (!strcmp(e, "probes")) ev->probe = 1;
        else {
            if (!colon) return -1;
            *colon = 0;
            if (parse_int(e, 1, 1L << 22, &ev->W) != 0) return -1;
            ev->sliding = !strcmp(colon + 1, "sliding");
            if (!ev->sliding && strcmp(colon + 1, "nonoverlapping")) return -1;
        }
        u->n_evals++;
    }
    return u->n_evals ? 0 : -1;
}

/* One unit line "index id method L seed evals" into u. 0, or -1. */
static int parse_unit(PlanUnit *u, char *line, int want_index) {
    char *f[6], *save = NULL;
    int n = 0;
    for (char *t = strtok_r(line, "\t", &save); t && n < 6; t = strtok_r(NULL, "\t", &save)) f[n++] = t;
    long idx, L, seed;
    if (n != 6 || parse_int(f[0], 1, 1 << 30, &idx) != 0 || idx != want_index || strlen(f[1]) >= sizeof u->id ||
        strlen(f[2]) >= sizeof u->method || parse_int(f[3], 1, 1L << 30, &L) != 0 ||
        parse_int(f[4], 1, 1 << 20, &seed) != 0 || strchr(f[1], '/') || f[1][0] == '.')
        return -1;
    memset(u, 0, sizeof *u);
    u->index = (int)idx, u->L = L, u->seed = (int)seed;
    snprintf(u->id, sizeof u->id, "%s", f[1]);
    snprintf(u->method, sizeof u->method, "%s", f[2]);
    return parse_evals(u, f[5]);
}

/* A "# key<TAB>value" line into p. */
static void parse_comment(Plan *p, const char *line) {
    static const struct { const char *key; size_t off, cap; } keys[] = {
        {"# preset\t", offsetof(Plan, preset), sizeof(((Plan *)0)->preset)},
        {"# data\t", offsetof(Plan, data_dir), sizeof(((Plan *)0)->data_dir)},
        {"# started\t", offsetof(Plan, started), sizeof(((Plan *)0)->started)}};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        if (!strncmp(line, keys[k].key, strlen(keys[k].key)))
            snprintf((char *)p + keys[k].off, keys[k].cap, "%s", line + strlen(keys[k].key));
}

int plan_read(Plan *p, const char *run_dir, char *err, size_t errlen) {
    memset(p, 0, sizeof *p);
    char path[4200], why[ERRLEN];
    snprintf(path, sizeof path, "%s/plan.tsv", run_dir);
    char *text = read_file(path, NULL, why, sizeof why);
    if (!text) {
        snprintf(err, errlen, "%s", why);
        return -1;
    }
    int cap = 0, lineno = 0, rc = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line && rc == 0; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        if (line[0] == '#') parse_comment(p, line);
        else if (strcmp(line, plan_cols)) {
            if (p->n_units == cap) p->units = xrealloc(p->units, (cap = cap ? 2 * cap : 16) * sizeof(PlanUnit));
            if (parse_unit(&p->units[p->n_units], line, p->n_units + 1) != 0) rc = -1;
            else p->n_units++;
        }
    }
    free(text);
    if (rc == 0 && (!p->n_units || !p->preset[0] || !p->data_dir[0])) rc = -1, lineno = 0;
    if (rc != 0) {
        if (lineno) snprintf(err, errlen, "%s: line %d is not a plan line (index, id, method, train_len, seed, evals)", path, lineno);
        else snprintf(err, errlen, "%s: no units, preset or data line; write it again with posbench sweep --plan-only", path);
        plan_free(p);
    }
    return rc;
}

void plan_free(Plan *p) {
    free(p->units);
    p->units = NULL;
    p->n_units = 0;
}

const PlanUnit *plan_find(const Plan *p, const char *key) {
    long idx;
    if (parse_int(key, 1, p->n_units, &idx) == 0) return &p->units[idx - 1];
    for (int i = 0; i < p->n_units; i++)
        if (!strcmp(p->units[i].id, key)) return &p->units[i];
    return NULL;
}

void plan_unit_dir(const char *run_dir, const PlanUnit *u, char *buf, size_t n) {
    snprintf(buf, n, "%s/units/%s", run_dir, u->id);
}

void plan_eval_name(const PlanEval *e, char *buf, size_t n) {
    const char *dir = e->variant[0] ? e->variant : "", *slash = e->variant[0] ? "/" : "";
    if (e->probe) snprintf(buf, n, "%s%sprobes.csv", dir, slash);
    else snprintf(buf, n, "%s%seval-%ld-%s.csv", dir, slash, e->W, e->sliding ? "sliding" : "nonoverlapping");
}

void plan_positions_name(const PlanEval *e, char *buf, size_t n) {
    if (e->probe || e->sliding) snprintf(buf, n, "%s", "");
    else snprintf(buf, n, "%s%spositions-%ld.csv", e->variant, e->variant[0] ? "/" : "", e->W);
}

int plan_eval_csv_whole(const PlanEval *e, const char *path) {
    if (!path_exists(path)) return 0;
    char err[ERRLEN];
    char *text = read_file(path, NULL, err, sizeof err);
    char *header = NULL;
    size_t hlen = 0;
    FILE *mem = open_memstream(&header, &hlen);
    int ncols = e->probe ? PR_N_COLS : RC_N;
    runfile_header(mem, e->probe ? probes_cols : results_cols, ncols);
    fclose(mem);
    int rows = 0, ok = text && !strncmp(text, header, hlen);
    free(header);
    for (char *line = ok ? text + hlen : NULL; ok && line && *line;) {
        char *end = strchr(line, '\n');
        int n = 1;
        for (char *q = line; q < (end ? end : line + strlen(line)); q++) n += *q == ',';
        ok = end && n == ncols;   /* every row complete, ending in a newline */
        rows++;
        line = end ? end + 1 : NULL;
    }
    free(text);
    return ok && (rows || e->probe);   /* a probe file may hold no row (no distance fits any length) */
}

/* 1 when another process holds the unit's lock (flock on <unit>/.unit.lock). */
static int unit_locked(const char *udir) {
    char path[4400];
    snprintf(path, sizeof path, "%s/.unit.lock", udir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    int held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd);
    return held;
}

int plan_unit_state(const char *run_dir, const PlanUnit *u, char *why, size_t n) {
    char udir[4300], path[4700], name[256], err[ERRLEN];
    plan_unit_dir(run_dir, u, udir, sizeof udir);
    if (why && n) why[0] = 0;
    if (unit_locked(udir)) return UNIT_RUNNING;
    snprintf(path, sizeof path, "%s/unit-failed.txt", udir);
    char *failed = read_file(path, NULL, err, sizeof err);
    if (failed) {
        failed[strcspn(failed, "\n")] = 0;
        if (why) snprintf(why, n, "%s", failed);
        free(failed);
        return UNIT_FAILED;
    }
    snprintf(path, sizeof path, "%s/train.json", udir);
    int done = path_exists(path);
    for (int e = 0; done && e < u->n_evals; e++) {
        plan_eval_name(&u->evals[e], name, sizeof name);
        snprintf(path, sizeof path, "%s/%s", udir, name);
        done = plan_eval_csv_whole(&u->evals[e], path);
    }
    return done ? UNIT_DONE : UNIT_MISSING;
}

const char *plan_state_name(int state) {
    static const char *const names[] = {"done", "missing", "failed", "running"};
    return names[state];
}
