//! C's `strtol`, once for every tool: ping's and arping's command lines
//! (iputils' `strtol_or_err`, `parsetos`, `parseflow`) and mtr-packet's
//! requests read numbers exactly as glibc does.

#![forbid(unsafe_code)]

use crate::error::WorkerError;
use crate::text::printable;

/// What glibc's `strtol(s, &end, radix)` yields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Strtol {
    /// The value, saturated at the `long` limits on overflow.
    pub value: i64,
    /// Whether it overflowed (C's `ERANGE`).
    pub overflow: bool,
    /// How many bytes were read (`end - s`): 0 when no digit was found,
    /// as C leaves `end` at the start of the string then.
    pub end: usize,
}

/// C's `isspace` in the "C" locale.
pub fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// glibc's `strtol(s, &end, radix)` for a radix of 2 to 36 without a
/// prefix: leading white space, an optional sign, as many digits as there
/// are.
pub fn strtol(s: &[u8], radix: u32) -> Strtol {
    let mut i = 0;
    while s.get(i).copied().is_some_and(is_c_space) {
        i += 1;
    }
    let negative = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits_start = i;
    let mut value: i64 = 0;
    let mut overflow = false;
    while let Some(d) = s.get(i).and_then(|&b| char::from(b).to_digit(radix)) {
        let d = i64::from(d);
        let next = value.checked_mul(i64::from(radix)).and_then(|v| {
            if negative {
                v.checked_sub(d)
            } else {
                v.checked_add(d)
            }
        });
        match next {
            Some(v) if !overflow => value = v,
            _ => overflow = true,
        }
        i += 1;
    }
    if i == digits_start {
        return Strtol {
            value: 0,
            overflow: false,
            end: 0,
        };
    }
    if overflow {
        value = if negative { i64::MIN } else { i64::MAX };
    }
    Strtol {
        value,
        overflow,
        end: i,
    }
}

/// `strtol(s, &end, 10)` where the whole string must be the number:
/// `Err(true)` on overflow (`ERANGE`), `Err(false)` when it is no number.
pub fn strtol_whole(s: &str) -> Result<i64, bool> {
    let r = strtol(s.as_bytes(), 10);
    if r.end == 0 || r.end != s.len() {
        Err(false)
    } else if r.overflow {
        Err(true)
    } else {
        Ok(r.value)
    }
}

/// iputils' `strtol_or_err(optarg, "invalid argument", min, max)` (and
/// `strtoul_or_err`, whose messages are the same): its words and, through
/// [`WorkerError::BadValue`], its exit 1. A value with a control character
/// is no number (the option would otherwise reach the terminal raw).
pub fn strtol_or_err(s: &str, min: i64, max: i64) -> Result<i64, WorkerError> {
    let parsed = if s.chars().any(char::is_control) {
        Err(false)
    } else {
        strtol_whole(s)
    };
    let shown = printable(s);
    match parsed {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        Ok(_) => Err(format!(
            "invalid argument: '{shown}': out of range: {min} <= value <= {max}"
        )),
        Err(true) => Err(format!(
            "invalid argument: '{shown}': Numerical result out of range"
        )),
        Err(false) => Err(format!("invalid argument: '{shown}'")),
    }
    .map_err(WorkerError::BadValue)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtol_follows_c() {
        let t = |s: &str, radix| {
            let r = strtol(s.as_bytes(), radix);
            (r.value, r.overflow, r.end)
        };
        assert_eq!(t("42", 10), (42, false, 2));
        assert_eq!(t(" \t-7x", 10), (-7, false, 4));
        assert_eq!(t("+7", 10), (7, false, 2));
        assert_eq!(t("12ab", 10), (12, false, 2));
        assert_eq!(t("12ab", 16), (0x12ab, false, 4));
        assert_eq!(t("abc", 10), (0, false, 0));
        assert_eq!(t("-", 10), (0, false, 0));
        assert_eq!(t("", 10), (0, false, 0));
        assert_eq!(t("99999999999999999999", 10), (i64::MAX, true, 20));
        assert_eq!(t("-99999999999999999999", 10), (i64::MIN, true, 21));
        assert_eq!(t("-9223372036854775808", 10), (i64::MIN, false, 20));
    }

    #[test]
    fn whole_string_numbers() {
        assert_eq!(strtol_whole("  12"), Ok(12));
        assert_eq!(strtol_whole("-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(strtol_whole("9223372036854775808"), Err(true));
        assert_eq!(strtol_whole("12 "), Err(false));
        assert_eq!(strtol_whole(""), Err(false));
        assert_eq!(strtol_whole("+"), Err(false));
        assert_eq!(strtol_whole("99999999999999999999x"), Err(false));
    }

    #[test]
    fn strtol_or_err_speaks_iputils() {
        let msg = |s, min, max| match strtol_or_err(s, min, max) {
            Err(e) => (e.to_string(), e.status()),
            Ok(n) => (n.to_string(), 0),
        };
        assert_eq!(msg("5", 1, 9), ("5".into(), 0));
        assert_eq!(
            msg("0", 1, 9),
            (
                "invalid argument: '0': out of range: 1 <= value <= 9".into(),
                1
            )
        );
        assert_eq!(
            msg("99999999999999999999", 1, 9),
            (
                "invalid argument: '99999999999999999999': Numerical result out of range".into(),
                1
            )
        );
        assert_eq!(msg("x", 1, 9), ("invalid argument: 'x'".into(), 1));
        assert_eq!(
            msg("1\u{7}", 1, 9),
            ("invalid argument: '1\\u{7}'".into(), 1)
        );
    }
}
