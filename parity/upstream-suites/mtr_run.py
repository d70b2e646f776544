"""Runs upstream mtr's own tests (test/cmdparse.py, param.py, probe.py)
against one mtr-packet (MTR_PACKET in the environment), leaving out the
tests the exclusion table names, and writes every test's outcome as JSON.

Usage: python3 mtr_run.py TESTDIR EXCLUDE_JSON OUT_JSON

Run by scripts/upstream-suites.py as the test user, inside the client
namespace of a chain of its own, with the working directory holding
mtr-packet-listen (upstream's param tests start ./mtr-packet-listen).
An excluded test is never run: its module is imported (the tests live in
it) but its method is replaced before the suite runs, so it sends nothing.
"""

import json
import sys
import unittest

MODULES = ["cmdparse", "param", "probe"]


class Recorder(unittest.TextTestResult):
    """Keeps each test's outcome and the first lines of a failure."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcomes = {}

    def _put(self, test, status, detail=""):
        self.outcomes[test.id()] = {"status": status, "detail": detail}

    def addSuccess(self, test):
        super().addSuccess(test)
        self._put(test, "pass")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._put(test, "fail", self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        self._put(test, "fail", self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._put(test, "skip", reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._put(test, "fail", "expected failure")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._put(test, "fail", "unexpected success")


def tests_of(suite):
    """The test cases of a (nested) suite."""
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from tests_of(item)
        else:
            yield item


def main():
    testdir, exclude_path, out_path = sys.argv[1:4]
    with open(exclude_path, encoding="utf-8") as f:
        excluded = {e["test"]: e["reason"] for e in json.load(f)["tests"]}
    sys.path.insert(0, testdir)
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    outcomes = {}
    for name in MODULES:
        module = __import__(name)
        for test in tests_of(loader.loadTestsFromModule(module)):
            if test.id() in excluded:
                outcomes[test.id()] = {"status": "excluded", "detail": excluded[test.id()]}
            else:
                suite.addTest(test)
    unknown = sorted(set(excluded) - set(outcomes))
    result = unittest.TextTestRunner(resultclass=Recorder, verbosity=2, stream=sys.stderr).run(suite)
    outcomes.update(result.outcomes)
    for name in unknown:
        # An exclusion that names no test: the table is out of date.
        outcomes[name] = {"status": "fail", "detail": "excluded test does not exist"}
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(outcomes, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
