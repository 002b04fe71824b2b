"""Named architectures written as specs, each stating the reference it follows."""

from __future__ import annotations

from dataclasses import dataclass

from paramlab.graph import ModelSpec


@dataclass(frozen=True)
class ZooEntry:
    name: str
    spec: str
    reference: str  # the implementation whose count a test reproduces
    description: str


SEEDS = {
    "seed-weather": ZooEntry(
        "seed-weather",
        "5-8-4-3",
        "tutorial ML-001 (seeds/003): 99 trainable parameters",
        "5 features, hidden 8 and 4, 3 classes",
    ),
    "seed-exercise": ZooEntry(
        "seed-exercise",
        "4-16-8-4-2",
        "tutorial ML-001 exercise (seeds/003): 262",
        "4 inputs, hidden 16, 8, 4, 2 outputs",
    ),
    "seed-mnist-dense": ZooEntry(
        "seed-mnist-dense",
        "784-10-10-3",
        "Keras summary in seeds/004: 7,993",
        "28×28 pixels flattened, two Dense(10), Dense(3)",
    ),
    "seed-mnist-cnn": ZooEntry(
        "seed-mnist-cnn",
        'input(28, 28, 1) > conv2d(10, 3, padding="same") > conv2d(10, 3, padding="same") '
        "> flatten > dense(3)",
        "Keras summary in seeds/004: 24,533",
        "two same-padded 3×3 Conv2D of 10 filters, Flatten, Dense(3)",
    ),
}

ZOO: dict[str, ZooEntry] = dict(SEEDS)


def find_model(name: str) -> ModelSpec | None:
    """The zoo entry called ``name`` (case-insensitive, ``-``/``_`` ignored), parsed."""
    key = name.strip().lower().replace("_", "-")
    entry = ZOO.get(key) or ZOO.get(key.replace("-", ""))
    if entry is None:
        return None
    from paramlab.spec import parse

    model = parse(entry.spec)
    model.name = entry.name
    model.origin = f"zoo: {entry.reference}"
    return model
