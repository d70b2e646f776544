//! `privsep-clockdiff`: sets nice -16 with `CAP_SYS_NICE`, opens a raw
//! ICMPv4 socket with `CAP_NET_RAW`, drops everything and execs the
//! clockdiff worker (`launcher::launch`).

#![no_std]
#![no_main]

launcher::entry_point!(policy::tools::CLOCKDIFF);
