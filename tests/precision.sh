#!/usr/bin/env bash
# precision.sh — issue 15 end to end: the `precision` key (fp32 | bf16, anything
# else exits 2 naming it), the bf16 fallback forced with POSBENCH_FORCE_NO_BF16=1
# (one warning, fp32 results bit for bit, train.json says what ran, a sweep warns
# once for all its units, a resume cannot switch precision), a bf16 run where the CPU has avx512_bf16, the advice
# line that train prints first when a faster OpenBLAS kernel set is known, and
# `bench --kernels` checking every kernel set against the naive product.
set -u
cd "$(dirname "$0")/.."
PB=${POSBENCH:-./posbench}
PB=$(cd "$(dirname "$PB")" && pwd)/$(basename "$PB")
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
unset POSBENCH_KERNEL_NOTICE_DONE POSBENCH_BF16_WARNED POSBENCH_FORCE_NO_BF16
export POSBENCH_KERNEL_CACHE=$T/kernels.tsv
pass=0 fail=0
check() { local what=$1; shift; if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what"; fi; }
json_str() { sed -n "s/.*\"$2\": \"\([^\"]*\)\".*/\1/p" "$1"; }

# --- the key ---------------------------------------------------------------------------------------
"$PB" train --preset tiny --method alibi --set "precision=fp16" --out "$T/bad" >"$T/out" 2>"$T/err"
rc=$?
check "precision = fp16 exits 2 with one line naming the key" \
    test "$rc" -eq 2 -a "$(wc -l <"$T/err")" -eq 1 -a -n "$(grep -F "precision = 'fp16' must be fp32 or bf16" "$T/err")"

# --- fp32, and bf16 forced to fall back ----------------------------------------------------------------
"$PB" train --preset tiny --method alibi --out "$T/fp32" >/dev/null 2>&1
POSBENCH_FORCE_NO_BF16=1 "$PB" train --preset tiny --method alibi --set "precision=bf16" --out "$T/fb" \
    >/dev/null 2>"$T/err"
rc=$?
check "forced fallback: the run completes" test "$rc" -eq 0 -a -f "$T/fb/train.json"
check "forced fallback: exactly one warning line" \
    test "$(grep -c 'warning: precision = bf16 needs AVX-512-BF16 (POSBENCH_FORCE_NO_BF16=1); training in fp32' "$T/err")" -eq 1 \
    -a "$(grep -c 'warning' "$T/err")" -eq 1
check "forced fallback: train.json says the products ran in fp32" \
    test "$(json_str "$T/fb/train.json" precision)" = "fp32 (bf16 unavailable: POSBENCH_FORCE_NO_BF16=1)"
check "forced fallback: the losses are the fp32 run's, bit for bit" \
    cmp -s <(cut -d, -f1-6 "$T/fp32/train.csv") <(cut -d, -f1-6 "$T/fb/train.csv")
check "fp32 run: train.json says fp32" test "$(json_str "$T/fp32/train.json" precision)" = "fp32"

POSBENCH_FORCE_NO_BF16=1 "$PB" sweep --preset tiny --methods alibi,nope --set "precision=bf16" --no-plot \
    --out "$T/sweep" >/dev/null 2>"$T/err"
check "forced fallback in a sweep of two units: one warning in all" \
    test "$(grep -c 'warning: precision = bf16' "$T/err")" -eq 1
check "the sweep's meta.json records precision = bf16 in its config" \
    grep -q '"precision": "bf16"' "$T/sweep/meta.json"

# --- bf16 where the CPU has it -------------------------------------------------------------------------
"$PB" train --preset tiny --method alibi --set "precision=bf16" --out "$T/bf16" >/dev/null 2>"$T/err"
if grep -qw avx512_bf16 /proc/cpuinfo 2>/dev/null; then
    check "bf16 run on a CPU with avx512_bf16: train.json says bf16, no warning" \
        test "$(json_str "$T/bf16/train.json" precision)" = "bf16" -a "$(grep -c warning "$T/err")" -eq 0
    check "bf16 run: its losses differ from fp32's (the bf16 kernels ran)" \
        test -n "$(diff <(cut -d, -f6 "$T/fp32/train.csv") <(cut -d, -f6 "$T/bf16/train.csv"))"
else
    check "bf16 run on a CPU without avx512_bf16: falls back with one warning" \
        test "$(grep -c 'warning: precision = bf16' "$T/err")" -eq 1
fi

# --- a run does not change precision on resume ---------------------------------------------------------
"$PB" train --preset tiny --method alibi --steps 10 --set "precision=bf16" --out "$T/res" >/dev/null 2>&1
rm -f "$T/res/train.json"
"$PB" train --preset tiny --method alibi --steps 10 --resume --out "$T/res" >/dev/null 2>"$T/err"
rc=$?
check "resuming a bf16 run as fp32 exits 2 naming both" \
    test "$rc" -eq 2 -a -n "$(grep -F 'was trained with precision = bf16, this command has fp32' "$T/err")"

# --- kernel choice: the advice line and bench --kernels (x86-64 with OpenBLAS only) ------------------
if "$PB" --version | grep -q 'BLAS at run time: OpenBLAS' && [ "$(uname -m)" = x86_64 ]; then
    cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/^[^:]*: *//')
    printf 'cpu\t%s\ndate\t2026-01-01T00:00:00Z\nPrescott\t10.00\tok\nHaswell\t100.00\tok\nSandybridge\t500.00\twrong\n' \
        "$cpu" >"$POSBENCH_KERNEL_CACHE"
    OPENBLAS_CORETYPE=Prescott "$PB" train --preset tiny --method alibi --steps 2 --out "$T/adv" >/dev/null 2>"$T/err"
    check "train's first line names the faster correct set from the cache, with its ratio" \
        grep -q "^posbench: OpenBLAS kernels Prescott in use (OPENBLAS_CORETYPE); Haswell ran sgemm 10.00x faster" \
        <(head -n 1 "$T/err")
    printf 'cpu\tanother CPU\nPrescott\t10.00\tok\nHaswell\t100.00\tok\n' >"$POSBENCH_KERNEL_CACHE"
    OPENBLAS_CORETYPE=Haswell "$PB" train --preset tiny --method alibi --steps 2 --out "$T/adv2" >/dev/null 2>"$T/err"
    check "a cache from another CPU is not used; no advice when the set in use is not slower" \
        test -z "$(grep -F 'ran sgemm' "$T/err")"
    rm -f "$POSBENCH_KERNEL_CACHE"
    "$PB" bench --kernels --quick --threads 1 >"$T/out" 2>"$T/err"
    rc=$?
    n_sets=$(grep -c '^blas .*sgemm peak' "$T/out")
    check "bench --kernels: exits 0, every kernel set checked against the naive product and met" \
        test "$rc" -eq 0 -a "$n_sets" -ge 1 -a "$(grep -c '^blas .*sgemm vs naive.* met$' "$T/out")" -eq "$n_sets"
    check "bench --kernels caches one line per set for this CPU" \
        test "$(grep -c $'\tok$' "$POSBENCH_KERNEL_CACHE")" -eq "$n_sets" -a "$(head -n 1 "$POSBENCH_KERNEL_CACHE")" = "cpu	$cpu"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
