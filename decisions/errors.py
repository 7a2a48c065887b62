"""The one error hierarchy of `decisions`.

Every failure a user can meet is one of these. The CLI (and later the web app) translates them to
exit codes and HTTP status in exactly one place; nothing below that edge prints or exits.

    DecisionsError
    ├── DefinitionError          a workflow, rule pack or calendar file is invalid (every problem, located)
    ├── CalendarError
    │   └── CalendarYearUnknown  a date computation needs a year the working-day calendar does not know
    ├── ActionRefused            an action is not allowed now; lists every unmet requirement with its citation
    ├── UsageError               the caller asked for something that does not exist (unknown workflow, trigger ...)
    │   ├── CaseExists           a case with that id is already on record
    │   └── UnknownName          an action, case or value that does not exist, with the names meant ("did you mean")
    ├── StoreError               the database or document store cannot be reached or used
    │   ├── ConflictError        someone else changed the case since it was read (optimistic concurrency)
    │   ├── TransientStoreError  the database asks for the transaction to be run again (serialization, deadlock)
    │   ├── StorageFull          the disk under the database or the document store is full: nothing was written
    │   ├── DatabaseBusy         another writer held the SQLite file longer than the busy timeout: nothing was written
    │   └── DuplicateKeyError    a row with that key exists (raised by the store, turned into a conflict there)
    └── IntegrityError           stored history does not verify (edited, reordered, deleted, or bytes changed)
        └── ChainBroken          a case's hash chain does not verify: nothing more is done on it
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

__all__ = [
    "ActionRefused",
    "ActorChanged",
    "CalendarError",
    "CalendarYearUnknown",
    "CaseExists",
    "ChainBroken",
    "ConflictError",
    "DatabaseBusy",
    "DateBound",
    "DecisionsError",
    "DefinitionError",
    "DuplicateKeyError",
    "IntegrityError",
    "Named",
    "Problem",
    "Remedy",
    "StorageFull",
    "StoreError",
    "TransientStoreError",
    "UnknownName",
    "Unmet",
    "UsageError",
    "ValueHint",
    "cited",
    "shown",
]

SHOWN_LIMIT = 60


def shown(value: object, limit: int = SHOWN_LIMIT) -> str:
    """``value`` as it may appear inside an error message: quoted, every control, format (bidi) and
    surrogate character escaped (``repr`` does that), and longer text cut in the middle to ``limit`` characters
    with its length said. Messages echo what a person or file supplied; a terminal must never be recoloured, cleared or
    reordered by one, and 100 000 characters of input must not come back whole."""
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit:
        return repr(text)
    tail = limit // 3  # the end of a long path or id says as much as its start
    return f"{text[: limit - tail] + '…' + text[-tail:]!r}（共 {len(text)} 字 / {len(text)} characters）"


_UNVERIFIED = ("（出处未核实 / source not verified）", "（出处未核实）", " (source not verified)")


def cited(citation: str, lang: str) -> str:
    """A citation as printed in one language. Citations read ``《条例》第三十四条 (Art. 34)``: in Chinese each
    English gloss in brackets goes (``第三十四条`` says it; ``(off-catalogue provisions (article to be
    verified))`` too), in English it stays; so does the unverified mark, in the language asked for."""
    if lang == "both":
        return citation
    both, zh, en = _UNVERIFIED
    citation = citation.replace(both, zh if lang == "zh" else en)
    if lang != "zh":
        return citation
    out, i = [], 0
    while (start := citation.find(" (", i)) >= 0:
        depth, end = 0, len(citation) - 1
        for end in range(start + 1, len(citation)):
            depth += {"(": 1, ")": -1}.get(citation[end], 0)
            if depth == 0:
                break
        gloss = citation[start : end + 1]
        out.append(citation[i:start] + (gloss if _HAN.search(gloss) or depth else ""))
        i = end + 1
    return "".join(out) + citation[i:]


_HAN = re.compile(r"[\u3400-\u9fff]")


class DecisionsError(Exception):
    """Base of every error this package raises on purpose.

    An error made with ``zh=`` and ``en=`` carries its message in both languages as data, so the edge
    shows the one asked for (`in_language`); ``str()`` is both, Chinese first. An error made with one
    message keeps that message in every language."""

    def __init__(self, message: str = "", *args: object, zh: str = "", en: str = "") -> None:
        self.zh, self.en = zh, en
        if not message and zh and en:
            message = f"{zh} / {en}"
        super().__init__(message, *args)

    def in_language(self, lang: str) -> str:
        """The message in ``zh``, ``en`` or ``both``."""
        if lang == "zh" and self.zh:
            return self.zh
        if lang == "en" and self.en:
            return self.en
        return str(self)


@dataclass(frozen=True, order=True)
class Problem:
    """One located problem in a definition file: which file, which line, which key path, what is wrong."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.path or '<document>'}: {self.message}"


class DefinitionError(DecisionsError):
    """A definition (workflow, rule pack, calendar override) failed validation.

    Carries *every* problem found, so an author fixes them all in one pass.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(sorted(set(problems)))
        noun = "problem" if len(self.problems) == 1 else "problems"
        lines = [f"{len(self.problems)} {noun} in definitions / 定义文件有 {len(self.problems)} 处错误:"]
        lines += [f"  {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class CalendarError(DecisionsError):
    """The working-day calendar cannot answer a question."""


class CalendarYearUnknown(CalendarError):
    """A computation needs a year for which no official holiday schedule is known.

    The calendar never guesses: an office adds the year to the override file once the State Council
    publishes the schedule (国务院办公厅关于某年部分节假日安排的通知).
    """

    def __init__(self, year: int, update_file: str) -> None:
        self.year = year
        self.update_file = update_file
        super().__init__(
            f"工作日历不含 {year} 年的法定节假日安排，请在 {update_file} 中补充 / "
            f"the working-day calendar does not know the year {year}: add its official holiday "
            f"schedule to {update_file}"
        )


@dataclass(frozen=True)
class Named:
    """Something a form names: a field, a document kind, a role, an action, with its labels."""

    name: str
    zh: str
    en: str

    def __str__(self) -> str:
        return f"{self.zh} ({self.name})"


@dataclass(frozen=True)
class DateBound:
    """A date a period rule allows at the earliest (``bound == "earliest"``) or at the latest
    (``"latest"``) for ``field`` (a date field of the action, or the action's own day: ``on``)."""

    field: Named
    bound: str
    date: date


@dataclass(frozen=True)
class ValueHint:
    """The values a field must take (``how == "one_of"``) or include (``"includes"``, a list field:
    at least one of ``values``) for a requirement to hold."""

    field: Named
    how: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Remedy:
    """What would satisfy an unmet requirement, where the engine can compute it: the fields and
    documents to supply, the valid dates of a period, the field whose reason lawfully shortens it
    (``waiver``), the roles that may act and the people who hold one (``holders``, filled in by the
    service, which knows the people), or the actions possible instead."""

    fields: tuple[Named, ...] = ()
    documents: tuple[Named, ...] = ()
    dates: tuple[DateBound, ...] = ()
    waiver: Named | None = None
    roles: tuple[Named, ...] = ()
    holders: tuple[str, ...] = ()
    actions: tuple[Named, ...] = ()
    units: tuple[str, ...] = ()
    values: tuple[ValueHint, ...] = ()

    def __bool__(self) -> bool:
        return bool(
            self.fields
            or self.documents
            or self.dates
            or self.waiver
            or self.roles
            or self.holders
            or self.actions
            or self.units
            or self.values
        )

    def describe(self) -> tuple[str, str]:
        """The remedy in words, (zh, en)."""
        zh: list[str] = []
        en: list[str] = []
        if self.fields:
            zh.append("填写：" + "、".join(str(f) for f in self.fields))
            en.append("fill in: " + ", ".join(f"{f.en} ({f.name})" for f in self.fields))
        if self.documents:
            zh.append("附上：" + "、".join(str(d) for d in self.documents))
            en.append("attach: " + ", ".join(f"{d.en} ({d.name})" for d in self.documents))
        for b in self.dates:
            word = "最早" if b.bound == "earliest" else "最晚"
            zh.append(f"{b.field}{word} {b.date.isoformat()}")
            en.append(f"{b.field.name}: {b.bound} {b.date.isoformat()}")
        for v in self.values:
            word, word_en = ("包含以下之一", "includes one of") if v.how == "includes" else ("为以下之一", "is one of")
            zh.append(f"{v.field}{word}：{'、'.join(v.values)}")
            en.append(f"{v.field.name} {word_en}: {', '.join(v.values)}")
        if self.waiver is not None:
            zh.append(f"或在「{self.waiver.zh}」({self.waiver.name}) 中说明缩短理由")
            en.append(f"or state the reason for the shorter period in '{self.waiver.en}' ({self.waiver.name})")
        if self.roles:
            zh.append("由以下角色办理：" + "、".join(r.zh for r in self.roles))
            en.append("to be done by: " + ", ".join(r.en for r in self.roles))
        if self.holders:
            zh.append("现任人员：" + "、".join(self.holders))
            en.append("held by: " + ", ".join(self.holders))
        if self.units:
            zh.append("由以下单位的人员办理：" + "、".join(self.units))
            en.append("by someone of: " + ", ".join(self.units))
        if self.actions:
            zh.append("可执行：" + "、".join(str(a) for a in self.actions))
            en.append("possible: " + ", ".join(f"{a.en} ({a.name})" for a in self.actions))
        return "；".join(zh), "; ".join(en)


@dataclass(frozen=True)
class Unmet:
    """One requirement that stops an action, with the legal text that imposes it.

    ``kind`` is ``violation`` (the requirement is false), ``error`` (it could not be evaluated:
    never taken as false, never as true), ``role`` (the actor lacks a role the transition allows),
    or ``missing`` (a field or document the transition must carry is absent). ``remedy``: what
    would satisfy it, where the engine can compute that (`Remedy`).
    """

    rule_id: str
    citation: str
    message_zh: str
    message_en: str
    kind: str = "violation"
    sources: tuple[str, ...] = field(default=())
    remedy: Remedy | None = None

    def __str__(self) -> str:
        fix = ""
        if self.remedy:  # how to meet it, before the citation: one line per requirement
            zh, en = self.remedy.describe()
            fix = f" → {zh} / {en}"
        return f"[{self.rule_id}] {self.message_zh} / {self.message_en}{fix} ({self.citation})"


class ActionRefused(DecisionsError):
    """An action is not allowed now. Lists every unmet requirement, each with rule id and citation."""

    def __init__(self, trigger: str, state: str, unmet: Sequence[Unmet]) -> None:
        self.trigger = trigger
        self.state = state
        self.unmet: tuple[Unmet, ...] = tuple(unmet)
        self.shown_as: tuple[str, str] | None = None
        """The action and state as a screen names them in Chinese (set by the edge that knows the labels)."""
        lines = [f"操作被拒绝 / action refused: {trigger} (state 状态: {state})"]
        lines += [f"  - {u}" for u in self.unmet]
        super().__init__("\n".join(lines))

    def in_language(self, lang: str) -> str:
        if lang == "zh":
            trigger, state = self.shown_as or (self.trigger, self.state)
            lines = [f"操作被拒绝：{trigger}（状态：{state}）"]
            lines += [f"  - [{u.rule_id}] {u.message_zh}（{cited(u.citation, 'zh')}）" for u in self.unmet]
        elif lang == "en":
            lines = [f"action refused: {self.trigger} (state: {self.state})"]
            lines += [f"  - [{u.rule_id}] {u.message_en} ({cited(u.citation, 'en')})" for u in self.unmet]
        else:
            return str(self)
        return "\n".join(lines)


class UsageError(DecisionsError):
    """The caller named something that does not exist, or asked for something impossible."""


class CaseExists(UsageError):
    """A case with the id asked for is already on record (a numbered start then takes the next number)."""


class UnknownName(UsageError):
    """An action, case or value that does not exist. ``what`` says which kind of name (``action``,
    ``case``, ``value``), ``name`` is what was given, ``suggestions`` the close names that do exist
    ("did you mean"), ``known`` every name that would be accepted where the list is short enough."""

    def __init__(
        self,
        message: str = "",
        *,
        what: str,
        name: str,
        suggestions: Sequence[str] = (),
        known: Sequence[str] = (),
        zh: str = "",
        en: str = "",
    ) -> None:
        self.what, self.name = what, name
        self.suggestions: tuple[str, ...] = tuple(suggestions)
        self.known: tuple[str, ...] = tuple(known)
        if self.suggestions:
            meant = ", ".join(self.suggestions)
            if message:
                message += f"；您是否要输入 {meant} / did you mean {meant}?"
            if zh and en:
                zh, en = f"{zh}；您是否要输入 {meant}", f"{en}; did you mean {meant}?"
        super().__init__(message, zh=zh, en=en)


class StoreError(DecisionsError):
    """The database or the document store cannot be reached or used (the cause is chained)."""


class TransientStoreError(StoreError):
    """The database refused the transaction for now (a PostgreSQL serialization failure or deadlock):
    running it again may succeed. The service layer retries a bounded number of times."""


class StorageFull(StoreError):
    """The disk holding the database or the document store has no space left (ENOSPC, SQLite's
    SQLITE_FULL, PostgreSQL's disk_full): the transaction was rolled back, nothing was written."""


class DatabaseBusy(StoreError):
    """Another writer held the SQLite database for longer than the busy timeout: nothing was
    written; the same action may be tried again once that writer is done."""


class DuplicateKeyError(StoreError):
    """A unique key is taken (a concurrent writer got there first). The store raises it and turns it
    into a `ConflictError` where a race is the meaning; it never reaches a user as itself."""


class ActorChanged(StoreError):
    """The person acting was changed (roles, unit, deactivated) after the service read them: nothing
    was written. The service reads them again and judges the action with what is on record now."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"操作人 {shown(name)} 的角色或状态刚被修改，本次操作未写入，请重试 / the roles or status of "
            f"{shown(name)} changed while acting; nothing was written, try again"
        )


def _beijing_minute(recorded_at: str) -> str:
    """An event's ``recorded_at`` (UTC, ``YYYY-MM-DDTHH:MM:SS.ffffffZ``) as Beijing time to the minute;
    anything else unchanged."""
    try:
        moment = datetime.strptime(recorded_at, "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        return recorded_at
    return (moment + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")


class ConflictError(StoreError):
    """Another action changed the case after it was read: nothing was written; read it again."""

    def __init__(self, case_id: str, expected: int, actual: int, by: str = "", at: str = "") -> None:
        self.case_id, self.expected, self.actual, self.by, self.at = case_id, expected, actual, by, at
        when = _beijing_minute(at)
        who = f"{by}于{when}（北京时间）" if by and when else by or "他人"
        who_en = f"by {by} at {when} Beijing time" if by and when else f"by {by}" if by else "by someone else"
        super().__init__(
            f"并发冲突：{case_id} 已被{who}修改（版本 {expected} → {actual}），本次操作未写入，请刷新后重试 / "
            f"conflict: {case_id} was changed {who_en} (version {expected} -> {actual}); nothing was written, "
            f"read it again and retry"
        )


class IntegrityError(DecisionsError):
    """Stored history does not verify: the case cannot be acted on until an auditor has looked."""


class ChainBroken(IntegrityError):
    """A case's hash chain does not verify (an event edited, deleted, reordered or forged, or the case
    row no longer names its last event): acting on it, or showing its history as if it were the
    record, is refused until an auditor has run ``decisions audit verify``. ``seq`` is the first event
    that does not verify (None when the chain is whole but the case row disagrees with it)."""

    def __init__(self, case_id: str, seq: int | None, reason_zh: str, reason_en: str) -> None:
        self.case_id, self.seq = case_id, seq
        where_zh = f"第 {seq} 条记录" if seq is not None else "案件行"
        where_en = f"event #{seq}" if seq is not None else "the case row"
        self.message_zh = (
            f"决策事项 {shown(case_id)} 的历史链校验失败（{where_zh}：{reason_zh}），已停止处理；"
            "请审计人员运行 decisions audit verify"
        )
        self.message_en = (
            f"the history of case {shown(case_id)} does not verify ({where_en}: {reason_en}); nothing more "
            "is done on it until an auditor has run `decisions audit verify`"
        )
        super().__init__(f"{self.message_zh} / {self.message_en}")
