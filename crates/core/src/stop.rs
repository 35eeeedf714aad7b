//! The Stop step: once a trigger has fired for a profile, it rests until its restart
//! timeout has passed (or for good, with `"never"`).

use crate::duration::Duration;
use crate::error::{ConfigError, join, object};
use crate::json::Doc;

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
        if text.trim_ascii() == "never" {
            return Ok(Restart::Never);
        }
        Duration::parse(text)
            .map(Restart::After)
            .map_err(|_| "expected \"never\" or a duration such as \"30d\"")
    }
}

impl Stop {
    /// Parses `{ restartAfter: "30d" | "never" }` at node `i`, at `path`.
    pub fn parse(doc: &Doc, i: usize, path: &str) -> Result<Stop, ConfigError> {
        let text = restart_after(doc, i, path)?;
        let restart_after =
            Restart::parse(text).map_err(|m| ConfigError::new(&join(path, "restartAfter"), m))?;
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

/// A trigger's firing limit in the browser: the Stop, or once per session or page
/// (`restartAfter: "session"` / `"page"`, which the relay cannot see and so does not
/// enforce).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// The Stop: once per restart window, or once per profile.
    Stop(Stop),
    /// At most once per session.
    Session,
    /// At most once per page view.
    Page,
}

impl Limit {
    /// Parses `{ restartAfter: "30d" | "never" | "session" | "page" }` at node `i`,
    /// at `path`.
    pub fn parse(doc: &Doc, i: usize, path: &str) -> Result<Limit, ConfigError> {
        let text = restart_after(doc, i, path)?;
        match text.trim_ascii() {
            "session" => return Ok(Limit::Session),
            "page" => return Ok(Limit::Page),
            _ => {}
        }
        let restart_after = Restart::parse(text).map_err(|_| {
            ConfigError::new(
                &join(path, "restartAfter"),
                "expected \"never\", \"session\", \"page\" or a duration such as \"30d\"",
            )
        })?;
        Ok(Limit::Stop(Stop { restart_after }))
    }

    /// Whether a trigger that last fired at `last_fired` (0: never) may fire at
    /// `now`, in a session that started at `session_started` on a page viewed at
    /// `page_started`: 0 when it may, else the time it may fire again (`u64::MAX`: not
    /// before the next session or page, or never, as the limit says). Plain numbers
    /// rather than options: this is on every evaluation's path in the snippet, where
    /// an `Option<u64>` goes through memory.
    pub fn check(&self, last_fired: u64, now: u64, session_started: u64, page_started: u64) -> u64 {
        let since = match self {
            Limit::Stop(stop) => {
                return match stop.check((last_fired > 0).then_some(last_fired), now) {
                    Ok(()) => 0,
                    Err(again) => again.unwrap_or(u64::MAX),
                };
            }
            Limit::Session => session_started,
            Limit::Page => page_started,
        };
        if last_fired > 0 && last_fired >= since {
            u64::MAX
        } else {
            0
        }
    }

    /// The Stop's restart window, if this limit is one.
    pub fn stop(&self) -> Option<Stop> {
        match self {
            Limit::Stop(s) => Some(*s),
            _ => None,
        }
    }
}

/// The text of `restartAfter` in the object at node `i`.
fn restart_after<'d>(doc: &'d Doc, i: usize, path: &str) -> Result<&'d str, ConfigError> {
    object(doc, i, path, &["restartAfter"])?;
    let text = crate::error::string(doc, doc.get(i, "restartAfter"), &join(path, "restartAfter"))?;
    Ok(doc.at(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::testing::doc;

    const DAY: u64 = 86_400_000;

    fn stop(json: &str) -> Result<Stop, String> {
        Stop::parse(&doc(json), 0, "stop").map_err(|e| e.text())
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

    #[test]
    fn once_per_session_and_page() {
        let limit = |json: &str| Limit::parse(&doc(json), 0, "stop").unwrap();
        let session = limit(r#"{"restartAfter":"session"}"#);
        let page = limit(r#"{"restartAfter":"page"}"#);
        let (session_start, page_start) = (100, 200);
        let cases = [
            (session, 0, 0),
            (session, 99, 0),
            (session, 100, u64::MAX),
            (session, 150, u64::MAX),
            (page, 150, 0),
            (page, 200, u64::MAX),
        ];
        for (limit, last, want) in cases {
            assert_eq!(
                limit.check(last, 300, session_start, page_start),
                want,
                "{limit:?} {last:?}"
            );
        }
        assert_eq!(
            limit(r#"{"restartAfter":"30d"}"#).stop(),
            Some(Stop {
                restart_after: Restart::After(Duration::from_millis(30 * DAY))
            })
        );
        assert_eq!(
            Limit::parse(&doc(r#"{"restartAfter":"sometime"}"#), 0, "stop")
                .unwrap_err()
                .text(),
            "stop.restartAfter: expected \"never\", \"session\", \"page\" or a duration such as \"30d\""
        );
    }
}
