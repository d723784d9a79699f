#!/usr/bin/env bash
# Run every fuzz target for a short while (FUZZTIME, default 15s each).
# The committed seeds under testdata/fuzz run in every `make test` anyway;
# this explores beyond them. New failing inputs land in testdata/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
t="${FUZZTIME:-15s}"
grep -rl --include='*_test.go' '^func Fuzz' . | sort | while read -r f; do
  pkg="./$(dirname "${f#./}")"
  for target in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | sed 's/^func //'); do
    echo "== $pkg $target ($t)"
    go test -run='^$' -fuzz="^${target}\$" -fuzztime="$t" -fuzzminimizetime=100x "$pkg"
  done
done
