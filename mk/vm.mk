# QEMU conformance suite (issue 5): boots Debian 12's own kernel under QEMU
# with the real binaries and policies, once per configuration (none, tomoyo,
# selinux, stacked), and runs the cases of vm-tests/src/guest/cases.rs in
# the guest. See vm-tests/README.md.
#
#   make vm-test                               every configuration, every case
#   make vm-test VM_CONFIGS=tomoyo             one configuration
#   make vm-test VM_CONFIGS=selinux VM_CASES=ping-v4,cw-exec-sh
#   make vm-test VM_KVM=1                      use KVM (default: TCG; some CI
#                                              hosts open /dev/kvm but hang)
#
# Results: $(VM_OUT)/<config>.jsonl, console logs next to them. The kernel
# is fetched with apt-get download into $(VM_OUT)/cache (never committed).
# Exit status: 0 all passed, 1 a case failed, 3 infrastructure failure
# (no kernel, no verdict, timeout, too few cases).

VM_OUT     ?= $(CURDIR)/target/vm-tests
VM_CONFIGS ?=
VM_CASES   ?=
VM_KVM     ?=
VM_JOBS    ?= 2

.PHONY: vm-test vm-test-bins

# The agent and the probe carry the layout too (policy::layout): build them
# in this layout's target directory, like the launcher and the worker.
vm-test-bins: build
	$(CARGO_LAYOUT) build --release --locked -p vm-tests

vm-test: deps-test vm-test-bins tomoyo
	$(RELEASE)/vm-tests --bin-dir $(RELEASE) --agent-dir $(RELEASE) \
	    --tomoyo-dir $(TOMOYO_OUT) \
	    --configs "$(VM_CONFIGS)" --cases "$(VM_CASES)" --jobs $(VM_JOBS) \
	    $(if $(filter 1,$(VM_KVM)),--kvm) --out $(VM_OUT)
