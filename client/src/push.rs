//! Pushing to a Prometheus Pushgateway: [`Pusher`] with `push` (PUT), `pushadd` (POST) and
//! `delete` (DELETE), grouping keys with the gateway's `@base64` escaping, basic auth and
//! timeouts. Blocking, over `ureq`.

use std::time::Duration;

use kagari_exposition::Format;

use crate::base64::{encode_standard, encode_url_safe};
use crate::{Error, Registry};

/// Default request timeout (client_python's).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Escapes one URL path component for the Pushgateway: `(name suffix, value)`.
///
/// An empty value becomes `name@base64/=`; a value containing `/` or a space becomes
/// `name@base64/<url-safe base64>` (as client_python does); anything else is percent-encoded.
pub fn escape_grouping_pair(name: &str, value: &str) -> (String, String) {
    if value.is_empty() {
        (format!("{name}@base64"), "=".to_owned())
    } else if value.contains(['/', ' ']) {
        (format!("{name}@base64"), encode_url_safe(value.as_bytes()))
    } else {
        (name.to_owned(), percent_encode(value))
    }
}

/// Percent-encodes everything except RFC 3986 unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b >> 4)]));
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b & 15)]));
        }
    }
    out
}

/// Sends a registry's metrics to one Pushgateway group (job + grouping key).
///
/// ```
/// use kagari_client::Pusher;
/// let p = Pusher::new("gw:9091", "backup").unwrap()
///     .grouping("instance", "db1").unwrap()
///     .grouping("path", "/var/tmp").unwrap();
/// assert_eq!(p.url(), "http://gw:9091/metrics/job/backup/instance/db1/path@base64/L3Zhci90bXA=");
/// ```
#[derive(Debug, Clone)]
pub struct Pusher {
    gateway: String,
    job: String,
    grouping: Vec<(String, String)>,
    auth: Option<String>,
    timeout: Duration,
}

#[derive(Debug, Clone, Copy)]
enum Method {
    Put,
    Post,
    Delete,
}

impl Pusher {
    /// A pusher for `job` at `gateway` (`host:port` gets `http://`; a trailing `/` is dropped).
    pub fn new(gateway: &str, job: &str) -> Result<Self, Error> {
        if job.is_empty() {
            return Err(Error::InvalidPush {
                reason: "job name is required",
                value: String::new(),
            });
        }
        let mut gateway = if gateway.starts_with("http://") || gateway.starts_with("https://") {
            gateway.to_owned()
        } else {
            format!("http://{gateway}")
        };
        while gateway.ends_with('/') {
            gateway.pop();
        }
        Ok(Pusher {
            gateway,
            job: job.to_owned(),
            grouping: Vec::new(),
            auth: None,
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// Adds a grouping label (any value, including empty or containing `/`).
    pub fn grouping(mut self, name: &str, value: &str) -> Result<Self, Error> {
        if !kagari_model::is_valid_label_name(name) || name.starts_with("__") {
            return Err(Error::InvalidPush {
                reason: "invalid grouping label name",
                value: name.into(),
            });
        }
        if name == "job" {
            return Err(Error::InvalidPush {
                reason: "the job is not a grouping label, pass it to Pusher::new",
                value: name.into(),
            });
        }
        if self.grouping.iter().any(|(n, _)| n == name) {
            return Err(Error::InvalidPush {
                reason: "duplicate grouping label",
                value: name.into(),
            });
        }
        self.grouping.push((name.to_owned(), value.to_owned()));
        self.grouping.sort();
        Ok(self)
    }

    /// Sends HTTP basic auth with every request.
    pub fn basic_auth(mut self, user: &str, password: &str) -> Self {
        let token = encode_standard(format!("{user}:{password}").as_bytes());
        self.auth = Some(format!("Basic {token}"));
        self
    }

    /// Sets the whole-request timeout (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The group's URL.
    pub fn url(&self) -> String {
        let (job_part, job_value) = escape_grouping_pair("job", &self.job);
        let mut url = format!("{}/metrics/{job_part}/{job_value}", self.gateway);
        for (n, v) in &self.grouping {
            let (n, v) = escape_grouping_pair(n, v);
            url.push('/');
            url.push_str(&n);
            url.push('/');
            url.push_str(&v);
        }
        url
    }

    /// `PUT`: replaces every metric of the group with the registry's.
    pub fn push(&self, registry: &Registry) -> Result<(), Error> {
        self.send(Method::Put, Some(registry))
    }

    /// `POST`: replaces only the group's metrics that have the same names as the registry's.
    pub fn pushadd(&self, registry: &Registry) -> Result<(), Error> {
        self.send(Method::Post, Some(registry))
    }

    /// `DELETE`: removes the whole group.
    pub fn delete(&self) -> Result<(), Error> {
        self.send(Method::Delete, None)
    }

    /// Refuses metrics that carry `job` or a grouping label themselves (the gateway would
    /// silently overwrite them), as the Go client does.
    fn check_labels(&self, body: &[u8]) -> Result<(), Error> {
        let families = kagari_exposition::parse_text(body).map_err(|e| Error::Io {
            context: "re-reading the encoded metrics",
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        })?;
        for s in families.iter().flat_map(|f| f.samples.iter()) {
            for (name, _) in &s.labels {
                if name == "job" {
                    return Err(Error::InvalidPush {
                        reason: "pushed metric already contains a job label",
                        value: s.name.clone(),
                    });
                }
                if self.grouping.iter().any(|(g, _)| g == name) {
                    return Err(Error::InvalidPush {
                        reason: "pushed metric already contains a grouping label",
                        value: format!("{} ({name})", s.name),
                    });
                }
            }
        }
        Ok(())
    }

    fn send(&self, method: Method, registry: Option<&Registry>) -> Result<(), Error> {
        let url = self.url();
        let body = match registry {
            Some(r) => {
                let mut b = Vec::with_capacity(4096);
                r.encode(&mut b, Format::Text)?;
                self.check_labels(&b)?;
                b
            }
            None => Vec::new(),
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(self.timeout))
            .http_status_as_error(false)
            .build()
            .into();
        let transport = |e: ureq::Error| Error::PushTransport {
            url: url.clone(),
            source: Box::new(e),
        };
        let ct = Format::Text.content_type();
        let result = match method {
            Method::Put | Method::Post => {
                let mut req = match method {
                    Method::Put => agent.put(&url),
                    _ => agent.post(&url),
                };
                req = req.header("Content-Type", ct);
                if let Some(a) = &self.auth {
                    req = req.header("Authorization", a);
                }
                req.send(&body[..])
            }
            Method::Delete => {
                let mut req = agent.delete(&url);
                if let Some(a) = &self.auth {
                    req = req.header("Authorization", a);
                }
                req.call()
            }
        };
        let mut resp = result.map_err(transport)?;
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(());
        }
        let body = resp.body_mut().read_to_string().unwrap_or_default();
        Err(Error::PushStatus {
            status,
            url,
            body: body.trim_end().to_owned(),
        })
    }
}

/// `PUT` the registry to `gateway` as `job` with a grouping key.
pub fn push(
    gateway: &str,
    job: &str,
    grouping: &[(&str, &str)],
    registry: &Registry,
) -> Result<(), Error> {
    with_grouping(Pusher::new(gateway, job)?, grouping)?.push(registry)
}

/// `POST` the registry to `gateway` as `job` with a grouping key.
pub fn pushadd(
    gateway: &str,
    job: &str,
    grouping: &[(&str, &str)],
    registry: &Registry,
) -> Result<(), Error> {
    with_grouping(Pusher::new(gateway, job)?, grouping)?.pushadd(registry)
}

/// `DELETE` the group of `job` with a grouping key at `gateway`.
pub fn delete(gateway: &str, job: &str, grouping: &[(&str, &str)]) -> Result<(), Error> {
    with_grouping(Pusher::new(gateway, job)?, grouping)?.delete()
}

fn with_grouping(mut p: Pusher, grouping: &[(&str, &str)]) -> Result<Pusher, Error> {
    for (n, v) in grouping {
        p = p.grouping(n, v)?;
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_matches_the_gateway_grammar() {
        assert_eq!(
            escape_grouping_pair("a", "plain"),
            ("a".into(), "plain".into())
        );
        assert_eq!(
            escape_grouping_pair("a", ""),
            ("a@base64".into(), "=".into())
        );
        assert_eq!(
            escape_grouping_pair("a", "/var/tmp"),
            ("a@base64".into(), "L3Zhci90bXA=".into())
        );
        assert_eq!(
            escape_grouping_pair("a", "a b"),
            ("a@base64".into(), "YSBi".into())
        );
        assert_eq!(
            escape_grouping_pair("a", "a+b%"),
            ("a".into(), "a%2Bb%25".into())
        );
        assert_eq!(
            escape_grouping_pair("name", "Προ"),
            ("name".into(), "%CE%A0%CF%81%CE%BF".into())
        );
    }

    #[test]
    fn urls() {
        let p = Pusher::new("http://gw:9091//", "a/b").unwrap();
        assert_eq!(p.url(), "http://gw:9091/metrics/job@base64/YS9i");
        let p = Pusher::new("https://gw", "j")
            .unwrap()
            .grouping("z", "")
            .unwrap()
            .grouping("b", "x")
            .unwrap();
        assert_eq!(p.url(), "https://gw/metrics/job/j/b/x/z@base64/=");
    }

    #[test]
    fn invalid_requests() {
        assert!(Pusher::new("gw", "").is_err());
        let p = Pusher::new("gw", "j").unwrap();
        assert!(p.clone().grouping("job", "x").is_err());
        assert!(p.clone().grouping("__x", "x").is_err());
        assert!(p.clone().grouping("a-b", "x").is_err());
        assert!(p.grouping("a", "1").unwrap().grouping("a", "2").is_err());
    }

    #[test]
    fn metrics_with_job_or_grouping_labels_are_refused() {
        use crate::{IntCounterVec, Opts};
        let r = Registry::new();
        let f: IntCounterVec = r
            .create_family(Opts::new("x", "X."), &["instance"])
            .unwrap();
        f.with_label_values(&["a"]).unwrap().inc();
        // Nothing listens on port 9: the check fails before any request is made.
        let p = Pusher::new("127.0.0.1:9", "j")
            .unwrap()
            .grouping("instance", "i")
            .unwrap();
        assert!(matches!(p.push(&r), Err(Error::InvalidPush { .. })));
        let r = Registry::new();
        let f: IntCounterVec = r.create_family(Opts::new("y", "Y."), &["job"]).unwrap();
        f.with_label_values(&["a"]).unwrap().inc();
        let p = Pusher::new("127.0.0.1:9", "j").unwrap();
        assert!(matches!(p.pushadd(&r), Err(Error::InvalidPush { .. })));
    }

    #[test]
    fn basic_auth_header() {
        let p = Pusher::new("gw", "j")
            .unwrap()
            .basic_auth("Aladdin", "open sesame");
        assert_eq!(
            p.auth.as_deref(),
            Some("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
        );
    }

    #[test]
    fn unreachable_gateway_is_a_transport_error() {
        // Port 9 (discard) on loopback is closed in the test environment.
        let r = Registry::new();
        let err = Pusher::new("127.0.0.1:9", "j")
            .unwrap()
            .timeout(Duration::from_secs(5))
            .push(&r)
            .unwrap_err();
        assert!(matches!(err, Error::PushTransport { .. }), "{err}");
    }
}
