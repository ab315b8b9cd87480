#!/bin/sh
# Prints the README's conformance table: every numeric check of the test
# runner (error against PyTorch/NumPy or a reference kernel) as a Markdown row.
# Usage: tests/conformance.sh [path/to/muon_tests] [suite...]
bin=${1:-./build/cc-omp1-p0/muon_tests}
[ $# -gt 0 ] && shift
echo "| suite | check | max abs err | max rel err | tolerance (rtol, atol) |"
echo "|---|---|---|---|---|"
"$bin" "$@" | awk '
/^(ok|FAIL|info) / && /max abs/ {
    status = $1; suite = $2
    line = $0
    sub(/^(ok|FAIL|info) +[^ ]+ +/, "", line)
    what = line; sub(/: .*/, "", what)
    abs = line; sub(/.*max abs /, "", abs); sub(/,.*/, "", abs)
    rel = line; sub(/.*max rel /, "", rel); sub(/[ ;(].*/, "", rel)
    tol = line; sub(/.*rtol /, "", tol); sub(/\).*/, "", tol); sub(/, atol /, ", ", tol)
    printf "| %s | %s%s | %s | %s | %s |\n", suite, what, (status == "FAIL" ? " **FAIL**" : ""), abs, rel, tol
}'
