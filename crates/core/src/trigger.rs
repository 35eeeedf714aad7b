//! A trigger as a site owner writes it in `window.sitehookConfig.triggers`, and the
//! decision whether it fires for the current page view.

use alloc::string::String;

use crate::condition::{Program, Scope};
use crate::date::Date;
use crate::error::{ConfigError, join, object};
use crate::event::{is_valid_id, limits};
use crate::json::{Span, Tag};
use crate::matcher::Patterns;
use crate::stop::Limit;

/// The event every trigger listens to unless it says otherwise.
pub const PAGE_VIEW: &str = "page_view";

/// The keys a trigger may have.
const KEYS: &[&str] = &[
    "id", "on", "if", "audience", "webhook", "data", "stop", "schedule",
];

/// The events the snippet knows; any other `on` is a custom event from
/// `sitehook.track(name, props)`.
pub const EVENTS: &[&str] = &[
    PAGE_VIEW,
    "item_view",
    "category_view",
    "cart_update",
    "conversion",
];

/// Who a trigger may fire for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Audience {
    /// Only visitors with a known profile (a non-empty `profileid`). The default, and
    /// the recommendation: webhooks are about people the site knows.
    #[default]
    Known,
    /// Anyone, anonymous visitors included.
    Anyone,
}

/// One trigger: "when `on` happens and `if` holds for this audience, call `webhook`".
/// Its texts are spans of the config's text, its condition and data are nodes of
/// the [`Program`] it was read into.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trigger {
    /// A name unique within the site's config; it is sent with the event and used for
    /// the Stop.
    pub id: Span,
    /// The event the trigger listens to: `page_view` (the default), another of
    /// [`EVENTS`], or a custom event name. `None` for `page_view`.
    pub on: Option<Span>,
    /// The condition (its first node); a trigger without one fires on every `on`
    /// event.
    pub condition: Option<u32>,
    /// Who the trigger may fire for.
    pub audience: Audience,
    /// The id of a webhook defined in the relay's config (never a URL).
    pub webhook: Span,
    /// Static fields sent along with the event: an object of the config's document,
    /// each value text, a number or a boolean.
    pub data: Option<u32>,
    /// The Stop (how long the trigger rests after firing for a profile), or once per
    /// session or page.
    pub stop: Option<Limit>,
    /// When the trigger is active: from this time (inclusive), until this time
    /// (exclusive), in ms since the epoch.
    pub schedule: (Option<u64>, Option<u64>),
    /// Where the trigger is in the config's list (0 from [`Trigger::parse`]; whoever
    /// reads the list sets it): how the snippet tells the loader which one fired.
    pub position: u32,
}

/// The outcome of evaluating one trigger, in the order the gates are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The trigger listens to another event.
    OtherEvent,
    /// The trigger's schedule has not started or is over.
    OffSchedule,
    /// The visitor is anonymous and the trigger's audience is `known`.
    Anonymous,
    /// The condition does not hold.
    NoMatch,
    /// The condition holds but the trigger is resting; it may fire again at the given
    /// time (`u64::MAX`: not by time alone: never, or in the next session or page).
    Stopped(u64),
    /// Fire the webhook.
    Fire,
}

impl Decision {
    /// A short word for traces and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::OtherEvent => "other-event",
            Decision::OffSchedule => "off-schedule",
            Decision::Anonymous => "anonymous",
            Decision::NoMatch => "no-match",
            Decision::Stopped(_) => "stopped",
            Decision::Fire => "fired",
        }
    }
}

impl Trigger {
    /// Parses the trigger at node `i` of the program's document. Error paths are
    /// relative to the trigger (`if.all[0].path`); the caller names the trigger.
    pub fn parse(
        program: &mut Program,
        i: usize,
        patterns: &dyn Patterns,
    ) -> Result<Trigger, ConfigError> {
        let doc = &program.doc;
        object(doc, i, "", KEYS)?;
        let id = crate::error::string(doc, doc.get(i, "id"), "id")?;
        if !is_valid_id(doc.at(id)) {
            return Err(ConfigError::new(
                "id",
                "must be 1 to 64 letters, digits and - _ . :",
            ));
        }
        let on = match doc.field(i, "on") {
            None => None,
            Some(v) => Some(crate::error::string(doc, v, "on")?),
        };
        let on_text = on.map_or(PAGE_VIEW, |s| doc.at(s));
        let on = on.filter(|_| on_text != PAGE_VIEW);
        if on_text.trim_ascii().is_empty() {
            return Err(ConfigError::new(
                "on",
                "must name an event such as \"page_view\"",
            ));
        }
        if !EVENTS.contains(&on_text) {
            // A near miss of a built-in event is a typo that would never fire.
            if let Some(near) = crate::error::suggest(on_text, EVENTS) {
                if !crate::error::EXPLAIN {
                    return Err(ConfigError::default());
                }
                let mut why = String::from("unknown event \"");
                why.push_str(on_text);
                why.push_str("\" (did you mean \"");
                why.push_str(near);
                why.push_str("\"? A custom event from sitehook.track needs a name further from the built-in ones)");
                return Err(ConfigError::new("on", &why));
            }
            if !is_valid_id(on_text) {
                return Err(ConfigError::new(
                    "on",
                    "a custom event's name is 1 to 64 letters, digits and - _ . : (as sitehook.track takes it)",
                ));
            }
        }
        let webhook = crate::error::string(doc, doc.get(i, "webhook"), "webhook")?;
        if !is_valid_id(doc.at(webhook)) {
            return Err(ConfigError::new(
                "webhook",
                "must name a webhook from the relay's config (letters, digits and - _ . :)",
            ));
        }
        let audience = match doc.field(i, "audience") {
            None => Audience::Known,
            Some(a) => match doc.str(a) {
                Some("known") => Audience::Known,
                Some("anyone") => Audience::Anyone,
                Some(other) => {
                    return Err(crate::error::unknown(
                        "audience",
                        "unknown audience",
                        other,
                        &["known", "anyone"],
                    ));
                }
                None => {
                    return Err(ConfigError::new(
                        "audience",
                        "must be \"known\" or \"anyone\"",
                    ));
                }
            },
        };
        let data = doc.field(i, "data");
        if let Some(d) = data {
            if doc.tag(d) != Tag::Obj {
                return Err(ConfigError::new("data", "must be an object of fields"));
            }
            if doc.len(d) > limits::FIELDS {
                return Err(ConfigError::new("data", "has more than 32 fields"));
            }
            for (key, v) in doc.items(d) {
                let key = doc.at(key);
                if key.is_empty() || key.len() > limits::KEY {
                    return Err(ConfigError::new(
                        &join("data", key),
                        "field names are 1 to 64 bytes",
                    ));
                }
                let Some(text) = doc.text_of(v) else {
                    return Err(ConfigError::new(
                        &join("data", key),
                        "must be text, a number or true/false",
                    ));
                };
                if doc.at(text).len() > limits::VALUE {
                    return Err(ConfigError::new(
                        &join("data", key),
                        "is longer than 1024 bytes",
                    ));
                }
            }
        }
        let stop = match doc.field(i, "stop") {
            None => None,
            Some(s) => Some(Limit::parse(doc, s, "stop")?),
        };
        let schedule = match doc.field(i, "schedule") {
            None => (None, None),
            Some(s) => schedule(doc, s)?,
        };
        // Last, so that a trigger refused for another reason adds no nodes.
        let condition = match program.doc.field(i, "if") {
            None => None,
            Some(c) => Some(program.condition(c, "if", patterns)?),
        };
        Ok(Trigger {
            id,
            on,
            condition,
            audience,
            webhook,
            data: data.map(|d| d as u32),
            stop,
            schedule,
            position: 0,
        })
    }

    /// The event the trigger listens to.
    pub fn on<'p>(&self, program: &'p Program) -> &'p str {
        self.on.map_or(PAGE_VIEW, |s| program.doc.at(s))
    }

    /// Decides whether the trigger fires for `event` in `scope`; `last_fired` is when
    /// this trigger last fired for this profile (0: never).
    pub fn decide(&self, event: &str, scope: Scope<'_>, last_fired: u64) -> Decision {
        if self.on(scope.program) != event {
            return Decision::OtherEvent;
        }
        let (from, until) = self.schedule;
        if from.is_some_and(|f| scope.now < f) || until.is_some_and(|u| scope.now >= u) {
            return Decision::OffSchedule;
        }
        if self.audience == Audience::Known && !scope.here.known {
            return Decision::Anonymous;
        }
        if !self.condition.is_none_or(|c| scope.holds(c as usize)) {
            return Decision::NoMatch;
        }
        let here = scope.here;
        let again = match self.stop {
            Some(s) => s.check(
                last_fired,
                scope.now,
                here.session_started,
                here.page_started,
            ),
            None => 0,
        };
        if again > 0 {
            return Decision::Stopped(again);
        }
        Decision::Fire
    }

    /// When time passing alone may make this trigger's condition hold (see
    /// [`Scope::wake`]; 0: nothing to wait for).
    pub fn wake(&self, scope: Scope<'_>) -> u64 {
        self.condition.map_or(0, |c| scope.wake(c as usize))
    }

    /// Why this trigger's condition does not hold in `scope` (see
    /// [`Scope::why_not`]); `None` when it holds or there is none.
    pub fn why_not(&self, scope: Scope<'_>) -> Option<String> {
        scope.why_not(self.condition? as usize)
    }

    /// How far back this trigger looks into the history
    /// ([`ALL`](crate::condition::ALL): all of it).
    pub fn lookback(&self, program: &Program) -> u64 {
        self.condition.map_or(0, |c| program.lookback(c as usize))
    }
}

/// Parses `{ from?: date, until?: date }` at node `i`; a bare `until` date includes
/// its day.
fn schedule(doc: &crate::json::Doc, i: usize) -> Result<(Option<u64>, Option<u64>), ConfigError> {
    object(doc, i, "schedule", &["from", "until"])?;
    let date = |key: &str, end_of_day: bool| -> Result<Option<u64>, ConfigError> {
        let path = join("schedule", key);
        let Some(v) = doc.field(i, key) else {
            return Ok(None);
        };
        let text = crate::error::string(doc, v, &path)?;
        let d = Date::parse(doc.at(text)).map_err(|m| ConfigError::new(&path, m))?;
        let day = if end_of_day && !d.has_time {
            86_400_000
        } else {
            0
        };
        Ok(Some(d.ms + day))
    };
    let (from, until) = (date("from", false)?, date("until", true)?);
    if let (Some(f), Some(u)) = (from, until)
        && u <= f
    {
        return Err(ConfigError::new(
            "schedule.until",
            "must be after schedule.from",
        ));
    }
    Ok((from, until))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::condition::{Here, TextFields};
    use crate::error::testing::doc;
    use crate::history::{Entry, History};
    use crate::matcher::tests::TestPatterns;

    const DAY: u64 = 86_400_000;

    /// A trigger with the program it was read into.
    struct Parsed {
        trigger: Trigger,
        program: Program,
        patterns: TestPatterns,
    }

    impl core::fmt::Debug for Parsed {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            self.trigger.fmt(f)
        }
    }

    impl Parsed {
        fn decide(
            &self,
            event: &str,
            history: &History,
            here: &Here,
            now: u64,
            last: u64,
        ) -> Decision {
            let visit = history.visits().last().unwrap();
            let scope = Scope::of_current(now, visit, history, here, &self.program, &self.patterns);
            self.trigger.decide(event, scope, last)
        }

        fn data(&self, key: &str) -> Option<&str> {
            TextFields {
                doc: &self.program.doc,
                node: self.trigger.data? as usize,
            }
            .get(key)
        }
    }

    const PRICING: &str = r#"{
        "id": "pricing-interest",
        "if": { "all": [
            { "path": { "startsWith": "/pricing" } },
            { "count": { "of": { "path": { "startsWith": "/pricing" } }, "atLeast": 3, "within": "7d" } }
        ]},
        "webhook": "crm-lead",
        "data": { "automationid": "A-17" },
        "stop": { "restartAfter": "30d" }
    }"#;

    fn parse(json: &str) -> Result<Parsed, String> {
        let mut program = Program::new(doc(json));
        let patterns = TestPatterns::default();
        let trigger = Trigger::parse(&mut program, 0, &patterns).map_err(|e| e.text())?;
        Ok(Parsed {
            trigger,
            program,
            patterns,
        })
    }

    fn trigger(json: &str) -> Parsed {
        parse(json).unwrap_or_else(|e| panic!("{json}: {e}"))
    }

    #[test]
    fn defaults() {
        let t = trigger(PRICING);
        assert_eq!(t.trigger.on(&t.program), PAGE_VIEW);
        assert_eq!(t.trigger.audience, Audience::Known);
        assert_eq!(t.data("automationid"), Some("A-17"));
        assert_eq!(t.trigger.lookback(&t.program), 7 * DAY);
        assert_eq!(t.program.doc.at(t.trigger.id), "pricing-interest");
        let custom = trigger(r#"{"id":"s","on":"signup","webhook":"w"}"#);
        assert_eq!(custom.trigger.on(&custom.program), "signup");
    }

    #[test]
    fn decisions() {
        let t = trigger(PRICING);
        let anyone = trigger(r#"{"id":"a","audience":"anyone","webhook":"w"}"#);
        let now = 50 * DAY;
        let three: Vec<Entry> = (0..3)
            .map(|i| Entry::page_view(now - i, "/pricing"))
            .collect();
        let two = &three[..2];
        // (trigger, event, history, known, last fired, expected)
        type Case<'a> = (&'a Parsed, &'a str, &'a [Entry<'a>], bool, u64, Decision);
        let cases: &[Case] = &[
            (&t, "page_view", &three, true, 0, Decision::Fire),
            (&t, "page_view", two, true, 0, Decision::NoMatch),
            (&t, "page_view", &three, false, 0, Decision::Anonymous),
            (&t, "item_view", &three, true, 0, Decision::OtherEvent),
            (
                &t,
                "page_view",
                &three,
                true,
                now - DAY,
                Decision::Stopped(now + 29 * DAY),
            ),
            (
                &t,
                "page_view",
                &three,
                true,
                now - 30 * DAY,
                Decision::Fire,
            ),
            (&anyone, "page_view", two, false, 0, Decision::Fire),
            (&anyone, "page_view", two, false, now, Decision::Fire),
        ];
        for (trigger, event, visits, known, last, want) in cases {
            let history = History::of(visits);
            let here = Here {
                known: *known,
                ..Here::default()
            };
            let got = trigger.decide(event, &history, &here, now, *last);
            assert_eq!(
                got, *want,
                "{:?} on {event}, known={known}, last={last:?}",
                trigger.trigger.id
            );
        }
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (
                r#"{"id":"","webhook":"w"}"#,
                "id: must be 1 to 64 letters, digits and - _ . :",
            ),
            (
                r#"{"id":"pricing interest","webhook":"w"}"#,
                "id: must be 1 to 64 letters, digits and - _ . :",
            ),
            (r#"{"webhook":"w"}"#, "id: is required"),
            (r#"{"id":7,"webhook":"w"}"#, "id: must be a string"),
            (r#"{"id":"x"}"#, "webhook: is required"),
            (
                r#"{"id":"x","webhook":" "}"#,
                "webhook: must name a webhook from the relay's config (letters, digits and - _ . :)",
            ),
            (
                r#"{"id":"x","webhook":"w","on":""}"#,
                "on: must name an event such as \"page_view\"",
            ),
            (
                r#"{"id":"x","webhook":"w","on":"page_veiw"}"#,
                r#"on: unknown event "page_veiw" (did you mean "page_view"? A custom event from sitehook.track needs a name further from the built-in ones)"#,
            ),
            (
                r#"{"id":"x","webhook":"w","on":"sign up"}"#,
                "on: a custom event's name is 1 to 64 letters, digits and - _ . : (as sitehook.track takes it)",
            ),
            (
                r#"{"id":"x","webhook":"w","if":{"count":{"atLeast":0}}}"#,
                "if.count.atLeast: must be a whole number, 1 or more",
            ),
            (
                r#"{"id":"x","webhook":"w","audiance":"anyone"}"#,
                r#"unknown key "audiance" (did you mean "audience"?)"#,
            ),
            (
                r#"{"id":"x","webhook":"w","audience":"everyone"}"#,
                r#"audience: unknown audience "everyone" (expected one of known, anyone)"#,
            ),
            (
                r#"{"id":"x","webhook":"w","data":{"n":[1]}}"#,
                "data.n: must be text, a number or true/false",
            ),
            (
                r#"{"id":"x","webhook":"w","stop":{"restartAfter":"sometime"}}"#,
                "stop.restartAfter: expected \"never\", \"session\", \"page\" or a duration such as \"30d\"",
            ),
            (r#""a trigger""#, "must be an object"),
        ];
        for (json, want) in cases {
            assert_eq!(parse(json).unwrap_err(), want, "{json}");
        }
        let t = trigger(r#"{"id":"x","webhook":"w","data":{"n":17,"b":true,"s":"s"}}"#);
        assert_eq!(t.data("n"), Some("17"));
        assert_eq!(t.data("b"), Some("true"));
    }

    #[test]
    fn schedule_from_until() {
        let t = trigger(
            r#"{"id":"x","webhook":"w","audience":"anyone","schedule":{"from":"2026-12-01","until":"2026-12-24"}}"#,
        );
        let dec1 = 1_796_083_200_000u64;
        let history = History::of(&[Entry::page_view(0, "/")]);
        let here = Here::default();
        let at = |now: u64| t.decide(PAGE_VIEW, &history, &here, now, 0);
        assert_eq!(at(dec1 - 1), Decision::OffSchedule);
        assert_eq!(at(dec1), Decision::Fire);
        // A bare `until` date includes its whole day.
        assert_eq!(at(dec1 + 24 * DAY - 1), Decision::Fire);
        assert_eq!(at(dec1 + 24 * DAY), Decision::OffSchedule);
        let cases = [
            (
                r#"{"id":"x","webhook":"w","schedule":{"from":"2026-12-02","until":"2026-12-01"}}"#,
                "schedule.until: must be after schedule.from",
            ),
            (
                r#"{"id":"x","webhook":"w","schedule":{"form":"2026-12-02"}}"#,
                r#"schedule: unknown key "form" (did you mean "from"?)"#,
            ),
            (
                r#"{"id":"x","webhook":"w","schedule":{"from":"tomorrow"}}"#,
                "schedule.from: expected a date such as \"2026-12-01\" or \"2026-12-01T09:00:00+01:00\" (UTC without an offset)",
            ),
        ];
        for (json, want) in cases {
            assert_eq!(parse(json).unwrap_err(), want, "{json}");
        }
    }
}

/// Without the `explain` feature (the snippet's visitor build) a config is refused
/// exactly where it is with it; only the words are missing. Run by `cargo xtask test`
/// as `cargo test -p sitehook-core --no-default-features --lib wordless`.
#[cfg(all(test, not(feature = "explain")))]
mod wordless {
    use super::*;
    use crate::error::testing::doc;
    use crate::matcher::tests::TestPatterns;

    fn parse(json: &str) -> Result<Trigger, ConfigError> {
        Trigger::parse(&mut Program::new(doc(json)), 0, &TestPatterns::default())
    }

    #[test]
    fn the_same_configs_are_refused_with_empty_errors() {
        let good = r#"{"id": "a", "webhook": "w", "if": {"all": [
            {"path": {"startsWith": "/p"}},
            {"count": {"of": {"utm.source": {"equals": "x"}}, "atLeast": 2, "within": "7d"}},
            {"sequence": {"steps": [{"event": {"equals": "item_view"}}], "absent": {"event": {"equals": "conversion"}}, "for": "30m"}}
        ]}, "stop": {"restartAfter": "30d"}, "schedule": {"from": "2026-01-01"}}"#;
        assert!(parse(good).is_ok());
        for bad in [
            r#"{"id": "a", "webhook": "w", "if": {"path": {"startWith": "/p"}}}"#,
            r#"{"id": "a", "webhook": "w", "if": {"paht": {"startsWith": "/p"}}}"#,
            r#"{"id": "a", "webhook": "w", "on": "page_veiw"}"#,
            r#"{"id": "a", "webhook": "w", "if": {"utm.sorce": {"equals": "x"}}}"#,
            r#"{"id": "a", "webhook": "w", "if": {"all": {"path": {"equals": "/"}}}}"#,
            r#"{"id": "a", "webhook": "w", "stop": {"restartAfter": "soon"}}"#,
            r#"{"id": "a", "webhook": "w", "schedule": {"from": "tomorrow"}}"#,
            r#"{"id": "a", "webhook": "w", "if": {"count": {"atLeast": 2, "within": "a week"}}}"#,
            r#"{"id": "a", "webhook": "w", "if": {"path": {"regex": "("}}}"#,
            r#"{"id": "a", "webhook": "w", "extra": 1}"#,
            r#"{"id": "a"}"#,
        ] {
            assert_eq!(parse(bad).err(), Some(ConfigError::default()), "{bad}");
        }
    }
}
