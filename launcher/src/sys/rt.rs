//! The launcher binaries' run-time, in place of a libc's and Rust's:
//! [`start`] (the privileged phase on the initial stack, then the image's
//! self-relocation, then the sequence), the memory functions the compiler
//! calls (`memcpy`, `memmove`, `memset`, `memcmp`, `bcmp`), the
//! allocator ([`Arena`]) and the panic handler's body ([`panicked`]).
//!
//! Why no libc: glibc's static start-up runs some 70 `cpuid` instructions
//! (each a trap to the hypervisor in a virtual machine) and a dozen system
//! calls; musl's is cheap but its Rust standard library is not installed
//! everywhere the launchers are built. The sequence needs neither: its
//! system calls are `super`'s, its strings a few small allocations.

use core::alloc::{GlobalAlloc, Layout};
use core::arch::asm;
use core::cell::UnsafeCell;

use policy::tools::Tool;

use super::{exit, raw_syscall, write_stderr};
use crate::plan::Plan;

/// The whole life of a launcher process, from its ELF entry.
///
/// # Safety
///
/// `stack` must be the initial stack pointer as the kernel set it, and
/// this must run once, at the entry point, on the only thread, before
/// anything reads a relocated pointer.
pub unsafe fn start(plan: &Plan, tool: &'static Tool, stack: *const usize) -> ! {
    // SAFETY: the caller's contract. The phase reads integers only: it runs
    // before the relocation, as it ran before the libc's.
    let record = unsafe { super::privileged_phase(plan, stack) };
    // SAFETY: once, before any relocated pointer is read (`tool`'s fields
    // are read only in `relocated`); the image is this process's own.
    unsafe { relocate(stack) };
    // SAFETY: the caller's contract; after the relocation.
    unsafe { relocated(tool, record, stack) }
}

/// The rest of [`start`], in a function of its own (never inlined, as
/// `relocate` is not), so that no read of a relocated pointer can be
/// scheduled before the relocation.
///
/// # Safety
///
/// As for [`start`], and after [`relocate`].
#[inline(never)]
unsafe fn relocated(
    tool: &'static Tool,
    record: crate::privileged::Record,
    stack: *const usize,
) -> ! {
    // SAFETY: the caller's contract.
    let (argv, env) = unsafe { super::initial_args(stack) };
    exit(crate::launch(tool, record, argv, env))
}

/// `Elf64_Phdr`.
#[repr(C)]
struct ProgramHeader {
    p_type: u32,
    p_flags: u32,
    p_offset: u64,
    p_vaddr: u64,
    p_paddr: u64,
    p_filesz: u64,
    p_memsz: u64,
    p_align: u64,
}

const PT_DYNAMIC: u32 = 2;
const PT_GNU_RELRO: u32 = 0x6474_e552;
const DT_NULL: usize = 0;
const DT_RELA: usize = 7;
const DT_RELASZ: usize = 8;
const DT_RELAENT: usize = 9;
const DT_RELRSZ: usize = 35;
const DT_RELR: usize = 36;
const R_X86_64_NONE: usize = 0;
const R_X86_64_RELATIVE: usize = 8;
const PAGE: usize = 4096;

/// Applies the image's relative relocations (a static PIE has no other
/// kind: no symbol is looked up, no `IRELATIVE` without a libc's
/// `ifunc`s), then makes its RELRO segment read-only, as glibc's
/// static-PIE start-up does. The load address is where the kernel put
/// the dynamic section minus where the program headers say it is.
///
/// # Safety
///
/// As for [`start`].
#[inline(never)]
unsafe fn relocate(stack: *const usize) {
    // SAFETY: the auxiliary vector's layout (`super::exec_ids`).
    let (phdr, phnum) = unsafe { program_headers(stack) };
    if phdr == 0 {
        // The kernel always passes AT_PHDR for an ELF image; without it
        // there is no slice to make (not even an empty one, from null).
        broken_image(b"no program headers\n");
    }
    let dynamic: usize;
    // SAFETY: takes the address of the linker-defined `_DYNAMIC`,
    // PC-relative: no relocation needed, no memory touched.
    unsafe {
        asm!("lea {}, [rip + _DYNAMIC]", out(reg) dynamic, options(nomem, nostack, pure));
    }
    // SAFETY: AT_PHDR points at AT_PHNUM program headers in the image.
    let headers = unsafe { core::slice::from_raw_parts(phdr as *const ProgramHeader, phnum) };
    let Some(base) = headers
        .iter()
        .find(|h| h.p_type == PT_DYNAMIC)
        .map(|h| dynamic.wrapping_sub(h.p_vaddr as usize))
    else {
        broken_image(b"no dynamic section\n")
    };
    let (mut rela, mut relasz, mut relaent, mut relr, mut relrsz) = (0, 0, 24, 0, 0);
    let mut entry = dynamic as *const [usize; 2];
    // SAFETY: the dynamic section is (tag, value) pairs up to DT_NULL.
    unsafe {
        loop {
            let [tag, value] = *entry;
            match tag {
                DT_NULL => break,
                DT_RELA => rela = base.wrapping_add(value),
                DT_RELASZ => relasz = value,
                DT_RELAENT => relaent = value,
                DT_RELR => relr = base.wrapping_add(value),
                DT_RELRSZ => relrsz = value,
                _ => {}
            }
            entry = entry.add(1);
        }
    }
    if relaent != 24 {
        broken_image(b"unexpected relocation entry size\n");
    }
    // SAFETY: the linker's tables, inside the image; each target is a
    // word of the image's writable data (before RELRO is sealed below).
    unsafe {
        for i in 0..relasz / 24 {
            let r = (rela + i * 24) as *const [usize; 3];
            let [offset, info, addend] = *r;
            match info & 0xffff_ffff {
                R_X86_64_NONE => {}
                R_X86_64_RELATIVE => {
                    *(base.wrapping_add(offset) as *mut usize) = base.wrapping_add(addend)
                }
                _ => broken_image(b"unsupported relocation\n"),
            }
        }
        // RELR: an address, then bitmaps of the 63 words after it.
        let mut at = 0usize;
        for i in 0..relrsz / 8 {
            let word = *((relr + i * 8) as *const usize);
            if word & 1 == 0 {
                at = base.wrapping_add(word);
                *(at as *mut usize) = (*(at as *const usize)).wrapping_add(base);
                at += 8;
            } else {
                for bit in 1..64 {
                    if word >> bit & 1 != 0 {
                        let slot = (at + (bit - 1) * 8) as *mut usize;
                        *slot = (*slot).wrapping_add(base);
                    }
                }
                at += 63 * 8;
            }
        }
    }
    if let Some(relro) = headers.iter().find(|h| h.p_type == PT_GNU_RELRO) {
        let start = base.wrapping_add(relro.p_vaddr as usize) & !(PAGE - 1);
        let end = base.wrapping_add((relro.p_vaddr + relro.p_memsz) as usize) & !(PAGE - 1);
        if end > start {
            // SAFETY: our own pages, made read-only: nothing writes them
            // after the relocation.
            let sealed = unsafe {
                raw_syscall(
                    libc::SYS_mprotect,
                    [start, end - start, libc::PROT_READ as usize, 0, 0],
                )
            };
            if sealed.is_err() {
                broken_image(b"cannot make RELRO read-only\n");
            }
        }
    }
}

/// `AT_PHDR` and `AT_PHNUM`.
///
/// # Safety
///
/// As for [`super::exec_ids`].
unsafe fn program_headers(stack: *const usize) -> (usize, usize) {
    let (mut phdr, mut phnum) = (0, 0);
    // SAFETY: the initial stack's layout, as `super::exec_ids` walks it.
    unsafe {
        let argc = *stack;
        let mut p = stack.add(1 + argc + 1);
        while *p != 0 {
            p = p.add(1);
        }
        p = p.add(1);
        loop {
            let (key, value) = (*p, *p.add(1));
            match key as libc::c_ulong {
                libc::AT_NULL => break,
                libc::AT_PHDR => phdr = value,
                libc::AT_PHNUM => phnum = value,
                _ => {}
            }
            p = p.add(2);
        }
    }
    (phdr, phnum)
}

/// A launcher image this run-time cannot start (a linker that made
/// something else than a static PIE): one line, status 2. Before the
/// relocation: the text is a PC-relative literal.
fn broken_image(why: &[u8]) -> ! {
    write_stderr(b"privsep launcher: broken image: ");
    write_stderr(why);
    exit(2)
}

/// The panic handler's body: `NAME: internal error: panicked at
/// FILE:LINE:COLUMN: MESSAGE` on one line (cut at 200 bytes), status 2.
/// No launcher code is meant to panic.
pub fn panicked(name: &str, info: &core::panic::PanicInfo<'_>) -> ! {
    struct Line {
        buf: [u8; 200],
        len: usize,
    }
    impl core::fmt::Write for Line {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            for &b in s.as_bytes() {
                if let Some(slot) = self.buf.get_mut(self.len) {
                    // One line, whatever the message holds.
                    *slot = if b == b'\n' { b' ' } else { b };
                    self.len += 1;
                }
            }
            Ok(())
        }
    }
    let mut line = Line {
        buf: [0; 200],
        len: 0,
    };
    let _ = core::fmt::write(&mut line, format_args!("{name}: internal error: {info}"));
    write_stderr(line.buf.get(..line.len).unwrap_or(&[]));
    write_stderr(b"\n");
    exit(2)
}

/// The allocator: a bump allocator, freeing nothing (the process lives
/// for a handful of small strings and then execs), over a fixed arena in
/// `.bss` and then over chunks of fresh pages (`mmap`, at least
/// [`CHUNK`] each), so that no argument list or environment is too large
/// for it.
pub struct Arena {
    /// The launcher's name, for the one line of a failed mapping.
    name: &'static str,
    /// The next free byte and the end of the current chunk (both 0 until
    /// the first allocation takes the arena).
    next: UnsafeCell<usize>,
    end: UnsafeCell<usize>,
    memory: UnsafeCell<[u8; ARENA]>,
}

const ARENA: usize = 64 << 10;
/// The smallest chunk mapped once the arena is full.
pub const CHUNK: usize = 1 << 20;

// SAFETY: the launcher never starts a thread (`fork` makes a copy): no
// two calls ever touch `next` and `end` at once.
unsafe impl Sync for Arena {}

impl Arena {
    #[allow(clippy::new_without_default)]
    pub const fn new(name: &'static str) -> Arena {
        Arena {
            name,
            next: UnsafeCell::new(0),
            end: UnsafeCell::new(0),
            memory: UnsafeCell::new([0; ARENA]),
        }
    }
}

// SAFETY: every block returned is `layout.size()` bytes at `layout.align()`,
// inside the arena or a mapped chunk, past every earlier block of it;
// none is handed out twice.
unsafe impl GlobalAlloc for Arena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: single-threaded (see `Sync`): no other access to these.
        let (next, end) = unsafe { (&mut *self.next.get(), &mut *self.end.get()) };
        if *end == 0 {
            *next = self.memory.get() as usize;
            *end = *next + ARENA;
        }
        let fits = |next: usize, end: usize| {
            let start = next.checked_next_multiple_of(layout.align())?;
            let stop = start.checked_add(layout.size())?;
            (stop <= end).then_some((start, stop))
        };
        if let Some((start, stop)) = fits(*next, *end) {
            *next = stop;
            return start as *mut u8;
        }
        // A new chunk, page-aligned: room for this block and what follows.
        if layout.align() > PAGE {
            return core::ptr::null_mut();
        }
        let Some(len) = layout.size().max(CHUNK).checked_next_multiple_of(PAGE) else {
            return core::ptr::null_mut();
        };
        // SAFETY: an anonymous private mapping: no memory of ours touched.
        let mapped = unsafe {
            raw_syscall(
                libc::SYS_mmap,
                [
                    0,
                    len,
                    (libc::PROT_READ | libc::PROT_WRITE) as usize,
                    (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS) as usize,
                    usize::MAX,
                ],
            )
        };
        let chunk = match mapped {
            Ok(chunk) => chunk,
            // No memory left (a huge argument list under a small
            // RLIMIT_AS): one line and status 2, where the allocation
            // error's panic would name a file of the Rust library.
            Err(errno) => {
                write_stderr(self.name.as_bytes());
                write_stderr(b": cannot allocate memory: ");
                let text = crate::errno_text::glibc_text(errno);
                write_stderr(text.unwrap_or("Unknown error").as_bytes());
                write_stderr(b"\n");
                exit(2)
            }
        };
        *next = chunk + layout.size();
        *end = chunk + len;
        chunk as *mut u8
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
}

/// `memcpy`, as the compiler calls it: `rep movsb` (fast on every x86_64
/// with ERMS; a loop here could be compiled back into a `memcpy` call).
///
/// # Safety
///
/// `dst` and `src` valid for `n` bytes and not overlapping.
#[no_mangle]
pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller's contract; the direction flag is clear (ABI).
    unsafe {
        asm!(
            "rep movsb",
            inout("rcx") n => _,
            inout("rdi") dst => _,
            inout("rsi") src => _,
            options(nostack, preserves_flags),
        );
    }
    dst
}

/// `memmove`: forwards, or backwards (direction flag set, then cleared)
/// when `dst` overlaps the end of `src`.
///
/// # Safety
///
/// `dst` and `src` valid for `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dst as usize).wrapping_sub(src as usize) >= n {
        // SAFETY: no byte of `src` is overwritten before it is read.
        return unsafe { memcpy(dst, src, n) };
    }
    // SAFETY: the caller's contract; copies from the last byte down, and
    // leaves the direction flag clear as the ABI wants it.
    unsafe {
        asm!(
            "std",
            "rep movsb",
            "cld",
            inout("rcx") n => _,
            inout("rdi") dst.wrapping_add(n).wrapping_sub(1) => _,
            inout("rsi") src.wrapping_add(n).wrapping_sub(1) => _,
            options(nostack),
        );
    }
    dst
}

/// `memset`: `rep stosb`.
///
/// # Safety
///
/// `dst` valid for `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
    // SAFETY: the caller's contract; the direction flag is clear (ABI).
    unsafe {
        asm!(
            "rep stosb",
            inout("rcx") n => _,
            inout("rdi") dst => _,
            in("al") c as u8,
            options(nostack, preserves_flags),
        );
    }
    dst
}

/// `memcmp`: `repe cmpsb`, then the difference of the first bytes that
/// differ.
///
/// # Safety
///
/// `a` and `b` valid for `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    if n == 0 {
        return 0;
    }
    let left: usize;
    // SAFETY: the caller's contract; reads only.
    unsafe {
        asm!(
            "repe cmpsb",
            inout("rcx") n => left,
            inout("rsi") a => _,
            inout("rdi") b => _,
            options(nostack, readonly),
        );
    }
    // `repe` stops after the first differing byte, or after the last.
    let i = n - left - 1;
    // SAFETY: i < n.
    let (x, y) = unsafe { (*a.add(i), *b.add(i)) };
    i32::from(x) - i32::from(y)
}

/// `bcmp`: [`memcmp`] (only zero or not matters).
///
/// # Safety
///
/// As for [`memcmp`].
#[no_mangle]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: the caller's contract.
    unsafe { memcmp(a, b, n) }
}

/// `strlen` (`CStr::from_ptr`'s): bytes before the first NUL.
///
/// # Safety
///
/// `s` points at a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn strlen(s: *const u8) -> usize {
    let mut n = 0;
    // SAFETY: the caller's contract: every byte up to the NUL is readable.
    while unsafe { core::ptr::read_volatile(s.add(n)) } != 0 {
        n += 1;
    }
    n
}
