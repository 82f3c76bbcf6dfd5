#!/usr/bin/env bash
# Installs the Python and shell linters of `npm run lint` / `npm run format:check` from Debian's
# packages: black, pyflakes3 and shellcheck, called by those names (Debian's python3 runs them, whichever
# python3 is first on PATH). Does nothing when all are on PATH.
# (Biome, the TypeScript linter and formatter, comes with `npm ci`.)
set -euo pipefail

if command -v black >/dev/null 2>&1 && command -v pyflakes3 >/dev/null 2>&1 && command -v shellcheck >/dev/null 2>&1; then
  echo "linters already installed: black $(black --version | head -n 1 | cut -d' ' -f2), shellcheck $(shellcheck --version | sed -n 's/^version: //p')"
  exit 0
fi

bash "$(dirname "$0")/apt-install.sh" black pyflakes3 shellcheck
