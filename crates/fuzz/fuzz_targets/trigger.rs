#![no_main]

use libfuzzer_sys::fuzz_target;
use sitehook_core::condition::{Here, Scope};
use sitehook_core::{Doc, Duration, Entry, History, NoPatterns, Program, Trigger};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Duration::parse(text);
    // The snippet's own JSON reader, on anything: it must not panic.
    let Some(doc) = Doc::parse(text.to_owned()) else {
        return;
    };
    let _ = History::from_json(text.to_owned());
    let mut program = Program::new(doc);
    let Ok(trigger) = Trigger::parse(&mut program, 0, &NoPatterns) else {
        return;
    };
    let now = 1_700_000_000_000u64;
    let paths: Vec<String> = (1..50u64).map(|k| format!("/p{}", k % 7)).collect();
    let entries: Vec<Entry> = (1..50u64)
        .zip(&paths)
        .map(|(k, p)| Entry::page_view(now - k * 3_600_000, p))
        .collect();
    let mut history = History::of(&entries);
    let current = history.push(Entry::page_view(now, "/p1"));
    let visit = history.visits()[current];
    let here = Here {
        url: "https://a.example/p1?utm_source=x#h",
        host: "a.example",
        query: "?utm_source=x",
        hash: "#h",
        known: true,
        ..Here::default()
    };
    let _ = trigger.lookback(&program);
    for last in [0, now - 1, 1] {
        let scope = Scope::of_current(now, &visit, &history, &here, &program, &NoPatterns);
        let _ = trigger.decide("page_view", scope, last);
        let _ = trigger.wake(scope);
    }
});
