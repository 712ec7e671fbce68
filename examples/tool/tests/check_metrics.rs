//! `kagari-tool check metrics` end to end.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn tool() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kagari-tool"))
}

fn testdata(sub: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/exposition")
        .join(sub)
}

fn files(sub: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(testdata(sub))
        .expect("testdata")
        .map(|e| e.expect("entry").path())
        .collect();
    v.sort();
    assert!(!v.is_empty());
    v
}

fn run_stdin(args: &[&str], input: &[u8]) -> Output {
    run_stdin_cmd(tool().args(args), input)
}

/// `file:line:col: reason`
fn is_positioned_error(stderr: &str, file: &str) -> bool {
    let Some(rest) = stderr
        .trim_end()
        .strip_prefix(file)
        .and_then(|r| r.strip_prefix(':'))
    else {
        return false;
    };
    let mut parts = rest.splitn(3, ':');
    let line = parts.next().and_then(|l| l.parse::<usize>().ok());
    let col = parts.next().and_then(|c| c.parse::<usize>().ok());
    let reason = parts.next().unwrap_or("");
    line.is_some_and(|l| l >= 1) && col.is_some_and(|c| c >= 1) && reason.len() > 2
}

#[test]
fn good_text_files_exit_zero() {
    for f in files("text/good") {
        let out = tool()
            .args(["check", "metrics"])
            .arg(&f)
            .output()
            .expect("run");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            f.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn bad_text_files_exit_one_with_position() {
    for f in files("text/bad") {
        let out = tool()
            .args(["check", "metrics", "--format", "text"])
            .arg(&f)
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{}", f.display());
        assert!(
            is_positioned_error(&stderr, &f.display().to_string()),
            "{stderr}"
        );
    }
}

#[test]
fn openmetrics_suite_verdicts_via_stdin() {
    let mut checked = 0;
    for case in files("openmetrics") {
        let spec = std::fs::read_to_string(case.join("test.json")).expect("json");
        let want_ok = spec.contains("\"shouldParse\": true");
        let input = std::fs::read(case.join("metrics")).expect("input");
        let out = run_stdin(
            &["check", "metrics", "--format", "openmetrics", "-"],
            &input,
        );
        let want = if want_ok { 0 } else { 1 };
        assert_eq!(out.status.code(), Some(want), "{}", case.display());
        if !want_ok {
            assert!(is_positioned_error(
                &String::from_utf8_lossy(&out.stderr),
                "<stdin>"
            ));
        }
        checked += 1;
    }
    assert_eq!(checked, 158);
}

#[test]
fn error_position_is_exact() {
    let out = run_stdin(&["check", "metrics"], b"# TYPE a gauge\na 1\nb{x=\"1\" 2\n");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("<stdin>:3:9: expected ',' or '}'"),
        "{stderr}"
    );
}

#[test]
fn lint_findings_are_printed_and_fatal_on_request() {
    let input = b"# TYPE reqs counter\nreqs 1\n# HELP fooBar x\n# TYPE fooBar gauge\nfooBar 1\n";
    let out = run_stdin(&["check", "metrics"], input);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("reqs counter metrics should have \"_total\" suffix"),
        "{stdout}"
    );
    assert!(stdout.contains("reqs no help text"), "{stdout}");
    assert!(
        stdout.contains("fooBar metric names should be written in 'snake_case' not 'camelCase'")
    );
    let out = run_stdin(&["check", "metrics", "--lint-fatal"], input);
    assert_eq!(out.status.code(), Some(3));
    let clean = b"# HELP ok_total Fine.\n# TYPE ok_total counter\nok_total 1\n";
    let out = run_stdin(&["check", "metrics", "--lint-fatal"], clean);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
}

#[test]
fn lint_output_matches_promtool() {
    kagari_testkit::skip_or_fail!(
        kagari_testkit::promtool().is_some(),
        "lint_output_matches_promtool",
        "promtool not installed; lint output not compared"
    );
    for f in files("text/good") {
        let input = std::fs::read(&f).expect("read");
        let ours = run_stdin(&["check", "metrics"], &input);
        let theirs = run_stdin_cmd(Command::new("promtool").args(["check", "metrics"]), &input);
        let mut a: Vec<String> = String::from_utf8_lossy(&ours.stdout)
            .lines()
            .map(str::to_owned)
            .collect();
        let mut b: Vec<String> = String::from_utf8_lossy(&theirs.stderr)
            .lines()
            .map(str::to_owned)
            .collect();
        a.sort();
        a.dedup();
        b.sort();
        b.dedup();
        assert_eq!(a, b, "{}", f.display());
    }
}

fn run_stdin_cmd(cmd: &mut Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write");
    child.wait_with_output().expect("wait")
}
