//! The pure core of sitehook, shared by the WebAssembly snippet and the relay.
//!
//! # Layout
//!
//! - [`duration`]: `"30s"`, `"15m"`, `"12h"`, `"7d"` as milliseconds.
//! - [`condition`]: the condition language (value tests on the page, the event and the
//!   profile; `all`/`any`/`not`; `count` and `sequence` over the history), parsed into
//!   a flat [`Program`], and its evaluation.
//! - [`matcher`]: the operators (`equals`, `startsWith`, `regex`, `gte`, `in`, ...).
//! - [`date`]: dates for a trigger's schedule.
//! - [`history`]: the visitor's bounded visit history.
//! - [`trigger`]: a trigger as written in `window.sitehookConfig`, its validation, and
//!   the decision whether it fires now.
//! - [`stop`]: the Stop step: at most once per profile per restart window (or per
//!   session, or page).
//! - [`event`]: the wire types between the browser and the relay.
//! - [`json`]: [`Doc`], a JSON document as a flat list of nodes over its text (what
//!   configs, API arguments and stored data arrive as), and a small JSON writer.
//! - [`error`]: config errors that name the path and suggest fixes.
//! - [`number`]: numbers as text, both ways.
//! - [`fields`]: the small sorted map of profile and data fields on the wire.
//!
//! Nothing here touches a browser, a network or a clock: callers pass the time in
//! (milliseconds since the Unix epoch), which keeps the logic deterministic in tests.
//!
//! The crate is `no_std` (with `alloc`) and parses configs by hand rather than with
//! serde, so that the WebAssembly snippet carries neither `std`'s panic machinery nor
//! `core::fmt`: most of a naive snippet's size. What the snippet parses is kept flat
//! (spans into one text, indices into one list of `Copy` nodes) rather than as trees
//! of owned values, which keeps the snippet's code small too. The wire types still
//! derive serde for the relay, and tests check that both encodings agree.

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

pub mod condition;
pub mod date;
pub mod duration;
pub mod error;
pub mod event;
pub mod fields;
pub mod history;
pub mod json;
pub mod matcher;
pub mod number;
pub mod stop;
pub mod trigger;

pub use condition::{Cond, Here, Operand, Program, Scope};
pub use duration::Duration;
pub use error::ConfigError;
pub use event::{Event, EventBatch, IngestResponse, Page, Rejected};
pub use fields::Fields;
pub use history::{Entry, History, Visit};
pub use json::{Doc, Span};
pub use matcher::{NoPatterns, Patterns, Test};
pub use stop::{Limit, Restart, Stop};
pub use trigger::{Audience, Decision, Trigger};
