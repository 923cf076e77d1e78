//! The history window (消息记录): one chat's history, or all of them, searched and read from this
//! device's store.
//!
//! Opened from a chat's toolbar (or Ctrl+F there) on that chat, or from the friend list's menu on all
//! chats. Typing searches as you type, the client's full-text index (Chinese words of any length, file
//! names); the dates keep it to a span ("from" a day, "to" a day, both included). With no words it
//! reads the chat instead: its latest messages, or the first from the "from" day on. A result shows who
//! and when, its conversation when searching all, and its text around the first match with the words
//! marked; clicking it opens the chat at that message. Export writes the chat as text or a web page into
//! the Downloads folder and says where.
//!
//! The store is the app's to ask ([`Event::Find`]); each question is numbered and an answer to an older
//! one is dropped, so typing fast never shows the results of a word already changed.

use iced::widget::{
    button, column, container, pick_list, rich_text, row, scrollable, space, span, text, text_input,
};
use iced::{Center, Element, Fill};
use ququ_client::SearchFilter;
use ququ_client::storage::fold;
use ququ_protocol::Conv;

use crate::export::Format;
use crate::model::{Line, day_start, format_date_time, local_offset_minutes};
use crate::theme;
use crate::widget::Ctx;

/// How many results a search shows (the newest), and how many messages reading a chat lists.
pub const LIMIT: u32 = 200;
/// A result's text is cut around its first match to about this many characters.
const SNIPPET: usize = 90;

#[derive(Debug)]
pub struct State {
    /// The chat it was opened on, offered as a scope beside "all chats".
    pub home: Option<Conv>,
    /// What is searched: `home`, or all chats.
    pub scope: Option<Conv>,
    query: String,
    from: String,
    to: String,
    /// The number of the last question asked; answers carry theirs.
    asked: u64,
    results: Results,
    /// What the last export did.
    notice: Option<Result<String, String>>,
}

#[derive(Debug)]
enum Results {
    /// Nothing asked (all chats, no words).
    Idle,
    Waiting,
    Found {
        searched: bool,
        lines: Vec<(Conv, Line)>,
    },
    Failed(String),
}

/// The scope list's entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub conv: Option<Conv>,
    label: String,
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label)
    }
}

#[derive(Debug, Clone)]
pub enum Message {
    Query(String),
    From(String),
    To(String),
    Scope(Scope),
    /// The store's answer to question `n`: messages and their conversations.
    Found(u64, Result<Vec<ququ_client::Message>, String>),
    /// A result was clicked: its conversation and server id.
    Open(Conv, Option<u64>),
    Export(Format),
    /// Where the export went, or why it failed.
    Exported(Result<String, String>),
    Close,
}

/// What the window asks of the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Search the store (or, with no words, read `filter.conv`), and answer with [`Message::Found`]`(asked, …)`.
    Find {
        asked: u64,
        query: String,
        filter: SearchFilter,
    },
    /// Open this chat at this message (its server id; `None` for one not sent yet).
    Open {
        conv: Conv,
        server_id: Option<u64>,
    },
    Export {
        conv: Conv,
        format: Format,
    },
    Close,
}

impl State {
    /// The window on `home` (a chat) or on all chats, and the first question to ask.
    pub fn new(home: Option<Conv>) -> (State, Option<Event>) {
        let mut state = State {
            scope: home.clone(),
            home,
            query: String::new(),
            from: String::new(),
            to: String::new(),
            asked: 0,
            results: Results::Idle,
            notice: None,
        };
        let ask = state.ask();
        (state, ask)
    }

    pub fn search_id() -> iced::widget::Id {
        iced::widget::Id::new("history-search")
    }

    /// The date fields, "from" and "to".
    pub fn from_id() -> iced::widget::Id {
        iced::widget::Id::new("history-from")
    }

    pub fn to_id() -> iced::widget::Id {
        iced::widget::Id::new("history-to")
    }

    /// A result, by its message's client id (for finding it on screen).
    pub fn result_id(client_id: &str) -> iced::widget::Id {
        iced::widget::Id::from(format!("history-result-{client_id}"))
    }

    /// The span the date fields give, or `None` if one of them is not a date.
    fn filter(&self) -> Option<SearchFilter> {
        let offset = local_offset_minutes();
        let day = |written: &str, next| match written.trim() {
            "" => Some(None),
            w => day_start(w, offset, next).map(Some),
        };
        Some(SearchFilter {
            conv: self.scope.clone(),
            since: day(&self.from, false)?,
            until: day(&self.to, true)?,
        })
    }

    fn bad_date(&self) -> bool {
        self.filter().is_none()
    }

    /// The question for what the fields say now, if there is one to ask.
    fn ask(&mut self) -> Option<Event> {
        let filter = self.filter()?;
        if self.query.trim().is_empty() && filter.conv.is_none() {
            self.results = Results::Idle;
            return None;
        }
        self.asked += 1;
        self.results = Results::Waiting;
        Some(Event::Find {
            asked: self.asked,
            query: self.query.clone(),
            filter,
        })
    }

    pub fn update(&mut self, message: Message) -> Option<Event> {
        match message {
            Message::Query(q) => {
                self.query = q;
                self.ask()
            }
            Message::From(d) => {
                self.from = d;
                self.ask()
            }
            Message::To(d) => {
                self.to = d;
                self.ask()
            }
            Message::Scope(scope) => {
                self.scope = scope.conv;
                self.ask()
            }
            Message::Found(n, _) if n != self.asked => None,
            Message::Found(_, Ok(messages)) => {
                self.results = Results::Found {
                    searched: !self.query.trim().is_empty(),
                    lines: messages
                        .into_iter()
                        .map(|m| (m.conv.clone(), crate::model::line_from(m)))
                        .collect(),
                };
                None
            }
            Message::Found(_, Err(e)) => {
                self.results = Results::Failed(e);
                None
            }
            Message::Open(conv, server_id) => Some(Event::Open { conv, server_id }),
            Message::Export(format) => {
                self.notice = None;
                self.scope
                    .clone()
                    .map(|conv| Event::Export { conv, format })
            }
            Message::Exported(done) => {
                self.notice = Some(done);
                None
            }
            Message::Close => Some(Event::Close),
        }
    }

    /// The results shown, as (conversation, server id, text) — for tests.
    pub fn shown(&self) -> Vec<(Conv, Option<u64>, String)> {
        match &self.results {
            Results::Found { lines, .. } => lines
                .iter()
                .map(|(c, l)| (c.clone(), l.id, l.text.clone()))
                .collect(),
            _ => Vec::new(),
        }
    }

    pub fn view<'a>(&'a self, ctx: &Ctx<'a>) -> Element<'a, Message> {
        let tr = ctx.tr();
        let Some(model) = ctx.model else {
            return space().into();
        };
        let mut scopes = vec![Scope {
            conv: None,
            label: tr.history_all.to_owned(),
        }];
        if let Some(home) = &self.home {
            scopes.insert(
                0,
                Scope {
                    conv: Some(home.clone()),
                    label: model.conv_name(home),
                },
            );
        }
        let chosen = scopes.iter().find(|s| s.conv == self.scope).cloned();
        let search = text_input(tr.history_search_hint, &self.query)
            .id(Self::search_id())
            .on_input(Message::Query)
            .padding(8)
            .size(14)
            .style(theme::field);
        let top = row![]
            .push(self.home.is_some().then(|| {
                pick_list(scopes, chosen, Message::Scope)
                    .text_size(13)
                    .padding([7, 10])
                    .style(theme::pick_list)
            }))
            .push(search)
            .spacing(8)
            .align_y(Center);
        let date = |hint: &'a str, value: &'a str, on: fn(String) -> Message, id| {
            text_input(hint, value)
                .id(id)
                .on_input(on)
                .padding(6)
                .size(13)
                .width(150)
                .style(theme::field)
        };
        let exporting = self.scope.is_some();
        let export = |label: &'a str, format| {
            button(text(label).size(12))
                .padding([5, 10])
                .style(theme::secondary_button)
                .on_press(Message::Export(format))
        };
        let dates = row![
            date(tr.history_from, &self.from, Message::From, Self::from_id()),
            text("—").size(13).style(theme::muted_text),
            date(tr.history_to, &self.to, Message::To, Self::to_id()),
        ]
        .spacing(8)
        .align_y(Center);

        let status: String = if self.bad_date() {
            tr.history_bad_date.to_owned()
        } else {
            match &self.results {
                Results::Idle => tr.history_type_to_search.to_owned(),
                Results::Waiting => tr.history_searching.to_owned(),
                Results::Failed(e) => e.clone(),
                Results::Found { lines, .. } if lines.is_empty() => {
                    if self.query.trim().is_empty() {
                        tr.history_empty.to_owned()
                    } else {
                        tr.history_nothing.to_owned()
                    }
                }
                Results::Found {
                    searched: true,
                    lines,
                } => ctx.lang.history_found(lines.len(), LIMIT as usize),
                Results::Found { lines, .. } => {
                    let from_day = (!self.from.trim().is_empty() && self.to.trim().is_empty())
                        .then_some(self.from.trim());
                    ctx.lang.history_listed(lines.len(), from_day)
                }
            }
        };
        let failed = self.bad_date() || matches!(self.results, Results::Failed(_));
        let status = text(status).size(12).style(if failed {
            theme::error_text
        } else {
            theme::muted_text
        });

        let terms: Vec<String> = self
            .query
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        let offset = local_offset_minutes();
        let list: Element<'a, Message> = match &self.results {
            Results::Found { lines, .. } if !lines.is_empty() => {
                let items = lines.iter().map(|(conv, line)| {
                    let group = match conv {
                        Conv::Group(g) => Some(*g),
                        Conv::User(_) => None,
                    };
                    let said = model.preview(conv, line, ctx.lang);
                    // Across all chats a result says where it was: a group by its name, a private
                    // chat of mine by whom it went to (one of theirs is said by their name already).
                    let place = match conv {
                        _ if self.scope.is_some() => None,
                        Conv::Group(_) => Some(model.conv_name(conv)),
                        Conv::User(_) if line.from == model.account => {
                            Some(format!("→ {}", model.conv_name(conv)))
                        }
                        Conv::User(_) => None,
                    };
                    let header = row![text(model.sender_name(group, &line.from)).size(13)]
                        .push(place.map(|p| text(p).size(12).style(theme::muted_text)))
                        .push(space().width(Fill))
                        .push(
                            text(format_date_time(line.time, offset))
                                .size(12)
                                .style(theme::muted_text),
                        )
                        .spacing(8)
                        .align_y(Center);
                    let body = rich_text(
                        marked(&snippet(&said, &terms, SNIPPET), &terms)
                            .into_iter()
                            .map(|(piece, hit)| {
                                if hit {
                                    span(piece).background(theme::HIT).color(theme::HIT_TEXT)
                                } else {
                                    span(piece)
                                }
                            })
                            .collect::<Vec<_>>(),
                    )
                    .size(14)
                    .on_link_click(iced::never);
                    container(
                        button(column![header, body].spacing(3))
                            .width(Fill)
                            .padding([7, 10])
                            .style(theme::list_item)
                            .on_press(Message::Open(conv.clone(), line.id)),
                    )
                    .id(Self::result_id(&line.client_id))
                    .into()
                });
                scrollable(column(items).spacing(2).padding([0, 4]))
                    .height(Fill)
                    .into()
            }
            _ => space().height(Fill).into(),
        };
        let notice: Element<'a, Message> = match &self.notice {
            Some(Ok(path)) => text(ctx.lang.exported_to(path))
                .size(12)
                .style(theme::muted_text)
                .width(Fill)
                .into(),
            Some(Err(e)) => text(format!("{} ({e})", tr.export_failed))
                .size(12)
                .style(theme::error_text)
                .width(Fill)
                .into(),
            None => space().width(Fill).into(),
        };
        // Export is for one chat: the bar is there only when the window is on one.
        let notice: Element<'a, Message> = if exporting {
            row![
                notice,
                export(tr.export_text, Format::Text),
                export(tr.export_html, Format::Html)
            ]
            .spacing(8)
            .align_y(Center)
            .into()
        } else {
            notice
        };
        container(
            column![top, dates, status, list, notice]
                .spacing(8)
                .padding(12),
        )
        .style(theme::surface)
        .width(Fill)
        .height(Fill)
        .into()
    }
}

/// Which characters of `text` are inside a match of one of `terms` (already lowercase).
fn hits(text: &[char], terms: &[String]) -> Vec<bool> {
    let folded: Vec<char> = text.iter().copied().map(fold).collect();
    let mut hit = vec![false; text.len()];
    for term in terms {
        let t: Vec<char> = term.chars().map(fold).collect();
        if t.is_empty() || t.len() > folded.len() {
            continue;
        }
        for start in 0..=folded.len() - t.len() {
            if folded[start..start + t.len()] == t[..] {
                hit[start..start + t.len()].fill(true);
            }
        }
    }
    hit
}

/// `text` as runs, each marked if it is (part of) a match of `terms`.
pub fn marked(text: &str, terms: &[String]) -> Vec<(String, bool)> {
    let chars: Vec<char> = text.chars().collect();
    let hit = hits(&chars, terms);
    let mut runs: Vec<(String, bool)> = Vec::new();
    for (c, h) in chars.into_iter().zip(hit) {
        match runs.last_mut() {
            Some((run, last)) if *last == h => run.push(c),
            _ => runs.push((c.to_string(), h)),
        }
    }
    runs
}

/// A result's text on one line, cut to about `max` characters around its first match so the match
/// shows (QQ's search shows the words in their context, not the start of a long message).
pub fn snippet(text: &str, terms: &[String], max: usize) -> String {
    let flat: Vec<char> = text
        .chars()
        .map(|c| if c == '\n' { ' ' } else { c })
        .collect();
    if flat.len() <= max {
        return flat.into_iter().collect();
    }
    let first = hits(&flat, terms).iter().position(|h| *h).unwrap_or(0);
    let start = first.saturating_sub(max / 3).min(flat.len() - max);
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.extend(&flat[start..start + max]);
    if start + max < flat.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(q: &str) -> Vec<String> {
        q.split_whitespace().map(str::to_lowercase).collect()
    }

    #[test]
    fn matches_are_marked_without_case_in_any_script() {
        assert_eq!(
            marked("明天去北京, Beijing!", &terms("北京 beiJING")),
            [
                ("明天去".to_owned(), false),
                ("北京".to_owned(), true),
                (", ".to_owned(), false),
                ("Beijing".to_owned(), true),
                ("!".to_owned(), false),
            ]
        );
        assert_eq!(
            marked("nothing", &terms("zz")),
            [("nothing".to_owned(), false)]
        );
    }

    #[test]
    fn a_long_message_is_cut_around_its_first_match() {
        let long = format!("{}关键字{}", "前".repeat(200), "后".repeat(200));
        let cut = snippet(&long, &terms("关键字"), 30);
        assert!(cut.starts_with('…') && cut.ends_with('…'), "{cut}");
        assert!(cut.contains("关键字"), "{cut}");
        assert_eq!(cut.chars().count(), 32);
        assert_eq!(snippet("短\n消息", &terms("x"), 30), "短 消息");
    }

    #[test]
    fn dates_are_days_in_the_local_zone_and_bad_ones_are_refused() {
        // 2026-12-06 00:00 in UTC+8 is 2026-12-05 16:00 UTC.
        let start = day_start("2026-12-06", 480, false).unwrap();
        assert_eq!(start, 1_796_515_200_000 - 8 * 3_600_000);
        assert_eq!(day_start(" 2026/12/6 ", 480, false), Some(start));
        assert_eq!(day_start("2026-12-06", 480, true), Some(start + 86_400_000));
        for bad in ["2026-13-01", "12/06", "昨天", "2026-02-30"] {
            assert_eq!(day_start(bad, 0, false), None, "{bad}");
        }
        let (mut state, first) = State::new(Some(Conv::User("bob".into())));
        assert!(
            matches!(first, Some(Event::Find { .. })),
            "a chat is read at once"
        );
        assert_eq!(state.update(Message::From("2026-12-3x".into())), None);
        assert!(state.bad_date());
        let Some(Event::Find { filter, .. }) = state.update(Message::From("2026-12-03".into()))
        else {
            panic!("a good date asks again");
        };
        assert!(filter.since.is_some() && filter.until.is_none());
    }

    #[test]
    fn only_the_answer_to_the_last_question_is_shown() {
        let (mut state, _) = State::new(None);
        assert!(
            state.update(Message::Query("  ".into())).is_none(),
            "all chats, no words: nothing to ask"
        );
        let ask = |state: &mut State, q: &str| match state.update(Message::Query(q.into())) {
            Some(Event::Find { asked, .. }) => asked,
            other => panic!("{other:?}"),
        };
        let first = ask(&mut state, "北");
        let second = ask(&mut state, "北京");
        let message = |id: u64, text: &str| ququ_client::Message {
            local_id: id as i64,
            conv: Conv::User("bob".into()),
            server_id: Some(id),
            client_id: format!("c{id}"),
            from: "bob".into(),
            time: 1,
            text: text.into(),
            file: None,
            state: ququ_client::MessageState::Sent,
            error: None,
            quote: None,
            mentions: Default::default(),
            recalled_by: None,
            recall_of: None,
            group_event: None,
        };
        state.update(Message::Found(second, Ok(vec![message(2, "北京")])));
        state.update(Message::Found(
            first,
            Ok(vec![message(1, "北"), message(2, "北京")]),
        ));
        assert_eq!(
            state.shown(),
            [(Conv::User("bob".into()), Some(2), "北京".to_owned())],
            "the late answer to the shorter word is dropped"
        );
    }
}
