"""Generated customers that look like a real store's: varied names (accents included), companies,
and phone numbers in the spellings shoppers type. Deterministic: the same ``n`` and ``seed``
give the same people, so tests and benchmarks can name who they expect to find.

Used by the sandbox (``SandboxStore.add_people``, ``python -m bot sandbox --people N``).
"""

from __future__ import annotations

import random
from typing import Any

FIRST_NAMES = (
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William", "Elizabeth",
    "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
    "José", "María", "Zoë", "Søren", "Chloé", "Émile", "Björn", "Inés", "Noël", "Anaïs",
    "Wei", "Aiko", "Priya", "Omar", "Fatima", "Ivan", "Olga", "Kwame", "Amara", "Mateo",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Müller", "Núñez", "O'Brien", "Łukasz", "Dubois", "Nakamura", "Okafor", "Petrov", "Rossi", "Schäfer",
    "Van der Berg", "Le Roux", "Kowalski", "Haddad", "Singh", "Chen", "Kim", "Nguyen", "Costa", "Silva",
)
COMPANY_WORDS = (
    "Northwind", "Contoso", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Acme", "Vandelay", "Hooli",
    "Pied Piper", "Soylent", "Tyrell", "Cyberdyne", "Wonka", "Gringotts", "Oceanic", "Monarch", "Aperture", "Dunder",
)
COMPANY_KINDS = ("Ltd", "Inc", "Trading", "Supply Co", "& Sons", "GmbH", "Imports", "Wholesale", "Group", "Partners")
DOMAINS = ("example.com", "example.org", "mail.example.net", "shop.example.co.uk")


def phone_spelling(national: str, style: int) -> str:
    """A ten-digit North American number the way a shopper might have typed it."""
    a, b, c = national[:3], national[3:6], national[6:]
    return (f"{a}-{b}-{c}", f"({a}) {b}-{c}", f"{a}{b}{c}", f"+1 {a} {b} {c}", f"{a}.{b}.{c}", f"1-{a}-{b}-{c}")[style % 6]


def people(n: int, *, seed: int = 0, first_id: int = 1) -> list[dict[str, Any]]:
    """``n`` customers as 3dcart records (without ``CustomerID``); record ``k`` is meant to get
    the ID ``first_id + k``. About one in three has a company, one in eight no phone."""
    rng = random.Random(seed)
    made = []
    for k in range(n):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        number = first_id + k
        local = f"{first}.{last}".lower().replace(" ", "").replace("'", "")
        local = local.encode("ascii", "ignore").decode() or "customer"
        company = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)}" if rng.random() < 0.33 else ""
        national = f"{rng.randint(201, 989)}555{number % 10_000:04d}"
        phone = phone_spelling(national, rng.randrange(6)) if rng.random() >= 0.125 else ""
        made.append({
            "Email": f"{local}{number}@{rng.choice(DOMAINS)}",
            "BillingFirstName": first, "BillingLastName": last, "BillingCompany": company,
            "BillingPhoneNumber": phone, "CustomerGroupID": 0, "Enabled": rng.random() >= 0.1,
            "MailList": rng.random() < 0.3,
        })
    return made
