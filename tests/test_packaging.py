"""The Docker image is built from the same package as `make test` installs: every folder the wheel takes
(pyproject's packages and force-included data) must be copied into the build stage before `pip install .`, or the
image fails to build (hatch refuses a missing force-include) or ships without it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def wheel_sources() -> set[str]:
    """Top-level paths of the checkout that the wheel is built from."""
    wheel = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"]["wheel"]
    return set(wheel["packages"]) | set(wheel.get("force-include", {}))


def copied_before_install() -> set[str]:
    """Sources of the Dockerfile's COPY lines that come before its first `pip install .`."""
    copied: set[str] = set()
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if re.match(r"RUN\s+pip install \.\s*$", line.strip()):
            return copied
        match = re.match(r"COPY\s+(?!--from)(.+)\s+\S+$", line.strip())
        if match:
            copied.update(Path(p).as_posix().rstrip("/") for p in match.group(1).split())
    raise AssertionError("the Dockerfile never runs `pip install .`")


def test_docker_build_stage_copies_everything_the_wheel_takes() -> None:
    missing = wheel_sources() - copied_before_install()
    assert not missing, f"Dockerfile does not COPY {sorted(missing)} before `pip install .`"


def test_every_wheel_source_exists_in_the_checkout() -> None:
    for name in wheel_sources():
        assert (ROOT / name).is_dir(), name
