"""``python -m publisher.automation restore|save|summary``: the Action's steps."""

from publisher.automation.cli import main

main()
