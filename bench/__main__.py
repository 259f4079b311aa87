"""python -m bench: run every section, print its table, then one JSON line with every section's figures.

``python -m bench cold_start sos`` runs only the sections named (in the order given).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable

from bench import abuse, aed_import, cold_start, dispatch, geo, local_city, scale, simulate, sos
from bench.section import Section

# Later sections go beside these: name -> a function returning a Section.
SECTIONS: dict[str, Callable[[], Section]] = {
    "geo": geo.run,
    "sos": sos.run,
    "sos_cn": sos.run_cn,
    "cold_start": cold_start.run,
    "import": aed_import.run,
    "abuse": abuse.run,
    "dispatch": dispatch.run,
    "local": local_city.run,
    "scale": scale.run,
    "simulate": simulate.run,
}


def main(names: list[str]) -> int:
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        print(f"unknown section {', '.join(unknown)}; the sections: {', '.join(SECTIONS)}", file=sys.stderr)
        return 2
    started = time.monotonic()
    figures: dict[str, object] = {}
    for name in names or list(SECTIONS):
        section = SECTIONS[name]()
        print(section.table, flush=True)
        print(flush=True)
        figures[name] = section.figures
    print(f"bench finished in {time.monotonic() - started:.0f} s", flush=True)
    print(json.dumps(figures, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
