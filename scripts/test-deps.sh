#!/bin/sh
# Install what the test suite needs beyond Python packages: PostgreSQL's server
# binaries (initdb, pg_ctl), for the tests that run against a throw-away cluster.
# Installs Debian's `postgresql` only when no initdb is found.
set -e
if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "test-deps: no initdb and no apt-get: install PostgreSQL's server binaries" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
echo "test-deps: installing Debian postgresql (for the PostgreSQL tests)"
export DEBIAN_FRONTEND=noninteractive  # CI has no terminal: never ask
$SUDO apt-get install -y postgresql >/dev/null || {
    $SUDO apt-get update >/dev/null && $SUDO apt-get install -y postgresql >/dev/null
}
