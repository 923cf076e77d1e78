#!/usr/bin/env bash
# The Linux bundle, end to end: build the .deb with cargo-packager, check what is in it, install it with
# apt, start the installed `ququ` from PATH on Xvfb and go through it as a user would — the login window
# (with the app icon on it), log in to a server, Settings, About — taking screenshots; then uninstall it.
# Fails on the first thing that is not right.
#
# Needs root (apt-get, dpkg) and Debian's xvfb xdotool x11-utils imagemagick desktop-file-utils appstream,
# installed here if missing, and cargo-packager (`cargo install cargo-packager --locked`, done here if
# missing: a few minutes). The release build of `ququ` is most of the time.
#
# Usage: packaging/deb-smoke.sh [OUT_DIR]   (screenshots and logs land in OUT_DIR, default a temp dir)
# Env:   QUQU_SERVER_BIN, the server to log in to (default: the debug build the
#        tests made, built if missing); CARGO_TARGET_DIR is honoured.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$(mktemp -d)}
WORK=$(mktemp -d)
mkdir -p "$OUT"
cd "$ROOT"

say() { printf '\n--- deb smoke: %s\n' "$*"; }
fail() {
  echo "deb smoke: FAIL: $*"
  [ -n "${DISPLAY:-}" ] && import -window root "$OUT/failure.png" 2>/dev/null || true
  for log in "$OUT"/ququ.log "$OUT"/server.log; do [ -f "$log" ] && { echo "--- tail of $log"; tail -15 "$log"; }; done
  echo "0 passed, 1 failed"
  exit 1
}

# --- tools -------------------------------------------------------------------------------------------
need=()
for pkg in xvfb xdotool x11-utils imagemagick desktop-file-utils appstream; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if ((${#need[@]})); then
  say "apt-get install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
if ! cargo packager --version >/dev/null 2>&1; then
  say "cargo install cargo-packager"
  cargo install cargo-packager --locked
fi

# --- build -------------------------------------------------------------------------------------------
VERSION=$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"]=="ququ"))')
TARGET=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
DEB="$TARGET/release/ququ_${VERSION}_$(dpkg --print-architecture).deb"
rm -f "$DEB"
say "cargo packager --release -f deb"
# The packager runs the configured `cargo build --release -p ququ` first (quick if it is built already).
(cd client-gui && cargo packager --release -f deb) 2>&1 | tee "$OUT/packager.log" || fail "cargo packager"
[ -f "$DEB" ] || fail "no $DEB"
ls -l "$DEB"

# --- what is in it -----------------------------------------------------------------------------------
say "contents"
dpkg-deb --info "$DEB" >"$OUT/deb-info.txt"
dpkg-deb --contents "$DEB" >"$OUT/deb-contents.txt"
grep -q '^ Package: ququ$' "$OUT/deb-info.txt" || fail "package name"
grep -q '^ Depends: .*libxkbcommon-x11-0' "$OUT/deb-info.txt" || fail "dependencies"
has() { grep -Eq " (\./)?$1\$" "$OUT/deb-contents.txt"; }
for path in usr/bin/ququ usr/share/applications/ququ.desktop usr/share/metainfo/io.ququ.Ququ.metainfo.xml; do
  has "$path" || fail "$path is not in the package"
done
for size in 16 24 32 48 64 128 256 512; do
  has "usr/share/icons/hicolor/${size}x${size}/apps/ququ.png" || fail "no ${size}px icon in the package"
done
dpkg-deb --extract "$DEB" "$WORK/root"
desktop-file-validate "$WORK/root/usr/share/applications/ququ.desktop" || fail "the desktop file is invalid"
appstreamcli validate --no-net "$WORK/root/usr/share/metainfo/io.ququ.Ququ.metainfo.xml" >"$OUT/appstream.txt" 2>&1 ||
  { cat "$OUT/appstream.txt"; fail "the AppStream metadata is invalid"; }
echo "ok: binary, desktop file, AppStream metadata, icons 16–512 px; $(grep '^ Installed-Size' "$OUT/deb-info.txt")"

# --- install -----------------------------------------------------------------------------------------
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  if dpkg -s ququ >/dev/null 2>&1; then dpkg -r ququ >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
say "apt-get install $DEB"
if dpkg -s ququ >/dev/null 2>&1; then fail "a ququ package is installed already; remove it first (dpkg -r ququ)"; fi
install_deb() { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$DEB" >"$OUT/install.log" 2>&1; }
# A dependency not on this machine yet (xdg-utils, say) needs apt's package lists: fetch them if that failed.
install_deb || { apt-get update -qq && install_deb; } || { cat "$OUT/install.log"; fail "apt-get install"; }
[ "$(command -v ququ)" = /usr/bin/ququ ] || fail "ququ is not on PATH after installing"

# --- run it ------------------------------------------------------------------------------------------
# shellcheck source=../client-gui/tests/xvfb_lib.sh
source "$ROOT/client-gui/tests/xvfb_lib.sh"
start_xvfb 1280x800 || fail "Xvfb did not start"
say "start the installed ququ on Xvfb $DISPLAY"

wait_title() { # wait_title REGEX: sets WID to the first visible window whose title matches, or fails after 30 s
  for _ in $(seq 150); do
    WID=$(xdotool search --onlyvisible --name "$1" 2>/dev/null | head -1 || true)
    [ -n "$WID" ] && return 0
    sleep 0.2
  done
  fail "no window titled /$1/"
}
click() { xdotool mousemove --window "$1" "$2" "$3"; sleep 0.15; xdotool click 1; sleep 0.4; }

# A server to log in to, with an account made over the plain-text protocol, so the app only has to be
# given the password (the account is remembered in the settings file).
SERVER_BIN=${QUQU_SERVER_BIN:-$TARGET/debug/ququ-server}
[ -x "$SERVER_BIN" ] || cargo build -p ququ-server
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$SERVER_BIN" --listen "127.0.0.1:$PORT" --data-dir "$WORK/server" >"$OUT/server.log" 2>&1 &
PIDS+=($!)
python3 - "$PORT" <<'PY' || fail "could not register an account: $(tail -3 "$OUT/server.log")"
import socket, sys, time
for _ in range(100):
    try:
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("the server is not listening")
s.sendall(b"RESIGER:dora:secret-dora\n")
reply = s.makefile().readline().strip()
sys.exit(0 if reply == "RESIGER:true:dora" else f"registration refused: {reply}")
PY

HOME_DIR="$WORK/home"
mkdir -p "$HOME_DIR"
printf '{"server":"127.0.0.1:%s","last_account":"dora","lang":"En","theme":"Light"}' "$PORT" >"$HOME_DIR/gui.json"
(cd "$WORK" && QUQU_HOME="$HOME_DIR" ICED_BACKEND=tiny-skia exec ququ) >"$OUT/ququ.log" 2>&1 &
APP=$!
PIDS+=($APP)

wait_title '^Ququ$'
LOGIN=$WID
sleep 1.5
kill -0 "$APP" 2>/dev/null || fail "ququ exited: $(tail -5 "$OUT/ququ.log")"
xprop -id "$LOGIN" WM_CLASS | grep -q '"ququ"' || fail "WM_CLASS is not ququ: $(xprop -id "$LOGIN" WM_CLASS)"
has_icon() { # has_icon WINDOW: its _NET_WM_ICON is 256×256 and not blank
  xprop -id "$1" -notype 32c _NET_WM_ICON | python3 -c '
import sys
v = sys.stdin.read().partition("=")[2].split(",")
sys.exit(0 if len(v) > 1000 and [x.strip() for x in v[:2]] == ["256", "256"] and len(set(v[2:])) > 50 else 1)'
}
has_icon "$LOGIN" || fail "no app icon on the login window"
echo "ok: the login window has class ququ and the 256 px app icon"
import -window root "$OUT/deb-1-login.png"

# The password field, second under the header, as client-gui/tests/xvfb_smoke.sh clicks it; Enter logs in.
click "$LOGIN" 190 232
xdotool windowfocus --sync "$LOGIN" type --delay 15 "secret-dora"
xdotool windowfocus --sync "$LOGIN" key Return
wait_title '^Ququ - dora$'
MAIN=$WID
sleep 1
echo "ok: logged in; the main window is open"
import -window root "$OUT/deb-2-main.png"

# Settings (the gear on the header), then About.
click "$MAIN" 290 40
sleep 0.5
import -window root "$OUT/deb-3-settings.png"
# "About Ququ" is the link beside the red Log out button, whose row depends on what the dialog holds
# above it (here, with no desktop session bus, a line saying notifications cannot be shown): find the
# button's red in the window and click the link on its row.
import -window "$MAIN" "$OUT/deb-3-settings-window.png"
box=$(convert "$OUT/deb-3-settings-window.png" -fuzz 12% -fill black +opaque 'srgb(245,72,74)' \
  -format '%@' info:)
[[ "$box" =~ ^([0-9]+)x([0-9]+)\+([0-9]+)\+([0-9]+)$ ]] || fail "no Log out button in Settings ($box)"
click "$MAIN" 190 $((BASH_REMATCH[4] + BASH_REMATCH[2] / 2))
wait_title '^About Ququ$'
ABOUT=$WID
xdotool windowmove "$ABOUT" 420 0
sleep 1
import -window root "$OUT/deb-4-about.png"
has_icon "$ABOUT" || fail "no app icon on the About window"
echo "ok: the About window is open, with the app icon"

# --- uninstall ---------------------------------------------------------------------------------------
kill "$APP"
wait "$APP" 2>/dev/null || true
say "dpkg -r ququ"
dpkg -r ququ >"$OUT/remove.log" 2>&1 || { cat "$OUT/remove.log"; fail "dpkg -r"; }
[ ! -e /usr/bin/ququ ] || fail "/usr/bin/ququ is still there after removing the package"

echo "deb smoke: $DEB built, installed, ran and was removed; screenshots in $OUT"
echo "1 passed, 0 failed"
