#!/usr/bin/env bash
# bad_checkpoints.sh — `posbench info` on broken checkpoints: each must exit 2
# with exactly one line on stderr that names the file (and nothing on stdout),
# never a crash. The bad files are made with head/dd/printf from the committed
# fixture tests/fixtures/ckpt/tiny_t5.safetensors (t5, 1 layer, d 8, 2 heads,
# vocab 256; written by tests/test_checkpoint.c). `make test-asan` runs this
# with POSBENCH pointing at an AddressSanitizer build.
#
#   POSBENCH=./posbench bash tests/bad_checkpoints.sh     (POSBENCH defaults to ./posbench)
# Ends with "N passed, N failed"; exit 1 on any failure.
set -u
POSBENCH=${POSBENCH:-./posbench}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
GOOD=$ROOT/tests/fixtures/ckpt/tiny_t5.safetensors
passed=0
failed=0

if [ ! -x "$POSBENCH" ]; then
    echo "bad_checkpoints.sh: $POSBENCH is not an executable (build it, or set POSBENCH)" >&2
    exit 1
fi
if [ ! -f "$GOOD" ]; then
    echo "bad_checkpoints.sh: fixture $GOOD is missing" >&2
    exit 1
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/posbench_badckpt.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }

size=$(wc -c < "$GOOD")

# offset FILE STRING -> byte offset of the first occurrence of STRING (in the header)
offset() { grep -boaF -- "$2" "$1" | head -n 1 | cut -d: -f1; }

# patch FILE OFFSET TEXT -> overwrite bytes in place
patch() { printf '%s' "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }

# replace NAME FROM TO -> copy of the fixture with the first FROM (same length) replaced by TO
replace() {
    local f=$TMP/$1.safetensors off
    cp "$GOOD" "$f"
    off=$(offset "$f" "$2")
    if [ -z "$off" ] || [ ${#2} -ne ${#3} ]; then
        echo "bad_checkpoints.sh: setup: '$2' not found or not the same length as '$3'" >&2
        exit 1
    fi
    patch "$f" "$off" "$3"
}

# expect_bad NAME FILE [SUBSTRING]: exit 2, stdout empty, one stderr line naming FILE (and SUBSTRING)
expect_bad() {
    local name=$1 file=$2 want=${3:-} rc lines
    "$POSBENCH" info "$file" > "$TMP/out" 2> "$TMP/err"
    rc=$?
    lines=$(wc -l < "$TMP/err")
    if [ "$rc" -ne 2 ]; then
        fail "$name: exit $rc, expected 2; stderr: $(head -c 600 "$TMP/err")"
    elif [ "$lines" -ne 1 ] || [ "$(wc -c < "$TMP/err")" -gt "$(( $(head -n 1 "$TMP/err" | wc -c) ))" ]; then
        fail "$name: expected exactly one line on stderr, got $lines: $(head -c 600 "$TMP/err")"
    elif ! grep -qF -- "$file" "$TMP/err"; then
        fail "$name: message does not name the file: $(cat "$TMP/err")"
    elif [ -n "$want" ] && ! grep -qF -- "$want" "$TMP/err"; then
        fail "$name: message lacks '$want': $(cat "$TMP/err")"
    elif [ -s "$TMP/out" ]; then
        fail "$name: printed on stdout: $(head -c 300 "$TMP/out")"
    else
        pass
        [ -n "${VERBOSE:-}" ] && echo "ok  $name: $(cat "$TMP/err")"
    fi
    return 0
}

# the good file itself
if "$POSBENCH" info "$GOOD" > "$TMP/out" 2> "$TMP/err" && grep -q "pos.t5.table" "$TMP/out" && [ ! -s "$TMP/err" ]; then
    pass
else
    fail "the good fixture: posbench info failed: $(head -c 600 "$TMP/err")"
fi

# truncated: data area cut, header cut, only 7 bytes, empty
head -c $((size - 100)) "$GOOD" > "$TMP/truncated.safetensors"
expect_bad "truncated data" "$TMP/truncated.safetensors" "beyond the data area"
head -c 300 "$GOOD" > "$TMP/truncated_header.safetensors"
expect_bad "truncated header" "$TMP/truncated_header.safetensors" "is larger than the file"
head -c 7 "$GOOD" > "$TMP/seven.safetensors"
expect_bad "7 bytes" "$TMP/seven.safetensors" "too short"
: > "$TMP/empty.safetensors"
expect_bad "empty file" "$TMP/empty.safetensors" "too short"

# header length larger than the file: 65535, and 2^63
cp "$GOOD" "$TMP/hlen.safetensors"
printf '\377\377\000\000\000\000\000\000' | dd of="$TMP/hlen.safetensors" bs=1 conv=notrunc status=none
expect_bad "header length larger than the file" "$TMP/hlen.safetensors" "header length 65535 is larger than the file"
cp "$GOOD" "$TMP/hlen63.safetensors"
printf '\000\000\000\000\000\000\000\200' | dd of="$TMP/hlen63.safetensors" bs=1 conv=notrunc status=none
expect_bad "header length 2^63" "$TMP/hlen63.safetensors" "header length 9223372036854775808"

# wrong dtype: same element size (I32) and a different one (F16: byte size no longer matches)
replace wrong_dtype '"tok_emb":{"dtype":"F32"' '"tok_emb":{"dtype":"I32"'
expect_bad "wrong dtype" "$TMP/wrong_dtype.safetensors" "tensor tok_emb has dtype I32, expected F32"
replace f16_dtype '"tok_emb":{"dtype":"F32"' '"tok_emb":{"dtype":"F16"'
expect_bad "F16 dtype" "$TMP/f16_dtype.safetensors" "of F16 needs 4096 bytes"

# wrong shape (transposed qkv weight: same size, wrong layout)
replace wrong_shape '"shape":[24,8]' '"shape":[8,24]'
expect_bad "wrong shape" "$TMP/wrong_shape.safetensors" "has shape [8, 24], expected [24, 8]"

# missing tensor (renamed), and config that disagrees with the tensors
replace missing '"ln_f.bias"' '"ln_f.xxxx"'
expect_bad "missing tensor" "$TMP/missing.safetensors" "tensor ln_f.bias is missing"
replace bad_heads '"n_head":"2"' '"n_head":"3"'
expect_bad "n_head not dividing d_model" "$TMP/bad_heads.safetensors" "n_head"
replace bad_method '"method":"t5"' '"method":"t9"'
expect_bad "unknown method" "$TMP/bad_method.safetensors" "unknown method"

# garbage: a whole file of deterministic pseudo-random bytes, and garbage inside the header
RANDOM=4242
garbage() {   # garbage N -> N pseudo-random bytes on stdout
    local i s=""
    for ((i = 0; i < $1; i++)); do s+=$(printf '\\%03o' $((RANDOM % 256))); done
    printf "$s"
}
garbage 2048 > "$TMP/garbage.safetensors"
expect_bad "garbage bytes" "$TMP/garbage.safetensors"
cp "$GOOD" "$TMP/garbage_header.safetensors"
garbage 64 | dd of="$TMP/garbage_header.safetensors" bs=1 seek=200 conv=notrunc status=none
expect_bad "garbage in the header" "$TMP/garbage_header.safetensors" "header is not valid JSON"

# not a checkpoint at all
expect_bad "missing file" "$TMP/no-such-file.safetensors" "cannot open"
mkdir -p "$TMP/a_folder.safetensors"
expect_bad "a folder" "$TMP/a_folder.safetensors"
printf 'hello, this is a text file\n' > "$TMP/text.safetensors"
expect_bad "a text file" "$TMP/text.safetensors"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
