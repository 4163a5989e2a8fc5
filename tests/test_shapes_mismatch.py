"""A failing forward pass diagnosed: the layer, the shape it got, what it expected, a fix that works."""

from __future__ import annotations

from torch import nn

from tui_lab.shapes import DEMOS, trace, trace_model


def test_mismatch_linear_in_features():
    result = trace("mismatch-demo")
    e = result.error
    assert (e.layer, e.type, e.input_shape, e.expected) == ("fc1", "Linear", (1, 256), "in_features=400")
    assert "16 * 4 * 4 = 256" in e.message
    assert e.fix.startswith("Linear(in_features=256, out_features=120)")
    # rows up to the failure are there, the failing one last and marked
    assert [r.name for r in result.rows] == ["", "conv1", "act", "pool1", "conv2", "act", "pool2", "flatten", "fc1"]
    assert result.rows[-1].failed and result.rows[-1].output_shape is None
    assert result.rows[-2].output_shape == (1, 256)
    assert result.output_shape is None
    # the suggested fix works: with in_features=256 the forward pass goes through
    model = DEMOS["mismatch-demo"].build()
    model.fc1 = nn.Linear(256, 120)
    assert trace_model(model, (1, 28, 28)).error is None


def test_mismatch_zoo_model_on_a_bigger_input():
    e = trace("lenet", "1x32x32").error
    assert (e.layer, e.expected) == ("7", "in_features=400")
    assert e.fix.startswith("Linear(in_features=576")


def test_mismatch_channels_and_too_small_and_rnn():
    e = trace("lenet", "3x28x28").error
    assert (e.layer, e.type, e.expected) == ("0", "Conv2d", "in_channels=1")
    assert e.fix.startswith("Conv2d(in_channels=3)")
    e = trace("lenet", "1x4x4").error
    assert e.layer == "3" and "5x5 kernel" in e.message and e.input_shape == (1, 6, 2, 2)
    e = trace("lstm", "1x28x20").error
    assert (e.layer, e.expected) == ("rnn", "input_size=28")
    assert e.fix.startswith("LSTM(input_size=20)")


def test_error_in_a_models_own_forward_names_the_model():
    class ViewNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 4, 3)

        def forward(self, x):
            return self.conv(x).view(-1, 999)

    result = trace_model(ViewNet(), (1, 8, 8))
    assert result.error.layer == "" and result.error.type == "ViewNet"
    assert "'conv' returned 1x4x6x6" in result.error.message
    assert result.rows[1].output_shape == (1, 4, 6, 6)
