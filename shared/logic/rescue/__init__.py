"""The rescue loop: SOS → waves of alerts → roles → tracking → closure → credits, one module per stage.

- ``intake``: the SOS stored once per Idempotency-Key, wave 1 alerted inside the request
- ``waves``: the workflow's re-delivery, later waves, the unanswered mark
- ``notices``: what alerts, stand-downs and re-routes say, and their delivery under a lease
- ``assignment``: answers and roles, events on scene, AED reports in a rescue and re-routing
- ``closure``: the close, the workflow's wait for it, the finish (stand-downs, AEDs, points)
- ``view``: who may see what of an incident
- ``policy``: the dispatch rules and what every stage shares; ``ports``: the records and each stage's
  narrow port onto the store (shared.dal.rescue.DynamoIncidents implements them all)

Every side effect is guarded by its own conditional write, so retries and replays repeat nothing:
an alert exists once per (incident, responder); a notice (alert, stand-down) is published only while
its lease is held and is cleared once SNS took it; a slot, an AED and a closure are each claimed once;
credits are written once per (incident, responder, reason) in one transaction.

Nothing is imported here: a handler imports the stages it calls, and no more (the SOS function's cold
start imports ``intake`` and what it needs).
"""
