"""Median stopping and ASHA decisions on hand-made series."""

from controllers.earlystopping import Asha, MedianStop, Progress


def finished(name: str, values: list[float]) -> Progress:
    return Progress(name, [(i + 1, v) for i, v in enumerate(values)], finished=True)


def running(name: str, values: list[float]) -> Progress:
    return Progress(name, [(i + 1, v) for i, v in enumerate(values)], finished=False)


PEERS = [
    finished("a", [0.5, 0.6, 0.7, 0.8, 0.9]),
    finished("b", [0.4, 0.5, 0.6, 0.7]),
    finished("c", [0.3] * 6),
]


def test_median_stop_waits_for_start_step_and_enough_trials() -> None:
    stopper = MedianStop(min_trials_required=3, start_step=4)
    assert stopper.should_stop(running("t", [0.1, 0.1, 0.1]), PEERS, maximize=True) is None
    assert stopper.should_stop(running("t", [0.1] * 4), PEERS[:2], maximize=True) is None
    decision = stopper.should_stop(running("t", [0.1] * 4), PEERS, maximize=True)
    assert decision is not None
    assert decision.step == 4 and decision.threshold == 0.7  # median of 0.8, 0.7, 0.3
    assert "median" in decision.message


def test_median_stop_keeps_good_trials_and_minimisation() -> None:
    stopper = MedianStop(min_trials_required=2, start_step=2)
    assert stopper.should_stop(running("t", [0.9, 0.95]), PEERS, maximize=True) is None
    # minimising: lower is better; 0.45 by step 2 is better than the median of best-so-far (0.4, 0.3, 0.5)
    assert stopper.should_stop(running("t", [0.6, 0.35]), PEERS, maximize=False) is None
    assert stopper.should_stop(running("t", [0.6, 0.55]), PEERS, maximize=False) is not None


def test_median_stop_ignores_running_peers_and_short_peers() -> None:
    stopper = MedianStop(min_trials_required=1, start_step=5)
    # only "a" and "c" reached step 5; "b" (4 steps) does not count; a running peer never counts
    others = [*PEERS, running("r", [9.0] * 8)]
    decision = stopper.should_stop(running("t", [0.2] * 5), others, maximize=True)
    assert decision is not None and decision.threshold == (0.9 + 0.3) / 2


def test_settings_are_validated_with_the_spec() -> None:
    from tuner.spec.common import AlgorithmSetting, EarlyStoppingSpec
    from tuner.spec.early_stopping_rules import check_early_stopping

    def problems(name: str, settings: dict[str, str]) -> list[str]:
        spec = EarlyStoppingSpec(
            algorithm_name=name,
            algorithm_settings=[AlgorithmSetting(name=k, value=v) for k, v in settings.items()],
        )
        return [str(p) for p in check_early_stopping(spec)]

    assert any(
        "min_trials" in m and "not a setting of medianstop" in m
        for m in problems("medianstop", {"min_trials": "3"})
    )
    assert any("at least 1" in m for m in problems("medianstop", {"start_step": "0"}))
    assert any("at least 2" in m for m in problems("asha", {"reduction_factor": "1"}))
    assert (
        problems("asha", {"min_resource": "2", "reduction_factor": "4", "min_early_stopping_rate": "0"}) == []
    )
    stopper = Asha.from_settings({"min_resource": "2", "reduction_factor": "4"})
    assert (stopper.min_resource, stopper.reduction_factor, stopper.min_early_stopping_rate) == (2, 4, 0)
    assert MedianStop.from_settings({}).start_step == 4


def test_asha_rungs() -> None:
    asha = Asha(min_resource=1, reduction_factor=3)
    assert asha.rung_steps(30) == [1, 3, 9, 27]
    assert Asha(min_resource=2, reduction_factor=2, min_early_stopping_rate=1).rung_steps(20) == [4, 8, 16]


def test_asha_keeps_top_fraction_at_each_rung() -> None:
    asha = Asha(min_resource=1, reduction_factor=3)
    others = [finished(f"p{i}", [v]) for i, v in enumerate([0.1, 0.2, 0.3, 0.4, 0.5])]
    # 6 competitors at rung 1 -> keep the best 2 (0.9 and 0.5)
    assert asha.should_stop(running("t", [0.9]), others, maximize=True) is None
    decision = asha.should_stop(running("t", [0.35]), others, maximize=True)
    assert decision is not None and decision.threshold == 0.4
    # a step between rungs is not judged again
    assert asha.should_stop(running("t", [0.35, 0.36]), others, maximize=True) is None


def test_asha_with_few_competitors_only_the_best_goes_on() -> None:
    asha = Asha(min_resource=1, reduction_factor=3)
    assert asha.should_stop(running("t", [1.0]), [finished("a", [2.0])], maximize=False) is None
    assert asha.should_stop(running("t", [3.0]), [finished("a", [2.0])], maximize=False) is not None
