//! Go's `*time.Location` as templates meet it: UTC, Local (UTC on packyard's servers, as on the
//! machines Helm runs in CI), a fixed zone a parsed time carries (`+0200`, `EST`), and the named
//! zones of `dateInZone`, read from the system's time zone database as Go's `LoadLocation` does.

use std::rc::Rc;

use super::GoTime;

/// A time's location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Utc,
    Local,
    /// `time.FixedZone(name, offset)`.
    Fixed {
        name: Rc<str>,
        offset: i32,
    },
    /// A zone of the time zone database (`America/New_York`).
    Named(Rc<str>),
}

impl Location {
    pub fn fixed(name: &str, offset: i64) -> Location {
        Location::Fixed {
            name: Rc::from(name),
            offset: offset as i32,
        }
    }

    /// Go's `LoadLocation`: "" and "UTC" are UTC, "Local" is Local, other names come from the
    /// time zone database; None when Go would refuse the name.
    pub fn load(name: &str) -> Option<Location> {
        match name {
            "" | "UTC" => Some(Location::Utc),
            "Local" => Some(Location::Local),
            _ if name.contains("..") || name.starts_with(['/', '\\']) => None,
            _ => jiff::tz::TimeZone::get(name)
                .ok()
                .map(|_| Location::Named(Rc::from(name))),
        }
    }

    /// `Location.String()`.
    pub fn name(&self) -> &str {
        match self {
            Location::Utc => "UTC",
            Location::Local => "Local",
            Location::Fixed { name, .. } | Location::Named(name) => name,
        }
    }

    /// The zone's abbreviation and offset (seconds east of UTC) at `t`, as `Time.Zone()`.
    pub fn zone_at(&self, t: GoTime) -> (String, i32) {
        match self {
            Location::Utc | Location::Local => ("UTC".to_owned(), 0),
            Location::Fixed { name, offset } => (name.to_string(), *offset),
            Location::Named(name) => {
                let zone = jiff::tz::TimeZone::get(name).ok();
                let at = jiff::Timestamp::new(t.unix(), t.nanosecond() as i32).ok();
                match (zone, at) {
                    (Some(zone), Some(at)) => {
                        let info = zone.to_offset_info(at);
                        (info.abbreviation().to_owned(), info.offset().seconds())
                    }
                    _ => ("UTC".to_owned(), 0),
                }
            }
        }
    }
}
