//! The kernel filters of a raw socket: the ICMP types `ICMP_FILTER`
//! passes, and the classic BPF programs that keep other pings' replies
//! and unrelated ICMP out of the worker (following `-e`).

use crate::ping::icmp::{self, Family};

/// Classic BPF opcodes (linux/filter.h): class | size | mode.
mod bpf {
    /// `BPF_LD | BPF_B | BPF_ABS`
    pub const LD_B_ABS: u16 = 0x30;
    /// `BPF_LD | BPF_H | BPF_ABS`
    pub const LD_H_ABS: u16 = 0x28;
    /// `BPF_LD | BPF_B | BPF_IND`
    pub const LD_B_IND: u16 = 0x50;
    /// `BPF_LD | BPF_H | BPF_IND`
    pub const LD_H_IND: u16 = 0x48;
    /// `BPF_LDX | BPF_B | BPF_MSH`: X = 4 * (P[k] & 0xf), the IPv4 header length.
    pub const LDX_B_MSH: u16 = 0xb1;
    /// `BPF_JMP | BPF_JEQ | BPF_K`
    pub const JEQ_K: u16 = 0x15;
    /// `BPF_RET | BPF_K`
    pub const RET_K: u16 = 0x06;
}

fn insn(code: u16, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

/// The ICMP types the IPv4 socket passes (`ICMP_FILTER`): echo replies and
/// the errors upstream listens to.
pub const V4_PASSED: [u8; 6] = [0, 3, 4, 5, 11, 12];

/// The socket filter: pass echo replies carrying `ident` and the ICMP
/// error types, drop everything else in the kernel, so that other pings'
/// replies and unrelated ICMP on a busy host never wake the worker. IPv4
/// raw sockets see the IP header first (skipped with `ldx msh`, options
/// of `-R`/`-T` included), IPv6 ones do not.
pub fn socket_filter(family: Family, ident: u16) -> Vec<libc::sock_filter> {
    let (reply, errors): (u8, &[u8]) = match family {
        Family::V4 => (icmp::v4::ECHOREPLY, &[3, 4, 5, 11, 12]),
        Family::V6 => (icmp::v6::ECHO_REPLY, &[1, 2, 3, 4]),
    };
    let mut p = Vec::with_capacity(16);
    let (ld_b, ld_h) = match family {
        Family::V4 => {
            p.push(insn(bpf::LDX_B_MSH, 0, 0, 0));
            (bpf::LD_B_IND, bpf::LD_H_IND)
        }
        Family::V6 => (bpf::LD_B_ABS, bpf::LD_H_ABS),
    };
    let n = errors.len() as u8;
    // type == echo reply ? check the id : check the error types
    p.push(insn(ld_b, 0, 0, 0));
    p.push(insn(bpf::JEQ_K, 0, 3, u32::from(reply)));
    p.push(insn(ld_h, 0, 0, 4));
    p.push(insn(bpf::JEQ_K, 0, n + 2, u32::from(ident)));
    p.push(insn(bpf::RET_K, 0, 0, u32::MAX));
    for (i, &t) in errors.iter().enumerate() {
        let left = n - 1 - i as u8; // error-type tests after this one
        p.push(insn(
            bpf::JEQ_K,
            left,
            if left == 0 { 1 } else { 0 },
            u32::from(t),
        ));
    }
    p.push(insn(bpf::RET_K, 0, 0, u32::MAX));
    p.push(insn(bpf::RET_K, 0, 0, 0));
    p
}

/// `-N`'s socket filter: node information replies (their nonce is checked
/// in the loop) and the ICMPv6 error types.
pub fn nodeinfo_filter() -> Vec<libc::sock_filter> {
    let mut p = vec![insn(bpf::LD_B_ABS, 0, 0, 0)];
    let pass: [u8; 5] = [crate::ping::nodeinfo::REPLY, 1, 2, 3, 4];
    let n = pass.len() as u8;
    for (i, &t) in pass.iter().enumerate() {
        let left = n - 1 - i as u8;
        p.push(insn(
            bpf::JEQ_K,
            left,
            if left == 0 { 1 } else { 0 },
            u32::from(t),
        ));
    }
    p.push(insn(bpf::RET_K, 0, 0, u32::MAX));
    p.push(insn(bpf::RET_K, 0, 0, 0));
    p
}

/// A program that accepts nothing: the other family's handed socket stays
/// open but can never fill with traffic.
pub fn reject_all() -> Vec<libc::sock_filter> {
    vec![insn(bpf::RET_K, 0, 0, 0)]
}

#[cfg(test)]
mod tests;
