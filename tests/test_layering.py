"""The package's layering, read from the source: handlers -> wiring -> services -> ports/adapters -> pure
domain, no import cycles, boto3 and HTTP only in adapters, and nothing a function imports lives in the
part of the package the Lambda asset leaves out (``optin.admin``).

Every module is placed in exactly one layer below, so a new module is a decision, not an accident.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "lambdas" / "optin"

DOMAIN = {
    "optin.abuse.windows",
    "optin.clock",
    "optin.consent",
    "optin.consent_records",
    "optin.delivery_events.records",
    "optin.delivery_events.status",
    "optin.followups.sequence",
    "optin.keywords",
    "optin.languages",
    "optin.limits",
    "optin.masking",
    "optin.person_names",
    "optin.phone_numbers",
    "optin.request_body",
    "optin.texts",
    "optin.whatsapp.pacing",
    "optin.whatsapp.templates",
}
# Configuration, the ports, request models and cross-cutting helpers every layer may use.
SHARED = {
    "optin.settings",
    "optin.ports",
    "optin.observability",
    "optin.models",
    "optin.events",
    "optin.http",
    "optin.contract",
}
SERVICES = {
    "optin.abuse.friction",
    "optin.abuse.guard",
    "optin.contacts",
    "optin.delivery_events.service",
    "optin.followups.service",
    "optin.inbound",
    "optin.lookup",
    "optin.outbound",
    "optin.registration",
    "optin.whatsapp.broadcast",
    "optin.whatsapp.delivery",
    "optin.admin.service",
}
# Composition roots: the functions' wiring, and the admin tool's (it builds the same services for a
# stack or the sandbox, so it also reaches AWS and the sandbox over HTTP).
WIRING = {"optin.wiring", "optin.admin.targets"}
ADAPTER_PREFIXES = ("optin.adapters.",)
ADAPTERS_EXTRA = {"optin.admin.adapters"}
REACHES_THE_NETWORK = {"optin.admin.targets"}  # besides the adapters
# The operator's command line: its own entry point, above everything else.
ENTRY_POINTS = {"optin.admin.cli", "optin.admin.__main__", "optin.admin.rows"}
HANDLER_PREFIX = "optin.handlers."

# Libraries that reach the network (or the AWS SDK): only adapters may import them.
IO_LIBRARIES = {"boto3", "botocore", "urllib3", "requests", "http.client", "urllib.request", "socket"}
# Third-party libraries the pure domain may use.
DOMAIN_LIBRARIES = {"phonenumbers"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
PACKAGES = {name for name, path in MODULES.items() if path.name == "__init__.py"}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(name: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = name.split(".") if name in PACKAGES else name.split(".")[:-1]
    base = base[: len(base) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def _imports(name: str, *, module_level_only: bool) -> set[str]:
    """Modules ``name`` imports at run time (``if TYPE_CHECKING:`` blocks excluded); with
    ``module_level_only``, only those imported when the module itself is imported (not inside a
    function). ``from pkg import mod`` counts as importing ``pkg.mod``."""
    path = MODULES[name]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if module_level_only and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = _resolve(name, node)
            found.add(module)
            found.update(f"{module}.{a.name}" for a in node.names if f"{module}.{a.name}" in MODULES)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return {m for m in found if m and m != "__future__"}


def _layer(name: str) -> str | None:
    if name in DOMAIN:
        return "domain"
    if name in SHARED:
        return "shared"
    if name in SERVICES:
        return "service"
    if name in WIRING:
        return "wiring"
    if name.startswith(ADAPTER_PREFIXES) or name in ADAPTERS_EXTRA:
        return "adapter"
    if name.startswith(HANDLER_PREFIX) or name in ENTRY_POINTS:
        return "entry"
    if name in PACKAGES:
        return "package"
    return None


def _internal(imports: set[str]) -> set[str]:
    return {m for m in imports if m in MODULES and m not in PACKAGES}


def _external(imports: set[str]) -> set[str]:
    return {m for m in imports if not m.startswith("optin")}


def test_every_module_has_a_layer():
    unplaced = sorted(name for name in MODULES if _layer(name) is None)
    assert not unplaced, f"place these modules in a layer in {Path(__file__).name}: {unplaced}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_only_adapters_reach_the_network(name):
    if _layer(name) == "adapter" or name in REACHES_THE_NETWORK:
        return
    io = {
        m
        for m in _external(_imports(name, module_level_only=False))
        if m in IO_LIBRARIES or m.split(".")[0] in IO_LIBRARIES
    }
    assert not io, f"{name} imports {sorted(io)}: only optin.adapters (and the admin tool's adapters) may"


@pytest.mark.parametrize("name", sorted(DOMAIN))
def test_the_domain_is_pure(name):
    imports = _imports(name, module_level_only=False)
    third_party = {
        m.split(".")[0] for m in _external(imports) if m.split(".")[0] not in sys.stdlib_module_names
    }
    assert third_party <= DOMAIN_LIBRARIES, f"{name} imports {sorted(third_party - DOMAIN_LIBRARIES)}"
    outside = {m for m in _internal(imports) if m not in DOMAIN and m != "optin.settings"}
    assert not outside, f"the domain module {name} imports {sorted(outside)}"


FORBIDDEN = {
    "service": {"adapter", "wiring", "entry"},
    "adapter": {"service", "wiring", "entry"},
    "shared": {"service", "adapter", "wiring", "entry"},
    "wiring": {"entry"},
}


@pytest.mark.parametrize("name", sorted(n for n in MODULES if _layer(n) in FORBIDDEN))
def test_imports_point_down(name):
    layer = _layer(name)
    admin_tool = name.startswith("optin.admin.")
    wrong = {
        m
        for m in _internal(_imports(name, module_level_only=False))
        if _layer(m) in FORBIDDEN[layer] and not (admin_tool and m.startswith("optin.admin."))
    }
    assert not wrong, (
        f"{name} ({layer}) imports {sorted(wrong)} ({', '.join(sorted({_layer(m) for m in wrong}))})"
    )


@pytest.mark.parametrize("name", sorted(n for n in MODULES if not n.startswith("optin.admin")))
def test_nothing_the_functions_import_is_left_out_of_the_asset(name):
    admin = {m for m in _imports(name, module_level_only=False) if m.startswith("optin.admin")}
    assert not admin, f"{name} imports {sorted(admin)}, which the Lambda asset does not contain"


def test_no_import_cycles():
    graph = {name: _internal(_imports(name, module_level_only=True)) - {name} for name in MODULES}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                walk(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            walk(node)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_the_reader_sees_these_rules_on_real_imports():
    """The parser itself: it must see a from-import of a module, a relative import and a function-level
    import, or every rule above would pass vacuously."""
    assert "optin.whatsapp.templates" in _imports("optin.whatsapp.delivery", module_level_only=True)
    assert "boto3" in _imports("optin.adapters.aws", module_level_only=False)
    lazily = _imports("optin.wiring", module_level_only=False) - _imports(
        "optin.wiring", module_level_only=True
    )
    assert lazily, "optin.wiring builds its services lazily: its function-level imports must be seen"
