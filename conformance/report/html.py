"""``compliance.html``: one self-contained page (inline CSS/JS, no network).

Headline scores, red banners for suites that could not run, the per-RFC-section grid,
the RFC 8441 matrix, the comparison across servers, the benchmark rows (a table and an
inline SVG bar chart each, conformance/report/bench_view.py) and per-case detail in
<details>.
A small inline script re-counts the headline numbers from the embedded JSON and writes
the verdict into ``#selfcheck`` so a headless browser can prove page == data.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from conformance.report.baseline import gate_line
from conformance.report.bench_view import bench_html
from conformance.report.markdown import cases_verdict, tool_ran

_CSS = """
:root{--pass:#1a7f37;--fail:#cf222e;--none:#d0d7de;--other:#9a6700;--ns:#8c959f;
--bg:#fff;--fg:#1f2328;--muted:#59636e}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;
margin:0 auto;max-width:1200px;padding:16px 24px;color:var(--fg);background:var(--bg)}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid
#d8dee4;padding-bottom:4px}.muted{color:var(--muted)}
.banner{background:var(--fail);color:#fff;padding:10px 14px;border-radius:6px;margin:8px 0;
font-weight:600}.banner span{font-weight:400}
.gate-ok{background:#dafbe1;border:1px solid var(--pass);padding:8px 12px;border-radius:6px}
.gate-na{background:#fff8c5;border:1px solid #d4a72c;padding:8px 12px;border-radius:6px}
.tool-amber{background:#fff8c5;padding:0 4px;border-radius:3px}
.gate-bad{background:#ffebe9;border:1px solid var(--fail);padding:8px 12px;border-radius:6px}
.cards{display:flex;flex-wrap:wrap;gap:10px}.card{border:1px solid #d0d7de;border-radius:8px;
padding:10px 14px;min-width:170px}.card .score{font-size:26px;font-weight:700}
.card.s-pass{border-left:6px solid var(--pass)}.card.s-fail{border-left:6px solid var(--fail)}
.card.s-near{border-left:6px solid #bc4c00}.card.s-error{border-left:6px solid var(--fail);background:#ffebe9}
.card.s-not-supported{border-left:6px solid var(--ns)}
.bar{height:6px;background:var(--none);border-radius:3px;overflow:hidden;margin-top:6px}
.bar i{display:block;height:100%;background:var(--pass)}
.grid{display:flex;flex-wrap:wrap;gap:3px;margin:6px 0 4px}.tile{width:58px;height:34px;
border-radius:4px;font-size:11px;display:flex;align-items:center;justify-content:center;
color:#fff;cursor:default}.st-pass{background:var(--pass)}.st-fail{background:var(--fail)}
.st-none{background:var(--none);color:#57606a}.st-other{background:var(--other)}
.st-error{background:var(--fail)}.st-near{background:#bc4c00}.st-not-supported{background:var(--ns)}
table{border-collapse:collapse;width:100%;margin:6px 0}th,td{border:1px solid #d8dee4;
padding:3px 6px;text-align:left;vertical-align:top}th{background:#f6f8fa}
td.c{text-align:center;color:#fff;font-weight:600}td.c.st-none{color:#57606a}
details{margin:4px 0}summary{cursor:pointer}.case-pass{color:var(--pass)}
.case-fail,.case-error{color:var(--fail);font-weight:600}.msg{font-family:ui-monospace,monospace;
font-size:12px;white-space:pre-wrap;word-break:break-word}
.chart svg{max-width:100%;height:auto}
.legend span{display:inline-block;padding:1px 8px;border-radius:4px;color:#fff;margin-right:4px}
"""

_JS = """
(function(){
  var errors=[];
  window.addEventListener('error',function(e){errors.push(String(e.message));});
  function check(){
    var out=document.getElementById('selfcheck');
    try{
      var data=JSON.parse(document.getElementById('report-data').textContent);
      var bad=[];
      data.headline.forEach(function(h){
        ['pass','total'].forEach(function(f){
          var el=document.querySelector('[data-key="'+h.key+'"][data-field="'+f+'"]');
          if(!el){bad.push(h.key+' '+f+' missing');return;}
          if(Number(el.textContent)!==h[f]){bad.push(h.key+' '+f+' '+el.textContent+'!='+h[f]);}
        });
      });
      var banners=document.querySelectorAll('.run-banner').length;
      if(banners!==data.banners.length){bad.push('banners '+banners+'!='+data.banners.length);}
      var ok=bad.length===0&&errors.length===0;
      out.setAttribute('data-ok',ok?'true':'false');
      out.textContent=ok?'page numbers verified against the embedded data':
        ('MISMATCH: '+bad.concat(errors).join('; '));
    }catch(e){out.setAttribute('data-ok','false');out.textContent='self-check error: '+e;}
  }
  // A comparison cell links to its run's <details>: open it when it is the target.
  function reveal(){
    var el=location.hash&&document.getElementById(location.hash.slice(1));
    if(el&&el.tagName==='DETAILS'){el.open=true;}
  }
  window.addEventListener('hashchange',reveal);
  if(document.readyState==='loading'){document.addEventListener('DOMContentLoaded',function(){check();reveal();});}
  else{check();reveal();}
})();
"""


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _num(key: str, field: str, value: int) -> str:
    return f'<span data-key="{_e(key)}" data-field="{field}">{value}</span>'


def _card(h: dict[str, Any]) -> str:
    status = h["status"]
    if status == "ok":
        status = _score_class(h)
    pct = 100 * h["pass"] / h["total"] if h["total"] else 0
    if h["status"] == "error":
        score = f'could not run ({_num(h["key"], "pass", h["pass"])}/' \
                f'{_num(h["key"], "total", h["total"])})'
    elif h["status"] == "not-supported":
        score = f'not supported ({_num(h["key"], "pass", h["pass"])}/' \
                f'{_num(h["key"], "total", h["total"])})'
    else:
        score = f'{_num(h["key"], "pass", h["pass"])}/{_num(h["key"], "total", h["total"])}'
    s = h["summary"]
    detail = ", ".join(f"{v} {k}" for k, v in s.items() if k not in ("pass", "total") and v)
    ran = f'tool: {tool_ran(h["status"])} · cases: {cases_verdict(h)}'
    return (f'<div class="card s-{_e(status)}"><div class="muted">{_e(h["suite"])} · '
            f'{_e(h["variant"])}</div><div class="muted">{_e(ran)}</div>'
            f'<div class="score">{score}</div>'
            f'<div class="bar"><i style="width:{pct:.1f}%"></i></div>'
            f'<div class="muted">{_e(detail) or "&nbsp;"}</div></div>')


def _tool(tool: dict[str, Any]) -> str:
    """A tool and its version (escaped); one not at its pinned version is shown in amber."""
    text = _e(f'{tool["suite"]}: {tool.get("name", "")} {tool.get("version", "")} '
              f'({tool.get("runner", "")})')
    if tool.get("path"):
        text += f' at <code>{_e(tool["path"])}</code>'
    if str(tool.get("pinned", "")).lower() == "false":  # values are text once loaded
        text += (f' <span class="tool-amber">not the pinned '
                 f'{_e(tool.get("pinned_version", ""))}: {_e(tool.get("cases", "?"))} cases, '
                 'a case list of its own</span>')
    return text


def _banners(data: dict[str, Any]) -> str:
    return "".join(f'<div class="banner run-banner">{_e(b["key"])} could not run: '
                   f'<span>{_e(b["message"])}</span></div>' for b in data["banners"])


def _gate(data: dict[str, Any]) -> str:
    gate = data.get("gate") or {}
    if not gate:
        return ""
    if not gate.get("applied", True):
        return f'<p class="gate-na">{_e(gate_line(gate))}</p>'
    if gate["ok"]:
        return f'<p class="gate-ok">{_e(gate_line(gate))}</p>'
    per_run: dict[str, int] = {}
    for r in gate["regressions"]:
        per_run[r["run"]] = per_run.get(r["run"], 0) + 1
    counts = ", ".join(f"{_e(run)} {n}" for run, n in per_run.items())
    items = "".join(f'<li><code>{_e(r["run"])} {_e(r["case"])}</code>: {_e(r["was"])} → '
                    f'{_e(r["now"])} <span class="msg">{_e(r["message"])}</span></li>'
                    for r in gate["regressions"][:1000])
    # A long list stays folded so the rest of the page is still readable at a glance.
    opened = " open" if len(gate["regressions"]) <= 20 else ""
    return (f'<div class="gate-bad"><b>Regression gate: {len(gate["regressions"])} '
            f'regressions</b> against {_e(gate["baseline"])} ({counts})'
            f'<details{opened}><summary>cases</summary><ul>{items}</ul>'
            f'</details></div>')


def _sections(data: dict[str, Any]) -> str:
    parts = ['<p class="legend"><span class="st-pass">pass</span><span class="st-fail">fail'
             '</span><span class="st-other">skipped / informational only</span>'
             '<span class="st-none" style="color:#57606a">no evidence</span> '
             '<span class="muted">counts include subsections</span></p>']
    for rfc in data["sections"]:
        rows = rfc["sections"]
        covered = sum(1 for r in rows if r["status"] != "none")
        tiles = "".join(
            f'<div class="tile st-{_e(r["status"])}" title="§{_e(r["section"])} '
            f'{_e(r["title"])}: {r["summary"]["pass"]} pass, {r["summary"]["fail"]} fail, '
            f'{r["summary"]["error"]} error of {r["summary"]["total"]}">{_e(r["section"])}</div>'
            for r in rows)
        table = "".join(
            f'<tr><td>§{_e(r["section"])}</td><td>{_e(r["title"])}</td>'
            f'<td class="c st-{_e(r["status"])}">{_e(r["status"])}</td>'
            f'<td>{r["summary"]["pass"]}</td><td>{r["summary"]["fail"]}</td>'
            f'<td>{r["summary"]["error"]}</td><td>{r["summary"]["total"]}</td></tr>'
            for r in rows)
        parts.append(
            f'<h3>{_e(rfc["rfc"])} — {_e(rfc["title"])} <span class="muted">'
            f'({covered}/{len(rows)} sections with evidence)</span></h3>'
            f'<div class="grid">{tiles}</div><details><summary>table</summary><table>'
            f'<tr><th>§</th><th>title</th><th>status</th><th>pass</th><th>fail</th>'
            f'<th>error</th><th>cases</th></tr>{table}</table></details>')
    return "".join(parts)


def _run_anchor(suite: str, variant: str, target: str) -> str:
    """The id of a run's <details> in the case list (the comparison cells link to it)."""
    return "run-" + "-".join("".join(ch if ch.isalnum() else "_" for ch in part)
                             for part in (suite, variant, target))


def _cell_html(cell: dict[str, Any] | None, anchor: str = "") -> str:
    if cell is None:
        return '<td class="c st-none">—</td>'
    status = cell["status"]
    link = f' href="#{anchor}"' if anchor else ""
    if status == "error":
        return (f'<td class="c st-error" title="{_e(cell["message"])}"><a{link}>could not run'
                "</a></td>")
    if status == "not-supported":
        return '<td class="c st-not-supported">not supported</td>'
    return (f'<td class="c st-{_score_class(cell)}"><a{link}>{cell["pass"]}/{cell["total"]}'
            "</a></td>")


def _score_class(cell: dict[str, Any]) -> str:
    """Green only when everything passed; amber from 90 %, so 242/244 and 0/244 differ."""
    if cell["total"] and cell["pass"] == cell["total"]:
        return "pass"
    if cell["total"] and cell["pass"] >= 0.9 * cell["total"]:
        return "near"
    return "fail"


def _comparison(data: dict[str, Any]) -> str:
    comp = data["comparison"]
    if not comp["rows"]:
        return "<p class='muted'>No external suite results.</p>"
    info = data["provenance"].get("targets", {})

    def implementation(target: str) -> str:
        meta = info.get(target) or {}
        sub = " ".join(str(meta.get(k, "")) for k in ("language", "version") if meta.get(k))
        return f'<th title="{_e(meta.get("implementation", ""))}">{_e(target)}' + (
            f'<br><span class="muted">{_e(sub)}</span>' if sub else "") + "</th>"

    # A row per implementation, a column per suite and variant (issue 14 §3); each score
    # links to that run's cases, failures first.
    head = "".join(f'<th>{_e(r["suite"])}<br><span class="muted">{_e(r["variant"])}</span></th>'
                   for r in comp["rows"])
    body = "".join(
        f"<tr>{implementation(t)}"
        + "".join(_cell_html(r["cells"].get(t), _run_anchor(r["suite"], r["variant"], t))
                  for r in comp["rows"]) + "</tr>"
        for t in comp["targets"])
    legend = ('<p class="legend"><span class="st-pass">all pass</span><span class="st-near">'
              '≥ 90 %</span><span class="st-fail">&lt; 90 %</span><span class="st-not-supported">'
              'not supported</span><span class="st-error">could not run</span></p>')
    return f"{legend}<table><tr><th>implementation</th>{head}</tr>{body}</table>"


def _probes(data: dict[str, Any]) -> str:
    """MUST apart from SHOULD/MAY, per target and RFC (conformance/report/probes_view.py)."""
    rows = data.get("probes") or []
    if not rows:
        return "<p class='muted'>No probe results.</p>"

    def cell(summary: dict[str, int], decisive: bool) -> str:
        scored = summary["total"] - summary["not-supported"]
        if not summary["total"]:
            return '<td class="c st-none">—</td>'
        bad = summary["fail"] + summary["error"]
        cls = ("fail" if bad else "pass") if decisive else "other"
        return (f'<td class="c st-{cls}">{summary["pass"]}/{scored}'
                f'{f" ({bad} not passed)" if bad else ""}</td>')

    body = "".join(
        f'<tr><td>{_e(r["target"])}</td><td>{_e(r["rfc"])}</td>{cell(r["must"], True)}'
        f'{cell(r["other"], False)}<td class="msg">{_e(", ".join(r["failing_must"][:20]))}'
        f'</td></tr>' for r in rows)
    return ('<p class="muted">MUST / MUST NOT decide conformance; SHOULD and MAY are shown '
            'apart.</p><table><tr><th>target</th><th>RFC</th><th>MUST</th>'
            f'<th>SHOULD / MAY</th><th>failing MUST probes</th></tr>{body}</table>')


def _matrix(data: dict[str, Any]) -> str:
    m = data["rfc8441_matrix"]
    errors = "".join(f'<div class="banner">RFC 8441 matrix: <span>{_e(x)}</span></div>'
                     for x in m["errors"])
    if not m["rows"]:
        return errors + "<p class='muted'>No RFC 8441 interop results yet.</p>"
    head = "".join(f"<th>{_e(c)}</th>" for c in m["cols"])
    rows = []
    for r in m["rows"]:
        cells = []
        for c in m["cols"]:
            cell = m["cells"].get(f"{r}|{c}")
            if cell is None:
                cells.append('<td class="c st-none">—</td>')
                continue
            s = cell["summary"]
            # Scenarios one end cannot perform are "n/a", outside the score.
            scored = s["total"] - s["not-supported"] - s["informational"]
            na = s["total"] - scored
            tip = "; ".join(f'{x["id"]}: {x["status"]} {x["message"]}'.strip()
                            for x in cell["cases"])
            cells.append(f'<td class="c st-{_e(cell["status"])}" title="{_e(tip)}">'
                         f'{s["pass"]}/{scored}{f" <small>+{na} n/a</small>" if na else ""}'
                         f'</td>')
        rows.append(f"<tr><th>{_e(r)}</th>{''.join(cells)}</tr>")
    return (errors + f"<table><tr><th>client \\ server</th>{head}</tr>{''.join(rows)}</table>")


def _counts(summary: dict[str, int]) -> str:
    """'3 pass, 1 fail of 4': every non-zero status, then the total."""
    parts = [f"{v} {k}" for k, v in summary.items() if k != "total" and v]
    return f"{', '.join(parts) or 'no cases'} of {summary['total']}"


def _cases(data: dict[str, Any]) -> str:
    parts = []
    for run in data["runs"]:
        s = run["summary"]
        order = {"fail": 0, "error": 1}
        cases = sorted(run["cases"], key=lambda c: order.get(c["status"], 2))
        rows = "".join(
            f'<tr><td><code>{_e(c["id"])}</code></td><td>{_e(c["rfc"])} §{_e(c["section"])}'
            f'</td><td>{_e(c["description"])}</td><td class="case-{_e(c["status"])}">'
            f'{_e(c["status"])}</td><td class="msg">{_e(c["message"])}</td></tr>'
            for c in cases)
        anchor = _run_anchor(run["suite"], run["variant"], run["target"])
        parts.append(
            f'<details id="{anchor}"><summary><b>{_e(run["suite"])} / {_e(run["variant"])} @ '
            f'{_e(run["target"])}</b> — {_e(run["status"])}: {_counts(s)} '
            f'<span class="muted">{_e(run["tool"].get("name", ""))} '
            f'{_e(run["tool"].get("version", ""))}</span></summary>'
            f'<p class="msg">{_e(run["message"])}</p><table><tr><th>case</th><th>RFC §</th>'
            f'<th>description</th><th>status</th><th>message</th></tr>{rows}</table></details>')
    return "".join(parts)


def _embedded(data: dict[str, Any]) -> str:
    slim = {"target": data["target"], "headline": data["headline"], "banners": data["banners"],
            "totals": data["totals"]}
    return json.dumps(slim).replace("</", "<\\/")


def render_html(data: dict[str, Any]) -> str:
    prov = data["provenance"]
    git = prov["git"]
    tools = ", ".join(_tool(t) for t in prov["tools"])
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Compliance report — {_e(data["target"])}</title><style>{_CSS}</style></head>
<body>
<h1>Compliance report — {_e(data["target"])}</h1>
<p class="muted">Generated {_e(prov["date"])} · commit <code>{_e(git["commit"][:12])}</code>
{'(dirty tree)' if git["dirty"] else ''} · {_e(prov["machine"]["hostname"])}
({_e(prov["machine"]["platform"])}, {prov["machine"]["cpus"]} CPUs)<br>Tools: {tools}</p>
{_banners(data)}
<nav class="muted"><a href="#scores">scores</a> · <a href="#sections">RFC sections</a> · <a href="#matrix">RFC 8441 matrix</a> · <a href="#probes">probes</a> · <a href="#comparison">comparison</a> · <a href="#bench">benchmarks</a> · <a href="#cases">cases</a></nav>
<h2 id="scores">Headline scores</h2><div class="cards">{''.join(_card(h) for h in data['headline'])}</div>
{_gate(data)}
<h2 id="sections">RFC sections</h2>{_sections(data)}
<h2 id="matrix">RFC 8441 interop matrix</h2>{_matrix(data)}
<h2 id="probes">Probes per RFC</h2>{_probes(data)}
<h2 id="comparison">Comparison across servers</h2>{_comparison(data)}
<h2 id="bench">Benchmarks</h2>{bench_html(data)}
<h2 id="cases">Per-case detail</h2>{_cases(data)}
<p id="selfcheck" data-ok="pending" class="muted">self-check pending</p>
<script type="application/json" id="report-data">{_embedded(data)}</script>
<script>{_JS}</script>
</body></html>
"""
