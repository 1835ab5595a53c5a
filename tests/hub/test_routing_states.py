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
    ALLOWED,
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


@given(st.lists(actions, max_size=30))
def test_every_reachable_change_is_an_allowed_transition(sequence: list[object]) -> None:
    state = RoutingState("bot")
    for action in sequence:
        try:
            new = apply(state, action)  # type: ignore[arg-type]
        except InvalidTransition:
            continue
        if new.stage != state.stage:
            assert new.stage in ALLOWED[state.stage]
        # Invariants: resolved keeps when it happened; only open/pending carry an assignee.
        assert (new.status == "resolved") == (new.resolved_at is not None)
        if new.assignee is not None:
            assert new.status in ("open", "pending", "resolved")
        if new.status == "bot":
            assert new.assignee is None or new.stage == "bot"
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
