"""Parse h2spec's JUnit XML into case results.

h2spec writes one ``<testsuite package="http2/5.1">`` per group and one ``<testcase>``
per case; a failed case carries an ``<error>`` element (not ``<failure>``) whose text is
"expected" then "actual". ``<failure>`` and ``<skipped>`` are handled too, so a newer
h2spec or another JUnit producer cannot turn a problem into a pass.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from conformance.h2spec.catalogue import Catalogue
from conformance.h2spec.sections import section_for_package
from conformance.report.schema import CaseResult, CaseStatus

# Characters XML 1.0 forbids. h2spec copies frame payloads (e.g. a PING's opaque data
# "h2spec\0\0") into its messages unescaped, which makes its report unparsable.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class JUnitError(ValueError):
    """The JUnit file is missing, empty or not XML: the run counts as an error."""


@dataclass(frozen=True)
class JUnitCase:
    """One ``<testcase>`` as h2spec reported it."""

    package: str
    position: int
    description: str
    status: CaseStatus
    message: str

    @property
    def id(self) -> str:
        return f"{self.package}/{self.position}"


def _message(element: ET.Element) -> str:
    """h2spec's ``<error>`` text is the accepted outcomes, one per line, then the actual one.

    Anything else (a ``message`` attribute, another producer's ``<failure>``) is kept as is.
    """
    lines = [line.strip() for line in (element.text or "").splitlines() if line.strip()]
    if element.tag == "error" and not element.get("message") and len(lines) >= 2:
        return f"expected: {' or '.join(lines[:-1])}; actual: {lines[-1]}"
    return " | ".join(filter(None, [element.get("message", "").strip(), *lines]))


def _outcome(testcase: ET.Element) -> tuple[CaseStatus, str]:
    for tag, status in (
        ("error", CaseStatus.FAIL),
        ("failure", CaseStatus.FAIL),
        ("skipped", CaseStatus.SKIPPED),
    ):
        element = testcase.find(tag)
        if element is not None:
            return status, _message(element)
    return CaseStatus.PASS, ""


def parse_junit_text(text: str, catalogue: Catalogue | None = None) -> list[JUnitCase]:
    """Read every ``<testcase>``; positions come from the catalogue when it knows the case."""
    if not text.strip():
        raise JUnitError("empty JUnit report")
    text = _XML_INVALID.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise JUnitError(f"JUnit report is not XML: {exc}") from exc
    cases: list[JUnitCase] = []
    for suite in root.iter("testsuite"):
        package = suite.get("package", "")
        for order, testcase in enumerate(suite.findall("testcase"), start=1):
            package_of_case = testcase.get("package", package)
            description = testcase.get("classname") or testcase.get("name") or ""
            position = catalogue.position(package_of_case, description) if catalogue else None
            status, message = _outcome(testcase)
            cases.append(
                JUnitCase(package_of_case, position or order, description, status, message)
            )
    return cases


def to_case_results(
    junit_cases: list[JUnitCase], catalogue: Catalogue | None = None
) -> list[CaseResult]:
    """Attach RFC sections, and mark catalogue cases the report never mentioned as errors."""
    results: list[CaseResult] = []
    seen: set[str] = set()
    for case in junit_cases:
        seen.add(case.id)
        results.append(_case_result(case.id, case.package, case.description,
                                    case.status, case.message))
    for case_id in catalogue.case_ids() if catalogue else []:
        if case_id not in seen:
            package = case_id.rpartition("/")[0]
            results.append(_case_result(
                case_id, package, catalogue.description(case_id) if catalogue else "",
                CaseStatus.ERROR, "h2spec listed this case but did not report a result",
            ))
    return results


def _case_result(
    case_id: str, package: str, description: str, status: CaseStatus, message: str
) -> CaseResult:
    ref = section_for_package(package)
    extra = {"rfc7540_section": ref.rfc7540_section} if ref.rfc7540_section else {}
    return CaseResult(
        id=case_id, status=status.value, rfc=ref.rfc, section=ref.section,
        description=description, message=message, extra=extra,
    )
