"""``in_language``: a message from the catalog in the language asked for, outside any page.

The Chinese expected here is the catalog's (ledger/translations/zh_Hans), written out by hand.
"""

from __future__ import annotations

from ledger.messages import Bilingual, in_language, translatable
from ledger.vocabulary import STATUS


def test_a_message_with_a_parameter_in_chinese_and_in_english() -> None:
    message = translatable("Must be less than or equal to %(max)s.", max=100)
    assert in_language(message, "zh") == "必须小于或等于 100。"
    assert in_language(message, "en") == "Must be less than or equal to 100."


def test_messages_among_the_parameters_are_translated_too() -> None:
    message = translatable(
        "recorded %(action)s (%(kind)s)", action="report.approved", kind=translatable("Disbursements")
    )
    assert in_language(message, "en") == "recorded report.approved (Disbursements)"
    assert in_language(message, "zh") == "记录了拨付的操作（report.approved）"


def test_a_word_of_the_vocabulary_and_a_message_without_parameters() -> None:
    assert in_language(STATUS["submitted"], "zh") == "待审核"
    assert in_language(STATUS["submitted"], "en") == "submitted"
    assert in_language(translatable("Trial balance at %(date)s", date="2026-11-01"), "zh") == (
        "试算平衡表（截至 2026-11-01）"
    )


def test_bilingual_text_gives_its_own_chinese_or_english() -> None:
    name = Bilingual("活动费", "Activities")
    assert in_language(name, "zh") == "活动费"
    assert in_language(name, "en") == "Activities"
    assert in_language(translatable("%(name)s is saved.", name=name), "en") == "Activities is saved."
    assert in_language(translatable("%(name)s is saved.", name=name), "zh") == "已保存 活动费。"


def test_other_text_stands_as_it_is() -> None:
    assert in_language("社区居家养老服务项目", "en") == "社区居家养老服务项目"
    assert in_language("draft", "zh") == "draft"  # plain text is not looked up
    assert in_language(42, "zh") == "42"
