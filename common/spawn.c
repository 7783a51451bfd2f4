/* spawn.c — child processes (spawn.h). */
#include "spawn.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include "util.h"

/* In the child, after fork: die with the parent, descriptors, folder, environment, then exec.
 * PR_SET_PDEATHSIG survives exec, so a `kill -9` of a sweep also ends the training it started
 * (otherwise that child would keep writing into the run folder while a re-run races it). */
static void child_exec(const char *exe, char *const argv[], const SpawnOpts *o, const int pipe_fd[2], pid_t parent) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);   /* the parent died before prctl took effect */
    if (o->out) {
        dup2(pipe_fd[1], 1);
        close(pipe_fd[0]);
        close(pipe_fd[1]);
    }
    if (o->log) {
        int fd = open(o->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            if (!o->out) dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
    }
    if (o->dir && chdir(o->dir) != 0) _exit(126);
    for (int i = 0; o->env && o->env[i]; i++) putenv((char *)o->env[i]);
    execv(exe, argv);
    fprintf(stderr, "posbench: cannot run %s: %s\n", exe, strerror(errno));
    _exit(127);
}

/* Everything the child writes to fd, until it closes it. */
static char *read_all(int fd) {
    size_t len = 0, cap = 4096;
    char *buf = xmalloc(cap);
    for (;;) {
        if (len + 1024 > cap) buf = xrealloc(buf, cap *= 2);
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        len += (size_t)n;
    }
    buf[len] = 0;
    return buf;
}

/* Fork a child running exe (fd: its stdout pipe when o->out). The child's pid, or -1. */
static pid_t spawn_fork(const char *exe, char *const argv[], const SpawnOpts *o, int fd[2]) {
    fflush(NULL);
    pid_t parent = getpid(), pid = fork();
    if (pid == 0) child_exec(exe, argv, o, fd, parent);
    return pid;
}

/* A wait status as spawn_wait returns it. */
static int exit_code(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int spawn_wait(const char *exe, char *const argv[], const SpawnOpts *opts) {
    static const SpawnOpts none = {0};
    const SpawnOpts *o = opts ? opts : &none;
    int fd[2] = {-1, -1};
    if (o->out) *o->out = NULL;
    if (o->maxrss_kb) *o->maxrss_kb = -1;
    if (o->out && pipe(fd) != 0) return -1;
    pid_t pid = spawn_fork(exe, argv, o, fd);
    if (pid < 0) {
        if (o->out) { close(fd[0]); close(fd[1]); }
        return -1;
    }
    char *text = NULL;
    if (o->out) {
        close(fd[1]);
        text = read_all(fd[0]);
        close(fd[0]);
    }
    int status = 0;
    struct rusage ru;
    pid_t w;
    while ((w = wait4(pid, &status, 0, &ru)) < 0 && errno == EINTR) {}
    if (w < 0) { /* ECHILD (SIGCHLD ignored: the child was reaped for us) or worse */
        free(text);
        return -1;
    }
    if (o->maxrss_kb) *o->maxrss_kb = ru.ru_maxrss;
    if (o->out) *o->out = text;
    return exit_code(status);
}

pid_t spawn_start(const char *exe, char *const argv[], const SpawnOpts *opts) {
    static const SpawnOpts none = {0};
    SpawnOpts o = opts ? *opts : none;
    o.out = NULL, o.maxrss_kb = NULL;
    int fd[2] = {-1, -1};
    return spawn_fork(exe, argv, &o, fd);
}

int spawn_wait_any(pid_t *pid) {
    int status = 0;
    pid_t w;
    while ((w = waitpid(-1, &status, 0)) < 0 && errno == EINTR) {}
    *pid = w;
    return w < 0 ? -1 : exit_code(status);
}

int spawn_self(char *const argv[], const SpawnOpts *opts) { return spawn_wait("/proc/self/exe", argv, opts); }
