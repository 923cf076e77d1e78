//! Desktop notifications over a real D-Bus session bus: a private `dbus-daemon` for this test, a small
//! notification server on it that records every `Notify` call (as GNOME's or dunst would receive them),
//! and the app's model and notifier sending to it.
//!
//! Needs `dbus-daemon` (Debian: `dbus-daemon`, installed by `.ci/run`).
#![cfg(target_os = "linux")]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

mod common;

use common::Bus;
use ququ::i18n::Lang;
use ququ::model::{Friend, Group, Model};
use ququ::notify::{self, Desktop, Prefs};
use ququ_client::{Event, Message, MessageState};
use ququ_protocol::{Conv, Presence};
use zbus::zvariant::OwnedValue;

/// One `Notify` call as the desktop received it.
#[derive(Debug, Clone)]
struct Call {
    replaces: u32,
    summary: String,
    body: String,
    actions: Vec<String>,
    sound: Option<String>,
    sound_file: Option<String>,
    suppress_sound: bool,
    /// `image-data`: width, height and the RGBA bytes.
    image: Option<(i32, i32, Vec<u8>)>,
}

/// The desktop side: `org.freedesktop.Notifications`, recording what it is asked to show.
struct Desk {
    calls: Arc<Mutex<Vec<Call>>>,
    next: u32,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Desk {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &mut self,
        _app_name: String,
        replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        hints: HashMap<String, OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        let text = |key: &str| {
            hints
                .get(key)
                .and_then(|v| String::try_from(v.try_clone().ok()?).ok())
        };
        let call = Call {
            replaces: replaces_id,
            summary,
            body,
            actions,
            sound: text("sound-name"),
            sound_file: text("sound-file"),
            image: hints.get("image-data").and_then(|v| {
                let (w, h, _stride, _alpha, _bits, _channels, data): (
                    i32,
                    i32,
                    i32,
                    bool,
                    i32,
                    i32,
                    Vec<u8>,
                ) = v.try_clone().ok()?.try_into().ok()?;
                Some((w, h, data))
            }),
            suppress_sound: hints
                .get("suppress-sound")
                .and_then(|v| bool::try_from(v).ok())
                .unwrap_or(false),
        };
        self.calls.lock().expect("calls").push(call);
        if replaces_id != 0 {
            return replaces_id;
        }
        self.next += 1;
        self.next
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["body".into(), "actions".into(), "body-markup".into()]
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        ("desk".into(), "ququ tests".into(), "1".into(), "1.2".into())
    }

    fn close_notification(&self, _id: u32) {}
}

fn message(id: i64, from: &str, conv: &Conv, text: &str) -> Event {
    Event::Message(Message {
        local_id: id,
        conv: conv.clone(),
        server_id: Some(id as u64),
        client_id: format!("c{id}"),
        from: from.into(),
        time: 0,
        text: text.into(),
        file: None,
        state: MessageState::Received,
        error: None,
        quote: None,
        mentions: Default::default(),
        recalled_by: None,
        recall_of: None,
        group_event: None,
    })
}

#[test]
fn messages_reach_the_desktop_grouped_escaped_and_as_chosen() {
    let bus = Bus::start();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let calls = Arc::new(Mutex::new(Vec::new()));
    let desk = Desk {
        calls: calls.clone(),
        next: 0,
    };
    let sounds = tempfile::tempdir().expect("temp dir");
    let (_server, desktop) = rt.block_on(async {
        let app = zbus::connection::Builder::address(bus.address.as_str())
            .expect("address")
            .build()
            .await
            .expect("the app's connection");
        // No notification service yet (a bare window manager): said so, in words the settings show.
        let alert = notify::Alert {
            topic: notify::Topic::Chat(Conv::User("ann".into())),
            summary: "Ann".into(),
            body: "hi".into(),
            sound: false,
            avatar: ("Ann".into(), "ann".into()),
            picture: None,
        };
        let problem = Desktop::on(app.clone(), None)
            .show(alert, 0, "Open".into())
            .await
            .expect_err("nobody serves notifications yet");
        assert_eq!(problem, notify::Problem::NoService);
        assert_eq!(problem.words(Lang::Zh), "此桌面没有运行通知服务。");
        let server = zbus::connection::Builder::address(bus.address.as_str())
            .expect("address")
            .name("org.freedesktop.Notifications")
            .expect("name")
            .serve_at("/org/freedesktop/Notifications", desk)
            .expect("serve")
            .build()
            .await
            .expect("the desktop's connection");
        // The app's sound, written to its data folder for the desktop to play.
        let sound = notify::sound_file(sounds.path())
            .await
            .expect("the sound is written");
        (server, Desktop::on(app, Some(sound)))
    });

    let mut model = Model::new("me".into(), "Me".into());
    model.apply(Event::Friends(vec![Friend {
        account: "ann".into(),
        nickname: "Ann 🍜".into(),
        remark: "Boss <b>&</b>".into(),
        presence: Presence::Online,
        profile: Default::default(),
        category: 0,
    }]));
    model.apply(Event::Groups(vec![Group {
        id: 7,
        name: "爬山群".into(),
        owner: "ann".into(),
        members: 3,
    }]));
    let ann = Conv::User("ann".into());
    let hikers = Conv::Group(7);
    let prefs = Prefs {
        enabled: true,
        preview: true,
        sound: true,
    };
    // What the app does on each incoming message whose chat is not in front.
    let mut ids: HashMap<Conv, u32> = HashMap::new();
    let mut deliver = |model: &Model, conv: &Conv, prefs: Prefs, lang: Lang| {
        let Some(alert) = notify::alert(model, conv, prefs, lang) else {
            return;
        };
        let replaces = ids.get(conv).copied().unwrap_or(0);
        let id = rt
            .block_on(desktop.show(alert, replaces, "Open".into()))
            .expect("the desktop took it");
        ids.insert(conv.clone(), id);
    };

    // A private message: the friend's remark as the title, the text, a sound, a click that opens it.
    model.apply(message(1, "ann", &ann, "a <i>fine</i> day & more"));
    deliver(&model, &ann, prefs, Lang::En);
    // A second one from the same chat replaces the first, with the count.
    model.apply(message(2, "ann", &ann, &"x".repeat(8000)));
    deliver(&model, &ann, prefs, Lang::En);
    // The group has a picture on the server (a plain green square): the notification shows it, as the
    // app does, rather than the generated one.
    let green = image::RgbaImage::from_pixel(16, 16, image::Rgba([20, 160, 60, 255]));
    let mut png = Vec::new();
    image::DynamicImage::ImageRgba8(green)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("a png");
    model.apply(Event::Avatar {
        of: hikers.clone(),
        sha256: Some("green".into()),
    });
    model.apply(Event::AvatarImage {
        sha256: "green".into(),
        bytes: png,
    });
    // A group message: the group's name, then who wrote.
    model.apply(message(3, "ann", &hikers, "周六见"));
    deliver(
        &model,
        &hikers,
        Prefs {
            sound: false,
            ..prefs
        },
        Lang::Zh,
    );
    // Someone who is not a friend, with an emoji nickname, by the group's member list.
    model.apply(Event::Members {
        group: 7,
        members: vec![ququ_client::Member {
            group: 7,
            account: "bo".into(),
            nickname: "Bo 🍜🍜".into(),
            role: ququ_protocol::Role::Member,
            presence: Presence::Online,
            muted_until: 0,
            profile: Default::default(),
        }],
    });
    model.read(&hikers);
    model.apply(message(30, "bo", &hikers, "👍"));
    deliver(&model, &hikers, prefs, Lang::En);
    // Privacy: only that something came.
    model.read(&hikers);
    model.apply(message(40, "ann", &hikers, "secret plan"));
    deliver(
        &model,
        &hikers,
        Prefs {
            preview: false,
            ..prefs
        },
        Lang::En,
    );
    // Do not disturb: nothing at all, though the badge counts.
    model.set_muted(&ann, true);
    model.apply(message(50, "ann", &ann, "are you there?"));
    deliver(&model, &ann, prefs, Lang::En);
    assert_eq!(model.unread(&ann), 3, "a muted chat still counts");

    let recorder = calls.clone();
    let calls = calls.lock().expect("calls").clone();
    assert_eq!(calls.len(), 5, "{calls:#?}");
    let [first, second, group, emoji, private] = &calls[..] else {
        unreachable!()
    };
    assert_eq!(first.summary, "Boss <b>&</b>", "the remark, as plain text");
    assert_eq!(
        first.body, "a &lt;i&gt;fine&lt;/i&gt; day &amp; more",
        "markup shown as typed"
    );
    assert_eq!(first.replaces, 0);
    assert_eq!(first.actions, ["default", "Open"]);
    assert_eq!(first.sound.as_deref(), Some("message-new-instant"));
    let played = first.sound_file.as_deref().expect("our sound, by file");
    assert_eq!(
        std::fs::read(played).expect("the sound file"),
        notify::SOUND_WAV,
        "the shipped sound"
    );
    // Ann's avatar as the app draws it: her colour in a circle, transparent corners, her initial in
    // white at the centre (the remark "Boss…" gives "B").
    let (w, h, data) = first.image.as_ref().expect("the sender's avatar");
    assert_eq!((*w, *h, data.len()), (64, 64, 64 * 64 * 4));
    let at = |x: usize, y: usize| &data[(y * 64 + x) * 4..(y * 64 + x) * 4 + 4];
    assert_eq!(at(0, 0)[3], 0, "a round avatar");
    let colour = ququ::avatar::color_for("ann").into_rgba8();
    assert_eq!(at(32, 6), [colour[0], colour[1], colour[2], 255]);
    let white = (16..48)
        .flat_map(|y| (16..48).map(move |x| (x, y)))
        .filter(|&(x, y)| at(x, y)[..3].iter().all(|&c| c > 200))
        .count();
    assert!(white > 30, "the initial is drawn ({white} white pixels)");
    let (gw, gh, group_picture) = group.image.as_ref().expect("the group's avatar");
    assert_eq!((*gw, *gh), (64, 64));
    let at = |x: usize, y: usize| &group_picture[(y * 64 + x) * 4..(y * 64 + x) * 4 + 4];
    assert_eq!(at(32, 32), [20, 160, 60, 255], "the group's picture");
    assert_eq!(at(0, 0)[3], 0, "cut round");

    assert_eq!(second.replaces, ids[&ann], "one notification per chat");
    assert!(second.body.starts_with("[2 new] xxx"), "{}", second.body);
    assert!(second.body.chars().count() < 140, "cut short");

    assert_eq!(group.summary, "爬山群");
    assert_eq!(
        group.body, "Boss &lt;b&gt;&amp;&lt;/b&gt;: 周六见",
        "who wrote, by the remark, escaped in the body"
    );
    assert!(group.suppress_sound && group.sound.is_none());

    assert_eq!(emoji.body, "Bo 🍜🍜: 👍");
    assert!(
        emoji.replaces != 0 && emoji.replaces == private.replaces,
        "the group's one notification, replaced"
    );
    assert_eq!(private.body, "Boss &lt;b&gt;&amp;&lt;/b&gt;: New message");
    assert!(!private.body.contains("secret"));

    // A friend request: who asks, and their note; a second request replaces the first's notification.
    let mut requests = 0;
    for (from, nickname, note) in [
        ("cy", "Cy <3", "we met at the <b>meetup</b>"),
        ("dee", "dee", ""),
    ] {
        let change = model.apply(Event::FriendRequest(ququ_client::FriendRequest {
            from: from.into(),
            nickname: nickname.into(),
            note: note.into(),
            time: 0,
        }));
        assert_eq!(change, ququ::model::Change::Request(from.into()));
        let alert = notify::request_alert(&model, from, prefs, Lang::En).expect("an alert");
        assert_eq!(alert.topic, notify::Topic::Requests);
        let id = rt
            .block_on(desktop.show(alert, requests, "Open".into()))
            .expect("the desktop took it");
        requests = id;
    }
    // Hidden text hides the note too; notifications off, nothing.
    let hidden = Prefs {
        preview: false,
        ..prefs
    };
    let quiet = notify::request_alert(&model, "cy", hidden, Lang::Zh).expect("an alert");
    assert_eq!(quiet.body, "请求添加你为好友");
    assert!(quiet.summary.contains("Cy <3 (cy)"));
    let off = Prefs {
        enabled: false,
        ..prefs
    };
    assert_eq!(notify::request_alert(&model, "cy", off, Lang::En), None);
    let calls = recorder.lock().expect("calls").clone();
    let [.., cy, dee] = &calls[..] else {
        unreachable!()
    };
    assert_eq!(cy.summary, "Friend request from Cy <3 (cy)");
    assert_eq!(cy.body, "we met at the &lt;b&gt;meetup&lt;/b&gt;");
    assert_eq!(dee.summary, "Friend request from dee");
    assert_eq!(dee.body, "wants to be your friend");
    assert_eq!(cy.replaces, 0, "a notification of its own, not a chat's");
    assert_eq!(
        dee.replaces, requests,
        "one notification for requests, replaced"
    );
}
