//! Accounts, session tokens, groups and friendships written straight into a fresh data dir before the
//! server starts, so a run with 10,000 users does not first spend minutes registering them (registration
//! hashes a password and is throttled per address, as it should be).
//!
//! Every account's password is `password` (one Argon2 hash, shared); each has a session token for
//! `RESUME:`. Tokens are stored as the server stores them: the hex SHA-256 of the token.

use std::path::Path;

use sha2::{Digest, Sha256};

use ququ_protocol::Role;
use ququ_server::storage::{Store, UserId};
use ququ_server::{Durability, SqliteStore};

use crate::BoxResult;

pub const PASSWORD: &str = "password";

/// One seeded account.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: UserId,
    pub name: String,
    pub token: String,
}

/// What a scenario asked for, written into `dir`.
#[derive(Debug)]
pub struct Seeded {
    pub accounts: Vec<Account>,
    pub group: Option<u64>,
}

/// Creates `names` as accounts; if `group_of` is given, a group owned by the first of them with all of
/// them as members; and friendships between each listed pair of indexes.
pub fn seed(
    dir: &Path,
    database: Option<&str>,
    names: &[String],
    group: bool,
    friends: &[(usize, usize)],
) -> BoxResult<Seeded> {
    // Off the runtime's own work: PostgreSQL's blocking client runs a runtime of its own.
    tokio::task::block_in_place(|| {
        let store = open_store(dir, database, false)?;
        let now = crate::wall_millis();
        let expires = now + 30 * 24 * 3600 * 1000;
        let mut accounts = Vec::with_capacity(names.len());
        let mut hash = String::from("!");
        for (i, name) in names.iter().enumerate() {
            let user = store.create_user(name, name, &hash, now)?;
            if i == 0 {
                // One real Argon2 hash, made by the server's own code, then shared by every account.
                ququ_server::admin::reset_password(store.as_ref(), name, PASSWORD)
                    .map_err(|e| e.to_string())?;
                hash = store
                    .user_by_id(user.id)?
                    .ok_or("seeded user vanished")?
                    .password_hash;
            }
            let token = hex::encode(Sha256::digest(
                format!("bench-{}-{i}-{now}", std::process::id()).as_bytes(),
            ));
            let token_hash = hex::encode(Sha256::digest(token.as_bytes()));
            store.create_token(user.id, &token_hash, expires)?;
            accounts.push(Account {
                id: user.id,
                name: name.clone(),
                token,
            });
        }
        let group = match (group, accounts.first()) {
            (true, Some(owner)) => {
                let g = store.create_group(owner.id, "bench", now)?;
                for a in &accounts[1..] {
                    store.add_member(g.id, a.id, Role::Member, now)?;
                }
                Some(g.id as u64)
            }
            _ => None,
        };
        for &(a, b) in friends {
            store.add_friendship(accounts[a].id, accounts[b].id, now)?;
        }
        Ok(Seeded { accounts, group })
    })
}

/// The store the server of `dir` serves from: SQLite's file there, or the PostgreSQL `database`, where
/// a handle for the server itself (`serving`) is registered as the node "bench"; seeding needs none.
pub fn open_store(
    dir: &Path,
    database: Option<&str>,
    serving: bool,
) -> BoxResult<std::sync::Arc<dyn Store>> {
    std::fs::create_dir_all(dir)?;
    tokio::task::block_in_place(|| match database {
        None => Ok(
            std::sync::Arc::new(SqliteStore::open(&dir.join("ququ.db"), Durability::Normal)?)
                as std::sync::Arc<dyn Store>,
        ),
        #[cfg(feature = "cluster")]
        Some(url) => {
            let store = ququ_server::storage::postgres::PgStore::open(url, 16)?;
            let store = match serving {
                true => store.join("bench", crate::wall_millis())?,
                false => store,
            };
            Ok(std::sync::Arc::new(store) as std::sync::Arc<dyn Store>)
        }
        #[cfg(not(feature = "cluster"))]
        Some(_) => {
            // Only PostgreSQL has nodes to register.
            let _ = serving;
            Err("--database needs ququ-bench built with --features cluster".into())
        }
    })
}
