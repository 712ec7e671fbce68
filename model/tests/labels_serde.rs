//! `Labels` as a JSON object, the shape of the Prometheus HTTP API (`"metric": {...}`).

use kagari_model::Labels;

#[test]
fn serialises_as_sorted_json_object() {
    let l =
        Labels::from_pairs([("job", "node"), ("__name__", "up"), ("instance", "a:9100")]).unwrap();
    let json = serde_json::to_string(&l).unwrap();
    assert_eq!(
        json,
        r#"{"__name__":"up","instance":"a:9100","job":"node"}"#
    );
    assert_eq!(serde_json::to_string(&Labels::empty()).unwrap(), "{}");
}

#[test]
fn deserialises_from_json_object() {
    let l: Labels =
        serde_json::from_str(r#"{"job":"node","__name__":"up","empty":"","quo\"te":"\n"}"#)
            .unwrap();
    assert_eq!(l.len(), 3, "empty values are dropped");
    assert_eq!(l.get("quo\"te"), Some("\n"));
    assert_eq!(l.metric_name(), Some("up"));
    // UTF-8 label names are accepted, as in Prometheus 3.
    let u: Labels = serde_json::from_str(r#"{"service.name":"x"}"#).unwrap();
    assert_eq!(u.get("service.name"), Some("x"));
}

#[test]
fn rejects_bad_objects() {
    for bad in [
        r#"{"a":"1","a":"2"}"#,
        r#"{"":"x"}"#,
        r#"{"a":1}"#,
        r#"["a"]"#,
    ] {
        assert!(serde_json::from_str::<Labels>(bad).is_err(), "{bad}");
    }
}

#[test]
fn round_trips() {
    let l = Labels::from_pairs([("a", "é\u{1}"), ("b", "2")]).unwrap();
    let back: Labels = serde_json::from_str(&serde_json::to_string(&l).unwrap()).unwrap();
    assert_eq!(back, l);
}
