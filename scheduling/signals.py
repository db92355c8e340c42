"""What scheduling tells the layers above it (README, "Architecture", lists every such event). Scheduling imports
none of them: enrollment and billing connect their receivers in their AppConfig.ready().

- `lesson_outcome_changed(lesson, previous, actor)`: sent inside `lesson_outcome_set`'s transaction each time a
  lesson's outcome really changes (`previous` is the old outcome, "" while it was still to come). Receivers reverse
  what `previous` issued (a make-up credit, a fee) and issue what `lesson.outcome` issues, in that transaction, so
  the change and its consequences commit or roll back together; their emails leave on commit.
"""

from django.dispatch import Signal

lesson_outcome_changed = Signal()
