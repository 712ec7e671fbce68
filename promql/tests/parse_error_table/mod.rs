//! Reader of `testdata/promql/parse_errors.txt`: malformed queries and what Prometheus says.
//! Shared by `promql/tests/parse_errors.rs` and the server's live comparison
//! (`examples/server/tests/bad_input.rs` includes this file by path).

use std::path::Path;

/// One record of the table.
#[derive(Debug)]
pub(crate) struct Case {
    /// Line of the query in the file.
    pub(crate) line: usize,
    /// The query.
    pub(crate) query: String,
    /// Prometheus 2.42's answer as recorded (`None`: the query parses).
    pub(crate) v2: Option<String>,
    /// Prometheus 3.x's answer, which ours must equal (the 2.42 one unless a `3.x=> ` line
    /// says otherwise).
    pub(crate) v3: Option<String>,
}

fn answer(s: &str) -> Option<String> {
    (s != "ok").then(|| s.to_string())
}

/// All records; `root` is the workspace root.
pub(crate) fn load(root: &Path) -> Vec<Case> {
    let path = root.join("testdata/promql/parse_errors.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let mut cases: Vec<Case> = Vec::new();
    let mut query: Option<(usize, &str)> = None;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if let Some(v3) = line.strip_prefix("3.x=> ") {
            let last = cases
                .last_mut()
                .unwrap_or_else(|| panic!("line {n}: `3.x=> ` before any record"));
            last.v3 = answer(v3);
        } else if let Some((qline, q)) = query.take() {
            let v2 = line.strip_prefix("=> ").unwrap_or_else(|| {
                panic!("line {n}: expected `=> ` after the query of line {qline}")
            });
            cases.push(Case {
                line: qline,
                query: q.to_string(),
                v2: answer(v2),
                v3: answer(v2),
            });
        } else if !line.is_empty() && !line.starts_with('#') {
            query = Some((n, line));
        }
    }
    assert!(query.is_none(), "the last query has no `=> ` line");
    cases
}
