//! XOR chunk tests: promtool golden bytes, bucket edges, NaN payloads, resumed appends, seek,
//! corruption and property tests.

use super::*;

fn encode(samples: &[(i64, f64)]) -> XorChunk {
    let mut c = XorChunk::new();
    let mut app = c.appender().unwrap();
    for &(t, v) in samples {
        app.append(t, v).unwrap();
    }
    c
}

fn decode(bytes: &[u8]) -> Vec<(i64, u64)> {
    let mut it = XorIterator::new(bytes);
    let mut out = Vec::new();
    while it.next() == ValueType::Float {
        let (t, v) = it.at();
        out.push((t, v.to_bits()));
    }
    assert!(it.err().is_none(), "{:?}", it.err());
    out
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Golden bytes from the reference document (§5.4 and §4.3), written by promtool 2.42.
#[test]
fn golden_chunks_from_promtool() {
    let cases: &[(&[(i64, f64)], &str)] = &[
        (
            &[
                (1700000000000, 10.0),
                (1700000015000, 12.0),
                (1700000030000, 15.0),
                (1700000045500, 16.0),
            ],
            "00 04 80 a0 ab fe f9 62 40 24 00 00 00 00 00 00 98 75 d8 16 da 17 03 e9 ac 4f",
        ),
        (
            &[(1700000000000, 1.0), (1700000015000, 1.0)],
            "00 02 80 a0 ab fe f9 62 3f f0 00 00 00 00 00 00 98 75 00",
        ),
        (
            &[(1700000000000, 1.0), (1700000015000, 0.0)],
            "00 02 80 a0 ab fe f9 62 3f f0 00 00 00 00 00 00 98 75 c4 57 fe",
        ),
    ];
    for (samples, want) in cases {
        let c = encode(samples);
        assert_eq!(c.bytes(), hex(want).as_slice());
        let got = decode(c.bytes());
        let want: Vec<_> = samples.iter().map(|&(t, v)| (t, v.to_bits())).collect();
        assert_eq!(got, want);
    }
}

#[test]
fn all_dod_buckets_and_nans_round_trip() {
    let mut samples = Vec::new();
    let mut t = -5_000_000i64;
    let deltas = [
        1i64,
        1,
        2,
        8193,
        1,
        65_537,
        1,
        524_289,
        1,
        1 << 40,
        1,
        3,
        8192,
        0x2000 + 1,
    ];
    let values = [
        0.0,
        -0.0,
        f64::NAN,
        f64::from_bits(0x7FF0_0000_0000_0002),
        f64::INFINITY,
        1e300,
        -1e-300,
        42.0,
        42.0,
        f64::from_bits(1),
        f64::from_bits(u64::MAX),
        3.5,
        7.25,
        -1.0,
    ];
    for (d, v) in deltas.iter().zip(values.iter()) {
        t += d;
        samples.push((t, *v));
    }
    let c = encode(&samples);
    let got = decode(c.bytes());
    let want: Vec<_> = samples.iter().map(|&(t, v)| (t, v.to_bits())).collect();
    assert_eq!(got, want);
}

#[test]
fn exact_bucket_edges() {
    // dod values at the asymmetric edges of each bucket.
    for dod in [
        8192i64, -8191, -8192, 65536, -65535, -65536, 524288, -524287, -524288,
    ] {
        let base = 1_000_000i64;
        let samples = [(0i64, 1.0), (base, 2.0), (2 * base + dod, 3.0)];
        let got = decode(encode(&samples).bytes());
        assert_eq!(
            got.iter().map(|s| s.0).collect::<Vec<_>>(),
            vec![0, base, 2 * base + dod],
            "dod {dod}"
        );
    }
}

#[test]
fn resumed_appender_matches_single_pass() {
    let samples: Vec<(i64, f64)> = (0..50)
        .map(|i| (i * 15_000 + (i % 3), (i as f64).sin()))
        .collect();
    let one_pass = encode(&samples);
    for split in [1usize, 2, 3, 17] {
        let first = encode(&samples[..split]);
        let mut resumed = XorChunk::from_bytes(first.into_bytes()).unwrap();
        let mut app = resumed.appender().unwrap();
        for &(t, v) in &samples[split..] {
            app.append(t, v).unwrap();
        }
        assert_eq!(
            decode(resumed.bytes()),
            decode(one_pass.bytes()),
            "split {split}"
        );
        if split > 1 {
            assert_eq!(resumed.bytes(), one_pass.bytes(), "split {split}");
        }
    }
}

#[test]
fn decoder_accepts_reuse_before_any_window() {
    // Prometheus may write `1 0` + 64 bits after resuming a one-sample chunk.
    let mut c = encode(&[(1, 1.0)]);
    let mut app = c.appender().unwrap();
    app.append(2, 2.0).unwrap();
    let got = decode(c.bytes());
    assert_eq!(got, vec![(1, 1f64.to_bits()), (2, 2f64.to_bits())]);
}

#[test]
fn seek_and_reset() {
    let a = encode(&[(10, 1.0), (20, 2.0), (30, 3.0)]);
    let b = encode(&[(100, 9.0)]);
    let mut it = a.iter();
    assert_eq!(it.seek(15), ValueType::Float);
    assert_eq!(it.at(), (20, 2.0));
    assert_eq!(it.seek(5), ValueType::Float);
    assert_eq!(it.at_t(), 20);
    assert_eq!(it.seek(31), ValueType::None);
    it = b.iterator(Some(it));
    assert_eq!(it.next(), ValueType::Float);
    assert_eq!(it.at(), (100, 9.0));
    assert_eq!(it.next(), ValueType::None);
}

proptest::proptest! {
    #[test]
    fn prop_round_trip(
        start in proptest::num::i64::ANY,
        steps in proptest::collection::vec((1i64..=1 << 40, proptest::num::u64::ANY), 1..300),
    ) {
        let mut t = start;
        let mut samples = Vec::new();
        for (d, bits) in steps {
            let Some(next) = t.checked_add(d) else { break };
            samples.push((t, f64::from_bits(bits)));
            t = next;
        }
        proptest::prop_assume!(!samples.is_empty());
        let c = encode(&samples);
        let want: Vec<_> = samples.iter().map(|&(t, v)| (t, v.to_bits())).collect();
        proptest::prop_assert_eq!(decode(c.bytes()), want);
    }

    /// The state kept in the chunk equals the state recovered by decoding: a chunk resumed
    /// from its bytes at any point after an XOR window exists continues with the same bytes
    /// as one pass (see `decoder_accepts_reuse_before_any_window` for the other case).
    #[test]
    fn prop_resumed_equals_single_pass(
        steps in proptest::collection::vec((1i64..=1 << 30, proptest::num::u64::ANY, 0u8..4), 2..250),
        split in 2usize..250,
    ) {
        let mut t = 1_700_000_000_000i64;
        let samples: Vec<(i64, f64)> = steps
            .iter()
            .map(|&(d, bits, kind)| {
                t += if kind == 0 { 15_000 } else { d };
                // A mix of repeated, small-integer and random values.
                let v = match kind {
                    0 | 1 => (bits % 8) as f64,
                    _ => f64::from_bits(bits),
                };
                (t, v)
            })
            .collect();
        let split = split.min(samples.len());
        let one_pass = encode(&samples);
        let mut resumed = XorChunk::from_bytes(encode(&samples[..split]).into_bytes()).unwrap();
        for &(t, v) in &samples[split..] {
            resumed.append(t, v).unwrap();
        }
        // Before the first value that differs from its predecessor there is no XOR window;
        // a resumed chunk then starts from the decoder's (0, 0) window, as Prometheus's
        // `Appender()` does, and the bytes may differ while the samples are the same.
        let has_window = samples[..split].windows(2).any(|w| w[0].1.to_bits() != w[1].1.to_bits());
        if has_window {
            proptest::prop_assert_eq!(resumed.bytes(), one_pass.bytes());
        } else {
            proptest::prop_assert_eq!(decode(resumed.bytes()), decode(one_pass.bytes()));
        }
        proptest::prop_assert_eq!(resumed.num_samples() as usize, samples.len());
    }

    #[test]
    fn prop_garbage_never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
        let mut it = XorIterator::new(&data);
        let mut n = 0u32;
        while it.next() == ValueType::Float {
            n += 1;
        }
        proptest::prop_assert!(n <= u32::from(u16::MAX));
    }
}

#[test]
fn rejects_non_increasing_time() {
    let mut c = XorChunk::new();
    let mut app = c.appender().unwrap();
    app.append(5, 1.0).unwrap();
    assert!(app.append(5, 2.0).is_err());
    assert_eq!(c.num_samples(), 1);
}

#[test]
fn truncated_data_is_an_error_not_a_panic() {
    let c = encode(&[(1, 1.0), (2, 2.5), (4, -3.0), (100, 7.0)]);
    let bytes = c.bytes();
    for cut in 0..bytes.len() {
        let mut it = XorIterator::new(&bytes[..cut]);
        let mut n = 0;
        while it.next() == ValueType::Float {
            n += 1;
        }
        assert!(n < 4, "cut {cut}");
        if cut >= 2 {
            assert!(it.err().is_some(), "cut {cut} gave no error");
        }
    }
}
