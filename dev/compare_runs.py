#!/usr/bin/env python3
"""compare_runs.py — two run folders' extrapolation tables side by side.

    python3 dev/compare_runs.py results/paper runs/paper-bf16 [--mode nonoverlapping]

For every (method, training length, evaluation length) the two runs share, prints a
Markdown row: run A's perplexity over its seeds (mean, min-max), run B's the same, B's mean
relative to A's, and whether B's mean lies inside A's seed range. Made for the question
"does a bf16 run tell the same story as the fp32 one" (README, bf16 training); any two runs
of the same grid will do. Only rows with status ok count; the standard library only.
"""
import argparse
import csv
import os
import statistics
import sys


def load(folder, mode):
    """{(method, train_len, eval_len): [ppl per seed]} from FOLDER/results.csv."""
    path = os.path.join(folder, "results.csv")
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        sys.exit(f"compare_runs.py: {path}: {e.strerror}")
    table = {}
    for r in rows:
        if r.get("mode") != mode or r.get("status") != "ok":
            continue
        key = (r["method"], int(r["train_len"]), int(r["eval_len"]))
        table.setdefault(key, []).append(float(r["ppl"]))
    return table


def spread(vals):
    return f"{statistics.mean(vals):.3f} ({min(vals):.3f}-{max(vals):.3f}, n={len(vals)})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("a", help="run folder A (the reference, e.g. fp32)")
    ap.add_argument("b", help="run folder B (e.g. bf16)")
    ap.add_argument("--mode", default="nonoverlapping", help="nonoverlapping or sliding (default: nonoverlapping)")
    args = ap.parse_args()
    a, b = load(args.a, args.mode), load(args.b, args.mode)
    keys = sorted(set(a) & set(b))
    if not keys:
        sys.exit(f"compare_runs.py: the two runs share no {args.mode} rows")
    print(f"| method | L | length | A: {args.a} | B: {args.b} | B / A | B inside A's seed range |")
    print("|---|---:|---:|---:|---:|---:|:---:|")
    inside = 0
    for k in keys:
        ma, mb = statistics.mean(a[k]), statistics.mean(b[k])
        ok = min(a[k]) <= mb <= max(a[k])
        inside += ok
        print(f"| {k[0]} | {k[1]} | {k[2]} | {spread(a[k])} | {spread(b[k])} | {mb / ma:.4f} | {'yes' if ok else 'no'} |")
    print(f"\n{inside} of {len(keys)} rows: B's mean inside A's seed range ({args.mode}).")


if __name__ == "__main__":
    main()
