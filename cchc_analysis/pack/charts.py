"""Charts for the evaluation pack: DejaVu Sans (all 92 Vietnamese letters), deterministic PNG bytes.

``use_pack_style()`` sets the fonts; chart helpers return PNG bytes written without the "Software" metadata and
with a fixed dpi, so the same data gives the same bytes on every build. ``show_png`` displays them in a notebook.
"""

from __future__ import annotations

import io
import textwrap

import matplotlib
import matplotlib.ticker
import pandas as pd
from matplotlib.figure import Figure  # not pyplot: no GUI backend, no global figure registry, half the import

from cchc_analysis.measures.definitions import measures_for_area
from cchc_analysis.pack import views as P

FONT = "DejaVu Sans"
DPI = 100
COLORS = ["#1f5f8b", "#c0392b", "#2e8b57", "#8e44ad", "#d68910", "#566573"]


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
        "path.simplify": True,
        "text.parse_math": False,  # data text is text: a '$' in a label or district name is not mathtext
    })


def png_bytes(fig) -> bytes:
    """The figure as PNG with no metadata that could change between builds."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def wrap(text: str, width: int = 42) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def _panel_grid(n: int, ncols: int, row_h: float, bottom_in: float, bottom_pad: float, hspace: float):
    """A figure of ``n`` panels in ``ncols`` columns with fixed margins in inches instead of tight_layout: one draw
    per chart instead of three (charts dominate a notebook's run time). Returns (fig, axes, figure height)."""
    use_pack_style()
    ncols = min(ncols, n)
    nrows = (n + ncols - 1) // ncols
    top_in = 0.45
    fig_h = row_h * nrows + top_in + bottom_in
    fig = Figure(figsize=(4.1 * ncols, fig_h))
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


def series_chart(series: list[tuple[str, pd.DataFrame, str]], title: str, lang: str = "vi",
                 ncols: int = 2) -> bytes | None:
    """Small multiples, one panel per (label, frame with year/period/as_of/value, unit); each panel its own scale.

    Partial years (2020 as of 31/3) are drawn hollow and their tick says so.
    """
    series = [s for s in series if not s[1].empty]
    if not series:
        return None
    n = len(series)
    fig, axes, fig_h = _panel_grid(n, ncols, row_h=2.55, bottom_in=0.1, bottom_pad=0.55, hspace=1.25)
    for ax, (label, df, unit), color in zip(axes.flat, series, COLORS * 10):
        df = df.sort_values("year", kind="stable")
        x = list(range(len(df)))
        y = df["value"].astype(float).tolist()
        partial = [P.is_partial(yr, a) for yr, a in zip(df["year"], df["as_of"])]
        ax.plot(x, y, color=color, linewidth=1.6)
        for xi, yi, part in zip(x, y, partial):
            ax.plot([xi], [yi], marker="o", markersize=5, color=color,
                    markerfacecolor="white" if part else color)
        ticks = []
        for (_, r), part in zip(df.iterrows(), partial):
            lab = str(r["period"])
            if part:
                lab += f"\n({P.fmt_date(r['as_of'], lang)})"
            ticks.append(lab)
        ax.set_xticks(x, ticks)
        ax.set_title(wrap(label), loc="left")
        if unit == "percent":
            ax.set_ylabel("%")
        lo, hi = min(y), max(y)
        if lo >= 0:  # counts and shares: the axis starts at zero, so small changes are not magnified
            ax.set_ylim(0, (100 if unit == "percent" and hi <= 100 else hi) * 1.12 or 1)
        else:
            pad = (hi - lo) * 0.15 or 1
            ax.set_ylim(lo - pad, hi + pad)
    return _finish(fig, axes, n, fig_h, title, lang)


def area_charts(ds, area: str, lang: str = "vi", max_panels: int = 6) -> list[bytes]:
    """Two charts for an area page: its derived measures, and its main indicators (numeric, at least 2 values)."""
    charts = []
    values = P.area_measure_values(ds, area)
    measures = [(m.label[lang], values[values["measure"] == m.key], m.unit)
                for m in measures_for_area(area) if m.unit in ("percent", "count")]
    measures = [s for s in measures if len(s[1]) >= 2][:max_panels]
    title_m = P.t("derived", lang)
    png = series_chart(measures, title_m, lang)
    if png:
        charts.append(png)
    df = P.area_indicators(ds, area)
    used = set()
    panels = []
    for iid in P.indicator_order(df):
        s = P.annual_series(ds, iid)
        if len(s) < 2 or s["unit"].iloc[0] not in ("count", "percent") or iid in used:
            continue
        used.add(iid)
        row = df[df["indicator_id"] == iid].iloc[0]
        label = P.label_of(row, lang)
        if row.get("parent") and lang == "vi":
            label = f"{row['parent']}: {label}" if len(label) < 25 else label
        panels.append((label, s, s["unit"].iloc[0]))
    png = series_chart(panels[:max_panels], P.t("indicators_by_year", lang), lang)
    if png:
        charts.append(png)
    return charts


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
