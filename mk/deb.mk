# Debian packages (debian/): privsep-<tool> for each tool in debian/rules'
# TOOLS, privsep-iputils (the iputils names as privsep's), privsep-selinux,
# privsep-tomoyo.
#
#   make deb         build them into $(DEB_OUT) (dpkg-buildpackage -b -us -uc,
#                    run in a copy under /tmp; DEB_OPTS adds options, e.g.
#                    DEB_OPTS=-Pnoselinux,notomoyo)
#   make test-deb    build, install on this machine, check capabilities, modes
#                    and an unprivileged run of each tool, the iputils names
#                    (real clients), purge, check nothing is left and iputils
#                    is restored exactly

DEB_OUT  ?= $(CURDIR)/build/deb
DEB_OPTS ?=

# About 3.5 minutes from a clean clone on a loaded 2-core machine (most of
# it the release build into target/deb), under a minute when cargo is up to date.
TEST_TARGETS += test-deb
# Diverts /usr/bin/ping, ... while it runs.
TEST_EXCLUSIVE += test-deb

.PHONY: deps-deb deb test-deb deb-scripts

# Each tool package's postinst and lintian overrides, rendered from the one
# template with the tool's descriptor (its launcher path and file
# capability). Run by debian/rules after the build.
deb-scripts:
	@for t in $(TOOLS); do \
	    $(RELEASE)/privsep-render plain --tool $$t debian/launcher.postinst.in debian/privsep-$$t.postinst && \
	    $(RELEASE)/privsep-render plain --tool $$t debian/launcher.lintian-overrides.in debian/privsep-$$t.lintian-overrides.tmp && \
	    if $(RELEASE)/privsep-render layout --tool $$t | grep -q '^BROKER_NAME=.'; then \
	        $(RELEASE)/privsep-render plain --tool $$t debian/broker.lintian-overrides.in debian/privsep-$$t.broker.tmp && \
	        cat debian/privsep-$$t.broker.tmp >>debian/privsep-$$t.lintian-overrides.tmp && \
	        rm -f debian/privsep-$$t.broker.tmp || exit 2; \
	    fi; \
	    sed 's,\[/,[,' debian/privsep-$$t.lintian-overrides.tmp >debian/privsep-$$t.lintian-overrides && \
	    rm -f debian/privsep-$$t.lintian-overrides.tmp || exit 2; \
	done

deps-deb:
	@scripts/install-deps.sh deb

deb: deps-deb
	PRIVSEP_DEB_TARGET=$(CURDIR)/target/deb scripts/deb-build.sh $(DEB_OUT) $(DEB_OPTS)

# privsep-iputils' checks run upstream iputils' own tests (their test/
# directory, from mk/parity.mk's iputils-upstream) on the plain names.
test-deb: deb iputils-upstream
	@PRIVSEP_TEST_USER=$(TEST_USER) scripts/test-user.sh >/dev/null
	PRIVSEP_IPUTILS_TESTS=$(IPUTILS_TESTS) scripts/deb-test.sh $(DEB_OUT) $(TEST_USER)
