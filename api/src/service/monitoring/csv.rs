//! The monitoring answers as CSV (RFC 4180), for spreadsheets and the reports that go up
//! the chain (pendamping → kabupaten → provinsi → pusat).

use super::agents::AgentActivity;
use super::complaints::{ComplaintFigures, P2k2Attendance};
use super::families::{FamilyList, FamilyPage};
use super::graduations::Graduations;
use super::indicators::{Indicators, SavingsTransfer};
use super::overview::Overview;
use super::{PocketFigures, RegionFigures};

/// An answer that can be written as one CSV table, header first.
pub trait CsvExport {
    fn header(&self) -> &'static [&'static str];
    fn rows(&self) -> Vec<Vec<String>>;

    fn to_csv(&self) -> String {
        let mut text = line(self.header().iter().map(|name| (*name).to_owned()));
        for row in self.rows() {
            text.push_str(&line(row));
        }
        text
    }
}

/// One CSV line: fields quoted when they need it. A text field that a spreadsheet would
/// run as a formula (`=`, `+`, `@`, or `-` not starting a number) gets a leading `'`.
/// Every CSV the server writes goes through it (the monitoring exports, the PIN mailer).
pub(crate) fn line(fields: impl IntoIterator<Item = String>) -> String {
    let fields: Vec<String> = fields.into_iter().map(|field| quote(&defuse(field))).collect();
    format!("{}\r\n", fields.join(","))
}

fn defuse(field: String) -> String {
    let formula = match field.chars().next() {
        Some('=' | '+' | '@' | '\t' | '\r') => true,
        Some('-') => field.parse::<rust_decimal::Decimal>().is_err(),
        _ => false,
    };
    if formula {
        format!("'{field}")
    } else {
        field
    }
}

fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

fn pocket_row(figures: &RegionFigures, pocket: &PocketFigures) -> Vec<String> {
    vec![
        pocket.pocket.to_string(),
        pocket.programme.map(|programme| programme.to_string()).unwrap_or_default(),
        figures.families.total.to_string(),
        pocket.credited.amount.to_string(),
        pocket.credited.families.to_string(),
        pocket.moved_to_savings.amount.to_string(),
        pocket.moved_to_savings.families.to_string(),
        pocket.received_from_wallets.amount.to_string(),
        pocket.withdrawn_in_cash.amount.to_string(),
        pocket.withdrawn_in_cash.families.to_string(),
        pocket.spent_on_goods.amount.to_string(),
        pocket.spent_on_goods.families.to_string(),
        pocket.returned_to_treasury.amount.to_string(),
        pocket.returned_to_treasury.families.to_string(),
        pocket.adjusted.amount.to_string(),
        pocket.absorbed.to_string(),
        pocket.absorbed_percent.map(|share| share.to_string()).unwrap_or_default(),
        pocket.balance.to_string(),
        pocket.held.to_string(),
        pocket.available.to_string(),
    ]
}

/// The region's total first (code `all` for the country), then each sub-region; one row
/// per pocket.
impl CsvExport for Overview {
    fn header(&self) -> &'static [&'static str] {
        &[
            "region",
            "name",
            "level",
            "pocket",
            "programme",
            "families",
            "credited",
            "credited_families",
            "moved_to_savings",
            "moved_to_savings_families",
            "received_from_wallets",
            "withdrawn_in_cash",
            "withdrawn_in_cash_families",
            "spent_on_goods",
            "spent_on_goods_families",
            "returned_to_treasury",
            "returned_to_treasury_families",
            "adjusted",
            "absorbed",
            "absorbed_percent",
            "balance",
            "held",
            "available",
        ]
    }

    fn rows(&self) -> Vec<Vec<String>> {
        let (code, name, level) = match &self.region {
            Some(region) => (region.code.clone(), region.name.clone(), region.level.clone()),
            None => ("all".to_owned(), "Indonesia".to_owned(), "national".to_owned()),
        };
        let mut rows = Vec::new();
        let mut push = |code: &str, name: &str, level: &str, figures: &RegionFigures| {
            for pocket in &figures.pockets {
                let mut row = vec![code.to_owned(), name.to_owned(), level.to_owned()];
                row.extend(pocket_row(figures, pocket));
                rows.push(row);
            }
        };
        push(&code, &name, &level, &self.figures);
        for child in &self.children {
            push(&child.region.code, &child.region.name, &child.region.level, &child.figures);
        }
        rows
    }
}

impl CsvExport for FamilyList {
    fn header(&self) -> &'static [&'static str] {
        &[
            "id",
            "nik",
            "recipient_name",
            "village",
            "category",
            "status",
            "credited",
            "absorbed",
            "withdrawn_in_cash",
            "balance",
        ]
    }

    fn rows(&self) -> Vec<Vec<String>> {
        self.families
            .iter()
            .map(|family| {
                vec![
                    family.id.to_string(),
                    family.nik.clone(),
                    family.recipient_name.clone(),
                    family.village.clone(),
                    family.category.to_string(),
                    family.status.to_string(),
                    family.credited.to_string(),
                    family.absorbed.to_string(),
                    family.withdrawn_in_cash.to_string(),
                    family.balance.to_string(),
                ]
            })
            .collect()
    }
}

/// The family's timeline, newest first.
impl CsvExport for FamilyPage {
    fn header(&self) -> &'static [&'static str] {
        &["family_id", "at", "event", "pocket", "flow", "amount", "balance_after", "detail"]
    }

    fn rows(&self) -> Vec<Vec<String>> {
        let text = |value: Option<String>| value.unwrap_or_default();
        self.timeline
            .iter()
            .map(|entry| {
                vec![
                    self.family.id.to_string(),
                    entry.at.to_string(),
                    entry.event.to_string(),
                    text(entry.pocket.map(|pocket| pocket.to_string())),
                    text(entry.flow.map(|flow| flow.to_string())),
                    text(entry.amount.map(|amount| amount.to_string())),
                    text(entry.balance_after.map(|amount| amount.to_string())),
                    entry.detail.clone(),
                ]
            })
            .collect()
    }
}

/// One measure per row: `indicator, subject, measure, value`.
impl CsvExport for Indicators {
    fn header(&self) -> &'static [&'static str] {
        &["indicator", "subject", "measure", "value"]
    }

    fn rows(&self) -> Vec<Vec<String>> {
        let mut rows = Vec::new();
        let mut push = |indicator: &str, subject: String, measure: &str, value: String| {
            rows.push(vec![indicator.to_owned(), subject, measure.to_owned(), value]);
        };
        let share = |value: Option<rust_decimal::Decimal>| value.map(|share| share.to_string()).unwrap_or_default();
        for stage in &self.stages {
            let subject = format!("{} {}-{}", stage.programme, stage.year, stage.period);
            push("stage", subject.clone(), "families_paid", stage.families_paid.to_string());
            push("stage", subject.clone(), "families_failed", stage.families_failed.to_string());
            push("stage", subject.clone(), "paid_on_time", stage.paid_on_time.to_string());
            push("stage", subject.clone(), "paid_right_amount", stage.paid_right_amount.to_string());
            push("stage", subject.clone(), "amount_paid", stage.amount_paid.to_string());
            push("stage", subject.clone(), "on_time_percent", share(stage.on_time_percent));
            push("stage", subject, "right_amount_percent", share(stage.right_amount_percent));
        }
        let mut transfer = |subject: String, transfer: &SavingsTransfer| {
            push("savings_transfer", subject.clone(), "families_credited", transfer.families_credited.to_string());
            push("savings_transfer", subject.clone(), "families_moved", transfer.families_moved.to_string());
            push("savings_transfer", subject, "percent", share(transfer.percent));
        };
        transfer("total".to_owned(), &self.savings_transfer);
        for region in &self.savings_transfer_by_region {
            transfer(format!("region {}", region.region.code), &region.transfer);
        }
        for area in &self.savings_transfer_by_facilitator {
            transfer(format!("facilitator {} {}", area.facilitator.id, area.facilitator.name), &area.transfer);
        }
        for cycle in &self.verifications {
            push("verification", cycle.cycle.clone(), "complied", cycle.complied.to_string());
            push("verification", cycle.cycle.clone(), "failed", cycle.failed.to_string());
            for (obligation, families) in &cycle.failed_by_obligation {
                push("verification", cycle.cycle.clone(), &format!("failed_{obligation}"), families.to_string());
            }
        }
        for cycle in &self.cycle_outcomes {
            push("cycle_outcome", cycle.cycle.clone(), "suspended", cycle.suspended.to_string());
            push("cycle_outcome", cycle.cycle.clone(), "released", cycle.released.to_string());
            push("cycle_outcome", cycle.cycle.clone(), "terminated", cycle.terminated.to_string());
            push("cycle_outcome", cycle.cycle.clone(), "unchanged", cycle.unchanged.to_string());
        }
        let families = &self.families;
        for (measure, value) in [
            ("total", families.total),
            ("active", families.active),
            ("suspended", families.suspended),
            ("terminated", families.terminated),
            ("graduated", families.graduated),
        ] {
            push("families", "status".to_owned(), measure, value.to_string());
        }
        for (reason, families) in &self.exits_by_reason {
            push("exits", "reason".to_owned(), reason, families.to_string());
        }
        for (category, tally) in &self.complaints_by_category {
            for (measure, value) in tally.measures() {
                push("complaints", category.clone(), measure, value.to_string());
            }
        }
        for (module, attendance) in &self.p2k2_by_module {
            push("p2k2", module.clone(), "sessions", attendance.sessions.to_string());
            push("p2k2", module.clone(), "attendances", attendance.attendances.to_string());
        }
        rows
    }
}

/// One region and category per row.
impl CsvExport for ComplaintFigures {
    fn header(&self) -> &'static [&'static str] {
        &["region", "category", "received", "handled", "open", "overdue"]
    }

    fn rows(&self) -> Vec<Vec<String>> {
        self.lines
            .iter()
            .map(|line| {
                let mut row = vec![line.region.clone().unwrap_or_default(), line.category.to_string()];
                row.extend(line.tally.measures().into_iter().map(|(_, value)| value.to_string()));
                row
            })
            .collect()
    }
}

/// One module per row.
impl CsvExport for P2k2Attendance {
    fn header(&self) -> &'static [&'static str] {
        &["module", "sessions", "attendances"]
    }

    fn rows(&self) -> Vec<Vec<String>> {
        self.by_module
            .iter()
            .map(|(module, attendance)| {
                vec![module.clone(), attendance.sessions.to_string(), attendance.attendances.to_string()]
            })
            .collect()
    }
}

/// The seed's "Monitoring KPM graduasi" form, one family per row.
impl CsvExport for Graduations {
    fn header(&self) -> &'static [&'static str] {
        &[
            "no",
            "facilitator",
            "district",
            "village",
            "recipient_name",
            "year_in",
            "year_out",
            "reason",
            "note",
            "kind",
            "non_cash_continues",
            "family_id",
        ]
    }

    fn rows(&self) -> Vec<Vec<String>> {
        let facilitator = self.facilitator.as_ref().map(|area| area.name.clone()).unwrap_or_default();
        self.exits
            .iter()
            .zip(1..)
            .map(|(exit, number): (_, u64)| {
                vec![
                    number.to_string(),
                    facilitator.clone(),
                    exit.district.clone(),
                    exit.village.clone(),
                    exit.recipient_name.clone(),
                    exit.year_in.to_string(),
                    exit.year_out.to_string(),
                    exit.reason_wording.clone(),
                    exit.note.clone(),
                    exit.kind.to_string(),
                    exit.non_cash_continues.to_string(),
                    exit.family_id.to_string(),
                ]
            })
            .collect()
    }
}

impl CsvExport for AgentActivity {
    fn header(&self) -> &'static [&'static str] {
        &[
            "day",
            "agent_id",
            "username",
            "display_name",
            "village",
            "transactions",
            "cash_withdrawals",
            "cash_out",
            "purchases",
            "goods_sold",
        ]
    }

    fn rows(&self) -> Vec<Vec<String>> {
        self.agents
            .iter()
            .map(|agent| {
                vec![
                    self.day.to_string(),
                    agent.agent_id.to_string(),
                    agent.username.clone(),
                    agent.display_name.clone(),
                    agent.village.clone(),
                    agent.transactions.to_string(),
                    agent.cash_withdrawals.to_string(),
                    agent.cash_out.to_string(),
                    agent.purchases.to_string(),
                    agent.goods_sold.to_string(),
                ]
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_needed_and_formulas_are_defused() {
        let text = line([
            "Siti, Aminah".to_owned(),
            "say \"hi\"".to_owned(),
            "=1+1".to_owned(),
            "-150000.00".to_owned(),
            "-x".to_owned(),
        ]);
        assert_eq!(text, "\"Siti, Aminah\",\"say \"\"hi\"\"\",'=1+1,-150000.00,'-x\r\n");
    }
}
