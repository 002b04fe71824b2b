"""Types without a declaration: built by transformers on the meta device, or a clear error.

With transformers installed the count is the real class's ``sum(p.numel())``, through the
PyTorch adapter, and the summary says how it was made. Without transformers (a subprocess
where importing it is impossible) the error names the supported types and the install
command, and the CLI exits 2.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from paramlab.adapters.hf import SUPPORTED_MODEL_TYPES, count_hf_config
from paramlab.errors import ConfigError

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
transformers.logging.set_verbosity_error()

BIGCODE = {"model_type": "gpt_bigcode", "n_embd": 32, "n_layer": 2, "n_head": 4,
           "vocab_size": 97, "n_positions": 40}


def torch_counts(class_name: str | None, fields: dict) -> tuple[int, int]:
    config = transformers.AutoConfig.for_model(**fields)
    with torch.device("meta"):
        model = (transformers.AutoModel.from_config(config) if class_name is None
                 else getattr(transformers, class_name)(config))
    params = list(model.parameters())
    return sum(p.numel() for p in params), sum(p.numel() for p in params if p.requires_grad)


def test_undeclared_type_is_built_by_transformers():
    assert "gpt_bigcode" not in SUPPORTED_MODEL_TYPES
    data = {**BIGCODE, "architectures": ["GPTBigCodeForCausalLM"]}
    summary = count_hf_config(data)
    assert summary.name == "GPTBigCodeForCausalLM"
    assert (summary.total, summary.trainable) == torch_counts("GPTBigCodeForCausalLM", BIGCODE)
    assert "built by transformers" in summary.origin
    assert summary.count_notes[-1].kind == "counted"
    assert "Counted by transformers" in summary.count_notes[-1].text
    base = count_hf_config(data, None, {"base": True})
    assert (base.total, base.trainable) == torch_counts(None, BIGCODE)
    assert base.name == "GPTBigCodeModel"


def test_frozen_tensors_stay_frozen_through_the_fallback():
    """Counting does not touch requires_grad: the fallback reports what transformers built."""
    data = {**BIGCODE, "architectures": ["GPTBigCodeForSequenceClassification"],
            "num_labels": 3}
    summary = count_hf_config(data)
    expected = torch_counts("GPTBigCodeForSequenceClassification", {**BIGCODE, "num_labels": 3})
    assert (summary.total, summary.trainable) == expected


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"model_type": "no_such_model"}, "does not know 'no_such_model' either"),
        ({**BIGCODE, "architectures": ["GPTBigCodeForImaginaryTask"]},
         "unsupported model_type 'gpt_bigcode'"),
        ({"model_type": "llama", "architectures": ["LlamaForMaskedLM"]},
         "Supported: LlamaModel, LlamaForCausalLM"),
    ],
)
def test_errors(data, message):
    with pytest.raises(ConfigError, match=message):
        count_hf_config(data)


def test_without_transformers_the_error_says_what_to_install(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**BIGCODE, "architectures": ["GPTBigCodeForCausalLM"]}))
    code = (
        "import sys; sys.modules['transformers'] = None; sys.modules['torch'] = None\n"
        "from paramlab.cli import main\n"
        f"code = main(['count', {str(path)!r}])\n"
        "from paramlab.adapters.hf import count_hf_config\n"
        f"print(count_hf_config({{'model_type': 'llama'}}).total)\n"
        "sys.exit(code)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 2, out.stderr
    error = out.stderr.strip()
    assert error.count("\n") == 0, "one line, no traceback"
    assert "unsupported model_type 'gpt_bigcode'" in error
    assert "Supported: albert, bart, bert, bloom" in error
    assert "pip install 'paramlab[hf]'" in error
    assert out.stdout.strip() == "6607343616"  # declared types count without it (LlamaModel)


W2V = {"model_type": "wav2vec2", "hidden_size": 32, "num_hidden_layers": 1,
       "num_attention_heads": 4, "intermediate_size": 48, "conv_dim": [8, 8],
       "conv_stride": [5, 2], "conv_kernel": [10, 3], "num_conv_pos_embeddings": 16,
       "num_conv_pos_embedding_groups": 4, "vocab_size": 20, "tdnn_dim": [8, 8],
       "tdnn_kernel": [3, 1], "tdnn_dilation": [1, 1], "xvector_output_dim": 8}


@pytest.mark.parametrize(
    ("class_name", "fields"),
    [("Wav2Vec2ForXVector", {}),  # a class the declaration leaves out
     ("Wav2Vec2ForCTC", {"add_adapter": True, "output_hidden_size": 16,
                         "num_adapter_layers": 1})],  # an option it leaves out
)
def test_undeclared_class_or_option_of_a_declared_type(class_name, fields):
    data = {**W2V, **fields, "architectures": [class_name]}
    summary = count_hf_config(data)
    assert "built by transformers" in summary.origin
    assert (summary.total, summary.trainable) == torch_counts(class_name, {**W2V, **fields})
