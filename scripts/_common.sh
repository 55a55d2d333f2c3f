# Shared by demo.sh and test.sh: find Python, make the virtual environment, install Ping An.
# Sourced, not executed. Expects ROOT to be the repository root.

PINGAN_PYTHON="${PINGAN_PYTHON:-python3}"
VENV="$ROOT/.venv"

if [ -t 1 ]; then
    say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
else
    say() { printf '==> %s\n' "$*"; }
fi
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Debian packages needed by the given list, installed only when something is missing, so a
# prepared machine never touches the network.
apt_install() {
    [ "$#" -gt 0 ] || return 0
    if [ "$(id -u)" -ne 0 ]; then
        die "missing Debian packages: $*. Install them with: sudo apt-get install -y $*"
    fi
    say "Installing Debian packages: $*"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# The virtual environment in .venv, created when missing. python3 -m venv needs Debian's
# python3-venv (ensurepip), which a minimal Debian 12 lacks.
ensure_venv() {
    command -v "$PINGAN_PYTHON" >/dev/null || apt_install python3 python3-venv
    [ -x "$VENV/bin/python" ] && return 0
    "$PINGAN_PYTHON" -c 'import sys; assert sys.version_info >= (3, 11), sys.version' \
        || die "Ping An needs Python 3.11 or newer ($PINGAN_PYTHON is older)"
    say "Creating the virtual environment in .venv"
    if ! "$PINGAN_PYTHON" -m venv "$VENV" 2>/dev/null; then
        rm -rf "$VENV"
        apt_install python3-venv
        "$PINGAN_PYTHON" -m venv "$VENV" || die "could not create $VENV"
    fi
}

# `pip install -e .[extra]`, repeated only when pyproject.toml changed since the last install
# (the stamp holds its hash), so a second run starts in seconds.
ensure_installed() {
    local extra="$1" spec="." stamp hash
    [ -n "$extra" ] && spec=".[$extra]"
    stamp="$VENV/.pingan-installed${extra:+-$extra}"
    hash="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
    # An install with the test extra includes everything the plain one and the analytics
    # extra need.
    for mark in "$stamp" "$VENV/.pingan-installed-test"; do
        if [ -f "$mark" ] && [ "$(cat "$mark")" = "$hash" ] \
            && "$VENV/bin/python" -c 'import pingan' 2>/dev/null; then
            return 0
        fi
    done
    say "Installing Ping An and its dependencies (pip install -e \"$spec\")"
    (cd "$ROOT" && "$VENV/bin/python" -m pip install --quiet --quiet --disable-pip-version-check -e "$spec")
    echo "$hash" >"$stamp"
}
