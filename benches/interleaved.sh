#!/usr/bin/env bash
# The scheduler workloads of benches/benches/scheduler.rs on filch, tokio and smol in
# interleaved rounds (the runtimes' order rotates each round), each run a fresh process
# (`SCHED_PROFILE=<workload>/<runtime>:<iterations>`); prints the median time per iteration
# of each and the ratio filch / best peer. Less sensitive than criterion to a machine whose
# load drifts during a run: every runtime sees the same drift.
#
#   benches/interleaved.sh [rounds=9] [workload...]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-9}
shift || true
workloads=("$@")
[[ ${#workloads[@]} -gt 0 ]] || workloads=(spawn_many_local spawn_many_remote yield_many ping_pong chained_spawn)
declare -A iterations=([spawn_many_local]=200 [spawn_many_remote]=200 [yield_many]=50 [ping_pong]=500 [chained_spawn]=2000)

bin=$(cargo bench -p filch-benches --bench scheduler --no-run --message-format=json 2>/dev/null \
    | sed -n 's/.*"executable":"\([^"]*scheduler-[^"]*\)".*/\1/p' | head -1)
runtimes=(filch tokio smol)

# Microseconds per iteration of one run.
run() {
    local n=${iterations[$1]:-100}
    SCHED_PROFILE="$1/$2:$n" "$bin" 2>&1 >/dev/null \
        | sed -n "s/^$1\/$2: $n iterations on [0-9]* workers in \(.*\)$/\1/p" \
        | awk -v n="$n" '{ v = $1; if (v ~ /ms$/) { sub(/ms$/, "", v); v *= 1000 } else if (v ~ /µs$/) { sub(/µs$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1e6 } printf "%.1f\n", v / n }'
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

echo "scheduler workloads, $rounds interleaved rounds, median µs per iteration ($(nproc) CPUs)"
printf '%-18s %10s %10s %10s %8s\n' workload filch tokio smol ratio
for w in "${workloads[@]}"; do
    declare -A runs=([filch]="" [tokio]="" [smol]="")
    for round in $(seq "$rounds"); do
        for i in 0 1 2; do
            rt=${runtimes[$(( (i + round) % 3 ))]}
            runs[$rt]+="$(run "$w" "$rt") "
        done
    done
    f=$(tr ' ' '\n' <<<"${runs[filch]}" | grep . | median)
    t=$(tr ' ' '\n' <<<"${runs[tokio]}" | grep . | median)
    s=$(tr ' ' '\n' <<<"${runs[smol]}" | grep . | median)
    best=$(printf '%s\n%s\n' "$t" "$s" | sort -n | head -1)
    printf '%-18s %10.1f %10.1f %10.1f %8.2f\n' "$w" "$f" "$t" "$s" "$(echo "$f / $best" | bc -l)"
done
