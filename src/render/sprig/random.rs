//! Where random and time functions get their entropy: real randomness and the real clock by
//! default, or, inside a [`Scope`] entered with a seed, a ChaCha20 stream from that seed and a
//! fixed clock, so a render is repeatable. Renders run synchronously on one thread, so the scope
//! is thread-local.

use std::cell::RefCell;

use base64::Engine;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

use super::{I, arg_int, arg_str, charged};
use crate::render::gotemplate::Exec;
use crate::render::gotemplate::funcs::{FuncMap, FuncResult, error};
use crate::render::gotemplate::value::Value;
use crate::render::gotime::GoTime;

/// The clock of a seeded render: 2025-01-01T00:00:00Z.
pub const SEEDED_NOW: i64 = 1_735_689_600;

struct Entropy {
    rng: ChaCha20Rng,
    now: Option<GoTime>,
}

thread_local! {
    static CURRENT: RefCell<Option<Entropy>> = const { RefCell::new(None) };
}

/// The entropy of one render; the previous one comes back when this is dropped.
pub struct Scope {
    previous: Option<Entropy>,
}

/// Enters a render: seeded (repeatable) or from the operating system's entropy.
pub fn enter(seed: Option<u64>) -> Scope {
    let entropy = match seed {
        Some(seed) => Entropy {
            rng: ChaCha20Rng::seed_from_u64(seed),
            now: Some(GoTime::from_unix(SEEDED_NOW, 0)),
        },
        None => Entropy {
            rng: ChaCha20Rng::from_entropy(),
            now: None,
        },
    };
    Scope {
        previous: CURRENT.with(|c| c.replace(Some(entropy))),
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
    }
}

/// Runs `f` with the current render's generator (a fresh one outside any render).
pub fn with_rng<T>(f: impl FnOnce(&mut ChaCha20Rng) -> T) -> T {
    CURRENT.with(|c| match c.borrow_mut().as_mut() {
        Some(entropy) => f(&mut entropy.rng),
        None => f(&mut ChaCha20Rng::from_entropy()),
    })
}

/// The render's clock.
pub fn now() -> GoTime {
    CURRENT
        .with(|c| c.borrow().as_ref().and_then(|e| e.now))
        .unwrap_or_else(|| {
            let since = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            GoTime::from_unix(
                i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
                i64::from(since.subsec_nanos()),
            )
        })
}

/// A uniform integer below `bound` (> 0).
pub fn below(rng: &mut ChaCha20Rng, bound: u64) -> u64 {
    // Rejection sampling keeps it uniform.
    let zone = u64::MAX - (u64::MAX % bound);
    loop {
        let x = rng.next_u64();
        if x < zone {
            return x % bound;
        }
    }
}

const ALPHA: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const NUMERIC: &str = "0123456789";

fn random_from(exec: &Exec<'_>, count: i64, alphabet: &[char]) -> FuncResult {
    // goutils refuses a negative length and Sprig drops its error: the result is empty.
    if count < 0 {
        return Ok(Value::str(""));
    }
    exec.budget.charge(count as u64)?;
    let text: String = with_rng(|rng| {
        (0..count)
            .map(|_| alphabet[below(rng, alphabet.len() as u64) as usize])
            .collect()
    });
    Ok(Value::string(text))
}

fn chars(set: &str) -> Vec<char> {
    set.chars().collect()
}

pub fn register(map: &mut FuncMap) {
    map.add("randAlphaNum", &[I], |exec, args| {
        random_from(
            exec,
            arg_int(&args, 0),
            &chars(&format!("{ALPHA}{NUMERIC}")),
        )
    });
    map.add("randAlpha", &[I], |exec, args| {
        random_from(exec, arg_int(&args, 0), &chars(ALPHA))
    });
    map.add("randNumeric", &[I], |exec, args| {
        random_from(exec, arg_int(&args, 0), &chars(NUMERIC))
    });
    map.add("randAscii", &[I], |exec, args| {
        let printable: Vec<char> = (32u8..127).map(char::from).collect();
        random_from(exec, arg_int(&args, 0), &printable)
    });
    map.add("randInt", &[I, I], |_, args| {
        let (min, max) = (arg_int(&args, 0), arg_int(&args, 1));
        if max <= min {
            return Err(error("invalid argument to Intn"));
        }
        let span = (max - min) as u64;
        Ok(Value::Int(min + with_rng(|rng| below(rng, span)) as i64))
    });
    map.add("randBytes", &[I], |exec, args| {
        let count = usize::try_from(arg_int(&args, 0))
            .map_err(|_| error("runtime error: makeslice: len out of range"))?;
        exec.budget.charge(count as u64 * 2)?;
        let mut bytes = vec![0u8; count];
        with_rng(|rng| rng.fill_bytes(&mut bytes));
        charged(
            exec,
            base64::engine::general_purpose::STANDARD.encode(bytes),
        )
    });
    map.add("uuidv4", &[], |_, _| Ok(Value::string(uuid_v4())));
    map.add("shuffle", &[super::S], |exec, args| {
        exec.budget
            .working_set(arg_str(&args, 0).len() as u64 * 4)?;
        exec.budget.charge(arg_str(&args, 0).len() as u64)?;
        let mut runes: Vec<char> = arg_str(&args, 0).chars().collect();
        with_rng(|rng| {
            for i in (1..runes.len()).rev() {
                let j = below(rng, i as u64 + 1) as usize;
                runes.swap(i, j);
            }
        });
        Ok(Value::string(runes.into_iter().collect()))
    });
    // Kept here with the other entropy readers: `now` is the render's clock.
    map.add("now", &[], |_, _| {
        Ok(super::time_values::Time::now(now()).value())
    });
}

/// A version 4 UUID from the render's generator.
pub fn uuid_v4() -> String {
    let mut bytes = [0u8; 16];
    with_rng(|rng| rng.fill_bytes(&mut bytes));
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}
