"""Merging raw results into the compliance report model and its Markdown view."""

from __future__ import annotations

import json
from pathlib import Path

from conformance.report.build import build_report, write_report
from conformance.report.model import Expectation
from conformance.report.schema import CaseResult, SuiteResult, load_result

REPO = Path(__file__).resolve().parents[2]


def _run(suite: str, variant: str, target: str, cases: list[CaseResult],
         status: str = "ok", message: str = "") -> SuiteResult:
    return SuiteResult(suite, variant, target, {"name": suite, "version": "1", "runner": "binary"},
                       status=status, message=message, cases=cases)


def _write_fixture(raw: Path) -> None:
    _run("h2spec", "h2c", "blackbull", [
        CaseResult("http2/6.9.1/1", "pass", "RFC 9113", "6.9.1", "window 1"),
        CaseResult("http2/6.9.1/2", "fail", "RFC 9113", "6.9.1", "overflow", "no GOAWAY"),
        CaseResult("http2/3.5/1", "pass", "RFC 9113", "3.4", "preface",
                   extra={"rfc7540_section": "3.5"}),
    ]).write(raw)
    _run("h2spec", "h2c", "hypercorn", [
        CaseResult("http2/6.9.1/1", "pass", "RFC 9113", "6.9.1"),
        CaseResult("http2/6.9.1/2", "pass", "RFC 9113", "6.9.1"),
    ]).write(raw)
    _run("h2spec", "h2c", "uvicorn", [
        CaseResult("http2/6.9.1/1", "not-supported", "RFC 9113", "6.9.1"),
    ]).write(raw)
    _run("unit", "pytest", "blackbull", [
        CaseResult("tests/unit/test_x.py::test_close", "pass", "RFC 6455", "5.5.1",
                   extra={"refs": [{"rfc": "RFC 6455", "section": "5.5.1"},
                                   {"rfc": "RFC 6455", "section": "7.4.1"}]}),
    ]).write(raw)
    _run("rfc8441-matrix", "client", "blackbull", [
        CaseResult("chromium->blackbull/echo", "pass", "RFC 8441", "5",
                   extra={"client": "chromium", "server": "blackbull"}),
        CaseResult("h2->hypercorn/echo", "fail", "RFC 8441", "4",
                   extra={"client": "h2", "server": "hypercorn"}),
    ]).write(raw)


def test_raw_file_round_trips_through_the_schema(tmp_path: Path) -> None:
    run = _run("h2spec", "tls", "blackbull", [CaseResult("a/1", "pass", "RFC 9113", "6.1",
                                                          extra={"rfc7540_section": "x"})])
    again = load_result(run.write(tmp_path))
    assert again.to_dict() | {"started": ""} == run.to_dict() | {"started": ""}


def test_unreadable_raw_file_becomes_an_error_run(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{not json")
    assert load_result(tmp_path / "broken.json").status == "error"


def test_unknown_case_status_is_never_counted_as_pass() -> None:
    assert CaseResult.from_dict({"id": "x", "status": "ok"}).status == "error"


def test_missing_expected_suite_is_a_red_error_not_absent(tmp_path: Path) -> None:
    _write_fixture(tmp_path)
    report = build_report(tmp_path, REPO, "blackbull",
                          [Expectation("autobahn", "blackbull", "ws"),
                           Expectation("h2spec", "blackbull", "h2c")])
    data = report.to_dict()
    assert [b["key"] for b in data["banners"]] == ["autobahn/ws@blackbull"]
    head = {h["key"]: h for h in data["headline"]}
    assert head["autobahn/ws@blackbull"]["status"] == "error"
    assert head["h2spec/h2c@blackbull"]["pass"] == 2
    assert head["h2spec/h2c@blackbull"]["total"] == 3


def test_sections_roll_up_evidence_and_show_uncovered_sections(tmp_path: Path) -> None:
    _write_fixture(tmp_path)
    data = build_report(tmp_path, REPO, "blackbull").to_dict()
    by_rfc = {r["rfc"]: {s["section"]: s for s in r["sections"]} for r in data["sections"]}
    assert by_rfc["RFC 9113"]["6.9.1"]["status"] == "fail"
    assert by_rfc["RFC 9113"]["6.9"]["summary"]["total"] == 2  # rolled up from 6.9.1
    assert by_rfc["RFC 9113"]["3.4"]["status"] == "pass"
    assert by_rfc["RFC 9113"]["8.5"]["status"] == "none"
    # A unit test citing two sections is evidence for both.
    assert by_rfc["RFC 6455"]["5.5.1"]["status"] == "pass"
    assert by_rfc["RFC 6455"]["7.4.1"]["status"] == "pass"
    # Other targets' results never count as evidence for ours.
    assert by_rfc["RFC 9113"]["6.9.1"]["summary"]["pass"] == 1
    assert set(by_rfc) >= {"RFC 9112", "RFC 9113", "RFC 7541", "RFC 9218", "RFC 6455",
                           "RFC 7692", "RFC 8441"}


def test_comparison_marks_unsupported_targets_as_not_supported(tmp_path: Path) -> None:
    _write_fixture(tmp_path)
    comp = build_report(tmp_path, REPO, "blackbull").to_dict()["comparison"]
    assert comp["targets"][0] == "blackbull"
    row = next(r for r in comp["rows"] if (r["suite"], r["variant"]) == ("h2spec", "h2c"))
    assert row["cells"]["uvicorn"]["status"] == "not-supported"
    assert (row["cells"]["hypercorn"]["pass"], row["cells"]["hypercorn"]["total"]) == (2, 2)
    assert all(r["suite"] != "unit" for r in comp["rows"])


def test_rfc8441_matrix_is_client_by_server(tmp_path: Path) -> None:
    _write_fixture(tmp_path)
    matrix = build_report(tmp_path, REPO, "blackbull").to_dict()["rfc8441_matrix"]
    assert matrix["rows"] == ["chromium", "h2"]
    assert matrix["cols"] == ["blackbull", "hypercorn"]
    assert matrix["cells"]["chromium|blackbull"]["status"] == "pass"
    assert matrix["cells"]["h2|hypercorn"]["status"] == "fail"


def test_written_json_is_versioned_with_provenance_and_every_case(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    _write_fixture(raw)
    paths = write_report(build_report(raw, REPO, "blackbull"), tmp_path)
    data = json.loads(paths.json.read_text())
    assert data["schema"] == "blackbull-compliance" and data["schema_version"] == 1
    prov = data["provenance"]
    assert len(prov["git"]["commit"]) == 40 and prov["date"].endswith("Z")
    assert prov["machine"]["cpus"] >= 1
    assert {t["suite"] for t in prov["tools"]} >= {"h2spec", "unit"}
    cases = [c for r in data["runs"] for c in r["cases"]]
    assert len(cases) == 9
    assert all({"id", "rfc", "section", "description", "status", "message"} <= set(c)
               for c in cases)


def test_markdown_has_suite_table_sections_and_failures(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    _write_fixture(raw)
    md = write_report(build_report(raw, REPO, "blackbull"), tmp_path).markdown.read_text()
    assert "## Suites" in md and "## RFC sections" in md and "## Failures" in md
    # "The tool ran" and "the cases passed" are separate columns: no ✅ beside failures.
    assert "| h2spec | h2c | ✅ ran | ❌ 1 failed, 0 errors | 2 | 1 |" in md
    assert "`http2/6.9.1/2`" in md and "no GOAWAY" in md
    assert "### RFC 8441" in md


def test_informational_cases_are_neither_pass_nor_failure_in_the_score(tmp_path: Path) -> None:
    _run("autobahn", "ws", "blackbull", [
        CaseResult("1.1.1", "pass", "RFC 6455", "5.6"),
        CaseResult("6.4.3", "informational", "RFC 6455", "8.1"),
    ]).write(tmp_path)
    head = build_report(tmp_path, REPO, "blackbull").to_dict()["headline"][0]
    assert (head["pass"], head["total"], head["summary"]["total"]) == (1, 1, 2)


def test_markdown_shows_the_rfc8441_matrix(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    _write_fixture(raw)
    md = write_report(build_report(raw, REPO, "blackbull"), tmp_path).markdown.read_text()
    assert "## RFC 8441 interop matrix" in md
    assert "| chromium | ✅ 1/1 | — |" in md


def test_the_comparison_has_a_row_per_implementation_and_scores_link_to_their_cases(
        tmp_path: Path) -> None:
    """Issue 14 §3: rows are implementations, columns suites/variants, and every score in
    the HTML links to the <details> of that run's cases."""
    import re

    raw = tmp_path / "raw"
    _write_fixture(raw)
    report = build_report(raw, REPO, "blackbull")
    paths = write_report(report, tmp_path)
    md = paths.html.with_suffix(".md").read_text()
    table = md.split("## Comparison across servers", 1)[1].split("\n\n", 2)[1].splitlines()
    assert table[0].startswith("| implementation | language, version | h2spec h2c |")
    assert [row.split("|")[1].strip() for row in table[2:]] == report.to_dict()[
        "comparison"]["targets"]
    html = paths.html.read_text()
    comparison = html.split('id="comparison"', 1)[1].split("</table>", 1)[0]
    links = re.findall(r'href="#([^"]+)"', comparison)
    assert links and all(f'<details id="{anchor}">' in html for anchor in links)
    assert "run-h2spec-h2c-hypercorn" in links
