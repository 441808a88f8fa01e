"""`make parse`: one owner message per stdin line in, one JSON object per stdout line out.

Built for bulk classification of exported chat and hotline logs: the model loads
once, every input line yields exactly one output line (blank, binary or huge lines
included), and output is flushed as it goes so a pipe sees progress.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TextIO

from bot.parse import Parser


def classify(parser: Parser, source: BinaryIO, out: TextIO) -> int:
    """Write one JSON line per input line; returns the number of lines."""
    # Undecodable bytes become U+FFFD instead of aborting the whole batch.
    lines = io.TextIOWrapper(source, encoding="utf-8", errors="replace", newline="\n")
    count = 0
    for count, line in enumerate(lines, 1):
        text = line.rstrip("\r\n").replace("\x00", "")
        out.write(json.dumps(parser.parse(text), ensure_ascii=False) + "\n")
        if count % 50 == 0:
            out.flush()
    out.flush()
    return count


def main(argv: list[str] | None = None, load: Callable[[Path], Parser] = Parser) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", type=Path, default=Path("models/current.tar.gz"))
    args = ap.parse_args(argv)
    if not args.model.exists():
        print(f"no model at {args.model}; run `make train` first", file=sys.stderr)
        return 2
    classify(load(args.model), sys.stdin.buffer, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
