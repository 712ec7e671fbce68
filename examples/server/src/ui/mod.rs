//! The web UI: the expression browser and the status pages (targets, service discovery,
//! alerts, rules, configuration, flags, TSDB, runtime and build information), plain HTML, CSS
//! and vanilla JavaScript from `examples/server/ui/`, embedded in the binary (no build step).
//!
//! Every page is `ui/layout.html` (nav bar, stylesheet, `common.js`) around a body fragment
//! and the page's scripts, rendered once when the router is built. The pages read the
//! `/api/v1` endpoints from the browser; nothing here touches server state.
//!
//! Paths follow Prometheus: `/` redirects to `/graph` (302, as 2.x does), `/query` is the
//! 3.x name of the same page, and the assets are under `/assets/`.

use std::io::Write;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::state::AppState;
use crate::weburl::WebUrls;

const LAYOUT: &str = include_str!("../../ui/layout.html");

/// One page: its path, title, body fragment and the scripts it loads after `common.js`.
#[derive(Debug)]
struct Page {
    path: &'static str,
    title: &'static str,
    body: &'static str,
    scripts: &'static [&'static str],
}

const RULES_BODY: &str = r#"<h1>Rules</h1>
<div id="rules">Loading…</div>"#;

const ALERTS_BODY: &str = r#"<h1>Alerts</h1>
<div class="filters">
  <label><input type="checkbox" id="show-inactive" checked> Inactive</label>
  <label><input type="checkbox" id="show-pending" checked> Pending</label>
  <label><input type="checkbox" id="show-firing" checked> Firing</label>
</div>
<div id="rules">Loading…</div>"#;

const TARGETS_BODY: &str = r#"<h1>Targets</h1>
<div class="filters">
  <label><input type="checkbox" id="unhealthy-only"> Unhealthy only</label>
  <input type="text" id="target-search" placeholder="Filter by endpoint or labels" size="40">
  <button type="button" id="refresh">Refresh</button>
</div>
<div id="targets">Loading…</div>"#;

const SD_BODY: &str = r#"<h1>Service Discovery</h1>
<div class="filters">
  <label><input type="checkbox" id="unhealthy-only"> Dropped only</label>
  <input type="text" id="target-search" placeholder="Filter by discovered labels" size="40">
  <button type="button" id="refresh">Refresh</button>
</div>
<div id="targets">Loading…</div>"#;

/// A status page: a heading and a container `status.js` fills.
macro_rules! status_body {
    ($title:literal) => {
        concat!("<h1>", $title, "</h1>\n<div id=\"content\">Loading…</div>")
    };
}

const PAGES: &[Page] = &[
    Page {
        path: "/graph",
        title: "Graph",
        body: include_str!("../../ui/graph.html"),
        scripts: &["chart.js", "completion.js", "panel.js", "graph.js"],
    },
    Page {
        path: "/alerts",
        title: "Alerts",
        body: ALERTS_BODY,
        scripts: &["rules.js"],
    },
    Page {
        path: "/rules",
        title: "Rules",
        body: RULES_BODY,
        scripts: &["rules.js"],
    },
    Page {
        path: "/targets",
        title: "Targets",
        body: TARGETS_BODY,
        scripts: &["targets.js"],
    },
    Page {
        path: "/service-discovery",
        title: "Service Discovery",
        body: SD_BODY,
        scripts: &["targets.js"],
    },
    Page {
        path: "/config",
        title: "Configuration",
        body: status_body!("Configuration"),
        scripts: &["status.js"],
    },
    Page {
        path: "/flags",
        title: "Command-Line Flags",
        body: status_body!("Command-Line Flags"),
        scripts: &["status.js"],
    },
    Page {
        path: "/tsdb-status",
        title: "TSDB Status",
        body: status_body!("TSDB Status"),
        scripts: &["status.js"],
    },
    Page {
        path: "/status",
        title: "Runtime & Build Information",
        body: status_body!("Runtime &amp; Build Information"),
        scripts: &["status.js"],
    },
];

/// Other paths serving an existing page (Prometheus 3.x calls the expression browser `/query`).
const ALIASES: &[(&str, &str)] = &[("/query", "/graph")];

/// A static file under `/assets/`.
#[derive(Debug)]
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const JS: &str = "text/javascript; charset=utf-8";

const ASSETS: &[Asset] = &[
    Asset {
        name: "kagari.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../../ui/kagari.css"),
    },
    Asset {
        name: "common.js",
        content_type: JS,
        body: include_str!("../../ui/common.js"),
    },
    Asset {
        name: "chart.js",
        content_type: JS,
        body: include_str!("../../ui/chart.js"),
    },
    Asset {
        name: "completion.js",
        content_type: JS,
        body: include_str!("../../ui/completion.js"),
    },
    Asset {
        name: "panel.js",
        content_type: JS,
        body: include_str!("../../ui/panel.js"),
    },
    Asset {
        name: "graph.js",
        content_type: JS,
        body: include_str!("../../ui/graph.js"),
    },
    Asset {
        name: "targets.js",
        content_type: JS,
        body: include_str!("../../ui/targets.js"),
    },
    Asset {
        name: "rules.js",
        content_type: JS,
        body: include_str!("../../ui/rules.js"),
    },
    Asset {
        name: "status.js",
        content_type: JS,
        body: include_str!("../../ui/status.js"),
    },
];

/// The page's HTML: the layout with the title, path, body and script tags filled in, every
/// link and asset URL under `prefix` (the external URL's path, `""` at the root; the scripts
/// read it from `data-prefix` for their API calls and links).
fn render(page: &Page, prefix: &str) -> String {
    let scripts: String = page
        .scripts
        .iter()
        .map(|s| format!("<script src=\"{{{{PREFIX}}}}/assets/{s}\"></script>\n"))
        .collect();
    LAYOUT
        .replace("{{TITLE}}", page.title)
        .replace("{{PATH}}", page.path)
        .replace("{{SCRIPTS}}", &scripts)
        .replace("{{BODY}}", page.body)
        .replace("{{PREFIX}}", &html_attr(prefix))
}

/// `s` escaped for a double-quoted HTML attribute.
fn html_attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn html(body: Bytes) -> Response {
    let mut r = body.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

/// An asset as served: its bytes, and gzipped once at start-up when that is smaller.
#[derive(Debug)]
struct Served {
    asset: &'static Asset,
    gzip: Option<Bytes>,
}

fn gzip(data: &[u8]) -> Option<Bytes> {
    let mut w = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    w.write_all(data).ok()?;
    let out = w.finish().ok()?;
    (out.len() < data.len()).then(|| Bytes::from(out))
}

/// Whether `Accept-Encoding` takes gzip (a `gzip` token whose q is not 0).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let Some(v) = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    v.split(',').any(|t| {
        let mut parts = t.split(';').map(str::trim);
        parts.next().is_some_and(|c| c.eq_ignore_ascii_case("gzip"))
            && parts.all(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f64>().ok())
                    .is_none_or(|q| q > 0.0)
            })
    })
}

fn asset(served: &[Served], name: &str, headers: &HeaderMap) -> Response {
    let Some(s) = served.iter().find(|s| s.asset.name == name) else {
        return (StatusCode::NOT_FOUND, "404 page not found\n").into_response();
    };
    let mut r = match &s.gzip {
        Some(gz) if accepts_gzip(headers) => {
            let mut r = gz.clone().into_response();
            r.headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            r
        }
        _ => s.asset.body.into_response(),
    };
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(s.asset.content_type),
    );
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    // Small files; revalidating keeps a browser from running an old script after an upgrade.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

/// `/` → `<external path>/graph` with 302 Found, as Prometheus 2.x answers.
fn root(to: &HeaderValue) -> Response {
    let mut r = StatusCode::FOUND.into_response();
    r.headers_mut().insert(header::LOCATION, to.clone());
    r
}

/// The UI routes: every page, its aliases, `/` and `/assets/{file}`; links and asset URLs
/// in the pages start with the external URL's path.
pub(crate) fn routes(urls: &WebUrls) -> Router<Arc<AppState>> {
    let prefix = urls.external_path.as_str();
    let home = HeaderValue::from_str(&format!("{prefix}/graph"))
        .unwrap_or_else(|_| HeaderValue::from_static("/graph"));
    let served: Arc<[Served]> = ASSETS
        .iter()
        .map(|asset| Served {
            asset,
            gzip: gzip(asset.body.as_bytes()),
        })
        .collect();
    let mut router = Router::new()
        .route("/", get(move || std::future::ready(root(&home))))
        .route(
            "/assets/{file}",
            get(move |Path(name): Path<String>, headers: HeaderMap| {
                std::future::ready(asset(&served, &name, &headers))
            }),
        );
    for page in PAGES {
        let body = Bytes::from(render(page, prefix));
        let paths = std::iter::once(page.path).chain(
            ALIASES
                .iter()
                .filter(|(_, to)| *to == page.path)
                .map(|(from, _)| *from),
        );
        for path in paths {
            let body = body.clone();
            router = router.route(path, get(move || std::future::ready(html(body.clone()))));
        }
    }
    router
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `src="/assets/…"` and `href="/assets/…"` names a page refers to.
    fn referenced_assets(html: &str) -> Vec<&str> {
        html.match_indices("/assets/")
            .filter_map(|(i, m)| {
                let rest = html.get(i + m.len()..)?;
                rest.split('"').next()
            })
            .collect()
    }

    #[test]
    fn every_page_renders_completely_and_its_assets_exist() {
        for page in PAGES {
            let html = render(page, "");
            assert!(!html.contains("{{"), "{}: unfilled placeholder", page.path);
            assert!(
                html.contains(&format!("<main id=\"main\" data-page=\"{}\">", page.path)),
                "{}",
                page.path
            );
            let assets = referenced_assets(&html);
            assert!(assets.len() >= 3, "{}: {assets:?}", page.path);
            for a in assets {
                assert!(
                    ASSETS.iter().any(|x| x.name == a),
                    "{}: missing asset {a}",
                    page.path
                );
            }
        }
    }

    #[test]
    fn nav_links_every_page_and_only_pages() {
        let html = render(&PAGES[0], "");
        for page in PAGES {
            assert!(
                html.contains(&format!("data-page=\"{}\"", page.path)),
                "nav lacks {}",
                page.path
            );
        }
        // One brand link plus one per page.
        assert_eq!(html.matches("<a ").count(), PAGES.len() + 1);
    }

    #[test]
    fn gzip_is_taken_unless_refused() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::ACCEPT_ENCODING, v.parse().unwrap());
            accepts_gzip(&m)
        };
        assert!(h("gzip, deflate, br"));
        assert!(h("br;q=1.0, GZIP;q=0.5"));
        assert!(!h("gzip;q=0"));
        assert!(!h("identity"));
        assert!(!h("x-gzip"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn aliases_point_at_pages() {
        for (from, to) in ALIASES {
            assert!(PAGES.iter().any(|p| p.path == *to), "{from} -> {to}");
            assert!(
                PAGES.iter().all(|p| p.path != *from),
                "{from} shadows a page"
            );
        }
    }

    #[test]
    fn scripts_use_no_inner_html() {
        // API data reaches the page through textContent only (no markup injection).
        for a in ASSETS.iter().filter(|a| a.content_type == JS) {
            assert!(!a.body.contains("innerHTML"), "{} uses innerHTML", a.name);
            assert!(
                a.body.contains("\"use strict\""),
                "{} is not strict",
                a.name
            );
        }
    }
}
