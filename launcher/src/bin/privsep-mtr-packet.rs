//! `privsep-mtr-packet`: opens the raw ICMP and send-only raw UDP sockets of
//! both families with `CAP_NET_RAW`, drops everything and execs the
//! mtr-packet worker (`launcher::launch`).

#![no_std]
#![no_main]

launcher::entry_point!(policy::tools::MTR_PACKET);
