"""``config.yaml``: what it holds (:mod:`.model`) and how it is read and checked (:mod:`.loader`).

loader.py    load_config, parse_config: YAML -> Config, every problem at once
model.py     Config and its sections: frozen dataclasses, no I/O
posts.py     the posts: section, and a site generator's own config files
targets.py   announce.targets: kind, unique name, template checked at load
paths.py     folders resolved against config.yaml, planted links refused
stored.py    the loaded config kept in the last build's record, for the next build
"""

from __future__ import annotations

from publisher.config.model import (
    AnnounceConfig,
    CardsConfig,
    Config,
    FeedsConfig,
    PostsConfig,
    SiteAuthor,
    SiteConfig,
    TargetConfig,
)
from publisher.errors import ConfigError
from publisher.lazy import lazy_exports

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from publisher.config.loader import load_config, parse_config

__all__ = [
    "AnnounceConfig",
    "CardsConfig",
    "Config",
    "ConfigError",
    "FeedsConfig",
    "PostsConfig",
    "SiteAuthor",
    "SiteConfig",
    "TargetConfig",
    "load_config",
    "parse_config",
]

# The loader is imported on first use (PEP 562): the model is all most stages need, and a
# build handed the config the last one loaded (stored.py) never loads the YAML parser,
# the schema or the stage option validators.
__getattr__ = lazy_exports(__name__, {"load_config": "loader", "parse_config": "loader"}, globals())
