//! `hostile-forge KIND [TARGET] -- WORKER ARGS…`: the local user who starts
//! the worker by hand (it is 0711: exec works) with a forged socket-activation
//! handoff, hoping it will send through whatever it finds at fd 3. Puts a
//! descriptor of KIND at fd 3, sets `LISTEN_FDS=1`, `LISTEN_PID` to its own
//! pid (kept across exec) and `LISTEN_FDNAMES=icmp4`, then execs WORKER.
//!
//! KIND: `udp` / `tcp` (connected to TARGET, `127.0.0.1:PORT`), `unix`
//! (a socketpair), `file` (TARGET, opened for writing), `pipe` (TARGET is
//! ignored; the read end is dropped), `none` (fd 3 closed), `wrong-pid`
//! (a UDP socket to TARGET but `LISTEN_PID=1`), `packet` (an ARP packet
//! socket without the launcher's locked filter: only creatable where the
//! user holds `CAP_NET_RAW`, as in a user namespace of its own).
//!
//! `FORGE_FDNAME` replaces the name in `LISTEN_FDNAMES` (default `icmp4`),
//! to forge arping's `arp`.

#![deny(unsafe_code)]

use std::os::fd::{AsRawFd, IntoRawFd};
use std::os::unix::process::CommandExt;
use std::process::Command;

use anyhow::{bail, Context, Result};

fn main() -> Result<()> {
    #[allow(unsafe_code)]
    // SAFETY: first thing in main: nothing owns a descriptor above 2 yet.
    unsafe { hostile::sys::close_from_3() }.context("close_range")?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(sep) = args.iter().position(|a| a == "--") else {
        bail!("usage: hostile-forge KIND [TARGET] -- WORKER ARGS…");
    };
    let (head, tail) = (&args[..sep], &args[sep + 1..]);
    let kind = head.first().context("KIND")?.as_str();
    let target = head.get(1).cloned().unwrap_or_default();
    let Some((worker, worker_args)) = tail.split_first() else {
        bail!("no WORKER")
    };

    let fd3 = |fd: i32| -> Result<()> {
        if fd != 3 {
            bail!("descriptor landed at {fd}, not 3 (is fd 3 already open?)");
        }
        Ok(())
    };
    // fds 0–2 are open, 3 is the lowest free one (closed above): the first
    // descriptor we create lands there. Each is leaked on purpose (into_raw_fd).
    let mut pid = std::process::id().to_string();
    match kind {
        "udp" | "wrong-pid" => {
            let s = std::net::UdpSocket::bind("127.0.0.1:0").context("udp bind")?;
            s.connect(&target).context("udp connect")?;
            fd3(s.into_raw_fd())?;
            if kind == "wrong-pid" {
                pid = "1".into();
            }
        }
        "tcp" => {
            let s = std::net::TcpStream::connect(&target).context("tcp connect")?;
            fd3(s.into_raw_fd())?;
        }
        "unix" => {
            let (a, b) = std::os::unix::net::UnixDatagram::pair().context("socketpair")?;
            fd3(a.into_raw_fd())?;
            std::mem::forget(b);
        }
        "file" => {
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(&target)
                .context("open file")?;
            fd3(f.into_raw_fd())?;
        }
        "pipe" => {
            let (r, w) = std::io::pipe().context("pipe")?;
            fd3(r.as_raw_fd())?;
            // Keep the read end at 3 and the write end open too.
            std::mem::forget(r);
            std::mem::forget(w);
        }
        "packet" => {
            let fd = launcher::sys::socket(
                libc::AF_PACKET,
                libc::SOCK_DGRAM,
                policy::tools::ARP.protocol,
            )
            .map_err(|e| std::io::Error::from_raw_os_error(e.0))
            .context("packet socket")?;
            fd3(fd)?;
        }
        "none" => {}
        other => bail!("unknown KIND {other:?}"),
    }
    // std opens everything close-on-exec: fd 3 must survive the exec.
    let mut cmd = Command::new(worker);
    cmd.args(worker_args)
        .env("LISTEN_FDS", "1")
        .env("LISTEN_PID", &pid)
        .env(
            "LISTEN_FDNAMES",
            std::env::var("FORGE_FDNAME").unwrap_or_else(|_| "icmp4".into()),
        );
    if kind != "none" {
        hostile::sys::set_start_state(
            &mut cmd,
            hostile::sys::StartState {
                extra_fds: vec![(3, 3)],
                ..Default::default()
            },
        );
    }
    let err = cmd.exec();
    bail!("exec {worker}: {err}")
}
