#!/usr/bin/python3
"""bench_torch.py — the PyTorch side of `make bench` (issue 6).

Runs posbench's model (docs/DEFINITIONS.md, methods/README.md, parameter names of docs/FORMATS.md)
in float32 PyTorch and prints one JSON object per line on stdout:

  {"kind":"config", ...}                          torch version, threads, malloc setting
  {"kind":"train","method":...,"tokens_per_s":...} timed training steps after warm-up:
                                                  forward, backward, clip 1.0, AdamW
  {"kind":"eval","method":...,"T":8192,"tokens_per_s":...,"peak_rss_mb":...}
                                                  batch 1, one nonoverlapping window of T,
                                                  forward only under torch.no_grad()
  {"kind":"skipped","reason":...}                 PyTorch not importable (exit 0)

PyTorch is measured at its fair best: glibc's MALLOC_MMAP_THRESHOLD_ and
MALLOC_TRIM_THRESHOLD_ are raised to 1 GiB, or more when the largest (1, H, T, T)
score buffer needs it (untuned, every big attention buffer is a fresh mmap and
the run spends its time in page faults; at T = 8192, H = 4 that buffer is exactly
1 GiB, so a 1 GiB threshold still mmaps it: 4 GiB measured ~1.45x faster). Those are read by
glibc at process start, so the script re-executes itself with them set unless
they are already in the environment (--no-malloc-tune keeps glibc's defaults).
With --rss each evaluation length runs in fresh child processes: tokens/s from
one with the tuned malloc, peak resident set (the child's VmHWM) from one with
glibc's default malloc, whose RSS tracks the live tensors (the tuned thresholds
keep freed T x T buffers resident and overstate memory by 1-2 GB at T = 8192).

The attention is the usual PyTorch one (PyTorch 1.13 has no fused attention):
(B, H, T, T) scores with a cached additive mask/bias, as fairseq's ALiBi code
does; position terms come from cached tables (sinusoidal PE, RoPE cos/sin, ALiBi
bias, T5 bucket index). tests/make_fixtures.py --check verifies this module
against the float64 reference model, so the two run the same maths.

Development tool only: posbench never depends on Python.
  /usr/bin/python3 dev/bench_torch.py --threads 2 --layers 4 --dim 128 --heads 4 \
      --batch 32 --train-len 128 --eval-lens 4096,8192 --rss
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time

MALLOC_VARS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")
METHODS = ["nope", "sinusoidal", "rotary", "t5", "alibi"]
DEFAULT_EVAL_LENS = "1024,4096,8192"


def emit(obj):
    print(json.dumps(obj), flush=True)


def malloc_threshold(argv):
    """1 GiB, raised to the power of 2 above twice the largest (1, H, T, T) fp32 score
    buffer: a buffer at or above the threshold is a fresh mmap (page faults) on every
    allocation, which at T = 8192, H = 4 (exactly 1 GiB) costs about a third of the speed."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--eval-lens", default=DEFAULT_EVAL_LENS)
    pre.add_argument("--heads", default="4")
    a, _ = pre.parse_known_args(argv)
    try:
        t_max = max([int(s) for s in a.eval_lens.split(",") if s.strip()] or [0])
        need = 2 * 4 * int(a.heads) * t_max * t_max
    except ValueError:
        need = 0
    th = 1 << 30
    while th < need:
        th <<= 1
    return th


if __name__ == "__main__" and "--no-malloc-tune" not in sys.argv and not all(v in os.environ for v in MALLOC_VARS):
    env = dict(os.environ)
    for v in MALLOC_VARS:
        env.setdefault(v, str(malloc_threshold(sys.argv[1:])))
    env["POSBENCH_BENCH_REEXEC"] = "1"
    os.execve(sys.executable, getattr(sys, "orig_argv", [sys.executable] + sys.argv), env)

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except Exception as e:  # noqa: BLE001 — any import failure means "no PyTorch here"
    if __name__ == "__main__":
        emit({"kind": "skipped", "reason": "PyTorch not importable (%s: %s)" % (type(e).__name__, e)})
        sys.exit(0)
    raise


# ---------------------------------------------------------------------------
# position terms (methods/README.md)

def alibi_slopes(n_head):
    def pow2(n):
        return [2.0 ** (-8.0 * k / n) for k in range(1, n + 1)]
    if n_head & (n_head - 1) == 0:
        return pow2(n_head)
    c = 1 << (n_head.bit_length() - 1)
    return pow2(c) + pow2(2 * c)[0::2][: n_head - c]


def t5_buckets(dist, num_buckets=32, max_distance=128):
    """dist (any shape) long, i - j >= 0 -> bucket, same shape, long; causal T5 bucketing."""
    exact = num_buckets // 2
    large = exact + (torch.log(dist.double().clamp(min=1) / exact) / math.log(max_distance / exact)
                     * (num_buckets - exact)).long()
    return torch.where(dist < exact, dist, large.clamp(max=num_buckets - 1))


class PosTables:
    """Everything position-dependent for one (T, dtype), built once and cached. Built lean
    (no T x T float64 or int64 kept), so construction never sets the eval's peak memory."""

    def __init__(self, method, T, d, H, dtype):
        hs = d // H
        p = torch.arange(T, dtype=torch.float64)[:, None]
        i = torch.arange(T, dtype=torch.float32)
        dist = i[:, None] - i[None, :]                                   # (T, T) i - j, exact in fp32
        self.future = dist < 0                                           # (T, T) bool, j > i
        self.pe = self.cos = self.sin = self.bias = self.bucket = None
        if method == "sinusoidal":
            w = 10000.0 ** (-2.0 * torch.arange(d // 2, dtype=torch.float64) / d)
            self.pe = torch.cat([torch.sin(p * w), torch.cos(p * w)], 1).to(dtype)          # (T, d)
        elif method == "rotary":
            theta = 10000.0 ** (-2.0 * torch.arange(hs // 2, dtype=torch.float64) / hs)
            ang = torch.cat([p * theta, p * theta], 1)                                        # (T, hs)
            self.cos, self.sin = torch.cos(ang).to(dtype), torch.sin(ang).to(dtype)
        elif method == "alibi":
            m = torch.tensor(alibi_slopes(H), dtype=dtype)[:, None, None]
            self.bias = dist.to(dtype)[None] * -m                                            # (H, T, T)
            self.bias.masked_fill_(self.future, float("-inf"))
        elif method == "t5":
            # bucket of every distance 0..T-1, then the (T, T) map as uint8; 32 = an extra
            # "-inf" row appended to the table, so one gather gives bias and mask together
            lut = t5_buckets(torch.arange(T)).to(torch.uint8)
            self.bucket = lut[dist.clamp(min=0).long()]
            self.bucket.masked_fill_(self.future, 32)                                        # (T, T)
        del dist


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], -1)


# ---------------------------------------------------------------------------
# the model (docs/DEFINITIONS.md, Model); parameter names are those of docs/FORMATS.md, so load_state_dict takes a checkpoint

class Attention(nn.Module):
    def __init__(self, d, H):
        super().__init__()
        self.H = H
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)

    def forward(self, x, pos, bias):
        B, T, C = x.shape
        H, hs = self.H, C // self.H
        q, k, v = (t.view(B, T, H, hs).transpose(1, 2) for t in self.qkv(x).split(C, dim=2))
        if pos.cos is not None:
            q = q * pos.cos + rotate_half(q) * pos.sin
            k = k * pos.cos + rotate_half(k) * pos.sin
        att = (q * (1.0 / math.sqrt(hs))) @ k.transpose(-2, -1)                 # (B, H, T, T)
        grad = torch.is_grad_enabled()
        if bias is not None:
            att = att + bias if grad else att.add_(bias)
        else:
            att = att.masked_fill(pos.future, float("-inf")) if grad else att.masked_fill_(pos.future, float("-inf"))
        y = torch.softmax(att, dim=-1) @ v                                         # (B, H, T, hs)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))


class MLP(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc = nn.Linear(d, 4 * d)
        self.proj = nn.Linear(4 * d, d)

    def forward(self, x):
        return self.proj(F.gelu(self.fc(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, d, H):
        super().__init__()
        self.ln1 = nn.LayerNorm(d, eps=1e-5)
        self.attn = Attention(d, H)
        self.ln2 = nn.LayerNorm(d, eps=1e-5)
        self.mlp = MLP(d)

    def forward(self, x, pos, bias):
        x = x + self.attn(self.ln1(x), pos, bias)
        return x + self.mlp(self.ln2(x))


class T5Bias(nn.Module):
    def __init__(self, H):
        super().__init__()
        self.table = nn.Parameter(torch.zeros(32, H))                 # [bucket][head], zero-initialised


class GPT(nn.Module):
    def __init__(self, vocab, n_layer, d, n_head, method):
        super().__init__()
        assert method in METHODS, method
        self.method, self.d, self.H = method, d, n_head
        self.tok_emb = nn.Parameter(torch.randn(vocab, d) * 0.02)
        self.blocks = nn.ModuleList(Block(d, n_head) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(d, eps=1e-5)
        if method == "t5":
            self.pos = nn.ModuleDict({"t5": T5Bias(n_head)})            # -> "pos.t5.table"
        for name, p in self.named_parameters():                         # docs/DEFINITIONS.md init
            if name.endswith(".weight") and p.dim() == 2:
                std = 0.02 / math.sqrt(2 * n_layer) if name.endswith("proj.weight") else 0.02
                nn.init.normal_(p, 0.0, std)
            elif name.endswith(".bias"):
                nn.init.zeros_(p)
        self._tables = {}

    def tables(self, T, dtype):
        key = (T, dtype)
        if key not in self._tables:
            self._tables = {key: PosTables(self.method, T, self.d, self.H, dtype)}   # keep one length
        return self._tables[key]

    def forward(self, idx):
        """idx (B, T) long -> logits (B, T, V)."""
        T = idx.shape[1]
        pos = self.tables(T, self.tok_emb.dtype)
        x = math.sqrt(self.d) * self.tok_emb[idx]
        if pos.pe is not None:
            x = x + pos.pe
        bias = pos.bias
        if pos.bucket is not None:   # shared by all layers, learnable: gathered once per forward
            tab = self.pos["t5"].table
            tab = torch.cat([tab, torch.full((1, self.H), float("-inf"), dtype=tab.dtype)], 0)   # (33, H)
            bias = tab.t()[:, pos.bucket.long()]                                                        # (H, T, T)
        for blk in self.blocks:
            x = blk(x, pos, bias)
        return F.linear(self.ln_f(x), self.tok_emb)


def nll_per_token(logits, targets):
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="none")


def make_optimizer(model, lr, weight_decay, betas=(0.9, 0.95), eps=1e-8, foreach=None):
    """AdamW, weight decay on 2-D tensors only (embedding, matrices, the t5 table)."""
    params = list(model.parameters())
    groups = [{"params": [p for p in params if p.dim() == 2], "weight_decay": weight_decay},
              {"params": [p for p in params if p.dim() != 2], "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=betas, eps=eps, foreach=foreach)


def train_step(model, opt, x, y, clip):
    """One full step: forward, backward, clip_grad_norm_, AdamW. Returns (loss, norm)."""
    opt.zero_grad(set_to_none=True)
    loss = nll_per_token(model(x), y).mean()
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    opt.step()
    return float(loss), float(norm)


# ---------------------------------------------------------------------------
# measurements

def build(a, method):
    torch.manual_seed(a.seed)
    return GPT(a.vocab, a.layers, a.dim, a.heads, method)


def rss_mb(field):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def blas_info():
    """The BLAS library torch resolved (Debian's torch links libblas.so.3) and, for OpenBLAS,
    the kernel set it chose (openblas_get_corename) — OPENBLAS_CORETYPE changes it."""
    import ctypes
    path = None
    try:
        with open("/proc/self/maps") as f:
            libs = [l.split()[-1] for l in f if "blas" in l.split()[-1]]
        path = next((l for l in libs if "openblas" in l), libs[0] if libs else None)
    except (OSError, IndexError):
        pass
    info = {"library": path, "openblas_core": None, "openblas_config": None,
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE")}
    if path and "openblas" in path:
        try:
            lib = ctypes.CDLL(path)
            for key, fn in (("openblas_core", "openblas_get_corename"), ("openblas_config", "openblas_get_config")):
                getattr(lib, fn).restype = ctypes.c_char_p
                info[key] = getattr(lib, fn)().decode().strip()
        except (OSError, AttributeError):
            pass
    return info


def bench_train(a, method):
    model = build(a, method).train()
    opt = make_optimizer(model, 3e-3, 0.1, foreach=True)
    g = torch.Generator().manual_seed(a.seed)
    data = torch.randint(0, a.vocab, (a.batch, a.train_len + 1), generator=g)
    x, y = data[:, :-1].contiguous(), data[:, 1:].contiguous()
    for _ in range(a.warmup):
        train_step(model, opt, x, y, 1.0)
    times, losses = [], []
    for _ in range(a.steps):
        t0 = time.perf_counter()
        losses.append(train_step(model, opt, x, y, 1.0)[0])
        times.append(time.perf_counter() - t0)
    tok = a.batch * a.train_len
    n_params = sum(p.numel() for p in model.parameters())
    st = sorted(times)
    return {"kind": "train", "method": method, "layers": a.layers, "dim": a.dim, "heads": a.heads,
            "batch": a.batch, "T": a.train_len, "threads": a.threads, "steps": a.steps,
            "tokens_per_s": round(tok * a.steps / sum(times), 1),
            "tokens_per_s_best": round(tok / st[0], 1),
            "step_ms_median": round(1000 * st[len(st) // 2], 2), "step_ms_min": round(1000 * st[0], 2),
            "n_params": n_params, "loss_last": round(losses[-1], 4)}


def bench_eval(a, method, T):
    model = build(a, method).eval()
    g = torch.Generator().manual_seed(a.seed + T)
    data = torch.randint(0, a.vocab, (1, T + 1), generator=g)
    x, y = data[:, :-1].contiguous(), data[:, 1:].contiguous()
    base = rss_mb("VmRSS")
    best = None
    with torch.no_grad():
        for r in range(a.eval_warmup + a.eval_repeats):
            t0 = time.perf_counter()
            nll = float(nll_per_token(model(x), y).sum())
            dt = time.perf_counter() - t0
            if r >= a.eval_warmup:
                best = dt if best is None else min(best, dt)
    return {"kind": "eval", "method": method, "T": T, "threads": a.threads, "layers": a.layers, "dim": a.dim,
            "heads": a.heads, "tokens_per_s": round(T / best, 1), "seconds": round(best, 4),
            "nll_per_token": round(nll / T, 4), "rss_before_mb": base and round(base, 1),
            "peak_rss_mb": None, "rss_note": "in-process run; use --rss for peak RSS"}


def run_child(a, method, T, warmup, repeats, default_malloc):
    """One evaluation length in a fresh process -> (its JSON record or None, its peak RSS in
    MB, exit code). The peak is the child's own VmHWM, read as its last act: wait4's
    ru_maxrss would also count the pages it shared with this (large) parent between fork
    and exec, which Linux carries over exec."""
    args = [sys.executable, os.path.abspath(__file__), "--_child-eval", "%s:%d" % (method, T),
            "--eval-warmup", str(warmup), "--eval-repeats", str(repeats)]
    for k in ("threads", "layers", "dim", "heads", "vocab", "seed"):
        args += ["--" + k, str(getattr(a, k))]
    env = dict(os.environ)
    if default_malloc:
        args.append("--no-malloc-tune")
        for v in MALLOC_VARS + ("POSBENCH_BENCH_REEXEC",):
            env.pop(v, None)
    p = subprocess.Popen(args, stdout=subprocess.PIPE, env=env)
    out = p.stdout.read().decode()
    p.stdout.close()
    p.wait()
    lines = [json.loads(s) for s in out.splitlines() if s.startswith("{")]
    r = lines[-1] if p.returncode == 0 and lines else None
    return r, (r.pop("vmhwm_mb", None) if r else None), p.returncode


def bench_eval_child(a, method, T):
    """--rss: two fresh processes per length. Speed comes from one with the tuned malloc
    (warm-up + repeats); peak RSS from one with glibc's default malloc and a single forward:
    the tuned thresholds keep freed T x T buffers resident (heap fragmentation), which
    would overstate PyTorch's memory. Each number is PyTorch's best."""
    r, rss_tuned, rc = run_child(a, method, T, a.eval_warmup, a.eval_repeats, a.no_malloc_tune)
    if r is None:
        return {"kind": "eval", "method": method, "T": T, "error": "speed child exited %d" % rc}
    m, rss_default, rc = run_child(a, method, T, 0, 1, True)
    r["peak_rss_mb"] = rss_default if m is not None else None
    r["peak_rss_mb_tuned_malloc"] = rss_tuned
    r["rss_note"] = ("fresh processes, VmHWM incl. torch import and model: peak_rss_mb with glibc's "
                     "default malloc and one forward; tokens_per_s and peak_rss_mb_tuned_malloc from the "
                     "tuned-malloc run")
    if m is None:
        r["error"] = "memory child exited %d" % rc
    return r


def main():
    ap = argparse.ArgumentParser(description="PyTorch side of `make bench`: posbench's model in float32 PyTorch; "
                                             "one JSON object per line on stdout.")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--method", default="all", help="comma list of %s, or all (default all)" % ",".join(METHODS))
    ap.add_argument("--layers", type=int, default=4, help="transformer blocks (default 4)")
    ap.add_argument("--dim", type=int, default=128, help="model width d (default 128)")
    ap.add_argument("--heads", type=int, default=4, help="attention heads (default 4)")
    ap.add_argument("--vocab", type=int, default=256, help="vocabulary size (default 256, bytes)")
    ap.add_argument("--batch", type=int, default=32, help="training batch (default 32)")
    ap.add_argument("--train-len", type=int, default=128, help="training sequence length (default 128)")
    ap.add_argument("--steps", type=int, default=20, help="timed training steps, 0 to skip training (default 20)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed training steps first (default 3)")
    ap.add_argument("--eval-lens", default=DEFAULT_EVAL_LENS, help="comma list of eval lengths, '' to skip (default 1024,4096,8192)")
    ap.add_argument("--eval-warmup", type=int, default=1, help="untimed eval forwards per length (default 1)")
    ap.add_argument("--eval-repeats", type=int, default=1, help="timed eval forwards per length; the best is reported (default 1)")
    ap.add_argument("--rss", action="store_true", help="run each eval length in a fresh process and report its peak RSS")
    ap.add_argument("--seed", type=int, default=1, help="weights and token seed (default 1)")
    ap.add_argument("--no-malloc-tune", action="store_true", help="keep glibc's default malloc thresholds")
    ap.add_argument("--_child-eval", dest="child_eval", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    if a.child_eval:
        method, T = a.child_eval.split(":")
        r = bench_eval(a, method, int(T))
        r["vmhwm_mb"] = round(rss_mb("VmHWM"), 1)
        emit(r)
        return

    methods = METHODS if a.method == "all" else a.method.split(",")
    bad = [m for m in methods if m not in METHODS]
    if bad or a.dim % a.heads or (a.dim // a.heads) % 2:
        ap.error("--method: unknown %s" % ",".join(bad) if bad else "--dim must split into heads of even size")
    lens = [int(s) for s in a.eval_lens.split(",") if s.strip()]
    malloc = {v: os.environ.get(v) for v in MALLOC_VARS}
    emit({"kind": "config", "torch": torch.__version__, "threads": torch.get_num_threads(),
          "blas": blas_info(),
          "malloc_env": malloc,
          "malloc_note": ("re-executed with MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ raised to %s bytes "
                          "(>= 1 GiB, above twice the largest score buffer)" % os.environ.get(MALLOC_VARS[0])
                          if os.environ.get("POSBENCH_BENCH_REEXEC") else
                          "glibc defaults (--no-malloc-tune)" if a.no_malloc_tune else
                          "malloc thresholds taken from the caller's environment"),
          "model": {"layers": a.layers, "dim": a.dim, "heads": a.heads, "vocab": a.vocab},
          "train": {"batch": a.batch, "T": a.train_len, "steps": a.steps, "warmup": a.warmup},
          "eval_lens": lens, "rss": a.rss})
    for method in methods:
        if a.steps > 0:
            emit(bench_train(a, method))
        for T in lens:
            emit(bench_eval_child(a, method, T) if a.rss else bench_eval(a, method, T))


if __name__ == "__main__":
    main()
