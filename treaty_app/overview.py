"""The treaty page's two heat maps: provisions × sources and provisions × tags.

`heatmaps(treaty)` is the one entry point. It costs three queries whatever the size of the corpus:
the provisions, the approved excerpt links counted per provision and source, and the published
annotations counted per provision and tag.

Dependency rule: treaty_app never imports from annotations (annotations imports treaty_app, not the
reverse), not even lazily through apps.get_model("annotations", ...). The tag counts therefore reach
the annotation model through Provision's reverse relation `annotations`, and ask it the one read
rule (`published()`, i.e. `readable_by` a visitor); the tags' name, slug and colour come out of that
same values() query.
"""

import re
from dataclasses import dataclass

from django.db.models import Count
from django.urls import reverse
from django.utils.dateformat import format as format_date

from .models import ExcerptLink, Provision, Source

SHADES = 5  # heat-1 … heat-5; heat-0 is an empty cell.

@dataclass(frozen=True)
class RowHeader:
    """A provision, in reading order."""

    pk: int
    slug: str
    label: str
    heading: str
    url: str


@dataclass(frozen=True)
class Row:
    provision: RowHeader
    cells: list


@dataclass(frozen=True)
class Column:
    """A source or a tag. `label` is short; `title` is the full name (a source's title)."""

    key: object
    slug: str
    label: str
    title: str
    url: str
    colour: str = ""


@dataclass(frozen=True)
class Cell:
    count: int
    heat: int
    url: str
    title: str


@dataclass(frozen=True)
class LegendStep:
    """A shade and the counts it stands for, low to high."""

    heat: int
    low: int
    high: int

    @property
    def label(self):
        return str(self.low) if self.low == self.high else f"{self.low}–{self.high}"


@dataclass(frozen=True)
class HeatMap:
    columns: list
    rows: list
    top: int  # the largest count, which the shades are relative to
    legend: list

    @property
    def is_empty(self):
        return not self.columns


def heat(count, top):
    """The shade of a count: 0 for none, else 1…5 by ceil(5 × count / top)."""
    if count <= 0 or top <= 0:
        return 0
    return min(SHADES, -(-SHADES * count // top))


def legend(top):
    """The counts each shade stands for, given the largest count: shades no count can reach are left out."""
    steps = []
    for shade in range(1, SHADES + 1):
        low, high = top * (shade - 1) // SHADES + 1, top * shade // SHADES
        if low <= high:
            steps.append(LegendStep(shade, low, high))
    return steps


def _short_outlet(outlet):
    """'Russian International Affairs Council (RIAC)' → 'RIAC'; other outlets as they are."""
    match = re.search(r"\(([^()]+)\)\s*$", outlet)
    return match.group(1) if match else outlet


def source_label(author, outlet, published_on):
    """A column header short enough for a table: the author, then the date or else the outlet."""
    who = author or _short_outlet(outlet) or "Unknown author"
    if published_on:
        return f"{who}, {format_date(published_on, 'j M Y')}"
    if author and outlet:
        return f"{who}, {_short_outlet(outlet)}"
    return f"{who}, undated"


def _plural(count, word):
    return f"{count} {word}{'' if count == 1 else 's'}"


def _build(provisions, columns, counts, cell_url, cell_title):
    top = max(counts.values(), default=0)
    rows = [
        Row(
            provision=provision,
            cells=[
                Cell(
                    count=(count := counts.get((provision.pk, column.key), 0)),
                    heat=heat(count, top),
                    url=cell_url(provision, column) if count else "",
                    title=cell_title(count, provision, column),
                )
                for column in columns
            ],
        )
        for provision in provisions
    ]
    return HeatMap(columns=columns, rows=rows, top=top, legend=legend(top))


def provision_headers(treaty):
    """The treaty's provisions in reading order, with what a row header shows (one query)."""
    provisions = treaty.provisions.in_order().only("pk", "slug", "kind", "number", "heading", "position")
    return [
        RowHeader(
            pk=p.pk, slug=p.slug, label=p.label, heading=p.heading,
            url=reverse("reader:provision", args=[treaty.slug, p.slug]),
        )
        for p in provisions
    ]


def source_heatmap(treaty, provisions):
    """Approved excerpt links per provision and source; columns are the sources with at least one."""
    links = (
        ExcerptLink.objects.approved()
        .filter(provision__treaty=treaty)
        .values(
            "provision_id", "excerpt__source_id", "excerpt__source__slug", "excerpt__source__title",
            "excerpt__source__author", "excerpt__source__outlet", "excerpt__source__published_on",
            "excerpt__source__capture_name",
        )
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts, sources = {}, {}
    for link in links:
        counts[link["provision_id"], link["excerpt__source_id"]] = link["n"]
        sources[link["excerpt__source_id"]] = link
    columns = []
    for pk, source in sources.items():
        full_title = Source(
            title=source["excerpt__source__title"], outlet=source["excerpt__source__outlet"],
            capture_name=source["excerpt__source__capture_name"],
        ).display_title
        columns.append(
            Column(
                key=pk, slug=source["excerpt__source__slug"],
                label=source_label(
                    source["excerpt__source__author"], source["excerpt__source__outlet"],
                    source["excerpt__source__published_on"],
                ),
                title=full_title,
                url=reverse("reader:source", args=[source["excerpt__source__slug"]]),
            )
        )
    # Dated sources by date, then the undated ones: the same order on every database.
    dates = {pk: source["excerpt__source__published_on"] for pk, source in sources.items()}
    columns.sort(key=lambda c: (dates[c.key] is None, dates[c.key] or 0, c.title.casefold(), c.key))
    return _build(
        provisions, columns, counts,
        cell_url=lambda row, column: f"{row.url}#source-{column.slug}",
        cell_title=lambda n, row, column: f"{_plural(n, 'excerpt')} from {column.label} on {row.label}",
    )


def tag_heatmap(treaty, provisions):
    """Published root annotations on each provision per tag; columns are the tags with at least one."""
    annotation_model = Provision.annotations.field.model
    tagged = (
        annotation_model.objects.published().filter(parent__isnull=True, provision__treaty=treaty)
        .values("provision_id", "tags__pk", "tags__slug", "tags__name", "tags__colour")
        .annotate(n=Count("pk", distinct=True))
        .order_by()
    )
    counts, tags = {}, {}
    for entry in tagged:
        tag_pk = entry["tags__pk"]
        if tag_pk is None:  # published annotations without a tag
            continue
        counts[entry["provision_id"], tag_pk] = entry["n"]
        tags[tag_pk] = entry
    columns = sorted(
        (
            Column(
                key=pk, slug=tag["tags__slug"], label=tag["tags__name"],
                title=tag["tags__name"], colour=tag["tags__colour"],
                url=reverse("reader:tag", args=[tag["tags__slug"]]),
            )
            for pk, tag in tags.items()
        ),
        key=lambda c: (c.label.casefold(), c.key),
    )
    return _build(
        provisions, columns, counts,
        cell_url=lambda row, column: f"{column.url}?treaty={treaty.slug}&provision={row.slug}",
        cell_title=lambda n, row, column: f"{_plural(n, 'annotation')} tagged {column.label} on {row.label}",
    )


def heatmaps(treaty):
    """Both heat maps for the treaty page, in three queries: {"sources": HeatMap, "tags": HeatMap}."""
    provisions = provision_headers(treaty)
    return {"sources": source_heatmap(treaty, provisions), "tags": tag_heatmap(treaty, provisions)}
