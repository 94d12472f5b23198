from tuner.states import ExperimentState, TrialState


def test_finished_states_are_final() -> None:
    for state in TrialState:
        if state.is_finished:
            assert not state.can_become(TrialState.RUNNING)
            assert state.can_become(state)


def test_trial_lifecycle() -> None:
    assert TrialState.CREATED.can_become(TrialState.RUNNING)
    assert TrialState.RUNNING.can_become(TrialState.EARLY_STOPPED)
    assert not TrialState.SUCCEEDED.can_become(TrialState.FAILED)
    assert TrialState.METRICS_UNAVAILABLE.counts_as_failed
    assert not TrialState.EARLY_STOPPED.counts_as_failed
    assert {s for s in TrialState if s.is_active} == {TrialState.CREATED, TrialState.RUNNING}


def test_finished_experiment_only_restarts() -> None:
    assert ExperimentState.SUCCEEDED.can_become(ExperimentState.RESTARTING)
    assert not ExperimentState.FAILED.can_become(ExperimentState.RUNNING)
    assert ExperimentState.RUNNING.can_become(ExperimentState.SUCCEEDED)
