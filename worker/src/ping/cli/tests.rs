//! Unit tests of ping's command line: getopt order, upstream's messages
//! and exit statuses, number syntax.

use super::*;
use crate::WorkerError;

fn run(args: &[&str]) -> Outcome {
    let v: Vec<OsString> = args.iter().map(OsString::from).collect();
    parse(&v, false, None, false)
}

fn opts(args: &[&str]) -> Options {
    match run(args).result {
        Ok(Parsed::Run(o)) => *o,
        other => panic!("{args:?}: {other:?}"),
    }
}

fn err(args: &[&str]) -> (String, i32, bool) {
    match run(args).result {
        Err(e) => (
            e.to_string(),
            e.status(),
            matches!(e, WorkerError::Usage(_)),
        ),
        other => panic!("{args:?} should fail: {other:?}"),
    }
}

#[test]
fn getopt_clusters_late_options_and_double_dash() {
    let o = opts(&["-nqc3", "localhost", "-D", "-O"]);
    assert!(o.numeric && o.quiet && o.timestamps && o.outstanding);
    assert_eq!((o.count, o.destination.as_str()), (3, "localhost"));
    assert_eq!(opts(&["-c", "1", "-c", "4", "x"]).count, 4);
    assert_eq!(opts(&["-c5", "--", "-x"]).destination, "-x");
    let o = opts(&["127.0.0.2", "127.0.0.3", "127.0.0.1"]);
    assert_eq!(o.destinations.len(), 3);
    assert_eq!(o.destination, "127.0.0.1");
}

#[test]
fn exit_statuses_are_upstreams() {
    assert_eq!(err(&["-c", "0", "x"]).1, 1);
    assert_eq!(
        err(&["-c", "0", "x"]).0,
        "invalid argument: '0': out of range: 1 <= value <= 9223372036854775807"
    );
    assert_eq!(err(&["-t", "256", "x"]).1, 1);
    assert_eq!(
        err(&["-w", "abc", "x"]),
        ("invalid argument: 'abc'".into(), 1, false)
    );
    assert_eq!(
        err(&["-e", "70000", "x"]).0,
        "invalid argument: '70000': out of range: 0 <= value <= 65535"
    );
    assert_eq!(err(&["-S", "0", "x"]).1, 1);
    assert_eq!(
        err(&["-W", "-1", "x"]),
        ("bad linger time: -1".into(), 2, false)
    );
    assert_eq!(
        err(&["-M", "foo", "x"]),
        ("invalid -M argument: foo".into(), 2, false)
    );
    assert_eq!(
        err(&["-T", "foo", "x"]),
        ("invalid timestamp type: foo".into(), 2, false)
    );
    assert_eq!(
        err(&["-Q", "300", "x"]),
        (
            "the decimal value of TOS bits must be in range 0-255: 300".into(),
            2,
            false
        )
    );
    assert_eq!(
        err(&["-R", "-T", "tsonly", "x"]).0,
        "only one of -T or -R may be used"
    );
    assert_eq!(
        err(&[]),
        ("usage error: Destination address required".into(), 2, false)
    );
    assert_eq!(err(&["-Z", "x"]), ("invalid option -- 'Z'".into(), 2, true));
    assert_eq!(err(&["--help"]), ("invalid option -- '-'".into(), 2, true));
    assert_eq!(
        err(&["x", "-c"]),
        ("option requires an argument -- 'c'".into(), 2, true)
    );
    assert!(matches!(run(&["-?"]).result, Ok(Parsed::Help)));
    assert!(matches!(run(&["-h", "x"]).result, Ok(Parsed::Help)));
    assert_eq!(
        size_error(70000, 65507).map(|e| (e.to_string(), e.status())),
        Some((
            "invalid -s value: '70000': out of range: 0 <= value <= 65507".into(),
            1
        ))
    );
}

#[test]
fn options_act_in_order_up_to_getopts_first_error() {
    // upstream acts on each option as getopt hands it over: -V, -h and
    // -N help end the run before a bad option or value that follows...
    let version = |a: &[&str]| matches!(run(a).result, Ok(Parsed::Version { json: false }));
    assert!(version(&["-V", "-Z"]));
    assert!(version(&["-V", "-c", "abc", "x"]));
    assert!(version(&["-V", "-c"]));
    assert!(matches!(run(&["-h", "-Z"]).result, Ok(Parsed::Help)));
    assert!(matches!(run(&["-N", "help", "-Z"]).result, Ok(Parsed::NodeInfoHelp)));
    // ...and a bad option or value that comes first wins.
    assert_eq!(err(&["-Z", "-V"]), ("invalid option -- 'Z'".into(), 2, true));
    assert_eq!(err(&["-c", "abc", "-V"]).1, 1);
    assert_eq!(err(&["-4", "-6", "-Z"]).1, 2);
    // -p's line is printed as -p is read, whatever comes after it.
    for after in [&["-Z"][..], &["-V"], &["-h"], &["-c", "abc", "x"], &[]] {
        let args: Vec<&str> = ["-p", "ff"].iter().chain(after).copied().collect();
        assert_eq!(run(&args).pattern_line.as_deref(), Some("PATTERN: 0xff"), "{args:?}");
    }
    assert_eq!(run(&["-p", "ff", "-j", "x"]).pattern_line, None);
    assert_eq!(run(&["-j", "-p", "ff", "x"]).pattern_line, None);
}

#[test]
fn nodeinfo_subjects_resolve_as_getopt_reaches_them() {
    let v: Vec<OsString> = ["-N", "subject-ipv6=nowhere", "-c", "abc", "127.0.0.1"]
        .iter()
        .map(OsString::from)
        .collect();
    let fails = |name: &str, fam: Family| {
        assert_eq!((name, fam), ("nowhere", Family::V6));
        Err("nowhere: Name or service not known".to_string())
    };
    let out = parse_resolving(&v, false, None, false, &fails);
    assert_eq!(out.warnings, ["nowhere: Name or service not known"]);
    assert!(matches!(out.result, Err(WorkerError::NodeInfoHelp(None))));
    // Resolved: parsing goes on to the bad count.
    let out = parse_resolving(&v, false, None, false, &|_, _| Ok(()));
    assert_eq!(out.result.err().map(|e| e.status()), Some(1));
}

#[test]
fn strtod_reads_c_syntax() {
    assert_eq!(opts(&["-i", "0x1", "x"]).interval_ms, 1000);
    assert_eq!(opts(&["-i", "0x.8", "x"]).interval_ms, 500);
    assert_eq!(opts(&["-i", "0x1p-1", "x"]).interval_ms, 500);
    assert_eq!(opts(&["-W", "0x2", "x"]).linger_us, 2_000_000);
    assert_eq!(opts(&["-W", "0", "x"]).linger_us, 0);
    assert_eq!(opts(&["-i", "1e-1", "x"]).interval_ms, 100);
    let out = run(&["-i", "0x", "x"]);
    assert_eq!(out.warnings[0], "option argument contains garbage: x");
    assert_eq!(
        err(&["-i", "nan", "x"]).0,
        "bad timing interval: nan: Numerical result out of range"
    );
}

#[test]
fn new_options() {
    let o = opts(&[
        "-3aAbBCdLrRUH",
        "-e",
        "7",
        "-m",
        "9",
        "-M",
        "do",
        "-Q",
        "0x10",
        "-S",
        "999",
        "x",
    ]);
    assert!(o.rtt_precision && o.audible && o.adaptive && o.broadcast && o.strict_source);
    assert!(o.connect && o.so_debug && o.noloop && o.dontroute && o.rroute && o.latency);
    assert!(o.force_lookup);
    assert_eq!(
        (o.ident, o.mark, o.pmtudisc, o.tos, o.sndbuf),
        (Some(7), Some(9), Some(Pmtu::Do), 16, Some(999))
    );
    assert_eq!(
        opts(&["-T", "tsprespec", "x"]).timestamp,
        Some(TsType::Prespec)
    );
    assert_eq!(opts(&["-F", "0x12345", "x"]).flowlabel, Some(0x12345));
    assert_eq!(
        err(&["-F", "0x123456", "x"]).0,
        "flow value is greater than 20 bits: 0x123456"
    );
    let o = opts(&["-I", "lo", "x"]);
    assert_eq!(o.interface.device.as_deref(), Some("lo"));
    assert!(!o.strict_source);
    let o = opts(&["-I", "127.0.0.1", "x"]);
    assert_eq!(o.interface.source4, Some(Ipv4Addr::LOCALHOST));
    assert!(o.strict_source);
    let o = opts(&["-I", "fe80::1%eth0", "x"]);
    assert_eq!(o.interface.device.as_deref(), Some("eth0"));
    assert!(o.interface.source6.is_some());
    assert_eq!(
        err(&["-I", "fe80::zz", "x"]).0,
        "invalid source address: fe80::zz"
    );
    // -n after -H wins, -H after -n looks names up again.
    assert!(!opts(&["-H", "-n", "x"]).lookups());
    assert!(opts(&["-n", "-H", "x"]).lookups());
}

#[test]
fn program_name_and_environment() {
    let v: Vec<OsString> = ["x"].iter().map(OsString::from).collect();
    let out = parse(&v, false, Some(Family::V6), false);
    let Ok(Parsed::Run(o)) = out.result else {
        panic!()
    };
    assert_eq!(o.family, Some(Family::V6));
    let out = parse(&v, false, Some(Family::V6), false);
    assert!(out.warnings.is_empty());
    let v: Vec<OsString> = ["-4", "x"].iter().map(OsString::from).collect();
    assert_eq!(
        parse(&v, false, Some(Family::V6), false)
            .result
            .unwrap_err()
            .to_string(),
        "only one -4 or -6 option may be specified"
    );
    let v: Vec<OsString> = ["x"].iter().map(OsString::from).collect();
    let out = parse(&v, false, None, true);
    assert_eq!(
        out.warnings,
        ["WARNING: reverse DNS resolution (PTR lookup) disabled, enforce with -H"]
    );
    // -H forces the lookups but upstream still warns.
    let v: Vec<OsString> = ["-H", "x"].iter().map(OsString::from).collect();
    let out = parse(&v, false, None, true);
    assert_eq!(
        out.warnings,
        ["WARNING: reverse DNS resolution (PTR lookup) disabled, enforce with -H"]
    );
    let Ok(Parsed::Run(o)) = out.result else {
        panic!()
    };
    assert!(o.force_lookup && o.numeric);
    let v: Vec<OsString> = ["-q", "-H", "x"].iter().map(OsString::from).collect();
    assert!(parse(&v, false, None, true).warnings.is_empty());
}

#[test]
fn control_characters_are_refused_and_never_echoed_raw() {
    assert_eq!(err(&["-l\n"]).0, "invalid argument: '\\n'");
    assert_eq!(err(&["-c", "\t5", "x"]).0, "invalid argument: '\\t5'");
    assert_eq!(err(&["-i\r0.5", "x"]).0, "bad timing interval: \\r0.5");
    assert_eq!(err(&["-\u{7}", "x"]).0, "invalid option -- '\\u{7}'");
    assert_eq!(opts(&["-c", " 5", "x"]).count, 5);
}

#[test]
fn hops_and_limits() {
    assert!(hops_allowed(&opts(&["a", "b"]), Family::V4));
    assert!(!hops_allowed(&opts(&["a", "b"]), Family::V6));
    assert!(!hops_allowed(&opts(&["-R", "a", "b"]), Family::V4));
    assert!(!hops_allowed(
        &opts(&["-T", "tsonly", "a", "b"]),
        Family::V4
    ));
    assert!(hops_allowed(
        &opts(&["-T", "tsprespec", "a", "b"]),
        Family::V4
    ));
    let many: Vec<String> = (0..11).map(|i| format!("h{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    assert!(!hops_allowed(&opts(&many), Family::V4));
    assert!(interval_error(&opts(&["-f", "x"]), false).is_some());
    assert!(interval_error(&opts(&["-f", "x"]), true).is_none());
    assert_eq!(
        err(&["-l", "4", "x"]).0,
        "cannot set preload to value greater than 3: 4"
    );
    // -v is upstream's; a second -v adds privsep's sandbox report.
    assert!(opts(&["-v", "x"]).verbose && !opts(&["-v", "x"]).sandbox_report);
    assert!(opts(&["-vv", "x"]).sandbox_report && opts(&["-v", "-v", "x"]).sandbox_report);
    let out = run(&["-p", "ab", "x"]);
    assert_eq!(out.pattern_line.as_deref(), Some("PATTERN: 0xab"));
    assert_eq!(run(&["-q", "-p", "ab", "x"]).pattern_line, None);
}
