# TOMOYO 2.6 policy: render, check, install. See tomoyo/README.md.
#
#   make tomoyo          render tomoyo/*.conf.in for every tool descriptor into $(BUILDDIR)/tomoyo/
#   make tomoyo-check    parse the rendered policy offline (part of `make test`)
#   make install-tomoyo  merge it into a running TOMOYO system and /etc/tomoyo,
#                        or say that TOMOYO is not active and do nothing
#
# The templates are rendered with the same PREFIX/BINDIR/LIBEXECDIR as the
# launchers (privsep-render is built in this layout's target directory), so
# the policy names exactly the paths `make install` installs; the per-tool
# parts once per descriptor (`privsep-render tools`, kept as tools.txt for
# the checker), whatever TOOLS installs.

TOMOYO_OUT      := $(BUILDDIR)/tomoyo
TOMOYO_RENDER   := $(RENDER)
TOMOYO_TOOLS    := $(TOMOYO_OUT)/tools.txt
# The checker is a standalone crate (tomoyo/check, its own workspace), so its
# build never touches the product's lock file or target directories.
TOMOYO_CHECKER  := $(CURDIR)/target/tomoyo-check/release/tomoyo-policy-check

TEST_TARGETS += tomoyo-check
TEST_PREPARE += tomoyo tomoyo-checker

.PHONY: tomoyo tomoyo-check install-tomoyo tomoyo-checker

# tomoyo/render.sh renders, expands the per-tool directives and cuts the
# comment and blank lines (for the templates' readers only: the kernel has no
# comment syntax and silently drops such lines).
tomoyo: render-tool
	@tomoyo/render.sh $(TOMOYO_RENDER) $(TOMOYO_OUT)
	@echo "tomoyo: rendered profile.conf exception_policy.conf domain_policy.conf for" \
	    "$$(sed -n 's/^TOOL=\([^ ]*\) .*/\1/p' $(TOMOYO_TOOLS) | paste -sd' ' -) into $(TOMOYO_OUT)"

tomoyo-checker:
	CARGO_TARGET_DIR=$(CURDIR)/target/tomoyo-check $(CARGO) build --release --locked \
	    --manifest-path tomoyo/check/Cargo.toml

# 1. the checker's own unit tests; 2. the rendered policy passes; 3. every
# broken fixture in tomoyo/check/bad/ (rendered with the same layout and the
# descriptor its `#! tool:` line names, ping by default) is rejected, each
# for its stated reason; 4. a second opinion from Debian's
# tomoyo-checkpolicy (tomoyo-tools), which knows the grammar but not the
# intent; 5. install-tomoyo.sh against a stand-in securityfs and /etc/tomoyo.
tomoyo-check: tomoyo tomoyo-checker
	CARGO_TARGET_DIR=$(CURDIR)/target/tomoyo-check $(CARGO) test --release --locked --quiet \
	    --manifest-path tomoyo/check/Cargo.toml
	$(TOMOYO_CHECKER) check --tools $(TOMOYO_TOOLS) $(TOMOYO_OUT)
	@rm -rf $(TOMOYO_OUT)/bad && mkdir -p $(TOMOYO_OUT)/bad
	@for f in tomoyo/check/bad/*.in; do \
	    tool=$$(sed -n 's/^#! tool: //p' $$f); \
	    $(TOMOYO_RENDER) tomoyo --tool $${tool:-ping} $$f $(TOMOYO_OUT)/bad/$$(basename $$f .in) || exit 2; \
	done
	$(TOMOYO_CHECKER) expect-reject --tools $(TOMOYO_TOOLS) --good $(TOMOYO_OUT) \
	    $(TOMOYO_OUT)/bad/*
	@command -v tomoyo-checkpolicy >/dev/null || { \
	    echo "tomoyo-check: tomoyo-checkpolicy missing: install tomoyo-tools (make deps-test)" >&2; exit 2; }
	tomoyo-checkpolicy e < $(TOMOYO_OUT)/exception_policy.conf
	tomoyo-checkpolicy d < $(TOMOYO_OUT)/domain_policy.conf
	tomoyo/check/test-install.sh $(TOMOYO_OUT)
	@echo "tomoyo-check: passed"

install-tomoyo: tomoyo
	tomoyo/install-tomoyo.sh $(TOMOYO_OUT)
