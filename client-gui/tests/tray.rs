//! The tray icon over a real D-Bus session bus: a private `dbus-daemon`, a small StatusNotifierWatcher
//! on it (the part of KDE's or GNOME's AppIndicator extension that items register with), and a host's
//! side reading the item and its menu and clicking them, as a panel does.
//!
//! The item finds the bus through `DBUS_SESSION_BUS_ADDRESS`, as on a desktop; so the checks run in a
//! child process of this test started with that variable pointing at the private bus.
//! Needs `dbus-daemon` (Debian: `dbus-daemon`, installed by `.ci/run`).
#![cfg(target_os = "linux")]

mod common;

use std::collections::HashMap;
use std::time::Duration;

use iced::futures::StreamExt;
use iced::futures::channel::mpsc;
use ququ::i18n::Lang;
use ququ::tray::{self, Event, Shown};
use zbus::zvariant::{OwnedValue, Value};

const CHILD: &str = "QUQU_TRAY_CHILD";

#[test]
fn the_tray_icon_registers_shows_unread_and_answers_its_menu() {
    common::run_on_private_bus("tray_child", CHILD);
}

/// One entry of the item's menu, as a panel reads it.
#[derive(Debug)]
struct Entry {
    id: i32,
    label: String,
    enabled: bool,
    radio_on: Option<bool>,
}

type Node = (i32, HashMap<String, OwnedValue>, Vec<OwnedValue>);
/// An icon as the item sends it: width, height, ARGB bytes.
type Pixmap = (i32, i32, Vec<u8>);

fn entries(children: &[OwnedValue], into: &mut Vec<Entry>) {
    for child in children {
        let Ok(Value::Structure(s)) = child.try_clone().map(Value::from) else {
            panic!("a menu entry is a structure: {child:?}");
        };
        let node: Node = Value::Structure(s).try_into().expect("(ia{sv}av)");
        let (id, props, grandchildren) = node;
        let text = |key: &str| {
            props
                .get(key)
                .and_then(|v| String::try_from(v.try_clone().ok()?).ok())
        };
        let toggle = |key: &str| props.get(key).and_then(|v| i32::try_from(v).ok());
        into.push(Entry {
            id,
            label: text("label").unwrap_or_default(),
            enabled: props
                .get("enabled")
                .and_then(|v| bool::try_from(v).ok())
                .unwrap_or(true),
            radio_on: (text("toggle-type").as_deref() == Some("radio"))
                .then(|| toggle("toggle-state") == Some(1)),
        });
        entries(&grandchildren, into);
    }
}

/// The menu's entries, as a panel reads them to show the menu.
async fn layout(menu: &zbus::Proxy<'_>) -> Vec<Entry> {
    let (_revision, root): (u32, Node) = menu
        .call("GetLayout", &(0i32, -1i32, Vec::<String>::new()))
        .await
        .expect("GetLayout");
    let mut list = Vec::new();
    entries(&root.2, &mut list);
    list
}

/// Only ever runs as the child of the test above, on its private bus.
#[test]
fn tray_child() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let (tx, mut clicks) = mpsc::channel(16);

        // A desktop with no watcher (GNOME without the extension): no icon, said in words.
        let problem = tray::spawn(Shown::default(), tx.clone())
            .await
            .expect_err("nothing shows tray icons yet");
        assert_eq!(problem, tray::Problem::NoHost);
        assert!(problem.words(Lang::Zh).contains("关闭好友列表将退出"));

        let (_desktop, items) = common::watcher().await;

        let handle = tray::spawn(Shown::default(), tx.clone())
            .await
            .expect("the icon registers");
        let name = items
            .lock()
            .expect("items")
            .first()
            .cloned()
            .expect("registered");
        assert!(name.starts_with("org.kde.StatusNotifierItem-"), "{name}");

        let host = zbus::Connection::session()
            .await
            .expect("the panel's connection");
        // Read afresh each time, as a panel does on the item's NewStatus/NewIcon signals (a cached
        // proxy only follows PropertiesChanged, which items do not send).
        let item: zbus::Proxy = zbus::proxy::Builder::new(&host)
            .destination(name.clone())
            .and_then(|b| b.path("/StatusNotifierItem"))
            .and_then(|b| b.interface("org.kde.StatusNotifierItem"))
            .expect("item address")
            .cache_properties(zbus::proxy::CacheProperties::No)
            .build()
            .await
            .expect("item proxy");
        let text = async |property: &str| -> String {
            item.get_property::<String>(property).await.expect(property)
        };
        let pixels = async |property: &str| -> Vec<Pixmap> {
            item.get_property(property).await.expect(property)
        };
        // Before logging in: plain icon, grey (offline), nothing waiting.
        assert_eq!(text("Status").await, "Active");
        assert_eq!(text("Title").await, "Ququ");
        let grey = pixels("IconPixmap").await;
        assert_eq!(
            grey.iter().map(|p| (p.0, p.1)).collect::<Vec<_>>(),
            [(32, 32), (64, 64)]
        );

        // Logged in, online, three unread, in Chinese: it asks for attention with the red-dot icon and
        // says how many in its tooltip.
        let shown = Shown {
            lang: Lang::Zh,
            account: Some("alice".into()),
            online: true,
            unread: 3,
            requests: 0,
            group_requests: false,
            dnd: false,
        };
        assert!(handle.show(shown.clone()).await, "the icon is up");
        assert_eq!(text("Status").await, "NeedsAttention");
        assert_eq!(text("Title").await, "Ququ - alice");
        // (Compared with `==`, not `assert_eq!`: a failure would print every pixel.)
        let dotted = pixels("IconPixmap").await;
        assert!(
            dotted == pixels("AttentionIconPixmap").await,
            "the dot, either way"
        );
        assert!(dotted != grey, "the unread look differs");
        // The red dot, top right of the 32 px icon (ARGB).
        let (w, _, data) = &dotted[0];
        let at = ((4 * w + (w - 5)) * 4) as usize;
        assert!(
            data[at] > 200 && data[at + 1] > 200 && data[at + 2] < 120,
            "{:?}",
            &data[at..at + 4]
        );
        let (_, _, tip_title, tip_text): (String, Vec<Pixmap>, String, String) =
            item.get_property("ToolTip").await.expect("ToolTip");
        assert_eq!(
            (tip_title.as_str(), tip_text.as_str()),
            ("Ququ - alice", "3 条未读消息")
        );

        // Read: back to the plain icon, in colour now that it is online.
        assert!(
            handle
                .show(Shown {
                    unread: 0,
                    ..shown.clone()
                })
                .await
        );
        assert_eq!(text("Status").await, "Active");
        let colour = pixels("IconPixmap").await;
        assert!(
            colour != grey && colour != dotted,
            "online in colour, no dot"
        );
        // A friend request waiting, nothing unread: the dot again, and the tooltip says what waits.
        assert!(
            handle
                .show(Shown {
                    unread: 0,
                    requests: 1,
                    ..shown.clone()
                })
                .await
        );
        assert_eq!(text("Status").await, "NeedsAttention");
        assert!(pixels("IconPixmap").await == dotted, "the red dot");
        let (_, _, _, tip_text): (String, Vec<Pixmap>, String, String) =
            item.get_property("ToolTip").await.expect("ToolTip");
        assert_eq!(tip_text, "好友申请（1）");
        assert!(
            handle
                .show(Shown {
                    unread: 0,
                    ..shown.clone()
                })
                .await
        );
        assert_eq!(text("Status").await, "Active");

        // A left click on the icon.
        let _: () = item
            .call("Activate", &(10i32, 10i32))
            .await
            .expect("Activate");
        let next = async |clicks: &mut mpsc::Receiver<Event>| {
            tokio::time::timeout(Duration::from_secs(5), clicks.next())
                .await
                .expect("a click reaches the app")
                .expect("the channel is open")
        };
        assert!(matches!(next(&mut clicks).await, Event::Activate));

        // The menu, as the panel shows it on a right click.
        let menu = zbus::Proxy::new_owned(
            host.clone(),
            name.clone(),
            "/MenuBar",
            "com.canonical.dbusmenu",
        )
        .await
        .expect("menu proxy");
        let list = layout(&menu).await;
        let labels: Vec<&str> = list
            .iter()
            .map(|e| e.label.as_str())
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(
            labels,
            [
                "打开 Ququ",
                "在线",
                "请勿打扰",
                "隐身（此服务器不支持）",
                "退出 Ququ"
            ]
        );
        let entry = |label: &str| list.iter().find(|e| e.label == label).expect(label);
        assert_eq!(entry("在线").radio_on, Some(true));
        assert_eq!(entry("请勿打扰").radio_on, Some(false));
        assert!(
            !entry("隐身（此服务器不支持）").enabled,
            "invisible is greyed out"
        );

        let click = async |id: i32| {
            let data = OwnedValue::from(0i32);
            let _: () = menu
                .call("Event", &(id, "clicked", data, 0u32))
                .await
                .expect("Event");
        };
        click(entry("请勿打扰").id).await;
        assert!(matches!(next(&mut clicks).await, Event::DoNotDisturb(true)));
        click(entry("打开 Ququ").id).await;
        assert!(matches!(next(&mut clicks).await, Event::Open));
        click(entry("退出 Ququ").id).await;
        assert!(matches!(next(&mut clicks).await, Event::Quit));

        // Do not disturb chosen (the app pushes it back): the menu shows it chosen.
        assert!(handle.show(Shown { dnd: true, ..shown }).await);
        let list = layout(&menu).await;
        let dnd = list
            .iter()
            .find(|e| e.label == "请勿打扰")
            .expect("dnd entry");
        assert_eq!(dnd.radio_on, Some(true));
    });
}
