//! What the app remembers between runs: the server address, the last account, the language and theme.
//!
//! Never the password: not in plain text, not at all. Reconnects inside one run reuse the session token
//! the headless client keeps; a new run asks again, unless "log in automatically" is ticked, and then the
//! token (not the password) is kept by [`crate::credentials`], not here. Files live under the OS's
//! config/data directories (`QUQU_HOME` overrides both, for tests and for running two instances side by
//! side).

use std::path::{Path, PathBuf};

use std::collections::{BTreeMap, BTreeSet};

use ququ_protocol::Conv;
use serde::{Deserialize, Serialize};

use crate::i18n::Lang;
use crate::theme::ThemePref;

/// The address tried on a fresh machine: this computer, the protocol's port.
pub fn default_server() -> String {
    format!("127.0.0.1:{}", ququ_protocol::DEFAULT_PORT)
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("no home directory to keep settings in")]
    NoHome,
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot encode settings: {0}")]
    Encode(#[from] serde_json::Error),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub server: String,
    pub last_account: String,
    /// `None` follows the system locale.
    pub lang: Option<Lang>,
    pub theme: ThemePref,
    /// The last login used TLS.
    pub tls: bool,
    /// Desktop notifications for new messages, their text, their sound.
    pub notifications: bool,
    pub notify_preview: bool,
    pub notify_sound: bool,
    /// The address this app hosted a server at when it last ran, to host it again on start without
    /// asking; `None` when it hosted none, or the user turned that off in the settings.
    pub host_again: Option<String>,
    /// Pinned and muted chats and folded friend groups, per account on a server (`account@server`).
    pub chats: BTreeMap<String, ChatPrefs>,
    /// "Do not disturb", chosen in the tray's menu: no pop-ups and no sounds; badges still count.
    pub do_not_disturb: bool,
    /// The first hide to the tray said what it does; later ones just hide.
    pub tray_told: bool,
    /// Emoji picked lately, the newest first (the picker's first tab).
    pub recent_emoji: Vec<String>,
    /// "Log in automatically" is ticked: the next start logs `last_account` in to `server` with the
    /// token kept in [`crate::credentials`], if one is there.
    pub auto_login: bool,
    /// Start the app when the user logs in to the computer ([`crate::autostart`]); off by default.
    pub start_with_os: bool,
    /// Pictures sent to me up to this many MB are downloaded as soon as they are offered, into the
    /// app's picture folder, and show inline; 0 never does. Bigger ones wait for Download.
    pub auto_pictures_mb: u32,
}

/// The choices the settings offer for [`Settings::auto_pictures_mb`] (0: never).
pub const AUTO_PICTURE_CHOICES: [u32; 6] = [0, 2, 5, 10, 20, 50];

/// One account's pinned and muted chats, each as `[kind, key]` (`["user", "bob"]`, `["group", "7"]`),
/// the friend groups it folds shut in the friend list, and its own nickname as last seen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChatPrefs {
    /// The most recently pinned first.
    pub pinned: Vec<(String, String)>,
    pub muted: Vec<(String, String)>,
    /// Friend groups (好友分组) folded shut in the friend list, by id (0: the default group). This
    /// device's choice, as in QQ; the groups themselves are kept on the server.
    pub collapsed: Vec<u64>,
    /// The header's name while an automatic login opens the friend list before the server answers;
    /// empty until the account has logged in here once.
    pub nickname: String,
}

impl Settings {
    /// The largest picture downloaded without asking, in bytes (0: none is).
    pub fn auto_picture_limit(&self) -> u64 {
        u64::from(self.auto_pictures_mb) << 20
    }
}

impl ChatPrefs {
    pub fn of(pinned: &[Conv], muted: &BTreeSet<Conv>, nickname: &str) -> ChatPrefs {
        let key = |c: &Conv| (c.kind().to_owned(), c.key());
        ChatPrefs {
            pinned: pinned.iter().map(key).collect(),
            muted: muted.iter().map(key).collect(),
            collapsed: Vec::new(),
            nickname: nickname.to_owned(),
        }
    }

    /// The pinned chats, most recently pinned first; entries this version cannot read are left out.
    pub fn pinned(&self) -> Vec<Conv> {
        self.pinned.iter().filter_map(conv).collect()
    }

    pub fn muted(&self) -> BTreeSet<Conv> {
        self.muted.iter().filter_map(conv).collect()
    }
}

fn conv((kind, key): &(String, String)) -> Option<Conv> {
    match kind.as_str() {
        "user" if !key.is_empty() => Some(Conv::User(key.clone())),
        "group" => key.parse().ok().map(Conv::Group),
        _ => None,
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            server: default_server(),
            last_account: String::new(),
            lang: None,
            theme: ThemePref::System,
            tls: false,
            notifications: true,
            notify_preview: true,
            notify_sound: true,
            host_again: None,
            chats: BTreeMap::new(),
            do_not_disturb: false,
            tray_told: false,
            recent_emoji: Vec::new(),
            auto_login: false,
            start_with_os: false,
            // Photos from a phone are 2–8 MB; 10 MB takes them all without fetching every big scan.
            auto_pictures_mb: 10,
        }
    }
}

impl Settings {
    pub fn lang(&self) -> Lang {
        self.lang.unwrap_or_else(Lang::system)
    }

    /// Whose pinned and muted chats these are: an account on a server.
    pub fn chats_key(account: &str, server: &str) -> String {
        format!("{account}@{}", server.trim())
    }

    pub fn notify_prefs(&self) -> crate::notify::Prefs {
        crate::notify::Prefs {
            enabled: self.notifications,
            preview: self.notify_preview,
            sound: self.notify_sound,
        }
    }
}

/// Where settings, the avatar and an embedded server's database go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dirs {
    pub config: PathBuf,
    pub data: PathBuf,
}

impl Dirs {
    pub fn locate() -> Result<Dirs, ConfigError> {
        if let Some(home) = std::env::var_os("QUQU_HOME") {
            let home = PathBuf::from(home);
            return Ok(Dirs {
                config: home.clone(),
                data: home,
            });
        }
        let dirs = directories::ProjectDirs::from("", "", "ququ").ok_or(ConfigError::NoHome)?;
        Ok(Dirs {
            config: dirs.config_dir().to_path_buf(),
            data: dirs.data_dir().to_path_buf(),
        })
    }

    /// Used when the OS gives no home directory: settings then last for this run only.
    pub fn temporary() -> Dirs {
        let tmp = std::env::temp_dir().join("ququ");
        Dirs {
            config: tmp.clone(),
            data: tmp,
        }
    }

    pub fn settings_file(&self) -> PathBuf {
        self.config.join("gui.json")
    }

    /// Where the embedded server keeps its SQLite database.
    pub fn server_dir(&self) -> PathBuf {
        self.data.join("server")
    }

    /// Where the headless client keeps local history.
    pub fn client_dir(&self) -> PathBuf {
        self.data.join("client")
    }

    /// Where `account`'s pictures go that the app fetched or made by itself: those downloaded as they
    /// arrived, and screenshots pasted into a chat. In the data directory, with the chat history they
    /// belong to: not Downloads, which would fill with every picture anyone sends, nor the cache
    /// directory, which the OS's cleaners empty and so would leave blank bubbles behind (a pasted
    /// picture's upload also resumes from its file after a restart).
    pub fn pictures_dir(&self, account: &str) -> PathBuf {
        self.data.join("pictures").join(account_folder(account))
    }
}

/// An account's name as a folder name: anything but letters, digits, `-` and `_` becomes `_`.
pub fn account_folder(account: &str) -> String {
    account
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Reads the settings; a missing or damaged file gives the defaults (a damaged file is not worth a
/// dialog: the only loss is the remembered server and account).
pub async fn load(path: PathBuf) -> Settings {
    match tokio::fs::read(&path).await {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
        Err(_) => Settings::default(),
    }
}

/// Writes the settings atomically (temp file + rename) so a crash never leaves half a file.
pub async fn save(path: PathBuf, settings: Settings) -> Result<(), ConfigError> {
    let json = serde_json::to_vec_pretty(&settings)?;
    let write = |source| ConfigError::Write {
        path: path.clone(),
        source,
    };
    if let Some(parent) = path.parent() {
        tokio::fs::create_dir_all(parent).await.map_err(write)?;
    }
    let tmp = temp_path(&path);
    tokio::fs::write(&tmp, json).await.map_err(write)?;
    tokio::fs::rename(&tmp, &path).await.map_err(write)?;
    Ok(())
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Checks a `host:port` address, or several separated by commas (the nodes of one service, tried in
/// turn), without resolving them (that happens off the UI thread when connecting).
pub fn valid_server(setting: &str) -> bool {
    let addresses = ququ_client::tls::addresses(setting);
    // A stray comma is a slip to point out, not an address to drop quietly.
    let pieces = setting.split(',').count();
    !addresses.is_empty()
        && addresses.len() == pieces
        && addresses.iter().all(|addr| {
            addr.rsplit_once(':').is_some_and(|(host, port)| {
                !host.is_empty()
                    && !host.contains(char::is_whitespace)
                    && port.parse::<u16>().is_ok_and(|p| p != 0)
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_addresses() {
        assert!(valid_server("127.0.0.1:8899"));
        assert!(valid_server("chat.example.com:1"));
        assert!(valid_server("[::1]:8899"));
        assert!(!valid_server("localhost"));
        assert!(!valid_server(":8899"));
        assert!(!valid_server("host:0"));
        assert!(!valid_server("host:99999"));
        assert!(!valid_server("a b:1"));
        // Several nodes of one service.
        assert!(valid_server("10.0.0.1:8899, 10.0.0.2:8899"));
        assert!(valid_server("[::1]:1,chat.example.com:2"));
        assert!(!valid_server("10.0.0.1:8899,"));
        assert!(!valid_server("10.0.0.1:8899, host"));
    }

    #[tokio::test]
    async fn round_trip_without_password() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gui.json");
        assert_eq!(load(path.clone()).await, Settings::default());
        let mut muted = BTreeSet::new();
        muted.insert(Conv::Group(7));
        let mut prefs = ChatPrefs::of(
            &[Conv::User("bo:b".into()), Conv::Group(9)],
            &muted,
            "Alice",
        );
        prefs.collapsed = vec![0, 12];
        let mut settings = Settings {
            last_account: "alice".into(),
            lang: Some(Lang::Zh),
            ..Settings::default()
        };
        settings
            .chats
            .insert(Settings::chats_key("alice", "h:1"), prefs.clone());
        save(path.clone(), settings.clone()).await.unwrap();
        let loaded = load(path.clone()).await;
        assert_eq!(loaded, settings);
        let chats = &loaded.chats["alice@h:1"];
        assert_eq!(chats.pinned(), [Conv::User("bo:b".into()), Conv::Group(9)]);
        assert_eq!(chats.muted(), muted);
        assert_eq!(chats.collapsed, [0, 12]);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("password"));
    }
}
