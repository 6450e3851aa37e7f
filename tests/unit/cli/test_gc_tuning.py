"""A worker tunes its garbage collector after the app's lifespan startup (BB_GC_FREEZE,
BB_GC_THRESHOLD): startup objects go to the permanent generation, the young-generation
threshold is the one asked for, and the defaults leave the threshold alone."""
from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from blackbull.config import Settings
from blackbull.server.serve import tune_gc


@pytest.fixture
def gc_state() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_freeze_moves_startup_objects_to_the_permanent_generation(gc_state) -> None:
    gc.unfreeze()
    tune_gc(Settings(gc_freeze=True))
    assert gc.get_freeze_count() > 0


def test_threshold_sets_the_young_generation_only(gc_state) -> None:
    _, older, oldest = gc.get_threshold()
    tune_gc(Settings(gc_freeze=False, gc_threshold=7000))
    assert gc.get_threshold() == (7000, older, oldest)


def test_defaults_keep_pythons_threshold(gc_state) -> None:
    before = gc.get_threshold()
    tune_gc(Settings())
    assert gc.get_threshold() == before


def test_negative_threshold_is_refused() -> None:
    with pytest.raises(ValueError, match="BB_GC_THRESHOLD"):
        Settings(gc_threshold=-1)
