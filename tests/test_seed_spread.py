"""``bench.seed_spread``: a real scenario over several seeds in SUMO and in mobsim."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bench.seed_spread import format_table, main, spread


def test_spread_ignores_missing_values_and_reports_mean_and_range() -> None:
    s = spread([3.0, float("nan"), 1.0, None, 2.0])
    assert s == {"mean": 2.0, "min": 1.0, "max": 3.0, "n": 3}
    empty = spread([float("nan")])
    assert empty["n"] == 0 and math.isnan(empty["mean"])


def test_two_seeds_of_a_shipped_scenario_in_both_simulators(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture) -> None:
    pytest.importorskip("sumolib")
    from bench.real_scenarios import shipped_cases, sumo_binary

    if sumo_binary() is None or "cross" not in shipped_cases():
        pytest.skip("SUMO or its game scenarios are not installed")
    out = tmp_path / "spread.json"
    assert main(["--only", "cross", "--seeds", "2", "--keep", str(tmp_path / "w"), "--out", str(out)]) == 0
    res = json.loads(out.read_text())["results"][0]
    assert res["case"] == "cross" and res["seeds"] == 2
    for sim in ("sumo", "mobsim"):
        assert len(res["runs"][sim]) == 2 and res[sim]["failed"] == 0
        assert res[sim]["completed"]["n"] == 2 and res[sim]["completed"]["mean"] > 0
    table = capsys.readouterr().out
    assert table == format_table([res]) + "\n"
    assert "| cross | 2 | sumo |" in table and "| cross | 2 | mobsim |" in table


def test_an_unknown_case_is_refused(capsys: pytest.CaptureFixture) -> None:
    assert main(["--only", "no_such_case"]) == 2
    assert "unknown case" in capsys.readouterr().err
