//! What the AppArmor configurations expect, and the rows only they run:
//! the labels of the launcher and the worker, the denials AppArmor logs
//! (`apparmor="DENIED"` audit records in the kernel log), and three rows
//! that measure what the profiles rest on — path-based attachment (a
//! launcher copy), the revalidation of inherited sockets at the exec, and why the
//! worker's profile is stacked under no_new_privs. The variant rows load a
//! changed profile with apparmor_parser in the guest and put the shipped
//! one back afterwards.

#![forbid(unsafe_code)]

use std::process::Command;

use policy::tools::Tool;

use super::cases::{as_user, judge, run_probe, Expect, EACCES, EPERM};
use super::setup::{install, stock};
use super::{Env, Verdict, STOCK};
use crate::configs::{APPARMOR_PARSER, APPARMOR_PROFILES};
use crate::sys::Exit;

/// The launcher's profile: `privsep-ping`.
pub fn launcher_profile(tool: &Tool) -> String {
    format!("privsep-{}", tool.name)
}

/// The launcher's label as `/proc/PID/attr/current` shows it.
pub fn launcher_label(tool: &Tool) -> String {
    format!("{} (enforce)", launcher_profile(tool))
}

/// The worker's label: its profile stacked onto the launcher's (the only
/// transition no_new_privs allows).
pub fn worker_label(tool: &Tool) -> String {
    format!(
        "{}//&{}-worker (enforce)",
        launcher_profile(tool),
        launcher_profile(tool)
    )
}

/// Whether every listed tool's two profiles are loaded in enforce mode, and the list.
pub fn profiles_enforcing(env: &Env) -> (bool, String) {
    let loaded =
        std::fs::read_to_string("/sys/kernel/security/apparmor/profiles").unwrap_or_default();
    let ok = env.tools.iter().all(|t| {
        let l = launcher_profile(t);
        [l.clone(), format!("{l}-worker")]
            .iter()
            .all(|p| loaded.lines().any(|x| x == format!("{p} (enforce)")))
    });
    (ok, loaded.lines().collect::<Vec<_>>().join(","))
}

/// A denial record of `operation` naming the tool's profiles, with `fields` on the same line.
fn logged(env: &Env, operation: &str, fields: &[String]) -> Vec<String> {
    let mut parts = vec![
        "apparmor=\"DENIED\"".to_string(),
        format!("operation=\"{operation}\""),
        format!("profile=\"{}", launcher_profile(env.tool)),
    ];
    parts.extend(fields.iter().cloned());
    vec![parts.join("&&")]
}

/// An exec the profile refuses: EACCES, logged with the path.
pub fn exec_denied(env: &Env, path: &str) -> Expect {
    Expect::Denied(EACCES, logged(env, "exec", &[format!("name=\"{path}\"")]))
}

/// An open the worker's profile has no rule for: EACCES, logged.
pub fn open_denied(env: &Env, path: &str) -> Expect {
    Expect::Denied(EACCES, logged(env, "open", &[format!("name=\"{path}\"")]))
}

/// ptrace of anything: the worker's profile has no ptrace rule.
pub fn ptrace_denied(env: &Env) -> Expect {
    Expect::Denied(&[libc::EACCES, libc::EPERM], logged(env, "ptrace", &[]))
}

/// A new socket of `family`/`ty` in the worker: where the worker was handed that kind, its
/// profile names it (it must, see `inherit_revalidated`), AppArmor lets the create through
/// and the kernel's own check of CAP_NET_RAW, which the worker lacks, refuses it (EPERM,
/// before any LSM is asked, so unlogged); any other kind AppArmor refuses itself (EACCES,
/// logged: an `audit deny` rule or no rule).
pub fn socket_expect(env: &Env, family: i32, ty: i32) -> Expect {
    let handed = env
        .tool
        .sockets()
        .any(|s| s.domain == family && s.kinds.iter().any(|k| k.ty == ty));
    if handed {
        return Expect::Denied(EPERM, vec![]);
    }
    let name = match family {
        libc::AF_INET => "inet",
        libc::AF_INET6 => "inet6",
        _ => "packet",
    };
    Expect::Denied(
        EACCES,
        logged(env, "create", &[format!("family=\"{name}\"")]),
    )
}

/// Loads `text` as the tool's profile file, runs `f`, then loads the shipped file again.
fn with_variant(env: &Env, text: &str, f: impl FnOnce() -> Verdict) -> Verdict {
    let shipped = format!("{APPARMOR_PROFILES}/privsep-{}", env.tool.name);
    let variant = format!("/tmp/apparmor-variant-{}", env.tool.name);
    let load = |file: &str| -> Result<(), String> {
        let out = Command::new(APPARMOR_PARSER)
            .args(["-r", "-T", file])
            .output()
            .map_err(|e| format!("{APPARMOR_PARSER}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "apparmor_parser -r {file}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    };
    let mut v = match std::fs::write(&variant, text)
        .map_err(|e| format!("writing {variant}: {e}"))
        .and_then(|()| load(&variant))
    {
        Ok(()) => f(),
        Err(e) => Verdict {
            outcome: format!("could not load the variant: {e}"),
            ..Default::default()
        },
    };
    if let Err(e) = load(&shipped) {
        v.pass = false;
        v.outcome.push_str(&format!(
            "; and the shipped profile could not be put back: {e}"
        ));
    }
    v
}

/// The shipped profile file of the tool.
fn shipped(env: &Env) -> Result<String, String> {
    let path = format!("{APPARMOR_PROFILES}/privsep-{}", env.tool.name);
    std::fs::read_to_string(&path).map_err(|e| format!("reading {path}: {e}"))
}

fn failed(expect: &str, why: String) -> Verdict {
    Verdict {
        expect: expect.into(),
        outcome: why,
        ..Default::default()
    }
}

/// `aa-launcher-copy-real`: the real launcher at another path (made by root, with the file
/// capability) is attached to no profile, and neither is the worker it starts: the worker's
/// profile is entered only through the launcher's exec rule.
pub fn launcher_copy_real(env: &Env) -> Verdict {
    let copy = &format!("{}-copy", env.tool.launcher_path);
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
            None,
        )
    })
    .map_err(|e| e.to_string())
    .and_then(|()| as_user(env, &["run", copy, "whoami"]));
    let _ = std::fs::remove_file(copy);
    let mut v = judge(
        Expect::Allowed(vec!["context=unconfined ".into(), "fd3=domain".into()]),
        run,
    );
    v.expect = format!(
        "known limit — AppArmor confines by path: a copy of the launcher at another path and the \
         worker it starts run unconfined, the worker with the sockets: {}",
        v.expect
    );
    v
}

/// The profile file with the `network` rules of the handed kinds (every alternative) taken
/// out of the worker's profile (the launcher's keeps them: it must still open the sockets).
/// Name resolution's identical rules go with them: the probe resolves nothing.
fn without_handed_rules(text: &str, tool: &Tool) -> String {
    let handed: Vec<String> = tool
        .worker_handoff()
        .into_iter()
        .flat_map(|s| {
            s.kinds
                .iter()
                .filter_map(|k| policy::render::apparmor_socket(s.domain, k.ty))
        })
        .map(|k| format!("network {},", k.replace('/', " ")))
        .collect();
    let worker_start = format!("profile {}-worker ", launcher_profile(tool));
    let mut in_worker = false;
    let mut out = String::new();
    for line in text.lines() {
        if line.starts_with(&worker_start) {
            in_worker = true;
        } else if line.starts_with("profile ") {
            in_worker = false;
        }
        if in_worker && handed.iter().any(|h| line.trim() == h) {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// What a revoked inherited descriptor looks like to the worker, by kernel: 6.1 puts
/// AppArmor's null file in its place (not a socket: ENOTSOCK); 6.12 refuses that null file to
/// the new label too ("Failed name lookup - disconnected path", logged) and leaves the
/// descriptor closed (EBADF). Either way the socket is gone. Another release: either.
pub fn revoked_fd_errnos(kernel: &str) -> &'static [&'static str] {
    let mut parts = kernel.split(|c: char| !c.is_ascii_digit());
    let version = (
        parts.next().and_then(|p| p.parse::<u32>().ok()),
        parts.next().and_then(|p| p.parse::<u32>().ok()),
    );
    match version {
        (Some(6), Some(1)) => &["ENOTSOCK"],
        (Some(6), Some(12)) => &["EBADF"],
        _ => &["ENOTSOCK", "EBADF"],
    }
}

/// `aa-inherit-revalidated`: what AppArmor does with an inherited socket the new label has
/// no rule for.
pub fn inherit_revalidated(env: &Env) -> Verdict {
    let errnos = revoked_fd_errnos(&env.kernel);
    let expect = format!(
        "every handed socket is revoked at the exec, logged as file_inherit: the worker's fds 3… read {} \
         (6.1: AppArmor's null file in their place; 6.12: closed, the null file being refused too)",
        errnos.join(" or ")
    );
    let text = match shipped(env) {
        Ok(t) => t,
        Err(e) => return failed(&expect, e),
    };
    let variant = without_handed_rules(&text, env.tool);
    if variant == text {
        return failed(
            &expect,
            "no handed socket rule found in the worker's profile".into(),
        );
    }
    let handed = env.tool.worker_handoff().len();
    with_variant(env, &variant, || {
        let mut v = judge(Expect::Allowed(vec![]), run_probe(env, &["whoami"]));
        let line = v.evidence.clone();
        let revoked = (0..handed).all(|i| {
            errnos
                .iter()
                .any(|e| line.contains(&format!("fd{}={e}", 3 + i)))
        });
        if v.pass && !revoked {
            v.pass = false;
            v.outcome = format!("a handed socket survived the exec: {line}");
        } else if v.pass {
            v.outcome = format!("revoked ({})", errnos.join("/"));
        }
        v.expect = expect.clone();
        v.log_must_contain = logged(env, "file_inherit", &[]);
        v
    })
}

/// `aa-nnp-plain-px`: the launcher's transition without the stack.
pub fn nnp_plain_px(env: &Env) -> Verdict {
    let expect = "the launcher's exec of the worker fails (exit 2, the probe at the worker's path never runs), \
                  logged as an exec refused for no_new_privs";
    let text = match shipped(env) {
        Ok(t) => t,
        Err(e) => return failed(expect, e),
    };
    let variant = text.replacen("Pix -> &", "Px -> ", 1);
    if variant == text {
        return failed(
            expect,
            "no stacked transition found in the launcher's profile".into(),
        );
    }
    with_variant(env, &variant, || {
        let run = install(
            &format!("{STOCK}/probe"),
            env.tool.worker_path,
            policy::layout::WORKER_MODE,
            0,
            None,
        )
        .map_err(|e| e.to_string())
        .and_then(|()| as_user(env, &["run", env.tool.launcher_path, "whoami"]));
        let mut v = failed(expect, String::new());
        match run {
            Ok(r) => {
                v.pass = r.exit == Exit::Code(2) && !r.out.contains("PROBE");
                v.outcome = format!(
                    "{}{}",
                    r.exit,
                    if r.out.contains("PROBE") {
                        ": THE WORKER RAN"
                    } else {
                        ""
                    }
                );
                v.evidence = format!("output: {}", r.out.trim().replace('\n', " / "));
                v.log_must_contain = logged(env, "exec", &["no new privs".into()]);
            }
            Err(e) => v.outcome = e,
        }
        v
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revoked_descriptor_reads_as_each_kernel_leaves_it() {
        assert_eq!(revoked_fd_errnos("6.1.0-57-amd64"), &["ENOTSOCK"]);
        assert_eq!(revoked_fd_errnos("6.12.117+deb13-amd64"), &["EBADF"]);
        assert_eq!(revoked_fd_errnos("6.18.1"), &["ENOTSOCK", "EBADF"]);
    }

    #[test]
    fn the_variant_loses_only_the_worker_s_handed_rules() {
        let text = "profile privsep-ping /usr/bin/privsep-ping {\n  network inet raw,\n}\n\
                    profile privsep-ping-worker {\n  network inet raw,\n  network inet6 dgram,\n  network netlink raw,\n}\n";
        let out = without_handed_rules(text, &policy::tools::PING);
        assert_eq!(
            out,
            "profile privsep-ping /usr/bin/privsep-ping {\n  network inet raw,\n}\n\
             profile privsep-ping-worker {\n  network netlink raw,\n}\n"
        );
    }
}
