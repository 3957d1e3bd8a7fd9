//! The `alert_rules` table: the person's changes to the built-in alert rules, as defaults for
//! every meter (`meter_id` NULL) or overrides for one meter. A rule with no row keeps its
//! built-in setting, so a new Headroom can improve a default nobody chose to change.

use rusqlite::{params, Row};

use super::{Result, Store};

pub(super) const V1: &str = "
CREATE TABLE alert_rules (
    id INTEGER PRIMARY KEY,
    meter_id INTEGER REFERENCES meters(id) ON DELETE CASCADE,
    rule TEXT NOT NULL,
    value TEXT,
    enabled INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX alert_rules_one_per_scope ON alert_rules (IFNULL(meter_id, 0), rule);";

/// One stored setting of one rule. `value` is the rule's own text form (a percentage, an
/// amount, a number of seconds, a count); `None` keeps the value of the wider scope.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleSetting {
    pub meter_id: Option<i64>,
    pub rule: String,
    pub value: Option<String>,
    pub enabled: bool,
}

impl RuleSetting {
    fn from_row(row: &Row) -> rusqlite::Result<Self> {
        Ok(Self {
            meter_id: row.get(0)?,
            rule: row.get(1)?,
            value: row.get(2)?,
            enabled: row.get(3)?,
        })
    }
}

impl Store {
    pub fn rule_settings(&self) -> Result<Vec<RuleSetting>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT meter_id, rule, value, enabled FROM alert_rules
             ORDER BY IFNULL(meter_id, 0), rule",
        )?;
        let rows = stmt.query_map([], RuleSetting::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Saves every setting or none: a list of changes checked as a whole lands as a whole.
    pub fn save_rule_settings(&self, settings: &[RuleSetting]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for s in settings {
            tx.execute(
                "DELETE FROM alert_rules WHERE IFNULL(meter_id, 0) = IFNULL(?1, 0) AND rule = ?2",
                params![s.meter_id, s.rule],
            )?;
            tx.execute(
                "INSERT INTO alert_rules (meter_id, rule, value, enabled) VALUES (?1, ?2, ?3, ?4)",
                params![s.meter_id, s.rule, s.value, s.enabled],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Forgets a rule's setting in one scope, so the wider scope (or the built-in) applies.
    pub fn clear_rule_setting(&self, meter_id: Option<i64>, rule: &str) -> Result<()> {
        self.conn().execute(
            "DELETE FROM alert_rules WHERE IFNULL(meter_id, 0) = IFNULL(?1, 0) AND rule = ?2",
            params![meter_id, rule],
        )?;
        Ok(())
    }
}
