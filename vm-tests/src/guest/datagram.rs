//! The rows of ping without a capability: the stock launcher installed
//! with no file capability (as `make install` does where the kernel admits
//! every group to ICMP datagram sockets), the guest's own
//! `net.ipv4.ping_group_range` opened for the case (the guest is its own
//! network namespace) and put back after it.

#![forbid(unsafe_code)]

use super::cases::{as_user, avc, cw, cw_expect, Expect, EACCES};
use super::setup::{install, stock};
use super::{Env, Verdict};
use crate::sys::Exit;

const RANGE: &str = "/proc/sys/net/ipv4/ping_group_range";
/// Every group, as systemd and Debian 13 set it.
pub(super) const OPEN: &str = "0 2147483647";

/// Runs `case` with `ping_group_range` set to `range`, then restores it.
pub(super) fn with_range(range: &str, case: impl FnOnce() -> Verdict) -> Verdict {
    let before = match std::fs::read_to_string(RANGE) {
        Ok(b) => b,
        Err(e) => {
            return Verdict {
                outcome: format!("reading {RANGE}: {e}"),
                ..Default::default()
            }
        }
    };
    if let Err(e) = std::fs::write(RANGE, range) {
        return Verdict {
            outcome: format!("writing {RANGE}: {e}"),
            ..Default::default()
        };
    }
    let mut v = case();
    if let Err(e) = std::fs::write(RANGE, before.trim()) {
        v.pass = false;
        v.outcome = format!("{}; restoring {RANGE}: {e}", v.outcome);
    }
    v
}

/// The stock launcher at its path and label, without any file capability
/// (PID 1 reinstalls the stock one after the case).
pub(super) fn install_without_capability(env: &Env) -> Result<(), String> {
    install(
        &stock(env.tool, "launcher"),
        env.tool.launcher_path,
        policy::layout::LAUNCHER_MODE,
        0,
        None,
    )
    .map_err(|e| e.to_string())
}

/// Runs the capability-less launcher as the user with the range open, once
/// per argument list (the destination last); each must exit 0 with one
/// reply and, under `-v`, name the datagram socket.
fn pings_over_datagram_sockets(env: &Env, expect: &str, runs: &[&[&str]]) -> Verdict {
    with_range(OPEN, || {
        let mut v = Verdict {
            expect: expect.into(),
            ..Default::default()
        };
        if let Err(e) = install_without_capability(env) {
            v.outcome = e;
            return v;
        }
        let mut outcomes = Vec::new();
        let mut evidence = Vec::new();
        v.pass = true;
        for args in runs {
            let mut argv = vec!["run", env.tool.launcher_path, "-n", "-c", "1"];
            argv.extend_from_slice(args);
            let what = args.join(" ");
            match as_user(env, &argv) {
                Ok(r) => {
                    let ok = r.exit == Exit::Code(0)
                        && r.out.contains(" 1 received")
                        && (!args.contains(&"-v") || r.out.contains("(socktype: SOCK_DGRAM)"));
                    v.pass &= ok;
                    outcomes.push(format!(
                        "{what}: {}{}",
                        r.exit,
                        if ok { ", ok" } else { "" }
                    ));
                    evidence.push(r.out.trim().replace('\n', " / "));
                }
                Err(e) => {
                    v.pass = false;
                    outcomes.push(format!("{what}: {e}"));
                }
            }
        }
        v.outcome = outcomes.join("; ");
        v.evidence = evidence.join(" || ");
        v
    })
}

/// ping-dgram: with the range open, the capability-less launcher pings
/// both loopbacks over ICMP datagram sockets (`-v` names the socket type).
pub fn ping_dgram(env: &Env) -> Verdict {
    pings_over_datagram_sockets(
        env,
        "exit 0, \" 1 received\" and \"socktype: SOCK_DGRAM\" for 127.0.0.1 and ::1",
        &[&["-v", "127.0.0.1"], &["-v", "::1"]],
    )
}

/// ping-dgram-bind: the IPv4 datagram socket bound as upstream binds it:
/// `-I ADDRESS` to that address (port 0), `-e ID` to the identifier as its
/// port, `-I IFACE` to the device (SO_BINDTODEVICE, with the route probe's
/// source). TOMOYO checks the binds as `network inet dgram bind`, SELinux
/// as `node_bind` and `name_bind` on the socket's label.
pub fn ping_dgram_bind(env: &Env) -> Verdict {
    pings_over_datagram_sockets(
        env,
        "exit 0 and \" 1 received\" for -I 127.0.0.1, -I lo and -e 4321, over an ICMP datagram socket",
        &[
            &["-v", "-I", "127.0.0.1", "127.0.0.1"],
            &["-v", "-I", "lo", "127.0.0.1"],
            &["-v", "-e", "4321", "127.0.0.1"],
        ],
    )
}

/// ping-dgram-bind6: the same for IPv6 (a row of its own: six runs do not
/// fit one case's time on a loaded emulated guest).
pub fn ping_dgram_bind6(env: &Env) -> Verdict {
    pings_over_datagram_sockets(
        env,
        "exit 0 and \" 1 received\" for -I ::1, -I lo and -e 4321, over an ICMPv6 datagram socket",
        &[
            &["-v", "-I", "::1", "::1"],
            &["-v", "-I", "lo", "::1"],
            &["-v", "-e", "4321", "::1"],
        ],
    )
}

/// ping-nocap-closed: the range closed (the kernel's default) and no
/// capability: iputils' message and exit status 2, worded by the worker,
/// which the launcher starts holding no socket (its LSM domain entered as
/// always); `-V` still works, as upstream parses its command line first.
pub fn ping_nocap_closed(env: &Env) -> Verdict {
    with_range("1 0", || {
        let mut v = Verdict {
            expect: "exit 2 and \"=> missing cap_net_raw+p capability or setuid?\"; -V exit 0"
                .into(),
            ..Default::default()
        };
        if let Err(e) = install_without_capability(env) {
            v.outcome = e;
            return v;
        }
        let refused = as_user(
            env,
            &["run", env.tool.launcher_path, "-n", "-c", "1", "127.0.0.1"],
        );
        let version = as_user(env, &["run", env.tool.launcher_path, "-V"]);
        match (refused, version) {
            (Ok(r), Ok(ver)) => {
                v.pass = r.exit == Exit::Code(2)
                    && r.out.contains("socket: Operation not permitted")
                    && r.out
                        .contains("=> missing cap_net_raw+p capability or setuid?")
                    && ver.exit == Exit::Code(0)
                    && ver.out.contains("privsep-ping");
                v.outcome = format!("{}; -V: {}", r.exit, ver.exit);
                v.evidence = format!(
                    "{} || -V: {}",
                    r.out.trim().replace('\n', " / "),
                    ver.out.trim().replace('\n', " / ")
                );
            }
            (Err(e), _) | (_, Err(e)) => v.outcome = e,
        }
        v
    })
}

/// cw-icmp-socket: with the range open, the compromised worker asks for an
/// ICMP datagram socket of its own (which the kernel would give the user).
pub fn cw_icmp_socket(env: &Env) -> Verdict {
    with_range(OPEN, || {
        let e = cw_expect(
            env,
            Expect::Denied(
                EACCES,
                avc(&env.tool.selinux_worker_type(), &["create"], "icmp_socket"),
            ),
            // The probe runs without the seccomp filter under an LSM.
            Expect::AllowedLimit(
                "TOMOYO 2.6 has no socket-create hook and the range admits the user: only the \
                 worker's seccomp filter (configuration none) stops socket()",
            ),
            // A worker profile without `network inet dgram` (no handed
            // datagram socket, no name resolution: mtr-packet's) denies it.
            if env.tool.resolves_names
                || env.tool.sockets().any(|s| {
                    s.domain == libc::AF_INET && s.kinds.iter().any(|k| k.ty == libc::SOCK_DGRAM)
                })
            {
                Expect::AllowedLimit(
                    "AppArmor mediates family and type only: the worker's `network inet dgram` (its \
                     handed datagram socket, and DNS) covers an ICMP datagram socket too, and the range \
                     admits the user: only the worker's seccomp filter (configuration none) stops socket()",
                )
            } else {
                super::apparmor::socket_expect(env, libc::AF_INET, libc::SOCK_DGRAM)
            },
        );
        cw(env, &["icmp-socket4"], e)
    })
}
