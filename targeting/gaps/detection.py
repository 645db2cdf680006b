"""Detection gap: recorded QOF registers against expected, per practice and PCN, with 95% limits.

Hypertension: PHE 2016 modelled prevalence (diagnosed + undiagnosed, adults 16+) × the practice's QOF list aged
16+. Other registers: indirect standardisation with a national Poisson regression on the practice's age structure
(QOF list types), the IMD deciles and ethnic mix of the LSOAs its patients live in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from targeting.gaps._common import (
    _AGE_TYPES,
    _ETHNIC,
    _MIN_FIT_LIST,
    _VALUE_COLS,
    REGISTERS,
    UNALLOCATED_PCN,
    Z95,
    GapInputError,
    _known_practices,
    _known_registrations,
    _latest_qof,
    _registers,
)
from targeting.stats import byar_ci
from targeting.store import derived

if TYPE_CHECKING:
    from geo.atlas import Atlas
    from geo.editions import Edition

def _practice_covariates(ed: Edition, qof: pd.DataFrame) -> pd.DataFrame:
    """Per practice: age shares of the QOF list, IMD-decile shares and ethnic shares of its patients' LSOAs."""
    lists = qof[qof["list_type"].isin(_AGE_TYPES)].groupby(["practice_code", "list_type"])["list_size"].max()
    lists = lists.unstack("list_type").reindex(columns=list(_AGE_TYPES))
    total = lists["TOTAL"].where(lists["TOTAL"] > 0)
    cov = pd.DataFrame(index=lists.index)
    cov["age_under6"] = 1 - lists["06OV"] / total
    cov["age_6_15"] = (lists["06OV"] - lists["16OV"]) / total
    cov["age_16_17"] = (lists["16OV"] - lists["18OV"]) / total
    cov["age_50plus"] = lists["50OV"] / total  # reference band: 18-49

    reg = _known_registrations(ed)
    lsoa = ed.lsoas
    pidx, lidx = reg["_practice"].to_numpy(), reg["_lsoa"].to_numpy()
    n = reg["patients"].to_numpy(float)
    k = int(pidx.max()) + 1
    names = _known_practices(ed)
    known = np.bincount(pidx, weights=n, minlength=k)
    decile = lsoa[ed.decile].to_numpy()[lidx]
    cols: dict[str, np.ndarray] = {}
    for d in range(1, 10):  # reference: decile 10 (least deprived)
        cols[f"imd_decile{d}"] = np.bincount(pidx, weights=n * (decile == d), minlength=k) / known
    for c in _ETHNIC:
        share = lsoa[c].to_numpy(float)[lidx] / 100
        cols[c.replace("pct_", "eth_")] = np.bincount(pidx, weights=n * share, minlength=k) / known
    return cov.join(pd.DataFrame(cols, index=pd.Index(names, name="practice_code")), how="left")


def _poisson_glm(x: np.ndarray, y: np.ndarray, offset: np.ndarray, *, max_iter: int = 100) -> np.ndarray:
    """Fit log E[y] = offset + x @ beta by iteratively reweighted least squares; return beta.

    ``x`` already holds an intercept column. Columns are centred and scaled inside for stability.
    """
    mean = x[:, 1:].mean(axis=0)
    sd = x[:, 1:].std(axis=0)
    sd[sd == 0] = 1.0
    xs = np.column_stack([np.ones(len(x)), (x[:, 1:] - mean) / sd])
    beta = np.zeros(xs.shape[1])
    beta[0] = np.log(y.sum() / np.exp(offset).sum())
    for _ in range(max_iter):
        eta = offset + xs @ beta
        mu = np.exp(eta)
        z = eta - offset + (y - mu) / mu
        # einsum, not BLAS matmul: tiny matrices, and no thread contention with other processes
        xtwx = np.einsum("ij,ik->jk", xs * mu[:, None], xs)
        xtwz = np.einsum("ij,i->j", xs, mu * z)
        try:
            new = np.linalg.solve(xtwx, xtwz)
        except np.linalg.LinAlgError:  # a covariate constant or collinear in this data: minimum-norm step
            new = np.linalg.lstsq(xtwx, xtwz, rcond=None)[0]
        done = np.max(np.abs(new - beta)) < 1e-9
        beta = new
        if done:
            break
    # back to the unscaled covariates
    slopes = beta[1:] / sd
    return np.concatenate([[beta[0] - slopes @ mean], slopes])


def _isr_register(reg: pd.DataFrame, cov: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Expected register sizes by indirect standardisation on a national Poisson regression.

    ``reg``: practice_code, register, list_size (the register's own QOF denominator). Returns the practice
    rows and the model's terms (coefficient, quasi-Poisson standard error).
    """
    d = reg.set_index("practice_code")[["register", "list_size"]].join(cov, how="left")
    cols = list(cov.columns)
    ok = d[cols].notna().all(axis=1) & (d["list_size"] > 0)
    fit = ok & (d["list_size"] >= _MIN_FIT_LIST)
    x_all = np.column_stack([np.ones(int(ok.sum())), d.loc[ok, cols].to_numpy(float)])
    x_fit = np.column_stack([np.ones(int(fit.sum())), d.loc[fit, cols].to_numpy(float)])
    y_fit = d.loc[fit, "register"].to_numpy(float)
    off_fit = np.log(d.loc[fit, "list_size"].to_numpy(float))
    beta = _poisson_glm(x_fit, y_fit, off_fit)
    expected = pd.Series(np.nan, index=d.index)
    expected[ok] = d.loc[ok, "list_size"].to_numpy(float) * np.exp(x_all @ beta)
    # quasi-Poisson standard errors: inverse Fisher information × Pearson dispersion
    mu = np.exp(off_fit + x_fit @ beta)
    dispersion = float(((y_fit - mu) ** 2 / mu).sum() / (len(y_fit) - len(beta)))
    cov_beta = np.linalg.pinv(np.einsum("ij,ik->jk", x_fit * mu[:, None], x_fit)) * dispersion
    terms = pd.DataFrame({"term": ["intercept", *cols], "coefficient": beta,
                          "se": np.sqrt(np.clip(np.diag(cov_beta), 0, None))})
    terms["dispersion"] = dispersion
    terms["practices_fitted"] = int(fit.sum())
    rows = pd.DataFrame({"recorded": d["register"].astype(float), "expected": expected,
                         "denominator": d["list_size"].astype(float), "_se_model": 0.0})
    return rows, terms


def _phe_hypertension(hyp_reg: pd.DataFrame, hyp: pd.DataFrame, adults: pd.Series) -> pd.DataFrame:
    """Expected hypertension = PHE modelled % (diagnosed + undiagnosed) of adults 16+ × QOF 16+ list."""
    need = ["practice_code", *(f"{k}_{v}_pct" for k in ("diag", "undiag") for v in ("estimate", "lower", "upper"))]
    if any(c not in hyp.columns for c in need):  # atlas built without the PHE workbooks: no expected count
        hyp = pd.DataFrame({c: pd.Series(dtype=object if c == "practice_code" else float) for c in need})
    h = hyp.set_index("practice_code")
    pct = h["diag_estimate_pct"] + h["undiag_estimate_pct"]
    # 95% limits -> standard errors; the workbooks give no correlation between the two models, so their
    # errors are combined as independent
    se_pct = np.sqrt(((h["diag_upper_pct"] - h["diag_lower_pct"]) / (2 * Z95)) ** 2
                     + ((h["undiag_upper_pct"] - h["undiag_lower_pct"]) / (2 * Z95)) ** 2)
    d = hyp_reg.set_index("practice_code")[["register"]]
    denominator = adults.reindex(d.index).astype(float)
    return pd.DataFrame({"recorded": d["register"].astype(float),
                         "expected": pct.reindex(d.index) / 100 * denominator, "denominator": denominator,
                         "_se_model": se_pct.reindex(d.index) / 100 * denominator})


def _limits(out: pd.DataFrame, fixed_expected: np.ndarray) -> pd.DataFrame:
    """Add undiagnosed, ratio and their 95% limits to rows of recorded / expected / _se_model.

    Where ``fixed_expected`` (indirect standardisation) the limits are Byar's on the count, E held fixed:
    ``(E - O_U, E - O_L)`` and ``(O_L / E, O_U / E)``. Elsewhere (a modelled expected with standard error
    ``_se_model``) the model and count errors are combined in quadrature, the ratio on the log scale.
    """
    o = out["recorded"].to_numpy(float)
    e = out["expected"].to_numpy(float)
    # registers repeat the same counts many times: compute Byar's limits once per distinct count
    uniq, inverse = np.unique(np.where(np.isnan(o), 0.0, o), return_inverse=True)
    o_lo, o_hi = (np.asarray(v, dtype=float)[inverse] for v in byar_ci(uniq))
    se_o = (o_hi - o_lo) / (2 * Z95)
    se_e = out["_se_model"].to_numpy(float)
    half = Z95 * np.sqrt(se_e**2 + se_o**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = o / e
        se_log = np.sqrt((se_o / o) ** 2 + (se_e / e) ** 2)
        r_lo = np.where(o > 0, ratio * np.exp(-Z95 * se_log), 0.0)
        r_hi = np.where(o > 0, ratio * np.exp(Z95 * se_log), o_hi / e)
        out["undiagnosed"] = e - o
        out["undiagnosed_lower"] = np.where(fixed_expected, e - o_hi, e - o - half)
        out["undiagnosed_upper"] = np.where(fixed_expected, e - o_lo, e - o + half)
        out["ratio"] = ratio
        out["ratio_lower"] = np.where(fixed_expected, o_lo / e, r_lo)
        out["ratio_upper"] = np.where(fixed_expected, o_hi / e, r_hi)
    bad = np.isnan(e) | np.isnan(o)
    out.loc[bad, ["undiagnosed", "undiagnosed_lower", "undiagnosed_upper", "ratio", "ratio_lower",
                  "ratio_upper"]] = np.nan
    return out


def _all_practice_gaps(ed: Edition) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Every supported register for every practice, and the indirect-standardisation models' terms.

    The long table has practice_code, register, recorded, expected, denominator, limits.
    """
    atlas = ed.atlas
    qof, _ = _latest_qof(atlas)
    cov = _practice_covariates(ed, qof)
    adults = qof[qof["list_type"] == "16OV"].groupby("practice_code")["list_size"].max()
    frames, models = [], {}
    for code, spec in REGISTERS.items():
        reg = qof[qof["group_code"] == code][["practice_code", "register", "list_size"]]
        reg = reg.drop_duplicates("practice_code")
        if reg.empty:
            continue
        if spec.model == "phe2016":
            g = _phe_hypertension(reg, atlas.hypertension, adults)
        else:
            g, models[code] = _isr_register(reg, cov)
        frames.append(g.assign(register=code).rename_axis("practice_code").reset_index())
    long = pd.concat(frames, ignore_index=True)
    isr = [c for c, spec in REGISTERS.items() if spec.model == "isr"]
    return _limits(long, long["register"].isin(isr).to_numpy(bool)), models


def _cached(ed: Edition) -> pd.DataFrame:
    return _cached_models(ed)[0]


@derived
def _cached_models(ed: Edition) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """:func:`_all_practice_gaps`, computed once per atlas and kept beside the atlas cache for new processes."""
    both = _both(ed)
    long = both[both["_part"] == "long"].drop(columns=[c for c in both.columns if c.startswith("t_")] + ["_part"])
    terms = both[both["_part"] == "terms"]
    terms = terms[[c for c in terms.columns if c.startswith("t_")] + ["register"]]
    terms = terms.rename(columns=lambda c: c[2:] if c.startswith("t_") else c)
    models = {str(r): g.drop(columns="register").dropna(axis=1, how="all").reset_index(drop=True)
              for r, g in terms.groupby("register", sort=False)}
    return long.reset_index(drop=True), models


@derived(persist=True, code=("gaps/*.py", "stats/*.py"))
def _both(ed: Edition) -> pd.DataFrame:
    """The long table and the models' terms in one frame (``_part``), so the store can keep them as one file."""
    long, models = _all_practice_gaps(ed)
    terms = pd.concat([m.add_prefix("t_").assign(register=r) for r, m in models.items()], ignore_index=True)
    return pd.concat([long.assign(_part="long"), terms.assign(_part="terms")], ignore_index=True)


@derived
def _wide(ed: Edition) -> pd.DataFrame:
    """Per-practice table of every register's columns (plus ``<reg>__se``, the model SE)."""
    long = _cached(ed)
    parts = []
    for code in long["register"].unique():
        g = long[long["register"] == code].set_index("practice_code")[[*_VALUE_COLS, "_se_model"]]
        parts.append(g.rename(columns={"_se_model": "_se"}).add_prefix(f"{code.lower()}_"))
    return pd.concat(parts, axis=1).copy()


def practice_gaps(edition: Edition, practice_codes: list[str] | None = None, *,
                  registers: list[str] | tuple[str, ...] | None = None, strict: bool = False) -> pd.DataFrame:
    r"""Detection gap per practice: recorded QOF register against expected, with 95% limits.

    Parameters
    ----------
    edition
        The IMD edition (bound to the atlas) whose deciles enter the indirect standardisation (2019: LSOA 2011,
        2025: LSOA 2021). Hypertension does not depend on it.
    practice_codes
        Practices to return, in order (default: every practice in ``atlas.practices``). Practices without QOF
        2022-23 data, or unknown to the atlas (e.g. from a user's newer registrations), get NaN.
    registers
        QOF group codes (see :data:`REGISTERS`); default :data:`CORE_REGISTERS` (HYP, MH, DM, AST, COPD, LD).
    strict
        Raise :class:`GapInputError` for practice codes unknown to both the atlas and QOF instead of NaN rows.

    Returns
    -------
    pandas.DataFrame
        ``practice_code`` then, for each register ``<reg>`` (lower case): ``<reg>_recorded`` (QOF 2022-23
        register), ``<reg>_expected``, ``<reg>_undiagnosed`` (= expected − recorded; negative when more people
        are recorded than expected), ``<reg>_undiagnosed_lower`` / ``_upper`` (95%), ``<reg>_ratio`` (recorded
        / expected) with ``_ratio_lower`` / ``_ratio_upper``, and ``<reg>_denominator`` (the list the rate
        applies to: the 16+ list for HYP, the register's own QOF list type otherwise).

    Raises
    ------
    GapInputError
        Unsupported registers; unknown practice codes with ``strict=True``.

    Notes
    -----
    Hypertension (PHE 2016 model): with :math:`d, u` the modelled % of adults diagnosed / undiagnosed and
    :math:`N_{16}` the QOF 2022-23 list aged 16+, :math:`E = (d+u)/100 \cdot N_{16}`, with standard error
    :math:`s_E = N_{16}\sqrt{s_d^2+s_u^2}/100`, :math:`s = (U-L)/(2 \cdot 1.96)` from each 95% interval.
    The recorded count :math:`O` carries Byar's Poisson limits, :math:`s_O = (O_U-O_L)/(2 \cdot 1.96)`;
    :math:`E-O \pm 1.96\sqrt{s_E^2+s_O^2}`.

    Other registers (indirect standardisation): a national Poisson regression
    :math:`\log E[O_p] = \log D_p + \beta_0 + \beta^\top x_p`, fitted over practices with a list of 1,000+,
    where :math:`D_p` is the register's QOF denominator and :math:`x_p` holds the practice's age shares (QOF
    list types: under 6, 6–15, 16–17, 50+; reference 18–49), the shares of its patients living in IMD deciles
    1–9 (reference decile 10) and the registration-weighted Census 2021 shares of Asian, Black, Mixed and
    Other ethnic groups (reference White). :math:`E_p` is the fitted value; as a Poisson model with an
    intercept, :math:`\sum_p E_p = \sum_p O_p` over the fitted practices. Limits treat :math:`E` as fixed and
    put Byar limits on :math:`O`: :math:`(E - O_U, E - O_L)` and :math:`(O_L/E, O_U/E)`. See docs/methods.md.
    """
    regs = _registers(registers)
    atlas = edition.atlas
    wide = _wide(edition)
    codes = atlas.practices["practice_code"] if practice_codes is None else pd.Series(
        [str(c).strip().upper() for c in practice_codes], dtype=object)
    known = set(atlas.practices["practice_code"]) | set(wide.index)
    bad = sorted(set(codes) - known)
    if bad and strict:
        raise GapInputError(f"unknown practice code(s): {', '.join(bad[:10])}"
                            + (f" and {len(bad) - 10} more" if len(bad) > 10 else ""))
    cols = [f"{r.lower()}_{c}" for r in regs for c in _VALUE_COLS]
    return wide.reindex(index=pd.Index(codes, name="practice_code"), columns=cols).reset_index()


def detection_model(edition: Edition, register: str) -> pd.DataFrame:
    r"""The national regression behind a register's expected count, term by term (for the Methods page).

    Parameters
    ----------
    edition
        IMD edition of the decile covariates, bound to the atlas.
    register
        A QOF group code standardised indirectly (every one in :data:`REGISTERS` except HYP).

    Returns
    -------
    pandas.DataFrame
        ``term, coefficient, se, rate_ratio_10pp, dispersion, practices_fitted``: log rate-ratio per unit of
        each share (0–1), its quasi-Poisson standard error, the rate ratio for 10 percentage points more of
        the list in that group (:math:`e^{0.1\beta}`), the Pearson dispersion and the number of practices fitted.

    Notes
    -----
    Ecological coefficients: they describe practices, not people, and adjust for each other. They are
    shown for transparency, not as causal effects; only the fitted expected counts are used.
    """
    code = _registers([register])[0]
    models = _cached_models(edition)[1]
    if code not in models:
        raise GapInputError(f"{code} is not indirectly standardised (it uses PHE modelled prevalence)")
    out = models[code].copy()
    out.insert(3, "rate_ratio_10pp", np.exp(0.1 * out["coefficient"]))
    out.loc[out["term"] == "intercept", "rate_ratio_10pp"] = np.nan
    return out


# --------------------------------------------------------------------------------------------------
# PCN sums
# --------------------------------------------------------------------------------------------------
@derived
def _atlas_members(atlas: Atlas) -> tuple[pd.DataFrame, set[str]]:
    """:func:`_pcn_members` of the atlas's own practice → PCN map."""
    return _pcn_members(atlas.practices)


def _pcn_members(table: pd.DataFrame) -> tuple[pd.DataFrame, set[str]]:
    """Practice → PCN pairs ("Unallocated" dropped) and the set of PCN codes."""
    missing = [c for c in ("practice_code", "pcn_code") if c not in table.columns]
    if missing:
        raise GapInputError(f"PCN membership table lacks column(s) {missing}; it needs practice_code and pcn_code")
    members = table[["practice_code", "pcn_code"]].dropna().astype(str)
    members = members.assign(practice_code=members["practice_code"].str.strip().str.upper(),
                             pcn_code=members["pcn_code"].str.strip().str.upper()).drop_duplicates("practice_code")
    members = members[members["pcn_code"] != UNALLOCATED_PCN].astype(object)
    return members, set(members["pcn_code"])


def pcn_gaps(edition: Edition, pcn_codes: list[str] | None = None, *,
             registers: list[str] | tuple[str, ...] | None = None, membership: pd.DataFrame | None = None,
             strict: bool = False) -> pd.DataFrame:
    r"""Detection gap per PCN: its member practices' recorded and expected registers summed.

    Parameters
    ----------
    edition, registers
        As in :func:`practice_gaps`.
    pcn_codes
        PCNs to return, in order (default: every PCN with member practices, "Unallocated" excluded).
    membership
        ``practice_code``, ``pcn_code`` pairs (e.g. a user's newer practice → PCN map). Default: the atlas's
        July 2022 map, ``atlas.practices.pcn_code``.
    strict
        Raise :class:`GapInputError` for PCN codes with no member practice instead of returning an empty row.

    Returns
    -------
    pandas.DataFrame
        One row per requested code, in order. ``pcn_code``, ``practices`` (member practices), then per register
        the columns of
        :func:`practice_gaps` and ``<reg>_practices_missing`` (members without data for that register; their
        patients are in neither the recorded nor the expected sum). A code with no member practice — including
        "Unallocated" (``U``), which is not a PCN — gets an empty row (0 practices).

    Notes
    -----
    :math:`O = \sum_p O_p`, :math:`E = \sum_p E_p`, undiagnosed :math:`E - O`. Byar limits are recomputed
    on the summed count. For hypertension the modelled standard errors are added, not combined in
    quadrature (:math:`s_E = \sum_p s_{E,p}`): all practices share one model, so its errors are treated as
    fully correlated, which is conservative.
    """
    regs = _registers(registers)
    wide = _wide(edition)
    if membership is None:
        members, known = _atlas_members(edition.atlas)
    else:
        members, known = _pcn_members(membership)
    if pcn_codes is None:
        codes = sorted(known)
    else:
        codes = [str(c).strip().upper() for c in pcn_codes]
        bad = sorted(set(codes) - known)
        if bad and strict:
            raise GapInputError(f"unknown PCN code(s) (or PCNs with no practices): {', '.join(bad[:10])}")
    members = members[members["pcn_code"].isin(codes)]
    m = wide.reindex(members["practice_code"])
    sums: dict[str, np.ndarray] = {}
    for code in regs:
        r = code.lower()
        valid = m[f"{r}_expected"].notna().to_numpy()
        for c in ("recorded", "expected", "denominator", "_se"):
            sums[f"{r}_{c}"] = np.where(valid, m[f"{r}_{c}"].to_numpy(float), 0.0)
        sums[f"{r}__n"] = valid.astype(float)
    g = pd.DataFrame(sums).groupby(members["pcn_code"].to_numpy()).sum().reindex(codes, fill_value=0.0)
    practices = members.groupby("pcn_code").size().reindex(codes, fill_value=0)
    cols: dict[str, Any] = {"pcn_code": codes, "practices": practices.to_numpy()}
    for code in regs:
        r = code.lower()
        n = g[f"{r}__n"].to_numpy()
        s = pd.DataFrame({"recorded": g[f"{r}_recorded"].to_numpy(), "expected": g[f"{r}_expected"].to_numpy(),
                          "denominator": g[f"{r}_denominator"].to_numpy(), "_se_model": g[f"{r}__se"].to_numpy()})
        s.loc[n == 0, ["recorded", "expected", "denominator"]] = np.nan  # no member practice has data
        s = _limits(s, np.full(len(codes), REGISTERS[code].model == "isr"))
        for c in _VALUE_COLS:
            cols[f"{r}_{c}"] = s[c].to_numpy()
        cols[f"{r}_practices_missing"] = (practices.to_numpy() - n).astype("int64")
    return pd.DataFrame(cols)


