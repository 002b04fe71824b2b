"""Every zoo entry against the reference implementation it names (built here, weights=None)."""

from typing import Any

import pytest

import paramlab
from paramlab.zoo import ZOO

keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")


def keras_counts(model: Any) -> tuple[int, int, int]:
    trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    return model.count_params(), trainable, model.count_params() - trainable


def layer_counts(summary: paramlab.Summary) -> list[int]:
    return sorted(row.params for row in summary.layers if row.params)


@pytest.mark.parametrize(
    ("entry", "application"),
    [("vgg16", "VGG16"), ("resnet50", "ResNet50"), ("mobilenetv2", "MobileNetV2")],
)
def test_keras_applications(entry: str, application: str) -> None:
    model = getattr(keras.applications, application)(weights=None)
    summary = paramlab.count(entry)
    assert (summary.total, summary.trainable, summary.non_trainable) == keras_counts(model)
    assert layer_counts(summary) == sorted(
        layer.count_params() for layer in model.layers if layer.count_params()
    )
    assert summary.layers[-1].output_shape == (1000,)
    keras.backend.clear_session()


def test_lenet5_matches_keras_and_the_paper() -> None:
    layers = keras.layers
    model = keras.Sequential([
        keras.Input((32, 32, 1)), layers.Conv2D(6, 5), layers.AveragePooling2D(2),
        layers.Conv2D(16, 5), layers.AveragePooling2D(2), layers.Flatten(),
        layers.Dense(120), layers.Dense(84), layers.Dense(10),
    ])
    summary = paramlab.count("lenet5")
    assert summary.total == model.count_params() == 61_706


def torchvision_alexnet() -> Any:
    """torchvision/models/alexnet.py, AlexNet.__init__, layer for layer (torchvision itself
    cannot be installed beside the pinned CPU torch)."""
    nn = torch.nn
    features = nn.Sequential(
        nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),
    )
    classifier = nn.Sequential(
        nn.Dropout(0.5), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
        nn.Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Linear(4096, 1000),
    )
    return nn.Sequential(features, nn.AdaptiveAvgPool2d((6, 6)), nn.Flatten(), classifier)


def test_alexnet_matches_torchvision() -> None:
    with torch.device("meta"):
        model = torchvision_alexnet()
        out = model(torch.empty(1, 3, 224, 224))
    features = model[0](torch.empty(1, 3, 224, 224, device="meta"))
    summary = paramlab.count("alexnet", convention="torch")
    assert summary.total == sum(p.numel() for p in model.parameters()) == 61_100_840
    flatten = next(row for row in summary.layers if row.type == "Flatten")
    assert flatten.output_shape == (features.numel(),)  # 9,216 values reach the classifier
    assert summary.layers[-1].output_shape == (out.shape[1],)


def test_alexnet_answers_the_seed_ratio(capsys: pytest.CaptureFixture[str]) -> None:
    from paramlab.cli import main

    assert main(["count", "alexnet", "--observations", "1.2e6"]) == 0
    out = capsys.readouterr().out
    assert "Observations: 1,200,000; trainable parameters per observation: 50.92" in out


def test_every_entry_names_a_reference_and_counts() -> None:
    for entry in ZOO.values():
        assert entry.reference and entry.description
        assert paramlab.count(entry.name).total > 0
    assert paramlab.count("ResNet_50").name == "resnet50"
