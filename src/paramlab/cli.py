"""The ``paramlab`` command. Argument parsing is stdlib-only so ``paramlab count`` starts fast;
every subcommand imports what it needs when it runs.

Errors a user can cause (:class:`~paramlab.errors.ParamlabError`) print one line (plus a caret
line for spec text) and exit with status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from paramlab.errors import MissingExtraError, ParamlabError

Handler = Callable[[argparse.Namespace], int]


def _data_shape(text: str) -> tuple[int, int]:
    from paramlab.options import positive_number

    parts = text.replace("x", ",").replace("×", ",").split(",")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(
            f"expected ROWS,FEATURES such as 13000,40; received {text!r}"
        )
    return positive_number(parts[0]), positive_number(parts[1])


def add_count_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """``paramlab count``: the options of a count come from :class:`CountOptions`' fields
    (declared once, there); the flags here only choose how the result is shown."""
    from paramlab.options import add_count_options

    p = subparsers.add_parser(
        "count",
        help="exact parameter count of an architecture, with the formula behind every number",
        description="Count parameters by arithmetic, allocating no weights. SPEC is an MLP "
        "shorthand (784-10-10-3), a one-line DSL "
        "('input(28,28,1) > conv2d(10, 3, padding=\"same\") > flatten > dense(3)'), a zoo "
        "name (alexnet), or a file (.json, .yaml, .keras, .onnx; .safetensors, a folder with "
        "model.safetensors.index.json, or .gguf: counted from their headers alone).",
    )
    p.add_argument("spec", metavar="SPEC_OR_FILE")
    p.add_argument("--explain", action="store_true", help="walk through the arithmetic in words")
    p.add_argument(
        "--data",
        type=_data_shape,
        metavar="N,F",
        help="training data shape, rows and features (e.g. 13000,40)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--format", choices=["text", "markdown", "json", "html"], default="text")
    add_count_options(p)
    p.set_defaults(handler=run_count)


def run_count(ns: argparse.Namespace) -> int:
    from paramlab.counting import count
    from paramlab.options import CountOptions

    summary = count(ns.spec, options=CountOptions.from_namespace(ns))
    fmt = "json" if ns.json else ns.format
    if fmt == "json":
        import json

        print(json.dumps(summary.to_dict(), indent=2))
    elif fmt == "markdown":
        print(summary.to_markdown(), end="")
    elif fmt == "html":
        print(summary._repr_html_())
    else:
        print(summary)
        if ns.explain:
            from paramlab.render.explain import render_explain

            print()
            print(render_explain(summary))
    return 0


def add_explain_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "explain",
        help="explain every row of a pasted Keras model.summary() or torchinfo summary()",
        description="Read a Keras (2 or 3) model.summary() or a torchinfo summary() as pasted "
        "(FILE, or - for standard input) and give each row's Param # its formula; rows and "
        "totals no formula gives are flagged (exit status 1).",
    )
    p.add_argument("file", metavar="FILE")
    p.add_argument("--format", choices=["text", "markdown", "json"], default="text")
    p.add_argument("--convention", choices=["keras", "torch"], default=None,
                   help="how statistics count (default: torch for torchinfo, else keras)")
    p.set_defaults(handler=run_explain)


def run_explain(ns: argparse.Namespace) -> int:
    from paramlab.explain_pasted import explain
    from paramlab.pasted import MAX_CHARS, parse_summary
    from paramlab.render import pasted

    text = _read_bounded(ns.file, MAX_CHARS + 1)
    result = explain(parse_summary(text, "<stdin>" if ns.file == "-" else ns.file),
                     ns.convention)
    render = {"json": pasted.render_json, "markdown": pasted.render_markdown}.get(
        ns.format, pasted.render_text)
    print(render(result), end="")
    return 1 if result.flagged else 0


def _read_bounded(path: str, limit: int) -> str:
    """The text of a file or of standard input, read as bytes up to a fixed cap (a UTF-8
    character is at most 4 bytes) so an endless pipe cannot exhaust memory."""
    from paramlab.errors import ConfigError

    cap = 4 * limit
    where = "<stdin>" if path == "-" else path
    try:
        if path == "-":
            data = sys.stdin.buffer.read(cap + 1)
        else:
            with open(path, "rb") as handle:
                data = handle.read(cap + 1)
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read it: {exc.strerror or exc}") from None
    if len(data) > cap:
        raise ConfigError(f"{where}: more than {cap:,} bytes; paste the table and its totals "
                          "only")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{where}: byte offset {exc.start}: not UTF-8 text ({exc.reason}); "
                          "expected a summary as Keras or torchinfo print it") from None


def build_parser(with_lab: bool = True) -> argparse.ArgumentParser:
    from paramlab import __version__

    parser = argparse.ArgumentParser(
        prog="paramlab",
        description="How many parameters does this network have, exactly, and where does each "
        "number come from? And how can it fit, and still generalize, with more parameters "
        "than observations?",
    )
    parser.add_argument("--version", action="version", version=f"paramlab {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_count_parser(subparsers)
    add_explain_parser(subparsers)
    if with_lab:
        _add_lab_parsers(subparsers)
    return parser


def _add_lab_parsers(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """The lab's subcommands (run, report, demo), when the lab package is present."""
    try:
        from paramlab.lab.cli import add_lab_parsers
    except ImportError:
        return
    add_lab_parsers(subparsers)


# The modules of the `lab` extra, as imported (scikit-learn imports as sklearn).
LAB_MODULES = ("numpy", "torch", "scipy", "sklearn", "matplotlib", "rich", "mnist1d")
LAB_COMMANDS = ("run", "report", "demo", "why")


def check_lab_extra(command: str | None) -> None:
    """A lab command without the `lab` extra: the install command, before any work starts
    (otherwise the first missing import would end the run in a traceback)."""
    if command not in LAB_COMMANDS:
        return
    from importlib.util import find_spec

    for module in LAB_MODULES:
        if find_spec(module) is None:
            raise MissingExtraError(module, "lab")


def _run_experiment(ns: argparse.Namespace) -> int:
    from paramlab.lab.cli import run_command

    return run_command(ns.run_argv)


def _why(ns: argparse.Namespace) -> int:
    from paramlab.lab.cli import why_command

    return why_command(ns.run_argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    # `paramlab count` never needs the lab's parsers: not importing them keeps it fast.
    parser = build_parser(with_lab=args[:1] not in (["count"], ["explain"]))
    if args[:1] in (["run"], ["why"]):  # the lab parses the rest itself (paramlab.lab.cli)
        lab = _run_experiment if args[0] == "run" else _why
        ns = argparse.Namespace(command=args[0], handler=lab, run_argv=args[1:])
    else:
        ns = parser.parse_args(args)
    handler: Handler | None = getattr(ns, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        check_lab_extra(ns.command)
        return handler(ns)
    except ParamlabError as exc:
        message = " ".join(str(exc).split())
        print(f"paramlab: error: {message}", file=sys.stderr)
        caret = exc.caret()
        if caret:
            print(caret, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("paramlab: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
