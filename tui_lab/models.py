"""The model zoo of the seeds (d2l), each sized to the data set it is given.

`build_model(name, info, **options)` returns an `nn.Module` whose input is one batch of the data
set (`info.input_shape`) and whose output is `info.output_dim` values per example. Image models are
scaled down so they train on 28x28 / 32x32 inputs on a CPU; layer widths follow d2l's shapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch import nn

from tui_lab.data import DatasetInfo
from tui_lab.errors import ConfigError, choice_error

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leakyrelu": lambda: nn.LeakyReLU(0.1),
    "elu": nn.ELU,
    "none": nn.Identity,
}


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str
    kinds: tuple[str, ...]  # data set kinds it accepts
    classification_only: bool = False
    task: str | None = None  # what it learns when not the data set's own task ("reconstruction": the input)


MODELS: dict[str, ModelSpec] = {
    s.name: s
    for s in (
        ModelSpec("linear", "one linear layer on the flattened input (linear/logistic regression)",
                  ("image", "points", "features", "sequence")),
        ModelSpec("softmax", "softmax regression: flatten, one linear layer, cross-entropy",
                  ("image", "points", "features", "sequence"), classification_only=True),
        ModelSpec("mlp", "multilayer perceptron (options: hidden, activation, dropout)",
                  ("image", "points", "features", "sequence")),
        ModelSpec("lenet", "LeNet-5 as in 1998/d2l: sigmoid + average pooling (option: batch_norm)", ("image",)),
        ModelSpec("lenet-relu", "LeNet with ReLU + max pooling (option: batch_norm)", ("image",)),
        ModelSpec("alexnet", "AlexNet scaled to small images: 5 convs, ReLU, max pooling, dropout", ("image",)),
        ModelSpec("vgg", "small VGG-11: repeated 3x3 conv blocks with max pooling", ("image",)),
        ModelSpec("nin", "Network in Network: conv + two 1x1 convs per block, global average pooling", ("image",)),
        ModelSpec("googlenet", "small GoogLeNet: Inception blocks with four parallel paths", ("image",)),
        ModelSpec("resnet", "small ResNet-18: four stages of two residual blocks, batch norm", ("image",)),
        ModelSpec("rnn", "Elman RNN reading an image row by row (or a sequence), last state -> output",
                  ("image", "sequence")),
        ModelSpec("gru", "GRU reading an image row by row (or a sequence)", ("image", "sequence")),
        ModelSpec("lstm", "LSTM reading an image row by row (or a sequence)", ("image", "sequence")),
        ModelSpec("transformer", "Transformer encoder: token embedding + sinusoidal positions, self-attention "
                                 "blocks, a classifier per position (options: layers, heads, width)", ("tokens",)),
        ModelSpec("autoencoder", "MLP autoencoder: image -> hidden -> latent code -> hidden -> image, MSE "
                                 "(options: hidden, latent, activation)", ("image",), task="reconstruction"),
    )
}


def task_for(name: str, info: DatasetInfo) -> str:
    """What a run of model `name` on this data set learns: the model's own task (an autoencoder
    reconstructs its input, whatever the labels) or the data set's (classification, regression)."""
    spec = MODELS.get((name or "").strip().lower())
    return (spec.task if spec is not None and spec.task else None) or info.task


def build_model(name: str, info: DatasetInfo, **options: Any) -> nn.Module:
    key = (name or "").strip().lower()
    if key not in MODELS:
        raise choice_error("model", name, MODELS)
    check_fit(key, info)
    return _BUILDERS[key](info, **options)


# The options each model takes; any other option is refused (never silently ignored).
MODEL_OPTIONS: dict[str, tuple[str, ...]] = {
    "linear": (), "softmax": (),
    "mlp": ("hidden", "activation", "dropout"),
    "lenet": ("batch_norm",), "lenet-relu": ("batch_norm",),
    "alexnet": ("dropout",), "vgg": ("dropout",), "nin": ("dropout",),
    "googlenet": (), "resnet": ("width",),
    "rnn": ("hidden", "layers"), "gru": ("hidden", "layers"), "lstm": ("hidden", "layers"),
    "transformer": ("layers", "heads", "width"),
    "autoencoder": ("hidden", "latent", "activation"),
}


def check_model_options(name: str, options: dict[str, Any] | None) -> dict[str, Any]:
    """Normalized model options; ConfigError(option, ...) for one the model does not take or a bad value."""
    from tui_lab import limits

    key = (name or "").strip().lower()
    allowed = MODEL_OPTIONS.get(key, ())
    out: dict[str, Any] = {}
    for opt, value in dict(options or {}).items():
        if opt not in allowed:
            takes = f"{key} takes {', '.join(allowed)}" if allowed else f"{key} takes no options"
            users = [m for m, opts in MODEL_OPTIONS.items() if opt in opts]
            where = f"; it applies to {', '.join(users)}" if users else ""
            raise ConfigError(opt, f"does not apply to model {key} ({takes}){where}")
        if opt == "hidden":
            widths = limits.parse_int_list("hidden", value if isinstance(value, (list, tuple)) else
                                           (value if isinstance(value, str) else [value]), 1, limits.MAX_HIDDEN)
            if key in ("rnn", "gru", "lstm"):
                if len(widths) != 1:
                    raise ConfigError("hidden", f"{key} has one hidden size (e.g. --hidden 64), got {len(widths)}: "
                                                f"{limits.shown(','.join(map(str, widths)))}")
                out[opt] = widths[0]
            else:
                out[opt] = widths
        elif opt in ("layers", "width", "heads", "latent"):
            out[opt] = limits.parse_int(opt, value, 1, 64 if opt in ("layers", "heads") else limits.MAX_HIDDEN)
        elif opt == "dropout":
            out[opt] = limits.parse_float("dropout", value, 0.0, 1.0, high_open=True)
        elif opt == "activation":
            act = str(value).strip().lower()
            if act not in ACTIVATIONS:
                raise choice_error("activation", limits.shown(value).strip("'"), ACTIVATIONS)
            out[opt] = act
        elif opt == "batch_norm":
            if not isinstance(value, bool):
                raise ConfigError("batch_norm", f"must be true or false, got {limits.shown(value)}")
            out[opt] = value
    if key == "transformer":
        width, heads = out.get("width", TRANSFORMER_WIDTH), out.get("heads", TRANSFORMER_HEADS)
        if width % heads:
            raise ConfigError("heads", f"must divide the width ({width}) so each head gets width / heads "
                                       f"dimensions; got {heads}")
    return out


def check_fit(name: str, info: DatasetInfo) -> None:
    """ConfigError('model', ...) naming the models that do fit, when `name` cannot take this data set."""
    spec = MODELS[name]
    if info.kind not in spec.kinds:
        fits = [m for m, s in MODELS.items() if info.kind in s.kinds and not (s.classification_only and info.task != "classification")]
        raise ConfigError("model", f"{name} does not fit data set {info.name!r} ({info.kind}, input {_shape(info.input_shape)}); "
                                   f"models for it: {', '.join(fits)}")
    if spec.classification_only and info.task != "classification":
        raise ConfigError("model", f"{name} needs a classification data set; {info.name!r} is regression")


def _shape(shape) -> str:
    return "x".join(str(s) for s in shape)


def _numel(shape) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


def _act(name: str) -> nn.Module:
    key = (name or "relu").lower()
    if key not in ACTIVATIONS:
        raise choice_error("activation", name, ACTIVATIONS)
    return ACTIVATIONS[key]()


def _features_out(features: nn.Module, input_shape) -> int:
    """Size of the flattened output of a feature extractor for one example (dry run on zeros)."""
    was_training = features.training
    features.eval()
    with torch.no_grad():
        out = features(torch.zeros(1, *input_shape))
    features.train(was_training)
    if out.numel() == 0:
        raise ConfigError("model", f"input {_shape(input_shape)} is too small for this network")
    return out.numel()


# --- dense -------------------------------------------------------------------------------------


def _linear(info: DatasetInfo, **_: Any) -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(_numel(info.input_shape), info.output_dim))


def _mlp(info: DatasetInfo, hidden=(256,), activation: str = "relu", dropout: float = 0.0, **_: Any) -> nn.Module:
    if isinstance(hidden, int):
        hidden = (hidden,)
    hidden = tuple(int(h) for h in hidden)
    if not hidden or any(h < 1 for h in hidden):
        raise ConfigError("hidden", f"hidden sizes must be integers >= 1, got {list(hidden)}")
    if not 0.0 <= float(dropout) < 1.0:
        raise ConfigError("dropout", f"must be in [0, 1), got {dropout}")
    layers: list[nn.Module] = [nn.Flatten()]
    width = _numel(info.input_shape)
    for h in hidden:
        layers += [nn.Linear(width, h), _act(activation)]
        if dropout:
            layers.append(nn.Dropout(float(dropout)))
        width = h
    layers.append(nn.Linear(width, info.output_dim))
    return nn.Sequential(*layers)


# --- convolutional -----------------------------------------------------------------------------


def _lenet(info: DatasetInfo, relu: bool = False, batch_norm: bool = False, **_: Any) -> nn.Module:
    c = info.input_shape[0]
    act = nn.ReLU if relu else nn.Sigmoid
    pool = (lambda: nn.MaxPool2d(2, 2)) if relu else (lambda: nn.AvgPool2d(2, 2))

    def bn2(n):
        return [nn.BatchNorm2d(n)] if batch_norm else []

    def bn1(n):
        return [nn.BatchNorm1d(n)] if batch_norm else []

    features = nn.Sequential(
        nn.Conv2d(c, 6, kernel_size=5, padding=2), *bn2(6), act(), pool(),
        nn.Conv2d(6, 16, kernel_size=5), *bn2(16), act(), pool(),
        nn.Flatten(),
    )
    n = _features_out(features, info.input_shape)
    net = nn.Sequential(
        *features,
        nn.Linear(n, 120), *bn1(120), act(),
        nn.Linear(120, 84), *bn1(84), act(),
        nn.Linear(84, info.output_dim),
    )
    # d2l's init_weights: Xavier-uniform for every conv and linear layer (sigmoid nets need it).
    for m in net.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(m.weight)
    return net


def _alexnet(info: DatasetInfo, dropout: float = 0.5, **_: Any) -> nn.Module:
    c = info.input_shape[0]
    features = nn.Sequential(
        nn.Conv2d(c, 32, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 96, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(96, 96, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(96, 64, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
    )
    n = _features_out(features, info.input_shape)
    return nn.Sequential(
        *features,
        nn.Linear(n, 256), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(256, 256), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(256, info.output_dim),
    )


def vgg_block(num_convs: int, in_channels: int, out_channels: int) -> nn.Sequential:
    """d2l's vgg_block: num_convs 3x3 convs with ReLU, then a 2x2 max pool."""
    layers: list[nn.Module] = []
    for _ in range(num_convs):
        layers += [nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1), nn.ReLU()]
        in_channels = out_channels
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)


def _vgg(info: DatasetInfo, dropout: float = 0.5, **_: Any) -> nn.Module:
    c, h, w = info.input_shape
    # VGG-11's arch at 1/4 width; as many blocks as the image can halve through (4 for 28x28).
    arch = [(1, 16), (1, 32), (2, 64), (2, 128), (2, 128)]
    blocks, size = [], min(h, w)
    for num_convs, out in arch:
        if size < 2:
            break
        blocks.append(vgg_block(num_convs, c, out))
        c, size = out, size // 2
    features = nn.Sequential(*blocks, nn.Flatten())
    n = _features_out(features, info.input_shape)
    return nn.Sequential(
        features,
        nn.Linear(n, 256), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(256, 256), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(256, info.output_dim),
    )


def nin_block(in_channels: int, out_channels: int, kernel_size: int, stride: int, padding: int) -> nn.Sequential:
    """d2l's nin_block: a conv then two 1x1 convs, each followed by ReLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(),
    )


def _nin(info: DatasetInfo, dropout: float = 0.5, **_: Any) -> nn.Module:
    c = info.input_shape[0]
    return nn.Sequential(
        nin_block(c, 32, 3, 1, 1), nn.MaxPool2d(2),
        nin_block(32, 64, 3, 1, 1), nn.MaxPool2d(2),
        nin_block(64, 96, 3, 1, 1), nn.Dropout(dropout),
        nin_block(96, info.output_dim, 3, 1, 1),
        nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(),
    )


class Inception(nn.Module):
    """d2l's Inception block: four parallel paths concatenated on the channel axis.

    c1: 1x1 conv; c2: (1x1 reduce, 3x3); c3: (1x1 reduce, 5x5); c4: 3x3 max pool then 1x1 conv.
    Inception(192, 64, (96, 128), (16, 32), 32) turns 192 channels into 64+128+32+32 = 256.
    """

    def __init__(self, in_channels: int, c1: int, c2: tuple[int, int], c3: tuple[int, int], c4: int,
                 bias: bool = True) -> None:
        super().__init__()
        self.p1_1 = nn.Conv2d(in_channels, c1, kernel_size=1, bias=bias)
        self.p2_1 = nn.Conv2d(in_channels, c2[0], kernel_size=1, bias=bias)
        self.p2_2 = nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1, bias=bias)
        self.p3_1 = nn.Conv2d(in_channels, c3[0], kernel_size=1, bias=bias)
        self.p3_2 = nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=2, bias=bias)
        self.p4_1 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.p4_2 = nn.Conv2d(in_channels, c4, kernel_size=1, bias=bias)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r = self.relu
        p1 = r(self.p1_1(x))
        p2 = r(self.p2_2(r(self.p2_1(x))))
        p3 = r(self.p3_2(r(self.p3_1(x))))
        p4 = r(self.p4_2(self.p4_1(x)))
        return torch.cat((p1, p2, p3, p4), dim=1)


def _googlenet(info: DatasetInfo, **_: Any) -> nn.Module:
    c = info.input_shape[0]
    return nn.Sequential(
        nn.Conv2d(c, 32, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        Inception(32, 16, (24, 32), (4, 8), 8),  # -> 64
        Inception(64, 32, (32, 48), (8, 24), 16),  # -> 120
        nn.MaxPool2d(2),
        Inception(120, 48, (32, 64), (8, 16), 16),  # -> 144
        nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(),
        nn.Linear(144, info.output_dim),
    )


class Residual(nn.Module):
    """d2l's residual block: two 3x3 convs with batch norm; a 1x1 conv on the shortcut when shapes change."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, stride=stride)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = (
            nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride)
            if stride != 1 or in_channels != out_channels
            else None
        )
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu(y + (self.shortcut(x) if self.shortcut is not None else x))


def _resnet(info: DatasetInfo, width: int = 16, **_: Any) -> nn.Module:
    c = info.input_shape[0]
    widths = [width, width * 2, width * 4, width * 8]
    layers: list[nn.Module] = [nn.Conv2d(c, widths[0], kernel_size=3, padding=1), nn.BatchNorm2d(widths[0]), nn.ReLU()]
    in_c = widths[0]
    for i, out_c in enumerate(widths):
        stride = 1 if i == 0 else 2
        layers.append(nn.Sequential(Residual(in_c, out_c, stride), Residual(out_c, out_c)))
        in_c = out_c
    layers += [nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(in_c, info.output_dim)]
    return nn.Sequential(*layers)


# --- autoencoder -------------------------------------------------------------------------------


class Autoencoder(nn.Module):
    """An MLP autoencoder: `encoder` maps an image to a `latent`-sized code through the `hidden`
    widths, `decoder` maps the code back through the same widths reversed to an image of the input's
    shape. Trained with MSE against its own input (task "reconstruction")."""

    def __init__(self, input_shape: tuple[int, ...], hidden: tuple[int, ...] = (128,), latent: int = 2,
                 activation: str = "relu") -> None:
        super().__init__()
        n = _numel(input_shape)
        enc: list[nn.Module] = [nn.Flatten()]
        width = n
        for h in hidden:
            enc += [nn.Linear(width, h), _act(activation)]
            width = h
        enc.append(nn.Linear(width, latent))
        dec: list[nn.Module] = []
        width = latent
        for h in reversed(hidden):
            dec += [nn.Linear(width, h), _act(activation)]
            width = h
        dec += [nn.Linear(width, n), nn.Unflatten(1, tuple(input_shape))]
        self.encoder, self.decoder = nn.Sequential(*enc), nn.Sequential(*dec)
        self.latent = int(latent)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


def _autoencoder(info: DatasetInfo, hidden=(128,), latent: int = 2, activation: str = "relu", **_: Any) -> nn.Module:
    if isinstance(hidden, int):
        hidden = (hidden,)
    hidden = tuple(int(h) for h in hidden)
    if any(h < 1 for h in hidden):
        raise ConfigError("hidden", f"hidden sizes must be integers >= 1, got {list(hidden)}")
    if int(latent) < 1:
        raise ConfigError("latent", f"must be an integer >= 1, got {latent}")
    return Autoencoder(tuple(info.input_shape), hidden, int(latent), activation)


# --- recurrent ---------------------------------------------------------------------------------


class SequenceClassifier(nn.Module):
    """An RNN/GRU/LSTM over a sequence; images are read row by row (H steps of C*W features).

    The output is a linear layer on the last time step's hidden state.
    """

    def __init__(self, cell: str, input_shape: tuple[int, ...], output_dim: int, hidden: int = 64, layers: int = 1) -> None:
        super().__init__()
        if len(input_shape) == 3:  # image C x H x W -> H steps of C*W
            c, h, w = input_shape
            self.image = True
            features = c * w
        else:
            self.image = False
            features = input_shape[-1]
        rnn_cls = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[cell]
        self.rnn = rnn_cls(features, int(hidden), num_layers=int(layers), batch_first=True)
        self.head = nn.Linear(int(hidden), output_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.image:
            b, c, h, w = x.shape
            x = x.permute(0, 2, 1, 3).reshape(b, h, c * w)
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


def _recurrent(cell: str):
    def build(info: DatasetInfo, hidden: int = 64, layers: int = 1, **_: Any) -> nn.Module:
        if int(hidden) < 1:
            raise ConfigError("hidden", f"must be an integer >= 1, got {hidden}")
        return SequenceClassifier(cell, info.input_shape, info.output_dim, hidden, layers)

    return build


# --- attention ---------------------------------------------------------------------------------


TRANSFORMER_WIDTH, TRANSFORMER_HEADS, TRANSFORMER_LAYERS = 64, 4, 2


def sinusoidal_positions(length: int, width: int) -> torch.Tensor:
    """(length, width) positional encoding of "Attention Is All You Need": P[p, 2i] = sin(p / 10000^(2i/d)),
    P[p, 2i+1] = cos(p / 10000^(2i/d))."""
    position = torch.arange(length, dtype=torch.float32).unsqueeze(1)
    freq = torch.pow(10000.0, -torch.arange(0, width, 2, dtype=torch.float32) / width)
    p = torch.zeros(length, width)
    p[:, 0::2] = torch.sin(position * freq)
    p[:, 1::2] = torch.cos(position * freq)[:, : width // 2]
    return p


class MultiHeadSelfAttention(nn.Module):
    """Multi-head self-attention written out (d2l's MultiHeadAttention), keeping its weights readable.

    Q = X W_q^T, K = X W_k^T, V = X W_v^T (no biases), split into `heads` heads of width / heads
    dimensions; each head's weights are softmax(Q_h K_h^T / sqrt(d_h)) over the keys (a row per query,
    summing to 1), its output those weights times V_h; the heads are concatenated and mixed by W_o.
    After every forward `attention_weights` holds the weights, (batch, heads, queries, keys).
    """

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        if width % heads:
            raise ConfigError("heads", f"must divide the width ({width}); got {heads}")
        self.heads, self.head_dim = heads, width // heads
        self.W_q = nn.Linear(width, width, bias=False)
        self.W_k = nn.Linear(width, width, bias=False)
        self.W_v = nn.Linear(width, width, bias=False)
        self.W_o = nn.Linear(width, width, bias=False)
        self.attention_weights: torch.Tensor | None = None

    def split(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, tokens, width) -> (batch, heads, tokens, head_dim)."""
        b, t, _ = x.shape
        return x.reshape(b, t, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.split(self.W_q(x)), self.split(self.W_k(x)), self.split(self.W_v(x))
        weights = torch.softmax(q @ k.transpose(-2, -1) / self.head_dim ** 0.5, dim=-1)
        self.attention_weights = weights.detach()
        out = (weights @ v).transpose(1, 2).reshape(x.shape)
        return self.W_o(out)


class EncoderBlock(nn.Module):
    """A Transformer encoder block (post-norm, as in the paper and d2l): X + attention, layer norm,
    then + a position-wise feed-forward network (width -> 2 width -> width), layer norm."""

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.attention = MultiHeadSelfAttention(width, heads)
        self.norm1 = nn.LayerNorm(width)
        self.ffn = nn.Sequential(nn.Linear(width, 2 * width), nn.ReLU(), nn.Linear(2 * width, width))
        self.norm2 = nn.LayerNorm(width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.norm1(x + self.attention(x))
        return self.norm2(y + self.ffn(y))


class TransformerEncoder(nn.Module):
    """Token ids (batch, tokens) -> logits (batch, tokens, vocab): embedding + sinusoidal positions,
    `layers` encoder blocks, one linear classifier applied at every position.

    The embeddings are not multiplied by sqrt(width) as in d2l: nn.Embedding's entries have variance 1,
    so that would make the tokens 8 times louder than the positions (at width 64), and `reverse`, which
    is all about positions, then stalls near 31% per token (lesson 52)."""

    positions: torch.Tensor

    def __init__(self, vocab: int, length: int, width: int = TRANSFORMER_WIDTH, heads: int = TRANSFORMER_HEADS,
                 layers: int = TRANSFORMER_LAYERS) -> None:
        super().__init__()
        self.width = width
        self.embedding = nn.Embedding(vocab, width)
        self.register_buffer("positions", sinusoidal_positions(length, width), persistent=False)
        self.blocks = nn.Sequential(*(EncoderBlock(width, heads) for _ in range(layers)))
        self.head = nn.Linear(width, vocab)

    def embed(self, tokens: torch.Tensor) -> torch.Tensor:
        """What the first block reads: the embeddings plus the positional encoding."""
        return self.embedding(tokens.long()) + self.positions[: tokens.shape[1]]

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.embed(tokens)))


def _transformer(info: DatasetInfo, width: int = TRANSFORMER_WIDTH, heads: int = TRANSFORMER_HEADS,
                 layers: int = TRANSFORMER_LAYERS, **_: Any) -> nn.Module:
    return TransformerEncoder(info.num_classes, info.input_shape[0], int(width), int(heads), int(layers))


_BUILDERS: dict[str, Callable[..., nn.Module]] = {
    "linear": _linear,
    "softmax": _linear,
    "mlp": _mlp,
    "lenet": _lenet,
    "lenet-relu": lambda info, **o: _lenet(info, relu=True, **o),
    "alexnet": _alexnet,
    "vgg": _vgg,
    "nin": _nin,
    "googlenet": _googlenet,
    "resnet": _resnet,
    "rnn": _recurrent("rnn"),
    "gru": _recurrent("gru"),
    "lstm": _recurrent("lstm"),
    "transformer": _transformer,
    "autoencoder": _autoencoder,
}


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
