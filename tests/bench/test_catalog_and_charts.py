"""The issue-18 rows: the catalog of measurements and rows, the registry's ``supports``
entries, the split of one measurement into several rows, and the report's tables and
SVG bar charts (well-formed XML, one bar per server)."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from bench.catalog import BENCHES, GROUPS, MEASURES, SPLITS, rows_of
from bench.charts import main as charts_main
from bench.charts import write_charts
from bench.cli import _expand, rows_for
from bench.loads import Sample
from bench.measure import split
from bench.report import Cell, goal_cases, result_rows
from bench.servers import SERVERS
from conformance.report.bench_view import Bar, bar_chart_svg, bench_html, bench_markdown

SVG = "{http://www.w3.org/2000/svg}"


def test_every_measurement_has_rows_with_a_unit_and_a_direction() -> None:
    for measure in MEASURES:
        for row, _ in rows_of(measure):
            info = BENCHES[row]
            assert info.unit and info.title
    assert not BENCHES["lat-h2c-p99"].higher_is_better
    assert not BENCHES["mem-tls-pending"].higher_is_better
    assert BENCHES["h2-64m"].unit == "MB/s" and BENCHES["tls-h2-conn"].unit == "conn/s"


def test_every_supports_entry_of_the_registry_is_a_measurement() -> None:
    """A typo in a target file's [bench] supports would silently drop a server."""
    for spec in SERVERS.values():
        assert spec.supports <= set(MEASURES), (spec.name, spec.supports - set(MEASURES))


def test_nginx_is_an_informational_reference_in_the_new_rows() -> None:
    nginx = SERVERS["nginx"]
    assert nginx.informational and nginx.requires == ("nginx",) and nginx.needs_workdir
    assert {"h2-64m", "lat-h2c", "mem-tls-pending", "scale-10k"} <= nginx.supports
    assert "h2-up64m" not in nginx.supports  # it answers before reading the body


def test_groups_expand_to_measurements_and_their_rows() -> None:
    assert _expand("latency") == ["lat-h2c", "lat-h1"]
    assert rows_for(["lat-h2c"]) == ["lat-h2c-p50", "lat-h2c-p99", "lat-h2c-p999"]
    assert rows_for(["mem-tls-pending"]) == ["mem-tls-pending", "mem-tls-pending-kept"]
    assert set(GROUPS["all"]) == set(MEASURES)
    for group in ("h2big", "churn", "latency", "mem-h2", "scale", "workers"):
        assert set(GROUPS[group]) <= set(GROUPS["issue18"])


def test_one_measurement_fills_each_of_its_rows_from_its_extra() -> None:
    sample = Sample(2.5, 0, "", {"p50_ms": 1.0, "p99_ms": 2.5, "p999_ms": 9.0})
    rows = dict(split("lat-h2c", sample, SPLITS["lat-h2c"]))
    assert {k: v.value for k, v in rows.items()} == {
        "lat-h2c-p50": 1.0, "lat-h2c-p99": 2.5, "lat-h2c-p999": 9.0}


def test_a_row_missing_from_the_extra_is_an_error_not_a_number() -> None:
    sample = Sample(12.0, 0, "", {"connections": 10.0})  # no kept_kib_per_conn
    rows = dict(split("mem-h2", sample, SPLITS["mem-h2"]))
    assert rows["mem-h2"].value == 12.0
    assert rows["mem-h2-kept"].value is None and rows["mem-h2-kept"].errors == 1
    failed = dict(split("mem-h2", Sample(None, 3, "boom"), SPLITS["mem-h2"]))
    assert failed["mem-h2-kept"].value is None and failed["mem-h2-kept"].errors == 3


def test_an_informational_server_is_never_a_goals_peer() -> None:
    cells = {("h2-1m", "blackbull"): Cell("h2-1m", "blackbull", [Sample(100.0)]),
             ("h2-1m", "granian"): Cell("h2-1m", "granian", [Sample(50.0)]),
             ("h2-1m", "nginx"): Cell("h2-1m", "nginx", [Sample(900.0)])}
    with_nginx_goal = goal_cases(cells)
    assert {c["id"] for c in with_nginx_goal} == {"h2-1m/vs-granian"}
    assert "2.00×" in with_nginx_goal[0]["message"]
    assert goal_cases(cells, informational=frozenset({"granian"})) == []


def _bars() -> list[Bar]:
    return [Bar("blackbull", 120.0, ours=True), Bar("granian", 150.0),
            Bar("nginx", 900.0, informational=True), Bar("hypercorn", None, note="exited 1")]


def test_the_svg_chart_is_well_formed_with_one_bar_per_server() -> None:
    svg = bar_chart_svg("h2-64m: h2c 64 MiB <response>", "MB/s", True, _bars())
    root = ET.fromstring(svg)  # raises on malformed XML (the < > in the title are escaped)
    assert root.tag == f"{SVG}svg"
    bars = root.findall(f"{SVG}rect")
    assert [b.get("data-server") for b in bars] == ["blackbull", "granian", "nginx", "hypercorn"]
    widths = [float(b.get("width", "-1")) for b in bars]
    assert widths[2] == max(widths) and widths[0] < widths[1] < widths[2]
    assert widths[3] == 0.0  # no number: an empty bar, and the error in its place
    texts = "".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "no number: exited 1" in texts and "higher is better" in texts


def test_lower_is_better_is_said_in_the_chart() -> None:
    root = ET.fromstring(bar_chart_svg("lat", "ms", False, _bars()[:2]))
    assert "lower is better" in (root.find(f"{SVG}title").text or "")


def _envelope() -> dict:
    cells = {("lat-h2c-p99", s): Cell("lat-h2c-p99", s, [Sample(v, 0)])
             for s, v in (("blackbull", 2.0), ("granian", 4.0), ("nginx", 1.0))}
    results = result_rows(cells, {}, {}, frozenset({"nginx"}))
    return {"schema": 1, "suite": "bench", "variant": "quick", "target": "blackbull",
            "tool": {"name": "bench"}, "status": "ok", "cases": [], "results": results}


def test_the_html_section_has_a_table_and_an_inline_chart_per_row() -> None:
    html = bench_html({"runs": [_envelope()]})
    assert html.count("<svg") == 1 and "lat-h2c-p99" in html
    # lower is better: BlackBull's 2 ms against granian's 4 ms is 2.00× in its favour
    assert "2.00×" in html and "(informational)" in html
    chart = html[html.index("<svg"):html.index("</svg>") + 6]
    assert len(ET.fromstring(chart).findall(f"{SVG}rect")) == 3


def test_charts_are_written_per_row_and_embedded_by_the_markdown(tmp_path: Path) -> None:
    envelope = _envelope()
    written = write_charts(envelope, tmp_path / "charts")
    assert [p.name for p in written] == ["lat-h2c-p99.svg"]
    ET.parse(written[0])
    lines = bench_markdown(envelope["results"], "charts")
    assert "![lat-h2c-p99](charts/lat-h2c-p99.svg)" in lines
    assert any(line.startswith("| blackbull | 2.00 |") for line in lines)
    saved = tmp_path / "bench.json"
    saved.write_text(json.dumps(envelope))
    assert charts_main([str(saved), "--out", str(tmp_path / "again"),
                        "--markdown", str(tmp_path / "rows.md")]) == 0
    assert "(again/lat-h2c-p99.svg)" in (tmp_path / "rows.md").read_text()


def test_the_nginx_bench_config_is_rendered_per_launch(tmp_path: Path) -> None:
    """[bench] templates: rendered into the launch's workdir with its port, worker count
    and data directory; the command names the file of the launch's kind."""
    from bench.servers import DATA_DIR, Launch

    nginx = SERVERS["nginx"]
    argv = nginx.build(Launch(4321, h2_only=True, workers=2, workdir=tmp_path))
    assert argv[argv.index("-c") + 1] == f"{tmp_path}/bench-h2c.conf"
    text = (tmp_path / "bench-h2c.conf").read_text()
    assert "listen 127.0.0.1:4321 http2" in text and "worker_processes 2;" in text
    assert f"alias {DATA_DIR}/64m.bin;" in text
    assert "{port}" not in text and "{workers}" not in text
    tls = nginx.build(Launch(4321, Path("/c.pem"), Path("/k.pem"), workdir=tmp_path))
    assert tls[tls.index("-c") + 1].endswith("bench-tls.conf")
    assert "ssl_certificate /c.pem;" in (tmp_path / "bench-tls.conf").read_text()
    assert "version" not in nginx.label.lower() and nginx.native_version is not None


def test_a_server_whose_executable_is_missing_is_an_error_cell() -> None:
    """Never a skip: a missing nginx makes each of its rows an error with the reason."""
    import sys

    from bench.measure import RunConfig, run_once
    from bench.servers import ServerSpec

    spec = ServerSpec("ghost", "needs a tool", lambda launch: [sys.executable, "-V"],
                      frozenset({"h2c"}), requires=("no-such-server-here",))
    sample = run_once(spec, "h2c", RunConfig(duration=1, warmup=0, rounds=1, mem_conns=1,
                                             certs=None))
    assert sample.value is None and sample.errors == 1
    assert "no-such-server-here" in sample.message


def test_every_server_in_the_workers_rows_is_started_with_the_asked_count(
        tmp_path: Path) -> None:
    """A workers-* server whose command ignored {workers} would report 1 worker as 2."""
    from bench.servers import Launch

    claimed = [s for s in SERVERS.values() if s.supports & {"workers-h1", "workers-h2c"}]
    assert {"blackbull", "granian", "hypercorn", "uvicorn", "nginx"} <= {s.name for s in claimed}
    for spec in claimed:
        argv = spec.build(Launch(4321, workers=7, workdir=tmp_path))
        rendered = " ".join(argv) + "".join(p.read_text() for p in tmp_path.glob("*.conf"))
        assert "--workers 7" in rendered or "worker_processes 7;" in rendered, spec.name


def test_every_http2_server_runs_the_hello_load_in_all_three_shapes() -> None:
    """Issue 18 goal 1 asks for h2c and h2 over TLS at ``-c16 -m10``, ``-c4 -m100`` (RFC
    9113 §5.1.2: many concurrent streams) and ``-c256 -m10``; a server that runs the first
    shape and not the others would leave the goal's cell empty."""
    from bench.catalog import H2_SHAPES, TLS_MEASURES

    assert sorted(shape[1:] for shape in H2_SHAPES.values()) == sorted(
        [(16, 10), (4, 100), (256, 10)] * 2)
    for measure, (tls, _, _) in H2_SHAPES.items():
        assert (measure in TLS_MEASURES) == tls
    for spec in SERVERS.values():
        if {"h2c", "h2tls"} <= spec.supports:
            assert set(H2_SHAPES) <= spec.supports, spec.name


def test_the_granian_goal_fails_on_a_failed_request_even_when_faster() -> None:
    """The HTTP/2 goal is ≥ 1.1× granian *with 0 failed requests*: a faster run with
    failures is a fail, and 1.05× is a fail too."""
    def cells(ours: float, errors: int, peer: float) -> dict[tuple[str, str], Cell]:
        return {("h2c-m100", "blackbull"): Cell("h2c-m100", "blackbull",
                                                [Sample(ours, errors)]),
                ("h2c-m100", "granian"): Cell("h2c-m100", "granian", [Sample(peer)])}

    def status(case_cells: dict[tuple[str, str], Cell]) -> str:
        (case,) = [c for c in goal_cases(case_cells) if c["id"] == "h2c-m100/vs-granian"]
        return str(case["status"])

    assert status(cells(120.0, 0, 100.0)) == "pass"
    assert status(cells(120.0, 2, 100.0)) == "fail"
    assert status(cells(105.0, 0, 100.0)) == "fail"


def test_the_many_connection_shapes_run_a_fixed_count_the_others_are_time_boxed() -> None:
    """h2load's ``-D`` mode leaves a client that connects after the stop sending forever
    (measured against our TLS port at -c256), so ``-c256`` runs ``-n``: every
    connection's streams filled at least 4 times; ``-c16``/``-c4`` stay time-boxed."""
    from bench.measure import h2_fixed_count

    assert h2_fixed_count(16, 10, 10.0) == 0 and h2_fixed_count(4, 100, 10.0) == 0
    assert h2_fixed_count(256, 10, 10.0) == 256 * 10 * 20
    assert h2_fixed_count(256, 10, 0.5) == 256 * 10 * 4


def test_two_runs_make_one_results_page_with_the_goals_first(tmp_path: Path) -> None:
    """RESULTS.md may join a run of the goal rows (3 rounds) and one of the informational
    rows: both envelopes' rows and goal cases reach the one page, goals table first."""
    first, second = _envelope(), _envelope()
    first["cases"] = [{"id": "h2c/vs-granian", "status": "fail", "message": "0.80×",
                       "description": "h2c hello: BlackBull vs granian ≥ 1.1×"}]
    second["results"] = [dict(r, benchmark="lat-h1-p99") for r in second["results"]]
    paths = []
    for i, env in enumerate((first, second)):
        paths.append(tmp_path / f"b{i}.json")
        paths[-1].write_text(json.dumps(env))
    assert charts_main([*map(str, paths), "--out", str(tmp_path / "c"),
                        "--markdown", str(tmp_path / "page.md")]) == 0
    page = (tmp_path / "page.md").read_text()
    assert page.index("| h2c hello: BlackBull vs granian ≥ 1.1× | ❌ fail | 0.80× |") < \
        page.index("### lat-h2c-p99") < page.index("### lat-h1-p99")
