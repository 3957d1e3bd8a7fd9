//! `headroom serve --metrics` against the simulator: Prometheus scrapes `/metrics` over HTTP and
//! reads every meter, alert and source, and the shipped alert rules use only what it serves.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{add_low_and_exhausted_keys, SimProcess, WebhookReceiver, BIN, DEMO_KEY_ENV};

fn headroom(dir: &Path, sim: &SimProcess) -> Command {
    let mut command = Command::new(BIN);
    command
        .arg("--data-dir")
        .arg(dir)
        .env_remove("HEADROOM_DATA_DIR");
    for (name, var) in DEMO_KEY_ENV {
        command.env(var, sim.key(name));
    }
    command
}

fn add_demo_sources(dir: &Path, sim: &SimProcess) {
    add_low_and_exhausted_keys(sim, |args| {
        let output = headroom(dir, sim).args(args).output().unwrap();
        assert!(output.status.success(), "{output:?}");
    });
}

/// `headroom serve`, stopped when dropped.
struct Serving(Child);

impl Serving {
    fn start(dir: &Path, sim: &SimProcess, port: u16, extra: &[&str]) -> Self {
        let child = headroom(dir, sim)
            .args(["serve", "--metrics", &format!("127.0.0.1:{port}")])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start headroom serve");
        Self(child)
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// GET `path` over plain HTTP: the response's head and body, or `None` while nothing listens.
fn get(port: u16, path: &str) -> Option<(String, String)> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    Some((head.to_string(), body.to_string()))
}

#[derive(Debug, Default)]
struct Family {
    help: Option<String>,
    kind: Option<String>,
}

#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

#[derive(Debug, Default)]
struct Exposition {
    families: HashMap<String, Family>,
    samples: Vec<Sample>,
}

impl Exposition {
    /// Parses the OpenMetrics text format strictly enough to catch what Prometheus would reject:
    /// each sample belongs to a family declared before it with HELP and TYPE (a counter's
    /// samples end in `_total`), label values are quoted and escaped, and `# EOF` ends it.
    fn parse(text: &str) -> Result<Self, String> {
        let mut exposition = Exposition::default();
        let mut ended = false;
        for line in text.lines() {
            if ended {
                return Err(format!("text after # EOF: {line}"));
            }
            if line == "# EOF" {
                ended = true;
                continue;
            }
            if let Some(comment) = line.strip_prefix("# ") {
                let (keyword, rest) = comment.split_once(' ').ok_or(line)?;
                let (name, value) = rest.split_once(' ').ok_or(line)?;
                let family = exposition.families.entry(name.to_string()).or_default();
                match keyword {
                    "HELP" => family.help = Some(value.to_string()),
                    "TYPE" => family.kind = Some(value.to_string()),
                    "UNIT" if name.ends_with(&format!("_{value}")) => {}
                    _ => return Err(format!("unexpected line: {line}")),
                }
                continue;
            }
            let sample = parse_sample(line)?;
            let family = match exposition.families.get(&sample.name) {
                Some(family) => family,
                None => sample
                    .name
                    .strip_suffix("_total")
                    .and_then(|base| exposition.families.get(base))
                    .filter(|f| f.kind.as_deref() == Some("counter"))
                    .ok_or_else(|| format!("sample of no declared family: {line}"))?,
            };
            if family.help.is_none() || family.kind.is_none() {
                return Err(format!("family without HELP or TYPE: {line}"));
            }
            exposition.samples.push(sample);
        }
        if !ended {
            return Err("no # EOF at the end".into());
        }
        Ok(exposition)
    }

    fn find(&self, name: &str, labels: &[(&str, &str)]) -> Vec<&Sample> {
        self.samples
            .iter()
            .filter(|s| {
                s.name == name
                    && labels
                        .iter()
                        .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .collect()
    }

    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        match self.find(name, labels).as_slice() {
            [one] => Some(one.value),
            [] => None,
            many => panic!("{} samples of {name} {labels:?}", many.len()),
        }
    }

    fn kind(&self, family: &str) -> Option<&str> {
        self.families.get(family).and_then(|f| f.kind.as_deref())
    }
}

fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line.find(['{', ' ']).ok_or(line)?;
    let name = &line[..name_end];
    let mut labels = BTreeMap::new();
    let mut rest = &line[name_end..];
    if let Some(inner) = rest.strip_prefix('{') {
        let mut chars = inner.char_indices();
        let mut key = String::new();
        loop {
            let (_, c) = chars.next().ok_or(line)?;
            match c {
                '}' => break,
                ',' => continue,
                '=' => {
                    if chars.next().map(|(_, c)| c) != Some('"') {
                        return Err(format!("unquoted label value: {line}"));
                    }
                    let mut value = String::new();
                    loop {
                        match chars.next().ok_or(line)?.1 {
                            '"' => break,
                            '\\' => match chars.next().ok_or(line)?.1 {
                                'n' => value.push('\n'),
                                other => value.push(other),
                            },
                            other => value.push(other),
                        }
                    }
                    labels.insert(std::mem::take(&mut key), value);
                }
                other => key.push(other),
            }
        }
        let consumed = chars.next().map_or(inner.len(), |(i, _)| i);
        rest = &inner[consumed..];
    }
    let value = rest
        .trim()
        .parse::<f64>()
        .map_err(|e| format!("{e}: {line}"))?;
    Ok(Sample {
        name: name.to_string(),
        labels,
        value,
    })
}

/// Scrapes until `ready` holds, or fails after a while with the last scrape.
fn scrape_until(port: u16, ready: impl Fn(&Exposition) -> bool) -> (String, String, Exposition) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = String::new();
    while Instant::now() < deadline {
        if let Some((head, body)) = get(port, "/metrics") {
            let exposition = Exposition::parse(&body).unwrap_or_else(|e| panic!("{e}\n{body}"));
            if ready(&exposition) {
                return (head, body, exposition);
            }
            last = body;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("the metrics never got there; last scrape:\n{last}");
}

#[test]
fn serve_exposes_meters_alerts_and_sources_for_prometheus() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path();
    let sim = SimProcess::start(0);
    add_demo_sources(dir, &sim);
    let port = WebhookReceiver::free_port();
    let _serving = Serving::start(dir, &sim, port, &[]);

    let polled = |m: &Exposition| {
        DEMO_KEY_ENV.iter().all(|(name, _)| {
            m.value(
                "headroom_source_last_poll_timestamp_seconds",
                &[("source", name)],
            )
            .is_some()
        }) && !m.find("headroom_alert_firing", &[]).is_empty()
    };
    let (head, body, metrics) = scrape_until(port, polled);
    assert!(head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200"));
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/openmetrics-text; version=1.0.0"),
        "{head}"
    );

    let research = [
        ("source", "research"),
        ("meter", "key_limit"),
        ("provider", "openrouter"),
        ("unit", "USD"),
    ];
    assert_eq!(
        metrics.value("headroom_meter_remaining", &research),
        Some(0.0)
    );
    assert_eq!(
        metrics.value("headroom_meter_exhausted", &research),
        Some(1.0)
    );
    assert_eq!(metrics.value("headroom_meter_limit", &research), Some(75.0));
    assert!(
        metrics
            .find("headroom_meter_eta_seconds", &research)
            .is_empty(),
        "an exhausted meter has no run-out ahead"
    );

    let staging = [
        ("source", "staging"),
        ("meter", "key_limit"),
        ("provider", "openrouter"),
        ("unit", "USD"),
    ];
    assert_eq!(
        metrics.value("headroom_meter_exhausted", &staging),
        Some(0.0)
    );
    let remaining = metrics.value("headroom_meter_remaining", &staging).unwrap();
    assert!(remaining > 0.0 && remaining < 20.0, "{remaining}");
    let eta = |q: &str| {
        let mut labels = staging.to_vec();
        labels.push(("quantile", q));
        metrics.value("headroom_meter_eta_seconds", &labels)
    };
    let (p10, p50, p90) = (eta("0.1"), eta("0.5"), eta("0.9"));
    let p50 = p50.expect("the low account has a median run-out");
    // About two and a half days at the simulator's burn.
    assert!(p50 > 36.0 * 3600.0 && p50 < 5.0 * 86400.0, "{p50}");
    assert!(p10.is_none_or(|p10| p10 <= p50) && p90.is_none_or(|p90| p90 >= p50));

    // Headroom's own alerts: a forecast warning for staging, the empty meter for research.
    let staging_alerts = metrics.find("headroom_alert_firing", &[("source", "staging")]);
    assert!(
        staging_alerts
            .iter()
            .any(|a| a.labels["severity"] == "warn" && a.labels["meter"] == "key_limit"),
        "{staging_alerts:?}"
    );
    assert!(!metrics
        .find("headroom_alert_firing", &[("source", "research")])
        .is_empty());
    assert!(metrics
        .find("headroom_alert_firing", &[])
        .iter()
        .all(|a| a.value == 1.0 && a.labels.contains_key("rule")));

    for (name, _) in DEMO_KEY_ENV {
        let source = [("source", name), ("provider", "openrouter")];
        assert_eq!(
            metrics.value("headroom_source_consecutive_failures", &source),
            Some(0.0)
        );
        assert!(metrics
            .value("headroom_source_poll_errors_total", &source)
            .is_some());
        let polled = metrics
            .value("headroom_source_last_poll_timestamp_seconds", &source)
            .unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        assert!((now - polled).abs() < 120.0, "{polled} vs {now}");
    }
    for (family, kind) in [
        ("headroom_meter_remaining", "gauge"),
        ("headroom_meter_limit", "gauge"),
        ("headroom_meter_eta_seconds", "gauge"),
        ("headroom_meter_exhausted", "gauge"),
        ("headroom_alert_firing", "gauge"),
        ("headroom_source_poll_errors", "counter"),
        ("headroom_source_consecutive_failures", "gauge"),
        ("headroom_source_last_poll_timestamp_seconds", "gauge"),
    ] {
        assert_eq!(metrics.kind(family), Some(kind), "{family}");
    }
    for (name, _) in DEMO_KEY_ENV {
        assert!(!body.contains(&sim.key(name)), "a key in the metrics");
        assert!(
            !body.contains("sk-or-v1"),
            "something key-like in the metrics"
        );
    }

    // Every metric the shipped alert rules use is one that is served.
    for name in metric_names_in_rules() {
        assert!(
            metrics.families.contains_key(&name) || metrics.samples.iter().any(|s| s.name == name),
            "the alert rules use {name}, which serve does not expose"
        );
    }

    // Next to the app, serve only reads: the same figures, and no polls of its own.
    let reader_port = WebhookReceiver::free_port();
    let _reader = Serving::start(dir, &sim, reader_port, &["--no-poll"]);
    let (_, _, read) = scrape_until(reader_port, |m| {
        m.value("headroom_meter_exhausted", &research).is_some()
    });
    assert_eq!(read.value("headroom_meter_exhausted", &research), Some(1.0));
    assert_eq!(read.value("headroom_meter_remaining", &research), Some(0.0));
}

#[test]
fn a_port_in_use_is_refused_in_words() {
    let data = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let output = Command::new(BIN)
        .arg("--data-dir")
        .arg(data.path())
        .args([
            "serve",
            "--no-poll",
            "--metrics",
            &format!("127.0.0.1:{port}"),
        ])
        .env_remove("HEADROOM_DATA_DIR")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains(&format!("cannot serve metrics on 127.0.0.1:{port}")),
        "{said}"
    );
}

fn repo_file(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

/// The `headroom_…` metric names the example alert rules' expressions use.
fn metric_names_in_rules() -> Vec<String> {
    let text = std::fs::read_to_string(repo_file("deploy/prometheus/headroom-alerts.yml")).unwrap();
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).unwrap();
    let mut names = Vec::new();
    for group in docs[0]["groups"].as_vec().unwrap() {
        for rule in group["rules"].as_vec().unwrap() {
            let expr = rule["expr"].as_str().unwrap();
            let mut rest = expr;
            while let Some(at) = rest.find("headroom_") {
                let tail = &rest[at..];
                let end = tail
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(tail.len());
                names.push(tail[..end].to_string());
                rest = &tail[end..];
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

/// The shape Prometheus loads a rule file in (promtool is not at hand): groups of rules, each
/// with a name, a PromQL expression, a duration Prometheus reads, a severity and words.
#[test]
fn the_example_alert_rules_are_a_rule_file_prometheus_can_load() {
    let text = std::fs::read_to_string(repo_file("deploy/prometheus/headroom-alerts.yml")).unwrap();
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).expect("valid YAML");
    assert_eq!(docs.len(), 1);
    let top = docs[0].as_hash().expect("a mapping at the top");
    assert_eq!(top.len(), 1, "only `groups`");
    let groups = docs[0]["groups"].as_vec().expect("groups is a list");
    let mut alerts = Vec::new();
    for group in groups {
        for key in group.as_hash().unwrap().keys() {
            let key = key.as_str().unwrap();
            assert!(
                ["name", "interval", "rules"].contains(&key),
                "group key {key}"
            );
        }
        assert!(group["name"].as_str().is_some());
        for rule in group["rules"].as_vec().expect("rules is a list") {
            for key in rule.as_hash().unwrap().keys() {
                let key = key.as_str().unwrap();
                assert!(
                    [
                        "alert",
                        "expr",
                        "for",
                        "keep_firing_for",
                        "labels",
                        "annotations"
                    ]
                    .contains(&key),
                    "rule key {key}"
                );
            }
            let name = rule["alert"].as_str().expect("alert is a string");
            assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
            alerts.push(name.to_string());
            let expr = rule["expr"].as_str().expect("expr is a string");
            assert!(expr.contains("headroom_"), "{expr}");
            let brackets = |open: char, close: char| {
                expr.chars().filter(|c| *c == open).count()
                    == expr.chars().filter(|c| *c == close).count()
            };
            assert!(brackets('(', ')') && brackets('{', '}') && brackets('[', ']'));
            if let Some(duration) = rule["for"].as_str() {
                let (number, unit) = duration.split_at(duration.len() - 1);
                assert!(
                    number.parse::<u32>().is_ok() && "smhdwy".contains(unit),
                    "for: {duration}"
                );
            }
            let severity = rule["labels"]["severity"].as_str().expect("a severity");
            assert!(["warning", "critical"].contains(&severity), "{severity}");
            for words in ["summary", "description"] {
                let text = rule["annotations"][words].as_str().expect(words);
                assert_eq!(
                    text.matches("{{").count(),
                    text.matches("}}").count(),
                    "{text}"
                );
            }
        }
    }
    alerts.sort();
    let count = alerts.len();
    alerts.dedup();
    assert_eq!(alerts.len(), count, "alert names are unique");
    for wanted in [
        "HeadroomRunsOutWithin72h",
        "HeadroomRunsOutWithin24h",
        "HeadroomMeterExhausted",
        "HeadroomPollErrors",
    ] {
        assert!(alerts.iter().any(|a| a == wanted), "{wanted}");
    }
    assert!(metric_names_in_rules().len() >= 4);
}

/// The user unit restarts Headroom when it fails and reads keys from the environment file.
#[test]
fn the_systemd_unit_serves_metrics_and_restarts_on_failure() {
    let unit = std::fs::read_to_string(repo_file("deploy/systemd/headroom.service")).unwrap();
    let settings: Vec<(&str, &str)> = unit
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with('['))
        .filter_map(|l| l.split_once('='))
        .collect();
    let setting = |key: &str| {
        settings
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
            .unwrap_or_else(|| panic!("no {key}="))
    };
    assert_eq!(setting("Restart"), "on-failure");
    assert_eq!(setting("EnvironmentFile"), "%h/.config/headroom/env");
    assert!(setting("ExecStart").ends_with("headroom serve --metrics 127.0.0.1:9464"));
    assert_eq!(setting("WantedBy"), "default.target");
    for section in ["[Unit]", "[Service]", "[Install]"] {
        assert!(unit.contains(section), "{section}");
    }
}
