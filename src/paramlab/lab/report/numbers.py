"""Numbers formatted for people, in one place for the whole report page.

A reader should never meet ``1.102e+04`` parameters or a training loss of ``5.83e-25``:
counts get thousands separators, measurements three significant digits, and values below
what float arithmetic resolves (:data:`TINY`) read ``< 1e-12`` — at that size the digits are
rounding noise, so printing them would claim a precision the run does not have.
"""

from __future__ import annotations

import math

TINY = 1e-12  # below this a loss is zero up to float rounding: shown as "< 1e-12"
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def count(value: float) -> str:
    """An integer count with thousands separators: ``1,050,625``."""
    return f"{round(value):,}"


def number(value: float | None, digits: int = 3) -> str:
    """A measurement to ``digits`` significant digits, without exponent notation between
    10⁻⁴ and 10⁶ (``0.0123``, ``4,210``), as ``3.2 × 10⁻⁷`` outside it, ``< 1e-12`` for
    magnitudes float arithmetic cannot resolve, and ``—`` for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if value == 0:
        return "0"
    if abs(value) < TINY:
        return "< 1e-12" if value > 0 else "> −1e-12"
    magnitude = math.floor(math.log10(abs(value)))
    if -4 <= magnitude < 6:
        decimals = max(digits - 1 - magnitude, 0)
        text = f"{value:,.{decimals}f}"
        return _trim(text) if "." in text else text
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    return f"{_trim(mantissa)} × 10{str(int(exponent)).translate(_SUPERSCRIPT)}"


def percent(share: float, digits: int = 2) -> str:
    """A share as a percentage to ``digits`` significant digits (at least a whole percent's
    precision for shares above 10 %): ``0.5 %`` → ``"0.5%"``, ``0.873`` → ``"87%"``."""
    return f"{number(100 * share, digits) if abs(share) < 0.1 else f'{100 * share:.0f}'}%"


def cell(value: object) -> str:
    """Any table value as text: ints as counts, floats as measurements (an integral float
    of a count's size as a count), text as it is."""
    if value is None:
        return ""
    if isinstance(value, bool | str):
        return str(value)
    if isinstance(value, int):
        return count(value)
    if isinstance(value, float):
        if value.is_integer() and 1e3 <= abs(value) < 1e15:
            return count(value)
        return number(value)
    return str(value)


def _trim(text: str) -> str:
    """``0.1200`` → ``0.12``: trailing zeros after the point say nothing."""
    return text.rstrip("0").rstrip(".") if "." in text else text
