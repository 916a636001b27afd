//! The page: a header (connection, language, 3D/2D toggle), the summary bar, the aggregator's
//! warnings (Redis lost, queues paused), the fleet in 3D or in 2D, and the detail panel of a
//! picked worker.

use leptos::prelude::*;
use pulseboard_shared::{Lang, Nodes};

use crate::board::Board;
use crate::detail::Detail;
use crate::glance::{Lens, SummaryBar};
use crate::page::{browser_lang, initial_view, remember_view, View};
use crate::scene::Scene;
use crate::silences::Silences;
use crate::sparkline::Sparks;
use crate::stream::{self, Connection, Feed};
use crate::text::{provide_lang, reconnecting, t, Text};
use crate::throughput::Throughput;
use crate::timeline::Timeline;

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    let feed = stream::open();
    let (lang, set_lang) = signal(browser_lang());
    feed.provide();
    provide_lang(lang);
    Lens::provide();
    Sparks::provide();
    let chosen = RwSignal::new(initial_view());
    // Why 3D could not be shown, if it could not; the cards stand in meanwhile.
    let (failure, set_failure) = signal(None::<Text>);
    let selected = RwSignal::new(None::<String>);
    let shown = move || {
        if failure.get().is_some() {
            View::Cards
        } else {
            chosen.get()
        }
    };
    let toggle = move |_| {
        let next = shown().toggled();
        set_failure.set(None);
        chosen.set(next);
        remember_view(next);
    };
    let switch_lang = move |_| {
        set_lang.update(|l| {
            *l = match l {
                Lang::Ko => Lang::En,
                Lang::En => Lang::Ko,
            }
        })
    };
    let connection = move || {
        let l = lang.get();
        match feed.connection.get() {
            Connection::Connecting => t(l, Text::Connecting).to_owned(),
            Connection::Live => t(l, Text::Live).to_owned(),
            Connection::Reconnecting => reconnecting(l, feed.since_update_s()),
            Connection::Polling => t(l, Text::Polling).to_owned(),
            Connection::Mock => t(l, Text::Mock).to_owned(),
        }
    };

    view! {
        <div class="app" data-view=move || shown().as_str()>
            <header class="top">
                <h1>"pulseboard"</h1>
                <span id="connection" data-state=move || feed.connection.get().as_str()>
                    {connection}
                </span>
                <button id="lang-toggle" class="control" data-lang=move || lang.get().tag() on:click=switch_lang>
                    {move || match lang.get() { Lang::Ko => "English", Lang::En => "한국어" }}
                </button>
                <button id="view-toggle" class="control" data-view=move || shown().as_str() on:click=toggle>
                    {move || match shown() {
                        View::Scene => t(lang.get(), Text::View2d),
                        View::Cards => t(lang.get(), Text::View3d),
                    }}
                </button>
            </header>
            <SummaryBar/>
            <Throughput/>
            <Show when=move || nodes_say(feed, |n| !n.redis_ok)>
                <p id="redis-lost" class="banner" role="alert">
                    {move || t(lang.get(), Text::RedisLost)}
                </p>
            </Show>
            <Show when=move || nodes_say(feed, |n| n.paused)>
                <p id="paused" class="banner paused">{move || paused_line(feed, lang.get())}</p>
            </Show>
            {move || failure.get().map(|why| view! { <p id="view-note" class="note">{t(lang.get(), why)}</p> })}
            <main>
                <Show
                    when=move || feed.nodes.with(Option::is_some)
                    fallback=move || view! { <p id="connecting" class="hint">{t(lang.get(), Text::Connecting)}</p> }
                >
                    {move || match shown() {
                        View::Scene => view! { <Scene select=selected.write_only() fail=set_failure/> }.into_any(),
                        View::Cards => view! { <Board select=selected.write_only()/> }.into_any(),
                    }}
                </Show>
            </main>
            <Timeline/>
            <Silences/>
            <Detail selected/>
        </div>
    }
}

fn nodes_say(feed: Feed, test: impl Fn(&Nodes) -> bool) -> bool {
    feed.nodes.with(|n| n.as_ref().is_some_and(test))
}

fn paused_line(feed: Feed, lang: Lang) -> String {
    let reason = feed
        .nodes
        .with(|n| n.as_ref().and_then(|n| n.paused_reason.clone()));
    let paused = t(lang, Text::Paused);
    reason.map_or(paused.into(), |reason| format!("{paused} ({reason})"))
}
