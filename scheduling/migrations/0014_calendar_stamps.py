from django.db import migrations

# The calendar stamps (CalendarStamp): a feed's validator (its ETag) is read from a few stamp rows, never from the
# lessons, so a client asking "changed?" costs no lesson query. They follow the pattern of the schedule stamps
# (migration 0004): statement-level triggers, stamps from a sequence, rows restamped in id order.
#
# A lesson written restamps its teacher and its student (before and after, when it moved) when anything a feed shows
# of it changed: times, teacher, student, room, kind, status or revision; a note or a payment mark leaves them. A
# family's feed reads its children's stamps. Teachers and students are the rows every writer of lessons has locked
# first (`booking_lock`: teachers, then students, each in id order), so their stamps add no new order to wait in; a
# stamp per family would (two cancellations of several families' lessons, in opposite orders, deadlocked on them).
# The names a feed prints (a teacher's, a child's first name, rooms, instruments, the school's name and zone)
# restamp the `school` row 0, which every feed's validator includes: such edits are rare, and each changes every feed.
TRIGGERS = """
CREATE SEQUENCE scheduling_calendarstamp_stamp;

CREATE FUNCTION scheduling_calendar_restamp(stamp_scope text, subject_ids bigint[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO scheduling_calendarstamp (scope, subject_id, stamp, changed_at)
    SELECT stamp_scope, touched.subject_id, nextval('scheduling_calendarstamp_stamp'), clock_timestamp()
    FROM (SELECT DISTINCT unnest(subject_ids) AS subject_id) AS touched
    WHERE touched.subject_id IS NOT NULL
    ORDER BY touched.subject_id
    -- Taken again once the row's lock is held: a stamp written later is always the larger, and its time the later.
    ON CONFLICT (scope, subject_id)
    DO UPDATE SET stamp = nextval('scheduling_calendarstamp_stamp'), changed_at = clock_timestamp();
$$;

CREATE FUNCTION scheduling_lesson_calendar_restamp() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    teacher_ids bigint[];
    student_ids bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(teacher_id), array_agg(student_id) INTO teacher_ids, student_ids FROM new_lessons;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(teacher_id), array_agg(student_id) INTO teacher_ids, student_ids FROM old_lessons;
    ELSIF TG_OP = 'TRUNCATE' THEN
        teacher_ids := ARRAY(SELECT id FROM scheduling_teacher);
        student_ids := ARRAY(SELECT id FROM scheduling_student);
    ELSE
        SELECT array_agg(changed.teacher_id), array_agg(changed.student_id) INTO teacher_ids, student_ids
        FROM (
            SELECT unnest(ARRAY[o.teacher_id, n.teacher_id]) AS teacher_id,
                   unnest(ARRAY[o.student_id, n.student_id]) AS student_id
            FROM old_lessons AS o JOIN new_lessons AS n USING (id)
            WHERE (o.start_at, o.end_at, o.teacher_id, o.student_id, o.room_id, o.kind, o.status, o.revision)
                IS DISTINCT FROM (n.start_at, n.end_at, n.teacher_id, n.student_id, n.room_id, n.kind, n.status, n.revision)
        ) AS changed;
    END IF;
    -- Teachers first, then students, each in id order: the order `booking_lock` takes their rows in.
    PERFORM scheduling_calendar_restamp('teacher', teacher_ids);
    PERFORM scheduling_calendar_restamp('student', student_ids);
    RETURN NULL;
END
$$;

CREATE TRIGGER lesson_inserted_calendar_restamp AFTER INSERT ON scheduling_lesson
REFERENCING NEW TABLE AS new_lessons FOR EACH STATEMENT EXECUTE FUNCTION scheduling_lesson_calendar_restamp();
CREATE TRIGGER lesson_updated_calendar_restamp AFTER UPDATE ON scheduling_lesson
REFERENCING OLD TABLE AS old_lessons NEW TABLE AS new_lessons
FOR EACH STATEMENT EXECUTE FUNCTION scheduling_lesson_calendar_restamp();
CREATE TRIGGER lesson_deleted_calendar_restamp AFTER DELETE ON scheduling_lesson
REFERENCING OLD TABLE AS old_lessons FOR EACH STATEMENT EXECUTE FUNCTION scheduling_lesson_calendar_restamp();
CREATE TRIGGER lesson_truncated_calendar_restamp AFTER TRUNCATE ON scheduling_lesson
FOR EACH STATEMENT EXECUTE FUNCTION scheduling_lesson_calendar_restamp();

CREATE FUNCTION scheduling_calendar_names_restamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM scheduling_calendar_restamp('school', ARRAY[0::bigint]);
    RETURN NULL;
END
$$;

-- A teacher's name (or, without one, their email address) is printed; a parent's never is.
CREATE TRIGGER user_renamed_calendar_restamp AFTER UPDATE OF first_name, last_name, email ON accounts_user
FOR EACH ROW WHEN (
    NEW.role = 'teacher'
    AND (OLD.first_name, OLD.last_name, OLD.email) IS DISTINCT FROM (NEW.first_name, NEW.last_name, NEW.email)
)
EXECUTE FUNCTION scheduling_calendar_names_restamp();
CREATE TRIGGER student_renamed_calendar_restamp AFTER UPDATE OF first_name, family_id, instrument_id
ON scheduling_student FOR EACH ROW
WHEN ((OLD.first_name, OLD.family_id, OLD.instrument_id) IS DISTINCT FROM (NEW.first_name, NEW.family_id, NEW.instrument_id))
EXECUTE FUNCTION scheduling_calendar_names_restamp();
CREATE TRIGGER room_renamed_calendar_restamp AFTER UPDATE OF name ON scheduling_room
FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION scheduling_calendar_names_restamp();
CREATE TRIGGER instrument_renamed_calendar_restamp AFTER UPDATE OF name ON scheduling_instrument
FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION scheduling_calendar_names_restamp();
CREATE TRIGGER school_renamed_calendar_restamp AFTER UPDATE OF name, time_zone ON cedarheights_schoolsettings
FOR EACH ROW WHEN ((OLD.name, OLD.time_zone) IS DISTINCT FROM (NEW.name, NEW.time_zone))
EXECUTE FUNCTION scheduling_calendar_names_restamp();

SELECT scheduling_calendar_restamp('school', ARRAY[0::bigint]);
"""

DROP_TRIGGERS = """
DROP TRIGGER school_renamed_calendar_restamp ON cedarheights_schoolsettings;
DROP TRIGGER instrument_renamed_calendar_restamp ON scheduling_instrument;
DROP TRIGGER room_renamed_calendar_restamp ON scheduling_room;
DROP TRIGGER student_renamed_calendar_restamp ON scheduling_student;
DROP TRIGGER user_renamed_calendar_restamp ON accounts_user;
DROP FUNCTION scheduling_calendar_names_restamp();
DROP TRIGGER lesson_inserted_calendar_restamp ON scheduling_lesson;
DROP TRIGGER lesson_updated_calendar_restamp ON scheduling_lesson;
DROP TRIGGER lesson_deleted_calendar_restamp ON scheduling_lesson;
DROP TRIGGER lesson_truncated_calendar_restamp ON scheduling_lesson;
DROP FUNCTION scheduling_lesson_calendar_restamp();
DROP FUNCTION scheduling_calendar_restamp(text, bigint[]);
DROP SEQUENCE scheduling_calendarstamp_stamp;
DELETE FROM scheduling_calendarstamp;
"""


def _on_postgresql(sql):
    """SQLite (the embedded default) gets no triggers: there a feed is built to be compared (calendar_feeds)."""

    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0013_calendars"),
        ("cedarheights", "0014_reminder_settings"),
    ]

    operations = [migrations.RunPython(_on_postgresql(TRIGGERS), _on_postgresql(DROP_TRIGGERS))]
