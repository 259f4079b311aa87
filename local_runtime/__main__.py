"""`make run`: the whole platform on this machine. Embedded AWS, seeded Hangzhou demo, the real
handlers behind a local API Gateway on http://127.0.0.1:$PORT (8080 by default).
RESCUE_NEARBY_CLOCK=2026-12-06T03:00+08:00 starts it at that instant (local_runtime/clock.py)."""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading
import time
from typing import Any

from local_runtime import aws, clock


def main() -> int:
    try:
        travel = clock.travel_from_environment()  # before anything reads the time
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    started = time.monotonic()
    port = int(os.environ.get("PORT", "8080"))
    host = os.environ.get("HOST", "127.0.0.1")
    embedded = aws.start()
    embedded.start_pollers()  # the status webhooks to dispatch centres, as Lambda's event sources feed them
    uploads = aws.serve_photo_uploads(host)

    from local_runtime.gateway import Gateway
    from local_runtime.seed import DEMO_POINTS, DemoApps, seed, seed_past

    try:
        gateway = Gateway(host, port)
    except OSError as error:
        print(f"cannot listen on {host}:{port}: {error.strerror}. Try PORT=8081 make run", file=sys.stderr)
        uploads.stop()
        embedded.stop()
        return 1
    demo_apps = None
    if os.environ.get("SEED_DEMO", "1") != "0":
        demo = seed()
        # Refresh well inside the presence lapse, as the apps do.
        demo_apps = DemoApps(
            demo.on_duty, every_s=max(30.0, 0.4 * float(os.environ.get("PRESENCE_TTL_SECONDS", 900)))
        )
        demo_apps.start()
        seeded = (
            f"seeded synthetic Hangzhou demo: {demo.responders} responders ({len(demo.on_duty)} on duty, "
            f"{demo.lapsed} with lapsed certificates), {demo.aeds} AEDs"
        )
        past = threading.Thread(target=_write_the_past, args=(seed_past, demo), name="demo-past", daemon=True)
        # What is loaded now stays for good: out of the collector's sight, so that a full collection
        # does not walk every seeded item in the middle of a request.
        gc.collect()
        gc.freeze()
    else:
        seeded = "no demo data (SEED_DEMO=0)"
        past = None
    url = f"http://{host}:{port}"
    from shared.config import settings

    moved = clock.describe(settings().time_zone)
    config = settings()
    profile = (
        f"  profile cn (AWS China regions): tokens from the local OIDC issuer {url}/dev/issuer; SMS through "
        f"the {config.sms_provider} stand-in, push through JPush's; every message in {url}/dev/outbox\n"
        if config.profile == "cn"
        else "  profile global: Cognito-style tokens, SNS push and SMS; every message in /dev/outbox\n"
    )
    lat, lng = DEMO_POINTS["in77"]  # 24/7 AEDs stand by it: the curl finds some at any hour
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server = threading.Thread(target=gateway.serve_forever, name="gateway", daemon=True)
    server.start()
    try:  # from the banner on: "Ctrl-C stops it" is true from the moment it is printed
        print(
            f"Rescue Nearby is running at {url}  ({seeded}; ready in {time.monotonic() - started:.1f} s)\n"
            + profile
            + (f"  {moved}\n" if moved else "")
            + f"  pages: AED map {url}/map/   dispatch console {url}/console/   cockpit {url}/cockpit/\n"
            + f"  API docs (Swagger): {url}/docs   OpenAPI: {url}/openapi.json\n"
            f"  try: curl '{url}/v1/aeds/nearby?lat={lat:.4f}&lng={lng:.4f}&radius_m=1000'\n"
            f'  a token: curl -X POST {url}/dev/token -d \'{{"sub": "me", "roles": ["dispatcher"]}}\'\n'
            "  Ctrl-C stops it.",
            flush=True,
        )
        if past:  # the cockpit's week of history: after the banner, so the API answers meanwhile
            past.start()
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    print("stopping…", flush=True)
    if demo_apps:
        demo_apps.stopped.set()
    gateway.shutdown()
    gateway.server_close()
    uploads.stop()
    embedded.stop()
    if travel:
        travel.stop()
    return 0


def _write_the_past(seed_past: Any, demo: Any) -> None:
    started = time.monotonic()
    written = seed_past(demo)
    print(
        f"demo history written in {time.monotonic() - started:.0f} s (the cockpit's figures): "
        f"{written.rescues} rescues over the last week, {written.sessions} training sessions over four, "
        f"{written.credited} incidents credited, {written.opted_in} volunteers on the leaderboard",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
