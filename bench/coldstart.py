"""Cold start: a fresh process importing each handler ÷ a fresh ``python -c "import boto3"``.

As in Lambda: the bundle's content is ``pip install --no-deps --target`` of ``lambdas/requirements.txt``
(for this machine's platform), boto3 and its dependencies come from a separate directory (the
runtime's, never bundled), the interpreter is a bare virtual environment (no site-packages), the
environment is a function's (AWS_LAMBDA_FUNCTION_NAME, LAMBDA_TASK_ROOT, table names, ...), and
nothing may write bytecode (``/var/task`` is read-only in Lambda).

Two bundles are measured side by side:

* ``with .pyc``: the directory as pip leaves it (bytecode compiled at install time, timestamp-checked);
* ``as deployed``: what ``stacks/bundling.py`` ships. With a Python 3.13 at synthesis that is the bundle
  compiled to hash-based, unchecked ``.pyc`` (compiled here by this interpreter, the same way); without
  one, the bundle without ``__pycache__``, which Lambda compiles at every cold start. boto3 keeps its
  bytecode in both (the runtime's copy is precompiled).

The site directories are built once and cached under ``.build/bench-site-<hash>/``.
"""

from __future__ import annotations

import compileall
import hashlib
import importlib.metadata
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench import LAMBDAS, ROOT

TARGET = 1.5
HANDLERS = ("optin.handlers.registration", "optin.handlers.phone_validation", "optin.handlers.inbound_sms")
BASELINE = "boto3"
BASELINE_LABEL = 'python -c "import boto3" (baseline)'
VARIANTS = {
    "pyc": "bundle with .pyc (pip install --target)",
    "deployed": "as deployed: what stacks/bundling.py ships (unchecked-hash .pyc with a Python 3.13)",
}
# Distribution -> top-level names: what the Lambda runtime provides and the bundle never contains.
RUNTIME_PACKAGES = {
    "boto3": ("boto3",),
    "botocore": ("botocore",),
    "s3transfer": ("s3transfer",),
    "jmespath": ("jmespath",),
    "urllib3": ("urllib3",),
    "python-dateutil": ("dateutil",),
    "six": ("six.py",),
}
SITE_FORMAT = "2"  # change to rebuild every cached site directory
_CACHES = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")


@dataclass(frozen=True)
class Site:
    root: Path
    python: Path  # a bare virtual environment's interpreter: no site-packages
    bundle: Path  # lambdas/requirements.txt installed with pip --target (bytecode compiled)
    bundle_src: Path  # the same, without bytecode
    bundle_shipped: Path  # the same, compiled to hash-based unchecked .pyc (as stacks/bundling.py does)
    runtime: Path  # boto3 & co. from the project's virtual environment, with bytecode


def _site_packages() -> Path:
    import boto3

    return Path(boto3.__file__).resolve().parent.parent


def runtime_versions() -> dict[str, str]:
    return {dist: importlib.metadata.version(dist) for dist in RUNTIME_PACKAGES}


def build_site(build_dir: Path = ROOT / ".build") -> Site:
    """The interpreter and directories of the measurement, built on first use and then reused."""
    requirements = LAMBDAS / "requirements.txt"
    digest = hashlib.sha256(requirements.read_bytes())
    versions = runtime_versions()
    digest.update(
        f"{SITE_FORMAT} {sys.version} {sysconfig.get_platform()} {sorted(versions.items())}".encode()
    )
    root = build_dir / f"bench-site-{digest.hexdigest()[:16]}"
    site = Site(
        root,
        root / "venv" / "bin" / "python",
        root / "bundle",
        root / "bundle-src",
        root / "bundle-shipped",
        root / "runtime",
    )
    if (root / ".complete").is_file():
        return site
    build_dir.mkdir(parents=True, exist_ok=True)
    print(f"  building {root.relative_to(ROOT)} (once; needs the package index) ...", flush=True)
    staging = Path(tempfile.mkdtemp(prefix=".bench-site-", dir=build_dir))
    try:
        _run(
            [
                *(sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"),
                *("--no-deps", "--target", str(staging / "bundle"), "--requirement", str(requirements)),
            ],
            "pip could not install lambdas/requirements.txt",
        )
        leaked = [
            name
            for names in RUNTIME_PACKAGES.values()
            for name in names
            if (staging / "bundle" / name).exists()
        ]
        if leaked:
            raise RuntimeError(
                f"lambdas/requirements.txt installs {leaked}: the Lambda runtime provides them"
            )
        shutil.copytree(staging / "bundle", staging / "bundle-src", ignore=_CACHES)
        shutil.copytree(staging / "bundle-src", staging / "bundle-shipped")
        _compile_as_shipped(staging / "bundle-shipped")
        source = _site_packages()
        runtime = staging / "runtime"
        runtime.mkdir()
        for dist, names in RUNTIME_PACKAGES.items():
            for name in names:
                path = source / name
                if path.is_dir():
                    shutil.copytree(path, runtime / name, ignore=_CACHES)
                else:
                    shutil.copy2(path, runtime / name)
            info = f"{dist.replace('-', '_')}-{versions[dist]}.dist-info"
            if (source / info).is_dir():
                shutil.copytree(source / info, runtime / info)
        compileall.compile_dir(runtime, quiet=2, workers=0)
        _run(
            [sys.executable, "-m", "venv", "--without-pip", str(staging / "venv")],
            "could not create a bare venv",
        )
        (staging / ".complete").write_text("ok\n")
        staging.rename(root)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    for stale in build_dir.glob("bench-site-*"):
        if stale != root:
            shutil.rmtree(stale, ignore_errors=True)
    return site


def _run(command: list[str], problem: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{problem}:\n{result.stdout}{result.stderr}")


def _compile_as_shipped(tree: Path) -> None:
    import py_compile

    compileall.compile_dir(
        tree, quiet=2, workers=0, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
    )


def deployed_with_bytecode() -> bool:
    """Whether synthesis on this machine ships bytecode (it needs a Python 3.13: stacks/bundling.py)."""
    from stacks.bundling import find_lambda_python

    return find_lambda_python() is not None


def snapshot_code(into: Path) -> tuple[Path, Path, Path]:
    """Copies of lambdas/optin taken once for the whole run (others may edit the tree meanwhile):
    compiled by pip's rule, without bytecode, and compiled as shipped."""
    src, pyc, shipped = into / "src", into / "pyc", into / "shipped"
    shutil.copytree(LAMBDAS / "optin", src / "optin", ignore=_CACHES)
    shutil.copytree(src / "optin", pyc / "optin")
    shutil.copytree(src / "optin", shipped / "optin")
    compileall.compile_dir(pyc, quiet=2, workers=0)
    _compile_as_shipped(shipped)
    return src, pyc, shipped


def lambda_environment(module: str, pythonpath: list[Path]) -> dict[str, str]:
    """What Lambda sets for one of our functions (see stacks/functions.py), plus the path."""
    name = module.rsplit(".", 1)[-1]
    return {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PYTHONPATH": os.pathsep.join(str(p) for p in pythonpath),
        "PYTHONDONTWRITEBYTECODE": "1",  # /var/task is read-only
        "AWS_LAMBDA_FUNCTION_NAME": f"sms-optin-{name}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/sms-optin-{name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/11/23/[$LATEST]0123456789abcdef",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "LAMBDA_TASK_ROOT": "/var/task",
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "_HANDLER": f"{module}.handler",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "POWERTOOLS_SERVICE_NAME": f"sms-optin-{name}",
        "POWERTOOLS_METRICS_NAMESPACE": "SmsOptin",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "CONTACTS_TABLE": "Contacts",
        "LOOKUP_CACHE_TABLE": "PhoneLookups",
        "IDEMPOTENCY_TABLE": "Idempotency",
        "OWN_NUMBERS": "+12065550100",
        "ORIGINATION_IDENTITY": "arn:aws:sms-voice:us-east-1:123456789012:phone-number/phone-0123456789abcdef",
        "BRAND_NAME": "ExampleCorp",
    }


def _import_code(module: str) -> str:
    target = "import boto3" if module == BASELINE else f"from {module} import handler"
    return f"import time as _t; _s = _t.perf_counter(); {target}; print(_t.perf_counter() - _s)"


@dataclass
class Samples:
    wall: list[float] = field(default_factory=list)  # the whole process, seconds
    imports: list[float] = field(default_factory=list)  # the import statement alone, seconds

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    @property
    def best(self) -> float:
        return min(self.wall)

    @property
    def import_median(self) -> float:
        return statistics.median(self.imports)


@dataclass
class ColdStartResult:
    reps: int
    baseline: Samples
    samples: dict[tuple[str, str], Samples]  # (handler, variant)
    contributors: dict[tuple[str, str], Contributors]
    elapsed: float
    load: float = 0.0

    def ratio(self, handler: str, variant: str) -> float:
        return self.samples[handler, variant].median / self.baseline.median

    def best_ratio(self, handler: str, variant: str) -> float:
        return self.samples[handler, variant].best / self.baseline.best

    def import_ratio(self, handler: str, variant: str) -> float:
        return self.samples[handler, variant].import_median / self.baseline.import_median


class _Runner:
    def __init__(self, site: Site, paths: dict[str, list[Path]]) -> None:
        self.site = site
        self.paths = paths

    def env(self, module: str, variant: str) -> dict[str, str]:
        return lambda_environment(module, self.paths[variant])

    def once(self, module: str, variant: str) -> tuple[float, float]:
        command = [str(self.site.python), "-c", _import_code(module)]
        started = time.perf_counter()
        result = subprocess.run(
            command, env=self.env(module, variant), capture_output=True, text=True, check=False
        )
        wall = time.perf_counter() - started
        if result.returncode != 0:
            raise RuntimeError(f"importing {module} ({variant}) failed:\n{result.stderr}")
        return wall, float(result.stdout.strip().splitlines()[-1])

    def importtime(self, module: str, variant: str) -> list[ImportRow]:
        """``python -X importtime`` of the import, in its output order (children before parents)."""
        command = [str(self.site.python), "-X", "importtime", "-c", _import_code(module)]
        result = subprocess.run(
            command, env=self.env(module, variant), capture_output=True, text=True, check=False
        )
        rows = [
            ImportRow(m.group(4), int(m.group(1)) / 1000, int(m.group(2)) / 1000, len(m.group(3)))
            for m in re.finditer(
                r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$", result.stderr, re.MULTILINE
            )
        ]
        for i, row in enumerate(rows):  # the importer is the next row that is less indented
            row.parent = next((r.name for r in rows[i + 1 :] if r.depth < row.depth), "")
        return rows

    def importtime_median(self, module: str, variant: str, runs: int = 3) -> list[ImportRow]:
        """Self times are the median of ``runs`` runs (one run on a busy machine is noisy)."""
        samples = [self.importtime(module, variant) for _ in range(runs)]
        rows = samples[0]
        for row in rows:
            row.self_ms = statistics.median(
                next((r.self_ms for r in sample if r.name == row.name), row.self_ms) for sample in samples
            )
        return rows


@dataclass
class ImportRow:
    name: str
    self_ms: float
    cumulative_ms: float
    depth: int
    parent: str = ""


@dataclass(frozen=True)
class Contributors:
    """Why a handler's import is slower than ``import boto3``."""

    packages: list[tuple[str, float]]  # self time of modules boto3 does not load, by top-level package
    entries: list[tuple[str, str, float]]  # (module, imported by, cumulative ms): heaviest imports of ours


def measure(reps: int = 20, log: bool = True) -> ColdStartResult:
    started = time.perf_counter()
    site = build_site()
    with tempfile.TemporaryDirectory(prefix="bench-optin-") as tmp:
        src, pyc, shipped = snapshot_code(Path(tmp))
        deployed = (
            [site.bundle_shipped, site.runtime, shipped]
            if deployed_with_bytecode()
            else [site.bundle_src, site.runtime, src]
        )
        runner = _Runner(site, {"pyc": [site.bundle, site.runtime, pyc], "deployed": deployed})
        items = [(BASELINE, "pyc")] + [(h, v) for v in VARIANTS for h in HANDLERS]
        samples = {item: Samples() for item in items}
        for module, variant in items:  # warm the page cache; not measured
            runner.once(module, variant)
        for rep in range(reps):
            shift = rep % len(items)
            for module, variant in items[shift:] + items[:shift]:  # interleaved, order rotated
                wall, imported = runner.once(module, variant)
                samples[module, variant].wall.append(wall)
                samples[module, variant].imports.append(imported)
            if log and sys.stdout.isatty():
                print(f"\r  round {rep + 1}/{reps}", end="", flush=True)
        if log and sys.stdout.isatty():
            print("\r" + " " * 20 + "\r", end="", flush=True)
        baseline = samples.pop((BASELINE, "pyc"))
        result = ColdStartResult(reps, baseline, samples, {}, 0.0)
        missed = [(h, v) for h in HANDLERS for v in VARIANTS if result.ratio(h, v) > TARGET]
        if missed:
            base_times = {v: runner.importtime(BASELINE, v) for v in {v for _, v in missed}}
            for handler, variant in missed:
                result.contributors[handler, variant] = _contributors(
                    runner.importtime_median(handler, variant), base_times[variant]
                )
    result.elapsed = time.perf_counter() - started
    result.load = os.getloadavg()[0]
    return result


def _contributors(rows: list[ImportRow], baseline: list[ImportRow]) -> Contributors:
    loaded_by_boto3 = {row.name for row in baseline}
    packages: Counter = Counter()
    for row in rows:
        if row.name not in loaded_by_boto3:
            packages[row.name.split(".")[0]] += row.self_ms
    entries = []
    for i, row in enumerate(rows):
        if not row.parent.startswith("optin") or row.name.startswith("optin") or row.name in loaded_by_boto3:
            continue
        # Its own time plus what it loads that boto3 would not: the rows just above it, more indented.
        extra = row.self_ms
        for child in reversed(rows[:i]):
            if child.depth <= row.depth:
                break
            if child.name not in loaded_by_boto3:
                extra += child.self_ms
        entries.append((row.name, row.parent, extra))
    return Contributors(packages.most_common(), sorted(entries, key=lambda e: -e[2]))


def _short(module: str) -> str:
    return module.rsplit(".", 1)[-1]


def verdict(ratio: float) -> str:
    return "PASS" if ratio <= TARGET else "MISS"


def report(result: ColdStartResult) -> str:
    b = result.baseline
    versions = runtime_versions()
    lines = [
        f"  Python {platform.python_version()} {platform.machine()} (Lambda runs 3.13 on arm64), bare venv;"
        f" boto3 {versions['boto3']} / botocore {versions['botocore']} from a runtime directory;",
        f"  {result.reps} interleaved rounds (order rotated), medians compared; ran in {result.elapsed:.0f} s;"
        f" load average {result.load:.1f} on {os.cpu_count()} CPUs (other work on the machine adds noise).",
        "",
        f"  {'process':<44} {'wall median':>11} {'min':>7} {'ratio':>7} {'min ratio':>9}"
        f" {'import-only':>11} {'ratio':>6}",
        f"  {BASELINE_LABEL:<44} {b.median * 1000:>8.0f} ms {b.best * 1000:>4.0f} ms"
        f" {'':>7} {'':>9} {b.import_median * 1000:>8.0f} ms",
    ]
    for variant, label in VARIANTS.items():
        lines.append(f"  {label}:")
        for handler in HANDLERS:
            s = result.samples[handler, variant]
            ratio = result.ratio(handler, variant)
            lines.append(
                f"    {_short(handler):<42} {s.median * 1000:>8.0f} ms {s.best * 1000:>4.0f} ms {ratio:>6.2f}x"
                f" {result.best_ratio(handler, variant):>8.2f}x {s.import_median * 1000:>8.0f} ms"
                f" {result.import_ratio(handler, variant):>5.2f}x  {verdict(ratio)}"
            )
    if result.contributors:
        lines += [
            "",
            "  Why the misses (python -X importtime, median of 3 runs in the same setup). Self time of the"
            " modules that `import boto3` alone does not load, by top-level package:",
        ]
        for (handler, variant), why in result.contributors.items():
            total = sum(ms for _, ms in why.packages)
            top = ", ".join(f"{name} {ms:.0f} ms" for name, ms in why.packages[:7])
            lines.append(f"    {_short(handler)} [{variant}]: {top} (all: {total:.0f} ms)")
        lines.append(
            "  Heaviest imports made by our modules (self time of all they load that `import boto3` does not):"
        )
        for (handler, variant), why in result.contributors.items():
            if variant == "pyc":
                top = ", ".join(f"{name} {ms:.0f} ms (in {parent})" for name, parent, ms in why.entries[:4])
                lines.append(f"    {_short(handler)}: {top}")
    return "\n".join(lines)
