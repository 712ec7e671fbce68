//! The README's command (`kagari` with no config file: the embedded default scrapes the server
//! itself every 5 s) on a free loopback port and a temp data dir: opening the graph of
//! `rate(prometheus_http_requests_total[1m])` by URL draws it once enough scrapes have landed.

use std::cell::Cell;
use std::process::{Child, Command, Stdio};

use serde_json::json;

use crate::common::free_port;
use crate::webdriver::Browser;
use crate::{chromium_or_skip, shot};

/// Kills the server when the test ends, however it ends.
struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn readme_command_serves_a_drawn_graph() {
    let Some((chromium, chromedriver)) = chromium_or_skip("readme_command_serves_a_drawn_graph")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let log = std::fs::File::create(dir.path().join("kagari.log")).unwrap();
    let _server = Kill(
        Command::new(env!("CARGO_BIN_EXE_kagari"))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let b = Browser::start(&chromium, &chromedriver);
    let url = format!(
        "http://127.0.0.1:{port}/graph?g0.expr=rate%28prometheus_http_requests_total%5B1m%5D%29\
         &g0.tab=0&g0.range_input=1m"
    );
    // Reload every 2 s until the server answers and two scrapes (5 s apart) give a rate: the
    // page runs its URL's query on load.
    b.goto(&url);
    let polls = Cell::new(0u32);
    let points = b.wait_for(
        &format!("a drawn rate graph (server log: {})", dir.path().display()),
        "const ps = [...document.querySelectorAll('.chart svg path.series')]
           .map(p => (p.getAttribute('d').match(/[ML]/g) || []).length);
         return ps.length && Math.max(...ps) >= 2 ? Math.max(...ps) : null;",
        |b| {
            polls.set(polls.get() + 1);
            if polls.get() % 10 == 0 {
                b.goto(&url);
            }
        },
    );
    assert!(points.as_u64().unwrap_or(0) >= 2, "{points}");
    let legend = b.execute(
        "return [...document.querySelectorAll('.legend li')].some(l => l.innerText.includes('job=\"prometheus\"'))",
        &[],
    );
    assert_eq!(legend, json!(true));
    shot(&b, "readme-graph");
}
