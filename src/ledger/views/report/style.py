"""The report's inline CSS (no fetch: the Content Security Policy allows inline styles only).
Table headers never break inside a word; cells may, so long record text cannot widen a table."""

CSS = """
:root { --ink: #1d2330; --muted: #5b6475; --line: #d9dde5; --good: #1b7837; --bad: #b2182b; --accent: #2c5aa0; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 -apple-system, "Segoe UI", "Helvetica Neue", Arial, sans-serif;
       color: var(--ink); background: #fff; }
main { max-width: 1100px; margin: 0 auto; padding: 32px 28px 64px; }
h1 { font-size: 28px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 16px; margin: 18px 0 6px; }
.meta, .muted { color: var(--muted); font-size: 13px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 12px; margin: 16px 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.card .k { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .v { font-size: 20px; font-weight: 600; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top;
         overflow-wrap: break-word; }
th { background: #f3f5f8; font-weight: 600; overflow-wrap: normal; word-break: keep-all; hyphens: none; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.baseline td { background: #fff8e6; }
tr.failed td, tr.killed td, tr.crashed td { background: #fdf1f1; }
.better { color: var(--good); font-weight: 600; } .worse { color: var(--bad); font-weight: 600; }
.status { font-size: 12px; padding: 1px 6px; border-radius: 10px; background: #eef1f6; white-space: nowrap; }
.status.finished { background: #e4f3e8; } .status.failed, .status.crashed, .status.killed { background: #f9dede; }
.decision { border: 2px solid var(--good); border-radius: 10px; padding: 14px 18px; background: #f6fbf7; }
blockquote { margin: 8px 0; padding: 4px 14px; border-left: 4px solid var(--accent); background: #f6f8fc; }
figure { margin: 12px 0 20px; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; }
figcaption { color: var(--muted); font-size: 13px; }
.story li { margin-bottom: 10px; } .story p { margin: 2px 0; }
.params { font-size: 12px; color: var(--muted); }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
@media print {
  body { font-size: 11pt; } main { max-width: none; padding: 0; }
  h2 { break-after: avoid; } figure, tr, .card, .decision { break-inside: avoid; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""
