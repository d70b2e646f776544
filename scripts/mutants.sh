#!/bin/sh
# Proves the tests can fail: applies each seeded mutation in mutants/*.patch
# (the smallest change that breaks one guarantee) to a scratch copy of the
# committed tree, builds it, runs the tests the patch names, and checks that
# they fail. Run by `make mutants` (mk/mutants.mk).
#
#   scripts/mutants.sh [NAME…]     every mutant, or those named (file names
#                                   without .patch)
#
# Each patch starts with a header that `patch` ignores:
#   Mutant:  what the mutation breaks, one line
#   Stage:   yes when a named test needs the staged install built from the
#            mutated copy (the installed-binary tests), no otherwise
#   Test:    arguments to `cargo test` that run the catching test, one line
#            each; every one must fail for the mutant to count as caught
#
# First every named test must pass on the unmutated copy (a test that
# fails anyway proves nothing). A patch that no longer applies is an error,
# never a pass: regenerate it against the current code.
#
# Environment: MUTANTS_DIR (scratch space, default target/mutants),
# MUTANTS_STAGE (the private install, default /tmp/privsep-mutants-stage;
# removed at the end, it may hold a broken privileged launcher),
# PRIVSEP_TEST_USER (default privsep-test), CARGO.
# Exit 0 when every mutant was caught; 1 when one survived; 2 on errors.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
dir=${MUTANTS_DIR:-$here/target/mutants}
stage=${MUTANTS_STAGE:-/tmp/privsep-mutants-stage}
user=${PRIVSEP_TEST_USER:-privsep-test}
cargo=${CARGO:-cargo}
tree=$dir/tree
logs=$dir/logs

if [ $# -gt 0 ]; then
    patches=
    for n in "$@"; do
        [ -f "$here/mutants/$n.patch" ] || { echo "mutants: no mutants/$n.patch" >&2; exit 2; }
        patches="$patches $here/mutants/$n.patch"
    done
else
    patches=$(ls "$here"/mutants/*.patch)
fi
[ -n "$patches" ] || { echo "mutants: no mutants/*.patch" >&2; exit 2; }

# A launcher left staged by a mutant may keep a capability: never leave it.
cleanup() { rm -rf "$stage"; }
trap cleanup EXIT INT TERM

# The scratch copy: the committed tree (uncommitted changes are not
# tested), every source newer than anything built before, so that cargo
# never mistakes an earlier mutant's build for this source's. The cargo
# target directory inside it is kept between runs (the dependencies).
head=$(git -C "$here" rev-parse HEAD)
echo "mutants: scratch copy of $head in $tree"
mkdir -p "$tree" "$logs"
find "$tree" -mindepth 1 -maxdepth 1 ! -name target -exec rm -rf {} +
git -C "$here" archive "$head" | tar -x -C "$tree"
find "$tree" -path "$tree/target" -prune -o -type f -exec touch {} +
PRIVSEP_TEST_USER=$user "$tree/scripts/test-user.sh" >/dev/null

field() { sed -n "s/^$1: //p" "$2"; }

# stage LOG: install the scratch copy under $stage (its own layout).
stage() {
    make -C "$tree" --no-print-directory stage STAGE="$stage" CARGO="$cargo" >"$1" 2>&1 ||
        { echo "mutants: staging failed, see $1" >&2; tail -5 "$1" >&2; return 1; }
}

# run_tests PATCH LOG: run every Test: line of PATCH; prints "pass" or
# "fail" per line on stdout, in order. A test that does not build is an
# error (exit 2), not a failure: only a test that ran can catch.
run_tests() {
    field Test "$1" | while IFS= read -r args; do
        # shellcheck disable=SC2086 # the arguments are words by design
        if ! (cd "$tree" && $cargo test --locked --no-run $args) >>"$2" 2>&1; then
            echo "mutants: the test does not build: cargo test $args (see $2)" >&2
            exit 2
        fi
        echo "== cargo test $args" >"$2.one"
        # shellcheck disable=SC2086
        if (cd "$tree" && PRIVSEP_STAGE=$stage PRIVSEP_TEST_USER=$user $cargo test --locked $args) >>"$2.one" 2>&1; then
            # Passed: it must also have run something.
            if grep -q '^test result: ok\. [1-9][0-9]* passed' "$2.one"; then echo pass; else echo empty; fi
        else
            echo fail
        fi
        cat "$2.one" >>"$2"
        rm -f "$2.one"
    done
}

# The baseline: every named test passes on the unmutated copy.
needs_stage=no
for p in $patches; do
    [ "$(field Stage "$p")" = yes ] && needs_stage=yes
    [ -n "$(field Test "$p")" ] || { echo "mutants: $(basename "$p") names no Test:" >&2; exit 2; }
done
if [ $needs_stage = yes ]; then
    echo "mutants: staging the unmutated copy"
    stage "$logs/baseline-stage.log" || exit 2
fi
for p in $patches; do
    name=$(basename "$p" .patch)
    log=$logs/baseline-$name.log
    : >"$log"
    results=$(run_tests "$p" "$log") || exit 2
    case $results in
    *fail* | *empty*)
        echo "mutants: baseline: a test named by $name does not pass unmutated ($results), see $log" >&2
        exit 2
        ;;
    esac
    echo "mutants: baseline $name: its tests pass"
done

survivors=
for p in $patches; do
    name=$(basename "$p" .patch)
    log=$logs/$name.log
    : >"$log"
    if ! patch -d "$tree" -p1 --forward --batch --quiet --fuzz=0 <"$p" >>"$log" 2>&1; then
        echo "mutants: $name no longer applies to $head: regenerate mutants/$name.patch" >&2
        cat "$log" >&2
        exit 2
    fi
    status=ok
    if [ "$(field Stage "$p")" = yes ]; then
        stage "$log.stage" || status=error
    fi
    if [ $status = ok ]; then
        results=$(run_tests "$p" "$log") || status=error
    fi
    patch -d "$tree" -p1 -R --batch --quiet <"$p" >>"$log" 2>&1 ||
        { echo "mutants: cannot revert $name" >&2; exit 2; }
    # Newer than the mutant's build, so that cargo rebuilds it.
    sed -n 's|^+++ b/||p' "$p" | while IFS= read -r f; do touch "$tree/$f"; done
    [ $status = ok ] || { echo "mutants: $name: error, see $log" >&2; exit 2; }
    case $results in
    *pass* | *empty*)
        echo "mutants: SURVIVED $name: $(field Mutant "$p") (tests: $(echo $results)), see $log"
        survivors="$survivors $name"
        ;;
    *)
        echo "mutants: caught   $name: $(field Mutant "$p")"
        ;;
    esac
done

if [ -n "$survivors" ]; then
    echo "mutants: survived:$survivors" >&2
    exit 1
fi
echo "mutants: every mutant was caught"
