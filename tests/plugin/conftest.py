"""One log directory with a three-run ladder, shared by the route and browser tests."""

import pytest

from tests.reporting.digits import make_ladder


@pytest.fixture(scope="session")
def ladder_logdir(tmp_path_factory):
    """`(logdir, [(run, change, best)] in ladder order)`."""
    logdir = tmp_path_factory.mktemp("ladder")
    return logdir, make_ladder(str(logdir))
