# Shared by scripts/demo and scripts/test. Sourced, not run.
set -euo pipefail
REDISX_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export REDISX_ROOT

log() { printf '\n==> %s\n' "$*"; }

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

BUILD_PACKAGES=(build-essential cmake ninja-build pkg-config libhiredis-dev redis-server redis-tools)

# Starts a throwaway redis-server on a free loopback port unless REDISX_URL is
# set; exports REDISX_URL. The server stops when the calling shell exits.
start_redis_if_needed() {
  if [ -n "${REDISX_URL:-}" ]; then
    return 0
  fi
  local dir port
  dir=$(mktemp -d /tmp/redisx-redis-XXXXXX)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
    shuf -i 20000-60000 -n 1)
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --pidfile "$dir/redis.pid" --dir "$dir" --logfile "$dir/redis.log"
  for _ in $(seq 100); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.05
  done
  REDISX_THROWAWAY_DIR=$dir
  trap 'stop_throwaway_redis' EXIT
  export REDISX_URL="redis://127.0.0.1:$port"
  log "started a throwaway redis-server at $REDISX_URL"
}

stop_throwaway_redis() {
  if [ -n "${REDISX_THROWAWAY_DIR:-}" ] && [ -f "$REDISX_THROWAWAY_DIR/redis.pid" ]; then
    kill "$(cat "$REDISX_THROWAWAY_DIR/redis.pid")" 2>/dev/null || true
    rm -rf "$REDISX_THROWAWAY_DIR"
  fi
}

# Installs the project's own Debian packages from DIR (built by
# packaging/build-deb.sh) so that the language packages find libredisx
# through pkg-config like any user's machine would.
install_debs() { # dir
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo dpkg -i "$1"/libredisx0_*.deb "$1"/libredisx-dev_*.deb >/dev/null
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
