"""The dispatch simulator (`rescue-nearby simulate`): the real dispatch rules (shared/logic/rescue) and the
real workflow definition (infra/statemachine/rescue.asl.json) driven over a synthetic Hangzhou through
in-memory ports and a simulated clock. Nothing here talks to AWS. docs/simulation.md describes the model."""
