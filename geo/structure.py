"""The NHS of a registration month: practices, PCNs, Sub-ICBs and ICBs, list sizes, and where patients live.

:func:`month_tables` makes, for a month other than the atlas's own LSOA-level month, the tables that change with
the NHS structure; :func:`geo.atlas.load` puts them in place of the base month's. The rest of the atlas (IMD,
Census, boundaries, postcodes, QOF) does not depend on the month.

Method (issue 19, docs/methods.md):

* practice → PCN → Sub-ICB → ICB from the month's practice map; ICB codes and names from the ONS Sub-ICB → ICB
  lookup of the same period, matched on the Sub-ICB's **NHS** code (ONS codes of an unchanged Sub-ICB can change,
  and the monthly map can lag the lookup);
* list sizes (and registered patients aged 40–74) from the month's quin-age file;
* patients by LSOA: each practice's shares over known LSOAs in the newest LSOA-level file, times its list size in
  the month, made whole numbers by largest remainder (Hamilton), so each practice's LSOA rows sum to its list
  size. A practice with no LSOA-level rows keeps its list size under the pseudo-code ``UNPLACED``: it is counted
  in every list size and total, and reported, never dropped;
* LSOA → Sub-ICB → ICB: the LSOA 2021 lookup of April 2024 with Sub-ICBs matched by NHS code to the month's
  lookup. A Sub-ICB that was divided (Frimley, D4U1Y, in April 2026) has no successor code: its LSOAs are
  assigned by local authority, each authority taking the Sub-ICB that holds most of the month's registered
  patients among the practices located in its part of the divided Sub-ICB (``derived``, until ONS publishes
  the LSOA-level lookup of the period). LSOA 2011 follow the LSOA 2021 holding most of their population.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.codes import ICB, LSOA

__all__ = ["UNPLACED", "derive_divided_subicbs", "month_tables", "scale_registrations"]

#: The pseudo-LSOA holding the patients of a practice that has no LSOA-level rows.
UNPLACED = "UNPLACED"


def scale_registrations(reg: pd.DataFrame, list_sizes: pd.Series) -> tuple[pd.DataFrame, list[str]]:
    r"""Patients per practice × LSOA in a month: the LSOA-level shares scaled to the month's list sizes.

    Parameters
    ----------
    reg
        ``practice_code``, ``lsoa_code``, ``patients`` of an LSOA-level file (unknown markers such as ``NO2011``
        may be present; they are left out of the shares).
    list_sizes
        The month's list size per practice (index: practice code).

    Returns
    -------
    (pandas.DataFrame, list of str)
        ``practice_code``, ``lsoa_code``, ``patients`` with each practice's rows summing exactly to its list
        size, and the practices with no known-LSOA rows (kept as one ``UNPLACED`` row each).

    Notes
    -----
    With :math:`p_{kl}` the file's patients of practice :math:`k` in known LSOA :math:`l` and :math:`N_k` its
    list size in the month, the quota is :math:`q_{kl} = N_k p_{kl} / \sum_l p_{kl}`; every row gets
    :math:`\lfloor q_{kl} \rfloor` and the remaining units go one each to the largest remainders (ties: LSOA
    code), as :func:`geo.vintage.apportion` does between LSOA vintages.
    """
    lists = list_sizes.astype("int64")
    known = reg[reg["lsoa_code"].astype(str).str.match(LSOA) & reg["practice_code"].isin(lists.index)]
    known = known[known["patients"] > 0][["practice_code", "lsoa_code", "patients"]]
    total = known.groupby("practice_code")["patients"].transform("sum")
    n = known["practice_code"].map(lists).to_numpy(dtype=np.int64)
    quota = known["patients"].to_numpy(dtype=np.float64) * n / total.to_numpy(dtype=np.float64)
    base = np.floor(quota).astype(np.int64)
    frame = pd.DataFrame({"practice_code": known["practice_code"].to_numpy(),
                          "lsoa_code": known["lsoa_code"].to_numpy(), "base": base, "rem": quota - base})
    firsts = pd.Series(n, index=frame.index).groupby(frame["practice_code"].to_numpy()).first()
    short = firsts - frame.groupby("practice_code")["base"].sum()
    frame = frame.sort_values(["practice_code", "rem", "lsoa_code"], ascending=[True, False, True], kind="stable")
    order = frame.groupby("practice_code").cumcount().to_numpy()
    frame["patients"] = frame["base"].to_numpy() + (order < frame["practice_code"].map(short).to_numpy())
    out = frame[frame["patients"] > 0][["practice_code", "lsoa_code", "patients"]]
    unplaced = sorted(set(lists.index) - set(out["practice_code"]))
    extra = pd.DataFrame({"practice_code": unplaced, "lsoa_code": UNPLACED,
                          "patients": lists.reindex(unplaced).to_numpy(dtype=np.int64)})
    out = pd.concat([out, extra[extra["patients"] > 0]], ignore_index=True)
    out = out.sort_values(["practice_code", "lsoa_code"], kind="stable").reset_index(drop=True)
    out["patients"] = out["patients"].astype("int64")
    return out, unplaced


def derive_divided_subicbs(l21: pd.DataFrame, practices: pd.DataFrame, successors: set[str]) -> pd.DataFrame:
    """Assign the LSOAs of Sub-ICBs that have no successor code by local authority.

    Parameters
    ----------
    l21
        LSOA 2021 rows: ``lsoa_code``, ``lad_code``, ``lad_name``, ``sicbl_code_nhs`` (the earlier period's).
    practices
        The month's practices: ``practice_code``, ``lsoa21`` (where the practice is located),
        ``sub_code`` (its Sub-ICB in the month, NHS code) and ``list_size``.
    successors
        The Sub-ICB NHS codes of the month's lookup.

    Returns
    -------
    pandas.DataFrame
        One row per local authority holding LSOAs of a divided Sub-ICB: ``old_sicbl_code_nhs``, ``lad_code``,
        ``lad_name``, ``lsoas``, ``sicbl_code_nhs`` (derived), ``practices`` and ``patients`` (the practices that
        voted and their list sizes), ``votes`` (every candidate with its patients, in words).
    """
    gone = l21[~l21["sicbl_code_nhs"].isin(successors)]
    where = practices.dropna(subset=["lsoa21"]).merge(
        l21[["lsoa_code", "lad_code", "sicbl_code_nhs"]].rename(columns={"lsoa_code": "lsoa21",
                                                                          "sicbl_code_nhs": "old"}),
        on="lsoa21", how="inner")
    where = where[where["sub_code"].isin(successors)]
    rows = []
    for (old, lad, lad_name), part in gone.groupby(["sicbl_code_nhs", "lad_code", "lad_name"], sort=True):
        voters = where[(where["old"] == old) & (where["lad_code"] == lad)]
        if voters.empty:  # no practice in the divided part of this authority: the authority's other practices
            voters = where[where["lad_code"] == lad]
        tally = voters.groupby("sub_code")["list_size"].sum().sort_values(ascending=False, kind="stable")
        rows.append({"old_sicbl_code_nhs": old, "lad_code": lad, "lad_name": lad_name, "lsoas": len(part),
                     "sicbl_code_nhs": tally.index[0] if len(tally) else None,
                     "practices": len(voters), "patients": int(tally.sum()),
                     "votes": "; ".join(f"{k}: {int(v):,}" for k, v in tally.items())})
    return pd.DataFrame(rows, columns=["old_sicbl_code_nhs", "lad_code", "lad_name", "lsoas", "sicbl_code_nhs",
                                       "practices", "patients", "votes"])


def _lsoa_nhs(codes: pd.DataFrame, sub: pd.DataFrame, reg: pd.DataFrame) -> pd.DataFrame:
    """LSOA rows with the month's Sub-ICB and ICB columns and registered patients."""
    out = codes.merge(sub, on="sicbl_code_nhs", how="left")
    patients = reg.groupby("lsoa_code")["patients"].sum()
    out["registered_patients"] = out["lsoa_code"].map(patients).fillna(0).astype("int64")
    return out


def month_tables(*, month: str, lsoa_month: str, practice_map: pd.DataFrame, lists: pd.DataFrame,
                 reg: pd.DataFrame, vintage: int, pairs: pd.DataFrame, l21: pd.DataFrame, l11: pd.DataFrame,
                 lookup: pd.DataFrame, postcodes: pd.DataFrame, base_icbs: pd.DataFrame,
                 base_practices: pd.DataFrame, base_pcns: pd.DataFrame, geocode,
                 epcn_history: tuple[pd.DataFrame, pd.DataFrame] | None = None) -> dict[str, pd.DataFrame]:
    """The tables of one registration month (see the module's docstring).

    Parameters
    ----------
    month, lsoa_month
        The month described and the month of the LSOA-level registrations ``reg``.
    practice_map
        :func:`geo.readers.read_practice_map` of the month.
    lists
        :func:`geo.readers.read_quin_age` of the month (``practice_code``, ``list_size``, ``registered_40_74``),
        or, when the month has its own LSOA-level file, the list sizes summed from it.
    reg, vintage
        The LSOA-level registrations and their LSOA vintage (2011 or 2021).
    pairs
        The LSOA 2011 ↔ 2021 bridge (:func:`geo.vintage.bridge_pairs`).
    l21, l11
        The base atlas's LSOA 2021 rows (``lsoa_code``, ``lad_code``, ``lad_name``, ``sicbl_code_nhs``) and LSOA
        2011 codes (``lsoa_code``).
    lookup
        :func:`geo.readers.read_sicbl_icb` of the month's period.
    postcodes
        The atlas's postcodes (``postcode``, ``lsoa_code``) to locate practices in LSOA 2021.
    base_icbs, base_practices, base_pcns
        The base month's tables, for the history of codes that no longer exist.
    geocode
        ``geocode(practices) -> GeoDataFrame``: the atlas's practice geocoder (postcode → coordinates).
    epcn_history
        :func:`geo.readers.nhs.read_epcn_history` of an ePCN edition (optional): PCNs it records as closed add
        to the history, with their close date.

    Returns
    -------
    dict
        ``practices``, ``pcns``, ``icbs``, ``registrations11``, ``registrations21``, ``lsoa21_nhs``,
        ``lsoa11_nhs``, ``divided`` (the derivation of divided Sub-ICBs), ``icb_history``, ``pcn_history``.
    """
    from geo.readers.os import normalise_postcode
    from geo.vintage import apportion

    sub = lookup.rename(columns={"region_code": "region_code", "region_name": "region_name"})
    sub_cols = ["sicbl_code", "sicbl_code_nhs", "sicbl_name", "icb_code", "icb_code_nhs", "icb_name"]
    by_sub = sub.drop_duplicates("sicbl_code_nhs").set_index("sicbl_code_nhs")
    # ---- practices ---------------------------------------------------------------------------------------------
    pm = practice_map.drop_duplicates("practice_code")
    pr = pm.merge(lists[["practice_code", "list_size", "registered_40_74"]], on="practice_code", how="left")
    pr["list_size"] = pr["list_size"].fillna(0).astype("int64")
    pr["registered_40_74"] = pr["registered_40_74"].fillna(0).astype("int64")
    pr["icb_code"] = pr["sub_code"].map(by_sub["icb_code"])
    pr["icb_source"] = np.where(pr["icb_code"].notna(), "sub-ICB location (map file)", None)
    own = pr["icb_code"].isna() & pr["stp_code"].str.match(ICB)
    pr.loc[own, "icb_code"] = pr.loc[own, "stp_code"]
    pr.loc[own, "icb_source"] = "ICB (map file)"
    names = sub.drop_duplicates("icb_code").set_index("icb_code")
    pr["pcn_code"] = pr["pcn_code"].replace("", np.nan)
    gpr = geocode(pr)
    gpr["icb_code_nhs"] = gpr["icb_code"].map(names["icb_code_nhs"])
    gpr["icb_name"] = gpr["icb_code"].map(names["icb_name"])
    pc_lsoa = postcodes.drop_duplicates("postcode").set_index("postcode")["lsoa_code"]
    gpr["lsoa21"] = normalise_postcode(gpr["postcode"].fillna("")).map(pc_lsoa)
    # ---- registrations -----------------------------------------------------------------------------------------
    sizes = gpr.set_index("practice_code")["list_size"]
    if month == lsoa_month:
        own_reg = reg[reg["practice_code"].isin(sizes.index)][["practice_code", "lsoa_code", "patients"]]
        unplaced = sorted(set(sizes.index) - set(own_reg["practice_code"]))
    else:
        own_reg, unplaced = scale_registrations(reg, sizes)
    if vintage == 2011:
        reg11 = own_reg.reset_index(drop=True)
        reg21 = apportion(own_reg, code="lsoa_code", counts=["patients"], pairs=pairs, direction="forward")
    else:
        reg21 = own_reg.reset_index(drop=True)
        reg11 = apportion(own_reg, code="lsoa_code", counts=["patients"], pairs=pairs, direction="back")
    gpr["lsoa_placed"] = ~gpr["practice_code"].isin(unplaced)
    # ---- LSOAs -------------------------------------------------------------------------------------------------
    successors = set(by_sub.index)
    divided = derive_divided_subicbs(l21, gpr.rename(columns={})[["practice_code", "lsoa21", "sub_code",
                                                                   "list_size"]], successors)
    l21m = l21[["lsoa_code", "lad_code", "sicbl_code_nhs"]].copy()
    l21m["nhs_source"] = np.where(l21m["sicbl_code_nhs"].isin(successors), "lookup (Sub-ICB NHS code)", None)
    if not divided.empty:
        d = divided.set_index(["old_sicbl_code_nhs", "lad_code"])["sicbl_code_nhs"]
        key = pd.MultiIndex.from_arrays([l21m["sicbl_code_nhs"], l21m["lad_code"]])
        new = pd.Series(d.reindex(key).to_numpy(), index=l21m.index)
        moved = l21m["nhs_source"].isna() & new.notna()
        l21m.loc[moved, "sicbl_code_nhs"] = new[moved]
        l21m.loc[moved, "nhs_source"] = "derived by local authority"
    l21m = l21m.drop(columns=["lad_code"])
    lsoa21_nhs = _lsoa_nhs(l21m, sub[sub_cols], reg21)
    best = (pairs.sort_values(["lsoa11_code", "w_fwd", "lsoa21_code"], ascending=[True, False, True])
            .drop_duplicates("lsoa11_code").set_index("lsoa11_code")["lsoa21_code"])
    l11m = pd.DataFrame({"lsoa_code": l11["lsoa_code"].to_numpy()})
    via = l11m["lsoa_code"].map(best).map(l21m.set_index("lsoa_code")["sicbl_code_nhs"])
    l11m["sicbl_code_nhs"] = via
    l11m["nhs_source"] = "LSOA 2021 holding most of its population"
    lsoa11_nhs = _lsoa_nhs(l11m, sub[sub_cols], reg11)
    pcns, icbs = _pcns_and_icbs(gpr, names, lsoa21_nhs, lsoa11_nhs)
    return {"practices": gpr.drop(columns=["lsoa21"]).reset_index(drop=True), "pcns": pcns, "icbs": icbs,
            "registrations11": reg11.reset_index(drop=True), "registrations21": reg21.reset_index(drop=True),
            "lsoa21_nhs": lsoa21_nhs, "lsoa11_nhs": lsoa11_nhs, "divided": divided,
            "icb_history": _icb_history(base_icbs, icbs, l21, l11, lsoa21_nhs, lsoa11_nhs),
            "pcn_history": _pcn_history(base_practices, base_pcns, gpr, pcns, epcn_history)}


def _pcns_and_icbs(gpr: pd.DataFrame, names: pd.DataFrame, lsoa21_nhs: pd.DataFrame,
                   lsoa11_nhs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The month's PCNs (each in the ICB of most of its patients) and its ICBs with their LSOA counts."""
    pcns = (gpr.dropna(subset=["pcn_code"]).groupby("pcn_code")
            .agg(pcn_name=("pcn_name", "first"), practices=("practice_code", "size"), list_size=("list_size", "sum"),
                 registered_40_74=("registered_40_74", "sum"))
            .reset_index())
    # each PCN's ICB is that of most of its registered patients (then most practices, then the lower code): a PCN
    # of two Devon and two Cornwall practices belongs where most of its patients are registered
    votes = (gpr.dropna(subset=["pcn_code", "icb_code"]).groupby(["pcn_code", "icb_code"])
             .agg(patients=("list_size", "sum"), n=("practice_code", "size")).reset_index()
             .sort_values(["pcn_code", "patients", "n", "icb_code"], ascending=[True, False, False, True])
             .drop_duplicates("pcn_code").set_index("pcn_code")["icb_code"])
    pcns.insert(2, "icb_code", pcns["pcn_code"].map(votes))
    pcns["icb_name"] = pcns["icb_code"].map(names["icb_name"])
    pcns["icb_code_nhs"] = pcns["icb_code"].map(names["icb_code_nhs"])
    icbs = names.reset_index()[["icb_code", "icb_code_nhs", "icb_name"]]
    icbs = icbs.merge(lsoa11_nhs.groupby("icb_code").size().rename("lsoa11_count").reset_index(), on="icb_code",
                      how="left").merge(lsoa21_nhs.groupby("icb_code").size().rename("lsoa21_count").reset_index(),
                                        on="icb_code", how="left")
    icbs = icbs[icbs["lsoa21_count"].notna() | icbs["icb_code"].isin(set(gpr["icb_code"].dropna()))]
    icbs["short_name"] = icbs["icb_name"].str.replace(" Integrated Care Board", " ICB", regex=False)
    icbs = icbs.sort_values("icb_name").reset_index(drop=True)
    return pcns, icbs


def _icb_history(base_icbs: pd.DataFrame, icbs: pd.DataFrame, l21: pd.DataFrame, l11: pd.DataFrame,
                 lsoa21_nhs: pd.DataFrame, lsoa11_nhs: pd.DataFrame) -> pd.DataFrame:
    """Earlier ICB codes that the month's ICBs no longer use, with the ICBs their LSOAs are in now."""
    frames = []
    for old, new in ((l21, lsoa21_nhs), (l11, lsoa11_nhs)):
        if "icb_code" not in old:
            continue
        m = old[["lsoa_code", "icb_code"]].rename(columns={"icb_code": "old_code"}).merge(
            new[["lsoa_code", "icb_code", "icb_code_nhs", "icb_name"]], on="lsoa_code", how="inner")
        frames.append(m)
    if not frames:
        return pd.DataFrame(columns=["old_code", "old_code_nhs", "old_name", "new_code", "new_code_nhs", "new_name",
                                     "lsoas", "share"])
    allm = pd.concat(frames, ignore_index=True).drop_duplicates(["lsoa_code", "old_code"])
    allm = allm[~allm["old_code"].isin(set(icbs["icb_code"]))]
    t = allm.groupby(["old_code", "icb_code", "icb_code_nhs", "icb_name"]).size().rename("lsoas").reset_index()
    t["share"] = t["lsoas"] / t.groupby("old_code")["lsoas"].transform("sum")
    names = base_icbs.drop_duplicates("icb_code").set_index("icb_code")
    t.insert(1, "old_code_nhs", t["old_code"].map(names["icb_code_nhs"]))
    t.insert(2, "old_name", t["old_code"].map(names["icb_name"]))
    t = t.rename(columns={"icb_code": "new_code", "icb_code_nhs": "new_code_nhs", "icb_name": "new_name"})
    return t.sort_values(["old_code", "lsoas"], ascending=[True, False]).reset_index(drop=True)


def _pcn_history(base_practices: pd.DataFrame, base_pcns: pd.DataFrame, practices: pd.DataFrame,
                 pcns: pd.DataFrame, epcn: tuple[pd.DataFrame, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Earlier PCN codes absent from the month's map, with the PCNs their practices are in now.

    From the base month's map, then the PCNs an ePCN edition records as closed (their last members, and the
    close date in ``closed``).
    """
    now_codes = set(pcns["pcn_code"])
    gone = base_pcns[~base_pcns["pcn_code"].isin(now_codes) & (base_pcns["pcn_code"] != "U")][["pcn_code",
                                                                                               "pcn_name"]]
    was = base_practices[base_practices["pcn_code"].isin(set(gone["pcn_code"]))][["practice_code", "pcn_code"]]
    was = was.assign(members_from="map")
    closed = pd.Series(dtype=object)
    if epcn is not None:
        ep, mem = epcn
        shut = ep[ep["closed"] & ~ep["pcn_code"].isin(now_codes)]
        closed = shut.set_index("pcn_code")["close_date"].dt.strftime("%-d %B %Y")
        extra = shut[~shut["pcn_code"].isin(set(gone["pcn_code"]))][["pcn_code", "pcn_name"]]
        last = mem[mem["pcn_code"].isin(set(extra["pcn_code"]))].sort_values("end_date", na_position="last")
        last = last.drop_duplicates(["pcn_code", "practice_code"], keep="last")[["practice_code", "pcn_code"]]
        last = last.assign(members_from="ePCN")
        gone = pd.concat([gone, extra], ignore_index=True)
        was = pd.concat([was, last], ignore_index=True)
    now = practices[["practice_code", "pcn_code", "pcn_name"]].rename(columns={"pcn_code": "new_code",
                                                                               "pcn_name": "new_name"})
    m = was.merge(now, on="practice_code", how="left")
    m["new_code"] = m["new_code"].fillna("(not in the map)")
    t = m.groupby(["pcn_code", "new_code"], dropna=False).agg(new_name=("new_name", "first"),
                                                               practices=("practice_code", "size"),
                                                               members_from=("members_from", "first")).reset_index()
    t.insert(1, "old_name", t["pcn_code"].map(gone.drop_duplicates("pcn_code").set_index("pcn_code")["pcn_name"]))
    t["closed"] = t["pcn_code"].map(closed)
    t = t.rename(columns={"pcn_code": "old_code"})
    return t.sort_values(["old_code", "practices"], ascending=[True, False]).reset_index(drop=True)
