// /targets: active targets from /api/v1/targets grouped by scrape pool.
// /service-discovery: each pool's discovered labels beside the labels relabeling made of them.
"use strict";

(() => {
  const page = document.getElementById("main").dataset.page;
  const out = document.getElementById("targets");
  const unhealthyOnly = document.getElementById("unhealthy-only");
  const search = document.getElementById("target-search");
  const collapsed = new Set();
  let data = null;

  function stateBadge(health) {
    const h = (health || "unknown").toLowerCase();
    return K.el("span", { class: "state state-" + h }, h.toUpperCase());
  }

  function matches(t, q) {
    if (!q) return true;
    const hay = [t.scrapeUrl, ...Object.entries(t.labels || {}).map(([k, v]) => k + "=\"" + v + "\"")].join(" ");
    return hay.toLowerCase().includes(q.toLowerCase());
  }

  function render() {
    if (!data) return;
    const pools = new Map();
    for (const t of data.activeTargets || []) {
      if (!pools.has(t.scrapePool)) pools.set(t.scrapePool, []);
      pools.get(t.scrapePool).push(t);
    }
    const q = search.value.trim();
    const sections = [];
    for (const [pool, targets] of [...pools.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
      const up = targets.filter(t => t.health === "up").length;
      const shown = targets.filter(t => (!unhealthyOnly.checked || t.health !== "up") && matches(t, q));
      if (!shown.length && (unhealthyOnly.checked || q)) continue;
      const rows = shown.map(t => K.el("tr", { class: "target", "data-health": t.health },
        K.el("td", {}, K.el("a", { href: t.globalUrl || t.scrapeUrl }, t.scrapeUrl)),
        K.el("td", {}, stateBadge(t.health)),
        K.el("td", {}, K.labelBadges(t.labels)),
        K.el("td", { title: t.lastScrape }, K.ago(t.lastScrape)),
        K.el("td", { class: "num" }, K.humanDuration(t.lastScrapeDuration || 0)),
        K.el("td", {}, t.lastError ? K.el("span", { class: "error" }, t.lastError) : "")));
      const open = !collapsed.has(pool);
      const details = K.el("details", { class: "pool", id: "pool-" + pool, open: open },
        K.el("summary", {}, pool + " (" + up + "/" + targets.length + " up)"),
        K.el("div", { class: "body" },
          K.el("table", { class: "data" },
            K.el("thead", {}, K.el("tr", {}, ...["Endpoint", "State", "Labels", "Last Scrape", "Scrape Duration",
              "Error"].map(h => K.el("th", {}, h)))),
            K.el("tbody", {}, rows))));
      details.addEventListener("toggle", () => {
        if (details.open) collapsed.delete(pool);
        else collapsed.add(pool);
      });
      sections.push(details);
    }
    if (!sections.length) {
      sections.push(K.el("div", { class: "empty" }, pools.size ? "No targets match the filter." : "No targets."));
    }
    const dropped = (data.droppedTargets || []).length;
    K.fill(out, sections, dropped ? K.el("p", { class: "muted" }, dropped + " target(s) dropped by relabeling.") : null);
  }

  /** /service-discovery: discovered labels → target labels, or "Dropped". */
  function renderSd() {
    const pools = new Map();
    const add = (pool, row) => {
      if (!pools.has(pool)) pools.set(pool, { rows: [], active: 0, dropped: 0 });
      const p = pools.get(pool);
      p.rows.push(row);
      if (row.labels) p.active++;
      else p.dropped++;
    };
    for (const t of data.activeTargets || []) add(t.scrapePool, t);
    for (const t of data.droppedTargets || []) add(t.scrapePool, { discoveredLabels: t.discoveredLabels });
    const q = search.value.trim().toLowerCase();
    const sections = [...pools.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([pool, p]) => {
      const rows = p.rows
        .filter(r => !unhealthyOnly.checked || !r.labels)
        .filter(r => !q || JSON.stringify(r.discoveredLabels).toLowerCase().includes(q))
        .map(r => K.el("tr", { class: r.labels ? "sd-active" : "sd-dropped" },
          K.el("td", {}, K.labelBadges(r.discoveredLabels)),
          K.el("td", {}, r.labels ? K.labelBadges(r.labels) : K.el("span", { class: "muted" }, "Dropped"))));
      return K.el("details", { class: "pool", open: true },
        K.el("summary", {}, pool + " (" + p.active + " / " + (p.active + p.dropped) + " active targets)"),
        K.el("div", { class: "body" }, K.el("table", { class: "data" },
          K.el("thead", {}, K.el("tr", {}, K.el("th", {}, "Discovered Labels"), K.el("th", {}, "Target Labels"))),
          K.el("tbody", {}, rows))));
    });
    K.fill(out, sections.length ? sections : [K.el("div", { class: "empty" }, "No targets.")]);
  }

  async function load() {
    try {
      data = (await K.api("targets", { state: "any" })).data;
      if (page === "/service-discovery") renderSd();
      else render();
    } catch (e) {
      K.fill(out, K.errorBox(e));
    }
  }

  const rerender = () => (page === "/service-discovery" ? renderSd() : render());
  unhealthyOnly.addEventListener("change", rerender);
  search.addEventListener("input", rerender);
  document.getElementById("refresh").addEventListener("click", load);
  load();
})();
