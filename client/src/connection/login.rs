//! Login and the account: register, resume with the token or log in with the password, what a refusal
//! means (stop, or retry later), `BYE:`, and what follows a login (sync, the outbox, the lists, transfers).

use std::time::Instant;

use ququ_protocol::{ClientMessage, ErrorCode, Limits, ServerMessage};

use super::pace::Pacer;
use super::{ConnectionError, End, Link, Session};
use crate::event::{Event, StopReason};
use crate::storage::LastLogin;

/// Where the login on the current connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Auth {
    Registering,
    Resuming,
    /// `after_taken`: registration said `account_taken`, so a refused password means someone else's account.
    LoggingIn {
        after_taken: bool,
    },
    Ready,
    LoggingOut,
}

impl Session {
    pub(super) async fn start_login(&mut self, link: &mut Link) -> Result<(), End> {
        link.deadline = Some(Instant::now() + self.config.timing.connect_timeout);
        // Answered before the login reply: `FEATURES:`, or `ERROR:unknown_verb` from an older server.
        link.send(&ClientMessage::Features {
            features: super::said::ASKED,
        })
        .await?;
        if !self.registered {
            link.auth = Auth::Registering;
            link.send(&ClientMessage::Register {
                account: self.config.account.clone(),
                password: self.config.password.clone(),
                nickname: self.config.nickname.clone(),
            })
            .await?;
        } else if let Some(token) = self.token.clone() {
            link.auth = Auth::Resuming;
            link.send(&ClientMessage::Resume {
                account: self.me.clone(),
                token,
            })
            .await?;
        } else {
            self.send_login(link, false).await?;
        }
        Ok(())
    }

    async fn send_login(&mut self, link: &mut Link, after_taken: bool) -> Result<(), End> {
        link.auth = Auth::LoggingIn { after_taken };
        link.send(&ClientMessage::Login {
            account: self.config.account.clone(),
            password: self.config.password.clone(),
        })
        .await?;
        Ok(())
    }

    /// Login refusals that no retry can fix stop the client; the rest (busy, rate limited, internal) retry.
    fn login_refused(code: ErrorCode, text: String) -> End {
        match code {
            ErrorCode::BadCredentials
            | ErrorCode::Disabled
            | ErrorCode::InvalidAccount
            | ErrorCode::InvalidPassword
            | ErrorCode::NoSuchUser => End::Stop(StopReason::LoginRefused { code, text }),
            code => ConnectionError::LoginDeferred { code, text }.into(),
        }
    }

    /// The login lines (`RESIGER:`, `LOGIN:`, `BYE:`) and my own profile. A registration or login reply
    /// that comes when none is awaited is ignored.
    pub(super) async fn on_login_line(
        &mut self,
        link: &mut Link,
        msg: ServerMessage,
    ) -> Result<(), End> {
        use ServerMessage as S;
        match msg {
            S::RegisterOk { account } if link.auth == Auth::Registering => {
                self.registered = true;
                self.emit(Event::Registered { account });
                self.send_login(link, false).await?;
            }
            S::RegisterFailed { code, text } if link.auth == Auth::Registering => match code {
                ErrorCode::AccountTaken => {
                    // Perhaps ours, from an attempt whose reply was lost: the password decides.
                    self.registered = true;
                    self.send_login(link, true).await?;
                }
                ErrorCode::InvalidAccount | ErrorCode::InvalidPassword | ErrorCode::Disabled => {
                    return Err(End::Stop(StopReason::RegisterRefused { code, text }));
                }
                code => return Err(ConnectionError::LoginDeferred { code, text }.into()),
            },
            S::LoginFailed { code, text } => match link.auth {
                Auth::Resuming => {
                    // The token expired or was revoked: fall back to the password on the same connection,
                    // or, started from a saved token with no password, stop and say so: an empty
                    // password would only be refused (and counted against this address).
                    self.token = None;
                    if self.config.password.is_empty() {
                        return Err(End::Stop(StopReason::SessionExpired));
                    }
                    self.send_login(link, false).await?;
                }
                Auth::LoggingIn { after_taken } => {
                    if after_taken && code == ErrorCode::BadCredentials {
                        return Err(End::Stop(StopReason::RegisterRefused {
                            code: ErrorCode::AccountTaken,
                            text: "the account name is taken".into(),
                        }));
                    }
                    return Err(Self::login_refused(code, text));
                }
                _ => tracing::warn!("unexpected login reply"),
            },
            S::LoginOk {
                user_id,
                account,
                nickname,
                token,
                limits,
            } if matches!(link.auth, Auth::Resuming | Auth::LoggingIn { .. }) => {
                self.on_logged_in(link, user_id, account, nickname, token, limits)
                    .await?;
            }
            S::Bye { code, text } => {
                if link.auth == Auth::LoggingOut || code == ErrorCode::LoggedOut {
                    return Err(End::Stop(StopReason::LoggedOut));
                }
                // The account was disabled, or its password changed elsewhere (this device's token is
                // revoked and its password is the old one): reconnecting cannot help, so stop and say
                // why rather than loop on a refused login.
                if matches!(code, ErrorCode::Disabled | ErrorCode::PasswordChanged) {
                    return Err(End::Stop(StopReason::LoginRefused { code, text }));
                }
                return Err(ConnectionError::Bye { code, text }.into());
            }
            S::Profile {
                account,
                nickname,
                profile,
            } => {
                if account == self.me {
                    self.emit(Event::Profile { nickname });
                    if let Some(profile) = profile {
                        self.emit(Event::MyProfile(profile));
                    }
                } else if let Some(profile) = profile {
                    // A friend's or fellow member's change (or an answer about anyone): a friend kept
                    // locally is updated, so the list shown offline has it too.
                    let (a, n, p) = (account.clone(), nickname.clone(), profile.clone());
                    self.store
                        .call(move |s| s.set_contact_profile(&a, &n, &p))
                        .await?;
                    self.emit(Event::UserProfile {
                        account,
                        nickname,
                        profile,
                    });
                }
            }
            // A registration or login reply that nothing waits for (the router sends only these lines).
            _ => tracing::debug!("ignoring a line this client does not use"),
        }
        Ok(())
    }

    async fn on_logged_in(
        &mut self,
        link: &mut Link,
        user_id: u64,
        account: String,
        nickname: String,
        token: String,
        limits: Limits,
    ) -> Result<(), End> {
        link.auth = Auth::Ready;
        link.deadline = None;
        self.me = account.clone();
        if !token.is_empty() {
            self.token = Some(token);
        }
        self.limits = limits;
        self.backoff.reset();
        let login = LastLogin {
            server: self.config.server.clone(),
            account: account.clone(),
        };
        let dir = self.data_dir.clone();
        // Only prefills a login form: not worth stopping the client over.
        if let Err(e) = self
            .store
            .call(move |_| crate::storage::save_last_login(&dir, &login))
            .await
        {
            tracing::warn!("cannot save the last login: {e}");
        }
        self.emit(Event::LoggedIn {
            account,
            nickname,
            user_id,
            limits,
            token: self.token.clone().map(crate::SessionToken::new),
            features: link.said.granted.features(),
        });

        // Catch up first, so that what arrived while away is stored before anything new happens.
        let cursor = self.store.call(|s| s.sync_cursor()).await?;
        link.synced_to = cursor;
        self.send_sync(link, cursor).await?;
        // Then the outbox, oldest first; the server drops the ones it already has by client id and ACKs them.
        link.pace = Pacer::new(self.limits.rate, Instant::now());
        let pending = self.store.call(|s| s.pending()).await?;
        for m in &pending {
            self.outbox_push(link, m).await?;
        }
        for line in link.pace.ready(Instant::now()) {
            link.feed(&line).await?;
        }
        // My friend groups before my friends, so a friend's group is known when the list shows them.
        if link.said.granted.features().category {
            link.expect_reply(&ClientMessage::ListCategories);
            link.feed(&ClientMessage::ListCategories).await?;
        }
        for request in [
            ClientMessage::ListFriends,
            ClientMessage::ListRequests,
            ClientMessage::ListGroups,
        ] {
            link.expect_reply(&request);
            link.feed(&request).await?;
        }
        // Requests to join my groups wait on the server like friend requests; a server that grants the
        // group features knows the verb (an older one would answer `bad_request`).
        if link.said.granted.features().group_mute {
            link.feed(&ClientMessage::ListJoinRequests).await?;
        }
        // My own signature, gender and region, and whom I block, from a server that knows them.
        if link.said.granted.features().profile {
            link.feed(&ClientMessage::GetProfile { account: None })
                .await?;
        }
        if link.said.granted.features().block {
            link.expect_reply(&ClientMessage::ListBlocks);
            link.feed(&ClientMessage::ListBlocks).await?;
        }
        while let Some(request) = self.queued.pop_front() {
            if let ClientMessage::Recall { id } = request {
                self.feed_recall(link, id).await?;
                continue;
            }
            link.expect_reply(&request);
            link.feed(&request).await?;
        }
        // Unfinished transfers: offered or accepted again, so each resumes where the bytes stopped.
        self.resume_transfers(link).await?;
        link.flush().await?;
        Ok(())
    }
}
