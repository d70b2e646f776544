//! The rows: each [`Row`] names the tools it runs for, an id, the
//! configurations it applies to, its expectation in words, and a function
//! that runs in a forked child of PID 1 (as root, its own process group,
//! killed at the timeout) for the tool in [`Env::tool`]. The attack rows
//! (compromised worker `cw-*`, compromised launcher `cl-*`, launcher copies,
//! mislabelled workers) are written once against the tool's descriptor
//! (`policy::tools`: paths, file capabilities, sockets, SELinux types,
//! TOMOYO domains) and run for every listed tool; rows that need a real
//! worker's behaviour (ping's echo, its `-v -v` report) name their tool. Cases
//! act as the unprivileged user through [`as_user`]; they change the install
//! (a probe at the worker's path, a relabelled worker…) freely: PID 1
//! reinstalls every tool's stock launcher and worker after every case.
//!
//! To add a row: write a `fn(&Env) -> Verdict` (usually a call of [`cw`]
//! with the expectation per configuration from [`cw_expect`], or
//! [`as_user`] followed by [`judge`]) and add it to [`ROWS`].

#![forbid(unsafe_code)]

use std::io::Read;

use policy::tools::{SocketSpec, Tool};

use super::apparmor as aa;
use super::setup::{install, stock};
use super::{Env, Verdict, STOCK, USER_CONTEXT, USER_GID, USER_SHELL, USER_UID};
use crate::sys::{self, Exit, Fork};

/// Which tools a row runs for.
#[derive(Debug, Clone, Copy)]
pub enum Tools {
    /// Every listed tool: the shared attack rows.
    Every,
    /// Once per boot, with the first listed tool: rows about the system (the LSMs, the user,
    /// Landlock's scopes), not about a tool.
    Once,
    /// Only these tools: rows about one tool's own behaviour, run with
    /// its real worker.
    Only(&'static [&'static str]),
    /// The tools whose descriptor has the property: rows about what a
    /// kind of resource allows (a new tool gets them from its descriptor).
    When(fn(&Tool) -> bool),
}

impl Tools {
    /// Whether the row runs for `tool`, `first` being the first listed tool.
    pub fn includes(self, tool: &Tool, first: &Tool) -> bool {
        match self {
            Tools::Every => true,
            Tools::Once => tool.name == first.name,
            Tools::Only(names) => names.contains(&tool.name),
            Tools::When(has) => has(tool),
        }
    }
}

/// One row.
pub struct Row {
    /// Which tools.
    pub tools: Tools,
    /// Stable id, used in results and in `VM_CASES=`.
    pub id: &'static str,
    /// Whether the case runs in this configuration.
    pub applies: fn(&Env) -> bool,
    /// The expectation, in words (the function states it per configuration).
    pub expect: &'static str,
    /// The case itself, for `env.tool`.
    pub run: fn(&Env) -> Verdict,
}

fn all(_: &Env) -> bool {
    true
}
fn with_selinux(env: &Env) -> bool {
    env.selinux()
}
fn with_tomoyo(env: &Env) -> bool {
    env.tomoyo()
}
fn with_lsm(env: &Env) -> bool {
    env.selinux() || env.tomoyo() || env.apparmor()
}
fn without_lsm(env: &Env) -> bool {
    !env.selinux() && !env.tomoyo() && !env.apparmor()
}
fn with_apparmor(env: &Env) -> bool {
    env.apparmor()
}

use Tools::{Every, Once, Only, When};
const PING: Tools = Only(&["ping"]);
/// The worker's first handed socket (fd 3, where the probe acts) is an
/// IPv4 socket that can be raw.
const RAW4_AT_FD3: Tools = When(|t| {
    t.worker_handoff().first().is_some_and(|s| {
        s.domain == libc::AF_INET && s.kinds.iter().any(|k| k.ty == libc::SOCK_RAW)
    })
});
/// The tool has a broker.
const BROKERED: Tools = When(|t| t.broker.is_some());
const MTR_PACKET: Tools = Only(&["mtr-packet"]);
const FPING: Tools = Only(&["fping"]);

/// The table.
#[rustfmt::skip]
pub const ROWS: &[Row] = &[
    Row { tools: Once, id: "lsm-active", applies: all, expect: "exactly the configured major LSMs are active and enforcing", run: lsm_active },
    Row { tools: Once, id: "user-unprivileged", applies: all, expect: "cases run as uid 1000, no capabilities, in user_t under SELinux", run: user_unprivileged },
    Row { tools: Once, id: "user-raw-socket", applies: all, expect: "the user cannot open a raw socket without the launcher", run: user_raw_socket },
    Row { tools: Once, id: "landlock-scope-signal", applies: without_lsm, expect: "a Landlock-sandboxed process signals a process outside its domain: denied from ABI 6 (6.12) on, allowed before (known limit; the worker's seccomp filter stops kill there)", run: landlock_scope_signal },
    Row { tools: Once, id: "landlock-scope-unix", applies: without_lsm, expect: "a Landlock-sandboxed process connects to an abstract unix socket outside its domain: denied from ABI 6 (6.12) on, allowed before (known limit; seccomp stops connect there)", run: landlock_scope_unix },
    Row { tools: PING, id: "ping-v4", applies: all, expect: "the user pings 127.0.0.1 through the launcher: exit 0, 1 received", run: ping_v4 },
    Row { tools: PING, id: "ping-v6", applies: all, expect: "the user pings ::1 through the launcher: exit 0, 1 received", run: ping_v6 },
    Row { tools: PING, id: "ping-name", applies: all, expect: "the user pings localhost (a name, from /etc/hosts): exit 0, 1 received, the reply named, the resolver co-process started (nothing on stderr)", run: ping_name },
    Row { tools: PING, id: "landlock-abi", applies: all, expect: "the worker's -v report names the kernel's Landlock ABI (2 on 6.1, 6 on 6.12) and says partially enforced below the profile's ABI", run: landlock_abi },
    Row { tools: Every, id: "launcher-domain", applies: all, expect: "the launcher runs in its SELinux domain / its TOMOYO domain with exactly its file capabilities permitted", run: launcher_domain },
    Row { tools: Every, id: "worker-domain", applies: all, expect: "the worker runs in its SELinux domain / the TOMOYO domain below the launcher's", run: worker_domain },
    Row { tools: Every, id: "worker-no-caps", applies: all, expect: "the worker holds no capability and runs as the user", run: worker_no_caps },
    Row { tools: Every, id: "handoff-fds", applies: all, expect: "fds 3… of the worker are the tool's sockets, in the descriptor's order (not revoked at the transition)", run: handoff_fds },
    Row { tools: Every, id: "handoff-priority", applies: all, expect: "the worker runs at the nice value the descriptor gives (clockdiff -16), 0 for tools without one", run: handoff_priority },
    Row { tools: Every, id: "nnp-transition", applies: all, expect: "the worker runs with no_new_privs set, in its own domain (nnp_transition)", run: nnp_transition },
    Row { tools: BROKERED, id: "broker-domain", applies: all, expect: "the broker runs its own program as the user's child of the worker, in its SELinux domain / the TOMOYO domain below the launcher's, with no capability, no_new_privs and seccomp, holding its handoff only (arping: the packet socket and its channel; mtr-packet: its channel)", run: broker_domain },
    Row { tools: MTR_PACKET, id: "mtr-stream-probes", applies: all, expect: "the user's TCP probes to 127.0.0.1 and ::1 port 1 are answered (reply: refused is an answer) through the broker, in every policy; check-support tcp ok; exit 0", run: mtr_stream_probes },
    Row { tools: Every, id: "cw-raw-socket4", applies: all, expect: "compromised worker: socket(AF_INET, SOCK_RAW) denied", run: cw_raw_socket4 },
    Row { tools: Every, id: "cw-raw-socket6", applies: all, expect: "compromised worker: socket(AF_INET6, SOCK_RAW) denied", run: cw_raw_socket6 },
    Row { tools: Every, id: "cw-packet-socket", applies: all, expect: "compromised worker: socket(AF_PACKET, SOCK_RAW, ETH_P_ALL) denied", run: cw_packet_socket },
    Row { tools: Every, id: "cw-nice-lower", applies: all, expect: "compromised worker: setpriority below the nice value it was handed denied", run: cw_nice_lower },
    Row { tools: Every, id: "cw-exec-sh", applies: all, expect: "compromised worker: execve of the shell (/usr/bin/sh, where /bin/sh leads) denied", run: cw_exec_sh },
    Row { tools: Every, id: "cw-exec-launcher", applies: all, expect: "compromised worker: execve of its launcher (to regain the capability) denied", run: cw_exec_launcher },
    Row { tools: RAW4_AT_FD3, id: "cw-hdrincl", applies: all, expect: "compromised worker: setsockopt(IP_HDRINCL) on the inherited raw socket", run: cw_hdrincl },
    Row { tools: Every, id: "cw-ptrace", applies: all, expect: "compromised worker: ptrace(PTRACE_ATTACH) of its parent denied", run: cw_ptrace },
    Row { tools: Every, id: "cw-read-shadow", applies: all, expect: "compromised worker: open(/etc/shadow) denied (the file is world-readable on purpose)", run: cw_read_shadow },
    Row { tools: Every, id: "cl-exec-sh", applies: all, expect: "compromised launcher: execve(/bin/sh) denied by the LSM (nothing stops it without one)", run: cl_exec_sh },
    Row { tools: Every, id: "cl-exec-other", applies: all, expect: "compromised launcher: execve of another program denied by the LSM", run: cl_exec_other },
    Row { tools: Every, id: "cl-exec-worker", applies: all, expect: "compromised launcher: execve of its worker still works and lands in the worker's domain", run: cl_exec_worker },
    Row { tools: Every, id: "launcher-copy", applies: with_selinux, expect: "the launcher's file capability at another path (bin_t) cannot open the tool's socket", run: launcher_copy },
    Row { tools: Every, id: "launcher-copy-real", applies: with_selinux, expect: "the real launcher copied elsewhere (bin_t, same file capability) starts no worker", run: launcher_copy_real },
    Row { tools: Every, id: "worker-mislabeled", applies: with_selinux, expect: "worker labelled bin_t: the launcher's exec fails closed (EACCES, exit 2), never runs it in the launcher's domain", run: worker_mislabeled },
    Row { tools: PING, id: "user-ptrace-worker", applies: all, expect: "the user cannot ptrace the running worker", run: user_ptrace_worker },
    Row { tools: PING, id: "user-procfd-worker", applies: all, expect: "the user cannot list /proc/<worker>/fd", run: user_procfd_worker },
    Row { tools: PING, id: "user-getfd-worker", applies: all, expect: "the user cannot take the worker's socket with pidfd_getfd", run: user_getfd_worker },
    Row { tools: Every, id: "cl-exec-twin", applies: with_lsm, expect: "compromised launcher: a second copy of the worker under another name is not executable (the rule names the path/label, not the content)", run: cl_exec_twin },
    Row { tools: Every, id: "cl-exec-twin-labelled", applies: with_lsm, expect: "compromised launcher: a copy of the worker under another name WITH the worker's label: SELinux allows it (the label is the identity), TOMOYO denies it (the path is)", run: cl_exec_twin_labelled },
    Row { tools: Every, id: "worker-direct", applies: all, expect: "the user runs the worker without the launcher: it refuses (exit 2) or, under SELinux, cannot even be executed", run: worker_direct },
    Row { tools: PING, id: "cw-udp-send", applies: all, expect: "compromised worker: a new UDP socket sending to 127.0.0.1:9 (not DNS)", run: cw_udp_send },
    Row { tools: PING, id: "ping-dgram", applies: all, expect: "no file capability, ping_group_range open: the user pings 127.0.0.1 and ::1 over ICMP datagram sockets, exit 0", run: super::datagram::ping_dgram },
    Row { tools: PING, id: "ping-dgram-bind", applies: all, expect: "no file capability, ping_group_range open: the user's ping binds its ICMP datagram socket (-I ADDRESS, -I IFACE, -e ID), exit 0, 1 received", run: super::datagram::ping_dgram_bind },
    Row { tools: PING, id: "ping-dgram-bind6", applies: all, expect: "as ping-dgram-bind, over ICMPv6 (-I ::1, -I lo, -e ID)", run: super::datagram::ping_dgram_bind6 },
    Row { tools: PING, id: "ping-nocap-closed", applies: all, expect: "no file capability, ping_group_range closed: iputils' message after the command line (from the worker, holding no socket), exit 2; -V exit 0", run: super::datagram::ping_nocap_closed },
    Row { tools: Every, id: "cw-icmp-socket", applies: all, expect: "compromised worker, ping_group_range open: socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP) denied (TOMOYO alone: a documented limit)", run: super::datagram::cw_icmp_socket },
    Row { tools: Every, id: "aa-launcher-copy-real", applies: with_apparmor, expect: "the real launcher copied elsewhere by root (same file capability) runs unconfined and so does the worker it starts: AppArmor confines by path (known limit; SELinux's label stays bin_t there)", run: aa::launcher_copy_real },
    Row { tools: Every, id: "aa-inherit-revalidated", applies: with_apparmor, expect: "with the handed socket kinds taken out of the worker's profile, AppArmor revokes the inherited sockets at the exec (file_inherit; 6.1: a null file in their place, 6.12: closed): what the worker's network rules are for", run: aa::inherit_revalidated },
    Row { tools: Every, id: "aa-nnp-plain-px", applies: with_apparmor, expect: "with the launcher's transition not stacked (Px -> worker), no_new_privs makes the exec fail: the launcher exits 2, the worker never runs", run: aa::nnp_plain_px },
    Row { tools: FPING, id: "fping-alive", applies: all, expect: "the user fpings 127.0.0.1, ::1, localhost (from /etc/hosts) and a dead address: three \"is alive\", one \"is unreachable\", exit 1", run: super::fping::fping_alive },
    Row { tools: FPING, id: "fping-vcount", applies: all, expect: "the user runs Smokeping's -C 2 -q -B1 -r1: one \"host : t1 t2\" line per target, exit 0", run: super::fping::fping_vcount },
    Row { tools: FPING, id: "fping-file", applies: all, expect: "the user's -f target file in /tmp is read before lock-down (SELinux, AppArmor allow it): both targets alive, exit 0", run: super::fping::fping_file },
    Row { tools: FPING, id: "fping-dgram", applies: all, expect: "no file capability, ping_group_range open: the user fpings 127.0.0.1 and ::1 over ICMP datagram sockets, exit 0", run: super::fping::fping_dgram },
    Row { tools: PING, id: "tomoyo-address-group", applies: with_tomoyo, expect: "with PRIVSEP_PING_TARGETS narrowed to 127.0.0.2, pinging 127.0.0.1 is refused by TOMOYO at its first network call to the target (the UDP route probe, network inet dgram send … 1025), logged", run: tomoyo_address_group },
];

/// What a run as the user produced.
#[derive(Debug)]
pub struct UserRun {
    /// How the user shell ended.
    pub exit: Exit,
    /// stdout and stderr, interleaved.
    pub out: String,
}

impl UserRun {
    fn evidence(&self) -> String {
        format!(
            "{}; output: {}",
            self.exit,
            self.out.trim().replace('\n', " / ")
        )
    }
    /// The probe's report line, if any.
    fn probe_line(&self) -> Option<&str> {
        self.out.lines().find(|l| l.starts_with("PROBE "))
    }
}

/// Runs the user shell with `args` as uid 1000 (and `user_t` under SELinux).
pub fn as_user(env: &Env, args: &[&str]) -> Result<UserRun, String> {
    as_user_watching(env, args, |_| {})
}

/// [`as_user`], calling `watch` with each line of output as it arrives (the
/// program is still running: the case may inspect it from outside).
pub fn as_user_watching(
    env: &Env,
    args: &[&str],
    mut watch: impl FnMut(&str),
) -> Result<UserRun, String> {
    let (rd, wr) = sys::pipe().map_err(|e| format!("pipe: {e}"))?;
    match sys::fork().map_err(|e| format!("fork: {e}"))? {
        Fork::Child => {
            let _ = sys::dup2(wr, 1);
            let _ = sys::dup2(wr, 2);
            // Not the console: a user's session has its own stdin.
            if let Ok(null) = std::fs::File::open("/dev/null") {
                let _ = sys::dup2(std::os::fd::AsRawFd::as_raw_fd(&null), 0);
            }
            if env.selinux() {
                // setexeccon(3): the attribute file exists; no O_CREAT (that would be a denied `create`).
                let set = std::fs::OpenOptions::new()
                    .write(true)
                    .open("/proc/self/attr/exec")
                    .and_then(|mut f| std::io::Write::write_all(&mut f, USER_CONTEXT.as_bytes()));
                if let Err(e) = set {
                    println!("as_user: setexeccon {USER_CONTEXT}: {e}");
                    std::process::exit(120);
                }
            }
            if let Err(e) = sys::become_user(USER_UID, USER_GID) {
                println!("as_user: setuid: {e}");
                std::process::exit(121);
            }
            let mut argv = vec!["vmtest-sh".to_string()];
            argv.extend(args.iter().map(|s| s.to_string()));
            let env: Vec<String> = super::user::USER_ENV
                .iter()
                .map(|s| s.to_string())
                .collect();
            let e = sys::execve(USER_SHELL, &argv, &env);
            println!("as_user: exec {USER_SHELL}: {e}");
            std::process::exit(122);
        }
        Fork::Parent(pid) => {
            sys::close(wr);
            let reader = std::io::BufReader::new(std::fs::File::from(sys::owned_fd(rd)));
            let mut out = String::new();
            for line in std::io::BufRead::lines(reader) {
                let Ok(line) = line else { break };
                watch(&line);
                out.push_str(&line);
                out.push('\n');
            }
            match sys::waitpid(pid, false) {
                Ok(Some((_, exit))) => Ok(UserRun { exit, out }),
                other => Err(format!("waitpid: {other:?}")),
            }
        }
    }
}

/// TOMOYO's view of process `pid` ("PID PROFILE DOMAIN"), read by root through `.process_status`
/// (a process in an SELinux domain may not be allowed to read its own `self_domain`).
fn tomoyo_process_status(pid: &str) -> String {
    use std::io::{Seek, Write};
    let path = "/sys/kernel/security/tomoyo/.process_status";
    let read = || -> std::io::Result<String> {
        let mut f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)?;
        f.write_all(pid.as_bytes())?;
        f.rewind()?;
        let mut s = String::new();
        f.read_to_string(&mut s)?;
        Ok(s)
    };
    read().unwrap_or_else(|e| format!("(reading {path}: {e})"))
}

/// What a case expects in the running configuration.
#[derive(Debug, Clone)]
pub enum Expect {
    /// The attempt fails with one of these errnos, and the log has every one of these strings.
    Denied(&'static [i32], Vec<String>),
    /// The process is killed by seccomp (SIGSYS), or the attempt fails with EPERM/EACCES
    /// (Landlock, or a seccomp rule that returns an errno).
    SandboxDenied,
    /// The attempt succeeds: a documented limit of this configuration, stated in `why`.
    AllowedLimit(&'static str),
    /// The attempt succeeds and its report contains these strings (positive controls).
    Allowed(Vec<String>),
}

impl Expect {
    fn describe(&self) -> String {
        match self {
            Expect::Denied(errnos, log) => format!(
                "denied with {}{}",
                errnos
                    .iter()
                    .map(|e| sys::errno_name(*e))
                    .collect::<Vec<_>>()
                    .join("/"),
                if log.is_empty() {
                    String::new()
                } else {
                    format!(", logged ({})", log.join(", "))
                }
            ),
            Expect::SandboxDenied => {
                "stopped by the worker's sandbox: SIGSYS (seccomp) or EPERM/EACCES".into()
            }
            Expect::AllowedLimit(why) => format!("allowed: known limit — {why}"),
            Expect::Allowed(want) => format!("allowed, reporting {want:?}"),
        }
    }
}

pub const EACCES: &[i32] = &[libc::EACCES];
pub(crate) const EPERM: &[i32] = &[libc::EPERM];
const EPERM_OR_EACCES: &[i32] = &[libc::EPERM, libc::EACCES];

/// An AVC denial of one of `perms` on `tclass` for a process in `domain`, on one log line.
pub fn avc(domain: &str, perms: &[&str], tclass: &str) -> Vec<String> {
    let alts: Vec<String> = perms
        .iter()
        .map(|p| format!("avc:  denied  {{ {p} }}&&:{domain}:&&tclass={tclass}"))
        .collect();
    vec![alts.join("||")]
}

/// An exec denied to `domain`: either the exec itself, or the lookup of its directory
/// (the worker's domain may not even search /usr/local/bin).
fn avc_exec(domain: &str) -> Vec<String> {
    let mut v = avc(domain, &["execute"], "file");
    v[0].push_str("||");
    v[0].push_str(&avc(domain, &["search"], "dir")[0]);
    v
}

/// Judges a run against an expectation.
pub fn judge(expect: Expect, run: Result<UserRun, String>) -> Verdict {
    let mut v = Verdict {
        expect: expect.describe(),
        ..Default::default()
    };
    let run = match run {
        Ok(r) => r,
        Err(e) => {
            v.outcome = format!("could not run: {e}");
            return v;
        }
    };
    v.evidence = run.evidence();
    let line = run.probe_line().unwrap_or("").to_string();
    let errno_of = |l: &str| {
        l.split_whitespace()
            .find_map(|w| w.strip_prefix("errno="))
            .map(str::to_string)
            .unwrap_or_default()
    };
    let sigsys =
        run.exit == Exit::Code(128 + libc::SIGSYS) || run.out.contains("killed by signal 31");
    match expect {
        Expect::Denied(errnos, log) => {
            let names: Vec<&str> = errnos.iter().map(|e| sys::errno_name(*e)).collect();
            let got = errno_of(&line);
            v.pass = line.contains("result=denied") && names.contains(&got.as_str());
            v.outcome = if line.is_empty() {
                format!("no probe report ({})", run.exit)
            } else {
                format!("denied={}", got)
            };
            if line.contains("result=allowed") || line.contains("result=ran") {
                v.outcome = format!("ALLOWED: {line}");
            }
            v.log_must_contain = log;
        }
        Expect::SandboxDenied => {
            let got = errno_of(&line);
            v.pass =
                sigsys || (line.contains("result=denied") && (got == "EPERM" || got == "EACCES"));
            v.outcome = if sigsys {
                "killed by SIGSYS".into()
            } else if line.contains("result=allowed") {
                "ALLOWED".into()
            } else if line.is_empty() {
                format!("no probe report ({})", run.exit)
            } else {
                format!("denied={got}")
            };
        }
        Expect::AllowedLimit(_) => {
            v.pass = line.contains("result=allowed");
            v.outcome = if v.pass {
                "allowed (as documented)".into()
            } else {
                format!("not allowed: {line}")
            };
        }
        Expect::Allowed(want) => {
            let missing: Vec<&String> =
                want.iter().filter(|w| !line.contains(w.as_str())).collect();
            v.pass = line.contains("result=allowed") && missing.is_empty();
            v.outcome = if v.pass {
                "allowed".into()
            } else {
                format!("missing {missing:?} in {line:?}")
            };
        }
    }
    v
}

/// Installs the probe at the worker's path and label (PID 1 restores the worker after the
/// case) and runs it through the real launcher as the user.
pub(crate) fn run_probe(env: &Env, args: &[&str]) -> Result<UserRun, String> {
    install(
        &format!("{STOCK}/probe"),
        env.tool.worker_path,
        policy::layout::WORKER_MODE,
        0,
        None,
    )
    .map_err(|e| e.to_string())?;
    let mut argv = vec!["run", env.tool.launcher_path];
    argv.extend_from_slice(args);
    as_user(env, &argv)
}

/// A compromised-worker attempt: in `none` the probe first applies the worker's own sandbox.
pub fn cw(env: &Env, op: &[&str], expect: Expect) -> Verdict {
    let mut args = Vec::new();
    let sandbox = format!("--sandbox={}", env.tool.name);
    if !env.selinux() && !env.tomoyo() && !env.apparmor() {
        args.push(sandbox.as_str());
    }
    args.extend_from_slice(op);
    judge(expect, run_probe(env, &args))
}

fn lsm_active(env: &Env) -> Verdict {
    let lsm = std::fs::read_to_string("/sys/kernel/security/lsm").unwrap_or_default();
    let active = |n: &str| lsm.split(',').any(|l| l == n);
    let enforce = std::fs::read_to_string("/sys/fs/selinux/enforce").unwrap_or_default();
    let profile =
        std::fs::read_to_string("/sys/kernel/security/tomoyo/profile").unwrap_or_default();
    let tomoyo_enforcing = profile
        .lines()
        .any(|l| l.contains("CONFIG") && l.contains("mode=enforcing"));
    let (aa_ok, aa_profiles) = aa::profiles_enforcing(env);
    let mut v = Verdict {
        expect: format!(
            "selinux {} tomoyo {} apparmor {} landlock on",
            env.selinux(),
            env.tomoyo(),
            env.apparmor()
        ),
        evidence: format!(
            "lsm={lsm} selinux_enforce={} tomoyo_enforcing_profile={tomoyo_enforcing} apparmor_profiles={aa_profiles}",
            enforce.trim()
        ),
        ..Default::default()
    };
    v.pass = active("selinux") == env.selinux()
        && active("tomoyo") == env.tomoyo()
        && active("apparmor") == env.apparmor()
        && (!env.apparmor() || aa_ok)
        && active("landlock")
        && (!env.selinux() || enforce.trim() == "1")
        && (!env.tomoyo() || tomoyo_enforcing);
    v.outcome = format!("lsm={lsm}");
    v
}

fn whoami_direct(env: &Env) -> Result<UserRun, String> {
    as_user(env, &["run", &format!("{STOCK}/probe"), "whoami"])
}

fn user_unprivileged(env: &Env) -> Verdict {
    let mut want = vec![
        "uid=1000,1000,1000,1000".to_string(),
        "caps_eff=0000000000000000".into(),
    ];
    if env.selinux() {
        want.push(":user_t:".into());
    }
    judge(Expect::Allowed(want), whoami_direct(env))
}

fn user_raw_socket(env: &Env) -> Verdict {
    let run = as_user(env, &["run", &format!("{STOCK}/probe"), "raw-socket4"]);
    // Under SELinux, user_t may lack rawip_socket create (EACCES) before the capability check (EPERM).
    judge(Expect::Denied(EPERM_OR_EACCES, vec![]), run)
}

fn ping(env: &Env, dest: &str) -> Verdict {
    let run = as_user(env, &["run", env.tool.launcher_path, "-n", "-c", "1", dest]);
    let mut v = Verdict {
        expect: format!("exit 0 and \"1 received\" pinging {dest}"),
        ..Default::default()
    };
    match run {
        Ok(r) => {
            v.pass = r.exit == Exit::Code(0) && r.out.contains(" 1 received");
            v.outcome = format!(
                "{}{}",
                r.exit,
                if r.out.contains(" 1 received") {
                    ", 1 received"
                } else {
                    ", no reply line"
                }
            );
            v.evidence = r.evidence();
        }
        Err(e) => v.outcome = e,
    }
    v
}

/// Without `-n` the worker forks its resolver co-process before lock-down
/// (reverse lookups of addresses seen only later); a policy that forbids
/// the fork or the socketpair shows as a `resolver:` line.
fn ping_name(env: &Env) -> Verdict {
    let run = as_user(
        env,
        &["run", env.tool.launcher_path, "-c", "1", "localhost"],
    );
    let mut v = Verdict {
        expect: "exit 0, \"64 bytes from localhost (127.0.0.1)\", \" 1 received\", no other line"
            .into(),
        ..Default::default()
    };
    match run {
        Ok(r) => {
            let named = r.out.contains("64 bytes from localhost (127.0.0.1)");
            let received = r.out.contains(" 1 received");
            let complaint = r.out.lines().find(|l| {
                l.contains("resolver") || l.contains("denied") || l.contains("ermission")
            });
            v.pass = r.exit == Exit::Code(0) && named && received && complaint.is_none();
            v.outcome = match complaint {
                Some(l) => format!("{}, complained: {l}", r.exit),
                None => format!(
                    "{}{}{}",
                    r.exit,
                    if named {
                        ", reply named"
                    } else {
                        ", reply not named"
                    },
                    if received {
                        ", 1 received"
                    } else {
                        ", no summary"
                    }
                ),
            };
            v.evidence = r.evidence();
        }
        Err(e) => v.outcome = e,
    }
    v
}

fn ping_v4(env: &Env) -> Verdict {
    ping(env, "127.0.0.1")
}
fn ping_v6(env: &Env) -> Verdict {
    ping(env, "::1")
}

fn tomoyo_domain(path: &[&str]) -> String {
    format!("tomoyo_domain=<kernel>_{}", path.join("_"))
}

fn launcher_domain(env: &Env) -> Verdict {
    // Exactly the file capability's set (ping: cap_net_raw, bit 13) permitted, none effective.
    let mut want = vec![
        "uid=1000,1000,1000,1000".to_string(),
        format!("caps_prm={:016x}", env.tool.file_caps_mask()),
        "caps_eff=0000000000000000".into(),
    ];
    if env.selinux() {
        want.push(format!(":{}:", env.tool.selinux_launcher_type()));
    }
    if env.apparmor() {
        want.push(format!("context={} ", aa::launcher_label(env.tool)));
    }
    // The probe at the launcher's path holds still for a moment; PID 1 asks TOMOYO about it.
    let mut status = String::new();
    let run = install(
        &format!("{STOCK}/probe"),
        env.tool.launcher_path,
        policy::layout::LAUNCHER_MODE,
        env.tool.file_caps_mask(),
        None,
    )
    .map_err(|e| e.to_string())
    .and_then(|()| {
        as_user_watching(env, &["run", env.tool.launcher_path, "hold"], |line| {
            if let Some(pid) = line.split_whitespace().find_map(|w| w.strip_prefix("pid=")) {
                if env.tomoyo() {
                    status = tomoyo_process_status(pid);
                }
            }
        })
    });
    let mut v = judge(Expect::Allowed(want), run);
    if env.tomoyo() {
        let domain = env.tool.tomoyo_launcher_domain();
        let ok = status.trim_end().ends_with(&domain) && status.contains(" 9 ");
        v.evidence
            .push_str(&format!(" | tomoyo .process_status: {}", status.trim()));
        if v.pass && !ok {
            v.pass = false;
            v.outcome = format!(
                "TOMOYO domain is not {domain:?} with profile 9: {:?}",
                status.trim()
            );
        }
        v.expect
            .push_str(&format!(" and TOMOYO domain {domain:?} with profile 9"));
    }
    v
}

fn worker_whoami(env: &Env, want: Vec<String>) -> Verdict {
    judge(Expect::Allowed(want), run_probe(env, &["whoami"]))
}

fn worker_domain(env: &Env) -> Verdict {
    let mut want = vec!["uid=1000,1000,1000,1000".to_string()];
    if env.selinux() {
        want.push(format!(":{}:", env.tool.selinux_worker_type()));
    }
    if env.tomoyo() {
        want.push(format!(
            "{} ",
            tomoyo_domain(&[env.tool.launcher_path, env.tool.worker_path])
        ));
    }
    if env.apparmor() {
        want.push(format!("context={} ", aa::worker_label(env.tool)));
    }
    worker_whoami(env, want)
}

fn worker_no_caps(env: &Env) -> Verdict {
    worker_whoami(
        env,
        vec![
            "uid=1000,1000,1000,1000".into(),
            "caps_prm=0000000000000000".into(),
            "caps_eff=0000000000000000".into(),
        ],
    )
}

fn socket_text(fd: usize, spec: &SocketSpec) -> String {
    format!(
        "fd{fd}=domain{}/type{}/proto{}",
        spec.domain,
        spec.last_kind().ty,
        spec.protocol
    )
}

fn handoff_fds(env: &Env) -> Verdict {
    // The worker's sockets in the descriptor's order from fd 3 on (ping: raw ICMPv4, raw ICMPv6;
    // arping: its channel to the broker, a unix seqpacket socket, never the packet socket;
    // clockdiff: raw ICMPv4).
    let want = env
        .tool
        .worker_handoff()
        .into_iter()
        .enumerate()
        .map(|(i, spec)| socket_text(3 + i, spec))
        .collect();
    worker_whoami(env, want)
}

/// What root sees of process `pid`: its context, uid, capabilities, no_new_privs, seccomp
/// mode, TOMOYO domain, and what its fds 3 and 4 are.
fn process_facts(pid: &str, tomoyo: bool) -> String {
    let ctx = std::fs::read_to_string(format!("/proc/{pid}/attr/current")).unwrap_or_default();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |k: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(k))
            .map(|v| v.split_whitespace().collect::<Vec<_>>().join(","))
            .unwrap_or_default()
    };
    let sock = |fd: u32| {
        let link = std::fs::read_link(format!("/proc/{pid}/fd/{fd}"))
            .map(|l| l.display().to_string())
            .unwrap_or_else(|e| e.to_string());
        let inode = link
            .strip_prefix("socket:[")
            .and_then(|r| r.strip_suffix(']'));
        let listed = |table: &str| {
            inode.is_some_and(|i| {
                std::fs::read_to_string(format!("/proc/{pid}/net/{table}"))
                    .unwrap_or_default()
                    .lines()
                    .any(|l| l.split_whitespace().any(|w| w == i))
            })
        };
        if listed("packet") {
            "packet".to_string()
        } else if listed("unix") {
            "unix".to_string()
        } else {
            link
        }
    };
    format!(
        "exe={} context={} uid={} caps_prm={} caps_eff={} nnp={} seccomp={} fd3={} fd4={}{}",
        std::fs::read_link(format!("/proc/{pid}/exe"))
            .map(|l| l.display().to_string())
            .unwrap_or_default(),
        ctx.trim_end_matches(['\0', '\n']),
        field("Uid:"),
        field("CapPrm:"),
        field("CapEff:"),
        field("NoNewPrivs:"),
        field("Seccomp:"),
        sock(3),
        sock(4),
        if tomoyo {
            format!(" tomoyo={}", tomoyo_process_status(pid).trim())
        } else {
            String::new()
        }
    )
}

fn broker_domain(env: &Env) -> Verdict {
    let Some(broker) = env.tool.broker else {
        return Verdict {
            expect: "a tool with a broker".into(),
            outcome: format!("{} has no broker", env.tool.name),
            ..Default::default()
        };
    };
    // The probe at the worker's path holds still; PID 1 looks at its child, the real broker.
    let mut facts = String::new();
    let run = install(
        &format!("{STOCK}/probe"),
        env.tool.worker_path,
        policy::layout::WORKER_MODE,
        0,
        None,
    )
    .map_err(|e| e.to_string())
    .and_then(|()| {
        as_user_watching(env, &["run", env.tool.launcher_path, "hold"], |line| {
            if let Some(pid) = line.split_whitespace().find_map(|w| w.strip_prefix("pid=")) {
                // The broker is the launcher's other child, exec'd beside the
                // worker: it may still be between its exec and its seccomp
                // filter when the probe reports. Nothing is sent to it, so
                // once it shows seccomp=2 it locked down before any input;
                // the deadline only ends the wait (the row then fails).
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
                loop {
                    let children =
                        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
                            .unwrap_or_default();
                    facts = match children.split_whitespace().next() {
                        Some(child) => process_facts(child, env.tomoyo()),
                        None => "no child: the broker is not running".into(),
                    };
                    if facts.contains("seccomp=2 ") || std::time::Instant::now() >= deadline {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
            }
        })
    });
    let mut want = vec![
        format!("exe={} ", broker.path),
        "uid=1000,1000,1000,1000 ".to_string(),
        "caps_prm=0000000000000000 ".into(),
        "caps_eff=0000000000000000 ".into(),
        "nnp=1 ".into(),
        "seccomp=2 ".into(),
    ];
    // Its handoff from fd 3 on (arping: the packet socket, the channel;
    // mtr-packet: the channel alone, nothing at fd 4).
    let mut fds: Vec<String> = env
        .tool
        .broker_handoff()
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let kind = if spec.domain == libc::AF_PACKET {
                "packet"
            } else {
                "unix"
            };
            format!("fd{}={kind}", 3 + i)
        })
        .collect();
    if fds.len() < 2 {
        fds.push("fd4=No such file".into());
    }
    want.push(fds.join(" "));
    if env.selinux() {
        want.push(format!(":{}:", env.tool.selinux_broker_type()));
    }
    if let (true, Some(domain)) = (env.tomoyo(), env.tool.tomoyo_broker_domain()) {
        want.push(domain);
        want.push(" 9 ".into());
    }
    let mut v = judge(Expect::Allowed(vec![]), run);
    v.expect = format!("the broker's facts include {want:?}");
    v.evidence.push_str(&format!(" | broker: {facts}"));
    let missing: Vec<&String> = want
        .iter()
        .filter(|w| !facts.contains(w.as_str()))
        .collect();
    if v.pass && !missing.is_empty() {
        v.pass = false;
        v.outcome = format!("the broker's facts lack {missing:?}");
    }
    v
}

/// mtr-packet's TCP probes, through its broker: a connection attempt to a
/// closed port of 127.0.0.1 and ::1 is refused at once, which mtr-packet
/// reports as a `reply`. Under each policy the broker must be allowed its
/// TCP sockets (bind from the probe's port, connect) and the worker
/// nothing of them. Whether the kernel offers SCTP is reported, not
/// judged (the VM's kernel has no SCTP module loaded).
fn mtr_stream_probes(env: &Env) -> Verdict {
    let input = "1 check-support feature tcp\n\
                 2 send-probe ip-4 127.0.0.1 protocol tcp port 1\n\
                 3 send-probe ip-6 ::1 protocol tcp port 1\n\
                 4 check-support feature sctp\n";
    let run = as_user(env, &["run-input", input, env.tool.launcher_path]);
    let want = [
        "1 feature-support support ok",
        "2 reply ip-4 127.0.0.1 round-trip-time ",
        "3 reply ip-6 ::1 round-trip-time ",
        "4 feature-support support ",
    ];
    let mut v = Verdict {
        expect: format!("exit 0 and the lines {want:?}"),
        ..Default::default()
    };
    match run {
        Ok(r) => {
            let missing: Vec<&&str> = want.iter().filter(|w| !r.out.contains(**w)).collect();
            v.pass = r.exit == Exit::Code(0) && missing.is_empty();
            v.outcome = if missing.is_empty() {
                format!("{}, every line", r.exit)
            } else {
                format!("{}, missing {missing:?}", r.exit)
            };
            v.evidence = r.evidence();
        }
        Err(e) => v.outcome = e,
    }
    v
}

fn handoff_priority(env: &Env) -> Verdict {
    // The launcher sets the priority with CAP_SYS_NICE and the exec keeps it.
    let nice = env.tool.priority().unwrap_or(0);
    worker_whoami(env, vec![format!("nice={nice} ")])
}

fn nnp_transition(env: &Env) -> Verdict {
    let mut want = vec!["nnp=1".to_string()];
    if env.selinux() {
        want.push(format!(":{}:", env.tool.selinux_worker_type()));
    }
    if env.apparmor() {
        want.push(format!("context={} ", aa::worker_label(env.tool)));
    }
    worker_whoami(env, want)
}

/// The expectation for a compromised-worker attempt in this configuration.
/// AppArmor with TOMOYO: AppArmor's hooks run first (the `lsm=` order), so
/// its denial is the one seen; what it allows, TOMOYO decides.
pub fn cw_expect(env: &Env, selinux: Expect, tomoyo: Expect, apparmor: Expect) -> Expect {
    if env.selinux() {
        selinux
    } else if env.apparmor() && (!env.tomoyo() || matches!(apparmor, Expect::Denied(..))) {
        apparmor
    } else if env.tomoyo() {
        tomoyo
    } else {
        Expect::SandboxDenied
    }
}

fn cw_raw_socket4(env: &Env) -> Verdict {
    let e = cw_expect(
        env,
        Expect::Denied(
            EACCES,
            avc(&env.tool.selinux_worker_type(), &["create"], "rawip_socket"),
        ),
        // TOMOYO 2.6 has no socket-create hook: the missing capability denies it (EPERM), unlogged.
        Expect::Denied(EPERM, vec![]),
        aa::socket_expect(env, libc::AF_INET, libc::SOCK_RAW),
    );
    cw(env, &["raw-socket4"], e)
}

fn cw_raw_socket6(env: &Env) -> Verdict {
    let e = cw_expect(
        env,
        Expect::Denied(
            EACCES,
            avc(&env.tool.selinux_worker_type(), &["create"], "rawip_socket"),
        ),
        Expect::Denied(EPERM, vec![]),
        aa::socket_expect(env, libc::AF_INET6, libc::SOCK_RAW),
    );
    cw(env, &["raw-socket6"], e)
}

fn cw_packet_socket(env: &Env) -> Verdict {
    let e = cw_expect(
        env,
        Expect::Denied(
            EACCES,
            avc(
                &env.tool.selinux_worker_type(),
                &["create"],
                "packet_socket",
            ),
        ),
        // TOMOYO cannot see packet sockets: the missing capability denies it (EPERM), unlogged.
        Expect::Denied(EPERM, vec![]),
        aa::socket_expect(env, libc::AF_PACKET, libc::SOCK_RAW),
    );
    cw(env, &["packet-socket"], e)
}

fn cw_nice_lower(env: &Env) -> Verdict {
    // Lowering the nice value needs CAP_SYS_NICE, which the worker never holds: the kernel's
    // capability check fails first (EACCES from setpriority), so no LSM is asked and nothing is
    // logged; in `none` the worker's seccomp filter has no setpriority at all.
    let e = cw_expect(
        env,
        Expect::Denied(EACCES, vec![]),
        Expect::Denied(EACCES, vec![]),
        Expect::Denied(EACCES, vec![]),
    );
    let mut v = cw(env, &["nice-lower"], e);
    if let Some(nice) = env.tool.priority() {
        v.expect
            .push_str(&format!(" (the worker was handed nice {nice})"));
    }
    v
}

fn tomoyo_exec_denied(path: &str) -> Expect {
    Expect::Denied(EPERM, vec![format!("file execute {path}")])
}

fn cw_exec_sh(env: &Env) -> Verdict {
    // /bin is a symlink to usr/bin in the guest, as on Debian 12, and the worker's domain may not
    // even read that link: aim at the shell itself (SELinux then denies the search of /usr/bin
    // or the execute; TOMOYO names the path).
    let e = cw_expect(
        env,
        Expect::Denied(EACCES, avc_exec(&env.tool.selinux_worker_type())),
        tomoyo_exec_denied("/usr/bin/sh"),
        aa::exec_denied(env, "/usr/bin/sh"),
    );
    cw(env, &["exec", "/usr/bin/sh"], e)
}

fn cw_exec_launcher(env: &Env) -> Verdict {
    let e = cw_expect(
        env,
        Expect::Denied(EACCES, avc_exec(&env.tool.selinux_worker_type())),
        tomoyo_exec_denied(env.tool.launcher_path),
        aa::exec_denied(env, env.tool.launcher_path),
    );
    cw(env, &["exec", env.tool.launcher_path], e)
}

fn cw_hdrincl(env: &Env) -> Verdict {
    let limit = "the worker needs setopt on its raw sockets (ICMP_FILTER, TTL…); an LSM cannot tell IP_HDRINCL \
                 from those — only the worker's seccomp filter stops it (see this case in `none`)";
    let e = cw_expect(
        env,
        Expect::AllowedLimit(limit),
        Expect::AllowedLimit(limit),
        Expect::AllowedLimit(limit),
    );
    cw(env, &["hdrincl"], e)
}

fn cw_ptrace(env: &Env) -> Verdict {
    let e = cw_expect(
        env,
        Expect::Denied(EACCES, avc(&env.tool.selinux_worker_type(), &["ptrace"], "process")),
        Expect::AllowedLimit("TOMOYO 2.6 has no ptrace hook; Yama is set to 0 here so that only the policy under test counts"),
        aa::ptrace_denied(env),
    );
    cw(env, &["ptrace-parent"], e)
}

fn cw_read_shadow(env: &Env) -> Verdict {
    let e = cw_expect(
        env,
        Expect::Denied(
            EACCES,
            vec![format!(
                "avc:  denied&&:{}:&&shadow_t",
                env.tool.selinux_worker_type()
            )],
        ),
        Expect::AllowedLimit(
            "the shipped TOMOYO profile enforces only file::execute and network, not file::open",
        ),
        aa::open_denied(env, "/etc/shadow"),
    );
    cw(env, &["read-shadow"], e)
}

fn cl_expect(env: &Env, path: &str) -> Expect {
    if env.selinux() {
        Expect::Denied(EACCES, avc_exec(&env.tool.selinux_launcher_type()))
    } else if env.apparmor() {
        // AppArmor's bprm hook runs before TOMOYO's where both are stacked.
        aa::exec_denied(env, path)
    } else if env.tomoyo() {
        tomoyo_exec_denied(path)
    } else {
        Expect::AllowedLimit("without an LSM nothing confines a compromised launcher: this is why the policies exist")
    }
}

fn cl_exec_sh(env: &Env) -> Verdict {
    // The probe's report for a successful exec is the shell's line.
    compromised_launcher_execs(
        env,
        "/usr/bin/sh",
        "/bin/sh",
        "PROBE sh result=ran",
        "the shell did not run",
    )
}

fn cl_exec_other(env: &Env) -> Verdict {
    let target = format!("{STOCK}/probe");
    compromised_launcher_execs(
        env,
        &target,
        &target,
        "PROBE whoami result=allowed",
        "the other program did not run",
    )
}

/// The probe, installed as the launcher (its path, mode and file capability),
/// execs `exec_path`; the LSM must refuse it (`cl_expect` for `policy_path`,
/// the path the policy sees). Without an LSM the exec must succeed, shown by
/// `ran_marker` in the probe's report.
fn compromised_launcher_execs(
    env: &Env,
    policy_path: &str,
    exec_path: &str,
    ran_marker: &str,
    not_ran: &str,
) -> Verdict {
    let e = cl_expect(env, policy_path);
    let run = install(
        &format!("{STOCK}/probe"),
        env.tool.launcher_path,
        policy::layout::LAUNCHER_MODE,
        env.tool.file_caps_mask(),
        None,
    )
    .map_err(|e| e.to_string())
    .and_then(|()| as_user(env, &["run", env.tool.launcher_path, "exec", exec_path]));
    let mut v = judge(e, run);
    if !env.selinux() && !env.tomoyo() && !env.apparmor() {
        v.pass = v.evidence.contains(ran_marker);
        v.outcome = if v.pass {
            "allowed (as documented)".into()
        } else {
            not_ran.into()
        };
    }
    v
}

/// Same as `cl-exec-other`, aimed at the launcher's own directory neighbour: a
/// second, differently named copy of the real worker (so the rule is about the
/// path, not the file's content).
fn cl_exec_twin(env: &Env) -> Verdict {
    let twin = format!("{}-twin", env.tool.worker_path);
    let e = cl_expect(env, &twin);
    let run = install(
        &format!("{STOCK}/probe"),
        &twin,
        policy::layout::WORKER_MODE,
        0,
        Some("system_u:object_r:bin_t:s0"),
    )
    .and_then(|()| {
        install(
            &format!("{STOCK}/probe"),
            env.tool.launcher_path,
            policy::layout::LAUNCHER_MODE,
            env.tool.file_caps_mask(),
            None,
        )
    })
    .map_err(|e| e.to_string())
    .and_then(|()| as_user(env, &["run", env.tool.launcher_path, "exec", &twin]));
    let _ = std::fs::remove_file(&twin);
    judge(e, run)
}

fn cl_exec_twin_labelled(env: &Env) -> Verdict {
    let twin = format!("{}-twin", env.tool.worker_path);
    let e = if env.apparmor() {
        aa::exec_denied(env, &twin)
    } else if env.tomoyo() {
        tomoyo_exec_denied(&twin)
    } else {
        Expect::Allowed(vec![format!(":{}:", env.tool.selinux_worker_type())])
    };
    let probe = format!("{STOCK}/probe");
    let label = &format!(
        "system_u:object_r:{}_worker_exec_t:s0",
        env.tool.selinux_prefix
    );
    let run = install(&probe, &twin, policy::layout::WORKER_MODE, 0, Some(label))
        .and_then(|()| {
            install(
                &probe,
                env.tool.launcher_path,
                policy::layout::LAUNCHER_MODE,
                env.tool.file_caps_mask(),
                None,
            )
        })
        .map_err(|e| e.to_string())
        .and_then(|()| as_user(env, &["run", env.tool.launcher_path, "exec", &twin]));
    let _ = std::fs::remove_file(&twin);
    let mut v = judge(e, run);
    if env.selinux() && !env.tomoyo() {
        v.expect = "allowed: known limit — SELinux identifies the worker by its label, and this copy carries it".into();
    }
    v
}

fn cl_exec_worker(env: &Env) -> Verdict {
    let mut want = vec!["uid=1000,1000,1000,1000".to_string()];
    if env.selinux() {
        want.push(format!(":{}:", env.tool.selinux_worker_type()));
    }
    if env.apparmor() {
        want.push(format!("context={} ", aa::worker_label(env.tool)));
    }
    let probe = format!("{STOCK}/probe");
    let run = install(
        &probe,
        env.tool.worker_path,
        policy::layout::WORKER_MODE,
        0,
        None,
    )
    .and_then(|()| {
        install(
            &probe,
            env.tool.launcher_path,
            policy::layout::LAUNCHER_MODE,
            env.tool.file_caps_mask(),
            None,
        )
    })
    .map_err(|e| e.to_string())
    .and_then(|()| {
        as_user(
            env,
            &["run", env.tool.launcher_path, "exec", env.tool.worker_path],
        )
    });
    judge(Expect::Allowed(want), run)
}

/// The probe operation that opens a socket like `spec`, and its SELinux class.
fn socket_op(spec: &SocketSpec) -> &'static str {
    match (spec.domain, spec.last_kind().ty) {
        (libc::AF_PACKET, _) => "packet-socket",
        (libc::AF_INET6, _) => "raw-socket6",
        _ => "raw-socket4",
    }
}

fn launcher_copy(env: &Env) -> Verdict {
    // The launcher's privilege (the file capability) without its label: a program with the
    // tool's file capability at another path, labelled bin_t, run by the user, stays in user_t
    // and cannot open the tool's first socket.
    let copy = &format!("{}-copy", env.tool.launcher_path);
    let Some(spec) = env.tool.sockets().next() else {
        return Verdict {
            outcome: format!("tool {} has no socket to try", env.tool.name),
            ..Default::default()
        };
    };
    let run = install(
        &format!("{STOCK}/probe"),
        copy,
        policy::layout::LAUNCHER_MODE,
        env.tool.file_caps_mask(),
        Some("system_u:object_r:bin_t:s0"),
    )
    .map_err(|e| e.to_string())
    .and_then(|()| as_user(env, &["run", copy, socket_op(spec)]));
    let _ = std::fs::remove_file(copy);
    // user_t has no `capability net_raw` (EPERM) and may lack `<class> create` (EACCES, checked first).
    let log = format!(
        "{}||{}",
        avc("user_t", &["net_raw"], "capability")[0],
        avc("user_t", &["create"], spec.last_kind().selinux_class)[0]
    );
    judge(Expect::Denied(EPERM_OR_EACCES, vec![log]), run)
}

fn launcher_copy_real(env: &Env) -> Verdict {
    let copy = &format!("{}-copy", env.tool.launcher_path);
    let mut v = Verdict {
        expect: "the real launcher copied elsewhere (bin_t, same file capability) exits 2 and starts no worker".into(),
        ..Default::default()
    };
    let run = install(
        &format!("{STOCK}/probe"),
        env.tool.worker_path,
        policy::layout::WORKER_MODE,
        0,
        None,
    )
    .and_then(|()| {
        install(
            &stock(env.tool, "launcher"),
            copy,
            policy::layout::LAUNCHER_MODE,
            env.tool.file_caps_mask(),
            Some("system_u:object_r:bin_t:s0"),
        )
    })
    .map_err(|e| e.to_string())
    .and_then(|()| as_user(env, &["run", copy, "whoami"]));
    let _ = std::fs::remove_file(copy);
    match run {
        Ok(r) => {
            v.pass = r.exit == Exit::Code(2) && !r.out.contains("PROBE");
            v.outcome = format!(
                "{}{}",
                r.exit,
                if r.out.contains("PROBE") {
                    ", the worker ran"
                } else {
                    ""
                }
            );
            v.evidence = r.evidence();
        }
        Err(e) => v.outcome = e,
    }
    v
}

fn worker_mislabeled(env: &Env) -> Verdict {
    let mut v = Verdict {
        expect: "worker (a probe) labelled bin_t: the launcher exits 2 with EACCES, the probe never runs, an AVC for privsep_ping_t".into(),
        ..Default::default()
    };
    let run = install(
        &format!("{STOCK}/probe"),
        env.tool.worker_path,
        policy::layout::WORKER_MODE,
        0,
        Some("system_u:object_r:bin_t:s0"),
    )
    .map_err(|e| e.to_string())
    .and_then(|()| as_user(env, &["run", env.tool.launcher_path, "whoami"]));
    match run {
        Ok(r) => {
            v.pass = r.exit == Exit::Code(2)
                && r.out.contains("Permission denied")
                && !r.out.contains("PROBE");
            v.outcome = format!(
                "{}{}",
                r.exit,
                if r.out.contains("PROBE") {
                    ": THE PROBE RAN"
                } else {
                    ""
                }
            );
            v.evidence = r.evidence();
            v.log_must_contain = vec![format!(
                "avc:  denied&&:{}:&&bin_t",
                env.tool.selinux_launcher_type()
            )];
        }
        Err(e) => v.outcome = e,
    }
    v
}

fn cw_udp_send(env: &Env) -> Verdict {
    let e = if env.tomoyo() {
        // The worker's domain may send UDP only to port 53 (and port 0, getaddrinfo's sort);
        // AppArmor, stacked, allows the socket (below) and TOMOYO decides.
        Expect::Denied(EPERM, vec!["network inet dgram send 127.0.0.1 9".into()])
    } else if env.apparmor() {
        Expect::AllowedLimit(
            "the worker may create UDP sockets for DNS, and AppArmor on 6.1/6.12 mediates socket family and type, \
             not addresses or ports",
        )
    } else if env.selinux() {
        Expect::AllowedLimit(
            "with privsep_ping_worker_resolve on (the default) the worker may create UDP sockets for DNS, \
             and SELinux without labelled networking does not restrict the UDP destination port",
        )
    } else {
        Expect::SandboxDenied
    };
    cw(env, &["udp-send"], e)
}

/// Writes TOMOYO exception-policy lines (PID 1 is a manager: see setup::tomoyo_load).
fn tomoyo_exception(lines: &[&str]) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open("/sys/kernel/security/tomoyo/exception_policy")?;
    for l in lines {
        f.write_all(format!("{l}\n").as_bytes())?;
    }
    Ok(())
}

fn tomoyo_address_group(env: &Env) -> Verdict {
    const ANY: &str = "address_group PRIVSEP_PING_TARGETS 0.0.0.0-255.255.255.255";
    const ONLY: &str = "address_group PRIVSEP_PING_TARGETS 127.0.0.2";
    let mut v = Verdict {
        expect: "ping 127.0.0.1 fails (not exit 0, no reply); TOMOYO logs `network inet dgram send 127.0.0.1 1025` (upstream's source-address probe, the worker's first network call to the target)".into(),
        ..Default::default()
    };
    if let Err(e) = tomoyo_exception(&[ONLY, &format!("delete {ANY}")]) {
        v.outcome = format!("could not narrow the address group: {e}");
        return v;
    }
    let exceptions =
        std::fs::read_to_string("/sys/kernel/security/tomoyo/exception_policy").unwrap_or_default();
    let narrowed = exceptions.contains(ONLY) && !exceptions.contains(ANY);
    // -W 1: no reply can come; the log requirement below shows that TOMOYO is why.
    let run = as_user(
        env,
        &[
            "run",
            env.tool.launcher_path,
            "-n",
            "-c",
            "1",
            "-W",
            "1",
            "127.0.0.1",
        ],
    );
    let restored = tomoyo_exception(&[ANY, &format!("delete {ONLY}")]);
    match run {
        Ok(r) => {
            let replied = r.out.contains(" 1 received");
            v.pass = narrowed && restored.is_ok() && r.exit != Exit::Code(0) && !replied;
            v.outcome = format!(
                "{}{}{}",
                r.exit,
                if replied {
                    ", A REPLY CAME BACK"
                } else {
                    ", no reply"
                },
                if narrowed {
                    ""
                } else {
                    "; the policy was not narrowed"
                }
            );
            v.evidence = r.evidence();
            v.log_must_contain =
                vec!["tomoyo-audit:&&network inet dgram send 127.0.0.1 1025".into()];
        }
        Err(e) => v.outcome = e,
    }
    v
}

fn worker_direct(env: &Env) -> Verdict {
    let mut v = Verdict {
        expect: if env.selinux() {
            "exec denied (EACCES, vmtest-sh exit 127): user_t has no transition to the worker's domain".into()
        } else {
            "the worker refuses to run without the launcher's handoff: exit 2, no PING / ARPING / clockdiff output".into()
        },
        ..Default::default()
    };
    match as_user(env, &["run", env.tool.worker_path, "127.0.0.1"]) {
        Ok(r) => {
            // What each worker prints once it works: ping's and arping's header and summary,
            // clockdiff's host= line.
            let no_ping = !["PING", "received", "ARPING", "host=", "delta="]
                .iter()
                .any(|w| r.out.contains(w));
            v.pass = no_ping
                && if env.selinux() {
                    r.exit == Exit::Code(127) && r.out.contains("Permission denied")
                } else {
                    r.exit == Exit::Code(2)
                };
            v.outcome = format!("{}{}", r.exit, if no_ping { "" } else { ", IT PINGED" });
            v.evidence = r.evidence();
        }
        Err(e) => v.outcome = e,
    }
    v
}

fn attack(env: &Env, how: &str) -> Verdict {
    let mut v = Verdict {
        expect: "denied (EPERM/EACCES) while the worker is alive: it is non-dumpable (0711 binary, PR_SET_DUMPABLE 0)".into(),
        ..Default::default()
    };
    match as_user(env, &["attack-worker", how]) {
        Ok(r) => {
            let line = r
                .out
                .lines()
                .find(|l| l.starts_with("ATTACK "))
                .unwrap_or("")
                .to_string();
            v.pass = line.contains("result=denied")
                && (line.contains("EPERM") || line.contains("EACCES"))
                && line.contains("worker_alive=true");
            v.outcome = if line.is_empty() {
                format!("no report ({})", r.exit)
            } else {
                line
            };
            v.evidence = r.evidence();
        }
        Err(e) => v.outcome = e,
    }
    v
}

fn user_ptrace_worker(env: &Env) -> Verdict {
    attack(env, "ptrace")
}
fn user_procfd_worker(env: &Env) -> Verdict {
    attack(env, "procfd")
}
fn user_getfd_worker(env: &Env) -> Verdict {
    attack(env, "getfd")
}

/// The Landlock ABI each mainline release introduced (Documentation/userspace-api/landlock.rst):
/// a kernel offers the highest ABI of a release not newer than its own.
const LANDLOCK_ABI_BY_RELEASE: &[((u32, u32), i32)] = &[
    ((5, 13), 1), // filesystem access rights
    ((5, 19), 2), // LANDLOCK_ACCESS_FS_REFER
    ((6, 2), 3),  // LANDLOCK_ACCESS_FS_TRUNCATE
    ((6, 7), 4),  // TCP bind/connect
    ((6, 10), 5), // LANDLOCK_ACCESS_FS_IOCTL_DEV
    ((6, 12), 6), // scopes: abstract unix sockets and signals
    ((6, 15), 7), // audit logging
];

/// The ABI a kernel of `release` ("6.12.57+deb13-amd64") offers, by the table above.
pub fn landlock_abi_for(release: &str) -> Option<i32> {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let major: u32 = parts.next()?.parse().ok()?;
    let minor: u32 = parts.next()?.parse().ok()?;
    LANDLOCK_ABI_BY_RELEASE
        .iter()
        .rev()
        .find(|(v, _)| *v <= (major, minor))
        .map(|(_, abi)| *abi)
}

/// The report line the worker's `lock_down` writes for a kernel with `abi`.
pub fn landlock_report_for(abi: i32) -> String {
    let profile = policy::sandbox::LANDLOCK_ABI as i32;
    if abi >= profile {
        format!("landlock: fully enforced (ABI {abi})")
    } else {
        format!(
            "landlock: partially enforced (kernel ABI {abi}, profile written for ABI {profile})"
        )
    }
}

/// Why the Landlock ABI matters here, for the expectation texts.
fn abi_state(env: &Env) -> (i32, String) {
    let abi = sys::landlock_abi().unwrap_or(-1);
    (
        abi,
        format!("kernel {} offers Landlock ABI {abi}", env.kernel),
    )
}

fn landlock_abi(env: &Env) -> Verdict {
    // Kernel-dependent: 6.1 offers ABI 2 (filesystem rights only), 6.12 ABI 6 (adds truncate,
    // TCP, ioctl and the two scopes); the worker handles what the kernel has (best effort) and
    // must say exactly that under -v -v.
    let (abi, why) = abi_state(env);
    let by_release = landlock_abi_for(&env.kernel);
    let want = landlock_report_for(abi);
    let mut v = Verdict {
        expect: format!(
            "{why} (by release: {}); the worker reports {want:?}",
            by_release.map_or("unknown".into(), |a| a.to_string())
        ),
        ..Default::default()
    };
    let run = as_user(
        env,
        &[
            "run",
            env.tool.launcher_path,
            "-v",
            "-v",
            "-n",
            "-c",
            "1",
            "127.0.0.1",
        ],
    );
    match run {
        Ok(r) => {
            let line = r
                .out
                .lines()
                .find_map(|l| l.split_once("sandbox: landlock: ").map(|(_, x)| x))
                .map(|x| format!("landlock: {x}"));
            v.pass = by_release == Some(abi) && line.as_deref() == Some(want.as_str());
            v.outcome = match (&line, by_release == Some(abi)) {
                (None, _) => format!("no landlock line in the -v output ({})", r.exit),
                (Some(l), true) => l.clone(),
                (Some(l), false) => {
                    format!("{l}; but the kernel's ABI {abi} is not the release's {by_release:?}")
                }
            };
            v.evidence = r.evidence();
        }
        Err(e) => v.outcome = e,
    }
    v
}

/// A scope case: denied (EPERM) where the kernel has the scopes (ABI 6, Linux 6.12), allowed
/// before — a stated limit, since there the worker's seccomp filter is what stops the call.
fn landlock_scope(env: &Env, op: &str, what: &str) -> Verdict {
    let (abi, why) = abi_state(env);
    let e = if abi >= 6 {
        Expect::Denied(EPERM, vec![])
    } else {
        Expect::AllowedLimit(match what {
            "signal" => "no signal scope before Landlock ABI 6; the worker's seccomp filter has no kill",
            _ => "no abstract-unix-socket scope before Landlock ABI 6; the worker's seccomp filter has no socket/connect for unix sockets",
        })
    };
    let mut v = judge(e, run_probe(env, &[op]));
    v.expect = format!("{why}: {}", v.expect);
    v
}

fn landlock_scope_signal(env: &Env) -> Verdict {
    landlock_scope(env, "landlock-scope-signal", "signal")
}

fn landlock_scope_unix(env: &Env) -> Verdict {
    landlock_scope(env, "landlock-scope-unix", "unix")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn landlock_abi_follows_the_release() {
        assert_eq!(landlock_abi_for("6.1.0-40-amd64"), Some(2));
        assert_eq!(landlock_abi_for("6.12.57+deb13-amd64"), Some(6));
        assert_eq!(landlock_abi_for("6.11.2"), Some(5));
        assert_eq!(landlock_abi_for("5.10.0-30-amd64"), None);
        assert_eq!(landlock_abi_for("garbage"), None);
    }

    #[test]
    fn the_expected_report_matches_the_sandbox_s_wording() {
        let profile = policy::sandbox::LANDLOCK_ABI as i32;
        assert_eq!(
            landlock_report_for(2),
            format!(
                "landlock: partially enforced (kernel ABI 2, profile written for ABI {profile})"
            )
        );
        assert_eq!(
            landlock_report_for(profile),
            format!("landlock: fully enforced (ABI {profile})")
        );
    }

    #[test]
    fn every_tool_gets_the_shared_attack_rows() {
        for t in policy::tools::ALL {
            for id in [
                "cw-raw-socket4",
                "cw-packet-socket",
                "cw-exec-sh",
                "cw-exec-launcher",
                "cw-nice-lower",
                "cl-exec-sh",
                "cl-exec-worker",
                "launcher-copy",
            ] {
                let row = ROWS
                    .iter()
                    .find(|r| r.id == id)
                    .unwrap_or_else(|| panic!("{id}"));
                assert!(
                    row.tools.includes(t, &policy::tools::PING),
                    "{id} for {}",
                    t.name
                );
            }
        }
        // Rows chosen by a property of the descriptor.
        let row = |id: &str| ROWS.iter().find(|r| r.id == id).unwrap();
        let runs = |id: &str, t: &Tool| row(id).tools.includes(t, &policy::tools::PING);
        assert!(runs("broker-domain", &policy::tools::ARPING));
        assert!(!runs("broker-domain", &policy::tools::PING));
        for t in [&policy::tools::PING, &policy::tools::CLOCKDIFF] {
            assert!(runs("cw-hdrincl", t), "{}", t.name);
        }
        assert!(!runs("cw-hdrincl", &policy::tools::ARPING));
        let mut ids: Vec<&str> = ROWS.iter().map(|r| r.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), ROWS.len(), "row ids are unique");
    }
}
