// Completion for a PromQL textarea: metric names, functions, aggregations and keywords; label
// names inside a selector or a grouping; label values inside a matcher's quotes. Names come
// from the API once per page and are shared by every panel.
"use strict";

const KComplete = (() => {
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
  let metricNamesLoaded = null;
  // Label names (per metric, "" for all) and label values, fetched once each.
  const labelNames = new Map();
  const labelValues = new Map();

  /** Fetches the metric names once; resolves to the list. */
  function loadMetricNames() {
    if (!metricNamesLoaded) {
      metricNamesLoaded = K.api("label/__name__/values")
        .then(j => j.data || [], () => [])
        .then(list => (metricNames = list));
    }
    return metricNamesLoaded;
  }

  /**
   * What the word at the cursor is: {kind: "name" | "label" | "value", word, start, metric?, label?}
   * (`name` = metric, function or keyword; `label` = a label name in a selector or a grouping;
   * `value` = inside the quotes of a matcher), or null where nothing completes.
   */
  function contextAt(text, cursor) {
    const before = text.slice(0, cursor);
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

  /** The candidates for a context, or null while they are being fetched (`then` runs after). */
  function candidates(ctx, then) {
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
        then();
      });
      return null;
    }
    if (known === null) return null;
    return rank(known.map(n => [n, ctx.kind === "label" ? "label" : "value"]), ctx.word);
  }

  /**
   * Wires completion to `expr` (a textarea) with the list element `box`. Returns
   * {close, isOpen, onKey(e) → true when the key was used}.
   */
  function attach(expr, box, afterAccept) {
    let items = [];
    let sel = -1;

    function close() {
      box.hidden = true;
      items = [];
      sel = -1;
    }

    function show() {
      const ctx = contextAt(expr.value, expr.selectionStart);
      if (!ctx || document.activeElement !== expr) return close();
      const found = candidates(ctx, show);
      if (!found || !found.length) return close();
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
      const ctx = contextAt(expr.value, expr.selectionStart);
      const item = items[i];
      if (!ctx || !item) return close();
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
      close();
      expr.focus();
      afterAccept();
    }

    function onKey(e) {
      if (box.hidden || !items.length) return false;
      if (e.key === "ArrowDown") sel = (sel + 1) % items.length;
      else if (e.key === "ArrowUp") sel = (sel - 1 + items.length) % items.length;
      else if (e.key === "Tab") accept(sel >= 0 ? sel : 0);
      else if (e.key === "Enter" && sel >= 0) accept(sel);
      else if (e.key === "Escape") close();
      else return false;
      e.preventDefault();
      if (e.key === "ArrowDown" || e.key === "ArrowUp") highlight();
      return true;
    }

    expr.addEventListener("input", show);
    expr.addEventListener("blur", close);
    return { close, onKey };
  }

  return { attach, contextAt, loadMetricNames, metricNames: () => metricNames };
})();
