"""The audit trail's pure primitives: canonical bytes, hashes, chain rule, Merkle checkpoints."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import IntEnum, StrEnum
from pathlib import Path
from random import Random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from decisions.audit import (
    CHECKPOINT_FORMAT,
    GENESIS,
    Checkpoint,
    FindingKind,
    HashAlgorithm,
    Head,
    available_algorithms,
    build_checkpoint,
    canonical_bytes,
    canonical_text,
    chain_hash,
    check_hasher,
    compare_to_checkpoint,
    hasher,
    hashing,
    is_canonical,
    is_digest,
    merkle_root,
    parse_canonical,
)
from decisions.errors import UsageError

DOC = Path(__file__).resolve().parent.parent / "docs" / "canonical-serialization.md"

SHA256 = hasher("sha256")
SM3_ABC = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
SM3_ABCD16 = "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"

BEIJING = timezone(timedelta(hours=8))

EXAMPLE_BODY = {
    "type": "action",
    "case": "D-2025-001",
    "seq": 1,
    "trigger": "propose",
    "at": datetime(2025, 3, 14, 9, 30, tzinfo=BEIJING),
    "actor": {"id": "u-17", "roles": ["drafter"]},
    "fields": {
        "title": "关于调整城市公交票价的决定",
        "budget": "1250000.00",
        "hearing": True,
        "note": None,
        "due": date(2025, 4, 11),
    },
}
EXAMPLE_TEXT = (
    '{"actor":{"id":"u-17","roles":["drafter"]},"at":"2025-03-14T01:30:00.000000Z","case":"D-2025-001",'
    '"fields":{"budget":"1250000.00","due":"2025-04-11","hearing":true,"note":null,'
    '"title":"关于调整城市公交票价的决定"},"seq":1,"trigger":"propose","type":"action"}'
)
EXAMPLE_SHA256 = "e4544fc1e2b1e5a8ab254a6c38a615d57283e8f42f812dde5b9d0b3dcc56869a"
EXAMPLE_SM3 = "a07967c32d8ba96fa29a23441a6b0b9cbbca3580a31d0f79d48f3404e6753a74"
EXAMPLE_EVENT_SHA256 = "711b7e46584628c42e58724011dcb5473ddd533c00de169afa74a075845d37c4"
EXAMPLE_EVENT_SM3 = "6ddcf0acc6c8615b3b9e886f40f3c733fa6dbe1ccf271fd069f9aaaf1ca57265"

EXAMPLE_HEADS = (
    Head("D-2025-001", 1, EXAMPLE_EVENT_SHA256),
    Head("CAT-2025", 2, "ab" * 32),
    Head("D-2025-002", 5, "0123456789abcdef" * 4),
)
EXAMPLE_ROOT_SHA256 = "35420faadac5ade4e761e1c26d2ffb2b6a82f43ef5650cab3ee940221bac853c"
EXAMPLE_ROOT_SM3 = "9b31ff92aa79e3d3ec2c36f9e75ac8e7b5f98578229109785aa3e25b982a9715"


# --- strategies -------------------------------------------------------------------------------------

nfc_text = st.text(st.characters(codec="utf-8")).map(lambda s: unicodedata.normalize("NFC", s))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | nfc_text,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(nfc_text, children, max_size=5),
    max_leaves=25,
)
digests = st.binary(min_size=1, max_size=8).map(lambda b: hashlib.sha256(b).hexdigest())
chain_ids = st.text("ABCDXYZ-0123456789中", min_size=1, max_size=8)
head_sets = st.dictionaries(chain_ids, st.tuples(st.integers(1, 10_000), digests), max_size=12).map(
    lambda d: [Head(chain, seq, digest) for chain, (seq, digest) in d.items()]
)


# --- canonical serialization ------------------------------------------------------------------------


def test_example_body_has_the_documented_bytes_and_hashes() -> None:
    data = canonical_bytes(EXAMPLE_BODY)
    assert data == EXAMPLE_TEXT.encode("utf-8")
    assert len(data) == 271
    assert "关于".encode() in data  # ensure_ascii=False: Chinese stays UTF-8
    assert hashlib.sha256(data).hexdigest() == EXAMPLE_SHA256
    assert chain_hash(SHA256, GENESIS, data) == EXAMPLE_EVENT_SHA256
    assert is_canonical(data)


def test_the_specification_page_shows_the_same_example() -> None:
    doc = DOC.read_text(encoding="utf-8")
    for pinned in (
        EXAMPLE_TEXT,
        EXAMPLE_SHA256,
        EXAMPLE_SM3,
        EXAMPLE_EVENT_SHA256,
        EXAMPLE_EVENT_SM3,
        EXAMPLE_ROOT_SHA256,
        SM3_ABC,
        canonical_text({"b": "Cafe\u0301\n", "B": [1, -20, True, None], "中": '"引号"', "a": {"😀": 0, "Ａ": 1}}),
    ):
        assert pinned in doc


def test_keys_sort_by_code_point_not_utf16() -> None:
    text = canonical_text({"中": 1, "a": 2, "B": 3, "😀": 4, "Ａ": 5, "é": 6})
    assert text == '{"B":3,"a":2,"é":6,"中":1,"Ａ":5,"😀":4}'


def test_strings_and_keys_are_nfc_normalized() -> None:
    assert canonical_text({"Cafe\u0301": "e\u0301"}) == '{"Café":"é"}'
    assert canonical_bytes("e\u0301") == canonical_bytes("\u00e9") == b'"\xc3\xa9"'


def test_keys_colliding_after_nfc_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"same after Unicode NFC"):
        canonical_bytes({"fields": {"Caf\u00e9": 1, "Cafe\u0301": 2}})


def test_escapes() -> None:
    assert canonical_text('"\\\b\f\n\r\t\x00\x1f\x7f/\u2028') == '"\\"\\\\\\b\\f\\n\\r\\t\\u0000\\u001f\x7f/\u2028"'


@given(st.text(st.characters(codec="utf-8")))
def test_string_escaping_matches_json_dumps(text: str) -> None:
    normalized = unicodedata.normalize("NFC", text)
    assert canonical_text(text) == json.dumps(normalized, ensure_ascii=False)


@given(json_values)
def test_matches_sorted_compact_json_and_round_trips(value: object) -> None:
    text = canonical_text(value)
    assert text == json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    data = canonical_bytes(value)
    assert parse_canonical(data) == value
    assert is_canonical(data)


def test_bool_is_not_int() -> None:
    assert canonical_text([True, False, 1, 0]) == "[true,false,1,0]"
    assert canonical_bytes({"a": True}) != canonical_bytes({"a": 1})


def test_tuples_are_arrays_and_enum_members_plain_values() -> None:
    class Colour(StrEnum):
        RED = "red"

    class Level(IntEnum):
        HIGH = 3

    assert canonical_text((Colour.RED, Level.HIGH, ())) == '["red",3,[]]'


def test_integers_of_any_size() -> None:
    for number in (0, -1, 2**64, -(10**5000) - 7, 10**9999 + 123):
        data = canonical_bytes({"n": number})
        assert data == b'{"n":' + _decimal(number).encode() + b"}"
        assert parse_canonical(data) == {"n": number}
        assert is_canonical(data)


def _decimal(number: int) -> str:
    sign, rest = ("-", -number) if number < 0 else ("", number)
    digits = []
    while True:
        rest, digit = divmod(rest, 10)
        digits.append(str(digit))
        if not rest:
            return sign + "".join(reversed(digits))


def test_dates_and_aware_datetimes() -> None:
    assert canonical_text(date(2025, 1, 2)) == '"2025-01-02"'
    assert canonical_text(date(1, 1, 1)) == '"0001-01-01"'
    assert canonical_text(datetime(2025, 1, 1, 7, 5, 3, tzinfo=BEIJING)) == '"2024-12-31T23:05:03.000000Z"'
    assert canonical_text(datetime(2025, 1, 1, 0, 0, 0, 42, tzinfo=UTC)) == '"2025-01-01T00:00:00.000042Z"'
    # the same instant in two zones is the same bytes
    instant = datetime(2025, 6, 1, 12, tzinfo=UTC)
    assert canonical_bytes(instant) == canonical_bytes(instant.astimezone(BEIJING))


def test_naive_datetime_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"at at: naive datetime"):
        canonical_bytes({"at": datetime(2025, 1, 1, 9)})


@pytest.mark.parametrize("number", [1.5, 0.0, float("nan"), Decimal("1250000.00")])
def test_floats_and_decimals_are_rejected_with_path(number: object) -> None:
    with pytest.raises(ValueError, match=r"at fields\.budget: .* not allowed .* strings"):
        canonical_bytes({"fields": {"budget": number}})


@pytest.mark.parametrize("collection", [{1, 2}, frozenset({"a"})])
def test_sets_are_rejected(collection: object) -> None:
    with pytest.raises(TypeError, match=r"at members: .*set is not allowed.*sort it into a list"):
        canonical_bytes({"members": collection})


def test_other_types_name_type_and_path() -> None:
    body = {"fields": {"views": [{"member": "a"}, {"member": "b"}, {"member": b"raw"}]}}
    with pytest.raises(TypeError, match=r"at fields\.views\[2\]\.member: .*type bytes"):
        canonical_bytes(body)
    with pytest.raises(TypeError, match=r"at the top level: .*type object"):
        canonical_bytes(object())
    with pytest.raises(TypeError, match=r"at fields\[\"a\.b\"\]\[0\]: .*type complex"):
        canonical_bytes({"fields": {"a.b": [1j]}})


def test_non_string_keys_are_rejected() -> None:
    with pytest.raises(TypeError, match=r"at x: object keys must be strings.*int"):
        canonical_bytes({"x": {1: "one"}})


def test_lone_surrogates_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"at note: .*lone surrogate U\+D800"):
        canonical_bytes({"note": "a\ud800b"})
    with pytest.raises(ValueError, match=r"lone surrogate U\+DC00"):
        canonical_bytes({"\udc00": 1})


def test_cycles_are_rejected() -> None:
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(ValueError, match=r"reference cycle"):
        canonical_bytes(loop)
    shared = ["x"]
    assert canonical_text([shared, shared]) == '[["x"],["x"]]'  # shared, not cyclic


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b'{"a":1,"a":2}', "duplicate object key"),
        (b'{"a":1.0}', "fraction or exponent"),
        (b'{"a":1e3}', "fraction or exponent"),
        (b'{"a":NaN}', "never canonical"),
        (b'{"a":"\xff"}', "utf-8"),
        ("\ufeff{}".encode(), "BOM"),
        (b'{"a":', "Expecting value"),
    ],
)
def test_parse_is_strict(data: bytes, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        parse_canonical(data)
    assert not is_canonical(data)


@pytest.mark.parametrize(
    "data",
    [
        b'{"a": 1}',  # whitespace
        b'{"b":1,"a":2}',  # unsorted
        b'{"a":1}\n',  # trailing newline
        b'"\\u00e9"',  # escaped non-ASCII
        b'"e\xcc\x81"',  # not NFC
        b"-0",
        b'"\\/"',  # escaped slash
        b'"\\ud800"',  # lone surrogate by escape
    ],
)
def test_non_canonical_forms(data: bytes) -> None:
    assert not is_canonical(data)


def test_canonical_forms() -> None:
    for data in (b"{}", b"[]", b"null", b'"\xc3\xa9"', b'{"a":[1,true,null,"x"]}'):
        assert is_canonical(data)


# --- hashing ----------------------------------------------------------------------------------------


@pytest.fixture
def fresh_sm3_probe() -> Iterator[None]:
    """Let a test patch the SM3 probes; forget whatever it chose afterwards."""
    hashing._sm3.cache_clear()
    yield
    hashing._sm3.cache_clear()


def test_sha256_known_vectors() -> None:
    assert SHA256(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert SHA256(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert hasher(HashAlgorithm.SHA256) is SHA256


def test_sm3_known_vectors_through_the_chosen_backend() -> None:
    sm3 = hasher("sm3")
    assert sm3(b"abc") == SM3_ABC
    assert sm3(b"abcd" * 16) == SM3_ABCD16
    assert hasher("SM3") is sm3  # detected once, cached; names are case-insensitive
    assert available_algorithms() == [HashAlgorithm.SHA256, HashAlgorithm.SM3]


def test_sm3_through_the_cryptography_backend() -> None:
    sm3 = hashing._cryptography_sm3()
    assert sm3 is not None, "the cryptography package is installed in the development environment"
    assert sm3(b"abc") == SM3_ABC
    assert sm3(b"abcd" * 16) == SM3_ABCD16
    assert sm3(canonical_bytes(EXAMPLE_BODY)) == EXAMPLE_SM3


def test_sm3_through_the_openssl_backend() -> None:
    sm3 = hashing._openssl_sm3()
    if sm3 is None:
        pytest.skip("this OpenSSL has no SM3")
    assert sm3(b"abc") == SM3_ABC
    assert sm3(b"abcd" * 16) == SM3_ABCD16
    assert sm3(canonical_bytes(EXAMPLE_BODY)) == EXAMPLE_SM3


def test_sm3_falls_back_to_cryptography(monkeypatch: pytest.MonkeyPatch, fresh_sm3_probe: None) -> None:
    monkeypatch.setattr(hashing, "_openssl_sm3", lambda: None)
    assert hasher("sm3")(b"abc") == SM3_ABC


def test_sm3_unavailable_is_a_usage_error(monkeypatch: pytest.MonkeyPatch, fresh_sm3_probe: None) -> None:
    monkeypatch.setattr(hashing, "_openssl_sm3", lambda: None)
    monkeypatch.setattr(hashing, "_cryptography_sm3", lambda: None)
    with pytest.raises(UsageError, match=r"本机不支持 SM3.*cryptography.*SM3 is not available.*OpenSSL 3"):
        hasher("sm3")
    assert available_algorithms() == [HashAlgorithm.SHA256]
    assert hasher("sha256")(b"abc") == SHA256(b"abc")


def test_a_backend_giving_wrong_answers_is_never_used() -> None:
    def broken(data: bytes) -> str:
        raise RuntimeError("unsupported")

    assert hashing._if_correct(lambda data: "0" * 64) is None
    assert hashing._if_correct(broken) is None


def test_unknown_algorithm_lists_the_known_ones() -> None:
    with pytest.raises(UsageError, match=r"unknown hash algorithm 'md5'; known: sha256, sm3"):
        hasher("md5")


def test_check_hasher() -> None:
    assert check_hasher(SHA256, "sha256") is HashAlgorithm.SHA256
    with pytest.raises(UsageError, match=r"does not compute sm3"):
        check_hasher(SHA256, "sm3")


def test_chain_hash_definition_and_genesis() -> None:
    assert GENESIS == "0" * 64
    body = canonical_bytes({"x": 1})
    assert chain_hash(SHA256, GENESIS, body) == SHA256(GENESIS.encode() + b"\n" + body)
    assert chain_hash(hasher("sm3"), GENESIS, canonical_bytes(EXAMPLE_BODY)) == EXAMPLE_EVENT_SM3


def test_chain_hash_binds_order() -> None:
    a, b = canonical_bytes({"n": 1}), canonical_bytes({"n": 2})
    in_order = chain_hash(SHA256, chain_hash(SHA256, GENESIS, a), b)
    swapped = chain_hash(SHA256, chain_hash(SHA256, GENESIS, b), a)
    assert in_order != swapped
    other_predecessor = chain_hash(SHA256, SHA256(b"another"), b)
    assert other_predecessor != in_order


@pytest.mark.parametrize("prev", ["", "0" * 63, "A" * 64, "g" * 64, "0" * 65])
def test_chain_hash_rejects_malformed_predecessors(prev: str) -> None:
    with pytest.raises(ValueError, match="prev_hash"):
        chain_hash(SHA256, prev, b"{}")


def test_is_digest() -> None:
    assert is_digest(GENESIS) and is_digest(SHA256(b""))
    assert not is_digest("F" * 64) and not is_digest(None) and not is_digest("0" * 40)


# --- Merkle root ------------------------------------------------------------------------------------


def test_merkle_root_is_pinned() -> None:
    assert merkle_root(SHA256, EXAMPLE_HEADS) == EXAMPLE_ROOT_SHA256
    assert merkle_root(hasher("sm3"), EXAMPLE_HEADS) == EXAMPLE_ROOT_SM3


def test_merkle_root_by_hand() -> None:
    leaves = [
        SHA256(b'\x00{"chain":"CAT-2025","hash":"' + b"ab" * 32 + b'","seq":2}'),
        SHA256(b'\x00{"chain":"D-2025-001","hash":"' + EXAMPLE_EVENT_SHA256.encode() + b'","seq":1}'),
        SHA256(b'\x00{"chain":"D-2025-002","hash":"' + b"0123456789abcdef" * 4 + b'","seq":5}'),
    ]
    left = SHA256(b"\x01" + (leaves[0] + leaves[1]).encode())
    assert merkle_root(SHA256, EXAMPLE_HEADS) == SHA256(b"\x01" + (left + leaves[2]).encode())


def test_merkle_root_of_none_and_one() -> None:
    assert merkle_root(SHA256, []) == SHA256(b"")
    head = EXAMPLE_HEADS[0]
    assert merkle_root(SHA256, [head]) == SHA256(
        b"\x00" + canonical_bytes({"chain": head.chain, "seq": head.seq, "hash": head.hash})
    )


def _rfc6962_root(h: Callable[[bytes], str], leaves: list[str]) -> str:
    """RFC 6962 MTH: split at the largest power of two below n (with hex concatenation)."""
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return h(b"\x01" + (_rfc6962_root(h, leaves[:k]) + _rfc6962_root(h, leaves[k:])).encode())


@pytest.mark.parametrize("n", range(1, 34))
def test_odd_node_promotion_gives_the_rfc6962_shape(n: int) -> None:
    heads = [Head(f"D-2025-{i:03d}", i + 1, SHA256(str(i).encode())) for i in range(n)]
    leaves = [SHA256(b"\x00" + canonical_bytes({"chain": x.chain, "seq": x.seq, "hash": x.hash})) for x in heads]
    assert merkle_root(SHA256, heads) == _rfc6962_root(SHA256, leaves)


@given(head_sets, st.randoms())
def test_merkle_root_ignores_input_order(heads: list[Head], random: Random) -> None:
    shuffled = list(heads)
    random.shuffle(shuffled)
    assert merkle_root(SHA256, shuffled) == merkle_root(SHA256, heads)


@given(head_sets.filter(bool), st.data())
def test_merkle_root_changes_when_any_head_changes(heads: list[Head], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(heads) - 1))
    old = heads[index]
    change = data.draw(st.sampled_from(["seq", "hash", "chain"]))
    if change == "seq":
        new = Head(old.chain, old.seq + 1, old.hash)
    elif change == "hash":
        new = Head(old.chain, old.seq, SHA256(old.hash.encode()))
    else:
        new = Head(old.chain + "x", old.seq, old.hash)
        if any(x.chain == new.chain for x in heads):
            return
    changed = [*heads[:index], new, *heads[index + 1 :]]
    assert merkle_root(SHA256, changed) != merkle_root(SHA256, heads)
    assert merkle_root(SHA256, heads[:index] + heads[index + 1 :]) != merkle_root(SHA256, heads)


def test_two_heads_for_one_chain_are_rejected() -> None:
    with pytest.raises(ValueError, match="two heads for chain CAT-2025"):
        merkle_root(SHA256, [Head("CAT-2025", 1, GENESIS), Head("CAT-2025", 2, GENESIS)])


@pytest.mark.parametrize(
    ("chain", "seq", "digest"),
    [
        ("", 1, GENESIS),
        ("Cafe\u0301", 1, GENESIS),
        ("D-1", 0, GENESIS),
        ("D-1", True, GENESIS),
        ("D-1", 1, "F" * 64),
        ("D-1", 1, "0" * 40),
    ],
)
def test_head_validation(chain: str, seq: int, digest: str) -> None:
    with pytest.raises(ValueError):
        Head(chain, seq, digest)


# --- checkpoints ------------------------------------------------------------------------------------

CREATED = datetime(2025, 6, 30, 18, 0, tzinfo=BEIJING)


def _checkpoint() -> Checkpoint:
    return build_checkpoint(SHA256, "sha256", EXAMPLE_HEADS, CREATED)


def test_build_checkpoint() -> None:
    checkpoint = _checkpoint()
    assert checkpoint.algorithm == HashAlgorithm.SHA256
    assert checkpoint.created_at == CREATED and checkpoint.created_at.tzinfo is UTC
    assert (checkpoint.chains, checkpoint.events) == (3, 8)
    assert checkpoint.root == EXAMPLE_ROOT_SHA256
    assert [x.chain for x in checkpoint.heads] == ["CAT-2025", "D-2025-001", "D-2025-002"]


def test_build_checkpoint_refuses_a_hasher_of_another_algorithm() -> None:
    with pytest.raises(UsageError, match="does not compute sm3"):
        build_checkpoint(SHA256, HashAlgorithm.SM3, EXAMPLE_HEADS, CREATED)


def test_build_checkpoint_refuses_naive_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        build_checkpoint(SHA256, "sha256", EXAMPLE_HEADS, datetime(2025, 6, 30, 18))


def test_checkpoint_json_is_canonical_text_and_round_trips() -> None:
    checkpoint = _checkpoint()
    text = checkpoint.to_json()
    assert text.endswith("}\n") and text.count("\n") == 1
    assert is_canonical(text[:-1].encode())
    assert text.startswith('{"algorithm":"sha256","chains":3,"created_at":"2025-06-30T10:00:00.000000Z","events":8,')
    assert f'"format":"{CHECKPOINT_FORMAT}"' in text
    assert Checkpoint.from_json(text) == checkpoint
    assert Checkpoint.from_json(json.dumps(json.loads(text), indent=2)) == checkpoint  # layout is not content


def test_sm3_checkpoint_round_trips() -> None:
    checkpoint = build_checkpoint(hasher("sm3"), "sm3", EXAMPLE_HEADS, CREATED)
    assert checkpoint.root == EXAMPLE_ROOT_SM3
    assert Checkpoint.from_json(checkpoint.to_json()) == checkpoint


def test_empty_checkpoint_round_trips() -> None:
    checkpoint = build_checkpoint(SHA256, "sha256", [], CREATED)
    assert (checkpoint.chains, checkpoint.events, checkpoint.root) == (0, 0, SHA256(b""))
    assert Checkpoint.from_json(checkpoint.to_json()) == checkpoint


@given(head_sets)
def test_checkpoint_round_trip_property(heads: list[Head]) -> None:
    checkpoint = build_checkpoint(SHA256, "sha256", heads, CREATED)
    assert Checkpoint.from_json(checkpoint.to_json()) == checkpoint


def _edited(**changes: object) -> str:
    data = json.loads(_checkpoint().to_json())
    for key, value in changes.items():
        if value is _DELETE:
            del data[key]
        else:
            data[key] = value
    return json.dumps(data, ensure_ascii=False)


_DELETE = object()


def test_corrupt_root_is_detected() -> None:
    data = json.loads(_checkpoint().to_json())
    data["heads"][1]["hash"] = SHA256(b"rewritten")
    with pytest.raises(ValueError, match=r"^checkpoint file is corrupt: root mismatch"):
        Checkpoint.from_json(json.dumps(data))
    with pytest.raises(ValueError, match=r"^checkpoint file is corrupt: root mismatch"):
        Checkpoint.from_json(_edited(root=SHA256(b"x")))


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "Expecting value"),
        ("[]", "not a JSON object"),
        (_edited(root=_DELETE), "missing member 'root'"),
        (_edited(extra=1), "unknown member 'extra'"),
        (_edited(format="decisions-checkpoint/2"), "format is"),
        (_edited(algorithm="md5"), "unknown hash algorithm"),
        (_edited(created_at="2025-06-30T10:00:00Z"), "YYYY-MM-DDTHH:MM:SS.ffffffZ"),
        (_edited(created_at="2025-02-30T10:00:00.000000Z"), "day is out of range"),
        (_edited(chains="3"), "chains must be an integer"),
        (_edited(chains=4), "chains is 4 but there are 3 heads"),
        (_edited(events=9), "events is 9"),
        (_edited(events=True), "events must be an integer"),
        (_edited(root="AB" * 32), "root must be 64 lowercase hex"),
        (_edited(heads={}), "heads must be a list"),
        (_edited(heads=[1]), r"heads\[0\] must be an object"),
        (_edited(heads=[{"chain": "D-1", "seq": 1}]), r"heads\[0\]: missing member 'hash'"),
        (_edited(heads=[{"chain": "D-1", "seq": 0, "hash": GENESIS}]), r"heads\[0\]: .*seq must be an integer >= 1"),
        ('{"a":1.5}', "fraction or exponent"),
    ],
)
def test_corrupt_files_are_rejected(text: str, error: str) -> None:
    with pytest.raises(ValueError, match=r"^checkpoint file is corrupt: .*" + error):
        Checkpoint.from_json(text)


def test_duplicate_chain_in_file_is_rejected() -> None:
    data = json.loads(_checkpoint().to_json())
    data["heads"].append(dict(data["heads"][0]))
    with pytest.raises(ValueError, match="checkpoint file is corrupt: two heads for chain CAT-2025"):
        Checkpoint.from_json(json.dumps(data))


def test_checkpoint_of_an_unavailable_algorithm_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, fresh_sm3_probe: None
) -> None:
    text = build_checkpoint(hasher("sm3"), "sm3", EXAMPLE_HEADS, CREATED).to_json()
    hashing._sm3.cache_clear()
    monkeypatch.setattr(hashing, "_openssl_sm3", lambda: None)
    monkeypatch.setattr(hashing, "_cryptography_sm3", lambda: None)
    with pytest.raises(UsageError, match="SM3"):
        Checkpoint.from_json(text)


# --- comparing history to a checkpoint --------------------------------------------------------------


def _database(chains: dict[str, list[str]]) -> Callable[[str, int], str | None]:
    def current_hash_at(chain: str, seq: int) -> str | None:
        events = chains.get(chain, [])
        return events[seq - 1] if 1 <= seq <= len(events) else None

    return current_hash_at


def _history() -> dict[str, list[str]]:
    chains: dict[str, list[str]] = {}
    for chain, length in (("CAT-2025", 2), ("D-2025-001", 3), ("D-2025-002", 1)):
        prev, events = GENESIS, []
        for seq in range(1, length + 1):
            prev = chain_hash(SHA256, prev, canonical_bytes({"chain": chain, "seq": seq}))
            events.append(prev)
        chains[chain] = events
    return chains


def _checkpoint_of(chains: dict[str, list[str]]) -> Checkpoint:
    heads = [Head(chain, len(events), events[-1]) for chain, events in chains.items()]
    return build_checkpoint(SHA256, "sha256", heads, CREATED)


def test_unchanged_and_grown_history_is_accepted() -> None:
    history = _history()
    checkpoint = _checkpoint_of(history)
    assert compare_to_checkpoint(checkpoint, _database(history)) == []
    history["D-2025-001"].append(chain_hash(SHA256, history["D-2025-001"][-1], b"{}"))
    history["D-2025-003"] = [chain_hash(SHA256, GENESIS, b"{}")]
    assert compare_to_checkpoint(checkpoint, _database(history)) == []


def test_rewritten_history_is_found() -> None:
    history = _history()
    checkpoint = _checkpoint_of(history)
    history["D-2025-001"][2] = SHA256(b"another body")
    (finding,) = compare_to_checkpoint(checkpoint, _database(history))
    assert (finding.chain, finding.seq, finding.kind) == ("D-2025-001", 3, FindingKind.HISTORY_REWRITTEN)
    assert "history rewritten" in finding.message and "历史被改写" in finding.message
    assert str(finding).startswith("D-2025-001 #3: ")


def test_shrunk_history_is_found() -> None:
    history = _history()
    checkpoint = _checkpoint_of(history)
    del history["D-2025-001"][2]
    (finding,) = compare_to_checkpoint(checkpoint, _database(history))
    assert (finding.chain, finding.seq, finding.kind) == ("D-2025-001", 3, FindingKind.HISTORY_SHRANK)
    assert "history shrank" in finding.message


def test_missing_chains_are_found() -> None:
    history = _history()
    checkpoint = _checkpoint_of(history)
    del history["CAT-2025"]
    del history["D-2025-002"]  # a chain of one event
    findings = compare_to_checkpoint(checkpoint, _database(history))
    assert [(f.chain, f.seq, f.kind) for f in findings] == [
        ("CAT-2025", 2, FindingKind.CHAIN_MISSING),
        ("D-2025-002", 1, FindingKind.CHAIN_MISSING),
    ]
    assert "chain CAT-2025 is missing" in findings[0].message


def test_every_problem_is_reported_in_chain_order() -> None:
    history = _history()
    checkpoint = _checkpoint_of(history)
    history["D-2025-002"][0] = SHA256(b"x")
    history["D-2025-001"].pop()
    del history["CAT-2025"]
    kinds = [f.kind for f in compare_to_checkpoint(checkpoint, _database(history))]
    assert kinds == [FindingKind.CHAIN_MISSING, FindingKind.HISTORY_SHRANK, FindingKind.HISTORY_REWRITTEN]
