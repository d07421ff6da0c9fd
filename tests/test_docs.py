"""The documentation that is generated from the code stays in step with it."""
import re

from tests.support import PROJECT


def test_route_table_matches_the_code():
    from localdev import routes

    committed = (PROJECT / "docs" / "routes.md").read_text()
    assert committed == routes.render(), (
        "docs/routes.md differs from the routes the code declares: run `make routes` and commit docs/routes.md")


def test_route_table_lists_every_served_route():
    import app
    from localdev import routes

    served = {(method, path) for path, methods in app.app.routes.items() for method in methods if method != "OPTIONS"}
    listed = set(re.findall(r"^\| (GET|POST|PUT|PATCH|DELETE) \| `([^`]+)` \|", routes.render(), re.MULTILINE))
    assert listed == served


def test_relative_links_in_the_docs_resolve():
    broken = []
    for page in [PROJECT / "README.md", *sorted((PROJECT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if not re.match(r"[a-z]+:", target) and not (page.parent / target).exists():
                broken.append(f"{page.relative_to(PROJECT)} -> {target}")
    assert not broken, broken
