//! The database holds digests, never a plaintext token, password or session cookie.
use serde_json::json;

use crate::harness::TestServer;

#[tokio::test]
async fn the_database_holds_no_plaintext_secret() {
    let s = TestServer::start().await;
    let password = "correct horse battery";
    let a = s.account("ada@example.com").await;
    s.ok(&a.write, "create_project", json!({"name": "scan me"})).await;
    let session = s.app.start_session(a.id).await.unwrap();
    let app = s.app.clone();
    let db = s.db_path();
    let url = s.database_url.clone();
    let _dir = s.stop().await;
    drop(app);

    let haystack = if crate::harness::on_postgres() {
        // Every row of every table, as text, as an attacker with a dump would see it.
        use sqlx::{Connection, Row};
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        let tables: Vec<String> =
            sqlx::query_scalar("SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'")
                .fetch_all(&mut conn)
                .await
                .unwrap();
        let mut dump = String::new();
        for table in tables {
            for row in sqlx::query(&format!("SELECT t::text AS r FROM \"{table}\" t")).fetch_all(&mut conn).await.unwrap() {
                dump.push_str(&row.get::<String, _>("r"));
                dump.push('\n');
            }
        }
        dump
    } else {
        // Read every byte of the database and its WAL, as an attacker with the files would.
        let mut bytes = Vec::new();
        for suffix in ["", "-wal", "-shm"] {
            let path = format!("{}{suffix}", db.display());
            if let Ok(b) = std::fs::read(&path) {
                bytes.extend(b);
            }
        }
        assert!(bytes.len() > 10_000, "database files were read");
        String::from_utf8_lossy(&bytes).into_owned()
    };
    assert!(haystack.contains("scan me"), "the scan sees ordinary data");
    for secret in [a.read.as_str(), a.write.as_str(), password, session.as_str()] {
        assert!(!haystack.contains(secret), "plaintext secret found in the database");
        // Not even the secret part without the prefix.
        assert!(!haystack.contains(&secret[secret.len() - 20..]), "part of a secret found in the database");
    }
    assert!(haystack.contains("$argon2id$"), "passwords are stored as Argon2id hashes");
}
