"""The teacher's pages (`/teach/`)."""

from django.urls import path

from scheduling import views

urlpatterns = [
    path("", views.teach_home, name="teach-home"),
    path("lessons/<int:lesson_id>/", views.lesson_page, name="teach-lesson"),
    path("lessons/<int:lesson_id>/mark/", views.lesson_mark, name="teach-lesson-mark"),
    path("lessons/<int:lesson_id>/cancel/", views.lesson_cancel, name="teach-lesson-cancel"),
    path("students/", views.students_page, name="teach-students"),
    path("makeup-blocks/", views.makeup_blocks_page, name="teach-makeup-blocks"),
    path("makeup-blocks/<int:block_id>/delete/", views.makeup_block_remove, name="teach-makeup-block-delete"),
    path("calendar/", views.calendar_page, name="teach-calendar"),
]
