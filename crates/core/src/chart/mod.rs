//! Charts rendered with plotters as SVG strings, so the UI only inserts them.

use chrono::{DateTime, Local, TimeZone, Utc};
use plotters::prelude::*;

use crate::money::format_amount;

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

/// The meter page's chart: remaining over time, with local-time and amount axes, the limit drawn
/// as a dashed line when there is one, and the forecast band and median path after "now".
pub fn history_svg(
    points: &[Point],
    limit: Option<f64>,
    unit: &str,
    tone: Tone,
    outlook: &Outlook,
) -> String {
    const W: u32 = 960;
    const H: u32 = 360;
    if points.len() < 2 {
        return empty_svg(W, H, "The chart appears after the second reading");
    }
    let mut svg = String::new();
    let (x_range, y_range) = ranges(points, limit);
    let now = x_range.end;
    let band_end = outlook.band.last().map(|b| seconds(b.0)).unwrap_or(now);
    let reset = outlook.next_reset.map(seconds).filter(|r| *r > now);
    let x_end = band_end.max(reset.map(|r| r + (r - x_range.start) * 0.02).unwrap_or(now));
    let x_range = x_range.start..x_end.max(now);
    let (x0, x1) = (x_range.start, x_range.end);
    let span_days = (x1 - x0) / 86_400.0;
    let drawn = (|| -> Result<(), Box<dyn std::error::Error + '_>> {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(72)
            .build_cartesian_2d(x_range, y_range.clone())?;
        chart
            .configure_mesh()
            .light_line_style(RGBColor(241, 245, 249))
            .bold_line_style(RGBColor(226, 232, 240))
            .axis_style(RGBColor(203, 213, 225))
            .label_style(("sans-serif", 13).into_font().color(&RGBColor(71, 85, 105)))
            .x_labels(7)
            .y_labels(6)
            .x_label_formatter(&|x| local_label(*x, span_days))
            .y_label_formatter(&|y| amount_label(*y, unit))
            .draw()?;
        let colour = tone.colour();
        let series = points.iter().map(|(t, v)| (seconds(*t), *v));
        chart.draw_series(AreaSeries::new(
            series.clone(),
            y_range.start,
            colour.mix(0.10),
        ))?;
        chart.draw_series(LineSeries::new(series, colour.stroke_width(2)))?;
        if outlook.band.len() >= 2 {
            let upper = outlook.band.iter().map(|b| (seconds(b.0), b.3));
            let lower = outlook.band.iter().rev().map(|b| (seconds(b.0), b.1));
            chart.draw_series(std::iter::once(Polygon::new(
                upper.chain(lower).collect::<Vec<_>>(),
                colour.mix(0.16),
            )))?;
            chart.draw_series(DashedLineSeries::new(
                outlook.band.iter().map(|b| (seconds(b.0), b.2)),
                8,
                5,
                colour.stroke_width(2),
            ))?;
        }
        if now < x1 {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(now, y_range.start), (now, y_range.end)],
                RGBColor(148, 163, 184).stroke_width(1),
            )))?;
        }
        if let Some(reset) = reset {
            chart.draw_series(DashedLineSeries::new(
                [(reset, y_range.start), (reset, y_range.end)],
                4,
                4,
                RGBColor(22, 163, 74).stroke_width(2),
            ))?;
            chart.draw_series(std::iter::once(Text::new(
                "reset",
                (reset, y_range.end),
                ("sans-serif", 12).into_font().color(&RGBColor(22, 163, 74)),
            )))?;
        }
        if let Some(limit) = limit {
            chart.draw_series(DashedLineSeries::new(
                [(x0, limit), (x1, limit)],
                6,
                4,
                RGBColor(100, 116, 139).stroke_width(1),
            ))?;
        }
        root.present()?;
        Ok(())
    })();
    if drawn.is_err() {
        return empty_svg(W, H, "The chart could not be drawn");
    }
    scalable(svg, W, H)
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

    #[test]
    fn the_forecast_band_and_the_reset_extend_the_chart_past_now() {
        let history = falling(40);
        let now = history.last().unwrap().0;
        let band: Vec<_> = (1..=10)
            .map(|h| {
                let t = now + Duration::hours(h * 12);
                let left = 60.0 - h as f64 * 5.0;
                (t, left - 10.0, left, left + 10.0)
            })
            .collect();
        let outlook = Outlook {
            band,
            next_reset: Some(now + Duration::days(3)),
        };
        let plain = history_svg(&history, Some(120.0), "USD", Tone::Ok, &Outlook::default());
        let ahead = history_svg(&history, Some(120.0), "USD", Tone::Ok, &outlook);
        let labels: Vec<&str> = ahead.split("<text").skip(1).collect();
        assert!(
            labels.iter().any(|t| t.contains("reset")),
            "the next reset is labelled"
        );
        assert!(
            ahead.matches("<polygon").count() > plain.matches("<polygon").count(),
            "a band is drawn"
        );
    }

    #[test]
    fn history_chart_has_amount_labels_and_says_when_there_is_too_little_data() {
        let svg = history_svg(
            &falling(40),
            Some(120.0),
            "USD",
            Tone::Ok,
            &Outlook::default(),
        );
        assert!(svg.contains('$'), "y axis should show dollars");
        let empty = history_svg(&falling(1), None, "USD", Tone::Ok, &Outlook::default());
        assert!(empty.contains("after the second reading"));
    }
}
