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


def weighted_layers(summary: paramlab.Summary) -> list[tuple[int, int, Any]]:
    """(params, trainable, output shape) of every layer with weights, as a sorted multiset:
    the zoo's DSL may list parallel branches in another order than Keras."""
    return sorted((row.params, row.trainable, row.output_shape)
                  for row in summary.layers if row.params)


def keras_weighted_layers(model: Any) -> list[tuple[int, int, Any]]:
    return sorted(
        (layer.count_params(), sum(int(w.numpy().size) for w in layer.trainable_weights),
         tuple(layer.output.shape[1:]))
        for layer in model.layers if layer.count_params()
    )


@pytest.mark.parametrize(
    ("entry", "application"),
    [("vgg16", "VGG16"), ("resnet50", "ResNet50"), ("mobilenetv2", "MobileNetV2"),
     ("densenet121", "DenseNet121"), ("efficientnetb0", "EfficientNetB0")],
)
def test_keras_applications(entry: str, application: str) -> None:
    model = getattr(keras.applications, application)(weights=None)
    summary = paramlab.count(entry)
    assert (summary.total, summary.trainable, summary.non_trainable) == keras_counts(model)
    assert weighted_layers(summary) == keras_weighted_layers(model)
    assert len(summary.layers) == len(model.layers) - (not summary.show_connections)
    assert summary.layers[-1].output_shape == (1000,)
    assert application.lower() in ZOO[entry].reference.lower()
    keras.backend.clear_session()


def test_lenet5_matches_keras_and_the_paper() -> None:
    layers = keras.layers
    model = keras.Sequential([
        keras.Input((32, 32, 1)), layers.Conv2D(6, 5), layers.AveragePooling2D(2),
        layers.Conv2D(16, 5), layers.AveragePooling2D(2), layers.Flatten(),
        layers.Dense(120), layers.Dense(84), layers.Dense(10),
    ])
    summary = paramlab.count("lenet5")
    assert (summary.total, summary.trainable, summary.non_trainable) == keras_counts(model)
    assert summary.total == 61_706  # the paper's C1 156, C3 1,516, C5 48,120, F6 10,164, 850
    assert weighted_layers(summary) == keras_weighted_layers(model)


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
    assert summary.trainable == summary.total and summary.buffers == 0
    torch_layers = [sum(p.numel() for p in m.parameters()) for m in model.modules()
                    if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    assert [row.params for row in summary.layers if row.params] == torch_layers
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


@pytest.mark.parametrize(
    ("written", "name"),
    [("ResNet_50", "resnet50"), ("MobileNet-V2", "mobilenetv2"), ("LeNet-5", "lenet5"),
     ("EfficientNet B0", "efficientnetb0"), ("VGG16", "vgg16"),
     ("seed_mnist_cnn", "seed-mnist-cnn")],
)
def test_zoo_names_ignore_case_dashes_and_underscores(written: str, name: str) -> None:
    assert paramlab.count(written, other_convention=False).name == name


def test_unknown_model_name_falls_back_to_the_dsl_with_a_zoo_hint() -> None:
    with pytest.raises(paramlab.SpecError, match="did you mean the zoo model 'resnet50'"):
        paramlab.count("resnet")
    with pytest.raises(paramlab.SpecError, match="missing its required argument 'units'"):
        paramlab.count("dense")  # a layer, not a misspelt model: the DSL's own error
    assert paramlab.count("input(4) > dense(2)").total == 10
