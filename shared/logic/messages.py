"""Every text the platform sends to a person, as a template with variables.

Mainland SMS providers (Alibaba Cloud SMS, Tencent Cloud SMS) send only pre-approved templates: a filed
text with named variables, sent with a pre-approved signature (签名, "救在身边"). So a message is never a
free string here: it is a ``Text`` (a template and its variables). Each profile renders it its own way:
the global profile sends ``body`` (the bilingual text) through SNS; the China profile sends the template's
provider code and the variables, and the provider renders ``filed`` (the Chinese text as approved).
docs/sms-templates.md lists each template as it must be filed (a test holds the two equal)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

# Alibaba's rule for notification templates: a variable's value at most 35 characters (links excepted).
MAX_VARIABLE_LENGTH = 35
_VARIABLE = re.compile(r"\$\{(\w+)\}")


@dataclass(frozen=True)
class Template:
    template_id: str
    filed: str  # the Chinese text as filed for approval; ${name} marks a variable
    body: str  # the global profile's text (SNS): str.format fields named as the variables
    purpose: str  # why it is sent, as the approval form asks
    kind: str  # what /dev/outbox and the app call it: alert, stand_down, reroute, reminder...

    @property
    def variables(self) -> tuple[str, ...]:
        """The variables in the order they appear: Tencent's templates number them {1}, {2}... so."""
        return tuple(dict.fromkeys(_VARIABLE.findall(self.filed)))


@dataclass(frozen=True)
class Text:
    """One message: which template, and its variables (all strings)."""

    template: str
    params: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        template = TEMPLATES[self.template]
        if set(self.params) != set(template.variables):
            raise ValueError(
                f"{self.template}: variables {sorted(self.params)} != {sorted(template.variables)}"
            )

    @property
    def kind(self) -> str:
        return TEMPLATES[self.template].kind

    @property
    def body(self) -> str:
        """The global profile's text."""
        return TEMPLATES[self.template].body.format_map(self.params)

    @property
    def filed(self) -> str:
        """The text a mainland provider renders from the approved template (signature not included)."""
        return _VARIABLE.sub(lambda m: self.params[m.group(1)], TEMPLATES[self.template].filed)

    def sms_params(self) -> dict[str, str]:
        """The variables as an SMS provider takes them: each within MAX_VARIABLE_LENGTH (a long AED name
        is cut there, in the SMS only: the push and the global profile's texts carry it whole)."""
        return {name: clip(value) for name, value in self.params.items()}

    def ordered(self) -> list[str]:
        """The SMS variables in the template's order (Tencent's TemplateParamSet)."""
        params = self.sms_params()
        return [params[name] for name in TEMPLATES[self.template].variables]


def _catalog(*templates: Template) -> dict[str, Template]:
    return {t.template_id: t for t in templates}


_ALERT_BODY = (
    "救在身边 Rescue Nearby: suspected cardiac arrest {distance} from you. "
    "Open the app to accept; if you go, start CPR at once.{aed_hint} "
    "疑似心脏骤停，距您{distance}，请立即响应。"
)

TEMPLATES: dict[str, Template] = _catalog(
    Template(
        "rescue_alert",
        "您附近${distance}处有人疑似心脏骤停，请立即打开救在身边App接受任务；如前往，请到场后立即实施心肺复苏。"
        "事件${incident}",
        _ALERT_BODY.replace("{aed_hint}", ""),
        "A certified volunteer responder on duty is within reach of a suspected cardiac arrest: every "
        "minute without CPR costs the patient about a tenth of their chance to live.",
        "alert",
    ),
    Template(
        "rescue_alert_aed",
        "您附近${distance}处有人疑似心脏骤停，附近有AED，您可能被安排取AED。请立即打开救在身边App接受任务；"
        "如前往，请到场后立即实施心肺复苏。事件${incident}",
        _ALERT_BODY.replace("{aed_hint}", " An AED is nearby: you may be asked to fetch it."),
        "As rescue_alert, when a usable AED is near the patient and a responder may be asked to fetch it.",
        "alert",
    ),
    Template(
        "rescue_stand_down",
        "感谢您的响应：已有足够的救护员赶往现场，您无需前往。事件${incident}",
        "救在身边 Rescue Nearby: thank you, enough helpers are on the way; no need to go. "
        "已有足够救助者，无需前往。",
        "Responders alerted but not needed any more are told at once, so nobody travels in vain.",
        "stand_down",
    ),
    Template(
        "rescue_reroute",
        "您要取的AED无法使用，请改取：${aed}。事件${incident}",
        "救在身边 Rescue Nearby: the AED you were fetching cannot be used: fetch this one instead: {aed}. "
        "原AED无法使用，请改取：{aed}。",
        "The AED a responder is fetching was reported unusable: they are sent to the next usable one.",
        "reroute",
    ),
    Template(
        "rescue_reroute_no_aed",
        "您要取的AED无法使用，附近没有其他可用AED：请直接前往患者处实施心肺复苏。事件${incident}",
        "救在身边 Rescue Nearby: the AED you were fetching cannot be used and no other is near: go to the "
        "patient and start CPR. 该AED无法使用，附近无其他AED：请直接前往患者处实施心肺复苏。",
        "The AED a responder is fetching was reported unusable and no other is near: CPR comes first.",
        "reroute",
    ),
    Template(
        "rescue_debrief",
        "感谢您参与事件${incident}的救援。请在救在身边App中花两分钟填写救援回访：您做了什么、现在感觉如何，"
        "以及是否希望有人给您回电。",
        "救在身边 Rescue Nearby: thank you for helping in this rescue. A two-minute debrief: what you did, "
        "how you feel, and whether you would like someone to call you. 感谢您的救助，请填写救援回访。",
        "Volunteers who took part in a resuscitation are at risk of distress: after the close each one who "
        "accepted is asked, once, how they are and offered a call from the Red Cross.",
        "debrief",
    ),
    Template(
        "certificate_reminder",
        "您的急救证书${certificate}将于${valid_until}到期（还有${days}天），请报名复训以继续参与救援。",
        "救在身边: 您的急救证书 {certificate} 将于 {valid_until} 到期（还有 {days} 天），"
        "请报名复训以继续参与救援。"
        " Rescue Nearby: your first-aid certificate {certificate} expires on {valid_until} ({days} days);"
        " book a refresher to stay on the roster.",
        "A certified responder's certificate expires in 60 or 30 days: a refresher keeps them on duty.",
        "certificate_reminder",
    ),
    Template(
        "seat_promotion",
        "培训有空位了：您已确认参加${starts}在${site}的急救培训（报名号${registration}）。",
        "救在身边 Rescue Nearby: a seat has opened for you. You are confirmed for the session at "
        "{site} on {starts} (registration {registration}).",
        "A trainee on a session's waiting list got a seat that was given up.",
        "seat_promotion",
    ),
    *(
        Template(
            f"upkeep_{part}_expiring",
            f"您管理的AED（${{aed}}）的{zh}将于${{on}}到期（还有${{days}}天），请更换并登记新日期，否则到期次日起不再派往救援。",
            f"{{aed}}: the {part} {verb} on {{on}} ({{days}} days). "
            f"Replace {them} and record the new date, or the AED leaves search the day after.",
            f"An AED's {part} expire within 30 days: its manager replaces them before the AED leaves search.",
            "upkeep",
        )
        for part, zh, verb, them in (
            ("pads", "电极片", "expire", "them"),
            ("battery", "电池", "expires", "it"),
        )
    ),
    *(
        Template(
            f"upkeep_{part}_expired",
            f"您管理的AED（${{aed}}）的{zh}已于${{on}}过期，该AED已暂停派往救援，请更换后登记新日期。",
            f"{{aed}}: the {part} expired on {{on}}. "
            "The AED is no longer offered to rescuers until new dates are recorded (inspection or update).",
            f"An AED's {part} expired: it is out of search until its manager records new ones.",
            "upkeep",
        )
        for part, zh in (("pads", "电极片"), ("battery", "电池"))
    ),
    Template(
        "upkeep_inspection_overdue",
        "您管理的AED（${aed}）应于${due}巡检（每${months}个月一次），请尽快巡检并登记结果。",
        "{aed}: an inspection was due on {due} (every {months} months). Inspect it and record the checks.",
        "An AED's periodic inspection is overdue: its manager inspects it.",
        "upkeep",
    ),
)


# The templates that go out by SMS in the cn profile (the upkeep ones go to the AED upkeep topic).
TEXTED = frozenset(t.template_id for t in TEMPLATES.values() if t.kind != "upkeep")


def clip(value: str, limit: int = MAX_VARIABLE_LENGTH) -> str:
    """A variable's value within the providers' length rule (an AED's long name, say)."""
    return value if len(value) <= limit else value[: limit - 1] + "…"
