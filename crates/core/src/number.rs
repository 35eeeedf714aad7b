//! Numbers as text, both ways, without `core::fmt` or `str::parse` (whose exact
//! float algorithms add kilobytes to the snippet; comparisons need no last-bit
//! precision).

use alloc::string::String;

/// Appends the decimal digits of `n`.
pub fn push_u64(out: &mut String, n: u64) {
    // Highest power of ten first: no digit buffer to index.
    let mut div = 1;
    while n / div >= 10 {
        div *= 10;
    }
    while div > 0 {
        out.push(char::from(b'0' + (n / div % 10) as u8));
        div /= 10;
    }
}

/// Reads a decimal number such as `19.99`, `-3`, `1e3` or ` 42 `; `None` for
/// anything else.
pub fn parse(text: &str) -> Option<f64> {
    let t = text.trim_ascii().as_bytes();
    let sign = |i: usize| match t.get(i) {
        Some(b'-') => (true, i + 1),
        Some(b'+') => (false, i + 1),
        _ => (false, i),
    };
    let (neg, mut i) = sign(0);
    let (mut n, mut digits, mut scale, mut dot) = (0f64, 0, 0i32, false);
    while let Some(&c) = t.get(i) {
        if c.is_ascii_digit() {
            n = n * 10.0 + f64::from(c - b'0');
            digits += 1;
            scale -= i32::from(dot);
        } else if c == b'.' && !dot {
            dot = true;
        } else {
            break;
        }
        i += 1;
    }
    if digits == 0 {
        return None;
    }
    if let Some(&e) = t.get(i) {
        if e | 0x20 != b'e' {
            return None;
        }
        let (eneg, from) = sign(i + 1);
        let mut e = 0i32;
        i = from;
        // At most three digits: no double is further from 1 than 1e±400.
        while let Some(&c) = t.get(i) {
            if !c.is_ascii_digit() || i >= from + 3 {
                return None;
            }
            e = e * 10 + i32::from(c - b'0');
            i += 1;
        }
        if i == from {
            return None;
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
            ("1e+3", Some(1000.0)),
            ("-0.5", Some(-0.5)),
            ("1E2", Some(100.0)),
            ("1e-", None),
            ("--1", None),
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
        for n in [
            1,
            9,
            10,
            99,
            100,
            1_700_000_000_000,
            10_000_000_000_000_000_000,
        ] {
            s.clear();
            push_u64(&mut s, n);
            assert_eq!(s, alloc::format!("{n}"));
        }
    }
}
