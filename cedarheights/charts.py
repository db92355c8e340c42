"""Charts drawn on the server as SVG: no script, nothing fetched from elsewhere, readable by a screen reader (an
`<svg role="img">` named by its `<title>`, each bar titled with its figure) and printable. The numbers are always
beside the chart too, in a table (`templates/admin/dashboard/chart.html`): the chart is a picture of the table.

Colours are CSS classes (`chart-bar`, `chart-bar-now`, `chart-axis`), so the admin's theme and the print stylesheet
decide them."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT = 480, 180  # the drawing's own units; the page scales it to the column
TOP, BOTTOM, LEFT, RIGHT = 18, 24, 4, 4  # room for the top figure and the labels under the bars
LABEL_WIDTH = 130  # horizontal bars: the names on the left


@dataclass(frozen=True)
class Bar:
    label: str  # under the bar (short: "Mar")
    value: float  # drawn; None-like figures are drawn as 0
    text: str  # the figure as people read it ("$1,250.00 CAD", "42 %")
    name: str = ""  # the bar's full name for its title ("March 2026"); the label if empty


def _scale_top(values: Sequence[float]) -> float:
    return max([*values, 0]) or 1


def column_chart(*, title: str, bars: Sequence[Bar], highlight_last: bool = False) -> SafeString:
    """Vertical bars, oldest first (months, weeks); the last one (this month) set apart when it is not complete."""
    top = _scale_top([bar.value for bar in bars])
    plot_height = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / max(len(bars), 1)
    shapes = []
    for n, bar in enumerate(bars):
        height = round(plot_height * max(bar.value, 0) / top, 1)
        x = round(LEFT + n * slot + slot * 0.15, 1)
        y = round(TOP + plot_height - height, 1)
        css = "chart-bar-now" if highlight_last and n == len(bars) - 1 else "chart-bar"
        shapes.append(
            format_html(
                '<g><title>{}: {}</title><rect class="{}" x="{}" y="{}" width="{}" height="{}"></rect>'
                '<text class="chart-label" x="{}" y="{}" text-anchor="middle">{}</text></g>',
                bar.name or bar.label,
                bar.text,
                css,
                x,
                y,
                round(slot * 0.7, 1),
                height,
                round(LEFT + n * slot + slot / 2, 1),
                HEIGHT - 8,
                bar.label,
            )
        )
    biggest = max(bars, key=lambda bar: bar.value, default=None)
    return _svg(
        title=title,
        summary=_summary(bars),
        width=WIDTH,
        height=HEIGHT,
        body=SafeString("".join(shapes)),
        axis=format_html(
            '<line class="chart-axis" x1="{}" y1="{}" x2="{}" y2="{}"></line>'
            '<text class="chart-label" x="{}" y="12">{}</text>',
            LEFT,
            TOP + plot_height,
            WIDTH - RIGHT,
            TOP + plot_height,
            LEFT,
            f"highest: {biggest.text}" if biggest and biggest.value > 0 else "",
        ),
    )


def bar_chart(*, title: str, bars: Sequence[Bar]) -> SafeString:
    """Horizontal bars, one a row (teachers, ages of debt), the figure at each bar's end."""
    row = 22
    height = max(len(bars), 1) * row + 8
    top = _scale_top([bar.value for bar in bars])
    room = WIDTH - LABEL_WIDTH - 90  # the figure's text after the bar
    shapes = format_html_join(
        "",
        '<g><title>{}: {}</title><text class="chart-label" x="{}" y="{}" text-anchor="end">{}</text>'
        '<rect class="chart-bar" x="{}" y="{}" width="{}" height="{}"></rect>'
        '<text class="chart-label" x="{}" y="{}">{}</text></g>',
        (
            (
                bar.name or bar.label,
                bar.text,
                LABEL_WIDTH - 6,
                n * row + 18,
                bar.label,
                LABEL_WIDTH,
                n * row + 5,
                round(room * max(bar.value, 0) / top, 1),
                row - 8,
                round(LABEL_WIDTH + room * max(bar.value, 0) / top + 4, 1),
                n * row + 18,
                bar.text,
            )
            for n, bar in enumerate(bars)
        ),
    )
    return _svg(title=title, summary=_summary(bars), width=WIDTH, height=height, body=shapes, axis=SafeString(""))


def _summary(bars: Sequence[Bar]) -> str:
    return "; ".join(f"{bar.name or bar.label} {bar.text}" for bar in bars)


def _svg(*, title: str, summary: str, width: int, height: int, body: SafeString, axis: SafeString) -> SafeString:
    return format_html(
        '<svg class="chart" role="img" aria-label="{}" viewBox="0 0 {} {}" preserveAspectRatio="xMinYMin meet" '
        'xmlns="http://www.w3.org/2000/svg"><title>{}</title><desc>{}</desc>{}{}</svg>',
        title,
        width,
        height,
        title,
        summary,
        axis,
        body,
    )
