//! Unit tests of the forecaster.

#[test]
fn debug_runaway_trace() {
    use super::*;
    let text = std::fs::read_to_string("../../bench/traces/runaway-014.json").unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let history: Vec<Observation> = doc["readings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| Observation {
            ts: r[0].as_str().unwrap().parse().unwrap(),
            remaining: r[1].as_f64().unwrap(),
        })
        .collect();
    let now: DateTime<Utc> = "2026-03-13T07:00:00Z".parse().unwrap();
    let seen = &history[..history.partition_point(|o| o.ts <= now)];
    let window = &seen[seen.len() - 3000..];
    let now_s = now.timestamp() as f64;
    let ledger = ledger::build(window, &[], None, now_s - 7200.0);
    eprintln!("recent {:?}", ledger.recent);
    let m = model::fit(&ledger, now_s, 1000.0);
    eprintln!("level {} runaway {:?} sd {} sl {}", m.level_per_hour, m.runaway_per_hour, m.sigma_daily, m.sigma_level);
    eprintln!("profile {:?}", &m.profile[..]);
    eprintln!("last bins {:?} {:?}", &ledger.burn[ledger.len()-4..], &ledger.coverage[ledger.len()-4..]);
}
