"""One table: this tool against the straightforward notebook approach, on the real data.

Ours: the national build (fresh process, temporary cache), the atlas load, ``pcns`` for the largest ICB, an
outreach plan for one PCN and for the whole ICB, and the bytes of one ICB's map.
Straightforward: ``geopandas.read_file`` of the national boundaries, pandas merges of the raw CSVs for the same
LSOA table, and ``folium.Choropleth`` on full geometry for the same ICB. Ratios are printed.

Goals: ≥ 10× faster end to end (load → table → map for one ICB) and a map payload ≥ 5× smaller.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _timed(fn, *a, **k):
    t = time.perf_counter()
    out = fn(*a, **k)
    return out, time.perf_counter() - t


def _child(code: str, env: dict | None = None) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env or os.environ.copy(), check=True,
                   capture_output=True)
    return time.perf_counter() - t


def naive(icb_nhs: str) -> dict[str, float]:
    """What an analyst would write: read everything raw, merge, choropleth the full geometry."""
    import folium
    import geopandas as gpd
    import pandas as pd

    from geo.paths import find

    t0 = time.perf_counter()
    b = gpd.read_file(find("lsoa21_boundaries"))
    t_read = time.perf_counter() - t0
    imd = pd.read_csv(find("imd2025"))
    eth = pd.read_csv(find("ts021"))
    icb = pd.read_csv(find("lsoa21_icb24"))
    lad = pd.read_csv(find("lsoa21_lad24"))
    reg = pd.read_csv(find("gp_reg_lsoa"))
    lk = pd.read_csv(find("lsoa11_lsoa21"))
    reg = reg.merge(lk[["lsoa11_code", "lsoa21_code"]], left_on="LSOA_CODE", right_on="lsoa11_code")
    reg = reg.groupby("lsoa21_code", as_index=False)["NUMBER_OF_PATIENTS"].sum()  # duplicates split parents
    t = icb[icb["icb24_code_nhs"] == icb_nhs].merge(lad, on="lsoa21_code").merge(
        imd, left_on="lsoa21_code", right_on="LSOA code (2021)").merge(
        eth, left_on="lsoa21_code", right_on="geography code").merge(reg, on="lsoa21_code", how="left")
    t["minority_pct"] = 100 * (1 - t["Ethnic group: White"] / t["Ethnic group: Total: All usual residents"])
    g = b.merge(t, on="lsoa21_code")
    t_table = time.perf_counter() - t0
    m = folium.Map(location=[52.5, -1.5], zoom_start=9)
    folium.Choropleth(geo_data=g[["lsoa21_code", "geometry"]].to_json(), data=g,
                      columns=["lsoa21_code", "Index of Multiple Deprivation (IMD) Decile (where 1 is most "
                               "deprived 10% of LSOAs)"],
                      key_on="feature.properties.lsoa21_code", fill_color="YlOrRd").add_to(m)
    html = m.get_root().render()
    return {"read_file": t_read, "table": t_table, "end_to_end": time.perf_counter() - t0,
            "map_bytes": len(html.encode("utf-8"))}


def ours(icb_nhs: str) -> dict[str, float]:
    """The same work through the atlas, in a fresh process so imports and the load count."""
    code = (
        "import time,json;t=time.perf_counter()\n"
        "from geo.atlas import load\nfrom targeting.lsoas import lsoa_table\n"
        "from targeting import maps\n"
        "a=load(build_if_missing=False, progress=False)\n"
        f"tab=lsoa_table(a,'{icb_nhs}')\n"
        f"lsoas,b,name=maps.area_lsoas(a,'icb','{icb_nhs}')\n"
        "layers=maps.standard_layers(lsoas)\n"
        "p=maps.map_payload(lsoas,layers,bounds=b)\n"
        "html=maps.build_map(p).get_root().render()\n"
        "print(json.dumps({'end_to_end':time.perf_counter()-t,'map_bytes':maps.payload_bytes(p),"
        "'html_bytes':len(html.encode())}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    import json

    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    from geo.atlas import load

    atlas = load(progress=False)
    sizes = atlas.lsoa21.groupby("icb_code_nhs").size().sort_values()
    big = sizes.index[-1]
    name = atlas.icbs.set_index("icb_code_nhs").loc[big, "icb_name"]
    pcn = atlas.pcns[atlas.pcns["icb_code_nhs"] == big].sort_values("list_size").iloc[-1]["pcn_code"]
    rows: list[tuple[str, str, str]] = []

    with tempfile.TemporaryDirectory() as cache:
        t_build = _child("from geo.atlas import build; build(force=True, progress=False)",
                         {**os.environ, "CORE20_CACHE": cache})
    rows.append(("national build (fresh process)", f"{t_build:.1f} s", "≤ 60 s"))
    t_load = _child("from geo.atlas import load; load(build_if_missing=False, progress=False)")
    rows.append(("atlas load (fresh process)", f"{t_load:.2f} s", "≤ 2 s"))
    t_pcns = _child(f"from targeting.cli import main; main(['pcns','--icb','{big}'])")
    rows.append((f"pcns --icb {big} (cold process)", f"{t_pcns:.2f} s", "≤ 1.5 s"))
    with tempfile.TemporaryDirectory() as out:
        t_pcn_plan = _child(f"from targeting.cli import main; main(['targets','--pcn','{pcn}','--out','{out}'])")
        t_icb_plan = _child(f"from targeting.cli import main; main(['targets','--icb','{big}','--out','{out}'])")
    rows.append((f"outreach plan, PCN {pcn} (cold process)", f"{t_pcn_plan:.2f} s", "≤ 2 s in process"))
    rows.append((f"outreach plan, whole ICB {big} (cold process)", f"{t_icb_plan:.2f} s", "≤ 30 s"))

    o = ours(big)
    n = naive(big)
    rows.append(("map payload, one ICB (ours)", f"{o['map_bytes'] / 1e6:.2f} MB", "≤ 3 MB"))
    rows.append(("end to end: load → table → map (ours)", f"{o['end_to_end']:.2f} s", ""))
    rows.append(("straightforward: read_file national boundaries", f"{n['read_file']:.2f} s", ""))
    rows.append(("straightforward: + raw CSV merges", f"{n['table']:.2f} s", ""))
    rows.append(("straightforward: + folium.Choropleth (full geometry)", f"{n['end_to_end']:.2f} s", ""))
    rows.append(("straightforward map HTML, one ICB", f"{n['map_bytes'] / 1e6:.2f} MB", ""))
    rows.append(("speed-up end to end", f"{n['end_to_end'] / o['end_to_end']:.1f}×", "≥ 10×"))
    rows.append(("map size ratio (straightforward ÷ ours)", f"{n['map_bytes'] / o['html_bytes']:.1f}×", "≥ 5×"))

    print(f"Largest ICB by LSOAs: {name} ({big}, {sizes.iloc[-1]} LSOA 2021); largest PCN there: {pcn}")
    w = max(len(r[0]) for r in rows) + 2
    print(f"{'measure':<{w}}{'value':>12}  goal")
    for label, value, goal in rows:
        print(f"{label:<{w}}{value:>12}  {goal}")


if __name__ == "__main__":
    main()
