//! ping's steps of the worker sequence ([`crate::driver`]): the ICMP
//! sockets out of the handoff, the command line with iputils' limits for
//! users other than root, the preparation (resolution, socket options,
//! filters, the source address, the `PING` line, the resolver co-process,
//! the signal handlers) and, under the sandbox, the ping loop: 0 if any
//! reply, 1 if none; 1 with upstream's message when stdout could not be
//! written.

#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::unix::ffi::OsStrExt;

use policy::handoff::{HandedSocket, Refusal};
use policy::tools::{Tool, ICMP4, ICMP6, PING};

use super::cli::{self, Options};
use super::engine::{self, Engine};
use super::icmp::{self, Family};
use super::nodeinfo;
use super::resolver::Resolver;
use super::setup::{self, SysIo};
use super::{json, output, resolve};
use crate::driver::{self, Context, Prepared, Sandboxed, Step};
use crate::sys::{self, WaitMask};
use crate::{text, WorkerError};

/// privsep-ping's worker.
pub struct Ping;

/// stdout, remembering whether a write failed (upstream's `close_stdout`
/// status at the end).
#[derive(Default)]
pub struct Stdout {
    failed: bool,
}

impl Stdout {
    fn write(&mut self, bytes: &[u8]) {
        if sys::write_all(1, bytes).is_err() {
            self.failed = true;
        }
    }

    fn status(&self, ok: i32) -> i32 {
        if self.failed {
            1
        } else {
            ok
        }
    }

    /// Status 0 after `-V` or `-N help`, or, when stdout failed, upstream's
    /// `close_stdout`: `ping: write error`, status 1.
    fn exit<T>(&self) -> Result<Step<T>, WorkerError> {
        if self.failed {
            Err(WorkerError::WriteError)
        } else {
            Ok(Step::Exit(0))
        }
    }
}

/// The command line and what parsing it left on stdout.
pub struct Parsed {
    o: Options,
    is_root: bool,
    out: Stdout,
}

/// Everything the loop needs.
pub struct Ready {
    prepared: engine::Prepared,
    io: SysIo,
    out: Stdout,
}

/// `ping4` / `ping6`: upstream picks the family from argv\[0\]'s last character.
fn family_by_name(args: &[OsString]) -> Option<Family> {
    match args.first().and_then(|a| a.as_bytes().last()) {
        Some(b'4') => Some(Family::V4),
        Some(b'6') => Some(Family::V6),
        _ => None,
    }
}

/// upstream's `create_socket` failing for a socket it wanted raw (`-N`,
/// `-e 0`) and could not open: the launcher opened a datagram socket,
/// which is what it can do without `CAP_NET_RAW`; a raw one would have
/// been refused (`EPERM`). `requisite`: the message and exit 2; otherwise
/// only with `-v`, and the family goes unused.
fn raw_refused(cx: &Context, requisite: bool, verbose: bool) -> Option<i32> {
    if requisite || verbose {
        cx.say("socktype: SOCK_RAW");
        cx.say(format!(
            "socket: {}",
            text::os_error_text(&std::io::Error::from_raw_os_error(libc::EPERM))
        ));
    }
    if !requisite {
        return None;
    }
    if sys::effective_uid() != 0 {
        cx.say("=> missing cap_net_raw+p capability or setuid?");
    }
    Some(2)
}

/// upstream's `create_socket` for each socket it tries (IPv4 unless `-6`,
/// then IPv6 unless `-4`) when the launcher could open none: the type and
/// errno of each socket's last attempt, as the launcher handed them over.
/// The IPv4 one is requisite with `-4` only, otherwise its lines need
/// `-v`; the IPv6 one, tried with no IPv4 socket open, always is; the
/// capability hint for a refused raw socket, unless root.
fn sockets_refused(
    cx: &Context,
    refused: &[Refusal],
    family: Option<Family>,
    verbose: bool,
    raw_only: bool,
) -> i32 {
    let (lines, status) = refusal_report(
        refused,
        family,
        verbose,
        raw_only,
        sys::effective_uid() == 0,
    );
    for line in lines {
        cx.say(line);
    }
    status
}

/// [`sockets_refused`]'s lines and exit status. `raw_only` (`-N`, `-e 0`):
/// upstream asks for a raw socket only, so a refusal of the launcher's
/// datagram attempt (an errno it does not fall back on, such as running
/// out of descriptors) is worded as upstream's raw attempt would have
/// ended: `SOCK_RAW`, refused `EPERM` without `CAP_NET_RAW` before the
/// kernel gets as far as a descriptor (what [`raw_refused`] says when a
/// datagram socket was handed over), or the datagram attempt's
/// `EAFNOSUPPORT` where the family itself is missing, which a raw socket
/// meets first.
fn refusal_report(
    refused: &[Refusal],
    family: Option<Family>,
    verbose: bool,
    raw_only: bool,
    root: bool,
) -> (Vec<String>, i32) {
    let mut lines = Vec::new();
    for r in refused {
        let v4 = r.spec.domain == libc::AF_INET;
        let wanted = if v4 { Family::V4 } else { Family::V6 };
        if family.is_some_and(|f| f != wanted) {
            continue;
        }
        let (raw, type_name, errno) = if raw_only && r.kind.ty != libc::SOCK_RAW {
            let errno = if r.errno == libc::EAFNOSUPPORT {
                r.errno
            } else {
                libc::EPERM
            };
            (true, "SOCK_RAW", errno)
        } else {
            (r.kind.ty == libc::SOCK_RAW, r.kind.type_name, r.errno)
        };
        let requisite = !v4 || family == Some(Family::V4);
        if requisite || verbose {
            lines.push(format!("socktype: {type_name}"));
            lines.push(format!(
                "socket: {}",
                text::os_error_text(&std::io::Error::from_raw_os_error(errno))
            ));
        }
        if requisite {
            if raw && !root {
                lines.push("=> missing cap_net_raw+p capability or setuid?".into());
            }
            return (lines, 2);
        }
    }
    (lines, 2)
}

/// The socket type upstream's `-v` names: `SOCK_DGRAM`, `SOCK_RAW`.
fn type_name(s: Option<&HandedSocket>) -> &'static str {
    s.and_then(|s| s.kind).map_or("0", |k| k.type_name)
}

impl driver::Worker for Ping {
    const TOOL: &'static Tool = &PING;
    const FAILURE: i32 = 2;
    type Handed = Vec<HandedSocket>;
    type Options = Parsed;
    type Ready = Ready;

    fn usage() -> &'static str {
        output::usage()
    }

    fn take(_cx: &Context, handed: &[HandedSocket]) -> Result<Vec<HandedSocket>, WorkerError> {
        Ok(handed.to_vec())
    }

    /// The command line, with iputils' limits for users other than root
    /// (real uid 0: the worker itself never holds a capability).
    fn parse(cx: &Context, _handed: &Vec<HandedSocket>) -> Result<Step<Parsed>, WorkerError> {
        let is_root = sys::real_uid() == 0;
        let ptr_off = std::env::var_os("IPUTILS_PING_PTR_LOOKUP").is_some_and(|v| v == "0");
        // -N's subject names resolve while parsing, as upstream's do.
        let subject = |name: &str, fam: Family| {
            resolve::resolve(name, Some(fam), true, false)
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        let outcome = cli::parse_resolving(
            cx.operands(),
            is_root,
            family_by_name(&cx.args),
            ptr_off,
            &subject,
        );
        for w in &outcome.warnings {
            cx.say(w);
        }
        let mut out = Stdout::default();
        if let Some(line) = &outcome.pattern_line {
            out.write(format!("{line}\n").as_bytes());
        }
        let o = match outcome.result? {
            cli::Parsed::Run(o) => *o,
            cli::Parsed::Help => return Err(WorkerError::Usage(None)),
            cli::Parsed::NodeInfoHelp => {
                out.write(nodeinfo::HELP.as_bytes());
                return out.exit();
            }
            cli::Parsed::Version { json: false } => {
                out.write(format!("{}\n", output::version()).as_bytes());
                return out.exit();
            }
            cli::Parsed::Version { json: true } => {
                let mut line = String::new();
                json::version(&mut line);
                out.write(line.as_bytes());
                return out.exit();
            }
        };
        Ok(Step::Go(Parsed { o, is_root, out }))
    }

    /// No socket at all (no capability, the kernel's ping range closed):
    /// upstream's `create_socket` lines, which come after its whole
    /// command line (`-V`, `-h` and usage errors first), exit 2.
    fn refused(cx: &Context, parsed: &Parsed, refused: &[Refusal]) -> Result<i32, WorkerError> {
        let o = &parsed.o;
        if o.verbose && o.ident == Some(0) {
            cx.say("WARNING: ident 0 => forcing raw socket");
        }
        Ok(parsed
            .out
            .status(sockets_refused(
                cx,
                refused,
                o.family,
                o.verbose,
                o.nodeinfo.is_some() || o.ident == Some(0),
            )))
    }

    /// Resolves the destination (and its reverse name unless -n): the only
    /// step that reads files or does DNS; names of other addresses come
    /// later from the resolver co-process. Then socket options, filters,
    /// the source address (everything the sandbox forbids), the PING line
    /// and, as in iputils' setup(), the interval limits.
    fn prepare(
        cx: &Context,
        sockets: Vec<HandedSocket>,
        parsed: Parsed,
    ) -> Result<Step<Prepared<Ready>>, WorkerError> {
        let Parsed {
            mut o,
            is_root,
            mut out,
        } = parsed;
        let socket_of = |spec| sockets.iter().find(|s| s.spec == spec);
        let (mut sock4, mut sock6) = (socket_of(&ICMP4), socket_of(&ICMP6));
        // -N and -e 0 need raw sockets (iputils: node information queries
        // and identifier 0 are not for datagram sockets). The launcher never
        // reads the options: it opened a datagram socket because the kernel
        // admits the caller to one, and without CAP_NET_RAW (the install
        // where ping sockets are open to all) a raw one would be refused.
        // upstream's create_socket fails then, in its words.
        if o.nodeinfo.is_some() || o.ident == Some(0) {
            if o.verbose && o.ident == Some(0) {
                cx.say("WARNING: ident 0 => forcing raw socket");
            }
            if o.family != Some(Family::V6) && sock4.is_some_and(HandedSocket::is_datagram) {
                sock4 = None;
                if let Some(status) = raw_refused(cx, o.family == Some(Family::V4), o.verbose) {
                    return Ok(Step::Exit(status));
                }
            }
            if o.family != Some(Family::V4) && sock6.is_some_and(HandedSocket::is_datagram) {
                sock6 = None;
                if let Some(status) = raw_refused(cx, sock4.is_none(), o.verbose) {
                    return Ok(Step::Exit(status));
                }
            }
        }
        let (fd4, fd6) = (sock4.map(|s| s.fd), sock6.map(|s| s.fd));
        let family = resolve::wanted_family(o.family, fd4.is_some(), fd6.is_some())?;
        let v4_max = icmp::MAX_DATALEN_V4 - o.ipv4_optlen();
        let max_size = match family {
            Some(Family::V4) => v4_max,
            Some(Family::V6) => icmp::MAX_DATALEN_V6,
            None if o.destination.parse::<Ipv4Addr>().is_ok() => v4_max,
            None if o.destination.parse::<Ipv6Addr>().is_ok() => icmp::MAX_DATALEN_V6,
            None => v4_max.max(icmp::MAX_DATALEN_V6),
        };
        if let Some(e) = cli::size_error(o.datalen, max_size) {
            return Err(e);
        }
        if o.verbose {
            let fam = match family {
                None => "AF_UNSPEC",
                Some(Family::V4) => "AF_INET",
                Some(Family::V6) => "AF_INET6",
            };
            let show = |s: Option<&HandedSocket>| match s {
                Some(h) => format!("{} (socktype: {})", h.fd, type_name(s)),
                None => "-1 (socktype: 0)".to_string(),
            };
            // As upstream's latest release (20250605): one line (20240905's
            // message ended in a "\n" of its own, an empty line after it).
            cx.say(format!(
                "sock4.fd: {}, sock6.fd: {}, hints.ai_family: {fam}",
                show(sock4),
                show(sock6)
            ));
        }
        // upstream warns before resolving: on a datagram socket a link-local
        // destination needs its interface (`fe80::1%eth0`).
        if sock6.is_some_and(HandedSocket::is_datagram) && !o.destination.contains('%') {
            if let Ok(a) = o.destination.parse::<Ipv6Addr>() {
                let s = a.segments()[0];
                if (s & 0xffc0) == 0xfe80 || (s & 0xff0f) == 0xff02 {
                    cx.say(
                        "Warning: IPv6 link-local address on ICMP datagram socket may require ifname or scope-id => use: address%<ifname|scope-id>",
                    );
                }
            }
        }
        let target = resolve::resolve(&o.destination, family, o.numeric, o.force_lookup)?;
        if o.verbose {
            let fam = if target.family == Family::V4 {
                "AF_INET"
            } else {
                "AF_INET6"
            };
            // As upstream's latest release (20250605): on stderr, named
            // (20240905 printed it on stdout, without the program's name).
            let canon = text::printable(target.canonname.as_deref().unwrap_or("")).into_owned();
            cx.say(format!("ai->ai_family: {fam}, ai->ai_canonname: '{canon}'"));
        }
        if !cli::hops_allowed(&o, target.family) {
            return Err(WorkerError::Usage(None));
        }
        // upstream: a numeric destination (and no hops) turns -n on.
        let lone = o.destinations.len() == 1 || target.family == Family::V6;
        if target.numeric_dest && lone {
            o.numeric = true;
        }
        let (sock, other) = match target.family {
            Family::V4 => (sock4, fd6),
            Family::V6 => (sock6, fd4),
        };
        let Some(sock) = sock else {
            return Err(WorkerError::fatal(
                "no socket for the destination's address family",
            ));
        };
        let (fd, datagram) = (sock.fd, sock.is_datagram());
        let route = if target.family == Family::V4 {
            setup::resolve_hops(&o)?
        } else {
            Vec::new()
        };
        let route = &route[..route.len().saturating_sub(1)];
        let nodeinfo = nodeinfo_query(cx, &o, &target)?;

        let json_mode = o.json;
        let lookups = o.lookups();
        let mut warn = |m: String| cx.say(m);
        let mut ops = setup::SysOps::new(fd, other);
        let request = setup::Request {
            o,
            target,
            datagram,
            is_root,
            prog: &cx.prog,
            route,
            nodeinfo,
        };
        let mut prepared = setup::prepare(&mut ops, request, &mut warn)?;
        // -j: upstream emits no object for the PING line.
        if !json_mode {
            out.write(format!("{}\n", prepared.header).as_bytes());
        }
        // The resolver co-process, forked before the signal handlers and
        // the sandbox, and only when names are looked up at all.
        let resolver = if lookups {
            match Resolver::spawn() {
                Ok(r) => Some(r),
                Err(e) => {
                    cx.say(format!("resolver: {}", text::os_error_text(&e)));
                    None
                }
            }
        } else {
            None
        };
        let wait_mask: WaitMask = match prepared.finish(&mut ops, &mut warn) {
            Ok(m) => m,
            Err(e) => {
                // Upstream reports these setup() checks through
                // ping_error(), a JSON error object on stdout under -j; the
                // one line on stderr is kept as well.
                if json_mode {
                    let mut line = String::new();
                    json::error(&mut line, &e.to_string());
                    out.write(line.as_bytes());
                }
                return Err(e);
            }
        };
        // The resolver channel is kept under lock-down.
        let keep = resolver.iter().map(Resolver::fd).collect();
        Ok(Step::Go(Prepared {
            ready: Ready {
                prepared: prepared.prepared,
                io: SysIo {
                    fd,
                    wait_mask,
                    resolver,
                },
                out,
            },
            keep,
        }))
    }

    /// Pings until done; the summary; 0 if any reply, 1 if none; 1 with
    /// upstream's message when stdout could not be written.
    fn run(cx: &Context, sandboxed: Sandboxed<Ready>) -> Result<i32, WorkerError> {
        let (ready, report) = sandboxed.into_parts();
        // -v -v: privsep's own lines (upstream's -v has neither).
        if ready.prepared.o.sandbox_report {
            cx.say(format!("ident: {:#06x}", ready.prepared.ident));
            for line in report.to_string().lines() {
                cx.say(format!("sandbox: {line}"));
            }
        }
        let mut engine = Engine::new(ready.prepared, ready.io);
        let status = engine.run();
        if ready.out.failed || engine.write_failed() {
            return Err(WorkerError::WriteError);
        }
        Ok(status)
    }
}

/// -N (IPv6 only, as upstream): the query, its subject resolved now. A
/// subject that does not resolve is its message, then the node
/// information help (upstream's `niquery_option_subject_addr_handler`).
fn nodeinfo_query(
    cx: &Context,
    o: &Options,
    target: &resolve::Target,
) -> Result<Option<nodeinfo::Query>, WorkerError> {
    let (Some(req), Family::V6) = (&o.nodeinfo, target.family) else {
        return Ok(None);
    };
    let (mut v6, mut v4) = (None, None);
    if let IpAddr::V6(a) = target.addr.ip() {
        v6 = Some(a);
    }
    if let Some((code, name)) = &req.subject {
        let fam = if *code == nodeinfo::SUBJ_IPV4 {
            Family::V4
        } else {
            Family::V6
        };
        match resolve::resolve(name, Some(fam), true, false).map(|t| t.addr.ip()) {
            Ok(IpAddr::V4(a)) => v4 = Some(a),
            Ok(IpAddr::V6(a)) => v6 = Some(a),
            Err(e) => {
                cx.say(e);
                return Err(WorkerError::NodeInfoHelp(None));
            }
        }
    }
    let r = sys::random_u16().unwrap_or(0).to_ne_bytes();
    let s = sys::random_u16().unwrap_or(0).to_ne_bytes();
    let t = sys::random_u16().unwrap_or(0).to_ne_bytes();
    let secret = [r[0], r[1], s[0], s[1], t[0], t[1]];
    Ok(Some(nodeinfo::Query::new(req, v6, v4, secret)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(spec: &'static policy::tools::SocketSpec, ty: i32, errno: i32) -> Refusal {
        let kind = spec.kinds.iter().find(|k| k.ty == ty).unwrap();
        Refusal { spec, kind, errno }
    }

    fn text(errno: i32) -> String {
        text::os_error_text(&std::io::Error::from_raw_os_error(errno))
    }

    #[test]
    fn a_refused_datagram_socket_is_named_as_the_launcher_tried_it() {
        let refused = [refusal(&ICMP4, libc::SOCK_DGRAM, libc::EMFILE)];
        let (lines, status) = refusal_report(&refused, Some(Family::V4), false, false, false);
        assert_eq!(status, 2);
        assert_eq!(
            lines,
            ["socktype: SOCK_DGRAM".to_string(), format!("socket: {}", text(libc::EMFILE))]
        );
    }

    #[test]
    fn ident_zero_words_a_refused_datagram_attempt_as_upstream_raw_one() {
        // upstream's -e 0 (and -N) asks for a raw socket only: without
        // CAP_NET_RAW the kernel refuses it EPERM, with the capability hint.
        let refused = [refusal(&ICMP4, libc::SOCK_DGRAM, libc::EMFILE)];
        let (lines, status) = refusal_report(&refused, Some(Family::V4), false, true, false);
        assert_eq!(status, 2);
        assert_eq!(
            lines,
            [
                "socktype: SOCK_RAW".to_string(),
                format!("socket: {}", text(libc::EPERM)),
                "=> missing cap_net_raw+p capability or setuid?".to_string(),
            ]
        );
        // Root gets no hint, as upstream's geteuid() check.
        let (lines, _) = refusal_report(&refused, Some(Family::V4), false, true, true);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0], "socktype: SOCK_RAW");
    }

    #[test]
    fn ident_zero_keeps_a_missing_family_and_a_raw_refusal_as_they_are() {
        // IPv6 off: a raw socket meets EAFNOSUPPORT too.
        let refused = [
            refusal(&ICMP4, libc::SOCK_RAW, libc::EPERM),
            refusal(&ICMP6, libc::SOCK_DGRAM, libc::EAFNOSUPPORT),
        ];
        let (lines, status) = refusal_report(&refused, None, true, true, false);
        assert_eq!(status, 2);
        assert_eq!(
            lines,
            [
                "socktype: SOCK_RAW".to_string(),
                format!("socket: {}", text(libc::EPERM)),
                "socktype: SOCK_RAW".to_string(),
                format!("socket: {}", text(libc::EAFNOSUPPORT)),
                "=> missing cap_net_raw+p capability or setuid?".to_string(),
            ]
        );
        // Without -v the IPv4 attempt, not requisite, says nothing.
        let (lines, _) = refusal_report(&refused, None, false, true, false);
        assert_eq!(lines[0], "socktype: SOCK_RAW");
        assert_eq!(lines[1], format!("socket: {}", text(libc::EAFNOSUPPORT)));
        assert_eq!(lines.len(), 3);
    }
}
