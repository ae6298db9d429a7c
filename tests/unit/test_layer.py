"""What the Lambda layer ships: layer/Makefile copies the ``shared`` package whole, so every module in
it must be code a deployed function runs (nothing only the tests, the local runtime or the bench
use), and its dependencies are the pinned ones of pyproject.toml."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest

from infra import layer_requirements
from infra.runtime.cfn_yaml import load_cfn_file

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_cfn_file(ROOT / "template.yaml")

# Imported by no handler but by the operator's CLI (`hssync resync`, `hssync backfill`): the poll
# requests it builds are the ones the poller reads (shared.pipeline.poll). The operator's view
# (shared.operations: `hssync health|status|dlq`, the console) reads what the functions write.
OPERATOR_ONLY = {
    "shared.pipeline.resync",
    "shared.operations",
    "shared.operations.config_check",
    "shared.operations.dead_letters",
    "shared.operations.deals_check",
    "shared.operations.export",
    "shared.operations.health",
    "shared.operations.progress",
    "shared.operations.queues",
    "shared.operations.sqs_stats",
    "shared.operations.status",
}
# The in-memory twins and the template-derived tables of the tests (tests/memory_state.py,
# tests/template_tables.py).
TEST_ONLY = {"shared.state.memory", "shared.state.schema"}
TEST_ONLY_NAMES = {"MemoryState", "MemoryCache", "create_table_from_template"}


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer_sources() -> dict[str, Path]:
    """The modules layer/Makefile puts in the layer, by name: it copies the project's ``shared``
    package (``$(PROJECT_ROOT)/shared``, the root found from the Makefile's own path)."""
    makefile = (ROOT / "layer" / "Makefile").read_text(encoding="utf-8")
    assert re.findall(r"^PROJECT_ROOT := (.+)$", makefile, re.MULTILINE) == ["$(abspath $(LAYER_DIR)/..)"]
    assert re.findall(r"^\s*cp -R (\S+) ", makefile, re.MULTILINE) == ['"$(PROJECT_ROOT)/shared"']
    return {_module(path): path for path in sorted((ROOT / "shared").rglob("*.py"))}


def _handler_sources() -> list[Path]:
    """Each function's handler module, from its CodeUri and Handler in template.yaml."""
    handlers = []
    for resource in TEMPLATE["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            module = resource["Properties"]["Handler"].rpartition(".")[0]
            handlers.append(ROOT / resource["Properties"]["CodeUri"] / f"{module.replace('.', '/')}.py")
    return handlers


def _imported_names(path: Path) -> set[str]:
    """Every dotted name an import statement of ``path`` may load (``from a import b``: a and a.b)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import"
            base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _loaded_modules(name: str, modules: dict[str, Path]) -> set[str]:
    """The modules of ``modules`` that importing ``name`` loads directly (its packages included)."""
    parts = name.split(".")
    return {prefix for i in range(1, len(parts) + 1) if (prefix := ".".join(parts[:i])) in modules}


def _reachable(roots: list[Path], modules: dict[str, Path]) -> set[str]:
    seen: set[str] = set()
    todo = [
        loaded
        for root in roots
        for name in _imported_names(root)
        for loaded in _loaded_modules(name, modules)
    ]
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(
                loaded
                for name in _imported_names(modules[module])
                for loaded in _loaded_modules(name, modules)
            )
    return seen


def test_every_function_has_a_handler_module():
    handlers = _handler_sources()
    assert len(handlers) >= 6
    assert all(handler.is_file() for handler in handlers), handlers


def test_the_known_test_only_code_stays_out_of_the_layer():
    sources = _layer_sources()
    assert not TEST_ONLY & set(sources)
    for path in sources.values():
        defined = {
            node.name
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.ClassDef | ast.FunctionDef)
        }
        assert not defined & TEST_ONLY_NAMES, path


def test_every_module_of_the_layer_is_imported_from_a_handler():
    sources = _layer_sources()
    reachable = _reachable(_handler_sources(), sources)
    reachable |= OPERATOR_ONLY | _reachable([sources[name] for name in OPERATOR_ONLY], sources)
    unused = sorted(set(sources) - reachable)
    assert not unused, f"in the layer but imported by no function (move them where their users are): {unused}"


def test_no_handler_imports_the_operators_code():
    """The operator's modules are the CLI's: a handler that imports one pays for it at every cold start."""
    for handler in _handler_sources():
        loaded = _reachable([handler], _layer_sources())
        assert not loaded & OPERATOR_ONLY, (
            f"{handler.relative_to(ROOT)} imports {sorted(loaded & OPERATOR_ONLY)}"
        )


def test_the_layer_ships_bytecode_for_the_runtime_python(tmp_path):
    """What ``sam build`` runs (``make -n``: printed, not run): the bytecode is compiled by the runtime's
    Python after the installer's stale caches are removed, with hashes a zip's timestamps cannot void."""
    runtime = TEMPLATE["Globals"]["Function"]["Runtime"]
    done = subprocess.run(
        [
            "make",
            "-n",
            "-s",
            "-f",
            str(ROOT / "layer" / "Makefile"),
            "build-SharedLayer",
            f"ARTIFACTS_DIR={tmp_path}",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    commands = done.stdout.splitlines()
    compile_at = next(i for i, line in enumerate(commands) if "compileall" in line)
    assert commands[compile_at].startswith(f"{runtime} -m compileall ")
    assert "--invalidation-mode unchecked-hash" in commands[compile_at]
    assert f'"{tmp_path}/python"' in commands[compile_at]
    assert compile_at == len(commands) - 1, "nothing may follow the compilation (it would be left uncompiled)"
    assert any("__pycache__" in line and "rm -rf" in line for line in commands[:compile_at])


def test_deployed_code_imports_nothing_the_layer_lacks():
    deployed = [*(ROOT / "shared").rglob("*.py"), *(ROOT / "functions").rglob("*.py")]
    for path in deployed:
        outside = {
            name for name in _imported_names(path) if name.split(".")[0] in {"tests", "infra", "bench"}
        }
        assert not outside, f"{path.relative_to(ROOT)} imports {sorted(outside)}"


def test_the_layer_requirements_are_generated_from_the_pins_of_pyproject():
    expected = layer_requirements.render(layer_requirements.runtime_dependencies())
    assert layer_requirements.LAYER_REQUIREMENTS.read_text(encoding="utf-8") == expected, (
        "layer/requirements.txt is out of date: run python -m infra.layer_requirements"
    )
    assert layer_requirements.main(["--check"]) == 0


def test_the_runtime_dependencies_must_be_pinned(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\ndependencies = ["boto3==1.0", "pydantic>=2.6"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape("pydantic>=2.6")):
        layer_requirements.runtime_dependencies(pyproject)


def test_the_functions_install_nothing_beside_the_layer():
    """``sam build`` installs each function's requirements.txt into it: all of them come from the layer."""
    for handler in _handler_sources():
        code_dir = handler.parent
        lines = (code_dir / "requirements.txt").read_text(encoding="utf-8").splitlines()
        assert all(not line.strip() or line.lstrip().startswith("#") for line in lines), code_dir
