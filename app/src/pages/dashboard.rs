//! `/`: counts over what the user may view, drawn as simple SVG bar charts.

use crate::api::dashboard::get_dashboard;
use crate::components::or_alert;
use crate::model::Dashboard;
use leptos::prelude::*;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_dashboard());
    view! {
        <h1>"Dashboard"</h1>
        <Suspense fallback=|| {
            view! { <p class="muted">"Loading…"</p> }
        }>
            {move || Suspend::new(async move {
                or_alert(data.await, |d| view! { <DashboardView d /> })
            })}
        </Suspense>
    }
}

#[component]
fn DashboardView(d: Dashboard) -> impl IntoView {
    let vehicles: Vec<(String, u64)> = d
        .vehicles_by_status
        .iter()
        .map(|(s, n)| (s.label().to_owned(), *n))
        .collect();
    let orders: Vec<(String, u64)> = d
        .work_orders_by_status
        .iter()
        .map(|(s, n)| (s.label().to_owned(), *n))
        .collect();
    let tile_class = if d.overdue_work_orders > 0 {
        "tile tile-warn"
    } else {
        "tile"
    };
    view! {
        <div class="tiles">
            <a class="tile" href="/work-orders?status=open">
                <span class="tile-number">{d.open_work_orders}</span>
                <span class="tile-label">"Open work orders"</span>
            </a>
            <div class=tile_class>
                <span class="tile-number">{d.overdue_work_orders}</span>
                <span class="tile-label">"Overdue"</span>
            </div>
        </div>
        <div class="charts">
            <BarChart title="Vehicles by status" bars=vehicles />
            <BarChart title="Work orders by status" bars=orders />
        </div>
    }
}

/// A horizontal bar chart; the numbers are also in the text, so it reads without the picture.
#[component]
fn BarChart(title: &'static str, bars: Vec<(String, u64)>) -> impl IntoView {
    let max = bars.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let row_h = 28u64;
    let height = row_h * bars.len() as u64;
    let summary = bars
        .iter()
        .map(|(l, n)| format!("{l}: {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    view! {
        <figure class="chart">
            <figcaption>{title}</figcaption>
            <svg
                viewBox=format!("0 0 320 {height}")
                role="img"
                aria-label=format!("{title}: {summary}")
            >
                {bars
                    .into_iter()
                    .enumerate()
                    .map(|(i, (label, n))| {
                        let y = i as u64 * row_h;
                        let w = 180 * n / max;
                        view! {
                            <g>
                                <text x="0" y=y + 18 class="chart-label">
                                    {label}
                                </text>
                                <rect
                                    x="110"
                                    y=y + 5
                                    width=w.max(1)
                                    height="18"
                                    rx="3"
                                    class="chart-bar"
                                />
                                <text x=116 + w y=y + 18 class="chart-value">
                                    {n}
                                </text>
                            </g>
                        }
                    })
                    .collect_view()}
            </svg>
        </figure>
    }
}
