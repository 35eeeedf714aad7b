//! The pure core of sitehook, shared by the WebAssembly snippet and the relay.
//!
//! # Layout
//!
//! - [`duration`]: `"30s"`, `"15m"`, `"12h"`, `"7d"` as milliseconds.
//! - [`condition`]: the condition language (`path`, `count`, `all`/`any`/`not`) and its
//!   evaluation against a page view and the stored history.
//! - [`history`]: the visitor's bounded visit history.
//! - [`trigger`]: a trigger as written in `window.sitehookConfig`, its validation, and
//!   the decision whether it fires now.
//! - [`stop`]: the Stop step: at most once per profile per restart window.
//! - [`event`]: the wire types between the browser and the relay.
//!
//! Nothing here touches a browser, a network or a clock: callers pass the time in
//! (milliseconds since the Unix epoch), which keeps the logic deterministic in tests.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod condition;
pub mod duration;
pub mod event;
pub mod history;
pub mod stop;
pub mod trigger;

pub use condition::{Condition, TextTest};
pub use duration::Duration;
pub use event::{Event, EventBatch, IngestResponse, Page, Rejected};
pub use history::{History, Visit};
pub use stop::{Restart, Stop};
pub use trigger::{Audience, Decision, Trigger};
