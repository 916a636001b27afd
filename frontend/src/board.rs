//! The 2D view: the fleet as the lens arranges it (filtered, grouped, problems first). Up to
//! [`CARDS_UP_TO`] rows as cards (compact on a phone); past that a list of one-line rows that
//! renders only the rows on screen, so 10,000 workers cost the DOM a few dozen nodes.

use leptos::html::Section;
use leptos::prelude::*;
use pulseboard_shared::arrange::{arrange, Group, Row};
use pulseboard_shared::{link_status, state_label, WorkerStatus};

use crate::card::WorkerCard;
use crate::glance::lens;
use crate::guard_mark::mark_view;
use crate::page::is_phone;
use crate::sparkline::Sparkline;
use crate::stream::feed;
use crate::text::{ago, group_count, kind_name, lang, lifecycle_note, queue_figures, t, Text};

/// Past this many rows (workers and headings) the cards give way to the windowed list: a screen
/// holds about eight cards and fifteen rows.
pub const CARDS_UP_TO: usize = 24;
/// Rows drawn above and below the visible ones, so a fast scroll shows no gap.
const OVERSCAN: usize = 8;

/// What the board shows in one place: a group's heading or a worker.
#[derive(Clone, PartialEq)]
enum Item {
    Heading {
        name: String,
        count: usize,
        problems: usize,
    },
    Worker(Box<WorkerStatus>),
}

impl Item {
    fn key(&self) -> String {
        match self {
            Self::Heading {
                name,
                count,
                problems,
            } => format!("#{name}#{count}#{problems}"),
            Self::Worker(w) => w.name.clone(),
        }
    }
}

/// The 2D view; a click on a worker picks it (`select`) for the detail panel.
#[component]
pub fn Board(select: WriteSignal<Option<String>>) -> impl IntoView {
    let (feed, lens) = (feed(), lens());
    let rows = Memo::new(move |_| {
        let filter = lens.filter.get();
        feed.nodes.with(|n| {
            n.as_ref()
                .map_or_else(Vec::new, |n| arrange(&n.workers, &filter))
        })
    });
    let group = Memo::new(move |_| lens.filter.with(|f| f.group));
    let windowed = move || rows.with(|r| r.len() > CARDS_UP_TO);
    view! {
        <Show when=move || rows.with(Vec::is_empty)>
            <p id="no-match" class="hint">{move || t(lang().get(), Text::NoMatch)}</p>
        </Show>
        <Show when=windowed fallback=move || view! { <Cards rows group select/> }>
            <Rows rows group select/>
        </Show>
    }
}

/// Every row as a card, keyed by name so a card survives new snapshots.
#[component]
fn Cards(
    rows: Memo<Vec<Row>>,
    group: Memo<Group>,
    select: WriteSignal<Option<String>>,
) -> impl IntoView {
    let feed = feed();
    let items = move || {
        rows.with(|rows| {
            feed.nodes.with(|n| {
                let Some(n) = n else { return vec![] };
                rows.iter().map(|r| item(&n.workers, r)).collect::<Vec<_>>()
            })
        })
    };
    view! {
        <section class="board" data-layout="cards">
            <For each=items key=Item::key let(it)>
                {match it {
                    Item::Heading { name, count, problems } => {
                        view! { <GroupHeading name count problems group/> }.into_any()
                    }
                    Item::Worker(w) => view! { <WorkerCard worker=feed.latest(*w) select/> }.into_any(),
                }}
            </For>
        </section>
    }
}

/// Only the rows on screen, each at its place in a box as tall as the whole list.
#[component]
fn Rows(
    rows: Memo<Vec<Row>>,
    group: Memo<Group>,
    select: WriteSignal<Option<String>>,
) -> impl IntoView {
    let feed = feed();
    let list = NodeRef::<Section>::new();
    let row_px = if is_phone() { 56.0 } else { 38.0 };
    let (scroll, set_scroll) = signal(0.0);
    let (height, set_height) = signal(
        window()
            .inner_height()
            .ok()
            .and_then(|h| h.as_f64())
            .unwrap_or(800.0),
    );
    let resize = window_event_listener(leptos::ev::resize, move |_| {
        if let Some(h) = window().inner_height().ok().and_then(|h| h.as_f64()) {
            set_height.set(h);
        }
    });
    on_cleanup(move || resize.remove());
    let visible = move || {
        let first = ((scroll.get() / row_px) as usize).saturating_sub(OVERSCAN);
        let count = (height.get() / row_px).ceil() as usize + 2 * OVERSCAN;
        rows.with(|rows| {
            feed.nodes.with(|n| {
                let Some(n) = n else { return vec![] };
                let end = (first + count).min(rows.len());
                let start = first.min(end);
                (start..end)
                    .map(|at| (at, item(&n.workers, &rows[at])))
                    .collect::<Vec<_>>()
            })
        })
    };
    view! {
        <section
            id="fleet-list"
            class="rows"
            data-layout="rows"
            data-rows=move || rows.with(Vec::len).to_string()
            node_ref=list
            on:scroll=move |_| {
                if let Some(el) = list.get() {
                    set_scroll.set(f64::from(el.scroll_top()));
                }
            }
        >
            <div class="rows-space" style:height=move || format!("{}px", rows.with(Vec::len) as f64 * row_px)>
                {move || visible().into_iter().map(|(at, it)| {
                    let top = format!("{}px", at as f64 * row_px);
                    match it {
                        Item::Heading { name, count, problems } => view! {
                            <div class="row-slot" style:top=top style:height=format!("{row_px}px")>
                                <GroupHeading name count problems group/>
                            </div>
                        }.into_any(),
                        Item::Worker(w) => view! {
                            <div class="row-slot" style:top=top style:height=format!("{row_px}px")>
                                <WorkerRow worker=*w select/>
                            </div>
                        }.into_any(),
                    }
                }).collect_view()}
            </div>
        </section>
    }
}

/// One worker on one line (two on a phone): name, state, host, last beat, its last hour and its
/// queues.
#[component]
fn WorkerRow(worker: WorkerStatus, select: WriteSignal<Option<String>>) -> impl IntoView {
    let (feed, lang) = (feed(), lang());
    let status = link_status(&worker);
    let w = worker;
    move || {
        let l = lang.get();
        let note = w
            .lifecycle
            .as_ref()
            .and_then(|c| lifecycle_note(l, c, feed.age_now(c.age_s)))
            .or_else(|| {
                let dead = w.dead_letter;
                (dead > 0).then(|| format!("☠ {dead} {}", t(l, Text::DeadLetterList)))
            });
        view! {
            <article
                class="worker-row"
                on:click={
                    let name = w.name.clone();
                    move |_| select.set(Some(name.clone()))
                }
                data-worker=w.name.clone()
                data-status=status.as_str()
                data-lifecycle=w.lifecycle.as_ref().map(|c| c.state.as_str())
                style=("--accent", status.colour())
            >
                <b class="name">{w.name.clone()}{mark_view(l, &w)}</b>
                <span class="state-label">{state_label(&w, l)}</span>
                <span class="row-note">{note}</span>
                <span class="host">{w.host.clone()}</span>
                <span class="last-beat">{ago(l, feed.age_now(w.last_beat_age_s))}</span>
                <Sparkline name=w.name.clone()/>
                <span class="numbers">{queue_figures(l, w.queue_depth, w.processing, w.dead_letter)}</span>
            </article>
        }
    }
}

/// A group's heading: the host (by its label) or kind, its count and its problems.
#[component]
fn GroupHeading(name: String, count: usize, problems: usize, group: Memo<Group>) -> impl IntoView {
    let (feed, lang) = (feed(), lang());
    let title = move || {
        let l = lang.get();
        match group.get() {
            Group::Kind => kind_name(l, &name),
            _ if name == "?" => t(l, Text::NoHost).to_owned(),
            _ => feed.nodes.with(|n| {
                n.as_ref()
                    .map_or_else(|| name.clone(), |n| n.host_label(&name).to_owned())
            }),
        }
    };
    view! {
        <h2 class="group-heading" data-problems=problems.to_string()>
            <span class="group-name">{title}</span>
            <span class="group-count">{move || group_count(lang.get(), count, problems)}</span>
        </h2>
    }
}

fn item(workers: &[WorkerStatus], row: &Row) -> Item {
    match row {
        Row::Heading {
            name,
            count,
            problems,
        } => Item::Heading {
            name: name.clone(),
            count: *count,
            problems: *problems,
        },
        Row::Worker(i) => Item::Worker(Box::new(workers[*i].clone())),
    }
}
