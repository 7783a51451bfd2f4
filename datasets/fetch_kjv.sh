#!/bin/sh
# fetch_kjv.sh DEST — the King James Bible from Debian's bible-kjv (the `bible` program) and
# bible-kjv-text (the compressed text). Installs them with apt-get when root; else says how.
# Leaves DEST/raw/kjv.txt: one verse a line, "Ge1:1 In the beginning ...", Genesis to Revelation.
set -u
. "$(dirname "$0")/fetch_lib.sh"
bible=${POSBENCH_BIBLE:-bible}
fetch_begin "$1"

bible_works() {
    command -v "$bible" >/dev/null 2>&1 &&
        "$bible" -f Ge1:1 </dev/null 2>/dev/null | grep -q '^Ge1:1 In the beginning'
}

if ! bible_works; then
    if ! command -v apt-get >/dev/null 2>&1; then
        say "kjv needs the bible program and text of Debian's bible-kjv and bible-kjv-text, and apt-get is not" \
            "here: install those packages by other means, then run posbench data get kjv"
        exit 2
    fi
    if [ "$(id -u)" != 0 ]; then
        say "kjv needs Debian's bible-kjv and bible-kjv-text: run 'sudo apt-get install bible-kjv bible-kjv-text'," \
            "then posbench data get kjv"
        exit 2
    fi
    say "installing bible-kjv and bible-kjv-text with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q bible-kjv bible-kjv-text >"$tmp/apt.log" 2>&1; then
        apt-get update -q >>"$tmp/apt.log" 2>&1
        if ! apt-get install -y -q bible-kjv bible-kjv-text >>"$tmp/apt.log" 2>&1; then
            say "apt-get could not install bible-kjv bible-kjv-text ($(grep -m1 -E '^(E|Err):' "$tmp/apt.log")):" \
                "check the network and apt sources, then run 'apt-get update && apt-get install bible-kjv bible-kjv-text'"
            exit 2
        fi
    fi
    bible_works || { say "bible-kjv is installed but '$bible -f Ge1:1' does not print Genesis 1:1"; exit 1; }
fi

"$bible" -f Gen1:1-Rev22:21 </dev/null >"$stage/kjv.txt" 2>"$tmp/bible.err" || {
    say "'$bible -f Gen1:1-Rev22:21' failed: $(head -n 1 "$tmp/bible.err")"
    exit 1
}
n=$(wc -l <"$stage/kjv.txt")
if [ "$n" -lt 31000 ] || ! head -n 1 "$stage/kjv.txt" | grep -q '^Ge1:1 '; then
    say "the bible program printed $n lines, not the 31102 verses expected (first: $(head -c 60 "$stage/kjv.txt"))"
    exit 1
fi
ver=$(dpkg-query -W -f '${Version}' bible-kjv-text 2>/dev/null)
fetch_commit "debian bible-kjv-text ${ver:-unknown} ($n verses) fetched $(date -u +%Y-%m-%dT%H:%M:%SZ)"
say "kjv: $n verses in $dest/raw/kjv.txt"
