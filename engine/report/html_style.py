"""Inline stylesheet of the HTML report (no web fonts: the page must work offline)."""

CSS = """
:root{--ink:#0f172a;--muted:#64748b;--line:#e2e8f0;--bg:#f8fafc;--card:#fff;
--pass:#15803d;--fail:#b91c1c;--warn:#b45309;--invalid:#7e22ce;--idle:#475569}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);
font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
main{max-width:1360px;margin:0 auto;padding:28px 32px 48px}
h1{font-size:26px;margin:0;letter-spacing:-.01em}
h2{font-size:20px;margin:32px 0 12px;padding-bottom:6px;border-bottom:2px solid var(--line)}
h3{font-size:16px;margin:22px 0 8px;color:#1e293b}
.hero{background:var(--card);border:1px solid var(--line);border-radius:14px;padding:22px 26px;
box-shadow:0 1px 2px rgba(15,23,42,.05)}
.hero-top{display:flex;align-items:center;gap:16px;flex-wrap:wrap}
.badge{display:inline-block;padding:4px 14px;border-radius:999px;font-weight:700;font-size:14px;
letter-spacing:.04em;color:#fff;background:var(--idle)}
.v-pass{background:var(--pass)}.v-fail{background:var(--fail)}
.v-inconclusive{background:var(--warn)}.v-invalid{background:var(--invalid)}
.facts{display:flex;flex-wrap:wrap;gap:8px 32px;margin:14px 0 18px}
.facts div{min-width:110px}.facts dt{font-size:12px;text-transform:uppercase;letter-spacing:.06em;
color:var(--muted)}.facts dd{margin:0;font-weight:600}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:12px}
.kpi{background:var(--bg);border:1px solid var(--line);border-radius:10px;padding:12px 14px}
.kpi-label{font-size:12px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted)}
.kpi-value{font-size:24px;font-weight:700;margin-top:2px}
.kpi-note{font-size:12px;color:var(--muted)}
.alerts{margin:16px 0 0;padding:10px 14px 10px 32px;background:#fef2f2;border:1px solid #fecaca;
border-radius:10px;color:#7f1d1d}
.chart-grid{display:flex;flex-wrap:wrap;gap:16px;margin:12px 0}
.card{margin:0;background:var(--card);border:1px solid var(--line);border-radius:12px;padding:8px;
box-shadow:0 1px 2px rgba(15,23,42,.05);flex:0 1 600px;min-width:0}
.card svg{display:block;width:100%;height:auto}
/* every card has the same basis: one chart alone in a row keeps the others' scale */
.report-section{background:var(--card);border:1px solid var(--line);border-radius:12px;
padding:2px 24px 18px;margin-top:18px}
table{border-collapse:collapse;margin:10px 0;font-size:14px;width:auto;max-width:100%;
display:block;overflow-x:auto}
th,td{padding:6px 12px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:var(--bg);font-weight:600;color:#334155}
tr:nth-child(even) td{background:#fcfdfe}
.st{font-weight:700}.st-pass,.st-yes,.st-confirmed{color:var(--pass)}
.st-fail,.st-no,.st-refuted{color:var(--fail)}.st-inconclusive{color:var(--warn)}
.st-invalid{color:var(--invalid)}.st-not_run,.st-manual,.st-aborted{color:var(--idle)}
code{background:#f1f5f9;padding:1px 5px;border-radius:4px;font-size:13px}
em{color:var(--muted)}
footer{margin-top:28px;color:var(--muted);font-size:13px;text-align:center}
.flame-card{margin:12px 0;background:var(--card);border:1px solid var(--line);border-radius:12px;
padding:8px;overflow-x:auto}.flame-card svg{display:block;width:100%;height:auto}
.flame text{fill:#111;pointer-events:none}.flame .frame:hover rect{stroke:#111;stroke-width:.8}
"""
