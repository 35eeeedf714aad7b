//! Dates for a trigger's schedule: `"2026-12-01"` or `"2026-12-01T09:00"`, in UTC
//! unless an offset is given (`"2026-12-01T09:00+01:00"`, `"...Z"`).

const HINT: &str = "expected a date such as \"2026-12-01\" or \"2026-12-01T09:00:00+01:00\" (UTC without an offset)";

/// A parsed date and whether it had a time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date {
    /// Milliseconds since the Unix epoch.
    pub ms: u64,
    /// Whether a time of day was written (a bare date means its whole day).
    pub has_time: bool,
}

const DAY: u64 = 86_400_000;

impl Date {
    /// Parses an ISO 8601 date or date-time.
    pub fn parse(text: &str) -> Result<Date, &'static str> {
        parse(text.trim_ascii().as_bytes()).ok_or(HINT)
    }
}

/// The date in `t`, if it is one. Written for size: the snippet carries it, and a
/// table of field offsets read by one digit loop is a third of the code of a parser
/// that names each field.
fn parse(t: &[u8]) -> Option<Date> {
    // `n` digits at `at`.
    let num = |at: usize, n: usize| -> Option<u64> {
        let mut v = 0;
        for i in at..at + n {
            let d = t.get(i)?.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            v = v * 10 + u64::from(d);
        }
        Some(v)
    };
    let is = |at: usize, c: u8| t.get(at) == Some(&c);
    if !(is(4, b'-') && is(7, b'-')) {
        return None;
    }
    let (y, m, d) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = match m {
        2 => 28 + u64::from(leap),
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || d == 0 || d > month_days {
        return None;
    }
    // Days since 1970-01-01, counted from March so that February comes last (Howard
    // Hinnant's algorithm, without the negative eras a later year never needs).
    let y = if m <= 2 { y - 1 } else { y };
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let days = y * 365 + y / 4 - y / 100 + y / 400 + doy - 719_468;
    let mut ms = days * DAY;
    if t.len() == 10 {
        return Some(Date {
            ms,
            has_time: false,
        });
    }
    if !matches!(t.get(10), Some(b'T' | b't' | b' ')) || !is(13, b':') {
        return None;
    }
    let (h, min) = (num(11, 2)?, num(14, 2)?);
    let (mut sec, mut i) = (0, 16);
    if is(16, b':') {
        sec = num(17, 2)?;
        i = 19;
        // Fractions of a second (`toISOString()` writes `.000`): milliseconds kept.
        if is(19, b'.') {
            i = 20;
            let mut scale = 100;
            while let Some(digit) = num(i, 1) {
                ms += digit * scale;
                scale /= 10;
                i += 1;
            }
            if i == 20 {
                return None;
            }
        }
    }
    if h > 23 || min > 59 || sec > 59 {
        return None;
    }
    ms += ((h * 60 + min) * 60 + sec) * 1000;
    match t.get(i) {
        None => {}
        Some(b'Z' | b'z') if t.len() == i + 1 => {}
        // +01:00, or +0100 as some servers write it.
        Some(&sign @ (b'+' | b'-')) => {
            let colon = usize::from(is(i + 3, b':'));
            if t.len() != i + 5 + colon {
                return None;
            }
            let (oh, om) = (num(i + 1, 2)?, num(i + 3 + colon, 2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let off = (oh * 60 + om) * 60_000;
            // 09:00+01:00 is 08:00 UTC.
            ms = if sign == b'+' {
                ms.checked_sub(off)?
            } else {
                ms + off
            };
        }
        _ => return None,
    }
    Some(Date { ms, has_time: true })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times() {
        let ok = [
            ("1970-01-01", 0, false),
            ("2026-12-01", 1_796_083_200_000, false),
            ("2024-02-29", 1_709_164_800_000, false),
            ("2026-12-01T09:00", 1_796_083_200_000 + 9 * 3_600_000, true),
            (
                "2026-12-01T09:00:30.250Z",
                1_796_083_200_000 + 9 * 3_600_000 + 30_250,
                true,
            ),
            (
                "2026-12-01T10:00+0100",
                1_796_083_200_000 + 9 * 3_600_000,
                true,
            ),
            (
                "2026-12-01T09:00:30Z",
                1_796_083_200_000 + 9 * 3_600_000 + 30_000,
                true,
            ),
            (
                "2026-12-01T09:00+01:00",
                1_796_083_200_000 + 8 * 3_600_000,
                true,
            ),
            (
                "2026-12-01T09:00-02:30",
                1_796_083_200_000 + 11 * 3_600_000 + 1_800_000,
                true,
            ),
        ];
        for (text, ms, has_time) in ok {
            assert_eq!(Date::parse(text), Ok(Date { ms, has_time }), "{text}");
        }
        for bad in [
            "",
            "2026",
            "2026-13-01",
            "2026-02-30",
            "2023-02-29",
            "2026-12-01T25:00",
            "2026-12-01T09",
            "2026-12-01X09:00",
            "2026-12-01T09:00+1",
            "2026-12-01T09:00+25:00",
            "2026-12-01T09:00:00.Z",
            "1969-12-31",
            "next week",
        ] {
            assert_eq!(Date::parse(bad), Err(HINT), "{bad:?}");
        }
    }
}
