#!/usr/bin/env python3
"""Writes a large rule unit test (for timing kagari-tool against promtool, not run by tests).

usage: gen-large.py OUT_DIR [SERIES] [MINUTES]

SERIES counters (default 200) sampled every minute for MINUTES (default 1440), a recording
rule and an alerting rule with `for`, evaluated every minute, with checks at the end. The
expected values are computed here from the generated data, independently of both tools.
"""
import os
import sys

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 200
minutes = int(sys.argv[3]) if len(sys.argv) > 3 else 1440
os.makedirs(out, exist_ok=True)
last = minutes - 1

with open(os.path.join(out, "large_rules.yml"), "w") as f:
    f.write("""groups:
  - name: rec
    rules:
      - record: job:work:sum
        expr: sum by (job) (work)
  - name: alerts
    rules:
      - alert: BusyInstance
        expr: work > %d
        for: 5m
        labels:
          severity: warning
        annotations:
          summary: '{{ $labels.instance }} at {{ $value }}'
""" % (last - 10))

# instance i has value k*(i%%3+1)/(i%%3+1)... keep it simple: value k at minute k for every
# series, except odd instances which stay at 0.
lines = ["rule_files: [large_rules.yml]", "evaluation_interval: 1m",
         "group_eval_order: [rec, alerts]", "tests:", "  - interval: 1m", "    input_series:"]
firing = []
for i in range(n):
    inst = "i%04d" % i
    values = "0+1x%d" % last if i % 2 == 0 else "0x%d" % last
    lines.append("      - series: 'work{job=\"j\", instance=\"%s\"}'" % inst)
    lines.append("        values: '%s'" % values)
    if i % 2 == 0:
        firing.append(inst)
lines += ["    promql_expr_test:", "      - expr: job:work:sum",
          "        eval_time: %dm" % last, "        exp_samples:",
          "          - labels: 'job:work:sum{job=\"j\"}'",
          "            value: %d" % (last * len(firing)),
          "    alert_rule_test:", "      - eval_time: %dm" % last,
          "        alertname: BusyInstance", "        exp_alerts:"]
# `for: 5m`: the condition holds from minute last-9 on, so at `last` it has held 9 minutes.
for inst in firing:
    lines += ["          - exp_labels: {instance: %s, job: j, severity: warning}" % inst,
              "            exp_annotations: {summary: '%s at %s'}" % (inst, last)]
with open(os.path.join(out, "large_test.yml"), "w") as f:
    f.write("\n".join(lines) + "\n")
