//! The tool descriptors: one [`Tool`] value per privileged program, the
//! single source of truth for everything tool-specific.
//!
//! The launcher's sequence walks a descriptor's [`Resource`]s; the handoff
//! names and validates the sockets from it; the install paths are baked
//! into it at build time (`build.rs`); the file capability `make install`
//! sets, the SELinux types and the TOMOYO domains are rendered from it
//! (`privsep-render tools`); the worker's sandbox profile hangs off it.
//! Adding a tool is a new `const` here, a worker module, a launcher `main`
//! of a few lines, and its tests.

#![forbid(unsafe_code)]

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::sandbox::profile::{self as sandbox_profile, Profile};

/// A capability the launcher may hold in its file capability. Each is
/// raised into the effective set only around the one call that needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Capability {
    /// `CAP_NET_RAW`: raw and packet sockets.
    NetRaw,
    /// `CAP_SYS_NICE`: a negative nice value.
    SysNice,
}

impl Capability {
    /// The capability's number (`linux/capability.h`).
    pub const fn number(self) -> u32 {
        match self {
            Capability::NetRaw => 13,
            Capability::SysNice => 23,
        }
    }

    /// Its name as `setcap` and `getcap` spell it.
    pub const fn setcap_name(self) -> &'static str {
        match self {
            Capability::NetRaw => "cap_net_raw",
            Capability::SysNice => "cap_sys_nice",
        }
    }

    /// Its name as the kernel documentation spells it.
    pub const fn kernel_name(self) -> &'static str {
        match self {
            Capability::NetRaw => "CAP_NET_RAW",
            Capability::SysNice => "CAP_SYS_NICE",
        }
    }

    /// Its name in SELinux's `capability` class.
    pub const fn selinux_name(self) -> &'static str {
        match self {
            Capability::NetRaw => "net_raw",
            Capability::SysNice => "sys_nice",
        }
    }

    /// The bit in a 64-bit capability mask.
    pub const fn mask(self) -> u64 {
        1 << self.number()
    }
}

/// One classic BPF instruction (`struct sock_filter`), kept as plain data
/// so that descriptors stay `const`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BpfInsn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

/// What the launcher does to a socket after creating it and before the drop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketSetup {
    /// Nothing: the worker sets every option it needs.
    None,
    /// Attach this classic BPF program (`SO_ATTACH_FILTER`) and lock it
    /// (`SO_LOCK_FILTER`), so that no later holder of the socket, a
    /// compromised worker included, can replace or remove it.
    LockedFilter(&'static [BpfInsn]),
}

/// One way of opening a socket: its `socket()` type and what it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketKind {
    /// `socket()`'s type (`SOCK_DGRAM`, `SOCK_RAW`).
    pub ty: i32,
    /// The capability raised around `socket()`; `None`: none at all (every
    /// capability is lowered for the call), the kernel decides by other
    /// means (an ICMP datagram socket: `net.ipv4.ping_group_range`).
    pub capability: Option<Capability>,
    /// What it is, for messages: "raw ICMPv4", "ICMPv4 datagram".
    pub what: &'static str,
    /// Its name in upstream's messages (`SOCK_RAW`, `SOCK_DGRAM`).
    pub type_name: &'static str,
    /// The SELinux class of the socket (the launcher domain creates it,
    /// the worker domain only uses it).
    pub selinux_class: &'static str,
}

/// A socket the launcher creates and hands over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketSpec {
    /// Its name in `LISTEN_FDNAMES`.
    pub name: &'static str,
    /// What it is, for messages: "raw ICMPv4", "ICMPv4".
    pub what: &'static str,
    /// `socket()`'s domain and protocol, exactly as passed (the protocol
    /// of a packet socket is in network byte order). The worker checks
    /// `SO_DOMAIN`, `SO_PROTOCOL` (for a packet socket, whose
    /// `SO_PROTOCOL` is always 0, `getsockname`'s `sll_protocol`) against
    /// them and `SO_TYPE` against the kinds.
    pub domain: i32,
    pub protocol: i32,
    /// The ways to open it, tried in this order (upstream's): the next is
    /// tried only when the previous one failed with an errno of
    /// `fall_back_on`. The handed-over descriptor's `SO_TYPE` says which
    /// one was opened.
    pub kinds: &'static [SocketKind],
    /// The errnos after which the next kind is tried.
    pub fall_back_on: &'static [i32],
    /// Whether the tool can run without it (ping without IPv6, say).
    pub optional: bool,
    /// Launcher-side setup before the drop.
    pub setup: SocketSetup,
}

impl SocketSpec {
    /// The kind whose `socket()` type is `ty`.
    pub fn kind_of_type(&self, ty: i32) -> Option<&'static SocketKind> {
        let kinds: &'static [SocketKind] = self.kinds;
        kinds.iter().find(|k| k.ty == ty)
    }

    /// The capabilities any of its kinds raises.
    pub fn capabilities(&self) -> impl Iterator<Item = Capability> + '_ {
        self.kinds.iter().filter_map(|k| k.capability)
    }

    /// The last kind: the one tried when every other failed, and the one
    /// whose refusal a message explains.
    pub fn last_kind(&self) -> &'static SocketKind {
        let kinds: &'static [SocketKind] = self.kinds;
        match kinds.last() {
            Some(k) => k,
            None => &NO_KIND,
        }
    }
}

/// What [`SocketSpec::last_kind`] answers for a spec without kinds (the
/// descriptor tests refuse one).
const NO_KIND: SocketKind = SocketKind {
    ty: 0,
    capability: None,
    what: "no socket",
    type_name: "0",
    selinux_class: "socket",
};

/// The channel between a worker and its broker: one end each of an
/// `AF_UNIX` `SOCK_SEQPACKET` socketpair that the launcher makes after its
/// drop, handed over under this name last in both handoffs. It is not a
/// [`Resource`]: nothing privileged makes it (no capability), and the
/// privileged phase only walks `Tool::resources`.
pub const BROKER_CHANNEL: SocketSpec = SocketSpec {
    name: "broker",
    what: "broker channel",
    domain: libc::AF_UNIX,
    protocol: 0,
    kinds: &[SocketKind {
        ty: libc::SOCK_SEQPACKET,
        capability: None,
        what: "broker channel",
        type_name: "SOCK_SEQPACKET",
        // SELinux files an AF_UNIX SOCK_SEQPACKET socket under this class.
        selinux_class: "unix_stream_socket",
    }],
    fall_back_on: &[],
    optional: false,
    setup: SocketSetup::None,
};

/// A brokered resource: a socket the launcher acquires but the worker
/// never holds. A separate unprivileged program, the broker, receives it
/// (with its end of [`BROKER_CHANNEL`]), locks itself down like a worker
/// and performs on it only the operations the tool's protocol allows, on
/// the worker's fixed-size requests. The launcher forks after its drop:
/// the child execs the broker, the parent the worker; so nothing with a
/// capability ever talks to the worker, and the broker's own program gives
/// it its own SELinux and TOMOYO domain by exec transition.
#[derive(Debug)]
pub struct Broker {
    /// The broker's file name under `LIBEXECDIR/privsep`: `arping-broker`.
    pub name: &'static str,
    /// Its absolute path, fixed at build time: the only program the
    /// launcher's child execs.
    pub path: &'static str,
    /// The sockets (by handoff name) that go to the broker instead of the
    /// worker, in acquisition order.
    pub holds: &'static [&'static str],
    /// The sockets the broker itself opens, unprivileged, one per worker
    /// request it validated (mtr-packet's TCP and SCTP probes); none for a
    /// broker that only uses what it holds. The policies grant these
    /// kinds to the broker's domain and to no worker.
    pub creates: &'static [SocketSpec],
    /// The broker's sandbox profile.
    pub sandbox: &'static Profile,
}

/// Something the launcher acquires with privilege, in the order listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// A socket, handed over as a descriptor.
    Socket(SocketSpec),
    /// The process's nice value (`setpriority(PRIO_PROCESS, 0, nice)`),
    /// which survives the exec: the worker inherits it.
    Priority { nice: i32, capability: Capability },
}

impl Resource {
    /// The capability raised around acquiring it (a socket: around its
    /// last kind, the one that needs the most).
    pub fn capability(&self) -> Option<Capability> {
        match self {
            Resource::Socket(spec) => spec.last_kind().capability,
            Resource::Priority { capability, .. } => Some(*capability),
        }
    }
}

/// One privileged program split into launcher and worker.
#[derive(Debug)]
pub struct Tool {
    /// Short name: `ping`.
    pub name: &'static str,
    /// The launcher's file name in `BINDIR`: `privsep-ping`.
    pub launcher_name: &'static str,
    /// Its absolute path, fixed at build time.
    pub launcher_path: &'static str,
    /// The worker's file name under `LIBEXECDIR/privsep`: `ping-worker`.
    pub worker_name: &'static str,
    /// Its absolute path, fixed at build time: the only program the
    /// launcher execs.
    pub worker_path: &'static str,
    /// The capabilities of the launcher's file capability (`=p`).
    pub file_caps: &'static [Capability],
    /// What the launcher acquires, in order.
    pub resources: &'static [Resource],
    /// The worker's sandbox profile.
    pub sandbox: &'static Profile,
    /// Prefix of the tool's SELinux types and interfaces: `privsep_ping`.
    pub selinux_prefix: &'static str,
    /// Whether the worker resolves names (TOMOYO and SELinux grant the
    /// resolver's files and DNS only then).
    pub resolves_names: bool,
    /// The broker that holds the resources the worker must not, if any.
    pub broker: Option<&'static Broker>,
    /// What the build, the packages, the documentation and the tests need
    /// to know about the tool besides its privileges.
    pub facts: &'static Facts,
}

/// A tool's facts outside the privileged split: the Makefile, the
/// packaging, the man page, the policy checkers and the test suites read
/// them (`privsep-render layout --tool T`, `privsep-render tools`), so that
/// none of them lists the tools or restates a tool's properties by hand.
#[derive(Debug)]
pub struct Facts {
    /// The man page's NAME line (after `privsep-<tool> \-`), also what
    /// whatis and apropos show.
    pub summary: &'static str,
    /// One run that succeeds as an unprivileged user: `make demo`, the
    /// package test and the bench run it.
    pub smoke: Smoke,
    /// The arguments of a run that stays in its loop until it is killed
    /// (standard input held open, in the first namespace of a veth pair,
    /// its peer 198.18.0.2 on `veth0`, named `peer.test` there): the
    /// "running worker is sandboxed" test inspects the worker and every
    /// process below it then. Plain words, as [`Smoke::args`].
    pub hold: &'static [&'static str],
    /// The stock program names (iputils', and fping's) that become links to
    /// this launcher with `make install IPUTILS_NAMES=1` and the
    /// privsep-iputils package (ping: `ping ping4 ping6`; fping: `fping
    /// fping6`); empty for a tool whose stock name stays the stock
    /// program's (mtr-packet: mtr finds privsep's through `MTR_PACKET`).
    pub iputils_names: &'static [&'static str],
    /// The SELinux classes of the sockets the worker creates itself, apart
    /// from name resolution's (arping: its netlink and source-address
    /// sockets): the SELinux checker accepts exactly these, which the
    /// tool's hand-written rules in `selinux/privsep.te` grant.
    pub own_socket_classes: &'static [&'static str],
    /// The TOMOYO `network inet` rules the worker needs apart from name
    /// resolution's, which `tomoyo/worker-<tool>.conf.in` grants and the
    /// TOMOYO checker accepts.
    pub own_inet: &'static [InetRule],
}

/// How to run a tool once on a machine with nothing but loopback (and, for
/// [`Smoke::peer`], the veth pair of `scripts/netns-pair.sh`).
#[derive(Debug)]
pub struct Smoke {
    /// The arguments (no shell quoting needed: no spaces, no quotes).
    pub args: &'static [&'static str],
    /// One line sent on standard input (mtr-packet's request), or `""`.
    pub stdin: &'static str,
    /// Whether it runs in the first namespace of a veth pair, its peer
    /// 198.18.0.2 on `veth0`.
    pub peer: bool,
    /// A line of its output that shows it worked (an extended regular
    /// expression, as `grep -E` takes it).
    pub expect: &'static str,
}

/// One TOMOYO `network inet` rule: protocol (`dgram`, `stream`),
/// operation (`bind`, `send`, `connect`) and the port range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InetRule {
    pub protocol: &'static str,
    pub operation: &'static str,
    pub ports: (u16, u16),
}

macro_rules! baked {
    (bin $name:literal) => {
        concat!(env!("PRIVSEP_BAKED_BINDIR"), "/", $name)
    };
    (libexec $name:literal) => {
        concat!(env!("PRIVSEP_BAKED_LIBEXECDIR"), "/privsep/", $name)
    };
}

/// A raw ICMPv4 socket: `CAP_NET_RAW`.
pub const RAW_ICMP4: SocketKind = SocketKind {
    ty: libc::SOCK_RAW,
    capability: Some(Capability::NetRaw),
    what: "raw ICMPv4",
    type_name: "SOCK_RAW",
    selinux_class: "rawip_socket",
};

/// An ICMPv4 datagram socket ("ping socket"): no capability; the kernel
/// admits the groups of `net.ipv4.ping_group_range` only.
pub const DGRAM_ICMP4: SocketKind = SocketKind {
    ty: libc::SOCK_DGRAM,
    capability: None,
    what: "ICMPv4 datagram",
    type_name: "SOCK_DGRAM",
    selinux_class: "icmp_socket",
};

/// A raw ICMPv6 socket: `CAP_NET_RAW`.
pub const RAW_ICMP6: SocketKind = SocketKind {
    ty: libc::SOCK_RAW,
    capability: Some(Capability::NetRaw),
    what: "raw ICMPv6",
    type_name: "SOCK_RAW",
    selinux_class: "rawip_socket",
};

/// An ICMPv6 datagram socket: no capability, `ping_group_range` (the
/// IPv4 setting admits both families).
pub const DGRAM_ICMP6: SocketKind = SocketKind {
    ty: libc::SOCK_DGRAM,
    capability: None,
    what: "ICMPv6 datagram",
    type_name: "SOCK_DGRAM",
    selinux_class: "icmp_socket",
};

/// iputils' `create_socket` falls back from a datagram to a raw ICMPv4
/// socket on `EACCES` (the caller's groups are outside
/// `ping_group_range`), `EAFNOSUPPORT` (kernels without ping sockets) and
/// `EPROTONOSUPPORT` (the same, in some containers).
pub const ICMP4_FALL_BACK: &[i32] = &[libc::EACCES, libc::EAFNOSUPPORT, libc::EPROTONOSUPPORT];

/// For IPv6 not on `EAFNOSUPPORT`: there it means IPv6 is off
/// (`ipv6.disable=1`), and a raw socket fails alike.
pub const ICMP6_FALL_BACK: &[i32] = &[libc::EACCES, libc::EPROTONOSUPPORT];

/// `icmp4` of clockdiff: `socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)` only
/// (it sends timestamp requests, which a datagram socket refuses).
pub const ICMP4_RAW: SocketSpec = SocketSpec {
    name: "icmp4",
    what: "raw ICMPv4",
    domain: libc::AF_INET,
    protocol: libc::IPPROTO_ICMP,
    kinds: &[RAW_ICMP4],
    fall_back_on: &[],
    optional: false,
    setup: SocketSetup::None,
};

/// `icmp4` of ping: an ICMPv4 datagram socket where the kernel admits the
/// caller, else a raw one with `CAP_NET_RAW` (iputils' order and rules).
pub const ICMP4: SocketSpec = SocketSpec {
    name: "icmp4",
    what: "ICMPv4",
    domain: libc::AF_INET,
    protocol: libc::IPPROTO_ICMP,
    kinds: &[DGRAM_ICMP4, RAW_ICMP4],
    fall_back_on: ICMP4_FALL_BACK,
    optional: true,
    setup: SocketSetup::None,
};

/// `icmp6` of ping: the same for ICMPv6.
pub const ICMP6: SocketSpec = SocketSpec {
    name: "icmp6",
    what: "ICMPv6",
    domain: libc::AF_INET6,
    protocol: libc::IPPROTO_ICMPV6,
    kinds: &[DGRAM_ICMP6, RAW_ICMP6],
    fall_back_on: ICMP6_FALL_BACK,
    optional: true,
    setup: SocketSetup::None,
};

/// `ETH_P_ARP` in network byte order, as `socket()` takes it.
pub const ETH_P_ARP_BE: i32 = (libc::ETH_P_ARP as u16).to_be() as i32;

/// The locked filter of arping's packet socket: accept a frame only if
/// `skb->protocol` is ARP, whatever the socket is later bound to.
///
/// ```text
/// ld  [SKF_AD_OFF + SKF_AD_PROTOCOL]   ; A = skb->protocol (host order)
/// jeq #ETH_P_ARP, accept, drop
/// accept: ret #0xffffffff
/// drop:   ret #0
/// ```
pub const ARP_ONLY_FILTER: &[BpfInsn] = &[
    // BPF_LD | BPF_H | BPF_ABS at SKF_AD_OFF (-0x1000) + SKF_AD_PROTOCOL (0)
    BpfInsn {
        code: 0x28,
        jt: 0,
        jf: 0,
        k: 0xffff_f000,
    },
    // BPF_JMP | BPF_JEQ | BPF_K
    BpfInsn {
        code: 0x15,
        jt: 0,
        jf: 1,
        k: libc::ETH_P_ARP as u32,
    },
    // BPF_RET | BPF_K: the whole frame
    BpfInsn {
        code: 0x06,
        jt: 0,
        jf: 0,
        k: 0xffff_ffff,
    },
    // BPF_RET | BPF_K: nothing
    BpfInsn {
        code: 0x06,
        jt: 0,
        jf: 0,
        k: 0,
    },
];

/// `socket(AF_PACKET, SOCK_DGRAM, 0)` with the ARP-only filter locked on
/// it: protocol 0, as iputils opens it, hooks it to no protocol, so it
/// receives nothing until the broker binds it to `ETH_P_ARP` on the
/// worker's interface. Opened for `ETH_P_ARP` it would receive ARP from
/// every interface until then, and that bind would first unhook it,
/// waiting for an RCU grace period (`synchronize_net`) on the way to the
/// first probe: several milliseconds, tens on a loaded machine. Brokered: a packet socket sends any frame to any
/// interface whatever filter it receives through, so arping's broker holds
/// it and sends only the ARP frames of the worker's mode.
pub const ARP: SocketSpec = SocketSpec {
    name: "arp",
    what: "ARP packet",
    domain: libc::AF_PACKET,
    protocol: 0,
    kinds: &[SocketKind {
        ty: libc::SOCK_DGRAM,
        capability: Some(Capability::NetRaw),
        what: "ARP packet",
        type_name: "SOCK_DGRAM",
        selinux_class: "packet_socket",
    }],
    fall_back_on: &[],
    optional: false,
    setup: SocketSetup::LockedFilter(ARP_ONLY_FILTER),
};

/// A classic BPF program that accepts nothing: locked on a socket that
/// only ever sends, so that whoever holds it receives nothing through it.
///
/// ```text
/// ret #0
/// ```
pub const DROP_ALL_FILTER: &[BpfInsn] = &[BpfInsn {
    code: 0x06,
    jt: 0,
    jf: 0,
    k: 0,
}];

/// A raw UDPv4 socket: `CAP_NET_RAW`.
pub const RAW_UDP4: SocketKind = SocketKind {
    ty: libc::SOCK_RAW,
    capability: Some(Capability::NetRaw),
    what: "raw UDPv4",
    type_name: "SOCK_RAW",
    selinux_class: "rawip_socket",
};

/// A raw UDPv6 socket: `CAP_NET_RAW`.
pub const RAW_UDP6: SocketKind = SocketKind {
    what: "raw UDPv6",
    ..RAW_UDP4
};

/// `icmp6` of mtr-packet: `socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6)`
/// only (its worker speaks the raw sockets' protocol; upstream's datagram
/// fallback is not built).
pub const ICMP6_RAW: SocketSpec = SocketSpec {
    name: "icmp6",
    what: "raw ICMPv6",
    domain: libc::AF_INET6,
    protocol: libc::IPPROTO_ICMPV6,
    kinds: &[RAW_ICMP6],
    fall_back_on: &[],
    optional: true,
    setup: SocketSetup::None,
};

/// `socket(AF_INET, SOCK_RAW, IPPROTO_UDP)`, send only: mtr-packet's UDP
/// probes. A raw UDP socket receives a copy of every UDP datagram the host
/// receives; the locked drop-all filter makes it deaf. (Upstream sends
/// IPv4 probes on an `IPPROTO_RAW` socket, which sends any IP packet with
/// any source address: that one is not handed to a worker.)
pub const UDP4_SEND: SocketSpec = SocketSpec {
    name: "udp4",
    what: "raw UDPv4 (send only)",
    domain: libc::AF_INET,
    protocol: libc::IPPROTO_UDP,
    kinds: &[RAW_UDP4],
    fall_back_on: &[],
    optional: true,
    setup: SocketSetup::LockedFilter(DROP_ALL_FILTER),
};

/// `socket(AF_INET6, SOCK_RAW, IPPROTO_UDP)`, send only, as [`UDP4_SEND`]
/// (upstream's own `udp6_send_socket`).
pub const UDP6_SEND: SocketSpec = SocketSpec {
    name: "udp6",
    what: "raw UDPv6 (send only)",
    domain: libc::AF_INET6,
    kinds: &[RAW_UDP6],
    ..UDP4_SEND
};

/// The nice value iputils clockdiff sets for itself (`nice(-16)`).
pub const CLOCKDIFF_NICE: i32 = -16;

/// `ping`: ICMPv4 and ICMPv6 sockets, each optional, each a datagram
/// socket where the kernel admits the caller and raw otherwise.
pub const PING: Tool = Tool {
    name: "ping",
    launcher_name: "privsep-ping",
    launcher_path: baked!(bin "privsep-ping"),
    worker_name: "ping-worker",
    worker_path: baked!(libexec "ping-worker"),
    file_caps: &[Capability::NetRaw],
    resources: &[Resource::Socket(ICMP4), Resource::Socket(ICMP6)],
    sandbox: &sandbox_profile::PING,
    selinux_prefix: "privsep_ping",
    resolves_names: true,
    broker: None,
    facts: &Facts {
        summary: "send ICMP ECHO_REQUEST to network hosts, with privilege separation",
        smoke: Smoke {
            args: &["-c", "1", "127.0.0.1"],
            stdin: "",
            peer: false,
            expect: " 1 received",
        },
        // A name: its replies are named by the resolver co-process, which
        // the test then finds below the worker.
        hold: &["-i", "0.3", "peer.test"],
        iputils_names: &["ping", "ping4", "ping6"],
        own_socket_classes: &[],
        own_inet: &[
            // Its source address, found as iputils does: a UDP socket
            // connected (checked as `send`) to port 1025 of the target.
            InetRule {
                protocol: "dgram",
                operation: "send",
                ports: (1025, 1025),
            },
            // A handed ICMP datagram socket bound as iputils binds it:
            // `-I ADDRESS` (port 0) and `-e ID` (the identifier is the
            // socket's port, any of 1-65535).
            InetRule {
                protocol: "dgram",
                operation: "bind",
                ports: (0, 65535),
            },
        ],
    },
};

/// arping's broker: holds the packet socket, sends only ARP requests (and,
/// for root, replies) from the interface's own hardware address, and passes
/// the received ARP frames back.
pub const ARPING_BROKER: Broker = Broker {
    name: "arping-broker",
    path: baked!(libexec "arping-broker"),
    holds: &["arp"],
    creates: &[],
    sandbox: &sandbox_profile::ARPING_BROKER,
};

/// `arping`: one packet socket that only ever sees ARP, held by its broker.
pub const ARPING: Tool = Tool {
    name: "arping",
    launcher_name: "privsep-arping",
    launcher_path: baked!(bin "privsep-arping"),
    worker_name: "arping-worker",
    worker_path: baked!(libexec "arping-worker"),
    file_caps: &[Capability::NetRaw],
    resources: &[Resource::Socket(ARP)],
    sandbox: &sandbox_profile::ARPING,
    selinux_prefix: "privsep_arping",
    resolves_names: true,
    broker: Some(&ARPING_BROKER),
    facts: &Facts {
        summary: "send ARP REQUEST to a neighbour host, with privilege separation",
        smoke: Smoke {
            args: &["-c", "1", "-I", "veth0", "198.18.0.2"],
            stdin: "",
            peer: true,
            expect: "^Received 1 response\\(s\\)$",
        },
        hold: &["-I", "veth0", "198.18.0.2"],
        iputils_names: &["arping"],
        // It lists interfaces and addresses over netlink and finds its
        // source address with a UDP socket bound to port 0 and connected
        // (checked as `send`) to port 1025 of the target, as iputils does.
        own_socket_classes: &["netlink_route_socket", "udp_socket"],
        own_inet: &[
            InetRule {
                protocol: "dgram",
                operation: "bind",
                ports: (0, 0),
            },
            InetRule {
                protocol: "dgram",
                operation: "send",
                ports: (1025, 1025),
            },
        ],
    },
};

/// `clockdiff`: a raw ICMPv4 socket and nice -16.
pub const CLOCKDIFF: Tool = Tool {
    name: "clockdiff",
    launcher_name: "privsep-clockdiff",
    launcher_path: baked!(bin "privsep-clockdiff"),
    worker_name: "clockdiff-worker",
    worker_path: baked!(libexec "clockdiff-worker"),
    file_caps: &[Capability::NetRaw, Capability::SysNice],
    resources: &[
        Resource::Priority {
            nice: CLOCKDIFF_NICE,
            capability: Capability::SysNice,
        },
        Resource::Socket(ICMP4_RAW),
    ],
    sandbox: &sandbox_profile::CLOCKDIFF,
    selinux_prefix: "privsep_clockdiff",
    resolves_names: true,
    broker: None,
    facts: &Facts {
        summary: "measure the clock difference between hosts, with privilege separation",
        smoke: Smoke {
            args: &["127.0.0.1"],
            stdin: "",
            peer: false,
            expect: "^[0-9]+ -?[0-9]+ -?[0-9]+$",
        },
        // An address on the link that nobody has: it keeps measuring
        // (waiting for replies) for seconds.
        hold: &["198.18.0.9"],
        iputils_names: &["clockdiff"],
        own_socket_classes: &[],
        own_inet: &[],
    },
};

/// A TCP socket: no capability.
pub const TCP: SocketKind = SocketKind {
    ty: libc::SOCK_STREAM,
    capability: None,
    what: "TCP",
    type_name: "SOCK_STREAM",
    selinux_class: "tcp_socket",
};

/// An SCTP socket of the one-to-one style: no capability.
pub const SCTP: SocketKind = SocketKind {
    what: "SCTP",
    selinux_class: "sctp_socket",
    ..TCP
};

/// `socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)`, opened by mtr-packet's
/// broker for one TCP probe.
pub const TCP4_PROBE: SocketSpec = SocketSpec {
    name: "tcp4",
    what: "TCPv4 probe",
    domain: libc::AF_INET,
    protocol: libc::IPPROTO_TCP,
    kinds: &[TCP],
    fall_back_on: &[],
    optional: true,
    setup: SocketSetup::None,
};

/// `socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP)`.
pub const TCP6_PROBE: SocketSpec = SocketSpec {
    name: "tcp6",
    what: "TCPv6 probe",
    domain: libc::AF_INET6,
    ..TCP4_PROBE
};

/// `socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP)`.
pub const SCTP4_PROBE: SocketSpec = SocketSpec {
    name: "sctp4",
    what: "SCTPv4 probe",
    protocol: libc::IPPROTO_SCTP,
    kinds: &[SCTP],
    ..TCP4_PROBE
};

/// `socket(AF_INET6, SOCK_STREAM, IPPROTO_SCTP)`.
pub const SCTP6_PROBE: SocketSpec = SocketSpec {
    name: "sctp6",
    what: "SCTPv6 probe",
    domain: libc::AF_INET6,
    ..SCTP4_PROBE
};

/// mtr-packet's broker: opens one TCP or SCTP socket per probe the worker
/// asks for (connect-to-target, with the probe's TTL, TOS and local
/// address, every field validated), reports how the attempt ended and
/// closes it; it never sends or receives a byte on it. It holds nothing
/// the launcher acquired.
pub const MTR_PACKET_BROKER: Broker = Broker {
    name: "mtr-packet-broker",
    path: baked!(libexec "mtr-packet-broker"),
    holds: &[],
    creates: &[TCP4_PROBE, TCP6_PROBE, SCTP4_PROBE, SCTP6_PROBE],
    sandbox: &sandbox_profile::MTR_PACKET_BROKER,
};

/// `mtr-packet`, mtr's probe engine: raw ICMP (send and receive) and raw
/// UDP (send only) per family, each optional as upstream's are (a family
/// without its sockets answers `check-support feature ip-N` with `no`);
/// TCP and SCTP probes through its broker.
pub const MTR_PACKET: Tool = Tool {
    name: "mtr-packet",
    launcher_name: "privsep-mtr-packet",
    launcher_path: baked!(bin "privsep-mtr-packet"),
    worker_name: "mtr-packet-worker",
    worker_path: baked!(libexec "mtr-packet-worker"),
    file_caps: &[Capability::NetRaw],
    resources: &[
        Resource::Socket(SocketSpec {
            optional: true,
            ..ICMP4_RAW
        }),
        Resource::Socket(ICMP6_RAW),
        Resource::Socket(UDP4_SEND),
        Resource::Socket(UDP6_SEND),
    ],
    sandbox: &sandbox_profile::MTR_PACKET,
    selinux_prefix: "privsep_mtr_packet",
    resolves_names: false,
    broker: Some(&MTR_PACKET_BROKER),
    facts: &Facts {
        summary: "send and receive network probes for mtr, with privilege separation",
        smoke: Smoke {
            args: &[],
            stdin: "1 send-probe ip-4 127.0.0.1",
            peer: false,
            expect: "^1 reply ip-4 127\\.0\\.0\\.1 round-trip-time [0-9]+$",
        },
        // It reads requests until its standard input ends.
        hold: &[],
        iputils_names: &[],
        // Its TCP and SCTP probes are its broker's (Broker::creates).
        own_socket_classes: &[],
        own_inet: &[],
    },
};

/// `fping`: ping's two ICMP sockets, each optional, each a datagram socket
/// where the kernel admits the caller and raw otherwise. Upstream fping
/// tries raw first and falls back to a datagram socket; with its file
/// capability (Debian gives it `cap_net_raw+ep`) raw always succeeds. The
/// launcher tries the datagram socket first instead: never more privilege
/// than the stock tool, none at all where `ping_group_range` admits the
/// caller (and with `DATAGRAM_CAPS=auto` no file capability where it admits
/// everyone). The worker speaks both kinds: the handed descriptor's
/// `SO_TYPE` says which one it got.
pub const FPING: Tool = Tool {
    name: "fping",
    launcher_name: "privsep-fping",
    launcher_path: baked!(bin "privsep-fping"),
    worker_name: "fping-worker",
    worker_path: baked!(libexec "fping-worker"),
    file_caps: &[Capability::NetRaw],
    resources: &[Resource::Socket(ICMP4), Resource::Socket(ICMP6)],
    sandbox: &sandbox_profile::FPING,
    selinux_prefix: "privsep_fping",
    resolves_names: true,
    broker: None,
    facts: &Facts {
        summary: "send ICMP ECHO_REQUEST packets to many network hosts, with privilege separation",
        smoke: Smoke {
            args: &["127.0.0.1"],
            stdin: "",
            peer: false,
            expect: "^127\\.0\\.0\\.1 is alive$",
        },
        hold: &["-l", "-p", "300", "127.0.0.1"],
        // Debian's fping package ships both; invoked as fping6, fping
        // (since 4.2) and privsep-fping ping IPv6 only.
        iputils_names: &["fping", "fping6"],
        own_socket_classes: &[],
        // It binds its ICMP datagram sockets (port 0, the wildcard or -S's
        // address) to learn the echo identifier the kernel gives them, as
        // fping 5.2 does: to TOMOYO an inet dgram bind.
        own_inet: &[InetRule {
            protocol: "dgram",
            operation: "bind",
            ports: (0, 0),
        }],
    },
};

/// Every tool, in the order they are installed and documented.
pub const ALL: &[&Tool] = &[&PING, &ARPING, &CLOCKDIFF, &MTR_PACKET, &FPING];

impl Tool {
    /// The descriptor named `name`.
    pub fn by_name(name: &str) -> Option<&'static Tool> {
        ALL.iter().copied().find(|t| t.name == name)
    }

    /// The sockets among the resources, in acquisition order.
    pub fn sockets(&self) -> impl Iterator<Item = &'static SocketSpec> + '_ {
        let resources: &'static [Resource] = self.resources;
        resources.iter().filter_map(|r| match r {
            Resource::Socket(s) => Some(s),
            Resource::Priority { .. } => None,
        })
    }

    /// The socket named `name` in `LISTEN_FDNAMES`.
    pub fn socket_named(&self, name: &str) -> Option<&'static SocketSpec> {
        self.sockets().find(|s| s.name == name)
    }

    /// Whether the socket named `name` goes to the broker.
    pub fn brokered(&self, name: &str) -> bool {
        self.broker.is_some_and(|b| b.holds.contains(&name))
    }

    /// What the worker's handoff may carry, in order: the sockets it holds
    /// itself, then the broker channel if the tool has a broker.
    pub fn worker_handoff(&self) -> Vec<&'static SocketSpec> {
        let mut specs: Vec<&'static SocketSpec> =
            self.sockets().filter(|s| !self.brokered(s.name)).collect();
        if self.broker.is_some() {
            specs.push(&BROKER_CHANNEL);
        }
        specs
    }

    /// What the broker's handoff carries, in order: the sockets it holds,
    /// then the channel. Empty without a broker.
    pub fn broker_handoff(&self) -> Vec<&'static SocketSpec> {
        let mut specs: Vec<&'static SocketSpec> =
            self.sockets().filter(|s| self.brokered(s.name)).collect();
        if self.broker.is_some() {
            specs.push(&BROKER_CHANNEL);
        }
        specs
    }

    /// The priority the launcher sets, if any.
    pub fn priority(&self) -> Option<i32> {
        self.resources.iter().find_map(|r| match r {
            Resource::Priority { nice, .. } => Some(*nice),
            Resource::Socket(_) => None,
        })
    }

    /// Whether every socket is tried first without any capability (ping:
    /// ICMP datagram sockets), and nothing else needs one: where the
    /// kernel admits every group to such sockets, the launcher can be
    /// installed without a file capability.
    pub fn datagram_first(&self) -> bool {
        self.resources.iter().all(|r| match r {
            Resource::Socket(s) => s.kinds.first().is_some_and(|k| k.capability.is_none()),
            Resource::Priority { .. } => false,
        })
    }

    /// Whether the worker words the launcher's failure to open any socket
    /// ([`crate::handoff::VAR_REFUSED`]): a tool whose sockets are all
    /// optional and datagram-first (ping, fping), as iputils'
    /// `create_socket` (fping's `crash_and_burn`) reports it after the
    /// whole command line is parsed.
    pub fn reports_refusals(&self) -> bool {
        self.datagram_first() && self.broker.is_none() && self.sockets().all(|s| s.optional)
    }

    /// The file capability in `setcap` syntax: `cap_net_raw,cap_sys_nice=p`.
    pub fn setcap_text(&self) -> String {
        let names: Vec<&str> = self.file_caps.iter().map(|c| c.setcap_name()).collect();
        format!("{}=p", names.join(","))
    }

    /// The file capability as a mask.
    pub fn file_caps_mask(&self) -> u64 {
        self.file_caps.iter().fold(0, |m, c| m | c.mask())
    }

    /// The SELinux launcher domain: `privsep_ping_t`.
    pub fn selinux_launcher_type(&self) -> String {
        format!("{}_t", self.selinux_prefix)
    }

    /// The SELinux worker domain: `privsep_ping_worker_t`.
    pub fn selinux_worker_type(&self) -> String {
        format!("{}_worker_t", self.selinux_prefix)
    }

    /// The SELinux broker domain: `privsep_arping_broker_t`.
    pub fn selinux_broker_type(&self) -> String {
        format!("{}_broker_t", self.selinux_prefix)
    }

    /// The broker's TOMOYO domain (below the launcher's, as the worker's:
    /// the launcher's child execs it), if the tool has a broker.
    pub fn tomoyo_broker_domain(&self) -> Option<String> {
        self.broker
            .map(|b| format!("<kernel> {} {}", self.launcher_path, b.path))
    }

    /// The launcher's TOMOYO domain.
    pub fn tomoyo_launcher_domain(&self) -> String {
        format!("<kernel> {}", self.launcher_path)
    }

    /// The worker's TOMOYO domain (below the launcher's).
    pub fn tomoyo_worker_domain(&self) -> String {
        format!("<kernel> {} {}", self.launcher_path, self.worker_path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_resource_capability_is_in_the_file_capability() {
        for tool in ALL {
            for r in tool.resources {
                let caps: Vec<Capability> = match r {
                    Resource::Socket(s) => s.capabilities().collect(),
                    Resource::Priority { capability, .. } => vec![*capability],
                };
                for cap in caps {
                    assert!(tool.file_caps.contains(&cap), "{}: {cap:?}", tool.name);
                }
            }
            for cap in tool.file_caps {
                let used = tool.resources.iter().any(|r| match r {
                    Resource::Socket(s) => s.capabilities().any(|c| c == *cap),
                    Resource::Priority { capability, .. } => capability == cap,
                });
                assert!(used, "{}: {cap:?} is never raised", tool.name);
            }
        }
    }

    #[test]
    fn names_and_paths_follow_the_convention() {
        for tool in ALL {
            assert_eq!(tool.launcher_name, format!("privsep-{}", tool.name));
            assert_eq!(tool.worker_name, format!("{}-worker", tool.name));
            assert!(tool
                .launcher_path
                .ends_with(&format!("/{}", tool.launcher_name)));
            assert!(tool
                .worker_path
                .ends_with(&format!("/privsep/{}", tool.worker_name)));
            assert!(tool.launcher_path.starts_with(crate::layout::BINDIR));
            assert!(tool.worker_path.starts_with(crate::layout::LIBEXECDIR));
            assert_eq!(
                tool.selinux_prefix,
                format!("privsep_{}", tool.name.replace('-', "_"))
            );
            assert!(tool.sockets().count() >= 1, "{}", tool.name);
            let mut names: Vec<_> = tool.sockets().map(|s| s.name).collect();
            names.dedup();
            assert_eq!(names.len(), tool.sockets().count());
            assert!(Tool::by_name(tool.name).is_some());
        }
    }

    #[test]
    fn setcap_text_lists_every_capability() {
        assert_eq!(PING.setcap_text(), "cap_net_raw=p");
        assert_eq!(CLOCKDIFF.setcap_text(), "cap_net_raw,cap_sys_nice=p");
        assert_eq!(CLOCKDIFF.file_caps_mask(), (1 << 13) | (1 << 23));
        assert_eq!(CLOCKDIFF.priority(), Some(-16));
        assert_eq!(PING.priority(), None);
    }

    #[test]
    fn every_socket_has_kinds_that_differ_and_fall_back_only_between_them() {
        for tool in ALL {
            for s in tool.sockets() {
                assert!(!s.kinds.is_empty(), "{}: {}", tool.name, s.name);
                let mut types: Vec<i32> = s.kinds.iter().map(|k| k.ty).collect();
                types.dedup();
                assert_eq!(types.len(), s.kinds.len(), "{}: {}", tool.name, s.name);
                assert_eq!(s.kind_of_type(s.kinds[0].ty), Some(&s.kinds[0]));
                // A fall-back rule without a second kind would be dead data.
                assert_eq!(s.kinds.len() > 1, !s.fall_back_on.is_empty(), "{}", s.name);
            }
        }
    }

    #[test]
    fn ping_tries_a_datagram_socket_first_without_a_capability() {
        for s in PING.sockets() {
            let [first, then] = s.kinds else {
                panic!("{}: {:?}", s.name, s.kinds)
            };
            assert_eq!((first.ty, first.capability), (libc::SOCK_DGRAM, None));
            assert_eq!(first.selinux_class, "icmp_socket");
            assert_eq!(
                (then.ty, then.capability),
                (libc::SOCK_RAW, Some(Capability::NetRaw))
            );
            assert!(s.fall_back_on.contains(&libc::EACCES));
            assert!(s.fall_back_on.contains(&libc::EPROTONOSUPPORT));
        }
        // iputils: EAFNOSUPPORT falls back for IPv4 only (for IPv6 it
        // means IPv6 is disabled).
        assert!(ICMP4.fall_back_on.contains(&libc::EAFNOSUPPORT));
        assert!(!ICMP6.fall_back_on.contains(&libc::EAFNOSUPPORT));
        // clockdiff's timestamp requests need raw.
        let icmp = CLOCKDIFF.socket_named("icmp4").unwrap();
        assert_eq!(icmp.kinds, &[RAW_ICMP4]);
        assert!(PING.datagram_first() && FPING.datagram_first());
        assert_eq!(
            FPING.resources, PING.resources,
            "fping takes ping's sockets"
        );
        assert!(!CLOCKDIFF.datagram_first() && !ARPING.datagram_first());
        assert!(PING.reports_refusals() && FPING.reports_refusals());
        assert!(!CLOCKDIFF.reports_refusals() && !ARPING.reports_refusals());
        assert!(!MTR_PACKET.reports_refusals());
    }

    #[test]
    fn brokered_sockets_go_to_the_broker_only() {
        assert_eq!(
            ARPING.worker_handoff(),
            [&BROKER_CHANNEL],
            "the arping worker holds no packet socket"
        );
        assert_eq!(ARPING.broker_handoff(), [&ARP, &BROKER_CHANNEL]);
        assert_eq!(ARPING.selinux_broker_type(), "privsep_arping_broker_t");
        for tool in ALL {
            let broker = tool.broker.map_or(&[][..], |b| b.holds);
            for held in broker {
                assert!(tool.socket_named(held).is_some(), "{}: {held}", tool.name);
            }
            if tool.broker.is_none() {
                assert!(tool.broker_handoff().is_empty());
                assert_eq!(
                    tool.worker_handoff(),
                    tool.sockets().collect::<Vec<_>>(),
                    "{}",
                    tool.name
                );
            }
            assert!(tool.sockets().all(|s| s.name != BROKER_CHANNEL.name));
        }
        for b in [ARPING.broker.unwrap(), MTR_PACKET.broker.unwrap()] {
            assert!(b.path.starts_with(crate::layout::LIBEXECDIR));
            assert!(b.path.ends_with(&format!("/privsep/{}", b.name)));
        }
    }

    #[test]
    fn mtr_packets_broker_holds_nothing_and_opens_only_unprivileged_stream_sockets() {
        let b = MTR_PACKET.broker.unwrap();
        assert!(b.holds.is_empty());
        assert_eq!(MTR_PACKET.broker_handoff(), [&BROKER_CHANNEL]);
        let mut worker: Vec<&str> = MTR_PACKET.worker_handoff().iter().map(|s| s.name).collect();
        assert_eq!(worker.pop(), Some("broker"));
        assert_eq!(worker, ["icmp4", "icmp6", "udp4", "udp6"]);
        assert!(ARPING.broker.unwrap().creates.is_empty());
        let mut protocols = Vec::new();
        for s in b.creates {
            assert!(
                matches!(s.domain, libc::AF_INET | libc::AF_INET6),
                "{}",
                s.name
            );
            assert_eq!(s.kinds.len(), 1, "{}", s.name);
            assert_eq!(s.kinds[0].ty, libc::SOCK_STREAM, "{}", s.name);
            assert_eq!(s.kinds[0].capability, None, "{}", s.name);
            assert!(MTR_PACKET.socket_named(s.name).is_none(), "{}", s.name);
            protocols.push((s.domain, s.protocol));
        }
        protocols.sort_unstable();
        assert_eq!(
            protocols,
            [
                (libc::AF_INET, libc::IPPROTO_TCP),
                (libc::AF_INET, libc::IPPROTO_SCTP),
                (libc::AF_INET6, libc::IPPROTO_TCP),
                (libc::AF_INET6, libc::IPPROTO_SCTP),
            ]
        );
    }

    #[test]
    fn arp_protocol_is_in_network_byte_order() {
        assert_eq!(ETH_P_ARP_BE.to_ne_bytes()[..2], [0x08, 0x06]);
    }
}
