# Seeded mutations: proof that the tests fail when the guarantee they name
# breaks. Each mutants/*.patch is the smallest change that breaks one
# guarantee, with the test that must catch it (see scripts/mutants.sh).
#
#   make mutants                 every mutant
#   make mutants MUTANTS="a b"   those named (file names without .patch)
#
# Not part of `make test`: each mutant rebuilds a crate (the launcher and
# the worker statically, with LTO) and restages; a full run takes about 13
# minutes with its dependencies built (30 cold), which would take
# `make test` (about 16) past 25 (docs/threat-model.md has a recorded run).

MUTANTS       ?=
MUTANTS_STAGE ?= /tmp/privsep-mutants-stage

.PHONY: mutants

mutants: deps-test
	MUTANTS_STAGE=$(MUTANTS_STAGE) PRIVSEP_TEST_USER=$(TEST_USER) CARGO=$(CARGO) \
	    scripts/mutants.sh $(MUTANTS)
