//! Where "log in automatically" keeps the session token between runs: the OS credential store, or a
//! file only the user can read where there is none. Never the password.
//!
//! The token is what the server handed out at login (`LOGIN:true:…:<token>:…`); the next start gives it
//! back with `RESUME:`. It is a secret like a password — whoever has it is logged in until it is
//! revoked — but a limited one: Log out revokes it on the server, and a password change revokes every
//! token of the account. Tokens are kept per account on a server (`account@server`, as
//! [`crate::config::Settings::chats_key`] spells it).
//!
//! The OS store is Windows Credential Manager, the macOS Keychain, or the Secret Service (GNOME
//! Keyring, KWallet) on Linux, through the `keyring` crate. A Linux session without a Secret Service
//! (a bare window manager, a server, CI) gets `tokens.json` in the app's config directory instead,
//! created with mode 0600 so no other user can read it. Which one holds the token is a [`Place`], and
//! the login window and the settings dialog say it in words.
//!
//! The store's calls block (a D-Bus round trip, perhaps an unlock prompt), so they run on tokio's
//! blocking pool with a time limit; nothing here touches the UI.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ququ_client::SessionToken;

use crate::i18n::Lang;

/// The service name entries are filed under in the OS store.
const SERVICE: &str = "Ququ";
/// The fallback file, in the config directory.
pub const TOKEN_FILE: &str = "tokens.json";
/// How long the OS store may take to answer (an unlock prompt included) before the file is used.
const STORE_PATIENCE: Duration = Duration::from_secs(20);

/// Where a token is (or would be) kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// The OS credential store.
    OsStore,
    /// This file, readable only by the user.
    File(PathBuf),
}

impl Place {
    /// One sentence for the login window and the settings dialog.
    pub fn words(&self, lang: Lang) -> String {
        match self {
            Place::OsStore => lang.token_in_os_store(OS_STORE_NAME.0, OS_STORE_NAME.1),
            Place::File(path) => lang.token_in_file(&path.display().to_string()),
        }
    }
}

/// The OS store's name, in English and Chinese.
#[cfg(windows)]
const OS_STORE_NAME: (&str, &str) = ("Windows Credential Manager", "Windows 凭据管理器");
#[cfg(target_os = "macos")]
const OS_STORE_NAME: (&str, &str) = ("the macOS Keychain", "macOS 钥匙串");
#[cfg(not(any(windows, target_os = "macos")))]
const OS_STORE_NAME: (&str, &str) = (
    "the system keyring (Secret Service)",
    "系统密钥环（Secret Service）",
);

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The token store: the OS store first (unless turned off), the file where it is unavailable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vault {
    file: PathBuf,
    os_store: bool,
}

impl Vault {
    /// The OS store, falling back to a file in `config_dir`.
    pub fn new(config_dir: &Path) -> Vault {
        Vault {
            file: config_dir.join(TOKEN_FILE),
            os_store: true,
        }
    }

    /// Only the file: for tests, which must not write into a developer's own keyring.
    pub fn file_only(config_dir: &Path) -> Vault {
        Vault {
            file: config_dir.join(TOKEN_FILE),
            os_store: false,
        }
    }

    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Where a token would be kept now: asks the OS store whether it answers at all.
    pub async fn probe(self) -> Place {
        match self.os_get("probe@ququ").await {
            Ok(_) => Place::OsStore,
            Err(Unavailable) => Place::File(self.file),
        }
    }

    /// Keeps `token` for `key`, in the OS store if it takes it, else in the file; says where.
    pub async fn save(self, key: String, token: SessionToken) -> Result<Place, VaultError> {
        if self.os_set(&key, token.secret()).await.is_ok() {
            // A copy left in the file from a time without the store would outlive a logout there.
            self.edit_file(move |tokens| tokens.remove(&key).is_some())
                .await?;
            return Ok(Place::OsStore);
        }
        let secret = token.secret().to_owned();
        self.edit_file(move |tokens| {
            tokens.insert(key, secret);
            true
        })
        .await?;
        Ok(Place::File(self.file))
    }

    /// The token kept for `key`, and where it was.
    pub async fn load(self, key: String) -> Result<Option<(SessionToken, Place)>, VaultError> {
        if let Ok(Some(token)) = self.os_get(&key).await {
            return Ok(Some((SessionToken::new(token), Place::OsStore)));
        }
        let file = self.file.clone();
        let tokens = tokio::task::spawn_blocking(move || read_file(&file))
            .await
            .unwrap_or_else(|_| Ok(BTreeMap::new()))?;
        Ok(tokens
            .get(&key)
            .filter(|t| !t.is_empty())
            .map(|t| (SessionToken::new(t.clone()), Place::File(self.file))))
    }

    /// Forgets the token for `key` wherever it is.
    pub async fn forget(self, key: String) -> Result<(), VaultError> {
        // Unavailable or nothing there: either way nothing is kept in the store.
        let _ = self.os_delete(&key).await;
        self.edit_file(move |tokens| tokens.remove(&key).is_some())
            .await
    }

    /// Reads the file, lets `change` edit the map, and writes it back if `change` says it changed.
    async fn edit_file(
        &self,
        change: impl FnOnce(&mut BTreeMap<String, String>) -> bool + Send + 'static,
    ) -> Result<(), VaultError> {
        let file = self.file.clone();
        tokio::task::spawn_blocking(move || {
            let mut tokens = read_file(&file)?;
            if change(&mut tokens) {
                write_file(&file, &tokens)?;
            }
            Ok(())
        })
        .await
        .unwrap_or(Ok(()))
    }

    async fn os_get(&self, key: &str) -> Result<Option<String>, Unavailable> {
        self.os_call(key, os::get).await
    }

    async fn os_set(&self, key: &str, token: &str) -> Result<(), Unavailable> {
        let token = token.to_owned();
        self.os_call(key, move |key| os::set(key, &token)).await
    }

    async fn os_delete(&self, key: &str) -> Result<(), Unavailable> {
        self.os_call(key, os::delete).await
    }

    /// Runs one blocking call on the OS store, within [`STORE_PATIENCE`].
    async fn os_call<T: Send + 'static>(
        &self,
        key: &str,
        call: impl FnOnce(&str) -> Result<T, Unavailable> + Send + 'static,
    ) -> Result<T, Unavailable> {
        if !self.os_store {
            return Err(Unavailable);
        }
        let key = key.to_owned();
        let task = tokio::task::spawn_blocking(move || call(&key));
        match tokio::time::timeout(STORE_PATIENCE, task).await {
            Ok(Ok(result)) => result,
            // Too slow (a prompt nobody answers) or the call panicked: the file it is.
            _ => Err(Unavailable),
        }
    }
}

/// The OS store did not answer, or has no such service here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Unavailable;

#[cfg(any(target_os = "linux", windows, target_os = "macos"))]
mod os {
    use super::{SERVICE, Unavailable};

    fn entry(key: &str) -> Result<keyring::Entry, Unavailable> {
        keyring::Entry::new(SERVICE, key).map_err(|e| {
            say_why(&e);
            Unavailable
        })
    }

    /// `Ok(None)`: the store works and has no entry.
    pub(super) fn get(key: &str) -> Result<Option<String>, Unavailable> {
        match entry(key)?.get_password() {
            Ok(token) => Ok(Some(token)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => {
                say_why(&e);
                Err(Unavailable)
            }
        }
    }

    pub(super) fn set(key: &str, token: &str) -> Result<(), Unavailable> {
        entry(key)?.set_password(token).map_err(|e| {
            say_why(&e);
            Unavailable
        })
    }

    pub(super) fn delete(key: &str) -> Result<(), Unavailable> {
        match entry(key)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(_) => Err(Unavailable),
        }
    }

    /// Why the store is not used, for whoever runs the app from a terminal (as the embedded server's
    /// errors are); the window says where the token went instead, which is what the user needs.
    fn say_why(e: &keyring::Error) {
        eprintln!("ququ: the credential store is not used: {e}");
    }
}

/// No OS store on this platform: always the file.
#[cfg(not(any(target_os = "linux", windows, target_os = "macos")))]
mod os {
    use super::Unavailable;

    pub(super) fn get(_: &str) -> Result<Option<String>, Unavailable> {
        Err(Unavailable)
    }

    pub(super) fn set(_: &str, _: &str) -> Result<(), Unavailable> {
        Err(Unavailable)
    }

    pub(super) fn delete(_: &str) -> Result<(), Unavailable> {
        Err(Unavailable)
    }
}

/// The file's tokens; a missing file is none, a damaged one is treated as none (it is rewritten whole
/// on the next save, and the worst loss is one automatic login).
fn read_file(path: &Path) -> Result<BTreeMap<String, String>, VaultError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(serde_json::from_slice(&bytes).unwrap_or_default()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(source) => Err(VaultError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Writes the whole map through a temporary file created readable by the user alone, then renames it
/// over the old one, so the file is never half written and never readable by others, even for a moment.
/// An empty map removes the file.
fn write_file(path: &Path, tokens: &BTreeMap<String, String>) -> Result<(), VaultError> {
    let err = |source| VaultError::Write {
        path: path.to_path_buf(),
        source,
    };
    if tokens.is_empty() {
        return match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(err(e)),
            _ => Ok(()),
        };
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(err)?;
    }
    let json = serde_json::to_vec_pretty(tokens).map_err(|e| err(std::io::Error::other(e)))?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    // On Windows the file sits in the user's profile, which only they (and administrators) can read.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp).map_err(err)?;
    std::io::Write::write_all(&mut file, &json).map_err(err)?;
    file.sync_all().map_err(err)?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_file_keeps_tokens_per_account_readable_only_by_the_user() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::file_only(dir.path());
        let key = |a: &str| format!("{a}@127.0.0.1:8899");
        assert_eq!(vault.clone().load(key("alice")).await.unwrap(), None);
        let place = vault
            .clone()
            .save(key("alice"), SessionToken::new("tok-a"))
            .await
            .unwrap();
        assert_eq!(place, Place::File(dir.path().join(TOKEN_FILE)));
        vault
            .clone()
            .save(key("bob"), SessionToken::new("tok-b"))
            .await
            .unwrap();
        let (token, _) = vault.clone().load(key("alice")).await.unwrap().unwrap();
        assert_eq!(token.secret(), "tok-a");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(vault.file())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
        }
        vault.clone().forget(key("alice")).await.unwrap();
        assert_eq!(vault.clone().load(key("alice")).await.unwrap(), None);
        assert!(vault.clone().load(key("bob")).await.unwrap().is_some());
        vault.clone().forget(key("bob")).await.unwrap();
        assert!(!vault.file().exists(), "an empty vault leaves no file");
    }

    #[tokio::test]
    async fn a_damaged_file_is_no_token_and_is_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::file_only(dir.path());
        std::fs::write(vault.file(), "{not json").unwrap();
        assert_eq!(vault.clone().load("a@h:1".into()).await.unwrap(), None);
        vault
            .clone()
            .save("a@h:1".into(), SessionToken::new("t"))
            .await
            .unwrap();
        assert!(vault.clone().load("a@h:1".into()).await.unwrap().is_some());
    }

    /// Under `dbus-run-session` there is a session bus but no Secret Service on it, as on a bare window
    /// manager: the OS store is tried, found missing, and the token goes to the file. Runs this test
    /// binary again on such a bus (the variable is how the child knows its directory; setting the bus
    /// address in this process would take `unsafe`).
    #[test]
    fn without_a_secret_service_the_token_goes_to_the_file() {
        if cfg!(not(target_os = "linux")) {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let exe = std::env::current_exe().unwrap();
        let run = std::process::Command::new("dbus-run-session")
            .arg("--")
            .arg(exe)
            .args([
                "--exact",
                "credentials::tests::fallback_child",
                "--ignored",
                "--nocapture",
            ])
            .env("QUQU_VAULT_TEST_DIR", dir.path())
            .output();
        // Not skipped when missing: a test that passes without checking says nothing.
        let out = run.expect("dbus-run-session (Debian package dbus-daemon, installed by .ci/run)");
        let log = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{log}");
        assert!(log.contains("1 passed"), "{log}");
        let text = std::fs::read_to_string(dir.path().join(TOKEN_FILE)).unwrap();
        assert!(text.contains("tok-fallback"), "{text}");
    }

    #[tokio::test]
    #[ignore = "run by without_a_secret_service_the_token_goes_to_the_file, on a bus of its own"]
    async fn fallback_child() {
        let dir = PathBuf::from(std::env::var_os("QUQU_VAULT_TEST_DIR").expect("test dir"));
        assert!(std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some());
        let vault = Vault::new(&dir);
        assert_eq!(
            vault.clone().probe().await,
            Place::File(dir.join(TOKEN_FILE))
        );
        let place = vault
            .clone()
            .save("alice@h:1".into(), SessionToken::new("tok-fallback"))
            .await
            .unwrap();
        assert_eq!(place, Place::File(dir.join(TOKEN_FILE)));
        let (token, place) = vault.load("alice@h:1".into()).await.unwrap().unwrap();
        assert_eq!(token.secret(), "tok-fallback");
        assert_eq!(place, Place::File(dir.join(TOKEN_FILE)));
    }
}
