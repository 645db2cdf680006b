"""Download the catalogued official datasets into the raw-data folder, safely.

``python -m targeting fetch`` calls :func:`fetch`; ``python -m targeting fetch --from DIR`` calls
:func:`ingest`. Both fill ``dest`` (default :func:`geo.paths.raw_dir`) with the same layout as
:data:`geo.sources.SOURCES` ``relpath``, so the readers find a fresh download and the bundled copy alike.

Guarantees
----------
* Nothing partial or corrupt ever sits at a catalogued path: each file is written to a hidden temporary
  file in the same folder (``.<random>.part.<name>``), checked, then moved into place with
  :func:`geo.files.move_into_place`. On any failure the temporary file is removed and an earlier good file is left as it
  was. Temporary files left by a killed run are removed by the next run.
* Checks: the byte count equals ``Content-Length``; a ``.zip``/``.xlsx`` opens and passes
  :meth:`zipfile.ZipFile.testzip`; a ``.gz`` decompresses to the end; a ``.gpkg`` starts with the SQLite
  header; an HTML page served instead of data is refused.
* ``dest/manifest.json`` maps each source key to ``{"path", "sha256", "size", "url", "fetched_at"}``
  (UTC, ISO 8601); it is merged with earlier entries and replaced atomically. A file whose sha256 already
  matches its entry is not downloaded again unless ``force``.
* An exclusive lock (:func:`geo.files.file_lock`) on ``dest/.fetch.lock`` is held for the whole run, so two fetches at
  once wait for each other instead of mixing their files.

Format conversion
-----------------
Some publishers serve a different form than the catalogue stores:

* the catalogue wants ``.csv.gz`` (or ``.csv``) and a ``.zip`` is served (Nomis bulk census zips, NHS
  Digital zips): the member is chosen by :func:`geo.fetch.formats._pick_member` — the ``.csv`` whose name shares
  most words with the catalogue file name (so ``census2021-ts021-lsoa.csv`` for an ``…_lsoa21_ew.csv.gz``), the
  largest on a tie — and gzipped (or copied) into place;
* ``.csv.gz`` wanted and a plain CSV served: it is gzipped;
* ``.xlsx`` wanted and a zip holding a workbook served: the workbook is extracted.

Gzip output is written with ``mtime=0`` so the same content always has the same sha256.

Newest editions
---------------
``python -m targeting fetch --latest`` calls :func:`fetch_latest`: resolvers read each publisher's own page (NHS
England's "Patients Registered at a GP Practice" and QOF series pages, :data:`LANDING_PAGES`) or ODS's report API to
find the newest edition (:func:`resolve_latest`), and each file found goes through the same download, conversion and
checks as a catalogued one, with its kind's reader and row count. ``python -m targeting sources --check`` calls
:func:`check_latest`.

Row counts (issue 24)
---------------------
* A catalogued edition (``fetch``, ``fetch --from``, or a ``--latest`` edition that is the catalogued one) has
  exactly its catalogued rows (:data:`geo.inputs.EXPECTED_ROWS`), so a practice map cut at a line end, with no
  Content-Length or a matching short one, is refused.
* A file that replaces an earlier one of the same kind and edition keeps its row count within 0.1%
  (:data:`geo.inputs.REPLACEMENT_TOLERANCE`), and never has fewer rows unless ``allow_shrink``
  (``fetch --allow-shrink``).
* A newer edition is compared with the nearest edition of its kind whose count is known (an earlier ``--latest``
  edition recorded in the manifest, or the catalogued one), within :func:`geo.inputs.newer_edition_tolerance` of
  the months between them (1% a month, at least 2%, at most 25%): a new month has other practices. A first
  download of a new month cut by a row or two at a line end cannot be told by its count; fetching it again
  (the replacement rule) can.

ArcGIS layers (``kind == "arcgis"``) are queried page by page (``resultOffset``/``resultRecordCount``,
following ``exceededTransferLimit``) and written as a GeoPackage (EPSG:4326) or, for lookups, as the
gzipped CSV of the attribute table. ONS column names (``LSOA21CD``…) are kept as published. If a
``CORE20_URL_<KEY>`` override of such a source names a data file (``….gpkg``, ``….zip``, ``….csv.gz``…)
instead of a layer, that file is downloaded like any other.
"""

from geo.fetch.catalogue import fetch, ingest
from geo.fetch.latest import check_latest, fetch_latest
from geo.fetch.report import FetchResult, ProgressCallback, format_results
from geo.fetch.resolvers import LANDING_PAGES, RESOLVERS, Release, Resolved, landing_url, resolve_latest

__all__ = ["LANDING_PAGES", "RESOLVERS", "FetchResult", "ProgressCallback", "Release", "Resolved", "check_latest",
           "fetch", "fetch_latest", "format_results", "ingest", "landing_url", "resolve_latest"]
