// The expression browser: query box with history and completion, Table and Graph tabs.
// State lives in the URL as Prometheus writes it (g0.expr, g0.tab, g0.range_input, ...).
"use strict";

(() => {
  const $ = id => document.getElementById(id);
  const expr = $("expr");
  const HISTORY_KEY = "kagari.history";
  const HISTORY_MAX = 50;
  const RANGE_STEPS = ["1s", "10s", "1m", "5m", "15m", "30m", "1h", "2h", "6h", "12h", "1d", "2d", "1w", "2w",
    "4w", "8w", "1y"].map(K.parseDuration);
  const FUNCTIONS = ["abs", "absent", "absent_over_time", "acos", "acosh", "asin", "asinh", "atan", "atanh",
    "avg_over_time", "ceil", "changes", "clamp", "clamp_max", "clamp_min", "cos", "cosh", "count_over_time",
    "day_of_month", "day_of_week", "day_of_year", "days_in_month", "deg", "delta", "deriv", "exp", "floor",
    "histogram_avg", "histogram_count", "histogram_fraction", "histogram_quantile", "histogram_stddev",
    "histogram_stdvar", "histogram_sum", "holt_winters", "hour", "idelta", "increase", "irate", "label_join",
    "label_replace", "last_over_time", "ln", "log10", "log2", "mad_over_time", "max_over_time", "min_over_time",
    "minute", "month", "pi", "predict_linear", "present_over_time", "quantile_over_time", "rad", "rate",
    "resets", "round", "scalar", "sgn", "sin", "sinh", "sort", "sort_by_label", "sort_by_label_desc", "sort_desc",
    "sqrt", "stddev_over_time", "stdvar_over_time", "sum_over_time", "tan", "tanh", "time", "timestamp", "vector",
    "year"];
  const AGGREGATIONS = ["avg", "bottomk", "count", "count_values", "group", "limit_ratio", "limitk", "max", "min",
    "quantile", "stddev", "stdvar", "sum", "topk"];
  const KEYWORDS = ["and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "offset", "bool"];

  let metricNames = [];
  let tab = "table";
  let inflight = null;
  let lastGraph = null;
  const hiddenSeries = new Set();

  // ---------- URL state ----------
  function readUrl() {
    const p = new URLSearchParams(location.search);
    if (p.has("g0.expr")) expr.value = p.get("g0.expr");
    const t = p.get("g0.tab");
    tab = t === "0" || t === "graph" ? "graph" : "table";
    if (p.get("g0.range_input")) $("range").value = p.get("g0.range_input");
    if (p.get("g0.end_input")) $("end").value = p.get("g0.end_input");
    if (p.get("g0.moment_input")) $("moment").value = p.get("g0.moment_input");
    if (p.get("g0.step_input")) $("step").value = p.get("g0.step_input");
    $("stacked").checked = p.get("g0.stacked") === "1";
  }

  function writeUrl() {
    const p = new URLSearchParams();
    p.set("g0.expr", expr.value);
    p.set("g0.tab", tab === "graph" ? "0" : "1");
    p.set("g0.stacked", $("stacked").checked ? "1" : "0");
    p.set("g0.range_input", $("range").value.trim());
    for (const [k, id] of [["g0.end_input", "end"], ["g0.moment_input", "moment"], ["g0.step_input", "step"]]) {
      const v = $(id).value.trim();
      if (v) p.set(k, v);
    }
    history.replaceState(null, "", location.pathname + "?" + p);
  }

  // ---------- History ----------
  function loadHistory() {
    try {
      const h = JSON.parse(localStorage.getItem(HISTORY_KEY) || "[]");
      return Array.isArray(h) ? h.filter(x => typeof x === "string") : [];
    } catch (e) {
      return [];
    }
  }

  function renderHistory() {
    const sel = $("history");
    sel.replaceChildren(K.el("option", { value: "" }, "- query history -"));
    for (const q of loadHistory()) sel.appendChild(K.el("option", { value: q }, q.length > 100 ? q.slice(0, 100) + "…" : q));
  }

  function remember(q) {
    const h = loadHistory().filter(x => x !== q);
    h.unshift(q);
    try {
      localStorage.setItem(HISTORY_KEY, JSON.stringify(h.slice(0, HISTORY_MAX)));
    } catch (e) { /* storage full or disabled: history is best effort */ }
    renderHistory();
  }

  // ---------- Completion ----------
  const box = $("completions");
  let items = [];
  let sel = -1;

  // Label names (per metric, "" for all) and label values, fetched once each.
  const labelNames = new Map();
  const labelValues = new Map();

  /**
   * What the word at the cursor is: {kind: "name" | "label" | "value", word, start, metric?, label?}
   * (`name` = metric, function or keyword; `label` = a label name in a selector or a grouping;
   * `value` = inside the quotes of a matcher), or null where nothing completes.
   */
  function contextAtCursor() {
    const before = expr.value.slice(0, expr.selectionStart);
    const plain = before.replace(/\\./g, "__");
    const inString = ((plain.match(/"/g) || []).length) % 2 === 1;
    if (inString) {
      const m = /([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)$/.exec(plain);
      if (!m) return null;
      const start = before.length - m[3].length;
      return { kind: "value", word: before.slice(start), start, label: m[1] };
    }
    const opens = plain.lastIndexOf("{");
    const inSelector = opens > plain.lastIndexOf("}");
    const grouping = /\b(by|without|on|ignoring|group_left|group_right)\s*\(([^()]*)$/.exec(plain);
    const m = /[a-zA-Z_:][a-zA-Z0-9_:]*$/.exec(before);
    const word = m ? m[0] : "";
    const start = before.length - word.length;
    if (inSelector || grouping) {
      const prev = plain.slice(0, start).trimEnd().slice(-1);
      if (!["{", ",", "("].includes(prev)) return null;
      const metric = inSelector ? (/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*$/.exec(plain.slice(0, opens)) || [])[1] : "";
      return { kind: "label", word, start, metric: metric || "" };
    }
    if (!word) return null;
    return { kind: "name", word, start };
  }

  function rank(all, word) {
    const w = word.toLowerCase();
    const prefix = all.filter(([n]) => n.toLowerCase().startsWith(w) && n !== word);
    const inner = all.filter(([n]) => !n.toLowerCase().startsWith(w) && n.toLowerCase().includes(w));
    return prefix.concat(inner).slice(0, 60);
  }

  /** The candidates for a context, or null while they are being fetched. */
  function candidates(ctx) {
    if (ctx.kind === "name") {
      return rank([
        ...metricNames.map(n => [n, "metric"]),
        ...FUNCTIONS.map(n => [n, "function"]),
        ...AGGREGATIONS.map(n => [n, "aggregation"]),
        ...KEYWORDS.map(n => [n, "keyword"]),
      ], ctx.word);
    }
    const cache = ctx.kind === "label" ? labelNames : labelValues;
    const key = ctx.kind === "label" ? ctx.metric : ctx.label;
    const known = cache.get(key);
    if (known === undefined) {
      cache.set(key, null);
      const req = ctx.kind === "label"
        ? K.api("labels", key ? { "match[]": key } : {})
        : K.api("label/" + encodeURIComponent(key) + "/values");
      req.then(j => j.data || [], () => []).then(list => {
        cache.set(key, list.filter(n => n !== "__name__"));
        showCompletions();
      });
      return null;
    }
    if (known === null) return null;
    return rank(known.map(n => [n, ctx.kind === "label" ? "label" : "value"]), ctx.word);
  }

  function closeCompletions() {
    box.hidden = true;
    items = [];
    sel = -1;
  }

  function showCompletions() {
    const ctx = contextAtCursor();
    if (!ctx || document.activeElement !== expr) return closeCompletions();
    const found = candidates(ctx);
    if (!found || !found.length) return closeCompletions();
    items = found;
    sel = -1;
    box.replaceChildren(...items.map(([n, kind], i) =>
      K.el("li", { role: "option", "data-i": i, onmousedown: e => { e.preventDefault(); accept(i); } },
        n, K.el("span", { class: "kind" }, kind))));
    box.hidden = false;
  }

  function highlight() {
    [...box.children].forEach((li, i) => li.classList.toggle("sel", i === sel));
    if (sel >= 0 && box.children[sel]) box.children[sel].scrollIntoView({ block: "nearest" });
  }

  function accept(i) {
    const ctx = contextAtCursor();
    const item = items[i];
    if (!ctx || !item) return closeCompletions();
    const v = expr.value;
    let cut = ctx.start + ctx.word.length;
    let insert = item[0];
    if (item[1] === "function") insert += "(";
    if (ctx.kind === "value") {
      insert = item[0].replace(/\\/g, "\\\\").replace(/"/g, "\\\"");
      if (v[cut] === "\"") cut++;
      insert += "\"";
    }
    expr.value = v.slice(0, ctx.start) + insert + v.slice(cut);
    const pos = ctx.start + insert.length;
    expr.setSelectionRange(pos, pos);
    closeCompletions();
    autosize();
    expr.focus();
  }

  function insertAtCursor(text) {
    const s = expr.selectionStart, e = expr.selectionEnd;
    expr.value = expr.value.slice(0, s) + text + expr.value.slice(e);
    expr.setSelectionRange(s + text.length, s + text.length);
    expr.focus();
    autosize();
  }

  function autosize() {
    expr.style.height = "auto";
    expr.style.height = Math.min(expr.scrollHeight + 2, 400) + "px";
  }

  async function loadMetricNames() {
    try {
      const j = await K.api("label/__name__/values");
      metricNames = j.data || [];
    } catch (e) {
      metricNames = [];
    }
    const list = $("metric-list");
    list.replaceChildren(K.el("option", { value: "" }, "- insert metric at cursor -"),
      ...metricNames.map(n => K.el("option", { value: n }, n)));
  }

  // ---------- Running queries ----------
  function showError(e) {
    const b = $("error");
    b.textContent = e ? "Error executing query: " + (e.message || String(e)) : "";
    b.hidden = !e;
  }

  function showWarnings(w) {
    const b = $("warnings");
    const all = (w.warnings || []).concat(w.infos || []);
    b.textContent = all.join("\n");
    b.hidden = !all.length;
  }

  function nowOr(input) {
    const t = K.parseTime($(input).value);
    if (t !== null && isNaN(t)) throw new Error("invalid time in the " + input + " field: " + $(input).value);
    return t === null ? Date.now() : t;
  }

  function rangeMs() {
    const r = K.parseDuration($("range").value);
    if (!r) throw new Error("invalid range: " + $("range").value);
    return r;
  }

  function stepMs(range) {
    const v = $("step").value.trim();
    if (!v) return Math.max(Math.floor(range / 250 / 1000), 1) * 1000;
    const s = K.parseDuration(v);
    if (!s) throw new Error("invalid resolution: " + v);
    return s;
  }

  async function execute() {
    closeCompletions();
    const q = expr.value.trim();
    writeUrl();
    if (!q) return;
    remember(q);
    if (inflight) inflight.abort();
    const ctl = new AbortController();
    inflight = ctl;
    showError(null);
    $("warnings").hidden = true;
    $("stats").textContent = "Loading…";
    const t0 = performance.now();
    try {
      if (tab === "graph") await runRange(q, ctl);
      else await runInstant(q, ctl);
    } catch (e) {
      if (e.name === "AbortError") return;
      showError(e);
      $("stats").textContent = "";
      if (tab === "graph") {
        $("chart").replaceChildren();
        $("legend").replaceChildren();
      } else {
        $("table-result").replaceChildren();
      }
      return;
    } finally {
      if (inflight === ctl) inflight = null;
    }
    $("stats").textContent += " · Load time: " + Math.round(performance.now() - t0) + "ms";
  }

  async function runInstant(q, ctl) {
    const params = { query: q };
    if ($("moment").value.trim()) params.time = (nowOr("moment") / 1000).toFixed(3);
    const j = await K.api("query", params, { post: true, signal: ctl.signal });
    showWarnings(j);
    renderTable(j.data);
  }

  async function runRange(q, ctl) {
    const range = rangeMs();
    const end = nowOr("end");
    const start = end - range;
    const step = stepMs(range);
    const j = await K.api("query_range", {
      query: q, start: (start / 1000).toFixed(3), end: (end / 1000).toFixed(3), step: step / 1000,
    }, { post: true, signal: ctl.signal });
    showWarnings(j);
    const d = j.data;
    if (d.resultType !== "matrix") throw new Error("expected a range vector result, got " + d.resultType);
    hiddenSeries.clear();
    lastGraph = { result: d.result, opts: { start, end, step, stacked: $("stacked").checked } };
    const n = KChart.draw($("chart"), $("legend"), d.result, lastGraph.opts, hiddenSeries);
    $("stats").textContent = "Result series: " + d.result.length + " · Points drawn: " + n +
      " · Resolution: " + K.formatDuration(step);
    if (!d.result.length) $("chart").appendChild(K.el("div", { class: "empty" }, "No datapoints found."));
  }
  function valueCell(s) {
    if (s.value) return s.value[1];
    if (s.histogram) {
      const h = s.histogram[1];
      return "count: " + h.count + ", sum: " + h.sum + (h.buckets ? ", " + h.buckets.length + " buckets" : "");
    }
    if (s.values) return s.values.map(v => v[1] + " @" + v[0]).join("\n");
    if (s.histograms) return s.histograms.map(v => "count: " + v[1].count + " @" + v[0]).join("\n");
    return "";
  }

  const MAX_ROWS = 10000;

  function renderTable(d) {
    const out = $("table-result");
    const tbody = K.el("tbody");
    const table = K.el("table", { class: "data", id: "result-table" },
      K.el("thead", {}, K.el("tr", {}, K.el("th", {}, "Series"), K.el("th", {}, "Value"))), tbody);
    let count = 0;
    if (d.resultType === "vector" || d.resultType === "matrix") {
      count = d.result.length;
      for (const s of d.result.slice(0, MAX_ROWS)) {
        tbody.appendChild(K.el("tr", {},
          K.el("td", { class: "series" }, K.metricText(s.metric)),
          K.el("td", { class: "num", style: s.values ? "white-space:pre" : null }, valueCell(s))));
      }
    } else {
      count = 1;
      tbody.appendChild(K.el("tr", {}, K.el("td", { class: "series" }, d.resultType),
        K.el("td", { class: "num" }, String(d.result[1]))));
    }
    K.fill(out, table,
      count === 0 ? K.el("div", { class: "empty" }, "Empty query result") : null,
      count > MAX_ROWS ? K.el("div", { class: "warning" }, "Showing the first " + MAX_ROWS + " of " + count + " series.") : null);
    $("stats").textContent = "Result series: " + count;
  }

  // ---------- Tabs and controls ----------
  function setTab(t, run) {
    tab = t;
    $("tab-table").classList.toggle("active", t === "table");
    $("tab-graph").classList.toggle("active", t === "graph");
    $("table-pane").hidden = t !== "table";
    $("graph-pane").hidden = t !== "graph";
    if (run) execute();
    else writeUrl();
  }

  function shiftTime(input, sign, amount) {
    let t;
    try {
      t = nowOr(input);
    } catch (e) {
      return showError(e);
    }
    $(input).value = K.formatTime(t + sign * amount);
    execute();
  }

  function stepRange(dir) {
    let cur;
    try {
      cur = rangeMs();
    } catch (e) {
      return showError(e);
    }
    const next = dir > 0 ? RANGE_STEPS.find(s => s > cur) : [...RANGE_STEPS].reverse().find(s => s < cur);
    if (next) {
      $("range").value = K.formatDuration(next);
      execute();
    }
  }

  expr.addEventListener("input", () => { autosize(); showCompletions(); });
  expr.addEventListener("blur", closeCompletions);
  expr.addEventListener("keydown", e => {
    if (!box.hidden && items.length) {
      if (e.key === "ArrowDown") { e.preventDefault(); sel = (sel + 1) % items.length; return highlight(); }
      if (e.key === "ArrowUp") { e.preventDefault(); sel = (sel - 1 + items.length) % items.length; return highlight(); }
      if (e.key === "Tab") { e.preventDefault(); return accept(sel >= 0 ? sel : 0); }
      if (e.key === "Enter" && sel >= 0) { e.preventDefault(); return accept(sel); }
      if (e.key === "Escape") { e.preventDefault(); return closeCompletions(); }
    }
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      execute();
    }
  });
  $("execute").addEventListener("click", execute);
  $("history").addEventListener("change", e => {
    if (e.target.value) {
      expr.value = e.target.value;
      autosize();
      e.target.value = "";
      expr.focus();
    }
  });
  $("metric-list").addEventListener("change", e => {
    if (e.target.value) insertAtCursor(e.target.value);
    e.target.value = "";
  });
  $("tab-table").addEventListener("click", () => setTab("table", true));
  $("tab-graph").addEventListener("click", () => setTab("graph", true));
  $("moment-back").addEventListener("click", () => shiftTime("moment", -1, K.parseDuration($("range").value) || 3600e3));
  $("moment-fwd").addEventListener("click", () => shiftTime("moment", 1, K.parseDuration($("range").value) || 3600e3));
  $("end-back").addEventListener("click", () => shiftTime("end", -1, (K.parseDuration($("range").value) || 3600e3) / 2));
  $("end-fwd").addEventListener("click", () => shiftTime("end", 1, (K.parseDuration($("range").value) || 3600e3) / 2));
  $("range-less").addEventListener("click", () => stepRange(-1));
  $("range-more").addEventListener("click", () => stepRange(1));
  for (const id of ["range", "end", "moment", "step"]) {
    $(id).addEventListener("keydown", e => { if (e.key === "Enter") { e.preventDefault(); execute(); } });
  }
  $("stacked").addEventListener("change", () => {
    writeUrl();
    if (lastGraph) {
      lastGraph.opts.stacked = $("stacked").checked;
      KChart.draw($("chart"), $("legend"), lastGraph.result, lastGraph.opts, hiddenSeries);
    }
  });
  window.addEventListener("resize", () => {
    if (lastGraph && tab === "graph") KChart.draw($("chart"), $("legend"), lastGraph.result, lastGraph.opts, hiddenSeries);
  });

  $("local-time").checked = K.localTime();
  $("local-time").addEventListener("change", e => {
    // Keep the instants the time fields name; only their wall-clock rendering changes.
    const kept = ["moment", "end"].map(id => [id, K.parseTime($(id).value)]);
    K.setLocalTime(e.target.checked);
    for (const [id, t] of kept) if (t !== null && !isNaN(t)) $(id).value = K.formatTime(t);
    writeUrl();
    if (lastGraph && tab === "graph") KChart.draw($("chart"), $("legend"), lastGraph.result, lastGraph.opts, hiddenSeries);
  });

  readUrl();
  renderHistory();
  loadMetricNames();
  setTab(tab, false);
  autosize();
  if (expr.value.trim()) execute();
  expr.focus();
})();
