//! Hostile-input suite support code. (Being written; see issue 6.)
#![forbid(unsafe_code)]
