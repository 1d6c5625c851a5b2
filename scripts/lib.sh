# Shared by scripts/demo, scripts/test, the tests/ drivers and the bench/
# scripts. Sourced, not run. Logs go to stderr, so that a caller's stdout
# stays its own (the benchmarks print only `name=value` lines there).
set -euo pipefail
REDISX_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export REDISX_ROOT

log() { printf '\n==> %s\n' "$*" >&2; }

# on_exit "command": runs the command (a string, evaluated like a trap's) when
# the shell exits, after those registered later (last in, first out). One
# EXIT trap runs them all, each to its end even if one fails, and keeps the
# exit status. An EXIT trap the caller set before joins the list. One set
# after replaces the list's trap: there call stop_throwaway_redis yourself,
# or better register with on_exit. INT and TERM (unless trapped already)
# exit 130 and 143, through the list.
REDISX_EXIT_CMDS=()
on_exit() { # command
  local cmd=$1 current
  current=$(trap -p EXIT)
  if [ "$current" != "trap -- 'run_exit_cmds' EXIT" ]; then
    if [ -n "$current" ]; then
      eval "set -- $current" # trap -- 'command' EXIT
      REDISX_EXIT_CMDS+=("$3")
    fi
    trap run_exit_cmds EXIT
    [ -n "$(trap -p INT)" ] || trap 'exit 130' INT
    [ -n "$(trap -p TERM)" ] || trap 'exit 143' TERM
  fi
  REDISX_EXIT_CMDS+=("$cmd")
}
run_exit_cmds() {
  local rc=$? i
  for ((i = ${#REDISX_EXIT_CMDS[@]} - 1; i >= 0; i--)); do
    eval "${REDISX_EXIT_CMDS[i]}" || true
  done
  REDISX_EXIT_CMDS=()
  exit "$rc"
}

# Installs the Debian packages that are missing (and only those).
need_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

BUILD_PACKAGES=(build-essential cmake ninja-build pkg-config libhiredis-dev libssl-dev openssl redis-server redis-tools)

# Prints a loopback TCP port that nothing listens on: one the kernel hands
# out (python3), else a random one that refuses a connection (bash /dev/tcp).
free_port() {
  local port
  if port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' \
    2>/dev/null) && [ -n "$port" ]; then
    echo "$port"
    return 0
  fi
  for _ in $(seq 50); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

# Whether process PID runs. A killed daemon lingers as a zombie until init
# reaps it (not at all in some containers): that counts as gone.
pid_alive() { # pid
  local stat
  kill -0 "$1" 2>/dev/null || return 1
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

# Starts a throwaway redis-server on a free loopback port unless REDISX_URL is
# set, waits until it answers, and exports REDISX_URL=redis://127.0.0.1:PORT
# (REDISX_THROWAWAY_PORT and REDISX_THROWAWAY_PID name it too). It stops when
# the calling shell exits (on_exit), or earlier with stop_throwaway_redis.
# With REDISX_URL set it starts nothing. Retries another port when one is
# lost to a race.
start_redis_if_needed() {
  if [ -n "${REDISX_URL:-}" ]; then
    return 0
  fi
  local tool attempt dir port pid
  for tool in redis-server redis-cli; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "$tool not found; install Redis (the redis-server and redis-tools packages)" >&2
      return 2
    fi
  done
  on_exit stop_throwaway_redis
  for attempt in $(seq 20); do
    dir=$(mktemp -d "${TMPDIR:-/tmp}/redisx-redis-XXXXXX")
    REDISX_THROWAWAY_DIR=$dir
    port=$(free_port) || break
    if redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
      --pidfile "$dir/redis.pid" --dir "$dir" --logfile "$dir/redis.log" >/dev/null; then
      for _ in $(seq 100); do
        [ -s "$dir/redis.pid" ] && REDISX_THROWAWAY_PID=$(cat "$dir/redis.pid")
        pid=${REDISX_THROWAWAY_PID:-}
        # The server answering is this one (not another that took the port).
        if [ -n "$pid" ] && [ "$(redis-cli -h 127.0.0.1 -p "$port" info server 2>/dev/null |
          tr -d '\r' | sed -n 's/^process_id://p')" = "$pid" ]; then
          REDISX_THROWAWAY_PORT=$port
          export REDISX_URL="redis://127.0.0.1:$port"
          log "started a throwaway redis-server at $REDISX_URL"
          return 0
        fi
        if [ -n "$pid" ] && ! pid_alive "$pid"; then
          break
        fi
        sleep 0.05
      done
    fi
    if [ "$attempt" -eq 20 ]; then
      echo "could not start redis-server on 127.0.0.1; its log:" >&2
      cat "$dir/redis.log" >&2 2>/dev/null || true
    fi
    stop_throwaway_redis # lost a race for the port, or the server died: retry
  done
  stop_throwaway_redis
  echo "could not start a throwaway redis-server on 127.0.0.1" >&2
  return 1
}

# Stops the server start_redis_if_needed started (if any) and waits until it
# has exited; removes its folder. Safe to call more than once.
stop_throwaway_redis() {
  local pid=${REDISX_THROWAWAY_PID:-}
  local dir=${REDISX_THROWAWAY_DIR:-}
  if [ -z "$pid" ] && [ -n "$dir" ] && [ -s "$dir/redis.pid" ]; then
    pid=$(cat "$dir/redis.pid")
  fi
  if [ -n "$pid" ] && pid_alive "$pid"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
      pid_alive "$pid" || break
      sleep 0.1
    done
    if pid_alive "$pid"; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  if [ -n "$dir" ]; then
    rm -rf "$dir"
  fi
  REDISX_THROWAWAY_DIR=
  REDISX_THROWAWAY_PID=
}

# start_tls_redis DIR: a TLS-only redis-server (--port 0, client certificates
# not asked for) on a free loopback port, with the test certificates of
# tests/tls/make-certs.sh, which it makes into DIR. Sets TLS_REDIS_URL
# (rediss://127.0.0.1:PORT), TLS_REDIS_CA (DIR/ca.crt) and TLS_REDIS_PID; the
# server stops when the calling shell exits (on_exit) or at stop_tls_redis.
start_tls_redis() { # dir
  local dir=$1 port pid
  "$REDISX_ROOT/tests/tls/make-certs.sh" "$dir" || return 1
  on_exit stop_tls_redis
  TLS_REDIS_DIR=$dir TLS_REDIS_CA=$dir/ca.crt TLS_REDIS_URL= TLS_REDIS_PID=
  for _ in $(seq 10); do
    port=$(free_port) || break
    rm -f "$dir/redis.pid"
    redis-server --port 0 --tls-port "$port" --bind 127.0.0.1 --tls-cert-file "$dir/server.crt" \
      --tls-key-file "$dir/server.key" --tls-ca-cert-file "$dir/ca.crt" --tls-auth-clients no \
      --save '' --appendonly no --daemonize yes --pidfile "$dir/redis.pid" --dir "$dir" \
      --logfile "$dir/redis.log" >/dev/null || continue
    for _ in $(seq 200); do
      [ -s "$dir/redis.pid" ] && TLS_REDIS_PID=$(cat "$dir/redis.pid")
      pid=$TLS_REDIS_PID
      # The server answering is this one (not another that took the port).
      if [ -n "$pid" ] && [ "$(redis-cli --tls --cacert "$dir/ca.crt" -h 127.0.0.1 -p "$port" info server \
        2>/dev/null | tr -d '\r' | sed -n 's/^process_id://p')" = "$pid" ]; then
        TLS_REDIS_URL=rediss://127.0.0.1:$port
        log "started a TLS-only redis-server at $TLS_REDIS_URL"
        return 0
      fi
      if [ -n "$pid" ] && ! pid_alive "$pid"; then break; fi
      sleep 0.05
    done
    stop_tls_redis # lost a race for the port, or the server died: retry
  done
  echo "could not start a TLS redis-server on 127.0.0.1; its log:" >&2
  cat "$dir/redis.log" >&2 2>/dev/null || true
  return 1
}

# Stops the server of start_tls_redis (if any) and waits until it has exited.
stop_tls_redis() {
  local pid=${TLS_REDIS_PID:-}
  if [ -n "$pid" ] && pid_alive "$pid"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do pid_alive "$pid" || break; sleep 0.1; done
    if pid_alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  TLS_REDIS_PID=
}

# Installs the project's own Debian packages from DIR (built by
# packaging/build-deb.sh) so that the language packages find libredisx
# through pkg-config like any user's machine would.
# With apt, as the README tells users (it also pulls in libhiredis0.14);
# --reinstall: a build of the same version replaces the one installed.
install_debs() { # dir
  local sudo="" dir
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  dir=$(cd "$1" && pwd)
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --reinstall --no-install-recommends \
    "$dir"/libredisx0_*.deb "$dir"/libredisx-dev_*.deb >/dev/null
}

# Python for venvs: the first python3 on PATH (pyenv's on these machines),
# with Debian's venv module as the fallback.
python_for_venv() {
  local py
  py=$(command -v python3)
  if ! "$py" -m venv --help >/dev/null 2>&1; then
    need_packages python3-venv
  fi
  echo "$py"
}

# Node.js, npm and Go from Debian when the machine has none of its own.
ensure_language_toolchains() {
  command -v node >/dev/null || need_packages nodejs
  command -v npm >/dev/null || need_packages npm
  command -v go >/dev/null || need_packages golang-go
  need_packages g++ python3 python3-venv
}

# Configures and builds quietly; on failure prints the whole log.
cmake_build() { # dir [cmake args...]
  local dir=$1 out
  shift
  out=$(mktemp)
  if ! { cmake -S "$REDISX_ROOT" -B "$dir" -G Ninja "$@" && cmake --build "$dir"; } >"$out" 2>&1; then
    cat "$out"
    rm -f "$out"
    echo "FAILED: build in $dir"
    return 1
  fi
  rm -f "$out"
}

trap 'echo "FAILED (exit $?) at ${BASH_SOURCE[0]##*/}:$LINENO: $BASH_COMMAND" >&2' ERR
