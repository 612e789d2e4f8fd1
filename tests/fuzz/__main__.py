"""Write the hostile corpus to a folder: `python -m tests.fuzz OUT_DIR [--seed N] [--secret PATH]`."""

import argparse
import collections
import json
from pathlib import Path

import imageio_ffmpeg

from tests.fuzz.corpus import build_corpus

FIXTURES = Path(__file__).parent.parent / "fixtures"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--secret", type=Path, default=Path("/etc/passwd"), help="the local file the playlists and metadata point at"
    )
    parser.add_argument("--no-ffmpeg", action="store_true", help="byte mutations only")
    args = parser.parse_args()
    ffmpeg = None if args.no_ffmpeg else imageio_ffmpeg.get_ffmpeg_exe()
    corpus = build_corpus(FIXTURES, args.seed, ffmpeg, args.secret)
    args.out.mkdir(parents=True, exist_ok=True)
    index = []
    for number, item in enumerate(corpus):
        path = args.out / f"{number:03d}.bin"  # the claimed name may be hostile: never a path here
        path.write_bytes(item.data)
        index.append({"file": path.name, "name": item.name, "kind": item.kind, "recipe": item.recipe})
    (args.out / "index.json").write_text(json.dumps(index, indent=1))
    print(len(corpus), "files:", dict(collections.Counter(item.kind for item in corpus)))


if __name__ == "__main__":
    main()
