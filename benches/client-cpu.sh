#!/usr/bin/env bash
# User CPU time per operation for the labelled-lookup rows of the client bench (kagari vs the
# `prometheus` (tikv) and `prometheus-client` crates): each row/impl runs through the bench
# binary's one-shot mode (KAGARI_CLIENT_ONESHOT, no criterion) with N1 and N2 operations,
# interleaved over ROUNDS rounds; the minimum over rounds of
# (user(N2) - user(N1)) / (N2 - N1) is printed (setup cancels out; waiting for the CPU under
# load does not count, cache pressure from other processes still does).
#
#   benches/client-cpu.sh            # labelled rows, 3 rounds
#   ROUNDS=5 benches/client-cpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${ROUNDS:-3}"
n1=2000000
n2=22000000
bin=$(cargo bench -p kagari-benches --bench client --no-run --message-format=json 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*\/client-[0-9a-f]*\)".*/\1/p' | tail -1)
[ -x "$bin" ] || { echo "bench binary not found" >&2; exit 1; }
cases=(
    labelled_lookup_inc/kagari labelled_lookup_inc/kagari_with_series
    labelled_lookup_inc/prometheus labelled_lookup_inc/prometheus-client
    labelled_lookup_inc_1000_series/kagari labelled_lookup_inc_1000_series/kagari_with_series
    labelled_lookup_inc_1000_series/prometheus labelled_lookup_inc_1000_series/prometheus-client
)
user_ns() { # case n -> user CPU nanoseconds
    local t
    t=$( { TIMEFORMAT=%U; time KAGARI_CLIENT_ONESHOT="$1:$2" "$bin" >/dev/null; } 2>&1 )
    awk -v t="$t" 'BEGIN { printf "%d", t * 1e9 }'
}
declare -A best
for _ in $(seq "$rounds"); do
    for c in "${cases[@]}"; do
        a=$(user_ns "$c" $n1); b=$(user_ns "$c" $n2)
        per=$(awk -v a="$a" -v b="$b" -v n=$((n2 - n1)) 'BEGIN { printf "%.2f", (b - a) / n }')
        if [[ -z "${best[$c]:-}" ]] || awk -v x="$per" -v y="${best[$c]}" 'BEGIN { exit !(x < y) }'; then
            best[$c]=$per
        fi
    done
done
printf '%-52s %10s\n' case "user ns/op"
for c in "${cases[@]}"; do printf '%-52s %10s\n' "$c" "${best[$c]}"; done
