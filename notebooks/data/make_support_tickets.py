"""Generate the *Support tickets with sentiment labels* data set (catalogue: support-tickets-sentiment).

2,400 short English customer-support messages about Quillboard, an invented team-planning
product, labelled negative / neutral / positive: 800 per label, split train / validation / test
1,800 / 300 / 300 (600 / 100 / 100 per label). One JSON object per line: id, text, label, split.

Every message is built from a template with paraphrase alternatives (``[a|b]``) and slots
(``{feature}``, ``{error}``, invented names and order numbers). About a third of the templates are
deliberately hard: hedged or mixed wording whose overall sentiment is carried by one clause,
negated praise in negative messages ("not impressed"), negated complaints in positive ones ("no
more crashes"), and neutral questions that name errors. Each message takes its template's label;
no human labelled anything. Validation and test each hold 30 messages per label from templates
that training never sees (UNSEEN_TEMPLATES), so their scores say something about phrasings a
model has not memorised; the other 70 per label are new fillings of the training templates.

    python make_support_tickets.py --out support_tickets.jsonl [--seed 7]

The same seed gives the same bytes.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

LABELS = ("negative", "neutral", "positive")
SPLITS = {"train": 600, "validation": 100, "test": 100}  # per label
DEFAULT_SEED = 7
PRODUCT = "Quillboard"

SLOTS = {
    "feature": ["calendar sync", "PDF export", "offline mode", "the mobile app", "dark mode", "search",
                "two-factor login", "the Kanban board", "CSV import", "the Chatterbox integration",
                "workspace sharing", "the billing portal", "the notification centre", "the REST API",
                "version history", "the template gallery", "single sign-on", "the recurring-task feature",
                "the desktop client", "file upload", "the reporting dashboard", "guest access",
                "the timeline view", "the email digest", "bulk editing", "the browser extension"],
    "error": ["ERR_SYNC_409", "E1042 (workspace locked)", "'Attachment too large'", "QB-TIMEOUT-17",
              "'Licence key not recognised'", "a 503 from the API", "'Unexpected token in export'",
              "'Session expired' every few minutes", "E2210 (quota exceeded)", "a blank white screen",
              "'Could not reach server'", "ERR_AUTH_31"],
    "platform": ["Windows 11", "macOS", "Ubuntu", "Android", "an iPad", "iOS", "Chrome", "Firefox",
                 "Safari", "the web app"],
    "version": [f"{major}.{minor}" for major in (4, 5) for minor in range(0, 8)],
    "since": ["since Monday", "since the last update", "for three days", "for over a week",
              "since yesterday", "all morning", "since we upgraded", "for two weeks now"],
    "wait": ["four days", "a week", "48 hours", "two weeks", "three days", "ten days"],
    "event": ["two people edit the same card", "I switch workspaces", "the laptop goes to sleep",
              "I attach a large file", "the network drops for a second", "I rename a board",
              "I log in from a second device", "an export finishes"],
    "action": ["export", "search", "board refresh", "login", "file upload", "report"],
    "agent": ["Mirela", "Tobias", "Anouk", "Sven", "Ilaria", "Kasimir", "Jolene", "Ruben", "Oona",
              "Dario", "Fenna", "Lukas"],
    "name": ["Petra", "Hamid", "Grace", "Jonas", "Aiko", "Marta", "Ole", "Samira", "Viktor", "Lena",
             "Tomasz", "Chiara", "Ben", "Noor", "Emil", "Zofia"],
    "plan": ["Starter", "Team", "Business", "Enterprise"],
    "team": ["our design team", "the finance team", "my team", "our support staff", "the whole office",
             "our developers", "the sales team"],
}

# Generated slots: invented order and ticket numbers.
GENERATED = {
    "order": lambda rng: f"QB-{rng.randint(100000, 999999)}",
    "ticket": lambda rng: f"#{rng.randint(20000, 89999)}",
}

OPENERS = ["", "", "", "Hi, ", "Hello, ", "Hi team, ", "Hello support, ", "Hey, ", "Good morning, ",
           "Dear support, "]
CLOSERS = ["", "", "", " Thanks.", " Thanks, {name}", " Regards, {name}", " Cheers", " - {name}",
           " Thank you.", " Best, {name}"]

TEMPLATES = {
    "negative": [
        # plain complaints
        "{feature} has been broken {since}. [I keep getting|All I get is] {error} and nothing I try fixes it.",
        "This is the [third|fourth|fifth] time I'm writing about {feature}. Still broken, still no [answer|fix].",
        "I was charged twice for order {order}. Please refund the duplicate payment [immediately|today].",
        "Since updating to {version}, {feature} crashes on {platform} every time I open it.",
        "Really [disappointed|frustrated] with {feature}; it loses my changes whenever {event}.",
        "Your last update made {feature} [unusable|useless] for {team}. Please roll it back.",
        "Waited {wait} for a reply on ticket {ticket} and got a canned answer. [Not acceptable|Unacceptable].",
        "{feature} is painfully slow on {platform}; a simple {action} takes minutes.",
        "[Terrible|Awful] experience today: {feature} failed with {error} in the middle of a client demo.",
        "We pay for the {plan} plan and {feature} has been down {since}. [This is a joke|Very poor service].",
        "{feature} [deletes|wipes] my notes whenever {event}. I am [furious|livid].",
        "Every time {event}, {PRODUCT} throws {error}. [Fix it, please|Please fix this].",
        "The {version} release broke {feature} for {team} and nobody at {PRODUCT} seems to care.",
        "I [regret|am starting to regret] moving {team} to {PRODUCT}. {feature} fails [daily|constantly].",
        "Order {order} was never activated and I have been locked out {since}.",
        # hedged, mixed, negated: the overall sentiment is still negative
        "I don't usually complain, but {feature} has stopped working {since} and it's costing us hours.",
        "{agent} was [polite|friendly|kind], but the problem with {feature} is still not fixed after {wait}.",
        "Not impressed with {version}: {feature} is slower than before and {error} keeps popping up.",
        "I wanted to like {feature}, honestly, but it fails with {error} more often than it works.",
        "The new design looks nice, I guess, but I can no longer find {feature} and {team} is [frustrated|annoyed].",
        "[Nothing|Not one thing] about {feature} works as advertised on {platform}.",
        "Can anyone explain why {feature} keeps failing with {error}? This is getting ridiculous.",
        "Thanks for the quick reply, but the workaround does not help: {feature} still shows {error}.",
        "I'm not sure what changed in {version}, but {feature} has become [unreliable|a mess] for {team}.",
        "Maybe it's just me, but {feature} has never once synced correctly on {platform}.",
        "{PRODUCT} used to be great. Since {version}, {feature} is [a constant headache|barely usable].",
        "It's not a small issue: {feature} [silently drops|quietly loses] data when {event}.",
        "I can't recommend {PRODUCT} to anyone while {feature} keeps throwing {error}.",
    ],
    "neutral": [
        "How do I [enable|turn on|set up] {feature} on {platform}?",
        "Is there a way to export {feature} settings to CSV?",
        "Please update the billing address on order {order}.",
        "Could you tell me whether {feature} is included in the {plan} plan?",
        "We are moving to {platform} next month. Does {feature} support it?",
        "I'd like to add [two|three|five] seats to our workspace. What's the process?",
        "Where can I find the release notes for {version}?",
        "Following up on ticket {ticket}: do you need any more information from me?",
        "Our admin asked me to check if {feature} can be turned off for guest users.",
        "What does {error} mean? It appeared once after {event}.",
        "Please cancel order {order}; we picked the {plan} plan by mistake and will reorder.",
        "Can I move a board from one workspace to another without losing {feature} settings?",
        "Which ports does the desktop client need for {feature} behind a proxy?",
        "Please send the invoice for order {order} as a PDF to our accounts address.",
        "Is {feature} available in the {version} beta, or only in the stable release?",
        "Does the {plan} plan include priority support, and what are the response times?",
        "I need to change the owner of our workspace because the current owner is leaving. How?",
        "When will {feature} be available on {platform}?",
        # neutral wording that borrows words from the other classes
        "Not sure if this is a bug or intended: {feature} shows dates in US format. Which setting controls that?",
        "No rush on this one - is there an API endpoint for {feature}?",
        "Before we upgrade to {version}: will {feature} keep working the same way?",
        "Just checking: if I downgrade to the {plan} plan, what happens to {feature}?",
        "A colleague mentioned {error} on {platform}. Is that a known issue, and is there a workaround?",
        "Is it possible to get a trial of the {plan} plan for {team} before we decide?",
        "I have no problem with the current setup; I only need to know how to [reset|rotate] our API key.",
        "Please confirm that order {order} covers [12|24|36] months and not one.",
        "Where do I report a security question about {feature}?",
        "{agent} asked me to send logs for ticket {ticket}. Which folder are they in on {platform}?",
    ],
    "positive": [
        "Thanks, {agent}! {feature} works [perfectly|flawlessly] now.",
        "Just wanted to say {feature} has saved {team} hours every week.",
        "The fix in {version} got rid of {error}. Great job.",
        "{agent} walked me through {feature} in five minutes. [Excellent|Outstanding] support.",
        "[Love|Really love] the new {bare_feature}; exactly what we needed.",
        "{feature} on {platform} is fast and [reliable|smooth]. Very happy with it.",
        "Order {order} was sorted out within an hour. Thank you for the great service!",
        "{team} switched to {PRODUCT} last month and everyone [loves|enjoys] {feature}.",
        "Quick note to say {version} is the best release yet. {feature} feels [snappy|much faster].",
        "Brilliant support from {agent} on ticket {ticket}. Problem solved on the first reply.",
        "{feature} is [a joy|a pleasure] to use. Thank you for building it.",
        "Five stars for {feature}. It does exactly what it promises on {platform}.",
        "Your team resolved ticket {ticket} faster than any vendor we work with. Much appreciated.",
        "[Great|Fantastic] work on {feature}; {team} is delighted.",
        # hedged, mixed, negated: the overall sentiment is still positive
        "I was sceptical about {feature} at first, but it has [won me over|become indispensable].",
        "No more {error} since the update - thank you!",
        "Not a single crash since we moved to {version}. Well done.",
        "I can't complain: {feature} has been rock solid for months.",
        "Setup took a while, but {feature} is now the part of {PRODUCT} {team} relies on most.",
        "Never thought I'd write to support to say thanks, but {agent} really helped us.",
        "{feature} isn't perfect yet, but it is a huge improvement and we are [happy|pleased] with it.",
        "I expected a long fight over order {order}, but the refund arrived the next day. Impressive.",
        "We had {error} for a week, but {agent} found the cause and it hasn't come back.",
        "Not bad at all: {feature} now loads in under a second on {platform}.",
        "Honestly didn't expect {feature} to work offline this well. Nice surprise.",
        "No complaints from {team} since the switch; {feature} just works.",
        "Nothing to report except thanks: {version} fixed {feature} for us.",
        "Hard to believe how much smoother {feature} is since {version}. Thank you.",
    ],
}

# Templates used only for validation and test (30 messages per label in each): these measure whether
# a model learnt sentiment or memorised the training phrasings.
UNSEEN_TEMPLATES = {
    "negative": [
        "Second invoice this month for order {order} with the wrong amount. Sort it out.",
        "{feature} on {platform} freezes for ten seconds after every click. [Maddening|Infuriating].",
        "Honestly, I expected better: {error} again, and {agent} just told me to clear the cache.",
        "So {feature} is gone from the {plan} plan without any notice? That's a [shabby|poor] way to treat customers.",
        "Not happy. {feature} worked fine in {version} and now it won't even start.",
        "Great, another update and {feature} is broken again. [Well done|Brilliant].",
    ],
    "neutral": [
        "Could you point me to the documentation for {feature}?",
        "We have [40|120|300] users on the {plan} plan; is there a discount for nonprofits?",
        "Is there a keyboard shortcut for {feature} on {platform}?",
        "Can {feature} be limited to admins only?",
        "I'm writing a [guide|handbook] for {team}: is {feature} the same on {platform} and the web app?",
        "Please add {name} from our finance team as a billing contact for order {order}.",
    ],
    "positive": [
        "{feature} worked on the first try. [Impressed|Genuinely impressed].",
        "Kudos to {agent} - patient, clear and quick.",
        "Whoever designed {bare_feature} deserves a raise.",
        "We renewed the {plan} plan without a second thought. {feature} alone is worth it.",
        "No sign of {error} since [Tuesday|the patch], and {team} is back to work. Thanks a lot.",
        "Didn't think {PRODUCT} could get any better, but {version} did it.",
    ],
}
UNSEEN_PER_SPLIT = 30  # per label, in validation and in test

_ALTERNATIVES = re.compile(r"\[([^\[\]]+)\]")
_SLOT = re.compile(r"\{(\w+)\}")
_SENTENCE_START = re.compile(r"(?<=[.!?] )([a-z])")
# words that keep their capital after an opener such as "Hi, "
_PROPER = {PRODUCT, "I", "I'm", "I'd", "I've", "Windows", "Ubuntu", "Android", "Chrome", "Firefox",
           "Safari", *SLOTS["agent"], *SLOTS["name"]}


def fill(template: str, rng: random.Random) -> str:
    """One message body from a template: pick each [a|b] alternative, then fill each {slot}."""
    text = _ALTERNATIVES.sub(lambda m: rng.choice(m.group(1).split("|")), template)

    def slot(match: re.Match) -> str:
        name = match.group(1)
        if name == "PRODUCT":
            return PRODUCT
        if name == "bare_feature":  # "the new {bare_feature}": no article of its own
            return rng.choice(SLOTS["feature"]).removeprefix("the ")
        if name in GENERATED:
            return GENERATED[name](rng)
        return rng.choice(SLOTS[name])

    return _SENTENCE_START.sub(lambda m: m.group(1).upper(), _SLOT.sub(slot, text))


def message(template: str, rng: random.Random) -> str:
    """A body with an optional greeting and sign-off, written the way people type them on one line."""
    opener, closer = rng.choice(OPENERS), rng.choice(CLOSERS)
    body = fill(template, rng)
    first = body.split(" ", 1)[0].rstrip(",:;")
    # names, "I" and acronyms such as PDF keep their capital after "Hi, "
    keeps_capital = first in _PROPER or (len(first) > 1 and first[:2].isupper())
    if opener and not keeps_capital:
        body = body[:1].lower() + body[1:]
    else:
        body = body[:1].upper() + body[1:]
    return (opener + body + fill(closer, rng)).strip()


def _distinct(templates: list[str], count: int, rng: random.Random, seen: set[str]) -> list[str]:
    """count messages, none seen before (case-insensitive), using each template about equally often."""
    texts, attempts = [], 0
    while len(texts) < count:
        attempts += 1
        if attempts > 100 * count:
            raise RuntimeError(f"templates starting {templates[0][:40]!r} give too few distinct messages")
        text = message(templates[attempts % len(templates)], rng)
        if text.lower() not in seen:
            seen.add(text.lower())
            texts.append(text)
    rng.shuffle(texts)
    return texts


def generate(seed: int = DEFAULT_SEED) -> list[dict]:
    """The whole data set as a list of records: train, then validation, then test."""
    rng = random.Random(seed)
    seen: set[str] = set()
    rows: dict[str, list[tuple[str, str]]] = {split: [] for split in SPLITS}
    for label in LABELS:
        unseen_total = UNSEEN_PER_SPLIT * (len(SPLITS) - 1)
        familiar = _distinct(TEMPLATES[label], sum(SPLITS.values()) - unseen_total, rng, seen)
        unseen = _distinct(UNSEEN_TEMPLATES[label], unseen_total, rng, seen)
        rows["train"] += [(text, label) for text in familiar[:SPLITS["train"]]]
        start = SPLITS["train"]
        for i, split in enumerate(s for s in SPLITS if s != "train"):
            n_familiar = SPLITS[split] - UNSEEN_PER_SPLIT
            rows[split] += [(text, label) for text in familiar[start:start + n_familiar]]
            rows[split] += [(text, label) for text in unseen[i * UNSEEN_PER_SPLIT:(i + 1) * UNSEEN_PER_SPLIT]]
            start += n_familiar
    records = []
    for split, split_rows in rows.items():
        rng.shuffle(split_rows)
        records += [{"text": text, "label": label, "split": split} for text, label in split_rows]
    return [{"id": f"tkt-{i:05d}", **record} for i, record in enumerate(records, start=1)]


def write_jsonl(records: list[dict], out: Path) -> None:
    """Write ``records`` to ``out`` as JSON Lines, one UTF-8 object a line."""
    with open(out, "w", encoding="utf-8", newline="\n") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Command line: write the synthetic support tickets to ``--out``; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="the JSON Lines file to write")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    args = parser.parse_args(argv)
    records = generate(args.seed)
    write_jsonl(records, args.out)
    print(f"wrote {len(records)} tickets to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
