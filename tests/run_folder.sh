#!/usr/bin/env bash
# run_folder.sh — one writer per run folder, and no orphans: a second sweep (or
# train) on a folder in use exits 2 naming the folder and the holder's pid; a
# `kill -9` of a sweep also ends the training child it started; the next run on
# a folder removes temporary files of dead writers and re-evaluates a unit whose
# eval CSV is empty or garbage; a killed sweep's time is kept in sweeps.tsv and
# counted in meta.json when the re-run finishes; a unit's training lock still held by an exiting
# trainer is waited for.
set -u
cd "$(dirname "$0")/.."
PB=${POSBENCH:-./posbench}
T=$(mktemp -d)
A="" C=""
cleanup() { for p in $A $C; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT
pass=0 fail=0
check() { local what=$1; shift; if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what"; fi; }

# wait_for SECONDS CMD...: poll until CMD succeeds (a bound, not a timing assertion)
wait_for() { local n=$(($1 * 10)); shift; while [ "$n" -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done; return 1; }
child_of() { pgrep -P "$1" | head -n 1; }
has_child() { [ -n "$(child_of "$1")" ]; }
gone() { ! kill -0 "$1" 2>/dev/null; }

# --- a long sweep holds its folder; a second one is refused -----------------------------------
LONG="steps=1000000;ckpt_every=1000000;log_every=1000000"
"$PB" sweep --preset tiny --methods alibi --set "$LONG" --no-plot --out "$T/run" >/dev/null 2>"$T/a.err" &
A=$!
check "the first sweep starts its training child" wait_for 60 has_child "$A"
timeout 60 "$PB" sweep --preset tiny --methods alibi --set "$LONG" --no-plot --out "$T/run" >/dev/null 2>"$T/b.err"
rc=$?
check "a second sweep into the same folder exits 2 (rc $rc)" [ "$rc" -eq 2 ]
check "one line naming the folder and the holder's pid ($(head -c 300 "$T/b.err"))" \
    sh -c "[ \$(wc -l <'$T/b.err') -eq 1 ] && grep -q -- '$T/run.*in use.*pid $A' '$T/b.err'"
timeout 60 "$PB" train --method alibi --preset tiny --set "$LONG" --out "$T/run/units/alibi-L16-s1" --resume >/dev/null 2>"$T/c.err"
rc=$?
check "a train into the unit being trained exits 2 (rc $rc: $(head -c 200 "$T/c.err"))" \
    sh -c "[ $rc -eq 2 ] && grep -q 'in use by another posbench process (pid [0-9]' '$T/c.err'"

# --- kill -9 of the sweep ends its child too ------------------------------------------------
C=$(child_of "$A")
kill -9 "$A"
wait "$A" 2>/dev/null
A=""
check "the training child ($C) dies with the killed sweep" wait_for 30 gone "$C"

# --- a trainer of a killed sweep still exiting (its lock not yet gone) is waited for, not failed --
mkdir -p "$T/w/units/alibi-L16-s1"
flock -x "$T/w/units/alibi-L16-s1/.posbench.lock" sleep 2 &
H=$!
wait_for 10 sh -c "! flock -n -x '$T/w/units/alibi-L16-s1/.posbench.lock' true"
"$PB" sweep --preset tiny --methods alibi --set "steps=20" --no-plot --out "$T/w" >/dev/null 2>"$T/w.err"
rc=$?
wait "$H"
check "a sweep whose unit lock is held for 2 s waits and trains it (rc $rc: $(grep -m1 'in use' "$T/w.err"))" [ "$rc" -eq 0 ]

# --- a killed sweep's time still counts: sweeps.tsv, meta.json's wall_s and sweeps, the report --
# wall_of FILE LINE: column 2 of that line of sweeps.tsv (empty when missing)
wall_of() { awk -F'\t' -v n="$2" 'NR == n + 1 { print $2 }' "$1" 2>/dev/null; }
ran_a_second() { awk -v w="$(wall_of "$T/k/sweeps.tsv" 1)" 'BEGIN { exit !(w >= 1.0) }'; }
K="steps=2000;seeds=2"
POSBENCH_CLOCK_INTERVAL=0.2 "$PB" sweep --preset tiny --set "$K" --no-plot --out "$T/k" >/dev/null 2>&1 &
A=$!
check "the sweep's line in sweeps.tsv reaches 1 s while it runs" wait_for 60 ran_a_second
check "it is marked running ($(tail -n 1 "$T/k/sweeps.tsv" 2>/dev/null))" \
    sh -c "tail -n 1 '$T/k/sweeps.tsv' | cut -f3 | grep -qx running"
kill -9 "$A"
wait "$A" 2>/dev/null
A=""
killed=$(wall_of "$T/k/sweeps.tsv" 1)
"$PB" sweep --preset tiny --set "$K" --out "$T/k" >/dev/null 2>&1
rc=$?
check "the re-run finishes (rc $rc)" [ "$rc" -eq 0 ]
check "sweeps.tsv: the killed sweep interrupted with its $killed s, the re-run finished ($(tr '\t\n' ' |' <"$T/k/sweeps.tsv"))" \
    sh -c "[ \$(wc -l <'$T/k/sweeps.tsv') -eq 3 ] && sed -n 2p '$T/k/sweeps.tsv' | cut -f2,3 | grep -qx '$killed	interrupted' &&
           sed -n 3p '$T/k/sweeps.tsv' | cut -f3 | grep -qx finished"
again=$(wall_of "$T/k/sweeps.tsv" 2)
total=$(grep -o '^  "wall_s": [0-9.]*' "$T/k/meta.json" | grep -o '[0-9.]*$')
check "meta.json's wall_s ($total) is the sum of both ($killed + $again)" \
    awk -v t="$total" -v a="$killed" -v b="$again" 'BEGIN { exit !(t + 0 > 0 && (t - a - b) ^ 2 < 0.01) }'
first=$(sed -n 2p "$T/k/sweeps.tsv" | cut -f1)
check "meta.json's start is the killed sweep's ($first) and it lists both sweeps" \
    sh -c "grep -q '^  \"start\": \"$first\",' '$T/k/meta.json' &&
           grep -q '^  \"sweeps\": \[{\"start\": \"$first\", \"wall_s\": $killed, \"state\": \"interrupted\"}, {.*\"state\": \"finished\"}\],' '$T/k/meta.json'"
check "the report's Time row says so ($(grep '^| Time' "$T/k/report.md"))" \
    grep -q '^| Time | .*; 2 sweeps, 1 interrupted: .* of wall time in all |$' "$T/k/report.md"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
