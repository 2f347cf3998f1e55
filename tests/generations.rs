//! The change counters replicas validate their caches against: every version write bumps them in
//! its own transaction, and fresh reads of the registry's counter are shared between concurrent
//! callers without ever returning a value read before the caller asked. On the suite's database
//! (SQLite, or PostgreSQL in the second `.ci/run` pass): the queries are the same on both.

mod common;

use axum::http::StatusCode;
use common::TestRegistry;
use common::packs::TestPack;
use packyard::store::generations;

#[tokio::test]
async fn every_version_write_bumps_the_pack_and_the_registry() {
    let registry = TestRegistry::new().await;
    let db = &registry.db;
    let start = db.registry_generation().await.unwrap();
    assert_eq!(
        generations::of_pack(db.reader(), &"demo".parse().unwrap())
            .await
            .unwrap(),
        None
    );

    registry.publish_ok(&TestPack::new("demo", "1.0.0")).await;
    let after_publish = db.registry_generation().await.unwrap();
    assert_eq!(after_publish, start + 1);
    assert_eq!(
        generations::of_pack(db.reader(), &"demo".parse().unwrap())
            .await
            .unwrap(),
        Some(1)
    );

    // Publishing the same content again changes nothing, so counts nothing.
    let again = registry
        .publish(TestPack::new("demo", "1.0.0").archive())
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(db.registry_generation().await.unwrap(), after_publish);

    assert_eq!(
        registry
            .set_state("demo", "1.0.0", "deprecated")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(db.registry_generation().await.unwrap(), start + 2);
    assert_eq!(
        generations::of_pack(db.reader(), &"demo".parse().unwrap())
            .await
            .unwrap(),
        Some(2)
    );

    // A refused write (unknown state) leaves both alone; so does a blob upload.
    assert_eq!(
        registry.set_state("demo", "1.0.0", "retired").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        registry.put_blob("demo", b"a blob").await.status,
        StatusCode::CREATED
    );
    assert_eq!(db.registry_generation().await.unwrap(), start + 2);
    assert_eq!(
        generations::of_pack(db.reader(), &"demo".parse().unwrap())
            .await
            .unwrap(),
        Some(2)
    );

    // Another pack's write moves the registry's counter, not this pack's.
    registry.publish_ok(&TestPack::new("other", "1.0.0")).await;
    assert_eq!(db.registry_generation().await.unwrap(), start + 3);
    assert_eq!(
        generations::of_pack(db.reader(), &"demo".parse().unwrap())
            .await
            .unwrap(),
        Some(2)
    );
}

/// On one thread the reads interleave deterministically: each of 200 callers is polled once before
/// the query task can run, so the first starts a query and every other arrives while it runs. Those
/// must not take its value (it may predate their callers' writes) and share the next query instead:
/// two queries in all.
#[tokio::test(flavor = "current_thread")]
async fn concurrent_reads_share_one_query_that_started_after_them() {
    let registry = TestRegistry::new().await;
    let db = registry.db.clone();
    let before = db.registry_generation_queries();
    let mut reads: Vec<_> = (0..200)
        .map(|_| Box::pin(db.registry_generation()))
        .collect();
    for read in &mut reads {
        assert!(futures_util::FutureExt::now_or_never(read).is_none());
    }
    assert_eq!(db.registry_generation_queries() - before, 1);
    let values = futures_util::future::join_all(reads).await;
    let values: Vec<i64> = values.into_iter().map(Result::unwrap).collect();
    assert!(values.iter().all(|v| *v == values[0]), "{values:?}");
    assert_eq!(db.registry_generation_queries() - before, 2);

    // A read after a write sees it.
    registry.publish_ok(&TestPack::new("demo", "1.0.0")).await;
    assert_eq!(db.registry_generation().await.unwrap(), values[0] + 1);
}

/// A caller that goes away while its query runs (a client disconnect drops the handler) does not
/// strand the callers waiting for that query.
#[tokio::test(flavor = "current_thread")]
async fn a_dropped_reader_does_not_strand_the_others() {
    let registry = TestRegistry::new().await;
    let db = registry.db.clone();
    let expected = db.registry_generation().await.unwrap();
    let mut first = Box::pin(db.registry_generation());
    // Poll once: the first caller starts the query, then goes away.
    assert!(futures_util::FutureExt::now_or_never(&mut first).is_none());
    drop(first);
    let waiting = db.registry_generation();
    let value = tokio::time::timeout(std::time::Duration::from_secs(30), waiting)
        .await
        .expect("a read was stranded");
    assert_eq!(value.unwrap(), expected);
}
