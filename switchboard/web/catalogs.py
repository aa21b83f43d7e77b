"""Extracting the UI's strings and keeping the catalogues in step (a developer tool).

Each area's strings come from its own files (Babel's extractors, the mapping
below): ``common`` from the top-level templates and scripts and from
``pages.py``; ``metrics`` from ``metrics.py``; any other area ``X`` from
``templates/X/`` and ``static/js/X/``. Keywords: ``_``/``gettext``/``ngettext``
in templates, ``t`` and ``tn`` (singular, plural) in scripts, ``N_`` in Python.

``python -m switchboard.web.catalogs`` (re)writes every
``locale/<lang>/LC_MESSAGES/<area>.po`` from what extraction finds: new
msgids get an empty translation to fill in, translations of msgids that are
gone are dropped, existing translations are kept. ``--check`` changes nothing
and exits 1 when a catalogue lacks a msgid or a translation (what the test
``tests/web/test_catalogues.py`` checks too).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from switchboard.web.i18n import AREAS, TRANSLATED, po_path

HERE = Path(__file__).parent
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
JINJA = "jinja2.ext:babel_extract"
JS_KEYWORDS = {"t": None, "tn": (1, 2)}
TEMPLATE_KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2)}
PY_KEYWORDS = {"N_": None}
JS_OPTIONS = {"parse_template_string": "true"}
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "trimmed": "false"}


def method_map(area: str) -> list[tuple[str, str]]:
    """Babel's mapping of files to extractors for one area (paths relative to
    ``switchboard/web``)."""
    if area == "common":
        return [("templates/*.html", JINJA), ("static/js/*.js", "javascript"),
                ("pages.py", "python")]
    if area == "metrics":
        return [("metrics.py", "python")]
    return [(f"templates/{area}/**.html", JINJA), (f"static/js/{area}/**.js", "javascript")]


def extract(area: str) -> dict[str, tuple[str, ...]]:
    """Every msgid the area's files use, with where they are (``file:line``)."""
    keywords: dict[str, Any] = {**TEMPLATE_KEYWORDS, **JS_KEYWORDS, **PY_KEYWORDS}
    options = {pattern: (JINJA_OPTIONS if method == JINJA else
                         JS_OPTIONS if method == "javascript" else {})
               for pattern, method in method_map(area)}
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(HERE), method_map=method_map(area), options_map=options,
            keywords=keywords, comment_tags=(), strip_comment_tags=True):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return {k: tuple(v) for k, v in found.items()}


def plural_ids(area: str) -> dict[str, str]:
    """The plural msgid of each singular msgid used with ``tn``/``ngettext``."""
    out: dict[str, str] = {}
    keywords: dict[str, Any] = {**TEMPLATE_KEYWORDS, **JS_KEYWORDS, **PY_KEYWORDS}
    for _f, _l, message, _c, _x in extract_from_dir(str(HERE), method_map=method_map(area),
                                                   keywords=keywords):
        if isinstance(message, tuple) and len(message) == 2 and message[0]:
            out[message[0]] = message[1]
    return out


def read(lang: str, area: str) -> Catalog:
    path = po_path(lang, area)
    if not path.exists():
        return Catalog(locale=lang, domain=area, project="Switchboard")
    with path.open("rb") as f:
        return read_po(f, locale=lang, domain=area)


def update(lang: str, area: str) -> tuple[int, int]:
    """Rewrite one catalogue from extraction; (msgids added, msgids dropped)."""
    old = read(lang, area)
    found = extract(area)
    plurals = plural_ids(area)
    # A fixed header (no dates, no line numbers below): a catalogue changes only
    # when its messages do, so people working on different pages never clash.
    new = Catalog(locale=lang, domain=area, project="Switchboard", version="1",
                  copyright_holder="Switchboard contributors",
                  msgid_bugs_address="", charset="utf-8", fuzzy=False,
                  header_comment=f"# {area} messages of the Switchboard web UI ({lang}).",
                  creation_date=EPOCH, revision_date=EPOCH,
                  last_translator="Switchboard contributors", language_team=lang)
    added = 0
    for msgid, places in sorted(found.items()):
        prev = old.get(msgid)
        locations = [(p.rsplit(":", 1)[0], int(p.rsplit(":", 1)[1])) for p in places]
        if msgid in plurals:
            forms = new.num_plurals
            string: str | tuple[str, ...] = (
                tuple(prev.string) if prev is not None and isinstance(prev.string, (tuple, list))
                else ("",) * forms)
            new.add((msgid, plurals[msgid]), string, locations=locations)
        else:
            new.add(msgid, prev.string if prev is not None and isinstance(prev.string, str)
                    else "", locations=locations)
        added += prev is None
    dropped = sum(1 for m in old if m.id and (m.id[0] if isinstance(m.id, (tuple, list))
                                               else m.id) not in found)
    buf = BytesIO()
    write_po(buf, new, width=100, omit_header=False, sort_output=True, include_lineno=False)
    path = po_path(lang, area)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_bytes() != buf.getvalue():
        path.write_bytes(buf.getvalue())
    return added, dropped


def problems(lang: str, area: str) -> list[str]:
    """What the catalogue lacks: msgids the code uses that it does not have,
    and msgids without a (complete, non-fuzzy) translation."""
    cat = read(lang, area)
    out: list[str] = []
    have: dict[str, Message] = {}
    for entry in cat:
        if entry.id:
            have[entry.id[0] if isinstance(entry.id, (tuple, list)) else entry.id] = entry
    for msgid, places in sorted(extract(area).items()):
        m = have.get(msgid)
        if m is None:
            out.append(f"{lang}/{area}: missing msgid {msgid!r} ({places[0]})")
            continue
        strings = m.string if isinstance(m.string, (tuple, list)) else (m.string,)
        if m.fuzzy or not all(s and s.strip() for s in strings):
            out.append(f"{lang}/{area}: no translation for {msgid!r}")
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if "--check" in args:
        found = [p for lang in TRANSLATED for area in AREAS for p in problems(lang, area)]
        print("\n".join(found) or "every catalogue is complete")
        return 1 if found else 0
    for lang in TRANSLATED:
        for area in AREAS:
            added, dropped = update(lang, area)
            if added or dropped:
                print(f"{lang}/{area}: {added} new msgids to translate, {dropped} dropped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
