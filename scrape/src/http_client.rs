//! The HTTP side of a scrape: one client per job, request headers, timeout, gzip and the
//! body size limit.

use std::io::Write as _;
use std::time::Duration;

use reqwest::header::{
    HeaderMap, HeaderValue, ACCEPT, ACCEPT_ENCODING, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE,
};

use crate::config::{read_secret_file, ScrapeConfig, ScrapeProtocol};
use crate::error::ScrapeError;

/// Which parser a response needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyFormat {
    Text,
    OpenMetrics,
}

/// Performs scrapes for one job.
#[derive(Debug)]
pub(crate) struct HttpScraper {
    client: reqwest::Client,
    accept: HeaderValue,
    gzip: bool,
    body_limit: u64,
    fallback: Option<ScrapeProtocol>,
    auth: Auth,
}

#[derive(Debug)]
enum Auth {
    None,
    Basic {
        user: Secret,
        pass: Option<Secret>,
    },
    Header {
        scheme: String,
        credentials: Option<Secret>,
    },
}

#[derive(Debug)]
enum Secret {
    Inline(String),
    File(std::path::PathBuf),
}

impl Secret {
    fn read(&self) -> Result<String, ScrapeError> {
        match self {
            Secret::Inline(s) => Ok(s.clone()),
            Secret::File(p) => read_secret_file(p).map_err(|source| ScrapeError::SecretFile {
                path: p.clone(),
                source,
            }),
        }
    }
}

fn client_err(reason: impl ToString) -> ScrapeError {
    ScrapeError::Client {
        reason: reason.to_string(),
    }
}

impl HttpScraper {
    /// Builds the client for a validated scrape config.
    pub(crate) fn new(cfg: &ScrapeConfig) -> Result<Self, ScrapeError> {
        let mut b = reqwest::Client::builder()
            .use_rustls_tls()
            .user_agent(concat!("kagari-scrape/", env!("CARGO_PKG_VERSION")))
            .redirect(if cfg.follow_redirects() {
                reqwest::redirect::Policy::limited(10)
            } else {
                reqwest::redirect::Policy::none()
            });
        if cfg.enable_http2 == Some(false) {
            b = b.http1_only();
        }
        match (&cfg.proxy_url, cfg.proxy_from_environment) {
            (Some(url), _) => b = b.proxy(reqwest::Proxy::all(url).map_err(client_err)?),
            (None, false) => b = b.no_proxy(),
            (None, true) => {}
        }
        if let Some(tls) = &cfg.tls_config {
            b = b.use_preconfigured_tls(crate::tls::client_config(
                tls,
                cfg.enable_http2 != Some(false),
            )?);
        }
        let auth = if let Some(ba) = &cfg.basic_auth {
            Auth::Basic {
                user: match &ba.username_file {
                    Some(p) => Secret::File(p.clone()),
                    None => Secret::Inline(ba.username.clone()),
                },
                pass: match (&ba.password, &ba.password_file) {
                    (Some(p), _) => Some(Secret::Inline(p.clone())),
                    (None, Some(f)) => Some(Secret::File(f.clone())),
                    (None, None) => None,
                },
            }
        } else if let Some(a) = &cfg.authorization {
            Auth::Header {
                scheme: a.auth_type.clone().unwrap_or_else(|| "Bearer".into()),
                credentials: match (&a.credentials, &a.credentials_file) {
                    (Some(c), _) => Some(Secret::Inline(c.clone())),
                    (None, Some(f)) => Some(Secret::File(f.clone())),
                    (None, None) => None,
                },
            }
        } else {
            Auth::None
        };
        Ok(HttpScraper {
            client: b.build().map_err(client_err)?,
            accept: HeaderValue::from_str(&cfg.accept_header()).map_err(client_err)?,
            gzip: cfg.enable_compression(),
            body_limit: cfg.body_size_limit.bytes(),
            fallback: cfg.fallback_scrape_protocol,
            auth,
        })
    }

    fn headers(&self, timeout: Duration) -> Result<HeaderMap, ScrapeError> {
        let mut h = HeaderMap::new();
        h.insert(ACCEPT, self.accept.clone());
        h.insert(
            ACCEPT_ENCODING,
            HeaderValue::from_static(if self.gzip { "gzip" } else { "identity" }),
        );
        let secs = format!("{}", timeout.as_secs_f64());
        h.insert(
            "X-Prometheus-Scrape-Timeout-Seconds",
            HeaderValue::from_str(&secs).map_err(client_err)?,
        );
        let value = match &self.auth {
            Auth::None => None,
            Auth::Basic { user, pass } => {
                let user = user.read()?;
                let pass = pass
                    .as_ref()
                    .map(Secret::read)
                    .transpose()?
                    .unwrap_or_default();
                Some(format!(
                    "Basic {}",
                    base64(format!("{user}:{pass}").as_bytes())
                ))
            }
            Auth::Header {
                scheme,
                credentials,
            } => {
                let c = credentials
                    .as_ref()
                    .map(Secret::read)
                    .transpose()?
                    .unwrap_or_default();
                Some(format!("{scheme} {c}"))
            }
        };
        if let Some(v) = value {
            let mut v = HeaderValue::from_str(&v).map_err(client_err)?;
            v.set_sensitive(true);
            h.insert(AUTHORIZATION, v);
        }
        Ok(h)
    }

    /// Scrapes `url` into `buf` (cleared first) within `timeout`. `parsed` is `url` parsed
    /// once by the caller (`None` if it does not parse: the client then reports why).
    pub(crate) async fn scrape(
        &self,
        url: &str,
        parsed: Option<&reqwest::Url>,
        timeout: Duration,
        buf: &mut Vec<u8>,
    ) -> Result<BodyFormat, ScrapeError> {
        buf.clear();
        match tokio::time::timeout(timeout, self.scrape_inner(url, parsed, timeout, buf)).await {
            Ok(r) => r,
            Err(_) => Err(ScrapeError::Timeout),
        }
    }

    async fn scrape_inner(
        &self,
        url: &str,
        parsed: Option<&reqwest::Url>,
        timeout: Duration,
        buf: &mut Vec<u8>,
    ) -> Result<BodyFormat, ScrapeError> {
        let request = match parsed {
            Some(u) => self.client.get(u.clone()),
            None => self.client.get(url),
        };
        let mut resp = request
            .headers(self.headers(timeout)?)
            .send()
            .await
            .map_err(ScrapeError::Http)?;
        if resp.status() != reqwest::StatusCode::OK {
            return Err(ScrapeError::Status(resp.status().to_string()));
        }
        let content_type = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let gzipped = resp
            .headers()
            .get(CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("gzip"));
        let limit = if self.body_limit == 0 {
            u64::MAX
        } else {
            self.body_limit
        };
        let over = |n: usize| u64::try_from(n).unwrap_or(u64::MAX) >= limit;
        if gzipped {
            let mut dec = flate2::write::GzDecoder::new(std::mem::take(buf));
            while let Some(chunk) = resp.chunk().await.map_err(ScrapeError::Http)? {
                dec.write_all(&chunk).map_err(ScrapeError::Gzip)?;
                if over(dec.get_ref().len()) {
                    return Err(ScrapeError::BodySizeLimit);
                }
            }
            *buf = dec.finish().map_err(ScrapeError::Gzip)?;
        } else {
            while let Some(chunk) = resp.chunk().await.map_err(ScrapeError::Http)? {
                buf.extend_from_slice(&chunk);
                if over(buf.len()) {
                    return Err(ScrapeError::BodySizeLimit);
                }
            }
        }
        if over(buf.len()) {
            return Err(ScrapeError::BodySizeLimit);
        }
        self.format_for(content_type.as_deref())
    }

    fn format_for(&self, content_type: Option<&str>) -> Result<BodyFormat, ScrapeError> {
        let media = content_type.map(|c| {
            c.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
        let from_fallback = |e: ScrapeError| match self.fallback {
            Some(ScrapeProtocol::PrometheusText004 | ScrapeProtocol::PrometheusText100) => {
                Ok(BodyFormat::Text)
            }
            Some(ScrapeProtocol::OpenMetricsText001 | ScrapeProtocol::OpenMetricsText100) => {
                Ok(BodyFormat::OpenMetrics)
            }
            Some(ScrapeProtocol::PrometheusProto) => Err(ScrapeError::ProtobufUnsupported),
            None => Err(e),
        };
        match media.as_deref() {
            Some("text/plain") => Ok(BodyFormat::Text),
            Some("application/openmetrics-text") => Ok(BodyFormat::OpenMetrics),
            Some("application/vnd.google.protobuf") => Err(ScrapeError::ProtobufUnsupported),
            None | Some("") => from_fallback(ScrapeError::BlankContentType),
            Some(_) => from_fallback(ScrapeError::UnsupportedContentType(
                content_type.unwrap_or("").to_string(),
            )),
        }
    }
}

/// Standard base64 with padding.
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let idx = usize::try_from((n >> (18 - 6 * i)) & 63).unwrap_or(0);
                out.push(char::from(ALPHABET.get(idx).copied().unwrap_or(b'=')));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (i, o) in cases {
            assert_eq!(base64(i.as_bytes()), o);
        }
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
    }
}
