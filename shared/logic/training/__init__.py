"""Training: courses, sessions, registrations, check-in, theory, exams kept apart from teaching,
certificates that make a person alertable. See docs/training.md."""
