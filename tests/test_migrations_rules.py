"""Migrations expand, then contract: a new migration never takes away what the running release still reads.

Upgrades happen while the previous release serves (docs/deployment.md, "Upgrading"):
``flask db upgrade`` runs with the new code, then each server reloads onto it.  So,
from revision ``0016`` on, a migration's ``upgrade()`` may only *expand* the schema
(new tables, nullable columns, columns with a server default, indexes, backfills).
It may not drop a table or column, rename either, change a column's type, or make a
column NOT NULL without a server default, unless its docstring begins with
``Contract:`` (it removes what the previous release no longer reads) or
``Needs maintenance mode:`` (operators must turn on ``flask maintenance on`` for it).

This test reads each migration with ``ast``, never imports or runs it, and follows
calls from ``upgrade()`` into the module's own functions.  Revisions before 0016 were
written before the rule and are listed below; ``test_upgrade_compat.py`` runs the
previous release's code against the newest schema.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

VERSIONS = Path(__file__).resolve().parent.parent / "local_offer" / "migrations" / "versions"

#: The first revision written under the rule.
FIRST_RULED = "0016"
#: Revisions written before the rule (each passes the checker today, but none was tried against the release
#: before it, and several rebuild tables on SQLite): what each brought.
GRANDFATHERED = {
    "0001": "the initial data model",
    "0002": "the gazetteer",
    "0003": "search: synonyms, the index outbox, the search log",
    "0004": "accounts: emailed links, join requests, sign-in history",
    "0005": "the second factor",
    "0006": "portal and reviews",
    "0007": "co-production",
    "0008": "one open change per listing (a unique index)",
    "0009": "scheduled jobs",
    "0010": "related terms",
    "0011": "shortlists",
    "0012": "search alerts",
    "0013": "school terms",
    "0014": "session rules (weekday kept for the release before: expand-only in practice)",
    "0015": "neighbours' feeds",
}
#: A docstring beginning with one of these says the migration knowingly breaks the rule.
EXEMPT_PREFIXES = ("Contract:", "Needs maintenance mode:")

#: Operations (``op.X`` or ``batch_op.X``) that take away something the previous release reads.
FORBIDDEN_OPERATIONS = {
    "drop_table": "drops a table",
    "drop_column": "drops a column",
    "rename_table": "renames a table",
}
#: Calls that run SQL as written.
RAW_SQL_CALLS = {"execute", "exec_driver_sql"}
#: SQL that takes something away or changes its shape.
FORBIDDEN_SQL = [
    (re.compile(r"\bDROP\s+(TABLE|COLUMN|VIEW|SCHEMA|DEFAULT)\b", re.I), "drops {0} in SQL"),
    (re.compile(r"\bRENAME\b", re.I), "renames in SQL"),
    (re.compile(r"\bALTER\b[^;]*\bTYPE\b", re.I), "changes a column's type in SQL"),
    (re.compile(r"\bSET\s+NOT\s+NULL\b", re.I), "makes a column NOT NULL in SQL"),
]


def _keywords(call: ast.Call) -> dict[str, ast.expr]:
    return {keyword.arg: keyword.value for keyword in call.keywords if keyword.arg}


def _is_false(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def _strings(node: ast.AST) -> str:
    """Return every string literal inside a node (f-string parts and concatenations included), joined."""
    return " ".join(part.value for part in ast.walk(node)
                    if isinstance(part, ast.Constant) and isinstance(part.value, str))


def _problems_in_call(call: ast.Call) -> list[str]:
    """Say what a single call in upgrade() does that the rule forbids."""
    if not isinstance(call.func, ast.Attribute):
        return []
    name = call.func.attr
    line = f"line {call.lineno}"
    if name in FORBIDDEN_OPERATIONS:
        return [f"{line}: {name}() {FORBIDDEN_OPERATIONS[name]}"]
    if name == "alter_column":
        keywords = _keywords(call)
        found = []
        if "new_column_name" in keywords:
            found.append(f"{line}: alter_column(new_column_name=...) renames a column")
        if "type_" in keywords:
            found.append(f"{line}: alter_column(type_=...) changes a column's type")
        if _is_false(keywords.get("nullable")) and "server_default" not in keywords:
            found.append(f"{line}: alter_column(nullable=False) without a server_default makes a column NOT NULL")
        return found
    if name in RAW_SQL_CALLS:
        sql = _strings(call)
        found = []
        for pattern, says in FORBIDDEN_SQL:
            match = pattern.search(sql)
            if match:
                found.append(f"{line}: {name}() " + says.format(*(g.upper() for g in match.groups())))
        return found
    return []


def check_source(source: str) -> list[str]:
    """Return what a migration's upgrade() does that breaks expand-then-contract ([] when it keeps the rule).

    A docstring beginning ``Contract:`` or ``Needs maintenance mode:`` exempts the migration.
    Calls from upgrade() to functions defined in the same file are followed.
    """
    tree = ast.parse(source)
    docstring = (ast.get_docstring(tree) or "").lstrip()
    if docstring.startswith(EXEMPT_PREFIXES):
        return []
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    if "upgrade" not in functions:
        return ["no upgrade() function"]
    problems: list[str] = []
    seen: set[str] = set()
    waiting = ["upgrade"]
    while waiting:
        name = waiting.pop()
        if name in seen:
            continue
        seen.add(name)
        for node in ast.walk(functions[name]):
            if not isinstance(node, ast.Call):
                continue
            problems += _problems_in_call(node)
            if isinstance(node.func, ast.Name) and node.func.id in functions:
                waiting.append(node.func.id)
    return problems


def _revision(path: Path) -> str:
    return path.name.split("_", 1)[0]


def _migration_files() -> list[Path]:
    return sorted(path for path in VERSIONS.glob("[0-9]*.py"))


def test_every_migration_is_either_grandfathered_or_under_the_rule():
    """Each revision before 0016 is listed as written before the rule; none after it may be."""
    revisions = [_revision(path) for path in _migration_files()]
    assert FIRST_RULED in revisions
    before = [revision for revision in revisions if revision < FIRST_RULED]
    assert before == sorted(GRANDFATHERED), "revisions before the rule changed: a migration was added out of order"
    assert not [revision for revision in revisions if revision >= FIRST_RULED and revision in GRANDFATHERED]


@pytest.mark.parametrize("path", [path for path in _migration_files() if _revision(path) >= FIRST_RULED],
                         ids=lambda path: path.name)
def test_migrations_only_expand_unless_they_say_otherwise(path):
    """upgrade() adds and backfills only, or its docstring begins 'Contract:' or 'Needs maintenance mode:'."""
    problems = check_source(path.read_text(encoding="utf-8"))
    assert problems == [], (
        f"{path.name} takes away or reshapes something the previous release still reads: {problems}. "
        "Split it: add now, remove in a later release (docs/deployment.md, 'Writing migrations'); or begin its "
        "docstring with 'Contract:' or 'Needs maintenance mode:' and say so in the release notes.")


# --- the checker itself catches each forbidden form ----------------------------------------------------------

HEADER = '"""{doc}\n\nRevision ID: 9999\n"""\nfrom alembic import op\nimport sqlalchemy as sa\n\n'


def fake(body: str, doc: str = "Something new.") -> str:
    """A migration's source with the given upgrade() body (indented); a line '---' starts module-level code."""
    body, _, module_level = body.partition("\n---\n")
    lines = "\n".join("    " + line for line in body.strip("\n").splitlines())
    return (HEADER.format(doc=doc) + f"def upgrade():\n{lines}\n\n\ndef downgrade():\n    op.drop_table('x')\n\n\n"
            + module_level)


FORBIDDEN = {
    "drop table": "op.drop_table('listing')",
    "drop column in batch": "with op.batch_alter_table('listing') as batch_op:\n    batch_op.drop_column('summary')",
    "drop column": "op.drop_column('listing', 'summary')",
    "rename table": "op.rename_table('listing', 'service')",
    "rename column": "op.alter_column('listing', 'summary', new_column_name='short_description')",
    "change type": "with op.batch_alter_table('listing') as batch_op:\n"
                   "    batch_op.alter_column('min_age', type_=sa.String(10))",
    "not null without default": "op.alter_column('listing', 'summary', nullable=False)",
    "raw drop column": "op.execute('ALTER TABLE listing DROP COLUMN summary')",
    "raw drop table in text()": "op.execute(sa.text(\"DROP TABLE old_things\"))",
    "raw rename through the bind": "bind = op.get_bind()\nbind.execute(sa.text('ALTER TABLE a RENAME TO b'))",
    "raw type change split over strings": "op.execute('ALTER TABLE listing ALTER COLUMN min_age '\n"
                                          "           'TYPE varchar(10)')",
    "raw set not null": "op.execute('ALTER TABLE listing ALTER COLUMN summary SET NOT NULL')",
    "in a helper upgrade calls": "_tidy()\n---\ndef _tidy():\n    op.drop_table('old')\n",
}

ALLOWED = {
    "add nullable column": "with op.batch_alter_table('listing') as batch_op:\n"
                           "    batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))",
    "add column with server default": "op.add_column('listing', sa.Column('n', sa.Integer(), "
                                      "server_default='0', nullable=False))",
    "not null with a server default": "op.alter_column('listing', 'n', nullable=False, server_default='0')",
    "make nullable": "op.alter_column('listing', 'summary', nullable=True)",
    "new table and index": "op.create_table('thing', sa.Column('id', sa.Integer(), primary_key=True))\n"
                           "op.create_index('ix_thing', 'thing', ['id'])",
    "backfill": "op.execute(\"UPDATE listing SET note = '' WHERE note IS NULL\")",
    "drop an index": "op.drop_index('ix_old')",
}


@pytest.mark.parametrize("name", sorted(FORBIDDEN))
def test_the_checker_catches_each_forbidden_form(name):
    """Each way of taking something away is reported, with its line."""
    source = fake(FORBIDDEN[name])
    problems = check_source(source)
    assert problems and all(problem.startswith("line ") for problem in problems), name


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_the_checker_lets_expansions_through(name):
    """Adding, backfilling, relaxing and indexing are fine; a downgrade may drop what it likes."""
    assert check_source(fake(ALLOWED[name])) == []


@pytest.mark.parametrize("doc", ["Contract: drop listing.weekday, unread since 0014's release.",
                                 "Needs maintenance mode: listing ids change type."])
def test_a_docstring_saying_so_exempts_a_migration(doc):
    """A migration that cannot expand says so first thing, and the checker lets it be."""
    body = FORBIDDEN["drop column in batch"]
    assert check_source(fake(body, doc=doc)) == []
    assert check_source(fake(body, doc="Tidy up. Contract: not at the start, so not exempt.")) != []
