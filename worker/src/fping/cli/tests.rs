//! Unit tests of fping's command line.

use super::*;

fn args(s: &[&str]) -> Vec<String> {
    s.iter().map(|a| a.to_string()).collect()
}

fn run(s: &[&str]) -> Result<Options, Said> {
    parse("fping", &args(s), false, true, true, &mut |_| Ok(()))
}

#[test]
fn c_scanners_take_what_c_takes() {
    assert_eq!(scan_float("1.5ms"), Scan::Value(1.5));
    assert_eq!(scan_float("  2"), Scan::Value(2.0));
    assert_eq!(scan_float("x"), Scan::NoMatch);
    assert_eq!(scan_float(""), Scan::Eof);
    assert_eq!(scan_float(".5"), Scan::Value(0.5));
    assert_eq!(scan_float("1e3"), Scan::Value(1000.0));
    assert_eq!(scan_float("0x10"), Scan::Value(16.0));
    assert_eq!(scan_unsigned("-1"), Scan::Value(u32::MAX));
    assert_eq!(scan_unsigned("12abc"), Scan::Value(12));
    assert_eq!(scan_unsigned("abc"), Scan::NoMatch);
    assert_eq!(atoi("3x"), 3);
    assert_eq!(atoi("-2"), -2);
    assert_eq!(atoi("x"), 0);
    assert_eq!(scan_int_any_base("0x10"), Scan::Value(16));
    assert_eq!(scan_int_any_base("010"), Scan::Value(8));
    assert_eq!(atof("1.5x"), 1.5);
    // strtol with C's prefixes, saturated at the long limits.
    assert_eq!(strtol(" -0x1f", 0), Some(-31));
    assert_eq!(strtol("0x", 0), Some(0));
    assert_eq!(strtol("-010", 0), Some(-8));
    assert_eq!(strtol("99999999999999999999", 10), Some(i64::MAX));
    assert_eq!(strtol("-9223372036854775808", 10), Some(i64::MIN));
    assert_eq!(strtol("-99999999999999999999", 0), Some(i64::MIN));
    assert_eq!(strtol("+", 10), None);
    assert_eq!(strtol("x1", 10), None);
    // Float to int64_t as amd64 converts it: NaN and out of range are
    // INT64_MIN.
    assert_eq!(c_to_i64(1.9e6), 1_900_000);
    assert_eq!(c_to_i64(-(2f64.powi(63))), i64::MIN);
    assert_eq!(c_to_i64(2f64.powi(63)), i64::MIN);
    assert_eq!(c_to_i64(f64::INFINITY), i64::MIN);
    assert_eq!(c_to_i64(f64::NAN), i64::MIN);
    // 5.5's -k: all of it a number, 1 to UINT_MAX.
    assert_eq!(uint_strict(" +7"), Some(7));
    assert_eq!(uint_strict("4294967295"), Some(u32::MAX));
    for bad in ["", "0", "-0", "-1", "1x", "0x10", "4294967296", "99999999999999999999"] {
        assert_eq!(uint_strict(bad), None, "{bad}");
    }
}

#[test]
fn out_of_range_values_convert_as_fpings_build_converts_them() {
    // -t, -i, -p: seconds times 10^6 in a float, then int64_t.
    let o = run(&["-t", "1e99", "-i", "99999999999999999999", "-p", "nan", "x"]).unwrap();
    assert_eq!((o.timeout_ns, o.interval_ns, o.period_ns), (i64::MIN, i64::MIN, i64::MIN));
    assert_eq!(run(&["-Q", "inf", "x"]).unwrap().report_interval_ns, i64::MIN);
    // In range: truncated, after the float product's rounding.
    assert_eq!(run(&["-t", "1e12", "x"]).unwrap().timeout_ns, 999_999_984_306_749_440);
    // -B: fping's two comparisons let NaN through.
    assert!(run(&["-B", "nan", "x"]).unwrap().backoff.is_nan());
    assert_eq!(run(&["-B", "inf", "x"]).unwrap_err().status, 1);
    // -x as 5.1's atoi reads it, -X (5.1 lacks it) as 5.5 reads it.
    assert_eq!(run(&["-x", "1x", "x"]).unwrap().min_reachable, 1);
    assert_eq!(run(&["-X", "1x", "x"]).unwrap_err().status, 1);
    assert_eq!(run(&["-X", " +2", "x"]).unwrap().min_reachable, 2);
}

#[test]
fn options_anywhere_clusters_and_long_forms() {
    let o = run(&["127.0.0.1", "-c3", "-q", "--period=50", "::1", "-i", "1"]).unwrap();
    assert_eq!(o.targets, ["127.0.0.1", "::1"]);
    assert_eq!((o.count, o.count_mode, o.quiet), (3, true, true));
    assert_eq!((o.period_ns, o.interval_ns), (50 * MS, MS));
    // The count-mode timeout follows -p.
    assert_eq!(o.timeout_ns, 50 * MS);
    let o = run(&["-aeq", "--", "-x"]).unwrap();
    assert!(o.alive && o.elapsed && o.quiet);
    assert_eq!(o.targets, ["-x"]);
}

#[test]
fn errors_are_fpings_words_and_status() {
    let e = run(&["-x"]).unwrap_err();
    assert_eq!(
        e.stderr,
        "fping: option requires an argument -- 'x'\nsee 'fping -h' for usage information\n"
    );
    assert_eq!(e.status, 1);
    let e = run(&["--bogus=1"]).unwrap_err();
    assert!(e.stderr.starts_with("fping: invalid option -- 'bogus=1'\n"));
    let e = run(&["--alive=1"]).unwrap_err();
    assert!(e
        .stderr
        .starts_with("fping: option takes no arguments -- 'alive'\n"));
    assert_eq!(
        run(&["-4", "-6"]).unwrap_err().stderr,
        "fping: can't specify both -4 and -6\n"
    );
    assert_eq!(
        run(&["-a", "-u", "x"]).unwrap_err().stderr,
        "fping: specify only one of a, u\n"
    );
    assert_eq!(run(&["-c", "0"]).unwrap_err().status, 1);
    assert!(run(&["-c", "0"])
        .unwrap_err()
        .stderr
        .starts_with("Usage: fping "));
    assert_eq!(
        run(&["-H", "300"]).unwrap_err().stderr,
        "fping: ttl 300 out of range\n"
    );
    assert_eq!(
        run(&["-b", "70000"]).unwrap_err().stderr,
        "fping: data size 70000 not valid, must be lower than 65488\n"
    );
    assert_eq!(
        run(&["-B", "9"]).unwrap_err().stderr,
        "fping: backoff factor 9.0 not valid, must be between 1.0 and 5.0\n"
    );
    let v = run(&["-v"]).unwrap_err();
    assert_eq!((v.stdout.as_str(), v.status), ("fping: Version 5.1\n", 0));
    let h = run(&["-p", "20", "-h"]).unwrap_err();
    assert!(h
        .stdout
        .contains("(in loop and count modes, default: 20 ms)"));
    assert_eq!(h.status, 0);
}

#[test]
fn no_socket_is_status_4() {
    let e = parse("fping", &args(&["x"]), false, false, false, &mut |_| Ok(())).unwrap_err();
    assert_eq!(
        (e.stderr.as_str(), e.status),
        ("fping: can't create socket (must run as root?)\n", 4)
    );
    let e = parse(
        "fping",
        &args(&["-q", "x"]),
        false,
        false,
        false,
        &mut |_| Ok(()),
    )
    .unwrap_err();
    assert_eq!((e.stderr.as_str(), e.status), ("", 4));
    let e = parse("fping6", &args(&["x"]), true, true, false, &mut |_| Ok(())).unwrap_err();
    assert_eq!(e.status, 4);
}

#[test]
fn socket_actions_come_in_order_and_can_stop() {
    let mut seen = Vec::new();
    let r = parse(
        "fping",
        &args(&["-M", "-O", "0x10", "-I", "nope", "-k", "5"]),
        false,
        true,
        true,
        &mut |a| {
            seen.push(a.clone());
            match a {
                SocketAction::BindDevice(_) => Err(Said::say("fping", "stop", 1)),
                _ => Ok(()),
            }
        },
    );
    assert_eq!(r.unwrap_err().status, 1);
    assert_eq!(
        seen,
        [
            SocketAction::DontFragment,
            SocketAction::Tos(16),
            SocketAction::BindDevice(b"nope".to_vec())
        ]
    );
}

#[test]
fn modes_as_fping_5_1_derives_them() {
    let o = run(&["-c", "2", "-a", "h"]).unwrap();
    assert!(
        !o.per_recv && !o.alive,
        "5.1: -a silences count mode's lines"
    );
    let o = run(&["-C", "2", "h"]).unwrap();
    assert!(o.per_recv && o.report_all_rtts && !o.verbose);
    let o = run(&["-l", "-Q", "1", "h"]).unwrap();
    assert!(!o.per_recv && !o.backoff_enabled);
    assert_eq!(o.report_interval_ns, 1_000_000_000);
    let o = run(&["-l", "-p", "5000", "h"]).unwrap();
    assert_eq!(o.timeout_ns, 2000 * MS);
    let o = run(&["-t", "100", "-c", "1", "h"]).unwrap();
    assert_eq!(o.timeout_ns, 100 * MS);
    assert_eq!(o.trials(), 4);
}

#[test]
fn the_options_of_5_3_to_5_5_as_5_5_reads_them() {
    let o = run(&["--check-source", "--print-tos", "--print-ttl", "x"]).unwrap();
    assert!(o.check_source && o.print_tos && o.print_ttl);
    // Long-only: no short letter reaches them, not even a byte >= 0x80.
    let e = run(&["-\u{80}", "x"]).unwrap_err();
    assert!(
        e.stderr.starts_with("fping: invalid option -- '"),
        "{}",
        e.stderr
    );
    // -Q SECS,cumulative; another word is ignored.
    let o = run(&["-Q", "5,cumulative", "x"]).unwrap();
    assert_eq!((o.report_interval_ns, o.cumulative), (5_000 * MS, true));
    let o = run(&["-Q", "5,other", "x"]).unwrap();
    assert!(!o.cumulative);
    // --seqmap-timeout: 5.5's strtod_strict.
    let o = run(&["--seqmap-timeout", " 2.5", "x"]).unwrap();
    assert_eq!(o.seqmap_timeout_ns, 2_500_000);
    assert_eq!(run(&["x"]).unwrap().seqmap_timeout_ns, 10_000 * MS);
    for bad in ["-1", "10xyz", "", "1e999"] {
        let e = run(&["--seqmap-timeout", bad, "x"]).unwrap_err();
        assert!(e.stderr.starts_with("Usage: fping"), "{bad}: {}", e.stderr);
        assert_eq!(e.status, 1);
    }
    // --timestamp-format: three words, anything else is the usage.
    let o = run(&["--timestamp-format=rfc3339", "x"]).unwrap();
    assert_eq!(o.timestamp_format, TimestampFormat::Rfc3339);
    assert_eq!(
        run(&["--timestamp-format", "iso", "x"])
            .unwrap()
            .timestamp_format,
        TimestampFormat::Iso
    );
    assert!(run(&["--timestamp-format=ISO", "x"])
        .unwrap_err()
        .stderr
        .starts_with("Usage: "));
}

#[test]
fn icmp_timestamp_is_ipv4_with_its_fixed_size() {
    let o = run(&["--icmp-timestamp", "x"]).unwrap();
    assert!(o.icmp_timestamp);
    assert_eq!((o.family, o.data_size), (Some(Family::V4), 12));
    let e = run(&["-6", "--icmp-timestamp", "x"]).unwrap_err();
    assert_eq!(
        (e.stderr.as_str(), e.status),
        ("fping: ICMP Timestamp is IPv4 only\n", 1)
    );
    let e = run(&["--icmp-timestamp", "-6", "x"]).unwrap_err();
    assert_eq!(e.stderr, "fping: can't specify both -4 and -6\n");
    for args in [
        &["--icmp-timestamp", "-b", "20", "x"][..],
        &["-b", "12", "--icmp-timestamp", "x"],
    ] {
        let e = run(args).unwrap_err();
        assert_eq!(
            (e.stderr.as_str(), e.status),
            ("fping: cannot change ICMP Timestamp size\n", 1)
        );
    }
}

#[test]
fn print_tos_and_ttl_ask_the_sockets_while_parsing() {
    let mut seen = Vec::new();
    parse(
        "fping",
        &args(&["--print-ttl", "--print-tos", "x"]),
        false,
        true,
        true,
        &mut |a| {
            seen.push(a.clone());
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(seen, [SocketAction::RecvTtl, SocketAction::RecvTos]);
}

#[test]
fn json_needs_a_count_or_loop_and_takes_5_5_s_order() {
    for a in [&["-J", "x"][..], &["--json", "-q", "x"], &["-J", "-Q", "1", "x"]] {
        let e = run(a).unwrap_err();
        assert_eq!(
            (e.stdout.as_str(), e.stderr.as_str(), e.status),
            ("", "fping: option -J, --json requires -c, -C, or -l\n", 1),
            "{a:?}"
        );
    }
    // 5.5's order of the checks: the TTL, -a/-u and -c/-l before -J's;
    // the size and the backoff after.
    assert_eq!(
        run(&["-J", "-H", "300", "x"]).unwrap_err().stderr,
        "fping: ttl 300 out of range\n"
    );
    assert_eq!(
        run(&["-J", "-a", "-u", "x"]).unwrap_err().stderr,
        "fping: specify only one of a, u\n"
    );
    assert_eq!(
        run(&["-J", "-l", "-c", "1", "x"]).unwrap_err().stderr,
        "fping: specify only one of c, l\n"
    );
    for a in [["-b", "70000"], ["-B", "9"]] {
        let e = run(&["-J", a[0], a[1], "x"]).unwrap_err();
        assert!(e.stderr.contains("--json requires"), "{a:?}: {}", e.stderr);
    }
    for a in [&["-J", "-c", "1", "x"][..], &["--json", "-C", "2", "x"], &["-Jl", "x"]] {
        assert!(run(a).unwrap().json, "{a:?}");
    }
    assert!(!run(&["-c", "1", "x"]).unwrap().json);
    // 5.5 silences -a, -u and -x after count mode chose its per-reply
    // lines: with -J, they are printed; without, 5.1's order stands.
    for extra in ["-a", "-u", "-x1"] {
        let o = run(&["-J", "-c", "2", extra, "h"]).unwrap();
        assert!(o.per_recv && !o.alive && !o.unreachable && !o.verbose, "{extra}");
        let o = run(&["-c", "2", extra, "h"]).unwrap();
        assert!(!o.per_recv, "{extra}");
    }
    let o = run(&["-J", "-l", "-Q", "1", "-a", "h"]).unwrap();
    assert!(!o.per_recv && !o.alive);
}
