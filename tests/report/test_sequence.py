"""The fixed-sequence procedure of the primary questions: each at the full 5% in the declared order, and
the first not shown ends it."""

from __future__ import annotations

from distilbench.report.sequence import NOT_ASKED, NOT_SHOWN, NOT_TESTED, SHOWN, fixed_sequence


def test_it_stops_at_the_first_question_not_shown():
    # the third p is tiny, yet after a failure no level is left to test it at
    assert fixed_sequence([0.01, 0.20, 0.0001]) == [SHOWN, NOT_SHOWN, NOT_TESTED]


def test_each_question_gets_the_full_five_percent_while_the_ones_before_hold():
    # 0.04 three times: Holm over three would need 0.0167 for the first; the sequence shows all three
    assert fixed_sequence([0.04, 0.04, 0.04]) == [SHOWN, SHOWN, SHOWN]


def test_five_percent_itself_is_not_shown():
    assert fixed_sequence([0.05, 0.01]) == [NOT_SHOWN, NOT_TESTED]


def test_a_question_not_asked_here_spends_nothing_and_the_sequence_goes_on():
    assert fixed_sequence([None, 0.01, None, 0.06, 0.01]) == [
        NOT_ASKED,
        SHOWN,
        NOT_ASKED,
        NOT_SHOWN,
        NOT_TESTED,
    ]


def test_no_questions_no_answers():
    assert fixed_sequence([]) == []
