"""Each mode's phases are declared once (``kernels/runtime/phases.py``) and both of its drivers run
them in that order, read from their sources with each driver's ``PHASE_OF`` table. The road: the
CPU driver's calls (``kernels/drivers/cpu_step.step_once``) and the CUDA driver's launches
(``CUDABackend._step``). The drones: ``kernels/drivers/air_cpu.drone_steps`` and the launches of
``CUDADriver.run`` (``mobsim/modes/drones/drivers.py``)."""

from __future__ import annotations

import ast
import inspect
import textwrap
from typing import Any

import pytest

from mobsim.kernels.drivers import air_cpu, cpu_step
from mobsim.kernels.runtime.phases import AIR_PHASES, ROAD_PHASES


def _called(node: ast.AST) -> str | None:
    f = node.func if isinstance(node, ast.Call) else None
    if isinstance(f, ast.Name):
        return f.id
    if isinstance(f, ast.Attribute):
        if f.attr in ("_launch", "launch") and isinstance(node, ast.Call) and node.args:
            a = node.args[0]  # self._launch(C.k_plan, ...): the kernel launched
            return a.attr if isinstance(a, ast.Attribute) else None
        return f.attr
    return None


def _phases(nodes: list[ast.AST], phase_of: dict[str, tuple[str, ...]]) -> list[str]:
    """The phases the statements run, in source order. Of an ``if``/``else`` whose branches run
    the same phases in different ways (parallel or serial), the ``if`` branch is taken; an
    ``else`` branch must then run a part of them (``advance`` alone when no vehicle runs)."""
    out: list[str] = []
    for node in nodes:
        if isinstance(node, ast.If):
            out += _phases([node.test], phase_of)
            body = _phases(node.body, phase_of)
            other = _phases(node.orelse, phase_of)
            it = iter(body)
            assert all(p in it for p in other), f"else branch runs {other} outside {body}"
            out += body
            continue
        calls = [n for n in _walk(node) if isinstance(n, ast.Call)]
        for c in calls:
            out += list(phase_of.get(_called(c) or "", ()))
    return out


def _walk(node: ast.AST) -> list[ast.AST]:
    """Nodes below ``node`` in source order (``ast.walk`` is breadth-first); calls inside calls
    come after their arguments' calls, as they run."""
    out: list[ast.AST] = []
    for child in ast.iter_child_nodes(node):
        out += _walk(child)
    out.append(node)
    return out


def _merged(phases: list[str]) -> list[str]:
    """Consecutive repeats of one phase as one (a second sort right after a first, in a branch
    that sorts again from scratch)."""
    return [p for k, p in enumerate(phases) if k == 0 or p != phases[k - 1]]


def _body(fn: Any) -> list[ast.stmt]:
    src = textwrap.dedent(inspect.getsource(fn))
    return ast.parse(src).body[0].body


def test_the_cpu_driver_runs_the_declared_phases_in_order() -> None:
    got = _merged(_phases(_body(cpu_step.step_once.py_func), cpu_step.PHASE_OF))
    assert got == _merged(list(ROAD_PHASES))


def test_the_cuda_driver_runs_the_declared_phases_in_order() -> None:
    pytest.importorskip("numba.cuda")
    from mobsim.backends.cuda import CUDABackend

    got = _merged(_phases(_body(CUDABackend._step), CUDABackend.PHASE_OF))
    assert got == _merged(list(ROAD_PHASES))


def test_the_cpu_drone_driver_runs_the_declared_phases_in_order() -> None:
    got = _merged(_phases(_body(air_cpu.drone_steps.py_func), air_cpu.PHASE_OF))
    assert got == _merged(list(AIR_PHASES))


def test_the_cuda_drone_driver_runs_the_declared_phases_in_order() -> None:
    from mobsim.modes.drones.drivers import CUDADriver

    got = _merged(_phases(_body(CUDADriver.run), CUDADriver.PHASE_OF))
    assert got == _merged(list(AIR_PHASES))


def test_a_moved_phase_is_caught() -> None:
    """The check sees the order: a step whose move came before its planning is refused."""
    src = textwrap.dedent(inspect.getsource(cpu_step.step_once.py_func))
    swapped = src.replace("plan(V, N, L, W, vt, par, n)\n            flagged = advance(V, N, L, W, vt, par)",
                          "flagged = advance(V, N, L, W, vt, par)\n            plan(V, N, L, W, vt, par, n)")
    assert swapped != src
    try:  # the parallel branch now differs from the serial one, or the order from the declared one
        got = _merged(_phases(ast.parse(swapped).body[0].body, cpu_step.PHASE_OF))
    except AssertionError:
        return
    assert got != _merged(list(ROAD_PHASES))
