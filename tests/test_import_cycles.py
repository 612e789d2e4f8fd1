"""No import cycles between the packages of api/, and api.core imports no slice.

The graph is computed with ast over every module of api/: module-level imports and imports inside
functions alike (a function-level import is still a dependency; it only hides the cycle from the
interpreter until the function runs). Its nodes are the packages (api.clips, api.review, ...) and
the top-level modules (api.auth, api.db, ...). A slice's routes module is a node of its own: the
routes are the HTTP edge over every slice (each needs api.auth, which needs api.users and
api.audit), and nothing but the app imports them, which a test below checks; so they cannot close
a cycle, and counting them in their package would make every slice that has routes "depend" on
users and audit."""

import ast
from collections import defaultdict
from pathlib import Path

import pytest

API = Path(__file__).resolve().parent.parent / "api"
SLICES = {
    "api.clips",
    "api.review",
    "api.search",
    "api.audit",
    "api.users",
    "api.awards",
    "api.curriculum",
    "api.recognition",
    "api.stats",
    "api.fixity",
    "api.redaction",
}

# Edges that still close a cycle and wait for a change in a file whose owner is making it; each
# with what is needed. The test fails when one of them is gone, so that it is taken off here.
PENDING = {
    ("api.clips", "api.review"): "api/clips/service.py add_tag (ingest puts a clip in the review queue): "
    "ingest moves to a layer above clips, review and search; and api/clips/service.py, api/clips/schemas.py "
    "forward my_clips, MyClip, MyClipPublic until api/clips/routes.py imports them from api.review",
    ("api.clips", "api.search"): "api/clips/service.py add_tag (ingest indexes the tags): as above",
    ("api.search", "api.review"): "api/search/schemas.py and service.py filter by review state "
    "(ReviewState, ReviewItem): the filter's condition to come from api.review (search sits below it)",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(API.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in API.rglob("*.py")}


def node(module: str) -> str:
    parts = module.split(".")
    if len(parts) >= 3 and parts[2] == "routes":
        return ".".join(parts[:3])
    return ".".join(parts[:2])


def imported(path: Path, module: str) -> list[tuple[str, int]]:
    """Every module of api/ that `path` imports, anywhere in it, with the line."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for statement in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(statement, ast.Import):
            found += [(alias.name, statement.lineno) for alias in statement.names]
        elif isinstance(statement, ast.ImportFrom):
            base = statement.module or ""
            if statement.level:
                anchor = package.split(".")[: len(package.split(".")) - statement.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.append((base, statement.lineno))
            # `from api.clips import service` imports the module api.clips.service
            found += [(f"{base}.{a.name}", statement.lineno) for a in statement.names if f"{base}.{a.name}" in MODULES]
    return [(name, line) for name, line in found if name == "api" or name.startswith("api.")]


def edges() -> dict[tuple[str, str], str]:
    """(from node, to node) -> where, for one example of each."""
    found = {}
    for module, path in sorted(MODULES.items()):
        for target, line in imported(path, module):
            a, b = node(module), node(target)
            if a != b and b != "api":
                found.setdefault((a, b), f"{path.relative_to(API.parent)}:{line} imports {target}")
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected component of more than one node (Tarjan)."""
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    found = []
    for component in components:
        start = min(component)
        path, seen = [start], {start}
        while True:  # walk inside the component until we come back to a node on the path
            step = min(w for w in graph[path[-1]] if w in component)
            if step in seen:
                found.append(path[path.index(step) :] + [step])
                break
            path.append(step)
            seen.add(step)
    return found


def test_the_graph_sees_the_imports_it_should():
    # The walk is not vacuous: it finds a module-level and a function-level import that exist.
    found = edges()
    assert ("api.review", "api.clips") in found
    assert ("api.fixity", "api.db") in found  # inside a function of api/fixity/service.py
    assert len(MODULES) > 50


def test_no_import_cycles_between_packages():
    found = edges()
    graph = defaultdict(set)
    for a, b in found:
        graph[a].add(b)
        graph[b]
    for a, b in PENDING:
        graph[a].discard(b)
    problems = []
    for cycle in cycles(graph):
        steps = [f"  {a} -> {b}: {found[a, b]}" for a, b in zip(cycle, cycle[1:])]
        problems.append(" -> ".join(cycle) + "\n" + "\n".join(steps))
    assert not problems, "import cycles:\n" + "\n".join(problems)


def test_pending_edges_are_still_there():
    found = edges()
    gone = [edge for edge in PENDING if edge not in found]
    assert not gone, f"no longer imported, take them off PENDING: {gone}"


def test_core_imports_no_slice():
    # Nor anything that reaches one (api.config, which imports nothing of ours, is fine).
    found = edges()
    graph = defaultdict(set)
    for a, b in found:
        graph[a].add(b)
    reached, todo = set(), ["api.core"]
    while todo:
        for b in graph[todo.pop()] - reached:
            reached.add(b)
            todo.append(b)
    slices = sorted(b for b in reached if b.split(".routes")[0] in SLICES)
    assert not slices, f"api.core reaches {slices} through " + "; ".join(
        where for (a, b), where in found.items() if a == "api.core"
    )


def test_only_the_app_imports_routes():
    # What lets a routes module stand outside its package in the graph above.
    importers = [
        where for (a, b), where in edges().items() if b.endswith(".routes") and b.count(".") == 2 and a != "api.app"
    ]
    assert not importers, "\n".join(importers)


@pytest.mark.parametrize(
    "stand_in, model",
    [
        ("_REVIEW_ITEMS", "api.review.models:ReviewItem"),
        ("_NOMINATION_CLIPS", "api.awards.models:NominationClip"),
        ("_DECISIONS", "api.review.models:Decision"),
    ],
)
def test_the_clip_filter_names_real_tables_and_columns(stand_in, model):
    import importlib

    from api.core import policies

    module, _, name = model.partition(":")
    table = getattr(importlib.import_module(module), name).__table__
    ours = getattr(policies, stand_in)
    assert ours.name == table.name
    assert {c.name for c in ours.c} <= {c.name for c in table.c}


def test_the_clip_filter_names_a_real_review_state():
    from api.core.policies import SELECTED_FOR_TRAINING
    from api.review.models import ReviewState

    assert ReviewState(SELECTED_FOR_TRAINING) is ReviewState.SELECTED_FOR_TRAINING
