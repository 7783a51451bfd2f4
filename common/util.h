/* util.h — checked wrappers and the error conventions every module shares.
 *
 * Conventions (docs/DEFINITIONS.md, Command line): a user mistake is reported as one line naming the flag
 * or file, exit 2 (die_input); an internal failure exits 1 (die_internal);
 * library functions that read user files return 0/-1 and fill an error buffer
 * instead of exiting, so tests can call them. Outputs are written atomically:
 * atomic_open() gives a FILE on "path.tmp.PID", atomic_commit() fsyncs and
 * renames it over "path", atomic_abort() removes it.
 */
#ifndef POSBENCH_UTIL_H
#define POSBENCH_UTIL_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ERRLEN 512

#include <stdarg.h>
/* "posbench: <message>\n" on stderr */
void vsay(const char *fmt, va_list ap);
void die_input(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void die_internal(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

void *xmalloc(size_t n);                 /* exits 1 naming the size on failure */
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
float *xmalloc_floats(size_t n);         /* 64-byte aligned, zeroed */
char *xstrdup(const char *s);

/* Atomic output: write to a temporary sibling, then rename. */
typedef struct AtomicFile {
    FILE *fp;
    char path[4096];
    char tmp[4160];
} AtomicFile;
int atomic_open(AtomicFile *af, const char *path, const char *mode, char *err, size_t errlen);
int atomic_commit(AtomicFile *af, char *err, size_t errlen); /* fflush+fsync+fclose+rename */
/* The two halves of atomic_commit, for files that are renamed into place together. */
int atomic_finish(AtomicFile *af, char *err, size_t errlen);  /* fflush+fsync+fclose; removes tmp on error */
int atomic_rename(AtomicFile *af, char *err, size_t errlen);
/* Remove dir's "NAME.tmp.PID" files whose writer PID is no longer alive (not recursive). */
void remove_stale_tmp(const char *dir);
void atomic_abort(AtomicFile *af);

/* A regular file opened for reading, or NULL with "PATH: reason" (FIFOs, devices and
 * folders are refused without blocking). */
FILE *open_regular(const char *path, char *err, size_t errlen);
/* Whole-file read of a regular file; returns malloc'd buffer (NUL-terminated, len excludes NUL) or NULL with err. */
char *read_file(const char *path, size_t *len, char *err, size_t errlen);

/* Deterministic RNG (xorshift64*), state is one uint64 so it checkpoints trivially. */
typedef struct Rng { uint64_t s; } Rng;
void rng_seed(Rng *r, uint64_t seed);
uint64_t rng_u64(Rng *r);
float rng_uniform(Rng *r);               /* [0, 1) */
float rng_normal(Rng *r);                /* N(0, 1), Box-Muller */

/* Fast non-cryptographic 64-bit hashes (checksums, content hashes): word-at-a-time. */
uint64_t hash64_bytes(const void *p, size_t n, uint64_t seed);
uint64_t hash64_mix(uint64_t h, uint64_t v);

/* Flush denormal floats to zero (FTZ, DAZ) in this thread and the threads it
 * creates afterwards (they inherit the mode). Softmax weights of far keys fall
 * into the denormal range (below 1.2e-38) where x86 arithmetic takes a slow
 * microcode path: FoX's evaluation at T = 4096 ran at 0.3x ALiBi's speed with
 * denormals and at ALiBi's without. Values that small do not change a result
 * at float precision. Called first by posbench and the test binary. No-op
 * off x86. */
void flush_denormals(void);
double now_seconds(void);                /* monotonic wall clock */
/* "2026-11-21T18:48:50Z" (a space for T, fractional seconds and no Z also read) or
 * seconds since 1970 -> *t, seconds since 1970 UTC; 0, or -1 when unreadable. */
int iso_time_parse(const char *s, double *t);
long peak_rss_kb(void);                  /* VmHWM of this process */
int mkdir_p(const char *path, char *err, size_t errlen);
int path_exists(const char *path);

/* Parse helpers for flags: return 0 on success, -1 if s is not a whole number in range. */
int parse_int(const char *s, long lo, long hi, long *out);
int parse_float(const char *s, double lo, double hi, double *out);
/* "a,b,c" -> ints; returns count or -1. */
int parse_int_list(const char *s, long lo, long hi, long *out, int max);

#endif
