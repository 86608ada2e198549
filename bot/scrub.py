"""Blank out secrets in any text that may reach a user, a log, the audit trail or ``history``.

Pure (standard library only) so the store clients, the log filter and the audit trail share one
rule. A store can echo a credential in forms other than the one configured, so each secret is
also matched as:

* any letter case (``TOKEN-abc`` / ``token-ABC``);
* URL-encoded (``%2F``, ``+`` for a space, lower- or upper-case hex) and JSON-escaped (``\\/``);
* for a URL (``https://shop.example.com/``): its bare host (``shop.example.com``) and the URL
  without its trailing slash.

Secrets shorter than ``MIN_SECRET`` characters are ignored: blanking ``"a"`` everywhere would
destroy every message while protecting nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus, urlsplit

MIN_SECRET = 4
MASK = "***"


def secret_variants(secret: str) -> set[str]:
    """Every form of ``secret`` worth blanking (before case folding)."""
    secret = secret.strip()
    if len(secret) < MIN_SECRET:
        return set()
    forms = {secret, secret.rstrip("/")}
    if "://" in secret:
        parts = urlsplit(secret)
        if parts.netloc:
            forms.add(parts.netloc)
            forms.add(parts.netloc + parts.path.rstrip("/"))
    for form in list(forms):
        forms.update({quote(form, safe=""), quote_plus(form, safe=""), quote(form), form.replace("/", "\\/")})
    return {f for f in forms if len(f) >= MIN_SECRET}


class Scrubber:
    """``scrub(text)`` replaces every variant of every secret with ``***`` (case-insensitively)."""

    def __init__(self, secrets: Iterable[str | None], mask: str = MASK) -> None:
        variants: set[str] = set()
        for secret in secrets:
            if secret:
                variants |= secret_variants(secret)
        self.mask = mask
        # Longest first, so "https://x.example" is blanked whole rather than leaving "https://".
        ordered = sorted(variants, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(v) for v in ordered), re.IGNORECASE) if ordered else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def scrub(self, text: str) -> str:
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(self.mask, text)

    def contains(self, text: str) -> bool:
        return bool(self._pattern is not None and text and self._pattern.search(text))
