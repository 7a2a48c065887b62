"""Every Decree 713 citation names an article, paragraph (款) and item (项) the decree has.

The decree's structure below was written out by hand from its promulgated text (国务院令第713号,
2019-04-20): how many paragraphs each article has, and how many items a paragraph lists. An article of
one paragraph is cited without 第一款 (第三十二条, 第十条第二项), and a paragraph is never one the
article does not have (the old 第三十二条第二款). The English article must name the same provisions.
Checked: every rule, parameter and engine check citation of Decree 713 in the shipped packs, and every `basis:` and
stage `article:` text of the shipped workflows.
"""

from __future__ import annotations

import re

import pytest

from decisions.rules.definitions import Citation
from tests.support import shipped_definitions

# article → paragraphs; a paragraph with items → how many
PARAGRAPHS = {
    1: 1, 2: 1, 3: 3, 4: 1, 5: 1, 6: 1, 7: 1, 8: 2, 9: 1, 10: 1, 11: 1, 12: 4, 13: 1, 14: 3, 15: 2,
    16: 3, 17: 1, 18: 1, 19: 2, 20: 1, 21: 3, 22: 2, 23: 3, 24: 1, 25: 2, 26: 2, 27: 1, 28: 1, 29: 1,
    30: 3, 31: 1, 32: 1, 33: 1, 34: 1, 35: 2, 36: 4, 37: 1, 38: 3, 39: 1, 40: 1, 41: 1, 42: 1, 43: 2,
    44: 1,
}  # fmt: skip
ITEMS = {(3, 1): 5, (10, 1): 3, (17, 1): 3, (27, 1): 3, (29, 1): 6, (36, 1): 3}

_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NUM = "[一二三四五六七八九十]+"
_TOKEN = re.compile(rf"第({_NUM})(?:([、至])({_NUM}))?([条款项])")


def number(zh: str) -> int:
    """一 … 四十九 as an integer."""
    if "十" not in zh:
        return _DIGITS[zh]
    tens, _, units = zh.partition("十")
    return (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[units] if units else 0)


def provisions(text: str) -> tuple[set[tuple[int, int | None]], list[str]]:
    """The (article, paragraph) pairs a Chinese citation names, and what is wrong with it."""
    named: set[tuple[int, int | None]] = set()
    wrong: list[str] = []
    article: int | None = None
    paragraph: int | None = None
    for m in _TOKEN.finditer(text):
        first, joint, second, unit = m.groups()
        a, b = number(first), number(second) if second else None
        values = list(range(a, b + 1)) if joint == "至" and b else [a, b] if b else [a]
        if unit == "条":
            for v in values:
                if v not in PARAGRAPHS:
                    wrong.append(f"Decree 713 has no article {v}")
                named.add((v, None))
            article, paragraph = values[-1], None
        elif article is None:
            wrong.append(f"{m.group(0)} without an article")
        elif unit == "款":
            named.discard((article, None))
            for v in values:
                if PARAGRAPHS.get(article, 0) == 1:
                    wrong.append(f"article {article} has one paragraph: cite it without {m.group(0)}")
                elif v > PARAGRAPHS.get(article, 0):
                    wrong.append(f"article {article} has {PARAGRAPHS.get(article)} paragraphs, not {v}")
                named.add((article, v))
            paragraph = values[-1]
        else:
            key = (article, paragraph or 1)
            for v in values:
                if v > ITEMS.get(key, 0):
                    wrong.append(f"article {article} paragraph {key[1]} has {ITEMS.get(key, 0)} items, not {v}")
    return named, wrong


def english(text: str) -> set[tuple[int, int | None]]:
    """The (article, paragraph) pairs of ``Art. 12(1), 12(2), 15(1) (note)`` or ``Art. 10 item (2)``."""
    return {(int(a), int(p) if p else None) for a, p in re.findall(r"(?<![\d(])(\d+)(?:\((\d+)\))?", text)}


def decree_citations() -> list[tuple[str, Citation]]:
    book = shipped_definitions().rulebook
    cited = [(rule.id, rule.citation) for rule in book.rules.values()]
    cited += [
        (f"parameter {p.name} ({s.pack})", s.citation)
        for p in book.parameters.values()
        for s in p.sources
        if s.citation is not None
    ]
    cited += [(f"check {check}", c) for check, c in book.checks.items()]
    return [(what, c) for what, c in cited if "国务院令第713号" in c.source]


def workflow_texts() -> list[tuple[str, str]]:
    """The bases and stage articles of the workflows under Decree 713 (a source names it): the other
    legality reviews (normative documents, ...) cite other texts, which this parser does not know."""
    out: list[tuple[str, str]] = []
    for wf in shipped_definitions().workflows.values():
        if not any("国务院令第713号" in source for source in wf.sources):
            continue  # a procedure under other texts (e.g. 118号, 行政处罚法) cites their articles
        out += [(f"{wf.name}.{t.trigger} basis", t.basis) for t in wf.transitions if t.basis]
        out += [(f"{wf.name} stage {s.id} article", s.article) for s in wf.stages.values() if s.article]
    return out


def test_the_parser_finds_the_old_mistakes() -> None:
    assert provisions("第三十二条第二款")[1] == ["article 32 has one paragraph: cite it without 第二款"]
    assert provisions("第十条第一款第二项")[1] == ["article 10 has one paragraph: cite it without 第一款"]
    assert provisions("第十五条第三款")[1] == ["article 15 has 2 paragraphs, not 3"]
    assert provisions("第二十九条第七项")[1] == ["article 29 paragraph 1 has 6 items, not 7"]
    assert provisions("第十二条第一款、第二款，第十五条第一款") == ({(12, 1), (12, 2), (15, 1)}, [])
    assert provisions("第十六至十八条")[0] == {(16, None), (17, None), (18, None)}
    assert english("Art. 12(1), 12(2), 15(1) (explanation)") == {(12, 1), (12, 2), (15, 1)}
    assert english("Art. 10 item (2)") == {(10, None)}


@pytest.mark.parametrize(("what", "citation"), decree_citations(), ids=lambda x: x if isinstance(x, str) else "")
def test_every_decree_citation_names_provisions_the_decree_has(what: str, citation: Citation) -> None:
    named, wrong = provisions(citation.article)
    assert named, (what, citation.article)
    assert wrong == [], (what, citation.article)
    assert citation.verified, what
    assert english(citation.article_en) == named, (what, citation.article, citation.article_en)


def test_every_workflow_basis_and_stage_article_names_provisions_the_decree_has() -> None:
    texts = workflow_texts()
    assert len(texts) > 60
    problems = []
    for what, text in texts:
        zh = text.split("(")[0].split(" Art.")[0]
        named, wrong = provisions(zh)
        problems += [f"{what}: {text}: {w}" for w in wrong]
        en = text[len(zh) :].split(";")[0]
        if named and "Art." in en:
            articles_en = {a for a, _ in english(en)}
            if {a for a, _ in named} != articles_en and "至" not in zh and "-" not in en:
                problems.append(f"{what}: {text}: the English names articles {sorted(articles_en)}")
    assert problems == []
