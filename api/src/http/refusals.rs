//! Which problem codes each operation may answer, listed in its `4XX` response of the
//! OpenAPI document so that a client team knows what to branch on.
//!
//! Two parts make a list. What follows from the operation's shape is added here for every
//! operation alike (a body can be too large, a secured operation can meet a revoked token,
//! a paged one a bad cursor…), so no list can forget it. What the use case itself refuses
//! is in [`OWN_REFUSALS`], by operationId. The contract fuzzer reads the server's log
//! afterwards and fails on any code answered that the operation does not list.

use serde_json::Value;
use utoipa::Modify;

use super::problem::{refusals, ErrorCode};

use ErrorCode::*;

/// What a card transaction may refuse, beyond its shape: the card, the PIN, the STAN.
const CARD_TRANSACTION: &[ErrorCode] = &[
    TransmissionTimeOutOfRange,
    DuplicateStan,
    OriginalReversed,
    CardNumberMalformed,
    CardNumberCheckDigit,
    CardNumberUnknownBank,
    CardQrMalformed,
    CardQrUnsupportedVersion,
    CardForged,
    CardAltered,
    CardLost,
    CardReplaced,
    CardExpired,
    WrongPin,
    PinLocked,
    PinKeyRetired,
];

/// A card whose state forbids the change asked for.
const CARD_STATE: &[ErrorCode] = &[CardLost, CardReplaced, CardExpired];

/// The refusals of each operation's own use case, by operationId.
const OWN_REFUSALS: &[(&str, &[&[ErrorCode]])] = &[
    ("login_operator", &[&[WrongCredentials, TooManyRequests, PasswordChangeRequired]]),
    ("login_agent", &[&[WrongCredentials, TooManyRequests, PasswordChangeRequired, TerminalNotAllowed]]),
    (
        "login_family",
        &[&[
            WrongCardOrPin,
            TooManyRequests,
            PinLocked,
            PinKeyRetired,
            CardExpired,
            NotFound,
            CardNumberMalformed,
            CardNumberCheckDigit,
            CardNumberUnknownBank,
        ]],
    ),
    ("change_own_operator_password", &[&[WrongCredentials, PasswordWeak, TooManyRequests]]),
    ("change_own_agent_password", &[&[WrongCredentials, PasswordWeak, TooManyRequests]]),
    ("refresh", &[&[Unauthenticated, TokenRevoked, TokenKeyRetired, TerminalNotAllowed, TerminalInactive]]),
    ("change_pin", &[&[WrongPin, PinLocked, PinKeyRetired], CARD_STATE]),
    ("reset_pin", &[CARD_STATE]),
    ("report_lost", &[CARD_STATE]),
    ("replace", &[CARD_STATE]),
    ("check_qr", &[&[CardQrMalformed, CardQrUnsupportedVersion, CardForged, CardAltered], CARD_STATE]),
    ("balance_inquiry", &[CARD_TRANSACTION]),
    (
        "cash_withdrawal",
        &[
            CARD_TRANSACTION,
            &[
                OperationNotAllowed,
                AccountClosed,
                InsufficientFunds,
                FundsHeld,
                WalletBlocked,
                WithdrawalLimitExceeded,
                DailyWithdrawalLimitExceeded,
                AgentDailyLimitExceeded,
            ],
        ],
    ),
    ("wallet_to_savings", &[CARD_TRANSACTION, &[AccountClosed, InsufficientFunds, FundsHeld, WalletBlocked]]),
    (
        "purchase",
        &[
            CARD_TRANSACTION,
            &[
                OperationNotAllowed,
                AccountClosed,
                InsufficientFunds,
                FundsHeld,
                WalletBlocked,
                UnknownItem,
                ItemNotEligible,
                QuotaExceeded,
            ],
        ],
    ),
    // Funds held: a complaint's investigation hold on the agent's settlement account.
    ("reversal", &[&[TransmissionTimeOutOfRange, ReversalWindowClosed, FundsHeld]]),
    ("register", &[&[NikInvalid, FamilyRulesNotMet, FamilyExists]]),
    // A file refused whole: encoding, separator, columns, a control character (the text
    // guard leaves these streamed bodies to the import's own check).
    ("import_regions", &[&[ImportFileInvalid]]),
    ("import_families", &[&[ImportFileInvalid]]),
    ("take_pin_mailer", &[&[ImportRunning, PinMailerGone, PinKeyRetired]]),
    ("issue_card", &[&[CardExists]]),
    ("record_exit", &[&[FamilyNotActive, AlreadyExited]]),
    ("record_family_change", &[&[FamilyNotActive, FamilyExists]]),
    (
        "approve_family_change",
        &[&[FamilyNotActive, FamilyExists, ChangeSelfApproval, ChangeAlreadyDecided, CardReplaced]],
    ),
    ("reject_family_change", &[&[ChangeAlreadyDecided]]),
    // A family, card, region, agent or EDC transaction named that does not exist or is out
    // of sight; the agent's settlement short of the amount to hold.
    (
        "file_complaint",
        &[&[
            NotFound,
            CardNumberMalformed,
            CardNumberCheckDigit,
            CardNumberUnknownBank,
            AccountClosed,
            InsufficientFunds,
            FundsHeld,
        ]],
    ),
    ("file_public_complaint", &[&[NotFound, TooManyRequests]]),
    ("file_sms_complaint", &[&[Unauthenticated]]),
    ("transition_complaint", &[&[ComplaintTransitionInvalid, ComplaintAlreadyResolved]]),
    ("record_p2k2_session", &[&[NotFound]]),
    ("complaint_figures", &[&[NotFound]]),
    ("p2k2_attendance", &[&[NotFound]]),
    ("place", &[&[AccountNotFound, AccountClosed, InsufficientFunds, FundsHeld]]),
    ("release", &[&[HoldNotFound, HoldNotActive]]),
    ("prepare", &[&[LiveBatchExists, BatchPaysNobody]]),
    ("cancel", &[&[BatchNotCancellable]]),
    ("create_operator", &[&[UsernameInvalid, UsernameTaken, PasswordWeak]]),
    ("reset_operator_password", &[&[PasswordWeak]]),
    ("create_agent", &[&[UsernameInvalid, UsernameTaken, PasswordWeak]]),
    ("reset_agent_password", &[&[PasswordWeak]]),
    ("add_terminal", &[&[TerminalIdInvalid, TerminalTaken]]),
    ("change_terminal", &[&[TerminalIdInvalid]]),
    // A region, facilitator or family named in the query or body that does not exist.
    ("overview", &[&[NotFound]]),
    ("families", &[&[NotFound]]),
    ("search_families", &[&[NotFound, PagingInvalid]]),
    ("indicators", &[&[NotFound]]),
    ("graduations", &[&[NotFound]]),
    ("agents", &[&[NotFound]]),
    ("add_facilitator", &[&[NotFound]]),
    ("record", &[&[NotFound]]),
    ("close_cycle", &[&[NotFound]]),
];

/// The codes an operation may answer because of its shape.
fn shape_refusals(path: &str, operation: &Value) -> Vec<ErrorCode> {
    let mut codes = Vec::new();
    if path.starts_with("/v1/") {
        codes.extend([InvalidRequest, CharacterNotAllowed]);
    }
    if operation.get("requestBody").is_some() {
        codes.extend([UnsupportedMediaType, PayloadTooLarge]);
    }
    if operation.get("security").is_some_and(|security| security.as_array().is_some_and(|list| !list.is_empty())) {
        codes.extend([Unauthenticated, TokenRevoked, TokenKeyRetired, Forbidden, TerminalNotAllowed, TerminalInactive]);
    }
    let parameters = operation.get("parameters").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    for parameter in parameters {
        let name = parameter.get("name").and_then(Value::as_str).unwrap_or_default();
        match (parameter.get("in").and_then(Value::as_str).unwrap_or_default(), name) {
            ("path", "card_number") => {
                codes.extend([NotFound, CardNumberMalformed, CardNumberCheckDigit, CardNumberUnknownBank])
            }
            ("path", _) => codes.push(NotFound),
            ("query", "limit" | "after" | "before") => codes.push(PagingInvalid),
            ("header", "Idempotency-Key") => {
                codes.extend([IdempotencyKeyMissing, IdempotencyKeyInvalid, IdempotencyKeyReused])
            }
            _ => {}
        }
    }
    codes
}

/// The codes of an operation's own use case.
fn own_refusals(operation_id: &str) -> impl Iterator<Item = ErrorCode> + use<'_> {
    OWN_REFUSALS
        .iter()
        .filter(move |(id, _)| *id == operation_id)
        .flat_map(|(_, groups)| groups.iter().flat_map(|group| group.iter().copied()))
}

/// Lists each operation's codes in its `4XX` response.
pub struct ListedRefusals;

impl Modify for ListedRefusals {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Ok(mut document) = serde_json::to_value(&*openapi) else { return };
        let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else { return };
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else { continue };
            for operation in item.values_mut() {
                let mut codes = shape_refusals(path, operation);
                let operation_id = operation.get("operationId").and_then(Value::as_str).unwrap_or_default().to_owned();
                codes.extend(own_refusals(&operation_id));
                let Some(refused) = operation.pointer_mut("/responses/4XX").and_then(Value::as_object_mut) else {
                    continue;
                };
                // In the order of the ErrorCode enum, each once.
                let listed: Vec<ErrorCode> =
                    <ErrorCode as strum::IntoEnumIterator>::iter().filter(|code| codes.contains(code)).collect();
                refused.insert("description".to_owned(), Value::from(refusals(&listed)));
            }
        }
        if let Ok(listed) = serde_json::from_value(document) {
            *openapi = listed;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_named_in_the_table_is_named_once() {
        for (index, (id, _)) in OWN_REFUSALS.iter().enumerate() {
            assert!(OWN_REFUSALS.iter().skip(index + 1).all(|(other, _)| other != id), "{id} twice");
        }
    }

    #[test]
    fn a_secured_paged_operation_with_a_body_lists_what_its_shape_may_refuse() {
        let operation = serde_json::json!({
            "security": [{"bearer": []}],
            "requestBody": {},
            "parameters": [{"name": "limit", "in": "query"}, {"name": "family_id", "in": "path"}],
        });
        let codes = shape_refusals("/v1/things/{family_id}", &operation);
        for code in [InvalidRequest, CharacterNotAllowed, PayloadTooLarge, TokenRevoked, PagingInvalid, NotFound] {
            assert!(codes.contains(&code), "{code:?} missing from {codes:?}");
        }
        assert!(shape_refusals("/healthz", &serde_json::json!({})).is_empty());
    }

    #[test]
    fn every_operation_named_in_the_table_is_in_the_document() {
        let document = serde_json::to_value(<crate::http::openapi::ApiDoc as utoipa::OpenApi>::openapi()).unwrap();
        let ids: Vec<&str> = document["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|item| item.as_object().unwrap().values())
            .filter_map(|operation| operation["operationId"].as_str())
            .collect();
        for (id, _) in OWN_REFUSALS {
            assert!(ids.contains(id), "{id} is in the table but no operation has that operationId");
        }
    }
}
