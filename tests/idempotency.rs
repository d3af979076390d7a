//! An operation with an idempotency key happens once; its retry gets the first answer.

use kks_api::domain::ledger::JournalKind;
use kks_api::ledger::idempotency::{self, IdempotentRequest};
use kks_api::ledger::posting::{self, PostedJournal};
use kks_api::ledger::{AccountId, LedgerError, Refusal};
use kks_api::store::Store;

use crate::support::ledger::{account, assert_ledger_clean, fund, refusal, rupiah, savings};
use crate::support::on_both_backends;

fn withdraw_once(
    store: &Store,
    key: &str,
    from: AccountId,
    to: AccountId,
    rupiah_amount: i64,
) -> Result<PostedJournal, LedgerError> {
    let fingerprint = idempotency::fingerprint(&(from, to, rupiah_amount)).unwrap();
    let request = IdempotentRequest { scope: "terminal-T1", key, fingerprint: &fingerprint, presumed: None };
    idempotency::run_once(
        store,
        &request,
        |_| Ok(()),
        |tx, ()| posting::transfer(tx, JournalKind::CashWithdrawal, key, from, to, rupiah(rupiah_amount)),
    )
}

on_both_backends! {
    fn a_retry_with_the_same_key_changes_balances_once_and_gets_the_same_answer(database) {
        let store = database.store();
        let (family, agent) = (savings(&store, "family"), savings(&store, "agent"));
        fund(&store, family, rupiah(500_000));
        let first = withdraw_once(&store, "stan-000001", family, agent, 100_000).unwrap();
        let retry = withdraw_once(&store, "stan-000001", family, agent, 100_000).unwrap();
        assert_eq!(first, retry);
        assert_eq!(account(&store, family).balance_minor, 40_000_000);
        assert_ledger_clean(&store);
    }

    fn the_same_key_with_another_request_is_refused_and_changes_nothing(database) {
        let store = database.store();
        let (family, agent) = (savings(&store, "family"), savings(&store, "agent"));
        fund(&store, family, rupiah(500_000));
        withdraw_once(&store, "stan-000002", family, agent, 100_000).unwrap();
        let error = withdraw_once(&store, "stan-000002", family, agent, 200_000).unwrap_err();
        assert_eq!(refusal(error), Refusal::IdempotencyKeyReused { key: "stan-000002".to_owned() });
        assert_eq!(account(&store, family).balance_minor, 40_000_000);
    }

    fn a_refusal_is_the_answer_a_retry_gets_even_after_money_arrives(database) {
        let store = database.store();
        let (family, agent) = (savings(&store, "family"), savings(&store, "agent"));
        let first = refusal(withdraw_once(&store, "stan-000003", family, agent, 100_000).unwrap_err());
        assert!(matches!(first, Refusal::InsufficientFunds { .. }));
        fund(&store, family, rupiah(500_000));
        let retry = refusal(withdraw_once(&store, "stan-000003", family, agent, 100_000).unwrap_err());
        assert_eq!(first, retry);
        assert_eq!(account(&store, family).balance_minor, 50_000_000);
        // A new key is a new request.
        withdraw_once(&store, "stan-000004", family, agent, 100_000).unwrap();
        assert_eq!(account(&store, family).balance_minor, 40_000_000);
        assert_ledger_clean(&store);
    }

    fn concurrent_retries_of_one_key_take_effect_once(database) {
        let store = database.store();
        let (family, agent) = (savings(&store, "family"), savings(&store, "agent"));
        fund(&store, family, rupiah(500_000));
        let answers: Vec<PostedJournal> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| withdraw_once(&store, "stan-000005", family, agent, 100_000).unwrap()))
                .collect();
            handles.into_iter().map(|handle| handle.join().unwrap()).collect()
        });
        assert!(answers.windows(2).all(|pair| pair[0] == pair[1]), "every retry got the first answer");
        assert_eq!(account(&store, family).balance_minor, 40_000_000);
        assert_ledger_clean(&store);
    }
}
