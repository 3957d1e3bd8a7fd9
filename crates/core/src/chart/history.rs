//! The meter page's chart: remaining over time with the forecast ahead, the alert thresholds,
//! the resets and the failed requests; and, for the UI's hover dots and clickable markers drawn
//! over it, where each of those landed in the SVG's own units.

use chrono::{DateTime, Utc};
use plotters::prelude::*;
use serde::Serialize;
use ts_rs::TS;

use super::decimate::decimate;
use super::{amount_label, empty_svg, local_label, scalable, seconds, Outlook, Point, Tone};

/// The chart's viewBox.
pub const WIDTH: u32 = 960;
pub const HEIGHT: u32 = 360;

/// The line is decimated to columns this many pixels wide, each keeping its lowest and highest
/// reading: at most one point per horizontal pixel.
const COLUMN_PX: i32 = 2;
/// At most one event marker in this many pixels; it stands for the events it hides.
const MARKER_PX: i32 = 3;

const THRESHOLD_COLOUR: RGBColor = RGBColor(217, 119, 6);
const RESET_COLOUR: RGBColor = RGBColor(22, 163, 74);
const EVENT_COLOUR: RGBColor = RGBColor(220, 38, 38);
const MUTED: RGBColor = RGBColor(148, 163, 184);

/// An alert threshold drawn as a horizontal line, in the meter's unit.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartThreshold {
    pub label: String,
    pub value: f64,
}

/// A failed request of the meter's source, drawn as a marker on the line at its time.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartEvent {
    pub id: i64,
    pub t: DateTime<Utc>,
    pub status: Option<u16>,
    pub class: Option<String>,
}

/// Everything the meter page's chart shows.
#[derive(Clone, Copy, Debug)]
pub struct HistoryInput<'a> {
    /// The history, oldest first.
    pub points: &'a [Point],
    /// Drawn as a dashed grey line.
    pub limit: Option<f64>,
    pub unit: &'a str,
    pub tone: Tone,
    pub outlook: &'a Outlook,
    pub thresholds: &'a [ChartThreshold],
    /// Past resets, drawn as vertical lines where they fall within the history.
    pub resets: &'a [DateTime<Utc>],
    /// In any order; those outside the history's time span are left out.
    pub events: &'a [ChartEvent],
}

/// The SVG and where things are in it.
#[derive(Clone, Debug)]
pub struct HistoryChart {
    pub svg: String,
    pub coords: ChartCoords,
}

/// Positions in the chart SVG's viewBox units (`0 0 width height`), for drawing over it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub struct ChartCoords {
    pub width: u32,
    pub height: u32,
    /// Where the data is drawn: the first reading's time is at `left`, the chart's end at
    /// `right`, zero (or the lowest reading) at `bottom`. All zero when there is no chart yet.
    pub plot: PlotArea,
    /// The drawn points of the history, oldest first: at most one per horizontal pixel, keeping
    /// the lowest and highest reading of each pixel pair, and always the first and the newest.
    pub points: Vec<HoverPoint>,
    pub events: Vec<EventMarker>,
    pub thresholds: Vec<ThresholdMark>,
    pub resets: Vec<ResetMark>,
    /// Where the history ends and the forecast begins.
    pub now_x: Option<i32>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, TS)]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub struct PlotArea {
    pub left: i32,
    pub top: i32,
    pub right: i32,
    pub bottom: i32,
}

/// One reading on the line.
#[derive(Clone, Debug, PartialEq, Serialize, TS)]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub struct HoverPoint {
    pub x: i32,
    pub y: i32,
    pub t: DateTime<Utc>,
    /// The remaining amount, exact, as decimal text.
    pub value: String,
}

/// A failed request on the line. Events closer together than a few pixels share one marker,
/// which shows the newest of them and says how many it stands for.
#[derive(Clone, Debug, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub struct EventMarker {
    pub x: i32,
    pub y: i32,
    #[ts(type = "number")]
    pub event_id: i64,
    pub t: DateTime<Utc>,
    pub status: Option<u16>,
    pub class: Option<String>,
    /// How many events this marker stands for (1 unless they were too close to tell apart).
    pub count: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, TS)]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub struct ThresholdMark {
    pub label: String,
    pub y: i32,
}

#[derive(Clone, Debug, PartialEq, Serialize, TS)]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub struct ResetMark {
    pub t: DateTime<Utc>,
    pub x: i32,
}

/// Renders the meter page's chart. `value_text(i)` is the exact text of `points[i]`'s amount,
/// asked only for the points that are kept.
pub fn history_chart(input: &HistoryInput, value_text: &dyn Fn(usize) -> String) -> HistoryChart {
    let empty = |message: &str| HistoryChart {
        svg: empty_svg(WIDTH, HEIGHT, message),
        coords: ChartCoords {
            width: WIDTH,
            height: HEIGHT,
            ..ChartCoords::default()
        },
    };
    let points = input.points;
    if points.len() < 2 {
        return empty("The chart appears after the second reading");
    }
    let first = points[0].0;
    let last = points[points.len() - 1].0;
    let mut events: Vec<&ChartEvent> = input.events.iter().filter(|e| e.t >= first).collect();
    events.sort_by_key(|e| (e.t, e.id));
    // Failed polls after the last reading still belong on the chart: "now" is the later.
    let now_t = events.last().map_or(last, |e| e.t.max(last));
    let now = seconds(now_t);
    let x0 = seconds(first);

    let band_end = input.outlook.band.last().map_or(now, |b| seconds(b.0));
    let next_reset = input.outlook.next_reset.map(seconds).filter(|r| *r > now);
    let x_end = band_end.max(next_reset.map_or(now, |r| r + (r - x0) * 0.02));
    let x1 = x_end.max(now).max(x0 + 1.0);
    let span_days = (x1 - x0) / 86_400.0;

    let y_range = amount_range(points, input.limit, input.thresholds);
    let mut svg = String::new();
    let drawn = (|| -> Result<ChartCoords, Box<dyn std::error::Error + '_>> {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(72)
            .build_cartesian_2d(x0..x1, y_range.clone())?;
        chart
            .configure_mesh()
            .light_line_style(RGBColor(241, 245, 249))
            .bold_line_style(RGBColor(226, 232, 240))
            .axis_style(RGBColor(203, 213, 225))
            .label_style(("sans-serif", 13).into_font().color(&RGBColor(71, 85, 105)))
            .x_labels(7)
            .y_labels(6)
            .x_label_formatter(&|x| local_label(*x, span_days))
            .y_label_formatter(&|y| amount_label(*y, input.unit))
            .draw()?;
        // Where the data's corners land: the plotting area less its last row and column.
        let (left, top) = chart.backend_coord(&(x0, y_range.end));
        let (right, bottom) = chart.backend_coord(&(x1, y_range.start));
        let plot = PlotArea {
            left,
            top,
            right,
            bottom,
        };

        // The history, decimated in pixel columns before anything is drawn.
        let xs: Vec<f64> = points.iter().map(|p| seconds(p.0)).collect();
        let ys: Vec<f64> = points.iter().map(|p| p.1).collect();
        let line_px =
            chart.backend_coord(&(xs[xs.len() - 1], 0.0)).0 - chart.backend_coord(&(xs[0], 0.0)).0;
        let columns = (line_px.max(0) / COLUMN_PX - 1).max(1) as usize;
        let kept = decimate(&xs, &ys, columns);
        let line: Vec<(f64, f64)> = kept.iter().map(|&i| (xs[i], ys[i])).collect();
        let colour = input.tone.colour();
        chart.draw_series(AreaSeries::new(
            line.iter().copied(),
            y_range.start,
            colour.mix(0.10),
        ))?;
        chart.draw_series(LineSeries::new(
            line.iter().copied(),
            colour.stroke_width(2),
        ))?;
        let hover = kept
            .iter()
            .map(|&i| {
                let (x, y) = chart.backend_coord(&(xs[i], ys[i]));
                HoverPoint {
                    x,
                    y,
                    t: points[i].0,
                    value: value_text(i),
                }
            })
            .collect();

        let band = &input.outlook.band;
        if band.len() >= 2 {
            let upper = band.iter().map(|b| (seconds(b.0), b.3));
            let lower = band.iter().rev().map(|b| (seconds(b.0), b.1));
            chart.draw_series(std::iter::once(Polygon::new(
                upper.chain(lower).collect::<Vec<_>>(),
                colour.mix(0.16),
            )))?;
            chart.draw_series(DashedLineSeries::new(
                band.iter().map(|b| (seconds(b.0), b.2)),
                8,
                5,
                colour.stroke_width(2),
            ))?;
        }
        if now < x1 {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(now, y_range.start), (now, y_range.end)],
                MUTED.stroke_width(1),
            )))?;
        }

        // Past resets: one line per pixel column at most.
        let mut resets: Vec<ResetMark> = Vec::new();
        let mut sorted_resets: Vec<DateTime<Utc>> = input
            .resets
            .iter()
            .copied()
            .filter(|r| *r >= first && *r <= now_t)
            .collect();
        sorted_resets.sort();
        for t in sorted_resets {
            let x = chart.backend_coord(&(seconds(t), 0.0)).0;
            if resets.last().is_some_and(|r| x - r.x < MARKER_PX) {
                continue;
            }
            resets.push(ResetMark { t, x });
        }
        for reset in &resets {
            root.draw(&PathElement::new(
                vec![(reset.x, plot.top), (reset.x, plot.bottom)],
                RESET_COLOUR.mix(0.55).stroke_width(1),
            ))?;
        }
        if let Some(reset) = next_reset {
            chart.draw_series(DashedLineSeries::new(
                [(reset, y_range.start), (reset, y_range.end)],
                4,
                4,
                RESET_COLOUR.stroke_width(2),
            ))?;
            chart.draw_series(std::iter::once(Text::new(
                "reset",
                (reset, y_range.end),
                ("sans-serif", 12).into_font().color(&RESET_COLOUR),
            )))?;
        }
        if let Some(limit) = input.limit {
            chart.draw_series(DashedLineSeries::new(
                [(x0, limit), (x1, limit)],
                6,
                4,
                RGBColor(100, 116, 139).stroke_width(1),
            ))?;
        }

        let mut thresholds = Vec::new();
        for threshold in input.thresholds {
            chart.draw_series(DashedLineSeries::new(
                [(x0, threshold.value), (x1, threshold.value)],
                6,
                4,
                THRESHOLD_COLOUR.stroke_width(1),
            ))?;
            let y = chart.backend_coord(&(x0, threshold.value)).1;
            root.draw(&Text::new(
                threshold.label.clone(),
                (plot.left + 6, (y - 15).max(plot.top)),
                ("sans-serif", 12).into_font().color(&THRESHOLD_COLOUR),
            ))?;
            thresholds.push(ThresholdMark {
                label: threshold.label.clone(),
                y,
            });
        }

        // Failed requests, on the line at their time; the newest of a crowd stands for it.
        let mut markers: Vec<EventMarker> = Vec::new();
        let mut crowd_x = i32::MIN;
        for event in events {
            let (x, y) =
                chart.backend_coord(&(seconds(event.t), value_at(&xs, &ys, seconds(event.t))));
            let marker = EventMarker {
                x,
                y,
                event_id: event.id,
                t: event.t,
                status: event.status,
                class: event.class.clone(),
                count: 1,
            };
            match markers.last_mut() {
                Some(previous) if x.saturating_sub(crowd_x) < MARKER_PX => {
                    let count = previous.count + 1;
                    *previous = EventMarker { count, ..marker };
                }
                _ => {
                    crowd_x = x;
                    markers.push(marker);
                }
            }
        }
        for marker in &markers {
            root.draw(&Circle::new((marker.x, marker.y), 5, WHITE.filled()))?;
            root.draw(&Circle::new((marker.x, marker.y), 4, EVENT_COLOUR.filled()))?;
        }

        let now_x = Some(chart.backend_coord(&(now, 0.0)).0);
        root.present()?;
        Ok(ChartCoords {
            width: WIDTH,
            height: HEIGHT,
            plot,
            points: hover,
            events: markers,
            thresholds,
            resets,
            now_x,
        })
    })();
    match drawn {
        Ok(coords) => HistoryChart {
            svg: scalable(svg, WIDTH, HEIGHT),
            coords,
        },
        Err(_) => empty("The chart could not be drawn"),
    }
}

/// The history's value at `x`: between two readings, on the straight line joining them; before
/// the first or after the last, that reading's.
fn value_at(xs: &[f64], ys: &[f64], x: f64) -> f64 {
    let after = xs.partition_point(|v| *v <= x);
    match after {
        0 => ys[0],
        n if n >= xs.len() => ys[xs.len() - 1],
        n => {
            let (xa, xb, ya, yb) = (xs[n - 1], xs[n], ys[n - 1], ys[n]);
            if xb > xa {
                ya + (yb - ya) * (x - xa) / (xb - xa)
            } else {
                yb
            }
        }
    }
}

/// From zero (or the lowest reading, below zero) to a little above the highest of the history,
/// the limit and the thresholds.
fn amount_range(
    points: &[Point],
    limit: Option<f64>,
    thresholds: &[ChartThreshold],
) -> std::ops::Range<f64> {
    let values = points.iter().map(|p| p.1);
    let mut y_max = values
        .clone()
        .chain(limit)
        .chain(thresholds.iter().map(|t| t.value))
        .fold(f64::MIN, f64::max);
    let y_min = values.fold(0.0, f64::min);
    if y_max <= y_min {
        y_max = y_min + 1.0;
    }
    y_min..y_max * 1.05
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn start() -> DateTime<Utc> {
        Utc::now() - Duration::days(365)
    }

    /// A year of 15-minute readings of a budget of 1000 that resets every 30 days.
    fn year() -> Vec<Point> {
        let start = start();
        (0..35_040)
            .map(|i| {
                let in_cycle = i % (30 * 96);
                (
                    start + Duration::minutes(15 * i),
                    1000.0 - in_cycle as f64 * 0.3,
                )
            })
            .collect()
    }

    fn render(
        points: &[Point],
        thresholds: &[ChartThreshold],
        events: &[ChartEvent],
    ) -> HistoryChart {
        history_chart(
            &HistoryInput {
                points,
                limit: Some(1000.0),
                unit: "USD",
                tone: Tone::Ok,
                outlook: &Outlook::default(),
                thresholds,
                resets: &[],
                events,
            },
            &|i| points[i].1.to_string(),
        )
    }

    /// The x a time maps to, by the plot area's own linear scale.
    fn expected_x(
        coords: &ChartCoords,
        t: DateTime<Utc>,
        x0: DateTime<Utc>,
        x1: DateTime<Utc>,
    ) -> f64 {
        let share = (t - x0).num_milliseconds() as f64 / (x1 - x0).num_milliseconds() as f64;
        coords.plot.left as f64 + share * (coords.plot.right - coords.plot.left) as f64
    }

    #[test]
    fn a_year_of_readings_becomes_at_most_one_point_per_pixel() {
        let points = year();
        let chart = render(&points, &[], &[]);
        let c = &chart.coords;
        let width = (c.plot.right - c.plot.left) as usize;
        assert!(width > 800, "{:?}", c.plot);
        assert!(
            c.points.len() <= width && c.points.len() > width / 2,
            "{} hover points for {width} px",
            c.points.len()
        );
        assert_eq!(c.points[0].t, points[0].0, "the first reading is kept");
        assert_eq!(
            c.points.last().unwrap().t,
            points[points.len() - 1].0,
            "and the newest"
        );
        assert!(c
            .points
            .windows(2)
            .all(|w| w[0].x <= w[1].x && w[0].t < w[1].t));
        // Each exhaustion bottom and each reset top survive the decimation.
        let lowest = points.iter().map(|p| p.1).fold(f64::MAX, f64::min);
        assert!(c.points.iter().any(|p| p.value == lowest.to_string()));
        assert!(c.points.iter().filter(|p| p.value == "1000").count() >= 12);
        // The SVG is small too: no 35,000-point polyline.
        assert!(chart.svg.len() < 200_000, "{} bytes", chart.svg.len());
        assert!(chart.svg.contains("viewBox=\"0 0 960 360\""));
    }

    #[test]
    fn a_single_reading_spike_survives_in_the_drawn_points() {
        let mut points = year();
        points[20_000].1 = 5_000.0;
        let chart = render(&points, &[], &[]);
        assert!(chart.coords.points.iter().any(|p| p.value == "5000"));
    }

    #[test]
    fn a_threshold_line_sits_where_its_amount_is() {
        let points = year();
        let threshold = ChartThreshold {
            label: "Below 15%".into(),
            value: 150.0,
        };
        let chart = render(&points, std::slice::from_ref(&threshold), &[]);
        let c = &chart.coords;
        assert_eq!(c.thresholds.len(), 1);
        let y = c.thresholds[0].y;
        // The amount scale runs from 0 at the bottom to 1.05 × the limit at the top.
        let share = 150.0 / (1000.0 * 1.05);
        let expected = c.plot.bottom as f64 - share * (c.plot.bottom - c.plot.top) as f64;
        assert!(
            (y as f64 - expected).abs() <= 1.0,
            "y {y}, expected {expected}"
        );
        // And on the same scale as the line: readings at the top of a cycle are above it.
        let top = c.points.iter().find(|p| p.value == "1000").unwrap();
        assert!(top.y < y);
        assert!(chart.svg.contains("Below 15%"));
    }

    #[test]
    fn an_event_marker_is_at_its_time_on_the_line() {
        let points = year();
        let first = points[0].0;
        let last = points[points.len() - 1].0;
        let events: Vec<ChartEvent> = (0..50)
            .map(|i| ChartEvent {
                id: i,
                t: first + Duration::days(7 * i) + Duration::minutes(7),
                status: Some(402),
                class: Some("credits_exhausted".into()),
            })
            .chain(std::iter::once(ChartEvent {
                id: 999,
                t: first - Duration::days(1),
                status: None,
                class: None,
            }))
            .collect();
        let chart = render(&points, &[], &events);
        let c = &chart.coords;
        assert_eq!(
            c.events.len(),
            50,
            "the event before the history is left out"
        );
        for marker in &c.events {
            let x = expected_x(c, marker.t, first, last);
            assert!((marker.x as f64 - x).abs() <= 1.0, "{} vs {x}", marker.x);
            let source = &events[marker.event_id as usize];
            assert_eq!(marker.t, source.t);
            assert_eq!(marker.status, Some(402));
            assert_eq!(marker.count, 1);
            // On the line: at the height of the reading 7 minutes before, within the pixel rounding.
            let i = points.partition_point(|p| p.0 <= marker.t) - 1;
            let share = points[i].1 / 1050.0;
            let y = c.plot.bottom as f64 - share * (c.plot.bottom - c.plot.top) as f64;
            assert!((marker.y as f64 - y).abs() < 1.5, "{marker:?} vs {y}");
        }
        assert_eq!(
            chart.svg.matches("<circle").count(),
            100,
            "a ring and a dot each"
        );
    }

    #[test]
    fn crowded_events_share_a_marker_that_counts_them() {
        let points = year();
        let at = points[30_000].0;
        let events: Vec<ChartEvent> = (0..10)
            .map(|i| ChartEvent {
                id: i,
                t: at + Duration::minutes(15 * i),
                status: Some(429),
                class: Some("rate_limited".into()),
            })
            .collect();
        let c = render(&points, &[], &events).coords;
        assert_eq!(c.events.len(), 1);
        assert_eq!(c.events[0].count, 10);
        assert_eq!(c.events[0].event_id, 9, "the newest stands for them");
    }

    #[test]
    fn failed_polls_after_the_last_reading_extend_the_chart_to_now() {
        let points: Vec<Point> = (0..48)
            .map(|h| (start() + Duration::hours(h), 100.0 - h as f64))
            .collect();
        let later = points[47].0 + Duration::hours(12);
        let events = [ChartEvent {
            id: 1,
            t: later,
            status: Some(500),
            class: None,
        }];
        let c = render(&points, &[], &events).coords;
        assert_eq!(c.events.len(), 1);
        assert!(
            (c.events[0].x - c.plot.right).abs() <= 1,
            "{:?}",
            c.events[0]
        );
        assert_eq!(c.now_x, Some(c.events[0].x));
    }

    #[test]
    fn resets_become_vertical_lines_at_their_time() {
        let points: Vec<Point> = (0..96)
            .map(|h| (start() + Duration::hours(h), 100.0 - (h % 48) as f64))
            .collect();
        let reset = points[48].0;
        let chart = history_chart(
            &HistoryInput {
                points: &points,
                limit: Some(100.0),
                unit: "USD",
                tone: Tone::Ok,
                outlook: &Outlook::default(),
                thresholds: &[],
                resets: &[reset, reset - Duration::days(30)],
                events: &[],
            },
            &|i| points[i].1.to_string(),
        );
        let c = &chart.coords;
        assert_eq!(c.resets.len(), 1, "a reset before the history is not drawn");
        let x = expected_x(c, reset, points[0].0, points[95].0);
        assert!((c.resets[0].x as f64 - x).abs() <= 1.0);
    }

    #[test]
    fn the_forecast_band_and_the_next_reset_extend_the_chart_past_now() {
        let history: Vec<Point> = (0..40)
            .map(|i| (start() + Duration::hours(i * 6), 100.0 - i as f64))
            .collect();
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
        let input = HistoryInput {
            points: &history,
            limit: Some(120.0),
            unit: "USD",
            tone: Tone::Ok,
            outlook: &Outlook::default(),
            thresholds: &[],
            resets: &[],
            events: &[],
        };
        let text = |i: usize| history[i].1.to_string();
        let plain = history_chart(&input, &text);
        let ahead = history_chart(
            &HistoryInput {
                outlook: &outlook,
                ..input
            },
            &text,
        );
        assert!(ahead.svg.contains(">reset<") || ahead.svg.contains("reset"));
        assert!(ahead.svg.matches("<polygon").count() > plain.svg.matches("<polygon").count());
        let now_x = ahead.coords.now_x.unwrap();
        assert!(
            now_x < ahead.coords.plot.right - 100,
            "the history stops before the band"
        );
        assert_eq!(ahead.coords.points.last().unwrap().x, now_x);
        assert!(plain.svg.contains('$'), "the amount axis shows dollars");
    }

    #[test]
    fn too_little_history_says_so() {
        let one = [(start(), 5.0)];
        let chart = render(&one, &[], &[]);
        assert!(chart.svg.contains("after the second reading"));
        assert!(chart.coords.points.is_empty());
        assert_eq!((chart.coords.width, chart.coords.height), (WIDTH, HEIGHT));
    }
}
