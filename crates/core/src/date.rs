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

fn digits(t: &[u8], from: usize, n: usize) -> Option<u32> {
    // A loop: `try_fold` instantiates adaptor code in the snippet.
    let mut acc = 0u32;
    for b in t.get(from..from + n)? {
        if !b.is_ascii_digit() {
            return None;
        }
        acc = acc * 10 + u32::from(b - b'0');
    }
    Some(acc)
}

/// Days since 1970-01-01 of a civil date from 1970 on (Howard Hinnant's algorithm,
/// without the negative eras a later year never needs).
fn days_from_civil(y: u32, m: u32, d: u32) -> u64 {
    let y = u64::from(if m <= 2 { y - 1 } else { y });
    let (era, yoe) = (y / 400, y % 400);
    let m = u64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + u64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl Date {
    /// Parses an ISO 8601 date or date-time.
    pub fn parse(text: &str) -> Result<Date, &'static str> {
        let t = text.trim_ascii().as_bytes();
        let (y, m, d) = match (
            digits(t, 0, 4),
            t.get(4),
            digits(t, 5, 2),
            t.get(7),
            digits(t, 8, 2),
        ) {
            (Some(y), Some(b'-'), Some(m), Some(b'-'), Some(d)) => (y, m, d),
            _ => return Err(HINT),
        };
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let month_days = match m {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || d == 0 || d > month_days {
            return Err(HINT);
        }
        let mut ms = days_from_civil(y, m, d) * 86_400_000;
        if t.len() == 10 {
            return Ok(Date {
                ms,
                has_time: false,
            });
        }
        if !matches!(t.get(10), Some(b'T' | b't' | b' ')) {
            return Err(HINT);
        }
        let (Some(h), Some(b':'), Some(min)) = (digits(t, 11, 2), t.get(13), digits(t, 14, 2))
        else {
            return Err(HINT);
        };
        let mut i = 16;
        let mut sec = 0;
        if t.get(16) == Some(&b':') {
            sec = digits(t, 17, 2).ok_or(HINT)?;
            i = 19;
        }
        if h > 23 || min > 59 || sec > 59 {
            return Err(HINT);
        }
        ms += (u64::from(h) * 3600 + u64::from(min) * 60 + u64::from(sec)) * 1000;
        // Fractions of a second (`toISOString()` writes `.000`): milliseconds kept.
        if i == 19 && t.get(19) == Some(&b'.') {
            let mut k = 20;
            let mut scale = 100;
            while let Some(d) = t.get(k).filter(|b| b.is_ascii_digit()) {
                ms += u64::from(d - b'0') * scale;
                scale /= 10;
                k += 1;
            }
            if k == 20 {
                return Err(HINT);
            }
            i = k;
        }
        match t.get(i) {
            None => {}
            Some(b'Z' | b'z') if t.len() == i + 1 => {}
            // +01:00, or +0100 as some servers write it.
            Some(sign @ (b'+' | b'-'))
                if (t.len() == i + 6 && t.get(i + 3) == Some(&b':')) || t.len() == i + 5 =>
            {
                let m_at = if t.len() == i + 6 { i + 4 } else { i + 3 };
                let (oh, om) = (
                    digits(t, i + 1, 2).ok_or(HINT)?,
                    digits(t, m_at, 2).ok_or(HINT)?,
                );
                if oh > 23 || om > 59 {
                    return Err(HINT);
                }
                let off = (u64::from(oh) * 60 + u64::from(om)) * 60_000;
                // 09:00+01:00 is 08:00 UTC.
                ms = if *sign == b'+' {
                    ms.checked_sub(off).ok_or(HINT)?
                } else {
                    ms + off
                };
            }
            _ => return Err(HINT),
        }
        Ok(Date { ms, has_time: true })
    }
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
