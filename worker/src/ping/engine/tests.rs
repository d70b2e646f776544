//! The loop against a scripted double: virtual clocks, a peer that
//! answers each echo request (or not, or badly), an error queue, and
//! recorded output.

use super::*;
use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr};

const TARGET: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 9);

#[derive(Default)]
struct Peer {
    /// Answer every request after this long.
    rtt: Option<Duration>,
    /// The source address of the answers (default: the target).
    source: Option<Ipv4Addr>,
    /// Spoil the answers' checksum.
    bad_checksum: bool,
    /// Answer every request twice (a duplicating network, or two
    /// hosts behind one address): the second copy 1 ms after the first.
    duplicate: bool,
    /// After each request, queue a Time Exceeded from this router.
    router: Option<Ipv4Addr>,
    /// Fail every send with this errno, queueing nothing.
    send_errno: Option<i32>,
}

struct Script {
    base: Instant,
    t: Duration,
    wall0: i64,
    /// Added to the wall clock once the first request is sent.
    wall_jump: i64,
    peer: Peer,
    sent: Vec<Vec<u8>>,
    replies: VecDeque<(Duration, Vec<u8>, SocketAddr)>,
    errq: VecDeque<(Duration, Vec<u8>, Vec<u8>)>,
    out: Vec<u8>,
    err: Vec<u8>,
    stdout_fails: bool,
    interrupt_at: Option<Duration>,
    interrupted: bool,
    names: Vec<(IpAddr, &'static str)>,
    lookups: Vec<IpAddr>,
    /// How many times the engine waited (`ppoll`).
    waits: usize,
    /// How many writes to stdout.
    writes: usize,
    /// At each wait: the bytes written to stdout, the requests sent.
    out_at_wait: Vec<(usize, usize)>,
    /// How long a send takes (time otherwise moves only in `wait`).
    send_cost: Duration,
}

impl Script {
    fn new(peer: Peer) -> Self {
        Script {
            base: Instant::now(),
            t: Duration::ZERO,
            wall0: 1_700_000_000,
            wall_jump: 0,
            peer,
            sent: Vec::new(),
            replies: VecDeque::new(),
            errq: VecDeque::new(),
            out: Vec::new(),
            err: Vec::new(),
            stdout_fails: false,
            interrupt_at: None,
            interrupted: false,
            names: Vec::new(),
            lookups: Vec::new(),
            waits: 0,
            writes: 0,
            out_at_wait: Vec::new(),
            send_cost: Duration::ZERO,
        }
    }
    fn next_event(&self) -> Option<Duration> {
        let r = self.replies.front().map(|x| x.0);
        let e = self.errq.front().map(|x| x.0);
        match (r, e) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

fn ipv4(src: Ipv4Addr, icmp: &[u8]) -> Vec<u8> {
    let mut p = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0];
    let total = (20 + icmp.len()) as u16;
    p[2..4].copy_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&[127, 0, 0, 1]);
    p.extend_from_slice(icmp);
    p
}

/// A `cmsghdr` (64-bit layout) with `data`.
fn cmsg(level: i32, ty: i32, data: &[u8]) -> Vec<u8> {
    let mut c = Vec::new();
    c.extend_from_slice(&(16 + data.len()).to_ne_bytes());
    c.extend_from_slice(&level.to_ne_bytes());
    c.extend_from_slice(&ty.to_ne_bytes());
    c.extend_from_slice(data);
    while c.len() % 8 != 0 {
        c.push(0);
    }
    c
}

impl Io for Script {
    fn send(&mut self, packet: &[u8], _to: &SocketAddr) -> io::Result<usize> {
        self.t += self.send_cost;
        self.sent.push(packet.to_vec());
        if let Some(errno) = self.peer.send_errno {
            if errno == libc::EMSGSIZE {
                // As the kernel does under -M do: the failure also
                // goes on the error queue, origin local, mtu 1280.
                let mut ee = Vec::new();
                ee.extend_from_slice(&(libc::EMSGSIZE as u32).to_ne_bytes());
                ee.extend_from_slice(&[icmp::ORIGIN_LOCAL, 0, 0, 0]);
                ee.extend_from_slice(&1280u32.to_ne_bytes());
                ee.extend_from_slice(&[0; 4]);
                let control = cmsg(libc::SOL_IP, libc::IP_RECVERR, &ee);
                self.errq.push_back((self.t, packet[..8].to_vec(), control));
            }
            return Err(io::Error::from_raw_os_error(errno));
        }
        if self.sent.len() == 1 {
            self.wall0 += self.wall_jump;
        }
        if let Some(rtt) = self.peer.rtt {
            let mut icmp = packet.to_vec();
            icmp[0] = 0;
            icmp[2..4].copy_from_slice(&[0, 0]);
            let c = icmp::checksum(&icmp);
            icmp[2..4].copy_from_slice(&c.to_be_bytes());
            if self.peer.bad_checksum {
                icmp[2] ^= 0xff;
            }
            let src = self.peer.source.unwrap_or(TARGET);
            self.replies.push_back((
                self.t + rtt,
                ipv4(src, &icmp),
                SocketAddr::new(IpAddr::V4(src), 0),
            ));
            if self.peer.duplicate {
                self.replies.push_back((
                    self.t + rtt + Duration::from_millis(1),
                    ipv4(src, &icmp),
                    SocketAddr::new(IpAddr::V4(src), 0),
                ));
            }
        }
        if let Some(router) = self.peer.router {
            // sock_extended_err: errno, origin ICMP, type 11, code 0.
            let mut ee = Vec::new();
            ee.extend_from_slice(&(libc::EHOSTUNREACH as u32).to_ne_bytes());
            ee.extend_from_slice(&[icmp::ORIGIN_ICMP, 11, 0, 0]);
            ee.extend_from_slice(&[0; 8]);
            ee.extend_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
            ee.extend_from_slice(&[0, 0]);
            ee.extend_from_slice(&router.octets());
            ee.extend_from_slice(&[0; 8]);
            let control = cmsg(libc::SOL_IP, libc::IP_RECVERR, &ee);
            self.errq.push_back((
                self.t + Duration::from_millis(1),
                packet[..8].to_vec(),
                control,
            ));
        }
        Ok(packet.len())
    }
    fn recv(&mut self, buf: &mut [u8], control: &mut [u8], errqueue: bool) -> io::Result<Received> {
        let t = self.t;
        let wouldblock = || io::Error::from(io::ErrorKind::WouldBlock);
        if errqueue {
            if self.errq.front().is_none_or(|e| e.0 > t) {
                return Err(wouldblock());
            }
            let (_, payload, cm) = self.errq.pop_front().ok_or_else(wouldblock)?;
            buf[..payload.len()].copy_from_slice(&payload);
            control[..cm.len()].copy_from_slice(&cm);
            return Ok(Received {
                len: payload.len(),
                from: Some(SocketAddr::new(IpAddr::V4(TARGET), 0)),
                control_len: cm.len(),
                truncated: false,
            });
        }
        if self.replies.front().is_some_and(|r| r.0 <= t) {
            let (_, p, from) = self.replies.pop_front().ok_or_else(wouldblock)?;
            buf[..p.len()].copy_from_slice(&p);
            return Ok(Received {
                len: p.len(),
                from: Some(from),
                control_len: 0,
                truncated: false,
            });
        }
        Err(wouldblock())
    }
    fn wait(&mut self, timeout: Duration) -> io::Result<Ready> {
        self.waits += 1;
        self.out_at_wait.push((self.out.len(), self.sent.len()));
        let until = self.t + timeout;
        if let Some(i) = self.interrupt_at.filter(|i| *i <= until) {
            if self.next_event().is_none_or(|e| e > i) {
                self.t = self.t.max(i);
                self.interrupted = true;
                return Ok(Ready::default());
            }
        }
        match self.next_event() {
            Some(e) if e <= until => {
                self.t = self.t.max(e);
                Ok(Ready {
                    readable: self.replies.front().is_some_and(|r| r.0 <= self.t),
                    error: self.errq.front().is_some_and(|r| r.0 <= self.t),
                })
            }
            _ => {
                self.t = until;
                Ok(Ready::default())
            }
        }
    }
    fn stdout(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.stdout_fails {
            return Err(io::Error::from_raw_os_error(libc::ENOSPC));
        }
        self.writes += 1;
        self.out.extend_from_slice(bytes);
        Ok(())
    }
    fn stderr(&mut self, bytes: &[u8]) {
        self.err.extend_from_slice(bytes);
    }
    fn now(&mut self) -> Instant {
        self.base + self.t
    }
    fn wall(&mut self) -> (i64, i64) {
        let us = self.t.as_micros() as i64;
        (self.wall0 + us / 1_000_000, us % 1_000_000)
    }
    fn interrupted(&mut self) -> bool {
        self.interrupted
    }
    fn status_requested(&mut self) -> bool {
        false
    }
    fn reverse(&mut self, addr: &SocketAddr) -> Option<String> {
        self.lookups.push(addr.ip());
        self.names
            .iter()
            .find(|(a, _)| *a == addr.ip())
            .map(|(_, n)| n.to_string())
    }
}

fn prepared(o: Options) -> Prepared {
    Prepared {
        target: Target {
            family: Family::V4,
            addr: SocketAddr::new(IpAddr::V4(TARGET), 0),
            hostname: TARGET.to_string(),
            numeric: TARGET.to_string(),
            display: TARGET.to_string(),
            canonname: None,
            reverse: None,
            numeric_dest: true,
        },
        ident: 0x4242,
        datagram: false,
        is_root: false,
        prog: "ping".into(),
        interval: o.effective_interval_ms(),
        multicast: false,
        subnet_router_anycast: false,
        ifnames: Vec::new(),
        nodeinfo: None,
        o,
    }
}

fn opts(f: impl FnOnce(&mut Options)) -> Options {
    let mut o = Options {
        destination: TARGET.to_string(),
        destinations: vec![TARGET.to_string()],
        numeric: true,
        ..Options::default()
    };
    f(&mut o);
    o
}

fn run(o: Options, script: Script) -> (i32, String, String, Script, bool) {
    let mut e = Engine::new(prepared(o), script);
    let status = e.run();
    let failed = e.write_failed();
    let s = e.io;
    let out = String::from_utf8_lossy(&s.out).into_owned();
    let err = String::from_utf8_lossy(&s.err).into_owned();
    (status, out, err, s, failed)
}

#[test]
fn three_replies_three_lines_and_the_summary() {
    let peer = Peer {
        rtt: Some(Duration::from_millis(2)),
        ..Peer::default()
    };
    let (status, out, _, s, _) = run(opts(|o| o.count = 3), Script::new(peer));
    assert_eq!(status, 0, "{out}");
    assert_eq!(s.sent.len(), 3);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "64 bytes from 198.18.0.9: icmp_seq=1 ttl=64 time=2.00 ms"
    );
    assert_eq!(
        lines[2],
        "64 bytes from 198.18.0.9: icmp_seq=3 ttl=64 time=2.00 ms"
    );
    assert!(
        out.contains("3 packets transmitted, 3 received, 0% packet loss"),
        "{out}"
    );
    // One second apart, as -i 1 asks.
    assert!(
        s.t >= Duration::from_secs(2) && s.t < Duration::from_secs(3),
        "{:?}",
        s.t
    );
}

#[test]
fn linger_zero_waits_for_ever() {
    let mut script = Script::new(Peer::default());
    script.interrupt_at = Some(Duration::from_secs(500));
    let (status, out, _, s, _) = run(
        opts(|o| {
            o.count = 1;
            o.linger_us = 0;
        }),
        script,
    );
    assert_eq!(status, 1);
    assert_eq!(s.sent.len(), 1);
    assert!(s.t >= Duration::from_secs(500), "ended at {:?}: {out}", s.t);
    assert!(
        out.contains("1 packets transmitted, 0 received, 100% packet loss"),
        "{out}"
    );
    // The default -W ends the same run after 10 s.
    let (_, _, _, s, _) = run(opts(|o| o.count = 1), Script::new(Peer::default()));
    assert!(
        s.t >= Duration::from_secs(10) && s.t < Duration::from_secs(11),
        "{:?}",
        s.t
    );
}

#[test]
fn bad_checksum_is_corrupted_not_received() {
    let peer = Peer {
        rtt: Some(Duration::from_millis(1)),
        bad_checksum: true,
        ..Peer::default()
    };
    let (status, out, _, _, _) = run(
        opts(|o| {
            o.count = 2;
            o.linger_us = 1_000_000;
        }),
        Script::new(peer),
    );
    assert_eq!(status, 1, "{out}");
    assert!(
        out.contains("icmp_seq=1 ttl=64 time=1.00 ms (BAD CHECKSUM!)"),
        "{out}"
    );
    assert!(
        out.contains("2 packets transmitted, 0 received, +2 corrupted, 100% packet loss"),
        "{out}"
    );
}

#[test]
fn duplicate_replies_are_counted_as_duplicates_not_received() {
    // Every request answered twice: each second copy is a duplicate
    // (marked, counted in "+N duplicates"), never a second reception.
    // The run ends at the third first copy (-c counts receptions), so
    // the third request's copy never arrives: two duplicates.
    let peer = Peer {
        rtt: Some(Duration::from_millis(2)),
        duplicate: true,
        ..Peer::default()
    };
    let (status, out, _, _, _) = run(opts(|o| o.count = 3), Script::new(peer));
    assert_eq!(status, 0, "{out}");
    let dups = out.lines().filter(|l| l.ends_with(" (DUP!)")).count();
    assert_eq!(dups, 2, "{out}");
    assert!(
        out.contains("3 packets transmitted, 3 received, +2 duplicates, 0% packet loss"),
        "{out}"
    );
}

#[test]
fn a_reply_from_elsewhere_is_named_and_flagged() {
    let other = Ipv4Addr::new(198, 18, 0, 7);
    let peer = Peer {
        rtt: Some(Duration::from_millis(1)),
        source: Some(other),
        ..Peer::default()
    };
    let mut script = Script::new(peer);
    script.names.push((IpAddr::V4(other), "elsewhere\u{1b}[2J"));
    let (status, out, _, s, _) = run(
        opts(|o| {
            o.count = 2;
            o.numeric = false;
        }),
        script,
    );
    assert_eq!(status, 0);
    assert!(
        out.contains("64 bytes from elsewhere\\u{1b}[2J (198.18.0.7): icmp_seq=1 ttl=64 time=1.00 ms (DIFFERENT ADDRESS!)"),
        "{out}"
    );
    assert_eq!(
        s.lookups,
        [IpAddr::V4(other)],
        "looked up once, then cached"
    );
    // With -n nothing is looked up.
    let mut script = Script::new(Peer {
        rtt: Some(Duration::from_millis(1)),
        source: Some(other),
        ..Peer::default()
    });
    script.names.push((IpAddr::V4(other), "elsewhere"));
    let (_, out, _, s, _) = run(opts(|o| o.count = 1), script);
    assert!(
        out.contains("64 bytes from 198.18.0.7: icmp_seq=1"),
        "{out}"
    );
    assert!(s.lookups.is_empty());
}

#[test]
fn icmp_errors_name_their_source() {
    let router = Ipv4Addr::new(198, 18, 0, 2);
    let mut script = Script::new(Peer {
        router: Some(router),
        ..Peer::default()
    });
    script.names.push((IpAddr::V4(router), "router"));
    let (status, out, _, _, _) = run(
        opts(|o| {
            o.count = 1;
            o.numeric = false;
        }),
        script,
    );
    assert_eq!(status, 1);
    assert!(
        out.contains("From router (198.18.0.2) icmp_seq=1 Time to live exceeded"),
        "{out}"
    );
    assert!(
        out.contains("1 packets transmitted, 0 received, +1 errors, 100% packet loss"),
        "{out}"
    );
}

#[test]
fn send_errors_are_named_as_upstream_names_them() {
    let failing = |errno| {
        Script::new(Peer {
            send_errno: Some(errno),
            ..Peer::default()
        })
    };
    let o = || {
        opts(|o| {
            o.count = 2;
            o.interval_ms = 10;
            o.linger_us = 100_000;
        })
    };
    // Over the path MTU (-M do): named once (the kernel's queued copy
    // is not reported again), and counted as an error once.
    let (status, out, err, _, _) = run(o(), failing(libc::EMSGSIZE));
    assert_eq!(status, 1);
    assert_eq!(
        err,
        "ping: sendmsg: Message too long\nping: sendmsg: Message too long\n"
    );
    assert!(
        out.contains("2 packets transmitted, 0 received, +2 errors, 100% packet loss"),
        "{out}"
    );
    // Unreachable with nothing on the error queue (-r off-link): the
    // error queue is empty, so upstream says nothing.
    let (status, out, err, _, _) = run(o(), failing(libc::ENETUNREACH));
    assert_eq!(status, 1);
    assert_eq!(err, "");
    assert!(
        out.contains("2 packets transmitted, 0 received, 100% packet loss"),
        "{out}"
    );
    // Given up after the device queue stayed full: named.
    let (_, _, err, _, _) = run(o(), failing(libc::ENOBUFS));
    assert!(
        err.starts_with("ping: sendmsg: No buffer space available\n"),
        "{err}"
    );
}

#[test]
fn time_of_day_going_back_is_upstreams_warning() {
    let mut script = Script::new(Peer {
        rtt: Some(Duration::from_millis(1)),
        ..Peer::default()
    });
    script.wall_jump = -5;
    // The request is stamped before the jump takes effect on the clock.
    let (_, out, err, _, _) = run(opts(|o| o.count = 1), script);
    assert!(
        err.contains("ping: Warning: time of day goes back (-6 s), taking countermeasures")
            || err.contains("ping: Warning: time of day goes back (-5 s), taking countermeasures"),
        "{err}"
    );
    assert!(out.contains("time=0.000 ms"), "{out}");
}

#[test]
fn a_failed_stdout_is_remembered() {
    let mut script = Script::new(Peer {
        rtt: Some(Duration::from_millis(1)),
        ..Peer::default()
    });
    script.stdout_fails = true;
    let (status, _, _, _, failed) = run(opts(|o| o.count = 1), script);
    assert_eq!(status, 0);
    assert!(failed);
}

#[test]
fn precision_audible_and_json_flood() {
    let peer = || Peer {
        rtt: Some(Duration::from_micros(1234)),
        ..Peer::default()
    };
    let (_, out, _, _, _) = run(
        opts(|o| {
            o.count = 1;
            o.rtt_precision = true;
            o.audible = true;
        }),
        Script::new(peer()),
    );
    assert!(out.contains("time=1.234 ms\u{7}\n"), "{out:?}");
    let (_, out, _, _, _) = run(
        opts(|o| {
            o.count = 3;
            o.flood = true;
            o.json = true;
            o.interval_set = true;
            o.interval_ms = 10;
        }),
        Script::new(peer()),
    );
    for line in out.lines() {
        assert!(line.starts_with('{') && line.ends_with('}'), "{out:?}");
    }
    assert!(!out.contains('.') || out.contains("\"rtt"), "{out:?}");
}

/// A flood whose replies are queued by the time the request is sent
/// (loopback) reads them without waiting, except one `ppoll` every
/// FLOOD_ROUNDS_PER_WAIT rounds for the signals; replies that are not
/// there yet are waited for every time.
#[test]
fn a_flood_reads_queued_replies_without_a_wait_per_packet() {
    let flood = |rtt| {
        let peer = Peer {
            rtt: Some(rtt),
            ..Peer::default()
        };
        run(
            opts(|o| {
                o.count = 640;
                o.flood = true;
                o.quiet = true;
            }),
            Script::new(peer),
        )
    };
    let (status, out, _, s, _) = flood(Duration::ZERO);
    assert_eq!(status, 0, "{out}");
    assert!(
        out.contains("640 packets transmitted, 640 received"),
        "{out}"
    );
    assert!(
        s.waits <= 640 / FLOOD_ROUNDS_PER_WAIT as usize + 2,
        "{} waits for 640 queued replies",
        s.waits
    );
    let (status, out, _, s, _) = flood(Duration::from_micros(50));
    assert_eq!(status, 0, "{out}");
    assert!(out.contains("640 received"), "{out}");
    assert!(s.waits >= 640, "{} waits for 640 late replies", s.waits);
}

/// A flood's marks are iputils' bytes in iputils' order, written before
/// every wait: on loopback one write per FLOOD_ROUNDS_PER_WAIT rounds
/// instead of two per packet; with replies that take a while, every `.`
/// is out before the wait for its reply.
#[test]
fn a_flood_writes_its_marks_in_order_before_each_wait() {
    let flood = |rtt| {
        let peer = Peer {
            rtt: Some(rtt),
            ..Peer::default()
        };
        run(
            opts(|o| {
                o.count = 640;
                o.flood = true;
            }),
            Script::new(peer),
        )
    };
    for rtt in [Duration::ZERO, Duration::from_micros(50)] {
        let (status, out, _, s, _) = flood(rtt);
        assert_eq!(status, 0, "{out}");
        let marks = ".\x08 \x08".repeat(640);
        assert!(out.starts_with(&marks), "{rtt:?}: {out:?}");
        assert!(out[marks.len()..].starts_with('\n'), "{rtt:?}: {out:?}");
        // Before each wait every mark so far is out: each request's '.',
        // and the erasure of each reply already read (every wait follows a
        // send whose reply is not read yet).
        assert!(!s.out_at_wait.is_empty());
        for &(len, sent) in &s.out_at_wait {
            assert_eq!(len, 4 * sent - 3, "{rtt:?}: {sent} sent");
        }
        if rtt.is_zero() {
            assert!(
                s.writes <= 640 / FLOOD_ROUNDS_PER_WAIT as usize + 3,
                "{} writes for 640 rounds",
                s.writes
            );
        } else {
            assert!(s.writes >= 640, "{} writes for 640 late replies", s.writes);
        }
    }
}

/// The rounds without a wait never starve the signals: an endless
/// flood still ends at SIGINT.
#[test]
fn an_endless_flood_still_takes_its_sigint() {
    let peer = Peer {
        rtt: Some(Duration::ZERO),
        ..Peer::default()
    };
    let mut script = Script::new(peer);
    script.send_cost = Duration::from_micros(5);
    script.interrupt_at = Some(Duration::from_millis(50));
    let (_, out, _, s, _) = run(
        opts(|o| {
            o.flood = true;
            o.quiet = true;
        }),
        script,
    );
    assert!(s.interrupted, "{out}");
    assert!(out.contains("packets transmitted"), "{out}");
}
