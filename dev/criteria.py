#!/usr/bin/env python3
"""Check a run folder against the acceptance criteria of the quick or paper preset.

usage: python3 dev/criteria.py RUN_DIR [quick|paper]

Reads RUN_DIR/results.csv (nonoverlapping perplexity, mean over seeds) and
RUN_DIR/train.csv (held-out loss, `val_loss`) and prints one row per criterion
with the measured value and met/missed. The criteria are the ones the presets
were tuned against (docs/DEFINITIONS.md, "Preset criteria"); nothing here is
tuned per method. Standard library only; the preset is read from
RUN_DIR/config.conf when not given.
"""
import csv
import sys
from collections import defaultdict

PAPER4 = ["sinusoidal", "rotary", "t5", "alibi"]


def read_ppl(run):
    """{(method, eval_len): mean ppl over seeds} for nonoverlapping ok rows."""
    acc = defaultdict(list)
    train_len = None
    with open(f"{run}/results.csv") as f:
        for r in csv.DictReader(f):
            if r["mode"] != "nonoverlapping" or r.get("status", "ok") != "ok":
                continue
            acc[(r["method"], int(r["eval_len"]))].append(float(r["ppl"]))
            train_len = int(r["train_len"])
    return {k: sum(v) / len(v) for k, v in acc.items()}, train_len


def val_change(run):
    """{(method, seed): (relative change of val_loss over the last 20% of steps, the step it is measured from)}."""
    curves = defaultdict(list)
    with open(f"{run}/train.csv") as f:
        for r in csv.DictReader(f):
            if r.get("val_loss") not in (None, "", "nan"):
                curves[(r["method"], r["seed"])].append((int(r["step"]), float(r["val_loss"])))
    out = {}
    for key, pts in curves.items():
        pts.sort()
        last_step, last = pts[-1]
        cut = last_step * 0.8
        before = [(s, v) for s, v in pts if s <= cut]
        if before:
            out[key] = ((before[-1][1] - last) / last, before[-1][0])  # as plots/convergence.c
    return out


def preset_of(run):
    try:
        with open(f"{run}/config.conf") as f:
            for line in f:
                if "(preset " in line:  # "# resolved configuration (preset quick)"
                    return line.split("(preset ", 1)[1].split(")")[0].strip()
    except OSError:
        pass
    return "quick"


def row(name, value, ok):
    print(f"| {name} | {value} | {'met' if ok else '**missed**'} |")


def check(run, preset):
    ppl, L = read_ppl(run)
    methods = sorted({m for m, _ in ppl})
    lens = sorted({t for _, t in ppl})
    at_L = [ppl[(m, L)] for m in PAPER4 if (m, L) in ppl]
    if not at_L:
        sys.exit(f"{run}: no nonoverlapping perplexity at L for {', '.join(PAPER4)}")
    best4 = min(at_L)
    tol = 0.10 if preset == "quick" else 0.05
    print(f"criteria for `{run}` (preset {preset}, L = {L})\n")
    print("| criterion | measured | |\n|---|---|---|")
    for m in PAPER4:
        if (m, L) in ppl:
            gap = ppl[(m, L)] / best4 - 1
            row(f"{m} within {tol:.0%} of the best at L", f"{ppl[(m, L)]:.3f} ({gap:+.1%})", gap <= tol)
    if preset == "quick":
        ratios = {"sinusoidal": (2.0, ">="), "nope": (1.3, ">="), "rotary": (1.5, ">="), "alibi": (1.02, "<=")}
        for m, (bound, op) in ratios.items():
            if (m, 8 * L) in ppl and (m, L) in ppl:
                r = ppl[(m, 8 * L)] / ppl[(m, L)]
                ok = r >= bound if op == ">=" else r <= bound
                row(f"{m} ppl(8L)/ppl(L) {op} {bound}", f"x{r:.2f}", ok)
        return
    if ("nope", L) in ppl:
        gap = ppl[("nope", L)] / best4 - 1
        row("nope within 25% of the best at L", f"{ppl[('nope', L)]:.3f} ({gap:+.1%})", gap <= 0.25)
    changes = val_change(run)
    if changes:
        worst = max(changes.items(), key=lambda kv: abs(kv[1][0]))
        row("every model's held-out loss changed < 2% over its last 20%",
            f"largest {abs(worst[1][0]):.2%} ({worst[0][0]} seed {worst[0][1]}, from step {worst[1][1]})",
            abs(worst[1][0]) < 0.02)
    order_ok, bad = True, []
    for t in lens:
        if t <= 2 * L or not all((m, t) in ppl for m in PAPER4):
            continue
        v = [ppl[(m, t)] for m in PAPER4]  # sinusoidal > rotary > t5 > alibi
        if not (v[0] > v[1] > v[2] > v[3]):
            order_ok = False
            bad.append(str(t))
    row("beyond 2L: sinusoidal > rotary > T5 > ALiBi", "holds" if order_ok else "fails at " + ",".join(bad), order_ok)
    if ("alibi", L) in ppl:
        worst = max(ppl[("alibi", t)] / ppl[("alibi", L)] for t in lens if ("alibi", t) in ppl)
        row("ALiBi <= its L value at every length", f"max ratio x{worst:.4f}", worst <= 1.0)
    if ("t5", 2 * L) in ppl:
        r = ppl[("t5", 2 * L)] / ppl[("t5", L)] - 1
        row("T5 within 5% of its L value at 2L", f"{r:+.1%}", abs(r) <= 0.05)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python3 dev/criteria.py RUN_DIR [quick|paper]")
    check(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else preset_of(sys.argv[1]))
