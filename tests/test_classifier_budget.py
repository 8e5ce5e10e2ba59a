"""The training time budget shortens the learning-rate schedule, and lengthens it back."""
from __future__ import annotations

from types import SimpleNamespace

import classifier.fit as fit


def _run(monkeypatch, durations, seconds, epochs=20, steps=10):
    clock = {"now": 0.0}
    monkeypatch.setattr(fit, "budget_clock", lambda: clock["now"])
    schedule = fit.WarmupCosine(1e-3, steps, steps * epochs)
    budget = fit.TimeBudget(seconds, schedule, steps, epochs, started=0.0)
    budget.set_model(SimpleNamespace(stop_training=False))
    plans = []
    for epoch, duration in enumerate(durations):
        budget.on_epoch_begin(epoch)
        clock["now"] += duration
        budget.on_epoch_end(epoch)
        plans.append(budget.planned)
        if budget.model.stop_training:
            break
    return plans, float(schedule.total.numpy())


def test_slow_first_epoch_does_not_cut_the_run_short(monkeypatch):
    # 150 s for the first epoch (tracing), 100 s after: 1,500 s fit 14 epochs, not 10.
    plans, total = _run(monkeypatch, [150] + [100] * 30, seconds=1500)
    assert plans[0] == 10 and plans[-1] == 14 and len(plans) == 14
    assert total == 14 * 10


def test_fast_machine_keeps_the_plan(monkeypatch):
    plans, total = _run(monkeypatch, [10] * 30, seconds=1500, epochs=12)
    assert plans == [12] * 12 and total == 120
