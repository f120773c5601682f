#!/usr/bin/env bash
# The browser tests (docs site, widgets in JupyterLab and Notebook 7) drive Debian's Chromium through Playwright (never `playwright install`,
# which downloads a browser build). Install it when missing; say nothing when it is there. Run by CI (.ci/run) and by
# `make browser`, never by `make test`: installing a system package is the user's decision.
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
echo "ensure_chromium: installing Debian's chromium (for the browser tests)"
export DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium >/dev/null
