"""The dossier as HTML (Jinja2 templates shipped in ``templates/``, shared with the web app) and as a
PDF (WeasyPrint, Debian's Noto CJK fonts, embedded as subsets; the documents attached)."""

from __future__ import annotations

import io
from typing import Any

import jinja2

from decisions.dossier.collect import Dossier
from decisions.errors import UsageError

__all__ = ["environment", "pdf_of", "render_html", "render_pdf"]


def environment() -> jinja2.Environment:
    """The templates' environment (autoescaped: every value in a dossier is untrusted text)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("decisions.dossier", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(dossier: Dossier) -> str:
    return environment().get_template("dossier.html.j2").render(d=dossier, v=dossier.verification)


def _weasyprint() -> Any:
    try:
        import weasyprint  # loads Pango: only when a PDF is made
    except OSError as exc:  # the system libraries are missing (WeasyPrint raises OSError from cffi)
        raise UsageError(
            "无法加载 WeasyPrint 所需的 Pango / WeasyPrint cannot load Pango: "
            "apt-get install libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk"
        ) from exc
    return weasyprint


def pdf_of(html: str, attachments: list[tuple[str, bytes, str]]) -> bytes:
    """``html`` as a PDF with ``attachments`` (name, bytes, description) embedded."""
    weasyprint = _weasyprint()
    files = [
        weasyprint.Attachment(file_obj=io.BytesIO(data), name=name, description=description)
        for name, data, description in attachments
    ]
    result: bytes = weasyprint.HTML(string=html, base_url=None).write_pdf(attachments=files)
    return result


def render_pdf(dossier: Dossier) -> bytes:
    """The PDF: the rendered HTML, every document and the verification material attached."""
    v = dossier.verification
    files = [(d.attachment, d.data, f"{d.kind} v{d.version} sha256 {d.sha256}") for d in dossier.documents]
    if v.checkpoint_json:
        files.append(("checkpoint.json", v.checkpoint_json.encode("utf-8"), f"checkpoint {v.checkpoint_root}"))
    files.append(("history.json", v.history_json.encode("utf-8"), f"hash chain of {v.chain}"))
    return pdf_of(render_html(dossier), files)
