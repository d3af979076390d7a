//! Graduation and exit (seeds: "KPM graduasi (alamiah, exit mandiri)"). A family leaves
//! PKH because it no longer needs it (self exit: "sudah mampu", "usaha berkembang
//! pesat") or because no member has a PKH component left (natural exit: "sudah tidak ada
//! komponen PKH"). Unlike a termination nothing goes back to the treasury: the family
//! keeps and may draw what its wallets hold; it only gets no further PKH stage.

use super::family::FamilyStatus;

/// The first and last year an exit may name.
pub const EXIT_YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// The longest note on an exit (the form's "keterangan"), in characters.
pub const EXIT_NOTE_CHARS_MAX: usize = 200;

text_enum! {
    /// How a family leaves PKH.
    pub enum ExitKind {
        /// Graduation recorded by the facilitator after a socio-economic update (PDSE).
        Graduation,
        /// Exit alamiah: no member has a PKH component left.
        NaturalExit,
        /// Exit mandiri: the family itself declares it no longer needs PKH.
        SelfExit,
    }
}

text_enum! {
    /// The reasons of the seed's monitoring form ("alasan keluar PKH").
    pub enum ExitReason {
        /// "Sudah mampu": the family is well off now.
        SudahMampu,
        /// "Usaha berkembang pesat": the family's business grew fast.
        UsahaBerkembangPesat,
        /// "Sudah tidak ada komponen PKH": no member has a PKH component left.
        SudahTidakAdaKomponenPkh,
    }
}

impl ExitReason {
    /// The wording of the seed's form, as the facilitator writes it.
    pub fn form_wording(self) -> &'static str {
        match self {
            Self::SudahMampu => "SUDAH MAMPU",
            Self::UsahaBerkembangPesat => "USAHA BERKEMBANG PESAT",
            Self::SudahTidakAdaKomponenPkh => "SUDAH TIDAK ADA KOMPONEN PKH",
        }
    }

    /// Whether the reason fits the kind: a natural exit is for a family without a PKH
    /// component, and only a natural exit is.
    pub fn fits(self, kind: ExitKind) -> bool {
        (kind == ExitKind::NaturalExit) == (self == Self::SudahTidakAdaKomponenPkh)
    }
}

/// What an operator records: how and why the family leaves, in which year, and whether
/// its food (BPNT) and LPG assistance go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitTerms {
    pub kind: ExitKind,
    pub reason: ExitReason,
    pub year_out: i32,
    pub non_cash_continues: bool,
    pub note: String,
}

/// What recording an exit does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitPlan {
    /// The family becomes `status` (graduated); PKH stops paying it; no money moves.
    Record { status: FamilyStatus },
    /// The same exit is recorded already (a retry): answer it again, change nothing.
    AlreadyRecorded,
}

/// Why an exit is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExitRefusal {
    #[error("reason {reason} does not fit a {kind}: a natural exit is for 'sudah_tidak_ada_komponen_pkh', the others are 'sudah_mampu' or 'usaha_berkembang_pesat'")]
    ReasonDoesNotFitKind { kind: ExitKind, reason: ExitReason },
    #[error("year_out {year_out} must lie between the year the family joined ({year_in}) and {}", EXIT_YEARS.end())]
    YearOut { year_in: i32, year_out: i32 },
    #[error("note: at most {EXIT_NOTE_CHARS_MAX} characters")]
    NoteTooLong,
    /// Terminated: its membership ended already, and its money went back. Suspended: its
    /// PKH money is blocked for a missed commitment; it exits once it complies again or
    /// its membership ends, so that leaving never frees money a suspension keeps.
    #[error("the family is {0}: only an active family graduates or exits")]
    NotActive(FamilyStatus),
    #[error("the family already left PKH with another exit")]
    AlreadyExited,
}

/// The exit rule: `status` is the family's now, `year_in` the year it joined, `recorded`
/// the exit on file if it left already.
pub fn decide_exit(
    status: FamilyStatus,
    year_in: i32,
    recorded: Option<&ExitTerms>,
    requested: &ExitTerms,
) -> Result<ExitPlan, ExitRefusal> {
    if !requested.reason.fits(requested.kind) {
        return Err(ExitRefusal::ReasonDoesNotFitKind { kind: requested.kind, reason: requested.reason });
    }
    if requested.year_out < year_in || !EXIT_YEARS.contains(&requested.year_out) {
        return Err(ExitRefusal::YearOut { year_in, year_out: requested.year_out });
    }
    if requested.note.chars().count() > EXIT_NOTE_CHARS_MAX {
        return Err(ExitRefusal::NoteTooLong);
    }
    match (status, recorded) {
        (FamilyStatus::Graduated, Some(recorded)) if recorded == requested => Ok(ExitPlan::AlreadyRecorded),
        (FamilyStatus::Graduated, _) => Err(ExitRefusal::AlreadyExited),
        (FamilyStatus::Active, _) => Ok(ExitPlan::Record { status: FamilyStatus::Graduated }),
        (other, _) => Err(ExitRefusal::NotActive(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(kind: ExitKind, reason: ExitReason) -> ExitTerms {
        ExitTerms { kind, reason, year_out: 2017, non_cash_continues: true, note: String::new() }
    }

    #[test]
    fn an_active_family_graduates_and_keeps_its_status_change_to_graduated_only() {
        let plan = decide_exit(FamilyStatus::Active, 2012, None, &terms(ExitKind::SelfExit, ExitReason::SudahMampu));
        assert_eq!(plan, Ok(ExitPlan::Record { status: FamilyStatus::Graduated }));
    }

    #[test]
    fn a_terminated_or_suspended_family_cannot_graduate() {
        let request = terms(ExitKind::Graduation, ExitReason::UsahaBerkembangPesat);
        for status in [FamilyStatus::Terminated, FamilyStatus::Suspended] {
            assert_eq!(decide_exit(status, 2012, None, &request), Err(ExitRefusal::NotActive(status)));
        }
    }

    #[test]
    fn a_retry_of_the_same_exit_changes_nothing_and_another_exit_is_refused() {
        let first = terms(ExitKind::SelfExit, ExitReason::SudahMampu);
        assert_eq!(decide_exit(FamilyStatus::Graduated, 2012, Some(&first), &first), Ok(ExitPlan::AlreadyRecorded));
        let other = terms(ExitKind::SelfExit, ExitReason::UsahaBerkembangPesat);
        assert_eq!(decide_exit(FamilyStatus::Graduated, 2012, Some(&first), &other), Err(ExitRefusal::AlreadyExited));
        assert_eq!(decide_exit(FamilyStatus::Graduated, 2012, None, &first), Err(ExitRefusal::AlreadyExited));
    }

    #[test]
    fn a_natural_exit_is_for_a_family_without_a_pkh_component_and_only_it_is() {
        let natural = terms(ExitKind::NaturalExit, ExitReason::SudahTidakAdaKomponenPkh);
        assert!(decide_exit(FamilyStatus::Active, 2013, None, &natural).is_ok());
        for (kind, reason) in [
            (ExitKind::NaturalExit, ExitReason::SudahMampu),
            (ExitKind::SelfExit, ExitReason::SudahTidakAdaKomponenPkh),
            (ExitKind::Graduation, ExitReason::SudahTidakAdaKomponenPkh),
        ] {
            assert_eq!(
                decide_exit(FamilyStatus::Active, 2013, None, &terms(kind, reason)),
                Err(ExitRefusal::ReasonDoesNotFitKind { kind, reason })
            );
        }
    }

    #[test]
    fn the_year_out_is_not_before_the_year_in_and_the_note_is_short() {
        let mut early = terms(ExitKind::SelfExit, ExitReason::SudahMampu);
        early.year_out = 2011;
        assert_eq!(
            decide_exit(FamilyStatus::Active, 2012, None, &early),
            Err(ExitRefusal::YearOut { year_in: 2012, year_out: 2011 })
        );
        early.year_out = 2101;
        assert!(decide_exit(FamilyStatus::Active, 2012, None, &early).is_err());
        let mut long = terms(ExitKind::SelfExit, ExitReason::SudahMampu);
        long.note = "x".repeat(EXIT_NOTE_CHARS_MAX + 1);
        assert_eq!(decide_exit(FamilyStatus::Active, 2012, None, &long), Err(ExitRefusal::NoteTooLong));
    }

    #[test]
    fn the_reasons_read_as_on_the_seed_form() {
        assert_eq!(ExitReason::SudahMampu.form_wording(), "SUDAH MAMPU");
        assert_eq!(ExitReason::SudahTidakAdaKomponenPkh.as_ref(), "sudah_tidak_ada_komponen_pkh");
    }
}
