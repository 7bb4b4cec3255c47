#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real (PostgreSQL, Chromium, ...).
# Only as root with apt available; otherwise it says what is missing and lets the tests decide.
set -euo pipefail
# The emoji font: live rooms send reactions as emoji, which Chromium otherwise draws as boxes.
packages=(postgresql chromium redis-server fonts-dejavu-core fonts-noto-color-emoji)
# Live captions: speech synthesis for tests/bench, audio tools, Apertium pairs (fr<->es, en<->es) and
# their Python bindings (in-process translation), nginx-rtmp for the end-to-end stream test.
packages+=(espeak-ng sox ffmpeg apertium apertium-fr-es apertium-eng-spa python3-apertium-core python3-lttoolbox
  python3-apertium-lex-tools python3-cg3 nginx libnginx-mod-rtmp)
# `passerelle edge` gathers flash-deal claims in nginx's Lua (festival/edge); wrk drives `passerelle bench`.
packages+=(libnginx-mod-http-lua lua-cjson wrk)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "missing Debian packages (install them as root): ${missing[*]}" >&2
fi
