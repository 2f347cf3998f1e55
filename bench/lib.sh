# Shared helpers for the benchmark scripts: build, start servers on 127.0.0.1, clean up.
# Every server a script starts is killed when the script exits.

set -euo pipefail

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/packyard-target}
PACKYARD="$CARGO_TARGET_DIR/release/packyard"
BENCH_PIDS=()
BENCH_TMP=$(mktemp -d /var/tmp/packyard-bench.XXXXXX)
# Readable by the users servers drop to (nginx workers, postgres).
chmod 755 "$BENCH_TMP"

bench_cleanup() {
  for pid in "${BENCH_PIDS[@]:-}"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$BENCH_TMP"
}
trap bench_cleanup EXIT

# Installs a Debian package when its command is missing.
need() {
  local command=$1 package=${2:-$1}
  if ! command -v "$command" >/dev/null 2>&1; then
    echo "installing $package" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >&2
  fi
}

build_release() {
  (cd "$BENCH_ROOT" && cargo build --release --locked --quiet)
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_packyard NAME [serve flags...]: starts a server with its own data directory (the shipped
# packs loaded) and sets STARTED_URL. Not for $(...): the server must stay a child of this shell.
start_packyard() {
  local name=$1
  shift
  local port
  port=$(free_port)
  mkdir -p "$BENCH_TMP/$name"
  (cd "$BENCH_ROOT" && exec "$PACKYARD" serve --listen "127.0.0.1:$port" \
    --data-dir "$BENCH_TMP/$name/data" "$@") >"$BENCH_TMP/$name/server.log" 2>&1 &
  BENCH_PIDS+=($!)
  for _ in $(seq 1 600); do
    if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then
      STARTED_URL="http://127.0.0.1:$port"
      return 0
    fi
    sleep 0.05
  done
  echo "packyard did not start: $(cat "$BENCH_TMP/$name/server.log")" >&2
  return 1
}

# wrk_rate URL [wrk flags...]: requests per second, 16 connections, 10 s (BENCH_SECONDS overrides).
wrk_rate() {
  local url=$1
  shift
  wrk -t2 -c16 -d"${BENCH_SECONDS:-10}s" "$@" "$url" | awk '/Requests\/sec/ {print $2}'
}

# median_rate URL [wrk flags...]: the median requests/s of BENCH_RUNS (default 3) wrk runs.
median_rate() {
  local runs=${BENCH_RUNS:-3} rates=()
  for _ in $(seq 1 "$runs"); do
    rates+=("$(wrk_rate "$@")")
  done
  printf '%s\n' "${rates[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

# median_pair URL_A URL_B [wrk flags...]: "A B", the median rates of the two, measured in turns
# (A, B, A, B, ...) so that a busy moment of the machine falls on both, not on one of them.
median_pair() {
  local a=$1 b=$2 runs=${BENCH_RUNS:-3} ours=() theirs=()
  shift 2
  for _ in $(seq 1 "$runs"); do
    ours+=("$(wrk_rate "$a" "$@")")
    theirs+=("$(wrk_rate "$b" "$@")")
  done
  local median='{a[NR]=$1} END {print a[int((NR+1)/2)]}'
  echo "$(printf '%s\n' "${ours[@]}" | sort -g | awk "$median") $(printf '%s\n' "${theirs[@]}" | sort -g | awk "$median")"
}

# row FIGURE PACKYARD REFERENCE: one table row with the ratio.
row() {
  local ratio
  ratio=$(python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(f'{a/b:.2f}x' if b else '-')" "$2" "$3")
  printf '| %s | %s | %s | %s |\n' "$1" "$2" "$3" "$ratio"
}
