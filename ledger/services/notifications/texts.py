"""What each notification says, in the catalog's words, and where it links to.

A notification stores its event and plain parameters (a title, an amount as text); the sentence
is made when it is shown or mailed, in the reader's language, so changing the words or adding a
language needs no change to stored rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ledger.messages import Bilingual, Message, in_language, translatable
from ledger.models.notification import Notification

Params = Mapping[str, str]


def _titled(params: Params) -> dict[str, object]:
    """A requirement's title in the reader's language, where the service wrote it in both."""
    return {**params, "title": Bilingual(params["title"], params.get("title_en") or params["title"])}


TEXTS: dict[str, Callable[[Params], Message]] = {
    "report_submitted": lambda p: translatable(
        "%(organisation)s submitted the expense report “%(title)s”; it waits for your review.", **p
    ),
    "report_approved": lambda p: translatable("Your expense report “%(title)s” was approved.", **p),
    "report_returned": lambda p: translatable(
        "Your expense report “%(title)s” was returned for changes.", **p
    ),
    "report_rejected": lambda p: translatable("Your expense report “%(title)s” was rejected.", **p),
    "disbursement_to_approve": lambda p: translatable(
        "A disbursement of %(amount)s to %(organisation)s (fund %(fund)s) waits for your approval.", **p
    ),
    "disbursement_to_pay": lambda p: translatable(
        "A disbursement of %(amount)s to %(organisation)s (fund %(fund)s) is approved and waits to be paid.",
        **p,
    ),
    "disbursement_paid": lambda p: translatable(
        "%(amount)s of fund %(fund)s was paid to %(organisation)s.", **p
    ),
    "revision_to_decide": lambda p: translatable(
        "A budget revision of fund %(fund)s waits for your decision.", **p
    ),
    "revision_approved": lambda p: translatable("Your budget revision of fund %(fund)s was approved.", **p),
    "revision_rejected": lambda p: translatable("Your budget revision of fund %(fund)s was rejected.", **p),
    "tranche_due": lambda p: translatable(
        "Tranche %(number)s of fund %(fund)s (%(amount)s) is due on %(due)s.", **p
    ),
    "tranche_overdue": lambda p: translatable(
        "Tranche %(number)s of fund %(fund)s (%(amount)s) was due on %(due)s and is overdue.", **p
    ),
    "requirement_due": lambda p: translatable(
        "%(organisation)s: “%(title)s” is due on %(due)s.", **_titled(p)
    ),
    "requirement_overdue": lambda p: translatable(
        "%(organisation)s: “%(title)s” was due on %(due)s and is overdue.", **_titled(p)
    ),
}

SUBJECT_PREFIX = translatable("[Community Fund Ledger]")
OPEN_IT = translatable("Open it here:")
WHY_THIS_MAIL = translatable(
    "You receive this mail because of your notification settings; change them on the notifications page."
)
DIGEST_SUBJECT = translatable("What waits for you (%(count)s)")
DIGEST_INTRO = translatable("These notifications wait for you:")


def headline(event: str, params: Params) -> Message:
    """The notification as one sentence (an unknown event, from a newer version, still reads)."""
    text = TEXTS.get(event)
    if text is None:
        return translatable("Something changed: %(event)s", event=event)
    return text(params)


def message_of(notification: Notification) -> Message:
    return headline(notification.event, {k: str(v) for k, v in notification.params.items()})


def absolute(public_url: str, link: str) -> str:
    return public_url.rstrip("/") + link


def event_mail(event: str, params: Params, url: str, lang: str) -> tuple[str, str]:
    """The subject and body of the mail for one notification, in ``lang``."""
    sentence = in_language(headline(event, params), lang)
    subject = f"{in_language(SUBJECT_PREFIX, lang)} {sentence}"
    body = f"{sentence}\n\n{in_language(OPEN_IT, lang)} {url}\n\n-- \n{in_language(WHY_THIS_MAIL, lang)}\n"
    return subject[:300], body


def digest_mail(items: list[tuple[Message, str]], notifications_url: str, lang: str) -> tuple[str, str]:
    """The daily digest: one line and link per notification that waits."""
    subject = (
        f"{in_language(SUBJECT_PREFIX, lang)} {in_language(DIGEST_SUBJECT, lang) % {'count': len(items)}}"
    )
    lines = [in_language(DIGEST_INTRO, lang), ""]
    for sentence, url in items:
        lines += [f"- {in_language(sentence, lang)}", f"  {url}"]
    lines += ["", notifications_url, "", "-- ", in_language(WHY_THIS_MAIL, lang)]
    return subject[:300], "\n".join(lines) + "\n"
