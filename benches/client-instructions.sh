#!/usr/bin/env bash
# Instructions per operation, counted by callgrind, for the client bench rows (kagari vs the
# `prometheus` (tikv) and `prometheus-client` crates). Each row/impl runs twice through the
# bench binary's one-shot mode (KAGARI_CLIENT_ONESHOT, no criterion) with N1 and N2
# operations; (Ir(N2) - Ir(N1)) / (N2 - N1) is printed, so setup cancels out.
#
#   benches/client-instructions.sh            # all rows
#   benches/client-instructions.sh labelled   # rows whose name contains "labelled"
set -euo pipefail
cd "$(dirname "$0")/.."
filter="${1:-}"
bin=$(cargo bench -p kagari-benches --bench client --no-run --message-format=json 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*\/client-[0-9a-f]*\)".*/\1/p' | tail -1)
[ -x "$bin" ] || { echo "bench binary not found" >&2; exit 1; }
rows=(
    "counter_inc kagari prometheus prometheus-client"
    "histogram_observe kagari prometheus prometheus-client"
    "labelled_lookup_inc kagari kagari_with_series prometheus prometheus-client"
    "labelled_lookup_inc_1000_series kagari kagari_with_series prometheus prometheus-client"
    "encode_10000_series_text kagari prometheus prometheus-client"
)
count() { # row/impl n -> instructions
    KAGARI_CLIENT_ONESHOT="$1:$2" valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        "$bin" 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
printf '%-34s %-20s %12s\n' row impl instr/op
for r in "${rows[@]}"; do
    set -- $r
    row=$1; shift
    [[ -z "$filter" || "$row" == *"$filter"* ]] || continue
    if [[ "$row" == encode* ]]; then n1=2; n2=4; else n1=100000; n2=200000; fi
    for imp in "$@"; do
        a=$(count "$row/$imp" $n1); b=$(count "$row/$imp" $n2)
        printf '%-34s %-20s %12s\n' "$row" "$imp" "$(( (b - a) / (n2 - n1) ))"
    done
done
