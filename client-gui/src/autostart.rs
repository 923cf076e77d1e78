//! "Start Ququ with the computer": the OS's own per-user mechanism, nothing running in the background.
//!
//! - Linux (and other XDG desktops): `$XDG_CONFIG_HOME/autostart/ququ.desktop` (`~/.config/autostart`),
//!   which GNOME, KDE, XFCE and most others read at login.
//! - Windows: the `Ququ` value under `HKCU\Software\Microsoft\Windows\CurrentVersion\Run`, set with the
//!   system's `reg.exe` (the workspace forbids `unsafe`, which the registry API would take).
//! - macOS: `~/Library/LaunchAgents/io.ququ.Ququ.plist` with `RunAtLoad`, read by launchd at login.
//!
//! The setting is off by default. The Linux path's files are written by functions that take their
//! directory, so tests run them in a temporary one.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum AutostartError {
    #[error("no home directory")]
    NoHome,
    #[error("cannot find this program's path: {0}")]
    NoExe(std::io::Error),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Os(String),
}

/// Starts the app with the OS from now on (`on`), or no longer. Blocking: call it off the UI thread.
pub fn set(on: bool) -> Result<(), AutostartError> {
    let exe = program()?;
    platform::set(on, &exe)
}

/// The program to start: the AppImage itself when running from one (its mount point changes every run),
/// else this executable.
fn program() -> Result<PathBuf, AutostartError> {
    if let Some(appimage) = std::env::var_os("APPIMAGE") {
        return Ok(PathBuf::from(appimage));
    }
    std::env::current_exe().map_err(AutostartError::NoExe)
}

/// The autostart entry's path under an XDG config directory.
pub fn desktop_file(config_home: &Path) -> PathBuf {
    config_home.join("autostart").join("ququ.desktop")
}

/// Writes (or, with `on` false, removes) the autostart entry under `config_home` that starts `exe`.
pub fn set_xdg(config_home: &Path, on: bool, exe: &Path) -> Result<(), AutostartError> {
    let entry = format!(
        "[Desktop Entry]\nType=Application\nName=Ququ\nComment=Started with the session (Ququ's settings turn this off)\nExec={}\nIcon=io.ququ.Ququ\nTerminal=false\nX-GNOME-Autostart-enabled=true\n",
        desktop_exec_quote(&exe.to_string_lossy())
    );
    write_or_remove(&desktop_file(config_home), on.then_some(entry))
}

/// Writes `contents` to `path` (its folder made if missing), or with `None` removes it; a file already
/// gone is not a failure, as off is off. (The XDG entry and the macOS LaunchAgent are both a file.)
fn write_or_remove(path: &Path, contents: Option<String>) -> Result<(), AutostartError> {
    let err = |source| AutostartError::Write {
        path: path.to_path_buf(),
        source,
    };
    let Some(contents) = contents else {
        return match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(err(e)),
            _ => Ok(()),
        };
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    std::fs::write(path, contents).map_err(err)
}

/// Quotes a path for a desktop entry's `Exec=` key: inside double quotes, with `"`, `` ` ``, `$` and
/// `\` escaped by a backslash (the spec's rule), and `%` doubled (field codes).
fn desktop_exec_quote(path: &str) -> String {
    let mut out = String::from("\"");
    for c in path.chars() {
        match c {
            '"' | '`' | '$' | '\\' => {
                // The desktop entry's own string escaping doubles the backslash once more.
                out.push_str("\\\\");
                out.push(c);
            }
            '%' => out.push_str("%%"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(not(any(windows, target_os = "macos")))]
mod platform {
    use super::{AutostartError, set_xdg};
    use std::path::Path;

    pub(super) fn set(on: bool, exe: &Path) -> Result<(), AutostartError> {
        // `config_dir` honours XDG_CONFIG_HOME, else ~/.config.
        let dirs = directories::BaseDirs::new().ok_or(AutostartError::NoHome)?;
        set_xdg(dirs.config_dir(), on, exe)
    }
}

#[cfg(windows)]
mod platform {
    use super::AutostartError;
    use std::os::windows::process::CommandExt;
    use std::path::Path;

    const RUN_KEY: &str = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run";
    /// No console window flashes up while `reg.exe` runs.
    const CREATE_NO_WINDOW: u32 = 0x0800_0000;

    pub(super) fn set(on: bool, exe: &Path) -> Result<(), AutostartError> {
        let mut reg = std::process::Command::new("reg");
        reg.creation_flags(CREATE_NO_WINDOW);
        if on {
            let value = format!("\"{}\"", exe.display());
            reg.args([
                "add", RUN_KEY, "/v", "Ququ", "/t", "REG_SZ", "/d", &value, "/f",
            ]);
        } else {
            reg.args(["delete", RUN_KEY, "/v", "Ququ", "/f"]);
        }
        let out = reg
            .output()
            .map_err(|e| AutostartError::Os(format!("reg.exe: {e}")))?;
        // Deleting a value that is not there is not a failure: it is off either way.
        if out.status.success() || !on {
            Ok(())
        } else {
            Err(AutostartError::Os(
                String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            ))
        }
    }
}

#[cfg(target_os = "macos")]
mod platform {
    use super::AutostartError;
    use std::path::Path;

    pub(super) fn set(on: bool, exe: &Path) -> Result<(), AutostartError> {
        let home = directories::BaseDirs::new().ok_or(AutostartError::NoHome)?;
        let path = home
            .home_dir()
            .join("Library/LaunchAgents/io.ququ.Ququ.plist");
        // The same three characters a notification body escapes.
        let exe = crate::notify::escape(&exe.display().to_string());
        let plist = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key><string>io.ququ.Ququ</string>
  <key>ProgramArguments</key><array><string>{exe}</string></array>
  <key>RunAtLoad</key><true/>
</dict>
</plist>
"#
        );
        super::write_or_remove(&path, on.then_some(plist))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_xdg_entry_is_written_and_removed() {
        let home = tempfile::tempdir().unwrap();
        let exe = Path::new("/opt/My Apps/ququ$1");
        set_xdg(home.path(), true, exe).unwrap();
        let path = desktop_file(home.path());
        assert_eq!(path, home.path().join("autostart/ququ.desktop"));
        let entry = std::fs::read_to_string(&path).unwrap();
        assert!(entry.starts_with("[Desktop Entry]\n"), "{entry}");
        assert!(
            entry.contains("\nExec=\"/opt/My Apps/ququ\\\\$1\"\n"),
            "{entry}"
        );
        assert!(entry.contains("\nType=Application\n"));
        // Turning it on twice is harmless; off removes it, and off again is not an error.
        set_xdg(home.path(), true, exe).unwrap();
        set_xdg(home.path(), false, exe).unwrap();
        assert!(!path.exists());
        set_xdg(home.path(), false, exe).unwrap();
    }
}
