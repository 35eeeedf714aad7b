//! A trigger as a site owner writes it in `window.sitehookConfig.triggers`, and the
//! decision whether it fires for the current page view.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::condition::{Condition, Scope};
use crate::stop::Stop;

/// The event every trigger listens to unless it says otherwise.
pub const PAGE_VIEW: &str = "page_view";

/// Who a trigger may fire for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Audience {
    /// Only visitors with a known profile (a non-empty `profileid`). The default, and
    /// the recommendation: webhooks are about people the site knows.
    #[default]
    Known,
    /// Anyone, anonymous visitors included.
    Anyone,
}

/// One trigger: "when `on` happens and `if` holds for this audience, call `webhook`".
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Trigger {
    /// A name unique within the site's config; it is sent with the event and used for
    /// the Stop.
    pub id: String,
    /// The event the trigger listens to: `page_view` (the default) for now.
    #[serde(default = "page_view")]
    pub on: String,
    /// The condition; a trigger without one fires on every `on` event.
    #[serde(rename = "if", default)]
    pub condition: Option<Condition>,
    /// Who the trigger may fire for.
    #[serde(default)]
    pub audience: Audience,
    /// The id of a webhook defined in the relay's config (never a URL).
    pub webhook: String,
    /// Static fields sent along with the event.
    #[serde(default)]
    pub data: BTreeMap<String, String>,
    /// The Stop: how long the trigger rests after firing for a profile.
    #[serde(default)]
    pub stop: Option<Stop>,
}

fn page_view() -> String {
    PAGE_VIEW.into()
}

/// The outcome of evaluating one trigger, in the order the gates are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The trigger listens to another event.
    OtherEvent,
    /// The visitor is anonymous and the trigger's audience is `known`.
    Anonymous,
    /// The condition does not hold.
    NoMatch,
    /// The condition holds but the trigger is resting; it may fire again at the given
    /// time (`None`: never).
    Stopped(Option<u64>),
    /// Fire the webhook.
    Fire,
}

impl Decision {
    /// A short word for traces and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::OtherEvent => "other-event",
            Decision::Anonymous => "anonymous",
            Decision::NoMatch => "no-match",
            Decision::Stopped(_) => "stopped",
            Decision::Fire => "fired",
        }
    }
}

impl Trigger {
    /// Checks what serde cannot. The error names the field; the caller names the trigger.
    pub fn validate(&self) -> Result<(), &'static str> {
        if self.id.trim().is_empty() {
            return Err("id: must not be empty");
        }
        if self.id.len() > 64 {
            return Err("id: must be at most 64 characters");
        }
        if self.webhook.trim().is_empty() {
            return Err("webhook: must name a webhook from the relay's config");
        }
        if self.on.trim().is_empty() {
            return Err("on: must name an event such as \"page_view\"");
        }
        self.condition.as_ref().map_or(Ok(()), Condition::validate)
    }

    /// Decides whether the trigger fires for `event` in `scope`.
    ///
    /// `known` says whether the visitor has a known profile; `last_fired` is when this
    /// trigger last fired for this profile, if ever.
    pub fn decide(
        &self,
        event: &str,
        scope: Scope<'_>,
        known: bool,
        last_fired: Option<u64>,
    ) -> Decision {
        if self.on != event {
            return Decision::OtherEvent;
        }
        if self.audience == Audience::Known && !known {
            return Decision::Anonymous;
        }
        if !self.condition.as_ref().is_none_or(|c| c.eval(scope)) {
            return Decision::NoMatch;
        }
        match self.stop.map(|s| s.check(last_fired, scope.now)) {
            Some(Err(again)) => Decision::Stopped(again),
            _ => Decision::Fire,
        }
    }

    /// How far back this trigger looks into the history (`None`: all of it).
    pub fn lookback(&self) -> Option<u64> {
        self.condition.as_ref().map_or(Some(0), Condition::lookback)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{History, Visit};

    const DAY: u64 = 86_400_000;

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

    fn trigger(json: &str) -> Trigger {
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"))
    }

    #[test]
    fn defaults() {
        let t = trigger(PRICING);
        assert_eq!(t.on, PAGE_VIEW);
        assert_eq!(t.audience, Audience::Known);
        assert_eq!(t.data.get("automationid").map(String::as_str), Some("A-17"));
        assert_eq!(t.lookback(), Some(7 * DAY));
        assert_eq!(t.validate(), Ok(()));
    }

    #[test]
    fn decisions() {
        let t = trigger(PRICING);
        let anyone = trigger(r#"{"id":"a","audience":"anyone","webhook":"w"}"#);
        let now = 50 * DAY;
        let three: Vec<Visit> = (0..3)
            .map(|i| Visit {
                at: now - i,
                path: "/pricing".into(),
            })
            .collect();
        let two = &three[..2];
        // (trigger, event, history, known, last fired, expected)
        type Case<'a> = (
            &'a Trigger,
            &'a str,
            &'a [Visit],
            bool,
            Option<u64>,
            Decision,
        );
        let cases: &[Case] = &[
            (&t, "page_view", &three, true, None, Decision::Fire),
            (&t, "page_view", two, true, None, Decision::NoMatch),
            (&t, "page_view", &three, false, None, Decision::Anonymous),
            (&t, "item_view", &three, true, None, Decision::OtherEvent),
            (
                &t,
                "page_view",
                &three,
                true,
                Some(now - DAY),
                Decision::Stopped(Some(now + 29 * DAY)),
            ),
            (
                &t,
                "page_view",
                &three,
                true,
                Some(now - 30 * DAY),
                Decision::Fire,
            ),
            (&anyone, "page_view", two, false, None, Decision::Fire),
            (&anyone, "page_view", two, false, Some(now), Decision::Fire),
        ];
        for (trigger, event, visits, known, last, want) in cases {
            let history = History::from_visits(visits.to_vec());
            let visit = history.visits().last().unwrap();
            let scope = Scope {
                now,
                visit,
                history: &history,
            };
            let got = trigger.decide(event, scope, *known, *last);
            assert_eq!(
                got, *want,
                "{} on {event}, known={known}, last={last:?}",
                trigger.id
            );
        }
    }

    #[test]
    fn validation_names_the_field() {
        let cases = [
            (r#"{"id":"","webhook":"w"}"#, "id: must not be empty"),
            (
                r#"{"id":"x","webhook":" "}"#,
                "webhook: must name a webhook from the relay's config",
            ),
            (
                r#"{"id":"x","webhook":"w","on":""}"#,
                "on: must name an event such as \"page_view\"",
            ),
            (
                r#"{"id":"x","webhook":"w","if":{"count":{"atLeast":0}}}"#,
                "count.atLeast must be 1 or more",
            ),
        ];
        for (json, want) in cases {
            assert_eq!(trigger(json).validate(), Err(want), "{json}");
        }
        assert!(
            serde_json::from_str::<Trigger>(r#"{"id":"x","webhook":"w","audiance":"anyone"}"#)
                .is_err()
        );
        assert!(
            serde_json::from_str::<Trigger>(r#"{"id":"x","webhook":"w","audience":"everyone"}"#)
                .is_err()
        );
    }
}
