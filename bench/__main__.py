"""python -m bench: run every section, print its table, then one JSON line with every section's figures."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable

from bench import aed_import, geo, sos
from bench.section import Section

# Later sections (e.g. the SOS path) go beside "geo": name -> a function returning a Section.
SECTIONS: dict[str, Callable[[], Section]] = {"geo": geo.run, "sos": sos.run, "import": aed_import.run}


def main() -> int:
    started = time.monotonic()
    figures: dict[str, object] = {}
    for name, run in SECTIONS.items():
        section = run()
        print(section.table, flush=True)
        print(flush=True)
        figures[name] = section.figures
    print(f"bench finished in {time.monotonic() - started:.0f} s", flush=True)
    print(json.dumps(figures, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
