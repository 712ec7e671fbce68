//! The lookup key of a series: its label values packed into machine words, and their hash.
//!
//! The words of a set of values are: first one word holding every value's length (one byte
//! each), then the values' bytes in one of three layouts, chosen by the lengths alone:
//! - every value at most 8 bytes (and at most 4 values): one word per value
//!   ([`Key::short`]);
//! - else, up to 3 values of at most 16 bytes: two words per value ([`Key::medium`]);
//! - else each value's bytes eight at a time, one word for a value of up to 8 bytes, empty too
//!   ([`Key::packed`]).
//!
//! Bytes go into words with [`word`]. For a fixed number of values (a family's) the words are
//! injective, so when they fit in a [`Key`] comparing two keys compares the values; the
//! lengths word decides the layout, so keys with equal lengths words use the same number of
//! words ([`Packed::used`]) and only those need comparing.

/// Words in a [`Key`]: the lengths word and up to 7 words of value bytes.
pub(super) const KEY_WORDS: usize = 8;
/// Values in a [`Key`] (one length byte each in the lengths word).
const KEY_VALUES: usize = 8;

/// Label values packed into words, zero-padded; see the module docs.
#[derive(Debug, Clone, Copy)]
pub(super) struct Key {
    words: [u64; KEY_WORDS],
}

/// A [`Key`] with what a thread-cache probe needs besides it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Packed {
    pub(super) key: Key,
    /// A cheap, unkeyed mix of the words for picking a thread-cache slot (only its top bits
    /// are good): collisions there only cost cache misses, as slots compare whole keys.
    pub(super) quick: u64,
    /// How many leading words of `key` are in use (the rest are zero). A key with the same
    /// lengths word uses as many, so comparing those is comparing the keys.
    pub(super) used: usize,
}

impl PartialEq for Key {
    /// Branch-free over all words (no `memcmp` call).
    #[inline]
    fn eq(&self, other: &Key) -> bool {
        self.words
            .iter()
            .zip(&other.words)
            .fold(0, |diff, (a, b)| diff | (a ^ b))
            == 0
    }
}

impl Eq for Key {}

impl Packed {
    /// The hash of these values under `seed` (not [`hash_values`]'s: a set of values either
    /// fits a key, and is always looked up by this hash, or never does): the words in use,
    /// two at a time, each pair folded with the running hash.
    #[inline]
    pub(super) fn hash(&self, seed: &Seed) -> u64 {
        let pairs = self.used.div_ceil(2);
        self.key
            .words
            .chunks_exact(2)
            .zip(seed.0.chunks_exact(2))
            .take(pairs)
            .fold(seed.0[KEY_WORDS], |h, (w, s)| match (w, s) {
                ([w0, w1], [s0, s1]) => fold(w0 ^ s0, w1 ^ s1 ^ h),
                _ => h,
            })
    }

    /// Whether `other` is this key: compares the lengths word and then only the words in use
    /// (unrolled when `used` is known at compile time, as for [`Key::pack`]'s short keys).
    #[inline(always)]
    pub(super) fn is(&self, other: &Key) -> bool {
        self.key
            .words
            .iter()
            .zip(&other.words)
            .take(self.used)
            .fold(0, |diff, (a, b)| diff | (a ^ b))
            == 0
    }
}

impl Key {
    /// The key of values that do not fit one: its lengths word (8 values of 255 bytes) is
    /// that of no real key, so it equals no real key.
    pub(super) const NONE: Key = Key {
        words: [u64::MAX; KEY_WORDS],
    };

    /// Packs `values`, or `None` if they do not fit (more than 8 values, a value longer than
    /// 255 bytes, or more than 7 words of value bytes in all).
    #[inline(always)]
    pub(super) fn pack<S: AsRef<str>>(values: &[S]) -> Option<Packed> {
        // Up to 4 values of up to 8 bytes each (the common case: methods, codes, statuses)
        // take a builder unrolled for their count, with every word at a fixed place.
        let short = match values {
            [a] => Key::short([a]),
            [a, b] => Key::short([a, b]),
            [a, b, c] => Key::short([a, b, c]),
            [a, b, c, d] => Key::short([a, b, c, d]),
            _ => None,
        };
        if short.is_some() {
            return short;
        }
        let medium = match values {
            [a] => Key::medium([a]),
            [a, b] => Key::medium([a, b]),
            [a, b, c] => Key::medium([a, b, c]),
            _ => None,
        };
        if medium.is_some() {
            return medium;
        }
        Key::packed(values)
    }

    /// [`Key::pack`] of `N` (at most 3) values that are each at most 16 bytes long, some
    /// longer than 8 (else it is [`Key::short`]'s), or `None`: each value takes two words at
    /// fixed places, [`word`] and zero for up to 8 bytes, else its first and its last 8 bytes
    /// (overlapping: with the length, that is all of them).
    #[inline(always)]
    pub(super) fn medium<S: AsRef<str>, const N: usize>(values: [&S; N]) -> Option<Packed> {
        if 1 + 2 * N > KEY_WORDS {
            return None;
        }
        let mut words = [0u64; KEY_WORDS];
        let mut lens = 0u64;
        let mut quick = 0u64;
        let mut long = false;
        for (i, v) in values.iter().enumerate() {
            let b = v.as_ref().as_bytes();
            let (w0, w1) = match (b.first_chunk::<8>(), b.last_chunk::<8>()) {
                _ if b.len() > 16 => return None,
                (Some(first), Some(last)) if b.len() > 8 => {
                    (u64::from_le_bytes(*first), u64::from_le_bytes(*last))
                }
                _ => (word(b), 0),
            };
            long |= b.len() > 8;
            lens |= (b.len() as u64) << (8 * i);
            if let Some([x, y]) = words.get_mut(1 + 2 * i..3 + 2 * i) {
                *x = w0;
                *y = w1;
            }
            quick = quick.rotate_left(23) ^ w0 ^ w1.rotate_left(41);
        }
        if !long {
            return None;
        }
        if let Some(first) = words.first_mut() {
            *first = lens;
        }
        Some(Packed {
            key: Key { words },
            quick: finish_quick(quick, lens),
            used: 1 + 2 * N,
        })
    }

    /// [`Key::pack`] of `N` values that are each at most 8 bytes long, else `None`.
    #[inline(always)]
    pub(super) fn short<S: AsRef<str>, const N: usize>(values: [&S; N]) -> Option<Packed> {
        let mut words = [0u64; KEY_WORDS];
        let mut lens = 0u64;
        let mut quick = 0u64;
        for (i, (v, w)) in values.iter().zip(words.iter_mut().skip(1)).enumerate() {
            let b = v.as_ref().as_bytes();
            if b.len() > 8 {
                return None;
            }
            lens |= (b.len() as u64) << (8 * i);
            *w = word(b);
            quick = quick.rotate_left(23) ^ *w;
        }
        if let Some(first) = words.first_mut() {
            *first = lens;
        }
        Some(Packed {
            key: Key { words },
            quick: finish_quick(quick, lens),
            used: N + 1,
        })
    }

    /// [`Key::pack`] of any values.
    #[inline]
    pub(super) fn packed<S: AsRef<str>>(values: &[S]) -> Option<Packed> {
        if values.len() > KEY_VALUES {
            return None;
        }
        let mut words = [0u64; KEY_WORDS];
        let mut lens = 0u64;
        let mut quick = 0u64;
        let mut at = 1;
        for (i, v) in values.iter().enumerate() {
            let b = v.as_ref().as_bytes();
            if b.len() > 16 {
                return Key::packed_long(values);
            }
            lens |= (b.len() as u64) << (8 * (i % KEY_VALUES));
            // One word for up to 8 bytes (also for none), two for up to 16.
            let (lo, hi) = b.split_at(b.len().min(8));
            let w = word(lo);
            *words.get_mut(at)? = w;
            quick = quick.rotate_left(23) ^ w;
            at += 1;
            if !hi.is_empty() {
                let w = word(hi);
                *words.get_mut(at)? = w;
                quick = quick.rotate_left(23) ^ w;
                at += 1;
            }
        }
        if let Some(first) = words.first_mut() {
            *first = lens;
        }
        Some(Packed {
            key: Key { words },
            quick: finish_quick(quick, lens),
            used: at,
        })
    }

    /// [`Key::packed`] when some value is longer than 16 bytes.
    #[inline(never)]
    fn packed_long<S: AsRef<str>>(values: &[S]) -> Option<Packed> {
        let mut words = [0u64; KEY_WORDS];
        let (first, mut rest) = words.split_first_mut()?;
        let mut lens = 0u64;
        let mut quick = 0u64;
        for (i, v) in values.iter().enumerate() {
            let b = v.as_ref().as_bytes();
            let len = u8::try_from(b.len()).ok()?;
            lens |= u64::from(len) << (8 * (i % KEY_VALUES));
            // One word for up to 8 bytes (also for none), else one per 8 bytes.
            let mut chunks = b.chunks(8);
            loop {
                let (w, tail) = std::mem::take(&mut rest).split_first_mut()?;
                *w = word(chunks.next().unwrap_or_default());
                quick = quick.rotate_left(23) ^ *w;
                rest = tail;
                if chunks.len() == 0 {
                    break;
                }
            }
        }
        *first = lens;
        let used = KEY_WORDS - rest.len();
        Some(Packed {
            key: Key { words },
            quick: finish_quick(quick, lens),
            used,
        })
    }
}

/// The slot-picking mix of [`Key::pack`] from the words' running mix and the lengths word.
#[inline(always)]
fn finish_quick(quick: u64, lens: u64) -> u64 {
    (quick ^ lens).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Per-family random secrets of the hash (one per word of a block, plus the chaining start).
#[derive(Debug, Clone)]
pub(super) struct Seed([u64; KEY_WORDS + 1]);

impl Seed {
    /// Secrets derived from one random `u64`.
    pub(super) fn new(random: u64) -> Seed {
        let mut s = random;
        Seed(std::array::from_fn(|_| {
            // splitmix64
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }))
    }
}

/// The 128-bit product of `a` and `b`, folded to 64 bits.
#[inline]
fn fold(a: u64, b: u64) -> u64 {
    let m = u128::from(a) * u128::from(b);
    (m as u64) ^ ((m >> 64) as u64)
}

/// Hashes one block of 8 words: four independent folds (they run in parallel), combined by a
/// last fold with the chaining value `h`.
#[inline]
fn hash_block(w: &[u64; KEY_WORDS], seed: &Seed, h: u64) -> u64 {
    let s = &seed.0;
    let [w0, w1, w2, w3, w4, w5, w6, w7] = *w;
    let [s0, s1, s2, s3, s4, s5, s6, s7, _] = *s;
    let a = fold(w0 ^ s0, w1 ^ s1);
    let b = fold(w2 ^ s2, w3 ^ s3);
    let c = fold(w4 ^ s4, w5 ^ s5);
    let d = fold(w6 ^ s6, w7 ^ s7);
    fold(a ^ c ^ h, b ^ d ^ s0.rotate_left(32))
}

/// The hash of any values (also those that do not fit a [`Key`]): the same word sequence,
/// hashed block by block, each block chained into the next.
pub(super) fn hash_values<S: AsRef<str>>(seed: &Seed, values: &[S]) -> u64 {
    let mut block = [0u64; KEY_WORDS];
    let mut n = 0;
    let mut h = seed.0[KEY_WORDS];
    let push = |w: u64, block: &mut [u64; KEY_WORDS], n: &mut usize, h: &mut u64| {
        if let Some(slot) = block.get_mut(*n) {
            *slot = w;
            *n += 1;
        }
        if *n == KEY_WORDS {
            *h = hash_block(block, seed, *h);
            *block = [0; KEY_WORDS];
            *n = 0;
        }
    };
    let mut lens = 0u64;
    for (i, v) in values.iter().enumerate() {
        // Equal to the `Key` lengths word when every length fits a byte and i < 8.
        lens ^= (v.as_ref().len() as u64).rotate_left((8 * i % 64) as u32);
    }
    push(lens, &mut block, &mut n, &mut h);
    for v in values {
        // As in `Key::packed`: one word for up to 8 bytes (also for none), else one per 8 bytes.
        let b = v.as_ref().as_bytes();
        if b.len() <= 8 {
            push(word(b), &mut block, &mut n, &mut h);
        } else {
            for c in b.chunks(8) {
                push(word(c), &mut block, &mut n, &mut h);
            }
        }
    }
    if n > 0 {
        h = hash_block(&block, seed, h);
    }
    h
}

/// Up to 8 bytes packed into a word without a `memcpy` (whose partial store would stall the
/// following load). Not zero-padding: for 4..8 bytes two overlapping 4-byte loads, for 1..3
/// bytes the first, middle and last byte and a marker bit. Injective among slices of one
/// length, which is all that equality (lengths compared first) and keys (lengths stored) need.
#[inline(always)]
pub(super) fn word(b: &[u8]) -> u64 {
    if let Some(w) = b.first_chunk::<8>() {
        return u64::from_le_bytes(*w);
    }
    if let (Some(lo), Some(hi)) = (b.first_chunk::<4>(), b.last_chunk::<4>()) {
        return u64::from(u32::from_le_bytes(*lo)) | (u64::from(u32::from_le_bytes(*hi)) << 32);
    }
    match (b.first(), b.get(b.len() / 2), b.last()) {
        (Some(&x), Some(&y), Some(&z)) => {
            u64::from(x) | (u64::from(y) << 8) | (u64::from(z) << 16) | (1 << 24)
        }
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLES: [&str; 19] = [
        "",
        "a",
        "b",
        "ab",
        "ba",
        "abc",
        "acb",
        "abcd",
        "abce",
        "abcdefg",
        "abcdefh",
        "abcdefgh",
        "abcdefgi",
        "abcdefghijklmnop",
        "abcdefghijklmnoq",
        "abcdefghijklmnopq",
        "abcdefghijklmnopr",
        "ü",
        "üü",
    ];

    fn key(values: &[&str]) -> Option<Key> {
        Key::pack(values).map(|p| p.key)
    }

    #[test]
    fn words_hashes_and_keys_on_short_and_long_values() {
        let seed = Seed::new(7);
        for a in SAMPLES {
            for b in SAMPLES {
                let (ha, hb) = (hash_values(&seed, &[a]), hash_values(&seed, &[b]));
                assert_eq!(ha == hb, a == b, "hash {a:?} {b:?}");
                assert_eq!(key(&[a]) == key(&[b]), a == b, "key {a:?} {b:?}");
            }
        }
        // Value boundaries matter, and so does the seed.
        let (s1, s2) = (Seed::new(1), Seed::new(2));
        assert_ne!(
            hash_values(&s1, &["ab", "c"]),
            hash_values(&s1, &["a", "bc"])
        );
        assert_ne!(hash_values(&s1, &["", "x"]), hash_values(&s1, &["x", ""]));
        assert_ne!(key(&["ab", "c"]), key(&["a", "bc"]));
        assert_ne!(key(&["", "x"]), key(&["x", ""]));
        assert_ne!(hash_values(&s1, &["x"]), hash_values(&s2, &["x"]));
        let owned = [String::from("GET"), String::from("200")];
        assert_eq!(hash_values(&s1, &owned), hash_values(&s1, &["GET", "200"]));
    }

    #[test]
    fn short_and_packed_keys_agree() {
        let same = |a: Option<Packed>, b: Option<Packed>| match (a, b) {
            (Some(a), Some(b)) => a.key == b.key && a.quick == b.quick && a.used == b.used,
            (a, b) => a.is_none() && b.is_none(),
        };
        for a in SAMPLES {
            assert!(
                same(Key::short([&a]), Key::packed(&[a])) || a.len() > 8,
                "{a:?}"
            );
            for b in SAMPLES {
                let (s, p) = (Key::short([&a, &b]), Key::packed(&[a, b]));
                assert_eq!(s.is_some(), a.len() <= 8 && b.len() <= 8, "{a:?} {b:?}");
                if s.is_some() {
                    assert!(same(s, p), "{a:?} {b:?}");
                }
                // Longer values: two words per value (medium) while they fit, else packed.
                let m = Key::medium([&a, &b]);
                assert_eq!(m.is_some(), s.is_none() && a.len() <= 16 && b.len() <= 16);
                let expected = if s.is_some() { s } else { m.or(p) };
                assert!(same(Key::pack(&[a, b]), expected), "{a:?} {b:?}");
                let four = [a, b, "", a];
                if let Some(s) = Key::short([&a, &b, &"", &a]) {
                    assert!(same(Some(s), Key::packed(&four)), "{four:?}");
                }
            }
        }
    }

    #[test]
    fn two_value_keys_are_equal_only_for_equal_values() {
        let keys: Vec<(Key, [&str; 2])> = SAMPLES
            .iter()
            .flat_map(|a| SAMPLES.iter().map(move |b| [*a, *b]))
            .map(|v| (key(&v).unwrap(), v))
            .collect();
        for (k1, v1) in &keys {
            for (k2, v2) in &keys {
                assert_eq!(k1 == k2, v1 == v2, "{v1:?} {v2:?}");
            }
        }
    }

    #[test]
    fn keys_hash_by_seed_and_long_values_do_not_fit() {
        let seed = Seed::new(42);
        let sets: [&[&str]; 7] = [
            &[],
            &["GET", "200"],
            &["/api/v1/item/123", "POST", "404"],
            &["a", "b", "c", "d", "e", "f", "g"],
            &["0123456789abcdef0123456789abcdef0123456789abcdef01234"],
            &["0123456789abcdef0123456789abcdef0123456789abcdef", ""],
            &["12345678"; 7],
        ];
        let mut hashes = Vec::new();
        for values in sets {
            let p = Key::pack(values).unwrap();
            assert_eq!(Key::pack(values).unwrap().hash(&seed), p.hash(&seed));
            assert_ne!(p.hash(&seed), p.hash(&Seed::new(43)), "{values:?}");
            hashes.push(p.hash(&seed));
        }
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), sets.len());
        let long = "x".repeat(57);
        assert!(key(&[long.as_str()]).is_none());
        assert!(key(&["1"; 9]).is_none());
        assert!(key(&["12345678"; 8]).is_none());
        assert!(key(&[""; 8]).is_none()); // an empty value takes a word too
        assert!(key(&[&long[..50], "", ""]).is_none());
        // Values that do not fit still hash, and differently.
        assert_ne!(
            hash_values(&seed, &[long.as_str()]),
            hash_values(&seed, &[&long[1..]])
        );
        assert_ne!(
            hash_values(&seed, &["1"; 9]),
            hash_values(&seed, &["1"; 10])
        );
    }
}
