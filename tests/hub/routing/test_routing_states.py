"""The conversation state machine and the assignment policies, checked by properties."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.domain import Agent
from hub.routing.assignment import MAX_PRIORITY, pick_agent, sla_priority
from hub.routing.states import (
    Assign,
    CustomerWrote,
    Handoff,
    InvalidTransition,
    Resolve,
    RoutingState,
    Unassign,
    apply,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
WINDOW = timedelta(hours=1)

actions = st.one_of(
    st.builds(Handoff, st.sampled_from(["customer_request", "low_confidence"])),
    st.builds(Assign, st.sampled_from(["ann", "bob"])),
    st.just(Unassign()),
    st.builds(Resolve, st.just(T0)),
    st.builds(
        CustomerWrote,
        st.sampled_from([T0 + timedelta(minutes=5), T0 + WINDOW * 2]),
        st.just(WINDOW),
    ),
)


# Every stage change the rules make, written out here rather than read from the code.
STAGE_CHANGES = {
    ("bot", "open"),  # handoff
    ("bot", "assigned"),  # an agent claims a bot conversation
    ("bot", "resolved"),
    ("open", "assigned"),
    ("open", "resolved"),
    ("assigned", "open"),  # unassigned
    ("assigned", "resolved"),
    ("pending", "open"),  # unassigned while pending
    ("pending", "resolved"),
    ("resolved", "bot"),  # the customer writes again: the bot had it
    ("resolved", "assigned"),  # the customer writes again: back to its agent
}

ANN_AT_T0 = RoutingState("resolved", "ann", resolved_at=T0)
STATES = {
    "bot": RoutingState("bot"),
    "open": RoutingState("open"),
    "assigned": RoutingState("open", "ann"),
    "pending": RoutingState("pending"),
    "pending with ann": RoutingState("pending", "ann"),
    "resolved from the bot": RoutingState("resolved", resolved_at=T0),
    "resolved from ann": ANN_AT_T0,
}
ACTIONS = {
    "handoff": Handoff("customer_request"),
    "assign zoe": Assign("zoe"),
    "unassign": Unassign(),
    "resolve": Resolve(T0 + WINDOW),
    "customer writes soon": CustomerWrote(T0 + WINDOW / 2, WINDOW),
    "customer writes late": CustomerWrote(T0 + WINDOW * 2, WINDOW),
}
INVALID = None
LATER = T0 + WINDOW
# (state, action) -> (status, assignee, resolved_at) after it, or INVALID.
EXPECTED: dict[tuple[str, str], tuple[str, str | None, datetime | None] | None] = {
    ("bot", "handoff"): ("open", None, None),
    ("bot", "assign zoe"): ("open", "zoe", None),
    ("bot", "unassign"): INVALID,
    ("bot", "resolve"): ("resolved", None, LATER),
    ("bot", "customer writes soon"): ("bot", None, None),
    ("bot", "customer writes late"): ("bot", None, None),
    ("open", "handoff"): INVALID,
    ("open", "assign zoe"): ("open", "zoe", None),
    ("open", "unassign"): INVALID,
    ("open", "resolve"): ("resolved", None, LATER),
    ("open", "customer writes soon"): ("open", None, None),
    ("open", "customer writes late"): ("open", None, None),
    ("assigned", "handoff"): INVALID,
    ("assigned", "assign zoe"): ("open", "zoe", None),
    ("assigned", "unassign"): ("open", None, None),
    ("assigned", "resolve"): ("resolved", "ann", LATER),
    ("assigned", "customer writes soon"): ("open", "ann", None),
    ("assigned", "customer writes late"): ("open", "ann", None),
    ("pending", "handoff"): INVALID,
    ("pending", "assign zoe"): ("pending", "zoe", None),
    ("pending", "unassign"): INVALID,
    ("pending", "resolve"): ("resolved", None, LATER),
    ("pending", "customer writes soon"): ("pending", None, None),
    ("pending", "customer writes late"): ("pending", None, None),
    ("pending with ann", "handoff"): INVALID,
    ("pending with ann", "assign zoe"): ("pending", "zoe", None),
    ("pending with ann", "unassign"): ("open", None, None),
    ("pending with ann", "resolve"): ("resolved", "ann", LATER),
    ("pending with ann", "customer writes soon"): ("pending", "ann", None),
    ("pending with ann", "customer writes late"): ("pending", "ann", None),
    ("resolved from the bot", "handoff"): INVALID,
    ("resolved from the bot", "assign zoe"): INVALID,
    ("resolved from the bot", "unassign"): INVALID,
    ("resolved from the bot", "resolve"): INVALID,
    ("resolved from the bot", "customer writes soon"): ("bot", None, None),
    ("resolved from the bot", "customer writes late"): ("resolved", None, T0),
    ("resolved from ann", "handoff"): INVALID,
    ("resolved from ann", "assign zoe"): INVALID,
    ("resolved from ann", "unassign"): INVALID,
    ("resolved from ann", "resolve"): INVALID,
    ("resolved from ann", "customer writes soon"): ("open", "ann", None),
    ("resolved from ann", "customer writes late"): ("resolved", "ann", T0),
}


def test_the_table_covers_every_state_and_action() -> None:
    assert set(EXPECTED) == {(s, a) for s in STATES for a in ACTIONS}


@pytest.mark.parametrize(("state_name", "action_name"), sorted(EXPECTED))
def test_each_action_from_each_state_does_what_the_table_says(
    state_name: str, action_name: str
) -> None:
    state, action = STATES[state_name], ACTIONS[action_name]
    expected = EXPECTED[(state_name, action_name)]
    if expected is INVALID:
        with pytest.raises(InvalidTransition):
            apply(state, action)  # type: ignore[arg-type]
        return
    new = apply(state, action)  # type: ignore[arg-type]
    assert (new.status, new.assignee, new.resolved_at) == expected


@given(st.lists(actions, max_size=30))
def test_every_reachable_change_is_an_expected_transition(sequence: list[object]) -> None:
    state = RoutingState("bot")
    for action in sequence:
        try:
            new = apply(state, action)  # type: ignore[arg-type]
        except InvalidTransition:
            continue
        if new.stage != state.stage:
            assert (state.stage, new.stage) in STAGE_CHANGES
        # Invariants: resolved keeps when it happened; the bot's conversations have no agent.
        assert (new.status == "resolved") == (new.resolved_at is not None)
        if new.status == "bot":
            assert new.assignee is None
        state = new


@given(st.lists(actions, max_size=30))
def test_a_claim_always_lands_with_the_claimer_unless_resolved(sequence: list[object]) -> None:
    state = RoutingState("bot")
    for action in sequence:
        with contextlib.suppress(InvalidTransition):
            state = apply(state, action)  # type: ignore[arg-type]
        if state.status != "resolved":
            claimed = apply(state, Assign("zoe"))
            assert claimed.assignee == "zoe" and claimed.stage in ("assigned", "pending")


def test_handoff_only_from_the_bot() -> None:
    assert apply(RoutingState("bot"), Handoff("x")).stage == "open"
    for status in ("open", "pending", "resolved"):
        with pytest.raises(InvalidTransition):
            apply(RoutingState(status), Handoff("x"))  # type: ignore[arg-type]


def test_reopen_inside_the_window_goes_back_to_its_owner() -> None:
    human = apply(
        apply(RoutingState("open", "ann"), Resolve(T0)), CustomerWrote(T0 + WINDOW, WINDOW)
    )
    assert human.stage == "assigned" and human.assignee == "ann"
    bot = apply(apply(RoutingState("bot"), Resolve(T0)), CustomerWrote(T0 + WINDOW / 2, WINDOW))
    assert bot.stage == "bot"
    late = apply(RoutingState("resolved", resolved_at=T0), CustomerWrote(T0 + WINDOW * 2, WINDOW))
    assert late.stage == "resolved"


def agent(agent_id: str, *, online: bool = True, capacity: int = 2) -> Agent:
    return Agent(id=agent_id, online=online, capacity=capacity, created_at=T0)


def test_least_loaded_picks_the_emptiest_online_agent_under_capacity() -> None:
    agents = [agent("ann"), agent("bob"), agent("cy", online=False), agent("dee", capacity=1)]
    assert pick_agent(agents, {"ann": 1, "bob": 0}, "least_loaded", None).id == "bob"  # type: ignore[union-attr]
    assert pick_agent(agents, {"ann": 1, "bob": 1, "dee": 1}, "least_loaded", None).id == "ann"  # type: ignore[union-attr]
    assert pick_agent(agents, {"ann": 2, "bob": 2, "dee": 1}, "least_loaded", None) is None


def test_round_robin_takes_turns_and_skips_the_full_and_the_offline() -> None:
    agents = [agent("ann"), agent("bob"), agent("cy", online=False), agent("dee")]
    order = []
    last = None
    for _ in range(4):
        chosen = pick_agent(agents, {}, "round_robin", last)
        assert chosen is not None
        order.append(chosen.id)
        last = chosen.id
    assert order == ["ann", "bob", "dee", "ann"]
    assert pick_agent(agents, {"dee": 2}, "round_robin", "bob").id == "ann"  # type: ignore[union-attr]


@given(st.floats(min_value=0, max_value=1e6), st.floats(min_value=1, max_value=1e4))
def test_sla_priority_rises_with_waiting_and_is_bounded(waited: float, sla: float) -> None:
    level = sla_priority(waited, sla)
    assert 0 <= level <= MAX_PRIORITY
    assert (level == 0) == (waited < sla)
    assert sla_priority(waited + sla, sla) >= level
