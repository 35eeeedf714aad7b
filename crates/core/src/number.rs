//! Numbers as text, both ways, without `core::fmt` or `str::parse` (whose exact
//! float algorithms add kilobytes to the snippet; comparisons need no last-bit
//! precision).

use alloc::string::String;

/// Appends the decimal digits of `n`.
pub fn push_u64(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        out.push(d as char);
    }
}

/// Reads a decimal number such as `19.99`, `-3`, `1e3` or ` 42 `; `None` for
/// anything else.
pub fn parse(text: &str) -> Option<f64> {
    let t = text.trim_ascii().as_bytes();
    let (neg, t) = match t.split_first() {
        Some((b'-', r)) => (true, r),
        Some((b'+', r)) => (false, r),
        _ => (false, t),
    };
    let mut n = 0f64;
    let mut digits = 0;
    let mut scale = 0i32;
    let mut i = 0;
    let mut dot = false;
    while let Some(&c) = t.get(i) {
        match c {
            b'0'..=b'9' => {
                n = n * 10.0 + f64::from(c - b'0');
                digits += 1;
                if dot {
                    scale -= 1;
                }
            }
            b'.' if !dot => dot = true,
            _ => break,
        }
        i += 1;
    }
    if digits == 0 {
        return None;
    }
    if let Some(&e) = t.get(i) {
        if e != b'e' && e != b'E' {
            return None;
        }
        // Bytes, not `str` slices: a `str` slice can panic, and its panic message
        // would bring `core::fmt` into the wasm.
        let rest = t.get(i + 1..).unwrap_or_default();
        let (eneg, rest) = match rest.split_first() {
            Some((b'-', r)) => (true, r),
            Some((b'+', r)) => (false, r),
            _ => (false, rest),
        };
        if rest.is_empty() || rest.len() > 3 {
            return None;
        }
        let mut e = 0i32;
        for b in rest {
            if !b.is_ascii_digit() {
                return None;
            }
            e = e * 10 + i32::from(b - b'0');
        }
        scale += if eneg { -e } else { e };
    }
    // Dividing by an exact power of ten keeps "19.99" at the nearest double.
    let mut p = 1f64;
    for _ in 0..scale.unsigned_abs().min(400) {
        p *= 10.0;
    }
    let n = if scale < 0 { n / p } else { n * p };
    Some(if neg { -n } else { n })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read() {
        let cases: &[(&str, Option<f64>)] = &[
            ("19.99", Some(19.99)),
            (" 42 ", Some(42.0)),
            ("-3", Some(-3.0)),
            ("+7", Some(7.0)),
            ("1e3", Some(1000.0)),
            ("2.5E-1", Some(0.25)),
            ("0.1", Some(0.1)),
            (".5", Some(0.5)),
            ("5.", Some(5.0)),
            ("", None),
            ("-", None),
            ("abc", None),
            ("12abc", None),
            ("1e", None),
            ("1e1234", None),
            ("1.2.3", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text), *want, "{text:?}");
        }
    }

    #[test]
    fn digits_written() {
        let mut s = String::new();
        push_u64(&mut s, u64::MAX);
        assert_eq!(s, "18446744073709551615");
        s.clear();
        push_u64(&mut s, 0);
        assert_eq!(s, "0");
    }
}
