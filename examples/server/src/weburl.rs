//! `--web.external-url` and `--web.route-prefix`, resolved as Prometheus does: the external
//! URL defaults to `http://<hostname>:<port>/`, loses its trailing slashes, and its path is the
//! default route prefix; the route prefix is `/` or `/segment[/...]` without a trailing slash.

/// Why an external URL was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum UrlError {
    /// Upstream refuses quoted URLs (a common shell mistake).
    #[error("URL {0:?} must not begin or end with quotes")]
    Quoted(String),
    /// No `scheme://` before the host.
    #[error("URL {0:?} has no scheme (expected e.g. http://host:9090/)")]
    NoScheme(String),
}

/// The resolved external URL and route prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WebUrls {
    /// The external URL without a trailing slash (`http://host:9090`, `http://h/prom`): alert
    /// generator URLs and templates' `externalURL` use it.
    pub(crate) external_url: String,
    /// Its path (`""` or `/prom`): UI links and assets use it.
    pub(crate) external_path: String,
    /// Where every route is served (`/` or `/prom`).
    pub(crate) route_prefix: String,
}

impl WebUrls {
    /// Resolves the flags; `hostname` and `port` make the default external URL.
    pub(crate) fn resolve(
        external_url: Option<&str>,
        route_prefix: Option<&str>,
        hostname: &str,
        port: u16,
    ) -> Result<WebUrls, UrlError> {
        let given = match external_url {
            Some(u) if !u.is_empty() => u.to_string(),
            _ => format!("http://{hostname}:{port}/"),
        };
        if given.starts_with(['"', '\'']) || given.ends_with(['"', '\'']) {
            return Err(UrlError::Quoted(given));
        }
        let Some((scheme, rest)) = given.split_once("://") else {
            return Err(UrlError::NoScheme(given));
        };
        if scheme.is_empty() {
            return Err(UrlError::NoScheme(given));
        }
        // The path starts at the first '/', '?' or '#' after the authority; query and fragment
        // are kept out of the path.
        let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(auth_end);
        let path_end = tail.find(['?', '#']).unwrap_or(tail.len());
        let (path, suffix) = tail.split_at(path_end);
        let mut path = path.trim_end_matches('/').to_string();
        if !path.is_empty() && !path.starts_with('/') {
            path.insert(0, '/');
        }
        let prefix = match route_prefix {
            Some(p) if !p.is_empty() => p,
            _ => path.as_str(),
        };
        let route_prefix = format!("/{}", prefix.trim_matches('/'));
        Ok(WebUrls {
            external_url: format!("{scheme}://{authority}{path}{suffix}"),
            external_path: path,
            route_prefix,
        })
    }

    /// `path` (starting with `/`) under the route prefix.
    pub(crate) fn route(&self, path: &str) -> String {
        if self.route_prefix == "/" {
            path.to_string()
        } else {
            format!("{}{path}", self.route_prefix)
        }
    }
}

/// The machine's host name, as Go's `os.Hostname` reads it on Linux.
pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(u: Option<&str>, p: Option<&str>) -> WebUrls {
        WebUrls::resolve(u, p, "box", 9090).unwrap()
    }

    #[test]
    fn default_is_hostname_and_port_at_root() {
        let w = r(None, None);
        assert_eq!(w.external_url, "http://box:9090");
        assert_eq!(w.external_path, "");
        assert_eq!(w.route_prefix, "/");
        assert_eq!(w.route("/graph"), "/graph");
    }

    #[test]
    fn prefix_defaults_to_the_external_path() {
        let w = r(Some("https://ex.com/foo/bar//"), None);
        assert_eq!(w.external_url, "https://ex.com/foo/bar");
        assert_eq!(w.external_path, "/foo/bar");
        assert_eq!(w.route_prefix, "/foo/bar");
        assert_eq!(w.route("/graph"), "/foo/bar/graph");
    }

    #[test]
    fn explicit_prefix_wins_and_is_normalised() {
        let w = r(Some("http://ex.com/proxy/"), Some("inner/"));
        assert_eq!(w.external_path, "/proxy");
        assert_eq!(w.route_prefix, "/inner");
        assert_eq!(r(Some("http://ex.com/x"), Some("/")).route_prefix, "/");
    }

    #[test]
    fn bad_urls_are_refused() {
        let e = |u: &str| WebUrls::resolve(Some(u), None, "h", 1).unwrap_err();
        assert!(matches!(e("\"http://x/\""), UrlError::Quoted(_)));
        assert!(matches!(e("ex.com/foo"), UrlError::NoScheme(_)));
        assert!(matches!(e("://ex.com"), UrlError::NoScheme(_)));
    }
}
