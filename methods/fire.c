/* fire.c — FIRE, Functional Interpolation for Relative Positions (Li et al.,
 * ICLR 2024, "Functional Interpolation for Relative Positions Improves Long
 * Context Transformers"):
 *
 *   bias(h, i, j) = f_h( psi(i - j) / psi(max(L^, i)) ),   psi(x) = log(c x + 1)
 *   f(x) = W2 relu(w1 x + b1) + b2                         an MLP 1 -> 32 -> NH
 *
 * As the paper's reference code (its appendix): psi uses |c| and |L_mult| with
 * threshold L^ = |L_mult| * L0, the normaliser gets + 1e-6, c starts at 0.1
 * (option c0), L_mult at 1 with L0 = 512 (option L0; L0 itself is fixed), and the
 * MLP has PyTorch's nn.Linear initialisation (U(-1/sqrt(fan_in), 1/sqrt(fan_in))
 * for weights and biases). One FIRE per layer by default (`fire:shared=1`
 * shares one across layers, as the paper's layer-sharing variant).
 *
 * Checked again against the paper (arXiv 2310.04418v2, the PyTorch module
 * in its appendix; searching the code corpora and paperswithcode found no
 * code released by the authors, and only excerpts of the paper's text could
 * be read here, so the appendix values are as recalled from it): c starts at
 * 0.1, the threshold at 512 times a learnable multiplier starting at 1, both
 * used through absolute values, eps 1e-6 on the normaliser, an MLP 1 -> 32 ->
 * heads with nn.Linear's default initialisation. The values here agree, so
 * nothing was changed. Per layer vs shared: the module is instantiated per
 * attention layer in the paper's main setting, with layer sharing studied as
 * a cheaper variant; `shared=1` gives that variant.
 *
 * Tensors (k): 0 w1 {32, 1}, 1 b1 {32}, 2 w2 {NH, 32}, 3 b2 {NH}, 4 c {1},
 * 5 L_mult {1}; weight decay on w1 and w2 (the MLP's weight matrices) only.
 *
 * Speed: rows i <= L^ share the normaliser psi(L^), so their bias depends on the
 * distance only: table_fill evaluates the MLP once per distance (per head and
 * layer) and bias_add adds a contiguous slice of that table, as KERPLE does.
 * Rows i > L^ (beyond the threshold, only at evaluation past L^) have a distinct
 * input x per (i, j); there the MLP is used in its exact piecewise-linear form:
 * f_h(x) = A_s + B_s x between consecutive relu breakpoints z = -b1/w1 (at most
 * 33 pieces per head, tabulated per layer), and since x falls along a row of
 * keys, each piece covers a run of keys found by binary search: one
 * multiply-add per score, as cheap as ALiBi's.
 *
 * Table layout (floats): psi reversed (T) | 1/psi(max(L^, i)) (T) | near bias
 * reversed per head (NH, T) | L^ | per head: piece count m, breakpoints (32),
 * A (33), B (33).
 *
 * Kinks: relu, max(L^, i), |c|, |L_mult|; near_kink tells the gradient check when
 * one lies within its step of the parameters (fd below).
 */
#include <math.h>
#include <stdlib.h>
#include "method.h"

#define FIRE_H 32
#define FIRE_EPS 1e-6

enum { T_W1, T_B1, T_W2, T_B2, T_C, T_LM };
enum { OPT_SHARED, OPT_C0, OPT_L0 };

static const PosOption fire_options[] = {
    {"shared", 'i', 0, 0, 1, 0, "1: one FIRE module shared by all layers; 0: one per layer"},
    {"c0", 'f', 0.1, 1e-6, 1e6, 0, "initial c of psi(x) = log(c x + 1)"},
    {"L0", 'f', 512, 1, 1e9, 0, "threshold scale: L^ = |L_mult| L0, L_mult starts at 1"},
    {NULL, 0, 0, 0, 0, 0, NULL},
};

static int fire_tensors(PosTensor *out, const PosConfig *cfg) {
    if (out) {
        const int pl = !(int)cfg->opt[OPT_SHARED], NH = cfg->n_head;
        out[T_W1] = (PosTensor){"pos.fire.w1", 2, {FIRE_H, 1}, pl, 1};
        out[T_B1] = (PosTensor){"pos.fire.b1", 1, {FIRE_H, 1}, pl, 0};
        out[T_W2] = (PosTensor){"pos.fire.w2", 2, {NH, FIRE_H}, pl, 1};
        out[T_B2] = (PosTensor){"pos.fire.b2", 1, {NH, 1}, pl, 0};
        out[T_C] = (PosTensor){"pos.fire.c", 1, {1, 1}, pl, 0};
        out[T_LM] = (PosTensor){"pos.fire.L_mult", 1, {1, 1}, pl, 0};
    }
    return 6;
}

/* nn.Linear's U(-1/sqrt(fan_in), 1/sqrt(fan_in)): fan_in 1 for w1, b1; 32 for w2, b2. */
static void fire_init(float *x, int k, int layer, const PosConfig *cfg, Rng *rng) {
    const int n[] = {FIRE_H, FIRE_H, cfg->n_head * FIRE_H, cfg->n_head};
    if (k == T_C) x[0] = (float)cfg->opt[OPT_C0];
    else if (k == T_LM) x[0] = 1.0f;
    else {
        const float a = k < T_W2 ? 1.0f : 1.0f / sqrtf((float)FIRE_H);
        for (int i = 0; i < n[k]; i++) x[i] = a * (2.0f * rng_uniform(rng) - 1.0f);
    }
}

#define FIRE_PL (1 + FIRE_H + 2 * (FIRE_H + 1))   /* floats per head of the piecewise form */

static size_t fire_table_size(const PosConfig *cfg, int T) {
    return (size_t)T * (2 + cfg->n_head) + 1 + (size_t)cfg->n_head * FIRE_PL;
}

/* f_h(x) for one head, in double */
static double fire_mlp(const PosCtx *ctx, int h, double x) {
    const float *w1 = ctx->p[T_W1], *b1 = ctx->p[T_B1], *w2 = ctx->p[T_W2] + (size_t)h * FIRE_H;
    double acc = ctx->p[T_B2][h];
    for (int k = 0; k < FIRE_H; k++) {
        double z = (double)w1[k] * x + b1[k];
        if (z > 0) acc += w2[k] * z;
    }
    return acc;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* pl = [m, z (m sorted breakpoints, up to 32), A (m+1), B (m+1)]: on piece s
 * (x < z_0 for s = 0, z_{s-1} <= x < z_s, x >= z_{m-1} for s = m) f_h(x) = A_s + B_s x,
 * the active units read at a point inside the piece. */
static void fire_pieces(float *pl, const PosCtx *ctx, int h) {
    const float *w1 = ctx->p[T_W1], *b1 = ctx->p[T_B1], *w2 = ctx->p[T_W2] + (size_t)h * FIRE_H;
    double z[FIRE_H];
    int m = 0;
    for (int k = 0; k < FIRE_H; k++)
        if (w1[k] != 0.0f) z[m++] = -(double)b1[k] / w1[k];
    qsort(z, (size_t)m, sizeof z[0], cmp_double);
    pl[0] = (float)m;
    for (int s = 0; s <= m; s++) {
        double probe = m == 0 ? 0.0 : s == 0 ? z[0] - 1.0 : s == m ? z[m - 1] + 1.0 : 0.5 * (z[s - 1] + z[s]);
        double A = ctx->p[T_B2][h], B = 0.0;
        for (int k = 0; k < FIRE_H; k++)
            if ((double)w1[k] * probe + b1[k] > 0) {
                A += (double)w2[k] * b1[k];
                B += (double)w2[k] * w1[k];
            }
        if (s < m) pl[1 + s] = (float)z[s];
        pl[1 + FIRE_H + s] = (float)A;
        pl[1 + 2 * FIRE_H + 1 + s] = (float)B;
    }
}

static void fire_table_fill(float *tab, int T, const PosCtx *ctx) {
    const double c = fabs(ctx->p[T_C][0]), Lhat = fabs(ctx->p[T_LM][0]) * ctx->cfg.opt[OPT_L0];
    float *psir = tab, *invn = tab + T, *near = tab + 2 * (size_t)T;
    const double inv_near = 1.0 / (log(c * Lhat + 1.0) + FIRE_EPS);
    for (int d = 0; d < T; d++) psir[T - 1 - d] = (float)log(c * d + 1.0);
    for (int i = 0; i < T; i++) invn[i] = (float)(1.0 / (log(c * (i > Lhat ? i : Lhat) + 1.0) + FIRE_EPS));
    for (int h = 0; h < ctx->cfg.n_head; h++)
        for (int d = 0; d < T; d++)
            near[(size_t)h * T + T - 1 - d] = (float)fire_mlp(ctx, h, log(c * d + 1.0) * inv_near);
    tab[(size_t)T * (2 + ctx->cfg.n_head)] = (float)Lhat;
    for (int h = 0; h < ctx->cfg.n_head; h++)
        fire_pieces(tab + (size_t)T * (2 + ctx->cfg.n_head) + 1 + (size_t)h * FIRE_PL, ctx, h);
}

/* row[c] += f(x_c) for c < n, x_c = psir[c] inv (non-increasing in c), through the
 * piecewise form pl: the keys of each piece are one run, found by binary search. */
static void fire_row_far(float *row, int n, const float *psir, float inv, const float *pl) {
    const int m = (int)pl[0];
    const float *z = pl + 1, *A = pl + 1 + FIRE_H, *B = pl + 1 + 2 * FIRE_H + 1;
    int c = 0;
    for (int s = m; s >= 0 && c < n; s--) {
        int hi = n;   /* first c in [c, n) with x_c < z[s-1]: the end of piece s's run */
        if (s > 0) {
            int lo = c, up = n;
            while (lo < up) {
                int mid = (lo + up) / 2;
                if (psir[mid] * inv < z[s - 1]) up = mid;
                else lo = mid + 1;
            }
            hi = lo;
        }
        const float a = A[s], b = B[s];
        for (; c < hi; c++) row[c] += a + b * (psir[c] * inv);
    }
}

static int causal_end(int i, int j0, int nj) {
    int end = i - j0 + 1;
    return end < 0 ? 0 : end > nj ? nj : end;
}

/* scores (ni, ld) tile: += bias(h, i, j) for j <= i (j > i untouched). */
static void fire_bias_add(float *scores, int ld, int h, int i0, int ni, int j0, int nj, const PosCtx *ctx) {
    const int T = ctx->table_len;
    const float *psir = ctx->table, *invn = ctx->table + T, *near = ctx->table + (2 + (size_t)h) * T;
    const float Lhat = ctx->table[(size_t)T * (2 + ctx->cfg.n_head)];
    for (int r = 0; r < ni; r++) {
        const int i = i0 + r, end = causal_end(i, j0, nj), at = T - 1 - i + j0;
        float *row = scores + (size_t)r * ld;
        if ((float)i <= Lhat) {
            for (int c = 0; c < end; c++) row[c] += near[at + c];
        } else {
            fire_row_far(row, end, psir + at, invn[i],
                         ctx->table + (size_t)T * (2 + ctx->cfg.n_head) + 1 + (size_t)h * FIRE_PL);
        }
    }
}

/* The backward of one score's bias f_h(x), x = psi(d) n(i), n = 1/N(i),
 * N(i) = log(|c| m_i + 1) + 1e-6, m_i = max(i, L^), psi(d) = log(|c| d + 1):
 *   db2 += g;  dw2[k] += g relu(z_k);  with s = g sum_k w2[k] [z_k > 0] w1[k]:
 *   db1[k] += g w2[k] [z_k > 0];  dw1[k] += g w2[k] [z_k > 0] x;
 *   dx/dc = sign(c) (d/(|c|d+1) - x m_i/(|c|m_i+1)) n,
 *   dx/dL_mult = -x n |c| L0 sign(L_mult) / (|c| L^ + 1)   (i < L^ only). */
typedef struct FireGrad { double w1[FIRE_H], b1[FIRE_H], w2[FIRE_H], b2, c, lm; } FireGrad;

static void fire_grad_one(FireGrad *G, const PosCtx *ctx, int h, double g, int i, int d, double Lhat) {
    const float *w1 = ctx->p[T_W1], *b1 = ctx->p[T_B1], *w2 = ctx->p[T_W2] + (size_t)h * FIRE_H;
    const double cs = ctx->p[T_C][0], c = fabs(cs), m = i > Lhat ? i : Lhat;
    const double n = 1.0 / (log(c * m + 1.0) + FIRE_EPS), x = log(c * d + 1.0) * n;
    double s = 0;
    for (int k = 0; k < FIRE_H; k++) {
        double z = (double)w1[k] * x + b1[k];
        if (z <= 0) continue;
        G->w2[k] += g * z;
        G->b1[k] += g * w2[k];
        G->w1[k] += g * w2[k] * x;
        s += (double)w2[k] * w1[k];
    }
    G->b2 += g;
    const double sgn = cs < 0 ? -1.0 : 1.0;
    G->c += g * s * sgn * (d / (c * d + 1.0) - x * m / (c * m + 1.0)) * n;
    if (i < Lhat) {
        const double lm = ctx->p[T_LM][0];
        G->lm += g * s * -x * n * c * ctx->cfg.opt[OPT_L0] * (lm < 0 ? -1.0 : 1.0) / (c * Lhat + 1.0);
    }
}

static void fire_bias_backward(const float *dscores, int ld, int h, int i0, int ni, int j0, int nj,
                               const PosCtx *ctx) {
    const double Lhat = fabs(ctx->p[T_LM][0]) * ctx->cfg.opt[OPT_L0];
    FireGrad *G = calloc(1, sizeof *G);
    for (int r = 0; r < ni; r++) {
        const int i = i0 + r, end = causal_end(i, j0, nj);
        for (int c = 0; c < end; c++) {
            const double g = dscores[(size_t)r * ld + c];
            if (g != 0.0) fire_grad_one(G, ctx, h, g, i, i - j0 - c, Lhat);
        }
    }
    for (int k = 0; k < FIRE_H; k++) {
        ctx->dp[T_W1][k] += (float)G->w1[k];
        ctx->dp[T_B1][k] += (float)G->b1[k];
        ctx->dp[T_W2][(size_t)h * FIRE_H + k] += (float)G->w2[k];
    }
    ctx->dp[T_B2][h] += (float)G->b2;
    ctx->dp[T_C][0] += (float)G->c;
    ctx->dp[T_LM][0] += (float)G->lm;
    free(G);
}

/* 1 when a perturbation of eps of any parameter may cross a kink for the
 * positions < table_len: a relu input within 4 eps (1 + |x|)(1 + |w1|) of 0,
 * i within 2 eps L0 of L^, or c or L_mult within 2 eps of 0. */
static int fire_near_kink(const PosCtx *ctx, double eps) {
    const int T = ctx->table_len;
    const double c = fabs(ctx->p[T_C][0]), Lhat = fabs(ctx->p[T_LM][0]) * ctx->cfg.opt[OPT_L0];
    if (c < 2 * eps || fabs(ctx->p[T_LM][0]) < 2 * eps) return 1;
    for (int i = 0; i < T; i++) {
        if (fabs(i - Lhat) < 2 * eps * ctx->cfg.opt[OPT_L0]) return 1;
        const double n = 1.0 / (log(c * (i > Lhat ? i : Lhat) + 1.0) + FIRE_EPS);
        for (int d = 0; d <= i; d++) {
            const double x = log(c * d + 1.0) * n;
            for (int k = 0; k < FIRE_H; k++) {
                const double w = ctx->p[T_W1][k], z = w * x + ctx->p[T_B1][k];
                if (fabs(z) < 4 * eps * (1 + fabs(x)) * (1 + fabs(w))) return 1;
            }
        }
    }
    return 0;
}

const PosMethod pos_fire = {
    .name = "fire",
    .summary = "MLP of the progressively normalised distance psi(i-j)/psi(max(L^,i)) (Li et al. 2024)",
    .label = "FIRE",
    .citation = "Li et al., ICLR 2024",
    .family = POS_FAMILY_BIAS,
    .tensors = fire_tensors,
    .init = fire_init,
    .options = fire_options,
    /* relu kinks: a small step, a short sequence (few distinct inputs), parameters
     * redrawn until no kink lies within the step */
    .fd = {.eps = 1e-4, .tol = 5e-3, .max_len = 12, .near_kink = fire_near_kink},
    .table_size = fire_table_size,
    .table_fill = fire_table_fill,
    .bias_add = fire_bias_add,
    .bias_backward = fire_bias_backward,
};
