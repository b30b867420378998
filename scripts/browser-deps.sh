#!/usr/bin/env bash
# Installs Debian's Chromium (the UI tests drive it; no browser download) and a CJK font, so that
# Chinese text renders in screenshots instead of boxes. Does nothing when both are there.
set -euo pipefail
have_font() { fc-list 2>/dev/null | grep -qi -E "wenquanyi|noto sans cjk"; }
if [ -x /usr/bin/chromium ] && have_font; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "browser-deps: need root to install Debian's chromium and fonts-wqy-zenhei (apt-get install chromium fonts-wqy-zenhei)" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-wqy-zenhei fontconfig >/dev/null
