"""Timeline derivation: every gate opens at its milestone and closes at its closing milestone (+ grace)."""

import datetime as dt

import pytest

from challenges import timeline as T

UTC = dt.UTC
D = {
    T.K_WEBSITE: dt.datetime(2021, 1, 8, 1, tzinfo=UTC),
    T.K_TRAIN_DATA: dt.datetime(2021, 1, 16, 1, tzinfo=UTC),
    T.K_VALIDATION: dt.datetime(2021, 1, 21, 1, tzinfo=UTC),
    T.K_TEST_DATA: dt.datetime(2021, 3, 16, 0, tzinfo=UTC),
    T.K_FINAL_DEADLINE: dt.datetime(2021, 3, 21, 0, tzinfo=UTC),
    T.K_FACTSHEET_DEADLINE: dt.datetime(2021, 3, 22, 0, tzinfo=UTC),
    T.K_PRELIMINARY: dt.datetime(2021, 3, 23, 0, tzinfo=UTC),
    T.K_PAPERS: dt.datetime(2021, 4, 3, 0, tzinfo=UTC),
}
TL = T.Timeline(milestones=D)
EPS = dt.timedelta(microseconds=1)


def test_registration_opens_with_website_and_closes_at_final_deadline():
    assert not T.registration_open(TL, D[T.K_WEBSITE] - EPS)
    assert T.registration_open(TL, D[T.K_WEBSITE])
    assert T.registration_open(TL, D[T.K_FINAL_DEADLINE] - EPS)
    assert not T.registration_open(TL, D[T.K_FINAL_DEADLINE])
    assert T.teams_editable(TL, D[T.K_FINAL_DEADLINE] - EPS)
    assert not T.teams_editable(TL, D[T.K_FINAL_DEADLINE])


def test_phases_at_their_edges():
    assert T.phase_open(TL, D[T.K_VALIDATION] - EPS) is None
    assert T.phase_open(TL, D[T.K_VALIDATION]) == T.Phase.VALIDATION
    assert T.phase_open(TL, D[T.K_TEST_DATA] - EPS) == T.Phase.VALIDATION
    assert T.phase_open(TL, D[T.K_TEST_DATA]) == T.Phase.FINAL
    assert T.phase_open(TL, D[T.K_FINAL_DEADLINE] - EPS) == T.Phase.FINAL
    assert T.phase_open(TL, D[T.K_FINAL_DEADLINE]) is None
    assert T.accepts_submissions(TL, "validation", D[T.K_VALIDATION])
    assert not T.accepts_submissions(TL, "final", D[T.K_VALIDATION])
    assert T.phase_closes_at(TL, "validation") == D[T.K_TEST_DATA]
    assert T.phase_closes_at(TL, "final") == D[T.K_FINAL_DEADLINE]


def test_grace_extends_closing_gates_only():
    tl = T.Timeline(milestones=D, grace=dt.timedelta(minutes=15))
    assert T.phase_open(tl, D[T.K_FINAL_DEADLINE] + dt.timedelta(minutes=15) - EPS) == T.Phase.FINAL
    assert T.phase_open(tl, D[T.K_FINAL_DEADLINE] + dt.timedelta(minutes=15)) is None
    assert T.phase_open(tl, D[T.K_VALIDATION] - EPS) is None  # opening is not moved
    assert T.factsheets_open(tl, D[T.K_FACTSHEET_DEADLINE] + dt.timedelta(minutes=14))
    assert T.phase_closes_at(tl, "final") == D[T.K_FINAL_DEADLINE] + dt.timedelta(minutes=15)


def test_downloads_by_split_at_their_milestones():
    assert T.downloadable_splits(TL, D[T.K_TRAIN_DATA] - EPS) == set()
    assert T.downloadable_splits(TL, D[T.K_TRAIN_DATA]) == {T.Split.TRAIN, T.Split.VALIDATION_INPUT}
    assert T.Split.TEST_INPUT not in T.downloadable_splits(TL, D[T.K_TEST_DATA] - EPS)
    late = T.downloadable_splits(TL, D[T.K_PAPERS] + dt.timedelta(days=365))
    assert late == {T.Split.TRAIN, T.Split.VALIDATION_INPUT, T.Split.TEST_INPUT}
    assert not late & T.GROUND_TRUTH_SPLITS  # ground truth never, at any time
    assert T.downloadable_splits(TL, D[T.K_WEBSITE] - EPS, is_organiser=True) == set(T.Split)
    assert T.split_released_at(TL, "test_input") == D[T.K_TEST_DATA]
    assert T.split_released_at(TL, "validation_gt") is None


def test_factsheets_window():
    assert not T.factsheets_open(TL, D[T.K_TEST_DATA] - EPS)
    assert T.factsheets_open(TL, D[T.K_TEST_DATA])
    assert T.factsheets_open(TL, D[T.K_FACTSHEET_DEADLINE] - EPS)
    assert not T.factsheets_open(TL, D[T.K_FACTSHEET_DEADLINE])


@pytest.mark.parametrize(("phase", "kind"), [("validation", T.K_VALIDATION), ("final", T.K_PRELIMINARY)])
def test_leaderboard_visibility(phase, kind):
    assert not T.leaderboard_visible(TL, phase, D[kind] - EPS)
    assert T.leaderboard_visible(TL, phase, D[kind])
    assert T.leaderboard_visible(TL, phase, D[T.K_WEBSITE] - EPS, is_organiser=True)


def test_missing_milestones_never_happen():
    tl = T.Timeline(milestones={T.K_WEBSITE: D[T.K_WEBSITE], T.K_VALIDATION: D[T.K_VALIDATION]})
    far = D[T.K_PAPERS] + dt.timedelta(days=1000)
    assert T.phase_open(tl, far) == T.Phase.VALIDATION  # no test data date: validation stays open
    assert T.registration_open(tl, far)  # no final deadline: never closes
    assert T.downloadable_splits(tl, far) == set()  # no data date: nothing released
    assert not T.leaderboard_visible(tl, "final", far)
    assert T.phase_open(T.Timeline(), far) is None


def test_entries_mark_past_and_next():
    now = D[T.K_TEST_DATA] + dt.timedelta(days=1)
    entries = T.entries(TL, now)
    assert [e.kind for e in entries if e.past] == [T.K_WEBSITE, T.K_TRAIN_DATA, T.K_VALIDATION, T.K_TEST_DATA]
    assert [e.kind for e in entries if e.is_next] == [T.K_FINAL_DEADLINE]
    assert T.next_milestone(TL, now) == (T.K_FINAL_DEADLINE, D[T.K_FINAL_DEADLINE])
    assert T.next_milestone(TL, D[T.K_PAPERS]) is None
