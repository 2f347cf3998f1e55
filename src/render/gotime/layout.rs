//! Go's layouts (`2006-01-02 15:04:05.000 -0700 MST`): `Time.Format` and `time.Parse`, chunk by
//! chunk as Go's `nextStdChunk` cuts them, with Go's error texts.

use super::zone::Location;
use super::{GoTime, quote};

/// One standard chunk of a layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Std {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    Pm,
    PmLower,
    Tz,
    Iso8601Tz,
    Iso8601SecondsTz,
    Iso8601ShortTz,
    Iso8601ColonTz,
    Iso8601ColonSecondsTz,
    NumTz,
    NumSecondsTz,
    NumShortTz,
    NumColonTz,
    NumColonSecondsTz,
    /// `.000` (`digits` zeros; `sep` is `.` or `,`).
    FracSecond0 {
        digits: usize,
        sep: u8,
    },
    /// `.999`: trailing zeros trimmed.
    FracSecond9 {
        digits: usize,
        sep: u8,
    },
}

const LONG_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
/// Go's weekday names, from Sunday.
const LONG_DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

pub fn month_name(month: u32) -> &'static str {
    LONG_MONTHS
        .get(month.wrapping_sub(1) as usize)
        .copied()
        .unwrap_or("%!Month")
}

pub fn weekday_name(weekday: u32) -> &'static str {
    LONG_DAYS
        .get(weekday as usize)
        .copied()
        .unwrap_or("%!Weekday")
}

fn starts_with_lower(text: &[u8]) -> bool {
    text.first().is_some_and(u8::is_ascii_lowercase)
}

/// Go's `nextStdChunk`: the literal prefix, the chunk and the rest of the layout.
fn next_chunk(layout: &str) -> (&str, Option<Std>, &str) {
    let b = layout.as_bytes();
    let at = |i: usize, s: &str| b.get(i..i + s.len()) == Some(s.as_bytes());
    for i in 0..b.len() {
        let found = |std: Std, len: usize| Some((&layout[..i], Some(std), &layout[i + len..]));
        let chunk = match b[i] {
            b'J' if at(i, "Jan") => {
                if at(i, "January") {
                    found(Std::LongMonth, 7)
                } else if !starts_with_lower(&b[i + 3..]) {
                    found(Std::Month, 3)
                } else {
                    None
                }
            }
            b'M' if at(i, "Mon") => {
                if at(i, "Monday") {
                    found(Std::LongWeekDay, 6)
                } else if !starts_with_lower(&b[i + 3..]) {
                    found(Std::WeekDay, 3)
                } else {
                    None
                }
            }
            b'M' if at(i, "MST") => found(Std::Tz, 3),
            b'0' if b.get(i + 1).is_some_and(|d| (b'1'..=b'6').contains(d)) => {
                let std = [
                    Std::ZeroMonth,
                    Std::ZeroDay,
                    Std::ZeroHour12,
                    Std::ZeroMinute,
                    Std::ZeroSecond,
                    Std::Year,
                ][usize::from(b[i + 1] - b'1')];
                found(std, 2)
            }
            b'0' if at(i, "002") => found(Std::ZeroYearDay, 3),
            b'1' if at(i, "15") => found(Std::Hour, 2),
            b'1' => found(Std::NumMonth, 1),
            b'2' if at(i, "2006") => found(Std::LongYear, 4),
            b'2' => found(Std::Day, 1),
            b'_' if at(i, "_2") => {
                // `_2006` is a literal `_` and a year.
                if at(i + 1, "2006") {
                    Some((&layout[..i + 1], Some(Std::LongYear), &layout[i + 5..]))
                } else {
                    found(Std::UnderDay, 2)
                }
            }
            b'_' if at(i, "__2") => found(Std::UnderYearDay, 3),
            b'3' => found(Std::Hour12, 1),
            b'4' => found(Std::Minute, 1),
            b'5' => found(Std::Second, 1),
            b'P' if at(i, "PM") => found(Std::Pm, 2),
            b'p' if at(i, "pm") => found(Std::PmLower, 2),
            b'-' if at(i, "-070000") => found(Std::NumSecondsTz, 7),
            b'-' if at(i, "-07:00:00") => found(Std::NumColonSecondsTz, 9),
            b'-' if at(i, "-0700") => found(Std::NumTz, 5),
            b'-' if at(i, "-07:00") => found(Std::NumColonTz, 6),
            b'-' if at(i, "-07") => found(Std::NumShortTz, 3),
            b'Z' if at(i, "Z070000") => found(Std::Iso8601SecondsTz, 7),
            b'Z' if at(i, "Z07:00:00") => found(Std::Iso8601ColonSecondsTz, 9),
            b'Z' if at(i, "Z0700") => found(Std::Iso8601Tz, 5),
            b'Z' if at(i, "Z07:00") => found(Std::Iso8601ColonTz, 6),
            b'Z' if at(i, "Z07") => found(Std::Iso8601ShortTz, 3),
            sep @ (b'.' | b',') if matches!(b.get(i + 1), Some(b'0' | b'9')) => {
                let digit = b[i + 1];
                let mut j = i + 1;
                while b.get(j) == Some(&digit) {
                    j += 1;
                }
                // Only a run of digits that ends here is a fraction.
                if b.get(j).is_some_and(u8::is_ascii_digit) {
                    None
                } else {
                    let digits = j - (i + 1);
                    let std = if digit == b'0' {
                        Std::FracSecond0 { digits, sep }
                    } else {
                        Std::FracSecond9 { digits, sep }
                    };
                    found(std, j - i)
                }
            }
            _ => None,
        };
        if let Some(chunk) = chunk {
            return chunk;
        }
    }
    (layout, None, "")
}

/// Go's `appendInt(b, x, width)`: a sign, then the digits zero-padded to `width`.
fn append_int(out: &mut String, x: i64, width: usize) {
    if x < 0 {
        out.push('-');
    }
    out.push_str(&format!("{:0width$}", x.unsigned_abs()));
}

/// Go's `Time.Format(layout)` for a time shown in a zone with this abbreviation and offset
/// (seconds east of UTC).
pub fn format(t: GoTime, zone_name: &str, offset: i32, layout: &str) -> String {
    let mut out = String::with_capacity(layout.len() + 10);
    let f = t.add_nanos(i64::from(offset) * 1_000_000_000).fields();
    let mut layout = layout;
    loop {
        let (prefix, std, suffix) = next_chunk(layout);
        out.push_str(prefix);
        let Some(std) = std else {
            break;
        };
        layout = suffix;
        let hour12 = match f.hour % 12 {
            0 => 12,
            h => h,
        };
        match std {
            Std::Year => append_int(&mut out, f.year.abs() % 100, 2),
            Std::LongYear => append_int(&mut out, f.year, 4),
            Std::Month => out.push_str(&month_name(f.month)[..3]),
            Std::LongMonth => out.push_str(month_name(f.month)),
            Std::NumMonth => append_int(&mut out, i64::from(f.month), 0),
            Std::ZeroMonth => append_int(&mut out, i64::from(f.month), 2),
            Std::WeekDay => out.push_str(&weekday_name(f.weekday)[..3]),
            Std::LongWeekDay => out.push_str(weekday_name(f.weekday)),
            Std::Day => append_int(&mut out, i64::from(f.day), 0),
            Std::UnderDay => {
                if f.day < 10 {
                    out.push(' ');
                }
                append_int(&mut out, i64::from(f.day), 0);
            }
            Std::ZeroDay => append_int(&mut out, i64::from(f.day), 2),
            Std::UnderYearDay => {
                if f.year_day < 100 {
                    out.push(' ');
                    if f.year_day < 10 {
                        out.push(' ');
                    }
                }
                append_int(&mut out, i64::from(f.year_day), 0);
            }
            Std::ZeroYearDay => append_int(&mut out, i64::from(f.year_day), 3),
            Std::Hour => append_int(&mut out, i64::from(f.hour), 2),
            Std::Hour12 => append_int(&mut out, i64::from(hour12), 0),
            Std::ZeroHour12 => append_int(&mut out, i64::from(hour12), 2),
            Std::Minute => append_int(&mut out, i64::from(f.minute), 0),
            Std::ZeroMinute => append_int(&mut out, i64::from(f.minute), 2),
            Std::Second => append_int(&mut out, i64::from(f.second), 0),
            Std::ZeroSecond => append_int(&mut out, i64::from(f.second), 2),
            Std::Pm => out.push_str(if f.hour >= 12 { "PM" } else { "AM" }),
            Std::PmLower => out.push_str(if f.hour >= 12 { "pm" } else { "am" }),
            Std::Tz => {
                if zone_name.is_empty() {
                    // No name: Go prints the offset as -0700.
                    let zone = offset / 60;
                    out.push(if zone < 0 { '-' } else { '+' });
                    append_int(&mut out, i64::from(zone.abs() / 60), 2);
                    append_int(&mut out, i64::from(zone.abs() % 60), 2);
                } else {
                    out.push_str(zone_name);
                }
            }
            Std::FracSecond0 { digits, sep } | Std::FracSecond9 { digits, sep } => {
                let trim = matches!(std, Std::FracSecond9 { .. });
                if trim && (digits == 0 || f.nanosecond == 0) {
                    continue;
                }
                let mut text = format!("{}{:09}", char::from(sep), f.nanosecond);
                text.truncate(1 + digits.min(9));
                if trim {
                    while text.ends_with('0') {
                        text.pop();
                    }
                    if text.len() == 1 {
                        text.clear();
                    }
                }
                out.push_str(&text);
            }
            zone => format_offset(&mut out, zone, offset),
        }
    }
    out
}

/// The numeric zone chunks (`-07:00`, `Z0700`...).
fn format_offset(out: &mut String, std: Std, offset: i32) {
    use Std::*;
    let iso = matches!(
        std,
        Iso8601Tz | Iso8601ColonTz | Iso8601SecondsTz | Iso8601ShortTz | Iso8601ColonSecondsTz
    );
    if offset == 0 && iso {
        out.push('Z');
        return;
    }
    let zone = offset / 60;
    out.push(if zone < 0 { '-' } else { '+' });
    let (zone, abs) = (zone.abs(), offset.abs());
    append_int(out, i64::from(zone / 60), 2);
    if matches!(
        std,
        Iso8601ColonTz | NumColonTz | Iso8601ColonSecondsTz | NumColonSecondsTz
    ) {
        out.push(':');
    }
    if !matches!(std, NumShortTz | Iso8601ShortTz) {
        append_int(out, i64::from(zone % 60), 2);
    }
    if matches!(
        std,
        Iso8601SecondsTz | NumSecondsTz | NumColonSecondsTz | Iso8601ColonSecondsTz
    ) {
        if matches!(std, NumColonSecondsTz | Iso8601ColonSecondsTz) {
            out.push(':');
        }
        append_int(out, i64::from(abs % 60), 2);
    }
}

/// Go's `*time.ParseError` texts.
fn parse_error(layout: &str, value: &str, layout_elem: &str, value_elem: &str) -> String {
    format!(
        "parsing time {} as {}: cannot parse {} as {}",
        quote(value),
        quote(layout),
        quote(value_elem),
        quote(layout_elem)
    )
}

fn message_error(value: &str, message: &str) -> String {
    format!("parsing time {}{message}", quote(value))
}

fn is_digit(s: &[u8], i: usize) -> bool {
    s.get(i).is_some_and(u8::is_ascii_digit)
}

/// Go's `skip`: the layout's literal text, where a run of spaces matches a run of spaces.
fn skip<'v>(mut value: &'v [u8], prefix: &str) -> Result<&'v [u8], &'v [u8]> {
    let mut prefix = prefix.as_bytes();
    let cut = |s: &[u8]| s.iter().position(|c| *c != b' ').unwrap_or(s.len());
    while let Some(&p) = prefix.first() {
        if p == b' ' {
            if value.first().is_some_and(|c| *c != b' ') {
                return Err(value);
            }
            prefix = &prefix[cut(prefix)..];
            value = &value[cut(value)..];
            continue;
        }
        if value.first() != Some(&p) {
            return Err(value);
        }
        prefix = &prefix[1..];
        value = &value[1..];
    }
    Ok(value)
}

/// Go's `getnum`: one or two digits (exactly two when `fixed`).
fn getnum(s: &[u8], fixed: bool) -> Option<(i64, &[u8])> {
    if !is_digit(s, 0) {
        return None;
    }
    if !is_digit(s, 1) {
        if fixed {
            return None;
        }
        return Some((i64::from(s[0] - b'0'), &s[1..]));
    }
    Some((
        i64::from(s[0] - b'0') * 10 + i64::from(s[1] - b'0'),
        &s[2..],
    ))
}

/// Go's `getnum3`: one to three digits (exactly three when `fixed`).
fn getnum3(s: &[u8], fixed: bool) -> Option<(i64, &[u8])> {
    let n = s.iter().take(3).take_while(|c| c.is_ascii_digit()).count();
    if n == 0 || fixed && n != 3 {
        return None;
    }
    let value = s[..n]
        .iter()
        .fold(0i64, |acc, c| acc * 10 + i64::from(c - b'0'));
    Some((value, &s[n..]))
}

/// Go's `leadingInt` over bytes.
fn leading_int(s: &[u8]) -> Option<(u64, &[u8])> {
    let n = s.iter().take_while(|c| c.is_ascii_digit()).count();
    let mut x: u64 = 0;
    for c in &s[..n] {
        if x > (1 << 63) / 10 {
            return None;
        }
        x = x * 10 + u64::from(c - b'0');
        if x > 1 << 63 {
            return None;
        }
    }
    Some((x, &s[n..]))
}

/// Go's `atoi`: an optional sign and digits, nothing else.
fn atoi(s: &[u8]) -> Option<i64> {
    let (negative, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (x, rest) = leading_int(digits)?;
    if !rest.is_empty() {
        return None;
    }
    let x = x as i64;
    Some(if negative { x.wrapping_neg() } else { x })
}

/// Go's `lookup`: the first name the value starts with, ignoring ASCII case.
fn lookup<'v>(names: &[&str], value: &'v [u8]) -> Option<(usize, &'v [u8])> {
    names.iter().enumerate().find_map(|(i, name)| {
        let n = name.len();
        (value.len() >= n && value[..n].eq_ignore_ascii_case(name.as_bytes()))
            .then(|| (i, &value[n..]))
    })
}

/// Go's `parseNanoseconds`: a separator and digits, scaled to nanoseconds.
fn parse_nanoseconds(value: &[u8], n: usize) -> Result<i64, Option<&'static str>> {
    if !matches!(value.first(), Some(b'.' | b',')) {
        return Err(None);
    }
    let n = n.min(10);
    let ns = atoi(&value[1..n]).ok_or(None)?;
    if ns < 0 {
        return Err(Some("fractional second"));
    }
    Ok(ns * 10i64.pow((10 - n) as u32))
}

/// Go's `parseSignedOffset`: the length of `+hh` or `-hh` (0 when it is not one).
fn signed_offset_len(value: &[u8]) -> usize {
    if !matches!(value.first(), Some(b'+' | b'-')) {
        return 0;
    }
    match leading_int(&value[1..]) {
        Some((x, rest)) if rest.len() != value.len() - 1 && x <= 24 => value.len() - rest.len(),
        _ => 0,
    }
}

/// Go's `parseTimeZone`: the length of a zone abbreviation at the start of the value.
fn time_zone_len(value: &[u8]) -> Option<usize> {
    if value.len() < 3 {
        return None;
    }
    if value.starts_with(b"ChST") || value.starts_with(b"MeST") {
        return Some(4);
    }
    if value.starts_with(b"GMT") {
        return Some(
            3 + if value.len() > 3 {
                signed_offset_len(&value[3..])
            } else {
                0
            },
        );
    }
    if matches!(value[0], b'+' | b'-') {
        return Some(signed_offset_len(value)).filter(|n| *n > 0);
    }
    let upper = value
        .iter()
        .take(6)
        .take_while(|c| c.is_ascii_uppercase())
        .count();
    match upper {
        3 => Some(3),
        4 if value[3] == b'T' || value.starts_with(b"WITA") => Some(4),
        5 if value[4] == b'T' => Some(5),
        _ => None,
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in(month: i64, year: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days before the start of each month in a common year.
const DAYS_BEFORE: [i64; 13] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];

/// Go's `time.ParseInLocation(layout, value, time.Local)` (packyard's Local is UTC).
pub fn parse(layout: &str, value: &str) -> Result<(GoTime, Location), String> {
    let (full_layout, full_value) = (layout, value);
    let mut layout = layout;
    let mut value = value.as_bytes();
    let text = |v: &[u8]| String::from_utf8_lossy(v).into_owned();
    let (mut year, mut month, mut day, mut yday) = (0i64, -1i64, -1i64, -1i64);
    let (mut hour, mut min, mut sec, mut nsec) = (0i64, 0i64, 0i64, 0i64);
    let (mut am, mut pm) = (false, false);
    let mut utc = false;
    let mut zone_offset: Option<i64> = None;
    let mut zone_name: Option<String> = None;
    loop {
        let (prefix, std, suffix) = next_chunk(layout);
        let std_text = &layout[prefix.len()..layout.len() - suffix.len()];
        value = skip(value, prefix)
            .map_err(|at| parse_error(full_layout, full_value, prefix, &text(at)))?;
        let Some(std) = std else {
            if !value.is_empty() {
                return Err(message_error(
                    full_value,
                    &format!(": extra text: {}", quote(&text(value))),
                ));
            }
            break;
        };
        layout = suffix;
        let hold = value;
        let mut range: Option<&str> = None;
        let ok: Option<()> = (|| {
            match std {
                Std::Year => {
                    let p = value.get(..2)?;
                    value = &value[2..];
                    year = atoi(p)?;
                    year += if year >= 69 { 1900 } else { 2000 };
                }
                Std::LongYear => {
                    if value.len() < 4 || !is_digit(value, 0) {
                        return None;
                    }
                    year = atoi(&value[..4])?;
                    value = &value[4..];
                }
                Std::Month | Std::LongMonth => {
                    let names: Vec<&str> = if std == Std::Month {
                        LONG_MONTHS.iter().map(|m| &m[..3]).collect()
                    } else {
                        LONG_MONTHS.to_vec()
                    };
                    let (i, rest) = lookup(&names, value)?;
                    month = i as i64 + 1;
                    value = rest;
                }
                Std::NumMonth | Std::ZeroMonth => {
                    let (n, rest) = getnum(value, std == Std::ZeroMonth)?;
                    (month, value) = (n, rest);
                    if !(1..=12).contains(&month) {
                        range = Some("month");
                    }
                }
                Std::WeekDay | Std::LongWeekDay => {
                    let names: Vec<&str> = if std == Std::WeekDay {
                        LONG_DAYS.iter().map(|d| &d[..3]).collect()
                    } else {
                        LONG_DAYS.to_vec()
                    };
                    value = lookup(&names, value)?.1;
                }
                Std::Day | Std::UnderDay | Std::ZeroDay => {
                    if std == Std::UnderDay && value.first() == Some(&b' ') {
                        value = &value[1..];
                    }
                    (day, value) = getnum(value, std == Std::ZeroDay)?;
                }
                Std::UnderYearDay | Std::ZeroYearDay => {
                    for _ in 0..2 {
                        if std == Std::UnderYearDay && value.first() == Some(&b' ') {
                            value = &value[1..];
                        }
                    }
                    (yday, value) = getnum3(value, std == Std::ZeroYearDay)?;
                }
                Std::Hour => {
                    (hour, value) = getnum(value, false)?;
                    if !(0..24).contains(&hour) {
                        range = Some("hour");
                    }
                }
                Std::Hour12 | Std::ZeroHour12 => {
                    (hour, value) = getnum(value, std == Std::ZeroHour12)?;
                    if !(0..=12).contains(&hour) {
                        range = Some("hour");
                    }
                }
                Std::Minute | Std::ZeroMinute => {
                    (min, value) = getnum(value, std == Std::ZeroMinute)?;
                    if !(0..60).contains(&min) {
                        range = Some("minute");
                    }
                }
                Std::Second | Std::ZeroSecond => {
                    (sec, value) = getnum(value, std == Std::ZeroSecond)?;
                    if !(0..60).contains(&sec) {
                        range = Some("second");
                        return Some(());
                    }
                    // A fraction in the value that the layout does not ask for.
                    if value.len() >= 2 && matches!(value[0], b'.' | b',') && is_digit(value, 1) {
                        let (_, next, _) = next_chunk(layout);
                        if matches!(
                            next,
                            Some(Std::FracSecond0 { .. } | Std::FracSecond9 { .. })
                        ) {
                            return Some(());
                        }
                        let mut n = 2;
                        while is_digit(value, n) {
                            n += 1;
                        }
                        match parse_nanoseconds(value, n) {
                            Ok(ns) => nsec = ns,
                            Err(Some(r)) => range = Some(r),
                            Err(None) => return None,
                        }
                        value = &value[n..];
                    }
                }
                Std::Pm | Std::PmLower => {
                    let p = value.get(..2)?;
                    value = &value[2..];
                    let (upper, lower) = if std == Std::Pm {
                        (b"PM", b"AM")
                    } else {
                        (b"pm", b"am")
                    };
                    if p == upper {
                        pm = true;
                    } else if p == lower {
                        am = true;
                    } else {
                        return None;
                    }
                }
                Std::Tz => {
                    if value.starts_with(b"UTC") {
                        utc = true;
                        value = &value[3..];
                        return Some(());
                    }
                    let n = time_zone_len(value)?;
                    zone_name = Some(text(&value[..n]));
                    value = &value[n..];
                }
                Std::FracSecond0 { digits, .. } => {
                    let n = 1 + digits;
                    if value.len() < n {
                        return None;
                    }
                    match parse_nanoseconds(value, n) {
                        Ok(ns) => nsec = ns,
                        Err(Some(r)) => range = Some(r),
                        Err(None) => return None,
                    }
                    value = &value[n..];
                }
                Std::FracSecond9 { .. } => {
                    if value.len() < 2 || !matches!(value[0], b'.' | b',') || !is_digit(value, 1) {
                        return Some(());
                    }
                    let mut i = 0;
                    while is_digit(value, i + 1) {
                        i += 1;
                    }
                    match parse_nanoseconds(value, 1 + i) {
                        Ok(ns) => nsec = ns,
                        Err(Some(r)) => range = Some(r),
                        Err(None) => return None,
                    }
                    value = &value[1 + i..];
                }
                zone => {
                    let iso = matches!(
                        zone,
                        Std::Iso8601Tz
                            | Std::Iso8601ShortTz
                            | Std::Iso8601ColonTz
                            | Std::Iso8601SecondsTz
                            | Std::Iso8601ColonSecondsTz
                    );
                    if iso && value.first() == Some(&b'Z') {
                        value = &value[1..];
                        utc = true;
                        return Some(());
                    }
                    let (sign, h, m, s, len): (u8, &[u8], &[u8], &[u8], usize) = match zone {
                        Std::Iso8601ColonTz | Std::NumColonTz => {
                            if value.len() < 6 || value[3] != b':' {
                                return None;
                            }
                            (value[0], &value[1..3], &value[4..6], b"00", 6)
                        }
                        Std::NumShortTz | Std::Iso8601ShortTz => {
                            if value.len() < 3 {
                                return None;
                            }
                            (value[0], &value[1..3], b"00", b"00", 3)
                        }
                        Std::Iso8601ColonSecondsTz | Std::NumColonSecondsTz => {
                            if value.len() < 9 || value[3] != b':' || value[6] != b':' {
                                return None;
                            }
                            (value[0], &value[1..3], &value[4..6], &value[7..9], 9)
                        }
                        Std::Iso8601SecondsTz | Std::NumSecondsTz => {
                            if value.len() < 7 {
                                return None;
                            }
                            (value[0], &value[1..3], &value[3..5], &value[5..7], 7)
                        }
                        _ => {
                            if value.len() < 5 {
                                return None;
                            }
                            (value[0], &value[1..3], &value[3..5], b"00", 5)
                        }
                    };
                    value = &value[len..];
                    let (hr, _) = getnum(h, true)?;
                    let (mm, _) = getnum(m, true)?;
                    let (ss, _) = getnum(s, true)?;
                    if hr > 24 {
                        range = Some("time zone offset hour");
                    }
                    if mm > 60 {
                        range = Some("time zone offset minute");
                    }
                    if ss > 60 {
                        range = Some("time zone offset second");
                    }
                    let offset = (hr * 60 + mm) * 60 + ss;
                    zone_offset = Some(match sign {
                        b'+' => offset,
                        b'-' => -offset,
                        _ => return None,
                    });
                }
            }
            Some(())
        })();
        if let Some(range) = range {
            return Err(message_error(
                full_value,
                &format!(": {range} out of range"),
            ));
        }
        if ok.is_none() {
            return Err(parse_error(full_layout, full_value, std_text, &text(hold)));
        }
    }
    if pm && hour < 12 {
        hour += 12;
    } else if am && hour == 12 {
        hour = 0;
    }
    let rest = text(value);
    if yday >= 0 {
        let (mut m, mut d) = (0, 0);
        if is_leap(year) {
            if yday == 31 + 29 {
                (m, d) = (2, 29);
            } else if yday > 31 + 29 {
                yday -= 1;
            }
        }
        if !(1..=365).contains(&yday) {
            let _ = rest;
            return Err(message_error(full_value, ": day-of-year out of range"));
        }
        if m == 0 {
            m = (yday - 1) / 31 + 1;
            if DAYS_BEFORE[m as usize] < yday {
                m += 1;
            }
            d = yday - DAYS_BEFORE[m as usize - 1];
        }
        if month >= 0 && month != m {
            return Err(message_error(
                full_value,
                ": day-of-year does not match month",
            ));
        }
        month = m;
        if day >= 0 && day != d {
            return Err(message_error(
                full_value,
                ": day-of-year does not match day",
            ));
        }
        day = d;
    } else {
        if month < 0 {
            month = 1;
        }
        if day < 0 {
            day = 1;
        }
    }
    if day < 1 || day > days_in(month, year) {
        return Err(message_error(full_value, ": day out of range"));
    }
    let wall = GoTime::from_fields(
        year,
        month as u32,
        day as u32,
        hour as u32,
        min as u32,
        sec as u32,
        nsec as u32,
    );
    if utc {
        return Ok((wall, Location::Utc));
    }
    if let Some(offset) = zone_offset {
        let t = wall.add_nanos(-offset * 1_000_000_000);
        // Local (UTC) when the offset and the name are its own.
        if offset == 0 && zone_name.as_deref().is_none_or(|n| n == "UTC") {
            return Ok((t, Location::Local));
        }
        return Ok((
            t,
            Location::fixed(zone_name.as_deref().unwrap_or(""), offset),
        ));
    }
    if let Some(name) = zone_name {
        if name == "UTC" {
            return Ok((wall, Location::Local));
        }
        // An abbreviation Go cannot place: its offset is unknown (0), but for GMT+h.
        let offset = name
            .strip_prefix("GMT")
            .and_then(|h| atoi(h.as_bytes()))
            .map_or(0, |h| h * 3600);
        return Ok((wall, Location::fixed(&name, offset)));
    }
    Ok((wall, Location::Local))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_follow_go() {
        let t = GoTime::from_unix(1_735_689_600 + 3_723, 0);
        let utc = |layout| format(t, "UTC", 0, layout);
        assert_eq!(utc("2006-01-02 15:04:05"), "2025-01-01 01:02:03");
        assert_eq!(utc("Jan _2 3:04PM Mon"), "Jan  1 1:02AM Wed");
        assert_eq!(utc("Janet Monty __2 002"), "Janet Monty   1 001");
        assert_eq!(
            format(t, "", 7200, "15:04 MST -07:00 Z07"),
            "03:02 +0200 +02:00 +02"
        );
        assert_eq!(
            format(super::super::ZERO, "UTC", 0, "2006-01-02"),
            "0001-01-01"
        );
    }

    #[test]
    fn parsing_follows_go() {
        let (t, loc) = parse("2006-01-02 15:04 -0700", "2024-03-01 07:08 +0200").unwrap();
        assert_eq!(t.unix(), 1_709_269_680);
        assert_eq!(loc, Location::fixed("", 7200));
        assert_eq!(
            parse("2006-01-02", "nope").unwrap_err(),
            r#"parsing time "nope" as "2006-01-02": cannot parse "nope" as "2006""#
        );
        assert_eq!(
            parse("2006-01-02", "2024-13-01").unwrap_err(),
            r#"parsing time "2024-13-01": month out of range"#
        );
        assert_eq!(
            parse("2006-01-02", "2024-02-30").unwrap_err(),
            r#"parsing time "2024-02-30": day out of range"#
        );
        assert_eq!(
            parse("2006-01-02", "2024-02-01x").unwrap_err(),
            r#"parsing time "2024-02-01x": extra text: "x""#
        );
        assert_eq!(
            parse("Jan 2 2006", "Foo 2 2024").unwrap_err(),
            r#"parsing time "Foo 2 2024" as "Jan 2 2006": cannot parse "Foo 2 2024" as "Jan""#
        );
    }
}
