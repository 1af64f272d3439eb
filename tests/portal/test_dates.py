"""Dates and moments appear in one style on every page, in both languages."""
from datetime import UTC, date, datetime

from flask import render_template_string


def test_days_and_moments_have_one_style_whatever_the_template_asks(app):
    moment = datetime(2026, 12, 8, 9, 54, 8, tzinfo=UTC)
    with app.test_request_context("/"):
        out = render_template_string(
            "{{ d|day }}|{{ d|riga }}|{{ m|riga }}|{{ m|riga('short') }}|{{ m|riga('medium') }}",
            d=date(2026, 12, 12), m=moment)
    assert out == "12.12.2026|12.12.2026|08.12.2026 11:54|08.12.2026 11:54|08.12.2026 11:54"


def test_a_deadline_at_midnight_is_the_end_of_the_day_before(app):
    """Online voting ends at 24:00 on Wednesday (Art. 15(1)): stored as Thursday 00:00 Riga, it
    reads "Wednesday 24:00", as the law counts days; other deadlines read as moments; a checkpoint's
    signed UTC time reads in Riga time."""
    midnight = datetime(2026, 12, 9, 22, 0, tzinfo=UTC)  # 10.12.2026 00:00 in Riga
    evening = datetime(2026, 12, 12, 18, 0, tzinfo=UTC)  # 12.12.2026 20:00 in Riga
    with app.test_request_context("/"):
        out = render_template_string(
            "{{ a|deadline }}|{{ b|deadline }}|{{ c|signed_time }}|{{ d|deadline }}|"
            "{{ e|deadline }}",
            a=midnight, b=evening, c="2026-12-08T19:17:34Z",
            d=midnight.replace(second=30),
            e=datetime(2026, 12, 9, 21, 59, 59, 999999, tzinfo=UTC))  # 09.12 23:59:59.999999
    assert out == ("09.12.2026 24:00|12.12.2026 20:00|08.12.2026 21:17|10.12.2026 00:00|"
                   "09.12.2026 24:00")


def test_no_template_formats_a_date_by_itself():
    """strftime or isoformat in a template's text would bring back a second style."""
    import re
    from pathlib import Path

    shown = re.compile(r'(?<!datetime=")\{\{ [\w.]+\.isoformat\(\) \}\}|\.strftime\(')
    root = Path(__file__).parents[2] / "templates"
    offenders = [str(p) for p in root.rglob("*.html") if shown.search(p.read_text())]
    assert offenders == []


def test_every_deadline_is_shown_by_the_deadline_filter():
    """A deadline reads one way everywhere (midnight is 24:00 of the day before): no template
    shows a deadline through the plain moment filter."""
    import re
    from pathlib import Path

    plain = re.compile(r"deadlines?(?:_at|\[[^\]]+\])\|riga")
    root = Path(__file__).parents[2] / "templates"
    assert [str(p) for p in root.rglob("*.html") if plain.search(p.read_text())] == []


def test_wtforms_own_messages_are_latvian_on_latvian_pages(app):
    """WTForms ships no Latvian: its "This field is required." comes from the portal's catalogue."""
    from portal.voting.forms import StationForm

    with app.test_request_context("/", method="POST", data={}):
        form = StationForm(meta={"csrf": False})
        form.station_id.choices = [(1, "1")]
        form.validate()
        assert "Šis lauks ir obligāts." in form.personal_code.errors


def test_article_references_read_as_latvian_law_on_latvian_pages():
    from portal.articles import article_text

    assert article_text("Art. 13(6)-(7)", "lv") == "13. panta sestā–septītā daļa"
    assert article_text("līdz 24.11.2026 (Art. 14)", "lv") == "līdz 24.11.2026 (14. pants)"
    assert article_text("Art. 10(8)", "lv") == "10. panta astotā daļa"
    assert article_text("Art. 10(8)", "en") == "Art. 10(8)"
    # Art. 20(9)-(10) and 21 together: each article named in full.
    assert article_text("Results due (Art. 20(9)-(10), 21)", "lv") == (
        "Results due (20. panta devītā–desmitā daļa, 21. pants)")
    assert article_text("(Art. 22, 10 days)", "lv") == "(22. pants, 10 days)"


def test_the_fast_formatters_write_what_babel_writes(app):
    """Pages format through ``portal.dates`` without Babel; the digits are Babel's own, across
    summer time changes, the year's end and a naive (UTC) time."""
    from flask_babel import format_date, format_datetime

    from portal.dates import DAY_PATTERN, MOMENT_PATTERN, day_text, moment_text

    moments = [datetime(2026, 3, 29, 0, 59, tzinfo=UTC), datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
               datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 12, 31, 22, 0, tzinfo=UTC),
               datetime(2027, 1, 1, 7, 5, 59, 999999, tzinfo=UTC), datetime(2026, 6, 1, 21, 0)]
    with app.test_request_context("/"):
        for moment in moments:
            assert moment_text(moment) == format_datetime(
                moment if moment.tzinfo else moment.replace(tzinfo=UTC), MOMENT_PATTERN)
        for day in (date(2026, 1, 1), date(2026, 12, 31), date(999, 2, 3)):
            assert day_text(day) == format_date(day, DAY_PATTERN)


def test_a_moment_given_as_a_day_is_its_day_in_riga():
    from portal.dates import day_text

    assert day_text(datetime(2026, 12, 31, 22, 30, tzinfo=UTC)) == "01.01.2027"
    assert day_text(datetime(2026, 12, 31, 21, 30)) == "31.12.2026"  # naive: UTC
