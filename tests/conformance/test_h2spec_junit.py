"""The h2spec JUnit parser, the dry-run catalogue and the RFC 7540 → RFC 9113 mapping."""

from __future__ import annotations

import subprocess

import pytest

from conformance.h2spec.binary import locate
from conformance.h2spec.catalogue import parse_dryrun
from conformance.h2spec.junit import JUnitError, parse_junit_text, to_case_results
from conformance.h2spec.sections import section_for_package

DRYRUN = """Generic tests for HTTP/2 server
  1. Starting HTTP/2
    1: Sends a client connection preface

Hypertext Transfer Protocol Version 2 (HTTP/2)
  3. Starting HTTP/2
    3.5. HTTP/2 Connection Preface
      1: Sends client connection preface
      2: Sends invalid connection preface

  8. HTTP Message Exchanges
    8.1. HTTP Request/Response Exchange
      8.1.2. HTTP Header Fields
        8.1.2.3. Request Pseudo-Header Fields
          1: Sends a HEADERS frame with empty ":path" pseudo-header field
          2: Sends a HEADERS frame that omits ":method" pseudo-header field

HPACK: Header Compression for HTTP/2
  2. Compression Process Overview
    2.3. Indexing Tables
      2.3.3. Index Address Space
        1: Sends a header field representation with invalid index
"""

JUNIT = """<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="1. Starting HTTP/2" package="generic/1" tests="1">
    <testcase package="generic/1" classname="Sends a client connection preface" time="0.1"/>
  </testsuite>
  <testsuite name="3.5. HTTP/2 Connection Preface" package="http2/3.5" tests="2" errors="1">
    <testcase package="http2/3.5" classname="Sends client connection preface" time="0.1"/>
    <testcase package="http2/3.5" classname="Sends invalid connection preface" time="0.1">
      <error>GOAWAY Frame (Error Code: PROTOCOL_ERROR)
Connection closed
Error: unexpected EOF</error>
    </testcase>
  </testsuite>
  <testsuite name="8.1.2.3. Request Pseudo-Header Fields" package="http2/8.1.2.3" tests="2">
    <testcase package="http2/8.1.2.3"
      classname="Sends a HEADERS frame that omits &quot;:method&quot; pseudo-header field">
      <failure message="RST_STREAM expected">got DATA</failure>
    </testcase>
    <testcase package="http2/8.1.2.3"
      classname="Sends a HEADERS frame with empty &quot;:path&quot; pseudo-header field">
      <skipped/>
    </testcase>
  </testsuite>
</testsuites>
"""


def test_dryrun_catalogue_gives_packages_and_positions() -> None:
    catalogue = parse_dryrun(DRYRUN)
    assert catalogue.case_ids() == [
        "generic/1/1", "http2/3.5/1", "http2/3.5/2", "http2/8.1.2.3/1", "http2/8.1.2.3/2",
        "hpack/2.3.3/1",
    ]
    assert catalogue.description("http2/3.5/2") == "Sends invalid connection preface"


def test_error_element_is_a_failed_case_with_expected_and_actual() -> None:
    cases = {c.id: c for c in parse_junit_text(JUNIT, parse_dryrun(DRYRUN))}
    case = cases["http2/3.5/2"]
    assert case.status == "fail"
    assert case.message == ("expected: GOAWAY Frame (Error Code: PROTOCOL_ERROR) or "
                            "Connection closed; actual: Error: unexpected EOF")
    assert cases["http2/3.5/1"].status == "pass"
    assert cases["generic/1/1"].status == "pass"


def test_failure_and_skipped_elements_are_not_passes() -> None:
    cases = {c.id: c for c in parse_junit_text(JUNIT, parse_dryrun(DRYRUN))}
    assert cases["http2/8.1.2.3/2"].status == "fail"
    assert "RST_STREAM expected" in cases["http2/8.1.2.3/2"].message
    assert cases["http2/8.1.2.3/1"].status == "skipped"


def test_position_comes_from_the_catalogue_not_the_xml_order() -> None:
    """The XML lists 8.1.2.3 cases 2-then-1; ids must follow h2spec's numbering."""
    ids = [c.id for c in parse_junit_text(JUNIT, parse_dryrun(DRYRUN))]
    assert ids.index("http2/8.1.2.3/2") < ids.index("http2/8.1.2.3/1")


def test_position_falls_back_to_xml_order_without_catalogue() -> None:
    ids = [c.id for c in parse_junit_text(JUNIT)]
    assert ids == ["generic/1/1", "http2/3.5/1", "http2/3.5/2", "http2/8.1.2.3/1",
                   "http2/8.1.2.3/2"]


def test_catalogued_case_missing_from_report_is_an_error() -> None:
    catalogue = parse_dryrun(DRYRUN)
    results = {c.id: c for c in to_case_results(parse_junit_text(JUNIT, catalogue), catalogue)}
    assert results["hpack/2.3.3/1"].status == "error"
    assert len(results) == len(catalogue)


@pytest.mark.parametrize("text", ["", "   ", "<testsuites><testsuite>", "not xml"])
def test_empty_or_broken_junit_raises(text: str) -> None:
    with pytest.raises(JUnitError):
        parse_junit_text(text)


def test_http2_connection_preface_maps_to_rfc9113_3_4_and_keeps_rfc7540_number() -> None:
    """RFC 9113 §3.4: the preface moved from RFC 7540 §3.5; both numbers are recorded."""
    ref = section_for_package("http2/3.5")
    assert (ref.rfc, ref.section, ref.rfc7540_section) == ("RFC 9113", "3.4", "3.5")
    results = {c.id: c for c in to_case_results(parse_junit_text(JUNIT))}
    assert results["http2/3.5/2"].extra == {"rfc7540_section": "3.5"}
    assert results["http2/3.5/2"].section == "3.4"


@pytest.mark.parametrize(
    ("package", "rfc", "section", "legacy"),
    [
        ("http2/6.9.1", "RFC 9113", "6.9.1", ""),
        ("http2/8.1.2.3", "RFC 9113", "8.3.1", "8.1.2.3"),
        ("http2/8.1.2.6", "RFC 9113", "8.1.1", "8.1.2.6"),
        ("http2/8.2", "RFC 9113", "8.4", "8.2"),
        ("hpack/5.2", "RFC 7541", "5.2", ""),
        ("generic/3.10", "RFC 9113", "6.10", ""),
        ("generic/5", "RFC 7541", "6", ""),
    ],
)
def test_package_section_mapping(package: str, rfc: str, section: str, legacy: str) -> None:
    ref = section_for_package(package)
    assert (ref.rfc, ref.section, ref.rfc7540_section) == (rfc, section, legacy)


def test_real_h2spec_dryrun_parses_every_listed_case() -> None:
    """The installed h2spec's own dry run: every numbered case line becomes a case id."""
    h2spec = locate()
    text = subprocess.run([str(h2spec.path), "--dryrun"], capture_output=True, text=True,
                          timeout=60).stdout
    strict = subprocess.run([str(h2spec.path), "--dryrun", "-S"], capture_output=True,
                            text=True, timeout=60).stdout
    case_lines = [ln for ln in text.splitlines() if ln.strip()[:1].isdigit() and ": " in ln]
    catalogue = parse_dryrun(text)
    assert len(catalogue) == len(case_lines) > 100
    # --strict adds cases (http2/6.7/2 in 2.2.1 and 2.6.0), never removes them.
    assert set(catalogue.case_ids()) < set(parse_dryrun(strict).case_ids())
    assert {i.split("/")[0] for i in catalogue.case_ids()} == {"generic", "http2", "hpack"}


def test_control_bytes_copied_from_frames_do_not_break_parsing() -> None:
    """h2spec writes a PING's opaque data ("h2spec" + two NULs) raw into <error>."""
    text = JUNIT.replace("Error: unexpected EOF",
                         "PING Frame (opaque_data:h2spec\x00\x00)\nGOAWAY Frame")
    cases = {c.id: c for c in parse_junit_text(text)}
    assert cases["http2/3.5/2"].status == "fail"
    assert "h2spec\\x00\\x00" in cases["http2/3.5/2"].message
