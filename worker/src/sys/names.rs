//! Names and addresses through glibc: `inet_aton`, `getaddrinfo`,
//! `getnameinfo` and their error texts.

use super::sockets::from_raw;
use std::ffi::{CStr, CString};
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, SocketAddr};

extern "C" {
    fn inet_aton(cp: *const libc::c_char, inp: *mut libc::in_addr) -> libc::c_int;
}

/// glibc's `inet_aton`, which also takes iputils' shorthand forms
/// (`127.1`, `0x7f000001`, `2130706433`).
pub fn parse_inet_aton(s: &str) -> Option<Ipv4Addr> {
    let c = CString::new(s).ok()?;
    let mut a = libc::in_addr { s_addr: 0 };
    // SAFETY: `c` is NUL-terminated, `a` valid for writes.
    let ok = unsafe { inet_aton(c.as_ptr(), &mut a) };
    (ok != 0).then(|| Ipv4Addr::from(a.s_addr.to_ne_bytes()))
}

/// glibc's `EAI_ADDRFAMILY` ("Address family for hostname not supported").
pub const EAI_ADDRFAMILY: libc::c_int = -9;

/// The text of a getaddrinfo error code.
pub fn gai_strerror(code: libc::c_int) -> String {
    // SAFETY: gai_strerror returns a pointer to a static NUL-terminated string.
    unsafe { CStr::from_ptr(libc::gai_strerror(code)) }
        .to_string_lossy()
        .into_owned()
}

/// One getaddrinfo result.
#[derive(Debug, Clone)]
pub struct AddrInfo {
    pub addr: SocketAddr,
    pub canonname: Option<String>,
}

/// `getaddrinfo(host, NULL, {AF_UNSPEC, SOCK_DGRAM, IPPROTO_UDP,
/// AI_CANONNAME})`, as iputils asks (dual-stack, so that scope ids survive).
/// Errors are getaddrinfo's codes.
pub fn getaddrinfo(host: &str) -> Result<Vec<AddrInfo>, libc::c_int> {
    getaddrinfo_hints(host, libc::AF_UNSPEC, libc::SOCK_DGRAM, libc::IPPROTO_UDP)
}

/// `getaddrinfo(host, NULL, {family, socktype, protocol, AI_CANONNAME})`
/// (clockdiff asks as iputils does: `AF_INET`, `SOCK_RAW`, protocol 0).
pub fn getaddrinfo_hints(
    host: &str,
    family: libc::c_int,
    socktype: libc::c_int,
    protocol: libc::c_int,
) -> Result<Vec<AddrInfo>, libc::c_int> {
    getaddrinfo_flags(host, family, socktype, protocol, libc::AI_CANONNAME)
}

/// `getaddrinfo(host, NULL, {family, socktype, protocol, flags})` (fping
/// asks without `AI_CANONNAME`, and with `AI_NUMERICHOST` for `-g`).
pub fn getaddrinfo_flags(
    host: &str,
    family: libc::c_int,
    socktype: libc::c_int,
    protocol: libc::c_int,
    flags: libc::c_int,
) -> Result<Vec<AddrInfo>, libc::c_int> {
    let c = CString::new(host).map_err(|_| libc::EAI_NONAME)?;
    // SAFETY: addrinfo is plain old data; zero is the documented "no hints".
    let mut hints: libc::addrinfo = unsafe { zeroed() };
    hints.ai_family = family;
    hints.ai_socktype = socktype;
    hints.ai_protocol = protocol;
    hints.ai_flags = flags;
    let mut res: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: `c` is NUL-terminated, `hints` and `res` are live locals.
    let rc = unsafe { libc::getaddrinfo(c.as_ptr(), std::ptr::null(), &hints, &mut res) };
    if rc != 0 {
        return Err(rc);
    }
    let mut out = Vec::new();
    let mut p = res;
    while !p.is_null() {
        // SAFETY: `p` walks the list getaddrinfo returned, not yet freed.
        let ai = unsafe { &*p };
        if !ai.ai_addr.is_null() && (ai.ai_addrlen as usize) <= size_of::<libc::sockaddr_storage>()
        {
            // SAFETY: plain old data; we copy `ai_addrlen` bytes into it.
            let mut ss: libc::sockaddr_storage = unsafe { zeroed() };
            // SAFETY: `ai_addr` points at `ai_addrlen` readable bytes, which
            // fit into `ss` (checked above); the regions do not overlap.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    ai.ai_addr.cast::<u8>(),
                    (&mut ss as *mut libc::sockaddr_storage).cast::<u8>(),
                    ai.ai_addrlen as usize,
                )
            };
            let canonname = if ai.ai_canonname.is_null() {
                None
            } else {
                // SAFETY: a non-null ai_canonname is a NUL-terminated string.
                let name = unsafe { CStr::from_ptr(ai.ai_canonname) };
                Some(name.to_string_lossy().into_owned())
            };
            if let Some(addr) = from_raw(&ss, ai.ai_addrlen) {
                out.push(AddrInfo { addr, canonname });
            }
        }
        p = ai.ai_next;
    }
    // SAFETY: `res` came from a successful getaddrinfo and is freed once.
    unsafe { libc::freeaddrinfo(res) };
    Ok(out)
}

/// `getnameinfo(addr)` for the host part: the reverse name (or the numeric
/// form when there is none), or with `numeric` the numeric form only.
pub fn getnameinfo(addr: &SocketAddr, numeric: bool) -> Option<String> {
    let (ss, len) = policy::sys::sockaddr_to_raw(addr);
    let mut host = [0 as libc::c_char; 1025];
    let flags = if numeric { libc::NI_NUMERICHOST } else { 0 };
    // SAFETY: `ss` holds `len` bytes of address; `host` is writable for its
    // length; no service buffer is requested.
    let rc = unsafe {
        libc::getnameinfo(
            (&ss as *const libc::sockaddr_storage).cast(),
            len,
            host.as_mut_ptr(),
            host.len() as libc::socklen_t,
            std::ptr::null_mut(),
            0,
            flags,
        )
    };
    if rc != 0 {
        return None;
    }
    // SAFETY: on success getnameinfo wrote a NUL-terminated string into `host`.
    Some(
        unsafe { CStr::from_ptr(host.as_ptr()) }
            .to_string_lossy()
            .into_owned(),
    )
}

/// `getaddrinfo(host, NULL, {AF_INET, SOCK_RAW})`, as iputils arping asks:
/// the first IPv4 address, or getaddrinfo's error code.
pub fn getaddrinfo_v4(host: &str) -> Result<Ipv4Addr, libc::c_int> {
    let c = CString::new(host).map_err(|_| libc::EAI_NONAME)?;
    // SAFETY: addrinfo is plain old data; zero is the documented "no hints".
    let mut hints: libc::addrinfo = unsafe { zeroed() };
    hints.ai_family = libc::AF_INET;
    hints.ai_socktype = libc::SOCK_RAW;
    let mut res: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: `c` is NUL-terminated, `hints` and `res` are live locals.
    let rc = unsafe { libc::getaddrinfo(c.as_ptr(), std::ptr::null(), &hints, &mut res) };
    if rc != 0 {
        return Err(rc);
    }
    let mut found = None;
    let mut p = res;
    while !p.is_null() && found.is_none() {
        // SAFETY: `p` walks the list getaddrinfo returned, not yet freed.
        let ai = unsafe { &*p };
        if ai.ai_family == libc::AF_INET
            && !ai.ai_addr.is_null()
            && ai.ai_addrlen as usize >= size_of::<libc::sockaddr_in>()
        {
            // SAFETY: an AF_INET entry of at least sockaddr_in's size.
            let sin = unsafe { &*ai.ai_addr.cast::<libc::sockaddr_in>() };
            found = Some(Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes()));
        }
        p = ai.ai_next;
    }
    // SAFETY: `res` came from a successful getaddrinfo and is freed once.
    unsafe { libc::freeaddrinfo(res) };
    found.ok_or(libc::EAI_NONAME)
}
