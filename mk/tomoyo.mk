# TOMOYO 2.6 policy (issue 4): render, check, install. See tomoyo/README.md.
#
#   make tomoyo          render tomoyo/*.conf.in into $(BUILDDIR)/tomoyo/
#   make tomoyo-check    parse the rendered policy offline (part of `make test`)
#   make install-tomoyo  merge it into a running TOMOYO system and /etc/tomoyo,
#                        or say that TOMOYO is not active and do nothing
#
# The templates are rendered with the same PREFIX/BINDIR/LIBEXECDIR as the
# launcher (privsep-render is built in this layout's target directory), so
# the policy names exactly the paths `make install` installs.

TOMOYO_OUT      := $(BUILDDIR)/tomoyo
TOMOYO_FILES    := profile.conf exception_policy.conf domain_policy.conf
TOMOYO_RENDER   := $(RELEASE)/privsep-render
# The checker is a standalone crate (tomoyo/check, its own workspace), so its
# build never touches the product's lock file or target directories.
TOMOYO_CHECKER  := $(CURDIR)/target/tomoyo-check/release/tomoyo-policy-check

TEST_TARGETS += tomoyo-check

.PHONY: tomoyo tomoyo-check install-tomoyo tomoyo-render-tool tomoyo-checker

tomoyo-render-tool:
	$(CARGO_LAYOUT) build --release --locked -p policy --bin privsep-render

# Comment and blank lines are for the templates' readers only: the kernel has
# no comment syntax and silently drops such lines, so they are cut here.
tomoyo: tomoyo-render-tool
	@mkdir -p $(TOMOYO_OUT)
	@for f in $(TOMOYO_FILES); do \
	    $(TOMOYO_RENDER) tomoyo --tool ping tomoyo/$$f.in $(TOMOYO_OUT)/$$f.tmp || exit 2; \
	    sed -e '/^[[:space:]]*#/d' -e '/^[[:space:]]*$$/d' $(TOMOYO_OUT)/$$f.tmp > $(TOMOYO_OUT)/$$f || exit 2; \
	    rm -f $(TOMOYO_OUT)/$$f.tmp; \
	done
	@$(TOMOYO_RENDER) layout --tool ping > $(TOMOYO_OUT)/layout.txt
	@echo "tomoyo: rendered $(TOMOYO_FILES) into $(TOMOYO_OUT)"

tomoyo-checker:
	CARGO_TARGET_DIR=$(CURDIR)/target/tomoyo-check $(CARGO) build --release --locked \
	    --manifest-path tomoyo/check/Cargo.toml

# 1. the checker's own unit tests; 2. the rendered policy passes; 3. every
# broken fixture in tomoyo/check/bad/ (rendered with the same layout) is
# rejected, each for its stated reason; 4. a second opinion from Debian's
# tomoyo-checkpolicy (tomoyo-tools), which knows the grammar but not the
# intent; 5. install-tomoyo.sh against a stand-in securityfs and /etc/tomoyo.
tomoyo-check: tomoyo tomoyo-checker
	CARGO_TARGET_DIR=$(CURDIR)/target/tomoyo-check $(CARGO) test --release --locked --quiet \
	    --manifest-path tomoyo/check/Cargo.toml
	$(TOMOYO_CHECKER) check --layout $(TOMOYO_OUT)/layout.txt $(TOMOYO_OUT)
	@rm -rf $(TOMOYO_OUT)/bad && mkdir -p $(TOMOYO_OUT)/bad
	@for f in tomoyo/check/bad/*.in; do \
	    $(TOMOYO_RENDER) tomoyo --tool ping $$f $(TOMOYO_OUT)/bad/$$(basename $$f .in) || exit 2; \
	done
	$(TOMOYO_CHECKER) expect-reject --layout $(TOMOYO_OUT)/layout.txt --good $(TOMOYO_OUT) \
	    $(TOMOYO_OUT)/bad/*
	@command -v tomoyo-checkpolicy >/dev/null || { \
	    echo "tomoyo-check: tomoyo-checkpolicy missing: install tomoyo-tools (make deps-test)" >&2; exit 2; }
	tomoyo-checkpolicy e < $(TOMOYO_OUT)/exception_policy.conf
	tomoyo-checkpolicy d < $(TOMOYO_OUT)/domain_policy.conf
	tomoyo/check/test-install.sh $(TOMOYO_OUT)
	@echo "tomoyo-check: passed"

install-tomoyo: tomoyo
	tomoyo/install-tomoyo.sh $(TOMOYO_OUT)
