import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# The tests written for the July 2022 NHS (their oracles are July 2022 figures) run on that registration month,
# as `--registrations 2022-07` gives it (issue 19: those outputs are unchanged, byte for byte). Tests of today's
# NHS ask for their month explicitly (`registrations="2026-07"`, `--registrations 2026-07`).
os.environ.setdefault("CORE20_REGISTRATIONS", "2022-07")


def shared_data() -> Path:
    env = os.environ.get("CORE20_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data"


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config):
    # `pytest -m "not slow"` runs the fast suite on two workers when pytest-xdist is installed (it is in the test
    # extras): collecting the tests and building the small atlas take a third of it, the rest halves. `-n 0` (or
    # any -n) overrides; a single worker's run, --pdb and --collect-only are left alone.
    opt = config.option
    fast = (opt.markexpr or "").replace('"', "").replace("'", "").strip() == "not slow"
    if (fast and getattr(opt, "numprocesses", 0) is None and not hasattr(config, "workerinput")
            and not opt.collectonly and not opt.usepdb and (os.cpu_count() or 1) >= 2):
        opt.numprocesses = 2


def pytest_collection_modifyitems(config, items):
    # The national atlas takes a build (about 50 s) or a load (seconds) and national-scale computations:
    # a test that asks for it must say so, so `pytest -m "not slow"` stays fast.
    unmarked = [it.nodeid for it in items if "atlas" in it.fixturenames and it.get_closest_marker("slow") is None]
    if unmarked:
        raise pytest.UsageError("tests that use the national `atlas` fixture must be marked slow (or use "
                                "`small_atlas`): " + ", ".join(unmarked))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    d = shared_data()
    if not d.is_dir():
        pytest.skip(f"real data folder {d} is absent")
    return d


@pytest.fixture(scope="session")
def atlas(data_dir):
    """The national atlas (the data folder's real files), built once into the project's cache."""
    from geo.atlas import load

    return load(progress=False)


@pytest.fixture(scope="session")
def small_data(data_dir, tmp_path_factory) -> Path:
    """Extracts of the real files for Bradford and Solihull, written for this session (see small_atlas.py)."""
    from small_atlas import write_extracts

    dest = tmp_path_factory.mktemp("small") / "data"
    write_extracts(data_dir, dest)
    return dest


@pytest.fixture(scope="session")
def small_env(small_data) -> dict[str, str]:
    """Environment that points the tool at the extracts and their own cache (for a CLI in a subprocess)."""
    return {"CORE20_DATA": str(small_data), "CORE20_CACHE": str(small_data.parent / "cache"),
            "CORE20_RAW": str(small_data.parent / "raw")}  # an empty data/raw: nothing can shadow an extract


@pytest.fixture(scope="session")
def small_atlas(small_env):
    """An atlas built by the real ``geo.atlas.build`` from the extracts: Bradford and Solihull, in seconds."""
    from geo.atlas import build, load

    with pytest.MonkeyPatch.context() as mp:
        for k, v in small_env.items():
            mp.setenv(k, v)
        folder = build(progress=False, expect_national=False)
        a = load(progress=False)
    inputs = a.meta["inputs"]
    stray = [k for k, v in inputs.items() if not v["path"].startswith(small_env["CORE20_DATA"])]
    assert not stray, f"the small atlas read national files for {stray}"
    assert folder.parent == Path(small_env["CORE20_CACHE"])
    return a


@pytest.fixture(scope="session", params=["small", pytest.param("national", marks=pytest.mark.slow)])
def each_atlas(request):
    """The small atlas and (marked slow) the national one, for properties that must hold on any atlas."""
    return request.getfixturevalue("small_atlas" if request.param == "small" else "atlas")


@pytest.fixture
def small_cli(small_atlas, small_env, monkeypatch):
    """Point the command line run in-process (``targeting.cli.main``) at the small atlas, for one test."""
    for k, v in small_env.items():
        monkeypatch.setenv(k, v)
    return small_atlas


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session: Playwright's sync API runs one loop per thread, so every test
    that drives a browser (tests/browser/, tests/test_deploy.py) shares this one."""
    from tests.browser.conftest import ARGS, CHROMIUM

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium (apt-get install chromium) for browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()
