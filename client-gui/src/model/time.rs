//! Times as the lists and bubbles show them.

use ququ_protocol::Millis;

/// `HH:MM` for today's messages, `MM-DD HH:MM` for older ones, at `offset_minutes` east of UTC.
///
/// Pure (the offset is a parameter) so it is testable; [`local_offset_minutes`] gives the system's.
pub fn format_time(time: Millis, now: Millis, offset_minutes: i64) -> String {
    let local = |ms: Millis| (ms as i64 / 1000) + offset_minutes * 60;
    let (t, n) = (local(time), local(now));
    let (day, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    let (h, m) = (secs / 3600, (secs % 3600) / 60);
    if day == n.div_euclid(86_400) {
        format!("{h:02}:{m:02}")
    } else {
        let (_, month, d) = civil_from_days(day);
        format!("{month:02}-{d:02} {h:02}:{m:02}")
    }
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian calendar (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `YYYY-MM-DD HH:MM` at `offset_minutes` east of UTC: a time in the history window and an export, where
/// "today" is no help.
pub fn format_date_time(time: Millis, offset_minutes: i64) -> String {
    let t = (time as i64 / 1000) + offset_minutes * 60;
    let (day, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    let (y, month, d) = civil_from_days(day);
    format!(
        "{y:04}-{month:02}-{d:02} {:02}:{:02}",
        secs / 3600,
        (secs % 3600) / 60
    )
}

/// `MM-DD HH:MM` in this machine's zone: when a mute ends (the year goes without saying, a mute
/// lasting 30 days at most).
pub fn format_mute_end(until: Millis) -> String {
    let full = format_date_time(until, local_offset_minutes());
    full.get(5..).unwrap_or(&full).to_owned()
}

/// The start of the day written as `YYYY-MM-DD` (also `YYYY/MM/DD`, one-digit months and days), at
/// `offset_minutes` east of UTC, in milliseconds since the epoch; `None` if it is not such a date.
/// `next` gives the start of the following day instead (the end of a span "up to" that day).
pub fn day_start(written: &str, offset_minutes: i64, next: bool) -> Option<Millis> {
    let normal = written.trim().replace('/', "-");
    let date = chrono::NaiveDate::parse_from_str(&normal, "%Y-%m-%d").ok()?;
    let date = if next { date.succ_opt()? } else { date };
    let utc = date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis() - offset_minutes * 60_000;
    Millis::try_from(utc).ok()
}

/// The system time zone's current offset from UTC, in minutes.
pub fn local_offset_minutes() -> i64 {
    i64::from(chrono::Local::now().offset().local_minus_utc()) / 60
}

/// Milliseconds since the Unix epoch now.
pub fn now_millis() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as Millis)
}
