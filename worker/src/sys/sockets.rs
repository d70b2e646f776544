//! IP sockets: options (raw bytes included: ICMP filters, BPF, IP
//! options), `recvmsg` into caller-owned buffers with the raw control
//! data, send/connect/getsockname, and the interface ioctls.

use super::cvt;
use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::RawFd;

/// `setsockopt(fd, level, name, &value, sizeof(int))`.
pub fn setsockopt_int(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    setsockopt_bytes(fd, level, name, &value.to_ne_bytes())
}

/// `setsockopt` with an arbitrary option value given as bytes.
pub fn setsockopt_bytes(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: &[u8],
) -> io::Result<()> {
    let len = libc::socklen_t::try_from(value.len())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: `value` is valid for reads of `len` bytes; the kernel copies it.
    cvt(unsafe { libc::setsockopt(fd, level, name, value.as_ptr().cast(), len) })?;
    Ok(())
}

/// `SO_ATTACH_FILTER` with a classic BPF program.
pub fn attach_filter(fd: RawFd, program: &[libc::sock_filter]) -> io::Result<()> {
    let prog = libc::sock_fprog {
        len: u16::try_from(program.len())
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?,
        filter: program.as_ptr().cast_mut(),
    };
    // SAFETY: `prog` points at `program`, which outlives the call; the kernel
    // copies the instructions and never writes through the pointer.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            (&prog as *const libc::sock_fprog).cast(),
            size_of::<libc::sock_fprog>() as libc::socklen_t,
        )
    })?;
    Ok(())
}

/// `getsockopt(fd, level, name)` for an int option.
pub fn getsockopt_int(fd: RawFd, level: libc::c_int, name: libc::c_int) -> io::Result<libc::c_int> {
    let mut v: libc::c_int = 0;
    let mut len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `v` and `len` are live locals of the sizes given.
    cvt(unsafe {
        libc::getsockopt(
            fd,
            level,
            name,
            (&mut v as *mut libc::c_int).cast(),
            &mut len,
        )
    })?;
    Ok(v)
}

pub(super) fn from_raw(ss: &libc::sockaddr_storage, len: libc::socklen_t) -> Option<SocketAddr> {
    let len = len as usize;
    match i32::from(ss.ss_family) {
        libc::AF_INET if len >= size_of::<libc::sockaddr_in>() => {
            // SAFETY: the family says the storage holds a sockaddr_in, large enough and aligned.
            let sin =
                unsafe { &*(ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
            Some(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 if len >= size_of::<libc::sockaddr_in6>() => {
            // SAFETY: as above, for sockaddr_in6.
            let sin6 =
                unsafe { &*(ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            Some(SocketAddr::V6(SocketAddrV6::new(
                ip,
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

/// `sendto(fd, buf, 0, addr)`.
pub fn sendto(fd: RawFd, buf: &[u8], addr: &SocketAddr) -> io::Result<usize> {
    let to = nix::sys::socket::SockaddrStorage::from(*addr);
    nix::sys::socket::sendto(fd, buf, &to, nix::sys::socket::MsgFlags::empty())
        .map_err(io::Error::from)
}

/// What one `recvmsg` returned.
#[derive(Debug, Clone, Copy)]
pub struct Received {
    /// Bytes of the message stored in the buffer.
    pub len: usize,
    /// The sender (for the error queue: the original destination).
    pub from: Option<SocketAddr>,
    /// Bytes of control data stored.
    pub control_len: usize,
    /// `MSG_TRUNC`: the datagram was longer than the buffer.
    pub truncated: bool,
}

/// `recvmsg(fd, {buf}, flags)` with a control buffer for ancillary data.
pub fn recvmsg(
    fd: RawFd,
    buf: &mut [u8],
    control: &mut [u8],
    flags: libc::c_int,
) -> io::Result<Received> {
    // SAFETY: plain old data, zero is valid.
    let mut from: libc::sockaddr_storage = unsafe { zeroed() };
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: msghdr is plain old data; the fields that matter are set below.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_name = (&mut from as *mut libc::sockaddr_storage).cast();
    msg.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = control.len();
    // SAFETY: every pointer in `msg` refers to a live, exclusively borrowed
    // buffer of the length given next to it.
    let n = cvt(unsafe { libc::recvmsg(fd, &mut msg, flags) })?;
    Ok(Received {
        len: (n as usize).min(buf.len()),
        from: from_raw(&from, msg.msg_namelen),
        control_len: msg.msg_controllen.min(control.len()),
        truncated: msg.msg_flags & libc::MSG_TRUNC != 0,
    })
}

/// `send(fd, buf, 0)` on a connected socket (the `sendto` system call).
pub fn send(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    nix::sys::socket::send(fd, buf, nix::sys::socket::MsgFlags::empty()).map_err(io::Error::from)
}

/// `send(fd, buf, MSG_DONTWAIT)`: `EAGAIN` when the peer's queue is full.
pub fn send_nowait(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    nix::sys::socket::send(fd, buf, nix::sys::socket::MsgFlags::MSG_DONTWAIT)
        .map_err(io::Error::from)
}

/// `recvmsg(fd, {buf})` of one message on a `SOCK_SEQPACKET` socket: the
/// bytes stored and whether the message was longer than `buf` (the rest
/// is discarded by the kernel). 0 bytes and not truncated: the end.
pub fn recv_message(fd: RawFd, buf: &mut [u8]) -> io::Result<(usize, bool)> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: msghdr is plain old data; the fields that matter are set below.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    // SAFETY: the one iovec refers to `buf`, live and exclusively borrowed,
    // of the length given; no name, no control buffer.
    let n = cvt(unsafe { libc::recvmsg(fd, &mut msg, 0) })?;
    Ok((
        (n as usize).min(buf.len()),
        msg.msg_flags & libc::MSG_TRUNC != 0,
    ))
}

/// `connect(fd, addr)` (nix): the raw socket then receives from `addr` only.
pub fn connect_v4(fd: RawFd, addr: Ipv4Addr) -> io::Result<()> {
    let sa = nix::sys::socket::SockaddrIn::from(SocketAddrV4::new(addr, 0));
    nix::sys::socket::connect(fd, &sa).map_err(io::Error::from)
}

/// `getsockname(fd)` (nix) of an IPv4 socket: the source address the
/// kernel chose for the connected socket.
pub fn local_v4(fd: RawFd) -> io::Result<Ipv4Addr> {
    let sa: nix::sys::socket::SockaddrIn =
        nix::sys::socket::getsockname(fd).map_err(io::Error::from)?;
    Ok(sa.ip())
}

/// `connect(fd, addr)` for either family (nix).
pub fn connect_to(fd: RawFd, addr: &SocketAddr) -> io::Result<()> {
    let sa = nix::sys::socket::SockaddrStorage::from(*addr);
    nix::sys::socket::connect(fd, &sa).map_err(io::Error::from)
}

/// `bind(fd, addr)` for either family (nix): fping's `-S`, and a datagram
/// ICMP socket's bind that makes the kernel choose its echo identifier.
pub fn bind_to(fd: RawFd, addr: &SocketAddr) -> io::Result<()> {
    let sa = nix::sys::socket::SockaddrStorage::from(*addr);
    nix::sys::socket::bind(fd, &sa).map_err(io::Error::from)
}

/// `getsockname(fd)` for either family (nix).
pub fn local_address(fd: RawFd) -> io::Result<SocketAddr> {
    let sa: nix::sys::socket::SockaddrStorage =
        nix::sys::socket::getsockname(fd).map_err(io::Error::from)?;
    if let Some(v4) = sa.as_sockaddr_in() {
        return Ok(SocketAddr::V4(SocketAddrV4::new(v4.ip(), v4.port())));
    }
    if let Some(v6) = sa.as_sockaddr_in6() {
        return Ok(SocketAddr::V6(SocketAddrV6::new(
            v6.ip(),
            v6.port(),
            v6.flowinfo(),
            v6.scope_id(),
        )));
    }
    Err(io::Error::from_raw_os_error(libc::EAFNOSUPPORT))
}

/// `connect(fd, AF_UNSPEC)`: dissolves a datagram or raw socket's
/// association (and the source address the connect chose).
pub fn disconnect(fd: RawFd) -> io::Result<()> {
    // SAFETY: plain old data, zero is valid.
    let mut sa: libc::sockaddr = unsafe { zeroed() };
    sa.sa_family = libc::AF_UNSPEC as libc::sa_family_t;
    // SAFETY: `sa` is a live sockaddr of the size given.
    cvt(unsafe { libc::connect(fd, &sa, size_of::<libc::sockaddr>() as libc::socklen_t) })?;
    Ok(())
}

/// `socket(domain, ty, protocol)`, owned.
pub fn socket(
    domain: libc::c_int,
    ty: libc::c_int,
    protocol: libc::c_int,
) -> io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: integer arguments only.
    let fd = cvt(unsafe { libc::socket(domain, ty, protocol) })?;
    // SAFETY: `fd` was just returned by socket(2) and is owned by nobody else.
    Ok(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) })
}

fn ifreq_name(ifr: &libc::ifreq) -> String {
    let bytes: Vec<u8> = ifr
        .ifr_name
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// `ioctl(fd, SIOCGIFNAME)`: the name of interface `ifindex`.
pub fn interface_name(fd: RawFd, ifindex: i32) -> io::Result<String> {
    // SAFETY: plain old data, zero is valid.
    let mut ifr: libc::ifreq = unsafe { zeroed() };
    ifr.ifr_ifru.ifru_ifindex = ifindex;
    // SAFETY: `ifr` is a live ifreq; the kernel reads the index and writes
    // the NUL-terminated name within ifr_name.
    cvt(unsafe { libc::ioctl(fd, libc::SIOCGIFNAME as _, &mut ifr) })?;
    Ok(ifreq_name(&ifr))
}

/// `ioctl(fd, SIOCGIFINDEX)`: the index of interface `name`, asked on a
/// socket the caller already holds. glibc's `if_nametoindex` opens a
/// socket of its own for the same ioctl, trying `AF_UNIX` first, which a
/// sandbox profile without unix sockets refuses and logs. `ENODEV`, as
/// glibc says, for a name too long for an interface or holding a NUL.
pub fn interface_index(fd: RawFd, name: &str) -> io::Result<u32> {
    let bytes = name.as_bytes();
    if bytes.len() >= libc::IFNAMSIZ || bytes.contains(&0) {
        return Err(io::Error::from_raw_os_error(libc::ENODEV));
    }
    // SAFETY: plain old data, zero is valid.
    let mut ifr: libc::ifreq = unsafe { zeroed() };
    for (to, from) in ifr.ifr_name.iter_mut().zip(bytes) {
        *to = *from as libc::c_char;
    }
    // SAFETY: `ifr` is a live ifreq whose name is NUL-terminated (zeroed,
    // shorter than IFNAMSIZ); the kernel writes the index into ifr_ifru.
    cvt(unsafe { libc::ioctl(fd, libc::SIOCGIFINDEX as _, &mut ifr) })?;
    // SAFETY: a successful SIOCGIFINDEX stored the index there.
    let index = unsafe { ifr.ifr_ifru.ifru_ifindex };
    u32::try_from(index).map_err(|_| io::Error::from_raw_os_error(libc::ENODEV))
}

/// `ioctl(fd, SIOCGIFCONF)`: every IPv4 address of the network namespace
/// with the label of its interface (`eth0`, or `eth0:1` for an alias).
pub fn ipv4_addresses(fd: RawFd) -> io::Result<Vec<(String, Ipv4Addr)>> {
    // Enough for 256 addresses; more are cut (the kernel stops at the end
    // of the buffer).
    // SAFETY: plain old data, zero is valid.
    let mut reqs: Vec<libc::ifreq> = (0..256).map(|_| unsafe { zeroed() }).collect();
    // SAFETY: plain old data, zero is valid.
    let mut conf: libc::ifconf = unsafe { zeroed() };
    conf.ifc_len = (reqs.len() * size_of::<libc::ifreq>()) as libc::c_int;
    conf.ifc_ifcu.ifcu_req = reqs.as_mut_ptr();
    // SAFETY: `conf` points at `reqs`, writable for `ifc_len` bytes; the
    // kernel writes at most that many and stores the length it used.
    cvt(unsafe { libc::ioctl(fd, libc::SIOCGIFCONF as _, &mut conf) })?;
    let used = (conf.ifc_len.max(0) as usize / size_of::<libc::ifreq>()).min(reqs.len());
    Ok(reqs[..used]
        .iter()
        .filter_map(|r| {
            // SAFETY: SIOCGIFCONF fills ifru_addr with a sockaddr_in for
            // every entry (IPv4 is the only family it reports).
            let sa = unsafe { r.ifr_ifru.ifru_addr };
            (i32::from(sa.sa_family) == libc::AF_INET).then(|| {
                // sin_port (2 bytes), then sin_addr, in sa_data.
                let d = sa.sa_data;
                let ip = Ipv4Addr::new(d[2] as u8, d[3] as u8, d[4] as u8, d[5] as u8);
                (ifreq_name(r), ip)
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;
    use std::os::fd::AsRawFd;

    #[test]
    fn interface_index_agrees_with_the_libc_on_any_inet_socket() {
        let want = nix::net::if_::if_nametoindex("lo").expect("lo has an index");
        let v4 = UdpSocket::bind("127.0.0.1:0").expect("UDP socket");
        assert_eq!(interface_index(v4.as_raw_fd(), "lo").unwrap(), want);
        if let Ok(v6) = UdpSocket::bind("[::1]:0") {
            assert_eq!(interface_index(v6.as_raw_fd(), "lo").unwrap(), want);
        }
    }

    #[test]
    fn interface_index_refuses_what_names_no_interface() {
        let s = UdpSocket::bind("127.0.0.1:0").expect("UDP socket");
        let fd = s.as_raw_fd();
        for name in ["privsep-none0", "", "a-name-too-long-x", "l\0o"] {
            let e = interface_index(fd, name).expect_err(name);
            assert_eq!(e.raw_os_error(), Some(libc::ENODEV), "{name:?}");
        }
    }
}
