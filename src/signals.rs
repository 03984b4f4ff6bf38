//! Ctrl-C, SIGTERM and SIGHUP: one handler for the process, set so that a
//! hang-up ignored by `nohup` stays ignored. A leaf: it names no other
//! module.

/// Calls `handler` on Ctrl-C, SIGTERM and SIGHUP instead of ending the
/// process; a SIGHUP the process ignores (under `nohup`) stays ignored.
/// Only one handler can be set in a process: a second call fails.
pub fn on_stop(handler: impl FnMut() + Send + 'static) -> Result<(), ctrlc::Error> {
    let hangup_ignored = ignored(libc::SIGHUP);
    ctrlc::set_handler(handler)?;
    if hangup_ignored {
        // SAFETY: sets the disposition of one signal to "ignore"
        unsafe {
            libc::signal(libc::SIGHUP, libc::SIG_IGN);
        }
    }
    Ok(())
}

/// True when `signal` is ignored by this process.
fn ignored(signal: libc::c_int) -> bool {
    // SAFETY: reads the current disposition into a zeroed struct, changing nothing
    unsafe {
        let mut current: libc::sigaction = std::mem::zeroed();
        libc::sigaction(signal, std::ptr::null(), &mut current) == 0 && current.sa_sigaction == libc::SIG_IGN
    }
}

/// Set by the handler [`catch_interrupts`] installs.
static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

extern "C" fn note_interrupt(_: libc::c_int) {
    INTERRUPTED.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// From now on Ctrl-C (SIGINT) does not end the process: it only sets a
/// flag that [`interrupted`] takes. For a prompt that interrupts the work
/// at hand and goes on; SIGTERM and SIGHUP still end the process.
pub fn catch_interrupts() {
    // SAFETY: the handler only stores into an atomic, which is
    // async-signal-safe; the struct is zeroed before its fields are set
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = note_interrupt as extern "C" fn(libc::c_int) as usize;
        libc::sigemptyset(&mut action.sa_mask);
        action.sa_flags = libc::SA_RESTART;
        libc::sigaction(libc::SIGINT, &action, std::ptr::null_mut());
    }
}

/// Whether Ctrl-C was pressed since the last call (after
/// [`catch_interrupts`]).
pub fn interrupted() -> bool {
    INTERRUPTED.swap(false, std::sync::atomic::Ordering::SeqCst)
}
