#![no_main]

use libfuzzer_sys::fuzz_target;
use sitehook_core::{Event, EventBatch};

fuzz_target!(|data: &[u8]| {
    let Ok(serde_json::Value::Object(batch)) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let Some(serde_json::Value::Array(events)) = batch.get("events") else {
        return;
    };
    for raw in events {
        let Ok(event) = serde_json::from_value::<Event>(raw.clone()) else {
            continue;
        };
        if event.validate().is_ok() {
            // What the snippet writes for a valid event, the relay must read back as is.
            let text = EventBatch::to_json(std::slice::from_ref(&event));
            let back: EventBatch = serde_json::from_str(&text).expect("the snippet's JSON parses");
            assert_eq!(back.events, [event]);
        }
    }
});
