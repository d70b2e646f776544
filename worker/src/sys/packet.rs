//! arping's packet-socket calls, with a `sockaddr_ll` as the worker's own
//! plain [`LinkLayer`] type.

use super::cvt;
use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::RawFd;

/// A `sockaddr_ll` as plain fields (the worker's own type, so that the
/// arping code above this module stays safe and testable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LinkLayer {
    pub protocol_be: u16,
    pub ifindex: i32,
    pub hatype: u16,
    pub pkttype: u8,
    pub halen: u8,
    pub addr: [u8; 8],
}

fn ll_to_raw(a: &LinkLayer) -> libc::sockaddr_ll {
    // SAFETY: sockaddr_ll is plain old data; zero is a valid value.
    let mut sll: libc::sockaddr_ll = unsafe { zeroed() };
    sll.sll_family = libc::AF_PACKET as u16;
    sll.sll_protocol = a.protocol_be;
    sll.sll_ifindex = a.ifindex;
    sll.sll_hatype = a.hatype;
    sll.sll_pkttype = a.pkttype;
    sll.sll_halen = a.halen;
    sll.sll_addr = a.addr;
    sll
}

fn ll_from_raw(sll: &libc::sockaddr_ll) -> LinkLayer {
    LinkLayer {
        protocol_be: sll.sll_protocol,
        ifindex: sll.sll_ifindex,
        hatype: sll.sll_hatype,
        pkttype: sll.sll_pkttype,
        halen: sll.sll_halen,
        addr: sll.sll_addr,
    }
}

/// `bind(fd, sockaddr_ll{ifindex, protocol})`: a packet socket sees the
/// frames of one interface only from then on.
pub fn packet_bind(fd: RawFd, ifindex: i32, protocol_be: u16) -> io::Result<()> {
    let sll = ll_to_raw(&LinkLayer {
        protocol_be,
        ifindex,
        ..LinkLayer::default()
    });
    // SAFETY: `sll` is a live, initialised sockaddr_ll of the size passed.
    cvt(unsafe {
        libc::bind(
            fd,
            (&sll as *const libc::sockaddr_ll).cast(),
            size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    })?;
    Ok(())
}

/// `getsockname` of a packet socket: the interface's hardware type and address.
pub fn packet_getsockname(fd: RawFd) -> io::Result<LinkLayer> {
    // SAFETY: plain old data, zero is valid.
    let mut ss: libc::sockaddr_storage = unsafe { zeroed() };
    let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: `ss` is writable for `len` bytes; the kernel stores at most that.
    cvt(unsafe {
        libc::getsockname(
            fd,
            (&mut ss as *mut libc::sockaddr_storage).cast(),
            &mut len,
        )
    })?;
    if i32::from(ss.ss_family) != libc::AF_PACKET {
        return Err(io::Error::from_raw_os_error(libc::EAFNOSUPPORT));
    }
    // SAFETY: the family says the storage holds a sockaddr_ll, which fits
    // and is suitably aligned inside sockaddr_storage.
    let sll = unsafe { &*(&ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_ll>() };
    Ok(ll_from_raw(sll))
}

/// `sendto(fd, frame, 0, sockaddr_ll)` with iputils' address length
/// (`sll_len`: never shorter than the structure).
pub fn packet_sendto(fd: RawFd, frame: &[u8], to: &LinkLayer) -> io::Result<usize> {
    let sll = ll_to_raw(to);
    // SAFETY: `frame` is valid for reads of its length, `sll` for its size.
    let n = cvt(unsafe {
        libc::sendto(
            fd,
            frame.as_ptr().cast(),
            frame.len(),
            0,
            (&sll as *const libc::sockaddr_ll).cast(),
            size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    })?;
    Ok(n as usize)
}

/// `recvmsg(fd, {buf})` on a packet socket: the bytes stored and the
/// sender's link-layer address (`None` if the kernel gave no `sockaddr_ll`).
pub fn packet_recvmsg(fd: RawFd, buf: &mut [u8]) -> io::Result<(usize, Option<LinkLayer>)> {
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
    // SAFETY: every pointer in `msg` refers to a live, exclusively borrowed
    // buffer of the length given next to it.
    let n = cvt(unsafe { libc::recvmsg(fd, &mut msg, 0) })?;
    let len = (n as usize).min(buf.len());
    let ll = (i32::from(from.ss_family) == libc::AF_PACKET
        && msg.msg_namelen as usize >= size_of::<libc::sockaddr_ll>())
    .then(|| {
        // SAFETY: the family and length say the storage holds a sockaddr_ll.
        let sll = unsafe { &*(&from as *const libc::sockaddr_storage).cast::<libc::sockaddr_ll>() };
        ll_from_raw(sll)
    });
    Ok((len, ll))
}
