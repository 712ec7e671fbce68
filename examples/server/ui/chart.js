// A small SVG line chart for range-query results: axes with nice ticks, one path per series
// (broken at gaps), optional stacking, a clickable legend and a hover tooltip.
"use strict";

const KChart = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
    "#7f7f7f", "#bcbd22", "#17becf"];
  const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600,
    43200, 86400, 172800, 604800, 1209600, 2592000, 7776000, 31536000].map(s => s * 1000);

  function color(i) {
    return i < PALETTE.length ? PALETTE[i] : "hsl(" + ((i * 137.508) % 360).toFixed(1) + ",65%,45%)";
  }

  function svg(tag, attrs) {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    return e;
  }

  /** Parses a sample value string; non-finite values are not drawn. */
  function num(s) {
    const v = parseFloat(s);
    return isFinite(v) ? v : null;
  }

  /** About `count` round tick values covering [lo, hi]. */
  function niceTicks(lo, hi, count) {
    const span = hi - lo;
    const raw = span / Math.max(count, 1);
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const norm = raw / mag;
    const step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
    const ticks = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    return { ticks, step };
  }

  function formatValue(v, step) {
    const a = Math.abs(v);
    if (v === 0) return "0";
    if (a >= 1e6 || a < 1e-3) return v.toExponential(2).replace(/\.?0+e/, "e");
    const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step || a))));
    return v.toFixed(decimals);
  }

  function formatTick(ms, stepMs) {
    const iso = new Date(ms + K.zoneOffset(ms)).toISOString();
    if (stepMs >= 86400e3) return iso.slice(5, 10);
    if (stepMs >= 60e3) return ((ms + K.zoneOffset(ms)) % 86400e3 === 0 ? iso.slice(5, 10) + " " : "") + iso.slice(11, 16);
    return iso.slice(11, 19);
  }

  /**
   * Builds drawable series from a matrix result: [{metric, points: [[tMs, y]], base: [[tMs, y0]]}].
   * With `stacked`, each visible series sits on the sum of the visible ones before it.
   */
  function prepare(result, hidden, stacked) {
    const sums = new Map();
    return result.map((s, i) => {
      const pts = [];
      const base = [];
      for (const [t, v] of s.values || []) {
        const y = num(v);
        if (y === null) continue;
        const ms = Math.round(t * 1000);
        if (stacked && !hidden.has(i)) {
          const b = sums.get(ms) || 0;
          sums.set(ms, b + y);
          base.push([ms, b]);
          pts.push([ms, b + y]);
        } else {
          pts.push([ms, y]);
        }
      }
      return { metric: s.metric, index: i, points: pts, base, raw: s.values || [] };
    });
  }

  /** Splits points into runs where neighbours are at most 1.5 steps apart. */
  function runs(points, stepMs) {
    const out = [];
    let cur = [];
    for (const p of points) {
      if (cur.length && p[0] - cur[cur.length - 1][0] > stepMs * 1.5) {
        out.push(cur);
        cur = [];
      }
      cur.push(p);
    }
    if (cur.length) out.push(cur);
    return out;
  }

  /**
   * Draws `result` (a matrix) into `container`, the legend into `legendEl`.
   * opts: {start, end, step (ms), stacked}. Returns the number of points drawn.
   */
  function draw(container, legendEl, result, opts, hidden) {
    hidden = hidden || new Set();
    container.replaceChildren();
    const width = Math.max(container.clientWidth || 0, 320);
    const height = 360;
    const series = prepare(result, hidden, opts.stacked);
    const visible = series.filter(s => !hidden.has(s.index));

    let lo = Infinity, hi = -Infinity;
    for (const s of visible) {
      for (const [, y] of s.points) {
        lo = Math.min(lo, y);
        hi = Math.max(hi, y);
      }
      for (const [, y] of s.base) lo = Math.min(lo, y);
    }
    if (!isFinite(lo)) { lo = 0; hi = 1; }
    if (opts.stacked) lo = Math.min(lo, 0);
    if (lo === hi) {
      const pad = Math.abs(lo) * 0.1 || 1;
      lo -= pad;
      hi += pad;
    }
    const yt = niceTicks(lo, hi, 6);
    if (yt.ticks.length) {
      lo = Math.min(lo, yt.ticks[0]);
      hi = Math.max(hi, yt.ticks[yt.ticks.length - 1]);
    }
    const yLabels = yt.ticks.map(v => formatValue(v, yt.step));
    const m = { left: Math.max(...yLabels.map(l => l.length), 1) * 7 + 14, right: 14, top: 10, bottom: 26 };
    const pw = width - m.left - m.right;
    const ph = height - m.top - m.bottom;
    const x = t => m.left + ((t - opts.start) / Math.max(opts.end - opts.start, 1)) * pw;
    const y = v => m.top + (1 - (v - lo) / (hi - lo)) * ph;

    const root = svg("svg", { viewBox: "0 0 " + width + " " + height, width, height, role: "img",
      "aria-label": "Graph of " + result.length + " series" });
    const grid = svg("g", { class: "grid" });
    const axis = svg("g", { class: "axis" });
    yt.ticks.forEach((v, i) => {
      const yy = y(v).toFixed(1);
      grid.appendChild(svg("line", { x1: m.left, x2: width - m.right, y1: yy, y2: yy }));
      const t = svg("text", { x: m.left - 6, y: yy, "text-anchor": "end", "dominant-baseline": "middle" });
      t.textContent = yLabels[i];
      axis.appendChild(t);
    });
    const span = opts.end - opts.start;
    const tStep = TIME_STEPS.find(s => span / s <= pw / 110) || TIME_STEPS[TIME_STEPS.length - 1];
    // Ticks fall on round wall-clock times of the chosen zone.
    const off = K.zoneOffset(opts.start);
    for (let t = Math.ceil((opts.start + off) / tStep) * tStep - off; t <= opts.end; t += tStep) {
      const xx = x(t).toFixed(1);
      grid.appendChild(svg("line", { x1: xx, x2: xx, y1: m.top, y2: m.top + ph }));
      if (x(t) < m.left + 30 || x(t) > width - m.right - 30) continue; // label would be clipped
      const lbl = svg("text", { x: xx, y: height - 8, "text-anchor": "middle" });
      lbl.textContent = formatTick(t, tStep);
      axis.appendChild(lbl);
    }
    axis.appendChild(svg("line", { class: "base", x1: m.left, x2: m.left, y1: m.top, y2: m.top + ph }));
    axis.appendChild(svg("line", { class: "base", x1: m.left, x2: width - m.right, y1: m.top + ph, y2: m.top + ph }));
    root.appendChild(grid);
    root.appendChild(axis);

    const plot = svg("g", { class: "plot" });
    let drawn = 0;
    for (const s of visible) {
      const c = color(s.index);
      const baseAt = new Map(s.base);
      for (const run of runs(s.points, opts.step)) {
        const d = run.map((p, i) => (i ? "L" : "M") + x(p[0]).toFixed(1) + " " + y(p[1]).toFixed(1)).join(" ");
        if (opts.stacked && run.length > 1) {
          const back = run.slice().reverse()
            .map(p => "L" + x(p[0]).toFixed(1) + " " + y(baseAt.get(p[0]) || 0).toFixed(1)).join(" ");
          plot.appendChild(svg("path", { class: "area", d: d + " " + back + " Z", fill: c }));
        }
        if (run.length === 1) {
          plot.appendChild(svg("circle", { class: "point", cx: x(run[0][0]).toFixed(1), cy: y(run[0][1]).toFixed(1),
            r: 2, fill: c }));
        }
        plot.appendChild(svg("path", { class: "series", d, stroke: c, "data-series": s.index,
          "data-points": run.length }));
        drawn += run.length;
      }
    }
    root.appendChild(plot);
    container.appendChild(root);
    hover(container, root, series.filter(s => !hidden.has(s.index)), opts, x, y, m, ph);

    if (legendEl) {
      legendEl.replaceChildren();
      series.forEach(s => {
        const li = K.el("li", { class: hidden.has(s.index) ? "off" : null, title: "Click to hide or show",
          onclick: () => {
            if (hidden.has(s.index)) hidden.delete(s.index);
            else hidden.add(s.index);
            draw(container, legendEl, result, opts, hidden);
          } },
        K.el("span", { class: "swatch", style: "background:" + color(s.index) }), K.metricText(s.metric));
        legendEl.appendChild(li);
      });
    }
    return drawn;
  }

  /** A vertical rule and a tooltip with each series' value at the nearest step. */
  function hover(container, root, series, opts, x, y, m, ph) {
    const g = svg("g", { class: "hover" });
    const line = svg("line", { y1: m.top, y2: m.top + ph, visibility: "hidden" });
    g.appendChild(line);
    root.appendChild(g);
    const tip = K.el("div", { class: "tooltip", hidden: true });
    container.appendChild(tip);
    root.addEventListener("mouseleave", () => {
      line.setAttribute("visibility", "hidden");
      tip.hidden = true;
    });
    root.addEventListener("mousemove", ev => {
      const box = root.getBoundingClientRect();
      const px = (ev.clientX - box.left) * (root.viewBox.baseVal.width / box.width);
      const t = opts.start + ((px - m.left) / (root.viewBox.baseVal.width - m.left - m.right)) * (opts.end - opts.start);
      const rows = [];
      let at = null;
      for (const s of series) {
        let best = null;
        for (let i = 0; i < s.points.length; i++) {
          if (!best || Math.abs(s.points[i][0] - t) < Math.abs(best.p[0] - t)) best = { p: s.points[i], i };
        }
        if (!best || Math.abs(best.p[0] - t) > opts.step) continue;
        at = best.p[0];
        const rawV = s.raw.find(v => Math.round(v[0] * 1000) === best.p[0]);
        rows.push({ s, v: rawV ? rawV[1] : String(best.p[1]) });
      }
      if (at === null) {
        line.setAttribute("visibility", "hidden");
        tip.hidden = true;
        return;
      }
      const xx = x(at).toFixed(1);
      line.setAttribute("x1", xx);
      line.setAttribute("x2", xx);
      line.setAttribute("visibility", "visible");
      rows.sort((a, b) => parseFloat(b.v) - parseFloat(a.v));
      tip.replaceChildren(K.el("div", {}, K.formatTime(at)),
        ...rows.slice(0, 15).map(r => K.el("div", { class: "mono" },
          K.el("span", { class: "swatch", style: "display:inline-block;width:8px;height:8px;margin-right:4px;background:" + color(r.s.index) }),
          K.metricText(r.s.metric) + ": " + r.v)),
        ...(rows.length > 15 ? [K.el("div", {}, "… " + (rows.length - 15) + " more")] : []));
      tip.hidden = false;
      // Beside the cursor, on the side with more room.
      const left = ev.clientX - container.getBoundingClientRect().left;
      const w = tip.offsetWidth;
      tip.style.left = (left > container.clientWidth / 2 ? Math.max(left - w - 14, 0) : left + 14) + "px";
      tip.style.top = (m.top + 10) + "px";
    });
  }

  return { draw, niceTicks, formatValue };
})();
