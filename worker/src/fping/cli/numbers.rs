//! C's number parsing as fping calls it on its command line: `sscanf`'s
//! `%f`, `%u` and `%i`, `atoi`, `atof`, `strtol` with C's base prefixes
//! and 5.5's `strtod_strict`, each with glibc's quirks (blank values,
//! wrap-around of negative unsigned values, hexadecimal floats). The
//! decimal and prefixed integer conversions go through the worker's one
//! `strtol` (`crate::num`).

#![forbid(unsafe_code)]

use crate::num;

/// What `sscanf` made of a value: a conversion, none (0), or `EOF` (the
/// value was empty or blank, which fping's `!sscanf(...)` lets through).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scan<T> {
    Value(T),
    NoMatch,
    Eof,
}

fn skip_space(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&b| num::is_c_space(b)).count();
    &s[n..]
}

/// The longest prefix of `s` that `strtod` converts, and its value.
fn strtod_prefix(s: &[u8]) -> Option<(f64, usize)> {
    let lower: Vec<u8> = s.iter().map(u8::to_ascii_lowercase).collect();
    let mut i = 0;
    if matches!(lower.first(), Some(b'+' | b'-')) {
        i = 1;
    }
    let neg = lower.first() == Some(&b'-');
    let sign = if neg { -1.0 } else { 1.0 };
    let rest = &lower[i..];
    for (word, v) in [("infinity", f64::INFINITY), ("inf", f64::INFINITY)] {
        if rest.starts_with(word.as_bytes()) {
            return Some((sign * v, i + word.len()));
        }
    }
    if rest.starts_with(b"nan") {
        return Some((f64::NAN, i + 3));
    }
    if rest.starts_with(b"0x") {
        let mut j = i + 2;
        let (mut v, mut digits, mut scale) = (0f64, 0, None::<i32>);
        while let Some(&c) = lower.get(j) {
            if let Some(d) = (c as char).to_digit(16) {
                v = v * 16.0 + f64::from(d);
                digits += 1;
                if let Some(sc) = scale.as_mut() {
                    *sc += 4;
                }
            } else if c == b'.' && scale.is_none() {
                scale = Some(0);
            } else {
                break;
            }
            j += 1;
        }
        if digits == 0 {
            // "0x" alone: the "0" converts.
            return Some((0.0, i + 1));
        }
        let mut exp = -scale.unwrap_or(0);
        if lower.get(j) == Some(&b'p') {
            let mut k = j + 1;
            let eneg = lower.get(k) == Some(&b'-');
            if matches!(lower.get(k), Some(b'+' | b'-')) {
                k += 1;
            }
            let start = k;
            let mut e: i32 = 0;
            while let Some(d) = lower.get(k).and_then(|c| (*c as char).to_digit(10)) {
                e = e.saturating_mul(10).saturating_add(d as i32);
                k += 1;
            }
            if k > start {
                exp += if eneg { -e } else { e };
                j = k;
            }
        }
        return Some((sign * v * 2f64.powi(exp), j));
    }
    let mut j = i;
    let mut digits = 0;
    while lower.get(j).is_some_and(u8::is_ascii_digit) {
        j += 1;
        digits += 1;
    }
    if lower.get(j) == Some(&b'.') {
        j += 1;
        while lower.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    if lower.get(j) == Some(&b'e') {
        let mut k = j + 1;
        if matches!(lower.get(k), Some(b'+' | b'-')) {
            k += 1;
        }
        if lower.get(k).is_some_and(u8::is_ascii_digit) {
            while lower.get(k).is_some_and(u8::is_ascii_digit) {
                k += 1;
            }
            j = k;
        }
    }
    let text = std::str::from_utf8(&s[..j]).ok()?;
    text.parse::<f64>().ok().map(|v| (v, j))
}

/// `sscanf(s, "%f", &float)`.
pub fn scan_float(s: &str) -> Scan<f32> {
    let t = skip_space(s.as_bytes());
    if t.is_empty() {
        return Scan::Eof;
    }
    match strtod_prefix(t) {
        Some((v, _)) => Scan::Value(v as f32),
        None => Scan::NoMatch,
    }
}

/// fping 5.5's `strtod_strict`: the whole value converts (leading blanks
/// allowed), in range, not negative; `None` where fping prints its usage.
pub fn strtod_strict(s: &str) -> Option<f64> {
    let t = skip_space(s.as_bytes());
    let (v, used) = strtod_prefix(t)?;
    let body = t.strip_prefix(b"-").or(t.strip_prefix(b"+")).unwrap_or(t);
    // ERANGE: a finite number too large for a double.
    let erange = v.is_infinite() && !body.to_ascii_lowercase().starts_with(b"inf");
    // NaN is not negative: C's `val < 0` lets it through.
    let negative = v < 0.0;
    (used == t.len() && !erange && !negative).then_some(v)
}

/// `atof(s)`: 0 when nothing converts.
pub fn atof(s: &str) -> f64 {
    strtod_prefix(skip_space(s.as_bytes())).map_or(0.0, |(v, _)| v)
}

/// `strtol(s, NULL, base)`, saturated at the `long` limits as glibc
/// saturates, or `None` when no digit converts. `base` 0: C's prefixes
/// (`0x` before a hexadecimal digit, `0`); the digits after a prefix go
/// through the worker's one `strtol`, sign in front.
pub fn strtol(s: &str, base: u32) -> Option<i64> {
    let t = skip_space(s.as_bytes());
    let (sign, unsigned) = match t.first() {
        Some(b'-' | b'+') => (&t[..1], &t[1..]),
        _ => (&t[..0], t),
    };
    let (radix, digits) = match base {
        0 if (unsigned.starts_with(b"0x") || unsigned.starts_with(b"0X"))
            && unsigned.get(2).is_some_and(u8::is_ascii_hexdigit) =>
        {
            (16, &unsigned[2..])
        }
        0 if unsigned.starts_with(b"0") => (8, unsigned),
        0 => (10, unsigned),
        b => (b, unsigned),
    };
    let signed: Vec<u8> = sign.iter().chain(digits).copied().collect();
    let r = num::strtol(&signed, radix);
    (r.end > 0).then_some(r.value)
}

/// C's conversion of a floating value to `int64_t` as fping's amd64
/// build performs it (`cvttsd2si`): in range it truncates; NaN or out of
/// range, which C leaves undefined, is `INT64_MIN`. So `-t 1e99` is a
/// negative time-out (every target unreachable) and `-i 1e99` no wait at
/// all, as with Debian's fping, where saturating would wait forever.
pub fn c_to_i64(x: f64) -> i64 {
    // 2^63: the first value past `i64::MAX`; `-2^63` itself converts.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if x.is_nan() || !(-LIMIT..LIMIT).contains(&x) {
        i64::MIN
    } else {
        x as i64
    }
}

/// fping 5.5's `-k` and `-X` (and `-x`, where 5.1's `atoi` is kept):
/// `strtoul` over the whole value (leading blanks and a
/// sign allowed, a negative value wrapping around), 1 to `UINT_MAX`;
/// `None` where 5.5 prints its usage.
pub fn uint_strict(s: &str) -> Option<u32> {
    let t = skip_space(s.as_bytes());
    let (negative, digits) = match t.first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    // strtoul: ULONG_MAX on overflow, then the sign applied modulo 2^64.
    let v = digits.iter().try_fold(0u64, |v, d| {
        v.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    });
    let v = match v {
        Some(v) if negative => v.wrapping_neg(),
        Some(v) => v,
        None => u64::MAX,
    };
    u32::try_from(v).ok().filter(|&m| m != 0)
}

/// `atoi(s)` as glibc computes it (`(int) strtol(s, NULL, 10)`).
pub fn atoi(s: &str) -> i32 {
    strtol(s, 10).unwrap_or(0) as i32
}

/// `sscanf(s, "%u", &unsigned)`: glibc converts as `strtoul` and stores
/// the low 32 bits (so `-1` is 4294967295).
pub fn scan_unsigned(s: &str) -> Scan<u32> {
    let t = skip_space(s.as_bytes());
    if t.is_empty() {
        return Scan::Eof;
    }
    let text = std::str::from_utf8(t).unwrap_or("");
    let neg = text.starts_with('-');
    let body = text.trim_start_matches(['-', '+']);
    let digits: String = body.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() || text.len() - body.len() > 1 {
        return Scan::NoMatch;
    }
    let mut v: u64 = 0;
    for d in digits.bytes() {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
            .unwrap_or(u64::MAX);
    }
    let v = if neg { v.wrapping_neg() } else { v };
    Scan::Value(v as u32)
}

/// `sscanf(s, "%i", &int)`.
pub fn scan_int_any_base(s: &str) -> Scan<i32> {
    if skip_space(s.as_bytes()).is_empty() {
        return Scan::Eof;
    }
    match strtol(s, 0) {
        Some(v) => Scan::Value(v as i32),
        None => Scan::NoMatch,
    }
}
