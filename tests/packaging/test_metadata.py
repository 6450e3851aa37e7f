"""Project metadata (issue 16 §4): the version sorts above the unrelated ``blackbull``
0.81.0 on PyPI, the package ships ``py.typed`` (PEP 561), and the metadata is complete."""
from __future__ import annotations

import tomllib
import zipfile
from email.parser import Parser

from packaging.version import Version

import blackbull
from tests.packaging.test_wheel_install import ROOT, built  # noqa: F401 - the fixture

PYPI_UNRELATED = Version("0.81.0")


def test_version_sorts_above_the_unrelated_pypi_release_even_when_final():
    """PEP 440 §version ordering: ours and its final release are both above 0.81.0, so
    ``pip install -U blackbull`` never goes back to the other project."""
    ours = Version(blackbull.__version__)
    assert ours > PYPI_UNRELATED
    assert Version(ours.base_version) > PYPI_UNRELATED
    assert ours.release[0] >= 1


def test_the_wheel_metadata_has_version_classifiers_urls_and_py_typed(built):  # noqa: F811
    """PEP 561: ``py.typed`` in the wheel; core metadata: Version, classifiers, URLs."""
    _, wheel = built
    with zipfile.ZipFile(wheel) as whl:
        names = whl.namelist()
        [meta_name] = [n for n in names if n.endswith(".dist-info/METADATA")]
        meta = Parser().parsestr(whl.read(meta_name).decode())
    assert "blackbull/py.typed" in names
    assert meta["Version"] == blackbull.__version__
    classifiers = meta.get_all("Classifier")
    assert "Typing :: Typed" in classifiers
    assert "License :: OSI Approved :: Apache Software License" in classifiers
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL"))
    assert {"Source", "Issues", "Changelog"} <= set(urls)
    assert meta["Author"] or meta["Author-email"]


def test_the_changelog_names_the_current_version():
    text = (ROOT / "CHANGELOG.md").read_text()
    assert f"## {Version(blackbull.__version__).base_version}" in text
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" in project["dynamic"]  # one source: blackbull.__version__
