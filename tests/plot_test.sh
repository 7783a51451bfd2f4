#!/usr/bin/env bash
# plot_test.sh — `posbench plot` end to end on a copy of a run folder.
#
#   bash tests/plot_test.sh            the synthetic fixture tests/fixtures/run_sample
#   bash tests/plot_test.sh RUN_DIR    a real run folder (e.g. the tiny preset's), copied first
#
# Checks: every figure exists and is a valid PNG / PDF, report.md names every
# method and embeds only figures that exist, the data files are byte-identical
# after plotting, re-plotting works, a partial run (one method's rows removed,
# one value nan) still plots and the report says what is missing, and bad input
# (no gnuplot on PATH, no folder, no results.csv) exits 2 with a clear message.
# POSBENCH names the binary (default ./posbench); the gnuplot scripts are found
# through POSBENCH_HOME, which defaults to this checkout.
# Ends with "N passed, N failed"; exits 1 if anything failed.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
POSBENCH=${POSBENCH:-./posbench}
export POSBENCH_HOME=${POSBENCH_HOME:-$ROOT}
SRC=${1:-$ROOT/tests/fixtures/run_sample}
FIXTURE=0
[ $# -eq 0 ] && FIXTURE=1

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }
check() { # check "what" command...
    local what=$1
    shift
    if "$@" >/dev/null 2>&1; then ok "$what"; else bad "$what"; fi
}

if [ ! -x "$POSBENCH" ] && ! command -v "$POSBENCH" >/dev/null 2>&1; then
    echo "plot_test: no binary at '$POSBENCH' (build it with make, or set POSBENCH)"
    echo "0 passed, 1 failed"
    exit 1
fi
if [ ! -f "$SRC/results.csv" ]; then
    echo "plot_test: $SRC has no results.csv"
    echo "0 passed, 1 failed"
    exit 1
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/posbench-plot.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

is_png() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ]; }
is_pdf() { [ "$(head -c 5 "$1")" = "%PDF-" ] && tail -c 64 "$1" | grep -q '%%EOF'; }

# The data files a run folder holds; plotting must leave them byte-identical.
DATA_FILES="results.csv train.csv positions.csv meta.json"
snapshot() { # snapshot DIR OUT: checksums of the data files present
    (cd "$1" && for f in $DATA_FILES; do [ -f "$f" ] && cksum "$f"; done) >"$2"
}

# Registry names of the methods that have rows in results.csv.
methods_of() { awk -F, 'NR > 1 && $1 != "" { print $1 }' "$1/results.csv" | sort -u; }

# Every figure the report embeds exists as a valid PNG, with a valid PDF beside it.
check_figures() { # check_figures RUN_DIR LABEL
    local run=$1 label=$2 n=0 name
    for name in $(grep -o 'figures/[A-Za-z0-9_.-]*\.png' "$run/report.md" | sed 's|figures/||; s|\.png$||' | sort -u); do
        n=$((n + 1))
        check "$label: figures/$name.png is a PNG" is_png "$run/figures/$name.png"
        check "$label: figures/$name.pdf is a PDF" is_pdf "$run/figures/$name.pdf"
    done
    if [ "$n" -gt 0 ]; then ok "$label: report embeds $n figures"; else bad "$label: report embeds no figures"; fi
    if ls "$run/figures" | grep -q '\.tmp\.'; then bad "$label: temporary files left in figures/"; else ok "$label: no temporary files left"; fi
}

# --- 1. a whole run -------------------------------------------------------------
RUN=$TMP/run
cp -r "$SRC" "$RUN"
rm -rf "$RUN/figures" "$RUN/report.md"
snapshot "$RUN" "$TMP/before"
"$POSBENCH" plot "$RUN" >"$TMP/out1" 2>"$TMP/err1"
rc=$?
if [ $rc -eq 0 ]; then ok "plot exits 0"; else bad "plot exits 0 (got $rc: $(tail -1 "$TMP/err1"))"; fi
check "report.md written" test -s "$RUN/report.md"
check_figures "$RUN" "whole run"
if [ $FIXTURE -eq 1 ]; then # the fixture's full set: 5 methods, 2 seeds, both modes
    for name in extrapolation_nonoverlapping extrapolation_sliding seeds_nonoverlapping_L128 seeds_sliding_L128 \
        positions training speed_train speed_eval; do
        check "fixture: $name.png and .pdf exist and are valid" \
            bash -c "$(declare -f is_png is_pdf); is_png '$RUN/figures/$name.png' && is_pdf '$RUN/figures/$name.pdf'"
    done
    for label in NoPE Sinusoidal Rotary "T5 bias" ALiBi; do
        check "fixture: report uses the paper's name '$label'" grep -q "| $label |" "$RUN/report.md"
    done
    check "fixture: report marks the best value per column in bold" grep -q '\*\*[0-9]' "$RUN/report.md"
    check "fixture: report shows mean ± std over seeds" grep -q '± ' "$RUN/report.md"
    check "fixture: report has the sliding-window table" grep -q 'sliding window, stride 64' "$RUN/report.md"
    check "fixture: report has the bits-per-byte tables" grep -q '^### Bits per byte' "$RUN/report.md"
    check "fixture: report has the speed and memory table" grep -q '^## Speed and memory' "$RUN/report.md"
    # two seeds: mean [mean -+ t(0.975, 1) * sd / sqrt 2] with sd = |a - b| / sqrt 2, worked out here by hand
    want=$(awk -F, '$1 == "alibi" && $4 == 128 && $5 == "nonoverlapping" { v[n++] = $10 }
        END { m = (v[0] + v[1]) / 2; d = v[0] - v[1]; if (d < 0) d = -d; h = 12.7062047 * d / 2;
              printf "| ALiBi | %.2f [%.2f, %.2f] |", m, m - h, m + h }' "$RUN/results.csv")
    check "fixture: report gives ALiBi's 95% interval at L ($want)" grep -qF "$want" "$RUN/report.md"
    check "fixture: report has the paired differences with n.s. marks" grep -q 'Paired differences against the best method' "$RUN/report.md"
    check "fixture: the best method is marked in the paired table" grep -q '| best |' "$RUN/report.md"
    check "fixture: no convergence section without a held-out curve" bash -c "! grep -q '^## Training budget' '$RUN/report.md'"
    check "fixture: report shows the machine" grep -q 'Haswell' "$RUN/report.md"
    check "fixture: a complete run reports nothing missing" bash -c "! grep -q '^## Missing' '$RUN/report.md'"
fi
for m in $(methods_of "$RUN"); do
    check "report names method $m" grep -q "\`$m\`" "$RUN/report.md"
done
snapshot "$RUN" "$TMP/after"
check "data files byte-identical after plotting" cmp -s "$TMP/before" "$TMP/after"

# --- 2. re-plotting ----------------------------------------------------------------
"$POSBENCH" plot "$RUN" --quiet >/dev/null 2>"$TMP/err2"
rc=$?
if [ $rc -eq 0 ]; then ok "re-plot exits 0"; else bad "re-plot exits 0 (got $rc: $(tail -1 "$TMP/err2"))"; fi
snapshot "$RUN" "$TMP/after2"
check "data files byte-identical after re-plotting" cmp -s "$TMP/before" "$TMP/after2"

# --- 3. a partial run: one method's rows gone, one value nan ---------------------------
PART=$TMP/partial
cp -r "$SRC" "$PART"
rm -rf "$PART/figures" "$PART/report.md"
GONE=$(methods_of "$PART" | tail -1)
KEEP=$(methods_of "$PART" | head -1)
awk -F, -v m="$GONE" 'NR == 1 || $1 != m' "$SRC/results.csv" >"$PART/results.csv"
if [ -f "$PART/meta.json" ] && ! grep -q "\"$GONE\"" "$PART/meta.json"; then
    : # a real run's meta.json may not list methods: the check below then only needs the plot to work
fi
# the longest nonoverlapping length of one remaining method: ppl nan, speed empty
LONGEST=$(awk -F, 'NR > 1 { print $4 }' "$PART/results.csv" | sort -n | tail -1)
awk -F, -v OFS=, -v m="$KEEP" -v T="$LONGEST" \
    'NR > 1 && $1 == m && $4 == T && $5 == "nonoverlapping" { $9 = "nan"; $10 = "nan"; $11 = "nan"; $12 = ""; $13 = "" } { print }' \
    "$PART/results.csv" >"$TMP/r.csv" && mv "$TMP/r.csv" "$PART/results.csv"
snapshot "$PART" "$TMP/pbefore"
"$POSBENCH" plot "$PART" >"$TMP/out3" 2>"$TMP/err3"
rc=$?
if [ $rc -eq 0 ]; then ok "partial run plots (exit 0)"; else bad "partial run plots (got $rc: $(tail -1 "$TMP/err3"))"; fi
check_figures "$PART" "partial run"
check "partial run: report has a missing/failed section" grep -q '^## Missing, failed or incomplete' "$PART/report.md"
if grep -q "\"$GONE\"" "$PART/meta.json" 2>/dev/null; then
    check "partial run: report says $GONE is missing" grep -q "\*\*$GONE\*\*: no rows in results.csv.*missing" "$PART/report.md"
    check "partial run: stderr says $GONE is missing" grep -q "$GONE: no rows" "$TMP/err3"
fi
check "partial run: report names the nan length of $KEEP" grep -q "\*\*$KEEP\*\* (L = [0-9]*, nonoverlapping): no perplexity at $LONGEST" "$PART/report.md"
check "partial run: nan shown as — in the table" grep -q '| — |' "$PART/report.md"
snapshot "$PART" "$TMP/pafter"
check "partial run: data files byte-identical" cmp -s "$TMP/pbefore" "$TMP/pafter"

# --- 4. bad input ----------------------------------------------------------------------
NOGP=$TMP/nogp
cp -r "$SRC" "$NOGP"
env PATH="$TMP/empty-path" "$POSBENCH" plot "$NOGP" >/dev/null 2>"$TMP/err4"
rc=$?
if [ $rc -eq 2 ]; then ok "no gnuplot on PATH: exit 2"; else bad "no gnuplot on PATH: exit 2 (got $rc)"; fi
check "no gnuplot on PATH: message names gnuplot-nox" grep -q 'gnuplot-nox' "$TMP/err4"
check "no gnuplot on PATH: one line" test "$(wc -l <"$TMP/err4")" -eq 1
check "no gnuplot on PATH: report.md still written, saying why there are no figures" grep -q 'gnuplot-nox' "$NOGP/report.md"
rm -f "$NOGP/report.md"
env PATH="$TMP/empty-path" "$POSBENCH" plot "$NOGP" --format none >/dev/null 2>&1
rc=$?
if [ $rc -eq 0 ] && [ -s "$NOGP/report.md" ]; then ok "--format none writes report.md without gnuplot"; else bad "--format none writes report.md without gnuplot (exit $rc)"; fi

"$POSBENCH" plot "$TMP/no-such-run" >/dev/null 2>"$TMP/err5"
rc=$?
if [ $rc -eq 2 ]; then ok "missing RUN_DIR: exit 2"; else bad "missing RUN_DIR: exit 2 (got $rc)"; fi
check "missing RUN_DIR: message names it" grep -q 'no-such-run' "$TMP/err5"

mkdir -p "$TMP/empty-run"
"$POSBENCH" plot "$TMP/empty-run" >/dev/null 2>"$TMP/err6"
rc=$?
if [ $rc -eq 2 ]; then ok "no results.csv: exit 2"; else bad "no results.csv: exit 2 (got $rc)"; fi
check "no results.csv: message names results.csv" grep -q 'results.csv' "$TMP/err6"

"$POSBENCH" plot >/dev/null 2>"$TMP/err7"
rc=$?
if [ $rc -eq 2 ]; then ok "no RUN_DIR argument: exit 2"; else bad "no RUN_DIR argument: exit 2 (got $rc)"; fi
"$POSBENCH" plot "$RUN" --format gif >/dev/null 2>"$TMP/err8"
rc=$?
if [ $rc -eq 2 ] && grep -q -- '--format' "$TMP/err8"; then ok "bad --format: exit 2 naming the flag"; else bad "bad --format: exit 2 naming the flag (got $rc)"; fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
