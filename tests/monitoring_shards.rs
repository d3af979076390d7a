//! On PostgreSQL, card transactions of one village at once do not wait for each other on
//! the dashboard's aggregate rows. Once a postings trigger added to them in the card
//! transaction (sharded by family, then by connection: migrations 000005 and 000009), and
//! under 64 terminals most backends waited on those rows; now the server rolls the
//! journal up in the background (migration 000021) and a card transaction writes no
//! aggregate row at all. This test keeps it so. SQLite has one writer, so there is
//! nothing to test there.

mod postgres {
    use std::sync::mpsc;
    use std::time::Duration;

    use diesel::connection::SimpleConnection;
    use kks_api::domain::auth::RegionCode;
    use kks_api::domain::family::BenefitCategory;
    use kks_api::domain::ledger::{AccountKind, JournalKind, OwnerKind};
    use kks_api::ledger::{accounts, posting, AccountId, LedgerError};
    use kks_api::store::families::{self, FamilyInsertForm};
    use kks_api::store::regions::{self, Region};
    use kks_api::store::{Store, StoreError, Tx};

    use crate::support::ledger::{assert_ledger_clean, fund, rupiah};
    use crate::support::TestDatabase;

    /// The family shards of before: ids eight apart shared one.
    const FAMILY_SHARDS_BEFORE: usize = 8;

    /// How long the second transaction waits for a row lock before it fails: far longer
    /// than its own work, far shorter than the test's patience.
    const LOCK_WAIT_MAX: &str = "5s";

    /// The savings of two families of one village whose ids shared a shard before.
    fn savings_of_one_village(store: &Store) -> (AccountId, AccountId) {
        let village = RegionCode::parse("32.04.12.2001").expect("a village code");
        let mut regions = vec![village.clone()];
        while let Some(parent) = regions.last().and_then(RegionCode::parent) {
            regions.push(parent);
        }
        store
            .write(|tx| -> Result<(), StoreError> {
                for region in regions.iter().rev() {
                    regions::insert_if_missing(tx, &Region::new(region, "Wilayah Uji"))?;
                }
                Ok(())
            })
            .expect("the village and the regions above it");
        let savings: Vec<AccountId> = (0..=FAMILY_SHARDS_BEFORE)
            .map(|index| {
                let nik = format!("320412550885{index:04}");
                store
                    .write(|tx| -> Result<AccountId, LedgerError> {
                        let form =
                            FamilyInsertForm::new(&nik, "Keluarga Uji", "Jl. Uji", &village, BenefitCategory::Regular);
                        let family = families::insert(tx, &form)?;
                        Ok(accounts::open(tx, OwnerKind::Family, &family.id.to_string(), AccountKind::Savings)?.id)
                    })
                    .expect("registering a family with savings")
            })
            .collect();
        let (first, last) = (savings[0], savings[FAMILY_SHARDS_BEFORE]);
        for account in [first, last] {
            fund(store, account, rupiah(100_000));
        }
        (first, last)
    }

    #[test]
    fn two_withdrawals_of_one_village_at_once_do_not_wait_for_each_other() {
        let database = TestDatabase::postgres();
        let store = database.store();
        let (first, second) = savings_of_one_village(&store);
        // Each pays out at an agent of its own: one agent's settlement account would be a
        // row both wait on, whatever the dashboard does.
        let settlement = |agent: &str| {
            store
                .write(|tx| accounts::open(tx, OwnerKind::Agent, agent, AccountKind::AgentSettlement))
                .expect("opening an agent's settlement account")
                .id
        };
        let (first_agent, second_agent) = (settlement("1"), settlement("2"));
        let withdraw = |tx: &mut Tx<'_>, from, to| {
            posting::transfer(tx, JournalKind::CashWithdrawal, "race", from, to, rupiah(10_000)).map(|_| ())
        };

        let (posted, posted_seen) = mpsc::channel();
        let (second_done, second_done_seen) = mpsc::channel::<Result<(), String>>();
        std::thread::scope(|scope| {
            // The first withdrawal posts, then stays open until the second has finished.
            let store_of_first = &store;
            let holder = scope.spawn(move || {
                store_of_first.write(|tx| -> Result<(), LedgerError> {
                    withdraw(tx, first, first_agent)?;
                    posted.send(()).expect("telling the second withdrawal");
                    let outcome =
                        second_done_seen.recv_timeout(Duration::from_secs(60)).expect("the second withdrawal ends");
                    outcome.expect("the second withdrawal posted while the first was open");
                    Ok(())
                })
            });
            posted_seen.recv_timeout(Duration::from_secs(60)).expect("the first withdrawal posts");
            let outcome = store.write(|tx| -> Result<(), LedgerError> {
                let Tx::Postgres(connection) = tx else { panic!("a PostgreSQL store") };
                connection.batch_execute(&format!("SET LOCAL lock_timeout = '{LOCK_WAIT_MAX}'"))?;
                withdraw(tx, second, second_agent)
            });
            second_done.send(outcome.map_err(|error| error.to_string())).expect("telling the first withdrawal");
            holder.join().expect("the first withdrawal's thread").expect("the first withdrawal commits");
        });
        assert_ledger_clean(&store);
    }
}
