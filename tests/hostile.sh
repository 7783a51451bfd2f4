#!/usr/bin/env bash
# hostile.sh — inputs that lie, loop or never end: each exits 2 with one
# stderr line naming the file or flag, before any work starts (nothing
# evaluated, nothing trained): NaN weights, a flipped checkpoint bit, --resume
# into another run, devices and FIFOs as inputs, symlink cycles, NUL bytes and
# BOMs in configs, over-long --out, an output file that is a folder, duplicate
# sweep entries, and a corpus that changed under a run folder.
set -u
cd "$(dirname "$0")/.."
PB=${POSBENCH:-./posbench}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
FIX=tests/fixtures/ckpt/tiny_t5.safetensors
pass=0 fail=0
check() { local what=$1; shift; if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what"; fi; }

# bad WHAT WANT ARGS...: exit 2, exactly one stderr line containing WANT, no stdout. Run under a
# memory and time bound, so an input that never ends fails the check instead of the machine.
bad() {
    local what=$1 want=$2; shift 2
    (ulimit -v 4000000; timeout 60 "$PB" "$@") >"$T/out" 2>"$T/err" </dev/null
    local rc=$? lines; lines=$(wc -l <"$T/err")
    if [ "$rc" -eq 2 ] && [ "$lines" -eq 1 ] && grep -qF -- "$want" "$T/err" && [ ! -s "$T/out" ]; then pass=$((pass + 1))
    else fail=$((fail + 1)); echo "FAIL $what: exit $rc, $lines lines: $(head -c 300 "$T/err")"; fi
}

# --- checkpoints: NaN weights (an older file: no checksum to catch it first), a flipped bit ----------
hlen() { od -An -t u8 -N 8 "$1" | tr -d ' '; }
cp "$FIX" "$T/nan.safetensors"
printf '\x00\x00\xc0\x7f' | dd of="$T/nan.safetensors" bs=1 seek=$(($(hlen "$FIX") + 8 + 40)) conv=notrunc status=none
bad "eval of a checkpoint with a NaN weight" "$T/nan.safetensors: tensor tok_emb holds 1 NaN" \
    eval --ckpt "$T/nan.safetensors" --lengths 8
printf '\x00\x00\x80\x7f' | dd of="$T/nan.safetensors" bs=1 seek=$(($(hlen "$FIX") + 8 + 40)) conv=notrunc status=none
bad "info of a checkpoint with an infinite weight" "NaN or infinite" info "$T/nan.safetensors"
"$PB" train --method alibi --preset tiny --set "steps=20;ckpt_every=10" --out "$T/u" >/dev/null 2>&1
cp "$T/u/model.safetensors" "$T/flip.safetensors"
size=$(wc -c <"$T/flip.safetensors")
byte=$(od -An -t u1 -j $((size - 100)) -N 1 "$T/flip.safetensors" | tr -d ' ')
printf "\\$(printf %03o $((byte ^ 4)))" | dd of="$T/flip.safetensors" bs=1 seek=$((size - 100)) conv=notrunc status=none
bad "eval of a checkpoint with one flipped bit" "$T/flip.safetensors: checksum mismatch" eval --ckpt "$T/flip.safetensors" --lengths 8

# --- --resume into a different run ----------------------------------------------------------------
"$PB" train --method alibi --preset tiny --set "steps=20;ckpt_every=10" --out "$T/r" >/dev/null 2>&1 &
wait $!
rm -f "$T/r/train.json"   # as if killed after its last checkpoint
{ POSBENCH_KILL_AT_STEP=15 "$PB" train --method alibi --preset tiny --set "steps=20;ckpt_every=10" --out "$T/k"; } >/dev/null 2>&1
R="train --method alibi --preset tiny --out $T/k --resume"
bad "--resume with another seed" "was trained with seed 1, not 2" $R --set "steps=20;ckpt_every=10" --seed 2
bad "--resume with another lr" "was trained with lr = 0.003, this command has 0.001" $R --set "steps=20;ckpt_every=10;lr=1e-3"
bad "--resume with another width" "d_model 32, not alibi" $R --set "steps=20;ckpt_every=10;d_model=64"
head -c 40000 datasets/default/1861_abraham_lincoln_r.txt >"$T/other.txt"
"$PB" data prepare "$T/other.txt" >/dev/null 2>&1   # its progress notes are not part of the error
bad "--resume with other data" "was trained on default (data hash" $R --set "steps=20;ckpt_every=10" --data "$T/other.txt"
bad "--resume past --steps" "already at step 10, beyond --steps 5" $R --set "steps=20;ckpt_every=10" --steps 5
"$PB" train --method alibi --preset tiny --set "steps=20;ckpt_every=10" --out "$T/r" --resume >/dev/null 2>"$T/r.err"
check "a checkpoint at its last step (killed before train.json) completes: exit 0, finite final loss" \
    sh -c "grep -q '\"final_loss\": [0-9]' '$T/r/train.json' && ! grep -q 'loss nan' '$T/r.err'"
check "the refused resumes left the checkpoint at step 10" sh -c "'$PB' info '$T/k/model.safetensors' --no-tensors | grep -q 'step 10'"

# --- devices and FIFOs as checkpoint, config or data ----------------------------------------------
mkfifo "$T/fifo"
for dev in /dev/zero /dev/urandom "$T/fifo"; do
    bad "$dev as checkpoint" "$dev: not a regular file" eval --ckpt "$dev" --lengths 8
    bad "$dev as config" "$dev: not a regular file" train --method alibi --preset tiny --config "$dev" --out "$T/d"
    bad "$dev as data" "$dev: not a regular file" train --method alibi --preset tiny --data "$dev" --out "$T/d"
done

# --- a symlink cycle in a corpus folder -----------------------------------------------------------
mkdir -p "$T/corpus/sub"
head -c 5000 datasets/default/1861_abraham_lincoln_r.txt >"$T/corpus/a.txt"
ln -s .. "$T/corpus/sub/up"
bad "a symlink cycle in a corpus folder" "$T/corpus/sub/up: a symlink cycle" data describe "$T/corpus"

# --- configs: a NUL byte, a byte-order mark -------------------------------------------------------
printf 'steps = 10\nlr = 1e-3\0\n' >"$T/nul.conf"
bad "a NUL byte in a config" "$T/nul.conf:2: contains a NUL byte" train --method alibi --preset tiny --config "$T/nul.conf" --out "$T/c"
printf '\xef\xbb\xbfsteps = 10\n' >"$T/bom.conf"
bad "a UTF-8 BOM in a config" "$T/bom.conf:1: starts with a UTF-8 byte-order mark" train --method alibi --preset tiny --config "$T/bom.conf" --out "$T/c"

# --- outputs: an --out beyond PATH_MAX, eval outputs that are folders ------------------------------
long=$T/$(head -c 5000 /dev/zero | tr '\0' a)
bad "sweep --out longer than PATH_MAX" "--out: the path is" sweep --preset tiny --out "$long"
bad "train --out longer than PATH_MAX" "--out: the path is" train --method alibi --preset tiny --out "$long"
mkdir -p "$T/folder"
bad "eval --out naming a folder" "--out: $T/folder is a folder" eval --ckpt "$T/u/model.safetensors" --lengths 16 --out "$T/folder"
bad "eval --per-position naming a folder" "--per-position: $T/folder is a folder" \
    eval --ckpt "$T/u/model.safetensors" --lengths 16 --per-position "$T/folder"

# --- a sweep: duplicate methods or lengths, a corpus that changed under its folder ------------------
bad "duplicate methods" "--methods: 'alibi' is given twice" sweep --preset tiny --methods alibi,nope,alibi --out "$T/s"
bad "duplicate train lengths" "--train-lens: 16 is given twice" sweep --preset tiny --train-lens 16,32,16 --out "$T/s3"
mkdir -p "$T/speeches"
cp datasets/default/18[67]*.txt "$T/speeches/"
"$PB" sweep --preset tiny --methods alibi --data "$T/speeches" --no-plot --out "$T/s2" >/dev/null 2>&1
check "a sweep on a folder of speeches runs" [ -s "$T/s2/results.csv" ]
old=$(cut -d' ' -f1 "$T/s2/data_hash.txt" 2>/dev/null)
echo "one more line" >>"$T/speeches/1871_ulysses_s_grant_r.txt"
"$PB" data prepare "$T/speeches" >/dev/null 2>&1   # its progress notes are not part of the error
new=$("$PB" data describe "$T/speeches" 2>/dev/null | awk '/source hash/ { print $3 }')
bad "the corpus changed between two runs into one folder" "now has hash $new, but the units in $T/s2 were trained on data with hash $old" \
    sweep --preset tiny --methods alibi --data "$T/speeches" --no-plot --out "$T/s2"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
