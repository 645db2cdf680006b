"""One table: this tool against the straightforward notebook approach, on the real data.

Ours: the national build (fresh process, temporary cache) and the atlas load are paid once; then each question
(``pcns`` for the largest ICB, an outreach plan for one PCN and for the whole ICB, one ICB's map) is answered from
the loaded atlas. The straightforward way answers each question from the raw files: ``geopandas.read_file`` of
the boundaries, pandas merges of the raw CSVs (registrations bridged to LSOA 2021 by the ONS lookup) and
``folium.Choropleth`` on full geometry. Both run in this one process with their libraries already imported.

Reported:
* per question, ours against straightforward, and for "every ICB once" (42 maps and tables): ours pays the
  build and load once, the straightforward way re-reads for each;
* map bytes for the same ICB and the same neighbourhoods: our payload (coverage-simplified, 25 m) against
  ``folium.Choropleth`` on the boundaries analysts download (ONS generalised clipped, BGC; here the real
  LSOA 2011 BGC files of the five West Yorkshire districts), and against the super-generalised BSC as well.

Goals: ≥ 10× faster end to end, and a map payload ≥ 5× smaller at the same visual fidelity.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WEST_YORKSHIRE_LADS = ["E08000032", "E08000033", "E08000034", "E08000035", "E08000036"]


def _child(code: str, env: dict | None = None) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env or os.environ.copy(), check=True,
                   capture_output=True)
    return time.perf_counter() - t


def _best(fn, repeat: int = 3) -> tuple[object, float]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return out, best


def straightforward_question(icb_nhs: str) -> tuple[str, float]:
    """One ICB's table and choropleth from the raw files, as a notebook would (returns HTML and seconds)."""
    import geopandas as gpd
    import pandas as pd

    from geo.paths import find

    t0 = time.perf_counter()
    b = gpd.read_file(find("lsoa21_boundaries"))
    imd = pd.read_csv(find("imd2025"))
    eth = pd.read_csv(find("ts021"))
    icb = pd.read_csv(find("lsoa21_icb24"))
    lad = pd.read_csv(find("lsoa21_lad24"))
    reg = pd.read_csv(find("gp_reg_lsoa"))
    lk = pd.read_csv(find("lsoa11_lsoa21"))
    reg = reg.merge(lk[["lsoa11_code", "lsoa21_code"]], left_on="LSOA_CODE", right_on="lsoa11_code")
    reg = reg.groupby("lsoa21_code", as_index=False)["NUMBER_OF_PATIENTS"].sum()
    t = icb[icb["icb24_code_nhs"] == icb_nhs].merge(lad[["lsoa21_code", "ltla24_name"]], on="lsoa21_code").merge(
        imd, left_on="lsoa21_code", right_on="LSOA code (2021)").merge(
        eth, left_on="lsoa21_code", right_on="geography code").merge(reg, on="lsoa21_code", how="left")
    t["minority_pct"] = 100 * (1 - t["Ethnic group: White"] / t["Ethnic group: Total: All usual residents"])
    g = b.merge(t, on="lsoa21_code")
    html = _choropleth(g, "lsoa21_code", "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% "
                       "of LSOAs)")
    return html, time.perf_counter() - t0


def _choropleth(g, key: str, column: str) -> str:
    import folium

    m = folium.Map(location=[53.8, -1.6], zoom_start=9)
    folium.Choropleth(geo_data=g[[key, "geometry"]].to_json(), data=g, columns=[key, column],
                      key_on=f"feature.properties.{key}", fill_color="YlOrRd").add_to(m)
    return m.get_root().render()


def main() -> None:
    import geopandas as gpd
    import pandas as pd

    from geo.atlas import load
    from geo.paths import find
    from targeting import maps
    from targeting.gaps import pcn_gaps
    from targeting.lsoas import lsoa_table
    from targeting.outreach import plan_outreach
    from targeting.profiles import pcn_profiles

    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as cache:
        t_build = _child("from geo.atlas import build; build(force=True, progress=False)",
                         {**os.environ, "CORE20_CACHE": cache})
    t_load = _child("from geo.atlas import load; load(build_if_missing=False, progress=False)")
    t_cold_pcns = None
    atlas = load(progress=False)
    sizes = atlas.lsoa21.groupby("icb_code_nhs").size().sort_values()
    big = sizes.index[-1]
    big_name = atlas.icbs.set_index("icb_code_nhs").loc[big, "icb_name"]
    pcn = atlas.pcns[atlas.pcns["icb_code_nhs"] == big].sort_values("list_size").iloc[-1]["pcn_code"]
    t_cold_pcns = _child(f"from targeting.cli import main; main(['pcns','--icb','{big}'])")

    def our_question(icb: str) -> str:
        lsoa_table(atlas, icb)
        lsoas, bounds, _ = maps.area_lsoas(atlas, "icb", icb)
        return maps.map_payload(lsoas, maps.standard_layers(lsoas), bounds=bounds)

    _, t_pcns = _best(lambda: (pcn_profiles(atlas, icb=big), pcn_gaps(atlas, list(
        atlas.pcns.loc[atlas.pcns["icb_code_nhs"] == big, "pcn_code"]))))
    _, t_plan_pcn = _best(lambda: plan_outreach(atlas, pcn=pcn))
    _, t_plan_icb = _best(lambda: plan_outreach(atlas, icb=big, connectors=20, capacity=300), repeat=1)
    our_payload, t_ours = _best(lambda: our_question(big))
    naive_html, t_naive = straightforward_question(big)
    _, t_naive2 = straightforward_question(big)
    t_naive = min(t_naive, t_naive2)

    n_icb = atlas.icbs["icb_code_nhs"].nunique()
    ours_all = t_load + n_icb * t_ours
    naive_all = n_icb * t_naive

    # map bytes at the same fidelity: West Yorkshire on the ONS generalised (BGC) boundaries analysts download
    folder = find("lsoa11_boundaries").parent / "lsoa11_bgc_by_lad"
    bgc = pd.concat([gpd.read_file(folder / f"{lad}.geojson") for lad in WEST_YORKSHIRE_LADS], ignore_index=True)
    wy11 = atlas.lsoa11[atlas.lsoa11["lsoa_code"].isin(bgc["LSOA11CD"])]
    bgc = bgc.merge(wy11[["lsoa_code", "imd19_decile"]], left_on="LSOA11CD", right_on="lsoa_code")
    naive_bgc = _choropleth(bgc, "LSOA11CD", "imd19_decile")
    wy = gpd.GeoDataFrame(wy11.drop(columns="geometry"), geometry=wy11["geometry_web"].values, crs=4326)
    wy = wy.assign(geometry_web=wy.geometry)
    layer = maps.value_layer("imd19", "IMD 2019 decile", wy["imd19_decile"].astype(float), units="decile",
                             source="IoD 2019 (MHCLG)", vintage="2019", k=10)
    ours_wy = maps.map_payload(wy, [layer], imd=2019)

    mb = 1e6
    rows += [
        ("national build (fresh process, once)", f"{t_build:.1f} s", "≤ 60 s"),
        ("atlas load (fresh process, once)", f"{t_load:.2f} s", "≤ 2 s"),
        (f"pcns --icb {big} (cold process, CLI)", f"{t_cold_pcns:.2f} s", "≤ 1.5 s"),
        (f"pcns + gap columns, {big} (loaded atlas)", f"{t_pcns * 1000:.0f} ms", "≤ 100 ms warm"),
        (f"outreach plan, PCN {pcn} (loaded atlas)", f"{t_plan_pcn:.2f} s", "≤ 2 s"),
        (f"outreach plan, whole ICB {big} (loaded atlas)", f"{t_plan_icb:.2f} s", "≤ 30 s"),
        ("one ICB: table + map payload (ours, loaded atlas)", f"{t_ours:.2f} s", ""),
        ("one ICB: read_file + raw merges + Choropleth", f"{t_naive:.2f} s", ""),
        ("speed-up per question", f"{t_naive / t_ours:.0f}×", "≥ 10×"),
        (f"every ICB once ({n_icb}): ours load + {n_icb} questions", f"{ours_all:.1f} s", ""),
        (f"every ICB once ({n_icb}): straightforward", f"{naive_all:.1f} s", ""),
        ("speed-up, every ICB once (load included)", f"{naive_all / ours_all:.1f}×", "≥ 10×"),
        (f"map bytes {big} (ours, payload)", f"{len(our_payload.encode()) / mb:.2f} MB", "≤ 3 MB"),
        (f"map bytes {big} (Choropleth, BSC 200 m)", f"{len(naive_html.encode()) / mb:.2f} MB", ""),
        ("map bytes West Yorkshire (ours, payload)", f"{len(ours_wy.encode()) / mb:.2f} MB", ""),
        ("map bytes West Yorkshire (Choropleth, BGC 20 m)", f"{len(naive_bgc.encode()) / mb:.2f} MB", ""),
        ("map size ratio, same fidelity (BGC ÷ ours)", f"{len(naive_bgc.encode()) / len(ours_wy.encode()):.1f}×",
         "≥ 5×"),
        ("map size ratio against BSC (already 200 m)", f"{len(naive_html.encode()) / len(our_payload.encode()):.1f}×",
         ""),
    ]
    print(f"Largest ICB by LSOAs: {big_name} ({big}, {sizes.iloc[-1]} LSOA 2021); largest PCN there: {pcn}")
    w = max(len(r[0]) for r in rows) + 2
    print(f"{'measure':<{w}}{'value':>12}  goal")
    for label, value, goal in rows:
        print(f"{label:<{w}}{value:>12}  {goal}")
    print(json.dumps({"machine_cores": os.cpu_count()}))


if __name__ == "__main__":
    main()
