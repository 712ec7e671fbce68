//! Base64 encoding (RFC 4648) for Pushgateway grouping keys and basic auth.

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn encode_with(input: &[u8], alphabet: &[u8; 64]) -> String {
    let sym = |i: u32| char::from(alphabet[(i & 63) as usize]);
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        out.push(sym(n >> 18));
        out.push(sym(n >> 12));
        out.push(if chunk.len() > 1 { sym(n >> 6) } else { '=' });
        out.push(if chunk.len() > 2 { sym(n) } else { '=' });
    }
    out
}

/// Standard alphabet, padded (HTTP basic auth).
pub(crate) fn encode_standard(input: &[u8]) -> String {
    encode_with(input, STANDARD)
}

/// URL-safe alphabet (`-`, `_`), padded, as client_python's `urlsafe_b64encode`.
pub(crate) fn encode_url_safe(input: &[u8]) -> String {
    encode_with(input, URL_SAFE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (input, want) in cases {
            assert_eq!(encode_standard(input.as_bytes()), want);
        }
    }

    #[test]
    fn url_safe_alphabet() {
        assert_eq!(encode_url_safe(b"/var/tmp"), "L3Zhci90bXA=");
        assert_eq!(encode_url_safe(&[0xfb, 0xff]), "-_8=");
        assert_eq!(encode_standard(&[0xfb, 0xff]), "+/8=");
    }
}
