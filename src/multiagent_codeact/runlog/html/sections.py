"""The page's head and its first sections: the sticky bar, the summary (verdict, totals, task),
the answer (result, output, plots) and the final code."""

from __future__ import annotations

import base64
import csv
import io
import json
import mimetypes

from .markdown import render_markdown
from .parts import (
    badge,
    details,
    duration,
    esc,
    gist,
    highlight,
    num,
    scroll,
    size,
    total_cost,
    vclass,
)
from .run import Run

__all__ = ["answer_section", "code_section", "sticky", "summary_section"]

_IMAGE_MAGIC = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}


def sticky(run: Run, links: list[tuple[str, str]]) -> str:
    t = run.totals
    nav = " ".join(f'<a href="#{k}">{esc(v)}</a>' for k, v in links)
    return (
        f'<header class="bar">{badge(run.verdict, run.verdict or run.manifest.status)}'
        f'<span class="bar-task">{esc(gist(run.prompt, 90))}</span>'
        f'<span class="bar-totals">{t.model_calls} calls · '
        f"{t.prompt_tokens + t.completion_tokens:,} tokens · {total_cost(t)} · "
        f"{duration(t.duration_ms)}</span><nav>{nav}</nav></header>"
    )


def summary_section(run: Run, caught: str) -> str:
    m, t, sol = run.manifest, run.totals, run.solution
    conf = f"{run.confidence:.2f}" if run.confidence is not None else "–"
    cls = vclass(run.verdict)
    stats = [
        ("confidence", esc(conf)),
        ("tokens", f"{t.prompt_tokens + t.completion_tokens:,}"),
        ("prompt / completion", f"{t.prompt_tokens:,} / {t.completion_tokens:,}"),
        ("cost", total_cost(t)),  # HTML: an unknown price says so, with a title
        ("model calls", f"{t.model_calls:,}"),
        ("duration", esc(duration(t.duration_ms))),
        ("rounds", str(sol.rounds) if sol else str(len(run.of_kind("verdict")))),
        ("status", esc(m.status)),
    ]
    out = [
        '<section id="summary" class="card">',
        f'<div class="verdict-row"><div class="verdict v-{cls}">'
        f'<div class="verdict-label">{esc(run.verdict or "no verdict")}</div>'
        f'<div class="verdict-conf">confidence {conf}</div></div><dl class="stats">',
        *(f"<div><dt>{esc(k)}</dt><dd>{v}</dd></div>" for k, v in stats),
        "</dl></div>",
        caught,
    ]
    if t.unpriced_calls:  # said in words too: a title is out of reach on a touch screen
        n = t.unpriced_calls
        out.append(
            f'<p class="muted">Cost: {n} model call{"s" * (n != 1)} had no known price and '
            f"{'are' if n != 1 else 'is'} not counted; the real cost is unknown, not $0.</p>"
        )
    problem = (sol.error if sol else None) or m.error
    if problem:
        out.append(f'<p class="error">{esc(problem)}</p>')
    out.append(f'<h2>Task</h2><pre class="text">{esc(run.prompt)}</pre>')
    given = [f for f in run.last("input_files").get("files") or [] if isinstance(f, dict)]
    if given:
        listed = ", ".join(
            f"<code>{esc(f.get('name'))}</code> ({size(int(num(f.get('size')) or 0))})"
            for f in given[:20]
        )
        more = f" and {len(given) - 20} more" if len(given) > 20 else ""
        out.append(f"<p>Input files, read-only in every job: {listed}{more}</p>")
    task = sol.task.model_dump(mode="json") if sol else m.task
    if task.get("entry_point"):
        out.append(f"<p>Entry point: <code>{esc(task['entry_point'])}</code></p>")
    if task.get("examples") or task.get("tests"):
        examples = "\n".join(str(x) for x in task.get("examples") or [])
        code = "\n\n".join(s for s in (examples, str(task.get("tests") or "")) if s)
        out.append(details("Examples and tests given with the task", highlight(code)))
    reasons = sol.reasons if sol else run.last("verdict").get("reasons") or []
    if reasons:
        items = "".join(f"<li>{esc(r)}</li>" for r in reasons if r)
        out.append(f'<h3>Why this verdict</h3><ul class="reasons">{items}</ul>')
    if sol and sol.judge:
        out.append(f'<p><span class="label">Judge</span> {esc(sol.judge)}</p>')
    meta = [("run", m.run_id), ("started", m.started_at.isoformat(timespec="seconds"))]
    if m.finished_at:
        meta.append(("finished", m.finished_at.isoformat(timespec="seconds")))
    meta += [(f"model ({role})", name) for role, name in m.models.items()]
    if m.host:
        meta.append(("host", m.host))
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in meta)
    config = json.dumps(m.config, indent=2, sort_keys=True, default=str)
    out.append(
        details(
            "Run details",
            scroll(f'<table class="meta">{rows}</table>')
            + f'<pre class="text">{esc(config)}</pre>',
        )
    )
    out.append("</section>")
    return "\n".join(out)


def answer_section(run: Run) -> str:
    sol, final = run.solution, run.final
    out = ['<section id="answer" class="card"><h2>Answer</h2>']
    result = sol.result if sol else final.get("result")
    stdout = sol.stdout if sol else str(final.get("stdout") or "")
    if result is not None:
        text = json.dumps(result, indent=2, ensure_ascii=False, default=repr)
        out.append(f'<h3>Result</h3><pre class="out">{esc(text)}</pre>')
    out.append(
        f'<h3>Printed output</h3><pre class="out">{esc(stdout)}</pre>'
        if stdout
        else '<p class="muted">The final run printed nothing.</p>'
    )
    if final.get("stderr"):
        out.append(f'<h3>Standard error</h3><pre class="out err">{esc(final["stderr"])}</pre>')
    if isinstance(final.get("error"), dict):
        err = final["error"]
        out.append(
            f'<p class="error">{esc(err.get("type"))}: {esc(err.get("message"))}</p>'
            + (
                f'<pre class="out err">{esc(err["traceback"])}</pre>'
                if err.get("traceback")
                else ""
            )
        )
    out.append(_artifacts(run))
    out.append("</section>")
    return "\n".join(out)


def _artifacts(run: Run) -> str:
    mimes = {a.name: a.mime_type for a in run.solution.artifacts} if run.solution else {}
    figures, rows, tables = [], [], []
    for name, data in run.files.items():
        image = _image_mime(data)
        if image is not None:
            uri = f"data:{image};base64,{base64.b64encode(data).decode('ascii')}"
            figures.append(
                f'<figure><img src="{uri}" alt="{esc(name)}">'
                f"<figcaption>{esc(name)} · {size(len(data))}</figcaption></figure>"
            )
            continue
        mime = mimes.get(name) or mimetypes.guess_type(name)[0] or "application/octet-stream"
        rows.append(f"<tr><td>{esc(name)}</td><td>{esc(mime)}</td><td>{size(len(data))}</td></tr>")
        if mime == "text/csv":
            tables.append(_csv_preview(name, data))
    for name in run.manifest.artifacts:
        if name not in run.files:
            rows.append(f'<tr><td>{esc(name)}</td><td colspan="2" class="muted">missing</td></tr>')
    out = []
    if figures:
        out.append(f'<h3>Plots</h3><div class="figures">{"".join(figures)}</div>')
    out += tables
    if rows:
        out.append(
            "<h3>Other artifacts</h3>"
            + scroll(
                "<table><thead><tr><th>name</th><th>type</th><th>size</th></tr></thead>"
                f"<tbody>{''.join(rows)}</tbody></table>"
            )
        )
    return "\n".join(out)


CSV_PREVIEW_ROWS = 20


def _csv_preview(name: str, data: bytes) -> str:
    """The first rows of a table the code wrote, so the report shows the data, not a size."""
    try:
        rows = list(_first_rows(data.decode("utf-8"), CSV_PREVIEW_ROWS + 2))
    except (UnicodeDecodeError, csv.Error):
        return ""
    if not rows:
        return ""
    head, body = rows[0], rows[1 : CSV_PREVIEW_ROWS + 1]
    cut = len(rows) > CSV_PREVIEW_ROWS + 1
    cells = "".join(
        "<tr>" + "".join(f"<td>{esc(gist(c, 80))}</td>" for c in row) + "</tr>" for row in body
    )
    note = f'<p class="muted">the first {CSV_PREVIEW_ROWS} rows</p>' if cut else ""
    return (
        f"<h3>{esc(name)}</h3>"
        + scroll(
            "<table><thead><tr>"
            + "".join(f"<th>{esc(gist(c, 40))}</th>" for c in head)
            + f"</tr></thead><tbody>{cells}</tbody></table>"
        )
        + note
    )


def _first_rows(text: str, n: int) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text))
    return [row for _, row in zip(range(n), reader, strict=False)]


def code_section(run: Run) -> str:
    sol = run.solution
    code = sol.code if sol else None
    if code is None:  # an unfinished run: its selected candidate, if the events name one
        code = next(
            (
                e.data.get("code")
                for e in reversed(run.of_kind("candidate"))
                if run.selected and e.data.get("id") == run.selected
            ),
            None,
        )
    out = ['<section id="code" class="card"><h2>Code</h2>']
    if sol and sol.explanation:
        out.append(f"<h3>Explanation</h3>{render_markdown(sol.explanation)}")
    if code:
        label = f" (candidate {esc(run.selected)})" if run.selected else ""
        out.append(f"<h3>Final code{label}</h3>{highlight(str(code))}")
    else:
        out.append('<p class="muted">No code was selected.</p>')
    if sol and sol.tests:
        out.append(details("Tests its author wrote", highlight(sol.tests)))
    out.append("</section>")
    return "\n".join(out)


def _image_mime(data: bytes) -> str | None:
    """Raster images only, told by their bytes: an SVG could carry script, a name can lie."""
    for magic, mime in _IMAGE_MAGIC.items():
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None
