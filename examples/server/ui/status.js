// /config, /flags, /tsdb-status and /status: read-only views of the status endpoints.
"use strict";

(() => {
  const main = document.getElementById("main");
  const out = document.getElementById("content");
  const page = main.dataset.page;

  function kvTable(rows, headers) {
    return K.el("table", { class: "data" },
      headers ? K.el("thead", {}, K.el("tr", {}, headers.map(h => K.el("th", {}, h)))) : null,
      K.el("tbody", {}, rows.map(([k, v]) => K.el("tr", {}, K.el("th", {}, k),
        K.el("td", { class: "mono" }, v === undefined || v === null ? "" : String(v))))));
  }

  async function config() {
    const j = await K.api("status/config");
    const pre = K.el("pre", { id: "config-yaml" }, j.data.yaml || "");
    const copy = K.el("button", { type: "button", onclick: async () => {
      try {
        await navigator.clipboard.writeText(j.data.yaml || "");
        copy.textContent = "Copied";
      } catch (e) {
        copy.textContent = "Copy failed";
      }
    } }, "Copy to clipboard");
    return [copy, (j.warnings || []).length ? K.el("div", { class: "warning" }, j.warnings.join("\n")) : null, pre];
  }

  async function flags() {
    const j = await K.api("status/flags");
    const rows = Object.keys(j.data).sort().map(k => [k, j.data[k]]);
    const filter = K.el("input", { type: "text", placeholder: "Filter by flag name or value", size: 40 });
    const holder = K.el("div");
    const draw = () => {
      const q = filter.value.trim().toLowerCase();
      K.fill(holder, kvTable(rows.filter(([k, v]) => !q || k.toLowerCase().includes(q) ||
        String(v).toLowerCase().includes(q)), ["Flag", "Value"]));
    };
    filter.addEventListener("input", draw);
    draw();
    return [K.el("div", { class: "filters" }, filter), holder];
  }

  function ms(t) {
    return typeof t === "number" && isFinite(t) && Math.abs(t) < 1e15 ? K.formatTime(t) + " (" + t + ")" : String(t);
  }

  async function tsdb() {
    const j = await K.api("status/tsdb");
    const d = j.data;
    const h = d.headStats || {};
    const parts = [K.el("h2", {}, "Head Stats"), kvTable([
      ["Number of Series", h.numSeries], ["Number of Chunks", h.chunkCount],
      ["Number of Label Pairs", h.numLabelPairs], ["Current Min Time", ms(h.minTime)],
      ["Current Max Time", ms(h.maxTime)],
    ])];
    for (const [key, title, col] of [
      ["seriesCountByMetricName", "Top 10 series count by metric names", "Count"],
      ["labelValueCountByLabelName", "Top 10 label names with value count", "Count"],
      ["memoryInBytesByLabelName", "Top 10 label names with high memory usage", "Bytes"],
      ["seriesCountByLabelValuePair", "Top 10 series count by label value pairs", "Count"],
    ]) {
      parts.push(K.el("h2", {}, title));
      const rows = (d[key] || []).map(e => [e.name, e.value]);
      parts.push(rows.length ? kvTable(rows, ["Name", col]) : K.el("div", { class: "empty" }, "No data."));
    }
    return parts;
  }

  async function runtime() {
    const [rt, bi] = await Promise.all([K.api("status/runtimeinfo"), K.api("status/buildinfo")]);
    const rows = o => Object.keys(o || {}).map(k => [k, typeof o[k] === "object" ? JSON.stringify(o[k]) : o[k]]);
    return [K.el("h2", {}, "Runtime Information"), kvTable(rows(rt.data)),
      K.el("h2", {}, "Build Information"), kvTable(rows(bi.data))];
  }

  const VIEWS = { "/config": config, "/flags": flags, "/tsdb-status": tsdb, "/status": runtime };

  (async () => {
    const view = VIEWS[page];
    if (!view) return;
    try {
      K.fill(out, await view());
    } catch (e) {
      K.fill(out, K.errorBox(e));
    }
  })();
})();
