"""``announce.targets`` of config.yaml: one entry per place a post is announced.

Each target's own options are checked by :mod:`publisher.announce.options` (imported only
when a target is written, so a build without announcements loads nothing of announce/);
here: the kind, a name no other target uses, and the templates (``template``, and the
email's ``html_template``), read and parsed now so that ``check``, ``build``, ``announce``
and ``--dry-run`` all refuse a broken one the same way before doing any work.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from publisher.config.model import TargetConfig
from publisher.config.paths import planted_link
from publisher.schema import Field, Invalid, Schema, Where, kind, text

_NAMING = Schema({"kind": Field(text(), required=True), "name": Field(text())})


class Targets:
    """Reads the targets of one config file in order, remembering the names taken."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.names: set[str] = set()

    def read(self, item: Any, where: Where) -> TargetConfig | None:
        """One target, or None when its kind is missing or unknown (already reported)."""
        from publisher.announce.options import parse_target_options

        if not isinstance(item, dict):
            raise Invalid(f"must be a mapping, not {kind(item)}")
        # The kind and name only; the rest of the keys are the adapter's, checked below.
        naming = Schema(_NAMING.fields, also=tuple(str(k) for k in item))
        found = naming.read(item, where)
        target_kind: str = found.get("kind", "")
        if not target_kind:
            return None
        name: str = found.get("name") or target_kind
        if name in self.names:
            where.key("name").error(
                f"'{name}' is used by another target; give each target its own name"
            )
        self.names.add(name)
        options, problems = parse_target_options(target_kind, item, where=where.path)
        where.problems.extend(problems)
        if any(p.startswith(f"{where.path}.kind:") for p in problems):
            return None
        for key in ("template", "html_template"):
            if options.get(key):
                options[key] = self.template(str(options[key]), where.key(key))
        return TargetConfig(name=name, kind=target_kind, options=options)

    def template(self, template: str, where: Where) -> str:
        """The template's absolute path; a missing or broken template is a config problem."""
        from publisher.announce.render import template_problem

        path = Path(template)
        if not path.is_absolute():
            path = self.root / path
        if where.name == "html_template":
            problem = _html_problem(path, template)
        else:
            problem = template_problem(path, template)
        if planted_link(self.root, path):
            # A pull request could link the template to a file of the runner's (~/.netrc)
            # and have its text announced in public.
            problem = (
                f"'{template[:80]}' is a symbolic link (or inside one) leading outside the "
                "folder of config.yaml; not read; replace the link with the template itself"
            )
        if problem is not None:
            where.error(problem)
        return str(path)


def _html_problem(path: Path, shown: str) -> str | None:
    """The email's HTML template: readable UTF-8 jinja2 (its variables differ from the text
    template's, and are checked when a message is rendered)."""
    import jinja2

    try:
        jinja2.Environment().parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return f"{shown} does not exist; fix the path (it is relative to config.yaml)"
    except (OSError, UnicodeDecodeError):
        return f"{shown} cannot be read as UTF-8 text; fix the path or save it as UTF-8"
    except jinja2.TemplateSyntaxError as exc:
        return f"{shown}:{exc.lineno}: template syntax error: {exc.message}; fix the template"
    return None
