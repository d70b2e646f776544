//! `-N`: IPv6 node information queries (RFC 4620), as upstream's
//! `node_info.c` and `ping6_common.c` do them: the sub-option grammar, the
//! query (ICMPv6 type 139, a nonce carrying the sequence number) and the
//! text of a reply (type 140: DNS names or addresses). Pure functions; the
//! engine sends and receives.
//!
//! The subject is the destination's address, or `subject-ipv6=` /
//! `subject-ipv4=`. `subject-name=` and `subject-fqdn=` (whose multicast
//! group upstream derives with MD5 and `dn_comp`) are not implemented and
//! refused with one line.

#![forbid(unsafe_code)]

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

/// ICMPv6 type of a node information query.
pub const QUERY: u8 = 139;
/// ICMPv6 type of a node information reply.
pub const REPLY: u8 = 140;
const QTYPE_DNSNAME: u16 = 2;
const QTYPE_IPV6ADDR: u16 = 3;
const QTYPE_IPV4ADDR: u16 = 4;
/// Subject codes.
pub const SUBJ_IPV6: u8 = 0;
pub const SUBJ_IPV4: u8 = 2;
const FLAG_TRUNCATE: u16 = 0x0001;

/// upstream's help text (`-N help` on stdout, exit 0; a bad sub-option on
/// stderr, exit 2).
pub const HELP: &str = "ping -6 -N <nodeinfo opt>
Help:
  help
Query:
  name
  ipv6
  ipv6-all
  ipv6-compatible
  ipv6-global
  ipv6-linklocal
  ipv6-sitelocal
  ipv4
  ipv4-all
Subject:
  subject-ipv6=addr
  subject-ipv4=addr
  subject-name=name
  subject-fqdn=name
";

/// What `-N` asked for (the options may be given several times).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    pub qtype: Option<u16>,
    pub flags: u16,
    /// `subject-ipv6=` / `subject-ipv4=`: (code, the name or address given).
    pub subject: Option<(u8, String)>,
}

/// Why a `-N` value was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// `help`: the help text on stdout, exit 0.
    Help,
    /// An unknown sub-option: the help text on stderr, exit 2.
    Unknown,
    /// A conflict (upstream prints this line on stdout, then its usage).
    Conflict(&'static str),
    /// Not implemented here (one line, exit 2).
    Unsupported(String),
}

/// upstream's `niquery_option_handler` for one `-N` value.
pub fn parse(req: &mut Request, arg: &str) -> Result<(), Refusal> {
    let mut qtype = |t: u16, flag: u16| {
        if req.qtype.is_some_and(|q| q != t) {
            return Err(Refusal::Conflict("Qtype conflict"));
        }
        req.qtype = Some(t);
        req.flags |= flag;
        Ok(())
    };
    match arg {
        "name" | "fqdn" => return qtype(QTYPE_DNSNAME, 0),
        "ipv6" => return qtype(QTYPE_IPV6ADDR, 0),
        "ipv6-all" => return qtype(QTYPE_IPV6ADDR, 0x0002),
        "ipv6-compatible" => return qtype(QTYPE_IPV6ADDR, 0x0004),
        "ipv6-linklocal" => return qtype(QTYPE_IPV6ADDR, 0x0008),
        "ipv6-sitelocal" => return qtype(QTYPE_IPV6ADDR, 0x0010),
        "ipv6-global" => return qtype(QTYPE_IPV6ADDR, 0x0020),
        "ipv4" => return qtype(QTYPE_IPV4ADDR, 0),
        "ipv4-all" => return qtype(QTYPE_IPV4ADDR, 0x0002),
        "help" => return Err(Refusal::Help),
        _ => {}
    }
    let subject = |code: u8, v: &str, req: &mut Request| {
        if req.subject.as_ref().is_some_and(|(c, _)| *c != code) {
            return Err(Refusal::Conflict("Subject type conflict"));
        }
        req.subject = Some((code, v.to_string()));
        Ok(())
    };
    if let Some(v) = arg.strip_prefix("subject-ipv6=") {
        return subject(SUBJ_IPV6, v, req);
    }
    if let Some(v) = arg.strip_prefix("subject-ipv4=") {
        return subject(SUBJ_IPV4, v, req);
    }
    if arg.starts_with("subject-name=") || arg.starts_with("subject-fqdn=") {
        return Err(Refusal::Unsupported(format!(
            "-N {}: name subjects are not supported by privsep-ping",
            arg.split('=').next().unwrap_or(arg)
        )));
    }
    Err(Refusal::Unknown)
}

/// A ready query: everything but the sequence number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub code: u8,
    pub qtype: u16,
    pub flags: u16,
    pub subject: Vec<u8>,
    /// The nonce's six bytes after the sequence number, fixed for the run
    /// (upstream derives them from an MD5 of a per-run secret).
    pub secret: [u8; 6],
}

impl Query {
    /// The subject given, or the destination's address.
    pub fn new(
        req: &Request,
        v6: Option<Ipv6Addr>,
        v4: Option<Ipv4Addr>,
        secret: [u8; 6],
    ) -> Query {
        let (code, subject) = match (req.subject.as_ref().map(|s| s.0), v6, v4) {
            (Some(SUBJ_IPV4), _, Some(a)) => (SUBJ_IPV4, a.octets().to_vec()),
            (_, Some(a), _) => (SUBJ_IPV6, a.octets().to_vec()),
            (_, None, Some(a)) => (SUBJ_IPV4, a.octets().to_vec()),
            _ => (SUBJ_IPV6, vec![0; 16]),
        };
        Query {
            code,
            qtype: req.qtype.unwrap_or(0),
            flags: req.flags,
            subject,
            secret,
        }
    }

    /// The ICMPv6 message for sequence number `seq` (checksum left to the
    /// kernel).
    pub fn encode(&self, seq: u16, out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(&[QUERY, self.code, 0, 0]);
        out.extend_from_slice(&self.qtype.to_be_bytes());
        out.extend_from_slice(&self.flags.to_be_bytes());
        out.extend_from_slice(&seq.to_be_bytes());
        out.extend_from_slice(&self.secret);
        out.extend_from_slice(&self.subject);
    }

    /// The sequence number of a reply to one of our queries.
    pub fn seq_of(&self, reply: &[u8]) -> Option<u16> {
        if reply.len() < 16 || reply[0] != REPLY || reply[10..16] != self.secret {
            return None;
        }
        Some(u16::from_be_bytes([reply[8], reply[9]]))
    }
}

/// upstream's `putchar_safe`: printable ASCII as is, the rest `\ooo`.
fn push_safe(out: &mut String, b: u8) {
    if (0x20..0x7f).contains(&b) {
        out.push(b as char);
    } else {
        let _ = write!(out, "\\{b:03o}");
    }
}

/// `dn_expand` over `msg`, starting at `at`: the name (labels joined by
/// dots, without the final one) and the bytes used at `at`.
fn dn_expand(msg: &[u8], at: usize) -> Option<(Vec<u8>, usize)> {
    let mut name = Vec::new();
    let mut p = at;
    let mut used = None;
    let mut hops = 0;
    loop {
        let len = *msg.get(p)?;
        match len & 0xc0 {
            0xc0 => {
                let off = (usize::from(len & 0x3f) << 8) | usize::from(*msg.get(p + 1)?);
                used.get_or_insert(p + 2 - at);
                p = off;
                hops += 1;
                if hops > 64 {
                    return None;
                }
            }
            0 if len == 0 => {
                used.get_or_insert(p + 1 - at);
                return Some((name, used.unwrap_or(1)));
            }
            0 => {
                let label = msg.get(p + 1..p + 1 + usize::from(len))?;
                if !name.is_empty() {
                    name.push(b'.');
                }
                name.extend_from_slice(label);
                p += 1 + usize::from(len);
            }
            _ => return None,
        }
    }
}

/// The text upstream's `pr_niquery_reply` prints for a reply (after
/// `from host:`), up to and including `; seq=N;`.
pub fn reply_text(reply: &[u8], seq: u16) -> String {
    let mut s = String::new();
    let code = reply.get(1).copied().unwrap_or(0);
    let qtype = u16::from_be_bytes([
        reply.get(4).copied().unwrap_or(0),
        reply.get(5).copied().unwrap_or(0),
    ]);
    let flags = u16::from_be_bytes([
        reply.get(6).copied().unwrap_or(0),
        reply.get(7).copied().unwrap_or(0),
    ]);
    let data = reply.get(16..).unwrap_or(&[]);
    match code {
        0 => match qtype {
            QTYPE_DNSNAME => {
                if data.len() < 4 {
                    s.push_str(" parse error (too short)");
                } else {
                    let mut p = 4;
                    let mut continued = false;
                    while p < data.len() {
                        if continued {
                            s.push(',');
                        }
                        let Some((name, used)) = dn_expand(data, p) else {
                            s.push_str(" parse error (truncated)");
                            break;
                        };
                        let fqdn = !(p + used < data.len() && data[p + used] == 0);
                        s.push(' ');
                        for b in name {
                            push_safe(&mut s, b);
                        }
                        if fqdn {
                            s.push('.');
                        }
                        p += used + usize::from(!fqdn);
                        continued = true;
                    }
                }
            }
            QTYPE_IPV4ADDR | QTYPE_IPV6ADDR => {
                let alen = if qtype == QTYPE_IPV4ADDR { 4 } else { 16 };
                let mut p = 0;
                let mut continued = false;
                while p < data.len() {
                    if continued {
                        s.push(',');
                    }
                    let Some(a) = data.get(p + 4..p + 4 + alen) else {
                        s.push_str(" parse error (truncated)");
                        break;
                    };
                    if alen == 4 {
                        let _ = write!(s, " {}", Ipv4Addr::new(a[0], a[1], a[2], a[3]));
                    } else {
                        let o: [u8; 16] = a.try_into().unwrap_or([0; 16]);
                        let _ = write!(s, " {}", Ipv6Addr::from(o));
                    }
                    p += 4 + alen;
                    continued = true;
                }
                if flags & FLAG_TRUNCATE != 0 {
                    s.push_str(" (truncated)");
                }
            }
            other => {
                let _ = write!(s, " unknown qtype(0x{other:02x})");
            }
        },
        1 => s.push_str(" refused"),
        2 => s.push_str(" unknown"),
        // upstream applies ntohs to the one-byte code.
        other => {
            let _ = write!(s, " unknown code({:02x})", u16::from(other).swap_bytes());
        }
    }
    let _ = write!(s, "; seq={seq};");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_options_as_upstream() {
        let mut r = Request::default();
        parse(&mut r, "ipv6-all").unwrap();
        parse(&mut r, "ipv6-global").unwrap();
        assert_eq!((r.qtype, r.flags), (Some(QTYPE_IPV6ADDR), 0x22));
        assert_eq!(
            parse(&mut r, "name"),
            Err(Refusal::Conflict("Qtype conflict"))
        );
        assert_eq!(parse(&mut r, "bogus"), Err(Refusal::Unknown));
        assert_eq!(parse(&mut r, "help"), Err(Refusal::Help));
        parse(&mut r, "subject-ipv4=127.0.0.1").unwrap();
        assert_eq!(
            parse(&mut r, "subject-ipv6=::1"),
            Err(Refusal::Conflict("Subject type conflict"))
        );
        assert!(matches!(
            parse(&mut r, "subject-name=x"),
            Err(Refusal::Unsupported(_))
        ));
    }

    #[test]
    fn query_round_trip_and_reply_texts() {
        let mut r = Request::default();
        parse(&mut r, "name").unwrap();
        let q = Query::new(&r, Some(Ipv6Addr::LOCALHOST), None, [1, 2, 3, 4, 5, 6]);
        let mut pkt = Vec::new();
        q.encode(7, &mut pkt);
        assert_eq!(pkt.len(), 16 + 16);
        assert_eq!(&pkt[..8], &[139, 0, 0, 0, 0, 2, 0, 0]);
        // A reply: type 140, success, TTL, then "host.example" and "x" (not FQDN).
        let mut reply = pkt[..16].to_vec();
        reply[0] = REPLY;
        reply.extend_from_slice(&[0, 0, 0, 30]);
        reply.extend_from_slice(b"\x04host\x07example\x00\x01x\x00\x00");
        assert_eq!(q.seq_of(&reply), Some(7));
        assert_eq!(reply_text(&reply, 7), " host.example., x; seq=7;");
        let mut forged = reply.clone();
        forged[12] ^= 1;
        assert_eq!(q.seq_of(&forged), None);
        // Escapes: a control byte in a label is printed \ooo.
        let mut evil = pkt[..16].to_vec();
        evil[0] = REPLY;
        evil.extend_from_slice(&[0, 0, 0, 0]);
        evil.extend_from_slice(b"\x03a\x1bb\x00");
        assert_eq!(reply_text(&evil, 1), " a\\033b.; seq=1;");
        // Addresses, refused.
        let mut addrs = pkt[..16].to_vec();
        addrs[0] = REPLY;
        addrs[5] = 4;
        addrs.extend_from_slice(&[0, 0, 0, 9, 127, 0, 0, 1, 0, 0, 0, 9, 10, 0, 0, 1]);
        assert_eq!(reply_text(&addrs, 2), " 127.0.0.1, 10.0.0.1; seq=2;");
        let mut refused = pkt[..16].to_vec();
        refused[0] = REPLY;
        refused[1] = 1;
        assert_eq!(reply_text(&refused, 3), " refused; seq=3;");
    }
}
