#!/usr/bin/env bash
# The browser tests drive Debian's Chromium. Install it when missing and we may (root, apt-get);
# otherwise say plainly that the browser tests will be skipped, and why.
CHROMIUM=${BESTPART_CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Chromium for the browser tests (apt-get install chromium)..."
  if { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/tmp/bestpart-chromium.log 2>&1; then
    exit 0
  fi
  echo "Could not install Chromium (see /tmp/bestpart-chromium.log): the browser tests will be skipped."
else
  echo "No Chromium at $CHROMIUM and no root apt-get to install it: the browser tests will be skipped."
fi
exit 0
