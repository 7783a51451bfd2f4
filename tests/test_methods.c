/* test_methods.c — the position methods, through the PosMethod interface only:
 *   1. the registry agrees with tests/methods_table.h, and every method keeps
 *      the interface's contract (forward/backward pairs, tensor names, ...);
 *   2. golden values recomputed here from the papers' definitions (ALiBi slopes,
 *      T5 buckets, RoPE and sinusoidal tables at positions up to 4095);
 *   3. every hook of every method: qk backward = transpose Jacobian of forward,
 *      bias/embed parameter gradients against central finite differences, tiles
 *      against the whole matrix, rotary options and norm preservation;
 *   4. option parsing errors.
 * The generic checks (registry contract, hooks, tiles) loop over pos_methods, so
 * a new method is covered by them as soon as it is registered.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "pos_bound.h"
#include "../methods/distance_bias.h"
#include "../methods/method.h"
#include "../common/util.h"

/* The methods these tests name directly (the generic checks loop over the registry). */
extern const PosMethod pos_nope, pos_sinusoidal, pos_rotary, pos_t5, pos_alibi, pos_learned, pos_xpos,
    pos_kerple_log, pos_kerple_power, pos_fire, pos_fox;

#define PI_D 3.14159265358979323846

/* ------------------------------------------------------------------ helpers */

/* A config with method m's default options (m may be NULL: no options). */
static PosConfig make_cfg(const PosMethod *m, int NH, int hs, int L) {
    PosConfig c;
    memset(&c, 0, sizeof c);
    c.n_head = NH;
    c.head_dim = hs;
    c.d_model = NH * hs;
    c.train_len = L;
    c.n_layer = 2;
    if (m) pos_options_default(m, &c);
    return c;
}

/* A method's context for positions < T: params N(0,1) so that every bias entry
 * is distinct (or the method's own initialisation when it declares kinks),
 * dparams zeroed, cache filled. */
typedef PosBound Fixture;

static Fixture fixture_make(const PosMethod *m, PosConfig cfg, int T, uint64_t seed) {
    return pos_bound_make(m, cfg, T, m->fd.near_kink || m->project ? 0.0f : 1.0f, seed);
}

static void fixture_free(Fixture *f) { pos_bound_free(f); }

static void randn_fill(float *x, size_t n, Rng *rng) {
    for (size_t k = 0; k < n; k++) x[k] = rng_normal(rng);
}

/* cos/sin of a qk method read through the interface: rotate rows of the unit
 * vector e_i at every position p < T and read out[i] and out[i + hs/2].
 * cos, sin: (T, hs/2). Also returns the largest |component| that should be 0. */
static double qk_table(const PosMethod *m, const PosCtx *ctx, int T, int head, int is_key, float *cosv, float *sinv) {
    const int hs = ctx->cfg.head_dim, half = hs / 2;
    float *x = xmalloc_floats((size_t)T * hs);   /* (T, hs) */
    double stray = 0;
    for (int i = 0; i < half; i++) {
        memset(x, 0, (size_t)T * hs * sizeof(float));
        for (int p = 0; p < T; p++) x[(size_t)p * hs + i] = 1.0f;
        m->qk_forward(x, T, head, is_key, ctx);
        for (int p = 0; p < T; p++) {
            const float *row = x + (size_t)p * hs;
            cosv[(size_t)p * half + i] = row[i];
            sinv[(size_t)p * half + i] = row[i + half];
            for (int k = 0; k < hs; k++)
                if (k != i && k != i + half && fabs(row[k]) > stray) stray = fabs(row[k]);
        }
    }
    free(x);
    return stray;
}

/* ------------------------------------------------------------ 1. registry */

static void test_registry(void) {
    for (int k = 0; k < pos_method_count; k++) {
        const PosMethod *m = pos_methods[k];
        CHECK(pos_method_find(m->name) == m, "pos_method_find(\"%s\")", m->name);
        CHECK(strstr(pos_method_names(), m->name) != NULL, "pos_method_names() lacks '%s'", m->name);
        for (int k2 = k + 1; k2 < pos_method_count; k2++)
            CHECK(strcmp(m->name, pos_methods[k2]->name) != 0, "method name '%s' registered twice", m->name);
    }
    static const char *const expected[] = {"nope", "sinusoidal", "rotary", "t5", "alibi"};
    for (size_t k = 0; k < sizeof expected / sizeof expected[0]; k++)
        CHECK(pos_method_find(expected[k]) != NULL, "built-in method '%s' is not registered", expected[k]);
    CHECK(pos_method_find("no-such-method") == NULL, "unknown method found");
    CHECK(pos_method_find("") == NULL, "empty name found");
    CHECK(pos_method_find(NULL) == NULL, "NULL name found");
    CHECK(pos_method_find("ALIBI") == NULL, "lookup must be exact (case-sensitive)");
    CHECK(pos_method_find("alib") == NULL, "lookup must not match a prefix");
    {   /* "a, b, c" in registry order */
        char want[2048] = "";
        for (int k = 0; k < pos_method_count; k++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%s", k ? ", " : "", pos_methods[k]->name);
        CHECK(strcmp(pos_method_names(), want) == 0, "pos_method_names() = '%s', want '%s'", pos_method_names(), want);
    }

    /* The contract every method keeps (method.h). */
    for (int k = 0; k < pos_method_count; k++) {
        const PosMethod *m = pos_methods[k];
        PosConfig cfg = make_cfg(m, 4, 16, 64);
        size_t np = pos_param_count(m, &cfg);
        CHECK(m->name && m->name[0] && strlen(m->name) < 32, "%s: name must be non-empty and short", m->name);
        CHECK(m->summary && m->summary[0], "%s: summary missing", m->name);
        CHECK(!m->embed_backward || m->embed_forward, "%s: embed_backward without embed_forward", m->name);
        CHECK(!m->qk_backward == !m->qk_forward, "%s: qk_forward and qk_backward come as a pair", m->name);
        CHECK(!m->bias_backward || m->bias_add, "%s: bias_backward without bias_add", m->name);
        CHECK(!m->cache_size == !m->cache_fill, "%s: cache_size and cache_fill come as a pair", m->name);
        CHECK(m->label && m->label[0] && m->citation && m->citation[0], "%s: label and citation are required", m->name);
        CHECK(!m->qk_forward || m->family == POS_FAMILY_QK, "%s: a qk method's family is qk", m->name);
        CHECK(!m->embed_forward || m->family == POS_FAMILY_ABSOLUTE, "%s: an embed method's family is absolute",
              m->name);
        CHECK(!m->bias_add || m->family == POS_FAMILY_BIAS || m->family == POS_FAMILY_DATA,
              "%s: a bias method's family is bias or data-dependent", m->name);
        CHECK(!m->data_forward == !m->data_backward, "%s: data_forward and data_backward come as a pair", m->name);
        CHECK(!m->data_forward == (m->family != POS_FAMILY_DATA) && (!m->data_forward || m->bias_add),
              "%s: a data-dependent method (and only it) has data hooks, and a bias hook to use them", m->name);
        CHECK(m->fd.eps >= 0 && m->fd.tol >= 0 && m->fd.eps < 1 && m->fd.tol < 0.1,
              "%s: finite-difference step %g / tolerance %g out of range", m->name, m->fd.eps, m->fd.tol);
        for (int o = 0; o < pos_option_count(m); o++) {
            const PosOption *op = &m->options[o];
            CHECK(o < POS_MAX_OPTIONS, "%s: more than %d options", m->name, POS_MAX_OPTIONS);
            CHECK((op->type == 'f' || op->type == 'i') && op->lo <= op->def && op->def <= op->hi && op->help,
                  "%s: option '%s' has a bad type, range or help", m->name, op->key);
        }
        CHECK(!m->inspect_columns == !m->inspect_values, "%s: inspect_columns and inspect_values pair", m->name);
        CHECK(!m->inspect_columns || m->bias_add, "%s: inspect columns are for bias methods", m->name);
        if (np > 0) {
            CHECK((m->embed_forward && m->embed_backward) || (m->bias_add && m->bias_backward) || m->data_backward,
                  "%s: has %zu parameters but no hook computes their gradient", m->name, np);
        }
        if (m->tensors) {
            int nt;
            PosTensor *t = pos_tensor_list(m, &cfg, &nt);
            CHECK(nt >= 1, "%s: tensors() returned %d", m->name, nt);
            char prefix[POS_NAME_LEN + 8];
            snprintf(prefix, sizeof prefix, "pos.%s.", m->name);
            for (int q = 0; q < nt; q++) {
                CHECK(strncmp(t[q].name, prefix, strlen(prefix)) == 0 && strlen(t[q].name) > strlen(prefix),
                      "%s: tensor name '%s' must start with '%s'", m->name, t[q].name, prefix);
                CHECK((t[q].ndim == 1 || t[q].ndim == 2) && t[q].shape[0] > 0 && (t[q].ndim == 1 || t[q].shape[1] > 0),
                      "%s: tensor '%s' has a bad shape", m->name, t[q].name);
                CHECK((t[q].per_layer == 0 || t[q].per_layer == 1) && (t[q].decay == 0 || t[q].decay == 1),
                      "%s: tensor '%s' per_layer/decay must be 0 or 1", m->name, t[q].name);
            }
            free(t);
        }
    }

    /* Parameter counts and hook strings of the built-in methods. */
    PosConfig c4 = make_cfg(NULL, 4, 16, 64), c12 = make_cfg(NULL, 12, 64, 512);
    CHECK(pos_param_count(&pos_t5, &c4) == 32 * 4, "t5 params at 4 heads: %zu", pos_param_count(&pos_t5, &c4));
    CHECK(pos_param_count(&pos_t5, &c12) == 32 * 12, "t5 params at 12 heads: %zu", pos_param_count(&pos_t5, &c12));
    CHECK(pos_param_count(&pos_alibi, &c12) == 0 && pos_param_count(&pos_rotary, &c12) == 0 &&
              pos_param_count(&pos_sinusoidal, &c12) == 0 && pos_param_count(&pos_nope, &c12) == 0,
          "param-free methods report parameters");
    {
        PosTensor t[1];
        int nt = pos_t5.tensors(t, &c12);
        CHECK(nt == 1 && strcmp(t[0].name, "pos.t5.table") == 0 && t[0].ndim == 2 && t[0].shape[0] == 32 &&
                  t[0].shape[1] == 12 && !t[0].per_layer && t[0].decay,
              "t5 tensor must be pos.t5.table {32, NH}, shared, with weight decay");
        CHECK(pos_t5.init == NULL, "t5 table is zero-initialised (init NULL)");
    }
    static const struct { const PosMethod *m; const char *hooks; } hook_want[] = {
        {&pos_nope, "-"}, {&pos_sinusoidal, "embed"}, {&pos_rotary, "qk"}, {&pos_t5, "bias"}, {&pos_alibi, "bias"},
        {&pos_fox, "data+bias"},
    };
    for (size_t k = 0; k < sizeof hook_want / sizeof hook_want[0]; k++) {
        char buf[32];
        int n = pos_hooks_string(hook_want[k].m, buf, sizeof buf);
        CHECK(strcmp(buf, hook_want[k].hooks) == 0 && n == (int)strlen(buf), "%s hooks '%s', want '%s'",
              hook_want[k].m->name, buf, hook_want[k].hooks);
    }
    {
        PosMethod multi = pos_alibi;
        multi.embed_forward = pos_sinusoidal.embed_forward;
        multi.qk_forward = pos_rotary.qk_forward;
        char buf[32], tiny[4];
        pos_hooks_string(&multi, buf, sizeof buf);
        CHECK(strcmp(buf, "embed+qk+bias") == 0, "three hooks: '%s'", buf);
        int n = pos_hooks_string(&multi, tiny, sizeof tiny);
        CHECK(n == 13 && strcmp(tiny, "emb") == 0, "truncated hooks string '%s' (%d)", tiny, n);
    }
    CHECK(pos_nope.embed_forward == NULL && pos_nope.qk_forward == NULL && pos_nope.bias_add == NULL &&
              pos_nope.tensors == NULL && pos_nope.cache_size == NULL,
          "nope must have no hooks, params or cache");
}

/* ------------------------------------------------------- 2. golden values */

/* The official get_slopes of ofirpress/attention_with_linear_biases, literally:
 *   start = 2^(-2^-(log2(n)-3)); slopes = [start * start^i for i in range(n)]
 *   non-power of 2: get_slopes(c) + get_slopes(2c)[0::2][:n-c]. */
static void ref_slopes_pow2(int n, double *out) {
    double start = pow(2.0, -pow(2.0, -(log2((double)n) - 3.0)));
    for (int i = 0; i < n; i++) out[i] = start * pow(start, i);
}

static void ref_slopes(int n, double *out) {
    double l = log2((double)n);
    if (l == floor(l)) {
        ref_slopes_pow2(n, out);
        return;
    }
    int c = 1 << (int)floor(l);
    ref_slopes_pow2(c, out);
    double *twice = malloc(sizeof(double) * 2 * c);
    ref_slopes(2 * c, twice);
    for (int q = 0; q < n - c; q++) out[c + q] = twice[2 * q];
    free(twice);
}

static void alibi_slopes_of(int NH, float *out) {
    Fixture f = fixture_make(&pos_alibi, make_cfg(&pos_alibi, NH, 8, 64), 16, 1);
    /* read the slope through bias_add: bias(h, 1, 0) = -m_h */
    for (int h = 0; h < NH; h++) {
        float s[2] = {0, 0};
        pos_alibi.bias_add(s, 2, h, 1, 1, 0, 2, &f.ctx);
        out[h] = -s[0];
    }
    fixture_free(&f);
}

static void test_alibi_golden(void) {
    static const float want8[8] = {0.5f, 0.25f, 0.125f, 0.0625f, 0.03125f, 0.015625f, 0.0078125f, 0.00390625f};
    static const float want12[12] = {0.5f, 0.25f, 0.125f, 0.0625f, 0.03125f, 0.015625f, 0.0078125f, 0.00390625f,
                                     0.70710678118654752f,   /* 2^-0.5 */
                                     0.35355339059327376f,   /* 2^-1.5 */
                                     0.17677669529663688f,   /* 2^-2.5 */
                                     0.088388347648318441f}; /* 2^-3.5 */
    /* 6 heads: the 4-head set 2^-2, 2^-4, 2^-6, 2^-8, then indices 0, 2 of the 8-head set: 2^-1, 2^-3 */
    static const float want6[6] = {0.25f, 0.0625f, 0.015625f, 0.00390625f, 0.5f, 0.125f};
    static const float want4[4] = {0.25f, 0.0625f, 0.015625f, 0.00390625f};
    static const float want3[3] = {0.0625f, 0.00390625f, 0.25f};
    static const float want1[1] = {0.00390625f};
    float got[64];
    alibi_slopes_of(8, got);
    CHECK_CLOSE("alibi slopes, 8 heads", got, want8, 8, 1e-7, 0);
    alibi_slopes_of(12, got);
    CHECK_CLOSE("alibi slopes, 12 heads", got, want12, 12, 1e-7, 0);
    alibi_slopes_of(6, got);
    CHECK_CLOSE("alibi slopes, 6 heads", got, want6, 6, 1e-7, 0);
    alibi_slopes_of(4, got);
    CHECK_CLOSE("alibi slopes, 4 heads", got, want4, 4, 1e-7, 0);
    alibi_slopes_of(3, got);
    CHECK_CLOSE("alibi slopes, 3 heads", got, want3, 3, 1e-7, 0);
    alibi_slopes_of(1, got);
    CHECK_CLOSE("alibi slopes, 1 head", got, want1, 1, 1e-7, 0);
    {   /* 16 heads: m_k = 2^(-k/2) */
        float want[16];
        for (int k = 1; k <= 16; k++) want[k - 1] = (float)pow(2.0, -0.5 * k);
        alibi_slopes_of(16, got);
        CHECK_CLOSE("alibi slopes, 16 heads", got, want, 16, 1e-7, 0);
    }
    for (int NH = 1; NH <= 64; NH++) {   /* against the official code, every head count */
        double ref[64];
        float want[64];
        ref_slopes(NH, ref);
        for (int h = 0; h < NH; h++) want[h] = (float)ref[h];
        alibi_slopes_of(NH, got);
        char what[64];
        snprintf(what, sizeof what, "alibi slopes vs official get_slopes, %d heads", NH);
        CHECK_CLOSE(what, got, want, (size_t)NH, 1e-6, 0);
    }

    /* bias(h, i, j) = -m_h (i - j), also far from the origin (i up to 5000) */
    const int NH = 8, T = 5000;
    Fixture f = fixture_make(&pos_alibi, make_cfg(&pos_alibi, NH, 8, 512), T, 1);
    const int i0 = 4985, ni = 15, j0 = 0, nj = T;
    float *tile = xmalloc_floats((size_t)ni * nj), *want = xmalloc_floats((size_t)ni * nj);
    int bad = 0;
    for (int h = 0; h < NH; h++) {
        memset(tile, 0, sizeof(float) * ni * nj);
        pos_alibi.bias_add(tile, nj, h, i0, ni, j0, nj, &f.ctx);
        for (int r = 0; r < ni; r++)
            for (int c = 0; c <= i0 + r - j0 && c < nj; c++)
                want[r * nj + c] = (float)(-(double)want8[h] * (double)(i0 + r - (j0 + c)));
        for (int r = 0; r < ni; r++)
            for (int c = 0; c <= i0 + r - j0 && c < nj; c++) bad += tile[r * nj + c] != want[r * nj + c];
    }
    CHECK(bad == 0, "alibi bias -m_h (i-j) at i ~ 5000: %d entries differ", bad);
    free(tile);
    free(want);
    fixture_free(&f);
}

/* T5's relative_position_bucket (bidirectional=False, 32 buckets, max_distance 128),
 * reimplemented in double. */
static int ref_t5_bucket(int n) {
    const int num_buckets = 32, max_distance = 128, max_exact = num_buckets / 2;
    if (n < 0) n = 0;
    if (n < max_exact) return n;
    double v = log((double)n / max_exact) / log((double)max_distance / max_exact) * (num_buckets - max_exact);
    int b = max_exact + (int)v;
    return b < num_buckets - 1 ? b : num_buckets - 1;
}

static void test_t5_golden(void) {
    const int NH = 3, T = 301;
    Fixture f = fixture_make(&pos_t5, make_cfg(&pos_t5, NH, 8, 128), T, 7);
    /* table[b, h] = 100 b + h: the bias names its bucket */
    for (int b = 0; b < 32; b++)
        for (int h = 0; h < NH; h++) f.params[b * NH + h] = (float)(100 * b + h);
    float *S = xmalloc_floats((size_t)T * T);   /* (T, T) */
    int got_bucket[301];
    int bad_ref = 0, bad_bias = 0, bad_inspect = 0;
    for (int h = 0; h < NH; h++) {
        memset(S, 0, sizeof(float) * T * T);
        pos_t5.bias_add(S, T, h, 0, T, 0, T, &f.ctx);
        for (int i = 0; i < T; i++)
            for (int j = 0; j <= i; j++) {
                float want = (float)(100 * ref_t5_bucket(i - j) + h);
                bad_bias += S[i * T + j] != want;
            }
    }
    for (int n = 0; n < T; n++) {
        got_bucket[n] = (int)(S[n * T] / 100.0f);   /* bucket of distance n = row n, key 0, head NH-1 */
        bad_ref += got_bucket[n] != ref_t5_bucket(n);
        char buf[32];
        pos_t5.inspect_values(buf, sizeof buf, 0, n + 5, 5, &f.ctx);
        bad_inspect += atoi(buf) != ref_t5_bucket(n);
    }
    CHECK(bad_ref == 0, "t5 buckets 0..300 vs the double reimplementation: %d differ", bad_ref);
    CHECK(bad_bias == 0, "t5 bias(h,i,j) = table[bucket(i-j), h] for T=301: %d entries differ", bad_bias);
    CHECK(bad_inspect == 0, "t5 inspect 'bucket' column: %d differ", bad_inspect);
    CHECK(pos_t5.inspect_columns && strcmp(pos_t5.inspect_columns, "bucket") == 0, "t5 inspect_columns");
    static const int spot[][2] = {{0, 0},   {1, 1},   {15, 15}, {16, 16}, {20, 17},  {24, 19},  {32, 21},
                                  {50, 24}, {64, 26}, {90, 29}, {100, 30}, {112, 30}, {113, 31}, {127, 31},
                                  {128, 31}, {200, 31}, {300, 31}};
    for (size_t k = 0; k < sizeof spot / sizeof spot[0]; k++) {
        CHECK(got_bucket[spot[k][0]] == spot[k][1], "t5 bucket(%d) = %d, want %d", spot[k][0], got_bucket[spot[k][0]],
              spot[k][1]);
        CHECK(ref_t5_bucket(spot[k][0]) == spot[k][1], "reference bucket(%d) = %d, want %d", spot[k][0],
              ref_t5_bucket(spot[k][0]), spot[k][1]);
    }
    free(S);
    fixture_free(&f);

    /* far from the origin: a tile at i ~ 6000 crossing distance 128 */
    const int TL = 6000;
    f = fixture_make(&pos_t5, make_cfg(&pos_t5, NH, 8, 128), TL, 7);
    const int i0 = 5950, ni = 50, j0 = 5700, nj = 300;
    float *tile = xmalloc_floats((size_t)ni * nj);
    int bad = 0;
    for (int h = 0; h < NH; h++) {
        memset(tile, 0, sizeof(float) * ni * nj);
        pos_t5.bias_add(tile, nj, h, i0, ni, j0, nj, &f.ctx);
        for (int r = 0; r < ni; r++)
            for (int c = 0; c < nj && j0 + c <= i0 + r; c++)
                bad += tile[r * nj + c] != f.params[ref_t5_bucket(i0 + r - j0 - c) * NH + h];
    }
    CHECK(bad == 0, "t5 tile at i ~ 6000: %d entries differ from table[bucket(i-j), h]", bad);
    free(tile);
    fixture_free(&f);
}

/* RoPE cos/sin(p * 10000^(-2i/8)) from Python's math (double), hs = 8 */
static const struct { int p, i; double c, s; } rope_golden[] = {
    {0, 0, 1.0, 0.0},
    {0, 3, 1.0, 0.0},
    {1, 0, 0.54030230586813977, 0.8414709848078965},
    {7, 1, 0.76484218728448838, 0.64421768723769113},
    {1000, 0, 0.56237907629070294, 0.82687954053200252},
    {1000, 2, -0.83907152907645244, -0.54402111088936977},
    {4095, 0, -0.065975996558064895, -0.99782121037697435},
    {4095, 1, 0.4598633393467112, 0.88798970102411179},
    {4095, 3, -0.57890812975681039, -0.81539277486464889},
};

static void test_rotary_golden(void) {
    const int hs = 8, half = hs / 2, T = 4096;
    Fixture f = fixture_make(&pos_rotary, make_cfg(&pos_rotary, 2, hs, 512), T, 1);
    float *cs = xmalloc_floats((size_t)T * half), *sn = xmalloc_floats((size_t)T * half);
    float *cs2 = xmalloc_floats((size_t)T * half), *sn2 = xmalloc_floats((size_t)T * half);
    float *wc = xmalloc_floats((size_t)T * half), *ws = xmalloc_floats((size_t)T * half);
    double stray = qk_table(&pos_rotary, &f.ctx, T, 0, 0, cs, sn);
    CHECK(stray == 0.0, "rotary mixes other components than the pair (i, i+hs/2): %g", stray);
    for (size_t k = 0; k < sizeof rope_golden / sizeof rope_golden[0]; k++) {
        float got[2] = {cs[rope_golden[k].p * half + rope_golden[k].i], sn[rope_golden[k].p * half + rope_golden[k].i]};
        float want[2] = {(float)rope_golden[k].c, (float)rope_golden[k].s};
        char what[64];
        snprintf(what, sizeof what, "rotary cos,sin at p=%d i=%d", rope_golden[k].p, rope_golden[k].i);
        CHECK_CLOSE(what, got, want, 2, 0, 1.2e-7);
    }
    for (int p = 0; p < T; p++)
        for (int i = 0; i < half; i++) {
            double a = p * pow(10000.0, -2.0 * i / hs);
            wc[p * half + i] = (float)cos(a);
            ws[p * half + i] = (float)sin(a);
        }
    CHECK_CLOSE("rotary cos table, p < 4096 (double formula rounded once)", cs, wc, (size_t)T * half, 0, 1.2e-7);
    CHECK_CLOSE("rotary sin table, p < 4096", sn, ws, (size_t)T * half, 0, 1.2e-7);
    /* the same rotation for k as for q, for every head */
    qk_table(&pos_rotary, &f.ctx, T, 1, 1, cs2, sn2);
    CHECK(memcmp(cs, cs2, sizeof(float) * T * half) == 0 && memcmp(sn, sn2, sizeof(float) * T * half) == 0,
          "rotary must rotate q and k of every head alike");
    free(cs); free(sn); free(cs2); free(sn2); free(wc); free(ws);
    fixture_free(&f);

    /* odd hs = 5: pairs (0,2), (1,3); component 4 passes through unchanged */
    f = fixture_make(&pos_rotary, make_cfg(&pos_rotary, 1, 5, 64), 100, 1);
    float x5[100 * 5], want5[100 * 5];
    Rng rng;
    rng_seed(&rng, 3);
    randn_fill(x5, 500, &rng);
    memcpy(want5, x5, sizeof x5);
    pos_rotary.qk_forward(x5, 100, 0, 0, &f.ctx);
    for (int p = 0; p < 100; p++) {
        double a0 = p * 1.0, a1 = p * pow(10000.0, -2.0 / 5);
        float *w = want5 + p * 5, x0 = w[0], x1 = w[1], x2 = w[2], x3 = w[3];
        w[0] = (float)(x0 * cos(a0) - x2 * sin(a0));
        w[2] = (float)(x2 * cos(a0) + x0 * sin(a0));
        w[1] = (float)(x1 * cos(a1) - x3 * sin(a1));
        w[3] = (float)(x3 * cos(a1) + x1 * sin(a1));
    }
    CHECK_CLOSE("rotary hs=5: pairs (i, i+2) rotate, the last component is kept", x5, want5, 500, 1e-5, 1e-5);
    fixture_free(&f);
}

/* PE(p)[i] = sin(p w_i), PE(p)[d/2+i] = cos(p w_i), w_i = 10000^(-2i/16); Python double */
static const struct { int p, dim; double v; } sinusoidal_golden[] = {
    {0, 0, 0.0}, {0, 8, 1.0}, {0, 7, 0.0}, {0, 15, 1.0},
    {1, 0, 0.8414709848078965}, {1, 8, 0.54030230586813977},
    {5, 3, 0.15745589818234362}, {5, 11, 0.98752601997496325},
    {1000, 0, 0.82687954053200252}, {1000, 1, 0.87868085076878311}, {1000, 9, -0.47740963803870529},
    {4095, 0, -0.99782121037697435}, {4095, 8, -0.065975996558064895},
    {4095, 5, 0.37384985762656731}, {4095, 15, 0.27235876614436622},
};

static void test_sinusoidal_golden(void) {
    const int C = 16, T = 4096;
    Fixture f = fixture_make(&pos_sinusoidal, make_cfg(&pos_sinusoidal, 2, 8, 512), T, 1);
    float *x = xmalloc_floats((size_t)T * C), *want = xmalloc_floats((size_t)T * C);
    pos_sinusoidal.embed_forward(x, T, &f.ctx);
    for (size_t k = 0; k < sizeof sinusoidal_golden / sizeof sinusoidal_golden[0]; k++) {
        float got = x[sinusoidal_golden[k].p * C + sinusoidal_golden[k].dim];
        float w = (float)sinusoidal_golden[k].v;
        char what[64];
        snprintf(what, sizeof what, "sinusoidal PE(%d)[%d]", sinusoidal_golden[k].p, sinusoidal_golden[k].dim);
        CHECK_CLOSE(what, &got, &w, 1, 0, 1.2e-7);
    }
    for (int p = 0; p < T; p++)
        for (int i = 0; i < C / 2; i++) {
            double a = p * pow(10000.0, -2.0 * i / C);
            want[p * C + i] = (float)sin(a);
            want[p * C + C / 2 + i] = (float)cos(a);
        }
    CHECK_CLOSE("sinusoidal table, p < 4096 (double formula rounded once)", x, want, (size_t)T * C, 0, 1.2e-7);
    fixture_free(&f);

    /* odd d (3 heads x 5 = 15): halves of 7, last column 0 */
    const int C3 = 15, T3 = 50;
    f = fixture_make(&pos_sinusoidal, make_cfg(&pos_sinusoidal, 3, 5, 64), T3, 1);
    memset(x, 0, sizeof(float) * T3 * C3);
    pos_sinusoidal.embed_forward(x, T3, &f.ctx);
    for (int p = 0; p < T3; p++) {
        for (int i = 0; i < 7; i++) {
            double a = p * pow(10000.0, -2.0 * i / C3);
            want[p * C3 + i] = (float)sin(a);
            want[p * C3 + 7 + i] = (float)cos(a);
        }
        want[p * C3 + 14] = 0.0f;
    }
    CHECK_CLOSE("sinusoidal odd d = 15", x, want, (size_t)T3 * C3, 0, 1.2e-7);
    free(x);
    free(want);
    fixture_free(&f);
}


/* -------------------------------------------------- 3. hooks and gradients */

/* Configurations under which each method's hooks are checked: rotary also with
 * each of its options. */
static const char *const rotary_opts[] = {"", "pi=4", "ntk=8", "yarn=8"};

static int method_options(const PosMethod *m, const char *const **opts) {
    if (m == &pos_rotary) {
        *opts = rotary_opts;
        return (int)(sizeof rotary_opts / sizeof rotary_opts[0]);
    }
    static const char *const none[] = {""};
    *opts = none;
    return 1;
}

/* qk: the transform must be linear and qk_backward its transpose Jacobian. */
static void check_qk_hook(const PosMethod *m, const char *opt, int hs) {
    const int T = 6, n = T * hs;
    PosConfig cfg = make_cfg(m, 2, hs, 4);
    char err[ERRLEN];
    int rc = pos_apply_options(m, &cfg, opt, 1, err, sizeof err);
    CHECK(rc == 0, "%s options '%s': %s", m->name, opt, err);
    if (rc) return;
    Fixture f = fixture_make(m, cfg, T, 3);
    Rng rng;
    rng_seed(&rng, 11);
    float *J = xmalloc_floats((size_t)n * n);    /* (n, n): J[r*n + k] = d out_r / d x_k */
    float *x = xmalloc_floats(n), *y = xmalloc_floats(n), *z = xmalloc_floats(n);
    float *g = xmalloc_floats(n), *dx = xmalloc_floats(n), *want = xmalloc_floats(n);
    double *jtg = malloc(sizeof(double) * n), *fd = malloc(sizeof(double) * n);
    randn_fill(g, n, &rng);
    for (int head = 0; head < 2; head++)
        for (int is_key = 0; is_key < 2; is_key++) {
            /* J column by column: J e_k */
            for (int k = 0; k < n; k++) {
                memset(x, 0, sizeof(float) * n);
                x[k] = 1.0f;
                m->qk_forward(x, T, head, is_key, &f.ctx);
                for (int r = 0; r < n; r++) J[(size_t)r * n + k] = x[r];
            }
            /* linearity: f(2x - 3y) = 2 f(x) - 3 f(y) */
            randn_fill(x, n, &rng);
            randn_fill(y, n, &rng);
            for (int k = 0; k < n; k++) z[k] = 2 * x[k] - 3 * y[k];
            m->qk_forward(x, T, head, is_key, &f.ctx);
            m->qk_forward(y, T, head, is_key, &f.ctx);
            m->qk_forward(z, T, head, is_key, &f.ctx);
            for (int k = 0; k < n; k++) want[k] = 2 * x[k] - 3 * y[k];
            CHECK_CLOSE("qk_forward is linear in x", z, want, n, 1e-5, 1e-5);
            /* backward = J^T g */
            memcpy(dx, g, sizeof(float) * n);
            m->qk_backward(dx, T, head, is_key, &f.ctx);
            for (int k = 0; k < n; k++) {
                double s = 0;
                for (int r = 0; r < n; r++) s += (double)J[(size_t)r * n + k] * g[r];
                jtg[k] = s;
            }
            double e1 = max_rel_err(dx, jtg, n, 1e-3);
            CHECK(e1 < 1e-6, "%s [%s] hs=%d head %d %s: qk_backward vs J^T g, rel err %.3g", m->name, opt, hs, head,
                  is_key ? "k" : "q", e1);
            /* central differences of L(x) = sum g . f(x), in double, at a random x */
            randn_fill(x, n, &rng);
            const double h = 1e-2;
            for (int k = 0; k < n; k++) {
                double Lp = 0, Lm = 0;
                memcpy(y, x, sizeof(float) * n);
                y[k] = (float)(x[k] + h);
                double hp = (double)y[k] - x[k];
                m->qk_forward(y, T, head, is_key, &f.ctx);
                for (int r = 0; r < n; r++) Lp += (double)g[r] * y[r];
                memcpy(y, x, sizeof(float) * n);
                y[k] = (float)(x[k] - h);
                double hm = x[k] - (double)y[k];
                m->qk_forward(y, T, head, is_key, &f.ctx);
                for (int r = 0; r < n; r++) Lm += (double)g[r] * y[r];
                fd[k] = (Lp - Lm) / (hp + hm);
            }
            double e2 = max_rel_err(dx, fd, n, 1e-3);
            CHECK(e2 < 1e-3, "%s [%s] hs=%d head %d %s: qk_backward vs finite differences, rel err %.3g", m->name, opt,
                  hs, head, is_key ? "k" : "q", e2);
        }
    free(J); free(x); free(y); free(z); free(g); free(dx); free(want); free(jtg); free(fd);
    fixture_free(&f);
}

/* sum over heads and causal entries of G (NH, T, T) times the bias, in double */
static double bias_loss(const PosMethod *m, Fixture *f, const float *G, float *S, int NH, int T) {
    const PosCtx *ctx = &f->ctx;
    pos_bound_refresh(f);   /* the table follows the (perturbed) parameters */
    double L = 0;
    for (int h = 0; h < NH; h++) {
        memset(S, 0, sizeof(float) * T * T);
        m->bias_add(S, T, h, 0, T, 0, T, ctx);
        for (int i = 0; i < T; i++)
            for (int j = 0; j <= i; j++) L += (double)G[((size_t)h * T + i) * T + j] * S[i * T + j];
    }
    return L;
}

/* The finite-difference step and tolerance a method declares (method.h). */
static double fd_eps(const PosMethod *m) { return m->fd.eps > 0 ? m->fd.eps : 1e-2; }
static double fd_tol(const PosMethod *m) { return m->fd.tol > 0 ? m->fd.tol : 1e-3; }

/* Redraw f's parameters (the method's init, new seeds) until no kink lies
 * within the step; the check is never skipped: failing to find such a point is
 * itself a failure. */
static void fd_away_from_kinks(const PosMethod *m, Fixture *f) {
    if (!m->fd.near_kink) return;
    int tries = 0;
    while (m->fd.near_kink(&f->ctx, fd_eps(m)) && tries < 50) {
        PosBound fresh = pos_bound_make(m, f->ctx.cfg, f->ctx.cache_len, 0.0f, 1000 + (uint64_t)tries++);
        memcpy(f->params, fresh.params, sizeof(float) * f->n_params);
        pos_bound_free(&fresh);
        pos_bound_refresh(f);
    }
    CHECK(!m->fd.near_kink(&f->ctx, fd_eps(m)), "%s: no parameters away from kinks in %d draws", m->name, tries);
}

/* Worst relative error (floor 1e-2) of bias_backward's parameter gradient,
 * accumulated over every head on top of 0.25, against central differences of
 * bias_loss with the method's step. */
static double bias_param_fd_err(const PosMethod *m, Fixture *f, const float *G, float *S, int NH, int T) {
    for (size_t k = 0; k < f->n_params; k++) f->dparams[k] = 0.25f;
    pos_bound_grads(f, f->dparams);
    pos_bound_zero_ddata(f);
    for (int h = 0; h < NH; h++) m->bias_backward(G + (size_t)h * T * T, T, h, 0, T, 0, T, &f->ctx);
    pos_bound_data_backward(f, 1);   /* a data-dependent method's parameters: through its values */
    float *grad = xmalloc_floats(f->n_params);
    double *fd = malloc(sizeof(double) * f->n_params);
    for (size_t k = 0; k < f->n_params; k++) grad[k] = f->dparams[k] - 0.25f;
    const double eps = fd_eps(m);
    for (size_t k = 0; k < f->n_params; k++) {
        float keep = f->params[k];
        f->params[k] = (float)(keep + eps);
        double hp = (double)f->params[k] - keep;
        double Lp = bias_loss(m, f, G, S, NH, T);
        f->params[k] = (float)(keep - eps);
        double hm = keep - (double)f->params[k];
        double Lm = bias_loss(m, f, G, S, NH, T);
        f->params[k] = keep;
        fd[k] = (Lp - Lm) / (hp + hm);
    }
    double e = max_rel_err(grad, fd, f->n_params, 1e-2);
    free(grad);
    free(fd);
    return e;
}

/* A data-dependent method: the gradient into its input x (bias_backward, then
 * data_backward) against central differences of bias_loss in x (sequence 0),
 * step 1e-2; worst relative error, floor 1e-2. */
static double data_input_fd_err(const PosMethod *m, Fixture *f, const float *G, float *S, int NH, int T) {
    pos_bound_grads(f, f->dparams);
    pos_bound_zero_ddata(f);
    for (int h = 0; h < NH; h++) m->bias_backward(G + (size_t)h * T * T, T, h, 0, T, 0, T, &f->ctx);
    pos_bound_data_backward(f, 1);
    const size_t n = (size_t)T * f->ctx.cfg.d_model;
    double *fd = malloc(sizeof(double) * n);
    for (size_t k = 0; k < n; k++) {
        float keep = f->x[k];
        f->x[k] = keep + 1e-2f;
        double hp = (double)f->x[k] - keep, Lp = bias_loss(m, f, G, S, NH, T);
        f->x[k] = keep - 1e-2f;
        double hm = keep - (double)f->x[k], Lm = bias_loss(m, f, G, S, NH, T);
        f->x[k] = keep;
        fd[k] = (Lp - Lm) / (hp + hm);
    }
    pos_bound_refresh(f);
    double e = max_rel_err(f->dx, fd, n, 1e-2);
    free(fd);
    return e;
}

/* Tiles of (ti, tj) written into a scratch tile with padded rows must equal the
 * whole (T, T) matrix S on causal entries and write nothing outside the tile. */
static void check_bias_tiles(const PosMethod *m, const PosCtx *ctx, const float *G, int NH, int T, int ti, int tj) {
    const float sentinel = 1234.5f;
    const int ld = tj + 3;
    float *S = xmalloc_floats((size_t)T * T), *tile = xmalloc_floats((size_t)ti * ld);
    float *dp_whole = NULL, *dp_tiles = NULL;
    size_t np = pos_layer_param_count(m, &ctx->cfg);
    int nt = pos_tensor_count(m, &ctx->cfg);
    float **dpw = xcalloc((size_t)nt + 1, sizeof(float *)), **dpt = xcalloc((size_t)nt + 1, sizeof(float *));
    PosCtx c = *ctx;
    if (np && m->bias_backward) {
        dp_whole = xmalloc_floats(np);
        dp_tiles = xmalloc_floats(np);
    }
    /* a data-dependent method's gradient into its values, (NH, data_len) */
    size_t nd = ctx->ddata ? (size_t)NH * ctx->data_len : 0;
    float *dd_whole = nd ? xmalloc_floats(nd) : NULL, *dd_tiles = nd ? xmalloc_floats(nd) : NULL;
    int bad = 0, spill = 0;
    for (int h = 0; h < NH; h++) {
        memset(S, 0, sizeof(float) * T * T);
        m->bias_add(S, T, h, 0, T, 0, T, ctx);
        if (dp_whole) {
            pos_bind_flat(m, &ctx->cfg, NULL, dp_whole, NULL, dpw);
            c.dp = dpw;
            c.ddata = dd_whole;
            m->bias_backward(G + (size_t)h * T * T, T, h, 0, T, 0, T, &c);
        }
        for (int i0 = 0; i0 < T; i0 += ti)
            for (int j0 = 0; j0 < T; j0 += tj) {
                int ni = T - i0 < ti ? T - i0 : ti, nj = T - j0 < tj ? T - j0 : tj;
                for (int k = 0; k < ti * ld; k++) tile[k] = sentinel;
                for (int r = 0; r < ni; r++) memset(tile + r * ld, 0, sizeof(float) * nj);
                m->bias_add(tile, ld, h, i0, ni, j0, nj, ctx);
                for (int r = 0; r < ti; r++)
                    for (int cc = 0; cc < ld; cc++) {
                        int inside = r < ni && cc < nj;
                        if (!inside) spill += tile[r * ld + cc] != sentinel;
                        else if (j0 + cc <= i0 + r) bad += tile[r * ld + cc] != S[(i0 + r) * T + j0 + cc];
                    }
                if (dp_tiles) {
                    pos_bind_flat(m, &ctx->cfg, NULL, dp_tiles, NULL, dpt);
                    c.dp = dpt;
                    c.ddata = dd_tiles;
                    m->bias_backward(G + ((size_t)h * T + i0) * T + j0, T, h, i0, ni, j0, nj, &c);
                }
            }
    }
    CHECK(bad == 0, "%s: bias_add in %dx%d tiles at T=%d differs from the whole matrix in %d entries", m->name, ti, tj,
          T, bad);
    CHECK(spill == 0, "%s: bias_add wrote %d entries outside its %dx%d tile", m->name, spill, ti, tj);
    if (dp_whole) {
        char what[96];
        snprintf(what, sizeof what, "%s: bias_backward in %dx%d tiles vs whole matrix at T=%d", m->name, ti, tj, T);
        CHECK_CLOSE(what, dp_tiles, dp_whole, np, 1e-5, 1e-5);
    }
    if (nd) {
        char what[96];
        snprintf(what, sizeof what, "%s: bias_backward into the data in %dx%d tiles vs whole at T=%d", m->name, ti, tj, T);
        CHECK_CLOSE(what, dd_tiles, dd_whole, nd, 1e-5, 1e-5);
    }
    free(S); free(tile); free(dp_whole); free(dp_tiles); free(dpw); free(dpt); free(dd_whole); free(dd_tiles);
}

/* bias: tiles vs whole; with parameters, dparams vs central differences. */
static void check_bias_hook(const PosMethod *m) {
    const int NH = 3, T = check_quick ? 140 : 150;   /* past distance 128 */
    Fixture f = fixture_make(m, make_cfg(m, NH, 4, 64), T, 5);
    Rng rng;
    rng_seed(&rng, 21);
    float *G = xmalloc_floats((size_t)NH * T * T);   /* (NH, T, T) upstream, nonzero above the diagonal too */
    float *S = xmalloc_floats((size_t)T * T);
    randn_fill(G, (size_t)NH * T * T, &rng);
    check_bias_tiles(m, &f.ctx, G, NH, 37, 16, 8);
    check_bias_tiles(m, &f.ctx, G, NH, T, 7, 13);
    check_bias_tiles(m, &f.ctx, G, NH, T, 64, 64);
    if (f.n_params) {
        CHECK(m->bias_backward != NULL, "%s has parameters but no bias_backward", m->name);
        if (m->bias_backward) {
            const int TF = m->fd.max_len > 0 && m->fd.max_len < T ? m->fd.max_len : T;
            Fixture g = fixture_make(m, make_cfg(m, NH, 4, 64), TF, 5);
            fd_away_from_kinks(m, &g);
            double e = bias_param_fd_err(m, &g, G, S, NH, TF);
            CHECK(e < fd_tol(m), "%s: bias_backward dparams vs finite differences (step %g, T %d), rel err %.3g > %g",
                  m->name, fd_eps(m), TF, e, fd_tol(m));
            if (m->data_forward) {
                e = data_input_fd_err(m, &g, G, S, NH, TF);
                CHECK(e < fd_tol(m), "%s: gradient into the attention input vs finite differences (T %d), rel err %.3g > %g",
                      m->name, TF, e, fd_tol(m));
            }
            fixture_free(&g);
        }
    }
    free(G);
    free(S);
    fixture_free(&f);
}

/* embed: adds a term independent of x (so dx passes through); with parameters,
 * dparams vs central differences of sum G . (x + PE). */
static void check_embed_hook(const PosMethod *m) {
    const int T = 9;
    PosConfig cfg = make_cfg(m, 2, 6, 16);
    const int C = cfg.d_model, n = T * C;
    Fixture f = fixture_make(m, cfg, T, 9);
    Rng rng;
    rng_seed(&rng, 31);
    float *x = xmalloc_floats(n), *pe = xmalloc_floats(n), *G = xmalloc_floats(n);
    randn_fill(x, n, &rng);
    randn_fill(G, n, &rng);
    float *x0 = xmalloc_floats(n);
    memcpy(x0, x, sizeof(float) * n);
    m->embed_forward(pe, T, &f.ctx);   /* from zeros: the term itself */
    m->embed_forward(x, T, &f.ctx);
    for (int k = 0; k < n; k++) x0[k] += pe[k];
    CHECK_CLOSE("embed_forward adds a term independent of x", x, x0, n, 1e-6, 1e-6);
    if (f.n_params) {
        CHECK(m->embed_backward != NULL, "%s has parameters but no embed_backward", m->name);
        if (m->embed_backward) {
            for (size_t k = 0; k < f.n_params; k++) f.dparams[k] = 0.25f;
            m->embed_backward(G, T, &f.ctx);
            float *grad = xmalloc_floats(f.n_params);
            double *fd = malloc(sizeof(double) * f.n_params);
            for (size_t k = 0; k < f.n_params; k++) grad[k] = f.dparams[k] - 0.25f;
            for (size_t k = 0; k < f.n_params; k++) {
                float keep = f.params[k];
                double L[2];
                for (int s = 0; s < 2; s++) {
                    f.params[k] = (float)(keep + (s ? -1e-2 : 1e-2));
                    memset(pe, 0, sizeof(float) * n);
                    m->embed_forward(pe, T, &f.ctx);
                    L[s] = 0;
                    for (int q = 0; q < n; q++) L[s] += (double)G[q] * pe[q];
                }
                f.params[k] = keep;
                fd[k] = (L[0] - L[1]) / 2e-2;
            }
            double e = max_rel_err(grad, fd, f.n_params, 1e-2);
            CHECK(e < 1e-3, "%s: embed_backward dparams vs finite differences, rel err %.3g", m->name, e);
            free(grad);
            free(fd);
        }
    }
    free(x); free(x0); free(pe); free(G);
    fixture_free(&f);
}

static void test_hooks(void) {
    for (int k = 0; k < pos_method_count; k++) {
        const PosMethod *m = pos_methods[k];
        if (m->qk_forward) {
            const char *const *opts;
            int no = method_options(m, &opts);
            for (int o = 0; o < no; o++) {
                check_qk_hook(m, opts[o], 8);
                check_qk_hook(m, opts[o], 6);
                check_qk_hook(m, opts[o], 5);   /* odd hs: the last component passes through */
            }
        }
        if (m->bias_add) check_bias_hook(m);
        if (m->embed_forward) check_embed_hook(m);
    }
}

/* xPos (Sun et al. 2022) scales from the paper's definition, Python double:
 * zeta_i = (i/(hs/2) + 0.4)/1.4, s = zeta_i^((n - c)/gamma), c = ceil(T/2);
 * q: s cos(n theta_i), s sin(n theta_i); k: cos/s, sin/s (hs 8, gamma 512, T 1024). */
static const struct { int n, i; double qc, qs, kc, ks; } xpos_golden[] = {
    {0, 0, 3.4999999999999996, 0.0, 0.28571428571428575, 0.0},
    {1000, 0, 0.17039792398556428, 0.2505401837175708, 1.8560685368231247, 2.729022404330841},
    {1000, 3, 0.4479310477928867, 0.6976112739454059, 0.651722141532393, 1.0149970975511844},
    {300, 2, -1.1887335050662593, 0.16944985178376476, -0.8244784378905461, 0.117526551160578},
};

static void test_xpos_golden(void) {
    const int hs = 8, half = hs / 2, T = 1024;
    Fixture f = fixture_make(&pos_xpos, make_cfg(&pos_xpos, 2, hs, 128), T, 1);
    float *qc = xmalloc_floats((size_t)T * half), *qs = xmalloc_floats((size_t)T * half);
    float *kc = xmalloc_floats((size_t)T * half), *ks = xmalloc_floats((size_t)T * half);
    qk_table(&pos_xpos, &f.ctx, T, 1, 0, qc, qs);
    qk_table(&pos_xpos, &f.ctx, T, 1, 1, kc, ks);
    for (size_t k = 0; k < sizeof xpos_golden / sizeof xpos_golden[0]; k++) {
        size_t at = (size_t)xpos_golden[k].n * half + xpos_golden[k].i;
        float got[4] = {qc[at], qs[at], kc[at], ks[at]};
        float want[4] = {(float)xpos_golden[k].qc, (float)xpos_golden[k].qs, (float)xpos_golden[k].kc,
                         (float)xpos_golden[k].ks};
        char what[64];
        snprintf(what, sizeof what, "xpos q and k scale x cos/sin at n=%d i=%d", xpos_golden[k].n, xpos_golden[k].i);
        CHECK_CLOSE(what, got, want, 4, 2e-7, 0);
    }
    /* q_m . k_n = zeta_i^((m - n)/gamma) cos((m - n) theta_i) for the pair's unit vectors, any centre */
    int bad = 0;
    for (int i = 0; i < half; i++) {
        double z = ((double)i / half + 0.4) / 1.4, th = pow(10000.0, -2.0 * i / hs);
        for (int m = 900; m < 1024; m += 41)
            for (int n = 0; n <= m; n += 97) {
                size_t a = (size_t)m * half + i, b = (size_t)n * half + i;
                double dot = (double)qc[a] * kc[b] + (double)qs[a] * ks[b];
                double want = pow(z, (m - n) / 512.0) * cos((m - n) * th);
                bad += fabs(dot - want) > 2e-6;
            }
    }
    CHECK(bad == 0, "xpos q.k = zeta^((m-n)/gamma) cos((m-n) theta): %d pairs differ", bad);
    char err[ERRLEN];
    CHECK(pos_xpos.check_len(&f.ctx.cfg, 50000, err, sizeof err) == 0, "xpos at 50000 with gamma 512: %s", err);
    CHECK(pos_xpos.check_len(&f.ctx.cfg, 60000, err, sizeof err) == -1 && strstr(err, "float32"),
          "xpos refuses 60000 with gamma 512 (scales beyond e^64): %s", err);
    free(qc); free(qs); free(kc); free(ks);
    fixture_free(&f);
}

/* KERPLE (Chi et al. 2022) biases for given r1, r2, Python double:
 *   log:   -r1 log(1 + r2 d)     power: -r1 d^r2 */
static void test_kerple_golden(void) {
    static const struct { const PosMethod *m; float r1, r2; int d; double want; } g[] = {
        {&pos_kerple_log, 0.5f, 0.25f, 10, -0.626381484247684},
        {&pos_kerple_log, 1.5f, 0.01f, 1000, -3.596842909197556},
        {&pos_kerple_power, 0.5f, 1.5f, 10, -15.811388300841896},
        {&pos_kerple_power, 2.0f, 0.25f, 1000, -11.246826503806982},
        {&pos_kerple_power, 0.75f, 2.0f, 7, -36.75},
    };
    const int T = 1024;
    for (size_t k = 0; k < sizeof g / sizeof g[0]; k++) {
        Fixture f = fixture_make(g[k].m, make_cfg(g[k].m, 2, 4, 64), T, 1);
        f.params[1] = g[k].r1;   /* head 1: r1 (tensor 0), r2 (tensor 1) */
        f.params[2 + 1] = g[k].r2;
        pos_bound_refresh(&f);
        float row[2] = {0, 0};
        g[k].m->bias_add(row, 2, 1, g[k].d, 1, 0, 1, &f.ctx);   /* bias(1, d, 0) */
        float want = (float)g[k].want;
        char what[80];
        snprintf(what, sizeof what, "%s bias r1 %g r2 %g d %d", g[k].m->name, g[k].r1, g[k].r2, g[k].d);
        CHECK_CLOSE(what, row, &want, 1, 2e-7, 0);
        float zero[1] = {0}, at0[1] = {0};
        g[k].m->bias_add(at0, 1, 1, 5, 1, 5, 1, &f.ctx);
        CHECK_CLOSE("kerple bias at distance 0 is 0", at0, zero, 1, 0, 0);
        fixture_free(&f);
    }
    /* the projection keeps the authors' domains: r >= 0.01, power's r2 <= 2 */
    float x[4] = {-1.0f, 0.005f, 0.5f, 3.0f}, wl[4] = {0.01f, 0.01f, 0.5f, 3.0f}, wp[4] = {0.01f, 0.01f, 0.5f, 2.0f};
    PosConfig cfg = make_cfg(&pos_kerple_log, 4, 4, 64);
    float y[4];
    memcpy(y, x, sizeof x);
    pos_kerple_log.project(y, 4, 1, &cfg);
    CHECK_CLOSE("kerple_log projection: r >= 0.01", y, wl, 4, 0, 0);
    memcpy(y, x, sizeof x);
    pos_kerple_power.project(y, 4, 1, &cfg);
    CHECK_CLOSE("kerple_power projection: 0.01 <= r2 <= 2", y, wp, 4, 0, 0);
    /* tensors: r1, r2 {NH}, per layer, no weight decay; shared=1 shares them */
    PosTensor t[2];
    CHECK(pos_kerple_log.tensors(t, &cfg) == 2 && !strcmp(t[0].name, "pos.kerple_log.r1") && t[0].per_layer &&
              !t[0].decay && t[1].shape[0] == 4,
          "kerple_log tensors r1, r2 {NH} per layer without decay");
    CHECK(pos_param_count(&pos_kerple_log, &cfg) == 2 * 4 * 2, "kerple params: 2 x NH x n_layer");
    char err[ERRLEN];
    CHECK(pos_apply_options(&pos_kerple_log, &cfg, "shared=1", 0, err, sizeof err) == 0, "shared=1: %s", err);
    CHECK(pos_kerple_log.tensors(t, &cfg) == 2 && !t[0].per_layer && pos_param_count(&pos_kerple_log, &cfg) == 8,
          "kerple_log:shared=1 shares r1, r2 across layers");
    PosConfig c2 = make_cfg(&pos_kerple_log, 4, 4, 64);
    CHECK(pos_apply_options(&pos_kerple_log, &c2, "shared=1", 1, err, sizeof err) == -1 && strstr(err, "training"),
          "shared is fixed at training: %s", err);
}

/* learned: adds its rows; beyond the table the length is refused with the reason. */
static void test_learned(void) {
    PosConfig cfg = make_cfg(&pos_learned, 2, 4, 16);
    Fixture f = fixture_make(&pos_learned, cfg, 16, 3);
    float x[16 * 8];
    memset(x, 0, sizeof x);
    pos_learned.embed_forward(x, 16, &f.ctx);
    CHECK_CLOSE("learned adds table rows 0..T-1", x, f.params, 16 * 8, 0, 0);
    char err[ERRLEN];
    CHECK(pos_learned.check_len(&cfg, 16, err, sizeof err) == 0, "learned at L");
    CHECK(pos_learned.check_len(&cfg, 17, err, sizeof err) == -1 && !strcmp(err, "learned table has 16 rows"),
          "learned beyond L: '%s'", err);
    fixture_free(&f);
}

/* A broken backward must fail the finite-difference check: a sign flip and a
 * dropped factor in KERPLE-log's parameter gradient, through the same checker
 * the real methods pass. */
static void broken_grad_sign(double r1, double r2, int d, double *g1, double *g2) {
    *g1 = log1p(r2 * d);   /* sign flipped */
    *g2 = -r1 * d / (1.0 + r2 * d);
}
static void broken_grad_drop(double r1, double r2, int d, double *g1, double *g2) {
    *g1 = -log1p(r2 * d);
    *g2 = -d / (1.0 + r2 * d);   /* r1 dropped */
}
static void broken_backward_sign(const float *ds, int ld, int h, int i0, int ni, int j0, int nj, const PosCtx *c) {
    pos_kernel_backward(ds, ld, h, i0, ni, j0, nj, c, broken_grad_sign);
}
static void broken_backward_drop(const float *ds, int ld, int h, int i0, int ni, int j0, int nj, const PosCtx *c) {
    pos_kernel_backward(ds, ld, h, i0, ni, j0, nj, c, broken_grad_drop);
}

static void test_broken_backward_fails(void) {
    const int NH = 3, T = 40;
    void (*broken[2])(const float *, int, int, int, int, int, int, const PosCtx *) = {broken_backward_sign,
                                                                                      broken_backward_drop};
    const char *what[2] = {"sign flip", "dropped factor r1"};
    Rng rng;
    rng_seed(&rng, 5);
    float *G = xmalloc_floats((size_t)NH * T * T), *S = xmalloc_floats((size_t)T * T);
    randn_fill(G, (size_t)NH * T * T, &rng);
    for (int b = 0; b < 3; b++) {
        PosMethod m = pos_kerple_log;
        if (b < 2) m.bias_backward = broken[b];
        Fixture f = fixture_make(&m, make_cfg(&m, NH, 4, 64), T, 8);
        f.m = &m;
        double e = bias_param_fd_err(&m, &f, G, S, NH, T);
        if (b < 2) CHECK(e > 10 * fd_tol(&m), "a %s in bias_backward must fail the check (rel err %.3g)", what[b], e);
        else CHECK(e < fd_tol(&m), "the unbroken backward passes the same check (rel err %.3g)", e);
        fixture_free(&f);
    }
    free(G);
    free(S);
}

/* FIRE (Li et al.): the progressive normalisation psi(i-j)/psi(max(L^, i)),
 * read through an MLP that is the identity on x >= 0 (w1 = e_0, w2[h] = e_0,
 * biases 0), c = 0.1, L^ = 8: rows below and above the threshold; Python double. */
static void test_fire_golden(void) {
    static const struct { int i, j; double want; } g[] = {
        {5, 2, 0.44635891518952014},   /* i < L^: log(1.3) / log(1.8) */
        {8, 0, 0.9999982987053664},    /* i = L^: the normaliser's + 1e-6 */
        {20, 4, 0.8697432070804814},   /* i > L^: log(2.6) / log(3) */
        {100, 99, 0.039747415634912735},
    };
    PosConfig cfg = make_cfg(&pos_fire, 2, 4, 64);
    char err[ERRLEN];
    CHECK(pos_apply_options(&pos_fire, &cfg, "L0=8", 0, err, sizeof err) == 0, "fire L0=8: %s", err);
    Fixture f = fixture_make(&pos_fire, cfg, 128, 1);
    memset(f.params, 0, sizeof(float) * f.n_params);
    float *w1 = (float *)f.p[0], *w2 = (float *)f.p[2], *c = (float *)f.p[4], *lm = (float *)f.p[5];
    w1[0] = 1.0f;
    w2[0] = 1.0f;            /* head 0 */
    w2[32] = 1.0f;           /* head 1 */
    c[0] = 0.1f;
    lm[0] = 1.0f;
    pos_bound_refresh(&f);
    for (size_t k = 0; k < sizeof g / sizeof g[0]; k++) {
        float row[128] = {0};
        pos_fire.bias_add(row, 128, 1, g[k].i, 1, 0, g[k].i + 1, &f.ctx);
        float want = (float)g[k].want;
        char what[64];
        snprintf(what, sizeof what, "fire normalised distance at i=%d j=%d", g[k].i, g[k].j);
        CHECK_CLOSE(what, &row[g[k].j], &want, 1, 1e-6, 0);
    }
    /* tensors: six per layer, weight decay on w1 and w2 only */
    int nt;
    PosTensor *t = pos_tensor_list(&pos_fire, &cfg, &nt);
    CHECK(nt == 6 && t[0].decay && !t[1].decay && t[2].decay && !t[3].decay && !t[4].decay && !t[5].decay &&
              t[2].shape[0] == 2 && t[2].shape[1] == 32 && t[0].per_layer,
          "fire tensors w1 {32,1}, b1, w2 {NH,32}, b2, c, L_mult: per layer, decay on w1, w2");
    free(t);
    fixture_free(&f);

    /* the gradient through both regimes (L^ = 4.5 inside T = 12), c and L_mult included */
    PosConfig c2 = make_cfg(&pos_fire, 3, 4, 64);
    CHECK(pos_apply_options(&pos_fire, &c2, "L0=4.5", 0, err, sizeof err) == 0, "fire L0=4.5: %s", err);
    const int NH = 3, T = 12;
    Fixture g2 = fixture_make(&pos_fire, c2, T, 11);
    Rng rng;
    rng_seed(&rng, 12);
    float *G = xmalloc_floats((size_t)NH * T * T), *S = xmalloc_floats((size_t)T * T);
    randn_fill(G, (size_t)NH * T * T, &rng);
    fd_away_from_kinks(&pos_fire, &g2);
    double e = bias_param_fd_err(&pos_fire, &g2, G, S, NH, T);
    CHECK(e < fd_tol(&pos_fire), "fire gradient with rows beyond L^ (c, L_mult, MLP) vs finite differences: %.3g", e);
    free(G);
    free(S);
    fixture_free(&g2);
}

/* FoX (Lin et al. 2025) on a hand-worked 3-token example: one head, C = 2,
 * w = (1, -0.5), b = 0.25, x_0 = (0.5, 1), x_1 = (2, -1), x_2 = (-1, 0.5):
 *   z = w.x + b = 0.25, 2.75, -1;   log f = -log(1 + e^-z) = -0.57594, -0.06197, -1.31326
 *   bias(1,0) = log f_1,  bias(2,1) = log f_2,  bias(2,0) = log f_1 + log f_2,  bias(i,i) = 0
 * (log f_0 never enters: the gate of token j decays what comes before j.) */
static void test_fox_golden(void) {
    PosConfig cfg = make_cfg(&pos_fox, 1, 2, 16);
    Fixture f = fixture_make(&pos_fox, cfg, 3, 1);
    float *w = (float *)f.p[0], *b = (float *)f.p[1];
    w[0] = 1.0f, w[1] = -0.5f, b[0] = 0.25f;
    const float x[6] = {0.5f, 1.0f, 2.0f, -1.0f, -1.0f, 0.5f};
    memcpy(f.x, x, sizeof x);
    pos_bound_refresh(&f);
    const double l1 = -0.061967589003198625, l2 = -1.3132616875182228;
    const float want[9] = {0, 0, 0, (float)l1, 0, 0, (float)(l1 + l2), (float)l2, 0};
    float S[9] = {0};
    pos_fox.bias_add(S, 3, 0, 0, 3, 0, 3, &f.ctx);
    for (int k = 0; k < 9; k++)
        if (k % 3 > k / 3) S[k] = 0;   /* j > i: masked later, may hold anything */
    CHECK_CLOSE("fox bias on the 3-token example", S, want, 9, 1e-6, 1e-7);
    int nt;
    PosTensor *t = pos_tensor_list(&pos_fox, &cfg, &nt);
    CHECK(nt == 2 && t[0].per_layer && t[1].per_layer && t[0].decay && !t[1].decay && t[0].shape[0] == 1 &&
              t[0].shape[1] == 2,
          "fox tensors w {NH, C} with decay, b {NH} without, both per layer");
    free(t);
    /* the initial gate: w ~ N(0, 0.02), b = 0, as the authors' code */
    PosConfig c8 = make_cfg(&pos_fox, 8, 64, 512);
    Fixture g = pos_bound_make(&pos_fox, c8, 4, 0.0f, 3);
    double ss = 0, bmax = 0;
    for (int k = 0; k < 8 * 512; k++) ss += (double)g.p[0][k] * g.p[0][k];
    for (int h = 0; h < 8; h++) bmax = fmax(bmax, fabs(g.p[1][h]));
    CHECK(fabs(sqrt(ss / (8 * 512)) - 0.02) < 0.002 && bmax == 0, "fox init: w std %.4f (want 0.02), b max %g (want 0)",
          sqrt(ss / (8 * 512)), bmax);
    pos_bound_free(&g);
    fixture_free(&f);
}

/* A broken FoX backward must fail the checks the real one passes: a sign flip of
 * the data gradient, the data backward without its sigmoid(-z) factor, and a
 * bias backward with its sign flipped. */
static void fox_data_backward_sign(float *dx, const float *dv, const float *x, int T, const PosCtx *c) {
    size_t n = (size_t)c->cfg.n_head * T;
    float *neg = xmalloc_floats(n);
    for (size_t k = 0; k < n; k++) neg[k] = -dv[k];
    pos_fox.data_backward(dx, neg, x, T, c);
    free(neg);
}
static void fox_data_backward_drop(float *dx, const float *dv, const float *x, int T, const PosCtx *c) {
    const int C = c->cfg.d_model;
    for (int h = 0; h < c->cfg.n_head; h++) {
        double acc = 0;
        for (int t = T - 1; t >= 0; t--) {
            acc += dv[(size_t)h * T + t];   /* dz = dlogf, the factor sigmoid(-z) dropped */
            c->dp[1][h] += (float)acc;
            for (int k = 0; k < C; k++) {
                c->dp[0][(size_t)h * C + k] += (float)(acc * x[(size_t)t * C + k]);
                dx[(size_t)t * C + k] += (float)(acc * c->p[0][(size_t)h * C + k]);
            }
        }
    }
}
static void fox_bias_backward_sign(const float *ds, int ld, int h, int i0, int ni, int j0, int nj, const PosCtx *c) {
    float *neg = xmalloc_floats((size_t)ni * ld);
    for (size_t k = 0; k < (size_t)ni * ld; k++) neg[k] = -ds[k];
    pos_fox.bias_backward(neg, ld, h, i0, ni, j0, nj, c);
    free(neg);
}

static void test_fox_broken_backward_fails(void) {
    const int NH = 3, T = 20;
    const char *what[4] = {"sign flip in data_backward", "dropped sigmoid(-z) in data_backward",
                           "sign flip in bias_backward", "(unbroken)"};
    Rng rng;
    rng_seed(&rng, 6);
    float *G = xmalloc_floats((size_t)NH * T * T), *S = xmalloc_floats((size_t)T * T);
    randn_fill(G, (size_t)NH * T * T, &rng);
    for (int b = 0; b < 4; b++) {
        PosMethod m = pos_fox;
        if (b == 0) m.data_backward = fox_data_backward_sign;
        if (b == 1) m.data_backward = fox_data_backward_drop;
        if (b == 2) m.bias_backward = fox_bias_backward_sign;
        Fixture f = fixture_make(&m, make_cfg(&m, NH, 4, 64), T, 8);
        f.m = &m;
        double ep = bias_param_fd_err(&m, &f, G, S, NH, T), ex = data_input_fd_err(&m, &f, G, S, NH, T);
        if (b < 3)
            CHECK(ep > 10 * fd_tol(&m) && ex > 10 * fd_tol(&m),
                  "a %s must fail both checks (rel err parameters %.3g, input %.3g)", what[b], ep, ex);
        else
            CHECK(ep < fd_tol(&m) && ex < fd_tol(&m), "the unbroken FoX backward passes (%.3g, %.3g)", ep, ex);
        fixture_free(&f);
    }
    free(G);
    free(S);
}

/* Rotary options: angles as defined, cache follows the option, norms kept. */
static void rotary_table_for(const char *opt, int hs, int L, int T, float *cs, float *sn) {
    PosConfig cfg = make_cfg(&pos_rotary, 1, hs, L);
    char err[ERRLEN];
    int rc = pos_apply_options(&pos_rotary, &cfg, opt, 1, err, sizeof err);
    CHECK(rc == 0, "rotary option '%s': %s", opt, err);
    Fixture f = fixture_make(&pos_rotary, cfg, T, 1);
    qk_table(&pos_rotary, &f.ctx, T, 0, 0, cs, sn);
    fixture_free(&f);
}

static void test_rotary_options(void) {
    const int hs = 8, half = hs / 2, T = 1024;
    const size_t n = (size_t)T * half;
    float *c0 = xmalloc_floats(n), *s0 = xmalloc_floats(n), *c1 = xmalloc_floats(n), *s1 = xmalloc_floats(n);
    float *wc = xmalloc_floats(n), *ws = xmalloc_floats(n);
    rotary_table_for("", hs, 128, T, c0, s0);

    /* pi=4: a = (p/4) theta_i; so position 4q equals plain position q */
    rotary_table_for("pi=4", hs, 128, T, c1, s1);
    for (int p = 0; p < T; p++)
        for (int i = 0; i < half; i++) {
            double a = (p / 4.0) * pow(10000.0, -2.0 * i / hs);
            wc[p * half + i] = (float)cos(a);
            ws[p * half + i] = (float)sin(a);
        }
    CHECK_CLOSE("rotary pi=4 cos = cos((p/4) theta_i)", c1, wc, n, 0, 1.2e-7);
    CHECK_CLOSE("rotary pi=4 sin", s1, ws, n, 0, 1.2e-7);
    CHECK_CLOSE("rotary pi=4 at p=4q equals plain at q", c1 + 4 * 37 * half, c0 + 37 * half, half, 0, 1.2e-7);

    /* ntk=8: base 10000 * 8^(hs/(hs-2)): theta_0 unchanged, last theta divided by 8 */
    rotary_table_for("ntk=8", hs, 128, T, c1, s1);
    double base = 10000.0 * pow(8.0, hs / (hs - 2.0));
    for (int p = 0; p < T; p++)
        for (int i = 0; i < half; i++) {
            double a = p * pow(base, -2.0 * i / hs);
            wc[p * half + i] = (float)cos(a);
            ws[p * half + i] = (float)sin(a);
        }
    CHECK_CLOSE("rotary ntk=8 cos = cos(p base'^(-2i/hs))", c1, wc, n, 0, 1.2e-7);
    CHECK_CLOSE("rotary ntk=8 sin", s1, ws, n, 0, 1.2e-7);
    {
        float got[2] = {c1[1000 * half + 0], c1[800 * half + half - 1]};
        float want[2] = {c0[1000 * half + 0], c0[100 * half + half - 1]};
        CHECK_CLOSE("rotary ntk=8 keeps theta_0 and divides theta_{hs/2-1} by 8", got, want, 2, 0, 2e-7);
    }
    CHECK(memcmp(c1, c0, sizeof(float) * n) != 0, "ntk cache must differ from the plain one");

    /* yarn=8 at L = 512, hs = 64: literal values from the paper's equations
     * (Python double): gamma = 1 for i = 0 (r = 81.5), 0.2306 at i = 8, 0.0509 at
     * i = 12, 0 at i = 16 and 31; times sqrt(1/t) = 0.1 ln 8 + 1. */
    {
        const int hy = 64, hh = hy / 2, TY = 128;
        float *cy = xmalloc_floats((size_t)TY * hh), *sy = xmalloc_floats((size_t)TY * hh);
        rotary_table_for("yarn=8", hy, 512, TY, cy, sy);
        static const struct { int i; double c, s; } yg[] = {
            {0, 1.0416330408086358, -0.61166141605005631},
            {8, -1.1983385625727518, -0.15203213160275117},
            {12, 1.0385206911292861, 0.61693099588605149},
            {16, 1.1985193719087783, 0.15060011536513773},
            {31, 1.2079424759947646, 0.0020135233405991879},
        };
        for (size_t k = 0; k < sizeof yg / sizeof yg[0]; k++) {
            float got[2] = {cy[100 * hh + yg[k].i], sy[100 * hh + yg[k].i]};
            float want[2] = {(float)yg[k].c, (float)yg[k].s};
            char what[64];
            snprintf(what, sizeof what, "rotary yarn=8 L=512 hs=64 at p=100 i=%d", yg[k].i);
            CHECK_CLOSE(what, got, want, 2, 0, 2.5e-7);
        }
        float got0 = cy[0], want0 = (float)1.2079441541679836;
        CHECK_CLOSE("rotary yarn=8 scale at p=0 is 0.1 ln 8 + 1", &got0, &want0, 1, 0, 1.2e-7);
        free(cy);
        free(sy);
    }

    /* norms: |R x| = |x| per row (times 0.1 ln F + 1 for yarn), at T = 4096 */
    static const struct { const char *opt; double scale; } nt[] = {
        {"", 1.0}, {"pi=4", 1.0}, {"ntk=8", 1.0}, {"yarn=16", 1.2772588722239781},
    };
    for (size_t k = 0; k < sizeof nt / sizeof nt[0]; k++) {
        const int TN = 4096;
        PosConfig cfg = make_cfg(&pos_rotary, 1, hs, 256);
        char err[ERRLEN];
        int rc = pos_apply_options(&pos_rotary, &cfg, nt[k].opt, 1, err, sizeof err);
        CHECK(rc == 0, "rotary '%s': %s", nt[k].opt, err);
        Fixture f = fixture_make(&pos_rotary, cfg, TN, 1);
        Rng rng;
        rng_seed(&rng, 77);
        float *x = xmalloc_floats((size_t)TN * hs), *norm = xmalloc_floats(TN), *want = xmalloc_floats(TN);
        randn_fill(x, (size_t)TN * hs, &rng);
        for (int p = 0; p < TN; p++) {
            double s = 0;
            for (int q = 0; q < hs; q++) s += (double)x[p * hs + q] * x[p * hs + q];
            want[p] = (float)(sqrt(s) * nt[k].scale);
        }
        pos_rotary.qk_forward(x, TN, 0, 1, &f.ctx);
        for (int p = 0; p < TN; p++) {
            double s = 0;
            for (int q = 0; q < hs; q++) s += (double)x[p * hs + q] * x[p * hs + q];
            norm[p] = (float)sqrt(s);
        }
        char what[64];
        snprintf(what, sizeof what, "rotary [%s] row norms kept (x scale)", nt[k].opt);
        CHECK_CLOSE(what, norm, want, TN, 1e-6, 1e-6);
        free(x); free(norm); free(want);
        fixture_free(&f);
    }
    free(c0); free(s0); free(c1); free(s1); free(wc); free(ws);
}

/* ------------------------------------------------------------ 4. options */

static void expect_option_error(const PosMethod *m, PosConfig cfg, const char *opts, const char *must1,
                                const char *must2) {
    char err[ERRLEN] = "";
    PosConfig before = cfg;
    int rc = pos_apply_options(m, &cfg, opts, 1, err, sizeof err);
    CHECK(rc == -1, "%s: options '%s' must fail (rc %d)", m->name, opts, rc);
    CHECK(memcmp(&before, &cfg, sizeof cfg) == 0, "%s: failed options '%s' changed the config", m->name, opts);
    CHECK(strstr(err, m->name) != NULL, "%s: error for '%s' must name the method: %s", m->name, opts, err);
    if (must1) CHECK(strstr(err, must1) != NULL, "%s: error for '%s' must say '%s': %s", m->name, opts, must1, err);
    if (must2) CHECK(strstr(err, must2) != NULL, "%s: error for '%s' must say '%s': %s", m->name, opts, must2, err);
}

static void test_options(void) {
    PosConfig cfg = make_cfg(&pos_rotary, 4, 16, 128), before = cfg;
    char err[ERRLEN];
    CHECK(pos_apply_options(&pos_rotary, &cfg, NULL, 1, err, sizeof err) == 0 && memcmp(&cfg, &before, sizeof cfg) == 0,
          "NULL options are accepted and change nothing");
    CHECK(pos_apply_options(&pos_alibi, &cfg, "", 1, err, sizeof err) == 0 && memcmp(&cfg, &before, sizeof cfg) == 0,
          "empty options are accepted for a method without options");
    CHECK(before.opt[0] == 1.0 && before.opt[1] == 1.0 && before.opt[2] == 1.0 && before.opt[3] == 1.0 &&
              before.opt[4] == 32.0,
          "rotary defaults pi=ntk=yarn=1, yarn_alpha 1, yarn_beta 32");
    CHECK(pos_apply_options(&pos_rotary, &cfg, "pi=4", 1, err, sizeof err) == 0 && cfg.opt[0] == 4.0,
          "rotary pi=4: opt %g", cfg.opt[0]);
    cfg = before;
    CHECK(pos_apply_options(&pos_rotary, &cfg, "ntk=2.5", 1, err, sizeof err) == 0 && cfg.opt[1] == 2.5,
          "rotary ntk=2.5: opt %g", cfg.opt[1]);
    cfg = before;
    CHECK(pos_apply_options(&pos_rotary, &cfg, "yarn=8,yarn_alpha=2:yarn_beta=16", 1, err, sizeof err) == 0 &&
              cfg.opt[2] == 8.0 && cfg.opt[3] == 2.0 && cfg.opt[4] == 16.0,
          "rotary yarn=8 with alpha 2, beta 16 (',' and ':' both separate items): %s", err);
    {
        char buf[256];
        pos_options_string(&pos_rotary, &cfg, 0, buf, sizeof buf);
        CHECK(strcmp(buf, "yarn=8,yarn_alpha=2,yarn_beta=16") == 0, "changed options string '%s'", buf);
        pos_options_string(&pos_rotary, &before, 1, buf, sizeof buf);
        CHECK(strcmp(buf, "pi=1,ntk=1,yarn=1,yarn_alpha=1,yarn_beta=32") == 0, "all options string '%s'", buf);
    }
    {   /* method specs: name and options, at training */
        const PosMethod *m = NULL;
        PosConfig c = make_cfg(NULL, 4, 16, 128);
        CHECK(pos_spec_parse("rotary:yarn=4:yarn_beta=24", &m, &c, err, sizeof err) == 0 && m == &pos_rotary &&
                  c.opt[2] == 4.0 && c.opt[4] == 24.0,
              "spec rotary:yarn=4:yarn_beta=24: %s", err);
        CHECK(pos_spec_parse("alibi", &m, &c, err, sizeof err) == 0 && m == &pos_alibi, "spec alibi");
        CHECK(pos_spec_parse("bogus:x=1", &m, &c, err, sizeof err) == -1 && strstr(err, "unknown method"),
              "spec of an unknown method: %s", err);
        CHECK(pos_spec_parse("rotary:pi=2:ntk=2", &m, &c, err, sizeof err) == -1 && strstr(err, "only one"),
              "spec with two rotary variants: %s", err);
        CHECK(pos_spec_check("alibi:slope=1", err, sizeof err) == -1 && strstr(err, "no options"),
              "spec option for a method without options: %s", err);
    }

    const char *help = "options: pi, ntk, yarn, yarn_alpha, yarn_beta";
    expect_option_error(&pos_rotary, before, "foo=1", "foo", help);
    expect_option_error(&pos_rotary, before, "pi=abc", "abc", "from 1 to");
    expect_option_error(&pos_rotary, before, "pi=0", "pi", NULL);
    expect_option_error(&pos_rotary, before, "pi=-2", "pi", NULL);
    expect_option_error(&pos_rotary, before, "pi=", "pi", NULL);
    expect_option_error(&pos_rotary, before, "pi=nan", "pi", NULL);
    expect_option_error(&pos_rotary, before, "pi", "key=value", NULL);
    expect_option_error(&pos_rotary, before, "=4", "key=value", NULL);
    expect_option_error(&pos_rotary, before, "pi=2,ntk=2", "only one", NULL);
    expect_option_error(&pos_rotary, before, "pi=2,", NULL, NULL);
    expect_option_error(&pos_rotary, before, "yarn=2,yarn_alpha=40", "yarn_beta", NULL);
    expect_option_error(&pos_rotary, before, "pi=2,bogus=3", "bogus", NULL);
    expect_option_error(&pos_rotary, make_cfg(&pos_rotary, 4, 16, 0), "yarn=4", "training length", NULL);
    expect_option_error(&pos_alibi, before, "slope=1", "no options", NULL);
    expect_option_error(&pos_nope, before, "pi=2", "no options", NULL);
    expect_option_error(&pos_t5, before, "buckets=64", "no options", NULL);
    expect_option_error(&pos_sinusoidal, before, "pi=2", "no options", NULL);
}

void test_methods(void) {
    test_registry();
    test_alibi_golden();
    test_t5_golden();
    test_rotary_golden();
    test_sinusoidal_golden();
    test_hooks();
    test_xpos_golden();
    test_kerple_golden();
    test_learned();
    test_broken_backward_fails();
    test_fire_golden();
    test_fox_golden();
    test_fox_broken_backward_fails();
    test_rotary_options();
    test_options();
}
