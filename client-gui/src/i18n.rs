//! Chinese and English UI strings.
//!
//! Every visible string is a field of [`Tr`], so a missing translation is a compile error rather than a
//! raw key on screen. Strings with numbers or names in them are methods on [`Lang`], because word order
//! differs between the two languages.
//!
//! Longer than the ~600 lines other files keep to, on purpose: it is one table, each string's two
//! languages side by side, and splitting it by window would scatter the words a translator checks together.

use serde::{Deserialize, Serialize};

/// The UI language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Lang {
    #[default]
    En,
    Zh,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Zh, Lang::En];

    /// The language of the system locale: Chinese for any `zh*` locale, English otherwise.
    pub fn system() -> Lang {
        Self::from_locale(sys_locale::get_locale().as_deref().unwrap_or("en"))
    }

    /// `zh`, `zh-CN`, `zh_TW.UTF-8`, … are Chinese; everything else is English.
    pub fn from_locale(locale: &str) -> Lang {
        if locale.to_ascii_lowercase().starts_with("zh") {
            Lang::Zh
        } else {
            Lang::En
        }
    }

    pub fn tr(self) -> &'static Tr {
        match self {
            Lang::En => &EN,
            Lang::Zh => &ZH,
        }
    }

    /// The language's own name, so a user who cannot read the current UI still finds theirs.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Zh => "中文",
        }
    }

    pub fn reconnecting_in(self, seconds: u64) -> String {
        match self {
            Lang::En => format!("Reconnecting in {seconds} s"),
            Lang::Zh => format!("{seconds} 秒后重新连接"),
        }
    }

    pub fn delete_friend_confirm(self, name: &str) -> String {
        match self {
            Lang::En => {
                format!("Delete {name} from your friends? This removes you from their list too.")
            }
            Lang::Zh => format!("确定删除好友“{name}”吗？你也会从对方的好友列表中移除。"),
        }
    }

    /// Before quitting an app whose server others are using.
    pub fn quit_confirm(self, others: usize) -> String {
        match self {
            Lang::En if others == 1 => {
                "One other person is using the server this app hosts. Quitting \
                 stops it and disconnects them."
                    .to_owned()
            }
            Lang::En => format!(
                "{others} other people are using the server this app hosts. Quitting stops it and \
                 disconnects them."
            ),
            Lang::Zh => format!(
                "还有 {others} 人正在使用本机运行的服务器。退出将停止服务器并断开他们的连接。"
            ),
        }
    }

    pub fn leave_group_confirm(self, name: &str) -> String {
        match self {
            Lang::En => format!("Leave the group {name}?"),
            Lang::Zh => format!("确定退出群聊“{name}”吗？"),
        }
    }

    pub fn dissolve_group_confirm(self, name: &str) -> String {
        match self {
            Lang::En => format!(
                "Dissolve the group {name}? Every member leaves it, and it cannot be undone."
            ),
            Lang::Zh => format!("确定解散群聊“{name}”吗？所有成员都将离开该群，且无法恢复。"),
        }
    }

    /// The member count while disconnected, when who is online is not known.
    pub fn members_total(self, total: usize) -> String {
        match self {
            Lang::En => format!("Members ({total})"),
            Lang::Zh => format!("群成员（{total}）"),
        }
    }

    pub fn members(self, online: usize, total: usize) -> String {
        match self {
            Lang::En => format!("Members ({online}/{total} online)"),
            Lang::Zh => format!("群成员（{online}/{total} 在线）"),
        }
    }

    /// Why the server would not let me into a group (join or invite), in words: a full group is said so,
    /// the rest as every refusal is ([`Lang::refusal`]).
    pub fn group_refusal(self, code: &ququ_protocol::ErrorCode) -> String {
        match code {
            ququ_protocol::ErrorCode::TooMany => self.tr().group_full.to_owned(),
            other => error_words(self, other, other.as_str()),
        }
    }

    /// In place of a recalled message: who took it back, and whose it was when a group's owner did.
    pub fn recalled(self, by_me: bool, by: &str, whose: Option<&str>) -> String {
        match (self, by_me, whose) {
            (Lang::En, true, None) => "You recalled a message".into(),
            (Lang::En, true, Some(whose)) => format!("You recalled a message from {whose}"),
            (Lang::En, false, None) => format!("{by} recalled a message"),
            (Lang::En, false, Some(whose)) => format!("{by} recalled a message from {whose}"),
            (Lang::Zh, true, None) => "你撤回了一条消息".into(),
            (Lang::Zh, true, Some(whose)) => format!("你撤回了 {whose} 的一条消息"),
            (Lang::Zh, false, None) => format!("{by} 撤回了一条消息"),
            (Lang::Zh, false, Some(whose)) => format!("{by} 撤回了 {whose} 的一条消息"),
        }
    }

    /// Why the server did not take my new avatar: too large (`max` bytes at most) or not a picture it
    /// takes; anything else as every refusal is.
    pub fn avatar_refusal(self, code: &ququ_protocol::ErrorCode, max: usize) -> String {
        let kb = max.div_ceil(1024);
        match (code, self) {
            (ququ_protocol::ErrorCode::TooLarge, Lang::En) => {
                format!("The server takes avatars of at most {kb} KB; this picture is larger.")
            }
            (ququ_protocol::ErrorCode::TooLarge, Lang::Zh) => {
                format!("服务器只接受 {kb} KB 以内的头像，这张图片太大了。")
            }
            (ququ_protocol::ErrorCode::BadRequest, Lang::En) => {
                "The server takes only PNG and JPEG pictures as avatars.".to_owned()
            }
            (ququ_protocol::ErrorCode::BadRequest, Lang::Zh) => {
                "服务器只接受 PNG 或 JPEG 图片作为头像。".to_owned()
            }
            (other, _) => error_words(self, other, other.as_str()),
        }
    }

    /// Above the input while answering a message.
    pub fn replying_to(self, name: &str) -> String {
        match self {
            Lang::En => format!("Replying to {name}"),
            Lang::Zh => format!("回复 {name}"),
        }
    }

    /// Why Recall is greyed, or was refused: sent longer ago than the server allows.
    pub fn recall_too_late(self, secs: u32) -> String {
        let (n, en, zh) = if secs >= 60 && secs.is_multiple_of(60) {
            (secs / 60, "minutes", "分钟")
        } else {
            (secs, "seconds", "秒")
        };
        match self {
            Lang::En => format!("Sent over {n} {en} ago"),
            Lang::Zh => format!("已超过 {n} {zh}"),
        }
    }

    pub fn group_id(self, id: u64) -> String {
        match self {
            Lang::En => format!("Group no. {id}"),
            Lang::Zh => format!("群号 {id}"),
        }
    }

    /// The friend count while disconnected, when who is online is not known.
    /// A friend request's notification title.
    pub fn friend_request_from(self, name: &str) -> String {
        match self {
            Lang::En => format!("Friend request from {name}"),
            Lang::Zh => format!("{name} 的好友申请"),
        }
    }

    pub fn friends_total(self, total: usize) -> String {
        match self {
            Lang::En => format!("My friends {total}"),
            Lang::Zh => format!("我的好友 {total}"),
        }
    }

    /// The title of the list of friend groups a friend can be moved to.
    pub fn move_friend_title(self, name: &str) -> String {
        match self {
            Lang::En => format!("Move {name} to"),
            Lang::Zh => format!("将 {name} 移动至"),
        }
    }

    /// Before deleting a friend group: where its friends go.
    pub fn delete_category_confirm(self, name: &str) -> String {
        match self {
            Lang::En => format!(
                "Delete the group “{name}”? Its friends move to My friends; they stay your friends."
            ),
            Lang::Zh => format!("确定删除分组“{name}”吗？组内好友将移至“我的好友”，不会被删除。"),
        }
    }

    pub fn friend_count(self, online: usize, total: usize) -> String {
        match self {
            Lang::En => format!("My friends {online}/{total}"),
            Lang::Zh => format!("我的好友 {online}/{total}"),
        }
    }

    /// The requests button and dialog title: with how many need me, or none when only my own wait.
    /// How many unread messages a notification stands for, before the newest one's text.
    pub fn unread_messages(self, count: u32) -> String {
        match self {
            Lang::En => format!("[{count} new]"),
            Lang::Zh => format!("[{count}条]"),
        }
    }

    /// A group change as the chat's grey system line (QQ: "小明 邀请 李华 加入了群聊"). `by` and `whom`
    /// are display names; `until` is a mute's end as the clock shows it.
    pub fn group_change(
        self,
        kind: ququ_protocol::GroupEventKind,
        (by, by_me): (&str, bool),
        (whom, whom_me): (&str, bool),
        value: &str,
        until: &str,
    ) -> String {
        use ququ_protocol::GroupEventKind as K;
        let on = value == "on";
        let zh = self == Lang::Zh;
        let same = by == whom;
        // Me as "you" (你), as QQ writes "李华 邀请 你 加入了群聊"; in English `by` always begins the
        // sentence, and `whom` does when it is the only name.
        let (you, you_first) = if zh { ("你", "你") } else { ("you", "You") };
        let by = if by_me { you_first } else { by };
        let whom_first = if whom_me { you_first } else { whom };
        let whom = if whom_me { you } else { whom };
        match kind {
            K::Invite if zh => format!("{by} 邀请 {whom} 加入了群聊"),
            K::Invite => format!("{by} invited {whom} to the group"),
            K::Join if zh && same => format!("{whom} 加入了群聊"),
            K::Join if zh => format!("{by} 同意 {whom} 加入了群聊"),
            K::Join if same => format!("{whom_first} joined the group"),
            K::Join => format!("{by} let {whom} into the group"),
            K::Leave if zh => format!("{whom} 退出了群聊"),
            K::Leave => format!("{whom_first} left the group"),
            K::Kick if zh => format!("{whom} 被 {by} 移出了群聊"),
            K::Kick => format!("{by} removed {whom} from the group"),
            K::Rename if zh => format!("{by} 将群名称修改为“{value}”"),
            K::Rename => format!("{by} renamed the group to \u{201c}{value}\u{201d}"),
            K::Admin if zh && on => format!("{by} 将 {whom} 设为管理员"),
            K::Admin if zh => format!("{by} 取消了 {whom} 的管理员"),
            K::Admin if on => format!("{by} made {whom} an admin"),
            K::Admin => format!("{by} made {whom} a plain member again"),
            K::Transfer if zh => format!("{by} 将群主转让给了 {whom}"),
            K::Transfer => format!("{by} made {whom} the group's owner"),
            K::Mute if zh && until.is_empty() => format!("{by} 解除了 {whom} 的禁言"),
            K::Mute if zh => format!("{whom} 被 {by} 禁言至 {until}"),
            K::Mute if until.is_empty() => format!("{by} unmuted {whom}"),
            K::Mute => format!("{by} muted {whom} until {until}"),
            K::MuteAll if zh && on => format!("{by} 开启了全员禁言"),
            K::MuteAll if zh => format!("{by} 关闭了全员禁言"),
            K::MuteAll if on => format!("{by} muted everyone"),
            K::MuteAll => format!("{by} let everyone speak again"),
            K::Notice if zh && value.is_empty() => format!("{by} 删除了群公告"),
            K::Notice if zh => format!("{by} 发布了新的群公告"),
            K::Notice if value.is_empty() => format!("{by} removed the announcement"),
            K::Notice => format!("{by} posted a new announcement"),
        }
    }

    /// The block list's title, with how many are on it.
    pub fn block_list(self, count: usize) -> String {
        match (self, count) {
            (Lang::En, 0) => "Blocked".to_owned(),
            (Lang::Zh, 0) => "黑名单".to_owned(),
            (Lang::En, _) => format!("Blocked ({count})"),
            (Lang::Zh, _) => format!("黑名单（{count}）"),
        }
    }

    /// A field of my profile typed longer than the server keeps: said before anything is sent.
    pub fn field_too_long(self, field: &str, max: usize) -> String {
        match self {
            Lang::En => format!("{field}: at most {max} characters."),
            Lang::Zh => format!("{field}最多 {max} 个字。"),
        }
    }

    /// A gender as the profile shows it (`None`: not said).
    pub fn gender(self, gender: Option<ququ_protocol::Gender>) -> &'static str {
        let tr = self.tr();
        match gender {
            None => tr.gender_unsaid,
            Some(ququ_protocol::Gender::Male) => tr.gender_male,
            Some(ququ_protocol::Gender::Female) => tr.gender_female,
            Some(ququ_protocol::Gender::Other) => tr.gender_other,
        }
    }

    /// Who someone is, at the top of their menu: their account, then [`Lang::about`] if they said
    /// anything ("lihua · 女 · 北京").
    pub fn who(self, account: &str, profile: Option<&ququ_protocol::Profile>) -> String {
        match profile.map(|p| self.about(p)).filter(|a| !a.is_empty()) {
            Some(about) => format!("{account} · {about}"),
            None => account.to_owned(),
        }
    }

    /// Someone's gender and region, what of them they said, for a profile line ("女 · 上海"); empty
    /// if neither.
    pub fn about(self, profile: &ququ_protocol::Profile) -> String {
        let region = profile.region.trim();
        let parts = [
            profile.gender.map(|g| self.gender(Some(g))),
            (!region.is_empty()).then_some(region),
        ];
        parts.into_iter().flatten().collect::<Vec<_>>().join(" · ")
    }

    /// When someone was blocked, under their name in the block list.
    pub fn blocked_since(self, when: &str) -> String {
        match self {
            Lang::En => format!("Blocked since {when}"),
            Lang::Zh => format!("{when} 拉黑"),
        }
    }

    /// The requests button and dialog title when someone also asks to join a group I manage: QQ's
    /// 验证消息, friend and group requests together.
    pub fn requests_word(self, count: usize, groups: bool) -> String {
        match (self, groups, count) {
            (_, false, _) => self.requests_pending(count),
            (Lang::En, true, 0) => "Requests".to_owned(),
            (Lang::Zh, true, 0) => "验证消息".to_owned(),
            (Lang::En, true, _) => format!("Requests ({count})"),
            (Lang::Zh, true, _) => format!("验证消息（{count}）"),
        }
    }

    /// A join request's notification title.
    pub fn join_request_from(self, name: &str, group: &str) -> String {
        match self {
            Lang::En => format!("{name} asks to join {group}"),
            Lang::Zh => format!("{name} 申请加入 {group}"),
        }
    }

    /// A member-menu item: mute for this long.
    pub fn mute_for(self, seconds: u64) -> String {
        let (minutes, hours) = (seconds / 60, seconds / 3600);
        match self {
            Lang::En if hours == 0 => format!("Mute {minutes} minutes"),
            Lang::En if hours == 1 => "Mute 1 hour".to_owned(),
            Lang::En => format!("Mute {hours} hours"),
            Lang::Zh if hours == 0 => format!("禁言 {minutes} 分钟"),
            Lang::Zh => format!("禁言 {hours} 小时"),
        }
    }

    /// In place of the input while I am muted, with when it ends (`until` as the clock shows it).
    pub fn muted_until(self, until: &str) -> String {
        match self {
            Lang::En => format!("You are muted until {until}."),
            Lang::Zh => format!("你已被禁言，{until} 解除。"),
        }
    }

    /// The member list's note on a muted member, with when it ends.
    pub fn muted_short(self, until: &str) -> String {
        match self {
            Lang::En => format!("Muted until {until}"),
            Lang::Zh => format!("禁言至 {until}"),
        }
    }

    pub fn confirm_kick(self, name: &str, group: &str) -> String {
        match self {
            Lang::En => {
                format!("Remove {name} from {group}? They can come back only if let in again.")
            }
            Lang::Zh => format!("确定将 {name} 移出 {group}？对方需重新加入才能回来。"),
        }
    }

    pub fn confirm_transfer(self, name: &str, group: &str) -> String {
        match self {
            Lang::En => format!(
                "Make {name} the owner of {group}? You become a plain member and can then leave."
            ),
            Lang::Zh => {
                format!("确定将 {group} 的群主转让给 {name}？你将成为普通成员，之后可以退群。")
            }
        }
    }

    /// Who set the announcement, and when.
    pub fn announced_by(self, name: &str, when: &str) -> String {
        match self {
            Lang::En => format!("{name}, {when}"),
            Lang::Zh => format!("{name} 发布于 {when}"),
        }
    }

    pub fn requests_pending(self, count: usize) -> String {
        match (self, count) {
            (Lang::En, 0) => "Friend requests".to_owned(),
            (Lang::Zh, 0) => "好友申请".to_owned(),
            (Lang::En, _) => format!("Friend requests ({count})"),
            (Lang::Zh, _) => format!("好友申请（{count}）"),
        }
    }

    pub fn no_server_here(self, addr: &str) -> String {
        match self {
            Lang::En => format!(
                "No server is running at {addr}. Host one on this computer? Other Ququ apps here and on \
                 your network can then log in to it."
            ),
            Lang::Zh => format!(
                "{addr} 上没有正在运行的服务器。要在这台电脑上启动一个 Ququ 服务器吗？本机和局域网内的其他 Ququ 即可登录它。"
            ),
        }
    }

    /// The first-use question for a self-signed TLS certificate. `fingerprint` is already laid out in lines.
    pub fn trust_server(self, server: &str, fingerprint: &str) -> String {
        match self {
            Lang::En => format!(
                "The server at {server} uses a certificate this computer has not seen before. Its \
                 fingerprint (SHA-256) is:\n\n{fingerprint}\n\nCompare it with the one your server's \
                 operator gave you, and trust it only if they match."
            ),
            Lang::Zh => format!(
                "{server} 的服务器使用了这台电脑从未见过的证书。它的指纹（SHA-256）是：\n\n{fingerprint}\n\n\
                 请与服务器管理员提供的指纹逐一核对，一致时才信任它。"
            ),
        }
    }

    pub fn certificate_changed(
        self,
        server: &str,
        pinned: &str,
        presented: &str,
        file: &str,
    ) -> String {
        match self {
            Lang::En => format!(
                "Refused: the certificate of {server} has CHANGED since you trusted it — someone may be \
                 impersonating the server (trusted {pinned}, now {presented}). Only if the operator confirms \
                 a new certificate, remove the line for {server} from {file} and log in again."
            ),
            Lang::Zh => format!(
                "已拒绝连接：{server} 的证书与你信任时的不同，可能有人在冒充服务器（已信任 {pinned}，\
                 现在 {presented}）。只有管理员确认更换了证书时，才从 {file} 中删除 {server} 那一行，再重新登录。"
            ),
        }
    }

    /// Where "log in automatically" keeps the login: the OS store, named in both languages.
    pub fn token_in_os_store(self, en_name: &str, zh_name: &str) -> String {
        match self {
            Lang::En => format!("Your login is kept in {en_name}, never your password."),
            Lang::Zh => format!("登录凭据保存在{zh_name}中，不保存密码。"),
        }
    }

    pub fn token_in_file(self, path: &str) -> String {
        match self {
            Lang::En => format!(
                "This computer has no credential store: your login is kept in {path}, a file only you \
                 can read, never your password."
            ),
            Lang::Zh => format!(
                "这台电脑没有凭据存储：登录凭据保存在仅你可读的文件 {path} 中，不保存密码。"
            ),
        }
    }

    pub fn saved_to_downloads(self, dir: &str) -> String {
        match self {
            Lang::En => format!("No file chooser on this system: saving to {dir} instead."),
            Lang::Zh => format!("这台电脑没有文件选择对话框：已改为保存到 {dir}。"),
        }
    }

    pub fn hosting(self, addr: &str) -> String {
        match self {
            Lang::En => format!("Hosting a server at {addr}"),
            Lang::Zh => format!("本机正在运行服务器：{addr}"),
        }
    }

    pub fn uploading(self, percent: u32) -> String {
        match self {
            Lang::En => format!("Uploading {percent}%"),
            Lang::Zh => format!("正在发送 {percent}%"),
        }
    }

    pub fn downloading(self, percent: u32) -> String {
        match self {
            Lang::En => format!("Downloading {percent}%"),
            Lang::Zh => format!("正在下载 {percent}%"),
        }
    }

    pub fn paused_at(self, percent: u32) -> String {
        match self {
            Lang::En => format!("Paused at {percent}%"),
            Lang::Zh => format!("已暂停 {percent}%"),
        }
    }

    /// A failed transfer's state line, with the client's reason.
    pub fn file_failed_because(self, reason: &str) -> String {
        match self {
            Lang::En => format!("{} ({reason})", EN.file_failed),
            Lang::Zh => format!("{}（{reason}）", ZH.file_failed),
        }
    }

    pub fn file_too_large(self, name: &str, limit: &str) -> String {
        match self {
            Lang::En => format!("{name} is larger than the server allows ({limit})."),
            Lang::Zh => format!("“{name}”超过了服务器允许的大小（{limit}）。"),
        }
    }

    /// The name of a picture pasted from the clipboard: `Screenshot 2026-12-06 153012.png`.
    pub fn screenshot_name(self, stamp: &str) -> String {
        match self {
            Lang::En => format!("Screenshot {stamp}.png"),
            Lang::Zh => format!("截图 {stamp}.png"),
        }
    }

    /// The viewer saved a copy of the picture here.
    pub fn saved_at(self, path: &str) -> String {
        match self {
            Lang::En => format!("Saved to {path}"),
            Lang::Zh => format!("已保存到 {path}"),
        }
    }

    /// The history window's count: `found` messages matched (the newest `limit` when there are more).
    pub fn history_found(self, found: usize, limit: usize) -> String {
        match (self, found >= limit) {
            (Lang::En, false) if found == 1 => "1 message found".to_owned(),
            (Lang::En, false) => format!("{found} messages found"),
            (Lang::En, true) => format!("The newest {found} matches"),
            (Lang::Zh, false) => format!("找到 {found} 条消息"),
            (Lang::Zh, true) => format!("最新的 {found} 条结果"),
        }
    }

    /// The history window reading a chat: the last `count` messages, or the first from a day on.
    pub fn history_listed(self, count: usize, from_day: Option<&str>) -> String {
        match (self, from_day) {
            (Lang::En, None) => format!("The latest {count} messages"),
            (Lang::En, Some(day)) => format!("{count} messages from {day} on"),
            (Lang::Zh, None) => format!("最近的 {count} 条消息"),
            (Lang::Zh, Some(day)) => format!("{day} 起的 {count} 条消息"),
        }
    }

    /// An export was written here.
    pub fn exported_to(self, path: &str) -> String {
        match self {
            Lang::En => format!("Exported to {path}"),
            Lang::Zh => format!("已导出到 {path}"),
        }
    }

    /// The About window's version line.
    pub fn version(self, version: &str) -> String {
        match self {
            Lang::En => format!("Version {version}"),
            Lang::Zh => format!("版本 {version}"),
        }
    }
}

/// One language's strings.
#[derive(Debug)]
pub struct Tr {
    pub app_name: &'static str,
    pub account: &'static str,
    pub password: &'static str,
    pub server: &'static str,
    pub nickname_optional: &'static str,
    pub log_in: &'static str,
    pub register: &'static str,
    pub have_account: &'static str,
    pub need_account: &'static str,
    pub connecting: &'static str,
    pub logging_in: &'static str,
    pub registering: &'static str,
    pub registered: &'static str,
    pub empty_account: &'static str,
    pub empty_password: &'static str,
    pub empty_server: &'static str,
    pub bad_server: &'static str,
    pub wrong_password: &'static str,
    pub account_taken: &'static str,
    pub invalid_account: &'static str,
    pub invalid_password: &'static str,
    pub disabled: &'static str,
    pub password_changed: &'static str,
    pub cannot_reach: &'static str,
    pub server_busy: &'static str,
    pub server_error: &'static str,
    pub host_server: &'static str,
    /// The settings' switch, while this app hosts the server.
    pub host_again: &'static str,
    pub use_tls: &'static str,
    pub auto_login: &'static str,
    pub logging_in_automatically: &'static str,
    pub session_expired: &'static str,
    pub start_with_os: &'static str,
    pub start_with_os_failed: &'static str,
    pub trust_and_log_in: &'static str,
    pub cancel: &'static str,
    pub ok: &'static str,
    pub online: &'static str,
    pub offline: &'static str,
    /// The status bar's link during the reconnect countdown.
    pub reconnect_now: &'static str,
    /// Someone's presence while this app is not connected: it may have changed since.
    pub presence_unknown: &'static str,
    pub connecting_state: &'static str,
    pub search: &'static str,
    pub friends: &'static str,
    pub groups: &'static str,
    pub recent: &'static str,
    pub no_friends: &'static str,
    pub no_groups: &'static str,
    pub no_recent: &'static str,
    pub add_friend: &'static str,
    pub find_user_hint: &'static str,
    pub find: &'static str,
    pub note_hint: &'static str,
    pub send_request: &'static str,
    pub no_results: &'static str,
    pub already_friend: &'static str,
    /// Short, for the row of the user a request just went to.
    pub request_sent: &'static str,
    pub accept: &'static str,
    pub reject: &'static str,
    pub wants_to_be_friends: &'static str,
    /// The requests dialog's heading over the requests I sent.
    pub sent_requests: &'static str,
    pub waiting_for_answer: &'static str,
    pub declined_request: &'static str,
    /// Clears a declined request from the list.
    pub dismiss: &'static str,
    pub set_remark: &'static str,
    pub remark_hint: &'static str,
    pub save: &'static str,
    pub delete_friend: &'static str,
    pub delete: &'static str,
    pub open_chat: &'static str,
    pub create_group: &'static str,
    pub group_name_hint: &'static str,
    pub create: &'static str,
    pub join_group: &'static str,
    pub group_id_hint: &'static str,
    pub join: &'static str,
    pub leave_group: &'static str,
    pub leave: &'static str,
    /// The owner's menu item in place of Leave, and its confirmation's button.
    pub dissolve_group: &'static str,
    pub dissolve: &'static str,
    pub quit: &'static str,
    pub quit_title: &'static str,
    pub settings: &'static str,
    pub language: &'static str,
    pub theme: &'static str,
    pub theme_system: &'static str,
    pub theme_light: &'static str,
    pub theme_dark: &'static str,
    pub change_avatar: &'static str,
    pub change_group_avatar: &'static str,
    pub reset_avatar: &'static str,
    pub close: &'static str,
    pub log_out: &'static str,
    pub send: &'static str,
    pub input_hint: &'static str,
    pub sending: &'static str,
    pub sent: &'static str,
    pub failed: &'static str,
    pub retry: &'static str,
    pub load_earlier: &'static str,
    /// The bottom of a chat that jumped back to an old message: the page after it.
    pub load_newer: &'static str,
    /// The button floating over a chat that jumped back: the newest messages again.
    pub back_to_newest: &'static str,
    pub loading: &'static str,
    pub no_more_history: &'static str,
    pub no_messages: &'static str,
    pub queued_offline: &'static str,
    pub owner: &'static str,
    /// A group's admin (管理员), marked beside their name in the member list.
    pub admin: &'static str,
    /// Joining a group that takes members by approval: the request went to its managers; or it was
    /// declined.
    pub join_asked: &'static str,
    pub join_declined: &'static str,
    pub not_friends: &'static str,
    pub too_long: &'static str,
    pub rate_limited: &'static str,
    pub no_such_user: &'static str,
    pub no_such_group: &'static str,
    pub already_member: &'static str,
    pub owner_cannot_leave: &'static str,
    pub invite_friends: &'static str,
    pub group_settings: &'static str,
    pub group_settings_item: &'static str,
    pub group_name: &'static str,
    pub announcement: &'static str,
    pub no_announcement: &'static str,
    pub edit: &'static str,
    pub publish: &'static str,
    pub remove_announcement: &'static str,
    pub announcement_hint: &'static str,
    pub join_policy: &'static str,
    pub policy_open: &'static str,
    pub policy_approve: &'static str,
    pub policy_invite: &'static str,
    pub mute_everyone: &'static str,
    pub join_requests: &'static str,
    pub no_join_requests: &'static str,
    pub managers_only: &'static str,
    pub owner_only: &'static str,
    pub mention_them: &'static str,
    pub make_admin: &'static str,
    pub remove_admin: &'static str,
    pub unmute: &'static str,
    pub transfer_owner: &'static str,
    pub remove_member: &'static str,
    pub remove: &'static str,
    pub transfer: &'static str,
    pub muted_marker: &'static str,
    pub everyone_muted: &'static str,
    pub asks_to_join: &'static str,
    pub saving: &'static str,
    pub block: &'static str,
    pub unblock: &'static str,
    pub blocked_marker: &'static str,
    /// The block list when empty.
    pub no_one_blocked: &'static str,
    /// Settings: the row with the password and the block list.
    pub my_account: &'static str,
    pub default_category: &'static str,
    pub move_to_category: &'static str,
    pub add_category: &'static str,
    pub new_category: &'static str,
    pub rename_category: &'static str,
    pub delete_category: &'static str,
    pub category_name_hint: &'static str,
    pub current_category: &'static str,
    pub move_up: &'static str,
    pub move_down: &'static str,
    pub signature: &'static str,
    pub signature_hint: &'static str,
    pub my_profile: &'static str,
    pub edit_profile: &'static str,
    pub nickname: &'static str,
    pub nickname_hint: &'static str,
    pub nickname_needed: &'static str,
    pub gender: &'static str,
    pub gender_unsaid: &'static str,
    pub gender_male: &'static str,
    pub gender_female: &'static str,
    pub gender_other: &'static str,
    pub region: &'static str,
    pub region_hint: &'static str,
    pub change_password: &'static str,
    pub change_password_item: &'static str,
    pub current_password: &'static str,
    pub new_password: &'static str,
    pub new_password_again: &'static str,
    pub passwords_differ: &'static str,
    pub current_password_wrong: &'static str,
    pub password_now_changed: &'static str,
    pub invite: &'static str,
    pub invited: &'static str,
    pub in_group: &'static str,
    pub no_friends_to_invite: &'static str,
    pub invite_only: &'static str,
    pub removed_from_group: &'static str,
    pub group_full: &'static str,
    pub image_failed: &'static str,
    pub hosting_failed: &'static str,
    pub send_file: &'static str,
    pub choose_files: &'static str,
    pub no_file_dialog: &'static str,
    pub file_path_hint: &'static str,
    pub save_file: &'static str,
    pub drop_to_send: &'static str,
    pub file_word: &'static str,
    /// A picture's marker in lists and notifications, shown alone as QQ does: `[Picture]`.
    pub picture_word: &'static str,
    pub pin_chat: &'static str,
    pub unpin_chat: &'static str,
    /// Do not disturb (免打扰): no pop-up, no sound.
    pub mute_chat: &'static str,
    pub unmute_chat: &'static str,
    /// A notification's text when the settings hide what the message says.
    pub new_message: &'static str,
    /// The default action of a notification (clicking it).
    pub open_chat_action: &'static str,
    pub notifications: &'static str,
    pub notify_preview: &'static str,
    pub notify_sound: &'static str,
    /// Why notifications cannot be shown here, before the reason.
    pub notify_unavailable: &'static str,
    pub notify_no_bus: &'static str,
    pub notify_no_service: &'static str,
    pub notify_unsupported: &'static str,
    /// The tray icon: its menu, its tooltip's second line, why there is none (for the settings), and
    /// what closing the friend list says the first time it hides the app there.
    pub tray_open: &'static str,
    pub tray_dnd: &'static str,
    pub tray_invisible: &'static str,
    pub tray_quit: &'static str,
    pub tray_logged_out: &'static str,
    /// `{n}`: how many.
    pub tray_unread: &'static str,
    pub tray_no_host: &'static str,
    pub tray_unsupported: &'static str,
    pub tray_hidden_title: &'static str,
    pub tray_hidden_text: &'static str,
    pub tray_keep_running: &'static str,
    pub file_sent: &'static str,
    pub file_delivered: &'static str,
    pub file_offered: &'static str,
    pub file_saved: &'static str,
    pub file_rejected_by_peer: &'static str,
    pub file_rejected: &'static str,
    pub file_cancelled: &'static str,
    pub file_expired: &'static str,
    pub file_failed: &'static str,
    pub pause: &'static str,
    pub resume: &'static str,
    pub download: &'static str,
    pub save_as: &'static str,
    pub open: &'static str,
    pub show_in_folder: &'static str,
    pub file_unreadable: &'static str,
    pub cannot_open: &'static str,
    /// The About window: its title (also the link to it in settings), the one-line summary, the heading
    /// of the list of places on disk, the places, and the licence line.
    pub about: &'static str,
    pub about_summary: &'static str,
    pub data_places: &'static str,
    pub place_history: &'static str,
    pub place_downloads: &'static str,
    pub place_server: &'static str,
    pub about_license: &'static str,
    /// The chat toolbar's emoji button.
    pub emoji: &'static str,
    /// A message's right-click menu: its text to the clipboard.
    pub copy: &'static str,
    /// The emoji picker's recent tab before any was picked.
    pub no_recent_emoji: &'static str,
    /// A message's menu: answer it with a quote.
    pub reply: &'static str,
    /// A message's menu: take it back (撤回).
    pub recall: &'static str,
    /// Why Recall is greyed: someone else's message.
    pub recall_not_mine: &'static str,
    /// Why Recall (or Reply) is greyed: the server is older than them.
    pub server_cannot: &'static str,
    /// Why Recall is greyed: the message is not on the server yet.
    pub recall_not_sent: &'static str,
    /// A recall refused because the message is gone already.
    pub recall_gone: &'static str,
    /// A quote whose message was recalled.
    pub quote_recalled: &'static str,
    /// Recent and a bubble: an unread message mentions me.
    pub mention_me: &'static str,
    /// A friend is typing (the chat header).
    pub typing: &'static str,
    /// The @ list's entry that mentions everyone (owner only).
    pub mention_all: &'static str,
    /// A message's menu: send it on to another chat (转发).
    pub forward: &'static str,
    /// The forward picker's title.
    pub forward_to: &'static str,
    /// Why Forward is greyed on a file that is not on this device.
    pub download_first: &'static str,
    /// A message's menu: remove it from this device only.
    pub delete_for_me: &'static str,
    /// A picture's Copy (from its menu) could not reach the clipboard.
    pub copy_failed: &'static str,
    /// Settings: pictures up to this size are downloaded as they arrive; the choice that never does.
    pub auto_pictures: &'static str,
    pub auto_pictures_off: &'static str,
    /// Ctrl+V found a picture but the clipboard (or the file made from it) failed.
    pub clipboard_failed: &'static str,
    /// The picture viewer's buttons, and what it says while the picture loads or when it cannot.
    pub fit: &'static str,
    pub actual_size: &'static str,
    pub zoom_in: &'static str,
    pub zoom_out: &'static str,
    pub copied: &'static str,
    pub picture_loading: &'static str,
    pub picture_unreadable: &'static str,
    /// An animated GIF shows its first frame only: the viewer says so.
    pub gif_first_frame: &'static str,
    /// The history window (消息记录): its title and the chat toolbar's button to it, the scope "all
    /// chats", the search field's hint, the date fields' hints, and what it says for a date it cannot
    /// read, while searching, and when nothing is there.
    pub history: &'static str,
    pub history_all: &'static str,
    pub history_search_hint: &'static str,
    pub history_from: &'static str,
    pub history_to: &'static str,
    pub history_bad_date: &'static str,
    pub history_searching: &'static str,
    pub history_nothing: &'static str,
    pub history_empty: &'static str,
    pub history_type_to_search: &'static str,
    /// The history window's export buttons, and the heading of an exported file's list.
    pub export_text: &'static str,
    pub export_html: &'static str,
    pub export_failed: &'static str,
}

static EN: Tr = Tr {
    app_name: "Ququ",
    account: "Account",
    password: "Password",
    server: "Server (host:port)",
    nickname_optional: "Nickname (optional)",
    log_in: "Log in",
    register: "Register",
    have_account: "I have an account",
    need_account: "Create an account",
    connecting: "Connecting…",
    logging_in: "Logging in…",
    registering: "Creating your account…",
    registered: "Account created. Logging in…",
    empty_account: "Enter your account.",
    empty_password: "Enter your password.",
    empty_server: "Enter the server address.",
    bad_server: "The server address must look like host:port (several: host1:port, host2:port).",
    wrong_password: "Wrong account or password.",
    account_taken: "That account is taken; pick another name.",
    invalid_account: "That account name is not allowed.",
    invalid_password: "The password is too short or too long.",
    disabled: "This account has been disabled.",
    password_changed: "The password was changed (on another device, or by the server's administrator). Log in with the new password.",
    cannot_reach: "Cannot reach the server.",
    server_busy: "The server is busy; try again shortly.",
    server_error: "The server reported an error.",
    host_server: "Host a server here",
    host_again: "Start this server again when Ququ starts",
    use_tls: "Encrypted connection (TLS)",
    auto_login: "Log in automatically",
    logging_in_automatically: "Logging in automatically…",
    session_expired: "Your saved login has expired; type your password.",
    start_with_os: "Start Ququ when I log in to this computer",
    start_with_os_failed: "Could not change whether Ququ starts with the computer",
    trust_and_log_in: "Trust and log in",
    cancel: "Cancel",
    ok: "OK",
    online: "Online",
    offline: "Offline",
    presence_unknown: "Status unknown",
    reconnect_now: "Reconnect now",
    connecting_state: "Connecting",
    search: "Search",
    friends: "Friends",
    groups: "Groups",
    recent: "Recent",
    no_friends: "No friends yet. Add one with the + button.",
    no_groups: "No groups yet. Create or join one below.",
    no_recent: "No chats yet.",
    add_friend: "Add friend",
    find_user_hint: "Account or nickname",
    find: "Find",
    note_hint: "A note with your request",
    send_request: "Add",
    no_results: "No one found.",
    already_friend: "Friend",
    request_sent: "Request sent",
    accept: "Accept",
    reject: "Reject",
    wants_to_be_friends: "wants to be your friend",
    sent_requests: "Sent by me",
    waiting_for_answer: "Waiting for an answer",
    declined_request: "Declined your request",
    dismiss: "OK",
    set_remark: "Set remark",
    remark_hint: "Remark (empty clears it)",
    save: "Save",
    delete_friend: "Delete friend",
    delete: "Delete",
    open_chat: "Send message",
    create_group: "Create group",
    group_name_hint: "Group name",
    create: "Create",
    join_group: "Join group",
    group_id_hint: "Group number",
    join: "Join",
    leave_group: "Leave group",
    leave: "Leave",
    dissolve_group: "Dissolve group",
    dissolve: "Dissolve",
    quit: "Quit",
    quit_title: "Quit Ququ?",
    settings: "Settings",
    language: "Language",
    theme: "Theme",
    theme_system: "Follow system",
    theme_light: "Light",
    theme_dark: "Dark",
    change_avatar: "Change avatar…",
    change_group_avatar: "Change group avatar…",
    reset_avatar: "Default avatar",
    close: "Close",
    log_out: "Log out",
    send: "Send",
    input_hint: "Enter sends, Shift+Enter breaks the line",
    sending: "Sending…",
    sent: "Sent",
    failed: "Not sent",
    retry: "Retry",
    load_earlier: "Earlier messages",
    load_newer: "Later messages",
    back_to_newest: "Back to newest",
    loading: "Loading…",
    no_more_history: "No earlier messages",
    no_messages: "Say hello!",
    queued_offline: "Offline — messages will be sent when the connection is back.",
    owner: "Owner",
    admin: "Admin",
    join_asked: "Your request to join was sent. The group's owner or an admin will decide.",
    join_declined: "The group's owner or an admin declined your request to join.",
    not_friends: "You are not friends any more.",
    too_long: "That is too long.",
    rate_limited: "Slow down a little.",
    no_such_user: "No such user.",
    no_such_group: "No group has that number.",
    already_member: "You are in that group already.",
    owner_cannot_leave: "The owner cannot leave their own group; dissolve it instead.",
    invite_friends: "Invite friends…",
    group_settings: "Group settings",
    group_settings_item: "Group settings…",
    group_name: "Group name",
    announcement: "Announcement",
    no_announcement: "No announcement yet.",
    edit: "Edit",
    publish: "Publish",
    remove_announcement: "Remove",
    announcement_hint: "What every member should know",
    join_policy: "How people join",
    policy_open: "Anyone with the group number",
    policy_approve: "The owner or an admin approves each request",
    policy_invite: "Only by a member's invitation",
    mute_everyone: "Mute everyone (only the owner and admins speak)",
    join_requests: "Join requests",
    no_join_requests: "No one is waiting.",
    managers_only: "Only the owner and admins can change these.",
    owner_only: "Only the owner changes this.",
    mention_them: "@ Mention",
    make_admin: "Make admin",
    remove_admin: "Remove admin",
    unmute: "Unmute",
    transfer_owner: "Make owner…",
    remove_member: "Remove…",
    remove: "Remove",
    transfer: "Hand over",
    muted_marker: "Muted",
    everyone_muted: "Everyone is muted: only the owner and admins can speak.",
    asks_to_join: "asks to join",
    saving: "Saving…",
    block: "Block",
    unblock: "Unblock",
    blocked_marker: "Blocked",
    no_one_blocked: "You have not blocked anyone. Block someone from their right-click menu.",
    my_account: "Account",
    default_category: "My friends",
    move_to_category: "Move to group…",
    add_category: "Add group…",
    new_category: "New group",
    rename_category: "Rename group…",
    delete_category: "Delete group",
    category_name_hint: "Group name",
    current_category: " (here now)",
    move_up: "Move up",
    move_down: "Move down",
    signature: "Signature",
    signature_hint: "A line friends see",
    my_profile: "My profile",
    edit_profile: "Edit profile…",
    nickname: "Nickname",
    nickname_hint: "The name friends see",
    nickname_needed: "A nickname cannot be empty.",
    gender: "Gender",
    gender_unsaid: "Not said",
    gender_male: "Male",
    gender_female: "Female",
    gender_other: "Other",
    region: "Region",
    region_hint: "City or region (optional)",
    change_password: "Change password",
    change_password_item: "Password…",
    current_password: "Current password",
    new_password: "New password",
    new_password_again: "New password again",
    passwords_differ: "The two new passwords differ.",
    current_password_wrong: "The current password is wrong.",
    password_now_changed: "Password changed. Your other devices were logged out; this one stays logged in.",
    invite: "Invite",
    invited: "Invited",
    in_group: "In the group",
    no_friends_to_invite: "Add friends first: only friends can be invited.",
    invite_only: "This group takes members by invitation only. Ask a member to invite you.",
    removed_from_group: "You were removed from this group. Only a new invitation brings you back.",
    group_full: "That group is full.",
    image_failed: "That image could not be read.",
    hosting_failed: "Could not start a server here.",
    send_file: "Send file",
    choose_files: "Choose files to send",
    no_file_dialog: "This system has no file chooser (install xdg-desktop-portal or zenity). Type or paste \
                     the file's path, or drag the file onto this window.",
    file_path_hint: "Path of the file to send",
    save_file: "Save file",
    drop_to_send: "Drop files here to send them",
    file_word: "File",
    picture_word: "Picture",
    new_message: "New message",
    pin_chat: "Pin to top",
    unpin_chat: "Unpin",
    mute_chat: "Do not disturb",
    unmute_chat: "Allow notifications",
    open_chat_action: "Open",
    notifications: "Notify me of new messages",
    notify_preview: "Show the message text",
    notify_sound: "Play a sound",
    notify_unavailable: "This desktop shows no notifications",
    notify_no_bus: "No desktop session to show notifications in.",
    notify_no_service: "No notification service is running on this desktop.",
    tray_open: "Open Ququ",
    tray_dnd: "Do not disturb",
    tray_invisible: "Invisible (this server cannot)",
    tray_quit: "Quit Ququ",
    tray_logged_out: "Not logged in",
    tray_unread: "{n} unread",
    tray_no_host: "This desktop shows no tray icons: closing the friend list quits Ququ.",
    tray_unsupported: "No tray icon on this system yet: closing the friend list quits Ququ.",
    tray_hidden_title: "Ququ keeps running",
    tray_hidden_text: "Closing the friend list hides Ququ in the tray: messages still arrive and pop up. Click the tray icon to open it again; Quit is in its menu.",
    tray_keep_running: "Hide to tray",
    notify_unsupported: "Pop-ups are not shown on this system yet; the dock asks for attention instead.",
    file_sent: "Sent",
    file_delivered: "Downloaded by recipient",
    file_offered: "Not downloaded",
    file_saved: "Downloaded",
    file_rejected_by_peer: "Rejected by recipient",
    file_rejected: "Rejected",
    file_cancelled: "Cancelled",
    file_expired: "Expired",
    file_failed: "Transfer failed",
    pause: "Pause",
    resume: "Resume",
    download: "Download",
    save_as: "Save as…",
    open: "Open",
    show_in_folder: "Show in folder",
    file_unreadable: "That file cannot be read.",
    cannot_open: "It could not be opened.",
    about: "About Ququ",
    about_summary: "A QQ-style messenger for your own group, on your own server.",
    data_places: "Where Ququ keeps your data",
    place_history: "Chat history",
    place_downloads: "Downloaded files",
    place_server: "Hosted server",
    about_license: "Free software under the MIT or Apache-2.0 licence. \
                    Fonts: Noto Sans CJK SC (SIL Open Font Licence); emoji: Twemoji by Twitter \
                    (CC-BY 4.0), built by Mozilla.",
    emoji: "Emoji",
    copy: "Copy",
    no_recent_emoji: "Emoji you use will show here",
    reply: "Reply",
    recall: "Recall",
    recall_not_mine: "Only your own messages",
    server_cannot: "This server cannot",
    recall_not_sent: "Not sent yet",
    recall_gone: "That message has been recalled already.",
    quote_recalled: "The original message was recalled",
    mention_me: "[@me]",
    typing: "typing…",
    mention_all: "Everyone",
    forward: "Forward",
    forward_to: "Forward to",
    download_first: "Download it first",
    delete_for_me: "Delete for me",
    copy_failed: "The picture could not be copied",
    auto_pictures: "Download pictures automatically up to",
    auto_pictures_off: "Never",
    clipboard_failed: "The picture on the clipboard could not be pasted.",
    fit: "Fit",
    actual_size: "1:1",
    zoom_in: "Zoom in",
    zoom_out: "Zoom out",
    copied: "Copied to the clipboard.",
    picture_loading: "Loading the picture…",
    picture_unreadable: "This picture cannot be shown.",
    gif_first_frame: "Animated GIF: showing its first frame.",
    history: "Chat history",
    history_all: "All chats",
    history_search_hint: "Search messages and file names",
    history_from: "From YYYY-MM-DD",
    history_to: "To YYYY-MM-DD",
    history_bad_date: "Write a date like 2026-12-06.",
    history_searching: "Searching…",
    history_nothing: "No messages found.",
    history_empty: "No messages here.",
    history_type_to_search: "Type a word to search all your chats.",
    export_text: "Export as text",
    export_html: "Export as web page",
    export_failed: "The chat could not be exported",
};

static ZH: Tr = Tr {
    app_name: "Ququ",
    account: "账号",
    password: "密码",
    server: "服务器（主机:端口）",
    nickname_optional: "昵称（可选）",
    log_in: "登录",
    register: "注册",
    have_account: "已有账号，去登录",
    need_account: "注册新账号",
    connecting: "正在连接…",
    logging_in: "正在登录…",
    registering: "正在注册…",
    registered: "注册成功，正在登录…",
    empty_account: "请输入账号。",
    empty_password: "请输入密码。",
    empty_server: "请输入服务器地址。",
    bad_server: "服务器地址格式应为 主机:端口（多个用逗号分隔）。",
    wrong_password: "账号或密码错误。",
    account_taken: "该账号已被注册，请换一个。",
    invalid_account: "该账号名不可用。",
    invalid_password: "密码太短或太长。",
    disabled: "该账号已被停用。",
    password_changed: "密码已在其他设备上或由管理员修改，请用新密码登录。",
    cannot_reach: "无法连接到服务器。",
    server_busy: "服务器繁忙，请稍后再试。",
    server_error: "服务器出错了。",
    host_server: "在本机运行服务器",
    host_again: "启动 Ququ 时自动运行本机服务器",
    use_tls: "加密连接（TLS）",
    auto_login: "自动登录",
    logging_in_automatically: "正在自动登录…",
    session_expired: "保存的登录已失效，请输入密码。",
    start_with_os: "开机时启动 Ququ",
    start_with_os_failed: "无法更改开机启动设置",
    trust_and_log_in: "信任并登录",
    cancel: "取消",
    ok: "确定",
    online: "在线",
    offline: "离线",
    presence_unknown: "状态未知",
    reconnect_now: "立即重连",
    connecting_state: "连接中",
    search: "搜索",
    friends: "好友",
    groups: "群聊",
    recent: "消息",
    no_friends: "还没有好友，点 + 添加吧。",
    no_groups: "还没有群聊，可以在下方创建或加入。",
    no_recent: "还没有聊天记录。",
    add_friend: "添加好友",
    find_user_hint: "账号或昵称",
    find: "查找",
    note_hint: "验证信息",
    send_request: "添加",
    no_results: "没有找到用户。",
    already_friend: "已是好友",
    request_sent: "已发送申请",
    accept: "同意",
    reject: "拒绝",
    wants_to_be_friends: "请求添加你为好友",
    sent_requests: "我发出的申请",
    waiting_for_answer: "等待对方验证",
    declined_request: "拒绝了你的好友申请",
    dismiss: "知道了",
    set_remark: "修改备注",
    remark_hint: "备注（留空则清除）",
    save: "保存",
    delete_friend: "删除好友",
    delete: "删除",
    open_chat: "发消息",
    create_group: "创建群聊",
    group_name_hint: "群名称",
    create: "创建",
    join_group: "加入群聊",
    group_id_hint: "群号",
    join: "加入",
    leave_group: "退出群聊",
    leave: "退出",
    dissolve_group: "解散群聊",
    dissolve: "解散",
    quit: "退出 Ququ",
    quit_title: "确定退出 Ququ 吗？",
    settings: "设置",
    language: "语言",
    theme: "主题",
    theme_system: "跟随系统",
    theme_light: "浅色",
    theme_dark: "深色",
    change_avatar: "更换头像…",
    change_group_avatar: "更换群头像…",
    reset_avatar: "默认头像",
    close: "关闭",
    log_out: "退出登录",
    send: "发送",
    input_hint: "Enter 发送，Shift+Enter 换行",
    sending: "发送中…",
    sent: "已发送",
    failed: "发送失败",
    retry: "重试",
    load_earlier: "查看更早的消息",
    load_newer: "查看更新的消息",
    back_to_newest: "回到最新消息",
    loading: "加载中…",
    no_more_history: "没有更早的消息了",
    no_messages: "打个招呼吧！",
    queued_offline: "当前离线，消息将在恢复连接后发送。",
    owner: "群主",
    admin: "管理员",
    join_asked: "入群申请已发送，等待群主或管理员审核。",
    join_declined: "群主或管理员拒绝了你的入群申请。",
    not_friends: "你们已不是好友。",
    too_long: "内容太长了。",
    rate_limited: "发送太频繁，请稍后。",
    no_such_user: "用户不存在。",
    no_such_group: "没有这个群号。",
    already_member: "你已经在这个群里了。",
    owner_cannot_leave: "群主不能退出自己的群，可以解散该群。",
    invite_friends: "邀请好友…",
    group_settings: "群设置",
    group_settings_item: "群设置…",
    group_name: "群名称",
    announcement: "群公告",
    no_announcement: "暂无群公告。",
    edit: "编辑",
    publish: "发布",
    remove_announcement: "删除",
    announcement_hint: "写下每位群成员都该知道的事",
    join_policy: "加群方式",
    policy_open: "允许任何人凭群号加入",
    policy_approve: "需要群主或管理员验证",
    policy_invite: "只允许群成员邀请加入",
    mute_everyone: "全员禁言（仅群主和管理员可发言）",
    join_requests: "加群申请",
    no_join_requests: "暂无加群申请。",
    managers_only: "仅群主和管理员可修改以下设置。",
    owner_only: "仅群主可修改。",
    mention_them: "@TA",
    make_admin: "设为管理员",
    remove_admin: "取消管理员",
    unmute: "解除禁言",
    transfer_owner: "转让群主…",
    remove_member: "移出本群…",
    remove: "移出",
    transfer: "转让",
    muted_marker: "禁言中",
    everyone_muted: "全员禁言中，仅群主和管理员可以发言。",
    asks_to_join: "申请加入",
    saving: "正在保存…",
    block: "拉黑",
    unblock: "取消拉黑",
    blocked_marker: "已拉黑",
    no_one_blocked: "黑名单是空的。右键点好友可以拉黑。",
    my_account: "账号",
    default_category: "我的好友",
    move_to_category: "移动联系人至…",
    add_category: "添加分组…",
    new_category: "新建分组",
    rename_category: "重命名分组…",
    delete_category: "删除分组",
    category_name_hint: "分组名称",
    current_category: "（当前分组）",
    move_up: "上移",
    move_down: "下移",
    signature: "个性签名",
    signature_hint: "写一句个性签名",
    my_profile: "个人资料",
    edit_profile: "编辑资料…",
    nickname: "昵称",
    nickname_hint: "好友看到的名字",
    nickname_needed: "昵称不能为空。",
    gender: "性别",
    gender_unsaid: "不填",
    gender_male: "男",
    gender_female: "女",
    gender_other: "其他",
    region: "地区",
    region_hint: "所在城市或地区（可选）",
    change_password: "修改密码",
    change_password_item: "修改密码…",
    current_password: "当前密码",
    new_password: "新密码",
    new_password_again: "再次输入新密码",
    passwords_differ: "两次输入的新密码不一致。",
    current_password_wrong: "当前密码不正确。",
    password_now_changed: "密码已修改。你的其他设备已退出登录，本机保持登录。",
    invite: "邀请",
    invited: "已邀请",
    in_group: "已在群中",
    no_friends_to_invite: "只能邀请好友，请先添加好友。",
    invite_only: "该群仅限邀请加入，请让群成员邀请你。",
    removed_from_group: "你已被移出该群，需要群成员重新邀请才能加入。",
    group_full: "该群已满。",
    image_failed: "无法读取这张图片。",
    hosting_failed: "无法在本机启动服务器。",
    send_file: "发送文件",
    choose_files: "选择要发送的文件",
    no_file_dialog: "这台电脑没有文件选择对话框（可安装 xdg-desktop-portal 或 zenity）。请输入或粘贴文件路径，\
                     或把文件拖到本窗口。",
    file_path_hint: "要发送的文件路径",
    save_file: "保存文件",
    drop_to_send: "松开鼠标即可发送文件",
    file_word: "文件",
    picture_word: "图片",
    new_message: "新消息",
    pin_chat: "置顶聊天",
    unpin_chat: "取消置顶",
    mute_chat: "消息免打扰",
    unmute_chat: "取消免打扰",
    open_chat_action: "打开",
    notifications: "新消息通知",
    notify_preview: "显示消息内容",
    notify_sound: "声音提醒",
    notify_unavailable: "此桌面无法显示通知",
    notify_no_bus: "没有可显示通知的桌面会话。",
    notify_no_service: "此桌面没有运行通知服务。",
    tray_open: "打开 Ququ",
    tray_dnd: "请勿打扰",
    tray_invisible: "隐身（此服务器不支持）",
    tray_quit: "退出 Ququ",
    tray_logged_out: "未登录",
    tray_unread: "{n} 条未读消息",
    tray_no_host: "此桌面不显示托盘图标：关闭好友列表将退出 Ququ。",
    tray_unsupported: "此系统暂无托盘图标：关闭好友列表将退出 Ququ。",
    tray_hidden_title: "Ququ 仍在运行",
    tray_hidden_text: "关闭好友列表后，Ququ 隐藏在托盘中：仍会收到消息并弹出通知。点击托盘图标可再次打开；退出在它的菜单里。",
    tray_keep_running: "隐藏到托盘",
    notify_unsupported: "此系统暂不弹出通知，改由程序坞提醒。",
    file_sent: "已发送",
    file_delivered: "对方已接收",
    file_offered: "未下载",
    file_saved: "已下载",
    file_rejected_by_peer: "对方已拒收",
    file_rejected: "已拒收",
    file_cancelled: "已取消",
    file_expired: "已过期",
    file_failed: "传输失败",
    pause: "暂停",
    resume: "继续",
    download: "下载",
    save_as: "另存为…",
    open: "打开",
    show_in_folder: "打开文件夹",
    file_unreadable: "无法读取这个文件。",
    cannot_open: "无法打开。",
    about: "关于 Ququ",
    about_summary: "QQ 风格的即时通讯，服务器由你自己掌握。",
    data_places: "数据保存位置",
    place_history: "聊天记录",
    place_downloads: "下载的文件",
    place_server: "本机服务器",
    about_license: "自由软件，以 MIT 或 Apache-2.0 许可证发布。字体：Noto Sans CJK SC（SIL 开放字体许可证）；表情：Twitter 的 Twemoji（CC-BY 4.0），由 Mozilla 制成字体。",
    emoji: "表情",
    copy: "复制",
    no_recent_emoji: "最近使用的表情会显示在这里",
    reply: "回复",
    recall: "撤回",
    recall_not_mine: "只能撤回自己的消息",
    server_cannot: "此服务器不支持",
    recall_not_sent: "尚未发送",
    recall_gone: "这条消息已被撤回。",
    quote_recalled: "原消息已撤回",
    mention_me: "[有人@我]",
    typing: "对方正在输入…",
    mention_all: "全体成员",
    forward: "转发",
    forward_to: "转发给",
    download_first: "请先下载",
    delete_for_me: "删除（仅自己）",
    copy_failed: "无法复制图片",
    auto_pictures: "自动下载不超过此大小的图片",
    auto_pictures_off: "从不",
    clipboard_failed: "无法粘贴剪贴板中的图片。",
    fit: "适合窗口",
    actual_size: "1:1",
    zoom_in: "放大",
    zoom_out: "缩小",
    copied: "已复制到剪贴板。",
    picture_loading: "正在加载图片…",
    picture_unreadable: "无法显示这张图片。",
    gif_first_frame: "动态 GIF：只显示第一帧。",
    history: "消息记录",
    history_all: "全部聊天",
    history_search_hint: "搜索消息和文件名",
    history_from: "起始日期 年-月-日",
    history_to: "截止日期 年-月-日",
    history_bad_date: "日期请写成 2026-12-06 这样。",
    history_searching: "正在搜索…",
    history_nothing: "没有找到相关消息。",
    history_empty: "这里没有消息。",
    history_type_to_search: "输入关键词，搜索全部聊天记录。",
    export_text: "导出为文本",
    export_html: "导出为网页",
    export_failed: "聊天记录导出失败",
};

/// The server's refusal in words the user understands. `text` is the server's own words, shown only for a
/// code this build does not know (a newer server's).
pub fn error_words(lang: Lang, code: &ququ_protocol::ErrorCode, text: &str) -> String {
    use ququ_protocol::ErrorCode;
    match code {
        ErrorCode::Other(_) if text.is_empty() => lang.tr().server_error.to_owned(),
        ErrorCode::Other(_) => format!("{} ({text})", lang.tr().server_error),
        known => lang.refusal(known),
    }
}

impl Lang {
    /// Every code the server can refuse with, in words. No wildcard: a new code does not compile until
    /// it is worded (and `every_refusal_has_words` checks that each says something of its own).
    pub fn refusal(self, code: &ququ_protocol::ErrorCode) -> String {
        use ququ_protocol::ErrorCode as E;
        let tr = self.tr();
        let zh = self == Lang::Zh;
        let pick = |en: &'static str, zh_words: &'static str| if zh { zh_words } else { en };
        match code {
            E::BadCredentials | E::BadToken => tr.wrong_password,
            E::AccountTaken => tr.account_taken,
            E::InvalidAccount => tr.invalid_account,
            E::InvalidPassword => tr.invalid_password,
            E::Disabled => tr.disabled,
            E::PasswordChanged => tr.password_changed,
            E::Busy => tr.server_busy,
            E::RateLimited => tr.rate_limited,
            E::NoSuchGroup => tr.no_such_group,
            E::InviteOnly => tr.invite_only,
            E::Removed => tr.removed_from_group,
            E::AlreadyMember => tr.already_member,
            E::NotFriends => tr.not_friends,
            E::NoSuchMessage => tr.recall_gone,
            E::BadRequest => pick(
                "The server could not accept that as it was.",
                "服务器无法接受这个请求。",
            ),
            E::UnknownVerb => pick(
                "This server is older than the app and cannot do that.",
                "服务器版本较旧，不支持此操作。",
            ),
            E::LineTooLong => pick("That is too long to send.", "内容过长，无法发送。"),
            E::NotLoggedIn => pick("You are not logged in.", "尚未登录。"),
            E::AlreadyLoggedIn => pick("You are logged in already.", "已经登录。"),
            E::NoSuchUser => pick("There is no such account.", "没有这个账号。"),
            E::NoSuchFile => pick(
                "That file is no longer on the server.",
                "文件已不在服务器上。",
            ),
            E::AlreadyFriends => pick("You are friends already.", "你们已经是好友了。"),
            E::NoRequest => pick(
                "That request has been answered already.",
                "该申请已被处理。",
            ),
            E::SelfRequest => pick("You cannot add yourself.", "不能添加自己为好友。"),
            E::NotMember => pick("You are not in this group.", "你不在这个群中。"),
            E::NotOwner => pick(
                "Only the group's owner can do that.",
                "只有群主可以这样做。",
            ),
            E::OwnerCannotLeave => tr.owner_cannot_leave,
            E::Forbidden => pick("You may not do that.", "你没有权限这样做。"),
            E::TooLong => pick(
                "That is longer than the server allows.",
                "内容超过服务器允许的长度。",
            ),
            E::TooMany => pick(
                "A limit was reached (friends, group members or groups).",
                "已达到上限（好友、群成员或群数量）。",
            ),
            E::TooLarge => pick(
                "That file is larger than the server allows.",
                "文件超过服务器允许的大小。",
            ),
            E::QuotaExceeded => pick(
                "Your space on the server is used up for now.",
                "你在服务器上的额度已用完。",
            ),
            E::SlowReader => pick(
                "The connection was too slow and was closed.",
                "连接太慢，已被断开。",
            ),
            E::Timeout => pick("The connection timed out.", "连接超时。"),
            E::Shutdown => pick("The server is shutting down.", "服务器正在关闭。"),
            E::LoggedOut => pick("Logged out.", "已退出登录。"),
            E::Internal => pick("The server failed; try again.", "服务器出错，请重试。"),
            E::Unavailable => pick(
                "The server cannot reach its database just now; try again in a moment.",
                "服务器暂时连不上数据库，请稍后再试。",
            ),
            E::StorageFull => pick(
                "The server's disk is full: nothing was stored. Try again later.",
                "服务器磁盘已满，未能保存，请稍后再试。",
            ),
            E::TooLate => pick(
                "It is too late to recall that message.",
                "已超过可撤回的时间。",
            ),
            E::Muted => pick("You are muted in this group.", "你已被禁言。"),
            E::NoSuchCategory => pick(
                "That friend group is gone (deleted on another device?).",
                "该分组已不存在（可能已在其他设备上删除）。",
            ),
            E::CategoryExists => pick(
                "You have a friend group with that name already.",
                "已有同名的分组。",
            ),
            E::Other(_) => tr.server_error,
        }
        .to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code the server can send has words of its own in both languages: none falls back to the
    /// general "the server failed", and no two codes read the same (but the login pair, which mean the
    /// same to a person).
    #[test]
    fn every_refusal_has_words() {
        use ququ_protocol::ErrorCode;
        for lang in Lang::ALL {
            let general = lang.tr().server_error;
            let mut seen = std::collections::HashMap::new();
            for code in ErrorCode::ALL {
                let words = lang.refusal(code);
                assert!(!words.trim().is_empty(), "{code} in {lang:?}");
                assert_ne!(words, general, "{code} in {lang:?} has no words of its own");
                if let Some(other) = seen.insert(words.clone(), code.clone()) {
                    let pair = [other.as_str(), code.as_str()];
                    assert!(
                        pair == ["bad_credentials", "bad_token"],
                        "{pair:?} read the same in {lang:?}: {words}"
                    );
                }
            }
            // A newer server's code: its own text, behind the general words.
            let newer = ErrorCode::parse("flux_capacitor");
            assert!(error_words(lang, &newer, "out of flux").contains("out of flux"));
        }
    }

    #[test]
    fn locale_picks_language() {
        assert_eq!(Lang::from_locale("zh-CN"), Lang::Zh);
        assert_eq!(Lang::from_locale("zh_TW.UTF-8"), Lang::Zh);
        assert_eq!(Lang::from_locale("en-US"), Lang::En);
        assert_eq!(Lang::from_locale("de"), Lang::En);
        assert_eq!(Lang::from_locale(""), Lang::En);
    }
}
