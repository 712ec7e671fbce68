//! A small WebDriver (W3C) client over the blocking `ureq` client: starts Debian's
//! `chromedriver` on a free loopback port, opens one headless Chromium session with a fresh
//! profile, and offers the handful of commands the UI test needs.
//!
//! Our own client rather than `fantoccini`/`thirtyfour`: those are async (a tokio runtime and a
//! hyper stack just for the test) and pull dozens of crates, while the test needs ten JSON
//! commands that `ureq` and `serde_json`, already dev-dependencies, carry.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::common::{free_port, PATIENCE};

/// The W3C key of an element reference in JSON.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The Enter key for `send_keys`.
pub(crate) const ENTER: &str = "\u{E007}";

/// The Tab key for `send_keys`.
pub(crate) const TAB: &str = "\u{E004}";

/// The Escape key for `send_keys`.
pub(crate) const ESCAPE: &str = "\u{E00C}";

/// The browser's time zone (UTC+9, no daylight saving time).
pub(crate) const BROWSER_TZ: &str = "Asia/Tokyo";

/// Chromium's flags: headless, no network side traffic, no first-run work.
const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
];

/// Where `name` is on `PATH`, if anywhere.
pub(crate) fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The Chromium binary and chromedriver, when both are installed.
pub(crate) fn find_chromium() -> Option<(PathBuf, PathBuf)> {
    let browser = ["chromium", "chromium-browser"]
        .iter()
        .find_map(|n| which(n))?;
    let driver = which("chromedriver")?;
    Some((browser, driver))
}

/// A chromedriver process with one open browser session.
pub(crate) struct Browser {
    driver: Child,
    base: String,
    agent: ureq::Agent,
    profile: tempfile::TempDir,
    log: PathBuf,
}

/// A reference to a DOM element in the session.
#[derive(Debug, Clone)]
pub(crate) struct Element(String);

impl Browser {
    /// Starts chromedriver and opens a session of `chromium` with a fresh profile.
    pub(crate) fn start(chromium: &Path, chromedriver: &Path) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let log = profile.path().join("chromedriver.log");
        let port = free_port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            // A zone away from UTC, so the UI's local-time mode is observable.
            .env("TZ", BROWSER_TZ)
            .arg(format!("--log-path={}", log.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", chromedriver.display()));
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let mut b = Browser {
            driver,
            base: format!("http://127.0.0.1:{port}"),
            agent,
            profile,
            log,
        };
        b.wait_driver_ready();
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|s| s.to_string()).collect();
        args.push(format!(
            "--user-data-dir={}",
            b.profile.path().join("profile").display()
        ));
        let caps = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": { "binary": chromium, "args": args },
                }
            }
        });
        let v = b.call("POST", "/session", Some(&caps));
        let id = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session id in {v}"))
            .to_string();
        b.base = format!("{}/session/{id}", b.base);
        b
    }

    fn wait_driver_ready(&mut self) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(Some(status)) = self.driver.try_wait() {
                panic!("chromedriver exited: {status}; log:\n{}", self.driver_log());
            }
            let ready = self
                .agent
                .get(&format!("{}/status", self.base))
                .call()
                .ok()
                .and_then(|mut r| r.body_mut().read_to_string().ok())
                .and_then(|s| serde_json::from_str::<Value>(&s).ok())
                .is_some_and(|v| v["value"]["ready"] == json!(true));
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver not ready after {PATIENCE:?}; log:\n{}",
                self.driver_log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn driver_log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// One WebDriver command; returns its `value`, panics with the driver's error otherwise.
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let resp = match method {
            "GET" => self.agent.get(&url).call(),
            "DELETE" => self.agent.delete(&url).call(),
            _ => self
                .agent
                .post(&url)
                .content_type("application/json")
                .send(body.unwrap_or(&json!({})).to_string()),
        };
        let mut resp = resp.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = resp.status().as_u16();
        let text = resp
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let v: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{method} {url}: bad JSON: {e}: {text}"));
        assert!(
            status == 200,
            "{method} {path} -> {status}: {}",
            v["value"]["message"].as_str().unwrap_or(&v.to_string())
        );
        v["value"].clone()
    }

    /// Navigates to `url` (returns when the page has loaded).
    pub(crate) fn goto(&self, url: &str) {
        self.call("POST", "/url", Some(&json!({ "url": url })));
    }

    /// The first element matching the CSS selector; panics if there is none.
    pub(crate) fn find(&self, css: &str) -> Element {
        let v = self.call(
            "POST",
            "/element",
            Some(&json!({ "using": "css selector", "value": css })),
        );
        Element(
            v[ELEMENT_KEY]
                .as_str()
                .unwrap_or_else(|| panic!("no element id for {css}: {v}"))
                .to_string(),
        )
    }

    /// Clicks an element.
    pub(crate) fn click(&self, e: &Element) {
        self.call("POST", &format!("/element/{}/click", e.0), None);
    }

    /// Clears an input or textarea.
    pub(crate) fn clear(&self, e: &Element) {
        self.call("POST", &format!("/element/{}/clear", e.0), None);
    }

    /// Types `text` into an element (key events, as a user would).
    pub(crate) fn send_keys(&self, e: &Element, text: &str) {
        self.call(
            "POST",
            &format!("/element/{}/value", e.0),
            Some(&json!({ "text": text })),
        );
    }

    /// Clears the element matching `css` and types `text` into it.
    pub(crate) fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css);
        self.clear(&e);
        self.send_keys(&e, text);
    }

    /// Moves the mouse to `(x, y)` pixels from the element's centre.
    pub(crate) fn hover(&self, e: &Element, x: i64, y: i64) {
        let origin = json!({ ELEMENT_KEY: e.0 });
        let actions = json!({ "actions": [{
            "type": "pointer", "id": "mouse", "parameters": { "pointerType": "mouse" },
            "actions": [{ "type": "pointerMove", "duration": 0, "origin": origin, "x": x, "y": y }],
        }]});
        self.call("POST", "/actions", Some(&actions));
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its result.
    pub(crate) fn execute(&self, script: &str, args: &[Value]) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(&json!({ "script": script, "args": args })),
        )
    }

    /// Polls `script` until it returns something other than null/false/""; returns that.
    /// `retry` runs between polls (e.g. clicking Execute again while data accumulates).
    pub(crate) fn wait_for(&self, what: &str, script: &str, retry: impl Fn(&Browser)) -> Value {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let v = self.execute(script, &[]);
            if !(v.is_null() || v == json!(false) || v == json!("")) {
                return v;
            }
            if Instant::now() > deadline {
                let body = self.execute("return document.body.innerText", &[]);
                panic!("waited {PATIENCE:?} for {what}; page text:\n{body}");
            }
            std::thread::sleep(Duration::from_millis(200));
            retry(self);
        }
    }

    /// Saves a PNG screenshot of the viewport to `path`.
    pub(crate) fn screenshot(&self, path: &Path) {
        let v = self.call("GET", "/screenshot", None);
        let png = decode_base64(v.as_str().unwrap_or_default());
        assert!(png.starts_with(b"\x89PNG"), "screenshot is not a PNG");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(path, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Closes Chromium; chromedriver goes with its process.
        let _ = self.agent.delete(&self.base).call();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Standard base64 (with padding, whitespace ignored) to bytes.
fn decode_base64(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for v in s.bytes().filter_map(val) {
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

#[test]
fn base64_decodes_with_and_without_padding() {
    assert_eq!(decode_base64("aGVsbG8="), b"hello");
    assert_eq!(decode_base64("aGVsbG8h"), b"hello!");
    assert_eq!(decode_base64("aGk=\n"), b"hi");
    assert_eq!(decode_base64(""), b"");
}
