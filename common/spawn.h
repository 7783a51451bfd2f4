/* spawn.h — running a child process and waiting for it: the one place that
 * forks. Used for the sweep's `posbench train` / `posbench eval` children, the
 * bench's measurement children and PyTorch, and gnuplot.
 *
 * spawn_wait() starts exe with argv and waits for it; the options say what the
 * child gets besides the parent's environment and descriptors. The wait retries
 * on EINTR only; every child is killed (SIGKILL) when this process dies: any other failure (ECHILD when SIGCHLD is ignored, say) ends
 * it with -1 instead of looping.
 */
#ifndef POSBENCH_SPAWN_H
#define POSBENCH_SPAWN_H
#include <sys/types.h>

typedef struct SpawnOpts {
    const char *const *env;  /* extra "NAME=value" entries, NULL-terminated; NULL: none */
    const char *dir;         /* the child changes to this folder first (exit 126 if it cannot); NULL: stay */
    const char *log;         /* the child's stdout and stderr appended to this file; NULL: inherited */
    char **out;              /* the child's stdout collected into *out (malloc'd, NUL-terminated; NULL
                                when the child could not start); NULL: inherited (or the log) */
    long *maxrss_kb;         /* the child's peak resident memory (wait4's ru_maxrss), -1 if unknown */
} SpawnOpts;

/* Runs exe (a path; not searched on PATH) with argv and waits. Returns the exit
 * status, 128 + the signal that killed it, 127 if exe could not be executed, or
 * -1 if the child could not be started or waited for. opts may be NULL. */
int spawn_wait(const char *exe, char *const argv[], const SpawnOpts *opts);

/* spawn_wait of this same executable. "/proc/self/exe" itself is run, not the
 * path it names, so a rebuild of ./posbench while a sweep runs cannot change
 * the children. */
int spawn_self(char *const argv[], const SpawnOpts *opts);

/* Several children at once: spawn_start starts exe (opts' out and maxrss_kb are ignored) and
 * returns its pid, or -1; spawn_wait_any waits for any child to end, sets *pid (-1 when there
 * is none left or waiting failed) and returns its exit status as spawn_wait does, or -1. */
pid_t spawn_start(const char *exe, char *const argv[], const SpawnOpts *opts);
int spawn_wait_any(pid_t *pid);

#endif
