//! What the D-Bus tests share: a private session bus, and a desktop's tray watcher on it.
// Each test binary uses a part of this.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

/// A private session bus, stopped when dropped.
pub struct Bus {
    daemon: Child,
    pub address: String,
}

/// The bus's configuration: a session bus that starts no services of its own. (With the system's
/// session configuration, an installed dunst's activation file makes the bus try to start dunst for
/// the notification name, and the test sees that fail instead of "no service".)
const CONFIG: &str = r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#;

impl Bus {
    pub fn start() -> Bus {
        let config = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(config.path(), CONFIG).expect("bus configuration");
        let mut daemon = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.path().display()))
            .args(["--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("dbus-daemon (Debian package dbus-daemon) runs");
        let mut line = String::new();
        BufReader::new(daemon.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the bus address");
        Bus {
            daemon,
            address: line.trim().to_owned(),
        }
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

/// The desktop's watcher: records the items that register.
pub struct Watcher {
    items: Arc<Mutex<Vec<String>>>,
}

#[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
impl Watcher {
    fn register_status_notifier_item(&self, service: String) {
        self.items.lock().expect("items").push(service);
    }

    fn register_status_notifier_host(&self, _service: String) {}

    #[zbus(property)]
    fn is_status_notifier_host_registered(&self) -> bool {
        true
    }

    #[zbus(property)]
    fn protocol_version(&self) -> i32 {
        0
    }

    #[zbus(property)]
    fn registered_status_notifier_items(&self) -> Vec<String> {
        self.items.lock().expect("items").clone()
    }
}

/// Serves a StatusNotifierWatcher on this process's session bus (`DBUS_SESSION_BUS_ADDRESS`), as a
/// desktop with a tray does; returns its connection (the watcher lives while it does) and the names of
/// the items registered with it.
pub async fn watcher() -> (zbus::Connection, Arc<Mutex<Vec<String>>>) {
    let items = Arc::new(Mutex::new(Vec::new()));
    let connection = zbus::connection::Builder::session()
        .expect("session bus")
        .name("org.kde.StatusNotifierWatcher")
        .expect("name")
        .serve_at(
            "/StatusNotifierWatcher",
            Watcher {
                items: items.clone(),
            },
        )
        .expect("serve")
        .build()
        .await
        .expect("the watcher's connection");
    (connection, items)
}

/// Runs this test binary's test `child` again in a child process whose session bus is a private one,
/// with `flag` set so that the child test knows it is the child; fails with the child's output if it
/// fails. (Whatever finds the bus through `DBUS_SESSION_BUS_ADDRESS`, as the tray icon does, then
/// finds the private one, and no test changes its own process's environment.)
pub fn run_on_private_bus(child: &str, flag: &str) {
    let bus = Bus::start();
    let out = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", child, "--nocapture", "--test-threads=1"])
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .env(flag, "1")
        .output()
        .expect("the child test runs");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && said.contains("1 passed"),
        "{child} failed:\n{said}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
