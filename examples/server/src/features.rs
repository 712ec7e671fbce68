//! `--enable-feature`: Prometheus's feature flags. Known names are logged as enabled; the
//! PromQL ones switch parser options (duration expressions are off unless
//! `promql-duration-expr` is given, as in Prometheus 3.x); unknown names get a warning.

use kagari_promql::ParserOptions;

/// Feature names Prometheus 3.x accepts. Only the `promql-*` parser switches change
/// behaviour here; the others are accepted and logged so command lines keep working.
const KNOWN: &[&str] = &[
    "auto-gomaxprocs",
    "auto-gomemlimit",
    "auto-reload-config",
    "concurrent-rule-eval",
    "created-timestamp-zero-ingestion",
    "delayed-compaction",
    "exemplar-storage",
    "extra-scrape-metrics",
    "memory-snapshot-on-shutdown",
    "metadata-wal-records",
    "native-histograms",
    "old-ui",
    "otlp-deltatocumulative",
    "promql-delayed-name-removal",
    "promql-duration-expr",
    "promql-experimental-functions",
    "promql-extended-range-selectors",
    "promql-per-step-stats",
    "type-and-unit-labels",
    "use-uncached-io",
];

/// What `--enable-feature` turned on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Features {
    /// Options for every query the server parses.
    pub(crate) parser: ParserOptions,
    /// Known names given, in order (for the log).
    pub(crate) enabled: Vec<String>,
    /// Unknown names given (warned about, otherwise ignored).
    pub(crate) unknown: Vec<String>,
}

impl Features {
    /// Reads the flag values (each may itself be a comma list; blanks are skipped).
    pub(crate) fn from_flags<S: AsRef<str>>(values: &[S]) -> Features {
        let mut f = Features {
            parser: ParserOptions {
                duration_expressions: false,
                experimental_functions: false,
                extended_range_selectors: false,
                ..ParserOptions::default()
            },
            enabled: Vec::new(),
            unknown: Vec::new(),
        };
        for name in values
            .iter()
            .flat_map(|v| v.as_ref().split(','))
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            match name {
                "promql-duration-expr" => f.parser.duration_expressions = true,
                "promql-experimental-functions" => f.parser.experimental_functions = true,
                "promql-extended-range-selectors" => f.parser.extended_range_selectors = true,
                _ => {}
            }
            if KNOWN.contains(&name) {
                f.enabled.push(name.to_string());
            } else {
                f.unknown.push(name.to_string());
            }
        }
        f
    }

    /// Logs each enabled feature, and a warning per unknown name, as upstream does.
    pub(crate) fn log(&self) {
        for name in &self.enabled {
            tracing::info!(feature = %name, "experimental feature enabled");
        }
        for name in &self.unknown {
            tracing::warn!(option = %name, "Unknown option for --enable-feature");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_expressions_are_off_unless_enabled() {
        let none = Features::from_flags::<&str>(&[]);
        assert!(!none.parser.duration_expressions);
        assert!(kagari_promql::parse_with_options("foo[5m+1m]", &none.parser).is_err());
        let on = Features::from_flags(&["exemplar-storage,promql-duration-expr", "bogus"]);
        assert!(on.parser.duration_expressions);
        assert!(!on.parser.experimental_functions);
        assert!(kagari_promql::parse_with_options("foo[5m+1m]", &on.parser).is_ok());
        assert_eq!(on.enabled, ["exemplar-storage", "promql-duration-expr"]);
        assert_eq!(on.unknown, ["bogus"]);
    }

    #[test]
    fn promql_switches_map_to_parser_options() {
        let f = Features::from_flags(&[
            " promql-experimental-functions , ,promql-extended-range-selectors",
        ]);
        assert!(f.parser.experimental_functions);
        assert!(f.parser.extended_range_selectors);
        assert!(f.unknown.is_empty());
    }
}
