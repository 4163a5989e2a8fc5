"""Every preset of every lesson does what its lesson says (issue 12).

A train preset reaches its `[target]` in its configured epochs on the CPU (the real training run);
a named train preset (`[presets.NAME]`) meets its `expect` (a failure shown on purpose). Every other
preset builds its tool's core object without error, through the same core functions the tool
screens call (`tui_lab.ui.tools` hands the preset to the screen; these are what the screens do with it).
"""

from __future__ import annotations

from dataclasses import asdict

import pytest

from tui_lab.lessons import TRAIN_TOOLS, load_lessons, outcome_problems, train_config_kwargs

LESSONS, _ = load_lessons()
CASES = [(lesson, name) for lesson in LESSONS for name in [None, *lesson.presets]]
IDS = [f"{lesson.id}:{name or 'preset'}" for lesson, name in CASES]
# param ids expected to fail until their lesson's content lands, with the reason
PENDING: dict[str, str] = {}


def _marks(case_id: str):
    return [pytest.mark.xfail(strict=False, reason=PENDING[case_id])] if case_id in PENDING else []


PARAMS = [pytest.param(lesson, name, id=case_id, marks=_marks(case_id)) for (lesson, name), case_id in zip(CASES, IDS)]


def run_train_preset(values: dict) -> tuple[list[dict], str]:
    from tui_lab import training as t

    config = t.TrainConfig(**{**train_config_kwargs(values), "device": "cpu"})
    epochs, status = [], "failed"
    for event in t.train(config):
        if isinstance(event, t.EpochEnd):
            epochs.append(asdict(event))
        elif isinstance(event, t.Finished):
            status = "finished"
        elif isinstance(event, t.Diverged):
            status = "diverged"
        elif isinstance(event, t.Failed):
            raise AssertionError(f"training failed: {event.message}")
    return epochs, status


def build_tool_object(tool: str, values: dict) -> None:
    """What the tool's screen builds from a preset, without the screen."""
    preset = dict(values)
    if tool in ("conv", "pool", "transposed"):
        from tui_lab import conv_steps as cs

        if tool != "conv":  # as tui_lab.ui.tools.build_tool_screen does
            preset.setdefault("mode", tool)
        preset.pop("step", None)
        cs.compute(cs.build_config(preset))
    elif tool == "shapes":
        from tui_lab.shapes import trace

        for spec in [preset["model"], *preset.get("compare", [])]:
            result = trace(spec, preset.get("input"), preset.get("dataset", "digits"))
            assert result.error is None, (spec, result.error)
    elif tool == "compare":
        from tui_lab.compare import CompareConfig, settings_from_lists

        lrs = preset.get("lr")
        config = CompareConfig(
            model=preset.get("model", "mlp"), dataset=preset.get("dataset", "digits"),
            epochs=preset.get("epochs", 3),
            runs=settings_from_lists(list(preset["optimizers"]), list(lrs) if isinstance(lrs, list) else lrs and [lrs],
                                     preset.get("momentum"), preset.get("weight_decay", 0.0)),
            batch_size=preset.get("batch_size", 64), seed=preset.get("seed", 0), device="cpu",
            model_options=dict(preset.get("model_options", {})))
        assert len(config.train_configs()) == len(preset["optimizers"])
    elif tool == "landscape":
        from tui_lab import landscapes as ls

        lr = preset.get("lr")
        run = ls.run_landscape(str(preset.get("function", "bowl")), list(preset.get("optimizers") or ["sgd"]),
                               None if lr is None else (list(lr) if isinstance(lr, list) else [lr]),
                               preset.get("steps"), preset.get("start"), momentum=preset.get("momentum"),
                               engine=str(preset.get("engine", "torch")))
        assert run.trajectories
    elif tool == "playground":
        from tui_lab.playground import config_from_preset

        config_from_preset(preset)
    elif tool == "snippets":
        from tui_lab.lessons import find_lesson

        assert find_lesson(preset.get("lesson", "")) is not None, preset
    elif tool == "gan":
        from tui_lab.gan import GanSession, config_from_preset as gan_config

        GanSession(gan_config(preset))  # what the screen builds; tests/test_gan.py runs the presets
    elif tool == "devices":
        from tui_lab.devices import list_devices

        assert list_devices()
    elif tool == "features":
        from tui_lab.features import sample_of

        x, label, classes = sample_of("digits", int(preset.get("sample", 0)))
        assert x.numel() > 0 and label in range(len(classes))
    elif tool == "attention":  # the screen's run, or else an untrained transformer on the preset's sample
        from tui_lab import attention as at
        from tui_lab.data import dataset_info
        from tui_lab.models import build_model

        tokens, target = at.sequence_sample("reverse", int(preset.get("sample", 0)))
        maps = at.explore(build_model("transformer", dataset_info("reverse")), tokens, target)
        assert len(maps.layers) == 2 and maps.target == tuple(target.tolist())
    else:  # pragma: no cover
        raise AssertionError(f"no core object known for tool {tool!r}")


@pytest.mark.parametrize("lesson, name", PARAMS)
def test_every_preset_does_what_its_lesson_says(lesson, name):
    values = lesson.preset_named(name)
    if lesson.tool not in TRAIN_TOOLS:
        build_tool_object(lesson.tool, values)
        return
    spec = lesson.target if name is None else lesson.presets[name].expect
    assert spec, f"{lesson.id}: a train preset states its target ([target]) or expect"
    epochs, status = run_train_preset(values)
    problems = outcome_problems(spec, epochs, status)
    assert problems == [], f"{lesson.id} preset {name or '[preset]'}: " + "; ".join(problems)


def test_every_train_lesson_states_a_target():
    assert [lesson.id for lesson in LESSONS if lesson.tool in TRAIN_TOOLS and not lesson.target] == []


def test_outcome_problems_reads_targets_and_expectations():
    rows = [{"train_loss": 2.0, "val_loss": 1.5, "val_acc": 0.5}, {"train_loss": 0.2, "val_loss": 0.3, "val_acc": 0.93}]
    assert outcome_problems({"val_acc": 0.9, "loss_drop": 10, "val_loss_below": 0.5}, rows, "finished") == []
    assert outcome_problems({"val_acc": 0.95}, rows, "finished") == ["val_acc: val_acc is 0.93, expected >= 0.95"]
    assert outcome_problems({"loss_drop": 20}, rows, "finished") == ["loss_drop: loss_drop is 10, expected >= 20"]
    assert outcome_problems({"val_acc_below": 0.2}, rows, "finished") == ["val_acc_below: val_acc is 0.93, expected < 0.2"]
    assert outcome_problems({"val_acc": 0.9}, rows, "diverged") == ["status: the run diverged, expected finished"]
    assert outcome_problems({"status": "diverged"}, rows[:1], "diverged") == []
    assert outcome_problems({"val_acc": 0.1}, [], "finished") == ["no epoch finished"]
    regression = [{"train_loss": 4.0, "val_loss": 4.0, "val_acc": None}, {"train_loss": 0.01, "val_loss": 0.02, "val_acc": None}]
    assert outcome_problems({"val_loss_below": 0.05, "loss_drop": 100}, regression, "finished") == []
