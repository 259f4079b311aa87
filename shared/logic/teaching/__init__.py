"""Teaching: courses, practical sessions, registrations with a waitlist, QR check-in, theory online and
course evaluations. Its records are read by certification through ``records.TrainingRecords``."""
