//! Internationalised domain names, as Debian's and upstream's iputils ping
//! (built with libidn2) handle them: the destination is looked up with
//! `AI_IDN` (a name with non-ASCII characters becomes its punycode form,
//! `bücher.example` → `xn--bcher-kva.example`), and the names it prints
//! (the canonical name, `AI_CANONIDN`, and reverse names, `NI_IDN`) come
//! back in Unicode.
//!
//! glibc does both by `dlopen`ing libidn2, which the statically linked
//! worker cannot; the `idna` crate (UTS #46, nontransitional, as libidn2's
//! `idn2_lookup_ul` without flags) does the conversion instead, in the
//! prepare phase where names are resolved, and in the resolver co-process
//! for reverse names learnt later. Pure computation: no system call.
//!
//! glibc converts between the locale's character set and UTF-8, so the
//! locale matters: under a UTF-8 locale the conversions happen; under any
//! other (the C locale above all) a name with non-ASCII bytes is
//! "Parameter string not correctly encoded" (`EAI_IDN_ENCODE`) and names
//! print in punycode (glibc's fallback when it cannot convert). A name that
//! is all ASCII is looked up as given, punycode or not, as glibc does.
//!
//! One difference remains: libidn2 also applies IDNA2008's code point
//! table, UTS #46 alone does not, so a symbol UTS #46 maps as valid
//! (`☃.example`) is looked up here where iputils refuses it.

#![forbid(unsafe_code)]

use std::borrow::Cow;

use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};

/// glibc's `EAI_IDN_ENCODE` ("Parameter string not correctly encoded").
pub const EAI_IDN_ENCODE: libc::c_int = -105;

/// Whether the locale's character set (`LC_ALL`, else `LC_CTYPE`, else
/// `LANG`, the first that is set and not empty, as glibc's `setlocale`
/// reads them) is UTF-8: `C.UTF-8`, `de_DE.utf8`, `en_US.UTF-8@euro`.
pub fn utf8_locale() -> bool {
    let get = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    let value = get("LC_ALL").or_else(|| get("LC_CTYPE")).or_else(|| get("LANG"));
    value.is_some_and(|v| names_utf8(&v.to_string_lossy()))
}

/// Whether a locale name's codeset is UTF-8 (glibc normalises the codeset
/// by case and punctuation: `UTF-8`, `utf8`, `Utf-8`).
fn names_utf8(locale: &str) -> bool {
    let Some((_, rest)) = locale.split_once('.') else {
        return false;
    };
    let codeset = rest.split('@').next().unwrap_or("");
    let normal: String = codeset
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    normal == "utf8"
}

/// The name to look up for `name` (`AI_IDN`): itself when it is all ASCII,
/// its punycode form when it is a valid IDN under a UTF-8 locale, else
/// `EAI_IDN_ENCODE` (glibc also refuses a non-ASCII name with a backslash;
/// bytes that were not UTF-8 arrive here as U+FFFD, which UTS #46
/// disallows).
pub fn to_lookup(name: &str, utf8: bool) -> Result<Cow<'_, str>, libc::c_int> {
    if name.is_ascii() {
        return Ok(Cow::Borrowed(name));
    }
    if !utf8 || name.contains('\\') {
        return Err(EAI_IDN_ENCODE);
    }
    // libidn2 (lookup without flags) neither applies the STD3 rules nor
    // checks hyphens or lengths: `a--ü` and `b_ü` are looked up.
    Uts46::new()
        .to_ascii(
            name.as_bytes(),
            AsciiDenyList::EMPTY,
            Hyphens::Allow,
            DnsLength::Ignore,
        )
        .map_err(|_| EAI_IDN_ENCODE)
}

/// How a name from the resolver prints (`AI_CANONIDN`, `NI_IDN`): under a
/// UTF-8 locale each punycode label (`xn--`) in Unicode, other labels as
/// they are; the name unchanged if a label does not decode to a valid
/// IDN label (glibc's fallback), or outside a UTF-8 locale.
pub fn to_display(name: &str, utf8: bool) -> Cow<'_, str> {
    let is_ace = |l: &str| l.len() > 4 && l[..4].eq_ignore_ascii_case("xn--");
    if !utf8 || !name.is_ascii() || !name.split('.').any(is_ace) {
        return Cow::Borrowed(name);
    }
    let mut out = String::with_capacity(name.len());
    for (i, label) in name.split('.').enumerate() {
        if i > 0 {
            out.push('.');
        }
        if is_ace(label) {
            match idna::domain_to_unicode(label) {
                (unicode, Ok(())) if !unicode.contains('.') => out.push_str(&unicode),
                _ => return Cow::Borrowed(name),
            }
        } else {
            out.push_str(label);
        }
    }
    Cow::Owned(out)
}

/// The reverse name of `addr` as ping prints it (`getnameinfo` with
/// `NI_IDN`): [`to_display`] of the resolver's answer.
pub fn reverse_name(addr: &std::net::SocketAddr, utf8: bool) -> Option<String> {
    crate::sys::getnameinfo(addr, false).map(|n| to_display(&n, utf8).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locale_names() {
        for utf8 in ["C.UTF-8", "C.utf8", "de_DE.UTF-8", "en_US.utf-8@euro"] {
            assert!(names_utf8(utf8), "{utf8}");
        }
        for other in ["C", "POSIX", "", "de_DE", "de_DE.ISO-8859-1", "UTF-8", "x.utf16"] {
            assert!(!names_utf8(other), "{other}");
        }
    }

    #[test]
    fn lookup_names_in_punycode() {
        let ok = |n| to_lookup(n, true).map(Cow::into_owned);
        assert_eq!(ok("bücher.example"), Ok("xn--bcher-kva.example".into()));
        // TR46 mapping, nontransitional (libidn2's default): case folded,
        // ß kept.
        assert_eq!(ok("BÜCHER.example"), Ok("xn--bcher-kva.example".into()));
        assert_eq!(ok("straße.example"), Ok("xn--strae-oqa.example".into()));
        assert_eq!(ok("Ａ.example"), Ok("a.example".into()));
        // Neither STD3 nor hyphen rules, as libidn2 without flags.
        assert_eq!(ok("b_ü.example"), Ok("xn--b_-yka.example".into()));
        assert!(ok("a--ü.example").is_ok());
        // ASCII passes through untouched, even as invalid punycode.
        assert_eq!(ok("xn--zz.Example"), Ok("xn--zz.Example".into()));
        assert_eq!(ok("server"), Ok("server".into()));
    }

    #[test]
    fn bad_names_are_not_correctly_encoded() {
        // Not UTF-8 (lossily converted), a backslash, a disallowed
        // character, or any non-ASCII outside a UTF-8 locale.
        assert_eq!(to_lookup("b\u{fffd}cher.example", true), Err(EAI_IDN_ENCODE));
        assert_eq!(to_lookup("bü\\x.example", true), Err(EAI_IDN_ENCODE));
        assert_eq!(to_lookup("a\u{2488}.example", true), Err(EAI_IDN_ENCODE));
        assert_eq!(to_lookup("\u{301}a.example", true), Err(EAI_IDN_ENCODE));
        assert_eq!(to_lookup("bücher.example", false), Err(EAI_IDN_ENCODE));
        assert_eq!(to_lookup("server", false).as_deref(), Ok("server"));
    }

    #[test]
    fn display_names_in_unicode() {
        assert_eq!(to_display("xn--bcher-kva.example", true), "bücher.example");
        assert_eq!(to_display("XN--bcher-kva.Example", true), "bücher.Example");
        assert_eq!(to_display("xn--bcher-kva.example", false), "xn--bcher-kva.example");
        assert_eq!(to_display("server", true), "server");
        // Invalid punycode: the name as it came (glibc's fallback).
        assert_eq!(to_display("xn--ab-.example", true), "xn--ab-.example");
        // Names stay escapable: a decoded label is text like any other.
        assert_eq!(to_display("evil\u{1b}[7m.xn--bcher-kva", true), "evil\u{1b}[7m.bücher");
    }
}
