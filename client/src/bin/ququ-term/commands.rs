//! What a typed line means: a message for the current chat, or a `/command`.

/// A typed line that cannot be understood; the text is shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("unknown command /{0} (try /help)")]
    Unknown(String),
    #[error("usage: {0}")]
    Usage(&'static str),
    #[error("`{0}` is not a group id (a number)")]
    BadGroup(String),
    #[error("`{0}` is not a number")]
    BadNumber(String),
}

/// One parsed input line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Empty,
    /// A message for the current chat.
    Text(String),
    Msg {
        user: String,
        text: Option<String>,
    },
    Group {
        id: u64,
        text: Option<String>,
    },
    Friends,
    Add {
        user: String,
        note: String,
    },
    Accept(String),
    Reject(String),
    Remark {
        user: String,
        name: String,
    },
    Del(String),
    Find(String),
    Groups,
    Create(String),
    Join(u64),
    Leave(u64),
    Members(u64),
    Invite {
        id: u64,
        user: String,
    },
    /// Who may join a group by its number: set (owner), or ask with `None`.
    Policy {
        id: u64,
        policy: Option<ququ_client::JoinPolicy>,
    },
    History(u32),
    Search(String),
    /// Send a file to the current chat.
    SendFile(String),
    /// Download a file by id, into a directory (or as a path) if given.
    Get {
        file_id: u64,
        dest: Option<String>,
    },
    /// The files offered in the current chat.
    Files,
    /// Answer message `id` (a server id, as shown `#id`), quoting it.
    Reply {
        id: u64,
        text: String,
    },
    /// Take back message `id`.
    Recall(u64),
    /// Set (or with an empty text, clear) a part of my profile.
    SetProfile(ququ_client::ProfileChange),
    /// Someone's profile, or mine.
    Profile(Option<String>),
    Block(String),
    Unblock(String),
    Blocks,
    /// My friend groups (好友分组) and who is in each.
    Categories,
    AddCategory(String),
    RenameCategory {
        id: u64,
        name: String,
    },
    DeleteCategory(u64),
    /// My friend groups in this order.
    OrderCategories(Vec<u64>),
    /// Put a friend into a friend group (0: the default one).
    MoveFriend {
        user: String,
        id: u64,
    },
    /// Set my avatar from a picture file (a small PNG or JPEG, sent as it is), or clear it.
    Avatar(Option<String>),
    /// Set a group's avatar from a file (owner and admins), or clear it.
    GroupAvatar {
        id: u64,
        path: Option<String>,
    },
    Retry,
    Help,
    Quit,
}

pub const HELP: &str = "\
commands:
  <text>                  send to the current chat
                          messages show their id: [12:34:56 #42]; [@you] marks one that mentions you
  /reply <id> <text>      answer message #id, quoting it
  /recall <id>            take back message #id (yours, soon after; any in a group you own)
  /msg <user> [text]      chat with a friend (and send text)
  /group <id> [text]      chat in a group (and send text)
  /friends                list friends        /groups            list groups
  /add <user> [note]      friend request      /accept <user>     /reject <user>
  /remark <user> <name>   set a remark        /del <user>        remove a friend
  /find <query>           search users
  /sign [text]            your signature (个性签名), shown to friends; no text clears it
  /gender [male|female|other]  /region [text]   the rest of your profile; nothing clears it
  /profile [user]         someone's profile (yours without a user)
  /block <user>           drop their private messages, files and friend requests (they are not told)
  /unblock <user>         /blocks            whom you block
  /fgroups                your friend groups (好友分组), with ids and who is in each
  /fgroup-add <name>      /fgroup-rename <id> <name>   /fgroup-del <id> (its friends go to the default)
  /fgroup-order <id>…     put your friend groups in this order
  /move <user> <id>       put a friend into a friend group (0: the default, 我的好友)
  /avatar [path]          your avatar (头像) from a small PNG or JPEG, seen by friends; no path clears it
  /groupavatar <id> [path]  a group's avatar (owner and admins); no path clears it
  /create <name>          create a group      /join <id>         /leave <id>
  /members <id>           list members        /invite <id> <user>
  /policy <id> [open|invite]  who may join by the group's number (owner sets, anyone asks)
  /history [n]            last n messages of the current chat (default 20)
  /search <query>         search local history
  /send <path>            send a file to the current chat
  /files                  files offered in the current chat, with their ids
  /get <file id> [dir]    download a file (default: your Downloads folder)
  /retry                  resend the last failed message
  /help                   this text           /quit              leave";

/// Splits off the first whitespace-separated word.
fn word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    match s.find(char::is_whitespace) {
        Some(i) => (&s[..i], s[i..].trim_start()),
        None => (s, ""),
    }
}

fn number(s: &str) -> Result<u64, InputError> {
    s.parse().map_err(|_| InputError::BadNumber(s.to_owned()))
}

fn group_id(s: &str) -> Result<u64, InputError> {
    s.parse().map_err(|_| InputError::BadGroup(s.to_owned()))
}

/// A message id as typed: `42` or, copied from a message line, `#42`.
fn message_id(s: &str) -> Result<u64, InputError> {
    s.strip_prefix('#')
        .unwrap_or(s)
        .parse()
        .map_err(|_| InputError::BadNumber(s.to_owned()))
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

pub fn parse(line: &str) -> Result<Input, InputError> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() {
        return Ok(Input::Empty);
    }
    // `//text` sends a line that starts with a slash.
    if let Some(rest) = line.strip_prefix("//") {
        return Ok(Input::Text(format!("/{rest}")));
    }
    let Some(command) = line.strip_prefix('/') else {
        return Ok(Input::Text(line.to_owned()));
    };
    let (name, rest) = word(command);
    let rest = rest.trim_end();
    let input = match name {
        "msg" => {
            let (user, text) = word(rest);
            if user.is_empty() {
                return Err(InputError::Usage("/msg <user> [text]"));
            }
            Input::Msg {
                user: user.to_owned(),
                text: non_empty(text),
            }
        }
        "group" => {
            let (id, text) = word(rest);
            if id.is_empty() {
                return Err(InputError::Usage("/group <id> [text]"));
            }
            Input::Group {
                id: group_id(id)?,
                text: non_empty(text),
            }
        }
        "friends" => Input::Friends,
        "sign" => Input::SetProfile(ququ_client::ProfileChange::Signature(rest.to_owned())),
        "region" => Input::SetProfile(ququ_client::ProfileChange::Region(rest.to_owned())),
        "gender" => {
            let gender = match rest {
                "" => None,
                word => Some(
                    ququ_client::Gender::parse(word)
                        .ok_or(InputError::Usage("/gender [male|female|other]"))?,
                ),
            };
            Input::SetProfile(ququ_client::ProfileChange::Gender(gender))
        }
        "profile" => {
            let (user, extra) = word(rest);
            if !extra.is_empty() {
                return Err(InputError::Usage("/profile [user]"));
            }
            Input::Profile(non_empty(user))
        }
        "blocks" => Input::Blocks,
        "fgroups" => Input::Categories,
        "fgroup-add" => match rest {
            "" => return Err(InputError::Usage("/fgroup-add <name>")),
            name => Input::AddCategory(name.to_owned()),
        },
        "fgroup-rename" => {
            let (id, name) = word(rest);
            if id.is_empty() || name.is_empty() {
                return Err(InputError::Usage("/fgroup-rename <id> <name>"));
            }
            Input::RenameCategory {
                id: number(id)?,
                name: name.to_owned(),
            }
        }
        "fgroup-del" => match word(rest) {
            (id, "") if !id.is_empty() => Input::DeleteCategory(number(id)?),
            _ => return Err(InputError::Usage("/fgroup-del <id>")),
        },
        "fgroup-order" => {
            if rest.is_empty() {
                return Err(InputError::Usage("/fgroup-order <id> <id>…"));
            }
            Input::OrderCategories(
                rest.split_whitespace()
                    .map(number)
                    .collect::<Result<_, _>>()?,
            )
        }
        "move" => match word(rest) {
            (user, id) if !user.is_empty() && !id.is_empty() && !id.contains(' ') => {
                Input::MoveFriend {
                    user: user.to_owned(),
                    id: number(id)?,
                }
            }
            _ => return Err(InputError::Usage("/move <user> <friend group id>")),
        },
        // A path may have spaces: everything after the command is the path.
        "avatar" => Input::Avatar(non_empty(rest)),
        "groupavatar" => {
            let (id, path) = word(rest);
            if id.is_empty() {
                return Err(InputError::Usage("/groupavatar <id> [path]"));
            }
            Input::GroupAvatar {
                id: group_id(id)?,
                path: non_empty(path),
            }
        }
        "block" | "unblock" => {
            let (user, extra) = word(rest);
            if user.is_empty() || !extra.is_empty() {
                return Err(InputError::Usage(if name == "block" {
                    "/block <user>"
                } else {
                    "/unblock <user>"
                }));
            }
            if name == "block" {
                Input::Block(user.to_owned())
            } else {
                Input::Unblock(user.to_owned())
            }
        }
        "groups" => Input::Groups,
        "add" => {
            let (user, note) = word(rest);
            if user.is_empty() {
                return Err(InputError::Usage("/add <user> [note]"));
            }
            Input::Add {
                user: user.to_owned(),
                note: note.to_owned(),
            }
        }
        "accept" | "reject" | "del" => {
            let (user, extra) = word(rest);
            if user.is_empty() || !extra.is_empty() {
                return Err(InputError::Usage(match name {
                    "accept" => "/accept <user>",
                    "reject" => "/reject <user>",
                    _ => "/del <user>",
                }));
            }
            let user = user.to_owned();
            match name {
                "accept" => Input::Accept(user),
                "reject" => Input::Reject(user),
                _ => Input::Del(user),
            }
        }
        "remark" => {
            let (user, name) = word(rest);
            if user.is_empty() {
                return Err(InputError::Usage("/remark <user> <name>"));
            }
            Input::Remark {
                user: user.to_owned(),
                name: name.to_owned(),
            }
        }
        "find" | "search" | "create" => {
            if rest.is_empty() {
                return Err(InputError::Usage(match name {
                    "find" => "/find <query>",
                    "search" => "/search <query>",
                    _ => "/create <name>",
                }));
            }
            let rest = rest.to_owned();
            match name {
                "find" => Input::Find(rest),
                "search" => Input::Search(rest),
                _ => Input::Create(rest),
            }
        }
        "join" | "leave" | "members" => {
            if rest.is_empty() {
                return Err(InputError::Usage(match name {
                    "join" => "/join <id>",
                    "leave" => "/leave <id>",
                    _ => "/members <id>",
                }));
            }
            let id = group_id(rest)?;
            match name {
                "join" => Input::Join(id),
                "leave" => Input::Leave(id),
                _ => Input::Members(id),
            }
        }
        "invite" => {
            let (id, user) = word(rest);
            if id.is_empty() || user.is_empty() {
                return Err(InputError::Usage("/invite <id> <user>"));
            }
            Input::Invite {
                id: group_id(id)?,
                user: user.to_owned(),
            }
        }
        "policy" => {
            const USAGE: &str = "/policy <id> [open|invite]";
            let (id, policy) = word(rest);
            if id.is_empty() {
                return Err(InputError::Usage(USAGE));
            }
            let policy = match policy {
                "" => None,
                p => Some(ququ_client::JoinPolicy::parse(p).ok_or(InputError::Usage(USAGE))?),
            };
            Input::Policy {
                id: group_id(id)?,
                policy,
            }
        }
        "history" => Input::History(if rest.is_empty() {
            20
        } else {
            rest.parse()
                .map_err(|_| InputError::BadNumber(rest.to_owned()))?
        }),
        "send" => {
            if rest.is_empty() {
                return Err(InputError::Usage("/send <path>"));
            }
            Input::SendFile(rest.to_owned())
        }
        "get" => {
            let (id, dest) = word(rest);
            if id.is_empty() {
                return Err(InputError::Usage("/get <file id> [dir]"));
            }
            Input::Get {
                file_id: id
                    .parse()
                    .map_err(|_| InputError::BadNumber(id.to_owned()))?,
                dest: non_empty(dest),
            }
        }
        "files" => Input::Files,
        "reply" => {
            let (id, text) = word(rest);
            if id.is_empty() || text.is_empty() {
                return Err(InputError::Usage("/reply <id> <text>"));
            }
            Input::Reply {
                id: message_id(id)?,
                text: text.to_owned(),
            }
        }
        "recall" => {
            let (id, extra) = word(rest);
            if id.is_empty() || !extra.is_empty() {
                return Err(InputError::Usage("/recall <id>"));
            }
            Input::Recall(message_id(id)?)
        }
        "retry" => Input::Retry,
        "help" | "?" => Input::Help,
        "quit" | "exit" | "q" => Input::Quit,
        other => return Err(InputError::Unknown(other.to_owned())),
    };
    Ok(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_are_messages() {
        assert_eq!(parse("hello there"), Ok(Input::Text("hello there".into())));
        assert_eq!(parse("你好\r\n"), Ok(Input::Text("你好".into())));
        assert_eq!(
            parse("//not a command"),
            Ok(Input::Text("/not a command".into()))
        );
        assert_eq!(parse("   "), Ok(Input::Empty));
    }

    #[test]
    fn msg_and_group_switch_and_optionally_send() {
        assert_eq!(
            parse("/msg bob"),
            Ok(Input::Msg {
                user: "bob".into(),
                text: None
            })
        );
        assert_eq!(
            parse("/msg bob  hi: there "),
            Ok(Input::Msg {
                user: "bob".into(),
                text: Some("hi: there".into())
            })
        );
        assert_eq!(
            parse("/group 12 大家好"),
            Ok(Input::Group {
                id: 12,
                text: Some("大家好".into())
            })
        );
        assert_eq!(parse("/group abc"), Err(InputError::BadGroup("abc".into())));
        assert!(matches!(parse("/msg"), Err(InputError::Usage(_))));
    }

    #[test]
    fn friend_and_group_commands() {
        assert_eq!(
            parse("/add bob let's be friends"),
            Ok(Input::Add {
                user: "bob".into(),
                note: "let's be friends".into()
            })
        );
        assert_eq!(parse("/accept bob"), Ok(Input::Accept("bob".into())));
        assert!(matches!(
            parse("/accept bob carol"),
            Err(InputError::Usage(_))
        ));
        assert_eq!(
            parse("/remark bob Bobby B"),
            Ok(Input::Remark {
                user: "bob".into(),
                name: "Bobby B".into()
            })
        );
        assert_eq!(parse("/join 7"), Ok(Input::Join(7)));
        assert_eq!(parse("/members 7"), Ok(Input::Members(7)));
        assert_eq!(
            parse("/create 周末 球队"),
            Ok(Input::Create("周末 球队".into()))
        );
        assert_eq!(parse("/history"), Ok(Input::History(20)));
        assert_eq!(parse("/history 5"), Ok(Input::History(5)));
        assert_eq!(parse("/history x"), Err(InputError::BadNumber("x".into())));
        assert_eq!(parse("/search 北京"), Ok(Input::Search("北京".into())));
        assert_eq!(parse("/quit"), Ok(Input::Quit));
        assert_eq!(
            parse("/send /tmp/my report.pdf"),
            Ok(Input::SendFile("/tmp/my report.pdf".into()))
        );
        assert_eq!(
            parse("/get 7"),
            Ok(Input::Get {
                file_id: 7,
                dest: None
            })
        );
        assert_eq!(
            parse("/get 7 /tmp/in box"),
            Ok(Input::Get {
                file_id: 7,
                dest: Some("/tmp/in box".into())
            })
        );
        assert_eq!(parse("/get x"), Err(InputError::BadNumber("x".into())));
        assert_eq!(parse("/files"), Ok(Input::Files));
        assert_eq!(parse("/nope"), Err(InputError::Unknown("nope".into())));
    }

    #[test]
    fn reply_and_recall_take_a_message_id_with_or_without_its_hash() {
        assert_eq!(
            parse("/reply 42 sure: at noon"),
            Ok(Input::Reply {
                id: 42,
                text: "sure: at noon".into()
            })
        );
        assert_eq!(
            parse("/reply #42 好的"),
            Ok(Input::Reply {
                id: 42,
                text: "好的".into()
            })
        );
        assert_eq!(
            parse("/reply 42"),
            Err(InputError::Usage("/reply <id> <text>"))
        );
        assert_eq!(parse("/reply x hi"), Err(InputError::BadNumber("x".into())));
        assert_eq!(parse("/recall #7"), Ok(Input::Recall(7)));
        assert_eq!(parse("/recall 7 8"), Err(InputError::Usage("/recall <id>")));
        assert_eq!(parse("/recall"), Err(InputError::Usage("/recall <id>")));
    }

    #[test]
    fn policy_sets_or_asks_and_refuses_an_unknown_word() {
        use ququ_client::JoinPolicy;
        assert_eq!(
            parse("/policy 1234567890 open"),
            Ok(Input::Policy {
                id: 1234567890,
                policy: Some(JoinPolicy::Open)
            })
        );
        assert_eq!(
            parse("/policy 7"),
            Ok(Input::Policy {
                id: 7,
                policy: None
            })
        );
        assert_eq!(
            parse("/policy 7 everyone"),
            Err(InputError::Usage("/policy <id> [open|invite]"))
        );
        assert_eq!(
            parse("/policy x open"),
            Err(InputError::BadGroup("x".into()))
        );
    }

    #[test]
    fn profile_and_block_commands() {
        use ququ_client::{Gender, ProfileChange};
        assert_eq!(
            parse("/sign 周末去爬山: who's in?"),
            Ok(Input::SetProfile(ProfileChange::Signature(
                "周末去爬山: who's in?".into()
            )))
        );
        // Nothing after the command clears it.
        assert_eq!(
            parse("/sign"),
            Ok(Input::SetProfile(ProfileChange::Signature(String::new())))
        );
        assert_eq!(
            parse("/gender female"),
            Ok(Input::SetProfile(ProfileChange::Gender(Some(
                Gender::Female
            ))))
        );
        assert_eq!(
            parse("/gender"),
            Ok(Input::SetProfile(ProfileChange::Gender(None)))
        );
        assert_eq!(
            parse("/gender robot"),
            Err(InputError::Usage("/gender [male|female|other]"))
        );
        assert_eq!(
            parse("/region 上海 浦东"),
            Ok(Input::SetProfile(ProfileChange::Region("上海 浦东".into())))
        );
        assert_eq!(parse("/profile"), Ok(Input::Profile(None)));
        assert_eq!(
            parse("/profile bob"),
            Ok(Input::Profile(Some("bob".into())))
        );
        assert_eq!(parse("/block mallory"), Ok(Input::Block("mallory".into())));
        assert_eq!(
            parse("/unblock mallory"),
            Ok(Input::Unblock("mallory".into()))
        );
        assert_eq!(parse("/blocks"), Ok(Input::Blocks));
        assert_eq!(
            parse("/avatar /tmp/my face.png"),
            Ok(Input::Avatar(Some("/tmp/my face.png".into())))
        );
        assert_eq!(parse("/avatar"), Ok(Input::Avatar(None)));
        assert_eq!(
            parse("/groupavatar 12 g.jpg"),
            Ok(Input::GroupAvatar {
                id: 12,
                path: Some("g.jpg".into())
            })
        );
        assert_eq!(
            parse("/groupavatar 12"),
            Ok(Input::GroupAvatar { id: 12, path: None })
        );
        assert_eq!(
            parse("/groupavatar"),
            Err(InputError::Usage("/groupavatar <id> [path]"))
        );
        assert_eq!(parse("/block"), Err(InputError::Usage("/block <user>")));
        assert_eq!(
            parse("/unblock a b"),
            Err(InputError::Usage("/unblock <user>"))
        );
    }

    #[test]
    fn friend_group_commands() {
        assert_eq!(parse("/fgroups"), Ok(Input::Categories));
        assert_eq!(
            parse("/fgroup-add 大学 同学"),
            Ok(Input::AddCategory("大学 同学".into()))
        );
        assert_eq!(
            parse("/fgroup-add"),
            Err(InputError::Usage("/fgroup-add <name>"))
        );
        assert_eq!(
            parse("/fgroup-rename 3 家人"),
            Ok(Input::RenameCategory {
                id: 3,
                name: "家人".into()
            })
        );
        assert_eq!(
            parse("/fgroup-rename x 家人"),
            Err(InputError::BadNumber("x".into()))
        );
        assert_eq!(parse("/fgroup-del 3"), Ok(Input::DeleteCategory(3)));
        assert_eq!(
            parse("/fgroup-order 3 1 2"),
            Ok(Input::OrderCategories(vec![3, 1, 2]))
        );
        assert_eq!(
            parse("/fgroup-order"),
            Err(InputError::Usage("/fgroup-order <id> <id>…"))
        );
        assert_eq!(
            parse("/fgroup-del"),
            Err(InputError::Usage("/fgroup-del <id>"))
        );
        assert_eq!(
            parse("/move bob 0"),
            Ok(Input::MoveFriend {
                user: "bob".into(),
                id: 0
            })
        );
        assert_eq!(
            parse("/move bob"),
            Err(InputError::Usage("/move <user> <friend group id>"))
        );
    }
}
