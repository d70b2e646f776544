# Debian packages (debian/): privsep-<tool> for each tool of the
# descriptors (its stanza in debian/control, checked against them by
# policy/tests/descriptors.rs; its file list, postinst and lintian
# overrides rendered by deb-scripts), privsep-iputils (the iputils names as privsep's), privsep-selinux,
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

# Each tool package's file list, postinst and lintian overrides, rendered
# from the templates debian/launcher.*.in (and debian/broker.*.in for a
# tool with a broker) with the tool's descriptor (its launcher path, file
# capability, broker; lintian names paths without their leading /).
# Run by debian/rules after the build, for every tool
# of TOOLS; debian/rules' clean removes them again.
deb-scripts: render-tool
	@for t in $(TOOLS); do \
	    for f in install postinst lintian-overrides; do \
	        $(RENDER) plain --tool $$t debian/launcher.$$f.in debian/privsep-$$t.$$f.tmp || exit 2; \
	        if [ -n "$(call FACT,$$t,BROKER_NAME)" ] && [ -e debian/broker.$$f.in ]; then \
	            $(RENDER) plain --tool $$t debian/broker.$$f.in debian/privsep-$$t.broker.tmp && \
	            cat debian/privsep-$$t.broker.tmp >>debian/privsep-$$t.$$f.tmp && \
	            rm -f debian/privsep-$$t.broker.tmp || exit 2; \
	        fi; \
	        case $$f in \
	        lintian-overrides) sed 's,\[/,[,' debian/privsep-$$t.$$f.tmp >debian/privsep-$$t.$$f && \
	            rm -f debian/privsep-$$t.$$f.tmp ;; \
	        *) mv -f debian/privsep-$$t.$$f.tmp debian/privsep-$$t.$$f ;; \
	        esac || exit 2; \
	    done; \
	done

deps-deb:
	@scripts/install-deps.sh deb

deb: deps-deb
	PRIVSEP_DEB_TARGET=$(CURDIR)/target/deb scripts/deb-build.sh $(DEB_OUT) $(DEB_OPTS)

# privsep-iputils' checks run upstream iputils' own tests (their test/
# directory, from mk/parity.mk's iputils-upstream) on the plain names.
# The tool list and each tool's facts come from privsep-render.
test-deb: deb iputils-upstream render-tool
	@PRIVSEP_TEST_USER=$(TEST_USER) scripts/test-user.sh >/dev/null
	PRIVSEP_RENDER=$(RENDER) PRIVSEP_IPUTILS_TESTS=$(IPUTILS_TESTS) scripts/deb-test.sh $(DEB_OUT) $(TEST_USER)
