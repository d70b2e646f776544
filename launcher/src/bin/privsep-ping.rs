//! `privsep-ping`: opens raw ICMPv4 and ICMPv6 sockets with `CAP_NET_RAW`,
//! drops everything and execs the ping worker (`launcher::launch`).

#![no_std]
#![no_main]

launcher::entry_point!(policy::tools::PING);
