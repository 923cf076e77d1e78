//! Server settings: defaults, the TOML config file, and where the data lives.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ququ_protocol::Limits;
use serde::Deserialize;

use crate::storage::sqlite::Durability;

/// Config failures.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is invalid: {source}")]
    Parse {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("no data directory: the OS reports no home directory; pass --data-dir")]
    NoDataDir,
    #[error(
        "TLS needs both a certificate and a key (tls_cert and tls_key, or --tls-cert and --tls-key)"
    )]
    TlsHalf,
    #[error(
        "limits.avatar = {avatar} does not fit limits.line = {line}: an avatar's AVATAR: line (its \
         base64 and digest) is {needed} bytes; raise line or lower avatar"
    )]
    AvatarOverLine { avatar: u32, line: u32, needed: u64 },
}

/// The length of the `AVATAR:<sha256>:<base64>` line for a picture of `bytes` bytes, terminator excluded.
pub fn avatar_line_len(bytes: u32) -> u64 {
    let base64 = ququ_protocol::base64::encoded_len(bytes as usize) as u64;
    "AVATAR:".len() as u64 + 64 + 1 + base64
}

/// Everything `run` needs besides the listener.
#[derive(Debug, Clone)]
pub struct Config {
    /// Holds `ququ.db` and `files/` (relayed files).
    pub data_dir: PathBuf,
    /// Where relayed files live instead of `files/` in the data directory. Cluster mode: one directory
    /// every node shares (an NFS mount), so a file uploaded through one node downloads through another.
    pub files_dir: Option<PathBuf>,
    /// Connections beyond this are answered `BYE:busy` and closed.
    pub max_connections: usize,
    /// Connections from one IP address beyond this are answered `BYE:busy` and closed. Generous, because a
    /// whole office may share one address behind NAT.
    pub max_connections_per_ip: usize,
    /// Every connection starts with a PROXY protocol v2 header from a load balancer (HAProxy's
    /// `send-proxy-v2`), whose client address then counts as the peer's; one without it is closed.
    pub proxy_protocol: bool,
    /// Advertised at login and enforced.
    pub limits: Limits,
    pub durability: Durability,
    /// Silence after which the server sends `PING:`.
    pub heartbeat: Duration,
    /// Silence after which the connection is closed with `BYE:timeout`.
    pub idle_timeout: Duration,
    /// Lines queued for one connection before it counts as a slow reader and is cut off.
    pub outbox_capacity: usize,
    /// How long one write to a client may block before it counts as a slow reader.
    pub write_timeout: Duration,
    /// How long a session token stays valid.
    pub token_ttl: Duration,
    /// How long shutdown waits for sessions to say goodbye.
    pub shutdown_grace: Duration,
    /// Bytes of live relayed files one user may have on the server.
    pub file_quota: u64,
    /// How long a relayed file is kept.
    pub file_lifetime: Duration,
    /// How often expired files are looked for and removed.
    pub file_sweep_every: Duration,
    /// Login and registration throttling.
    pub throttle: crate::service::throttle::ThrottleConfig,
    /// Serve TLS with this certificate and key instead of plain TCP.
    pub tls: Option<TlsFiles>,
    /// Free bytes kept on the data directory's disk: below this, writes are refused with `storage_full`
    /// while reads go on. 0 turns the check off.
    pub disk_headroom: u64,
    /// Bytes of message text one user may send a day (all of it at once if they like, coming back over
    /// 24 hours); past it `MSG:`/`GROUP:` get `quota_exceeded`. 0 turns it off. At the message rate alone
    /// (20 a second of 8,000 characters) one account could store 14 GB a day.
    pub text_per_day: u64,
    /// Whose online state `FIND:` shows (issue 20, item 7).
    pub find_presence: FindPresence,
    /// Cluster mode: the NATS server through which nodes sharing a database tell each other of new
    /// messages (`nats://host:4222`; `crate::bus`). Without it they still deliver each other's messages,
    /// within the relay's one-second poll.
    pub bus: Option<String>,
    /// Cluster mode: how often a node reads what the others stored whatever the bus says (the backstop
    /// for a lost notice or a NATS that is down).
    pub relay_poll: Duration,
}

/// Whose online state a `FIND:` result shows. Everyone else's shows as `offline`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FindPresence {
    /// The searcher's friends (and the searcher): a stranger cannot watch when someone comes and goes.
    #[default]
    Friends,
    /// Every account, as before: for a server whose users all know each other.
    Everyone,
}

/// A PEM certificate chain and its PEM private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TlsFiles {
    /// Both or neither: half a TLS setup is a mistake worth stopping for.
    pub fn from_pair(
        cert: Option<PathBuf>,
        key: Option<PathBuf>,
    ) -> Result<Option<TlsFiles>, ConfigError> {
        match (cert, key) {
            (Some(cert), Some(key)) => Ok(Some(TlsFiles { cert, key })),
            (None, None) => Ok(None),
            _ => Err(ConfigError::TlsHalf),
        }
    }
}

impl Config {
    pub fn new(data_dir: impl Into<PathBuf>) -> Config {
        Config {
            data_dir: data_dir.into(),
            files_dir: None,
            max_connections: 10_000,
            max_connections_per_ip: 1_000,
            proxy_protocol: false,
            limits: Limits::default(),
            durability: Durability::default(),
            heartbeat: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(90),
            outbox_capacity: 1024,
            write_timeout: Duration::from_secs(10),
            token_ttl: Duration::from_secs(30 * 24 * 3600),
            shutdown_grace: Duration::from_secs(5),
            file_quota: 5 << 30,
            file_lifetime: Duration::from_secs(7 * 24 * 3600),
            file_sweep_every: Duration::from_secs(60),
            throttle: Default::default(),
            tls: None,
            disk_headroom: 64 << 20,
            text_per_day: 100 << 20,
            find_presence: FindPresence::default(),
            bus: None,
            relay_poll: Duration::from_secs(1),
        }
    }

    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("ququ.db")
    }

    /// Where relayed files live: `files/<sha256>` when complete, `files/partial/<id>` while uploading
    /// (`files/` in the data directory unless [`Config::files_dir`] says otherwise).
    pub fn files_dir(&self) -> PathBuf {
        (self.files_dir.clone()).unwrap_or_else(|| self.data_dir.join("files"))
    }
}

/// The OS's data directory for the server (`~/.local/share/ququ-server` on Linux).
pub fn default_data_dir() -> Result<PathBuf, ConfigError> {
    directories::ProjectDirs::from("", "", "ququ-server")
        .map(|d| d.data_dir().to_owned())
        .ok_or(ConfigError::NoDataDir)
}

/// The config file. Every key is optional; command-line flags override it.
///
/// ```toml
/// listen = "0.0.0.0:8899"
/// data_dir = "/var/lib/ququ"
/// max_connections = 10000
/// max_connections_per_ip = 1000
/// proxy_protocol = true      # behind HAProxy's send-proxy-v2: the client's address counts (docs/deploy.md)
/// durability = "full"        # or "normal"
/// file_quota_mb = 5120       # relayed files one user may keep
/// file_lifetime_days = 7
/// disk_headroom_mb = 64      # free space kept; below it writes are refused (storage_full), reads go on
/// text_per_day_mb = 100      # message text one user may send a day; 0 = no limit
/// heartbeat_secs = 30
/// idle_timeout_secs = 90
/// tls_cert = "/etc/ququ/cert.pem"  # both or neither; see `ququ-server gen-cert`
/// tls_key = "/etc/ququ/key.pem"
/// find_presence = "friends"  # whose online state FIND shows: "friends" or "everyone"
/// [limits]
/// text = 8000
/// name = 32
/// friends = 1000
/// members = 500
/// file = 1073741824          # largest relayed file, bytes
/// rate = 20                  # messages a second per user (bursts of twice that); 0 = no limit
/// groups = 100               # groups one user may own
/// actions = 10               # other changes a second per user (bursts of twice that); 0 = no limit
/// recall = 120               # seconds in which a sender may recall a message; 0 = never
/// admins = 10                # admins one group may have besides its owner
/// notice = 500               # longest group announcement, characters
/// sign = 80                  # longest signature (个性签名), characters
/// categories = 50            # friend groups (好友分组) one user may have besides the default
/// avatar = 32768             # largest avatar picture, bytes (its base64 must fit a line)
/// [throttle]
/// window_minutes = 15             # attempts are counted over this window
/// failures_per_address = 20       # failed logins, bad tokens, refused registrations before a block
/// delay_after_failures = 5        # failures on one account from one address before it waits
/// block_minutes = 15
/// registrations_per_address = 20  # accounts one address may register per window; 0 = no limit
/// ```
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<SocketAddr>,
    /// Cluster mode: this node's name among those sharing the database (see `--node-name`).
    pub node_name: Option<String>,
    pub data_dir: Option<PathBuf>,
    /// Cluster mode: the relayed files' directory every node shares (see `--files-dir`).
    pub files_dir: Option<PathBuf>,
    pub max_connections: Option<usize>,
    pub max_connections_per_ip: Option<usize>,
    pub proxy_protocol: Option<bool>,
    pub durability: Option<Durability>,
    pub heartbeat_secs: Option<u64>,
    pub idle_timeout_secs: Option<u64>,
    pub outbox_capacity: Option<usize>,
    pub token_ttl_days: Option<u64>,
    pub file_quota_mb: Option<u64>,
    pub file_lifetime_days: Option<u64>,
    pub disk_headroom_mb: Option<u64>,
    pub text_per_day_mb: Option<u64>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub find_presence: Option<FindPresence>,
    #[serde(default)]
    pub limits: FileLimits,
    #[serde(default)]
    pub throttle: FileThrottle,
}

/// `[throttle]` in the config file: login and registration throttling (issue 20, item 15: an office
/// behind one NAT address may need more than 20 sign-ups in 15 minutes).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileThrottle {
    pub window_minutes: Option<u64>,
    pub failures_per_address: Option<u32>,
    pub delay_after_failures: Option<u32>,
    pub block_minutes: Option<u64>,
    /// 0 = no limit.
    pub registrations_per_address: Option<u32>,
}

/// `[limits]` in the config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileLimits {
    pub line: Option<u32>,
    pub text: Option<u32>,
    pub name: Option<u32>,
    pub friends: Option<u32>,
    pub members: Option<u32>,
    pub file: Option<u64>,
    pub rate: Option<u32>,
    pub groups: Option<u32>,
    pub actions: Option<u32>,
    pub recall: Option<u32>,
    pub admins: Option<u32>,
    pub notice: Option<u32>,
    pub sign: Option<u32>,
    pub categories: Option<u32>,
    pub avatar: Option<u32>,
}

impl FileConfig {
    pub fn load(path: &Path) -> Result<FileConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source: Box::new(source),
        })
    }

    /// Applies the file's settings over `config`.
    pub fn apply(&self, config: &mut Config) -> Result<(), ConfigError> {
        if let Some(tls) = TlsFiles::from_pair(self.tls_cert.clone(), self.tls_key.clone())? {
            config.tls = Some(tls);
        }
        if let Some(dir) = &self.data_dir {
            config.data_dir = dir.clone();
        }
        if let Some(dir) = &self.files_dir {
            config.files_dir = Some(dir.clone());
        }
        if let Some(n) = self.max_connections {
            config.max_connections = n;
        }
        if let Some(n) = self.max_connections_per_ip {
            config.max_connections_per_ip = n;
        }
        if let Some(on) = self.proxy_protocol {
            config.proxy_protocol = on;
        }
        if let Some(d) = self.durability {
            config.durability = d;
        }
        if let Some(s) = self.heartbeat_secs {
            config.heartbeat = Duration::from_secs(s.max(1));
        }
        if let Some(s) = self.idle_timeout_secs {
            config.idle_timeout = Duration::from_secs(s.max(1));
        }
        if let Some(n) = self.outbox_capacity {
            config.outbox_capacity = n.max(1);
        }
        if let Some(days) = self.token_ttl_days {
            config.token_ttl = Duration::from_secs(days * 24 * 3600);
        }
        if let Some(mb) = self.file_quota_mb {
            config.file_quota = mb << 20;
        }
        if let Some(days) = self.file_lifetime_days {
            config.file_lifetime = Duration::from_secs(days * 24 * 3600);
        }
        if let Some(mb) = self.disk_headroom_mb {
            config.disk_headroom = mb << 20;
        }
        if let Some(mb) = self.text_per_day_mb {
            config.text_per_day = mb << 20;
        }
        if let Some(p) = self.find_presence {
            config.find_presence = p;
        }
        let l = &self.limits;
        let limits = &mut config.limits;
        limits.line = l.line.unwrap_or(limits.line);
        limits.text = l.text.unwrap_or(limits.text);
        limits.name = l.name.unwrap_or(limits.name);
        limits.friends = l.friends.unwrap_or(limits.friends);
        limits.members = l.members.unwrap_or(limits.members);
        limits.file = l.file.unwrap_or(limits.file);
        limits.rate = l.rate.unwrap_or(limits.rate);
        limits.groups = l.groups.unwrap_or(limits.groups);
        limits.actions = l.actions.unwrap_or(limits.actions);
        limits.recall = l.recall.unwrap_or(limits.recall);
        limits.admins = l.admins.unwrap_or(limits.admins);
        limits.notice = l.notice.unwrap_or(limits.notice);
        limits.sign = l.sign.unwrap_or(limits.sign);
        limits.categories = l.categories.unwrap_or(limits.categories);
        limits.avatar = l.avatar.unwrap_or(limits.avatar);
        // A picture the server takes must reach whoever fetches it: refused at start rather than
        // taken, stored, and then closing every connection that asks for it with `line_too_long`.
        let needed = avatar_line_len(limits.avatar);
        if needed > u64::from(limits.line) {
            return Err(ConfigError::AvatarOverLine {
                avatar: limits.avatar,
                line: limits.line,
                needed,
            });
        }
        let t = &self.throttle;
        let throttle = &mut config.throttle;
        if let Some(m) = t.window_minutes {
            throttle.window = Duration::from_secs(m.max(1) * 60);
        }
        if let Some(m) = t.block_minutes {
            throttle.block_for = Duration::from_secs(m.max(1) * 60);
        }
        if let Some(n) = t.failures_per_address {
            throttle.ip_block_after = n.max(1);
        }
        if let Some(n) = t.delay_after_failures {
            throttle.account_delay_after = n;
        }
        if let Some(n) = t.registrations_per_address {
            throttle.registrations_per_ip = if n == 0 { u32::MAX } else { n };
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_file_overrides_defaults() {
        let file: FileConfig = toml::from_str(
            "listen = \"0.0.0.0:9000\"\nmax_connections = 5\ndurability = \"full\"\n[limits]\ntext = 100\n",
        )
        .unwrap();
        let mut config = Config::new("/tmp/x");
        file.apply(&mut config).unwrap();
        assert_eq!(config.max_connections, 5);
        assert_eq!(config.durability, Durability::Full);
        assert_eq!(config.limits.text, 100);
        assert_eq!(config.limits.name, Limits::default().name);
        assert_eq!(file.listen, Some("0.0.0.0:9000".parse().unwrap()));
    }

    #[test]
    fn the_shipped_example_config_is_valid() {
        let file: FileConfig = toml::from_str(include_str!("../../assets/ququ.toml")).unwrap();
        let mut config = Config::new("/tmp/x");
        file.apply(&mut config).unwrap();
        assert_eq!(config.data_dir, PathBuf::from("/var/lib/ququ"));
        assert_eq!(config.durability, Durability::Full);
        assert_eq!(file.listen, Some("0.0.0.0:8899".parse().unwrap()));
    }

    #[test]
    fn an_avatar_limit_whose_line_would_not_fit_is_refused_at_start() {
        // The defaults fit: 32768 bytes make a 43,764-byte line under 65,536.
        assert_eq!(avatar_line_len(32768), 43_764);
        let mut config = Config::new("/tmp/x");
        FileConfig::default().apply(&mut config).unwrap();
        let big: FileConfig = toml::from_str("[limits]\navatar = 65536\n").unwrap();
        let err = big.apply(&mut Config::new("/tmp/x")).unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::AvatarOverLine {
                    avatar: 65536,
                    line: 65536,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("raise line or lower avatar"));
        // Raising the line lets it through.
        let both: FileConfig = toml::from_str("[limits]\navatar = 65536\nline = 100000\n").unwrap();
        both.apply(&mut Config::new("/tmp/x")).unwrap();
    }

    #[test]
    fn tls_takes_both_files_or_neither() {
        let both: FileConfig =
            toml::from_str("tls_cert = \"/c.pem\"\ntls_key = \"/k.pem\"\n").unwrap();
        let mut config = Config::new("/tmp/x");
        both.apply(&mut config).unwrap();
        assert_eq!(config.tls.unwrap().cert, PathBuf::from("/c.pem"));
        let half: FileConfig = toml::from_str("tls_cert = \"/c.pem\"\n").unwrap();
        let err = half.apply(&mut Config::new("/tmp/x")).unwrap_err();
        assert!(matches!(err, ConfigError::TlsHalf));
    }

    #[test]
    fn the_throttle_is_configurable() {
        let file: FileConfig = toml::from_str(
            "[throttle]\nregistrations_per_address = 200\nfailures_per_address = 50\nwindow_minutes = 5\n",
        )
        .unwrap();
        let mut config = Config::new("/tmp/x");
        file.apply(&mut config).unwrap();
        assert_eq!(config.throttle.registrations_per_ip, 200);
        assert_eq!(config.throttle.ip_block_after, 50);
        assert_eq!(config.throttle.window, Duration::from_secs(300));
        assert_eq!(config.throttle.account_delay_after, 5, "untouched");
        let off: FileConfig =
            toml::from_str("[throttle]\nregistrations_per_address = 0\n").unwrap();
        off.apply(&mut config).unwrap();
        assert_eq!(config.throttle.registrations_per_ip, u32::MAX);
    }

    #[test]
    fn find_presence_is_friends_only_unless_the_file_says_everyone() {
        let mut config = Config::new("/tmp/x");
        assert_eq!(config.find_presence, FindPresence::Friends);
        let file: FileConfig = toml::from_str("find_presence = \"everyone\"\n").unwrap();
        file.apply(&mut config).unwrap();
        assert_eq!(config.find_presence, FindPresence::Everyone);
        assert!(toml::from_str::<FileConfig>("find_presence = \"strangers\"").is_err());
    }

    /// The node name is read from the file (cluster mode; `main.rs` takes it, as it does `listen`).
    #[test]
    fn the_node_name_is_read_from_the_file() {
        let file: FileConfig = toml::from_str("node_name = \"chat1\"\n").unwrap();
        assert_eq!(file.node_name.as_deref(), Some("chat1"));
        assert_eq!(FileConfig::default().node_name, None);
    }

    /// Relayed files go where the file says, else into the data directory.
    #[test]
    fn the_files_directory_is_read_from_the_file() {
        let mut config = Config::new("/var/lib/ququ");
        assert_eq!(config.files_dir(), PathBuf::from("/var/lib/ququ/files"));
        let file: FileConfig = toml::from_str("files_dir = \"/srv/ququ-files\"\n").unwrap();
        file.apply(&mut config).unwrap();
        assert_eq!(config.files_dir(), PathBuf::from("/srv/ququ-files"));
    }

    #[test]
    fn a_misspelt_key_is_an_error() {
        assert!(toml::from_str::<FileConfig>("max_conections = 5").is_err());
    }
}
