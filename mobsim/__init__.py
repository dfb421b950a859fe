"""mobsim: a GPU-accelerated traffic and mobility microsimulator.

The notebook façade::

    import mobsim
    path = mobsim.run("networks/default/scenario.toml", out="results/default.h5")
    res = mobsim.open(path)
    res.trips.head(); res.kpis()
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mobsim.version import __version__

# A source checkout used without installing it (the GPU machine of bench/gpu_session.sh reaches no
# package index): ``mobsim.kernels`` is the top-level ``kernels/`` folder, which an install maps
# into the package (pyproject.toml's package-dir); here the checkout's root joins the package's
# search path instead, so that ``import mobsim.kernels`` finds it.
_root = Path(__file__).resolve().parent.parent
if (_root / "kernels" / "__init__.py").is_file() and (_root / "pyproject.toml").is_file():
    __path__.append(str(_root))  # noqa: F821 - a package's __path__

# The flat layout's module paths still import, with a warning (mobsim.compat).
from mobsim import compat as _compat  # noqa: E402

_compat.install()

# Every built-in mode registers its KPIs and figures with the analysis layer (cheap: by name).
from mobsim import modes as _modes  # noqa: E402, F401

__all__ = ["__version__", "open", "run", "load_scenario", "Simulation"]


def open(path: str | Path, allow_partial: bool = False) -> Any:  # noqa: A001 - the public verb
    """Open a result file; see :func:`mobsim.analysis.results.open`."""
    from mobsim.analysis.results import open as _open

    return _open(path, allow_partial=allow_partial)


def load_scenario(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Any:
    """Load and validate a scenario file; see :func:`mobsim.scenario.load_scenario`."""
    from mobsim.scenario import load_scenario as _load

    return _load(path, overrides)


def run(scenario: str | Path | Any, out: str | Path | None = None, *, overrides: tuple[str, ...] = (),
        backend: str | None = None, seed: int | None = None, end: float | None = None,
        progress: str = "none") -> Path:
    """Load (if given a path) and run a scenario; returns the result file's path."""
    from mobsim.engine import Simulation

    sc = load_scenario(scenario, overrides) if isinstance(scenario, (str, Path)) else scenario
    return Simulation(sc, backend=backend, seed=seed).run(out=out, end=end, progress=progress)


def __getattr__(name: str) -> Any:
    if name == "Simulation":
        from mobsim.engine import Simulation

        return Simulation
    raise AttributeError(name)
