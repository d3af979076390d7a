//! The posting primitive and holds, on real databases.

use kks_api::domain::ledger::{HoldReason, HoldStatus, JournalKind};
use kks_api::ledger::holds::{self, HoldDraft};
use kks_api::ledger::posting::{self, JournalDraft, Leg};
use kks_api::ledger::{accounts, Refusal};

use crate::support::ledger::{account, assert_ledger_clean, fund, refusal, rupiah, savings, treasury};
use crate::support::on_both_backends;

fn hold_draft(account: kks_api::ledger::AccountId, amount: i64, reason: HoldReason) -> HoldDraft<'static> {
    HoldDraft { account, amount: rupiah(amount), reason, reference: "test", placed_by: "test", release_at: None }
}

on_both_backends! {
    fn a_transfer_moves_money_in_one_balanced_journal(database) {
        let store = database.store();
        let (ani, budi) = (savings(&store, "ani"), savings(&store, "budi"));
        fund(&store, ani, rupiah(500_000));
        let journal = store
            .write(|tx| posting::transfer(tx, JournalKind::Adjustment, "ref-1", ani, budi, rupiah(200_000)))
            .unwrap();
        assert_eq!(journal.postings.len(), 2);
        assert_eq!(journal.postings.iter().map(|posting| posting.amount_minor).sum::<i64>(), 0);
        assert_eq!(journal.balance_after(ani), Some(30_000_000));
        assert_eq!(account(&store, ani).balance_minor, 30_000_000);
        assert_eq!(account(&store, budi).balance_minor, 20_000_000);
        assert_eq!(account(&store, treasury(&store)).balance_minor, -50_000_000, "the treasury funds the programme");
        assert_ledger_clean(&store);
    }

    fn a_debit_beyond_the_balance_is_refused_and_changes_nothing(database) {
        let store = database.store();
        let (ani, budi) = (savings(&store, "ani"), savings(&store, "budi"));
        fund(&store, ani, rupiah(100_000));
        let error = store
            .write(|tx| posting::transfer(tx, JournalKind::Adjustment, "too much", ani, budi, rupiah(100_001)))
            .unwrap_err();
        assert_eq!(
            refusal(error),
            Refusal::InsufficientFunds { account: ani, available_minor: 10_000_000, requested_minor: 10_000_100 }
        );
        assert_eq!(account(&store, ani).balance_minor, 10_000_000);
        assert_eq!(account(&store, budi).balance_minor, 0);
        assert_ledger_clean(&store);
    }

    fn a_debit_of_held_money_is_refused_as_blocked_with_its_reason(database) {
        let store = database.store();
        let (ani, budi) = (savings(&store, "ani"), savings(&store, "budi"));
        fund(&store, ani, rupiah(500_000));
        store.write(|tx| holds::place(tx, &hold_draft(ani, 390_000, HoldReason::CommitmentSuspension))).unwrap();
        let error = store
            .write(|tx| posting::transfer(tx, JournalKind::Adjustment, "spend held", ani, budi, rupiah(200_000)))
            .unwrap_err();
        assert_eq!(
            refusal(error),
            Refusal::FundsHeld {
                account: ani,
                available_minor: 11_000_000,
                requested_minor: 20_000_000,
                reasons: vec![HoldReason::CommitmentSuspension],
            }
        );
        // What is not held can still be spent.
        store.write(|tx| posting::transfer(tx, JournalKind::Adjustment, "spend free", ani, budi, rupiah(110_000))).unwrap();
        let ani_after = account(&store, ani);
        assert_eq!((ani_after.balance_minor, ani_after.held_minor), (39_000_000, 39_000_000), "nothing free is left");
        assert_ledger_clean(&store);
    }

    fn a_released_hold_makes_the_money_available_again_once(database) {
        let store = database.store();
        let (ani, budi) = (savings(&store, "ani"), savings(&store, "budi"));
        fund(&store, ani, rupiah(500_000));
        let hold = store.write(|tx| holds::place(tx, &hold_draft(ani, 500_000, HoldReason::StageNotOpen))).unwrap();
        let released = store.write(|tx| holds::release(tx, hold.id, "operator-1")).unwrap();
        assert_eq!((released.status, released.ended_by.as_deref()), (HoldStatus::Released, Some("operator-1")));
        let again = store.write(|tx| holds::release(tx, hold.id, "operator-1")).unwrap_err();
        assert_eq!(refusal(again), Refusal::HoldNotActive { hold: hold.id, status: HoldStatus::Released });
        store.write(|tx| posting::transfer(tx, JournalKind::Adjustment, "draw", ani, budi, rupiah(500_000))).unwrap();
        assert_eq!(account(&store, ani).balance_minor, 0);
        assert_ledger_clean(&store);
    }

    fn a_captured_hold_returns_the_blocked_money_to_the_treasury(database) {
        let store = database.store();
        let (ani, treasury) = (savings(&store, "ani"), treasury(&store));
        fund(&store, ani, rupiah(500_000));
        let hold = store.write(|tx| holds::place(tx, &hold_draft(ani, 300_000, HoldReason::CommitmentSuspension))).unwrap();
        let (captured, journal) = store
            .write(|tx| holds::capture(tx, hold.id, treasury, JournalKind::ReturnToTreasury, "termination", "rule"))
            .unwrap();
        assert_eq!(captured.status, HoldStatus::Captured);
        assert_eq!(captured.capture_journal, Some(journal.id));
        let ani_after = account(&store, ani);
        assert_eq!((ani_after.balance_minor, ani_after.held_minor), (20_000_000, 0));
        assert_eq!(account(&store, treasury).balance_minor, -20_000_000);
        assert_ledger_clean(&store);
    }

    fn a_hold_cannot_block_more_than_is_available(database) {
        let store = database.store();
        let ani = savings(&store, "ani");
        fund(&store, ani, rupiah(100_000));
        store.write(|tx| holds::place(tx, &hold_draft(ani, 60_000, HoldReason::Investigation))).unwrap();
        let error = store.write(|tx| holds::place(tx, &hold_draft(ani, 50_000, HoldReason::LostCard))).unwrap_err();
        assert_eq!(
            refusal(error),
            Refusal::InsufficientFunds { account: ani, available_minor: 4_000_000, requested_minor: 5_000_000 }
        );
        assert_eq!(account(&store, ani).held_minor, 6_000_000);
        assert_ledger_clean(&store);
    }

    fn a_hold_past_its_release_time_no_longer_blocks_a_debit(database) {
        let store = database.store();
        let (ani, budi) = (savings(&store, "ani"), savings(&store, "budi"));
        fund(&store, ani, rupiah(500_000));
        let stage_opened = kks_api::store::now() - chrono::Duration::seconds(1);
        let draft = HoldDraft { release_at: Some(stage_opened), ..hold_draft(ani, 500_000, HoldReason::StageNotOpen) };
        let hold = store.write(|tx| holds::place(tx, &draft)).unwrap();
        store.write(|tx| posting::transfer(tx, JournalKind::Adjustment, "draw", ani, budi, rupiah(500_000))).unwrap();
        let ended = store.read(|tx| holds::find_by_id(tx, hold.id)).unwrap().unwrap();
        assert_eq!((ended.status, ended.ended_by.as_deref()), (HoldStatus::Released, Some("release time reached")));
        assert_ledger_clean(&store);
    }

    fn a_hold_not_yet_due_keeps_blocking(database) {
        let store = database.store();
        let (ani, budi) = (savings(&store, "ani"), savings(&store, "budi"));
        fund(&store, ani, rupiah(500_000));
        let stage_opens = kks_api::store::now() + chrono::Duration::days(30);
        let draft = HoldDraft { release_at: Some(stage_opens), ..hold_draft(ani, 500_000, HoldReason::StageNotOpen) };
        store.write(|tx| holds::place(tx, &draft)).unwrap();
        let error = store
            .write(|tx| posting::transfer(tx, JournalKind::Adjustment, "draw", ani, budi, rupiah(1)))
            .unwrap_err();
        assert!(matches!(refusal(error), Refusal::FundsHeld { .. }));
    }

    fn malformed_journals_are_refused_before_anything_is_written(database) {
        let store = database.store();
        let (ani, budi) = (savings(&store, "ani"), savings(&store, "budi"));
        fund(&store, ani, rupiah(1_000));
        let drafts = [
            vec![Leg { account: ani, amount_minor: -100 }, Leg { account: budi, amount_minor: 99 }],
            vec![Leg { account: ani, amount_minor: -100 }],
            vec![Leg { account: ani, amount_minor: -100 }, Leg { account: ani, amount_minor: 100 }],
            vec![Leg { account: ani, amount_minor: 0 }, Leg { account: budi, amount_minor: 0 }],
            vec![Leg { account: ani, amount_minor: i64::MIN }, Leg { account: budi, amount_minor: i64::MAX }],
        ];
        for legs in drafts {
            let draft = JournalDraft { kind: JournalKind::Adjustment, reference: "bad", memo: "", legs: legs.clone() };
            let error = store.write(|tx| posting::post(tx, &draft)).unwrap_err();
            assert!(matches!(refusal(error), Refusal::Malformed { .. }), "{legs:?} was not refused");
        }
        assert_eq!(account(&store, ani).balance_minor, 100_000);
        assert_eq!(account(&store, budi).balance_minor, 0);
        assert_ledger_clean(&store);
    }

    fn a_reversal_restores_balances_exactly_once(database) {
        let store = database.store();
        let (ani, budi) = (savings(&store, "ani"), savings(&store, "budi"));
        fund(&store, ani, rupiah(500_000));
        let original = store
            .write(|tx| posting::transfer(tx, JournalKind::CashWithdrawal, "stan-1", ani, budi, rupiah(200_000)))
            .unwrap();
        let reversal = store.write(|tx| posting::reverse(tx, original.id, "stan-1 reversal", "")).unwrap();
        assert_eq!(reversal.kind, JournalKind::Reversal);
        assert_eq!(account(&store, ani).balance_minor, 50_000_000);
        let again = store.write(|tx| posting::reverse(tx, original.id, "stan-1 reversal", "")).unwrap_err();
        assert_eq!(refusal(again), Refusal::AlreadyReversed { journal: original.id });
        assert_eq!(account(&store, budi).balance_minor, 0);
        assert_ledger_clean(&store);
    }

    fn a_closed_account_neither_pays_nor_receives(database) {
        let store = database.store();
        let (ani, budi) = (savings(&store, "ani"), savings(&store, "budi"));
        fund(&store, ani, rupiah(1_000));
        let error = store.write(|tx| accounts::close(tx, ani)).unwrap_err();
        assert!(matches!(refusal(error), Refusal::AccountNotEmpty { .. }), "a funded account does not close");
        store.write(|tx| accounts::close(tx, budi)).unwrap();
        let error = store
            .write(|tx| posting::transfer(tx, JournalKind::Adjustment, "to closed", ani, budi, rupiah(1)))
            .unwrap_err();
        assert_eq!(refusal(error), Refusal::AccountClosed { account: budi });
        assert_eq!(account(&store, ani).balance_minor, 100_000);
    }

    fn posted_entries_cannot_be_edited_or_deleted(database) {
        use diesel::connection::SimpleConnection;
        let store = database.store();
        let ani = savings(&store, "ani");
        fund(&store, ani, rupiah(1_000));
        for statement in ["UPDATE postings SET amount_minor = 1", "DELETE FROM postings", "UPDATE journals SET memo = 'x'"] {
            let result = store.write(|tx| -> Result<(), kks_api::store::StoreError> {
                match tx {
                    kks_api::store::Tx::Sqlite(connection) => connection.batch_execute(statement)?,
                    kks_api::store::Tx::Postgres(connection) => connection.batch_execute(statement)?,
                }
                Ok(())
            });
            assert!(result.is_err(), "{statement} was allowed");
        }
        assert_ledger_clean(&store);
    }

    fn a_fan_out_posts_one_journal_to_many_and_skips_closed_accounts(database) {
        let store = database.store();
        let source = savings(&store, "fund");
        let wallets: Vec<_> = (0..5).map(|index| savings(&store, &format!("family-{index}"))).collect();
        store.write(|tx| accounts::close(tx, wallets[2])).unwrap();
        fund(&store, source, rupiah(2_000));
        let credits: Vec<posting::FanOutCredit> = wallets
            .iter()
            .enumerate()
            .map(|(index, account)| posting::FanOutCredit { account: *account, amount: rupiah(100 * (index as i64 + 1)) })
            .collect();
        let (journal, paid) = store
            .write(|tx| posting::fan_out(tx, JournalKind::Disbursement, "chunk 1", source, &credits))
            .unwrap()
            .expect("a journal");
        assert_eq!(paid, [true, true, false, true, true]);
        assert!(journal.0 > 0);
        assert_eq!(account(&store, wallets[4]).balance_minor, 50_000);
        assert_eq!(account(&store, wallets[2]).balance_minor, 0, "a closed account receives nothing");
        assert_eq!(account(&store, source).balance_minor, (2_000 - 100 - 200 - 400 - 500) * 100);
        assert_ledger_clean(&store);

        // More than the source holds: refused as a whole, nothing written.
        let error =
            store.write(|tx| posting::fan_out(tx, JournalKind::Disbursement, "chunk 2", source, &credits)).unwrap_err();
        assert!(matches!(refusal(error), Refusal::InsufficientFunds { .. }));
        assert_eq!(account(&store, wallets[0]).balance_minor, 10_000, "the refused fan-out credited nobody");
        assert_ledger_clean(&store);
    }
}
