"""Issue 24 on the Your data page (AppTest, real atlas): a weak rule is warned about and its downloads say so."""

from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # the app reads the national atlas

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")


def _run(atlas, round_to: int):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=240)
    at.run()
    at.switch_page("app_pages/your_data.py").run()
    at.selectbox(key="yd_round").set_value(round_to).run()
    at.toggle(key="yd_example").set_value(True).run()
    assert not at.exception
    return at


def _texts(at) -> str:
    return "\n".join([str(e.value) for e in at.error] + [str(w.value) for w in at.warning]
                     + [str(i.value) for i in at.info])


def test_round_to_1_is_warned_and_named_unsuppressed(atlas):
    at = _run(atlas, 1)
    text = _texts(at)
    assert "not safe to publish" in text and "_unsuppressed.csv" in text
    assert "Publish one version" in text  # the differencing limit, beside the downloads
    labels = {b.key: b.proto.label for b in at.get("download_button")}
    assert "WITHOUT safe suppression" in labels["yd_dl"]


def test_the_default_rule_has_no_warning_but_states_the_differencing_limit(atlas):
    at = _run(atlas, 5)
    text = _texts(at)
    assert "not safe to publish" not in text and "Publish one version" in text
