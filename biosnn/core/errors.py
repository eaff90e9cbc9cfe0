"""Exceptions raised for bad input.

Every error biosnn raises for a user mistake is a :class:`BiosnnInputError` (a
``ValueError``), and its message names the offending argument, the value seen and
what was expected, so that a researcher can fix the call without reading code.
"""


class BiosnnInputError(ValueError):
    """A user-supplied value (parameter, array, file) is invalid."""


class UnknownModelError(BiosnnInputError, KeyError):
    """The requested model name is not in the registry."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""
