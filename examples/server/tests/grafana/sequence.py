#!/usr/bin/env python3
"""The request sequence Grafana's Prometheus data source makes, sent with prometheus-api-client
(PyPI) and its requests session, against one server. Prints one JSON object: for every step its
HTTP status and the *shape* of the answer (keys and JSON types, not values), so that two servers
on the same data can be compared.

Usage: sequence.py BASE_URL DATA_START DATA_END

Sources for the sequence: shared/reference/http-api.md section 8 (Grafana's pkg/promlib and
packages/grafana-prometheus): "Save & test", data-source init, metrics browser, a panel's range
and instant queries, dashboard variables.
"""
import json
import sys
from datetime import datetime, timezone

from prometheus_api_client import PrometheusConnect

STEP = 60


def shape(v):
    if isinstance(v, dict):
        return {k: shape(v[k]) for k in sorted(v)}
    if isinstance(v, list):
        # The distinct element shapes, e.g. ["number", "string"] for a [time, "value"] pair.
        seen = {}
        for e in v:
            sh = shape(e)
            seen.setdefault(json.dumps(sh, sort_keys=True), sh)
        return ["array", [seen[k] for k in sorted(seen)]]
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if v is None:
        return "null"
    return "string"


def main():
    base, start, end = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    # Grafana's panel alignment: start/end rounded down to a multiple of the step.
    pstart, pend = start - start % STEP, end - end % STEP
    get = PrometheusConnect(url=base, disable_ssl=True)
    post = PrometheusConnect(url=base, disable_ssl=True, method="POST")
    s = get._session
    headers = {"User-Agent": "Grafana/12.0.0", "Accept-Encoding": "gzip"}
    out = {}

    def raw(name, method, path, params=None, form=None):
        r = s.request(method, base + path, params=params, data=form, headers=headers, timeout=60)
        try:
            body = r.json()
        except ValueError:
            body = r.text
        out[name] = {"status": r.status_code, "shape": shape(body)}
        # Point values must be strings Go's ParseFloat reads; timestamps numbers.
        return body

    def lib(name, f):
        try:
            out[name] = {"ok": True, "shape": shape(f())}
        except Exception as e:  # the comparison reports it
            out[name] = {"ok": False, "error": type(e).__name__ + ": " + str(e)[:200]}

    # 1. "Save & test": form-POST instant query 1+1 at time 4, then buildinfo.
    raw("health_post", "POST", "/api/v1/query", form={"query": "1+1", "time": "4"})
    raw("health_get", "GET", "/api/v1/query", params={"query": "1+1", "time": "4"})
    raw("buildinfo", "GET", "/api/v1/status/buildinfo")
    # Grafana POSTs to GET-only endpoints first and falls back to GET on 405/400.
    raw("buildinfo_post_fallback", "POST", "/api/v1/status/buildinfo", form={})
    # 2. Data-source init: rules, exemplar probe (milliseconds!), buildinfo.
    raw("rules", "GET", "/api/v1/rules")
    raw("exemplar_probe", "GET", "/api/v1/query_exemplars",
        params={"query": "test", "start": str(start * 1000), "end": str(end * 1000)})
    # 3. Metrics browser: metric names, metadata, label names, values, series.
    window = {"start": str(start), "end": str(end), "limit": "40000"}
    raw("metric_names", "GET", "/api/v1/label/__name__/values", params=window)
    raw("metadata", "GET", "/api/v1/metadata")
    raw("label_names_post", "POST", "/api/v1/labels", form=window)
    raw("label_names_match", "GET", "/api/v1/labels",
        params={**window, "match[]": "http_requests_total"})
    raw("label_values_job", "GET", "/api/v1/label/job/values",
        params={**window, "match[]": 'http_requests_total{job=~".+"}'})
    raw("series_validate", "POST", "/api/v1/series",
        form={**window, "match[]": 'http_requests_total{job="api"}'})
    raw("series_fallback_all", "GET", "/api/v1/series",
        params={**window, "match[]": '{__name__!=""}'})
    # 4. A panel: range query (form POST, aligned, float-second step) and instant query.
    panel = "sum by (job) (rate(http_requests_total[5m]))"
    raw("panel_range", "POST", "/api/v1/query_range",
        form={"query": panel, "start": str(pstart), "end": str(pend), "step": str(STEP)})
    raw("panel_instant", "POST", "/api/v1/query", form={"query": panel, "time": str(end)})
    raw("panel_exemplars", "POST", "/api/v1/query_exemplars",
        form={"query": panel, "start": str(pstart), "end": str(pend)})
    raw("panel_error", "POST", "/api/v1/query_range",
        form={"query": "sum(rate(http_requests_total[5m]", "start": str(pstart), "end": str(pend),
              "step": str(STEP)})
    raw("heatmap", "POST", "/api/v1/query_range",
        form={"query": "sum by (le) (rate(http_request_duration_seconds_bucket[5m]))",
              "start": str(pstart), "end": str(pend), "step": str(STEP)})
    # 5. Dashboard variables: label_values(job), query_result(...).
    raw("var_label_values", "GET", "/api/v1/label/job/values",
        params={"start": str(start), "end": str(end)})
    raw("var_query_result", "POST", "/api/v1/query",
        form={"query": "count by (job) (http_requests_total)", "time": str(end)})

    # The same through the library's own calls (GET and its POST mode).
    t0 = datetime.fromtimestamp(start, tz=timezone.utc)
    t1 = datetime.fromtimestamp(end, tz=timezone.utc)
    lib("lib_query", lambda: get.custom_query("1+1", params={"time": 4}))
    lib("lib_query_post", lambda: post.custom_query(panel, params={"time": end}))
    lib("lib_query_range", lambda: post.custom_query_range(panel, t0, t1, str(STEP)))
    lib("lib_label_names", lambda: get.get_label_names(params={"start": start, "end": end}))
    lib("lib_label_values", lambda: get.get_label_values("job", params={"start": start, "end": end}))
    lib("lib_series", lambda: get.get_series(t0, t1, params={"match[]": "up"}))
    lib("lib_metadata", lambda: get.get_metric_metadata(""))
    lib("lib_connection", lambda: get.check_prometheus_connection())
    json.dump(out, sys.stdout, sort_keys=True)


if __name__ == "__main__":
    main()
