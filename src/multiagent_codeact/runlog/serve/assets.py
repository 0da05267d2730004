"""The viewer's stylesheet and its one script, served from /static/ so the pages' CSP can say
`script-src 'self'` and forbid inline script: a run's text cannot become code on the page.

The script only runs on a live run's page. It listens to the run's server-sent events, adds
each event to the feed as text (`textContent`, never markup), and reloads the report frame
(keeping its scroll position) a moment after new events, and once more when the run ends;
`data-reloads` and `data-report-final` on #run say how far it got (what a test awaits).
"""

from __future__ import annotations

__all__ = ["CSS", "JS"]

CSS = """
:root { --fg: #1f2328; --dim: #59636e; --line: #d1d9e0; --bg: #f6f8fa; --link: #0969da;
  --good: #1a7f37; --warn: #9a6700; --bad: #cf222e; --run: #0969da; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); font: 14px/1.45 system-ui, -apple-system, "Segoe UI",
  sans-serif; }
a { color: var(--link); }
header.bar { display: flex; flex-wrap: wrap; gap: .4rem 1rem; align-items: center;
  padding: .6rem 1rem; border-bottom: 1px solid var(--line); background: var(--bg); }
header.bar h1 { font-size: 1rem; margin: 0; overflow-wrap: anywhere; }
header.bar .home { font-weight: 600; text-decoration: none; }
main.list { padding: 1rem; max-width: 1400px; }
form.filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end;
  margin-bottom: 1rem; }
form.filters label { display: flex; flex-direction: column; font-size: .8rem; color: var(--dim); }
form.filters input, form.filters select { font: inherit; padding: .25rem .4rem; }
.count { color: var(--dim); margin: .5rem 0; }
.table-wrap { overflow-x: auto; }
table.runs { border-collapse: collapse; width: 100%; }
table.runs th, table.runs td { text-align: left; padding: .35rem .6rem;
  border-bottom: 1px solid var(--line); vertical-align: top; }
table.runs th { font-size: .8rem; color: var(--dim); font-weight: 600; }
table.runs td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.runs td.id { font-family: ui-monospace, monospace; white-space: nowrap; }
table.runs td.task { overflow-wrap: anywhere; min-width: 16rem; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 1rem; font-size: .8rem;
  border: 1px solid currentColor; white-space: nowrap; }
.status-finished, .verdict-verified { color: var(--good); }
.status-failed, .verdict-failed { color: var(--bad); }
.status-interrupted, .verdict-disputed { color: var(--warn); }
.status-running { color: var(--run); }
nav.pages { display: flex; gap: 1rem; margin: 1rem 0; }
.empty, .problem { padding: 1rem; }
.problem { color: var(--bad); }
body.page-run { display: flex; flex-direction: column; height: 100vh; }
#live { border-bottom: 1px solid var(--line); padding: .4rem 1rem; }
#live summary { cursor: pointer; color: var(--dim); }
#feed { margin: .3rem 0 0; padding: 0; list-style: none; max-height: 26vh; overflow-y: auto;
  font: 12px/1.5 ui-monospace, monospace; }
#feed li { display: flex; flex-wrap: wrap; gap: 0 .6rem; }
#feed .t { color: var(--dim); min-width: 4.5rem; text-align: right; }
#feed .who { color: #8250df; min-width: 8rem; }
#feed .kind { font-weight: 600; min-width: 7rem; }
#feed .text { flex: 1 1 20rem; overflow-wrap: anywhere; white-space: pre-wrap; }
#feed .detail { flex-basis: 100%; padding-left: 21rem; color: var(--dim); }
#feed .tone-good .text { color: var(--good); }
#feed .tone-warn .text { color: var(--warn); }
#feed .tone-bad .text { color: var(--bad); }
#feed .tone-dim .text { color: var(--dim); }
#live-state { color: var(--dim); font-size: .8rem; }
iframe#report { flex: 1; width: 100%; border: 0; min-height: 20rem; }
@media (max-width: 600px) { #feed .detail { padding-left: 1rem; } #feed .who { min-width: 0; } }
"""

JS = """
"use strict";
(() => {
  const live = document.querySelector("[data-live]");
  if (!live) return;
  const feed = document.getElementById("feed");
  const count = document.getElementById("feed-count");
  const badge = document.getElementById("status");
  const state = document.getElementById("live-state");
  const frame = document.getElementById("report");
  const MAX_ROWS = 500;
  const REFRESH_MS = 1500;
  let seen = 0;
  let timer = null;

  const span = (cls, text) => {
    const s = document.createElement("span");
    s.className = cls;
    s.textContent = text;
    return s;
  };

  const addRow = (row) => {
    const atBottom = feed.scrollTop + feed.clientHeight >= feed.scrollHeight - 4;
    const li = document.createElement("li");
    if (row.tone) li.className = "tone-" + row.tone;
    li.dataset.seq = String(row.seq);
    li.append(
      span("t", "+" + Number(row.offset_s).toFixed(2) + "s"),
      span("who", row.who),
      span("kind", row.kind),
      span("text", row.text),
    );
    for (const d of row.details || []) li.append(span("detail", "\\u21b3 " + d));
    feed.append(li);
    while (feed.children.length > MAX_ROWS) feed.firstElementChild.remove();
    seen += 1;
    count.textContent = seen + (seen === 1 ? " event" : " events");
    if (atBottom) feed.scrollTop = feed.scrollHeight;
  };

  // Each reload asks for `?v=N`, so a load tells which request it answers: a slow load of an
  // older copy cannot pass for the final one. `replace` keeps reloads out of the history.
  const base = frame.getAttribute("src");
  let version = 0;
  let finalVersion = -1;
  let keepY = 0;
  frame.addEventListener("load", () => {
    let v = 0;
    try {
      v = Number(new URL(frame.contentWindow.location.href).searchParams.get("v") || "0");
      frame.contentWindow.scrollTo(0, keepY);
    } catch (e) { v = 0; }
    if (v > 0) live.dataset.reloads = String(Number(live.dataset.reloads || "0") + 1);
    if (v === finalVersion) live.dataset.reportFinal = "true";
  });

  const reloadReport = (final) => {
    if (timer !== null) { clearTimeout(timer); timer = null; }
    try { keepY = frame.contentWindow.scrollY; } catch (e) { keepY = 0; }
    version += 1;
    if (final) finalVersion = version;
    const url = base + "?v=" + version;
    try { frame.contentWindow.location.replace(url); } catch (e) { frame.src = url; }
  };

  const soon = () => {
    if (timer === null) timer = setTimeout(() => reloadReport(false), REFRESH_MS);
  };

  const setStatus = (s) => {
    badge.textContent = s.status;
    badge.className = "badge status-" + s.status;
    document.body.dataset.status = s.status;
  };

  const source = new EventSource(live.dataset.live);
  source.addEventListener("open", () => { state.textContent = "live"; });
  source.addEventListener("status", (e) => setStatus(JSON.parse(e.data)));
  source.addEventListener("run-event", (e) => { addRow(JSON.parse(e.data)); soon(); });
  source.addEventListener("end", () => {
    source.close();
    state.textContent = "the run has ended";
    live.dataset.ended = "true";
    reloadReport(true);
  });
  source.addEventListener("error", () => {
    if (source.readyState !== EventSource.CLOSED) state.textContent = "reconnecting\\u2026";
  });
})();
"""
