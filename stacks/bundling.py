"""The one Lambda code asset, built at synth time without Docker.

Dependencies from ``lambdas/requirements.txt`` (a complete, pinned closure) are installed with pip for
the Lambda platform (manylinux aarch64 wheels for CPython 3.13, ``--only-binary=:all:``, ``--no-deps``)
into ``.build/lambda-deps-<hash>/``; the hash covers the requirements file and the target platform, so a
later synth reuses the directory and needs no network. The asset directory
``.build/lambda-asset-<hash>/`` is that tree plus the ``optin`` package (hard links where the file
system allows); it is rebuilt only when the dependencies or the code change. boto3 and botocore come
with the Lambda runtime and are never bundled.

The asset ships bytecode: every module is compiled by a CPython 3.13 interpreter (the Lambda runtime's
version) into hash-based, unchecked ``.pyc`` files, since the asset zip keeps no file times and Lambda
would otherwise compile the bundle at every cold start. The interpreter is ``LAMBDA_PYTHON`` if set, else
``python3.13`` on the PATH, else one installed by pyenv. Without one, synthesis says so in one line and
ships source only.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from stacks import LAMBDAS_DIR, PROJECT_ROOT

PYTHON_VERSION = "3.13"
PLATFORM = "manylinux2014_aarch64"
PACKAGE = "optin"
NEVER_BUNDLED = ("boto3", "botocore", "s3transfer")
# Installed with a dependency but never loaded in Lambda: libphonenumber's geocoder and carrier-name
# tables (about 40 MB with their bytecode; the carrier lookup is End User Messaging's, and only the local
# sandbox's offline lookup reads them, from the virtualenv). tests/infra checks nothing in optin imports them.
NOT_SHIPPED = ("phonenumbers/geodata", "phonenumbers/carrierdata")
ASSET_FORMAT = "2"  # part of the asset's name: change it when what goes into an asset changes
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".pytest_cache")
# Subpackages of ``optin`` that never run in Lambda: the operator's tool (sms-optin) and its libraries.
NOT_BUNDLED = ("admin",)


def _ignored(package: Path) -> Callable[[str, list[str]], set[str]]:
    """What copying ``package`` leaves out: caches, and NOT_BUNDLED at its top level."""

    def ignore(directory: str, names: list[str]) -> set[str]:
        left_out = set(_IGNORED(directory, names))
        if Path(directory).resolve() == package.resolve():
            left_out.update(name for name in names if name in NOT_BUNDLED)
        return left_out

    return ignore


class BundlingError(RuntimeError):
    """The Lambda dependencies could not be installed."""


def pip_arguments(requirements: Path, target: Path) -> list[str]:
    """The pip command that installs the closure for the Lambda platform."""
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-deps",
        "--no-compile",
        "--only-binary=:all:",
        "--platform",
        PLATFORM,
        "--implementation",
        "cp",
        "--python-version",
        PYTHON_VERSION,
        "--target",
        str(target),
        "--requirement",
        str(requirements),
    ]


def lambda_asset(
    lambdas_dir: Path = LAMBDAS_DIR,
    build_dir: Path = PROJECT_ROOT / ".build",
    compiler: Path | Literal["find"] | None = "find",
) -> Path:
    """The directory to hand to ``lambda.Code.from_asset``: dependencies plus the ``optin`` package,
    with CPython 3.13 bytecode when ``compiler`` (by default: the one found) is there."""
    requirements = lambdas_dir / "requirements.txt"
    dependencies = _dependencies(requirements, build_dir)
    python = find_lambda_python() if compiler == "find" else compiler
    code_hash = _tree_hash(lambdas_dir / PACKAGE, salt=f"{ASSET_FORMAT} {NOT_SHIPPED}")
    flavour = f"pyc{PYTHON_VERSION.replace('.', '')}" if python else "src"
    asset = build_dir / f"lambda-asset-{dependencies.name.removeprefix('lambda-deps-')}-{code_hash}-{flavour}"
    if not asset.is_dir():
        staging = Path(tempfile.mkdtemp(prefix=".lambda-asset-", dir=build_dir))
        shutil.copytree(dependencies, staging, dirs_exist_ok=True, copy_function=_link_or_copy)
        (staging / ".complete").unlink()
        for unused in NOT_SHIPPED:
            shutil.rmtree(staging / unused, ignore_errors=True)
        package = lambdas_dir / PACKAGE
        shutil.copytree(package, staging / PACKAGE, ignore=_ignored(package))
        if python:
            compile_bytecode(python, staging)
        _publish(staging, asset)
    for stale in build_dir.glob("lambda-asset-*"):
        if stale != asset:
            shutil.rmtree(stale, ignore_errors=True)
    return asset


_announced = False


def find_lambda_python() -> Path | None:
    """A CPython of the Lambda runtime's version (see the module docs), or None after saying, once per
    process, that the asset ships source only."""
    global _announced
    candidates = [os.environ.get("LAMBDA_PYTHON"), shutil.which(f"python{PYTHON_VERSION}")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    candidates += [
        str(p) for p in sorted(pyenv_root.glob(f"versions/{PYTHON_VERSION}.*/bin/python{PYTHON_VERSION}"))
    ]
    for candidate in filter(None, candidates):
        if _is_lambda_python(Path(candidate)):
            return Path(candidate)
    if not _announced:
        print(
            f"Lambda bundle: no Python {PYTHON_VERSION} found (set LAMBDA_PYTHON): shipping source only, so "
            "each cold start compiles the bundle.",
            file=sys.stderr,
        )
        _announced = True
    return None


def _is_lambda_python(python: Path) -> bool:
    try:
        result = subprocess.run(  # noqa: S603 - a fixed argument list, no shell
            [str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0 and result.stdout.strip() == PYTHON_VERSION


def compile_bytecode(python: Path, tree: Path) -> None:
    """Compile every module under ``tree`` with ``python``: hash-based unchecked ``.pyc`` (valid without
    file times, never re-validated), with the paths the modules have in Lambda (/var/task)."""
    result = subprocess.run(  # noqa: S603 - a fixed argument list, no shell
        [
            str(python),
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            "--invalidation-mode",
            "unchecked-hash",
            "-s",
            str(tree),
            "-p",
            "/var/task",
            str(tree),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    # compileall exits 1 when some file does not compile (e.g. a package's Python 2 test data); the
    # modules that do compile are still written, and those that do not are loaded from source.
    if result.returncode not in (0, 1):
        raise BundlingError(f"compiling the Lambda bundle failed:\n{result.stderr.strip()}")


def _dependencies(requirements: Path, build_dir: Path) -> Path:
    digest = hashlib.sha256(requirements.read_bytes())
    digest.update(f"{PLATFORM} cp{PYTHON_VERSION}".encode())
    target = build_dir / f"lambda-deps-{digest.hexdigest()[:16]}"
    if (target / ".complete").is_file():
        return target
    bundled = sorted(set(NEVER_BUNDLED) & _requirement_names(requirements))
    if bundled:
        raise BundlingError(
            f"{requirements} lists {', '.join(bundled)}: the Lambda runtime provides them; remove them"
        )
    build_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".lambda-deps-", dir=build_dir))
    result = subprocess.run(  # noqa: S603 - fixed argument list, no shell
        pip_arguments(requirements, staging), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise BundlingError(
            f"pip could not install {requirements} for the Lambda platform ({PLATFORM}, "
            f"Python {PYTHON_VERSION}). The first synth needs access to the package index; later "
            f"synths reuse {target.relative_to(build_dir.parent)} offline.\n{result.stderr.strip()}"
        )
    for cache in staging.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    (staging / ".complete").write_text("ok\n")
    _publish(staging, target)
    return target


def _requirement_names(requirements: Path) -> set[str]:
    names = set()
    for line in requirements.read_text().splitlines():
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line.split("#", 1)[0])
        if match:
            names.add(re.sub(r"[-_.]+", "-", match.group(1)).lower())
    return names


def _publish(staging: Path, target: Path) -> None:
    """Move a finished directory into place; a concurrent synth that got there first wins."""
    staging.chmod(0o755)  # mkdtemp makes it 0700; the Lambda runtime user must read the tree
    try:
        staging.rename(target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not target.is_dir():
            raise


def _tree_hash(root: Path, salt: str = "") -> str:
    digest = hashlib.sha256(salt.encode())
    for path in sorted(root.rglob("*")):
        if path.relative_to(root).parts[0] in NOT_BUNDLED:
            continue  # not in the asset: changing it never rebuilds it
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _link_or_copy(source: str, destination: str) -> str:
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)
    return destination


def directory_size(path: Path) -> int:
    """Bytes in the files under ``path`` (the unzipped asset size)."""
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())
