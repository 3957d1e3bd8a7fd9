//! Charts rendered with plotters as SVG strings, so the UI only inserts them.

use chrono::{DateTime, Local, TimeZone, Utc};
use plotters::prelude::*;

use crate::money::format_amount;

pub mod decimate;
mod history;

pub use history::{
    history_chart, ChartCoords, ChartEvent, ChartThreshold, EventMarker, HistoryChart,
    HistoryInput, HoverPoint, PlotArea, ResetMark, ThresholdMark, HEIGHT, WIDTH,
};

/// One point of a meter's history: when, and how much was left.
pub type Point = (DateTime<Utc>, f64);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Ok,
    Low,
    Exhausted,
    Muted,
}

impl Tone {
    fn colour(self) -> RGBColor {
        match self {
            Tone::Ok => RGBColor(37, 99, 235),
            Tone::Low => RGBColor(217, 119, 6),
            Tone::Exhausted => RGBColor(220, 38, 38),
            Tone::Muted => RGBColor(148, 163, 184),
        }
    }
}

const SPARK_W: u32 = 240;
const SPARK_H: u32 = 56;

/// A small axis-less chart of the history, for a card.
pub fn sparkline_svg(points: &[Point], limit: Option<f64>, tone: Tone) -> String {
    let mut svg = String::new();
    if points.len() >= 2 {
        let (x_range, y_range) = ranges(points, limit);
        let drawn = (|| -> Result<(), Box<dyn std::error::Error + '_>> {
            let root = SVGBackend::with_string(&mut svg, (SPARK_W, SPARK_H)).into_drawing_area();
            let mut chart = ChartBuilder::on(&root)
                .margin(3)
                .build_cartesian_2d(x_range, y_range.clone())?;
            let colour = tone.colour();
            let series = points.iter().map(|(t, v)| (seconds(*t), *v));
            chart.draw_series(AreaSeries::new(
                series.clone(),
                y_range.start,
                colour.mix(0.12),
            ))?;
            chart.draw_series(LineSeries::new(series, colour.stroke_width(2)))?;
            root.present()?;
            Ok(())
        })();
        if drawn.is_err() {
            svg.clear();
        }
    }
    if svg.is_empty() {
        return empty_svg(SPARK_W, SPARK_H, "Not enough history yet");
    }
    scalable(svg, SPARK_W, SPARK_H)
}

/// What lies ahead of the history on the meter page: the forecast band and the next reset.
#[derive(Clone, Debug, Default)]
pub struct Outlook {
    /// (time, P10, P50, P90) of remaining, from now forward.
    pub band: Vec<(DateTime<Utc>, f64, f64, f64)>,
    pub next_reset: Option<DateTime<Utc>>,
}

fn seconds(t: DateTime<Utc>) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}

fn ranges(points: &[Point], limit: Option<f64>) -> (std::ops::Range<f64>, std::ops::Range<f64>) {
    let x0 = points.first().map(|p| seconds(p.0)).unwrap_or_default();
    let x1 = points
        .last()
        .map(|p| seconds(p.0))
        .unwrap_or_default()
        .max(x0 + 1.0);
    let mut y_max = points
        .iter()
        .map(|p| p.1)
        .fold(limit.unwrap_or(f64::MIN), f64::max);
    let y_min = points.iter().map(|p| p.1).fold(0.0, f64::min);
    if y_max <= y_min {
        y_max = y_min + 1.0;
    }
    (x0..x1, y_min..y_max * 1.05)
}

fn local_label(x: f64, span_days: f64) -> String {
    let Some(t) = Local.timestamp_millis_opt((x * 1000.0) as i64).single() else {
        return String::new();
    };
    if span_days > 2.0 {
        t.format("%b %-d").to_string()
    } else {
        t.format("%H:%M").to_string()
    }
}

fn amount_label(y: f64, unit: &str) -> String {
    rust_decimal::Decimal::from_f64_retain(y)
        .map(|d| format_amount(d, unit))
        .unwrap_or_default()
}

/// plotters writes fixed pixel sizes; with its viewBox, a relative width lets the UI scale the
/// chart to its container.
fn scalable(svg: String, w: u32, h: u32) -> String {
    let fixed = format!("<svg width=\"{w}\" height=\"{h}\"");
    let relative = "<svg width=\"100%\" preserveAspectRatio=\"none\" role=\"img\"";
    let svg = svg.replacen(&fixed, relative, 1);
    if svg.contains("viewBox=") {
        svg
    } else {
        svg.replacen("<svg ", &format!("<svg viewBox=\"0 0 {w} {h}\" "), 1)
    }
}

fn empty_svg(w: u32, h: u32, message: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100%\" viewBox=\"0 0 {w} {h}\" role=\"img\"><text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-family=\"sans-serif\" font-size=\"13\" fill=\"#94a3b8\">{message}</text></svg>",
        w / 2,
        h / 2
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn falling(n: i64) -> Vec<Point> {
        let start = Utc::now() - Duration::days(30);
        (0..n)
            .map(|i| (start + Duration::hours(i * 6), 100.0 - i as f64))
            .collect()
    }

    #[test]
    fn sparkline_draws_a_line_that_scales() {
        let svg = sparkline_svg(&falling(40), Some(120.0), Tone::Low);
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(
            svg.contains("viewBox=\"0 0 240 56\""),
            "{}",
            &svg[..200.min(svg.len())]
        );
        assert!(
            svg.contains("<polyline") || svg.contains("<path"),
            "no line drawn"
        );
    }
}
