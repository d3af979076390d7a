//! The dashboard's money figures, rolled up from the journal: one definition for both
//! backends, applied off the card transaction's path by a background pass (issue 22).
//! A posting on a family's pocket counts in the flows of the family's village and of every
//! region above it, per business day (WIB) and all days together, and in the family's own
//! flow; a posting on an agent's settlement account counts in the agent's day. A flow's
//! kind is its journal's kind, or for a reversal the kind of the journal it reverses, so
//! that the two net to nothing; a reversal takes one entry back.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, NaiveDateTime};

use super::auth::RegionCode;
use super::edc::business_date;
use super::ledger::{AccountKind, JournalKind};

/// Whose account a rolled-up posting moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostingOwner {
    Family { family_id: i64, village: RegionCode },
    Agent { agent_id: i64 },
}

/// One posting on a family's pocket or an agent's account, as the roll-up reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolledPosting {
    pub owner: PostingOwner,
    pub pocket: AccountKind,
    /// The journal's kind, or for a reversal the kind of the journal it reverses.
    pub flow_kind: JournalKind,
    pub is_reversal: bool,
    pub posted_at: NaiveDateTime,
    /// Signed as posted: credits positive.
    pub amount_minor: i64,
}

/// An amount and how many postings made it (a reversal counting −1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sums {
    pub amount_minor: i64,
    pub entries: i64,
}

impl Sums {
    /// Adds the posting (`sign` 1) or takes it away (−1).
    fn add(&mut self, posting: &RolledPosting, sign: i64) {
        self.amount_minor += sign * posting.amount_minor;
        self.entries += sign * if posting.is_reversal { -1 } else { 1 };
    }
}

/// A flow of a family pocket in a region.
pub type RegionFlowKey = (RegionCode, AccountKind, JournalKind);
/// A family's own flow.
pub type FamilyFlowKey = (i64, AccountKind, JournalKind);

/// What a batch of postings adds to each aggregate. Keys are sorted, so that two passes
/// touch rows in the same order.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rollup {
    pub daily_flows: BTreeMap<(RegionCode, AccountKind, JournalKind, NaiveDate), Sums>,
    pub flow_totals: BTreeMap<RegionFlowKey, Sums>,
    pub family_flows: BTreeMap<FamilyFlowKey, Sums>,
    pub agent_days: BTreeMap<(NaiveDate, i64, JournalKind), Sums>,
    /// The village of each family with a posting, for the reach.
    villages: HashMap<i64, RegionCode>,
}

/// A village and every region above it: `32.04.12.2001`, `32.04.12`, `32.04`, `32`.
pub fn regions_of(village: &RegionCode) -> impl Iterator<Item = RegionCode> {
    std::iter::successors(Some(village.clone()), RegionCode::parent)
}

impl Rollup {
    pub fn add(&mut self, posting: &RolledPosting) {
        self.count(posting, 1);
    }

    /// Takes a posting counted before away again: a family that moves takes its figures
    /// from its old village's regions ([`family_move`]).
    pub fn subtract(&mut self, posting: &RolledPosting) {
        self.count(posting, -1);
    }

    fn count(&mut self, posting: &RolledPosting, sign: i64) {
        let day = business_date(posting.posted_at);
        match &posting.owner {
            PostingOwner::Family { family_id, village } => {
                for region in regions_of(village) {
                    self.daily_flows
                        .entry((region.clone(), posting.pocket, posting.flow_kind, day))
                        .or_default()
                        .add(posting, sign);
                    self.flow_totals.entry((region, posting.pocket, posting.flow_kind)).or_default().add(posting, sign);
                }
                self.family_flows
                    .entry((*family_id, posting.pocket, posting.flow_kind))
                    .or_default()
                    .add(posting, sign);
                self.villages.insert(*family_id, village.clone());
            }
            PostingOwner::Agent { agent_id } => {
                self.agent_days.entry((day, *agent_id, posting.flow_kind)).or_default().add(posting, sign);
            }
        }
    }

    /// The families this batch moved money for.
    pub fn families(&self) -> Vec<i64> {
        let mut families: Vec<i64> = self.villages.keys().copied().collect();
        families.sort_unstable();
        families
    }

    /// How many more (or fewer) families of each region have a non-zero net flow after
    /// this batch: a family starts counting when its flow leaves zero and stops when it
    /// returns there. `before` is each family flow's amount before the batch (absent: 0).
    pub fn reach_changes(&self, before: &HashMap<FamilyFlowKey, i64>) -> BTreeMap<RegionFlowKey, i64> {
        let mut changes: BTreeMap<RegionFlowKey, i64> = BTreeMap::new();
        for (key, sums) in &self.family_flows {
            let was = before.get(key).copied().unwrap_or(0);
            let change = i64::from(was + sums.amount_minor != 0) - i64::from(was != 0);
            let (family_id, pocket, kind) = *key;
            if change == 0 {
                continue;
            }
            let Some(village) = self.villages.get(&family_id) else { continue };
            for region in regions_of(village) {
                *changes.entry((region, pocket, kind)).or_default() += change;
            }
        }
        changes.retain(|_, change| *change != 0);
        changes
    }
}

/// What a family's move from one village to another does to the figures: every posting
/// of its counted so far leaves the old village's regions for the new one's, and each
/// flow it is counted in the reach of (`reached`, its non-zero flows) moves with it. Its
/// own flows stay as they are. `postings` are the family's, at its old village `from`.
pub fn family_move(
    postings: &[RolledPosting],
    from: &RegionCode,
    to: &RegionCode,
    reached: &[(AccountKind, JournalKind)],
) -> (Rollup, BTreeMap<RegionFlowKey, i64>) {
    let mut rollup = Rollup::default();
    for posting in postings {
        rollup.subtract(posting);
        let mut moved = posting.clone();
        if let PostingOwner::Family { village, .. } = &mut moved.owner {
            *village = to.clone();
        }
        rollup.add(&moved);
    }
    // Taken away and added again: the family's own flows are unchanged.
    rollup.family_flows.clear();
    rollup.villages.clear();
    let mut reach: BTreeMap<RegionFlowKey, i64> = BTreeMap::new();
    for &(pocket, kind) in reached {
        for region in regions_of(from) {
            *reach.entry((region, pocket, kind)).or_default() -= 1;
        }
        for region in regions_of(to) {
            *reach.entry((region, pocket, kind)).or_default() += 1;
        }
    }
    reach.retain(|_, change| *change != 0);
    (rollup, reach)
}

/// Where the roll-up may move its watermark to: past every journal id it has rolled up in
/// order, and past an id that is missing (a transaction that took the id and rolled back,
/// or one still open) once a later journal has been rolled up for longer than
/// `gap_wait`: a transaction that writes journals never stays open that long, so the id
/// will never appear. `rolled` is the rolled-up ids above `watermark` in ascending order,
/// each with when it was rolled up.
pub fn advance_watermark(
    watermark: i64,
    rolled: &[(i64, NaiveDateTime)],
    now: NaiveDateTime,
    gap_wait: chrono::Duration,
) -> i64 {
    let mut reached = watermark;
    for &(journal_id, rolled_up_at) in rolled {
        if journal_id != reached + 1 && now - rolled_up_at < gap_wait {
            break;
        }
        reached = journal_id;
    }
    reached
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hour: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, 4).unwrap().and_hms_opt(hour, 0, 0).unwrap()
    }

    fn village() -> RegionCode {
        RegionCode::parse("32.04.12.2001").unwrap()
    }

    fn family_posting(kind: JournalKind, is_reversal: bool, hour: u32, amount_minor: i64) -> RolledPosting {
        RolledPosting {
            owner: PostingOwner::Family { family_id: 7, village: village() },
            pocket: AccountKind::WalletPkh,
            flow_kind: kind,
            is_reversal,
            posted_at: at(hour),
            amount_minor,
        }
    }

    #[test]
    fn a_family_posting_counts_in_its_village_and_every_region_above_it() {
        let mut rollup = Rollup::default();
        rollup.add(&family_posting(JournalKind::Disbursement, false, 3, 50_000_000));
        let regions: Vec<&str> = rollup.flow_totals.keys().map(|(region, _, _)| region.as_str()).collect();
        assert_eq!(regions, ["32", "32.04", "32.04.12", "32.04.12.2001"]);
        assert!(rollup.flow_totals.values().all(|sums| *sums == Sums { amount_minor: 50_000_000, entries: 1 }));
        assert_eq!(rollup.family_flows.len(), 1);
        assert!(rollup.agent_days.is_empty());
    }

    #[test]
    fn a_posting_after_five_in_the_afternoon_utc_belongs_to_the_next_business_day_in_wib() {
        let mut rollup = Rollup::default();
        rollup.add(&family_posting(JournalKind::CashWithdrawal, false, 16, -1));
        rollup.add(&family_posting(JournalKind::CashWithdrawal, false, 17, -1));
        let days: Vec<NaiveDate> =
            rollup.daily_flows.keys().filter(|key| key.0.as_str() == "32").map(|key| key.3).collect();
        assert_eq!(
            days,
            [NaiveDate::from_ymd_opt(2026, 12, 4).unwrap(), NaiveDate::from_ymd_opt(2026, 12, 5).unwrap()]
        );
    }

    #[test]
    fn a_reversal_nets_its_journal_to_nothing_and_takes_its_entry_back() {
        let mut rollup = Rollup::default();
        rollup.add(&family_posting(JournalKind::CashWithdrawal, false, 3, -15_000_000));
        rollup.add(&family_posting(JournalKind::CashWithdrawal, true, 4, 15_000_000));
        assert!(rollup.family_flows.values().all(|sums| *sums == Sums::default()));
    }

    #[test]
    fn a_family_counts_in_the_reach_when_its_flow_leaves_zero_and_stops_when_it_returns() {
        let key = (7, AccountKind::WalletPkh, JournalKind::CashWithdrawal);
        let mut first = Rollup::default();
        first.add(&family_posting(JournalKind::CashWithdrawal, false, 3, -100));
        let changes = first.reach_changes(&HashMap::new());
        assert_eq!(changes.len(), 4);
        assert!(changes.values().all(|change| *change == 1));

        let mut reversed = Rollup::default();
        reversed.add(&family_posting(JournalKind::CashWithdrawal, true, 4, 100));
        let changes = reversed.reach_changes(&HashMap::from([(key, -100)]));
        assert!(changes.values().all(|change| *change == -1));

        let mut again = Rollup::default();
        again.add(&family_posting(JournalKind::CashWithdrawal, false, 5, -100));
        assert!(again.reach_changes(&HashMap::from([(key, -100)])).is_empty(), "already counted");
    }

    #[test]
    fn a_family_that_moves_takes_its_figures_to_the_new_villages_regions_and_leaves_the_common_ones_alone() {
        let next_door = RegionCode::parse("32.04.13.2002").unwrap();
        let postings = [family_posting(JournalKind::Disbursement, false, 3, 500)];
        let reached = [(AccountKind::WalletPkh, JournalKind::Disbursement)];
        let (rollup, reach) = family_move(&postings, &village(), &next_door, &reached);
        let moved: Vec<(&str, i64)> = rollup
            .flow_totals
            .iter()
            .filter(|(_, sums)| sums.amount_minor != 0)
            .map(|((region, _, _), sums)| (region.as_str(), sums.amount_minor))
            .collect();
        assert_eq!(moved, [("32.04.12", -500), ("32.04.12.2001", -500), ("32.04.13", 500), ("32.04.13.2002", 500)]);
        assert!(rollup.family_flows.is_empty(), "the family's own flows do not move");
        let reach: Vec<(&str, i64)> = reach.iter().map(|((region, _, _), change)| (region.as_str(), *change)).collect();
        assert_eq!(reach, [("32.04.12", -1), ("32.04.12.2001", -1), ("32.04.13", 1), ("32.04.13.2002", 1)]);
    }

    #[test]
    fn the_watermark_moves_over_ids_in_order_and_waits_at_a_young_gap() {
        let wait = chrono::Duration::minutes(10);
        let rolled = [(11, at(3)), (12, at(3)), (14, at(3)), (15, at(3))];
        assert_eq!(advance_watermark(10, &rolled, at(3), wait), 12, "13 may still commit");
        assert_eq!(advance_watermark(10, &rolled, at(4), wait), 15, "13 was rolled back");
        assert_eq!(advance_watermark(10, &[], at(4), wait), 10);
    }
}
