"""Example projects, one or more per branch of the AI-Act questionnaire, with what they must conclude.

Shared by the assessment tests (categories, reasons, checklist) and the record tests (exports).
"""
from __future__ import annotations

from dataclasses import dataclass, field

NOT_RESEARCH = {"research_only": "no"}
NO_PROHIBITED = {**NOT_RESEARCH, "prohibited_practice": "none"}
NO_HIGH_RISK = {**NO_PROHIBITED, "annex_i_product": "no", "annex_iii_area": "none"}
NO_GPAI = {"gpai_model": "no"}
NO_TRANSPARENCY = {"interacts_with_people": "no", "synthetic_content": "no", "emotion_or_biometric": "no"}
HIGH_RISK_ITEMS = {"risk-management", "data-governance", "technical-documentation", "record-keeping",
                   "deployer-information", "human-oversight", "accuracy-robustness-cybersecurity",
                   "conformity-assessment", "registration"}


@dataclass(frozen=True)
class Example:
    """A project, its answers, and the category, flags, cited articles and checklist items it must get."""

    name: str
    purpose: str
    answers: dict
    category: str
    flags: tuple = ()
    articles: tuple = ()  # cited by the reasons
    items: frozenset = field(default_factory=frozenset)  # among the checklist's ids
    absent: frozenset = field(default_factory=frozenset)  # not among them


def prohibited(name, value, article):
    return Example(name, f"A system that {name}.", {**NOT_RESEARCH, "prohibited_practice": value}, "prohibited",
                   articles=(article,), items=frozenset({"stop-prohibited-practice", "prohibited-exception-advice"}),
                   absent=frozenset({"risk-management", "ai-literacy"}))


def annex_iii(name, area, point, profiling="yes", derogation=None):
    answers = {**NO_PROHIBITED, "annex_i_product": "no", "annex_iii_area": area, "annex_iii_profiling": profiling}
    if derogation:
        answers["annex_iii_derogation"] = derogation
    return Example(name, f"A system for {name}.", {**answers, **NO_GPAI, **NO_TRANSPARENCY}, "high-risk",
                   articles=(f"Annex III point {point}", "Art. 6(3)" if profiling == "yes" else "Art. 6(2)"),
                   items=frozenset(HIGH_RISK_ITEMS), absent=frozenset({"derogation-documentation"}))


EXAMPLES = [
    # Art. 5: every prohibited practice family
    prohibited("nudges gamblers with subliminal cues", "subliminal_manipulation", "Art. 5(1)(a)"),
    prohibited("targets children's loot-box spending", "exploiting_vulnerabilities", "Art. 5(1)(b)"),
    prohibited("scores citizens' social behaviour", "social_scoring", "Art. 5(1)(c)"),
    prohibited("predicts offending from personality", "predictive_policing", "Art. 5(1)(d)"),
    prohibited("scrapes faces from the web", "facial_image_scraping", "Art. 5(1)(e)"),
    prohibited("reads employees' emotions in meetings", "emotion_recognition_work_education", "Art. 5(1)(f)"),
    prohibited("infers sexual orientation from faces", "biometric_categorisation_sensitive", "Art. 5(1)(g)"),
    prohibited("identifies passers-by live for the police", "realtime_remote_biometric_identification",
               "Art. 5(1)(h)"),
    # Art. 6(1) and Annex I
    Example("medical imaging triage", "Flags suspicious lesions in CT scans for radiologists (a medical device).",
            {**NO_PROHIBITED, "annex_i_product": "yes", **NO_GPAI, **NO_TRANSPARENCY}, "high-risk",
            articles=("Art. 6(1)",), items=frozenset(HIGH_RISK_ITEMS | {"ai-literacy"})),
    # Art. 6(2) and Annex III: every area family
    annex_iii("remote biometric identification in shops", "biometrics", 1),
    annex_iii("grid load balancing safety", "critical_infrastructure", 2, profiling="no", derogation="no"),
    annex_iii("exam grading", "education", 3, profiling="no", derogation="no"),
    annex_iii("CV screening", "employment", 4),
    annex_iii("credit scoring", "essential_services", 5),
    annex_iii("re-offending risk for probation", "law_enforcement", 6),
    annex_iii("visa application triage", "migration_border", 7),
    annex_iii("case-law research for judges", "justice_democracy", 8, profiling="no", derogation="no"),
    # Art. 6(3): an Annex III area, but only a preparatory task
    Example("deduplicating job ads before human review", "Finds duplicate job postings before a recruiter reads them.",
            {**NO_PROHIBITED, "annex_i_product": "no", "annex_iii_area": "employment", "annex_iii_profiling": "no",
             "annex_iii_derogation": "yes", **NO_GPAI, **NO_TRANSPARENCY}, "minimal", flags=("annex-iii-derogation",),
            articles=("Annex III point 4", "Art. 6(3)"),
            items=frozenset({"derogation-documentation", "derogation-registration", "ai-literacy"}),
            absent=frozenset({"risk-management"})),
    # Art. 6 + Art. 50: high-risk and a chatbot
    Example("hiring chatbot", "Interviews applicants by chat and scores them.",
            {**NO_PROHIBITED, "annex_i_product": "no", "annex_iii_area": "employment", "annex_iii_profiling": "yes",
             **NO_GPAI, **{**NO_TRANSPARENCY, "interacts_with_people": "yes"}}, "high-risk",
            flags=("chatbot-disclosure",), articles=("Art. 6(3)", "Art. 50(1)"),
            items=frozenset(HIGH_RISK_ITEMS | {"chatbot-disclosure"})),
    # Art. 50: transparency
    Example("support chatbot", "Answers customers' questions about their orders.",
            {**NO_HIGH_RISK, **NO_GPAI, **{**NO_TRANSPARENCY, "interacts_with_people": "yes"}}, "transparency",
            flags=("chatbot-disclosure",), articles=("Art. 50(1)",),
            items=frozenset({"chatbot-disclosure", "transparency-timing", "ai-literacy"}),
            absent=frozenset({"risk-management", "synthetic-content-marking"})),
    Example("deepfake video generator", "Makes videos of public figures for a satire show.",
            {**NO_HIGH_RISK, **NO_GPAI, "interacts_with_people": "no", "synthetic_content": "yes", "deepfake": "yes",
             "emotion_or_biometric": "no"}, "transparency",
            flags=("synthetic-content-marking", "deepfake-disclosure"), articles=("Art. 50(2)", "Art. 50(4)"),
            items=frozenset({"synthetic-content-marking", "deepfake-disclosure", "transparency-timing"}),
            absent=frozenset({"chatbot-disclosure"})),
    Example("audience mood meter", "Estimates the mood of a concert audience from video.",
            {**NO_HIGH_RISK, **NO_GPAI, **{**NO_TRANSPARENCY, "emotion_or_biometric": "yes"}}, "transparency",
            flags=("emotion-biometric-disclosure",), articles=("Art. 50(3)",),
            items=frozenset({"emotion-biometric-disclosure"})),
    # Art. 51-55: general-purpose models
    Example("7B foundation model", "A 7-billion-parameter language model offered to companies through an API.",
            {**NO_HIGH_RISK, "gpai_model": "yes", "gpai_systemic_risk": "no", "gpai_open_source": "no",
             **NO_TRANSPARENCY}, "general-purpose model", flags=("gpai", "gpai-documentation"),
            articles=("Art. 3(63) and Art. 53",),
            items=frozenset({"gpai-technical-documentation", "gpai-downstream-information", "gpai-copyright-policy",
                             "gpai-training-summary"}),
            absent=frozenset({"systemic-risk-evaluation", "risk-management"})),
    Example("open-weights model", "A 3-billion-parameter model released with its weights under Apache-2.0.",
            {**NO_HIGH_RISK, "gpai_model": "yes", "gpai_systemic_risk": "no", "gpai_open_source": "yes",
             **NO_TRANSPARENCY}, "general-purpose model", flags=("gpai",), articles=("Art. 53(2)",),
            items=frozenset({"gpai-copyright-policy", "gpai-training-summary"}),
            absent=frozenset({"gpai-technical-documentation", "systemic-risk-evaluation"})),
    Example("frontier model", "A model trained with 3e25 FLOP that writes text and images.",
            {**NO_HIGH_RISK, "gpai_model": "yes", "gpai_systemic_risk": "yes", "interacts_with_people": "no",
             "synthetic_content": "yes", "deepfake": "no", "emotion_or_biometric": "no"}, "general-purpose model",
            flags=("gpai", "gpai-documentation", "systemic-risk", "synthetic-content-marking"),
            articles=("Art. 51", "Art. 50(2)"),
            items=frozenset({"gpai-technical-documentation", "systemic-risk-evaluation", "systemic-risk-incidents",
                             "systemic-risk-cybersecurity", "systemic-risk-notification",
                             "synthetic-content-marking"})),
    # Art. 2(6): research
    Example("protein folding study", "Predicts protein structures for a university research group only.",
            {"research_only": "yes", "placed_on_market": "no"}, "research-exempt", articles=("Art. 2(6)",),
            items=frozenset({"research-purpose-record", "reassess-before-release"}),
            absent=frozenset({"ai-literacy"})),
    Example("research chatbot released to the public", "A research dialogue system opened to the public as a demo.",
            {"research_only": "yes", "placed_on_market": "yes", "prohibited_practice": "none", "annex_i_product": "no",
             "annex_iii_area": "none", **NO_GPAI, **{**NO_TRANSPARENCY, "interacts_with_people": "yes"}},
            "transparency", flags=("chatbot-disclosure",), articles=("Art. 2(6)", "Art. 50(1)"),
            items=frozenset({"chatbot-disclosure"}), absent=frozenset({"research-purpose-record"})),
    # nothing applies
    Example("support-ticket sentiment classifier", "Sorts support tickets by sentiment for a tutorial (notebook 03).",
            {**NO_HIGH_RISK, **NO_GPAI, **NO_TRANSPARENCY}, "minimal",
            articles=("Art. 5, 6, 50 and 53 (none applies)",),
            items=frozenset({"ai-literacy", "voluntary-code-of-conduct"}),
            absent=frozenset({"risk-management", "chatbot-disclosure"})),
]
