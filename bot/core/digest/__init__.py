"""The weekly digest (product.md 5.4): figures, chart and the message."""

from bot.core.digest.chart import chart, figure
from bot.core.digest.figures import Figures
from bot.core.digest.weekly import (
    compute,
    iso_week,
    on_demand,
    render,
    send_weekly,
)

__all__ = [
    "Figures",
    "chart",
    "compute",
    "figure",
    "iso_week",
    "on_demand",
    "render",
    "send_weekly",
]
