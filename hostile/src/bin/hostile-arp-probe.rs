//! `hostile-arp-probe`: the holder of arping's packet socket (the broker,
//! before the worker took it over: the worker holds no packet socket, see
//! `hostile-arp-forge`), and a hostile host sending malformed ARP.
//!
//! `hostile-arp-probe listen IFACE SECONDS --open [--no-filter] [--no-sandbox]`
//!
//! Run as root, it opens the packet socket with the launcher's own code
//! (`launcher::sys::socket`, `attach_filter`, `lock_filter` with the
//! descriptor's filter; `--no-filter` skips the filter: the control), then
//! drops every id to `nobody`. (Without `--open` it takes arping's worker
//! handoff, which carries no packet socket: it stops there.) Then, as an
//! attacker who took over the holder before its lock-down would, it binds
//! the socket to `ETH_P_ALL` on IFACE and tries to detach and to replace
//! the filter; locks itself down with arping's exact profile
//! (`policy::sandbox::lock_down`, unless `--no-sandbox`); and receives for
//! SECONDS, counting frames by protocol.
//! Output: `rebind …`, `detach …`, `replace …`, `locked`, then
//! `received arp=N ipv4=N ipv6=N other=N`.
//!
//! `hostile-arp-probe send IFACE SECONDS MAC` (as root, in the other network
//! namespace): broadcasts, every 50 ms, a burst of malformed and foreign ARP
//! frames (every truncation of a reply, absurd lengths, unknown opcodes and
//! protocols, replies for someone else) and a well-formed reply from
//! 198.18.0.9 for 198.18.0.1 at MAC, which arping counts as iputils does.

#![forbid(unsafe_code)]

use std::io::Write;
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use policy::handoff::HandedSocket;
use policy::tools::{ARP, ARPING, ARP_ONLY_FILTER, ETH_P_ARP_BE};

const NOBODY: u32 = 65534;

fn say(line: impl AsRef<str>) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", line.as_ref());
    let _ = out.flush();
}

fn die(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("hostile-arp-probe: {what}: {e}");
    std::process::exit(3);
}

fn errno(r: std::io::Result<()>) -> String {
    match r {
        Ok(()) => "SUCCEEDED".into(),
        Err(e) => format!("refused {}", e.raw_os_error().unwrap_or(0)),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |f: &str| args.iter().any(|a| a == f);
    let pos: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let (Some(mode), Some(iface), Some(secs)) = (pos.first(), pos.get(1), pos.get(2)) else {
        eprintln!("usage: hostile-arp-probe listen|send IFACE SECONDS [--open [--no-filter]] [--no-sandbox]");
        std::process::exit(2);
    };
    let secs: u64 = secs.parse().unwrap_or_else(|e| die("SECONDS", e));
    let ifindex = hostile::sys::if_nametoindex(iface) as i32;
    if ifindex == 0 {
        die("interface", iface);
    }
    match mode.as_str() {
        "listen" => listen(
            ifindex,
            secs,
            flag("--open"),
            !flag("--no-filter"),
            !flag("--no-sandbox"),
        ),
        "send" => send(ifindex, secs, pos.get(3).map_or("", |s| s.as_str())),
        _ => die("mode", mode),
    }
}

fn listen(ifindex: i32, secs: u64, open: bool, filter: bool, sandbox: bool) {
    let sockets = if open {
        let fd = launcher::sys::socket(libc::AF_PACKET, libc::SOCK_DGRAM, ARP.protocol)
            .unwrap_or_else(|e| die("socket (run as root)", e));
        if filter {
            launcher::sys::attach_filter(fd, ARP_ONLY_FILTER).unwrap_or_else(|e| die("filter", e));
            launcher::sys::lock_filter(fd).unwrap_or_else(|e| die("lock", e));
        }
        testkit::probe::drop_to(NOBODY, NOBODY).unwrap_or_else(|e| die("drop ids", e));
        vec![HandedSocket {
            fd,
            spec: &ARP,
            kind: ARP.kinds.first(),
        }]
    } else {
        policy::handoff::take_from_env(&ARPING).unwrap_or_else(|e| die("handoff", e))
    };
    let Some(fd) = sockets.iter().find(|s| s.spec == &ARP).map(|s| s.fd) else {
        die(
            "handoff",
            "no packet socket (arping's worker gets only its broker channel)",
        );
    };
    let fd: RawFd = fd;

    // The attacker's moves before lock-down: every frame of every protocol.
    let all_be = (libc::ETH_P_ALL as u16).to_be();
    say(format!(
        "rebind {}",
        errno(hostile::sys::packet_bind(fd, ifindex, all_be))
    ));
    say(format!(
        "detach {}",
        errno(hostile::sys::setsockopt_bytes(
            fd,
            libc::SOL_SOCKET,
            libc::SO_DETACH_FILTER,
            &0i32.to_ne_bytes()
        ))
    ));
    let accept_all = [policy::tools::BpfInsn {
        code: 0x06,
        jt: 0,
        jf: 0,
        k: 0xffff_ffff,
    }];
    say(format!(
        "replace {}",
        errno(
            launcher::sys::attach_filter(fd, &accept_all)
                .map_err(|e| std::io::Error::from_raw_os_error(e.0))
        )
    ));
    if sandbox {
        if let Err(e) = policy::sandbox::lock_down(ARPING.sandbox, &sockets) {
            die("lock_down", e);
        }
        say("locked");
    }

    let (mut arp, mut ipv4, mut ipv6, mut other) = (0u64, 0u64, 0u64, 0u64);
    let end = Instant::now() + Duration::from_secs(secs);
    let mut buf = vec![0u8; 65536];
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        match hostile::sys::ppoll_in(fd, left.as_millis() as u64 + 1) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => die("ppoll", e),
        }
        match hostile::sys::packet_recvmsg(fd, &mut buf) {
            Ok((_, p)) if p == libc::ETH_P_ARP as u16 => arp += 1,
            Ok((_, p)) if p == libc::ETH_P_IP as u16 => ipv4 += 1,
            Ok((_, p)) if p == libc::ETH_P_IPV6 as u16 => ipv6 += 1,
            Ok(_) => other += 1,
            Err(e) => die("recvmsg", e),
        }
    }
    say(format!(
        "received arp={arp} ipv4={ipv4} ipv6={ipv6} other={other}"
    ));
}

/// An ARP frame (Ethernet/IPv4) with the given fields.
fn arp_frame(op: u16, sha: [u8; 6], spa: [u8; 4], tha: [u8; 6], tpa: [u8; 4]) -> Vec<u8> {
    let mut f = vec![0, 1, 8, 0, 6, 4];
    f.extend_from_slice(&op.to_be_bytes());
    f.extend_from_slice(&sha);
    f.extend_from_slice(&spa);
    f.extend_from_slice(&tha);
    f.extend_from_slice(&tpa);
    f
}

fn send(ifindex: i32, secs: u64, mac: &str) {
    let mut target = [0u8; 6];
    let parts: Vec<u8> = mac
        .split(':')
        .filter_map(|p| u8::from_str_radix(p, 16).ok())
        .collect();
    if parts.len() != 6 {
        die("MAC", mac);
    }
    target.copy_from_slice(&parts);
    let fd = launcher::sys::socket(libc::AF_PACKET, libc::SOCK_DGRAM, ETH_P_ARP_BE)
        .unwrap_or_else(|e| die("socket (run as root)", e));
    let me = [0x02, 0, 0, 0, 0, 0x99];
    let bcast = [0xff; 6];
    let us = [198, 18, 0, 1];
    let good = arp_frame(2, me, [198, 18, 0, 9], target, us);
    let mut burst: Vec<Vec<u8>> = (0..good.len()).map(|n| good[..n].to_vec()).collect();
    let odd = |i: usize, v: u8| {
        let mut f = good.clone();
        f[i] = v;
        f
    };
    burst.extend([
        odd(4, 255), // hardware length
        odd(4, 0),
        odd(5, 16),   // protocol length
        odd(7, 9),    // opcode
        odd(2, 0x86), // protocol
        odd(1, 6),    // hardware type
        odd(17, 77),  // sender 198.18.0.77: not the target
        odd(27, 3),   // for 198.18.0.3: not us
    ]);
    let mut long = good.clone();
    long.extend_from_slice(&[0x1b; 1400]);
    burst.push(long);
    burst.push(vec![0xff; 1500]);
    burst.push(good.clone());
    let end = Instant::now() + Duration::from_secs(secs);
    let mut sent = 0u64;
    while Instant::now() < end {
        for f in &burst {
            if hostile::sys::packet_sendto(fd, f, ifindex, ETH_P_ARP_BE as u16, &bcast).is_ok() {
                sent += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    say(format!("sent {sent}"));
}
