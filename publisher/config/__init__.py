"""``config.yaml``: what it holds (:mod:`.model`) and how it is read and checked (:mod:`.loader`).

loader.py    load_config, parse_config: YAML -> Config, every problem at once
model.py     Config and its sections: frozen dataclasses, no I/O
posts.py     the posts: section, and a site generator's own config files
targets.py   announce.targets: kind, unique name, template checked at load
paths.py     folders resolved against config.yaml, planted links refused
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

# isort: split
# The model first: a stage that imports this package while the loader is being imported
# (feeds -> config -> loader -> feeds.options) finds SiteConfig and Config already here.
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
