#!/usr/bin/env bash
# Installs Debian's Chromium for the browser test when it is missing (no browser download).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "browser-deps: /usr/bin/chromium missing and not root; the browser test will be skipped" >&2; exit 0; fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
