//! Complaints (seeds: "Sistem Pengaduan Masyarakat"): one store for every channel, each
//! complaint with a category, a priority that follows from it, a deadline (SLA) and a
//! status that moves by the rule below, ending with exactly one resolution.

use chrono::{Datelike, Duration, NaiveDateTime, Weekday};

use super::edc::WIB;

/// The longest description, comment or resolution, in characters.
pub const COMPLAINT_TEXT_CHARS_MAX: usize = 2_000;

/// The longest contact (a phone number, an e-mail, a postal address line), in characters.
pub const CONTACT_CHARS_MAX: usize = 120;

/// The longest assignee name, in characters.
pub const ASSIGNEE_CHARS_MAX: usize = 120;

text_enum! {
    /// How a complaint reached the programme.
    pub enum Channel {
        /// Entered by an operator in the SIM PKH.
        Operator,
        /// Told to a facilitator or an office face to face.
        FaceToFace,
        /// The programme's one phone number.
        Phone,
        Postcard,
        Dropbox,
        /// The public web form.
        Web,
        /// An SMS, through the gateway's webhook.
        Sms,
        /// The family's own app.
        App,
    }
}

text_enum! {
    /// What a complaint is about.
    pub enum Category {
        /// A stage was not received.
        StageNotReceived,
        WrongAmount,
        /// The card or its PIN does not work.
        CardOrPin,
        /// An agent charged a fee or refused to serve.
        AgentFeeOrRefusal,
        DataError,
        Eligibility,
        Other,
    }
}

text_enum! {
    /// How urgent a complaint is; sets its deadline.
    pub enum Priority {
        /// 24 hours.
        Critical,
        /// 3 working days.
        High,
        /// 7 working days.
        Medium,
        /// 14 working days.
        Low,
    }
}

text_enum! {
    /// Where a complaint stands.
    pub enum ComplaintStatus {
        Received,
        InProgress,
        Escalated,
        Resolved,
        Closed,
        Rejected,
    }
}

text_enum! {
    /// What a line of a complaint's timeline records.
    pub enum EventKind {
        Filed,
        Comment,
        Transition,
        /// The complaint's one answer (a unique index keeps it one).
        Resolution,
    }
}

impl Category {
    /// The priority of a complaint of this category: a family cut off from its money
    /// (card or PIN) is critical; money missing or taken, high; data, medium.
    pub fn priority(self) -> Priority {
        match self {
            Self::CardOrPin => Priority::Critical,
            Self::StageNotReceived | Self::WrongAmount | Self::AgentFeeOrRefusal => Priority::High,
            Self::DataError | Self::Eligibility => Priority::Medium,
            Self::Other => Priority::Low,
        }
    }
}

impl ComplaintStatus {
    /// Whether the complaint still waits for an answer (and can be overdue).
    pub fn is_open(self) -> bool {
        matches!(self, Self::Received | Self::InProgress | Self::Escalated)
    }

    /// The statuses a complaint in this one may move to.
    fn successors(self) -> &'static [Self] {
        match self {
            Self::Received => &[Self::InProgress, Self::Escalated, Self::Resolved, Self::Rejected],
            Self::InProgress => &[Self::Escalated, Self::Resolved, Self::Rejected],
            Self::Escalated => &[Self::InProgress, Self::Resolved, Self::Rejected],
            Self::Resolved => &[Self::Closed],
            Self::Closed | Self::Rejected => &[],
        }
    }

    /// Whether reaching this status answers the complaint (needs the one resolution).
    pub fn settles(self) -> bool {
        matches!(self, Self::Resolved | Self::Rejected)
    }
}

/// The moment a complaint received at `received_at` (UTC) is due: 24 hours for a
/// critical one, else a number of working days (Monday to Friday in WIB, the programme's
/// time; public holidays are not counted out) at the same time of day.
pub fn due_at(priority: Priority, received_at: NaiveDateTime) -> NaiveDateTime {
    let working_days = match priority {
        Priority::Critical => return received_at + Duration::hours(24),
        Priority::High => 3,
        Priority::Medium => 7,
        Priority::Low => 14,
    };
    let offset = Duration::seconds(i64::from(WIB.local_minus_utc()));
    let mut local = received_at + offset;
    let mut counted = 0;
    while counted < working_days {
        local += Duration::days(1);
        if !matches!(local.weekday(), Weekday::Sat | Weekday::Sun) {
            counted += 1;
        }
    }
    local - offset
}

/// Whether a complaint is past its deadline and still unanswered at `now`.
pub fn is_overdue(status: ComplaintStatus, due_at: NaiveDateTime, now: NaiveDateTime) -> bool {
    status.is_open() && now > due_at
}

/// What a status change does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransitionPlan {
    pub from: ComplaintStatus,
    pub to: ComplaintStatus,
    /// The text given is the complaint's one resolution.
    pub records_resolution: bool,
    /// An investigation hold the complaint placed ends now.
    pub releases_hold: bool,
}

/// Why a status change is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionRefusal {
    #[error("a complaint that is {from} cannot become {to}")]
    NotAllowed { from: ComplaintStatus, to: ComplaintStatus },
    #[error("the complaint has its resolution already: it is answered once")]
    AlreadyResolved,
    #[error("becoming {0} needs the resolution text: what was done or why it is rejected")]
    ResolutionMissing(ComplaintStatus),
}

/// The status rule: received → in progress → escalated → resolved → closed, or rejected;
/// resolving or rejecting records the one resolution.
pub fn decide_transition(
    from: ComplaintStatus,
    has_resolution: bool,
    to: ComplaintStatus,
    text: &str,
) -> Result<TransitionPlan, TransitionRefusal> {
    if to.settles() && has_resolution {
        return Err(TransitionRefusal::AlreadyResolved);
    }
    if !from.successors().contains(&to) {
        return Err(TransitionRefusal::NotAllowed { from, to });
    }
    if to.settles() && text.trim().is_empty() {
        return Err(TransitionRefusal::ResolutionMissing(to));
    }
    Ok(TransitionPlan { from, to, records_resolution: to.settles(), releases_hold: to.settles() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    /// A moment in WIB, as UTC.
    fn wib(day: u32, hour: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, day).unwrap().and_hms_opt(hour, 0, 0).unwrap() - Duration::hours(7)
    }

    #[test]
    fn a_critical_complaint_is_due_in_24_hours_weekend_or_not() {
        // 2026-12-05 is a Saturday.
        assert_eq!(due_at(Priority::Critical, wib(5, 10)), wib(6, 10));
    }

    #[test]
    fn working_days_skip_saturday_and_sunday() {
        // Thursday 3 December + 3 working days: Friday, Monday, Tuesday.
        assert_eq!(due_at(Priority::High, wib(3, 9)), wib(8, 9));
        // Saturday: Monday, Tuesday, Wednesday.
        assert_eq!(due_at(Priority::High, wib(5, 9)), wib(9, 9));
        // Monday + 7 working days: the Wednesday after next.
        assert_eq!(due_at(Priority::Medium, wib(7, 9)), wib(16, 9));
        // Monday + 14 working days: two weeks later.
        assert_eq!(due_at(Priority::Low, wib(7, 9)), wib(25, 9));
    }

    #[test]
    fn the_weekday_is_the_one_in_wib_not_in_utc() {
        // Saturday 06:00 WIB is still Friday 23:00 UTC: the count starts from Saturday.
        assert_eq!(due_at(Priority::High, wib(5, 6)), wib(9, 6));
    }

    #[test]
    fn only_an_open_complaint_past_its_deadline_is_overdue() {
        let due = wib(8, 9);
        assert!(!is_overdue(ComplaintStatus::Received, due, due));
        assert!(is_overdue(ComplaintStatus::InProgress, due, due + Duration::seconds(1)));
        for settled in [ComplaintStatus::Resolved, ComplaintStatus::Closed, ComplaintStatus::Rejected] {
            assert!(!is_overdue(settled, due, due + Duration::days(30)));
        }
    }

    #[test]
    fn a_card_problem_is_critical_and_a_data_error_medium() {
        assert_eq!(Category::CardOrPin.priority(), Priority::Critical);
        assert_eq!(Category::AgentFeeOrRefusal.priority(), Priority::High);
        assert_eq!(Category::DataError.priority(), Priority::Medium);
        assert_eq!(Category::Other.priority(), Priority::Low);
    }

    #[test]
    fn a_complaint_moves_along_the_path_and_resolving_records_the_resolution() {
        use ComplaintStatus::*;
        let plan = decide_transition(Received, false, InProgress, "").unwrap();
        assert!(!plan.records_resolution && !plan.releases_hold);
        assert!(decide_transition(InProgress, false, Escalated, "").is_ok());
        let resolved = decide_transition(Escalated, false, Resolved, "paid again").unwrap();
        assert!(resolved.records_resolution && resolved.releases_hold);
        assert!(decide_transition(Resolved, true, Closed, "").is_ok());
        assert!(decide_transition(Received, false, Rejected, "not a KPM").unwrap().records_resolution);
    }

    #[test]
    fn a_complaint_never_goes_back_or_past_its_end() {
        use ComplaintStatus::*;
        for (from, to) in [(InProgress, Received), (Received, Closed), (Closed, InProgress), (Rejected, InProgress)] {
            assert_eq!(decide_transition(from, false, to, "x"), Err(TransitionRefusal::NotAllowed { from, to }));
        }
    }

    #[test]
    fn a_complaint_is_answered_once_and_never_without_words() {
        use ComplaintStatus::*;
        assert_eq!(decide_transition(Resolved, true, Resolved, "again"), Err(TransitionRefusal::AlreadyResolved));
        assert_eq!(decide_transition(Closed, true, Rejected, "again"), Err(TransitionRefusal::AlreadyResolved));
        assert_eq!(
            decide_transition(InProgress, false, Resolved, "  "),
            Err(TransitionRefusal::ResolutionMissing(Resolved))
        );
    }
}
