//! What clockdiff prints: the usage (`-h`), the version (`-V`), the result
//! line in its two forms (interactive when stdin and stdout are terminals,
//! the `<time> <delta> <delta1>` line otherwise) and the verdicts, each in
//! iputils' words. Names from outside (the destination's canonical name)
//! are escaped with [`printable`].

#![forbid(unsafe_code)]

use std::ffi::CStr;

use super::cli::TimeFormat;
use super::measure::Measurement;
use crate::text::printable;

/// `-h`, and not exactly one destination (on stderr): iputils 20250605's
/// usage text, which names `clockdiff` whatever argv\[0\] is.
pub fn usage() -> &'static str {
    "
Usage:
  clockdiff [options] <destination>

Options:
                without -o, use icmp timestamp only (see RFC0792, page 16)
  -o            use IP timestamp and icmp echo
  -o1           use three-term IP timestamp and icmp echo
  -T, --time-format <ctime|iso>
                  specify display time format, ctime is the default
  -I            alias of --time-format=iso
  -h, --help    display this help
  -V, --version print version and exit
  <destination> DNS name or IP address

For more details see clockdiff(8).
"
}

/// `-V` (on stdout).
pub fn version() -> String {
    format!(
        "privsep-clockdiff {} (privsep launcher/worker split; clockdiff from iputils 20221126 compatible)\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// The getopt error's second line, on stdout as iputils prints it.
pub fn try_help(short_prog: &str) -> String {
    format!("Try '{short_prog} --help' for more information.\n")
}

/// The strftime format of `-T`.
pub fn time_format(f: TimeFormat) -> &'static CStr {
    match f {
        TimeFormat::Ctime => CTIME,
        TimeFormat::Iso => ISO,
    }
}

const fn cstr(bytes: &'static [u8]) -> &'static CStr {
    match CStr::from_bytes_with_nul(bytes) {
        Ok(c) => c,
        Err(_) => panic!("a format must end with one NUL"),
    }
}
const CTIME: &CStr = cstr(b"%a %b %e %H:%M:%S %Y\0");
const ISO: &CStr = cstr(b"%Y-%m-%dT%H:%M:%S%z\0");

/// The interactive result (after the dots): a newline, then
/// `host=… rtt=…(…)ms/…ms delta=…ms/…ms <time>`.
pub fn interactive_line(host: &str, m: &Measurement, time: &str) -> String {
    format!(
        "\nhost={} rtt={}({})ms/{}ms delta={}ms/{}ms {}\n",
        printable(host),
        m.rtt,
        m.rtt_sigma,
        m.min_rtt,
        m.delta as i32,
        m.delta1 as i32,
        time
    )
}

/// The non-interactive result: `<seconds since the epoch> <delta> <delta1>`.
pub fn batch_line(now: i64, m: &Measurement) -> String {
    format!("{now} {} {}\n", m.delta as i32, m.delta1 as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: Measurement = Measurement {
        rtt: 1,
        rtt_sigma: 2,
        min_rtt: 3,
        delta: -4,
        delta1: 5,
    };

    #[test]
    fn lines_as_iputils_prints_them() {
        assert_eq!(
            interactive_line("127.0.0.1", &M, "Tue Dec  1 21:42:25 2026"),
            "\nhost=127.0.0.1 rtt=1(2)ms/3ms delta=-4ms/5ms Tue Dec  1 21:42:25 2026\n"
        );
        assert_eq!(batch_line(1_796_161_345, &M), "1796161345 -4 5\n");
    }

    #[test]
    fn a_hostile_canonical_name_cannot_drive_the_terminal() {
        let l = interactive_line("evil\x1b[2J\nhost=fake", &M, "t");
        assert_eq!(l.matches('\n').count(), 2);
        assert!(!l.contains('\x1b'));
    }

    #[test]
    fn usage_is_upstreams() {
        let u = usage();
        assert!(u.starts_with("\nUsage:\n  clockdiff [options] <destination>\n"));
        assert!(u.contains("  -o1           use three-term IP timestamp and icmp echo\n"));
        assert_eq!(try_help("x"), "Try 'x --help' for more information.\n");
    }
}
