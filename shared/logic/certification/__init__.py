"""Certification: exams kept apart from teaching (考教分离), certificates feeding the responder pool, and the
training quality report."""
