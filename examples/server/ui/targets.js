// /targets: active targets from /api/v1/targets grouped by scrape pool.
"use strict";

(() => {
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

  async function load() {
    try {
      data = (await K.api("targets", { state: "any" })).data;
      render();
    } catch (e) {
      K.fill(out, K.errorBox(e));
    }
  }

  unhealthyOnly.addEventListener("change", render);
  search.addEventListener("input", render);
  document.getElementById("refresh").addEventListener("click", load);
  load();
})();
