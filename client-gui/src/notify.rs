//! Desktop notifications for messages that arrive while their chat is not in front.
//!
//! Two halves: [`alert`] decides what a notification says, from the model alone (no window, no bus), so it
//! is tested like the model; `dbus` hands it to the desktop over the freedesktop notification interface
//! on the session bus (`org.freedesktop.Notifications`, which GNOME, KDE, XFCE, dunst and mako all serve).
//! Several messages from one chat replace one notification rather than piling up: the app keeps the id
//! the desktop gave each chat's notification and passes it back as `replaces_id`.
//!
//! Why our own twenty lines of D-Bus rather than `notify-rust`: it reaches the bus only through the
//! `DBUS_SESSION_BUS_ADDRESS` of the process, so a test could not point it at a private bus without
//! changing the environment of every test beside it; `zbus` is in the build already (iced's theme
//! detection uses it), and with it the bus is a parameter.
//!
//! On Windows 10 and 11 a notification is a toast (`windows`, what it says built by `toast`), one per
//! chat, replaced in place as on Linux. macOS shows no pop-up yet (it cannot be built here to test
//! one): there the dock asks for attention and the titles count unread messages.
//!
//! Layout: this file decides what is shown and when ([`alert`], [`Shown`]) and holds the desktop's
//! service ([`Desktop`]); `dbus` speaks to Linux desktops; `toast` writes a toast's XML and `windows`
//! shows it.

#[cfg(target_os = "linux")]
pub mod dbus;
#[cfg(any(windows, test))]
mod toast;
#[cfg(windows)]
mod windows;

use std::collections::HashMap;

use ququ_protocol::Conv;

use crate::i18n::Lang;
use crate::model::Model;

/// How much of a message a notification shows: two short lines, as QQ's pop-ups do.
const BODY_CHARS: usize = 120;

/// What the user chose about notifications (the settings dialog).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefs {
    pub enabled: bool,
    /// Show the message's text; off shows only who wrote ("privacy").
    pub preview: bool,
    pub sound: bool,
}

/// What a notification is about, and what a click on it opens: one notification each, updated in place.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Topic {
    /// A chat's new messages (and files offered there).
    Chat(Conv),
    /// Friend requests: one notification for them all, the newest shown.
    Requests,
}

/// One notification, as the desktop is to show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub topic: Topic,
    /// The sender's name (remark first), or the group's name.
    pub summary: String,
    /// The text, cut to two lines; for a group, behind the sender's name. Plain text: markup characters
    /// are escaped on the way to the desktop.
    pub body: String,
    pub sound: bool,
    /// Whose avatar the notification shows: the sender's (the group's for a group), as `(name, key)`
    /// for [`crate::avatar::picture`], the generated one.
    pub avatar: (String, String),
    /// Their picture from the server, when they have one and it is here: shown instead, as in the app.
    pub picture: Option<image::RgbaImage>,
}

impl Alert {
    /// The avatar to show, `side` pixels across and round: their picture if there is one, else the
    /// generated one.
    pub fn avatar_picture(&self, side: u32) -> image::RgbaImage {
        match &self.picture {
            Some(picture) => crate::avatar::rounded(picture, side),
            None => crate::avatar::picture(&self.avatar.0, &self.avatar.1, side),
        }
    }
}

/// Why a notification could not be shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// No desktop session bus to reach (a server, a bare X display).
    NoBus,
    /// The session has no notification service running (no desktop shell, no dunst or mako).
    NoService,
    /// Pop-ups are not shown on this system yet (macOS): the dock asks instead.
    Unsupported,
    /// Anything else, in the desktop's words.
    Failed(String),
}

impl Problem {
    /// In the user's language, for the settings dialog.
    pub fn words(&self, lang: Lang) -> String {
        let tr = lang.tr();
        match self {
            Problem::NoBus => tr.notify_no_bus.to_owned(),
            Problem::NoService => tr.notify_no_service.to_owned(),
            Problem::Unsupported => tr.notify_unsupported.to_owned(),
            Problem::Failed(why) => format!("{} ({why})", tr.notify_unavailable),
        }
    }
}

/// Ququ's new-message sound (`assets/sounds/make-sound.py` made it): 0.35 s, 15 KB.
pub const SOUND_WAV: &[u8] = include_bytes!("../../assets/sounds/message.wav");

/// The desktop's notification service as the app holds it: on Linux, a connection to the session bus,
/// and where our sound is on disk for the desktop to play; on Windows, the app's toasts and where their
/// clicks arrive.
#[derive(Debug, Clone)]
pub struct Desktop {
    #[cfg(target_os = "linux")]
    bus: zbus::Connection,
    #[cfg(target_os = "linux")]
    sound: Option<std::path::PathBuf>,
    #[cfg(windows)]
    toasts: std::sync::Arc<windows::Toasts>,
    /// The clicked toasts' ids, until the app's subscription takes them.
    #[cfg(windows)]
    clicked: Clicked,
}

impl Desktop {
    /// Connects to the desktop's notification service, or says why there is none. `data` is the app's
    /// data folder, where the sound is written for the desktop to play.
    pub async fn connect(data: std::path::PathBuf) -> Result<Desktop, Problem> {
        #[cfg(target_os = "linux")]
        {
            let bus = dbus::session().await?;
            Ok(Desktop::on(bus, sound_file(&data).await))
        }
        #[cfg(windows)]
        {
            let (clicks, clicked) = iced::futures::channel::mpsc::unbounded();
            let toasts = windows::Toasts::register(&data, clicks)?;
            Ok(Desktop {
                toasts: std::sync::Arc::new(toasts),
                clicked: Clicked(std::sync::Arc::new(std::sync::Mutex::new(Some(clicked)))),
            })
        }
        #[cfg(not(any(target_os = "linux", windows)))]
        {
            let _ = data;
            Err(Problem::Unsupported)
        }
    }

    /// The service on a bus of the caller's choosing (tests run a private one), with the sound at
    /// `sound` if it was written.
    #[cfg(target_os = "linux")]
    pub fn on(bus: zbus::Connection, sound: Option<std::path::PathBuf>) -> Desktop {
        Desktop { bus, sound }
    }

    /// Shows `alert` in place of the notification `replaces` (0: a new one); `open` names clicking it.
    /// Returns the desktop's id for it, to replace it with the chat's next message.
    pub fn show(
        &self,
        alert: Alert,
        replaces: u32,
        open: String,
    ) -> impl Future<Output = Result<u32, Problem>> + Send + 'static {
        #[cfg(target_os = "linux")]
        {
            let bus = self.bus.clone();
            let sound = self.sound.clone();
            async move { dbus::show(&bus, &alert, replaces, &open, sound.as_deref()).await }
        }
        // The whole toast is what to click, so it needs no words for it.
        #[cfg(windows)]
        {
            let _ = open;
            let toasts = self.toasts.clone();
            async move { toasts.show(&alert, replaces) }
        }
        #[cfg(not(any(target_os = "linux", windows)))]
        {
            let _ = (alert, replaces, open);
            async { Err(Problem::Unsupported) }
        }
    }

    /// The ids of notifications the user clicked.
    pub fn clicks(&self) -> iced::Subscription<u32> {
        #[cfg(target_os = "linux")]
        {
            iced::Subscription::run(dbus::clicks)
        }
        #[cfg(windows)]
        {
            iced::Subscription::run_with(self.clicked.clone(), Clicked::stream)
        }
        #[cfg(not(any(target_os = "linux", windows)))]
        {
            iced::Subscription::none()
        }
    }
}

/// The receiving end of the toasts' clicks, for the one subscription that takes it.
#[cfg(windows)]
#[derive(Debug, Clone)]
struct Clicked(
    std::sync::Arc<std::sync::Mutex<Option<iced::futures::channel::mpsc::UnboundedReceiver<u32>>>>,
);

#[cfg(windows)]
impl std::hash::Hash for Clicked {
    /// One app has one desktop: the subscription is the same one for as long as the app runs.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        "toast clicks".hash(state);
    }
}

#[cfg(windows)]
impl Clicked {
    fn stream(&self) -> impl iced::futures::Stream<Item = u32> + use<> {
        use iced::futures::StreamExt;
        let taken = self.0.lock().ok().and_then(|mut r| r.take());
        match taken {
            Some(clicks) => clicks.left_stream(),
            None => iced::futures::stream::empty().right_stream(),
        }
    }
}

/// Writes the sound into `data` (once; an unchanged file is left alone) for the desktop to play, as the
/// notification spec's `sound-file` names a file. `None` if it cannot be written: the desktop's own
/// message sound plays then.
pub async fn sound_file(data: &std::path::Path) -> Option<std::path::PathBuf> {
    let path = data.join("sounds").join("message.wav");
    if tokio::fs::read(&path).await.ok().as_deref() == Some(SOUND_WAV) {
        return Some(path);
    }
    tokio::fs::create_dir_all(path.parent()?).await.ok()?;
    tokio::fs::write(&path, SOUND_WAV).await.ok()?;
    Some(path)
}

/// Each chat's notification on the desktop, so the chat's next message replaces it rather than adding
/// one. While a chat's `Notify` is on its way (the desktop has not yet said its id), later messages are
/// only remembered, and one update follows when the id comes: a burst of messages is at most two calls
/// and one pop-up, where sending each with no id yet would show one pop-up per message.
#[derive(Debug, Default)]
pub struct Shown {
    chats: HashMap<Topic, Slot>,
}

#[derive(Debug, Default)]
struct Slot {
    /// The desktop's id for the chat's notification (0: none yet).
    id: u32,
    in_flight: bool,
    /// A message came while in flight: show the chat again when the answer comes.
    again: bool,
}

impl Shown {
    /// Something for `topic` is to be shown: `Some(replaces)` to send now, `None` to wait for the call
    /// already on its way.
    pub fn want(&mut self, topic: &Topic) -> Option<u32> {
        let slot = self.chats.entry(topic.clone()).or_default();
        if slot.in_flight {
            slot.again = true;
            return None;
        }
        slot.in_flight = true;
        Some(slot.id)
    }

    /// The desktop answered for `topic` (with its id, or `None` if it showed nothing). True if more
    /// came meanwhile: show it once more, now replacing the notification just shown.
    pub fn answered(&mut self, topic: &Topic, id: Option<u32>) -> bool {
        let slot = self.chats.entry(topic.clone()).or_default();
        if let Some(id) = id {
            slot.id = id;
        }
        slot.in_flight = false;
        std::mem::take(&mut slot.again)
    }

    /// What the notification with this id is about, for a click on it.
    pub fn topic(&self, id: u32) -> Option<&Topic> {
        self.chats
            .iter()
            .find(|(_, slot)| slot.id == id && id != 0)
            .map(|(topic, _)| topic)
    }
}

/// The notification for the newest message in `conv`, if one is due: notifications on, the chat not
/// muted, and something from someone else unread there. Several unread messages say how many.
pub fn alert(model: &Model, conv: &Conv, prefs: Prefs, lang: Lang) -> Option<Alert> {
    // A mention gets through a muted group, as in QQ: someone wants this person in particular.
    let mentioned = model.mentioned(conv);
    if !prefs.enabled || (model.is_muted(conv) && !mentioned) {
        return None;
    }
    let unread = model.unread(conv);
    let line = model
        .conversations
        .get(conv)?
        .lines
        .iter()
        .rev()
        .find(|l| l.from != model.account)?;
    if unread == 0 {
        return None;
    }
    let tr = lang.tr();
    let group = match conv {
        Conv::Group(id) => Some(*id),
        Conv::User(_) => None,
    };
    let text = if prefs.preview {
        cut(&model.preview(conv, line, lang))
    } else {
        tr.new_message.to_owned()
    };
    let text = match group {
        Some(g) => format!("{}: {text}", model.sender_name(Some(g), &line.from)),
        None => text,
    };
    let body = if unread > 1 {
        format!("{} {text}", lang.unread_messages(unread))
    } else {
        text
    };
    let body = if mentioned {
        format!("{} {body}", tr.mention_me)
    } else {
        body
    };
    let avatar = match conv {
        Conv::User(account) => (model.conv_name(conv), account.clone()),
        Conv::Group(id) => (model.conv_name(conv), format!("group:{id}")),
    };
    Some(Alert {
        topic: Topic::Chat(conv.clone()),
        summary: cut(&model.conv_name(conv)),
        body,
        sound: prefs.sound,
        avatar,
        picture: model.avatar(conv).cloned(),
    })
}

/// The notification for a friend request from `from` that just came, if notifications are on: who asks
/// as the title (with the account when the nickname is not it), and their note — or only that they
/// ask, when message text is hidden or there is no note.
pub fn request_alert(model: &Model, from: &str, prefs: Prefs, lang: Lang) -> Option<Alert> {
    if !prefs.enabled {
        return None;
    }
    let request = model.requests.iter().find(|r| r.from == from)?;
    let tr = lang.tr();
    let name = if request.nickname.is_empty() || request.nickname == request.from {
        request.from.clone()
    } else {
        format!("{} ({})", request.nickname, request.from)
    };
    let note = request.note.trim();
    Some(Alert {
        topic: Topic::Requests,
        summary: cut(&lang.friend_request_from(&name)),
        body: if prefs.preview && !note.is_empty() {
            cut(note)
        } else {
            tr.wants_to_be_friends.to_owned()
        },
        sound: prefs.sound,
        avatar: (request.nickname.clone(), request.from.clone()),
        picture: model.user_avatar(&request.from).cloned(),
    })
}

/// The notification for someone asking to join a group I manage, if notifications are on: who asks
/// and where as the title; the body says what to do, since a join request carries no note.
pub fn join_alert(
    model: &Model,
    request: &crate::model::JoinRequest,
    prefs: Prefs,
    lang: Lang,
) -> Option<Alert> {
    if !prefs.enabled {
        return None;
    }
    let name = if request.nickname.is_empty() || request.nickname == request.account {
        request.account.clone()
    } else {
        format!("{} ({})", request.nickname, request.account)
    };
    let group = model.conv_name(&Conv::Group(request.group));
    Some(Alert {
        topic: Topic::Requests,
        summary: cut(&lang.join_request_from(&name, &group)),
        body: lang.tr().join_requests.to_owned(),
        sound: prefs.sound,
        avatar: (request.nickname.clone(), request.account.clone()),
        picture: model.user_avatar(&request.account).cloned(),
    })
}

/// At most two lines and [`BODY_CHARS`] characters, with an ellipsis if anything was left out.
fn cut(text: &str) -> String {
    let mut lines = text.lines();
    let two: Vec<&str> = lines.by_ref().take(2).collect();
    let joined = two.join("\n");
    let mut chars = joined.chars();
    let short: String = chars.by_ref().take(BODY_CHARS).collect();
    if chars.next().is_some() || lines.next().is_some() {
        format!("{}…", short.trim_end())
    } else {
        short
    }
}

/// Text for the desktop: the notification spec lets a server read `<b>`, `<i>`, `<a>` and entities in
/// the body, so a message's own `<` and `&` are escaped to show as typed.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ququ_client::{Event, Message, MessageState};

    fn prefs() -> Prefs {
        Prefs {
            enabled: true,
            preview: true,
            sound: true,
        }
    }

    fn incoming(m: &mut Model, id: i64, from: &str, conv: &Conv, text: &str) {
        let message = crate::model::tests::message(id, from, conv.clone(), MessageState::Received);
        m.apply(Event::Message(Message {
            text: text.into(),
            ..message
        }));
    }

    #[test]
    fn says_who_and_what_cut_to_two_lines() {
        let mut m = Model::new("me".into(), String::new());
        let ann = Conv::User("ann".into());
        incoming(&mut m, 1, "ann", &ann, "one\ntwo\nthree");
        let a = alert(&m, &ann, prefs(), Lang::En).expect("an alert");
        assert_eq!((a.summary.as_str(), a.body.as_str()), ("ann", "one\ntwo…"));
        let long = "长".repeat(8000);
        incoming(&mut m, 2, "ann", &ann, &long);
        let a = alert(&m, &ann, prefs(), Lang::Zh).expect("an alert");
        assert!(a.body.starts_with("[2条] 长"), "{}", a.body);
        assert!(a.body.chars().count() < 140 && a.body.ends_with('…'));
        // Privacy: who, not what.
        let hidden = Prefs {
            preview: false,
            ..prefs()
        };
        let a = alert(&m, &ann, hidden, Lang::En).expect("an alert");
        assert!(!a.body.contains('长'), "{}", a.body);
        // Read, muted or switched off: nothing.
        assert!(
            alert(
                &m,
                &ann,
                Prefs {
                    enabled: false,
                    ..prefs()
                },
                Lang::En
            )
            .is_none()
        );
        m.set_muted(&ann, true);
        assert!(alert(&m, &ann, prefs(), Lang::En).is_none());
        m.set_muted(&ann, false);
        m.read(&ann);
        assert!(alert(&m, &ann, prefs(), Lang::En).is_none());
    }

    /// Issue 24: a mention gets through a muted group, says so, and a recalled message's notification
    /// says it was recalled rather than what it said.
    #[test]
    fn a_mention_gets_through_a_muted_group_and_a_recall_hides_the_text() {
        let mut m = Model::new("me".into(), String::new());
        let crew = Conv::Group(7);
        m.set_muted(&crew, true);
        incoming(&mut m, 1, "ann", &crew, "lunch?");
        assert!(alert(&m, &crew, prefs(), Lang::En).is_none(), "muted");
        let message = crate::model::tests::message(2, "ann", crew.clone(), MessageState::Received);
        m.apply(Event::Message(Message {
            text: "@me you too".into(),
            mentions: ququ_protocol::Mentions {
                all: false,
                accounts: vec!["me".into()],
            },
            ..message
        }));
        let a = alert(&m, &crew, prefs(), Lang::Zh).expect("the mention gets through");
        assert!(a.body.starts_with("[有人@我]"), "{}", a.body);

        let ann = Conv::User("ann".into());
        let message = crate::model::tests::message(3, "ann", ann.clone(), MessageState::Received);
        m.apply(Event::Message(Message {
            text: "secret".into(),
            ..message.clone()
        }));
        m.apply(Event::Recalled {
            conv: ann.clone(),
            target: 3,
            by: "ann".into(),
            message: Message {
                text: String::new(),
                recalled_by: Some("ann".into()),
                ..message
            },
            quotes: Vec::new(),
        });
        let a = alert(&m, &ann, prefs(), Lang::En).expect("an alert");
        assert!(!a.body.contains("secret"), "{}", a.body);
        assert!(a.body.contains("ann recalled a message"), "{}", a.body);
    }

    #[test]
    fn a_burst_from_one_chat_is_one_notification() {
        let mut shown = Shown::default();
        let ann = Topic::Chat(Conv::User("ann".into()));
        assert_eq!(shown.want(&ann), Some(0), "the first is sent, as new");
        assert_eq!(shown.want(&ann), None, "the next waits for its id");
        assert_eq!(shown.want(&ann), None);
        assert!(
            shown.answered(&ann, Some(7)),
            "one update for the two that waited"
        );
        assert_eq!(shown.want(&ann), Some(7), "and it replaces the first");
        assert!(!shown.answered(&ann, Some(7)));
        assert_eq!(shown.topic(7), Some(&ann));
        for other in [Topic::Chat(Conv::Group(1)), Topic::Requests] {
            assert_eq!(shown.want(&other), Some(0), "{other:?} has its own");
        }
        assert_eq!(shown.topic(0), None);
    }

    #[test]
    fn markup_is_escaped() {
        assert_eq!(escape("<b>A&B</b>"), "&lt;b&gt;A&amp;B&lt;/b&gt;");
    }
}
