//! Running one invocation of one implementation in the client namespace, as
//! root or as the unprivileged user, and collecting its [`Outcome`].
//!
//! Every implementation is reached through a directory of its own holding
//! `ping`, `ping4` and `ping6` links to its binary, first in `PATH`: the
//! program is exec'd by name, so argv\[0\] (which starts every message) is
//! the same for all three.

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hostile::User;
use testkit::netns::Netns;

use crate::compare::{normalise, Outcome};
use crate::table::{As, Row, Stdout};
use crate::ParityError;

/// How long one run may take before it is killed and reported as `timeout`.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// One implementation: its name and the directory of its links.
#[derive(Debug, Clone)]
pub struct Implementation {
    /// `privsep`, `debian` or `upstream`.
    pub name: &'static str,
    /// The binary the links point to.
    pub binary: PathBuf,
    pub(crate) dir: PathBuf,
    /// Links to a copy without any file capability, for the rows that
    /// run with no socket to be had ([`no_socket_prefix`]).
    pub(crate) bare: PathBuf,
}

/// A root-owned directory under /tmp (reachable by the test user) with one
/// link directory per implementation, each holding the links named as the
/// tool is invoked (argv\[0\]); removed on drop. Every suite's.
#[derive(Debug)]
pub struct Links {
    root: PathBuf,
    /// The implementations, privsep first.
    pub implementations: Vec<Implementation>,
}

/// A copy of `binary` as `root/NAME.bin`, mode 0755: it carries no file
/// capability (a copy does not keep the `security.capability` xattr).
pub(crate) fn capability_free_copy(
    root: &Path,
    name: &str,
    binary: &Path,
) -> Result<PathBuf, ParityError> {
    use std::os::unix::fs::PermissionsExt;
    let copy = root.join(format!("{name}.bin"));
    let io = |source| ParityError::Io {
        path: copy.display().to_string(),
        source,
    };
    testkit::copy::copy_program(binary, &copy).map_err(io)?;
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).map_err(io)?;
    Ok(copy)
}

impl Links {
    /// Links `ping`, `ping4` and `ping6` for `(name, binary)` each. With
    /// `without_capabilities`, the links point to copies of the binaries,
    /// which carry no file capability (a copy does not keep the
    /// `security.capability` xattr): the datagram mode, where every
    /// implementation pings over ICMP datagram sockets.
    pub fn new(
        binaries: &[(&'static str, PathBuf)],
        without_capabilities: bool,
    ) -> Result<Links, ParityError> {
        Links::named(
            "ping",
            &["ping", "ping4", "ping6"],
            binaries,
            without_capabilities,
        )
    }

    /// [`Links::new`] for `suite`'s tool, invoked as each of `argv0s`.
    pub fn named(
        suite: &str,
        argv0s: &[&str],
        binaries: &[(&'static str, PathBuf)],
        without_capabilities: bool,
    ) -> Result<Links, ParityError> {
        use std::os::unix::fs::PermissionsExt;
        let root = PathBuf::from(format!(
            "/tmp/privsep-parity-{suite}-{}",
            std::process::id()
        ));
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| ParityError::Io { path, source }
        };
        let _ = std::fs::remove_dir_all(&root);
        // Directories of earlier runs that were killed before their clean-up
        // (`privsep-parity-SUITE-PID`, PID gone).
        if let Ok(entries) = std::fs::read_dir("/tmp") {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                let dead = name
                    .strip_prefix("privsep-parity-")
                    .and_then(|rest| rest.rsplit('-').next())
                    .and_then(|p| p.parse::<u32>().ok())
                    .is_some_and(|p| !Path::new(&format!("/proc/{p}")).exists());
                if dead {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        let mut links = Links {
            root: root.clone(),
            implementations: Vec::new(),
        };
        for (name, binary) in binaries {
            if !binary.is_file() {
                return Err(ParityError::Setup(format!(
                    "{name}: no {}: {}",
                    binary.display(),
                    crate::NEEDS
                )));
            }
            let dir = root.join(name);
            let bare = root.join(format!("{name}-bare"));
            std::fs::create_dir_all(&root).map_err(io(&root))?;
            let copy = capability_free_copy(&root, name, binary)?;
            let target = if without_capabilities {
                copy.clone()
            } else {
                binary.clone()
            };
            for (d, target) in [(&dir, &target), (&bare, &copy)] {
                std::fs::create_dir_all(d).map_err(io(d))?;
                for argv0 in argv0s {
                    std::os::unix::fs::symlink(target, d.join(argv0)).map_err(io(d))?;
                }
            }
            links.implementations.push(Implementation {
                name,
                binary: binary.clone(),
                dir,
                bare,
            });
        }
        let dirs = links.implementations.iter().flat_map(|i| [&i.dir, &i.bare]);
        for d in std::iter::once(&root).chain(dirs) {
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).map_err(io(d))?;
        }
        Ok(links)
    }
}

impl Drop for Links {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// The number of signal `name` (a table's `signal`).
pub(crate) fn signal_number(name: &str) -> Result<i32, ParityError> {
    Ok(match name {
        "INT" => libc::SIGINT,
        "ALRM" => libc::SIGALRM,
        "TERM" => libc::SIGTERM,
        "QUIT" => libc::SIGQUIT,
        "HUP" => libc::SIGHUP,
        other => return Err(ParityError::Table(format!("unknown signal {other}"))),
    })
}

/// The commands a run with no socket to be had starts with, before the
/// user's `setpriv` (or in its place, as root): a network namespace of its
/// own, whose `ping_group_range` is the kernel's default (it admits no
/// group), and, as root, no capability left (an empty bounding set and
/// inheritable set: root's exec of a program gains nothing, as in a
/// container without `CAP_NET_RAW`). The program is a copy without any
/// file capability ([`Implementation`]'s bare links), so neither a
/// datagram nor a raw socket can be opened: the reference's
/// `create_socket` refusal (fping's `can't create socket`), whatever the
/// mode. `unshare` and `setpriv` exec without forking: the pid spawned is
/// still the program's, for signals.
pub fn no_socket_prefix(who: As) -> Vec<&'static str> {
    let mut words = vec!["unshare", "--net", "--"];
    if who == As::Root {
        words.extend(["setpriv", "--bounding-set=-all", "--inh-caps=-all", "--"]);
    }
    words
}

/// Runs `row` by `imp` as `who` in `ns`.
pub fn run(
    ns: &Netns,
    imp: &Implementation,
    row: &Row,
    who: As,
    user: &User,
) -> Result<Outcome, ParityError> {
    // `ip netns exec` and `setpriv` exec without forking, and so does the
    // shell: the pid spawned is the pinger's, for signals.
    let redirect = match row.stdout {
        Stdout::Pipe => "",
        Stdout::Full => " >/dev/full",
        Stdout::Closed => " >&-",
    };
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", ns.name()]);
    if row.no_socket {
        cmd.args(no_socket_prefix(who));
    }
    if who == As::User {
        cmd.arg("setpriv").args([
            &format!("--reuid={}", user.uid),
            &format!("--regid={}", user.gid),
            "--clear-groups",
            "--inh-caps=-all",
            "--",
        ]);
    }
    // The program is the link named like argv[0]'s last component, found
    // through PATH; bash's `exec -a` gives it argv[0] exactly as the row
    // says (a path such as /usr/bin/ping included). It starts with fds 0-2
    // only, as from a login shell: iputils' sockets take the lowest free
    // descriptors, which -v prints, and whatever the suite inherited (the
    // lock `flock` holds, say) would move them.
    let program = row.argv0.rsplit('/').next().unwrap_or(&row.argv0);
    let links_dir = if row.no_socket { &imp.bare } else { &imp.dir };
    cmd.args([
        "bash",
        "-c",
        &format!(
            "exec 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-; exec -a \"$0\" {program} \"$@\"{redirect}"
        ),
    ])
    .arg(&row.argv0)
    .args(&row.args)
    .env_clear()
    .env(
        "PATH",
        format!("{}:/usr/sbin:/usr/bin:/sbin:/bin", links_dir.display()),
    )
    .env("LC_ALL", "C")
    .envs(&row.env)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| ParityError::Command {
        what: format!("run {} {}", imp.name, row.name),
        detail: e.to_string(),
    })?;
    let reader = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            buf
        })
    };
    let out = reader(Box::new(child.stdout.take().expect("piped")));
    let err = reader(Box::new(child.stderr.take().expect("piped")));
    let start = Instant::now();
    let mut signal = match &row.signal {
        Some(s) => Some((signal_number(&s.name)?, Duration::from_millis(s.after_ms))),
        None => None,
    };
    let status = loop {
        if let Some(st) = child.try_wait().map_err(|e| ParityError::Command {
            what: format!("wait {} {}", imp.name, row.name),
            detail: e.to_string(),
        })? {
            break if let Some(code) = st.code() {
                format!("exit {code}")
            } else {
                format!("signal {}", st.signal().unwrap_or(0))
            };
        }
        if let Some((sig, after)) = signal {
            if start.elapsed() >= after {
                let _ = hostile::sys::kill(child.id() as i32, sig);
                signal = None;
            }
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break "timeout".into();
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let text = |h: std::thread::JoinHandle<Vec<u8>>| {
        String::from_utf8_lossy(&h.join().unwrap_or_default()).into_owned()
    };
    Ok(Outcome {
        stdout: normalise(&text(out)),
        stderr: normalise(&text(err)),
        status,
    })
}
