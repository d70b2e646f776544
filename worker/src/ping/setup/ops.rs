//! What setup asks of the system, as one trait, [`SocketOps`]: socket
//! options on the handed-over socket and on the probe that finds the
//! source address, connect/bind/getsockname, the interface tables, a
//! random identifier. [`SysOps`] makes the real calls; the unit tests
//! drive the IPv4 and IPv6 builders with a recording double instead, so
//! every option ping sets is checked without a staged install.

use std::io;
use std::net::{IpAddr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use nix::sys::socket::{self as nsock, AddressFamily, SockFlag, SockType, SockaddrStorage};

use crate::ping::icmp::Family;
use crate::ping::idn;
use crate::sys;

/// Which descriptor a call is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sock {
    /// The handed-over ICMP socket the loop runs on.
    Main,
    /// The UDP probe connected to the destination (upstream's
    /// `probe_fd`): the source address, and a broadcast destination.
    Probe,
}

/// The system calls of setup.
pub trait SocketOps {
    /// Opens the probe: a UDP socket of `family`.
    fn open_probe(&mut self, family: Family) -> io::Result<()>;
    /// Closes the probe (it never reaches the sandbox).
    fn close_probe(&mut self);
    /// `setsockopt` with an int value.
    fn set_int(&mut self, s: Sock, level: i32, name: i32, value: i32) -> io::Result<()>;
    /// `setsockopt` with a value given as bytes.
    fn set_bytes(&mut self, s: Sock, level: i32, name: i32, value: &[u8]) -> io::Result<()>;
    /// `getsockopt` of an int option.
    fn get_int(&mut self, s: Sock, level: i32, name: i32) -> io::Result<i32>;
    /// `connect`.
    fn connect(&mut self, s: Sock, to: SocketAddr) -> io::Result<()>;
    /// `getsockname`, when it is an IP address.
    fn local_address(&mut self, s: Sock) -> io::Result<Option<SocketAddr>>;
    /// `bind`.
    fn bind(&mut self, s: Sock, to: SocketAddr) -> io::Result<()>;
    /// `SO_ATTACH_FILTER` on the main socket.
    fn attach_filter(&mut self, program: &[libc::sock_filter]) -> io::Result<()>;
    /// `SO_ATTACH_FILTER` on the other family's handed socket, if any.
    fn attach_other_filter(&mut self, program: &[libc::sock_filter]);
    /// The index of an interface (`if_nametoindex`, asked with
    /// `SIOCGIFINDEX` on the main socket).
    fn if_index(&mut self, device: &str) -> Option<u32>;
    /// Whether `device` has the address `source` (upstream's getifaddrs
    /// walk; true when the table cannot be read).
    fn device_has(&mut self, device: &str, source: IpAddr) -> bool;
    /// The interfaces' names by index (for scoped addresses in the loop).
    fn interface_names(&mut self) -> Vec<(u32, String)>;
    /// Two random bytes (the echo identifier).
    fn random_u16(&mut self) -> Option<u16>;
    /// The reverse name of an address (`getnameinfo`).
    fn reverse_name(&mut self, addr: IpAddr) -> Option<String>;
    /// Writes a line to stderr as it is (upstream's bare `fprintf`).
    fn stderr(&mut self, bytes: &[u8]);
}

/// The real calls, on the handed-over socket(s).
pub struct SysOps {
    fd: RawFd,
    other: Option<RawFd>,
    probe: Option<OwnedFd>,
}

impl SysOps {
    /// Setup of `fd`; `other` is the other family's handed socket.
    pub fn new(fd: RawFd, other: Option<RawFd>) -> Self {
        SysOps {
            fd,
            other,
            probe: None,
        }
    }

    fn raw(&self, s: Sock) -> io::Result<RawFd> {
        match s {
            Sock::Main => Ok(self.fd),
            Sock::Probe => self
                .probe
                .as_ref()
                .map(|p| p.as_raw_fd())
                .ok_or_else(|| io::Error::from_raw_os_error(libc::EBADF)),
        }
    }
}

fn to_std(ss: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(a) = ss.as_sockaddr_in() {
        return Some(SocketAddr::V4(SocketAddrV4::from(*a)));
    }
    ss.as_sockaddr_in6()
        .map(|a| SocketAddr::V6(SocketAddrV6::from(*a)))
}

impl SocketOps for SysOps {
    fn open_probe(&mut self, family: Family) -> io::Result<()> {
        let af = match family {
            Family::V4 => AddressFamily::Inet,
            Family::V6 => AddressFamily::Inet6,
        };
        let probe = nsock::socket(af, SockType::Datagram, SockFlag::SOCK_CLOEXEC, None)?;
        self.probe = Some(probe);
        Ok(())
    }

    fn close_probe(&mut self) {
        self.probe = None;
    }

    fn set_int(&mut self, s: Sock, level: i32, name: i32, value: i32) -> io::Result<()> {
        sys::setsockopt_int(self.raw(s)?, level, name, value)
    }

    fn set_bytes(&mut self, s: Sock, level: i32, name: i32, value: &[u8]) -> io::Result<()> {
        sys::setsockopt_bytes(self.raw(s)?, level, name, value)
    }

    fn get_int(&mut self, s: Sock, level: i32, name: i32) -> io::Result<i32> {
        sys::getsockopt_int(self.raw(s)?, level, name)
    }

    fn connect(&mut self, s: Sock, to: SocketAddr) -> io::Result<()> {
        nsock::connect(self.raw(s)?, &SockaddrStorage::from(to)).map_err(io::Error::from)
    }

    fn local_address(&mut self, s: Sock) -> io::Result<Option<SocketAddr>> {
        let name: SockaddrStorage = nsock::getsockname(self.raw(s)?)?;
        Ok(to_std(&name))
    }

    fn bind(&mut self, s: Sock, to: SocketAddr) -> io::Result<()> {
        nsock::bind(self.raw(s)?, &SockaddrStorage::from(to)).map_err(io::Error::from)
    }

    fn attach_filter(&mut self, program: &[libc::sock_filter]) -> io::Result<()> {
        sys::attach_filter(self.fd, program)
    }

    fn attach_other_filter(&mut self, program: &[libc::sock_filter]) {
        if let Some(other) = self.other {
            let _ = sys::attach_filter(other, program);
        }
    }

    fn if_index(&mut self, device: &str) -> Option<u32> {
        // On the handed-over socket: if_nametoindex would open a socket of
        // its own, AF_UNIX first (refused and logged by AppArmor).
        sys::interface_index(self.fd, device).ok()
    }

    fn device_has(&mut self, device: &str, source: IpAddr) -> bool {
        let Ok(list) = nix::ifaddrs::getifaddrs() else {
            return true;
        };
        for ifa in list {
            if ifa.interface_name != device {
                continue;
            }
            let addr = ifa.address.as_ref().and_then(to_std);
            if addr.map(|a| a.ip()) == Some(source) {
                return true;
            }
        }
        false
    }

    fn interface_names(&mut self) -> Vec<(u32, String)> {
        nix::net::if_::if_nameindex()
            .map(|list| {
                list.iter()
                    .map(|i| (i.index(), i.name().to_string_lossy().into_owned()))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn random_u16(&mut self) -> Option<u16> {
        sys::random_u16()
    }

    fn reverse_name(&mut self, addr: IpAddr) -> Option<String> {
        idn::reverse_name(&SocketAddr::new(addr, 0), idn::utf8_locale())
    }

    fn stderr(&mut self, bytes: &[u8]) {
        sys::write_all(2, bytes).ok();
    }
}
