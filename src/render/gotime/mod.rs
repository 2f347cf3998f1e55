//! Go's `time.Time` and `time.Duration` as Sprig's date functions see them, with Go's arithmetic
//! at the edges: a time is seconds since the year 1 (`int64`, as Go keeps it), `Unix` conversions
//! wrap like Go's `int64` sums, `Add` saturates, `Sub` saturates to the longest duration,
//! durations are `int64` nanoseconds parsed with Go's overflow checks, and the calendar fields come
//! from Go's absolute time (seconds since the year -292277022399, as a `uint64`). Every zone is UTC
//! (servers run in UTC; packyard carries no time zone database).

pub mod layout;
pub mod zone;

/// Seconds from the Unix epoch to Go's internal epoch (January 1, year 1).
const UNIX_TO_INTERNAL: i64 = (1969 * 365 + 1969 / 4 - 1969 / 100 + 1969 / 400) * SECONDS_PER_DAY;
/// Seconds from Go's internal epoch to its absolute epoch (January 1, year -292277022399).
const INTERNAL_TO_ABSOLUTE: i64 = 9_223_371_966_579_724_800;
/// The first year of Go's absolute time.
const ABSOLUTE_ZERO_YEAR: i64 = -292_277_022_399;
const SECONDS_PER_DAY: i64 = 86_400;
const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// A Go `time.Time` in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct GoTime {
    /// Seconds since January 1, year 1 (Go's `ext` for a wall-clock time).
    sec: i64,
    /// Nanoseconds within the second, `0..1e9`.
    nsec: u32,
}

/// The calendar fields of a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fields {
    pub year: i64,
    /// 1..=12
    pub month: u32,
    /// 1..=31
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub nanosecond: u32,
    /// 0 = Sunday, as Go's `Weekday`.
    pub weekday: u32,
    /// 1..=366
    pub year_day: u32,
}

/// Go's zero `Time`: January 1, year 1, 00:00:00 UTC.
pub const ZERO: GoTime = GoTime { sec: 0, nsec: 0 };

impl GoTime {
    /// `time.Unix(sec, nsec)`: the sum with the epoch offset wraps, as Go's does.
    pub fn from_unix(sec: i64, nsec: i64) -> GoTime {
        let (mut sec, mut nsec) = (sec, nsec);
        if !(0..NANOS_PER_SECOND).contains(&nsec) {
            sec = sec.wrapping_add(nsec.div_euclid(NANOS_PER_SECOND));
            nsec = nsec.rem_euclid(NANOS_PER_SECOND);
        }
        GoTime {
            sec: sec.wrapping_add(UNIX_TO_INTERNAL),
            nsec: nsec as u32,
        }
    }

    /// A calendar date and time (proleptic Gregorian, UTC); the fields must be in range.
    pub fn from_fields(
        year: i64,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: u32,
        nsec: u32,
    ) -> GoTime {
        let days = days_from_civil(year, month, day);
        let unix = days * SECONDS_PER_DAY
            + i64::from(hour) * 3600
            + i64::from(minute) * 60
            + i64::from(second);
        GoTime::from_unix(unix, i64::from(nsec))
    }

    /// Seconds since January 1, year 1 (what Go's `Round` and `Truncate` divide).
    pub fn seconds_since_year_one(self) -> i64 {
        self.sec
    }

    /// `t.Unix()` (wrapping, as Go's).
    pub fn unix(self) -> i64 {
        self.sec.wrapping_sub(UNIX_TO_INTERNAL)
    }

    /// `t.UnixNano()`: wraps on overflow, as Go's multiplication does.
    pub fn unix_nano(self) -> i64 {
        self.unix()
            .wrapping_mul(NANOS_PER_SECOND)
            .wrapping_add(i64::from(self.nsec))
    }

    pub fn nanosecond(self) -> u32 {
        self.nsec
    }

    /// `t.IsZero()`.
    pub fn is_zero(self) -> bool {
        self == ZERO
    }

    /// `t.Add(d)` (nanoseconds): the seconds saturate instead of overflowing, as in Go.
    pub fn add_nanos(self, d: i64) -> GoTime {
        let mut dsec = d / NANOS_PER_SECOND;
        let mut nsec = i64::from(self.nsec) + d % NANOS_PER_SECOND;
        if nsec >= NANOS_PER_SECOND {
            dsec += 1;
            nsec -= NANOS_PER_SECOND;
        } else if nsec < 0 {
            dsec -= 1;
            nsec += NANOS_PER_SECOND;
        }
        let sum = self.sec.wrapping_add(dsec);
        let sec = if (sum > self.sec) == (dsec > 0) {
            sum
        } else if dsec > 0 {
            i64::MAX
        } else {
            -i64::MAX
        };
        GoTime {
            sec,
            nsec: nsec as u32,
        }
    }

    /// `t.Sub(u)` (nanoseconds): the longest duration of the right sign when the difference does not fit.
    pub fn nanos_since(self, u: GoTime) -> i64 {
        let exact = (i128::from(self.sec) - i128::from(u.sec)) * i128::from(NANOS_PER_SECOND)
            + (i128::from(self.nsec) - i128::from(u.nsec));
        i64::try_from(exact).unwrap_or(if exact < 0 { i64::MIN } else { i64::MAX })
    }

    /// The calendar fields, from Go's absolute time (which wraps for times Go cannot present).
    pub fn fields(self) -> Fields {
        let abs = self.sec.wrapping_add(INTERNAL_TO_ABSOLUTE) as u64;
        let days = (abs / SECONDS_PER_DAY as u64) as i64;
        let in_day = (abs % SECONDS_PER_DAY as u64) as u32;
        // Days from the absolute epoch, as days from 1970-01-01.
        let unix_days = days + days_from_civil(ABSOLUTE_ZERO_YEAR, 1, 1);
        let (year, month, day) = civil_from_days(unix_days);
        Fields {
            year,
            month,
            day,
            hour: in_day / 3600,
            minute: in_day % 3600 / 60,
            second: in_day % 60,
            nanosecond: self.nsec,
            // 1970-01-01 was a Thursday.
            weekday: (unix_days + 4).rem_euclid(7) as u32,
            year_day: (unix_days - days_from_civil(year, 1, 1) + 1) as u32,
        }
    }
}

/// Go's `time.Date` in UTC: out-of-range months, days, hours, minutes, seconds and nanoseconds
/// carry into the next larger unit.
pub fn date(year: i64, month: i64, day: i64, hour: i64, min: i64, sec: i64, nsec: i64) -> GoTime {
    let m = month - 1;
    let year = year.wrapping_add(m.div_euclid(12));
    let month = (m.rem_euclid(12) + 1) as u32;
    let days = days_from_civil(year, month, 1).wrapping_add(day - 1);
    let seconds = days
        .wrapping_mul(SECONDS_PER_DAY)
        .wrapping_add(hour.wrapping_mul(3600))
        .wrapping_add(min.wrapping_mul(60))
        .wrapping_add(sec);
    GoTime::from_unix(seconds, nsec)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`, in
/// 64-bit arithmetic: exact for every year Go can present).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day counted from 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Why `time.ParseDuration` refused its input (the message is Go's).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DurationError(String);

/// The `time` package's own quoting in its error messages.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if c as u32 >= 0x80 || c < ' ' {
            let mut buf = [0u8; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{byte:02x}"));
            }
        } else {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out.push('"');
    out
}

const OVERFLOW: u64 = 1 << 63;

/// `leadingInt`: digits as an integer, refusing more than 2^63.
fn leading_int(text: &str) -> Option<(u64, &str)> {
    let end = text.bytes().take_while(u8::is_ascii_digit).count();
    let mut x: u64 = 0;
    for digit in text[..end].bytes() {
        if x > OVERFLOW / 10 {
            return None;
        }
        x = x * 10 + u64::from(digit - b'0');
        if x > OVERFLOW {
            return None;
        }
    }
    Some((x, &text[end..]))
}

/// `leadingFraction`: digits after a point, accumulating precision until it would overflow.
fn leading_fraction(text: &str) -> (u64, f64, &str) {
    let end = text.bytes().take_while(u8::is_ascii_digit).count();
    let (mut x, mut scale, mut overflow) = (0u64, 1f64, false);
    for digit in text[..end].bytes() {
        if overflow {
            continue;
        }
        if x > (OVERFLOW - 1) / 10 {
            overflow = true;
            continue;
        }
        let y = x * 10 + u64::from(digit - b'0');
        if y > OVERFLOW {
            overflow = true;
            continue;
        }
        x = y;
        scale *= 10.0;
    }
    (x, scale, &text[end..])
}

/// Go's `time.ParseDuration`, with its overflow checks and error messages.
pub fn parse_duration(text: &str) -> Result<i64, DurationError> {
    let invalid = || DurationError(format!("time: invalid duration {}", quote(text)));
    let mut rest = text;
    let mut negative = false;
    if let Some(c) = rest.bytes().next()
        && (c == b'-' || c == b'+')
    {
        negative = c == b'-';
        rest = &rest[1..];
    }
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let first = rest.as_bytes()[0];
        if !(first == b'.' || first.is_ascii_digit()) {
            return Err(invalid());
        }
        let before = rest.len();
        let (whole, after) = leading_int(rest).ok_or_else(invalid)?;
        rest = after;
        let had_digits = before != rest.len();
        let (mut fraction, mut scale, mut had_fraction) = (0u64, 1f64, false);
        if let Some(after_point) = rest.strip_prefix('.') {
            let (f, s, after) = leading_fraction(after_point);
            had_fraction = after.len() != after_point.len();
            (fraction, scale, rest) = (f, s, after);
        }
        if !had_digits && !had_fraction {
            return Err(invalid());
        }
        let unit_len = rest
            .bytes()
            .take_while(|c| !(*c == b'.' || c.is_ascii_digit()))
            .count();
        if unit_len == 0 {
            return Err(DurationError(format!(
                "time: missing unit in duration {}",
                quote(text)
            )));
        }
        let unit_text = &rest[..unit_len];
        rest = &rest[unit_len..];
        let unit: u64 = match unit_text {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => {
                return Err(DurationError(format!(
                    "time: unknown unit {} in duration {}",
                    quote(unit_text),
                    quote(text)
                )));
            }
        };
        if whole > OVERFLOW / unit {
            return Err(invalid());
        }
        let mut value = whole * unit;
        if fraction > 0 {
            // As Go: a float64 is nanosecond-accurate for fractions of an hour.
            value += (fraction as f64 * (unit as f64 / scale)) as u64;
            if value > OVERFLOW {
                return Err(invalid());
            }
        }
        total += value;
        if total > OVERFLOW {
            return Err(invalid());
        }
    }
    if negative {
        return Ok((total as i64).wrapping_neg());
    }
    if total > OVERFLOW - 1 {
        return Err(invalid());
    }
    Ok(total as i64)
}

/// Go's `Duration.String()`.
pub fn duration_string(d: i64) -> String {
    if d == 0 {
        return "0s".to_owned();
    }
    let u = d.unsigned_abs();
    let mut out = String::new();
    if u < NANOS_PER_SECOND as u64 {
        let (unit, precision) = if u < 1_000 {
            ("ns", 0)
        } else if u < 1_000_000 {
            ("µs", 3)
        } else {
            ("ms", 6)
        };
        out.push_str(&fraction(u, precision));
        out.push_str(unit);
    } else {
        let whole_seconds = u / NANOS_PER_SECOND as u64;
        let (hours, minutes) = (whole_seconds / 3600, whole_seconds / 60 % 60);
        if hours > 0 {
            out.push_str(&format!("{hours}h"));
        }
        if hours > 0 || minutes > 0 {
            out.push_str(&format!("{minutes}m"));
        }
        out.push_str(&fraction(u % 60_000_000_000, 9));
        out.push('s');
    }
    if d < 0 {
        out.insert(0, '-');
    }
    out
}

/// `value / 10^precision` with its fraction, trailing zeros dropped (`fmtFrac` + `fmtInt`).
fn fraction(value: u64, precision: u32) -> String {
    let scale = 10u64.pow(precision);
    let (whole, frac) = (value / scale, value % scale);
    if frac == 0 {
        return whole.to_string();
    }
    let digits = format!("{frac:0width$}", width = precision as usize);
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// Go's `Duration.Round(m)`: halves away from zero, saturating.
pub fn round_duration(d: i64, m: i64) -> i64 {
    if m <= 0 {
        return d;
    }
    let mut r = d % m;
    let less_than_half = |x: i64, y: i64| (x as u64).wrapping_add(x as u64) < y as u64;
    if d < 0 {
        r = -r;
        if less_than_half(r, m) {
            return d + r;
        }
        let d1 = d.wrapping_sub(m).wrapping_add(r);
        if d1 < d {
            return d1;
        }
        return i64::MIN;
    }
    if less_than_half(r, m) {
        return d - r;
    }
    let d1 = d.wrapping_add(m).wrapping_sub(r);
    if d1 > d {
        return d1;
    }
    i64::MAX
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_calendar_follows_go_at_every_scale() {
        let t = GoTime::from_unix(1_735_689_600 + 3_723, 5);
        let f = t.fields();
        assert_eq!(
            (f.year, f.month, f.day, f.hour, f.minute, f.second),
            (2025, 1, 1, 1, 2, 3)
        );
        assert_eq!((f.weekday, f.year_day, f.nanosecond), (3, 1, 5));
        assert_eq!(ZERO.fields().year, 1);
        assert_eq!(ZERO.unix(), -62_135_596_800);
        // Far times present as Go presents them: far in the future ...
        let far = GoTime::from_unix(253_402_300_800 * 1000, 0).fields();
        assert_eq!((far.year, far.month, far.day), (8_031_969, 4, 1));
        // ... and at the end of Go's time, reached by wrapping sums as in Go.
        let end = GoTime::from_unix(i64::MAX, 0).fields();
        assert_eq!(
            (
                end.year, end.month, end.day, end.hour, end.minute, end.second
            ),
            (292_277_026_596, 12, 4, 15, 30, 7)
        );
    }

    #[test]
    fn add_saturates_and_sub_clamps() {
        let t = GoTime::from_unix(0, 0);
        assert_eq!(t.add_nanos(3_600_000_000_000).unix(), 3600);
        assert_eq!(t.add_nanos(-1).unix(), -1);
        assert_eq!(t.add_nanos(-1).nanosecond(), 999_999_999);
        let far = GoTime {
            sec: i64::MAX - 1,
            nsec: 0,
        };
        assert_eq!(far.add_nanos(i64::MAX).sec, i64::MAX);
        assert_eq!(ZERO.nanos_since(far), i64::MIN);
    }

    #[test]
    fn durations_parse_and_print_as_go() {
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000_000_000));
        assert_eq!(parse_duration("-1.5s"), Ok(-1_500_000_000));
        assert_eq!(parse_duration(".5m"), Ok(30_000_000_000));
        assert_eq!(parse_duration("0"), Ok(0));
        assert_eq!(parse_duration("2562047h47m16.854775807s"), Ok(i64::MAX));
        assert_eq!(parse_duration("-2562047h47m16.854775808s"), Ok(i64::MIN));
        for (text, message) in [
            ("-99999999999h", "time: invalid duration \"-99999999999h\""),
            ("2562048h", "time: invalid duration \"2562048h\""),
            ("", "time: invalid duration \"\""),
            ("1", "time: missing unit in duration \"1\""),
            ("1d", "time: unknown unit \"d\" in duration \"1d\""),
            (".s", "time: invalid duration \".s\""),
            (
                "1é",
                "time: unknown unit \"\\xc3\\xa9\" in duration \"1\\xc3\\xa9\"",
            ),
        ] {
            assert_eq!(parse_duration(text).unwrap_err().to_string(), message);
        }
        assert_eq!(duration_string(3_723_000_000_000), "1h2m3s");
        assert_eq!(duration_string(1_500_000_000), "1.5s");
        assert_eq!(duration_string(1_500), "1.5µs");
        assert_eq!(duration_string(i64::MIN), "-2562047h47m16.854775808s");
        assert_eq!(round_duration(1_500_000_000, 1_000_000_000), 2_000_000_000);
        assert_eq!(
            round_duration(-1_500_000_000, 1_000_000_000),
            -2_000_000_000
        );
        assert_eq!(round_duration(i64::MAX, 1_000_000_000), i64::MAX);
    }
}
