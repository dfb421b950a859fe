"""The Simulation: the clock of a run over its modes, its scheduled work and its result file.

>>> sim = Simulation(load_scenario("networks/default/scenario.toml"))   # doctest: +SKIP
>>> path = sim.run(out="results/default.h5")                             # doctest: +SKIP

A run has one backend (:mod:`mobsim.backends`) and its modes: the road vehicles
(:class:`~mobsim.modes.road.mode.RoadMode`, always; they set the pace) and every mode the scenario
uses (:mod:`mobsim.modes.registry`). The steps run in chunks inside the kernels (no Python per
step); a chunk ends at the first step a mode or a scheduled callback (:mod:`mobsim.schedules`)
asks for, where the engine lets each mode record and calls the callbacks that are due.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from mobsim.backends.select import select_backend
from mobsim.errors import InputError
from mobsim.modes.registry import Services
from mobsim.modes.registry import attach as attach_modes
from mobsim.modes.road.mode import RoadMode, due_steps
from mobsim.output.schema import STATIC
from mobsim.schedules import Callback, TimeInterval, next_stop
from mobsim.version import __version__

log = logging.getLogger("mobsim")

__all__ = ["Simulation", "due_steps"]


def _git_sha() -> str:
    try:
        here = Path(__file__).resolve().parent
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True,
                             timeout=5)
        return out.stdout.strip() if out.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError):
        return ""


class Simulation:
    """One run of a scenario on one backend.

    Parameters
    ----------
    scenario: a :class:`mobsim.scenario.Scenario`.
    backend: ``"auto"``, ``"cpu"`` or ``"cuda"`` (default: the scenario's ``sim.backend``).
    seed: overrides ``sim.seed``.
    threads: CPU threads (default: ``sim.threads``; 0 = all).
    parallel_min: run the parallel loops from this many running vehicles on (default: the
        kernels' ``PARALLEL_MIN``; 0 forces them, for tests). Results do not depend on it.
    reorder_every: renumber the vehicle slots to follow the sorted order every this many steps
        (default: the kernels' ``REORDER_STEPS`` once ``REORDER_MIN`` vehicles run; given
        explicitly: at any number of vehicles; 0 never; see :mod:`mobsim.state.slots`). Results do not
        depend on it.

    ``sim.road`` is the road vehicles' mode; its state and helpers read through the simulation
    too (``sim.V``, ``sim.trips``, ``sim.vehicles()``, ``sim.reroute()``, ...). ``sim.modes`` are
    the other modes the scenario uses.
    """

    def __init__(self, scenario: Any, backend: str | None = None, seed: int | None = None,
                 threads: int | None = None, parallel_min: int | None = None,
                 reorder_every: int | None = None) -> None:
        self.scenario = scenario
        s = dict(scenario.settings)
        if seed is not None:
            s["sim.seed"] = int(seed)
        self.settings = s
        self.seed = int(s["sim.seed"])
        self.dt = float(s["sim.dt"])
        self.begin = float(s["sim.begin"])
        self.end = float(s["sim.end"])
        self.backend = select_backend(backend or s.get("sim.backend", "auto"),
                                      threads if threads is not None else s.get("sim.threads", 0))
        self._user_callbacks: list[Callback] = []
        self._step_callbacks: list[Callback] | None = None
        self._compute = 0.0
        self._compile_s = 0.0
        self._steps = 0
        with self.backend.parallel():  # routing on the run's threads
            self.road = RoadMode(scenario, s, self.backend, parallel_min, reorder_every)
            # The other modes the scenario uses (mobsim.modes.registry), on this clock and backend.
            services = Services(routes=self.road.route_service, begin=self.begin, dt=self.dt,
                                road=self.road)
            self.modes = attach_modes(scenario, s, self.backend, services)

    def __getattr__(self, name: str) -> Any:
        """The road's state and helpers, read through the simulation (``sim.V``, ``sim.trips``)."""
        road = self.__dict__.get("road")
        if road is None or name.startswith("__"):
            raise AttributeError(name)
        return getattr(road, name)

    @property
    def all_modes(self) -> list[Any]:
        """The road first (it sets the pace), then the other modes in registration order."""
        return [self.road, *self.modes]

    # ------------------------------------------------------------------ run
    def run(self, out: str | Path | None = None, end: float | None = None, progress: str = "auto",
            stop_when_empty: bool = True) -> Path:
        """Run from ``sim.begin`` to ``end`` (s; default ``sim.end``) and write the result file.

        ``progress``: ``"bar"`` (tqdm), ``"log"`` (a line every ``output.log_period`` simulated
        seconds), ``"none"``, or ``"auto"`` (a bar on a terminal, else log lines). With
        ``stop_when_empty`` the run ends early once every mode has finished (every trip has
        arrived or was removed). Returns the path of the complete result file.
        """
        from mobsim.output.recorder import HDF5Recorder

        s = self.settings
        end_t = self.end if end is None else float(end)
        if end_t <= self.begin:
            raise InputError(f"end time {end_t} s is not after the begin time {self.begin} s",
                             source="--end", fix="give an end time later than sim.begin")
        out = Path(out or s.get("output.file") or f"results/{self.scenario.name}.h5")
        n_steps = int(round((end_t - self.begin) / self.dt))
        rec = HDF5Recorder(out, compression=s.get("output.compression", "gzip"))
        attrs = {
            "seed": self.seed, "dt": self.dt, "begin": self.begin, "end": end_t,
            "backend": self.backend.name, "device": self.backend.describe(),
            "threads": self.backend.threads, "git_sha": _git_sha(),
            "scenario": str(self.scenario.name), "mobsim_version": __version__,
        }
        tables = [m.static_tables() for m in self.all_modes]
        for m in self.all_modes:
            attrs.update(m.attrs())
        provenance = {"config": getattr(self.scenario, "resolved_toml", ""),
                      "files": list(getattr(self.scenario, "input_files", []))}
        try:
            # The static tables of the schema go in as the file opens, the modes' own after it.
            rec.open(attrs, {g: c for t in tables for g, c in t.items() if g in STATIC}, provenance)
            for t in tables:
                for group, cols in t.items():
                    if group not in STATIC:
                        rec.append(group, cols)
            # Compile (or load from the numba cache) before the clock starts.
            t_c = time.perf_counter()
            for m in self.all_modes:
                m.compile()
            self._compile_s = time.perf_counter() - t_c
            with self.backend.parallel():  # re-routing on the run's threads
                steps_done, wall = self._loop(rec, n_steps, progress, stop_when_empty)
            for m in self.all_modes:
                m.finish(rec, self.begin + steps_done * self.dt)
            rec.set_health(self._health(steps_done, wall))
            rec.close(completed_steps=steps_done)
        except BaseException as exc:
            rec.fail(f"{type(exc).__name__}: {exc}")
            raise
        return out

    def add_callback(self, fn: Any, schedule: Any, name: str | None = None, final: bool = False) -> None:
        """Call ``fn(sim, step, t)`` during :meth:`run` at the end of every step ``schedule``
        (:mod:`mobsim.schedules`: ``StepInterval``, ``TimeInterval``, ``WallTimeInterval``) is
        due; ``final``: also at the run's last step. ``t`` is the time at the step's end (s);
        the run's chunks of steps end where the schedule asks."""
        self._user_callbacks.append(Callback(name or getattr(fn, "__name__", "callback"), schedule,
                                             lambda rec, step, t: fn(self, step, t), final=final))

    def _callbacks(self, mode: str, t_wall0: float) -> list[Callback]:
        """The run's scheduled work, in the order it happens at a step's end: every mode's own
        (the road's writers and route updates first), the log line, the user's callbacks."""

        def log_line(rec: Any, step: int, t: float) -> None:
            if mode != "log":
                return  # the interval still ends chunks, so chunking does not depend on the display
            el = time.perf_counter() - t_wall0
            parts = "  ".join(p for p in (getattr(m, "progress", lambda: "")() for m in self.all_modes) if p)
            log.info("t=%8.0f s  RTF=%8.1f  %s", t, (t - self.begin) / max(el, 1e-9), parts)

        own = [cb for m in self.all_modes for cb in m.callbacks()]
        period = float(self.settings.get("output.log_period", 300.0))
        return [*own, Callback("log", TimeInterval(period, self.dt), log_line, final=True),
                *self._user_callbacks]

    def _loop(self, rec: Any, n_steps: int, progress: str, stop_when_empty: bool) -> tuple[int, float]:
        mode = progress
        if mode == "auto":
            mode = "bar" if sys.stderr.isatty() else "log"
        bar = None
        if mode == "log" and not log.handlers and not logging.getLogger().handlers:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("mobsim %(asctime)s %(message)s", "%H:%M:%S"))
            log.addHandler(handler)
            log.setLevel(logging.INFO)
        if mode == "bar":
            from tqdm import tqdm

            bar = tqdm(total=n_steps, unit="step", desc="simulating", leave=False)
        step = 0
        t_wall0 = time.perf_counter()
        callbacks = self._callbacks(mode, t_wall0)
        lead, *others = self.all_modes
        for m in self.all_modes:
            m.start(rec, self.begin)
        while step < n_steps:
            nxt = min([next_stop(callbacks, step, n_steps), *(m.next_stop(step) for m in self.all_modes)])
            t0 = time.perf_counter()
            done = lead.advance(nxt - step, rec)
            for m in others:
                m.advance(done, rec)  # the same steps as the lead
            self._compute += time.perf_counter() - t0
            step += done
            t_now = self.begin + step * self.dt
            end = step >= n_steps
            finished = stop_when_empty
            for m in self.all_modes:
                m.record(rec, step, t_now, end)
                finished = finished and m.finished()
            for cb in callbacks:
                if cb.due(step, end, finished):
                    cb.fn(rec, step, t_now)
            if bar is not None:
                bar.update(done)
            if finished:
                break
        if bar is not None:
            bar.close()
        self._steps = step
        return step, time.perf_counter() - t_wall0

    def _health(self, steps: int, wall: float) -> dict[str, Any]:
        """``/health``: the run's steps and times, then every mode's totals."""
        sim_time = steps * self.dt
        out: dict[str, Any] = {
            "steps": steps, "wall_time_s": wall, "loop_time_s": self._compute,
            "compile_time_s": self._compile_s,
            "real_time_factor": sim_time / wall if wall > 0 else 0.0,
            "threads": self.backend.threads,
        }
        for m in self.all_modes:
            out.update(m.health())
        return out

    # ------------------------------------------------------------------ notebooks and tests
    def step(self, n: int = 1) -> int:
        """Advance ``n`` steps without recording (for notebooks and tests); returns steps run."""
        with self.backend.parallel():  # re-routing on the run's threads
            return self._step(n)

    def _step(self, n: int) -> int:
        if self._step_callbacks is None:  # built once: notebooks call step(1) in loops
            self._step_callbacks = [cb for m in self.all_modes for cb in m.callbacks() if cb.in_step]
        cbs = self._step_callbacks
        lead, *others = self.all_modes
        done = 0
        at = self.road.step_count if cbs else 0
        while done < n:
            want = next_stop(cbs, at, at + n - done) - at if cbs else n - done
            k = lead.advance(want, None)
            for m in others:
                m.advance(k, None)
            done += k
            at += k
            for cb in cbs if k else ():
                if cb.due(at, end=False):
                    cb.fn(None, at, self.begin + at * self.dt)
        return done

    @property
    def time(self) -> float:
        """Simulation time (s) at the start of the next step."""
        return self.begin + self.road.step_count * self.dt
