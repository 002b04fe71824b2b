"""The numbers the seed tutorials count by hand (shared/seeds/003 and 004), exactly."""

import pytest

import paramlab


@pytest.mark.parametrize(
    ("spec", "total"),
    [
        ("5-8-4-3", 99),  # seeds/003: 48 + 36 + 15
        ("4-16-8-4-2", 262),  # seeds/003 exercise
        ("784-10-10-3", 7_993),  # seeds/004 dense
        (
            'input(28, 28, 1) > conv2d(10, 3, padding="same") > conv2d(10, 3, padding="same")'
            " > flatten > dense(3)",
            24_533,
        ),  # seeds/004 CNN: 100 + 910 + 0 + 23,523
    ],
)
def test_seed_totals(spec: str, total: int) -> None:
    summary = paramlab.count(spec)
    assert summary.total == total
    assert summary.trainable == total
    assert summary.non_trainable == 0


def test_seed_layer_by_layer() -> None:
    """seeds/003 lists 48, 36 and 15; seeds/004 lists 7,850 and 100, 910, 0, 23,523."""
    assert [r.params for r in paramlab.count("5-8-4-3").layers] == [48, 36, 15]
    assert [r.params for r in paramlab.count("784-10-10-3").layers] == [7_850, 110, 33]
    cnn = paramlab.count("seed-mnist-cnn")
    assert [r.params for r in cnn.layers] == [100, 910, 0, 23_523]
    assert cnn.layers[2].output_shape == (7_840,)


def test_keras_footer_format() -> None:
    text = str(paramlab.count("784-10-10-3"))
    assert " Total params: 7,993 (31.22 KB)" in text.splitlines()
    assert " Non-trainable params: 0 (0.00 B)" in text.splitlines()
