/* probe.c — building and scoring copy and passkey probes (probe.h), the Wilson interval,
 * and the rows of probes.csv. */
#include "probe.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[PROBE_KINDS] = {"copy", "passkey"};

const char *probe_kind_name(ProbeKind kind) { return kind_names[kind]; }

int probe_kind_parse(const char *name) {
    for (int k = 0; k < PROBE_KINDS; k++)
        if (!strcmp(name, kind_names[k])) return k;
    return -1;
}

/* Tokens of the first planted string (with what follows it) and of the second. */
static void planted_lengths(ProbeKind kind, int k, long *first, long *second) {
    long intro = (long)strlen(PROBE_PASSKEY_INTRO) + PROBE_PASSKEY_DIGITS;
    *first = kind == PROBE_COPY ? k : intro + 2;   /* the passkey sentence ends ". " */
    *second = kind == PROBE_COPY ? k : intro;
}

long probe_max_distance(ProbeKind kind, long T, int k) {
    long a, b;
    planted_lengths(kind, k, &a, &b);
    long D = T + 1 - a - b - 1;   /* at least one filler token before the first string */
    return D >= 0 ? D : -1;
}

int probe_default_distances(ProbeKind kind, long T, int k, long *out, int max) {
    long Dmax = probe_max_distance(kind, T, k);
    int n = 0;
    for (long D = 16; D <= Dmax && n < max; D *= 2) out[n++] = D;
    return n;
}

/* Copy: k tokens from the alphabet. Passkey: the sentence with five random digits. */
static void planted_string(ProbeKind kind, int k, Rng *rng, int *s, long *len) {
    if (kind == PROBE_COPY) {
        const char *alpha = PROBE_COPY_ALPHABET;
        uint64_t na = strlen(alpha);
        for (int i = 0; i < k; i++) s[i] = (unsigned char)alpha[rng_u64(rng) % na];
        *len = k;
        return;
    }
    const char *intro = PROBE_PASSKEY_INTRO;
    long n = 0;
    for (const char *c = intro; *c; c++) s[n++] = (unsigned char)*c;
    for (int d = 0; d < PROBE_PASSKEY_DIGITS; d++) s[n++] = '0' + (int)(rng_u64(rng) % 10);
    s[n++] = '.';
    s[n++] = ' ';
    *len = n;
}

void probe_plant_copy(int *x, long n, int k, Rng *rng) {
    long room = n - 2 * k;   /* positions p >= 1 with p + 2k + D <= n */
    if (room < 1) return;
    int s[64];
    long len;
    planted_string(PROBE_COPY, k, rng, s, &len);
    long D = (long)(rng_u64(rng) % (uint64_t)room);
    long p = 1 + (long)(rng_u64(rng) % (uint64_t)(room - D));
    for (int i = 0; i < k; i++) x[p + i] = x[p + k + D + i] = s[i];
}

/* Filler tokens of a probe. */
static long probe_fill(ProbeKind kind, long T, int k) {
    long a, b;
    planted_lengths(kind, k, &a, &b);
    return T + 1 - a - b;
}

int probe_build(ProbeKind kind, long T, long D, int k, const uint16_t *text, size_t n_text, Rng *rng, int *x,
                ProbeLayout *lay) {
    if (n_text < (size_t)T + 2) return -1;
    size_t off = (size_t)(rng_u64(rng) % (uint64_t)(n_text - (size_t)probe_fill(kind, T, k)));
    return probe_build_at(kind, T, D, k, text, n_text, off, rng, x, lay);
}

int probe_build_at(ProbeKind kind, long T, long D, int k, const uint16_t *text, size_t n_text, size_t off, Rng *rng,
                   int *x, ProbeLayout *lay) {
    long a, b;
    planted_lengths(kind, k, &a, &b);
    long nfill = T + 1 - a - b, before = nfill - D;
    if (D < 0 || D > probe_max_distance(kind, T, k) || off + (size_t)nfill > n_text) return -1;
    int s[64 + sizeof PROBE_PASSKEY_INTRO + PROBE_PASSKEY_DIGITS];
    long slen;
    planted_string(kind, k, rng, s, &slen);
    const uint16_t *f = text + off;
    long i = 0;
    for (long j = 0; j < before; j++) x[i++] = f[j];
    lay->first = i;
    for (long j = 0; j < a; j++) x[i++] = s[j];
    for (long j = before; j < nfill; j++) x[i++] = f[j];
    lay->second = i;
    for (long j = 0; j < b; j++) x[i++] = s[j];
    lay->T = T, lay->D = D, lay->len = b;
    /* copy: every token of the second copy but its first; passkey: the five digits */
    lay->score_from = kind == PROBE_COPY ? lay->second : T - PROBE_PASSKEY_DIGITS;
    return 0;
}

void probe_score(ProbeKind kind, const int *x, const ProbeLayout *lay, ProbeScorer scorer, void *ctx, float *nll,
                 int *top1, ProbeStats *st) {
    long T = lay->T;
    scorer(ctx, x, x + 1, (int)T, (int)lay->first, nll, top1, (int)lay->score_from);
    long right = 0;
    for (long t = lay->score_from; t < T; t++) {
        st->nll += nll[t];
        right += top1[t] == x[t + 1];
    }
    st->tokens += T - lay->score_from;
    st->correct += right;
    st->exact += right == T - lay->score_from;
    st->n++;
}

void probe_run(ProbeKind kind, long T, long D, int k, long n, const uint16_t *text, size_t n_text, Rng *rng,
               ProbeScorer scorer, void *ctx, ProbeStats *st) {
    memset(st, 0, sizeof *st);
    int *x = xmalloc(sizeof(int) * (size_t)(T + 1)), *top1 = xmalloc(sizeof(int) * (size_t)T);
    float *nll = xmalloc_floats((size_t)T);
    ProbeLayout lay;
    long nfill = probe_fill(kind, T, k);
    size_t off = nfill > 0 && n_text > (size_t)nfill ? (size_t)(rng_u64(rng) % (uint64_t)(n_text - (size_t)nfill)) : 0;
    for (long i = 0; i < n; i++)
        if (probe_build_at(kind, T, D, k, text, n_text, off, rng, x, &lay) == 0)
            probe_score(kind, x, &lay, scorer, ctx, nll, top1, st);
    free(x);
    free(top1);
    free(nll);
}

void wilson_interval(long hits, long n, double *lo, double *hi) {
    if (n <= 0) {
        *lo = 0.0, *hi = 1.0;
        return;
    }
    const double z = 1.959964;
    double p = (double)hits / n, z2n = z * z / n;
    double centre = (p + z2n / 2) / (1 + z2n);
    double half = z * sqrt(p * (1 - p) / n + z2n / (4.0 * n)) / (1 + z2n);
    *lo = centre - half < 0 ? 0 : centre - half;
    *hi = centre + half > 1 ? 1 : centre + half;
}

/* One probes.csv row: hits of n trials. */
static void probe_row(FILE *f, const char *method, long L, int seed, const char *kind, long T, long D, long hits,
                      long n, double nll, double chance) {
    double lo, hi;
    wilson_interval(hits, n, &lo, &hi);
    fprintf(f, "%s,%ld,%d,%s,%ld,%ld,%ld,%.5f,%.5f,%.5f,%.5f,%.6g\n", method, L, seed, kind, T, D, n, nll,
            n ? (double)hits / n : NAN, lo, hi, chance);
}

void probe_write_rows(FILE *f, const char *method, long L, int seed, ProbeKind kind, long T, long D, int k,
                      const ProbeStats *st) {
    double nll = st->tokens ? st->nll / st->tokens : NAN;
    if (kind == PROBE_COPY) {
        probe_row(f, method, L, seed, "copy", T, D, st->correct, st->tokens, nll, 1.0 / strlen(PROBE_COPY_ALPHABET));
        return;
    }
    probe_row(f, method, L, seed, "passkey", T, D, st->exact, st->n, nll, pow(0.1, PROBE_PASSKEY_DIGITS));
    probe_row(f, method, L, seed, "passkey_digit", T, D, st->correct, st->tokens, nll, 0.1);
}
