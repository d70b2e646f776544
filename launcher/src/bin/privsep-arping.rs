//! `privsep-arping`: opens an `AF_PACKET` socket for ARP with `CAP_NET_RAW`,
//! locks a filter on it that passes ARP only, drops everything and execs
//! the arping worker (`launcher::launch`).

#![no_std]
#![no_main]

launcher::entry_point!(policy::tools::ARPING);
