"""The wheel ships assets/, templates/ and the example site, and `publish` runs from anywhere."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import REPO
from publisher import __version__ as VERSION

#: The name on PyPI (checked free there); the wheel's file name spells it with underscores.
DIST_NAME = "publisher-feeds-cards"
WHEEL_NAME = DIST_NAME.replace("-", "_")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel from this checkout (not editable) and install it into a fresh folder."""
    work = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(work),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if build.returncode != 0 and "No module named hatchling" in build.stderr:
        pytest.skip("hatchling is not installed: pip install '.[test]'")
    assert build.returncode == 0, build.stderr
    (wheel,) = work.glob("*.whl")
    # The distribution name, not the import package's: "publisher" on PyPI is another project.
    assert wheel.name.startswith(f"{WHEEL_NAME}-"), wheel.name
    archive = zipfile.ZipFile(wheel)
    names = set(archive.namelist())
    info = f"{WHEEL_NAME}-{VERSION}.dist-info"
    metadata = archive.read(f"{info}/METADATA").decode("utf-8").splitlines()
    assert f"Name: {DIST_NAME}" in metadata
    assert "publish = publisher.cli:main" in archive.read(f"{info}/entry_points.txt").decode()
    assert "publisher/_site/config.yaml" in names
    assert "publisher/_site/templates/README.md" in names
    assert "publisher/_site/assets/README.md" in names
    assert any(
        n.startswith("publisher/_site/examples/blog/posts/") and n.endswith("index.md")
        for n in names
    )
    target = work / "site-packages"
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr
    return target


def run_installed(target: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PUBLISHER_CONFIG")}
    env["PYTHONPATH"] = str(target)
    return subprocess.run(
        [str(target / "bin" / "publish"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_console_script_runs_example_site_from_any_folder(installed: Path, tmp_path: Path) -> None:
    dry = run_installed(installed, tmp_path, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "using the built-in example site" in dry.stderr
    assert "would write public/posts.json" in dry.stdout
    assert list(tmp_path.iterdir()) == []
    real = run_installed(installed, tmp_path, "build")
    assert real.returncode == 0, real.stderr
    assert (tmp_path / "public" / "posts.json").is_file()


def test_installed_package_reads_its_own_resources(installed: Path, tmp_path: Path) -> None:
    code = "from publisher import resources; print(resources.site_root())"
    env = {"PYTHONPATH": str(installed), "PATH": os.environ.get("PATH", "")}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert out.stdout.strip() == str(installed / "publisher" / "_site")


def test_installed_command_reports_the_distribution_version(
    installed: Path, tmp_path: Path
) -> None:
    for flag in ("--version", "-V"):
        done = run_installed(installed, tmp_path, flag)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"publish, version {VERSION}"


def test_docs_install_the_distribution_name_not_the_taken_one() -> None:
    """`pip install publisher` installs another project: no doc may say it."""
    texts = {
        p: p.read_text(encoding="utf-8") for p in (REPO / "README.md", *REPO.glob("docs/*.md"))
    }
    taken = re.compile(r"pip install ['\"]?publisher(?![-\w])")
    for path, text in texts.items():
        assert not taken.search(text), path
    assert f"pip install {DIST_NAME}" in texts[REPO / "README.md"]
