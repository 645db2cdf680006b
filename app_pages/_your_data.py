"""Your data's results, shown for any upload (a CSV of counts, or the practices of a Fingertips export).

One rendering of :class:`targeting.yourdata.YourDataTables`: the invalid rows, the Core20 comparison, the map
and the downloads, which are the files ``python -m targeting yourdata`` writes.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from app_pages._shared import get_atlas, plain_md, scope
from targeting.uploads import upload_icbs
from targeting.yourdata import GAP_LABEL, file_name

#: The differencing limit, said wherever a download is offered (docs/methods.md section 7).
DIFFERENCING = ("**Publish one version.** Suppression protects each download on its own. If two versions of an "
                "upload are published (say this month's and last month's, or with and without one practice), a "
                "reader can subtract one from the other and a withheld count can come back. NHS Digital's guidance: "
                "don't publish overlapping versions of the same figures, apply the same rule to every release, and "
                "publish at the coarsest level the purpose needs.")


def warn_weak_rule(rule: Any) -> None:
    """A visible warning for a rule that cannot protect what it withholds (its files are named …_unsuppressed)."""
    weak = rule.weakness()
    if weak:
        st.error(f"**This rule is not safe to publish**: {weak}. The downloads are named `…_unsuppressed.csv` and "
                 "their source column says so. Use the default (hide 1–7, round to 5) for anything shared.",
                 icon="⚠️")


def _rows(n: int) -> str:
    return f"{n:,} row" + ("" if n == 1 else "s")


def _as_text(df, counts: tuple[str, ...] = ()):
    """Every cell as display text: counts whole, rates to 1 decimal, "*" kept, blanks for missing.

    Suppressed columns mix numbers and "*"; Arrow cannot serialise such a column, so the page shows text.
    """
    import pandas as pd

    def one(v, count: bool) -> str:
        if v is None or (isinstance(v, float) and pd.isna(v)):
            return ""
        if isinstance(v, str):
            return v
        if isinstance(v, bool):
            return "yes" if v else "no"
        if isinstance(v, int) or (count and isinstance(v, float)):
            return f"{v:,.0f}"
        if isinstance(v, float):
            return f"{v:,.1f}"
        return str(v)

    return df.apply(lambda col: col.map(lambda v: one(v, col.name in counts)).astype(str))


def show_results(upload: Any, tables: Any, *, filename: str, label: str, rule: Any, imd: int) -> None:
    """The invalid rows, the Core20 comparison, the map and the downloads of an upload's suppressed tables."""
    from targeting.publish import your_data_files

    files = your_data_files(tables)
    cols = upload.columns
    st.success(plain_md(f"{_rows(len(upload.data))} of {upload.geography} read from {filename} (code: {cols['code']}, "
                        f"numerator: {cols['numerator']}, denominator: {cols['denominator']})."))
    if len(upload.invalid):
        st.warning(f"{_rows(len(upload.invalid))} could not be used. Each is listed with its reason; fix them in your "
                   "file and upload it again.")
        st.dataframe(tables.invalid, hide_index=True, width="stretch", key="yd_invalid")
        st.download_button("Download the invalid rows (CSV)", files["invalid_rows.csv"],
                           file_name="invalid_rows.csv", mime="text/csv", key="yd_invalid_dl")
    if upload.data.empty:
        st.stop()

    st.subheader("Core20 compared with the rest")
    st.text(f"Measure: {label}")
    shown = tables.gap
    st.dataframe(_as_text(shown.drop(columns=["source"]), counts=("units", "numerator", "denominator")).rename(columns={
        "units": "LSOAs" if upload.level == "lsoa" else "practices", "rate": "rate %", "lower": "lower 95% %",
        "upper": "upper 95% %"}), hide_index=True, width="stretch", key="yd_gap")
    gap_row = shown.set_index("group").loc[GAP_LABEL]
    if tables.gap_withheld():
        st.caption("Some rates are withheld because they rest on small numbers, or would let a withheld count be "
                   "worked out by subtraction.")
    elif gap_row["rate"] is not None:
        diff, lo, hi = float(gap_row["rate"]), float(gap_row["lower"]), float(gap_row["upper"])
        if lo > 0 or hi < 0:
            how = f"{abs(diff):.1f} percentage points {'higher' if diff > 0 else 'lower'}"
        else:
            how = f"similar ({diff:+.1f} percentage points, the interval includes no difference)"
        st.write(f"The rate in Core20 is **{how}** against the rest (95% CI {lo:+.1f} to {hi:+.1f}).")
    st.caption(f"Core20 here: {shown['group_definition'].iloc[0]}. Rates with Wilson 95% limits; the gap with "
               f"Newcombe's method. Small-number rule: {rule.describe()}. Source: your upload; IMD {imd} (MHCLG).")

    st.subheader("Map")
    icbs = upload_icbs(upload, get_atlas())
    if icbs.empty:
        st.info("None of the rows fall in an English ICB.")
    else:
        opts = icbs["icb_code_nhs"].tolist()
        names = {c: f"{n} ({_rows(int(k))})" for c, n, k in zip(icbs["icb_code_nhs"], icbs["icb_name"], icbs["rows"],
                                                                strict=True)}
        icb = st.selectbox("ICB to map", opts, format_func=names.get, key="yd_icb")
        from streamlit_folium import st_folium

        from targeting.area_maps import upload_map_payload
        from targeting.render.page import build_map

        payload = upload_map_payload(scope(imd, "icb", icb, geometry=True), upload, rule=rule, label=label,
                                     published=tables.rows)
        # width None: the column's width (st_folium's use_container_width=True, without the deprecated name)
        st_folium(build_map(payload), key="yd_map", height=560, width=None, returned_objects=[])
        st.caption("Withheld (small-number) rates are drawn as no data. IMD deciles and Census 2021 ethnic groups "
                   "can be chosen in the map's panel, so your figures sit beside deprivation. The map as a table: "
                   "*Your rows as they will be downloaded*, below.")

    st.subheader("Download")
    warn_weak_rule(rule)
    rows_name, gap_name = file_name("your_data_suppressed.csv", rule), file_name("core20_gap.csv", rule)
    st.download_button("Download your data " + ("WITHOUT safe suppression" if rule.weak else "with suppression applied")
                       + " (CSV)", files[rows_name], file_name=rows_name, mime="text/csv", key="yd_dl")
    st.download_button("Download the Core20 comparison (CSV)", files[gap_name], file_name=gap_name,
                       mime="text/csv", key="yd_gap_dl")
    st.info(DIFFERENCING, icon="ℹ️")
    st.caption("The same files as `python -m targeting yourdata --file <your file> --out <folder>` writes.")
    with st.expander("Your rows as they will be downloaded"):
        st.dataframe(_as_text(tables.rows, counts=("numerator", "denominator")), hide_index=True, width="stretch")
