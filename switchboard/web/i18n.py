"""Languages of the web UI and their gettext catalogues (Babel ``.po`` files).

English is the source language: every msgid is the English text, so English
needs no catalogue. Italian, French and Chinese each have one catalogue per
*area* (``locale/<lang>/LC_MESSAGES/<area>.po``), so that the people working on
different pages never edit the same file. A page names the areas it uses
(``common`` is always one of them). The ``.po`` files are read with Babel when
the server starts: there is no compile step.

A user's language is stored on the user (``users.language``); before login,
or when the user never chose one, it comes from the ``sb_lang`` cookie, then
the browser's ``Accept-Language``, then English.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from babel import Locale
from babel.messages.pofile import read_po

from switchboard.domain.errors import ValidationError

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES: dict[str, str] = {"en": "English", "it": "Italiano", "fr": "Français", "zh": "中文"}
TRANSLATED = ("it", "fr", "zh")  # the languages with catalogues (English is the source)
AREAS = ("common", "metrics", "agent", "wallboard", "admin", "reports")
DEFAULT = "en"
LANG_COOKIE = "sb_lang"


def check_language(lang: str, field_name: str = "language") -> str:
    """``lang`` when it is one of :data:`LANGUAGES`, else a :class:`ValidationError`."""
    if lang not in LANGUAGES:
        raise ValidationError(f"must be one of {', '.join(LANGUAGES)}", field=field_name)
    return lang


def check_areas(areas: Iterable[str]) -> tuple[str, ...]:
    out = tuple(dict.fromkeys(a for a in areas if a))
    unknown = [a for a in out if a not in AREAS]
    if unknown:
        raise ValidationError(f"unknown area {unknown[0]!r}; areas are {', '.join(AREAS)}",
                              field="areas")
    return out


def negotiate(accept_language: str | None) -> str:
    """The best of :data:`LANGUAGES` for an ``Accept-Language`` header (English
    when none fits). ``zh-CN``, ``zh-Hans`` and ``zh-TW`` all map to ``zh``."""
    prefs: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for p in params.split(";"):
            k, _, v = p.strip().partition("=")
            if k == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
        if tag and q > 0:
            prefs.append((-q, i, tag.strip().lower()))
    for _, _, tag in sorted(prefs):
        base = tag.split("-")[0]
        if base in LANGUAGES:
            return base
    return DEFAULT


@dataclass(slots=True)
class Catalog:
    """The messages of one language over some areas; a gettext translations
    object for Jinja2 (``gettext``, ``ngettext``, ``pgettext``, ``npgettext``)."""

    lang: str
    messages: dict[str, str | list[str]] = field(default_factory=dict)

    def gettext(self, message: str) -> str:
        got = self.messages.get(message)
        return got if isinstance(got, str) and got else message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        got = self.messages.get(singular)
        if isinstance(got, list) and all(got):
            return got[min(plural_index(self.lang, n), len(got) - 1)]
        return singular if n == 1 else plural

    def pgettext(self, context: str, message: str) -> str:
        return self.gettext(f"{context}\x04{message}")

    def npgettext(self, context: str, singular: str, plural: str, n: int) -> str:
        got = self.messages.get(f"{context}\x04{singular}")
        if isinstance(got, list) and all(got):
            return got[min(plural_index(self.lang, n), len(got) - 1)]
        return singular if n == 1 else plural


def plural_index(lang: str, n: int) -> int:
    """gettext's plural form index: Chinese has one form, French counts 0 as
    singular, English and Italian only 1 (the catalogues' Plural-Forms)."""
    if lang == "zh":
        return 0
    if lang == "fr":
        return 0 if n in (0, 1) else 1
    return 0 if n == 1 else 1


def po_path(lang: str, area: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{area}.po"


def read_area(lang: str, area: str) -> dict[str, str | list[str]]:
    """An area's translated messages for ``lang`` (empty for English or a
    missing file); untranslated and fuzzy entries are left out (English shows)."""
    path = po_path(lang, area)
    if lang == DEFAULT or not path.exists():
        return {}
    with path.open("rb") as f:
        cat = read_po(f, locale=lang)
    out: dict[str, str | list[str]] = {}
    for msg in cat:
        if not msg.id or msg.fuzzy:
            continue
        key = msg.id[0] if isinstance(msg.id, (tuple, list)) else msg.id
        if msg.context:
            key = f"{msg.context}\x04{key}"
        if isinstance(msg.string, (tuple, list)):
            if all(msg.string):
                out[key] = list(msg.string)
        elif msg.string:
            out[key] = msg.string
    return out


class Catalogs:
    """Every language's catalogue of every area, read once (at start)."""

    def __init__(self) -> None:
        self._areas: dict[tuple[str, str], dict[str, str | list[str]]] = {
            (lang, area): read_area(lang, area) for lang in LANGUAGES for area in AREAS}

    @functools.lru_cache(maxsize=256)  # noqa: B019 (one instance per app, few keys)
    def catalog(self, lang: str, areas: tuple[str, ...]) -> Catalog:
        merged: dict[str, str | list[str]] = {}
        for area in ("common", *areas):
            merged.update(self._areas.get((lang, area), {}))
        return Catalog(lang, merged)

    def messages(self, lang: str, areas: tuple[str, ...]) -> Mapping[str, Any]:
        return self.catalog(lang, areas).messages


def locale_info(lang: str) -> dict[str, Any]:
    """What the browser needs besides messages: the BCP 47 tag Intl uses and the
    language's own name."""
    loc = Locale.parse(lang)
    tag = {"zh": "zh-CN"}.get(lang, lang)
    return {"lang": lang, "tag": tag, "name": LANGUAGES[lang],
            "direction": "rtl" if loc.text_direction == "rtl" else "ltr"}
