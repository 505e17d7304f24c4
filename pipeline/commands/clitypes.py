"""Click parameter types whose values are checked by the config file's own rules."""

from __future__ import annotations

from typing import Any

import click

from sotewatch.pipeline.config import setting_number_error
from sotewatch.pipeline.configcheck import number_error


class ConfigNumber(click.ParamType):
    """A numeric flag checked as its config key is (pipeline/configcheck.py): finite and
    in range, so `--per-host-delay nan` is a usage error (exit 2), not a hung run.

    `key` names a `[settings]` key, whose rule applies; with `minimum`, a flag of its
    own that takes numbers from there up."""

    name = "number"

    def __init__(self, key: str, whole: bool = False, minimum: float | None = None) -> None:
        self.key, self.whole, self.minimum = key, whole, minimum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            number = (int if self.whole else float)(value) if isinstance(value, str) else value
        except ValueError:
            self.fail(f"{value!r} is not a {'whole ' if self.whole else ''}number", param, ctx)
        if self.minimum is None:
            error = setting_number_error(self.key, number)
        else:
            error = number_error(self.key, number, 0 if self.whole else 0.0, self.minimum, False)
        if error:
            self.fail(error, param, ctx)
        return number
