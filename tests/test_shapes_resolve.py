"""Model specs: a user's module:callable (reloaded after an edit), bad names, bad data sets."""

from __future__ import annotations

import sys
import textwrap

import pytest

from tui_lab.errors import ConfigError
from tui_lab.shapes import trace


def test_user_module_and_class(tmp_path, monkeypatch):
    (tmp_path / "my_shapes_net.py").write_text(textwrap.dedent("""
        from torch import nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 26 * 26, 3))

            def forward(self, x):
                return self.body(x)

        def make():
            return nn.Sequential(nn.Flatten(), nn.Linear(784, 5))

        not_a_model = 3
    """))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    net = trace("my_shapes_net:Net")
    assert net.output_shape == (3,) and net.total_params == 2 * 9 + 2 + 2 * 26 * 26 * 3 + 3
    assert [r.depth for r in net.rows] == [0, 1, 2, 2, 2]
    assert trace("my_shapes_net:make").output_shape == (5,)
    with pytest.raises(ConfigError, match="has no attribute 'Missing'"):
        trace("my_shapes_net:Missing")
    with pytest.raises(ConfigError, match="neither an nn.Module nor callable"):
        trace("my_shapes_net:not_a_model")


def test_user_module_is_reloaded_after_an_edit(tmp_path, monkeypatch):
    source = "from torch import nn\n\ndef make():\n    return nn.Sequential(nn.Flatten(), nn.Linear(784, {}))\n"
    path = tmp_path / "my_reloaded_net.py"
    path.write_text(source.format(5))
    monkeypatch.chdir(tmp_path)
    assert trace("my_reloaded_net:make").output_shape == (5,)
    path.write_text(source.format(7) + "\n# edited\n")
    assert trace("my_reloaded_net:make").output_shape == (7,)
    sys.modules.pop("my_reloaded_net", None)


@pytest.mark.parametrize("spec, match", [
    ("nosuch", "unknown model 'nosuch'; allowed: linear"),
    ("torchvision:resnet", "did you mean"),
    ("no_such_module_xyz:Net", "cannot import 'no_such_module_xyz'"),
    ("", "missing"),
])
def test_bad_model_names(spec, match):
    with pytest.raises(ConfigError, match=match) as info:
        trace(spec)
    assert info.value.field == "model"


def test_bad_dataset_names_the_field():
    with pytest.raises(ConfigError, match="dataset"):
        trace("lenet", None, "nosuch")
