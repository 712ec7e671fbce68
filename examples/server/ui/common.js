// Kagari UI helpers shared by every page: DOM building, API calls, formatting.
// Everything API-derived goes into the page as text nodes (textContent), never as markup.
"use strict";

const K = (() => {
  /** The external URL's path ("" at the root): every link and API call starts with it. */
  const PREFIX = (document.body && document.body.dataset.prefix) || "";

  /** Builds an element: el("td", {class: "num"}, "text", childNode, ...). */
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (k === "text") e.textContent = v;
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null) continue;
      e.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
    }
    return e;
  }

  /** An error carrying the API's errorType and error. */
  class ApiError extends Error {
    constructor(type, message, status) {
      super(message);
      this.type = type;
      this.status = status;
    }
    toString() {
      return (this.type ? this.type + ": " : "") + this.message;
    }
  }

  /**
   * Calls an /api/v1 endpoint (form POST when params are given as `post`), returns the whole
   * envelope on success, throws ApiError with the API's `error` otherwise.
   */
  async function api(path, params, opts) {
    const qs = new URLSearchParams(params || {});
    const post = opts && opts.post;
    let r;
    try {
      r = post
        ? await fetch(PREFIX + "/api/v1/" + path, { method: "POST", body: qs, signal: opts.signal })
        : await fetch(PREFIX + "/api/v1/" + path + (qs.toString() ? "?" + qs : ""), { signal: opts && opts.signal });
    } catch (e) {
      if (e.name === "AbortError") throw e;
      throw new ApiError("network", String(e.message || e), 0);
    }
    let j;
    const text = await r.text();
    try {
      j = JSON.parse(text);
    } catch (e) {
      throw new ApiError("http " + r.status, text.trim() || r.statusText, r.status);
    }
    if (j.status !== "success") throw new ApiError(j.errorType || "error", j.error || "unknown error", r.status);
    return j;
  }

  /** `name{a="b", c="d"}` as Prometheus prints a series. */
  function metricText(m) {
    const name = m.__name__ || "";
    const rest = Object.keys(m).filter(k => k !== "__name__").sort()
      .map(k => k + "=" + JSON.stringify(m[k]));
    if (!rest.length) return name || "{}";
    return name + "{" + rest.join(", ") + "}";
  }

  /** Label badges for a label object. */
  function labelBadges(labels) {
    return Object.keys(labels || {}).sort().map(k =>
      el("span", { class: "badge", title: k + "=" + labels[k] }, k + "=\"" + labels[k] + "\""));
  }

  const UNITS = { y: 365 * 86400e3, w: 7 * 86400e3, d: 86400e3, h: 3600e3, m: 60e3, s: 1e3, ms: 1 };

  /** Parses a Prometheus duration (`1h30m`, `90s`, `500ms`) to milliseconds, or null. */
  function parseDuration(s) {
    s = String(s || "").trim();
    if (!s) return null;
    if (/^\d+(\.\d+)?$/.test(s)) return Math.round(parseFloat(s) * 1000);
    const re = /(\d+)(ms|y|w|d|h|m|s)/y;
    let total = 0, m;
    while (re.lastIndex < s.length) {
      const at = re.lastIndex;
      m = re.exec(s);
      if (!m || m.index !== at) return null;
      total += parseInt(m[1], 10) * UNITS[m[2]];
    }
    return total;
  }

  /** Formats milliseconds as a Prometheus duration (`1h30m`, `15s`, `250ms`). */
  function formatDuration(ms) {
    if (!isFinite(ms) || ms <= 0) return "0s";
    let out = "";
    for (const u of ["y", "w", "d", "h", "m", "s", "ms"]) {
      const n = Math.floor(ms / UNITS[u]);
      if (n > 0) {
        out += n + u;
        ms -= n * UNITS[u];
      }
    }
    return out;
  }

  const LOCAL_KEY = "kagari.localTime";

  /** Whether times are shown and read in the browser's time zone (else UTC, the default). */
  function localTime() {
    try {
      return localStorage.getItem(LOCAL_KEY) === "1";
    } catch (e) {
      return false;
    }
  }

  function setLocalTime(on) {
    try {
      localStorage.setItem(LOCAL_KEY, on ? "1" : "0");
    } catch (e) { /* storage disabled: the choice lasts for this page only */ }
  }

  /** Milliseconds to add to a UTC time to show it as wall-clock time in the chosen zone. */
  function zoneOffset(ms) {
    return localTime() ? -new Date(ms).getTimezoneOffset() * 60e3 : 0;
  }

  /**
   * Parses a time input: empty → null (now); unix seconds, RFC 3339, or `YYYY-MM-DD hh:mm[:ss]`
   * (in the chosen zone) → ms; anything else → NaN.
   */
  function parseTime(s) {
    s = String(s || "").trim();
    if (!s) return null;
    if (/^-?\d+(\.\d+)?$/.test(s)) return parseFloat(s) * 1000;
    const wall = /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(s);
    if (wall) {
      const utc = Date.parse(s.replace(" ", "T") + "Z");
      return isNaN(utc) ? NaN : utc - zoneOffset(utc);
    }
    const t = Date.parse(s);
    return isNaN(t) ? NaN : t;
  }

  /** `2024-01-02 03:04:05` (UTC, or local time when chosen) for milliseconds. */
  function formatTime(ms) {
    return new Date(ms + zoneOffset(ms)).toISOString().replace("T", " ").replace(/\.000Z$|Z$/, "");
  }

  /** "1.234s ago"-style age of an RFC 3339 time, "never" for the zero time. */
  function ago(rfc3339) {
    const t = Date.parse(rfc3339);
    if (isNaN(t) || t <= 0 || String(rfc3339).startsWith("0001-")) return "never";
    const d = Date.now() - t;
    return humanDuration(Math.max(d, 0) / 1000) + " ago";
  }

  /** Seconds as a short human duration: `1.234s`, `12.5ms`, `3m 4s`. */
  function humanDuration(sec) {
    if (!isFinite(sec)) return String(sec);
    if (sec < 1e-3) return (sec * 1e6).toFixed(1) + "µs";
    if (sec < 1) return parseFloat((sec * 1e3).toFixed(3)) + "ms";
    if (sec < 60) return parseFloat(sec.toFixed(3)) + "s";
    const parts = [];
    let s = Math.floor(sec);
    for (const [u, n] of [["d", 86400], ["h", 3600], ["m", 60], ["s", 1]]) {
      if (s >= n) {
        parts.push(Math.floor(s / n) + u);
        s %= n;
      }
    }
    return parts.join(" ");
  }

  /** Replaces the children of `node`. */
  function fill(node, ...children) {
    node.replaceChildren();
    for (const c of children.flat()) if (c) node.appendChild(c);
  }

  function errorBox(e) {
    return el("div", { class: "error" }, "Error: " + String(e));
  }

  /** Marks the nav link of the current page. */
  function markNav() {
    const main = document.getElementById("main");
    const page = main && main.dataset.page;
    for (const a of document.querySelectorAll(".topnav a[data-page]")) {
      if (a.dataset.page === page) a.classList.add("active");
    }
  }
  markNav();

  return { prefix: PREFIX, el, api, ApiError, metricText, labelBadges, parseDuration, formatDuration, parseTime, formatTime,
    localTime, setLocalTime, zoneOffset,
    ago, humanDuration, fill, errorBox };
})();
