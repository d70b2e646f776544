//! The result format: one flat JSON object per line, string and boolean
//! values only (`config`, `case`, `expect`, `outcome`, `pass`, `evidence`, …).
//! The guest writes it to its second serial port; the host parses it back.
//! Small enough to hand-write, which keeps the guest binary's dependencies
//! to libc.

#![forbid(unsafe_code)]

/// A JSON value of the two kinds we use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A string.
    Str(String),
    /// A boolean.
    Bool(bool),
}

/// Encodes `fields` as one JSON object on one line.
pub fn encode(fields: &[(&str, Value)]) -> String {
    let mut out = String::from("{");
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        quote(&mut out, k);
        out.push(':');
        match v {
            Value::Str(s) => quote(&mut out, s),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        }
    }
    out.push('}');
    out
}

fn quote(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Parses one flat object; `None` if the line is not one (e.g. serial noise).
pub fn decode(line: &str) -> Option<Vec<(String, Value)>> {
    let mut it = line.trim().chars().peekable();
    let mut fields = Vec::new();
    if it.next()? != '{' {
        return None;
    }
    loop {
        match it.next()? {
            '}' if fields.is_empty() => break,
            '"' => {}
            _ => return None,
        }
        let key = string(&mut it)?;
        if it.next()? != ':' {
            return None;
        }
        let value = match it.next()? {
            '"' => Value::Str(string(&mut it)?),
            't' => word(&mut it, "rue").then_some(Value::Bool(true))?,
            'f' => word(&mut it, "alse").then_some(Value::Bool(false))?,
            _ => return None,
        };
        fields.push((key, value));
        match it.next()? {
            ',' => continue,
            '}' => break,
            _ => return None,
        }
    }
    it.next().is_none().then_some(fields)
}

fn word(it: &mut impl Iterator<Item = char>, rest: &str) -> bool {
    rest.chars().all(|c| it.next() == Some(c))
}

fn string(it: &mut impl Iterator<Item = char>) -> Option<String> {
    let mut s = String::new();
    loop {
        match it.next()? {
            '"' => return Some(s),
            '\\' => match it.next()? {
                'n' => s.push('\n'),
                'r' => s.push('\r'),
                't' => s.push('\t'),
                'u' => {
                    let hex: String = (0..4).filter_map(|_| it.next()).collect();
                    s.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                c => s.push(c),
            },
            c => s.push(c),
        }
    }
}

/// The string field `key` of a decoded object.
pub fn get_str<'a>(fields: &'a [(String, Value)], key: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| match v {
            Value::Str(s) => Some(s.as_str()),
            Value::Bool(_) => None,
        })
}

/// The boolean field `key` of a decoded object.
pub fn get_bool(fields: &[(String, Value)], key: &str) -> Option<bool> {
    fields
        .iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| match v {
            Value::Bool(b) => Some(*b),
            Value::Str(_) => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_escapes() {
        let f = [
            ("case", Value::Str("a\"b\\c\nd\u{1}".into())),
            ("pass", Value::Bool(false)),
        ];
        let line = encode(&f);
        let back = decode(&line).unwrap();
        assert_eq!(get_str(&back, "case"), Some("a\"b\\c\nd\u{1}"));
        assert_eq!(get_bool(&back, "pass"), Some(false));
    }

    #[test]
    fn rejects_noise() {
        assert!(decode("[    1.0] kernel").is_none());
        assert!(decode("{\"a\":1}").is_none());
        assert!(decode("{\"a\":\"x\"} trailing").is_none());
    }
}
