// /alerts and /rules: rule groups from /api/v1/rules, active alerts from /api/v1/alerts.
"use strict";

(() => {
  const main = document.getElementById("main");
  const out = document.getElementById("rules");
  const page = main.dataset.page;

  function stateBadge(state) {
    const s = (state || "unknown").toLowerCase();
    return K.el("span", { class: "state state-" + s }, s.toUpperCase());
  }

  /** A link to the expression browser's Table tab for `query`. */
  function graphLink(query) {
    const p = new URLSearchParams({ "g0.expr": query, "g0.tab": "1" });
    return K.el("a", { href: K.prefix + "/graph?" + p, class: "expr" }, query);
  }

  /** The rule as YAML, its expression linked to the expression browser. */
  function ruleText(r) {
    const head = (r.type === "alerting" ? "alert: " : "record: ") + r.name + "\nexpr: ";
    const lines = [];
    if (r.type === "alerting" && r.duration) lines.push("for: " + K.formatDuration(r.duration * 1000));
    if (r.keepFiringFor) lines.push("keep_firing_for: " + K.formatDuration(r.keepFiringFor * 1000));
    for (const [key, obj] of [["labels", r.labels], ["annotations", r.annotations]]) {
      const keys = Object.keys(obj || {}).sort();
      if (!keys.length) continue;
      lines.push(key + ":");
      for (const k of keys) lines.push("  " + k + ": " + JSON.stringify(obj[k]));
    }
    return K.el("pre", { class: "rule" }, head, graphLink(r.query), lines.length ? "\n" + lines.join("\n") : null);
  }

  function alertsTable(alerts) {
    return K.el("table", { class: "data" },
      K.el("thead", {}, K.el("tr", {}, ...["Labels", "State", "Active Since", "Value"].map(h => K.el("th", {}, h)))),
      K.el("tbody", {}, (alerts || []).map(a => K.el("tr", { class: "alert" },
        K.el("td", {}, K.labelBadges(a.labels)),
        K.el("td", {}, stateBadge(a.state)),
        K.el("td", { title: a.activeAt || "" }, a.activeAt ? a.activeAt : ""),
        K.el("td", { class: "num" }, a.value === undefined ? "" : String(a.value))))));
  }

  function healthCell(r) {
    const ok = r.health === "ok";
    return K.el("td", {}, K.el("span", { class: "state state-" + (ok ? "ok" : r.health === "err" ? "err" : "unknown") },
      (r.health || "unknown").toUpperCase()), r.lastError ? K.el("div", { class: "error" }, r.lastError) : null);
  }

  /** /rules: every group with every rule, its health and evaluation figures. */
  function renderRules(groups) {
    return groups.map(g => K.el("section", { class: "pool group" },
      K.el("h2", {}, g.name + (g.file ? " (" + g.file + ")" : "")),
      K.el("div", { class: "body" },
        K.el("p", { class: "muted" }, "Interval: " + K.formatDuration((g.interval || 0) * 1000) +
          " · Last evaluation: " + (g.lastEvaluation ? K.ago(g.lastEvaluation) : "never") +
          " · Evaluation time: " + K.humanDuration(g.evaluationTime || 0)),
        K.el("table", { class: "data" },
          K.el("thead", {}, K.el("tr", {}, ...["Rule", "State", "Health", "Last Evaluation", "Evaluation Time"]
            .map(h => K.el("th", {}, h)))),
          K.el("tbody", {}, (g.rules || []).map(r => K.el("tr", { class: "rule-row" },
            K.el("td", {}, ruleText(r)),
            K.el("td", {}, r.type === "alerting" ? stateBadge(r.state) : ""),
            healthCell(r),
            K.el("td", { title: r.lastEvaluation || "" }, r.lastEvaluation ? K.ago(r.lastEvaluation) : "never"),
            K.el("td", { class: "num" }, K.humanDuration(r.evaluationTime || 0)))))))));
  }

  /** /alerts: alerting rules with their state counts and active alerts. */
  function renderAlerts(groups, activeAlerts) {
    const show = new Set(["inactive", "pending", "firing"].filter(s => document.getElementById("show-" + s).checked));
    const counts = { inactive: 0, pending: 0, firing: 0 };
    const sections = [];
    for (const g of groups) {
      const rules = (g.rules || []).filter(r => r.type === "alerting");
      rules.forEach(r => { counts[r.state] = (counts[r.state] || 0) + 1; });
      const shown = rules.filter(r => show.has(r.state || "inactive"));
      if (!shown.length) continue;
      sections.push(K.el("section", { class: "pool group" },
        K.el("h2", {}, g.name + (g.file ? " (" + g.file + ")" : "")),
        K.el("div", { class: "body" }, shown.map(r => K.el("details", { class: "alert-rule" },
          K.el("summary", {}, stateBadge(r.state), " " + r.name + " (" + (r.alerts || []).length + " active)"),
          ruleText(r),
          (r.alerts || []).length ? alertsTable(r.alerts) : null)))));
    }
    const summary = K.el("p", { class: "muted" }, "Inactive: " + counts.inactive + " · Pending: " + counts.pending +
      " · Firing: " + counts.firing);
    // Alerts the API reports without a rule shown above (e.g. before the rule list loads).
    const orphan = groups.length ? [] : activeAlerts;
    return [summary, ...sections, orphan.length ? K.el("h2", {}, "Active alerts") : null,
      orphan.length ? alertsTable(orphan) : null];
  }

  async function load() {
    try {
      const type = page === "/alerts" ? "alert" : null;
      const [rules, alerts] = await Promise.all([
        K.api("rules", type ? { type } : {}),
        page === "/alerts" ? K.api("alerts") : Promise.resolve({ data: { alerts: [] } }),
      ]);
      const groups = (rules.data && rules.data.groups) || [];
      const active = (alerts.data && alerts.data.alerts) || [];
      if (!groups.length && !active.length) {
        K.fill(out, K.el("div", { class: "empty", id: "no-rules" },
          page === "/alerts" ? "No alerting rules defined." : "No rules defined."));
        return;
      }
      K.fill(out, page === "/alerts" ? renderAlerts(groups, active) : renderRules(groups));
    } catch (e) {
      K.fill(out, K.errorBox(e));
    }
  }

  for (const s of ["inactive", "pending", "firing"]) {
    const cb = document.getElementById("show-" + s);
    if (cb) cb.addEventListener("change", load);
  }
  load();
})();
