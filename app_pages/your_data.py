"""Your data: upload a CSV by LSOA or practice, map it, compare Core20 with the rest, download it suppressed."""

from __future__ import annotations

import streamlit as st

from app_pages._shared import edition_radio, get_atlas, plain_md

st.title("Your data")
st.write("Upload a CSV with one row per **LSOA** (2021 or 2011 codes) or per **GP practice**, a **numerator** and "
         "a **denominator** — for example NHS Health Checks received and people eligible. Column names such as "
         "`lsoa_code`, `practice_code`, `numerator`, `denominator`, `eligible` are found automatically.")
st.info("Your file stays in this session on the machine running the app: it is not saved, not sent anywhere, and "
        "the app collects no usage statistics. Close the tab to discard it.", icon="🔒")

from targeting.suppression import SuppressionRule  # noqa: E402


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

from targeting.uploads import (  # noqa: E402
    MAX_BYTES,
    UploadError,
    csv_columns,
    read_upload,
    upload_icbs,
)
from targeting.yourdata import GAP_LABEL, your_data_tables  # noqa: E402

with st.sidebar:
    imd = edition_radio("IMD edition for Core20", key="yd_imd")
    st.markdown("**Small-number rule**")
    low = st.number_input("Hide counts from", 0, 50, 1, key="yd_low")
    high = st.number_input("to", 0, 100, 7, key="yd_high")
    round_to = st.selectbox("Round other counts to the nearest", [5, 10, 1], key="yd_round")
rule = SuppressionRule(low=low, high=max(high, low), round_to=round_to)

up = st.file_uploader("CSV file", type=["csv", "txt"], key="yd_file",
                      help=f"At most {MAX_BYTES / 1e6:.0f} MB.")
example = st.toggle("Or try an example file (synthetic uptake for Birmingham and Solihull)", key="yd_example")

data, filename = None, None
if up is not None:
    data, filename = up.getvalue(), up.name
elif example:
    from targeting.uploads import example_csv

    data, filename = example_csv(get_atlas()), "example_uptake_bsol.csv"

if data is None:
    st.stop()

from targeting.fingertips import is_fingertips  # noqa: E402

if is_fingertips(data):  # a Fingertips "Export data" CSV, read as published
    from app_pages._clinical import fingertips_section

    fingertips_section(data, filename, rule=rule, imd=int(imd))
    st.stop()

label = st.text_input("What the rate measures", value="Uptake", key="yd_label", max_chars=60)
# the label is shown as plain text only (st.text, map legends escape it): never Markdown or HTML
try:
    header = csv_columns(data, filename=filename)
except UploadError as exc:
    st.error(plain_md(exc))
    st.stop()
with st.expander("Columns (found automatically; change them if needed)"):
    auto = "(find automatically)"
    c1, c2, c3 = st.columns(3)
    code_col = c1.selectbox("Code", [auto, *header], key="yd_code_col")
    num_col = c2.selectbox("Numerator", [auto, *header], key="yd_num_col")
    den_col = c3.selectbox("Denominator", [auto, *header], key="yd_den_col")
try:
    upload = read_upload(data, get_atlas(), filename=filename, code_column=None if code_col == auto else code_col,
                         numerator_column=None if num_col == auto else num_col,
                         denominator_column=None if den_col == auto else den_col)
    tables = your_data_tables(upload, get_atlas(), imd=int(imd), rule=rule)
except UploadError as exc:
    st.error(plain_md(exc))
    st.stop()
except ValueError as exc:  # e.g. LSOA 2011 codes with IMD 2025
    st.error(plain_md(exc))
    st.stop()
files = tables.files()

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

    from targeting.render.area import upload_map_payload
    from targeting.render.page import build_map

    payload = upload_map_payload(get_atlas(), upload, icb_nhs=icb, imd=int(imd), rule=rule, label=label,
                                 published=tables.rows)
    st_folium(build_map(payload), key="yd_map", height=560, use_container_width=True, returned_objects=[])
    st.caption("Withheld (small-number) rates are drawn as no data. IMD deciles and Census 2021 ethnic groups can "
               "be chosen in the map's panel, so your figures sit beside deprivation. The map as a table: *Your rows "
               "as they will be downloaded*, below.")

st.subheader("Download")
st.download_button("Download your data with suppression applied (CSV)", files["your_data_suppressed.csv"],
                   file_name="your_data_suppressed.csv", mime="text/csv", key="yd_dl")
st.download_button("Download the Core20 comparison (CSV)", files["core20_gap.csv"], file_name="core20_gap.csv",
                   mime="text/csv", key="yd_gap_dl")
st.caption("The same files as `python -m targeting yourdata --file <your file> --out <folder>` writes.")
with st.expander("Your rows as they will be downloaded"):
    st.dataframe(_as_text(tables.rows, counts=("numerator", "denominator")), hide_index=True, width="stretch")
