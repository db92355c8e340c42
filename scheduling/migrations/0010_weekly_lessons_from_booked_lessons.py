"""Children booked before weekly lessons were recorded: their standing weekly time, read from the regular lessons
still to come (teacher, local weekday and wall-clock time, length), so the next term's rollover finds them."""

import zoneinfo
from collections import defaultdict

from django.db import migrations
from django.utils import timezone


def weekly_lessons_from_booked_lessons(apps, schema_editor):
    Lesson = apps.get_model("scheduling", "Lesson")
    WeeklyLesson = apps.get_model("scheduling", "WeeklyLesson")
    SchoolSettings = apps.get_model("cedarheights", "SchoolSettings")
    school = SchoolSettings.objects.filter(pk=1).first()
    zone = zoneinfo.ZoneInfo(school.time_zone if school else "America/Toronto")
    upcoming = Lesson.objects.filter(
        kind="regular", outcome="", weekly_lesson__isnull=True, start_at__gt=timezone.now(), student__status="active"
    ).order_by("start_at")
    standing = defaultdict(list)
    for lesson in upcoming:
        local = lesson.start_at.astimezone(zone)
        minutes = round((lesson.end_at - lesson.start_at).total_seconds() / 60)
        standing[lesson.student_id, lesson.teacher_id, local.weekday(), local.time(), minutes].append(lesson)
    for (student_id, teacher_id, weekday, start_time, minutes), lessons in standing.items():
        if WeeklyLesson.objects.filter(
            student_id=student_id, weekday=weekday, start_time=start_time, ended_on__isnull=True
        ).exists():
            continue
        weekly = WeeklyLesson.objects.create(
            student_id=student_id,
            teacher_id=teacher_id,
            weekday=weekday,
            start_time=start_time,
            minutes=minutes,
            room_id=lessons[0].room_id,
            starts_on=lessons[0].start_at.astimezone(zone).date(),
        )
        Lesson.objects.filter(pk__in=[lesson.pk for lesson in lessons]).update(weekly_lesson=weekly)


class Migration(migrations.Migration):
    dependencies = [
        ("cedarheights", "0012_lesson_week_settings"),
        ("scheduling", "0009_lesson_outcomes"),
    ]

    operations = [migrations.RunPython(weekly_lessons_from_booked_lessons, migrations.RunPython.noop)]
