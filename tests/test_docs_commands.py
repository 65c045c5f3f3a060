"""Every ``rrin …`` command in README.md and docs/*.md works as written.

The commands are the lines of the fenced shell blocks (```` ``` ````, ```` ```bash ````,
```` ```sh ````; not ```` ```python ```` or ```` ```text ````, the latter for printed output)
whose command word is ``rrin`` (also ``.venv/bin/rrin``, ``nice rrin``, ``python -m rrin``
and ``torchrun … -m rrin``), one per ``&&``-separated part, ``\\``-continued lines joined and
``#`` comments dropped. Each one is

1. parsed by the real parser: a wrong option, choice or value fails;
2. checked against the installation: a model named by name (``--model NAME``,
   ``rrin export NAME …``) must be a shipped model (``rrin models``), a path into one of the
   repository's folders (``configs/…``, ``examples/…``) must exist, and ``rrin train``'s
   configuration must load with the command's ``key=value`` overrides;
3. run, in a fresh folder where every input it names (relative paths) is a tiny generated
   clip, frame folder, image or dataset, unless :func:`not_run` says it needs what a test
   cannot have (a training run, a Ray cluster, the user's weights file, a server that runs
   until stopped). The rules live there rather than as markers in the docs.

Usage synopses (lines with ``[optional]`` parts or ``a|b`` alternatives) are checked for
their subcommand, option names and choices only.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import moving_square
from rrin.cli import build_parser, main
from rrin.cli.pair import output_paths
from rrin.model.registry import list_models
from rrin.train import load_config
from test_evaluate import make_tree
from test_video import make_clip

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

#: Fence info strings of blocks holding shell commands.
SHELL_BLOCKS = ("", "bash", "sh", "shell", "console")
VIDEO_SUFFIXES = (".mp4", ".mkv", ".mov", ".webm", ".avi", ".nut")
#: The repository's folders: a doc path into one of them (``configs/dis_lite.toml``) must exist.
REPO_FOLDERS = ("benchmarks", "configs", "docs", "examples", "scripts", "src", "tests")


@dataclass(frozen=True)
class DocCommand:
    """One ``rrin`` command line of the docs: its place, its text and its argv (after ``rrin``)."""

    file: str
    line: int
    text: str
    argv: tuple[str, ...]
    synopsis: bool = False  # a usage line (`[optional]` parts, `a|b` alternatives), not a command

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}"


def rrin_argv(words: list[str]) -> list[str] | None:
    """The arguments after ``rrin`` of one simple shell command, or None if it runs something else."""
    while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):  # VAR=value prefixes
        words = words[1:]
    if words[:1] == ["nice"]:
        words = words[3:] if words[1:2] == ["-n"] else words[1:]
    if not words:
        return None
    program = Path(words[0]).name
    if words[0] == "rrin" or words[0].endswith("/bin/rrin"):
        return words[1:]
    if (program.startswith("python") or program == "torchrun") and "-m" in words:
        module = words.index("-m") + 1
        if words[module:module + 1] == ["rrin"]:
            return words[module + 1:]
    return None


def shell_lines(text: str) -> list[tuple[int, str]]:
    """(line number, logical line) of the shell blocks of a Markdown text."""
    lines, fence, pending, start = [], None, "", 0
    for number, line in enumerate(text.splitlines(), 1):
        opening = re.match(r"\s*(```+|~~~+)\s*([\w-]*)", line)
        if fence is None:
            if opening:
                fence = opening.group(1), opening.group(2).lower()
            continue
        if line.strip().startswith(fence[0]) and not line.strip()[len(fence[0]):].strip():
            fence = None
            continue
        if fence[1] not in SHELL_BLOCKS:
            continue
        if line.strip().startswith("[") and lines:  # a synopsis's [options] continued on the next line
            lines[-1] = lines[-1][0], f"{lines[-1][1]} {line.strip()}"
            continue
        start = start if pending else number
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        lines.append((start, (pending + line).strip().removeprefix("$ ")))
        pending = ""
    return lines


def doc_commands() -> list[DocCommand]:
    commands = []
    for path in DOCS:
        for number, line in shell_lines(path.read_text()):
            words = shlex.split(line, comments=True)
            part: list[str] = []
            for word in [*words, "&&"]:
                if word not in ("&&", "||", ";"):
                    part.append(word)
                    continue
                argv = rrin_argv(part)
                part = []
                if argv is None:
                    continue
                synopsis = any(re.search(r"[\[\]]|\.\.\.|…", word) for word in argv)
                if not synopsis and "|" in argv:  # `rrin models | head`: the part before the pipe
                    argv = argv[:argv.index("|")]
                commands.append(DocCommand(str(path.relative_to(ROOT)), number, line, tuple(argv), synopsis))
    return commands


def help_examples() -> list[DocCommand]:
    """The ``example: rrin … | rrin …`` lines of the subcommands' ``--help``."""
    commands = []
    for name, parser in subparsers().items():
        text = (parser.epilog or "").partition(":")[2]
        for number, example in enumerate(re.split(r"\s+\|\s+", text) if text else [], 1):
            example = re.split(r"\s+\(", example)[0]  # a remark in parentheses after the command
            argv = rrin_argv(shlex.split(example))
            assert argv is not None, f"rrin {name} --help: an example that is not an rrin command: {example}"
            commands.append(DocCommand(f"rrin {name} --help", number, example, tuple(argv)))
    return commands


def subparsers() -> dict[str, argparse.ArgumentParser]:
    actions = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return actions[0].choices


COMMANDS = doc_commands() + help_examples()


def parse(command: DocCommand) -> argparse.Namespace:
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        try:
            return build_parser().parse_args(list(command.argv))
        except SystemExit:
            pass
    pytest.fail(f"{command.id}: `rrin {' '.join(command.argv)}` does not parse: {stderr.getvalue().strip()}", pytrace=False)


def is_path(text: str) -> bool:
    return "/" in text or bool(Path(text).suffix)


def not_run(args: argparse.Namespace) -> str | None:
    """Why a command that parses is not run here, or None to run it."""
    if args.command == "train":
        return "trains for minutes on a real dataset (its configuration is loaded)"
    if args.command == "export-weights":
        return "needs a training run's checkpoint"
    if args.command == "ui":
        return "serves the page until stopped"
    if getattr(args, "cluster", None) is not None:
        return "needs a Ray cluster and storage every node sees"
    model = getattr(args, "model", None)
    if model is not None and is_path(model):
        return "needs the user's weights file"
    return None


def check_installation(command: DocCommand, args: argparse.Namespace) -> None:
    """Model names, repository paths and training configurations the command names."""
    model = getattr(args, "model", None)
    if model is not None and not is_path(model):
        shipped = [m.name for m in list_models()]
        assert model in shipped, f"{command.id}: model {model!r} is not shipped (rrin models: {', '.join(shipped)})"
    for word in command.argv:
        value = word.partition("=")[2] if word.startswith("-") else word
        first = Path(value).parts[0] if value and not Path(value).is_absolute() else ""
        if first in REPO_FOLDERS:
            assert (ROOT / value).exists(), f"{command.id}: {value} is not in the repository"
    if args.command == "train" and args.config is not None:
        load_config(ROOT / args.config, args.overrides)


def write_image(path: Path, shift: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), np.ascontiguousarray(moving_square(48, 64, shift=shift)[:, :, ::-1]))


def make_input(path: Path, frames: int = 5) -> None:
    """A tiny clip where ``path`` is a video name, else a folder of PNG frames."""
    if path.suffix.lower() in VIDEO_SUFFIXES:
        path.parent.mkdir(parents=True, exist_ok=True)
        make_clip(path, n=frames)
    else:
        for k in range(frames):
            write_image(path / f"{k:04d}.png", 2 * k)


def make_inputs(args: argparse.Namespace) -> list[Path]:
    """Create the inputs the command names; return the outputs it should write."""
    if args.command == "interpolate":
        make_input(args.input)
        return [args.output]
    if args.command == "pair":
        write_image(args.img0, 0)
        write_image(args.img1, 6)
        return output_paths(args.output, args.count) + ([args.explain] if args.explain else [])
    if args.command == "evaluate":
        if args.dataset == "clip":
            make_input(args.root)
        else:
            make_tree(args.dataset, args.root, size=(48, 64))
        return [args.out] if args.out else []
    if args.command == "make-dataset":
        for source in map(Path, args.inputs):
            # A folder of videos, or a video: enough moving frames for one clip of any length.
            make_input(source if source.suffix else source / "clip.mp4", frames=2 * args.frames * max(args.frame_step, 1) + 2)
        return [args.out]
    if args.command == "export":
        return [args.output]
    return []


def run_key(args: argparse.Namespace) -> tuple:
    """What a run exercises: the parsed options, with each file named only by its kind (its
    suffix, or none for a folder). Two commands with one key differ only in file names."""
    def shape(value):
        if isinstance(value, Path):
            return "path", value.suffix.lower()
        if isinstance(value, list):
            return tuple(shape(Path(v)) for v in value)
        return repr(value)

    return tuple(sorted((name, shape(value)) for name, value in vars(args).items()))


#: The run keys of the commands run so far: a command equivalent to one of them is only checked.
_RUN: set[tuple] = set()


@pytest.mark.parametrize("command", [c for c in COMMANDS if c.synopsis], ids=lambda c: c.id)
def test_synopsis_names_real_options(command):
    commands = subparsers()
    assert command.argv[0] in commands, f"{command.id}: no subcommand {command.argv[0]!r} (rrin has {', '.join(commands)})"
    parser = commands[command.argv[0]]
    words = [word.strip("[]") for word in command.argv[1:]]
    for index, word in enumerate(words):
        if not word.startswith("-"):
            continue
        assert word in parser._option_string_actions, f"{command.id}: rrin {command.argv[0]} has no option {word}"
        action = parser._option_string_actions[word]
        following = words[index + 1] if index + 1 < len(words) else ""
        if action.choices is not None and following and not following.startswith("-"):
            for choice in following.split("|"):
                assert choice in action.choices, f"{command.id}: {word} does not accept {choice!r}"


@pytest.mark.parametrize("command", [c for c in COMMANDS if not c.synopsis], ids=lambda c: c.id)
def test_doc_command_works(command, tmp_path, monkeypatch, capsys):
    args = parse(command)
    check_installation(command, args)
    if not_run(args) is not None or run_key(args) in _RUN:
        return
    _RUN.add(run_key(args))
    monkeypatch.chdir(tmp_path)
    outputs = make_inputs(args)
    code = main(list(command.argv))
    assert code == 0, f"{command.id}: `rrin {' '.join(command.argv)}` exited {code}: {capsys.readouterr().err.strip()}"
    for path in outputs:
        assert Path(path).exists(), f"{command.id}: {path} was not written"


def test_the_docs_have_commands_of_every_kind():
    """The extraction finds the documented commands (an empty list would pass vacuously)."""
    kinds = {command.argv[0] for command in COMMANDS if command.argv}
    assert {"interpolate", "pair", "models", "evaluate", "make-dataset", "train", "export-weights", "export", "ui"} <= kinds
    assert sum(not command.synopsis for command in COMMANDS) >= 30
    assert any(command.synopsis for command in COMMANDS)
