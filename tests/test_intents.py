"""Tests for bot/intents/: parse, find_emails and the button-value codec.

Table tests pin every documented form; hypothesis properties cover the rest. Run the long
adversarial version with ``HYPOTHESIS_PROFILE=fuzz`` (10 000 examples per property).
"""

from __future__ import annotations

import os
import string
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from bot import intents as i
from bot.intents import (
    COMMANDS, MAX_BATCH, MAX_GROUP, MAX_ID, MAX_PAGE, MAX_VALUE, USAGE, ApproveAll, Approve,
    Delete, Deny, Find, Help, History, ListGroups, Lookup, Members, Move, NotUnderstood, Pending,
    SetFlag, Undo, decode, encode, find_emails, parse,
)
from bot.store.models import FLAGS


def _ensure_profile(name: str, **options: object) -> None:
    """Register ``name`` unless someone (a shared conftest) already did."""
    try:
        settings.get_profile(name)
    except InvalidArgument:
        settings.register_profile(name, **options)


_ensure_profile("fuzz", max_examples=10_000, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
if os.environ.get("HYPOTHESIS_PROFILE"):  # never override a profile chosen elsewhere
    settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])

JANE = "jane@example.com"


# =============================================================================================
# Table tests: documented forms

@pytest.mark.parametrize("text, expected", [
    # lookup
    ("jane@example.com", Lookup(JANE)),
    ("lookup jane@example.com", Lookup(JANE)),
    ("LOOKUP Jane@Example.COM", Lookup(JANE)),
    ("  lookup \t  jane@example.com  ", Lookup(JANE)),
    ("lookup\u00a0jane@example.com", Lookup(JANE)),
    ("<mailto:jane@example.com|jane@example.com>", Lookup(JANE)),
    ("lookup <mailto:Jane@Example.com|Jane@Example.com>", Lookup(JANE)),
    ("lookup <mailto:jane@example.com>", Lookup(JANE)),
    ("lookup jane@example.com.", Lookup(JANE)),
    ("lookup jane@example.com,", Lookup(JANE)),
    ("lookup (jane@example.com)", Lookup(JANE)),
    ("lookup \"jane@example.com\"", Lookup(JANE)),
    ("lookup 'jane@example.com'", Lookup(JANE)),
    ("lookup “jane@example.com”", Lookup(JANE)),
    ("lookup [jane@example.com]", Lookup(JANE)),
    ("lookup &lt;jane@example.com&gt;", Lookup(JANE)),
    ("lookup (<mailto:jane@example.com|jane@example.com>).", Lookup(JANE)),
    ("lookup *jane@example.com*", Lookup(JANE)),
    ("lookup mailto:jane@example.com", Lookup(JANE)),
    ("lookup jane\u200b@example.com", Lookup(JANE)),
    ("lookup o'brien+vip_2@mail.sub.example.co.uk", Lookup("o'brien+vip_2@mail.sub.example.co.uk")),
    ("#123", Lookup(123)),
    ("lookup #123", Lookup(123)),
    ("lookup id:123", Lookup(123)),
    ("lookup ID:0042", Lookup(42)),
    # move
    ("move jane@example.com to Wholesale", Move(JANE, "Wholesale")),
    ("MOVE JANE@EXAMPLE.COM TO Wholesale", Move(JANE, "Wholesale")),
    ("move jane@example.com Wholesale", Move(JANE, "Wholesale")),
    ("move jane@example.com to Gold Tier", Move(JANE, "Gold Tier")),
    ("move   jane@example.com   to   Gold    Tier  ", Move(JANE, "Gold Tier")),
    ("move jane@example.com to \"Gold Tier\".", Move(JANE, "Gold Tier")),
    ("move jane@example.com to 5", Move(JANE, "5")),
    ("move jane@example.com to #5", Move(JANE, "5")),
    ("move jane@example.com to whole", Move(JANE, "whole")),
    ("move jane@example.com to to go", Move(JANE, "to go")),
    ("move <mailto:jane@example.com|jane@example.com> to Smith &amp; Co", Move(JANE, "Smith & Co")),
    ("move #12 to Retail", Move(12, "Retail")),
    # flags
    ("enable jane@example.com", SetFlag(JANE, "enabled", True)),
    ("disable jane@example.com", SetFlag(JANE, "enabled", False)),
    ("subscribe jane@example.com", SetFlag(JANE, "mail_list", True)),
    ("Unsubscribe <mailto:JANE@example.com|JANE@example.com>", SetFlag(JANE, "mail_list", False)),
    # others
    ("delete jane@example.com", Delete(JANE, confirmed=False)),
    ("delete id:7", Delete(7)),
    ("groups", ListGroups()),
    ("GROUPS", ListGroups()),
    ("members Wholesale", Members("Wholesale")),
    ("members Gold Tier", Members("Gold Tier")),
    ("members Gold Tier page 3", Members("Gold Tier", 3)),
    ("members 5 PAGE 2", Members("5", 2)),
    ("pending", Pending()),
    ("pending page 2", Pending(2)),
    ("approve jane@example.com", Approve(JANE)),
    ("deny jane@example.com", Deny(JANE)),
    ("history jane@example.com", History(JANE)),
    ("history #9", History(9)),
    ("help", Help()),
    ("HELP me", Help()),
    ("help?", Help()),
    ("", Help()),
    ("   \t\n\u00a0 ", Help()),
])
def test_documented_forms(text: str, expected: i.Intent) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize("typo, meant", [
    ("mvoe", "move"), ("dlete", "delete"), ("subscirbe", "subscribe"),
    ("unsubscirbe", "unsubscribe"), ("hlep", "help"), ("grups", "groups"),
    ("memebrs", "members"), ("pend", "pending"), ("apporve", "approve"), ("histroy", "history"),
    ("Enabel", "enable"), ("remove", "delete"), ("show", "find"), ("serch", "search"),
])
def test_typos_suggest_the_command(typo: str, meant: str) -> None:
    result = parse(f"{typo} {JANE}")
    assert isinstance(result, NotUnderstood)
    assert result.suggestion == meant
    assert f"`{typo}`" in result.reason


@pytest.mark.parametrize("text, expected", [
    ("Jane Doe", Find("Jane Doe")),
    ("doe, jane", Find("doe, jane")),
    ("José Núñez", Find("José Núñez")),
    ("Acme", Find("Acme")),
    ('"Park & Sons"', Find("Park & Sons")),
    ("+1 (217) 555-0101", Find("+1 (217) 555-0101")),
    ("217 555 0101", Find("217 555 0101")),
    ("2175550101", Find("2175550101")),
    ("@acme.com", Find("@acme.com")),
    ("find Jane Doe", Find("Jane Doe")),
    ("search Jane Doe", Find("Jane Doe")),
    ("FIND (217) 555-0101", Find("(217) 555-0101")),
    ("find jane@example.com", Find("jane@example.com")),
    ("find jane@", Find("jane@")),
    ("find #123", Lookup(123)),
    ("find id:123", Lookup(123)),
    ("find 123", Lookup(123)),
    ("#123", Lookup(123)),
    ("id:123", Lookup(123)),
    ("jane@example.com", Lookup(JANE)),
    ("Moe Smith", Find("Moe Smith")),           # a name that starts like `move`: searched
    ("Denny Smith", Find("Denny Smith")),       # … like `deny`
    ("mvoe Jane to VIP", Find("mvoe Jane to VIP")),  # no customer named: searched (the answer suggests `move`)
    ("<mailto:x@acme.com|@acme.com>", Lookup("x@acme.com")),
])
def test_search_forms(text: str, expected: i.Intent) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize("text, suggestion", [
    ("mvoe jane@example.com", "move"),      # a customer after the first word: a mistyped command
    ("mvoe #12 to VIP", "move"),
    ("dlete jane@example.com", "delete"),
    ("grups", "groups"),                    # a lone near-miss of a command word
    ("mvoe", "move"),
    ("Denny", "deny"),
    ("show Jane Doe", "find"),              # a synonym: suggested, not obeyed
    ("whois 217 555 0101", "find"),
])
def test_typo_or_search_boundary(text: str, suggestion: str) -> None:
    result = parse(text)
    assert isinstance(result, NotUnderstood), result
    assert result.suggestion == suggestion


def test_a_lone_near_miss_says_how_to_search_for_it() -> None:
    result = parse("Denny")
    assert isinstance(result, NotUnderstood) and "`find Denny`" in result.reason
    result = parse("show Jane Doe")
    assert isinstance(result, NotUnderstood) and "`find Jane Doe`" in result.reason


@pytest.mark.parametrize("text", ["find #0", "find #99999999999999999999", "search id:0", "find ID:00"])
def test_find_an_invalid_id_says_so_rather_than_search(text: str) -> None:
    result = parse(text)
    assert isinstance(result, NotUnderstood), result
    assert "isn't a valid customer id" in result.reason and "from 1" in result.reason


def test_find_a_channel_or_a_valid_id_is_unchanged() -> None:  # positive controls
    assert parse("find #5") == Lookup(5)
    assert parse("find #general") == Find("#general")


@pytest.mark.parametrize("text", ["pending page 0", "pending page x", "pending page 99999999"])
def test_pending_with_a_bad_page_says_what_a_page_is(text: str) -> None:
    result = parse(text)
    assert isinstance(result, NotUnderstood) and result.reason.startswith("The page must be a number from 1")
    assert "takes nothing else" in parse("pending soon").reason


def test_suggest_command() -> None:
    assert i.suggest_command("mvoe") == "move"
    assert i.suggest_command("Jane") is None


@pytest.mark.parametrize("text, expected", [
    ("hi, Jane Doe here, my number is 217-555-0101", [Find("217-555-0101")]),
    ("customer #42 (id:7), mail <mailto:jane@example.com|jane@example.com>, phone +1 (217) 555-0101",
     [Lookup(JANE), Lookup(42), Lookup(7), Find("+1 (217) 555-0101")]),
    ("order 2026-11-23, &#123; and <#C1|general>", []),
    ("#0 #00 #12 #12", [Lookup(12)]),
])
def test_find_customers_in_a_message(text: str, expected: list[i.Intent]) -> None:
    assert i.find_customers_in(text) == expected


def test_find_button_values_round_trip() -> None:
    assert encode(Find("Jane Doe", 2)) == "find:Jane%20Doe:2"
    assert decode("find:Jane%20Doe:2") == Find("Jane Doe", 2)
    for bad in ("find::1", "find:Jane:0", "find:Jane", "find:%20Jane:1", "find:" + "x" * 101 + ":1", "find:%3F:1",
                "find:a%0Ab:1"):
        assert decode(bad) is None, bad


@pytest.mark.parametrize("text, in_reason", [
    ("@bob", "`@bob` isn't an address or a command"),
    ("move", "`move` needs an address and a group, like `move jane@example.com to Wholesale`"),
    ("move jane@example.com", "`move` needs a group"),
    ("move jane@example.com to", "`move` needs a group"),
    ("move jane to Gold", "`jane` isn't a valid address"),
    ("move Gold to jane@example.com", "Put the address right after `move`"),
    ("move jane@example.com to bob@example.com", "`bob@example.com` is an address, not a group"),
    ("move jane@example.com to " + "x" * (MAX_GROUP + 1), "too long"),
    ("enable", "`enable` needs an address"),
    ("disable jane@", "`jane@` isn't a valid address"),
    ("delete jane@example", "`jane@example` isn't a valid address"),
    ("delete jane@@example.com", "isn't a valid address"),
    ("delete jane doe@example.com", "`jane` isn't a valid address"),
    ("lookup jane@example.com bob@example.com", "one customer at a time"),
    ("lookup #0", "`#0` isn't a valid customer id"),
    (f"lookup #{MAX_ID + 1}", "isn't a valid customer id"),
    ("lookup #١٢٣", "isn't a valid customer id"),
    ("history", "`history` needs an address"),
    ("approve all", "Approve all button"),
    ("members", "`members` needs a group"),
    ("members Gold page x", "page must be a number"),
    (f"members Gold page {MAX_PAGE + 1}", "page must be a number"),
    ("pending now", "`pending` takes nothing else"),
    ("groups all", "`groups` takes nothing else"),
    ("jane@example", "`jane@example` isn't a valid email address"),
    ("123", "for a customer id write `#123`"),
    ("jane@example.com move", "Put the command first"),
    ("<@U123|bob>", "`@bob` isn't an address or a command"),
    ("<#C1|general>", "`#general` isn't an address or a command"),
    ("<!here>", "`@here`"),
    ("`@bob make`", "`@bob` isn't an address or a command"),  # backticks around the whole text
    ("#general", "`#general` isn't an address or a command"),
    ("find", "`find` needs something to look for"),
    ("search", "`search` needs something to look for"),
    ("find " + "x" * 101, "too long to search for"),
    ("find ?!", "nothing to search for"),
    ("-- !!", "nothing to search for"),
])
def test_not_understood_reasons(text: str, in_reason: str) -> None:
    result = parse(text)
    assert isinstance(result, NotUnderstood), result
    assert in_reason in result.reason
    assert result.reason.count("`") % 2 == 0  # backticks pair up: the reason renders cleanly


@pytest.mark.parametrize("bad", [
    "jane", "jane@", "@example.com", "jane@example", "jane@exa mple.com", "jane@.com",
    "jane@example.c", "jane..doe@example.com", ".jane@example.com", "jane.@example.com",
    "jane@-example.com", "jane@example-.com", "jané@example.com", "jane@ex_ample.com",
    "a" * 65 + "@example.com", "jane@" + "a" * 250 + ".com", "jane@example.com@example.com",
])
def test_invalid_addresses_are_not_understood(bad: str) -> None:
    assert isinstance(parse(f"lookup {bad}"), NotUnderstood)
    assert i.normalize_email(bad) is None


def test_not_understood_keeps_a_short_echo_of_the_text() -> None:
    result = parse("blah " * 100)
    assert isinstance(result, NotUnderstood)
    assert result.text.startswith("blah blah") and len(result.text) <= i.MAX_ECHO
    assert isinstance(parse("x" * 10_000), NotUnderstood)


def test_usage_lists_every_command() -> None:
    assert COMMANDS == tuple(dict.fromkeys(COMMANDS))
    assert set(i._HANDLERS) == set(COMMANDS)  # every command word has a parser, and only those
    for command in COMMANDS:
        assert f"`{command}" in USAGE
    assert "#123" in USAGE and "id:123" in USAGE
    assert "<" not in USAGE and "*" not in USAGE  # plain text: backticks are the only markup


# ---------------------------------------------------------------------------------------------
# find_emails

@pytest.mark.parametrize("text, expected", [
    ("", []),
    ("no addresses here", []),
    ("write to jane@example.com.", [JANE]),
    ("<mailto:Jane@Example.com|Jane@Example.com> and jane@example.com, JANE@EXAMPLE.COM", [JANE]),
    ("bob@x.org; (jane@example.com) 'amy@y.io' \"zed@z.co\"", ["bob@x.org", JANE, "amy@y.io", "zed@z.co"]),
    ("<mailto:a@b.co>,<mailto:c@d.co|c@d.co>", ["a@b.co", "c@d.co"]),
    ("email:jane@example.com", [JANE]),
    ("&lt;jane@example.com&gt; &amp; bob@x.org", [JANE, "bob@x.org"]),
    ("<@U123|bob> <#C1|general> <!here> jane@example.com", [JANE]),
    ("a@b@c.com jane@example", []),
    ("first.last+tag@sub.example.co.uk", ["first.last+tag@sub.example.co.uk"]),
])
def test_find_emails(text: str, expected: list[str]) -> None:
    assert find_emails(text) == expected


def test_find_emails_caps_the_count() -> None:
    text = " ".join(f"user{n}@example.com" for n in range(50))
    assert find_emails(text) == [f"user{n}@example.com" for n in range(i.MAX_FOUND)]


def test_find_emails_is_fast_on_hostile_text() -> None:
    for text in ("a" * 200_000 + "@", "a'" * 100_000, "@a" * 100_000, ("a" * 60 + "@" + "b" * 60) * 1000):
        assert find_emails(text) == []  # linear: finishes in milliseconds (bench/ has the figures)
        # positive control: the same hostile text does not hide a real address after it
        assert find_emails(text + " x@example.com") == ["x@example.com"]


# ---------------------------------------------------------------------------------------------
# codec

@pytest.mark.parametrize("intent, value", [
    (Lookup(123), "look:123"),
    (Lookup(JANE), "look:jane@example.com"),
    (Move(123, "5"), "move:123:5"),
    (Move(123, ""), "move:123:"),
    (Move(123, "Gold Tier: A, B"), "move:123:Gold%20Tier%3A%20A%2C%20B"),
    (SetFlag(123, "enabled", True), "flag:123:enabled:1"),
    (SetFlag(123, "mail_list", False), "flag:123:mail_list:0"),
    (Delete(123), "del:123:0"),
    (Delete(123, confirmed=True), "del:123:1"),
    (ListGroups(), "groups"),
    (Members("5", 2), "mem:5:2"),
    (Pending(), "pend:1"),
    (Pending(2), "pend:2"),
    (Approve(123), "appr:123"),
    (Deny(123), "deny:123"),
    (ApproveAll((1, 2, 3)), "all:1,2,3"),
    (History(123), "hist:123"),
    (Undo(42), "undo:42"),
    (Help(), "help"),
])
def test_codec_format(intent: i.Intent, value: str) -> None:
    assert encode(intent) == value
    assert decode(value) == intent


@pytest.mark.parametrize("value", [
    "", ":", "look", "look:", "look:-1", "look:0", "look:007", "look:+5", "look: 5", "look:5 ",
    "look:１２", "look:١٢", f"look:{MAX_ID + 1}", "look:" + "9" * 5000, "look:jane",
    "look:jane%40example.com", "look:1:2", "LOOK:1", "lookup:1", "move:1", "move:1:a:b",
    "move:1:%ZZ", "move:1:%FF", "move:1:a%0Ab", "move:1:%20a", "move:1:a%20%20b",
    "move:1:" + "x" * (MAX_GROUP + 1), "flag:1:admin:1", "flag:1:enabled:2", "flag:1:enabled:",
    "flag:1:enabled:true", "del:1", "del:1:yes", "groups:", "groups:1", "help:x", "mem:5",
    "mem::1", "mem:5:0", f"mem:5:{MAX_PAGE + 1}", "pend", "pend:", "pend:0", "all:", "all:,",
    "all:1,,2", "all:1,-2", "all:1,2,", "all:" + ",".join(["1"] * (MAX_BATCH + 1)), "undo:",
    "undo:0", "undo:x", "appr:1,2", "x" * (MAX_VALUE + 1), "look:1\x00", "\udcff",
])
def test_decode_rejects_malformed_values(value: str) -> None:
    assert decode(value) is None


def test_decode_ignores_non_strings() -> None:
    assert decode(None) is None  # type: ignore[arg-type]
    assert decode(b"look:1") is None  # type: ignore[arg-type]


def test_decode_accepts_the_biggest_values() -> None:
    assert decode(f"look:{MAX_ID}") == Lookup(MAX_ID)
    ids = tuple(range(1, MAX_BATCH + 1))
    assert decode(encode(ApproveAll(ids))) == ApproveAll(ids)


@pytest.mark.parametrize("intent", [
    NotUnderstood("x"), Lookup(0), Lookup(-1), Lookup(MAX_ID + 1), Lookup(True), Lookup("jane"),
    Move(1, " padded "), Move(1, "a\nb"), Move(1, "x" * (MAX_GROUP + 1)), Members("", 1),
    Members("5", 0), Pending(0), ApproveAll(()), ApproveAll([1, 2]),  # type: ignore[arg-type]
    ApproveAll(tuple(range(1, MAX_BATCH + 2))), Undo(0), SetFlag(1, "admin", True),  # type: ignore[arg-type]
    ApproveAll((MAX_ID,) * MAX_BATCH),  # 500 ids, but over MAX_VALUE characters
])
def test_encode_refuses_what_cannot_round_trip(intent: i.Intent) -> None:
    with pytest.raises(ValueError):
        encode(intent)


# =============================================================================================
# Strategies

_LOCAL_FIRST = string.ascii_lowercase + string.digits + "_+-"
_LOCAL_REST = _LOCAL_FIRST + "'"
_LABEL_CHARS = string.ascii_lowercase + string.digits


@st.composite
def emails(draw: st.DrawFn) -> str:
    """Valid, lower-case addresses (``parse`` returns them lower-cased)."""
    segment = st.text(_LOCAL_REST, min_size=1, max_size=8)
    local = draw(st.text(_LOCAL_FIRST, min_size=1, max_size=1)) + draw(st.text(_LOCAL_REST, max_size=8))
    local += "".join("." + s for s in draw(st.lists(segment, max_size=2)))
    label = st.builds(
        lambda a, mid, b: a + (mid + b if mid or b else ""),
        st.sampled_from(_LABEL_CHARS), st.text(_LABEL_CHARS + "-", max_size=6),
        st.text(_LABEL_CHARS, max_size=1),
    ).filter(lambda s: not s.endswith("-"))
    labels = draw(st.lists(label, min_size=1, max_size=3))
    tld = draw(st.text(string.ascii_lowercase, min_size=2, max_size=6))
    return f"{local}@{'.'.join(labels)}.{tld}"


def _random_case(text: str, flips: list[bool]) -> str:
    return "".join(c.upper() if flip else c for c, flip in zip(text, flips + [False] * len(text)))


cased_emails = st.builds(lambda e, f: (e, _random_case(e, f)), emails(), st.lists(st.booleans()))
"""``(expected lower-case address, the same address in mixed case)``."""

ids = st.integers(1, MAX_ID)
whos = st.one_of(ids, emails())
pages = st.integers(1, MAX_PAGE)

_WORD = st.from_regex(r"[A-Za-z0-9ÀÉÖÜàéöüßç]+(?:[&'.-][A-Za-z0-9ÀÉÖÜàéöüßç]+)?", fullmatch=True)
group_names = (
    st.lists(_WORD, min_size=1, max_size=4).map(" ".join)
    .filter(lambda g: len(g) <= MAX_GROUP and not g.isdigit())
)
"""Group names as a person would type them: words of letters, digits and inner ``& ' . -``."""


def _spell_who(who: i.Who, draw: st.DrawFn) -> str:
    """One of the ways a user may type ``who`` (a lower-case address or an int id)."""
    if isinstance(who, int):
        return draw(st.sampled_from([f"#{who}", f"id:{who}", f"ID:{who}"]))
    template = draw(st.sampled_from([
        "{}", "{}.", "{},", "({})", "\"{}\"", "<mailto:{}|{}>", "<mailto:{}>", "&lt;{}&gt;",
    ]))
    cased = _random_case(who, draw(st.lists(st.booleans())))
    return template.format(cased, cased)


SPACES = st.text(" \t\u00a0\u2007\u202f", min_size=1, max_size=3)


@st.composite
def documented(draw: st.DrawFn) -> tuple[str, i.Intent]:
    """``(text, the intent it must parse to)`` for every documented form."""
    who = draw(whos)
    group = draw(group_names)
    kind = draw(st.sampled_from([
        "bare", "lookup", "move", "move-no-to", "enable", "disable", "subscribe", "unsubscribe",
        "delete", "groups", "members", "members-page", "pending", "approve", "deny", "history",
        "help", "undo",
    ]))
    single = {
        "lookup": Lookup(who), "enable": SetFlag(who, "enabled", True),
        "disable": SetFlag(who, "enabled", False), "subscribe": SetFlag(who, "mail_list", True),
        "unsubscribe": SetFlag(who, "mail_list", False), "delete": Delete(who),
        "approve": Approve(who), "deny": Deny(who), "history": History(who),
    }
    spelled = _spell_who(who, draw)
    if kind == "bare":
        words, expected = [spelled], Lookup(who)
    elif kind in single:
        words, expected = [kind, spelled], single[kind]
    elif kind == "move":
        words, expected = ["move", spelled, "to", group], Move(who, group)
    elif kind == "move-no-to":
        assume(group.split()[0].lower() != "to")
        words, expected = ["move", spelled, group], Move(who, group)
    elif kind == "members":
        assume(len(group.split()) < 2 or group.split()[-2].lower() != "page")
        words, expected = ["members", group], Members(group)
    elif kind == "members-page":
        page = draw(pages)
        words, expected = ["members", group, "page", str(page)], Members(group, page)
    elif kind == "groups":
        words, expected = ["groups"], ListGroups()
    elif kind == "pending":
        words, expected = ["pending"], Pending()
    elif kind == "undo":
        words, expected = ["undo"], i.UndoLatest()
    else:
        words, expected = ["help"], Help()
    if kind != "bare":  # keywords in any case (the address is already mixed-case)
        words[0] = _random_case(words[0], draw(st.lists(st.booleans())))
    text = draw(SPACES).join(words) if draw(st.booleans()) else " ".join(words)
    return draw(st.sampled_from(["", " ", "\t"])) + text + draw(st.sampled_from(["", " ", "\n"])), expected


SLACK_MARKUP = st.sampled_from([
    "<@U123|bob>", "<@U123>", "<#C1|general>", "<#C1>", "<!here>", "<!channel>",
    "<!subteam^S1|@team>", "<!date^1392734382^{date}|Feb 18>", "<http://x.io|site>", "<http://x.io>",
    "<mailto:jane@example.com|jane@example.com>", "<mailto:>", "<mailto:|>", "<>", "<|>", "<", ">",
    "&amp;", "&lt;", "&gt;", "&amp;lt;", "&", "|",
])
JUNK_WORDS = st.one_of(
    st.sampled_from(COMMANDS + ("to", "page", "all", "#", "id:", "mailto:", "@", ".", "#0", "id:-1")),
    st.integers(-10**30, 10**30).map(str),
    st.integers(0, 10**30).map(lambda n: f"#{n}"),
    emails(), SLACK_MARKUP, st.text(max_size=8),
    st.text(string.ascii_letters + "@.-_+'", max_size=12),
)
mixed_text = st.lists(
    st.tuples(JUNK_WORDS, st.sampled_from(["", " ", "  ", "\t", "\u00a0", "\n", ",", "\u200b"])),
    max_size=8,
).map(lambda pairs: "".join(word + sep for word, sep in pairs))


def _valid_who(who: object) -> bool:
    if isinstance(who, bool):
        return False
    if isinstance(who, int):
        return 1 <= who <= MAX_ID
    return isinstance(who, str) and i.is_email(who)


def assert_well_formed(intent: object) -> None:
    """``intent`` is one of ours with fields the desk can trust as to type and range."""
    assert isinstance(intent, (Help, NotUnderstood, Lookup, Move, SetFlag, Delete, ListGroups,
                               Members, Pending, Approve, Deny, ApproveAll, History, Undo, i.UndoLatest, Find))
    if isinstance(intent, Find):
        assert 0 < len(intent.text) <= i.finder.MAX_TEXT and intent.text == " ".join(intent.text.split())
        assert type(intent.page) is int and 1 <= intent.page <= MAX_PAGE
    who = getattr(intent, "who", None)
    if who is not None:
        assert _valid_who(who), intent
    if isinstance(intent, (Move, Members)):
        assert isinstance(intent.group, str) and len(intent.group) <= MAX_GROUP
        assert intent.group == " ".join(intent.group.split())
    if isinstance(intent, (Members, Pending)):
        assert type(intent.page) is int and 1 <= intent.page <= MAX_PAGE
    if isinstance(intent, SetFlag):
        assert intent.flag in FLAGS and type(intent.value) is bool
    if isinstance(intent, Delete):
        assert type(intent.confirmed) is bool
    if isinstance(intent, ApproveAll):
        assert type(intent.ids) is tuple and 1 <= len(intent.ids) <= MAX_BATCH
        assert all(_valid_who(n) and isinstance(n, int) for n in intent.ids)
    if isinstance(intent, Undo):
        assert type(intent.change_id) is int and 1 <= intent.change_id <= MAX_ID


search_texts = (st.text(st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn")), min_size=1, max_size=100)
                .map(lambda t: " ".join(t.split())).filter(lambda t: any(ch.isalnum() for ch in t)))


@st.composite
def button_intents(draw: st.DrawFn) -> i.Intent:
    who = draw(whos)
    group = draw(group_names)
    return draw(st.sampled_from([
        Lookup(who), Move(who, group), Move(who, ""), Delete(who, draw(st.booleans())),
        SetFlag(who, draw(st.sampled_from(FLAGS)), draw(st.booleans())), ListGroups(),
        Members(group, draw(pages)), Pending(draw(pages)), Approve(who), Deny(who),
        ApproveAll(tuple(draw(st.lists(ids, min_size=1, max_size=50)))), History(who),
        Undo(draw(ids)), Help(), Find(draw(search_texts), draw(pages)),
    ]))


TAGS = st.sampled_from(["look", "move", "flag", "del", "groups", "mem", "pend", "appr", "deny",
                        "all", "hist", "undo", "help", "find", "x", ""])
FIELDS = st.one_of(
    st.text(max_size=12), st.integers(-2**60, 2**60).map(str), emails(), st.sampled_from(FLAGS),
    st.sampled_from(["0", "1", "", "%", "%2", "%FF", "%C3%A9", "1,2,3", ",", "enabled"]),
)
value_like = st.builds(
    lambda tag, fields: ":".join([tag, *fields]), TAGS, st.lists(FIELDS, max_size=4),
)


# =============================================================================================
# Properties

@given(st.text())
def test_parse_never_raises_on_any_text(text: str) -> None:
    assert_well_formed(parse(text))


@given(mixed_text)
def test_parse_never_raises_on_mixed_commands_and_markup(text: str) -> None:
    result = parse(text)
    assert_well_formed(result)
    if not isinstance(result, NotUnderstood):
        assert decode(encode(result)) == result  # whatever parses can go on a button


@given(documented())
def test_parse_reads_every_documented_form(case: tuple[str, i.Intent]) -> None:
    text, expected = case
    assert parse(text) == expected


@given(st.text(string.ascii_lowercase, min_size=1, max_size=12))
def test_typo_suggestions_are_commands(word: str) -> None:
    result = parse(f"{word} {JANE}")
    if isinstance(result, NotUnderstood):
        assert result.suggestion is None or result.suggestion in COMMANDS
        assert result.reason


@given(st.text())
def test_find_emails_never_raises(text: str) -> None:
    found = find_emails(text)
    assert len(found) <= i.MAX_FOUND and len(set(found)) == len(found)
    assert all(i.is_email(e) and e == e.lower() for e in found)


@given(
    st.lists(cased_emails, min_size=1, max_size=5),
    st.lists(st.text(st.characters(blacklist_characters="<>", blacklist_categories=("Cs",))),
             min_size=6, max_size=6),
    st.lists(st.sampled_from([" {} ", "\n{}\n", " ({}), ", " <mailto:{}|{}> ", " <mailto:{}> ",
                              " &lt;{}&gt; ", " \"{}\". ", "\t{}:"]), min_size=5, max_size=5),
)
def test_find_emails_finds_every_embedded_address(
    addresses: list[tuple[str, str]], junk: list[str], templates: list[str],
) -> None:
    text = junk[0]
    for (_, cased), template, filler in zip(addresses, templates, junk[1:]):
        text += template.format(cased, cased) + filler
    found = find_emails(text)
    for expected, _ in addresses:
        assert expected in found or len(found) == i.MAX_FOUND


@given(st.text())
def test_decode_never_raises_on_any_text(value: str) -> None:
    result = decode(value)
    if result is not None:
        assert_well_formed(result)
        assert encode(result) == value


@given(value_like)
def test_decode_never_raises_on_value_like_text(value: str) -> None:
    result = decode(value)
    if result is not None:
        assert_well_formed(result)
        assert encode(result) == value


@given(button_intents())
def test_codec_round_trips(intent: i.Intent) -> None:
    value = encode(intent)
    assert decode(value) == intent
    assert len(value) <= MAX_VALUE
    assert value.isprintable() and " " not in value


@given(st.one_of(ids.map(lambda n: Move(n, "")), ids.map(lambda n: Move(n, str(n % 1000))),
                 st.tuples(ids, st.sampled_from(FLAGS), st.booleans()).map(lambda t: SetFlag(*t))))
def test_menu_values_fit_a_select_option(intent: i.Intent) -> None:
    assert len(encode(intent)) <= 150  # Slack's static_select option value limit


def test_history_takes_a_page_typed_or_on_a_button():
    from bot.intents import History, decode, encode, parse

    assert parse("history jane@example.com") == History("jane@example.com", 1)
    assert parse("history #12 page 3") == History(12, 3)
    assert "page must be a number" in parse("history jane@example.com page two").reason
    assert "one customer at a time" in parse("history a@example.com b@example.com").reason
    assert encode(History(12)) == "hist:12"  # buttons made before paging still decode
    assert decode("hist:12") == History(12) and decode("hist:a@example.com:4") == History("a@example.com", 4)
    assert decode("hist:12:1") is None and decode("hist:12:0") is None and decode("hist:12:x") is None


@given(st.text(max_size=300))
def test_find_customers_in_never_raises(text: str) -> None:
    found = i.find_customers_in(text)
    assert len(found) <= i.MAX_FOUND and len(set(found)) == len(found)
    for intent in found:
        assert_well_formed(intent)
        assert decode(encode(intent)) == intent


def test_the_package_stays_pure() -> None:
    """``bot.intents``, every module of it, loads no Slack, HTTP or database library."""
    probe = "import sys, bot.intents; print(*sorted(sys.modules))"
    loaded = set(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                                check=True).stdout.split())
    assert {"bot.intents.types", "bot.intents.emails", "bot.intents.parse", "bot.intents.codec"} <= loaded
    assert not {m for m in loaded if m.split(".")[0] in ("slack_bolt", "slack_sdk", "requests", "sqlalchemy", "redis")}
