"""Credentials read from environment variables: a leaf module everything may import.

Config, the announcement adapters and the redaction code all need :class:`Secret`; keeping it
here (importing nothing from publisher but publisher.dataclass, itself a leaf) is what keeps
those packages free of import cycles.
"""

from __future__ import annotations

import re

from publisher.dataclass import dataclass, field

#: ``${NAME}`` in config.yaml: the value is read from the environment variable NAME.
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Secret:
    """A credential read from an environment variable; never printed."""

    env: str
    value: str | None = field(repr=False, compare=False)

    def __repr__(self) -> str:
        return f"Secret(${{{self.env}}})"

    def __str__(self) -> str:
        return f"${{{self.env}}}"
