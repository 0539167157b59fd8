#!/bin/sh
# Install the official Heroku CLI (npm package `heroku`) for tests/it/heroku_cli.rs.
#
# Installs into target/tools/heroku-cli (git-ignored, survives builds; `cargo clean` removes it).
# Cached: does nothing when target/tools/heroku-cli/node_modules/.bin/heroku already exists.
# The version is pinned so the test is reproducible; bump it deliberately.
#
# Usage: scripts/install-heroku-cli.sh            (from anywhere; paths are relative to the repo)
# Env:   HEROKU_CLI_VERSION overrides the pin.
set -eu

VERSION="${HEROKU_CLI_VERSION:-11.10.0}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PREFIX="$ROOT/target/tools/heroku-cli"
BIN="$PREFIX/node_modules/.bin/heroku"

if [ -x "$BIN" ]; then
    exit 0
fi
for tool in node npm; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "install-heroku-cli: '$tool' is not on PATH (Node.js >= 20 and npm are needed)" >&2
        exit 127
    fi
done

mkdir -p "$PREFIX"
echo "install-heroku-cli: npm install heroku@$VERSION into $PREFIX" >&2
npm install --prefix "$PREFIX" --no-audit --no-fund --loglevel=error "heroku@$VERSION" >&2
if [ ! -x "$BIN" ]; then
    echo "install-heroku-cli: npm finished but $BIN is missing" >&2
    exit 1
fi
