//! `headroom`: Headroom without the desktop. The commands and their output are stable; scripts
//! rely on them.

mod alerts;
mod backtest;
mod classify;
mod metrics;
mod serve;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use chrono::Utc;
use clap::{Parser, Subcommand};
use headroom_core::alert::outbox::Dispatcher;
use headroom_core::config::{self, AddSourceRequest};
use headroom_core::credentials::Credentials;
use headroom_core::scheduler::{Poller, Schedule};
use headroom_core::status::{self, MeterStatus, SourceView};
use headroom_core::store::{self, Store};
use headroom_core::{demo, money, retention};

#[derive(Parser)]
#[command(
    name = "headroom",
    version,
    about = "Watch the money and quota behind your AI APIs"
)]
struct Cli {
    /// Where Headroom keeps its database [default: the OS data dir]
    #[arg(long, env = "HEADROOM_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the simulator and poller with demo accounts and print their status
    Demo {
        /// Print the status once and stop instead of watching
        #[arg(long)]
        once: bool,
    },
    /// Add, list or remove the sources Headroom polls
    Sources {
        #[command(subcommand)]
        command: SourcesCommand,
    },
    /// Poll every source now (--once) or keep polling on each source's interval
    Poll {
        #[arg(long)]
        once: bool,
    },
    /// Every meter: remaining, limit, unit, state, last poll and last error
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Failed requests, newest first: when, which source, status and what it means
    Events {
        #[arg(long)]
        json: bool,
        /// Only events this recent, e.g. 24h, 7d
        #[arg(long, default_value = "7d")]
        since: String,
        /// Only this source's events (its name, as in `sources list`)
        #[arg(long)]
        source: Option<String>,
        /// Only this kind of failure, e.g. budget_exceeded, credits_exhausted, rate_limited
        #[arg(long)]
        class: Option<String>,
        /// Only answers with this HTTP status
        #[arg(long, value_parser = clap::value_parser!(u16).range(100..=599))]
        status: Option<u16>,
    },
    /// Alerts, newest first: which meter or source, which rule, how severe, firing or resolved,
    /// and where each was delivered; with a subcommand, acknowledge, snooze, rules and channels
    Alerts {
        #[arg(long)]
        json: bool,
        #[command(subcommand)]
        command: Option<alerts::AlertsCommand>,
    },
    /// Replay meter traces through the forecaster and write one prediction a line (JSONL)
    Backtest {
        /// Directory of trace files (bench/traces/README.md describes the format)
        #[arg(long)]
        traces: PathBuf,
        /// Where to write the predictions
        #[arg(long)]
        out: PathBuf,
        /// Time between evaluations, e.g. 1h
        #[arg(long, default_value = "1h")]
        step: String,
        /// History each trace gets before the first evaluation, e.g. 72h
        #[arg(long, default_value = "72h")]
        warmup: String,
    },
    /// Say which failure a saved error response was (402 family), why, and what to do
    Classify {
        /// The HTTP status of the response
        #[arg(long, value_parser = clap::value_parser!(u16).range(100..=599))]
        status: u16,
        /// File holding the response body
        #[arg(long)]
        body: PathBuf,
        /// File holding the response headers: a JSON object or raw `Name: value` lines
        #[arg(long)]
        headers: Option<PathBuf>,
        /// Provider kind, e.g. openrouter, openai, anthropic, litellm
        #[arg(long, default_value = "generic")]
        provider: String,
        #[arg(long)]
        json: bool,
    },
    /// Every stored reading, as CSV or JSON, to standard output; readings older than 90 days
    /// come as hourly rows, marked `hourly`
    Export {
        #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
        format: ExportFormat,
    },
    /// Keep polling like `poll` and serve every meter as Prometheus metrics at /metrics
    Serve {
        /// The address to serve the metrics on
        #[arg(long, value_name = "ADDRESS", default_value = "127.0.0.1:9464")]
        metrics: std::net::SocketAddr,
        /// Only serve what the database holds, e.g. next to the app, which polls
        #[arg(long)]
        no_poll: bool,
    },
    /// Write a consistent copy of the database to FILE, safe while Headroom runs; it holds no
    /// keys (they are never in the database)
    Backup {
        /// Where to write the backup; it must not exist yet
        file: PathBuf,
    },
    /// Put the backup FILE in place of the database, keeping the current one beside it as
    /// headroom.sqlite.before-restore-<time>; quit the app and `poll`/`serve` first
    Restore { file: PathBuf },
    /// Run the provider simulator alone; its first stdout line is a JSON announcement
    Sim {
        /// A built-in scenario name (demo) or a scenario JSON file
        #[arg(long, default_value = "demo")]
        scenario: String,
        #[arg(long, default_value_t = 0)]
        port: u16,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ExportFormat {
    Csv,
    Json,
}

#[derive(Subcommand)]
enum SourcesCommand {
    /// Add a source. The key goes into the OS keychain (--key-stdin) or stays in an
    /// environment variable (--key-env); it is never written to Headroom's files
    Add {
        /// Provider kind, e.g. openrouter
        kind: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        base_url: Option<String>,
        /// Name of the environment variable holding the key
        #[arg(long, conflicts_with = "key_stdin")]
        key_env: Option<String>,
        /// Read the key from standard input and store it in the OS keychain
        #[arg(long)]
        key_stdin: bool,
        /// Environment variable holding a management key (OpenRouter: account credits; LiteLLM:
        /// the proxy's master key, which user_id and team_id budgets need)
        #[arg(long)]
        management_key_env: Option<String>,
        /// How often to poll, e.g. 30s, 15m, 1h
        #[arg(long, default_value = "15m")]
        interval: String,
        /// A monthly budget to measure spend against (providers that report spend, not balance)
        #[arg(long)]
        budget: Option<String>,
        /// A prepaid amount to draw spend down from
        #[arg(long)]
        prepaid: Option<String>,
        /// Any other provider setting, as NAME=VALUE (repeatable)
        #[arg(long = "option", value_name = "NAME=VALUE")]
        options: Vec<String>,
    },
    /// Poll once with these settings and say what was found, without adding the source or
    /// storing the key; exits non-zero when nothing could be read
    Test {
        /// Provider kind, e.g. openrouter, generic
        kind: String,
        /// Ignored: accepted so that an `add` line can be tested by changing one word
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        base_url: Option<String>,
        /// Name of the environment variable holding the key
        #[arg(long, conflicts_with = "key_stdin")]
        key_env: Option<String>,
        /// Read the key from standard input; it is used for this test only
        #[arg(long)]
        key_stdin: bool,
        /// Environment variable holding a management key
        #[arg(long)]
        management_key_env: Option<String>,
        #[arg(long)]
        budget: Option<String>,
        #[arg(long)]
        prepaid: Option<String>,
        /// Any other provider setting, as NAME=VALUE (repeatable)
        #[arg(long = "option", value_name = "NAME=VALUE")]
        options: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    List {
        #[arg(long)]
        json: bool,
    },
    Remove {
        name: String,
    },
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HEADROOM_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("headroom: cannot start: {e}");
            std::process::exit(1);
        }
    };
    if let Err(error) = runtime.block_on(run(cli)) {
        eprintln!("headroom: {error:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> Result<()> {
    let data_dir = cli.data_dir.unwrap_or_else(headroom_core::default_data_dir);
    match cli.command {
        Command::Sim { scenario, port } => Ok(headroom_sim::run_cli(&scenario, port).await?),
        Command::Demo { once } => run_demo(&data_dir, once).await,
        Command::Classify {
            status,
            body,
            headers,
            provider,
            json,
        } => classify::run(status, &body, headers.as_deref(), &provider, json),
        Command::Backtest {
            traces,
            out,
            step,
            warmup,
        } => run_backtest(&traces, &out, &step, &warmup),
        // Both before the database is opened here: a restore needs it closed everywhere, and a
        // backup of a database that does not exist should not create one.
        Command::Backup { file } => backup(&data_dir, &file),
        Command::Restore { file } => restore(&data_dir, &file),
        command => {
            let store = Arc::new(Store::open(&data_dir)?);
            let credentials = Arc::new(Credentials::new());
            match command {
                Command::Sources { command } => sources(&store, &credentials, command).await,
                Command::Poll { once } => poll(store, credentials, once).await,
                Command::Status { json } => print_status(&store, json),
                Command::Events {
                    json,
                    since,
                    source,
                    class,
                    status,
                } => print_events(&store, json, &events_filter(&since, source, class, status)?),
                Command::Export { format } => {
                    let format = match format {
                        ExportFormat::Csv => headroom_core::export::Format::Csv,
                        ExportFormat::Json => headroom_core::export::Format::Json,
                    };
                    let written = headroom_core::export::export(
                        &store,
                        format,
                        &mut std::io::stdout().lock(),
                    )?;
                    eprintln!("Exported {written} readings.");
                    Ok(())
                }
                Command::Serve { metrics, no_poll } => {
                    serve::run(store, credentials, metrics, !no_poll).await
                }
                Command::Alerts { json, command } => match command {
                    None => alerts::print(&store, json),
                    Some(command) => alerts::run(&store, &credentials, command).await,
                },
                Command::Sim { .. }
                | Command::Demo { .. }
                | Command::Backtest { .. }
                | Command::Classify { .. }
                | Command::Backup { .. }
                | Command::Restore { .. } => unreachable!("handled above"),
            }
        }
    }
}

fn run_backtest(
    traces: &std::path::Path,
    out: &std::path::Path,
    step: &str,
    warmup: &str,
) -> Result<()> {
    let duration = |text: &str| -> Result<chrono::Duration> {
        chrono::Duration::from_std(config::parse_interval(text)?)
            .context("that duration is too long")
    };
    let summary = backtest::run(traces, out, duration(step)?, duration(warmup)?)?;
    println!(
        "backtest: {} traces, {} predictions, {:.1} s -> {}",
        summary.traces,
        summary.predictions,
        summary.seconds,
        out.display()
    );
    Ok(())
}

async fn sources(
    store: &Arc<Store>,
    credentials: &Arc<Credentials>,
    command: SourcesCommand,
) -> Result<()> {
    match command {
        SourcesCommand::Add {
            kind,
            name,
            base_url,
            key_env,
            key_stdin,
            management_key_env,
            interval,
            budget,
            prepaid,
            options,
        } => {
            let settings = provider_settings(options, budget, prepaid)?;
            let key = stdin_key(key_stdin)?;
            if key.is_none() && key_env.is_none() && management_key_env.is_none() {
                bail!("give the key with --key-env VAR (an environment variable) or --key-stdin (stored in the OS keychain)");
            }
            let base_url = base_url_or_default(&kind, base_url);
            let row = config::add_source(
                store,
                credentials,
                &AddSourceRequest {
                    kind,
                    name,
                    base_url,
                    key,
                    key_env,
                    management_key: None,
                    management_key_env,
                    interval,
                    options: Some(settings),
                },
            )?;
            println!(
                "Added {} ({}, polled every {}s). Run `headroom poll --once` to read it now.",
                row.name, row.kind, row.interval_secs
            );
            backfill(store, credentials, &row).await
        }
        SourcesCommand::Test {
            kind,
            name,
            base_url,
            key_env,
            key_stdin,
            management_key_env,
            budget,
            prepaid,
            options,
            json,
        } => {
            let key = stdin_key(key_stdin)?;
            if key.is_none() && key_env.is_none() && management_key_env.is_none() {
                bail!("give the key with --key-env VAR (an environment variable) or --key-stdin");
            }
            let request = AddSourceRequest {
                base_url: base_url_or_default(&kind, base_url),
                kind,
                name: name.unwrap_or_default(),
                key,
                key_env,
                management_key: None,
                management_key_env,
                interval: "15m".into(),
                options: Some(provider_settings(options, budget, prepaid)?),
            };
            let result =
                config::test_source(&headroom_core::source::HttpRunner::new(), &request).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&result)?);
            } else {
                for m in &result.meters {
                    let limit = m
                        .limit
                        .map(|l| format!(" of {}", money::format_amount(l, &m.unit)))
                        .unwrap_or_default();
                    println!(
                        "found   {} ({}): {} left{limit}",
                        m.label,
                        m.meter,
                        money::format_amount(m.remaining, &m.unit)
                    );
                }
                for f in &result.failures {
                    println!("failed  {}", f.message);
                }
                if result.meters.is_empty() && result.failures.is_empty() {
                    println!("The provider answered, but reported no meter to watch.");
                }
            }
            if !result.ok() {
                bail!("the connection test did not read every meter");
            }
            Ok(())
        }
        SourcesCommand::List { json } => {
            let views: Vec<SourceView> =
                store.list_sources()?.iter().map(SourceView::from).collect();
            if json {
                println!("{}", serde_json::to_string_pretty(&views)?);
            } else if views.is_empty() {
                println!("No sources yet. Add one with `headroom sources add openrouter --name NAME --key-env VAR`.");
            } else {
                for v in views {
                    println!(
                        "{:<20} {:<12} {:<32} key: {:<28} every {}s",
                        v.name, v.kind, v.base_url, v.key_ref, v.interval_secs
                    );
                }
            }
            Ok(())
        }
        SourcesCommand::Remove { name } => {
            config::remove_source(store, credentials, &name)?;
            println!("Removed {name} and its history.");
            Ok(())
        }
    }
}

/// `--option NAME=VALUE`s, `--budget` and `--prepaid` as the provider's settings.
fn provider_settings(
    options: Vec<String>,
    budget: Option<String>,
    prepaid: Option<String>,
) -> Result<headroom_core::source::SourceOptions> {
    let mut settings = headroom_core::source::SourceOptions::new();
    for option in options {
        let Some((name, value)) = option.split_once('=') else {
            bail!("--option takes NAME=VALUE, not \"{option}\"");
        };
        settings.insert(name.trim().to_string(), value.trim().to_string());
    }
    settings.extend(budget.map(|b| ("monthly_budget".to_string(), b)));
    settings.extend(prepaid.map(|p| ("prepaid".to_string(), p)));
    Ok(settings)
}

fn stdin_key(key_stdin: bool) -> Result<Option<String>> {
    if !key_stdin {
        return Ok(None);
    }
    let mut key = String::new();
    std::io::stdin()
        .read_to_string(&mut key)
        .context("cannot read the key from standard input")?;
    Ok(Some(key))
}

fn base_url_or_default(kind: &str, base_url: Option<String>) -> String {
    base_url.unwrap_or_else(|| {
        headroom_core::source::provider(kind)
            .map(|p| p.default_base_url.to_string())
            .unwrap_or_default()
    })
}

/// Fills in the new source's history where its provider keeps one, with progress on stderr.
async fn backfill(
    store: &Arc<Store>,
    credentials: &Arc<Credentials>,
    row: &headroom_core::store::SourceRow,
) -> Result<()> {
    let poller = Poller::new(Arc::clone(store), Arc::clone(credentials));
    let progress = |done: usize, total: usize| {
        eprint!("\rFilling in history: {done} of {total}");
        if done == total {
            eprintln!();
        }
    };
    let stored = poller.backfill_source(row, &progress).await?;
    if stored > 0 {
        println!("Filled in {stored} past readings.");
    }
    Ok(())
}

async fn poll(store: Arc<Store>, credentials: Arc<Credentials>, once: bool) -> Result<()> {
    if store.list_sources()?.is_empty() {
        bail!("there are no sources to poll; add one with `headroom sources add`");
    }
    if !once {
        let mut polling = serve::Polling::start(store, credentials)?;
        eprintln!("Polling every source on its interval. Press Ctrl-C to stop.");
        tokio::select! {
            _ = serve::stopped() => {},
            _ = polling.print_reports() => {},
        }
        return Ok(());
    }
    // Polled from cron, this is the only Headroom that runs: it keeps the history trimmed too.
    // Usually there is nothing to roll up, which takes a moment per meter.
    if let Err(error) = retention::apply(&store, &retention::Retention::default(), Utc::now()) {
        eprintln!("headroom: old readings were not rolled up this time: {error}");
    }
    let dispatcher = Arc::new(Dispatcher::new(
        Arc::clone(&store),
        Arc::clone(&credentials),
    ));
    let poller = Arc::new(Poller::new(store, credentials));
    for report in poller.poll_all_once().await? {
        if report.ok() {
            println!("{}: ok, {} meter(s) read", report.source, report.readings);
        } else {
            println!("{}: failed: {}", report.source, report.failures.join("; "));
        }
    }
    let sent = dispatcher.dispatch_due().await?;
    if sent.sent + sent.retrying + sent.failed > 0 {
        println!(
            "alerts: {} notice(s) sent, {} to retry at the next poll, {} given up",
            sent.sent, sent.retrying, sent.failed
        );
    }
    Ok(())
}

fn backup(data_dir: &Path, file: &Path) -> Result<()> {
    let database = data_dir.join(store::DB_FILE);
    if !database.exists() {
        return Err(store::backup::BackupError::NoDatabase(database).into());
    }
    Store::open(data_dir)?.backup_to(file)?;
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    println!(
        "Backed up {} to {} ({:.1} MB). It holds no keys: they stay in the OS keychain or your environment.",
        database.display(),
        file.display(),
        size as f64 / 1e6
    );
    Ok(())
}

fn restore(data_dir: &Path, file: &Path) -> Result<()> {
    let restored = store::backup::restore(data_dir, file, Utc::now())?;
    println!(
        "Restored {} ({} source(s), {} reading(s)) as {}.",
        file.display(),
        restored.info.sources,
        restored.info.readings,
        data_dir.join(store::DB_FILE).display()
    );
    if let Some(previous) = restored.previous {
        println!(
            "The database it replaced is kept as {}.",
            previous.display()
        );
    }
    println!("Keys are not part of a backup: its sources read theirs from the same keychain entries and environment variables as before.");
    Ok(())
}

fn print_status(store: &Store, json: bool) -> Result<()> {
    let rows: Vec<MeterStatus> = status::meter_statuses(store)?
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    if rows.is_empty() {
        println!("No sources yet. Add one with `headroom sources add openrouter --name NAME --key-env VAR`, or try `headroom demo`.");
        return Ok(());
    }
    println!(
        "{:<14} {:<18} {:>14} {:>14} {:<10} {:<17} {:<17} PROBLEM",
        "SOURCE", "METER", "REMAINING", "LIMIT", "STATE", "RUNS OUT (P50)", "LAST POLL"
    );
    let local = |t: chrono::DateTime<chrono::Utc>| {
        t.with_timezone(&chrono::Local)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    };
    for row in rows {
        let unit = row.unit.as_deref().unwrap_or("");
        let amount = |d: Option<headroom_core::Decimal>| {
            d.map(|d| money::format_amount(d, unit))
                .unwrap_or_else(|| "-".into())
        };
        let last_poll = row.last_poll.map(local).unwrap_or_else(|| "never".into());
        let runs_out = row
            .forecast
            .as_ref()
            .and_then(|f| f.eta_p50)
            .map(local)
            .unwrap_or_else(|| "-".into());
        println!(
            "{:<14} {:<18} {:>14} {:>14} {:<10} {:<17} {:<17} {}",
            row.source,
            row.meter_label.as_deref().unwrap_or("-"),
            amount(row.remaining),
            amount(row.limit),
            row.state.as_str(),
            runs_out,
            last_poll,
            row.last_error
                .as_deref()
                .or(row.refusal.as_deref())
                .unwrap_or("")
        );
    }
    Ok(())
}

/// The events the `events` arguments ask for; scripts get every match, as before there were
/// filters.
fn events_filter(
    since: &str,
    source: Option<String>,
    class: Option<String>,
    status: Option<u16>,
) -> Result<headroom_core::events::EventFilter> {
    let window = config::parse_interval(since)?;
    let since = chrono::Utc::now()
        - chrono::Duration::from_std(window).context("that duration is too long")?;
    Ok(headroom_core::events::EventFilter {
        source,
        class,
        status,
        since: Some(since),
        until: None,
        limit: Some(usize::MAX),
    })
}

/// `headroom events`: one JSON object per event (`events::EventView`, whose field names scripts
/// rely on), or one line each.
fn print_events(
    store: &Store,
    json: bool,
    filter: &headroom_core::events::EventFilter,
) -> Result<()> {
    let events = headroom_core::events::list(store, filter)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&events)?);
    } else if events.is_empty() {
        let filtered = filter.source.is_some() || filter.class.is_some() || filter.status.is_some();
        match filtered {
            true => println!("No failed requests in that time match those filters."),
            false => println!("No failed requests recorded in that time."),
        }
    } else {
        for event in events {
            let when = event
                .time
                .with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M:%S");
            let status = event
                .status
                .map(|s| s.to_string())
                .unwrap_or_else(|| "-".into());
            // Someone's request through the gateway, not Headroom's own poll.
            let via = match event.origin {
                headroom_core::source::EventOrigin::Gateway => "[via gateway log] ",
                headroom_core::source::EventOrigin::Poll => "",
            };
            println!(
                "{when}  {:<14} {:>3}  {via}{}",
                event.source, status, event.message
            );
        }
    }
    Ok(())
}

async fn run_demo(data_dir: &std::path::Path, once: bool) -> Result<()> {
    let dir = demo::data_dir(data_dir);
    demo::reset_data_dir(&dir)?;
    let store = Arc::new(Store::open(&dir)?);
    let credentials = Arc::new(Credentials::new());
    let sim = demo::start(&store, &credentials, 0).await?;
    eprintln!(
        "Demo simulator at {}; data in {}",
        sim.base_url(),
        dir.display()
    );
    let poller = Arc::new(Poller::new(Arc::clone(&store), credentials));
    poller.poll_all_once().await?;
    print_status(&store, false)?;
    if once {
        sim.shutdown().await;
        return Ok(());
    }
    let mut updates = poller.subscribe();
    let _schedule = Schedule::start(Arc::clone(&poller))?;
    eprintln!(
        "Polling every {}s. Press Ctrl-C to stop.",
        demo::POLL_INTERVAL_SECS
    );
    let mut seen = 0usize;
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            update = updates.recv() => if update.is_ok() {
                seen += 1;
                // One table per round of polls, not one per source.
                if seen.is_multiple_of(store.list_sources()?.len().max(1)) {
                    println!();
                    print_status(&store, false)?;
                }
            },
        }
    }
    sim.shutdown().await;
    Ok(())
}
