//! The rows of fping: the user runs the staged privsep-fping the way
//! monitoring systems do (alive/unreachable lines, `-C` results, a target
//! file under `-f`), and without a file capability over ICMP datagram
//! sockets; under every LSM configuration, so that a policy that keeps the
//! worker from resolving, reading its target file or using either socket
//! shows as a failed row.

#![forbid(unsafe_code)]

use super::cases::as_user;
use super::datagram::{install_without_capability, with_range, OPEN};
use super::{Env, Verdict, USER_GID, USER_UID};
use crate::sys::{self, Exit};

/// Runs privsep-fping as the user with `args`; passes when it exits with
/// `status` and its output has every line of `lines`.
fn fping(env: &Env, args: &[&str], status: i32, lines: &[&str]) -> Verdict {
    let mut argv = vec!["run", env.tool.launcher_path];
    argv.extend_from_slice(args);
    let mut v = Verdict {
        expect: format!("exit {status} and the lines {lines:?}"),
        ..Default::default()
    };
    match as_user(env, &argv) {
        Ok(r) => {
            let missing: Vec<&str> = lines
                .iter()
                .copied()
                .filter(|l| !r.out.lines().any(|o| o.trim_end() == *l))
                .collect();
            v.pass = r.exit == Exit::Code(status) && missing.is_empty();
            v.outcome = if missing.is_empty() {
                format!("{}", r.exit)
            } else {
                format!("{}, missing {missing:?}", r.exit)
            };
            v.evidence = r.out.trim().replace('\n', " / ");
        }
        Err(e) => v.outcome = e,
    }
    v
}

/// fping-alive: both loopbacks and a name from /etc/hosts alive, a target
/// nobody answers unreachable after its retry; fping's lines and status 1.
pub fn fping_alive(env: &Env) -> Verdict {
    fping(
        env,
        &[
            "-t",
            "100",
            "-r",
            "1",
            "127.0.0.1",
            "::1",
            "localhost",
            "198.18.0.9",
        ],
        1,
        &[
            "127.0.0.1 is alive",
            "::1 is alive",
            "localhost is alive",
            "198.18.0.9 is unreachable",
        ],
    )
}

/// fping-vcount: Smokeping's and Zabbix's form, `-C` with `-q`: one
/// `host : t1 t2` line per target on stderr, status 0.
pub fn fping_vcount(env: &Env) -> Verdict {
    let mut v = fping(
        env,
        &[
            "-C",
            "2",
            "-q",
            "-p",
            "50",
            "-B1",
            "-r1",
            "127.0.0.1",
            "::1",
        ],
        0,
        &[],
    );
    let shape = |line: &str, host: &str| {
        line.strip_prefix(host)
            .and_then(|rest| rest.strip_prefix(" : "))
            .is_some_and(|t| {
                t.split(' ').count() == 2 && t.split(' ').all(|x| x.parse::<f64>().is_ok())
            })
    };
    let ok4 = v.evidence.split(" / ").any(|l| shape(l, "127.0.0.1"));
    let ok6 = v.evidence.split(" / ").any(|l| shape(l, "::1      "));
    v.pass &= ok4 && ok6;
    v.expect = "exit 0, \"127.0.0.1 : t1 t2\" and \"::1       : t1 t2\"".into();
    v
}

/// A file of the user's own in /tmp (owner, mode 0600, and under SELinux
/// the label a file the user creates there gets: user_tmp_t).
fn user_tmp_file(env: &Env, path: &str, content: &str) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::remove_file(path);
    std::fs::write(path, content).map_err(|e| format!("writing {path}: {e}"))?;
    std::os::unix::fs::chown(path, Some(USER_UID), Some(USER_GID))
        .map_err(|e| format!("chown {path}: {e}"))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| format!("chmod {path}: {e}"))?;
    if env.selinux() {
        sys::lsetxattr(path, "security.selinux", b"user_u:object_r:user_tmp_t:s0")
            .map_err(|e| format!("labelling {path}: {e}"))?;
    }
    Ok(())
}

/// fping-file: `-f` with a target list the user wrote in /tmp: the worker
/// reads it before its lock-down (the LSMs must let it).
pub fn fping_file(env: &Env) -> Verdict {
    let path = "/tmp/fping-targets";
    if let Err(e) = user_tmp_file(env, path, "# targets\n127.0.0.1\n::1\n") {
        return Verdict {
            outcome: e,
            ..Default::default()
        };
    }
    let v = fping(
        env,
        &["-f", path],
        0,
        &["127.0.0.1 is alive", "::1 is alive"],
    );
    let _ = std::fs::remove_file(path);
    v
}

/// fping-dgram: no file capability and ping_group_range open: the same
/// targets alive over ICMP datagram sockets.
pub fn fping_dgram(env: &Env) -> Verdict {
    with_range(OPEN, || {
        if let Err(e) = install_without_capability(env) {
            return Verdict {
                outcome: e,
                ..Default::default()
            };
        }
        fping(env, &["-c", "1", "-q", "127.0.0.1", "::1"], 0, &[])
    })
}
