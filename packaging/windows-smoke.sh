#!/usr/bin/env bash
# Windows, checked on Linux: cross-build the three programs for x86_64-pc-windows-gnu with mingw-w64, then
# run them under Wine against their Linux counterparts, as a user would:
#   1. ququ-server.exe serves; the Linux client (the client crate's integration tests, pointed at it with
#      QUQU_TEST_SERVER_CMD) registers, logs in, befriends, chats in private and in a group, and sends files
#      through it, and the Linux ququ-term does the same from its command line.
#   2. ququ-term.exe (the same term tests with QUQU_TERM_CMD) logs in to the Linux ququ-server, chats, and
#      sends and fetches files.
#   3. ququ.exe opens on Xvfb, logs in to the Linux ququ-server and shows the friend list; the settings
#      button shows its gear (an icon shipped with the app, not a system font) and opens Settings; its
#      tray icon is in Wine's notification area, in its online look, and gets its red dot when a friend
#      writes.
#      Screenshots are kept in OUT_DIR.
#   4. The protocol crate's tests run as a Windows program (CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER).
# The builds are debug builds (dependencies at opt-level 2, see Cargo.toml): a release cross-build of the
# app with LTO is several times slower on this 2-core machine, and the code paths are the same.
# A build warning or a clippy warning for Windows fails the stage, as `-D warnings` does for Linux.
#
# Needs root for apt-get: mingw-w64, wine64 and the X libraries Wine loads, Xvfb and xdotool (installed here
# if missing). Wine 8.0 lacks bcryptprimitives.dll, which every Rust program needs at start-up: the test
# prefix gets a stand-in built from packaging/windows/bcryptprimitives.c (a fixture, never shipped).
#
# Usage: packaging/windows-smoke.sh [OUT_DIR]   (default: <target dir>/ci-artifacts/windows)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
TRIPLE=x86_64-pc-windows-gnu
TARGET=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
OUT=${1:-$TARGET/ci-artifacts/windows}
WIN=$TARGET/$TRIPLE/debug
LINUX=$TARGET/debug
mkdir -p "$OUT"
rm -f "$OUT"/*.png "$OUT"/*.log
START=$(date +%s)

say() { printf '\n--- windows smoke: %s (%ss)\n' "$*" "$(($(date +%s) - START))"; }
fail() {
  echo "windows smoke: FAIL: $*"
  [ -n "${DISPLAY:-}" ] && import -window root "$OUT/failure.png" 2>/dev/null || true
  for log in "$OUT"/ququ.log "$OUT"/server.log; do [ -f "$log" ] && { echo "--- tail of $log"; tail -15 "$log"; }; done
  echo "0 passed, 1 failed"
  exit 1
}

# --- tools -------------------------------------------------------------------------------------------
need=()
for pkg in gcc-mingw-w64-x86-64 wine64 libxrender1 libxrandr2 libxi6 libxcursor1 libxcomposite1 \
  libxinerama1 libxxf86vm1 libxfixes3 libxext6 xvfb xdotool x11-utils imagemagick; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if ((${#need[@]})); then
  say "apt-get install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
rustup target list --installed | grep -qx "$TRIPLE" || rustup target add "$TRIPLE"
# Debian's wine64 puts the loader here and no `wine` on PATH (that is the separate `wine` package).
WINE=$(command -v wine64 || command -v wine || echo /usr/lib/wine/wine64)
WINESERVER=$(command -v wineserver || echo /usr/lib/wine/wineserver)
[ -x "$WINE" ] || fail "no wine64"

# --- build -------------------------------------------------------------------------------------------
# The linker comes from .cargo/config.toml (x86_64-w64-mingw32-gcc).
say "cargo build --target $TRIPLE (ququ, ququ-server, ququ-term)"
cargo build --target "$TRIPLE" -p ququ -p ququ-server -p ququ-client --bins 2>&1 | tee "$OUT/build.log" ||
  fail "the Windows build failed"
# Cargo replays the warnings of our own crates even when nothing was rebuilt; dependencies' are capped.
if grep -q '^warning' "$OUT/build.log"; then
  grep -A8 '^warning' "$OUT/build.log" | head -40
  fail "the Windows build has warnings"
fi
for exe in ququ ququ-server ququ-term; do [ -f "$WIN/$exe.exe" ] || fail "no $WIN/$exe.exe"; done
# Clippy sees the cfg(windows) code that the Linux pass in .ci/run never compiles (about 3 minutes cold).
say "cargo clippy --target $TRIPLE -- -D warnings"
cargo clippy --target "$TRIPLE" -p ququ -p ququ-server -p ququ-client --bins -- -D warnings 2>&1 |
  tail -3 || fail "clippy for Windows"
ls -l "$WIN"/ququ.exe "$WIN"/ququ-server.exe "$WIN"/ququ-term.exe

# The Linux side: its server and the client's integration tests, as `cargo test --workspace` built them.
# The same package selection finds them built; `-p ququ-client` alone unifies features differently and
# compiled a second copy of every dependency (3.5 min and gigabytes of disk, on a disk CI once filled).
say "cargo test --workspace --no-run (Linux): ququ-server, the client's tests"
cargo test --workspace --no-run --message-format=json >"$OUT/linux-tests.json" 2>"$OUT/linux-tests.log" ||
  { tail -30 "$OUT/linux-tests.log"; df -h "$TARGET"; fail "the Linux tests do not build"; }
[ -x "$LINUX/ququ-server" ] || fail "no $LINUX/ququ-server"
CLIENT_TESTS=$(python3 - "$OUT/linux-tests.json" <<'PY'
import json, sys
found = {}
for line in open(sys.argv[1]):
    m = json.loads(line)
    t = m.get("target", {})
    if m.get("reason") == "compiler-artifact" and m.get("executable") and "test" in t.get("kind", []) \
            and "/client/tests/" in t.get("src_path", ""):
        found[t["name"]] = m["executable"]
names = ["with_server", "files", "term"]
missing = [n for n in names if n not in found]
if missing:
    sys.exit(f"client test executables not built: {missing}")
print(" ".join(found[n] for n in names))
PY
) || fail "finding the client's test executables"
# client_tests NAME...: the client's integration tests that match NAME exactly, run as `cargo test` would
# (from the crate's directory), without asking cargo, which might decide to rebuild.
client_tests() {
  local exe
  for exe in $CLIENT_TESTS; do (cd "$ROOT/client" && "$exe" --exact "$@") || return 1; done
}

# --- Wine --------------------------------------------------------------------------------------------
PIDS=()
cleanup() {
  [ -n "${WINEPREFIX:-}" ] && "$WINESERVER" -k 2>/dev/null || true
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
# shellcheck source=../client-gui/tests/xvfb_lib.sh
source "$ROOT/client-gui/tests/xvfb_lib.sh"
# Wine's windows connect to the display the wineserver started with, so DISPLAY comes first.
start_xvfb 1280x800 || fail "Xvfb did not start"
export WINEPREFIX=$TARGET/wine-prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
if [ ! -f "$WINEPREFIX/system.reg" ]; then
  say "wineboot (a new prefix in $WINEPREFIX)"
  "$WINE" wineboot -i >"$OUT/wineboot.log" 2>&1 || { cat "$OUT/wineboot.log"; fail "wineboot"; }
fi
# A persistent wineserver, so each program below starts in about a second. It exits 2 when one is running
# for this prefix already (wineboot's, say), which is as good.
"$WINESERVER" -p || true
x86_64-w64-mingw32-gcc -shared -O2 -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" \
  packaging/windows/bcryptprimitives.c -ladvapi32 || fail "building the ProcessPrng stand-in"
for exe in ququ-server ququ-term; do
  "$WINE" "$WIN/$exe.exe" --version >"$OUT/version.log" 2>&1 ||
    { cat "$OUT/version.log"; fail "$exe.exe --version under Wine"; }
  echo "ok: $(tr -d '\r' <"$OUT/version.log") runs under Wine"
done

# --- 1. the Windows server, Linux clients -----------------------------------------------------------
say "ququ-server.exe under Wine, the Linux client and ququ-term"
QUQU_TEST_SERVER_CMD="$WINE $WIN/ququ-server.exe" client_tests \
  two_friends_chat_and_a_third_user_sees_the_group \
  a_few_megabytes_arrive_byte_identical \
  broken_data_connections_resume_where_they_stopped \
  the_terminal_client_logs_in_sends_and_receives \
  the_terminal_client_sends_and_gets_files 2>&1 | tee "$OUT/server-exe.log" | grep -E '^test |test result|panicked' ||
  fail "the Linux client against ququ-server.exe (see $OUT/server-exe.log)"
# Five tests, all of them: a filter that matched nothing would pass silently.
[ "$(grep -c '^test .* ok$' "$OUT/server-exe.log")" = 5 ] || fail "not all 5 tests ran against ququ-server.exe"

# --- 2. the Windows terminal client, the Linux server ------------------------------------------------
say "ququ-term.exe under Wine, the Linux ququ-server"
QUQU_TERM_CMD="$WINE $WIN/ququ-term.exe" QUQU_TEST_SERVER_CMD="$LINUX/ququ-server" client_tests \
  the_terminal_client_logs_in_sends_and_receives \
  the_terminal_client_reports_a_wrong_password_and_exits \
  the_terminal_client_sends_and_gets_files 2>&1 | tee "$OUT/term-exe.log" | grep -E '^test |test result|panicked' ||
  fail "ququ-term.exe against the Linux server (see $OUT/term-exe.log)"
[ "$(grep -c '^test .* ok$' "$OUT/term-exe.log")" = 3 ] || fail "not all 3 ququ-term.exe tests ran"

# --- 3. the Windows app, the Linux server ------------------------------------------------------------
say "ququ.exe under Wine on Xvfb $DISPLAY, the Linux ququ-server"
WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$LINUX/ququ-server" --listen "127.0.0.1:$PORT" --data-dir "$WORK/server" >"$OUT/server.log" 2>&1 &
PIDS+=($!)
# dora (who logs in from the app) and her friend eve, made over the plain-text protocol (docs/protocol.md).
python3 - "$PORT" <<'PY' || fail "could not set up the accounts: $(tail -3 "$OUT/server.log")"
import socket, sys, time

def connect():
    for _ in range(100):
        try:
            return socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
        except OSError:
            time.sleep(0.1)
    sys.exit("the server is not listening")

def session(account):
    s = connect()
    f = s.makefile("rb")
    def send(line):
        s.sendall(line.encode() + b"\n")
    def until(prefix):
        while True:
            line = f.readline().decode().rstrip("\n")
            if not line:
                sys.exit(f"{account}: connection closed waiting for {prefix}")
            if line.startswith("ERROR:"):
                sys.exit(f"{account}: {line}")
            if line.startswith(prefix):
                return line
    send(f"RESIGER:{account}:secret-{account}")
    if until("RESIGER:") != f"RESIGER:true:{account}":
        sys.exit(f"registration of {account} refused")
    return s, send, until

def login(account, send, until):
    send(f"LOGIN:{account}:secret-{account}")
    if not until("LOGIN:").startswith("LOGIN:true:"):
        sys.exit(f"{account} could not log in")

eve, dora = session("eve"), session("dora")
login("eve", *eve[1:])
eve[1]("ADD_FRIEND:dora:hi, it's eve")
eve[2]("REQUEST_SENT:dora")
login("dora", *dora[1:])
dora[1]("ADD_FRIEND:eve")  # accepts eve's request
dora[2]("FRIEND:eve:")
dora[0].close()
eve[0].close()
PY

HOME_DIR="$WORK/home"
mkdir -p "$HOME_DIR"
printf '{"server":"127.0.0.1:%s","last_account":"dora","lang":"En","theme":"Light"}' "$PORT" >"$HOME_DIR/gui.json"
# The Unix paths are valid Windows paths under Wine: a program started from a Unix directory runs on the
# drive Z: that maps /, so /tmp/x is Z:\tmp\x.
(cd "$WORK" && QUQU_HOME="$HOME_DIR" ICED_BACKEND=tiny-skia exec "$WINE" "$WIN/ququ.exe") >"$OUT/ququ.log" 2>&1 &
APP=$!
PIDS+=($APP)

wait_title() { # wait_title REGEX: sets WID to the first visible window whose title matches, or fails after 60 s
  for _ in $(seq 300); do
    WID=$(xdotool search --onlyvisible --name "$1" 2>/dev/null | head -1 || true)
    [ -n "$WID" ] && return 0
    sleep 0.2
  done
  fail "no window titled /$1/"
}
click() { xdotool mousemove --window "$1" "$2" "$3"; sleep 0.2; xdotool click 1; sleep 0.5; }

wait_title '^Ququ$'
LOGIN=$WID
sleep 2
kill -0 "$APP" 2>/dev/null || fail "ququ.exe exited: $(tail -5 "$OUT/ququ.log")"
import -window root "$OUT/win-1-login.png"
echo "ok: the login window opened"

# The password field, second under the header (as client-gui/tests/xvfb_smoke.sh clicks it); Enter logs in.
click "$LOGIN" 190 232
xdotool type --delay 30 "secret-dora"
xdotool key Return
wait_title '^Ququ - dora$'
MAIN=$WID
sleep 2
import -window root "$OUT/win-2-main.png"
import -window "$MAIN" "$OUT/win-2-main-window.png"
echo "ok: logged in; the main window is open"

# What the user sees, checked on the pixels of the main window:
#  - the settings button (32 px wide, right end of the header's top row) draws its white gear: with the
#    glyph missing from the font it was a blank patch of the header's blue;
#  - eve's row in the friend list, below the tabs, has her avatar and name: not the list's plain background.
W=$(identify -format '%w' "$OUT/win-2-main-window.png")
white_pixels() { # white_pixels GEOMETRY: near-white pixels in that part of the main window
  convert "$OUT/win-2-main-window.png" -crop "$1" +repage -fuzz 12% -fill black +opaque white \
    -format '%[fx:round(mean*w*h)]' info:
}
gear=$(white_pixels "24x24+$((W - 42))+28")
echo "settings button: $gear white pixels"
((gear > 40)) || fail "the settings button has no gear ($gear white pixels)"
colours=$(convert "$OUT/win-2-main-window.png" -crop "$((W - 20))x44+10+190" +repage -colors 64 -unique-colors -format '%w' info:)
echo "first friend row: $colours colours"
((colours > 8)) || fail "the friend list is empty ($colours colours where eve's row should be)"

# The gear opens Settings, whose red "Log out" button is the only red on the window.
click "$MAIN" $((W - 30)) 40
sleep 1.5
import -window root "$OUT/win-3-settings.png"
import -window "$MAIN" "$OUT/win-3-settings-window.png"
red=$(convert "$OUT/win-3-settings-window.png" -fuzz 12% -fill black +opaque 'srgb(245,72,74)' \
  -fill white +opaque black -format '%[fx:round(mean*w*h)]' info:)
((red > 300)) || fail "the settings button did not open Settings ($red red pixels)"
echo "ok: the gear opens Settings"

# The tray icon (client-gui/src/tray/windows.rs). With no tray on the X side, Wine shows the notification
# area as a small window of its own, "Wine System Tray", which exists only once a program has added an
# icon: the app's icon is in it, blue (its online look; grey before login) now that dora is logged in.
# Raised first, as the app's windows may cover it. Its clicks cannot be checked here: Wine 8's
# Shell_NotifyIconGetRect is a stub, and tray-icon drops a click it cannot place (docs/packaging.md).
TRAY=
for _ in $(seq 50); do
  TRAY=$(xdotool search --onlyvisible --name '^Wine System Tray$' 2>/dev/null | head -1 || true)
  [ -n "$TRAY" ] && break
  sleep 0.2
done
[ -n "$TRAY" ] || fail "no tray icon (Wine shows no notification area)"
xdotool windowraise "$TRAY"
sleep 0.5
import -window "$TRAY" "$OUT/win-4-tray.png"
blue=$(convert "$OUT/win-4-tray.png" -fuzz 20% -fill black +opaque 'srgb(0,150,255)' \
  -fill white +opaque black -format '%[fx:round(mean*w*h)]' info:)
echo "tray: $blue blue pixels"
((blue > 60)) || fail "the tray icon is not in its online look ($blue blue pixels)"
echo "ok: the tray icon is up, in its online look"

# eve writes to dora, whose chat with her is not open: the icon takes its unread look, the red dot.
python3 - "$PORT" <<'PY' || fail "eve could not send dora a message: $(tail -3 "$OUT/server.log")"
import socket, sys

s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
f = s.makefile("rb")
def until(prefix):
    while True:
        line = f.readline().decode().rstrip("\n")
        if not line or line.startswith("ERROR:"):
            sys.exit(f"waiting for {prefix}: {line or 'connection closed'}")
        if line.startswith(prefix):
            return line
s.sendall(b"LOGIN:eve:secret-eve\n")
if not until("LOGIN:").startswith("LOGIN:true:"):
    sys.exit("eve could not log in")
s.sendall(b"MSG:dora:c1:hello from eve\n")
until("ACK:c1:")
s.close()
PY
red=0
for _ in $(seq 25); do
  sleep 0.4
  xdotool windowraise "$TRAY"
  import -window "$TRAY" "$OUT/win-5-tray-unread.png"
  red=$(convert "$OUT/win-5-tray-unread.png" -fuzz 15% -fill black +opaque 'srgb(245,63,63)' \
    -fill white +opaque black -format '%[fx:round(mean*w*h)]' info:)
  ((red > 8)) && break
done
echo "tray: $red red pixels"
((red > 8)) || fail "the tray icon shows no red dot for eve's message ($red red pixels)"
echo "ok: an unread message puts the red dot on the tray icon"

# Notifications (client-gui/src/notify/windows.rs): at start the app registers its name and icon for
# toasts under the user's AppUserModelId key. Wine has no toast service, so the pop-up itself cannot be
# seen here: the app's attempt fails there and its settings say why (docs/packaging.md).
reg=$("$WINE" reg query 'HKCU\Software\Classes\AppUserModelId\Ququ.Messenger' /v DisplayName 2>/dev/null |
  tr -d '\r' || true)
grep -q 'DisplayName.*Ququ' <<<"$reg" || fail "the app did not register itself for toasts: $reg"
echo "ok: the app registered itself for toasts (AppUserModelId Ququ.Messenger)"

kill "$APP" 2>/dev/null || true
wait "$APP" 2>/dev/null || true
rm -rf "$WORK"

# --- 4. the protocol crate's tests as a Windows program -----------------------------------------------
say "cargo test -p ququ-protocol as Windows binaries under Wine"
CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$WINE" cargo test --target "$TRIPLE" -p ququ-protocol 2>&1 |
  tee "$OUT/protocol-tests.log" | grep -E 'test result|panicked|FAILED' || fail "the protocol tests under Wine"

say "done"
echo "windows smoke: 3 programs cross-built and run under Wine; screenshots in $OUT"
echo "1 passed, 0 failed"
