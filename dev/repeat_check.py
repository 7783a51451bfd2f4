#!/usr/bin/env python3
"""repeat_check.py — does a checkpoint copy verbatim repeated text? A second positive control
beside the copy and passkey probes, with natural text instead of random strings.

    python3 dev/repeat_check.py --tok datasets/cache/default/byte/valid.tok --half 64 CKPT...

Builds a text file of windows of 2h bytes, each h bytes of held-out text (a prepared byte-level
split: `--tok`) followed by the same h bytes again, h = --half, and evaluates every checkpoint on it
with `posbench eval --split all --lengths 2h --per-position`, whose nonoverlapping windows then
start exactly at each pair (the file is kept under --dir, so posbench prepares it once). It prints the mean NLL on the first half (positions 0 .. h-2) and on
the repeat (h .. 2h-2: the targets that repeat a token seen h positions before). A model that
copies drives the repeat's loss far below the first half's; a ratio near 1 means it reads nothing
back. Standard library only (no numpy); byte-level token files only.
"""
import argparse
import csv
import os
import random
import struct
import subprocess
import sys
import tempfile

HEADER = 128   # token file layout: datasets/README.md (prepared token files)


def read_byte_split(path):
    """The tokens of a prepared split as bytes (byte tokenizer: token = byte)."""
    with open(path, "rb") as f:
        head = f.read(HEADER)
        if head[:8] != b"PBTOKENS":
            sys.exit(f"repeat_check: {path} is not a posbench token file")
        n_docs = struct.unpack("<I", head[20:24])[0]
        f.seek(HEADER + 8 * (n_docs + 1))
        body = f.read()
    toks = struct.unpack(f"<{len(body) // 2}H", body)
    if max(toks) > 255:
        sys.exit(f"repeat_check: {path} is not byte-level (token ids above 255)")
    return bytes(toks)


def build_pairs(text, half, n, seed):
    """n windows of 2*half bytes: a random held-out segment, then the same segment again."""
    rng = random.Random(seed)
    out = bytearray()
    for _ in range(n):
        o = rng.randrange(0, len(text) - half)
        out += text[o:o + half] * 2
    return bytes(out)


def halves(per_position_csv, half):
    """Mean NLL over positions 0..half-2 and half..2*half-2 of per-position rows."""
    first, rep = [], []
    with open(per_position_csv) as f:
        for row in csv.DictReader(f):
            p, v = int(row["pos"]), float(row["nll"])
            if p <= half - 2:
                first.append(v)
            elif half <= p <= 2 * half - 2:
                rep.append(v)
    return sum(first) / len(first), sum(rep) / len(rep)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tok", required=True, help="prepared byte-level split, e.g. datasets/cache/default/byte/valid.tok")
    ap.add_argument("--half", type=int, default=64, help="segment length h (window 2h)")
    ap.add_argument("--n", type=int, default=256, help="windows")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--posbench", default="./posbench")
    ap.add_argument("--dir", default="runs/repeat-check", help="where the text file of pairs is kept")
    ap.add_argument("ckpt", nargs="+")
    a = ap.parse_args()
    if a.half < 2:
        sys.exit("repeat_check: --half must be at least 2")
    text = read_byte_split(a.tok)
    # a fixed path per (split, h, n, seed): posbench prepares a text file once per path (datasets/cache/files)
    os.makedirs(a.dir, exist_ok=True)
    tag = os.path.basename(os.path.dirname(os.path.dirname(os.path.abspath(a.tok))))
    data = os.path.abspath(os.path.join(a.dir, f"pairs-{tag}-{os.path.basename(a.tok)[:-4]}-h{a.half}-n{a.n}-s{a.seed}.txt"))
    with open(data + ".tmp", "wb") as f:
        f.write(build_pairs(text, a.half, a.n + 1, a.seed))   # one pair more: the last window's final target
    os.replace(data + ".tmp", data)
    with tempfile.TemporaryDirectory() as tmp:
        pp = os.path.join(tmp, "pp.csv")
        print(f"| checkpoint | first half (nats) | repeat (nats) | repeat / first |\n|---|---:|---:|---:|")
        for ck in a.ckpt:
            subprocess.run([a.posbench, "eval", "--ckpt", ck, "--data", data, "--split", "all",
                            "--lengths", str(2 * a.half), "--max-tokens", str(2 * a.half * a.n),
                            "--per-position", pp, "--threads", "1"],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            first, rep = halves(pp, a.half)
            print(f"| {ck} | {first:.3f} | {rep:.3f} | {rep / first:.3f} |")


if __name__ == "__main__":
    main()
