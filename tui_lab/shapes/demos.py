"""The demo models behind the seeds' comparisons (Inception vs plain convs, 1x1 reduction, receptive
fields, U-Net, FCN, a LeNet that breaks on 28x28).

Importing this module is cheap: torch and the model zoo load when a demo is built.
"""

from __future__ import annotations

from dataclasses import dataclass


def _demo_modules():
    from torch import nn
    import torch

    from tui_lab.models import Inception

    def InceptionDemo():
        """GoogLeNet's Inception (3a) as in the seeds: 192 -> 64 + 128 + 32 + 32 = 256 channels, weights
        only (bias=False), the way the seeds' table counts them."""
        return Inception(192, 64, (96, 128), (16, 32), 32, bias=False)

    class MismatchLeNet(nn.Module):
        """LeNet-5 as drawn for 32x32 inputs (no padding, Linear(400, 120)): fed 28x28 it breaks."""

        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 5)
            self.pool1 = nn.AvgPool2d(2)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.pool2 = nn.AvgPool2d(2)
            self.flatten = nn.Flatten()
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)
            self.act = nn.Sigmoid()

        def forward(self, x):
            x = self.pool1(self.act(self.conv1(x)))
            x = self.pool2(self.act(self.conv2(x)))
            x = self.flatten(x)
            return self.fc3(self.act(self.fc2(self.act(self.fc1(x)))))

    class TinyUNet(nn.Module):
        """A two-level U-Net: down by pooling, up by transposed convs, skip connections concatenated."""

        def __init__(self, in_channels=1, classes=2, width=16):
            super().__init__()

            def block(i, o):
                return nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.ReLU(), nn.Conv2d(o, o, 3, padding=1), nn.ReLU())

            w = width
            self.enc1, self.enc2 = block(in_channels, w), block(w, 2 * w)
            self.pool = nn.MaxPool2d(2)
            self.bottleneck = block(2 * w, 4 * w)
            self.up2 = nn.ConvTranspose2d(4 * w, 2 * w, 2, stride=2)
            self.dec2 = block(4 * w, 2 * w)
            self.up1 = nn.ConvTranspose2d(2 * w, w, 2, stride=2)
            self.dec1 = block(2 * w, w)
            self.head = nn.Conv2d(w, classes, 1)

        def forward(self, x):
            e1 = self.enc1(x)
            e2 = self.enc2(self.pool(e1))
            b = self.bottleneck(self.pool(e2))
            d2 = self.dec2(torch.cat([self.up2(b), e2], dim=1))
            d1 = self.dec1(torch.cat([self.up1(d2), e1], dim=1))
            return self.head(d1)

    return nn, InceptionDemo, MismatchLeNet, TinyUNet


@dataclass(frozen=True)
class Demo:
    name: str
    description: str
    input_shape: tuple[int, ...]

    def build(self):
        """A fresh instance of the demo model."""
        return _demo(self.name)


def _demo(name: str):
    nn, InceptionDemo, MismatchLeNet, TinyUNet = _demo_modules()
    builders = {
        "inception-demo": lambda: InceptionDemo(),
        "conv3x3-demo": lambda: nn.Sequential(nn.Conv2d(192, 256, 3, padding=1, bias=False)),
        "conv5x5-demo": lambda: nn.Sequential(nn.Conv2d(192, 256, 5, padding=2, bias=False)),
        "reduction-demo": lambda: nn.Sequential(
            nn.Conv2d(128, 32, 1, bias=False), nn.ReLU(), nn.Conv2d(32, 256, 5, padding=2, bias=False)
        ),
        "direct5x5-demo": lambda: nn.Sequential(nn.Conv2d(128, 256, 5, padding=2, bias=False)),
        "stacked3x3-demo": lambda: nn.Sequential(
            nn.Conv2d(1, 1, 3, bias=False), nn.ReLU(), nn.Conv2d(1, 1, 3, bias=False)
        ),
        "single5x5-demo": lambda: nn.Sequential(nn.Conv2d(1, 1, 5, bias=False)),
        "dilated-demo": lambda: nn.Sequential(nn.Conv2d(1, 1, 3, dilation=2, bias=False)),
        "mismatch-demo": lambda: MismatchLeNet(),
        "unet-demo": lambda: TinyUNet(),
        "fcn-demo": lambda: nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 2, 1),  # a 1x1 conv in place of the dense classifier: one score map per class
            nn.ConvTranspose2d(2, 2, kernel_size=8, stride=4, padding=2),  # back up 4x to the input size
        ),
    }
    return builders[name]()


DEMOS: dict[str, Demo] = {
    d.name: d
    for d in (
        Demo("inception-demo", "Inception block 192x28x28 -> 256x28x28 (seeds: 0.16 M params, 128 M MACs)",
             (192, 28, 28)),
        Demo("conv3x3-demo", "one 3x3 conv 192 -> 256 channels (seeds: 0.44 M params, 346 M MACs)",
             (192, 28, 28)),
        Demo("conv5x5-demo", "one 5x5 conv 192 -> 256 channels (seeds: 1.22 M params, 963 M MACs)",
             (192, 28, 28)),
        Demo("reduction-demo", "1x1 reduction: 128 -> 32 (1x1) -> 256 (5x5): 1x1x128x32 + 5x5x32x256 weights",
             (128, 100, 100)),
        Demo("direct5x5-demo", "no reduction: 128 -> 256 (5x5): 5x5x128x256 weights, about 4x more",
             (128, 100, 100)),
        Demo("stacked3x3-demo", "two 3x3 convs: receptive field 5, like one 5x5", (1, 9, 9)),
        Demo("single5x5-demo", "one 5x5 conv: receptive field 5", (1, 9, 9)),
        Demo("dilated-demo", "3x3 conv with dilation 2: receptive field 5 with 9 weights", (1, 9, 9)),
        Demo("unet-demo", "a small U-Net: 32x32 down to 8x8 and back up, skip connections concatenated",
             (1, 32, 32)),
        Demo("fcn-demo", "a fully convolutional net: 1x1 conv scores, a transposed conv upsamples 4x",
             (1, 32, 32)),
        Demo("mismatch-demo", "LeNet-5 drawn for 32x32 fed a 28x28 image: Linear(400, 120) gets 256",
             (1, 28, 28)),
    )
}
