"""ACC and CACC platoons against SUMO's own trajectories (``carFollowModel="ACC"``/``"CACC"``,
step 0.1 s).

Four ACC (or CACC) cars with SUMO's default gains leave one after another and close on a slower
Krauss leader. ACC: speed control while the gap is above 120 m (and in the 100-120 m band, where
the mode is kept), gap closing with the emergency deceleration below 100 m, and gap control at
the end. CACC: the first car follows the Krauss leader with its ACC fallback, the others their
CACC leaders with the CACC law (speed control above a 2 s time gap, gap closing, collision
avoidance and gap mode below 1.5 s). The same SUMO files run in SUMO and in mobsim (``mobsim run
X.sumocfg``); every follower's speed must agree step by step within 0.02 m/s (SUMO writes speeds
to 0.01 m/s).
"""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytest.importorskip("sumolib", reason="sumolib not installed (pip install -e '.[sumo]')")

from bench.real_scenarios import sumo_binary  # noqa: E402

if sumo_binary() is None:
    pytest.skip("sumo is not installed (pip install -e '.[sumo]')", allow_module_level=True)

SPEED_TOL = 0.02


def _netconvert() -> str:
    return str(Path(sumo_binary()).with_name("netconvert"))


def _case(folder: Path, lane_speed: float, lead_speed: float, length: float, model: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "n.nod.xml").write_text(
        '<nodes><node id="a" x="0" y="0"/><node id="b" x="4000" y="0"/></nodes>')
    (folder / "n.edg.xml").write_text(
        f'<edges><edge id="ab" from="a" to="b" numLanes="1" speed="{lane_speed:g}"/></edges>')
    subprocess.run([_netconvert(), "-n", "n.nod.xml", "-e", "n.edg.xml", "-o", "n.net.xml", "--no-warnings"],
                   cwd=folder, check=True, capture_output=True)
    followers = "\n".join(
        f'  <vehicle id="f{k}" type="acc" route="r" depart="{1 + 3 * k}" departPos="{length:g}" '
        'departSpeed="25"/>' for k in range(4))
    (folder / "r.rou.xml").write_text(f"""<routes>
  <vType id="slow" carFollowModel="Krauss" sigma="0" maxSpeed="{lead_speed:g}" speedDev="0" length="5"
         minGap="2.5" accel="2.6" decel="4.5"/>
  <vType id="acc" carFollowModel="{model}" speedDev="0" length="{length:g}" minGap="2.5" accel="2.6"
         decel="4.5" tau="1.0"/>
  <route id="r" edges="ab"/>
  <vehicle id="lead" type="slow" route="r" depart="0" departPos="400" departSpeed="{lead_speed:g}"/>
{followers}
</routes>""")
    cfg = folder / "c.sumocfg"
    cfg.write_text("""<configuration>
  <input><net-file value="n.net.xml"/><route-files value="r.rou.xml"/></input>
  <time><begin value="0"/><end value="150"/><step-length value="0.1"/></time>
</configuration>""")
    return cfg


def _sumo_speeds(cfg: Path) -> dict[tuple[str, float], float]:
    fcd = cfg.with_name("sumo_fcd.xml")
    subprocess.run([sumo_binary(), "-c", cfg.name, "--fcd-output", fcd.name, "--no-step-log",
                    "--no-warnings"], cwd=cfg.parent, check=True, capture_output=True)
    out = {}
    for ts in ET.parse(fcd).getroot().iter("timestep"):
        t = round(float(ts.get("time")), 3)
        for v in ts.iter("vehicle"):
            out[(v.get("id"), t)] = float(v.get("speed"))
    return out


def _mobsim_speeds(cfg: Path) -> dict[tuple[str, float], float]:
    import mobsim

    h5 = cfg.with_name("mobsim.h5")
    r = subprocess.run([sys.executable, "-m", "mobsim", "run", str(cfg), "--out", str(h5), "--progress",
                        "none", "--set", "output.fcd=true", "--set", "output.fcd_period=0.1"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ACC as" not in r.stdout + r.stderr  # runs as ACC, not as a stand-in model
    f = mobsim.open(h5).fcd
    rows = zip(f["trip_id"], f["time"], f["speed"], strict=True)
    return {(str(i), round(float(t), 3)): float(v) for i, t, v in rows}


@pytest.mark.parametrize(("model", "lane_speed", "lead_speed", "length"),
                         [("ACC", 30.0, 15.0, 5.0), ("ACC", 30.0, 6.0, 8.0), ("ACC", 40.0, 1.0, 5.0),
                          ("CACC", 30.0, 15.0, 5.0), ("CACC", 30.0, 6.0, 5.0)],
                         ids=["acc-lead15", "acc-lead6-long", "acc-lead1-fast-road", "cacc-lead15",
                              "cacc-lead6"])
def test_acc_platoon_speeds_match_sumo(tmp_path: Path, model: str, lane_speed: float, lead_speed: float,
                                       length: float) -> None:
    cfg = _case(tmp_path, lane_speed, lead_speed, length, model)
    s, m = _sumo_speeds(cfg), _mobsim_speeds(cfg)
    for k in range(4):
        keys = [key for key in s if key[0] == f"f{k}" and key in m]
        assert len(keys) > 1000, f"f{k}: {len(keys)} common samples"
        worst = max(keys, key=lambda key: abs(s[key] - m[key]))
        assert abs(s[worst] - m[worst]) <= SPEED_TOL, (
            f"f{k} at t={worst[1]} s: SUMO {s[worst]:.3f} m/s, mobsim {m[worst]:.3f} m/s")
        # the platoon really went through the modes: from 25 m/s up, then down to the leader's speed
        speeds = [s[key] for key in sorted(keys, key=lambda key: key[1])]
        assert max(speeds) > 28.0 and abs(speeds[-1] - lead_speed) < 1.0
