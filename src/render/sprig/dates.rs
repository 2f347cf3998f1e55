//! Sprig's date functions on Go's `time.Time` ([`crate::render::gotime`]): Go's layout formatting
//! (`2006-01-02 15:04:05`), durations parsed and printed as Go does, with Go's arithmetic at the
//! edges (saturating `Add`, wrapping `Unix`), and the render's clock. Every zone but UTC is read as
//! UTC (packyard carries no time zone database; servers run in UTC).

use std::rc::Rc;

use super::{A, S, arg_str, charged};
use crate::render::gotemplate::funcs::{FuncError, FuncMap, error};
use crate::render::gotemplate::value::{Object, Signature, Ty, Value};
use crate::render::gotime::{self, Fields, GoTime};

/// A Go `time.Time`.
pub struct Time(pub GoTime);

/// A parameter of type `time.Time`.
const TIME: Ty = Ty::Named("time.Time");

pub fn time_value(t: GoTime) -> Value {
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
        budget: &crate::render::gotemplate::Budget,
    ) -> Result<Value, FuncError> {
        let t = self.0;
        let f = t.fields();
        Ok(match name {
            "Format" => {
                let text = format(t, arg_str(&args, 0));
                budget.charge(text.len() as u64)?;
                Value::string(text)
            }
            "Unix" => Value::Int64(t.unix()),
            "UnixNano" => Value::Int64(t.unix_nano()),
            "UnixMilli" => Value::Int64(
                t.unix()
                    .wrapping_mul(1000)
                    .wrapping_add(i64::from(t.nanosecond() / 1_000_000)),
            ),
            "UTC" | "Local" => time_value(t),
            "Year" => Value::Int(f.year),
            "Month" => Value::Int(i64::from(f.month)),
            "Day" => Value::Int(i64::from(f.day)),
            "Hour" => Value::Int(i64::from(f.hour)),
            "Minute" => Value::Int(i64::from(f.minute)),
            "Second" => Value::Int(i64::from(f.second)),
            "YearDay" => Value::Int(i64::from(f.year_day)),
            "IsZero" => Value::Bool(t.is_zero()),
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
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// `Time.String()`.
fn go_string(t: GoTime) -> String {
    format(t, "2006-01-02 15:04:05.999999999 -0700 MST")
}

/// Go's `appendInt(b, x, width)`: a sign, then the digits zero-padded to `width`.
fn append_int(out: &mut String, x: i64, width: usize) {
    if x < 0 {
        out.push('-');
    }
    out.push_str(&format!("{:0width$}", x.unsigned_abs()));
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
pub fn format(t: GoTime, layout: &str) -> String {
    let mut out = String::new();
    let b = layout.as_bytes();
    let mut i = 0;
    let f: Fields = t.fields();
    let month = f.month as usize;
    let hour12 = match f.hour % 12 {
        0 => 12,
        h => h,
    };
    let int = |x: i64, width: usize| {
        let mut text = String::new();
        append_int(&mut text, x, width);
        text
    };
    // Go's weekday names start on Sunday.
    let weekday = DAYS[(f.weekday as usize + 6) % 7];
    while i < b.len() {
        let rest = &layout[i..];
        let take = |token: &str| rest.starts_with(token);
        let (text, len): (String, usize) = if take("January") {
            (MONTHS[month - 1].to_owned(), 7)
        } else if take("Jan") {
            (MONTHS[month - 1][..3].to_owned(), 3)
        } else if take("Monday") {
            (weekday.to_owned(), 6)
        } else if take("Mon") {
            (weekday[..3].to_owned(), 3)
        } else if take("MST") {
            ("UTC".to_owned(), 3)
        } else if take("2006") {
            (int(f.year, 4), 4)
        } else if take("002") {
            (int(i64::from(f.year_day), 3), 3)
        } else if take("01") {
            (format!("{month:02}"), 2)
        } else if take("02") {
            (format!("{:02}", f.day), 2)
        } else if take("03") {
            (format!("{hour12:02}"), 2)
        } else if take("04") {
            (format!("{:02}", f.minute), 2)
        } else if take("05") {
            (format!("{:02}", f.second), 2)
        } else if take("06") {
            (int(f.year % 100, 2), 2)
        } else if take("15") {
            (format!("{:02}", f.hour), 2)
        } else if take("_2") {
            (format!("{:>2}", f.day), 2)
        } else if take("1") {
            (month.to_string(), 1)
        } else if take("2") {
            (f.day.to_string(), 1)
        } else if take("3") {
            (hour12.to_string(), 1)
        } else if take("4") {
            (f.minute.to_string(), 1)
        } else if take("5") {
            (f.second.to_string(), 1)
        } else if take("PM") {
            ((if f.hour >= 12 { "PM" } else { "AM" }).to_owned(), 2)
        } else if take("pm") {
            ((if f.hour >= 12 { "pm" } else { "am" }).to_owned(), 2)
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
                let nanos = format!("{:09}", f.nanosecond);
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

/// The time a Sprig date function means by its argument: a time, Unix seconds as an `int` or
/// `int64`, or (anything else) now.
fn as_time(value: &Value) -> GoTime {
    match value {
        Value::Object(object) => object
            .as_any()
            .and_then(|any| any.downcast_ref::<Time>())
            .map_or_else(now, |t| t.0),
        Value::Int(seconds) | Value::Int64(seconds) => GoTime::from_unix(*seconds, 0),
        _ => now(),
    }
}

/// The render's clock.
fn now() -> GoTime {
    super::random::now()
}

fn date_in_zone(layout: &str, date: &Value) -> String {
    format(as_time(date), layout)
}

/// Sprig's `durationRound`: the largest unit, rounded down (`2h`, `3d`, `1y`), without a sign (its
/// code computes one and never prints it), and `0s` up to a second.
fn duration_round(value: &Value) -> String {
    let d: i64 = match value {
        Value::Str(s) => gotime::parse_duration(s).unwrap_or(0),
        Value::Int64(n) => *n,
        Value::Object(_) => now().nanos_since(as_time(value)),
        _ => 0,
    };
    let u = d.unsigned_abs();
    const SECOND: u64 = 1_000_000_000;
    const MINUTE: u64 = 60 * SECOND;
    const HOUR: u64 = 60 * MINUTE;
    const DAY: u64 = 24 * HOUR;
    let (year, month) = (365 * DAY, 30 * DAY);
    let (count, unit) = if u > year {
        (u / year, "y")
    } else if u > month {
        (u / month, "mo")
    } else if u > DAY {
        (u / DAY, "d")
    } else if u > HOUR {
        (u / HOUR, "h")
    } else if u > MINUTE {
        (u / MINUTE, "m")
    } else if u > SECOND {
        (u / SECOND, "s")
    } else {
        return "0s".to_owned();
    };
    format!("{count}{unit}")
}

/// Sprig's `dateModify`: the date moved by a Go duration, or unchanged when the duration does
/// not parse (overflowing ones included, as in Go).
fn date_modify(modifier: &str, date: &Value) -> Result<GoTime, gotime::DurationError> {
    Ok(as_time(date).add_nanos(gotime::parse_duration(modifier)?))
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
    map.add("unixEpoch", &[TIME], |_, args| {
        Ok(Value::string(as_time(&args[0]).unix().to_string()))
    });
    for name in ["dateModify", "date_modify"] {
        map.add(name, &[S, TIME], |_, args| {
            Ok(time_value(
                date_modify(arg_str(&args, 0), &args[1]).unwrap_or_else(|_| as_time(&args[1])),
            ))
        });
    }
    for name in ["mustDateModify", "must_date_modify"] {
        map.add(name, &[S, TIME], |_, args| {
            date_modify(arg_str(&args, 0), &args[1])
                .map(time_value)
                .map_err(|e| error(e.to_string()))
        });
    }
    map.add("ago", &[A], |_, args| {
        let since = now().nanos_since(as_time(&args[0]));
        Ok(Value::string(gotime::duration_string(
            gotime::round_duration(since, 1_000_000_000),
        )))
    });
    map.add("duration", &[A], |_, args| {
        // Sprig reads a string or an int64; anything else (an int too) is 0.
        let seconds = match &args[0] {
            Value::Str(s) => s.parse::<i64>().unwrap_or(0),
            Value::Int64(n) => *n,
            _ => 0,
        };
        Ok(Value::string(gotime::duration_string(
            seconds.wrapping_mul(1_000_000_000),
        )))
    });
    map.add("durationRound", &[A], |_, args| {
        Ok(Value::string(duration_round(&args[0])))
    });
    map.add("toDate", &[S, S], |_, args| {
        Ok(time_value(
            parse_layout(arg_str(&args, 0), arg_str(&args, 1)).unwrap_or(gotime::ZERO),
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
fn parse_layout(layout: &str, text: &str) -> Option<GoTime> {
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
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => return None,
    };
    if day == 0 || day > days_in_month || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    Some(GoTime::from_fields(
        i64::from(year),
        u32::from(month),
        u32::from(day),
        u32::from(hour),
        u32::from(minute),
        u32::from(second),
        0,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_follow_go() {
        let t = GoTime::from_unix(1_735_689_600 + 3_723, 0);
        assert_eq!(format(t, "2006-01-02 15:04:05"), "2025-01-01 01:02:03");
        assert_eq!(format(t, "Jan _2 3:04PM Mon"), "Jan  1 1:02AM Wed");
        assert_eq!(format(gotime::ZERO, "2006-01-02"), "0001-01-01");
        assert_eq!(
            format(GoTime::from_unix(-62_198_755_200, 0), "2006 06"),
            "-0001 -01"
        );
        assert_eq!(
            parse_layout("2006-01-02", "2025-01-01").map(GoTime::unix),
            Some(1_735_689_600)
        );
        assert_eq!(parse_layout("2006-01-02", "2025-02-30"), None);
    }

    #[test]
    fn overflowing_modifiers_leave_the_date_as_go_does() {
        let date = time_value(GoTime::from_unix(1_577_836_800, 0));
        assert!(date_modify("-99999999999h", &date).is_err());
        let moved = date_modify("-2562047h", &date).unwrap();
        assert_eq!(format(moved, "2006-01-02 15"), "1727-09-22 01");
        assert_eq!(duration_round(&Value::str("-49h")), "2d");
        assert_eq!(duration_round(&Value::str("1s")), "0s");
    }
}
