"""Layer rules: the import-linter contracts of ``pyproject.toml`` hold (no cycles between sibling
modules or packages, the analysis layer reads result files only, backends hold no engine or mode
logic, network/demand/state sit below what runs them, kernels independent of the host package),
and the checker sees the real import graph (a contract that the code breaks is reported)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _lint(*args: str) -> subprocess.CompletedProcess:
    exe = shutil.which("lint-imports")
    if exe is None:
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    return subprocess.run([exe, "--no-cache", *args], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
                               "PYTHONPATH": str(ROOT)})


def test_the_layer_contracts_hold() -> None:
    r = _lint()
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert "0 broken" in r.stdout


def test_a_broken_contract_is_reported(tmp_path: Path) -> None:
    cfg = tmp_path / "broken.toml"
    cfg.write_text("""[tool.importlinter]
root_packages = ["mobsim", "kernels"]

[[tool.importlinter.contracts]]
name = "the road mode may not compile networks (it does)"
type = "forbidden"
source_modules = ["mobsim.modes.road.mode"]
forbidden_modules = ["mobsim.net.compile"]
""")
    r = _lint("--config", str(cfg))
    assert r.returncode != 0
    assert "mobsim.modes.road.mode -> mobsim.net.compile" in r.stdout


def test_old_module_paths_import_the_moved_modules_with_a_warning() -> None:
    import importlib

    from mobsim.compat import MOVED

    for old, new in MOVED.items():
        sys.modules.pop(f"mobsim.{old}", None)
        with pytest.warns(DeprecationWarning, match=f"mobsim.{old} is now mobsim.{new}"):
            mod = importlib.import_module(f"mobsim.{old}")
        assert mod is importlib.import_module(f"mobsim.{new}")


def test_the_flat_demand_modules_names_still_import_with_a_warning() -> None:
    import mobsim.demand as demand
    from mobsim.demand import od, sources, streams, trip_tables

    for name, where in demand._MOVED.items():
        with pytest.warns(DeprecationWarning, match=f"mobsim.demand.{name} is now"):
            obj = getattr(demand, name)
        assert obj is getattr({"od": od, "sources": sources, "streams": streams,
                               "trip_tables": trip_tables}[where], name)
    with pytest.raises(AttributeError):
        demand.no_such_name  # noqa: B018
