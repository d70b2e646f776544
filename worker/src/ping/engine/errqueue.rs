//! The socket's error queue (iputils' `receive_error_msg`): local errors
//! (a send the kernel refused) and ICMP errors about our requests, each
//! counted and printed, anything else read and dropped.

use std::io;

use super::sink::Sink;
use super::{Engine, Io};
use crate::ping::icmp::{self, Family};
use crate::ping::output;

impl<I: Io> Engine<I> {
    /// Reads the socket's error queue dry (iputils' `receive_error_msg`):
    /// returns (ICMP errors about our requests, local errors, records read).
    pub(super) fn drain_errqueue(&mut self) -> (u32, u32, u32) {
        let (mut net, mut local, mut records) = (0, 0, 0);
        let mut buf = std::mem::take(&mut self.errpacket);
        let mut control = std::mem::take(&mut self.control);
        while let Ok(r) = self.io.recv(&mut buf, &mut control, true) {
            records += 1;
            let (level, ty) = match self.family {
                Family::V4 => (libc::SOL_IP, libc::IP_RECVERR),
                Family::V6 => (libc::IPPROTO_IPV6, libc::IPV6_RECVERR),
            };
            let Some(e) = icmp::cmsgs(&control[..r.control_len])
                .find(|(l, t, _)| *l == level && *t == ty)
                .and_then(|(_, _, d)| icmp::parse_extended_err(d))
            else {
                continue;
            };
            if e.origin == icmp::ORIGIN_LOCAL {
                if self.mute_local {
                    continue;
                }
                local += 1;
                if self.o.quiet {
                    continue;
                }
                if self.o.flood {
                    self.flood_mark("E");
                } else if e.errno != libc::EMSGSIZE as u32 {
                    // iputils: error(), not ping_error(): stderr even under -j.
                    let err = io::Error::from_raw_os_error(e.errno as i32);
                    self.say(&format!("local error: {}", output::os_error_text(&err)));
                } else {
                    let sep = if self.family == Family::V4 { "=" } else { ": " };
                    self.report(&format!(
                        "local error: message too long, mtu{sep}{}",
                        e.info
                    ));
                }
                self.stats.nerrors += 1;
            } else if e.origin == icmp::ORIGIN_ICMP || e.origin == icmp::ORIGIN_ICMP6 {
                let echo = buf.get(..r.len.min(icmp::HEADER_LEN)).unwrap_or(&[]);
                let request = match self.family {
                    Family::V4 => icmp::v4::ECHO,
                    Family::V6 => icmp::v6::ECHO_REQUEST,
                };
                let ours = echo.len() == icmp::HEADER_LEN
                    && r.from.map(|a| a.ip()) == Some(self.target.addr.ip())
                    && echo[0] == request
                    && (self.datagram || u16::from_be_bytes([echo[4], echo[5]]) == self.ident);
                if !ours {
                    continue;
                }
                let seq = u16::from_be_bytes([echo[6], echo[7]]);
                if self.family == Family::V4 {
                    self.stats.acknowledge(seq);
                }
                net += 1;
                self.stats.nerrors += 1;
                if self.o.quiet {
                    continue;
                }
                if self.o.flood {
                    self.flood_mark("\x08E");
                    continue;
                }
                let text = match self.family {
                    Family::V4 => output::icmp4_text(e.icmp_type, e.code, e.info),
                    Family::V6 => output::icmp6_text(e.icmp_type, e.code, e.info),
                };
                // Named like a reply's source (upstream's pr_addr), through
                // the resolver co-process when it is not the target.
                let from = e.offender.map(|a| self.display(Some(a)));
                let ts = self.timestamp();
                let from = from.as_deref().unwrap_or("?");
                self.sink.icmp_error(&mut self.lines, ts, from, seq, &text);
                self.flush();
            }
        }
        self.errpacket = buf;
        self.control = control;
        (net, local, records)
    }
}
