"""The README's promises: short enough to read, and every shell command in it valid as written.

Blocks of `newsqa` commands that need no server run as written (on an index of their own, through
$NEWSQA_INDEX); the `curl` block runs against a live server; every other command is checked
against what it names: `make` targets in the Makefile, `newsqa` subcommands and flags in the real
argument parser (so flags added later are found), API paths, methods and fields in the server's
OpenAPI description, settings in the code.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

import httpx
import pytest

from conftest import ROOT, clean_env
from qa.cli import build_parser

README = ROOT / "README.md"
NEWSQA = ".venv/bin/newsqa"
# Subcommands a README block may run here: fast, offline, no server.
RUNNABLE = {"index", "list", "ask", "search", "stats", "parse"}
README_HOST = "127.0.0.1:7860"


def shell_blocks(text: str) -> list[str]:
    """The bodies of the fenced ```sh / ```bash blocks, in order."""
    return re.findall(r"^```(?:sh|bash)\n(.*?)^```", text, flags=re.S | re.M)


def commands(block: str) -> list[list[str]]:
    """A block's commands as argument lists: continuation lines joined, comments dropped, `A && B` split."""
    out = []
    for line in block.replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        while words:
            cut = words.index("&&") if "&&" in words else len(words)
            out.append(words[:cut])
            words = words[cut + 1:]
    return [c for c in out if c]


def subparsers() -> dict:
    """Each `newsqa` subcommand's parser, from the real parser."""
    parser = build_parser()
    (action,) = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    return action.choices


def flags(parser) -> set[str]:
    return {s for a in parser._actions for s in a.option_strings}


def unknown_newsqa_words(argv: list[str], parsers: dict) -> list[str]:
    """What a `newsqa ...` command names that does not exist: the subcommand, flags, or files."""
    if len(argv) < 2 or argv[1] not in parsers:
        return [f"subcommand {argv[1:2]}"]
    known = flags(parsers[argv[1]])
    missing = [w for w in argv[2:] if w.startswith("-") and w.split("=")[0] not in known]
    missing += [w for w in argv[2:] if re.search(r"\.(txt|md|html|jsonl)$", w) and not (ROOT / w).exists()]
    return missing


def make_targets() -> set[str]:
    return set(re.findall(r"^([A-Za-z][\w-]*):", (ROOT / "Makefile").read_text(), flags=re.M))


def code_settings() -> set[str]:
    """Every NEWSQA_* name the code reads."""
    text = "".join(p.read_text(encoding="utf-8") for d in ("qa", "ui", "embeddings") for p in (ROOT / d).rglob("*.py"))
    return set(re.findall(r"NEWSQA_[A-Z_]+", text))


def curl_request(argv: list[str]) -> tuple[str, str, dict, list[str]]:
    """(method, path, JSON body, form fields) of a README curl command."""
    method, url, body, form = None, None, {}, []
    words = iter(argv[1:])
    for w in words:
        if w == "-X":
            method = next(words)
        elif w in ("-d", "--data"):
            body = json.loads(next(words))
        elif w == "-F":
            form.append(next(words).split("=", 1)[0])
        elif w == "-H":
            next(words)
        elif w.startswith(README_HOST):
            url = w[len(README_HOST):]
    method = method or ("POST" if body or form else "GET")
    return method, url, body, form


def route_for(openapi: dict, method: str, path: str) -> dict | None:
    """The OpenAPI operation serving a concrete path (``{param}`` matches one segment)."""
    for template, operations in openapi["paths"].items():
        if re.fullmatch(re.sub(r"\{[^/]+\}", "[^/]+", template), path) and method.lower() in operations:
            return operations[method.lower()]
    return None


def request_fields(openapi: dict, operation: dict) -> set[str]:
    """The fields an operation's request body takes (JSON or multipart)."""
    content = operation.get("requestBody", {}).get("content", {})
    fields = set()
    for media in content.values():
        schema = media["schema"]
        if "$ref" in schema:
            schema = openapi["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        fields |= set(schema.get("properties", {}))
    return fields


BLOCKS = shell_blocks(README.read_text(encoding="utf-8"))


def test_readme_is_short():
    text = README.read_text(encoding="utf-8")
    assert len(text) < 10_000, f"README.md has {len(text)} characters"
    assert BLOCKS and "docs/benchmarks.md" in text and "docs/chat.png" in text


def test_the_command_parser_finds_what_is_missing():
    parsers = subparsers()
    assert unknown_newsqa_words([NEWSQA, "index", "x.txt", "--paper-name", "浙江日报"], parsers) == ["x.txt"]
    assert unknown_newsqa_words([NEWSQA, "ask", "问题", "--no-such-flag"], parsers) == ["--no-such-flag"]
    assert unknown_newsqa_words([NEWSQA, "no-such-command"], parsers) == ["subcommand ['no-such-command']"]
    assert commands("make a   # one\nx \\\n  y && z\n") == [["make", "a"], ["x", "y"], ["z"]]


def test_every_command_names_what_exists():
    parsers, targets, settings = subparsers(), make_targets(), code_settings()
    problems = []
    for block in BLOCKS:
        for argv in commands(block):
            if argv[0] == NEWSQA:
                problems += [f"{shlex.join(argv)}: {w}" for w in unknown_newsqa_words(argv, parsers)]
            elif argv[0] == "make":
                problems += [f"make {t}: no such target" for t in argv[1:] if t not in targets]
            elif argv[0] == "export":
                name = argv[1].split("=")[0]
                if name not in settings:
                    problems.append(f"export {name}: newsqa reads no such setting")
            elif argv[0] == "curl":
                continue  # run against a server below
            else:
                problems.append(f"{shlex.join(argv)}: not a command this test knows how to check")
    assert problems == []


def _runnable(block: str) -> bool:
    argvs = commands(block)
    return bool(argvs) and all(a[0] == NEWSQA and a[1] in RUNNABLE for a in argvs)


def test_newsqa_blocks_run_as_written(tmp_path):
    runnable = [b for b in BLOCKS if _runnable(b)]
    assert len(runnable) >= 2, "the README shows adding issues and asking from the command line"
    env = clean_env(NEWSQA_INDEX=str(tmp_path / "index"))
    outputs = []
    for block in runnable:  # in README order: issues are added before they are asked about
        run = subprocess.run(["bash", "-e", "-c", block], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=900)
        assert run.returncode == 0, f"{block}\n{run.stderr[-2000:]}"
        outputs.append(run.stdout)
    text = "\n".join(outputs)
    assert "浙江日报" in text and "钱江周报" in text and "7月3日" in text, text[-3000:]


@pytest.mark.skipif(not Path("/usr/bin/curl").exists(), reason="curl is not installed")
def test_curl_commands_run_against_a_live_server(live_server):
    openapi = httpx.get(f"{live_server.url}/api/openapi.json", timeout=60).json()
    curls = [argv for block in BLOCKS for argv in commands(block) if argv[0] == "curl"]
    assert {curl_request(c)[1] for c in curls} >= {"/api/search", "/api/ask", "/api/issues"}
    host = live_server.url.removeprefix("http://")
    for argv in curls:
        method, path, body, form = curl_request(argv)
        operation = route_for(openapi, method, path)
        assert operation, f"{method} {path}: no such route"
        assert set(body) | set(form) <= request_fields(openapi, operation), f"{method} {path}: unknown field"
        # As the shell would run it: this server's address, and $NEWSQA_TOKEN expanded.
        argv = [w.replace(README_HOST, host).replace("$NEWSQA_TOKEN", live_server.token or "") for w in argv]
        run = subprocess.run([*argv, "-o", "/dev/null", "-w", "%{http_code}"], cwd=ROOT, capture_output=True,
                             text=True, timeout=300, env=clean_env())
        assert run.stdout == "200", f"{shlex.join(argv)}: HTTP {run.stdout} {run.stderr}"
