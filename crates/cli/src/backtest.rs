//! `headroom backtest`: replay recorded meter traces through the forecaster as if live, one
//! evaluation every step, and write the predictions the scorer (tools/score_forecasts.py) reads.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Duration, Utc};
use headroom_core::forecast::{self, MeterContext, Observation};
use headroom_core::source::MeterKind;
use serde::{Deserialize, Serialize};

/// A trace file as bench/traces/README.md describes it.
#[derive(Deserialize)]
struct TraceFile {
    name: String,
    kind: String,
    limit: Option<f64>,
    #[serde(default)]
    resets: Vec<DateTime<Utc>>,
    readings: Vec<(DateTime<Utc>, f64)>,
}

/// One line of the output; field names and order are what the scorer expects.
#[derive(Serialize)]
struct PredictionLine<'a> {
    trace: &'a str,
    at: String,
    eta: Option<String>,
    eta_low: Option<String>,
    eta_high: Option<String>,
    alert: bool,
}

pub struct Summary {
    pub traces: usize,
    pub predictions: usize,
    pub seconds: f64,
}

pub fn run(traces_dir: &Path, out: &Path, step: Duration, warmup: Duration) -> Result<Summary> {
    if step <= Duration::zero() {
        bail!("--step must be longer than zero");
    }
    let started = Instant::now();
    let traces = load_traces(traces_dir)?;
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(traces.len().max(1));
    // Each trace is independent; spread them over the cores and keep the output in file order.
    let results: Vec<Result<Vec<String>>> = std::thread::scope(|scope| {
        let chunks: Vec<_> = (0..threads)
            .map(|worker| {
                let traces = &traces;
                scope.spawn(move || {
                    traces
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| i % threads == worker)
                        .map(|(i, trace)| (i, backtest_trace(trace, step, warmup)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut ordered: Vec<(usize, Result<Vec<String>>)> = Vec::new();
        for chunk in chunks {
            match chunk.join() {
                Ok(done) => ordered.extend(done),
                Err(_) => {
                    ordered.push((usize::MAX, Err(anyhow::anyhow!("a backtest worker failed"))))
                }
            }
        }
        ordered.sort_by_key(|(i, _)| *i);
        ordered.into_iter().map(|(_, lines)| lines).collect()
    });

    let file = fs::File::create(out).with_context(|| format!("cannot write {}", out.display()))?;
    let mut writer = BufWriter::new(file);
    let mut predictions = 0;
    for lines in results {
        for line in lines? {
            writeln!(writer, "{line}")?;
            predictions += 1;
        }
    }
    writer.flush()?;
    Ok(Summary {
        traces: traces.len(),
        predictions,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Every trace file in the directory, by file name; JSON that is not a trace (no readings) is
/// skipped, a trace that does not parse is an error.
fn load_traces(dir: &Path) -> Result<Vec<TraceFile>> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("cannot read the trace directory {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    let mut traces = Vec::new();
    for path in paths {
        let text =
            fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let Ok(doc) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        if doc.get("readings").is_none() {
            continue;
        }
        let trace: TraceFile = serde_json::from_value(doc)
            .with_context(|| format!("{} is not a trace", path.display()))?;
        traces.push(trace);
    }
    if traces.is_empty() {
        bail!("no trace files (JSON with readings) in {}", dir.display());
    }
    Ok(traces)
}

fn backtest_trace(trace: &TraceFile, step: Duration, warmup: Duration) -> Result<Vec<String>> {
    let kind = MeterKind::parse(&trace.kind)
        .with_context(|| format!("trace {}: unknown kind {:?}", trace.name, trace.kind))?;
    let context = MeterContext {
        kind,
        limit: trace.limit,
        resets: trace.resets.clone(),
    };
    let history: Vec<Observation> = trace
        .readings
        .iter()
        .map(|&(ts, remaining)| Observation { ts, remaining })
        .collect();
    let (Some(first), Some(last)) = (history.first(), history.last()) else {
        return Ok(Vec::new());
    };
    let iso = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let mut lines = Vec::new();
    let mut at = first.ts + warmup;
    while at <= last.ts {
        let seen = &history[..history.partition_point(|o| o.ts <= at)];
        let prediction = forecast::forecast(seen, &context, at)
            .with_context(|| format!("trace {} at {}", trace.name, iso(at)))?;
        lines.push(serde_json::to_string(&PredictionLine {
            trace: &trace.name,
            at: iso(at),
            eta: prediction.eta_p50.map(iso),
            eta_low: prediction.eta_p10.map(iso),
            eta_high: prediction.eta_p90.map(iso),
            alert: prediction.alert,
        })?);
        at += step;
    }
    Ok(lines)
}
