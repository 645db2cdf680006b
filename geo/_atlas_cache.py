"""Reading the atlas cache: its tables, a registration month's view of them, and damage named as such."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from geo.files import DamagedCacheError

#: The tables stored with geometry (GeoParquet).
_GEO_TABLES = ("lsoa21", "lsoa11", "practices")


def _damaged(path: Path, exc: Exception) -> DamagedCacheError:
    return DamagedCacheError(f"{path} cannot be read ({type(exc).__name__}: {str(exc)[:160]}): the atlas cache is "
                             "damaged; run `python -m targeting build` to rebuild it.")


def _read_table(folder: Path, name: str, *, geometry: bool) -> pd.DataFrame:
    path = folder / f"{name}.parquet"
    try:
        return _read_parquet(path, name, geometry=geometry)
    except (OSError, ValueError, TypeError, KeyError) as exc:  # pyarrow's errors are OSError or ValueError
        raise _damaged(path, exc) from None


def _read_parquet(path: Path, name: str, *, geometry: bool) -> pd.DataFrame:
    if name not in _GEO_TABLES:
        return pd.read_parquet(path)
    if geometry:
        import geopandas as gpd

        return gpd.read_parquet(path)
    import pyarrow.parquet as pq  # attributes only: decoding ~70,000 polygons is most of the load time

    cols = [c for c in pq.read_schema(path).names if not c.startswith("geometry")]
    return pd.read_parquet(path, columns=cols)


#: Tables a registration month replaces, and the columns of the LSOA tables that follow the month's NHS.
_MONTH_TABLES = ("practices", "pcns", "icbs", "registrations11", "registrations21")
_MONTH_HISTORY = ("icb_history", "pcn_history", "divided")
_NHS_COLS = ("sicbl_code", "sicbl_code_nhs", "sicbl_name", "icb_code", "icb_code_nhs", "icb_name",
             "registered_patients")


def _month_folder(folder: Path, month: str | None) -> Path | None:
    return None if month is None else folder / "months" / month


def _read_month_table(folder: Path, month: str | None, name: str, *, geometry: bool) -> pd.DataFrame:
    """A table as the month sees it: its own table, or the base table with the month's NHS columns."""
    mf = _month_folder(folder, month)
    if mf is None:
        return _read_table(folder, name, geometry=geometry)
    if name in _MONTH_TABLES or name in _MONTH_HISTORY:
        table = _read_table(mf, name, geometry=geometry)
        if name == "practices" and not geometry:
            table = pd.DataFrame(table.drop(columns=[c for c in table.columns if c.startswith("geometry")]))
        return table
    table = _read_table(folder, name, geometry=geometry)
    if name in ("lsoa21", "lsoa11"):
        nhs = _read_table(mf, f"{name}_nhs", geometry=False).set_index("lsoa_code")
        codes = table["lsoa_code"].to_numpy()
        for col in (*_NHS_COLS, "nhs_source"):
            if col in nhs:
                table[col] = nhs[col].reindex(codes).to_numpy()
        table["registered_patients"] = table["registered_patients"].fillna(0).astype("int64")
    return table
