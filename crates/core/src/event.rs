//! The wire types between the browser and the relay.
//!
//! The browser sends `POST /v1/events` with an [`EventBatch`] as a `text/plain` body (a
//! "simple" request, so `fetch(keepalive)` and `sendBeacon` need no CORS preflight); the
//! relay answers `202` with an [`IngestResponse`].

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::fields::Fields;
use crate::json;

/// The profile field that makes a visitor "known".
pub const PROFILE_ID: &str = "profileid";

/// Bounds on what one event may carry. The relay rejects events past them; the snippet
/// never produces such events from a sane config.
pub mod limits {
    /// Longest event id, trigger id or webhook id.
    pub const ID: usize = 64;
    /// Most profile fields, and most data fields.
    pub const FIELDS: usize = 32;
    /// Longest field name.
    pub const KEY: usize = 64;
    /// Longest field value, page title or identity.
    pub const VALUE: usize = 1024;
    /// Longest page URL or referrer.
    pub const URL: usize = 2048;
}

/// What the browser sends: one or more matched events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventBatch {
    /// The events, in the order they matched.
    pub events: Vec<Event>,
}

/// A trigger that matched in the browser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// A random id made by the browser, kept across resends so the relay can drop
    /// duplicates and receivers can de-duplicate deliveries.
    pub id: String,
    /// The id of the trigger that matched.
    pub trigger: String,
    /// The id of the webhook (from the relay's config) to call.
    pub webhook: String,
    /// The visitor's profile fields; the relay forwards only those the webhook allows.
    #[serde(default)]
    pub profile: Fields,
    /// Proof of the profile id made by the site's backend, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// The trigger's static fields.
    #[serde(default)]
    pub data: Fields,
    /// The page the event happened on.
    pub page: Page,
    /// When it happened, in milliseconds since the Unix epoch (the browser's clock).
    pub at: u64,
}

/// The page an event happened on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// The page's URL.
    pub url: String,
    /// The document's title.
    #[serde(default)]
    pub title: String,
    /// The referrer, if any.
    #[serde(default)]
    pub referrer: String,
}

/// An [`Event`] borrowed from its parts, for writing: the snippet writes each event
/// that fires without building one. The one writer of the event's JSON.
pub struct EventJson<'a> {
    /// See [`Event::id`].
    pub id: &'a str,
    /// See [`Event::trigger`].
    pub trigger: &'a str,
    /// See [`Event::webhook`].
    pub webhook: &'a str,
    /// See [`Event::profile`]: a JSON object of text fields.
    pub profile: &'a str,
    /// See [`Event::identity`].
    pub identity: Option<&'a str>,
    /// See [`Event::data`]: a JSON object of text fields.
    pub data: &'a str,
    /// The page's URL, title and referrer (see [`Page`]).
    pub page: [&'a str; 3],
    /// See [`Event::at`].
    pub at: u64,
}

impl EventJson<'_> {
    /// Appends the event as a JSON object.
    pub fn write(&self, out: &mut String) {
        out.push('{');
        json::push_key(out, "id", true);
        json::push_str(out, self.id);
        json::push_key(out, "trigger", false);
        json::push_str(out, self.trigger);
        json::push_key(out, "webhook", false);
        json::push_str(out, self.webhook);
        json::push_key(out, "profile", false);
        out.push_str(self.profile);
        if let Some(identity) = self.identity {
            json::push_key(out, "identity", false);
            json::push_str(out, identity);
        }
        json::push_key(out, "data", false);
        out.push_str(self.data);
        json::push_key(out, "page", false);
        out.push('{');
        for (i, key) in ["url", "title", "referrer"].iter().enumerate() {
            json::push_key(out, key, i == 0);
            json::push_str(out, self.page[i]);
        }
        out.push('}');
        json::push_key(out, "at", false);
        json::push_num(out, self.at);
        out.push('}');
    }
}

impl EventBatch {
    /// The batch as JSON, written without serde so the snippet stays small. The relay
    /// reads it with serde; a test checks that both agree.
    pub fn to_json(events: &[Event]) -> String {
        let mut out = String::from("{\"events\":[");
        for (i, e) in events.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            e.write_json(&mut out);
        }
        out.push_str("]}");
        out
    }
}

/// The relay's answer to a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestResponse {
    /// Ids of the events stored for delivery (duplicates of stored events included:
    /// they are acknowledged, and delivered once).
    pub accepted: Vec<String>,
    /// The events that were not accepted, and why.
    pub rejected: Vec<Rejected>,
}

/// One rejected event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejected {
    /// The event's position in the batch.
    pub index: usize,
    /// The event's id, when it had a readable one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// What is wrong with it.
    pub reason: String,
}

impl Event {
    /// Whether the event is for a known profile (it has a non-empty `profileid`).
    pub fn is_known(&self) -> bool {
        is_known(&self.profile)
    }

    /// Appends the event as a JSON object.
    pub fn write_json(&self, out: &mut String) {
        let (mut profile, mut data) = (String::new(), String::new());
        json::push_map(&mut profile, &self.profile);
        json::push_map(&mut data, &self.data);
        EventJson {
            id: &self.id,
            trigger: &self.trigger,
            webhook: &self.webhook,
            profile: &profile,
            identity: self.identity.as_deref(),
            data: &data,
            page: [&self.page.url, &self.page.title, &self.page.referrer],
            at: self.at,
        }
        .write(out);
    }

    /// Checks the bounds in [`limits`] and the shape of the ids. The relay calls this on
    /// everything it receives; the error names the field.
    pub fn validate(&self) -> Result<(), String> {
        check_id("id", &self.id)?;
        check_id("trigger", &self.trigger)?;
        check_id("webhook", &self.webhook)?;
        check_fields("profile", &self.profile)?;
        // The Stop and the rate limit count profiles by this text: `" p-123"` must
        // not be another profile than `p-123` to them, while a receiver may trim it.
        if let Some(id) = self.profile.get(PROFILE_ID)
            && id.trim_ascii().len() != id.len()
        {
            return Err(format!(
                "profile.{PROFILE_ID}: {id:?} has spaces at its start or end; send the id without them"
            ));
        }
        check_fields("data", &self.data)?;
        check_len(
            "identity",
            self.identity.as_deref().unwrap_or(""),
            limits::VALUE,
        )?;
        check_len("page.url", &self.page.url, limits::URL)?;
        check_len("page.referrer", &self.page.referrer, limits::URL)?;
        check_len("page.title", &self.page.title, limits::VALUE)
    }
}

/// Whether a profile is known: it has a non-empty `profileid`.
pub fn is_known(profile: &Fields) -> bool {
    profile
        .get(PROFILE_ID)
        .is_some_and(|id| !id.trim_ascii().is_empty())
}

/// Whether `id` is a valid event, trigger or webhook id: 1 to 64 ASCII letters,
/// digits and `- _ . :`. The snippet checks trigger ids with this too, so a trigger
/// the relay would refuse never fires in the browser.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= limits::ID
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

fn check_id(field: &str, id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err(format!("{field}: must not be empty"));
    }
    check_len(field, id, limits::ID)?;
    if !is_valid_id(id) {
        return Err(format!(
            "{field}: only letters, digits and - _ . : are allowed"
        ));
    }
    Ok(())
}

fn check_len(field: &str, value: &str, max: usize) -> Result<(), String> {
    if value.len() > max {
        return Err(format!("{field}: longer than {max} bytes"));
    }
    Ok(())
}

fn check_fields(field: &str, fields: &Fields) -> Result<(), String> {
    if fields.len() > limits::FIELDS {
        return Err(format!("{field}: more than {} fields", limits::FIELDS));
    }
    for (key, value) in fields {
        if key.is_empty() {
            return Err(format!("{field}: a field name is empty"));
        }
        check_len(&format!("{field}.{key}"), key, limits::KEY)?;
        check_len(&format!("{field}.{key}"), value, limits::VALUE)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::boxed::Box;
    use alloc::string::ToString;
    use alloc::vec;

    fn event(json: &str) -> Result<Event, String> {
        serde_json::from_str::<Event>(json).map_err(|e| e.to_string())
    }

    const GOOD: &str = r#"{"id":"0b9c1f4e-6a1d-4c57-9d8e-2f1a3b4c5d6e","trigger":"pricing-interest",
        "webhook":"crm-lead","profile":{"profileid":"p-123","email":"ann@example.com"},
        "data":{"automationid":"A-17"},"page":{"url":"https://shop.example.com/pricing"},"at":1}"#;

    #[test]
    fn a_good_event_round_trips() {
        let e = event(GOOD).unwrap();
        assert!(e.is_known());
        assert_eq!(e.validate(), Ok(()));
        let again: Event = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
        assert_eq!(again, e);
    }

    #[test]
    fn the_snippets_json_is_what_the_relay_reads() {
        let mut a = event(GOOD).unwrap();
        a.page.title = "Pricing \"2026\"\n✓".into();
        a.identity = Some("4f1c".into());
        let mut b = a.clone();
        b.id = "second".into();
        b.identity = None;
        b.profile.clear();
        let text = EventBatch::to_json(&[a.clone(), b.clone()]);
        let back: EventBatch =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(back.events, [a, b]);
    }

    #[test]
    fn validation_names_the_field() {
        let long = "x".repeat(limits::VALUE + 1);
        let many: Fields = (0..=limits::FIELDS)
            .map(|i| (format!("k{i}"), "v".into()))
            .collect();
        type Edit = Box<dyn Fn(&mut Event)>;
        let cases: Vec<(Edit, &str)> = vec![
            (Box::new(|e| e.id.clear()), "id: must not be empty"),
            (
                Box::new(|e| e.trigger = "a b".into()),
                "trigger: only letters, digits and - _ . : are allowed",
            ),
            (
                Box::new(|e| e.webhook = "w".repeat(65)),
                "webhook: longer than 64 bytes",
            ),
            (
                Box::new(move |e| {
                    e.profile.insert("email".into(), long.clone());
                }),
                "profile.email: longer than 1024 bytes",
            ),
            (
                Box::new(move |e| e.data = many.clone()),
                "data: more than 32 fields",
            ),
            (
                Box::new(|e| e.page.url = "u".repeat(limits::URL + 1)),
                "page.url: longer than 2048 bytes",
            ),
            (
                Box::new(|e| {
                    e.profile.insert(PROFILE_ID.into(), "p-123 ".into());
                }),
                "profile.profileid: \"p-123 \" has spaces at its start or end; send the id without them",
            ),
        ];
        for (edit, want) in cases {
            let mut e = event(GOOD).unwrap();
            edit(&mut e);
            assert_eq!(e.validate(), Err(want.to_string()));
        }
    }

    #[test]
    fn unknown_and_missing_fields_are_errors() {
        assert!(
            event(r#"{"id":"a","trigger":"t","webhook":"w","page":{"url":"u"}}"#)
                .unwrap_err()
                .contains("missing field `at`")
        );
        assert!(
            event(&GOOD.replace("\"at\":1", "\"at\":1,\"url\":\"https://evil\""))
                .unwrap_err()
                .contains("unknown field `url`")
        );
        let anonymous = event(&GOOD.replace("\"profileid\":\"p-123\",", "")).unwrap();
        assert!(!anonymous.is_known());
    }
}
