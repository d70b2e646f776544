//! Unit tests of ping's text lines against what iputils prints.

use super::*;
use std::borrow::Cow;

#[test]
fn printable_escapes_control_characters_and_nothing_else() {
    for (raw, shown) in [
        ("\n", "\\n"),
        ("\r0.5", "\\r0.5"),
        ("\u{1b}[2J7", "\\u{1b}[2J7"),
        ("a\u{7f}b\u{85}c\u{0}", "a\\u{7f}b\\u{85}c\\0"),
        ("x\u{202e}y\u{2028}", "x\\u{202e}y\\u{2028}"),
    ] {
        let got = printable(raw);
        assert_eq!(got, shown, "{raw:?}");
        assert!(!got.chars().any(char::is_control), "{got:?}");
        assert_eq!(printable(&got), got, "idempotent for {raw:?}");
    }
    for plain in ["127.0.0.1", "it's \"q\" \\n", "café ßü", "-", ""] {
        assert!(
            matches!(printable(plain), Cow::Borrowed(p) if p == plain),
            "{plain:?}"
        );
    }
}

// Lines below were captured from iputils 20221126 on Debian 12, run as an
// unprivileged user (`setpriv --reuid=privsep-test … ping …`).

#[test]
fn headers() {
    assert_eq!(
        header_v4("127.0.0.1", "127.0.0.1", 56),
        "PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data."
    );
    assert_eq!(
        header_v4("localhost", "127.0.0.1", 56),
        "PING localhost (127.0.0.1) 56(84) bytes of data."
    );
    assert_eq!(
        header_v4("127.0.0.1", "127.0.0.1", 70000),
        "PING 127.0.0.1 (127.0.0.1) 70000(70028) bytes of data."
    );
    // Upstream since 2023 (Debian 12's 20221126 prints "PING ::1(::1) 56 data bytes").
    assert_eq!(header_v6("::1", "::1", 56), "PING ::1 (::1) 56 data bytes");
}

#[test]
fn reply_lines_as_iputils_prints_them() {
    let mut r = ReplyLine {
        bytes: 64,
        from: "127.0.0.1",
        seq: 1,
        ttl: Some(64),
        time_us: Some(631),
        ..Default::default()
    };
    assert_eq!(
        reply_line(&r),
        "64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.631 ms"
    );
    r.from = "localhost (127.0.0.1)";
    r.time_us = Some(16);
    assert_eq!(
        reply_line(&r),
        "64 bytes from localhost (127.0.0.1): icmp_seq=1 ttl=64 time=0.016 ms"
    );
    r.dup = true;
    assert_eq!(
        reply_line(&r),
        "64 bytes from localhost (127.0.0.1): icmp_seq=1 ttl=64 time=0.016 ms (DUP!)"
    );
    r.dup = false;
    r.ident = Some(11992);
    assert_eq!(
        reply_line(&r),
        "64 bytes from localhost (127.0.0.1): icmp_seq=1 ident=11992 ttl=64 time=0.016 ms"
    );
    r.ident = None;
    r.timestamp = Some((1_700_000_000, 1234));
    r.from = "::1";
    assert_eq!(
        reply_line(&r),
        "[1700000000.001234] 64 bytes from ::1: icmp_seq=1 ttl=64 time=0.016 ms"
    );
    let t = ReplyLine {
        bytes: 12,
        from: "::1",
        seq: 2,
        ttl: None,
        truncated: true,
        ..Default::default()
    };
    assert_eq!(reply_line(&t), "12 bytes from ::1: icmp_seq=2 (truncated)");
    let small = ReplyLine {
        bytes: 8,
        from: "127.0.0.1",
        seq: 3,
        ttl: Some(64),
        ..Default::default()
    };
    assert_eq!(
        reply_line(&small),
        "8 bytes from 127.0.0.1: icmp_seq=3 ttl=64"
    );
}

#[test]
fn time_precision_follows_iputils_thresholds() {
    for (us, want) in [
        (0, "0.000"),
        (45, "0.045"),
        (999, "0.999"),
        (1000, "1.00"),
        (1234, "1.23"),
        (9994, "9.99"),
        (9995, "10.0"),
        (12_345, "12.3"),
        (99_949, "99.9"),
        (99_950, "100"),
        (123_456, "123"),
        (1_234_567, "1235"),
    ] {
        assert_eq!(format_time(us), want, "{us} us");
    }
}

#[test]
fn summary_block_matches_iputils() {
    // From: 631, 37 and 31 µs (iputils printed exactly these figures).
    let rtt = Rtt {
        min: 31,
        max: 631,
        sum: 699.0,
        sum2: (631 * 631 + 37 * 37 + 31 * 31) as f64,
        total: 3,
        ewma8: 0,
    };
    let s = Summary {
        hostname: "127.0.0.1",
        transmitted: 3,
        received: 3,
        elapsed: Duration::from_micros(2_041_700),
        rtt: Some(rtt),
        ..Default::default()
    };
    assert_eq!(
        summary(&s),
        "\n--- 127.0.0.1 ping statistics ---\n\
         3 packets transmitted, 3 received, 0% packet loss, time 2042ms\n\
         rtt min/avg/max/mdev = 0.031/0.233/0.631/0.281 ms\n"
    );
    let lost = Summary {
        hostname: "::1",
        transmitted: 3,
        received: 1,
        duplicates: 2,
        errors: 1,
        elapsed: Duration::from_millis(2000),
        rtt: Some(Rtt {
            min: 40,
            max: 40,
            sum: 120.0,
            sum2: 4800.0,
            total: 3,
            ewma8: 320,
        }),
        pipesize: 2,
        ..Default::default()
    };
    assert_eq!(
        summary(&lost),
        "\n--- ::1 ping statistics ---\n\
         3 packets transmitted, 1 received, +2 duplicates, +1 errors, 66.6667% packet loss, time 2000ms\n\
         rtt min/avg/max/mdev = 0.040/0.040/0.040/0.000 ms, pipe 2\n"
    );
    let none = Summary {
        hostname: "10.9.9.2",
        transmitted: 2,
        elapsed: Duration::from_millis(1010),
        ..Default::default()
    };
    assert_eq!(
        summary(&none),
        "\n--- 10.9.9.2 ping statistics ---\n2 packets transmitted, 0 received, 100% packet loss, time 1010ms\n\n"
    );
}

#[test]
fn percent_g_like_printf() {
    for (v, want) in [
        (0.0, "0"),
        (100.0, "100"),
        (33.333_332_061_767_58, "33.3333"),
        (14.285_714_149_475_098, "14.2857"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (50.0, "50"),
        (-50.0, "-50"),
    ] {
        assert_eq!(format_g(v), want, "{v}");
    }
}

#[test]
fn error_texts() {
    assert_eq!(
        error_line(None, "10.9.9.1", 1, &icmp4_text(3, 1, 0)),
        "From 10.9.9.1 icmp_seq=1 Destination Host Unreachable"
    );
    assert_eq!(icmp4_text(11, 0, 0), "Time to live exceeded");
    assert_eq!(
        icmp4_text(3, 4, 1400),
        "Frag needed and DF set (mtu = 1400)"
    );
    assert_eq!(
        icmp4_text(5, 1, 0x0a00_0002),
        "Redirect Host(New nexthop: 10.0.0.2)"
    );
    assert_eq!(icmp4_text(3, 99, 0), "Dest Unreachable, Bad Code: 99");
    assert_eq!(
        icmp6_text(1, 3, 0),
        "Destination unreachable: Address unreachable"
    );
    assert_eq!(icmp6_text(2, 0, 1280), "Packet too big: mtu=1280");
    assert_eq!(icmp6_text(3, 0, 0), "Time exceeded: Hop limit");
    assert_eq!(
        icmp6_text(4, 1, 40),
        "Parameter problem: Unknown header at 40"
    );
    assert_eq!(
        redirect_line(None, "10.0.0.1", 2, false, &icmp4_text(5, 1, 0x0a00_0002)),
        "From 10.0.0.1: icmp_seq=2 Redirect Host(New nexthop: 10.0.0.2)"
    );
}

#[test]
fn status_and_misc_lines() {
    let rtt = Rtt {
        min: 31,
        max: 631,
        sum: 699.0,
        sum2: 0.0,
        total: 3,
        ewma8: 8 * 120,
    };
    assert_eq!(
        status_line(3, 2, Some(rtt)),
        "2/3 packets, 33% loss, min/avg/ewma/max = 0.031/0.233/0.120/0.631 ms"
    );
    assert_eq!(status_line(0, 0, None), "0/0 packets, 0% loss");
    assert_eq!(no_answer_line(4), "no answer yet for icmp_seq=4");
    assert_eq!(pattern_line(&[0xab, 0x0c]), "PATTERN: 0xab0c");
    assert!(version().starts_with("privsep-ping ") && !version().contains("iputils"));
    assert_eq!(llsqrt(79_208), 281);
    assert_eq!(llsqrt(0), 0);
}

#[test]
fn wrong_data_report() {
    let sent: Vec<u8> = (0..40u8).collect();
    let mut got = sent.clone();
    assert_eq!(wrong_data(&sent, &got, 16), None);
    got[20] = 0xff;
    let r = wrong_data(&sent, &got, 16).unwrap();
    assert!(
        r.starts_with("\nwrong data byte #20 should be 0x14 but was 0xff\n#16\t10 11 12 13 ff "),
        "{r}"
    );
}
