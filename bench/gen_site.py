#!/usr/bin/env python3
"""Writes a synthetic clinic site of N service pages, twice: as a site root for
`generator build` and as a Hugo site with the same content, for bench/run.

The content is deterministic for a given --pages and --seed: the same words, front
matter and links every time, so figures from different runs compare. Python 3
standard library only.

    bench/gen_site.py --pages 1000 --seed 5 --out bench/out/site-1000 \
        --hugo-out bench/out/hugo-1000

The generator's site uses the repository's themes/default (copied in). The Hugo site
gets bench/hugo/layouts and the default theme's CSS (copied in), and keeps our custom
fields (duration, price, sessions, faqs) as top-level front matter, which Hugo exposes
as .Params. The one field renamed is `order`, which Hugo calls `weight`.

The consultation form: site.yaml's form has a `type: service` field, which lists every
service, and the default theme puts the form on every service page. At 10,000 services
that is 10,000 options on each of 10,000 pages (about 9 GB of HTML, the output growing
with the square of the site). By default the synthetic site therefore asks "Which
treatment are you interested in?" with a `type: select` of the 20 treatment kinds, the
rest of the form unchanged; --service-field service keeps site.yaml's field as it is,
to measure that cost.
"""

import argparse
import json
import random
import re
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"

# --- words ------------------------------------------------------------------------

TREATMENTS = [
    "Laser hair removal", "Scalp micropigmentation", "Anti-wrinkle injections",
    "Dermal fillers", "Microneedling", "Chemical peel", "Hydrating facial",
    "Skin booster", "Tattoo removal", "Thread vein removal", "Cryolipolysis",
    "Radiofrequency skin tightening", "LED light therapy", "Hydradermabrasion",
    "Mole check", "Acne scar treatment", "Pigmentation treatment",
    "Lip enhancement", "Profhilo", "PRP hair treatment",
]
AREAS = [
    "face", "upper lip", "chin", "underarms", "bikini line", "lower legs", "full legs",
    "back and shoulders", "neck", "hands", "forehead", "jawline", "scalp",
    "under-eye area", "chest",
]
BRANCHES = [
    "Marylebone", "Camden", "Islington", "Richmond", "Greenwich", "Hampstead",
    "Clapham", "Wimbledon", "Chelsea", "Shoreditch", "Bath", "Bristol", "Oxford",
    "Cambridge", "Brighton", "Manchester", "Leeds", "York", "Edinburgh", "Glasgow",
    "Cardiff", "Belfast", "Norwich", "Exeter", "Nottingham", "Sheffield",
    "Liverpool", "Newcastle", "Reading", "Guildford", "St Albans", "Winchester",
    "Canterbury", "Chester", "Durham", "Harrogate", "Cheltenham", "Salisbury",
    "Lincoln", "Aberdeen",
]
HEADINGS = [
    "Who it suits", "How it works", "What to expect on the day", "Aftercare",
    "Results and how long they last", "Before your appointment", "Risks and side effects",
    "How many sessions you need", "Prices and quotes", "Why choose us",
    "Your consultation", "Combining treatments", "Getting started",
]
NOUNS = [
    "skin", "practitioner", "consultation", "session", "course", "area", "result",
    "clinic", "treatment", "appointment", "assessment", "follicle", "surface",
    "tone", "texture", "recovery", "plan", "quote", "routine", "layer",
]
ADJECTIVES = [
    "gentle", "careful", "medical", "long-lasting", "natural", "gradual", "fixed",
    "free", "thorough", "comfortable", "visible", "subtle", "safe", "personal",
    "clear", "healthy", "short", "regular",
]
VERBS = [
    "improves", "softens", "protects", "reduces", "supports", "restores", "calms",
    "brightens", "evens", "strengthens", "refreshes", "prepares", "shows", "changes",
]
OPENERS = [
    "Most people", "Your practitioner", "Our team", "Every client", "A medical assessment",
    "The first session", "A short consultation", "Good aftercare", "Each course",
]
QUESTIONS = [
    "Does it hurt?", "How long do results last?", "Is there any downtime?",
    "How many sessions will I need?", "Can I wear make-up afterwards?",
    "Is it safe for darker skin?", "What should I avoid before my appointment?",
    "Can I combine it with other treatments?", "When will I see results?",
    "Do you offer a patch test?", "Is it suitable during pregnancy?",
    "What happens at the consultation?", "Can I pay in instalments?",
    "Will my quote change?",
]
DURATIONS = [
    "1hr", "1 hr", "45 min", "1h 30m", "90m", "2 hours", "30 min", "1 hour",
    "1h 15m", "20 min", "2h", "75 min",
]

# --- helpers ----------------------------------------------------------------------


def slugify(s):
    s = s.lower().replace("&", " and ")
    s = re.sub(r"[^a-z0-9]+", "-", s)
    return s.strip("-")


def q(s):
    """A YAML scalar that is always read back as this exact string (JSON is YAML)."""
    return json.dumps(s, ensure_ascii=False)


def folded(text, indent):
    """`>-` block: wrap at about 84 columns."""
    pad = " " * indent
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > 84:
            lines.append(pad + line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(pad + line)
    return ">-\n" + "\n".join(lines)


class Writer:
    """All randomness for one site comes from one seeded generator."""

    def __init__(self, rng, services):
        self.rng = rng
        self.services = services  # list of (slug, title)

    def other(self, slug):
        while True:
            s = self.rng.choice(self.services)
            if s[0] != slug or len(self.services) == 1:
                return s

    def sentence(self, slug, links=True, prefix=""):
        """`prefix` is the way from the page's folder to content/services/."""
        r = self.rng
        words = [r.choice(OPENERS)]
        words.append("can " + r.choice(["find", "see", "notice", "choose", "need", "expect"]))
        words.append(f"a {r.choice(ADJECTIVES)} {r.choice(NOUNS)} that {r.choice(VERBS)}")
        words.append(f"the {r.choice(NOUNS)}")
        tail = r.random()
        if tail < 0.18:
            words.append(f"with **{r.choice(ADJECTIVES)} {r.choice(NOUNS)}**")
        elif tail < 0.28:
            words.append(f"and *{r.choice(ADJECTIVES)}* {r.choice(NOUNS)}s")
        elif links and tail < 0.36:
            other_slug, other_title = self.other(slug)
            words.append(f"alongside [{other_title.lower()}]({prefix}{other_slug}.md)")
        elif links and tail < 0.42:
            other_slug, other_title = self.other(slug)
            words.append(f"as with our [{other_title.lower()}](/services/{other_slug}/)")
        elif links and tail < 0.45:
            words.append("after a [free consultation](/consultation/)")
        words.append(
            f"over a {r.choice(ADJECTIVES)} {r.choice(NOUNS)} of {r.randint(2, 12)} weeks"
        )
        return " ".join(words) + "."

    def paragraph(self, slug, n, prefix=""):
        text = " ".join(self.sentence(slug, prefix=prefix) for _ in range(n))
        # Wrap like an editor's file.
        out, line = [], ""
        for word in text.split(" "):
            if line and len(line) + 1 + len(word) > 88:
                out.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        out.append(line)
        return "\n".join(out)

    def body(self, slug, target_words):
        r = self.rng
        parts = [self.paragraph(slug, r.randint(3, 4))]
        headings = r.sample(HEADINGS, len(HEADINGS))
        words = len(parts[0].split())
        h = 0
        list_done = False
        while words < target_words:
            heading = headings[h % len(headings)]
            if h >= len(headings):
                heading = f"{heading} ({h // len(headings) + 1})"
            h += 1
            blocks = [f"## {heading}", self.paragraph(slug, r.randint(2, 4))]
            kind = r.random()
            if not list_done or kind < 0.35:
                list_done = True
                marker = "-" if r.random() < 0.7 else "1."
                blocks.append("\n".join(
                    f"{marker} {r.choice(ADJECTIVES).capitalize()} {r.choice(NOUNS)} "
                    f"that {r.choice(VERBS)} the {r.choice(NOUNS)}"
                    for _ in range(r.randint(3, 6))
                ))
            elif kind < 0.45:
                rows = ["| Area | Price per session |", "|---|---|"]
                for area in r.sample(AREAS, 3):
                    rows.append(f"| {area.capitalize()} | £{r.randint(4, 40) * 5} |")
                blocks.append("\n".join(rows))
            if r.random() < 0.5:
                blocks.append(self.paragraph(slug, r.randint(1, 3)))
            text = "\n\n".join(blocks)
            count = len(text.split())
            if words + count > 900 and words >= 600:
                break
            parts.append(text)
            words += count
        return "\n\n".join(parts) + "\n"

    def faqs(self, slug):
        r = self.rng
        out = []
        for question in r.sample(QUESTIONS, r.randint(3, 6)):
            links = r.random() < 0.5
            answer = " ".join(self.sentence(slug, links) for _ in range(r.randint(2, 3)))
            out.append((question, answer))
        return out


def service_front(r, title, summary, faqs, order, hugo):
    lines = ["---", f"title: {q(title)}", f"summary: {folded(summary, 2)}"]
    lines.append(f"duration: {q(r.choice(DURATIONS))}")
    p = r.random()
    if p < 0.5:
        lines.append(f"price: {r.randint(3, 60) * 5}")
    elif p < 0.65:
        lines.append(f"price: {r.randint(20, 300)}.{r.choice(['50', '95', '25'])}")
    elif p < 0.75:
        lines.append("price: 0")
    s = r.random()
    if s < 0.4:
        a = r.randint(1, 4)
        lines.append(f"sessions: {q(f'{a}-{a + r.randint(1, 4)}')}")
    elif s < 0.7:
        lines.append(f"sessions: {r.randint(1, 6)}")
    lines.append(f"{'weight' if hugo else 'order'}: {order}")
    lines.append("faqs:")
    for question, answer in faqs:
        lines.append(f"  - question: {q(question)}")
        lines.append(f"    answer: {folded(answer, 6)}")
    lines.append("---")
    return "\n".join(lines) + "\n"


def page_front(title, summary, order=None, form=None, hugo=False):
    lines = ["---", f"title: {q(title)}", f"summary: {folded(summary, 2)}"]
    if order is not None:
        lines.append(f"{'weight' if hugo else 'order'}: {order}")
    if form:
        # Hugo has no forms; its layouts show the form where the page asks for it.
        lines.append(f"form: {form}")
    lines.append("---")
    return "\n".join(lines) + "\n"


# --- the sites --------------------------------------------------------------------


def service_list(n):
    combos = [(t, a, b) for b in BRANCHES for t in TREATMENTS for a in AREAS]
    rng = random.Random(0)  # the names do not depend on the seed: same N, same URLs
    rng.shuffle(combos)
    services, seen = [], set()
    for i in range(n):
        t, a, b = combos[i % len(combos)]
        title = f"{t}, {a}, {b}"
        if i >= len(combos):
            title += f" ({i // len(combos) + 1})"
        slug = slugify(title)
        assert slug not in seen
        seen.add(slug)
        services.append((slug, title))
    return services


PLAIN_PAGES = [
    ("about.md", "About the clinic", 1, None),
    ("contact.md", "Contact us", 2, None),
    ("consultation.md", "Book a free consultation", 3, "consultation"),
    ("membership.md", "Membership and rewards", 4, None),
    ("privacy.md", "Privacy notice", 10, None),
    ("consultation/thank-you.md", "Thank you, we have your request", None, None),
]


def write_sites(n, seed, out, hugo_out, field):
    rng = random.Random(seed)
    services = service_list(n)
    w = Writer(rng, services)
    files = {}  # relative path under content/ -> (ours, hugo)

    for slug, title in services:
        kind, area, branch = title.split(", ")[:3]
        first = w.sentence(slug, links=False)
        summary = f"{kind} for the {area} at our {branch} clinic: {first[0].lower()}{first[1:]}"
        faqs = w.faqs(slug)
        body = w.body(slug, rng.randint(600, 900))
        order = rng.randint(1, 100)
        state = rng.getstate()
        ours = service_front(rng, title, summary, faqs, order, hugo=False)
        rng.setstate(state)  # the same random choices for both front matters
        theirs = service_front(rng, title, summary, faqs, order, hugo=True)
        files[f"services/{slug}.md"] = (ours + "\n" + body, theirs + "\n" + body)

    home = "\n\n".join(w.paragraph("", 4, "services/") for _ in range(3)) + "\n"
    intro = "\n\n".join(w.paragraph("", 4) for _ in range(3)) + "\n"
    home_summary = "A clinic group for skin, hair and laser treatments, with free consultations."
    files["_index.md"] = (
        page_front("Welcome to the clinic", home_summary) + "\n" + home,
        page_front("Welcome to the clinic", home_summary, hugo=True) + "\n" + home,
    )
    services_summary = "Every treatment at every branch, each starting with a free consultation."
    files["services/_index.md"] = (
        page_front("Our treatments", services_summary) + "\n" + intro,
        page_front("Our treatments", services_summary, hugo=True) + "\n" + intro,
    )
    for rel, title, order, form in PLAIN_PAGES:
        prefix = "../" * rel.count("/") + "services/"
        body = "\n\n".join(
            [w.paragraph("", 3, prefix), "## More", w.paragraph("", 3, prefix)]
        ) + "\n"
        first = w.sentence("", links=False)
        summary = f"{title} at the clinic: {first[0].lower()}{first[1:]}"
        files[rel] = (
            page_front(title, summary, order, form) + "\n" + body,
            page_front(title, summary, order, form, hugo=True) + "\n" + body,
        )

    write_ours(out, files, field)
    if hugo_out:
        write_hugo(hugo_out, files, field)


def service_field(indent, kind):
    """The form's service field as written in site.yaml / hugo.yaml, and its
    replacement for `kind` (`service`: unchanged; `category`: a select of treatments)."""
    pad = " " * indent
    field = (
        f"{pad}- name: service\n"
        f"{pad}  label: Which treatment are you interested in?\n"
        f"{pad}  type: service\n"
        f"{pad}  required: true\n"
    )
    if kind == "service":
        return field, field
    choices = "".join(
        f"{pad}    - value: {slugify(t)}\n{pad}      label: {t}\n" for t in TREATMENTS
    )
    return field, field.replace("type: service", "type: select") + f"{pad}  choices:\n" + choices


def copy_config(src, dst, indent, kind):
    text = src.read_text(encoding="utf-8")
    old, new = service_field(indent, kind)
    if old not in text:
        sys.exit(f"gen_site: {src} no longer has the consultation form's service field as expected")
    dst.write_text(text.replace(old, new), encoding="utf-8")


def fresh(path):
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)


def write_content(root, files, which):
    for rel, texts in files.items():
        p = root / "content" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(texts[which], encoding="utf-8")


def write_ours(out, files, field):
    fresh(out)
    # site.yaml as in the repository (business, menu, the consultation form), with the
    # example clinic's name and address kept: only the content is synthetic.
    copy_config(REPO / "site.yaml", out / "site.yaml", 6, field)
    shutil.copytree(REPO / "themes" / "default", out / "themes" / "default")
    write_content(out, files, 0)


def write_hugo(out, files, field):
    fresh(out)
    copy_config(BENCH / "hugo" / "hugo.yaml", out / "hugo.yaml", 8, field)
    shutil.copytree(BENCH / "hugo" / "layouts", out / "layouts")
    (out / "assets" / "assets").mkdir(parents=True)
    shutil.copy(
        REPO / "themes" / "default" / "static" / "assets" / "style.css",
        out / "assets" / "assets" / "style.css",
    )
    (out / "static").mkdir()
    shutil.copy(REPO / "themes" / "default" / "static" / "favicon.svg", out / "static")
    # Hugo cannot have both consultation.md and a consultation/ folder (its thank-you
    # page): the folder becomes a section at the same address. A section page with the
    # same text and front matter is Hugo's way to write it.
    files = {("consultation/_index.md" if k == "consultation.md" else k): v for k, v in files.items()}
    write_content(out, files, 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, required=True, help="number of service pages")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--out", type=Path, required=True, help="site root for `generator build`")
    ap.add_argument("--hugo-out", type=Path, help="the same content as a Hugo site")
    ap.add_argument(
        "--service-field", choices=["category", "service"], default="category",
        help="the consultation form's treatment field: a select of treatment kinds "
        "(default), or site.yaml's `type: service` listing every service",
    )
    a = ap.parse_args()
    if a.pages < 2:
        sys.exit("--pages must be at least 2")
    write_sites(a.pages, a.seed, a.out, a.hugo_out, a.service_field)


if __name__ == "__main__":
    main()
