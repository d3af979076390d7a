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
        blocked_reason -> Nullable<Text>,
        blocked_reference -> Nullable<Text>,
        blocked_by -> Nullable<Text>,
        blocked_at -> Nullable<Timestamp>,
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

diesel::table! {
    regions (code) {
        code -> Text,
        name -> Text,
        level -> Text,
        parent_code -> Nullable<Text>,
    }
}

diesel::table! {
    operators (id) {
        id -> BigInt,
        username -> Text,
        display_name -> Text,
        role -> Text,
        region_code -> Nullable<Text>,
        password_hash -> Text,
        token_version -> BigInt,
        created_at -> Timestamp,
        disabled_at -> Nullable<Timestamp>,
        password_change_required -> Bool,
    }
}

diesel::table! {
    agents (id) {
        id -> BigInt,
        username -> Text,
        display_name -> Text,
        kind -> Text,
        bank -> Text,
        village_code -> Text,
        password_hash -> Text,
        token_version -> BigInt,
        created_at -> Timestamp,
        owner_name -> Nullable<Text>,
        disabled_at -> Nullable<Timestamp>,
        password_change_required -> Bool,
    }
}

diesel::table! {
    terminals (id) {
        id -> Text,
        agent_id -> BigInt,
        status -> Text,
        created_at -> Timestamp,
        serial -> Nullable<Text>,
    }
}

diesel::table! {
    families (id) {
        id -> BigInt,
        nik -> Text,
        recipient_name -> Text,
        address -> Text,
        village_code -> Text,
        category -> Text,
        status -> Text,
        token_version -> BigInt,
        created_at -> Timestamp,
        family_card_number -> Nullable<Text>,
        health_facility -> Nullable<Text>,
        natural_exit_due -> Bool,
    }
}

diesel::table! {
    family_members (id) {
        id -> BigInt,
        family_id -> BigInt,
        name -> Text,
        component -> Text,
        school_level -> Nullable<Text>,
        ended_reason -> Nullable<Text>,
        ended_at -> Nullable<Timestamp>,
        nik -> Nullable<Text>,
    }
}

diesel::table! {
    cards (card_number) {
        card_number -> Text,
        family_id -> BigInt,
        bank -> Text,
        sequence -> Integer,
        status -> Text,
        expires_on -> Date,
        issued_at -> Timestamp,
        pin_hash -> Text,
        pin_key_version -> Integer,
        pin_failed_attempts -> Integer,
        pin_locked_at -> Nullable<Timestamp>,
        replaced_by -> Nullable<Text>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        object_kind -> Text,
        object_id -> Text,
        reason -> Text,
        details -> Text,
    }
}

diesel::table! {
    edc_transactions (id) {
        id -> BigInt,
        terminal_id -> Text,
        stan -> Text,
        business_date -> Date,
        kind -> Text,
        status -> Text,
        agent_id -> BigInt,
        card_number -> Nullable<Text>,
        family_id -> Nullable<BigInt>,
        pocket -> Nullable<Text>,
        amount_minor -> BigInt,
        journal_id -> Nullable<BigInt>,
        reference -> Text,
        approval_code -> Text,
        original_stan -> Nullable<Text>,
        created_at -> Timestamp,
        basket -> Nullable<Text>,
        savings_minor -> Nullable<BigInt>,
        savings_held_minor -> Nullable<BigInt>,
        savings_blocked -> Nullable<Bool>,
        pkh_minor -> Nullable<BigInt>,
        pkh_held_minor -> Nullable<BigInt>,
        pkh_blocked -> Nullable<Bool>,
        bpnt_minor -> Nullable<BigInt>,
        bpnt_held_minor -> Nullable<BigInt>,
        bpnt_blocked -> Nullable<Bool>,
        lpg_minor -> Nullable<BigInt>,
        lpg_held_minor -> Nullable<BigInt>,
        lpg_blocked -> Nullable<Bool>,
    }
}

diesel::table! {
    usage_counters (scope, period) {
        scope -> Text,
        period -> Text,
        used -> BigInt,
    }
}

diesel::table! {
    login_throttles (subject) {
        subject -> Text,
        failures -> Integer,
        last_failure_at -> Timestamp,
        blocked_until -> Timestamp,
    }
}

diesel::table! {
    catalogue_items (sku) {
        sku -> Text,
        name -> Text,
        programme -> Text,
        unit -> Text,
        price_minor -> BigInt,
        monthly_quota -> Nullable<Integer>,
        active -> Bool,
    }
}

diesel::table! {
    benefit_schedules (programme, year, category, period) {
        programme -> Text,
        year -> Integer,
        category -> Text,
        period -> Integer,
        amount_minor -> BigInt,
    }
}

diesel::table! {
    disbursement_batches (id) {
        id -> BigInt,
        programme -> Text,
        year -> Integer,
        period -> Integer,
        region_code -> Nullable<Text>,
        status -> Text,
        release_at -> Nullable<Timestamp>,
        prepared_by -> Text,
        prepared_at -> Timestamp,
        approved_by -> Nullable<Text>,
        approved_at -> Nullable<Timestamp>,
        completed_at -> Nullable<Timestamp>,
        lines_total -> BigInt,
        amount_total_minor -> BigInt,
        paid_lines -> BigInt,
        paid_amount_minor -> BigInt,
        failed_lines -> BigInt,
        cancelled_by -> Nullable<Text>,
        cancelled_at -> Nullable<Timestamp>,
        cancellation_reason -> Nullable<Text>,
    }
}

diesel::table! {
    disbursement_lines (id) {
        id -> BigInt,
        batch_id -> BigInt,
        programme -> Text,
        year -> Integer,
        period -> Integer,
        family_id -> BigInt,
        amount_minor -> BigInt,
        status -> Text,
        failure_reason -> Nullable<Text>,
        journal_id -> Nullable<BigInt>,
        paid_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    verification_records (family_id, cycle) {
        family_id -> BigInt,
        cycle -> Text,
        complied -> Bool,
        member_id -> Nullable<BigInt>,
        obligation -> Nullable<Text>,
        recorded_by -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    cycle_outcomes (cycle, family_id) {
        cycle -> Text,
        family_id -> BigInt,
        outcome -> Text,
        failed_cycles_in_row -> Integer,
        decided_at -> Timestamp,
    }
}

diesel::joinable!(postings -> journals (journal_id));
diesel::joinable!(disbursement_lines -> disbursement_batches (batch_id));
diesel::joinable!(postings -> accounts (account_id));
diesel::joinable!(holds -> accounts (account_id));

diesel::joinable!(terminals -> agents (agent_id));
diesel::table! {
    family_exits (family_id) {
        family_id -> BigInt,
        kind -> Text,
        reason -> Text,
        year_in -> Integer,
        year_out -> Integer,
        non_cash_continues -> Bool,
        note -> Text,
        recorded_by -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::joinable!(family_members -> families (family_id));
diesel::joinable!(family_exits -> families (family_id));
diesel::joinable!(cards -> families (family_id));

diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    journals,
    postings,
    holds,
    idempotency_records,
    regions,
    operators,
    agents,
    terminals,
    families,
    family_members,
    family_exits,
    cards,
    audit_events,
    edc_transactions,
    usage_counters,
    login_throttles,
    catalogue_items,
    benefit_schedules,
    disbursement_batches,
    disbursement_lines,
    verification_records,
    cycle_outcomes,
);

// Monitoring (migration 000005). The aggregate tables are read with SQL that rolls them
// up; only the facilitator tables are written through diesel.
diesel::table! {
    facilitators (id) {
        id -> BigInt,
        name -> Text,
        region_code -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    facilitator_villages (facilitator_id, village_code) {
        facilitator_id -> BigInt,
        village_code -> Text,
    }
}

// Complaints and P2K2 sessions (migration 000019).
diesel::table! {
    complaints (id) {
        id -> BigInt,
        channel -> Text,
        category -> Text,
        priority -> Text,
        status -> Text,
        region_code -> Nullable<Text>,
        family_id -> Nullable<BigInt>,
        card_number -> Nullable<Text>,
        agent_id -> Nullable<BigInt>,
        edc_reference -> Nullable<Text>,
        hold_id -> Nullable<BigInt>,
        description -> Text,
        contact -> Text,
        assignee -> Nullable<Text>,
        filed_by -> Text,
        received_at -> Timestamp,
        due_at -> Timestamp,
        settled_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    complaint_events (id) {
        id -> BigInt,
        complaint_id -> BigInt,
        kind -> Text,
        status -> Text,
        text -> Text,
        actor -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    p2k2_sessions (id) {
        id -> BigInt,
        village_code -> Text,
        group_name -> Text,
        held_on -> Date,
        module -> Text,
        recorded_by -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    p2k2_attendance (session_id, family_id) {
        session_id -> BigInt,
        family_id -> BigInt,
    }
}

diesel::joinable!(complaint_events -> complaints (complaint_id));
diesel::joinable!(p2k2_attendance -> p2k2_sessions (session_id));
diesel::allow_tables_to_appear_in_same_query!(complaints, complaint_events);
diesel::allow_tables_to_appear_in_same_query!(p2k2_sessions, p2k2_attendance);

diesel::table! {
    family_changes (id) {
        id -> BigInt,
        family_id -> BigInt,
        kind -> Text,
        details -> Text,
        reason -> Text,
        actor -> Text,
        at -> Timestamp,
        natural_exit_due -> Bool,
        status -> Text,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        decision_reason -> Nullable<Text>,
    }
}

// Bulk imports and card issuance jobs (migration 000018).
diesel::table! {
    imports (id) {
        id -> BigInt,
        kind -> Text,
        actor -> Text,
        scope_code -> Nullable<Text>,
        digest -> Nullable<Text>,
        region_code -> Nullable<Text>,
        bank -> Nullable<Text>,
        status -> Text,
        lines_total -> BigInt,
        lines_done -> BigInt,
        accepted -> BigInt,
        rejected -> BigInt,
        already_present -> BigInt,
        started_at -> Timestamp,
        updated_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        pins_delivered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    import_rejections (import_id, line) {
        import_id -> BigInt,
        line -> BigInt,
        code -> Text,
        reason -> Text,
    }
}

diesel::table! {
    import_pins (import_id, card_number) {
        import_id -> BigInt,
        card_number -> Text,
        family_id -> BigInt,
        pin_sealed -> Text,
        pin_key_version -> Integer,
    }
}
