#!/usr/bin/python3
"""make_fixtures.py — the PyTorch reference for posbench's whole-model fixture test.

Writes tests/fixtures/model/<method>.safetensors for the five canonical position
methods (methods/README.md) on a tiny model (vocab 256, 2 layers, d 32, 4 heads, B 2 × T 16).
Each file holds the initial weights under docs/FORMATS.md names, one batch of inputs and
targets, and what the C model must reproduce from them:

  fixture.inputs, fixture.targets  [2,16]   token ids, stored as F32
  fixture.logits                   [32,256] rows b*T+t
  fixture.loss                     [1]      mean cross-entropy over all B*T targets, nats
  grad.<param>                     (shape of <param>) d loss / d param
  fixture.adamw_losses             [11]     10 steps of forward, backward, clip 1.0, AdamW
                                            on the same batch; entry k = loss before update k,
                                            entry 10 = loss after the 10th update
  fixture.grad_norms               [10]     total gradient norm before clipping, per step
  fixture.long.inputs, .targets    [1,160]  one window at 10x the training length
  fixture.long.nll                 [160]    per-position NLL (nats) of that window, initial weights
                                            (for t5 it reaches every bucket, 0..31)

Everything is computed in float64 (an exact target for a float32 implementation)
and stored as F32. The model is written here from docs/DEFINITIONS.md and methods/README.md directly, not from
any other codebase. Python is a development tool only: posbench never needs it
and CI never runs this script; the fixtures are committed.

Usage:  /usr/bin/python3 tests/make_fixtures.py --method NAME   write NAME's fixture only
        /usr/bin/python3 tests/make_fixtures.py --all           every method's; a file whose
                 values agree with the new ones to float32 rounding is left as it is
        /usr/bin/python3 tests/make_fixtures.py --check [--method NAME]   self-tests only, write nothing
        (--out DIR to write elsewhere)

Each position method appears here as one entry of POS (its tensors, their
initial values, its forward terms); a new method adds its entry and then runs
--method NAME (see methods/README.md).

--check verifies, per method: autograd gradients against central finite
differences; a naive scalar-loop forward (position terms from the scalar
definitions) against the vectorised one; float32 against float64 (logits, loss,
gradients, AdamW trajectory); dev/bench_torch.py's nn.Module against this
reference when that file is present; and a write/read round trip of the
safetensors writer.
"""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import torch

torch.set_num_threads(1)  # deterministic reductions; the model is tiny

CFG = dict(vocab=256, n_layer=2, d_model=32, n_head=4, train_len=16, batch=2)
OPT = dict(lr=3e-3, beta1=0.9, beta2=0.95, eps=1e-8, weight_decay=0.1, clip=1.0, steps=10)
SEED = 20220321          # weights and tokens
T5_SEED = SEED + 1       # the t5 table has its own stream: other weights are identical across methods
LONG_T = 160             # > max_distance 128, so the t5 window uses every bucket
LN_EPS = 1e-5
T5_BUCKETS, T5_MAX_DIST = 32, 128
CLIP_EPS = 1e-6          # torch.nn.utils.clip_grad_norm_: g *= min(1, clip / (norm + 1e-6))


# ---------------------------------------------------------------------------
# parameters (docs/FORMATS.md names and layouts)

def pos_tensor_names(method):
    """(name, what, layer) of the method's tensors in the C model's order: each declared
    tensor in turn, once when shared ("pos.<m>.<what>"), else once per layer
    ("blocks.<l>.pos.<m>.<what>")."""
    out = []
    for t in POS[method].get("tensors", []):
        if t["per_layer"]:
            out += [("blocks.%d.pos.%s.%s" % (l, method, t["what"]), t, l) for l in range(CFG["n_layer"])]
        else:
            out.append(("pos.%s.%s" % (method, t["what"]), t, None))
    return out


def param_shapes(method):
    V, L, d = CFG["vocab"], CFG["n_layer"], CFG["d_model"]
    shapes = [("tok_emb", (V, d))]
    for i in range(L):
        p = "blocks.%d." % i
        shapes += [(p + "ln1.weight", (d,)), (p + "ln1.bias", (d,)),
                   (p + "attn.qkv.weight", (3 * d, d)), (p + "attn.qkv.bias", (3 * d,)),
                   (p + "attn.proj.weight", (d, d)), (p + "attn.proj.bias", (d,)),
                   (p + "ln2.weight", (d,)), (p + "ln2.bias", (d,)),
                   (p + "mlp.fc.weight", (4 * d, d)), (p + "mlp.fc.bias", (4 * d,)),
                   (p + "mlp.proj.weight", (d, 4 * d)), (p + "mlp.proj.bias", (d,))]
    shapes += [("ln_f.weight", (d,)), ("ln_f.bias", (d,))]
    shapes += [(name, tuple(t["shape"]())) for name, t, _ in pos_tensor_names(method)]
    return shapes


def decayed(method):
    """Names that take AdamW weight decay: 2-D model weights, and the method tensors
    that declare it (no rule by rank for those)."""
    pos = {name: t["decay"] for name, t, _ in pos_tensor_names(method)}
    return {name for name, shape in param_shapes(method) if (pos[name] if name in pos else len(shape) == 2)}


def init_params(method):
    """Deterministic, deliberately non-degenerate initial values (numpy, float64).

    Linear weights and tok_emb N(0, 0.02), but qkv weights N(0, 0.1) so attention is
    far from uniform; LayerNorm weights 1 + 0.1 N, all biases 0.05 N (nonzero, so a
    dropped bias shows). Method tensors come from their own stream (POS[m]["init"]),
    so the other weights are identical across methods; the t5 table is 0.5 N (training
    zero-initialises it, but a zero table would not test the bias path)."""
    rng = np.random.default_rng(SEED)
    out = {}
    pos = {name for name, _, _ in pos_tensor_names(method)}
    for name, shape in param_shapes(method):
        if name in pos:
            continue
        if name.endswith("qkv.weight"):
            v = 0.1 * rng.standard_normal(shape)
        elif name.startswith("ln") or ".ln" in name:
            v = (1.0 if name.endswith("weight") else 0.0) + (0.1 if name.endswith("weight") else 0.05) * rng.standard_normal(shape)
        elif name.endswith("bias"):
            v = 0.05 * rng.standard_normal(shape)
        else:
            v = 0.02 * rng.standard_normal(shape)
        out[name] = v
    prng = np.random.default_rng(POS[method].get("seed", SEED + 100 + sorted(POS).index(method)))
    for name, t, _ in pos_tensor_names(method):
        out[name] = t["init"](prng, tuple(t["shape"]()))
    project(method, out)
    return {name: out[name] for name, _ in param_shapes(method)}   # the model's tensor order


def project(method, params):
    """The method's projection onto its domain (after init and after every AdamW step),
    in place on numpy arrays or torch tensors."""
    for name, t, _ in pos_tensor_names(method):
        if "clamp" in t:
            lo, hi = t["clamp"]
            x = params[name]
            if isinstance(x, np.ndarray):
                np.clip(x, lo, hi, out=x)
            else:
                with torch.no_grad():
                    x.clamp_(min=lo, max=hi)


def make_tokens():
    """A random byte stream: inputs s[0:T], targets s[1:T+1], as for a language model."""
    rng = np.random.default_rng(SEED + 7)
    B, T = CFG["batch"], CFG["train_len"]
    s = rng.integers(0, CFG["vocab"], size=(B, T + 1))
    long_s = rng.integers(0, CFG["vocab"], size=(1, LONG_T + 1))
    return s[:, :T], s[:, 1:], long_s[:, :LONG_T], long_s[:, 1:]


# ---------------------------------------------------------------------------
# position methods, straight from methods/README.md

def t5_bucket(n):
    """Causal T5 bucket of relative distance n = i - j >= 0 (num_buckets 32, max_distance 128):
    16 exact buckets, then logarithmic up to max_distance, beyond it the last bucket."""
    exact = T5_BUCKETS // 2
    if n < exact:
        return n
    b = exact + int(math.log(n / exact) / math.log(T5_MAX_DIST / exact) * (T5_BUCKETS - exact))
    return min(T5_BUCKETS - 1, b)


def alibi_slopes(n_head):
    """Paper's official slopes: m_k = 2^(-8k/n) for n a power of 2; otherwise the slopes of
    the nearest lower power of 2 c, then every other slope of the 2c set."""
    def pow2(n):
        return [2.0 ** (-8.0 * k / n) for k in range(1, n + 1)]
    if n_head & (n_head - 1) == 0:
        return pow2(n_head)
    c = 1 << (n_head.bit_length() - 1)
    return pow2(c) + pow2(2 * c)[0::2][: n_head - c]


def sinusoidal_table(T, d, dtype):
    p = torch.arange(T, dtype=dtype)[:, None]
    w = 10000.0 ** (-2.0 * torch.arange(d // 2, dtype=dtype) / d)
    return torch.cat([torch.sin(p * w), torch.cos(p * w)], dim=1)          # (T, d)


def rotary_apply(x):
    """x (B, H, T, hs) -> rotated; pairs (i, i+hs/2), angle p * 10000^(-2i/hs)."""
    T, hs = x.shape[-2], x.shape[-1]
    half = hs // 2
    p = torch.arange(T, dtype=x.dtype)[:, None]
    theta = 10000.0 ** (-2.0 * torch.arange(half, dtype=x.dtype) / hs)
    c, s = torch.cos(p * theta), torch.sin(p * theta)                       # (T, half)
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * c - x2 * s, x2 * c + x1 * s], dim=-1)


def rel_dist(T):
    """(T, T) long: i - j clamped at 0 (only j <= i is used)."""
    return (torch.arange(T)[:, None] - torch.arange(T)[None, :]).clamp(min=0)


def layer_tensor(P, method, what, layer):
    """Tensor `what` of the method as layer `layer` sees it."""
    shared = "pos.%s.%s" % (method, what)
    return P[shared] if shared in P else P["blocks.%d.%s" % (layer, shared)]


def alibi_bias(P, T, layer, dtype):
    m = torch.tensor(alibi_slopes(CFG["n_head"]), dtype=dtype)
    return -m[:, None, None] * rel_dist(T).to(dtype)[None]


def t5_bias(P, T, layer, dtype):
    buckets = torch.tensor([t5_bucket(n) for n in range(T)])[rel_dist(T)]    # (T, T)
    return P["pos.t5.table"][buckets].permute(2, 0, 1)                        # table[bucket][h]


# xPos (Sun et al. 2022): rotary times zeta_i^((p - c)/gamma) on q and its inverse on
# k, zeta_i = (i/(hs/2) + 0.4)/1.4, positions centred at c = ceil(T/2) as torchscale's
# min_pos = -(T // 2) rounding; gamma from the fixture's spec.
XPOS_GAMMA = 32.0


def xpos_scale(T, hs, dtype):
    half = hs // 2
    zeta = (torch.arange(half, dtype=dtype) / half + 0.4) / 1.4
    n = torch.arange(T, dtype=dtype)[:, None] - (T + 1) // 2
    return zeta[None, :] ** (n / XPOS_GAMMA)                                   # (T, half)


def xpos_apply(x, is_key):
    s = xpos_scale(x.shape[-2], x.shape[-1], x.dtype)
    s = 1.0 / s if is_key else s
    return rotary_apply(x) * torch.cat([s, s], dim=-1)


def kerple_r(P, method, layer):
    """r1, r2 (H,) of the layer."""
    return layer_tensor(P, method, "r1", layer), layer_tensor(P, method, "r2", layer)


def kerple_log_bias(P, T, layer, dtype):
    r1, r2 = kerple_r(P, "kerple_log", layer)
    d = rel_dist(T).to(dtype)[None]
    return -r1[:, None, None] * torch.log1p(r2[:, None, None] * d)


def kerple_power_bias(P, T, layer, dtype):
    r1, r2 = kerple_r(P, "kerple_power", layer)
    d = rel_dist(T).to(dtype)[None]
    # d^r2 with the d = 0 entries held at 0 (and their r2-gradient 0): torch.pow's own rule
    return -r1[:, None, None] * torch.where(d > 0, d.clamp(min=1.0) ** r2[:, None, None], torch.zeros_like(d))


KERPLE_EPS = 1e-2

# FIRE (Li et al.): f(psi(i-j)/psi(max(L^, i))), psi(x) = log(|c| x + 1), L^ = |L_mult| L0,
# normaliser + 1e-6, MLP 1 -> 32 -> H with relu, as the paper's reference code. The fixture's
# L0 = 8.5 puts rows 9.. beyond the threshold (both branches) and no position on it.
FIRE_L0 = 8.5


def fire_x(P, T, layer, dtype):
    g = lambda w: layer_tensor(P, "fire", w, layer)
    c, lhat = g("c")[0].abs(), g("L_mult")[0].abs() * FIRE_L0
    pos = torch.arange(T, dtype=dtype)
    psi = torch.log(c * rel_dist(T).to(dtype) + 1.0)
    norm = torch.log(c * torch.maximum(pos, lhat) + 1.0) + 1e-6
    return psi / norm[:, None]                                                   # (T, T)


def fire_bias(P, T, layer, dtype):
    g = lambda w: layer_tensor(P, "fire", w, layer)
    hid = torch.relu(fire_x(P, T, layer, dtype)[..., None] * g("w1")[:, 0] + g("b1"))   # (T, T, 32)
    return (hid @ g("w2").T + g("b2")).permute(2, 0, 1)                          # (H, T, T)


def fire_naive(P, l, h, i, j):
    g = lambda w: P["blocks.%d.pos.fire.%s" % (l, w)]
    c, lhat = abs(g("c")[0]), abs(g("L_mult")[0]) * FIRE_L0
    x = math.log(c * (i - j) + 1.0) / (math.log(c * max(i, lhat) + 1.0) + 1e-6)
    return g("b2")[h] + sum(g("w2")[h, k] * max(g("w1")[k, 0] * x + g("b1")[k], 0.0) for k in range(32))


def fire_tensors():
    H, u = lambda: (CFG["n_head"],), lambda a: (lambda rng, shape: a * (2.0 * rng.random(shape) - 1.0))
    one = lambda v: (lambda rng, shape: np.full(shape, v))
    return [dict(what="w1", shape=lambda: (32, 1), per_layer=True, decay=True, init=u(1.0)),
            dict(what="b1", shape=lambda: (32,), per_layer=True, decay=False, init=u(1.0)),
            dict(what="w2", shape=lambda: (CFG["n_head"], 32), per_layer=True, decay=True, init=u(32 ** -0.5)),
            dict(what="b2", shape=H, per_layer=True, decay=False, init=u(32 ** -0.5)),
            dict(what="c", shape=lambda: (1,), per_layer=True, decay=False, init=one(0.1)),
            dict(what="L_mult", shape=lambda: (1,), per_layer=True, decay=False, init=one(1.0))]


def uniform(scale):
    return lambda rng, shape: scale * rng.random(shape)


def kerple_tensors(r1_scale, r2_scale, r2_max):
    H = lambda: (CFG["n_head"],)
    return [dict(what="r1", shape=H, per_layer=True, decay=False, init=uniform(r1_scale), clamp=(KERPLE_EPS, np.inf)),
            dict(what="r2", shape=H, per_layer=True, decay=False, init=uniform(r2_scale), clamp=(KERPLE_EPS, r2_max))]


POS = {
    "nope": {},
    "sinusoidal": dict(embed=lambda P, T, dtype: sinusoidal_table(T, CFG["d_model"], dtype)),
    "rotary": dict(qk=lambda x, is_key, P, layer: rotary_apply(x)),
    "t5": dict(seed=T5_SEED, bias=t5_bias,
               tensors=[dict(what="table", shape=lambda: (T5_BUCKETS, CFG["n_head"]), per_layer=False, decay=True,
                             init=lambda rng, shape: 0.5 * rng.standard_normal(shape))]),
    "alibi": dict(bias=alibi_bias),
    "learned": dict(embed=lambda P, T, dtype: P["pos.learned.table"][:T], long=False,
                    tensors=[dict(what="table", shape=lambda: (CFG["train_len"], CFG["d_model"]), per_layer=False,
                                  decay=True, init=lambda rng, shape: 0.1 * rng.standard_normal(shape))]),
    "xpos": dict(spec="xpos:gamma=%g" % XPOS_GAMMA, qk=lambda x, is_key, P, layer: xpos_apply(x, is_key)),
    "kerple_log": dict(bias=kerple_log_bias, tensors=kerple_tensors(2.0, 1.0, np.inf)),
    "kerple_power": dict(bias=kerple_power_bias, tensors=kerple_tensors(1.0, 2.0, 2.0)),
    "fire": dict(spec="fire:L0=%g" % FIRE_L0, bias=fire_bias, naive_bias=fire_naive, tensors=fire_tensors()),
}


def load_method_reference(name):
    """A method not listed in POS carries its PyTorch reference in its own C file,
    methods/<name>.c, between the lines "@torch-reference" and "@end" of a comment
    (each line's leading " * " removed): Python that defines POS_ENTRY, a dict like
    the entries above. So adding a method stays one file (methods/README.md)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "methods", name + ".c")
    if not os.path.exists(path):
        return None
    lines, inside = [], False
    for line in open(path, encoding="utf-8"):
        if "@torch-reference" in line:
            inside = True
        elif "@end" in line and inside:
            break
        elif inside:
            lines.append(line.rstrip("\n")[3:] if line.startswith(" * ") else line.strip(" *\n"))
    if not lines:
        return None
    scope = dict(globals())
    exec("\n".join(lines), scope)
    return scope["POS_ENTRY"]


def add_method_references(names):
    for name in names:
        if name not in POS:
            entry = load_method_reference(name)
            if entry is None:
                sys.exit("make_fixtures.py: no reference for '%s': add an entry to POS or an "
                         "@torch-reference block to methods/%s.c" % (name, name))
            POS[name] = entry


METHODS = list(POS)


# ---------------------------------------------------------------------------
# the model (docs/DEFINITIONS.md, Model), functional, any dtype

def layernorm(x, w, b):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + LN_EPS) * w + b


def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def forward(P, idx, method):
    """P: name -> tensor; idx (B, T) long. Returns logits (B*T, V)."""
    B, T = idx.shape
    d, H = CFG["d_model"], CFG["n_head"]
    hs = d // H
    dtype = P["tok_emb"].dtype
    pm = POS[method]
    x = math.sqrt(d) * P["tok_emb"][idx]                                     # (B, T, d)
    if "embed" in pm:
        x = x + pm["embed"](P, T, dtype)
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for i in range(CFG["n_layer"]):
        p = "blocks.%d." % i
        h = layernorm(x, P[p + "ln1.weight"], P[p + "ln1.bias"])
        qkv = h @ P[p + "attn.qkv.weight"].T + P[p + "attn.qkv.bias"]        # (B, T, 3d)
        q, k, v = [t.reshape(B, T, H, hs).transpose(1, 2) for t in qkv.split(d, dim=-1)]
        if "qk" in pm:
            q, k = pm["qk"](q, False, P, i), pm["qk"](k, True, P, i)
        s = q @ k.transpose(-1, -2) / math.sqrt(hs)                           # (B, H, T, T)
        if "bias" in pm:
            s = s + pm["bias"](P, T, i, dtype)
        if "data_bias" in pm:                                                 # from the attention input h
            s = s + pm["data_bias"](P, h, i, dtype)
        s = s.masked_fill(~causal, float("-inf"))
        y = torch.softmax(s, dim=-1) @ v                                      # (B, H, T, hs)
        y = y.transpose(1, 2).reshape(B, T, d)                                # head h -> cols h*hs..
        x = x + y @ P[p + "attn.proj.weight"].T + P[p + "attn.proj.bias"]
        h = layernorm(x, P[p + "ln2.weight"], P[p + "ln2.bias"])
        h = gelu_tanh(h @ P[p + "mlp.fc.weight"].T + P[p + "mlp.fc.bias"])
        x = x + h @ P[p + "mlp.proj.weight"].T + P[p + "mlp.proj.bias"]
    x = layernorm(x, P["ln_f.weight"], P["ln_f.bias"])
    return (x @ P["tok_emb"].T).reshape(B * T, -1)


def token_nll(logits, targets):
    """per-row NLL in nats: logsumexp(logits) - logits[target]."""
    t = targets.reshape(-1)
    return torch.logsumexp(logits, dim=-1) - logits[torch.arange(t.numel()), t]


def to_torch(params_np, dtype, requires_grad=True):
    return {n: torch.tensor(v, dtype=dtype, requires_grad=requires_grad) for n, v in params_np.items()}


def loss_and_grads(params_np, inputs, targets, method, dtype):
    P = to_torch(params_np, dtype)
    logits = forward(P, torch.tensor(inputs), method)
    loss = token_nll(logits, torch.tensor(targets)).mean()
    grads = torch.autograd.grad(loss, list(P.values()))
    return (logits.detach().numpy(), float(loss),
            {n: g.numpy() for n, g in zip(P.keys(), grads)})


def adamw_trajectory(params_np, inputs, targets, method, dtype):
    """OPT["steps"] steps of forward -> backward -> clip_grad_norm_ -> AdamW (decay on 2-D
    weights and on the method tensors that declare it) -> the method's projection."""
    P = to_torch(params_np, dtype)
    dec = decayed(method)
    decay = [t for n, t in P.items() if n in dec]
    no_decay = [t for n, t in P.items() if n not in dec]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": OPT["weight_decay"]},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=OPT["lr"], betas=(OPT["beta1"], OPT["beta2"]), eps=OPT["eps"])
    idx, tgt = torch.tensor(inputs), torch.tensor(targets)
    losses, norms = [], []
    for _ in range(OPT["steps"]):
        opt.zero_grad(set_to_none=True)
        loss = token_nll(forward(P, idx, method), tgt).mean()
        losses.append(float(loss))
        loss.backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_(list(P.values()), OPT["clip"])))
        opt.step()
        project(method, P)
    with torch.no_grad():
        losses.append(float(token_nll(forward(P, idx, method), tgt).mean()))
    return np.array(losses), np.array(norms)


# ---------------------------------------------------------------------------
# safetensors, by hand: u64 LE header length, JSON header ("__metadata__" first,
# string values), header padded with spaces to a multiple of 8, F32 LE data.

def write_safetensors(path, tensors, metadata):
    header = {"__metadata__": {k: str(v) for k, v in metadata.items()}}
    blobs, off = [], 0
    for name, arr in tensors:
        a = np.ascontiguousarray(np.asarray(arr, dtype="<f4"))
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + a.nbytes]}
        blobs.append(a.tobytes())
        off += a.nbytes
    hj = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hj += b" " * (-len(hj) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def read_safetensors(path):
    """Strict reader: returns (metadata, {name: float32 array}) in file order."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    assert n % 8 == 0 and 8 + n <= len(data), "bad header length"
    header = json.loads(data[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    assert all(isinstance(v, str) for v in meta.values())
    body = data[8 + n:]
    out, expect = {}, 0
    for name, info in header.items():
        assert info["dtype"] == "F32"
        a, b = info["data_offsets"]
        assert a == expect and b - a == 4 * int(np.prod(info["shape"], dtype=np.int64)), name
        out[name] = np.frombuffer(body[a:b], dtype="<f4").reshape(info["shape"])
        expect = b
    assert expect == len(body), "trailing bytes"
    return meta, out


# ---------------------------------------------------------------------------
# fixtures

def build(method):
    params = init_params(method)
    inputs, targets, long_in, long_tg = make_tokens()
    logits, loss, grads = loss_and_grads(params, inputs, targets, method, torch.float64)
    losses, norms = adamw_trajectory(params, inputs, targets, method, torch.float64)
    has_long = POS[method].get("long", True)    # learned: no rows beyond the training length
    tensors = list(params.items())
    tensors += [("fixture.inputs", inputs), ("fixture.targets", targets),
                ("fixture.logits", logits), ("fixture.loss", np.array([loss]))]
    tensors += [("grad." + n, grads[n]) for n in params]
    tensors += [("fixture.adamw_losses", losses), ("fixture.grad_norms", norms)]
    if has_long:
        with torch.no_grad():
            P = to_torch(params, torch.float64, requires_grad=False)
            long_nll = token_nll(forward(P, torch.tensor(long_in), method), torch.tensor(long_tg)).numpy()
        tensors += [("fixture.long.inputs", long_in), ("fixture.long.targets", long_tg),
                    ("fixture.long.nll", long_nll)]
    meta = dict(format="posbench-1", method=method, vocab=CFG["vocab"], n_layer=CFG["n_layer"],
                n_head=CFG["n_head"], d_model=CFG["d_model"], train_len=CFG["train_len"],
                batch=CFG["batch"], seq_len=CFG["train_len"], long_len=LONG_T if has_long else 0,
                lr=OPT["lr"], beta1=OPT["beta1"], beta2=OPT["beta2"], eps=OPT["eps"],
                weight_decay=OPT["weight_decay"], clip=OPT["clip"], steps=OPT["steps"],
                clip_rule="g *= min(1, clip / (total_norm + 1e-6))",
                weight_decay_on="2-D model weights and the method tensors that declare it: "
                                + ", ".join(sorted(n for n in decayed(method) if ".pos." in "." + n)) or "none",
                reference_dtype="float64", seed=SEED,
                generator="tests/make_fixtures.py (PyTorch %s)" % torch.__version__.split("+")[0])
    if "spec" in POS[method]:
        meta["spec"] = POS[method]["spec"]
    return tensors, meta


# ---------------------------------------------------------------------------
# self-checks

def naive_logits(params_np, inputs, method):
    """A second, loop-level forward in numpy float64: attention per (b, h, i, j) with the
    position terms evaluated from their scalar definitions."""
    V, L, d, H = CFG["vocab"], CFG["n_layer"], CFG["d_model"], CFG["n_head"]
    hs = d // H
    B, T = inputs.shape
    P = params_np
    slopes = alibi_slopes(H)

    def ln(x, w, b):
        mu = x.mean()
        return (x - mu) / math.sqrt(((x - mu) ** 2).mean() + LN_EPS) * w + b

    def rope(vec, pos):
        out = vec.copy()
        for i in range(hs // 2):
            a = pos * 10000.0 ** (-2.0 * i / hs)
            out[i] = vec[i] * math.cos(a) - vec[i + hs // 2] * math.sin(a)
            out[i + hs // 2] = vec[i + hs // 2] * math.cos(a) + vec[i] * math.sin(a)
        return out

    def xpos(vec, pos, is_key):
        out = rope(vec, pos)
        half = hs // 2
        for i in range(half):
            zeta = (i / half + 0.4) / 1.4
            sc = zeta ** ((pos - (T + 1) // 2) / XPOS_GAMMA)
            sc = 1.0 / sc if is_key else sc
            out[i] *= sc
            out[i + half] *= sc
        return out

    def kerple(l, h):
        grab = lambda what: P["blocks.%d.pos.%s.%s" % (l, method, what)][h]
        return grab("r1"), grab("r2")

    def bias(l, h, i, j, xs):
        if "naive_data_bias" in POS[method]:   # from the attention input rows xs (T, d)
            return POS[method]["naive_data_bias"](P, l, h, xs, i, j)
        if "naive_bias" in POS[method]:     # a method's scalar definition (its @torch-reference block)
            return POS[method]["naive_bias"](P, l, h, i, j)
        if method == "alibi":
            return -slopes[h] * (i - j)
        if method == "t5":
            return P["pos.t5.table"][t5_bucket(i - j)][h]
        if method == "kerple_log":
            r1, r2 = kerple(l, h)
            return -r1 * math.log(1.0 + r2 * (i - j))
        if method == "kerple_power":
            r1, r2 = kerple(l, h)
            return -r1 * (i - j) ** r2 if i > j else 0.0
        return 0.0

    logits = np.zeros((B * T, V))
    for b in range(B):
        x = np.zeros((T, d))
        for t in range(T):
            x[t] = math.sqrt(d) * P["tok_emb"][inputs[b, t]]
            if method == "sinusoidal":
                for i in range(d // 2):
                    w = 10000.0 ** (-2.0 * i / d)
                    x[t, i] += math.sin(t * w)
                    x[t, d // 2 + i] += math.cos(t * w)
            if method == "learned":
                x[t] += P["pos.learned.table"][t]
        for l in range(L):
            p = "blocks.%d." % l
            xs = np.array([ln(x[t], P[p + "ln1.weight"], P[p + "ln1.bias"]) for t in range(T)])
            qkv = np.array([P[p + "attn.qkv.weight"] @ xs[t] + P[p + "attn.qkv.bias"] for t in range(T)])
            y = np.zeros((T, d))
            for h in range(H):
                q = qkv[:, h * hs:(h + 1) * hs]
                k = qkv[:, d + h * hs:d + (h + 1) * hs]
                v = qkv[:, 2 * d + h * hs:2 * d + (h + 1) * hs]
                if method == "rotary":
                    q = np.array([rope(q[t], t) for t in range(T)])
                    k = np.array([rope(k[t], t) for t in range(T)])
                if method == "xpos":
                    q = np.array([xpos(q[t], t, False) for t in range(T)])
                    k = np.array([xpos(k[t], t, True) for t in range(T)])
                for i in range(T):
                    s = np.array([q[i] @ k[j] / math.sqrt(hs) + bias(l, h, i, j, xs) for j in range(i + 1)])
                    e = np.exp(s - s.max())
                    y[i, h * hs:(h + 1) * hs] = (e / e.sum()) @ v[:i + 1]
            x = x + y @ P[p + "attn.proj.weight"].T + P[p + "attn.proj.bias"]
            for t in range(T):
                hh = P[p + "mlp.fc.weight"] @ ln(x[t], P[p + "ln2.weight"], P[p + "ln2.bias"]) + P[p + "mlp.fc.bias"]
                hh = 0.5 * hh * (1 + np.tanh(math.sqrt(2 / math.pi) * (hh + 0.044715 * hh ** 3)))
                x[t] += P[p + "mlp.proj.weight"] @ hh + P[p + "mlp.proj.bias"]
        for t in range(T):
            logits[b * T + t] = P["tok_emb"] @ ln(x[t], P["ln_f.weight"], P["ln_f.bias"])
    return logits


def rel(a, b):
    """max |a - b| / max |b|"""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))


def load_bench_module():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "dev", "bench_torch.py")
    if not os.path.exists(path):
        return None
    import importlib.util
    spec = importlib.util.spec_from_file_location("bench_torch", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def check(method, bench):
    """Returns a list of (name, value, limit) rows."""
    rows = []
    params = init_params(method)
    inputs, targets, long_in, long_tg = make_tokens()
    logits64, loss64, g64 = loss_and_grads(params, inputs, targets, method, torch.float64)

    # 1. finite differences (central, double) on 3 entries of every tensor
    rng = np.random.default_rng(99)
    P = to_torch(params, torch.float64, requires_grad=False)
    idx, tgt = torch.tensor(inputs), torch.tensor(targets)
    worst, h = 0.0, 1e-5
    for name in params:
        flat = P[name].view(-1)
        for e in rng.choice(flat.numel(), size=min(3, flat.numel()), replace=False):
            if name == "pos.t5.table" and e // CFG["n_head"] >= CFG["train_len"]:
                e = e % (CFG["train_len"] * CFG["n_head"])   # buckets >= 16 are unused at T=16
            old = float(flat[e])
            flat[e] = old + h
            lp = float(token_nll(forward(P, idx, method), tgt).mean())
            flat[e] = old - h
            lm = float(token_nll(forward(P, idx, method), tgt).mean())
            flat[e] = old
            fd, ad = (lp - lm) / (2 * h), g64[name].reshape(-1)[e]
            worst = max(worst, abs(fd - ad) / max(abs(ad), 1e-3))
    rows.append(("finite differences vs autograd (rel, floor 1e-3)", worst, 1e-6))

    # 2. naive loop forward
    rows.append(("naive loop forward vs vectorised (rel)", rel(naive_logits(params, inputs, method), logits64), 1e-12))

    # 3. float32 vs float64
    logits32, loss32, g32 = loss_and_grads(params, inputs, targets, method, torch.float32)
    rows.append(("fp32 vs fp64 logits (rel)", rel(logits32, logits64), 1e-5))
    rows.append(("fp32 vs fp64 loss (abs)", abs(loss32 - loss64), 1e-5))
    gmax = max(float(np.abs(g64[n]).max()) for n in params)   # a tensor whose exact gradient is 0 (FIRE's b2)
    rows.append(("fp32 vs fp64 grads (worst tensor, rel; floor 1e-3 of the largest)",
                 max(float(np.abs(g32[n] - g64[n]).max()) / max(float(np.abs(g64[n]).max()), 1e-3 * gmax) for n in params),
                 1e-4))
    l64, n64 = adamw_trajectory(params, inputs, targets, method, torch.float64)
    l32, n32 = adamw_trajectory(params, inputs, targets, method, torch.float32)
    rows.append(("fp32 vs fp64 AdamW losses (abs)", float(np.abs(l32 - l64).max()), 1e-4))
    rows.append(("fp32 vs fp64 grad norms (rel)", rel(n32, n64), 1e-4))
    rows.append(("AdamW lowers the loss (loss10 - loss0)", float(l64[-1] - l64[0]), 0.0))

    # 4. dev/bench_torch.py's nn.Module, loaded with the same weights (for the methods it has)
    if bench is not None and method in bench.METHODS:
        for dtype, lim in ((torch.float64, 1e-12), (torch.float32, 1e-5)):
            m = bench.GPT(CFG["vocab"], CFG["n_layer"], CFG["d_model"], CFG["n_head"], method).to(dtype)
            m.load_state_dict({n: torch.tensor(v, dtype=dtype) for n, v in params.items()}, strict=True)
            with torch.no_grad():
                lg = m(torch.tensor(inputs)).reshape(-1, CFG["vocab"]).numpy()
                ln_ = bench.nll_per_token(m(torch.tensor(long_in)), torch.tensor(long_tg)).reshape(-1).numpy()
            with torch.no_grad():
                ref_long = token_nll(forward(to_torch(params, torch.float64, False), torch.tensor(long_in), method),
                                     torch.tensor(long_tg)).numpy()
            tag = "f64" if dtype == torch.float64 else "f32"
            rows.append(("bench_torch %s logits vs reference (rel)" % tag, rel(lg, logits64), lim))
            rows.append(("bench_torch %s long-window NLL vs reference (rel)" % tag, rel(ln_, ref_long), lim * 10))
        m = bench.GPT(CFG["vocab"], CFG["n_layer"], CFG["d_model"], CFG["n_head"], method).double()
        m.load_state_dict({n: torch.tensor(v, dtype=torch.float64) for n, v in params.items()})
        opt = bench.make_optimizer(m, OPT["lr"], OPT["weight_decay"], (OPT["beta1"], OPT["beta2"]), OPT["eps"])
        bl = [bench.train_step(m, opt, torch.tensor(inputs), torch.tensor(targets), OPT["clip"])[0]
              for _ in range(OPT["steps"])]
        rows.append(("bench_torch f64 AdamW losses vs reference (abs)", float(np.abs(np.array(bl) - l64[:-1]).max()), 1e-10))

    # 5. safetensors round trip
    tensors, meta = build(method) if method == "t5" else (list(params.items()), {"method": method})
    path = "/tmp/posbench_fixture_check_%d.safetensors" % os.getpid()
    write_safetensors(path, tensors, meta)
    m2, t2 = read_safetensors(path)
    os.remove(path)
    ok = list(t2) == [n for n, _ in tensors] and all(
        np.array_equal(t2[n], np.asarray(a, dtype=np.float32)) for n, a in tensors) and m2 == {k: str(v) for k, v in meta.items()}
    rows.append(("safetensors write/read round trip (0 = exact)", 0.0 if ok else 1.0, 0.0))
    return rows


def position_checks():
    rows = []
    # T5 buckets: boundaries from the closed form, max_distance and beyond
    b = [t5_bucket(n) for n in range(301)]
    want = {0: 0, 15: 15, 16: 16, 18: 16, 19: 17, 127: 31, 128: 31, 300: 31}
    rows.append(("t5 bucket spot values", float(sum(b[k] != v for k, v in want.items())), 0.0))
    rows.append(("t5 buckets monotone, all 0..31 used by n<=128", float(not (all(x <= y for x, y in zip(b, b[1:])) and set(b[:129]) == set(range(32)))), 0.0))
    # ALiBi slopes, the paper's examples
    s12 = [2.0 ** -k for k in range(1, 9)] + [2.0 ** -0.5, 2.0 ** -1.5, 2.0 ** -2.5, 2.0 ** -3.5]
    rows.append(("alibi slopes 4 and 12 heads", max(abs(a - w) for a, w in zip(alibi_slopes(4) + alibi_slopes(12), [2.0 ** -2, 2.0 ** -4, 2.0 ** -6, 2.0 ** -8] + s12)), 0.0))
    # RoPE as complex multiplication: (x_i + i x_{i+h/2}) * e^{i p theta_i}
    x = torch.randn(1, 1, 7, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    z = torch.complex(x[..., :4], x[..., 4:]) * torch.polar(torch.ones(7, 4, dtype=torch.float64),
                                                           torch.arange(7.0, dtype=torch.float64)[:, None] * 10000.0 ** (-2.0 * torch.arange(4.0, dtype=torch.float64) / 8))
    rows.append(("rotary = complex rotation", rel(rotary_apply(x), torch.cat([z.real, z.imag], -1)), 1e-15))
    rows.append(("gelu_tanh = torch gelu(approximate='tanh')", rel(gelu_tanh(x), torch.nn.functional.gelu(x, approximate="tanh")), 1e-15))
    return rows


def run_checks(methods):
    bench = load_bench_module()
    if bench is None:
        print("note: dev/bench_torch.py not found; skipping the bench-model comparison")
    fails = 0
    groups = [("position maths", position_checks())] + [(m, check(m, bench)) for m in methods]
    for title, rows in groups:
        print("== %s" % title)
        for name, val, lim in rows:
            ok = val <= lim
            fails += not ok
            print("  %-4s %-52s %11.3e  (limit %g)" % ("ok" if ok else "FAIL", name, val, lim))
    n = sum(len(r) for _, r in groups)
    print("%d passed, %d failed" % (n - fails, fails))
    return fails == 0


def same_values(path, tensors, meta):
    """True when the file at path holds the same tensor names, metadata and values to
    within float32 rounding of the float64 reference (rel 1e-6 of each tensor's max):
    then it is left as it is, so regenerating never rewrites others' fixtures with
    last-bit changes."""
    if not os.path.exists(path):
        return False
    m2, t2 = read_safetensors(path)
    if list(t2) != [n for n, _ in tensors] or m2.get("method") != meta["method"]:
        return False
    return all(rel(t2[n], np.asarray(v, dtype=np.float32)) <= 1e-6 if np.abs(v).max() > 0 else not np.abs(t2[n]).max()
               for n, v in tensors)


def write_fixture(method, out):
    tensors, meta = build(method)
    path = os.path.join(out, method + ".safetensors")
    if same_values(path, tensors, meta):
        print("%-12s unchanged (values agree to float32 rounding)  %s" % (method, path))
        return
    write_safetensors(path, tensors, meta)
    m2, t2 = read_safetensors(path)   # read back: every tensor bit-exact
    assert list(t2) == [n for n, _ in tensors] and m2["method"] == method
    assert all(np.array_equal(t2[n], np.asarray(v, dtype=np.float32)) for n, v in tensors)
    print("%-12s %7d bytes  loss %.6f  adamw loss %.6f -> %.6f  grad norm[0] %.4f  %s" % (
        method, os.path.getsize(path), float(t2["fixture.loss"][0]), float(t2["fixture.adamw_losses"][0]),
        float(t2["fixture.adamw_losses"][-1]), float(t2["fixture.grad_norms"][0]), path))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--method", action="append", help="this method only (repeatable)")
    ap.add_argument("--all", action="store_true", help="every method (files that agree are left as they are)")
    ap.add_argument("--check", action="store_true", help="run the self-checks only; write nothing")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "model"),
                    help="output folder (default tests/fixtures/model)")
    a = ap.parse_args()
    add_method_references(a.method or [])
    methods = a.method or (METHODS if a.all or a.check else None)
    if not methods:
        ap.error("name --method NAME (or --all, or --check)")
    if a.check:
        sys.exit(0 if run_checks(methods) else 1)
    os.makedirs(a.out, exist_ok=True)
    for method in methods:
        write_fixture(method, a.out)


if __name__ == "__main__":
    main()
