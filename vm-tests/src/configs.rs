//! The configurations: one VM boot each, described by its kernel command
//! line (every argument with the reason it is there) and the policies the
//! agent loads. The agent learns its configuration from `privsep.config=`.

#![forbid(unsafe_code)]

/// Which major LSMs a configuration boots with and enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lsms {
    /// SELinux: policy loaded, labels applied, enforcing.
    pub selinux: bool,
    /// TOMOYO: policy written to securityfs, profile enforcing.
    pub tomoyo: bool,
    /// AppArmor: privsep's profiles loaded with apparmor_parser, enforcing.
    pub apparmor: bool,
}

/// One configuration.
pub struct Config {
    /// Name used on the command line, in `privsep.config=` and in `target/vm-tests/<name>.jsonl`.
    pub name: &'static str,
    /// What this boot proves.
    pub about: &'static str,
    /// The LSMs the agent sets up.
    pub lsms: Lsms,
    /// Arguments added to [`COMMON_CMDLINE`]: `(argument, why)`.
    pub cmdline: &'static [(&'static str, &'static str)],
    /// Fewer cases than this (for ping; other tools have fewer rows)  is a failure of the suite itself (at least 20 per configuration).
    pub min_cases: usize,
}

/// Kernel arguments every configuration uses: `(argument, why)`.
pub const COMMON_CMDLINE: &[(&str, &str)] = &[
    ("console=ttyS0", "kernel messages and the agent's progress go to the first serial port (console log file)"),
    ("loglevel=4", "only warnings and worse on the console: every byte on the emulated UART costs time under TCG"),
    ("panic=-1", "reboot at once on a panic; with QEMU's -no-reboot that exits QEMU, which we report as infrastructure failure"),
    ("oops=panic", "an oops in the guest is a broken run, never a half-finished one that looks like a result"),
    ("rdinit=/init", "the agent, PID 1 from the initramfs (no root disk)"),
    ("audit=1", "AVC denials go to the kernel log (no auditd in the guest), where the agent reads them from /dev/kmsg"),
    ("audit_backlog_limit=8192", "do not drop audit records while the agent is busy"),
    ("mitigations=off", "speculative-execution mitigations only slow the emulated CPU down; nothing here is a side-channel test"),
    ("tsc=reliable", "skip the TSC stability watchdog, which misfires under TCG's irregular timing"),
    ("no_timer_check", "skip the IO-APIC timer check, a known TCG boot delay"),
    ("random.trust_cpu=on", "do not wait for entropy: nothing in the suite needs secret randomness"),
];

/// TOMOYO enforces nothing until activated, which happens when the trigger is executed and
/// the loader exists; the agent writes the policy itself, then executes the trigger.
const TOMOYO_TRIGGER: (&str, &str) = (
    "TOMOYO_trigger=/usr/sbin/tomoyo-activate",
    "activate TOMOYO when the agent execs this (after writing the policy), not at /sbin/init",
);
/// See [`TOMOYO_TRIGGER`].
const TOMOYO_LOADER: (&str, &str) = (
    "TOMOYO_loader=/usr/sbin/tomoyo-activate",
    "the loader the kernel runs at activation: a no-op, the agent already wrote the policy",
);

/// Where Debian's apparmor package has its parser (merged /usr), on the host and in the guest.
pub const APPARMOR_PARSER: &str = "/usr/sbin/apparmor_parser";
/// Where the guest has the profiles to load (one `privsep-<tool>` per tool) and what they include.
pub const APPARMOR_PROFILES: &str = "/etc/apparmor.d";

/// The table of configurations.
pub const CONFIGS: &[Config] = &[
    Config {
        name: "none",
        about: "no major LSM: capabilities, seccomp, Landlock and namespaces alone",
        lsms: Lsms { selinux: false, tomoyo: false, apparmor: false },
        cmdline: &[(
            "lsm=capability,landlock,yama",
            "no major LSM at all (Debian's default would be AppArmor); landlock must be listed to be active",
        )],
        min_cases: 20,
    },
    Config {
        name: "tomoyo",
        about: "the shipped TOMOYO policy, enforcing",
        lsms: Lsms { selinux: false, tomoyo: true, apparmor: false },
        cmdline: &[
            ("lsm=capability,landlock,yama,tomoyo", "TOMOYO as the only major LSM; landlock kept for the worker's own sandbox"),
            TOMOYO_TRIGGER,
            TOMOYO_LOADER,
        ],
        min_cases: 20,
    },
    Config {
        name: "selinux",
        about: "Debian's selinux-policy-default with the privsep module merged in, enforcing",
        lsms: Lsms { selinux: true, tomoyo: false, apparmor: false },
        cmdline: &[
            ("lsm=capability,landlock,yama,selinux", "SELinux as the only major LSM (Debian's kernel has no selinux= boot parameter: the list decides)"),
            ("enforcing=0", "boot permissive; the agent switches to enforcing after loading the policy and labelling the files"),
        ],
        min_cases: 20,
    },
    Config {
        name: "stacked",
        about: "SELinux and TOMOYO both enforcing at once",
        lsms: Lsms { selinux: true, tomoyo: true, apparmor: false },
        cmdline: &[
            ("lsm=capability,landlock,yama,selinux,tomoyo", "both: since 5.1 TOMOYO is not an exclusive LSM (6.1 and 6.12 alike), so it stacks with SELinux"),
            ("enforcing=0", "as in `selinux`: enforcing only once the policy is loaded"),
            TOMOYO_TRIGGER,
            TOMOYO_LOADER,
        ],
        min_cases: 20,
    },
    Config {
        name: "apparmor",
        about: "privsep's AppArmor profiles, loaded by Debian 12's apparmor_parser in the guest, enforcing",
        lsms: Lsms { selinux: false, tomoyo: false, apparmor: true },
        cmdline: &[
            ("lsm=capability,landlock,yama,apparmor", "AppArmor as the only major LSM (Debian's default list, without the others)"),
            ("apparmor=1", "enabled whatever the kernel's build-time default (Debian's is on)"),
        ],
        min_cases: 20,
    },
    Config {
        name: "apparmor-tomoyo",
        about: "AppArmor and TOMOYO both enforcing at once",
        lsms: Lsms { selinux: false, tomoyo: true, apparmor: true },
        cmdline: &[
            ("lsm=capability,landlock,yama,apparmor,tomoyo", "both: TOMOYO is not an exclusive LSM (6.1 and 6.12 alike), so it stacks with AppArmor; AppArmor and SELinux are both exclusive there and never stack"),
            ("apparmor=1", "as in `apparmor`"),
            TOMOYO_TRIGGER,
            TOMOYO_LOADER,
        ],
        min_cases: 20,
    },
];

/// Looks a configuration up by name.
pub fn find(name: &str) -> Option<&'static Config> {
    CONFIGS.iter().find(|c| c.name == name)
}

impl Config {
    /// The full kernel command line, with the agent's own parameters.
    pub fn kernel_cmdline(&self, tools: &[&str], cases: Option<&str>) -> String {
        let mut args: Vec<String> = COMMON_CMDLINE
            .iter()
            .chain(self.cmdline)
            .map(|(a, _)| a.to_string())
            .collect();
        // Read by the agent from /proc/cmdline (the kernel ignores unknown dotted parameters).
        args.push(format!("privsep.config={}", self.name));
        args.push(format!("privsep.tools={}", tools.join(",")));
        if let Some(cases) = cases {
            args.push(format!("privsep.cases={cases}"));
        }
        args.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_argument_is_explained_and_lsm_lists_keep_landlock() {
        for c in CONFIGS {
            for (arg, why) in COMMON_CMDLINE.iter().chain(c.cmdline) {
                assert!(!arg.contains(' ') && why.len() > 10, "{arg}");
            }
            let lsm = c
                .cmdline
                .iter()
                .find(|(a, _)| a.starts_with("lsm="))
                .expect("lsm=");
            assert!(lsm.0.contains("landlock"), "{}", c.name);
            assert_eq!(lsm.0.contains("selinux"), c.lsms.selinux);
            assert_eq!(lsm.0.contains("tomoyo"), c.lsms.tomoyo);
            assert_eq!(lsm.0.contains("apparmor"), c.lsms.apparmor);
            // SELinux and AppArmor are both exclusive LSMs on 6.1 and 6.12: never both.
            assert!(!(c.lsms.selinux && c.lsms.apparmor), "{}", c.name);
        }
    }
}
