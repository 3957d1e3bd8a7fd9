//! Sending what the alert engine queued: each pending notice goes to its channel, is marked
//! sent once the channel took it, and is retried with backoff while it cannot get through.
//!
//! The outbox lives in SQLite, so a notice queued before a crash goes out after the restart. A
//! notice is claimed with a short lease before it is sent, so two processes on one database
//! (the app and `headroom poll`) never both send it.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use super::channels::{
    email, webhook, ChannelConfig, Notice, NoticeKind, SendError, WebhookFormat,
};
use crate::credentials::Credentials;
use crate::scheduler::PollReport;
use crate::store::{ChannelRow, DeliveryKind, DeliveryRow, Severity, Store, StoreError};

/// How long a claimed notice is reserved for the process sending it.
const LEASE: Duration = Duration::seconds(60);
/// Retrying stops after this; the notice is then marked failed with the last error.
const GIVE_UP_AFTER: Duration = Duration::hours(48);
/// A desktop notice no app was open to show is not news any more after this.
const DESKTOP_STALE_AFTER: Duration = Duration::hours(12);
/// More notices than this for one channel at once (the first poll of a new install, a
/// provider outage) go out as one notice listing them, so nobody gets a wall of popups.
const MAX_SEPARATE: usize = 3;
/// The dispatcher looks at the outbox at least this often, even with nothing due.
const IDLE_CHECK: std::time::Duration = std::time::Duration::from_secs(30);

/// Shows a notice on this computer's desktop. The shell implements it; the core has no
/// desktop of its own.
pub trait DesktopNotifier: Send + Sync {
    fn notify(&self, notice: &Notice) -> Result<(), String>;
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DispatchReport {
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
}

pub struct Dispatcher {
    store: Arc<Store>,
    credentials: Arc<Credentials>,
    http: reqwest::Client,
    desktop: Option<Arc<dyn DesktopNotifier>>,
}

impl Dispatcher {
    pub fn new(store: Arc<Store>, credentials: Arc<Credentials>) -> Self {
        Self {
            store,
            credentials,
            http: webhook::webhook_client(),
            desktop: None,
        }
    }

    /// Desktop notices are sent only by a dispatcher that has a desktop.
    pub fn with_desktop(mut self, desktop: Arc<dyn DesktopNotifier>) -> Self {
        self.desktop = Some(desktop);
        self
    }

    /// Sends every notice whose time has come.
    pub async fn dispatch_due(&self) -> Result<DispatchReport, StoreError> {
        self.dispatch_at(Utc::now()).await
    }

    /// Sends every notice due by `now`.
    pub async fn dispatch_at(&self, now: DateTime<Utc>) -> Result<DispatchReport, StoreError> {
        let mut report = DispatchReport::default();
        let channels: HashMap<i64, ChannelRow> = self
            .store
            .list_channels()?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        // Claimed notices per channel, in order, so that a burst to one channel can be one notice.
        let mut claimed: Vec<(i64, ChannelConfig, Vec<DeliveryRow>)> = Vec::new();
        for delivery in self.store.pending_deliveries()? {
            if delivery.due_at() > now {
                continue;
            }
            let Some(channel) = channels.get(&delivery.channel_id) else {
                continue;
            };
            if !channel.enabled {
                self.store
                    .drop_delivery(delivery.id, "the channel was turned off")?;
                continue;
            }
            let config: ChannelConfig = match serde_json::from_str(&channel.config) {
                Ok(config) => config,
                Err(error) => {
                    let why = format!("the channel's settings cannot be read ({error}); remove it and add it again");
                    self.store.mark_delivery_failed(delivery.id, &why, None)?;
                    report.failed += 1;
                    continue;
                }
            };
            if matches!(config, ChannelConfig::Desktop) && self.desktop.is_none() {
                if now - delivery.created_at > DESKTOP_STALE_AFTER {
                    self.store.drop_delivery(
                        delivery.id,
                        "no desktop was open to show it while it was news",
                    )?;
                }
                continue;
            }
            if !self.store.claim_delivery(delivery.id, now, LEASE)? {
                continue;
            }
            match claimed.iter_mut().find(|(id, _, _)| *id == channel.id) {
                Some((_, _, rows)) => rows.push(delivery),
                None => claimed.push((channel.id, config, vec![delivery])),
            }
        }
        for (channel_id, config, rows) in claimed {
            let name = channels.get(&channel_id).map_or("", |c| c.name.as_str());
            let notices = rows
                .iter()
                .map(|d| self.notice(d))
                .collect::<Result<Vec<Notice>, StoreError>>()?;
            let batches: Vec<(Notice, Vec<&DeliveryRow>)> =
                if notices.len() > MAX_SEPARATE && bundles(&config) {
                    vec![(bundle(&notices), rows.iter().collect())]
                } else {
                    notices
                        .into_iter()
                        .zip(rows.iter().map(|r| vec![r]))
                        .collect()
                };
            for (notice, covered) in batches {
                let result = self.send(&config, &notice).await;
                for delivery in covered {
                    match &result {
                        Ok(()) => {
                            self.store.mark_delivery_sent(delivery.id, now)?;
                            report.sent += 1;
                        }
                        Err(error) => {
                            let retry_at = retry_at(delivery, now);
                            if retry_at.is_some() {
                                report.retrying += 1;
                            } else {
                                report.failed += 1;
                            }
                            self.store.mark_delivery_failed(
                                delivery.id,
                                &error.to_string(),
                                retry_at,
                            )?;
                        }
                    }
                }
                if let Err(error) = result {
                    tracing::warn!(channel = %name, %error, "alert notice not delivered");
                }
            }
        }
        Ok(report)
    }

    /// Sends `notice` through one channel, resolving its secrets first.
    pub async fn send(&self, config: &ChannelConfig, notice: &Notice) -> Result<(), SendError> {
        let secret = |reference: &str| {
            self.credentials
                .resolve(reference)
                .map_err(|e| SendError(format!("the channel's secret is not available: {e}")))
        };
        match config {
            ChannelConfig::Desktop => {
                let Some(desktop) = self.desktop.clone() else {
                    return Err(SendError(
                        "desktop notifications need the Headroom app; this is the command line"
                            .into(),
                    ));
                };
                let notice = notice.clone();
                tokio::task::spawn_blocking(move || desktop.notify(&notice))
                    .await
                    .map_err(|e| SendError(e.to_string()))?
                    .map_err(SendError)
            }
            ChannelConfig::Webhook {
                format,
                url_ref,
                secret_ref,
                ..
            } => {
                let url = secret(url_ref)?;
                let signing = secret_ref.as_deref().map(secret).transpose()?;
                webhook::send_webhook(&self.http, *format, &url, signing.as_deref(), notice).await
            }
            ChannelConfig::Email { password_ref, .. } => {
                let password = password_ref.as_deref().map(secret).transpose()?;
                email::send_email(config, password.as_deref(), notice).await
            }
        }
    }

    /// Sends a test notice through the named channel at once, outside the outbox.
    pub async fn send_test(&self, channel: &ChannelRow) -> Result<(), SendError> {
        let config: ChannelConfig = serde_json::from_str(&channel.config)
            .map_err(|e| SendError(format!("the channel's settings cannot be read ({e})")))?;
        let notice = Notice {
            delivery_id: 0,
            kind: NoticeKind::Test,
            severity: Severity::Warn,
            title: "Headroom test notification".into(),
            body: format!(
                "This is a test from Headroom. Alerts will reach you here through the \"{}\" channel.",
                channel.name
            ),
            source: "headroom".into(),
            meter: None,
            rule: "test".into(),
            alert_id: None,
            meter_id: None,
            at: Utc::now(),
        };
        self.send(&config, &notice).await
    }

    /// What one queued notice says, in words, from the alert it is about.
    fn notice(&self, delivery: &DeliveryRow) -> Result<Notice, StoreError> {
        let alert = match delivery.alert_id {
            Some(id) => Some(self.store.alert(id)?),
            None => None,
        };
        let source = match &alert {
            Some(a) => self.store.source_by_id(a.source_id)?.name,
            None => "headroom".into(),
        };
        let meter = match alert.as_ref().and_then(|a| a.meter_id) {
            Some(id) => Some(self.store.meter(id)?.label),
            None => None,
        };
        let subject = match &meter {
            Some(meter) => format!("{source} {meter}"),
            None => source.clone(),
        };
        let (rule, severity, body) = match &alert {
            Some(a) => (a.rule.clone(), a.severity, a.message.clone()),
            None => ("test".into(), Severity::Warn, String::new()),
        };
        let what = rule_in_words(&rule);
        let (kind, title) = match delivery.kind {
            DeliveryKind::Fired => (NoticeKind::Fired, format!("{subject}: {what}")),
            DeliveryKind::Reminder => (NoticeKind::Reminder, format!("Still {what}: {subject}")),
            DeliveryKind::Resolved => (
                NoticeKind::Resolved,
                format!("Resolved: {subject} no longer {what}"),
            ),
        };
        Ok(Notice {
            delivery_id: delivery.id,
            kind,
            severity,
            title,
            body,
            source,
            meter,
            rule,
            alert_id: delivery.alert_id,
            meter_id: alert.as_ref().and_then(|a| a.meter_id),
            at: delivery.created_at,
        })
    }

    /// Sends due notices now and then whenever a poll lands, a retry comes due, or at least every
    /// half minute, until the poller goes away.
    pub fn spawn(self: Arc<Self>, mut polls: broadcast::Receiver<PollReport>) -> JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                if let Err(error) = self.dispatch_due().await {
                    tracing::warn!(%error, "the alert outbox could not be read");
                }
                let wait = self.next_wait().unwrap_or(IDLE_CHECK);
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    update = polls.recv() => {
                        if matches!(update, Err(broadcast::error::RecvError::Closed)) {
                            return;
                        }
                    }
                }
            }
        })
    }

    /// How long until the next notice this dispatcher can send is due.
    fn next_wait(&self) -> Option<std::time::Duration> {
        let channels: HashMap<i64, ChannelRow> = self
            .store
            .list_channels()
            .ok()?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let sendable = |d: &DeliveryRow| {
            channels
                .get(&d.channel_id)
                .is_some_and(|c| self.desktop.is_some() || c.kind != "desktop")
        };
        let next = self
            .store
            .pending_deliveries()
            .ok()?
            .into_iter()
            .filter(sendable)
            .map(|d| d.due_at())
            .min()?;
        let wait = (next - Utc::now()).to_std().unwrap_or_default();
        Some(wait.clamp(std::time::Duration::from_millis(50), IDLE_CHECK))
    }
}

/// Machines read JSON webhooks one alert at a time; people read everything else.
fn bundles(config: &ChannelConfig) -> bool {
    !matches!(
        config,
        ChannelConfig::Webhook {
            format: WebhookFormat::Json,
            ..
        }
    )
}

/// One notice standing for several: the worst severity, each title on a line.
fn bundle(notices: &[Notice]) -> Notice {
    const LISTED: usize = 6;
    let mut lines: Vec<String> = notices
        .iter()
        .take(LISTED)
        .map(|n| n.title.clone())
        .collect();
    if notices.len() > LISTED {
        lines.push(format!("and {} more", notices.len() - LISTED));
    }
    let first = &notices[0];
    Notice {
        // Receivers that drop repeats key on this: the first notice's id stands for the bundle.
        delivery_id: first.delivery_id,
        kind: NoticeKind::Fired,
        severity: notices
            .iter()
            .map(|n| n.severity)
            .max()
            .unwrap_or(first.severity),
        title: format!("Headroom: {} alerts", notices.len()),
        body: lines.join("\n"),
        source: "headroom".into(),
        meter: None,
        rule: "several".into(),
        alert_id: None,
        meter_id: None,
        at: first.at,
    }
}

/// Backoff after a failed attempt: 10 s doubling to a 15-minute ceiling, with jitter so that
/// many notices to one dead receiver do not all knock at once; `None` once it is too late.
fn retry_at(delivery: &DeliveryRow, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if now - delivery.created_at > GIVE_UP_AFTER {
        return None;
    }
    let attempts = (delivery.attempts + 1).min(16);
    let base = (10_i64 << (attempts - 1).min(10)).min(15 * 60);
    let jitter = 0.8 + fastrand::f64() * 0.4;
    Some(now + Duration::milliseconds((base as f64 * 1000.0 * jitter) as i64))
}

fn rule_in_words(rule: &str) -> &'static str {
    match rule {
        "below_percent" | "below_amount" => "running low",
        "forecast_warn" => "forecast to run out soon",
        "forecast_critical" => "forecast to run out within a day",
        "runaway" => "spending at a runaway rate",
        "exhausted" => "empty",
        "source_failing" => "failing to poll",
        "payment_refused" => "refusing requests for payment",
        _ => "alerting",
    }
}
