"""Golden outputs: every renderer's exact bytes for a handful of models, so a change to any
output shows in a diff instead of passing a substring check. ``pytest --update-golden``
rewrites the files (tests/golden/); review the diff before committing it.

The cases: the seed tutorials' four models (99, 262, 7,993 and 24,533 parameters, counted by
hand in shared/seeds/003 and 004), a second CNN, an LSTM, and a Hugging Face config with
``--memory`` (a small Mistral: grouped-query attention and a sliding window; a small
DeepSeek-V2: latent attention, its expanded cache, a defaulted and an unread field), and a
tiny safetensors and GGUF file (headers, stored bytes, metadata). A config or file is passed
by a relative name from tests/golden/, so the origin printed holds no machine path.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from paramlab.cli import main

GOLDEN = Path(__file__).parent / "golden"
FORMATS = ("text", "markdown", "html", "json")
SUFFIX = {"text": "txt", "markdown": "md", "html": "html", "json": "json"}

CASES: dict[str, list[str]] = {
    "seed-99": ["5-8-4-3", "--data", "150,5"],
    "seed-262": ["4-16-8-4-2"],
    "seed-7993": ["784-10-10-3", "--flops", "--batch-size", "32"],
    "seed-24533": ["seed-mnist-cnn", "--memory"],
    "cnn": ["input(32, 32, 3) > conv2d(16, 3) > batch_normalization > max_pooling2d(2)"
            " > flatten > dense(10)",
            "--convention", "torch"],
    "lstm": ["input(100, 8) > lstm(32, return_sequences=true) > lstm(16) > dense(1)",
             "--memory", "--flops"],
    "hf-mistral": ["tiny-mistral.config.json", "--memory", "--context", "64",
                   "--batch-size", "2", "--flops"],
    "hf-deepseek-v2": ["tiny-deepseek-v2.config.json", "--memory", "--context", "32"],
    # Checkpoint headers (written by write_tensor_files.py with safetensors and gguf).
    "safetensors": ["tiny.safetensors"],
    "safetensors-depth": ["tiny.safetensors", "--depth", "1", "--convention", "keras"],
    "gguf": ["tiny.gguf"],
    # training per GPU: ZeRO-3 sharding, offload, Adafactor's factored state, activations
    "seed-7993-zero3": ["784-10-10-3", "--zero", "3", "--gpus", "4"],
    "hf-deepseek-v2-train": ["tiny-deepseek-v2.config.json", "--depth", "0", "--zero", "2",
                             "--gpus", "8", "--offload", "optimizer", "--optimizer",
                             "adafactor", "--context", "32", "--checkpointing", "selective"],
}


def _normalise(text: str) -> str:
    """transformers' version would appear only in a fallback count (none of these cases);
    a version string is replaced so a golden file does not depend on the installed release."""
    return re.sub(r"transformers \d+\.\d+\.\d+", "transformers X.Y.Z", text)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_golden(case: str, fmt: str, request: pytest.FixtureRequest,
                capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(GOLDEN)
    assert main(["count", *CASES[case], "--format", fmt]) == 0
    out = _normalise(capsys.readouterr().out)
    path = GOLDEN / f"{case}.{SUFFIX[fmt]}"
    if request.config.getoption("--update-golden"):
        path.write_text(out, encoding="utf-8")
    assert path.exists(), f"{path.name} missing: run pytest --update-golden"
    assert out == path.read_text(encoding="utf-8"), (
        f"{path.name} differs; if the change is intended, run pytest --update-golden")


def test_notes_are_data() -> None:
    """The adapter says what a note is about; only the renderers make sentences into lines.
    The DeepSeek config leaves out first_k_dense_replace and holds num_nextn_predict_layers,
    which transformers' DeepseekV2 sizes nothing from."""
    import json

    from paramlab.adapters.hf import count_hf_config

    data = json.loads((GOLDEN / "tiny-deepseek-v2.config.json").read_text(encoding="utf-8"))
    notes = {note.kind: note for note in count_hf_config(data).count_notes}
    assert notes["default"].fields == ("first_k_dense_replace",)
    assert notes["unread"].fields == ("num_nextn_predict_layers",)
    kinds = list(notes)
    assert kinds[0] == "counted" and kinds[-1] == "macs"


def test_json_says_which_fields_were_defaulted(capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """--json once dropped the adapter's notes, so a count that took a size from the config
    class's defaults said so in text, Markdown and HTML but not in JSON."""
    import json

    monkeypatch.chdir(GOLDEN)
    assert main(["count", "tiny-deepseek-v2.config.json", "--json"]) == 0
    notes = json.loads(capsys.readouterr().out)["count_notes"]
    defaulted = [note for note in notes if note["kind"] == "default"]
    assert [note["fields"] for note in defaulted] == [["first_k_dense_replace"]]
    assert "first_k_dense_replace=0" in defaulted[0]["text"]
