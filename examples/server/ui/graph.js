// The expression browser page: panels (panel.js) whose state lives in the URL as Prometheus
// writes it (g0.expr, g0.tab, g0.range_input, g1.expr, ...), the shared query history in
// localStorage, and the local-time switch.
"use strict";

(() => {
  const HISTORY_KEY = "kagari.history";
  const HISTORY_MAX = 50;
  const panels = [];
  const holder = document.getElementById("panels");

  // ---------- History ----------
  function loadHistory() {
    try {
      const h = JSON.parse(localStorage.getItem(HISTORY_KEY) || "[]");
      return Array.isArray(h) ? h.filter(x => typeof x === "string") : [];
    } catch (e) {
      return [];
    }
  }

  function remember(q) {
    const h = loadHistory().filter(x => x !== q);
    h.unshift(q);
    try {
      localStorage.setItem(HISTORY_KEY, JSON.stringify(h.slice(0, HISTORY_MAX)));
    } catch (e) { /* storage full or disabled: history is best effort */ }
    for (const p of panels) p.renderHistory();
  }

  // ---------- URL state ----------
  /** Panel states from `g<N>.*` parameters, in N order; one empty panel when there are none. */
  function readUrl() {
    const p = new URLSearchParams(location.search);
    const ids = new Set();
    for (const k of p.keys()) {
      const m = /^g(\d+)\./.exec(k);
      if (m) ids.add(parseInt(m[1], 10));
    }
    const states = [...ids].sort((a, b) => a - b).map(i => {
      const g = k => p.get("g" + i + "." + k) || "";
      const tab = g("tab");
      return {
        expr: g("expr"), tab: tab === "0" || tab === "graph" ? "graph" : "table", range: g("range_input"),
        end: g("end_input"), moment: g("moment_input"), step: g("step_input"),
        // 2.x writes g0.stacked=1, 3.x g0.display_mode=stacked.
        stacked: g("stacked") === "1" || g("display_mode") === "stacked",
      };
    });
    return states.length ? states : [{}];
  }

  function writeUrl() {
    const p = new URLSearchParams();
    panels.forEach((panel, i) => {
      const s = panel.state();
      const g = "g" + i + ".";
      p.set(g + "expr", s.expr);
      p.set(g + "tab", s.tab === "graph" ? "0" : "1");
      p.set(g + "stacked", s.stacked ? "1" : "0");
      p.set(g + "range_input", s.range);
      if (s.end) p.set(g + "end_input", s.end);
      if (s.moment) p.set(g + "moment_input", s.moment);
      if (s.step) p.set(g + "step_input", s.step);
    });
    history.replaceState(null, "", location.pathname + "?" + p);
  }

  // ---------- Panels ----------
  function updateRemoveButtons() {
    for (const p of panels) p.root.querySelector(".remove-panel").hidden = panels.length < 2;
  }

  function addPanel(state) {
    const panel = KPanel.create(state, {
      changed: writeUrl,
      remember,
      history: loadHistory,
      remove() {
        const i = panels.indexOf(panel);
        if (i < 0 || panels.length < 2) return;
        panels.splice(i, 1);
        panel.root.remove();
        updateRemoveButtons();
        writeUrl();
      },
    });
    panels.push(panel);
    holder.appendChild(panel.root);
    panel.autosize();
    updateRemoveButtons();
    return panel;
  }

  document.getElementById("add-panel").addEventListener("click", () => {
    addPanel({}).focus();
    writeUrl();
  });

  const localTime = document.getElementById("local-time");
  localTime.checked = K.localTime();
  localTime.addEventListener("change", () => {
    // The time fields keep naming the same instants; only their wall-clock text changes.
    const kept = panels.map(p => p.times());
    K.setLocalTime(localTime.checked);
    panels.forEach((p, i) => p.setTimes(kept[i]));
    writeUrl();
  });
  window.addEventListener("resize", () => panels.forEach(p => p.redraw()));

  const states = readUrl();
  for (const s of states) addPanel(s);
  writeUrl();
  panels.forEach((p, i) => { if (states[i].expr) p.execute(); });
  panels[0].focus();
})();
