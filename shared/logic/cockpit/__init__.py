"""The Red Cross cockpit (docs/cockpit.md): figures computed from aggregates kept as the data changes or
from queries bounded by the period, never from a Scan of a table that grows with the city."""
