#!/bin/sh
# Makes sure the Chromium the e2e suite drives (playwright.config.ts: /usr/bin/chromium) is installed.
# Installs Debian's package when run as root; otherwise says how, and fails.
set -eu

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: $CHROMIUM is missing; installing Debian's chromium package" >&2
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
  if [ -x "$CHROMIUM" ]; then
    exit 0
  fi
  echo "ensure-chromium: apt-get finished but $CHROMIUM is still missing" >&2
  exit 1
fi

cat >&2 <<MSG
ensure-chromium: $CHROMIUM is missing, and this script can only install it as root on Debian/Ubuntu.
Install it with:
    sudo apt-get update && sudo apt-get install -y chromium
(The e2e suite uses the system Chromium via launchOptions.executablePath in playwright.config.ts.)
MSG
exit 1
