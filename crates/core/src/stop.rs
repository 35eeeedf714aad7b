//! The Stop step: once a trigger has fired for a profile, it rests until its restart
//! timeout has passed (or for good, with `"never"`).

use crate::duration::Duration;
use crate::value::{ConfigError, Value, join, object};

/// When a stopped trigger may fire again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restart {
    /// After this long since it last fired.
    After(Duration),
    /// Never again for this profile: "once per profile".
    Never,
}

/// The Stop of a trigger: `stop: { restartAfter: "30d" }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stop {
    /// When the trigger may fire again for the same profile.
    pub restart_after: Restart,
}

impl Restart {
    /// Parses `"never"` or a duration such as `"30d"`.
    pub fn parse(text: &str) -> Result<Restart, &'static str> {
        if text.trim() == "never" {
            return Ok(Restart::Never);
        }
        Duration::parse(text)
            .map(Restart::After)
            .map_err(|_| "expected \"never\" or a duration such as \"30d\"")
    }
}

impl Stop {
    /// Parses `{ restartAfter: "30d" | "never" }` at `path`.
    pub fn from_value(value: &Value, path: &str) -> Result<Stop, ConfigError> {
        object(value, path, &["restartAfter"])?;
        let key = join(path, "restartAfter");
        let text = crate::value::string(value.get("restartAfter"), &key)?;
        let restart_after = Restart::parse(&text).map_err(|m| ConfigError::new(&key, m))?;
        Ok(Stop { restart_after })
    }

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
    use crate::value::testing::from_json;

    const DAY: u64 = 86_400_000;

    fn stop(json: &str) -> Result<Stop, String> {
        Stop::from_value(&from_json(json), "stop").map_err(|e| e.text())
    }

    #[test]
    fn restart_timeout_edges() {
        let thirty = stop(r#"{"restartAfter":"30d"}"#).unwrap();
        let never = stop(r#"{"restartAfter":"never"}"#).unwrap();
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
    fn rejects_bad_restart_naming_the_key() {
        let cases = [
            (
                r#"{"restartAfter":"soon"}"#,
                "stop.restartAfter: expected \"never\" or a duration such as \"30d\"",
            ),
            (
                r#"{"restartAfter":30}"#,
                "stop.restartAfter: must be a string",
            ),
            (
                r#"{"restart":"30d"}"#,
                "stop: unknown key \"restart\" (did you mean \"restartAfter\"?)",
            ),
            (r#"{}"#, "stop.restartAfter: is required"),
            (r#""30d""#, "stop: must be an object"),
        ];
        for (json, want) in cases {
            assert_eq!(stop(json).unwrap_err(), want, "{json}");
        }
    }
}
