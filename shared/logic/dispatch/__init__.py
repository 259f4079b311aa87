"""The 120 link: dispatch centres registered by admins, and the incidents and updates their CAD systems
send, signed as Standard Webhooks specifies (docs/dispatch.md).

- ``centres``: registration, the signing secret issued once and rotated (both verify for 24 h)
- ``signatures``: the Standard Webhooks verification, at an instant given (``standardwebhooks``)
- ``inbound``: a signed call authenticated, then an incident raised through the SOS's own path
  (shared/logic/rescue/intake.py) or an update acted on as a dispatcher's event or close
- ``ports``: the records, and what the stores and the secret store offer

Nothing is imported here: a handler imports the modules it calls.
"""
