//! Unit tests of arping's loop over a scripted [`ArpIo`](super::ArpIo) double.

use super::*;
use crate::arping::arp::{ARPHRD_ETHER, ARPOP_REPLY, PACKET_BROADCAST, PACKET_HOST};
use crate::WorkerError;
use std::collections::VecDeque;

const MY_HW: [u8; 6] = [2, 0, 0, 0, 0, 1];
const HIS_HW: [u8; 6] = [2, 0, 0, 0, 0, 2];
const ME: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
const HIM: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);

fn link(hw: &[u8], pkttype: u8) -> LinkAddr {
    let mut l = LinkAddr {
        ifindex: 2,
        hatype: ARPHRD_ETHER,
        pkttype,
        halen: 6,
        addr: [0; 8],
    };
    l.set_hw(hw);
    l
}

fn session(o: Options) -> Session {
    Session {
        target: HIM,
        source: if o.dad { Ipv4Addr::UNSPECIFIED } else { ME },
        device: "veth0".into(),
        prog: "privsep-arping".into(),
        me: link(&MY_HW, 0),
        he: link(&[0xff; 6], 0),
        opts: o,
    }
}

/// How the scripted network answers a probe: a frame and its sender,
/// arriving after a delay.
type Responder = Box<dyn FnMut(&[u8], &LinkAddr) -> Vec<(Duration, Vec<u8>, LinkAddr)>>;

struct Fake {
    now: Duration,
    inbox: VecDeque<(Duration, Vec<u8>, LinkAddr)>,
    sent: Vec<(Duration, Vec<u8>, LinkAddr)>,
    respond: Responder,
    out: String,
    err: String,
    interrupt_at: Option<Duration>,
}

impl Fake {
    fn new(respond: Responder) -> Self {
        Fake {
            now: Duration::from_secs(100),
            inbox: VecDeque::new(),
            sent: Vec::new(),
            respond,
            out: String::new(),
            err: String::new(),
            interrupt_at: None,
        }
    }
}

impl ArpIo for Fake {
    fn now(&mut self) -> Duration {
        self.now
    }
    fn send(&mut self, frame: &[u8], to: &LinkAddr) -> io::Result<usize> {
        self.sent.push((self.now, frame.to_vec(), *to));
        for (after, f, from) in (self.respond)(frame, to) {
            self.inbox.push_back((self.now + after, f, from));
        }
        self.inbox.make_contiguous().sort_by_key(|e| e.0);
        Ok(frame.len())
    }
    fn wait(&mut self, until: Option<Duration>) -> io::Result<bool> {
        let next = self.inbox.front().map(|e| e.0);
        let stop = match (until, self.interrupt_at) {
            (Some(u), Some(i)) => Some(u.min(i)),
            (u, i) => u.or(i),
        };
        match (next, stop) {
            (Some(n), s) if !matches!(s, Some(s) if n >= s) => {
                self.now = self.now.max(n);
                Ok(true)
            }
            (_, Some(s)) => {
                self.now = self.now.max(s);
                Ok(false)
            }
            _ => panic!("the loop would wait forever"),
        }
    }
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<(usize, Option<LinkAddr>)> {
        let (_, f, from) = self.inbox.pop_front().expect("readable");
        let n = f.len().min(buf.len());
        buf[..n].copy_from_slice(&f[..n]);
        Ok((n, Some(from)))
    }
    fn interrupted(&mut self) -> bool {
        self.interrupt_at.is_some_and(|i| self.now >= i)
    }
    fn stdout(&mut self, s: &str) {
        self.out.push_str(s);
    }
    fn stderr(&mut self, s: &str) {
        self.err.push_str(s);
    }
}

/// A host that owns HIM and answers every request for it, 1 ms later,
/// like Linux: unicast reply to the asker.
fn answering_host() -> Responder {
    Box::new(|frame, _to| {
        let Some(src_ip) = frame.get(14..18) else {
            return vec![];
        };
        let asker_ip = Ipv4Addr::new(src_ip[0], src_ip[1], src_ip[2], src_ip[3]);
        let him = link(&HIS_HW, PACKET_HOST);
        let mut asker = link(&frame[8..14], PACKET_HOST);
        asker.halen = 6;
        let mut reply = arp::probe(&him, &asker, HIM, asker_ip, false);
        reply[7] = ARPOP_REPLY as u8;
        vec![(Duration::from_millis(1), reply, him)]
    })
}

fn silent() -> Responder {
    Box::new(|_, _| vec![])
}

fn opts(f: impl FnOnce(&mut Options)) -> Options {
    let mut o = Options {
        target: HIM.to_string(),
        ..Options::default()
    };
    f(&mut o);
    o
}

#[test]
fn count_3_with_replies_unicasts_after_the_first() {
    let mut io = Fake::new(answering_host());
    let code = session(opts(|o| o.count = 3)).run(&mut io);
    assert_eq!(code, 0, "{}", io.out);
    let lines: Vec<&str> = io.out.lines().collect();
    assert_eq!(lines.len(), 5, "{}", io.out);
    for l in &lines[..3] {
        assert_eq!(
            *l,
            "Unicast reply from 198.18.0.2 [02:00:00:00:00:02]  1.500ms"
        );
    }
    assert_eq!(lines[3], "Sent 3 probes (1 broadcast(s))");
    assert_eq!(lines[4], "Received 3 response(s)");
    // One second apart, the first broadcast, the others to him.
    assert_eq!(io.sent.len(), 3);
    assert_eq!(io.sent[0].2.hw(), &[0xff; 6]);
    assert_eq!(io.sent[1].2.hw(), &HIS_HW);
    assert_eq!(io.sent[2].0 - io.sent[0].0, Duration::from_secs(2));
    // iputils' loop ends at the tick after the last probe.
    assert_eq!(io.now - io.sent[0].0, Duration::from_secs(3));
}

#[test]
fn broadcast_only_keeps_broadcasting() {
    let mut io = Fake::new(answering_host());
    let code = session(opts(|o| {
        o.count = 2;
        o.broadcast_only = true;
    }))
    .run(&mut io);
    assert_eq!(code, 0);
    assert!(io.sent.iter().all(|s| s.2.hw() == [0xff; 6]));
    assert!(io.out.contains("Sent 2 probes (2 broadcast(s))"));
}

#[test]
fn no_answer_exits_1() {
    let mut io = Fake::new(silent());
    assert_eq!(session(opts(|o| o.count = 2)).run(&mut io), 1);
    assert_eq!(
        io.out,
        "Sent 2 probes (2 broadcast(s))\nReceived 0 response(s)\n"
    );
    let mut io = Fake::new(silent());
    assert_eq!(session(opts(|o| o.count = 2)).run(&mut io), 1);
}

#[test]
fn dad_exit_status_is_inverted() {
    let dad = |o: &mut Options| {
        o.dad = true;
        o.quit_on_reply = true;
        o.count = 3;
    };
    let mut io = Fake::new(answering_host());
    assert_eq!(session(opts(dad)).run(&mut io), 1, "a duplicate answered");
    assert_eq!(io.sent.len(), 1, "quits on the first reply");
    assert!(io
        .out
        .starts_with("Unicast reply from 198.18.0.2 [02:00:00:00:00:02]"));
    assert!(io
        .out
        .ends_with("Sent 1 probes (1 broadcast(s))\nReceived 1 response(s)\n"));
    let mut io = Fake::new(silent());
    assert_eq!(session(opts(dad)).run(&mut io), 0, "nobody has the address");
    assert_eq!(io.sent.len(), 3);
}

#[test]
fn deadline_with_count_wants_count_answers() {
    // -w 1 -c 1: the first answer ends it, exit 0.
    let mut io = Fake::new(answering_host());
    let code = session(opts(|o| {
        o.count = 1;
        o.timeout = 1;
    }))
    .run(&mut io);
    assert_eq!(code, 0, "{}", io.out);
    assert_eq!(io.sent.len(), 1);
    // -w 2 -c 5 against silence: the deadline ends it, exit 1.
    let mut io = Fake::new(silent());
    let code = session(opts(|o| {
        o.count = 5;
        o.timeout = 2;
    }))
    .run(&mut io);
    assert_eq!(code, 1);
    assert_eq!(io.now - io.sent[0].0, Duration::from_secs(2));
    // -w 2 -c 5 with answers: 3 answers < 5, exit 1 (upstream's rule).
    let mut io = Fake::new(answering_host());
    let code = session(opts(|o| {
        o.count = 5;
        o.timeout = 2;
    }))
    .run(&mut io);
    assert_eq!(code, 1, "{}", io.out);
    // -w 3 alone: any answer is success.
    let mut io = Fake::new(answering_host());
    assert_eq!(session(opts(|o| o.timeout = 3)).run(&mut io), 0);
}

#[test]
fn unsolicited_stops_right_after_the_last_probe() {
    let mut io = Fake::new(silent());
    let code = session(opts(|o| {
        o.unsolicited = true;
        o.advert = true;
        o.count = 2;
    }))
    .run(&mut io);
    assert_eq!(code, 0);
    assert_eq!(io.sent.len(), 2);
    assert_eq!(io.now - io.sent[0].0, Duration::from_secs(1));
    // -A sends replies with our own address as the target's.
    assert_eq!(&io.sent[0].1[6..8], &[0, 2]);
}

#[test]
fn interval_0_sends_one_probe_and_a_signal_ends_it() {
    let mut io = Fake::new(silent());
    io.interrupt_at = Some(Duration::from_secs(105));
    let code = session(opts(|o| o.interval = 0)).run(&mut io);
    assert_eq!(code, 1);
    assert_eq!(io.sent.len(), 1);
    assert!(io.out.contains("Sent 1 probes"));
}

#[test]
fn garbage_and_foreign_frames_are_ignored() {
    let mut io = Fake::new(Box::new(|frame, _| {
        let other = link(&[2, 0, 0, 0, 0, 9], PACKET_BROADCAST);
        let mut wrong_sender = frame.to_vec();
        wrong_sender[14] = 10;
        vec![
            (Duration::from_millis(1), vec![], other),
            (Duration::from_millis(1), vec![0xff; 3], other),
            (Duration::from_millis(1), vec![0; 4000], other),
            (Duration::from_millis(2), frame.to_vec(), other),
            (Duration::from_millis(2), wrong_sender, other),
        ]
    }));
    let code = session(opts(|o| o.count = 2)).run(&mut io);
    assert_eq!(code, 1);
    assert!(io.out.starts_with("Sent 2 probes"), "{}", io.out);
}

#[test]
fn quiet_prints_nothing() {
    let mut io = Fake::new(answering_host());
    let code = session(opts(|o| {
        o.count = 2;
        o.quiet = true;
    }))
    .run(&mut io);
    assert_eq!((code, io.out.as_str()), (0, ""));
}

#[test]
fn non_root_may_not_send_unsolicited_arp() {
    use crate::arping::prepare::root_only_flags;
    let u = opts(|o| o.unsolicited = true);
    let a = opts(|o| {
        o.unsolicited = true;
        o.advert = true;
    });
    assert!(root_only_flags(&u, true).is_ok());
    for (o, flag) in [(u, "-U"), (a, "-A")] {
        match root_only_flags(&o, false) {
            Err(WorkerError::Fatal(m)) => {
                assert!(m.starts_with(flag) && m.contains("poison"), "{m}")
            }
            other => panic!("{other:?}"),
        }
    }
}
