# Shared by scripts/deps/*.sh: install Debian packages when a command is missing.
# Usage: need CHECK_COMMAND PACKAGE...   (CHECK_COMMAND is a shell test, e.g. 'command -v sipp')
need() {
    check="$1"; shift
    if sh -c "$check" >/dev/null 2>&1; then
        return 0
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "test-deps: '$check' fails and there is no apt-get: install $* by hand" >&2
        return 1
    fi
    SUDO=""
    if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
    echo "test-deps: installing Debian $*"
    export DEBIAN_FRONTEND=noninteractive  # CI has no terminal: never ask
    $SUDO apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1 || {
        $SUDO apt-get update >/dev/null && $SUDO apt-get install -y --no-install-recommends "$@" >/dev/null
    }
}
