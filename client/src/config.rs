//! What a client needs to start: server, account, password, where to keep data, and its timers.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// A configuration that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("the server address is empty")]
    NoServer,
    #[error("the account name is empty")]
    NoAccount,
    #[error("no data directory was given and the OS has none for this user")]
    NoDataDir,
    #[error(transparent)]
    Backoff(#[from] crate::backoff::BackoffError),
}

/// How to reach the server and whom to log in as.
#[derive(Clone)]
pub struct Config {
    /// `host:port`, or several separated by commas (the nodes of one service, tried in turn: see
    /// [`crate::tls::addresses`]).
    pub server: String,
    pub account: String,
    /// Used for the first login, and again whenever the server refuses the session token. May be empty
    /// when [`Config::token`] is set: a refused token then stops the client with
    /// [`crate::StopReason::SessionExpired`] instead of sending an empty password.
    pub password: String,
    /// A session token from an earlier run (what [`crate::Event::LoggedIn`] carried), to log in with
    /// `RESUME:` before any password: how "log in automatically" works without keeping the password.
    /// Never printed by `Debug`.
    pub token: Option<SessionToken>,
    /// Create the account first (`RESIGER:`), then log in. An `account_taken` answer is not fatal: the
    /// account may be ours from an earlier attempt whose reply was lost, so the login decides.
    pub register: bool,
    /// Nickname to register with.
    pub nickname: Option<String>,
    /// Where databases live. `None` is the OS data directory (`ProjectDirs::from("", "", "Ququ")`).
    pub data_dir: Option<PathBuf>,
    /// Connect with TLS, checking the certificate as [`crate::tls`] describes.
    pub tls: bool,
    pub timing: Timing,
}

impl std::fmt::Debug for Config {
    // By hand, so that the password never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("server", &self.server)
            .field("account", &self.account)
            .field("register", &self.register)
            .field("token", &self.token)
            .field("nickname", &self.nickname)
            .field("data_dir", &self.data_dir)
            .field("tls", &self.tls)
            .field("timing", &self.timing)
            .finish_non_exhaustive()
    }
}

/// A session token: what the server hands out at login, and `RESUME:` takes instead of the password.
/// A secret like the password (whoever has it is logged in until it is revoked), so `Debug` hides it
/// and only [`SessionToken::secret`] gives it out, for storing it or sending it.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    pub fn new(token: impl Into<String>) -> SessionToken {
        SessionToken(token.into())
    }

    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(…)")
    }
}

/// Timers. The defaults suit a person; tests shorten them.
#[derive(Debug, Clone)]
pub struct Timing {
    /// First reconnect delay (the original reconnected on a one-second timer).
    pub reconnect_initial: Duration,
    /// Largest reconnect delay.
    pub reconnect_max: Duration,
    /// Send our own `PING:` after this long without hearing from the server.
    pub ping_after: Duration,
    /// Give the connection up after this long without hearing anything, our ping included.
    pub dead_after: Duration,
    /// How long a TCP connect, and then the login reply, may take.
    pub connect_timeout: Duration,
    /// Messages per `SYNC:` page.
    pub sync_page: u32,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            reconnect_initial: Duration::from_secs(1),
            reconnect_max: Duration::from_secs(30),
            ping_after: Duration::from_secs(20),
            dead_after: Duration::from_secs(45),
            connect_timeout: Duration::from_secs(10),
            sync_page: 500,
        }
    }
}

impl Config {
    pub fn new(
        server: impl Into<String>,
        account: impl Into<String>,
        password: impl Into<String>,
    ) -> Config {
        Config {
            server: server.into(),
            account: account.into(),
            password: password.into(),
            token: None,
            register: false,
            nickname: None,
            data_dir: None,
            tls: false,
            timing: Timing::default(),
        }
    }

    /// Register the account on first connect.
    pub fn register(mut self, yes: bool) -> Config {
        self.register = yes;
        self
    }

    /// Log in with this session token first (`RESUME:`); see [`Config::token`].
    pub fn token(mut self, token: Option<SessionToken>) -> Config {
        self.token = token;
        self
    }

    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Config {
        self.data_dir = Some(dir.into());
        self
    }

    /// Connect with TLS.
    pub fn tls(mut self, yes: bool) -> Config {
        self.tls = yes;
        self
    }

    pub fn timing(mut self, timing: Timing) -> Config {
        self.timing = timing;
        self
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if crate::tls::addresses(&self.server).is_empty() {
            return Err(ConfigError::NoServer);
        }
        if self.account.is_empty() {
            return Err(ConfigError::NoAccount);
        }
        crate::backoff::Backoff::new(self.timing.reconnect_initial, self.timing.reconnect_max)?;
        Ok(())
    }

    /// The database for this account on this server.
    pub fn database_path(&self) -> Result<PathBuf, ConfigError> {
        Ok(database_path(
            &resolve_data_dir(self.data_dir.as_deref())?,
            &self.server,
            &self.account,
        ))
    }
}

/// `dir` itself, or the OS data directory for Ququ.
pub fn resolve_data_dir(dir: Option<&Path>) -> Result<PathBuf, ConfigError> {
    match dir {
        Some(dir) => Ok(dir.to_path_buf()),
        None => directories::ProjectDirs::from("", "", "Ququ")
            .map(|p| p.data_dir().to_path_buf())
            .ok_or(ConfigError::NoDataDir),
    }
}

/// `<data_dir>/<server>/<account>.sqlite3`, each part made safe as a file name.
pub(crate) fn database_path(data_dir: &Path, server: &str, account: &str) -> PathBuf {
    data_dir
        .join(safe_name(server))
        .join(format!("{}.sqlite3", safe_name(account)))
}

/// Keeps ASCII letters, digits, `.`, `-` and `_`; writes every other byte as `%XX`. Distinct names stay
/// distinct (the `%` itself is escaped), and nothing can climb out of the directory: a leading `.` is escaped
/// too, so `..` becomes `%2E.`.
fn safe_name(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, b) in s.bytes().enumerate() {
        let keep = b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || (b == b'.' && i > 0);
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_paths_are_per_server_and_account_and_stay_inside() {
        let root = Path::new("/data");
        let a = database_path(root, "127.0.0.1:8899", "alice");
        assert_eq!(a, Path::new("/data/127.0.0.1%3A8899/alice.sqlite3"));
        assert_ne!(a, database_path(root, "127.0.0.1:8899", "bob"));
        assert_ne!(a, database_path(root, "127.0.0.1:9000", "alice"));
        let evil = database_path(root, "..", "../../etc/passwd");
        assert!(evil.starts_with(root));
        assert_eq!(evil.components().count(), root.components().count() + 2);
        // CJK account names are kept apart too.
        assert_ne!(
            database_path(root, "h:1", "小明"),
            database_path(root, "h:1", "小红")
        );
    }

    #[test]
    fn debug_shows_neither_password_nor_token() {
        let config =
            Config::new("h:1", "alice", "hunter2").token(Some(SessionToken::new("3f9a0c")));
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("3f9a0c"),
            "{shown}"
        );
        assert!(shown.contains("SessionToken(…)"), "{shown}");
    }

    #[test]
    fn validate_refuses_empty_fields() {
        assert!(matches!(
            Config::new("", "a", "p").validate(),
            Err(ConfigError::NoServer)
        ));
        assert!(matches!(
            Config::new("h:1", "", "p").validate(),
            Err(ConfigError::NoAccount)
        ));
        assert!(Config::new("h:1", "a", "p").validate().is_ok());
    }
}
