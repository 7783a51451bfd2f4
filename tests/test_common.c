/* test_common.c — the ground floor: child processes (common/spawn.h) and the
 * CSV reader (common/csv.h). */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "../common/csv.h"
#include "../common/spawn.h"
#include "../common/util.h"

static sigjmp_buf alarm_jump;
static void on_alarm(int sig) { (void)sig; siglongjmp(alarm_jump, 1); }

/* With SIGCHLD ignored the kernel reaps the child itself and wait4 fails with
 * ECHILD: spawn_wait must return -1, not retry forever (a sweep once hung so). */
static void test_spawn_echild(void) {
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_chld, alrm = {.sa_handler = on_alarm}, old_alrm;
    sigaction(SIGCHLD, &ign, &old_chld);
    sigaction(SIGALRM, &alrm, &old_alrm);
    volatile int rc = 0, hung = 0;
    if (sigsetjmp(alarm_jump, 1) == 0) {
        alarm(10);
        char *argv[] = {"true", NULL};
        rc = spawn_wait("/bin/true", argv, NULL);
    } else {
        hung = 1;
    }
    alarm(0);
    sigaction(SIGALRM, &old_alrm, NULL);
    sigaction(SIGCHLD, &old_chld, NULL);
    CHECK(!hung, "spawn_wait with SIGCHLD ignored: still waiting after 10 s (ECHILD retried forever)");
    CHECK(hung || rc == -1, "spawn_wait with SIGCHLD ignored: %d, want -1", rc);
}

static void test_spawn_status(void) {
    char *ok[] = {"sh", "-c", "exit 0", NULL}, *three[] = {"sh", "-c", "exit 3", NULL},
         *killed[] = {"sh", "-c", "kill -TERM $$", NULL}, *none[] = {"nowhere", NULL};
    CHECK(spawn_wait("/bin/sh", ok, NULL) == 0, "exit 0");
    CHECK(spawn_wait("/bin/sh", three, NULL) == 3, "exit 3");
    CHECK(spawn_wait("/bin/sh", killed, NULL) == 128 + SIGTERM, "killed by SIGTERM: 128 + 15");
    char *out = NULL;
    SpawnOpts quiet = {.out = &out, .log = "/dev/null"};
    CHECK(spawn_wait("/nonexistent/posbench-test", none, &quiet) == 127, "a missing program: 127");
    free(out);
}

static void test_spawn_options(void) {
    char *out = NULL;
    long rss = 0;
    const char *env[] = {"POSBENCH_SPAWN_TEST=hello", NULL};
    char *argv[] = {"sh", "-c", "printf '%s %s' \"$POSBENCH_SPAWN_TEST\" \"$(pwd)\"", NULL};
    SpawnOpts o = {.env = env, .dir = "/", .out = &out, .maxrss_kb = &rss};
    int rc = spawn_wait("/bin/sh", argv, &o);
    CHECK(rc == 0 && out && !strcmp(out, "hello /"), "env, folder and stdout: rc %d, '%s'", rc, out ? out : "(null)");
    CHECK(rss > 0, "peak RSS of the child: %ld kB", rss);
    CHECK(!getenv("POSBENCH_SPAWN_TEST"), "the environment entry stays in the child");
    free(out);

    char log[64];
    snprintf(log, sizeof log, "/tmp/posbench-spawn-%ld.log", (long)getpid());
    unlink(log);
    char *loud[] = {"sh", "-c", "echo out; echo err >&2", NULL};
    SpawnOpts lo = {.log = log};
    rc = spawn_wait("/bin/sh", loud, &lo);
    char err[ERRLEN];
    char *text = read_file(log, NULL, err, sizeof err);
    CHECK(rc == 0 && text && !strcmp(text, "out\nerr\n"), "stdout and stderr to the log: '%s'", text ? text : err);
    free(text);
    unlink(log);
}

static void test_csv(void) {
    char path[64], err[ERRLEN];
    snprintf(path, sizeof path, "/tmp/posbench-csv-%ld.csv", (long)getpid());
    FILE *f = fopen(path, "w");
    fputs("a,b,c\r\n1,\"x,\"\"y\"\"\",nan\n\n2,3\n", f);
    fclose(f);
    Csv c;
    int rc = csv_load(&c, path, err, sizeof err);
    CHECK(rc == 0 && c.ncol == 3 && c.nrow == 2, "csv shape: rc %d, %d x %d", rc, c.nrow, c.ncol);
    if (rc == 0) {
        CHECK(!strcmp(csv_get(&c, 0, csv_col(&c, "b")), "x,\"y\""), "quoted field: '%s'", csv_get(&c, 0, 1));
        CHECK(isnan(csv_num(csv_get(&c, 0, 2))) && csv_long(csv_get(&c, 1, 0), -1) == 2, "numbers and nan");
        CHECK(!strcmp(csv_get(&c, 1, 2), "") && csv_col(&c, "zz") < 0 && !strcmp(csv_get(&c, 0, -1), ""),
              "short row, absent column");
        csv_free(&c);
    }
    f = fopen(path, "w");
    fclose(f);
    CHECK(csv_load(&c, path, err, sizeof err) != 0 && strstr(err, "empty"), "an empty file is refused: %s", err);
    unlink(path);
}

/* flush_denormals (called by the test binary's main, as by posbench's): a
 * denormal result is 0 in the worker threads too. */
static void test_flush_denormals(void) {
#if defined(__x86_64__) || defined(__i386__)
    int bad = 0;
#pragma omp parallel reduction(+ : bad)
    {
        volatile float a = FLT_MIN, half = 0.5f;
        bad += a * half != 0.0f;
    }
    CHECK(bad == 0, "FLT_MIN / 2 is flushed to 0 in every thread (%d threads kept a denormal)", bad);
#endif
}

/* iso_time_parse against calendar.timegm's values (a leap day included), its other spellings
 * and what it refuses. */
static void test_iso_time(void) {
    double t = 0;
    CHECK(iso_time_parse("2026-12-02T02:31:49Z", &t) == 0 && t == 1796178709.0, "2026-12-02T02:31:49Z: %.0f", t);
    CHECK(iso_time_parse("2000-02-29 23:59:59", &t) == 0 && t == 951868799.0, "2000-02-29 23:59:59: %.0f", t);
    CHECK(iso_time_parse("1796178709", &t) == 0 && t == 1796178709.0, "seconds since 1970: %.0f", t);
    CHECK(iso_time_parse("2026-12-02", &t) != 0 && iso_time_parse("", &t) != 0, "a date alone or nothing is refused");
}

void test_common(void) {
    test_flush_denormals();
    test_iso_time();
    test_spawn_echild();
    test_spawn_status();
    test_spawn_options();
    test_csv();
}
