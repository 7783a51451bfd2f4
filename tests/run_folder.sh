#!/usr/bin/env bash
# run_folder.sh — one writer per run folder, and no orphans: a second sweep (or
# train) on a folder in use exits 2 naming the folder and the holder's pid; a
# `kill -9` of a sweep also ends the training child it started; the next run on
# a folder removes temporary files of dead writers and re-evaluates a unit whose
# eval CSV is empty or garbage.
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

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
