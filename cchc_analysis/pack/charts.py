"""Charts for the evaluation pack: DejaVu Sans (all 92 Vietnamese letters), deterministic bytes.

An area page gets one figure of a few small multiples (``area_chart``): the most informative series of the area,
never a constant or all-zero one, never the same series twice. Part-year points (2020 as of 31/3) stand alone,
unjoined, hollow, named by a legend entry: a flow counted over three months is not a fall. Counts get whole-number
axes. The figure is SVG with its text kept as text (``svg.fonttype: none``), a fixed hash salt and no date, so the
same data gives the same bytes on every build; its alt text says what each panel shows, in the page's language.

``compare_chart`` (the comparison page) still returns PNG bytes shown by ``show_png``.
"""

from __future__ import annotations

import base64
import io
import math
import textwrap
from dataclasses import dataclass

import matplotlib
import matplotlib.ticker
import pandas as pd
from matplotlib.figure import Figure  # not pyplot: no GUI backend, no global figure registry, half the import
from matplotlib.lines import Line2D

from cchc_analysis.measures.definitions import measures_for_area
from cchc_analysis.pack import views as P
from cchc_analysis.pack.catalog import catalog

FONT = "DejaVu Sans"
DPI = 100
COLORS = ["#1f5f8b", "#c0392b", "#2e8b57", "#8e44ad", "#d68910", "#566573"]
MAX_PANELS = 4


def use_pack_style() -> None:
    """Fonts with full Vietnamese coverage (never DejaVu Sans Mono) and a plain, print-friendly look."""
    matplotlib.rcParams.update({
        "font.family": "sans-serif",
        "font.sans-serif": [FONT],
        "font.monospace": [FONT],
        "axes.unicode_minus": False,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 9.5,
        "axes.labelsize": 9,
        "xtick.labelsize": 8,
        "ytick.labelsize": 8,
        "legend.fontsize": 8,
        "figure.dpi": DPI,
        "savefig.dpi": DPI,
        "svg.hashsalt": "cchc",
        "svg.fonttype": "none",  # text stays text: searchable, selectable, read aloud, drawn in the page's font
        "svg.id": None,
        "path.simplify": True,
        "text.parse_math": False,  # data text is text: a '$' in a label or district name is not mathtext
    })


def png_bytes(fig) -> bytes:
    """The figure as PNG with no metadata that could change between builds."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def svg_bytes(fig) -> bytes:
    """The figure as SVG: text as text, no date, no tool version, ids from the fixed hash salt."""
    use_pack_style()
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    return buf.getvalue()


def data_uri(svg: bytes) -> str:
    """The SVG as a ``data:`` URI for an ``img`` element (the page stays one self-contained file)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def wrap(text: str, width: int = 42) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


# --- which series are worth a panel -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Series:
    """One panel's data: label in the page's language, frame (year, period, as_of, value), unit (count | percent),
    kind (flow | stock | rate: a flow is what happened in the period) and where it comes from (measure or
    indicator id)."""
    label: str
    frame: pd.DataFrame
    unit: str
    kind: str
    key: str


def _full(df: pd.DataFrame) -> pd.DataFrame:
    return df[[not P.is_partial(y, a) for y, a in zip(df["year"], df["as_of"])]]


MIN_POINTS = 3  # two points make a line that says no more than the table
FLAT = 0.05  # a series whose full years stay within 5% of its largest value is flat (as views.trend says)


def informative(s: Series) -> bool:
    """At least ``MIN_POINTS`` full-year points whose values change: not constant, not all zero, not flat within
    ``FLAT``."""
    full = _full(s.frame)["value"].astype(float)
    if len(full) < MIN_POINTS or not (full != 0).any():
        return False
    return float(full.max() - full.min()) / float(full.abs().max()) >= FLAT


def signature(s: Series) -> tuple:
    """The points a series draws: two series with the same signature are the same line."""
    return tuple((str(p), str(a), round(float(v), 6))
                 for p, a, v in zip(s.frame["period"], s.frame["as_of"], s.frame["value"]))


def spread(s: Series) -> float:
    """How much the series says: its range over its largest magnitude, weighted by the number of full years."""
    values = s.frame["value"].astype(float)
    top = float(values.abs().max()) or 1.0
    return (float(values.max() - values.min()) / top) * math.sqrt(len(_full(s.frame)))


def pick_series(candidates: list[Series], max_panels: int = MAX_PANELS) -> list[Series]:
    """The ``max_panels`` most informative series, each drawn once, in the order given (measures before indicators,
    each in report order)."""
    seen: set[tuple] = set()
    kept = []
    for s in candidates:
        sig = signature(s)
        if s.unit not in ("count", "percent") or sig in seen or not informative(s):
            continue
        seen.add(sig)
        kept.append(s)
    best = sorted(range(len(kept)), key=lambda i: (-spread(kept[i]), i))[:max_panels]
    return [kept[i] for i in sorted(best)]


def _measure_kind(m, kinds: dict[str, str]) -> str:
    if m.kind == "ratio" or m.unit == "percent":
        return "rate"
    if m.kind == "cumulative":
        return "stock"
    return "flow" if any(kinds.get(i) == "flow" for i in m.numerator) else "stock"


def area_series(ds, area: str, lang: str) -> list[Series]:
    """Every candidate series of an area: its derived measures, then its indicators (report order)."""
    book = ds.codebook
    kinds = dict(zip(book["indicator_id"], book["kind"])) if {"indicator_id", "kind"} <= set(book.columns) else {}
    values = P.area_measure_values(ds, area)
    out = []
    for m in measures_for_area(area):
        df = values[values["measure"] == m.key]
        if not df.empty:
            df = df.sort_values(["year", "as_of"], kind="stable")[["year", "period", "as_of", "value"]]
            out.append(Series(m.label[lang], df.reset_index(drop=True), m.unit, _measure_kind(m, kinds), m.key))
    df = P.area_indicators(ds, area)
    for iid in P.indicator_order(df):
        s = P.annual_series(ds, iid)
        if s.empty:
            continue
        row = df[df["indicator_id"] == iid].iloc[0]
        label = P.label_of(row, lang)
        if row.get("parent") and lang == "vi" and len(label) < 25:
            label = f"{row['parent']}: {label}"
        out.append(Series(label, s, s["unit"].iloc[0], kinds.get(iid, "stock"), iid))
    return out


# --- drawing ------------------------------------------------------------------------------------------------------

def _panel_grid(n: int, ncols: int, row_h: float, bottom_in: float, bottom_pad: float, hspace: float,
                top_in: float = 0.45, width: float = 4.1):
    """A figure of ``n`` panels in ``ncols`` columns with fixed margins in inches instead of tight_layout: one draw
    per chart instead of three (charts dominate a notebook's run time). Returns (fig, axes, figure height)."""
    use_pack_style()
    ncols = min(ncols, n)
    nrows = (n + ncols - 1) // ncols
    fig_h = row_h * nrows + top_in + bottom_in
    fig = Figure(figsize=(width * ncols, fig_h))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    fig.subplots_adjust(left=0.09 if ncols > 1 else 0.12, right=0.98, top=1 - (top_in + 0.45) / fig_h,
                        bottom=(bottom_in + bottom_pad) / fig_h, wspace=0.28, hspace=1.0 / row_h * hspace)
    return fig, axes, fig_h


def _finish(fig, axes, n: int, fig_h: float, title: str, lang: str) -> bytes:
    """Shared y-axis look, unused panels hidden, the title; the PNG bytes."""
    for ax in list(axes.flat)[:n]:
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _p: P.fmt_number(v, lang, 1)))
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.suptitle(title, x=0.01, y=1 - 0.12 / fig_h, ha="left", va="top", fontsize=10.5, fontweight="bold")
    return png_bytes(fig)


def _y_axis(ax, s: Series, lang: str) -> None:
    """Counts on whole numbers from zero; shares from zero to 100 when they fit; negative values padded."""
    y = s.frame["value"].astype(float)
    lo, hi = float(y.min()), float(y.max())
    if s.unit == "count":
        ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True, nbins=5))
        decimals = 0
    else:
        ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=5))
        decimals = 1
        ax.set_ylabel("%")
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _p: P.fmt_number(v, lang, decimals)))
    if lo >= 0:  # counts and shares: the axis starts at zero, so small changes are not magnified
        top = 100 if s.unit == "percent" and hi <= 100 else hi
        ax.set_ylim(0, max(top * 1.12, 1))
    else:
        pad = (hi - lo) * 0.15 or 1
        ax.set_ylim(lo - pad, hi + pad)
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)


def draw_panel(ax, s: Series, color: str, lang: str) -> bool:
    """One series: full years joined by a line, part-year points alone and hollow; True when it has one."""
    df = s.frame
    x = list(range(len(df)))
    y = df["value"].astype(float).tolist()
    partial = [P.is_partial(yr, a) for yr, a in zip(df["year"], df["as_of"])]
    full_x = [xi for xi, part in zip(x, partial) if not part]
    full_y = [yi for yi, part in zip(y, partial) if not part]
    ax.plot(full_x, full_y, color=color, linewidth=1.6, marker="o", markersize=4.5)
    part_x = [xi for xi, part in zip(x, partial) if part]
    if part_x:
        ax.plot(part_x, [yi for yi, part in zip(y, partial) if part], linestyle="none", marker="o", markersize=6,
                markerfacecolor="white", markeredgecolor=color, markeredgewidth=1.4)
    ticks = [str(r["period"] or r["year"]) + ("*" if part else "") for (_, r), part in zip(df.iterrows(), partial)]
    ax.set_xticks(x, ticks)
    ax.set_xlim(-0.4, len(x) - 0.6)
    ax.set_title(wrap(s.label, 40), loc="left")
    _y_axis(ax, s, lang)
    return bool(part_x)


def _part_dates(series: list[Series], lang: str) -> str:
    dates = sorted({a for s in series for y, a in zip(s.frame["year"], s.frame["as_of"]) if P.is_partial(y, a)})
    return ", ".join(P.fmt_date(d, lang) for d in dates)


def series_figure(series: list[Series], lang: str = "vi", ncols: int = 2) -> bytes | None:
    """Small multiples, one panel per series, each its own scale; SVG bytes, None without a series."""
    if not series:
        return None
    n = len(series)
    legend = any(P.is_partial(y, a) for s in series for y, a in zip(s.frame["year"], s.frame["as_of"]))
    fig, axes, _h = _panel_grid(n, ncols, row_h=2.25, bottom_in=0.35 if legend else 0.05, bottom_pad=0.35,
                                hspace=1.2, top_in=0.05, width=3.6)
    for ax, s, color in zip(axes.flat, series, COLORS * 10):
        draw_panel(ax, s, color, lang)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    if legend:
        handle = Line2D([], [], linestyle="none", marker="o", markersize=6, markerfacecolor="white",
                        markeredgecolor=COLORS[-1], markeredgewidth=1.4)
        text = "* " + catalog(lang)["paper"]["part_year"].format(date=_part_dates(series, lang))
        fig.legend([handle], [text], loc="lower left", frameon=False, fontsize=8, bbox_to_anchor=(0.01, 0.0))
    return svg_bytes(fig)


def alt_text(series: list[Series], lang: str) -> str:
    """What the figure shows, panel by panel, in the page's language: first and last full year, part-year points."""
    text = catalog(lang)["paper"]
    panels = []
    for s in series:
        full = _full(s.frame)
        a, b = full.iloc[0], full.iloc[-1]
        panel = text["chart_panel"].format(
            label=s.label.rstrip(" .:"), first=P.fmt_value(a["value"], s.unit, lang),
            first_period=a["period"] or a["year"], last=P.fmt_value(b["value"], s.unit, lang),
            last_period=b["period"] or b["year"])
        for _, r in s.frame.drop(full.index).iterrows():
            panel += text["chart_part"].format(value=P.fmt_value(r["value"], s.unit, lang),
                                               date=P.fmt_date(r["as_of"], lang))
        panels.append(panel + ".")
    return text["chart_alt"].format(panels=" ".join(panels))


def area_chart(ds, area: str, lang: str = "vi", max_panels: int = MAX_PANELS) -> dict | None:
    """The area page's figure: ``{"svg": bytes, "src": data URI, "alt": text}``, None when no series says
    anything."""
    series = pick_series(area_series(ds, area, lang), max_panels)
    svg = series_figure(series, lang)
    if svg is None:
        return None
    return {"svg": svg, "src": data_uri(svg), "alt": alt_text(series, lang)}


def area_charts(ds, area: str, lang: str = "vi", max_panels: int = MAX_PANELS) -> list[dict]:
    """The area page's figures (zero or one)."""
    chart = area_chart(ds, area, lang, max_panels)
    return [chart] if chart else []


def show_png(data: bytes, alt: str = "") -> None:
    """Display PNG bytes in a notebook (alt text goes into the page's ``alt`` attribute)."""
    from IPython.display import Image, display

    display(Image(data=data, format="png", metadata={"alt": alt}))


def compare_chart(values: pd.DataFrame, measures: list, title: str, lang: str = "vi", max_lines: int = 8,
                  ncols: int = 2) -> bytes | None:
    """Small multiples for the comparison page: one panel per measure, one line per district.

    With more than ``max_lines`` districts the lines turn thin and grey and the median with its interquartile band
    is drawn over them, so the chart stays readable at hundreds of districts. Full years only (a partial year,
    2020 as of 31/3, would look like a drop).
    """
    from cchc_analysis.pack.compare import t as ct

    if values.empty:
        return None
    full = values[[not P.is_partial(y, a) for y, a in zip(values["year"], values["as_of"])]]
    panels = [(m, full[full["measure"] == m.key]) for m in measures]
    panels = [(m, df) for m, df in panels if df["year"].nunique() >= 2]
    if not panels:
        return None
    from matplotlib.collections import LineCollection

    n = len(panels)
    many = values["district"].nunique() > max_lines
    legend_cols = 2 * min(ncols, n)
    legend_rows = 1 if many else -(-values["district"].nunique() // legend_cols)
    fig, axes, fig_h = _panel_grid(n, ncols, row_h=2.7, bottom_in=0.4 + 0.22 * legend_rows, bottom_pad=0.1,
                                   hspace=1.35)
    for ax, (m, df) in zip(axes.flat, panels):
        years = sorted(df["year"].unique())
        wide = df.pivot_table(index="district", columns="year", values="value", aggfunc="last").reindex(columns=years)
        if many:
            segments = [[(x, y) for x, y in zip(years, row) if y == y] for row in wide.to_numpy()]
            ax.add_collection(LineCollection([s for s in segments if len(s) >= 2], colors="#b0b0b0",
                                             linewidths=0.5, alpha=0.6))
            q1, med, q3 = wide.quantile(0.25), wide.median(), wide.quantile(0.75)
            ax.fill_between(years, q1, q3, color=COLORS[0], alpha=0.18, label=ct("iqr", lang))
            ax.plot(years, med, color=COLORS[0], linewidth=2, label=ct("median", lang))
        else:
            for (name, row), color in zip(wide.iterrows(), COLORS * 10):
                ax.plot(years, row.to_numpy(), color=color, linewidth=1.5, marker="o", markersize=3.5, label=name)
        ax.set_xticks(years, [str(y) for y in years])
        ax.set_xlim(years[0] - 0.3, years[-1] + 0.3)
        hi = float(df["value"].max())
        ax.set_ylim(0, (100 if hi <= 100 else hi) * 1.12 or 1)
        ax.set_ylabel("%")
        ax.set_title(wrap(m.label[lang]), loc="left")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower left", ncol=min(legend_cols, len(labels)), frameon=False, fontsize=8)
    return _finish(fig, axes, n, fig_h, title, lang)
