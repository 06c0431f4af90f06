"""Helpers shared by the format readers."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.errors import UnreadableFile

# Share of C0 control characters (other than tab, newlines, form feed) above which a
# "text" file is treated as binary even without NUL bytes.
_MAX_CONTROL_SHARE = 0.1
_TEXT_CONTROLS = frozenset("\t\n\r\f\v")


@dataclass(frozen=True)
class Source:
    """One file as handed to a format reader."""

    data: bytes
    path: str  # absolute path, for Document.path and error messages
    id: str  # posix path relative to the indexed root


def reject(source: Source, reason: str) -> UnreadableFile:
    return UnreadableFile(source.path, reason)


def decode_utf8(source: Source) -> str:
    """The file's text; a UTF-8 byte order mark is dropped, nothing else is changed."""
    if b"\x00" in source.data:
        raise reject(source, "binary file")
    try:
        text = source.data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise reject(source, "not valid UTF-8 text") from None
    if _looks_binary(text):
        raise reject(source, "binary file")
    return text


def _looks_binary(text: str) -> bool:
    sample = text[:8192]
    controls = sum(1 for c in sample if c < " " and c not in _TEXT_CONTROLS)
    return controls > _MAX_CONTROL_SHARE * len(sample)


def text_field(value: object) -> str | None:
    """A metadata value as a clean one-line string, or None."""
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value[:20] if isinstance(v, str | int | float))
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = " ".join(str(value).split())[:1000]
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from JSON escapes cannot be stored
        return None
    return text or None
