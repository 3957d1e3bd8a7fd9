use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};

use crate::model::Curve;

/// Everything the request handlers share: every account's curve and the sim's start.
pub(crate) struct World {
    pub curves: Vec<Curve>,
    pub started_at: DateTime<Utc>,
    next_id: AtomicU64,
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

    /// Distinct ids for generated completions.
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }
}
