//! Table tests for relabeling.
//!
//! Origin: every vector below is copied from `/work/shared/reference/relabel.md` (§7 "Test
//! vectors", the §4 examples and the §7 hash reference table), which were produced by a
//! line-by-line re-implementation of Prometheus's `model/relabel/relabel.go` and checked
//! against the Go source. Vector numbers are the document's.

#![cfg(feature = "regex")]

use kagari_model::{relabel, Labels, RelabelConfig};

/// One vector: input labels, the rules as Prometheus YAML, and the expected output
/// (`None` = dropped).
struct Vector {
    id: &'static str,
    input: &'static [(&'static str, &'static str)],
    rules: &'static str,
    output: Option<&'static [(&'static str, &'static str)]>,
}

const ADDR: &[(&str, &str)] = &[("__address__", "10.0.0.5:9100")];

const VECTORS: &[Vector] = &[
    Vector {
        id: "1",
        input: ADDR,
        rules: r"[{source_labels: [__address__], regex: '([^:]+):(\d+)', target_label: host}]",
        output: Some(&[("__address__", "10.0.0.5:9100"), ("host", "10.0.0.5")]),
    },
    Vector {
        id: "2",
        input: ADDR,
        rules: r"[{source_labels: [__address__], regex: '([^:]+):(\d+)', target_label: port, replacement: '$2'}]",
        output: Some(&[("__address__", "10.0.0.5:9100"), ("port", "9100")]),
    },
    Vector {
        id: "3",
        input: &[("__address__", "node.example.org")],
        rules: r"[{source_labels: [__address__], regex: '([^:]+):(\d+)', target_label: host}]",
        output: Some(&[("__address__", "node.example.org")]),
    },
    Vector {
        id: "4",
        input: &[("job", "api")],
        rules: "[{target_label: env, replacement: prod}]",
        output: Some(&[("env", "prod"), ("job", "api")]),
    },
    Vector {
        id: "5",
        input: &[("env", "dev"), ("job", "api")],
        rules: "[{source_labels: [team], target_label: env}]",
        output: Some(&[("job", "api")]),
    },
    Vector {
        id: "6",
        input: &[("app", "web"), ("zone", "eu")],
        rules: "[{source_labels: [app, zone], separator: '-', target_label: svc}]",
        output: Some(&[("app", "web"), ("svc", "web-eu"), ("zone", "eu")]),
    },
    Vector {
        id: "7",
        input: &[("app", "web")],
        rules: "[{source_labels: [app, zone], target_label: pair}]",
        output: Some(&[("app", "web"), ("pair", "web;")]),
    },
    Vector {
        id: "8",
        input: &[("app", "web")],
        rules: "[{source_labels: [app], target_label: x, replacement: '$1_suffix'}]",
        output: Some(&[("app", "web")]),
    },
    Vector {
        id: "9",
        input: &[("app", "web")],
        rules: "[{source_labels: [app], target_label: x, replacement: '${1}_suffix'}]",
        output: Some(&[("app", "web"), ("x", "web_suffix")]),
    },
    Vector {
        id: "10",
        input: &[("app", "web")],
        rules: "[{source_labels: [app], target_label: x, replacement: '$$1'}]",
        output: Some(&[("app", "web"), ("x", "$1")]),
    },
    Vector {
        id: "11",
        input: &[("kind", "cpu"), ("v", "7")],
        rules: "[{source_labels: [kind, v], regex: '(.*);(.*)', target_label: '${1}_value', replacement: '$2'}]",
        output: Some(&[("cpu_value", "7"), ("kind", "cpu"), ("v", "7")]),
    },
    Vector {
        id: "12",
        input: &[("__name__", "foobar")],
        rules: "[{source_labels: [__name__], regex: foo, action: keep}]",
        output: None,
    },
    Vector {
        id: "13",
        input: &[("__name__", "foobar")],
        rules: "[{source_labels: [__name__], regex: 'foo.*', action: keep}]",
        output: Some(&[("__name__", "foobar")]),
    },
    Vector {
        id: "14",
        input: &[("__name__", "go_gc_duration_seconds"), ("job", "x")],
        rules: "[{source_labels: [__name__], regex: 'go_.*', action: drop}]",
        output: None,
    },
    Vector {
        id: "15",
        input: &[("__meta_port", "9100"), ("port", "9100")],
        rules: "[{source_labels: [__meta_port], target_label: port, action: keepequal}]",
        output: Some(&[("__meta_port", "9100"), ("port", "9100")]),
    },
    Vector {
        id: "16",
        input: &[("__meta_port", "9100"), ("port", "9100")],
        rules: "[{source_labels: [__meta_port], target_label: port, action: dropequal}]",
        output: None,
    },
    Vector {
        id: "17",
        input: ADDR,
        rules: "[{source_labels: [__address__], modulus: 4, target_label: __tmp_hash, action: hashmod}]",
        output: Some(&[("__address__", "10.0.0.5:9100"), ("__tmp_hash", "2")]),
    },
    Vector {
        id: "18",
        input: &[("__address__", "10.0.0.6:9100")],
        rules: "[{source_labels: [__address__], modulus: 4, target_label: __tmp_hash, action: hashmod}]",
        output: Some(&[("__address__", "10.0.0.6:9100"), ("__tmp_hash", "1")]),
    },
    Vector {
        id: "19",
        input: &[("__address__", "node-a:9100")],
        rules: "[{source_labels: [__address__], modulus: 2, target_label: __tmp_hash, action: hashmod}]",
        output: Some(&[("__address__", "node-a:9100"), ("__tmp_hash", "1")]),
    },
    Vector {
        id: "20",
        input: &[("s", "web-1"), ("e", "prod")],
        rules: "[{source_labels: [s, e], modulus: 3, target_label: __tmp_hash, action: hashmod}]",
        output: Some(&[("__tmp_hash", "2"), ("e", "prod"), ("s", "web-1")]),
    },
    Vector {
        id: "21",
        input: &[
            ("__meta_kubernetes_pod_label_app", "web"),
            ("__meta_kubernetes_pod_label_tier", "fe"),
            ("job", "k"),
        ],
        rules: "[{regex: '__meta_kubernetes_pod_label_(.+)', action: labelmap}]",
        output: Some(&[
            ("__meta_kubernetes_pod_label_app", "web"),
            ("__meta_kubernetes_pod_label_tier", "fe"),
            ("app", "web"),
            ("job", "k"),
            ("tier", "fe"),
        ]),
    },
    Vector {
        id: "22",
        input: &[("keep", "3"), ("tmp_a", "1"), ("tmp_b", "2")],
        rules: "[{regex: 'tmp_.*', action: labeldrop}]",
        output: Some(&[("keep", "3")]),
    },
    Vector {
        id: "23",
        input: &[("__name__", "m"), ("instance", "i"), ("job", "j"), ("pod", "p")],
        rules: "[{regex: '__name__|job|instance', action: labelkeep}]",
        output: Some(&[("__name__", "m"), ("instance", "i"), ("job", "j")]),
    },
    Vector {
        id: "24",
        input: &[("env", "Prod-EU")],
        rules: "[{source_labels: [env], target_label: env_lc, action: lowercase}]",
        output: Some(&[("env", "Prod-EU"), ("env_lc", "prod-eu")]),
    },
    Vector {
        id: "25",
        input: &[("env", "Prod-EU")],
        rules: "[{source_labels: [env], target_label: env, action: uppercase}]",
        output: Some(&[("env", "PROD-EU")]),
    },
    Vector {
        id: "26",
        input: &[("msg", "a\nb")],
        rules: "[{source_labels: [msg], regex: 'a.b', target_label: ok, replacement: 'yes'}]",
        output: Some(&[("msg", "a\nb"), ("ok", "yes")]),
    },
    Vector {
        id: "27",
        input: &[("path", "/api/v1/users")],
        rules: "[{source_labels: [path], regex: '/api/(v[0-9]+)/.*', target_label: api_version}]",
        output: Some(&[("api_version", "v1"), ("path", "/api/v1/users")]),
    },
    Vector {
        id: "28",
        input: &[("a", "x")],
        rules: "[{source_labels: [a], regex: '(?P<word>x)', target_label: b, replacement: 'got-$word'}]",
        output: Some(&[("a", "x"), ("b", "got-x")]),
    },
    Vector {
        id: "29",
        input: &[("a", "x")],
        rules: "[{source_labels: [a], regex: '(x)', target_label: '$2'}]",
        output: Some(&[("a", "x")]),
    },
    Vector {
        id: "30",
        input: &[("__address__", "h:1"), ("__meta_x", "y")],
        rules: "[{target_label: __tmp_a, replacement: '1'}, {source_labels: [__tmp_a], regex: '1', action: drop}]",
        output: None,
    },
    // §4 examples that are not already vectors above.
    Vector {
        id: "§4 keep up|node_.* (up)",
        input: &[("__name__", "up")],
        rules: "[{source_labels: [__name__], regex: 'up|node_.*', action: keep}]",
        output: Some(&[("__name__", "up")]),
    },
    Vector {
        id: "§4 keep up|node_.* (other)",
        input: &[("__name__", "go_goroutines")],
        rules: "[{source_labels: [__name__], regex: 'up|node_.*', action: keep}]",
        output: None,
    },
    Vector {
        id: "§4 hashmod sharding, this server owns shard 2",
        input: ADDR,
        rules: "[{source_labels: [__address__], modulus: 4, target_label: __tmp_hash, action: hashmod},
                 {source_labels: [__tmp_hash], regex: '2', action: keep}]",
        output: Some(&[("__address__", "10.0.0.5:9100"), ("__tmp_hash", "2")]),
    },
    Vector {
        id: "§4 keepequal with the annotated port (mismatch)",
        input: &[("__meta_kubernetes_pod_container_port_number", "8080"), ("__tmp_prometheus_port", "9100")],
        rules: "[{source_labels: [__meta_kubernetes_pod_container_port_number], target_label: __tmp_prometheus_port, action: keepequal}]",
        output: None,
    },
    Vector {
        id: "§4 keepequal treats a missing target as empty",
        input: &[("a", "")],
        rules: "[{source_labels: [a], target_label: missing, action: keepequal}]",
        output: Some(&[]),
    },
];

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied()).unwrap()
}

#[test]
fn relabel_md_vectors() {
    let mut failures = Vec::new();
    for v in VECTORS {
        let rules: Vec<RelabelConfig> =
            serde_yaml_ng::from_str(v.rules).unwrap_or_else(|e| panic!("{}: {e}", v.id));
        for r in &rules {
            r.validate()
                .unwrap_or_else(|e| panic!("vector {}: rule fails validation: {e}", v.id));
        }
        let got = relabel(&labels(v.input), &rules);
        let want = v.output.map(labels);
        if got != want {
            failures.push(format!("vector {}: got {got:?}, want {want:?}", v.id));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The builder variant gives the same answers as `relabel`.
#[test]
fn builder_variant_agrees() {
    for v in VECTORS {
        let rules: Vec<RelabelConfig> = serde_yaml_ng::from_str(v.rules).unwrap();
        let mut b = labels(v.input).to_builder();
        let kept = kagari_model::relabel_builder(&mut b, &rules);
        assert_eq!(kept, v.output.is_some(), "vector {}", v.id);
        if let Some(out) = v.output {
            assert_eq!(b.build(), labels(out), "vector {}", v.id);
        }
    }
}

/// relabel.md §7 hash reference table, through the `hashmod` action.
#[test]
fn hash_reference_table() {
    let table: &[(&str, u64, &str)] = &[
        ("10.0.0.5:9100", 4, "2"),
        ("10.0.0.6:9100", 4, "1"),
        ("web-1;prod", 3, "2"),
        ("node-a:9100", 2, "1"),
        ("", 10, "8"),
        ("a", 100, "97"),
        // The "last 8 bytes as u64" column, with a modulus that leaves it unchanged.
        ("10.0.0.5:9100", u64::MAX, "11844482089502435870"),
        ("10.0.0.6:9100", u64::MAX, "11353071471489090305"),
        ("web-1;prod", u64::MAX, "3443488773132195740"),
        ("node-a:9100", u64::MAX, "6221556812062003879"),
        ("", u64::MAX, "16825458760271544958"),
        ("a", u64::MAX, "3585878926028121697"),
    ];
    for &(val, modulus, want) in table {
        let rule = RelabelConfig {
            source_labels: vec!["v".into()],
            target_label: "h".into(),
            modulus,
            action: kagari_model::Action::HashMod,
            ..Default::default()
        };
        let input = Labels::from_pairs([("v", val)]).unwrap();
        let out = relabel(&input, &[rule]).unwrap();
        assert_eq!(out.get("h"), Some(want), "val {val:?} mod {modulus}");
    }
}
