//! Many threads moving money between a few accounts at once, with overdraw attempts
//! and debits against held money: afterwards the ledger is whole.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use kks_api::domain::ledger::{AccountKind, HoldReason, JournalKind, OwnerKind};
use kks_api::ledger::holds::{self, HoldDraft};
use kks_api::ledger::{posting, AccountId, LedgerError, Refusal};
use kks_api::store::Store;
use rand::Rng;

use crate::support::ledger::{account, assert_ledger_clean, fund, rupiah, savings};
use crate::support::{kks, on_both_backends};

const THREADS: usize = 8;
const OPERATIONS_PER_THREAD: usize = 150;
const ACCOUNTS: usize = 5;
const FUNDING_RUPIAH: i64 = 100_000;

/// One random operation: mostly transfers (some far too large), some holds placed and
/// released. Refusals are expected; outages are not.
fn random_operation(store: &Store, accounts: &[AccountId], counted: &AtomicI64) {
    let mut random = rand::rng();
    let from = accounts[random.random_range(0..accounts.len())];
    let to = accounts[random.random_range(0..accounts.len())];
    let result = match random.random_range(0..10) {
        0..=6 if from != to => {
            // One in five asks for more than any account could hold.
            let amount = if random.random_ratio(1, 5) { FUNDING_RUPIAH * 10 } else { random.random_range(1..=30_000) };
            store
                .write(|tx| posting::transfer(tx, JournalKind::Adjustment, "race", from, to, rupiah(amount)))
                .map(|_| ())
        }
        7 | 8 => {
            let draft = HoldDraft {
                account: from,
                amount: rupiah(random.random_range(1..=20_000)),
                reason: HoldReason::Investigation,
                reference: "race",
                placed_by: "test",
                release_at: None,
            };
            store.write(|tx| holds::place(tx, &draft)).map(|_| ())
        }
        _ => store.write(|tx| match holds::find_active_by_account(tx, from)?.first() {
            Some(hold) => holds::release(tx, hold.id, "test").map(|_| ()),
            None => Ok(()),
        }),
    };
    match result {
        Ok(()) => {
            counted.fetch_add(1, Ordering::Relaxed);
        }
        Err(LedgerError::Refused(
            Refusal::InsufficientFunds { .. } | Refusal::FundsHeld { .. } | Refusal::HoldNotActive { .. },
        )) => {}
        Err(other) => panic!("unexpected failure under concurrency: {other}"),
    }
}

on_both_backends! {
    fn concurrent_transfers_and_holds_keep_every_balance_equal_to_its_entries(database) {
        let store = database.store();
        let accounts: Vec<AccountId> = (0..ACCOUNTS).map(|index| savings(&store, &format!("family-{index}"))).collect();
        for account in &accounts {
            fund(&store, *account, rupiah(FUNDING_RUPIAH));
        }
        let succeeded = Arc::new(AtomicI64::new(0));
        std::thread::scope(|scope| {
            for _ in 0..THREADS {
                let (store, accounts, succeeded) = (store.clone(), accounts.clone(), succeeded.clone());
                scope.spawn(move || {
                    for _ in 0..OPERATIONS_PER_THREAD {
                        random_operation(&store, &accounts, &succeeded);
                    }
                });
            }
        });
        assert!(succeeded.load(Ordering::Relaxed) > 0, "some operations went through");

        let total: i64 = accounts.iter().map(|id| account(&store, *id).balance_minor).sum();
        assert_eq!(total, FUNDING_RUPIAH * 100 * ACCOUNTS as i64, "money moved between families, none created or lost");
        for id in &accounts {
            let after = account(&store, *id);
            assert!(after.held_minor >= 0 && after.balance_minor >= after.held_minor, "{after:?} is below its holds");
        }
        assert_ledger_clean(&store);
        let verified = kks(&database, &["verify-ledger"]);
        assert!(verified.status.success(), "kks verify-ledger: {}", String::from_utf8_lossy(&verified.stdout));
    }

    fn an_account_opened_by_racing_first_uses_is_opened_once(database) {
        const OWNERS: usize = 20;
        let store = database.store();
        let round = std::sync::Barrier::new(THREADS);
        // Each thread opens the same twenty agents' settlement accounts, all threads
        // starting each agent together.
        // A failure is kept, not raised, so that no thread leaves the others at the barrier.
        let opened: Vec<Vec<Result<AccountId, String>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..THREADS)
                .map(|_| {
                    scope.spawn(|| {
                        (0..OWNERS)
                            .map(|owner| {
                                round.wait();
                                store
                                    .write(|tx| {
                                        kks_api::ledger::accounts::find_or_open(
                                            tx,
                                            OwnerKind::Agent,
                                            &owner.to_string(),
                                            AccountKind::AgentSettlement,
                                        )
                                    })
                                    .map(|account| account.id)
                                    .map_err(|error| error.to_string())
                            })
                            .collect()
                    })
                })
                .collect();
            handles.into_iter().map(|handle| handle.join().unwrap()).collect()
        });
        let failed: Vec<&String> = opened.iter().flatten().filter_map(|result| result.as_ref().err()).collect();
        assert!(failed.is_empty(), "racers failed to open an account: {failed:?}");
        assert!(opened.windows(2).all(|pair| pair[0] == pair[1]), "one account per agent for all: {opened:?}");
        assert_ledger_clean(&store);
    }

    fn racing_withdrawals_never_spend_the_same_money_twice(database) {
        let store = database.store();
        let (family, agent) = (savings(&store, "family"), savings(&store, "agent"));
        fund(&store, family, rupiah(1_000_000));
        let approved = AtomicI64::new(0);
        std::thread::scope(|scope| {
            for _ in 0..THREADS {
                scope.spawn(|| {
                    for _ in 0..5 {
                        match store.write(|tx| {
                            posting::transfer(tx, JournalKind::CashWithdrawal, "race", family, agent, rupiah(100_000))
                        }) {
                            Ok(_) => {
                                approved.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(LedgerError::Refused(Refusal::InsufficientFunds { .. })) => {}
                            Err(other) => panic!("unexpected failure: {other}"),
                        }
                    }
                });
            }
        });
        assert_eq!(approved.load(Ordering::Relaxed), 10, "exactly the balance is paid out: 10 × Rp 100,000");
        assert_eq!(account(&store, family).balance_minor, 0);
        assert_eq!(account(&store, agent).balance_minor, 100_000_000);
        assert_ledger_clean(&store);
    }

    // On SQLite concurrent writes share one commit (group commit): a write that fails
    // after posting must take only its own postings with it.
    fn a_failed_write_is_undone_alone_among_concurrent_writes(database) {
        let store = database.store();
        let (family, agent) = (savings(&store, "family"), savings(&store, "agent"));
        fund(&store, family, rupiah(1_000_000));
        let committed = AtomicI64::new(0);
        std::thread::scope(|scope| {
            for thread in 0..THREADS {
                let (store, committed) = (&store, &committed);
                scope.spawn(move || {
                    for write in 0..40 {
                        let fails = (thread + write) % 3 == 0;
                        let result = store.write(|tx| {
                            posting::transfer(tx, JournalKind::CashWithdrawal, "group", family, agent, rupiah(1))?;
                            if fails {
                                return Err(LedgerError::from(Refusal::Malformed { problem: "fails after posting".to_owned() }));
                            }
                            Ok(())
                        });
                        match (fails, result) {
                            (false, Ok(())) => {
                                committed.fetch_add(1, Ordering::Relaxed);
                            }
                            (true, Err(LedgerError::Refused(Refusal::Malformed { .. }))) => {}
                            (fails, other) => panic!("write that fails: {fails}, got {other:?}"),
                        }
                    }
                });
            }
        });
        let committed = committed.load(Ordering::Relaxed);
        assert!(committed > 0 && committed < (THREADS * 40) as i64);
        assert_eq!(account(&store, agent).balance_minor, committed * 100, "exactly the committed writes moved money");
        assert_eq!(account(&store, family).balance_minor, 100_000_000 - committed * 100);
        assert_ledger_clean(&store);
    }
}
