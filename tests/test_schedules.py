"""Schedules and callbacks (``mobsim/schedules.py``): when each is due, and a user's callback on
the engine's clock, which ends the run's chunks where it asks without changing any result."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import make_sim, random_grid_trips
from mobsim.net import generators
from mobsim.schedules import NEVER, Callback, StepInterval, TimeInterval, WallTimeInterval, next_stop


def test_step_and_time_intervals() -> None:
    s = StepInterval(4)
    assert [s.next_step(k) for k in (0, 3, 4, 7)] == [4, 4, 8, 8]
    assert [k for k in range(13) if s.due(k)] == [0, 4, 8, 12]
    assert TimeInterval(10.0, 0.5).every == 20 and TimeInterval(0.1, 0.5).every == 1
    with pytest.raises(ValueError):
        StepInterval(0)


def test_wall_time_interval_is_due_after_its_seconds_only() -> None:
    w = WallTimeInterval(3600.0)
    assert w.next_step(5) == NEVER and not w.due(5)
    assert WallTimeInterval(0.0).due(5)


def test_final_and_before_end() -> None:
    every3 = StepInterval(3)
    writer = Callback("w", every3, lambda *a: None, final=True)
    update = Callback("u", every3, lambda *a: None, before_end=True)
    assert writer.due(3, end=False) and not writer.due(4, end=False)
    assert writer.due(4, end=True) and writer.due(5, end=False, finished=True)
    assert update.due(3, end=False) and not update.due(6, end=True)
    assert next_stop([writer, Callback("x", StepInterval(5), lambda *a: None)], 3, 100) == 5
    assert next_stop([writer], 3, 4) == 4


def test_a_users_callback_runs_on_schedule_and_changes_nothing(tmp_path: Path) -> None:
    net = generators.grid(rows=2, cols=2, block_length=150.0, lanes=1, signalised=True, cycle=40.0)
    trips = random_grid_trips(net, 60, 60.0, np.random.default_rng(3))
    plain = make_sim(net, trips, sim__end=60.0).run(out=tmp_path / "a.h5", progress="none",
                                                    stop_when_empty=False)
    sim = make_sim(net, trips, sim__end=60.0)
    seen: list[tuple[int, float]] = []
    sim.add_callback(lambda s, step, t: seen.append((step, t)), TimeInterval(7.0, sim.dt), final=True)
    out = sim.run(out=tmp_path / "b.h5", progress="none", stop_when_empty=False)
    assert seen == [(k, k * 0.5) for k in range(14, 120, 14)] + [(120, 60.0)]
    import h5py

    with h5py.File(plain) as a, h5py.File(out) as b:
        for g in ("trips", "events"):
            for name, ds in a[g].items():
                np.testing.assert_array_equal(ds[()], b[g][name][()], err_msg=f"{g}/{name}")
