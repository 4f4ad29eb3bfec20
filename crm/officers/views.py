"""The officer page: /officers/<id> (supervisors, the officer themself, administrators).

The view checks who may see whom (`services.get_officer`, a 404 otherwise), reads the window
and renders; the bar charts are inline SVG drawn here from the figures (no script, no CDN).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, render_template, request
from flask_login import login_required

from crm.audit.reads import note_read
from crm.officers import services
from crm.web.forms import client_ip, current_actor

bp = Blueprint("officers", __name__, url_prefix="/officers")

STANCE_LABELS = {"receptive": "Receptive", "neutral": "Neutral", "wary": "Wary",
                 "hostile": "Hostile", "unknown": "Unknown"}


@bp.app_template_global("officer_page_ids")
def officer_page_ids(rows) -> set[int]:
    """Ids among the coverage page's officer rows whose officer page the viewer may open."""
    return services.visible_officer_ids(current_actor(), [r["officer"]["id"] for r in rows])


def window_days(args) -> int:
    """The `days` query argument: one of the windows; 400 naming the field otherwise."""
    raw = (args.get("days") or "").strip()
    if not raw:
        return services.DEFAULT_DAYS
    if raw.isdigit() and int(raw) in services.WINDOWS:
        return int(raw)
    abort(400, description="days: choose a window of "
          + ", ".join(map(str, services.WINDOWS[:-1])) + f" or {services.WINDOWS[-1]} days "
          f"(got {raw[:20]!r}).")


# ---- an SVG bar chart: one labelled row per bar, the number at the end of each bar ----------

ROW, BAR, LABEL_W, CHART_W = 24, 16, 78, 330


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    title: str
    y: int
    width: float
    css: str = ""

    @property
    def text_x(self) -> float:
        return LABEL_W + self.width + 4

    @property
    def text_y(self) -> int:
        return self.y + BAR - 3


def bar_chart(items: list[tuple[str, int, str, str]]) -> dict:
    """(label, value, title, css) per row -> geometry for `officers/_chart.html`."""
    top = max((v for _, v, _, _ in items), default=0)
    span = CHART_W - LABEL_W - 34  # room for the number after the longest bar
    bars = [Bar(label, value, title, i * ROW + 4,
                round(span * value / top, 1) if top else 0, css)
            for i, (label, value, title, css) in enumerate(items)]
    return {"bars": bars, "width": CHART_W, "height": len(bars) * ROW + 8, "label_w": LABEL_W,
            "bar_h": BAR}


def week_chart(weeks) -> dict:
    return bar_chart([(w.start.strftime("%d %b").lstrip("0"), w.contacts,
                       f"{w.contacts} contact{'' if w.contacts == 1 else 's'} from "
                       f"{w.start.isoformat()} to {w.end.isoformat()}", "bar-week")
                      for w in weeks])


def stance_chart(mix: dict[str, int]) -> dict:
    return bar_chart([(STANCE_LABELS.get(s, s), n,
                       f"{n} group-contact{'' if n == 1 else 's'} with {s} groups", f"bar-{s}")
                      for s, n in mix.items()])


@bp.route("/<id:user_id>")
@login_required
def show(user_id: int):
    actor = current_actor()
    officer = services.get_officer(actor, user_id)
    if officer is None:
        abort(404)
    days = window_days(request.args)
    summary = services.officer_summary(actor, officer, days=days)
    if officer.id != actor.id:  # someone else's engagement record
        note_read(actor, "officer.read", "users", officer.id, client_ip())
    return render_template(
        "officers/show.html", s=summary, officer=officer, days=days, windows=services.WINDOWS,
        weeks=week_chart(summary.weeks), stances=stance_chart(summary.stance_mix),
        groups=summary.groups[:services.GROUP_LIST], own=officer.id == actor.id)
