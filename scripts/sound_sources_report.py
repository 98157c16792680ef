"""Review the Foley world's source recordings and write docs/SOUND_SOURCES.md; prints the bank table.

    python scripts/sound_sources_report.py [--no-fetch] [--out docs/SOUND_SOURCES.md]
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from foley_studio.core.paths import DEMO_LIBRARY_DIR, REPO_ROOT
from foley_studio.training.source_report import review, write_report
from foley_studio.training.sources import SourceBank, debian_sources_dir, discover_sources, fetch_debian_sources


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-fetch", action="store_true", help="use only what the cache already holds")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "SOUND_SOURCES.md")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    debian = debian_sources_dir() if args.no_fetch else fetch_debian_sources()
    bank = SourceBank(discover_sources(debian, DEMO_LIBRARY_DIR))
    print(write_report(args.out, bank, review(debian, DEMO_LIBRARY_DIR), debian))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
