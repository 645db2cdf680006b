"""Gaps a PCN or ICB can act on: detection, registration, Core20 reach and distance to a practice.

Every gap has a documented model (``docs/methods.md``) and states its limits. Detection, registration and reach
carry 95% intervals; access is a measured (straight-line) distance, not an estimate, so it has none.

* :func:`practice_gaps`, :func:`pcn_gaps`: **detection gap** per QOF register, recorded (QOF 2022-23) against
  expected. Hypertension: PHE 2016 modelled prevalence (diagnosed + undiagnosed, adults 16+) × the practice's
  QOF list aged 16+. Other registers: indirect standardisation with a national Poisson regression on the
  practice's age structure (QOF list types), the IMD deciles and ethnic mix of the LSOAs its patients live in.
* :func:`lsoa_detection_gap`, :func:`lsoa_register_counts`: the practice figures apportioned to the LSOAs its
  patients live in (for the outreach planner).
* :func:`registration_gap`: Census 2021 usual residents against patients registered as living in the LSOA,
  relative to the national ratio, with limits allowing for the between-LSOA spread (random effects).
* :func:`core20_reach`: each PCN's share of the ICB's Core20 patients against its share of patients.
* :func:`access`: straight-line distance (EPSG:27700) from each Core20 LSOA's population-weighted centroid to
  the nearest practice, and to the nearest practice of the PCN holding most of its patients.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from geo.paths import cache_dir
from targeting.stats import byar_ci, significance, wilson_ci

if TYPE_CHECKING:  # geopandas, shapely and scipy.spatial are imported where used: CLI start-up stays fast
    from geo.atlas import Atlas

__all__ = [
    "CORE_REGISTERS",
    "REGISTERS",
    "SOURCES",
    "UNALLOCATED_PCN",
    "GapInputError",
    "Register",
    "access",
    "core20_reach",
    "detection_model",
    "lsoa_detection_gap",
    "lsoa_register_counts",
    "pcn_gaps",
    "practice_gaps",
    "registration_gap",
]

Z95 = 1.959963984540054  # two-sided 95% standard normal quantile

#: PCN code NHS Digital gives practices not in any PCN ("Unallocated"); never treated as a PCN here.
UNALLOCATED_PCN = "U"


class GapInputError(ValueError):
    """A gap was asked for with an argument the data cannot answer (unknown code, register or edition)."""


@dataclass(frozen=True)
class Register:
    """A QOF register supported by the detection gap."""

    code: str
    name: str
    model: str  # "phe2016" (modelled prevalence) or "isr" (indirect standardisation, national regression)


#: Every register the detection gap supports, in display order. QOF group codes.
REGISTERS: dict[str, Register] = {r.code: r for r in (
    Register("HYP", "Hypertension", "phe2016"),
    Register("MH", "Severe mental illness (schizophrenia, bipolar disorder, other psychoses)", "isr"),
    Register("DM", "Diabetes (aged 17+)", "isr"),
    Register("AST", "Asthma (aged 6+)", "isr"),
    Register("COPD", "Chronic obstructive pulmonary disease", "isr"),
    Register("LD", "Learning disability", "isr"),
    Register("CHD", "Coronary heart disease", "isr"),
    Register("AF", "Atrial fibrillation", "isr"),
    Register("HF", "Heart failure", "isr"),
    Register("STIA", "Stroke and transient ischaemic attack", "isr"),
    Register("CKD", "Chronic kidney disease stages 3a-5 (aged 18+)", "isr"),
    Register("DEM", "Dementia", "isr"),
    Register("EP", "Epilepsy (aged 18+)", "isr"),
)}

#: Registers returned by default: the Core20PLUS5 clinical areas a PCN acts on.
CORE_REGISTERS: tuple[str, ...] = ("HYP", "MH", "DM", "AST", "COPD", "LD")

#: Source and vintage line for each gap, to print beside every figure and export.
SOURCES: dict[str, str] = {
    "detection": "Recorded: QOF 2022-23 disease registers (NHS England). Expected: hypertension from PHE 2016 modelled "
                 "prevalence by practice; other registers indirectly standardised on a national regression over "
                 "QOF 2022-23 list ages, IMD deciles (IoD 2019 or 2025) and Census 2021 ethnic group of the LSOAs "
                 "patients live in (GP registrations July 2022). Method: docs/methods.md.",
    "registration": "Census 2021 usual residents (ONS) and patients registered at a GP practice by LSOA, July 2022 "
                    "(NHS Digital), LSOA 2021 (registrations apportioned from LSOA 2011).",
    "reach": "GP registrations by LSOA, July 2022, and practice → PCN map of the same month (NHS Digital); "
             "Core20 = national IMD deciles 1–2 (IoD 2019 or 2025).",
    "access": "Practice locations (ODS postcode, OS Code-Point Open, July 2022 practices, main sites only); "
              "LSOA population-weighted centroids from postcode units; straight-line distance, EPSG:27700.",
}

_EDITIONS = {2019: ("registrations11", "imd19"), 2025: ("registrations21", "imd25")}
_ETHNIC = ("pct_asian", "pct_black", "pct_mixed", "pct_other")
_AGE_TYPES = ("TOTAL", "06OV", "16OV", "18OV", "50OV")
_MIN_FIT_LIST = 1000  # practices with a smaller list are predicted but do not fit the national model

_VALUE_COLS = ("recorded", "expected", "undiagnosed", "undiagnosed_lower", "undiagnosed_upper", "ratio",
               "ratio_lower", "ratio_upper", "denominator")


# --------------------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------------------
def _edition(imd: int) -> tuple[str, str]:
    try:
        return _EDITIONS[int(imd)]
    except (KeyError, TypeError, ValueError):
        raise GapInputError(f"imd must be 2019 or 2025; got {imd!r}") from None


def _registers(registers: list[str] | tuple[str, ...] | None) -> list[str]:
    if registers is None:
        return list(CORE_REGISTERS)
    out = [str(r).strip().upper() for r in registers]
    bad = [r for r in out if r not in REGISTERS]
    if bad:
        raise GapInputError(f"unsupported QOF register(s) {bad}; choose from {', '.join(REGISTERS)}")
    return out


def _known_registrations(atlas: Atlas, imd: int) -> pd.DataFrame:
    """Registrations (practice × LSOA) of the edition's vintage, English LSOAs of that vintage only.

    ``_lsoa`` is the row position in ``atlas.lsoas(imd)``; ``_practice`` indexes :func:`_known_practices`.
    """
    return _memo(atlas, ("known", imd), lambda: _known_uncached(atlas, imd))[0]


def _known_practices(atlas: Atlas, imd: int) -> np.ndarray:
    """Practice code of each ``_practice`` index of :func:`_known_registrations`."""
    return _memo(atlas, ("known", imd), lambda: _known_uncached(atlas, imd))[1]


def _known_uncached(atlas: Atlas, imd: int) -> tuple[pd.DataFrame, np.ndarray]:
    table, _ = _edition(imd)
    reg = getattr(atlas, table)
    lsoas = pd.Index(atlas.lsoas(imd)["lsoa_code"])
    codes = lsoas.get_indexer(reg["lsoa_code"])
    keep = (codes >= 0) & (reg["patients"].to_numpy() > 0)
    out = reg.loc[keep, ["practice_code", "lsoa_code", "patients"]].reset_index(drop=True)
    out["_lsoa"] = codes[keep]  # row position in atlas.lsoas(imd)
    out["_practice"], names = pd.factorize(out["practice_code"])
    return out, np.asarray(names, dtype=object)


def _latest_qof(atlas: Atlas) -> tuple[pd.DataFrame, str]:
    q = atlas.qof
    if q.empty:
        raise GapInputError("the atlas has no QOF prevalence table (qof); rebuild it with the QOF files present")
    year = str(q["qof_year"].max())
    return q[q["qof_year"] == year], year


_CACHE: dict[tuple[int, Any], tuple[Atlas, Any]] = {}


def _memo(atlas: Atlas, key: Any, compute: Any) -> Any:
    """Per-atlas memo: the atlas tables are read-only, so derived tables are computed once per process."""
    k = (id(atlas), key)
    hit = _CACHE.get(k)
    if hit is None or hit[0] is not atlas:
        _CACHE[k] = (atlas, compute())
    return _CACHE[k][1]


def _cached(atlas: Atlas, imd: int) -> pd.DataFrame:
    return _cached_models(atlas, imd)[0]


def _cached_models(atlas: Atlas, imd: int) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    _edition(imd)
    return _memo(atlas, ("gaps", int(imd)), lambda: _disk_cached(atlas, int(imd)))


def _disk_key(atlas: Atlas, imd: int) -> str | None:
    """Key of the on-disk copy: the atlas build, this code and targeting.stats, the edition, two inputs' sizes.

    None (no disk cache) for an atlas without build metadata.
    """
    meta = getattr(atlas, "meta", None)
    if not isinstance(meta, dict) or not meta:
        return None
    h = hashlib.sha256(json.dumps(meta, sort_keys=True, default=str).encode())
    import targeting.stats as limits_code

    for code in (Path(__file__), Path(limits_code.__file__)):  # this module and the Byar/Wilson code it uses
        h.update(code.read_bytes())
    h.update(f"{imd}|{len(atlas.qof)}|{len(atlas.hypertension)}".encode())
    return h.hexdigest()[:24]


def _disk_cached(atlas: Atlas, imd: int) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """:func:`_all_practice_gaps`, kept on disk beside the atlas so a new process starts in milliseconds.

    The copy is keyed on the atlas build and this file's code; any failure to read or write it falls back to
    computing (the cache is an optimisation, never a source of truth).
    """
    key = _disk_key(atlas, imd)
    folder = cache_dir() / "gaps" if key else None
    if folder is not None:
        try:
            long = pd.read_parquet(folder / f"long_{imd}_{key}.parquet")
            terms = pd.read_parquet(folder / f"terms_{imd}_{key}.parquet")
            return long, {str(r): g.drop(columns="register").reset_index(drop=True)
                          for r, g in terms.groupby("register", sort=False)}
        except (OSError, ValueError, KeyError):
            pass
    long, models = _all_practice_gaps(atlas, imd)
    if folder is not None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            terms = pd.concat([m.assign(register=r) for r, m in models.items()], ignore_index=True)
            for stem, table in (("long", long), ("terms", terms)):
                tmp = folder / f".{stem}_{imd}_{key}.{os.getpid()}.tmp"
                table.to_parquet(tmp, index=False)
                os.replace(tmp, folder / f"{stem}_{imd}_{key}.parquet")
                for old in folder.glob(f"{stem}_{imd}_*.parquet"):  # copies from older code or atlas builds
                    if old.name != f"{stem}_{imd}_{key}.parquet":
                        old.unlink(missing_ok=True)
        except OSError:
            pass
    return long, models


# --------------------------------------------------------------------------------------------------
# detection gap: models
# --------------------------------------------------------------------------------------------------
def _practice_covariates(atlas: Atlas, imd: int, qof: pd.DataFrame) -> pd.DataFrame:
    """Per practice: age shares of the QOF list, IMD-decile shares and ethnic shares of its patients' LSOAs."""
    _, pre = _edition(imd)
    lists = qof[qof["list_type"].isin(_AGE_TYPES)].groupby(["practice_code", "list_type"])["list_size"].max()
    lists = lists.unstack("list_type").reindex(columns=list(_AGE_TYPES))
    total = lists["TOTAL"].where(lists["TOTAL"] > 0)
    cov = pd.DataFrame(index=lists.index)
    cov["age_under6"] = 1 - lists["06OV"] / total
    cov["age_6_15"] = (lists["06OV"] - lists["16OV"]) / total
    cov["age_16_17"] = (lists["16OV"] - lists["18OV"]) / total
    cov["age_50plus"] = lists["50OV"] / total  # reference band: 18-49

    reg = _known_registrations(atlas, imd)
    lsoa = atlas.lsoas(imd)
    pidx, lidx = reg["_practice"].to_numpy(), reg["_lsoa"].to_numpy()
    n = reg["patients"].to_numpy(float)
    k = int(pidx.max()) + 1
    names = _known_practices(atlas, imd)
    known = np.bincount(pidx, weights=n, minlength=k)
    decile = lsoa[f"{pre}_decile"].to_numpy()[lidx]
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


def _all_practice_gaps(atlas: Atlas, imd: int) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Every supported register for every practice, and the indirect-standardisation models' terms.

    The long table has practice_code, register, recorded, expected, denominator, limits.
    """
    qof, _ = _latest_qof(atlas)
    cov = _practice_covariates(atlas, imd, qof)
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


def _wide(atlas: Atlas, imd: int) -> pd.DataFrame:
    """Per-practice table of every register's columns (plus ``<reg>__se``, the model SE), cached."""
    def build() -> pd.DataFrame:
        long = _cached(atlas, imd)
        parts = []
        for code in long["register"].unique():
            g = long[long["register"] == code].set_index("practice_code")[[*_VALUE_COLS, "_se_model"]]
            parts.append(g.rename(columns={"_se_model": "_se"}).add_prefix(f"{code.lower()}_"))
        return pd.concat(parts, axis=1).copy()

    return _memo(atlas, ("wide", int(imd)), build)


def practice_gaps(atlas: Atlas, practice_codes: list[str] | None = None, *, imd: int = 2025,
                  registers: list[str] | tuple[str, ...] | None = None, strict: bool = False) -> pd.DataFrame:
    r"""Detection gap per practice: recorded QOF register against expected, with 95% limits.

    Parameters
    ----------
    atlas
        The loaded atlas.
    practice_codes
        Practices to return, in order (default: every practice in ``atlas.practices``). Practices without QOF
        2022-23 data, or unknown to the atlas (e.g. from a user's newer registrations), get NaN.
    imd
        IMD edition whose deciles enter the indirect standardisation (2019: LSOA 2011, 2025: LSOA 2021).
        Hypertension does not depend on it.
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
        Unsupported registers or IMD edition; unknown practice codes with ``strict=True``.

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
    _edition(imd)
    wide = _wide(atlas, imd)
    codes = atlas.practices["practice_code"] if practice_codes is None else pd.Series(
        [str(c).strip().upper() for c in practice_codes], dtype=object)
    known = set(atlas.practices["practice_code"]) | set(wide.index)
    bad = sorted(set(codes) - known)
    if bad and strict:
        raise GapInputError(f"unknown practice code(s): {', '.join(bad[:10])}"
                            + (f" and {len(bad) - 10} more" if len(bad) > 10 else ""))
    cols = [f"{r.lower()}_{c}" for r in regs for c in _VALUE_COLS]
    return wide.reindex(index=pd.Index(codes, name="practice_code"), columns=cols).reset_index()


def detection_model(atlas: Atlas, register: str, *, imd: int = 2025) -> pd.DataFrame:
    r"""The national regression behind a register's expected count, term by term (for the Methods page).

    Parameters
    ----------
    atlas
        The loaded atlas.
    register
        A QOF group code standardised indirectly (every one in :data:`REGISTERS` except HYP).
    imd
        IMD edition of the decile covariates.

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
    models = _cached_models(atlas, imd)[1]
    if code not in models:
        raise GapInputError(f"{code} is not indirectly standardised (it uses PHE modelled prevalence)")
    out = models[code].copy()
    out.insert(3, "rate_ratio_10pp", np.exp(0.1 * out["coefficient"]))
    out.loc[out["term"] == "intercept", "rate_ratio_10pp"] = np.nan
    return out


# --------------------------------------------------------------------------------------------------
# PCN sums
# --------------------------------------------------------------------------------------------------
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


def pcn_gaps(atlas: Atlas, pcn_codes: list[str] | None = None, *, imd: int = 2025,
             registers: list[str] | tuple[str, ...] | None = None, membership: pd.DataFrame | None = None,
             strict: bool = False) -> pd.DataFrame:
    r"""Detection gap per PCN: its member practices' recorded and expected registers summed.

    Parameters
    ----------
    atlas
        The loaded atlas.
    pcn_codes
        PCNs to return, in order (default: every PCN with member practices, "Unallocated" excluded).
    imd, registers
        As in :func:`practice_gaps`.
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
    _edition(imd)
    wide = _wide(atlas, imd)
    if membership is None:
        members, known = _memo(atlas, "members", lambda: _pcn_members(atlas.practices))
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


# --------------------------------------------------------------------------------------------------
# LSOA apportionment
# --------------------------------------------------------------------------------------------------
def _apportion(atlas: Atlas, values: pd.DataFrame, imd: int, lsoa_weight: np.ndarray | None = None) -> pd.DataFrame:
    """Share each practice's values over English LSOAs by where its patients (known LSOA) live.

    ``lsoa_weight`` (one per LSOA of the vintage) multiplies the patient counts before the shares are taken.
    """
    reg = _known_registrations(atlas, imd)
    pidx, lidx = reg["_practice"].to_numpy(), reg["_lsoa"].to_numpy()
    n = reg["patients"].to_numpy(float)
    if lsoa_weight is not None:
        n = n * lsoa_weight[lidx]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.nan_to_num(n / np.bincount(pidx, weights=n)[pidx])
    lsoas = atlas.lsoas(imd)["lsoa_code"]
    # values per practice, aligned to the registration rows through the practice index (fast, no string join)
    names = pd.Index(_known_practices(atlas, imd))
    v = values.drop_duplicates("practice_code").set_index("practice_code").reindex(names)
    cols = {c: np.bincount(lidx, weights=np.nan_to_num(v[c].to_numpy(float))[pidx] * share, minlength=len(lsoas))
            for c in v.columns}
    return pd.DataFrame({"lsoa_code": lsoas.to_numpy(), **cols})


def lsoa_detection_gap(atlas: Atlas, *, register: str = "HYP", imd: int = 2025,
                       age_weighted: bool = False) -> pd.DataFrame:
    r"""People likely undiagnosed per LSOA: each practice's gap shared out by where its patients live.

    Parameters
    ----------
    atlas
        The loaded atlas.
    register
        QOF group code (see :data:`REGISTERS`).
    imd
        2025: LSOA 2021 (``registrations21``); 2019: LSOA 2011 (``registrations11``).
    age_weighted
        Weight each LSOA's patients by its share of residents aged 40–74 (Census 2021 on LSOA 2021, ONS
        mid-2020 on LSOA 2011), so a practice's gap leans towards its older neighbourhoods, where most
        undiagnosed hypertension, diabetes and COPD is. Default False: by patients alone.

    Returns
    -------
    pandas.DataFrame
        One row per English LSOA of the vintage: ``lsoa_code``, ``expected_undiagnosed``,
        ``expected_undiagnosed_lower``, ``expected_undiagnosed_upper``.

    Notes
    -----
    With :math:`G_p = \max(0, E_p - O_p)` the practice gap (a practice recording more people than expected
    contributes none) and :math:`n_{pl}` its patients living in LSOA :math:`l` (known English LSOAs only),

    .. math:: G_l = \sum_p G_p \, n_{pl} / \sum_{l'} n_{pl'} ,

    so :math:`\sum_l G_l = \sum_p G_p` over practices with registrations. Limits are apportioned the same way
    (clipped at 0), i.e. treated as fully correlated across practices: a conservative interval. The patients'
    age is not known per LSOA, so by default an LSOA gets its share of the whole list; with ``age_weighted``
    :math:`n_{pl}` becomes :math:`n_{pl} a_l`, :math:`a_l` the LSOA's share of residents aged 40–74 (the total
    is still conserved).
    """
    code = _registers([register])[0]
    long = _cached(atlas, imd)
    g = long[(long["register"] == code) & long["expected"].notna()]
    vals = pd.DataFrame({
        "practice_code": g["practice_code"],
        "expected_undiagnosed": g["undiagnosed"].clip(lower=0),
        "expected_undiagnosed_lower": g["undiagnosed_lower"].clip(lower=0),
        "expected_undiagnosed_upper": g["undiagnosed_upper"].clip(lower=0),
    })
    weight = None
    if age_weighted:
        t = atlas.lsoas(imd)
        total = t["age_total_2021"] if "age_total_2021" in t.columns else t["pop_mid2020"]
        weight = (t["aged_40_74"] / total.where(total > 0)).fillna(0).to_numpy(float)
    return _apportion(atlas, vals, imd, weight)


def lsoa_register_counts(atlas: Atlas, register: str, *, imd: int = 2025) -> pd.DataFrame:
    r"""Patients on a QOF register (2022-23) per LSOA, shared out by where each practice's patients live.

    Parameters
    ----------
    atlas
        The loaded atlas.
    register
        QOF group code, e.g. ``"MH"`` (severe mental illness) or ``"LD"`` (learning disability).
    imd
        2025: LSOA 2021; 2019: LSOA 2011.

    Returns
    -------
    pandas.DataFrame
        ``lsoa_code``, ``register_patients`` (estimated, not whole numbers) for every English LSOA.

    Notes
    -----
    :math:`R_l = \sum_p R_p \, n_{pl} / \sum_{l'} n_{pl'}`: the register is assumed to be spread over a
    practice's patients in proportion to where they live (no within-practice variation is known).
    """
    code = str(register).strip().upper()
    qof, _ = _latest_qof(atlas)
    reg = qof[qof["group_code"] == code]
    if reg.empty:
        raise GapInputError(f"QOF register '{register}' is not in the atlas; choose from "
                            f"{', '.join(sorted(qof['group_code'].unique()))}")
    vals = reg.drop_duplicates("practice_code")[["practice_code", "register"]].rename(
        columns={"register": "register_patients"})
    vals["register_patients"] = vals["register_patients"].astype(float)
    return _apportion(atlas, vals, imd)


# --------------------------------------------------------------------------------------------------
# registration gap
# --------------------------------------------------------------------------------------------------
def registration_gap(atlas: Atlas, *, vintage: int = 2021, overdispersion: bool = True) -> pd.DataFrame:
    r"""Census 2021 usual residents against patients registered as living in each LSOA.

    Parameters
    ----------
    atlas
        The loaded atlas.
    vintage
        2021 (LSOA 2021, Census 2021 residents as published) or 2011 (LSOA 2011, residents apportioned).
    overdispersion
        True (default): limits allow for the between-LSOA spread of the ratio that Poisson variation does not
        explain (random effects, :math:`\tau^2`). False: Byar limits on the registered count only.

    Returns
    -------
    pandas.DataFrame
        ``lsoa_code, residents, registered_patients, ratio, national_ratio, relative_ratio, lower, upper,
        flag``. ``flag`` is True where the upper 95% limit of ``relative_ratio`` is below 1: fewer patients
        registered than residents would predict, a possible unregistered population.

    Notes
    -----
    :math:`r_l = R_l / P_l` (registered / residents); the national ratio
    :math:`\bar r = \sum_l R_l / \sum_l P_l` over English LSOAs (patients with an unknown or Welsh LSOA
    are left out). Lists are inflated (people who moved away or died stay registered for a while), so
    :math:`\bar r > 1`. :math:`\mathrm{RR}_l = r_l / \bar r = R_l / E_l` with :math:`E_l = P_l \bar r`.
    On the log scale :math:`y_l = \ln \mathrm{RR}_l`, :math:`v_l = 1/R_l` (Poisson), and
    :math:`\tau^2` is the DerSimonian–Laird estimate from :math:`y` winsorised at the 10th and 90th
    percentiles (Spiegelhalter 2005, funnel plots with overdispersion). Limits:
    :math:`\exp(y_l \pm 1.96\sqrt{v_l + \tau^2})`.
    """
    if vintage not in (2011, 2021):
        raise GapInputError(f"vintage must be 2021 (LSOA 2021) or 2011 (LSOA 2011); got {vintage!r}")
    t = atlas.lsoa21 if vintage == 2021 else atlas.lsoa11
    res = t["residents"].to_numpy(float)
    reg = t["registered_patients"].to_numpy(float)
    national = reg.sum() / res.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = res * national
        rr = reg / expected
    if overdispersion:
        obs = np.maximum(reg, 0.5)
        y = np.log(obs / expected)
        v = 1 / obs
        ok = np.isfinite(y)
        tau2 = _dersimonian_laird(y[ok], v[ok])
        half = Z95 * np.sqrt(v + tau2)
        lower, upper = np.exp(y - half), np.exp(y + half)
        lower = np.where(reg == 0, 0.0, lower)
    else:
        lo, hi = byar_ci(reg)
        with np.errstate(divide="ignore", invalid="ignore"):
            lower, upper = np.asarray(lo) / expected, np.asarray(hi) / expected
    return pd.DataFrame({
        "lsoa_code": t["lsoa_code"].to_numpy(), "residents": t["residents"].to_numpy(),
        "registered_patients": t["registered_patients"].to_numpy(), "ratio": reg / res,
        "national_ratio": national, "relative_ratio": rr, "lower": lower, "upper": upper,
        "flag": upper < 1,
    })


def _dersimonian_laird(y: np.ndarray, v: np.ndarray) -> float:
    """Between-area variance of ``y`` beyond the within-area variances ``v`` (winsorised 10%/90%)."""
    lo, hi = np.quantile(y, [0.1, 0.9])
    yw = np.clip(y, lo, hi)
    w = 1 / v
    mean = (w * yw).sum() / w.sum()
    q = (w * (yw - mean) ** 2).sum()
    k = len(y)
    denom = w.sum() - (w**2).sum() / w.sum()
    return float(max(0.0, (q - (k - 1)) / denom))


# --------------------------------------------------------------------------------------------------
# Core20 reach and access
# --------------------------------------------------------------------------------------------------
def _icb_practices(atlas: Atlas, row: pd.Series) -> pd.DataFrame:
    p = atlas.practices
    p = p[(p["icb_code_nhs"] == row["icb_code_nhs"]) & p["pcn_code"].notna() & (p["pcn_code"] != UNALLOCATED_PCN)]
    return p


def core20_reach(atlas: Atlas, icb: Any, *, imd: int = 2025) -> pd.DataFrame:
    r"""Each PCN's share of the ICB's Core20 patients against its share of the ICB's patients.

    Parameters
    ----------
    atlas
        The loaded atlas.
    icb
        ONS code (E54…), NHS code (Q…), name, or an ICB row from :func:`targeting.areas.resolve_icb`.
    imd
        IMD edition of Core20 (national deciles 1–2): 2019 (LSOA 2011) or 2025 (LSOA 2021).

    Returns
    -------
    pandas.DataFrame
        One row per PCN with practices in the ICB: ``pcn_code, pcn_name, patients_known_lsoa,
        core20_patients, share_of_patients, share_of_core20, reach_index, reach_lower, reach_upper, flag``
        (``flag``: 'higher' / 'lower' / 'similar', the 95% interval against 1).

    Notes
    -----
    :math:`n_k` = the PCN's patients living in a known English LSOA; :math:`c_k` = those living in the
    ICB's Core20 LSOAs; :math:`N = \sum_k n_k`, :math:`C = \sum_k c_k` over the ICB's PCNs (Core20 residents
    registered outside the ICB are not counted). Reach index
    :math:`I_k = (c_k / C) / (n_k / N) = p_k / P` with :math:`p_k = c_k/n_k`, :math:`P = C/N`, so
    :math:`\sum_k n_k I_k / N = 1`. Limits: Wilson 95% limits of :math:`p_k` divided by :math:`P` (the ICB
    proportion treated as fixed). 1 = the PCN serves Core20 residents in proportion to its size.
    """
    from targeting.areas import lsoas_in, resolve_icb

    _, pre = _edition(imd)
    row = resolve_icb(atlas, icb)
    prac = _icb_practices(atlas, row)
    core = lsoas_in(atlas, row, imd=imd)
    core = set(core.loc[core[f"{pre}_core20"].astype(bool), "lsoa_code"])
    reg = _known_registrations(atlas, imd)
    reg = reg.merge(prac[["practice_code", "pcn_code"]], on="practice_code", how="inner")
    reg["core"] = reg["patients"].where(reg["lsoa_code"].isin(core), 0)
    g = reg.groupby("pcn_code").agg(patients_known_lsoa=("patients", "sum"), core20_patients=("core", "sum"))
    if g.empty:
        raise GapInputError(f"no practices with registrations in {row.get('icb_name', row['icb_code'])}")
    n_tot, c_tot = g["patients_known_lsoa"].sum(), g["core20_patients"].sum()
    g["share_of_patients"] = g["patients_known_lsoa"] / n_tot
    g["share_of_core20"] = g["core20_patients"] / c_tot if c_tot > 0 else np.nan
    big_p = c_tot / n_tot
    lo, hi = wilson_ci(g["core20_patients"].astype(float), g["patients_known_lsoa"].astype(float))
    if c_tot > 0:
        g["reach_index"] = g["share_of_core20"] / g["share_of_patients"]
        g["reach_lower"], g["reach_upper"] = lo / big_p, hi / big_p
        g["flag"] = significance(g["reach_lower"], g["reach_upper"], 1.0)
    else:  # an ICB with no Core20 LSOA: reach is undefined
        g["reach_index"] = g["reach_lower"] = g["reach_upper"] = np.nan
        g["flag"] = "not compared"
    names = atlas.pcns.drop_duplicates("pcn_code").set_index("pcn_code")["pcn_name"]
    g.insert(0, "pcn_name", names.reindex(g.index))
    return g.reset_index()[["pcn_code", "pcn_name", "patients_known_lsoa", "core20_patients", "share_of_patients",
                            "share_of_core20", "reach_index", "reach_lower", "reach_upper", "flag"]]


def _centroids(atlas: Atlas, imd: int, codes: pd.Series) -> pd.DataFrame:
    """Population-weighted centroid (27700) of each LSOA in ``codes`` (edition's vintage), and how it was got.

    LSOA 2021: the atlas's centroid (mean position of the LSOA's postcode units). LSOA 2011: an unchanged LSOA
    keeps its code, so its 2021 centroid applies; for a changed one, the resident-weighted mean of the 2021
    centroids that fall inside its polygon (a split's children); failing that, a point inside the polygon.
    """
    import geopandas as gpd
    import shapely

    l21 = atlas.lsoa21[["lsoa_code", "pw_e", "pw_n", "residents"]]
    if imd == 2025:
        out = pd.DataFrame({"lsoa_code": codes.to_numpy()}).merge(l21, on="lsoa_code", how="left")
        return out.drop(columns="residents").assign(centroid="population-weighted")
    l11 = atlas.lsoa11[atlas.lsoa11["lsoa_code"].isin(codes)]
    out = pd.DataFrame({"lsoa_code": l11["lsoa_code"].to_numpy()}).merge(l21, on="lsoa_code", how="left")
    out["centroid"] = np.where(out["pw_e"].notna(), "population-weighted", "point inside polygon")
    changed = out["pw_e"].isna().to_numpy()
    if changed.any():
        polys = gpd.GeoSeries(l11["geometry"].to_numpy()[changed], crs=l11.crs).to_crs(27700)
        pts = shapely.points(l21["pw_e"].to_numpy(float), l21["pw_n"].to_numpy(float))
        poly_i, pt_i = shapely.STRtree(pts).query(polys.to_numpy(), predicate="contains")
        w = l21["residents"].to_numpy(float)[pt_i]
        m = len(polys)
        tot = np.bincount(poly_i, weights=w, minlength=m)
        with np.errstate(invalid="ignore", divide="ignore"):
            e = np.bincount(poly_i, weights=w * l21["pw_e"].to_numpy(float)[pt_i], minlength=m) / tot
            n = np.bincount(poly_i, weights=w * l21["pw_n"].to_numpy(float)[pt_i], minlength=m) / tot
        found = tot > 0
        label = l11[["label_e", "label_n"]].to_numpy(float)[changed]
        rows = np.flatnonzero(changed)
        out.loc[rows, "pw_e"] = np.where(found, e, label[:, 0])
        out.loc[rows, "pw_n"] = np.where(found, n, label[:, 1])
        out.loc[rows, "centroid"] = np.where(found, "population-weighted (LSOA 2021 parts)", "point inside polygon")
    return out.drop(columns="residents")


def access(atlas: Atlas, icb: Any, *, imd: int = 2025) -> pd.DataFrame:
    r"""Distance from each Core20 LSOA of an ICB to the nearest practice and to its main PCN's nearest practice.

    Parameters
    ----------
    atlas
        The loaded atlas.
    icb
        ONS code, NHS code, name or ICB row.
    imd
        Core20 edition: 2025 (LSOA 2021) or 2019 (LSOA 2011).

    Returns
    -------
    pandas.DataFrame
        ``lsoa_code, lsoa_name, nearest_practice_code, nearest_practice_m, pcn_code, pcn_share,
        nearest_pcn_practice_code, nearest_pcn_practice_m, centroid, centroid_e, centroid_n``. ``pcn_code`` is
        the PCN whose practices hold most of the LSOA's registered patients (``pcn_share`` of them); distances
        are straight lines in metres (EPSG:27700) from the LSOA's population-weighted centroid
        (``centroid_e``, ``centroid_n``; ``centroid`` says how it was obtained, see Notes).

    Notes
    -----
    :math:`d = \sqrt{(e_l - e_p)^2 + (n_l - n_p)^2}`. Nearest practice: over every practice in England with a
    location (July 2022 main sites; branch surgeries are not in the data), so a practice across the ICB border
    counts. The majority PCN: :math:`\arg\max_k \sum_{p \in k} n_{pl}` over all PCNs ("Unallocated"
    excluded). Straight-line distance understates travel, most in rural areas and across rivers.
    For IMD 2019 (LSOA 2011) an unchanged LSOA uses its 2021 centroid; a changed one the resident-weighted mean
    of the 2021 centroids inside its polygon, else a point inside the polygon.
    """
    from scipy.spatial import cKDTree

    from targeting.areas import lsoas_in, resolve_icb

    _, pre = _edition(imd)
    row = resolve_icb(atlas, icb)
    lsoas = lsoas_in(atlas, row, imd=imd)
    lsoas = lsoas[lsoas[f"{pre}_core20"].astype(bool)][["lsoa_code", "lsoa_name"]]
    pts = lsoas.merge(_centroids(atlas, imd, lsoas["lsoa_code"]), on="lsoa_code", how="left")
    prac = atlas.practices[atlas.practices["easting"].notna() & atlas.practices["northing"].notna()]
    tree = cKDTree(prac[["easting", "northing"]].to_numpy(float))
    xy = pts[["pw_e", "pw_n"]].to_numpy(float)
    dist, idx = tree.query(xy) if len(xy) else (np.array([]), np.array([], dtype=int))
    pts["nearest_practice_code"] = prac["practice_code"].to_numpy()[idx] if len(xy) else []
    pts["nearest_practice_m"] = dist

    reg = _known_registrations(atlas, imd)
    reg = reg[reg["lsoa_code"].isin(pts["lsoa_code"])].merge(
        atlas.practices[["practice_code", "pcn_code"]], on="practice_code", how="inner")
    tot = reg.groupby("lsoa_code")["patients"].sum()  # every patient living there, any practice
    reg = reg[reg["pcn_code"].notna() & (reg["pcn_code"] != UNALLOCATED_PCN)]
    by = reg.groupby(["lsoa_code", "pcn_code"], as_index=False)["patients"].sum()
    by = by.sort_values(["lsoa_code", "patients", "pcn_code"], ascending=[True, False, True])
    top = by.drop_duplicates("lsoa_code").set_index("lsoa_code")
    pts["pcn_code"] = pts["lsoa_code"].map(top["pcn_code"])
    pts["pcn_share"] = pts["lsoa_code"].map(top["patients"] / tot.reindex(top.index))

    cand = pts[["lsoa_code", "pw_e", "pw_n", "pcn_code"]].merge(
        prac[["practice_code", "pcn_code", "easting", "northing"]], on="pcn_code", how="inner")
    cand["d"] = np.hypot(cand["pw_e"] - cand["easting"], cand["pw_n"] - cand["northing"])
    best = cand.sort_values(["lsoa_code", "d"]).drop_duplicates("lsoa_code").set_index("lsoa_code")
    pts["nearest_pcn_practice_code"] = pts["lsoa_code"].map(best["practice_code"])
    pts["nearest_pcn_practice_m"] = pts["lsoa_code"].map(best["d"])
    pts = pts.rename(columns={"pw_e": "centroid_e", "pw_n": "centroid_n"})
    return pts[["lsoa_code", "lsoa_name", "nearest_practice_code", "nearest_practice_m", "pcn_code", "pcn_share",
                "nearest_pcn_practice_code", "nearest_pcn_practice_m", "centroid", "centroid_e",
                "centroid_n"]].sort_values(
        "lsoa_code").reset_index(drop=True)
