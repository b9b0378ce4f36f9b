"""Unattended runs: the GitHub Action's steps and the state that survives ephemeral runners.

::

    statebranch.py  the ledger kept on a branch of the site's repository (restore, save)
    git.py          the git plumbing under it (read the ledger at a commit, commit it)
    merge.py        three-way merge of two ledgers that grew from one base
    summary.py      ``publish --json`` report -> Action outputs and job summary
    cli.py          ``publish automation restore|save|summary`` (also ``python -m publisher.automation``)
"""
