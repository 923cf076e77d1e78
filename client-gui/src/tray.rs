//! The tray icon: the app's presence while its windows are closed.
//!
//! What the icon shows is [`Shown`], derived from the app after each update (unread count, online or
//! not, do not disturb, the language); the app pushes it only when it differs from what was pushed
//! last. What the user does with it comes back as an [`Event`] from the subscription [`events`].
//!
//! On Linux the icon is a StatusNotifierItem on the session bus (`linux`, with the `ksni` crate):
//! KDE Plasma, GNOME with the AppIndicator extension (Ubuntu's default), XFCE, Cinnamon, MATE, Budgie
//! and the wlroots bars (waybar) show those. Why `ksni`: pure Rust over `zbus`, which the build has
//! already, where `tray-icon` needs GTK and libappindicator on Linux. A desktop with no
//! StatusNotifierWatcher (plain GNOME without the extension, a bare X server) gets no icon: the app
//! then says so in the settings, and closing the friend list quits as before, rather than hiding
//! the app where nobody can get it back.
//!
//! On Windows the icon is in the taskbar's notification area (`windows`, with the `tray-icon` crate,
//! which the Tauri project keeps up with Windows), with the same looks, tooltip, clicks and menu. The
//! pixels of the three looks are shared (`looks`). macOS has no tray icon yet: `events` says
//! `Unsupported`, and closing the friend list quits there as on a desktop without a tray.

#[cfg(target_os = "linux")]
mod linux;
#[cfg(any(target_os = "linux", windows))]
mod looks;
#[cfg(windows)]
mod windows;

use iced::futures::Stream;

use crate::i18n::Lang;

/// What the tray icon shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub lang: Lang,
    /// Logged in as this account; `None` before logging in.
    pub account: Option<String>,
    /// Connected to the server now.
    pub online: bool,
    /// Messages not yet read, over all chats (muted ones included, as the badges count them).
    pub unread: u32,
    /// Friend requests (and requests to join my groups) waiting for my answer: they get the red dot
    /// too, as QQ's icon flashes for them.
    pub requests: usize,
    /// Some of them are requests to join a group: the words say "requests", not "friend requests".
    pub group_requests: bool,
    /// The user chose "do not disturb": no pop-ups and no sounds.
    pub dnd: bool,
}

impl Default for Shown {
    fn default() -> Self {
        Shown {
            lang: Lang::En,
            account: None,
            online: false,
            unread: 0,
            requests: 0,
            group_requests: false,
            dnd: false,
        }
    }
}

impl Shown {
    /// The tooltip's two lines: who, and what waits.
    pub fn tooltip(&self) -> (String, String) {
        let tr = self.lang.tr();
        let title = match &self.account {
            Some(account) => format!("{} - {account}", tr.app_name),
            None => tr.app_name.to_owned(),
        };
        let state = if self.account.is_none() {
            tr.tray_logged_out.to_owned()
        } else if !self.online {
            tr.offline.to_owned()
        } else if self.attention() {
            let unread =
                (self.unread > 0).then(|| tr.tray_unread.replace("{n}", &self.unread.to_string()));
            let requests = (self.requests > 0)
                .then(|| self.lang.requests_word(self.requests, self.group_requests));
            unread
                .into_iter()
                .chain(requests)
                .collect::<Vec<_>>()
                .join(" · ")
        } else if self.dnd {
            tr.tray_dnd.to_owned()
        } else {
            tr.online.to_owned()
        };
        (title, state)
    }

    /// Something waits for the user (a message, a friend request): the icon shows its red dot.
    pub fn attention(&self) -> bool {
        self.unread > 0 || self.requests > 0
    }
}

/// What the user did with the tray icon.
#[derive(Debug, Clone)]
pub enum Event {
    /// The icon is up: push what it shows through this.
    Ready(Handle),
    /// No icon on this desktop, and why (in the user's words, for the settings).
    Unavailable(Problem),
    /// A left click on the icon: show the newest unread chat, or the friend list.
    Activate,
    /// "Open Ququ" in its menu: show the friend list.
    Open,
    /// "Online" or "Do not disturb" chosen in its menu.
    DoNotDisturb(bool),
    /// "Quit" in its menu.
    Quit,
}

/// Why there is no tray icon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// No session bus (a bare X display, a server).
    NoBus,
    /// The desktop shows no StatusNotifierItems (GNOME without the AppIndicator extension).
    NoHost,
    /// Not built for this system yet.
    Unsupported,
    /// Anything else, in the bus's words.
    Failed(String),
}

impl Problem {
    /// In the user's language, for the settings dialog.
    pub fn words(&self, lang: Lang) -> String {
        let tr = lang.tr();
        match self {
            Problem::NoBus | Problem::NoHost => tr.tray_no_host.to_owned(),
            Problem::Unsupported => tr.tray_unsupported.to_owned(),
            Problem::Failed(why) => format!("{} ({why})", tr.tray_no_host),
        }
    }
}

/// The running tray icon.
#[derive(Clone)]
pub struct Handle {
    #[cfg(target_os = "linux")]
    inner: ksni::Handle<linux::Item>,
    #[cfg(windows)]
    inner: std::sync::Arc<windows::Owner>,
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("tray::Handle")
    }
}

impl Handle {
    /// Shows `shown`; `false` if the icon is gone (its service stopped) or could not be made.
    ///
    /// On Windows the icon is made (the first time) and changed right here, on the calling thread,
    /// which must be the one running iced's event loop: call this from the app's `update`.
    pub fn show(&self, shown: Shown) -> impl Future<Output = bool> + Send + 'static {
        #[cfg(target_os = "linux")]
        {
            let inner = self.inner.clone();
            async move { inner.update(|item| item.shown = shown).await.is_some() }
        }
        #[cfg(windows)]
        {
            let up = self.inner.show(shown);
            async move { up }
        }
        #[cfg(not(any(target_os = "linux", windows)))]
        {
            let _ = shown;
            async { false }
        }
    }
}

/// Puts the icon up and reports what the user does with it: `Ready` (or `Unavailable`) first.
pub fn events() -> impl Stream<Item = Event> {
    iced::stream::channel(16, async |mut output| {
        use iced::futures::SinkExt;
        #[cfg(target_os = "linux")]
        let first = match spawn(Shown::default(), output.clone()).await {
            Ok(handle) => Event::Ready(handle),
            Err(problem) => Event::Unavailable(problem),
        };
        // The icon itself is made by the first `Handle::show`, on iced's main thread (see `windows`).
        #[cfg(windows)]
        let first = Event::Ready(Handle {
            inner: std::sync::Arc::new(windows::Owner::new(output.clone())),
        });
        #[cfg(not(any(target_os = "linux", windows)))]
        let first = Event::Unavailable(Problem::Unsupported);
        let _ = output.send(first).await;
        // The icon's own service sends the clicks; this stream only has to stay open for them, and
        // ending it would make iced start it (and a second icon) again.
        std::future::pending::<()>().await;
    })
}

/// Puts the icon up on the session bus this process was started with, sending clicks to `events`.
/// (The subscription calls this; tests call it to check the icon over a private bus.)
#[cfg(target_os = "linux")]
pub async fn spawn(
    shown: Shown,
    events: iced::futures::channel::mpsc::Sender<Event>,
) -> Result<Handle, Problem> {
    linux::spawn(shown, events)
        .await
        .map(|inner| Handle { inner })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A friend request waiting raises the red dot and is in the tooltip, with or without unread
    /// messages beside it.
    #[test]
    fn requests_get_the_dot_and_the_tooltip() {
        let mut shown = Shown {
            lang: Lang::En,
            account: Some("alice".into()),
            online: true,
            ..Shown::default()
        };
        assert!(!shown.attention());
        assert_eq!(shown.tooltip().1, "Online");
        shown.requests = 2;
        assert!(shown.attention());
        assert_eq!(shown.tooltip().1, "Friend requests (2)");
        shown.unread = 3;
        shown.lang = Lang::Zh;
        assert_eq!(shown.tooltip().1, "3 条未读消息 · 好友申请（2）");
    }
}
