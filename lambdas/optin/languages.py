"""The languages the product speaks: the form, the texts and the keywords (en, es, fr)."""

from __future__ import annotations

from typing import Final

LANGUAGES: Final = ("en", "es", "fr")
DEFAULT_LANGUAGE: Final = "en"


def supported(tag: str | None) -> str | None:
    """The language of a tag such as ``es``, ``FR`` or ``es-MX`` when we speak it, else None."""
    if not tag:
        return None
    primary = tag.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in LANGUAGES else None
