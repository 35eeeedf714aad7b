//! The Stop step: once a trigger has fired for a profile, it rests until its restart
//! timeout has passed (or for good, with `"never"`).

use serde::{Deserialize, Deserializer};

use crate::duration::Duration;

/// When a stopped trigger may fire again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restart {
    /// After this long since it last fired.
    After(Duration),
    /// Never again for this profile: "once per profile".
    Never,
}

/// The Stop of a trigger: `stop: { restartAfter: "30d" }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Stop {
    /// When the trigger may fire again for the same profile.
    pub restart_after: Restart,
}

impl<'de> Deserialize<'de> for Restart {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if text.trim() == "never" {
            return Ok(Restart::Never);
        }
        Duration::parse(&text).map(Restart::After).map_err(|_| {
            serde::de::Error::custom("expected \"never\" or a duration such as \"30d\"")
        })
    }
}

impl Stop {
    /// Whether a trigger that last fired at `last_fired` may fire at `now`; when not,
    /// `Err` carries the time it may fire again (`None`: never).
    pub fn check(&self, last_fired: Option<u64>, now: u64) -> Result<(), Option<u64>> {
        let Some(last) = last_fired else {
            return Ok(());
        };
        match self.restart_after {
            Restart::Never => Err(None),
            Restart::After(d) => {
                let again = last.saturating_add(d.as_millis());
                if now >= again {
                    Ok(())
                } else {
                    Err(Some(again))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 86_400_000;

    fn stop(json: &str) -> Stop {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn restart_timeout_edges() {
        let thirty = stop(r#"{"restartAfter":"30d"}"#);
        let never = stop(r#"{"restartAfter":"never"}"#);
        let t0 = 1_000 * DAY;
        let cases = [
            (thirty, None, t0, Ok(())),
            (thirty, Some(t0), t0, Err(Some(t0 + 30 * DAY))),
            (
                thirty,
                Some(t0),
                t0 + 30 * DAY - 1,
                Err(Some(t0 + 30 * DAY)),
            ),
            (thirty, Some(t0), t0 + 30 * DAY, Ok(())),
            (never, None, t0, Ok(())),
            (never, Some(t0), t0 + 10_000 * DAY, Err(None)),
        ];
        for (stop, last, now, want) in cases {
            assert_eq!(
                stop.check(last, now),
                want,
                "{stop:?} last={last:?} now={now}"
            );
        }
    }

    #[test]
    fn rejects_bad_restart() {
        for json in [
            r#"{"restartAfter":"soon"}"#,
            r#"{"restartAfter":30}"#,
            r#"{"restart":"30d"}"#,
        ] {
            assert!(
                serde_json::from_str::<Stop>(json).is_err(),
                "{json} was accepted"
            );
        }
    }
}
