// One expression-browser panel: query box (history, completion), Table tab (instant query at an
// evaluation time) and Graph tab (range query drawn by KChart). Built from the
// #panel-template markup; every element is found by class inside the panel's root.
"use strict";

const KPanel = (() => {
  const RANGE_STEPS = ["1s", "10s", "1m", "5m", "15m", "30m", "1h", "2h", "6h", "12h", "1d", "2d", "1w", "2w",
    "4w", "8w", "1y"].map(K.parseDuration);
  const MAX_ROWS = 10000;

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

  /**
   * A panel. `init`: {expr, tab, range, end, moment, step, stacked}. `hooks`: {changed() (state
   * to the URL), remember(query), history() → queries, remove()}.
   */
  function create(init, hooks) {
    const root = document.getElementById("panel-template").content.firstElementChild.cloneNode(true);
    const $ = cls => root.querySelector("." + cls);
    const expr = $("expr");
    let tab = init.tab === "graph" ? "graph" : "table";
    let inflight = null;
    let lastGraph = null;
    const hiddenSeries = new Set();

    expr.value = init.expr || "";
    $("range").value = init.range || "1h";
    $("end").value = init.end || "";
    $("moment").value = init.moment || "";
    $("step").value = init.step || "";
    $("stacked").checked = !!init.stacked;

    const completion = KComplete.attach(expr, $("completions"), autosize);

    function state() {
      return {
        expr: expr.value, tab, range: $("range").value.trim(), end: $("end").value.trim(),
        moment: $("moment").value.trim(), step: $("step").value.trim(), stacked: $("stacked").checked,
      };
    }

    function autosize() {
      expr.style.height = "auto";
      expr.style.height = Math.min(expr.scrollHeight + 2, 400) + "px";
    }

    function insertAtCursor(text) {
      const s = expr.selectionStart, e = expr.selectionEnd;
      expr.value = expr.value.slice(0, s) + text + expr.value.slice(e);
      expr.setSelectionRange(s + text.length, s + text.length);
      expr.focus();
      autosize();
    }

    function renderHistory() {
      const sel = $("history");
      sel.replaceChildren(K.el("option", { value: "" }, "- query history -"),
        ...hooks.history().map(q => K.el("option", { value: q }, q.length > 100 ? q.slice(0, 100) + "…" : q)));
    }

    /** The metric dropdown (the first 10,000 names; completion searches them all). */
    function renderMetricList() {
      const names = KComplete.metricNames();
      $("metric-list").replaceChildren(K.el("option", { value: "" }, "- insert metric at cursor -"),
        ...names.slice(0, 10000).map(n => K.el("option", { value: n }, n)));
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
      completion.close();
      const q = expr.value.trim();
      hooks.changed();
      if (!q) return;
      hooks.remember(q);
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
          lastGraph = null;
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
      const n = redraw();
      $("stats").textContent = "Result series: " + d.result.length + " · Points drawn: " + n +
        " · Resolution: " + K.formatDuration(step);
      if (!d.result.length) $("chart").appendChild(K.el("div", { class: "empty" }, "No datapoints found."));
      const hist = d.result.filter(s => s.histograms && s.histograms.length).length;
      if (hist) {
        $("chart").appendChild(K.el("div", { class: "warning" }, hist + " series hold native histograms, which " +
          "the graph does not draw; graph histogram_count(), histogram_sum() or histogram_quantile() of them."));
      }
    }

    /** Draws the last range result again (resize, stacking, time zone); returns the points drawn. */
    function redraw() {
      if (!lastGraph || tab !== "graph") return 0;
      lastGraph.opts.stacked = $("stacked").checked;
      return KChart.draw($("chart"), $("legend"), lastGraph.result, lastGraph.opts, hiddenSeries);
    }

    function renderTable(d) {
      const tbody = K.el("tbody");
      const table = K.el("table", { class: "data result-table" },
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
      K.fill($("table-result"), table,
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
      else hooks.changed();
    }

    function shiftTime(input, sign, fraction) {
      let t;
      try {
        t = nowOr(input);
      } catch (e) {
        return showError(e);
      }
      const amount = (K.parseDuration($("range").value) || 3600e3) * fraction;
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

    expr.addEventListener("input", autosize);
    expr.addEventListener("keydown", e => {
      if (completion.onKey(e)) return;
      if (e.key === "Enter" && !e.shiftKey) {
        e.preventDefault();
        execute();
      }
    });
    $("execute").addEventListener("click", execute);
    $("format").addEventListener("click", async () => {
      const q = expr.value.trim();
      if (!q) return;
      try {
        const j = await K.api("format_query", { query: q }, { post: true });
        showError(null);
        expr.value = j.data;
        autosize();
        hooks.changed();
      } catch (e) {
        showError(e);
      }
    });
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
    $("moment-back").addEventListener("click", () => shiftTime("moment", -1, 1));
    $("moment-fwd").addEventListener("click", () => shiftTime("moment", 1, 1));
    $("end-back").addEventListener("click", () => shiftTime("end", -1, 0.5));
    $("end-fwd").addEventListener("click", () => shiftTime("end", 1, 0.5));
    $("range-less").addEventListener("click", () => stepRange(-1));
    $("range-more").addEventListener("click", () => stepRange(1));
    for (const cls of ["range", "end", "moment", "step"]) {
      $(cls).addEventListener("keydown", e => { if (e.key === "Enter") { e.preventDefault(); execute(); } });
    }
    $("stacked").addEventListener("change", () => {
      hooks.changed();
      redraw();
    });
    $("remove-panel").addEventListener("click", () => {
      if (inflight) inflight.abort();
      hooks.remove();
    });

    renderHistory();
    KComplete.loadMetricNames().then(renderMetricList);
    setTab(tab, false);

    return {
      root, state, execute, redraw, renderHistory, autosize,
      /** The instants the time fields name (ms, null for now, NaN when invalid). */
      times() {
        return ["moment", "end"].map(cls => K.parseTime($(cls).value));
      },
      /** Writes `times()` back in the current time zone and redraws. */
      setTimes(ts) {
        ["moment", "end"].forEach((cls, i) => {
          if (ts[i] !== null && !isNaN(ts[i])) $(cls).value = K.formatTime(ts[i]);
        });
        redraw();
      },
      focus() { expr.focus(); },
    };
  }

  return { create };
})();
