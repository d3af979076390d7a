//! A disbursement batch's life: which batches are live (one at a time for a programme,
//! year, period and region), and who may cancel one, until when.

use super::auth::{OperatorRole, RegionCode};

text_enum! {
    /// Where a batch is in its life.
    pub enum BatchStatus {
        /// Its lines are being written, page by page.
        Preparing,
        /// Every line written; waiting for a second person's approval.
        Prepared,
        /// Approved; waiting to be executed.
        Approved,
        /// Being paid, chunk by chunk.
        Executing,
        /// Every line settled, paid or failed.
        Completed,
        /// Stopped before it paid anything; its lines were freed for another batch.
        Cancelled,
    }
}

impl BatchStatus {
    /// A live batch pays, or may still pay, its lines: a second one for the same period
    /// and an overlapping region would only confuse who pays whom.
    pub const LIVE: [Self; 4] = [Self::Preparing, Self::Prepared, Self::Approved, Self::Executing];

    /// Before execution no line has been paid, so cancelling moves no money; once a
    /// chunk may have been paid, only a reversal could undo it.
    pub const CANCELLABLE: [Self; 3] = [Self::Preparing, Self::Prepared, Self::Approved];
}

/// Whether two batches' regions overlap: the same region, or one inside the other
/// (`None` is national, which contains every region).
pub fn regions_overlap(first: Option<&RegionCode>, second: Option<&RegionCode>) -> bool {
    match (first, second) {
        (Some(first), Some(second)) => first.contains(second) || second.contains(first),
        _ => true,
    }
}

/// Why a batch may not be cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelRefusal {
    /// Neither its maker nor a supervisor.
    NotAllowed,
    /// It is executing, completed or already cancelled.
    TooLate(BatchStatus),
}

/// Whether an operator may cancel a batch now: the person who prepared it, or a
/// supervisor (whose region covers the batch: the caller only finds batches of its
/// region), and only while it is not executing yet.
pub fn may_cancel(status: BatchStatus, prepared_it: bool, role: OperatorRole) -> Result<(), CancelRefusal> {
    if !prepared_it && !role.may_approve() {
        return Err(CancelRefusal::NotAllowed);
    }
    if BatchStatus::CANCELLABLE.contains(&status) {
        Ok(())
    } else {
        Err(CancelRefusal::TooLate(status))
    }
}

/// The longest reason for a cancellation, in characters: a short sentence, which the
/// audit trail keeps whole.
pub const CANCEL_REASON_CHARS_MAX: usize = 120;

/// Why a batch is cancelled, as the operator wrote it: not blank, at most
/// [`CANCEL_REASON_CHARS_MAX`] characters, without the surrounding spaces.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(try_from = "String")]
pub struct CancelReason(String);

impl CancelReason {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CancelReason {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        let trimmed = text.trim();
        if trimmed.is_empty() || trimmed.chars().count() > CANCEL_REASON_CHARS_MAX {
            return Err(format!("reason: 1 to {CANCEL_REASON_CHARS_MAX} characters"));
        }
        Ok(Self(trimmed.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(code: &str) -> RegionCode {
        RegionCode::parse(code).unwrap()
    }

    #[test]
    fn a_region_overlaps_itself_its_ancestors_and_its_descendants() {
        let (province, village) = (region("32"), region("32.04.12.2001"));
        assert!(regions_overlap(Some(&province), Some(&province)));
        assert!(regions_overlap(Some(&province), Some(&village)));
        assert!(regions_overlap(Some(&village), Some(&province)));
        assert!(regions_overlap(None, Some(&village)), "national contains every region");
        assert!(regions_overlap(Some(&province), None));
        assert!(regions_overlap(None, None));
    }

    #[test]
    fn neighbouring_regions_do_not_overlap() {
        assert!(!regions_overlap(Some(&region("32")), Some(&region("33"))));
        assert!(!regions_overlap(Some(&region("32.04")), Some(&region("32.05.01"))));
        assert!(!regions_overlap(Some(&region("32.04.12.2001")), Some(&region("32.04.12.2002"))));
    }

    #[test]
    fn its_maker_or_a_supervisor_cancels_a_batch_that_is_not_executing_yet() {
        for status in [BatchStatus::Preparing, BatchStatus::Prepared, BatchStatus::Approved] {
            assert_eq!(may_cancel(status, true, OperatorRole::Operator), Ok(()), "{status}");
            assert_eq!(may_cancel(status, false, OperatorRole::Supervisor), Ok(()), "{status}");
            assert_eq!(may_cancel(status, false, OperatorRole::Admin), Ok(()), "{status}");
        }
    }

    #[test]
    fn another_operator_may_not_cancel_a_batch() {
        assert_eq!(may_cancel(BatchStatus::Prepared, false, OperatorRole::Operator), Err(CancelRefusal::NotAllowed));
    }

    #[test]
    fn a_batch_that_may_have_paid_cannot_be_cancelled() {
        for status in [BatchStatus::Executing, BatchStatus::Completed, BatchStatus::Cancelled] {
            assert_eq!(may_cancel(status, true, OperatorRole::Supervisor), Err(CancelRefusal::TooLate(status)));
        }
    }

    #[test]
    fn only_a_batch_that_pays_or_may_still_pay_is_live() {
        assert!(BatchStatus::CANCELLABLE.iter().all(|status| BatchStatus::LIVE.contains(status)));
        assert!(BatchStatus::LIVE.contains(&BatchStatus::Executing));
        assert!(!BatchStatus::LIVE.contains(&BatchStatus::Completed));
        assert!(!BatchStatus::LIVE.contains(&BatchStatus::Cancelled));
    }

    #[test]
    fn a_cancel_reason_is_a_short_sentence() {
        assert_eq!(CancelReason::try_from("  wrong period  ".to_owned()).unwrap().as_str(), "wrong period");
        assert!(CancelReason::try_from("   ".to_owned()).is_err());
        assert!(CancelReason::try_from("a".repeat(CANCEL_REASON_CHARS_MAX)).is_ok());
        assert!(CancelReason::try_from("a".repeat(CANCEL_REASON_CHARS_MAX + 1)).is_err());
    }
}
