//! A real Pushgateway through [`Peer`]: started on a free port, answering, stopped on drop.
//!
//! Without the peer: a loud SKIP, or a failure if `KAGARI_REQUIRE_PEERS=true`.

use std::path::Path;
use std::time::Duration;

use kagari_testkit::{http_get, skip_or_fail, wait_for_http, Peer};

#[test]
fn a_pushgateway_starts_answers_and_stops_on_drop() {
    let have = kagari_testkit::peers_run().is_some()
        && Path::new("/usr/bin/prometheus-pushgateway").exists();
    skip_or_fail!(
        have,
        "a_pushgateway_starts_answers_and_stops_on_drop",
        "real Pushgateway or peers/run not available"
    );
    let peer = Peer::start("pushgateway", std::iter::empty::<&str>()).expect("pushgateway starts");
    let pid = peer.pid().expect("a pid");
    assert_eq!(peer.url(), format!("http://127.0.0.1:{}", peer.port()));
    let metrics = wait_for_http(&format!("{}/metrics", peer.url()), Duration::from_secs(30))
        .expect("pushgateway answers");
    assert!(metrics.contains("pushgateway_build_info"), "{metrics}");
    let (status, _) = http_get(&format!("{}/no-such-page", peer.url())).expect("answers");
    assert_eq!(status, 404);
    let url = peer.url();
    drop(peer);
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists() || http_get(&url).is_err(),
        "peer {pid} still running after drop"
    );
}
