//! Renders every window, light and dark, in Chinese and English, into `docs/screenshots/`.
//!
//! Off by default (it writes into the repository); run it with
//! `QUQU_SCREENSHOTS=1 ICED_TEST_BACKEND=tiny-skia cargo test -p ququ --test screenshots`.
//! The data is a fixed demo model, so the pictures only change when the UI does.

use std::path::{Path, PathBuf};

use iced::{Settings, Size, Theme};
use iced_test::Simulator;
use ququ::app::{App, Window};
use ququ::config::Dirs;
use ququ::dialog::{self, Dialog};
use ququ::fonts;
use ququ::i18n::Lang;
use ququ::model::{
    Connection, Conversation, Delivery, FileItem, Friend, FriendRequest, Group, JoinRequest, Line,
    Member, Model, Notice, Paging, Sent, SentRequest, Transfer, TransferId, TransferState,
    now_millis,
};
use ququ::theme::{self, ThemePref};
use ququ::window::{about, chat, contacts, group, history, login, viewer};
use ququ_protocol::{Conv, Presence, Role};

fn settings() -> Settings {
    Settings {
        fonts: fonts::ALL.into_iter().map(Into::into).collect(),
        default_font: fonts::QUQU_SANS,
        ..Settings::default()
    }
}

fn friend(account: &str, nickname: &str, remark: &str, online: bool) -> (String, Friend) {
    let presence = if online {
        Presence::Online
    } else {
        Presence::Offline
    };
    (
        account.into(),
        Friend {
            account: account.into(),
            nickname: nickname.into(),
            remark: remark.into(),
            presence,
            profile: Default::default(),
            category: 0,
        },
    )
}

fn line(n: i64, from: &str, minutes_ago: u64, text: &str, delivery: Delivery) -> Line {
    Line {
        local_id: Some(n),
        id: (delivery == Delivery::Sent).then_some(n as u64),
        client_id: format!("c{n}"),
        from: from.into(),
        time: now_millis().saturating_sub(minutes_ago * 60_000),
        text: text.into(),
        delivery,
        file: None,
        quote: None,
        mentions: Default::default(),
        recalled: None,
        change: None,
    }
}

/// A file bubble: `mine` files are from xiaoming. Where it stands comes from its transfer on this device
/// (`None`: none here, so mine is on the server and theirs waits for me), as in the app.
#[allow(clippy::too_many_arguments)]
fn add_file(
    s: &mut Model,
    conv: &mut Conversation,
    n: i64,
    from: &str,
    name: &str,
    size: u64,
    transfer: Option<(TransferState, u64)>,
    local: Option<&str>,
) {
    let line = Line {
        file: Some(FileItem {
            file_id: Some(n as u64),
            name: name.into(),
            size,
        }),
        ..line(n, from, 5, name, Delivery::Sent)
    };
    if let Some((state, bytes)) = transfer {
        let id = if from == s.account {
            TransferId::Upload(line.client_id.clone())
        } else {
            TransferId::Download(n as u64)
        };
        s.transfers.insert(
            id.clone(),
            Transfer {
                id,
                conv: Conv::User(String::new()),
                file_id: Some(n as u64),
                name: name.into(),
                size,
                sha256: String::new(),
                path: PathBuf::from(local.unwrap_or("/tmp/partial")),
                bytes,
                state,
            },
        );
    }
    conv.upsert(line);
}

/// A made-up photo for the thumbnails: sky, sun and two mountains, drawn pixel by pixel.
fn demo_photo(w: u32, h: u32) -> image::RgbaImage {
    image::RgbaImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f32 / w as f32, y as f32 / h as f32);
        let ridge1 = 0.45 + (fx - 0.3).abs() * 0.9;
        let ridge2 = 0.6 + (fx - 0.75).abs() * 0.7;
        let sun = ((fx - 0.78).powi(2) + (fy - 0.22).powi(2)).sqrt() < 0.07;
        let [r, g, b] = if fy > ridge2 {
            [46, 110, 64]
        } else if fy > ridge1 {
            [88, 120, 150]
        } else if sun {
            [255, 214, 102]
        } else {
            let t = fy / 0.6;
            [
                (90.0 + 100.0 * t) as u8,
                (160.0 + 60.0 * t) as u8,
                (235.0 + 15.0 * t).min(255.0) as u8,
            ]
        };
        image::Rgba([r, g, b, 255])
    })
}

/// Two conversations full of files: one with transfers under way, one with finished ones.
fn add_files(s: &mut Model, thumbs: &mut Thumbs, lang: Lang) {
    let zh = lang == Lang::Zh;
    let mut moving = Conversation {
        paging: Paging::Complete,
        ..Conversation::default()
    };
    let mb = 1024 * 1024;
    let report = if zh {
        "第三季度报告.pdf"
    } else {
        "Q3 report.pdf"
    };
    add_file(s, &mut moving, 26, "chen", report, 1_258_291, None, None);
    add_file(
        s,
        &mut moving,
        22,
        "xiaoming",
        "hiking-photos-2024.zip",
        48 * mb,
        Some((TransferState::Uploading, 20 * mb)),
        Some("/home/xiaoming/hiking-photos-2024.zip"),
    );
    let budget = if zh { "预算表.xlsx" } else { "budget.xlsx" };
    add_file(
        s,
        &mut moving,
        23,
        "chen",
        budget,
        3 * mb,
        Some((TransferState::Downloading, 2 * mb)),
        None,
    );
    add_file(
        s,
        &mut moving,
        24,
        "xiaoming",
        "notes.txt",
        52_000,
        Some((TransferState::Paused, 36_000)),
        Some("/home/xiaoming/notes.txt"),
    );
    let reason = if zh {
        "连接断开"
    } else {
        "connection lost"
    };
    add_file(
        s,
        &mut moving,
        25,
        "chen",
        "setup-tools.tar.gz",
        700 * mb,
        Some((
            TransferState::Failed {
                reason: reason.into(),
            },
            0,
        )),
        None,
    );
    s.conversations.insert(Conv::User("chen".into()), moving);

    let mut done = Conversation {
        paging: Paging::Complete,
        ..Conversation::default()
    };
    let theirs_photo = "/home/xiaoming/Downloads/summit.jpg";
    let my_photo = "/home/xiaoming/Pictures/sunrise.png";
    thumbs.insert(
        theirs_photo.into(),
        iced::widget::image::Handle::from_rgba(360, 240, demo_photo(360, 240).into_raw()),
    );
    thumbs.insert(
        my_photo.into(),
        iced::widget::image::Handle::from_rgba(240, 320, demo_photo(240, 320).into_raw()),
    );
    add_file(
        s,
        &mut done,
        37,
        "alice",
        "summit.jpg",
        2_400_000,
        Some((TransferState::Done, 2_400_000)),
        Some(theirs_photo),
    );
    add_file(
        s,
        &mut done,
        38,
        "xiaoming",
        "sunrise.png",
        860_000,
        Some((TransferState::RecipientDownloaded, 860_000)),
        Some(my_photo),
    );
    let route = if zh { "路线图.pptx" } else { "route.pptx" };
    add_file(
        s,
        &mut done,
        33,
        "xiaoming",
        route,
        5 * mb,
        Some((TransferState::Done, 5 * mb)),
        Some("/home/xiaoming/route.pptx"),
    );
    add_file(
        s,
        &mut done,
        34,
        "xiaoming",
        "trailer.mp4",
        230 * mb,
        Some((TransferState::Rejected, 230 * mb)),
        Some("/home/xiaoming/trailer.mp4"),
    );
    add_file(
        s,
        &mut done,
        35,
        "alice",
        "draft.docx",
        18_000,
        Some((TransferState::Cancelled, 0)),
        None,
    );
    add_file(
        s,
        &mut done,
        36,
        "alice",
        "map.kmz",
        400_000,
        Some((TransferState::Expired, 0)),
        None,
    );
    s.conversations.insert(Conv::User("alice".into()), done);

    // Pictures as messages: one downloaded by itself and shown inline, one over the size that
    // downloads by itself (its card waits for Download), and a screenshot I pasted.
    let mut pictures = Conversation {
        paging: Paging::Complete,
        ..Conversation::default()
    };
    let fetched = "/home/xiaoming/.local/share/ququ/pictures/xiaoming/lake.jpg";
    let pasted = if zh {
        "截图 2026-12-06 153012.png"
    } else {
        "Screenshot 2026-12-06 153012.png"
    };
    let pasted_path = format!("/home/xiaoming/.local/share/ququ/pictures/xiaoming/{pasted}");
    thumbs.insert(
        fetched.into(),
        iced::widget::image::Handle::from_rgba(360, 240, demo_photo(360, 240).into_raw()),
    );
    thumbs.insert(
        PathBuf::from(&pasted_path),
        iced::widget::image::Handle::from_rgba(360, 200, demo_screen(360, 200).into_raw()),
    );
    add_file(
        s,
        &mut pictures,
        41,
        "zhangwei",
        "lake.jpg",
        3_100_000,
        Some((TransferState::Done, 3_100_000)),
        Some(fetched),
    );
    add_file(
        s,
        &mut pictures,
        42,
        "zhangwei",
        "panorama-raw.png",
        38 * mb,
        None,
        None,
    );
    add_file(
        s,
        &mut pictures,
        43,
        "xiaoming",
        pasted,
        180_000,
        Some((TransferState::Done, 180_000)),
        Some(&pasted_path),
    );
    s.conversations
        .insert(Conv::User("zhangwei".into()), pictures);
}

/// A made-up screenshot: a window with a title bar and lines of text, drawn pixel by pixel.
fn demo_screen(w: u32, h: u32) -> image::RgbaImage {
    image::RgbaImage::from_fn(w, h, |x, y| {
        // Lines of text of lengths that differ from line to line, as in a document.
        let row = y.saturating_sub(40) / 22;
        let line = y > 40 && (y - 40) % 22 < 8 && x > 24 && x < w - 24 - (row * 37 % 110);
        let [r, g, b] = if y < 26 {
            [18, 150, 219]
        } else if line {
            [170, 178, 189]
        } else {
            [246, 248, 250]
        };
        image::Rgba([r, g, b, 255])
    })
}

type Thumbs = std::collections::HashMap<PathBuf, iced::widget::image::Handle>;

fn demo_model(lang: Lang, thumbs: &mut Thumbs) -> Model {
    let zh = lang == Lang::Zh;
    let mut s = Model::new(
        "xiaoming".into(),
        if zh { "小明".into() } else { "Ming".into() },
    );
    s.friends = [
        friend("lihua", "李华", "", true),
        friend(
            "alice",
            "Alice",
            if zh {
                "爱丽丝（同事）"
            } else {
                "Alice (work)"
            },
            true,
        ),
        friend("zhangwei", "张伟", "", false),
        friend("bob", "Bob", "", false),
        friend("chen", "陈静", "", true),
    ]
    .into_iter()
    .collect();
    // Friend groups (好友分组): two friends at work, one in the family's group, folded shut.
    s.categories = vec![
        ququ_client::Category {
            id: 1,
            name: if zh { "同事".into() } else { "Work".into() },
        },
        ququ_client::Category {
            id: 2,
            name: if zh { "家人".into() } else { "Family".into() },
        },
    ];
    for (account, category) in [("alice", 1), ("chen", 1), ("zhangwei", 2)] {
        if let Some(f) = s.friends.get_mut(account) {
            f.category = category;
        }
    }
    s.collapsed.insert(2);
    s.groups.insert(
        10001,
        Group {
            id: 10001,
            name: if zh {
                "周末爬山群".into()
            } else {
                "Weekend hikers".into()
            },
            owner: "lihua".into(),
            members: 4,
        },
    );
    s.groups.insert(
        10002,
        Group {
            id: 10002,
            name: "Rust 中文社区".into(),
            owner: "chen".into(),
            members: 3,
        },
    );
    // A group of mine, for the owner's menu and the invitation list.
    s.groups.insert(
        3141592653,
        Group {
            id: 3141592653,
            name: if zh { "家人".into() } else { "Family".into() },
            owner: "xiaoming".into(),
            members: 2,
        },
    );
    s.members.insert(
        3141592653,
        vec![
            Member {
                group: 3141592653,
                account: "xiaoming".into(),
                nickname: s.nickname.clone(),
                role: Role::Owner,
                presence: Presence::Online,
                muted_until: 0,
                profile: Default::default(),
            },
            Member {
                group: 3141592653,
                account: "lihua".into(),
                nickname: "李华".into(),
                role: Role::Member,
                presence: Presence::Online,
                muted_until: 0,
                // What a fellow member sees of her profile, in her menu.
                profile: ququ_protocol::Profile {
                    gender: Some(ququ_protocol::Gender::Female),
                    region: if zh { "北京" } else { "Beijing" }.into(),
                    signature: if zh {
                        "山顶见！"
                    } else {
                        "See you at the top!"
                    }
                    .into(),
                },
            },
        ],
    );
    // A signature (个性签名) shows under the name in the friend list.
    if let Some(chen) = s.friends.get_mut("chen") {
        chen.profile.signature = if zh {
            "专注 Rust 十年，周末爬山".into()
        } else {
            "Ten years of Rust, hikes on weekends".into()
        };
    }
    // My signature shows under my name in the friend list's header.
    s.profile.signature = if zh {
        "今天也要加油"
    } else {
        "One step at a time"
    }
    .into();
    // What 李华 said of herself shows in her chat's header.
    if let Some(lihua) = s.friends.get_mut("lihua") {
        lihua.profile.gender = Some(ququ_protocol::Gender::Female);
        lihua.profile.region = if zh { "北京" } else { "Beijing" }.into();
    }
    s.group_policies
        .insert(3141592653, ququ_protocol::JoinPolicy::Approve);
    s.group_policies
        .insert(10001, ququ_protocol::JoinPolicy::Open);
    s.features.group_notice = true;
    s.features.group_mute = true;
    s.notices.insert(
        10001,
        Notice {
            by: "lihua".into(),
            time: now_millis() - 3 * 86_400_000,
            text: if zh {
                "本周六早上七点香山东门集合，记得带水和午饭！".into()
            } else {
                "Saturday 7 am at the east gate of Xiangshan. Bring water and lunch!".into()
            },
        },
    );
    s.notices.insert(
        3141592653,
        Notice {
            by: "xiaoming".into(),
            time: now_millis() - 86_400_000,
            text: if zh {
                "春节回家的车票已经买好：腊月二十八，G123 次，北京南 8:05 发车。".into()
            } else {
                "Train tickets home are booked: G123 from Beijing South, 8:05 on the 28th.".into()
            },
        },
    );
    s.join_requests.push(JoinRequest {
        group: 3141592653,
        account: "zhaolei".into(),
        nickname: if zh {
            "赵磊".into()
        } else {
            "Zhao Lei".into()
        },
        time: now_millis() - 20 * 60_000,
    });
    s.members.insert(
        10001,
        vec![
            Member {
                group: 10001,
                account: "lihua".into(),
                nickname: "李华".into(),
                role: Role::Owner,
                presence: Presence::Online,
                muted_until: 0,
                profile: Default::default(),
            },
            Member {
                group: 10001,
                account: "xiaoming".into(),
                nickname: s.nickname.clone(),
                role: Role::Member,
                presence: Presence::Online,
                muted_until: 0,
                profile: Default::default(),
            },
            Member {
                group: 10001,
                account: "zhangwei".into(),
                nickname: "张伟".into(),
                role: Role::Admin,
                presence: Presence::Offline,
                muted_until: 0,
                profile: Default::default(),
            },
            Member {
                group: 10001,
                account: "alice".into(),
                nickname: "Alice".into(),
                role: Role::Member,
                presence: Presence::Online,
                muted_until: 0,
                profile: Default::default(),
            },
        ],
    );
    s.requests.push(FriendRequest {
        from: "wangfang".into(),
        nickname: "王芳".into(),
        note: if zh {
            "我是王芳，一起打球的".into()
        } else {
            "Hi, it's Fang from badminton".into()
        },
        time: now_millis(),
    });
    s.sent.insert(
        "liuyang".into(),
        SentRequest {
            nickname: if zh { "刘洋".into() } else { "Yang".into() },
            state: Sent::Waiting,
        },
    );
    s.sent.insert(
        "zhaolei".into(),
        SentRequest {
            nickname: if zh { "赵磊".into() } else { "Lei".into() },
            state: Sent::Declined,
        },
    );
    let (a, b, c, d, e) = if zh {
        (
            "周六去香山吗？",
            "好啊！几点集合？",
            "早上八点，地铁站 A 口见 🙂",
            "收到，我带水和面包。\n顺便问下要不要带相机？",
            "带上吧，山顶风景很好",
        )
    } else {
        (
            "Hiking on Saturday?",
            "Sure! What time do we meet?",
            "8 am at exit A of the subway 🙂",
            "Got it, I'll bring water and bread.\nShould I bring the camera too?",
            "Yes, the view from the top is great",
        )
    };
    let mut talk = Conversation {
        paging: Paging::More,
        ..Conversation::default()
    };
    talk.upsert(line(1, "lihua", 50, a, Delivery::Sent));
    talk.upsert(line(2, "xiaoming", 48, b, Delivery::Sent));
    talk.upsert(line(3, "lihua", 45, c, Delivery::Sent));
    talk.upsert(line(4, "xiaoming", 3, d, Delivery::Sent));
    talk.upsert(line(5, "lihua", 2, e, Delivery::Sent));
    talk.upsert(Line {
        id: None,
        ..line(
            6,
            "xiaoming",
            1,
            if zh { "好的 👍" } else { "OK 👍" },
            Delivery::Failed,
        )
    });
    talk.upsert(Line {
        id: None,
        ..line(
            7,
            "xiaoming",
            0,
            if zh {
                "山顶见！"
            } else {
                "See you at the top!"
            },
            Delivery::Sending,
        )
    });
    s.conversations.insert(Conv::User("lihua".into()), talk);
    let mut group = Conversation {
        paging: Paging::Complete,
        ..Conversation::default()
    };
    group.upsert(line(
        11,
        "zhangwei",
        30,
        if zh {
            "这周天气怎么样？www.weather.com.cn/weather/101010100.shtml"
        } else {
            "How's the weather this week? https://www.metoffice.gov.uk/weather/forecast/beijing"
        },
        Delivery::Sent,
    ));
    group.upsert(line(
        12,
        "alice",
        20,
        if zh {
            "晴天，适合爬山 ☀"
        } else {
            "Sunny, perfect for hiking ☀"
        },
        Delivery::Sent,
    ));
    group.upsert(line(
        13,
        "xiaoming",
        10,
        if zh {
            "那就这么定了"
        } else {
            "Settled then"
        },
        Delivery::Sent,
    ));
    s.conversations.insert(Conv::Group(10001), group);
    // Issue 24: my family group — a reply with its quote, a recalled message, a reply whose quote was
    // recalled since, and a message that mentions me.
    s.features = ququ_protocol::Features::ALL;
    let texts = if zh {
        [
            "周日回家吃饭吗？妈妈做红烧肉",
            "回！大概中午到",
            "好，路上注意安全 🚗",
            "@小明 顺便带瓶酱油",
        ]
    } else {
        [
            "Coming home for dinner on Sunday? Mum is cooking",
            "Yes! I'll be there around noon",
            "Great, drive safely 🚗",
            "@Ming could you pick up some soy sauce?",
        ]
    };
    let mut family = Conversation {
        paging: Paging::Complete,
        ..Conversation::default()
    };
    family.upsert(line(21, "lihua", 40, texts[0], Delivery::Sent));
    family.upsert(Line {
        quote: Some(ququ_protocol::Quote {
            id: 21,
            from: "lihua".into(),
            text: texts[0].into(),
        }),
        ..line(22, "xiaoming", 35, texts[1], Delivery::Sent)
    });
    family.upsert(Line {
        text: String::new(),
        recalled: Some(ququ::model::Recall {
            by: "lihua".into(),
            whose: "lihua".into(),
        }),
        ..line(23, "lihua", 30, "", Delivery::Sent)
    });
    family.upsert(Line {
        quote: Some(ququ_protocol::Quote {
            id: 23,
            from: "lihua".into(),
            text: String::new(),
        }),
        ..line(24, "xiaoming", 29, "?", Delivery::Sent)
    });
    family.upsert(line(25, "lihua", 20, texts[2], Delivery::Sent));
    family.upsert(Line {
        mentions: ququ_protocol::Mentions {
            all: false,
            accounts: vec!["xiaoming".into()],
        },
        ..line(26, "lihua", 1, texts[3], Delivery::Sent)
    });
    s.conversations.insert(Conv::Group(3141592653), family);
    s.unread.insert(Conv::Group(3141592653), 1);
    add_files(&mut s, thumbs, lang);
    s.unread.insert(Conv::User("lihua".into()), 2);
    s.unread.insert(Conv::Group(10001), 5);
    // 李华's chat pinned to the top of Recent; the hiking group set to do not disturb (grey badge).
    s.set_pinned(&Conv::User("lihua".into()), true);
    s.set_muted(&Conv::Group(10001), true);
    // Avatars kept by the server: 李华 and the family group have pictures (one picture for both, by
    // digest, as the server would keep it); everyone else has the generated one.
    let sha = "0".repeat(64);
    s.pictures.insert(sha.clone(), demo_photo(128, 128));
    s.avatars.insert(Conv::User("lihua".into()), sha.clone());
    s.avatars.insert(Conv::Group(3141592653), sha);
    s
}

fn shoot(app: &App, window: iced::window::Id, size: Size, theme: &Theme, out: &Path) {
    let mut ui = Simulator::with_size(settings(), size, app.view(window));
    let snapshot = ui.snapshot(theme).expect("snapshot");
    let tmp = tempfile::tempdir().expect("temp dir");
    let stem = out.file_stem().and_then(|s| s.to_str()).expect("file name");
    snapshot
        .matches_image(tmp.path().join(format!("{stem}.png")))
        .expect("write png");
    let written = std::fs::read_dir(tmp.path())
        .expect("read dir")
        .next()
        .expect("a file")
        .expect("entry")
        .path();
    std::fs::copy(written, out).expect("copy screenshot");
}

#[test]
fn screenshots() {
    if std::env::var_os("QUQU_SCREENSHOTS").is_none() {
        return;
    }
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
    std::fs::create_dir_all(&out).expect("screenshot dir");
    let home = tempfile::tempdir().expect("temp dir");
    for lang in [Lang::En, Lang::Zh] {
        for (dark, theme_name) in [(false, "light"), (true, "dark")] {
            let theme = theme::resolve(
                if dark {
                    ThemePref::Dark
                } else {
                    ThemePref::Light
                },
                false,
            );
            let tag = format!(
                "{theme_name}-{}",
                if lang == Lang::Zh { "zh" } else { "en" }
            );
            let mut app = App::new(Dirs {
                config: home.path().into(),
                data: home.path().into(),
            });
            app.settings.lang = Some(lang);

            // Login: filled in, with the server's refusal in words.
            let _ = app.open_login();
            let login_id = app.login_window().expect("login window");
            if let Some(Window::Login(state)) = app.windows.get_mut(&login_id) {
                state.account = "xiaoming".into();
                state.password = "hunter22".into();
                state.status = login::Status::Error(lang.tr().wrong_password.into());
            }
            shoot(
                &app,
                login_id,
                Size::new(380.0, 640.0),
                &theme,
                &out.join(format!("login-{tag}.png")),
            );

            // Login, first run: nothing listening on this computer, so the app offers to host a server.
            if let Some(Window::Login(state)) = app.windows.get_mut(&login_id) {
                state.status = login::Status::Error(lang.tr().cannot_reach.into());
                state.offer_host = true;
            }
            shoot(
                &app,
                login_id,
                Size::new(380.0, 640.0),
                &theme,
                &out.join(format!("login-offer-{tag}.png")),
            );

            // Login at start with "log in automatically" ticked: no typing, and a Cancel.
            app.token_place = Some(ququ::credentials::Place::OsStore);
            if let Some(Window::Login(state)) = app.windows.get_mut(&login_id) {
                state.password.clear();
                state.offer_host = false;
                state.remember = true;
                state.status = login::Status::AutoLogin;
            }
            shoot(
                &app,
                login_id,
                Size::new(380.0, 640.0),
                &theme,
                &out.join(format!("login-auto-{tag}.png")),
            );

            // Main window, logged in.
            app.model = Some(demo_model(lang, &mut app.thumbs));
            app.sync_avatar_handles();
            app.conn = Connection::Online;
            let main_id = iced::window::Id::unique();
            app.windows.insert(
                main_id,
                Window::Contacts(contacts::State {
                    selected: Some(Conv::User("alice".into())),
                    ..contacts::State::default()
                }),
            );
            shoot(
                &app,
                main_id,
                Size::new(320.0, 680.0),
                &theme,
                &out.join(format!("main-{tag}.png")),
            );
            if let Some(Window::Contacts(state)) = app.windows.get_mut(&main_id) {
                state.tab = contacts::Tab::Recent;
            }
            shoot(
                &app,
                main_id,
                Size::new(320.0, 680.0),
                &theme,
                &out.join(format!("main-recent-{tag}.png")),
            );
            // Started offline (logging in automatically with the server down): the same list, from what
            // this device kept, no one shown online, counting down to the next attempt.
            app.now = std::time::Instant::now();
            app.conn = Connection::Reconnecting {
                at: app.now + std::time::Duration::from_millis(7500),
            };
            shoot(
                &app,
                main_id,
                Size::new(320.0, 680.0),
                &theme,
                &out.join(format!("main-offline-{tag}.png")),
            );
            app.conn = Connection::Online;
            if let Some(Window::Contacts(state)) = app.windows.get_mut(&main_id) {
                state.tab = contacts::Tab::Friends;
                state.dialog = Some(Dialog::Requests);
            }
            shoot(
                &app,
                main_id,
                Size::new(320.0, 680.0),
                &theme,
                &out.join(format!("main-requests-{tag}.png")),
            );

            if let Some(Window::Contacts(state)) = app.windows.get_mut(&main_id) {
                state.dialog = Some(Dialog::settings());
            }
            shoot(
                &app,
                main_id,
                Size::new(320.0, 680.0),
                &theme,
                &out.join(format!("main-settings-{tag}.png")),
            );
            // My profile (from my avatar or Settings), as I have filled it in.
            let zh = lang == Lang::Zh;
            if let Some(model) = app.model.as_mut() {
                model.profile = ququ_protocol::Profile {
                    gender: Some(ququ_protocol::Gender::Female),
                    region: if zh { "杭州" } else { "Hangzhou" }.to_owned(),
                    signature: if zh {
                        "今天也要加油"
                    } else {
                        "One step at a time"
                    }
                    .to_owned(),
                };
            }
            if let Some(Window::Contacts(state)) = app.windows.get_mut(&main_id) {
                state.dialog = app.model.as_ref().map(Dialog::profile);
            }
            shoot(
                &app,
                main_id,
                Size::new(320.0, 680.0),
                &theme,
                &out.join(format!("main-profile-{tag}.png")),
            );
            // The block list from Settings: someone who is not a friend, and a friend.
            if let Some(model) = app.model.as_mut() {
                for (account, nickname, days) in [("spam88", "低价代购", 1), ("alice", "Alice", 3)]
                {
                    model.blocked.insert(
                        account.to_owned(),
                        ququ_client::BlockedUser {
                            account: account.to_owned(),
                            nickname: nickname.to_owned(),
                            time: now_millis() - days * 86_400_000,
                        },
                    );
                }
            }
            if let Some(Window::Contacts(state)) = app.windows.get_mut(&main_id) {
                state.dialog = Some(Dialog::Blocked);
            }
            shoot(
                &app,
                main_id,
                Size::new(320.0, 680.0),
                &theme,
                &out.join(format!("main-blocked-{tag}.png")),
            );
            if let Some(model) = app.model.as_mut() {
                model.blocked.clear();
            }
            // A right-click's menu opens at the pointer, over Alice's row.
            if let Some(Window::Contacts(state)) = app.windows.get_mut(&main_id) {
                state.update(contacts::Message::Pointer(iced::Point::new(110.0, 300.0)));
                state.update(contacts::Message::Show(Dialog::friend_menu("alice")));
            }
            shoot(
                &app,
                main_id,
                Size::new(320.0, 680.0),
                &theme,
                &out.join(format!("main-friend-menu-{tag}.png")),
            );
            // Its Move to group…, and a friend group header's menu.
            for (dialog, name) in [
                (
                    Dialog::MoveFriend(dialog::move_friend::State {
                        account: "alice".into(),
                    }),
                    "main-move-friend",
                ),
                (
                    Dialog::category_menu(1, if lang == Lang::Zh { "同事" } else { "Work" }),
                    "main-category-menu",
                ),
            ] {
                if let Some(Window::Contacts(state)) = app.windows.get_mut(&main_id) {
                    state.update(contacts::Message::Show(dialog));
                }
                shoot(
                    &app,
                    main_id,
                    Size::new(320.0, 680.0),
                    &theme,
                    &out.join(format!("{name}-{tag}.png")),
                );
            }
            // My group's menu (the owner's switch), the invitation list, and a refused join in words.
            let shots = [
                (Dialog::group_menu(3141592653), "main-group-menu"),
                (
                    Dialog::Invite(dialog::invite::State {
                        invited: vec!["alice".into()],
                        ..dialog::invite::State::new(3141592653)
                    }),
                    "main-invite",
                ),
                (
                    Dialog::JoinGroup(dialog::join_group::State {
                        id: "2718281828".into(),
                        refused: Some(ququ_protocol::ErrorCode::InviteOnly),
                        ..dialog::join_group::State::default()
                    }),
                    "main-join-refused",
                ),
                // The first close of the friend list on a desktop with a tray.
                (Dialog::hide_to_tray(), "main-hide-to-tray"),
            ];
            for (dialog, name) in shots {
                if let Some(Window::Contacts(state)) = app.windows.get_mut(&main_id) {
                    state.tab = contacts::Tab::Groups;
                    state.update(contacts::Message::Pointer(iced::Point::new(90.0, 250.0)));
                    state.update(contacts::Message::Show(dialog));
                }
                shoot(
                    &app,
                    main_id,
                    Size::new(320.0, 680.0),
                    &theme,
                    &out.join(format!("{name}-{tag}.png")),
                );
            }
            // A refusal no dialog was waiting for, said on the list (issue 25).
            if let Some(Window::Contacts(state)) = app.windows.get_mut(&main_id) {
                state.dialog = None;
                state.refused = Some(ququ_protocol::ErrorCode::NotOwner);
            }
            shoot(
                &app,
                main_id,
                Size::new(320.0, 680.0),
                &theme,
                &out.join(format!("main-refused-{tag}.png")),
            );
            if let Some(Window::Contacts(state)) = app.windows.get_mut(&main_id) {
                state.refused = None;
            }

            // About: version and the folders in use, with a hosted server (paths as on a Linux desktop).
            let about_id = iced::window::Id::unique();
            let dirs = Dirs {
                config: "/home/xiaoming/.config/ququ".into(),
                data: "/home/xiaoming/.local/share/ququ".into(),
            };
            app.windows.insert(
                about_id,
                Window::About(about::State::new(
                    &dirs,
                    Some("/home/xiaoming/Downloads".into()),
                    true,
                )),
            );
            shoot(
                &app,
                about_id,
                Size::new(460.0, 600.0),
                &theme,
                &out.join(format!("about-{tag}.png")),
            );

            // A chat window, while reconnecting (messages wait in the outbox).
            let chat_id = iced::window::Id::unique();
            app.windows.insert(
                chat_id,
                Window::Chat(chat::State::new(Conv::User("lihua".into()))),
            );
            shoot(
                &app,
                chat_id,
                Size::new(640.0, 600.0),
                &theme,
                &out.join(format!("chat-{tag}.png")),
            );
            // Files: transfers under way, finished ones with thumbnails, and files dragged over a window.
            for (conv, name) in [("chen", "files"), ("alice", "files-done")] {
                let id = iced::window::Id::unique();
                app.windows
                    .insert(id, Window::Chat(chat::State::new(Conv::User(conv.into()))));
                shoot(
                    &app,
                    id,
                    Size::new(640.0, 720.0),
                    &theme,
                    &out.join(format!("{name}-{tag}.png")),
                );
            }
            // Pictures inline, and one of them in the viewer, fitted to the window.
            let pictures_id = iced::window::Id::unique();
            app.windows.insert(
                pictures_id,
                Window::Chat(chat::State::new(Conv::User("zhangwei".into()))),
            );
            shoot(
                &app,
                pictures_id,
                Size::new(640.0, 1000.0),
                &theme,
                &out.join(format!("pictures-{tag}.png")),
            );
            let viewer_id = iced::window::Id::unique();
            let size = Size::new(832.0, 648.0);
            let mut state = viewer::State::new("lake.jpg".into(), "lake.jpg".into(), size);
            state.update(viewer::Message::Loaded(Ok(ququ::files::Picture {
                image: demo_photo(1600, 1000),
                animated: false,
            })));
            app.windows.insert(viewer_id, Window::Viewer(state));
            shoot(
                &app,
                viewer_id,
                size,
                &theme,
                &out.join(format!("viewer-{tag}.png")),
            );

            // The emoji picker, open on its first category (nothing used yet) and on the recent ones.
            for (recent, name) in [(false, "chat-emoji"), (true, "chat-emoji-recent")] {
                app.settings.recent_emoji = if recent {
                    ["😂", "👍", "🍜", "🎉", "❤", "🙏"]
                        .map(String::from)
                        .to_vec()
                } else {
                    Vec::new()
                };
                if let Some(Window::Chat(state)) = app.windows.get_mut(&chat_id) {
                    state.emoji = Some(chat::emoji::State::new(recent));
                }
                shoot(
                    &app,
                    chat_id,
                    Size::new(640.0, 600.0),
                    &theme,
                    &out.join(format!("{name}-{tag}.png")),
                );
            }
            // A bubble's right-click menu, opened over Li Hua's last message.
            if let Some(Window::Chat(state)) = app.windows.get_mut(&chat_id) {
                state.emoji = None;
                let env = chat::Env {
                    max_text: 8000,
                    file_dialogs: true,
                    recent_emoji: false,
                };
                let _ = state.update(chat::Message::Pointer(iced::Point::new(150.0, 190.0)), env);
                let _ = state.update(chat::Message::BubbleMenu("c5".into()), env);
            }
            shoot(
                &app,
                chat_id,
                Size::new(640.0, 600.0),
                &theme,
                &out.join(format!("chat-menu-{tag}.png")),
            );
            // Forward: where to send Li Hua's message on to.
            if let Some(Window::Chat(state)) = app.windows.get_mut(&chat_id) {
                state.menu = None;
                state.forward = Some((
                    chat::forward::State::new("c5".into()),
                    chat::Forwarded::Text(String::new()),
                ));
            }
            shoot(
                &app,
                chat_id,
                Size::new(640.0, 600.0),
                &theme,
                &out.join(format!("chat-forward-{tag}.png")),
            );
            if let Some(Window::Chat(state)) = app.windows.get_mut(&chat_id) {
                state.forward = None;
            }
            app.settings.recent_emoji.clear();
            if let Some(Window::Chat(state)) = app.windows.get_mut(&chat_id) {
                state.emoji = None;
                state.dragging = true;
            }
            shoot(
                &app,
                chat_id,
                Size::new(640.0, 600.0),
                &theme,
                &out.join(format!("chat-drop-{tag}.png")),
            );
            if let Some(Window::Chat(state)) = app.windows.get_mut(&chat_id) {
                state.dragging = false;
            }
            app.conn = Connection::reconnecting_in(std::time::Duration::from_secs(8));
            app.now = std::time::Instant::now();
            let group_id = iced::window::Id::unique();
            app.windows
                .insert(group_id, Window::Chat(chat::State::new(Conv::Group(10001))));
            shoot(
                &app,
                group_id,
                Size::new(720.0, 600.0),
                &theme,
                &out.join(format!("group-{tag}.png")),
            );

            // Issue 24: replies, a recall and a mention in my family group, answering a message (the
            // reply bar), then the @ list as "@" is typed.
            app.conn = Connection::Online;
            let family_id = iced::window::Id::unique();
            let mut family = chat::State::new(Conv::Group(3141592653));
            family.replying = Some(25);
            app.windows.insert(family_id, Window::Chat(family));
            shoot(
                &app,
                family_id,
                Size::new(720.0, 640.0),
                &theme,
                &out.join(format!("chat-reply-{tag}.png")),
            );
            if let Some(Window::Chat(state)) = app.windows.get_mut(&family_id) {
                state.replying = None;
                let env = chat::Env {
                    max_text: 8000,
                    file_dialogs: true,
                    recent_emoji: false,
                };
                let _ = state.update(
                    chat::Message::Edit(iced::widget::text_editor::Action::Edit(
                        iced::widget::text_editor::Edit::Paste(std::sync::Arc::new("@".into())),
                    )),
                    env,
                );
            }
            shoot(
                &app,
                family_id,
                Size::new(720.0, 640.0),
                &theme,
                &out.join(format!("chat-mention-{tag}.png")),
            );

            // Issue 25: a chat that jumped back to an old message (a search result, a quote): the
            // window around it, with the way back to the newest.
            let lihua = Conv::User("lihua".into());
            let kept = app
                .model
                .as_ref()
                .and_then(|m| m.conversations.get(&lihua))
                .cloned();
            if let Some(conversation) = app
                .model
                .as_mut()
                .and_then(|m| m.conversations.get_mut(&lihua))
            {
                let keep = conversation.lines.len().saturating_sub(2);
                conversation.beyond = conversation.lines.split_off(keep);
                conversation.newer = ququ::model::Newer::More;
            }
            let jumped_id = iced::window::Id::unique();
            app.windows
                .insert(jumped_id, Window::Chat(chat::State::new(lihua.clone())));
            shoot(
                &app,
                jumped_id,
                Size::new(640.0, 600.0),
                &theme,
                &out.join(format!("chat-jumped-{tag}.png")),
            );
            app.windows.remove(&jumped_id);
            if let (Some(model), Some(kept)) = (app.model.as_mut(), kept) {
                model.conversations.insert(lihua, kept);
            }

            // Issue 25: the history window searching Li Hua's chat for a word, and all chats.
            for (home, name) in [
                (Some(Conv::User("lihua".into())), "history"),
                (None, "history-all"),
            ] {
                let history_id = iced::window::Id::unique();
                let (mut state, _) = history::State::new(home.clone());
                let word = if lang == Lang::Zh {
                    "周末"
                } else {
                    "weekend"
                };
                let Some(history::Event::Find { asked, .. }) =
                    state.update(history::Message::Query(word.into()))
                else {
                    panic!("a search");
                };
                state.update(history::Message::Found(
                    asked,
                    Ok(found(lang, home.is_none())),
                ));
                app.windows.insert(history_id, Window::History(state));
                shoot(
                    &app,
                    history_id,
                    Size::new(620.0, 640.0),
                    &theme,
                    &out.join(format!("{name}-{tag}.png")),
                );
            }

            // Issue 25: my family group's settings (I own it: a request to join waits), then a plain
            // member's view of the hikers' group; a member's right-click menu; my input while muted.
            for (gid, name) in [
                (3141592653, "group-settings"),
                (10001, "group-settings-member"),
            ] {
                let settings_id = iced::window::Id::unique();
                let (state, _) = group::State::new(gid, app.model.as_ref().expect("model"));
                app.windows.insert(settings_id, Window::Group(state));
                shoot(
                    &app,
                    settings_id,
                    Size::new(480.0, 640.0),
                    &theme,
                    &out.join(format!("{name}-{tag}.png")),
                );
            }
            if let Some(Window::Chat(state)) = app.windows.get_mut(&family_id) {
                state.input = iced::widget::text_editor::Content::new();
                // Over the member list (the right 170 px of 720), on Li Hua's row.
                state.member_menu = Some(("lihua".into(), iced::Point::new(600.0, 165.0)));
            }
            shoot(
                &app,
                family_id,
                Size::new(720.0, 640.0),
                &theme,
                &out.join(format!("group-member-menu-{tag}.png")),
            );
            if let Some(model) = app.model.as_mut()
                && let Some(me) = model
                    .members
                    .get_mut(&10001)
                    .and_then(|ms| ms.iter_mut().find(|m| m.account == "xiaoming"))
            {
                me.muted_until = now_millis() + 2 * 3_600_000;
            }
            shoot(
                &app,
                group_id,
                Size::new(720.0, 600.0),
                &theme,
                &out.join(format!("group-muted-{tag}.png")),
            );
        }
    }
}

/// What the history window's screenshots find: messages with "weekend" (周末) in Li Hua's chat, and in
/// a group too when searching all chats; newest first.
fn found(lang: Lang, all: bool) -> Vec<ququ_client::Message> {
    let zh = lang == Lang::Zh;
    let now = ququ::model::now_millis();
    let day = 86_400_000;
    let mut said: Vec<(Conv, &str, u64, &str)> = vec![
        (
            Conv::User("lihua".into()),
            "lihua",
            now - 3_600_000,
            if zh {
                "这个周末去爬山吗？天气预报说周六是晴天"
            } else {
                "Hiking this weekend? The forecast says Saturday is sunny"
            },
        ),
        (
            Conv::User("lihua".into()),
            "xiaoming",
            now - 2 * day,
            if zh {
                "周末我要加班，下周再约吧"
            } else {
                "I'm working this weekend, next week maybe"
            },
        ),
        (
            Conv::User("lihua".into()),
            "lihua",
            now - 9 * day,
            if zh {
                "上个周末拍的照片我整理好了，发你邮箱了，记得查收一下，有几张特别好看，尤其是湖边那几张日落"
            } else {
                "I sorted the photos from last weekend and emailed them to you; check your inbox, a few are really good, especially the sunset ones by the lake"
            },
        ),
    ];
    if all {
        said.insert(
            1,
            (
                Conv::Group(10001),
                "lihua",
                now - day,
                if zh {
                    "周末的团建改到周日了，大家看一下群公告"
                } else {
                    "The team outing moved to Sunday this weekend, see the notice"
                },
            ),
        );
    }
    said.into_iter()
        .enumerate()
        .map(|(n, (conv, from, time, text))| ququ_client::Message {
            local_id: n as i64 + 1,
            conv,
            server_id: Some(900 + n as u64),
            client_id: format!("h{n}"),
            from: from.into(),
            time,
            text: text.into(),
            file: None,
            state: ququ_client::MessageState::Received,
            error: None,
            quote: None,
            mentions: Default::default(),
            recalled_by: None,
            recall_of: None,
            group_event: None,
        })
        .collect()
}
