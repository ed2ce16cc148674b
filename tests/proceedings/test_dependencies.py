"""`conference` (papers, camera-ready, proceedings) depends on no challenge code: the programme reads a
challenge's winners through the `challenge_winners` hook `challenges.finalphase` offers on its
AppConfig, and its challenges through the app registry."""

import ast
from pathlib import Path

import conference

CONFERENCE = Path(conference.__file__).parent


def challenge_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [
            f"{path.relative_to(CONFERENCE.parent)}:{node.lineno} {n}"
            for n in names
            if n.split(".")[0] == "challenges"
        ]
    return found


def test_conference_imports_nothing_from_challenges():
    assert [hit for path in sorted(CONFERENCE.rglob("*.py")) for hit in challenge_imports(path)] == []


def test_the_final_phase_offers_the_winners_hook():
    from django.apps import apps

    offering = [c.label for c in apps.get_app_configs() if callable(getattr(c, "challenge_winners", None))]
    assert offering == ["finalphase"]
