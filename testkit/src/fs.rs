//! File helpers tests share: copying a fixture directory into a scratch directory.

use std::path::Path;

/// Copies the directory `from` into `to` recursively (creating `to`), files and subfolders.
pub fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    copy_dir_except(from, to, &[])
}

/// [`copy_dir`], leaving out every file or folder (at any depth) named in `skip`, e.g. a live
/// Prometheus's `lock`, `queries.active` and `prometheus.log`.
pub fn copy_dir_except(from: &Path, to: &Path, skip: &[&str]) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let name = e.file_name();
        if name.to_str().is_some_and(|n| skip.contains(&n)) {
            continue;
        }
        let dst = to.join(&name);
        if e.file_type()?.is_dir() {
            copy_dir_except(&e.path(), &dst, skip)?;
        } else {
            std::fs::copy(e.path(), dst)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_files_and_subfolders() {
        let base = std::env::temp_dir().join(format!("kagari-testkit-copy-{}", std::process::id()));
        let from = base.join("from");
        std::fs::create_dir_all(from.join("sub/deeper")).unwrap();
        std::fs::write(from.join("a"), b"1").unwrap();
        std::fs::write(from.join("sub/deeper/b"), b"22").unwrap();
        let to = base.join("to");
        copy_dir(&from, &to).unwrap();
        assert_eq!(std::fs::read(to.join("a")).unwrap(), b"1");
        assert_eq!(std::fs::read(to.join("sub/deeper/b")).unwrap(), b"22");
        let except = base.join("except");
        copy_dir_except(&from, &except, &["deeper"]).unwrap();
        assert!(except.join("a").exists() && except.join("sub").is_dir());
        assert!(!except.join("sub/deeper").exists());
        assert!(copy_dir(&base.join("missing"), &base.join("x")).is_err());
        std::fs::remove_dir_all(&base).unwrap();
    }
}
