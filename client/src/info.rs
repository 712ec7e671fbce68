//! The `<namespace>_build_info` gauge: constant 1 with build facts as labels.

use crate::{Error, IntGauge, Opts, Registry};

/// Registers `<namespace>_build_info` (a gauge fixed at 1) whose labels carry build facts,
/// e.g. `[("version", env!("CARGO_PKG_VERSION")), ("revision", "abc123")]`.
///
/// ```
/// use kagari_client::{register_build_info, Format, Registry};
/// let r = Registry::new();
/// register_build_info(&r, "myapp", &[("version", "1.2.3")]).unwrap();
/// let text = r.encode_to_string(Format::Text).unwrap();
/// assert!(text.ends_with("myapp_build_info{version=\"1.2.3\"} 1\n"));
/// ```
pub fn register_build_info(
    registry: &Registry,
    namespace: &str,
    labels: &[(&str, &str)],
) -> Result<IntGauge, Error> {
    let mut opts = Opts::new(
        "build_info",
        format!("A metric with a constant '1' value labeled by build facts of {namespace}."),
    )
    .namespace(namespace);
    for (n, v) in labels {
        opts = opts.const_label(*n, *v);
    }
    let g = IntGauge::new();
    g.set(1);
    registry.register(opts, g.clone())?;
    Ok(g)
}
