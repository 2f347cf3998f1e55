//! Go's `time` values as templates hold them: `time.Time` (from `now`, `toDate`, `dateModify`)
//! with its location and, for `now`, its monotonic reading, and the named types its methods
//! return (`time.Month`, `time.Weekday`, `time.Duration`, `*time.Location`), each with the
//! methods a template can call on it.

use std::rc::Rc;
use std::sync::LazyLock;

use super::arg_str;
use crate::render::gotemplate::Budget;
use crate::render::gotemplate::funcs::{FuncError, error};
use crate::render::gotemplate::value::{Object, Signature, Ty, Value};
use crate::render::gotime::layout::{self, month_name, weekday_name};
use crate::render::gotime::zone::Location;
use crate::render::gotime::{self, GoTime};

/// A Go `time.Time`: the instant, its location, and the monotonic clock reading `time.Now` adds
/// (nanoseconds since the process started).
#[derive(Debug, Clone)]
pub struct Time {
    pub t: GoTime,
    pub loc: Location,
    pub mono: Option<i64>,
}

/// A parameter of type `time.Time`.
pub const TIME: Ty = Ty::Named("time.Time");
/// A parameter of type `time.Duration`: an integer constant, or a duration value.
const DURATION: Ty = Ty::NamedInt("time.Duration");
const LOCATION: Ty = Ty::Named("*time.Location");

static STARTED: LazyLock<std::time::Instant> = LazyLock::new(std::time::Instant::now);

impl Time {
    pub fn new(t: GoTime, loc: Location) -> Time {
        Time { t, loc, mono: None }
    }

    /// `time.Now()` at the render's clock, in Local, with a monotonic reading.
    pub fn now(t: GoTime) -> Time {
        let mono = i64::try_from(STARTED.elapsed().as_nanos()).unwrap_or(i64::MAX);
        Time {
            t,
            loc: Location::Local,
            mono: Some(mono.max(1)),
        }
    }

    pub fn value(self) -> Value {
        Value::Object(Rc::new(self))
    }

    /// `t.Format(layout)` in the time's own location.
    pub fn format(&self, layout: &str) -> String {
        let (name, offset) = self.loc.zone_at(self.t);
        layout::format(self.t, &name, offset, layout)
    }

    /// `t.In(loc)`.
    pub fn in_location(&self, loc: Location) -> Time {
        Time::new(self.t, loc)
    }

    /// `Time.String()`: the default layout and, when there is one, the monotonic reading.
    fn go_string(&self) -> String {
        let mut text = self.format("2006-01-02 15:04:05.999999999 -0700 MST");
        if let Some(mono) = self.mono {
            let sign = if mono < 0 { '-' } else { '+' };
            let m = mono.unsigned_abs();
            let (m1, m2) = (m / 1_000_000_000, m % 1_000_000_000);
            let (m0, m1) = (m1 / 1_000_000_000, m1 % 1_000_000_000);
            text.push_str(&format!(" m={sign}"));
            if m0 != 0 {
                text.push_str(&format!("{m0}{m1:09}"));
            } else {
                text.push_str(&m1.to_string());
            }
            text.push_str(&format!(".{m2:09}"));
        }
        text
    }

    /// The wall-clock fields in the time's location.
    fn fields(&self) -> gotime::Fields {
        let (_, offset) = self.loc.zone_at(self.t);
        self.t.add_nanos(i64::from(offset) * 1_000_000_000).fields()
    }

    /// Go's `Date(year, month, day, hour, min, sec, nsec, loc)` with overflowing fields carried.
    fn date(&self, f: &gotime::Fields, years: i64, months: i64, days: i64) -> Time {
        let wall = gotime::date(
            f.year.wrapping_add(years),
            i64::from(f.month).wrapping_add(months),
            i64::from(f.day).wrapping_add(days),
            i64::from(f.hour),
            i64::from(f.minute),
            i64::from(f.second),
            i64::from(f.nanosecond),
        );
        let (_, offset) = self.loc.zone_at(wall);
        Time::new(
            wall.add_nanos(-i64::from(offset) * 1_000_000_000),
            self.loc.clone(),
        )
    }

    /// The remainder of the time since Go's zero time divided by `d` (Go's `div`).
    fn remainder(&self, d: i64) -> i64 {
        let total = i128::from(self.t.seconds_since_year_one()) * 1_000_000_000
            + i128::from(self.t.nanosecond());
        total.rem_euclid(i128::from(d)) as i64
    }

    /// `MarshalJSON`/`MarshalText`: RFC 3339 with nanoseconds, years 0 to 9999 only.
    fn marshal(&self, quoted: bool, method: &str) -> Result<Value, FuncError> {
        let year = self.fields().year;
        if !(0..=9999).contains(&year) {
            return Err(error(format!("{method}: year outside of range [0,9999]")));
        }
        let text = self.format("2006-01-02T15:04:05.999999999Z07:00");
        Ok(Value::Bytes(
            if quoted { format!("\"{text}\"") } else { text }
                .into_bytes()
                .into(),
        ))
    }
}

/// Go's refusal of the methods a template may not call: more than two results, or a second that
/// is not an error.
fn unusable(name: &str) -> Option<&'static str> {
    Some(match name {
        "Clock" => "function Clock has 3 return values; should be 1 or 2",
        "Date" => "function Date has 3 return values; should be 1 or 2",
        "ISOWeek" => {
            "invalid function signature for ISOWeek: second return value should be error; is int"
        }
        "Zone" => {
            "invalid function signature for Zone: second return value should be error; is int"
        }
        "ZoneBounds" => {
            "invalid function signature for ZoneBounds: second return value should be error; is \
             time.Time"
        }
        _ => return None,
    })
}

fn signature(params: &'static [Ty]) -> Option<Signature> {
    Some(Signature {
        params,
        variadic: None,
        unusable: None,
    })
}

/// A time, duration or location argument, as the method declared it.
/// A TOML datetime as BurntSushi/toml decodes it: with an offset, the time `time.Parse` reads
/// (RFC 3339); without one, a time in its "datetime-local", "date-local" or "time-local" zone.
pub fn from_toml(datetime: &toml::value::Datetime) -> Value {
    if datetime.offset.is_some() {
        let text = datetime.to_string().replacen(' ', "T", 1);
        if let Ok((t, loc)) =
            crate::render::gotime::layout::parse("2006-01-02T15:04:05.999999999Z07:00", &text)
        {
            return Time::new(t, loc).value();
        }
        return Value::string(text);
    }
    let (y, mo, d) = datetime.date.map_or((0, 1, 1), |d| {
        (i64::from(d.year), i64::from(d.month), i64::from(d.day))
    });
    let (h, mi, sec, ns) = datetime.time.map_or((0, 0, 0, 0), |t| {
        (
            i64::from(t.hour),
            i64::from(t.minute),
            i64::from(t.second),
            i64::from(t.nanosecond),
        )
    });
    let zone = match (datetime.date, datetime.time) {
        (Some(_), Some(_)) => "datetime-local",
        (Some(_), None) => "date-local",
        _ => "time-local",
    };
    let loc = Location::Fixed {
        name: Rc::from(zone),
        offset: 0,
    };
    Time::new(crate::render::gotime::date(y, mo, d, h, mi, sec, ns), loc).value()
}

pub fn as_time(value: &Value) -> Option<&Time> {
    match value {
        Value::Object(object) => object.as_any()?.downcast_ref::<Time>(),
        _ => None,
    }
}

fn as_duration(value: &Value) -> i64 {
    match value {
        Value::Object(object) => object.int_value().unwrap_or(0),
        other => other.as_int().unwrap_or(0),
    }
}

fn as_location(value: &Value) -> Option<Location> {
    match value {
        Value::Object(object) => object
            .as_any()?
            .downcast_ref::<TimeInt>()
            .and_then(|l| l.location.clone()),
        _ => None,
    }
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
        if let Some(text) = unusable(name) {
            return Some(Signature {
                params: &[],
                variadic: None,
                unusable: Some(text),
            });
        }
        match name {
            "Format" => signature(&[Ty::String]),
            "Add" | "Round" | "Truncate" => signature(&[DURATION]),
            "AddDate" => signature(&[Ty::Int, Ty::Int, Ty::Int]),
            "After" | "Before" | "Equal" | "Compare" | "Sub" => signature(&[TIME]),
            "In" => signature(&[LOCATION]),
            "Unix" | "UnixMilli" | "UnixMicro" | "UnixNano" | "UTC" | "Local" | "Location"
            | "Year" | "Month" | "Day" | "Weekday" | "Hour" | "Minute" | "Second"
            | "Nanosecond" | "YearDay" | "String" | "GoString" | "IsZero" | "IsDST"
            | "MarshalJSON" | "MarshalText" => signature(&[]),
            _ => None,
        }
    }
    fn call(&self, name: &str, args: Vec<Value>, budget: &Budget) -> Result<Value, FuncError> {
        let t = self.t;
        let f = self.fields();
        let other = || args.first().and_then(as_time).map_or(gotime::ZERO, |u| u.t);
        Ok(match name {
            "Format" => {
                let text = self.format(arg_str(&args, 0));
                budget.charge(text.len() as u64)?;
                Value::string(text)
            }
            "String" => Value::string(self.go_string()),
            "GoString" => Value::string(go_syntax(&f, &self.loc)),
            "Unix" => Value::Int64(t.unix()),
            "UnixMilli" => Value::Int64(
                t.unix()
                    .wrapping_mul(1000)
                    .wrapping_add(i64::from(t.nanosecond() / 1_000_000)),
            ),
            "UnixMicro" => Value::Int64(
                t.unix()
                    .wrapping_mul(1_000_000)
                    .wrapping_add(i64::from(t.nanosecond() / 1000)),
            ),
            "UnixNano" => Value::Int64(t.unix_nano()),
            "UTC" => self.in_location(Location::Utc).value(),
            "Local" => self.in_location(Location::Local).value(),
            "In" => match args.first().and_then(as_location) {
                Some(loc) => self.in_location(loc).value(),
                None => return Err(error("time: missing Location in call to Time.In")),
            },
            "Location" => TimeInt::location(self.loc.clone()),
            "Year" => Value::Int(f.year),
            "Month" => TimeInt::month(f.month),
            "Day" => Value::Int(i64::from(f.day)),
            "Weekday" => TimeInt::weekday(f.weekday),
            "Hour" => Value::Int(i64::from(f.hour)),
            "Minute" => Value::Int(i64::from(f.minute)),
            "Second" => Value::Int(i64::from(f.second)),
            "Nanosecond" => Value::Int(i64::from(f.nanosecond)),
            "YearDay" => Value::Int(i64::from(f.year_day)),
            "IsZero" => Value::Bool(t.is_zero()),
            "IsDST" => Value::Bool(false),
            "MarshalJSON" => self.marshal(true, "Time.MarshalJSON")?,
            "MarshalText" => self.marshal(false, "Time.MarshalText")?,
            "Add" => Time {
                t: t.add_nanos(as_duration(&args[0])),
                loc: self.loc.clone(),
                mono: self.mono.map(|m| m.wrapping_add(as_duration(&args[0]))),
            }
            .value(),
            "AddDate" => {
                let n = |i: usize| args[i].as_int().unwrap_or(0);
                self.date(&f, n(0), n(1), n(2)).value()
            }
            "Truncate" | "Round" => {
                let d = as_duration(&args[0]);
                let mut moved = self.in_location(self.loc.clone());
                if d > 0 {
                    let r = self.remainder(d);
                    // Go's lessThanHalf: r+r < d without overflow.
                    let down = name == "Truncate" || (r as u64) * 2 < d as u64;
                    moved.t = if down {
                        t.add_nanos(-r)
                    } else {
                        t.add_nanos(d - r)
                    };
                }
                moved.value()
            }
            "Sub" => TimeInt::duration(t.nanos_since(other())),
            "After" => Value::Bool(t > other()),
            "Before" => Value::Bool(t < other()),
            "Equal" => Value::Bool(t == other()),
            "Compare" => Value::Int(match t.cmp(&other()) {
                std::cmp::Ordering::Less => -1,
                std::cmp::Ordering::Equal => 0,
                std::cmp::Ordering::Greater => 1,
            }),
            _ => return Err(error(format!("time.Time has no method {name}"))),
        })
    }
    fn format(&self, out: &mut String) {
        out.push_str(&self.go_string());
    }
    fn data(&self) -> Option<Value> {
        Some(Value::string(
            self.format("2006-01-02T15:04:05.999999999Z07:00"),
        ))
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// `Time.GoString()`.
fn go_syntax(f: &gotime::Fields, loc: &Location) -> String {
    let location = match loc {
        Location::Utc => "time.UTC".to_owned(),
        Location::Local => "time.Local".to_owned(),
        other => format!("time.Location({})", gotime::quote(other.name())),
    };
    format!(
        "time.Date({}, time.{}, {}, {}, {}, {}, {}, {location})",
        f.year,
        month_name(f.month),
        f.day,
        f.hour,
        f.minute,
        f.second,
        f.nanosecond
    )
}

/// Go's named integer types of the `time` package (and `*time.Location`, which prints as its
/// name): printed by their `String` method, compared and converted as integers.
#[derive(Debug, Clone)]
pub struct TimeInt {
    type_name: &'static str,
    value: i64,
    location: Option<Location>,
}

impl TimeInt {
    fn month(month: u32) -> Value {
        Value::Object(Rc::new(TimeInt {
            type_name: "time.Month",
            value: i64::from(month),
            location: None,
        }))
    }
    fn weekday(day: u32) -> Value {
        Value::Object(Rc::new(TimeInt {
            type_name: "time.Weekday",
            value: i64::from(day),
            location: None,
        }))
    }
    pub fn duration(nanos: i64) -> Value {
        Value::Object(Rc::new(TimeInt {
            type_name: "time.Duration",
            value: nanos,
            location: None,
        }))
    }
    fn location(loc: Location) -> Value {
        Value::Object(Rc::new(TimeInt {
            type_name: "*time.Location",
            value: 0,
            location: Some(loc),
        }))
    }
}

impl Object for TimeInt {
    fn type_name(&self) -> &str {
        self.type_name
    }
    fn kind_name(&self) -> &'static str {
        match self.type_name {
            "time.Duration" => "int64",
            "*time.Location" => "ptr",
            _ => "int",
        }
    }
    fn field(&self, _: &str) -> Option<Value> {
        None
    }
    fn int_value(&self) -> Option<i64> {
        self.location.is_none().then_some(self.value)
    }
    fn method(&self, name: &str) -> Option<Signature> {
        match (self.type_name, name) {
            (_, "String") => signature(&[]),
            (
                "time.Duration",
                "Hours" | "Minutes" | "Seconds" | "Milliseconds" | "Microseconds" | "Nanoseconds"
                | "Abs",
            ) => signature(&[]),
            ("time.Duration", "Round" | "Truncate") => signature(&[DURATION]),
            _ => None,
        }
    }
    fn call(&self, name: &str, args: Vec<Value>, _: &Budget) -> Result<Value, FuncError> {
        let d = self.value;
        let split = |unit: i64| (d / unit) as f64 + (d % unit) as f64 / unit as f64;
        Ok(match name {
            "String" => {
                let mut text = String::new();
                self.format(&mut text);
                Value::string(text)
            }
            "Hours" => Value::Float(split(3_600_000_000_000)),
            "Minutes" => Value::Float(split(60_000_000_000)),
            "Seconds" => Value::Float(split(1_000_000_000)),
            "Milliseconds" => Value::Int64(d / 1_000_000),
            "Microseconds" => Value::Int64(d / 1000),
            "Nanoseconds" => Value::Int64(d),
            "Abs" => TimeInt::duration(if d == i64::MIN { i64::MAX } else { d.abs() }),
            "Round" => TimeInt::duration(gotime::round_duration(d, as_duration(&args[0]))),
            "Truncate" => {
                let m = as_duration(&args[0]);
                TimeInt::duration(if m <= 0 { d } else { d - d % m })
            }
            _ => return Err(error(format!("{} has no method {name}", self.type_name))),
        })
    }
    fn format(&self, out: &mut String) {
        match (self.type_name, &self.location) {
            (_, Some(loc)) => out.push_str(loc.name()),
            ("time.Month", _) if (1..=12).contains(&self.value) => {
                out.push_str(month_name(self.value as u32));
            }
            ("time.Month", _) => out.push_str(&format!("%!Month({})", self.value)),
            ("time.Weekday", _) if (0..7).contains(&self.value) => {
                out.push_str(weekday_name(self.value as u32));
            }
            ("time.Weekday", _) => out.push_str(&format!("%!Weekday({})", self.value)),
            _ => out.push_str(&gotime::duration_string(self.value)),
        }
    }
    fn data(&self) -> Option<Value> {
        match &self.location {
            // A Location marshals as an empty object (no exported fields).
            Some(_) => Some(Value::map(Default::default())),
            None => Some(Value::Int64(self.value)),
        }
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}
