//! Signal handling: the handlers that only set flags, the mask that
//! delivers them inside `ppoll` only, and the actions set to default or
//! ignored.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};

/// Restores the default `SIGPIPE` action, which the Rust runtime sets to
/// "ignore": `privsep-ping … | head -1` must end the ping, as with iputils.
pub fn default_sigpipe() {
    use nix::sys::signal::{signal, SigHandler, Signal};
    // SAFETY: installing SIG_DFL involves no handler code.
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) };
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static STATUS_REQUESTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(sig: libc::c_int) {
    // Async-signal-safe: atomic stores only.
    if sig == libc::SIGQUIT {
        STATUS_REQUESTED.store(true, Ordering::Relaxed);
    } else {
        INTERRUPTED.store(true, Ordering::Relaxed);
    }
}

/// Whether SIGINT (or SIGALRM, or SIGTERM where it is handled) arrived.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// Whether SIGQUIT arrived since the last call.
pub fn take_status_request() -> bool {
    STATUS_REQUESTED.swap(false, Ordering::Relaxed)
}

/// The signal mask to wait with: the signals we handle are blocked at all
/// other times and delivered only inside [`ppoll`](super::ppoll), so a signal can never
/// slip in between "check the flag" and "go to sleep".
pub struct WaitMask(pub(super) nix::sys::signal::SigSet);

/// Installs the SIGINT/SIGALRM (finish with the summary) and SIGQUIT
/// (status line) handlers, as upstream's `setup()` does (SIGTERM keeps its
/// default action), blocks those signals, and returns the mask for
/// [`ppoll`](super::ppoll).
pub fn install_signal_handlers() -> io::Result<WaitMask> {
    use nix::sys::signal::Signal;
    install_handlers(&[Signal::SIGINT, Signal::SIGALRM, Signal::SIGQUIT])
}

/// arping's signals, as upstream's signalfd takes them: SIGINT, SIGQUIT
/// and SIGTERM all end the run with the summary ([`interrupted`] for INT
/// and TERM, [`take_status_request`] for QUIT); SIGALRM keeps its default
/// action. Blocks them and returns the mask for [`ppoll`](super::ppoll).
pub fn install_arping_handlers() -> io::Result<WaitMask> {
    use nix::sys::signal::Signal;
    install_handlers(&[Signal::SIGINT, Signal::SIGQUIT, Signal::SIGTERM])
}

fn install_handlers(signals: &[nix::sys::signal::Signal]) -> io::Result<WaitMask> {
    use nix::sys::signal::{
        sigaction, sigprocmask, SaFlags, SigAction, SigHandler, SigSet, SigmaskHow,
    };
    let sa = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::empty(),
        SigSet::empty(),
    );
    let mut block = SigSet::empty();
    for &sig in signals {
        // SAFETY: the handler only stores to atomics (async-signal-safe).
        unsafe { sigaction(sig, &sa) }.map_err(io::Error::from)?;
        block.add(sig);
    }
    let mut old = SigSet::empty();
    sigprocmask(SigmaskHow::SIG_BLOCK, Some(&block), Some(&mut old)).map_err(io::Error::from)?;
    for &sig in signals {
        old.remove(sig);
    }
    Ok(WaitMask(old))
}

/// Ignores SIGINT and SIGQUIT (the resolver co-process: the terminal sends
/// them to the whole process group, and only the worker acts on them; the
/// co-process goes when the worker does).
pub fn ignore_terminal_signals() {
    use nix::sys::signal::{signal, SigHandler, Signal};
    for sig in [Signal::SIGINT, Signal::SIGQUIT] {
        // SAFETY: installing SIG_IGN involves no handler code.
        let _ = unsafe { signal(sig, SigHandler::SigIgn) };
    }
}

/// Ignores SIGTERM (arping's broker: the worker reports and ends; the
/// broker goes when the worker's end of the channel closes).
pub fn ignore_sigterm() {
    use nix::sys::signal::{signal, SigHandler, Signal};
    // SAFETY: installing SIG_IGN involves no handler code.
    let _ = unsafe { signal(Signal::SIGTERM, SigHandler::SigIgn) };
}
