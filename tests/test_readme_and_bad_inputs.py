"""The README's first command on the default scenario (shortened), and a corpus of bad inputs.

Every bad input must exit with code 2, name the problem in one or two lines without a traceback,
and leave no result file that looks complete.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "networks" / "default"


def _mobsim(*args: str, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "mobsim", *args], cwd=cwd or ROOT, capture_output=True,
                          text=True, timeout=timeout, env=env)


def _readme_first_command() -> list[list[str]]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)\n```", text, re.S)
    assert block, "the README must open with a bash block"
    parts = [shlex.split(p) for p in block.group(1).split("&&")]
    out = []
    for p in parts:
        if p[:3] == ["python3", "-m", "mobsim"]:
            out.append(["mobsim", *p[3:]])
        elif p[:1] == ["mobsim"]:
            out.append(p)
    return out


def test_readme_first_command_runs_the_default_scenario(tmp_path: Path) -> None:
    cmds = _readme_first_command()
    assert [c[1] for c in cmds] == ["run", "kpi"], "README command 1: install, mobsim run, mobsim kpi"
    out = tmp_path / "default.h5"
    run = cmds[0][1:]
    run[run.index("--out") + 1] = str(out)
    r = _mobsim(*run, "--end", "300", "--progress", "none")
    assert r.returncode == 0, r.stderr
    assert out.exists() and not Path(str(out) + ".partial").exists()
    kpi = cmds[1][1:]
    kpi[-1] = str(out)
    r = _mobsim(*kpi, "--json")
    assert r.returncode == 0, r.stderr
    k = json.loads(r.stdout)
    assert k["trips_loaded"] > 100
    assert k["trips_completed"] > 0
    assert k["vehicle_updates_per_s"] > 0


def _scenario(tmp_path: Path, net_dir: Path, extra: str = "", trips: str | None = None) -> Path:
    trips = trips or "id,origin,destination,depart\nt1,W1-n1_0,n1_5-E1,0\n"
    (tmp_path / "trips.csv").write_text(trips)
    sc = tmp_path / "scenario.toml"
    sc.write_text(f'[scenario]\nname = "bad"\n[network]\ndir = "{net_dir}"\n[demand]\ntrips = "trips.csv"\n'
                  f'[sim]\nend = 60\n{extra}')
    return sc


def _copy_net(tmp_path: Path) -> Path:
    net = tmp_path / "net"
    net.mkdir()
    for f in (DEFAULT / "net").iterdir():
        (net / f.name).write_text(f.read_text())
    return net


def _assert_bad(r: subprocess.CompletedProcess, tmp_path: Path, *words: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr
    assert r.stderr.startswith("mobsim: error:")
    assert len(r.stderr.strip().splitlines()) <= 3
    low = r.stderr.lower()
    for w in words:
        assert w.lower() in low, (w, r.stderr)
    complete = [p for p in tmp_path.rglob("*.h5")]
    assert not complete, f"a bad input left a result file: {complete}"


def test_truncated_csv(tmp_path: Path) -> None:
    net = _copy_net(tmp_path)
    text = (net / "link.csv").read_text()
    (net / "link.csv").write_text(text[: len(text) // 2].rsplit(",", 2)[0])
    r = _mobsim("run", str(_scenario(tmp_path, net)), "--out", str(tmp_path / "o.h5"))
    _assert_bad(r, tmp_path, "link.csv")


def test_unknown_key(tmp_path: Path) -> None:
    r = _mobsim("run", str(_scenario(tmp_path, DEFAULT / "net", "stepsize = 1\n")),
                "--out", str(tmp_path / "o.h5"))
    _assert_bad(r, tmp_path, "stepsize")


def test_dangling_node(tmp_path: Path) -> None:
    net = _copy_net(tmp_path)
    text = (net / "link.csv").read_text().replace("n1_0,", "nowhere,", 1)
    (net / "link.csv").write_text(text)
    r = _mobsim("run", str(_scenario(tmp_path, net)), "--out", str(tmp_path / "o.h5"))
    _assert_bad(r, tmp_path, "nowhere")


def test_negative_length(tmp_path: Path) -> None:
    net = _copy_net(tmp_path)
    lines = (net / "link.csv").read_text().splitlines()
    head = lines[0].split(",")
    k = head.index("length")
    row = lines[1].split(",")
    row[k] = "-5"
    lines[1] = ",".join(row)
    (net / "link.csv").write_text("\n".join(lines) + "\n")
    r = _mobsim("run", str(_scenario(tmp_path, net)), "--out", str(tmp_path / "o.h5"))
    _assert_bad(r, tmp_path, "length")


def test_unreachable_destination(tmp_path: Path) -> None:
    # An isolated link (no movement leads into it) is a destination no route can reach.
    net = _copy_net(tmp_path)
    nodes = (net / "node.csv").read_text().splitlines()
    ncols = nodes[0].split(",")
    for nid, x in (("iso_a", "5000"), ("iso_b", "5100")):
        row = {"node_id": nid, "x_coord": x, "y_coord": "5000", "control": "none"}
        nodes.append(",".join(row.get(c, "") for c in ncols))
    (net / "node.csv").write_text("\n".join(nodes) + "\n")
    links = (net / "link.csv").read_text().splitlines()
    lcols = links[0].split(",")
    row = dict(zip(lcols, links[1].split(","), strict=True))
    row.update(link_id="iso", from_node_id="iso_a", to_node_id="iso_b", length="100")
    links.append(",".join(row[c] for c in lcols))
    (net / "link.csv").write_text("\n".join(links) + "\n")
    trips = "id,origin,destination,depart\nt1,W1-n1_0,iso,0\n"
    r = _mobsim("run", str(_scenario(tmp_path, net, trips=trips)), "--out", str(tmp_path / "o.h5"))
    _assert_bad(r, tmp_path, "cannot be reached", "demand.unreachable")


def test_unsafe_headway_below_dt(tmp_path: Path) -> None:
    extra = '[[vtypes]]\nid = "car"\ntau = 0.3\n'
    sc = _scenario(tmp_path, DEFAULT / "net")
    sc.write_text(sc.read_text().replace("[sim]", extra + "[sim]"))
    r = _mobsim("run", str(sc), "--out", str(tmp_path / "o.h5"))
    _assert_bad(r, tmp_path, "tau", "dt")


def test_bad_override_value(tmp_path: Path) -> None:
    r = _mobsim("run", str(_scenario(tmp_path, DEFAULT / "net")), "--set", "sim.dt=-1",
                "--out", str(tmp_path / "o.h5"))
    _assert_bad(r, tmp_path, "sim.dt")


@pytest.mark.parametrize("backend", ["cuda"])
def test_cuda_backend_without_gpu_is_a_clear_error(tmp_path: Path, backend: str) -> None:
    r = _mobsim("run", str(_scenario(tmp_path, DEFAULT / "net")), "--backend", backend,
                "--out", str(tmp_path / "o.h5"))
    _assert_bad(r, tmp_path, "cuda")
