"""environment.yml (conda) lists the same dependencies as pyproject.toml.

pyproject.toml is the single source of metadata; environment.yml repeats it
for conda users under conda-forge's names. These tests fail with the name of
the package that drifted and what to change, in either direction, and when
the two disagree on a version range.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
ENVIRONMENT = ROOT / "environment.yml"

# conda-forge names that differ from the PyPI name pyproject.toml uses.
CONDA_TO_PYPI = {
    "python-graphviz": "graphviz",
    "python-kubernetes": "kubernetes",
    "playwright-python": "playwright",
}

# Conda packages with no counterpart among pyproject.toml's dependencies, and why.
CONDA_ONLY = {
    "python": "the interpreter itself; pyproject.toml states it as requires-python",
    "pip": "installs the pip: section",
    "graphviz": "Graphviz's `dot` program, a system package (Debian: graphviz); "
    "the Python binding is python-graphviz",
}


def normalise(name: str) -> str:
    """PEP 503 normalised project name: case, '-', '_' and '.' do not matter."""
    return re.sub(r"[-_.]+", "-", name).lower()


def split_requirement(text: str) -> tuple[str, str]:
    """'Jupyter_Lab[x] >= 4.2, <5 ; marker' -> ('jupyter-lab', '<5,>=4.2'): name and sorted specifiers."""
    text = text.split(";", 1)[0].strip()
    match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*)$", text)
    assert match, f"cannot read the requirement {text!r}"
    name, spec = match.groups()
    specifiers = sorted(part.replace(" ", "") for part in spec.split(",") if part.strip())
    return normalise(name), ",".join(specifiers)


def pyproject_dependencies() -> dict[str, tuple[str, str]]:
    """Normalised name -> (version specifiers, where in pyproject.toml), runtime and every extra."""
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    found: dict[str, tuple[str, str]] = {}
    groups = [("[project] dependencies", project.get("dependencies", []))]
    groups += [
        (f"[project.optional-dependencies] {extra}", requirements)
        for extra, requirements in project.get("optional-dependencies", {}).items()
    ]
    for where, requirements in groups:
        for requirement in requirements:
            name, spec = split_requirement(requirement)
            found[name] = (spec, where)
    return found


def environment_packages() -> dict[str, tuple[str, str]]:
    """Normalised PyPI name -> (version specifiers, how environment.yml spells it), conda-only ones included."""
    environment = yaml.safe_load(ENVIRONMENT.read_text())
    found: dict[str, tuple[str, str]] = {}
    for entry in environment["dependencies"]:
        if isinstance(entry, dict):
            for requirement in entry.get("pip", []):
                if requirement.startswith("-"):  # `-e .`: the engine itself, not a dependency
                    continue
                name, spec = split_requirement(requirement)
                found[name] = (spec, f"pip: {requirement}")
            continue
        conda_name, spec = split_requirement(entry)
        name = CONDA_TO_PYPI.get(conda_name, conda_name)
        if conda_name in CONDA_ONLY:
            name = f"conda:{conda_name}"
        found[name] = (spec, entry)
    return found


PYPROJECT_DEPENDENCIES = pyproject_dependencies()
ENVIRONMENT_PACKAGES = environment_packages()


@pytest.mark.parametrize("name", sorted(PYPROJECT_DEPENDENCIES))
def test_every_pyproject_dependency_is_in_environment_yml(name: str) -> None:
    spec, where = PYPROJECT_DEPENDENCIES[name]
    conda_names = [conda for conda, pypi in CONDA_TO_PYPI.items() if pypi == name]
    if name not in ENVIRONMENT_PACKAGES:
        pytest.fail(
            f"'{name}' is in pyproject.toml ({where}) but not in environment.yml: add "
            f"'{(conda_names or [name])[0]} {spec}' to its dependencies (or under pip: if conda-forge lacks it)"
        )


@pytest.mark.parametrize("name", sorted(name for name in ENVIRONMENT_PACKAGES if not name.startswith("conda:")))
def test_every_environment_yml_package_is_in_pyproject(name: str) -> None:
    _, spelled = ENVIRONMENT_PACKAGES[name]
    if name not in PYPROJECT_DEPENDENCIES:
        pytest.fail(
            f"'{spelled}' is in environment.yml but '{name}' is not in pyproject.toml: add it to "
            f"[project] dependencies or [project.optional-dependencies] dev, or remove it from environment.yml. "
            f"If it is a conda-only system package, list it in CONDA_ONLY in {Path(__file__).name} with the reason; "
            f"if conda-forge names it differently from PyPI, add the pair to CONDA_TO_PYPI."
        )


@pytest.mark.parametrize("name", sorted(set(PYPROJECT_DEPENDENCIES) & set(ENVIRONMENT_PACKAGES)))
def test_version_ranges_agree(name: str) -> None:
    pyproject_spec, where = PYPROJECT_DEPENDENCIES[name]
    environment_spec, spelled = ENVIRONMENT_PACKAGES[name]
    assert pyproject_spec == environment_spec, (
        f"'{name}' has version range '{pyproject_spec}' in pyproject.toml ({where}) "
        f"but '{environment_spec}' in environment.yml ('{spelled}'): make them the same"
    )


def test_python_version_agrees_with_requires_python() -> None:
    requires_python = tomllib.loads(PYPROJECT.read_text())["project"]["requires-python"]
    _, expected = split_requirement(f"python {requires_python}")
    if "conda:python" not in ENVIRONMENT_PACKAGES:
        pytest.fail(f"environment.yml does not pin python: add 'python {requires_python}'")
    spec, spelled = ENVIRONMENT_PACKAGES["conda:python"]
    assert spec == expected, f"environment.yml has '{spelled}' but pyproject.toml's requires-python is '{requires_python}'"


@pytest.mark.parametrize("conda_name", sorted(CONDA_ONLY))
def test_conda_only_packages_are_listed(conda_name: str) -> None:
    if f"conda:{conda_name}" not in ENVIRONMENT_PACKAGES:
        pytest.fail(
            f"environment.yml lacks '{conda_name}' ({CONDA_ONLY[conda_name]}): add it, "
            f"or drop it from CONDA_ONLY in {Path(__file__).name}"
        )
