# Sourced by the real-window tests (client-gui/tests/xvfb_smoke.sh, packaging/deb-smoke.sh).
#
# start_xvfb WIDTHxHEIGHT: starts Xvfb on a display it picks itself, exports DISPLAY, appends its pid to
# PIDS, and returns once clients can connect. A fixed display number is not safe: a killed earlier run
# leaves /tmp/.X<N>-lock behind, and when its pid has been reused the new Xvfb refuses to start ("Server
# is already active"), so every window the test opens fails to connect. `-displayfd` makes Xvfb take the
# first free display and tell us which. `-noreset`: by default the server resets each time its last
# client disconnects (our readiness probe is one), and a window opened during that reset cannot connect.
start_xvfb() {
  local fdfile
  fdfile=$(mktemp)
  Xvfb -displayfd 3 -noreset -screen 0 "$1x24" 3>"$fdfile" >/dev/null 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do [ -s "$fdfile" ] && break; sleep 0.1; done
  local num
  num=$(head -1 "$fdfile")
  rm -f "$fdfile"
  [ -n "$num" ] || return 1
  export DISPLAY=":$num"
  for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}
