//! Durations as site owners write them: `"250ms"`, `"45s"`, `"15m"`, `"12h"`, `"7d"`, `"2w"`.

use alloc::string::String;

use crate::number::push_u64;

/// A span of time in milliseconds, written in configs as a number and a unit.
///
/// Only whole units are accepted: `"1.5d"` is rejected rather than guessed at, and
/// a duration has no sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Duration {
    ms: u64,
}

const SECOND: u64 = 1_000;
const MINUTE: u64 = 60 * SECOND;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;
const WEEK: u64 = 7 * DAY;

const TOO_LONG: &str = "duration is too long";
const HINT: &str = "expected a duration such as \"30s\", \"15m\", \"12h\", \"7d\" or \"2w\"";

/// `digits` × `per` milliseconds, for digits only.
fn whole(digits: &[u8], per: u64) -> Result<Duration, &'static str> {
    if digits.is_empty() {
        return Err(HINT);
    }
    // By hand on bytes: `str::parse` and UTF-8 checks are a kilobyte of the snippet,
    // and overflow is checked by comparison rather than `checked_mul`, whose 64-bit
    // overflow test brings a 128-bit multiplication into the WebAssembly.
    let mut n: u64 = 0;
    for b in digits {
        if !b.is_ascii_digit() {
            return Err(HINT);
        }
        if n > (u64::MAX - 9) / 10 {
            return Err(TOO_LONG);
        }
        n = n * 10 + u64::from(b - b'0');
    }
    if n > u64::MAX / per {
        return Err(TOO_LONG);
    }
    Ok(Duration::from_millis(n * per))
}

impl Duration {
    /// A duration of `ms` milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        Duration { ms }
    }

    /// The duration in milliseconds.
    pub const fn as_millis(self) -> u64 {
        self.ms
    }

    /// Parses `"<digits><unit>"` with unit `ms`, `s`, `m`, `h`, `d` or `w`.
    ///
    /// The error is a fixed sentence rather than a formatted one: it is shown next to
    /// the offending key by the caller, and fixed strings keep the wasm small.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let text = text.trim_ascii();
        if let Some(digits) = text.as_bytes().strip_suffix(b"ms") {
            return whole(digits, 1);
        }
        // On bytes (the unit is ASCII): `chars()` from the end brings UTF-8 decoding.
        let Some((unit, digits)) = text.as_bytes().split_last() else {
            return Err(HINT);
        };
        let per = match unit {
            b's' => SECOND,
            b'm' => MINUTE,
            b'h' => HOUR,
            b'd' => DAY,
            b'w' => WEEK,
            _ => return Err(HINT),
        };
        whole(digits, per)
    }
}

impl Duration {
    /// The duration in the largest whole unit, e.g. `"1w"`, `"36h"`, `"90s"`.
    pub fn text(self) -> String {
        let ms = self.ms;
        let (n, unit) = [(WEEK, 'w'), (DAY, 'd'), (HOUR, 'h'), (MINUTE, 'm')]
            .into_iter()
            .find(|(per, _)| ms % per == 0 && ms >= *per)
            .map(|(per, u)| (ms / per, u))
            .unwrap_or((ms / SECOND, 's'));
        let mut text = String::new();
        push_u64(&mut text, n);
        text.push(unit);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_unit_and_rejects_the_rest() {
        let cases: &[(&str, Option<u64>)] = &[
            ("45s", Some(45 * SECOND)),
            ("250ms", Some(250)),
            ("ms", None),
            ("15m", Some(15 * MINUTE)),
            ("12h", Some(12 * HOUR)),
            ("7d", Some(7 * DAY)),
            ("2w", Some(14 * DAY)),
            (" 30d ", Some(30 * DAY)),
            ("0s", Some(0)),
            ("", None),
            ("d", None),
            ("7", None),
            ("7x", None),
            ("-7d", None),
            ("1.5d", None),
            ("7 d", None),
            ("99999999999999999999d", None),
        ];
        for (text, want) in cases {
            let got = Duration::parse(text).ok().map(Duration::as_millis);
            assert_eq!(got, *want, "Duration::parse({text:?})");
        }
    }

    #[test]
    fn text_is_in_the_largest_whole_unit() {
        for (ms, want) in [(7 * DAY, "1w"), (36 * HOUR, "36h"), (90 * SECOND, "90s")] {
            assert_eq!(Duration::from_millis(ms).text(), want, "{ms} ms");
        }
    }
}
