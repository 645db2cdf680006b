"""Cold processes, as people meet the tool, side by side with the notebook approach, in one run.

The job (issue 10): the PCN Core20 table and the IMD map of NHS North East and North Cumbria (E54000050, QHM,
the largest ICB), with IMD 2019.

* **This tool**: a cold ``python -m targeting pcns --icb E54000050 --imd 2019``, then a cold
  ``python -m targeting map --icb E54000050 --layer imd --imd 2019 --out …`` (two fresh processes, the atlas
  and its precomputed answers already built, as after ``python -m targeting build``).
* **The notebook**: one fresh process that reads the published files with geopandas, merges them with pandas
  (registrations × practice → PCN map × IMD 2019 deciles → each PCN's share of patients in Core20) and draws a
  ``folium.Choropleth`` of the ICB's LSOA 2011 boundaries (ONS BSC, the same generalisation as ours) by decile.

They alternate, ``--runs`` times (default 3), and the medians are compared. Peak memory is the largest resident
set of any one process (``wait4``). Map bytes are the HTML files each writes. ``--build`` also times a fresh
national build (atlas and answers) into a temporary cache (about a minute).

Goals (2 cores): ours ≥ 5× faster than the notebook (stretch 10×), peak memory ≤ 300 MB, the largest ICB's map
with every layer ≤ 0.6 MB, the build ≤ 60 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ICB, ICB_NHS = "E54000050", "QHM"

NOTEBOOK = r'''
import sys
import folium
import geopandas as gpd
import pandas as pd
from geo.paths import find

out_csv, out_html = sys.argv[1], sys.argv[2]
dec = "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)"
imd = pd.read_csv(find("imd2019"))[["LSOA code (2011)", dec]]
reg = pd.read_csv(find("gp_reg_lsoa"))
pmap = pd.read_csv(find("gp_reg_map"))[["PRACTICE_CODE", "PCN_CODE", "PCN_NAME", "STP_CODE"]]
reg = reg.merge(pmap, on="PRACTICE_CODE")
reg = reg[reg["STP_CODE"] == "{nhs}"].merge(imd, left_on="LSOA_CODE", right_on="LSOA code (2011)", how="left")
reg["core20_patients"] = reg["NUMBER_OF_PATIENTS"].where(reg[dec] <= 2, 0)
table = reg.groupby(["PCN_CODE", "PCN_NAME"], as_index=False)[["NUMBER_OF_PATIENTS", "core20_patients"]].sum()
table["core20_pct"] = 100 * table["core20_patients"] / table["NUMBER_OF_PATIENTS"]
table.to_csv(out_csv, index=False)

lk = pd.read_csv(find("lsoa11_icb22"))
codes = lk.loc[lk["icb22_code_h"] == "{nhs}", "lsoa11_code"]
b = gpd.read_file(find("lsoa11_boundaries"))
g = b[b["lsoa11_code"].isin(codes)].merge(imd, left_on="lsoa11_code", right_on="LSOA code (2011)")
m = folium.Map(location=[55.0, -1.9], zoom_start=8)
folium.Choropleth(geo_data=g[["lsoa11_code", "geometry"]].to_json(), data=g, columns=["lsoa11_code", dec],
                  key_on="feature.properties.lsoa11_code", fill_color="YlOrRd", legend_name="IMD 2019 decile").add_to(m)
m.save(out_html)
'''.replace("{nhs}", ICB_NHS)


def _proc(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MB) of one fresh process."""
    t = time.perf_counter()
    p = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode() if p.stderr else ""
    p.stderr.close()
    if p.returncode:
        raise RuntimeError(f"{' '.join(argv)} failed: {err[-2000:]}")
    return wall, usage.ru_maxrss / 1024


def ours(tmp: Path, env: dict[str, str]) -> tuple[float, float]:
    py = sys.executable
    t1, m1 = _proc([py, "-m", "targeting", "pcns", "--icb", ICB, "--imd", "2019"], env)
    t2, m2 = _proc([py, "-m", "targeting", "map", "--icb", ICB, "--layer", "imd", "--imd", "2019", "--out",
                    str(tmp / "ours.html")], env)
    return t1 + t2, max(m1, m2)


def notebook(tmp: Path, env: dict[str, str]) -> tuple[float, float]:
    script = tmp / "notebook.py"
    script.write_text(NOTEBOOK)
    return _proc([sys.executable, str(script), str(tmp / "notebook.csv"), str(tmp / "notebook.html")], env)


def _build_seconds(env: dict[str, str]) -> tuple[float, float]:
    """A fresh national build (atlas, then the answers) into an empty cache: (atlas s, answers s)."""
    with tempfile.TemporaryDirectory() as cache:
        e = {**env, "CORE20_CACHE": cache}
        t = time.perf_counter()
        _proc([sys.executable, "-m", "targeting", "build", "--quiet"], e)
        total = time.perf_counter() - t
        # the answers of the default registration month: answers/<YYYY-MM>/build.json
        made = sorted((Path(cache) / "answers").glob("*/build.json"))
        answers = json.loads(made[-1].read_text())["seconds"]
    return total, answers


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--build", action="store_true", help="also time a fresh national build (about a minute)")
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "targeting", "build", "--quiet"], cwd=ROOT, env=env, check=True)
    ours_t, ours_m, nb_t, nb_m = [], [], [], []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        ours(tmp, env)  # the first run after a build reads cold files from disk: not counted
        for _ in range(args.runs):  # alternating, so both meet the same machine load
            t, m = ours(tmp, env)
            ours_t.append(t)
            ours_m.append(m)
            t, m = notebook(tmp, env)
            nb_t.append(t)
            nb_m.append(m)
        ours_bytes = (tmp / "ours.html").stat().st_size
        nb_bytes = (tmp / "notebook.html").stat().st_size
    build = _build_seconds(env) if args.build else None

    o, n = statistics.median(ours_t), statistics.median(nb_t)
    om, nm = max(ours_m), max(nb_m)
    rows = [
        ("wall time, median (pcns + map, cold)", f"{o:.2f} s", f"{n:.2f} s", f"{n / o:.1f}× faster",
         "≥ 5× (stretch 10×)", n / o >= 5),
        ("peak memory (largest process)", f"{om:.0f} MB", f"{nm:.0f} MB", f"{nm / om:.1f}× less", "≤ 300 MB",
         om <= 300),
        ("map HTML (ours: all 32 layers)", f"{ours_bytes / 1e6:.2f} MB", f"{nb_bytes / 1e6:.2f} MB",
         f"{nb_bytes / ours_bytes:.1f}× smaller", "≤ 0.6 MB", ours_bytes <= 600_000),
    ]
    print(f"Cold processes, {ICB} ({ICB_NHS}, North East and North Cumbria), IMD 2019; medians of {args.runs} "
          f"alternating runs on {os.cpu_count()} cores")
    print(f"{'':40}{'this tool':>12}{'notebook':>12}  {'ratio':<16}{'goal':<20}")
    for what, a, b, ratio, goal, ok in rows:
        print(f"{what:<40}{a:>12}{b:>12}  {ratio:<16}{goal:<20}{'OK' if ok else 'MISSED'}")
    print(f"runs (s): ours {', '.join(f'{x:.2f}' for x in ours_t)}; notebook {', '.join(f'{x:.2f}' for x in nb_t)}")
    if build is not None:
        total, answers = build
        print(f"{'fresh build: atlas + answers':<40}{total:>10.1f} s   (answers {answers:.1f} s)   goal ≤ 60 s "
              f"{'OK' if total <= 60 else 'MISSED'}")
    print(json.dumps({"ours_s": ours_t, "notebook_s": nb_t, "ours_mb": ours_m, "notebook_mb": nb_m,
                      "ours_bytes": ours_bytes, "notebook_bytes": nb_bytes, "build_s": build}))


if __name__ == "__main__":
    main()
