#!/usr/bin/env bash
# Regenerates the "killed Prometheus" fixture: a data directory written by real Prometheus 2.42
# with blocks (backfilled by promtool), chunks_head files and a WAL, left behind by SIGKILL, plus
# promtool's dump of it. Usage: generate.sh [SHARED_DIR]  (default: $KAGARI_SHARED or /work/shared)
# The exporter is a tiny python3 HTTP server with 5 series; scrape interval 100 ms.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shared=${1:-${KAGARI_SHARED:-/work/shared}}
work=$(mktemp -d)
data=$work/data
mkdir -p "$data"
port_exp=${PORT_EXP:-19881}
port_prom=${PORT_PROM:-19882}

# 1. Blocks: backfill 3 series over two hours ending 3 h ago, one sample a minute.
now=$(date +%s)
start=$(( (now - 5*3600) / 3600 * 3600 ))
{
  echo "# TYPE kg_backfilled gauge"
  for s in a b c; do
    for i in $(seq 0 119); do
      echo "kg_backfilled{series=\"$s\"} $(( i % 7 )).5 $(( start + i*60 ))"
    done
  done
  echo "# EOF"
} > "$work/backfill.om"
promtool tsdb create-blocks-from openmetrics "$work/backfill.om" "$data" >/dev/null

# 2. A loopback exporter.
cat > "$work/exporter.py" <<'PY'
import http.server, sys, time
N = int(sys.argv[2])
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        t = time.time()
        body = "".join(f'kg_live{{i="{i}"}} {(int(t*10) % 97) * (i + 1) / 4}\n' for i in range(N)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass  # the scrape timed out and Prometheus closed the connection
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
python3 "$work/exporter.py" "$port_exp" 5 &
exp_pid=$!
trap 'kill $exp_pid 2>/dev/null || true' EXIT
cat > "$work/prometheus.yml" <<YML
global:
  scrape_interval: 100ms
  scrape_timeout: 100ms
scrape_configs:
  - job_name: kg
    static_configs:
      - targets: ['127.0.0.1:$port_exp']
YML

# 3. Scrape, stop cleanly (head chunks flushed), scrape again, SIGKILL.
pid=$("$shared/peers/run" prometheus --port "$port_prom" --config "$work/prometheus.yml" --data "$data")
sleep 30
"$shared/peers/run" stop "$pid"
pid=$("$shared/peers/run" prometheus --port "$port_prom" --config "$work/prometheus.yml" --data "$data")
sleep 15
kill -KILL "$pid"
sleep 1

# 4. Keep only the TSDB files; record promtool's dump of a copy.
rm -rf "$here/data"
mkdir -p "$here/data"
for f in "$data"/*; do
  case "$(basename "$f")" in
    prometheus.log|queries.active|lock) ;;
    *) cp -r "$f" "$here/data/" ;;
  esac
done
cp -r "$here/data" "$work/dumpcopy"
promtool tsdb dump "$work/dumpcopy" | LC_ALL=C sort > "$here/promtool_dump.txt"
ls -lR "$here/data" >&2
wc -l "$here/promtool_dump.txt" >&2
rm -rf "$work"
