//! Changing the config while the relay runs.
//!
//! [`Shared`] holds the config that the HTTP handlers and the delivery worker read.
//! Each takes one snapshot ([`Shared::load`]) per request (when it arrives, as
//! [`crate::http::Snapshot`]) or per delivery attempt, and uses only that: a reload never changes the config under a request half-way, and an
//! attempt under way finishes with the config it started with (its old headers, its
//! old URL) while the next one uses the new.
//!
//! [`Reloader`] re-reads the file the relay was started with, validates it exactly as
//! `sitehook-relay check` does (secret files read again; `env` secrets from the
//! process's environment, which does not change after start), and swaps it in; or
//! refuses, says why, and keeps the running config. `serve` calls it on `SIGHUP`;
//! tests call it directly.
//!
//! Events already accepted for a webhook that a reload removes are not dropped and
//! not retried in vain: their next attempt turns them into dead letters (failed, with
//! a reason saying how to get them delivered), listed by `sitehook-relay deliveries`
//! and the inspector and replayable once the webhook is back.

use std::collections::BTreeSet;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use crate::config::{Config, ConfigError};

/// A value read often and replaced rarely: readers get an `Arc` snapshot, a writer
/// swaps the whole value.
///
/// A `RwLock<Arc<T>>` rather than the `arc-swap` crate: a read is an uncontended lock
/// and an `Arc` clone, nanoseconds beside a request that commits to SQLite, and it
/// needs no new dependency.
#[derive(Debug)]
pub struct Shared<T>(RwLock<Arc<T>>);

impl<T> Shared<T> {
    /// A holder with `value` in it.
    pub fn new(value: impl Into<Arc<T>>) -> Self {
        Shared(RwLock::new(value.into()))
    }

    /// The current value. Keep the snapshot for the whole request or attempt instead
    /// of loading again: two loads may see two configs.
    pub fn load(&self) -> Arc<T> {
        // The lock is held only to clone or replace an `Arc`, which cannot panic, so
        // a poisoned lock still holds a whole value.
        match self.0.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Replaces the value; returns the one it replaced. Snapshots already taken keep
    /// the old value until they are dropped.
    pub fn store(&self, value: impl Into<Arc<T>>) -> Arc<T> {
        let mut guard = match self.0.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        std::mem::replace(&mut *guard, value.into())
    }
}

/// What `serve`'s command line changes in the file's config. Applied at start and
/// again to every reloaded config, so that a reload does not undo `--listen` or
/// `--dry-run`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Overrides {
    /// `--listen`: listen here instead of the config's `listen`.
    pub listen: Option<SocketAddr>,
    /// `--dry-run`: every webhook in dry-run mode.
    pub dry_run: bool,
}

impl Overrides {
    /// Applies the overrides to `config`.
    pub fn apply(&self, config: &mut Config) {
        if let Some(listen) = self.listen {
            config.listen = listen;
        }
        if self.dry_run {
            config.webhooks.values_mut().for_each(|w| w.dry_run = true);
        }
    }
}

/// Why a reload was refused. The running config is kept in every case.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The file is broken: the same text `sitehook-relay check` prints.
    #[error("invalid config {}: {}", path.display(), crate::delivery::describe(source))]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// What is wrong, naming the key (and line).
        source: ConfigError,
    },
    /// The file changes settings that only take effect at start.
    #[error(
        "{} changed in {}: the running relay cannot apply this; restart it (the running config is kept until then)",
        keys.join(", "),
        path.display()
    )]
    NeedsRestart {
        /// The config file.
        path: PathBuf,
        /// The keys that changed, e.g. `["listen", "data_dir"]`.
        keys: Vec<&'static str>,
    },
}

/// What a reload changed, for the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Webhooks in the new config only.
    pub added: Vec<String>,
    /// Webhooks in the old config only. Their undelivered events become dead letters
    /// on their next attempt (see the worker), replayable once the webhook is back.
    pub removed: Vec<String>,
    /// Webhooks in both whose settings or secrets differ.
    pub changed: Vec<String>,
    /// Other keys whose values differ, e.g. `allowed_origins`, `limits`.
    pub settings: Vec<&'static str>,
}

impl Changes {
    /// The differences from `old` to `new`.
    pub fn between(old: &Config, new: &Config) -> Changes {
        let old_ids: BTreeSet<&String> = old.webhooks.keys().collect();
        let new_ids: BTreeSet<&String> = new.webhooks.keys().collect();
        let added = new_ids.difference(&old_ids).map(|s| (*s).clone()).collect();
        let removed = old_ids.difference(&new_ids).map(|s| (*s).clone()).collect();
        let changed = old_ids
            .intersection(&new_ids)
            .filter(|id| old.webhooks[**id] != new.webhooks[**id])
            .map(|s| (*s).clone())
            .collect();
        let settings = [
            (
                "allowed_origins",
                old.allowed_origins != new.allowed_origins,
            ),
            (
                "trusted_proxies",
                old.trusted_proxies != new.trusted_proxies,
            ),
            (
                "dangerously_allow_targets",
                old.allow_targets != new.allow_targets,
            ),
            (
                "identity_secret",
                old.identity_secret != new.identity_secret,
            ),
            ("admin_token", old.admin_token != new.admin_token),
            ("limits", old.limits != new.limits),
            ("retention", old.retention != new.retention),
            ("shutdown_grace", old.shutdown_grace != new.shutdown_grace),
        ];
        let settings = changed_keys(settings);
        Changes {
            added,
            removed,
            changed,
            settings,
        }
    }

    /// Whether nothing differs.
    pub fn is_empty(&self) -> bool {
        *self == Changes::default()
    }
}

impl fmt::Display for Changes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("no changes");
        }
        let mut parts = Vec::new();
        for (what, list) in [
            ("webhooks added", self.added.join(", ")),
            ("webhooks removed", self.removed.join(", ")),
            ("webhooks changed", self.changed.join(", ")),
            ("settings changed", self.settings.join(", ")),
        ] {
            if !list.is_empty() {
                parts.push(format!("{what}: {list}"));
            }
        }
        f.write_str(&parts.join("; "))
    }
}

/// The settings a running relay cannot change: the socket it listens on, the store it
/// has open, and the routes it has mounted.
fn restart_only(old: &Config, new: &Config) -> Vec<&'static str> {
    changed_keys([
        ("listen", old.listen != new.listen),
        ("data_dir", old.data_dir != new.data_dir),
        ("base_path", old.base_path != new.base_path),
    ])
}

/// The keys whose values differ, in the order given.
fn changed_keys<const N: usize>(keys: [(&'static str, bool); N]) -> Vec<&'static str> {
    keys.into_iter()
        .filter_map(|(key, differs)| differs.then_some(key))
        .collect()
}

/// Reloads the config file a relay was started with into its [`Shared`] config.
#[derive(Debug)]
pub struct Reloader {
    path: PathBuf,
    overrides: Overrides,
    config: Arc<Shared<Config>>,
    /// One reload at a time, so that each compares against the config it replaces.
    busy: Mutex<()>,
}

impl Reloader {
    /// A reloader of the file at `path` (with `serve`'s `overrides`) into `config`.
    pub fn new(path: &Path, overrides: Overrides, config: Arc<Shared<Config>>) -> Self {
        Reloader {
            path: path.to_owned(),
            overrides,
            config,
            busy: Mutex::new(()),
        }
    }

    /// The config this reloader swaps: give it to [`crate::run_shared`].
    pub fn config(&self) -> Arc<Shared<Config>> {
        self.config.clone()
    }

    /// Reads, validates and swaps in the config file; on an error nothing changes.
    pub fn reload(&self) -> Result<Changes, ReloadError> {
        let _one = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        let mut new = Config::load(&self.path).map_err(|source| ReloadError::Invalid {
            path: self.path.clone(),
            source,
        })?;
        self.overrides.apply(&mut new);
        let old = self.config.load();
        // Not from the file: set by `sitehook-relay demo` only.
        new.demo = old.demo;
        let keys = restart_only(&old, &new);
        if !keys.is_empty() {
            return Err(ReloadError::NeedsRestart {
                path: self.path.clone(),
                keys,
            });
        }
        let changes = Changes::between(&old, &new);
        self.config.store(new);
        Ok(changes)
    }

    /// [`Reloader::reload`], logged: `config reloaded` with what changed, or an error
    /// saying why the running config is kept. What `SIGHUP` does.
    pub fn reload_and_log(&self) -> Result<Changes, ReloadError> {
        let result = self.reload();
        match &result {
            Ok(changes) => {
                let webhooks = self.config.load().webhooks.len();
                tracing::info!(
                    path = %self.path.display(),
                    webhooks,
                    added = %changes.added.join(","),
                    removed = %changes.removed.join(","),
                    changed = %changes.changed.join(","),
                    settings = %changes.settings.join(","),
                    summary = %changes,
                    "config reloaded"
                );
                if !changes.removed.is_empty() {
                    tracing::warn!(
                        removed = %changes.removed.join(","),
                        "webhooks removed by the reload: their undelivered events become dead letters \
                         (see `sitehook-relay deliveries --status failed`); add a webhook back, reload and \
                         `sitehook-relay replay` to deliver them"
                    );
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "config reload refused; the running config is kept");
            }
        }
        result
    }
}

/// Reloads with `reloader` on every `SIGHUP` (unix only). The signal is taken over
/// here, before the returned future first runs, so that a `SIGHUP` that arrives early
/// cannot end the process (its default action); spawn the future beside
/// [`crate::run_shared`]. Call it inside the Tokio runtime.
pub fn on_sighup(
    reloader: Arc<Reloader>,
) -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hup = signal(SignalKind::hangup())?;
        Ok(async move {
            while hup.recv().await.is_some() {
                // Reading secret files blocks; keep it off the async threads.
                let reloader = reloader.clone();
                let _ = tokio::task::spawn_blocking(move || reloader.reload_and_log()).await;
            }
        })
    }
    #[cfg(not(unix))]
    {
        let _ = reloader;
        Ok(std::future::pending::<()>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        Config::from_toml(text, &|_| Some("v".into())).unwrap()
    }

    #[test]
    fn snapshots_keep_their_value_across_a_swap() {
        let shared = Shared::new(1);
        let before = shared.load();
        assert_eq!(*shared.store(2), 1);
        assert_eq!((*before, *shared.load()), (1, 2));
    }

    #[test]
    fn changes_name_what_differs() {
        let old = config(
            "[webhooks.a]\nurl = \"https://a.example/\"\n[webhooks.b]\nurl = \"https://b.example/\"\n\
             headers = { X-Key = { env = \"K\" } }\n",
        );
        let new = Config::from_toml(
            "allowed_origins = [\"https://shop.example\"]\n[limits]\nper_ip_burst = 5\n\
             [webhooks.b]\nurl = \"https://b.example/\"\nheaders = { X-Key = { env = \"K\" } }\n\
             [webhooks.c]\nurl = \"https://c.example/\"\n",
            &|_| Some("rotated".into()),
        )
        .unwrap();
        let changes = Changes::between(&old, &new);
        assert_eq!(
            changes,
            Changes {
                added: vec!["c".into()],
                removed: vec!["a".into()],
                changed: vec!["b".into()],
                settings: vec!["allowed_origins", "limits"],
            },
            "a rotated secret counts as a change of its webhook"
        );
        assert_eq!(
            changes.to_string(),
            "webhooks added: c; webhooks removed: a; webhooks changed: b; settings changed: allowed_origins, limits"
        );
        assert!(Changes::between(&old, &old.clone()).is_empty());
    }

    #[test]
    fn restart_only_settings() {
        let old = config("listen = \"127.0.0.1:1\"\ndata_dir = \"/a\"");
        let cases = [
            ("listen = \"127.0.0.1:1\"\ndata_dir = \"/a\"", vec![]),
            (
                "listen = \"127.0.0.1:2\"\ndata_dir = \"/a\"",
                vec!["listen"],
            ),
            (
                "listen = \"127.0.0.1:2\"\ndata_dir = \"/b\"\nbase_path = \"/x\"",
                vec!["listen", "data_dir", "base_path"],
            ),
        ];
        for (text, want) in cases {
            assert_eq!(restart_only(&old, &config(text)), want, "{text}");
        }
    }
}
