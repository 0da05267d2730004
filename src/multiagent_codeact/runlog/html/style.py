"""The report's stylesheet, inline in the page (it loads nothing).

Narrow screens: the page itself never scrolls sideways. Code keeps its lines and scrolls inside
its own box, prose and table cells wrap long words, wide tables scroll in a `.scroll` box, and
below 640 px the timeline's rows stack instead of keeping four columns.
"""

from __future__ import annotations

CSS = """
:root { --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg:#f6f8fa; --card:#fff;
  --ok:#1a7f37; --warn:#9a6700; --bad:#cf222e; --none:#59636e; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust:100%; text-size-adjust:100%; }
body { margin:0; font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
  color:var(--fg); background:var(--bg); overflow-wrap:break-word; }
main { max-width:1100px; margin:0 auto; padding:16px; }
code, pre, .hl, .kind, td.t { font-family:ui-monospace,"SFMono-Regular","DejaVu Sans Mono",
  Menlo,Consolas,monospace; font-size:13px; }
code { overflow-wrap:anywhere; }
pre { margin:6px 0; padding:10px 12px; border-radius:6px; overflow-x:auto; max-width:100%; }
pre.text { white-space:pre-wrap; overflow-wrap:anywhere; background:var(--bg); }
pre.out { background:#0d1117; color:#e6edf3; white-space:pre-wrap; overflow-wrap:anywhere; }
pre.err { background:#2d0f12; }
pre.code { background:var(--bg); }
.hl { border:1px solid var(--line); border-radius:6px; max-width:100%; overflow-x:auto; }
.hl pre { margin:0; overflow-x:visible; }
.prose, .md { overflow-wrap:anywhere; }
.md > :first-child { margin-top:0; }
.md > :last-child { margin-bottom:0; }
.md p, .md ul, .md ol, .md blockquote { margin:6px 0; }
.md ul, .md ol { padding-left:22px; }
.md h1, .md h2, .md h3, .md h4, .md h5, .md h6 { font-size:15px; margin:10px 0 4px; }
.md blockquote { border-left:3px solid var(--line); padding-left:10px; color:var(--muted); }
.md code { background:var(--bg); padding:0 3px; border-radius:3px; }
.md pre code, .md .hl code { background:none; padding:0; }
h2 { margin:18px 0 10px; font-size:20px; }
.card > h2:first-child { margin-top:0; }
h3 { margin:18px 0 6px; font-size:16px; }
h4 { margin:10px 0 4px; font-size:14px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:10px;
  padding:16px 20px; margin:16px 0; min-width:0; }
.bar { position:sticky; top:0; z-index:5; display:flex; flex-wrap:wrap; gap:4px 14px;
  align-items:center; padding:8px 16px; background:rgba(255,255,255,.96);
  border-bottom:1px solid var(--line); }
.bar-task { flex:1 1 12em; min-width:0; overflow:hidden; white-space:nowrap;
  text-overflow:ellipsis; }
.bar-totals { color:var(--muted); }
.bar nav { display:flex; flex-wrap:wrap; gap:0 10px; }
.bar nav a { color:var(--muted); text-decoration:none; }
.badge { display:inline-block; padding:1px 10px; border-radius:999px; color:#fff;
  font-weight:600; text-transform:uppercase; font-size:12px; letter-spacing:.04em; }
.badge.v-verified, .verdict.v-verified { background:var(--ok); }
.badge.v-disputed, .verdict.v-disputed { background:var(--warn); }
.badge.v-failed, .verdict.v-failed { background:var(--bad); }
.badge.v-none, .verdict.v-none { background:var(--none); }
.verdict-row { display:flex; gap:20px; align-items:stretch; flex-wrap:wrap; }
.verdict { color:#fff; border-radius:10px; padding:14px 22px; min-width:min(200px,100%); }
.verdict-label { font-size:28px; font-weight:700; text-transform:uppercase; }
.stats { display:grid; grid-template-columns:repeat(auto-fit,minmax(min(130px,100%),1fr));
  gap:8px 18px; margin:0; flex:1 1 300px; min-width:0; }
.stats dt { color:var(--muted); font-size:12px; text-transform:uppercase; }
.stats dd { margin:0; font-size:18px; font-weight:600; }
.error { color:var(--bad); }
.unknown { color:var(--warn); text-decoration:underline dotted; cursor:help; }
.muted, .legend { color:var(--muted); }
.label { font-weight:600; }
table { border-collapse:collapse; margin:6px 0; }
th, td { border-bottom:1px solid var(--line); padding:4px 8px; text-align:left;
  vertical-align:top; }
thead th { background:var(--bg); font-size:13px; }
td.n { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
.scroll { overflow-x:auto; max-width:100%; }
.matrix td { text-align:center; min-width:26px; }
.matrix th.test { writing-mode:vertical-rl; transform:rotate(180deg); font-weight:500;
  white-space:nowrap; }
.matrix th.group { text-align:center; border-left:2px solid var(--line); }
.matrix tr.selected th.cand { background:#dafbe1; }
.o-pass { background:#dafbe1; color:var(--ok); }
.o-fail { background:#ffebe9; color:var(--bad); font-weight:700; }
.o-error, .o-timeout { background:#fff1c2; color:var(--warn); font-weight:700; }
.o-skipped, .o-none { background:var(--bg); color:var(--muted); }
.s-load_error, .s-rejected { color:var(--bad); }
.star { color:#bf8700; }
.pbar { display:inline-block; width:90px; height:8px; background:var(--bg);
  border:1px solid var(--line); border-radius:4px; vertical-align:middle; }
.pbar span { display:block; height:100%; background:var(--ok); border-radius:3px; }
.figures { display:flex; flex-wrap:wrap; gap:16px; }
figure { margin:0; max-width:100%; min-width:0; }
figure img { max-width:100%; height:auto; border:1px solid var(--line); border-radius:6px;
  background:#fff; }
figcaption { color:var(--muted); font-size:13px; }
.caught { margin:8px 0 0; }
.pass { border-left:3px solid var(--line); padding-left:12px; margin:14px 0; }
.pass > h3 { margin-top:0; }
.judged { border:1px solid var(--line); border-radius:8px; padding:8px 12px; margin:8px 0; }
.judged.j-bad { border-color:#ffcecb; background:#fff8f7; }
.judged.j-good { border-color:#aceebb; background:#f6fff8; }
.judged.j-warn { border-color:#f0dc9a; background:#fffdf3; }
.judged > p { margin:4px 0; }
.j-mark { font-weight:700; }
.j-bad .j-mark { color:var(--bad); }
.j-good .j-mark { color:var(--ok); }
.j-warn .j-mark { color:var(--warn); }
.timeline { width:100%; table-layout:fixed; }
.timeline col.c-t { width:76px; }
.timeline col.c-a { width:130px; }
.timeline col.c-k { width:112px; }
.timeline td { overflow-wrap:anywhere; }
.timeline td.k { overflow-wrap:normal; }
td.t { white-space:nowrap; }
.timeline td.t { color:var(--muted); }
.timeline tr.round th { background:var(--bg); padding-top:10px; }
.kind { font-size:12px; color:var(--muted); }
.agent { background:hsl(var(--h) 70% 93%); color:hsl(var(--h) 55% 28%); padding:0 6px;
  border-radius:4px; font-size:13px; white-space:nowrap; }
.timeline .agent { white-space:normal; }
details summary { cursor:pointer; color:var(--muted); font-size:13px; }
ul.tests { padding-left:18px; }
.tl-radio { position:absolute; opacity:0; width:1px; height:1px; margin:0; }
.tl-filter { border:0; padding:0; margin:0 0 10px; display:flex; flex-wrap:wrap; gap:6px; }
.tl-filter legend { float:left; margin-right:6px; color:var(--muted); font-size:13px;
  padding:2px 0; }
.tl-filter label { border:1px solid var(--line); border-radius:999px; padding:1px 10px;
  font-size:13px; cursor:pointer; background:var(--card); }
.wf { margin:6px 0 16px; }
.wf-axis, .wf-row { display:grid; grid-template-columns:minmax(0,11em) minmax(0,1fr);
  gap:8px; align-items:center; }
.wf-axis .wf-track { height:18px; border-bottom:1px solid var(--line); background:none;
  overflow:visible; }
.wf-tick { position:absolute; top:0; font-size:11px; color:var(--muted); white-space:nowrap;
  transform:translateX(-50%); }
.wf-tick:first-child { transform:none; }
.wf-tick.end { transform:translateX(-100%); }
.wf-row { min-height:20px; }
.wf-who { font-size:12px; white-space:nowrap; overflow:hidden; text-overflow:ellipsis; }
.wf-track { position:relative; height:16px; background:var(--bg); border-radius:3px;
  overflow:hidden; }
.wf-what { position:absolute; top:0; font-size:11px; line-height:16px; white-space:nowrap;
  color:var(--muted); }
.wf-bar { position:absolute; top:2px; bottom:2px; min-width:3px; border-radius:3px;
  background:hsl(var(--h) 60% 52%); }
.wf-bar.b-run { background:#57606a; }
.wf-bar.b-error { background:var(--bad); }
.wf-bar.b-cached { opacity:.45; }
.wf-bar.b-guess { background:repeating-linear-gradient(90deg,#57606a 0 4px,#8c959f 4px 8px); }
.wf-legend { font-size:12px; color:var(--muted); }
footer { text-align:center; color:var(--muted); font-size:12px; padding:16px; }
@media (max-width: 640px) {
  main { padding:8px; }
  .card { padding:12px; margin:10px 0; }
  .bar { padding:6px 8px; }
  .verdict { padding:10px 14px; }
  .verdict-label { font-size:22px; }
  .timeline, .timeline tbody, .timeline tr, .timeline td, .timeline th { display:block;
    width:auto; }
  .timeline colgroup { display:none; }
  .timeline tr { border-bottom:1px solid var(--line); padding:4px 0; }
  .timeline td { border:0; padding:1px 4px; }
  .timeline td.t, .timeline td.who, .timeline td.k { display:inline-block; }
  .wf-axis, .wf-row { grid-template-columns:minmax(0,6.5em) minmax(0,1fr); }
}
""".strip()
