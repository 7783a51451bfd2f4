#!/usr/bin/env bash
# run_all.sh — `make test`: the C suites, then the end-to-end scripts; each
# prints "N passed, N failed" (", N skipped" when a suite could not run here: it
# is counted as skipped, never as passed); the last line is the total over all of them.
set -u
cd "$(dirname "$0")/.."
export POSBENCH=${POSBENCH:-./posbench}
# Tiny test matrices make OpenMP's spinning barriers expensive whenever another
# process shares the cores; sleeping waits keep the tests quick on a busy machine.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
# A faster OpenBLAS kernel set known from an earlier `posbench bench` adds a first line to
# train and sweep (runtime.h); the tests read their own stderr, so only precision.sh sees it.
export POSBENCH_KERNEL_NOTICE_DONE=1
total_pass=0 total_fail=0 total_skip=0
run() {
    local name=$1; shift
    echo "== $name"
    local out rc
    out=$("$@" 2>&1); rc=$?
    echo "$out" | tail -n 40
    local line
    line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
    if [ -z "$line" ]; then
        echo "FAIL $name: no summary line (exit $rc)"
        total_fail=$((total_fail + 1))
        return
    fi
    local p f
    p=$(echo "$line" | awk '{print $1}'); f=$(echo "$line" | awk '{print $3}')
    total_skip=$((total_skip + $(echo "$line" | sed -n 's/.*, \([0-9]*\) skipped.*/\1/p' | grep . || echo 0)))
    [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
}
run "C suites" ./build/test_posbench
run "bad checkpoints" bash tests/bad_checkpoints.sh
for s in tests/build_test.sh tests/data_cli.sh tests/cli.sh tests/plot_test.sh tests/run_folder.sh tests/heldout.sh tests/hostile.sh tests/messages.sh tests/sweep_units.sh tests/probes.sh tests/precision.sh tests/slurm.sh; do
    [ -f "$s" ] && run "$(basename "$s")" bash "$s"
done
if [ "$total_skip" -gt 0 ]; then echo "$total_pass passed, $total_fail failed, $total_skip skipped"
else echo "$total_pass passed, $total_fail failed"; fi
[ "$total_fail" -eq 0 ]
