import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

# The examples are scripts, not a package: their shared lecture module is imported by name.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))

# Property tests leave nothing in the work tree: hypothesis keeps its files under the user's
# cache folder. In CI they draw the same cases on every run (derandomize) and remember none;
# elsewhere they explore, and a failing case is replayed from that folder until it is fixed.
set_hypothesis_home_dir(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
                        / "backprop-lens" / "hypothesis")
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev")
settings.load_profile("ci" if os.environ.get("CI") else "dev")



@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI the setup installs every tool the tests use, so a skip there means a broken setup: it
    fails, with its reason, rather than passing unseen."""
    report = (yield).get_result()
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every test must run: {reason}"
