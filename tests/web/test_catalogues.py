"""The catalogues: every string the UI uses is in them and translated into it, fr, zh."""

from __future__ import annotations

import pytest
from babel.messages.pofile import read_po

from switchboard.web import catalogs, i18n
from switchboard.web.metrics import METRICS


@pytest.mark.parametrize("area", i18n.AREAS)
@pytest.mark.parametrize("lang", i18n.TRANSLATED)
def test_every_msgid_has_a_translation_and_extraction_finds_none_missing(lang: str,
                                                                       area: str) -> None:
    path = i18n.po_path(lang, area)
    assert path.exists(), f"run: python -m switchboard.web.catalogs (creates {path})"
    with path.open("rb") as f:
        cat = read_po(f, locale=lang)
    empty = [m.id for m in cat if m.id and (m.fuzzy or not all(
        s.strip() for s in (m.string if isinstance(m.string, (tuple, list)) else (m.string,))))]
    assert empty == [], f"{lang}/{area}: untranslated msgids"
    assert catalogs.problems(lang, area) == []


def test_extraction_reads_templates_scripts_and_python() -> None:
    common = catalogs.extract("common")
    assert "Log in to Switchboard" in common  # templates/login.html
    assert "Wrong user name or password." in common  # static/js/login.js
    assert "Reconnecting…" in common  # static/js/ui.js
    assert set(catalogs.extract("metrics")) == {m for pair in METRICS.values() for m in pair}


def test_the_check_command_agrees() -> None:
    assert catalogs.main(["--check"]) == 0


def test_accept_language_negotiation() -> None:
    assert i18n.negotiate("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7") == "fr"
    assert i18n.negotiate("de-DE, it;q=0.5") == "it"
    assert i18n.negotiate("zh-Hant-TW") == "zh"
    assert i18n.negotiate("en;q=0.1, it;q=0.9") == "it"
    assert i18n.negotiate("it;q=0") == "en"
    assert i18n.negotiate("") == "en" and i18n.negotiate(None) == "en"
    assert i18n.negotiate("xx;q=abc, ,;") == "en"


def test_plural_forms_follow_each_language() -> None:
    assert [i18n.plural_index("fr", n) for n in (0, 1, 2)] == [0, 0, 1]
    assert [i18n.plural_index("it", n) for n in (0, 1, 2)] == [1, 0, 1]
    assert [i18n.plural_index("zh", n) for n in (0, 1, 2)] == [0, 0, 0]
