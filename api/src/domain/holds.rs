//! What keeps money from leaving an account: holds (an amount, for a reason, until a
//! time or a person ends them) and a debit block (the whole account, while a family is
//! suspended). One rule decides whether a movement may leave an account; the posting
//! primitive's conditional update states the same rule in SQL, and the model test of the
//! seeds' rules (tests/money_rules) holds the two to each other.

use chrono::NaiveDateTime;

use super::ledger::{may_go_negative, AccountKind, AccountStatus, HoldReason, JournalKind};

/// An account as far as the movement rule needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountState {
    pub kind: AccountKind,
    pub status: AccountStatus,
    pub balance_minor: i64,
    /// The active holds that have not reached their release time.
    pub held_minor: i64,
    pub blocked: bool,
}

/// Why a movement may not leave an account, in the order the rule looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MovementRefusal {
    /// A closed account neither pays nor receives.
    Closed,
    /// The account is blocked for debits (a suspended family's PKH wallet).
    Blocked,
    /// The balance itself does not cover the debit.
    Insufficient,
    /// The balance covers it, but holds keep part of it.
    Held,
}

/// Whether `amount_minor` (negative: a debit) may be posted to the account by a journal
/// of `kind`. Only the treasury may go below zero; only money returned to the treasury
/// passes a debit block (termination takes everything back, blocked or not).
pub fn movement_decision(account: &AccountState, amount_minor: i64, kind: JournalKind) -> Result<(), MovementRefusal> {
    if account.status == AccountStatus::Closed {
        return Err(MovementRefusal::Closed);
    }
    if amount_minor >= 0 || may_go_negative(account.kind) {
        return Ok(());
    }
    if account.blocked && !kind.passes_debit_block() {
        return Err(MovementRefusal::Blocked);
    }
    let requested_minor = -amount_minor;
    if requested_minor > account.balance_minor {
        return Err(MovementRefusal::Insufficient);
    }
    if requested_minor > account.balance_minor - account.held_minor {
        return Err(MovementRefusal::Held);
    }
    Ok(())
}

/// Whether a hold with this release time still keeps its money at `now`: a hold whose
/// time has come no longer counts, whether or not anything has ended it yet.
pub fn hold_is_in_force(release_at: Option<NaiveDateTime>, now: NaiveDateTime) -> bool {
    release_at.is_none_or(|release_at| release_at > now)
}

/// A pocket as its owner should see it at a moment: what is on it, what holds keep, what
/// a block keeps, and what can be drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PocketFigures {
    pub balance_minor: i64,
    /// Money kept by holds still in force.
    pub held_minor: i64,
    /// Money kept by the account's debit block, beyond what holds keep.
    pub blocked_minor: i64,
    pub available_minor: i64,
}

/// An active hold, as [`pocket_figures`] needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActiveHold {
    pub amount_minor: i64,
    pub release_at: Option<NaiveDateTime>,
}

/// The pocket at `now` from its balance, its active holds and its block.
pub fn pocket_figures(balance_minor: i64, holds: &[ActiveHold], blocked: bool, now: NaiveDateTime) -> PocketFigures {
    let held_minor: i64 =
        holds.iter().filter(|hold| hold_is_in_force(hold.release_at, now)).map(|hold| hold.amount_minor).sum();
    PocketFigures::of(balance_minor, held_minor, blocked)
}

impl PocketFigures {
    /// The figures of a balance of which holds in force keep `held_minor`, and a block, if
    /// there is one, the rest (also how an EDC record's slip is drawn again).
    pub fn of(balance_minor: i64, held_minor: i64, blocked: bool) -> Self {
        let free_of_holds = (balance_minor - held_minor).max(0);
        let blocked_minor = if blocked { free_of_holds } else { 0 };
        Self { balance_minor, held_minor, blocked_minor, available_minor: free_of_holds - blocked_minor }
    }
}

/// The hold a disbursement line's money gets when it is credited at `now`: a stage paid
/// early waits for its release time. A suspended family's money needs no hold of its own:
/// it arrives in a blocked wallet.
pub fn line_hold(release_at: Option<NaiveDateTime>, now: NaiveDateTime) -> Option<(HoldReason, NaiveDateTime)> {
    release_at.filter(|release_at| *release_at > now).map(|release_at| (HoldReason::StageNotOpen, release_at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(hour: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2017, 4, 1).unwrap().and_hms_opt(hour, 0, 0).unwrap()
    }

    fn wallet(balance_minor: i64, held_minor: i64, blocked: bool) -> AccountState {
        AccountState { kind: AccountKind::WalletPkh, status: AccountStatus::Open, balance_minor, held_minor, blocked }
    }

    #[test]
    fn a_blocked_wallet_pays_nothing_whatever_its_holds() {
        for held in [0, 50, 100] {
            let blocked = wallet(100, held, true);
            for kind in [JournalKind::WalletToSavings, JournalKind::Purchase, JournalKind::CashWithdrawal] {
                assert_eq!(movement_decision(&blocked, -1, kind), Err(MovementRefusal::Blocked), "held {held}");
            }
        }
    }

    #[test]
    fn only_money_returned_to_the_treasury_leaves_a_blocked_wallet() {
        assert_eq!(movement_decision(&wallet(100, 0, true), -100, JournalKind::ReturnToTreasury), Ok(()));
    }

    #[test]
    fn a_blocked_wallet_still_receives() {
        assert_eq!(movement_decision(&wallet(0, 0, true), 50_000, JournalKind::Disbursement), Ok(()));
    }

    #[test]
    fn a_debit_is_refused_for_the_balance_before_the_holds() {
        assert_eq!(
            movement_decision(&wallet(100, 0, false), -101, JournalKind::Purchase),
            Err(MovementRefusal::Insufficient)
        );
        assert_eq!(
            movement_decision(&wallet(100, 60, false), -101, JournalKind::Purchase),
            Err(MovementRefusal::Insufficient)
        );
        assert_eq!(movement_decision(&wallet(100, 60, false), -41, JournalKind::Purchase), Err(MovementRefusal::Held));
        assert_eq!(movement_decision(&wallet(100, 60, false), -40, JournalKind::Purchase), Ok(()));
    }

    #[test]
    fn a_closed_account_neither_pays_nor_receives() {
        let closed = AccountState { status: AccountStatus::Closed, ..wallet(0, 0, false) };
        assert_eq!(movement_decision(&closed, 1, JournalKind::Disbursement), Err(MovementRefusal::Closed));
        assert_eq!(movement_decision(&closed, -1, JournalKind::ReturnToTreasury), Err(MovementRefusal::Closed));
    }

    #[test]
    fn the_treasury_may_go_below_zero() {
        let treasury = AccountState { kind: AccountKind::Treasury, ..wallet(0, 0, false) };
        assert_eq!(movement_decision(&treasury, -1_000, JournalKind::Disbursement), Ok(()));
    }

    #[test]
    fn a_hold_stops_counting_when_its_release_time_comes() {
        assert!(hold_is_in_force(None, at(12)));
        assert!(hold_is_in_force(Some(at(13)), at(12)));
        assert!(!hold_is_in_force(Some(at(12)), at(12)));
        let figures = pocket_figures(
            100,
            &[
                ActiveHold { amount_minor: 30, release_at: Some(at(12)) },
                ActiveHold { amount_minor: 20, release_at: None },
            ],
            false,
            at(12),
        );
        assert_eq!(
            figures,
            PocketFigures { balance_minor: 100, held_minor: 20, blocked_minor: 0, available_minor: 80 }
        );
    }

    #[test]
    fn a_block_keeps_what_the_holds_do_not() {
        let holds = [ActiveHold { amount_minor: 30, release_at: Some(at(13)) }];
        let figures = pocket_figures(100, &holds, true, at(12));
        assert_eq!(
            figures,
            PocketFigures { balance_minor: 100, held_minor: 30, blocked_minor: 70, available_minor: 0 }
        );
        let opened = pocket_figures(100, &holds, true, at(13));
        assert_eq!(opened.available_minor, 0, "a stage opening never frees a blocked wallet's money");
    }

    #[test]
    fn a_stage_paid_early_waits_for_its_release_and_one_paid_on_time_does_not() {
        assert_eq!(line_hold(Some(at(13)), at(12)), Some((HoldReason::StageNotOpen, at(13))));
        assert_eq!(line_hold(Some(at(12)), at(12)), None);
        assert_eq!(line_hold(None, at(12)), None);
    }
}
