//! The page: a header with the connection indicator, the aggregator's warnings (Redis lost,
//! queues paused) and the grid of worker cards, all driven by the live [`Feed`].

use leptos::prelude::*;
use pulseboard_shared::{Lang, Nodes, WorkerStatus};

use crate::card::WorkerCard;
use crate::stream::{self, Feed};

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    let feed = stream::subscribe(stream::NODES_STREAM);
    let lang = browser_lang();
    let connection = feed.connection;

    view! {
        <header class="top">
            <h1>"pulseboard"</h1>
            <span id="connection" data-state=move || connection.get().as_str()>
                {move || connection.get().label()}
            </span>
        </header>
        <Show when=move || nodes_say(feed, |n| !n.redis_ok)>
            <p id="redis-lost" class="banner" role="alert">
                "집계 서버 연결 끊김 / aggregator lost Redis"
            </p>
        </Show>
        <Show when=move || nodes_say(feed, |n| n.paused)>
            <p id="paused" class="banner paused">{move || paused_line(feed)}</p>
        </Show>
        <main>
            <Show
                when=move || feed.nodes.with(Option::is_some)
                fallback=|| view! { <p id="connecting" class="hint">"connecting…"</p> }
            >
                <Board feed lang/>
            </Show>
        </main>
    }
}

/// The grid: one card per worker, keyed by name so a card survives new snapshots.
#[component]
fn Board(feed: Feed, lang: Lang) -> impl IntoView {
    let workers = move || {
        feed.nodes
            .with(|n| n.as_ref().map_or(vec![], |n| n.workers.clone()))
    };

    view! {
        <section class="board">
            <For
                each=workers
                key=|w| w.name.clone()
                children=move |first: WorkerStatus| {
                    view! { <WorkerCard worker=latest(feed, first) lang/> }
                }
            />
        </section>
    }
}

/// `first`'s record in the newest snapshot; the last one seen while its card is on its way out.
fn latest(feed: Feed, first: WorkerStatus) -> Memo<WorkerStatus> {
    Memo::new(move |previous: Option<&WorkerStatus>| {
        let find = |n: &Option<Nodes>| {
            n.as_ref()?
                .workers
                .iter()
                .find(|w| w.name == first.name)
                .cloned()
        };
        feed.nodes
            .with(find)
            .or_else(|| previous.cloned())
            .unwrap_or_else(|| first.clone())
    })
}

fn nodes_say(feed: Feed, test: impl Fn(&Nodes) -> bool) -> bool {
    feed.nodes.with(|n| n.as_ref().is_some_and(test))
}

fn paused_line(feed: Feed) -> String {
    let reason = feed
        .nodes
        .with(|n| n.as_ref().and_then(|n| n.paused_reason.clone()));
    reason.map_or("paused".into(), |reason| format!("paused ({reason})"))
}

/// The labels' language, from `navigator.language` (English when the browser does not say).
fn browser_lang() -> Lang {
    window()
        .navigator()
        .language()
        .map_or(Lang::En, |tag| Lang::from_tag(&tag))
}
