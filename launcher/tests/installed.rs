//! The staged launcher (`make stage`) where the environment is unusual:
//! a tiny address-space limit, a user namespace mapped to root, a rootless
//! container (a user's own namespace and root directory), a user namespace
//! whose files the launcher cannot trust. Ignored by a plain `cargo test`:
//! `make test` runs them with the stage and the unprivileged test user.

#![forbid(unsafe_code)]

use std::os::unix::fs::{chown, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use testkit::user::User;

fn stage() -> PathBuf {
    testkit::need::stage()
}

fn user() -> String {
    testkit::need::test_user()
}

fn launcher() -> PathBuf {
    stage().join("bin/privsep-ping")
}

fn worker() -> PathBuf {
    stage().join("libexec/privsep/ping-worker")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `sh -c script` as the unprivileged test user (no groups, no
/// inheritable capabilities); `$1…` are `args`.
fn user_sh(script: &str, args: &[&str]) -> Output {
    testkit::deadline::output(
        User::from_env()
            .command("sh")
            .args(["-c", script, "sh"])
            .args(args),
    )
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn a_tiny_address_space_limit_is_one_line_and_exit_2() {
    // Below what the worker's loader needs: the launcher says so itself
    // (before, the Rust runtime panicked with six lines and SIGABRT, and
    // later the worker's loader failed with exit 127).
    let out = user_sh(
        "exec prlimit --as=3000000 \"$1\" -c 1 127.0.0.1",
        &[launcher().to_str().unwrap()],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        // Named by argv[0] as invoked, as iputils names itself.
        stderr.starts_with(&format!(
            "{}: refusing to run: the address-space limit (RLIMIT_AS, ",
            launcher().display()
        )),
        "{stderr}"
    );
    // A limit the worker can live with still pings.
    let out = user_sh(
        "exec prlimit --as=64000000 \"$1\" -c 1 -q 127.0.0.1",
        &[launcher().to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn an_argument_list_too_large_for_the_address_space_limit_is_one_line_and_exit_2() {
    // The limit of the test above, and arguments (1.2 MB) that the
    // launcher cannot copy under it: its allocator says so in one line
    // (it was the allocation error's panic, naming a file of the Rust
    // library; with the libc, an abort and three lines).
    let big = "b".repeat(100_000);
    let mut args = vec![launcher().to_str().unwrap().to_string()];
    args.extend(std::iter::repeat_n(big, 12));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = user_sh("exec prlimit --as=3000000 \"$@\"", &args);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    assert_eq!(
        text(&out.stderr),
        "privsep-ping: cannot allocate memory: Cannot allocate memory\n"
    );
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn invoked_as_ping_the_launcher_and_the_worker_say_ping() {
    // Where privsep's launcher is the system's ping (a link named ping),
    // callers that parse stderr must see iputils' `ping: …`, from the
    // launcher's own failures as from the worker's messages.
    let ping_in_path =
        "d=$(mktemp -d) && ln -s \"$1\" \"$d/ping\" && PATH=\"$d:$PATH\" && export PATH";
    let out = user_sh(
        &format!("{ping_in_path} && exec prlimit --as=3000000 ping -c 1 127.0.0.1"),
        &[launcher().to_str().unwrap()],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        stderr.starts_with("ping: refusing to run: the address-space limit"),
        "{stderr}"
    );
    let out = user_sh(
        &format!("{ping_in_path} && exec ping"),
        &[launcher().to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        text(&out.stderr).starts_with("ping: usage error: Destination address required"),
        "{out:?}"
    );
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn a_long_argument_list_and_environment_reach_the_worker_whole() {
    // The launcher links no libc: its allocator is a 64 KiB arena, then
    // chunks of mapped pages. Arguments and an environment far larger
    // than that go through it to the worker, untouched: the last argument
    // is the one the worker's option parser refuses.
    let many: Vec<String> = (0..40_000).map(|i| format!("operand-{i}")).collect();
    let out = testkit::deadline::output(
        User::from_env()
            .command(launcher())
            .args(&many)
            .arg("-Z")
            .env("PRIVSEP_FILLER", "x".repeat(100_000)),
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with(&format!("{}: invalid option -- 'Z'", launcher().display())),
        "{stderr}"
    );
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn in_a_user_namespace_mapped_to_root_the_launcher_pings() {
    // Root's own user and network namespace: the launcher's capability is
    // the namespace's, over the namespace's loopback.
    let out = testkit::deadline::output(
        Command::new("unshare")
            .args(["--user", "--map-root-user", "--net", "--", "sh", "-ec"])
            .arg("ip link set lo up; exec \"$0\" -c 1 127.0.0.1")
            .arg(launcher())
            .stdin(Stdio::null()),
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(text(&out.stdout).contains("1 received"), "{out:?}");
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn in_a_users_namespace_the_launcher_trusts_no_worker_it_cannot_see_as_roots() {
    // The user's own namespace: real root's files show up as the overflow
    // uid, so the launcher refuses to hand a socket to that worker. The
    // socket itself it could open, with the namespace's capability the
    // user already holds there: nothing is gained either way.
    let out = user_sh(
        "exec unshare --user --map-root-user --net -- \"$1\" -c 1 127.0.0.1",
        &[launcher().to_str().unwrap()],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("refusing to run worker") && stderr.contains("not root"),
        "{stderr}"
    );
}

/// Copies `from` to `root` + `from` (same absolute path inside), with `mode`.
fn install_into(root: &Path, from: &Path, mode: u32) {
    let to = root.join(from.strip_prefix("/").expect("absolute"));
    std::fs::create_dir_all(to.parent().expect("a parent")).expect("mkdir -p");
    testkit::copy::copy_program(from, &to).expect("copy into the root");
    std::fs::set_permissions(&to, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// The shared libraries of `bin` (ldd's absolute paths): none for the
/// statically linked launcher and worker, but the root directory below is
/// built for whatever a build links.
fn libraries(bin: &Path) -> Vec<PathBuf> {
    let out = testkit::deadline::output(Command::new("ldd").arg(bin));
    text(&out.stdout)
        .lines()
        .filter_map(|l| {
            let path = match l.split_once("=>") {
                Some((_, rhs)) => rhs.split_whitespace().next(),
                None => l.split_whitespace().next(),
            }?;
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect()
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn in_a_rootless_container_the_launcher_and_worker_run() {
    // A rootless container: the user's own user, network and mount
    // namespaces and a root directory of files the user owns, which the
    // namespace shows as root's. The launcher and worker are copies at
    // their baked paths inside it; the capability the launcher uses is the
    // one the user holds over that namespace anyway.
    let User { uid, gid, .. } = User::from_env();
    let dir = tempfile::Builder::new()
        .prefix("privsep-rootless-")
        .tempdir()
        .expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let root = dir.path().join("root");
    install_into(&root, &launcher(), 0o755);
    install_into(&root, &worker(), 0o711);
    for lib in libraries(&worker()) {
        install_into(&root, &lib, 0o755);
        let canonical = std::fs::canonicalize(&lib).expect("canonicalize");
        if canonical != lib {
            install_into(&root, &canonical, 0o755);
        }
    }
    // Everything the user's, as a container image unpacked by the user is.
    let walk = testkit::deadline::status(
        Command::new("chown")
            .args(["-R", &format!("{uid}:{gid}")])
            .arg(&root),
    );
    assert!(walk.success());
    chown(&root, Some(uid), Some(gid)).expect("chown root");

    let out = user_sh(
        "exec unshare --user --map-root-user --net --mount -- sh -ec \
         'ip link set lo up; exec unshare --root=\"$1\" \"$2\" -c 1 127.0.0.1' sh \"$1\" \"$2\"",
        &[root.to_str().unwrap(), launcher().to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(text(&out.stdout).contains("1 received"), "{out:?}");
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn a_worker_directory_the_user_owns_is_refused_by_name() {
    // The worker itself is root's, mode 0711, a regular file: every check
    // on the file passes. Only the directory it sits in is the test user's
    // (a private mount namespace puts a user-owned directory with a root
    // copy of the worker over the staged libexec/privsep), so the one
    // check that can refuse is the walk over the worker's directories, and
    // its message names the directory.
    let User { uid, gid, .. } = User::from_env();
    let dir = tempfile::Builder::new()
        .prefix("privsep-userdir-")
        .tempdir()
        .expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let users = dir.path().join("privsep");
    std::fs::create_dir(&users).expect("mkdir");
    std::fs::set_permissions(&users, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    chown(&users, Some(uid), Some(gid)).expect("chown");
    let copy = users.join("ping-worker");
    testkit::copy::copy_program(worker(), &copy).expect("copy the worker");
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o711)).expect("chmod");
    let staged_dir = worker().parent().expect("a directory").to_path_buf();
    let user = user();
    let out = testkit::deadline::output(
        Command::new("unshare")
            .args(["--mount", "--", "sh", "-ec"])
            .arg(
                "mount --bind \"$1\" \"$2\"; \
                 exec setpriv --reuid=\"$3\" --regid=\"$3\" --clear-groups --inh-caps=-all \
                 \"$4\" -c 1 127.0.0.1",
            )
            .arg("sh")
            .arg(&users)
            .arg(&staged_dir)
            .arg(&user)
            .arg(launcher()),
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    // Named by argv[0] as invoked, as iputils names itself.
    assert_eq!(
        stderr,
        format!(
            "{}: refusing to run worker {}: directory {} is owned by uid {uid}, not root\n",
            launcher().display(),
            worker().display(),
            staged_dir.display()
        )
    );
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn a_setuid_launcher_whose_drop_fails_says_so_in_one_line_and_exit_2() {
    // A setuid-root copy run by the test user in a user namespace (every
    // id mapped onto itself) whose `setgroups` is denied: the drop's
    // `setgroups` fails, the one failure of the privileged phase a test
    // can cause. Its line is written before the image relocates itself:
    // it once read the step's name through a pointer the relocation had
    // not filled in yet, and died of SIGSEGV.
    use std::io::{Read, Write};
    let dir = tempfile::Builder::new()
        .prefix("privsep-setuid-")
        .tempdir()
        .expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let copy = dir.path().join("privsep-ping");
    testkit::copy::copy_program(launcher(), &copy).expect("copy the launcher");
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o4755)).expect("chmod 4755");
    let User { uid, gid, .. } = User::from_env();
    let mut child = Command::new("unshare")
        .args(["--user", "--setgroups=deny", "--", "sh", "-ec"])
        .arg(
            "echo ready; read go; \
             exec setpriv --reuid=\"$1\" --regid=\"$2\" --keep-groups \"$3\" -c 1 127.0.0.1",
        )
        .arg("sh")
        .arg(uid.to_string())
        .arg(gid.to_string())
        .arg(&copy)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("unshare");
    let dog = testkit::deadline::Watchdog::arm(child.id() as i32, testkit::deadline::DEADLINE);
    let mut ready = [0u8; 6];
    let said = child.stdout.as_mut().expect("piped").read_exact(&mut ready);
    assert!(said.is_ok() && &ready == b"ready\n", "{said:?} {ready:?}");
    for (file, map) in [("uid_map", "0 0 65536"), ("gid_map", "0 0 65536")] {
        std::fs::write(format!("/proc/{}/{file}", child.id()), map).expect(file);
    }
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(b"go\n")
        .expect("go");
    let out = child.wait_with_output().expect("wait");
    assert!(!dog.disarm(), "hung: {out:?}");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    assert_eq!(
        text(&out.stderr),
        "privsep-ping: cannot drop privileges (setresuid): errno 1\n"
    );
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn a_worker_that_is_a_symlink_into_a_writable_directory_is_refused() {
    // The staged worker replaced (in a private mount namespace) by a
    // symlink to a root copy in a directory anyone may write: anyone could
    // swap the copy, so the target's directories are checked as a symlink
    // on the way is. The worker's own name was once not counted as one.
    let dir = tempfile::Builder::new()
        .prefix("privsep-linkdir-")
        .tempdir()
        .expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let target = dir.path().join("ping-worker");
    testkit::copy::copy_program(worker(), &target).expect("copy the worker");
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o711)).expect("chmod");
    let staged_dir = worker().parent().expect("a directory").to_path_buf();
    let out = testkit::deadline::output(
        Command::new("unshare")
            .args(["--mount", "--", "sh", "-ec"])
            .arg(
                "mount -t tmpfs -o mode=755 none \"$2\"; ln -s \"$1\" \"$2/ping-worker\"; \
                 exec setpriv --reuid=\"$3\" --regid=\"$3\" --clear-groups --inh-caps=-all \
                 \"$4\" -c 1 127.0.0.1",
            )
            .arg("sh")
            .arg(&target)
            .arg(&staged_dir)
            .arg(user())
            .arg(launcher()),
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    let resolved = std::fs::canonicalize(dir.path()).expect("canonicalize");
    assert_eq!(
        stderr,
        format!(
            "{}: refusing to run worker {}: directory {} (mode 0777) is writable by group or others\n",
            launcher().display(),
            worker().display(),
            resolved.display()
        )
    );
}

/// The functions of `bin` (`objdump -d`): start address, name, and their
/// instructions' text.
fn functions(bin: &Path) -> Vec<(u64, String, Vec<String>)> {
    let out = testkit::deadline::output(
        Command::new("objdump")
            .args(["-d", "--no-show-raw-insn", "-M", "intel"])
            .arg(bin),
    );
    assert!(out.status.success(), "{out:?}");
    let mut funcs: Vec<(u64, String, Vec<String>)> = Vec::new();
    for line in text(&out.stdout).lines() {
        if let Some((addr, rest)) = line.split_once(" <") {
            if let (Ok(a), Some(name)) = (u64::from_str_radix(addr, 16), rest.strip_suffix(">:")) {
                funcs.push((a, name.to_string(), Vec::new()));
                continue;
            }
        }
        if let Some(f) = funcs.last_mut() {
            f.2.push(line.to_string());
        }
    }
    funcs
}

/// The address ranges of `bin`'s sections that hold a target of a
/// relocation (`readelf -S`, `readelf -r`).
fn relocated_sections(bin: &Path) -> Vec<(String, u64, u64)> {
    let hex = |s: &str| u64::from_str_radix(s, 16).ok();
    let sections = testkit::deadline::output(Command::new("readelf").arg("-SW").arg(bin));
    let relocs = testkit::deadline::output(Command::new("readelf").arg("-rW").arg(bin));
    let targets: Vec<u64> = text(&relocs.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().and_then(hex))
        .collect();
    assert!(!targets.is_empty(), "no relocation in {}", bin.display());
    text(&sections.stdout)
        .lines()
        .filter_map(|l| {
            let l = l.split_once(']')?.1;
            let f: Vec<&str> = l.split_whitespace().collect();
            let (name, addr, size) = (f.first()?, hex(f.get(2)?)?, hex(f.get(4)?)?);
            targets
                .iter()
                .any(|t| (addr..addr + size).contains(t))
                .then(|| (name.to_string(), addr, addr + size))
        })
        .collect()
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn nothing_before_the_relocation_reads_what_the_relocation_writes() {
    // The privileged phase and the relocation itself run on an image whose
    // pointers in data are not filled in yet: no instruction of theirs, or
    // of a function they call, may address a section the relocation
    // writes (a `match` of `&str`s became such a table once, and a failed
    // drop died of SIGSEGV).
    for tool in policy::tools::ALL {
        let bin = stage().join("bin").join(tool.launcher_name);
        let funcs = functions(&bin);
        let written = relocated_sections(&bin);
        let roots = ["3sys16privileged_phase", "2rt8relocate"];
        let mut todo: Vec<u64> = funcs
            .iter()
            .filter(|(_, name, _)| roots.iter().any(|r| name.contains(r)))
            .map(|(a, _, _)| *a)
            .collect();
        assert_eq!(todo.len(), roots.len(), "{}: {todo:?}", bin.display());
        let mut seen = Vec::new();
        while let Some(at) = todo.pop() {
            if seen.contains(&at) {
                continue;
            }
            seen.push(at);
            let Some((_, name, body)) = funcs.iter().find(|(a, _, _)| *a == at) else {
                panic!("{}: no function at {at:#x}", bin.display());
            };
            for insn in body {
                let fields: Vec<&str> = insn.split_whitespace().collect();
                // A call, or a jump to the start of another function.
                if let [_, op, target, label, ..] = fields[..] {
                    if op == "call" || (op == "jmp" && !label.contains('+')) {
                        if let Ok(t) = u64::from_str_radix(target, 16) {
                            todo.push(t);
                        }
                    }
                }
                if let Some((_, comment)) = insn.split_once("# ") {
                    let addr = comment.split_whitespace().next().unwrap_or("");
                    if let Ok(a) = u64::from_str_radix(addr, 16) {
                        for (section, start, end) in &written {
                            assert!(
                                !(start..end).contains(&&a),
                                "{}: {name} addresses {section} before the relocation: {insn}",
                                bin.display()
                            );
                        }
                    }
                }
                assert!(
                    !(insn.contains("call") && insn.contains("PTR")),
                    "{}: {name} calls through memory before the relocation: {insn}",
                    bin.display()
                );
            }
        }
    }
}
