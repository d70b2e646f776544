//! The scheduler against a scripted world: a clock that only moves when
//! the engine waits, replies the test decides, every output line kept.

use super::*;
use crate::fping::cli::{self, Options};
use crate::fping::targets::Target;

const MS: i64 = 1_000_000;
const START: i64 = 1_700_000_000 * 1_000 * MS;

/// A fake world: `reply_to` lists the sends (by number, from 0) that get an
/// echo reply after `rtt`.
struct Fake {
    now: i64,
    sends: Vec<(i64, SocketAddr, u16)>,
    reply_to: Vec<usize>,
    rtt: i64,
    /// Replies due: (time, family, datagram).
    pending: Vec<(i64, Vec<u8>)>,
    out: String,
    err: String,
    /// The replies come with an IPv4 header (TOS 0x10, TTL 57), as on a
    /// raw socket.
    raw: bool,
    /// Where the replies come from.
    from: SocketAddr,
}

impl Fake {
    fn new(reply_to: &[usize], rtt: i64) -> Fake {
        Fake {
            // Wall-clock time: the sequence map takes a number as free once
            // ten seconds have passed since the epoch.
            now: START,
            sends: Vec::new(),
            reply_to: reply_to.to_vec(),
            rtt,
            pending: Vec::new(),
            out: String::new(),
            err: String::new(),
            raw: false,
            from: "127.0.0.1:0".parse().unwrap(),
        }
    }
}

impl Io for &mut Fake {
    fn send(&mut self, _: Family, packet: &[u8], to: &SocketAddr) -> Option<io::Result<usize>> {
        let seq = u16::from_be_bytes([packet[6], packet[7]]);
        if self.reply_to.contains(&self.sends.len()) {
            let mut reply = packet.to_vec();
            // An echo reply, or a timestamp reply that answers 1000 and 2000.
            reply[0] = if packet[0] == 13 { 14 } else { 0 };
            if packet[0] == 13 {
                reply[12..16].copy_from_slice(&1000u32.to_be_bytes());
                reply[16..20].copy_from_slice(&2000u32.to_be_bytes());
            }
            if self.raw {
                let mut ip = vec![0x45, 0x10, 0, 0, 0, 0, 0, 0, 57, 1];
                ip.resize(20, 0);
                ip.extend_from_slice(&reply);
                reply = ip;
            }
            self.pending.push((self.now + self.rtt, reply));
        }
        self.sends.push((self.now, *to, seq));
        Some(Ok(packet.len()))
    }
    fn wait(&mut self, timeout_ns: i64) -> Option<(Family, bool)> {
        let due = self.pending.iter().map(|p| p.0).min();
        match due {
            Some(t) if t <= self.now + timeout_ns => {
                self.now = self.now.max(t);
                Some((Family::V4, false))
            }
            _ => {
                self.now += timeout_ns;
                None
            }
        }
    }
    fn recv(&mut self, _: Family, buf: &mut [u8], _: &mut [u8], _: bool) -> io::Result<Received> {
        let i = (0..self.pending.len())
            .min_by_key(|&i| self.pending[i].0)
            .ok_or_else(|| io::Error::from_raw_os_error(libc::EAGAIN))?;
        if self.pending[i].0 > self.now {
            return Err(io::Error::from_raw_os_error(libc::EAGAIN));
        }
        let (_, data) = self.pending.remove(i);
        buf[..data.len()].copy_from_slice(&data);
        Ok(Received {
            len: data.len(),
            from: Some(self.from),
            control_len: 0,
            truncated: false,
        })
    }
    fn now(&mut self) -> i64 {
        self.now
    }
    fn clock(&mut self, _: i64) -> String {
        "[00:00:00]".into()
    }
    fn local_time(&mut self, _: i64, format: &std::ffi::CStr) -> String {
        format!("local {}", format.to_string_lossy())
    }
    fn stdout(&mut self, text: &str) {
        self.out.push_str(text);
    }
    fn stderr(&mut self, text: &str) {
        self.err.push_str(text);
    }
    fn interrupted(&mut self) -> bool {
        false
    }
    fn status_requested(&mut self) -> bool {
        false
    }
    fn random_fill(&mut self, _: &mut [u8]) {}
}

fn options(args: &[&str]) -> Options {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    cli::parse("fping", &args, false, true, true, &mut |_| Ok(())).unwrap()
}

fn target(addr: &str) -> Target {
    Target {
        name: addr.into(),
        host: addr.into(),
        addr: format!("{addr}:0").parse().unwrap(),
    }
}

fn run(args: &[&str], targets: &[&str], fake: &mut Fake) -> i32 {
    let sock = SocketInfo {
        ident4: 0x1234,
        ident6: 0x1234,
        raw4: fake.raw,
    };
    let t = targets.iter().map(|a| target(a)).collect();
    Engine::new(options(args), fake, sock, t, 0).run()
}

#[test]
fn a_dead_target_is_retried_with_backoff_then_unreachable() {
    let mut fake = Fake::new(&[], 0);
    let status = run(&["-r", "2"], &["198.18.0.9"], &mut fake);
    let start = START;
    let times: Vec<i64> = fake.sends.iter().map(|s| (s.0 - start) / MS).collect();
    // 500 ms, then 750 (x1.5): sends at 0, 500, 1250.
    assert_eq!(times, [0, 500, 1250]);
    assert_eq!(fake.out, "198.18.0.9 is unreachable\n");
    assert_eq!(status, 1);
}

#[test]
fn replies_make_targets_alive_in_order_and_paced_by_the_interval() {
    let mut fake = Fake::new(&[0, 1], MS / 10);
    let status = run(&["-i", "25", "-e"], &["127.0.0.1", "127.0.0.2"], &mut fake);
    // One send per -i, woken as fping's select() wakes: a microsecond late.
    assert_eq!(
        fake.sends[1].0 - fake.sends[0].0,
        25 * MS + 1_000,
        "one send per -i"
    );
    assert_eq!(
        fake.out,
        "127.0.0.1 is alive (0.100 ms)\n127.0.0.2 is alive (0.100 ms)\n"
    );
    assert_eq!(status, 0);
}

#[test]
fn vcount_mode_reports_each_ping_and_a_dash_for_a_loss() {
    // Sends alternate between the two targets: 0 → .1, 1 → .2, 2 → .1, 3 → .2.
    let mut fake = Fake::new(&[0, 1, 3], 2 * MS);
    let status = run(
        &["-C", "2", "-q", "-p", "100"],
        &["127.0.0.1", "127.0.0.2"],
        &mut fake,
    );
    assert_eq!(fake.err, "127.0.0.1 : 2.00 -\n127.0.0.2 : 2.00 2.00\n");
    assert_eq!(fake.out, "");
    assert_eq!(fake.sends.len(), 4);
    assert_eq!(
        fake.sends[2].0 - fake.sends[0].0,
        100 * MS + 1_000,
        "-p per target"
    );
    // Every target answered at least once: fping's status 0.
    assert_eq!(status, 0);
}

#[test]
fn count_mode_lines_and_summary() {
    let mut fake = Fake::new(&[0], MS);
    let status = run(&["-c", "2", "-p", "50"], &["127.0.0.1"], &mut fake);
    assert_eq!(
        fake.out,
        "127.0.0.1 : [0], 64 bytes, 1.00 ms (1.00 avg, 0% loss)\n127.0.0.1 : [1], timed out (1.00 avg, 50% loss)\n"
    );
    assert_eq!(
        fake.err,
        "\n127.0.0.1 : xmt/rcv/%loss = 2/1/50%, min/avg/max = 1.00/1.00/1.00\n"
    );
    assert_eq!(status, 0);
}

#[test]
fn a_reply_after_its_time_out_does_not_count() {
    let mut fake = Fake::new(&[0], 600 * MS);
    let status = run(&["-r", "0"], &["127.0.0.1"], &mut fake);
    assert_eq!(fake.out, "127.0.0.1 is unreachable\n");
    assert_eq!(status, 1);
}

#[test]
fn fast_reachable_stops_at_the_first_n_alive() {
    let mut fake = Fake::new(&[0], MS);
    let status = run(&["-X", "1"], &["127.0.0.1", "198.18.0.9"], &mut fake);
    assert_eq!(
        fake.out,
        "Enough hosts reachable (required: 1, reachable: 1)\n"
    );
    // The reply came within the first -i interval: the run ended before
    // the second target's request was due.
    assert_eq!(fake.sends.len(), 1);
    assert_eq!(status, 0);
}

#[test]
fn check_source_drops_replies_from_another_address() {
    // Every reply comes from 127.0.0.1: 127.0.0.2's too.
    let mut fake = Fake::new(&[0, 1], MS);
    let status = run(&["-r", "0"], &["127.0.0.1", "127.0.0.2"], &mut fake);
    assert_eq!(fake.out, "127.0.0.1 is alive\n127.0.0.2 is alive\n");
    assert_eq!(status, 0);
    let mut fake = Fake::new(&[0, 1], MS);
    let status = run(
        &["--check-source", "-r", "0"],
        &["127.0.0.1", "127.0.0.2"],
        &mut fake,
    );
    assert_eq!(fake.out, "127.0.0.1 is alive\n127.0.0.2 is unreachable\n");
    assert_eq!(status, 1);
}

#[test]
fn print_tos_and_ttl_follow_the_reply_before_the_elapsed_time() {
    let mut fake = Fake::new(&[0], MS);
    fake.raw = true;
    run(
        &["--print-tos", "--print-ttl", "-e"],
        &["127.0.0.1"],
        &mut fake,
    );
    assert_eq!(fake.out, "127.0.0.1 is alive (TOS 16) (TTL 57) (1.00 ms)\n");
    let mut fake = Fake::new(&[0], MS);
    fake.raw = true;
    run(&["--print-ttl", "-c", "1"], &["127.0.0.1"], &mut fake);
    assert_eq!(
        fake.out,
        "127.0.0.1 : [0], 64 bytes, 1.00 ms (1.00 avg, 0% loss) (TTL 57)\n"
    );
    // A datagram socket without the kernel's control message: unknown.
    let mut fake = Fake::new(&[0], MS);
    run(&["--print-tos", "-a"], &["127.0.0.1"], &mut fake);
    assert_eq!(fake.out, "127.0.0.1 (TOS unknown)\n");
}

#[test]
fn icmp_timestamps_are_sent_and_their_times_printed() {
    let mut fake = Fake::new(&[0], MS);
    fake.raw = true;
    let status = run(&["--icmp-timestamp", "-c", "1"], &["127.0.0.1"], &mut fake);
    let local = (START + MS) / MS % 86_400_000;
    let originate = START / MS % 86_400_000;
    assert_eq!(
        fake.out,
        format!(
            "127.0.0.1 : [0], 20 bytes, 1.00 ms (1.00 avg, 0% loss), timestamps: \
             Originate={originate} Receive=1000 Transmit=2000 Localreceive={local}\n"
        )
    );
    assert_eq!(status, 0);
    // With -a, no comma.
    let mut fake = Fake::new(&[0], MS);
    run(&["--icmp-timestamp", "-a"], &["127.0.0.1"], &mut fake);
    assert!(
        fake.out.starts_with("127.0.0.1 timestamps: Originate="),
        "{}",
        fake.out
    );
}

#[test]
fn cumulative_reports_count_from_the_start() {
    let args = ["-c", "5", "-p", "600", "-Q", "1"];
    let mut fake = Fake::new(&[0, 1, 2, 3, 4], MS);
    run(&args, &["127.0.0.1"], &mut fake);
    let interval = fake.err.clone();
    let mut fake = Fake::new(&[0, 1, 2, 3, 4], MS);
    run(
        &["-c", "5", "-p", "600", "-Q", "1,cumulative"],
        &["127.0.0.1"],
        &mut fake,
    );
    let reports = |e: &str| -> Vec<String> {
        e.lines()
            .filter(|l| l.contains("xmt/rcv"))
            .map(|l| l.split(',').next().unwrap_or("").to_string())
            .collect()
    };
    // Reports at 1 s and 2 s (sends at 0, .6, 1.2, 1.8, 2.4), then the summary.
    assert_eq!(
        reports(&interval),
        [
            "127.0.0.1 : xmt/rcv/%loss = 2/2/0%",
            "127.0.0.1 : xmt/rcv/%loss = 2/2/0%",
            "127.0.0.1 : xmt/rcv/%loss = 5/5/0%"
        ]
    );
    assert_eq!(
        reports(&fake.err),
        [
            "127.0.0.1 : xmt/rcv/%loss = 2/2/0%",
            "127.0.0.1 : xmt/rcv/%loss = 4/4/0%",
            "127.0.0.1 : xmt/rcv/%loss = 5/5/0%"
        ]
    );
}

#[test]
fn timestamp_formats_name_their_strftime_form() {
    for (format, stamp) in [
        ("ctime", "[local %c] "),
        ("iso", "[local %Y-%m-%dT%T%z] "),
        ("rfc3339", "[local %Y-%m-%d %H:%M:%S] "),
    ] {
        let mut fake = Fake::new(&[0], MS);
        let arg = format!("--timestamp-format={format}");
        run(&["-D", &arg, "-c", "1"], &["127.0.0.1"], &mut fake);
        assert!(fake.out.starts_with(stamp), "{format}: {}", fake.out);
    }
    let mut fake = Fake::new(&[0], MS);
    run(&["-D", "-c", "1"], &["127.0.0.1"], &mut fake);
    assert!(fake.out.starts_with("[1700000000.00100] "), "{}", fake.out);
}

#[test]
fn the_sequence_map_timeout_is_the_options() {
    // 0 ms: every reply finds its number expired, as in 5.5.
    let mut fake = Fake::new(&[0], MS);
    let status = run(
        &["--seqmap-timeout=0", "-c", "1"],
        &["127.0.0.1"],
        &mut fake,
    );
    assert_eq!(
        fake.out,
        "127.0.0.1 : [0], timed out (NaN avg, 100% loss)\n"
    );
    assert_eq!(status, 1);
}

#[test]
fn json_puts_every_object_on_stdout_and_nothing_on_stderr() {
    // Sends alternate: 0 → .1, 1 → .2, 2 → .1, 3 → .2; .2's time-outs
    // (the period) come after .1's second reply.
    let mut fake = Fake::new(&[0, 2], MS);
    let status = run(
        &["-J", "-c", "2", "-p", "100", "-s"],
        &["127.0.0.1", "127.0.0.2"],
        &mut fake,
    );
    let lines: Vec<&str> = fake.out.lines().collect();
    assert_eq!(
        lines[..6],
        [
            "{\"resp\": {\"host\": \"127.0.0.1\", \"seq\": 0, \"size\": 64, \"rtt\": 1.00}}",
            "{\"resp\": {\"host\": \"127.0.0.1\", \"seq\": 1, \"size\": 64, \"rtt\": 1.00}}",
            "{\"timeout\": {\"host\": \"127.0.0.2\", \"seq\": 0}}",
            "{\"timeout\": {\"host\": \"127.0.0.2\", \"seq\": 1}}",
            "{\"summary\": {\"host\": \"127.0.0.1\", \"xmt\": 2, \"rcv\": 2, \"loss\": 0, \
             \"rttMin\": 1.00, \"rttAvg\": 1.00, \"rttMax\": 1.00}}",
            "{\"summary\": {\"host\": \"127.0.0.2\", \"xmt\": 2, \"rcv\": 0, \"loss\": 100}}",
        ]
    );
    assert!(
        lines[6].starts_with(
            "{\"stats\": {\"targets\": 2, \"alive\": 1, \"unreachable\": 1, \
             \"unknownAddresses\": 0, \"timeouts\": 2, \"icmpEchosSent\": 4, \
             \"icmpEchoRepliesReceived\": 2, "
        ),
        "{}",
        lines[6]
    );
    assert_eq!(lines.len(), 7);
    for l in &lines {
        serde_json::from_str::<serde_json::Value>(l).unwrap();
    }
    assert_eq!(fake.err, "");
    assert_eq!(status, 1);
    let mut fake = Fake::new(&[0], MS);
    run(&["-J", "-C", "2", "-q", "-p", "50"], &["127.0.0.1"], &mut fake);
    assert_eq!(
        fake.out,
        "{\"vSum\": {\"host\": \"127.0.0.1\", \"values\": [1.00, null]}}\n"
    );
    assert_eq!(fake.err, "");
}

#[test]
fn json_reports_carry_the_wall_clock_s_seconds() {
    let mut fake = Fake::new(&[0, 1, 2, 3, 4], MS);
    run(
        &["-J", "-c", "5", "-p", "600", "-Q", "1"],
        &["127.0.0.1"],
        &mut fake,
    );
    let start = START / 1_000_000_000;
    let lines: Vec<&str> = fake.out.lines().collect();
    for (i, l) in lines[..2].iter().enumerate() {
        assert_eq!(
            *l,
            format!(
                "{{\"intSum\": {{\"time\": {},\"host\": \"127.0.0.1\", \"xmt\": 2, \"rcv\": 2, \
                 \"loss\": 0, \"rttMin\": 1.00, \"rttAvg\": 1.00, \"rttMax\": 1.00}}}}",
                start + 1 + i as i64
            )
        );
    }
    assert!(lines[2].starts_with("{\"summary\": {\"host\": \"127.0.0.1\", \"xmt\": 5,"));
    assert_eq!(lines.len(), 3);
    assert_eq!(fake.err, "");
}

#[test]
fn json_stamps_extras_and_5_5_s_order_of_the_modes() {
    let mut fake = Fake::new(&[0], MS);
    fake.raw = true;
    run(
        &["-J", "-D", "--timestamp-format=iso", "--print-ttl", "-c", "1"],
        &["127.0.0.1"],
        &mut fake,
    );
    assert!(
        fake.out.starts_with(
            "{\"resp\": {\"timestamp\": \"local %Y-%m-%dT%T%z\", \"host\": \"127.0.0.1\", \
             \"seq\": 0, \"size\": 64, \"rtt\": 1.00, \"ttl\": 57}}\n"
        ),
        "{}",
        fake.out
    );
    let mut fake = Fake::new(&[], MS);
    run(&["-J", "-D", "-c", "1"], &["127.0.0.1"], &mut fake);
    assert!(
        fake.out
            .starts_with("{\"timeout\": {\"timestamp\": \"1700000001.00000\", \"host\": "),
        "{}",
        fake.out
    );
    // -a in count mode: 5.1 prints no reply lines, 5.5 (and -J) does.
    for (args, replies) in [(&["-a", "-c", "1"][..], 0), (&["-J", "-a", "-c", "1"], 1)] {
        let mut fake = Fake::new(&[0], MS);
        run(args, &["127.0.0.1"], &mut fake);
        let reply = |l: &&str| l.starts_with("{\"resp\"") || l.contains(" bytes, ");
        let n = fake.out.lines().filter(reply).count();
        assert_eq!(n, replies, "{args:?}: {}", fake.out);
    }
}

fn engine<'a>(args: &[&str], fake: &'a mut Fake) -> Engine<&'a mut Fake> {
    let sock = SocketInfo {
        ident4: 0x1234,
        ident6: 0x1234,
        raw4: false,
    };
    Engine::new(options(args), fake, sock, vec![target("127.0.0.1")], 0)
}

#[test]
fn the_sequence_map_holds_only_the_numbers_taken() {
    // A sweep of three targets, three pings each: nine numbers, and the
    // map no larger (the memory of a sweep follows its probes, not the
    // 65535 numbers it could take).
    let mut fake = Fake::new(&[0, 4, 8], MS);
    let sock = SocketInfo {
        ident4: 0x1234,
        ident6: 0x1234,
        raw4: false,
    };
    let t = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
        .iter()
        .map(|a| target(a))
        .collect();
    let mut e = Engine::new(
        options(&["-C", "3", "-p", "20", "-q"]),
        &mut fake,
        sock,
        t,
        0,
    );
    assert_eq!(e.run(), 0);
    assert_eq!(e.seqmap.len(), 9);
}

#[test]
fn numbers_never_taken_read_as_expired() {
    let mut fake = Fake::new(&[], 0);
    let mut e = engine(&["-c", "1"], &mut fake);
    for i in 0..3 {
        assert_eq!(e.seqmap_add(0, i, START), Ok(i as u16));
    }
    assert_eq!(e.seqmap_fetch(1, START + MS).map(|s| s.index), Some(1));
    // Past the numbers taken, to the end of the range and beyond it.
    for id in [3, 1000, 65534, 65535] {
        assert!(e.seqmap_fetch(id, START + MS).is_none(), "{id}");
    }
}

#[test]
fn the_sequence_numbers_wrap_and_run_out_as_fping_s() {
    let mut fake = Fake::new(&[], 0);
    let mut e = engine(&["-c", "1"], &mut fake);
    for i in 0..SEQMAP_MAXSEQ as u32 {
        assert_eq!(e.seqmap_add(0, i, START), Ok(i as u16));
    }
    assert_eq!(e.seqmap.len(), SEQMAP_MAXSEQ);
    // Number 0 again, still taken within the time-out (10 s).
    assert_eq!(e.seqmap_add(0, 7, START + MS), Err(4));
    assert_eq!(
        e.io.err,
        "fping error: not enough sequence numbers available! \
         (expire_timeout=10000000000, host_nr=0, ping_count=7, seqmap_next_id=0)\n"
    );
    // Once it expired, 0 is taken again and the map does not grow.
    let later = START + 10_000 * MS;
    assert_eq!(e.seqmap_add(0, 8, later), Ok(0));
    assert_eq!(e.seqmap_fetch(0, later).map(|s| s.index), Some(8));
    assert_eq!(e.seqmap.len(), SEQMAP_MAXSEQ);
}
