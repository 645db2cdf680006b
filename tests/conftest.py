import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def shared_data() -> Path:
    env = os.environ.get("CORE20_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    d = shared_data()
    if not d.is_dir():
        pytest.skip(f"real data folder {d} is absent")
    return d


@pytest.fixture(scope="session")
def atlas(data_dir):
    from geo.atlas import load

    return load(progress=False)
