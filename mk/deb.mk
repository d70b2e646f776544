# Debian packages (debian/): privsep-ping, privsep-selinux, privsep-tomoyo.
#
#   make deb         build them into $(DEB_OUT) (dpkg-buildpackage -b -us -uc,
#                    run in a copy under /tmp; DEB_OPTS adds options, e.g.
#                    DEB_OPTS=-Pnoselinux,notomoyo)
#   make test-deb    build, install on this machine, check capability, modes
#                    and an unprivileged ping, purge, check nothing is left

DEB_OUT  ?= $(CURDIR)/build/deb
DEB_OPTS ?=

# About 3.5 minutes from a clean clone on a loaded 2-core machine (most of
# it the release build into target/deb), under a minute when cargo is up to date.
TEST_TARGETS += test-deb

.PHONY: deps-deb deb test-deb

deps-deb:
	@scripts/install-deps.sh deb

deb: deps-deb
	PRIVSEP_DEB_TARGET=$(CURDIR)/target/deb scripts/deb-build.sh $(DEB_OUT) $(DEB_OPTS)

test-deb: deb
	@PRIVSEP_TEST_USER=$(TEST_USER) scripts/test-user.sh >/dev/null
	scripts/deb-test.sh $(DEB_OUT) $(TEST_USER)
