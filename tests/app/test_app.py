"""The router and every page: a smoke test (no exception), alone and through
``st.navigation``, plus the shared sidebar."""

from __future__ import annotations

import pytest

from tests.app.apphelpers import PAGES, ROOT, app_test, objects_table, page_test


def test_the_router_registers_the_operator_pages():
    assert {"measure", "history", "settings"} <= set(PAGES)
    assert all(path.is_file() for path in PAGES.values())


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_runs_after_switching_to_it(app_db, name):
    """Through the router first; AppTest's switch_page then runs the page itself."""
    at = app_test().run()
    assert not at.exception
    at.switch_page(str(PAGES[name].relative_to(ROOT))).run()
    assert not at.exception, at.exception
    assert at.title, f"page {name} shows no title"


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_runs_on_its_own(app_db, name):
    at = page_test(name).run()
    assert not at.exception, at.exception


def test_measure_is_the_default_page(app_db):
    at = app_test().run()
    assert at.title[0].value == "Measure"
    assert len(objects_table(at)) == 1


def test_sidebar_shows_the_segmenter_and_the_unit(app_db, monkeypatch):
    at = app_test().run()
    assert any("local" in c.value for c in at.sidebar.caption)
    assert at.selectbox(key="sidebar_unit").value == "mm"
    monkeypatch.setenv("OBJLEN_UNIT", "in")
    at = app_test().run()
    assert at.selectbox(key="sidebar_unit").value == "in"


def test_sidebar_unit_is_the_settings_default_unit(app_db):
    at = app_test().run()
    at.selectbox(key="sidebar_unit").set_value("cm").run()
    assert at.session_state["objlen_settings"].default_unit == "cm"
    at.switch_page("app_pages/settings.py").run()
    assert at.selectbox(key="settings_unit").value == "cm"
    at.selectbox(key="settings_unit").set_value("in")
    at.button[0].click().run()  # apply
    at.switch_page("app_pages/measure.py").run()
    # (AppTest's switch_page runs the page without the router: no sidebar here)
    assert objects_table(at)["width"][0].endswith(" in")


def test_a_bad_environment_value_is_reported_and_the_app_still_runs(app_db, monkeypatch):
    monkeypatch.setenv("OBJLEN_SEGMENTER", "cloud")
    at = app_test().run()
    assert not at.exception
    assert any("segmenter" in e.value and "defaults" in e.value for e in at.sidebar.error)
    assert at.title[0].value == "Measure" and len(objects_table(at)) == 1
