"""What an app does when it starts, once per process."""

from __future__ import annotations

import gc

from litestar.testing import TestClient

from marketplace.app import GC_THRESHOLDS, create_app


def test_startup_objects_are_frozen_once_per_process(settings) -> None:
    with TestClient(app=create_app(settings)):
        frozen = gc.get_freeze_count()
    # Modules, templates and ORM tables stay out of every later collection, which come rarer...
    assert frozen > 50_000
    assert gc.get_threshold() == GC_THRESHOLDS
    with TestClient(app=create_app(settings)):
        # ...but a second app in the same process (as in tests) freezes nothing more (frozen
        # objects still go when their last reference does).
        assert gc.get_freeze_count() <= frozen
