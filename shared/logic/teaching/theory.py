"""Theory online: a trainee marks each module of a course done; the theory is complete when every module
is. The practical session's check-in and the exam both require it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.errors import NotFound, ValidationFailed
from shared.logic.teaching.ports import TeachingStore, TheoryDone
from shared.logic.teaching.records import Course, TheoryModule


@dataclass(frozen=True)
class ModuleProgress:
    module: TheoryModule
    done: TheoryDone | None


@dataclass(frozen=True)
class TheoryProgress:
    course: Course
    modules: list[ModuleProgress]

    @property
    def complete(self) -> bool:
        return all(m.done is not None for m in self.modules)


def progress(store: TeachingStore, person_id: str, course_id: str) -> TheoryProgress:
    course = _course(store, course_id)
    done = {d.module_id: d for d in store.theory_done(course_id, person_id)}
    return TheoryProgress(course, [ModuleProgress(m, done.get(m.module_id)) for m in course.theory_modules])


def record(
    store: TeachingStore,
    person_id: str,
    course_id: str,
    module_id: str,
    *,
    completed: bool,
    score: float | None,
    now: datetime,
) -> TheoryProgress:
    """Mark a module done (again: the latest completion and score count) or, with completed false, undone."""
    course = _course(store, course_id)
    if module_id not in {m.module_id for m in course.theory_modules}:
        raise NotFound("no such module in this course")
    if completed:
        store.mark_theory(course_id, person_id, module_id, now, score)
    elif score is not None:
        raise ValidationFailed("score: only with completed true")
    else:
        store.unmark_theory(course_id, person_id, module_id)
    return progress(store, person_id, course_id)


def _course(store: TeachingStore, course_id: str) -> Course:
    course = store.course(course_id)
    if course is None:
        raise NotFound("no such course")
    return course
