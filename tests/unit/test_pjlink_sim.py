"""The simulated projector's behaviour, command by command, on a fake clock and without a socket."""

from __future__ import annotations

import pytest

from devices.projector.sim import SimProjector
from tests.fakes import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sim(clock: FakeClock) -> SimProjector:
    return SimProjector(warmup_s=30, cooldown_s=60, clock=clock, lamp_hours=100.0)


def test_power_cycle_and_busy_rules(sim: SimProjector, clock: FakeClock) -> None:
    assert sim.handle("%1POWR ?") == "%1POWR=0"
    assert sim.handle("%1POWR 1") == "%1POWR=OK"
    assert sim.handle("%1POWR ?") == "%1POWR=3"
    assert sim.handle("%1POWR 1") == "%1POWR=OK"  # already warming: fine
    assert sim.handle("%1POWR 0") == "%1POWR=ERR3"  # not while warming up
    clock.advance(29.9)
    assert sim.power == "warming"
    clock.advance(0.1)
    assert sim.handle("%1POWR ?") == "%1POWR=1"
    assert sim.handle("%1POWR 0") == "%1POWR=OK"
    assert sim.handle("%1POWR ?") == "%1POWR=2"
    assert sim.handle("%1POWR 1") == "%1POWR=ERR3"  # not while cooling down
    clock.advance(60)
    assert sim.handle("%1POWR ?") == "%1POWR=0"
    assert sim.busy_replies == 2
    assert sim.handle("%1POWR 7") == "%1POWR=ERR2"


def test_lamp_counts_while_lit_filter_while_the_fan_runs(
    sim: SimProjector, clock: FakeClock
) -> None:
    clock.advance(3600)  # off: nothing counts
    assert sim.handle("%1LAMP ?") == "%1LAMP=100 0"
    sim.handle("%1POWR 1")
    clock.advance(30 + 2 * 3600)  # warm-up, then two hours on, in one step
    assert sim.lamp_hours == pytest.approx(102 + 30 / 3600)
    assert sim.handle("%1LAMP ?") == "%1LAMP=102 1"
    sim.handle("%1POWR 0")
    clock.advance(5 * 3600)  # 60 s cooling, then off
    assert sim.lamp_hours == pytest.approx(102 + 30 / 3600)
    assert sim.filter_hours == pytest.approx((30 + 2 * 3600 + 60) / 3600)
    assert sim.handle("%2FILT ?") == "%2FILT=2"


def test_inputs_and_mute_need_the_projector_on(sim: SimProjector, clock: FakeClock) -> None:
    assert sim.handle("%1INPT 31") == "%1INPT=ERR3"
    assert sim.handle("%1AVMT 31") == "%1AVMT=ERR3"
    sim.handle("%1POWR 1")
    clock.advance(30)
    assert sim.handle("%1INPT 32") == "%1INPT=OK"
    assert sim.handle("%2INPT ?") == "%2INPT=32"
    assert sim.handle("%1INPT 33") == "%1INPT=ERR2"  # no such input
    assert sim.handle("%1INST ?") == "%1INST=11 31 32 51"
    assert sim.handle("%1AVMT 11") == "%1AVMT=OK"
    assert sim.handle("%1AVMT ?") == "%1AVMT=11"
    assert sim.handle("%1AVMT 21") == "%1AVMT=OK"
    assert sim.handle("%1AVMT ?") == "%1AVMT=31"
    assert sim.handle("%1AVMT 30") == "%1AVMT=OK"
    assert sim.handle("%1AVMT ?") == "%1AVMT=30"
    sim.handle("%1AVMT 31")
    sim.handle("%1POWR 0")
    assert (sim.picture_muted, sim.sound_muted) == (False, False)  # switched off: unmuted


def test_class_2_inputs_and_queries(clock: FakeClock) -> None:
    two = SimProjector(inputs=["31", "3A", "61"], warmup_s=0, clock=clock)
    one = SimProjector(pjlink_class=1, inputs=["31", "3A"], warmup_s=0, clock=clock)
    for sim in (one, two):
        sim.handle("%1POWR 1")
    assert two.handle("%2INPT 3A") == "%2INPT=OK"
    assert two.handle("%1INPT 3A") == "%1INPT=ERR2"  # class 1 has indices 1-9 only
    assert two.handle("%2INST ?") == "%2INST=31 3A 61"
    assert two.handle("%2INNM ?3A") == "%2INNM=INPUT 3A"
    assert two.handle("%1CLSS ?") == "%1CLSS=2"
    assert one.handle("%1CLSS ?") == "%1CLSS=1"
    assert one.handle("%2INPT 3A") == "%2INPT=ERR1"  # a class 1 projector knows no %2
    assert one.handle("%2FILT ?") == "%2FILT=ERR1"
    assert one.handle("%1INST ?") == "%1INST=31"


def test_identity_errors_and_unknown_commands(sim: SimProjector) -> None:
    assert sim.handle("%1NAME ?") == "%1NAME=SIM-PROJECTOR"
    assert sim.handle("%1INF1 ?") == "%1INF1=smartclass"
    assert sim.handle("%1INF2 ?") == "%1INF2=SimProjector 1"
    assert sim.handle("%1ERST ?") == "%1ERST=000000"
    sim.set_error("lamp", "warning")
    sim.set_error("other", "error")
    assert sim.handle("%1ERST ?") == "%1ERST=010002"
    assert sim.handle("%1XXXX ?") == "%1XXXX=ERR1"
    assert sim.handle("%1NAME x") == "%1NAME=ERR2"
    assert sim.handle("junk") == "%1ERR1"
    with pytest.raises(ValueError, match="unknown error category"):
        sim.set_error("smoke", "error")


def test_inputs_must_be_pjlink_codes() -> None:
    with pytest.raises(ValueError, match="input codes"):
        SimProjector(inputs=["hdmi1"])
