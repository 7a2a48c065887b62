"""The words a screen shows for a workflow's names, in the language of ``--lang``.

In Chinese every state, role, field, document kind, action and enum value is shown by its label from the
YAML (the workflow owns its vocabulary; nothing is named here); booleans are 是 / 否 and citations
lose their English article. In English and in both languages (the default) names stay as they are
typed, so the transcripts people have learnt keep reading the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from decisions.cli.common import LANG
from decisions.errors import cited
from decisions.model import Text

if TYPE_CHECKING:
    from decisions.service.office import Office
    from decisions.workflow.definition import WorkflowDef


class Words:
    """Labels of one workflow's names (and of every role the deployment knows)."""

    def __init__(self, workflow: WorkflowDef | None, roles: Mapping[str, Text]) -> None:
        self.wf = workflow
        self.roles = roles
        self.zh = LANG.value == "zh"

    @classmethod
    def of(cls, office: Office, workflow: str) -> Words:
        return cls(office.definitions.workflows.get(workflow), office.users.roles)

    def _pick(self, name: str, text: Text | None) -> str:
        return text.zh if self.zh and text is not None else name

    def state(self, name: str) -> str:
        s = self.wf.states.get(name) if self.wf else None
        return self._pick(name, s.label if s else None)

    def role(self, name: str) -> str:
        return self._pick(name, self.roles.get(name))

    def field(self, name: str) -> str:
        f = self.wf.fields.get(name) if self.wf else None
        return self._pick(name, f.label if f else None)

    def document(self, kind: str) -> str:
        d = self.wf.documents.get(kind) if self.wf else None
        return self._pick(kind, d.label if d else None)

    def action(self, trigger: str) -> str:
        """What an action is called: in Chinese its label, with the name to type after it."""
        t = next((t for t in self.wf.transitions if t.trigger == trigger), None) if self.wf else None
        return f"{t.label.zh}（{trigger}）" if self.zh and t is not None else trigger

    def value(self, name: str, value: Any) -> str:
        """A field's value as a person reads it: booleans 是 / 否 in Chinese, enum values by their label."""
        from decisions.service.office import describe

        if not self.zh:
            return describe(value)
        f = self.wf.fields.get(name) if self.wf else None
        if isinstance(value, bool):
            return "是" if value else "否"
        labels = f.value_labels if f is not None else {}
        if isinstance(value, str) and value in labels:
            return labels[value].zh
        if isinstance(value, list) and value and isinstance(value[0], dict):
            return "，".join(
                f"{v.get('member')}：{labels[p].zh if (p := v.get('position')) in labels else p}"
                f"{'（主持人）' if v.get('head') else ''}"
                for v in value
            )
        if isinstance(value, list):
            return "、".join(labels[v].zh if v in labels else str(v) for v in value)
        return describe(value)

    @staticmethod
    def citation(text: str) -> str:
        return cited(text, LANG.value)

    @staticmethod
    def text(text: str) -> str:
        """A ``中文 / English`` text (a deadline's basis) in one language, its citations too."""
        from decisions.cli.language import pick

        return cited(pick(text, LANG.value) or "", LANG.value)
