#!/usr/bin/env bash
# Fails when a dev-dependency switches on a feature of a crate the binary also builds: then
# `cargo test` after `cargo run` compiles that crate again, and with it polars (~5 minutes).
# Fix by naming the crate in [dependencies] with the feature the test build wants.
set -euo pipefail
cd "$(dirname "$0")/.."
tree() { cargo tree --locked -e "$1" -f '{p} {f}' --prefix none | sed 's/ (\*)$//' | sort -u; }
normal=$(tree normal,build)
with_dev=$(tree normal,build,dev)
# A crate in both graphs whose feature list differs.
drift=$(comm -13 <(printf '%s\n' "$normal") <(printf '%s\n' "$with_dev") | while read -r name version features; do
  if printf '%s\n' "$normal" | grep -q "^$name $version "; then
    printf '%s %s: build has [%s], test has [%s]\n' "$name" "$version" \
      "$(printf '%s\n' "$normal" | grep "^$name $version " | cut -d' ' -f3-)" "$features"
  fi
done)
if [ -n "$drift" ]; then
  printf 'feature sets differ between `cargo build` and `cargo test`:\n%s\n' "$drift" >&2
  exit 1
fi
echo "one feature set for build and test"
