"""The model zoo: every model fits every data set it claims, with the right output size."""

from __future__ import annotations

import pytest
import torch

from tui_lab.data import DATASETS, dataset_info
from tui_lab.errors import ConfigError
from tui_lab.models import MODELS, Inception, build_model, count_parameters, task_for

PAIRS = [(m, d) for m, spec in MODELS.items() for d, info in DATASETS.items()
         if info.kind in spec.kinds and not (spec.classification_only and info.task != "classification")]


@pytest.mark.parametrize("model, dataset", PAIRS)
def test_output_shape_fits_the_data_set(model, dataset):
    info = dataset_info(dataset)
    net = build_model(model, info).eval()
    if info.kind == "tokens":  # token ids in, one row of logits per token out
        out = net(torch.randint(0, info.num_classes, (3, *info.input_shape)))
        assert out.shape == (3, *info.input_shape, info.output_dim)
        return
    out = net(torch.randn(3, *info.input_shape))
    if task_for(model, info) == "reconstruction":  # an autoencoder: its input's shape back
        assert out.shape == (3, *info.input_shape)
    else:
        assert out.shape == (3, info.output_dim)


def test_lenet_parameter_count_by_hand():
    # conv1 1*6*5*5+6, conv2 6*16*5*5+16, fc 16*5*5*120+120, 120*84+84, 84*10+10
    expected = (150 + 6) + (2400 + 16) + (48000 + 120) + (10080 + 84) + (840 + 10)
    assert count_parameters(build_model("lenet", dataset_info("digits"))) == expected == 61706


def test_inception_turns_192_channels_into_256():
    block = Inception(192, 64, (96, 128), (16, 32), 32)
    assert block(torch.zeros(1, 192, 28, 28)).shape == (1, 256, 28, 28)


def test_models_that_do_not_fit_say_which_do():
    with pytest.raises(ConfigError, match="models for it: linear, softmax, mlp"):
        build_model("lenet", dataset_info("moons"))
    with pytest.raises(ConfigError, match="model"):
        build_model("softmax", dataset_info("linear"))


def test_rnn_reads_images_row_by_row():
    net = build_model("lstm", dataset_info("digits"), hidden=32)
    assert net.rnn.input_size == 28 and net.rnn.hidden_size == 32
