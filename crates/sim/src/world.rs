use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};

use crate::faults::Fault;
use crate::model::Curve;
use crate::providers::rate::RateWindow;

/// Everything the request handlers share: every account's curve and the sim's start.
pub(crate) struct World {
    pub curves: Vec<Curve>,
    pub started_at: DateTime<Utc>,
    next_id: AtomicU64,
    /// Misbehaviour asked for through `POST /__sim/faults`, by account name.
    faults: Mutex<HashMap<String, Fault>>,
    /// Each account's current rate-limit window, by account name.
    rate_windows: Mutex<HashMap<String, RateWindow>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyKind {
    Inference,
    Management,
}

impl World {
    pub fn new(curves: Vec<Curve>, started_at: DateTime<Utc>) -> Self {
        Self {
            curves,
            started_at,
            next_id: AtomicU64::new(1),
            faults: Mutex::new(HashMap::new()),
            rate_windows: Mutex::new(HashMap::new()),
        }
    }

    pub fn by_name(&self, name: &str) -> Option<&Curve> {
        self.curves.iter().find(|c| c.spec.name == name)
    }

    /// Only `provider`'s accounts are searched: a real service has never heard of another
    /// provider's keys, so they must be refused the way that service refuses unknown keys.
    pub fn by_key(&self, provider: &str, key: &str) -> Option<(&Curve, KeyKind)> {
        self.curves
            .iter()
            .filter(|c| c.spec.provider == provider)
            .find_map(|c| {
                if c.spec.key == key {
                    Some((c, KeyKind::Inference))
                } else if c.spec.management_key.as_deref() == Some(key) {
                    Some((c, KeyKind::Management))
                } else {
                    None
                }
            })
    }

    /// Sets (or with [`Fault::None`] clears) an account's fault; false for an unknown account.
    pub fn set_fault(&self, account: &str, fault: Fault) -> bool {
        if self.by_name(account).is_none() {
            return false;
        }
        let mut faults = lock(&self.faults);
        match fault {
            Fault::None => faults.remove(account),
            fault => faults.insert(account.to_string(), fault),
        };
        true
    }

    /// The fault of the account that presented one of `credentials`, if it has one.
    pub fn fault_for(&self, credentials: &[&str]) -> Option<Fault> {
        let faults = lock(&self.faults);
        if faults.is_empty() {
            return None;
        }
        self.curves
            .iter()
            .filter(|c| {
                credentials.iter().any(|presented| {
                    c.spec.key == *presented || c.spec.management_key.as_deref() == Some(presented)
                })
            })
            .find_map(|c| faults.get(&c.spec.name).copied())
    }

    /// Counts one request of `tokens` against the account's rate-limit window and returns the
    /// window as it stands after it.
    pub fn count_request(&self, account: &str, tokens: u64, at: DateTime<Utc>) -> RateWindow {
        let mut windows = lock(&self.rate_windows);
        let window = windows
            .entry(account.to_string())
            .or_insert_with(|| RateWindow::starting(at));
        if at >= window.ends_at() {
            *window = RateWindow::starting(at);
        }
        window.requests += 1;
        window.tokens += tokens;
        *window
    }

    /// Distinct ids for generated completions.
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }
}

/// A handler that panicked mid-update leaves plain counters behind, still fine to use.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
