#!/usr/bin/env bash
# messages.sh — clear words and clean folders: config errors name the right
# line, a flag followed by another flag "needs a value", limits are stated in
# the message, a re-run sweep re-evaluates an empty or garbage eval CSV and
# removes the temporary files of dead writers, inspect refuses a table beyond
# its stated size, and plot exits 2 on a read-only folder, names malformed
# results.csv rows, and checks each image before renaming it into place.
set -u
cd "$(dirname "$0")/.."
PB=${POSBENCH:-./posbench}
PB=$(cd "$(dirname "$PB")" && pwd)/$(basename "$PB")
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
FIX=tests/fixtures/ckpt/tiny_t5.safetensors
pass=0 fail=0 skipped=0
check() { local what=$1; shift; if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what"; fi; }
bad() {
    local what=$1 want=$2; shift 2
    (ulimit -f 20000; timeout 60 "$PB" "$@") >"$T/out" 2>"$T/err" </dev/null   # bounded: output, time
    local rc=$? lines; lines=$(wc -l <"$T/err")
    if [ "$rc" -eq 2 ] && [ "$lines" -eq 1 ] && grep -qF -- "$want" "$T/err"; then pass=$((pass + 1))
    else fail=$((fail + 1)); echo "FAIL $what: exit $rc, $lines lines: $(head -c 300 "$T/err")"; fi
}

# --- words ---------------------------------------------------------------------------------------
printf '# a config\n\nsteps = 10\n\n\nbogus_key = 3\n' >"$T/lines.conf"
bad "config error after blank lines names line 6" "$T/lines.conf:6: unknown config key 'bogus_key'" \
    train --method alibi --preset tiny --config "$T/lines.conf" --out "$T/x"
bad "--method followed by a flag" "--method needs a value" train --method --preset tiny --out "$T/x"
bad "eval --lengths states its limits" "at most 64 comma-separated whole numbers from 1 to 4194304" \
    eval --ckpt "$FIX" --lengths 0
bad "sweep --lengths states its limits" "at most 16 comma-separated whole numbers from 1 to 4194304" \
    sweep --preset tiny --lengths 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17 --out "$T/x"
bad "inspect refuses a table beyond its stated size" "inspect writes at most 10000000" inspect alibi --len 100000 --heads 4

# --- a re-run sweep: damaged eval CSVs are evaluated again, dead writers' temporary files go ---------
"$PB" sweep --preset tiny --methods alibi,nope --no-plot --out "$T/run" >/dev/null 2>&1
rows=$(wc -l <"$T/run/results.csv")
U=$T/run/units/alibi-L16-s1
: >"$U/eval-32-nonoverlapping.csv"
printf 'garbage\x01\x02\n' >"$U/eval-16-sliding.csv"
head -c 60 "$T/run/units/nope-L16-s1/eval-64-nonoverlapping.csv" >"$T/cut" && mv "$T/cut" "$T/run/units/nope-L16-s1/eval-64-nonoverlapping.csv"
sh -c 'exit 0' & dead=$!; wait "$dead"   # a pid that no longer runs
for f in "$T/run/results.csv.tmp.$dead" "$U/eval-16-nonoverlapping.csv.tmp.$dead" "$U/model.safetensors.tmp.$dead" \
         "$T/run/results.csv.tmp.$$"; do echo partial >"$f"; done
"$PB" sweep --preset tiny --methods alibi,nope --no-plot --out "$T/run" >/dev/null 2>"$T/rerun.err"
check "re-run: every row is back ($(wc -l <"$T/run/results.csv") of $rows lines)" [ "$(wc -l <"$T/run/results.csv")" -eq "$rows" ]
check "re-run: the damaged CSVs are named and evaluated again" \
    sh -c "[ \$(grep -c 'is empty or damaged; evaluating again' '$T/rerun.err') -eq 3 ]"
check "re-run: the alibi rows at 32 and the sliding 16 are there" \
    sh -c "grep -q '^alibi,16,1,32,nonoverlapping' '$T/run/results.csv' && grep -q '^alibi,16,1,16,sliding' '$T/run/results.csv'"
check "re-run: temporary files of a dead writer removed" \
    sh -c "[ ! -e '$T/run/results.csv.tmp.$dead' ] && [ ! -e '$U/eval-16-nonoverlapping.csv.tmp.$dead' ] && [ ! -e '$U/model.safetensors.tmp.$dead' ]"
check "re-run: a live writer's temporary file kept" [ -e "$T/run/results.csv.tmp.$$" ]
rm -f "$T/run/results.csv.tmp.$$"

# --- plot: malformed rows named; a read-only folder; an image checked before it is put in place ----
cp -r "$T/run" "$T/mal"
printf 'alibi,,1,16,nonoverlapping\n,16,1,16,nonoverlapping,16,valid,1,1,1,1,1,1,1\n' >>"$T/mal/results.csv"
"$PB" plot "$T/mal" --format none >/dev/null 2>"$T/mal.err"
check "plot names the malformed results.csv rows ($(grep -i malformed "$T/mal.err" | head -c 200))" \
    grep -q "results.csv has 2 malformed rows (data rows [0-9]*, [0-9]*" "$T/mal.err"
check "the report says so too" grep -q "malformed row" "$T/mal/report.md"

if command -v gnuplot >/dev/null 2>&1; then
    mkdir -p "$T/bin"
    printf '%s\n' '#!/bin/sh' "out=\$(printf '%s' \"\$2\" | sed -n \"s/.*out='\\([^']*\\)'.*/\\1/p\")" \
        'echo "not an image" >"$out"' 'exit 0' >"$T/bin/gnuplot"
    chmod +x "$T/bin/gnuplot"
    cp -r "$T/run" "$T/junk"
    PATH="$T/bin:$PATH" "$PB" plot "$T/junk" >/dev/null 2>"$T/junk.err"
    rc=$?
    check "a gnuplot that exits 0 with junk: plot fails (rc $rc) naming it ($(head -c 200 "$T/junk.err"))" \
        sh -c "[ $rc -ne 0 ] && grep -q 'gnuplot wrote no valid png' '$T/junk.err'"
    check "... and no image was put in place" sh -c "! ls '$T/junk/figures/'*.png >/dev/null 2>&1"
else
    skipped=$((skipped + 2)); echo "SKIP (not counted): image checks need gnuplot"
fi

# a read-only folder: a read-only bind mount stops root too (chattr +i where mounts are not allowed)
cp -r "$T/run" "$T/ro"
ro_run() {
    if unshare -m sh -c "mount --bind '$T/ro' '$T/ro' && mount -o remount,bind,ro '$T/ro' && \
        exec '$PB' plot '$T/ro'" >/dev/null 2>"$T/ro.err"; then return 0; else return $?; fi
}
ro_run; rc=$?
if [ "$rc" -ne 0 ] && grep -q "mount" "$T/ro.err" && ! grep -q posbench "$T/ro.err"; then
    if chattr +i "$T/ro" 2>/dev/null; then "$PB" plot "$T/ro" >/dev/null 2>"$T/ro.err"; rc=$?; chattr -i "$T/ro"; else rc=-1; fi
fi
if [ "$rc" -eq -1 ]; then
    skipped=$((skipped + 1)); echo "SKIP (not counted): no way to make a folder read-only for root here"
else
    check "plot into a read-only folder: exit 2 (rc $rc), one line naming it ($(head -c 200 "$T/ro.err"))" \
        sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$T/ro.err') -eq 1 ] && grep -Eq '$T/ro[^ ]*: (not writable|cannot create)' '$T/ro.err'"
fi

[ "$skipped" -gt 0 ] && echo "$skipped check(s) skipped, not counted"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
