"""Timings of targeting.gaps on the national atlas (prints figures; not a test).

Run: python benchmarks/gaps.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo.atlas import load
from targeting import gaps
from targeting.scope import make_scope


def _t(label: str, fn, repeat: int = 1) -> None:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    print(f"{label:<70} {best * 1000:9.1f} ms")


def main() -> None:
    t0 = time.perf_counter()
    atlas = load(progress=False)
    print(f"{'atlas load':<70} {(time.perf_counter() - t0) * 1000:9.1f} ms")
    _t("national detection models, computed (IMD 2025)", lambda: gaps._all_practice_gaps(atlas, 2025))
    _t("national detection models, read from the disk copy", lambda: gaps._disk_cached(atlas, 2025), repeat=3)
    _t("practice_gaps, all practices, all registers (first call in process)",
       lambda: gaps.practice_gaps(atlas.edition(2025), registers=list(gaps.REGISTERS)))
    _t("practice_gaps, all practices, core registers (warm)", lambda: gaps.practice_gaps(atlas.edition(2025)), repeat=5)
    _t("practice_gaps (first call, IMD 2019)", lambda: gaps.practice_gaps(atlas.edition(2019)))
    sizes = atlas.practices.groupby("icb_code_nhs")["list_size"].sum()
    big = sizes.idxmax()
    pcns = sorted(atlas.practices.loc[atlas.practices["icb_code_nhs"] == big, "pcn_code"].dropna().unique())
    pcns = [p for p in pcns if p != gaps.UNALLOCATED_PCN]
    ed = atlas.edition(2025)
    _t(f"pcn_gaps, largest ICB {big} ({len(pcns)} PCNs, warm)", lambda: gaps.pcn_gaps(ed, pcns), repeat=5)
    _t("pcn_gaps, every PCN in England (warm)", lambda: gaps.pcn_gaps(atlas.edition(2025)), repeat=3)
    _t("lsoa_detection_gap HYP, England (first)", lambda: gaps.lsoa_detection_gap(atlas.edition(2025)))
    _t("lsoa_detection_gap DM, England (warm)", lambda: gaps.lsoa_detection_gap(ed, register="DM"), repeat=3)
    _t("lsoa_register_counts MH", lambda: gaps.lsoa_register_counts(atlas.edition(2025), "MH"), repeat=3)
    _t("registration_gap, 33,755 LSOAs", lambda: gaps.registration_gap(atlas), repeat=3)
    _t(f"core20_reach {big}", lambda: gaps.core20_reach(make_scope(atlas, kind="icb", code=big)), repeat=3)
    _t(f"access {big}", lambda: gaps.access(make_scope(atlas, kind="icb", code=big)), repeat=3)


if __name__ == "__main__":
    main()
