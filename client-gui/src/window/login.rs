//! The login window: account, password (masked), server address, Log in / Register.
//!
//! Empty or malformed fields are refused here, before anything is sent. The window shows what the app
//! tells it (connecting, the server's refusal in words, the offer to host a server, an automatic login
//! under way) but never talks to the network itself. "Log in automatically" is a box here; where the
//! login is then kept is said under it, in words.

use iced::widget::{button, checkbox, column, container, operation, row, space, text, text_input};
use iced::{Center, Element, Fill, Task};

use crate::config;
use crate::i18n::Lang;
use crate::widget::Ctx;
use crate::{avatar, theme};

pub const ACCOUNT_INPUT: &str = "login-account";
pub const PASSWORD_INPUT: &str = "login-password";

/// Whether the form logs in or creates an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Login,
    Register,
}

/// What the window says under the form.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Status {
    #[default]
    Idle,
    /// Working: the text says on what ("Connecting…").
    Busy(String),
    /// Logging in with the saved token, no typing: the window offers Cancel instead of Log in.
    AutoLogin,
    Error(String),
}

#[derive(Debug, Clone, Default)]
pub struct State {
    pub account: String,
    pub password: String,
    pub server: String,
    pub nickname: String,
    pub mode: Mode,
    pub status: Status,
    /// Nothing listens at the (local) server address: offer to host one.
    pub offer_host: bool,
    /// Connect with TLS.
    pub tls: bool,
    /// The server showed a certificate not seen before: ask whether to trust it.
    pub trust: Option<Unknown>,
    /// "Log in automatically" is ticked.
    pub remember: bool,
}

/// A certificate waiting for the user's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown {
    pub server: String,
    pub fingerprint: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    AccountChanged(String),
    PasswordChanged(String),
    ServerChanged(String),
    NicknameChanged(String),
    Submit,
    ToggleMode,
    HostServer,
    DismissOffer,
    TlsToggled(bool),
    RememberToggled(bool),
    /// Stop the automatic login and show the form.
    CancelAuto,
    Trust,
    DismissTrust,
}

/// What the window asks of the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Submit {
        account: String,
        password: String,
        server: String,
        register: bool,
        nickname: Option<String>,
        tls: bool,
        /// Log in automatically next time.
        remember: bool,
    },
    /// The automatic login was cancelled: stop it, keep the saved login for next time.
    CancelAuto,
    /// The box was ticked or cleared (cleared: forget a saved login).
    Remember(bool),
    /// The user compared the fingerprint and trusts it: pin it, then submit again.
    Trust(Unknown),
    HostServer {
        server: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("empty account")]
    EmptyAccount,
    #[error("empty password")]
    EmptyPassword,
    #[error("empty server")]
    EmptyServer,
    #[error("malformed server address")]
    BadServer,
}

impl State {
    pub fn new(server: String, account: String) -> Self {
        State {
            server,
            account,
            ..State::default()
        }
    }

    /// Checks the form; the first problem wins, in the order the fields appear.
    pub fn validate(&self) -> Result<(), FormError> {
        if self.account.trim().is_empty() {
            Err(FormError::EmptyAccount)
        } else if self.password.is_empty() {
            Err(FormError::EmptyPassword)
        } else if self.server.trim().is_empty() {
            Err(FormError::EmptyServer)
        } else if !config::valid_server(&self.server) {
            Err(FormError::BadServer)
        } else {
            Ok(())
        }
    }

    pub fn busy(&self) -> bool {
        matches!(self.status, Status::Busy(_) | Status::AutoLogin)
    }

    /// Focus the first empty field: the account if unknown, else the password.
    pub fn focus_first(&self) -> Task<Message> {
        if self.account.is_empty() {
            operation::focus(ACCOUNT_INPUT)
        } else {
            operation::focus(PASSWORD_INPUT)
        }
    }

    pub fn update(&mut self, message: Message, lang: Lang) -> Option<Event> {
        let tr = lang.tr();
        match message {
            Message::AccountChanged(v) => self.account = v,
            Message::PasswordChanged(v) => self.password = v,
            Message::ServerChanged(v) => {
                self.server = v;
                self.offer_host = false;
            }
            Message::NicknameChanged(v) => self.nickname = v,
            Message::ToggleMode => {
                self.mode = match self.mode {
                    Mode::Login => Mode::Register,
                    Mode::Register => Mode::Login,
                };
                self.status = Status::Idle;
            }
            Message::DismissOffer => self.offer_host = false,
            Message::TlsToggled(on) => {
                self.tls = on;
                self.trust = None;
            }
            Message::RememberToggled(on) => {
                self.remember = on;
                return Some(Event::Remember(on));
            }
            Message::CancelAuto => {
                if self.status == Status::AutoLogin {
                    self.status = Status::Idle;
                    return Some(Event::CancelAuto);
                }
            }
            Message::DismissTrust => self.trust = None,
            Message::Trust => return self.trust.take().map(Event::Trust),
            Message::HostServer => {
                self.offer_host = false;
                return Some(Event::HostServer {
                    server: self.server.trim().to_owned(),
                });
            }
            Message::Submit => {
                if self.busy() {
                    return None;
                }
                if let Err(e) = self.validate() {
                    self.status = Status::Error(
                        match e {
                            FormError::EmptyAccount => tr.empty_account,
                            FormError::EmptyPassword => tr.empty_password,
                            FormError::EmptyServer => tr.empty_server,
                            FormError::BadServer => tr.bad_server,
                        }
                        .to_owned(),
                    );
                    return None;
                }
                self.offer_host = false;
                self.trust = None;
                self.status = Status::Busy(tr.connecting.to_owned());
                let nickname = self.nickname.trim();
                return Some(Event::Submit {
                    account: self.account.trim().to_owned(),
                    password: self.password.clone(),
                    server: self.server.trim().to_owned(),
                    register: self.mode == Mode::Register,
                    nickname: (self.mode == Mode::Register && !nickname.is_empty())
                        .then(|| nickname.to_owned()),
                    tls: self.tls,
                    remember: self.remember,
                });
            }
        }
        None
    }

    pub fn view<'a>(&'a self, ctx: &Ctx<'a>) -> Element<'a, Message> {
        let tr = ctx.tr();
        let register = self.mode == Mode::Register;

        // The blue band with the app's name and the avatar of whoever is typed in, as QQ's login does.
        let name = if self.account.trim().is_empty() {
            tr.app_name
        } else {
            self.account.trim()
        };
        let header = container(
            column![
                avatar::view(name, self.account.trim(), None, 64.0),
                text(tr.app_name).size(22),
            ]
            .spacing(8)
            .align_x(Center),
        )
        .width(Fill)
        .padding([22, 0])
        .align_x(Center)
        .style(theme::header);

        let input = |placeholder: &str, value: &'a str| {
            text_input(placeholder, value)
                .padding(10)
                .size(15)
                .style(theme::field)
                .on_submit(Message::Submit)
        };
        let mut form = column![
            input(tr.account, &self.account)
                .id(ACCOUNT_INPUT)
                .on_input(Message::AccountChanged),
            input(tr.password, &self.password)
                .id(PASSWORD_INPUT)
                .secure(true)
                // The shipped CJK font draws the mask's bullet full-width, which spaces the dots far apart;
                // the system's sans-serif has a narrow one (and falls back to ours for the placeholder).
                .font(iced::Font::DEFAULT)
                .on_input(Message::PasswordChanged),
        ]
        .spacing(10);
        if register {
            form = form.push(
                input(tr.nickname_optional, &self.nickname).on_input(Message::NicknameChanged),
            );
        }
        form = form.push(input(tr.server, &self.server).on_input(Message::ServerChanged));
        form = form.push(
            checkbox(self.tls)
                .label(tr.use_tls)
                .size(16)
                .text_size(13)
                .on_toggle_maybe((!self.busy()).then_some(Message::TlsToggled)),
        );
        form = form.push(
            checkbox(self.remember)
                .label(tr.auto_login)
                .size(16)
                .text_size(13)
                .on_toggle_maybe((!self.busy()).then_some(Message::RememberToggled)),
        );
        // Where the login will be kept, said before it is: the user ticks the box knowing.
        if self.remember
            && let Some(place) = ctx.token_place
        {
            form = form.push(
                text(place.words(ctx.lang))
                    .size(12)
                    .style(theme::muted_text),
            );
        }

        let submit_label = if register { tr.register } else { tr.log_in };
        let submit = if self.status == Status::AutoLogin {
            button(text(tr.cancel).size(15).width(Fill).align_x(Center))
                .padding(10)
                .width(Fill)
                .style(theme::secondary_button)
                .on_press(Message::CancelAuto)
        } else {
            button(text(submit_label).size(15).width(Fill).align_x(Center))
                .padding(10)
                .width(Fill)
                .style(theme::primary_button)
                .on_press_maybe((!self.busy()).then_some(Message::Submit))
        };
        let toggle = button(
            text(if register {
                tr.have_account
            } else {
                tr.need_account
            })
            .size(13),
        )
        .style(theme::link)
        .padding(0)
        .on_press_maybe((!self.busy()).then_some(Message::ToggleMode));

        let status: Element<'a, Message> = match &self.status {
            Status::Idle => space().height(18).into(),
            Status::Busy(what) => text(what.as_str()).size(13).style(theme::muted_text).into(),
            Status::AutoLogin => text(tr.logging_in_automatically)
                .size(13)
                .style(theme::muted_text)
                .into(),
            Status::Error(what) => text(what.as_str()).size(13).style(theme::error_text).into(),
        };

        let mut body = column![form, status, submit, row![space().width(Fill), toggle]].spacing(12);
        if self.offer_host {
            body = body.push(question(
                ctx.lang.no_server_here(self.server.trim()),
                tr.cancel,
                Message::DismissOffer,
                tr.host_server,
                Message::HostServer,
            ));
        }
        if let Some(unknown) = &self.trust {
            // The question replaces the form until it is answered: the window is small, and nothing else
            // should be clicked meanwhile. Four rows of eight pairs line up for comparing by eye.
            let pairs: Vec<&str> = unknown.fingerprint.split(':').collect();
            let laid_out = pairs
                .chunks(8)
                .map(|c| c.join(":"))
                .collect::<Vec<_>>()
                .join("\n");
            body = column![question(
                ctx.lang.trust_server(&unknown.server, &laid_out),
                tr.cancel,
                Message::DismissTrust,
                tr.trust_and_log_in,
                Message::Trust,
            )];
        }

        column![
            header,
            container(body).padding([18, 28]).height(Fill),
            crate::widget::status_bar(ctx),
        ]
        .into()
    }
}

/// A card with a question and two answers, the second one the primary action.
fn question<'a>(
    words: String,
    no: &'a str,
    on_no: Message,
    yes: &'a str,
    on_yes: Message,
) -> Element<'a, Message> {
    container(
        column![
            text(words).size(13),
            row![
                space().width(Fill),
                button(text(no).size(13))
                    .style(theme::secondary_button)
                    .on_press(on_no),
                button(text(yes).size(13))
                    .style(theme::primary_button)
                    .on_press(on_yes),
            ]
            .spacing(8)
        ]
        .spacing(10),
    )
    .padding(10)
    .style(theme::card)
    .into()
}
