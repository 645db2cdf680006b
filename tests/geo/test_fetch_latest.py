"""``fetch --latest`` and ``sources --check`` against publisher pages served from a local server on 127.0.0.1.

Which is which:

* **pages** — ``fixtures/publisher_pages/``: made in the publisher's documented layout (the digital.nhs.uk templates
  ``series.ftl`` and ``publication.ftl`` of NHS-digital-website/hippo), because no saved copy of their full HTML
  could be found; the **file links on them are the real ones** recorded by public projects where a record exists
  (July 2026, April 2025, QOF 2024-25 and 2023-24) and marked ``files.digital.nhs.uk/made/…`` where none does
  (April 2026). The README there lists each.
* **files** — the real publications of ``../shared/data`` byte for byte (July 2026 practice map and quin-age, QOF
  2024-25 prevalence, epraccur February 2026), except: the ePCN reports are the two sheets of the real October 2024
  workbook written as the ODS API serves them (headerless CSV); the LSOA-level file (no real one after July 2022 is
  bundled) is real July 2022 rows in the PDS-era layout (``SEX``, ``CLOSED``/``EMPTY`` rows); the QOF zip holds the
  real prevalence CSV beside two small made members.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from geo.fetch import check_latest, fetch_latest, resolve_latest
from geo.fetch import http as fetch_http
from tests.geo._fetch_server import DATA, LocalServer, Route

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"bundled data folder {DATA} is absent")

PAGES = Path(__file__).parent / "fixtures" / "publisher_pages"
GP = "/data-and-information/publications/statistical/patients-registered-at-a-gp-practice"
QOF = "/data-and-information/publications/statistical/quality-and-outcomes-framework-achievement-prevalence-and-" \
      "exceptions-data"
TODAY = datetime(2026, 12, 7, tzinfo=UTC)
MAP_2026 = DATA / "gp/gp-reg-pat-prac-map_2026-07.zip"
QUIN_2026 = DATA / "gp/gp-reg-pat-prac-quin-age_2026-07.zip"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    """The bodies the local 'files.digital.nhs.uk' and ODS API serve (see the module docstring)."""
    lines = gzip.decompress((DATA / "gp/gp_reg_pat_prac_lsoa_all_2022-07.csv.gz").read_bytes()).decode().splitlines()
    rows = [r.split(",") for r in lines[1:3001]]
    head = "PUBLICATION,EXTRACT_DATE,PRACTICE_CODE,PRACTICE_NAME,LSOA_CODE,SEX,NUMBER_OF_PATIENTS\n"
    body = "".join(f"GP_LSOA,01APR2026,{p},{n},{code},ALL,{k}\n" for p, n, code, k in rows)
    body += "GP_LSOA,01APR2026,A81001,THE DENSHAM SURGERY,CLOSED,ALL,11\nGP_LSOA,01APR2026,A81002,X,EMPTY,ALL,2\n"
    workbook = pd.read_excel(DATA / "gp/ePCN_2024-10.xlsx", sheet_name=None, dtype=str)
    return {
        "map": MAP_2026.read_bytes(),
        "quin": QUIN_2026.read_bytes(),
        "lsoa": _zip({"gp-reg-pat-prac-lsoa-male.csv": (head + body.replace(",ALL,", ",MALE,")).encode(),
                      "gp-reg-pat-prac-lsoa-all.csv": (head + body).encode()}),
        "lsoa_rows": str(len(rows) + 2).encode(),
        "qof_prevalence": gzip.decompress((DATA / "gp/qof/QOF_2024-25_PREVALENCE_2425.csv.gz").read_bytes()),
        "epraccur": gzip.decompress((DATA / "gp/epraccur_2026-02.csv.gz").read_bytes()),
        "epcn": workbook["PCNDetails"].to_csv(index=False, header=False, quoting=1).encode(),
        "epcncorepartnerdetails": workbook["PCN Core Partner Details"].to_csv(index=False, header=False,
                                                                             quoting=1).encode(),
    }


def _page(server: LocalServer, name: str) -> bytes:
    return (PAGES / name).read_bytes().replace(b"https://files.digital.nhs.uk", server.url("/files").encode())


@pytest.fixture
def publisher(files, monkeypatch, tmp_path):
    """A local digital.nhs.uk (series and month pages, files) and ODS API, and the tool pointed at them."""
    srv = LocalServer()
    qof_zip = _zip({"ACHIEVEMENT_LONDON_2425.csv": b"PRACTICE_CODE,INDICATOR_CODE,MEASURE,VALUE\nF81001,DM019,x,1\n",
                    "PREVALENCE_2425.csv": files["qof_prevalence"],
                    "MAPPING_NHS_GEOGRAPHIES_2425.csv": b"PRACTICE_CODE,PCN_ODS_CODE\nA81001,U89141\n"})
    pages = {GP: "gp_reg_series.html", f"{GP}/july-2026": "gp_reg_july-2026.html",
             f"{GP}/june-2026": "gp_reg_june-2026.html", f"{GP}/april-2026": "gp_reg_april-2026.html",
             f"{GP}/april-2025": "gp_reg_april-2025.html", QOF: "qof_series.html",
             f"{QOF}/2024-25": "qof_2024-25.html", f"{QOF}/2023-24": "qof_2023-24.html"}
    for path, name in pages.items():
        srv.routes[path] = Route(_page(srv, name))
    srv.routes.update({
        "/files/98/8142DB/gp-reg-pat-prac-map.zip": Route(files["map"]),
        "/files/BB/362F1A/gp-reg-pat-prac-quin-age.zip": Route(files["quin"]),
        "/files/made/A2/gp-reg-pat-prac-lsoa-2021-male-female-Apr-26.zip": Route(files["lsoa"]),
        "/files/95/4708D7/QOF2425.zip": Route(qof_zip),
        "/api/getReport": Route(lambda q: files.get(q.get("report", ""), b"")),
    })
    monkeypatch.setenv("CORE20_URL_GP_REG_PAGE", srv.url(GP))
    monkeypatch.setenv("CORE20_URL_QOF_PAGE", srv.url(QOF))
    monkeypatch.setenv("CORE20_URL_ODS_API", srv.url("/api/getReport"))
    monkeypatch.setenv("CORE20_RAW", str(tmp_path / "raw"))
    monkeypatch.setenv("CORE20_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("CORE20_DATA", raising=False)  # data/raw (fetched) before ../shared/data
    monkeypatch.setattr(fetch_http, "_BACKOFF", 0.0)
    # The LSOA-level file served is an extract: its row check is scaled to the extract (the reader and columns
    # checks are the real ones).
    from geo import inputs

    monkeypatch.setitem(inputs.EXPECTED_ROWS, "gp_reg_lsoa", int(files["lsoa_rows"]))
    try:
        yield srv
    finally:
        srv.close()


def test_resolvers_find_the_newest_editions_on_the_pages(publisher):
    found = {r.resolver: r for r in resolve_latest(today=TODAY)}
    assert all(r.problem is None for r in found.values()), [r.problem for r in found.values()]
    gp = {e.kind: e for e in found["gp_registrations"].editions}
    base = publisher.url("/files")
    assert (gp["map"].edition, gp["map"].url) == ("2026-07", f"{base}/98/8142DB/gp-reg-pat-prac-map.zip")
    assert (gp["quin_age"].edition, gp["quin_age"].url) == ("2026-07", f"{base}/BB/362F1A/gp-reg-pat-prac-quin-age.zip")
    # July 2026's page has no LSOA-level file, June 2026 is a placeholder, May 2026 is missing (404): April 2026's
    assert (gp["lsoa"].edition, gp["lsoa"].title) == ("2026-04", "April 2026")
    assert gp["lsoa"].url.endswith("/made/A2/gp-reg-pat-prac-lsoa-2021-male-female-Apr-26.zip")
    assert [gp[k].relpath for k in ("map", "quin_age", "lsoa")] == [
        "gp/gp-reg-pat-prac-map_2026-07.zip", "gp/gp-reg-pat-prac-quin-age_2026-07.zip",
        "gp/gp_reg_pat_prac_lsoa_all_2026-04.csv.gz"]
    assert gp["map"].page == publisher.url(f"{GP}/july-2026")
    assert publisher.hits[f"{GP}/august-2026"] == 0 and publisher.hits[f"{GP}/september-2026"] == 0  # upcoming
    assert publisher.hits[f"{GP}/april-2025"] == 0  # it stops at the newest LSOA-level file
    assert found["gp_registrations"].notes == (
        f"May 2026 skipped: the publisher answered HTTP 404 Not Found for {publisher.url(GP)}/may-2026",)
    (qof,) = found["qof"].editions
    assert (qof.edition, qof.title, qof.url) == ("2024-25", "QOF 2024-25", f"{base}/95/4708D7/QOF2425.zip")
    assert qof.relpath == "gp/qof/QOF_2024-25_PREVALENCE_2425.csv.gz"
    assert publisher.hits[f"{QOF}/2025-26"] == 0  # upcoming
    ods = {e.kind: e for e in found["ods"].editions}
    assert (ods["epraccur"].edition, ods["epraccur"].relpath) == ("2026-12", "gp/epraccur_2026-12.csv.gz")
    assert ods["epcn"].relpath == "gp/ePCN_2026-12.zip"
    assert [name for name, _ in ods["epcn"].parts] == ["epcn.csv", "epcncorepartnerdetails.csv"]


def test_april_2025_prefers_the_lsoa_2021_file(publisher):
    # In 2024-25 each quarter had an LSOA 2011 and an LSOA 2021 file; the 2021 one is taken.
    series = (PAGES / "gp_reg_series.html").read_text()
    for month in ("july-2026", "june-2026", "may-2026", "april-2026"):
        series = series.replace(f"{GP}/{month}\"", f"/elsewhere/{month}\"")
    publisher.routes[GP] = Route(series.encode())
    (gp,) = resolve_latest(["gp_registrations"], today=TODAY)
    found = {e.kind: e.url for e in gp.editions}
    assert gp.problem is None and {e.edition for e in gp.editions} == {"2025-04"}
    assert found["lsoa"].endswith("/7E/26EB57/gp-reg-pat-prac-lsoa-2021-male-female-Apr-25.zip")
    assert found["map"].endswith("/E2/1DCD29/gp-reg-pat-prac-map.zip")
    assert found["quin_age"].endswith("/43/1AEFAA/gp-reg-pat-prac-quin-age.zip")


def test_fetch_latest_downloads_checks_and_records_each_edition(publisher, files, tmp_path):
    from geo.months import discover
    from geo.readers import read_epcn, read_gp_registrations, unknown_lsoa_patients

    dest = tmp_path / "raw"
    results = fetch_latest(dest=dest, progress=False, today=TODAY)
    assert [r.key for r in results] == ["gp_reg_map@2026-07", "gp_reg_quin_age@2026-07", "gp_reg_lsoa@2026-04",
                                        "qof_prevalence@2024-25", "epraccur@2026-12", "epcn@2026-12"]
    assert all(r.ok for r in results), [r.message for r in results]
    # the files keep the publishers' bytes, under the names geo.months finds
    assert _sha((dest / "gp/gp-reg-pat-prac-map_2026-07.zip").read_bytes()) == _sha(files["map"])
    assert _sha((dest / "gp/gp-reg-pat-prac-quin-age_2026-07.zip").read_bytes()) == _sha(files["quin"])
    found = discover()
    assert found["2026-07"].map == dest / "gp/gp-reg-pat-prac-map_2026-07.zip"
    assert found["2026-07"].quin_age == dest / "gp/gp-reg-pat-prac-quin-age_2026-07.zip"
    assert found["2026-04"].lsoa == dest / "gp/gp_reg_pat_prac_lsoa_all_2026-04.csv.gz"
    reg = read_gp_registrations(found["2026-04"].lsoa)  # the all-persons member, not the male one
    no2011 = int(reg.loc[reg["lsoa_code"] == "NO2011", "patients"].sum())  # real July 2022 rows: 70 patients
    assert unknown_lsoa_patients(reg) == {"CLOSED": 11, "EMPTY": 2, "NO2011": no2011} and no2011 == 70
    assert gzip.decompress((dest / "gp/qof/QOF_2024-25_PREVALENCE_2425.csv.gz").read_bytes()) == files["qof_prevalence"]
    assert gzip.decompress((dest / "gp/epraccur_2026-12.csv.gz").read_bytes()) == files["epraccur"]
    with zipfile.ZipFile(dest / "gp/ePCN_2026-12.zip") as zf:
        assert zf.read("epcn.csv") == files["epcn"]
        assert zf.read("epcncorepartnerdetails.csv") == files["epcncorepartnerdetails"]
    assert len(read_epcn(dest / "gp/ePCN_2026-12.zip")[1]) == 6_224
    # the manifest names each edition, where it was found and what the build's reader counted
    manifest = json.loads((dest / "manifest.json").read_text())
    entry = manifest["gp_reg_map@2026-07"]
    assert (entry["edition"], entry["edition_title"], entry["resolver"], entry["kind"], entry["rows"]) == (
        "2026-07", "July 2026", "gp_registrations", "map", 6_139)
    assert entry["page"] == publisher.url(f"{GP}/july-2026") and entry["path"] == "gp/gp-reg-pat-prac-map_2026-07.zip"
    assert manifest["qof_prevalence@2024-25"]["rows"] == 129_948 and manifest["epraccur@2026-12"]["rows"] == 15_389
    assert manifest["epcn@2026-12"]["parts"]["epcncorepartnerdetails.csv"].endswith("report=epcncorepartnerdetails")
    # a second run downloads nothing
    hits = publisher.hits["/files/98/8142DB/gp-reg-pat-prac-map.zip"]
    again = fetch_latest(dest=dest, progress=False, today=TODAY)
    assert all(r.ok and "up to date" in r.message for r in again)
    assert publisher.hits["/files/98/8142DB/gp-reg-pat-prac-map.zip"] == hits


def test_a_cut_or_wrong_file_is_refused_and_nothing_recorded(publisher, files, tmp_path):
    dest = tmp_path / "raw"
    # the map is cut short (its announced length is the whole file's); the quin-age file lacks ORG_CODE
    publisher.routes["/files/98/8142DB/gp-reg-pat-prac-map.zip"] = Route(files["map"][:40_000],
                                                                         length=len(files["map"]))
    quin = zipfile.ZipFile(io.BytesIO(files["quin"]))
    name = quin.namelist()[0]
    half = quin.read(name).splitlines(keepends=True)
    publisher.routes["/files/BB/362F1A/gp-reg-pat-prac-quin-age.zip"] = Route(
        _zip({name: b"".join(half[:1]).replace(b"ORG_CODE", b"ORGANISATION") + b"".join(half[1:2000])}))
    res = {r.key: r for r in fetch_latest(["gp_registrations"], dest=dest, progress=False, retries=0, today=TODAY)}
    assert not res["gp_reg_map@2026-07"].ok and "truncated at 40,000 of" in res["gp_reg_map@2026-07"].message
    assert not res["gp_reg_quin_age@2026-07"].ok
    assert "fails the build's checks" in res["gp_reg_quin_age@2026-07"].message
    assert "org_code" in res["gp_reg_quin_age@2026-07"].message
    assert res["gp_reg_lsoa@2026-04"].ok  # one bad file does not stop the others
    assert not (dest / "gp/gp-reg-pat-prac-map_2026-07.zip").exists()
    assert not (dest / "gp/gp-reg-pat-prac-quin-age_2026-07.zip").exists()
    manifest = json.loads((dest / "manifest.json").read_text())
    assert set(manifest) == {"gp_reg_lsoa@2026-04"}
    assert not [p for p in (dest / "gp").iterdir() if ".part." in p.name]


def test_a_map_with_a_third_of_its_rows_is_refused(publisher, files, tmp_path):
    with zipfile.ZipFile(io.BytesIO(files["map"])) as zf:
        name = zf.namelist()[0]
        lines = zf.read(name).splitlines(keepends=True)
    publisher.routes["/files/98/8142DB/gp-reg-pat-prac-map.zip"] = Route(_zip({name: b"".join(lines[:2000])}))
    (res, *_) = fetch_latest(["gp_registrations"], dest=tmp_path / "raw", progress=False, retries=0, today=TODAY)
    assert not res.ok and "1,999 data rows, more than 25% away from the 6,845" in res.message


def test_a_page_of_another_shape_is_one_clear_problem(publisher):
    publisher.routes[GP] = Route(b'{"not": "a page"}')
    publisher.routes[f"{QOF}/2024-25"] = Route(b"<html><body><p>moved</p></body></html>")
    publisher.routes[f"{QOF}/2023-24"] = Route(b"", status=500)
    gp, qof = resolve_latest(["gp_registrations", "qof"], today=TODAY, retries=0)
    assert gp.problem == (f"no link to a month's publication (…/patients-registered-at-a-gp-practice/<month>-<year>) "
                          f"on {publisher.url(GP)}")
    assert qof.problem.startswith(f"none of the newest 3 year pages linked from {publisher.url(QOF)} has a raw-data "
                                  "zip")
    assert "QOF 2024-25 skipped: its page has no raw-data zip (QOF2425.zip)" in qof.problem
    assert f"QOF 2023-24 skipped: the publisher answered HTTP 500 Internal Server Error for {publisher.url(QOF)}" \
        in qof.problem


def _build_json(cache: Path, months: dict[str, str]) -> None:
    (cache / "atlas").mkdir(parents=True)
    inputs = {"gp_reg_lsoa": {"path": str(DATA / "gp/gp_reg_pat_prac_lsoa_all_2022-07.csv.gz")},
              "gp_reg_map": {"path": str(DATA / "gp/gp-reg-pat-prac-map_2022-07.csv")},
              "qof_2223": {"path": str(DATA / "gp/qof/QOF_2022-23_PREVALENCE_2223.csv.gz")},
              "qof_2021": {"path": str(DATA / "gp/qof/QOF_2020-21_PREVALENCE_2021_v2.csv")},
              "epraccur": {"path": str(DATA / "gp/epraccur_2023-01.csv")},
              "epcn": {"path": str(DATA / "gp/ePCN_2023-01.xlsx")}}
    regs = {"base": "2022-07", "months": {m: {"lsoa_month": lsoa} for m, lsoa in months.items()}}
    (cache / "atlas" / "build.json").write_text(json.dumps({"inputs": inputs, "registrations": regs}))


def test_sources_check_says_what_is_newer_than_the_atlas(publisher, tmp_path, capsys):
    from targeting.cli import main

    _build_json(tmp_path / "cache", {})
    assert main(["sources", "--check"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    gp, qof, ods = lines
    # July 2026's map and quin-age are bundled in ../shared/data: found, not yet in this atlas
    assert gp.startswith("gp_registrations: newer upstream: July 2026 practice map and list sizes (atlas built from "
                         "July 2022; found in the data folders, not yet built: run python -m targeting build)")
    assert "newer LSOA-level file: April 2026, the atlas's shares are July 2022" in gp
    assert qof == ("qof: newer upstream: QOF 2024-25 (atlas built from QOF 2020-21, QOF 2022-23); run python -m "
                   "targeting fetch --latest qof")
    assert ods == ("ods: reports are made on request: today's epraccur and ePCN (" + _this_month() + ") are newer "
                   "than the atlas's (epraccur January 2023, ePCN January 2023); run python -m targeting fetch "
                   "--latest ods")


def _this_month() -> str:
    from geo.months import month_title

    return month_title(datetime.now(UTC).strftime("%Y-%m"))


def test_sources_check_up_to_date_when_the_atlas_has_the_month(publisher, tmp_path):
    _build_json(tmp_path / "cache", {"2026-07": "2026-04"})
    gp = check_latest(["gp_registrations"], today=TODAY)
    assert gp == ["gp_registrations: up to date: July 2026 is the newest month upstream and the atlas has it; "
                  "LSOA-level file: April 2026 upstream, the atlas has April 2026; months in the data folders: "
                  f"{_local_months()}"]


def _local_months() -> str:
    from geo.months import discover

    return ", ".join(sorted(m for m, f in discover().items() if f.usable))


def test_no_internet_gives_one_line_per_publisher(monkeypatch, tmp_path, capsys):
    from targeting.cli import main

    for name in ("GP_REG_PAGE", "QOF_PAGE", "ODS_API"):  # port 9 on this machine: nothing listens
        monkeypatch.setenv(f"CORE20_URL_{name}", f"http://127.0.0.1:9/{name.lower()}")
    monkeypatch.setenv("CORE20_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(fetch_http, "_BACKOFF", 0.0)
    assert main(["sources", "--check", "--timeout", "5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["gp_registrations", "qof", "ods"]
    assert all(": could not reach the publisher: could not connect:" in line for line in lines), lines
    assert lines[0].endswith("— http://127.0.0.1:9/gp_reg_page")
    assert main(["fetch", "--latest", "--dest", str(tmp_path / "raw"), "--timeout", "5"]) == 1
    err = capsys.readouterr().err
    assert "FAIL  gp_registrations: could not reach the publisher" in err and "0 ok, 4 failed" in err
    assert not (tmp_path / "raw" / "manifest.json").exists()


def test_unknown_resolver_is_refused(tmp_path, capsys):
    from targeting.cli import main

    assert main(["fetch", "--latest", "nhs_everything", "--dest", str(tmp_path)]) == 2
    assert "unknown resolver(s) nhs_everything; known: gp_registrations, qof, ods" in capsys.readouterr().err


def test_sources_lists_the_registration_months_and_their_files(monkeypatch, tmp_path, capsys, data_dir):
    from targeting.cli import main

    raw = tmp_path / "raw"
    (raw / "gp").mkdir(parents=True)
    for name in ("gp_reg_pat_prac_lsoa_all_2026-04.csv.gz", "gp-reg-pat-prac-map_2026-09.csv"):
        (raw / "gp" / name).write_bytes(b"x")  # months are found by name; nothing here is read
    monkeypatch.setenv("CORE20_RAW", str(raw))
    monkeypatch.setenv("CORE20_DATA", str(data_dir))
    monkeypatch.delenv("CORE20_REGISTRATIONS", raising=False)
    assert main(["sources"]) == 0
    out = capsys.readouterr().out
    months = out[out.index("Registration months found"):].splitlines()
    assert months[0] == "Registration months found (--registrations YYYY-MM; default 2026-07):"
    listed = {line.split()[0]: line.split(None, 1)[1] for line in months[1:] if not line.startswith(" ")}
    assert listed["2022-07"] == "usable; base month: the LSOA-level registrations of the catalogue"
    assert listed["2026-07"] == "usable"  # the bundled July 2026 map and quin-age
    assert listed["2026-04"] == "LSOA-level file only (where patients live, for the months after it)"
    assert listed["2026-09"] == "not usable (needs a practice map and list sizes)"
    assert f"lsoa      {raw / 'gp/gp_reg_pat_prac_lsoa_all_2026-04.csv.gz'}" in out
    assert f"quin_age  {DATA / 'gp/gp-reg-pat-prac-quin-age_2026-07.zip'}" in out
