//! Sprig's numbers: spf13/cast's conversions (`int`, `int64`, `float64`, `atoi`), integer math on
//! int64, float math through exact decimals (shopspring/decimal, as Sprig computes `addf` and
//! friends), `round`, `until`, `untilStep` and `seq`.

use super::{A, I, S, arg_int, arg_str, charged};
use crate::render::gotemplate::funcs::{FuncMap, FuncResult, error};
use crate::render::gotemplate::value::{ListKind, Value};

/// `cast.ToInt64`: numbers truncate, numeric strings parse (with base prefixes and a zero
/// fraction), booleans are 0 or 1, anything else is 0.
pub fn to_int64(value: &Value) -> i64 {
    crate::render::functions::to_int(value)
}

/// `cast.ToFloat64`.
pub fn to_float64(value: &Value) -> f64 {
    match value {
        Value::Int(i) | Value::Int64(i) => *i as f64,
        Value::Object(object)
            if matches!(object.type_name(), "time.Month" | "time.Weekday" | "uint64") =>
        {
            object.int_value().unwrap_or(0) as f64
        }
        Value::Float(f) => *f,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Str(s) => crate::render::functions::parse_go_float(s).unwrap_or(0.0),
        _ => 0.0,
    }
}

/// A float as shopspring/decimal's `NewFromFloat` sees it: its shortest decimal form.
#[derive(Clone, Copy)]
struct Decimal {
    mantissa: i128,
    exponent: i32,
}

impl Decimal {
    fn from_f64(f: f64) -> Option<Decimal> {
        if !f.is_finite() {
            return None;
        }
        let text = format!("{f:e}");
        let (digits, exp) = text.split_once('e')?;
        let exp: i32 = exp.parse().ok()?;
        let negative = digits.starts_with('-');
        let digits = digits.trim_start_matches('-');
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let mantissa: i128 = format!("{int}{frac}").parse().ok()?;
        Some(Decimal {
            mantissa: if negative { -mantissa } else { mantissa },
            exponent: exp - frac.len() as i32,
        })
    }

    fn to_f64(self) -> f64 {
        format!("{}e{}", self.mantissa, self.exponent)
            .parse()
            .unwrap_or(f64::NAN)
    }

    fn align(a: Decimal, b: Decimal) -> Option<(i128, i128, i32)> {
        let exp = a.exponent.min(b.exponent);
        let scale = |d: Decimal| -> Option<i128> {
            10i128
                .checked_pow((d.exponent - exp) as u32)?
                .checked_mul(d.mantissa)
        };
        Some((scale(a)?, scale(b)?, exp))
    }
}

/// Exact decimal arithmetic on the shortest forms, as Sprig does; plain floats if the digits
/// overflow.
fn decimal_op(a: f64, b: f64, op: char) -> f64 {
    let exact = (|| {
        let (x, y) = (Decimal::from_f64(a)?, Decimal::from_f64(b)?);
        let result = match op {
            '+' | '-' => {
                let (x, y, exponent) = Decimal::align(x, y)?;
                let mantissa = if op == '+' {
                    x.checked_add(y)?
                } else {
                    x.checked_sub(y)?
                };
                Decimal { mantissa, exponent }
            }
            '*' => Decimal {
                mantissa: x.mantissa.checked_mul(y.mantissa)?,
                exponent: x.exponent + y.exponent,
            },
            _ => return None,
        };
        Some(result.to_f64())
    })();
    exact.unwrap_or(match op {
        '+' => a + b,
        '-' => a - b,
        _ => a * b,
    })
}

/// Sprig's `divf`: decimal division to 16 digits after the point.
fn decimal_div(a: f64, b: f64) -> Result<f64, String> {
    if b == 0.0 {
        return Err("decimal division by 0".to_owned());
    }
    // shopspring's DivRound(d2, 16): the exact quotient rounded half away from zero at 16 places.
    let exact = (|| {
        let (x, y) = (Decimal::from_f64(a)?, Decimal::from_f64(b)?);
        let k = x.exponent - y.exponent + 16;
        let (num, den) = if k >= 0 {
            (
                x.mantissa.checked_mul(10i128.checked_pow(k as u32)?)?,
                y.mantissa,
            )
        } else {
            (
                x.mantissa,
                y.mantissa
                    .checked_mul(10i128.checked_pow(k.unsigned_abs())?)?,
            )
        };
        let (mut q, r) = (num / den, num % den);
        if r.checked_mul(2)?.abs() >= den.abs() {
            q += if (num < 0) == (den < 0) { 1 } else { -1 };
        }
        Some(
            Decimal {
                mantissa: q,
                exponent: -16,
            }
            .to_f64(),
        )
    })();
    Ok(exact.unwrap_or_else(|| {
        let quotient = a / b;
        format!("{quotient:.16}").parse().unwrap_or(quotient)
    }))
}

fn float_fold(args: &[Value], op: char) -> Result<f64, String> {
    let mut iter = args.iter();
    let mut acc = iter.next().map(to_float64).unwrap_or(0.0);
    for arg in iter {
        let x = to_float64(arg);
        acc = if op == '/' {
            decimal_div(acc, x)?
        } else {
            decimal_op(acc, x, op)
        };
    }
    Ok(acc)
}

/// `untilStep start stop step`.
pub fn until_step(start: i64, stop: i64, step: i64) -> Vec<i64> {
    let mut out = Vec::new();
    if stop < start {
        if step >= 0 {
            return out;
        }
        let mut i = start;
        while i > stop {
            out.push(i);
            i += step;
        }
        return out;
    }
    if step <= 0 {
        return out;
    }
    let mut i = start;
    while i < stop {
        out.push(i);
        i += step;
    }
    out
}

fn int_list(exec: &crate::render::gotemplate::Exec<'_>, items: Vec<i64>) -> FuncResult {
    exec.budget.charge(items.len() as u64 * 32)?;
    Ok(Value::typed_list(
        ListKind::Int,
        items.into_iter().map(Value::Int).collect(),
    ))
}

fn checked_span(
    exec: &crate::render::gotemplate::Exec<'_>,
    start: i64,
    stop: i64,
    step: i64,
) -> Result<(), crate::render::gotemplate::FuncError> {
    let step = step.unsigned_abs().max(1);
    let count = start.abs_diff(stop) / step;
    exec.budget.charge(count.saturating_mul(32))?;
    Ok(())
}

fn seq(params: &[i64]) -> Vec<i64> {
    match *params {
        [end] => {
            let step = if end < 1 { -1 } else { 1 };
            until_step(1, end + step, step)
        }
        [start, end] => {
            let step = if end < start { -1 } else { 1 };
            until_step(start, end + step, step)
        }
        [start, step, end] => {
            let increment = if end < start { -1 } else { 1 };
            if end < start && step > 0 {
                return Vec::new();
            }
            until_step(start, end + increment, step)
        }
        _ => Vec::new(),
    }
}

/// Go's `math.Round`-free rounding of Sprig's `round`: half away from... as Sprig computes it.
fn round(value: f64, places: i64, on: f64) -> f64 {
    // Sprig's float arithmetic as written: math.Pow(10, float64(p)) reaches ±Inf and NaN where
    // Go's does (powi would wrap a huge p).
    let pow = 10f64.powf(places as f64);
    let digit = pow * value;
    // math.Modf: the fraction of ±Inf is NaN.
    let frac = if digit.is_infinite() {
        f64::NAN
    } else {
        digit - digit.trunc()
    };
    let rounded = if frac >= on {
        digit.ceil()
    } else {
        digit.floor()
    };
    rounded / pow
}

pub fn register(map: &mut FuncMap) {
    map.add("int64", &[A], |_, args| {
        Ok(Value::Int64(to_int64(&args[0])))
    });
    map.add("float64", &[A], |_, args| {
        Ok(Value::Float(to_float64(&args[0])))
    });
    map.add("atoi", &[S], |_, args| {
        Ok(Value::Int(arg_str(&args, 0).parse::<i64>().unwrap_or(0)))
    });
    map.add("toDecimal", &[A], |exec, args| {
        let text = super::strval(&args[0], exec.budget)?;
        Ok(Value::Int64(i64::from_str_radix(&text, 8).unwrap_or(0)))
    });
    map.add("add1", &[A], |_, args| {
        Ok(Value::Int64(to_int64(&args[0]).wrapping_add(1)))
    });
    map.add_variadic("add", &[], A, |_, args| {
        Ok(Value::Int64(
            args.iter()
                .fold(0i64, |acc, v| acc.wrapping_add(to_int64(v))),
        ))
    });
    map.add("sub", &[A, A], |_, args| {
        Ok(Value::Int64(
            to_int64(&args[0]).wrapping_sub(to_int64(&args[1])),
        ))
    });
    map.add("div", &[A, A], |_, args| {
        let divisor = to_int64(&args[1]);
        if divisor == 0 {
            return Err(error("runtime error: integer divide by zero"));
        }
        Ok(Value::Int64(to_int64(&args[0]).wrapping_div(divisor)))
    });
    map.add("mod", &[A, A], |_, args| {
        let divisor = to_int64(&args[1]);
        if divisor == 0 {
            return Err(error("runtime error: integer divide by zero"));
        }
        Ok(Value::Int64(to_int64(&args[0]).wrapping_rem(divisor)))
    });
    map.add_variadic("mul", &[A], A, |_, args| {
        Ok(Value::Int64(
            args.iter()
                .fold(1i64, |acc, v| acc.wrapping_mul(to_int64(v))),
        ))
    });
    for name in ["max", "biggest"] {
        map.add_variadic(name, &[A], A, |_, args| {
            Ok(Value::Int64(args.iter().map(to_int64).max().unwrap_or(0)))
        });
    }
    map.add_variadic("min", &[A], A, |_, args| {
        Ok(Value::Int64(args.iter().map(to_int64).min().unwrap_or(0)))
    });
    map.add_variadic("maxf", &[A], A, |_, args| {
        Ok(Value::Float(
            args.iter()
                .map(to_float64)
                .fold(f64::NEG_INFINITY, f64::max),
        ))
    });
    map.add_variadic("minf", &[A], A, |_, args| {
        Ok(Value::Float(
            args.iter().map(to_float64).fold(f64::INFINITY, f64::min),
        ))
    });
    map.add("add1f", &[A], |_, args| {
        Ok(Value::Float(decimal_op(to_float64(&args[0]), 1.0, '+')))
    });
    map.add_variadic("addf", &[], A, |_, args| {
        let mut acc = 0.0;
        for arg in &args {
            acc = decimal_op(acc, to_float64(arg), '+');
        }
        Ok(Value::Float(acc))
    });
    map.add_variadic("subf", &[A], A, |_, args| {
        Ok(Value::Float(float_fold(&args, '-').map_err(error)?))
    });
    map.add_variadic("mulf", &[A], A, |_, args| {
        Ok(Value::Float(float_fold(&args, '*').map_err(error)?))
    });
    map.add_variadic("divf", &[A], A, |_, args| {
        Ok(Value::Float(float_fold(&args, '/').map_err(error)?))
    });
    map.add("ceil", &[A], |_, args| {
        Ok(Value::Float(to_float64(&args[0]).ceil()))
    });
    map.add("floor", &[A], |_, args| {
        Ok(Value::Float(to_float64(&args[0]).floor()))
    });
    map.add_variadic("round", &[A, I], A, |_, args| {
        let on = args.get(2).map(to_float64).unwrap_or(0.5);
        Ok(Value::Float(round(
            to_float64(&args[0]),
            arg_int(&args, 1),
            on,
        )))
    });
    map.add("until", &[I], |exec, args| {
        let count = arg_int(&args, 0);
        let step = if count < 0 { -1 } else { 1 };
        checked_span(exec, 0, count, step)?;
        int_list(exec, until_step(0, count, step))
    });
    map.add("untilStep", &[I, I, I], |exec, args| {
        let (start, stop, step) = (arg_int(&args, 0), arg_int(&args, 1), arg_int(&args, 2));
        checked_span(exec, start, stop, step)?;
        int_list(exec, until_step(start, stop, step))
    });
    map.add_variadic("seq", &[], I, |exec, args| {
        let params: Vec<i64> = args.iter().filter_map(Value::as_int).collect();
        if let (Some(first), Some(last)) = (params.first(), params.last()) {
            checked_span(
                exec,
                *first,
                *last,
                if params.len() == 3 { params[1] } else { 1 },
            )?;
        }
        let items: Vec<String> = seq(&params).iter().map(i64::to_string).collect();
        charged(exec, items.join(" "))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_math_is_decimal_like_sprig() {
        assert_eq!(decimal_op(0.1, 0.2, '+'), 0.3);
        assert_eq!(decimal_op(0.1, 3.0, '*'), 0.3);
        assert_eq!(decimal_div(1.0, 3.0).unwrap(), 0.3333333333333333);
        assert_eq!(round(2.5, 0, 0.5), 3.0);
        assert_eq!(round(1.23456, 2, 0.5), 1.23);
        assert_eq!(seq(&[3]), vec![1, 2, 3]);
        assert_eq!(seq(&[5, 2, 9]), vec![5, 7, 9]);
        assert_eq!(until_step(0, 10, 4), vec![0, 4, 8]);
    }
}
