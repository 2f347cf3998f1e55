//! Sprig's date functions on Go's `time.Time` ([`crate::render::gotime`]): Go's layout formatting
//! (`2006-01-02 15:04:05`), durations parsed and printed as Go does, with Go's arithmetic at the
//! edges (saturating `Add`, wrapping `Unix`), and the render's clock. Every zone but UTC is read as
//! UTC (packyard carries no time zone database; servers run in UTC).

use super::time_values::{TIME, Time, as_time};
use super::{A, S, arg_str, charged};
use crate::render::gotemplate::funcs::{FuncMap, error};
use crate::render::gotemplate::value::Value;
use crate::render::gotime::zone::Location;
use crate::render::gotime::{self, GoTime, layout};

/// The time a Sprig date function means by its argument: a time, Unix seconds as an `int` or
/// `int64` (in Local), or (anything else) now.
fn time_of(value: &Value) -> Time {
    match value {
        Value::Object(_) => as_time(value).cloned().unwrap_or_else(|| Time::now(now())),
        Value::Int(seconds) | Value::Int64(seconds) => {
            Time::new(GoTime::from_unix(*seconds, 0), Location::Local)
        }
        _ => Time::now(now()),
    }
}

/// The render's clock.
fn now() -> GoTime {
    super::random::now()
}

/// Sprig's `dateInZone`: the time shown in the zone (UTC for a zone Go cannot load).
fn date_in_zone(layout: &str, date: &Value, zone: &str) -> String {
    time_of(date)
        .in_location(Location::load(zone).unwrap_or(Location::Utc))
        .format(layout)
}

/// Sprig's `durationRound`: the largest unit, rounded down (`2h`, `3d`, `1y`), without a sign (its
/// code computes one and never prints it), and `0s` up to a second.
fn duration_round(value: &Value) -> String {
    let d: i64 = match value {
        Value::Str(s) => gotime::parse_duration(s).unwrap_or(0),
        Value::Int64(n) => *n,
        Value::Object(_) => match as_time(value) {
            Some(t) => now().nanos_since(t.t),
            None => 0,
        },
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

/// Sprig's `dateModify`: the date moved by a Go duration (`Time.Add`, which keeps the monotonic
/// reading), or Go's error for a duration that does not parse.
fn date_modify(modifier: &str, date: &Value) -> Result<Time, gotime::DurationError> {
    let d = gotime::parse_duration(modifier)?;
    let mut t = time_of(date);
    t.t = t.t.add_nanos(d);
    t.mono = t.mono.map(|m| m.wrapping_add(d));
    Ok(t)
}

pub fn register(map: &mut FuncMap) {
    map.add("date", &[S, A], |exec, args| {
        charged(exec, date_in_zone(arg_str(&args, 0), &args[1], "Local"))
    });
    for name in ["dateInZone", "date_in_zone"] {
        map.add(name, &[S, A, S], |exec, args| {
            charged(
                exec,
                date_in_zone(arg_str(&args, 0), &args[1], arg_str(&args, 2)),
            )
        });
    }
    map.add("htmlDate", &[A], |exec, args| {
        charged(exec, date_in_zone("2006-01-02", &args[0], "Local"))
    });
    map.add("htmlDateInZone", &[A, S], |exec, args| {
        charged(
            exec,
            date_in_zone("2006-01-02", &args[0], arg_str(&args, 1)),
        )
    });
    map.add("unixEpoch", &[TIME], |_, args| {
        Ok(Value::string(time_of(&args[0]).t.unix().to_string()))
    });
    for name in ["dateModify", "date_modify"] {
        map.add(name, &[S, TIME], |_, args| {
            Ok(date_modify(arg_str(&args, 0), &args[1])
                .unwrap_or_else(|_| time_of(&args[1]))
                .value())
        });
    }
    for name in ["mustDateModify", "must_date_modify"] {
        map.add(name, &[S, TIME], |_, args| {
            date_modify(arg_str(&args, 0), &args[1])
                .map(Time::value)
                .map_err(|e| error(e.to_string()))
        });
    }
    map.add("ago", &[A], |_, args| {
        let since = now().nanos_since(time_of(&args[0]).t);
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
        // Go's zero time (in UTC) when the text does not parse.
        let (t, loc) = layout::parse(arg_str(&args, 0), arg_str(&args, 1))
            .unwrap_or((gotime::ZERO, Location::Utc));
        Ok(Time::new(t, loc).value())
    });
    map.add("mustToDate", &[S, S], |_, args| {
        layout::parse(arg_str(&args, 0), arg_str(&args, 1))
            .map(|(t, loc)| Time::new(t, loc).value())
            .map_err(error)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflowing_modifiers_leave_the_date_as_go_does() {
        let date = Time::new(GoTime::from_unix(1_577_836_800, 0), Location::Local).value();
        assert!(date_modify("-99999999999h", &date).is_err());
        let moved = date_modify("-2562047h", &date).unwrap();
        assert_eq!(moved.format("2006-01-02 15"), "1727-09-22 01");
        assert_eq!(duration_round(&Value::str("-49h")), "2d");
        assert_eq!(duration_round(&Value::str("1s")), "0s");
    }
}
