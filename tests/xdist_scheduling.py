"""pytest-xdist scheduling: the tests of tests/k8s run on one worker, so that one kube-apiserver serves them
(and those of tests/ui on one worker, so that one browser and one seeded server serve them).

Each worker that runs a tests/k8s test starts its own API server (a session fixture): about 5 s and 300 MB.
xdist's own answer (`--dist loadgroup` with `@pytest.mark.xdist_group`) does nothing under pytest 9.2
(xdist 3.8 renames `item._nodeid`, which pytest no longer reads), so the default `load` distribution is
replaced by xdist's scope scheduler with one scope for tests/k8s and one per test everywhere else, which is
what `loadgroup` would do. Other `--dist` modes are left alone.
"""

from __future__ import annotations

from typing import Any

import pytest

GROUPED = ("tests/k8s/", "tests/ui/")  # tests/ui: one Chromium and one seeded server for all


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class OneWorkerForTheApiServer(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return next((prefix for prefix in GROUPED if nodeid.startswith(prefix)), nodeid)

    return OneWorkerForTheApiServer(config, log)
