//! The workers' sandbox profiles as reviewed data: the seccomp allowlist
//! of every tool is the shared runtime [`BASE`] (signal return, exit, the
//! allocator without `PROT_EXEC`, the abort path, output on fds 1–2) plus
//! the tool's own entries, each with the argument check it is allowed
//! with and why. Everything not listed kills the process (SIGSYS). This
//! module is plain data and always built (the launcher's build, the
//! renderer and the tests read it); applying it is `sandbox::lock_down`
//! (feature `sandbox`).
//!
//! Deliberately absent from every profile, so that a compromised worker is
//! killed when it tries: `socket`, `socketpair`, `connect` (but mtr-packet's
//! source-address lookup on its handed-over sockets), `bind`,
//! `listen`, `accept*` (no new sockets, no re-aiming the handed ones);
//! `setsockopt`, `getsockopt` (no `IP_HDRINCL`, no new filters: every
//! option is set before lock-down); `ioctl`, `fcntl`; `open*`, `creat`,
//! `*stat*` (no files); `execve*`, `fork`, `vfork`, `clone*` (no processes,
//! no threads); `ptrace`, `process_vm_*`, `pidfd_*`; `kill`, `tkill` (and
//! `tgkill` at anyone else); `prctl` (no way back to dumpable);
//! `rt_sigaction` (handlers are set before); `unshare`, `setns`, `mount*`,
//! `seccomp`, `bpf`, `landlock_*`, `set*id`, `capset`, `setpriority`;
//! `mprotect`, and `mmap` with `PROT_EXEC`; `futex`, `getrandom`, `poll`,
//! the sleeps (the workers are single-threaded, build no hash map and wait
//! in `ppoll`).
//!
//! Review rule: an entry is added only with a `why` that names the worker
//! code path needing it, and with the tightest argument check that costs
//! nothing at run time. `policy/footprints/` records what the staged
//! workers really call; a test fails when the two disagree.

#![forbid(unsafe_code)]

/// Which calls of a system call are allowed (argument indices count from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Args {
    /// Any arguments.
    Any,
    /// Argument `n` is one of the handed-over sockets. With no socket
    /// handed over, the system call is not allowed at all.
    HandedSocket(u8),
    /// Argument `n` (an int) is one of the values.
    OneOf(u8, &'static [u64]),
    /// Argument `n` (an int) has none of the bits of the mask set.
    NoBits(u8, u64),
    /// Every listed argument is one of its values (the calls allowed are
    /// the cross product): `socket` of given domains, type and protocols.
    AllOf(&'static [(u8, &'static [u64])]),
    /// Argument `n` is the calling process's own pid (taken when the filter
    /// is built: the worker never forks, and lock-down keeps the pid
    /// namespace).
    OwnPid(u8),
    /// Argument `n` is the handed-over socket of this name (a broker tells
    /// its resource from its channel). Without it, not allowed at all.
    HandedNamed(u8, &'static str),
    /// Argument `n` is the handed-over socket of this name and argument
    /// `m` (an int) one of the values.
    HandedNamedOneOf(u8, &'static str, u8, &'static [u64]),
}

/// One reviewed entry of an allowlist.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// The system call's name, as in `man 2`.
    pub name: &'static str,
    /// Its number on the build's architecture.
    pub nr: libc::c_long,
    /// The calls allowed.
    pub args: Args,
    /// Why the locked-down worker needs it.
    pub why: &'static str,
    /// Whether the recorded footprint must show it. `false` only for the
    /// runtime's paths that a correct run does not take but a correct
    /// worker can (the abort path, the vDSO's fallback, the allocator's
    /// large buffers); the reason says which.
    pub observed: bool,
}

/// A worker's whole sandbox profile.
#[derive(Debug)]
pub struct Profile {
    /// The tool's own seccomp entries, on top of [`BASE`].
    pub seccomp: &'static [Rule],
    /// Paths the worker may read after lock-down (Landlock). Empty for
    /// every tool so far: no filesystem access at all.
    pub landlock_read: &'static [&'static str],
}

impl Profile {
    /// Every entry of the allowlist: [`BASE`], then the tool's own.
    pub fn rules(&self) -> impl Iterator<Item = &'static Rule> + Clone {
        let own: &'static [Rule] = self.seccomp;
        BASE.iter().chain(own.iter())
    }
}

const STDOUT_STDERR: &[u64] = &[1, 2];

/// The shared runtime base: what any locked-down worker may need whatever
/// its tool (output, signal return, time, the allocator, exit and abort).
pub const BASE: &[Rule] = &[
    // --- Output.
    Rule {
        name: "write",
        nr: libc::SYS_write,
        args: Args::OneOf(0, STDOUT_STDERR),
        why: "result lines on stdout; warnings, status lines and panic messages on stderr; never the sockets",
        observed: true,
    },
    // --- Signals: handlers installed before lock-down.
    Rule {
        name: "rt_sigreturn",
        nr: libc::SYS_rt_sigreturn,
        args: Args::Any,
        why: "return from the SIGINT/SIGALRM/SIGQUIT handlers",
        observed: true,
    },
    Rule {
        name: "restart_syscall",
        nr: libc::SYS_restart_syscall,
        args: Args::Any,
        why: "the kernel resumes a wait interrupted by SIGSTOP/SIGCONT with it",
        observed: false,
    },
    // --- Time.
    Rule {
        name: "clock_gettime",
        nr: libc::SYS_clock_gettime,
        args: Args::Any,
        why: "scheduling and timestamps: a real syscall where the vDSO has no usable clocksource (VMs under TCG)",
        observed: false,
    },
    // --- Memory (the allocator), never executable.
    Rule {
        name: "brk",
        nr: libc::SYS_brk,
        args: Args::Any,
        why: "malloc's main arena, when a line outgrows the preallocated buffers",
        observed: false,
    },
    Rule {
        name: "mmap",
        nr: libc::SYS_mmap,
        args: Args::NoBits(2, libc::PROT_EXEC as u64),
        why: "malloc of large buffers; PROT_EXEC refused so no new code can be mapped",
        observed: false,
    },
    Rule {
        name: "munmap",
        nr: libc::SYS_munmap,
        args: Args::Any,
        why: "free of large buffers",
        observed: false,
    },
    Rule {
        name: "mremap",
        nr: libc::SYS_mremap,
        args: Args::Any,
        why: "realloc of large buffers (cannot add PROT_EXEC)",
        observed: false,
    },
    // --- Exit, normal and abnormal.
    Rule {
        name: "sigaltstack",
        nr: libc::SYS_sigaltstack,
        args: Args::Any,
        why: "Rust's runtime removes the main thread's stack-overflow signal stack at exit, in a program started by it: no privsep program any more (they are #![no_main]), but the probes that test a tool's profile from inside (testkit, hostile, vm-tests) still are",
        observed: false,
    },
    Rule {
        name: "close",
        nr: libc::SYS_close,
        args: Args::Any,
        why: "dropping the sockets when main returns; closing can gain nothing",
        observed: false,
    },
    Rule {
        name: "exit_group",
        nr: libc::SYS_exit_group,
        args: Args::Any,
        why: "exit with the tool's status",
        observed: true,
    },
    Rule {
        name: "rt_sigprocmask",
        nr: libc::SYS_rt_sigprocmask,
        args: Args::Any,
        why: "abort() (a panic under panic=abort) unblocks SIGABRT",
        observed: false,
    },
    Rule {
        name: "getpid",
        nr: libc::SYS_getpid,
        args: Args::Any,
        why: "abort() raising SIGABRT at itself",
        observed: false,
    },
    Rule {
        name: "gettid",
        nr: libc::SYS_gettid,
        args: Args::Any,
        why: "abort() raising SIGABRT at itself",
        observed: false,
    },
    Rule {
        name: "tgkill",
        nr: libc::SYS_tgkill,
        args: Args::OwnPid(0),
        why: "abort() raises SIGABRT at itself, so a panic is not mistaken for a sandbox kill; no other process",
        observed: false,
    },
];

/// ping's own entries: the echo loop on the handed-over ICMP sockets, raw
/// or datagram. A datagram socket needs no entry of its own: the loop makes
/// the same calls on it (the TTL and IP options arrive as cmsgs of the same
/// `recvmsg`, errors through the same error queue), and everything that
/// differs (`IP_RECVTTL`, `IP_RETOPTS`, `bind` for `-e`) happens before
/// lock-down.
const PING_OWN: &[Rule] = &[
    Rule {
        name: "sendto",
        nr: libc::SYS_sendto,
        args: Args::HandedSocket(0),
        why: "the ping loop sends echo requests on the handed-over ICMP sockets (raw, or datagram: the kernel then sends echo requests only)",
        observed: true,
    },
    Rule {
        name: "recvmsg",
        nr: libc::SYS_recvmsg,
        args: Args::HandedSocket(0),
        why: "the ping loop receives replies with their cmsgs (kernel timestamps, TTL/hop limit; on a datagram socket also IP_TTL and IP_RETOPTS, its IPv4 header being stripped) and the error queue (MSG_ERRQUEUE)",
        observed: true,
    },
    Rule {
        name: "ppoll",
        nr: libc::SYS_ppoll,
        args: Args::Any,
        why: "the ping loop waits for the socket or the next send/deadline, unblocking its signals only while waiting",
        observed: true,
    },
];

/// arping's own entries: requests to its broker and the broker's answers
/// and frames, over the channel (the worker holds no packet socket).
/// Everything else arping does (resolving the target, getifaddrs, the
/// netlink route query, the UDP probe socket for the source address, the
/// broker's bind to the interface, the signal handlers) happens before
/// lock-down; after its `seccomp()` call the worker makes these three
/// plus the base's `write`, `rt_sigreturn` (after SIGINT's handler) and
/// `exit_group`.
const ARPING_OWN: &[Rule] = &[
    Rule {
        name: "sendto",
        nr: libc::SYS_sendto,
        args: Args::HandedSocket(0),
        why: "the arping loop asks its broker to send each probe (an ARP request, or a reply under -A, to the broadcast or the answering host's hardware address): one fixed-size request on the channel",
        observed: true,
    },
    Rule {
        name: "recvmsg",
        nr: libc::SYS_recvmsg,
        args: Args::HandedSocket(0),
        why: "the arping loop receives the broker's answers and the ARP frames it passes on, with their link-layer sender (packet type, hardware type), from the channel",
        observed: true,
    },
    Rule {
        name: "ppoll",
        nr: libc::SYS_ppoll,
        args: Args::Any,
        why: "the arping loop waits for the channel until the next probe or the -w deadline, unblocking SIGINT/SIGTERM/SIGQUIT only while waiting",
        observed: true,
    },
];

/// clockdiff's own entries: timestamp requests on the raw ICMP socket.
/// What the staged worker calls after lock-down (strace, one run against
/// 127.0.0.1 with and without `-o`): 50 `sendto`, about 100 `recvmsg`
/// (each wait first receives without waiting) and a `ppoll` only where
/// nothing was queued (a few), `write` (the result line, the dots on a
/// terminal), then `exit_group`.
/// `connect`, `getsockname` and `setsockopt(IP_OPTIONS)` happen before
/// lock-down; `setpriority` is never allowed (the priority is the
/// launcher's to set, and a compromised worker must not raise it back or
/// lower it further).
const CLOCKDIFF_OWN: &[Rule] = &[
    Rule {
        name: "sendto",
        nr: libc::SYS_sendto,
        args: Args::HandedSocket(0),
        why: "the measurement sends each ICMP timestamp request (with -o/-o1 an echo request; the IP timestamp option was set before lock-down) on the handed-over raw socket",
        observed: true,
    },
    Rule {
        name: "recvmsg",
        nr: libc::SYS_recvmsg,
        args: Args::HandedSocket(0),
        why: "the measurement empties the socket's queue first, then receives each reply (with its sender, checked against the peer) on the handed-over raw socket, trying without waiting (MSG_DONTWAIT) before it waits",
        observed: true,
    },
    Rule {
        name: "ppoll",
        nr: libc::SYS_ppoll,
        args: Args::Any,
        why: "the measurement waits for a reply for rtt + sigma at most when none is queued, without a signal mask",
        observed: true,
    },
];

/// mtr-packet's own entries: commands on stdin, probes out and replies in
/// on the handed-over raw sockets. Everything else happens before
/// lock-down: the checksum offload of the raw UDPv6 socket
/// (`setsockopt(IPV6_CHECKSUM)`), the SCTP support check, the pid that
/// becomes the ICMP identifier. Per-probe TTL, traffic class and source
/// address travel as control messages of `sendmsg`, so no socket option
/// is ever set after lock-down.
const MTR_PACKET_OWN: &[Rule] = &[
    Rule {
        name: "read",
        nr: libc::SYS_read,
        args: Args::OneOf(0, &[0]),
        why: "the command loop reads requests from stdin (fd 0 only), once each time ppoll reports it readable",
        observed: true,
    },
    Rule {
        name: "sendmsg",
        nr: libc::SYS_sendmsg,
        args: Args::HandedSocket(0),
        why: "each send-probe sends one ICMP or UDP probe on a handed-over raw socket, with its TTL/hop limit, TOS/traffic class and source address as control messages",
        observed: true,
    },
    Rule {
        name: "recvmsg",
        nr: libc::SYS_recvmsg,
        args: Args::HandedSocket(0),
        why: "the reply loop receives ICMP replies and errors (time exceeded, unreachable) on the handed-over raw ICMP sockets, non-blocking (MSG_DONTWAIT)",
        observed: true,
    },
    Rule {
        name: "connect",
        nr: libc::SYS_connect,
        args: Args::HandedSocket(0),
        why: "upstream's find_source_addr: a send-probe without local-ip asks the kernel's routing for the source address by connecting a handed-over send-only raw UDP socket to the destination, then dissolves the association (AF_UNSPEC); a raw socket gains nothing from being connected",
        observed: true,
    },
    Rule {
        name: "getsockname",
        nr: libc::SYS_getsockname,
        args: Args::HandedSocket(0),
        why: "reads the source address the routing chose for the connected send-only socket (find_source_addr)",
        observed: true,
    },
    Rule {
        name: "ppoll",
        nr: libc::SYS_ppoll,
        args: Args::Any,
        why: "the command loop waits for stdin, the raw ICMP sockets or the next probe's time-out",
        observed: true,
    },
];

/// The read-only interface queries arping's broker makes on its packet
/// socket: `SIOCGIFNAME` (the bound interface's name) and `SIOCGIFCONF`
/// (every IPv4 address of the namespace, with its interface's name).
pub const BROKER_IOCTLS: &[u64] = &[libc::SIOCGIFNAME, libc::SIOCGIFCONF];

/// arping's broker: the packet socket (`arp`) and its channel to the
/// worker (`broker`), nothing else. Every request is read, validated and
/// answered after lock-down (the broker has no phase that reads the
/// worker's bytes before it), so `bind`, `getsockname` and the interface
/// queries are here too, each on the packet socket only.
const ARPING_BROKER_OWN: &[Rule] = &[
    Rule {
        name: "recvmsg",
        nr: libc::SYS_recvmsg,
        args: Args::HandedSocket(0),
        why: "the broker reads each fixed-size request from its channel (with MSG_TRUNC, so that a longer one is refused), and each ARP frame with its sockaddr_ll from the packet socket",
        observed: true,
    },
    Rule {
        name: "sendto",
        nr: libc::SYS_sendto,
        args: Args::HandedSocket(0),
        why: "the broker sends the ARP frames it validated out of the packet socket (to the bound interface), and its answers and the received frames over its channel",
        observed: true,
    },
    Rule {
        name: "ppoll",
        nr: libc::SYS_ppoll,
        args: Args::Any,
        why: "the broker waits for a request or a frame",
        observed: true,
    },
    Rule {
        name: "bind",
        nr: libc::SYS_bind,
        args: Args::HandedNamed(0, "arp"),
        why: "the worker's first request names the interface: the packet socket is bound to it (ETH_P_ARP), once, and only the packet socket",
        observed: true,
    },
    Rule {
        name: "getsockname",
        nr: libc::SYS_getsockname,
        args: Args::HandedNamed(0, "arp"),
        why: "the bound interface's hardware type and address: the only sender hardware address the broker lets out, and the worker's answer to its bind",
        observed: true,
    },
    Rule {
        name: "ioctl",
        nr: libc::SYS_ioctl,
        args: Args::HandedNamedOneOf(0, "arp", 1, BROKER_IOCTLS),
        why: "the interface's name and its IPv4 addresses (SIOCGIFNAME, SIOCGIFCONF), read again for every frame: the sender protocol addresses a caller who is not root may use",
        observed: true,
    },
];

/// fping's own entries: the same three calls as ping's loop, on the same
/// handed-over ICMP sockets. Everything else fping does happens before
/// lock-down: reading the target list (`-f`, stdin), resolving every
/// target and its reverse name (`-n`, `-d`), the socket options (`-I`,
/// `-M`, `-O`, `-H`, timestamps, `-S`'s bind, the datagram socket's bind
/// that reveals its echo identifier), the signal handlers and the time
/// zone for `-Q`'s clock.
const FPING_OWN: &[Rule] = &[
    Rule {
        name: "sendto",
        nr: libc::SYS_sendto,
        args: Args::HandedSocket(0),
        why: "the scheduler sends each echo request (first, retry, -c/-C/-l count) on the handed-over ICMP socket of the target's family",
        observed: true,
    },
    Rule {
        name: "recvmsg",
        nr: libc::SYS_recvmsg,
        args: Args::HandedSocket(0),
        why: "the receiver takes each reply with its kernel timestamp (SO_TIMESTAMPNS), and ICMP errors (raw: in the queue; datagram: MSG_ERRQUEUE), non-blocking",
        observed: true,
    },
    Rule {
        name: "ppoll",
        nr: libc::SYS_ppoll,
        args: Args::Any,
        why: "the scheduler waits for either socket until the next send, time-out or -Q report, unblocking SIGINT/SIGQUIT only while waiting",
        observed: true,
    },
];

/// fping's profile.
pub const FPING: Profile = Profile {
    seccomp: FPING_OWN,
    landlock_read: &[],
};

/// ping's profile.
pub const PING: Profile = Profile {
    seccomp: PING_OWN,
    landlock_read: &[],
};

/// arping's profile.
pub const ARPING: Profile = Profile {
    seccomp: ARPING_OWN,
    landlock_read: &[],
};

/// mtr-packet's broker (`privsep-mtr-packet-broker`, started by the
/// launcher after its drop, `worker::mtr_packet::stream`): for each TCP or
/// SCTP probe the worker asks for, and the broker validated, it opens a
/// socket, sets TTL/TOS, binds the probe's local port, starts the
/// connection and reports how it ended, then closes it. It never reads or
/// writes a byte on those sockets: `sendmsg`/`recvmsg` are allowed on its
/// channel to the worker only (its one handed socket), so a compromised
/// broker can start connections but not talk over them, and a compromised
/// worker, which has no `socket` at all, can only ask it for connection
/// attempts.
const MTR_PACKET_BROKER_OWN: &[Rule] = &[
    Rule {
        name: "socket",
        nr: libc::SYS_socket,
        args: Args::AllOf(&[
            (0, &[libc::AF_INET as u64, libc::AF_INET6 as u64]),
            (
                1,
                &[(libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC) as u64],
            ),
            (2, &[libc::IPPROTO_TCP as u64, libc::IPPROTO_SCTP as u64]),
        ]),
        why: "one non-blocking TCP or SCTP socket per stream probe (upstream's open_stream_socket); no other family, type or protocol",
        observed: true,
    },
    Rule {
        name: "setsockopt",
        nr: libc::SYS_setsockopt,
        args: Args::Any,
        why: "SO_REUSEADDR/SO_REUSEPORT, IP_TTL/IPV6_UNICAST_HOPS and IP_TOS/IPV6_TCLASS of the probe (a mark is refused before: no capability); the broker holds no raw socket, so IP_HDRINCL has nothing to act on",
        observed: true,
    },
    Rule {
        name: "bind",
        nr: libc::SYS_bind,
        args: Args::Any,
        why: "the probe's local port is its sequence number (33000-65535), so that an ICMP error quoting it names the probe",
        observed: true,
    },
    Rule {
        name: "connect",
        nr: libc::SYS_connect,
        args: Args::Any,
        why: "the probe itself: a non-blocking connection attempt to the destination port",
        observed: true,
    },
    Rule {
        name: "getsockopt",
        nr: libc::SYS_getsockopt,
        args: Args::Any,
        why: "SO_ERROR once the attempt ends: connected or refused is a reply, anything else an error",
        observed: true,
    },
    Rule {
        name: "sendmsg",
        nr: libc::SYS_sendmsg,
        args: Args::HandedSocket(0),
        why: "answers to the worker, on the channel only",
        observed: true,
    },
    Rule {
        name: "recvmsg",
        nr: libc::SYS_recvmsg,
        args: Args::HandedSocket(0),
        why: "requests from the worker, on the channel only",
        observed: true,
    },
    Rule {
        name: "ppoll",
        nr: libc::SYS_ppoll,
        args: Args::Any,
        why: "waits for a request or for a connection attempt to end",
        observed: true,
    },
];

/// mtr-packet's broker's profile.
pub const MTR_PACKET_BROKER: Profile = Profile {
    seccomp: MTR_PACKET_BROKER_OWN,
    landlock_read: &[],
};

/// mtr-packet's profile.
pub const MTR_PACKET: Profile = Profile {
    seccomp: MTR_PACKET_OWN,
    landlock_read: &[],
};

/// arping's broker's profile.
pub const ARPING_BROKER: Profile = Profile {
    seccomp: ARPING_BROKER_OWN,
    landlock_read: &[],
};

/// clockdiff's profile.
pub const CLOCKDIFF: Profile = Profile {
    seccomp: CLOCKDIFF_OWN,
    landlock_read: &[],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_is_unique_and_explained() {
        for tool in crate::tools::ALL {
            let rules: Vec<&Rule> = tool.sandbox.rules().collect();
            for (i, a) in rules.iter().enumerate() {
                assert!(a.why.len() > 10, "{}: {} needs a reason", tool.name, a.name);
                for b in &rules[i + 1..] {
                    assert_ne!(
                        a.nr, b.nr,
                        "{}: {} and {} share a number",
                        tool.name, a.name, b.name
                    );
                    assert_ne!(a.name, b.name);
                }
            }
        }
    }

    #[test]
    fn dangerous_calls_are_absent_from_every_profile() {
        let forbidden = [
            libc::SYS_socket,
            libc::SYS_bind,
            libc::SYS_setsockopt,
            libc::SYS_ioctl,
            libc::SYS_openat,
            libc::SYS_execve,
            libc::SYS_execveat,
            libc::SYS_clone,
            libc::SYS_clone3,
            libc::SYS_ptrace,
            libc::SYS_prctl,
            libc::SYS_kill,
            libc::SYS_tkill,
            libc::SYS_unshare,
            libc::SYS_setns,
            libc::SYS_mount,
            libc::SYS_process_vm_readv,
            libc::SYS_pidfd_getfd,
            libc::SYS_seccomp,
            libc::SYS_bpf,
            libc::SYS_setpriority,
        ];
        for tool in crate::tools::ALL {
            for nr in forbidden {
                assert!(
                    tool.sandbox.rules().all(|r| r.nr != nr),
                    "{}: syscall {nr} must not be allowed",
                    tool.name
                );
            }
            // connect re-aims a socket: only mtr-packet's source-address
            // lookup has it, and only on the handed-over sockets.
            for r in tool.sandbox.rules().filter(|r| r.nr == libc::SYS_connect) {
                assert_eq!(tool.name, "mtr-packet");
                assert_eq!(r.args, Args::HandedSocket(0));
            }
        }
    }

    #[test]
    fn the_broker_opens_only_stream_sockets_and_talks_only_to_its_worker() {
        let rules: Vec<&Rule> = MTR_PACKET_BROKER.rules().collect();
        for (i, a) in rules.iter().enumerate() {
            assert!(a.why.len() > 10, "{} needs a reason", a.name);
            assert!(rules[i + 1..].iter().all(|b| b.nr != a.nr), "{}", a.name);
        }
        for nr in [
            libc::SYS_execve,
            libc::SYS_clone,
            libc::SYS_openat,
            libc::SYS_sendto,
            libc::SYS_read,
            libc::SYS_recvfrom,
        ] {
            assert!(rules.iter().all(|r| r.nr != nr), "syscall {nr}");
        }
        for r in rules
            .iter()
            .filter(|r| matches!(r.nr, libc::SYS_sendmsg | libc::SYS_recvmsg))
        {
            assert_eq!(r.args, Args::HandedSocket(0), "{}", r.name);
        }
        let socket = rules.iter().find(|r| r.nr == libc::SYS_socket).unwrap();
        let Args::AllOf(args) = socket.args else {
            panic!("socket must be argument-checked")
        };
        assert!(!args
            .iter()
            .any(|(_, v)| v.contains(&(libc::SOCK_RAW as u64))));
    }

    #[test]
    fn the_broker_creates_nothing_and_runs_nothing() {
        let rules: Vec<&Rule> = ARPING_BROKER.rules().collect();
        for nr in [
            libc::SYS_socket,
            libc::SYS_socketpair,
            libc::SYS_connect,
            libc::SYS_setsockopt,
            libc::SYS_openat,
            libc::SYS_execve,
            libc::SYS_clone,
            libc::SYS_clone3,
            libc::SYS_ptrace,
            libc::SYS_prctl,
            libc::SYS_kill,
            libc::SYS_unshare,
            libc::SYS_bpf,
        ] {
            assert!(rules.iter().all(|r| r.nr != nr), "syscall {nr}");
        }
        // bind, getsockname and ioctl only on the packet socket; ioctl only
        // for the two read-only queries.
        for name in ["bind", "getsockname", "ioctl"] {
            let r = rules.iter().find(|r| r.name == name).unwrap();
            assert!(
                matches!(
                    r.args,
                    Args::HandedNamed(0, "arp") | Args::HandedNamedOneOf(0, "arp", 1, _)
                ),
                "{name}"
            );
        }
        let names: Vec<&str> = rules.iter().map(|r| r.name).collect();
        for (i, a) in names.iter().enumerate() {
            assert!(!names[i + 1..].contains(a), "{a} twice");
        }
    }

    #[test]
    fn the_base_grants_no_network_call() {
        for r in BASE {
            assert!(!matches!(r.args, Args::HandedSocket(_)), "{}", r.name);
        }
    }
}
