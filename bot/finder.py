"""Finding customers from what a shopper gives in a chat: a name, a phone number, a company, or
part of an address. Pure: no I/O, no Slack, no HTTP.

Three steps, each a function the tests can call on its own:

1. :func:`read_query` — what kind of text it is (an address, part of one, a phone number, or
   words: a name or a company), normalised for comparing.
2. :func:`plan` — the store requests (``CustomerQuery`` filters, at most
   :data:`MAX_REQUESTS`) that narrow the store's answer. Whether a store filters by exact value
   or by substring is undocumented, so the plan asks in the forms stores most often hold and
   never relies on either behaviour.
3. :func:`rank` — which of the customers the store answered really match, best first. The bot
   decides, not the store: a store that matches substrings answers too much, one that matches
   exactly too little, and both answers go through the same comparison.

Comparisons ignore case and accents (``José`` = ``jose``), first and last names are taken in
either order, and phone numbers compare by their digits (``+1 (217) 555-0101`` =
``217 555 0101`` = ``2175550101``; a country code or a trunk ``0`` in front may be missing).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Literal

from .store.models import Customer, CustomerQuery

MAX_REQUESTS = 3
"""Store requests one search may cost (each is one page)."""
MAX_TEXT = 100
"""Longest search text accepted: longer is not a name, a phone number or an address part."""
MIN_PHONE_DIGITS = 7
MAX_PHONE_DIGITS = 15
"""E.164 numbers have at most 15 digits; fewer than 7 is not a phone number anyone gives."""
MAX_PREFIX_DIGITS = 3
"""Digits a stored or typed number may have in front of the other (a country code)."""
CARD_SCORE = 60
"""A lone match scoring less (the text only somewhere inside a name, company or address) is
shown as a list of one, not as the customer's card: the text did not really name them."""
SCAN_RECORDS = 300
"""One unfiltered page of this many records (3dcart's largest page; a store with smaller pages
sends its largest, BigCommerce 250), in which the bot matches names, companies and phone
numbers itself: the third request of a phone search and of one or two words."""

Kind = Literal["email", "email_part", "phone", "words"]
SEARCH_FILTERS = frozenset({"email", "first_name", "last_name", "phone"})
"""The customer filters every backend has (3dcart's; BigCommerce adds ``company``)."""

_PHONE_RE = re.compile(r"\+?[0-9()][0-9 ().\-]*[0-9]")
_PHONE_CHARS = frozenset("0123456789 ()+.-")
_DATE_RE = re.compile(r"[0-9]{4}[-./][0-9]{1,2}[-./][0-9]{1,2}|[0-9]{1,2}[-./][0-9]{1,2}[-./][0-9]{4}")
_APOSTROPHES = str.maketrans("", "", "'’‘`´")
_UNDECOMPOSED = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ı": "i",
                               "ħ": "h", "ŧ": "t"})
"""Latin letters with a stroke or ligatures: no combining mark to drop, so mapped by hand."""


@dataclass(frozen=True)
class Query:
    """A search text, read."""

    text: str
    """As typed (trimmed, single-spaced): what the reply says was searched."""
    kind: Kind
    value: str = ""
    """Folded text for ``words``; the lower-cased address or part for the two email kinds;
    the digits for ``phone``."""
    words: tuple[str, ...] = ()
    """``words``: the folded words, in the order typed."""


@dataclass(frozen=True)
class Plan:
    """The store requests for a query, and what they cover (for the "none found" answer)."""

    queries: tuple[CustomerQuery, ...]
    scan: bool = False
    """Whether one more unfiltered page of ``SCAN_RECORDS`` is read (no company filter)."""

    @property
    def requests(self) -> int:
        return len(self.queries) + (1 if self.scan else 0)


@dataclass(frozen=True)
class Match:
    customer: Customer
    score: int
    """Higher is better; see :func:`score`."""


# =============================================================================================
# 1. reading the text


def fold(text: str) -> str:
    """``text`` for comparing names: no accents, any case, apostrophes dropped and every other
    run of punctuation or space one space (``O'Brien-Núñez`` → ``obrien nunez``)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold().translate(_UNDECOMPOSED)
    return " ".join("".join(ch if ch.isalnum() else " " for ch in bare).split())


def digits(text: str) -> str:
    """The ASCII digits of ``text`` (``+1 (217) 555-0101`` → ``12175550101``)."""
    return "".join(ch for ch in text if "0" <= ch <= "9")


def is_phone(text: str) -> bool:
    """Whether ``text`` (all of it) is a phone number as people type them."""
    text = text.strip()
    if not text or not set(text) <= _PHONE_CHARS or "+" in text[1:]:
        return False
    if _DATE_RE.fullmatch(text):
        return False
    return MIN_PHONE_DIGITS <= len(digits(text)) <= MAX_PHONE_DIGITS


def find_phones(text: str, limit: int = 10) -> list[str]:
    """Phone numbers in free text (``my number is 217-555-0101``), each once, as written.

    Dates (``2026-11-23``) are not numbers anyone calls. Linear: one regex pass with no nested
    repetition.
    """
    found: dict[str, str] = {}
    for match in _PHONE_RE.finditer(text):
        start, end = match.span()
        if (start and (text[start - 1].isalnum() or text[start - 1] in "#:/")) or (
                end < len(text) and (text[end].isalnum() or text[end] in "@/")):
            continue  # part of a word, an id (#123), an address or a path
        candidate = match.group()
        if candidate.startswith("(") and ")" not in candidate:
            candidate = candidate[1:]
        if is_phone(candidate):
            found.setdefault(digits(candidate), candidate)
            if len(found) == limit:
                break
    return list(found.values())


def read_query(text: str) -> Query:
    """The kind of ``text`` and its normalised value (see :class:`Query`)."""
    typed = " ".join(text.split())
    if "@" in typed and " " not in typed:
        address = typed.lower()
        local, _, domain = address.partition("@")
        kind: Kind = "email" if local and "." in domain.strip(".") and "@" not in domain else "email_part"
        return Query(typed, kind, address)
    if is_phone(typed):
        return Query(typed, "phone", digits(typed))
    folded = fold(typed)
    return Query(typed, "words", folded, tuple(folded.split()))


# =============================================================================================
# 2. the store requests


def plan(query: Query, filters: Collection[str] = SEARCH_FILTERS) -> Plan:
    """At most :data:`MAX_REQUESTS` store requests that narrow the answer for ``query``.

    ``filters`` are the customer filters the backend supports (``company`` only on stores
    that have it). Filters carry the text as typed (accents and case included): the bot, not
    the store, decides what matches.
    """
    if query.kind == "email":
        forms = _unique([query.text, query.value])
        return Plan(tuple(CustomerQuery(email=f) for f in forms))
    if query.kind == "email_part":
        # `@acme.com` is sent as `acme.com`: a substring store then answers subdomains too
        # (ann@mail.acme.com); what is not at the end of an address is dropped by the ranking.
        return Plan((CustomerQuery(email=query.text.lstrip("@") or query.text),))
    if query.kind == "phone":
        return _plan_phone(query)
    return _plan_words(query, filters)


def _plan_phone(query: Query) -> Plan:
    """Two spellings (:func:`phone_forms`: as typed, then digits only — or dashed when digits
    only is what was typed) and one unfiltered page of ``SCAN_RECORDS`` whose numbers the bot
    compares by digits.

    Why not three spellings: a store that matches exactly finds a number only in the spelling
    it holds, and shoppers spell numbers in at least six ways (``217-555-0101``, ``(217)
    555-0101``, ``2175550101``, ``+1 217 555 0101``, ``217.555.0101``, ``1-217-555-0101``) —
    a third spelling covers one more of them, the page covers every spelling for the first
    customers: all of them on a store up to that size (both demo stores, most small shops).
    As typed catches a number the agent copied from the store or the shopper typed the same
    way twice; digits only is what stores and apps that normalise numbers hold.
    """
    forms = phone_forms(query.text)[:MAX_REQUESTS - 1]
    return Plan(tuple(CustomerQuery(phone=f) for f in forms), scan=True)


def _plan_words(query: Query, filters: Collection[str]) -> Plan:
    """One word: as a first name, as a last name. Two: first + last in both orders. Three or
    more: split before the last word (``Mary Ann | Smith``) and after the first (``Richard |
    Van der Berg``).

    The third request, for one or two words on every store: one unfiltered page that the bot
    matches by name and company — parts of names (``Jan D``, ``a``) and of companies (``Acme``
    for ``Acme Ltd``) are found there and nowhere else on a store that filters exactly, which
    is also how BigCommerce's ``company`` filter may behave (its sandbox's does). For three
    or more words: the ``company`` filter as typed (a whole company name, ``Otto Supply Co``)
    where the store has one, else the reversed order (``Van der Berg | Richard``)."""
    words = [w for w in query.text.split(" ") if any(ch.isalnum() for ch in w)]  # `Doe, Jane` → Doe, Jane
    if not words:
        return Plan(())
    if len(words) == 1:
        names = [CustomerQuery(first_name=words[0]), CustomerQuery(last_name=words[0])]
    elif len(words) == 2:
        names = [CustomerQuery(first_name=words[0], last_name=words[1]),
                 CustomerQuery(first_name=words[1], last_name=words[0])]
    else:
        names = [CustomerQuery(first_name=" ".join(words[:-1]), last_name=words[-1]),
                 CustomerQuery(first_name=words[0], last_name=" ".join(words[1:]))]
    if len(words) < 3:
        return Plan(tuple(names), scan=True)
    if "company" in filters:
        return Plan(tuple(names + [CustomerQuery(company=query.text)]))
    return Plan(tuple(names + [CustomerQuery(first_name=words[-1], last_name=" ".join(words[:-1]))]))


def phone_forms(typed: str) -> list[str]:
    """The spellings of a number stores most often hold, as typed first: ``+1 (217) 555-0101``
    → ``["+1 (217) 555-0101", "2175550101", "217-555-0101", "(217) 555-0101", …]``.

    North American numbers (ten digits, or eleven after a ``1``) are asked without the country
    code, digits only and dashed; others digits only and with ``+``.
    """
    typed = " ".join(typed.split())
    number = digits(typed)
    national = number[1:] if len(number) == 11 and number.startswith("1") else number
    forms = [typed]
    if len(national) == 10 and (len(number) == 11 or not typed.startswith("+")):
        a, b, c = national[:3], national[3:6], national[6:]
        forms += [national, f"{a}-{b}-{c}", f"({a}) {b}-{c}", f"+1 {a} {b} {c}", f"1{national}"]
    forms += [number, f"+{number}", number.lstrip("0")]
    return _unique(f for f in forms if f.strip("+"))


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


# =============================================================================================
# 3. matching and ranking


def score(query: Query, customer: Customer) -> int:
    """How well ``customer`` matches ``query``: 0 = not at all; 100 = exactly.

    Words: the full name in order 100, in the other order 95, the company exactly 90, every
    word a whole word of the name 80, of name and company 70, every word the start of a name
    word 60, of a company word 50, the text inside the name or company 30.
    Phones: the same digits 100; one number the other with a country code or a trunk 0 in
    front 90. Addresses: the same address 100; the part is the whole domain 90 (``@acme.com``)
    or a parent domain 80 (``mail.acme.com``), the start of the address 70, inside it 40.
    """
    if query.kind == "phone":
        return _phone_score(query.value, customer.phone)
    if query.kind in ("email", "email_part"):
        return _email_score(query, customer.email.strip().lower())
    return _words_score(query, customer)


def rank(query: Query, customers: Iterable[Customer]) -> list[Match]:
    """The customers that match, best first; then enabled before disabled, by name, by id.
    Each customer once (the same id from several requests counts once)."""
    unique = {c.id: c for c in customers}
    matches = [Match(c, s) for c in unique.values() if (s := score(query, c)) > 0]
    matches.sort(key=lambda m: (-m.score, not m.customer.enabled, fold(m.customer.full_name or m.customer.email),
                                m.customer.id))
    return matches


def _phone_score(wanted: str, stored: str) -> int:
    have = digits(stored)
    if not have or not wanted:
        return 0
    if have == wanted:
        return 100
    a, b = have.lstrip("0"), wanted.lstrip("0")
    short, long = sorted((a, b), key=len)
    if len(short) >= MIN_PHONE_DIGITS and long.endswith(short) and len(long) - len(short) <= MAX_PREFIX_DIGITS:
        return 90
    return 0


def _email_score(query: Query, stored: str) -> int:
    part = query.value
    if not stored or not part:
        return 0
    if stored == part:
        return 100
    if query.kind == "email":
        return 0
    domain = stored.partition("@")[2]
    if part.startswith("@"):
        if domain == part[1:]:
            return 90
        if domain.endswith("." + part[1:]):
            return 80
    if stored.startswith(part):
        return 70
    return 40 if part in stored else 0


def _words_score(query: Query, customer: Customer) -> int:
    wanted = query.words
    if not wanted:
        return 0
    first, last, company = fold(customer.first_name), fold(customer.last_name), fold(customer.company)
    whole = query.value
    if whole == f"{first} {last}".strip():
        return 100
    if first and last and whole == f"{last} {first}":
        return 95
    if company and whole == company:
        return 90
    name_words = (first + " " + last).split()
    company_words = company.split()
    if _all_in(wanted, name_words):
        return 80
    if _all_in(wanted, name_words + company_words):
        return 70
    if _all_prefixes(wanted, name_words):
        return 60
    if _all_prefixes(wanted, name_words + company_words):
        return 50
    if whole in f"{first} {last}" or whole in f"{last} {first}" or (company and whole in company):
        return 30
    return 0


def _all_in(wanted: Iterable[str], words: list[str]) -> bool:
    pool = list(words)
    for word in wanted:
        if word not in pool:
            return False
        pool.remove(word)
    return True


def _all_prefixes(wanted: Iterable[str], words: list[str]) -> bool:
    pool = list(words)
    for word in sorted(wanted, key=len, reverse=True):
        hit = next((w for w in pool if w.startswith(word)), None)
        if hit is None:
            return False
        pool.remove(hit)
    return True
