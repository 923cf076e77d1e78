#!/usr/bin/env bash
# Real-window smoke test: two `ququ` processes on one Xvfb display, no window manager.
#
# The first one finds nothing listening at its (local) server address, offers to host a server and does;
# both register through their login windows, become friends, and one double-clicks the other and sends a
# message that must show up (as an unread count in the title, then in the chat window) on the other side;
# then Esc closes a chat window and reopening it brings back the unsent text. Last, a picture on the
# clipboard, pasted with Ctrl+V in Alice's chat, goes to Bob as `Screenshot ….png`, downloads by itself
# into his picture folder, and clicking it there opens the viewer titled with its name.
# Window titles are the observable: they carry the account and the unread count.
#
# Needs: Xvfb xdotool imagemagick xclip (apt-get install xvfb xdotool imagemagick xclip).
# Usage: client-gui/tests/xvfb_smoke.sh [OUT_DIR]   (screenshots land in OUT_DIR, default a temp dir)
# Env:   QUQU_BIN (default: target/debug/ququ, built if missing). The X display is the first free one.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${QUQU_BIN:-$ROOT/target/debug/ququ}
OUT=${1:-$(mktemp -d)}
WORK=$(mktemp -d)
mkdir -p "$OUT"
[ -x "$BIN" ] || (cd "$ROOT" && cargo build -p ququ)

# A free port, so a server already running on 8899 cannot change the test; below the ephemeral range
# (32768+), because a connect to an ephemeral port nothing listens on can be given that same port as its
# own and connect to itself, after which the app cannot listen there ("Address already in use" — seen in
# CI as "no window titled Ququ - alice").
PORT=$(python3 -c '
import random, socket
while True:
    p = random.randint(20000, 32000)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass
')

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# shellcheck source=xvfb_lib.sh
source "$ROOT/client-gui/tests/xvfb_lib.sh"

fail() {
  echo "xvfb smoke: FAIL: $*"
  [ -n "${DISPLAY:-}" ] && import -window root "$OUT/failure.png" 2>/dev/null || true
  # What the apps said is usually the reason (a panic, a display they could not open).
  for log in "$OUT"/*.log; do [ -f "$log" ] && { echo "--- tail of $log"; tail -15 "$log"; }; done
  echo "0 passed, 1 failed"
  exit 1
}
start_xvfb 1400x900 || fail "Xvfb did not start"
# wait_title REGEX: sets WID to the first visible window whose title matches, or fails after 20 s.
# (Not a $(…) function: `fail` must end the script, not a subshell.)
wait_title() {
  for _ in $(seq 100); do
    WID=$(xdotool search --onlyvisible --name "$1" 2>/dev/null | head -1 || true)
    [ -n "$WID" ] && return 0
    sleep 0.2
  done
  fail "no window titled /$1/"
}
# wait_gone REGEX: waits until no visible window's title matches, or fails after 20 s.
wait_gone() {
  for _ in $(seq 100); do
    xdotool search --onlyvisible --name "$1" >/dev/null 2>&1 || return 0
    sleep 0.2
  done
  fail "a window titled /$1/ is still open"
}
# wait_blue WIN X Y WHAT: waits until the window's pixel at X,Y is the app's accent blue (a button or the
# header has been drawn there), or fails after 20 s naming WHAT. A window is mapped, and its title set,
# before its first frame is drawn and before it takes input; on a cold CI machine a click sent in that gap
# can be lost (the login stays a login, so "register" never happens), so each step waits for what it clicks.
wait_blue() {
  for _ in $(seq 100); do
    local rgb
    rgb=$(import -window "$1" -crop "1x1+$2+$3" -depth 8 txt:- 2>/dev/null | grep -o 'srgba\?([0-9,.]*' | head -1 || true)
    if [[ $rgb =~ \(([0-9]+),([0-9]+),([0-9]+) ]] &&
      ((BASH_REMATCH[1] < 80 && BASH_REMATCH[2] > 110 && BASH_REMATCH[3] > 200)); then
      return 0
    fi
    sleep 0.2
  done
  fail "no $4 (nothing blue at $2,$3)"
}
click() { xdotool mousemove --window "$1" "$2" "$3"; sleep 0.15; xdotool click 1; sleep 0.3; }
double_click() { xdotool mousemove --window "$1" "$2" "$3"; sleep 0.15; xdotool click --repeat 2 --delay 80 1; sleep 0.5; }
type_text() { xdotool windowfocus --sync "$1" type --delay 15 "$2"; }
key() { xdotool windowfocus --sync "$1" key "$2"; sleep 0.2; }

start() { # start NAME LANG -> remembers the server and the account in a fresh home, starts the app
  mkdir -p "$WORK/$1"
  printf '{"server":"127.0.0.1:%s","last_account":"%s","lang":null,"theme":"System"}' "$PORT" "$1" >"$WORK/$1/gui.json"
  QUQU_HOME="$WORK/$1" LANG="$2" LANGUAGE="" LC_ALL="$2" ICED_BACKEND=tiny-skia "$BIN" >"$OUT/$1.log" 2>&1 &
  PIDS+=($!)
}

# Login window (380×680): register link, password field, Enter; the host offer's button.
register() { # register WIN PASSWORD
  wait_blue "$1" 190 20 "login window drawn"
  sleep 0.5
  click "$1" 297 456
  wait_blue "$1" 50 466 "Register button"
  click "$1" 190 232
  type_text "$1" "$2"
  key "$1" Return
}

start alice en_US.UTF-8
wait_title '^Ququ$'; A=$WID
register "$A" secret123
wait_blue "$A" 277 610 "offer to host a server"
import -window root "$OUT/01-offer.png"
click "$A" 277 610 # "Host a server here"
wait_title '^Ququ - alice$'; A=$WID

start bob zh_CN.UTF-8
wait_title '^Ququ$'; B=$WID
xdotool windowmove "$B" 420 0
register "$B" secret456
wait_title '^Ququ - bob$'; B=$WID
xdotool windowmove "$B" 420 0
sleep 0.5
import -window root "$OUT/02-both-logged-in.png"

# Bob: "+" on the header, search "alice", add her.
click "$B" 256 40
click "$B" 130 127
type_text "$B" alice
key "$B" Return
sleep 1.5
click "$B" 272 222
sleep 1
import -window root "$OUT/03-request-sent.png"
click "$B" 270 267 # close the dialog

# Alice: open the requests from the footer link, accept.
click "$A" 66 640
sleep 0.5
import -window root "$OUT/04-requests.png"
click "$A" 262 166
sleep 1.5
import -window root "$OUT/05-friends.png"

# Alice double-clicks Bob (first row of the list) and sends a message; Enter sends.
double_click "$A" 120 210
wait_title '^bob - Ququ$'; C=$WID
xdotool windowmove "$C" 760 0
sleep 0.3
type_text "$C" "Hello Bob, 你好"
key "$C" Return
sleep 1
# Bob's title shows the unread count; his double-click opens the chat with the message in it.
wait_title '^\(1\) Ququ - bob$'
double_click "$B" 120 210
wait_title '^alice - Ququ$'; D=$WID
xdotool windowmove "$D" 0 300
sleep 1
import -window root "$OUT/06-chatting.png"
wait_title '^Ququ - bob$' # read: the unread count is gone

# Esc closes Alice's chat window (her friend list stays), and what she had typed comes back with it.
type_text "$C" "draft 草稿"
key "$C" Escape
wait_gone '^bob - Ququ$'
wait_title '^Ququ - alice$'
double_click "$A" 120 210
wait_title '^bob - Ququ$'; C=$WID
xdotool windowmove "$C" 760 0
sleep 1
import -window root "$OUT/07-draft-kept.png"

# A picture on the clipboard (offered by xclip, as a screenshot tool would), Ctrl+V in Alice's chat.
convert -size 320x200 gradient:'#1296db-#ffd166' "$WORK/shot.png"
xclip -quiet -selection clipboard -t image/png -i "$WORK/shot.png" &
PIDS+=($!)
sleep 0.5
key "$C" ctrl+v
for _ in $(seq 100); do
  ls "$WORK"/bob/pictures/bob/Screenshot*.png >/dev/null 2>&1 && break
  sleep 0.2
done
ls "$WORK"/bob/pictures/bob/Screenshot*.png >/dev/null 2>&1 || fail "the pasted picture did not reach Bob's picture folder"
sleep 1
import -window root "$OUT/08-picture-pasted.png"
# Bob clicks the picture (the newest bubble, just above the toolbar): the viewer opens, titled with its
# name, and Esc closes it.
click "$D" 210 215
wait_title '^Screenshot .*\.png$'; V=$WID
sleep 1
import -window root "$OUT/09-viewer.png"
key "$V" Escape
wait_gone '^Screenshot .*\.png$'
# Text on the clipboard pastes as text, as before (and sends no picture): looked at in 10-text-pasted.
printf '粘贴 pasted' | xclip -quiet -selection clipboard -i &
PIDS+=($!)
sleep 0.5
key "$C" ctrl+v
sleep 1
import -window root "$OUT/10-text-pasted.png"
[ "$(ls "$WORK"/bob/pictures/bob/ | wc -l)" = 1 ] || fail "pasting text sent a picture"

# A draft longer than the input box (issue 24): it scrolls by whole lines, and what tiny-skia drew while
# typing is what a full redraw draws. (Half a line scrolled above the text area used to be painted over
# and over into the box's padding, bold, and left there.) The box loses focus first, so no caret blinks
# between the two pictures; resizing the window makes iced redraw all of it.
key "$C" ctrl+a
key "$C" BackSpace
for n in one two three four five six; do
  type_text "$C" "line $n of a long draft"
  key "$C" shift+Return
done
type_text "$C" "the last line"
click "$C" 320 200
sleep 0.5
import -window "$C" "$OUT/11-long-draft.png"
read -r CW CH < <(xdotool getwindowgeometry --shell "$C" | awk -F= '/WIDTH|HEIGHT/ {print $2}' | xargs)
xdotool windowsize "$C" $((CW + 1)) "$CH"
sleep 0.5
xdotool windowsize "$C" "$CW" "$CH"
sleep 1
import -window "$C" "$OUT/12-long-draft-redrawn.png"
# The input box: from below the toolbar to above the Send button.
box="$((CW - 20))x130+10+$((CH - 180))"
convert "$OUT/11-long-draft.png" -crop "$box" +repage "$WORK/typed.png"
convert "$OUT/12-long-draft-redrawn.png" -crop "$box" +repage "$WORK/redrawn.png"
ghost=$(compare -metric AE -fuzz 2% "$WORK/typed.png" "$WORK/redrawn.png" null: 2>&1 || true)
echo "long draft: $ghost pixels differ from a full redraw"
[ "$ghost" = 0 ] || fail "the input box drew a long draft differently from a full redraw ($ghost pixels)"

echo "xvfb smoke: screenshots in $OUT"
echo "1 passed, 0 failed"
