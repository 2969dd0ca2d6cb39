"""A multiprocess folder written straight to the text format, each series' name and labels formatted once.

prometheus-client's MultiProcessCollector re-reads, re-sorts and re-escapes every series on every
scrape; with a hundred routes' series that alone took most of the 20 ms a scrape may take
(bench/metrics.py). This reads the same files with the library's own reader and adds them up
the same way (counters summed across processes, histogram buckets summed, then cumulated),
but keeps the formatted text of each series between scrapes. Live-summed gauges (open streams)
are summed over the processes still running; other gauges kept in files are left to the library.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.utils import floatToGoString

from engagement.metrics import process_alive

KINDS = ("counter", "histogram", "gauge_livesum")


@dataclass(frozen=True)
class _Series:
    family: str  # the metric's name: a family's samples are written together
    kind: str
    help_text: str
    name: str  # the sample's name (..._total, ..._sum, ..._bucket)
    labels: str  # formatted, without ``le``
    le: float | None = None
    le_text: str = ""


@dataclass
class _Histogram:
    buckets: dict[float, tuple[str, float]]
    total: float = 0.0


class FolderText:
    """The text of every counter and histogram series in ``folder``, summed over its processes."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._series: dict[str, _Series] = {}

    def handles_everything(self) -> bool:
        """Whether every file holds a kind read here (others are the library's to read)."""
        return all(_file_kind(path)[0] in KINDS for path in self.folder.glob("*.db"))

    def render(self) -> str:
        totals: dict[str, float] = {}
        for path in sorted(self.folder.glob("*.db")):
            file_kind, pid = _file_kind(path)
            if file_kind == "gauge_livesum" and not process_alive(pid):
                continue  # a process that died (or was replaced) holds no stream any more
            kind = file_kind.split("_", 1)[0]
            try:
                values = MmapedDict.read_all_values_from_file(str(path))  # type: ignore[no-untyped-call]
            except FileNotFoundError:  # a live gauge's file removed since the glob
                continue
            for key, value, _timestamp, _position in values:
                totals[key] = totals.get(key, 0.0) + value
                if key not in self._series:
                    self._series[key] = _parse(key, kind)
        families: dict[str, list[str]] = {}
        histograms: dict[tuple[str, str], _Histogram] = {}
        heads: dict[str, tuple[str, str]] = {}
        for key, value in totals.items():
            series = self._series[key]
            heads.setdefault(series.family, (series.kind, series.help_text))
            lines = families.setdefault(series.family, [])
            if series.le is not None:
                histogram = histograms.setdefault((series.family, series.labels), _Histogram({}))
                seen = histogram.buckets.get(series.le, (series.le_text, 0.0))[1]
                histogram.buckets[series.le] = (series.le_text, seen + value)
            else:
                lines.append(f"{series.name}{_braces(series.labels)} {_number(value)}\n")
        for (family, labels), histogram in histograms.items():
            cumulated = 0.0
            lines = families[family]
            for le in sorted(histogram.buckets):
                le_text, count = histogram.buckets[le]
                cumulated += count
                le_label = f'{labels},le="{le_text}"' if labels else f'le="{le_text}"'
                lines.append(f"{family}_bucket{{{le_label}}} {_number(cumulated)}\n")
            lines.append(f"{family}_count{_braces(labels)} {_number(cumulated)}\n")
        out: list[str] = []
        for family, lines in families.items():
            kind, help_text = heads[family]
            name = family + "_total" if kind == "counter" else family
            out.append(f"# HELP {name} {_escape_help(help_text)}\n# TYPE {name} {kind}\n")
            out.extend(lines)
        return "".join(out)


def _file_kind(path: Path) -> tuple[str, int]:
    """``counter_12.db`` → ("counter", 12); ``gauge_livesum_12.db`` → ("gauge_livesum", 12)."""
    kind, _, pid = path.stem.rpartition("_")
    return kind, int(pid) if pid.isdigit() else 0


def _parse(key: str, kind: str) -> _Series:
    family, name, labels, help_text = json.loads(key)
    le = labels.pop("le", None) if kind == "histogram" else None
    text = ",".join(f'{k}="{_escape_value(str(v))}"' for k, v in sorted(labels.items()))
    if le is not None:
        return _Series(family, kind, help_text, name, text, float(le), _number(float(le)))
    return _Series(family, kind, help_text, name, text)


def _number(value: float) -> str:
    return str(floatToGoString(value))  # type: ignore[no-untyped-call]


def _braces(labels: str) -> str:
    return f"{{{labels}}}" if labels else ""


def _escape_value(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _escape_help(text: str) -> str:
    return text.replace("\\", r"\\").replace("\n", r"\n")
