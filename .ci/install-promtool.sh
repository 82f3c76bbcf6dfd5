#!/usr/bin/env bash
# Installs promtool (Debian's prometheus package) for the rule checks in
# test/dashboards/rules.test.ts. Does nothing when promtool is already on PATH.
set -euo pipefail

if command -v promtool >/dev/null 2>&1; then
  echo "promtool already installed: $(promtool --version 2>&1 | head -n 1)"
  exit 0
fi

bash "$(dirname "$0")/apt-install.sh" prometheus

promtool --version 2>&1 | head -n 1
