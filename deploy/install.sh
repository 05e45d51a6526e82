#!/usr/bin/env bash
# Installs pievse on Raspberry Pi OS Bookworm (Pi 3, 4 or 5; 64- or 32-bit) or plain Debian 12
# (--pi-model none), or into a test tree (--prefix).
#
#   sudo deploy/install.sh [--bundle FILE] [--pi-model 3|4|5|none] [--board NAME]
#        [--manufacturer-root PEM] [--allow-unsigned]
#   deploy/install.sh --prefix DIR [--user NAME] [--bundle FILE] ...   (nothing outside DIR)
#
# Without --bundle it builds one from this checkout first, in a temporary venv of its own
# (needs the network once); with a bundle it installs offline. A bundle with FILE.sig and
# FILE.pem beside it is verified against the provisioned manufacturer root (--manufacturer-root,
# else the config's [security] manufacturer_root_certificate); with a root provisioned an
# unsigned bundle is refused unless --allow-unsigned. Every step checks before it acts, so
# running it again changes nothing, and a newer bundle installs beside the old release.
#
# What it does: enables I2C, the UART and the hardware PWM overlay in config.txt; creates the
# pievse user (groups gpio, i2c, dialout); /opt/pievse/releases/<version> with its own venv
# (built as the pievse user, then owned by root), /opt/pievse/current and previous;
# /etc/pievse (config, board file); /var/lib/pievse (data); the systemd unit (Type=notify,
# watchdog), the hardware watchdog, the udev rules.
set -euo pipefail
# The releases and the unit must be readable by the service whatever umask sudo passes on
# (the data directory and the config get their own modes below).
umask 022

usage() {
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
}

prefix=""
bundle=""
model=""
board=""
user=""
trust=""
allow_unsigned=0
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix=${2:?--prefix needs a directory}; shift 2 ;;
        --bundle) bundle=${2:?--bundle needs a file}; shift 2 ;;
        --pi-model) model=${2:?--pi-model needs 3, 4, 5 or none}; shift 2 ;;
        --board) board=${2:?--board needs a bundled board name}; shift 2 ;;
        --user) user=${2:?--user needs a user name}; shift 2 ;;
        --manufacturer-root) trust=${2:?--manufacturer-root needs a PEM file}; shift 2 ;;
        --allow-unsigned) allow_unsigned=1; shift ;;
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
release_pattern='^[0-9][0-9A-Za-z.+!_-]{0,63}$'

say() { echo "install.sh: $*"; }
warn() { echo "install.sh: WARNING: $*" >&2; }
fail() { echo "install.sh: error: $*" >&2; exit 2; }
need() { command -v "$1" >/dev/null 2>&1 || fail "$1 is missing (apt-get install $2)"; }

if [ $live = 1 ] && [ "$(id -u)" != 0 ]; then
    fail "run it as root (sudo deploy/install.sh), or with --prefix DIR for a test tree"
fi
if [ $live = 1 ]; then
    [ -z "$user" ] || fail "--user goes with --prefix (a box always runs as pievse)"
    user=pievse
elif [ -n "$user" ] && [ "$(id -u)" != 0 ]; then
    fail "--user $user: only root can run the install steps as another user"
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
[ -z "$bundle" ] || [ -f "$bundle" ] || fail "--bundle: $bundle not found"

# --- what the steps need: one line naming the first thing missing ------------------------
if [ $live = 1 ]; then
    # gcc, the headers and libffi build what has no wheel for this Pi (the bundle says which)
    apt-get install -y --no-install-recommends python3 python3-venv python3-dev gcc \
        libffi-dev i2c-tools openssl >/dev/null 2>&1 \
        || fail "apt-get could not install python3-venv python3-dev gcc libffi-dev i2c-tools openssl (apt-get update first? network?)"
fi
need "$python" python3
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || fail "$python is older than Python 3.11 (Bookworm's python3 is 3.11)"
"$python" -c 'import ensurepip, venv' 2>/dev/null \
    || fail "the venv module of $python is missing (apt-get install python3-venv)"
if [ -n "$user" ]; then
    need runuser util-linux
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The service user reads the bundle's wheels from here; nobody else writes to it.
chmod 0755 "$work"

# --- the service user: every step that runs code from the bundle or the checkout runs as it
if [ $live = 1 ]; then
    getent passwd pievse >/dev/null \
        || useradd --system --home-dir /var/lib/pievse --shell /usr/sbin/nologin pievse
    for group in gpio i2c dialout; do
        if getent group "$group" >/dev/null; then usermod -aG "$group" pievse; fi
    done
fi
as_user() {
    if [ -n "$user" ]; then
        runuser -u "$user" -- env HOME="$work/home" "$@"
    else
        "$@"
    fi
}
mkdir -p "$work/home"
[ -z "$user" ] || chown "$user" "$work/home"

# --- a bundle made here from this checkout ------------------------------------------------
if [ -z "$bundle" ]; then
    say "building a bundle from $project (in a temporary venv; needs the network once)"
    build="$work/build"
    mkdir -p "$build/src" "$build/out"
    tar -C "$project" --exclude=./.git --exclude=./.venv --exclude=./build --exclude=./dist \
        --exclude='*.egg-info' --exclude=__pycache__ -cf - . | tar -C "$build/src" -xf -
    [ -z "$user" ] || chown -R "$user" "$build"
    as_user "$python" -m venv "$build/venv" >"$work/venv.log" 2>&1 \
        || fail "$python could not make a venv: $(tail -n 1 "$work/venv.log")"
    as_user "$build/venv/bin/python" "$build/src/deploy/make_bundle.py" --project "$build/src" \
        --out "$build/out" ${extra:+--extra "$extra"} >"$work/made" 2>"$work/make.log" \
        || fail "building the bundle failed: $(tail -n 1 "$work/make.log")"
    bundle=$(head -n 1 "$work/made")
    say "built here from the checkout: no signature to check"
    signed_here=1
else
    signed_here=0
fi

# --- the bundle's signature, on private copies (checked and installed from the same bytes)
cp "$bundle" "$work/release.bundle"
if [ $signed_here = 0 ]; then
    if [ -z "$trust" ] && [ -f "$root/etc/pievse/pievse.toml" ]; then
        trust=$("$python" - "$root/etc/pievse/pievse.toml" <<'PY'
import sys, tomllib
try:
    with open(sys.argv[1], "rb") as f:
        print(tomllib.load(f).get("security", {}).get("manufacturer_root_certificate", ""))
except (OSError, tomllib.TOMLDecodeError) as exc:
    sys.exit(f"install.sh: error: {sys.argv[1]}: {exc}")
PY
) || exit 2
        case "$trust" in
            "") ;;
            /*) trust="$root$trust" ;;
            *) trust="$root/etc/pievse/$trust" ;;
        esac
    fi
    [ -z "$trust" ] || [ -f "$trust" ] || fail "manufacturer root $trust not found"
    if [ -f "$bundle.sig" ] && [ -f "$bundle.pem" ]; then
        cp "$bundle.sig" "$work/release.sig"
        cp "$bundle.pem" "$work/release.pem"
        if [ -n "$trust" ]; then
            need openssl openssl
            openssl verify -CAfile "$trust" -untrusted "$work/release.pem" "$work/release.pem" \
                >/dev/null 2>"$work/verify.log" \
                || fail "$bundle.pem does not lead to the manufacturer root $trust: $(grep -m1 'error' "$work/verify.log")"
            openssl x509 -in "$work/release.pem" -noout -ext extendedKeyUsage 2>/dev/null \
                | grep -q "Code Signing" \
                || fail "$bundle.pem is not a code-signing certificate"
            openssl x509 -in "$work/release.pem" -noout -pubkey >"$work/signer.pub"
            base64 -d <"$work/release.sig" >"$work/signature" 2>/dev/null \
                || fail "$bundle.sig is not base64"
            openssl dgst -sha256 -verify "$work/signer.pub" -signature "$work/signature" \
                "$work/release.bundle" >/dev/null 2>&1 \
                || fail "$bundle: the signature $bundle.sig does not match it"
            say "signature verified: $bundle.pem under the manufacturer root $trust"
        else
            warn "no manufacturer root is provisioned (--manufacturer-root, or [security] manufacturer_root_certificate): the signature of $bundle is NOT checked"
        fi
    elif [ -n "$trust" ] && [ $allow_unsigned = 0 ]; then
        fail "$bundle is not signed ($bundle.sig and .pem missing) and a manufacturer root is provisioned; --allow-unsigned installs it anyway"
    else
        warn "$bundle is NOT signed: nothing shows who made it; install only bundles you built"
    fi
fi

# --- extract and check the bundle with this checkout's own checker (standard library only) -
mkdir -p "$work/bundle"
checked=$("$python" - "$project/firmware/updates/release_bundle.py" "$work/release.bundle" \
    "$work/bundle" <<'PY'
import importlib.util, pathlib, sys
spec = importlib.util.spec_from_file_location("release_bundle", sys.argv[1])
bundle_format = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = bundle_format
spec.loader.exec_module(bundle_format)
try:
    manifest = bundle_format.extract(pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3]))
except bundle_format.BundleError as exc:
    sys.exit(f"install.sh: error: the bundle is refused: {exc}")
print(manifest.version, manifest.requirement)
PY
) || exit 2
read -r version requirement <<<"$checked"
[[ $version =~ $release_pattern ]] || fail "the bundle's version $version is not a release version"
chmod -R a+rX "$work/bundle"

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

# --- directories and the release ------------------------------------------------------------
install -d -m 0755 "$root/opt/pievse/releases" "$root/etc/pievse"
install -d -m 0750 "$root/var/lib/pievse"
release="$root/opt/pievse/releases/$version"
if [ ! -f "$release/.complete" ]; then
    say "installing release $version"
    rm -rf "$release"
    mkdir -p "$release"
    [ -z "$user" ] || chown "$user" "$release"
    as_user "$python" -m venv "$release/venv" >"$work/install.log" 2>&1 \
        || fail "$python could not make the release's venv: $(tail -n 1 "$work/install.log")"
    as_user "$release/venv/bin/python" -m pip install --quiet --no-index --no-cache-dir \
        --find-links "$work/bundle/wheels" "$requirement" >"$work/install.log" 2>&1 \
        || fail "installing $requirement from the bundle failed: $(tail -n 1 "$work/install.log")"
    if [ -n "$extra" ] && [[ $requirement != *"[$extra]"* ]]; then
        warn "the bundle has no '$extra' wheels (make_bundle.py --extra $extra); GPIO will not work"
    fi
    # Bytecode for the unit's PYTHONOPTIMIZE=2, so no start compiles (the firmware updater
    # does the same for the releases it installs).
    as_user "$release/venv/bin/python" -OO -m compileall -q -j 0 "$release/venv/lib" >/dev/null
    as_user "$release/venv/bin/pievse" --version >/dev/null 2>"$work/install.log" \
        || fail "release $version does not run: $(tail -n 1 "$work/install.log")"
    echo "$version" >"$release/.complete"
    # What the service runs, the service cannot change (updates install beside it).
    [ $live = 0 ] || chown -R root:root "$release"
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
    # The service installs updates beside the releases and switches the links; the releases
    # themselves stay root's (see the unit's ReadOnlyPaths=).
    chown root:pievse /opt/pievse /opt/pievse/releases
    chmod 0775 /opt/pievse /opt/pievse/releases
    chown -R pievse:pievse /var/lib/pievse
    # The page's settings (PUT /api/settings) write the config file anew and rename it over
    # the old: the directory is the service's to write in, sticky so that it can replace
    # only files it owns (the config, never board.toml).
    chown root:pievse /etc/pievse
    chmod 1770 /etc/pievse
    chown pievse:pievse /etc/pievse/pievse.toml
    chmod 0600 /etc/pievse/pievse.toml
    udevadm control --reload-rules || true
    systemctl daemon-reload
    systemctl enable pievse.service >/dev/null
    say "done in ${SECONDS} s. Edit /etc/pievse/pievse.toml (CSMS URL, security), reboot once"
    say "for config.txt, then: systemctl start pievse; journalctl -u pievse -f"
else
    say "done in ${SECONDS} s: a test tree under $root (no user, no systemctl)"
fi
