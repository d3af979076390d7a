//! Diesel's view of the tables in `migrations/` (identical on both backends).

diesel::table! {
    accounts (id) {
        id -> BigInt,
        owner_kind -> Text,
        owner_id -> Text,
        kind -> Text,
        status -> Text,
        balance_minor -> BigInt,
        held_minor -> BigInt,
        opened_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    journals (id) {
        id -> BigInt,
        kind -> Text,
        reference -> Text,
        memo -> Text,
        reverses_journal_id -> Nullable<BigInt>,
        posted_at -> Timestamp,
    }
}

diesel::table! {
    postings (id) {
        id -> BigInt,
        journal_id -> BigInt,
        account_id -> BigInt,
        amount_minor -> BigInt,
        balance_after_minor -> BigInt,
    }
}

diesel::table! {
    holds (id) {
        id -> BigInt,
        account_id -> BigInt,
        amount_minor -> BigInt,
        reason -> Text,
        reference -> Text,
        placed_by -> Text,
        placed_at -> Timestamp,
        release_at -> Nullable<Timestamp>,
        status -> Text,
        ended_at -> Nullable<Timestamp>,
        ended_by -> Nullable<Text>,
        capture_journal_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    idempotency_records (scope, idempotency_key) {
        scope -> Text,
        idempotency_key -> Text,
        request_fingerprint -> Text,
        response -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(postings -> journals (journal_id));
diesel::joinable!(postings -> accounts (account_id));
diesel::joinable!(holds -> accounts (account_id));

diesel::allow_tables_to_appear_in_same_query!(accounts, journals, postings, holds, idempotency_records);
