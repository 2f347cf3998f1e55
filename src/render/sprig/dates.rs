//! Sprig's date functions on Go's `time.Time`: Go's layout formatting (`2006-01-02 15:04:05`),
//! durations printed as Go prints them, and the render's clock. Every zone but UTC is read as
//! UTC (packyard carries no time zone database; servers run in UTC).

use std::rc::Rc;

use time::{Duration, OffsetDateTime};

use super::{A, S, arg_str, charged, numbers::to_int64};
use crate::render::gotemplate::funcs::{FuncError, FuncMap, error};
use crate::render::gotemplate::value::{Object, Signature, Ty, Value};

/// A Go `time.Time`.
pub struct Time(pub OffsetDateTime);

pub fn time_value(t: OffsetDateTime) -> Value {
    Value::Object(Rc::new(Time(t)))
}

impl Object for Time {
    fn type_name(&self) -> &str {
        "time.Time"
    }
    fn kind_name(&self) -> &'static str {
        "struct"
    }
    fn field(&self, _: &str) -> Option<Value> {
        None
    }
    fn method(&self, name: &str) -> Option<Signature> {
        const NONE: &[Ty] = &[];
        const ONE_STRING: &[Ty] = &[Ty::String];
        let params = match name {
            "Format" => ONE_STRING,
            "Unix" | "UTC" | "Local" | "Year" | "Month" | "Day" | "Hour" | "Minute" | "Second"
            | "YearDay" | "UnixNano" | "UnixMilli" | "String" | "IsZero" => NONE,
            _ => return None,
        };
        Some(Signature {
            params,
            variadic: None,
        })
    }
    fn call(
        &self,
        name: &str,
        args: Vec<Value>,
        _: &crate::render::gotemplate::Budget,
    ) -> Result<Value, FuncError> {
        let t = self.0;
        Ok(match name {
            "Format" => Value::string(format(t, arg_str(&args, 0))),
            "Unix" => Value::Int64(t.unix_timestamp()),
            "UnixNano" => Value::Int64(t.unix_timestamp_nanos() as i64),
            "UnixMilli" => Value::Int64((t.unix_timestamp_nanos() / 1_000_000) as i64),
            "UTC" | "Local" => time_value(t),
            "Year" => Value::Int(i64::from(t.year())),
            "Month" => Value::Int(i64::from(u8::from(t.month()))),
            "Day" => Value::Int(i64::from(t.day())),
            "Hour" => Value::Int(i64::from(t.hour())),
            "Minute" => Value::Int(i64::from(t.minute())),
            "Second" => Value::Int(i64::from(t.second())),
            "YearDay" => Value::Int(i64::from(t.ordinal())),
            "IsZero" => Value::Bool(t.unix_timestamp() == -62_135_596_800),
            _ => Value::string(go_string(t)),
        })
    }
    fn format(&self, out: &mut String) {
        out.push_str(&go_string(self.0));
    }
    fn data(&self) -> Option<Value> {
        Some(Value::string(format(
            self.0,
            "2006-01-02T15:04:05.999999999Z07:00",
        )))
    }
}

/// `Time.String()`.
fn go_string(t: OffsetDateTime) -> String {
    format(t, "2006-01-02 15:04:05.999999999 -0700 MST")
}

const MONTHS: [&str; 12] = [
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
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Go's `Time.Format(layout)` (in UTC).
pub fn format(t: OffsetDateTime, layout: &str) -> String {
    let mut out = String::new();
    let b = layout.as_bytes();
    let mut i = 0;
    let month = u8::from(t.month()) as usize;
    let hour12 = match t.hour() % 12 {
        0 => 12,
        h => h,
    };
    while i < b.len() {
        let rest = &layout[i..];
        let take = |token: &str| rest.starts_with(token);
        let (text, len): (String, usize) = if take("January") {
            (MONTHS[month - 1].to_owned(), 7)
        } else if take("Jan") {
            (MONTHS[month - 1][..3].to_owned(), 3)
        } else if take("Monday") {
            (
                DAYS[t.weekday().number_days_from_monday() as usize].to_owned(),
                6,
            )
        } else if take("Mon") {
            (
                DAYS[t.weekday().number_days_from_monday() as usize][..3].to_owned(),
                3,
            )
        } else if take("MST") {
            ("UTC".to_owned(), 3)
        } else if take("2006") {
            (format!("{:04}", t.year()), 4)
        } else if take("002") {
            (format!("{:03}", t.ordinal()), 3)
        } else if take("01") {
            (format!("{month:02}"), 2)
        } else if take("02") {
            (format!("{:02}", t.day()), 2)
        } else if take("03") {
            (format!("{hour12:02}"), 2)
        } else if take("04") {
            (format!("{:02}", t.minute()), 2)
        } else if take("05") {
            (format!("{:02}", t.second()), 2)
        } else if take("06") {
            (format!("{:02}", t.year() % 100), 2)
        } else if take("15") {
            (format!("{:02}", t.hour()), 2)
        } else if take("_2") {
            (format!("{:>2}", t.day()), 2)
        } else if take("1") {
            (month.to_string(), 1)
        } else if take("2") {
            (t.day().to_string(), 1)
        } else if take("3") {
            (hour12.to_string(), 1)
        } else if take("4") {
            (t.minute().to_string(), 1)
        } else if take("5") {
            (t.second().to_string(), 1)
        } else if take("PM") {
            ((if t.hour() >= 12 { "PM" } else { "AM" }).to_owned(), 2)
        } else if take("pm") {
            ((if t.hour() >= 12 { "pm" } else { "am" }).to_owned(), 2)
        } else if take("Z07:00") {
            ("Z".to_owned(), 6)
        } else if take("Z0700") {
            ("Z".to_owned(), 5)
        } else if take("Z07") {
            ("Z".to_owned(), 3)
        } else if take("-07:00") {
            ("+00:00".to_owned(), 6)
        } else if take("-0700") {
            ("+0000".to_owned(), 5)
        } else if take("-07") {
            ("+00".to_owned(), 3)
        } else if (take(".0") || take(".9") || take(",0") || take(",9"))
            && b.get(i + 1).is_some_and(|d| *d == b'0' || *d == b'9')
        {
            let digit = b[i + 1];
            let mut n = 1;
            while b.get(i + 1 + n) == Some(&digit) {
                n += 1;
            }
            // Only a fraction not followed by another digit is a fraction.
            if b.get(i + 1 + n).is_some_and(u8::is_ascii_digit) {
                (rest[..1].to_owned(), 1)
            } else {
                let nanos = format!("{:09}", t.nanosecond());
                let mut digits = nanos[..n.min(9)].to_owned();
                if digit == b'9' {
                    digits = digits.trim_end_matches('0').to_owned();
                    if digits.is_empty() {
                        (String::new(), n + 1)
                    } else {
                        (format!("{}{digits}", &rest[..1]), n + 1)
                    }
                } else {
                    (format!("{}{digits}", &rest[..1]), n + 1)
                }
            }
        } else {
            let c = rest.chars().next().unwrap_or_default();
            (c.to_string(), c.len_utf8())
        };
        out.push_str(&text);
        i += len;
    }
    out
}

/// Go's `Duration.String()`.
pub fn go_duration(nanos: i128) -> String {
    if nanos == 0 {
        return "0s".to_owned();
    }
    let negative = nanos < 0;
    let u = nanos.unsigned_abs();
    let mut out = String::new();
    if u < 1_000_000_000 {
        let (unit, scale) = if u < 1_000 {
            ("ns", 1u128)
        } else if u < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        out.push_str(&fraction(u, scale));
        out.push_str(unit);
    } else {
        let secs = u / 1_000_000_000;
        let (h, m) = (secs / 3600, (secs / 60) % 60);
        if h > 0 {
            out.push_str(&format!("{h}h"));
        }
        if h > 0 || m > 0 {
            out.push_str(&format!("{m}m"));
        }
        out.push_str(&fraction(u % 60_000_000_000, 1_000_000_000));
        out.push('s');
    }
    if negative {
        out.insert(0, '-');
    }
    out
}

fn fraction(value: u128, scale: u128) -> String {
    let whole = value / scale;
    let frac = value % scale;
    if frac == 0 {
        return whole.to_string();
    }
    let width = scale.to_string().len() - 1;
    let digits = format!("{frac:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// Go's `time.ParseDuration`.
pub fn parse_duration(text: &str) -> Option<i128> {
    let (negative, mut rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if end == 0 {
            return None;
        }
        let number: f64 = rest[..end].parse().ok()?;
        rest = &rest[end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_end] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        total += number * scale;
        rest = &rest[unit_end..];
    }
    Some(if negative { -total } else { total } as i128)
}

/// The time a Sprig date function means by its argument (anything else is now).
fn as_time(value: &Value) -> OffsetDateTime {
    match value {
        Value::Object(object) if object.type_name() == "time.Time" => {
            let mut text = String::new();
            object.format(&mut text);
            parse_go_string(&text).unwrap_or_else(super::random::now)
        }
        Value::Int(seconds) | Value::Int64(seconds) => {
            OffsetDateTime::from_unix_timestamp(*seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH)
        }
        _ => super::random::now(),
    }
}

fn parse_go_string(text: &str) -> Option<OffsetDateTime> {
    // "2006-01-02 15:04:05.999999999 +0000 UTC"
    let mut parts = text.split(' ');
    let date = parts.next()?;
    let clock = parts.next()?;
    let iso = format!("{date}T{clock}Z");
    OffsetDateTime::parse(&iso, &time::format_description::well_known::Rfc3339).ok()
}

fn date_in_zone(layout: &str, date: &Value) -> String {
    format(as_time(date), layout)
}

/// Sprig's `durationRound`: the largest unit, rounded down (`2h`, `3d`, `1y`).
fn duration_round(value: &Value) -> String {
    let nanos: i128 = match value {
        Value::Str(s) => parse_duration(s).unwrap_or(0),
        Value::Object(object) if object.type_name() == "time.Time" => {
            (super::random::now() - as_time(value)).whole_nanoseconds()
        }
        other => i128::from(to_int64(other)),
    };
    let u = nanos.unsigned_abs() as f64 / 1e9;
    let sign = if nanos < 0 { "-" } else { "" };
    let (year, month, day, hour, minute) = (
        3600.0 * 24.0 * 365.0,
        3600.0 * 24.0 * 30.0,
        3600.0 * 24.0,
        3600.0,
        60.0,
    );
    let text = if u > year {
        format!("{}y", (u / year) as u64)
    } else if u > month {
        format!("{}mo", (u / month) as u64)
    } else if u > day {
        format!("{}d", (u / day) as u64)
    } else if u > hour {
        format!("{}h", (u / hour) as u64)
    } else if u > minute {
        format!("{}m", (u / minute) as u64)
    } else if u > 0.0 {
        format!("{}s", u as u64)
    } else {
        "0s".to_owned()
    };
    format!("{sign}{text}")
}

pub fn register(map: &mut FuncMap) {
    map.add("date", &[S, A], |exec, args| {
        charged(exec, date_in_zone(arg_str(&args, 0), &args[1]))
    });
    map.add("dateInZone", &[S, A, S], |exec, args| {
        charged(exec, date_in_zone(arg_str(&args, 0), &args[1]))
    });
    map.add("date_in_zone", &[S, A, S], |exec, args| {
        charged(exec, date_in_zone(arg_str(&args, 0), &args[1]))
    });
    map.add("htmlDate", &[A], |exec, args| {
        charged(exec, date_in_zone("2006-01-02", &args[0]))
    });
    map.add("htmlDateInZone", &[A, S], |exec, args| {
        charged(exec, date_in_zone("2006-01-02", &args[0]))
    });
    map.add("unixEpoch", &[A], |_, args| {
        Ok(Value::string(
            as_time(&args[0]).unix_timestamp().to_string(),
        ))
    });
    map.add("dateModify", &[S, A], |_, args| {
        let t = as_time(&args[1]);
        Ok(time_value(match parse_duration(arg_str(&args, 0)) {
            Some(nanos) => t + Duration::nanoseconds(nanos as i64),
            None => t,
        }))
    });
    map.add("mustDateModify", &[S, A], |_, args| {
        let t = as_time(&args[1]);
        let nanos = parse_duration(arg_str(&args, 0)).ok_or_else(|| {
            error(format!(
                "time: invalid duration {}",
                crate::render::golang::quote(arg_str(&args, 0))
            ))
        })?;
        Ok(time_value(t + Duration::nanoseconds(nanos as i64)))
    });
    map.add("ago", &[A], |_, args| {
        let elapsed = super::random::now() - as_time(&args[0]);
        let rounded = (elapsed.whole_nanoseconds() + 500_000_000) / 1_000_000_000 * 1_000_000_000;
        Ok(Value::string(go_duration(rounded)))
    });
    map.add("duration", &[A], |_, args| {
        let seconds = match &args[0] {
            Value::Str(s) => s.parse::<i64>().unwrap_or(0),
            other => to_int64(other),
        };
        Ok(Value::string(go_duration(
            i128::from(seconds) * 1_000_000_000,
        )))
    });
    map.add("durationRound", &[A], |_, args| {
        Ok(Value::string(duration_round(&args[0])))
    });
    map.add("toDate", &[S, S], |_, args| {
        Ok(time_value(
            parse_layout(arg_str(&args, 0), arg_str(&args, 1))
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        ))
    });
    map.add("mustToDate", &[S, S], |_, args| {
        parse_layout(arg_str(&args, 0), arg_str(&args, 1))
            .map(time_value)
            .ok_or_else(|| {
                error(format!(
                    "parsing time {} as {}: cannot parse",
                    crate::render::golang::quote(arg_str(&args, 1)),
                    crate::render::golang::quote(arg_str(&args, 0))
                ))
            })
    });
}

/// Parses `text` with a Go layout made of numeric fields (years, months, days, hours, minutes,
/// seconds, fractions) and literal text.
fn parse_layout(layout: &str, text: &str) -> Option<OffsetDateTime> {
    let (mut year, mut month, mut day, mut hour, mut minute, mut second) =
        (1i32, 1u8, 1u8, 0u8, 0u8, 0u8);
    let mut l = layout;
    let mut t = text;
    let number = |t: &mut &str, max: usize| -> Option<i64> {
        let end = t
            .char_indices()
            .take(max)
            .take_while(|(_, c)| c.is_ascii_digit())
            .count();
        if end == 0 {
            return None;
        }
        let n = t[..end].parse().ok()?;
        *t = &t[end..];
        Some(n)
    };
    while !l.is_empty() {
        if let Some(rest) = l.strip_prefix("2006") {
            year = number(&mut t, 4)? as i32;
            l = rest;
        } else if let Some(rest) = l.strip_prefix("01") {
            month = number(&mut t, 2)? as u8;
            l = rest;
        } else if let Some(rest) = l.strip_prefix("02") {
            day = number(&mut t, 2)? as u8;
            l = rest;
        } else if let Some(rest) = l.strip_prefix("15") {
            hour = number(&mut t, 2)? as u8;
            l = rest;
        } else if let Some(rest) = l.strip_prefix("04") {
            minute = number(&mut t, 2)? as u8;
            l = rest;
        } else if let Some(rest) = l.strip_prefix("05") {
            second = number(&mut t, 2)? as u8;
            l = rest;
        } else if let Some(rest) = l.strip_prefix("Z07:00") {
            t = t.strip_prefix('Z').or_else(|| t.get(6..))?;
            l = rest;
        } else {
            let c = l.chars().next()?;
            t = t.strip_prefix(c)?;
            l = &l[c.len_utf8()..];
        }
    }
    if !t.is_empty() {
        return None;
    }
    let date =
        time::Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()?;
    let clock = time::Time::from_hms(hour, minute, second).ok()?;
    Some(time::PrimitiveDateTime::new(date, clock).assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_and_durations_follow_go() {
        let t = OffsetDateTime::from_unix_timestamp(1_735_689_600 + 3_723).unwrap();
        assert_eq!(format(t, "2006-01-02 15:04:05"), "2025-01-01 01:02:03");
        assert_eq!(format(t, "Jan _2 3:04PM"), "Jan  1 1:02AM");
        assert_eq!(go_duration(3_723_000_000_000), "1h2m3s");
        assert_eq!(go_duration(1_500_000_000), "1.5s");
        assert_eq!(go_duration(0), "0s");
        assert_eq!(parse_duration("1h30m"), Some(5_400_000_000_000));
        assert_eq!(
            parse_layout("2006-01-02", "2025-01-01").map(|t| t.unix_timestamp()),
            Some(1_735_689_600)
        );
    }
}
