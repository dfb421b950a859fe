"""The mobsim command line: usage errors, bad input (exit 2, no traceback), validate, settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mobsim import cli
from mobsim.settings import SETTINGS

REPO = Path(__file__).resolve().parents[1]

# single_link(): origin stub o-a, the road a-b, destination stub b-d
SCENARIO = """\
[scenario]
name = "cli_test"
[network]
generator = "single_link"
[network.params]
length = 300
[[demand.flows]]
id = "f"
from = "o-a"
to = "b-d"
end = 60
period = 6
[sim]
end = 120
"""


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    generators = pytest.importorskip("mobsim.net.generators")
    if not hasattr(generators, "single_link"):
        pytest.skip("mobsim.net.generators.single_link does not exist yet")
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO)
    return path


def run_main(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_clean_error(err: str) -> None:
    assert err.startswith("mobsim: error: ")
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) <= 3


# --------------------------------------------------------------------------------------------
# usage


def test_no_command_prints_help_and_exits_2(capsys):
    code, out, err = run_main(capsys)
    assert code == 2 and "COMMAND" in err


@pytest.mark.parametrize("argv", [
    ["frobnicate"], ["run"], ["run", "s.toml", "--backend", "gpu"], ["run", "s.toml", "--seed", "x"],
    ["validate", "s.toml", "--bogus"], ["plot", "run.h5"], ["kpi", "run.h5", "--by", "colour"],
])
def test_usage_errors_exit_2(capsys, argv):
    code, out, err = run_main(capsys, *argv)
    assert code == 2
    assert_clean_error(err)
    assert "--help" in err


@pytest.mark.parametrize("command", ["run", "validate", "kpi", "plot", "settings"])
def test_help_explains_every_option(capsys, command):
    code, out, err = run_main(capsys, command, "--help")
    assert code == 0 and out.startswith("usage: mobsim " + command)
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    for action in sub._actions:
        assert action.help, f"{command} {action.option_strings or action.dest} has no help"


def test_settings_command_lists_every_key(capsys):
    code, out, err = run_main(capsys, "settings")
    assert code == 0 and not err
    for key in SETTINGS:
        assert key in out


def test_run_help_settings(capsys):
    code, out, _ = run_main(capsys, "run", "--help-settings")
    assert code == 0 and "sim.gridlock_time" in out


# --------------------------------------------------------------------------------------------
# bad input


def test_missing_scenario_exits_2(capsys, tmp_path):
    code, _, err = run_main(capsys, "validate", str(tmp_path / "nope.toml"))
    assert code == 2
    assert_clean_error(err)
    assert "nope.toml" in err and "not found" in err


def test_bad_scenario_exits_2_naming_file_and_key(capsys, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[network]\ngenerator = "grid"\n[sim]\ndtt = 0.2\n')
    code, _, err = run_main(capsys, "validate", str(path))
    assert code == 2
    assert_clean_error(err)
    assert str(path) in err and "sim.dtt" in err and "did you mean 'dt'" in err
    assert "fix:" in err


def test_bad_override_exits_2(capsys, tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[network]\ngenerator = "grid"\n')
    code, _, err = run_main(capsys, "validate", str(path), "--set", "sim.ed=10")
    assert code == 2
    assert_clean_error(err)
    assert "--set" in err and "did you mean 'sim.end'" in err


def test_debug_shows_the_traceback(capsys, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[simm]\n")
    code, _, err = run_main(capsys, "validate", str(path), "--debug")
    assert code == 2 and "Traceback" in err and "mobsim: error: " in err


@pytest.mark.parametrize("command", [["kpi"], ["plot", "--out", "plots"]])
def test_missing_result_file_exits_2(capsys, tmp_path, command):
    code, _, err = run_main(capsys, command[0], str(tmp_path / "run.h5"), *command[1:])
    assert code == 2
    assert_clean_error(err)
    assert "result file not found" in err


def test_unexpected_error_exits_1_and_interrupt_130(capsys, monkeypatch):
    def boom(args):
        raise RuntimeError("disk on fire")

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setitem(cli.COMMANDS, "settings", boom)
    code, _, err = run_main(capsys, "settings")
    assert code == 1 and "disk on fire" in err and "--debug" in err and "Traceback" not in err
    monkeypatch.setitem(cli.COMMANDS, "settings", interrupted)
    code, _, err = run_main(capsys, "settings")
    assert code == 130 and "interrupted" in err and "Traceback" not in err


# --------------------------------------------------------------------------------------------
# validate


def test_validate_generator_scenario(capsys, scenario):
    code, out, err = run_main(capsys, "validate", str(scenario), "--set", "sim.seed=3")
    assert code == 0, err
    assert "cli_test" in out and "trips      10 " in out and "seed 3" in out
    assert "nodes" in out and "links" in out and "lanes" in out and "signals" in out
    assert out.rstrip().endswith("ok: the scenario is valid")


def test_python_dash_m(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    ok = subprocess.run([sys.executable, "-m", "mobsim", "settings"], capture_output=True, text=True,
                        env=env, cwd=tmp_path, timeout=60)
    assert ok.returncode == 0 and "sim.dt" in ok.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text("[sim]\ndt = -1\n")
    res = subprocess.run([sys.executable, "-m", "mobsim", "validate", str(bad)], capture_output=True,
                         text=True, env=env, cwd=tmp_path, timeout=60)
    assert res.returncode == 2
    assert_clean_error(res.stderr)
    assert "sim.dt" in res.stderr


# --------------------------------------------------------------------------------------------
# run, kpi, plot (need the engine)


@pytest.mark.slow
def test_run_kpi_plot(capsys, scenario, tmp_path):
    pytest.importorskip("mobsim.engine")
    out = tmp_path / "run.h5"
    code, stdout, err = run_main(capsys, "run", str(scenario), "--out", str(out), "--backend", "cpu",
                                 "--progress", "none", "--end", "100", "--set", "kpi.interval=20")
    assert code == 0, err
    assert out.is_file() and str(out) in stdout and "kpi: trips 10, arrived" in stdout
    code, stdout, err = run_main(capsys, "kpi", str(out), "--json", "--by", "depart_interval")
    assert code == 0, err
    kpis = json.loads(stdout)
    assert kpis["trips_loaded"] == 10
    assert len(kpis["by_depart_interval"]) == 3  # departures 0..54 s in bins of the run's kpi.interval
    code, stdout, err = run_main(capsys, "plot", str(out), "--out", str(tmp_path / "plots"))
    assert code == 0, err
    assert (tmp_path / "plots").is_dir()
