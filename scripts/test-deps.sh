#!/bin/sh
# Install what the test suite needs beyond Python packages: every scripts/deps/*.sh
# names a Debian package and the check that says it is already there
# (PostgreSQL for the database tests, Chromium for the browser tests, sipp,
# baresip, rtpengine and espeak-ng for the voice tests).
set -e
here=$(dirname "$0")
. "$here/deps/lib.sh"
for f in "$here"/deps/*.sh; do
    case "$f" in */lib.sh) continue ;; esac
    . "$f"
done
