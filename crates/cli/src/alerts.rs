//! `headroom alerts`: the alert history, acknowledging and snoozing, the rules, and the
//! channels alerts go to.

use std::sync::Arc;

use anyhow::{bail, Result};
use clap::Subcommand;
use headroom_core::alert::channel_setup::{self, ChannelRequest};
use headroom_core::alert::channels::{SmtpSecurity, WebhookFormat};
use headroom_core::alert::config::{self as alert_config, RuleChange};
use headroom_core::alert::outbox::Dispatcher;
use headroom_core::alert::{self, SnoozeFor};
use headroom_core::credentials::Credentials;
use headroom_core::store::Store;

#[derive(Subcommand)]
pub enum AlertsCommand {
    /// Acknowledge an open alert: no more reminders; it still resolves by itself
    Ack { id: i64 },
    /// Keep an open alert quiet for 1h, 1d, or until its meter resets
    Snooze {
        id: i64,
        #[arg(long = "for", default_value = "1h", value_name = "1h|1d|reset")]
        duration: String,
    },
    /// The rules, as defaults and per-meter overrides
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Where alerts are delivered: desktop, webhooks, email
    Channels {
        #[command(subcommand)]
        command: ChannelsCommand,
    },
}

// Parsed once per run: the size of the larger variant costs nothing worth boxing for.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
pub enum RulesCommand {
    /// Every rule as it applies: the defaults, then each meter
    List {
        #[arg(long)]
        json: bool,
    },
    /// Change rules; without --meter the change is the default for every meter. Every change
    /// is checked before any is saved; it applies at the next poll
    Set {
        /// A meter as `alerts rules list` names it: SOURCE/METER (or SOURCE when it has one meter)
        #[arg(long)]
        meter: Option<String>,
        /// Alert when less than this percentage of the limit is left
        #[arg(long, value_name = "PERCENT", allow_negative_numbers = true)]
        below_percent: Option<String>,
        /// Alert when less than this amount is left, in the meter's unit
        #[arg(long, value_name = "AMOUNT", allow_negative_numbers = true)]
        below_amount: Option<String>,
        /// Warn when the forecast says it runs out within this, e.g. 72h or 3d
        #[arg(long, value_name = "DURATION")]
        runs_out_within: Option<String>,
        /// Critical when the forecast says it runs out within this, e.g. 24h
        #[arg(long, value_name = "DURATION")]
        critical_within: Option<String>,
        /// Alert after this many failed polls in a row (default only)
        #[arg(long, value_name = "N")]
        failing_polls: Option<String>,
        /// Turn rules on, e.g. --on runaway (repeatable)
        #[arg(long = "on", value_name = "RULE")]
        on: Vec<String>,
        /// Turn rules off (repeatable)
        #[arg(long = "off", value_name = "RULE")]
        off: Vec<String>,
        /// Forget a rule's setting here, so the default (or the built-in) applies (repeatable)
        #[arg(long = "reset", value_name = "RULE")]
        reset: Vec<String>,
        /// Repeat an alert that is still firing this often, e.g. 24h, or off (default only)
        #[arg(long, value_name = "DURATION|off")]
        remind_every: Option<String>,
        /// Hold all but critical alerts during these local hours, e.g. 22:00-07:00, or off
        #[arg(long, value_name = "HH:MM-HH:MM|off")]
        quiet_hours: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum ChannelsCommand {
    List {
        #[arg(long)]
        json: bool,
    },
    /// Add a webhook or an email channel. Secrets are read from an environment variable or
    /// standard input (then kept in the OS keychain), never from the command line
    Add {
        #[command(subcommand)]
        kind: AddChannel,
    },
    Remove {
        name: String,
    },
    /// Send a test notification through the channel now
    Test {
        name: String,
    },
    /// Turn a channel on
    On {
        name: String,
    },
    /// Turn a channel off: alerts are kept but not sent there
    Off {
        name: String,
    },
}

#[derive(Subcommand)]
pub enum AddChannel {
    Webhook {
        #[arg(long)]
        name: String,
        /// slack (also Mattermost, Rocket.Chat), discord, or json (signed with --secret-*)
        #[arg(long, default_value = "json")]
        format: String,
        /// Environment variable holding the webhook URL
        #[arg(long, conflicts_with = "url_stdin")]
        url_env: Option<String>,
        /// Read the webhook URL from standard input and keep it in the OS keychain
        #[arg(long)]
        url_stdin: bool,
        /// Environment variable holding the HMAC-SHA256 signing secret (json format)
        #[arg(long)]
        secret_env: Option<String>,
    },
    Email {
        #[arg(long)]
        name: String,
        #[arg(long)]
        host: String,
        #[arg(long)]
        port: Option<u16>,
        /// starttls (default), tls, or none (plain, for a relay on this machine)
        #[arg(long, default_value = "starttls")]
        security: String,
        #[arg(long)]
        username: Option<String>,
        /// Environment variable holding the SMTP password
        #[arg(long, conflicts_with = "password_stdin")]
        password_env: Option<String>,
        /// Read the SMTP password from standard input and keep it in the OS keychain
        #[arg(long)]
        password_stdin: bool,
        #[arg(long)]
        from: String,
        /// A recipient (repeatable, or comma-separated)
        #[arg(long, required = true)]
        to: Vec<String>,
    },
}

pub async fn run(
    store: &Arc<Store>,
    credentials: &Arc<Credentials>,
    command: AlertsCommand,
) -> Result<()> {
    let now = chrono::Utc::now();
    match command {
        AlertsCommand::Ack { id } => {
            let alert = alert::acknowledge(store, id, now)?;
            println!("Acknowledged alert {id}: {}", alert.message);
        }
        AlertsCommand::Snooze { id, duration } => {
            let duration: SnoozeFor = duration.parse()?;
            let alert = alert::snooze(store, id, duration, now)?;
            let until = alert
                .snoozed_until
                .unwrap_or(now)
                .with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M");
            println!("Snoozed alert {id} until {until}: {}", alert.message);
        }
        AlertsCommand::Rules { command } => rules(store, command)?,
        AlertsCommand::Channels { command } => channels(store, credentials, command).await?,
    }
    Ok(())
}

fn rules(store: &Store, command: RulesCommand) -> Result<()> {
    match command {
        RulesCommand::List { json } => {
            let alert_config::AlertRules {
                settings,
                rules: views,
            } = alert_config::alert_rules(store)?;
            if json {
                let out = serde_json::json!({ "settings": settings, "rules": views });

                println!("{}", serde_json::to_string_pretty(&out)?);
                return Ok(());
            }
            println!(
                "Reminders: {}. Quiet hours: {}.",
                settings
                    .remind_every
                    .map(|e| format!("every {e} while firing"))
                    .unwrap_or_else(|| "off".into()),
                settings.quiet_hours.unwrap_or_else(|| "off".into())
            );
            println!(
                "{:<26} {:<18} {:<9} {:<4} {:<22} FROM",
                "SCOPE", "RULE", "SEVERITY", "ON", "VALUE"
            );
            for v in views {
                println!(
                    "{:<26} {:<18} {:<9} {:<4} {:<22} {}",
                    v.meter.as_deref().unwrap_or("default"),
                    v.rule,
                    v.severity.as_str(),
                    if v.enabled { "yes" } else { "no" },
                    v.value.as_deref().unwrap_or("-"),
                    match v.origin {
                        alert_config::SettingOrigin::BuiltIn => "built-in",
                        alert_config::SettingOrigin::Default => "your default",
                        alert_config::SettingOrigin::Meter => "this meter",
                    }
                );
            }
        }
        RulesCommand::Set {
            meter,
            below_percent,
            below_amount,
            runs_out_within,
            critical_within,
            failing_polls,
            on,
            off,
            reset,
            remind_every,
            quiet_hours,
        } => {
            let meter_id = match meter.as_deref() {
                Some(name) => Some(alert_config::find_meter(store, name)?.id),
                None => None,
            };
            if meter_id.is_some() && (remind_every.is_some() || quiet_hours.is_some()) {
                bail!("reminders and quiet hours apply to every alert; set them without --meter");
            }
            let valued = [
                ("below_percent", below_percent),
                ("below_amount", below_amount),
                ("forecast_warn", runs_out_within),
                ("forecast_critical", critical_within),
                ("source_failing", failing_polls),
            ];
            let mut changes: Vec<RuleChange> = valued
                .into_iter()
                .filter_map(|(rule, value)| {
                    Some(RuleChange {
                        meter_id,
                        rule: rule.into(),
                        value: Some(value?),
                        ..Default::default()
                    })
                })
                .collect();
            let switch = |rule: String, enabled: bool| RuleChange {
                meter_id,
                rule,
                enabled: Some(enabled),
                ..Default::default()
            };
            changes.extend(on.into_iter().map(|r| switch(r, true)));
            changes.extend(off.into_iter().map(|r| switch(r, false)));
            changes.extend(reset.into_iter().map(|rule| RuleChange {
                meter_id,
                rule,
                reset: true,
                ..Default::default()
            }));
            if changes.is_empty() && remind_every.is_none() && quiet_hours.is_none() {
                bail!("nothing to set; see `headroom alerts rules set --help`");
            }
            // Both kinds of change are checked before either is saved.
            alert_config::check_settings(remind_every.as_deref(), quiet_hours.as_deref())?;
            alert_config::apply_rule_changes(store, &changes)?;
            alert_config::apply_settings(store, remind_every.as_deref(), quiet_hours.as_deref())?;
            println!(
                "Saved {} change(s){}. They apply at the next poll.",
                changes.len()
                    + usize::from(remind_every.is_some())
                    + usize::from(quiet_hours.is_some()),
                meter
                    .map(|m| format!(" for {m}"))
                    .unwrap_or_else(|| " to the defaults".into())
            );
        }
    }
    Ok(())
}

async fn channels(
    store: &Arc<Store>,
    credentials: &Arc<Credentials>,
    command: ChannelsCommand,
) -> Result<()> {
    match command {
        ChannelsCommand::List { json } => {
            let channels = channel_setup::list_channels(store)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&channels)?);
                return Ok(());
            }
            println!("{:<16} {:<8} {:<4} WHERE", "NAME", "KIND", "ON");
            for c in channels {
                let on = if c.enabled { "yes" } else { "no" };
                println!("{:<16} {:<8} {:<4} {}", c.name, c.kind, on, c.summary);
            }
        }
        ChannelsCommand::Add { kind } => {
            let request = match kind {
                AddChannel::Webhook {
                    name,
                    format,
                    url_env,
                    url_stdin,
                    secret_env,
                } => ChannelRequest {
                    name,
                    kind: "webhook".into(),
                    format: Some(match format.as_str() {
                        "slack" => WebhookFormat::Slack,
                        "discord" => WebhookFormat::Discord,
                        "json" => WebhookFormat::Json,
                        other => bail!(
                            "there is no webhook format \"{other}\"; choose slack, discord or json"
                        ),
                    }),
                    url: crate::stdin_key(url_stdin)?,
                    url_env,
                    secret_env,
                    ..Default::default()
                },
                AddChannel::Email {
                    name,
                    host,
                    port,
                    security,
                    username,
                    password_env,
                    password_stdin,
                    from,
                    to,
                } => ChannelRequest {
                    name,
                    kind: "email".into(),
                    host: Some(host),
                    port,
                    security: Some(match security.as_str() {
                        "starttls" => SmtpSecurity::Starttls,
                        "tls" => SmtpSecurity::Tls,
                        "none" => SmtpSecurity::None,
                        other => bail!(
                            "there is no SMTP security \"{other}\"; choose starttls, tls or none"
                        ),
                    }),
                    username,
                    password: crate::stdin_key(password_stdin)?,
                    password_env,
                    from: Some(from),
                    to,
                    ..Default::default()
                },
            };
            let view = channel_setup::add_channel(store, credentials, request)?;
            println!("Added channel {}: {}", view.name, view.summary);
        }
        ChannelsCommand::Remove { name } => {
            channel_setup::remove_channel(store, credentials, &name)?;
            println!("Removed channel {name}.");
        }
        ChannelsCommand::On { name } => {
            channel_setup::set_channel_enabled(store, &name, true)?;
            println!("Channel {name} is on.");
        }
        ChannelsCommand::Off { name } => {
            channel_setup::set_channel_enabled(store, &name, false)?;
            println!("Channel {name} is off; alerts are not sent there until it is on again.");
        }
        ChannelsCommand::Test { name } => {
            let Some(channel) = store.channel_by_name(&name)? else {
                bail!("there is no channel named \"{name}\"");
            };
            let dispatcher = Dispatcher::new(Arc::clone(store), Arc::clone(credentials));
            match dispatcher.send_test(&channel).await {
                Ok(()) => println!("Sent a test notification through {name}."),
                Err(error) => bail!("the test notification through {name} failed: {error}"),
            }
        }
    }
    Ok(())
}

/// Prints the alert history.
pub fn print(store: &Store, json: bool) -> Result<()> {
    let alerts = alert::views(store)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&alerts)?);
        return Ok(());
    }
    if alerts.is_empty() {
        println!("No alerts. They appear here after a poll finds something worth knowing.");
        return Ok(());
    }
    println!(
        "{:>4} {:<16} {:<14} {:<18} {:<18} {:<8} {:<12} MESSAGE",
        "ID", "FIRED", "SOURCE", "METER", "RULE", "SEVERITY", "STATE"
    );
    for a in alerts {
        let state = match a.snoozed_until {
            Some(_) => "snoozed",
            None => a.state.as_str(),
        };
        println!(
            "{:>4} {:<16} {:<14} {:<18} {:<18} {:<8} {:<12} {}",
            a.id,
            a.fired_at
                .with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M"),
            a.source,
            a.meter.as_deref().unwrap_or("-"),
            a.rule,
            a.severity.as_str(),
            state,
            a.message
        );
        for d in a.deliveries {
            let detail = match (d.state.as_str(), &d.last_error, d.next_attempt_at) {
                ("pending", _, _) if d.channel_kind == "desktop" => {
                    "shown when the Headroom app is open".to_string()
                }
                ("pending", Some(error), Some(next)) => format!(
                    "retrying at {} after: {error}",
                    next.with_timezone(&chrono::Local).format("%H:%M:%S")
                ),
                ("pending", None, Some(next)) if next > chrono::Utc::now() => format!(
                    "held until {} (quiet hours)",
                    next.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M")
                ),
                ("pending", None, _) => "about to be sent".to_string(),
                (_, Some(error), _) => error.clone(),
                _ => String::new(),
            };
            println!(
                "{:>4}   └ {} notice to {}: {} {}",
                "",
                d.kind.as_str(),
                d.channel,
                d.state.as_str(),
                detail
            );
        }
    }
    Ok(())
}
