"""The tenant's zone from ``--tz`` or from the machine (shell: reads /etc/localtime)."""

from __future__ import annotations

import os
import re
from datetime import UTC, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from switchboard.domain.errors import ValidationError

_OFFSET = re.compile(r"([+-])([01]\d|2[0-3]):?([0-5]\d)")


def resolve_tz(name: str | None) -> tzinfo:
    """``--tz``: an IANA name (``Europe/Rome``), ``UTC`` or ``+HH:MM``; None for
    the machine's zone ($TZ, else /etc/localtime, else UTC)."""
    if name is None:
        return local_zone()
    text = name.strip()
    if text.upper() in ("UTC", "Z"):
        return UTC
    m = _OFFSET.fullmatch(text)
    if m:
        sign = 1 if m.group(1) == "+" else -1
        return timezone(sign * timedelta(hours=int(m.group(2)), minutes=int(m.group(3))))
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"unknown time zone {name!r} (try Europe/Rome, UTC or +02:00)",
                              field="tz") from None


def local_zone() -> tzinfo:
    """The machine's zone, with its daylight-saving rules."""
    env = os.environ.get("TZ", "").lstrip(":")
    if env:
        try:
            return ZoneInfo(env)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    path = Path("/etc/localtime")
    try:
        target = os.path.realpath(path)
        if "zoneinfo/" in target:
            return ZoneInfo(target.split("zoneinfo/", 1)[1])
        with path.open("rb") as fh:
            return ZoneInfo.from_file(fh, key="localtime")
    except (OSError, ValueError, ZoneInfoNotFoundError):
        return UTC
