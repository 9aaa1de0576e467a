"""Following the change feed: a cursor never skips a change that becomes visible late, and settles gaps.

Pure tests of ``local_offer.search.cursor``; ``test_two_servers.py`` runs it for real.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from local_offer.search.cursor import GRACE_SECONDS, Cursor

NOW = 1_800_000_000.0


def rows(*numbers: int, at: float = NOW) -> list[tuple[int, str, float]]:
    """Return change rows with these numbers, recorded at ``at``."""
    return [(seq, f"listing-{seq}", at) for seq in numbers]


def test_a_change_seen_before_a_lower_numbered_one_commits_leaves_the_gap_open():
    """10 is still being written when 11 is seen: 10 is applied when it appears, not skipped."""
    cursor = Cursor(through=9)
    cursor.mark(cursor.unapplied(rows(11)))
    cursor.settle(NOW)
    assert cursor.through == 9 and set(cursor.applied) == {11}
    assert [seq for seq, _id, _at in cursor.unapplied(rows(10, 11))] == [10]
    cursor.mark(rows(10))
    cursor.settle(NOW)
    assert cursor.through == 11 and cursor.applied == {}


def test_a_number_never_committed_is_given_up_once_the_change_after_it_is_old():
    """A rolled-back transaction leaves a gap for ever: the cursor moves past it after the grace period."""
    cursor = Cursor(through=9)
    cursor.mark(rows(11, at=NOW - GRACE_SECONDS + 5))
    cursor.settle(NOW)
    assert cursor.through == 9
    cursor.settle(NOW + 10)
    assert cursor.through == 11 and cursor.applied == {}


def test_after_reading_everything_counts_recent_rows_as_applied_and_keeps_recent_gaps_open():
    """A rebuild that read everything visible: old changes settled, a recent missing number still awaited."""
    visible = rows(1, 2, 3, at=NOW - 2 * GRACE_SECONDS) + rows(5, 6, at=NOW - 1)
    cursor = Cursor.after_reading_everything(3, visible, NOW)
    assert cursor.through == 3 and set(cursor.applied) == {5, 6}
    assert [seq for seq, _id, _at in cursor.unapplied(visible + rows(4))] == [4]


def test_a_cursor_survives_being_stored_and_refuses_what_is_not_one():
    """What the index folder keeps reads back the same; damaged data reads as no cursor at all."""
    cursor = Cursor(through=7, applied={9: NOW, 12: NOW + 1})
    assert Cursor.from_json(cursor.to_json()) == cursor
    for damaged in (None, {}, {"through": "x", "applied": []}, {"through": 1, "applied": [[1]]}, "text"):
        assert Cursor.from_json(damaged) is None


@settings(max_examples=200, deadline=None)
@given(order=st.permutations(list(range(1, 16))), lost=st.sets(st.integers(1, 15), max_size=4),
       batch=st.integers(1, 5))
def test_whatever_order_changes_commit_in_each_is_applied_exactly_once(order, lost, batch):
    """Changes 1..15 become visible in any order (some never: rolled back); a reader syncing after each few
    applies every visible one exactly once, and in the end has nothing left and a cursor past them all."""
    cursor, applied, visible = Cursor(), [], []
    for start in range(0, len(order), batch):
        visible += [seq for seq in order[start:start + batch] if seq not in lost]
        todo = cursor.unapplied(rows(*visible))
        applied += [seq for seq, _id, _at in todo]
        cursor.mark(todo)
        cursor.settle(NOW)
    assert sorted(applied) == sorted(set(range(1, 16)) - lost)
    assert cursor.unapplied(rows(*visible)) == []
    cursor.settle(NOW + GRACE_SECONDS + 1)
    assert cursor.through == max(set(range(1, 16)) - lost, default=0) and cursor.applied == {}
