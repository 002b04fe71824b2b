"""The one exception tree of paramlab.

Every error a user can cause derives from :class:`ParamlabError`; the CLI catches only that
base, prints its one-line message and exits with status 2. Anything else is a bug and keeps
its traceback.

    ParamlabError
    ├── SpecError(ValueError)        malformed spec text, unknown layer or argument
    ├── ShapeError(ValueError)       a layer cannot accept the shape it receives
    ├── ConfigError(ValueError)      unreadable or non-model JSON/YAML/config files
    ├── DataError(ValueError)        bad data for the lab (NaN, missing column, …)
    └── MissingExtraError(ImportError)  an optional dependency is not installed
"""

from __future__ import annotations


class ParamlabError(Exception):
    """Base of every error a user can cause; its message is one line, ready to print.

    ``text`` and ``column`` locate the error in a one-line spec, for a caret under it.
    """

    def __init__(self, message: str, text: str | None = None, column: int | None = None):
        self.text = text
        self.column = column
        super().__init__(message)

    def caret(self) -> str:
        """The offending spec line with a caret under the column, for the CLI's second line."""
        if self.text is None or self.column is None:
            return ""
        line = self.text.replace("\n", " ")
        return f"  {line}\n  {' ' * self.column}^"


class SpecError(ParamlabError, ValueError):
    """The architecture description is malformed: syntax, unknown layer, bad argument."""


class ShapeError(ParamlabError, ValueError):
    """A layer received a shape it cannot work with (kernel larger than input, mismatch)."""


class ConfigError(ParamlabError, ValueError):
    """A file could not be read as a model description."""


class DataError(ParamlabError, ValueError):
    """Data given to the lab is unusable: names the file, column and rows."""


class MissingExtraError(ParamlabError, ImportError):
    """An optional framework is needed; the message holds the exact install command."""

    def __init__(self, module: str, extra: str):
        self.module = module
        self.extra = extra
        super().__init__(
            f"this needs the optional dependency {module!r}; install it with: "
            f"pip install 'paramlab[{extra}]'"
        )


def require(module: str, extra: str):
    """Import an optional dependency or raise :class:`MissingExtraError` with the fix."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(module, extra) from exc
