//! `privsep-fping`: opens ICMPv4 and ICMPv6 sockets (datagram where the
//! kernel admits the caller, else raw with `CAP_NET_RAW`), drops everything
//! and execs the fping worker (`launcher::launch`).

#![no_std]
#![no_main]

launcher::entry_point!(policy::tools::FPING);
