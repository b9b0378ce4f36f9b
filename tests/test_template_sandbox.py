"""Announcement templates are untrusted code: sandboxed, plain data only, checked at load."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes.posts import make_post

from conftest import Site
from publisher.announce.adapters.outbox import OutboxAnnouncer
from publisher.announce.render import load_template, post_fields, render_message
from publisher.config import ConfigError, load_config
from publisher.errors import AnnounceError

SSTI = "{{ cycler.__init__.__globals__.os.popen('touch pwned').read() }}"


def announcer(tmp_path: Path) -> OutboxAnnouncer:
    return OutboxAnnouncer("outbox", {"path": str(tmp_path / "o.jsonl")}, root=tmp_path)


def render(tmp_path: Path, source: str) -> str:
    template = tmp_path / f"t{abs(hash(source))}.j2"
    template.write_text(source, encoding="utf-8")
    load_template.cache_clear()
    made = announcer(tmp_path)
    return render_message(made, make_post(1), made.limit, template=str(template)).text


@pytest.mark.parametrize(
    "payload",
    [
        SSTI,
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ lipsum.__globals__['os'].popen('touch pwned').read() }}",
        "{{ namespace.__init__.__globals__ }}",
        "{% set x = tags.append('y') %}{{ tags }}",  # the immutable sandbox: no mutation
    ],
)
def test_ssti_payloads_are_stopped_and_never_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, payload: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(AnnounceError) as caught:
        render(tmp_path, payload)
    assert "the template was stopped by the sandbox" in caught.value.reason
    assert "a template may only format the post's fields" in caught.value.reason
    assert not (tmp_path / "pwned").exists()


def test_post_is_plain_data_with_no_path_to_the_disk(tmp_path: Path) -> None:
    with pytest.raises(AnnounceError, match="has no attribute 'source'"):
        render(tmp_path, "{{ post.source.read_text() }}")
    fields = post_fields(make_post(1))
    assert all(not isinstance(v, Path) for v in fields.values())


def test_a_template_cannot_read_a_file_beside_it(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("TOKEN=hunter2", encoding="utf-8")
    with pytest.raises(AnnounceError) as caught:
        render(tmp_path, "{% include 'secret.txt' %} {{ url }}")
    assert "hunter2" not in str(caught.value)
    assert "template error" in caught.value.reason


def test_a_template_may_use_the_post_fields(tmp_path: Path) -> None:
    text = render(
        tmp_path,
        "{{ post.title|upper }} {{ post.id }} {{ post.tags|join(',') }} "
        "{{ post.date.year }} {% for a in post.authors %}{{ a.name }}{% endfor %} {{ url }}",
    )
    post = make_post(1)
    assert text.startswith(f"{post.title.upper()} {post.id} ")
    assert post.url in text


def write_site(site: Site, template: str, body: str) -> Path:
    (site.root / template).write_text(body, encoding="utf-8")
    return site.config(
        f"""\
        site:
          title: T
          url: https://blog.example.org
        announce:
          targets:
            - kind: outbox
              path: outbox.jsonl
              template: {template}
        """
    )


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            "{{ title }}\n{% if summary %}\n{{ url }\n",
            "announce.targets[0].template: t.j2:3: template syntax error: unexpected '}'; "
            "fix the template",
        ),
        (
            "{{ title }}\n{% for t in tags %}{{ t }}\n",
            "announce.targets[0].template: t.j2:2: template syntax error: Unexpected end of "
            "template.",
        ),
        (
            "{{ titel }} {{ url }}",
            "announce.targets[0].template: t.j2: unknown variable 'titel'; did you mean 'title'?",
        ),
        (b"\xff\xfe{{ title }}", "announce.targets[0].template: t.j2 is not UTF-8 text"),
        (
            "{% include '.env' %}{{ url }}",
            "announce.targets[0].template: t.j2: loads another file (.env) with include, import "
            "or extends; a template must be one self-contained file",
        ),
        (
            "{% extends name %}",
            "announce.targets[0].template: t.j2: loads another file (a computed name)",
        ),
    ],
)
def test_broken_templates_are_config_errors(site: Site, body: str | bytes, problem: str) -> None:
    config = write_site(site, "t.j2", "")
    target = site.root / "t.j2"
    if isinstance(body, bytes):
        target.write_bytes(body)
    else:
        target.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith(problem)


def test_unknown_template_file_is_a_config_error(site: Site) -> None:
    config = write_site(site, "t.j2", "{{ title }}")
    config.write_text(config.read_text().replace("t.j2", "missing/t.j2"), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert caught.value.problems == [
        "announce.targets[0].template: missing/t.j2 does not exist; "
        "fix the path (it is relative to config.yaml)"
    ]


def test_a_good_template_loads_with_its_absolute_path(site: Site) -> None:
    config = load_config(write_site(site, "t.j2", "{{ title }} {{ url }}"))
    assert config.announce.targets[0].options["template"] == str(site.root / "t.j2")
