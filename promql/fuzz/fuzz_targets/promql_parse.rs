//! The PromQL parser must never panic, and whatever it accepts must print to a query that
//! parses back to the same tree (both the one-line and the multi-line form).
#![no_main]

use kagari_promql::{parse_with_options, ParserOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    let opts = ParserOptions::all();
    if let Ok(expr) = parse_with_options(query, &opts) {
        let printed = expr.to_string();
        let again = parse_with_options(&printed, &opts)
            .unwrap_or_else(|e| panic!("{query:?} printed as {printed:?} does not parse: {e}"));
        assert_eq!(again, expr, "{query:?} printed as {printed:?}");
        assert_eq!(again.to_string(), printed);
        let pretty = kagari_promql::prettify(&expr);
        let again = parse_with_options(&pretty, &opts)
            .unwrap_or_else(|e| panic!("{query:?} prettified as {pretty:?} does not parse: {e}"));
        assert_eq!(again, expr, "{query:?} prettified as {pretty:?}");
    }
    let _ = parse_with_options(query, &ParserOptions::default());
});
