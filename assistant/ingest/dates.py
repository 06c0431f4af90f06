"""Date normalisation: whatever a file says -> ISO 8601, or None.

Only unambiguous forms are accepted. "03/04/2016" could be March or April, so it
gives None rather than a date that may be wrong: a missing date costs less than a
false one shown beside a quote.
"""

from __future__ import annotations

import datetime as dt
import re

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4})"

# Searched inside a line, most specific first.
_PATTERNS = [
    re.compile(
        r"(?<!\d)(?P<iso>\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
        r"(?:Z|[+-]\d{2}:?\d{2})?)?)(?!\d)"
    ),
    re.compile(r"(?<!\d)(?P<year>\d{4})[/.](?P<month>\d{1,2})[/.](?P<day>\d{1,2})(?!\d)"),
    re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b", re.IGNORECASE),
    re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b", re.IGNORECASE),
]
_PDF_DATE = re.compile(r"^D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?")


def normalise_date(value: object) -> str | None:
    """ISO 8601 for a date-like value (str, date, datetime), else None.

    A date alone gives ``YYYY-MM-DD``; a value with a time gives the full timestamp.
    """
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > 200:
        return None
    return _pdf_date(text) or find_date(text, whole=True) or _rfc2822(text)


def find_date(text: str, *, whole: bool = False) -> str | None:
    """The first unambiguous date written in ``text``.

    With ``whole``, the date must be most of the text (a metadata value rather than
    a date mentioned in passing).
    """
    for pattern in _PATTERNS:
        for match in pattern.finditer(text):
            if whole and len(match.group(0)) < 0.5 * len(text.strip()):
                continue
            found = _from_match(match)
            if found:
                return found
    return None


def _from_match(match: re.Match[str]) -> str | None:
    parts = match.groupdict()
    if parts.get("iso"):
        return _iso(parts["iso"])
    month = parts["month"]
    number = int(month) if month.isdigit() else _MONTHS[month.casefold().rstrip(".")]
    return _valid(int(parts["year"]), number, int(parts["day"]))


def _iso(text: str) -> str | None:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if len(text) == 10:
        return value.date().isoformat() if _plausible(value.year) else None
    return value.isoformat() if _plausible(value.year) else None


def _valid(year: int, month: int, day: int) -> str | None:
    try:
        value = dt.date(year, month, day)
    except ValueError:
        return None
    return value.isoformat() if _plausible(year) else None


def _plausible(year: int) -> bool:
    # Article dates outside this range are almost always parsing accidents.
    return 1800 <= year <= 2200


def _pdf_date(text: str) -> str | None:
    """PDF dates look like ``D:20160314103000+01'00'``."""
    match = _PDF_DATE.match(text)
    if not match:
        return None
    year, month, day, hour, minute, second = (int(g) if g else None for g in match.groups())
    date = _valid(year or 0, month or 1, day or 1)
    if date is None or hour is None:
        return date
    try:
        stamp = dt.datetime(year or 0, month or 1, day or 1, hour, minute or 0, second or 0)
    except ValueError:
        return date
    zone = _pdf_zone(text[match.end() :])
    return stamp.replace(tzinfo=zone).isoformat() if zone else stamp.isoformat()


def _pdf_zone(rest: str) -> dt.timezone | None:
    if rest.startswith("Z"):
        return dt.UTC
    match = re.match(r"([+-])(\d{2})'?(\d{2})?", rest)
    if not match:
        return None
    sign = -1 if match.group(1) == "-" else 1
    delta = dt.timedelta(hours=int(match.group(2)), minutes=int(match.group(3) or 0))
    try:
        return dt.timezone(sign * delta)
    except ValueError:
        return None


def _rfc2822(text: str) -> str | None:
    """Feed and e-mail style dates: ``Mon, 14 Mar 2016 10:00:00 +0000``."""
    from email.utils import parsedate_to_datetime  # lazily: it imports socket

    try:
        value = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return value.isoformat() if _plausible(value.year) else None
