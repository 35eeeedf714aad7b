#![no_main]

use libfuzzer_sys::fuzz_target;
use sitehook_core::condition::{Here, Scope};
use sitehook_core::{Duration, History, NoPatterns, Trigger, Value, Visit};

fn to_value(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => Value::Num(n.as_f64().unwrap_or(0.0)),
        serde_json::Value::String(s) => Value::Str(s.clone()),
        serde_json::Value::Array(a) => Value::Arr(a.iter().map(to_value).collect()),
        serde_json::Value::Object(o) => Value::Obj(o.iter().map(|(k, v)| (k.clone(), to_value(v))).collect()),
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Duration::parse(text);
    }
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let Ok(trigger) = Trigger::from_value(&to_value(&json), &NoPatterns) else {
        return;
    };
    let now = 1_700_000_000_000u64;
    let mut history = History::from_visits((1..50).map(|k| Visit::page_view(now - k * 3_600_000, &format!("/p{}", k % 7))).collect());
    let current = history.push(Visit::page_view(now, "/p1"));
    let visit = history.visits()[current].clone();
    let here = Here { url: "https://a.example/p1?utm_source=x#h".into(), host: "a.example".into(), query: "?utm_source=x".into(), hash: "#h".into(), known: true, ..Here::default() };
    let _ = trigger.lookback();
    for last in [None, Some(now - 1), Some(0)] {
        let scope = Scope::of_current(now, &visit, &history, &here, &NoPatterns);
        let _ = trigger.decide("page_view", scope, last);
        let _ = trigger.wake(scope);
    }
});
