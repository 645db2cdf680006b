"""Catalogue of the official datasets the tool reads.

Each :class:`Source` names one published file: where its publisher puts it, what edition and geography it
describes, its licence and the attribution a figure built from it must carry. ``relpath`` is where the file
lives inside a data folder (``$CORE20_DATA``, ``data/raw/`` or ``../shared/data``); the layout is the same in
all three so one reader serves a fresh download and the bundled copy alike.

The URLs can be overridden without editing code: ``CORE20_URL_<KEY>`` (key upper-cased) replaces one URL,
which is how the tests point ``fetch`` at a local server.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

__all__ = ["OGL", "OS_ATTRIBUTION", "SOURCES", "Source", "attribution_for", "catalogue_markdown", "source_url"]

OGL = "Open Government Licence v3.0"
OS_ATTRIBUTION = "Contains OS data © Crown copyright and database right 2021"
_ONS = "Source: Office for National Statistics licensed under the Open Government Licence v3.0"
_NHS = "Contains information from NHS England, licensed under the current version of the Open Government Licence"
_MHCLG = "Contains public sector information licensed under the Open Government Licence v3.0 (MHCLG)"

_GOV = "https://assets.publishing.service.gov.uk"
_ARC = "https://services1.arcgis.com/ESMARspQHYMw9BZ9/arcgis/rest/services"
_NOMIS = "https://www.nomisweb.co.uk/output/census/2021"


@dataclass(frozen=True)
class Source:
    """One official published file.

    Attributes
    ----------
    key
        Short identifier used in code, messages and ``CORE20_URL_<KEY>`` overrides.
    relpath
        Path of the file inside a data folder.
    title
        The publisher's title for the dataset.
    publisher
        Organisation that publishes it.
    edition
        Edition or release, e.g. ``"IoD 2019"`` or ``"July 2022"``.
    geography
        Geography and vintage of its rows, e.g. ``"LSOA 2011"``.
    url
        Official download URL. ``kind == "arcgis"`` means a FeatureServer layer queried page by page.
    kind
        ``"file"`` for a plain download, ``"arcgis"`` for a paged FeatureServer query.
    required
        Whether the national atlas cannot be built without it.
    attribution
        Lines a figure built from this file must show.
    page
        Landing page where a person can download it by hand.
    manual
        The publisher offers no stable direct link (a custom-dataset builder or a landing page); ``fetch``
        explains how to get it by hand and ingest it with ``fetch --from``.
    """

    key: str
    relpath: str
    title: str
    publisher: str
    edition: str
    geography: str
    url: str
    kind: str = "file"
    required: bool = True
    attribution: tuple[str, ...] = field(default_factory=tuple)
    page: str = ""
    manual: bool = False


SOURCES: dict[str, Source] = {
    s.key: s
    for s in [
        Source(
            "imd2019", "imd/imd2019_lsoa11_file7_assembled.csv.gz",
            "English Indices of Deprivation 2019, File 7: all ranks, scores, deciles and population denominators",
            "MHCLG", "IoD 2019", "LSOA 2011",
            f"{_GOV}/media/5dc407b440f0b6379a7acc8d/"
            "File_7_-_All_IoD2019_Scores__Ranks__Deciles_and_Population_Denominators_3.csv",
            attribution=(_MHCLG,),
            page="https://www.gov.uk/government/statistics/english-indices-of-deprivation-2019",
        ),
        Source(
            "imd2025", "imd/imd2025_lsoa21_ranks_scores_deciles.csv.gz",
            "English Indices of Deprivation 2025, File 7: all ranks, scores, deciles and population denominators",
            "MHCLG", "IoD 2025", "LSOA 2021",
            f"{_GOV}/media/68ff5daabcb10f6bf9bef911/"
            "File_7_IoD2025_All_Ranks_Scores_Deciles_Population_Denominators.csv",
            attribution=(_MHCLG,),
            page="https://www.gov.uk/government/statistics/english-indices-of-deprivation-2025",
        ),
        Source(
            "lsoa21_boundaries", "boundaries/lsoa21_bsc_ew_wgs84.gpkg",
            "Lower layer Super Output Areas (December 2021) Boundaries EW BSC (V4)",
            "ONS", "December 2021", "LSOA 2021",
            f"{_ARC}/Lower_layer_Super_Output_Areas_December_2021_Boundaries_EW_BSC_V4/FeatureServer/0",
            kind="arcgis", attribution=(_ONS, OS_ATTRIBUTION),
            page="https://geoportal.statistics.gov.uk/",
        ),
        Source(
            "lsoa11_boundaries", "boundaries/lsoa11_bsc_ew_wgs84.gpkg",
            "Lower Layer Super Output Areas (December 2011) Boundaries Super Generalised Clipped (BSC) EW V3",
            "ONS", "December 2011", "LSOA 2011",
            f"{_ARC}/LSOA_Dec_2011_Boundaries_Super_Generalised_Clipped_BSC_EW_V3/FeatureServer/0",
            kind="arcgis", attribution=(_ONS, OS_ATTRIBUTION),
            page="https://geoportal.statistics.gov.uk/",
        ),
        Source(
            "icb_boundaries", "boundaries/icb22_simplified_en_wgs84.gpkg",
            "Integrated Care Boards (July 2022) EN BUC (V3)", "ONS", "July 2022", "ICB 2022",
            f"{_ARC}/ICB_JUL_2022_EN_BUC_V3/FeatureServer/0", kind="arcgis", required=False,
            attribution=(_ONS, OS_ATTRIBUTION), page="https://geoportal.statistics.gov.uk/",
        ),
        Source(
            "lsoa11_lsoa21", "lookups/lsoa11_lsoa21_lad22_ew.csv.gz",
            "LSOA (2011) to LSOA (2021) to Local Authority District (2022) Lookup for England and Wales",
            "ONS", "2022", "LSOA 2011 / LSOA 2021",
            f"{_ARC}/LSOA11_LSOA21_LAD22_EW_LU/FeatureServer/0", kind="arcgis", attribution=(_ONS,),
            page="https://geoportal.statistics.gov.uk/",
        ),
        Source(
            "lsoa11_icb22", "lookups/lsoa11_sicbl22_icb22_lad22_en.csv.gz",
            "LSOA (2011) to Sub ICB Locations to Integrated Care Boards (July 2022) Lookup in England",
            "ONS", "July 2022", "LSOA 2011",
            f"{_ARC}/LSOA11_SICBL22_ICB22_LAD22_EN_LU/FeatureServer/0", kind="arcgis", attribution=(_ONS,),
            page="https://geoportal.statistics.gov.uk/",
        ),
        Source(
            "lsoa21_icb24", "lookups/lsoa21_sicbl24_icb24_en.csv.gz",
            "LSOA (2021) to SICBL to ICB to Cancer Alliances to LAD (April 2024) Lookup in EN",
            "ONS", "April 2024", "LSOA 2021",
            f"{_ARC}/LSOA21_SICBL24_ICB24_CAL24_LAD24_EN_LU/FeatureServer/0", kind="arcgis",
            attribution=(_ONS,), page="https://geoportal.statistics.gov.uk/",
        ),
        Source(
            "lsoa21_lad24", "lookups/lsoa21_ward24_lad24_ew.csv.gz",
            "LSOA (2021) to Electoral Ward (2024) to LAD (2024) Best Fit Lookup in EW",
            "ONS", "2024", "LSOA 2021",
            f"{_ARC}/LSOA21_WD24_LAD24_EW_LU/FeatureServer/0", kind="arcgis", attribution=(_ONS,),
            page="https://geoportal.statistics.gov.uk/",
        ),
        Source(
            "oa11_lookup", "lookups/oa11_oac11_lsoa11_msoa11_lad17_rgn11_ew.csv.gz",
            "Output Area (2011) to LSOA to MSOA to LAD (2017) to Region, with Output Area Classification",
            "ONS", "2011 (LAD 2017)", "OA 2011",
            "https://opendata.arcgis.com/datasets/fe6c55f0924b4734adf1cf7104a0173e_0.csv", required=False,
            attribution=(_ONS,), page="https://geoportal.statistics.gov.uk/",
        ),
        Source(
            "ruc11", "lookups/ruc11_lsoa11_ew.csv.gz", "Rural Urban Classification (2011) of LSOAs in EW", "ONS",
            "2011", "LSOA 2011",
            f"{_ARC}/RUC11_LSOA11_EW_LU/FeatureServer/0", kind="arcgis", required=False, attribution=(_ONS,),
            page="https://geoportal.statistics.gov.uk/",
        ),
        Source(
            "ruc21", "lookups/ruc21_lsoa21_ew.csv.gz",
            "Rural Urban Classification (2021) of LSOAs in EW", "ONS", "2021", "LSOA 2021",
            f"{_ARC}/LSOA21_RUC21_EW_LU/FeatureServer/0", kind="arcgis", attribution=(_ONS,),
            page="https://geoportal.statistics.gov.uk/",
        ),
        Source(
            "ts021", "census/census2021_ts021_ethnic_group_detailed_lsoa21_ew.csv.gz",
            "Census 2021 TS021 Ethnic group (LSOA)", "ONS", "Census 2021", "LSOA 2021",
            f"{_NOMIS}/census2021-ts021.zip", attribution=(_ONS,),
            page="https://www.nomisweb.co.uk/sources/census_2021_bulk",
        ),
        Source(
            "ts011", "census/census2021_ts011_household_deprivation_lsoa21_ew.csv.gz",
            "Census 2021 TS011 Households by deprivation dimensions (LSOA)", "ONS", "Census 2021",
            "LSOA 2021", f"{_NOMIS}/census2021-ts011.zip", attribution=(_ONS,),
            page="https://www.nomisweb.co.uk/sources/census_2021_bulk",
        ),
        Source(
            "ts038", "census/census2021_ts038_disability_lsoa21_ew.csv.gz",
            "Census 2021 TS038 Disability (LSOA)", "ONS", "Census 2021", "LSOA 2021",
            f"{_NOMIS}/census2021-ts038.zip", required=False, attribution=(_ONS,),
            page="https://www.nomisweb.co.uk/sources/census_2021_bulk",
        ),
        Source(
            "ts052", "census/census2021_ts052_occupancy_rating_bedrooms_lsoa21_ew.csv.gz",
            "Census 2021 TS052 Occupancy rating for bedrooms (LSOA)", "ONS", "Census 2021", "LSOA 2021",
            f"{_NOMIS}/census2021-ts052.zip", required=False, attribution=(_ONS,),
            page="https://www.nomisweb.co.uk/sources/census_2021_bulk",
        ),
        Source(
            "ts044", "census/census2021_ts044_accommodation_type_lsoa21_ew.csv.gz",
            "Census 2021 TS044 Accommodation type (LSOA)", "ONS", "Census 2021", "LSOA 2021",
            f"{_NOMIS}/census2021-ts044.zip", required=False, attribution=(_ONS,),
            page="https://www.nomisweb.co.uk/sources/census_2021_bulk",
        ),
        Source(
            "ts054", "census/census2021_ts054_tenure_of_household_lsoa21_ew.csv.gz",
            "Census 2021 TS054 Tenure of household (LSOA)", "ONS", "Census 2021", "LSOA 2021",
            f"{_NOMIS}/census2021-ts054.zip", required=False, attribution=(_ONS,),
            page="https://www.nomisweb.co.uk/sources/census_2021_bulk",
        ),
        Source(
            "age6", "census/census2021_age6_lsoa21_ew.csv.gz",
            "Census 2021 usual residents by Age (6 categories) (LSOA)", "ONS", "Census 2021", "LSOA 2021",
            "https://www.ons.gov.uk/datasets/create", required=False, attribution=(_ONS,),
            page="https://www.ons.gov.uk/datasets/create", manual=True,
        ),
        Source(
            "ts007_msoa", "census/census2021_ts007_age_single_year_msoa21_ew.csv.gz",
            "Census 2021 TS007 Age by single year (MSOA)", "ONS", "Census 2021", "MSOA 2021",
            f"{_NOMIS}/census2021-ts007.zip", required=False, attribution=(_ONS,),
            page="https://www.nomisweb.co.uk/sources/census_2021_bulk",
        ),
        Source(
            "mye2020", "population/ons_mye2020_sape23dt2_lsoa11_syoa_persons_ew.csv.gz",
            "Lower layer Super Output Area population estimates, mid-2020 (SAPE23DT2), persons, single year of age",
            "ONS", "mid-2020", "LSOA 2011",
            "https://www.ons.gov.uk/file?uri=/peoplepopulationandcommunity/populationandmigration/"
            "populationestimates/datasets/lowersuperoutputareamidyearpopulationestimates/mid2020sape23dt2/"
            "sape23dt2mid2020lsoasyoaestimatesunformatted.xlsx",
            attribution=(_ONS,),
        ),
        Source(
            "gp_reg_lsoa", "gp/gp_reg_pat_prac_lsoa_all_2022-07.csv.gz",
            "Patients Registered at a GP Practice: gp-reg-pat-prac-lsoa-all", "NHS Digital", "July 2022",
            "practice × LSOA 2011",
            "https://files.digital.nhs.uk/0E/59E17A/gp-reg-pat-prac-lsoa-male-female-July-2022.zip",
            attribution=(_NHS,),
            page="https://digital.nhs.uk/data-and-information/publications/statistical/"
            "patients-registered-at-a-gp-practice",
        ),
        Source(
            "gp_reg_map", "gp/gp-reg-pat-prac-map_2022-07.csv",
            "Patients Registered at a GP Practice: gp-reg-pat-prac-map", "NHS Digital", "July 2022",
            "practice", "https://files.digital.nhs.uk/1F/9ACF6B/gp-reg-pat-prac-map.csv",
            attribution=(_NHS,),
            page="https://digital.nhs.uk/data-and-information/publications/statistical/"
            "patients-registered-at-a-gp-practice",
        ),
        Source(
            "epcn", "gp/ePCN_2023-01.xlsx", "ODS ePCN: PCN details and core partners", "NHS England (ODS)",
            "January 2023", "practice",
            "https://nhs-prod.global.ssl.fastly.net/binaries/content/assets/website-assets/services/ods/"
            "data-downloads-other-nhs-organisations/epcn.zip",
            required=False, attribution=(_NHS,),
        ),
        Source(
            "epraccur", "gp/epraccur_2023-01.csv", "ODS epraccur: GP practices", "NHS England (ODS)",
            "January 2023", "practice", "https://files.digital.nhs.uk/assets/ods/current/epraccur.zip",
            attribution=(_NHS,),
        ),
        Source(
            "sicbl26", "lookups/sicbl26_icb26_nhser26_en.csv",
            "Sub ICB Locations to Integrated Care Boards to NHS England (Region) (April 2026) Lookup in EN",
            "ONS", "April 2026", "Sub-ICB location",
            f"{_ARC}/SICBL26_ICB26_NHSER26_EN_LU/FeatureServer/0", kind="arcgis", required=False,
            attribution=(_ONS,), page="https://geoportal.statistics.gov.uk/",
        ),
        Source(
            "epcn_2024", "gp/ePCN_2024-10.xlsx", "ODS ePCN: PCN details and core partners", "NHS England (ODS)",
            "October 2024", "practice",
            "https://odsdatasearchandexport.nhs.uk/api/getReport?report=epcncorepartnerdetails",
            required=False, attribution=(_NHS,), page="https://odsdatasearchandexport.nhs.uk/", manual=True,
        ),
        Source(
            "epraccur_2026", "gp/epraccur_2026-02.csv.gz", "ODS epraccur: GP practices", "NHS England (ODS)",
            "February 2026", "practice", "https://odsdatasearchandexport.nhs.uk/api/getReport?report=epraccur",
            required=False, attribution=(_NHS,), page="https://odsdatasearchandexport.nhs.uk/",
        ),
        Source(
            "qof_2223", "gp/qof/QOF_2022-23_PREVALENCE_2223.csv.gz",
            "Quality and Outcomes Framework 2022-23: prevalence", "NHS Digital", "QOF 2022-23", "practice",
            "https://files.digital.nhs.uk/32/40B931/QOF%202022-23%20Raw%20data%20.csv%20files.zip",
            required=False, attribution=(_NHS,),
        ),
        Source(
            "qof_2425", "gp/qof/QOF_2024-25_PREVALENCE_2425.csv.gz",
            "Quality and Outcomes Framework 2024-25: prevalence", "NHS England", "QOF 2024-25", "practice",
            "https://files.digital.nhs.uk/95/4708D7/QOF2425.zip", required=False, attribution=(_NHS,),
            page="https://digital.nhs.uk/data-and-information/publications/statistical/"
            "quality-and-outcomes-framework-achievement-prevalence-and-exceptions-data/2024-25",
        ),
        Source(
            "qof_2021", "gp/qof/QOF_2020-21_PREVALENCE_2021_v2.csv",
            "Quality and Outcomes Framework 2020-21: prevalence", "NHS Digital", "QOF 2020-21", "practice",
            "https://files.digital.nhs.uk/AC/3C964F/QOF2021_v2.zip", required=False, attribution=(_NHS,),
        ),
        Source(
            "qof_2122", "gp/qof/QOF_2021-22_PREVALENCE_2122.csv.gz",
            "Quality and Outcomes Framework 2021-22: prevalence", "NHS Digital", "QOF 2021-22", "practice",
            "https://files.digital.nhs.uk/90/6F833F/QOF_2122_V2.zip", required=False, attribution=(_NHS,),
        ),
        Source(
            "qof_2122_dm", "gp/qof/qof_2021-22_practice_prevalence_derived.csv",
            "Quality and Outcomes Framework 2021-22: diabetes achievement DM019 and DM020 by practice",
            "NHS Digital", "QOF 2021-22", "practice",
            "https://files.digital.nhs.uk/8A/57C8D5/qof-2122-prev-ach-pca-hd-prac.xlsx", required=False,
            attribution=(_NHS,), manual=True,
            page="https://digital.nhs.uk/data-and-information/publications/statistical/"
            "quality-and-outcomes-framework-achievement-prevalence-and-exceptions-data/2021-22",
        ),
        Source(
            "qof_geo_2223", "gp/qof/QOF_2022-23_MAPPING_NHS_GEOGRAPHIES_2223.csv.gz",
            "Quality and Outcomes Framework 2022-23: mapping to NHS geographies", "NHS Digital",
            "QOF 2022-23", "practice",
            "https://files.digital.nhs.uk/32/40B931/QOF%202022-23%20Raw%20data%20.csv%20files.zip",
            required=False, attribution=(_NHS,),
        ),
        Source(
            "hyp_undiagnosed",
            "gp/hypertension_estimates_2016/phe_hypertension_estimates_2016_undiagnosed_practice.csv.gz",
            "PHE hypertension prevalence estimates: undiagnosed, by practice", "PHE", "2016", "practice",
            "https://www.gov.uk/government/publications/hypertension-prevalence-estimates-for-local-populations",
            required=False, attribution=(_MHCLG.replace("(MHCLG)", "(PHE)"),), manual=True,
            page="https://www.gov.uk/government/publications/hypertension-prevalence-estimates-for-local-populations",
        ),
        Source(
            "hyp_diagnosed", "gp/hypertension_estimates_2016/phe_hypertension_estimates_2016_diagnosed_practice.csv.gz",
            "PHE hypertension prevalence estimates: diagnosed, by practice", "PHE", "2016", "practice",
            "https://www.gov.uk/government/publications/hypertension-prevalence-estimates-for-local-populations",
            required=False, attribution=(_MHCLG.replace("(MHCLG)", "(PHE)"),), manual=True,
            page="https://www.gov.uk/government/publications/hypertension-prevalence-estimates-for-local-populations",
        ),
        Source(
            "codepoint", "postcodes/codepo_gb_2025-04.zip", "OS Code-Point Open", "Ordnance Survey",
            "2025.2.0", "postcode", "https://api.os.uk/downloads/v1/products/CodePointOpen/downloads?area=GB&format=CSV&redirect",
            attribution=(
                "Contains OS data © Crown copyright and database right 2025",
                "Contains Royal Mail data © Royal Mail copyright and database right 2025",
                "Contains National Statistics data © Crown copyright and database right 2025",
            ),
            page="https://osdatahub.os.uk/downloads/open/CodePointOpen",
        ),
        Source(
            "onspd", "postcodes/ONSPD_UK.zip", "ONS Postcode Directory (ONSPD)", "ONS", "latest release", "postcode",
            "https://geoportal.statistics.gov.uk/search?q=PRD_ONSPD&sort=Date%20Created%7Ccreated%7Cdesc",
            required=False, manual=True,
            attribution=(_ONS, "Contains OS data © Crown copyright and database right 2025",
                         "Contains Royal Mail data © Royal Mail copyright and database right 2025"),
            page="https://geoportal.statistics.gov.uk/search?q=PRD_ONSPD&sort=Date%20Created%7Ccreated%7Cdesc",
        ),
    ]
}


def source_url(key: str) -> str:
    """Return the download URL of a source, honouring a ``CORE20_URL_<KEY>`` override."""
    return os.environ.get(f"CORE20_URL_{key.upper()}", SOURCES[key].url)


def attribution_for(*keys: str) -> str:
    """Return one caption line naming each source, its edition and the attributions it requires."""
    names = []
    lines: list[str] = []
    for key in keys:
        src = SOURCES[key]
        names.append(f"{src.publisher} {src.title.split(':')[0]} ({src.edition})")
        for line in src.attribution:
            if line not in lines:
                lines.append(line)
    return "Sources: " + "; ".join(names) + ". " + " ".join(lines)


def catalogue_markdown() -> str:
    """The catalogue as Markdown: what ``data/README.md`` holds (a test keeps the two the same)."""
    lines = [
        "# Data catalogue",
        "",
        "Generated by `python -m targeting sources --markdown` from `geo/sources.py`; do not edit by hand.",
        "",
        "Each file is looked for, in order, in `$CORE20_DATA`, in `data/raw/` (filled by `python -m targeting "
        "fetch`) and in `../shared/data`, at the path below; `CORE20_FILE_<KEY>` names a specific file instead. "
        "`data/cache/` holds the built atlas (git-ignored, like `data/raw/`). Everything is under the "
        f"{OGL}.",
        "",
        "| key | file | title | publisher | edition | geography | needed | download |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in SOURCES.values():
        how = "paged ArcGIS FeatureServer" if s.kind == "arcgis" else "by hand (no stable link)" if s.manual else "file"
        lines.append(f"| `{s.key}` | `{s.relpath}` | {s.title} | {s.publisher} | {s.edition} | {s.geography} | "
                     f"{'required' if s.required else 'optional'} | [{how}]({s.url}) |")
    lines += ["", "## Attributions", ""]
    seen: list[str] = []
    for s in SOURCES.values():
        for a in s.attribution:
            if a not in seen:
                seen.append(a)
    lines += [f"- {a}" for a in seen]
    return "\n".join(lines) + "\n"
