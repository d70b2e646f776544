# What `cargo test --workspace` does not compile, checked on every
# `make test` (checks lane), so that a change of an API they use fails
# there and not months later:
#
#   make fuzz-check   the cargo-fuzz targets (fuzz/, outside the workspace)
#                     type-checked and linted with the stable toolchain;
#                     running them is `make fuzz` (cargo-fuzz, a sanitizer,
#                     minutes)
#   make doc-check    the API documentation of every crate of the
#                     workspace, every warning an error (broken intra-doc
#                     links above all)
#   make launcher-check  the launcher binaries and their run-time (feature
#                     `nolibc`, built only with the crate on its own: in a
#                     workspace build `policy` has `std`), linted
#
# Each in a target directory of its own, so that neither waits on another
# lane's cargo for the lock of target/ nor rebuilds what that one built.

FUZZ_CHECK_TARGET := $(CURDIR)/target/fuzz-check
DOC_CHECK_TARGET  := $(CURDIR)/target/doc-check
LAUNCHER_CHECK_TARGET := $(CURDIR)/target/launcher-check

.PHONY: fuzz-check doc-check launcher-check

TEST_TARGETS += fuzz-check doc-check launcher-check

# libfuzzer-sys compiles libFuzzer's C++ in its build script unless
# CUSTOM_LIBFUZZER_PATH names a library to link instead; a check links
# nothing, so an empty stand-in (created once: its time stamp is a
# rebuild trigger) spares that compilation.
fuzz-check:
	@mkdir -p $(FUZZ_CHECK_TARGET)
	@[ -e $(FUZZ_CHECK_TARGET)/libfuzzer-unlinked.a ] || : >$(FUZZ_CHECK_TARGET)/libfuzzer-unlinked.a
	cd fuzz && CARGO_TARGET_DIR=$(FUZZ_CHECK_TARGET) \
	    CUSTOM_LIBFUZZER_PATH=$(FUZZ_CHECK_TARGET)/libfuzzer-unlinked.a CUSTOM_LIBFUZZER_STD_CXX=none \
	    $(CARGO) clippy --locked --bins -- -D warnings

doc-check:
	CARGO_TARGET_DIR=$(DOC_CHECK_TARGET) RUSTDOCFLAGS="-D warnings" \
	    $(CARGO) doc --workspace --no-deps --locked --quiet

# The release profile: a `no_std` binary cannot unwind (the dev profile's
# panic strategy), and the release build is the one installed.
launcher-check:
	CARGO_TARGET_DIR=$(LAUNCHER_CHECK_TARGET) \
	    $(CARGO) clippy --release --locked -p launcher --features nolibc --lib --bins -- -D warnings
