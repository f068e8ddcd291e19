"""The Lambda asset: built without Docker for the Lambda platform, cached, boto3-free."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from stacks.bundling import (
    NOT_SHIPPED,
    PLATFORM,
    PYTHON_VERSION,
    BundlingError,
    directory_size,
    find_lambda_python,
    lambda_asset,
    pip_arguments,
)

CPYTHON = PYTHON_VERSION.replace(".", "")

LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024


@pytest.fixture(scope="module")
def asset() -> Path:
    return lambda_asset()


def test_asset_holds_the_package_and_its_dependencies(asset: Path) -> None:
    assert (asset / "optin" / "settings.py").is_file()
    assert (asset / "optin" / "handlers" / "__init__.py").is_file()
    for package in ("aws_lambda_powertools", "pydantic", "pydantic_core", "phonenumbers"):
        assert (asset / package).is_dir(), package


def test_asset_has_linux_arm64_cp313_binaries(asset: Path) -> None:
    (core,) = (asset / "pydantic_core").glob("_pydantic_core*.so")
    assert "cpython-313-aarch64-linux-gnu" in core.name


def test_asset_excludes_runtime_provided_and_foreign_bytecode(asset: Path) -> None:
    for name in ("boto3", "botocore", "s3transfer"):
        assert not (asset / name).exists()
    foreign = [p for p in asset.rglob("*.pyc") if not p.name.endswith(f".cpython-{CPYTHON}.pyc")]
    assert foreign == []  # no bytecode of the developer's own interpreter
    assert directory_size(asset) < LAMBDA_UNZIPPED_LIMIT


def test_asset_leaves_out_what_lambda_never_loads(asset: Path) -> None:
    for unused in NOT_SHIPPED:
        assert not (asset / unused).exists(), unused
    assert (asset / "phonenumbers" / "data").is_dir() and (asset / "phonenumbers" / "tzdata").is_dir()
    code = "\n".join(p.read_text() for p in (Path(__file__).parents[2] / "lambdas" / "optin").rglob("*.py"))
    assert not re.search(r"phonenumbers(\.| import )(geocoder|carrier)\b", code)


def test_asset_ships_unchecked_hash_bytecode_of_the_lambda_runtime(asset: Path) -> None:
    """Compiled with CPython 3.13: hash-based pyc that Lambda loads without checking file times (asset
    zips keep none), naming the paths the modules have in Lambda."""
    python = find_lambda_python()
    if python is None:
        pytest.skip("no Python 3.13 on this machine: the asset ships source only (see the next test)")
    modules = sorted((asset / "optin").rglob("*.py"))
    assert modules
    for module in modules:
        pyc = module.parent / "__pycache__" / f"{module.stem}.cpython-{CPYTHON}.pyc"
        header = pyc.read_bytes()[:16]
        assert int.from_bytes(header[4:8], "little") == 0b01, pyc  # hash-based, check_source off
    probe = "import marshal, sys; data = open(sys.argv[1], 'rb').read(); print(marshal.loads(data[16:]).co_filename)"
    settings_pyc = asset / "optin" / "__pycache__" / f"settings.cpython-{CPYTHON}.pyc"
    shown = subprocess.run(  # noqa: S603 - our own interpreter and file
        [str(python), "-c", probe, str(settings_pyc)], capture_output=True, text=True, check=False
    )
    assert shown.stdout.strip() == "/var/task/optin/settings.py"
    assert list((asset / "pydantic").rglob(f"*.cpython-{CPYTHON}.pyc"))  # the dependencies too


def test_without_a_lambda_python_synthesis_says_so_once_and_ships_source(
    tmp_path: Path, asset: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import stacks.bundling as bundling

    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    monkeypatch.delenv("LAMBDA_PYTHON", raising=False)
    monkeypatch.setattr(bundling, "_announced", False)
    assert find_lambda_python() is None
    assert find_lambda_python() is None
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "no Python 3.13" in lines[0] and "source only" in lines[0]

    lambdas = tmp_path / "lambdas"
    (lambdas / "optin").mkdir(parents=True)
    (lambdas / "optin" / "__init__.py").write_text("X = 1\n")
    (lambdas / "requirements.txt").write_bytes(
        (Path(__file__).parents[2] / "lambdas/requirements.txt").read_bytes()
    )
    build = tmp_path / "build"
    cached = asset.parent / f"lambda-deps-{asset.name.removeprefix('lambda-asset-').split('-')[0]}"
    shutil.copytree(cached, build / cached.name)
    source_only = lambda_asset(lambdas, build)
    assert source_only.name.endswith("-src") and not list(source_only.rglob("*.pyc"))


def test_second_build_is_a_cache_hit(asset: Path) -> None:
    started = time.perf_counter()
    assert lambda_asset() == asset
    assert time.perf_counter() - started < 5


def test_code_change_rebuilds_only_the_asset(tmp_path: Path, asset: Path) -> None:
    lambdas = tmp_path / "lambdas"
    (lambdas / "optin" / "__pycache__").mkdir(parents=True)
    (lambdas / "optin" / "__init__.py").write_text("")
    (lambdas / "optin" / "__pycache__" / "x.pyc").write_bytes(b"")
    (lambdas / "requirements.txt").write_bytes(
        (Path(__file__).parents[2] / "lambdas/requirements.txt").read_bytes()
    )
    build = tmp_path / "build"
    # Seed the cache with the dependencies the session's asset was built from: no pip, no network.
    cached = asset.parent / f"lambda-deps-{asset.name.removeprefix('lambda-asset-').split('-')[0]}"
    shutil.copytree(cached, build / cached.name)
    first = lambda_asset(lambdas, build, compiler=None)
    assert (first / "pydantic").is_dir()
    assert not (first / "optin" / "__pycache__").exists()  # a developer's caches never travel
    (lambdas / "optin" / "new.py").write_text("X = 1\n")
    second = lambda_asset(lambdas, build, compiler=None)
    assert second != first
    assert (second / "optin" / "new.py").is_file()
    assert not first.exists()  # the stale asset is cleaned up
    assert len(list(build.glob("lambda-deps-*"))) == 1  # and the dependencies were not reinstalled


def test_pip_targets_the_lambda_platform_without_docker(tmp_path: Path) -> None:
    arguments = pip_arguments(tmp_path / "requirements.txt", tmp_path / "out")
    joined = " ".join(arguments)
    assert "--only-binary=:all:" in arguments and "--no-deps" in arguments
    assert f"--platform {PLATFORM}" in joined and PLATFORM == "manylinux2014_aarch64"
    assert f"--python-version {PYTHON_VERSION}" in joined and PYTHON_VERSION == "3.13"
    assert "--implementation cp" in joined


def test_boto3_in_requirements_is_refused(tmp_path: Path) -> None:
    lambdas = tmp_path / "lambdas"
    (lambdas / "optin").mkdir(parents=True)
    (lambdas / "requirements.txt").write_text("boto3==1.44.5\n")
    with pytest.raises(BundlingError, match="boto3"):
        lambda_asset(lambdas, tmp_path / "build")
