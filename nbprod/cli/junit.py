"""JUnit XML for CI systems: one test case per notebook."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from ..api.testing import TestReport


def write_junit(report: TestReport, path: Path) -> None:
    suite = ET.Element("testsuite", name="nbprod test", tests=str(len(report.results)),
                       failures=str(sum(1 for r in report.results if not r.passed)),
                       errors="0",
                       time=f"{sum(r.seconds for r in report.results):.3f}")
    for result in report.results:
        case = ET.SubElement(suite, "testcase", classname="notebooks", name=result.notebook,
                             time=f"{result.seconds:.3f}")
        if not result.passed:
            failure = ET.SubElement(case, "failure", message=result.summary()[:500])
            details = []
            if result.regression is not None:
                details += [f"{f.message}\n{f.diff}" for f in result.regression.failures]
            if result.smoke is not None and result.smoke.failure is not None:
                details.append(result.smoke.failure.message)
            details += list(result.errors)
            failure.text = "\n\n".join(details)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
