//! The IPv4 and IPv6 builders driven through a recording [`SocketOps`]:
//! every socket option, probe, bind, filter, warning and refusal that
//! setup makes for a command line, checked without a staged install (the
//! installed suites then check that the kernel takes them).

use super::*;
use crate::ping::cli::{self, Parsed};
use std::ffi::OsString;
use std::net::{Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// One call setup made.
#[derive(Debug, Clone, PartialEq)]
enum Call {
    OpenProbe(Family),
    CloseProbe,
    Int(Sock, i32, i32, i32),
    Bytes(Sock, i32, i32, Vec<u8>),
    Connect(Sock, SocketAddr),
    Bind(Sock, SocketAddr),
    /// A filter on the main socket, by length.
    Filter(usize),
    /// A filter on the other family's socket, by length.
    OtherFilter(usize),
    Stderr(String),
}

/// The double: records each call; the answers are configured.
#[derive(Default)]
struct Recorder {
    calls: Vec<Call>,
    /// What `getsockname` of the probe gives.
    source: Option<SocketAddr>,
    /// The first connect of the probe fails with this errno.
    probe_connect_errno: Option<i32>,
    /// setsockopt (level, name) refused with an errno.
    refuse: Vec<(i32, i32, i32)>,
    /// Interfaces by name.
    ifindex: Vec<(&'static str, u32)>,
    /// Whether the device has the source address.
    device_has: bool,
}

impl Recorder {
    fn refused(&self, level: i32, name: i32) -> io::Result<()> {
        match self.refuse.iter().find(|r| r.0 == level && r.1 == name) {
            Some(r) => Err(io::Error::from_raw_os_error(r.2)),
            None => Ok(()),
        }
    }

    fn has(&self, c: &Call) -> bool {
        self.calls.contains(c)
    }

    fn position(&self, c: &Call) -> usize {
        self.calls
            .iter()
            .position(|x| x == c)
            .unwrap_or_else(|| panic!("{c:?} not in {:#?}", self.calls))
    }

    /// The options set on `s` at `level`, by name.
    fn names(&self, s: Sock, level: i32) -> Vec<i32> {
        self.calls
            .iter()
            .filter_map(|c| match c {
                Call::Int(k, l, n, _) | Call::Bytes(k, l, n, _) if *k == s && *l == level => {
                    Some(*n)
                }
                _ => None,
            })
            .collect()
    }
}

impl SocketOps for Recorder {
    fn open_probe(&mut self, family: Family) -> io::Result<()> {
        self.calls.push(Call::OpenProbe(family));
        Ok(())
    }
    fn close_probe(&mut self) {
        self.calls.push(Call::CloseProbe);
    }
    fn set_int(&mut self, s: Sock, level: i32, name: i32, value: i32) -> io::Result<()> {
        self.calls.push(Call::Int(s, level, name, value));
        self.refused(level, name)
    }
    fn set_bytes(&mut self, s: Sock, level: i32, name: i32, value: &[u8]) -> io::Result<()> {
        self.calls.push(Call::Bytes(s, level, name, value.to_vec()));
        self.refused(level, name)
    }
    fn get_int(&mut self, _: Sock, _: i32, _: i32) -> io::Result<i32> {
        Ok(i32::MAX)
    }
    fn connect(&mut self, s: Sock, to: SocketAddr) -> io::Result<()> {
        self.calls.push(Call::Connect(s, to));
        match (s, self.probe_connect_errno.take()) {
            (Sock::Probe, Some(errno)) => Err(io::Error::from_raw_os_error(errno)),
            _ => Ok(()),
        }
    }
    fn local_address(&mut self, _: Sock) -> io::Result<Option<SocketAddr>> {
        Ok(self.source)
    }
    fn bind(&mut self, s: Sock, to: SocketAddr) -> io::Result<()> {
        self.calls.push(Call::Bind(s, to));
        Ok(())
    }
    fn attach_filter(&mut self, program: &[libc::sock_filter]) -> io::Result<()> {
        self.calls.push(Call::Filter(program.len()));
        Ok(())
    }
    fn attach_other_filter(&mut self, program: &[libc::sock_filter]) {
        self.calls.push(Call::OtherFilter(program.len()));
    }
    fn if_index(&mut self, device: &str) -> Option<u32> {
        self.ifindex
            .iter()
            .find(|(n, _)| *n == device)
            .map(|(_, i)| *i)
    }
    fn device_has(&mut self, _: &str, _: IpAddr) -> bool {
        self.device_has
    }
    fn interface_names(&mut self) -> Vec<(u32, String)> {
        self.ifindex
            .iter()
            .map(|(n, i)| (*i, n.to_string()))
            .collect()
    }
    fn random_u16(&mut self) -> Option<u16> {
        Some(0x4242)
    }
    fn reverse_name(&mut self, _: IpAddr) -> Option<String> {
        None
    }
    fn stderr(&mut self, bytes: &[u8]) {
        self.calls
            .push(Call::Stderr(String::from_utf8_lossy(bytes).into_owned()));
    }
}

const DST4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 9);
const SRC4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);

/// The options of a command line, as the worker parses it.
fn opts(args: &[&str], is_root: bool) -> Options {
    let v: Vec<OsString> = args.iter().map(OsString::from).collect();
    match cli::parse(&v, is_root, None, false).result {
        Ok(Parsed::Run(o)) => *o,
        other => panic!("{args:?}: {other:?}"),
    }
}

fn target(addr: SocketAddr, typed: &str) -> Target {
    Target {
        family: if addr.is_ipv4() {
            Family::V4
        } else {
            Family::V6
        },
        addr,
        hostname: typed.to_string(),
        numeric: addr.ip().to_string(),
        display: addr.ip().to_string(),
        canonname: None,
        reverse: None,
        numeric_dest: true,
    }
}

fn v4(ip: Ipv4Addr) -> SocketAddr {
    SocketAddr::V4(SocketAddrV4::new(ip, 0))
}

fn v6(ip: &str) -> SocketAddr {
    SocketAddr::V6(SocketAddrV6::new(ip.parse().unwrap(), 0, 0, 0))
}

/// Setup of `args` (the destination last) on a raw or datagram socket:
/// its result, the calls made, the warnings said.
fn prepare_with(
    args: &[&str],
    datagram: bool,
    is_root: bool,
    mut rec: Recorder,
) -> (Result<Setup, WorkerError>, Recorder, Vec<String>) {
    let o = opts(args, is_root);
    let dest = args.last().copied().unwrap_or_default();
    let addr = match dest.parse::<Ipv4Addr>() {
        Ok(ip) => v4(ip),
        Err(_) => v6(dest),
    };
    let mut said = Vec::new();
    let req = Request {
        o,
        target: target(addr, dest),
        datagram,
        is_root,
        prog: "ping",
        route: &[],
        nodeinfo: None,
    };
    let r = prepare(&mut rec, req, &mut |m| said.push(m));
    (r, rec, said)
}

fn v4_probe() -> Recorder {
    Recorder {
        source: Some(v4(SRC4)),
        device_has: true,
        ..Recorder::default()
    }
}

#[test]
fn v4_raw_socket_gets_its_filters_and_the_error_queue() {
    let (r, rec, said) = prepare_with(&["-e", "4660", "198.18.0.9"], false, false, v4_probe());
    let s = r.expect("setup");
    assert!(said.is_empty(), "{said:?}");
    assert_eq!(
        s.header,
        "PING 198.18.0.9 (198.18.0.9) 56(84) bytes of data."
    );
    assert_eq!(s.prepared.ident, 4660);
    assert!(!s.prepared.multicast);
    // The probe finds the source, and is closed before anything else.
    let connect = rec.position(&Call::Connect(
        Sock::Probe,
        SocketAddr::V4(SocketAddrV4::new(DST4, 1025)),
    ));
    assert!(rec.position(&Call::OpenProbe(Family::V4)) < connect);
    assert!(connect < rec.position(&Call::CloseProbe));
    // ICMP_FILTER passes replies and the errors upstream reports.
    let pass: u32 = V4_PASSED.iter().fold(0, |m, t| m | (1 << t));
    assert!(rec.has(&Call::Bytes(
        Sock::Main,
        libc::SOL_RAW,
        1,
        (!pass).to_ne_bytes().to_vec()
    )));
    assert!(rec.has(&Call::Int(Sock::Main, libc::SOL_IP, libc::IP_RECVERR, 1)));
    assert!(!rec
        .names(Sock::Main, libc::SOL_IP)
        .contains(&libc::IP_RECVTTL));
    // The BPF program follows -e; the other family's socket takes nothing.
    let bpf = socket_filter(Family::V4, 4660).len();
    assert!(rec.has(&Call::Filter(bpf)));
    assert!(rec.has(&Call::OtherFilter(1)));
    // No bind without -e on a datagram socket or -I address.
    assert!(!rec.calls.iter().any(|c| matches!(c, Call::Bind(..))));
}

#[test]
fn v4_datagram_socket_reads_ttl_and_options_as_control_messages() {
    let (r, rec, _) = prepare_with(&["-e", "4660", "198.18.0.9"], true, false, v4_probe());
    r.expect("setup");
    let main = rec.names(Sock::Main, libc::SOL_IP);
    assert!(main.contains(&libc::IP_RECVTTL) && main.contains(&libc::IP_RETOPTS));
    // -e is the datagram socket's port: bound to it, on the source.
    assert!(rec.has(&Call::Bind(
        Sock::Main,
        SocketAddr::V4(SocketAddrV4::new(SRC4, 4660))
    )));
    // Neither ICMP_FILTER nor BPF: the kernel delivers only our replies.
    assert!(!rec.names(Sock::Main, libc::SOL_RAW).contains(&1));
    assert!(!rec.calls.iter().any(|c| matches!(c, Call::Filter(_))));
}

#[test]
fn v4_broadcast_needs_b_and_a_second_for_users() {
    let refused = || Recorder {
        probe_connect_errno: Some(libc::EACCES),
        ..v4_probe()
    };
    let (r, _, _) = prepare_with(&["198.18.255.255"], false, false, refused());
    let e = r.err().expect("refused");
    assert_eq!(
        (e.to_string().as_str(), e.status()),
        (
            "Do you want to ping broadcast? Then -b. If not, check your local firewall rules",
            2
        )
    );

    let (r, _, _) = prepare_with(
        &["-b", "-i", "0.5", "198.18.255.255"],
        false,
        false,
        refused(),
    );
    assert_eq!(
        r.err().expect("refused").to_string(),
        "minimal interval for broadcast ping for user must be >= 1000 ms, use -i 1 (or higher)"
    );

    let (r, rec, _) = prepare_with(&["-b", "198.18.255.255"], false, false, refused());
    let s = r.expect("setup");
    assert!(s.prepared.multicast);
    assert!(rec.has(&Call::Stderr("WARNING: pinging broadcast address\n".into())));
    for s in [Sock::Probe, Sock::Main] {
        assert!(rec.has(&Call::Int(s, libc::SOL_SOCKET, libc::SO_BROADCAST, 1)));
    }
    // Broadcast ping does not fragment.
    assert!(rec.has(&Call::Int(
        Sock::Main,
        libc::SOL_IP,
        libc::IP_MTU_DISCOVER,
        libc::IP_PMTUDISC_DO
    )));
}

#[test]
fn v4_ttl_tos_and_record_route() {
    let (r, rec, _) = prepare_with(
        &["-t", "5", "-Q", "0x10", "-R", "198.18.0.9"],
        false,
        false,
        v4_probe(),
    );
    let s = r.expect("setup");
    // The probe carries the TOS too (its route may depend on it).
    assert!(rec.has(&Call::Int(Sock::Probe, libc::IPPROTO_IP, libc::IP_TOS, 16)));
    for name in [libc::IP_MULTICAST_TTL, libc::IP_TTL] {
        assert!(rec.has(&Call::Int(Sock::Main, libc::IPPROTO_IP, name, 5)));
    }
    assert!(rec.has(&Call::Int(Sock::Main, libc::IPPROTO_IP, libc::IP_TOS, 16)));
    let mut rr = vec![0u8; 40];
    rr[..4].copy_from_slice(&[1, 7, 39, 4]);
    assert!(rec.has(&Call::Bytes(
        Sock::Main,
        libc::IPPROTO_IP,
        libc::IP_OPTIONS,
        rr
    )));
    // The header counts the 40 bytes of options.
    assert_eq!(
        s.header,
        "PING 198.18.0.9 (198.18.0.9) 56(124) bytes of data."
    );
}

#[test]
fn v4_ping_0_pings_the_source_address() {
    let (r, _, _) = prepare_with(&["0.0.0.0"], false, false, v4_probe());
    let s = r.expect("setup");
    assert_eq!(s.prepared.target.addr, v4(SRC4));
    assert_eq!(s.header, "PING 0.0.0.0 (198.18.0.1) 56(84) bytes of data.");
}

#[test]
fn a_refused_mark_is_upstreams_warning_and_is_not_tried_again() {
    let rec = Recorder {
        refuse: vec![(libc::SOL_SOCKET, libc::SO_MARK, libc::EPERM)],
        ..v4_probe()
    };
    let (r, mut rec, said) = prepare_with(&["-m", "7", "198.18.0.9"], false, false, rec);
    let mut s = r.expect("setup");
    assert_eq!(
        said,
        [
            "WARNING: failed to set mark: 7: Operation not permitted",
            "=> missing cap_net_admin+p or cap_net_raw+p (since Linux 5.17) capability?",
        ]
    );
    assert_eq!(s.prepared.o.mark, None);
    rec.calls.clear();
    s.socket_options(&mut rec, &mut |m| panic!("{m}"))
        .expect("finish");
    assert!(!rec
        .names(Sock::Main, libc::SOL_SOCKET)
        .contains(&libc::SO_MARK));
}

#[test]
fn v6_link_local_takes_the_devices_scope_and_no_probe() {
    let rec = Recorder {
        ifindex: vec![("eth9", 7)],
        device_has: false,
        ..Recorder::default()
    };
    let (r, rec, said) = prepare_with(&["-I", "eth9", "fe80::1"], false, false, rec);
    let s = r.expect("setup");
    match s.prepared.target.addr {
        SocketAddr::V6(a) => assert_eq!(a.scope_id(), 7),
        other => panic!("{other}"),
    }
    // upstream does not connect the probe to a link-local destination:
    // the source stays `::`, and the device warning follows.
    assert!(!rec
        .calls
        .iter()
        .any(|c| matches!(c, Call::Connect(Sock::Probe, _))));
    assert_eq!(
        said,
        ["Warning: source address might be selected on device other than: eth9"]
    );
    let mut pktinfo = vec![0u8; 20];
    pktinfo[16..].copy_from_slice(&7u32.to_ne_bytes());
    for s in [Sock::Probe, Sock::Main] {
        assert!(rec.has(&Call::Bytes(
            s,
            libc::IPPROTO_IPV6,
            libc::IPV6_PKTINFO,
            pktinfo.clone()
        )));
        assert!(rec.has(&Call::Bytes(
            s,
            libc::SOL_SOCKET,
            libc::SO_BINDTODEVICE,
            b"eth9\0".to_vec()
        )));
    }
    // A raw socket: the checksum offset, and ICMP6_FILTER passing echo
    // replies only.
    assert!(rec.has(&Call::Int(
        Sock::Main,
        libc::SOL_RAW,
        libc::IPV6_CHECKSUM,
        2
    )));
    let mut filter = [u32::MAX; 8];
    filter[129 >> 5] &= !(1 << (129 & 31));
    let bytes: Vec<u8> = filter.iter().flat_map(|w| w.to_ne_bytes()).collect();
    assert!(rec.has(&Call::Bytes(Sock::Main, libc::IPPROTO_ICMPV6, 1, bytes)));
    assert!(rec.has(&Call::Int(
        Sock::Main,
        libc::IPPROTO_IPV6,
        libc::IPV6_RECVHOPLIMIT,
        1
    )));
    assert_eq!(s.prepared.ifnames, [(7, "eth9".to_string())]);
    assert_eq!(
        s.header,
        "PING fe80::1 (fe80::1) from :: eth9: 56 data bytes"
    );

    // An unknown device is upstream's refusal.
    let (r, _, _) = prepare_with(
        &["-I", "eth8", "fe80::1"],
        false,
        false,
        Recorder::default(),
    );
    assert_eq!(r.err().expect("refused").to_string(), "unknown iface: eth8");
}

#[test]
fn v6_flow_label_is_requested_and_sent() {
    let rec = Recorder {
        source: Some(v6("2001:db8::1")),
        device_has: true,
        ..Recorder::default()
    };
    let (r, rec, _) = prepare_with(&["-F", "0x12345", "2001:db8::9"], false, true, rec);
    let s = r.expect("setup");
    let mut req = vec![0u8; 32];
    req[..16].copy_from_slice(&"2001:db8::9".parse::<Ipv6Addr>().unwrap().octets());
    req[16..20].copy_from_slice(&0x12345u32.to_be_bytes());
    req[21] = 1;
    req[22..24].copy_from_slice(&1u16.to_ne_bytes());
    assert!(rec.has(&Call::Bytes(Sock::Main, libc::IPPROTO_IPV6, 32, req)));
    assert!(rec.has(&Call::Int(Sock::Main, libc::IPPROTO_IPV6, 33, 1)));
    match s.prepared.target.addr {
        SocketAddr::V6(a) => assert_eq!(a.flowinfo(), 0x12345u32.to_be()),
        other => panic!("{other}"),
    }
    assert_eq!(
        s.header,
        "PING 2001:db8::9 (2001:db8::9) , flow 0x12345, 56 data bytes"
    );
}

#[test]
fn v4_ignores_the_flow_label() {
    // Only ping6 sets and prints one; ping4 takes -F and says nothing.
    let (r, rec, _) = prepare_with(&["-F", "0x12345", "198.18.0.9"], false, false, v4_probe());
    assert_eq!(
        r.expect("setup").header,
        "PING 198.18.0.9 (198.18.0.9) 56(84) bytes of data."
    );
    assert!(!rec.has(&Call::Int(Sock::Main, libc::IPPROTO_IPV6, 33, 1)));
}

#[test]
fn v6_multicast_as_a_user_needs_a_second() {
    let (r, _, _) = prepare_with(&["-i", "0.5", "ff02::1"], false, false, Recorder::default());
    assert_eq!(
        r.err().expect("refused").to_string(),
        "minimal interval for multicast ping for user must be >= 1000 ms, use -i 1 (or higher)"
    );
    let (r, rec, _) = prepare_with(&["-i", "0.5", "ff02::1"], false, true, Recorder::default());
    assert!(r.expect("root may").prepared.multicast);
    assert!(rec.has(&Call::Int(
        Sock::Main,
        libc::IPPROTO_IPV6,
        libc::IPV6_MTU_DISCOVER,
        libc::IP_PMTUDISC_DO
    )));
}

#[test]
fn finish_sets_debug_dontroute_timestamps_the_send_timeout_and_connects() {
    let (r, mut rec, _) = prepare_with(
        &["-d", "-r", "-C", "-i", "0.2", "198.18.0.9"],
        false,
        false,
        v4_probe(),
    );
    let mut s = r.expect("setup");
    rec.calls.clear();
    s.socket_options(&mut rec, &mut |m| panic!("{m}"))
        .expect("finish");
    for name in [libc::SO_DEBUG, libc::SO_DONTROUTE, libc::SO_TIMESTAMPNS] {
        assert!(rec.has(&Call::Int(Sock::Main, libc::SOL_SOCKET, name, 1)));
    }
    // 200 ms between sends: a send may block for as long.
    let mut tv = 0i64.to_ne_bytes().to_vec();
    tv.extend_from_slice(&200_000i64.to_ne_bytes());
    assert!(rec.has(&Call::Bytes(
        Sock::Main,
        libc::SOL_SOCKET,
        libc::SO_SNDTIMEO,
        tv
    )));
    assert!(rec.has(&Call::Connect(Sock::Main, v4(DST4))));

    // -U times replies on arrival: no kernel timestamps asked for.
    let (r, mut rec, _) = prepare_with(&["-U", "198.18.0.9"], false, false, v4_probe());
    let mut s = r.expect("setup");
    rec.calls.clear();
    s.socket_options(&mut rec, &mut |m| panic!("{m}"))
        .expect("finish");
    assert!(!rec
        .names(Sock::Main, libc::SOL_SOCKET)
        .contains(&libc::SO_TIMESTAMPNS));
}
