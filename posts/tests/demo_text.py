"""Word material for factories and seed_demo, so demo pages read like a tech blog."""

TOPICS = [
    "Django", "PostgreSQL", "Redis", "caching", "full-text search", "query planning",
    "CSS grid", "accessibility", "feature flags", "background jobs", "type hints",
    "connection pooling", "observability", "rate limiting", "database migrations",
    "static files", "Markdown rendering", "load testing", "code review", "on-call",
]  # fmt: skip
TITLE_PATTERNS = [
    "A practical guide to {t}",
    "What I learned running {t} in production",
    "{T} without the pain",
    "Five mistakes we made with {t}",
    "How we cut page time in half with {t}",
    "The quiet power of {t}",
    "{T}: a field guide for small teams",
    "Debugging {t} at 3 a.m.",
    "Notes on {t}, one year later",
    "When not to reach for {t}",
    "{T} from first principles",
    "Making {t} boring again",
]
SUMMARY_PATTERNS = [
    "Everything we wish we had known about {t} before the first outage.",
    "A short, opinionated tour of {t}, with code you can paste.",
    "Numbers, trade-offs and the one setting that mattered for {t}.",
    "How a small team made {t} reliable without adding headcount.",
    "A walk through {t}, from the naive version to the one we ship.",
]
SENTENCES = [
    "The first version worked, which is exactly when the trouble started.",
    "We measured before changing anything, and the profile surprised us.",
    "Most of the time went into a query nobody had looked at in two years.",
    "An index on the right two columns turned a scan into a lookup.",
    "Caching the page was easy; knowing when to drop it was the real work.",
    "The fix was four lines, but finding them took a week of reading logs.",
    "Tests that talk to a real database caught what mocks had hidden.",
    "We kept the old URL answering with a redirect, so no link broke.",
    "Latency at the 99th percentile tells you what your users actually feel.",
    "A feature flag let us ship the change dark and compare both paths.",
    "Every dependency is a promise someone else has to keep for you.",
    "Readers never notice a fast page; they always notice a slow one.",
    "The migration ran in batches so the table stayed writable throughout.",
    "Good defaults beat documentation that nobody reads.",
    "We wrote the runbook during the incident and cleaned it up afterwards.",
    "Small pull requests got reviewed in hours instead of days.",
    "The dashboard showed the symptom; the trace showed the cause.",
    "Nothing about this is novel, which is the point.",
    "Once the numbers were on a graph, the argument ended by itself.",
    "Accessibility fixes made the page better for everyone, not only screen readers.",
]


def title(rng) -> str:
    topic = rng.choice(TOPICS)
    pattern = rng.choice(TITLE_PATTERNS)
    return pattern.format(t=topic, T=topic[0].upper() + topic[1:])


def summary(rng) -> str:
    return rng.choice(SUMMARY_PATTERNS).format(t=rng.choice(TOPICS))


def paragraph(rng, sentences: int = 4) -> str:
    return " ".join(rng.sample(SENTENCES, k=sentences))
