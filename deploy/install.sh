#!/usr/bin/env bash
# Installs pievse on Raspberry Pi OS Bookworm (Pi 3, 4 or 5), or into a test tree (--prefix).
#
#   sudo deploy/install.sh [--bundle FILE] [--pi-model 3|4|5|none] [--board NAME]
#   deploy/install.sh --prefix DIR [--bundle FILE] ...     (no root needed; nothing outside DIR)
#
# Without --bundle it builds one from this checkout first (needs the network once); with a
# bundle it installs offline. Every step checks before it acts, so running it again changes
# nothing, and a newer bundle installs beside the old release and becomes current.
#
# What it does: enables I2C, the UART and the hardware PWM overlay in config.txt; creates the
# pievse user (groups gpio, i2c, dialout); /opt/pievse/releases/<version> with its own venv,
# /opt/pievse/current and previous; /etc/pievse (config, board file); /var/lib/pievse (data);
# the systemd unit (Type=notify, watchdog), the hardware watchdog, the udev rules.
set -euo pipefail

usage() {
    sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
}

prefix=""
bundle=""
model=""
board=""
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix=${2:?--prefix needs a directory}; shift 2 ;;
        --bundle) bundle=${2:?--bundle needs a file}; shift 2 ;;
        --pi-model) model=${2:?--pi-model needs 3, 4, 5 or none}; shift 2 ;;
        --board) board=${2:?--board needs a bundled board name}; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

here=$(cd "$(dirname "$0")" && pwd)
project=$(dirname "$here")
root=${prefix%/}
live=0
[ -z "$prefix" ] && live=1
python=${PYTHON:-python3}

say() { echo "install.sh: $*"; }
fail() { echo "install.sh: error: $*" >&2; exit 2; }

if [ $live = 1 ] && [ "$(id -u)" != 0 ]; then
    fail "run it as root (sudo), or with --prefix DIR for a test tree"
fi
if [ -n "$prefix" ]; then
    mkdir -p "$prefix"
    root=$(cd "$prefix" && pwd)
fi

if [ -z "$model" ]; then
    if [ $live = 1 ] && [ -r /proc/device-tree/model ]; then
        model=$(tr -d '\0' </proc/device-tree/model | sed -n 's/^Raspberry Pi \([0-9]\).*/\1/p')
    fi
    model=${model:-none}
fi
case "$model" in
    3|4) extra=pi ;;
    5) extra=pi5 ;;
    none) extra="" ;;
    *) fail "--pi-model: expected 3, 4, 5 or none, got $model" ;;
esac
if [ -z "$board" ]; then
    if [ "$model" = none ]; then board=bench-sim; else board=pi-relay-hat; fi
fi
[ -f "$project/board/boards/$board.toml" ] || fail "--board: no bundled board $board"

if [ $live = 1 ]; then
    # gcc and the headers build RPi.GPIO's wheel when a bundle is made here
    apt-get install -y --no-install-recommends python3-venv python3-dev gcc i2c-tools >/dev/null
fi
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || fail "$python is older than Python 3.11"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -z "$bundle" ]; then
    say "building a bundle from $project"
    bundle=$("$python" "$here/make_bundle.py" --project "$project" --out "$work" \
        ${extra:+--extra "$extra"} | head -n 1)
fi
[ -f "$bundle" ] || fail "--bundle: $bundle not found"

# --- extract and check the bundle (stdlib only: the system Python has nothing else) -------
mkdir -p "$work/bundle"
tar -xf "$bundle" -C "$work/bundle"
version=$("$python" - "$work/bundle" <<'PY'
import hashlib, json, pathlib, sys
base = pathlib.Path(sys.argv[1])
manifest = json.loads((base / "manifest.json").read_text())
if manifest.get("format") != 1 or manifest.get("name") != "pievse":
    sys.exit("install.sh: error: not a pievse bundle")
for name, digest in manifest["files"].items():
    if hashlib.sha256((base / name).read_bytes()).hexdigest() != digest:
        sys.exit(f"install.sh: error: {name} does not match the bundle's manifest")
extras = ",".join(manifest.get("extras", []))
print(manifest["version"], f"pievse[{extras}]" if extras else "pievse")
PY
)
read -r version requirement <<<"$version"

# --- the boot configuration: I2C, UART, hardware PWM ---------------------------------------
ensure_line() {
    mkdir -p "$(dirname "$1")"
    touch "$1"
    grep -qxF "$2" "$1" || echo "$2" >>"$1"
}
for line in dtparam=i2c_arm=on enable_uart=1 dtoverlay=pwm-2chan; do
    ensure_line "$root/boot/firmware/config.txt" "$line"
done
ensure_line "$root/etc/modules" i2c-dev

# --- the service user -----------------------------------------------------------------------
if [ $live = 1 ]; then
    getent passwd pievse >/dev/null \
        || useradd --system --home-dir /var/lib/pievse --shell /usr/sbin/nologin pievse
    for group in gpio i2c dialout; do
        if getent group "$group" >/dev/null; then usermod -aG "$group" pievse; fi
    done
fi

# --- directories and the release ------------------------------------------------------------
install -d -m 0755 "$root/opt/pievse/releases" "$root/etc/pievse"
install -d -m 0750 "$root/var/lib/pievse"
release="$root/opt/pievse/releases/$version"
if [ ! -f "$release/.complete" ]; then
    say "installing release $version"
    rm -rf "$release"
    mkdir -p "$release"
    "$python" -m venv "$release/venv"
    "$release/venv/bin/python" -m pip install --quiet --no-index --no-cache-dir \
        --find-links "$work/bundle/wheels" "$requirement==$version"
    if [ -n "$extra" ] && [ "$requirement" = pievse ]; then
        say "warning: the bundle has no '$extra' wheels (make_bundle.py --extra $extra); GPIO will not work"
    fi
    # Bytecode for the unit's PYTHONOPTIMIZE=2, so no start compiles (the firmware updater
    # does the same for the releases it installs).
    "$release/venv/bin/python" -OO -m compileall -q -j 0 "$release/venv/lib" >/dev/null
    "$release/venv/bin/pievse" --version >/dev/null
    echo "$version" >"$release/.complete"
else
    say "release $version is installed already"
fi
current="$root/opt/pievse/current"
if [ "$(readlink "$current" 2>/dev/null)" != "releases/$version" ]; then
    if [ -L "$current" ]; then
        ln -sfn "$(readlink "$current")" "$root/opt/pievse/previous"
    fi
    ln -sfn "releases/$version" "$root/opt/pievse/.current.new"
    mv -T "$root/opt/pievse/.current.new" "$current"
    say "current -> $version"
fi

# --- configuration, unit, rules -------------------------------------------------------------
[ -f "$root/etc/pievse/pievse.toml" ] || install -m 0640 "$here/pievse.example.toml" "$root/etc/pievse/pievse.toml"
[ -f "$root/etc/pievse/board.toml" ] || install -m 0644 "$project/board/boards/$board.toml" "$root/etc/pievse/board.toml"
install -D -m 0644 "$here/pievse.service" "$root/etc/systemd/system/pievse.service"
install -D -m 0644 "$here/pievse-watchdog.conf" "$root/etc/systemd/system.conf.d/pievse-watchdog.conf"
install -D -m 0644 "$here/99-pievse-serial.rules" "$root/etc/udev/rules.d/99-pievse-serial.rules"

if [ $live = 1 ]; then
    chown -R pievse:pievse /opt/pievse /var/lib/pievse
    chown root:pievse /etc/pievse/pievse.toml
    udevadm control --reload-rules || true
    systemctl daemon-reload
    systemctl enable pievse.service >/dev/null
    say "done. Edit /etc/pievse/pievse.toml (CSMS URL, security), reboot once for config.txt,"
    say "then: systemctl start pievse; journalctl -u pievse -f; curl localhost:8080/api/status"
else
    say "done: a test tree under $root (no user, no systemctl)"
fi
