//! The operator's commands: list users and who is online, add a user, reset a password, disable an
//! account, back up and restore. They work on the database file directly, so they can run beside a live
//! server (SQLite in WAL mode lets readers and one writer share it), except `restore`, which needs the
//! server stopped (and refuses otherwise: see [`crate::lock_data_dir`]). A live server hears of a disabled
//! account or a reset password through the `session_ends` table, which it reads once a second, and ends
//! the account's sessions.

use std::path::Path;

use ququ_protocol::{ErrorCode, Millis};

use crate::service::{ServiceError, accounts};
use crate::storage::{ConnectionRecord, Store, StoreError, UserRecord};

/// Why an operator command failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("there is no account {0}")]
    NoSuchUser(String),
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<ServiceError> for AdminError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Refused { text, .. } => AdminError::Refused(text),
            ServiceError::Store(e) => AdminError::Store(e),
            other => AdminError::Refused(other.to_string()),
        }
    }
}

/// One account as the `users` command shows it.
#[derive(Debug, Clone)]
pub struct UserRow {
    pub account: String,
    pub nickname: String,
    pub created: Millis,
    pub disabled: bool,
    /// Live connections logged in as this account.
    pub connections: usize,
}

fn user(store: &dyn Store, account: &str) -> Result<UserRecord, AdminError> {
    store
        .user_by_account(account)?
        .ok_or_else(|| AdminError::NoSuchUser(account.to_owned()))
}

/// Every account, with how many connections each has right now.
pub fn users(store: &dyn Store) -> Result<Vec<UserRow>, AdminError> {
    let online = store.connections()?;
    Ok(store
        .users()?
        .into_iter()
        .map(|u| UserRow {
            connections: online
                .iter()
                .filter(|c| c.account.as_deref() == Some(u.account.as_str()))
                .count(),
            account: u.account,
            nickname: u.nickname,
            created: u.created,
            disabled: u.disabled,
        })
        .collect())
}

/// Live connections (the connection-info table).
pub fn online(store: &dyn Store) -> Result<Vec<ConnectionRecord>, AdminError> {
    Ok(store.connections()?)
}

/// Sets a new password and revokes every session token, so all devices must log in again; their live
/// sessions end with `BYE:password_changed`.
pub fn reset_password(store: &dyn Store, account: &str, password: &str) -> Result<(), AdminError> {
    let u = user(store, account)?;
    accounts::check_password(password)?;
    let hash = crate::service::hashing::hash_blocking(password)?;
    store.set_password_hash(u.id, &hash)?;
    store.revoke_tokens(u.id, None)?;
    // The running server (another process) ends its live sessions within a second.
    store.end_sessions(u.id, ErrorCode::PasswordChanged.as_str(), now())?;
    Ok(())
}

/// Creates an account (`add-user`), as `RESIGER:` would but with no registration cap: for an operator
/// signing up a whole office behind one address. The nickname defaults to the account name.
pub fn add_user(
    store: &dyn Store,
    account: &str,
    nickname: Option<&str>,
    password: &str,
    limits: &ququ_protocol::Limits,
) -> Result<UserRecord, AdminError> {
    if !accounts::valid_account(account) {
        return Err(AdminError::Refused(
            "an account name has 2 to 32 letters, digits, '_', '.' or '-', starting with a letter or digit"
                .into(),
        ));
    }
    accounts::check_password(password)?;
    let nickname = nickname.filter(|n| !n.trim().is_empty()).unwrap_or(account);
    crate::service::check_name("nickname", nickname, limits.name, false)?;
    let hash = crate::service::hashing::hash_blocking(password)?;
    match store.create_user(account, nickname, &hash, now()) {
        Err(StoreError::Conflict) => Err(AdminError::Refused(format!(
            "the account name {account} is taken"
        ))),
        other => Ok(other?),
    }
}

/// Disables (or enables again) an account. Disabling revokes its session tokens: it cannot log in or
/// resume, and others no longer find it; its live sessions end with `BYE:disabled`.
pub fn set_disabled(store: &dyn Store, account: &str, disabled: bool) -> Result<(), AdminError> {
    let u = user(store, account)?;
    store.set_disabled(u.id, disabled)?;
    if disabled {
        store.revoke_tokens(u.id, None)?;
        // The running server (another process) ends its live sessions within a second.
        store.end_sessions(u.id, ErrorCode::Disabled.as_str(), now())?;
    }
    Ok(())
}

/// Now, in milliseconds since the epoch: taken after the change is committed, so a session that logs in
/// later has been checked against it and is not ended.
fn now() -> Millis {
    crate::service::now_millis()
}

/// A consistent copy of the live database at `dest`, a new file ([`crate::SqliteStore::backup_to`]).
pub fn backup(store: &crate::SqliteStore, dest: &Path) -> Result<(), AdminError> {
    if dest.exists() {
        return Err(AdminError::Refused(format!(
            "{} already exists, and a backup never overwrites a file: choose a new name",
            dest.display()
        )));
    }
    store.backup_to(dest).map_err(|e| match e {
        // `backup_to` names `dest` in its errors; say what was being done with it.
        StoreError::Unusable { path, reason } => {
            AdminError::Refused(format!("cannot write the backup {path}: {reason}"))
        }
        e => e.into(),
    })
}
