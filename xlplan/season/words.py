"""The season's words for people (emails; the review block of a returned workbook; the
commitment letter), in the plan's ``workbooks.language``.

One dict per language, keyed by message, with ``str.format`` fields, kept here in one
place so that they can move into the project's translation catalogs as they are.
"""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "send.subject": "{plan}: your {year} plan workbook for {unit}",
        "send.body": (
            "Dear {manager},\n\n"
            "attached is the {year} operating plan workbook of {unit_name} ({unit}).\n"
            "Fill in the yellow input cells (the Guide sheet says where) and send it back "
            "{deadline_words}{submit_words}.\n"
            "Save it as .xlsx; do not rename sheets or insert rows.\n\n"
            "Thank you,\n{sender}\n"),
        "deadline": "by {deadline}",
        "no_deadline": "as soon as you can",
        "submit_to": " to {submit_to}",
        "remind.subject": "{plan}: reminder for {unit} ({status})",
        "remind.body": (
            "Dear {manager},\n\n"
            "{need}\n{details}\n"
            "{deadline_line}\n\n"
            "Thank you,\n{sender}\n"),
        "need.missing": "we have not received the {year} plan workbook of {unit_name} ({unit}), "
                        "and the deadline has passed.",
        "need.late": "the {year} plan workbook of {unit_name} ({unit}) arrived after the "
                     "deadline; it is being reviewed.",
        "need.incomplete": "the {year} plan workbook of {unit_name} ({unit}) is not complete "
                           "yet. Please complete it and send it again:",
        "need.returned": "the {year} plan workbook of {unit_name} ({unit}) was returned for "
                         "changes. Please make them and send it again:",
        "deadline_line": "The deadline was {deadline}.",
        "comment": "Reviewer's comment: {comment}",
        "review.title": "Returned for changes",
        "review.by": "Reviewed by {actor} on {at}",
        "review.notes": "Notes on cells (highlighted, hover to read):",
    },
    "zh": {
        "send.subject": "{plan}：{unit} 的 {year} 年度计划工作簿",
        "send.body": (
            "{manager} 您好：\n\n"
            "附件是 {unit_name}（{unit}）的 {year} 年度经营计划工作簿。\n"
            "请填写黄色输入单元格（见“说明”工作表），并{deadline_words}{submit_words}。\n"
            "请保存为 .xlsx，不要重命名工作表或插入行。\n\n"
            "谢谢！\n{sender}\n"),
        "deadline": "于 {deadline} 前交回",
        "no_deadline": "尽快交回",
        "submit_to": "（发送至 {submit_to}）",
        "remind.subject": "{plan}：{unit} 提醒（{status}）",
        "remind.body": (
            "{manager} 您好：\n\n"
            "{need}\n{details}\n"
            "{deadline_line}\n\n"
            "谢谢！\n{sender}\n"),
        "need.missing": "我们尚未收到 {unit_name}（{unit}）的 {year} 年度计划工作簿，"
                        "截止日期已过。",
        "need.late": "{unit_name}（{unit}）的 {year} 年度计划工作簿在截止日期之后收到，"
                     "正在审核。",
        "need.incomplete": "{unit_name}（{unit}）的 {year} 年度计划工作簿尚未填写完整，"
                           "请补全后重新提交：",
        "need.returned": "{unit_name}（{unit}）的 {year} 年度计划工作簿已退回修改，"
                         "请修改后重新提交：",
        "deadline_line": "截止日期为 {deadline}。",
        "comment": "审核意见：{comment}",
        "review.title": "退回修改",
        "review.by": "审核人 {actor}，{at}",
        "review.notes": "单元格批注（已高亮，鼠标悬停查看）：",
    },
}


def say(language: str, key: str, **fields: object) -> str:
    """The message ``key`` in ``language`` (English when the language has no such word)."""
    words = WORDS.get(language, WORDS["en"])
    return words.get(key, WORDS["en"][key]).format(**fields)
