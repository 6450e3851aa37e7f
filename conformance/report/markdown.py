"""``compliance.md``: summary per suite, comparison across servers, per RFC section, failures."""

from __future__ import annotations

from typing import Any

from conformance.report.baseline import gate_line
from conformance.report.probes_view import probes_markdown

_ICON = {"pass": "✅", "fail": "❌", "none": "▫️", "other": "⚪", "ok": "✅", "error": "🟥",
         "not-supported": "➖"}


def _cell(cell: dict[str, Any] | None) -> str:
    if cell is None:
        return "—"
    if cell["status"] == "error":
        return "🟥 could not run"
    if cell["status"] == "not-supported":
        return "➖ not supported"
    return f"{cell['pass']}/{cell['total']}"


def _esc(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def tool_ran(status: str) -> str:
    """The "tool ran" column: did the suite run at all (not: did the cases pass)."""
    return {"ok": "✅ ran", "error": "🟥 could not run",
            "not-supported": "➖ not supported"}.get(status, status)


def cases_verdict(cell: dict[str, Any]) -> str:
    """The "cases" column: ✅ only when every scored case passed, never beside a failure."""
    if cell["status"] != "ok":
        return "—"
    s = cell["summary"]
    bad = s["fail"] + s["error"]
    if bad:
        return f"❌ {s['fail']} failed, {s['error']} errors"
    if cell["total"] == 0:
        return "⚪ nothing scored"
    if s["skipped"]:
        return f"⚪ {s['skipped']} skipped"
    return "✅ all passed"


def _suites(data: dict[str, Any]) -> list[str]:
    lines = ["## Suites", "", "| suite | variant | tool | cases | pass | fail | error | skipped | "
             "not supported | informational | total |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for h in data["headline"]:
        s = h["summary"]
        lines.append(f"| {h['suite']} | {h['variant']} | {tool_ran(h['status'])} | "
                     f"{cases_verdict(h)} | {s['pass']} | {s['fail']} | {s['error']} | "
                     f"{s['skipped']} | {s['not-supported']} | {s['informational']} | "
                     f"{s['total']} |")
    return lines


def _comparison(data: dict[str, Any]) -> list[str]:
    """A row per implementation (language, version), a column per suite and variant."""
    comp = data["comparison"]
    if len(comp["targets"]) < 2:
        return []
    columns = comp["rows"]
    head = "| implementation | language, version | " + " | ".join(
        f"{c['suite']} {c['variant']}" for c in columns) + " |"
    lines = ["## Comparison across servers", "", head, "|---|---|" + "---|" * len(columns)]
    info = data["provenance"].get("targets", {})
    for target in comp["targets"]:
        meta = info.get(target) or {}
        about = " ".join(str(meta.get(k, "")) for k in ("language", "version")).strip() or "—"
        cells = " | ".join(_cell(c["cells"].get(target)) for c in columns)
        lines.append(f"| {_esc(target)} | {_esc(about)} | {cells} |")
    return lines + ["", "Failing cases of each cell: `compliance.html` (every score links to "
                        "its run's cases) and the Failures section below."]


def _matrix(data: dict[str, Any]) -> list[str]:
    m = data["rfc8441_matrix"]
    if not m["rows"]:
        return []
    lines = ["## RFC 8441 interop matrix (client × server)", "",
             "| client \\ server | " + " | ".join(m["cols"]) + " |",
             "|---|" + "---|" * len(m["cols"])]
    for r in m["rows"]:
        cells = []
        for c in m["cols"]:
            cell = m["cells"].get(f"{r}|{c}")
            if cell is None:
                cells.append("—")
                continue
            s = cell["summary"]
            scored = s["total"] - s["not-supported"] - s["informational"]
            na = f" (+{s['total'] - scored} n/a)" if s["total"] != scored else ""
            cells.append(f"{_ICON.get(cell['status'], '')} {s['pass']}/{scored}{na}")
        lines.append(f"| {r} | " + " | ".join(cells) + " |")
    return lines


def _sections(data: dict[str, Any]) -> list[str]:
    lines = ["## RFC sections", "",
             "Counts include subsections (evidence for §6.9.1 also counts for §6.9). "
             "▫️ = no evidence yet.", ""]
    for rfc in data["sections"]:
        rows = rfc["sections"]
        covered = sum(1 for r in rows if r["status"] != "none")
        lines += [f"### {rfc['rfc']} — {rfc['title']} ({covered}/{len(rows)} sections with "
                  "evidence)", "", "| § | title | status | pass | fail | error | other |",
                  "|---|---|---|---|---|---|---|"]
        for r in rows:
            s = r["summary"]
            other = s["total"] - s["pass"] - s["fail"] - s["error"]
            lines.append(f"| {r['section']} | {_esc(r['title'])} | {_ICON[r['status']]} "
                         f"{r['status']} | {s['pass']} | {s['fail']} | {s['error']} | {other} |")
        lines.append("")
    return lines


def _failures(data: dict[str, Any]) -> list[str]:
    lines = ["## Failures", ""]
    count = 0
    for run in data["runs"]:
        if run["target"] != data["target"]:
            continue
        bad = [c for c in run["cases"] if c["status"] in ("fail", "error")]
        if not bad:
            continue
        lines += [f"### {run['suite']} / {run['variant']}", "",
                  "| case | RFC § | description | status | message |", "|---|---|---|---|---|"]
        for c in bad:
            count += 1
            lines.append(f"| `{c['id']}` | {c['rfc']} §{c['section']} | "
                         f"{_esc(c['description'])} | {c['status']} | {_esc(c['message'])[:300]} |")
        lines.append("")
    if not count:
        lines.append("None.")
    return lines


def _gate(data: dict[str, Any]) -> list[str]:
    gate = data.get("gate") or {}
    if not gate:
        return []
    icon = "➖" if not gate.get("applied", True) else ("✅" if gate["ok"] else "❌")
    lines = ["## Regression gate", "", f"{icon} {gate_line(gate)}.", ""]
    for r in gate["regressions"][:200]:
        lines.append(f"- `{r['run']}` `{r['case']}`: {r['was']} → {r['now']} {_esc(r['message'])}")
    return lines


def _timing(timing: dict[str, Any] | None) -> list[str]:
    """The run's wall time, each suite's, CPU and load (written by ``python -m conformance``)."""
    if not timing:
        return []
    load = timing.get("loadavg_1min", {})
    suites = ", ".join(f"{s['name']} {s['wall_s']:.0f} s"
                       + (f" ({s['cpu_s']:.0f} CPU-s)" if s.get("cpu_s") is not None else "")
                       for s in timing.get("suites", []))
    return [f"Run time: {timing['wall_s']:.0f} s wall with {timing.get('jobs')} jobs on "
            f"{timing.get('cpus')} CPUs ({timing.get('children_cpu_s', 0):.0f} CPU-s in the "
            f"suites' processes; 1-min load average mean {load.get('mean')}, max "
            f"{load.get('max')})"
            + (f"; on idle cores at least {timing['idle_machine_floor_s']:.0f} s (CPU-s / "
               "cores)" if timing.get("idle_machine_floor_s") is not None else "")
            + f". Suites: {suites}.", ""]


def _tool(tool: dict[str, Any]) -> str:
    """A tool's name, version and runner; a tool not at its pinned version is flagged 🟧."""
    text = f"{tool['suite']}: {tool.get('name', '')} {tool.get('version', '')} " \
           f"({tool.get('runner', '')})"
    if tool.get("path"):
        text += f" at `{tool['path']}`"
    if str(tool.get("pinned", "")).lower() == "false":  # values are text once loaded
        text += (f" 🟧 **not the pinned {tool.get('pinned_version', '')}**: "
                 f"{tool.get('cases', '?')} cases, a case list of its own")
    return text


def render_markdown(data: dict[str, Any]) -> str:
    prov = data["provenance"]
    git = prov["git"]
    lines = [f"# Compliance report — {data['target']}", "",
             f"Generated {prov['date']} at commit `{git['commit'][:12]}`"
             f"{' (dirty tree)' if git['dirty'] else ''} on {prov['machine']['hostname']} "
             f"({prov['machine']['platform']}, {prov['machine']['cpus']} CPUs).", ""]
    for banner in data["banners"]:
        lines.append(f"> 🟥 **{banner['key']} could not run**: {_esc(banner['message'])}")
    if data["banners"]:
        lines.append("")
    lines += ["Tools: " + "; ".join(_tool(t) for t in prov["tools"]), ""]
    lines += _timing(prov.get("timing"))
    for part in (_suites, _gate, _matrix, probes_markdown, _comparison, _sections, _failures):
        block = part(data)
        if block:
            lines += block + [""]
    return "\n".join(lines).rstrip() + "\n"
