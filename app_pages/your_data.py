"""Your data: upload a CSV by LSOA or practice, map it, compare Core20 with the rest, download it suppressed."""

from __future__ import annotations

import streamlit as st

from app_pages._shared import edition_radio, plain_md, scope
from app_pages._your_data import show_results

st.title("Your data")
st.write("Upload a CSV with one row per **LSOA** (2021 or 2011 codes) or per **GP practice**, a **numerator** and "
         "a **denominator** — for example NHS Health Checks received and people eligible. Column names such as "
         "`lsoa_code`, `practice_code`, `numerator`, `denominator`, `eligible` are found automatically.")
st.info("Your file stays in this session on the machine running the app: it is not saved, not sent anywhere, and "
        "the app collects no usage statistics. Close the tab to discard it.", icon="🔒")

from targeting.suppression import SuppressionRule  # noqa: E402
from targeting.uploads import (  # noqa: E402
    MAX_BYTES,
    UploadError,
    csv_columns,
    read_upload,
)
from targeting.yourdata import your_data_tables  # noqa: E402

with st.sidebar:
    imd = edition_radio("IMD edition for Core20", key="yd_imd")
    st.markdown("**Small-number rule**")
    low = st.number_input("Hide counts from", 0, 50, 1, key="yd_low")
    high = st.number_input("to", 0, 100, 7, key="yd_high")
    round_to = st.selectbox("Round other counts to the nearest", [5, 10, 1], key="yd_round")
rule = SuppressionRule(low=low, high=max(high, low), round_to=round_to)
if rule.weak:
    from app_pages._your_data import warn_weak_rule

    with st.sidebar:
        st.warning(f"Not safe to publish: {rule.weakness()}. Files will be named …_unsuppressed.csv.")
    warn_weak_rule(rule)

up = st.file_uploader("CSV file", type=["csv", "txt"], key="yd_file",
                      help=f"At most {MAX_BYTES / 1e6:.0f} MB.")
example = st.toggle("Or try an example file (synthetic uptake for Birmingham and Solihull)", key="yd_example")

data, filename = None, None
if up is not None:
    data, filename = up.getvalue(), up.name
elif example:
    from targeting.uploads import example_csv

    data, filename = example_csv(scope(imd, "icb", "QHL")), "example_uptake_bsol.csv"

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
    question = scope(imd, geometry=True)
    upload = read_upload(data, question.atlas, filename=filename, code_column=None if code_col == auto else code_col,
                         numerator_column=None if num_col == auto else num_col,
                         denominator_column=None if den_col == auto else den_col)
    tables = your_data_tables(upload, question, rule=rule)
except UploadError as exc:
    st.error(plain_md(exc))
    st.stop()
except ValueError as exc:  # e.g. LSOA 2011 codes with IMD 2025
    st.error(plain_md(exc))
    st.stop()
show_results(upload, tables, filename=filename, label=label, rule=rule, imd=int(imd))
