//! Malformed lines of every kind, and the exact typed error each one gives.

use ququ_protocol::{ClientMessage, ErrorCode, ParseError, ServerMessage};

const SHA: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn missing(verb: &'static str, field: &'static str) -> ParseError {
    ParseError::MissingField { verb, field }
}

fn empty(verb: &'static str, field: &'static str) -> ParseError {
    ParseError::EmptyField { verb, field }
}

fn too_many(verb: &'static str) -> ParseError {
    ParseError::TooManyFields { verb }
}

fn invalid(verb: &'static str, field: &'static str, value: &str) -> ParseError {
    ParseError::InvalidValue {
        verb,
        field,
        value: value.to_owned(),
    }
}

fn bad_escape(raw: &str) -> ParseError {
    ParseError::BadEscape(raw.to_owned())
}

fn unknown(verb: &str) -> ParseError {
    ParseError::UnknownVerb(verb.to_owned())
}

fn check_client(cases: &[(&str, ParseError)]) {
    for (line, want) in cases {
        assert_eq!(
            ClientMessage::parse(line).as_ref(),
            Err(want),
            "ClientMessage::parse({line:?})"
        );
    }
}

fn check_server(cases: &[(&str, ParseError)]) {
    for (line, want) in cases {
        assert_eq!(
            ServerMessage::parse(line).as_ref(),
            Err(want),
            "ServerMessage::parse({line:?})"
        );
    }
}

#[test]
fn empty_line() {
    check_client(&[("", ParseError::Empty)]);
    check_server(&[("", ParseError::Empty)]);
}

#[test]
fn unknown_verbs() {
    let cases = [
        ("HELLO", unknown("HELLO")),
        ("HELLO:world", unknown("HELLO")),
        // Verbs are case-sensitive; `FileTran` is the one mixed-case verb.
        ("login:alice:secret", unknown("login")),
        ("FILETRAN:user:bob", unknown("FILETRAN")),
        (" LOGIN:alice:secret", unknown(" LOGIN")),
        ("LOGIN :alice:secret", unknown("LOGIN ")),
        // A line that starts with `:` has an empty verb, which is no verb at all (the line is not empty).
        (":", unknown("")),
        (":alice:secret", unknown("")),
    ];
    check_client(&cases);
    check_server(&cases);
    // Each direction's verbs are unknown to the other's parser.
    check_client(&[
        ("FOUND_END:1", unknown("FOUND_END")),
        ("ACK:c1:1:2", unknown("ACK")),
        ("ERROR:internal:x", unknown("ERROR")),
        ("SAID:1:user:bob:alice:2:c1::0:::hi", unknown("SAID")),
        ("RECALLED:4:user:bob:alice:2:1:alice", unknown("RECALLED")),
        ("READS_END:0", unknown("READS_END")),
        ("RECALL_ALL", unknown("RECALL_ALL")),
        ("send:user:bob:c1:0::hi", unknown("send")),
    ]);
    check_server(&[
        ("FIND:bob", unknown("FIND")),
        ("SYNC:0:10", unknown("SYNC")),
        ("REGISTER:alice:secret", unknown("REGISTER")),
        ("GROUP_JOIN:3", unknown("GROUP_JOIN")),
        ("SEND:user:bob:c1:0::hi", unknown("SEND")),
        ("RECALL:1", unknown("RECALL")),
        ("READS", unknown("READS")),
    ]);
}

#[test]
fn missing_fields() {
    check_client(&[
        ("LOGIN", missing("LOGIN", "account")),
        ("LOGIN:alice", missing("LOGIN", "password")),
        ("RESIGER:alice", missing("RESIGER", "password")),
        ("REGISTER", missing("RESIGER", "account")),
        ("RESUME:alice", missing("RESUME", "token")),
        ("SET_NICK", missing("SET_NICK", "nickname")),
        ("PASSWD:old", missing("PASSWD", "new")),
        ("FIND", missing("FIND", "query")),
        ("ADD_FRIEND", missing("ADD_FRIEND", "account")),
        ("ACCEPT_FRIEND", missing("ACCEPT_FRIEND", "account")),
        ("REJECT_FRIEND", missing("REJECT_FRIEND", "account")),
        ("DEL_FRIEND", missing("DEL_FRIEND", "account")),
        ("REMARK", missing("REMARK", "account")),
        ("MSG", missing("MSG", "to")),
        ("MSG:bob", missing("MSG", "client_id")),
        ("MSG:bob:c1", missing("MSG", "text")),
        ("GROUP:3:c1", missing("GROUP", "text")),
        ("SYNC:0", missing("SYNC", "limit")),
        ("HISTORY", missing("HISTORY", "kind")),
        ("HISTORY:user", missing("HISTORY", "peer")),
        ("HISTORY:user:bob:0", missing("HISTORY", "limit")),
        ("GROUP_CREATE", missing("GROUP_CREATE", "name")),
        ("GROUP_JOIN", missing("GROUP_JOIN", "group_id")),
        ("GROUP_LEAVE", missing("GROUP_LEAVE", "group_id")),
        ("GROUP_INVITE:3", missing("GROUP_INVITE", "account")),
        ("GROUP_KICK:3", missing("GROUP_KICK", "account")),
        ("GROUP_DISSOLVE", missing("GROUP_DISSOLVE", "group_id")),
        ("GROUP_RENAME:3", missing("GROUP_RENAME", "name")),
        ("GROUP_MEMBERS", missing("GROUP_MEMBERS", "group_id")),
        ("GROUP_POLICY", missing("GROUP_POLICY", "group_id")),
        (
            &format!("FileTran:user:bob:c1:10:{SHA}"),
            missing("FileTran", "name"),
        ),
        ("FileTran:user:bob:c1:10", missing("FileTran", "sha256")),
        ("FILE_ACCEPT", missing("FILE_ACCEPT", "file_id")),
        ("FILE_REJECT", missing("FILE_REJECT", "file_id")),
        ("FILE_CANCEL", missing("FILE_CANCEL", "file_id")),
        ("FILE_PUT:tok", missing("FILE_PUT", "offset")),
        ("FILE_GET", missing("FILE_GET", "token")),
        ("FEATURES", missing("FEATURES", "features")),
        ("SEND", missing("SEND", "kind")),
        ("SEND:user", missing("SEND", "peer")),
        ("SEND:user:bob", missing("SEND", "client_id")),
        ("SEND:user:bob:c1", missing("SEND", "reply_id")),
        ("SEND:user:bob:c1:0", missing("SEND", "mentions")),
        ("SEND:group:3:c1:0:bob", missing("SEND", "text")),
        ("RECALL", missing("RECALL", "id")),
        ("READ", missing("READ", "kind")),
        ("READ:group", missing("READ", "peer")),
        ("READ:group:3", missing("READ", "up_to_id")),
        ("TYPING", missing("TYPING", "account")),
    ]);
    check_server(&[
        ("RESIGER", missing("RESIGER", "ok")),
        ("RESIGER:true", missing("RESIGER", "account")),
        ("LOGIN", missing("LOGIN", "ok")),
        ("LOGIN:true", missing("LOGIN", "user_id")),
        ("LOGIN:true:1:alice:Alice:tok", missing("LOGIN", "limits")),
        ("PING", missing("PING", "nonce")),
        ("PONG", missing("PONG", "nonce")),
        ("PROFILE:alice", missing("PROFILE", "nickname")),
        ("PASSWD", missing("PASSWD", "ok")),
        ("CONNECT_CLIENT:bob", missing("CONNECT_CLIENT", "presence")),
        ("FOUND:bob:online", missing("FOUND", "nickname")),
        ("FOUND_END", missing("FOUND_END", "count")),
        ("FRIEND:bob:online:Bob", missing("FRIEND", "remark")),
        ("FRIENDS_END", missing("FRIENDS_END", "count")),
        (
            "FRIEND_REQUEST:alice:1:Alice",
            missing("FRIEND_REQUEST", "note"),
        ),
        ("REQUESTS_END", missing("REQUESTS_END", "count")),
        (
            "REQUEST_WAITING:bob:1",
            missing("REQUEST_WAITING", "nickname"),
        ),
        ("REQUEST_SENT", missing("REQUEST_SENT", "account")),
        ("REQUEST_CLOSED", missing("REQUEST_CLOSED", "account")),
        ("FRIEND_REJECTED", missing("FRIEND_REJECTED", "account")),
        ("FRIEND_REMOVED", missing("FRIEND_REMOVED", "account")),
        ("MSG:1:alice:bob:2:c1", missing("MSG", "text")),
        ("GROUP:1:3:alice:2:c1", missing("GROUP", "text")),
        (
            &format!("FileTran:1:alice:user:bob:2:c1:9:10:{SHA}"),
            missing("FileTran", "name"),
        ),
        ("ACK:c1:1", missing("ACK", "time")),
        ("SYNC_END:1", missing("SYNC_END", "more")),
        ("HISTORY_END:user:bob:2", missing("HISTORY_END", "more")),
        ("GROUP_INFO:3:alice:2", missing("GROUP_INFO", "name")),
        ("GROUPS_END", missing("GROUPS_END", "count")),
        ("GROUP_GONE:3", missing("GROUP_GONE", "reason")),
        ("GROUP_POLICY:3", missing("GROUP_POLICY", "policy")),
        ("MEMBER:3:alice:owner:online", missing("MEMBER", "nickname")),
        ("MEMBERS_END:3", missing("MEMBERS_END", "count")),
        ("MEMBER_LEFT:3:carol", missing("MEMBER_LEFT", "reason")),
        ("FILE_UPLOAD:9:tok", missing("FILE_UPLOAD", "offset")),
        ("FILE_DOWNLOAD:9:tok", missing("FILE_DOWNLOAD", "size")),
        ("FILE_PROGRESS:9:1", missing("FILE_PROGRESS", "total")),
        ("FILE_STATE:9", missing("FILE_STATE", "state")),
        ("ERROR", missing("ERROR", "code")),
        ("ERROR:internal", missing("ERROR", "text")),
        ("FEATURES", missing("FEATURES", "features")),
        ("SAID", missing("SAID", "id")),
        ("SAID:1", missing("SAID", "kind")),
        ("SAID:1:user", missing("SAID", "peer")),
        ("SAID:1:user:bob", missing("SAID", "from")),
        ("SAID:1:user:bob:alice", missing("SAID", "time")),
        ("SAID:1:user:bob:alice:2", missing("SAID", "client_id")),
        ("SAID:1:user:bob:alice:2:c1", missing("SAID", "mentions")),
        ("SAID:1:user:bob:alice:2:c1:", missing("SAID", "reply_id")),
        (
            "SAID:1:user:bob:alice:2:c1::0",
            missing("SAID", "reply_from"),
        ),
        (
            "SAID:1:user:bob:alice:2:c1::0:",
            missing("SAID", "reply_text"),
        ),
        // Every field is there but the text: `0::` is the quote's three.
        ("SAID:1:user:bob:alice:2:c1::0::", missing("SAID", "text")),
        (
            "RECALLED:4:user:bob:alice:2:1",
            missing("RECALLED", "target_from"),
        ),
        (
            "RECALLED:4:group:3:alice:2",
            missing("RECALLED", "target_id"),
        ),
        ("RECALLED:4", missing("RECALLED", "kind")),
        ("READ", missing("READ", "kind")),
        ("READ:user:bob", missing("READ", "up_to_id")),
        ("READS_END", missing("READS_END", "count")),
        ("TYPING", missing("TYPING", "account")),
    ]);
}

#[test]
fn too_many_fields() {
    check_client(&[
        ("LOGIN:alice:secret:extra", too_many("LOGIN")),
        ("RESUME:alice:tok:extra", too_many("RESUME")),
        ("LOGOUT:now", too_many("LOGOUT")),
        ("PING:1:2", too_many("PING")),
        ("PONG:1:2", too_many("PONG")),
        ("PASSWD:a:b:c", too_many("PASSWD")),
        ("ACCEPT_FRIEND:bob:x", too_many("ACCEPT_FRIEND")),
        ("REJECT_FRIEND:bob:x", too_many("REJECT_FRIEND")),
        ("DEL_FRIEND:bob:x", too_many("DEL_FRIEND")),
        ("FRIENDS:", too_many("FRIENDS")),
        ("REQUESTS:all", too_many("REQUESTS")),
        ("SYNC:0:10:x", too_many("SYNC")),
        ("HISTORY:user:bob:0:10:x", too_many("HISTORY")),
        ("GROUP_JOIN:3:x", too_many("GROUP_JOIN")),
        ("GROUP_POLICY:3:open:x", too_many("GROUP_POLICY")),
        ("GROUP_LEAVE:3:x", too_many("GROUP_LEAVE")),
        ("GROUP_INVITE:3:bob:x", too_many("GROUP_INVITE")),
        ("GROUP_KICK:3:bob:x", too_many("GROUP_KICK")),
        ("GROUP_DISSOLVE:3:x", too_many("GROUP_DISSOLVE")),
        ("GROUP_MEMBERS:3:x", too_many("GROUP_MEMBERS")),
        ("GROUPS:x", too_many("GROUPS")),
        ("FILE_ACCEPT:9:x", too_many("FILE_ACCEPT")),
        ("FILE_REJECT:9:x", too_many("FILE_REJECT")),
        ("FILE_CANCEL:9:x", too_many("FILE_CANCEL")),
        ("FILE_PUT:tok:0:x", too_many("FILE_PUT")),
        ("FILE_GET:tok:0:x", too_many("FILE_GET")),
        ("FEATURES:SAID:READ", too_many("FEATURES")),
        ("FEATURES::", too_many("FEATURES")),
        ("RECALL:1:2", too_many("RECALL")),
        ("READ:user:bob:5:x", too_many("READ")),
        ("READS:", too_many("READS")),
        ("READS:user:bob", too_many("READS")),
        ("TYPING:bob:x", too_many("TYPING")),
        ("TYPING:bob:", too_many("TYPING")),
    ]);
    check_server(&[
        ("RESIGER:true:alice:x", too_many("RESIGER")),
        ("RESIGER:false:account_taken:text:x", too_many("RESIGER")),
        ("LOGIN:false:bad_credentials:text:x", too_many("LOGIN")),
        ("LOGIN:true:1:alice:Alice:tok:line=1:x", too_many("LOGIN")),
        ("BYE:shutdown:text:x", too_many("BYE")),
        ("PING:1:2", too_many("PING")),
        // With the `PROFILE` feature three more fields follow; anything past them is too many.
        ("PROFILE:alice:Alice:x", invalid("PROFILE", "gender", "x")),
        ("PROFILE:alice:Alice::::x", too_many("PROFILE")),
        ("PASSWD:true:x", too_many("PASSWD")),
        ("CONNECT_CLIENT:bob:online:x", too_many("CONNECT_CLIENT")),
        ("FOUND:bob:online:Bob:x", too_many("FOUND")),
        (
            "FRIEND:bob:online:Bob::x",
            invalid("FRIEND", "category_id", "x"),
        ),
        ("FRIEND:bob:online:Bob::0::::x", too_many("FRIEND")),
        (
            "FRIEND_REQUEST:alice:1:Alice:hi:x",
            too_many("FRIEND_REQUEST"),
        ),
        ("FRIENDS_END:1:2", too_many("FRIENDS_END")),
        ("REQUEST_SENT:bob:x", too_many("REQUEST_SENT")),
        ("REQUEST_WAITING:bob:1:Bob:x", too_many("REQUEST_WAITING")),
        // Server lines are produced by `format`, so their text fields are escaped: a raw colon is an error.
        ("MSG:1:alice:bob:2:c1:see you at 10:30", too_many("MSG")),
        ("GROUP:1:3:alice:2:c1:a:b", too_many("GROUP")),
        ("ACK:c1:1:2:x", too_many("ACK")),
        ("SYNC_END:1:0:x", too_many("SYNC_END")),
        ("HISTORY_END:group:3:2:0:x", too_many("HISTORY_END")),
        ("GROUP_INFO:3:alice:2:team: rust", too_many("GROUP_INFO")),
        ("GROUP_GONE:3:left:x", too_many("GROUP_GONE")),
        (
            "MEMBER:3:alice:owner:online:Alice:x",
            invalid("MEMBER", "muted_until", "x"),
        ),
        ("MEMBERS_END:3:2:x", too_many("MEMBERS_END")),
        ("MEMBER_LEFT:3:carol:left:x", too_many("MEMBER_LEFT")),
        ("FILE_UPLOAD:9:tok:0:x", too_many("FILE_UPLOAD")),
        ("FILE_DOWNLOAD:9:tok:0:x", too_many("FILE_DOWNLOAD")),
        ("FILE_PROGRESS:9:1:2:x", too_many("FILE_PROGRESS")),
        ("FILE_STATE:9:expired:x", too_many("FILE_STATE")),
        ("ERROR:internal:text:about:x", too_many("ERROR")),
        ("FEATURES:SAID:x", too_many("FEATURES")),
        ("SAID:1:user:bob:alice:2:c1::0:::hi:x", too_many("SAID")),
        // Like `MSG:`'s, `SAID:`'s text and quote are escaped: a raw colon in either is an error.
        (
            "SAID:1:user:bob:alice:2:c1::0:::see you at 10:30",
            too_many("SAID"),
        ),
        (
            "SAID:1:user:bob:alice:2:c1::5:bob:at 10:30?:ok",
            too_many("SAID"),
        ),
        (
            "RECALLED:4:user:bob:alice:2:1:alice:x",
            too_many("RECALLED"),
        ),
        ("READ:group:3:6:x", too_many("READ")),
        ("READS_END:1:2", too_many("READS_END")),
        ("TYPING:bob:x", too_many("TYPING")),
    ]);
}

#[test]
fn non_numeric_and_out_of_range_numbers() {
    check_client(&[
        ("PING:abc", invalid("PING", "nonce", "abc")),
        ("PING:", invalid("PING", "nonce", "")),
        ("PONG:-1", invalid("PONG", "nonce", "-1")),
        (
            "PING:18446744073709551616",
            invalid("PING", "nonce", "18446744073709551616"),
        ),
        ("GROUP:abc:c1:hi", invalid("GROUP", "group_id", "abc")),
        ("GROUP: 3:c1:hi", invalid("GROUP", "group_id", " 3")),
        ("SYNC:x:10", invalid("SYNC", "after_id", "x")),
        // `limit` is a u32.
        ("SYNC:0:4294967296", invalid("SYNC", "limit", "4294967296")),
        ("SYNC:0:1.5", invalid("SYNC", "limit", "1.5")),
        (
            "HISTORY:user:bob:new:10",
            invalid("HISTORY", "before_id", "new"),
        ),
        ("HISTORY:user:bob:0:", invalid("HISTORY", "limit", "")),
        ("GROUP_JOIN:abc", invalid("GROUP_JOIN", "group_id", "abc")),
        (
            "GROUP_POLICY:x:open",
            invalid("GROUP_POLICY", "group_id", "x"),
        ),
        (
            "GROUP_POLICY:3:anyone",
            invalid("GROUP_POLICY", "policy", "anyone"),
        ),
        ("GROUP_JOIN:", invalid("GROUP_JOIN", "group_id", "")),
        (
            "GROUP_LEAVE:0x10",
            invalid("GROUP_LEAVE", "group_id", "0x10"),
        ),
        (
            "GROUP_INVITE:one:bob",
            invalid("GROUP_INVITE", "group_id", "one"),
        ),
        ("GROUP_KICK:-3:bob", invalid("GROUP_KICK", "group_id", "-3")),
        (
            "GROUP_DISSOLVE:3a",
            invalid("GROUP_DISSOLVE", "group_id", "3a"),
        ),
        (
            "GROUP_RENAME:x:name",
            invalid("GROUP_RENAME", "group_id", "x"),
        ),
        (
            "GROUP_MEMBERS:%33",
            invalid("GROUP_MEMBERS", "group_id", "%33"),
        ),
        (
            &format!("FileTran:user:bob:c1:big:{SHA}:a.txt"),
            invalid("FileTran", "size", "big"),
        ),
        ("FILE_ACCEPT:x", invalid("FILE_ACCEPT", "file_id", "x")),
        ("FILE_REJECT:x", invalid("FILE_REJECT", "file_id", "x")),
        ("FILE_CANCEL:x", invalid("FILE_CANCEL", "file_id", "x")),
        ("FILE_PUT:tok:end", invalid("FILE_PUT", "offset", "end")),
        ("FILE_GET:tok:-1", invalid("FILE_GET", "offset", "-1")),
        ("SEND:user:bob:c1:x::hi", invalid("SEND", "reply_id", "x")),
        ("SEND:user:bob:c1:-1::hi", invalid("SEND", "reply_id", "-1")),
        // `0` is no reply; an empty field is not.
        ("SEND:user:bob:c1:::hi", invalid("SEND", "reply_id", "")),
        (
            "SEND:user:bob:c1:18446744073709551616::hi",
            invalid("SEND", "reply_id", "18446744073709551616"),
        ),
        ("RECALL:", invalid("RECALL", "id", "")),
        ("RECALL:abc", invalid("RECALL", "id", "abc")),
        ("RECALL:-1", invalid("RECALL", "id", "-1")),
        ("RECALL: 1", invalid("RECALL", "id", " 1")),
        ("READ:user:bob:x", invalid("READ", "up_to_id", "x")),
        ("READ:group:3:", invalid("READ", "up_to_id", "")),
        ("READ:group:3:1.5", invalid("READ", "up_to_id", "1.5")),
    ]);
    check_server(&[
        (
            "LOGIN:true:x:alice:Alice:tok:",
            invalid("LOGIN", "user_id", "x"),
        ),
        ("PING:x", invalid("PING", "nonce", "x")),
        ("FOUND_END:many", invalid("FOUND_END", "count", "many")),
        ("FRIENDS_END:-1", invalid("FRIENDS_END", "count", "-1")),
        ("REQUESTS_END:", invalid("REQUESTS_END", "count", "")),
        (
            "FRIEND_REQUEST:alice:now:Alice:hi",
            invalid("FRIEND_REQUEST", "time", "now"),
        ),
        (
            "REQUEST_WAITING:bob:soon:Bob",
            invalid("REQUEST_WAITING", "time", "soon"),
        ),
        ("MSG:x:alice:bob:2:c1:hi", invalid("MSG", "id", "x")),
        (
            "MSG:1:alice:bob:yesterday:c1:hi",
            invalid("MSG", "time", "yesterday"),
        ),
        ("GROUP:1:g:alice:2:c1:hi", invalid("GROUP", "group_id", "g")),
        (
            &format!("FileTran:1:alice:user:bob:2:c1:f:10:{SHA}:a"),
            invalid("FileTran", "file_id", "f"),
        ),
        ("ACK:c1:x:2", invalid("ACK", "id", "x")),
        ("SYNC_END:x:0", invalid("SYNC_END", "last_id", "x")),
        (
            "HISTORY_END:user:bob:x:0",
            invalid("HISTORY_END", "count", "x"),
        ),
        (
            "GROUP_INFO:3:alice:lots:name",
            invalid("GROUP_INFO", "members", "lots"),
        ),
        ("GROUPS_END:x", invalid("GROUPS_END", "count", "x")),
        ("GROUP_GONE:x:left", invalid("GROUP_GONE", "group_id", "x")),
        (
            "MEMBER:x:alice:owner:online:A",
            invalid("MEMBER", "group_id", "x"),
        ),
        ("MEMBERS_END:3:x", invalid("MEMBERS_END", "count", "x")),
        (
            "MEMBER_LEFT:x:carol:left",
            invalid("MEMBER_LEFT", "group_id", "x"),
        ),
        ("FILE_UPLOAD:9:tok:x", invalid("FILE_UPLOAD", "offset", "x")),
        (
            "FILE_DOWNLOAD:9:tok:x",
            invalid("FILE_DOWNLOAD", "size", "x"),
        ),
        (
            "FILE_PROGRESS:9:x:10",
            invalid("FILE_PROGRESS", "bytes", "x"),
        ),
        (
            "FILE_STATE:x:expired",
            invalid("FILE_STATE", "file_id", "x"),
        ),
        (
            "SAID:x:user:bob:alice:2:c1::0:::hi",
            invalid("SAID", "id", "x"),
        ),
        (
            "SAID:1:user:bob:alice:now:c1::0:::hi",
            invalid("SAID", "time", "now"),
        ),
        (
            "SAID:1:user:bob:alice:2:c1:::::hi",
            invalid("SAID", "reply_id", ""),
        ),
        (
            "SAID:1:user:bob:alice:2:c1::-5:bob:x:hi",
            invalid("SAID", "reply_id", "-5"),
        ),
        (
            "RECALLED:x:user:bob:alice:2:1:alice",
            invalid("RECALLED", "id", "x"),
        ),
        (
            "RECALLED:4:user:bob:alice:later:1:alice",
            invalid("RECALLED", "time", "later"),
        ),
        (
            "RECALLED:4:user:bob:alice:2:one:alice",
            invalid("RECALLED", "target_id", "one"),
        ),
        ("READ:group:3:x", invalid("READ", "up_to_id", "x")),
        ("READS_END:x", invalid("READS_END", "count", "x")),
        (
            "READS_END:4294967296",
            invalid("READS_END", "count", "4294967296"),
        ),
    ]);
}

#[test]
fn bad_words() {
    check_client(&[
        (
            "HISTORY:channel:x:0:5",
            invalid("HISTORY", "conversation", "channel:x"),
        ),
        (
            "HISTORY:USER:bob:0:5",
            invalid("HISTORY", "conversation", "USER:bob"),
        ),
        (
            "HISTORY:group:abc:0:5",
            invalid("HISTORY", "conversation", "group:abc"),
        ),
        (
            "HISTORY:user::0:5",
            invalid("HISTORY", "conversation", "user:"),
        ),
        (
            "HISTORY:group::0:5",
            invalid("HISTORY", "conversation", "group:"),
        ),
        (
            &format!("FileTran:room:3:c1:1:{SHA}:a"),
            invalid("FileTran", "conversation", "room:3"),
        ),
        // conversations of the new verbs
        (
            "SEND:channel:3:c1:0::hi",
            invalid("SEND", "conversation", "channel:3"),
        ),
        (
            "SEND:group:abc:c1:0::hi",
            invalid("SEND", "conversation", "group:abc"),
        ),
        (
            "SEND:user::c1:0::hi",
            invalid("SEND", "conversation", "user:"),
        ),
        (
            "SEND:Group:3:c1:0::hi",
            invalid("SEND", "conversation", "Group:3"),
        ),
        ("READ:chan:x:5", invalid("READ", "conversation", "chan:x")),
        ("READ:user::5", invalid("READ", "conversation", "user:")),
        (
            "READ:group:-1:5",
            invalid("READ", "conversation", "group:-1"),
        ),
        // mentions are account names (taken raw, so no escapes), `*`, or nothing, joined by `,`
        (
            "SEND:group:3:c1:0:b%6Fb:hi",
            invalid("SEND", "mentions", "b%6Fb"),
        ),
        (
            "SEND:group:3:c1:0:a b:hi",
            invalid("SEND", "mentions", "a b"),
        ),
        (
            "SEND:group:3:c1:0:bob,a b:hi",
            invalid("SEND", "mentions", "bob,a b"),
        ),
        (
            "SEND:group:3:c1:0:@bob:hi",
            invalid("SEND", "mentions", "@bob"),
        ),
        ("SEND:group:3:c1:0:**:hi", invalid("SEND", "mentions", "**")),
        (
            "SEND:group:3:c1:0:小明:hi",
            invalid("SEND", "mentions", "小明"),
        ),
        (
            "SEND:group:3:c1:0:bob;carol:hi",
            invalid("SEND", "mentions", "bob;carol"),
        ),
    ]);
    check_server(&[
        // ok flags are exactly `true` / `false`.
        ("LOGIN:yes:1", invalid("LOGIN", "ok", "yes")),
        ("LOGIN:TRUE:1:a:A:t:", invalid("LOGIN", "ok", "TRUE")),
        ("RESIGER:1:alice", invalid("RESIGER", "ok", "1")),
        ("PASSWD:false", invalid("PASSWD", "ok", "false")),
        // presence
        (
            "CONNECT_CLIENT:bob:away",
            invalid("CONNECT_CLIENT", "presence", "away"),
        ),
        (
            "CONNECT_CLIENT:bob:",
            invalid("CONNECT_CLIENT", "presence", ""),
        ),
        (
            "FOUND:bob:Online:Bob",
            invalid("FOUND", "presence", "Online"),
        ),
        ("FRIEND:bob:1:Bob:", invalid("FRIEND", "presence", "1")),
        (
            "MEMBER:3:alice:owner:busy:Alice",
            invalid("MEMBER", "presence", "busy"),
        ),
        // role
        (
            "MEMBER:3:alice:root:online:Alice",
            invalid("MEMBER", "role", "root"),
        ),
        // reasons and states
        (
            "GROUP_GONE:3:vanished",
            invalid("GROUP_GONE", "reason", "vanished"),
        ),
        (
            "GROUP_POLICY:3:approval",
            invalid("GROUP_POLICY", "policy", "approval"),
        ),
        (
            "MEMBER_LEFT:3:carol:dissolve",
            invalid("MEMBER_LEFT", "reason", "dissolve"),
        ),
        ("FILE_STATE:9:lost", invalid("FILE_STATE", "state", "lost")),
        (
            "FILE_STATE:9:Uploaded",
            invalid("FILE_STATE", "state", "Uploaded"),
        ),
        // flags are exactly `0` / `1`
        ("SYNC_END:1:yes", invalid("SYNC_END", "more", "yes")),
        ("SYNC_END:1:true", invalid("SYNC_END", "more", "true")),
        (
            "HISTORY_END:user:bob:2:2",
            invalid("HISTORY_END", "more", "2"),
        ),
        // conversations
        (
            "HISTORY_END:chan:x:2:0",
            invalid("HISTORY_END", "conversation", "chan:x"),
        ),
        (
            &format!("FileTran:1:alice:group:x:2:c1:9:10:{SHA}:a"),
            invalid("FileTran", "conversation", "group:x"),
        ),
        // limits
        (
            "LOGIN:true:1:a:A:t:line=abc",
            invalid("LOGIN", "limits", "line=abc"),
        ),
        (
            "LOGIN:true:1:a:A:t:line",
            invalid("LOGIN", "limits", "line"),
        ),
        (
            "LOGIN:true:1:a:A:t:text=4294967296",
            invalid("LOGIN", "limits", "text=4294967296"),
        ),
        (
            "LOGIN:true:1:a:A:t:recall=-1",
            invalid("LOGIN", "limits", "recall=-1"),
        ),
        (
            "LOGIN:true:1:a:A:t:line=1,recall",
            invalid("LOGIN", "limits", "line=1,recall"),
        ),
        // conversations of the new lines
        (
            "SAID:1:room:3:alice:2:c1::0:::hi",
            invalid("SAID", "conversation", "room:3"),
        ),
        (
            "SAID:1:user::alice:2:c1::0:::hi",
            invalid("SAID", "conversation", "user:"),
        ),
        (
            "RECALLED:4:group:x:alice:2:1:alice",
            invalid("RECALLED", "conversation", "group:x"),
        ),
        (
            "READ:USER:bob:5",
            invalid("READ", "conversation", "USER:bob"),
        ),
        // mentions
        (
            "SAID:1:group:3:alice:2:c1:b%6Fb:0:::hi",
            invalid("SAID", "mentions", "b%6Fb"),
        ),
        (
            "SAID:1:group:3:alice:2:c1:a b:0:::hi",
            invalid("SAID", "mentions", "a b"),
        ),
        (
            "SAID:1:group:3:alice:2:c1:*,bob%2Ccarol:0:::hi",
            invalid("SAID", "mentions", "*,bob%2Ccarol"),
        ),
    ]);
}

#[test]
fn bad_sha256() {
    let upper = SHA.to_uppercase();
    let short = &SHA[..63];
    let long = format!("{SHA}0");
    let not_hex = format!("{}g", &SHA[..63]);
    for bad in [upper.as_str(), short, long.as_str(), not_hex.as_str(), ""] {
        check_client(&[(
            &format!("FileTran:user:bob:c1:1:{bad}:a.txt"),
            invalid("FileTran", "sha256", bad),
        )]);
        check_server(&[(
            &format!("FileTran:1:alice:user:bob:2:c1:9:1:{bad}:a.txt"),
            invalid("FileTran", "sha256", bad),
        )]);
    }
}

#[test]
fn embedded_cr_or_lf() {
    let cases = [
        ("LOGIN:alice:secret\r", ParseError::EmbeddedNewline),
        ("LOGIN:alice:secret\n", ParseError::EmbeddedNewline),
        ("MSG:bob:c1:line one\nline two", ParseError::EmbeddedNewline),
        ("MSG:bob:c1:a\rb", ParseError::EmbeddedNewline),
        ("\n", ParseError::EmbeddedNewline),
        ("\r\n", ParseError::EmbeddedNewline),
        ("HELLO\n", ParseError::EmbeddedNewline),
        (
            "SEND:user:bob:c1:0::line one\nline two",
            ParseError::EmbeddedNewline,
        ),
        ("TYPING:bob\r\n", ParseError::EmbeddedNewline),
    ];
    check_client(&cases);
    check_server(&cases);
}

#[test]
fn escapes_that_are_not_utf8() {
    check_client(&[
        ("MSG:bob:c1:%FF", bad_escape("%FF")),
        ("MSG:bob:c1:ok %C3", bad_escape("ok %C3")),
        // A CJK character cut short.
        ("MSG:bob:c1:%E4%BD", bad_escape("%E4%BD")),
        ("MSG:%80:c1:hi", bad_escape("%80")),
        ("LOGIN:%C3%28:secret", bad_escape("%C3%28")),
        ("LOGIN:alice:%ff", bad_escape("%ff")),
        ("SET_NICK:%ED%A0%80", bad_escape("%ED%A0%80")),
        ("HISTORY:%FE:bob:0:5", bad_escape("%FE")),
        ("RESIGER:alice:secret:%C0%AF", bad_escape("%C0%AF")),
        ("SEND:user:bob:c1:0::%FF", bad_escape("%FF")),
        ("SEND:user:%80:c1:0::hi", bad_escape("%80")),
        ("TYPING:%FE", bad_escape("%FE")),
        ("FEATURES:%FF", bad_escape("%FF")),
    ]);
    check_server(&[
        ("MSG:1:alice:bob:2:c1:%FF", bad_escape("%FF")),
        ("ERROR:%FF:x", bad_escape("%FF")),
        ("ERROR:internal:x:%FF", bad_escape("%FF")),
        ("LOGIN:false:%80", bad_escape("%80")),
        (
            "SAID:1:user:bob:alice:2:c1::5:bob:%E4%BD:hi",
            bad_escape("%E4%BD"),
        ),
        ("RECALLED:4:user:bob:%FF:2:1:alice", bad_escape("%FF")),
        ("TYPING:%C3", bad_escape("%C3")),
    ]);
}

#[test]
fn empty_required_fields() {
    check_client(&[
        ("LOGIN::secret", empty("LOGIN", "account")),
        ("RESIGER::secret", empty("RESIGER", "account")),
        ("REGISTER::secret", empty("RESIGER", "account")),
        ("RESUME::tok", empty("RESUME", "account")),
        ("RESUME:alice:", empty("RESUME", "token")),
        ("ADD_FRIEND::hi", empty("ADD_FRIEND", "account")),
        ("ADD_FRIEND:", empty("ADD_FRIEND", "account")),
        ("ACCEPT_FRIEND:", empty("ACCEPT_FRIEND", "account")),
        ("REJECT_FRIEND:", empty("REJECT_FRIEND", "account")),
        ("DEL_FRIEND:", empty("DEL_FRIEND", "account")),
        ("REMARK::Bobby", empty("REMARK", "account")),
        ("MSG::c1:hi", empty("MSG", "to")),
        ("MSG:bob::hi", empty("MSG", "client_id")),
        ("GROUP:3::hi", empty("GROUP", "client_id")),
        ("GROUP_INVITE:3:", empty("GROUP_INVITE", "account")),
        ("GROUP_KICK:3:", empty("GROUP_KICK", "account")),
        (
            &format!("FileTran:user:bob::1:{SHA}:a"),
            empty("FileTran", "client_id"),
        ),
        ("FILE_PUT::0", empty("FILE_PUT", "token")),
        ("FILE_GET::0", empty("FILE_GET", "token")),
        ("SEND:user:bob::0::hi", empty("SEND", "client_id")),
        ("TYPING:", empty("TYPING", "account")),
    ]);
    check_server(&[("ERROR::text", empty("ERROR", "code"))]);
    // A field is judged after decoding: `%25` is the one-character account `%`.
    assert!(ClientMessage::parse("LOGIN:%25:x").is_ok());
}

#[test]
fn every_parse_error_has_a_wire_code_and_a_message() {
    let errors = [
        ParseError::Empty,
        unknown("HELLO"),
        missing("LOGIN", "password"),
        empty("LOGIN", "account"),
        too_many("LOGIN"),
        invalid("SYNC", "limit", "x"),
        bad_escape("%FF"),
        ParseError::EmbeddedNewline,
    ];
    for err in errors {
        let want = match err {
            ParseError::UnknownVerb(_) => ErrorCode::UnknownVerb,
            _ => ErrorCode::BadRequest,
        };
        assert_eq!(err.code(), want);
        assert!(!err.to_string().is_empty());
    }
    assert_eq!(unknown("HELLO").to_string(), "unknown verb `HELLO`");
    assert_eq!(
        missing("LOGIN", "password").to_string(),
        "LOGIN is missing the field `password`"
    );
}

/// Issue 25: the verbs and lines of group management (admins, transfer).
#[test]
fn group_management_lines() {
    check_client(&[
        ("GROUP_ADMIN", missing("GROUP_ADMIN", "group_id")),
        ("GROUP_ADMIN:3", missing("GROUP_ADMIN", "account")),
        ("GROUP_ADMIN:3:bob", missing("GROUP_ADMIN", "admin")),
        ("GROUP_ADMIN:3::on", empty("GROUP_ADMIN", "account")),
        (
            "GROUP_ADMIN:3:bob:yes",
            invalid("GROUP_ADMIN", "admin", "yes"),
        ),
        (
            "GROUP_ADMIN:3:bob:ON",
            invalid("GROUP_ADMIN", "admin", "ON"),
        ),
        ("GROUP_ADMIN:3:bob:on:x", too_many("GROUP_ADMIN")),
        (
            "GROUP_ADMIN:x:bob:on",
            invalid("GROUP_ADMIN", "group_id", "x"),
        ),
        ("GROUP_TRANSFER", missing("GROUP_TRANSFER", "group_id")),
        ("GROUP_TRANSFER:3", missing("GROUP_TRANSFER", "account")),
        ("GROUP_TRANSFER:3:", empty("GROUP_TRANSFER", "account")),
        ("GROUP_TRANSFER:3:bob:x", too_many("GROUP_TRANSFER")),
        (
            "GROUP_TRANSFER:-1:bob",
            invalid("GROUP_TRANSFER", "group_id", "-1"),
        ),
    ]);
    check_server(&[
        ("GROUP_ROLE:3:bob", missing("GROUP_ROLE", "role")),
        (
            "GROUP_ROLE:3:bob:boss",
            invalid("GROUP_ROLE", "role", "boss"),
        ),
        (
            "GROUP_ROLE:3:bob:Admin",
            invalid("GROUP_ROLE", "role", "Admin"),
        ),
        ("GROUP_ROLE:3:bob:admin:x", too_many("GROUP_ROLE")),
        (
            "GROUP_ROLE:x:bob:admin",
            invalid("GROUP_ROLE", "group_id", "x"),
        ),
    ]);
}

/// Issue 25: the verbs and lines of muting.
#[test]
fn group_mute_lines() {
    check_client(&[
        ("GROUP_MUTE:3:bob", missing("GROUP_MUTE", "seconds")),
        ("GROUP_MUTE:3::60", empty("GROUP_MUTE", "account")),
        (
            "GROUP_MUTE:3:bob:-60",
            invalid("GROUP_MUTE", "seconds", "-60"),
        ),
        (
            "GROUP_MUTE:3:bob:10m",
            invalid("GROUP_MUTE", "seconds", "10m"),
        ),
        ("GROUP_MUTE:3:bob:60:x", too_many("GROUP_MUTE")),
        ("GROUP_MUTE_ALL", missing("GROUP_MUTE_ALL", "group_id")),
        (
            "GROUP_MUTE_ALL:3:yes",
            invalid("GROUP_MUTE_ALL", "on", "yes"),
        ),
        ("GROUP_MUTE_ALL:3:on:x", too_many("GROUP_MUTE_ALL")),
        (
            "GROUP_MUTE_ALL:g:on",
            invalid("GROUP_MUTE_ALL", "group_id", "g"),
        ),
    ]);
    check_server(&[
        ("GROUP_MUTE:3:bob", missing("GROUP_MUTE", "until")),
        (
            "GROUP_MUTE:3:bob:soon",
            invalid("GROUP_MUTE", "until", "soon"),
        ),
        ("GROUP_MUTE:3:bob:1:2", too_many("GROUP_MUTE")),
        ("GROUP_MUTE_ALL:3", missing("GROUP_MUTE_ALL", "on")),
        ("GROUP_MUTE_ALL:3:1", invalid("GROUP_MUTE_ALL", "on", "1")),
        (
            "MEMBER:3:bob:member:online:Bob:never",
            invalid("MEMBER", "muted_until", "never"),
        ),
        // Two trailing fields are the mute and the start of a profile.
        (
            "MEMBER:3:bob:member:online:Bob:0:x",
            invalid("MEMBER", "gender", "x"),
        ),
    ]);
}

/// Issue 25: the group announcement's lines.
#[test]
fn group_notice_lines() {
    check_client(&[
        ("GROUP_NOTICE", missing("GROUP_NOTICE", "group_id")),
        (
            "GROUP_NOTICE:x:hi",
            invalid("GROUP_NOTICE", "group_id", "x"),
        ),
        ("GROUP_NOTICE:3:%FF", bad_escape("%FF")),
    ]);
    check_server(&[
        ("GROUP_NOTICE:3:alice:0", missing("GROUP_NOTICE", "text")),
        (
            "GROUP_NOTICE:3:alice:now:hi",
            invalid("GROUP_NOTICE", "time", "now"),
        ),
        ("GROUP_NOTICE:3:alice:0:a:b", too_many("GROUP_NOTICE")),
    ]);
}

/// Issue 25: joining by approval.
#[test]
fn group_join_request_lines() {
    check_client(&[
        (
            "GROUP_JOIN_ANSWER:3:dave",
            missing("GROUP_JOIN_ANSWER", "answer"),
        ),
        (
            "GROUP_JOIN_ANSWER:3::yes",
            empty("GROUP_JOIN_ANSWER", "account"),
        ),
        (
            "GROUP_JOIN_ANSWER:3:dave:ok",
            invalid("GROUP_JOIN_ANSWER", "answer", "ok"),
        ),
        (
            "GROUP_JOIN_ANSWER:3:dave:yes:x",
            too_many("GROUP_JOIN_ANSWER"),
        ),
        (
            "GROUP_JOIN_ANSWER:x:dave:yes",
            invalid("GROUP_JOIN_ANSWER", "group_id", "x"),
        ),
        ("GROUP_REQUESTS:3", too_many("GROUP_REQUESTS")),
        (
            "GROUP_POLICY:3:Approve",
            invalid("GROUP_POLICY", "policy", "Approve"),
        ),
    ]);
    check_server(&[
        (
            "GROUP_JOIN_REQUEST:3:dave:0",
            missing("GROUP_JOIN_REQUEST", "nickname"),
        ),
        (
            "GROUP_JOIN_REQUEST:3:dave:x:D",
            invalid("GROUP_JOIN_REQUEST", "time", "x"),
        ),
        (
            "GROUP_JOIN_REQUEST:3:dave:0:D:x",
            too_many("GROUP_JOIN_REQUEST"),
        ),
        (
            "GROUP_REQUESTS_END:-1",
            invalid("GROUP_REQUESTS_END", "count", "-1"),
        ),
        ("GROUP_JOIN_SENT:3:x", too_many("GROUP_JOIN_SENT")),
        (
            "GROUP_JOIN_CLOSED:3",
            missing("GROUP_JOIN_CLOSED", "account"),
        ),
        (
            "GROUP_JOIN_REJECTED",
            missing("GROUP_JOIN_REJECTED", "group_id"),
        ),
        (
            "GROUP_POLICY:3:approving",
            invalid("GROUP_POLICY", "policy", "approving"),
        ),
    ]);
}

/// Issue 25: group events.
#[test]
fn group_event_lines() {
    check_server(&[
        (
            "GROUP_EVENT:1:3:alice:0:invite:bob",
            missing("GROUP_EVENT", "value"),
        ),
        (
            "GROUP_EVENT:1:3:alice:0:party:bob:",
            invalid("GROUP_EVENT", "kind", "party"),
        ),
        (
            "GROUP_EVENT:1:3:alice:0:invite:bob::",
            too_many("GROUP_EVENT"),
        ),
        (
            "GROUP_EVENT:x:3:alice:0:invite:bob:",
            invalid("GROUP_EVENT", "id", "x"),
        ),
        (
            "GROUP_EVENT:1:3:alice:then:invite:bob:",
            invalid("GROUP_EVENT", "time", "then"),
        ),
    ]);
}

/// Profiles (个性签名) and the block list.
#[test]
fn profile_and_block_lines() {
    check_client(&[
        ("SET_PROFILE", missing("SET_PROFILE", "field")),
        (
            "SET_PROFILE:mood:happy",
            invalid("SET_PROFILE", "field", "mood"),
        ),
        (
            "SET_PROFILE:Sign:hi",
            invalid("SET_PROFILE", "field", "Sign"),
        ),
        (
            "SET_PROFILE:gender:robot",
            invalid("SET_PROFILE", "gender", "robot"),
        ),
        (
            "SET_PROFILE:gender:Male",
            invalid("SET_PROFILE", "gender", "Male"),
        ),
        ("SET_PROFILE:sign:%FF", bad_escape("%FF")),
        ("PROFILE:", empty("PROFILE", "account")),
        ("PROFILE:bob:x", too_many("PROFILE")),
        ("BLOCK", missing("BLOCK", "account")),
        ("BLOCK:", empty("BLOCK", "account")),
        ("BLOCK:bob:x", too_many("BLOCK")),
        ("UNBLOCK", missing("UNBLOCK", "account")),
        ("UNBLOCK:", empty("UNBLOCK", "account")),
        ("BLOCKS:x", too_many("BLOCKS")),
        ("CATEGORIES:x", too_many("CATEGORIES")),
        ("CATEGORY_ADD", missing("CATEGORY_ADD", "name")),
        ("CATEGORY_RENAME", missing("CATEGORY_RENAME", "category_id")),
        ("CATEGORY_RENAME:3", missing("CATEGORY_RENAME", "name")),
        (
            "CATEGORY_RENAME:x:name",
            invalid("CATEGORY_RENAME", "category_id", "x"),
        ),
        ("CATEGORY_DEL", missing("CATEGORY_DEL", "category_id")),
        (
            "CATEGORY_DEL:-1",
            invalid("CATEGORY_DEL", "category_id", "-1"),
        ),
        ("CATEGORY_DEL:3:x", too_many("CATEGORY_DEL")),
        ("FRIEND_MOVE", missing("FRIEND_MOVE", "account")),
        ("FRIEND_MOVE:", empty("FRIEND_MOVE", "account")),
        ("FRIEND_MOVE:bob", missing("FRIEND_MOVE", "category_id")),
        (
            "FRIEND_MOVE:bob:work",
            invalid("FRIEND_MOVE", "category_id", "work"),
        ),
        ("FRIEND_MOVE:bob:3:x", too_many("FRIEND_MOVE")),
        ("CATEGORY_ORDER", missing("CATEGORY_ORDER", "categories")),
        (
            "CATEGORY_ORDER:1,,2",
            invalid("CATEGORY_ORDER", "categories", "1,,2"),
        ),
        (
            "CATEGORY_ORDER:01",
            invalid("CATEGORY_ORDER", "categories", "01"),
        ),
        (
            "CATEGORY_ORDER:+1",
            invalid("CATEGORY_ORDER", "categories", "+1"),
        ),
        ("CATEGORY_ORDER:1:2", too_many("CATEGORY_ORDER")),
    ]);
    check_server(&[
        ("PROFILE:bob", missing("PROFILE", "nickname")),
        ("PROFILE:bob:Bob:male", missing("PROFILE", "region")),
        ("PROFILE:bob:Bob:male:x", missing("PROFILE", "signature")),
        ("PROFILE:bob:Bob:male:x:y:z", too_many("PROFILE")),
        (
            "PROFILE:bob:Bob:man:x:y",
            invalid("PROFILE", "gender", "man"),
        ),
        // One trailing field is the friend group; three the profile; four both, the group first.
        (
            "FRIEND:bob:online:Bob::male",
            invalid("FRIEND", "category_id", "male"),
        ),
        (
            "FRIEND:bob:online:Bob::male:x:y:z",
            invalid("FRIEND", "category_id", "male"),
        ),
        ("FRIEND:bob:online:Bob::3:male", missing("FRIEND", "region")),
        ("FRIEND:bob:online:Bob::3:male:x:y:z", too_many("FRIEND")),
        (
            "MEMBER:3:bob:member:online:Bob:0:male",
            missing("MEMBER", "region"),
        ),
        (
            "MEMBER:3:bob:member:online:Bob:x:male:y:z",
            invalid("MEMBER", "muted_until", "x"),
        ),
        (
            "MEMBER:3:bob:member:online:Bob:0:male:y:z:w",
            too_many("MEMBER"),
        ),
        ("BLOCKED:bob:0", missing("BLOCKED", "nickname")),
        ("BLOCKED:bob:then:Bob", invalid("BLOCKED", "time", "then")),
        ("BLOCKED:bob:0:Bob:x", too_many("BLOCKED")),
        ("UNBLOCKED", missing("UNBLOCKED", "account")),
        ("UNBLOCKED:bob:x", too_many("UNBLOCKED")),
        ("BLOCKS_END:many", invalid("BLOCKS_END", "count", "many")),
        ("CATEGORY", missing("CATEGORY", "category_id")),
        ("CATEGORY:3", missing("CATEGORY", "name")),
        ("CATEGORY:x:同事", invalid("CATEGORY", "category_id", "x")),
        ("CATEGORY:3:同事:x", too_many("CATEGORY")),
        ("CATEGORIES_END", missing("CATEGORIES_END", "count")),
        ("CATEGORY_GONE:3:x", too_many("CATEGORY_GONE")),
        (
            "CATEGORY_ORDER:1,x",
            invalid("CATEGORY_ORDER", "categories", "1,x"),
        ),
    ]);
}

/// Avatars kept by the server: base64 is read strictly and literally, a digest is 64 lower-case hex digits.
#[test]
fn avatar_lines() {
    const SHA: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    check_client(&[
        (
            "SET_AVATAR:iVBORw0KGgo",
            invalid("SET_AVATAR", "image", "iVBORw0KGgo"),
        ),
        (
            "SET_AVATAR:iVBOR w0KGgo=",
            invalid("SET_AVATAR", "image", "iVBOR w0KGgo="),
        ),
        // An escape is not unescaped in base64 (`%3D` is not `=`).
        (
            "SET_AVATAR:iVBORw0KGgo%3D",
            invalid("SET_AVATAR", "image", "iVBORw0KGgo%3D"),
        ),
        // Padding only at the end, and unused bits zero.
        (
            "SET_AVATAR:Zg==Zg==",
            invalid("SET_AVATAR", "image", "Zg==Zg=="),
        ),
        ("SET_AVATAR:Zh==", invalid("SET_AVATAR", "image", "Zh==")),
        ("SET_AVATAR:Zg==:x", too_many("SET_AVATAR")),
        ("GROUP_AVATAR", missing("GROUP_AVATAR", "group_id")),
        (
            "GROUP_AVATAR:three:Zg==",
            invalid("GROUP_AVATAR", "group_id", "three"),
        ),
        (
            "GROUP_AVATAR:3:Zg=",
            invalid("GROUP_AVATAR", "image", "Zg="),
        ),
        ("GROUP_AVATAR:3:Zg==:x", too_many("GROUP_AVATAR")),
        ("AVATAR_GET", missing("AVATAR_GET", "sha256")),
        ("AVATAR_GET:", invalid("AVATAR_GET", "sha256", "")),
        (
            "AVATAR_GET:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
            invalid(
                "AVATAR_GET",
                "sha256",
                "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
            ),
        ),
    ]);
    check_server(&[
        ("AVATAR_OF:user:alice", missing("AVATAR_OF", "sha256")),
        (
            "AVATAR_OF:user::",
            invalid("AVATAR_OF", "conversation", "user:"),
        ),
        (
            "AVATAR_OF:room:3:",
            invalid("AVATAR_OF", "conversation", "room:3"),
        ),
        (
            "AVATAR_OF:group:3:abc",
            invalid("AVATAR_OF", "sha256", "abc"),
        ),
        ("AVATAR_OF:group:3::x", too_many("AVATAR_OF")),
        (&format!("AVATAR:{SHA}"), missing("AVATAR", "image")),
        ("AVATAR:abc:Zg==", invalid("AVATAR", "sha256", "abc")),
        (
            &format!("AVATAR:{SHA}:Zg="),
            invalid("AVATAR", "image", "Zg="),
        ),
        (&format!("AVATAR:{SHA}:Zg==:x"), too_many("AVATAR")),
    ]);
}
