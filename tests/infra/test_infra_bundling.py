"""The Lambda asset: built without Docker for the Lambda platform, cached, boto3-free."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from stacks.bundling import (
    PLATFORM,
    PYTHON_VERSION,
    BundlingError,
    directory_size,
    lambda_asset,
    pip_arguments,
)

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


def test_asset_excludes_runtime_provided_and_cache_files(asset: Path) -> None:
    for name in ("boto3", "botocore", "s3transfer"):
        assert not (asset / name).exists()
    assert not list(asset.rglob("__pycache__"))
    assert not list(asset.rglob("*.pyc"))
    assert directory_size(asset) < LAMBDA_UNZIPPED_LIMIT


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
    first = lambda_asset(lambdas, build)
    assert (first / "pydantic").is_dir()
    assert not (first / "optin" / "__pycache__").exists()
    (lambdas / "optin" / "new.py").write_text("X = 1\n")
    second = lambda_asset(lambdas, build)
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
