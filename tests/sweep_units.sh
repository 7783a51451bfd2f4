#!/usr/bin/env bash
# sweep_units.sh — a sweep as a plan of units (docs/FORMATS.md, plan.tsv): --plan-only, `posbench
# unit` (idempotent, one worker per unit), `posbench merge` (names what is missing with its rerun
# command, exits 1, still writes what the finished units hold), and `sweep --jobs 2`, whose
# results.csv equals the sequential sweep's value for value (same threads per unit).
set -u
cd "$(dirname "$0")/.."
PB=${POSBENCH:-./posbench}
T=$(mktemp -d)
A=""
cleanup() { [ -n "$A" ] && kill -9 "$A" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
. tests/lib.sh
wait_for() { local n=$(($1 * 10)); shift; while [ "$n" -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done; return 1; }
# values FILE: results.csv without the columns that measure the machine (tokens_per_s, peak_rss_mb, arena_mb)
values() { cut -d, -f1-11,15,16 "$1"; }
TINY=(--preset tiny --methods nope,alibi,t5 --threads 1 --no-plot)

# --- the plain sweep (the reference) and the same sweep with two units at once ---------------------
"$PB" sweep "${TINY[@]}" --out "$T/seq" >/dev/null 2>&1
check "sequential sweep wrote results.csv" [ -s "$T/seq/results.csv" ]
check "the plan lists 3 units, each with its 6 evaluations" \
    sh -c "[ \$(grep -c '^[0-9]' '$T/seq/plan.tsv') -eq 3 ] && grep -qx '2	alibi-L16-s1	alibi	16	1	16:nonoverlapping,16:sliding,32:nonoverlapping,32:sliding,64:nonoverlapping,64:sliding' '$T/seq/plan.tsv'"
"$PB" sweep "${TINY[@]}" --jobs 2 --out "$T/j2" >"$T/j2.out" 2>"$T/j2.err"
rc=$?
check "--jobs 2 exits 0 (rc $rc)" [ "$rc" -eq 0 ]
check "--jobs 2: results.csv values equal the sequential run's" cmp -s <(values "$T/seq/results.csv") <(values "$T/j2/results.csv")
check "--jobs 2: positions.csv equals the sequential run's" cmp -s "$T/seq/positions.csv" "$T/j2/positions.csv"
check "--jobs 2: each unit logs to its unit.log" grep -q "unit: alibi-L16-s1 done" "$T/j2/units/alibi-L16-s1/unit.log"
cores=$(getconf _NPROCESSORS_ONLN)
if [ "$cores" -ge 2 ]; then   # threads = 0 (all cores, the tiny preset's): each of J units gets cores / J
    "$PB" sweep --preset tiny --methods alibi,nope --no-plot --jobs 2 --out "$T/j0" >/dev/null 2>&1
    check "--jobs 2 with threads = 0: each unit trains with $((cores / 2)) thread(s)" \
        grep -q "\"threads\": $((cores / 2)), " "$T/j0/units/alibi-L16-s1/train.json"
    "$PB" merge "$T/j0" --no-plot >/dev/null 2>&1
    check "merge records the units' threads in meta.json ($((cores / 2)), not the merge's own)" \
        grep -q "^  \"threads\": $((cores / 2)),$" "$T/j0/meta.json"
fi
bad "--jobs 0" "--jobs" sweep --preset tiny --jobs 0 --out "$T/x"
bad "--jobs -1" "--jobs" sweep --preset tiny --jobs -1 --out "$T/x"
bad "--jobs beyond the cores" "--jobs: $((cores + 1)) units at once need at least" sweep --preset tiny --jobs $((cores + 1)) --out "$T/x"
[ "$cores" -ge 2 ] && bad "--jobs x threads beyond the cores" "J x threads <= cores" sweep --preset tiny --jobs 2 --threads "$cores" --out "$T/x"
bad "--resume without Slurm" "--resume" sweep --preset tiny --resume --out "$T/x"
bad "--executor other" "--executor" sweep --preset tiny --executor pbs --out "$T/x"
check "no run folder was made by the refused commands" [ ! -e "$T/x" ]

# --- plan, units by hand (by index and by id), merge ------------------------------------------------
"$PB" sweep "${TINY[@]}" --plan-only --out "$T/p" >"$T/plan.out" 2>&1
check "--plan-only writes plan.tsv and trains nothing" sh -c "[ -s '$T/p/plan.tsv' ] && [ ! -e '$T/p/units' ]"
check "--plan-only says how to go on" grep -q "posbench unit $T/p ID" "$T/plan.out"
"$PB" unit "$T/p" 1 >/dev/null 2>"$T/u1.err"
check "unit by index runs (rc $?)" [ -f "$T/p/units/nope-L16-s1/eval-64-sliding.csv" ]
"$PB" unit "$T/p" alibi-L16-s1 >/dev/null 2>&1
before=$(stat -c %Y "$T/p/units/alibi-L16-s1/model.safetensors" "$T/p/units/alibi-L16-s1/eval-32-nonoverlapping.csv")
"$PB" unit "$T/p" 2 >/dev/null 2>"$T/again.err"
rc=$?
check "unit again: exit 0 (rc $rc), nothing redone" \
    sh -c "[ $rc -eq 0 ] && [ \"\$(stat -c %Y '$T/p/units/alibi-L16-s1/model.safetensors' '$T/p/units/alibi-L16-s1/eval-32-nonoverlapping.csv')\" = '$before' ]"
"$PB" merge "$T/p" --no-plot >/dev/null 2>"$T/merge.err"
rc=$?
check "merge with a unit missing exits 1 (rc $rc)" [ "$rc" -eq 1 ]
check "merge names the missing unit with its rerun command" \
    grep -q "t5-L16-s1  missing  rerun: .*posbench[^ ]* unit $T/p t5-L16-s1" "$T/merge.err"
check "merge still wrote the finished units' rows (2 units x 6)" [ "$(($(wc -l <"$T/p/results.csv") - 1))" -eq 12 ]
cmd=$(sed -n 's/.*t5-L16-s1  missing  rerun: //p' "$T/merge.err")
$cmd >/dev/null 2>&1
"$PB" merge "$T/p" --no-plot >/dev/null 2>"$T/merge2.err"
rc=$?
check "after the printed command, merge exits 0 (rc $rc: $(head -c 200 "$T/merge2.err"))" [ "$rc" -eq 0 ]
check "plan + units + merge: results.csv values equal the sweep's" cmp -s <(values "$T/seq/results.csv") <(values "$T/p/results.csv")
check "plan + units + merge: train.csv rows equal the sweep's" \
    cmp -s <(cut -d, -f1-8,10 "$T/seq/train.csv") <(cut -d, -f1-8,10 "$T/p/train.csv")
check "merge wrote meta.json with every unit" [ "$(grep -c '"method": "' "$T/p/meta.json")" -ge 3 ]
# the run is dated by the units' last write, not by when merge runs: files set to start + 1234 s
started=$(sed -n 's/^# started\t//p' "$T/p/plan.tsv")
find "$T/p/units" -type f -exec touch -d "@$(($(date -u -d "${started%Z}" +%s) + 1234))" {} +
"$PB" merge "$T/p" --no-plot >/dev/null 2>&1
check "merge dates the run by the units' last write (wall_s 1234: $(grep -o '"wall_s": [0-9.]*' "$T/p/meta.json"))" \
    grep -q '^  "wall_s": 1234.0,' "$T/p/meta.json"
core=$(sed -n 's/.*"blas_core": "\([^"]*\)".*/\1/p' "$T/p/units/alibi-L16-s1/train.json")
OPENBLAS_CORETYPE=Prescott "$PB" merge "$T/p" --no-plot >/dev/null 2>&1
check "train.json names its kernel set ($core), and a merge under another records the units' in meta.json" \
    sh -c "[ -n '$core' ] && [ '$core' != Prescott ] && grep -q '^  \"blas_core\": \"$core\",' '$T/p/meta.json'"
check "... and ends it there (end $(grep -o '"end": "[^"]*"' "$T/p/meta.json"))" \
    grep -q "^  \"end\": \"$(date -u -d "@$(($(date -u -d "${started%Z}" +%s) + 1234))" +%Y-%m-%dT%H:%M:%SZ)\"," "$T/p/meta.json"
bad "unit not in the plan" "no unit .rope-L16-s1" unit "$T/p" rope-L16-s1
bad "unit index beyond the plan" "no unit .4. in" unit "$T/p" 4
bad "unit of a folder that is not there" "$T/nowhere is not visible" unit "$T/nowhere" 1

# --- a failed unit is named as failed, and rerunning it alone repairs the run -----------------------
garbage=$T/p/units/t5-L16-s1/train_state.safetensors
rm -f "$T/p/units/t5-L16-s1/"{train.json,eval-*}
head -c 2048 /dev/urandom >"$garbage"
head -c 2048 /dev/urandom >"$T/p/units/t5-L16-s1/model.safetensors"
"$PB" unit "$T/p" t5-L16-s1 >/dev/null 2>&1
rc=$?
check "a unit whose training fails exits 1 (rc $rc) and leaves unit-failed.txt" \
    sh -c "[ $rc -eq 1 ] && grep -q 'training exited' '$T/p/units/t5-L16-s1/unit-failed.txt'"
"$PB" merge "$T/p" --no-plot >/dev/null 2>"$T/merge3.err"
check "merge names it failed, with why" grep -q "t5-L16-s1  failed (training exited" "$T/merge3.err"
rm -f "$T/p/units/t5-L16-s1/"*.safetensors
"$PB" unit "$T/p" t5-L16-s1 >/dev/null 2>&1
check "rerun of the failed unit clears the mark" [ ! -e "$T/p/units/t5-L16-s1/unit-failed.txt" ]

# --- seeds may grow: the trained seeds' units are kept, the new seeds' units trained ----------------
"$PB" sweep --preset tiny --methods alibi,nope --threads 1 --no-plot --out "$T/grow" >/dev/null 2>&1
before=$(stat -c %Y "$T/grow/units/alibi-L16-s1/model.safetensors")
sleep 1
"$PB" sweep --preset tiny --methods alibi,nope --threads 1 --no-plot --seeds 2 --out "$T/grow" >/dev/null 2>"$T/grow.err"
rc=$?
check "seeds 1 -> 2 on the same folder exits 0 (rc $rc) and says so" \
    sh -c "[ $rc -eq 0 ] && grep -q 'seeds grew from 1 to 2; the trained units are kept' '$T/grow.err'"
check "seeds 1 -> 2: the seed-1 units were not retrained" \
    [ "$(stat -c %Y "$T/grow/units/alibi-L16-s1/model.safetensors")" = "$before" ]
check "seeds 1 -> 2: results.csv has both seeds of both methods (4 units x 6 rows)" \
    [ "$(($(wc -l <"$T/grow/results.csv") - 1))" -eq 24 ]
"$PB" sweep --preset tiny --methods alibi,nope --threads 1 --no-plot --seeds 2 --out "$T/grow2" >/dev/null 2>&1
check "grown run: results.csv values equal a run made with seeds 2 at once" \
    cmp -s <(values "$T/grow/results.csv" | sort) <(values "$T/grow2/results.csv" | sort)
bad "seeds may not shrink" "seeds may grow, not shrink" sweep --preset tiny --methods alibi,nope --threads 1 --no-plot \
    --seeds 1 --out "$T/grow"

# --- one worker per unit: a second one exits 2 at once and touches nothing --------------------------
"$PB" sweep --preset tiny --methods alibi --threads 1 --plan-only --set "steps=1000000;ckpt_every=1000000;log_every=1000000" \
    --out "$T/long" >/dev/null 2>&1
"$PB" unit "$T/long" 1 >/dev/null 2>&1 &
A=$!
check "the first worker holds the unit" wait_for 60 test -s "$T/long/units/alibi-L16-s1/.unit.lock"
"$PB" unit "$T/long" alibi-L16-s1 >/dev/null 2>"$T/busy.err"
rc=$?
check "a second worker on the same unit exits 2 (rc $rc) naming the holder ($(head -c 200 "$T/busy.err"))" \
    sh -c "[ $rc -eq 2 ] && grep -q 'being run by another process (pid $A)' '$T/busy.err'"
"$PB" merge "$T/long" --no-plot >/dev/null 2>"$T/running.err"
check "merge names a unit being run as running" grep -q "alibi-L16-s1  running" "$T/running.err"
kill -9 "$A"; wait "$A" 2>/dev/null; A=""

# --- a unit that cannot see the prepared data fails naming the path ---------------------------------
POSBENCH_DATA_CACHE=$T/cache "$PB" sweep "${TINY[@]}" --plan-only --out "$T/moved" >/dev/null 2>&1
mv "$T/cache" "$T/cache.elsewhere"
POSBENCH_DATA_CACHE=$T/cache "$PB" unit "$T/moved" 1 >/dev/null 2>"$T/moved.err"
rc=$?
check "a unit without the plan's prepared data exits 2 naming it (rc $rc: $(head -c 250 "$T/moved.err"))" \
    sh -c "[ $rc -eq 2 ] && grep -q 'prepared dataset $T/cache/default/byte is not visible' '$T/moved.err'"
check "... and trained nothing" [ ! -e "$T/moved/units" ]

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
