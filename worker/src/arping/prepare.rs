//! arping's preparation, before `policy::sandbox::lock_down`: name
//! resolution, the interface (`-I`, or the route's outgoing interface as
//! iputils guesses it), the checks iputils makes on it, the source address
//! (a UDP probe socket, as iputils), the non-root limits, and having the
//! broker bind its packet socket to the interface (the answer is the
//! interface's link-layer address). The only phase that reads files, opens
//! sockets or talks netlink; its result is the loop's
//! [`Session`].

#![forbid(unsafe_code)]

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;

use nix::ifaddrs::{getifaddrs, InterfaceAddress};
use nix::net::if_::InterfaceFlags;

use crate::arping::arp;
use crate::arping::channel::Channel;
use crate::arping::cli::Options;
use crate::arping::engine::Session;
use crate::arping::output;
use crate::arping::route;
use crate::text::{os_error_text, printable};
use crate::{sys, WorkerError};

/// The text of the refusal of unsolicited ARP to users other than root.
pub fn unsolicited_refusal(flag: char) -> String {
    format!(
        "-{flag} is for root only: unsolicited ARP rewrites the neighbours' ARP caches (how ARP caches are poisoned)"
    )
}

/// The non-root limits that the command line alone decides: `-U` and `-A`.
pub fn root_only_flags(o: &Options, is_root: bool) -> Result<(), WorkerError> {
    if is_root {
        return Ok(());
    }
    if o.advert {
        return Err(WorkerError::Fatal(unsolicited_refusal('A')));
    }
    if o.unsolicited {
        return Err(WorkerError::Fatal(unsolicited_refusal('U')));
    }
    Ok(())
}

/// The destination: `inet_aton` forms first, then the resolver (IPv4 only).
pub fn resolve(target: &str) -> Result<Ipv4Addr, WorkerError> {
    if let Some(a) = sys::parse_inet_aton(target) {
        return Ok(a);
    }
    sys::getaddrinfo_v4(target).map_err(|rc| {
        WorkerError::Resolve(format!("{}: {}", printable(target), sys::gai_strerror(rc)))
    })
}

fn is_packet(ifa: &InterfaceAddress) -> bool {
    ifa.address
        .as_ref()
        .and_then(|a| a.as_link_addr())
        .is_some()
}

/// The interface iputils' `guess_device` picks: the route's outgoing one.
/// A failed lookup exits 1, as iputils' `netlink_query` does.
fn guess_device(
    target: Ipv4Addr,
    ifas: &[InterfaceAddress],
) -> Result<Option<String>, WorkerError> {
    let oif = route::output_interface(target)?;
    let Some(oif) = oif else {
        return Ok(None);
    };
    // if_indextoname, from the list we already hold.
    let name = ifas.iter().find_map(|ifa| {
        let l = ifa.address.as_ref()?.as_link_addr()?;
        (l.ifindex() == oif as usize).then(|| ifa.interface_name.clone())
    });
    match name {
        Some(n) => Ok(Some(n)),
        None => Err(WorkerError::Route(format!(
            "if_indextoname failed: {}",
            os_error_text(&io::Error::from_raw_os_error(libc::ENXIO))
        ))),
    }
}

/// iputils' `check_device` for a named interface: up, ARP-capable, with a
/// hardware and a broadcast address. Returns its packet entry.
fn check_device<'a>(
    o: &Options,
    name: &str,
    ifas: &'a [InterfaceAddress],
) -> Result<&'a InterfaceAddress, WorkerError> {
    let quiet_line = |s: String| if o.quiet { String::new() } else { s };
    for ifa in ifas
        .iter()
        .filter(|i| is_packet(i) && i.interface_name == name)
    {
        if !ifa.flags.contains(InterfaceFlags::IFF_UP) {
            return Err(WorkerError::Quiet {
                stdout: quiet_line(format!("Interface \"{}\" is down\n", printable(name))),
                status: 2,
            });
        }
        if ifa
            .flags
            .intersects(InterfaceFlags::IFF_NOARP | InterfaceFlags::IFF_LOOPBACK)
        {
            return Err(WorkerError::Quiet {
                stdout: quiet_line(format!(
                    "Interface \"{}\" is not ARPable\n",
                    printable(name)
                )),
                status: if o.dad { 0 } else { 2 },
            });
        }
        let halen = ifa
            .address
            .as_ref()
            .and_then(|a| a.as_link_addr())
            .map_or(0, |l| l.halen());
        if halen == 0 || ifa.broadcast.is_none() {
            continue;
        }
        return Ok(ifa);
    }
    Err(WorkerError::fatal(format!(
        "Device {} not available.",
        printable(name)
    )))
}

/// The interface's own IPv4 addresses.
fn addresses_of(name: &str, ifas: &[InterfaceAddress]) -> Vec<Ipv4Addr> {
    ifas.iter()
        .filter(|i| i.interface_name == name)
        .filter_map(|i| i.address.as_ref()?.as_sockaddr_in().map(|s| s.ip()))
        .collect()
}

/// `prog: WARNING: …` on stderr.
fn warn(prog: &str, msg: &str) {
    crate::runtime::say(prog, msg);
}

/// The source address, as iputils finds it: `-s`; under `-U`/`-A` without
/// `-s`, the target itself; otherwise the address the kernel would send
/// from (a UDP socket bound to the interface, connected to the target).
/// Non-root users may only name one of the interface's own addresses.
fn source_address(
    o: &Options,
    target: Ipv4Addr,
    device: &str,
    own: &[Ipv4Addr],
    is_root: bool,
    prog: &str,
) -> Result<Ipv4Addr, WorkerError> {
    let mut gsrc = Ipv4Addr::UNSPECIFIED;
    if let Some(s) = &o.source {
        gsrc = sys::parse_inet_aton(s)
            .ok_or_else(|| WorkerError::fatal(format!("invalid source {}", printable(s))))?;
        if !is_root && !gsrc.is_unspecified() && !own.contains(&gsrc) {
            return Err(WorkerError::fatal(format!(
                "-s {gsrc} is for root only: it is not an address of {} (ARP with another host's address poisons the neighbours' caches)",
                printable(device)
            )));
        }
    }
    if !o.dad && o.unsolicited && o.source.is_none() {
        gsrc = target;
    }
    if o.dad && o.source.is_none() {
        return Ok(gsrc);
    }
    let bound = if o.source.is_some() || !gsrc.is_unspecified() {
        UdpSocket::bind(SocketAddrV4::new(gsrc, 0)).map_err(|e| WorkerError::os("bind", e))?
    } else {
        UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))
            .map_err(|e| WorkerError::os("socket", e))?
    };
    let fd = bound.as_raw_fd();
    let mut name = device.as_bytes().to_vec();
    name.push(0);
    if let Err(e) = sys::setsockopt_bytes(fd, libc::SOL_SOCKET, libc::SO_BINDTODEVICE, &name) {
        warn(
            prog,
            &format!("WARNING: interface is ignored: {}", os_error_text(&e)),
        );
    }
    if o.source.is_some() || !gsrc.is_unspecified() || o.dad {
        return Ok(gsrc);
    }
    if !o.unsolicited {
        if let Err(e) = sys::setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_DONTROUTE, 1) {
            warn(
                prog,
                &format!("WARNING: setsockopt(SO_DONTROUTE): {}", os_error_text(&e)),
            );
        }
        bound
            .connect(SocketAddrV4::new(target, 1025))
            .map_err(|e| WorkerError::os("connect", e))?;
        match bound.local_addr() {
            Ok(SocketAddr::V4(a)) => gsrc = *a.ip(),
            Ok(_) => {}
            Err(e) => return Err(WorkerError::os("getsockname", e)),
        }
    }
    Ok(gsrc)
}

/// Worker step 3 for arping (see the module documentation). Prints what
/// iputils prints on the way (warnings on stderr, the `ARPING` line on
/// stdout) and returns the session for the loop.
pub fn prepare(
    o: &Options,
    channel: &mut Channel,
    is_root: bool,
    prog: &str,
) -> Result<Session, WorkerError> {
    root_only_flags(o, is_root)?;
    let target = resolve(&o.target)?;
    let ifas: Vec<InterfaceAddress> = getifaddrs()
        .map_err(|e| WorkerError::fatal(format!("getifaddrs: {}", e.desc())))?
        .collect();
    let device = match &o.device {
        Some(d) => d.clone(),
        None => match guess_device(target, &ifas)? {
            Some(d) => d,
            None => {
                return Err(WorkerError::fatal(
                    "Suitable device could not be determined. Please, use option -I.",
                ))
            }
        },
    };
    let ifa = check_device(o, &device, &ifas)?;
    let ifindex = ifa
        .address
        .as_ref()
        .and_then(|a| a.as_link_addr())
        .map_or(0, |l| l.ifindex()) as i32;
    let own = addresses_of(&device, &ifas);
    let source = source_address(o, target, &device, &own, is_root, prog)?;

    // The broker's packet socket sees this interface's ARP only from here
    // on, and sends on it only; its answer is the bound socket's address.
    let me = channel
        .bind(ifindex)
        .map_err(|e| WorkerError::os("bind", e))?;
    if me.halen == 0 {
        return Err(WorkerError::Quiet {
            stdout: if o.quiet {
                String::new()
            } else {
                format!(
                    "Interface \"{}\" is not ARPable (no ll address)\n",
                    printable(&device)
                )
            },
            status: if o.dad { 0 } else { 2 },
        });
    }
    let mut he = me;
    let bcast = ifa
        .broadcast
        .as_ref()
        .and_then(|b| b.as_link_addr())
        .filter(|b| b.halen() == usize::from(he.halen));
    match bcast {
        Some(b) => he.set_hw(&AsRef::<libc::sockaddr_ll>::as_ref(b).sll_addr),
        None => {
            if !o.quiet {
                let _ = sys::write_all(2, b"WARNING: using default broadcast address.\n");
            }
            he.set_hw(&[0xff; arp::MAX_HALEN]);
        }
    }
    if !o.quiet {
        let _ = sys::write_all(1, output::header(target, source, &device).as_bytes());
    }
    if o.source.is_none() && source.is_unspecified() && !o.dad {
        return Err(WorkerError::fatal("no source address in not-DAD mode"));
    }
    Ok(Session {
        opts: o.clone(),
        target,
        source,
        device,
        prog: prog.to_string(),
        me,
        he,
    })
}
