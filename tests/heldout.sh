#!/usr/bin/env bash
# heldout.sh — user data is scored on its held-out split, never on the text the
# model was trained on: `sweep --data FILE` trains on the file's train range and
# scores the valid range (both recorded in meta.json); `eval --data FOLDER
# --split test` scores the folder's test documents; a folder with one document
# says so instead of blaming --lengths.
set -u
cd "$(dirname "$0")/.."
PB=${POSBENCH:-./posbench}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
CK=tests/fixtures/ckpt/tiny_t5.safetensors
pass=0 fail=0
check() { local what=$1; shift; if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what"; fi; }
field() { awk -F, -v c="$2" 'NR == 2 { print $c }' "$1"; }   # CSV column c of the first row

# --- sweep on one text file: rows score the valid range; meta.json records the ranges -------------
cat datasets/default/186*.txt | head -c 60000 >"$T/notes.txt"
"$PB" sweep --preset tiny --methods alibi --data "$T/notes.txt" --no-plot --out "$T/run" >/dev/null 2>"$T/sweep.err"
rc=$?
check "sweep --data FILE exits 0 (rc $rc: $(tail -n 1 "$T/sweep.err"))" [ "$rc" -eq 0 ]
check "every row scores the valid split" awk -F, 'NR > 1 && $7 != "valid" { bad = 1 } NR > 1 { n++ } END { exit bad || !n }' "$T/run/results.csv"
check "meta.json states the split rule" grep -q '"rule": "one text file cut into byte ranges' "$T/run/meta.json"
range=$(grep -o '"valid": \[[0-9]*, [0-9]*\]' "$T/run/meta.json" | head -n 1 | tr -dc '0-9 ')
set -- $range
va=${1:-0} vb=${2:-0}
check "meta.json gives the valid byte range ($va..$vb) inside the file, after the train range" \
    sh -c "[ $va -ge 54000 ] && [ $vb -gt $va ] && grep -q '\"train\": \[0, $va\]' '$T/run/meta.json'"
# the row at L equals scoring exactly those bytes as a text of their own
tail -c +$((va + 1)) "$T/notes.txt" | head -c $((vb - va)) >"$T/valid_part.txt"
"$PB" eval --ckpt "$T/run/units/alibi-L16-s1/model.safetensors" --lengths 16 --data "$T/valid_part.txt" --split all \
    --max-tokens 512 >"$T/part.csv" 2>/dev/null
want=$(field "$T/part.csv" 9)
got=$(awk -F, '$4 == 16 && $5 == "nonoverlapping" { print $9 }' "$T/run/results.csv")
check "the sweep's score at L is the valid range's score ($got = $want)" [ -n "$want" -a "$got" = "$want" ]

# --- eval: a file's valid part by default, all only when asked; a folder's test split ----------
"$PB" eval --ckpt "$CK" --lengths 16 --data "$T/notes.txt" >"$T/f.csv" 2>/dev/null
check "eval --data FILE scores its valid part ($(field "$T/f.csv" 7))" [ "$(field "$T/f.csv" 7)" = valid ]
"$PB" eval --ckpt "$CK" --lengths 16 --data "$T/notes.txt" --split all --max-tokens 100000 >"$T/a.csv" 2>/dev/null
check "eval --split all scores the whole file ($(field "$T/a.csv" 8) tokens)" \
    sh -c "[ '$(field "$T/a.csv" 7)' = all ] && [ '$(field "$T/a.csv" 8)' -eq 59999 ]"
mkdir -p "$T/speeches"
cp datasets/default/*.txt "$T/speeches/"
"$PB" eval --ckpt "$CK" --lengths 16 --data "$T/speeches" --split test --max-tokens 100000000 >"$T/t.csv" 2>/dev/null
test_tokens=$("$PB" data describe "$T/speeches" 2>/dev/null | awk '$1 == "test" { gsub(",", "", $4); print $4 }')
check "eval --data FOLDER --split test scores the test documents ($(field "$T/t.csv" 7), $(field "$T/t.csv" 8) of $test_tokens tokens)" \
    sh -c "[ '$(field "$T/t.csv" 7)' = test ] && [ '$(field "$T/t.csv" 8)' -eq $((test_tokens - 1)) ]"

# --- a folder with one document: said plainly ---------------------------------------------------
mkdir -p "$T/one"
cp datasets/default/1861_abraham_lincoln_r.txt "$T/one/"
"$PB" data prepare "$T/one" >/dev/null 2>&1   # its progress notes are not part of the error
"$PB" sweep --preset tiny --methods alibi --data "$T/one" --no-plot --out "$T/run1" >/dev/null 2>"$T/one.err"
rc=$?
check "a one-document folder: exit 2 (rc $rc)" [ "$rc" -eq 2 ]
check "a one-document folder: one line saying it holds 1 document ($(head -c 300 "$T/one.err"))" \
    sh -c "[ \$(wc -l <'$T/one.err') -eq 1 ] && grep -q 'holds 1 document' '$T/one.err' && ! grep -q -- '--lengths' '$T/one.err'"
"$PB" eval --ckpt "$CK" --lengths 16 --data "$T/one" --split valid >/dev/null 2>"$T/one2.err"
rc=$?
check "eval on a one-document folder: exit 2 saying so (rc $rc)" sh -c "[ $rc -eq 2 ] && grep -q 'holds 1 document' '$T/one2.err'"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
