"""Tests for bot/finder.py: reading a search text, planning store requests, matching, ranking."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import finder
from bot.finder import Query, digits, find_phones, fold, is_phone, phone_forms, plan, rank, read_query, score
from bot.store.models import Customer, CustomerQuery

BC_FILTERS = frozenset({"email", "first_name", "last_name", "phone", "company"})


def person(cid: int, first: str = "", last: str = "", *, email: str = "", company: str = "", phone: str = "",
           enabled: bool = True) -> Customer:
    return Customer(id=cid, email=email or f"c{cid}@example.com", first_name=first, last_name=last,
                    company=company, phone=phone, enabled=enabled)


# ---------------------------------------------------------------------------------------------
# reading the text


@pytest.mark.parametrize("text, kind, value", [
    ("Jane Doe", "words", "jane doe"),
    ("  JOSÉ   Núñez ", "words", "jose nunez"),
    ("O'Brien-Smith", "words", "obrien smith"),
    ("Acme Ltd.", "words", "acme ltd"),
    ("+1 (217) 555-0101", "phone", "12175550101"),
    ("217 555 0101", "phone", "2175550101"),
    ("2175550101", "phone", "2175550101"),
    ("217.555.0101", "phone", "2175550101"),
    ("@acme.com", "email_part", "@acme.com"),
    ("jane@", "email_part", "jane@"),
    ("Jane@Example.com", "email", "jane@example.com"),
])
def test_read_query(text: str, kind: str, value: str) -> None:
    query = read_query(text)
    assert (query.kind, query.value) == (kind, value)


@pytest.mark.parametrize("text", ["2175550101", "+44 113 555 0104", "(217) 555-0101", "1-217-555-0101", "5550101"])
def test_phone_numbers(text: str) -> None:
    assert is_phone(text)


@pytest.mark.parametrize("text", ["123456", "2026-11-23", "23.11.2026", "+1 2+17 555 0101", "217 555 0101 x", "",
                                  "1234567890123456", "Jane 5550101"])
def test_not_phone_numbers(text: str) -> None:
    assert not is_phone(text)


def test_the_same_number_typed_three_ways_has_the_same_digits() -> None:
    assert digits("+1 (217) 555-0101")[1:] == digits("217 555 0101") == digits("2175550101")


@pytest.mark.parametrize("text, expected", [
    ("hi, Jane Doe here, my number is 217-555-0101", ["217-555-0101"]),
    ("call (217) 555-0101 or +44 113 555 0104!", ["(217) 555-0101", "+44 113 555 0104"]),
    ("order #1234567 placed on 2026-11-23 at 10:30", []),
    ("mail 2175550101@example.com or bob2175550101", []),
    ("same 217-555-0101 and 217 555 0101", ["217-555-0101"]),
    ("", []),
])
def test_find_phones_in_a_message(text: str, expected: list[str]) -> None:
    assert find_phones(text) == expected


def test_fold_ignores_case_and_accents() -> None:
    assert fold("ZOË Müller-Łukasz") == fold("zoe muller lukasz") == "zoe muller lukasz"
    assert fold("Straße") == "strasse"


# ---------------------------------------------------------------------------------------------
# planning the store requests


def test_plan_for_a_two_word_name_asks_both_orders_and_reads_one_page_on_every_store() -> None:
    """BigCommerce too: its company filter may be exact (the sandbox's is), so `Acme` for
    `Acme Ltd` or `Jan D` is found only on the page the bot matches itself."""
    for filters in (BC_FILTERS, finder.SEARCH_FILTERS):
        result = plan(read_query("Jane Doe"), filters)
        assert result.queries == (CustomerQuery(first_name="Jane", last_name="Doe"),
                                  CustomerQuery(first_name="Doe", last_name="Jane"))
        assert result.scan and result.requests == 3


def test_plan_for_one_word_reads_one_bounded_page_on_every_store() -> None:
    for filters in (BC_FILTERS, finder.SEARCH_FILTERS):
        result = plan(read_query("Acme"), filters)
        assert result.queries == (CustomerQuery(first_name="Acme"), CustomerQuery(last_name="Acme"))
        assert result.scan and result.requests == 3


def test_plan_for_three_words_splits_the_name_two_ways_then_asks_the_company_where_it_can() -> None:
    names = (CustomerQuery(first_name="Mary Ann", last_name="Smith"), CustomerQuery(first_name="Mary", last_name="Ann Smith"))
    assert plan(read_query("Mary Ann Smith"), BC_FILTERS) == finder.Plan(names + (CustomerQuery(company="Mary Ann Smith"),))
    assert plan(read_query("Mary Ann Smith")) == finder.Plan(names + (CustomerQuery(first_name="Smith", last_name="Mary Ann"),))


def test_plan_for_a_phone_asks_two_spellings_and_reads_one_page() -> None:
    result = plan(read_query("+1 (217) 555-0101"))
    assert [q.phone for q in result.queries] == ["+1 (217) 555-0101", "2175550101"]
    assert result.scan and result.requests == 3
    assert [q.phone for q in plan(read_query("2175550101")).queries] == ["2175550101", "217-555-0101"]
    assert [q.phone for q in plan(read_query("217 555 0101"), BC_FILTERS).queries] == ["217 555 0101", "2175550101"]
    assert [q.phone for q in plan(read_query("+44 113 555 0104")).queries] == ["+44 113 555 0104", "441135550104"]
    assert phone_forms("+44 113 555 0104")[:3] == ["+44 113 555 0104", "441135550104", "+441135550104"]


def test_plan_for_addresses() -> None:
    assert plan(read_query("Jane@Example.com")).queries == (CustomerQuery(email="Jane@Example.com"),
                                                           CustomerQuery(email="jane@example.com"))
    assert plan(read_query("@acme.com")).queries == (CustomerQuery(email="acme.com"),)


@given(st.text(max_size=120), st.booleans())
def test_no_plan_costs_more_than_three_requests(text: str, company: bool) -> None:
    result = plan(read_query(text), BC_FILTERS if company else finder.SEARCH_FILTERS)
    assert result.requests <= finder.MAX_REQUESTS
    for query in result.queries:
        assert company or query.company is None


# ---------------------------------------------------------------------------------------------
# matching and ranking

JANE = person(1, "Jane", "Doe", email="jane@example.com", company="Acme Ltd", phone="+1 217 555 0101")


@pytest.mark.parametrize("text", [
    "Jane Doe", "doe jane", "JANE", "Doe", "jané dóe", "Acme", "acme ltd", "Jan D",
    "+1 (217) 555-0101", "217 555 0101", "2175550101", "217-555-0101", "@example.com", "jane@example.com", "jane@",
])
def test_every_form_matches_jane(text: str) -> None:
    assert score(read_query(text), JANE) > 0


@pytest.mark.parametrize("text", ["John Doe", "Jane Smith", "Globex", "217 555 0199", "555 0101 217", "@acme.com",
                                  "bob@example.com", "jane@example.co"])
def test_other_texts_do_not_match_jane(text: str) -> None:
    assert score(read_query(text), JANE) == 0


def test_phone_matches_with_or_without_country_code_and_trunk_zero() -> None:
    uk = person(2, phone="+44 113 555 0104")
    assert score(read_query("0113 555 0104"), uk) == 90
    assert score(read_query("+44 113 555 0104"), uk) == 100


def test_domain_part_matches_subdomains_too() -> None:
    sub = person(3, email="ann@mail.acme.com")
    exact = person(4, email="bo@acme.com")
    assert [m.customer.id for m in rank(read_query("@acme.com"), [sub, exact])] == [4, 3]


def test_rank_puts_the_exact_name_first_then_the_other_order_then_partial() -> None:
    customers = [
        person(10, "Janet", "Doerr"),             # prefixes only
        person(11, "Doe", "Jane"),                # the other order
        person(12, "Jane", "Doe", enabled=False),  # exact, but disabled
        person(13, "Jane", "Doe"),                # exact
        person(14, "John", "Smith"),              # no match
        person(15, "Sam", "Lee", company="Jane Doe Designs"),  # both words in the company
    ]
    ranked = rank(read_query("jane doe"), customers + customers[:2])  # duplicates count once
    assert [m.customer.id for m in ranked] == [13, 12, 11, 15, 10]


def test_rank_of_nothing_is_nothing() -> None:
    assert rank(read_query("Jane"), []) == []
    assert rank(Query("", "words"), [JANE]) == []


@given(st.text(string.printable, max_size=40), st.text(max_size=20), st.text(max_size=20), st.text(max_size=20))
def test_score_never_raises(text: str, first: str, last: str, phone: str) -> None:
    value = score(read_query(text), person(1, first, last, phone=phone))
    assert 0 <= value <= 100


@given(st.sampled_from(["({a}) {b}-{c}", "{a}-{b}-{c}", "{a}{b}{c}", "+1 {a} {b} {c}", "{a}.{b}.{c}", "1 {a} {b} {c}"]),
       st.sampled_from(["({a}) {b}-{c}", "{a}-{b}-{c}", "{a}{b}{c}", "+1 {a} {b} {c}", "{a}.{b}.{c}"]),
       st.from_regex(r"[2-9][0-9]{2}", fullmatch=True), st.from_regex(r"[0-9]{3}", fullmatch=True),
       st.from_regex(r"[0-9]{4}", fullmatch=True))
def test_a_number_matches_however_either_side_spelled_it(typed: str, stored: str, a: str, b: str, c: str) -> None:
    customer = person(1, phone=stored.format(a=a, b=b, c=c))
    assert score(read_query(typed.format(a=a, b=b, c=c)), customer) >= 90


def test_plan_ignores_punctuation_only_words() -> None:
    assert plan(read_query("Doe , Jane")).queries == (CustomerQuery(first_name="Doe", last_name="Jane"),
                                                     CustomerQuery(first_name="Jane", last_name="Doe"))
    assert plan(read_query("- !")).requests == 0
