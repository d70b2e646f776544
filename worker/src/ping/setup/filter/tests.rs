//! Unit tests of the socket filters, run through a small classic-BPF
//! interpreter.

use super::*;

/// A tiny classic-BPF interpreter for the instructions we emit.
fn run_bpf(prog: &[libc::sock_filter], pkt: &[u8]) -> u32 {
    let (mut a, mut x, mut pc) = (0u32, 0u32, 0usize);
    loop {
        let i = prog[pc];
        pc += 1;
        let load = |off: usize, n: usize| -> Option<u32> {
            Some(
                pkt.get(off..off + n)?
                    .iter()
                    .fold(0u32, |v, b| (v << 8) | u32::from(*b)),
            )
        };
        match i.code {
            bpf::LDX_B_MSH => x = 4 * (u32::from(pkt[i.k as usize]) & 0xf),
            bpf::LD_B_ABS => {
                a = match load(i.k as usize, 1) {
                    Some(v) => v,
                    None => return 0,
                }
            }
            bpf::LD_H_ABS => {
                a = match load(i.k as usize, 2) {
                    Some(v) => v,
                    None => return 0,
                }
            }
            bpf::LD_B_IND => {
                a = match load((x + i.k) as usize, 1) {
                    Some(v) => v,
                    None => return 0,
                }
            }
            bpf::LD_H_IND => {
                a = match load((x + i.k) as usize, 2) {
                    Some(v) => v,
                    None => return 0,
                }
            }
            bpf::JEQ_K => pc += usize::from(if a == i.k { i.jt } else { i.jf }),
            bpf::RET_K => return i.k,
            other => panic!("unexpected opcode {other:#x}"),
        }
    }
}

#[test]
fn v4_filter_passes_our_replies_and_errors_only() {
    let f = socket_filter(Family::V4, 0x1234);
    let ip = |icmp: &[u8]| {
        let mut p = vec![0x45; 1];
        p.extend_from_slice(&[0; 19]);
        p.extend_from_slice(icmp);
        p
    };
    assert_ne!(
        run_bpf(&f, &ip(&[0, 0, 0, 0, 0x12, 0x34, 0, 1])),
        0,
        "our reply"
    );
    assert_eq!(
        run_bpf(&f, &ip(&[0, 0, 0, 0, 0x43, 0x21, 0, 1])),
        0,
        "another ping's reply"
    );
    for t in [3u8, 4, 5, 11, 12] {
        assert_ne!(
            run_bpf(&f, &ip(&[t, 1, 0, 0, 0, 0, 0, 0])),
            0,
            "error type {t}"
        );
    }
    for t in [8u8, 13, 9, 255] {
        assert_eq!(
            run_bpf(&f, &ip(&[t, 0, 0, 0, 0x12, 0x34, 0, 0])),
            0,
            "type {t}"
        );
    }
}

#[test]
fn v6_filter_passes_our_replies_and_errors_only() {
    let f = socket_filter(Family::V6, 0xbeef);
    assert_ne!(run_bpf(&f, &[129, 0, 0, 0, 0xbe, 0xef, 0, 1]), 0);
    assert_eq!(run_bpf(&f, &[129, 0, 0, 0, 0xbe, 0xee, 0, 1]), 0);
    for t in [1u8, 2, 3, 4] {
        assert_ne!(run_bpf(&f, &[t, 0, 0, 0, 0, 0, 0, 0]), 0, "type {t}");
    }
    for t in [128u8, 135, 136, 134] {
        assert_eq!(run_bpf(&f, &[t, 0, 0, 0, 0xbe, 0xef, 0, 0]), 0, "type {t}");
    }
}

#[test]
fn nodeinfo_filter_passes_replies_and_errors_only() {
    let f = nodeinfo_filter();
    for t in [140u8, 1, 2, 3, 4] {
        assert_ne!(run_bpf(&f, &[t, 0, 0, 0, 0, 0, 0, 0]), 0, "type {t}");
    }
    for t in [129u8, 128, 139, 135] {
        assert_eq!(run_bpf(&f, &[t, 0, 0, 0, 0, 0, 0, 0]), 0, "type {t}");
    }
}
