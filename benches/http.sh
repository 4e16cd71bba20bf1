#!/usr/bin/env bash
# hyper 1.x hello-world on filch (`filch::hyper::serve`) against hyper on tokio (hyper-util's
# tokio glue), under wrk: interleaved rounds (the order alternates each round), a 1 s warm-up
# before each measured run, the median requests/s of each, and the ratio filch / tokio.
#
#   benches/http.sh [rounds=5] [seconds=5]        (WORKERS=n sets both runtimes' workers)
#
# Needs wrk (Debian: apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
seconds=${2:-5}
workers=${WORKERS:-2}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }

bin=$(cargo build --release -p filch-benches --example hyper_hello --message-format=json \
    | sed -n 's/.*"executable":"\([^"]*hyper_hello\)".*/\1/p' | head -1)
port=18931

# Requests/s of one wrk run against runtime $1 with $2 connections.
measure() {
    "$bin" "$1" "$port" "$workers" &
    local pid=$!
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.05
    done
    wrk -t2 -c"$2" -d1s "http://127.0.0.1:$port/" >/dev/null
    wrk -t2 -c"$2" -d"${seconds}s" "http://127.0.0.1:$port/" | awk '/Requests\/sec/ {print $2}'
    kill "$pid"
    wait "$pid" 2>/dev/null || true
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

echo "hyper hello-world, wrk -t2, ${seconds}s x $rounds interleaved rounds, $workers workers each"
printf '%-12s %12s %12s %8s\n' connections filch tokio ratio
for conns in 64 256; do
    filch_runs=() tokio_runs=()
    for round in $(seq "$rounds"); do
        if (( round % 2 )); then order=(filch tokio); else order=(tokio filch); fi
        for rt in "${order[@]}"; do
            rps=$(measure "$rt" "$conns")
            if [[ $rt == filch ]]; then filch_runs+=("$rps"); else tokio_runs+=("$rps"); fi
        done
    done
    f=$(printf '%s\n' "${filch_runs[@]}" | median)
    t=$(printf '%s\n' "${tokio_runs[@]}" | median)
    printf '%-12s %12.0f %12.0f %8.3f\n' "-c$conns" "$f" "$t" "$(echo "$f / $t" | bc -l)"
    echo "  filch runs: ${filch_runs[*]}"
    echo "  tokio runs: ${tokio_runs[*]}"
done
