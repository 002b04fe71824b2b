"""The curated public API stays complete and importable (httpx's test_exported_members)."""

import paramlab


def test_all_names_exist() -> None:
    for name in paramlab.__all__:
        assert hasattr(paramlab, name), name


def test_every_public_attribute_is_exported() -> None:
    public = {
        name
        for name, value in vars(paramlab).items()
        if not name.startswith("_") and not getattr(value, "__name__", "").startswith("paramlab.")
    }
    assert public <= set(paramlab.__all__)


def test_errors_form_one_tree() -> None:
    for name in ("SpecError", "ShapeError", "ConfigError", "DataError", "MissingExtraError"):
        assert issubclass(getattr(paramlab, name), paramlab.ParamlabError)
    assert issubclass(paramlab.SpecError, ValueError)
