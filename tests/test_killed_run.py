"""A run killed with SIGKILL never leaves a file that looks complete.

The recorder writes ``<out>.partial`` and renames it only after marking it complete, so a run killed
mid-way leaves no file at the final name, and the ``.partial`` is refused by ``mobsim.open`` unless
``allow_partial=True`` (and even then its status is not "complete").
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import mobsim
from mobsim.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SCENARIO = ROOT / "networks" / "default" / "scenario.toml"

# A Python script calling Simulation.run on a grid with steady demand; edge data every step makes
# the host loop slow on purpose (about 20 s on 2 cores), so the kill surely lands mid-run.
SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    sys.path.insert(0, {tests!r})
    from conftest import make_sim, random_grid_trips
    from mobsim.net import generators

    net = generators.grid(rows=3, cols=3, block_length=200.0, lanes=2)
    trips = random_grid_trips(net, 6000, 7200.0, np.random.default_rng(0))
    sim = make_sim(net, trips, sim__end=7200.0, output__edgedata_period=0.5)
    sim.run(out=sys.argv[1], progress="none")
""")


def kill_after_partial(cmd: list[str], out: Path, linger: float = 1.5, timeout: float = 300.0) -> None:
    """Start ``cmd``, wait until ``out.partial`` exists (plus ``linger`` s of writing), SIGKILL it."""
    partial = Path(str(out) + ".partial")
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        t0 = time.monotonic()
        while not partial.exists():
            if proc.poll() is not None:
                pytest.fail(f"the run ended (rc {proc.returncode}) before its partial file appeared: "
                            f"{proc.stderr.read().decode(errors='replace')[-2000:]}")
            if time.monotonic() - t0 > timeout:
                pytest.fail(f"no {partial} after {timeout} s")
            time.sleep(0.05)
        time.sleep(linger)
        assert proc.poll() is None, "the run finished before it could be killed: make it longer"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        proc.stderr.close()


def check_killed(out: Path) -> None:
    partial = Path(str(out) + ".partial")
    assert not out.exists(), "a killed run left a file at the final name"
    assert partial.exists()
    with pytest.raises(InputError, match="did not finish"):
        mobsim.open(out)
    with pytest.raises(InputError):
        mobsim.open(partial)
    # Asked to read it anyway: either unreadable (killed mid-write) or clearly not complete.
    try:
        res = mobsim.open(partial, allow_partial=True)
    except InputError:
        return
    assert res.status != "complete"
    assert res.attrs.get("status") != "complete"


def test_killed_python_run(tmp_path: Path) -> None:
    out = tmp_path / "killed.h5"
    script = tmp_path / "run.py"
    script.write_text(SCRIPT.format(tests=str(ROOT / "tests")))
    kill_after_partial([sys.executable, str(script), str(out)], out)
    check_killed(out)


@pytest.mark.skipif(not DEFAULT_SCENARIO.exists(), reason="networks/default is not in this checkout")
def test_killed_cli_run(tmp_path: Path) -> None:
    """``mobsim run`` on the default district scenario (an hour of peak demand), killed mid-run."""
    out = tmp_path / "default.h5"
    cmd = [sys.executable, "-m", "mobsim", "run", str(DEFAULT_SCENARIO), "--out", str(out),
           "--progress", "none", "--set", "output.edgedata_period=0.5"]
    kill_after_partial(cmd, out)
    check_killed(out)
