"""Named architectures written as specs, each stating the reference implementation it
follows; tests/test_zoo.py checks every entry against that implementation's count.

The repetitive networks are generated as DSL text by small functions, so the zoo exercises
the same parser and rules a user's spec goes through.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ZooEntry:
    name: str
    build: Callable[[], str]  # returns the DSL text
    reference: str  # the implementation whose count a test reproduces
    description: str

    @property
    def spec(self) -> str:
        return self.build()


def _lenet5() -> str:
    """LeCun et al. 1998, 32×32 input; C5 as a Dense layer on the 5×5×16 maps (as in the paper:
    every C5 unit sees all 400 S4 values)."""
    return ("input(32, 32, 1) > conv2d(6, 5, activation=tanh) > average_pooling2d(2) "
            "> conv2d(16, 5, activation=tanh) > average_pooling2d(2) > flatten "
            "> dense(120, activation=tanh) > dense(84, activation=tanh) > dense(10)")


def _alexnet() -> str:
    """torchvision.models.alexnet (one-GPU variant of Krizhevsky et al. 2012); padding 2 of the
    first convolution written as ZeroPadding2D; AdaptiveAvgPool2d((6, 6)) is the identity at
    224×224 and is omitted."""
    return ("input(224, 224, 3) > zero_padding2d(2) > conv2d(64, 11, strides=4) > relu "
            "> max_pooling2d(3, strides=2) > conv2d(192, 5, padding=same) > relu "
            "> max_pooling2d(3, strides=2) > conv2d(384, 3, padding=same) > relu "
            "> conv2d(256, 3, padding=same) > relu > conv2d(256, 3, padding=same) > relu "
            "> max_pooling2d(3, strides=2) > flatten > dropout(0.5) > dense(4096) > relu "
            "> dropout(0.5) > dense(4096) > relu > dense(1000)")


def _vgg16() -> str:
    """keras.applications.VGG16(include_top=True): configuration D of Simonyan & Zisserman."""
    parts = ["input(224, 224, 3)"]
    for filters, convs in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
        parts += [f"conv2d({filters}, 3, padding=same, activation=relu)"] * convs
        parts.append("max_pooling2d(2, strides=2)")
    parts += ["flatten", "dense(4096, activation=relu)", "dense(4096, activation=relu)",
              "dense(1000, activation=softmax)"]
    return " > ".join(parts)


def _resnet50() -> str:
    """keras.applications.ResNet50 (He et al. 2016, v1 bottleneck blocks; biased convolutions
    and BatchNormalization epsilon 1.001e-5 as Keras builds them)."""
    bn = "batch_normalization(epsilon=1.001e-5)"
    lines = [
        "x = input(224, 224, 3) > zero_padding2d(3) > conv2d(64, 7, strides=2) "
        f"> {bn} > relu > zero_padding2d(1) > max_pooling2d(3, strides=2)"
    ]
    for filters, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for block in range(blocks):
            s = stride if block == 0 else 1
            if block == 0:
                lines.append(f"sc = x > conv2d({4 * filters}, 1, strides={s}) > {bn}")
            else:
                lines.append("sc = x")
            lines.append(
                f"y = x > conv2d({filters}, 1, strides={s}) > {bn} > relu "
                f"> conv2d({filters}, 3, padding=same) > {bn} > relu "
                f"> conv2d({4 * filters}, 1) > {bn}"
            )
            lines.append("x = [sc, y] > add > relu")
    lines.append("x > global_average_pooling2d > dense(1000, activation=softmax)")
    return "\n".join(lines)


def _mobilenet_v2() -> str:
    """keras.applications.MobileNetV2(alpha=1.0, 224×224): inverted residual blocks of
    Sandler et al. 2018 with ReLU6, unbiased convolutions and BatchNormalization."""
    bn = "batch_normalization(epsilon=1e-3, momentum=0.999)"
    relu6 = "relu(max_value=6)"
    lines = [f"x = input(224, 224, 3) > conv2d(32, 3, strides=2, padding=same, use_bias=false) "
             f"> {bn} > {relu6}"]
    channels = 32
    blocks = [(16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6),
              (64, 2, 6), (64, 1, 6), (64, 1, 6), (64, 1, 6), (96, 1, 6), (96, 1, 6),
              (96, 1, 6), (160, 2, 6), (160, 1, 6), (160, 1, 6), (320, 1, 6)]
    for block_id, (filters, stride, expansion) in enumerate(blocks):
        chain = ["x"]
        if block_id:
            chain.append(f"conv2d({expansion * channels}, 1, padding=same, use_bias=false) "
                         f"> {bn} > {relu6}")
        if stride == 2:
            chain.append("zero_padding2d(((0, 1), (0, 1)))")
        padding = "same" if stride == 1 else "valid"
        chain.append(f"depthwise_conv2d(3, strides={stride}, padding={padding}, "
                     f"use_bias=false) > {bn} > {relu6}")
        chain.append(f"conv2d({filters}, 1, padding=same, use_bias=false) > {bn}")
        lines.append("y = " + " > ".join(chain))
        lines.append("x = [x, y] > add" if channels == filters and stride == 1 else "x = y")
        channels = filters
    lines.append(f"x > conv2d(1280, 1, use_bias=false) > {bn} > {relu6} "
                 "> global_average_pooling2d > dense(1000, activation=softmax)")
    return "\n".join(lines)


def _densenet121() -> str:
    """keras.applications.DenseNet121 (Huang et al. 2017): dense blocks of 6, 12, 24 and 16
    bottleneck layers, growth rate 32, transitions halving the channels."""
    bn = "batch_normalization(epsilon=1.001e-5)"
    lines = [f"x = input(224, 224, 3) > zero_padding2d(3) > conv2d(64, 7, strides=2, "
             f"use_bias=false) > {bn} > relu > zero_padding2d(1) > max_pooling2d(3, strides=2)"]
    channels = 64
    for stage, blocks in enumerate((6, 12, 24, 16)):
        for _ in range(blocks):
            lines.append(f"y = x > {bn} > relu > conv2d(128, 1, use_bias=false) > {bn} > relu "
                         "> conv2d(32, 3, padding=same, use_bias=false)")
            lines.append("x = [x, y] > concatenate")
            channels += 32
        if stage < 3:
            channels //= 2
            lines.append(f"x = x > {bn} > relu > conv2d({channels}, 1, use_bias=false) "
                         "> average_pooling2d(2, strides=2)")
    lines.append(f"x > {bn} > relu > global_average_pooling2d > dense(1000, activation=softmax)")
    return "\n".join(lines)


# EfficientNet-B0's stages (Tan & Le 2019, keras.applications.efficientnet DEFAULT_BLOCKS_ARGS):
# (kernel, repeats, filters in, filters out, expansion, stride)
_EFFICIENTNET_B0 = ((3, 1, 32, 16, 1, 1), (3, 2, 16, 24, 6, 2), (5, 2, 24, 40, 6, 2),
                    (3, 3, 40, 80, 6, 2), (5, 3, 80, 112, 6, 1), (5, 4, 112, 192, 6, 2),
                    (3, 1, 192, 320, 6, 1))


def _efficientnet_b0() -> str:
    """keras.applications.EfficientNetB0 (weights=None, so without the ImageNet-only second
    Rescaling): MBConv blocks with squeeze-and-excitation (ratio 0.25) and swish. Every
    stride-2 block pads its even-sized input by (k//2 − 1, k//2), Keras' ``correct_pad``."""
    bn = "batch_normalization"
    swish = "activation(swish)"
    lines = ["x = input(224, 224, 3) > rescaling(0.00392156862745098) > normalization "
             f"> zero_padding2d(((0, 1), (0, 1))) > conv2d(32, 3, strides=2, use_bias=false) "
             f"> {bn} > {swish}"]
    total_blocks = sum(stage[1] for stage in _EFFICIENTNET_B0)
    block = 0
    for kernel, repeats, filters_in, filters_out, expansion, stride in _EFFICIENTNET_B0:
        for repeat in range(repeats):
            if repeat:
                stride, filters_in = 1, filters_out
            filters = filters_in * expansion
            chain = ["x"]
            if expansion != 1:
                chain.append(f"conv2d({filters}, 1, padding=same, use_bias=false) > {bn} "
                             f"> {swish}")
            if stride == 2:
                pad = kernel // 2
                chain.append(f"zero_padding2d((({pad - 1}, {pad}), ({pad - 1}, {pad})))")
            padding = "valid" if stride == 2 else "same"
            chain.append(f"depthwise_conv2d({kernel}, strides={stride}, padding={padding}, "
                         f"use_bias=false) > {bn} > {swish}")
            squeeze = max(1, int(filters_in * 0.25))
            lines += [
                "y = " + " > ".join(chain),
                f"se = y > global_average_pooling2d > reshape((1, 1, {filters})) "
                f"> conv2d({squeeze}, 1, padding=same, activation=swish) "
                f"> conv2d({filters}, 1, padding=same, activation=sigmoid)",
                f"y = [y, se] > multiply > conv2d({filters_out}, 1, padding=same, "
                f"use_bias=false) > {bn}",
            ]
            if stride == 1 and filters_in == filters_out:
                rate = 0.2 * block / total_blocks  # drop_connect_rate × block / blocks
                lines += [f"y = y > dropout({rate!r}, noise_shape=(none, 1, 1, 1))",
                          "x = [y, x] > add"]
            else:
                lines.append("x = y")
            block += 1
    lines.append(f"x > conv2d(1280, 1, padding=same, use_bias=false) > {bn} > {swish} "
                 "> global_average_pooling2d > dropout(0.2) > dense(1000, activation=softmax)")
    return "\n".join(lines)


def _seed(spec: str) -> Callable[[], str]:
    return lambda: spec


ZOO: dict[str, ZooEntry] = {
    entry.name: entry
    for entry in (
        ZooEntry("seed-weather", _seed("5-8-4-3"),
                 "tutorial ML-001 (seeds/003): 99 trainable parameters",
                 "5 features, hidden layers of 8 and 4 units, 3 classes"),
        ZooEntry("seed-exercise", _seed("4-16-8-4-2"),
                 "tutorial ML-001 exercise (seeds/003): 262",
                 "4 inputs, hidden 16, 8 and 4, 2 outputs"),
        ZooEntry("seed-mnist-dense", _seed("784-10-10-3"),
                 "Keras summary in seeds/004: 7,993",
                 "28×28 pixels flattened, two Dense(10), Dense(3)"),
        ZooEntry("seed-mnist-cnn",
                 _seed('input(28, 28, 1) > conv2d(10, 3, padding="same") > '
                       'conv2d(10, 3, padding="same") > flatten > dense(3)'),
                 "Keras summary in seeds/004: 24,533",
                 "two same-padded 3×3 Conv2D of 10 filters, Flatten, Dense(3)"),
        ZooEntry("lenet5", _lenet5, "LeCun et al. 1998 (Proc. IEEE 86(11)): 61,706",
                 "LeNet-5 on 32×32 grey images, 10 classes"),
        ZooEntry("alexnet", _alexnet, "torchvision.models.alexnet: 61,100,840",
                 "AlexNet on 224×224 RGB, 1,000 classes (the seeds' ~60 M parameters)"),
        ZooEntry("vgg16", _vgg16, "keras.applications.VGG16: 138,357,544",
                 "VGG16 on 224×224 RGB, 1,000 classes"),
        ZooEntry("resnet50", _resnet50, "keras.applications.ResNet50: 25,636,712",
                 "ResNet-50 v1 on 224×224 RGB, 1,000 classes"),
        ZooEntry("mobilenetv2", _mobilenet_v2, "keras.applications.MobileNetV2: 3,538,984",
                 "MobileNetV2 (alpha 1.0) on 224×224 RGB, 1,000 classes"),
        ZooEntry("densenet121", _densenet121, "keras.applications.DenseNet121: 8,062,504",
                 "DenseNet-121 on 224×224 RGB, 1,000 classes"),
        ZooEntry("efficientnetb0", _efficientnet_b0,
                 "keras.applications.EfficientNetB0 (weights=None): 5,330,571",
                 "EfficientNet-B0 on 224×224 RGB, 1,000 classes"),
    )
}


def _key(name: str) -> str:
    """Case, ``-``, ``_`` and spaces ignored: ``ResNet_50`` ≡ ``resnet-50`` ≡ ``resnet50``."""
    return "".join(ch for ch in name.strip().lower() if ch.isalnum())


def find_entry(name: str) -> ZooEntry | None:
    """The zoo entry called ``name`` (see :func:`_key`); ``None`` if there is none. Parsing
    it is :mod:`paramlab.spec`'s job: the zoo is data below the parser."""
    key = _key(name)
    return next((e for e in ZOO.values() if _key(e.name) == key), None)


def suggest_model(text: str) -> str | None:
    """A zoo name close to ``text`` when ``text`` is one word that is no layer name either
    (``resnet``, ``vgg-19``), so the DSL's "unknown layer" error can point at the zoo."""
    if not re.fullmatch(r"[A-Za-z][\w\- ]*", text.strip()):
        return None
    from paramlab.errors import SpecError
    from paramlab.layers.base import get_layer_type

    try:
        get_layer_type(text.strip())
        return None  # a real layer, used wrongly: the DSL's own error says how
    except SpecError:
        pass
    key = _key(text)
    names = {_key(name): name for name in ZOO}
    prefixed = [name for k, name in names.items() if k.startswith(key) or key.startswith(k)]
    close = difflib.get_close_matches(key, list(names), n=1, cutoff=0.6)
    return prefixed[0] if prefixed else names[close[0]] if close else None
