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
from pathlib import Path

from bot.parse import Parser


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", type=Path, default=Path("models/current.tar.gz"))
    args = ap.parse_args(argv)
    if not args.model.exists():
        print(f"no model at {args.model}; run `make train` first", file=sys.stderr)
        return 2
    parser = Parser(args.model)
    # Undecodable bytes become U+FFFD instead of aborting the whole batch.
    lines = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace", newline="\n")
    out = sys.stdout
    for count, line in enumerate(lines, 1):
        text = line.rstrip("\r\n").replace("\x00", "")
        out.write(json.dumps(parser.parse(text), ensure_ascii=False) + "\n")
        if count % 50 == 0:
            out.flush()
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
